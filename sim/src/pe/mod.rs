//! The reference model of every processing element, one module per PE, and their list.
//!
//! Each PE implements [`crate::model::PeModel`] once; callers discover PEs through
//! [`registry`] and never name a PE themselves. Adding a PE: one new module here and one line
//! in [`registry`]. What the streaming accumulators share is in [`stream`].

pub mod bitmod;
pub mod fp16mac;
pub mod fp32acc;
pub mod fpmul;
pub mod int16fma;
pub mod lmul;
pub mod stream;

use crate::error::{Error, Result};
use crate::model::PeModel;

/// All PE reference models, in display order (the same order as the RTL and vector lists).
pub fn registry() -> Vec<&'static dyn PeModel> {
    vec![
        &lmul::LMulPe,
        &fpmul::FpMulPe,
        &int16fma::Int16FmaPe,
        &bitmod::BitModPe,
        &fp16mac::Fp16MacPe,
        &fp32acc::Fp32AccPe,
    ]
}

/// Finds a PE by id; the error lists the valid ids.
pub fn find(id: &str) -> Result<&'static dyn PeModel> {
    let all = registry();
    all.iter().copied().find(|p| p.id() == id).ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|p| p.id()).collect();
        Error::new(format!(
            "unknown PE '{id}'; valid PEs: {}",
            names.join(", ")
        ))
    })
}
