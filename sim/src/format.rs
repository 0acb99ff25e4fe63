//! Binary floating-point formats: layout, classification, decoding and exact rounding.
//!
//! A [`Format`] is a sign bit, `e` exponent bits, `m` mantissa (fraction) bits, an exponent bias
//! and a [`Kind`] that says which codes are special. Codes are carried in a `u64`, right-aligned.
//! Every value of every supported format is exactly representable as an `f64`.

use crate::error::{Error, Result};
use serde::Serialize;
use std::fmt;

/// Which codes of a format are not ordinary numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Kind {
    /// IEEE 754 style: exponent all ones is Inf (mantissa 0) or NaN; exponent 0 is subnormal.
    Ieee,
    /// OCP "finite, NaN only" (E4M3FN): no Inf, only `S.1…1.1…1` is NaN.
    FiniteNan,
    /// Every code is a finite number (OCP MX element formats such as E2M1).
    Finite,
}

/// Rounding direction used when a value does not fit the format exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Rounding {
    /// Round to nearest, ties to even (IEEE default).
    NearestEven,
    /// Round to nearest, ties away from zero.
    NearestAway,
    /// Truncate toward zero.
    TowardZero,
    /// Toward +Inf.
    Up,
    /// Toward -Inf.
    Down,
}

impl Rounding {
    /// All modes with their command-line names.
    pub const ALL: [(&'static str, Rounding); 5] = [
        ("rne", Rounding::NearestEven),
        ("rna", Rounding::NearestAway),
        ("rtz", Rounding::TowardZero),
        ("rup", Rounding::Up),
        ("rdn", Rounding::Down),
    ];

    /// Parses a command-line rounding name (`rne`, `rna`, `rtz`, `rup`, `rdn`).
    pub fn parse(s: &str) -> Result<Rounding> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, r)| *r)
            .ok_or_else(|| {
                Error::new(format!(
                    "unknown rounding '{s}'; valid: rne, rna, rtz, rup, rdn"
                ))
            })
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, r)| *r == self).unwrap().0
    }
}

/// What a result beyond the largest finite magnitude becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Overflow {
    /// IEEE 754: Inf (or the largest finite value for rounding modes that round toward zero
    /// for that sign); NaN in formats that have NaN but no Inf.
    Ieee,
    /// Clamp to the signed largest finite value.
    Saturate,
}

impl Overflow {
    /// Parses `ieee` or `saturate`.
    pub fn parse(s: &str) -> Result<Overflow> {
        match s {
            "ieee" => Ok(Overflow::Ieee),
            "saturate" => Ok(Overflow::Saturate),
            _ => Err(Error::new(format!(
                "unknown overflow policy '{s}'; valid: ieee, saturate"
            ))),
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Overflow::Ieee => "ieee",
            Overflow::Saturate => "saturate",
        }
    }
}

/// Class of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Class {
    /// ±0.
    Zero,
    /// Exponent field 0, mantissa nonzero.
    Subnormal,
    /// An ordinary number with an implicit leading 1.
    Normal,
    /// ±Inf.
    Inf,
    /// Not a number.
    Nan,
}

/// A binary floating-point format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Format {
    /// Exponent field width in bits.
    pub e: u32,
    /// Mantissa (fraction) field width in bits, without the hidden bit.
    pub m: u32,
    /// Exponent bias.
    pub bias: i32,
    /// Special-value kind.
    pub kind: Kind,
}

/// The named formats with a one-line description each.
pub const NAMED: [(&str, &str); 8] = [
    (
        "e4m3",
        "OCP FP8 E4M3FN: bias 7, no Inf, only S.1111.111 is NaN, max 448",
    ),
    ("e5m2", "OCP FP8 E5M2: bias 15, IEEE Inf/NaN, max 57344"),
    ("bf16", "bfloat16: e8m7, bias 127, IEEE Inf/NaN"),
    ("fp16", "IEEE binary16: e5m10, bias 15"),
    ("fp32", "IEEE binary32: e8m23, bias 127"),
    ("e2m1", "OCP MX FP4 E2M1: bias 1, no Inf/NaN, max 6"),
    ("e3m2", "OCP MX FP6 E3M2: bias 3, no Inf/NaN, max 28"),
    ("e2m3", "OCP MX FP6 E2M3: bias 1, no Inf/NaN, max 7.5"),
];

