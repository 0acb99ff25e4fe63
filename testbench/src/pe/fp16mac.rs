//! Vectors of `fp16mac`, the streaming FP16 x FP16 + FP32 MAC: `RESET CLEAR EN A B ACC`, one
//! clock cycle per row (`ACC` is the accumulator after that cycle's rising edge).
//!
//! A random case is one accumulation, `pelab_sim::fp16mac::random_accumulation`: a reset or
//! clear cycle, then 1 to 64 cycles with `en` mostly high, operands random or chosen against
//! the running sum (cancellations, rounding ties); `reset` and `clear` also arrive in the
//! middle.
//!
//! The corner cases come first: hand-written accumulations (signed-zero sums, Inf - Inf,
//! Inf x 0, NaN, the largest products, cancellation to zero, ties on both sides, sticky bits
//! in subtraction, the control priorities), then, for each accumulator state of a small set
//! reached by accumulating from +0 (+0, +1, 1 + 2^-23, a large negative sum, +Inf, NaN) and
//! each special FP16 code `a`, one case that applies every special code `b`, each time after
//! a clear and the cycles that reach the state.

use super::stream::AccumulatorPe;
use crate::codec::{accumulator_rows, Case, PeVectors, Stage, Workload, WorkloadOps};
use pelab_hdl::RtlConfig;
use pelab_sim::format::Format;
use pelab_sim::fp16mac::{random_accumulation, Fp16Mac, MacInputs};
use pelab_sim::pe::stream::Accumulator;
use pelab_sim::samples::special_codes;
use pelab_sim::Result;
use rand_chacha::ChaCha8Rng;

/// The `fp16mac` vector codec.
pub struct Fp16MacVectors;

const H: Format = Format::FP16;
const ONE: u16 = 0x3C00;

fn row(reset: bool, clear: bool, en: bool, a: u16, b: u16) -> Vec<u64> {
    Fp16Mac::row(&Fp16Mac::inputs(reset, clear, en, (a, b)))
}

/// An accumulating row.
fn acc_row((a, b): (u16, u16)) -> Vec<u64> {
    row(false, false, true, a, b)
}

/// A clear, then accumulating rows.
fn accumulation(pairs: &[(u16, u16)]) -> Case {
    let mut c = vec![row(false, true, false, 0, 0)];
    c.extend(pairs.iter().map(|&p| acc_row(p)));
    c
}

