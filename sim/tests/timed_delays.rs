//! Timed simulation with a delay per cell ([`Delay::Liberty`]: whole time quanta, inertial)
//! against a scalar event-driven oracle written here after Icarus Verilog's rule for
//! `assign #d` (a new value is dropped when it equals the earliest pending one, else every
//! pending change later than now is cancelled and the new value scheduled `d` later):
//! random netlists of generic gates with random delays (1 to 9 quanta), one vector at a time.
//!
//! Checked over lanes (combinational streams, calls of uneven size) and over time (independent
//! streams, a random lane mask): every net's toggle count, the zero-delay counts beside them,
//! the final values (no mismatch), the latest change against the longest path, and that delays
//! of one quantum everywhere count exactly as [`Delay::Unit`].

mod generic_gates;

use generic_gates::truth;
use pelab_sim::netlist::{lane_mask, Delay, Netlist, Sim, ToggleMode, LANES, LANE_WORDS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;

const KINDS: &[(&str, usize)] = &[
    ("$_NOT_", 1),
    ("$_AND_", 2),
    ("$_NAND_", 2),
    ("$_OR_", 2),
    ("$_XOR_", 2),
    ("$_XNOR_", 2),
    ("$_ANDNOT_", 2),
    ("$_MUX_", 3),
    ("$_AOI3_", 3),
    ("$_OAI4_", 4),
];
const PINS: [&str; 4] = ["A", "B", "C", "D"];

/// A random combinational design: `inputs` bits of port `x` (ids 2..), gates in order, each
/// with a delay; the last 8 gate outputs are port `y`.
struct Design {
    inputs: usize,
    gates: Vec<(&'static str, Vec<usize>, usize, u32)>,
}

impl Design {
    fn random(rng: &mut ChaCha8Rng, inputs: usize, n: usize, dmax: u32) -> Design {
        let mut gates = Vec::new();
        for g in 0..n {
            let (kind, k) = KINDS[rng.gen_range(0..KINDS.len())];
            let avail = 2 + inputs + g;
            // Mostly recent signals (deep, reconvergent), sometimes inputs.
            let ins = (0..k)
                .map(|_| {
                    if rng.gen_bool(0.3) {
                        rng.gen_range(2..2 + inputs)
                    } else {
                        rng.gen_range(avail.saturating_sub(12).max(2)..avail)
                    }
                })
                .collect();
            gates.push((kind, ins, avail, rng.gen_range(1..=dmax)));
        }
        Design { inputs, gates }
    }

    fn json(&self) -> String {
        let mut cells = String::new();
        for (g, (kind, ins, y, _)) in self.gates.iter().enumerate() {
            let mut dirs = String::new();
            let mut conns = String::new();
            for (p, i) in ins.iter().enumerate() {
                let pin = if *kind == "$_MUX_" && p == 2 {
                    "S"
                } else {
                    PINS[p]
                };
                let _ = write!(dirs, "\"{pin}\": \"input\", ");
                let _ = write!(conns, "\"{pin}\": [{i}], ");
            }
            let sep = if g > 0 { "," } else { "" };
            let _ = write!(
                cells,
                "{sep}\"g{g}\": {{\"type\": \"{kind}\", \"port_directions\": {{{dirs}\"Y\": \"output\"}}, \
                 \"connections\": {{{conns}\"Y\": [{y}]}}}}"
            );
        }
        let xs: Vec<String> = (2..2 + self.inputs).map(|i| i.to_string()).collect();
        let ys: Vec<String> = self.gates[self.gates.len() - 8..]
            .iter()
            .map(|g| g.2.to_string())
            .collect();
        format!(
            "{{\"modules\": {{\"t\": {{\"ports\": {{\"x\": {{\"direction\": \"input\", \"bits\": [{}]}}, \
             \"y\": {{\"direction\": \"output\", \"bits\": [{}]}}}}, \"cells\": {{{cells}}}, \"netnames\": {{}}}}}}}}",
            xs.join(", "),
            ys.join(", ")
        )
    }

    /// Settled values of every bit for input `x`.
    fn settle(&self, x: u64) -> Vec<bool> {
        let mut v = vec![false; 2 + self.inputs + self.gates.len()];
        for i in 0..self.inputs {
            v[2 + i] = x >> i & 1 == 1;
        }
        for (kind, ins, y, _) in &self.gates {
            let a: Vec<bool> = ins.iter().map(|&i| v[i]).collect();
            v[*y] = truth(kind, &a);
        }
        v
    }

    /// The oracle: from the settled state of `from`, input `to` applied at time 0; returns the
    /// value changes of every gate output (indexed by gate) and the latest change time.
    fn step(&self, from: u64, to: u64) -> (Vec<u64>, u32) {
        let mut v = self.settle(from);
        let n = v.len();
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (g, (_, ins, _, _)) in self.gates.iter().enumerate() {
            for &i in ins {
                readers[i].push(g);
            }
        }
        // Pending changes of each gate (time, value), earliest first.
        let mut pending: Vec<Vec<(u32, bool)>> = vec![Vec::new(); self.gates.len()];
        let mut toggles = vec![0u64; self.gates.len()];
        let mut changed: Vec<usize> = Vec::new();
        for i in 0..self.inputs {
            let b = to >> i & 1 == 1;
            if v[2 + i] != b {
                v[2 + i] = b;
                changed.push(2 + i);
            }
        }
        let mut t = 0u32;
        let mut last = 0;
        loop {
            // Gates reading a net that changed at t: evaluated once with the values at t.
            let mut gates: Vec<usize> = changed.iter().flat_map(|&c| readers[c].clone()).collect();
            gates.sort_unstable();
            gates.dedup();
            for g in gates {
                let (kind, ins, _, d) = &self.gates[g];
                let a: Vec<bool> = ins.iter().map(|&i| v[i]).collect();
                let x = truth(kind, &a);
                let p = &mut pending[g];
                if p.first().is_some_and(|e| e.1 == x) {
                    continue;
                }
                p.retain(|e| e.0 <= t);
                p.push((t + d, x));
            }
            // The next time anything matures.
            let Some(next) = pending.iter().filter_map(|p| p.first().map(|e| e.0)).min() else {
                break;
            };
            t = next;
            changed.clear();
            for (g, p) in pending.iter_mut().enumerate() {
                while p.first().is_some_and(|e| e.0 == t) {
                    let (_, x) = p.remove(0);
                    let y = self.gates[g].2;
                    if v[y] != x {
                        v[y] = x;
                        toggles[g] += 1;
                        changed.push(y);
                        last = t;
                    }
                }
            }
        }
        assert_eq!(v, self.settle(to), "oracle does not settle");
        (toggles, last)
    }

    fn longest_path(&self) -> u32 {
        let mut at = vec![0u32; 2 + self.inputs + self.gates.len()];
        for (_, ins, y, d) in &self.gates {
            at[*y] = ins.iter().map(|&i| at[i]).max().unwrap_or(0) + d;
        }
        at.into_iter().max().unwrap_or(0)
    }
}

/// The netlist of `d` with its delays annotated (one per counted net, i.e. per gate).
fn netlist(d: &Design) -> Netlist {
    let mut net = Netlist::from_yosys_json(&d.json(), "t", "random.json", None).unwrap();
    let mut q = Vec::new();
    for &(_, c) in &net.counted {
        let g: usize = net.cells[c].name[1..].parse().unwrap();
        q.push(d.gates[g].3);
    }
    net.delays = Some(q);
    net
}

/// Gate index of each counted net.
fn gate_of(net: &Netlist) -> Vec<usize> {
    net.counted
        .iter()
        .map(|&(_, c)| net.cells[c].name[1..].parse().unwrap())
        .collect()
}

#[test]
fn per_cell_delays_count_as_the_event_driven_oracle_over_lanes() {
    for seed in 0..8u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let d = Design::random(&mut rng, 7, 60, if seed < 2 { 3 } else { 9 });
        let net = netlist(&d);
        let gates = gate_of(&net);
        let x = net.input("x").unwrap();
        let mut sim = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Liberty);
        let mut want = vec![0u64; d.gates.len()];
        let mut zero = vec![0u64; d.gates.len()];
        let mut latest = 0;
        let mut prev: Option<u64> = None;
        for n in [LANES, 37, 200, 1] {
            let xs: Vec<u64> = (0..n).map(|_| rng.gen_range(0..128)).collect();
            for &v in &xs {
                if let Some(p) = prev {
                    let (t, last) = d.step(p, v);
                    for (w, t) in want.iter_mut().zip(&t) {
                        *w += t;
                    }
                    let (a, b) = (d.settle(p), d.settle(v));
                    for (g, z) in zero.iter_mut().enumerate() {
                        let y = d.gates[g].2;
                        *z += u64::from(a[y] != b[y]);
                    }
                    latest = latest.max(last);
                }
                prev = Some(v);
            }
            sim.set_values(x, &xs);
            sim.eval();
            sim.count_lanes(n).unwrap();
        }
        let got: Vec<u64> = gates.iter().map(|&g| want[g]).collect();
        assert_eq!(sim.toggles(), got.as_slice(), "seed {seed}: timed toggles");
        let got: Vec<u64> = gates.iter().map(|&g| zero[g]).collect();
        assert_eq!(
            sim.zero_delay_toggles(),
            got.as_slice(),
            "seed {seed}: zero-delay toggles"
        );
        assert_eq!(sim.timed_mismatches(), 0, "seed {seed}");
        assert_eq!(sim.settle_time(), latest, "seed {seed}: latest change");
        assert!(latest <= d.longest_path());
        let glitches: u64 =
            sim.toggles().iter().sum::<u64>() - sim.zero_delay_toggles().iter().sum::<u64>();
        assert!(glitches > 0, "seed {seed}: no glitch to check");
    }
}

