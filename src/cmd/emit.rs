//! `pelab emit`: the Verilog of one configuration, or of every configuration.

use super::args::RtlArgs;
use pelab_sim::Result;
use serde_json::json;

/// Arguments of `pelab emit`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rtl: RtlArgs,
    /// Every configuration of every PE.
    #[arg(long, conflicts_with_all = ["pe", "format", "overflow", "pipeline", "variant"])]
    all: bool,
    /// Output directory.
    #[arg(long, short, default_value = "out/verilog")]
    out: std::path::PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Writes the Verilog files and prints their paths (or JSON).
pub fn run(args: Args) -> Result<()> {
    let mut jobs = Vec::new();
    if args.all {
        for pe in pelab_testbench::pes() {
            jobs.extend(pe.rtl.configs().into_iter().map(|cfg| (pe, cfg)));
        }
    } else {
        jobs.push(args.rtl.resolve()?);
    }
    let mut written = Vec::new();
    for (pe, cfg) in jobs {
        let m = pe.rtl.verilog(&cfg)?;
        let path = pelab_hdl::emit::write_module(&args.out, &m)?;
        written.push(json!({
            "pe": pe.id(), "config": cfg, "module": m.name, "latency": m.latency,
            "file": path.display().to_string(),
        }));
        if !args.json {
            println!("{}", path.display());
        }
    }
    if args.json {
        super::print_json(&json!({ "files": written }))?;
    } else if written.len() > 1 {
        eprintln!(
            "wrote {} Verilog files to {}",
            written.len(),
            args.out.display()
        );
    }
    Ok(())
}
