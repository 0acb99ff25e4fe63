//! `pelab array energy` as a user drives it: the JSON fields and their provenance, the text
//! output, and an error naming the problem for every bad input.

mod common;

use common::{err, ok};
use serde_json::Value;

const INT16_2X2: [&str; 7] = [
    "array", "energy", "int16fma", "--format", "int16", "--array", "2x2",
];

#[test]
fn json_has_both_figures_the_ratio_and_their_provenance() {
    let mut args = INT16_2X2.to_vec();
    args.extend(["--seed", "4", "--freq-ghz", "0.5", "--json"]);
    let v: Value = serde_json::from_str(&ok(&args)).unwrap();
    // The default GEMM: M = 2R, K = 64, N = 2C.
    assert_eq!(
        (&v["gemm"]["m"], &v["gemm"]["k"], &v["gemm"]["n"]),
        (&Value::from(4), &Value::from(64), &Value::from(4))
    );
    for side in ["array", "lone_pe"] {
        let e = &v[side];
        for k in [
            "pj_per_mac",
            "dynamic_pj_per_mac",
            "clock_pj_per_mac",
            "leakage_pj_per_mac",
            "area_um2",
            "utilization",
        ] {
            let x = e[k].as_f64().unwrap_or_else(|| panic!("{side}.{k}"));
            assert!(x.is_finite() && x > 0.0, "{side}.{k} = {x}");
        }
        assert_eq!(e["macs"], Value::from(4 * 64 * 4), "{side}");
        assert!(e["cycles"].as_u64().unwrap() > 0);
        assert_eq!(e["freq_ghz"].as_f64(), Some(0.5));
        assert_eq!(e["tech"], "generic-45nm");
        assert_eq!(e["energy"]["tech"], "generic-45nm");
        let prov: Vec<&str> = e["provenance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(!prov.is_empty());
        let all = prov.join("\n");
        for want in ["generic-45nm", "Nangate", "seed 4", "0.5 GHz", "glitches"] {
            assert!(
                all.contains(want),
                "{side}: provenance lacks {want}:\n{all}"
            );
        }
        assert!(!e["energy"]["provenance"].as_array().unwrap().is_empty());
    }
    assert_eq!(v["lone_pe"]["spec"]["rows"], 1);
    assert_eq!(v["lone_pe"]["spec"]["cols"], 1);
    let (a, l) = (
        v["array"]["pj_per_mac"].as_f64().unwrap(),
        v["lone_pe"]["pj_per_mac"].as_f64().unwrap(),
    );
    let overhead = v["overhead"].as_f64().unwrap();
    assert!((overhead - a / l).abs() < 1e-9, "{overhead} vs {a}/{l}");
    assert!(!v["provenance"].as_array().unwrap().is_empty());
}

#[test]
fn text_names_both_figures_and_the_sources() {
    let out = ok(&INT16_2X2);
    for want in [
        "array 2x2",
        "lone PE (1x1)",
        "overhead",
        "dynamic",
        "clock",
        "leakage",
        "util.",
        "generic-45nm",
        "Nangate",
        "seed 1",
        "1 GHz",
        "glitches",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
}

#[test]
fn bad_inputs_are_refused_with_the_reason() {
    let with = |extra: &[&str]| {
        let mut a = INT16_2X2.to_vec();
        a.extend_from_slice(extra);
        err(&a)
    };
    for f in ["0", "-1", "nan", "inf"] {
        let e = with(&[&format!("--freq-ghz={f}")]);
        assert!(e.contains("freq"), "--freq-ghz {f}: {e}");
    }
    let e = with(&["--freq-ghz", "fast"]);
    assert!(e.contains("fast"), "{e}");
    for g in ["4x64", "4x0x4", "4xAx4", "4x64x4x1"] {
        let e = with(&["--gemm", g]);
        assert!(e.contains(g) && e.contains("MxKxN"), "--gemm {g}: {e}");
    }
    let e = with(&["--count", "0"]);
    assert!(e.contains("--count"), "{e}");
    let e = err(&[
        "array", "energy", "bitmod", "--format", "int4", "--array", "2x2",
    ]);
    assert!(e.contains("bitmod"), "{e}");
    let e = err(&[
        "array", "energy", "lmul", "--format", "e4m3", "--array", "0x2",
    ]);
    assert!(e.contains("0x2") || e.contains("rows"), "{e}");
}
