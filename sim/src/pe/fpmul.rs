//! `fpmul`: the exact, correctly rounded floating-point multiply — the baseline L-Mul is
//! compared with.
//!
//! The product of two codes is computed exactly (integer significands, exponents added) and
//! rounded once with [`Format::round`]: gradual underflow, any NaN input gives the canonical NaN,
//! Inf × 0 is NaN, and overflow follows the policy (`ieee` by default).

use crate::error::{Error, Result};
use crate::format::{Class, Format, Kind, Overflow, Rounding};
use crate::model::{hex, parse_hex, pick_policy, Evaluation, PeModel, TableOps};
use rayon::prelude::*;

/// Integer types that carry format codes in slices.
pub trait Code: Copy + Send + Sync + 'static {
    /// Widens to u64.
    fn to_u64(self) -> u64;
    /// Narrows from u64 (the value fits by construction).
    fn from_u64(v: u64) -> Self;
}

macro_rules! code_impl {
    ($($t:ty),*) => {$(
        impl Code for $t {
            #[inline(always)]
            fn to_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn from_u64(v: u64) -> Self {
                v as $t
            }
        }
    )*};
}
code_impl!(u8, u16, u32, u64);

/// Checks that a format/policy pair is meaningful: formats without Inf and NaN can only
/// saturate.
pub fn check_policy(fmt: &Format, overflow: Overflow) -> Result<()> {
    if fmt.kind == Kind::Finite && overflow == Overflow::Ieee {
        return Err(Error::new(format!(
            "{} has no Inf or NaN code, so an overflowing result can only saturate; \
             use --overflow saturate",
            fmt.name()
        )));
    }
    Ok(())
}

/// The correctly rounded product of two codes of `fmt`.
pub fn fpmul(fmt: &Format, a: u64, b: u64, mode: Rounding, overflow: Overflow) -> u64 {
    let (ca, cb) = (fmt.classify(a), fmt.classify(b));
    let sign = fmt.sign(a) != fmt.sign(b);
    let s = if sign { fmt.sign_bit() } else { 0 };
    if ca == Class::Nan || cb == Class::Nan {
        return fmt.canonical_nan().unwrap();
    }
    if ca == Class::Inf || cb == Class::Inf {
        if ca == Class::Zero || cb == Class::Zero {
            return fmt.canonical_nan().unwrap();
        }
        return s | fmt.inf().unwrap();
    }
    let (_, sa, ea) = fmt.decompose(a).unwrap();
    let (_, sb, eb) = fmt.decompose(b).unwrap();
    fmt.round(sign, sa as u128 * sb as u128, ea + eb, mode, overflow)
}

/// Whether the `f64` fast path of [`fpmul_slice`] is exact for `fmt`: the product of two
/// significands fits 53 bits and every product is a normal `f64`.
fn f64_path_exact(fmt: &Format) -> bool {
    2 * (fmt.m + 1) <= 53 && fmt.e <= 9
}

/// Whether `fmt` shares binary32's exponent field with at most 7 mantissa bits (bfloat16,
/// e8m3 ...): products of two significands (at most 16 bits) are then exact `f32` values
/// except below 2^-126, where the hardware rounds them to multiples of 2^-149. That rounding
/// never changes the final result: a product at or above `fmt`'s smallest tie 2^-(127+M) has
/// its last bit at or above 2^-(128+3M) >= 2^-149 and stays exact, and one below it stays at
/// or below that tie (a multiple of 2^-149), which rounds to zero either way.
fn f32_path_exact(fmt: &Format) -> bool {
    fmt.e == 8 && fmt.bias == 127 && fmt.kind == Kind::Ieee && fmt.m <= 7
}

/// Constants of the `f32` product path: operands are widened to binary32 by a shift, the
/// hardware multiplies, and the product is rounded to `fmt` with integer round-to-nearest-even
/// on its bit pattern (exponent fields coincide, so subnormals and overflow to Inf come out
/// right by themselves).
#[derive(Clone, Copy)]
struct F32Path {
    shift: u32,
    half: u32,
    inf: u32,
    max: u32,
    saturate: bool,
    nan: u32,
}

impl F32Path {
    fn new(fmt: &Format, overflow: Overflow) -> Self {
        F32Path {
            shift: 23 - fmt.m,
            half: 1 << (22 - fmt.m),
            inf: fmt.inf().unwrap() as u32,
            max: fmt.max_finite() as u32,
            saturate: overflow == Overflow::Saturate,
            nan: fmt.canonical_nan().unwrap() as u32,
        }
    }