#[test]
fn per_cell_delays_count_as_the_oracle_over_time_in_masked_lanes() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let d = Design::random(&mut rng, 6, 50, 7);
    let net = netlist(&d);
    let gates = gate_of(&net);
    let x = net.input("x").unwrap();
    let mut mask = [0u64; LANE_WORDS];
    for w in mask.iter_mut() {
        *w = rng.gen();
    }
    let mut sim = Sim::with_delay(&net, ToggleMode::Time, Delay::Liberty);
    let mut last: Vec<u64> = vec![0; LANES];
    let mut want = vec![0u64; d.gates.len()];
    for step in 0..5 {
        let xs: Vec<u64> = (0..LANES).map(|_| rng.gen_range(0..64)).collect();
        if step > 0 {
            for l in (0..LANES).filter(|&l| mask[l / 64] >> (l % 64) & 1 == 1) {
                let (t, _) = d.step(last[l], xs[l]);
                for (w, t) in want.iter_mut().zip(&t) {
                    *w += t;
                }
            }
        }
        sim.set_values(x, &xs);
        sim.eval();
        sim.count_time(&mask).unwrap();
        last = xs;
    }
    let got: Vec<u64> = gates.iter().map(|&g| want[g]).collect();
    assert_eq!(sim.toggles(), got.as_slice());
    assert_eq!(sim.timed_mismatches(), 0);
}

