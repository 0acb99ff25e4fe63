//! Command-line parsing and the subcommands. PEs are found through the registries of the
//! library crates; nothing here names a PE.

use clap::{Parser, Subcommand};
use pelab_sim::format::{Rounding, NAMED};
use pelab_sim::pe::{find, registry};
use pelab_sim::Result;
use serde_json::json;

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
    Report {
        /// Output directory (created; checked for writing before any work).
        #[arg(long, short, default_value = "out/report")]
        out: std::path::PathBuf,
        /// The quick run: a subset of configurations, fewer vectors, operations and samples.
        #[arg(long)]
        quick: bool,
        /// Seed of the vectors, the energy operands and the study samples.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the PEs, formats and policies pelab knows.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate one operation of a PE's reference model.
    ///
    /// Operands are hex codes (an optional 0x prefix is accepted); `pelab list` shows each PE's
    /// operand syntax. Example: `pelab eval lmul --format bf16 3FC0 3FC0`.
    Eval {
        /// PE id (see `pelab list`).
        pe: String,
        /// Number format (named, or custom eXmY where the PE allows it). Defaults to the PE's
        /// only format when it has one.
        #[arg(long, short)]
        format: Option<String>,
        /// Overflow / accumulation policy; defaults to the PE's first policy.
        #[arg(long, visible_alias = "policy")]
        overflow: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Operands, in the PE's syntax.
        #[arg(required = true)]
        operands: Vec<String>,
    },
    /// Write the Verilog of a PE configuration (or of every configuration with --all).
    ///
    /// One Verilog-2001 file per configuration, named after its module
    /// (`pelab_<pe>_<format>_<policy>[_p<N>]`), with a header stating the configuration,
    /// semantics, latency and ports. Files are written atomically.
    Emit {
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
    },
    /// Synthesize a PE configuration with Yosys and report its resources.
    ///
    /// Targets: `generic` (Yosys' generic gates via ABC, the gate set of the energy model),
    /// `ice40` (Lattice iCE40 LUT4s), `xilinx` (7-series LUT6s, CARRY4, DSP48E1).
    Synth {
        #[command(flatten)]
        rtl: RtlArgs,
        /// Synthesis target.
        #[arg(long, default_value = "generic")]
        target: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write golden vectors of a PE configuration (text file plus a `.mem` companion).
    ///
    /// The text file has `#` header lines (pe, format, policy, seed, count, generator...) and one
    /// case per line: uppercase hex fields, inputs then expected outputs. Without --exhaustive,
    /// a corner set (zeros, subnormal edges, min/max normal, Inf, NaN, ties, over/underflow)
    /// comes first, then seeded random cases.
    Vectors {
        #[command(flatten)]
        rtl: RtlArgs,
        #[command(flatten)]
        set: SetArgs,
        /// Output file (the packed companion gets the extension .mem).
        #[arg(long, short)]
        out: Option<std::path::PathBuf>,
    },
    /// Verify Verilog against golden vectors in real simulators.
    ///
    /// Emits the configuration's Verilog (or takes yours with --rtl), generates the vectors
    /// (or reads --vectors FILE), writes a self-checking testbench, runs each simulator and
    /// prints simulator x passed / failed / vectors per second. Exit status 1 on any failure.
    Verify {
        #[command(flatten)]
        rtl: RtlArgs,
        #[command(flatten)]
        opts: VerifyArgs,
    },
    /// Energy per operation at gate level, with the table estimate beside it.
    ///
    /// Synthesizes the configuration (Yosys generic gates, or the cells of --liberty FILE),
    /// replays a workload of operands drawn from --dist on pelab's gate simulator, counts every
    /// cell's output toggles, and prices them: E/op = Σ toggles × E_toggle / ops + flip-flops ×
    /// E_clock × cycles / ops + leakage × time / ops. Dot products and matrix products add the
    /// FP32 accumulator behind lmul/fpmul (the MACs accumulate themselves; bitmod runs its own
    /// group schedule). Every figure names its source; zero-delay simulation misses glitches.
    Energy {
        #[command(flatten)]
        rtl: RtlArgs,
        /// Technology table: generic-45nm (gate level, Nangate 45 nm figures) or horowitz-45nm
        /// (the L-Mul paper's per-operation table alone).
        #[arg(long, default_value = "generic-45nm")]
        tech: String,
        /// Price the gates with this Liberty library (plain or .gz): Yosys maps onto its cells
        /// and every figure comes from the file.
        #[arg(long)]
        liberty: Option<std::path::PathBuf>,
        /// Operand distribution: gaussian, uniform or loguniform.
        #[arg(long, default_value = "gaussian")]
        dist: String,
        /// Operations to simulate (default 65536, more for long dot products).
        #[arg(long)]
        ops: Option<u64>,
        /// Random seed of the operands.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// elementwise, dot:K, or matmul:MxKxN (simulated as its dot products, extrapolated).
        #[arg(long, default_value = "elementwise")]
        workload: String,
        /// Clock frequency in GHz (leakage time per cycle).
        #[arg(long, default_value_t = 1.0)]
        freq_ghz: f64,
        /// Wire capacitance per fan-out pin with --liberty, fF (an estimate: state yours).
        #[arg(long, default_value_t = 0.5)]
        wire_ff: f64,
        /// Print JSON instead of text.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV rows (one per stage and a total).
        #[arg(long)]
        csv: bool,
        /// Instead of a PE: price integer adders and multipliers (8/16/32-bit) and the FP16 and
        /// FP32 multipliers through the same flow, beside Horowitz's figures.
        #[arg(long, conflicts_with_all = ["pe", "liberty", "workload"])]
        anchors: bool,
    },
    /// Accuracy studies of the reference models against exact arithmetic, as tables.
    ///
    /// Values come from --dist (a distribution or a .npy file); each table lists its
    /// provenance (source, samples, seed, reference model, conversions). docs/accuracy.md
    /// defines every column.
    Accuracy {
        #[arg(
            value_name = "STUDY",
            help = format!("The study: {}", pelab_reports::accuracy::STUDIES.join(", "))
        )]
        study: String,
        /// Value source: gaussian, uniform, loguniform, student-t:NU or file:PATH.npy.
        #[arg(long, default_value = "gaussian")]
        dist: String,
        /// Values the study draws (default: the study's own, see docs/accuracy.md).
        #[arg(long)]
        samples: Option<usize>,
        /// Random seed of the values.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print a JSON array of the tables.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print the tables as CSV, each after a `# name` line.
        #[arg(long)]
        csv: bool,
        /// Also write one CSV file per table into this directory.
        #[arg(long, short)]
        out: Option<std::path::PathBuf>,
    },
    /// Benchmarks (ratios against a baseline measured in the same run).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