    #[inline(always)]
    fn apply(&self, a: u32, b: u32) -> u32 {
        let p = f32::from_bits(a << self.shift) * f32::from_bits(b << self.shift);
        let bits = p.to_bits();
        let sign = (bits >> 31) << (31 - self.shift);
        let mag = bits & 0x7FFF_FFFF;
        let r = (mag + (self.half - 1) + ((mag >> self.shift) & 1)) >> self.shift;
        // Inf from finite operands is an overflow; an Inf operand gives Inf under any policy.
        let inf_operand = (((a << self.shift) & 0x7FFF_FFFF) == 0x7F80_0000)
            | (((b << self.shift) & 0x7FFF_FFFF) == 0x7F80_0000);
        let r = if (r >= self.inf) & self.saturate & !inf_operand {
            self.max
        } else {
            r
        };
        if mag > 0x7F80_0000 {
            self.nan
        } else {
            sign | r
        }
    }
}

/// Rounds a finite, nonzero, normal `f64` into `fmt` with round-to-nearest-even.
#[inline(always)]
fn round_f64_rne(fmt: &Format, p: f64, overflow: Overflow) -> u64 {
    let bits = p.to_bits();
    let sign = bits >> 63 != 0;
    let s = if sign { fmt.sign_bit() } else { 0 };
    let ef = ((bits >> 52) & 0x7ff) as i64;
    if ef == 0 {
        return s; // exact zero (never subnormal on this path)
    }
    let sig = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let e = ef - 1023;
    let emin = (1 - fmt.bias) as i64;
    let e_eff = e.max(emin);
    let shift = (52 - fmt.m as i64 + (e_eff - e)).min(62) as u32;
    let q = sig >> shift;
    let rem = sig & ((1u64 << shift) - 1);
    let half = 1u64 << (shift - 1);
    let q = q + (rem > half || (rem == half && q & 1 == 1)) as u64;
    let mag = (((e_eff + fmt.bias as i64 - 1) as u64) << fmt.m).wrapping_add(q);
    if e_eff + fmt.bias as i64 > (1i64 << fmt.e) || mag > fmt.max_finite() {
        let ovf = match overflow {
            Overflow::Saturate => fmt.max_finite(),
            Overflow::Ieee => match fmt.kind {
                Kind::Ieee => fmt.inf().unwrap(),
                Kind::FiniteNan => return fmt.canonical_nan().unwrap(),
                Kind::Finite => fmt.max_finite(),
            },
        };
        return s | ovf;
    }
    s | mag
}

/// Products of code slices, round-to-nearest-even, split across threads.
///
/// Exactly [`fpmul`] element by element (the tests hold it to that); formats whose products
/// are exact in `f64` take a decode-table and `f64` path.
pub fn fpmul_slice<T: Code>(fmt: &Format, overflow: Overflow, a: &[T], b: &[T], out: &mut [T]) {
    assert!(
        a.len() == b.len() && a.len() == out.len(),
        "slice lengths differ"
    );
    const CHUNK: usize = 1 << 16;
    if f32_path_exact(fmt) {
        let k = F32Path::new(fmt, overflow);
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(o, (x, z))| {
                for ((y, &x), &z) in o.iter_mut().zip(x).zip(z) {
                    *y = T::from_u64(k.apply(x.to_u64() as u32, z.to_u64() as u32) as u64);
                }
            });
    } else if f64_path_exact(fmt) {
        let table: Option<Vec<f64>> =
            (fmt.width() <= 16).then(|| (0..1u64 << fmt.width()).map(|c| fmt.to_f64(c)).collect());
        let nan = fmt.canonical_nan().unwrap_or(0);
        let inf = fmt.inf().unwrap_or(0);
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(i, o)| {
            let (ca, cb) = (&a[i * CHUNK..], &b[i * CHUNK..]);
            for (j, y) in o.iter_mut().enumerate() {
                let (x, z) = (ca[j].to_u64(), cb[j].to_u64());
                let (fx, fz) = match &table {
                    Some(t) => (t[x as usize], t[z as usize]),
                    None => (fmt.to_f64(x), fmt.to_f64(z)),
                };
                let p = fx * fz;
                let r = if p.is_nan() {
                    nan
                } else if p.is_infinite() {
                    (if p < 0.0 { fmt.sign_bit() } else { 0 }) | inf
                } else {
                    round_f64_rne(fmt, p, overflow)
                };
                *y = T::from_u64(r);
            }
        });
    } else {
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(i, o)| {
            for (j, y) in o.iter_mut().enumerate() {
                let k = i * CHUNK + j;
                let r = fpmul(
                    fmt,
                    a[k].to_u64(),
                    b[k].to_u64(),
                    Rounding::NearestEven,
                    overflow,
                );
                *y = T::from_u64(r);
            }
        });
    }
}

