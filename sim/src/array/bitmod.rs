//! The `bitmod` array cell: the BitMoD PE (4 lanes, bit-serial, block-floating-point group
//! accumulator, bit-serial dequantizer) followed by an FP32 accumulator of its group results.
//!
//! # Operands
//! - A (`M x K`, the weights, one output channel per row): each element is
//!   `{scale[7:0], select[2:0], code[3:0]}` ([`weight`]): the weight's 3- or 4-bit code, the PE
//!   type select of its group (`{4-bit mode, variant[1:0]}`, see `docs/bitmod.md`) and its
//!   group's unsigned 8-bit integer scale. Groups are the [`GROUP`] consecutive weights
//!   `k = 128g .. 128g + 127` of a row (the last one shorter when `K` is not a multiple of
//!   128); select and scale must be equal across a group, 3-bit codes fit 3 bits.
//! - B (`K x N`, the activations): FP16 codes.
//!
//! # Result
//! `C[i][j]` is the FP32 sum, in group order from `+0` with the FP32 adder of the other cells
//! ([`crate::fp32acc::add`]), of the group results `D_g · 2^(Ae_g − 28)` of the PE model
//! ([`crate::bitmod::PeConfig::run_group`], default widths) on the group's codes and the
//! matching activations of column `j`. Each group result is exactly an FP32 number (24-bit
//! `D`); a group with an Inf or NaN activation gives the canonical NaN `0x7FC00000`. The
//! per-channel scale of the quantizer is not applied (one FP32 multiply per output row outside
//! the array).
//!
//! # Timing (a step is a beat of 4 weights)
//! A beat is presented for two cycles (term 0, term 1), so a step takes `L = 2` cycles. A group
//! occupies a slot of `max(2·beats, 8)` cycles: a group of fewer than 16 weights is preceded by
//! idle cycles so that hand-offs to the dequantizer are at least 8 cycles apart (see
//! [`tile_stream`]). The group's result leaves the dequantizer 9 cycles after its hand-off
//! ([`RESULT_LATENCY`]) and is added into the FP32 accumulator at that edge.

use super::cell::Cell;
use crate::bitmod::{datatype::by_pe_select, GroupOutput, PeConfig, LANES};
use crate::error::{Error, Result};
use crate::fp32acc::{self, NAN};
use rand::Rng;

/// Weights per group along K.
pub const GROUP: usize = 128;
/// Beats (steps of [`LANES`] weights) per full group.
pub const GROUP_BEATS: usize = GROUP / LANES;
/// Cycles per beat (one per weight term).
pub const BEAT_CYCLES: u64 = 2;
/// The fewest cycles between two hand-offs (the dequantizer's steps, one per scale bit).
pub const MIN_GROUP_CYCLES: u64 = 8;
/// Cycles from a group's hand-off (the edge ending its last compute cycle) to the edge at
/// which its result enters the FP32 accumulator: the 8 dequantizer steps and the PE's output
/// register.
pub const RESULT_LATENCY: u64 = 9;
/// Width of one A element, `{scale, select, code}`.
pub const WEIGHT_BITS: u32 = 15;
/// The policy name of the cell (one module serves 3- and 4-bit groups, as the PE's RTL).
pub const POLICY: &str = "bitmod34";

/// The A element of a weight: `{scale[7:0], select[2:0], code[3:0]}`.
pub fn weight(code: u8, select: u8, scale: u8) -> u64 {
    (scale as u64) << 7 | ((select & 7) as u64) << 4 | (code & 15) as u64
}

/// `(code, select, scale)` of an A element.
pub fn unpack_weight(x: u64) -> (u8, u8, u8) {
    (
        (x & 15) as u8,
        ((x >> 4) & 7) as u8,
        ((x >> 7) & 0xFF) as u8,
    )
}

/// The FP32 code of a group result: `D · 2^(Ae − 28)` exactly, or the canonical NaN for a group
/// with an Inf or NaN activation.
pub fn group_code(out: &GroupOutput) -> u32 {
    if out.special {
        NAN
    } else {
        out.to_f32().to_bits()
    }
}

/// The groups of a dot product of length `k`: `(first weight, weights)` each.
pub fn groups(k: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..k.div_ceil(GROUP)).map(move |g| (g * GROUP, GROUP.min(k - g * GROUP)))
}

/// The cycles of one tile of a dot product of length `k` as the driver presents them: `None`
/// for an idle cycle, `Some(t)` for a cycle of beat `t` (each beat twice). Each group takes
/// `max(2·beats, 8)` cycles, its idle cycles first.
pub fn tile_stream(k: usize) -> Vec<Option<usize>> {
    let mut v = Vec::new();
    for (first, n) in groups(k) {
        let beats = n.div_ceil(LANES);
        let busy = BEAT_CYCLES as usize * beats;
        v.extend(std::iter::repeat_n(
            None,
            (MIN_GROUP_CYCLES as usize).saturating_sub(busy),
        ));
        for t in first / LANES..first / LANES + beats {
            v.extend([Some(t), Some(t)]);
        }
    }
    v
}

