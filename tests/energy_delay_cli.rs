//! `pelab energy --delay`: the unit-delay and Liberty-delay figures beside the zero-delay ones
//! of the same run, the glitch factor as their ratio, the parts table, the provenance and
//! caveat of the model, the delay models and combinations that are refused; the activity files
//! (`--activity-out` SAIF against the `--vcd` waveforms of the whole run, counted here) and
//! `--vectors`.

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
fn delay_models_and_combinations_that_are_refused() {
    let e = err(&["energy", "lmul", "--format", "e4m3", "--delay", "liberty"]);
    assert!(e.contains("--liberty FILE"), "{e}");
    let e = err(&["energy", "lmul", "--format", "e4m3", "--delay", "fast"]);
    assert!(
        e.contains("'fast'") && e.contains("liberty, unit, zero"),
        "{e}"
    );
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
    let e = err(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--workload",
        "dot:4",
        "--ops",
        "64",
        "--activity-out",
        "/nonexistent/x.saif",
    ]);
    assert!(e.contains("--workload elementwise"), "{e}");
    let e = err(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--vcd",
        "x.vcd",
        "--vcd-window",
        "9:3",
    ]);
    assert!(e.contains("A:B"), "{e}");
}

const SKY130: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/sim/tests/data/sky130hd_tt.lib.gz"
);

