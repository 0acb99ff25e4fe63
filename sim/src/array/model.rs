//! The cycle-accurate model of the output-stationary array, register by register, and the
//! driver that runs a whole GEMM through it.
//!
//! # Ports (`R x C` PEs, `d` lanes, one [`OsArray::clock`] per rising edge)
//! - `reset`: synchronous, active high, clears every register.
//! - `in_valid`, `in_first`, `in_last`: the flags of the step presented this cycle.
//! - `a_in`: `R·d` lanes, row `i`'s lane `l` at `i·d + l` (`A[i][t·d + l]` at step `t`, unskewed).
//! - `b_in`: `C·d` lanes, column `j`'s lane `l` at `j·d + l` (`B[t·d + l][j]`, unskewed).
//! - `out_valid`, `out_row`, `c_out` (`C` codes of 32 bits): one row of C per cycle.
//!
//! # Registers
//! - Skew: row `i`'s `a` lanes and flags pass `i` registers, column `j`'s `b` lanes `j`
//!   registers (row 0 and column 0 feed the PEs directly).
//! - PE `(i, j)`: inputs `a_w` (PE `(i, j−1)`'s `a_e`, or row `i`'s skew output for `j = 0`),
//!   `b_n` (PE `(i−1, j)`'s `b_s`, or column `j`'s skew output for `i = 0`) and flags `f_w`
//!   (travelling with `a`). Each edge: `a_e <= a_w`, `b_s <= b_n`, `f_e <= f_w`,
//!   `acc <= f_w.valid ? step(f_w.first ? 0 : acc, a_w, b_n) : acc`. So step `t`, presented in
//!   cycle `T`, is applied by PE `(i, j)` during cycle `T + i + j`.
//! - Drain, per column `j`: `ld_j <= f_w(R−1, j).valid & f_w(R−1, j).last` (high during the
//!   cycle after PE `(R−1, j)` applied its last step); a chain `d(0..R, j)`:
//!   `ld_j ? d(i, j) <= acc(i, j) : d(i, j) <= d(i+1, j)` with `d(R, j) = 0`.
//! - Deskew: column `j`'s chain head `d(0, j)` passes `C−1−j` registers; `c_out[j]` is the last
//!   one (`d(0, C−1)` itself for the last column).
//! - Output counter: `ld_{C−1} ? (ov <= 1, row <= 0) : ov & row = R−1 ? ov <= 0 :
//!   ov ? row <= row + 1`; `out_valid = ov`, `out_row = row`.
//!
//! # Timing
//! With `T_last` the cycle in which a fold's last step is presented, PE `(R−1, C−1)` applies it
//! during `T_last + R + C − 2` and row `r` of the fold is on `c_out` during `T_last + R + C + r`.
//! [`OsArray::clock`] takes the inputs of cycle `x` and returns the outputs of cycle `x + 1`
//! (the registers right after the edge that ends cycle `x`).
//!
//! # Driver ([`run_gemm_os`])
//! Folds (tiles of `R x C` outputs) go column fold outer, row fold inner (SCALE-Sim's order);
//! fold `f`'s step `t` is presented in cycle `f·S + t`, `S = K' + R + C − 2`, with `in_first` on
//! `t = 0` and `in_last` on `t = K' − 1`. Rows and columns beyond the matrix are fed the code 0
//! and their outputs dropped. A fold's drain overlaps the next fold, which starts at least `R`
//! cycles after the last step of the previous one (`S >= R + K' − 1` guarantees it).

use super::bitmod::{tile_stream, BitModPeState};
use super::cell::{Cell, FastStep};
use super::gemm::{check_operands, col_lanes, k_steps, row_lanes};
use super::timing::{ArrayDims, GemmDims};
use crate::bitmod::PeConfig;
use crate::error::{Error, Result};
use serde::Serialize;

/// Flag bit: the step is valid.
pub const VALID: u8 = 1;
/// Flag bit: the first step of a dot product (the accumulator restarts from 0).
pub const FIRST: u8 = 2;
/// Flag bit: the last step of a dot product.
pub const LAST: u8 = 4;

