//! Vectors of `fp32acc`, the streaming FP32 accumulator: `RESET CLEAR EN X ACC`, one clock
//! cycle per row (`ACC` is the accumulator after that cycle's rising edge).
//!
//! A random case is one accumulation, `pelab_sim::fp32acc::random_accumulation`: a reset or
//! clear cycle, then 1 to 64 cycles with `en` high seven times in eight and an occasional
//! `reset` or `clear`, its addends chosen against the running sum within a range of magnitudes
//! (cancellations, rounding ties, short and long alignments, the odd special code).
//!
//! The corner cases come first: hand-written accumulations (signed zeros, overflow to Inf and
//! on through NaN back to numbers after a clear, overflow by rounding, subnormal sums in and
//! out of the normal range, cancellation into the subnormal range, ties on both sides, sticky
//! bits in subtraction, the control priorities), then every pair of special FP32 codes: for
//! each special code `a`, one case that loads `a` after a clear (+0 + `a` is `a`) and adds each
//! special code `b`.

use super::stream::AccumulatorPe;
use crate::codec::Case;
use pelab_sim::fp32acc::{random_accumulation, specials, AccInputs, Fp32Acc};
use pelab_sim::pe::stream::Accumulator;
use rand_chacha::ChaCha8Rng;

/// The `fp32acc` vector codec.
pub struct Fp32AccVectors;

const ONE: u32 = 0x3F80_0000;
const MAX: u32 = 0x7F7F_FFFF;
const INF: u32 = 0x7F80_0000;
const NEG: u32 = 0x8000_0000;

fn row(reset: bool, clear: bool, en: bool, x: u32) -> Vec<u64> {
    Fp32Acc::row(&Fp32Acc::inputs(reset, clear, en, x))
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

impl AccumulatorPe for Fp32AccVectors {
    type Model = Fp32Acc;
    const ID: &'static str = "fp32acc";
    const FORMAT: &'static str = "fp32";
    const DATA: &'static [(&'static str, u32)] = &[("x", 32)];
    fn corner_cases() -> Vec<Case> {
        let mut v = hand_written();
        let sp = specials();
        for &a in &sp {
            let mut case = Vec::new();
            for &b in &sp {
                case.extend(accumulation(&[a, b]));
            }
            v.push(case);
        }
        v
    }
    fn random(r: &mut ChaCha8Rng) -> Vec<AccInputs> {
        random_accumulation(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::PeVectors;
    use pelab_hdl::RtlConfig;
    use rand::SeedableRng;

    /// The accumulator after each row, from the CPU's own binary32 addition
    /// (`pelab_sim::fp32acc::cpu_add`) and the control priorities written out here.
    fn run_cpu(case: &Case) -> Vec<u32> {
        let mut acc = 0u32;
        case.iter()
            .map(|r| {
                if r[0] == 1 || r[1] == 1 {
                    acc = 0;
                } else if r[2] == 1 {
                    acc = pelab_sim::fp32acc::cpu_add(acc, r[3] as u32);
                }
                acc
            })
            .collect()
    }

    fn run(case: &Case) -> Vec<u32> {
        let mut m = Fp32Acc::default();
        let got: Vec<u32> = case.iter().map(|r| m.clock(&Fp32Acc::of_row(r))).collect();
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
