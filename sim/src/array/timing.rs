//! Analytic timing of an `R x C` systolic array running `[M x K]·[K x N]` with `d` lanes per
//! step (`K' = ceil(K/d)` steps per dot product) and `L` cycles per step: SCALE-Sim's closed
//! forms, the cycle of the last output under the array protocol of [`super::model`], and the
//! SRAM traffic the drivers stream.
//!
//! | dataflow | stationary | folds | cycles per fold `S` |
//! |---|---|---|---|
//! | `os` | C | `ceil(M/R)·ceil(N/C)` | `R + C + L·K' − 2` |
//! | `ws` | B | `ceil(K'/R)·ceil(N/C)` | `2R + C + L·M − 2` |
//! | `is` | A | `ceil(K'/R)·ceil(M/C)` | `2R + C + L·N − 2` |
//!
//! The streamed term (`K'` for `os`, `M` for `ws`, `N` for `is`) is multiplied by `L`; the fill
//! and drain terms are not (one cycle per hop).
//!
//! Cycles are numbered from 0, the cycle in which the first input of the first fold is
//! presented (the first weight row for `ws` and `is`); fold `f` starts in cycle `f·S`.
//! - `cycles` (SCALE-Sim's count) `= folds·S − 1` is the cycle of the last MAC of the last
//!   fold; the array computes in cycles `0..=cycles`, `cycles + 1` of them.
//! - `last_output_cycle` is the cycle in which the last row of `C` is on `c_out`:
//!   `cycles + R + 1` for `os` (one cycle to load the drain chain, then `R` rows, one per
//!   cycle), `cycles + 1` for `ws` and `is` (the bottom row's registered sums, deskewed);
//!   `total_cycles = last_output_cycle + 1` counts cycles `0..=last_output_cycle`.
//! - `utilization = M·N·K'·L / (R·C·(cycles + 1))`: the share of PE-cycles spent on steps of
//!   real outputs. SCALE-Sim divides by `cycles` instead (one less; for a 1x1 array and a
//!   1x1x1 product that is 0).
//!
//! SRAM traffic, in operand elements (a step of `d` lanes is `d` elements):
//! - [`Timing::sram`]: what the drivers stream into the array, padding included: rows and
//!   columns beyond the matrix in a partial tile and lanes beyond `K` are fed the code 0 and
//!   counted. `c_writes` counts real outputs only (the padding outputs are dropped): `M·N` for
//!   `os`, `M·N` per K-fold for `ws` and `is` (the partial sums of every K-fold but the last
//!   are written and read back: `c_reads`).
//! - [`Timing::sram_unpadded`]: the same without padding. This is SCALE-Sim v2's count
//!   (`systolic_compute_os.py` adds a fold's demand to `ifmap_reads` before padding it with
//!   null requests).

use crate::error::{Error, Result};
use serde::Serialize;

/// The largest array side modelled (rows and columns are each in `1..=MAX_SIDE`).
pub const MAX_SIDE: usize = 64;
/// The largest array side the closed forms are used for outside the array commands (the
/// accelerator model). They are algebraic in `R` and `C`; the RTL checks them up to
/// [`MAX_SIDE`].
pub const MAX_ANALYTIC_SIDE: usize = 4096;
/// The largest GEMM dimension timed (`M`, `K`, `N` each in `1..=MAX_GEMM_DIM`).
pub const MAX_GEMM_DIM: usize = 1 << 31;
/// The most lanes per step timed.
pub const MAX_TIMING_LANES: usize = 64;
/// The most cycles per step timed.
pub const MAX_STEP_CYCLES: u64 = 1 << 16;

/// Which operand stays in the PEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataflow {
    /// Output-stationary: each PE accumulates one element of C.
    Os,
    /// Weight-stationary: each PE holds a B element; partial sums flow south.
    Ws,
    /// Input-stationary: each PE holds an A element; partial sums flow south.
    Is,
}

impl Dataflow {
    /// Every dataflow, in display order.
    pub const ALL: [Dataflow; 3] = [Dataflow::Os, Dataflow::Ws, Dataflow::Is];

    /// The command-line name (`os`, `ws`, `is`).
    pub fn name(self) -> &'static str {
        match self {
            Dataflow::Os => "os",
            Dataflow::Ws => "ws",
            Dataflow::Is => "is",
        }
    }

    /// Parses `os`, `ws` or `is`; the error lists them.
    pub fn parse(s: &str) -> Result<Dataflow> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::new(format!("unknown dataflow '{s}'; valid: os, ws, is")))
    }
}

/// An array of `rows x cols` PEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ArrayDims {
    /// Rows, `R`.
    pub rows: usize,
    /// Columns, `C`.
    pub cols: usize,
}

impl ArrayDims {
    /// An array of `rows x cols`; both must be in `1..=MAX_SIDE`.
    pub fn new(rows: usize, cols: usize) -> Result<ArrayDims> {
        for (what, v) in [("rows", rows), ("columns", cols)] {
            if !(1..=MAX_SIDE).contains(&v) {
                return Err(Error::new(format!(
                    "array {what} = {v} is out of range; expected 1..={MAX_SIDE}"
                )));
            }
        }
        Ok(ArrayDims { rows, cols })
    }

