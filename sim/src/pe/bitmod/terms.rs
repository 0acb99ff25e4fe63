//! Splitting a weight into two signed power-of-two terms, one per cycle.
//!
//! A weight `v` becomes terms `t0` (significance 0, first cycle) and `t1` (significance 1,
//! second cycle) with `v = t0.value(0) + t1.value(1)` and
//! `t.value(sig) = (-1)^sign · present · 2^(exp + sig)`. With `|v| = Σ 2^k` over its set bits:
//! - `|v| = 0`: both terms absent;
//! - one set bit `k ≤ 3`: `t0 = 2^k`, `t1` absent; one set bit `k = 4` (the value 16):
//!   `t0` absent, `t1` with `exp = 3`;
//! - two set bits `k_lo < k_hi`: `t0` with `exp = k_lo`, `t1` with `exp = k_hi - 1`.
//!
//! Both terms carry the sign of the weight (absent terms too; 0 has sign 0). Magnitudes with
//! three or more set bits, or above 16, have no decomposition.

/// One power-of-two term of a weight; its significance (0 or 1) is its position in the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Term {
    /// True for a negative term.
    pub sign: bool,
    /// Exponent, 0..=3 (2 bits).
    pub exp: u8,
    /// The mantissa / "present" bit: false means the term is zero.
    pub present: bool,
}

impl Term {
    /// The 4-bit term code `{present, sign, exp[1:0]}` that the weight decoder outputs.
    pub fn bits(&self) -> u8 {
        (self.present as u8) << 3 | (self.sign as u8) << 2 | (self.exp & 3)
    }

    /// Decodes a 4-bit term code `{present, sign, exp[1:0]}` (higher bits ignored).
    pub fn from_bits(bits: u8) -> Term {
        Term {
            present: bits & 8 != 0,
            sign: bits & 4 != 0,
            exp: bits & 3,
        }
    }

    /// Signed value of the term at significance `sig`.
    pub fn value(&self, sig: u32) -> i32 {
        if !self.present {
            return 0;
        }
        let m = 1i32 << (self.exp as u32 + sig);
        if self.sign {
            -m
        } else {
            m
        }
    }
}

/// Splits `value` into its two terms; `None` when it has no two-term decomposition.
pub fn decompose(value: i32) -> Option<[Term; 2]> {
    let sign = value < 0;
    let mag = value.unsigned_abs();
    if mag > 16 || mag.count_ones() > 2 {
        return None;
    }
    let absent = Term {
        sign,
        exp: 0,
        present: false,
    };
    let term = |k: u32| Term {
        sign,
        exp: k as u8,
        present: true,
    };
    Some(match mag.count_ones() {
        0 => [absent, absent],
        1 => {
            let k = mag.trailing_zeros();
            if k <= 3 {
                [term(k), absent]
            } else {
                [absent, term(k - 1)]
            }
        }
        _ => {
            let lo = mag.trailing_zeros();
            let hi = 31 - mag.leading_zeros();
            [term(lo), term(hi - 1)]
        }
    })
}

/// The weight a pair of terms stands for: `t0.value(0) + t1.value(1)`.
pub fn reconstruct(terms: &[Term; 2]) -> i32 {
    terms[0].value(0) + terms[1].value(1)
}
