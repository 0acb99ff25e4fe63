//! `pelab synth`: Yosys synthesis of one configuration and its resources; with `--pnr`, place
//! and route on an iCE40 device (nextpnr-ice40) and the achieved Fmax.

use super::args::RtlArgs;
use pelab_hdl::pnr::{Device, PnrReport, Wrapper};
use pelab_hdl::Flow;
use pelab_sim::{Error, Result};
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `pelab synth`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rtl: RtlArgs,
    /// Synthesis target.
    #[arg(long, default_value = "generic")]
    target: String,
    /// Place and route with nextpnr-ice40 (needs --target ice40) and report the achieved Fmax
    /// and the utilization. The PE is placed inside a generated wrapper `<module>_pnr` that
    /// registers every input and output port, since nextpnr times register-to-register paths
    /// only.
    #[arg(long)]
    pnr: bool,
    /// iCE40 device for --pnr: hx8k (package ct256) or up5k (package sg48).
    #[arg(long, default_value = "hx8k", requires = "pnr")]
    device: String,
    /// nextpnr placer seed for --pnr.
    #[arg(long, default_value_t = 1, requires = "pnr",
          value_parser = clap::value_parser!(u32).range(..=i32::MAX as i64))]
    seed: u32,
    /// With --pnr: write the binary bitstream (icepack) to FILE.
    #[arg(long, value_name = "FILE", requires = "pnr")]
    bitstream: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Synthesizes the configuration for the target and prints the report.
pub fn run(args: Args) -> Result<()> {
    let flow = Flow::parse(&args.target)?;
    if args.pnr && flow != Flow::Ice40 {
        return Err(Error::new(format!(
            "--pnr places and routes with nextpnr-ice40 on iCE40 devices: use it with \
             --target ice40 (the target is {})",
            flow.name()
        )));
    }
    let device = Device::parse(&args.device)?;
    let (pe, cfg) = args.rtl.resolve()?;
    let m = pe.rtl.verilog(&cfg)?;
    if args.pnr {
        let (w, r) = pelab_hdl::pnr::pnr_module(&m, device, args.seed)?;
        if let Some(path) = &args.bitstream {
            let bytes = pelab_hdl::pnr::bitstream(&r)?;
            pelab_hdl::emit::write_atomic(path, bytes)?;
        }
        return print_pnr(pe.id(), &cfg, &w, &r, args.bitstream.as_deref(), args.json);
    }
    let r = pelab_hdl::synth::synthesize(&m.verilog, &m.name, flow)?;
    if args.json {
        return super::print_json(&json!({"pe": pe.id(), "config": cfg, "report": r}));
    }
    println!("{} ({} flow, {})", r.module, flow.name(), r.yosys);
    print_resources(&r, flow);
    println!("  by type:");
    for (k, v) in &r.cells {
        println!("    {k:<16} {v}");
    }
    println!("  netlist:      {}", r.netlist.display());
    Ok(())
}

/// The resource lines of a synthesis report: cells, logic cells, LUTs, carry cells and DSPs
/// (FPGA flows), flip-flops, longest path.
pub fn print_resources(r: &pelab_hdl::synth::SynthReport, flow: Flow) {
    println!("  cells:        {}", r.cell_count);
    println!("  logic cells:  {}", r.logic_cells);
    if flow != Flow::Generic {
        println!("  LUTs:         {}", r.luts);
        println!("  carry cells:  {}", r.carry);
        println!("  DSPs:         {}", r.dsps);
    }
    println!("  flip-flops:   {}", r.ffs);
    println!(
        "  longest path: {} cells (combinational, port/flop to port/flop)",
        r.longest_path
    );
}

/// Prints a place-and-route report (text, or JSON with `fmax_mhz`, `device`, `seed`,
/// `utilization`, `wrapper` and `tools`).
fn print_pnr(
    pe: &str,
    cfg: &pelab_hdl::RtlConfig,
    w: &Wrapper,
    r: &PnrReport,
    bitstream: Option<&std::path::Path>,
    as_json: bool,
) -> Result<()> {
    let mut tools = json!({"yosys": r.yosys, "nextpnr-ice40": r.nextpnr});
    if bitstream.is_some() {
        tools["icepack"] = json!("icepack (fpga-icestorm)");
    }
    if as_json {
        return super::print_json(&json!({
            "pe": pe,
            "config": cfg,
            "module": w.wraps,
            "fmax_mhz": r.fmax_mhz,
            "clocks": r.clocks,
            "device": r.device,
            "package": r.package,
            "seed": r.seed,
            "utilization": r.utilization,
            "io_bits": r.io_bits,
            "wrapper": w,
            "synth": {"luts": r.synth.luts, "ffs": r.synth.ffs, "carry": r.synth.carry,
                      "cells": r.synth.cells},
            "tools": tools,
            "bitstream": bitstream,
        }));
    }
    println!(
        "{} on {}, seed {} (nextpnr-ice40 place and route)",
        w.wraps,
        r.device.label(),
        r.seed
    );
    let clocks: Vec<String> = r
        .clocks
        .iter()
        .map(|(c, f)| format!("{c} {f:.2} MHz"))
        .collect();
    println!(
        "  Fmax:         {:.2} MHz (achieved after routing; {})",
        r.fmax_mhz,
        clocks.join(", ")
    );
    println!("  wrapper:      {}", w.note);
    println!("  utilization:");
    for (t, u) in r.utilization.iter().filter(|(_, u)| u.used > 0) {
        let pct = 100.0 * u.used as f64 / u.available.max(1) as f64;
        println!("    {t:<14} {:>6} / {:<6} ({pct:.1}%)", u.used, u.available);
    }
    println!(
        "  synthesis:    {} LUT4, {} flip-flops, {} carry cells (the wrapper included)",
        r.synth.luts, r.synth.ffs, r.synth.carry
    );
    println!("  I/O bits:     {}", r.io_bits);
    println!("  tools:        {}; {}", r.yosys, r.nextpnr);
    if let Some(p) = bitstream {
        println!("  bitstream:    {} (icepack, fpga-icestorm)", p.display());
    }
    Ok(())
}
