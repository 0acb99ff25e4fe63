//! `lmul`: L-Mul, the float multiply replaced by one integer add of the exponent+mantissa
//! fields plus an offset ("Addition is All You Need for Energy-efficient Language Models",
//! Luo & Sun, 2024), exactly as the paper's integer-add kernel computes it.
//!
//! With `S = 1 << (E+M)`: `r = (a & (S-1)) + (b & (S-1)) - K` where
//! `K = (bias << M) - 2^(M - l(M))`, and `l(M) = M` for `M <= 3`, `3` for `M = 4`, `4` above.
//! The mantissa carry runs into the exponent field; there is no normalization and no rounding.
//! Zero and subnormal inputs give a signed zero; a result exponent field `<= 0` is a signed zero;
//! a result above the largest finite code saturates (default) or follows IEEE.

use crate::error::{Error, Result};
use crate::format::{Class, Format, Kind, Overflow};
use crate::fpmul::{
    float_config, float_evaluation, float_operands, float_table_ops, named_formats, Code,
};
use crate::model::{hex, Evaluation, PeModel, TableOps};
use rayon::prelude::*;

/// The offset exponent `l(M)` of the paper: `M` for `M <= 3`, 3 for `M = 4`, 4 for `M > 4`.
pub fn offset_bits(m: u32) -> u32 {
    match m {
        0..=3 => m,
        4 => 3,
        _ => 4,
    }
}

/// The constant `K = (bias << M) - 2^(M - l(M))` subtracted from the field sum.
pub fn k_constant(fmt: &Format) -> u64 {
    ((fmt.bias as u64) << fmt.m) - (1u64 << (fmt.m - offset_bits(fmt.m)))
}

/// Checks that L-Mul is defined for `fmt`: at least 2 exponent bits and 1 mantissa bit.
pub fn check_format(fmt: &Format) -> Result<()> {
    if fmt.e < 2 || fmt.m < 1 {
        return Err(Error::new(format!(
            "lmul needs at least 2 exponent bits and 1 mantissa bit; {} has E={} M={}",
            fmt.name(),
            fmt.e,
            fmt.m
        )));
    }
    Ok(())
}

/// L-Mul of two codes of `fmt`.
pub fn lmul(fmt: &Format, a: u64, b: u64, overflow: Overflow) -> u64 {
    let (ca, cb) = (fmt.classify(a), fmt.classify(b));
    let s = (a ^ b) & fmt.sign_bit();
    if ca == Class::Nan || cb == Class::Nan {
        return fmt.canonical_nan().unwrap();
    }
    let flushed = |c: Class| matches!(c, Class::Zero | Class::Subnormal);
    if ca == Class::Inf || cb == Class::Inf {
        if flushed(ca) || flushed(cb) {
            return fmt.canonical_nan().unwrap();
        }
        return s | fmt.inf().unwrap();
    }
    if flushed(ca) || flushed(cb) {
        return s;
    }
    let mm = fmt.mag_mask() as i128;
    let r = (a as i128 & mm) + (b as i128 & mm) - k_constant(fmt) as i128;
    if r < (1i128 << fmt.m) {
        return s;
    }
    if r > fmt.max_finite() as i128 {
        return s | match (overflow, fmt.kind) {
            (Overflow::Saturate, _) | (_, Kind::Finite) => fmt.max_finite(),
            (Overflow::Ieee, Kind::Ieee) => fmt.inf().unwrap(),
            (Overflow::Ieee, Kind::FiniteNan) => return fmt.canonical_nan().unwrap(),
        };
    }
    s | r as u64
}

