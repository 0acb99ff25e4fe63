//! Vectors of `fp32acc`, the streaming FP32 accumulator: `RESET CLEAR EN X ACC`, one clock
//! cycle per row (`ACC` is the accumulator after that cycle's rising edge).
//!
//! A random case is one accumulation: a reset or clear cycle, then 1 to 64 cycles with `en`
//! high seven times in eight and an occasional `reset` or `clear`. Each case works in a range
//! of magnitudes (anywhere, tiny near the subnormal range, or huge near the overflow
//! threshold), and its addends are chosen against the running sum: nearly or exactly
//! cancelling it, odd multiples of half a unit in its last place (rounding ties), a few
//! binades away (short alignments), 20 to 40 binades away (sticky bits only), or drawn from the
//! range, with the odd special or uniformly random code (NaN and Inf mostly redrawn, since they
//! stay until the next clear).
//!
//! The corner cases come first: hand-written accumulations (signed zeros, overflow to Inf and
//! on through NaN back to numbers after a clear, overflow by rounding, subnormal sums in and
//! out of the normal range, cancellation into the subnormal range, ties on both sides, sticky
//! bits in subtraction, the control priorities), then every pair of special FP32 codes: for
//! each special code `a`, one case that loads `a` after a clear (+0 + `a` is `a`) and adds each
//! special code `b`.

use crate::codec::{Case, Field, Layout, PeVectors, Timing};
use pelab_hdl::RtlConfig;
use pelab_sim::format::Format;
use pelab_sim::fp32acc::{AccInputs, Fp32Acc};
use pelab_sim::samples::special_codes;
use pelab_sim::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The `fp32acc` vector codec.
pub struct Fp32AccVectors;

const F: Format = Format::FP32;
const ONE: u32 = 0x3F80_0000;
const MAX: u32 = 0x7F7F_FFFF;
const INF: u32 = 0x7F80_0000;
const NEG: u32 = 0x8000_0000;

fn check(cfg: &RtlConfig) -> Result<()> {
    if cfg.format != "fp32" || cfg.policy != "ieee" {
        return Err(Error::new(format!(
            "fp32acc vectors exist for format=fp32 policy=ieee, not format={} policy={}",
            cfg.format, cfg.policy
        )));
    }
    Ok(())
}

fn row(reset: bool, clear: bool, en: bool, x: u32) -> Vec<u64> {
    vec![reset as u64, clear as u64, en as u64, x as u64]
}

fn inputs(r: &[u64]) -> AccInputs {
    AccInputs {
        reset: r[0] == 1,
        clear: r[1] == 1,
        en: r[2] == 1,
        x: r[3] as u32,
    }
}

/// A clear, then one accumulating row per addend.
fn accumulation(xs: &[u32]) -> Case {
    let mut c = vec![row(false, true, false, 0)];
    c.extend(xs.iter().map(|&x| row(false, false, true, x)));
    c
}

