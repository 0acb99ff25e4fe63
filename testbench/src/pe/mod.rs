//! The vector codec of every PE: columns, case spaces and expected results from the reference
//! models. Each PE implements [`PeVectors`] once; callers go through [`registry`] / [`find`].

mod bitmod;
mod float2;
mod fp16mac;
mod fp32acc;
mod int16fma;

use pelab_hdl::RtlConfig;
use pelab_sim::{Error, Result};
use rand_chacha::ChaCha8Rng;

pub use crate::vectors::{Field, Layout, Timing};

/// A case: its rows of input values (one row per operation or per clock cycle).
pub type Case = Vec<Vec<u64>>;

/// The golden-vector side of one PE.
pub trait PeVectors: Sync {
    /// PE id (the same as the reference model's and the RTL's).
    fn id(&self) -> &'static str;
    /// Columns and timing of `cfg`'s vectors.
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout>;
    /// Number of cases in the exhaustive set, or `None` when the space is not enumerable.
    fn exhaustive_size(&self, cfg: &RtlConfig) -> Option<u64>;
    /// Case `i` of the exhaustive set.
    fn exhaustive_case(&self, cfg: &RtlConfig, i: u64) -> Case;
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
}

/// Every PE with golden vectors, in display order.
pub fn registry() -> Vec<&'static dyn PeVectors> {
    vec![
        &float2::LMUL,
        &float2::FPMUL,
        &int16fma::Int16FmaVectors,
        &bitmod::BitModVectors,
        &fp16mac::Fp16MacVectors,
        &fp32acc::Fp32AccVectors,
    ]
}

/// Finds a PE's vector codec; the error lists the PEs that have one.
pub fn find(id: &str) -> Result<&'static dyn PeVectors> {
    let all = registry();
    all.iter().copied().find(|p| p.id() == id).ok_or_else(|| {
        let ids: Vec<_> = all.iter().map(|p| p.id()).collect();
        Error::new(format!(
            "no golden vectors for PE '{id}'; PEs with vectors: {}",
            ids.join(", ")
        ))
    })
}
