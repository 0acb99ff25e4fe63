//! The cycle-accurate model of the weight-stationary array (and, with the operands' roles
//! swapped, the input-stationary one), register by register, and the drivers that run a GEMM
//! through it.
//!
//! # Ports (`R x C` PEs, `d` lanes, one [`WsArray::clock`] per rising edge)
//! - `reset`: synchronous, active high, clears every register.
//! - `w_load`, `w_valid_in`, `w_in` (`C·d` lanes, column `j`'s lane `l` at `j·d + l`): a row of
//!   stationary operands shifted in from the north, with its valid bit.
//! - `in_valid`, `a_in` (`R·d` lanes, array row `i`'s lane `l` at `i·d + l`, unskewed): one row of
//!   the streamed operand.
//! - `p_in` (`C` codes of 32 bits, unskewed): the partial sums that row starts from (the previous
//!   K-fold's outputs, or 0).
//! - `out_valid`, `c_out` (`C` codes of 32 bits): one row of sums per cycle, deskewed.
//!
//! # Registers
//! - Weights: `w_load ? (w(0, j) <= w_in[j], w(i, j) <= w(i−1, j), wv(0) <= w_valid_in,
//!   wv(i) <= wv(i−1)) : hold`. After `R` loads, array row `i` holds the row presented in the
//!   `(R−1−i)`-th load: the last row goes in first.
//! - Skew: row `i`'s `a` lanes and `in_valid` pass `i` registers, column `j`'s `p_in` `j`
//!   registers (row 0 and column 0 feed the PEs directly).
//! - PE `(i, j)`: inputs `a_w`, `v_w` (from PE `(i, j−1)`'s `a_e`, `v_e`, or row `i`'s skew
//!   output), `p_n` (PE `(i−1, j)`'s `p_s`, or column `j`'s `p_in` skew output). Each edge:
//!   `a_e <= a_w`, `v_e <= v_w`, `p_s <= v_w & wv(i) ? step(p_n, a_w, w(i, j)) : p_n`. A row
//!   whose weights are not valid (padding beyond K) passes the sum unchanged. The step uses
//!   the stationary operand as the cell's `b` port in `ws` and as its `a` port in `is`.
//! - Deskew: column `j`'s `p_s(R−1, j)` passes `C−1−j` registers; `c_out[j]` is the last one
//!   (`p_s(R−1, C−1)` itself for the last column); `out_valid = v_e(R−1, C−1)`.
//!
//! # Timing
//! A row presented in cycle `t` is applied by PE `(i, j)` during `t + i + j` and is on `c_out`
//! during `t + R + C − 1`. Weights loaded during a fold's streaming would change under it: the
//! driver loads only between folds. [`WsArray::clock`] takes the inputs of cycle `x` and
//! returns the outputs of cycle `x + 1`.
//!
//! # Drivers ([`run_gemm_ws`], [`run_gemm_is`])
//! `ws` keeps B: fold `f` (column tile outer, K tile inner, so partial sums chain) loads the
//! weight rows in cycles `f·S .. f·S + R` (array row `R−1` first; lanes beyond K are the code 0
//! and rows beyond `K'` invalid), then streams A's rows `m = 0..M` in cycles `f·S + R + m` with
//! `p_in` = the previous K tile's outputs of that row (0 for the first), `S = 2R + C + M − 2`.
//! Columns beyond N get the code 0 and their outputs are dropped. The outputs of the last K
//! tile are C. `is` keeps A: the same with `Bᵀ` streamed over `Aᵀ` tiles (C comes out
//! transposed, `S = 2R + C + N − 2`).

use super::cell::{Cell, FastStep};
use super::gemm::{check_operands, col_lanes, k_steps, row_lanes};
use super::model::{budget, GemmTrace, Recorder};
use super::timing::{ArrayDims, GemmDims};
use crate::error::{Error, Result};

/// Which cell port the stationary operand drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stationary {
    /// The stationary operand is B (`ws`): `step(p, a_stream, w)`.
    B,
    /// The stationary operand is A (`is`): `step(p, w, a_stream)`.
    A,
}

/// The inputs of one cycle, one field per port (module docs).
#[derive(Debug, Clone, Copy)]
pub struct WsInputs<'a> {
    /// Synchronous reset.
    pub reset: bool,
    /// Shift a row of stationary operands in.
    pub w_load: bool,
    /// That row is a real one (not padding beyond K).
    pub w_valid_in: bool,
    /// `C·d` lanes of the row loaded.
    pub w_in: &'a [u64],
    /// A row of the streamed operand is presented.
    pub in_valid: bool,
    /// `R·d` lanes of the streamed row.
    pub a_in: &'a [u64],
    /// `C` partial sums the row starts from.
    pub p_in: &'a [u32],
}

