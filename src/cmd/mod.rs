//! The subcommands, one module each: its clap arguments and a `run` that checks them and
//! hands them to the libraries. Argument groups several commands share live in [`args`].

pub mod accel;
pub mod accel_sweep;
pub mod accuracy;
pub mod args;
pub mod array;
pub mod bench;
pub mod emit;
pub mod energy;
pub mod eval;
pub mod gemm;
pub mod list;
pub mod report;
pub mod sta;
pub mod synth;
pub mod vectors;
pub mod verify;

use pelab_sim::{Error, Result};

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::new(e.to_string()))?;
    println!("{text}");
    Ok(())
}