/// Hand-written accumulations through special values, cancellations and ties.
fn hand_written() -> Vec<Case> {
    // 2^-12 (0x0C00) x 2^-12 = 2^-24 = half a unit in the last place of 1.0; 2^-12 x 2^-11
    // (0x1000) = 2^-23.
    let half_ulp_1 = (0x0C00, 0x0C00);
    let ulp_1 = (0x0C00, 0x1000);
    let mut v = vec![
        // Signed zeros: +0 + (-0) = +0, +0 + (+0) = +0, 1 - 1 = +0, then +0 + (-0) again.
        accumulation(&[
            (0x8000, ONE),
            (0x8000, 0x8000),
            (ONE, ONE),
            (0xBC00, ONE),
            (ONE, 0x8000),
        ]),
        // Inf - Inf = NaN, which stays.
        accumulation(&[(0x7C00, ONE), (0xFC00, ONE), (ONE, ONE), (0x7C00, ONE)]),
        // Inf x 0 = NaN; 0 x -Inf = NaN.
        accumulation(&[(0x7C00, 0x0000)]),
        accumulation(&[(0x8000, 0xFC00), (ONE, ONE)]),
        // NaN operands (quiet, signalling, negative) give the canonical NaN.
        accumulation(&[(0x7C01, ONE)]),
        accumulation(&[(ONE, 0xFE00)]),
        accumulation(&[(0xFFFF, 0x0000)]),
        // Inf stays Inf through finite products of either sign.
        accumulation(&[
            (0x7BFF, 0xFC00),
            (0x7BFF, 0x7BFF),
            (0xFBFF, 0x7BFF),
            (0x0001, 0x8001),
        ]),
        // Ties: 1 + 2^-24 rounds to 1 (even); (1 + 2^-23) + 2^-24 rounds up to 1 + 2^-22;
        // (1 + 2^-22) - 2^-24 is a tie between 1 + 2^-23 and 1 + 2^-22: even is 1 + 2^-22.
        accumulation(&[(ONE, ONE), half_ulp_1]),
        accumulation(&[(ONE, ONE), ulp_1, half_ulp_1, (0x8C00, 0x0C00)]),
        // The negative side: -1 - 2^-24 rounds to -1; then steps across the binade boundary.
        accumulation(&[
            (0xBC00, ONE),
            (0x8C00, 0x0C00),
            ulp_1,
            (0x8C00, 0x1000),
            half_ulp_1,
        ]),
        // Sticky in subtraction: 2^24 - 2^-48 rounds back to 2^24; 2^24 + 2^-48 stays 2^24.
        accumulation(&[(0x6C00, 0x6C00), (0x8001, 0x0001), (0x0001, 0x0001)]),
        // Deep cancellation: a 22-bit product a·b minus a·(b - ulp) leaves a·ulp (11 bits
        // cancelled), which the next product cancels to zero.
        accumulation(&[(0x3FFF, 0x3BFF), (0xBFFF, 0x3BFE), (0xBFFF, 0x1000)]),
        accumulation(&[(0x7BFF, 0x7BFF), (0xFBFF, 0x7BFF)]),
        // Smallest products, summed and cancelled.
        accumulation(&[(0x0001, 0x0001), (0x0001, 0x0001), (0x8001, 0x0002)]),
        // Control: hold with en low, clear beats en, reset beats clear and en.
        vec![
            row(true, false, false, 0, 0),
            acc_row((ONE, ONE)),
            row(false, false, false, 0x7C00, ONE),
            row(false, true, true, 0x7C00, ONE),
            acc_row((0x4000, ONE)),
            row(true, true, true, 0x7E00, ONE),
            acc_row((0x4000, 0x4000)),
        ],
    ];
    // The largest products, 64 times, then Inf of either sign.
    let mut big = vec![(0x7BFF, 0x7BFF); 64];
    big.push((0x7C00, 0x7BFF));
    big.push((0xFC00, 0xFBFF));
    v.push(accumulation(&big));
    let mut big = vec![(0xFBFF, 0x7BFF); 63];
    big.push((0x7C00, 0xFBFF));
    big.push((0x7C00, 0x7BFF));
    v.push(accumulation(&big));
    v
}

/// Accumulator states reached by accumulating from +0: the operand pairs that reach them.
fn states() -> Vec<Vec<(u16, u16)>> {
    vec![
        vec![],
        vec![(ONE, ONE)],
        vec![(ONE, ONE), (0x0C00, 0x1000)],
        vec![(0xFBFF, 0x7BFF); 3],
        vec![(0x7C00, ONE)],
        vec![(0x7C00, ONE), (0xFC00, ONE)],
    ]
}