/// The inputs of one cycle, one field per port (module docs).
#[derive(Debug, Clone, Copy)]
pub struct ArrayInputs<'a> {
    /// Synchronous reset.
    pub reset: bool,
    /// A step is presented.
    pub in_valid: bool,
    /// It is the first step of its dot products.
    pub in_first: bool,
    /// It is the last step of its dot products.
    pub in_last: bool,
    /// `R·d` lanes of A, row-major by array row.
    pub a_in: &'a [u64],
    /// `C·d` lanes of B, by array column.
    pub b_in: &'a [u64],
}

/// The outputs of one cycle (module docs), and what the model observed at the edge.
#[derive(Debug, Clone, Copy)]
pub struct ArrayOutputs<'a> {
    /// A row of C is on `c_out`.
    pub out_valid: bool,
    /// Which row of the array it is.
    pub out_row: usize,
    /// One 32-bit code per column.
    pub c_out: &'a [u32],
    /// PEs that applied a step at this edge (an observation, not a port).
    pub busy: usize,
}

/// The output-stationary array (module docs); every register is a field.
#[derive(Debug, Clone)]
pub struct OsArray {
    step: FastStep,
    r: usize,
    c: usize,
    d: usize,
    /// Row `i`'s `i` skew stages of `d` lanes start at stage `i(i−1)/2`.
    a_skew: Vec<u64>,
    f_skew: Vec<u8>,
    /// Column `j`'s `j` skew stages start at stage `j(j−1)/2`.
    b_skew: Vec<u64>,
    /// PE `(i, j)`'s `a_e` lanes at `(i·C + j)·d`.
    a: Vec<u64>,
    /// PE `(i, j)`'s `b_s` lanes at `(i·C + j)·d`.
    b: Vec<u64>,
    /// PE `(i, j)`'s `f_e` at `i·C + j`.
    f: Vec<u8>,
    acc: Vec<u32>,
    /// The sequential PEs of a `bitmod` array (empty otherwise); their `acc` is `acc`.
    seq: Vec<BitModPeState>,
    ld: Vec<bool>,
    /// `d(i, j)` at `i·C + j`.
    drain: Vec<u32>,
    /// Column `j`'s `C−1−j` deskew stages, one after the other.
    deskew: Vec<u32>,
    deskew_base: Vec<usize>,
    ov: bool,
    orow: usize,
    c_out: Vec<u32>,
}

/// First stage of line `i` in a triangle of lines with `i` stages each.
fn tri(i: usize) -> usize {
    i * i.saturating_sub(1) / 2
}

/// Shifts a line of `n` stages of `w` values by one stage (stage 0 takes `input`) and returns
/// nothing; the old last stage must be read before.
#[inline]
fn shift_line<T: Copy>(line: &mut [T], w: usize, input: &[T]) {
    if line.is_empty() {
        return;
    }
    let n = line.len();
    line.copy_within(0..n - w, w);
    line[..w].copy_from_slice(input);
}

impl OsArray {
    /// An array of `array.rows x array.cols` PEs of `cell`, every register cleared.
    pub fn new(cell: &Cell, array: ArrayDims) -> OsArray {
        let (r, c, d) = (array.rows, array.cols, cell.lanes);
        let deskew_base: Vec<usize> = (0..c).map(|j| (0..j).map(|q| c - 1 - q).sum()).collect();
        OsArray {
            step: FastStep::new(cell),
            r,
            c,
            d,
            a_skew: vec![0; tri(r) * d],
            f_skew: vec![0; tri(r)],
            b_skew: vec![0; tri(c) * d],
            a: vec![0; r * c * d],
            b: vec![0; r * c * d],
            f: vec![0; r * c],
            acc: vec![0; r * c],
            seq: if cell.is_sequential() {
                vec![BitModPeState::default(); r * c]
            } else {
                Vec::new()
            },
            ld: vec![false; c],
            drain: vec![0; r * c],
            deskew: vec![0; tri(c)],
            deskew_base,
            ov: false,
            orow: 0,
            c_out: vec![0; c],
        }
    }

    /// The accumulator of PE `(i, j)`.
    pub fn acc(&self, i: usize, j: usize) -> u32 {
        self.acc[i * self.c + j]
    }

