//! `pelab gemm`: a user's `C = A·B` (`.npy` files) through an emitted PE array, on the
//! cycle-accurate array model or on the array's Verilog in a simulator
//! (`pelab_reports::gemm`).

use pelab_reports::gemm::{run as run_job, write_c, Engine, GemmJob, GemmRun};
use pelab_sim::{Error, Result};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `pelab gemm`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    array: super::array::ArrayArgs,
    /// A, an M x K matrix (.npy, 2-D, C or Fortran order): float32/float64 values (rounded to
    /// the format, nearest even), unsigned integers (raw codes of the format), or signed
    /// integers within int16 (int16fma only).
    #[arg(long = "a", value_name = "A.npy")]
    a: PathBuf,
    /// B, a K x N matrix (.npy), taken as A is.
    #[arg(long = "b", value_name = "B.npy")]
    b: PathBuf,
    /// Where to write C, M x N: float32 holding the FP32 result codes bit for bit (float
    /// cells) or int32 (int16fma). Written atomically.
    #[arg(short = 'o', long = "output", value_name = "C.npy")]
    output: PathBuf,
    /// Where the GEMM runs: model (the cycle-accurate array model), or the emitted array
    /// Verilog on icarus, verilator or gates (pelab's gate-level simulation of its Yosys
    /// netlist), compared with the model cycle by cycle.
    #[arg(long, default_value = "model")]
    sim: String,
    /// Working directory of a simulator run (Verilog, testbench, vectors, logs); the array's
    /// files go in DIR/<module>.
    #[arg(long, default_value = "out/gemm", value_name = "DIR")]
    work: PathBuf,
    /// Time limit per simulator step (compile or run), seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the GEMM, writes C and prints what happened.
pub fn run(o: Args) -> Result<()> {
    let engine = Engine::parse(&o.sim).map_err(|e| Error::new(format!("--sim: {e}")))?;
    // `is` parses, and the array refuses it (it has no RTL) with the way around.
    let spec = o.array.spec()?;
    let job = GemmJob {
        work: o.work.join(spec.module_name()),
        spec,
        a: o.a.clone(),
        b: o.b.clone(),
        engine,
        limit: Duration::from_secs(o.timeout),
    };
    let bar = match engine {
        Engine::Model => indicatif::ProgressBar::hidden(),
        Engine::Rtl(_) => {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .expect("valid template"),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        }
    };
    let result = run_job(&job, &|phase| bar.set_message(phase.to_string()));
    bar.finish_and_clear();
    let r = result?;
    write_c(&o.output, &r)?;
    if o.json {
        return super::print_json(&to_json(&r, &o.output));
    }
    print_text(&r, &o.output);
    Ok(())
}

fn to_json(r: &GemmRun, output: &std::path::Path) -> serde_json::Value {
    let c = &r.spec.cell;
    json!({
        "pe": c.pe,
        "format": c.format,
        "policy": c.policy,
        "module": r.module,
        "shape": { "m": r.gemm.m, "k": r.gemm.k, "n": r.gemm.n },
        "array": { "rows": r.spec.rows, "cols": r.spec.cols },
        "dataflow": r.spec.dataflow.name(),
        "lanes": c.lanes,
        "sim": r.engine.name(),
        "folds": r.trace.folds,
        "cycles_per_fold": r.trace.cycles_per_fold,
        "cycles": r.trace.cycles_scalesim,
        "first_output_cycle": r.trace.first_output_cycle,
        "last_output_cycle": r.trace.last_output_cycle,
        "utilization": r.utilization,
        "timing": r.timing,
        "converted": r.inexact(),
        "operands": { "a": r.a, "b": r.b },
        "output": output.display().to_string(),
        "output_dtype": if c.float { "float32" } else { "int32" },
        "channel_scales_applied": pelab_reports::gemm::channel_scales(r).is_some(),
        "sim_run": r.sim,
        "cycles_compared": r.sim.as_ref().map(|_| r.rows_compared),
        "work_dir": r.work_dir.as_ref().map(|p| p.display().to_string()),
    })
}

fn print_text(r: &GemmRun, output: &std::path::Path) {
    let c = &r.spec.cell;
    let g = r.gemm;
    let ks = g.k.div_ceil(c.lanes);
    println!(
        "C = A·B on {} {} {} cells ({})",
        c.pe, c.format, c.policy, r.module
    );
    println!(
        "  shape        M x K x N = {} x {} x {} ({} lane(s) per step, K' = {ks})",
        g.m, g.k, g.n, c.lanes
    );
    println!(
        "  array        {}x{}, {} dataflow",
        r.spec.rows,
        r.spec.cols,
        r.spec.dataflow.name()
    );
    match &r.sim {
        None => println!(
            "  simulator    model (cycle-accurate array model; C equal to the reference GEMM)"
        ),
        Some(s) => println!(
            "  simulator    {}: passed, outputs equal to the model's in all {} cycles compared; \
             compile {:.2} s, run {:.2} s",
            s.sim, r.rows_compared, s.compile_secs, s.run_secs
        ),
    }
    println!(
        "  folds        {} ({} cycles per fold)",
        r.trace.folds, r.trace.cycles_per_fold
    );
    println!(
        "  cycles       {} (SCALE-Sim's count: the cycle of the last MAC, from cycle 0 of the \
         first input); last row of C out in cycle {}",
        r.trace.cycles_scalesim, r.trace.last_output_cycle
    );
    println!(
        "  utilization  {:.4} (M·N·K'·L / (R·C·(cycles + 1)), L cycles per step)",
        r.utilization
    );
    for (name, op) in [("A", &r.a), ("B", &r.b)] {
        println!(
            "  {name}            {} ({}, {} x {}{}): {}",
            op.path.display(),
            op.dtype,
            op.rows,
            op.cols,
            if op.fortran_order {
                ", Fortran order"
            } else {
                ""
            },
            op.conversion.describe()
        );
    }
    println!(
        "  output       {} ({} x {} {})",
        output.display(),
        g.m,
        g.n,
        if pelab_reports::gemm::channel_scales(r).is_some() {
            "float32, each row's FP32 results times its channel scale"
        } else if c.float {
            "float32, the FP32 result codes bit for bit"
        } else {
            "int32"
        }
    );
    if let Some(w) = &r.work_dir {
        println!("  work dir     {}", w.display());
    }
}
