//! Unit-delay toggle counts of pelab's gate engine ([`Delay::Unit`]) against Icarus Verilog,
//! net by net: the same gate netlist written as structural Verilog with `assign #1` on every
//! cell ([`pelab_testbench::unit_delay`]), the same stimulus, the value changes of every net
//! counted from Icarus' VCD. The zero-delay counts are checked the same way (the value each net
//! settles to, period after period).
//!
//! Cases: a hand-made netlist with known glitches (also against counts worked out by hand), the
//! lmul and fpmul e4m3 PEs (combinational: consecutive operations in consecutive lanes, over
//! several calls) and the int16fma MAC (clocked: independent streams in several lanes, each
//! checked on its own against its own copy of the netlist in Icarus).

mod icarus_vcd;

use icarus_vcd::{settled_changes, vcd_changes};
use pelab_hdl::RtlConfig;
use pelab_sim::netlist::{Delay, Netlist, Sim, ToggleMode, LANE_WORDS};
use pelab_testbench::codec::{Dist, Shape, WorkloadOps};
use pelab_testbench::gates::{run_gates_with, synthesized_netlist};
use pelab_testbench::unit_delay::{net_name, unit_delay_tb, UnitDelayTb};
use pelab_testbench::vectors::{Field, Layout, Timing};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn work(name: &str) -> PathBuf {
    icarus_vcd::work("glitch", name)
}

/// Runs `tb` under Icarus in `dir` and returns the path of its VCD (`waves.vcd`).
fn icarus(tb: &UnitDelayTb, dir: &Path) -> PathBuf {
    icarus_vcd::icarus(&tb.verilog, &tb.memories, &[], dir)
}

/// Value changes of one net in Icarus: (timed: every change from `from` on, glitches
/// included; zero delay: the rows from `row0` on whose settled value, at the end of the row's
/// period, differs from the previous row's).
fn icarus_counts(ch: &[(u64, vcd::Value)], period: u64, row0: usize, rows: usize) -> (u64, u64) {
    let from = row0 as u64 * period;
    let mut timed = 0;
    let mut last = vcd::Value::X;
    for &(t, v) in ch {
        if v != last && t >= from {
            timed += 1;
        }
        last = v;
    }
    let zero = settled_changes(ch, period, row0, rows);
    (timed, zero)
}

/// Icarus' counts of copy `copy` of `net`, one (timed, zero-delay) pair per entry of
/// [`Netlist::counted`].
fn per_counted(
    net: &Netlist,
    waves: &HashMap<String, Vec<(u64, vcd::Value)>>,
    tb: &UnitDelayTb,
    copy: usize,
) -> Vec<(u64, u64)> {
    net.counted
        .iter()
        .map(|&(n, _)| {
            let name = net_name(copy, n);
            let ch = waves
                .get(&name)
                .unwrap_or_else(|| panic!("{name} is not in the VCD"));
            icarus_counts(ch, tb.period, 1, tb.rows)
        })
        .collect()
}

/// Asserts pelab's counts equal Icarus', net by net (with the cell of the first difference).
fn same(net: &Netlist, what: &str, pelab: &[u64], icarus: &[u64]) {
    assert_eq!(pelab.len(), icarus.len());
    if let Some(k) = (0..pelab.len()).find(|&k| pelab[k] != icarus[k]) {
        let c = &net.cells[net.counted[k].1];
        let diffs = (0..pelab.len()).filter(|&k| pelab[k] != icarus[k]).count();
        panic!(
            "{what}: {diffs} nets differ; first: net {} of {} ({}): pelab {} vs Icarus {}",
            net.counted[k].0, c.name, c.kind, pelab[k], icarus[k]
        );
    }
}

