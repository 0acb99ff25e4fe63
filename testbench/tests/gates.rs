//! pelab's gate-level engine as a verification simulator (`--sim gates`): every configuration
//! of every registered PE, synthesized to Yosys generic gates, replays its golden vectors and
//! passes every row. One corrupted expected bit is exactly one failure (a combinational, a
//! pipelined and cycle-by-cycle PEs; at the first, a middle and the last row), fifteen
//! corrupted rows at random are exactly those fifteen failures, and a netlist with an inverter
//! added on an output fails every row that compares that output.

mod common;

use pelab_hdl::synth::{netlist_json, Flow};
use pelab_hdl::RtlConfig;
use pelab_sim::netlist::Netlist;
use pelab_testbench::gates::run_gates;
use pelab_testbench::vectors::{generate, Timing, VectorSet};
use pelab_testbench::verify::{verify, Dut};
use pelab_testbench::PeVectors;
use pelab_testbench::{pes, CaseSet, Shard, SimRun, Simulator, Status};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(600);

fn work(name: &str) -> PathBuf {
    common::work("gates", name)
}

fn label(pe: &str, c: &RtlConfig) -> String {
    let mut s = format!("{pe} {} {} p{}", c.format, c.policy, c.pipeline);
    if !c.variant.is_empty() {
        s.push(' ');
        s.push_str(&c.variant);
    }
    s
}

/// The vectors of a configuration: exhaustive when the PE offers it and it has at most 2^16
/// cases, else 20,000 cases (500 transactions for cycle-by-cycle PEs).
fn vectors(pe: &dyn PeVectors, c: &RtlConfig, seed: u64) -> VectorSet {
    let layout = pe.layout(c).unwrap_or_else(|e| panic!("{e}"));
    let set = match (pe.exhaustive_size(c), layout.timing) {
        (Some(n), _) if n <= 1 << 16 => CaseSet::Exhaustive,
        (_, Timing::Cycles) => CaseSet::Count(500),
        _ => CaseSet::Count(20_000),
    };
    generate(pe, c, set, seed, Shard::ALL).unwrap_or_else(|e| panic!("{}: {e}", label(pe.id(), c)))
}