/// Parses the format and policy of a two-operand float PE and checks they fit together.
pub fn float_config(
    pe: &dyn PeModel,
    format: &str,
    policy: Option<&str>,
) -> Result<(Format, Overflow)> {
    let fmt = Format::parse(format)?;
    let policy = match (policy, fmt.kind) {
        // Formats without Inf/NaN only saturate, so that is their default.
        (None, Kind::Finite) => "saturate",
        _ => pick_policy(pe, policy)?,
    };
    let ovf = Overflow::parse(policy)?;
    check_policy(&fmt, ovf)?;
    Ok((fmt, ovf))
}

/// Parses the two hex operands `A B` of a float PE.
pub fn float_operands(fmt: &Format, operands: &[String]) -> Result<(u64, u64)> {
    if operands.len() != 2 {
        return Err(Error::new(format!(
            "expected two operands A B (hex codes of {}, {} bits each), got {}",
            fmt.name(),
            fmt.width(),
            operands.len()
        )));
    }
    Ok((
        parse_hex("A", &operands[0], fmt.width())?,
        parse_hex("B", &operands[1], fmt.width())?,
    ))
}

/// A two-operand float PE's table rows: those of one multiply (`ops`, `note`), and the FP32
/// accumulation of a dot product after them when `accumulate`.
pub fn float_table_ops(
    mut ops: Vec<(&'static str, u32)>,
    note: String,
    accumulate: bool,
) -> TableOps {
    if !accumulate {
        return (ops, note);
    }
    ops.push(("fp_add", 32));
    (ops, format!("{note}, plus the FP32 accumulation"))
}

/// The names of the named formats, all of which a two-operand float PE takes.
pub fn named_formats() -> Vec<String> {
    crate::format::NAMED
        .iter()
        .map(|(n, _)| n.to_string())
        .collect()
}

/// A float PE's evaluation: hex result, decimal value, decoded operands.
pub fn float_evaluation(
    fmt: &Format,
    a: u64,
    b: u64,
    y: u64,
    extra: Vec<(String, String)>,
) -> Evaluation {
    let mut details = vec![
        ("a".to_string(), fmt.display_value(a)),
        ("b".to_string(), fmt.display_value(b)),
        (
            "exact_product".to_string(),
            crate::format::fmt_decimal(fmt.to_f64(a) * fmt.to_f64(b)),
        ),
    ];
    details.extend(extra);
    Evaluation {
        hex: hex(y, fmt.width()),
        value: fmt.display_value(y),
        details,
    }
}

/// The `fpmul` PE in the registry.
pub struct FpMulPe;

impl PeModel for FpMulPe {
    fn table_ops(&self, format: &str, accumulate: bool) -> Result<TableOps> {
        let f = Format::parse(format)?;
        let (bits, note) = match (f.e, f.m) {
            (5, 10) => (16, "fp_mult 16"),
            (8, 23) => (32, "fp_mult 32"),
            (8, 7) => (
                16,
                "fp_mult 16 as a stand-in (the table has no bfloat16 multiply)",
            ),
            _ => {
                return Err(crate::Error::new(format!(
                    "horowitz-45nm has no {} multiply (its float rows are fp16 and fp32)",
                    f.name()
                )))
            }
        };
        Ok(float_table_ops(
            vec![("fp_mult", bits)],
            note.into(),
            accumulate,
        ))
    }

    fn id(&self) -> &'static str {
        "fpmul"
    }
    fn summary(&self) -> &'static str {
        "exact float multiply, correctly rounded (RNE), subnormals in and out; the L-Mul baseline"
    }
    fn formats(&self) -> Vec<String> {
        named_formats()
    }
    fn format_note(&self) -> &'static str {
        "also custom eXmY (IEEE kind, bias 2^(X-1)-1, X 2..=11, Y 1..=52, width <= 64)"
    }
    fn policies(&self) -> &'static [&'static str] {
        &["ieee", "saturate"]
    }
    fn operand_syntax(&self) -> &'static str {
        "A B (hex codes of the format)"
    }
    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation> {
        let (fmt, ovf) = float_config(self, format, policy)?;
        let (a, b) = float_operands(&fmt, operands)?;
        let y = fpmul(&fmt, a, b, Rounding::NearestEven, ovf);
        Ok(float_evaluation(
            &fmt,
            a,
            b,
            y,
            vec![("overflow".into(), ovf.name().into())],
        ))
    }
}