    fn clear(&mut self) {
        for v in [&mut self.a_skew, &mut self.b_skew, &mut self.a, &mut self.b] {
            v.fill(0);
        }
        self.f_skew.fill(0);
        self.f.fill(0);
        for v in [
            &mut self.acc,
            &mut self.drain,
            &mut self.deskew,
            &mut self.c_out,
        ] {
            v.fill(0);
        }
        self.ld.fill(false);
        self.ov = false;
        self.orow = 0;
        for p in &mut self.seq {
            *p = BitModPeState::default();
        }
    }

    /// One rising edge: the inputs of cycle `x` in, the outputs of cycle `x + 1` out.
    ///
    /// # Panics
    /// When `a_in` does not hold `R·d` lanes or `b_in` `C·d`.
    pub fn clock(&mut self, inp: &ArrayInputs) -> ArrayOutputs<'_> {
        let (r, c, d) = (self.r, self.c, self.d);
        assert_eq!(inp.a_in.len(), r * d, "a_in must hold R*d lanes");
        assert_eq!(inp.b_in.len(), c * d, "b_in must hold C*d lanes");
        if inp.reset {
            self.clear();
            return self.outputs(0);
        }
        let flags = (inp.in_valid as u8 * VALID)
            | (inp.in_first as u8 * FIRST)
            | (inp.in_last as u8 * LAST);
        // The skew outputs of this cycle (the old last stages; row 0 and column 0 direct).
        let skew_flag = |s: &Self, i: usize| {
            if i == 0 {
                flags
            } else {
                s.f_skew[tri(i) + i - 1]
            }
        };
        // Output counter, from the old ld of the last column.
        if self.ld[c - 1] {
            self.ov = true;
            self.orow = 0;
        } else if self.ov {
            if self.orow + 1 == r {
                self.ov = false;
            } else {
                self.orow += 1;
            }
        }
        // Deskew stages take the old chain heads.
        for j in 0..c.saturating_sub(1) {
            let base = self.deskew_base[j];
            let head = self.drain[j];
            shift_line(&mut self.deskew[base..base + c - 1 - j], 1, &[head]);
        }
        // Drain chains: load from the old accumulators on the old ld, else shift north.
        for j in 0..c {
            if self.ld[j] {
                for i in 0..r {
                    self.drain[i * c + j] = self.acc[i * c + j];
                }
            } else {
                for i in 0..r - 1 {
                    self.drain[i * c + j] = self.drain[(i + 1) * c + j];
                }
                self.drain[(r - 1) * c + j] = 0;
            }
        }
        // ld_j <= f_w(R-1, j).valid & .last, from the old registers (a sequential array's
        // ld_j is PE (R-1, j)'s done register, set below).
        let want = VALID | LAST;
        for j in (0..c).rev().filter(|_| self.seq.is_empty()) {
            let fw = if j == 0 {
                skew_flag(self, r - 1)
            } else {
                self.f[(r - 1) * c + j - 1]
            };
            self.ld[j] = fw & want == want;
        }
        // PE registers: a and flags move east, b moves south (old skew outputs enter).
        for i in 0..r {
            let row = &mut self.a[i * c * d..(i + 1) * c * d];
            row.copy_within(0..(c - 1) * d, d);
            if i == 0 {
                row[..d].copy_from_slice(&inp.a_in[..d]);
            } else {
                let s = (tri(i) + i - 1) * d;
                row[..d].copy_from_slice(&self.a_skew[s..s + d]);
            }
            let fl = skew_flag(self, i);
            let frow = &mut self.f[i * c..(i + 1) * c];
            frow.copy_within(0..c - 1, 1);
            frow[0] = fl;
        }
        self.b.copy_within(0..(r - 1) * c * d, c * d);
        for j in 0..c {
            let dst = &mut self.b[j * d..(j + 1) * d];
            if j == 0 {
                dst.copy_from_slice(&inp.b_in[..d]);
            } else {
                let s = (tri(j) + j - 1) * d;
                dst.copy_from_slice(&self.b_skew[s..s + d]);
            }
        }
        // Accumulators: the new a_e, b_s, f_e are this edge's a_w, b_n, f_w.
        let mut busy = 0;
        if !self.seq.is_empty() {
            let cfg = PeConfig::default();
            let lanes = self.a.chunks_exact(d).zip(self.b.chunks_exact(d));
            for (((pe, acc), &fl), (a, b)) in self
                .seq
                .iter_mut()
                .zip(&mut self.acc)
                .zip(&self.f)
                .zip(lanes)
            {
                busy += (fl & VALID != 0) as usize;
                pe.clock(&cfg, fl & VALID != 0, fl & LAST != 0, a, b);
                *acc = pe.acc;
            }
            for j in 0..c {
                self.ld[j] = self.seq[(r - 1) * c + j].done;
            }
        }
        let lanes = self.a.chunks_exact(d).zip(self.b.chunks_exact(d));
        for ((acc, &fl), (a, b)) in self
            .acc
            .iter_mut()
            .zip(&self.f)
            .zip(lanes)
            .filter(|_| self.seq.is_empty())
        {
            if fl & VALID != 0 {
                busy += 1;
                let prev = if fl & FIRST != 0 { 0 } else { *acc };
                *acc = self.step.step(prev, a, b);
            }
        }
        // Skew registers take this cycle's inputs.
        for i in 1..r {
            let (s, n) = (tri(i), i);
            shift_line(
                &mut self.a_skew[s * d..(s + n) * d],
                d,
                &inp.a_in[i * d..(i + 1) * d],
            );
            shift_line(&mut self.f_skew[s..s + n], 1, &[flags]);
        }
        for j in 1..c {
            let (s, n) = (tri(j), j);
            shift_line(
                &mut self.b_skew[s * d..(s + n) * d],
                d,
                &inp.b_in[j * d..(j + 1) * d],
            );
        }
        self.outputs(busy)
    }

    fn outputs(&mut self, busy: usize) -> ArrayOutputs<'_> {
        let c = self.c;
        for j in 0..c {
            self.c_out[j] = if j + 1 == c {
                self.drain[j]
            } else {
                self.deskew[self.deskew_base[j] + c - 2 - j]
            };
        }
        ArrayOutputs {
            out_valid: self.ov,
            out_row: self.orow,
            c_out: &self.c_out,
            busy,
        }
    }
}

