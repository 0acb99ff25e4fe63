//! pelab-sim: number formats, the bit-accurate reference model of every processing element,
//! the gate-level netlist engine, the Liberty reader and the energy model.
//!
//! Nothing here knows about Verilog or simulators; the other crates build on this one.

pub mod accel;
pub mod array;
pub mod energy;
pub mod error;
pub mod format;
pub mod horowitz;
pub mod liberty;
pub mod model;
pub mod netlist;
pub mod pe;
pub mod samples;

pub use pe::{bitmod, fp16mac, fp32acc, fpmul, int16fma, lmul};

pub use error::{Error, Result};
