//! pelab-sim: number formats, the bit-accurate reference model of every processing element,
//! the gate-level netlist engine, the Liberty reader and the energy model.
//!
//! Nothing here knows about Verilog or simulators; the other crates build on this one.

pub mod energy;
pub mod error;
pub mod format;
pub mod horowitz;
pub mod liberty;
pub mod pe;
pub mod samples;

pub mod bitmod;
pub mod fp16mac;
pub mod fp32acc;
pub mod fpmul;
pub mod int16fma;
pub mod lmul;
pub mod netlist;

pub use error::{Error, Result};