/// What a driver measured while running a GEMM through an array model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GemmTrace {
    /// Folds run.
    pub folds: u64,
    /// The spacing of folds, `S`.
    pub cycles_per_fold: u64,
    /// The last cycle in which a PE applied a step (SCALE-Sim's `cycles`, measured).
    pub cycles_scalesim: u64,
    /// The cycle in which the first output row was on `c_out`.
    pub first_output_cycle: u64,
    /// The cycle in which the last output row was on `c_out`.
    pub last_output_cycle: u64,
    /// PE-steps applied, padding included (for `ws`/`is`: PEs that saw a valid row).
    pub busy_steps: u64,
}

/// Records the edge of cycle `x` in a trace under construction.
#[derive(Default)]
pub(crate) struct Recorder {
    last_busy: Option<u64>,
    busy_steps: u64,
    first_out: Option<u64>,
    last_out: u64,
}

impl Recorder {
    pub(crate) fn busy(&mut self, x: u64, busy: usize) {
        if busy > 0 {
            self.last_busy = Some(x);
            self.busy_steps += busy as u64;
        }
    }

    pub(crate) fn output(&mut self, x: u64) {
        self.first_out.get_or_insert(x + 1);
        self.last_out = x + 1;
    }

    pub(crate) fn finish(self, folds: u64, per_fold: u64) -> GemmTrace {
        GemmTrace {
            folds,
            cycles_per_fold: per_fold,
            cycles_scalesim: self.last_busy.unwrap_or(0),
            first_output_cycle: self.first_out.unwrap_or(0),
            last_output_cycle: self.last_out,
            busy_steps: self.busy_steps,
        }
    }
}

/// The cycle budget of a driver: every fold plus a generous drain; running past it means the
/// array lost an output.
pub(crate) fn budget(folds: usize, per_fold: usize, array: ArrayDims) -> u64 {
    (folds * per_fold + 4 * (array.rows + array.cols) + 16) as u64
}

