//! The group quantizer and the second-level integer scale.
//!
//! Rules (see `docs/bitmod.md`):
//! - a group is up to `group_size` consecutive weights of one output channel;
//! - for a datatype with largest magnitude `q`, the group scale is `absmax / q` and each weight
//!   goes to the grid value nearest to `w / scale`; a weight exactly on a midpoint goes to the
//!   lower (more negative) value. The decision is exact: it compares `2·w·q` with
//!   `(v_j + v_{j+1})·absmax`, both computed exactly in f64 from the f32 inputs;
//! - the group keeps the candidate with the least sum of squared errors
//!   `Σ (w - v·scale)²` (f64, in weight order); on equal sums the earlier candidate wins;
//! - an all-zero group takes candidate 0, all codes 0 and scale 0.

use super::datatype::{CandidateSet, Datatype};
use crate::bail;
use crate::error::Result;

/// One quantized group.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantGroup {
    /// Index of the chosen datatype in the candidate set (the selector).
    pub type_index: usize,
    /// The chosen datatype.
    pub datatype: &'static Datatype,
    /// One code per weight.
    pub codes: Vec<u8>,
    /// The exact group scale `absmax / max|values|` (f64; 0 for an all-zero group).
    pub scale: f64,
    /// Sum of squared errors `Σ (w - value(code)·scale)²` of the chosen type.
    pub sse: f64,
}

impl QuantGroup {
    /// The dequantized weights `value(code)·scale` with the exact group scale.
    pub fn dequantized(&self) -> Vec<f64> {
        self.codes
            .iter()
            .map(|&c| self.datatype.values[c as usize] as f64 * self.scale)
            .collect()
    }
}

fn check_weights(weights: &[f32]) -> Result<f32> {
    if weights.is_empty() {
        bail!("a group needs at least one weight");
    }
    let mut absmax = 0f32;
    for (i, w) in weights.iter().enumerate() {
        if !w.is_finite() {
            bail!("weight {i} is {w}; only finite weights can be quantized");
        }
        absmax = absmax.max(w.abs());
    }
    Ok(absmax)
}

/// The code of the grid value nearest to `w / (absmax / q)` (midpoints go to the lower value),
/// with `q = dtype.max_abs()`. `absmax` must be at least `|w|` and positive.
pub fn nearest_code(w: f32, absmax: f32, dtype: &Datatype) -> u8 {
    let v = nearest_value(&dtype.grid(), dtype.max_abs(), w, absmax);
    dtype.code_of(v).expect("grid values have codes")
}

/// The value of the ascending `grid` nearest to `w·q/absmax` (midpoints go to the lower one).
fn nearest_value(grid: &[i32], q: i32, w: f32, absmax: f32) -> i32 {
    let lhs = w as f64 * (2 * q) as f64;
    let a = absmax as f64;
    let mut idx = 0;
    for j in 1..grid.len() {
        if lhs > (grid[j - 1] + grid[j]) as f64 * a {
            idx = j;
        } else {
            break;
        }
    }
    grid[idx]
}

/// Quantizes a group with one datatype (`type_index` 0).
pub fn quantize_with(weights: &[f32], dtype: &'static Datatype) -> Result<QuantGroup> {
    let absmax = check_weights(weights)?;
    Ok(quantize_checked(weights, absmax, dtype, 0))
}

fn quantize_checked(
    weights: &[f32],
    absmax: f32,
    dtype: &'static Datatype,
    type_index: usize,
) -> QuantGroup {
    if absmax == 0.0 {
        return QuantGroup {
            type_index,
            datatype: dtype,
            codes: vec![0; weights.len()],
            scale: 0.0,
            sse: 0.0,
        };
    }
    let q = dtype.max_abs();
    let grid = dtype.grid();
    let scale = absmax as f64 / q as f64;
    let mut sse = 0.0;
    let codes = weights
        .iter()
        .map(|&w| {
            let v = nearest_value(&grid, q, w, absmax);
            let d = w as f64 - v as f64 * scale;
            sse += d * d;
            dtype.code_of(v).expect("grid values have codes")
        })
        .collect();
    QuantGroup {
        type_index,
        datatype: dtype,
        codes,
        scale,
        sse,
    }
}

