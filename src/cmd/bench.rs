//! `pelab bench`: performance measured as ratios against a baseline timed in the same run.

use pelab_sim::format::{Format, Overflow};
use pelab_sim::fpmul::fpmul_slice;
use pelab_sim::lmul::lmul_slice;
use pelab_sim::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

/// Arguments of `pelab bench`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    which: Which,
}

/// The benchmarks.
#[derive(clap::Subcommand)]
pub enum Which {
    /// The gate engine against Verilator on the same synthesized netlists: first against a
    /// Verilator build of the netlist driven by a tight generated C++ loop (lmul bf16, fpmul
    /// bf16 and an 8x8 output-stationary array of lmul e4m3; equal checksums required), then
    /// against Verilator and Icarus running pelab's Verilog testbench, the exhaustive
    /// gate-level check of lmul bf16 (2^32 pairs), the unit-delay engine against the
    /// zero-delay engine and Icarus' unit-delay run, and the Liberty-delay engine against the
    /// zero-delay engine on the SKY130 mapping.
    Gates {
        /// Vectors for the testbench comparison (Verilator and the engine).
        #[arg(long, default_value_t = 1 << 20)]
        rows: u64,
        /// Vectors for Icarus (slow on gate netlists).
        #[arg(long, default_value_t = 20_000)]
        icarus_rows: u64,
        /// Timed repetitions of the engine and the harness (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Run only the first 1/N of the 2^32 exhaustive pairs and extrapolate.
        #[arg(long, default_value_t = 1)]
        shards: u64,
        /// Parts to run, comma-separated: lmul-bf16, fpmul-bf16, array (the Verilator harness
        /// baseline), testbench, exhaustive, unit-delay, liberty; or all.
        #[arg(long, default_value = "all")]
        only: String,
        /// Vectors of the harness comparison on the combinational netlists.
        #[arg(long, default_value_t = 1 << 22)]
        vectors: u64,
        /// Independent streams of the harness comparison on the array (each from the
        /// flip-flops' initial state).
        #[arg(long, default_value_t = 2048)]
        streams: u64,
        /// Clock cycles per stream of the harness comparison on the array.
        #[arg(long, default_value_t = 64)]
        cycles: u64,
        /// PE whose cell fills the array of the harness comparison.
        #[arg(long, default_value = "lmul")]
        array_pe: String,
        /// Operand format of the array's cell.
        #[arg(long, default_value = "e4m3")]
        array_format: String,
        /// Size RxC of the array (Verilator's build of the flattened 8x8 array takes 8 to
        /// 10 minutes on 2 cores; it is reused while the netlist is unchanged).
        #[arg(long, value_name = "RxC", default_value = "8x8")]
        array_size: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The cycle-accurate array model running whole GEMMs against a naive f32 triple loop, and
    /// the gate engine against Verilator on the gate netlist of an 8x8 array.
    Array {
        /// Timed repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Small shapes (a 1x1 array for the gate-level part): for tests.
        #[arg(long)]
        quick: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The accelerator models: the whole bitmod-hpca25 table (5 accelerators x 6 models x 2
    /// tasks; target < 1 s), and a sweep of 8 arrays x 6 models x 7 accelerators x {prefill,
    /// decode} (target < 10 s) against a plain one-thread loop of Accelerator::run over the same
    /// points.
    Accel {
        /// Timed repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
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

/// Runs the benchmark asked for.
pub fn run(args: Args) -> Result<()> {
    match args.which {
        Which::Ref { n, reps, json } => reference(n, reps, json),
        Which::Gates {
            rows,
            icarus_rows,
            reps,
            shards,
            only,
            vectors,
            streams,
            cycles,
            array_pe,
            array_format,
            array_size,
            json,
        } => gates(&GatesOpts {
            rows,
            icarus_rows,
            reps,
            shards: shards.max(1),
            parts: parse_parts(&only)?,
            vectors,
            streams,
            cycles,
            array: (array_pe, array_format, array_size),
            json,
        }),
        Which::Array { reps, quick, json } => array(reps, quick, json),
        Which::Accel { reps, json } => accel(reps, json),
    }
}

/// Median wall time in seconds of `reps` runs of `f` (after one warm-up run).
fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    median(t)
}

/// The median of timings (the upper one of an even count).
fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// One timed kernel, reported against the baseline.
struct Row {
    name: String,
    /// Operations per run (pairs, or int16fma lanes).
    ops: usize,
    threads: usize,
    secs: f64,
    baseline: f64,
}

/// `pelab bench ref`.
fn reference(n: usize, reps: usize, json_out: bool) -> Result<()> {
    let mut r = ChaCha8Rng::seed_from_u64(1);
    // Random bf16 codes with exponents around 1.0, as ML operands are.
    let gen = |r: &mut ChaCha8Rng| -> u16 {
        let e: u16 = r.gen_range(100..154);
        (r.gen::<u16>() & 0x807F) | (e << 7)
    };
    let a: Vec<u16> = (0..n).map(|_| gen(&mut r)).collect();
    let b: Vec<u16> = (0..n).map(|_| gen(&mut r)).collect();
    let mut out16 = vec![0u16; n];
    let mut out32 = vec![0f32; n];
    let bf = Format::BF16;
    let threads = rayon::current_num_threads();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();

    let f32_loop = |o: &mut [f32]| {
        for ((y, &x), &z) in o.iter_mut().zip(&a).zip(&b) {
            *y = f32::from_bits((x as u32) << 16) * f32::from_bits((z as u32) << 16);
        }
        black_box(&o);
    };
    let base = median_secs(reps, || f32_loop(&mut out32));
    let mut rows = Vec::new();
    for (name, kernel) in [("lmul bf16 saturate", 0), ("fpmul bf16 rne", 1)] {
        let run = |o: &mut [u16]| {
            if kernel == 0 {
                lmul_slice(&bf, Overflow::Saturate, &a, &b, o)
            } else {
                fpmul_slice(&bf, Overflow::Ieee, &a, &b, o)
            }
            black_box(&o);
        };
        let s1 = one.install(|| median_secs(reps, || run(&mut out16)));
        rows.push(Row {
            name: name.into(),
            ops: n,
            threads: 1,
            secs: s1,
            baseline: base,
        });
        if threads > 1 {
            let sn = median_secs(reps, || run(&mut out16));
            rows.push(Row {
                name: name.into(),
                ops: n,
                threads,
                secs: sn,
                baseline: base,
            });
        }
    }
    let (int_rows, notes) = int16fma_rows(n, reps);
    if json_out {
        let v = json!({
            "pairs": n,
            "reps": reps,
            "statistic": "median wall time",
            "baseline": {"name": "f32 multiply loop over the same bf16 values (1 thread)", "secs": base},
            "kernels": rows.iter().chain(&int_rows).map(|r| json!({
                "name": r.name, "ops": r.ops, "threads": r.threads, "secs": r.secs,
                "baseline_secs": r.baseline, "ratio": r.secs / r.baseline,
            })).collect::<Vec<_>>(),
            "target": "lmul and fpmul <= 2x the f32 loop",
            "notes": notes,
        });
        return super::print_json(&v);
    }
    println!("pelab bench ref: {n} random bf16 pairs, median of {reps} runs, {threads} threads available");
    println!("baseline: plain f32 multiply loop over the same values, 1 thread: {:.2} ms ({:.2} ns/pair)", base * 1e3, base * 1e9 / n as f64);
    println!(
        "{:<52} {:>7} {:>10} {:>10} {:>8}",
        "kernel", "threads", "ms", "ns/op", "ratio"
    );
    for r in rows.iter().chain(&int_rows) {
        println!(
            "{:<52} {:>7} {:>10.2} {:>10.3} {:>7.2}x",
            r.name,
            r.threads,
            r.secs * 1e3,
            r.secs * 1e9 / r.ops as f64,
            r.secs / r.baseline
        );
    }
    println!(
        "target: lmul and fpmul at most 2x the f32 loop (1-thread rows compare like with like)"
    );
    println!("int16fma rows: ns/op per lane; baseline is the CPU instruction loop the row names, 1 thread");
    for note in &notes {
        println!("NOTE: {note}");
    }
    Ok(())
}

/// The int16fma rows: the reference slice kernels against the CPU's own instructions on the
/// same lanes (AVX512-VNNI when the CPU has it; AVX2 VPMADDWD+VPADDD, which equals VPDPWSSD,
/// always on x86-64), with that loop as each row's baseline.
fn int16fma_rows(n: usize, reps: usize) -> (Vec<Row>, Vec<String>) {
    use pelab_sim::int16fma::{dpwssd_slice, hw, Mode};
    let mut r = ChaCha8Rng::seed_from_u64(2);
    let lanes = n / 2;
    let a: Vec<i16> = (0..2 * lanes).map(|_| r.gen()).collect();
    let b: Vec<i16> = (0..2 * lanes).map(|_| r.gen()).collect();
    let acc0: Vec<i32> = (0..lanes).map(|_| r.gen()).collect();
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let time = |f: &mut dyn FnMut(&mut [i32])| -> f64 {
        let mut acc = acc0.clone();
        median_secs(reps, || f(black_box(&mut acc)))
    };
    let vnni = hw::vnni_available();
    if !vnni {
        notes.push(
            "AVX512-VNNI not available on this CPU: the VPDPWSSD/VPDPWSSDS instruction loops \
             could not run; int16fma is timed against AVX2 VPMADDWD+VPADDD (same result as \
             VPDPWSSD) instead"
                .to_string(),
        );
    }
    for mode in Mode::ALL {
        let reference = time(&mut |acc| dpwssd_slice(mode, acc, &a, &b));
        let (base_name, base) = if vnni {
            let f = match mode {
                Mode::Wrap => hw::dpwssd_vnni,
                Mode::Saturate => hw::dpwssds_vnni,
            };
            (
                "AVX512-VNNI intrinsic loop",
                time(&mut |acc| f(acc, &a, &b).unwrap()),
            )
        } else if hw::avx2_available() {
            (
                "AVX2 VPMADDWD+VPADDD loop",
                time(&mut |acc| hw::dpwssd_avx2(acc, &a, &b).unwrap()),
            )
        } else {
            notes.push("no AVX2 either: int16fma has no hardware baseline here".into());
            continue;
        };
        rows.push(Row {
            name: format!("int16fma {} ref vs {base_name}", mode.policy_name()),
            ops: lanes,
            threads: 1,
            secs: reference,
            baseline: base,
        });
    }
    (rows, notes)
}

/// Peak resident memory of this process so far, MB (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The parts of `pelab bench gates`, in the order they run.
const GATES_PARTS: [&str; 8] = [
    "lmul-bf16",
    "fpmul-bf16",
    "array",
    "testbench",
    "exhaustive",
    "toggles",
    "unit-delay",
    "liberty",
];

/// Resets the process's peak resident memory (Linux `clear_refs` 5), so a later
/// [`peak_rss_mb`] measures one part alone; false when it could not.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// One PE's toggle-counting cost: name, cells, vectors, plain seconds, counted seconds.
type ToggleCost = (String, usize, u64, f64, f64);

/// Toggle counting against plain evaluation: `rows` vectors of the PE's default random set
/// through the compiled kernel, one thread, medians of `reps`, per PE.
fn toggle_cost(rows: u64, reps: usize) -> Result<Vec<ToggleCost>> {
    use pelab_testbench::{vectors, CaseSet, Shard};
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| pelab_sim::Error::new(e.to_string()))?;
    let mut out = Vec::new();
    for (pe, policy) in [("lmul", "saturate"), ("fpmul", "ieee")] {
        let joined = pelab_testbench::pe(pe)?;
        let cfg = pelab_hdl::RtlConfig::new("bf16", policy, 0);
        let m = joined.rtl.verilog(&cfg)?;
        let (net, _) = pelab_testbench::gates::synthesized_netlist(&m.verilog, &m.name, None)?;
        pelab_testbench::kernel::attach(&net)?;
        let layout = joined.vectors.layout(&cfg)?;
        let v = vectors::generate(joined.vectors, &cfg, CaseSet::Count(rows), 1, Shard::ALL)?;
        eprintln!(
            "bench gates: toggle counting on {} ({rows} vectors)...",
            m.name
        );
        let time = |count: bool| {
            one.install(|| {
                median_secs(reps, || {
                    pelab_testbench::gates::run_gates(&net, &layout, &v.rows, false, count)
                        .expect("a gates run");
                })
            })
        };
        let plain = time(false);
        let counted = time(true);
        out.push((format!("{pe} bf16"), net.cells.len(), rows, plain, counted));
    }
    Ok(out)
}

/// The parts named by `--only` (`all`, or a comma-separated list of [`GATES_PARTS`]).
fn parse_parts(list: &str) -> Result<Vec<&'static str>> {
    let mut parts = Vec::new();
    for w in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if w == "all" {
            return Ok(GATES_PARTS.to_vec());
        }
        match GATES_PARTS.iter().find(|p| **p == w) {
            Some(p) if !parts.contains(p) => parts.push(*p),
            Some(_) => {}
            None => {
                return Err(pelab_sim::Error::new(format!(
                    "--only: unknown part '{w}'; valid: all, {}",
                    GATES_PARTS.join(", ")
                )))
            }
        }
    }
    if parts.is_empty() {
        return Err(pelab_sim::Error::new(format!(
            "--only: no part named; valid: all, {}",
            GATES_PARTS.join(", ")
        )));
    }
    Ok(parts)
}

/// Options of `pelab bench gates`.
struct GatesOpts {
    rows: u64,
    icarus_rows: u64,
    reps: usize,
    shards: u64,
    parts: Vec<&'static str>,
    vectors: u64,
    streams: u64,
    cycles: u64,
    /// PE, format and size of the array.
    array: (String, String, String),
    json: bool,
}

/// The machine the figures come from, and its peak cell-evaluation rate.
struct Cpu {
    name: String,
    cores: usize,
    mhz: f64,
    /// Where the clock came from.
    mhz_source: &'static str,
    /// The widest vector unit the engine's build can use, and its 1-bit lanes.
    unit: &'static str,
    lanes: u32,
}

impl Cpu {
    /// Cell evaluations per second at `cores` cores: cores x clock x lanes.
    fn peak(&self, cores: usize) -> f64 {
        cores as f64 * self.mhz * 1e6 * self.lanes as f64
    }
}

/// The CPU from /proc/cpuinfo (first CPU's `model name` and `cpu MHz`; `lscpu`'s max MHz
/// when cpuinfo has no clock), the core count, and the vector unit.
fn cpu() -> Cpu {
    use pelab_testbench::kernel::{cpuinfo_field as field, vector_unit};
    let name = field("model name").unwrap_or_else(|| "unknown CPU".into());
    let (mhz, mhz_source) = match field("cpu MHz").and_then(|v| v.parse::<f64>().ok()) {
        Some(m) if m > 0.0 => (m, "/proc/cpuinfo cpu MHz of the first CPU"),
        _ => {
            let lscpu = std::process::Command::new("lscpu")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
                .unwrap_or_default();
            let m = lscpu
                .lines()
                .find(|l| l.starts_with("CPU max MHz"))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            (m, "lscpu CPU max MHz")
        }
    };
    let (unit, lanes) = vector_unit();
    Cpu {
        name,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        mhz,
        mhz_source,
        unit,
        lanes,
    }
}

/// The 1-minute load average (`/proc/loadavg`): other work competing for the cores.
fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One netlist of the harness comparison: the engine against the Verilator harness.
struct HarnessRow {
    name: String,
    module: String,
    netlist: std::path::PathBuf,
    cells: usize,
    flops: usize,
    workload: pelab_testbench::harness::Workload,
    clocked: bool,
    checksum: u64,
    harness: pelab_testbench::harness::Harness,
    /// Harness, one process: median loop time.
    h1: f64,
    /// Harness, `procs` processes: median of the longest loop, and of the wall time.
    h2: f64,
    h2_wall: f64,
    procs: usize,
    /// Engine (compiled kernel): one thread, and every thread of the pool (`threads`), medians.
    e1: f64,
    en: f64,
    threads: usize,
    /// The interpreter (the engine before its kernels), one thread, median.
    i1: f64,
    /// Compiling (or loading from the cache) and loading the kernel, s.
    kernel_secs: f64,
    /// What the kernel is (compiler, flags, vector unit).
    kernel: String,
}

impl HarnessRow {
    fn rate(&self, secs: f64) -> f64 {
        self.workload.vectors() as f64 / secs
    }