    /// An array for the closed forms alone (no RTL, no cycle model): each side in
    /// `1..=MAX_ANALYTIC_SIDE`.
    pub fn analytic(rows: usize, cols: usize) -> Result<ArrayDims> {
        for (what, v) in [("rows", rows), ("columns", cols)] {
            if !(1..=MAX_ANALYTIC_SIDE).contains(&v) {
                return Err(Error::new(format!(
                    "array {what} = {v} is out of range; expected 1..={MAX_ANALYTIC_SIDE}"
                )));
            }
        }
        Ok(ArrayDims { rows, cols })
    }
}

/// The shape of `[M x K]·[K x N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GemmDims {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
}

impl GemmDims {
    /// The shape `m x k x n`; each must be in `1..=MAX_GEMM_DIM`.
    pub fn new(m: usize, k: usize, n: usize) -> Result<GemmDims> {
        for (what, v) in [("M", m), ("K", k), ("N", n)] {
            if !(1..=MAX_GEMM_DIM).contains(&v) {
                return Err(Error::new(format!(
                    "GEMM dimension {what} = {v} is out of range; expected 1..={MAX_GEMM_DIM}"
                )));
            }
        }
        Ok(GemmDims { m, k, n })
    }
}

/// SRAM traffic of one GEMM, in operand elements (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sram {
    /// Elements of A streamed into the array.
    pub a_reads: u64,
    /// Elements of B streamed into the array.
    pub b_reads: u64,
    /// 32-bit results written (final outputs and the partial sums of K-folds).
    pub c_writes: u64,
    /// 32-bit partial sums read back into the array (`ws` and `is` with more than one K-fold).
    pub c_reads: u64,
}

/// The analytic timing of one GEMM on one array (module docs define every field).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// The dataflow.
    pub dataflow: Dataflow,
    /// The array.
    pub array: ArrayDims,
    /// The product.
    pub gemm: GemmDims,
    /// Lanes per step, `d`.
    pub lanes: usize,
    /// Cycles per step, `L`.
    pub step_cycles: u64,
    /// Steps per dot product, `K' = ceil(K/d)`.
    pub k_steps: u64,
    /// Folds (tiles of the stationary operand, one after the other).
    pub folds: u64,
    /// Cycles per fold, `S`.
    pub cycles_per_fold: u64,
    /// SCALE-Sim's count `folds·S − 1`: the cycle of the last MAC.
    pub cycles: u64,
    /// The cycle in which the last row of C is on `c_out`.
    pub last_output_cycle: u64,
    /// Cycles `0..=last_output_cycle`.
    pub total_cycles: u64,
    /// Steps of real outputs, `M·N·K'`.
    pub steps: u64,
    /// `steps·L / (R·C·(cycles + 1))`.
    pub utilization: f64,
    /// What the drivers stream, padding included.
    pub sram: Sram,
    /// The same without padding (SCALE-Sim v2's count).
    pub sram_unpadded: Sram,
}

/// Products and sums in `u128`, checked to fit `u64` at the end.
fn fit(what: &str, v: u128) -> Result<u64> {
    u64::try_from(v).map_err(|_| {
        Error::new(format!(
            "{what} = {v} does not fit 64 bits; the product is too large to time"
        ))
    })
}

/// How a PE enters the closed forms: lanes `d`, cycles per step `L`, an optional grouping of
/// the reduction (a group of `weights` takes at least `min_cycles`, as the bitmod cell's
/// dequantizer needs) and the cycles its result trails its last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeTiming {
    /// Lanes per step, `d`.
    pub lanes: usize,
    /// Cycles per step, `L`.
    pub step_cycles: u64,
    /// `(weights per group, fewest cycles per group)`, or none.
    pub group: Option<(usize, u64)>,
    /// Cycles from a PE's last step to its result being ready to drain, beyond a 1-cycle
    /// cell's (`X`, 0 for every combinational cell).
    pub result_latency: u64,
}

impl PeTiming {
    /// A cell of `lanes` lanes and `step_cycles` cycles per step, no grouping, no extra latency.
    pub fn simple(lanes: usize, step_cycles: u64) -> PeTiming {
        PeTiming {
            lanes,
            step_cycles,
            group: None,
            result_latency: 0,
        }
    }

    /// The bitmod cell: 4 lanes, 2 cycles per beat, groups of 128 weights taking at least 8
    /// cycles, results 9 cycles after the last beat (`super::bitmod`).
    pub fn bitmod() -> PeTiming {
        use super::bitmod as b;
        PeTiming {
            lanes: crate::bitmod::LANES,
            step_cycles: b::BEAT_CYCLES,
            group: Some((b::GROUP, b::MIN_GROUP_CYCLES)),
            result_latency: b::RESULT_LATENCY,
        }
    }

