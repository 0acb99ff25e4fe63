//! pelab-hdl: the RTL of pelab's processing elements written with rust-hdl, Verilog emission
//! (one self-describing Verilog-2001 file per configuration), the lint gate (Verilator, Yosys)
//! and Yosys synthesis flows (generic gates, iCE40, Xilinx) with their reports and netlists.
//!
//! Entry points: [`pe::registry`] / [`pe::find`] list the PEs ([`rtl::PeRtl`]),
//! `PeRtl::verilog` emits a configuration, [`emit::write_module`] writes it, [`tools::lint`]
//! checks it and [`synth::synthesize`] / [`synth::netlist_json`] synthesize it.

pub mod array;
pub mod blocks;
pub mod emit;
pub mod format;
pub mod pe;
pub mod pnr;
pub mod rtl;
pub mod sim;
pub mod synth;
pub mod tools;

pub use emit::{Port, PortDir, RtlModule};
pub use pe::{find, registry};
pub use pelab_sim::error::{Error, Result};
pub use rtl::{PeRtl, RtlConfig};
pub use synth::{Flow, SynthReport};

/// A width-exact constant for a block (emitted as a `localparam`).
pub(crate) fn k<const N: usize>(v: u64) -> rust_hdl::prelude::Constant<rust_hdl::prelude::Bits<N>> {
    rust_hdl::prelude::Constant::new(rust_hdl::prelude::bits::<N>(v))
}