/// The outputs of one cycle (module docs), and what the model observed at the edge.
#[derive(Debug, Clone, Copy)]
pub struct WsOutputs<'a> {
    /// A row of sums is on `c_out`.
    pub out_valid: bool,
    /// One 32-bit code per column.
    pub c_out: &'a [u32],
    /// PEs that saw a valid row at this edge (applied a step or passed a padding row's sum).
    pub busy: usize,
}

/// The weight-stationary array (module docs); every register is a field.
#[derive(Debug, Clone)]
pub struct WsArray {
    step: FastStep,
    stationary: Stationary,
    r: usize,
    c: usize,
    d: usize,
    /// PE `(i, j)`'s weight lanes at `(i·C + j)·d`.
    w: Vec<u64>,
    wv: Vec<bool>,
    /// Row `i`'s `i` skew stages start at stage `i(i−1)/2`.
    a_skew: Vec<u64>,
    v_skew: Vec<bool>,
    /// Column `j`'s `j` skew stages start at stage `j(j−1)/2`.
    p_skew: Vec<u32>,
    a: Vec<u64>,
    v: Vec<bool>,
    p: Vec<u32>,
    deskew: Vec<u32>,
    deskew_base: Vec<usize>,
    c_out: Vec<u32>,
    /// Scratch: the sums entering a row from the north (not a register).
    north: Vec<u32>,
}

fn tri(i: usize) -> usize {
    i * i.saturating_sub(1) / 2
}

#[inline]
fn shift_line<T: Copy>(line: &mut [T], w: usize, input: &[T]) {
    if line.is_empty() {
        return;
    }
    let n = line.len();
    line.copy_within(0..n - w, w);
    line[..w].copy_from_slice(input);
}

impl WsArray {
    /// An array of `array.rows x array.cols` PEs of `cell` whose stationary operand drives the
    /// cell port `stationary`, every register cleared.
    pub fn new(cell: &Cell, array: ArrayDims, stationary: Stationary) -> WsArray {
        let (r, c, d) = (array.rows, array.cols, cell.lanes);
        WsArray {
            step: FastStep::new(cell),
            stationary,
            r,
            c,
            d,
            w: vec![0; r * c * d],
            wv: vec![false; r],
            a_skew: vec![0; tri(r) * d],
            v_skew: vec![false; tri(r)],
            p_skew: vec![0; tri(c)],
            a: vec![0; r * c * d],
            v: vec![false; r * c],
            p: vec![0; r * c],
            deskew: vec![0; tri(c)],
            deskew_base: (0..c).map(|j| (0..j).map(|q| c - 1 - q).sum()).collect(),
            c_out: vec![0; c],
            north: vec![0; c],
        }
    }

    fn clear(&mut self) {
        for v in [&mut self.w, &mut self.a_skew, &mut self.a] {
            v.fill(0);
        }
        for v in [&mut self.wv, &mut self.v_skew, &mut self.v] {
            v.fill(false);
        }
        for v in [
            &mut self.p_skew,
            &mut self.p,
            &mut self.deskew,
            &mut self.c_out,
        ] {
            v.fill(0);
        }
    }