/// Selects one RTL configuration.
#[derive(clap::Args)]
struct RtlArgs {
    /// PE id (see `pelab list`).
    pe: Option<String>,
    /// Number format; defaults to the PE's only format when it has one.
    #[arg(long, short)]
    format: Option<String>,
    /// Overflow / accumulation policy; defaults to the first one the configuration offers.
    #[arg(long, visible_alias = "policy")]
    overflow: Option<String>,
    /// Register stages (PEs that offer pipelining).
    #[arg(long, default_value_t = 0)]
    pipeline: u32,
    /// Structure variant of PEs that have several (e.g. int16fma `core` or `mac`); defaults
    /// to the first.
    #[arg(long)]
    variant: Option<String>,
}

/// Which cases a vector set holds.
#[derive(clap::Args)]
struct SetArgs {
    /// Every case of the input space (e.g. all 2^16 pairs of an 8-bit format).
    #[arg(long, conflicts_with = "count")]
    exhaustive: bool,
    /// Number of cases: the corner set first, then seeded random cases.
    #[arg(long)]
    count: Option<u64>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only part k of N of the set (contiguous, jointly complete), e.g. 3/8.
    #[arg(long, default_value = "1/1")]
    shard: String,
}

impl SetArgs {
    fn set(&self, default_count: u64) -> pelab_testbench::CaseSet {
        if self.exhaustive {
            pelab_testbench::CaseSet::Exhaustive
        } else {
            pelab_testbench::CaseSet::Count(self.count.unwrap_or(default_count))
        }
    }
}

