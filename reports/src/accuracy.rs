//! Accuracy studies: how far L-Mul, BitMoD's weight quantizer and DFP-16 land from exact
//! arithmetic on values drawn from a distribution or read from a `.npy` file.
//!
//! Each study returns [`Table`]s; their provenance lines name the value source, the sizes, the
//! seed, the reference model and the conversions used. `docs/accuracy.md` defines every
//! column. Studies are found by name ([`study`], [`STUDIES`]), so the command line names none.

use crate::Table;
use pelab_sim::bitmod::{quantize_channel, CandidateSet, ALL_SETS};
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::fpmul::fpmul_slice;
use pelab_sim::int16fma::{dfp, Mode};
use pelab_sim::lmul::lmul_slice;
use pelab_sim::samples::Dist;
use pelab_sim::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The studies, by name.
pub const STUDIES: &[&str] = &["lmul", "bitmod", "dfp"];

/// The value sources [`Source::parse`] accepts, for messages.
const SOURCES: &str = "gaussian, uniform, loguniform, student-t:NU (NU > 0), file:PATH.npy";

/// Where a study's real values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// One of the operand distributions of `pelab_sim::samples`.
    Dist(Dist),
    /// Student's t distribution with `nu` degrees of freedom (heavy tails for small `nu`).
    StudentT(f64),
    /// The values of a `.npy` file (float32 or float64), in file order.
    Npy(PathBuf),
}

impl Source {
    /// Parses `gaussian`, `uniform`, `loguniform`, `student-t:NU` or `file:PATH.npy`; the
    /// error lists the valid forms.
    pub fn parse(s: &str) -> Result<Source> {
        if let Some(nu) = s.strip_prefix("student-t:") {
            return match nu.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok(Source::StudentT(v)),
                _ => Err(Error::new(format!(
                    "'{s}': the degrees of freedom NU of student-t:NU must be a positive \
                     number, e.g. student-t:3"
                ))),
            };
        }
        if let Some(p) = s.strip_prefix("file:") {
            if p.is_empty() {
                return Err(Error::new(
                    format!("'file:' needs the path of a .npy file (file:PATH.npy); valid sources: {SOURCES}"),
                ));
            }
            return Ok(Source::Npy(PathBuf::from(p)));
        }
        Dist::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .map(Source::Dist)
            .ok_or_else(|| Error::new(format!("unknown value source '{s}'; valid: {SOURCES}")))
    }

    /// One line saying what the values are.
    pub fn describe(&self) -> String {
        match self {
            Source::Dist(Dist::Gaussian) => "gaussian: N(0, 1)".into(),
            Source::Dist(Dist::Uniform) => "uniform: U[-1, 1)".into(),
            Source::Dist(Dist::LogUniform) => {
                "loguniform: random sign, magnitude 2^u with u ~ U[-8, 8)".into()
            }
            Source::StudentT(nu) => {
                format!("student-t:{nu}: Student's t with {nu} degrees of freedom")
            }
            Source::Npy(p) => format!("file {}: its values in file order", p.display()),
        }
    }

    /// `n` values: drawn from the distribution with `rng`, or a file's values in file order,
    /// cycled when the file holds fewer than `n`.
    pub fn sample<R: Rng>(&self, n: usize, rng: &mut R) -> Result<Vec<f64>> {
        match self {
            Source::Dist(d) => Ok((0..n).map(|_| d.value(rng)).collect()),
            Source::StudentT(nu) => {
                use rand_distr::Distribution;
                let t = rand_distr::StudentT::new(*nu).map_err(|e| {
                    Error::new(format!("student-t with {nu} degrees of freedom: {e}"))
                })?;
                Ok((0..n).map(|_| t.sample(rng)).collect())
            }
            Source::Npy(p) => {
                let a = read_npy(p)?;
                if a.data.is_empty() {
                    return Err(Error::new(format!(
                        "{}: the array holds no value (shape {:?}); expected at least one",
                        p.display(),
                        a.shape
                    )));
                }
                Ok(a.data.iter().copied().cycle().take(n).collect())
            }
        }
    }
}

/// What a `.npy` file must hold, for messages.
const NPY_EXPECTED: &str = "expected a NumPy .npy file holding a float32 or float64 array";

