//! `pelab`: bit-accurate models, Verilog, golden vectors and gate-level energy of low-precision
//! ML processing elements.

mod bench;
mod cli;
mod energy;
mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
