//! Energy per operation: the model against hand computations from the raw Nangate figures,
//! every PE configuration through `measure`, Liberty mode on the SKY130 fixture, the errors a
//! missing figure must raise, and the streamed exhaustive check on gates.

use pelab_hdl::RtlConfig;
use pelab_sim::energy::{energy, Activity, Generic45};
use pelab_sim::netlist::Netlist;
use pelab_testbench::codec::{Dist, Shape};
use pelab_testbench::energy::{measure, read_library, Request, Tech};
use pelab_testbench::gates::{check_exhaustive, run_gates};
use pelab_testbench::vectors::{Field, Layout, Timing};
use std::path::PathBuf;

/// The raw Nangate row of `cell`, read here independently of the model's own loader.
fn nangate(cell: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sim/data/nangate45_cells.csv"),
    )
    .unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("{cell},")))
        .unwrap_or_else(|| panic!("no {cell}"))
        .split(',')
        .map(String::from)
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap()
}

fn cap(row: &[String], pin: &str) -> f64 {
    row[4]
        .split_whitespace()
        .find_map(|c| c.strip_prefix(&format!("{pin}=")))
        .map(num)
        .unwrap()
}

fn stream_layout(ins: &[(&str, u32)], outs: &[(&str, u32)], latency: u32) -> Layout {
    let mut fields: Vec<Field> = ins.iter().map(|(n, w)| Field::input(n, *w)).collect();
    fields.extend(outs.iter().map(|(n, w)| Field::output(n, *w)));
    Layout {
        fields,
        timing: Timing::Stream { latency },
        care: false,
        restart: Vec::new(),
    }
}

/// y = !(a & b) through an inverter: n = NAND(a, b), y = NOT(n).
const NAND_NOT: &str = r#"{"modules": {"t": {
  "ports": {"a": {"direction": "input", "bits": [2]}, "b": {"direction": "input", "bits": [3]},
            "y": {"direction": "output", "bits": [5]}},
  "cells": {
    "g1": {"type": "$_NAND_", "port_directions": {"A": "input", "B": "input", "Y": "output"},
           "connections": {"A": [2], "B": [3], "Y": [4]}},
    "g2": {"type": "$_NOT_", "port_directions": {"A": "input", "Y": "output"},
           "connections": {"A": [4], "Y": [5]}}},
  "netnames": {}}}}"#;

#[test]
fn combinational_energy_matches_a_hand_computation() {
    let net = Netlist::from_yosys_json(NAND_NOT, "t", "nand_not.json", None).unwrap();
    let layout = stream_layout(&[("a", 1), ("b", 1)], &[], 0);
    // a b: 00 11 10 11 01 11 -> n = 1 0 1 0 1 0: 5 toggles of n and of y.
    let rows: Vec<Vec<u64>> = [(0, 0), (1, 1), (1, 0), (1, 1), (0, 1), (1, 1)]
        .iter()
        .map(|&(a, b)| vec![a, b])
        .collect();
    let (_, act) = run_gates(&net, &layout, &rows, false, true).unwrap();
    let by_kind = |k: &str| {
        net.counted
            .iter()
            .zip(&act.toggles)
            .find(|((_, c), _)| net.cells[*c].kind == k)
            .map(|(_, t)| *t)
            .unwrap()
    };
    assert_eq!((by_kind("$_NAND_"), by_kind("$_NOT_")), (5, 5));
    let e = energy(
        &net,
        &Generic45::load().unwrap(),
        &Activity {
            toggles: &act.toggles,
            lane_cycles: 0,
            ops: 6.0,
            cycles_per_op: 1.0,
        },
        1.0,
    )
    .unwrap();
    let (nand, inv, dff) = (nangate("NAND2_X1"), nangate("INV_X1"), nangate("DFF_X1"));
    let v2 = 1.1 * 1.1;
    // NAND drives the inverter's A pin (+0.2 fF wire); the inverter drives the port (DFF D).
    let e_nand = (num(&nand[5]) + num(&nand[6])) / 2.0 + 0.5 * (cap(&inv, "A") + 0.2) * v2;
    let e_inv = (num(&inv[5]) + num(&inv[6])) / 2.0 + 0.5 * cap(&dff, "D") * v2;
    let dynamic = 5.0 * (e_nand + e_inv) / 6.0 * 1e-3;
    let leakage = (num(&nand[3]) + num(&inv[3])) * 1e-6;
    assert!(
        (e.dynamic_pj - dynamic).abs() < 1e-12,
        "{} vs {dynamic}",
        e.dynamic_pj
    );
    assert!((e.leakage_pj - leakage).abs() < 1e-12);
    assert_eq!(e.clock_pj, 0.0);
    assert!((e.area_um2 - num(&nand[2]) - num(&inv[2])).abs() < 1e-12);
}