impl Format {
    /// A format of `e` exponent bits, `m` mantissa bits, exponent bias `bias` and special-value
    /// kind `kind`.
    pub const fn new(e: u32, m: u32, bias: i32, kind: Kind) -> Format {
        Format { e, m, bias, kind }
    }

    /// OCP FP8 E4M3FN.
    pub const E4M3: Format = Format::new(4, 3, 7, Kind::FiniteNan);
    /// OCP FP8 E5M2.
    pub const E5M2: Format = Format::new(5, 2, 15, Kind::Ieee);
    /// bfloat16.
    pub const BF16: Format = Format::new(8, 7, 127, Kind::Ieee);
    /// IEEE binary16.
    pub const FP16: Format = Format::new(5, 10, 15, Kind::Ieee);
    /// IEEE binary32.
    pub const FP32: Format = Format::new(8, 23, 127, Kind::Ieee);
    /// OCP MX FP4 E2M1.
    pub const E2M1: Format = Format::new(2, 1, 1, Kind::Finite);
    /// OCP MX FP6 E3M2.
    pub const E3M2: Format = Format::new(3, 2, 3, Kind::Finite);
    /// OCP MX FP6 E2M3.
    pub const E2M3: Format = Format::new(2, 3, 1, Kind::Finite);

    /// An IEEE-kind format with `e` exponent and `m` mantissa bits and bias 2^(e-1)-1.
    pub fn custom(e: u32, m: u32) -> Result<Format> {
        if !(2..=11).contains(&e) || !(1..=52).contains(&m) || 1 + e + m > 64 {
            return Err(Error::new(format!(
                "custom format e{e}m{m} is out of range: exponent bits 2..=11, mantissa bits \
                 1..=52, total width (1 + E + M) at most 64"
            )));
        }
        Ok(Format::new(e, m, (1 << (e - 1)) - 1, Kind::Ieee))
    }

    /// Parses a named format or a custom `eXmY`; the error lists the valid names.
    pub fn parse(name: &str) -> Result<Format> {
        let named = match name {
            "e4m3" => Some(Self::E4M3),
            "e5m2" => Some(Self::E5M2),
            "bf16" => Some(Self::BF16),
            "fp16" => Some(Self::FP16),
            "fp32" => Some(Self::FP32),
            "e2m1" => Some(Self::E2M1),
            "e3m2" => Some(Self::E3M2),
            "e2m3" => Some(Self::E2M3),
            _ => None,
        };
        if let Some(f) = named {
            return Ok(f);
        }
        if let Some(rest) = name.strip_prefix('e') {
            if let Some((x, y)) = rest.split_once('m') {
                if let (Ok(x), Ok(y)) = (x.parse::<u32>(), y.parse::<u32>()) {
                    return Self::custom(x, y);
                }
            }
        }
        let names: Vec<_> = NAMED.iter().map(|(n, _)| *n).collect();
        Err(Error::new(format!(
            "unknown format '{name}'; valid: {}, or custom eXmY (IEEE kind, bias 2^(X-1)-1, \
             X in 2..=11, Y in 1..=52)",
            names.join(", ")
        )))
    }

    /// The canonical name: a named format's name, else `eXmY`.
    pub fn name(&self) -> String {
        for (n, _) in NAMED {
            if Format::parse(n).ok().as_ref() == Some(self) {
                return n.to_string();
            }
        }
        format!("e{}m{}", self.e, self.m)
    }

    /// Total width in bits (sign + exponent + mantissa).
    pub fn width(&self) -> u32 {
        1 + self.e + self.m
    }

    /// Mask of all code bits.
    pub fn mask(&self) -> u64 {
        if self.width() == 64 {
            u64::MAX
        } else {
            (1u64 << self.width()) - 1
        }
    }

    /// The sign bit.
    pub fn sign_bit(&self) -> u64 {
        1u64 << (self.e + self.m)
    }

    /// Mask of the exponent and mantissa fields (the magnitude).
    pub fn mag_mask(&self) -> u64 {
        self.sign_bit() - 1
    }

    /// Mask of the mantissa field.
    pub fn man_mask(&self) -> u64 {
        (1u64 << self.m) - 1
    }

    /// Exponent field of a code.
    pub fn exp_field(&self, code: u64) -> u64 {
        (code >> self.m) & ((1u64 << self.e) - 1)
    }