/// A combinational stream (`Stream { latency: 0 }` layout) through pelab's production path
/// ([`run_gates_with`]) and through Icarus; returns (timed, zero-delay) toggle totals.
fn combinational(net: &Netlist, layout: &Layout, rows: &[Vec<u64>], what: &str) -> (u64, u64) {
    let (_, act) = run_gates_with(net, layout, rows, false, true, Delay::Unit).unwrap();
    let (_, zero) = run_gates_with(net, layout, rows, false, true, Delay::Zero).unwrap();
    assert_eq!(
        act.zero_delay_toggles, zero.toggles,
        "{what}: zero-delay counts"
    );
    for (t, z) in act.toggles.iter().zip(&act.zero_delay_toggles) {
        assert!(t >= z, "{what}: fewer timed than zero-delay toggles");
    }
    let ports: Vec<usize> = layout
        .inputs()
        .map(|f| net.input(&f.name).unwrap())
        .collect();
    let n_in = ports.len();
    let stream: Vec<Vec<u64>> = rows.iter().map(|r| r[..n_in].to_vec()).collect();
    let tb = unit_delay_tb(net, &ports, &[stream], Some("waves.vcd")).unwrap();
    let dir = work(&what.replace(' ', "_"));
    let t = Instant::now();
    let waves = vcd_changes(&icarus(&tb, &dir));
    let ic = per_counted(net, &waves, &tb, 0);
    eprintln!(
        "{what}: {} cells, depth {}, {} rows, Icarus {:.2?}",
        net.cells.len(),
        net.depth,
        rows.len(),
        t.elapsed()
    );
    let (it, iz): (Vec<u64>, Vec<u64>) = ic.into_iter().unzip();
    same(net, &format!("{what}, unit delay"), &act.toggles, &it);
    same(
        net,
        &format!("{what}, zero delay"),
        &act.zero_delay_toggles,
        &iz,
    );
    let _ = std::fs::remove_dir_all(&dir);
    (
        act.toggles.iter().sum(),
        act.zero_delay_toggles.iter().sum(),
    )
}

/// y = a ^ !!a (a glitch of two time units), z = a ^ !a (a glitch of one time unit).
const HAND: &str = r#"{"modules": {"t": {
  "ports": {"a": {"direction": "input", "bits": [2]},
            "y": {"direction": "output", "bits": [5]}, "z": {"direction": "output", "bits": [6]}},
  "cells": {
    "n1": {"type": "$_NOT_", "port_directions": {"A": "input", "Y": "output"},
           "connections": {"A": [2], "Y": [3]}},
    "n2": {"type": "$_NOT_", "port_directions": {"A": "input", "Y": "output"},
           "connections": {"A": [3], "Y": [4]}},
    "y": {"type": "$_XOR_", "port_directions": {"A": "input", "B": "input", "Y": "output"},
          "connections": {"A": [2], "B": [4], "Y": [5]}},
    "z": {"type": "$_XOR_", "port_directions": {"A": "input", "B": "input", "Y": "output"},
          "connections": {"A": [2], "B": [3], "Y": [6]}}},
  "netnames": {}}}}"#;

#[test]
fn a_hand_made_glitch_counts_as_worked_out_and_as_icarus_counts() {
    let net = Netlist::from_yosys_json(HAND, "t", "hand.json", None).unwrap();
    let layout = Layout {
        fields: vec![Field::input("a", 1)],
        timing: Timing::Stream { latency: 0 },
        care: false,
        restart: Vec::new(),
    };
    // 1100 operations: more than two calls of 512 lanes.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows: Vec<Vec<u64>> = (0..1100).map(|_| vec![rng.gen_range(0..2)]).collect();
    let changes = rows.windows(2).filter(|w| w[0] != w[1]).count() as u64;
    // By hand: when a changes at 0, !a changes at 1 and !!a at 2; y = a ^ !!a is 1 from 1 to
    // 2, z = a ^ !a is 0 from 1 to 2: two toggles each, none once settled.
    let (_, act) = run_gates_with(&net, &layout, &rows, false, true, Delay::Unit).unwrap();
    let by_cell = |t: &[u64], cell: &str| -> u64 {
        net.counted
            .iter()
            .zip(t)
            .filter(|((_, c), _)| net.cells[*c].name == cell)
            .map(|(_, t)| *t)
            .sum()
    };
    for (cell, timed, zero) in [
        ("n1", changes, changes),
        ("n2", changes, changes),
        ("y", 2 * changes, 0),
        ("z", 2 * changes, 0),
    ] {
        assert_eq!(by_cell(&act.toggles, cell), timed, "{cell} timed");
        assert_eq!(by_cell(&act.zero_delay_toggles, cell), zero, "{cell} zero");
    }
    let (timed, zero) = combinational(&net, &layout, &rows, "hand");
    assert_eq!((timed, zero), (6 * changes, 2 * changes));
}

/// The Gaussian element-wise workload of `pe` `cfg` (its first stage) and its netlist.
fn pe_case(pe: &str, cfg: &RtlConfig, ops: u64) -> (Netlist, Layout, Vec<Vec<u64>>) {
    let p = pelab_testbench::pe(pe).unwrap();
    let m = p.rtl.verilog(cfg).unwrap();
    let (net, _) = synthesized_netlist(&m.verilog, &m.name, None).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let ops = WorkloadOps {
        dist: Dist::Gaussian,
        shape: Shape::Elementwise,
        ops,
    };
    let w = p.vectors.workload(cfg, ops, &mut rng).unwrap();
    let s = w.stages.into_iter().next().unwrap();
    (net, s.layout, s.rows)
}

