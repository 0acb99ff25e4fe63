//! The command line as a user drives it: outputs, JSON, and errors (non-zero exit, nothing on
//! stdout, a message that names the problem).

mod common;

use common::{err, ok};

#[test]
fn list_names_every_pe_and_format() {
    let out = ok(&["list"]);
    let ids = ["lmul", "fpmul", "fp16mac", "fp32acc", "int16fma", "bitmod"];
    for id in ids {
        assert!(out.contains(id), "{id} missing from list");
    }
    for f in [
        "e4m3", "e5m2", "bf16", "fp16", "fp32", "e2m1", "e3m2", "e2m3", "eXmY",
    ] {
        assert!(out.contains(f), "{f} missing from list");
    }
    let v: serde_json::Value = serde_json::from_str(&ok(&["list", "--json"])).unwrap();
    assert_eq!(v["pes"].as_array().unwrap().len(), ids.len());
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

#[test]
fn accuracy_lmul_json_has_its_tables() {
    let out = ok(&["accuracy", "lmul", "--samples", "20000", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tables = v.as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["lmul_elementwise", "lmul_dot"]);
    let elem = &tables[0];
    let rows = elem["rows"].as_array().unwrap();
    // L-Mul and the exact multiply in e8m1..e8m7, two conversions each, plus e4m3 and e5m2.
    assert_eq!(rows.len(), 7 * 2 * 2 + 2);
    for r in rows {
        let n = ["samples", "excluded_zero", "excluded_nonfinite"]
            .iter()
            .map(|c| r[c].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(n, 20000, "{r}");
        assert!(r["mean_abs_rel_err"].as_f64().unwrap() <= r["max_abs_rel_err"].as_f64().unwrap());
    }
    assert_eq!(tables[1]["rows"].as_array().unwrap().len(), rows.len() * 3);
    let prov = elem["provenance"].as_array().unwrap();
    assert!(prov
        .iter()
        .any(|p| p.as_str().unwrap().contains("20000 pairs")));
    assert!(prov
        .iter()
        .any(|p| p.as_str().unwrap().starts_with("seed: 1")));
}

#[test]
fn accuracy_text_csv_and_out_dir() {
    let text = ok(&["accuracy", "dfp", "--samples", "8192", "--seed", "3"]);
    assert!(text.starts_with("dfp_quant_error: "), "{text}");
    assert!(text.contains("\ndfp_overflow: ") && text.contains("  # seed: 3"));
    let dir = std::env::temp_dir().join(format!("pelab-cli-accuracy-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let csv = ok(&[
        "accuracy",
        "bitmod",
        "--dist",
        "uniform",
        "--samples",
        "512",
        "--csv",
        "-o",
        d,
    ]);
    assert!(csv.starts_with("# bitmod_mse\nset,bits,"), "{csv}");
    assert!(csv.contains("\n\n# bitmod_type_share\nset,datatype,"));
    for name in ["bitmod_mse", "bitmod_type_share"] {
        let f = std::fs::read_to_string(dir.join(format!("{name}.csv"))).unwrap();
        assert!(
            csv.contains(&f),
            "{name}.csv differs from the printed table"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn accuracy_bad_names_list_the_choices() {
    let e = err(&["accuracy", "lmulx"]);
    assert!(
        e.contains("lmulx") && e.contains("lmul, bitmod, dfp"),
        "{e}"
    );
    let e = err(&["accuracy", "lmul", "--dist", "normal"]);
    assert!(
        e.contains("normal") && e.contains("gaussian, uniform, loguniform, student-t:NU"),
        "{e}"
    );
    let e = err(&["accuracy", "bitmod", "--dist", "file:/nonexistent/w.npy"]);
    assert!(e.contains("/nonexistent/w.npy"), "{e}");
    let e = err(&["accuracy", "lmul", "--samples", "0"]);
    assert!(e.contains("at least 1"), "{e}");
    assert!(ok(&["accuracy", "--help"]).contains("lmul, bitmod, dfp"));
}

/// A reader that stops early (`pelab list | head -1`) ends pelab quietly: exit 0 or death by
/// SIGPIPE, never a "failed printing to stdout" panic.
#[cfg(unix)]
#[test]
fn closed_stdout_ends_quietly() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    for args in [
        &["list"][..],
        &["vectors", "lmul", "--format", "e4m3", "--exhaustive"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pelab"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pelab");
        let mut first = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "pelab {args:?} printed nothing");
        drop(out);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!stderr.contains("panicked"), "pelab {args:?}:\n{stderr}");
        assert!(
            o.status.success() || o.status.signal() == Some(libc::SIGPIPE),
            "pelab {args:?} ended with {:?}:\n{stderr}",
            o.status
        );
    }
}

/// `verify --rtl` without `--sim` runs the simulators that can run Verilog files (rust-hdl,
/// which simulates pelab's own blocks, is left out); an explicit `--sim rusthdl` is an error.
#[test]
fn verify_rtl_defaults_to_verilog_simulators() {
    let dir = std::env::temp_dir().join(format!("pelab-rtl-default-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    ok(&["emit", "lmul", "-f", "e4m3", "--out", d]);
    let v = dir.join("pelab_lmul_e4m3_sat.v");
    assert!(v.exists(), "emit wrote no {}", v.display());
    let v = v.to_str().unwrap();
    let work = dir.join("work");
    let work = work.to_str().unwrap();
    let user_rtl = [
        "verify",
        "lmul",
        "-f",
        "e4m3",
        "--rtl",
        v,
        "--top",
        "pelab_lmul_e4m3_sat",
        "--work",
        work,
    ];
    let out = ok(&[&user_rtl[..], &["--exhaustive", "--json"]].concat());
    let j: serde_json::Value = serde_json::from_str(&out).expect("verify --json prints JSON");
    let text = j.to_string();
    for sim in ["icarus", "verilator", "gates"] {
        assert!(
            text.contains(&format!("\"{sim}\"")),
            "{sim} did not run: {text}"
        );
    }
    assert!(
        !text.contains("\"rusthdl\""),
        "rusthdl ran on --rtl files: {text}"
    );
    let e = err(&[&user_rtl[..], &["--sim", "rusthdl"]].concat());
    assert!(e.contains("rusthdl") && e.contains("cannot run"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
