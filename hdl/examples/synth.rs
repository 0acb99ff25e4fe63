//! Synthesizes RTL configurations and prints one report line per configuration and flow.
//!
//! Usage: `cargo run -p pelab-hdl --example synth -- [PE] [FLOW|all] [NAME-FILTER]`
//! (flows: generic, ice40, xilinx; default all). With a filter, only the modules whose name
//! contains it are synthesized.

use pelab_hdl::{Flow, RtlConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pe = pelab_hdl::find(args.first().map_or("lmul", |s| s.as_str()))?;
    let flows: Vec<Flow> = match args.get(1).map(|s| s.as_str()) {
        None | Some("all") => Flow::ALL.to_vec(),
        Some(f) => vec![Flow::parse(f)?],
    };
    let filter = args.get(2).cloned().unwrap_or_default();
    let configs: Vec<RtlConfig> = pe.configs();
    println!("module\tflow\tcells\tlogic\tluts\tffs\tcarry\tdsps\tdepth");
    for cfg in configs {
        if !pe.module_name(&cfg).contains(&filter) {
            continue;
        }
        let m = pe.verilog(&cfg)?;
        for &flow in &flows {
            let r = pelab_hdl::synth::synthesize(&m.verilog, &m.name, flow)?;
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                m.name,
                flow.name(),
                r.cell_count,
                r.logic_cells,
                r.luts,
                r.ffs,
                r.carry,
                r.dsps,
                r.longest_path
            );
        }
    }
    Ok(())
}