    /// Largest finite magnitude code (sign bit clear).
    pub fn max_finite(&self) -> u64 {
        match self.kind {
            Kind::Ieee => self.mag_mask() - (1u64 << self.m),
            Kind::FiniteNan => self.mag_mask() - 1,
            Kind::Finite => self.mag_mask(),
        }
    }

    /// Whether the format has Inf codes.
    pub fn has_inf(&self) -> bool {
        self.kind == Kind::Ieee
    }

    /// Whether the format has NaN codes.
    pub fn has_nan(&self) -> bool {
        self.kind != Kind::Finite
    }

    /// The positive Inf code, if the format has one.
    pub fn inf(&self) -> Option<u64> {
        self.has_inf().then(|| self.mag_mask() - self.man_mask())
    }

    /// The canonical NaN: positive, quiet (exponent all ones, mantissa MSB set) for IEEE kinds,
    /// `0.1…1.1…1` for E4M3FN-like kinds; `None` for formats without NaN.
    pub fn canonical_nan(&self) -> Option<u64> {
        match self.kind {
            Kind::Ieee => Some(self.mag_mask() - self.man_mask() + (1u64 << (self.m - 1))),
            Kind::FiniteNan => Some(self.mag_mask()),
            Kind::Finite => None,
        }
    }

    /// Classifies a code.
    pub fn classify(&self, code: u64) -> Class {
        let mag = code & self.mag_mask();
        let ef = self.exp_field(code);
        let all_ones = (1u64 << self.e) - 1;
        match self.kind {
            Kind::Ieee if ef == all_ones => {
                if mag & self.man_mask() == 0 {
                    Class::Inf
                } else {
                    Class::Nan
                }
            }
            Kind::FiniteNan if mag == self.mag_mask() => Class::Nan,
            _ if mag == 0 => Class::Zero,
            _ if ef == 0 => Class::Subnormal,
            _ => Class::Normal,
        }
    }

    /// Whether the sign bit is set.
    pub fn sign(&self, code: u64) -> bool {
        code & self.sign_bit() != 0
    }

    /// A finite code as (sign, integer significand, exponent): value = ±sig · 2^exp.
    /// `None` for Inf and NaN.
    pub fn decompose(&self, code: u64) -> Option<(bool, u64, i32)> {
        let class = self.classify(code);
        if matches!(class, Class::Inf | Class::Nan) {
            return None;
        }
        let ef = self.exp_field(code) as i32;
        let man = code & self.man_mask();
        let m = self.m as i32;
        let (sig, exp) = if ef == 0 {
            (man, 1 - self.bias - m)
        } else {
            (man | (1u64 << self.m), ef - self.bias - m)
        };
        Some((self.sign(code), sig, exp))
    }

