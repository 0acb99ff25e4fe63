//! `fp32acc`: the FP32 accumulator `acc <- acc + x`, a general IEEE 754 binary32 adder behind a
//! register — the adder that sums the products of `lmul` and `fpmul` (converted exactly to
//! FP32) in a dot product.
//!
//! Unlike the adder inside `fp16mac`, whose addend is always an exact FP16 product, `x` is any
//! FP32 code: the sum is rounded once to nearest even with gradual underflow (subnormal inputs
//! and results), a sum beyond the largest finite value gives ±Inf, any NaN result is the
//! canonical NaN `7FC00000`, Inf + (-Inf) is NaN, and an exact zero sum is +0 except
//! (-0) + (-0) = -0.

use crate::error::{Error, Result};
use crate::format::{Class, Format, Overflow, Rounding};
use crate::model::{hex, parse_hex, pick_policy, Evaluation, PeModel};
use crate::pe::stream::{random_cycles, Accumulator};
use crate::samples::special_codes;
use rand::Rng;

const F: Format = Format::FP32;

/// The canonical quiet NaN of binary32.
pub const NAN: u32 = 0x7FC0_0000;

/// One IEEE 754 binary32 addition `acc + x`, round to nearest even (see the module
/// documentation for specials and signed zeros).
pub fn add(acc: u32, x: u32) -> u32 {
    let (a, b) = (acc as u64, x as u64);
    let (ca, cb) = (F.classify(a), F.classify(b));
    if ca == Class::Nan || cb == Class::Nan {
        return NAN;
    }
    match (ca == Class::Inf, cb == Class::Inf) {
        (true, true) if F.sign(a) != F.sign(b) => return NAN,
        (true, _) => return acc,
        (_, true) => return x,
        _ => {}
    }
    F.round_sum(
        F.decompose(a).unwrap(),
        F.decompose(b).unwrap(),
        Rounding::NearestEven,
        Overflow::Ieee,
    ) as u32
}

/// The same sum from the CPU's own binary32 adder (x86-64 SSE: round to nearest even,
/// subnormals kept, no flush to zero), any NaN made canonical: an oracle for tests that shares
/// no code with [`add`].
pub fn cpu_add(acc: u32, x: u32) -> u32 {
    let s = f32::from_bits(acc) + f32::from_bits(x);
    if s.is_nan() {
        NAN
    } else {
        s.to_bits()
    }
}

/// The inputs of the accumulator during one clock cycle (one value per RTL port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccInputs {
    /// Synchronous reset, active high; highest priority.
    pub reset: bool,
    /// Synchronous clear, active high; beats `en`, the operand of that cycle is ignored.
    pub clear: bool,
    /// Accumulate enable, active high; when low (and no reset/clear) the register holds.
    pub en: bool,
    /// FP32 addend `x`.
    pub x: u32,
}

/// The streaming accumulator: an FP32 register updated by one [`add`] per clock, with the
/// control ports and priorities of the `fp16mac` and `int16fma` streaming MACs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fp32Acc {
    /// The FP32 accumulator register (the `acc` output port); +0 after reset.
    pub acc: u32,
}

impl Fp32Acc {
    /// One rising clock edge. Priority: `reset`, then `clear` (both load +0), then `en`
    /// (load `acc + x`); otherwise the register holds. Returns the new `acc`.
    pub fn clock(&mut self, i: &AccInputs) -> u32 {
        if i.reset || i.clear {
            self.acc = 0;
        } else if i.en {
            self.acc = add(self.acc, i.x);
        }
        self.acc
    }
}

impl Accumulator for Fp32Acc {
    type Operands = u32;
    type Inputs = AccInputs;
    fn inputs(reset: bool, clear: bool, en: bool, x: u32) -> AccInputs {
        AccInputs {
            reset,
            clear,
            en,
            x,
        }
    }
    fn clock(&mut self, i: &AccInputs) -> u32 {
        Fp32Acc::clock(self, i)
    }
    /// `reset clear en x`.
    fn row(i: &AccInputs) -> Vec<u64> {
        vec![i.reset as u64, i.clear as u64, i.en as u64, i.x as u64]
    }
    fn of_row(r: &[u64]) -> AccInputs {
        Self::inputs(r[0] == 1, r[1] == 1, r[2] == 1, r[3] as u32)
    }
}

