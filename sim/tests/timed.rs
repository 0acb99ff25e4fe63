//! Unit-delay simulation ([`Delay::Unit`]) against a scalar oracle written here: random
//! netlists of every generic gate (reconvergent paths of unequal length, so glitches) and
//! `$_DFF_P_` flip-flops, one vector at a time, every cell output recomputed from the values of
//! the previous time unit until nothing changes, every value change counted.
//!
//! Checked on every netlist, over lanes (combinational streams, several calls of uneven size)
//! and over time (independent streams per lane, random lane masks):
//! - the timed toggle count of every net equals the oracle's;
//! - the zero-delay count beside it equals the oracle's settled-value count and the count of a
//!   zero-delay simulation of the same stream;
//! - every net's timed count is at least its zero-delay count;
//! - the timed final values equal the zero-delay settled values (no mismatch reported);
//! - the latest change is no later than the netlist's depth.

mod generic_gates;

use generic_gates::{truth, GATES};
use pelab_sim::netlist::{lane_mask, Delay, Netlist, Sim, ToggleMode, LANES, LANE_WORDS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;

/// A signal: a constant or a bit id (ids from 2, as in Yosys JSON).
#[derive(Clone, Copy)]
enum Sig {
    Const(bool),
    Bit(usize),
}

struct Gate {
    kind: &'static str,
    pins: &'static [&'static str],
    ins: Vec<Sig>,
    y: usize,
}

struct Flop {
    d: Sig,
    q: usize,
    init: bool,
}

/// A random netlist: `inputs` bits of port `x`, flip-flops, gates in topological order.
struct Design {
    inputs: usize,
    flops: Vec<Flop>,
    gates: Vec<Gate>,
    bits: usize,
}

impl Design {
    fn random(rng: &mut ChaCha8Rng, inputs: usize, flops: usize, gates: usize) -> Design {
        Design::random_of(rng, &GATES, inputs, flops, gates)
    }

