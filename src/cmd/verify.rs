//! `pelab verify`: emitted (or the user's) Verilog against golden vectors in simulators, and
//! optionally its equivalence with the gate netlist.

use super::args::VectorArgs;
use pelab_hdl::RtlConfig;
use pelab_sim::{Error, Result};
use pelab_testbench::vectors::DefaultSets;
use pelab_testbench::verify::{Dut, Report};
use pelab_testbench::waves::{Waves, Window, VCD_ROWS};
use pelab_testbench::{CaseSet, Pe, PeVectors, Simulator, Status};
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `pelab verify`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: VectorArgs,
    #[arg(
        long,
        conflicts_with_all = ["pe", "format", "overflow", "variant", "vectors", "rtl_files"],
        help = format!(
            "Every PE x format x policy x variant that has RTL and vectors (pipeline 0; without \
             --count or --exhaustive: {})",
            DefaultSets::FULL.describe()
        )
    )]
    all: bool,
    /// Read the vectors from this file instead of generating them.
    #[arg(long, conflicts_with_all = ["exhaustive", "count"])]
    vectors: Option<PathBuf>,
    /// Simulators: a comma-separated list of rusthdl (rust-hdl's in-process simulation of the
    /// block, a first check only), icarus, verilator, gates (pelab's bit-parallel simulation of
    /// the Yosys generic-gate netlist); or all; or none (with --formal). Default: all; with
    /// --rtl, the simulators that run Verilog files (icarus, verilator, gates).
    #[arg(long)]
    sim: Option<String>,
    /// Also prove the emitted Verilog equivalent to its Yosys-synthesized gate netlist (ABC
    /// cec for combinational designs, dsec with flip-flops).
    #[arg(long)]
    formal: bool,
    /// Verify these Verilog files instead of pelab's emitted module (same port conventions).
    #[arg(long = "rtl", num_args = 1.., value_name = "FILE")]
    rtl_files: Vec<PathBuf>,
    /// Top module of --rtl (default: pelab's module name for the configuration).
    #[arg(long)]
    top: Option<String>,
    /// Time limit per simulator step (compile or run), seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "all",
        help = format!(
            "Write a VCD waveform of the run's first {VCD_ROWS} rows (or --vcd-window) from \
             each simulator but rusthdl: FILE, or FILE with the simulator's name before the \
             extension when several run (out.icarus.vcd)"
        )
    )]
    vcd: Option<PathBuf>,
    /// Rows of the --vcd waveform: A..B, rows A up to B - 1.
    #[arg(long, value_name = "A..B", requires = "vcd")]
    vcd_window: Option<String>,
    /// Working directory for testbenches, vectors and logs (and the waveform of a failure).
    #[arg(long, default_value = "out/verify")]
    work: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Verifies every configuration asked for, prints each report (and a summary for several),
/// and fails naming the modules that did not pass.
pub fn run(o: Args) -> Result<()> {
    // rust-hdl simulates pelab's own blocks only, so it is not a default for --rtl files.
    let mut sims = Simulator::parse_list(o.sim.as_deref().unwrap_or("all"))?;
    if o.sim.is_none() && !o.rtl_files.is_empty() {
        sims.retain(|s| *s != Simulator::RustHdl);
    }
    let mut jobs = Vec::new();
    if o.all {
        for pe in pelab_testbench::pes() {
            let cfgs = pe.rtl.configs().into_iter().filter(|c| c.pipeline == 0);
            jobs.extend(cfgs.map(|cfg| (pe, cfg)));
        }
    } else {
        jobs.push(o.target.rtl.resolve()?);
    }
    let mut reports = Vec::new();
    for (pe, cfg) in jobs {
        let report = verify_one(&o, &sims, pe, &cfg)?;
        if !o.json {
            print_report(pe.vectors, &report);
        }
        reports.push(report);
    }
    if o.json {
        super::print_json(&json!({ "reports": reports }))?;
    } else if reports.len() > 1 {
        print_summary(&reports);
    }
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            let waves: Vec<String> = r
                .waves
                .iter()
                .filter(|w| w.failing_row.is_some())
                .map(|w| w.path.display().to_string())
                .collect();
            if waves.is_empty() {
                r.module.clone()
            } else {
                format!(
                    "{} (waveform of the first failing row: {})",
                    r.module,
                    waves.join(", ")
                )
            }
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "failed verification: {}",
            failed.join("; ")
        )))
    }
}

