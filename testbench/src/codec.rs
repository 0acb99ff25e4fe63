//! The golden-vector face of a processing element: the [`PeVectors`] trait every PE implements
//! once (columns, case spaces, expected results from the reference model, energy workloads),
//! and the workload types and row helpers the PEs share. The list of PEs is
//! [`crate::pe::registry`]; the joined PE is [`crate::pe::Pe`].

use pelab_hdl::RtlConfig;
use pelab_sim::{Error, Result};
use rand_chacha::ChaCha8Rng;

pub use crate::layout::{Field, Layout, Timing};

/// A case: its rows of input values (one row per operation or per clock cycle).
pub type Case = Vec<Vec<u64>>;

/// The golden-vector side of one PE.
pub trait PeVectors: Sync {
    /// PE id (the same as the reference model's and the RTL's).
    fn id(&self) -> &'static str;
    /// Columns and timing of `cfg`'s vectors.
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout>;
    /// Number of cases in the exhaustive set, or `None` (the default) when the space is not
    /// enumerable.
    fn exhaustive_size(&self, cfg: &RtlConfig) -> Option<u64> {
        let _ = cfg;
        None
    }
    /// Case `i` of the exhaustive set (empty when there is none).
    fn exhaustive_case(&self, cfg: &RtlConfig, i: u64) -> Case {
        let _ = (cfg, i);
        Vec::new()
    }
    /// The corner cases (in the spirit of TestFloat level 1), in a fixed order.
    fn corner_cases(&self, cfg: &RtlConfig) -> Result<Vec<Case>>;
    /// One seeded random case.
    fn random_case(&self, cfg: &RtlConfig, rng: &mut ChaCha8Rng) -> Result<Case>;
    /// Expected outputs of a case's rows from the reference model, each with its `CARE` mask
    /// (ignored when the layout has none).
    fn expected(&self, cfg: &RtlConfig, case: &[Vec<u64>]) -> Result<Vec<(Vec<u64>, u64)>>;
    /// Human-readable value of an output field (for mismatch reports).
    fn describe_output(&self, _cfg: &RtlConfig, _field: &str, v: u64) -> String {
        format!("{v}")
    }
    /// A fast path for very large exhaustive sets: fills the columns of `block`, one row per
    /// case. `None` when the PE has none.
    fn exhaustive_block(&self, cfg: &RtlConfig, block: ColumnBlock) -> Option<Result<()>> {
        let _ = (cfg, block);
        None
    }
    /// The input rows of the energy workload `w`, stage by stage (the PE, then e.g. the
    /// accumulator behind it).
    fn workload(&self, cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        let _ = (cfg, w, rng);
        Err(Error::new(format!(
            "PE '{}' has no energy workload",
            self.id()
        )))
    }
}

pub use pelab_sim::samples::Dist;

/// Consecutive cases of an exhaustive set in columns ([`PeVectors::exhaustive_block`]): input
/// field `k` of case `start + j` is `inputs[k][j]`, output field `k` is `expected[k][j]`, for
/// `j` below the columns' length.
pub struct ColumnBlock<'a> {
    /// The first case.
    pub start: u64,
    /// Input columns.
    pub inputs: &'a mut [Vec<u64>],
    /// Expected output columns.
    pub expected: &'a mut [Vec<u64>],
}

/// The shape of an energy workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Independent operations, one after another.
    Elementwise,
    /// Dot products of length `k` (a matrix product is `M·N` of them).
    Dot {
        /// Length of each dot product.
        k: u64,
    },
}

impl Shape {
    /// The length of each dot product, 0 for element-wise work (one running sum).
    pub fn dot_len(self) -> u64 {
        match self {
            Shape::Dot { k } => k,
            Shape::Elementwise => 0,
        }
    }
}

/// The operations of an energy workload: `ops` of them (multiplies or MACs) in the given
/// shape, with operands drawn from `dist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadOps {
    /// Operand distribution.
    pub dist: Dist,
    /// Workload shape.
    pub shape: Shape,
    /// Operations.
    pub ops: u64,
}

/// An energy workload as the command line names it: `elementwise`, `dot:K` or
/// `matmul:MxKxN` (a matrix product is simulated as its dot products and extrapolated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadSpec {
    /// Element-wise operations.
    Elementwise,
    /// Dot products of length k.
    Dot(u64),
    /// A matrix product M x K x N (M·N dot products of length K).
    Matmul(u64, u64, u64),
}

impl WorkloadSpec {
    /// Operations simulated by default for element-wise work (and the floor for dot products).
    pub const DEFAULT_OPS: u64 = 1 << 16;

    /// Parses `elementwise`, `dot:K` or `matmul:MxKxN`.
    pub fn parse(s: &str) -> Result<WorkloadSpec> {
        let bad = || {
            Error::new(format!(
                "bad --workload '{s}'; expected elementwise, dot:K or matmul:MxKxN (positive \
                 integers, e.g. dot:4096 or matmul:64x4096x64)"
            ))
        };
        let num = |t: &str| t.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(bad);
        if s == "elementwise" {
            return Ok(WorkloadSpec::Elementwise);
        }
        if let Some(k) = s.strip_prefix("dot:") {
            return Ok(WorkloadSpec::Dot(num(k)?));
        }
        if let Some(d) = s.strip_prefix("matmul:") {
            let v: Vec<&str> = d.split('x').collect();
            if v.len() != 3 {
                return Err(bad());
            }
            return Ok(WorkloadSpec::Matmul(num(v[0])?, num(v[1])?, num(v[2])?));
        }
        Err(bad())
    }

