//! The RTL of every processing element, one module per PE (its rust-hdl blocks and its
//! [`crate::rtl::PeRtl`] entry), and their list. Adding a PE: one new module here and one line
//! in [`registry`].

pub mod bitmod;
pub mod fp16mac;
pub mod fp32acc;
pub mod fpmul;
pub mod int16fma;
pub mod lmul;

use crate::rtl::PeRtl;
use crate::{Error, Result};

/// Every PE that has RTL, in display order (the same order as the model and vector lists).
pub fn registry() -> Vec<&'static dyn PeRtl> {
    vec![
        &lmul::LMulRtl,
        &fpmul::FpMulRtl,
        &int16fma::Int16FmaRtl,
        &bitmod::BitModRtl,
        &fp16mac::Fp16MacRtl,
        &fp32acc::Fp32AccRtl,
    ]
}

/// Finds a PE's RTL by id; the error lists the PEs that have RTL.
pub fn find(id: &str) -> Result<&'static dyn PeRtl> {
    let all = registry();
    all.iter().copied().find(|p| p.id() == id).ok_or_else(|| {
        let ids: Vec<_> = all.iter().map(|p| p.id()).collect();
        Error::new(format!(
            "no RTL for PE '{id}'; PEs with RTL: {}",
            ids.join(", ")
        ))
    })
}
