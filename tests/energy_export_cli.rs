//! `pelab energy --export accelergy|csv`: the Accelergy ERT parses back with the structure
//! Accelergy's ERT reader expects, its figures are the ones `pelab energy --json` prints for
//! the same run, the CSV carries the same entries, and bad requests fail naming what is valid.

mod common;

use common::{err, ok};
use serde_yaml::Value;

/// The small configuration most tests export: the int16fma core (combinational), 4096 MACs.
const RUN: [&str; 4] = ["energy", "int16fma", "--ops", "4096"];

/// [`RUN`] followed by `extra`.
fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    RUN.iter().chain(extra).copied().collect()
}

fn json(extra: &[&str]) -> serde_json::Value {
    let mut args = with(extra);
    args.push("--json");
    serde_json::from_str(&ok(&args)).unwrap()
}

fn yaml(args: &[&str]) -> Value {
    serde_yaml::from_str(&ok(args)).unwrap()
}

fn f(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// Leakage per clock cycle of every stage together, from the JSON measurement.
fn leak_per_cycle(v: &serde_json::Value) -> f64 {
    v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| f(&s["energy"], "leakage_pj") / f(&s["energy"], "cycles_per_op"))
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-30)
}

/// The action `name` of the single table.
fn action<'a>(ert: &'a Value, name: &str) -> &'a Value {
    ert["ERT"]["tables"][0]["actions"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|a| a["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no action {name}"))
}

fn energy(a: &Value) -> f64 {
    a["energy"].as_f64().expect("energy is a number")
}