/// q <= d, y = q.
const REG: &str = r#"{"modules": {"r": {
  "ports": {"clock": {"direction": "input", "bits": [2]}, "d": {"direction": "input", "bits": [3]},
            "q": {"direction": "output", "bits": [4]}},
  "cells": {
    "f": {"type": "$_DFF_P_", "port_directions": {"C": "input", "D": "input", "Q": "output"},
          "connections": {"C": [2], "D": [3], "Q": [4]}}},
  "netnames": {}}}}"#;

#[test]
fn clock_energy_is_paid_every_cycle() {
    let net = Netlist::from_yosys_json(REG, "r", "reg.json", None).unwrap();
    let layout = stream_layout(&[("d", 1)], &[], 1);
    let rows: Vec<Vec<u64>> = [0u64, 1, 1, 0, 1, 1, 1, 0]
        .iter()
        .map(|&d| vec![d])
        .collect();
    let (_, act) = run_gates(&net, &layout, &rows, false, true).unwrap();
    let tech = Generic45::load().unwrap();
    let e = energy(&net, &tech, &act.activity(rows.len() as f64, 1.0), 1.0).unwrap();
    let dff = nangate("DFF_X1");
    let clock = num(&dff[7]) + num(&dff[8]) + cap(&dff, "CK") * 1.21;
    assert_eq!(act.lane_cycles, rows.len() as u64);
    assert!((e.clock_pj - clock * 1e-3).abs() < 1e-12);
    // Constant data: the flop leaves its power-up 0 once, then never toggles, however the
    // stream is spread over lanes.
    let still: Vec<Vec<u64>> = vec![vec![1]; 64];
    let (_, act) = run_gates(&net, &layout, &still, false, true).unwrap();
    assert_eq!(act.toggles, vec![1]);
    let long: Vec<Vec<u64>> = vec![vec![1]; 100_000];
    let (_, act) = run_gates(&net, &layout, &long, false, true).unwrap();
    assert_eq!(act.toggles, vec![1]);
    assert_eq!(act.lane_cycles, 100_000);
}

fn request(ops: u64, shape: Shape) -> Request {
    Request {
        tech: Tech::Generic45,
        dist: Dist::Gaussian,
        shape,
        ops,
        seed: 3,
        freq_ghz: 1.0,
        wire_ff: 0.5,
    }
}

#[test]
fn every_configuration_has_an_energy_per_operation() {
    let mut n = 0;
    for pe in pelab_testbench::pes() {
        let rtl = pe.rtl;
        for cfg in rtl.configs() {
            let m = match measure(pe, &cfg, &request(2048, Shape::Elementwise), None) {
                Ok(m) => m,
                Err(e) if e.0.contains("has no energy workload") => {
                    // Only helper blocks without operations of their own may lack one.
                    assert_eq!(rtl.id(), "fp32acc", "{e}");
                    continue;
                }
                Err(e) => panic!("{} {cfg:?}: {e}", rtl.id()),
            };
            assert!(
                m.total_pj > 0.0 && m.dynamic_pj > 0.0,
                "{} {cfg:?}",
                rtl.id()
            );
            assert!(m.area_um2 > 0.0 && m.toggles_per_op > 0.0);
            assert_eq!(
                m.clock_pj > 0.0,
                cfg.pipeline > 0 || m.stages[0].energy.cells.keys().any(|k| k.contains("DFF"))
            );
            n += 1;
        }
    }
    println!("{n} configurations measured");
    assert!(n >= 80, "{n}");
}