/// L-Mul over code slices (`out[i] = lmul(a[i], b[i])`), split across threads; each element is
/// exactly [`lmul`] (the tests hold it to that).
pub fn lmul_slice<T: Code>(fmt: &Format, overflow: Overflow, a: &[T], b: &[T], out: &mut [T]) {
    assert!(
        a.len() == b.len() && a.len() == out.len(),
        "slice lengths differ"
    );
    if fmt.width() > 62 {
        // The branch-free kernel sums magnitudes in 64 bits; the widest formats take the
        // scalar path.
        for ((y, &x), &z) in out.iter_mut().zip(a).zip(b) {
            *y = T::from_u64(lmul(fmt, x.to_u64(), z.to_u64(), overflow));
        }
        return;
    }
    let k = LMulConsts::new(fmt, overflow);
    let narrow = fmt.width() <= 30;
    out.par_chunks_mut(1 << 16)
        .zip(a.par_chunks(1 << 16).zip(b.par_chunks(1 << 16)))
        .for_each(|(o, (x, z))| {
            if narrow {
                let k = k.narrow();
                for ((o, x), z) in o.chunks_mut(256).zip(x.chunks(256)).zip(z.chunks(256)) {
                    // Blocks without a zero, subnormal, Inf or NaN operand (the common case)
                    // take the short path; both paths equal `lmul` element by element.
                    let ordinary = k.ordinary(x) && k.ordinary(z);
                    for ((y, &x), &z) in o.iter_mut().zip(x).zip(z) {
                        let (x, z) = (x.to_u64() as i32, z.to_u64() as i32);
                        let r = if ordinary {
                            k.apply_ordinary(x, z)
                        } else {
                            k.apply(x, z)
                        };
                        *y = T::from_u64(r as u64);
                    }
                }
            } else {
                for ((y, &x), &z) in o.iter_mut().zip(x).zip(z) {
                    *y = T::from_u64(k.apply(x.to_u64() as i64, z.to_u64() as i64) as u64);
                }
            }
        });
}

impl LMulConsts<i32> {
    /// Whether every code in `x` has an exponent field that is neither 0 nor all ones.
    #[inline(always)]
    fn ordinary<T: Code>(&self, x: &[T]) -> bool {
        let mut bad = 0i32;
        for &c in x {
            let e = c.to_u64() as i32 & self.exp_mask;
            bad |= ((e == 0) | (e == self.exp_mask)) as i32;
        }
        bad == 0
    }

    /// L-Mul of two codes whose exponent fields are neither 0 nor all ones.
    #[inline(always)]
    fn apply_ordinary(&self, a: i32, b: i32) -> i32 {
        let (ma, mb) = (a & self.mag, b & self.mag);
        let s = (a ^ b) & self.sign;
        let r = ma + mb - self.k;
        let ovf = if self.ovf_nan { self.ovf } else { s | self.ovf };
        let y = if r > self.max_finite { ovf } else { s | r };
        if r < self.min_r {
            s
        } else {
            y
        }
    }
}

/// Precomputed constants of the branch-free slice kernel, in the kernel's integer type.
#[derive(Clone, Copy)]
struct LMulConsts<I> {
    mag: I,
    sign: I,
    exp_mask: I,
    /// Special codes are those with `mag & spec_mask == spec_val` (never, for finite kinds).
    spec_mask: I,
    spec_val: I,
    /// The Inf magnitude among the special codes (an impossible value when there is none).
    inf: I,
    k: I,
    min_r: I,
    max_finite: I,
    /// Magnitude of an overflowed result, or the whole NaN code when `ovf_nan`.
    ovf: I,
    ovf_nan: bool,
    nan: I,
}

impl LMulConsts<i64> {
    fn new(fmt: &Format, overflow: Overflow) -> Self {
        let mag = fmt.mag_mask() as i64;
        let exp_mask = (fmt.mag_mask() - fmt.man_mask()) as i64;
        let (spec_mask, spec_val, inf) = match fmt.kind {
            Kind::Ieee => (exp_mask, exp_mask, exp_mask),
            Kind::FiniteNan => (mag, mag, -1),
            Kind::Finite => (0, 1, -1),
        };
        let ovf_nan = overflow == Overflow::Ieee && fmt.kind == Kind::FiniteNan;
        LMulConsts {
            mag,
            sign: fmt.sign_bit() as i64,
            exp_mask,
            spec_mask,
            spec_val,
            inf,
            k: k_constant(fmt) as i64,
            min_r: 1i64 << fmt.m,
            max_finite: fmt.max_finite() as i64,
            ovf: match (overflow, fmt.kind) {
                (Overflow::Ieee, Kind::Ieee) => fmt.inf().unwrap() as i64,
                (Overflow::Ieee, Kind::FiniteNan) => fmt.canonical_nan().unwrap() as i64,
                _ => fmt.max_finite() as i64,
            },
            ovf_nan,
            nan: fmt.canonical_nan().unwrap_or(0) as i64,
        }
    }

