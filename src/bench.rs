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
            threads: 1,
            secs: s1,
            baseline: base,
        });
        if threads > 1 {
            let sn = median_secs(reps, || run(&mut out16));
            rows.push(Row {
                name: name.into(),
                threads,
                secs: sn,
                baseline: base,
            });
        }
    }
    let int_rows = crate::bench::int16fma_rows(n, reps);
    if json_out {
        let v = json!({
            "pairs": n,
            "reps": reps,
            "statistic": "median wall time",
            "baseline": {"name": "f32 multiply loop over the same bf16 values (1 thread)", "secs": base},
            "kernels": rows.iter().chain(&int_rows).map(|r| json!({
                "name": r.name, "threads": r.threads, "secs": r.secs,
                "baseline_secs": r.baseline, "ratio": r.secs / r.baseline,
            })).collect::<Vec<_>>(),
            "target": "lmul and fpmul <= 2x the f32 loop",
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return Ok(());
    }
    println!("pelab bench ref: {n} random bf16 pairs, median of {reps} runs, {threads} threads available");
    println!("baseline: plain f32 multiply loop over the same values, 1 thread: {:.2} ms ({:.2} ns/pair)", base * 1e3, base * 1e9 / n as f64);
    println!(
        "{:<40} {:>7} {:>10} {:>10} {:>8}",
        "kernel", "threads", "ms", "ns/op", "ratio"
    );
    for r in rows.iter().chain(&int_rows) {
        println!(
            "{:<40} {:>7} {:>10.2} {:>10.3} {:>7.2}x",
            r.name,
            r.threads,
            r.secs * 1e3,
            r.secs * 1e9 / n as f64,
            r.secs / r.baseline
        );
    }
    println!(
        "target: lmul and fpmul at most 2x the f32 loop (1-thread rows compare like with like)"
    );
    Ok(())
}

/// The int16fma rows: the reference slice kernel against the CPU's instructions.
fn int16fma_rows(_n: usize, _reps: usize) -> Vec<Row> {
    Vec::new()
}
