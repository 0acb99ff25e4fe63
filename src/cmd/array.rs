//! `pelab array`: PE arrays. `emit` writes an array's Verilog, `verify` runs whole GEMMs
//! through it against the cycle-accurate model, `synth` synthesizes it, and `timing` gives the
//! analytic timing of a GEMM on an array (`pelab_sim::array::timing`).

use pelab_hdl::array::cell::{bitmod_cell, cell_or_default, cells};
use pelab_hdl::array::{ArraySpec, RTL_DATAFLOWS};
use pelab_hdl::Flow;
use pelab_sim::array::cell::Cell;
use pelab_sim::array::timing::{timing_with, ArrayDims, Dataflow, GemmDims, PeTiming, Timing};
use pelab_sim::{Error, Result};
use pelab_testbench::array as tb_array;
use pelab_testbench::{Simulator, Status};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `pelab array`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    which: Which,
}

/// The `array` subcommands.
#[derive(clap::Subcommand)]
pub enum Which {
    /// Analytic timing of [M x K]·[K x N] on an R x C array: folds, cycles per fold, cycles
    /// (SCALE-Sim's count), the last output cycle, utilization and SRAM traffic.
    ///
    /// Cycle 0 is the cycle of the first input; `cycles` = folds·per_fold − 1 is the cycle of
    /// the last MAC; utilization = M·N·K'·L / (R·C·(cycles + 1)). SRAM counts are operand
    /// elements streamed into the array, padding of partial tiles included (also given
    /// without padding, SCALE-Sim v2's count).
    Timing(TimingArgs),
    /// Write the Verilog of an R x C array of a PE's cells (one self-describing file: the
    /// array, its PE module and the cell; ports, latency and protocol in its header).
    Emit(EmitArgs),
    /// Run whole GEMMs through the emitted array on Icarus, Verilator and the gate engine,
    /// cycle by cycle against the cycle-accurate model (every output and the cycle it
    /// appears in); the model's C is checked against the reference GEMM first.
    Verify(VerifyArgs),
    /// Synthesize the array with Yosys (each module mapped once, then flattened): cells,
    /// LUTs, flip-flops, carry cells, DSPs, longest path.
    Synth(SynthArgs),
    /// Gate-level energy per MAC of whole GEMMs on the array (Gaussian operands, every cycle
    /// replayed on the synthesized array and checked against the model, Nangate 45 nm
    /// figures), beside the same cell alone as a 1x1 array on the same GEMMs, and the ratio.
    Energy(EnergyArgs),
}

/// Which array: PE, format, policy, size and dataflow.
#[derive(clap::Args)]
pub struct ArrayArgs {
    /// PE whose cell fills the array: lmul, fpmul (with FP32 accumulation), fp16mac,
    /// int16fma.
    pe: String,
    /// Operand format (e.g. e4m3, bf16, fp16, int16).
    #[arg(long)]
    format: String,
    /// Overflow policy (default: the cell's first, e.g. saturate for lmul, wrap for
    /// int16fma).
    #[arg(long)]
    policy: Option<String>,
    /// Array size RxC, each side 1..=64 (e.g. 8x8).
    #[arg(long, value_name = "RxC")]
    array: String,
    /// Dataflow: os (output-stationary) or ws (weight-stationary).
    #[arg(long, default_value = "os", value_parser = parse_dataflow)]
    dataflow: Dataflow,
}

impl ArrayArgs {
    /// The array these arguments name; errors list what is valid.
    pub fn spec(&self) -> Result<ArraySpec> {
        let (r, c) = pelab_hdl::array::parse_size(&self.array)?;
        ArraySpec::new(
            cell_or_default(&self.pe, &self.format, self.policy.as_deref())?,
            self.dataflow,
            r,
            c,
        )
    }
}