#[test]
fn delays_of_one_quantum_count_as_unit_delay() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let d = Design::random(&mut rng, 8, 80, 1);
    let net = netlist(&d);
    assert!(net.delays.as_ref().unwrap().iter().all(|&q| q == 1));
    let x = net.input("x").unwrap();
    let mut a = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Liberty);
    let mut b = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Unit);
    for _ in 0..3 {
        let xs: Vec<u64> = (0..LANES).map(|_| rng.gen_range(0..256)).collect();
        for s in [&mut a, &mut b] {
            s.set_values(x, &xs);
            s.eval();
            s.count_lanes(LANES).unwrap();
        }
    }
    assert_eq!(a.toggles(), b.toggles());
    assert_eq!(a.settle_time(), b.settle_time());
    assert!(a.toggles().iter().sum::<u64>() > a.zero_delay_toggles().iter().sum::<u64>());
}

#[test]
fn high_time_and_waveforms_follow_the_events() {
    // y = a ^ !a (settled at 1) through an inverter of 3 quanta and an XOR of 2: when a
    // changes, y pulses to 0 from 2 to 5 (the inverter's change at 3 reaches y at 5).
    let json = r#"{"modules": {"t": {
      "ports": {"a": {"direction": "input", "bits": [2]}, "y": {"direction": "output", "bits": [4]}},
      "cells": {
        "n": {"type": "$_NOT_", "port_directions": {"A": "input", "Y": "output"},
              "connections": {"A": [2], "Y": [3]}},
        "x": {"type": "$_XOR_", "port_directions": {"A": "input", "B": "input", "Y": "output"},
              "connections": {"A": [2], "B": [3], "Y": [4]}}},
      "netnames": {"y": {"hide_name": 0, "bits": [4]}}}}}"#;
    let mut net = Netlist::from_yosys_json(json, "t", "pulse.json", None).unwrap();
    let q: Vec<u32> = net
        .counted
        .iter()
        .map(|&(_, c)| if net.cells[c].name == "n" { 3 } else { 2 })
        .collect();
    net.delays = Some(q);
    let y = net.outputs[net.output("y").unwrap()].bits[0];
    let na = net.cells.iter().find(|c| c.name == "n").unwrap().outputs[0].1;
    assert_eq!(net.net_name(y), "y");
    assert_eq!(net.net_name(na), format!("n{na}"));
    let a = net.input("a").unwrap();
    let mut sim = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Liberty);
    assert!(sim.record_high_time(10));
    // Lanes: a = 0, 1, 1, 0: two changes (lanes 1 and 3), lane 0 not counted.
    sim.set_values(a, &[0, 1, 1, 0]);
    sim.eval();
    sim.count_lanes(4).unwrap();
    assert_eq!(sim.waveform(y, 1, true), vec![(2, false), (5, true)]);
    assert_eq!(sim.waveform(y, 2, true), vec![]);
    assert_eq!(sim.waveform(na, 3, false), vec![(3, true)]);
    let (period, high) = sim.high_time().unwrap();
    let high = high.as_slice();
    assert_eq!(period, 10);
    let k = |n: u32| net.counted.iter().position(|&(m, _)| m == n).unwrap();
    // Lanes 1 to 3 (lane 0 of the first call is no sample). y: 7 quanta at 1 in lanes 1
    // and 3, 10 in lane 2. !a: lane 1 from 1 to 0 at 3 (3 quanta at 1), lane 2 at 0, lane 3
    // from 0 to 1 at 3 (7 quanta).
    assert_eq!(sim.samples, 3);
    assert_eq!(high[k(y)], 7 + 10 + 7);
    assert_eq!(high[k(na)], 3 + 7);
    assert_eq!(lane_mask(3)[0], 0b111);
}