impl AccumulatorPe for Fp16MacVectors {
    type Model = Fp16Mac;
    const ID: &'static str = "fp16mac";
    const FORMAT: &'static str = "fp16";
    const DATA: &'static [(&'static str, u32)] = &[("a", 16), ("b", 16)];
    fn corner_cases() -> Vec<Case> {
        let mut v = hand_written();
        let sp: Vec<u16> = special_codes(&H).into_iter().map(|c| c as u16).collect();
        for state in states() {
            for &a in &sp {
                let mut case = Vec::new();
                for &b in &sp {
                    case.push(row(false, true, false, 0, 0));
                    case.extend(state.iter().map(|&p| acc_row(p)));
                    case.push(acc_row((a, b)));
                }
                v.push(case);
            }
        }
        v
    }
    fn random(r: &mut ChaCha8Rng) -> Vec<MacInputs> {
        random_accumulation(r)
    }
    /// `ops` MACs of FP16 operands drawn from `dist`: a reset cycle, then dot products of `k`
    /// terms each starting with `clear` (element-wise: one running sum).
    fn workload(cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        let WorkloadOps { dist, shape, ops } = w;
        let layout = Fp16MacVectors.layout(cfg)?;
        let a: Vec<u64> = (0..ops).map(|_| dist.code(&H, rng)).collect();
        let b: Vec<u64> = (0..ops).map(|_| dist.code(&H, rng)).collect();
        let rows = accumulator_rows(&layout, &[("a", a), ("b", b)], shape.dot_len());
        Ok(Workload {
            stages: vec![Stage {
                rtl: &pelab_hdl::pe::fp16mac::Fp16MacRtl,
                cfg: cfg.clone(),
                layout,
                rows,
                role: "MAC".into(),
            }],
            ops,
            op_name: "MAC",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn run(case: &Case) -> Vec<u32> {
        let mut m = Fp16Mac::default();
        case.iter().map(|r| m.clock(&Fp16Mac::of_row(r))).collect()
    }

    #[test]
    fn hand_written_cases_reach_what_they_claim() {
        let c = hand_written();
        let last = |i: usize| *run(&c[i]).last().unwrap();
        assert_eq!(run(&c[0]), [0, 0, 0, 0x3F80_0000, 0, 0]);
        assert_eq!(run(&c[1])[2..], [0x7FC0_0000; 3]);
        assert_eq!(last(2), 0x7FC0_0000);
        assert_eq!(last(7), 0xFF80_0000);
        assert_eq!(last(8), 0x3F80_0000, "1 + 2^-24 ties to 1");
        assert_eq!(run(&c[9])[3..], [0x3F80_0002, 0x3F80_0002], "ties to even");
        assert_eq!(run(&c[10])[2], 0xBF80_0000);
        assert_eq!(
            run(&c[11])[1..],
            [0x4B80_0000; 3],
            "2^24 -+ 2^-48 rounds to 2^24"
        );
        let deep = run(&c[12]);
        assert!(
            deep[2] != 0 && (deep[2] >> 23) + 11 <= (deep[1] >> 23),
            "{deep:08X?}"
        );
        assert_eq!(deep[3], 0);
        assert_eq!(last(13), 0);
        assert_eq!(last(14), 0);
        assert_eq!(
            run(&c[15]),
            [0, 0x3F80_0000, 0x3F80_0000, 0, 0x4000_0000, 0, 0x4080_0000]
        );
        assert_eq!(run(&c[16])[65..], [0x7F80_0000, 0x7F80_0000]);
        assert_eq!(run(&c[17])[64..], [0xFF80_0000, 0x7FC0_0000]);
        assert!(c
            .iter()
            .all(|c| c.len() <= 67 && (c[0][0] == 1 || c[0][1] == 1)));
    }

    #[test]
    fn random_cases_are_accumulations() {
        let cfg = RtlConfig::new("fp16", "ieee", 0);
        let mut r = ChaCha8Rng::seed_from_u64(5);
        let (mut rows, mut zeros) = (0, 0);
        for _ in 0..2000 {
            let c = Fp16MacVectors.random_case(&cfg, &mut r).unwrap();
            assert!((2..=65).contains(&c.len()) && (c[0][0] == 1 || c[0][1] == 1));
            assert!(c
                .iter()
                .all(|r| r.len() == 5 && r[3] >> 16 == 0 && r[4] >> 16 == 0));
            rows += c.len();
            let acc = run(&c);
            zeros += acc
                .windows(2)
                .filter(|w| w[0] & 0x7FFF_FFFF != 0 && w[1] == 0)
                .count();
        }
        assert!(
            rows > 50_000 && zeros > 50,
            "{rows} rows, {zeros} cancellations to zero"
        );
        let e = Fp16MacVectors
            .layout(&RtlConfig::new("bf16", "ieee", 0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("format=fp16 policy=ieee"), "{e}");
    }
}
