//! Vectors of the two-operand float PEs (`lmul`, `fpmul`): `A B Y`, one operation per row.

use crate::codec::{
    accumulator_rows, Case, ColumnBlock, Field, Layout, PeVectors, Shape, Stage, Timing, Workload,
    WorkloadOps,
};
use pelab_hdl::RtlConfig;
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::samples::{random_pair, special_codes, tie_pair};
use pelab_sim::Result;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A two-operand float PE: its id and its reference function.
pub struct Float2 {
    id: &'static str,
    rtl: &'static dyn pelab_hdl::PeRtl,
    op: fn(&Format, u64, u64, Overflow) -> u64,
    slice: fn(&Format, Overflow, &[u64], &[u64], &mut [u64]),
}

/// L-Mul.
pub static LMUL: Float2 = Float2 {
    id: "lmul",
    rtl: &pelab_hdl::pe::lmul::LMulRtl,
    op: pelab_sim::lmul::lmul,
    slice: pelab_sim::lmul::lmul_slice::<u64>,
};
/// The exact multiply (round to nearest even, the RTL's only mode).
pub static FPMUL: Float2 = Float2 {
    id: "fpmul",
    rtl: &pelab_hdl::pe::fpmul::FpMulRtl,
    op: |f, a, b, o| pelab_sim::fpmul::fpmul(f, a, b, Rounding::NearestEven, o),
    slice: pelab_sim::fpmul::fpmul_slice::<u64>,
};

fn parse(cfg: &RtlConfig) -> Result<(Format, Overflow)> {
    Ok((Format::parse(&cfg.format)?, Overflow::parse(&cfg.policy)?))
}

impl PeVectors for Float2 {
    fn id(&self) -> &'static str {
        self.id
    }
    /// Element-wise: `ops` products of operands drawn from `dist`. Dot products: the same
    /// multiplies, each product converted exactly to FP32 and summed by the `fp32acc`
    /// accumulator, cleared at the start of every dot product.
    fn workload(&self, cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        let WorkloadOps { dist, shape, ops } = w;
        let (f, pol) = parse(cfg)?;
        let mut rows = Vec::with_capacity(ops as usize);
        let mut prods = Vec::new();
        for _ in 0..ops {
            let (a, b) = (dist.code(&f, rng), dist.code(&f, rng));
            if matches!(shape, Shape::Dot { .. }) {
                let p = f.to_f64((self.op)(&f, a, b, pol));
                prods.push((p as f32).to_bits() as u64);
            }
            rows.push(vec![a, b]);
        }
        let mut stages = vec![Stage {
            rtl: self.rtl,
            cfg: cfg.clone(),
            layout: self.layout(cfg)?,
            rows,
            role: "multiplier".into(),
        }];
        if let Shape::Dot { k } = shape {
            let acc = &super::fp32acc::Fp32AccVectors;
            let acc_cfg = RtlConfig::new("fp32", "ieee", 0);
            let layout = acc.layout(&acc_cfg)?;
            let rows = accumulator_rows(&layout, &[("x", prods)], k);
            stages.push(Stage {
                rtl: &pelab_hdl::pe::fp32acc::Fp32AccRtl,
                cfg: acc_cfg,
                layout,
                rows,
                role: "fp32 accumulator".into(),
            });
        }
        Ok(Workload {
            stages,
            ops,
            op_name: "multiply",
        })
    }
    /// Case `i` is `a = i >> w`, `b = i mod 2^w`; the expected products come from the
    /// reference's slice kernel.
    fn exhaustive_block(&self, cfg: &RtlConfig, block: ColumnBlock) -> Option<Result<()>> {
        let ColumnBlock {
            start,
            inputs,
            expected,
        } = block;
        Some((|| {
            let (f, pol) = parse(cfg)?;
            let w = f.width();
            let n = inputs[0].len();
            let (a, rest) = inputs.split_at_mut(1);
            for (j, (x, y)) in a[0].iter_mut().zip(rest[0].iter_mut()).enumerate() {
                let i = start + j as u64;
                *x = i >> w;
                *y = i & ((1 << w) - 1);
            }
            (self.slice)(&f, pol, &a[0][..n], &rest[0][..n], &mut expected[0][..n]);
            Ok(())
        })())
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
