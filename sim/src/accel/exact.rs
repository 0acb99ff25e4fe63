//! Exact rationals for the accelerator models: every constant is a short decimal or a dyadic
//! bit width, so energies and precisions are computed without rounding and printed exactly.
//!
//! [`Exact`] wraps `Ratio<i128>`; in configuration files it is written as a decimal string
//! (`"0.613"`, `"3.0625"`), a fraction (`"49/16"`) or an integer, and it is written back as a
//! decimal whenever the value has a finite decimal expansion (otherwise as `p/q`).

use crate::{Error, Result};
use num_integer::Integer;
use num_rational::Ratio;
use num_traits::{CheckedAdd, CheckedMul, Signed, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The rational type the energy model computes in.
pub type Q = Ratio<i128>;

/// An exact rational number, read and written as decimal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Exact(pub Q);

impl Exact {
    /// The integer `n`.
    pub fn int(n: i128) -> Self {
        Exact(Q::from_integer(n))
    }

    /// `numer / denom` (panics on a zero denominator: for constants only).
    pub fn frac(numer: i128, denom: i128) -> Self {
        Exact(Q::new(numer, denom))
    }

    /// Parses a decimal (`0.00832226`, `-1.5`, `12`) or a fraction (`49/16`).
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let bad = || {
            Error::new(format!(
                "`{text}` is not an exact number (expected a decimal such as 0.613 or a \
                 fraction such as 49/16)"
            ))
        };
        if let Some((n, d)) = t.split_once('/') {
            let n: i128 = n.trim().parse().map_err(|_| bad())?;
            let d: i128 = d.trim().parse().map_err(|_| bad())?;
            if d == 0 {
                return Err(Error::new(format!("`{text}`: the denominator is zero")));
            }
            return Ok(Exact(Q::new(n, d)));
        }
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 30
        {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let numer: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| bad())?
        };
        let denom = 10i128.checked_pow(frac.len() as u32).ok_or_else(bad)?;
        let numer = if neg { -numer } else { numer };
        Ok(Exact(Q::new(numer, denom)))
    }

    /// The value as `f64` (for display only).
    pub fn to_f64(self) -> f64 {
        // Integer part and fraction separately keep large values accurate.
        let (n, d) = (*self.0.numer(), *self.0.denom());
        let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
        q as f64 + r as f64 / d as f64
    }

    /// The largest integer not above the value.
    pub fn floor(self) -> i128 {
        self.0.numer().div_floor(self.0.denom())
    }

    /// The smallest integer not below the value.
    pub fn ceil(self) -> i128 {
        self.0.numer().div_ceil(self.0.denom())
    }

    /// The nearest integer, halves to even: what Python's `round()` does to a float (the
    /// BitMoD artifact rounds its printed energies with it). Halves to even and halves away
    /// from zero differ only on exact halves, which none of the artifact's energies is.
    pub fn round_half_even(self) -> i128 {
        let f = self.floor();
        let rest = self.0 - Q::from_integer(f);
        let twice = rest * Q::from_integer(2);
        let one = Q::from_integer(1);
        if twice > one || (twice == one && f.is_odd()) {
            f + 1
        } else {
            f
        }
    }

    /// Whether the value is above zero.
    pub fn is_positive(self) -> bool {
        self.0.is_positive()
    }

    /// Whether the value is an integer.
    pub fn is_integer(self) -> bool {
        self.0.is_integer()
    }

    /// `self + other`, or an error on overflow.
    pub fn checked_add(self, other: Exact) -> Result<Exact> {
        self.0.checked_add(&other.0).map(Exact).ok_or_else(overflow)
    }

    /// `self · other`, or an error on overflow.
    pub fn checked_mul(self, other: Exact) -> Result<Exact> {
        self.0.checked_mul(&other.0).map(Exact).ok_or_else(overflow)
    }

    /// `self · n`, or an error on overflow.
    pub fn checked_mul_int(self, n: u64) -> Result<Exact> {
        self.checked_mul(Exact::int(i128::from(n)))
    }

    /// The exact decimal text when the expansion terminates, else `p/q`.
    pub fn to_text(self) -> String {
        let (n, d) = (*self.0.numer(), *self.0.denom());
        let (mut d2, mut twos, mut fives) = (d, 0u32, 0u32);
        while d2 % 2 == 0 {
            d2 /= 2;
            twos += 1;
        }
        while d2 % 5 == 0 {
            d2 /= 5;
            fives += 1;
        }
        if d2 != 1 {
            return format!("{n}/{d}");
        }
        let places = twos.max(fives);
        let Some(scale) = 10i128.checked_pow(places) else {
            return format!("{n}/{d}");
        };
        let Some(scaled) = n.checked_mul(scale / d) else {
            return format!("{n}/{d}");
        };
        if places == 0 {
            return scaled.to_string();
        }
        let sign = if scaled < 0 { "-" } else { "" };
        let a = scaled.unsigned_abs();
        let p = 10u128.pow(places);
        format!("{sign}{}.{:0width$}", a / p, a % p, width = places as usize)
    }
}

fn overflow() -> Error {
    Error::new("arithmetic overflow in the exact energy computation (the workload is too large)")
}

impl Zero for Exact {
    fn zero() -> Self {
        Exact(Q::zero())
    }
    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl std::ops::Add for Exact {
    type Output = Exact;
    fn add(self, rhs: Exact) -> Exact {
        Exact(self.0 + rhs.0)
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Exact;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an exact number: an integer, or a string holding a decimal or p/q")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Exact, E> {
                Exact::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Exact, E> {
                Ok(Exact::int(i128::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Exact, E> {
                Ok(Exact::int(i128::from(v)))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!(
            Exact::parse("0.00832226").unwrap(),
            Exact::frac(832226, 100_000_000)
        );
        assert_eq!(Exact::parse("49/16").unwrap().to_text(), "3.0625");
        assert_eq!(Exact::parse("-1.50").unwrap().to_text(), "-1.5");
        assert_eq!(Exact::frac(1, 3).to_text(), "1/3");
        assert_eq!(Exact::int(7).to_text(), "7");
        assert!(Exact::parse("1e5").is_err());
        assert!(Exact::parse(".").is_err());
    }

    #[test]
    fn rounding() {
        assert_eq!(Exact::frac(5, 2).round_half_even(), 2);
        assert_eq!(Exact::frac(7, 2).round_half_even(), 4);
        assert_eq!(Exact::frac(26, 10).round_half_even(), 3);
        assert_eq!(Exact::frac(24, 10).round_half_even(), 2);
        assert_eq!(Exact::frac(-5, 2).round_half_even(), -2);
        assert_eq!(Exact::frac(29, 10).floor(), 2);
        assert_eq!(Exact::frac(21, 10).ceil(), 3);
    }
}