/// Arguments of `pelab array emit`.
#[derive(clap::Args)]
pub struct EmitArgs {
    /// PE whose cell fills the array: lmul, fpmul (with FP32 accumulation), fp16mac,
    /// int16fma.
    #[arg(required_unless_present = "all")]
    pe: Option<String>,
    /// Operand format (e.g. e4m3, bf16, fp16, int16).
    #[arg(long, required_unless_present = "all")]
    format: Option<String>,
    /// Overflow policy (default: the cell's first).
    #[arg(long)]
    policy: Option<String>,
    /// Array size RxC, each side 1..=64 (e.g. 8x8).
    #[arg(long, value_name = "RxC", required_unless_present = "all")]
    array: Option<String>,
    /// Dataflow: os (output-stationary) or ws (weight-stationary).
    #[arg(long, default_value = "os", value_parser = parse_dataflow)]
    dataflow: Dataflow,
    /// Every cell (every PE, format and policy) in both dataflows at 2x2, 4x4, 8x8 and 16x16.
    #[arg(long, conflicts_with_all = ["pe", "format", "array", "policy"])]
    all: bool,
    /// Output directory.
    #[arg(long, short, default_value = "out/arrays")]
    out: PathBuf,
}

/// Arguments of `pelab array verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    array: ArrayArgs,
    /// Simulators: a comma-separated list of icarus, verilator, gates, or all.
    #[arg(long, default_value = "icarus,verilator,gates")]
    sim: String,
    /// GEMM shape MxKxN (default: two folds each way with padding in the last, 24 steps of
    /// K: (2R-1) x (24d-1) x (2C-1)).
    #[arg(long, value_name = "MxKxN", value_parser = parse_gemm)]
    gemm: Option<GemmDims>,
    /// GEMMs to run, each with its own random operands and a reset before it.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Random seed of the operands.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Working directory (Verilog, testbench, vectors, logs).
    #[arg(long, default_value = "out/array-verify")]
    work: PathBuf,
    /// Time limit per simulator, seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pelab array synth`.