/// Hand-written accumulations through signed zeros, overflow, subnormals, cancellation and
/// ties (`tests::hand_written_cases_reach_what_they_claim` lists what each one reaches).
fn hand_written() -> Vec<Case> {
    let mut v = vec![
        // Signed zeros: +0 + (-0) = +0, 1 - 1 = +0, +0 + (-0) again.
        accumulation(&[NEG, ONE, ONE | NEG, NEG]),
        // Overflow to Inf, Inf through finite addends, Inf - Inf = NaN, NaN stays; a clear
        // brings the accumulator back to numbers.
        {
            let mut c = accumulation(&[MAX, MAX, MAX | NEG, INF | NEG, ONE]);
            c.extend(accumulation(&[ONE]));
            c
        },
        // Overflow by rounding: below half a unit in the last place of MAX stays MAX, half of
        // it ties to even, which is Inf (MAX is odd).
        accumulation(&[MAX, 0x72FF_FFFF, 0x7300_0000]),
        // The same on the negative side, then +Inf gives NaN.
        accumulation(&[MAX | NEG, 0xF300_0000, INF]),
        // Four times 2^126 runs into Inf.
        accumulation(&[0x7E80_0000; 4]),
        // Subnormal sums: 2^-149 + 2^-149, up to the largest subnormal, into the normal range
        // and back out of it, then to zero.
        accumulation(&[1, 1, 0x007F_FFFD, 1, 1 | NEG, 0x007F_FFFF | NEG]),
        // Cancellation of two normal numbers into the subnormal range, and a subnormal result
        // from a normal and a negative normal addend.
        accumulation(&[0x0100_0001, 0x0100_0000 | NEG, 0x0080_0000 | NEG]),
        // Cancellation of 23 bits, then to zero.
        accumulation(&[0x3F80_0001, ONE | NEG, 0x3400_0000 | NEG]),
        // Ties: 1 + 2^-24 stays 1 (even); (1 + 2^-23) + 2^-24 goes up to 1 + 2^-22;
        // (1 + 2^-22) - 2^-24 is a tie again, to the even 1 + 2^-22.
        accumulation(&[
            ONE,
            0x3380_0000,
            0x3400_0000,
            0x3380_0000,
            0x3380_0000 | NEG,
        ]),
        // The negative side: -1 - 2^-24 stays -1, -1 - 3·2^-24 goes to -(1 + 2^-22).
        accumulation(&[ONE | NEG, 0x3380_0000 | NEG, 0x3440_0000 | NEG]),
        // Sticky in subtraction: 2^24 - 2^-46 rounds back to 2^24, 2^24 + 2^-46 stays; 2^24 -
        // 0.75 goes to 2^24 - 1, minus 0.5 is then a tie to the even 2^24 - 2.
        accumulation(&[
            0x4B80_0000,
            0xA880_0000,
            0x2880_0000,
            0xBF40_0000,
            0xBF00_0000,
        ]),
        // Addends far below and far above the sum: 1 + 2^-149 is 1; 2^-149 + 1 is 1.
        accumulation(&[ONE, 1, 1 | NEG]),
        accumulation(&[1, ONE]),
        // NaN codes (signalling, negative, all ones) give the canonical NaN.
        accumulation(&[0x7F80_0001]),
        accumulation(&[ONE, 0xFFC0_0000]),
        accumulation(&[0xFFFF_FFFF, INF]),
        // Control: hold with en low, clear beats en, reset beats clear and en.
        vec![
            row(true, false, false, 0),
            row(false, false, true, ONE),
            row(false, false, false, INF),
            row(false, true, true, INF),
            row(false, false, true, 0x4000_0000),
            row(true, true, true, 0x7FC0_0000),
            row(false, false, true, 0x4080_0000),
        ],
    ];
    // Accumulator states reached in several steps, each with every special addend: +0 from
    // 1 - 1, NaN from Inf - Inf, Inf from an overflow.
    let sp = specials();
    for steps in [vec![ONE, ONE | NEG], vec![INF, INF | NEG], vec![MAX, MAX]] {
        let mut c = Vec::new();
        for &x in &sp {
            c.extend(accumulation(&steps));
            c.push(row(false, false, true, x));
        }
        v.push(c);
    }
    v
}

/// Special and boundary FP32 codes, both signs (`pelab_sim::samples::special_codes`).
fn specials() -> Vec<u32> {
    special_codes(&F).into_iter().map(|c| c as u32).collect()
}

/// A random code with exponent field `ef` (clamped to the finite range) and random sign and
/// mantissa.
fn with_exp(ef: i64, r: &mut ChaCha8Rng) -> u32 {
    (r.gen::<u32>() & 0x807F_FFFF) | ((ef.clamp(0, 254) as u32) << 23)
}

/// The range of magnitudes a random case works in: exponent fields `lo..=hi`.
fn regime(r: &mut ChaCha8Rng) -> (i64, i64) {
    match r.gen_range(0..8) {
        0 | 1 => (0, 30),
        2 => (215, 254),
        _ => (0, 254),
    }
}

