//! The BitMoD study: every candidate set of weight datatypes quantizes the same weights in
//! groups; the mean squared error of each set and the share of groups per datatype.

use super::{check_samples, common_provenance, read_npy, to_f32, unscaled, Opts, Source};
use crate::table::fnum;
use crate::Table;
use pelab_sim::bitmod::{quantize_channel, CandidateSet, ALL_SETS};
use pelab_sim::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::{json, Value};

/// The default `samples`: 128 rows of [`ROW_LEN`] weights.
pub(super) const DEFAULT_SAMPLES: usize = 128 * ROW_LEN;

/// Weights per quantization group.
const GROUP: usize = 128;
/// Row length of weights drawn from a distribution.
const ROW_LEN: usize = 4096;
/// Width of the integer group scale.
const SCALE_BITS: u32 = 8;

/// The weight matrix of the bitmod study and a line describing its layout.
fn bitmod_weights(o: &Opts) -> Result<(Vec<Vec<f32>>, String)> {
    if let Source::Npy(p) = &o.source {
        let a = read_npy(p)?;
        let rows = a.rows(p)?;
        let layout = format!(
            "the whole {} x {} matrix of {} ({}; --samples does not apply): {} weights",
            a.shape[0],
            a.shape[1],
            p.display(),
            a.dtype,
            a.shape[0] * a.shape[1]
        );
        return Ok((rows, layout));
    }
    let n = check_samples(o)?;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let w = to_f32(&o.source.sample(n, &mut rng)?, &o.source.describe())?;
    let rows: Vec<Vec<f32>> = w.chunks(ROW_LEN).map(|c| c.to_vec()).collect();
    let layout = format!(
        "{n} weights rounded to float32 (round to nearest even), in rows of {ROW_LEN} \
         (the last row may be shorter): {} rows",
        rows.len()
    );
    Ok((rows, layout))
}

/// Error sums and type counts of one candidate set over the matrix.
#[derive(Debug, Clone)]
struct SetStats {
    sse: f64,
    sse_int: f64,
    groups: usize,
    counts: Vec<usize>,
}

fn set_stats(rows: &[Vec<f32>], set: &CandidateSet) -> Result<SetStats> {
    let per_row = rows
        .par_iter()
        .enumerate()
        .map(|(ri, row)| {
            let ch = quantize_channel(row, GROUP, set, SCALE_BITS)
                .map_err(|e| Error::new(format!("row {ri}, set {}: {e}", set.name)))?;
            let hw = ch.dequantized();
            let mut s = SetStats {
                sse: 0.0,
                sse_int: 0.0,
                groups: ch.groups.len(),
                counts: vec![0; set.types.len()],
            };
            let mut off = 0;
            for g in &ch.groups {
                for (j, d) in g.dequantized().into_iter().enumerate() {
                    let w = row[off + j] as f64;
                    s.sse += (w - d) * (w - d);
                    s.sse_int += (w - hw[off + j]) * (w - hw[off + j]);
                }
                off += g.codes.len();
                s.counts[g.type_index] += 1;
            }
            Ok(s)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut t = SetStats {
        sse: 0.0,
        sse_int: 0.0,
        groups: 0,
        counts: vec![0; set.types.len()],
    };
    for s in per_row {
        t.sse += s.sse;
        t.sse_int += s.sse_int;
        t.groups += s.groups;
        for (a, b) in t.counts.iter_mut().zip(&s.counts) {
            *a += b;
        }
    }
    Ok(t)
}

/// The BitMoD study: every candidate set of `pelab_sim::bitmod::ALL_SETS` quantizes the same
/// weights in groups of 128; `bitmod_mse` gives the mean squared error of each set and
/// `bitmod_type_share` the share of groups that chose each datatype.
///
/// Weights come from the source (`samples` values in rows of 4096) or from a 2-D float32 or
/// float64 `.npy` matrix whose rows are output channels (the whole matrix).
pub fn bitmod_study(o: &Opts) -> Result<Vec<Table>> {
    unscaled(o, "bitmod", "each group of weights by its absmax")?;
    let (rows, layout) = bitmod_weights(o)?;
    let weights: usize = rows.iter().map(|r| r.len()).sum();
    let sum_w2: f64 = rows.iter().flatten().map(|&w| w as f64 * w as f64).sum();
    let mean_w2 = sum_w2 / weights as f64;
    let mut mse = Table::new(
        "bitmod_mse",
        "Weight quantization error of each candidate set, groups of 128",
        &[
            "set",
            "bits",
            "candidates",
            "selector_bits",
            "bits_per_weight",
            "weights",
            "groups",
            "mse",
            "nmse",
            "mse_int_scale",
            "nmse_int_scale",
        ],
    );
    let mut share = Table::new(
        "bitmod_type_share",
        "Share of groups that chose each datatype of a candidate set",
        &["set", "datatype", "type_index", "groups", "share"],
    );
    for set in ALL_SETS.iter().copied() {
        let s = set_stats(&rows, set)?;
        let bits = set.types[0].bits;
        let sel = set.selector_bits();
        let storage = weights as f64 * bits as f64
            + s.groups as f64 * (sel + SCALE_BITS) as f64
            + rows.len() as f64 * 32.0;
        let m = s.sse / weights as f64;
        let mi = s.sse_int / weights as f64;
        let norm = |v: f64| {
            if mean_w2 > 0.0 {
                fnum(v / mean_w2)
            } else {
                Value::Null
            }
        };
        mse.push(vec![
            json!(set.name),
            json!(bits),
            json!(set
                .types
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(" ")),
            json!(sel),
            fnum(storage / weights as f64),
            json!(weights),
            json!(s.groups),
            fnum(m),
            norm(m),
            fnum(mi),
            norm(mi),
        ])?;
        for (i, t) in set.types.iter().enumerate() {
            share.push(vec![
                json!(set.name),
                json!(t.name),
                json!(i),
                json!(s.counts[i]),
                fnum(s.counts[i] as f64 / s.groups as f64),
            ])?;
        }
    }
    let quantizer = "reference model: pelab_sim::bitmod::quantize_channel: per group scale = \
                     absmax / (largest magnitude of the type), each weight to the nearest grid \
                     value (midpoints to the lower one), the candidate with the least squared \
                     error kept (the earlier one on ties; an all-zero group takes candidate 0)";
    let groups = format!(
        "groups: {GROUP} consecutive weights along each row (the last group of a row may be \
         shorter)"
    );
    mse.provenance = common_provenance(o, &layout);
    mse.provenance.extend([
        quantizer.to_string(),
        groups.clone(),
        "mse: mean over all weights of (w - dequantized)^2 with the exact group scale (f64); \
         nmse = mse / mean(w^2)"
            .into(),
        format!(
            "mse_int_scale: the same with the weights the PE computes with, value(code) x \
             {SCALE_BITS}-bit integer group scale x FP32 channel scale \
             (QuantChannel::dequantized)"
        ),
        format!(
            "bits_per_weight: code bits plus, per group, the selector and the {SCALE_BITS}-bit \
             integer scale, plus a 32-bit channel scale per row, over the weights"
        ),
    ]);
    share.provenance = common_provenance(o, &layout);
    share.provenance.extend([
        quantizer.to_string(),
        groups,
        "share: groups that chose the datatype / all groups of the set".into(),
    ]);
    Ok(vec![mse, share])
}
