//! The golden-vector codec of every processing element, one module per PE, their list, and
//! the join of a PE's three faces: its reference model (sim), its RTL (hdl) and its vector
//! codec (here). Callers get a [`Pe`] once, from [`pes`] or [`pe`], and use its fields; no
//! other place looks a PE up by id across layers.
//!
//! Adding a PE: one new module per layer (`sim/src/pe/`, `hdl/src/pe/`, `testbench/src/pe/`)
//! and one line in each layer's `registry()`. The streaming accumulators share their codec
//! (`stream.rs`).

mod bitmod;
mod float2;
mod fp16mac;
mod fp32acc;
mod int16fma;
mod stream;

use crate::codec::PeVectors;
use pelab_hdl::PeRtl;
use pelab_sim::model::PeModel;
use pelab_sim::{Error, Result};

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

/// One processing element seen through all three layers.
#[derive(Clone, Copy)]
pub struct Pe {
    /// The bit-accurate reference model.
    pub model: &'static dyn PeModel,
    /// The RTL (rust-hdl blocks, Verilog emission).
    pub rtl: &'static dyn PeRtl,
    /// The golden-vector codec and energy workloads.
    pub vectors: &'static dyn PeVectors,
}

impl Pe {
    /// The PE id (the same in every layer).
    pub fn id(&self) -> &'static str {
        self.model.id()
    }
}

impl std::fmt::Debug for Pe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pe({})", self.id())
    }
}

/// Every PE, joined across the three layers, in display order.
///
/// The three lists must hold the same ids in the same order; a mismatch is a programming error
/// caught by the tests, and panics here with the three lists.
pub fn pes() -> Vec<Pe> {
    let (models, rtls, vectors) = (pelab_sim::pe::registry(), pelab_hdl::registry(), registry());
    let ids = |v: Vec<&'static str>| v.join(", ");
    let same = models.len() == rtls.len()
        && models.len() == vectors.len()
        && models
            .iter()
            .zip(&rtls)
            .zip(&vectors)
            .all(|((m, r), v)| m.id() == r.id() && m.id() == v.id());
    assert!(
        same,
        "the PE lists disagree: sim [{}], hdl [{}], testbench [{}]",
        ids(models.iter().map(|p| p.id()).collect()),
        ids(rtls.iter().map(|p| p.id()).collect()),
        ids(vectors.iter().map(|p| p.id()).collect())
    );
    models
        .into_iter()
        .zip(rtls)
        .zip(vectors)
        .map(|((model, rtl), vectors)| Pe {
            model,
            rtl,
            vectors,
        })
        .collect()
}

/// The PE `id`, joined across the three layers; the error lists the valid ids.
pub fn pe(id: &str) -> Result<Pe> {
    let all = pes();
    all.iter().copied().find(|p| p.id() == id).ok_or_else(|| {
        let ids: Vec<_> = all.iter().map(|p| p.id()).collect();
        Error::new(format!("unknown PE '{id}'; valid PEs: {}", ids.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_lists_hold_the_same_ids_in_the_same_order() {
        let models: Vec<_> = pelab_sim::pe::registry().iter().map(|p| p.id()).collect();
        let rtls: Vec<_> = pelab_hdl::registry().iter().map(|p| p.id()).collect();
        let vectors: Vec<_> = registry().iter().map(|p| p.id()).collect();
        assert!(!models.is_empty());
        assert_eq!(models, rtls, "sim and hdl lists differ");
        assert_eq!(models, vectors, "sim and testbench lists differ");
        let mut unique = models.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), models.len(), "duplicate ids: {models:?}");
        let joined: Vec<_> = pes().iter().map(|p| p.id()).collect();
        assert_eq!(joined, models);
        for p in pes() {
            assert_eq!((p.rtl.id(), p.vectors.id()), (p.id(), p.id()));
            assert_eq!(pe(p.id()).unwrap().id(), p.id());
        }
        let e = pe("nope").unwrap_err().0;
        assert!(e.contains("unknown PE 'nope'") && e.contains("lmul"), "{e}");
    }
}