#[test]
fn accelergy_ert_has_the_reader_structure_and_the_json_figures() {
    let m = json(&[]);
    let ert = yaml(&with(&["--export", "accelergy"]));
    // The layout Accelergy's ERT reader takes: ERT.version, ERT.tables[].name and .actions[]
    // with name, arguments and energy.
    assert_eq!(ert["ERT"]["version"].as_f64(), Some(0.3));
    let tables = ert["ERT"]["tables"].as_sequence().unwrap();
    assert_eq!(tables.len(), 1);
    let t = &tables[0];
    let cfg = &m["config"];
    let name = format!(
        "pelab_int16fma_{}_{}_{}",
        cfg["format"].as_str().unwrap(),
        cfg["policy"].as_str().unwrap(),
        cfg["variant"].as_str().unwrap()
    );
    assert_eq!(t["name"].as_str(), Some(name.as_str()));
    assert_eq!(t["attributes"]["class"].as_str(), Some("int16fma"));
    let op = m["op_name"].as_str().unwrap().to_lowercase();
    let names: Vec<&str> = t["actions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [op.as_str(), "idle", "leak"]);
    for a in t["actions"].as_sequence().unwrap() {
        assert!(a["arguments"].is_null(), "{a:?}");
        assert!(energy(a) >= 0.0);
        assert!(a["unit"].as_str().unwrap().starts_with("pJ/"), "{a:?}");
        let s = &a["source"];
        assert!(s["technology"].as_str().unwrap().contains("generic-45nm"));
        assert!(s["technology"]
            .as_str()
            .unwrap()
            .contains("nangate45_cells.csv"));
        let activity = s["activity"].as_str().unwrap();
        for want in ["gaussian", "elementwise", "seed 1", "4096 operations"] {
            assert!(activity.contains(want), "{want} missing in {activity}");
        }
        assert_eq!(s["frequency_ghz"].as_f64(), Some(1.0));
        assert_eq!(s["caveat"].as_str(), m["caveat"].as_str());
        assert!(!s["technology_detail"].as_sequence().unwrap().is_empty());
    }
    // The operation excludes leakage, which is charged per cycle.
    let mac = energy(action(&ert, &op));
    assert!(close(mac, f(&m, "dynamic_pj") + f(&m, "clock_pj")), "{mac}");
    let leak = energy(action(&ert, "leak"));
    assert!(close(leak, leak_per_cycle(&m)), "{leak}");
    let cpo = f(&m["stages"][0]["energy"], "cycles_per_op");
    assert!(close(mac + leak * cpo, f(&m, "total_pj")));
    // A combinational PE (no flip-flop in its cells) with its inputs held does not switch.
    let cells = m["stages"][0]["energy"]["cells"].as_object().unwrap();
    assert!(cells.keys().all(|k| !k.contains("DFF")), "combinational");
    assert_eq!(energy(action(&ert, "idle")), 0.0);
}

#[test]
fn idle_cycle_of_a_clocked_mac_costs_its_clock() {
    // fp16mac with en = 0 and its operands held: no net switches, every flip-flop is clocked.
    let args = ["energy", "fp16mac", "--ops", "4096"];
    let m: serde_json::Value =
        serde_json::from_str(&ok(&[&args[..], &["--json"]].concat())).unwrap();
    let ert = yaml(&[&args[..], &["--export", "accelergy"]].concat());
    let s = &m["stages"][0]["energy"];
    let clock_per_cycle = f(s, "clock_pj") / f(s, "cycles_per_op");
    let idle = energy(action(&ert, "idle"));
    assert!(clock_per_cycle > 0.0);
    assert!(
        (idle - clock_per_cycle).abs() <= 1e-9 * clock_per_cycle,
        "idle {idle} vs clock {clock_per_cycle}"
    );
    assert!(action(&ert, "idle")["source"]["method"]
        .as_str()
        .unwrap()
        .contains("en = 0"));
}

#[test]
fn leak_is_leakage_power_times_the_clock_period() {
    let at = |f: &str| {
        energy(action(
            &yaml(&with(&["--export", "accelergy", "--freq-ghz", f])),
            "leak",
        ))
    };
    let (fast, slow) = (at("1"), at("0.5"));
    assert!(fast > 0.0);
    assert!(close(slow, 2.0 * fast), "{slow} vs 2 × {fast}");
}

#[test]
fn csv_rows_carry_the_same_entries() {
    let m = json(&[]);
    let ert = yaml(&with(&["--export", "accelergy"]));
    let out = ok(&with(&["--export", "csv"]));
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "component",
            "action",
            "energy_pj",
            "unit",
            "technology",
            "activity",
            "frequency_ghz",
            "source"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let actions = ert["ERT"]["tables"][0]["actions"].as_sequence().unwrap();
    assert_eq!(rows.len(), actions.len());
    let table = ert["ERT"]["tables"][0]["name"].as_str().unwrap();
    for (row, a) in rows.iter().zip(actions) {
        assert_eq!(&row[0], table);
        assert_eq!(&row[1], a["name"].as_str().unwrap());
        assert_eq!(row[2].parse::<f64>().unwrap(), energy(a));
        assert_eq!(&row[3], a["unit"].as_str().unwrap());
        assert_eq!(&row[4], a["source"]["technology"].as_str().unwrap());
        assert_eq!(&row[5], a["source"]["activity"].as_str().unwrap());
        assert_eq!(row[6].parse::<f64>().unwrap(), 1.0);
        assert!(row[7].contains("glitches"), "the caveat: {}", &row[7]);
        assert!(row[7].contains("nangate45_cells.csv"));
    }
    assert!(close(
        rows[0][2].parse().unwrap(),
        f(&m, "dynamic_pj") + f(&m, "clock_pj")
    ));
    assert!(close(rows[2][2].parse().unwrap(), leak_per_cycle(&m)));
}

#[test]
fn output_file_and_liberty_source() {
    let dir = std::env::temp_dir().join(format!("pelab-energy-export-{}", std::process::id()));
    let path = dir.join("sub").join("ert.yaml");
    let lib = format!(
        "{}/sim/tests/data/sky130hd_tt.lib.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let args = [
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--ops",
        "4096",
        "--liberty",
        &lib,
    ];
    let out = ok(&[
        &args[..],
        &["--export", "accelergy", "-o", path.to_str().unwrap()],
    ]
    .concat());
    assert!(out.is_empty(), "nothing on stdout with -o: {out}");
    let ert: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&ok(&[&args[..], &["--json"]].concat())).unwrap();
    let op = action(&ert, "multiply");
    assert!(close(energy(op), f(&m, "dynamic_pj") + f(&m, "clock_pj")));
    let tech = op["source"]["technology"].as_str().unwrap();
    assert!(tech.contains(&lib), "{tech}");
    assert!(tech.contains(m["tech"].as_str().unwrap()), "{tech}");
    assert!(close(energy(action(&ert, "leak")), leak_per_cycle(&m)));
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ert.yaml"], "no temporary file left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_requests_fail_naming_what_is_valid() {
    let e = err(&with(&["--export", "xml"]));
    assert!(e.contains("accelergy") && e.contains("csv"), "{e}");
    let e = err(&with(&["-o", "x.yaml"]));
    assert!(e.contains("--export"), "{e}");
    let e = err(&with(&["--export", "csv", "--json"]));
    assert!(e.contains("--json"), "{e}");
    let e = err(&[
        "energy",
        "lmul",
        "--format",
        "e4m3",
        "--tech",
        "horowitz-45nm",
        "--export",
        "csv",
    ]);
    assert!(e.contains("horowitz-45nm") && e.contains("--export"), "{e}");
}
