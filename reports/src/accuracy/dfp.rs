//! The DFP-16 study: quantization error per headroom, and INT32 overflow and error of chunked
//! dot products.

use super::{check_samples, common_provenance, to_f32, unscaled, DotStats, Opts, Tally};
use crate::table::fnum;
use crate::Table;
use pelab_sim::int16fma::{dfp, Mode};
use pelab_sim::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::json;

/// The default `samples`: 256 dot products of two vectors of [`DFP_LEN`].
pub(super) const DEFAULT_SAMPLES: usize = 2 * 256 * DFP_LEN;

/// Tensor (vector) length of the dfp study.
const DFP_LEN: usize = 4096;
/// Chunk lengths of the overflow table.
const DFP_CHUNKS: [usize; 7] = [64, 128, 256, 512, 1024, 2048, 4096];

/// `2^n` as an f64 (exact for the exponents used here).
fn pow2(n: i32) -> f64 {
    2f64.powi(n)
}

/// Quantization error of DFP-16 tensors at one headroom.
#[derive(Debug, Clone, Copy)]
struct QuantStats {
    /// Tensors with a nonzero element.
    tensors: u64,
    /// All-zero tensors (excluded).
    zero: u64,
    /// Elements whose rounded `x * 2^scf` left INT16.
    clamped: u64,
    /// `|x - dequantized| / max|x|` of every element of a nonzero tensor.
    rel: Tally,
    /// Sum of the squared errors.
    err2: f64,
    /// Sum of the squared values.
    x2: f64,
}

impl QuantStats {
    /// No tensor yet.
    const EMPTY: QuantStats = QuantStats {
        tensors: 0,
        zero: 0,
        clamped: 0,
        rel: Tally::EMPTY,
        err2: 0.0,
        x2: 0.0,
    };

    /// The error of the tensor `t` quantized from the values `v`.
    fn of(v: &[f32], t: &dfp::DfpTensor) -> Self {
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let mut q = QuantStats::EMPTY;
        if max == 0.0 {
            q.zero = 1;
            return q;
        }
        q.tensors = 1;
        let step = pow2(-t.scf);
        for (&x, &c) in v.iter().zip(&t.q) {
            let x = x as f64;
            let e = (x - c as f64 * step).abs();
            // x * 2^scf is exact in f64; q is its rounding clamped to INT16.
            let r = (x / step).round_ties_even();
            q.clamped += (!(-32768.0..=32767.0).contains(&r)) as u64;
            q.rel = q.rel.add(e / max);
            q.err2 += e * e;
            q.x2 += x * x;
        }
        q
    }

    /// The error of both sets of tensors.
    fn merge(self, o: Self) -> Self {
        QuantStats {
            tensors: self.tensors + o.tensors,
            zero: self.zero + o.zero,
            clamped: self.clamped + o.clamped,
            rel: self.rel.merge(o.rel),
            err2: self.err2 + o.err2,
            x2: self.x2 + o.x2,
        }
    }
}