    /// One rising edge: the inputs of cycle `x` in, the outputs of cycle `x + 1` out.
    ///
    /// # Panics
    /// When `a_in` does not hold `R·d` lanes, `w_in` `C·d` or `p_in` `C` codes.
    pub fn clock(&mut self, inp: &WsInputs) -> WsOutputs<'_> {
        let (r, c, d) = (self.r, self.c, self.d);
        assert_eq!(inp.a_in.len(), r * d, "a_in must hold R*d lanes");
        assert_eq!(inp.w_in.len(), c * d, "w_in must hold C*d lanes");
        assert_eq!(inp.p_in.len(), c, "p_in must hold C codes");
        if inp.reset {
            self.clear();
            return self.outputs(0);
        }
        // Deskew stages take the old bottom sums.
        for j in 0..c.saturating_sub(1) {
            let base = self.deskew_base[j];
            let bottom = self.p[(r - 1) * c + j];
            shift_line(&mut self.deskew[base..base + c - 1 - j], 1, &[bottom]);
        }
        // a and valid move east (old skew outputs enter column 0).
        for i in 0..r {
            let row = &mut self.a[i * c * d..(i + 1) * c * d];
            row.copy_within(0..(c - 1) * d, d);
            let vin = if i == 0 {
                row[..d].copy_from_slice(&inp.a_in[..d]);
                inp.in_valid
            } else {
                let s = tri(i) + i - 1;
                row[..d].copy_from_slice(&self.a_skew[s * d..(s + 1) * d]);
                self.v_skew[s]
            };
            let vrow = &mut self.v[i * c..(i + 1) * c];
            vrow.copy_within(0..c - 1, 1);
            vrow[0] = vin;
        }
        // Sums move south, bottom row first so each reads its northern neighbour's old sum;
        // the new a_e, v_e are this edge's a_w, v_w; the weights are the old ones.
        let mut busy = 0;
        let mut north = std::mem::take(&mut self.north);
        for i in (0..r).rev() {
            if i > 0 {
                north.copy_from_slice(&self.p[(i - 1) * c..i * c]);
            } else {
                north[0] = inp.p_in[0];
                for (j, n) in north.iter_mut().enumerate().skip(1) {
                    *n = self.p_skew[tri(j) + j - 1];
                }
            }
            let rows = i * c..(i + 1) * c;
            let lanes = i * c * d..(i + 1) * c * d;
            let live = self.wv[i];
            let cells = self.p[rows.clone()].iter_mut().zip(&self.v[rows]).zip(
                self.a[lanes.clone()]
                    .chunks_exact(d)
                    .zip(self.w[lanes].chunks_exact(d)),
            );
            for (((p, &v), (x, w)), &p_n) in cells.zip(north.iter()) {
                busy += v as usize;
                *p = if v && live {
                    match self.stationary {
                        Stationary::B => self.step.step(p_n, x, w),
                        Stationary::A => self.step.step(p_n, w, x),
                    }
                } else {
                    p_n
                };
            }
        }
        self.north = north;
        // Weights shift south on w_load.
        if inp.w_load {
            self.w.copy_within(0..(r - 1) * c * d, c * d);
            self.w[..c * d].copy_from_slice(inp.w_in);
            self.wv.copy_within(0..r - 1, 1);
            self.wv[0] = inp.w_valid_in;
        }
        // Skew registers take this cycle's inputs.
        for i in 1..r {
            let s = tri(i);
            shift_line(
                &mut self.a_skew[s * d..(s + i) * d],
                d,
                &inp.a_in[i * d..(i + 1) * d],
            );
            shift_line(&mut self.v_skew[s..s + i], 1, &[inp.in_valid]);
        }
        for j in 1..c {
            let s = tri(j);
            shift_line(&mut self.p_skew[s..s + j], 1, &[inp.p_in[j]]);
        }
        self.outputs(busy)
    }

    fn outputs(&mut self, busy: usize) -> WsOutputs<'_> {
        let (r, c) = (self.r, self.c);
        for j in 0..c {
            self.c_out[j] = if j + 1 == c {
                self.p[(r - 1) * c + j]
            } else {
                self.deskew[self.deskew_base[j] + c - 2 - j]
            };
        }
        WsOutputs {
            out_valid: self.v[r * c - 1],
            c_out: &self.c_out,
            busy,
        }
    }
}