#[test]
fn lmul_costs_less_than_the_exact_multiply_in_every_format() {
    for f in ["e4m3", "e5m2", "bf16", "fp16", "fp32"] {
        let l = pelab_testbench::pe("lmul").unwrap();
        let p = pelab_testbench::pe("fpmul").unwrap();
        let el = measure(
            l,
            &RtlConfig::new(f, "ieee", 0),
            &request(8192, Shape::Elementwise),
            None,
        )
        .unwrap();
        let ep = measure(
            p,
            &RtlConfig::new(f, "ieee", 0),
            &request(8192, Shape::Elementwise),
            None,
        )
        .unwrap();
        println!(
            "{f}: lmul {:.4} pJ, fpmul {:.4} pJ",
            el.total_pj, ep.total_pj
        );
        assert!(el.total_pj < ep.total_pj, "{f}");
        // A dot product adds the same FP32 accumulator behind both.
        let dl = measure(
            l,
            &RtlConfig::new(f, "ieee", 0),
            &request(8192, Shape::Dot { k: 256 }),
            None,
        )
        .unwrap();
        assert_eq!(dl.stages.len(), 2);
        assert_eq!(dl.stages[1].pe, "fp32acc");
        assert!((dl.stages[0].energy.total_pj - el.total_pj).abs() < 1e-9 * el.total_pj.max(1.0));
        // 8192 products in dot products of 256: a reset, 32 x 256 accumulations, 31 clears.
        assert_eq!(dl.stages[1].rows, 1 + 8192 + 31);
    }
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sim/tests/data/sky130hd_tt.lib.gz")
}

#[test]
fn liberty_mode_prices_sky130_cells_from_the_file() {
    let lib = read_library(&fixture()).unwrap();
    let mut req = request(4096, Shape::Elementwise);
    req.tech = Tech::Liberty(fixture());
    for (pe, cfg) in [
        ("lmul", RtlConfig::new("e4m3", "saturate", 0)),
        ("fpmul", RtlConfig::new("bf16", "ieee", 0)),
        ("fp16mac", RtlConfig::new("fp16", "ieee", 0)),
    ] {
        let m = measure(pelab_testbench::pe(pe).unwrap(), &cfg, &req, Some(&lib)).unwrap();
        println!("{pe} {}: {:.4} pJ on sky130", cfg.format, m.total_pj);
        assert!(m.tech.starts_with("liberty:sky130"), "{}", m.tech);
        let cells = &m.stages[0].energy.cells;
        assert!(
            cells.keys().all(|k| k.starts_with("sky130_fd_sc_hd__")),
            "{cells:?}"
        );
        // Area from the file: the sum of the cells' `area` attributes.
        let area: f64 = cells
            .iter()
            .map(|(k, c)| lib.cells[k].area * c.count as f64)
            .sum();
        assert!((area - m.area_um2).abs() < 1e-6 * area);
        assert!(m.dynamic_pj > 0.0 && m.leakage_pj > 0.0);
        assert_eq!(m.clock_pj > 0.0, pe == "fp16mac");
    }
}

/// A small library (inverter, buffer, NAND2, NOR2, a D flip-flop); `drop` removes one
/// figure of the NAND2.
fn tiny_lib(drop: &str) -> String {
    let power = |rel: &str| {
        format!(
            "internal_power () {{ related_pin : \"{rel}\"; rise_power (scalar) {{ values \
             (\"0.002\"); }} fall_power (scalar) {{ values (\"0.001\"); }} }}"
        )
    };
    let comb = |name: &str, ins: &[&str], func: &str, leak: bool, pw: bool| {
        let mut c = format!("  cell ({name}) {{\n    area : {};\n", ins.len() + 1);
        if leak {
            c.push_str("    cell_leakage_power : 0.5;\n");
        }
        for i in ins {
            c.push_str(&format!(
                "    pin ({i}) {{ direction : input; capacitance : 0.001; }}\n"
            ));
        }
        c.push_str(&format!(
            "    pin (Y) {{ direction : output; function : \"{func}\"; {} }}\n  }}\n",
            if pw { power(ins[0]) } else { String::new() }
        ));
        c
    };
    let mut lib = String::from(
        "library (tiny) {\n  time_unit : \"1ns\";\n  voltage_unit : \"1V\";\n  \
         leakage_power_unit : \"1nW\";\n  capacitive_load_unit (1, pf);\n  \
         nom_voltage : 1.0;\n",
    );
    lib += &comb("INVX", &["A"], "!A", true, true);
    lib += &comb("BUFX", &["A"], "A", true, true);
    lib += &comb("NORX", &["A", "B"], "!(A|B)", true, true);
    lib += &comb(
        "NANDX",
        &["A", "B"],
        "!(A&B)",
        drop != "leakage",
        drop != "power",
    );
    lib += "  cell (DFFX) {\n    area : 4;\n    cell_leakage_power : 1;\n    \
            ff (IQ, IQN) { clocked_on : \"CK\"; next_state : \"D\"; }\n    \
            pin (D) { direction : input; capacitance : 0.001; }\n    \
            pin (CK) { direction : input; clock : true; capacitance : 0.001;\n      \
            internal_power () { rise_power (scalar) { values (\"0.001\"); } \
            fall_power (scalar) { values (\"0.001\"); } } }\n    \
            pin (Q) { direction : output; function : \"IQ\";\n      internal_power () { \
            related_pin : \"CK\"; rise_power (scalar) { values (\"0.002\"); } \
            fall_power (scalar) { values (\"0.002\"); } } }\n  }\n}\n";
    lib
}

