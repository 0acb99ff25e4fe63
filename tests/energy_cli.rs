//! `pelab energy` as a user drives it: text, JSON and CSV outputs, workloads, the table
//! estimator, liberty mode, and an error naming the problem for every bad input.

mod common;

use common::{err, ok};

fn fixture() -> String {
    format!(
        "{}/sim/tests/data/sky130hd_tt.lib.gz",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn text_output_names_sources_and_the_caveat() {
    let out = ok(&["energy", "lmul", "--format", "e4m3", "--ops", "4096"]);
    for want in [
        "generic-45nm",
        "horowitz-45nm",
        "int_add 8",
        "nangate45_cells.csv",
        "glitches",
        "$_XOR_",
        "seed 1",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
}

#[test]
fn json_has_the_breakdown_and_the_table_estimate() {
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "energy", "fpmul", "--format", "fp16", "--ops", "4096", "--json",
    ]))
    .unwrap();
    let total = v["total_pj"].as_f64().unwrap();
    let parts = ["dynamic_pj", "clock_pj", "leakage_pj"]
        .iter()
        .map(|k| v[k].as_f64().unwrap())
        .sum::<f64>();
    assert!((total - parts).abs() < 1e-12 && total > 0.0, "{v}");
    assert_eq!(
        v["horowitz"]["energy_pj"].as_f64(),
        Some(1.1),
        "fp_mult 16 row"
    );
    assert!(
        v["stages"][0]["energy"]["cells"]["$_AND_"]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(!v["stages"][0]["energy"]["provenance"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(v["ops"], 4096);
}

#[test]
fn csv_rows_parse_with_one_total() {
    let out = ok(&[
        "energy",
        "lmul",
        "--format",
        "bf16",
        "--ops",
        "4096",
        "--workload",
        "dot:64",
        "--csv",
    ]);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 3, "multiplier, accumulator, total");
    let stage = header.iter().position(|h| h == "stage").unwrap();
    let total = header.iter().position(|h| h == "total_pj").unwrap();
    assert_eq!(&rows[2][stage], "total");
    let sum: f64 = rows[..2]
        .iter()
        .map(|r| r[total].parse::<f64>().unwrap())
        .sum();
    let t: f64 = rows[2][total].parse().unwrap();
    assert!((sum - t).abs() < 1e-9 * t.max(1.0));
}

#[test]
fn a_matrix_product_is_extrapolated_from_its_dot_products() {
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "energy",
        "fp16mac",
        "--workload",
        "matmul:4x64x8",
        "--ops",
        "4096",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["workload_ops"].as_f64(), Some(2048.0));
    let per = v["total_pj"].as_f64().unwrap();
    assert!((v["workload_total_pj"].as_f64().unwrap() - 2048.0 * per).abs() < 1e-9 * per);
}

#[test]
fn the_table_estimator_alone_and_its_missing_rows() {
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "energy",
        "lmul",
        "--format",
        "fp32",
        "--tech",
        "horowitz-45nm",
        "--workload",
        "dot:16",
        "--json",
    ]))
    .unwrap();
    // int_add 32 + fp_add 32 from sim/data/horowitz45.csv.
    assert!(
        (v["energy_pj"].as_f64().unwrap() - 1.0).abs() < 1e-12,
        "{v}"
    );
    let e = err(&[
        "energy",
        "fpmul",
        "--format",
        "e4m3",
        "--tech",
        "horowitz-45nm",
    ]);
    assert!(e.contains("no e4m3 multiply"), "{e}");
    let e = err(&["energy", "bitmod", "--tech", "horowitz-45nm"]);
    assert!(e.contains("no counterpart"), "{e}");
}

#[test]
fn liberty_mode_from_the_command_line() {
    let lib = fixture();
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "energy",
        "lmul",
        "--format",
        "e5m2",
        "--liberty",
        &lib,
        "--ops",
        "2048",
        "--json",
    ]))
    .unwrap();
    assert!(v["tech"].as_str().unwrap().starts_with("liberty:sky130"));
    let cells = v["stages"][0]["energy"]["cells"].as_object().unwrap();
    assert!(cells.keys().all(|k| k.starts_with("sky130_fd_sc_hd__")));
    assert!(v["total_pj"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_inputs_name_the_problem() {
    let dir = std::env::temp_dir().join(format!("pelab-energy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.lib");
    std::fs::write(
        &bad,
        "library (x) {\n  time_unit : \"1ns\";\n  cell (A) {\n    area : 1\n  }\n}\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap();
    let e = err(&["energy", "lmul", "--format", "e4m3", "--liberty", bad]);
    assert!(e.contains("bad.lib:4:") || e.contains("bad.lib:5:"), "{e}");
    let e = err(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--liberty",
        "/no/such.lib",
    ]);
    assert!(e.contains("/no/such.lib"), "{e}");
    let e = err(&["energy", "lmul", "--format", "e4m3", "--workload", "dot:0"]);
    assert!(e.contains("dot:K"), "{e}");
    let e = err(&["energy", "lmul", "--format", "e4m3", "--dist", "cauchy"]);
    assert!(e.contains("gaussian, uniform, loguniform"), "{e}");
    let e = err(&["energy", "lmul", "--format", "e4m3", "--tech", "tsmc5"]);
    assert!(e.contains("generic-45nm, horowitz-45nm"), "{e}");
    let e = err(&["energy", "lmul", "--format", "e3m4"]);
    assert!(e.contains("e3m4"), "{e}");
    let e = err(&["energy", "lmul", "--format", "e4m3", "--ops", "0"]);
    assert!(e.contains("--ops"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn anchors_sit_beside_horowitz() {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["energy", "--anchors", "--ops", "2048", "--json"])).unwrap();
    let rows = v["anchors"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    for r in rows {
        let (g, h) = (
            r["gate_pj"].as_f64().unwrap(),
            r["horowitz_pj"].as_f64().unwrap(),
        );
        assert!((r["ratio"].as_f64().unwrap() - g / h).abs() < 1e-9);
        assert!(g > 0.0, "{r}");
    }
    // Wider operands cost more at gate level, as in the table.
    let g = |op: &str, bits: u64| {
        rows.iter()
            .find(|r| r["operation"] == op && r["bits"] == bits)
            .unwrap()["gate_pj"]
            .as_f64()
            .unwrap()
    };
    assert!(g("int_add", 8) < g("int_add", 16) && g("int_add", 16) < g("int_add", 32));
    assert!(g("int_mult", 8) < g("int_mult", 16) && g("int_mult", 16) < g("int_mult", 32));
    assert!(g("int_add", 32) < g("int_mult", 8));
}