/// The length of [`tile_stream`]`(k)` without building it.
pub fn tile_cycles(k: usize) -> u64 {
    groups(k)
        .map(|(_, n)| (BEAT_CYCLES * n.div_ceil(LANES) as u64).max(MIN_GROUP_CYCLES))
        .sum()
}

/// Checks bitmod operands (module docs): element widths, equal select and scale across each
/// group, codes that fit their group's width. The error names the matrix, the element and the
/// rule.
pub fn check_operands(m: usize, k: usize, n: usize, a: &[u64], b: &[u64]) -> Result<()> {
    for (i, row) in a.chunks_exact(k).enumerate().take(m) {
        for (g, (first, len)) in groups(k).enumerate() {
            let (_, sel, scale) = unpack_weight(row[first]);
            let bits = if sel & 4 != 0 { 4 } else { 3 };
            for (kk, &x) in row.iter().enumerate().skip(first).take(len) {
                let (code, s, sc) = unpack_weight(x);
                if (s, sc) != (sel, scale) {
                    return Err(Error::new(format!(
                        "A[{i}][{kk}]: type select {s} and scale {sc} differ from its group's \
                         (group {g}, k = {first}..{}: select {sel}, scale {scale}); every \
                         weight of a group of {GROUP} carries the group's select and scale",
                        first + len - 1
                    )));
                }
                if code >> bits != 0 {
                    return Err(Error::new(format!(
                        "A[{i}][{kk}]: code {code:X} is wider than the {bits} bits of its \
                         group's type (select {sel})"
                    )));
                }
            }
        }
    }
    if let Some(p) = b.iter().position(|&x| x >> 16 != 0) {
        return Err(Error::new(format!(
            "B[{}][{}] = {:X} is not an FP16 code (16 bits)",
            p / n,
            p % n,
            b[p]
        )));
    }
    Ok(())
}

/// The reference product of the bitmod cell (module docs): `a` is `m x k` weights, `b` is
/// `k x n` FP16 activations, both row-major; C is `m x n` FP32 codes.
///
/// # Panics
/// When the operands fail [`check_operands`] (with its message).
pub fn gemm(m: usize, k: usize, n: usize, a: &[u64], b: &[u64]) -> Vec<u32> {
    if let Err(e) = check_operands(m, k, n, a, b) {
        panic!("bitmod gemm: {e}");
    }
    let cfg = PeConfig::default();
    let mut c = vec![0u32; m * n];
    let (mut codes, mut acts) = (Vec::with_capacity(GROUP), Vec::with_capacity(GROUP));
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0u32;
            for (first, len) in groups(k) {
                let (_, sel, scale) = unpack_weight(a[i * k + first]);
                codes.clear();
                acts.clear();
                for kk in first..first + len {
                    codes.push(unpack_weight(a[i * k + kk]).0);
                    acts.push(b[kk * n + j] as u16);
                }
                let dtype = by_pe_select(sel).expect("eight selects");
                let out = cfg
                    .run_group(dtype, &codes, &acts, scale as u32)
                    .expect("checked operands");
                acc = fp32acc::add(acc, group_code(&out));
            }
            c[i * n + j] = acc;
        }
    }
    c
}

/// Random bitmod operands: per row and group a random select (3- or 4-bit) and a nonzero
/// scale, random codes; activations FP16 near 1 in magnitude (exponent field 12..=18), with one
/// in `special_one_in` a zero, subnormal, large or Inf/NaN code.
pub fn random_operands<R: Rng>(
    r: &mut R,
    m: usize,
    k: usize,
    n: usize,
    special_one_in: u32,
) -> (Vec<u64>, Vec<u64>) {
    let mut a = vec![0u64; m * k];
    for i in 0..m {
        for (first, len) in groups(k) {
            let sel: u8 = r.gen_range(0..8);
            let scale: u8 = r.gen_range(1..=255);
            let bits = if sel & 4 != 0 { 4 } else { 3 };
            for x in &mut a[i * k + first..i * k + first + len] {
                *x = weight(r.gen_range(0..1u8 << bits), sel, scale);
            }
        }
    }
    let b = (0..k * n)
        .map(|_| {
            if r.gen_ratio(1, special_one_in) {
                let sp = [
                    0x0000u64, 0x8000, 0x0001, 0x83FF, 0x7BFF, 0xFBFF, 0x7C00, 0x7E00,
                ];
                sp[r.gen_range(0..sp.len())]
            } else {
                let s = if r.gen() { 0x8000 } else { 0 };
                s | (r.gen_range(12u64..=18) << 10) | r.gen_range(0..1024u64)
            }
        })
        .collect();
    (a, b)
}

