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

/// Median wall time in seconds of `reps` runs of `f` (after one warm-up run).
pub fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
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
pub fn reference(n: usize, reps: usize, json_out: bool) -> Result<()> {
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
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return Ok(());
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
