//! The top-level command line: the subcommands and their dispatch. Each subcommand's
//! arguments and work live in its own module under [`crate::cmd`]; nothing here names a PE.

use crate::cmd;
use clap::{Parser, Subcommand};
use pelab_sim::Result;

/// Model, emit, verify and measure low-precision ML processing elements (PEs).
#[derive(Parser)]
#[command(name = "pelab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: every PE emitted, verified, synthesized and measured, the studies run, and
    /// each paper's claim set beside pelab's measurement.
    ///
    /// Writes DIR/summary.md (claims table, verification matrix, synthesis, energy with both
    /// estimators, accuracy tables, run time), one CSV per table, PNG and SVG plots, and the
    /// Verilog of every configuration (DIR/verilog). Every file is written under a temporary
    /// name and renamed. --quick verifies and synthesizes a subset with fewer vectors,
    /// operations and samples (about a minute); the default run takes several minutes.
    Report(cmd::report::Args),
    /// List the PEs, formats and policies pelab knows.
    List(cmd::list::Args),
    /// Evaluate one operation of a PE's reference model.
    ///
    /// Operands are hex codes (an optional 0x prefix is accepted); `pelab list` shows each PE's
    /// operand syntax. Example: `pelab eval lmul --format bf16 3FC0 3FC0`.
    Eval(cmd::eval::Args),
    /// Write the Verilog of a PE configuration (or of every configuration with --all).
    ///
    /// One Verilog-2001 file per configuration, named after its module
    /// (`pelab_<pe>_<format>_<policy>[_p<N>]`), with a header stating the configuration,
    /// semantics, latency and ports. Files are written atomically.
    Emit(cmd::emit::Args),
    /// Synthesize a PE configuration with Yosys and report its resources.
    ///
    /// Targets: `generic` (Yosys' generic gates via ABC, the gate set of the energy model),
    /// `ice40` (Lattice iCE40 LUT4s), `xilinx` (7-series LUT6s, CARRY4, DSP48E1).
    Synth(cmd::synth::Args),
    /// Write golden vectors of a PE configuration (text file plus a `.mem` companion).
    ///
    /// The text file has `#` header lines (pe, format, policy, seed, count, generator...) and one
    /// case per line: uppercase hex fields, inputs then expected outputs. Without --exhaustive,
    /// a corner set (zeros, subnormal edges, min/max normal, Inf, NaN, ties, over/underflow)
    /// comes first, then seeded random cases.
    Vectors(cmd::vectors::Args),
    /// Verify Verilog against golden vectors in real simulators.
    ///
    /// Emits the configuration's Verilog (or takes yours with --rtl), generates the vectors
    /// (or reads --vectors FILE), writes a self-checking testbench, runs each simulator and
    /// prints simulator x passed / failed / vectors per second. Exit status 1 on any failure.
    Verify(cmd::verify::Args),
    /// Energy per operation at gate level, with the table estimate beside it.
    ///
    /// Synthesizes the configuration (Yosys generic gates, or the cells of --liberty FILE),
    /// replays a workload of operands drawn from --dist on pelab's gate simulator, counts every
    /// cell's output toggles, and prices them: E/op = Σ toggles × E_toggle / ops + flip-flops ×
    /// E_clock × cycles / ops + leakage × time / ops. Dot products and matrix products add the
    /// FP32 accumulator behind lmul/fpmul (the MACs accumulate themselves; bitmod runs its own
    /// group schedule). Every figure names its source; zero-delay simulation misses glitches.
    Energy(cmd::energy::Args),
    /// A PE's Liberty netlist through OpenSTA (`sta`) at pelab's measured per-pin activity:
    /// OpenSTA's report_power beside pelab's Liberty energy × frequency, and the critical path
    /// (report_checks) and ASIC Fmax.
    Sta(cmd::sta::Args),
    /// Accuracy studies of the reference models against exact arithmetic, as tables.
    ///
    /// Values come from --dist (a distribution or a .npy file); each table lists its
    /// provenance (source, samples, seed, reference model, conversions). docs/accuracy.md
    /// defines every column.
    Accuracy(cmd::accuracy::Args),
    /// Benchmarks (ratios against a baseline measured in the same run).
    Bench(cmd::bench::Args),
    /// PE arrays: emit, verify and synthesize R x C systolic arrays of a PE; analytic timing.
    Array(cmd::array::Args),
    /// C = A·B of your matrices (.npy) through an emitted PE array: the cycle-accurate array
    /// model, or the array's Verilog in a simulator checked against the model cycle by cycle.
    ///
    /// Float inputs are rounded to the cell's format (nearest even; the count of inexact
    /// values is reported), unsigned integers are raw codes, signed integers are int16 values
    /// (int16fma). C is written as float32 holding the FP32 result codes, or int32 for
    /// int16fma. Prints the folds, cycles and utilization of the run.
    Gemm(cmd::gemm::Args),
    /// Analytical LLM-accelerator models: cycles and energy of a model's op list.
    ///
    /// `bitmod-hpca25` reproduces the analytical model behind BitMoD (HPCA 2025) Figs. 7 and 8
    /// bit for bit, quirks included (docs/accel.md). Prints the ops grouped across layers and
    /// the PE / SRAM read / SRAM write / DRAM breakdown; `--preset bitmod-hpca25` prints the
    /// paper's whole table (5 accelerators x 6 models x prefill, decode) and its aggregates.
    /// `--timing pelab` is pelab's own model: per-head attention and KV-cache traffic, its
    /// systolic arrays' timing with fill and drain, overlap, leakage and stall energy, and PE
    /// energies from the artifact or pelab's gate-level measurement.
    Accel(cmd::accel::Args),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Report(args) => cmd::report::run(args),
        Command::List(args) => cmd::list::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Emit(args) => cmd::emit::run(args),
        Command::Synth(args) => cmd::synth::run(args),
        Command::Vectors(args) => cmd::vectors::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Energy(args) => cmd::energy::run(args),
        Command::Sta(args) => cmd::sta::run(args),
        Command::Accuracy(args) => cmd::accuracy::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Array(args) => cmd::array::run(args),
        Command::Gemm(args) => cmd::gemm::run(args),
        Command::Accel(args) => cmd::accel::run(args),
    }
}
