//! `pelab array timing` as a user drives it: the JSON fields against SCALE-Sim's closed forms
//! computed here, the text output, and an error naming the problem for every bad input.

mod common;

use common::{err, ok};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let mut all = vec!["array", "timing", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&all)).unwrap()
}

fn cdiv(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

#[test]
fn json_fields_follow_the_closed_forms() {
    for (df, r, c, m, k, n) in [
        ("os", 8, 8, 64, 64, 64),
        ("os", 3, 5, 7, 17, 9),
        ("ws", 4, 2, 9, 33, 16),
        ("is", 1, 7, 2, 3, 1),
        ("is", 64, 64, 100, 1000, 10),
    ] {
        let v = json(&[
            "--dataflow",
            df,
            "--array",
            &format!("{r}x{c}"),
            "--gemm",
            &format!("{m}x{k}x{n}"),
        ]);
        let (folds, per_fold) = match df {
            "os" => (cdiv(m, r) * cdiv(n, c), r + c + k - 2),
            "ws" => (cdiv(k, r) * cdiv(n, c), 2 * r + c + m - 2),
            _ => (cdiv(k, r) * cdiv(m, c), 2 * r + c + n - 2),
        };
        let cycles = folds * per_fold - 1;
        assert_eq!(v["folds"], folds, "{v}");
        assert_eq!(v["cycles_per_fold"], per_fold, "{v}");
        assert_eq!(v["cycles"], cycles, "{v}");
        let util = (m * n * k) as f64 / (r * c * (cycles + 1)) as f64;
        assert!(
            (v["utilization"].as_f64().unwrap() - util).abs() < 1e-12,
            "{v}"
        );
        let (a_reads, b_reads) = match df {
            "os" => (folds * r * k, folds * c * k),
            "ws" => (folds * m * r, folds * r * c),
            _ => (folds * r * c, folds * n * r),
        };
        assert_eq!(v["sram"]["a_reads"], a_reads, "{v}");
        assert_eq!(v["sram"]["b_reads"], b_reads, "{v}");
        let c_writes = if df == "os" {
            m * n
        } else {
            cdiv(k, r) * m * n
        };
        assert_eq!(v["sram"]["c_writes"], c_writes, "{v}");
        assert_eq!(v["dataflow"], df);
        assert_eq!(v["lanes"], 1);
    }
}

#[test]
fn pe_sets_the_lanes() {
    // int16fma steps take two k per step: K' = ceil(K/2).
    let v = json(&[
        "--dataflow",
        "os",
        "--array",
        "4x4",
        "--gemm",
        "8x9x8",
        "--pe",
        "int16fma",
    ]);
    assert_eq!(v["lanes"], 2);
    assert_eq!(v["k_steps"], 5);
    assert_eq!(v["cycles_per_fold"], 4 + 4 + 5 - 2);
    assert_eq!(v["pe"], "int16fma");
    let v = json(&[
        "--dataflow",
        "os",
        "--array",
        "4x4",
        "--gemm",
        "8x9x8",
        "--lanes",
        "3",
    ]);
    assert_eq!(v["k_steps"], 3);
    let v = json(&[
        "--dataflow",
        "os",
        "--array",
        "2x2",
        "--gemm",
        "2x4x2",
        "--step-cycles",
        "3",
    ]);
    assert_eq!(v["cycles_per_fold"], 2 + 2 + 3 * 4 - 2);
}

#[test]
fn text_output_names_every_figure() {
    let out = ok(&[
        "array",
        "timing",
        "--dataflow",
        "ws",
        "--array",
        "8x4",
        "--gemm",
        "16x32x8",
    ]);
    for want in [
        "ws dataflow, 8x4 array, 16x32x8 GEMM",
        "folds               8",
        "cycles per fold     34",
        "cycles              271",
        "utilization",
        "a_reads",
        "b_reads",
        "c_writes",
        "SCALE-Sim",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
}

/// The bitmod cell's timing: beats of 4 weights, 2 cycles each, groups of 128 weights taking
/// at least 8 cycles, the result 9 cycles after the last beat, computed here by hand.
#[test]
fn bitmod_timing_has_beats_groups_and_the_result_latency() {
    for (r, c, m, k, n) in [(8, 8, 64, 256, 64), (4, 2, 5, 130, 3), (1, 1, 1, 1, 1)] {
        let v = json(&[
            "--dataflow",
            "os",
            "--array",
            &format!("{r}x{c}"),
            "--gemm",
            &format!("{m}x{k}x{n}"),
            "--pe",
            "bitmod",
        ]);
        // Per group of g weights: max(2*ceil(g/4), 8) cycles.
        let mut stream = 0;
        let mut left = k;
        while left > 0 {
            let g = left.min(128);
            stream += (2 * cdiv(g, 4)).max(8);
            left -= g;
        }
        let folds = cdiv(m, r) * cdiv(n, c);
        let per_fold = r + c + stream - 2;
        let cycles = folds * per_fold - 1;
        assert_eq!(v["lanes"], 4, "{v}");
        assert_eq!(v["step_cycles"], 2, "{v}");
        assert_eq!(v["cycles_per_fold"], per_fold, "{v}");
        assert_eq!(v["cycles"], cycles, "{v}");
        assert_eq!(v["last_output_cycle"], cycles + r + 1 + 9, "{v}");
    }
    let e = err(&[
        "array",
        "timing",
        "--dataflow",
        "ws",
        "--array",
        "2x2",
        "--gemm",
        "2x2x2",
        "--pe",
        "bitmod",
    ]);
    assert!(e.contains("os dataflow only"), "{e}");
}

#[test]
fn bad_inputs_are_refused_with_reasons() {
    let base = ["array", "timing", "--dataflow", "os"];
    let run = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        err(&a)
    };
    for (extra, want) in [
        (&["--array", "65x8", "--gemm", "4x4x4"][..], "rows = 65"),
        (
            &["--array", "8x0", "--gemm", "4x4x4"][..],
            "a dimension is 0",
        ),
        (
            &["--array", "8", "--gemm", "4x4x4"][..],
            "expected 2 positive integers",
        ),
        (
            &["--array", "8xq", "--gemm", "4x4x4"][..],
            "'q' is not a positive integer",
        ),
        (
            &["--array", "8x8", "--gemm", "4x4"][..],
            "expected 3 positive integers",
        ),
        (
            &["--array", "8x8", "--gemm", "4x0x4"][..],
            "a dimension is 0",
        ),
        (
            &[
                "--array",
                "8x8",
                "--gemm",
                "4x4x4",
                "--pe",
                "bitmod",
                "--step-cycles",
                "1",
            ][..],
            "contradicts --pe bitmod",
        ),
        (
            &["--array", "8x8", "--gemm", "4x4x4", "--pe", "nosuch"][..],
            "nosuch",
        ),
        (
            &[
                "--array", "8x8", "--gemm", "4x4x4", "--pe", "int16fma", "--lanes", "1",
            ][..],
            "contradicts",
        ),
        (
            &["--array", "8x8", "--gemm", "4x4x4", "--lanes", "0"][..],
            "lanes per step = 0",
        ),
    ] {
        let e = run(extra);
        assert!(e.contains(want), "{extra:?}: {e}");
    }
    let e = err(&[
        "array",
        "timing",
        "--dataflow",
        "xs",
        "--array",
        "8x8",
        "--gemm",
        "4x4x4",
    ]);
    assert!(e.contains("os, ws, is"), "{e}");
}
