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
    let a = &c.arc_weighted;
    println!(
        "    OpenSTA arc-weighted {:>10.5} mW  (internal {:.5} raw, {:.5} arc-weighted; \
         switching {:.5}, leakage {:.3e})",
        a.total_mw,
        s.uniform.internal_mw,
        a.internal_mw,
        s.uniform.switching_mw,
        s.uniform.leakage_mw
    );
    println!(
        "    ratio OpenSTA arc-weighted / pelab: {:.3}",
        c.ratio_arc_weighted
    );
    let d = &c.decomposition;
    let pct = |x: f64| 100.0 * x / c.pelab_uniform_mw;
    println!(
        "    arc-weighted − pelab {:+.5} mW ({:+.1}% of pelab), part by part:",
        a.total_mw - c.pelab_uniform_mw,
        pct(a.total_mw - c.pelab_uniform_mw)
    );
    for (part, v, what) in [
        (
            "loads",
            d.load_mw,
            "pin capacitance max(rise, fall) where pelab takes `capacitance`",
        ),
        (
            "slews",
            d.slew_mw,
            "tables at OpenSTA's slews, not the smallest characterized one",
        ),
        (
            "arc weights",
            d.weighting_mw,
            "arcs weighted by sensitization, not a plain mean",
        ),
        (
            "input-port pins",
            d.input_pins_mw,
            "internal power of pins on nets no cell drives",
        ),
        (
            "clock",
            d.clock_mw,
            "clock pins: mean(rise, fall) × 2 per period, no C_CK·V²",
        ),
        ("remainder", d.remainder_mw, "what the parts above miss"),
    ] {
        println!("      {part:<16}{v:>+11.5} mW ({:+.1}%)  {what}", pct(v));
    }
    println!(
        "    pelab at OpenSTA's loads and slews {:.5} mW: arc-weighted OpenSTA / it {:.3}",
        d.pelab_at_sta_mw,
        a.total_mw / d.pelab_at_sta_mw
    );
    println!(
        "    check: pelab's tables at OpenSTA's slews and loads, arcs weighted: internal {:.5} \
         mW (trace {:.5}), switching {:.5} mW (report {:.5})",
        d.model_internal_mw, a.internal_mw, d.model_switching_mw, s.uniform.switching_mw
    );
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
