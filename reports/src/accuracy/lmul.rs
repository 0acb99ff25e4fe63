//! The L-Mul study: L-Mul and the exact multiply against exact arithmetic, elementwise and in
//! dot products accumulated in FP32.

use super::{check_samples, common_provenance, DotStats, Opts, Scale, Tally};
use crate::table::fnum;
use crate::Table;
use pelab_sim::format::{pow2, Format, Overflow, Rounding};
use pelab_sim::fpmul::fpmul_slice;
use pelab_sim::lmul::lmul_slice;
use pelab_sim::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashMap;

/// The default `samples`: pairs (x, y).
pub(super) const DEFAULT_SAMPLES: usize = 1_000_000;

/// Dot-product lengths of the lmul study.
const DOT_LENGTHS: [usize; 3] = [16, 256, 4096];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lmul,
    Fpmul,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Lmul => "lmul",
            Op::Fpmul => "fpmul",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Method {
    op: Op,
    fmt: Format,
    conv: Rounding,
}

/// L-Mul in e8m1..e8m7 with truncated and rounded inputs; the exact multiply in e4m3 and e5m2
/// (rounded inputs) and in e8m1..e8m7 (both conversions).
fn lmul_methods() -> Result<Vec<Method>> {
    let e8_both = |op: Op| -> Result<Vec<Method>> {
        let mut v = Vec::new();
        for m in 1..=7 {
            let fmt = Format::custom(8, m)?;
            for conv in [Rounding::TowardZero, Rounding::NearestEven] {
                v.push(Method { op, fmt, conv });
            }
        }
        Ok(v)
    };
    let mut v = e8_both(Op::Lmul)?;
    v.extend([Format::E4M3, Format::E5M2].map(|fmt| Method {
        op: Op::Fpmul,
        fmt,
        conv: Rounding::NearestEven,
    }));
    v.extend(e8_both(Op::Fpmul)?);
    Ok(v)
}

/// Elementwise error statistics of one method: the relative errors against the exact product
/// (`err`, their magnitudes `abs`), the method's own relative errors (`meth`), the pairs left
/// out, and the pairs whose result is zero although their exact product is not (`flushed`).
#[derive(Debug, Clone, Copy)]
struct ElemStats {
    err: Tally,
    abs: Tally,
    meth: Tally,
    zero: u64,
    nonfinite: u64,
    flushed: u64,
}

impl ElemStats {
    /// No pair yet.
    const EMPTY: ElemStats = ElemStats {
        err: Tally::EMPTY,
        abs: Tally::EMPTY,
        meth: Tally::EMPTY,
        zero: 0,
        nonfinite: 0,
        flushed: 0,
    };

    /// One pair: `p` the exact product of the real values, `q` the exact product of the
    /// converted inputs, `r` the method's result.
    fn add(mut self, p: f64, q: f64, r: f64) -> Self {
        if !(p.is_finite() && r.is_finite()) {
            self.nonfinite += 1;
            return self;
        }
        if p == 0.0 {
            self.zero += 1;
            return self;
        }
        if r == 0.0 {
            self.flushed += 1;
        }
        let e = (r - p) / p;
        self.err = self.err.add(e);
        self.abs = self.abs.add(e.abs());
        if q != 0.0 && q.is_finite() {
            self.meth = self.meth.add((r - q) / q);
        }
        self
    }

    /// The statistics of both sets of pairs.
    fn merge(self, o: Self) -> Self {
        ElemStats {
            err: self.err.merge(o.err),
            abs: self.abs.merge(o.abs),
            meth: self.meth.merge(o.meth),
            zero: self.zero + o.zero,
            nonfinite: self.nonfinite + o.nonfinite,
            flushed: self.flushed + o.flushed,
        }
    }
}

