//! The command line as a user drives it: outputs, JSON, and errors (non-zero exit, nothing on
//! stdout, a message that names the problem).

use std::process::{Command, Output};

fn pelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(args)
        .output()
        .expect("run pelab")
}

fn ok(args: &[&str]) -> String {
    let o = pelab(args);
    assert!(
        o.status.success(),
        "pelab {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Runs a failing command; returns stderr after checking the exit code and empty stdout.
fn err(args: &[&str]) -> String {
    let o = pelab(args);
    assert!(!o.status.success(), "pelab {args:?} should fail");
    assert!(
        o.stdout.is_empty(),
        "pelab {args:?} printed to stdout on error"
    );
    String::from_utf8(o.stderr).unwrap()
}

#[test]
fn list_names_every_pe_and_format() {
    let out = ok(&["list"]);
    for id in ["lmul", "fpmul", "fp16mac", "int16fma", "bitmod"] {
        assert!(out.contains(id), "{id} missing from list");
    }
    for f in [
        "e4m3", "e5m2", "bf16", "fp16", "fp32", "e2m1", "e3m2", "e2m3", "eXmY",
    ] {
        assert!(out.contains(f), "{f} missing from list");
    }
    let v: serde_json::Value = serde_json::from_str(&ok(&["list", "--json"])).unwrap();
    assert_eq!(v["pes"].as_array().unwrap().len(), 5);
    assert_eq!(v["pes"][0]["default_policy"], "saturate");
}

#[test]
fn eval_prints_hex_and_value() {
    // L-Mul 1.5 x 1.5 in bf16: the fields add with a carry into the exponent: 2.125.
    let out = ok(&["eval", "lmul", "--format", "bf16", "3FC0", "3FC0"]);
    assert!(out.starts_with("4008 2.125\n"), "{out}");
    let out = ok(&[
        "eval",
        "fpmul",
        "-f",
        "e4m3",
        "0x7E",
        "40",
        "--overflow",
        "saturate",
    ]);
    assert!(out.starts_with("7E 448\n"), "{out}");
    let out = ok(&["eval", "fpmul", "-f", "e4m3", "7E", "40"]);
    assert!(out.starts_with("7F NaN\n"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "eval", "lmul", "-f", "fp32", "3F800000", "3F800000", "--json",
    ]))
    .unwrap();
    assert_eq!(v["hex"], "3F880000");
    assert_eq!(v["value"], "1.0625");
    assert_eq!(v["details"]["K"], "3F780000");
    let out = ok(&["eval", "fp16mac", "3F800000", "3C00", "4000"]);
    assert!(out.starts_with("40400000 3\n"), "{out}");
    // INT32 max + 1: VPDPWSSDS clamps, VPDPWSSD wraps.
    let out = ok(&[
        "eval",
        "int16fma",
        "7FFFFFFF",
        "1",
        "0",
        "1",
        "0",
        "--overflow",
        "saturate",
    ]);
    assert!(out.starts_with("7FFFFFFF 2147483647\n"), "{out}");
    let out = ok(&["eval", "int16fma", "7FFFFFFF", "1", "0", "1", "0"]);
    assert!(out.starts_with("80000000 -2147483648\n"), "{out}");
    // The BitMoD group worked through cycle by cycle in docs/bitmod.md section 8.
    let out = ok(&[
        "eval", "bitmod", "er+", "03", "8123", "4000", "3C00", "BC00", "3555",
    ]);
    assert!(out.starts_with("13007800 60\n"), "{out}");
}

#[test]
fn bad_input_is_named() {
    assert!(err(&["eval", "lmuz", "1", "2"]).contains("valid PEs: lmul"));
    assert!(err(&["eval", "lmul", "-f", "fp8", "1", "2"]).contains("valid: e4m3"));
    assert!(err(&["eval", "lmul", "1", "2"]).contains("needs --format"));
    let e = err(&["eval", "lmul", "-f", "bf16", "3FC00", "1"]);
    assert!(e.contains("operand A") && e.contains("16 bits"), "{e}");
    assert!(err(&["eval", "lmul", "-f", "bf16", "3G", "1"]).contains("not hex"));
    assert!(err(&["eval", "lmul", "-f", "bf16", "1"]).contains("two operands"));
    let e = err(&["eval", "lmul", "-f", "e2m1", "3", "3", "--overflow", "ieee"]);
    assert!(e.contains("no Inf or NaN"), "{e}");
    assert!(
        err(&["eval", "lmul", "-f", "bf16", "1", "1", "--overflow", "wrap"])
            .contains("valid: saturate, ieee")
    );
    assert!(err(&["eval", "lmul", "-f", "e12m3", "1", "1"]).contains("out of range"));
    assert!(err(&["eval", "fp16mac", "-f", "bf16", "0", "0", "0"])
        .contains("fp16mac takes format fp16"));
    assert!(err(&["eval", "int16fma", "-f", "fp16", "0", "0", "0", "0", "0"]).contains("int16"));
    let e = err(&["eval", "int16fma", "100000000", "0", "0", "0", "0"]);
    assert!(e.contains("ACC") && e.contains("32 bits"), "{e}");
    let e = err(&[
        "eval", "bitmod", "er+", "03", "8123", "4000", "3C00", "BC00",
    ]);
    assert!(e.contains("activation"), "{e}");
}
