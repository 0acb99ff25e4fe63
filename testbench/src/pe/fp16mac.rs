//! Vectors of `fp16mac`, the streaming FP16 x FP16 + FP32 MAC: `RESET CLEAR EN A B ACC`, one
//! clock cycle per row (`ACC` is the accumulator after that cycle's rising edge).
//!
//! A random case is one accumulation: a reset or clear cycle, then 1 to 64 cycles with `en`
//! mostly high. Operands come from `pelab_sim::samples::random_pair` (NaN and Inf mostly
//! redrawn, since they stay in the accumulator until the next clear), from values chosen
//! against the running sum (products that cancel it, sometimes in runs of up to three cycles
//! that reach exact zero, and products at half a unit in its last place: rounding ties), and a
//! few special or uniformly random codes; `reset` and `clear` also arrive in the middle.
//!
//! The corner cases come first: hand-written accumulations (signed-zero sums, Inf - Inf,
//! Inf x 0, NaN, the largest products, cancellation to zero, ties on both sides, sticky bits
//! in subtraction, the control priorities), then, for each accumulator state of a small set
//! reached by accumulating from +0 (+0, +1, 1 + 2^-23, a large negative sum, +Inf, NaN) and
//! each special FP16 code `a`, one case that applies every special code `b`, each time after
//! a clear and the cycles that reach the state.

use crate::codec::{
    accumulator_rows, Case, Dist, Field, Layout, PeVectors, Shape, Stage, Timing, Workload,
};
use pelab_hdl::RtlConfig;
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::fp16mac::{Fp16Mac, MacInputs};
use pelab_sim::samples::{random_pair, special_codes};
use pelab_sim::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The `fp16mac` vector codec.
pub struct Fp16MacVectors;

const H: Format = Format::FP16;
const F: Format = Format::FP32;
const ONE: u16 = 0x3C00;

fn check(cfg: &RtlConfig) -> Result<()> {
    if cfg.format != "fp16" || cfg.policy != "ieee" {
        return Err(Error::new(format!(
            "fp16mac vectors exist for format=fp16 policy=ieee, not format={} policy={}",
            cfg.format, cfg.policy
        )));
    }
    Ok(())
}

fn row(reset: bool, clear: bool, en: bool, a: u16, b: u16) -> Vec<u64> {
    vec![reset as u64, clear as u64, en as u64, a as u64, b as u64]
}

/// An accumulating row.
fn acc_row((a, b): (u16, u16)) -> Vec<u64> {
    row(false, false, true, a, b)
}