/// `a + b` as the rounded sum and its exact error (Knuth's TwoSum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// The dot product of `x` and `y` in f64 with error-free products (FMA) and compensated
/// summation (Ogita, Rump and Oishi's Dot2): as accurate as if computed with twice the f64
/// precision, then rounded.
pub fn exact_dot(x: &[f64], y: &[f64]) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(y) {
        let p = a * b;
        let pe = a.mul_add(b, -p);
        let (t, e) = two_sum(s, p);
        s = t;
        c += e + pe;
    }
    s + c
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// `x * 2^e`, exact whenever the result is a normal f64 (also for |e| beyond f64's exponent
/// range, by steps that move toward the result).
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e)
}

/// Whether `a * a <= limit`, decided exactly (the rounded square and its FMA residual).
fn square_at_most(a: f64, limit: f64) -> bool {
    let p = a * a;
    if !p.is_finite() || p != limit {
        return p < limit;
    }
    a.mul_add(a, -p) <= 0.0
}

/// The exponent `s` of the amax scale 2^s of a tensor whose largest finite magnitude is
/// `amax`, for a format whose largest finite value is `max_finite`: the largest `s` with
/// `(amax * 2^s)^2 <= max_finite`, so that no product of two scaled tensors leaves the format.
/// 0 when the tensor has no finite nonzero value.
pub(super) fn amax_exponent(amax: f64, max_finite: f64) -> i32 {
    if !(amax > 0.0 && amax.is_finite()) {
        return 0;
    }
    let fits = |s: i32| square_at_most(ldexp(amax, s), max_finite);
    let mut s = (0.5 * max_finite.log2() - amax.log2()).floor() as i32;
    while !fits(s) {
        s -= 1;
    }
    while fits(s + 1) {
        s += 1;
    }
    s
}

/// The largest finite magnitude of `v` (0 when there is none).
fn amax(v: &[f64]) -> f64 {
    v.iter()
        .filter(|x| x.is_finite())
        .fold(0.0f64, |m, x| m.max(x.abs()))
}

/// Converts values into `fmt` (saturating) with `mode`, in parallel.
fn convert(fmt: &Format, v: &[f64], mode: Rounding) -> Result<Vec<u16>> {
    v.par_iter()
        .map(|&x| fmt.from_f64(x, mode, Overflow::Saturate).map(|c| c as u16))
        .collect()
}

/// The value of every code of a format of at most 16 bits.
fn decode_table(fmt: &Format) -> Vec<f64> {
    (0..1u64 << fmt.width()).map(|c| fmt.to_f64(c)).collect()
}