    /// The simulated shape (a matrix product is simulated as its dot products).
    pub fn shape(self) -> Shape {
        match self {
            WorkloadSpec::Elementwise => Shape::Elementwise,
            WorkloadSpec::Dot(k) | WorkloadSpec::Matmul(_, k, _) => Shape::Dot { k },
        }
    }

    /// Operations of the whole workload, when it has a size.
    pub fn total_ops(self) -> Option<u128> {
        match self {
            WorkloadSpec::Matmul(m, k, n) => Some(m as u128 * k as u128 * n as u128),
            WorkloadSpec::Dot(k) => Some(k as u128),
            WorkloadSpec::Elementwise => None,
        }
    }

    /// Operations to simulate when none are asked for: [`WorkloadSpec::DEFAULT_OPS`], or 16 dot
    /// products of length k within `DEFAULT_OPS..=2^20`.
    pub fn default_ops(self) -> u64 {
        match self.shape() {
            Shape::Elementwise => Self::DEFAULT_OPS,
            Shape::Dot { k } => k.saturating_mul(16).clamp(Self::DEFAULT_OPS, 1 << 20),
        }
    }
}

/// The shape as a workload name [`WorkloadSpec::parse`] reads: `elementwise` or `dot:K`.
impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Elementwise => write!(f, "elementwise"),
            Shape::Dot { k } => write!(f, "dot:{k}"),
        }
    }
}

/// One piece of hardware a workload runs through, with its input rows.
#[derive(Clone)]
pub struct Stage {
    /// The hardware's RTL.
    pub rtl: &'static dyn pelab_hdl::PeRtl,
    /// Its configuration.
    pub cfg: RtlConfig,
    /// Its vector layout (the rows hold its input columns).
    pub layout: Layout,
    /// Input rows.
    pub rows: Vec<Vec<u64>>,
    /// What it does in the workload (`multiplier`, `fp32 accumulator`, `MAC`, ...).
    pub role: String,
}

/// An energy workload: its stages and the operations they perform together.
#[derive(Clone)]
pub struct Workload {
    /// Stages, in data-flow order.
    pub stages: Vec<Stage>,
    /// Operations performed (multiplies, or MACs).
    pub ops: u64,
    /// What one operation is (`multiply`, `MAC`).
    pub op_name: &'static str,
}

/// A row of `layout`'s input columns from `(name, value)` pairs (other columns 0).
pub fn input_row(layout: &Layout, values: &[(&str, u64)]) -> Vec<u64> {
    layout
        .inputs()
        .map(|f| {
            values
                .iter()
                .find(|(n, _)| *n == f.name)
                .map_or(0, |(_, v)| *v)
        })
        .collect()
}

/// Rows of a streaming accumulator (`reset`, `clear`, `en` and data ports): a reset cycle,
/// then each dot product of `k` terms (`k` = 0: one running sum) after a `clear` cycle of its
/// own (pelab's MACs drop the operands of a cycle that clears, so the clear costs a cycle).
pub fn accumulator_rows(layout: &Layout, data: &[(&str, Vec<u64>)], k: u64) -> Vec<Vec<u64>> {
    let n = data.first().map_or(0, |d| d.1.len());
    let mut rows = vec![input_row(layout, &[("reset", 1)])];
    for i in 0..n {
        if k > 0 && (i as u64).is_multiple_of(k) && i > 0 {
            rows.push(input_row(layout, &[("clear", 1)]));
        }
        let mut v: Vec<(&str, u64)> = vec![("en", 1)];
        for (name, vals) in data {
            v.push((name, vals[i]));
        }
        rows.push(input_row(layout, &v));
    }
    rows
}

/// Checks that `cfg` is the one configuration (`format`, `policy`) PE `pe` has vectors for.
pub fn only_config(cfg: &RtlConfig, pe: &str, format: &str, policy: &str) -> Result<()> {
    if cfg.format != format || cfg.policy != policy {
        return Err(Error::new(format!(
            "{pe} vectors exist for format={format} policy={policy}, not format={} policy={}",
            cfg.format, cfg.policy
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_syntax() {
        assert_eq!(
            WorkloadSpec::parse("elementwise").unwrap(),
            WorkloadSpec::Elementwise
        );
        assert_eq!(
            WorkloadSpec::parse("dot:4096").unwrap(),
            WorkloadSpec::Dot(4096)
        );
        assert_eq!(
            WorkloadSpec::parse("matmul:2x3x4").unwrap(),
            WorkloadSpec::Matmul(2, 3, 4)
        );
        for bad in [
            "dot:",
            "dot:0",
            "dot:x",
            "matmul:2x3",
            "matmul:2x0x4",
            "gemm",
            "",
        ] {
            assert!(WorkloadSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(WorkloadSpec::Matmul(2, 3, 4).total_ops(), Some(24));
        assert_eq!(WorkloadSpec::Elementwise.default_ops(), 65_536);
        assert_eq!(WorkloadSpec::Dot(8192).default_ops(), 131_072);
        assert_eq!(WorkloadSpec::Matmul(1, 1 << 20, 1).default_ops(), 1 << 20);
    }
}