#[test]
fn a_missing_liberty_figure_is_an_error_naming_the_cell() {
    let dir = std::env::temp_dir().join(format!("pelab-energy-tiny-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = RtlConfig::new("e4m3", "saturate", 0);
    let pe = pelab_testbench::pe("lmul").unwrap();
    for drop in ["", "power", "leakage"] {
        let path = dir.join(format!("tiny-{drop}.lib"));
        std::fs::write(&path, tiny_lib(drop)).unwrap();
        let lib = read_library(&path).unwrap();
        let mut req = request(1024, Shape::Elementwise);
        req.tech = Tech::Liberty(path.clone());
        let r = measure(pe, &cfg, &req, Some(&lib));
        match drop {
            "" => {
                let m = r.unwrap();
                let cells = &m.stages[0].energy.cells;
                assert!(cells.contains_key("NANDX"), "{cells:?}");
                assert!(cells.keys().all(|k| k.ends_with('X')), "{cells:?}");
                assert!(m.total_pj > 0.0);
            }
            _ => {
                let e = r.unwrap_err().0;
                assert!(e.contains("NANDX"), "{e}");
                assert!(
                    e.contains(if drop == "power" {
                        "internal_power"
                    } else {
                        "cell_leakage_power"
                    }),
                    "{e}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streamed_exhaustive_check_counts_every_failure() {
    let joined = pelab_testbench::pe("lmul").unwrap();
    let pe = joined.vectors;
    let cfg = RtlConfig::new("e4m3", "saturate", 0);
    let m = joined.rtl.verilog(&cfg).unwrap();
    let json =
        pelab_hdl::synth::netlist_json(&m.verilog, &m.name, pelab_hdl::Flow::Generic).unwrap();
    let layout = pe.layout(&cfg).unwrap();
    let net = Netlist::from_yosys_json(&json, &m.name, "lmul_e4m3.json", None).unwrap();
    let r = check_exhaustive(&net, pe, &cfg, &layout, 0..65536, &|_| {}).unwrap();
    assert_eq!((r.passed, r.failed), (65536, 0));
    // Turn the first AND gate into an OR: the failures must equal those found by replaying
    // the generated vector file on the broken netlist.
    let broken = json.replacen("\"$_AND_\"", "\"$_OR_\"", 1);
    assert_ne!(broken, json);
    let bad = Netlist::from_yosys_json(&broken, &m.name, "broken.json", None).unwrap();
    let s = check_exhaustive(&bad, pe, &cfg, &layout, 0..65536, &|_| {}).unwrap();
    let v = pelab_testbench::vectors::generate(
        pe,
        &cfg,
        pelab_testbench::CaseSet::Exhaustive,
        1,
        pelab_testbench::Shard::ALL,
    )
    .unwrap();
    let (run, _) = run_gates(&bad, &layout, &v.rows, true, false).unwrap();
    let run = run.unwrap();
    println!("broken netlist: {} failures", s.failed);
    assert!(s.failed > 0);
    assert_eq!((s.passed, s.failed), (run.passed, run.failed));
    assert_eq!(
        s.mismatches.first().map(|m| m.row),
        run.mismatches.first().map(|m| m.row)
    );
    // A shard checks its own range only.
    let half = check_exhaustive(&bad, pe, &cfg, &layout, 0..32768, &|_| {}).unwrap();
    let (first, _) = run_gates(&bad, &layout, &v.rows[..32768], true, false).unwrap();
    let first = first.unwrap();
    assert_eq!((half.passed, half.failed), (first.passed, first.failed));
}
