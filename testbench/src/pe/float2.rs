//! Vectors of the two-operand float PEs (`lmul`, `fpmul`): `A B Y`, one operation per row.

use super::{Case, Field, Layout, PeVectors, Timing};
use pelab_hdl::RtlConfig;
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::samples::{random_pair, special_codes, tie_pair};
use pelab_sim::Result;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A two-operand float PE: its id and its reference function.
pub struct Float2 {
    id: &'static str,
    op: fn(&Format, u64, u64, Overflow) -> u64,
}

/// L-Mul.
pub static LMUL: Float2 = Float2 {
    id: "lmul",
    op: pelab_sim::lmul::lmul,
};
/// The exact multiply (round to nearest even, the RTL's only mode).
pub static FPMUL: Float2 = Float2 {
    id: "fpmul",
    op: |f, a, b, o| pelab_sim::fpmul::fpmul(f, a, b, Rounding::NearestEven, o),
};

fn parse(cfg: &RtlConfig) -> Result<(Format, Overflow)> {
    Ok((Format::parse(&cfg.format)?, Overflow::parse(&cfg.policy)?))
}

impl PeVectors for Float2 {
    fn id(&self) -> &'static str {
        self.id
    }
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout> {
        let (f, _) = parse(cfg)?;
        let w = f.width();
        Ok(Layout {
            fields: vec![
                Field::input("a", w),
                Field::input("b", w),
                Field::output("y", w),
            ],
            timing: Timing::Stream {
                latency: cfg.pipeline,
            },
            care: false,
            restart: Vec::new(),
        })
    }
    fn exhaustive_size(&self, cfg: &RtlConfig) -> Option<u64> {
        let w = Format::parse(&cfg.format).ok()?.width();
        (2 * w <= 40).then(|| 1u64 << (2 * w))
    }
    fn exhaustive_case(&self, cfg: &RtlConfig, i: u64) -> Case {
        let w = Format::parse(&cfg.format).map(|f| f.width()).unwrap_or(0);
        vec![vec![i >> w, i & ((1 << w) - 1)]]
    }
    fn corner_cases(&self, cfg: &RtlConfig) -> Result<Vec<Case>> {
        let (f, _) = parse(cfg)?;
        let sp = special_codes(&f);
        let mut v: Vec<Case> = Vec::with_capacity(sp.len() * sp.len() + 512);
        for &a in &sp {
            for &b in &sp {
                v.push(vec![vec![a, b]]);
            }
        }
        // Products that round at a tie, at a fixed seed so the corner set is the same always.
        let mut r = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0x7E5);
        for _ in 0..512 {
            let (a, b) = tie_pair(&f, &mut r);
            v.push(vec![vec![a, b]]);
        }
        Ok(v)
    }
    fn random_case(&self, cfg: &RtlConfig, rng: &mut ChaCha8Rng) -> Result<Case> {
        let (f, _) = parse(cfg)?;
        let (a, b) = if rng.gen_ratio(1, 16) {
            tie_pair(&f, rng)
        } else {
            random_pair(&f, rng)
        };
        Ok(vec![vec![a, b]])
    }
    fn expected(&self, cfg: &RtlConfig, case: &[Vec<u64>]) -> Result<Vec<(Vec<u64>, u64)>> {
        let (f, o) = parse(cfg)?;
        Ok(case
            .iter()
            .map(|r| (vec![(self.op)(&f, r[0], r[1], o)], 0))
            .collect())
    }
    fn describe_output(&self, cfg: &RtlConfig, _field: &str, v: u64) -> String {
        match Format::parse(&cfg.format) {
            Ok(f) => f.display_value(v),
            Err(_) => format!("{v}"),
        }
    }
}