/// Options of `pelab verify`.
#[derive(clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    set: SetArgs,
    /// Every PE x format x policy x variant that has RTL and vectors (pipeline 0; exhaustive
    /// where the space has at most 2^16 cases, else --count cases, default 20000 operations
    /// or 1000 transactions of the cycle-by-cycle PEs).
    #[arg(long, conflicts_with_all = ["pe", "format", "overflow", "variant", "vectors", "rtl_files"])]
    all: bool,
    /// Read the vectors from this file instead of generating them.
    #[arg(long, conflicts_with_all = ["exhaustive", "count"])]
    vectors: Option<std::path::PathBuf>,
    /// Simulators: a comma-separated list of rusthdl (rust-hdl's in-process simulation of the
    /// block, a first check only), icarus, verilator, gates (pelab's bit-parallel simulation of
    /// the Yosys generic-gate netlist); or all; or none (with --formal).
    #[arg(long, default_value = "all")]
    sim: String,
    /// Also prove the emitted Verilog equivalent to its Yosys-synthesized gate netlist (ABC
    /// cec for combinational designs, dsec with flip-flops).
    #[arg(long)]
    formal: bool,
    /// Verify these Verilog files instead of pelab's emitted module (same port conventions).
    #[arg(long = "rtl", num_args = 1.., value_name = "FILE")]
    rtl_files: Vec<std::path::PathBuf>,
    /// Top module of --rtl (default: pelab's module name for the configuration).
    #[arg(long)]
    top: Option<String>,
    /// Time limit per simulator step (compile or run), seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Working directory for testbenches, vectors and logs.
    #[arg(long, default_value = "out/verify")]
    work: std::path::PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The gate engine against Verilator and Icarus on the same synthesized netlist and
    /// vectors, and the exhaustive gate-level check of lmul bf16 (2^32 pairs).
    Gates {
        /// Vectors for Verilator (and the engine).
        #[arg(long, default_value_t = 1 << 20)]
        rows: u64,
        /// Vectors for Icarus (slow on gate netlists).
        #[arg(long, default_value_t = 20_000)]
        icarus_rows: u64,
        /// Timed repetitions of the engine (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Run only the first 1/N of the 2^32 exhaustive pairs and extrapolate.
        #[arg(long, default_value_t = 1)]
        shards: u64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Reference kernels: lmul and fpmul slice kernels against a plain f32 multiply loop over
    /// the same bf16 values, and the int16fma reference against the CPU's own instructions.
    Ref {
        /// Number of operand pairs.
        #[arg(long, default_value_t = 16 << 20)]
        n: usize,
        /// Timed repetitions of each kernel (the median is reported).
        #[arg(long, default_value_t = 7)]
        reps: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs it.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Report {
            out,
            quick,
            seed,
            json,
        } => crate::report::run(&out, quick, seed, json),
        Command::List { json } => list(json),
        Command::Eval {
            pe,
            format,
            overflow,
            json,
            operands,
        } => eval(&pe, format.as_deref(), overflow.as_deref(), &operands, json),
        Command::Emit {
            rtl,
            all,
            out,
            json,
        } => emit(&rtl, all, &out, json),
        Command::Synth { rtl, target, json } => synth(&rtl, &target, json),
        Command::Vectors { rtl, set, out } => vectors(&rtl, &set, out.as_deref()),
        Command::Verify { rtl, opts } => verify(&rtl, &opts),
        Command::Energy {
            rtl,
            tech,
            liberty,
            dist,
            ops,
            seed,
            workload,
            freq_ghz,
            wire_ff,
            json,
            csv,
            anchors,
        } => {
            if anchors {
                return crate::energy::anchors(ops.unwrap_or(1 << 16), seed, json, csv);
            }
            let (pe, cfg) = rtl_config(&rtl)?;
            crate::energy::run(
                pe,
                &cfg,
                &crate::energy::EnergyOpts {
                    tech,
                    liberty,
                    dist,
                    ops,
                    seed,
                    workload,
                    freq_ghz,
                    wire_ff,
                    json,
                    csv,
                },
            )
        }
        Command::Accuracy {
            study,
            dist,
            samples,
            seed,
            json,
            csv,
            out,
        } => {
            use pelab_reports::accuracy as acc;
            let samples = match samples {
                Some(n) => n,
                None => acc::default_samples(&study)?,
            };
            let opts = acc::Opts {
                source: acc::Source::parse(&dist)?,
                samples,
                seed,
            };
            let tables = acc::study(&study, &opts)?;
            if let Some(dir) = &out {
                for t in &tables {
                    eprintln!("wrote {}", t.write_csv(dir)?.display());
                }
            }
            let style = match (json, csv) {
                (true, _) => acc::Style::Json,
                (_, true) => acc::Style::Csv,
                _ => acc::Style::Text,
            };
            print!("{}", acc::render(&tables, style));
            Ok(())
        }
        Command::Bench { which } => match which {
            BenchCommand::Ref { n, reps, json } => crate::bench::reference(n, reps, json),
            BenchCommand::Gates {
                rows,
                icarus_rows,
                reps,
                shards,
                json,
            } => crate::bench::gates(rows, icarus_rows, reps, shards.max(1), json),
        },
    }
}

