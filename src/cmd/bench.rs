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

/// Runs the benchmark asked for.
pub fn run(args: Args) -> Result<()> {
    match args.which {
        Which::Ref { n, reps, json } => reference(n, reps, json),
        Which::Gates {
            rows,
            icarus_rows,
            reps,
            shards,
            json,
        } => gates(rows, icarus_rows, reps, shards.max(1), json),
    }
}

/// Median wall time in seconds of `reps` runs of `f` (after one warm-up run).
fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
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

/// `pelab bench gates`: pelab's gate engine against Verilator and Icarus running the same
/// synthesized netlist (Yosys `write_verilog -noattr` of the generic-gate netlist) on the same
/// vectors, then the exhaustive check of lmul bf16 (all 2^32 pairs; `shards` > 1 runs only the
/// first 1/shards of them and extrapolates).
fn gates(rows: u64, icarus_rows: u64, reps: usize, shards: u64, json_out: bool) -> Result<()> {
    use pelab_testbench::{run, vectors, CaseSet, Shard, Simulator};
    let joined = pelab_testbench::pe("lmul")?;
    let pe = joined.vectors;
    let cfg = pelab_hdl::RtlConfig::new("bf16", "saturate", 0);
    let m = joined.rtl.verilog(&cfg)?;
    let (net, json_path) = pelab_testbench::gates::synthesized_netlist(&m.verilog, &m.name, None)?;
    let netlist_v = json_path.with_file_name("netlist.v");
    let layout = pe.layout(&cfg)?;
    let dir = std::path::PathBuf::from("out/bench/gates");
    std::fs::create_dir_all(&dir).map_err(|e| pelab_sim::Error::new(e.to_string()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| pelab_sim::Error::new(format!("{}: {e}", dir.display())))?;
    let limit = std::time::Duration::from_secs(3600);
    let mut sims = Vec::new();
    for (sim, n) in [
        (Simulator::Verilator, rows),
        (Simulator::Icarus, icarus_rows),
    ] {
        eprintln!(
            "bench gates: {} on the gate netlist, {n} vectors...",
            sim.name()
        );
        let v = vectors::generate(pe, &cfg, CaseSet::Count(n), 1, Shard::ALL)?;
        let d = dir.join(sim.name());
        std::fs::create_dir_all(&d).map_err(|e| pelab_sim::Error::new(e.to_string()))?;
        std::fs::write(d.join("vectors.mem"), v.to_mem())
            .map_err(|e| pelab_sim::Error::new(e.to_string()))?;
        let tb = d.join("pelab_tb.v");
        std::fs::write(
            &tb,
            pelab_testbench::tb::testbench(&m.name, &layout, n, "vectors.mem"),
        )
        .map_err(|e| pelab_sim::Error::new(e.to_string()))?;
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
                    pelab_testbench::gates::run_gates(&net, &layout, &v.rows, true, false).unwrap();
                assert_eq!(r.unwrap().failed, 0);
            })
        });
        sims.push((sim, n, r.run_secs, r.compile_secs, all, one));
    }
    // Exhaustive lmul bf16.
    let total = 1u64 << 32;
    let shard = Shard { k: 1, n: shards };
    eprintln!(
        "bench gates: lmul bf16 exhaustive, {} of 2^32 pairs...",
        shard.range(total).end
    );
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
    let full_secs = secs * total as f64 / checked as f64;
    let rss = peak_rss_mb();
    let threads = rayon::current_num_threads();
    if json_out {
        let v = json!({
            "module": m.name,
            "netlist": netlist_v,
            "gates": net.program.len(),
            "threads": threads,
            "simulators": sims.iter().map(|(s, n, secs, compile, all, one)| json!({
                "simulator": s.name(), "vectors": n, "run_secs": secs, "compile_secs": compile,
                "vectors_per_sec": *n as f64 / secs,
                "engine_secs": all, "engine_vectors_per_sec": *n as f64 / all,
                "engine_1thread_secs": one,
                "ratio": secs / all, "ratio_1thread": secs / one,
            })).collect::<Vec<_>>(),
            "exhaustive": json!({
                "cases": checked, "failed": run.failed, "secs": secs,
                "secs_all_2_32": full_secs, "peak_rss_mb": rss,
            }),
        });
        return super::print_json(&v);
    }
    println!(
        "pelab bench gates: {} as Yosys generic gates ({} cells), {} threads",
        m.name,
        net.cells.len(),
        threads
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
    println!("  (simulator run time only, compile excluded; the engine compares every output like the testbench; engine times are medians of {reps})");
    println!(
        "  lmul bf16 exhaustive on gates: {} pairs in {:.1} s{} ({:.0} M pairs/s), {} failed, peak memory {:.0} MB",
        checked,
        secs,
        if shards > 1 {
            format!(", all 2^32 extrapolated {full_secs:.0} s")
        } else {
            String::new()
        },
        checked as f64 / secs / 1e6,
        run.failed,
        rss
    );
    println!(
        "  targets: >= 10x Verilator, >= 1000x Icarus, 2^32 pairs <= 60 s and <= 1 GB on 2 cores"
    );
    Ok(())
}
