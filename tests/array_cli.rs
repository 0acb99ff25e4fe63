//! `pelab array emit|verify|synth` as a user drives them: the files written, a passing and a
//! refused verification, the synthesis figures against what the array's registers must be, and
//! an error naming the problem for every bad input.

mod common;

use common::{err, ok};
use serde_json::Value;
use std::path::PathBuf;

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-array-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn emit_writes_one_self_describing_file() {
    let out = tmp("emit");
    let o = out.to_str().unwrap();
    let text = ok(&[
        "array",
        "emit",
        "fp16mac",
        "--format",
        "fp16",
        "--array",
        "3x2",
        "--dataflow",
        "ws",
        "-o",
        o,
    ]);
    let name = "pelab_array_fp16mac_fp16_ieee_ws_3x2";
    let path = out.join(format!("{name}.v"));
    assert!(text.contains(&path.display().to_string()), "{text}");
    let v = std::fs::read_to_string(&path).unwrap();
    assert!(v.contains(&format!("module {name}(")), "no top module");
    assert!(v.contains(&format!("module {name}__pe(")), "no PE module");
    assert!(
        v.contains("Semantics:") && v.contains("Ports:"),
        "no header"
    );
    // One instance per PE, named by position.
    for i in 0..3 {
        for j in 0..2 {
            assert!(v.contains(&format!(" pe_{i}_{j}(")), "no PE ({i},{j})");
        }
    }
    assert!(!v.contains(" pe_3_0("));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn emit_all_writes_every_cell_in_both_dataflows_at_four_sizes() {
    let out = tmp("emit-all");
    let text = ok(&["array", "emit", "--all", "-o", out.to_str().unwrap()]);
    let n = std::fs::read_dir(&out).unwrap().count();
    let cells = pelab_hdl::array::cell::cells().len();
    // Every 1-cycle cell in both dataflows, plus the bitmod cell, which is
    // output-stationary only.
    assert_eq!(n, cells * 2 * 4 + 4, "{text}");
    for s in ["2x2", "4x4", "8x8", "16x16"] {
        assert!(out
            .join(format!("pelab_array_int16fma_int16_saturate_os_{s}.v"))
            .is_file());
        assert!(out
            .join(format!("pelab_array_bitmod_fp16_bitmod34_os_{s}.v"))
            .is_file());
        assert!(!out
            .join(format!("pelab_array_bitmod_fp16_bitmod34_ws_{s}.v"))
            .exists());
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn verify_passes_on_icarus_and_reports_the_model_timing() {
    let work = tmp("verify");
    let out: Value = serde_json::from_str(&ok(&[
        "array",
        "verify",
        "int16fma",
        "--format",
        "int16",
        "--array",
        "2x3",
        "--sim",
        "icarus",
        "--gemm",
        "5x9x4",
        "--count",
        "2",
        "--seed",
        "3",
        "--json",
        "--work",
        work.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(out["passed"], true);
    let r = &out["report"];
    assert_eq!(r["cases"].as_array().unwrap().len(), 2);
    assert_eq!(r["runs"][0]["status"], "passed");
    // OS timing: folds = ceil(5/2)*ceil(4/3) = 6, S = K' + R + C - 2 with K' = ceil(9/2) = 5.
    let t = &r["cases"][0]["trace"];
    assert_eq!(t["folds"], 6);
    assert_eq!(t["cycles_per_fold"], 5 + 2 + 3 - 2);
    assert_eq!(t["cycles_scalesim"], 6 * 8 - 1);
    // Every vector row passed: reset, the GEMM's cycles and the idle tail, twice.
    assert_eq!(r["runs"][0]["passed"], r["rows"]);
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn synth_counts_the_arrays_flip_flops() {
    let v: Value = serde_json::from_str(&ok(&[
        "array", "synth", "int16fma", "--format", "int16", "--array", "2x2", "--json",
    ]))
    .unwrap();
    let r = &v["report"];
    let ffs = r["ffs"].as_u64().unwrap();
    // Each PE of a 2x2 OS array registers its accumulator (32 bits) and drain stage (32);
    // a (32 bits: two int16 lanes) and b (32) pass to the next PE east and south (2 + 2
    // hops used; the edges' outputs are unused and removed); skew (row 1: a and 3 flags,
    // column 1: b), one deskew stage, the flags and the output counter come on top.
    let floor = 4 * 64 + 4 * 32;
    let ceiling = floor + (32 + 3) + 32 + 32 + 4 * 3 + 16;
    assert!(
        (floor..=ceiling).contains(&ffs),
        "{ffs} flip-flops, expected {floor}..={ceiling}"
    );
    assert!(r["cell_count"].as_u64().unwrap() > 4 * 400);
}

#[test]
fn bad_inputs_are_refused_with_the_reason() {
    for (args, want) in [
        (
            vec![
                "array", "emit", "lmul", "--format", "e4m9", "--array", "2x2",
            ],
            "e4m9",
        ),
        (
            vec![
                "array", "emit", "lmul", "--format", "e4m3", "--array", "2x65",
            ],
            "1 to 64",
        ),
        (
            vec![
                "array",
                "emit",
                "lmul",
                "--format",
                "e4m3",
                "--array",
                "2x2",
                "--dataflow",
                "is",
            ],
            "is",
        ),
        (
            vec![
                "array",
                "emit",
                "bitmod",
                "--format",
                "fp16",
                "--array",
                "2x2",
                "--dataflow",
                "ws",
            ],
            "output-stationary only",
        ),
        (
            vec![
                "array", "verify", "int16fma", "--format", "int16", "--array", "2x2", "--sim",
                "rusthdl",
            ],
            "icarus, verilator and gates",
        ),
        (
            vec![
                "array", "verify", "int16fma", "--format", "int16", "--array", "2x2", "--count",
                "0",
            ],
            "--count",
        ),
        (
            vec![
                "array", "synth", "int16fma", "--format", "int16", "--array", "2x2", "--target",
                "asic",
            ],
            "asic",
        ),
    ] {
        let e = err(&args);
        assert!(e.contains(want), "{args:?}: {e}");
    }
}