fn list(json: bool) -> Result<()> {
    let pes = registry();
    if json {
        let v = json!({
            "pes": pes.iter().map(|p| json!({
                "id": p.id(),
                "summary": p.summary(),
                "formats": p.formats(),
                "format_note": p.format_note(),
                "policies": p.policies(),
                "default_policy": p.policies()[0],
                "operands": p.operand_syntax(),
            })).collect::<Vec<_>>(),
            "formats": NAMED.iter().map(|(n, d)| json!({"name": n, "description": d})).collect::<Vec<_>>(),
            "roundings": Rounding::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return Ok(());
    }
    println!("PEs:");
    for p in &pes {
        println!("  {:<9} {}", p.id(), p.summary());
        println!("            formats:  {}", p.formats().join(", "));
        if !p.format_note().is_empty() {
            println!("                      {}", p.format_note());
        }
        println!(
            "            policies: {} (default {})",
            p.policies().join(", "),
            p.policies()[0]
        );
        println!("            operands: {}", p.operand_syntax());
    }
    println!("\nFormats:");
    for (n, d) in NAMED {
        println!("  {n:<6} {d}");
    }
    println!(
        "  eXmY   custom IEEE-kind format, bias 2^(X-1)-1, X in 2..=11, Y in 1..=52, width <= 64"
    );
    Ok(())
}

fn eval(
    pe: &str,
    format: Option<&str>,
    policy: Option<&str>,
    operands: &[String],
    json: bool,
) -> Result<()> {
    let pe = find(pe)?;
    let formats = pe.formats();
    let format = match format {
        Some(f) => f.to_string(),
        None if formats.len() == 1 => formats[0].clone(),
        None => {
            return Err(pelab_sim::Error::new(format!(
                "{} needs --format; valid: {}",
                pe.id(),
                formats.join(", ")
            )))
        }
    };
    let r = pe.eval(&format, policy, operands)?;
    if json {
        let details: serde_json::Map<_, _> = r
            .details
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let v = json!({
            "pe": pe.id(),
            "format": format,
            "operands": operands,
            "hex": r.hex,
            "value": r.value,
            "details": details,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
    } else {
        println!("{} {}", r.hex, r.value);
        for (k, v) in &r.details {
            println!("  {k}: {v}");
        }
    }
    Ok(())
}

/// Resolves the RTL configuration the arguments name; errors list what is valid.
fn rtl_config(args: &RtlArgs) -> Result<(pelab_testbench::Pe, pelab_hdl::RtlConfig)> {
    let Some(id) = args.pe.as_deref() else {
        return Err(pelab_sim::Error::new(
            "name a PE (see `pelab list`), or use --all",
        ));
    };
    let joined = pelab_testbench::pe(id)?;
    let pe = joined.rtl;
    let all = pe.configs();
    let mut formats: Vec<&str> = all.iter().map(|c| c.format.as_str()).collect();
    formats.dedup();
    let format = match &args.format {
        Some(f) => f.clone(),
        None if formats.len() == 1 => formats[0].to_string(),
        None => {
            return Err(pelab_sim::Error::new(format!(
                "{id} needs --format; formats with RTL: {}",
                formats.join(", ")
            )))
        }
    };
    if !formats.contains(&format.as_str()) {
        // Let the format layer say why (unknown, or no RTL for it).
        pelab_hdl::format::rtl_format(&format)?;
    }
    let same = |c: &&pelab_hdl::RtlConfig| c.format == format;
    let policy = match &args.overflow {
        Some(p) => p.clone(),
        None => all
            .iter()
            .find(same)
            .map(|c| c.policy.clone())
            .unwrap_or_default(),
    };
    let variant = match &args.variant {
        Some(v) => v.clone(),
        None => all
            .iter()
            .find(same)
            .map(|c| c.variant.clone())
            .unwrap_or_default(),
    };
    let cfg = pelab_hdl::RtlConfig::new(&format, &policy, args.pipeline).with_variant(&variant);
    pelab_hdl::rtl::validate(pe, &cfg)?;
    Ok((joined, cfg))
}

fn emit(args: &RtlArgs, all: bool, out: &std::path::Path, json: bool) -> Result<()> {
    let mut jobs = Vec::new();
    if all {
        for pe in pelab_hdl::registry() {
            for cfg in pe.configs() {
                jobs.push((pe, cfg));
            }
        }
    } else {
        let (pe, cfg) = rtl_config(args)?;
        jobs.push((pe.rtl, cfg));
    }
    let mut written = Vec::new();
    for (pe, cfg) in jobs {
        let m = pe.verilog(&cfg)?;
        let path = pelab_hdl::emit::write_module(out, &m)?;
        written.push(json!({
            "pe": pe.id(), "config": cfg, "module": m.name, "latency": m.latency,
            "file": path.display().to_string(),
        }));
        if !json {
            println!("{}", path.display());
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "files": written })).unwrap()
        );
    } else if written.len() > 1 {
        eprintln!("wrote {} Verilog files to {}", written.len(), out.display());
    }
    Ok(())
}

fn synth(args: &RtlArgs, target: &str, json: bool) -> Result<()> {
    let flow = pelab_hdl::Flow::parse(target)?;
    let (pe, cfg) = rtl_config(args)?;
    let m = pe.rtl.verilog(&cfg)?;
    let r = pelab_hdl::synth::synthesize(&m.verilog, &m.name, flow)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"pe": pe.id(), "config": cfg, "report": r}))
                .unwrap()
        );
        return Ok(());
    }
    println!("{} ({} flow, {})", r.module, flow.name(), r.yosys);
    println!("  cells:        {}", r.cell_count);
    println!("  logic cells:  {}", r.logic_cells);
    if flow != pelab_hdl::Flow::Generic {
        println!("  LUTs:         {}", r.luts);
        println!("  carry cells:  {}", r.carry);
        println!("  DSPs:         {}", r.dsps);
    }
    println!("  flip-flops:   {}", r.ffs);
    println!(
        "  longest path: {} cells (combinational, port/flop to port/flop)",
        r.longest_path
    );
    println!("  by type:");
    for (k, v) in &r.cells {
        println!("    {k:<16} {v}");
    }
    println!("  netlist:      {}", r.netlist.display());
    Ok(())
}