/// Verifies one configuration: streamed through the gate engine when that is all that is
/// asked on an exhaustive set, else through vectors, a testbench and the simulators.
fn verify_one(o: &Args, sims: &[Simulator], pe: Pe, cfg: &RtlConfig) -> Result<Report> {
    let dir = o.work.join(pe.rtl.module_name(cfg));
    let waves = Waves {
        vcd: o.vcd.clone(),
        window: o
            .vcd_window
            .as_deref()
            .map(|w| Window::parse(w).map_err(|e| Error::new(format!("--vcd-window: {}", e.0))))
            .transpose()?,
        on_failure: true,
    };
    // The gate engine alone on an exhaustive set: streamed, no vector file, any size.
    let streamed = sims == [Simulator::Gates]
        && o.target.set.exhaustive
        && o.vectors.is_none()
        && o.rtl_files.is_empty()
        && !o.formal
        && !pe.vectors.layout(cfg)?.clocked();
    if streamed {
        let shard = o.target.set.shard()?;
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} cases, {per_sec}, eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("gates {}", pe.rtl.module_name(cfg)));
        let report = pelab_testbench::verify::verify_gates_exhaustive_waves(
            pe,
            cfg,
            shard,
            &dir,
            &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
            &waves,
        )?;
        bar.finish_and_clear();
        return Ok(report);
    }
    let v = match &o.vectors {
        Some(path) => pelab_testbench::vectors::parse(path, pe.vectors, cfg)?,
        None => {
            // Without a simulator (--sim none --formal) no vectors are needed.
            let cases = if sims.is_empty() {
                CaseSet::Count(0)
            } else if o.all && o.target.set.default_size() {
                DefaultSets::FULL.choose(pe.vectors, cfg)?
            } else {
                o.target.set.set()
            };
            o.target.set.generate(pe, cfg, cases)?
        }
    };
    let dut = if o.rtl_files.is_empty() {
        Dut::Emitted
    } else {
        Dut::User {
            files: o.rtl_files.clone(),
            top: o.top.clone(),
        }
    };
    let limit = std::time::Duration::from_secs(o.timeout);
    pelab_testbench::verify::verify_waves(&v, &dut, sims, o.formal, &dir, limit, &waves)
}

/// A run's status as printed (`passed`, `timedout`...).
fn status_name(s: &Status) -> String {
    format!("{s:?}").to_lowercase()
}

/// One line per module and simulator, after several configurations.
fn print_summary(reports: &[Report]) {
    println!("\nsummary: {} configurations", reports.len());
    println!(
        "  {:<36} {:<10} {:<9} {:>10} {:>8} {:>12}",
        "module", "simulator", "status", "passed", "failed", "vectors/s"
    );
    for r in reports {
        for run in &r.runs {
            println!(
                "  {:<36} {:<10} {:<9} {:>10} {:>8} {:>12.0}",
                r.module,
                run.sim,
                status_name(&run.status),
                run.passed,
                run.failed,
                run.vectors_per_sec
            );
        }
    }
}

/// One configuration's report: its runs, mismatches (decoded), formal result, work dir.
fn print_report(pe: &dyn PeVectors, r: &Report) {
    println!(
        "{} ({}): {} cases, {} rows",
        r.module, r.source, r.cases, r.rows
    );
    println!(
        "  {:<10} {:<9} {:>10} {:>10} {:>12} {:>10}",
        "simulator", "status", "passed", "failed", "vectors/s", "compile s"
    );
    for run in &r.runs {
        println!(
            "  {:<10} {:<9} {:>10} {:>10} {:>12.0} {:>10.1}",
            run.sim,
            status_name(&run.status),
            run.passed,
            run.failed,
            run.vectors_per_sec,
            run.compile_secs
        );
    }
    let outs: Vec<String> = pe
        .layout(&r.config)
        .map_or(vec![], |l| l.outputs().map(|f| f.name.clone()).collect());
    for run in &r.runs {
        for m in &run.mismatches {
            let mut line = format!("  {} row {}: inputs", run.sim, m.row);
            for x in &m.inputs {
                line.push_str(&format!(" {x:X}"));
            }
            for (i, name) in outs.iter().enumerate() {
                let e = m.expected.get(i).copied().unwrap_or(0);
                let g = m.got.get(i).copied().flatten();
                line.push_str(&format!(
                    "; {name} expected {e:X} ({}) got {}",
                    pe.describe_output(&r.config, name, e),
                    g.map_or("X".to_string(), |g| format!(
                        "{g:X} ({})",
                        pe.describe_output(&r.config, name, g)
                    ))
                ));
            }
            println!("{line}");
        }
        if matches!(run.status, Status::Crashed | Status::TimedOut) {
            println!(
                "  {} {:?}; last output:\n{}",
                run.sim, run.status, run.log_tail
            );
        }
    }
    for w in &r.waves {
        let mut line = format!(
            "  {} waveform: {} (rows {}..{}",
            w.sim,
            w.path.display(),
            w.start,
            w.window.to
        );
        match (w.first_mismatch, w.mismatch_ns) {
            (Some(row), Some(ns)) => {
                line.push_str(&format!("; mismatch rises for row {row} at {ns} ns)"))
            }
            _ => line.push_str("; no mismatch in them)"),
        }
        println!("{line}");
        if let Some(row) = w.failing_row.filter(|_| !w.reproduced()) {
            println!(
                "  {}: WARNING: the waveform's run of these rows did not fail first on row \
                 {row}, the run's first failure (the DUT's state may depend on rows before \
                 them)",
                w.sim
            );
        }
    }
    for note in &r.waves_missing {
        println!("  {note}");
    }
    if let Some(p) = &r.formal {
        println!(
            "  formal ({} against the generic gate netlist, {} flip-flops): {} in {:.2} s",
            p.method,
            p.latches,
            if p.equivalent {
                "equivalent"
            } else {
                "NOT EQUIVALENT"
            },
            p.secs
        );
        if !p.equivalent {
            println!("{}", p.abc_output);
        }
    }
    println!("  work directory: {}", r.work_dir.display());
}