#[derive(clap::Args)]
pub struct SynthArgs {
    #[command(flatten)]
    array: ArrayArgs,
    /// Synthesis target: generic, ice40, xilinx.
    #[arg(long, default_value = "generic")]
    target: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pelab array timing`.
#[derive(clap::Args)]
pub struct TimingArgs {
    /// Dataflow: os (output-stationary), ws (weight-stationary), is (input-stationary).
    #[arg(long, value_parser = parse_dataflow)]
    dataflow: Dataflow,
    /// Array size RxC, rows and columns each in 1..=64 (e.g. 8x8).
    #[arg(long, value_name = "RxC", value_parser = parse_array)]
    array: ArrayDims,
    /// Product shape MxKxN: [M x K]·[K x N] (e.g. 64x128x32).
    #[arg(long, value_name = "MxKxN", value_parser = parse_gemm)]
    gemm: GemmDims,
    /// PE whose array cell runs the steps; sets the lanes per step (int16fma: 2, the float
    /// cells: 1) and, for bitmod, its whole timing: 4 lanes, 2 cycles per beat, groups of 128
    /// weights taking at least 8 cycles, results 9 cycles after the last beat (os only).
    #[arg(long)]
    pe: Option<String>,
    /// Lanes per step d (K' = ceil(K/d) steps per dot product); default 1, or the lanes of
    /// --pe.
    #[arg(long)]
    lanes: Option<usize>,
    /// Cycles per step L (bit-serial PEs); the streamed term of a fold is multiplied by it.
    /// Default 1, or the cycles of --pe.
    #[arg(long)]
    step_cycles: Option<u64>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_dataflow(s: &str) -> std::result::Result<Dataflow, String> {
    Dataflow::parse(s).map_err(|e| e.to_string())
}

/// Parses `N1xN2[x...]` into `count` positive integers; the error quotes the text and says
/// what was expected.
fn parse_dims(
    s: &str,
    count: usize,
    shape: &str,
    example: &str,
) -> std::result::Result<Vec<usize>, String> {
    let parts: Vec<&str> = s.split(['x', 'X']).collect();
    let bad = |why: String| {
        format!("'{s}' is not {shape}: {why}; expected {count} positive integers joined by 'x' (e.g. {example})")
    };
    if parts.len() != count {
        return Err(bad(format!("{} part(s) found", parts.len())));
    }
    parts
        .iter()
        .map(|p| match p.trim().parse::<usize>() {
            Ok(0) => Err(bad("a dimension is 0".into())),
            Ok(v) => Ok(v),
            Err(_) => Err(bad(format!("'{p}' is not a positive integer"))),
        })
        .collect()
}

fn parse_array(s: &str) -> std::result::Result<ArrayDims, String> {
    let v = parse_dims(s, 2, "RxC", "8x8")?;
    ArrayDims::new(v[0], v[1]).map_err(|e| e.to_string())
}

fn parse_gemm(s: &str) -> std::result::Result<GemmDims, String> {
    let v = parse_dims(s, 3, "MxKxN", "64x128x32")?;
    GemmDims::new(v[0], v[1], v[2]).map_err(|e| e.to_string())
}

/// Runs the `array` subcommand asked for.
pub fn run(args: Args) -> Result<()> {
    match args.which {
        Which::Timing(a) => run_timing(a),
        Which::Emit(a) => run_emit(a),
        Which::Verify(a) => run_verify(a),
        Which::Synth(a) => run_synth(a),
        Which::Energy(a) => run_energy(a),
    }
}

fn run_emit(a: EmitArgs) -> Result<()> {
    let specs = match (&a.pe, &a.format, &a.array, a.all) {
        (Some(pe), Some(format), Some(array), false) => vec![ArrayArgs {
            pe: pe.clone(),
            format: format.clone(),
            policy: a.policy.clone(),
            array: array.clone(),
            dataflow: a.dataflow,
        }
        .spec()?],
        (_, _, _, true) => {
            let mut v = Vec::new();
            for c in cells().into_iter().chain([bitmod_cell()]) {
                for df in RTL_DATAFLOWS {
                    if c.is_sequential() && df != Dataflow::Os {
                        continue;
                    }
                    for n in [2, 4, 8, 16] {
                        v.push(ArraySpec::new(c.clone(), df, n, n)?);
                    }
                }
            }
            v
        }
        _ => {
            return Err(Error::new(
                "give a PE with --format and --array, or --all (see pelab array emit --help)",
            ))
        }
    };
    for s in &specs {
        let m = s.verilog()?;
        let path = pelab_hdl::emit::write_module(&a.out, &m)?;
        if specs.len() == 1 {
            println!(
                "{} ({} array of {} PEs, {} ports; {} lines)",
                path.display(),
                s.dataflow.name(),
                s.rows * s.cols,
                m.ports.len(),
                m.verilog.lines().count()
            );
        }
    }
    if specs.len() > 1 {
        println!(
            "{} array modules written to {}",
            specs.len(),
            a.out.display()
        );
    }
    Ok(())
}

fn run_verify(a: VerifyArgs) -> Result<()> {
    let spec = a.array.spec()?;
    if a.count == 0 {
        return Err(Error::new("--count must be at least 1"));
    }
    let sims = Simulator::parse_list(&a.sim)?;
    if let Some(s) = sims.iter().find(|s| **s == Simulator::RustHdl) {
        return Err(Error::new(format!(
            "--sim {}: arrays run on icarus, verilator and gates",
            s.name()
        )));
    }
    let g = a.gemm.unwrap_or_else(|| tb_array::default_gemm(&spec));
    let cases = tb_array::random_cases(&spec.cell.sim_cell()?, g, a.count, a.seed);
    let v = tb_array::vectors(&spec, &cases)?;
    let r = tb_array::verify(
        &spec,
        &v,
        &sims,
        &a.work,
        Duration::from_secs(a.timeout),
        None,
    )?;
    if a.json {
        super::print_json(&json!({"passed": r.passed(), "report": r}))?;
    } else {
        let t = &r.cases[0].trace;
        println!(
            "{}: {} GEMM(s) {}x{}x{}, {} vector rows (one per cycle), seed {}",
            r.module, a.count, g.m, g.k, g.n, r.rows, a.seed
        );
        println!(
            "  model: {} folds, {} cycles per fold, last MAC in cycle {}, last row of C out in \
             cycle {} (cycle 0: the first input after reset); C equals the reference GEMM",
            t.folds, t.cycles_per_fold, t.cycles_scalesim, t.last_output_cycle
        );
        for run in &r.runs {
            let status = match run.status {
                Status::Passed => "passed".to_string(),
                Status::Failed => "FAILED".to_string(),
                Status::Crashed => "CRASHED".to_string(),
                Status::TimedOut => "TIMED OUT".to_string(),
            };
            println!(
                "  {:<10} {status}: {} rows passed, {} failed ({:.1} s compile, {:.2} s run)",
                run.sim, run.passed, run.failed, run.compile_secs, run.run_secs
            );
            for m in run.mismatches.iter().take(5) {
                println!(
                    "    cycle row {}: expected {:X?}, got {:X?}",
                    m.row, m.expected, m.got
                );
            }
            if run.status == Status::Crashed || run.status == Status::TimedOut {
                println!("{}", run.log_tail);
            }
        }
        println!("  work directory: {}", r.work_dir.display());
    }
    if !r.passed() {
        return Err(Error::new(format!(
            "{}: the array does not match the model (work directory {})",
            r.module,
            r.work_dir.display()
        )));
    }
    Ok(())
}

fn run_synth(a: SynthArgs) -> Result<()> {
    let spec = a.array.spec()?;
    let flow = Flow::parse(&a.target)?;
    if flow == Flow::Liberty {
        return Err(Error::new(
            "--target: arrays synthesize for generic, ice40 and xilinx",
        ));
    }
    let m = spec.verilog()?;
    let r = pelab_hdl::synth::synthesize_hierarchical(&m.verilog, &m.name, flow)?;
    if a.json {
        return super::print_json(&json!({"array": spec, "report": r}));
    }
    println!(
        "{} ({} flow, each module mapped once, then flattened; {})",
        r.module,
        flow.name(),
        r.yosys
    );
    println!("  PEs:          {}", spec.rows * spec.cols);
    super::synth::print_resources(&r, flow);
    println!("  netlist:      {}", r.netlist.display());
    Ok(())
}

fn run_timing(a: TimingArgs) -> Result<()> {
    let lanes = match (&a.pe, a.lanes) {
        (None, l) => l.unwrap_or(1),
        (Some(pe), None) => Cell::lanes_of(pe)?,
        (Some(pe), Some(l)) => {
            let own = Cell::lanes_of(pe)?;
            if own != l {
                return Err(Error::new(format!(
                    "--lanes {l} contradicts --pe {pe}, whose cell has {own} lane(s) per step; \
                     give one of them"
                )));
            }
            l
        }
    };
    let pe_timing = if a.pe.as_deref() == Some("bitmod") {
        let own = PeTiming::bitmod();
        if a.step_cycles.is_some_and(|l| l != own.step_cycles) {
            return Err(Error::new(format!(
                "--step-cycles contradicts --pe bitmod, whose cell takes {} cycles per beat; \
                 give one of them",
                own.step_cycles
            )));
        }
        own
    } else {
        PeTiming::simple(lanes, a.step_cycles.unwrap_or(1))
    };
    let t = timing_with(a.dataflow, a.array, a.gemm, &pe_timing)?;
    if a.json {
        let mut v = serde_json::to_value(&t).map_err(|e| Error::new(e.to_string()))?;
        v["pe"] = serde_json::json!(a.pe);
        return super::print_json(&v);
    }
    print_text(&t, a.pe.as_deref(), &pe_timing);
    Ok(())
}

fn print_text(t: &Timing, pe: Option<&str>, pt: &PeTiming) {
    let (r, c) = (t.array.rows, t.array.cols);
    let streamed = match t.dataflow {
        Dataflow::Os => "K'",
        Dataflow::Ws => "M",
        Dataflow::Is => "N",
    };
    let per_fold = match (t.dataflow, pt.group) {
        (Dataflow::Os, Some((g, min))) => format!(
            "R + C + stream - 2; stream = sum over groups of {g} weights of max(L*beats, {min})"
        ),
        (Dataflow::Os, None) => format!("R + C + L*{streamed} - 2"),
        _ => format!("2R + C + L*{streamed} - 2"),
    };
    println!(
        "{} dataflow, {r}x{c} array, {}x{}x{} GEMM (M x K x N){}",
        t.dataflow.name(),
        t.gemm.m,
        t.gemm.k,
        t.gemm.n,
        pe.map(|p| format!(", {p} cells")).unwrap_or_default()
    );
    println!(
        "{} lane(s) per step (K' = {} steps per dot product), {} cycle(s) per step (L)",
        t.lanes, t.k_steps, t.step_cycles
    );
    println!("  folds               {}", t.folds);
    println!("  cycles per fold     {}  ({per_fold})", t.cycles_per_fold);
    println!(
        "  cycles              {}  (SCALE-Sim: folds * per fold - 1, the cycle of the last MAC; \
         cycle 0 = the first input)",
        t.cycles
    );
    let extra = if pt.result_latency > 0 {
        format!(
            "; the PE's result trails its last step by {} cycles",
            pt.result_latency
        )
    } else {
        String::new()
    };
    println!(
        "  last output cycle   {}  (the last row of C on c_out; {} cycles in all{extra})",
        t.last_output_cycle, t.total_cycles
    );
    println!(
        "  utilization         {:.4}  (M*N*K'*L / (R*C*(cycles + 1)))",
        t.utilization
    );
    for (what, s) in [
        ("streamed, padding included", &t.sram),
        ("without padding (SCALE-Sim v2)", &t.sram_unpadded),
    ] {
        println!(
            "  SRAM {what}: a_reads {}, b_reads {}, c_writes {}, c_reads {} (elements)",
            s.a_reads, s.b_reads, s.c_writes, s.c_reads
        );
    }
}

/// Arguments of `pelab array energy`.
#[derive(clap::Args)]
pub struct EnergyArgs {
    #[command(flatten)]
    array: ArrayArgs,
    /// GEMM shape MxKxN (default: 2R x 64 x 2C, two full folds each way).
    #[arg(long, value_name = "MxKxN", value_parser = parse_gemm)]
    gemm: Option<GemmDims>,
    /// GEMMs to run, each with its own Gaussian operands and a reset before it.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Random seed of the operands.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Clock frequency in GHz (leakage time per cycle).
    #[arg(long, default_value_t = 1.0)]
    freq_ghz: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn run_energy(a: EnergyArgs) -> Result<()> {
    let spec = a.array.spec()?;
    if a.count == 0 {
        return Err(Error::new("--count must be at least 1"));
    }
    if !(a.freq_ghz > 0.0 && a.freq_ghz.is_finite()) {
        return Err(Error::new(format!(
            "--freq-ghz {}: the clock frequency must be a positive number of GHz",
            a.freq_ghz
        )));
    }
    let g = a.gemm.unwrap_or_else(|| tb_array::energy_gemm(&spec));
    let spin = indicatif::ProgressBar::new_spinner();
    spin.set_message(format!(
        "{}: synthesizing and simulating {} GEMM(s) {}x{}x{} on the array and on one PE",
        spec.module_name(),
        a.count,
        g.m,
        g.k,
        g.n
    ));
    spin.enable_steady_tick(Duration::from_millis(120));
    let r = tb_array::gaussian_energy(&spec, g, a.count, a.seed, a.freq_ghz);
    spin.finish_and_clear();
    let r = r?;
    if a.json {
        return super::print_json(&json!({
            "seed": a.seed,
            "count": a.count,
            "gemm": g,
            "array": r.array,
            "lone_pe": r.lone_pe,
            "overhead": r.overhead,
            "clock_overhead": r.clock_overhead,
            "data": r.data,
            "provenance": r.array.provenance,
        }));
    }
    let (ar, pe) = (&r.array, &r.lone_pe);
    println!(
        "{}: {} GEMM(s) {}x{}x{} ({} MACs), {}, {} at {} GHz",
        ar.module, a.count, g.m, g.k, g.n, ar.macs, r.data, ar.tech, ar.freq_ghz
    );
    println!(
        "  {:<16} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>11} {:>6}",
        "pJ per MAC",
        "total",
        "dynamic",
        "clock",
        "leakage",
        "cycles",
        "util.",
        "area µm²",
        "flops"
    );
    for (name, e) in [
        (format!("array {}x{}", spec.rows, spec.cols), ar),
        ("lone PE (1x1)".to_string(), pe),
    ] {
        println!(
            "  {:<16} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>7.4} {:>11.1} {:>6}",
            name,
            e.pj_per_mac,
            e.dynamic_pj_per_mac,
            e.clock_pj_per_mac,
            e.leakage_pj_per_mac,
            e.cycles,
            e.utilization,
            e.area_um2,
            e.flip_flops
        );
    }
    println!(
        "  overhead of the array: {:.3}x the lone PE's pJ/MAC ({:.3}x its clock energy per MAC)",
        r.overhead, r.clock_overhead
    );
    println!(
        "  (the lone PE runs the same GEMMs as a 1x1 array of the same dataflow: the M·N dot \
         products of length K one after another; every output of both runs checked against \
         the model)"
    );
    println!("  provenance:");
    for p in &ar.provenance {
        println!("    - {p}");
    }
    println!(
        "  netlists: {}, {}",
        ar.netlist.display(),
        pe.netlist.display()
    );
    Ok(())
}