    /// The cycles the stream of one dot product of length `k` takes: `L·ceil(K/d)`, or with a
    /// grouping `Σ_g max(L·ceil(n_g/d), min_cycles)` over the groups of `n_g` weights.
    pub fn stream_cycles(&self, k: u128) -> u128 {
        let (d, l) = (self.lanes as u128, self.step_cycles as u128);
        match self.group {
            None => l * k.div_ceil(d),
            Some((g, min)) => {
                let g = g as u128;
                let full = k / g;
                let rest = k % g;
                let per = |n: u128| (l * n.div_ceil(d)).max(min as u128);
                full * per(g) + if rest > 0 { per(rest) } else { 0 }
            }
        }
    }
}

/// The timing of `gemm` on `array` in `dataflow`, with `lanes` lanes per step and
/// `step_cycles` cycles per step (module docs).
pub fn timing(
    dataflow: Dataflow,
    array: ArrayDims,
    gemm: GemmDims,
    lanes: usize,
    step_cycles: u64,
) -> Result<Timing> {
    timing_with(dataflow, array, gemm, &PeTiming::simple(lanes, step_cycles))
}

/// [`timing`] for any [`PeTiming`]: with a grouping, the `os` stream term `L·K'` becomes
/// [`PeTiming::stream_cycles`], and the result latency `X` delays the last output
/// (`cycles + R + 1 + X`). Groupings are timed for `os` only.
pub fn timing_with(
    dataflow: Dataflow,
    array: ArrayDims,
    gemm: GemmDims,
    pe: &PeTiming,
) -> Result<Timing> {
    let (lanes, step_cycles) = (pe.lanes, pe.step_cycles);
    if pe.group.is_some() && dataflow != Dataflow::Os {
        return Err(Error::new(format!(
            "a PE with grouped accumulation (bitmod) is timed for the os dataflow only, not {}: \
             its group accumulator and dequantizer stay inside the PE",
            dataflow.name()
        )));
    }
    let array = ArrayDims::analytic(array.rows, array.cols)?;
    let g = GemmDims::new(gemm.m, gemm.k, gemm.n)?;
    if !(1..=MAX_TIMING_LANES).contains(&lanes) {
        return Err(Error::new(format!(
            "lanes per step = {lanes} is out of range; expected 1..={MAX_TIMING_LANES}"
        )));
    }
    if !(1..=MAX_STEP_CYCLES).contains(&step_cycles) {
        return Err(Error::new(format!(
            "cycles per step = {step_cycles} is out of range; expected 1..={MAX_STEP_CYCLES}"
        )));
    }
    // With these bounds every product below stays under 2^128.
    let (r, c) = (array.rows as u128, array.cols as u128);
    let (m, k, n, d) = (g.m as u128, g.k as u128, g.n as u128, lanes as u128);
    let l = step_cycles as u128;
    let ks = k.div_ceil(d);
    let kt = ks.div_ceil(r);
    // (folds, S, padded A, padded B, C writes, C reads, unpadded A, unpadded B)
    let (folds, per_fold, a_pad, b_pad, c_w, c_r, a_real, b_real) = match dataflow {
        Dataflow::Os => {
            let (mt, nt) = (m.div_ceil(r), n.div_ceil(c));
            let f = mt * nt;
            (
                f,
                r + c + pe.stream_cycles(k) - 2,
                f * r * ks * d,
                f * c * ks * d,
                m * n,
                0,
                nt * m * k,
                mt * n * k,
            )
        }
        Dataflow::Ws => {
            let nt = n.div_ceil(c);
            let f = kt * nt;
            (
                f,
                2 * r + c + l * m - 2,
                f * m * r * d,
                f * r * c * d,
                kt * m * n,
                (kt - 1) * m * n,
                nt * m * k,
                k * n,
            )
        }
        Dataflow::Is => {
            let mt = m.div_ceil(c);
            let f = kt * mt;
            (
                f,
                2 * r + c + l * n - 2,
                f * r * c * d,
                f * n * r * d,
                kt * m * n,
                (kt - 1) * m * n,
                m * k,
                mt * n * k,
            )
        }
    };
    let cycles = folds * per_fold - 1;
    let last_output = match dataflow {
        Dataflow::Os => cycles + r + 1 + pe.result_latency as u128,
        Dataflow::Ws | Dataflow::Is => cycles + 1,
    };
    let steps = m * n * ks;
    let utilization = (steps * l) as f64 / (r * c * (cycles + 1)) as f64;
    Ok(Timing {
        dataflow,
        array,
        gemm: g,
        lanes,
        step_cycles,
        k_steps: fit("K'", ks)?,
        folds: fit("folds", folds)?,
        cycles_per_fold: fit("cycles per fold", per_fold)?,
        cycles: fit("cycles", cycles)?,
        last_output_cycle: fit("last output cycle", last_output)?,
        total_cycles: fit("total cycles", last_output + 1)?,
        steps: fit("steps", steps)?,
        utilization,
        sram: Sram {
            a_reads: fit("A reads", a_pad)?,
            b_reads: fit("B reads", b_pad)?,
            c_writes: fit("C writes", c_w)?,
            c_reads: fit("C reads", c_r)?,
        },
        sram_unpadded: Sram {
            a_reads: fit("A reads", a_real)?,
            b_reads: fit("B reads", b_real)?,
            c_writes: fit("C writes", c_w)?,
            c_reads: fit("C reads", c_r)?,
        },
    })
}