    /// Cell evaluations per second at `secs`.
    fn cell_rate(&self, secs: f64) -> f64 {
        self.cells as f64 * self.rate(secs)
    }

    /// Every figure of the row, for `--json`; `peak1` and `peak` are the limits of one core
    /// and of every core.
    fn json(&self, peak1: f64, peak: f64) -> serde_json::Value {
        let h = self;
        let fields: Vec<(&str, serde_json::Value)> = vec![
            ("name", json!(h.name)),
            ("module", json!(h.module)),
            ("netlist", json!(h.netlist)),
            ("cells", json!(h.cells)),
            ("flip_flops", json!(h.flops)),
            ("clocked", json!(h.clocked)),
            ("streams", json!(h.workload.streams)),
            ("cycles", json!(h.workload.cycles)),
            ("vectors", json!(h.workload.vectors())),
            ("seed", json!(h.workload.seed)),
            ("checksum", json!(format!("{:#018x}", h.checksum))),
            ("checksums_equal", json!(true)),
            ("verilator_command", json!(h.harness.command)),
            ("compile_secs", json!(h.harness.compile_secs)),
            ("compile_cached", json!(h.harness.cached)),
            ("harness_1p_secs", json!(h.h1)),
            ("harness_1p_vectors_per_sec", json!(h.rate(h.h1))),
            ("harness_processes", json!(h.procs)),
            ("harness_np_secs", json!(h.h2)),
            ("harness_np_wall_secs", json!(h.h2_wall)),
            ("harness_np_vectors_per_sec", json!(h.rate(h.h2))),
            ("engine", json!("compiled kernel")),
            ("kernel", json!(h.kernel)),
            ("kernel_build_secs", json!(h.kernel_secs)),
            ("interpreter_1t_secs", json!(h.i1)),
            ("interpreter_1t_vectors_per_sec", json!(h.rate(h.i1))),
            ("ratio_interpreter_1t_harness_1p", json!(h.h1 / h.i1)),
            ("engine_1t_secs", json!(h.e1)),
            ("engine_1t_vectors_per_sec", json!(h.rate(h.e1))),
            ("engine_threads", json!(h.threads)),
            ("engine_nt_secs", json!(h.en)),
            ("engine_nt_vectors_per_sec", json!(h.rate(h.en))),
            ("ratio_engine_1t_harness_1p", json!(h.h1 / h.e1)),
            ("ratio_engine_nt_harness_1p", json!(h.h1 / h.en)),
            ("ratio_engine_nt_harness_np", json!(h.h2 / h.en)),
            ("target_engine_1t_harness_1p", json!(10)),
            ("target_engine_nt_harness_1p", json!(20)),
            ("cell_evals_per_sec_1t", json!(h.cell_rate(h.e1))),
            ("cell_evals_per_sec_nt", json!(h.cell_rate(h.en))),
            ("limit_pct_1t", json!(100.0 * h.cell_rate(h.e1) / peak1)),
            ("limit_pct_nt", json!(100.0 * h.cell_rate(h.en) / peak)),
        ];
        serde_json::Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn workload_text(&self) -> String {
        if self.clocked {
            format!(
                "{} x {} cycles",
                self.workload.streams, self.workload.cycles
            )
        } else {
            format!("{} vectors", self.workload.cycles)
        }
    }
}

/// Builds the Verilator harness of `net` and times it (1 and `procs` processes) against the
/// engine (1 thread and the whole pool) on `w`, medians of `reps`; every run's checksum must
/// equal the engine's.
#[allow(clippy::too_many_arguments)]
fn harness_row(
    name: &str,
    module: &str,
    net: &pelab_sim::netlist::Netlist,
    netlist_v: &std::path::Path,
    w: pelab_testbench::harness::Workload,
    reps: usize,
    procs: usize,
    dir: &std::path::Path,
) -> Result<HarnessRow> {
    use pelab_testbench::harness::{engine_checksum, verilator_harness};
    let err = pelab_sim::Error::new;
    let spin = indicatif::ProgressBar::new_spinner();
    spin.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .expect("a valid template"),
    );
    spin.enable_steady_tick(std::time::Duration::from_millis(120));
    spin.set_message(format!(
        "bench gates: building the Verilator harness of {module} ({} cells)",
        net.cells.len()
    ));
    let harness = verilator_harness(netlist_v, module, net, &dir.join(module));
    spin.finish_and_clear();
    let harness = harness?;
    eprintln!(
        "bench gates: {name}: harness {} in {:.1} s; engine and harness on {} vectors...",
        if harness.cached {
            "reused, built"
        } else {
            "built"
        },
        harness.compile_secs,
        w.vectors()
    );
    let one_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let reps = reps.max(1);
    // The interpreter (the reference), after one warm-up run whose checksum every other run
    // must give; then the compiled kernel.
    let mut interp = net.clone();
    interp.kernel = Default::default();
    let reference = engine_checksum(&interp, &w, None)?;
    let compiled = interp.clone();
    let t = Instant::now();
    pelab_testbench::kernel::attach(&compiled)?;
    let kernel_secs = t.elapsed().as_secs_f64();
    let kernel = compiled
        .kernel
        .get()
        .map_or(String::new(), |k| k.0.describe().to_string());
    let net = &compiled;
    let mismatch = |what: &str, got: u64| {
        err(format!(
            "{name} ({module}, {}): checksum mismatch: the engine gives {:#018x}, {what} \
             {got:#018x}",
            netlist_v.display(),
            reference.checksum
        ))
    };
    let time_engine = |pool: Option<&rayon::ThreadPool>,
                       net: &pelab_sim::netlist::Netlist|
     -> Result<(f64, usize)> {
        let mut t = Vec::new();
        let mut threads = 0;
        for _ in 0..reps {
            let r = match pool {
                Some(p) => p.install(|| engine_checksum(net, &w, None))?,
                None => engine_checksum(net, &w, None)?,
            };
            if r.checksum != reference.checksum {
                return Err(mismatch("the engine on another run", r.checksum));
            }
            threads = r.threads;
            t.push(r.secs);
        }
        Ok((median(t), threads))
    };
    let (i1, _) = time_engine(Some(&one_pool), &interp)?;
    let (e1, _) = time_engine(Some(&one_pool), net)?;
    let (en, threads) = time_engine(None, net)?;
    let run = |p: usize| -> Result<(f64, f64)> {
        let (mut t, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let r = harness.run_parallel(&w, p)?;
            if r.checksum != reference.checksum {
                return Err(mismatch(
                    &format!("the Verilator harness ({p} processes)"),
                    r.checksum,
                ));
            }
            t.push(r.secs);
            wall.push(r.wall_secs);
        }
        Ok((median(t), median(wall)))
    };
    let (h1, _) = run(1)?;
    let (h2, h2_wall) = run(procs)?;
    Ok(HarnessRow {
        name: name.into(),
        module: module.into(),
        netlist: netlist_v.to_path_buf(),
        cells: net.cells.len(),
        flops: net.flops.len(),
        workload: w,
        clocked: harness.clocked,
        checksum: reference.checksum,
        harness,
        h1,
        h2,
        h2_wall,
        procs,
        e1,
        en,
        threads,
        i1,
        kernel_secs,
        kernel,
    })
}

/// Formats a rate with an SI suffix.
fn si(x: f64) -> String {
    let (v, s) = if x >= 1e12 {
        (x / 1e12, "T")
    } else if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    format!("{v:.3}{s}")
}

/// `pelab bench gates`: pelab's gate engine against Verilator on the same synthesized
/// netlists. First the fair baseline: each netlist compiled by Verilator with a tight C++
/// harness ([`pelab_testbench::harness`]), same stimulus, equal checksums; then Verilator and
/// Icarus running pelab's Verilog testbench on lmul bf16 (Yosys `write_verilog -noattr` of the
/// generic-gate netlist) on the same vectors, the exhaustive check of lmul bf16 (all 2^32
/// pairs; `shards` > 1 runs only the first 1/shards of them and extrapolates), the unit-delay
/// engine's speed and the Liberty-delay engine's.
fn gates(o: &GatesOpts) -> Result<()> {
    use pelab_testbench::harness::Workload;
    use pelab_testbench::{run, vectors, CaseSet, Shard, Simulator};
    let (rows, icarus_rows, reps, shards) = (o.rows, o.icarus_rows, o.reps, o.shards);
    let has = |p: &str| o.parts.contains(&p);
    let io = |e: std::io::Error| pelab_sim::Error::new(e.to_string());
    let machine = cpu();
    let load_start = loadavg();
    let threads = rayon::current_num_threads();
    let procs = threads.max(2);
    let joined = pelab_testbench::pe("lmul")?;
    let pe = joined.vectors;
    let cfg = pelab_hdl::RtlConfig::new("bf16", "saturate", 0);
    let m = joined.rtl.verilog(&cfg)?;
    let (net, json_path) = pelab_testbench::gates::synthesized_netlist(&m.verilog, &m.name, None)?;
    let netlist_v = json_path.with_file_name("netlist.v");
    let layout = pe.layout(&cfg)?;
    let dir = std::path::PathBuf::from("out/bench/gates");
    std::fs::create_dir_all(&dir).map_err(io)?;
    let dir = dir
        .canonicalize()
        .map_err(|e| pelab_sim::Error::new(format!("{}: {e}", dir.display())))?;

    // The Verilator harness baseline.
    let mut hrows = Vec::new();
    let seed = 1;
    let hdir = dir.join("harness");
    if has("lmul-bf16") {
        hrows.push(harness_row(
            "lmul bf16",
            &m.name,
            &net,
            &netlist_v,
            Workload::combinational(o.vectors, seed),
            reps,
            procs,
            &hdir,
        )?);
    }
    if has("fpmul-bf16") {
        let fp = pelab_testbench::pe("fpmul")?;
        let fcfg = pelab_hdl::RtlConfig::new("bf16", "ieee", 0);
        let fm = fp.rtl.verilog(&fcfg)?;
        eprintln!("bench gates: synthesizing {} to generic gates...", fm.name);
        let (fnet, fjson) =
            pelab_testbench::gates::synthesized_netlist(&fm.verilog, &fm.name, None)?;
        hrows.push(harness_row(
            "fpmul bf16",
            &fm.name,
            &fnet,
            &fjson.with_file_name("netlist.v"),
            Workload::combinational(o.vectors, seed),
            reps,
            procs,
            &hdir,
        )?);
    }
    if has("array") {
        use pelab_hdl::array::{cell::cell_or_default, parse_size, ArraySpec, Dataflow};
        let (pe_name, format, size) = &o.array;
        let (r, c) = parse_size(size)?;
        let spec = ArraySpec::new(cell_or_default(pe_name, format, None)?, Dataflow::Os, r, c)?;
        let am = spec.verilog()?;
        eprintln!(
            "bench gates: synthesizing {} to generic gates (hierarchical)...",
            am.name
        );
        let (anet, ajson) =
            pelab_testbench::gates::synthesized_netlist_hierarchical(&am.verilog, &am.name)?;
        hrows.push(harness_row(
            &format!("array {pe_name} {format} os {r}x{c}"),
            &am.name,
            &anet,
            &ajson.with_file_name("netlist.v"),
            Workload::clocked(o.streams, o.cycles, seed),
            reps,
            procs,
            &hdir,
        )?);
    }

    // Verilator and Icarus running pelab's Verilog testbench on lmul bf16.
    let limit = std::time::Duration::from_secs(3600);
    let mut sims = Vec::new();
    if has("testbench") {
        for (sim, n) in [
            (Simulator::Verilator, rows),
            (Simulator::Icarus, icarus_rows),
        ] {
            eprintln!(
                "bench gates: {} running pelab's Verilog testbench on the gate netlist, {n} vectors...",
                sim.name()
            );
            let v = vectors::generate(pe, &cfg, CaseSet::Count(n), 1, Shard::ALL)?;
            let d = dir.join(sim.name());
            std::fs::create_dir_all(&d).map_err(io)?;
            std::fs::write(d.join("vectors.mem"), v.to_mem()).map_err(io)?;
            let tb = d.join("pelab_tb.v");
            std::fs::write(
                &tb,
                pelab_testbench::tb::testbench(&m.name, &layout, n, "vectors.mem"),
            )
            .map_err(io)?;
            let r = run::simulate(
                sim,
                &d,
                &tb,
                &[netlist_v.canonicalize().unwrap_or(netlist_v.clone())],
                n,
                limit,
            )?;
            if r.status != pelab_testbench::Status::Passed {
                return Err(pelab_sim::Error::new(format!(
                    "{} did not pass on the gate netlist: {:?}\n{}",
                    sim.name(),
                    r.status,
                    r.log_tail
                )));
            }
            // The engine on the same vectors: all threads, and one thread.
            let all = median_secs(reps, || {
                let (r, _) =
                    pelab_testbench::gates::run_gates(&net, &layout, &v.rows, true, false).unwrap();
                assert_eq!(r.unwrap().failed, 0);
            });
            let one_pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|e| pelab_sim::Error::new(e.to_string()))?;
            let one = one_pool.install(|| {
                median_secs(reps, || {
                    let (r, _) =
                        pelab_testbench::gates::run_gates(&net, &layout, &v.rows, true, false)
                            .unwrap();
                    assert_eq!(r.unwrap().failed, 0);
                })
            });
            sims.push((sim, n, r.run_secs, r.compile_secs, all, one));
        }
    }
    let unit = if has("unit-delay") {
        Some(unit_delay_speed(
            &net,
            pe,
            &cfg,
            &layout,
            (rows, icarus_rows),
            reps,
            &dir,
        )?)
    } else {
        None
    };
    let lib_speed = if has("liberty") {
        Some(liberty_delay_speed(&m, pe, &cfg, &layout, rows, reps)?)
    } else {
        None
    };
    // Exhaustive lmul bf16.
    let total = 1u64 << 32;
    let exhaustive = if has("exhaustive") {
        let shard = Shard { k: 1, n: shards };
        eprintln!(
            "bench gates: lmul bf16 exhaustive, {} of 2^32 pairs...",
            shard.range(total).end
        );
        let rss_alone = reset_peak_rss();
        let t = Instant::now();
        let report = pelab_testbench::verify::verify_gates_exhaustive(
            joined,
            &cfg,
            shard,
            &dir.join("exhaustive"),
            &|_, _| {},
        )?;
        let secs = t.elapsed().as_secs_f64();
        let run = &report.runs[0];
        let checked = run.passed + run.failed;
        Some((
            checked,
            run.failed,
            secs,
            secs * total as f64 / checked as f64,
            peak_rss_mb(),
            rss_alone,
        ))
    } else {
        None
    };
    let toggles = if has("toggles") {
        toggle_cost(rows, reps)?
    } else {
        Vec::new()
    };
    let load_end = loadavg();
    let peak1 = machine.peak(1);
    let peak = machine.peak(machine.cores);
    let pct = |x: f64, of: f64| 100.0 * x / of;
    if o.json {
        let v = json!({
            "module": m.name,
            "netlist": netlist_v,
            "gates": net.program.len(),
            "threads": threads,
            "reps": reps,
            "statistic": "median",
            "load_average_1min": {"start": load_start, "end": load_end},
            "cpu": {
                "name": machine.name, "cores": machine.cores, "mhz": machine.mhz,
                "mhz_source": machine.mhz_source, "vector_unit": machine.unit,
                "lanes": machine.lanes,
                "peak_cell_evals_per_sec_1core": peak1,
                "peak_cell_evals_per_sec": peak,
            },
            "harness": hrows.iter().map(|h| h.json(peak1, peak)).collect::<Vec<_>>(),
            "testbench_baseline": "Verilator running pelab's Verilog testbench",
            "simulators": sims.iter().map(|(s, n, secs, compile, all, one)| json!({
                "simulator": s.name(), "vectors": n, "run_secs": secs, "compile_secs": compile,
                "vectors_per_sec": *n as f64 / secs,
                "engine_secs": all, "engine_vectors_per_sec": *n as f64 / all,
                "engine_1thread_secs": one,
                "ratio": secs / all, "ratio_1thread": secs / one,
            })).collect::<Vec<_>>(),
            "exhaustive": exhaustive.map(|(checked, failed, secs, full, rss, alone)| json!({
                "cases": checked, "failed": failed, "secs": secs,
                "secs_all_2_32": full, "peak_rss_mb": rss, "peak_rss_of_part_alone": alone,
            })),
            "toggles": toggles.iter().map(|(name, cells, rows, plain, counted)| json!({
                "pe": name, "cells": cells, "vectors": rows, "engine": "compiled kernel",
                "threads": 1, "plain_secs": plain, "counted_secs": counted,
                "ratio": counted / plain, "target": 2.0,
            })).collect::<Vec<_>>(),
            "unit_delay": unit.as_ref().map(|unit| json!({
                "vectors": unit.rows, "zero_secs_1thread": unit.zero_secs,
                "unit_secs_1thread": unit.unit_secs, "slowdown": unit.unit_secs / unit.zero_secs,
                "glitch_factor": unit.glitch_factor,
                "icarus_vectors": unit.icarus_rows, "icarus_run_secs": unit.icarus_secs,
                "icarus_compile_secs": unit.icarus_compile_secs,
                "engine_secs_1thread": unit.engine_secs,
                "ratio_icarus_1thread": unit.icarus_secs / unit.engine_secs,
            })),
            "liberty_delay": lib_speed.as_ref().map(|lib_speed| json!({
                "library": lib_speed.library, "cells": lib_speed.cells,
                "vectors": lib_speed.rows, "resolution_ps": 1,
                "zero_secs_1thread": lib_speed.zero_secs,
                "liberty_secs_1thread": lib_speed.liberty_secs,
                "slowdown": lib_speed.liberty_secs / lib_speed.zero_secs,
                "glitch_factor": lib_speed.glitch_factor,
                "longest_path_ps": lib_speed.bound_ps,
            })),
        });
        return super::print_json(&v);
    }
    println!(
        "pelab bench gates on {}: {} cores at {:.0} MHz ({}), {} ({} one-bit lanes per \
         instruction); {} threads; medians of {reps}; load average {} at the start, {} at the end",
        machine.name,
        machine.cores,
        machine.mhz,
        machine.mhz_source,
        machine.unit,
        machine.lanes,
        threads,
        load_start.map_or("unknown".into(), |l| format!("{l:.2}")),
        load_end.map_or("unknown".into(), |l| format!("{l:.2}")),
    );
    if !hrows.is_empty() {
        let np = format!("{threads}T");
        let pp = format!("{procs}P");
        println!(
            "Verilator harness baseline: each Yosys generic-gate netlist built by Verilator \
             (--cc --exe --build -O3 --x-assign 0 --x-initial 0, C++ -O3 -march=native) and \
             driven by a generated C++ loop; the same stimulus on both sides, precomputed; \
             set/eval/checksum timed; every checksum equal to the engine's"
        );
        println!(
            "  {:<24} {:>8} {:>20} {:>9} {:>11} {:>11} {:>9} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8}",
            "netlist",
            "cells",
            "workload",
            "build s",
            "harness 1P",
            format!("harness {pp}"),
            "kernel s",
            "interp 1T",
            "engine 1T",
            format!("engine {np}"),
            "1T/1P",
            format!("{np}/1P"),
            format!("{np}/{pp}"),
        );
        for h in &hrows {
            let mark = |r: f64, target: f64| {
                if r >= target {
                    format!("{r:.1}x")
                } else {
                    format!("{r:.1}x MISS")
                }
            };
            println!(
                "  {:<24} {:>8} {:>20} {:>9.1} {:>9}/s {:>9}/s {:>9.1} {:>9}/s {:>9}/s {:>9}/s {:>8} {:>8} {:>7.1}x",
                h.name,
                h.cells,
                h.workload_text(),
                h.harness.compile_secs,
                si(h.rate(h.h1)),
                si(h.rate(h.h2)),
                h.kernel_secs,
                si(h.rate(h.i1)),
                si(h.rate(h.e1)),
                si(h.rate(h.en)),
                mark(h.h1 / h.e1, 10.0),
                mark(h.h1 / h.en, 20.0),
                h.h2 / h.en
            );
        }
        if let Some(h) = hrows.first() {
            println!(
                "  engine = the compiled kernel ({}); interp = the interpreter it replaces \
                 (the reference; every checksum equal); kernel s = compiling or loading it",
                h.kernel
            );
        }
        println!(
            "  (vectors or cycles per second; targets: engine 1T / harness 1P >= 10x, engine \
             {np} / harness 1P >= 20x; {np}/{pp} is the equal-resources ratio; build s is \
             Verilator's build{})",
            if hrows.iter().any(|h| h.harness.cached) {
                ", reused from an identical earlier build"
            } else {
                ""
            }
        );
        println!(
            "  distance to the limit: cell evaluations per second (cells x vectors/s) against \
             cores x clock x lanes ({} per core, {} on {} cores)",
            si(peak1),
            si(peak),
            machine.cores
        );
        for h in &hrows {
            println!(
                "    {:<24} 1T {:>9}/s = {:>5.2}% of one core   {np} {:>9}/s = {:>5.2}% of {} cores",
                h.name,
                si(h.cell_rate(h.e1)),
                pct(h.cell_rate(h.e1), peak1),
                si(h.cell_rate(h.en)),
                pct(h.cell_rate(h.en), peak),
                machine.cores
            );
        }
    }
    if !sims.is_empty() {
        println!(
            "Verilator running pelab's Verilog testbench (and Icarus), on {} as Yosys generic gates ({} cells):",
            m.name,
            net.cells.len()
        );
        println!(
            "  {:<10} {:>9} {:>12} {:>14} {:>16} {:>8} {:>14}",
            "simulator",
            "vectors",
            "sim vec/s",
            "engine vec/s",
            "engine 1T vec/s",
            "ratio",
            "ratio 1 thread"
        );
        for (s, n, secs, _, all, one) in &sims {
            println!(
                "  {:<10} {:>9} {:>12.0} {:>14.0} {:>16.0} {:>7.0}x {:>13.0}x",
                s.name(),
                n,
                *n as f64 / secs,
                *n as f64 / all,
                *n as f64 / one,
                secs / all,
                secs / one
            );
        }
        println!("  (simulator run time only, compile excluded; the engine compares every output like the testbench)");
        println!("  targets: >= 1000x Icarus");
    }
    if !toggles.is_empty() {
        println!(
            "toggle counting (energy) against plain evaluation, compiled kernel, 1 thread, the \
             same vectors through the same run_gates path (target <= 2x):"
        );
        for (name, cells, rows, plain, counted) in &toggles {
            println!(
                "  {name:<12} {cells:>5} cells {rows:>9} vectors: plain {:>9}/s, toggles \
                 counted {:>9}/s, {:.2}x the time{}",
                si(*rows as f64 / plain),
                si(*rows as f64 / counted),
                counted / plain,
                if counted / plain <= 2.0 { "" } else { " MISS" }
            );
        }
    }
    if let Some((checked, failed, secs, full_secs, rss, rss_alone)) = exhaustive {
        println!(
            "lmul bf16 exhaustive on gates: {} pairs in {:.1} s{} ({:.0} M pairs/s), {} failed, peak memory {:.0} MB",
            checked,
            secs,
            if shards > 1 {
                format!(", all 2^32 extrapolated {full_secs:.0} s")
            } else {
                String::new()
            },
            checked as f64 / secs / 1e6,
            failed,
            rss
        );
        println!(
            "  peak memory {}; targets: 2^32 pairs <= 3 s on 2 cores with AVX-512, <= 10 s \
             with AVX2, <= 256 MB{}",
            if rss_alone {
                "of this part alone (peak reset before it)"
            } else {
                "of the whole process (the peak could not be reset)"
            },
            if full_secs > if machine.lanes >= 512 { 3.0 } else { 10.0 } {
                ": time MISS"
            } else {
                ""
            }
        );
    }
    if let Some(unit) = &unit {
        println!(
            "unit delay (glitch factor {:.2}; 1 thread, toggles counted, outputs checked): {:.0} vec/s \
             vs {:.0} vec/s at zero delay on {} vectors, {:.1}x the time (target <= 10x)",
            unit.glitch_factor,
            unit.rows as f64 / unit.unit_secs,
            unit.rows as f64 / unit.zero_secs,
            unit.rows,
            unit.unit_secs / unit.zero_secs
        );
        println!(
            "Icarus on the unit-delay netlist (assign #1 per cell, {} vectors, run only): {:.0} vec/s; \
             the unit-delay engine is {:.0}x faster (target >= 100x)",
            unit.icarus_rows,
            unit.icarus_rows as f64 / unit.icarus_secs,
            unit.icarus_secs / unit.engine_secs
        );
    }
    if let Some(lib_speed) = &lib_speed {
        println!(
            "Liberty delays ({}, {} cells, 1 ps quantum, longest path {} ps, glitch factor {:.2}; \
             1 thread, toggles counted, outputs checked): {:.0} vec/s vs {:.0} vec/s at zero delay \
             on the same mapped netlist and {} vectors, {:.1}x the time",
            lib_speed.library,
            lib_speed.cells,
            lib_speed.bound_ps,
            lib_speed.glitch_factor,
            lib_speed.rows as f64 / lib_speed.liberty_secs,
            lib_speed.rows as f64 / lib_speed.zero_secs,
            lib_speed.rows,
            lib_speed.liberty_secs / lib_speed.zero_secs
        );
    }
    Ok(())
}