#[test]
fn liberty_delay_json_carries_the_delays_beside_the_zero_delay_run() {
    let base = [
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--ops",
        "4096",
        "--liberty",
        SKY130,
        "--json",
    ];
    let zero = json(&base);
    let lib = json(&[&base[..], &["--delay", "liberty"]].concat());
    let coarse = json(
        &[
            &base[..],
            &["--delay", "liberty", "--delay-resolution-ps", "20"],
        ]
        .concat(),
    );
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
    assert_eq!(lib["delay"], "liberty");
    assert_eq!(f(&lib, "toggles_zero_delay"), f(&zero, "toggles_per_op"));
    let g = f(&lib, "glitch_factor");
    assert!(g > 1.0, "{g}");
    assert!(f(&lib, "dynamic_pj") > f(&zero, "dynamic_pj"));
    assert_eq!(f(&lib, "area_um2"), f(&zero, "area_um2"));
    let d = &lib["stages"][0]["delays"];
    assert_eq!(d["resolution_ps"], 1);
    assert_eq!(d["input_slew_ps"], 50.0);
    let (lo, hi) = (f(d, "min_delay_ps"), f(d, "max_delay_ps"));
    assert!(lo > 10.0 && hi > lo && hi < 5000.0, "{d}");
    assert!(f(d, "settle_seen_ps") <= f(d, "settle_bound_ps") && f(d, "settle_bound_ps") > hi);
    // A coarser quantum: the same cells, delays rounded to 20 ps, the same zero-delay count.
    let dc = &coarse["stages"][0]["delays"];
    assert_eq!(dc["resolution_ps"], 20);
    assert_eq!(f(dc, "max_delay_ps"), hi);
    assert_eq!(f(&coarse, "toggles_zero_delay"), f(&zero, "toggles_per_op"));
    let prov = lib["stages"][0]["energy"]["provenance"].to_string();
    assert!(prov.contains("Liberty delays"), "{prov}");
    assert!(lib["caveat"].as_str().unwrap().contains("Liberty-delay"));
    assert!(lib.get("glitch_by_part").is_none());
    let text = ok(&[&base[..8], &["--delay", "liberty"]].concat());
    for want in [
        "liberty delay:",
        "glitch factor",
        "cell delays of",
        "1 ps quantum",
    ] {
        assert!(text.contains(want), "missing {want}:\n{text}");
    }
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-delaycli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// SAIF nets: name -> (T0, T1, TC, IG), and the DURATION.
fn saif(text: &str) -> (u64, std::collections::HashMap<String, [u64; 4]>) {
    let num = |s: &str, key: &str| -> u64 {
        let i = s.find(&format!("({key} ")).unwrap() + key.len() + 2;
        s[i..].split(')').next().unwrap().trim().parse().unwrap()
    };
    let duration = num(text, "DURATION");
    let body = &text[text.find("(NET").unwrap()..];
    let mut nets = std::collections::HashMap::new();
    for block in body.split("\n    (").skip(1) {
        let name = block.lines().next().unwrap().trim().replace('\\', "");
        nets.insert(
            name,
            [
                num(block, "T0"),
                num(block, "T1"),
                num(block, "TC"),
                num(block, "IG"),
            ],
        );
    }
    (duration, nets)
}

/// The VCD's scalars by name: changes (time, value).
fn vcd_scalars(path: &std::path::Path) -> std::collections::HashMap<String, Vec<(u64, bool)>> {
    let f = std::fs::File::open(path).unwrap();
    let mut p = vcd::Parser::new(std::io::BufReader::new(f));
    let h = p.parse_header().unwrap();
    let mut names = std::collections::HashMap::new();
    for i in h
        .find_scope(&["pelab_lmul_e4m3_sat".to_string()])
        .unwrap()
        .items
        .iter()
    {
        if let vcd::ScopeItem::Var(v) = i {
            if v.size == 1 {
                let full = match &v.index {
                    Some(ix) => format!("{}{ix}", v.reference),
                    None => v.reference.clone(),
                };
                names.insert(v.code, full);
            }
        }
    }
    let mut out: std::collections::HashMap<String, Vec<(u64, bool)>> = Default::default();
    let mut now = 0;
    for c in p {
        match c.unwrap() {
            vcd::Command::Timestamp(t) => now = t,
            vcd::Command::ChangeScalar(id, v) => {
                if let Some(n) = names.get(&id) {
                    out.entry(n.clone())
                        .or_default()
                        .push((now, v == vcd::Value::V1));
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn saif_counts_as_the_whole_run_vcd_and_adds_up() {
    let d = dir("saif");
    let (saif_path, vcd_path) = (d.join("a.saif"), d.join("a.vcd"));
    let ops = 700u64;
    let out = json(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--ops",
        &ops.to_string(),
        "--liberty",
        SKY130,
        "--delay",
        "liberty",
        "--json",
        "--activity-out",
        saif_path.to_str().unwrap(),
        "--vcd",
        vcd_path.to_str().unwrap(),
        "--vcd-window",
        &format!("0:{ops}"),
    ]);
    let text = std::fs::read_to_string(&saif_path).unwrap();
    assert!(text.contains("(SAIFVERSION \"2.0\")") && text.contains("(TIMESCALE 1 ps)"));
    let (duration, nets) = saif(&text);
    let bound = out["stages"][0]["delays"]["settle_bound_ps"]
        .as_f64()
        .unwrap() as u64;
    // One row lasts the clock period (1 GHz) or, when longer, the longest path plus 1 ps.
    let period = 1000u64.max(bound + 1);
    assert_eq!(duration, (ops - 1) * period);
    let tc: u64 = nets.values().map(|n| n[2]).sum();
    let per_op = out["toggles_per_op"].as_f64().unwrap();
    assert!(
        (tc as f64 - per_op * ops as f64).abs() < 1e-6 * tc as f64,
        "{tc} vs {per_op}"
    );
    for (name, n) in &nets {
        assert_eq!(n[0] + n[1], duration, "{name}: T0 + T1");
        assert_eq!(n[3], 0, "{name}: IG");
    }
    // The VCD of every row, counted here: each net's changes from row 1 on and its time at 1.
    let waves = vcd_scalars(&vcd_path);
    let mut checked = 0;
    for (name, n) in &nets {
        let ch = &waves[name];
        let (mut changes, mut high, mut at, mut v) = (0u64, 0u64, period, ch[0].1);
        for &(t, x) in &ch[1..] {
            if t < period {
                v = x;
                continue;
            }
            if x != v {
                changes += 1;
                if v {
                    high += t - at;
                }
                at = t;
                v = x;
            }
        }
        if v {
            high += ops * period - at;
        }
        assert_eq!((changes, high), (n[2], n[1]), "{name}: TC, T1 from the VCD");
        checked += 1;
    }
    assert_eq!(checked, nets.len());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn vectors_drive_the_energy_run() {
    let d = dir("vectors");
    let file = d.join("v.txt");
    ok(&[
        "vectors",
        "lmul",
        "--format",
        "e4m3",
        "--count",
        "300",
        "-o",
        file.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let run = |path: &std::path::Path| {
        json(&[
            "energy",
            "lmul",
            "--format",
            "e4m3",
            "--vectors",
            path.to_str().unwrap(),
            "--json",
        ])
    };
    let v = run(&file);
    assert_eq!(v["ops"].as_u64().unwrap(), rows.len() as u64);
    assert!(v["toggles_per_op"].as_f64().unwrap() > 0.0);
    // The same operation on every row: nothing toggles.
    let header: String = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let same = header
        .replace(&format!("# rows={}", rows.len()), "# rows=50")
        .replace(&format!("# count={}", rows.len()), "# count=50")
        + &format!("{}\n", rows[7]).repeat(50);
    let flat = d.join("flat.txt");
    std::fs::write(&flat, same).unwrap();
    let f = run(&flat);
    assert_eq!(f["ops"].as_u64().unwrap(), 50);
    assert_eq!(f["toggles_per_op"].as_f64().unwrap(), 0.0);
    let e = err(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--vectors",
        "/nonexistent.txt",
    ]);
    assert!(e.contains("/nonexistent.txt"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