    /// The same constants as `i32` (formats up to 30 bits wide).
    fn narrow(&self) -> LMulConsts<i32> {
        LMulConsts {
            mag: self.mag as i32,
            sign: self.sign as i32,
            exp_mask: self.exp_mask as i32,
            spec_mask: self.spec_mask as i32,
            spec_val: self.spec_val as i32,
            inf: self.inf as i32,
            k: self.k as i32,
            min_r: self.min_r as i32,
            max_finite: self.max_finite as i32,
            ovf: self.ovf as i32,
            ovf_nan: self.ovf_nan,
            nan: self.nan as i32,
        }
    }
}

macro_rules! lmul_apply {
    ($t:ty) => {
        impl LMulConsts<$t> {
            /// One L-Mul, written as selects only so that loops over it vectorize.
            #[inline(always)]
            fn apply(&self, a: $t, b: $t) -> $t {
                let (ma, mb) = (a & self.mag, b & self.mag);
                let s = (a ^ b) & self.sign;
                let r = ma + mb - self.k;
                let flush_in = (ma & self.exp_mask == 0) | (mb & self.exp_mask == 0);
                let zero = flush_in | (r < self.min_r);
                let over = r > self.max_finite;
                let ovf = if self.ovf_nan { self.ovf } else { s | self.ovf };
                let mut y = if over { ovf } else { s | r };
                y = if zero { s } else { y };
                let (sa, sb) = (
                    ma & self.spec_mask == self.spec_val,
                    mb & self.spec_mask == self.spec_val,
                );
                let (ia, ib) = (sa & (ma == self.inf), sb & (mb == self.inf));
                let nan = (sa & !ia) | (sb & !ib) | ((ia | ib) & flush_in);
                y = if ia | ib { s | self.inf } else { y };
                if nan {
                    self.nan
                } else {
                    y
                }
            }
        }
    };
}
lmul_apply!(i32);
lmul_apply!(i64);

/// The `lmul` PE in the registry.
pub struct LMulPe;

impl PeModel for LMulPe {
    fn table_ops(&self, format: &str, accumulate: bool) -> Result<TableOps> {
        let f = Format::parse(format)?;
        let w = f.width() - 1;
        let bits = crate::model::table_add_bits(w).ok_or_else(|| {
            crate::Error::new(format!("horowitz-45nm has no integer add of {w} bits"))
        })?;
        Ok(float_table_ops(
            vec![("int_add", bits)],
            format!("the {w}-bit add of the exponent and mantissa fields priced as int_add {bits}"),
            accumulate,
        ))
    }

    fn id(&self) -> &'static str {
        "lmul"
    }
    fn summary(&self) -> &'static str {
        "L-Mul: float multiply approximated by one integer add of the exponent+mantissa fields"
    }
    fn formats(&self) -> Vec<String> {
        named_formats()
    }
    fn format_note(&self) -> &'static str {
        "also custom eXmY (IEEE kind); needs E >= 2 and M >= 1"
    }
    fn policies(&self) -> &'static [&'static str] {
        &["saturate", "ieee"]
    }
    fn operand_syntax(&self) -> &'static str {
        "A B (hex codes of the format)"
    }
    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation> {
        let (fmt, ovf) = float_config(self, format, policy)?;
        check_format(&fmt)?;
        let (a, b) = float_operands(&fmt, operands)?;
        let y = lmul(&fmt, a, b, ovf);
        Ok(float_evaluation(
            &fmt,
            a,
            b,
            y,
            vec![
                ("overflow".into(), ovf.name().into()),
                ("K".into(), hex(k_constant(&fmt), fmt.width())),
                ("l".into(), offset_bits(fmt.m).to_string()),
            ],
        ))
    }
}