/// The L-Mul study: elementwise errors against the exact product (`lmul_elementwise`) and
/// dot-product errors with FP32 accumulation (`lmul_dot`).
///
/// `samples` pairs (x, y) of consecutive source values are converted into each format, by
/// truncation (rtz) and by round to nearest even (rne), saturating; L-Mul and the exact
/// multiply run on the codes; results are decoded exactly. The dot products cut
/// `max(samples, 4096)` pairs into consecutive vectors of each length K.
pub fn lmul_study(o: &Opts) -> Result<Vec<Table>> {
    let n = check_samples(o)?;
    let pool = n.max(*DOT_LENGTHS.iter().max().unwrap());
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let v = o.source.sample(2 * pool, &mut rng)?;
    let (x, y): (Vec<f64>, Vec<f64>) = v.chunks_exact(2).map(|c| (c[0], c[1])).unzip();
    let methods = lmul_methods()?;
    let (amax_x, amax_y) = (amax(&x), amax(&y));

    // Per format: the scale exponents (s, t) of x and y, and the values' codes.
    let mut scales: HashMap<Format, (i32, i32)> = HashMap::new();
    let mut conv: HashMap<(Format, Rounding), (Vec<u16>, Vec<u16>)> = HashMap::new();
    let mut tables: HashMap<Format, Vec<f64>> = HashMap::new();
    for m in &methods {
        let (s, t) = *scales.entry(m.fmt).or_insert_with(|| match o.scale {
            Scale::None => (0, 0),
            Scale::Amax => {
                let mf = m.fmt.to_f64(m.fmt.max_finite());
                (amax_exponent(amax_x, mf), amax_exponent(amax_y, mf))
            }
        });
        if let std::collections::hash_map::Entry::Vacant(e) = conv.entry((m.fmt, m.conv)) {
            let scaled =
                |v: &[f64], s: i32| -> Vec<f64> { v.par_iter().map(|&a| ldexp(a, s)).collect() };
            e.insert((
                convert(&m.fmt, &scaled(&x, s), m.conv)?,
                convert(&m.fmt, &scaled(&y, t), m.conv)?,
            ));
        }
        tables.entry(m.fmt).or_insert_with(|| decode_table(&m.fmt));
    }

    // Exact dot and norm product of every dot product, per length.
    let refs: Vec<Vec<(f64, f64)>> = DOT_LENGTHS
        .iter()
        .map(|&k| {
            (0..pool / k)
                .into_par_iter()
                .map(|d| {
                    let (a, b) = (&x[d * k..(d + 1) * k], &y[d * k..(d + 1) * k]);
                    (exact_dot(a, b), norm(a) * norm(b))
                })
                .collect()
        })
        .collect();

    let mut elem = Table::new(
        "lmul_elementwise",
        "L-Mul and the exact multiply against the exact product of the real values, elementwise",
        &[
            "method",
            "format",
            "mantissa_bits",
            "conversion",
            "scale",
            "scale_x_log2",
            "scale_y_log2",
            "samples",
            "excluded_zero",
            "excluded_nonfinite",
            "flushed_to_zero",
            "mean_abs_rel_err",
            "max_abs_rel_err",
            "mean_rel_err",
            "method_err_min",
            "method_err_max",
        ],
    );
    let mut dot = Table::new(
        "lmul_dot",
        "Dot products of L-Mul or exact products accumulated in FP32, against the exact dot",
        &[
            "method",
            "format",
            "mantissa_bits",
            "conversion",
            "scale",
            "scale_x_log2",
            "scale_y_log2",
            "k",
            "dots",
            "excluded",
            "mean_norm_err",
            "max_norm_err",
        ],
    );

    for m in &methods {
        let (cx, cy) = &conv[&(m.fmt, m.conv)];
        let t = &tables[&m.fmt];
        let (sx, sy) = scales[&m.fmt];
        // Results and converted products are divided by both scales (exactly: a power of two).
        let descale = -(sx + sy);
        let mut out = vec![0u16; pool];
        match m.op {
            Op::Lmul => lmul_slice(&m.fmt, Overflow::Saturate, cx, cy, &mut out),
            Op::Fpmul => fpmul_slice(&m.fmt, Overflow::Saturate, cx, cy, &mut out),
        }
        let r: Vec<f64> = out
            .par_iter()
            .map(|&c| ldexp(t[c as usize], descale))
            .collect();
        let s = (0..n)
            .into_par_iter()
            .fold(
                || ElemStats::EMPTY,
                |s, i| {
                    let q = ldexp(t[cx[i] as usize] * t[cy[i] as usize], descale);
                    s.add(x[i] * y[i], q, r[i])
                },
            )
            .reduce(|| ElemStats::EMPTY, ElemStats::merge);
        let head = [
            json!(m.op.name()),
            json!(format!("e{}m{}", m.fmt.e, m.fmt.m)),
            json!(m.fmt.m),
            json!(m.conv.name()),
            json!(o.scale.name()),
            json!(sx),
            json!(sy),
        ];
        let mut row = head.to_vec();
        row.extend([
            json!(s.err.n),
            json!(s.zero),
            json!(s.nonfinite),
            json!(s.flushed),
            fnum(s.abs.mean()),
            fnum(s.abs.largest()),
            fnum(s.err.mean()),
            fnum(s.meth.min),
            fnum(s.meth.max),
        ]);
        elem.push(row)?;

        for (ki, &k) in DOT_LENGTHS.iter().enumerate() {
            let ds = refs[ki]
                .par_iter()
                .enumerate()
                .fold(
                    || DotStats::EMPTY,
                    |st, (d, &(exact, nrm))| {
                        // Every product is an f32 value (the formats' values all are, and a
                        // descaled one is such a value times a power of two), so the cast is
                        // exact within f32's range; the additions are IEEE binary32, round to
                        // nearest even.
                        let acc = r[d * k..(d + 1) * k]
                            .iter()
                            .fold(0f32, |acc, &p| acc + p as f32);
                        let ok =
                            acc.is_finite() && exact.is_finite() && nrm > 0.0 && nrm.is_finite();
                        st.add(ok.then(|| (acc as f64 - exact).abs() / nrm))
                    },
                )
                .reduce(|| DotStats::EMPTY, DotStats::merge);
            let mut row = head.to_vec();
            row.extend([
                json!(k),
                json!(ds.err.n),
                json!(ds.excluded),
                fnum(ds.err.mean()),
                fnum(ds.err.largest()),
            ]);
            dot.push(row)?;
        }
    }

    let models = "reference models: pelab_sim::lmul::lmul_slice (L-Mul, the integer add of the \
                  paper's kernel, overflow saturate) and pelab_sim::fpmul::fpmul_slice (exact \
                  product rounded to nearest even, overflow saturate)";
    let conversion = "conversion: each real value into the format with Format::from_f64, by \
                      truncation (rtz) or round to nearest even (rne), overflow saturate; \
                      results decoded exactly with Format::to_f64";
    let scaling = match o.scale {
        Scale::None => "scale: none (values converted as they are; scale_x_log2 = \
                        scale_y_log2 = 0)"
            .to_string(),
        Scale::Amax => {
            let mut per: Vec<(String, i32, i32)> = scales
                .iter()
                .map(|(f, &(s, t))| (format!("e{}m{}", f.e, f.m), s, t))
                .collect();
            per.sort();
            format!(
                "scale: amax, per format: x times 2^s and y times 2^t before conversion, the \
                 largest powers of two with (amax*2^s)^2 and (amax*2^t)^2 at most the format's \
                 largest finite value, so no product of scaled values overflows; amax = \
                 largest finite |x| = {amax_x}, largest finite |y| = {amax_y} over the {pool} \
                 drawn pairs; results and converted products divided by 2^(s+t) exactly; {}",
                per.iter()
                    .map(|(f, s, t)| format!("{f}: x 2^{s}, y 2^{t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    elem.provenance =
        common_provenance(o, &format!("{n} pairs (x, y) of consecutive source values"));
    elem.provenance.extend([
        models.to_string(),
        conversion.to_string(),
        scaling.clone(),
        "error: (result - P) / P with P = x*y in f64 (relative rounding error at most \
         2^-53, far below the errors measured): positive when the result is too large in \
         magnitude (its sign is always P's); pairs with P = 0 (excluded_zero) or a \
         non-finite P or result (excluded_nonfinite) are left out and counted; \
         flushed_to_zero counts the pairs kept whose result is 0 (e = -1: an input or the \
         product underflowed)"
            .into(),
        "method_err_min/max: (result - Q) / Q with Q the exact product of the converted \
         inputs (the method alone, conversion excluded; pairs with Q = 0 left out)"
            .into(),
        "e4m3 (OCP E4M3FN) and e5m2 rows are exact-multiply baselines; L-Mul runs in e8mM \
         (fp32's exponent range, M mantissa bits; e8m7 is bf16)"
            .into(),
    ]);
    dot.provenance = common_provenance(
        o,
        &format!(
            "{pool} pairs (x, y) of consecutive source values cut into consecutive vectors of \
             length k ({} dots at k = 16, 256, 4096)",
            DOT_LENGTHS
                .iter()
                .map(|k| (pool / k).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    dot.provenance.extend([
        models.to_string(),
        conversion.to_string(),
        scaling,
        "accumulation: products (divided by 2^(s+t) when scaled) summed in order in FP32 \
         starting at +0 (IEEE binary32 addition, round to nearest even: the fp32acc PE's \
         arithmetic)"
            .into(),
        "error: |dot - exact| / (|a|*|b|), exact = the dot of the unconverted values in f64 \
         with error-free FMA products and compensated summation (Dot2); dots with a \
         non-finite result or a zero norm are excluded and counted"
            .into(),
    ]);
    Ok(vec![elem, dot])
}
