//! `pelab energy --delay`: the unit-delay figures beside the zero-delay ones of the same run,
//! the glitch factor as their ratio, the parts table, the provenance and caveat of the model,
//! and the delay models that are refused.

mod common;

use common::{err, ok};

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).unwrap()
}

#[test]
fn unit_delay_json_carries_glitches_beside_the_zero_delay_run() {
    let base = [
        "energy", "fpmul", "--format", "e4m3", "--ops", "4096", "--json",
    ];
    let zero = json(&base);
    let unit = json(&[&base[..], &["--delay", "unit"]].concat());
    assert_eq!(zero["delay"], "zero");
    assert!(zero.get("glitch_factor").is_none() && zero.get("glitch_by_part").is_none());
    assert_eq!(unit["delay"], "unit");
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    // The zero-delay toggles of the unit-delay run are the zero-delay run's toggles.
    assert_eq!(f(&unit, "toggles_zero_delay"), f(&zero, "toggles_per_op"));
    let g = f(&unit, "glitch_factor");
    assert!(
        (g - f(&unit, "toggles_per_op") / f(&unit, "toggles_zero_delay")).abs() < 1e-12,
        "{unit}"
    );
    // A multiplier glitches: more toggles, more dynamic energy, the same area and leakage.
    assert!(g > 1.0, "{g}");
    assert!(f(&unit, "dynamic_pj") > f(&zero, "dynamic_pj"));
    assert_eq!(f(&unit, "area_um2"), f(&zero, "area_um2"));
    assert_eq!(f(&unit, "leakage_pj"), f(&zero, "leakage_pj"));
    let prov = |v: &serde_json::Value| v["stages"][0]["energy"]["provenance"].to_string();
    assert!(prov(&unit).contains("unit delay") && prov(&zero).contains("zero delay"));
    assert!(unit["caveat"].as_str().unwrap().contains("unit-delay"));
    assert!(zero["caveat"].as_str().unwrap().contains("zero-delay"));
    // Parts: every cell of the module-by-module netlist in exactly one part.
    let stage = &unit["glitch_by_part"][0];
    let parts = stage["parts"].as_array().unwrap();
    assert!(parts.len() > 1, "{stage}");
    let cells: u64 = parts.iter().map(|p| p["cells"].as_u64().unwrap()).sum();
    assert_eq!(cells, stage["cells"].as_u64().unwrap());
    assert!(parts.iter().any(|p| p["part"] == "front.mul"), "{stage}");
    let t: f64 = parts.iter().map(|p| f(p, "toggles_per_op")).sum();
    let z: f64 = parts.iter().map(|p| f(p, "toggles_zero_delay")).sum();
    assert!((t / z - f(stage, "glitch_factor")).abs() < 1e-9, "{stage}");
}

#[test]
fn unit_delay_text_prints_the_factor_and_the_parts() {
    let out = ok(&[
        "energy", "lmul", "--format", "e4m3", "--ops", "4096", "--delay", "unit",
    ]);
    for want in [
        "glitch factor",
        "glitch factor by part",
        "delay model: unit delay",
        "unit-delay simulation",
        "not with the cells' real delays",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
}

#[test]
fn delay_models_not_implemented_are_refused() {
    let e = err(&["energy", "lmul", "--format", "e4m3", "--delay", "liberty"]);
    assert!(
        e.contains("not implemented") && e.contains("unit") && e.contains("zero"),
        "{e}"
    );
    let e = err(&["energy", "lmul", "--format", "e4m3", "--delay", "fast"]);
    assert!(e.contains("'fast'") && e.contains("unit, zero"), "{e}");
    let e = err(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--delay",
        "unit",
        "--tech",
        "horowitz-45nm",
    ]);
    assert!(e.contains("--delay unit"), "{e}");
}