/// Runs `C = A·B` through the output-stationary model (module docs): `a` is `M x K`, `b` is
/// `K x N`, both row-major codes. Returns C (row-major) and what was measured.
///
/// Errors: operands that fail [`check_operands`], and (a model fault) outputs missing within
/// the cycle budget or rows out of order.
pub fn run_gemm_os(
    cell: &Cell,
    array: ArrayDims,
    gemm: GemmDims,
    a: &[u64],
    b: &[u64],
) -> Result<(Vec<u32>, GemmTrace)> {
    drive_gemm_os(cell, array, gemm, a, b, &mut |_, _, _| {})
}

/// [`run_gemm_os`], calling `watch(x, inputs, outputs)` at every edge with the inputs of cycle
/// `x` and the outputs right after its edge (what a cycle-by-cycle testbench drives and
/// checks). The last call is the edge that put the last row of C on `c_out`.
pub fn drive_gemm_os(
    cell: &Cell,
    array: ArrayDims,
    gemm: GemmDims,
    a: &[u64],
    b: &[u64],
    watch: &mut dyn FnMut(u64, &ArrayInputs, &ArrayOutputs),
) -> Result<(Vec<u32>, GemmTrace)> {
    let GemmDims { m, k, n } = gemm;
    let (r, c, d) = (array.rows, array.cols, cell.lanes);
    check_operands(cell, m, k, n, a, b)?;
    let ks = k_steps(k, d);
    // The cycles of one fold's stream: step t in cycle t, or the bitmod cell's beats (two
    // cycles each, short groups padded with idle cycles).
    let stream: Vec<Option<usize>> = if cell.is_sequential() {
        tile_stream(k)
    } else {
        (0..ks).map(Some).collect()
    };
    let s = stream.len() + r + c - 2;
    let (mt, nt) = (m.div_ceil(r), n.div_ceil(c));
    let folds = mt * nt;
    let mut arr = OsArray::new(cell, array);
    let mut out = vec![0u32; m * n];
    let (mut a_in, mut b_in) = (vec![0u64; r * d], vec![0u64; c * d]);
    let mut rec = Recorder::default();
    let (mut rows_seen, mut out_fold) = (0usize, 0usize);
    let mut was_valid = false;
    let limit = budget(folds, s, array);
    for x in 0u64.. {
        if x > limit {
            return Err(Error::new(format!(
                "os array {r}x{c}: only {out_fold} of {folds} folds came out within {limit} cycles"
            )));
        }
        let (f, x_in) = ((x / s as u64) as usize, (x % s as u64) as usize);
        let step = stream.get(x_in).copied().flatten().filter(|_| f < folds);
        let valid = step.is_some();
        let t = step.unwrap_or(0);
        if valid {
            let (fc, fr) = (f / mt, f % mt);
            for i in 0..r {
                row_lanes(a, m, k, fr * r + i, t, &mut a_in[i * d..(i + 1) * d]);
            }
            for j in 0..c {
                col_lanes(b, k, n, fc * c + j, t, &mut b_in[j * d..(j + 1) * d]);
            }
        } else if was_valid {
            a_in.fill(0);
            b_in.fill(0);
        }
        was_valid = valid;
        let inp = ArrayInputs {
            reset: false,
            in_valid: valid,
            in_first: valid && t == 0,
            in_last: valid && t + 1 == ks,
            a_in: &a_in,
            b_in: &b_in,
        };
        let o = arr.clock(&inp);
        watch(x, &inp, &o);
        rec.busy(x, o.busy);
        if o.out_valid {
            rec.output(x);
            let row = rows_seen % r;
            if o.out_row != row {
                return Err(Error::new(format!(
                    "os array {r}x{c}: cycle {}: out_row {} where row {row} was due",
                    x + 1,
                    o.out_row
                )));
            }
            let (fc, fr) = (out_fold / mt, out_fold % mt);
            let i = fr * r + row;
            if i < m {
                for (j, &v) in o.c_out.iter().enumerate() {
                    let jj = fc * c + j;
                    if jj < n {
                        out[i * n + jj] = v;
                    }
                }
            }
            rows_seen += 1;
            if rows_seen % r == 0 {
                out_fold += 1;
                if out_fold == folds {
                    break;
                }
            }
        }
    }
    Ok((out, rec.finish(folds as u64, s as u64)))
}