#[test]
fn lmul_e4m3_counts_as_icarus_counts() {
    let (net, layout, rows) = pe_case("lmul", &RtlConfig::new("e4m3", "saturate", 0), 1200);
    let (t, z) = combinational(&net, &layout, &rows, "lmul e4m3");
    assert!(t > z, "lmul e4m3: no glitch ({t} vs {z})");
}

#[test]
fn fpmul_e4m3_counts_as_icarus_counts() {
    let (net, layout, rows) = pe_case("fpmul", &RtlConfig::new("e4m3", "ieee", 0), 1200);
    let (t, z) = combinational(&net, &layout, &rows, "fpmul e4m3");
    assert!(t > z, "fpmul e4m3: no glitch ({t} vs {z})");
}

#[test]
fn int16fma_mac_counts_as_icarus_counts_lane_by_lane() {
    const LANES: usize = 3;
    const CYCLES: usize = 150;
    let cfg = RtlConfig::new("int16", "wrap", 0).with_variant("mac");
    let (net, layout, rows) = pe_case("int16fma", &cfg, (2 * LANES * CYCLES + 8) as u64);
    assert!(rows.len() >= LANES * CYCLES, "{} rows", rows.len());
    assert!(!net.flops.is_empty() && net.clock.is_some());
    let fields: Vec<&Field> = layout.inputs().collect();
    let ports: Vec<usize> = fields.iter().map(|f| net.input(&f.name).unwrap()).collect();
    // Lane l runs rows l*CYCLES.. from power-up, as its own copy of the netlist in Icarus.
    let streams: Vec<Vec<Vec<u64>>> = (0..LANES)
        .map(|l| {
            rows[l * CYCLES..(l + 1) * CYCLES]
                .iter()
                .map(|r| r[..ports.len()].to_vec())
                .collect()
        })
        .collect();
    let tb = unit_delay_tb(&net, &ports, &streams, Some("waves.vcd")).unwrap();
    let dir = work("int16fma_mac");
    let t = Instant::now();
    let waves = vcd_changes(&icarus(&tb, &dir));
    eprintln!(
        "int16fma mac: {} cells ({} flip-flops), depth {}, {LANES} x {CYCLES} cycles, Icarus {:.2?}",
        net.cells.len(),
        net.flops.len(),
        net.depth,
        t.elapsed()
    );
    // pelab: all lanes at once, counted in one lane (then in all of them).
    let run = |mask: [u64; LANE_WORDS]| {
        let mut sim = Sim::with_delay(&net, ToggleMode::Time, Delay::Unit);
        for c in 0..CYCLES {
            for (j, &p) in ports.iter().enumerate() {
                let v: Vec<u64> = streams.iter().map(|s| s[c][j]).collect();
                sim.set_values(p, &v);
            }
            sim.eval();
            sim.count_time(&mask).unwrap();
            sim.clock(LANES);
        }
        assert_eq!(sim.timed_mismatches(), 0);
        (sim.toggles().to_vec(), sim.zero_delay_toggles().to_vec())
    };
    let mut sum = vec![0u64; net.counted.len()];
    for l in 0..LANES {
        let mut mask = [0u64; LANE_WORDS];
        mask[0] = 1 << l;
        let (timed, zero) = run(mask);
        let (it, iz): (Vec<u64>, Vec<u64>) = per_counted(&net, &waves, &tb, l).into_iter().unzip();
        same(
            &net,
            &format!("int16fma mac lane {l}, unit delay"),
            &timed,
            &it,
        );
        same(
            &net,
            &format!("int16fma mac lane {l}, zero delay"),
            &zero,
            &iz,
        );
        for (s, t) in sum.iter_mut().zip(&timed) {
            *s += t;
        }
    }
    let mut mask = [0u64; LANE_WORDS];
    mask[0] = (1 << LANES) - 1;
    let (all, zero) = run(mask);
    assert_eq!(all, sum, "all lanes at once");
    let (t, z): (u64, u64) = (all.iter().sum(), zero.iter().sum());
    assert!(t > z, "int16fma mac: no glitch ({t} vs {z})");
    let _ = std::fs::remove_dir_all(&dir);
}
