//! `pelab sta`: the PE's Liberty netlist through OpenSTA at pelab's measured activity, its
//! power beside pelab's Liberty energy × frequency, and the critical path and ASIC Fmax.

use super::args::RtlArgs;
use pelab_sim::{Error, Result};
use pelab_testbench::codec::{Dist, Shape};
use pelab_testbench::energy::{read_library, Request, Tech};

/// Arguments of `pelab sta`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rtl: RtlArgs,
    /// Liberty library (plain or .gz) both pelab and OpenSTA price the cells with.
    #[arg(long)]
    liberty: std::path::PathBuf,
    /// Operand distribution: gaussian, uniform or loguniform.
    #[arg(long, default_value = "gaussian")]
    dist: String,
    /// Operations to simulate (elementwise workload).
    #[arg(long, default_value_t = 4096)]
    ops: u64,
    /// Random seed of the operands.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Clock frequency in GHz (OpenSTA's clock period and pelab's leakage time per cycle).
    #[arg(long, default_value_t = 1.0)]
    freq_ghz: f64,
    /// Wire capacitance per fan-out pin, fF (pelab's estimate, given to OpenSTA with
    /// set_load -wire_load).
    #[arg(long, default_value_t = 0.5)]
    wire_ff: f64,
    /// Keep the Verilog netlist, the Tcl script and OpenSTA's log in DIR (default: a
    /// temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    keep: Option<std::path::PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `pelab sta`.
pub fn run(o: Args) -> Result<()> {
    pelab_hdl::tools::require_tool("sta")?;
    let (pe, cfg) = o.rtl.resolve()?;
    let lib = read_library(&o.liberty)?;
    let req = Request {
        tech: Tech::Liberty(o.liberty.clone()),
        dist: Dist::parse(&o.dist)?,
        shape: Shape::Elementwise,
        ops: o.ops,
        seed: o.seed,
        freq_ghz: o.freq_ghz,
        wire_ff: o.wire_ff,
    };
    let tmp = std::env::temp_dir().join(format!("pelab-sta-{}", std::process::id()));
    let dir = o.keep.clone().unwrap_or_else(|| tmp.clone());
    let spin = indicatif::ProgressBar::new_spinner();
    spin.set_message(format!(
        "{} {}: synthesizing, simulating {} operations, running OpenSTA",
        pe.id(),
        cfg.format,
        o.ops
    ));
    spin.enable_steady_tick(std::time::Duration::from_millis(120));
    let c = pelab_testbench::opensta::calibrate(pe, &cfg, &req, &o.liberty, &lib, &dir);
    spin.finish_and_clear();
    if o.keep.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let c = c?;
    if o.json {
        let mut v = serde_json::to_value(&c).map_err(|e| Error::new(e.to_string()))?;
        v["fmax_ghz"] = serde_json::json!(c.sta.fmax_ghz());
        v["min_period_ns"] = serde_json::json!(c.sta.min_period_ns());
        if o.keep.is_none() {
            // The temporary directory is gone.
            v["dir"] = serde_json::Value::Null;
        }
        return super::print_json(&v);
    }
    let s = &c.sta;
    println!(
        "{} {} ({}, {} cells) at {} GHz, {} rows ({} operations per row)",
        c.pe, c.format, c.module, c.cells, c.freq_ghz, c.rows, c.ops_per_row
    );
    println!(
        "  uniform activity {:.4} toggles per cell output per period (duty 0.5): the \
         per-toggle pricing alone",
        c.uniform_activity
    );
    println!("    pelab   {:>10.5} mW", c.pelab_uniform_mw);
    power_line("OpenSTA", &s.uniform);
    println!("    ratio OpenSTA / pelab: {:.3}", c.ratio_uniform);
    println!("  measured activity: pelab's simulation vs OpenSTA's propagation from the ports");
    println!(
        "    pelab   {:>10.5} mW  (energy per operation {:.5} pJ: dynamic {:.5}, clock {:.5}, \
         leakage {:.3e})",
        c.pelab_mw, c.pelab_pj[3], c.pelab_pj[0], c.pelab_pj[1], c.pelab_pj[2]
    );
    power_line("OpenSTA", &s.ports);
    println!("    ratio OpenSTA / pelab: {:.3}", c.ratio_ports);
    println!(
        "  critical path {} -> {}: {:.4} ns{}; minimum period {:.4} ns, Fmax {:.3} GHz",
        s.startpoint,
        s.endpoint,
        s.path_delay_ns,
        if s.setup_ns != 0.0 {
            format!(" + setup {:.4} ns", s.setup_ns)
        } else {
            String::new()
        },
        s.min_period_ns(),
        s.fmax_ghz()
    );
    println!("  provenance:");
    for p in &c.provenance {
        println!("    - {p}");
    }
    if o.keep.is_some() {
        println!("  files: {}", c.dir.display());
    }
    Ok(())
}

/// One OpenSTA power total as a line.
fn power_line(who: &str, p: &pelab_testbench::opensta::StaPower) {
    println!(
        "    {who} {:>10.5} mW  (internal {:.5}, switching {:.5}, leakage {:.3e})",
        p.total_mw, p.internal_mw, p.switching_mw, p.leakage_mw
    );
}