/// The DFP-16 study: quantization error per headroom (`dfp_quant_error`) and, for chunked
/// INT32 dot products, the fraction of chunks that overflow and the resulting error per chunk
/// length, headroom and mode (`dfp_overflow`).
///
/// `ceil(samples / 8192)` dot products of two vectors of 4096 source values (as float32); each
/// vector is a DFP-16 tensor with its own shared exponent. The quantization table covers
/// every vector.
pub fn dfp_study(o: &Opts) -> Result<Vec<Table>> {
    unscaled(o, "dfp", "each tensor by its shared exponent")?;
    let n = check_samples(o)?;
    let dots = n.div_ceil(2 * DFP_LEN);
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let vals = to_f32(
        &o.source.sample(2 * dots * DFP_LEN, &mut rng)?,
        &o.source.describe(),
    )?;
    let vectors: Vec<&[f32]> = vals.chunks_exact(DFP_LEN).collect();

    let mut qt = Table::new(
        "dfp_quant_error",
        "DFP-16 quantization error per headroom, relative to each tensor's largest magnitude",
        &[
            "headroom",
            "tensors",
            "elements",
            "excluded_zero_tensors",
            "clamped",
            "mean_abs_err_rel_max",
            "max_abs_err_rel_max",
            "bound_rel_max",
            "rms_err_rel_rms",
            "sqnr_db",
        ],
    );
    let mut ot = Table::new(
        "dfp_overflow",
        "Chunked DFP-16 dot products: INT32 chunk overflow and the dot-product error",
        &[
            "chunk",
            "headroom",
            "mode",
            "dots",
            "chunks",
            "overflowed_chunks",
            "overflow_fraction",
            "transient_overflow_fraction",
            "excluded",
            "mean_norm_err",
            "max_norm_err",
        ],
    );

    // Per headroom: the tensors, the norm of each dequantized tensor, the exact dots.
    let mut quantized: Vec<Vec<dfp::DfpTensor>> = Vec::new();
    for h in 0..=dfp::MAX_HEADROOM {
        let ts = vectors
            .par_iter()
            .map(|v| dfp::quantize(v, h))
            .collect::<Result<Vec<_>>>()?;
        let q = vectors
            .par_iter()
            .zip(&ts)
            .map(|(v, t)| QuantStats::of(v, t))
            .reduce(|| QuantStats::EMPTY, QuantStats::merge);
        let rms = (q.err2 / q.x2).sqrt();
        qt.push(vec![
            json!(h),
            json!(q.tensors),
            json!(q.rel.n),
            json!(q.zero),
            json!(q.clamped),
            fnum(q.rel.mean()),
            fnum(q.rel.largest()),
            fnum(pow2(h as i32 - 15)),
            fnum(rms),
            fnum(-20.0 * rms.log10()),
        ])?;
        quantized.push(ts);
    }

    // Per headroom and dot: the exact dot of the dequantized inputs (an integer sum scaled by
    // a power of two, exact in f64) and the product of their norms.
    let refs: Vec<Vec<(f64, f64)>> = quantized
        .iter()
        .map(|ts| {
            (0..dots)
                .into_par_iter()
                .map(|d| {
                    let (a, b) = (&ts[2 * d], &ts[2 * d + 1]);
                    let s: i64 =
                        a.q.iter()
                            .zip(&b.q)
                            .map(|(&x, &y)| x as i64 * y as i64)
                            .sum();
                    let nrm = |t: &dfp::DfpTensor| {
                        (t.q.iter().map(|&v| v as f64 * v as f64).sum::<f64>()).sqrt()
                            * pow2(-t.scf)
                    };
                    (s as f64 * pow2(-(a.scf + b.scf)), nrm(a) * nrm(b))
                })
                .collect()
        })
        .collect();
    for &chunk in &DFP_CHUNKS {
        for (h, (ts, refs)) in quantized.iter().zip(&refs).enumerate() {
            for mode in Mode::ALL {
                let res = (0..dots)
                    .into_par_iter()
                    .map(|d| dfp::dot(&ts[2 * d], &ts[2 * d + 1], chunk, mode))
                    .collect::<Result<Vec<_>>>()?;
                let (mut chunks, mut over, mut trans) = (0usize, 0usize, 0usize);
                let mut st = DotStats::EMPTY;
                for (r, &(exact, nrm)) in res.iter().zip(refs) {
                    chunks += r.chunks;
                    over += r.overflowed_chunks;
                    trans += r.transient_overflow_chunks;
                    let ok = r.value.is_finite() && nrm > 0.0;
                    st = st.add(ok.then(|| (r.value as f64 - exact).abs() / nrm));
                }
                ot.push(vec![
                    json!(chunk),
                    json!(h),
                    json!(mode.policy_name()),
                    json!(st.err.n),
                    json!(chunks),
                    json!(over),
                    fnum(over as f64 / chunks as f64),
                    fnum(trans as f64 / chunks as f64),
                    json!(st.excluded),
                    fnum(st.err.mean()),
                    fnum(st.err.largest()),
                ])?;
            }
        }
    }

    let what = format!(
        "{} values as float32 (round to nearest even): {} vectors of {DFP_LEN}, paired into \
         {dots} dot products (ceil(samples / {}))",
        vals.len(),
        vectors.len(),
        2 * DFP_LEN
    );
    qt.provenance = common_provenance(o, &what);
    qt.provenance.extend([
        "reference model: pelab_sim::int16fma::dfp::quantize (shared exponent from frexp of \
         the tensor's largest magnitude, scf = 15 - headroom - e, q = round to nearest even of \
         x * 2^scf clamped to INT16) and dfp::dequantize"
            .into(),
        "each vector of 4096 is one tensor with its own shared exponent; all-zero tensors are \
         excluded and counted"
            .into(),
        "mean/max_abs_err_rel_max: |x - dequantized| / max|x| of the tensor; bound_rel_max = \
         2^(headroom - 15), the half-step bound relative to the largest magnitude"
            .into(),
        "rms_err_rel_rms = sqrt(sum err^2 / sum x^2); sqnr_db = -20 log10 of it; clamped: \
         elements whose rounded x * 2^scf left INT16"
            .into(),
    ]);
    ot.provenance = common_provenance(o, &what);
    ot.provenance.extend([
        "reference model: pelab_sim::int16fma::dfp::dot: pairs of elements through VPDPWSSD \
         (wrap) or VPDPWSSDS (saturate) into an INT32 accumulator per chunk of `chunk` \
         elements, each chunk converted to FP32, scaled by 2^-(scf_a + scf_b) and summed in \
         FP32"
            .into(),
        "overflow_fraction: chunks whose exact integer sum left INT32 / all chunks; \
         transient_overflow_fraction: chunks whose running sum left INT32 at some step"
            .into(),
        "error: |dot - exact| / (|a|*|b|), exact = the dot of the dequantized inputs (an \
         exact integer sum scaled by a power of two, exact in f64), norms of the dequantized \
         inputs; dots with a zero norm or a non-finite result are excluded and counted"
            .into(),
    ]);
    Ok(vec![qt, ot])
}