fn vectors(args: &RtlArgs, set: &SetArgs, out: Option<&std::path::Path>) -> Result<()> {
    let (joined, cfg) = rtl_config(args)?;
    let pe = joined.vectors;
    let shard = pelab_testbench::Shard::parse(&set.shard)?;
    let v = pelab_testbench::vectors::generate(pe, &cfg, set.set(10_000), set.seed, shard)?;
    match out {
        Some(path) => {
            let mem = v.write(path)?;
            eprintln!(
                "wrote {} cases ({} rows) to {} and {}",
                v.cases,
                v.rows.len(),
                path.display(),
                mem.display()
            );
        }
        None => print!("{}", v.to_text()),
    }
    Ok(())
}

/// Parses `--sim`.
fn simulators(list: &str) -> Result<Vec<pelab_testbench::Simulator>> {
    use pelab_testbench::Simulator;
    let mut v = Vec::new();
    for s in list.split(',') {
        match s.trim() {
            "all" => v.extend([
                Simulator::RustHdl,
                Simulator::Icarus,
                Simulator::Verilator,
                Simulator::Gates,
            ]),
            "gates" => v.push(Simulator::Gates),
            "rusthdl" => v.push(Simulator::RustHdl),
            "none" => {}
            "icarus" => v.push(Simulator::Icarus),
            "verilator" => v.push(Simulator::Verilator),
            other => {
                return Err(pelab_sim::Error::new(format!(
                "unknown simulator '{other}'; valid: rusthdl, icarus, verilator, gates, all, none"
            )))
            }
        }
    }
    v.sort_by_key(|s| s.name());
    v.dedup();
    Ok(v)
}