/// Runs `v` on the gate engine through `verify` and returns the gates run.
fn gates_run(v: &VectorSet, name: &str) -> SimRun {
    let dir = work(name);
    let r = verify(v, &Dut::Emitted, &[Simulator::Gates], false, &dir, LIMIT)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(r.runs.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
    r.runs.into_iter().next().unwrap()
}

#[test]
fn every_registered_configuration_passes_on_gates() {
    let t = Instant::now();
    let mut jobs: Vec<(&'static dyn PeVectors, RtlConfig)> = Vec::new();
    for pe in pes() {
        for c in pe.rtl.configs() {
            jobs.push((pe.vectors, c));
        }
    }
    let results: Vec<(String, String, u64, SimRun, f64)> = jobs
        .par_iter()
        .map(|(pe, c)| {
            let t = Instant::now();
            let name = label(pe.id(), c);
            let v = vectors(*pe, c, 0x6A7E5);
            let set = match v.set {
                CaseSet::Exhaustive => "exhaustive".to_string(),
                CaseSet::Count(n) => format!("{n} cases"),
            };
            let run = gates_run(&v, &name.replace(' ', "-"));
            (
                name,
                set,
                v.rows.len() as u64,
                run,
                t.elapsed().as_secs_f64(),
            )
        })
        .collect();
    let mut bad = Vec::new();
    for (name, set, rows, run, secs) in &results {
        println!(
            "{name}: {set}, {rows} rows: {:?} {} passed {} failed, {:.1} s",
            run.status, run.passed, run.failed, secs
        );
        if run.status != Status::Passed || (run.passed, run.failed) != (*rows, 0) {
            bad.push(format!("{name}: {:?}", run.mismatches));
        }
    }
    assert!(!results.is_empty(), "no configuration in the registry");
    assert!(bad.is_empty(), "failed on gates:\n{}", bad.join("\n"));
    println!(
        "{} configurations of {} PEs pass on gates in {:.1?}",
        results.len(),
        pes().len(),
        t.elapsed()
    );
}

/// The PEs of the corruption tests: combinational, pipelined, cycle by cycle.
fn corruption_cases() -> Vec<(&'static str, RtlConfig, Timing)> {
    vec![
        (
            "lmul",
            RtlConfig::new("e4m3", "saturate", 0),
            Timing::Stream { latency: 0 },
        ),
        (
            "fpmul",
            RtlConfig::new("bf16", "ieee", 2),
            Timing::Stream { latency: 2 },
        ),
        (
            "int16fma",
            RtlConfig::new("int16", "saturate", 0).with_variant("mac"),
            Timing::Cycles,
        ),
        ("fp16mac", RtlConfig::new("fp16", "ieee", 0), Timing::Cycles),
        (
            "bitmod",
            RtlConfig::new("fp16", "bitmod34", 0),
            Timing::Cycles,
        ),
    ]
}

#[test]
fn one_corrupted_expected_bit_is_exactly_one_failure() {
    let t = Instant::now();
    for (pe, c, timing) in corruption_cases() {
        let p = pelab_testbench::pe(pe).unwrap().vectors;
        let v = vectors(p, &c, 77);
        assert_eq!(v.layout.timing, timing, "{}", label(pe, &c));
        let n_in = v.layout.inputs().count();
        let n_out = v.layout.n_outputs();
        let n = v.rows.len();
        for target in [0, n / 2 + 3, n - 1] {
            // The nearest row at or before `target` that compares some output, and that output.
            let (row, out) = (0..=target)
                .rev()
                .find_map(|r| {
                    let care = if v.layout.care {
                        v.rows[r][n_in + n_out]
                    } else {
                        u64::MAX
                    };
                    (0..n_out).find(|&j| care >> j & 1 == 1).map(|j| (r, j))
                })
                .unwrap_or_else(|| panic!("{pe}: no compared output up to row {target}"));
            let width = v.layout.outputs().nth(out).unwrap().width;
            let flip = (row as u32 * 7) % width;
            let mut bad = v.clone();
            bad.rows[row][n_in + out] ^= 1 << flip;
            let run = gates_run(&bad, &format!("{pe}-corrupt-{row}"));
            assert_eq!(
                (run.status, run.passed, run.failed),
                (Status::Failed, n as u64 - 1, 1),
                "{}: row {row} output {out} bit {flip} corrupted",
                label(pe, &c)
            );
            assert_eq!(run.mismatches.len(), 1);
            assert_eq!(run.mismatches[0].row, row as u64);
            assert_eq!(run.mismatches[0].expected[out], bad.rows[row][n_in + out]);
            assert_eq!(
                run.mismatches[0].got[out],
                Some(v.rows[row][n_in + out]),
                "{pe}: the netlist gives the reference value"
            );
            println!(
                "{}: row {row} of {n}, output {out} bit {flip}: exactly one failure",
                label(pe, &c)
            );
        }
        // Rows spread at random over the lanes' segments, each with one compared bit
        // flipped: exactly those rows fail.
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let mut bad = v.clone();
        let mut want = BTreeSet::new();
        while want.len() < 15 {
            let row = rng.gen_range(0..n);
            let care = if v.layout.care {
                v.rows[row][n_in + n_out]
            } else {
                u64::MAX
            };
            let outs: Vec<usize> = (0..n_out).filter(|&j| care >> j & 1 == 1).collect();
            if outs.is_empty() || want.contains(&(row as u64)) {
                continue;
            }
            let out = outs[rng.gen_range(0..outs.len())];
            let width = v.layout.outputs().nth(out).unwrap().width;
            bad.rows[row][n_in + out] ^= 1 << rng.gen_range(0..width);
            want.insert(row as u64);
        }
        let run = gates_run(&bad, &format!("{pe}-corrupt-15"));
        let got: BTreeSet<u64> = run.mismatches.iter().map(|m| m.row).collect();
        assert_eq!(
            (run.passed, run.failed),
            (n as u64 - 15, 15),
            "{}",
            label(pe, &c)
        );
        assert_eq!(got, want, "{}: the failing rows", label(pe, &c));
    }
    println!("corrupted rows in {:.1?}", t.elapsed());
}

/// The netlist of `m` with an inverter added on bit 0 of output port `port`.
fn with_inverted_output(json: &str, top: &str, port: &str) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    fn max_id(v: &Value) -> u64 {
        match v {
            Value::Object(m) => m.values().map(max_id).max().unwrap_or(0),
            Value::Array(a) => a.iter().map(max_id).max().unwrap_or(0),
            Value::Number(n) => n.as_u64().unwrap_or(0),
            _ => 0,
        }
    }
    let m = &mut v["modules"][top];
    let fresh = max_id(&m["ports"])
        .max(max_id(&m["cells"]))
        .max(max_id(&m["netnames"]))
        + 1;
    let old = m["ports"][port]["bits"][0].clone();
    m["ports"][port]["bits"][0] = Value::from(fresh);
    m["cells"].as_object_mut().unwrap().insert(
        "pelab_test_extra_inverter".into(),
        serde_json::json!({
            "type": "$_NOT_",
            "port_directions": {"A": "input", "Y": "output"},
            "connections": {"A": [old], "Y": [fresh]},
        }),
    );
    serde_json::to_string(&v).unwrap()
}

#[test]
fn an_extra_inverter_on_an_output_fails_every_compared_row() {
    for (pe, c, _) in corruption_cases() {
        let joined = pelab_testbench::pe(pe).unwrap();
        let v = vectors(joined.vectors, &c, 5);
        let m = joined.rtl.verilog(&c).unwrap();
        let json = netlist_json(&m.verilog, &m.name, Flow::Generic).unwrap();
        let n_in = v.layout.inputs().count();
        let n_out = v.layout.n_outputs();
        for (out, field) in v.layout.outputs().enumerate() {
            let bad = with_inverted_output(&json, &m.name, &field.name);
            let net = Netlist::from_yosys_json(&bad, &m.name, "edited netlist", None)
                .unwrap_or_else(|e| panic!("{e}"));
            let (run, _) = run_gates(&net, &v.layout, &v.rows, true, false).unwrap();
            let run = run.unwrap();
            let compared = v
                .rows
                .iter()
                .filter(|r| !v.layout.care || r[n_in + n_out] >> out & 1 == 1)
                .count() as u64;
            assert!(compared > 0, "{pe}: output {} never compared", field.name);
            assert_eq!(
                (run.status, run.failed, run.passed),
                (Status::Failed, compared, v.rows.len() as u64 - compared),
                "{}: inverter on bit 0 of {}",
                label(pe, &c),
                field.name
            );
            for mm in &run.mismatches {
                let exp = mm.expected[out];
                assert_eq!(
                    mm.got[out],
                    Some(exp ^ 1),
                    "{pe} {}: row {}",
                    field.name,
                    mm.row
                );
            }
            // The unedited netlist passes the same rows.
            if out == 0 {
                let good = Netlist::from_yosys_json(&json, &m.name, "netlist", None).unwrap();
                let (run, _) = run_gates(&good, &v.layout, &v.rows, true, false).unwrap();
                let run = run.unwrap();
                assert_eq!((run.passed, run.failed), (v.rows.len() as u64, 0), "{pe}");
            }
        }
        println!(
            "{}: an inverter on each of the {n_out} outputs fails the rows that compare it",
            label(pe, &c)
        );
    }
}