/// Quantizes a group with every candidate and keeps the least squared error (earlier wins
/// ties; an all-zero group takes candidate 0).
pub fn quantize_group(weights: &[f32], set: &CandidateSet) -> Result<QuantGroup> {
    let absmax = check_weights(weights)?;
    let mut best: Option<QuantGroup> = None;
    for (i, &t) in set.types.iter().enumerate() {
        let q = quantize_checked(weights, absmax, t, i);
        if best.as_ref().is_none_or(|b| q.sse < b.sse) {
            best = Some(q);
        }
    }
    match best {
        Some(b) => Ok(b),
        None => bail!("candidate set {} is empty", set.name),
    }
}

/// Second-level quantization of the group scales of one output channel.
#[derive(Debug, Clone, PartialEq)]
pub struct IntScales {
    /// The per-channel FP32 scale: `f32(max group scale / (2^scale_bits - 1))`, round to
    /// nearest even; 0 when every group is all-zero.
    pub channel_scale: f32,
    /// Per group: `round(scale / channel_scale)` (half away from zero) clamped to
    /// `1..=2^scale_bits - 1`; 0 for an all-zero group.
    pub int_scales: Vec<u32>,
    /// Width of the unsigned integer scales.
    pub scale_bits: u32,
}

/// Derives the integer group scales and the channel scale (`scale_bits` in 1..=16).
pub fn integer_scales(group_scales: &[f64], scale_bits: u32) -> Result<IntScales> {
    if !(1..=16).contains(&scale_bits) {
        bail!("scale_bits = {scale_bits}; expected 1..=16");
    }
    let top = (1u32 << scale_bits) - 1;
    let mut max = 0f64;
    for (g, &s) in group_scales.iter().enumerate() {
        if !(s.is_finite() && s >= 0.0) {
            bail!("group {g} scale is {s}; expected a finite non-negative number");
        }
        max = max.max(s);
    }
    if max == 0.0 {
        return Ok(IntScales {
            channel_scale: 0.0,
            int_scales: vec![0; group_scales.len()],
            scale_bits,
        });
    }
    let channel_scale = (max / top as f64) as f32;
    if channel_scale == 0.0 || !channel_scale.is_finite() {
        bail!("channel scale {max:e} / {top} is not a positive finite f32");
    }
    let cs = channel_scale as f64;
    let int_scales = group_scales
        .iter()
        .map(|&s| {
            if s == 0.0 {
                0
            } else {
                ((s / cs).round() as u32).clamp(1, top)
            }
        })
        .collect();
    Ok(IntScales {
        channel_scale,
        int_scales,
        scale_bits,
    })
}

/// One quantized output channel (a row of the weight matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantChannel {
    /// Weights per group (the last group may be shorter).
    pub group_size: usize,
    /// The groups, in input order.
    pub groups: Vec<QuantGroup>,
    /// The per-channel FP32 scale.
    pub channel_scale: f32,
    /// The integer scale of each group.
    pub int_scales: Vec<u32>,
    /// Width of the integer scales.
    pub scale_bits: u32,
}

impl QuantChannel {
    /// Number of weights in the channel.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.codes.len()).sum()
    }

    /// True when the channel holds no weight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The weights as the hardware sees them: `value(code) · int_scale · channel_scale`
    /// (exact in f64).
    pub fn dequantized(&self) -> Vec<f64> {
        let cs = self.channel_scale as f64;
        self.groups
            .iter()
            .zip(&self.int_scales)
            .flat_map(|(g, &s)| {
                g.codes
                    .iter()
                    .map(move |&c| g.datatype.values[c as usize] as f64 * s as f64 * cs)
            })
            .collect()
    }
}

/// Quantizes one output channel: groups of `group_size` consecutive weights (the last group
/// may be shorter), each with [`quantize_group`], then [`integer_scales`]. The codes stay the
/// ones chosen with the exact group scale; the integer scale only re-expresses that scale.
pub fn quantize_channel(
    row: &[f32],
    group_size: usize,
    set: &CandidateSet,
    scale_bits: u32,
) -> Result<QuantChannel> {
    if group_size == 0 {
        bail!("group_size must be at least 1");
    }
    if row.is_empty() {
        bail!("a channel needs at least one weight");
    }
    let groups = row
        .chunks(group_size)
        .enumerate()
        .map(|(g, w)| {
            quantize_group(w, set).map_err(|e| crate::Error::new(format!("group {g}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let scales: Vec<f64> = groups.iter().map(|g| g.scale).collect();
    let s = integer_scales(&scales, scale_bits)?;
    Ok(QuantChannel {
        group_size,
        groups,
        channel_scale: s.channel_scale,
        int_scales: s.int_scales,
        scale_bits,
    })
}