fn inputs(r: &[u64]) -> MacInputs {
    MacInputs {
        reset: r[0] == 1,
        clear: r[1] == 1,
        en: r[2] == 1,
        a: r[3] as u16,
        b: r[4] as u16,
    }
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

/// The FP16 code of `x` when `x` is exactly an FP16 value.
fn exact_h(x: f64) -> Option<u16> {
    let c = H
        .from_f64(x, Rounding::NearestEven, Overflow::Saturate)
        .ok()? as u16;
    (H.to_f64(c as u64) == x).then_some(c)
}

/// A `random_pair`, redrawn (but for one time in 128) while it holds a NaN or an Inf.
fn mostly_finite_pair(r: &mut ChaCha8Rng) -> (u16, u16) {
    loop {
        let (a, b) = random_pair(&H, r);
        let special = |c: u64| c & 0x7C00 == 0x7C00;
        if !(special(a) || special(b)) || r.gen_ratio(1, 128) {
            return (a as u16, b as u16);
        }
    }
}

/// Operands whose product nearly or exactly cancels the accumulator: `b` a power of two (or a
/// random value near 1), `a` the FP16 value nearest to `-acc / b`, sometimes one unit off.
fn cancel_pair(acc: u32, r: &mut ChaCha8Rng) -> (u16, u16) {
    let v = F.to_f64(acc as u64);
    let sign = if r.gen() { 0x8000 } else { 0 };
    let b = if r.gen_ratio(3, 4) {
        ((15 + r.gen_range(-8i32..=8)) as u16) << 10
    } else {
        (((15 + r.gen_range(-3i32..=3)) as u16) << 10) | r.gen_range(0..0x400)
    } | sign;
    let x = -v / H.to_f64(b as u64);
    if !v.is_finite() || x.abs() > 65504.0 {
        return mostly_finite_pair(r);
    }
    let mut a = H
        .from_f64(x, Rounding::NearestEven, Overflow::Saturate)
        .expect("finite") as u16;
    match r.gen_range(0..8) {
        0 if a & 0x7FFF < 0x7BFF => a += 1,
        1 if a & 0x7FFF > 0 => a -= 1,
        _ => {}
    }
    if r.gen() {
        (a, b)
    } else {
        (b, a)
    }
}

/// Operands whose product is an odd multiple of half a unit in the last place of the normal
/// accumulator `acc` (a tie when the sum stays in its binade).
fn tie_pair(acc: u32, r: &mut ChaCha8Rng) -> Option<(u16, u16)> {
    let e = ((acc >> 23) & 0xFF) as i32 - 127;
    let q = if r.gen_ratio(1, 3) {
        1.0
    } else {
        (r.gen_range(0..1024u32) * 2 + 1) as f64
    };
    for _ in 0..8 {
        let t = r.gen_range(-24i32..=15);
        let s = e - 24 - t;
        if let (Some(a), Some(b)) = (exact_h(q * 2f64.powi(s)), exact_h(2f64.powi(t))) {
            let a = a | if r.gen() { 0x8000 } else { 0 };
            return Some(if r.gen() { (a, b) } else { (b, a) });
        }
    }
    None
}

impl PeVectors for Fp16MacVectors {
    fn id(&self) -> &'static str {
        "fp16mac"
    }
    /// `ops` MACs of FP16 operands drawn from `dist`: a reset cycle, then dot products of `k`
    /// terms each starting with `clear` (element-wise: one running sum).
    fn workload(
        &self,
        cfg: &RtlConfig,
        dist: Dist,
        shape: Shape,
        ops: u64,
        rng: &mut ChaCha8Rng,
    ) -> Result<Workload> {
        let layout = self.layout(cfg)?;
        let a: Vec<u64> = (0..ops).map(|_| dist.code(&H, rng)).collect();
        let b: Vec<u64> = (0..ops).map(|_| dist.code(&H, rng)).collect();
        let k = match shape {
            Shape::Dot { k } => k,
            Shape::Elementwise => 0,
        };
        let rows = accumulator_rows(&layout, &[("a", a), ("b", b)], k);
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
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout> {
        check(cfg)?;
        Ok(Layout {
            fields: vec![
                Field::input("reset", 1),
                Field::input("clear", 1),
                Field::input("en", 1),
                Field::input("a", 16),
                Field::input("b", 16),
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
        Ok(v)
    }
    fn random_case(&self, cfg: &RtlConfig, r: &mut ChaCha8Rng) -> Result<Case> {
        check(cfg)?;
        let sp = special_codes(&H);
        // The reference runs alongside, so that operands can be chosen against the sum.
        let mut m = Fp16Mac::default();
        let start = if r.gen_ratio(1, 8) {
            row(true, r.gen(), r.gen(), r.gen(), r.gen())
        } else {
            row(false, true, r.gen(), r.gen(), r.gen())
        };
        m.clock(&inputs(&start));
        let mut case = vec![start];
        let mut run = 0;
        for _ in 0..r.gen_range(1..=64) {
            let exp = m.acc & 0x7F80_0000;
            let normal = exp != 0 && exp != 0x7F80_0000;
            let (a, b) = if run > 0 {
                run -= 1;
                cancel_pair(m.acc, r)
            } else {
                match r.gen_range(0..64) {
                    36..=49 => {
                        run = r.gen_range(0..=2);
                        cancel_pair(m.acc, r)
                    }
                    50..=57 if normal => tie_pair(m.acc, r).unwrap_or_else(|| random_pair_h(r)),
                    58 => (sp[r.gen_range(0..sp.len())] as u16, r.gen()),
                    59 => (r.gen(), r.gen()),
                    _ => mostly_finite_pair(r),
                }
            };
            let x = row(
                r.gen_ratio(1, 400),
                r.gen_ratio(1, 100),
                !r.gen_ratio(1, 8),
                a,
                b,
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
        let mut m = Fp16Mac::default();
        Ok(case
            .iter()
            .map(|r| (vec![m.clock(&inputs(r)) as u64], 0))
            .collect())
    }
    fn describe_output(&self, _cfg: &RtlConfig, _field: &str, v: u64) -> String {
        F.display_value(v)
    }
}

fn random_pair_h(r: &mut ChaCha8Rng) -> (u16, u16) {
    let (a, b) = random_pair(&H, r);
    (a as u16, b as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn run(case: &Case) -> Vec<u32> {
        let mut m = Fp16Mac::default();
        case.iter().map(|r| m.clock(&inputs(r))).collect()
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
