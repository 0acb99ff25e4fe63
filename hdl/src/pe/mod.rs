//! One file per PE: the rust-hdl blocks and the [`crate::registry::PeRtl`] entry.

pub mod bitmod;
pub mod fp16mac;
pub mod fp32acc;
pub mod fpmul;
pub mod int16fma;
pub mod lmul;