fn verify(args: &RtlArgs, o: &VerifyArgs) -> Result<()> {
    let sims = simulators(&o.sim)?;
    let limit = std::time::Duration::from_secs(o.timeout);
    let mut jobs = Vec::new();
    if o.all {
        for joined in pelab_testbench::pes() {
            for cfg in joined.rtl.configs().into_iter().filter(|c| c.pipeline == 0) {
                jobs.push((joined, cfg));
            }
        }
    } else {
        let (joined, cfg) = rtl_config(args)?;
        jobs.push((joined, cfg));
    }
    let mut reports = Vec::new();
    for (joined, cfg) in jobs {
        let (rtl, pe) = (joined.rtl, joined.vectors);
        // The gate engine alone on an exhaustive set: streamed, no vector file, any size.
        let streamed = sims == [pelab_testbench::Simulator::Gates]
            && o.set.exhaustive
            && o.vectors.is_none()
            && o.rtl_files.is_empty()
            && !o.formal
            && pe.layout(&cfg)?.timing == (pelab_testbench::vectors::Timing::Stream { latency: 0 });
        if streamed {
            let shard = pelab_testbench::Shard::parse(&o.set.shard)?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} cases, {per_sec}, eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(format!("gates {}", rtl.module_name(&cfg)));
            let report = pelab_testbench::verify::verify_gates_exhaustive(
                joined,
                &cfg,
                shard,
                &o.work.join(rtl.module_name(&cfg)),
                &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )?;
            bar.finish_and_clear();
            if !o.json {
                print_report(pe, &report);
            }
            reports.push(report);
            continue;
        }
        let v = match &o.vectors {
            Some(path) => pelab_testbench::vectors::parse(path, pe, &cfg)?,
            None => {
                let shard = pelab_testbench::Shard::parse(&o.set.shard)?;
                // Without a simulator (--sim none --formal) no vectors are needed.
                let cases = if sims.is_empty() {
                    pelab_testbench::CaseSet::Count(0)
                } else if o.all && !o.set.exhaustive && o.set.count.is_none() {
                    pelab_testbench::vectors::DefaultSets::FULL.choose(pe, &cfg)?
                } else {
                    o.set.set(10_000)
                };
                pelab_testbench::vectors::generate(pe, &cfg, cases, o.set.seed, shard)?
            }
        };
        let dut = if o.rtl_files.is_empty() {
            pelab_testbench::verify::Dut::Emitted
        } else {
            pelab_testbench::verify::Dut::User {
                files: o.rtl_files.clone(),
                top: o.top.clone(),
            }
        };
        let dir = o.work.join(rtl.module_name(&cfg));
        let report = pelab_testbench::verify::verify(&v, &dut, &sims, o.formal, &dir, limit)?;
        if !o.json {
            print_report(pe, &report);
        }
        reports.push(report);
    }
    if o.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "reports": reports })).unwrap()
        );
    } else if reports.len() > 1 {
        println!("\nsummary: {} configurations", reports.len());
        println!(
            "  {:<36} {:<10} {:<9} {:>10} {:>8} {:>12}",
            "module", "simulator", "status", "passed", "failed", "vectors/s"
        );
        for r in &reports {
            for run in &r.runs {
                println!(
                    "  {:<36} {:<10} {:<9} {:>10} {:>8} {:>12.0}",
                    r.module,
                    run.sim,
                    format!("{:?}", run.status).to_lowercase(),
                    run.passed,
                    run.failed,
                    run.vectors_per_sec
                );
            }
        }
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.module.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(pelab_sim::Error::new(format!(
            "failed verification: {}",
            failed.join(", ")
        )))
    }
}

fn print_report(pe: &dyn pelab_testbench::PeVectors, r: &pelab_testbench::verify::Report) {
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
            format!("{:?}", run.status).to_lowercase(),
            run.passed,
            run.failed,
            run.vectors_per_sec,
            run.compile_secs
        );
    }
    let layout = pe.layout(&r.config).ok();
    for run in &r.runs {
        for m in &run.mismatches {
            let outs: Vec<String> = layout
                .as_ref()
                .map_or(vec![], |l| l.outputs().map(|f| f.name.clone()).collect());
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
        if matches!(
            run.status,
            pelab_testbench::Status::Crashed | pelab_testbench::Status::TimedOut
        ) {
            println!(
                "  {} {:?}; last output:\n{}",
                run.sim, run.status, run.log_tail
            );
        }
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