    /// A random netlist of the cell types `kinds`.
    fn random_of(
        rng: &mut ChaCha8Rng,
        kinds: &[(&'static str, &'static [&'static str])],
        inputs: usize,
        flops: usize,
        gates: usize,
    ) -> Design {
        let mut next = 2 + inputs;
        let mut fl = Vec::new();
        for _ in 0..flops {
            fl.push(Flop {
                d: Sig::Const(false),
                q: next,
                init: rng.gen(),
            });
            next += 1;
        }
        let mut gs: Vec<Gate> = Vec::new();
        for _ in 0..gates {
            let (kind, pins) = kinds[rng.gen_range(0..kinds.len())];
            // Mostly recent signals (long chains), sometimes any earlier one (short paths that
            // reconverge with long ones), rarely a constant.
            let ins = pins
                .iter()
                .map(|_| {
                    let r = rng.gen_range(0..100);
                    if r < 3 {
                        Sig::Const(rng.gen())
                    } else if r < 60 && next > 2 + inputs + flops + 4 {
                        Sig::Bit(rng.gen_range(next - 4..next))
                    } else {
                        Sig::Bit(rng.gen_range(2..next))
                    }
                })
                .collect();
            gs.push(Gate {
                kind,
                pins,
                ins,
                y: next,
            });
            next += 1;
        }
        for f in fl.iter_mut() {
            f.d = Sig::Bit(rng.gen_range(2..next));
        }
        Design {
            inputs,
            flops: fl,
            gates: gs,
            bits: next,
        }
    }

    /// Yosys JSON of module `t`: input port `x`, a clock `clk` when there are flip-flops,
    /// output port `y` (the last gates' outputs).
    fn json(&self) -> String {
        self.json_with(
            &|kind, pins| (kind.to_string(), pins.to_vec(), "Y"),
            ("$_DFF_P_", "C"),
        )
    }

    /// [`Design::json`] with each generic cell type and its pins renamed by `cell` (type,
    /// input pins, output pin) and the flip-flops of type `ff.0`, clock pin `ff.1`.
    #[allow(clippy::type_complexity)]
    fn json_with(
        &self,
        cell: &dyn Fn(&str, &[&'static str]) -> (String, Vec<&'static str>, &'static str),
        ff: (&str, &str),
    ) -> String {
        let sig = |s: &Sig| match s {
            Sig::Const(v) => format!("\"{}\"", u8::from(*v)),
            Sig::Bit(b) => b.to_string(),
        };
        let x: Vec<String> = (2..2 + self.inputs).map(|b| b.to_string()).collect();
        let clk = self.bits;
        let y: Vec<String> = self
            .gates
            .iter()
            .rev()
            .take(4)
            .map(|g| g.y.to_string())
            .collect();
        let mut ports = format!(
            "\"x\": {{\"direction\": \"input\", \"bits\": [{}]}}, \"y\": {{\"direction\": \"output\", \"bits\": [{}]}}",
            x.join(", "),
            y.join(", ")
        );
        if !self.flops.is_empty() {
            write!(
                ports,
                ", \"clk\": {{\"direction\": \"input\", \"bits\": [{clk}]}}"
            )
            .unwrap();
        }
        let mut cells = Vec::new();
        for (k, g) in self.gates.iter().enumerate() {
            let (kind, pins, out) = cell(g.kind, g.pins);
            let dirs: Vec<String> = pins
                .iter()
                .map(|p| format!("\"{p}\": \"input\""))
                .chain([format!("\"{out}\": \"output\"")])
                .collect();
            let conns: Vec<String> = pins
                .iter()
                .zip(&g.ins)
                .map(|(p, s)| format!("\"{p}\": [{}]", sig(s)))
                .chain([format!("\"{out}\": [{}]", g.y)])
                .collect();
            cells.push(format!(
                "\"g{k}\": {{\"type\": \"{kind}\", \"port_directions\": {{{}}}, \"connections\": {{{}}}}}",
                dirs.join(", "),
                conns.join(", ")
            ));
        }
        let (ff_kind, ff_clock) = ff;
        let mut netnames = Vec::new();
        for (k, f) in self.flops.iter().enumerate() {
            cells.push(format!(
                "\"f{k}\": {{\"type\": \"{ff_kind}\", \"port_directions\": {{\"{ff_clock}\": \"input\", \"D\": \"input\", \"Q\": \"output\"}}, \"connections\": {{\"{ff_clock}\": [{clk}], \"D\": [{}], \"Q\": [{}]}}}}",
                sig(&f.d),
                f.q
            ));
            netnames.push(format!(
                "\"q{k}\": {{\"bits\": [{}], \"attributes\": {{\"init\": \"{}\"}}}}",
                f.q,
                u8::from(f.init)
            ));
        }
        format!(
            "{{\"modules\": {{\"t\": {{\"ports\": {{{ports}}}, \"cells\": {{{}}}, \"netnames\": {{{}}}}}}}}}",
            cells.join(",\n"),
            netnames.join(", ")
        )
    }

    fn read(v: &[bool], s: &Sig) -> bool {
        match s {
            Sig::Const(c) => *c,
            Sig::Bit(b) => v[*b],
        }
    }

    /// Settles the gates (zero delay) over the current sources.
    fn settle(&self, v: &mut [bool]) {
        for g in &self.gates {
            let x: Vec<bool> = g.ins.iter().map(|s| Self::read(v, s)).collect();
            v[g.y] = truth(g.kind, &x);
        }
    }

    /// Unit delay from a settled state whose sources were just changed: every gate output at
    /// t is its function of the values at t - 1, all at once, until nothing changes. Adds each
    /// gate's value changes to `count` (by gate index) and returns the time of the last one.
    fn unit(&self, v: &mut [bool], count: &mut [u64]) -> usize {
        let mut t = 0;
        loop {
            let next: Vec<bool> = self
                .gates
                .iter()
                .map(|g| {
                    let x: Vec<bool> = g.ins.iter().map(|s| Self::read(v, s)).collect();
                    truth(g.kind, &x)
                })
                .collect();
            let mut any = false;
            for (k, (g, n)) in self.gates.iter().zip(next).enumerate() {
                if v[g.y] != n {
                    v[g.y] = n;
                    count[k] += 1;
                    any = true;
                }
            }
            if !any {
                return t;
            }
            t += 1;
        }
    }

    /// Sets input port `x` to `word` (bit `b` to input bit `b`).
    fn set_inputs(&self, v: &mut [bool], word: u64) {
        for b in 0..self.inputs {
            v[2 + b] = word >> b & 1 == 1;
        }
    }
}

/// Per-cell toggles in the order of `design`: gates `g<k>`, then flip-flops `f<k>`.
fn by_cell(net: &Netlist, toggles: &[u64], design: &Design) -> Vec<u64> {
    let mut out = vec![0u64; design.gates.len() + design.flops.len()];
    for (&(_, ci), &t) in net.counted.iter().zip(toggles) {
        let name = &net.cells[ci].name;
        let k = if let Some(g) = name.strip_prefix('g') {
            g.parse::<usize>().unwrap()
        } else {
            design.gates.len() + name[1..].parse::<usize>().unwrap()
        };
        out[k] += t;
    }
    out
}

/// Checks the invariants every unit-delay run must keep.
fn invariants(sim: &Sim, what: &str) {
    assert_eq!(
        sim.timed_mismatches(),
        0,
        "{what}: timed values did not settle"
    );
    for (k, (t, z)) in sim
        .toggles()
        .iter()
        .zip(sim.zero_delay_toggles())
        .enumerate()
    {
        assert!(t >= z, "{what}: net {k}: {t} timed < {z} zero-delay");
    }
    assert!(
        sim.settle_time() as usize <= sim.netlist().depth,
        "{what}: change at {} past the depth {}",
        sim.settle_time(),
        sim.netlist().depth
    );
}

/// A combinational stream of `ops` random vectors over lanes, fed in calls of uneven size.
fn lanes_case(seed: u64, inputs: usize, gates: usize, ops: usize) -> (u64, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = Design::random(&mut rng, inputs, 0, gates);
    let net = Netlist::from_yosys_json(&d.json(), "t", "random.json", None).unwrap();
    let stream: Vec<u64> = (0..ops)
        .map(|_| rng.gen::<u64>() & ((1u64 << inputs) - 1))
        .collect();
    // The oracle.
    let mut v = vec![false; d.bits + 1];
    let mut timed = vec![0u64; d.gates.len()];
    let mut zero = vec![0u64; d.gates.len()];
    d.set_inputs(&mut v, stream[0]);
    d.settle(&mut v);
    for &w in &stream[1..] {
        let before: Vec<bool> = d.gates.iter().map(|g| v[g.y]).collect();
        d.set_inputs(&mut v, w);
        d.unit(&mut v, &mut timed);
        let mut settled = v.clone();
        d.settle(&mut settled);
        assert_eq!(v, settled, "seed {seed}: the oracle did not settle");
        for (k, g) in d.gates.iter().enumerate() {
            zero[k] += u64::from(before[k] != v[g.y]);
        }
    }
    // The engine, zero and unit delay, in calls of 1..=LANES operations.
    let x = net.input("x").unwrap();
    let mut unit = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Unit);
    let mut zsim = Sim::new(&net, ToggleMode::Lanes);
    let mut i = 0;
    while i < ops {
        let n = rng.gen_range(1..=LANES).min(ops - i);
        for s in [&mut unit, &mut zsim] {
            s.set_values(x, &stream[i..i + n]);
            s.eval();
            s.count_lanes(n).unwrap();
        }
        i += n;
    }
    let what = format!("lanes seed {seed}");
    invariants(&unit, &what);
    assert_eq!(by_cell(&net, unit.toggles(), &d), timed, "{what}: timed");
    assert_eq!(
        by_cell(&net, unit.zero_delay_toggles(), &d),
        zero,
        "{what}: zero"
    );
    assert_eq!(
        unit.zero_delay_toggles(),
        zsim.toggles(),
        "{what}: zero engine"
    );
    (timed.iter().sum(), zero.iter().sum())
}

/// Independent streams per lane through a netlist with flip-flops, counted under random lane
/// masks.
fn time_case(seed: u64, inputs: usize, flops: usize, gates: usize, lanes: usize, cycles: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = Design::random(&mut rng, inputs, flops, gates);
    let net = Netlist::from_yosys_json(&d.json(), "t", "random.json", None).unwrap();
    let stim: Vec<Vec<u64>> = (0..cycles)
        .map(|_| {
            (0..lanes)
                .map(|_| rng.gen::<u64>() & ((1u64 << inputs) - 1))
                .collect()
        })
        .collect();
    // Every third cycle counts in the first 64 lanes only (the engine then steps one word).
    let masks: Vec<Vec<bool>> = (0..cycles)
        .map(|c| {
            (0..lanes)
                .map(|l| rng.gen_bool(0.8) && (c % 3 != 0 || l < 64))
                .collect()
        })
        .collect();
    // The oracle, lane by lane; cells: gates then flip-flops.
    let cells = d.gates.len() + d.flops.len();
    let mut timed = vec![0u64; cells];
    let mut zero = vec![0u64; cells];
    for l in 0..lanes {
        let mut v = vec![false; d.bits + 1];
        for f in &d.flops {
            v[f.q] = f.init;
        }
        d.set_inputs(&mut v, stim[0][l]);
        d.settle(&mut v);
        for c in 1..cycles {
            let count = masks[c][l];
            let before = v.clone();
            let next: Vec<bool> = d.flops.iter().map(|f| Design::read(&v, &f.d)).collect();
            for (k, (f, q)) in d.flops.iter().zip(next).enumerate() {
                if v[f.q] != q && count {
                    timed[d.gates.len() + k] += 1;
                    zero[d.gates.len() + k] += 1;
                }
                v[f.q] = q;
            }
            d.set_inputs(&mut v, stim[c][l]);
            let mut t = vec![0u64; d.gates.len()];
            d.unit(&mut v, &mut t);
            if count {
                for (k, g) in d.gates.iter().enumerate() {
                    timed[k] += t[k];
                    zero[k] += u64::from(before[g.y] != v[g.y]);
                }
            }
        }
    }
    let x = net.input("x").unwrap();
    let mut sim = Sim::with_delay(&net, ToggleMode::Time, Delay::Unit);
    for c in 0..cycles {
        sim.set_values(x, &stim[c]);
        sim.eval();
        let mut mask = [0u64; LANE_WORDS];
        for (l, &m) in masks[c].iter().enumerate() {
            mask[l / 64] |= u64::from(m) << (l % 64);
        }
        sim.count_time(&mask).unwrap();
        sim.clock(lanes);
    }
    let what = format!("time seed {seed}");
    invariants(&sim, &what);
    assert_eq!(by_cell(&net, sim.toggles(), &d), timed, "{what}: timed");
    assert_eq!(
        by_cell(&net, sim.zero_delay_toggles(), &d),
        zero,
        "{what}: zero"
    );
}

#[test]
fn unit_delay_over_lanes_matches_the_scalar_oracle() {
    let (mut timed, mut zero) = (0, 0);
    for seed in 0..24 {
        let (t, z) = lanes_case(seed, 3 + seed as usize % 10, 20 + 9 * seed as usize, 1300);
        timed += t;
        zero += z;
    }
    // Random reconvergent logic glitches: the netlists together must show it.
    assert!(timed > zero, "no glitch at all: {timed} vs {zero}");
}

#[test]
fn unit_delay_over_time_matches_the_scalar_oracle() {
    for seed in 0..12 {
        time_case(
            100 + seed,
            2 + seed as usize % 6,
            1 + seed as usize % 7,
            30 + 10 * seed as usize,
            if seed % 3 == 0 { 130 } else { 7 },
            60,
        );
    }
}

#[test]
fn zero_delay_is_the_default_and_unchanged() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let d = Design::random(&mut rng, 8, 0, 120);
    let net = Netlist::from_yosys_json(&d.json(), "t", "random.json", None).unwrap();
    let x = net.input("x").unwrap();
    let mut a = Sim::new(&net, ToggleMode::Lanes);
    let mut b = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Zero);
    let mut u = Sim::with_delay(&net, ToggleMode::Lanes, Delay::Unit);
    let y = net.output("y").unwrap();
    for _ in 0..5 {
        let w: Vec<u64> = (0..LANES).map(|_| rng.gen::<u64>() & 0xFF).collect();
        for s in [&mut a, &mut b, &mut u] {
            s.set_values(x, &w);
            s.eval();
            s.count_lanes(LANES).unwrap();
        }
        assert_eq!(a.planes(y), u.planes(y));
    }
    assert_eq!(a.delay(), Delay::Zero);
    assert_eq!(a.toggles(), b.toggles());
    assert_eq!(a.toggles(), a.zero_delay_toggles());
    assert_eq!(a.toggles(), u.zero_delay_toggles());
    assert_eq!((a.timed_mismatches(), a.settle_time()), (0, 0));
    assert_eq!(lane_mask(LANES), [u64::MAX; LANE_WORDS]);
}

#[test]
fn delay_names_parse() {
    assert_eq!(Delay::parse("zero").unwrap(), Delay::Zero);
    assert_eq!(Delay::parse("unit").unwrap(), Delay::Unit);
    assert_eq!(Delay::default(), Delay::Zero);
    assert_eq!(Delay::parse("liberty").unwrap(), Delay::Liberty);
    let e = Delay::parse("transport").unwrap_err().0;
    assert!(
        e.contains("liberty") && e.contains("unit") && e.contains("zero"),
        "{e}"
    );
}

/// SKY130 cells with the function of a generic cell: (generic type, cell, input pins in the
/// generic pin order, output pin). Their Liberty functions compile to several instructions.
const SKY130: &[(&str, &str, &[&str], &str)] = &[
    ("$_NOT_", "sky130_fd_sc_hd__inv_1", &["A"], "Y"),
    ("$_NAND_", "sky130_fd_sc_hd__nand2_1", &["A", "B"], "Y"),
    ("$_XOR_", "sky130_fd_sc_hd__xor2_1", &["A", "B"], "X"),
    (
        "$_AOI3_",
        "sky130_fd_sc_hd__a21oi_1",
        &["A1", "A2", "B1"],
        "Y",
    ),
    ("$_MUX_", "sky130_fd_sc_hd__mux2_1", &["A0", "A1", "S"], "X"),
    (
        "$_OAI4_",
        "sky130_fd_sc_hd__o22ai_1",
        &["A1", "A2", "B1", "B2"],
        "Y",
    ),
    (
        "$_AOI4_",
        "sky130_fd_sc_hd__a22oi_1",
        &["A1", "A2", "B1", "B2"],
        "Y",
    ),
];

#[test]
fn a_liberty_cell_takes_one_time_unit_like_a_generic_gate() {
    let lib = pelab_sim::liberty::read(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sky130hd_tt.lib.gz"),
    )
    .unwrap();
    let kinds: Vec<(&'static str, &'static [&'static str])> = SKY130
        .iter()
        .map(|(g, ..)| *GATES.iter().find(|(k, _)| k == g).unwrap())
        .collect();
    let map = |kind: &str, _: &[&'static str]| {
        let (_, cell, pins, out) = SKY130.iter().find(|(g, ..)| *g == kind).unwrap();
        (cell.to_string(), pins.to_vec(), *out)
    };
    for seed in 0..6 {
        let mut rng = ChaCha8Rng::seed_from_u64(500 + seed);
        let flops = if seed % 2 == 0 { 0 } else { 3 };
        let d = Design::random_of(&mut rng, &kinds, 6, flops, 80);
        let generic = Netlist::from_yosys_json(&d.json(), "t", "generic.json", None).unwrap();
        let json = d.json_with(&map, ("sky130_fd_sc_hd__dfxtp_1", "CLK"));
        let mapped = Netlist::from_yosys_json(&json, "t", "sky130.json", Some(&lib)).unwrap();
        assert!(mapped.program.len() > generic.program.len());
        let mode = if flops == 0 {
            ToggleMode::Lanes
        } else {
            ToggleMode::Time
        };
        let mut sims = [
            Sim::with_delay(&generic, mode, Delay::Unit),
            Sim::with_delay(&mapped, mode, Delay::Unit),
        ];
        for _ in 0..6 {
            let w: Vec<u64> = (0..LANES).map(|_| rng.gen::<u64>() & 0x3F).collect();
            for s in sims.iter_mut() {
                let x = s.netlist().input("x").unwrap();
                s.set_values(x, &w);
                s.eval();
                if flops == 0 {
                    s.count_lanes(LANES).unwrap();
                } else {
                    s.count_time(&[u64::MAX; LANE_WORDS]).unwrap();
                    s.clock(LANES);
                }
            }
        }
        let what = format!("sky130 seed {seed}");
        for s in &sims {
            invariants(s, &what);
        }
        let g = by_cell(&generic, sims[0].toggles(), &d);
        let m = by_cell(&mapped, sims[1].toggles(), &d);
        assert_eq!(g, m, "{what}");
        assert!(
            g.iter().sum::<u64>()
                > by_cell(&generic, sims[0].zero_delay_toggles(), &d)
                    .iter()
                    .sum::<u64>(),
            "{what}: no glitch"
        );
    }
}
