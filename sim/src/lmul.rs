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
use crate::fpmul::{float_config, float_evaluation, float_operands, Code};
use crate::pe::{hex, Evaluation, PeModel};
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
    out.par_chunks_mut(1 << 16)
        .zip(a.par_chunks(1 << 16).zip(b.par_chunks(1 << 16)))
        .for_each(|(o, (x, z))| {
            for ((y, &x), &z) in o.iter_mut().zip(x).zip(z) {
                *y = T::from_u64(k.apply(x.to_u64(), z.to_u64()));
            }
        });
}

/// Precomputed constants of the branch-free slice kernel.
struct LMulConsts {
    mag: u64,
    sign: u64,
    exp_mask: u64,
    exp_all: u64,
    has_special: bool,
    fn_nan: bool,
    k: u64,
    min_r: u64,
    max_finite: u64,
    ovf_mag: u64,
    ovf_is_nan: bool,
    nan: u64,
}

impl LMulConsts {
    fn new(fmt: &Format, overflow: Overflow) -> Self {
        let ovf_is_nan = overflow == Overflow::Ieee && fmt.kind == Kind::FiniteNan;
        LMulConsts {
            mag: fmt.mag_mask(),
            sign: fmt.sign_bit(),
            exp_mask: fmt.mag_mask() - fmt.man_mask(),
            exp_all: if fmt.kind == Kind::Ieee {
                fmt.mag_mask() - fmt.man_mask()
            } else {
                u64::MAX
            },
            has_special: fmt.kind != Kind::Finite,
            fn_nan: fmt.kind == Kind::FiniteNan,
            k: k_constant(fmt),
            min_r: 1u64 << fmt.m,
            max_finite: fmt.max_finite(),
            ovf_mag: match (overflow, fmt.kind) {
                (Overflow::Ieee, Kind::Ieee) => fmt.inf().unwrap(),
                _ => fmt.max_finite(),
            },
            ovf_is_nan,
            nan: fmt.canonical_nan().unwrap_or(0),
        }
    }

    #[inline(always)]
    fn apply(&self, a: u64, b: u64) -> u64 {
        let (ma, mb) = (a & self.mag, b & self.mag);
        let s = (a ^ b) & self.sign;
        // Fast common case first; specials are resolved below with plain selects.
        let sum = (ma + mb).wrapping_sub(self.k);
        let flush_in = (ma & self.exp_mask) == 0 || (mb & self.exp_mask) == 0;
        let under = (sum as i64) < self.min_r as i64;
        let over = (sum as i64) > self.max_finite as i64;
        let mut y = if flush_in || under {
            s
        } else if over {
            if self.ovf_is_nan {
                self.nan
            } else {
                s | self.ovf_mag
            }
        } else {
            s | sum
        };
        if self.has_special {
            let (ia, ib) = (
                ma & self.exp_mask == self.exp_all,
                mb & self.exp_mask == self.exp_all,
            );
            let nan_a = if self.fn_nan {
                ma == self.mag
            } else {
                ia && ma != self.exp_all
            };
            let nan_b = if self.fn_nan {
                mb == self.mag
            } else {
                ib && mb != self.exp_all
            };
            let inf_a = ia && !nan_a;
            let inf_b = ib && !nan_b;
            if nan_a || nan_b || ((inf_a || inf_b) && flush_in) {
                y = self.nan;
            } else if inf_a || inf_b {
                y = s | self.exp_all;
            }
        }
        y
    }
}

/// The `lmul` PE in the registry.
pub struct LMulPe;

impl PeModel for LMulPe {
    fn id(&self) -> &'static str {
        "lmul"
    }
    fn summary(&self) -> &'static str {
        "L-Mul: float multiply approximated by one integer add of the exponent+mantissa fields"
    }
    fn formats(&self) -> Vec<String> {
        crate::format::NAMED
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
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