/// One bitmod PE of an array with its FP32 accumulator, at the level of its ports: what it
/// holds between edges and what it outputs (`acc`, `done`), cycle for cycle as the RTL.
///
/// The PE's group arithmetic is [`PeConfig::run_group`] on the beats collected (a beat is read
/// in its second cycle; the driver holds it for both).
#[derive(Debug, Clone)]
pub struct BitModPeState {
    phase: bool,
    beats: u32,
    codes: Vec<u8>,
    acts: Vec<u16>,
    select: u8,
    scale: u8,
    /// Group results in flight: (edges left until they enter the accumulator, FP32 code,
    /// last group of its tile).
    flight: Vec<(u64, u32, bool)>,
    fresh: bool,
    /// The FP32 accumulator.
    pub acc: u32,
    /// High during the cycle after the last group of a tile entered `acc`.
    pub done: bool,
}

impl Default for BitModPeState {
    fn default() -> Self {
        BitModPeState {
            phase: false,
            beats: 0,
            codes: Vec::with_capacity(GROUP),
            acts: Vec::with_capacity(GROUP),
            select: 0,
            scale: 0,
            flight: Vec::with_capacity(2),
            fresh: true,
            acc: 0,
            done: false,
        }
    }
}

impl BitModPeState {
    /// One rising edge with this cycle's `valid`, `last` (the tile's last beat), the 4 weight
    /// lanes `a` and the 4 activation lanes `b`.
    pub fn clock(&mut self, cfg: &PeConfig, valid: bool, last: bool, a: &[u64], b: &[u64]) {
        // The dequantizer's output of this cycle enters the accumulator.
        self.done = false;
        for f in &mut self.flight {
            f.0 -= 1;
        }
        if let Some(&(0, code, tile_last)) = self.flight.first() {
            self.flight.remove(0);
            self.acc = fp32acc::add(if self.fresh { 0 } else { self.acc }, code);
            self.fresh = tile_last;
            self.done = tile_last;
        }
        if !valid {
            return;
        }
        if self.phase {
            let (_, sel, scale) = unpack_weight(a[0]);
            self.select = sel;
            self.scale = scale;
            for l in 0..LANES {
                self.codes.push(unpack_weight(a[l]).0);
                self.acts.push(b[l] as u16);
            }
            self.beats += 1;
            if last || self.beats as usize == GROUP_BEATS {
                let dtype = by_pe_select(self.select).expect("eight selects");
                let bits = dtype.bits;
                for c in &mut self.codes {
                    *c &= (1u8 << bits) - 1;
                }
                let out = cfg
                    .run_group(dtype, &self.codes, &self.acts, self.scale as u32)
                    .expect("a group of 1..=128 weights with an 8-bit scale");
                self.flight.push((RESULT_LATENCY, group_code(&out), last));
                self.codes.clear();
                self.acts.clear();
                self.beats = 0;
            }
        }
        self.phase = !self.phase;
    }
}

/// Whether `cell` is the bitmod cell.
pub fn is_bitmod(cell: &Cell) -> bool {
    cell.pe == "bitmod"
}

/// The A operand of real weights: each row of the row-major `m x k` matrix `w` quantized as one
/// output channel by the BitMoD quantizer with candidate set `set` (`bitmod4` or `bitmod3`),
/// groups of [`GROUP`], 8-bit integer scales ([`crate::bitmod::quantize_channel`]). Returns
/// the elements and the per-row channel scales (applied outside the array).
pub fn quantize_a(m: usize, k: usize, w: &[f32], set: &str) -> Result<(Vec<u64>, Vec<f32>)> {
    let cs = crate::bitmod::candidate_set(set)
        .filter(|c| c.types.iter().all(|d| d.pe_select.is_some()))
        .ok_or_else(|| {
            Error::new(format!(
                "candidate set '{set}' is not one the PE decodes; expected bitmod4 or bitmod3"
            ))
        })?;
    if w.len() != m * k {
        return Err(Error::new(format!(
            "weights: {} values for a {m} x {k} matrix",
            w.len()
        )));
    }
    let mut a = Vec::with_capacity(m * k);
    let mut scales = Vec::with_capacity(m);
    for (i, row) in w.chunks_exact(k).enumerate() {
        let ch = crate::bitmod::quantize_channel(row, GROUP, cs, 8)
            .map_err(|e| Error::new(format!("row {i}: {e}")))?;
        for (g, &s) in ch.groups.iter().zip(&ch.int_scales) {
            let sel = g.datatype.pe_select.expect("checked set");
            a.extend(g.codes.iter().map(|&c| weight(c, sel, s as u8)));
        }
        scales.push(ch.channel_scale);
    }
    Ok((a, scales))
}