    /// Decodes a code to `f64` (exact for every supported format).
    pub fn to_f64(&self, code: u64) -> f64 {
        match self.classify(code) {
            Class::Nan => f64::NAN,
            Class::Inf => {
                if self.sign(code) {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            _ => {
                let (s, sig, exp) = self.decompose(code).unwrap();
                let v = sig as f64 * pow2(exp);
                if s {
                    -v
                } else {
                    v
                }
            }
        }
    }

    /// Rounds the exact value ±`sig` · 2^`exp` into this format.
    ///
    /// This is the one rounding routine of pelab: every conversion and every exactly computed
    /// result goes through it. Underflow is gradual (subnormals); a result whose rounded
    /// magnitude exceeds the largest finite value follows `overflow` (see [`Overflow`]; formats
    /// without Inf or NaN always saturate).
    pub fn round(
        &self,
        sign: bool,
        sig: u128,
        exp: i32,
        mode: Rounding,
        overflow: Overflow,
    ) -> u64 {
        let s = if sign { self.sign_bit() } else { 0 };
        if sig == 0 {
            return s;
        }
        let m = self.m as i32;
        let msb = 127 - sig.leading_zeros() as i32;
        let e = exp as i64 + msb as i64; // exponent of the leading bit
        let emin = (1 - self.bias) as i64;
        let e_eff = e.max(emin);
        // Number of bits of `sig` below the result's least significant bit.
        let shift = (e_eff - m as i64) - exp as i64;
        let (q, guard, sticky) = if shift <= 0 {
            (sig << (-shift) as u32, false, false)
        } else {
            let sh = shift as u32;
            let q = if sh >= 128 { 0 } else { sig >> sh };
            let guard = sh <= 128 && (sig >> (sh - 1)) & 1 == 1;
            let sticky = if sh >= 129 {
                true
            } else {
                sig & ((1u128 << (sh - 1)) - 1) != 0
            };
            (q, guard, sticky)
        };
        let inc = match mode {
            Rounding::NearestEven => guard && (sticky || q & 1 == 1),
            Rounding::NearestAway => guard,
            Rounding::TowardZero => false,
            Rounding::Up => !sign && (guard || sticky),
            Rounding::Down => sign && (guard || sticky),
        };
        let q = q + inc as u128;
        // Magnitude code: (biased exponent - 1) << m plus the significand with its hidden bit,
        // so a carry out of the mantissa moves into the exponent field by itself.
        let mag = (((e_eff + self.bias as i64 - 1) as i128) << m) + q as i128;
        if mag > self.max_finite() as i128 {
            return self.overflow_code(sign, mode, overflow);
        }
        s | mag as u64
    }

    /// Rounds the exact sum of two finite values ±sig·2^exp into this format (one rounding).
    ///
    /// Significands must be below 2^56. An exact zero sum is +0, except that (-0) + (-0) and,
    /// when rounding down, x + (-x) are -0 (IEEE 754 §6.3).
    pub fn round_sum(
        &self,
        x: (bool, u64, i32),
        y: (bool, u64, i32),
        mode: Rounding,
        overflow: Overflow,
    ) -> u64 {
        assert!(
            x.1 >> 56 == 0 && y.1 >> 56 == 0,
            "significand too wide for round_sum"
        );
        let zero_sign = |same: bool, s: bool| {
            let neg = if same { s } else { mode == Rounding::Down };
            if neg {
                self.sign_bit()
            } else {
                0
            }
        };
        match (x.1 == 0, y.1 == 0) {
            (true, true) => return zero_sign(x.0 == y.0, x.0),
            (true, false) => return self.round(y.0, y.1 as u128, y.2, mode, overflow),
            (false, true) => return self.round(x.0, x.1 as u128, x.2, mode, overflow),
            _ => {}
        }
        let top = |v: (bool, u64, i32)| v.2 as i64 + (64 - v.1.leading_zeros()) as i64;
        let (hi, lo) = if top(x) >= top(y) { (x, y) } else { (y, x) };
        // With the smaller operand more than 70 bits under the larger one, it lies below every
        // rounding position (at most 53 significant bits) and only acts as a sticky bit: one
        // unit far under the larger operand stands in for it.
        let (big, small, base) = if top(hi) - top(lo) > 70 {
            let base = (top(hi) - 120) as i32;
            ((hi.1 as u128) << (hi.2 - base), 1u128, base)
        } else {
            let base = hi.2.min(lo.2);
            (
                (hi.1 as u128) << (hi.2 - base),
                (lo.1 as u128) << (lo.2 - base),
                base,
            )
        };
        if hi.0 == lo.0 {
            return self.round(hi.0, big + small, base, mode, overflow);
        }
        match big.cmp(&small) {
            std::cmp::Ordering::Equal => zero_sign(false, false),
            std::cmp::Ordering::Greater => self.round(hi.0, big - small, base, mode, overflow),
            std::cmp::Ordering::Less => self.round(lo.0, small - big, base, mode, overflow),
        }
    }

    /// The code an overflowing result of that sign takes: signed max finite, signed Inf, or
    /// the canonical NaN.
    fn overflow_code(&self, sign: bool, mode: Rounding, overflow: Overflow) -> u64 {
        let s = if sign { self.sign_bit() } else { 0 };
        let to_max = match mode {
            Rounding::TowardZero => true,
            Rounding::Up => sign,
            Rounding::Down => !sign,
            _ => false,
        };
        if overflow == Overflow::Saturate || to_max || self.kind == Kind::Finite {
            return s | self.max_finite();
        }
        match self.kind {
            Kind::Ieee => s | self.inf().unwrap(),
            _ => self.canonical_nan().unwrap(),
        }
    }

    /// Converts an `f64` into this format. NaN becomes the canonical NaN, ±Inf becomes Inf
    /// (or follows the overflow policy in formats without Inf); formats without NaN reject NaN.
    pub fn from_f64(&self, x: f64, mode: Rounding, overflow: Overflow) -> Result<u64> {
        if x.is_nan() {
            return self.canonical_nan().ok_or_else(|| {
                Error::new(format!(
                    "{} has no NaN code; cannot convert NaN",
                    self.name()
                ))
            });
        }
        let sign = x.is_sign_negative();
        let s = if sign { self.sign_bit() } else { 0 };
        if x.is_infinite() {
            return Ok(match (self.inf(), overflow) {
                (Some(inf), Overflow::Ieee) => s | inf,
                _ => self.overflow_code(sign, Rounding::NearestEven, overflow),
            });
        }
        let (sig, exp) = f64_parts(x);
        Ok(self.round(sign, sig as u128, exp, mode, overflow))
    }

    /// Formats a code's value for people: `NaN`, `inf`, `-inf` or the shortest exact decimal
    /// that `f64` printing gives.
    pub fn display_value(&self, code: u64) -> String {
        let v = self.to_f64(code);
        if v.is_nan() {
            "NaN".into()
        } else if v.is_infinite() {
            if v > 0.0 { "inf" } else { "-inf" }.into()
        } else {
            fmt_decimal(v)
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Shortest round-trip decimal of `v`: plain notation for magnitudes in [1e-4, 1e7) and zero,
/// scientific notation otherwise.
pub fn fmt_decimal(v: f64) -> String {
    if v == 0.0 || (1e-4..1e7).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// 2^e as f64 for any e in the range where the result is representable (including subnormals).
pub fn pow2(e: i32) -> f64 {
    if e > 1023 {
        f64::INFINITY
    } else if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else if e >= -1074 {
        f64::from_bits(1u64 << (e + 1074))
    } else {
        0.0
    }
}

/// A finite `f64` as (integer significand, exponent): |x| = sig · 2^exp.
pub fn f64_parts(x: f64) -> (u64, i32) {
    let b = x.to_bits();
    let ef = ((b >> 52) & 0x7ff) as i32;
    let man = b & ((1u64 << 52) - 1);
    if ef == 0 {
        (man, -1074)
    } else {
        (man | (1u64 << 52), ef - 1075)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_layouts() {
        assert_eq!(Format::E4M3.max_finite(), 0x7E);
        assert_eq!(Format::E4M3.to_f64(0x7E), 448.0);
        assert_eq!(Format::E5M2.to_f64(0x7B), 57344.0);
        assert_eq!(Format::E2M1.to_f64(0x7), 6.0);
        assert_eq!(Format::E3M2.to_f64(0x1F), 28.0);
        assert_eq!(Format::E2M3.to_f64(0x1F), 7.5);
        assert_eq!(Format::FP32.canonical_nan(), Some(0x7FC0_0000));
        assert_eq!(Format::E4M3.canonical_nan(), Some(0x7F));
        assert_eq!(Format::E5M2.canonical_nan(), Some(0x7E));
        assert_eq!(Format::parse("e8m3").unwrap().bias, 127);
        assert!(Format::parse("e12m3").is_err());
        assert!(Format::parse("e11m53").is_err());
        assert!(Format::parse("fp8").unwrap_err().0.contains("e4m3"));
    }

    #[test]
    fn f32_round_trip_matches_hardware() {
        // Every f32 code decodes to the value the CPU gives and rounds back to itself;
        // a stride keeps this quick while covering every exponent.
        for bits in (0u32..=u32::MAX).step_by(9973) {
            let x = f32::from_bits(bits);
            let code = bits as u64;
            if x.is_nan() {
                assert_eq!(Format::FP32.classify(code), Class::Nan);
                continue;
            }
            assert_eq!(Format::FP32.to_f64(code), x as f64);
            let back = Format::FP32
                .from_f64(x as f64, Rounding::NearestEven, Overflow::Ieee)
                .unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn f64_to_f32_rounding_matches_hardware() {
        // The CPU's f64 -> f32 conversion is RNE with gradual underflow and Inf on overflow.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Exponents spread around the f32 range.
            let e = 1023 - 160 + (x >> 40) % 330;
            let bits = (x & 0x800F_FFFF_FFFF_FFFF) | (e << 52);
            let v = f64::from_bits(bits);
            let want = (v as f32).to_bits() as u64;
            let got = Format::FP32
                .from_f64(v, Rounding::NearestEven, Overflow::Ieee)
                .unwrap();
            assert_eq!(got, want, "{v:e}");
        }
    }
}
