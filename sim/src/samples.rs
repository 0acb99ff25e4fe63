//! Operand samples for checks: special and boundary codes of a format, random pairs aimed at
//! every kind of product, and pairs whose exact product is a rounding tie.

use crate::format::Format;
use rand::Rng;

/// Special and boundary codes of a format: zeros, subnormal edges, min/max normal, max finite,
/// Inf, NaN, one, exponent extremes, all-ones and single-bit mantissas — both signs.
pub fn special_codes(f: &Format) -> Vec<u64> {
    let m = f.m;
    let man = f.man_mask();
    let emax_field = (1u64 << f.e) - 1;
    let mut v = vec![
        0,
        1,
        2,
        man,
        man - 1,
        1 << m,
        (1 << m) | 1,
        (1 << m) | man,
        (2 << m) | man,
        f.max_finite(),
        f.max_finite() - 1,
        (emax_field - 1) << m,
        (f.bias as u64) << m,
        ((f.bias as u64) << m) | man,
        ((f.bias as u64) << m) | (1 << (m - 1)),
        ((f.bias as u64 - 1) << m) | man,
        ((f.bias as u64 + 1) << m) | 1,
        emax_field << m,
        (emax_field << m) | 1,
        (emax_field << m) | (1 << (m - 1)),
        f.mag_mask(),
    ];
    for k in 0..m {
        v.push(1 << k);
        v.push((f.bias as u64) << m | (1 << k));
    }
    let mut out: Vec<u64> = v
        .iter()
        .flat_map(|&c| [c & f.mag_mask(), (c & f.mag_mask()) | f.sign_bit()])
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Random codes whose products cover normal, subnormal, overflow and special results:
/// a third uniform codes, a third with exponents near the bias, a third aimed at the
/// underflow and overflow boundaries of the product.
pub fn random_pair<R: Rng>(f: &Format, r: &mut R) -> (u64, u64) {
    let mask = f.mask();
    let emax = (1i64 << f.e) - 1;
    let code = |r: &mut R, ef: i64| -> u64 {
        let ef = ef.clamp(0, emax) as u64;
        (r.gen::<u64>() & (f.sign_bit() | f.man_mask())) | (ef << f.m)
    };
    match r.gen_range(0..3) {
        0 => (r.gen::<u64>() & mask, r.gen::<u64>() & mask),
        1 => {
            let b = f.bias as i64;
            let spread = (f.e as i64 + 1).min(b);
            let ea = b + r.gen_range(-spread..=spread);
            let eb = b + r.gen_range(-spread..=spread);
            (code(r, ea), code(r, eb))
        }
        _ => {
            // Product exponent field near 0 (underflow) or near the top (overflow).
            let target = if r.gen::<bool>() {
                r.gen_range(-(f.m as i64) - 3..=2)
            } else {
                emax - r.gen_range(0..=2)
            };
            let ea = r.gen_range(1..emax);
            let eb = target + f.bias as i64 - ea;
            (code(r, ea), code(r, eb))
        }
    }
}

/// A pair whose exact product lies exactly halfway between two neighbouring codes (a rounding
/// tie): `a` with an odd mantissa times `b = 1.5 · 2^k`, at an exponent spread that covers
/// normal, subnormal and overflowing products.
pub fn tie_pair<R: Rng>(f: &Format, r: &mut R) -> (u64, u64) {
    let emax = (1i64 << f.e) - 2;
    let ea = r.gen_range(1..=emax.max(1));
    let man = (r.gen::<u64>() & f.man_mask()) | 1;
    let a = ((ea as u64) << f.m) | man | if r.gen() { f.sign_bit() } else { 0 };
    let eb = r.gen_range(1..=emax.max(1));
    let b = ((eb as u64) << f.m) | (1 << (f.m - 1)) | if r.gen() { f.sign_bit() } else { 0 };
    (a & f.mask(), b & f.mask())
}

/// Operand distribution of an energy workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dist {
    /// Standard normal values, N(0, 1).
    Gaussian,
    /// Uniform values in [-1, 1).
    Uniform,
    /// Random sign, magnitude 2^u with u uniform in [-8, 8).
    LogUniform,
}

impl Dist {
    /// Every distribution.
    pub const ALL: [Dist; 3] = [Dist::Gaussian, Dist::Uniform, Dist::LogUniform];

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dist::Gaussian => "gaussian",
            Dist::Uniform => "uniform",
            Dist::LogUniform => "loguniform",
        }
    }

    /// Parses a name; the error lists the valid ones.
    pub fn parse(s: &str) -> crate::Result<Dist> {
        Dist::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                crate::Error::new(format!(
                    "unknown distribution '{s}'; valid: gaussian, uniform, loguniform"
                ))
            })
    }

    /// One real value.
    pub fn value<R: Rng>(self, r: &mut R) -> f64 {
        use rand_distr::Distribution;
        match self {
            Dist::Gaussian => rand_distr::StandardNormal.sample(r),
            Dist::Uniform => r.gen_range(-1.0..1.0),
            Dist::LogUniform => {
                let m = 2f64.powf(r.gen_range(-8.0..8.0));
                if r.gen::<bool>() {
                    -m
                } else {
                    m
                }
            }
        }
    }

    /// One value rounded (to nearest even, saturating) into `f`.
    pub fn code<R: Rng>(self, f: &Format, r: &mut R) -> u64 {
        f.from_f64(
            self.value(r),
            crate::format::Rounding::NearestEven,
            crate::format::Overflow::Saturate,
        )
        .expect("finite values round into every format")
    }

    /// One 16-bit integer: N(0, 1) and U(-1, 1) scaled by 2^12 (so that sums of products stay
    /// in 32 bits for long dot products), log-uniform magnitudes 2^u with u in [0, 15).
    pub fn int16<R: Rng>(self, r: &mut R) -> i16 {
        let v = match self {
            Dist::LogUniform => {
                let m = 2f64.powf(r.gen_range(0.0..15.0));
                if r.gen::<bool>() {
                    -m
                } else {
                    m
                }
            }
            d => d.value(r) * 4096.0,
        };
        v.round().clamp(-32768.0, 32767.0) as i16
    }
}
