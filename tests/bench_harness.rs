//! `pelab bench gates` with the Verilator harness baseline, on small cases as a user runs it:
//! the checksum both sides agreed on equals the one computed here from the specified
//! stimulus and the lmul reference model, every figure is present, positive and consistent
//! with the others, and a bad `--only` names the valid parts.

use pelab_sim::format::{Format, Overflow};
use pelab_testbench::harness::{stimulus, term};
use serde_json::Value;
use std::process::Command;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn harness_rows_carry_checked_consistent_figures() {
    let dir = std::env::temp_dir().join(format!("pelab-bench-harness-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (vectors, streams, cycles) = (3000u64, 520u64, 6u64);
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["bench", "gates", "--only", "lmul-bf16,array", "--reps", "1"])
        .args(["--vectors", &vectors.to_string()])
        .args([
            "--streams",
            &streams.to_string(),
            "--cycles",
            &cycles.to_string(),
        ])
        .args(["--array-size", "1x1", "--json"])
        .current_dir(&dir)
        .output()
        .expect("run pelab");
    assert!(
        o.status.success(),
        "pelab bench gates failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    let cpu = &v["cpu"];
    let (cores, mhz, lanes) = (
        cpu["cores"].as_f64().unwrap(),
        cpu["mhz"].as_f64().unwrap(),
        cpu["lanes"].as_f64().unwrap(),
    );
    assert!(
        cores >= 1.0 && mhz > 0.0 && [64.0, 256.0, 512.0].contains(&lanes),
        "{cpu}"
    );
    assert!(!cpu["name"].as_str().unwrap().is_empty());
    let peak = cores * mhz * 1e6 * lanes;
    assert!(close(
        cpu["peak_cell_evals_per_sec"].as_f64().unwrap(),
        peak
    ));
    // Skipped parts are absent.
    assert!(v["simulators"].as_array().unwrap().is_empty());
    assert!(v["exhaustive"].is_null() && v["unit_delay"].is_null() && v["liberty_delay"].is_null());

    let rows = v["harness"].as_array().expect("harness rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (lmul, array) = (&rows[0], &rows[1]);
    assert_eq!(lmul["name"], "lmul bf16");
    assert_eq!(lmul["clocked"], false);
    assert_eq!(lmul["vectors"].as_u64(), Some(vectors));
    assert_eq!(array["name"], "array lmul e4m3 os 1x1");
    assert_eq!(array["clocked"], true);
    assert_eq!(array["streams"].as_u64(), Some(streams));
    assert_eq!(array["vectors"].as_u64(), Some(streams * cycles));
    assert!(array["flip_flops"].as_u64().unwrap() > 0);

    // The checksum of lmul bf16 from the specification and the reference model (ports a, b
    // of 16 bits, output y).
    let seed = lmul["seed"].as_u64().unwrap();
    let want = (0..vectors).fold(0u64, |sum, t| {
        let a = stimulus(seed, 0, t, 0, 16);
        let b = stimulus(seed, 0, t, 1, 16);
        let y = pelab_sim::lmul::lmul(&Format::BF16, a, b, Overflow::Saturate);
        sum.wrapping_add(term(y, 0, t))
    });
    assert_eq!(lmul["checksum"], format!("{want:#018x}"));

    for r in rows {
        assert_eq!(r["checksums_equal"], true);
        assert!(r["verilator_command"]
            .as_str()
            .unwrap()
            .contains("--cc --exe --build -O3"));
        let f = |k: &str| {
            let x = r[k].as_f64().unwrap_or_else(|| panic!("no {k} in {r}"));
            assert!(x > 0.0 && x.is_finite(), "{k} = {x} in {r}");
            x
        };
        let n = f("vectors");
        let cells = f("cells");
        f("compile_secs");
        for (secs, rate) in [
            ("harness_1p_secs", "harness_1p_vectors_per_sec"),
            ("harness_np_secs", "harness_np_vectors_per_sec"),
            ("engine_1t_secs", "engine_1t_vectors_per_sec"),
            ("engine_nt_secs", "engine_nt_vectors_per_sec"),
        ] {
            assert!(close(f(rate), n / f(secs)), "{rate} in {r}");
        }
        assert!(f("harness_np_wall_secs") > 0.0);
        let (h1, hn, e1, en) = (
            f("harness_1p_secs"),
            f("harness_np_secs"),
            f("engine_1t_secs"),
            f("engine_nt_secs"),
        );
        assert!(close(f("ratio_engine_1t_harness_1p"), h1 / e1));
        assert!(close(f("ratio_engine_nt_harness_1p"), h1 / en));
        assert!(close(f("ratio_engine_nt_harness_np"), hn / en));
        assert!(close(f("cell_evals_per_sec_1t"), cells * n / e1));
        assert!(close(f("limit_pct_nt"), 100.0 * cells * n / en / peak));
        assert_eq!(
            r["harness_processes"].as_u64(),
            Some(2.max(v["threads"].as_u64().unwrap()))
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_part_names_the_valid_ones() {
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["bench", "gates", "--only", "lmul-bf16,nonsense"])
        .output()
        .expect("run pelab");
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("nonsense") && e.contains("fpmul-bf16") && e.contains("unit-delay"),
        "{e}"
    );
}
