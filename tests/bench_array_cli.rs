//! `pelab bench array --quick` as a user drives it: every figure present and positive, the
//! model's C checked against the reference GEMM in the run, and the derived figures (MACs,
//! rates, ratios, verdicts) consistent with the shapes and times reported.

use serde_json::Value;
use std::process::Command;

/// Relative closeness of two positive figures.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// `MxKxN` as three numbers.
fn dims(s: &str) -> (f64, f64, f64) {
    let v: Vec<f64> = s.split('x').map(|x| x.parse().unwrap()).collect();
    assert_eq!(v.len(), 3, "GEMM shape {s}");
    (v[0], v[1], v[2])
}

#[test]
fn quick_json_has_checked_positive_consistent_figures() {
    // The bench writes its Verilator work under out/bench/array of its working directory.
    let dir = std::env::temp_dir().join(format!("pelab-bench-array-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["bench", "array", "--quick", "--reps", "1", "--json"])
        .current_dir(&dir)
        .output()
        .expect("run pelab");
    assert!(
        o.status.success(),
        "pelab bench array failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["reps"], 1);
    assert_eq!(v["quick"], true);

    let model = v["model"].as_array().expect("model rows");
    let cells: Vec<&str> = model.iter().map(|r| r["cell"].as_str().unwrap()).collect();
    assert_eq!(model.len(), 3, "{cells:?}");
    assert!(cells[0].starts_with("int16fma") && cells[1].starts_with("int16fma"));
    assert!(cells[2].starts_with("lmul e4m3"), "{cells:?}");
    for r in model {
        assert_eq!(
            r["checked"], true,
            "model C not checked against the reference: {r}"
        );
        assert_eq!(r["dataflow"], "os");
        let (m, k, n) = dims(r["gemm"].as_str().unwrap());
        let macs = r["macs"].as_f64().unwrap();
        assert_eq!(macs, m * k * n, "{r}");
        let f = |key: &str| {
            let x = r[key].as_f64().unwrap_or_else(|| panic!("no {key} in {r}"));
            assert!(x > 0.0 && x.is_finite(), "{key} = {x} in {r}");
            x
        };
        let (ms, ns) = (f("model_secs"), f("naive_secs"));
        assert!(close(f("model_macs_per_sec"), macs / ms), "{r}");
        assert!(close(f("naive_macs_per_sec"), macs / ns), "{r}");
        assert!(close(f("ratio"), ms / ns), "{r}");
        // The model clocks at least K' steps plus the skew of the array per GEMM.
        let side: f64 = r["array"]
            .as_str()
            .unwrap()
            .split('x')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(f("cycles") >= k / 2.0 + 2.0 * side - 2.0, "{r}");
        let target = f("target_ratio");
        assert_eq!(r["pass"], r["ratio"].as_f64().unwrap() <= target, "{r}");
    }

    let g = &v["gates"];
    let module = g["module"].as_str().unwrap();
    let netlist = std::fs::read_to_string(g["netlist"].as_str().unwrap()).expect("netlist.v");
    assert!(netlist.contains(&format!("module {module}(")), "{module}");
    assert!(g["cells"].as_u64().unwrap() > 0);
    let cycles = g["cycles"].as_f64().unwrap();
    let (m, k, n) = dims(g["gemm"].as_str().unwrap());
    assert!(cycles > k / 2.0 && cycles >= m.min(n), "{g}");
    let eng = g["engine_secs"].as_f64().unwrap();
    assert!(eng > 0.0);
    assert!(close(
        g["engine_cycles_per_sec"].as_f64().unwrap(),
        cycles / eng
    ));
    assert!(
        g["verilator_error"].is_null(),
        "Verilator baseline did not run: {}",
        g["verilator_error"]
    );
    let ver = &g["verilator"];
    let vs = ver["run_secs"].as_f64().expect("Verilator run time");
    assert!(vs > 0.0 && ver["compile_secs"].as_f64().unwrap() > 0.0);
    assert!(close(ver["cycles_per_sec"].as_f64().unwrap(), cycles / vs));
    assert!(close(g["ratio"].as_f64().unwrap(), vs / eng));
    let _ = std::fs::remove_dir_all(&dir);
}