/// The Liberty-delay engine's speed against the zero-delay engine, same mapped netlist.
struct LibertySpeed {
    library: String,
    cells: usize,
    rows: u64,
    zero_secs: f64,
    liberty_secs: f64,
    glitch_factor: f64,
    bound_ps: u32,
}

/// The SKY130 library pelab ships for its tests, used by `bench gates`.
const BENCH_LIBERTY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/sim/tests/data/sky130hd_tt.lib.gz"
);

/// Times the Liberty-delay engine (1 ps quantum) against the zero-delay engine on the module
/// `m` mapped onto the SKY130 library, `rows` vectors, single-threaded, medians of `reps`.
fn liberty_delay_speed(
    m: &pelab_hdl::RtlModule,
    pe: &dyn pelab_testbench::PeVectors,
    cfg: &pelab_hdl::RtlConfig,
    layout: &pelab_testbench::Layout,
    rows: u64,
    reps: usize,
) -> Result<LibertySpeed> {
    use pelab_sim::netlist::delays::{liberty_delays, DelayOptions};
    use pelab_sim::netlist::Delay;
    use pelab_testbench::gates::run_gates_with;
    use pelab_testbench::{vectors, CaseSet, Shard};
    let path = std::path::Path::new(BENCH_LIBERTY);
    let lib = pelab_sim::liberty::read(path)?;
    eprintln!(
        "bench gates: Liberty delays against zero delay on the SKY130 mapping, {rows} vectors..."
    );
    let (mut net, _) =
        pelab_testbench::gates::synthesized_netlist(&m.verilog, &m.name, Some((path, &lib)))?;
    let d = liberty_delays(
        &net,
        &lib,
        &DelayOptions {
            resolution_ps: 1,
            input_slew_ps: DelayOptions::INPUT_SLEW_PS,
            wire_ff: 0.5,
        },
    )?;
    net.annotate_delays(&d)?;
    let one_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| pelab_sim::Error::new(e.to_string()))?;
    let v = vectors::generate(pe, cfg, CaseSet::Count(rows), 1, Shard::ALL)?;
    let time = |delay: Delay| {
        one_pool.install(|| {
            median_secs(reps, || {
                let (r, _) = run_gates_with(&net, layout, &v.rows, true, true, delay).unwrap();
                assert_eq!(r.unwrap().failed, 0);
            })
        })
    };
    let zero_secs = time(Delay::Zero);
    let liberty_secs = time(Delay::Liberty);
    let (_, act) = run_gates_with(&net, layout, &v.rows, false, true, Delay::Liberty)?;
    Ok(LibertySpeed {
        library: lib.name.clone(),
        cells: net.cells.len(),
        rows,
        zero_secs,
        liberty_secs,
        glitch_factor: act.toggles.iter().sum::<u64>() as f64
            / act.zero_delay_toggles.iter().sum::<u64>().max(1) as f64,
        bound_ps: d.settle_bound(&net),
    })
}