/// One random accumulation for test stimulus ([`random_cycles`]). It works in a range of
/// magnitudes (anywhere, tiny near the subnormal range, or huge near the overflow threshold),
/// and its addends are chosen against the running sum: nearly or exactly cancelling it, odd
/// multiples of half a unit in its last place (rounding ties), a few binades away (short
/// alignments), 20 to 40 binades away (sticky bits only), or drawn from the range, with the odd
/// special or uniformly random code (NaN and Inf mostly redrawn, since they stay until the
/// next clear).
pub fn random_accumulation<R: Rng>(r: &mut R) -> Vec<AccInputs> {
    let range = regime(r);
    random_cycles::<Fp32Acc, R>(r, |r| r.gen(), |r, acc| addend(acc, range, r))
}

/// Special and boundary codes, both signs ([`special_codes`]).
pub fn specials() -> Vec<u32> {
    special_codes(&F).into_iter().map(|c| c as u32).collect()
}

/// A random code with exponent field `ef` (clamped to the finite range) and random sign and
/// mantissa.
pub fn with_exp<R: Rng>(ef: i64, r: &mut R) -> u32 {
    (r.gen::<u32>() & 0x807F_FFFF) | ((ef.clamp(0, 254) as u32) << 23)
}

/// Addends that nearly or exactly cancel, for tests: `a` with a random exponent field (a third
/// of the time near the subnormal range), `b` a random number of units in the last place off
/// `-a`, possibly in the neighbouring binade (`-a` itself where that would be a NaN code).
pub fn cancelling_pair<R: Rng>(r: &mut R) -> (u32, u32) {
    let ef = if r.gen_ratio(1, 3) {
        r.gen_range(0..=26)
    } else {
        r.gen_range(0..=254)
    };
    let a = with_exp(ef, r);
    let bits = r.gen_range(0..25);
    let delta = r.gen_range(0..=1u32 << bits);
    let b = if r.gen() {
        a.wrapping_add(delta)
    } else {
        a.wrapping_sub(delta)
    } ^ 0x8000_0000;
    let b = if F.classify(b as u64) == Class::Nan {
        a ^ 0x8000_0000
    } else {
        b
    };
    (a, b)
}

/// The range of magnitudes a random accumulation works in: exponent fields `lo..=hi`.
fn regime<R: Rng>(r: &mut R) -> (i64, i64) {
    match r.gen_range(0..8) {
        0 | 1 => (0, 30),
        2 => (215, 254),
        _ => (0, 254),
    }
}

/// An addend chosen against the running sum `acc` (see [`random_accumulation`]).
fn addend<R: Rng>(acc: u32, (lo, hi): (i64, i64), r: &mut R) -> u32 {
    const NEG: u32 = 0x8000_0000;
    let ef = ((acc >> 23) & 0xFF) as i64;
    let finite = ef != 0xFF;
    let x = match r.gen_range(0..64) {
        0..=13 if finite => {
            // Near -acc: a random number of units in the last place off, possibly none.
            let bits = r.gen_range(0..25);
            let d = r.gen_range(0..=1u32 << bits) >> r.gen_range(0..2);
            let x = if r.gen() {
                acc.wrapping_add(d)
            } else {
                acc.wrapping_sub(d)
            } ^ NEG;
            if (x >> 23) & 0xFF == 0xFF {
                acc ^ NEG
            } else {
                x
            }
        }
        14..=21 if finite && ef >= 1 => {
            // An odd multiple of half a unit in the last place of acc: its lowest set bit has
            // weight 2^(ef - 151); exponent field ef - 24 + j puts it at mantissa bit 23 - j.
            let j = r.gen_range(0..=10i64);
            let f = ef - 24 + j;
            if f < 1 {
                with_exp(r.gen_range(lo..=hi), r)
            } else {
                let m = if j == 0 {
                    0
                } else {
                    let low = 1u32 << (23 - j);
                    (r.gen::<u32>() & 0x7F_FFFF & !(low - 1)) | low
                };
                ((f as u32) << 23) | m | (r.gen::<u32>() & NEG)
            }
        }
        22..=31 if finite => with_exp(ef + r.gen_range(-3..=3), r),
        32..=37 if finite => {
            let d = r.gen_range(20..=40);
            with_exp(if r.gen_ratio(3, 4) { ef - d } else { ef + d }, r)
        }
        38 => {
            // Special codes are kept as drawn, NaN and Inf included.
            let sp = specials();
            return sp[r.gen_range(0..sp.len())];
        }
        39 => r.gen(),
        _ => with_exp(r.gen_range(lo..=hi), r),
    };
    // NaN and Inf stay in the accumulator until the next clear: mostly redrawn as finite.
    if (x >> 23) & 0xFF == 0xFF && !r.gen_ratio(1, 8) {
        x & 0xFF7F_FFFF
    } else {
        x
    }
}

