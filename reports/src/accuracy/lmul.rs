//! The L-Mul study: L-Mul and the exact multiply against exact arithmetic, elementwise and in
//! dot products accumulated in FP32.

use super::{check_samples, common_provenance, DotStats, Opts, Tally};
use crate::table::fnum;
use crate::Table;
use pelab_sim::format::{Format, Overflow, Rounding};
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
/// (`err`, their magnitudes `abs`), the method's own relative errors (`meth`), and the pairs
/// left out.
#[derive(Debug, Clone, Copy)]
struct ElemStats {
    err: Tally,
    abs: Tally,
    meth: Tally,
    zero: u64,
    nonfinite: u64,
}

impl ElemStats {
    /// No pair yet.
    const EMPTY: ElemStats = ElemStats {
        err: Tally::EMPTY,
        abs: Tally::EMPTY,
        meth: Tally::EMPTY,
        zero: 0,
        nonfinite: 0,
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

    let mut conv: HashMap<(Format, Rounding), (Vec<u16>, Vec<u16>)> = HashMap::new();
    let mut tables: HashMap<Format, Vec<f64>> = HashMap::new();
    for m in &methods {
        if let std::collections::hash_map::Entry::Vacant(e) = conv.entry((m.fmt, m.conv)) {
            e.insert((convert(&m.fmt, &x, m.conv)?, convert(&m.fmt, &y, m.conv)?));
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
            "samples",
            "excluded_zero",
            "excluded_nonfinite",
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
        let mut out = vec![0u16; pool];
        match m.op {
            Op::Lmul => lmul_slice(&m.fmt, Overflow::Saturate, cx, cy, &mut out),
            Op::Fpmul => fpmul_slice(&m.fmt, Overflow::Saturate, cx, cy, &mut out),
        }
        let r: Vec<f64> = out.par_iter().map(|&c| t[c as usize]).collect();
        let s = (0..n)
            .into_par_iter()
            .fold(
                || ElemStats::EMPTY,
                |s, i| s.add(x[i] * y[i], t[cx[i] as usize] * t[cy[i] as usize], r[i]),
            )
            .reduce(|| ElemStats::EMPTY, ElemStats::merge);
        let head = [
            json!(m.op.name()),
            json!(format!("e{}m{}", m.fmt.e, m.fmt.m)),
            json!(m.fmt.m),
            json!(m.conv.name()),
        ];
        let mut row = head.to_vec();
        row.extend([
            json!(s.err.n),
            json!(s.zero),
            json!(s.nonfinite),
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
                        // Every product is an f32 value (the formats' values all are), so the
                        // cast is exact; the additions are IEEE binary32, round to nearest even.
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
    elem.provenance =
        common_provenance(o, &format!("{n} pairs (x, y) of consecutive source values"));
    elem.provenance.extend([
        models.to_string(),
        conversion.to_string(),
        "error: (result - P) / P with P = x*y in f64 (relative rounding error at most \
         2^-53, far below the errors measured): positive when the result is too large in \
         magnitude (its sign is always P's); pairs with P = 0 (excluded_zero) or a \
         non-finite P or result (excluded_nonfinite) are left out and counted"
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
        "accumulation: products summed in order in FP32 starting at +0 (IEEE binary32 \
         addition, round to nearest even: the fp32acc PE's arithmetic)"
            .into(),
        "error: |dot - exact| / (|a|*|b|), exact = the dot of the unconverted values in f64 \
         with error-free FMA products and compensated summation (Dot2); dots with a \
         non-finite result or a zero norm are excluded and counted"
            .into(),
    ]);
    Ok(vec![elem, dot])
}