/// An array read from a `.npy` file, its values widened to `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape as written in the header.
    pub shape: Vec<usize>,
    /// The NumPy type string (`<f4`, `<f8`, `>f4`...).
    pub dtype: String,
    /// True when the file stores the array in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The values in file (storage) order.
    pub data: Vec<f64>,
}

impl NpyArray {
    /// The rows of a 2-D array (row `r` holds elements `[r, 0..cols]`) as `f32`; any other
    /// rank, an empty dimension or a float64 value beyond the float32 range is an error that
    /// names `path`.
    pub fn rows(&self, path: &Path) -> Result<Vec<Vec<f32>>> {
        let p = path.display();
        let [rows, cols] = self.shape[..] else {
            return Err(Error::new(format!(
                "{p}: a {}-D array of shape {:?}; expected a 2-D weight matrix \
                 (rows = output channels, columns = inputs)",
                self.shape.len(),
                self.shape
            )));
        };
        if rows == 0 || cols == 0 {
            return Err(Error::new(format!(
                "{p}: the matrix has shape {:?}; expected at least one row and one column",
                self.shape
            )));
        }
        let at = |r: usize, c: usize| {
            if self.fortran_order {
                self.data[c * rows + r]
            } else {
                self.data[r * cols + c]
            }
        };
        (0..rows)
            .map(|r| {
                (0..cols)
                    .map(|c| {
                        let v = at(r, c);
                        let w = v as f32;
                        if w.is_finite() {
                            Ok(w)
                        } else {
                            Err(Error::new(format!(
                                "{p}: element [{r}, {c}] is {v}; weights must be finite \
                                 float32 values"
                            )))
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Reads a `.npy` file holding a float32 or float64 array (any byte order, C or Fortran
/// order). A missing file, a malformed header, another dtype, or a data section shorter or
/// longer than the header announces is an error naming the file and what was expected.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    let p = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read {p}: {e} ({NPY_EXPECTED})")))?;
    let file = npyz::NpyFile::new(&bytes[..]).map_err(|e| {
        Error::new(format!(
            "{p} is not a valid .npy file: {e} ({NPY_EXPECTED})"
        ))
    })?;
    let header = file.header().clone();
    let (dtype, size) = match header.dtype() {
        npyz::DType::Plain(ts)
            if ts.type_char() == npyz::TypeChar::Float && matches!(ts.size_field(), 4 | 8) =>
        {
            (ts.to_string(), ts.size_field() as usize)
        }
        other => {
            let what = match other {
                npyz::DType::Plain(ts) => format!("dtype '{ts}'"),
                _ => format!("a structured dtype {}", other.descr()),
            };
            return Err(Error::new(format!(
                "{p}: {what}; {NPY_EXPECTED} (dtype '<f4' or '<f8')"
            )));
        }
    };
    let shape: Vec<usize> = header.shape().iter().map(|&d| d as usize).collect();
    let fortran_order = header.order() == npyz::Order::Fortran;
    let rest: &[u8] = file.into_inner();
    let need = (header.len() as usize).checked_mul(size);
    if need != Some(rest.len()) {
        let (need, why) = match need {
            Some(n) if rest.len() < n => (n.to_string(), "the file is truncated"),
            Some(n) => (n.to_string(), "extra bytes follow the data"),
            None => ("too many".to_string(), "the shape is too large"),
        };
        return Err(Error::new(format!(
            "{p}: the header announces shape {shape:?} of {dtype} ({need} data bytes) but {} \
             data bytes follow it ({why}); {NPY_EXPECTED}",
            rest.len()
        )));
    }
    let data_err = |e: std::io::Error| Error::new(format!("{p}: cannot decode the data: {e}"));
    let f = npyz::NpyFile::with_header(header, rest);
    let data = if size == 4 {
        f.into_vec::<f32>()
            .map_err(data_err)?
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        f.into_vec::<f64>().map_err(data_err)?
    };
    Ok(NpyArray {
        shape,
        dtype,
        fortran_order,
        data,
    })
}

/// Options shared by the studies.
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    /// Where the values come from.
    pub source: Source,
    /// How many values the study draws (each study says how it uses them; see
    /// [`default_samples`]).
    pub samples: usize,
    /// Seed of the random source (ChaCha8).
    pub seed: u64,
}

/// The default `samples` of a study: lmul 1,000,000 pairs, bitmod 128 x 4096 weights, dfp
/// 2 x 256 x 4096 values (256 dot products of two vectors of 4096).
pub fn default_samples(study: &str) -> Result<usize> {
    match study {
        "lmul" => Ok(1_000_000),
        "bitmod" => Ok(128 * 4096),
        "dfp" => Ok(2 * 256 * DFP_LEN),
        _ => Err(unknown_study(study)),
    }
}

fn unknown_study(name: &str) -> Error {
    Error::new(format!(
        "unknown study '{name}'; valid: {}",
        STUDIES.join(", ")
    ))
}

/// Runs a study by name (one of [`STUDIES`]); the error lists them.
pub fn study(name: &str, o: &Opts) -> Result<Vec<Table>> {
    match name {
        "lmul" => lmul_study(o),
        "bitmod" => bitmod_study(o),
        "dfp" => dfp_study(o),
        _ => Err(unknown_study(name)),
    }
}

fn check_samples(o: &Opts) -> Result<usize> {
    if o.samples == 0 {
        return Err(Error::new("samples must be at least 1"));
    }
    Ok(o.samples)
}

/// A JSON number, or null for NaN and infinities (which JSON cannot hold).
fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// Provenance lines every table of a study starts with.
fn common_provenance(o: &Opts, what: &str) -> Vec<String> {
    vec![
        format!("source: {}", o.source.describe()),
        format!("samples: {what}"),
        format!("seed: {} (ChaCha8; unused for file sources)", o.seed),
    ]
}

// ---------------------------------------------------------------------------------------------
// L-Mul

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
    let convs = [Rounding::TowardZero, Rounding::NearestEven];
    let mut v = Vec::new();
    for m in 1..=7 {
        let fmt = Format::custom(8, m)?;
        for conv in convs {
            v.push(Method {
                op: Op::Lmul,
                fmt,
                conv,
            });
        }
    }
    for fmt in [Format::E4M3, Format::E5M2] {
        v.push(Method {
            op: Op::Fpmul,
            fmt,
            conv: Rounding::NearestEven,
        });
    }
    for m in 1..=7 {
        let fmt = Format::custom(8, m)?;
        for conv in convs {
            v.push(Method {
                op: Op::Fpmul,
                fmt,
                conv,
            });
        }
    }
    Ok(v)
}

/// Elementwise error statistics of one method.
#[derive(Debug, Clone, Copy)]
struct ElemStats {
    used: u64,
    zero: u64,
    nonfinite: u64,
    sum_abs: f64,
    max_abs: f64,
    sum: f64,
    meth_min: f64,
    meth_max: f64,
}

impl ElemStats {
    fn new() -> Self {
        ElemStats {
            used: 0,
            zero: 0,
            nonfinite: 0,
            sum_abs: 0.0,
            max_abs: 0.0,
            sum: 0.0,
            meth_min: f64::INFINITY,
            meth_max: f64::NEG_INFINITY,
        }
    }

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
        self.used += 1;
        self.sum += e;
        self.sum_abs += e.abs();
        self.max_abs = self.max_abs.max(e.abs());
        if q != 0.0 && q.is_finite() {
            let me = (r - q) / q;
            self.meth_min = self.meth_min.min(me);
            self.meth_max = self.meth_max.max(me);
        }
        self
    }

    fn merge(self, o: Self) -> Self {
        ElemStats {
            used: self.used + o.used,
            zero: self.zero + o.zero,
            nonfinite: self.nonfinite + o.nonfinite,
            sum_abs: self.sum_abs + o.sum_abs,
            max_abs: self.max_abs.max(o.max_abs),
            sum: self.sum + o.sum,
            meth_min: self.meth_min.min(o.meth_min),
            meth_max: self.meth_max.max(o.meth_max),
        }
    }
}

/// Error statistics of a set of dot products (errors already normalized).
#[derive(Debug, Clone, Copy, Default)]
struct DotStats {
    dots: u64,
    excluded: u64,
    sum: f64,
    max: f64,
}

impl DotStats {
    fn add(mut self, err: Option<f64>) -> Self {
        match err {
            Some(e) if e.is_finite() => {
                self.dots += 1;
                self.sum += e;
                self.max = self.max.max(e);
            }
            _ => self.excluded += 1,
        }
        self
    }

    fn merge(self, o: Self) -> Self {
        DotStats {
            dots: self.dots + o.dots,
            excluded: self.excluded + o.excluded,
            sum: self.sum + o.sum,
            max: self.max.max(o.max),
        }
    }

    fn mean(&self) -> f64 {
        if self.dots == 0 {
            f64::NAN
        } else {
            self.sum / self.dots as f64
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
            .fold(ElemStats::new, |s, i| {
                s.add(x[i] * y[i], t[cx[i] as usize] * t[cy[i] as usize], r[i])
            })
            .reduce(ElemStats::new, ElemStats::merge);
        let head = [
            json!(m.op.name()),
            json!(format!("e{}m{}", m.fmt.e, m.fmt.m)),
            json!(m.fmt.m),
            json!(m.conv.name()),
        ];
        let used = s.used.max(1) as f64;
        let mut row = head.to_vec();
        row.extend([
            json!(s.used),
            json!(s.zero),
            json!(s.nonfinite),
            num(if s.used > 0 {
                s.sum_abs / used
            } else {
                f64::NAN
            }),
            num(if s.used > 0 { s.max_abs } else { f64::NAN }),
            num(if s.used > 0 { s.sum / used } else { f64::NAN }),
            num(s.meth_min),
            num(s.meth_max),
        ]);
        elem.push(row)?;

        for (ki, &k) in DOT_LENGTHS.iter().enumerate() {
            let ds = refs[ki]
                .par_iter()
                .enumerate()
                .fold(DotStats::default, |st, (d, &(exact, nrm))| {
                    // Every product is an f32 value (the formats' values all are), so the
                    // cast is exact; the additions are IEEE binary32, round to nearest even.
                    let acc = r[d * k..(d + 1) * k]
                        .iter()
                        .fold(0f32, |acc, &p| acc + p as f32);
                    let ok = acc.is_finite() && exact.is_finite() && nrm > 0.0 && nrm.is_finite();
                    st.add(ok.then(|| (acc as f64 - exact).abs() / nrm))
                })
                .reduce(DotStats::default, DotStats::merge);
            let mut row = head.to_vec();
            row.extend([
                json!(k),
                json!(ds.dots),
                json!(ds.excluded),
                num(ds.mean()),
                num(if ds.dots > 0 { ds.max } else { f64::NAN }),
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

// ---------------------------------------------------------------------------------------------
// BitMoD

/// Weights per quantization group.
const GROUP: usize = 128;
/// Row length of weights drawn from a distribution.
const ROW_LEN: usize = 4096;
/// Width of the integer group scale.
const SCALE_BITS: u32 = 8;

/// Values as f32, each checked finite.
fn to_f32(v: &[f64], what: &str) -> Result<Vec<f32>> {
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            let w = x as f32;
            if w.is_finite() {
                Ok(w)
            } else {
                Err(Error::new(format!(
                    "{what}: value {i} is {x}, which is not a finite float32"
                )))
            }
        })
        .collect()
}

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
                num(v / mean_w2)
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
            num(storage / weights as f64),
            json!(weights),
            json!(s.groups),
            num(m),
            norm(m),
            num(mi),
            norm(mi),
        ])?;
        for (i, t) in set.types.iter().enumerate() {
            share.push(vec![
                json!(set.name),
                json!(t.name),
                json!(i),
                json!(s.counts[i]),
                num(s.counts[i] as f64 / s.groups as f64),
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

// ---------------------------------------------------------------------------------------------
// DFP-16

/// Tensor (vector) length of the dfp study.
const DFP_LEN: usize = 4096;
/// Chunk lengths of the overflow table.
const DFP_CHUNKS: [usize; 7] = [64, 128, 256, 512, 1024, 2048, 4096];

/// `2^n` as an f64 (exact for the exponents used here).
fn pow2(n: i32) -> f64 {
    2f64.powi(n)
}

/// The DFP-16 study: quantization error per headroom (`dfp_quant_error`) and, for chunked
/// INT32 dot products, the fraction of chunks that overflow and the resulting error per chunk
/// length, headroom and mode (`dfp_overflow`).
///
/// `ceil(samples / 8192)` dot products of two vectors of 4096 source values (as float32); each
/// vector is a DFP-16 tensor with its own shared exponent. The quantization table covers
/// every vector.
pub fn dfp_study(o: &Opts) -> Result<Vec<Table>> {
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
        #[derive(Default, Clone, Copy)]
        struct Q {
            tensors: u64,
            zero: u64,
            elements: u64,
            clamped: u64,
            sum_rel: f64,
            max_rel: f64,
            err2: f64,
            x2: f64,
        }
        let q = vectors
            .par_iter()
            .zip(&ts)
            .map(|(v, t)| {
                let max = v.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
                let mut q = Q::default();
                if max == 0.0 {
                    q.zero = 1;
                    return q;
                }
                q.tensors = 1;
                let step = pow2(-t.scf);
                for (&x, &c) in v.iter().zip(&t.q) {
                    let x = x as f64;
                    let e = (x - c as f64 * step).abs();
                    q.elements += 1;
                    // x * 2^scf is exact in f64; q is its rounding clamped to INT16.
                    let r = (x / step).round_ties_even();
                    q.clamped += (!(-32768.0..=32767.0).contains(&r)) as u64;
                    q.sum_rel += e / max;
                    q.max_rel = q.max_rel.max(e / max);
                    q.err2 += e * e;
                    q.x2 += x * x;
                }
                q
            })
            .reduce(Q::default, |a, b| Q {
                tensors: a.tensors + b.tensors,
                zero: a.zero + b.zero,
                elements: a.elements + b.elements,
                clamped: a.clamped + b.clamped,
                sum_rel: a.sum_rel + b.sum_rel,
                max_rel: a.max_rel.max(b.max_rel),
                err2: a.err2 + b.err2,
                x2: a.x2 + b.x2,
            });
        let rms = (q.err2 / q.x2).sqrt();
        qt.push(vec![
            json!(h),
            json!(q.tensors),
            json!(q.elements),
            json!(q.zero),
            json!(q.clamped),
            num(q.sum_rel / q.elements as f64),
            num(if q.elements > 0 { q.max_rel } else { f64::NAN }),
            num(pow2(h as i32 - 15)),
            num(rms),
            num(-20.0 * rms.log10()),
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
                let mut st = DotStats::default();
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
                    json!(st.dots),
                    json!(chunks),
                    json!(over),
                    num(over as f64 / chunks as f64),
                    num(trans as f64 / chunks as f64),
                    json!(st.excluded),
                    num(st.mean()),
                    num(if st.dots > 0 { st.max } else { f64::NAN }),
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

// ---------------------------------------------------------------------------------------------
// Printing

/// How [`render`] prints tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Aligned text: a title line, the columns, the rows, then the provenance lines.
    Text,
    /// A JSON array of [`Table::to_json`].
    Json,
    /// Each table as CSV after a `# name` line, tables separated by a blank line.
    Csv,
}

/// Tables as text, JSON or CSV (ending with a newline).
pub fn render(tables: &[Table], style: Style) -> String {
    match style {
        Style::Json => {
            let v = Value::Array(tables.iter().map(Table::to_json).collect());
            serde_json::to_string_pretty(&v).expect("JSON of plain values") + "\n"
        }
        Style::Csv => tables
            .iter()
            .map(|t| format!("# {}\n{}", t.name, t.to_csv()))
            .collect::<Vec<_>>()
            .join("\n"),
        Style::Text => tables.iter().map(text).collect::<Vec<_>>().join("\n"),
    }
}

/// A cell for people: integers as they are, other numbers with 4 significant digits.
fn cell(v: &Value) -> (String, bool) {
    match v {
        Value::Null => ("-".into(), true),
        Value::String(s) => (s.clone(), false),
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            let s = if x == 0.0 {
                "0".into()
            } else if (1e-3..1e6).contains(&x.abs()) {
                let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
                format!("{x:.digits$}")
            } else {
                format!("{x:.3e}")
            };
            (s, true)
        }
        other => (other.to_string(), true),
    }
}

/// One table as aligned text.
fn text(t: &Table) -> String {
    let cells: Vec<Vec<(String, bool)>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].0.len())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let mut s = format!("{}: {}\n", t.name, t.title);
    let line = |items: Vec<(String, bool)>| -> String {
        let parts: Vec<String> = items
            .iter()
            .zip(&widths)
            .map(|((v, right), &w)| {
                if *right {
                    format!("{v:>w$}")
                } else {
                    format!("{v:<w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| cells.iter().all(|r| r[i].1))
        .collect();
    s += &line(
        t.columns
            .iter()
            .zip(&numeric)
            .map(|(c, &n)| (c.clone(), n))
            .collect(),
    );
    for r in cells {
        s += &line(r);
    }
    for p in &t.provenance {
        s += &format!("  # {p}\n");
    }
    s
}