/// The unit-delay engine's speed: against the zero-delay engine on the same netlist and
/// vectors, and against Icarus running the same netlist with `assign #1` on every cell.
struct UnitSpeed {
    /// Vectors of the engine comparison.
    rows: u64,
    /// Zero-delay engine, 1 thread, median (s).
    zero_secs: f64,
    /// Unit-delay engine, 1 thread, median (s).
    unit_secs: f64,
    /// Unit-delay toggles / zero-delay toggles.
    glitch_factor: f64,
    /// Vectors of the Icarus comparison.
    icarus_rows: u64,
    /// Icarus run time (vvp; compile excluded).
    icarus_secs: f64,
    /// Icarus compile time.
    icarus_compile_secs: f64,
    /// Unit-delay engine on the Icarus vectors, 1 thread, median (s).
    engine_secs: f64,
}

/// Times the unit-delay engine on `net` (`rows.0` vectors against the zero-delay engine,
/// `rows.1` against Icarus' unit-delay run), single-threaded, medians of `reps`.
fn unit_delay_speed(
    net: &pelab_sim::netlist::Netlist,
    pe: &dyn pelab_testbench::PeVectors,
    cfg: &pelab_hdl::RtlConfig,
    layout: &pelab_testbench::Layout,
    rows: (u64, u64),
    reps: usize,
    dir: &std::path::Path,
) -> Result<UnitSpeed> {
    use pelab_sim::netlist::Delay;
    use pelab_testbench::gates::run_gates_with;
    use pelab_testbench::{vectors, CaseSet, Shard};
    let err = |e: std::io::Error| pelab_sim::Error::new(e.to_string());
    let one_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| pelab_sim::Error::new(e.to_string()))?;
    let time = |rows: &[Vec<u64>], delay: Delay| {
        one_pool.install(|| {
            median_secs(reps, || {
                let (r, _) = run_gates_with(net, layout, rows, true, true, delay).unwrap();
                assert_eq!(r.unwrap().failed, 0);
            })
        })
    };
    eprintln!(
        "bench gates: unit delay against zero delay, {} vectors...",
        rows.0
    );
    let v = vectors::generate(pe, cfg, CaseSet::Count(rows.0), 1, Shard::ALL)?;
    let zero_secs = time(&v.rows, Delay::Zero);
    let unit_secs = time(&v.rows, Delay::Unit);
    let (_, act) = run_gates_with(net, layout, &v.rows, false, true, Delay::Unit)?;
    let glitch_factor = act.toggles.iter().sum::<u64>() as f64
        / act.zero_delay_toggles.iter().sum::<u64>().max(1) as f64;
    eprintln!(
        "bench gates: Icarus on the unit-delay netlist, {} vectors...",
        rows.1
    );
    let v = vectors::generate(pe, cfg, CaseSet::Count(rows.1), 1, Shard::ALL)?;
    let ports: Vec<usize> = layout
        .inputs()
        .map(|f| net.input(&f.name))
        .collect::<Result<_>>()?;
    let stream: Vec<Vec<u64>> = v.rows.iter().map(|r| r[..ports.len()].to_vec()).collect();
    let tb = pelab_testbench::unit_delay::unit_delay_tb(net, &ports, &[stream], None)?;
    let d = dir.join("icarus_unit_delay");
    std::fs::create_dir_all(&d).map_err(err)?;
    pelab_hdl::emit::write_atomic(&d.join("tb.v"), &tb.verilog)?;
    for (name, text) in &tb.memories {
        pelab_hdl::emit::write_atomic(&d.join(name), text)?;
    }
    let run = |cmd: &str, args: &[&str]| -> Result<f64> {
        let t = Instant::now();
        let out = std::process::Command::new(cmd)
            .args(args)
            .current_dir(&d)
            .output()
            .map_err(|e| pelab_sim::Error::new(format!("{cmd}: {e} (is Icarus installed?)")))?;
        if !out.status.success() {
            return Err(pelab_sim::Error::new(format!(
                "{cmd} failed in {}: {}",
                d.display(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(t.elapsed().as_secs_f64())
    };
    let icarus_compile_secs = run("iverilog", &["-o", "tb.vvp", "tb.v"])?;
    let icarus_secs = run("vvp", &["-n", "tb.vvp"])?;
    let engine_secs = time(&v.rows, Delay::Unit);
    Ok(UnitSpeed {
        rows: rows.0,
        zero_secs,
        unit_secs,
        glitch_factor,
        icarus_rows: rows.1,
        icarus_secs,
        icarus_compile_secs,
        engine_secs,
    })
}

/// A measurement of `pelab bench array` that takes longer than this for one run is shrunk
/// (seconds).
const ARRAY_RUN_LIMIT: f64 = 10.0;

/// One cycle-accurate model measurement: a whole GEMM through the array model against a naive
/// f32 triple loop over the same values and shape.
struct ModelRow {
    cell: String,
    array: pelab_sim::array::ArrayDims,
    gemm: pelab_sim::array::GemmDims,
    /// Cycles the model clocked (the edge that put the last row of C out).
    cycles: u64,
    model_secs: f64,
    naive_secs: f64,
    /// The largest naive/model ratio that meets the target.
    target: f64,
    /// The model's C equalled the reference GEMM's.
    checked: bool,
    /// Why the shape is smaller than asked, if it is.
    shrunk: Option<String>,
}

impl ModelRow {
    fn macs(&self) -> f64 {
        (self.gemm.m * self.gemm.n * self.gemm.k) as f64
    }
    fn ratio(&self) -> f64 {
        self.model_secs / self.naive_secs
    }
    fn pass(&self) -> bool {
        self.ratio() <= self.target
    }
}

/// The gate-level measurement: the engine and Verilator on one array's gate netlist.
struct GatesRow {
    module: String,
    netlist_v: std::path::PathBuf,
    cells: usize,
    gemm: pelab_sim::array::GemmDims,
    gemms: usize,
    rows: usize,
    engine_secs: f64,
    /// Verilator's median run time and its compile time, or why it could not run.
    verilator: std::result::Result<(f64, f64), String>,
}

/// C = A·B in f32, the textbook triple loop (one thread).
fn naive_gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    for i in 0..m {
        for j in 0..n {
            for kk in 0..k {
                c[i * n + j] += a[i * k + kk] * b[kk * n + j];
            }
        }
    }
}

/// The value of each operand code of `cell` as an f32 (int16 lanes as integers).
fn code_values(cell: &pelab_sim::array::Cell, codes: &[u64]) -> Result<Vec<f32>> {
    if cell.pe == "int16fma" {
        return Ok(codes.iter().map(|&c| c as u16 as i16 as f32).collect());
    }
    let f = Format::parse(&cell.format)?;
    Ok(codes.iter().map(|&c| f.to_f64(c) as f32).collect())
}

/// Part 1 of `pelab bench array` for one cell and array size.
fn model_row(
    pe: &str,
    format: &str,
    side: usize,
    size: usize,
    target: f64,
    reps: usize,
) -> Result<ModelRow> {
    use pelab_sim::array::gemm::random_operands;
    use pelab_sim::array::{gemm, run_gemm_os, ArrayDims, GemmDims};
    let cell = pelab_hdl::array::cell::cell_or_default(pe, format, None)?.sim_cell()?;
    let dims = ArrayDims {
        rows: side,
        cols: side,
    };
    let mut r = ChaCha8Rng::seed_from_u64(3);
    let mut s = size;
    let mut shrunk = None;
    loop {
        let g = GemmDims { m: s, k: s, n: s };
        let a = random_operands(&cell, &mut r, s * s, 16);
        let b = random_operands(&cell, &mut r, s * s, 16);
        // The checked run: the model's C against the reference GEMM, bit for bit.
        let t = Instant::now();
        let (c, trace) = run_gemm_os(&cell, dims, g, &a, &b)?;
        let once = t.elapsed().as_secs_f64();
        let want = gemm(&cell, s, s, s, &a, &b);
        if let Some(q) = (0..c.len()).find(|&q| c[q] != want[q]) {
            return Err(pelab_sim::Error::new(format!(
                "bench array: {} os {side}x{side} model C[{}][{}] = {:08X}, the reference \
                 GEMM gives {:08X}",
                cell.name(),
                q / s,
                q % s,
                c[q],
                want[q]
            )));
        }
        if once > ARRAY_RUN_LIMIT && s > 16 {
            let note = format!(
                "{s}x{s}x{s} took {once:.1} s per model run (over {ARRAY_RUN_LIMIT} s): shape halved"
            );
            eprintln!("bench array: {} os {side}x{side}: {note}", cell.name());
            shrunk = Some(shrunk.map_or(note.clone(), |p: String| format!("{p}; {note}")));
            s /= 2;
            continue;
        }
        let model_secs = median_secs(reps, || {
            black_box(run_gemm_os(&cell, dims, g, black_box(&a), black_box(&b)).unwrap());
        });
        let (af, bf) = (code_values(&cell, &a)?, code_values(&cell, &b)?);
        let mut cf = vec![0f32; s * s];
        let naive_secs = median_secs(reps, || {
            cf.fill(0.0);
            naive_gemm(s, s, s, black_box(&af), black_box(&bf), &mut cf);
            black_box(&mut cf);
        });
        return Ok(ModelRow {
            cell: cell.name(),
            array: dims,
            gemm: g,
            cycles: trace.last_output_cycle,
            model_secs,
            naive_secs,
            target,
            checked: true,
            shrunk,
        });
    }
}

/// Part 2 of `pelab bench array`: the gate engine against Verilator on the generic-gate
/// netlist of the `side x side` os int16fma array, over the cycles of `gemms` GEMMs of shape
/// `g`.
fn gates_row(
    side: usize,
    g: pelab_sim::array::GemmDims,
    gemms: usize,
    reps: usize,
) -> Result<GatesRow> {
    use pelab_hdl::array::{ArraySpec, Dataflow};
    use pelab_testbench::array::{random_cases, vectors, verify};
    use pelab_testbench::{Simulator, Status};
    let err = |e: String| pelab_sim::Error::new(e);
    let spec = ArraySpec::new(
        pelab_hdl::array::cell::cell_or_default("int16fma", "int16", None)?,
        Dataflow::Os,
        side,
        side,
    )?;
    let m = spec.verilog()?;
    eprintln!(
        "bench array: synthesizing {} to generic gates (hierarchical)...",
        m.name
    );
    let (net, json_path) =
        pelab_testbench::gates::synthesized_netlist_hierarchical(&m.verilog, &m.name)?;
    let netlist_v = json_path.with_file_name("netlist.v");
    let netlist_text = std::fs::read_to_string(&netlist_v)
        .map_err(|e| err(format!("cannot read {}: {e}", netlist_v.display())))?;
    // The model's C of every GEMM is checked against the reference GEMM here.
    let cases = random_cases(&spec.cell.sim_cell()?, g, gemms, 4);
    let v = vectors(&spec, &cases)?;
    let rows = v.rows.len();
    eprintln!("bench array: gate engine, {rows} cycles...");
    let engine_secs = median_secs(reps, || {
        let (r, _) = pelab_testbench::gates::run_gates(&net, &v.layout, &v.rows, true, false)
            .expect("the gate engine runs the array's vectors");
        let r = r.expect("a checked run has a verdict");
        assert!(
            r.failed == 0 && r.passed == rows as u64,
            "gate engine on {}: {} passed, {} failed of {rows} rows",
            m.name,
            r.passed,
            r.failed
        );
    });
    eprintln!("bench array: Verilator on the gate netlist, {rows} cycles...");
    let dir = std::path::PathBuf::from("out/bench/array");
    let limit = std::time::Duration::from_secs(3600);
    let verilator = match verify(
        &spec,
        &v,
        &[Simulator::Verilator],
        &dir,
        limit,
        Some(&netlist_text),
    ) {
        Err(e) => Err(e.0),
        Ok(rep) => {
            let run = &rep.runs[0];
            match run.status {
                Status::Passed => {
                    // More runs of the built model on the same vectors, for the median.
                    let exe = rep.work_dir.join("obj_dir").join("pelab_tb");
                    let want = format!("{rows} passed, 0 failed");
                    let mut times = vec![run.run_secs];
                    for _ in 1..reps.max(1) {
                        let t = Instant::now();
                        let out = std::process::Command::new(&exe)
                            .current_dir(&rep.work_dir)
                            .output()
                            .map_err(|e| err(format!("cannot run {}: {e}", exe.display())))?;
                        times.push(t.elapsed().as_secs_f64());
                        let text = String::from_utf8_lossy(&out.stdout);
                        if !out.status.success() || !text.contains(&want) {
                            return Err(err(format!(
                                "{} did not pass on a repeated run (expected '{want}'):\n{text}",
                                exe.display()
                            )));
                        }
                    }
                    times.sort_by(f64::total_cmp);
                    Ok((times[times.len() / 2], run.compile_secs))
                }
                Status::Failed => {
                    return Err(err(format!(
                        "Verilator failed on the gate netlist {} ({} rows failed):\n{}",
                        netlist_v.display(),
                        run.failed,
                        run.log_tail
                    )))
                }
                Status::Crashed | Status::TimedOut => Err(format!(
                    "Verilator {:?} in {}:\n{}",
                    run.status,
                    rep.work_dir.display(),
                    run.log_tail
                )),
            }
        }
    };
    Ok(GatesRow {
        module: m.name,
        netlist_v,
        cells: net.cells.len(),
        gemm: g,
        gemms,
        rows,
        engine_secs,
        verilator,
    })
}

/// `pelab bench array`: the cycle-accurate os array model on whole GEMMs against a naive f32
/// triple loop (useful MACs per second, one thread), then the gate engine against Verilator
/// on the gate netlist of an 8x8 os int16fma array (cycles per second). `quick` shrinks every
/// shape (a 1x1 array at gate level).
fn array(reps: usize, quick: bool, json_out: bool) -> Result<()> {
    use pelab_sim::array::GemmDims;
    let size = if quick { 32 } else { 256 };
    let cases: &[(&str, &str, usize, f64)] = &[
        ("int16fma", "int16", 8, 10.0),
        ("int16fma", "int16", 16, 10.0),
        ("lmul", "e4m3", 8, 20.0),
    ];
    let mut rows = Vec::new();
    for &(pe, format, side, target) in cases {
        eprintln!("bench array: {pe} {format} os {side}x{side}, {size}^3 GEMM...");
        rows.push(model_row(pe, format, side, size, target, reps)?);
    }
    let (side, g) = if quick {
        (1, GemmDims { m: 2, k: 8, n: 2 })
    } else {
        (
            8,
            GemmDims {
                m: 64,
                k: 64,
                n: 64,
            },
        )
    };
    let gr = gates_row(side, g, 1, reps)?;
    let dims = |g: &GemmDims| format!("{}x{}x{}", g.m, g.k, g.n);
    let verilator_note = gr
        .verilator
        .as_ref()
        .err()
        .map(|why| format!("Verilator baseline of the gate-level part could not run: {why}"));
    if json_out {
        let v = json!({
            "reps": reps,
            "quick": quick,
            "statistic": "median wall time",
            "model": rows.iter().map(|r| json!({
                "cell": r.cell, "dataflow": "os",
                "array": format!("{}x{}", r.array.rows, r.array.cols),
                "gemm": dims(&r.gemm), "macs": r.macs(), "cycles": r.cycles,
                "model_secs": r.model_secs, "model_macs_per_sec": r.macs() / r.model_secs,
                "model_cycles_per_sec": r.cycles as f64 / r.model_secs,
                "naive_secs": r.naive_secs, "naive_macs_per_sec": r.macs() / r.naive_secs,
                "ratio": r.ratio(), "target_ratio": r.target, "pass": r.pass(),
                "checked": r.checked, "shrunk": r.shrunk,
            })).collect::<Vec<_>>(),
            "baseline": "naive f32 triple loop C[i][j] += A[i][k]*B[k][j] over the same values, 1 thread",
            "gates": json!({
                "module": gr.module, "netlist": gr.netlist_v, "cells": gr.cells,
                "gemm": dims(&gr.gemm), "gemms": gr.gemms, "cycles": gr.rows,
                "engine_lanes": gr.gemms.min(pelab_sim::netlist::LANES),
                "engine_secs": gr.engine_secs,
                "engine_cycles_per_sec": gr.rows as f64 / gr.engine_secs,
                "verilator": gr.verilator.as_ref().ok().map(|(secs, compile)| json!({
                    "run_secs": secs, "compile_secs": compile,
                    "cycles_per_sec": gr.rows as f64 / secs,
                })),
                "ratio": gr.verilator.as_ref().ok().map(|(secs, _)| secs / gr.engine_secs),
                "verilator_error": gr.verilator.as_ref().err(),
            }),
        });
        if let Some(n) = &verilator_note {
            eprintln!("WARNING: {n}");
        }
        return super::print_json(&v);
    }
    println!(
        "pelab bench array: os array models on {size}^3 GEMMs, median of {reps} runs, 1 thread"
    );
    println!("baseline: naive f32 triple loop C[i][j] += A[i][k]*B[k][j] over the same values and shape, 1 thread");
    println!(
        "  {:<26} {:>6} {:>12} {:>9} {:>14} {:>14} {:>8} {:>7}  verdict",
        "cell", "array", "GEMM", "cycles", "model MAC/s", "naive MAC/s", "ratio", "target"
    );
    for r in &rows {
        println!(
            "  {:<26} {:>6} {:>12} {:>9} {:>14.3e} {:>14.3e} {:>7.1}x {:>6.0}x  {}",
            r.cell,
            format!("{}x{}", r.array.rows, r.array.cols),
            dims(&r.gemm),
            r.cycles,
            r.macs() / r.model_secs,
            r.macs() / r.naive_secs,
            r.ratio(),
            r.target,
            if r.pass() {
                "PASS".to_string()
            } else {
                format!(
                    "*** MISS: naive/model {:.1}x > {}x ***",
                    r.ratio(),
                    r.target
                )
            }
        );
    }
    println!("  (ratio: naive MAC/s over model MAC/s; the model's C equalled the reference GEMM's in every row)");
    for r in &rows {
        if let Some(s) = &r.shrunk {
            println!("NOTE: {} {}x{}: {s}", r.cell, r.array.rows, r.array.cols);
        }
    }
    println!(
        "gate level: {} as Yosys generic gates ({} cells), {} GEMM of {} = {} cycles",
        gr.module,
        gr.cells,
        gr.gemms,
        dims(&gr.gemm),
        gr.rows
    );
    println!(
        "  gate engine (every output checked): {:>12.0} cycles/s ({} of its {} lanes: one per GEMM)",
        gr.rows as f64 / gr.engine_secs,
        gr.gemms.min(pelab_sim::netlist::LANES),
        pelab_sim::netlist::LANES
    );
    if let Ok((secs, compile)) = &gr.verilator {
        println!(
            "  Verilator on netlist.v:             {:>12.0} cycles/s (median of {reps} runs of the built model; compile {compile:.1} s apart)",
            gr.rows as f64 / secs
        );
        println!(
            "  ratio engine/Verilator: {:.2}x (Verilator run time: process start and $readmemh of the vectors included, as in bench gates)",
            secs / gr.engine_secs
        );
    }
    if let Some(n) = &verilator_note {
        println!("*** WARNING: {n} ***");
    }
    Ok(())
}

/// Target of `pelab bench accel` part 1: the whole bitmod-hpca25 table (seconds).
const ACCEL_TABLE_TARGET: f64 = 1.0;
/// Target of `pelab bench accel` part 2: the sweep (seconds).
const ACCEL_SWEEP_TARGET: f64 = 10.0;
/// Array sizes of the sweep: the first four have a CACTI entry for every preset, the others
/// for all but OliVe's 4-bit decode weight ports.
const ACCEL_SWEEP_ARRAYS: [&str; 8] = [
    "64x32", "64x16", "64x12", "64x18", "32x32", "32x16", "36x32", "24x16",
];
/// The accelerators the sweep runs under pelab (with gate-level PE energies), after the
/// artifact's five under bitmod-hpca25.
const ACCEL_SWEEP_PELAB: [&str; 2] = ["lmul-bf16", "fpmul-bf16"];
/// Where the gate-level PE energies are cached (as `pelab accel`'s default --cache).
const ACCEL_GATE_CACHE: &str = "out/accel-cache";

/// `pelab bench accel`: the bitmod-hpca25 table, then a sweep through the sweep engine (all
/// threads, and one) against a plain one-thread loop of each model's own run on the same
/// points, whose figures the sweep's rows must equal.
fn accel(reps: usize, json_out: bool) -> Result<()> {
    use pelab_sim::accel::hpca25::{self, Accelerator, PerTask};
    use pelab_sim::accel::pelab;
    use pelab_sim::accel::sweep::{self, ArraySpec, Energies, Grid, Manifest, Point, Shard};
    use pelab_sim::accel::workload::{Scenario, Workload, BUILTIN_IDS};
    use pelab_sim::Error;
    let threads = rayon::current_num_threads();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::new(e.to_string()))?;

    // Part 1: the table.
    let mut table_rows = 0;
    let table_secs = median_secs(reps, || {
        table_rows = black_box(hpca25::artifact_table().expect("the artifact's table")).len();
    });

    // Part 2: seven real accelerators: the artifact's five under bitmod-hpca25, and pelab's
    // L-Mul bf16 and FP-multiply bf16 PEs under pelab with their gate-level PE energies.
    let cache = std::path::Path::new(ACCEL_GATE_CACHE);
    eprintln!(
        "bench accel: gate-level PE energies (cached in {})...",
        cache.display()
    );
    let pe = super::accel_sweep::PeEnergies::measure_gate(cache)?;
    let registry = super::accel_sweep::registry(pe.clone());
    let mut accels: Vec<(String, String)> = hpca25::PRESET_IDS
        .iter()
        .map(|a| (hpca25::MODEL_NAME.to_string(), a.to_string()))
        .collect();
    for a in ACCEL_SWEEP_PELAB {
        accels.push((pelab::MODEL_NAME.to_string(), a.to_string()));
    }
    let models: Vec<String> = BUILTIN_IDS.iter().map(|s| s.to_string()).collect();
    let arrays: Vec<ArraySpec> = ACCEL_SWEEP_ARRAYS
        .iter()
        .map(|a| ArraySpec::parse(a))
        .collect::<Result<_>>()?;
    let tasks = vec![sweep::SweepTask::Prefill, sweep::SweepTask::Decode];
    let mut points: Vec<Point> = Vec::new();
    for t in &registry {
        let ids: Vec<String> = accels
            .iter()
            .filter(|(tm, _)| tm == t.name)
            .map(|(_, a)| a.clone())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let g = Grid::new(
            ids,
            models.clone(),
            tasks.clone(),
            arrays.clone(),
            vec![t.name.to_string()],
            pelab_sim::accel::workload::DEFAULT_CONTEXT,
        )?;
        points.extend(g.points(Shard::ALL));
    }
    let eval = |p: &Point| -> Result<sweep::Figures> {
        let t = registry
            .iter()
            .find(|t| t.name == p.timing)
            .expect("a registered timing model");
        (t.eval)(p)
    };
    let manifest = Manifest {
        grid: "bench".into(),
        shard: Shard::ALL,
        points: points.len(),
    };
    let run_sweep = || {
        let rows = sweep::evaluate(&points, eval, &|| {});
        let text = sweep::csv_text(&manifest, &rows).expect("CSV");
        black_box(text);
        rows
    };
    eprintln!(
        "bench accel: sweep of {} points, all {threads} threads...",
        points.len()
    );
    let sweep_secs = median_secs(reps, || {
        black_box(run_sweep());
    });
    eprintln!("bench accel: the same sweep on 1 thread...");
    let sweep1_secs = one.install(|| {
        median_secs(reps, || {
            black_box(run_sweep());
        })
    });
    let rows = run_sweep();
    // The baseline: each model's own run in a plain loop, one thread, over the same points.
    let workloads: Vec<Workload> = models
        .iter()
        .map(|m| Workload::builtin(m).expect("built-in"))
        .collect();
    type Base = std::result::Result<(u64, u64, Energies), String>;
    let loop_run = || -> Vec<Base> {
        points
            .iter()
            .map(|p| {
                let ArraySpec::Shape(s) = p.array else {
                    unreachable!("explicit arrays")
                };
                let array = PerTask {
                    prefill: s,
                    decode: s,
                };
                let w = &workloads[models.iter().position(|m| *m == p.model).expect("model")];
                let sc = Scenario::new(p.task.tasks()[0]);
                let r: pelab_sim::Result<(u64, u64, Energies)> = if p.timing == pelab::MODEL_NAME {
                    let mut c = pelab::preset(&p.accel).expect("preset");
                    c.array = array;
                    pe.energy(&c)
                        .and_then(|e| pelab::PelabAccelerator::new(c, e))
                        .and_then(|a| a.run(w, sc, &pelab::Options::default()))
                        .map(|r| {
                            let t = r.totals;
                            (
                                t.cycles,
                                t.compute_cycles,
                                Energies::Exact(t.energy.parts().map(|(_, e)| e)),
                            )
                        })
                } else {
                    let mut c = hpca25::preset(&p.accel).expect("preset");
                    c.array = array;
                    Accelerator::new(c).and_then(|a| a.run(w, sc)).map(|r| {
                        let t = r.totals;
                        (
                            t.cycles,
                            t.compute_cycles,
                            Energies::exact4(t.e_pe, t.e_rd, t.e_wr, t.e_dram),
                        )
                    })
                };
                r.map_err(|e| e.0)
            })
            .collect()
    };
    eprintln!(
        "bench accel: baseline loop of Accelerator::run and PelabAccelerator::run, 1 thread..."
    );
    let loop_secs = one.install(|| {
        median_secs(reps, || {
            black_box(loop_run());
        })
    });
    let base = loop_run();
    let (mut evaluated, mut refused) = (0usize, 0usize);
    let baseline_points = base.len();
    for (r, b) in rows.iter().zip(&base) {
        match &r.outcome {
            Ok(_) => evaluated += 1,
            Err(_) => refused += 1,
        }
        let same = match (&r.outcome, b) {
            (Ok(f), Ok((cycles, compute, energy))) => {
                f.cycles == *cycles && f.compute_cycles == *compute && f.energy == *energy
            }
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if !same {
            return Err(Error::new(format!(
                "bench accel: point {} ({}): the sweep's row differs from the model's own run",
                r.point.index,
                r.point.label()
            )));
        }
    }
    let n = points.len();
    let pelab_note = format!(
        "{} run under pelab (default options) with pelab's gate-level PE energies (the BitMoD \
         artifact has no PE energy for them; measured once, read from {}); the artifact's five \
         run under bitmod-hpca25",
        ACCEL_SWEEP_PELAB.join(" and "),
        cache.display()
    );
    let refused_note = (refused > 0).then(|| {
        format!(
            "{refused} of the {n} points have no CACTI entry for the SRAM port width their \
             array implies (bitmod-hpca25 refuses them, as the sweep does without \
             --keep-going; the baseline refuses them with the same message); they are timed \
             too, and are cheaper than evaluated points"
        )
    });
    let verdict = |secs: f64, target: f64| {
        if secs < target {
            "PASS".to_string()
        } else {
            format!("*** MISS: {secs:.3} s >= {target} s ***")
        }
    };
    let notes: Vec<String> = [Some(pelab_note), refused_note]
        .into_iter()
        .flatten()
        .collect();
    if json_out {
        let v = json!({
            "reps": reps,
            "threads": threads,
            "statistic": "median wall time",
            "table": {
                "runs": table_rows, "secs": table_secs, "ms_per_run": table_secs * 1e3 / table_rows as f64,
                "target_secs": ACCEL_TABLE_TARGET, "pass": table_secs < ACCEL_TABLE_TARGET,
            },
            "sweep": {
                "points": n, "evaluated": evaluated, "refused": refused,
                "accelerators": accels.iter().map(|(t, a)| format!("{a} ({t})")).collect::<Vec<_>>(),
                "models": models.len(), "arrays": ACCEL_SWEEP_ARRAYS, "tasks": ["prefill", "decode"],
                "secs": sweep_secs, "secs_1thread": sweep1_secs,
                "ms_per_point": sweep_secs * 1e3 / n as f64,
                "target_secs": ACCEL_SWEEP_TARGET, "pass": sweep_secs < ACCEL_SWEEP_TARGET,
                "baseline": {
                    "name": "Accelerator::run (bitmod-hpca25) and PelabAccelerator::run (pelab) in a plain loop over the same points, 1 thread",
                    "points": baseline_points, "secs": loop_secs,
                    "ms_per_point": loop_secs * 1e3 / baseline_points.max(1) as f64,
                },
                "ratio": sweep_secs / loop_secs,
                "ratio_1thread": sweep1_secs / loop_secs,
                "pe_energy": "pelab points: gate",
                "checked": "every row's cycles, compute cycles and energy parts equal the baseline's",
            },
            "notes": notes,
        });
        return super::print_json(&v);
    }
    println!("pelab bench accel: median of {reps} runs, {threads} threads available");
    println!(
        "1. bitmod-hpca25 table ({table_rows} runs: 5 accelerators x 6 models x 2 tasks): \
         {:.1} ms ({:.2} ms per run); target < {ACCEL_TABLE_TARGET} s: {}",
        table_secs * 1e3,
        table_secs * 1e3 / table_rows as f64,
        verdict(table_secs, ACCEL_TABLE_TARGET)
    );
    println!(
        "2. sweep: {n} points = {} arrays x {} models x {} accelerators x 2 tasks ({evaluated} \
         evaluated, {refused} refused), CSV text included",
        ACCEL_SWEEP_ARRAYS.len(),
        models.len(),
        accels.len()
    );
    println!("   arrays: {}", ACCEL_SWEEP_ARRAYS.join(", "));
    println!(
        "   accelerators: {}",
        accels
            .iter()
            .map(|(t, a)| format!("{a} ({t})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "   sweep, {threads} threads: {:>9.1} ms ({:.3} ms per point); target < \
         {ACCEL_SWEEP_TARGET} s: {}",
        sweep_secs * 1e3,
        sweep_secs * 1e3 / n as f64,
        verdict(sweep_secs, ACCEL_SWEEP_TARGET)
    );
    println!(
        "   sweep, 1 thread:  {:>9.1} ms ({:.3} ms per point)",
        sweep1_secs * 1e3,
        sweep1_secs * 1e3 / n as f64
    );
    println!(
        "   baseline: Accelerator::run / PelabAccelerator::run in a plain loop over the same \
         {baseline_points} points, 1 thread: {:.1} ms ({:.3} ms per point)",
        loop_secs * 1e3,
        loop_secs * 1e3 / baseline_points.max(1) as f64
    );
    println!(
        "   ratio sweep/baseline: {:.2}x on {threads} threads, {:.2}x on 1 thread (the sweep's \
         own cost: dispatch, rows, CSV text); every row equals the baseline's figures",
        sweep_secs / loop_secs,
        sweep1_secs / loop_secs
    );
    for note in &notes {
        println!("NOTE: {note}");
    }
    Ok(())
}
