//! `pelab synth`: Yosys synthesis of one configuration and its resources.

use super::args::RtlArgs;
use pelab_hdl::Flow;
use pelab_sim::Result;
use serde_json::json;

/// Arguments of `pelab synth`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rtl: RtlArgs,
    /// Synthesis target.
    #[arg(long, default_value = "generic")]
    target: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Synthesizes the configuration for the target and prints the report.
pub fn run(args: Args) -> Result<()> {
    let flow = Flow::parse(&args.target)?;
    let (pe, cfg) = args.rtl.resolve()?;
    let m = pe.rtl.verilog(&cfg)?;
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