/// Runs the stationary-operand schedule (module docs): `x` (`rows x k`) streamed over tiles of
/// `y` (`k x cols`); returns `x·y` (`rows x cols`, row-major).
fn run_stationary(
    cell: &Cell,
    array: ArrayDims,
    stationary: Stationary,
    (rows, k, cols): (usize, usize, usize),
    x: &[u64],
    y: &[u64],
    watch: &mut dyn FnMut(u64, &WsInputs, &WsOutputs),
) -> Result<(Vec<u32>, GemmTrace)> {
    let (r, c, d) = (array.rows, array.cols, cell.lanes);
    let ks = k_steps(k, d);
    let (kt, ct) = (ks.div_ceil(r), cols.div_ceil(c));
    let folds = kt * ct;
    let s = 2 * r + c + rows - 2;
    let name = match stationary {
        Stationary::B => "ws",
        Stationary::A => "is",
    };
    let mut arr = WsArray::new(cell, array, stationary);
    let mut out = vec![0u32; rows * cols];
    let (mut w_in, mut a_in, mut p_in) = (vec![0u64; c * d], vec![0u64; r * d], vec![0u32; c]);
    let mut rec = Recorder::default();
    let (mut rows_seen, mut out_fold) = (0usize, 0usize);
    let limit = budget(folds, s, array);
    for t in 0u64.. {
        if t > limit {
            return Err(Error::new(format!(
                "{name} array {r}x{c}: only {out_fold} of {folds} folds came out within {limit} \
                 cycles"
            )));
        }
        let (f, u) = ((t / s as u64) as usize, (t % s as u64) as usize);
        let (ci, ki) = (f / kt, f % kt);
        let (mut w_load, mut w_valid_in, mut in_valid) = (false, false, false);
        if f < folds && u < r {
            // Weight row of array row R-1-u: step ki*R + i of each column.
            let step = ki * r + (r - 1 - u);
            for j in 0..c {
                col_lanes(y, k, cols, ci * c + j, step, &mut w_in[j * d..(j + 1) * d]);
            }
            w_load = true;
            w_valid_in = step < ks;
        } else if f < folds && u - r < rows {
            let m = u - r;
            for i in 0..r {
                row_lanes(x, rows, k, m, ki * r + i, &mut a_in[i * d..(i + 1) * d]);
            }
            for (j, p) in p_in.iter_mut().enumerate() {
                let jj = ci * c + j;
                *p = if ki > 0 && jj < cols {
                    out[m * cols + jj]
                } else {
                    0
                };
            }
            in_valid = true;
        }
        let inp = WsInputs {
            reset: false,
            w_load,
            w_valid_in,
            w_in: &w_in,
            in_valid,
            a_in: &a_in,
            p_in: &p_in,
        };
        let o = arr.clock(&inp);
        watch(t, &inp, &o);
        rec.busy(t, o.busy);
        if o.out_valid {
            rec.output(t);
            let (oc, m) = (out_fold / kt, rows_seen % rows);
            for (j, &v) in o.c_out.iter().enumerate() {
                let jj = oc * c + j;
                if jj < cols {
                    out[m * cols + jj] = v;
                }
            }
            rows_seen += 1;
            if rows_seen % rows == 0 {
                out_fold += 1;
                if out_fold == folds {
                    break;
                }
            }
        }
    }
    Ok((out, rec.finish(folds as u64, s as u64)))
}

/// Runs `C = A·B` through the weight-stationary model (module docs): `a` is `M x K`, `b` is
/// `K x N`, both row-major codes. Returns C (row-major) and what was measured.
pub fn run_gemm_ws(
    cell: &Cell,
    array: ArrayDims,
    gemm: GemmDims,
    a: &[u64],
    b: &[u64],
) -> Result<(Vec<u32>, GemmTrace)> {
    drive_gemm_ws(cell, array, gemm, a, b, &mut |_, _, _| {})
}

/// [`run_gemm_ws`], calling `watch(x, inputs, outputs)` at every edge with the inputs of cycle
/// `x` and the outputs right after its edge. The last call is the edge that put the last row
/// of C on `c_out`.
pub fn drive_gemm_ws(
    cell: &Cell,
    array: ArrayDims,
    gemm: GemmDims,
    a: &[u64],
    b: &[u64],
    watch: &mut dyn FnMut(u64, &WsInputs, &WsOutputs),
) -> Result<(Vec<u32>, GemmTrace)> {
    let GemmDims { m, k, n } = gemm;
    check_operands(cell, m, k, n, a, b)?;
    run_stationary(cell, array, Stationary::B, (m, k, n), a, b, watch)
}

/// Runs `C = A·B` through the input-stationary schedule: the same array with A stationary
/// (driving the cell's `a` port) and `Bᵀ` streamed; returns C (row-major) and what was measured.
pub fn run_gemm_is(
    cell: &Cell,
    array: ArrayDims,
    gemm: GemmDims,
    a: &[u64],
    b: &[u64],
) -> Result<(Vec<u32>, GemmTrace)> {
    let GemmDims { m, k, n } = gemm;
    check_operands(cell, m, k, n, a, b)?;
    let bt: Vec<u64> = (0..n * k).map(|q| b[(q % k) * n + q / k]).collect();
    let at: Vec<u64> = (0..k * m).map(|q| a[(q % m) * k + q / m]).collect();
    let (ct, trace) = run_stationary(
        cell,
        array,
        Stationary::A,
        (n, k, m),
        &bt,
        &at,
        &mut |_, _, _| {},
    )?;
    let c = (0..m * n).map(|q| ct[(q % n) * m + q / n]).collect();
    Ok((c, trace))
}