/// The `fp32acc` PE in the registry.
pub struct Fp32AccPe;

impl PeModel for Fp32AccPe {
    fn id(&self) -> &'static str {
        "fp32acc"
    }
    fn summary(&self) -> &'static str {
        "FP32 accumulator acc + x (IEEE binary32 add, RNE, subnormals, Inf); the dot-product \
         adder behind lmul/fpmul"
    }
    fn formats(&self) -> Vec<String> {
        vec!["fp32".into()]
    }
    fn policies(&self) -> &'static [&'static str] {
        &["ieee"]
    }
    fn operand_syntax(&self) -> &'static str {
        "ACC X (FP32 hex codes)"
    }
    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation> {
        if format != "fp32" {
            return Err(Error::new(format!(
                "fp32acc takes format fp32, not '{format}'"
            )));
        }
        pick_policy(self, policy)?;
        if operands.len() != 2 {
            return Err(Error::new(format!(
                "expected two operands: {}; got {}",
                self.operand_syntax(),
                operands.len()
            )));
        }
        let acc = parse_hex("ACC", &operands[0], 32)? as u32;
        let x = parse_hex("X", &operands[1], 32)? as u32;
        let y = add(acc, x);
        Ok(Evaluation {
            hex: hex(y as u64, 32),
            value: F.display_value(y as u64),
            details: vec![
                ("acc".into(), F.display_value(acc as u64)),
                ("x".into(), F.display_value(x as u64)),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    //! The reference against the CPU's own binary32 addition ([`cpu_add`]), an implementation
    //! that shares no code with `Format::round_sum`.

    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rayon::prelude::*;

    /// Codes for the exhaustive pair check, both signs.
    fn special_set() -> Vec<u32> {
        let mut v: Vec<u32> = vec![
            0,
            1,
            2,
            3,
            0x0000_0010,
            0x0040_0000,
            0x0040_0001,
            0x007F_FFFE,
            0x007F_FFFF,
            0x0080_0000,
            0x0080_0001,
            0x0080_0002,
            0x00FF_FFFF,
            0x0100_0000,
            0x0100_0001,
            0x0C00_0000,
            0x3F7F_FFFE,
            0x3F7F_FFFF,
            0x3F80_0000,
            0x3F80_0001,
            0x3F80_0002,
            0x3FBF_FFFF,
            0x3FC0_0000,
            0x3FFF_FFFF,
            0x3300_0000,
            0x3380_0000,
            0x3380_0001,
            0x3400_0000,
            0x4B00_0000,
            0x4B7F_FFFF,
            0x4B80_0000,
            0x7300_0000,
            0x7F00_0000,
            0x7F00_0001,
            0x7F7F_FFFE,
            0x7F7F_FFFF,
            0x7F80_0000,
            0x7F80_0001,
            0x7FC0_0000,
            0x7FFF_FFFF,
        ];
        // Powers of two across the range, and values near them.
        for e in (1..=254u32).step_by(11) {
            v.extend([e << 23, (e << 23) | 1, (e << 23) - 1]);
        }
        v.extend(
            crate::samples::special_codes(&F)
                .into_iter()
                .map(|c| c as u32),
        );
        let mut out: Vec<u32> = v.iter().flat_map(|&c| [c, c | 0x8000_0000]).collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn fp32acc_matches_hardware_on_every_special_pair() {
        let s = special_set();
        let bad: Vec<String> = s
            .par_iter()
            .flat_map_iter(|&a| s.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| add(a, b) != cpu_add(a, b))
            .map(|(a, b)| {
                format!(
                    "{a:08X} + {b:08X}: {:08X}, hardware {:08X}",
                    add(a, b),
                    cpu_add(a, b)
                )
            })
            .collect();
        assert!(
            bad.is_empty(),
            "{} mismatches: {:?}",
            bad.len(),
            &bad[..8.min(bad.len())]
        );
        assert!(s.len() > 200, "{} codes", s.len());
        println!("fp32acc: {} special pairs", s.len() * s.len());
    }

    /// One random pair of the mixes: uniform codes, exponent distances 0 to 30 and beyond,
    /// nearly equal magnitudes of opposite sign (cancellation of every depth), sums near the
    /// overflow threshold, and operands in and near the subnormal range.
    fn random_pair(r: &mut ChaCha8Rng) -> (u32, u32) {
        let a = match r.gen_range(0..10) {
            0 => return (r.gen(), r.gen()),
            1..=3 => with_exp(r.gen_range(1..=254), r),
            4 | 5 => return cancelling_pair(r),
            6 => {
                // Near the overflow threshold: both large, same sign mostly.
                let a = with_exp(254 - r.gen_range(0..3), r);
                let b = with_exp(254 - r.gen_range(0..30), r);
                let b = if r.gen_ratio(3, 4) {
                    (b & 0x7FFF_FFFF) | (a & 0x8000_0000)
                } else {
                    b
                };
                return (a, b);
            }
            7 => {
                // Subnormal range: subnormal and small normal operands of either sign.
                let a = with_exp(r.gen_range(0..4), r);
                let b = with_exp(r.gen_range(0..30), r);
                return (a, b);
            }
            _ => with_exp(r.gen_range(0..=254), r),
        };
        // Exponent distance: short (alignment and rounding), long (sticky only), or beyond the
        // significand.
        let d = match r.gen_range(0..4) {
            0 => r.gen_range(0..=3),
            1 => r.gen_range(0..=26),
            2 => r.gen_range(20..=30),
            _ => r.gen_range(0..=60),
        };
        let ea = ((a >> 23) & 0xFF) as i64;
        let b = with_exp(if r.gen() { ea - d } else { ea + d }, r);
        if r.gen() {
            (a, b)
        } else {
            (b, a)
        }
    }

    #[test]
    fn fp32acc_matches_hardware_on_random_pairs() {
        const N: u64 = 12_000_000;
        const CHUNK: u64 = 100_000;
        // (mismatches, exact zeros from cancellation, overflows, subnormal results,
        //  cancellations of 8+ bits)
        let stats: Vec<(Vec<String>, [u64; 4])> = (0..N / CHUNK)
            .into_par_iter()
            .map(|k| {
                let mut r = ChaCha8Rng::seed_from_u64(0xF32A_CC00 + k);
                let mut bad = Vec::new();
                let mut c = [0u64; 4];
                for _ in 0..CHUNK {
                    let (a, b) = random_pair(&mut r);
                    let (got, want) = (add(a, b), cpu_add(a, b));
                    if got != want && bad.len() < 4 {
                        bad.push(format!("{a:08X} + {b:08X}: {got:08X}, hardware {want:08X}"));
                    }
                    let (fa, fb) = (f32::from_bits(a), f32::from_bits(b));
                    let w = f32::from_bits(want);
                    if fa.is_finite() && fb.is_finite() {
                        c[0] += (w == 0.0 && fa != 0.0) as u64;
                        c[1] += w.is_infinite() as u64;
                        c[2] += (w != 0.0 && w.is_subnormal()) as u64;
                        let top = |v: u32| (v >> 23) & 0xFF;
                        c[3] += (w != 0.0 && top(want) + 8 <= top(a).max(top(b))) as u64;
                    }
                }
                (bad, c)
            })
            .collect();
        let bad: Vec<&String> = stats.iter().flat_map(|s| &s.0).collect();
        assert!(bad.is_empty(), "{:?}", &bad[..8.min(bad.len())]);
        let c = stats.iter().fold([0u64; 4], |mut t, s| {
            for (x, y) in t.iter_mut().zip(s.1) {
                *x += y;
            }
            t
        });
        assert!(
            c[0] > 50_000 && c[1] > 25_000 && c[2] > 70_000 && c[3] > 700_000,
            "coverage {c:?}"
        );
        println!(
            "fp32acc: {N} random pairs: {} exact cancellations, {} overflows, {} subnormal \
             results, {} cancellations of 8+ bits",
            c[0], c[1], c[2], c[3]
        );
    }

    #[test]
    fn fp32acc_signed_zeros_nan_and_overflow() {
        assert_eq!(
            cpu_add(1, 1),
            2,
            "the CPU keeps subnormals (no flush to zero)"
        );
        assert_eq!(add(0, 0), 0);
        assert_eq!(add(0x8000_0000, 0), 0);
        assert_eq!(add(0, 0x8000_0000), 0);
        assert_eq!(add(0x8000_0000, 0x8000_0000), 0x8000_0000);
        assert_eq!(add(0x3F80_0000, 0xBF80_0000), 0, "1 - 1 = +0");
        assert_eq!(add(0x8000_0001, 0x0000_0001), 0);
        assert_eq!(add(0x7F80_0000, 0xFF80_0000), NAN);
        assert_eq!(add(0xFF80_0001, 0), NAN);
        assert_eq!(add(0x7F7F_FFFF, 0x7F7F_FFFF), 0x7F80_0000);
        assert_eq!(
            add(0xFF7F_FFFF, 0xF300_0000),
            0xFF80_0000,
            "half an ulp ties to Inf"
        );
        assert_eq!(
            add(0x7F7F_FFFF, 0x72FF_FFFF),
            0x7F7F_FFFF,
            "below half an ulp"
        );
        assert_eq!(add(0x0000_0001, 0x0000_0001), 0x0000_0002);
        assert_eq!(
            add(0x007F_FFFF, 0x0000_0001),
            0x0080_0000,
            "into the normal range"
        );
        assert_eq!(add(0x0080_0000, 0x8000_0001), 0x007F_FFFF, "out of it");
    }

    #[test]
    fn fp32acc_streaming_priorities() {
        let one = 0x3F80_0000;
        let mut m = Fp32Acc::default();
        let step = |m: &mut Fp32Acc, reset, clear, en, x| {
            m.clock(&AccInputs {
                reset,
                clear,
                en,
                x,
            })
        };
        assert_eq!(step(&mut m, false, false, true, one), one);
        assert_eq!(step(&mut m, false, false, false, one), one, "hold");
        assert_eq!(step(&mut m, false, false, true, one), 0x4000_0000);
        assert_eq!(step(&mut m, false, true, true, one), 0, "clear beats en");
        assert_eq!(
            step(&mut m, false, false, true, 0x8000_0000),
            0,
            "+0 + (-0)"
        );
        assert_eq!(step(&mut m, false, false, true, 0x7F80_0000), 0x7F80_0000);
        assert_eq!(step(&mut m, true, true, true, one), 0, "reset beats all");
        assert_eq!(step(&mut m, true, false, false, one), 0);
    }

    #[test]
    fn fp32acc_evaluated() {
        use crate::model::PeModel;
        let pe = Fp32AccPe;
        let ops = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let e = pe
            .eval("fp32", None, &ops(&["3F800000", "40000000"]))
            .unwrap();
        assert_eq!((e.hex.as_str(), e.value.as_str()), ("40400000", "3"));
        assert!(pe.eval("fp16", None, &ops(&["0", "0"])).is_err());
        assert!(pe
            .eval("fp32", Some("saturate"), &ops(&["0", "0"]))
            .is_err());
        assert!(pe.eval("fp32", None, &ops(&["0"])).is_err());
    }
}