/// An addend chosen against the running sum `acc` (see the module documentation).
fn addend(acc: u32, (lo, hi): (i64, i64), r: &mut ChaCha8Rng) -> u32 {
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

impl PeVectors for Fp32AccVectors {
    fn id(&self) -> &'static str {
        "fp32acc"
    }
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout> {
        check(cfg)?;
        Ok(Layout {
            fields: vec![
                Field::input("reset", 1),
                Field::input("clear", 1),
                Field::input("en", 1),
                Field::input("x", 32),
                Field::output("acc", 32),
            ],
            timing: Timing::Cycles,
            care: false,
            restart: vec!["reset".into(), "clear".into()],
        })
    }
    fn exhaustive_size(&self, _cfg: &RtlConfig) -> Option<u64> {
        None
    }
    fn exhaustive_case(&self, _cfg: &RtlConfig, _i: u64) -> Case {
        Vec::new()
    }
    fn corner_cases(&self, cfg: &RtlConfig) -> Result<Vec<Case>> {
        check(cfg)?;
        let mut v = hand_written();
        let sp = specials();
        for &a in &sp {
            let mut case = Vec::new();
            for &b in &sp {
                case.extend(accumulation(&[a, b]));
            }
            v.push(case);
        }
        Ok(v)
    }
    fn random_case(&self, cfg: &RtlConfig, r: &mut ChaCha8Rng) -> Result<Case> {
        check(cfg)?;
        // The reference runs alongside, so that addends can be chosen against the sum.
        let mut m = Fp32Acc::default();
        let range = regime(r);
        let start = if r.gen_ratio(1, 8) {
            row(true, r.gen(), r.gen(), r.gen())
        } else {
            row(false, true, r.gen(), r.gen())
        };
        m.clock(&inputs(&start));
        let mut case = vec![start];
        for _ in 0..r.gen_range(1..=64) {
            let x = addend(m.acc, range, r);
            let x = row(
                r.gen_ratio(1, 400),
                r.gen_ratio(1, 100),
                !r.gen_ratio(1, 8),
                x,
            );
            m.clock(&inputs(&x));
            case.push(x);
        }
        Ok(case)
    }
    fn expected(&self, cfg: &RtlConfig, case: &[Vec<u64>]) -> Result<Vec<(Vec<u64>, u64)>> {
        check(cfg)?;
        // Every case starts with a reset or clear cycle, so the register's earlier content
        // never matters.
        let mut m = Fp32Acc::default();
        Ok(case
            .iter()
            .map(|r| (vec![m.clock(&inputs(r)) as u64], 0))
            .collect())
    }
    fn describe_output(&self, _cfg: &RtlConfig, _field: &str, v: u64) -> String {
        F.display_value(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The accumulator after each row, from the CPU's own binary32 addition (NaN made
    /// canonical) and the control priorities written out here.
    fn run_cpu(case: &Case) -> Vec<u32> {
        let mut acc = 0u32;
        case.iter()
            .map(|r| {
                if r[0] == 1 || r[1] == 1 {
                    acc = 0;
                } else if r[2] == 1 {
                    let s = f32::from_bits(acc) + f32::from_bits(r[3] as u32);
                    acc = if s.is_nan() { 0x7FC0_0000 } else { s.to_bits() };
                }
                acc
            })
            .collect()
    }

    fn run(case: &Case) -> Vec<u32> {
        let mut m = Fp32Acc::default();
        let got: Vec<u32> = case.iter().map(|r| m.clock(&inputs(r))).collect();
        assert_eq!(got, run_cpu(case), "reference and CPU differ on {case:X?}");
        got
    }

    #[test]
    fn hand_written_cases_reach_what_they_claim() {
        let c = hand_written();
        let nan = 0x7FC0_0000;
        assert_eq!(run(&c[0]), [0, 0, ONE, 0, 0]);
        assert_eq!(run(&c[1]), [0, MAX, INF, INF, nan, nan, 0, ONE]);
        assert_eq!(run(&c[2]), [0, MAX, MAX, INF]);
        assert_eq!(run(&c[3]), [0, MAX | NEG, INF | NEG, nan]);
        assert_eq!(run(&c[4]), [0, 0x7E80_0000, 0x7F00_0000, 0x7F40_0000, INF]);
        assert_eq!(
            run(&c[5]),
            [0, 1, 2, 0x007F_FFFF, 0x0080_0000, 0x007F_FFFF, 0]
        );
        assert_eq!(run(&c[6]), [0, 0x0100_0001, 2, 0x807F_FFFE]);
        assert_eq!(run(&c[7]), [0, 0x3F80_0001, 0x3400_0000, 0]);
        assert_eq!(
            run(&c[8]),
            [0, ONE, ONE, 0x3F80_0001, 0x3F80_0002, 0x3F80_0002]
        );
        assert_eq!(run(&c[9]), [0, ONE | NEG, ONE | NEG, 0xBF80_0002]);
        assert_eq!(
            run(&c[10]),
            [
                0,
                0x4B80_0000,
                0x4B80_0000,
                0x4B80_0000,
                0x4B7F_FFFF,
                0x4B7F_FFFE
            ]
        );
        assert_eq!(run(&c[11]), [0, ONE, ONE, ONE]);
        assert_eq!(run(&c[12]), [0, 1, ONE]);
        assert_eq!(run(&c[13])[1], nan);
        assert_eq!(run(&c[14])[2], nan);
        assert_eq!(run(&c[15])[2], nan);
        assert_eq!(run(&c[16]), [0, ONE, ONE, 0, 0x4000_0000, 0, 0x4080_0000]);
        for (i, state) in [(17, 0), (18, nan), (19, INF)] {
            let acc = run(&c[i]);
            assert!(acc.chunks(4).all(|w| w[2] == state), "case {i}");
        }
        assert!(c.iter().all(|c| c[0][0] == 1 || c[0][1] == 1));
    }

    #[test]
    fn corner_cases_cover_every_special_pair() {
        let cfg = RtlConfig::new("fp32", "ieee", 0);
        let corners = Fp32AccVectors.corner_cases(&cfg).unwrap();
        let sp = specials();
        let pairs = &corners[corners.len() - sp.len()..];
        for (case, &a) in pairs.iter().zip(&sp) {
            // Triples: a clear, `a` (+0 + a), then the special code `b`.
            assert_eq!(case.len(), 3 * sp.len());
            for (k, &b) in sp.iter().enumerate() {
                assert_eq!(case[3 * k], row(false, true, false, 0));
                assert_eq!(case[3 * k + 1], row(false, false, true, a));
                assert_eq!(case[3 * k + 2], row(false, false, true, b));
            }
            run(case);
        }
        assert!(sp.len() > 100, "{} special codes", sp.len());
    }

    #[test]
    fn random_cases_are_accumulations() {
        let cfg = RtlConfig::new("fp32", "ieee", 0);
        let mut r = ChaCha8Rng::seed_from_u64(5);
        let (mut rows, mut zeros, mut inf, mut nan, mut sub, mut ties) = (0, 0, 0, 0, 0, 0);
        for _ in 0..4000 {
            let c = Fp32AccVectors.random_case(&cfg, &mut r).unwrap();
            assert!((2..=65).contains(&c.len()) && (c[0][0] == 1 || c[0][1] == 1));
            assert!(c.iter().all(|r| r.len() == 4 && r[3] >> 32 == 0));
            rows += c.len();
            let acc = run(&c);
            for (w, x) in acc.windows(2).zip(&c[1..]) {
                let (before, after) = (w[0], w[1]);
                let step = x[0] == 0 && x[1] == 0 && x[2] == 1;
                zeros += (step && before & 0x7FFF_FFFF != 0 && after == 0) as u32;
                inf += (step && before & 0x7FFF_FFFF != INF && after & 0x7FFF_FFFF == INF) as u32;
                nan += (step && before != 0x7FC0_0000 && after == 0x7FC0_0000) as u32;
                sub += (step && after & 0x7F80_0000 == 0 && after & 0x7F_FFFF != 0) as u32;
                // A tie: the exact sum lies halfway between two neighbouring codes.
                let (a, b) = (
                    f32::from_bits(before) as f64,
                    f32::from_bits(x[3] as u32) as f64,
                );
                let s = a + b; // exact in f64 but for far-apart addends, which are never ties
                if step && s.is_finite() && s != 0.0 && (s as f32).is_normal() {
                    let e = (s.abs().log2().floor()) as i32;
                    let half = 2f64.powi(e - 24);
                    let q = s / half;
                    ties += (q.fract() == 0.0 && (q as i64) % 2 != 0) as u32;
                }
            }
        }
        assert!(
            rows > 100_000 && zeros > 500 && inf > 100 && nan > 50 && sub > 500 && ties > 500,
            "{rows} rows: {zeros} cancellations to zero, {inf} overflows, {nan} NaN, {sub} \
             subnormal results, {ties} ties"
        );
        println!(
            "fp32acc random cases: {rows} rows: {zeros} cancellations to zero, {inf} overflows, \
             {nan} NaN, {sub} subnormal results, {ties} ties"
        );
        let e = Fp32AccVectors
            .layout(&RtlConfig::new("fp16", "ieee", 0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("format=fp32 policy=ieee"), "{e}");
    }
}
