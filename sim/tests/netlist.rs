//! The gate-level engine ([`pelab_sim::netlist`]) against oracles written here:
//! - every generic gate, on every input combination, against its definition in the Yosys
//!   manual;
//! - every flip-flop type the engine accepts, on random input sequences, against a model of
//!   Yosys' semantics (synchronous reset over enable for `$_SDFFE_`, reset only when enabled for
//!   `$_SDFFCE_`, asynchronous resets at once), `init` attributes included;
//! - toggle counts, over lanes and over time, against a naive recount by a scalar interpreter
//!   of the JSON netlist that evaluates one vector at a time;
//! - netlists mapped onto the sky130 Liberty fixture against Rust arithmetic;
//! - the errors met on netlists the engine does not simulate.
//!
//! The netlists come from Yosys, run here on small Verilog in a temporary directory; without
//! Yosys these tests fail and say so.

mod generic_gates;

use generic_gates::{truth, GATES};
use pelab_sim::liberty::{self, Library};
use pelab_sim::netlist::{Netlist, Sim, ToggleMode, Word, LANES, LANE_WORDS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// Yosys and the engine
// ---------------------------------------------------------------------------------------------

/// ABC's generic gate set, `$_NMUX_` included.
const ABC_GATES: &str = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX,NMUX,AOI3,OAI3,AOI4,OAI4";

/// A fresh temporary directory for one Yosys run.
fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-sim-netlist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}

/// Runs Yosys: reads `verilog` (`-icells`, so that `\$_AND_` instantiates Yosys' own cell),
/// runs `commands`, and returns the JSON netlist it writes.
fn yosys(name: &str, verilog: &str, commands: &str) -> String {
    yosys_with(name, verilog, commands, &[])
}

/// [`yosys`] with more files (name, content) in its working directory.
fn yosys_with(name: &str, verilog: &str, commands: &str, files: &[(&str, &[u8])]) -> String {
    let dir = work_dir(name);
    std::fs::write(dir.join("input.v"), verilog).unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let script = format!("read_verilog -icells input.v\n{commands}\nwrite_json netlist.json\n");
    std::fs::write(dir.join("script.ys"), script).unwrap();
    let out = Command::new("yosys")
        .args(["-q", "-l", "yosys.log", "-s", "script.ys"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run yosys ({e}): these tests synthesize their netlists with Yosys; \
                 install it (apt-get install yosys)"
            )
        });
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!(
            "yosys failed on {name}:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let json = std::fs::read_to_string(dir.join("netlist.json")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    json
}

/// pelab's generic flow (flattened synthesis, ABC onto the generic gates); `legalize` turns
/// every flip-flop into a plain `$_DFF_P_` as pelab's own flow does, else Yosys keeps its
/// enable and reset flip-flop types.
fn generic_flow(top: &str, legalize: bool) -> String {
    let legal = if legalize {
        "dfflegalize -cell $_DFF_P_ 01\n"
    } else {
        ""
    };
    format!(
        "hierarchy -check -top {top}\nsynth -flatten -top {top}\n{legal}abc -g {ABC_GATES}\n\
         opt_clean -purge"
    )
}

/// The Liberty flow of `pelab_hdl::synth::synthesize_liberty` on library file `lib`;
/// `extra_ffs` names more flip-flop types that `dfflegalize` may keep (asynchronous resets).
fn liberty_flow(top: &str, lib: &str, extra_ffs: &str) -> String {
    format!(
        "hierarchy -check -top {top}\nsynth -flatten -top {top}\n\
         dfflegalize -cell $_DFF_P_ 01 {extra_ffs}\ndfflibmap -liberty \"{lib}\"\n\
         abc -liberty \"{lib}\"\nopt_clean -purge"
    )
}

fn load(json: &str, top: &str, lib: Option<&Library>) -> Netlist {
    Netlist::from_yosys_json(json, top, &format!("{top}.json"), lib)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn set(sim: &mut Sim, name: &str, vals: &[u64]) {
    let p = sim.netlist().input(name).unwrap_or_else(|e| panic!("{e}"));
    sim.set_values(p, vals);
}

fn get(sim: &Sim, name: &str, lanes: usize) -> Vec<u64> {
    let p = sim.netlist().output(name).unwrap_or_else(|e| panic!("{e}"));
    let mut v = vec![0; lanes];
    sim.values(p, &mut v);
    v
}

/// Toggles of a simulation by (cell instance, output pin).
fn sim_toggles(net: &Netlist, toggles: &[u64]) -> BTreeMap<(String, String), u64> {
    assert_eq!(toggles.len(), net.counted.len());
    let mut m = BTreeMap::new();
    for (&(n, ci), &t) in net.counted.iter().zip(toggles) {
        let c = &net.cells[ci];
        let pin = c
            .outputs
            .iter()
            .find(|(_, m)| *m == n)
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| panic!("counted net {n} is no output of cell {}", c.name));
        assert!(
            m.insert((c.name.clone(), pin), t).is_none(),
            "cell {} counted twice",
            c.name
        );
    }
    m
}

/// Asserts that two toggle maps are equal, showing the first differences.
fn same_toggles(
    what: &str,
    got: &BTreeMap<(String, String), u64>,
    want: &BTreeMap<(String, String), u64>,
) {
    let got_keys: BTreeSet<_> = got.keys().collect();
    let want_keys: BTreeSet<_> = want.keys().collect();
    assert_eq!(
        got_keys, want_keys,
        "{what}: the engine counts other cell outputs than the netlist has"
    );
    let diff: Vec<String> = want
        .iter()
        .filter(|(k, v)| got[*k] != **v)
        .take(10)
        .map(|(k, v)| format!("{}.{}: engine {}, recount {v}", k.0, k.1, got[k]))
        .collect();
    assert!(diff.is_empty(), "{what}:\n{}", diff.join("\n"));
    let total: u64 = want.values().sum();
    assert!(total > 0, "{what}: no toggle at all, the check is empty");
}

// ---------------------------------------------------------------------------------------------
// Generic gates
// ---------------------------------------------------------------------------------------------

#[test]
fn every_generic_gate_matches_its_truth_table() {
    let mut v = String::new();
    for (i, (kind, pins)) in GATES.iter().enumerate() {
        let ports: Vec<String> = pins
            .iter()
            .map(|p| format!("input {}", p.to_lowercase()))
            .collect();
        let conns: Vec<String> = pins
            .iter()
            .map(|p| format!(".{p}({})", p.to_lowercase()))
            .collect();
        writeln!(
            v,
            "module gate_{i}({}, output y);\n  \\{kind} g ({}, .Y(y));\nendmodule",
            ports.join(", "),
            conns.join(", ")
        )
        .unwrap();
    }
    let json = yosys("gates", &v, "hierarchy");
    for (i, (kind, pins)) in GATES.iter().enumerate() {
        let net = load(&json, &format!("gate_{i}"), None);
        assert_eq!(net.cells.len(), 1, "{kind}");
        assert_eq!(net.cells[0].kind, *kind);
        assert!(net.flops.is_empty() && net.clock.is_none(), "{kind}");
        assert_eq!(net.counted.len(), 1, "{kind}: its output is counted");
        // Lane l holds input combination l % 2^pins: every word of the step is used.
        let combos = 1usize << pins.len();
        let mut sim = Sim::new(&net, ToggleMode::Off);
        for (k, p) in pins.iter().enumerate() {
            let vals: Vec<u64> = (0..LANES).map(|l| ((l % combos) >> k & 1) as u64).collect();
            set(&mut sim, &p.to_lowercase(), &vals);
        }
        sim.eval();
        let y = get(&sim, "y", LANES);
        for (l, &y) in y.iter().enumerate() {
            let x: Vec<bool> = (0..pins.len())
                .map(|k| (l % combos) >> k & 1 == 1)
                .collect();
            assert_eq!(
                y == 1,
                truth(kind, &x),
                "{kind} at {pins:?} = {x:?} (lane {l})"
            );
        }
    }
    println!(
        "{} generic gate types on every input combination",
        GATES.len()
    );
}

#[test]
fn constants_and_undriven_bits_read_as_documented() {
    let v = r"
module consts(input a, output [5:0] y);
  wire u;
  \$_AND_ g0 (.A(a), .B(1'b1), .Y(y[0]));
  \$_OR_ g1 (.A(1'b0), .B(a), .Y(y[1]));
  \$_XOR_ g2 (.A(a), .B(1'b1), .Y(y[2]));
  \$_OR_ g3 (.A(u), .B(1'bx), .Y(y[3]));
  assign y[4] = 1'b1;
  assign y[5] = 1'bx;
endmodule
";
    let json = yosys("consts", v, "hierarchy -top consts");
    let net = load(&json, "consts", None);
    let mut sim = Sim::new(&net, ToggleMode::Off);
    set(&mut sim, "a", &[0, 1]);
    sim.eval();
    // y = {x -> 0, 1, undriven | x -> 0, !a, a, a}.
    assert_eq!(get(&sim, "y", 2), [0b01_0100, 0b01_0011]);
}

// ---------------------------------------------------------------------------------------------
// Flip-flops
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// `$_DFF_[NP]_`.
    Dff,
    /// `$_DFFE_[NP][NP]_`.
    Dffe,
    /// `$_SDFF_[NP][NP][01]_`.
    Sdff,
    /// `$_SDFFE_[NP][NP][01][NP]_`.
    Sdffe,
    /// `$_SDFFCE_[NP][NP][01][NP]_`.
    Sdffce,
    /// `$_DFF_[NP][NP][01]_`.
    Adff,
    /// `$_DFFE_[NP][NP][01][NP]_`.
    Adffe,
}

/// A Yosys flip-flop type: family, clock edge, reset level and value, enable level.
#[derive(Clone, Copy, Debug)]
struct FlopType {
    family: Family,
    clk_pos: bool,
    rst_high: bool,
    rst_val: bool,
    en_high: bool,
}

impl FlopType {
    /// Every type of the families above (70).
    fn all() -> Vec<FlopType> {
        use Family::*;
        let mut v = Vec::new();
        for family in [Dff, Dffe, Sdff, Sdffe, Sdffce, Adff, Adffe] {
            for clk_pos in [true, false] {
                for rst_high in [true, false] {
                    for rst_val in [false, true] {
                        for en_high in [true, false] {
                            let t = FlopType {
                                family,
                                clk_pos,
                                rst_high,
                                rst_val,
                                en_high,
                            };
                            if (!t.has_reset() && (!rst_high || rst_val))
                                || (!t.has_enable() && !en_high)
                            {
                                continue;
                            }
                            v.push(t);
                        }
                    }
                }
            }
        }
        v
    }
    fn has_reset(&self) -> bool {
        !matches!(self.family, Family::Dff | Family::Dffe)
    }
    fn has_enable(&self) -> bool {
        matches!(
            self.family,
            Family::Dffe | Family::Sdffe | Family::Sdffce | Family::Adffe
        )
    }
    fn is_async(&self) -> bool {
        matches!(self.family, Family::Adff | Family::Adffe)
    }
    fn name(&self) -> String {
        let p = |b: bool| if b { 'P' } else { 'N' };
        let (c, r, v, e) = (
            p(self.clk_pos),
            p(self.rst_high),
            if self.rst_val { '1' } else { '0' },
            p(self.en_high),
        );
        match self.family {
            Family::Dff => format!("$_DFF_{c}_"),
            Family::Dffe => format!("$_DFFE_{c}{e}_"),
            Family::Sdff => format!("$_SDFF_{c}{r}{v}_"),
            Family::Sdffe => format!("$_SDFFE_{c}{r}{v}{e}_"),
            Family::Sdffce => format!("$_SDFFCE_{c}{r}{v}{e}_"),
            Family::Adff => format!("$_DFF_{c}{r}{v}_"),
            Family::Adffe => format!("$_DFFE_{c}{r}{v}{e}_"),
        }
    }
    /// The state seen once the inputs are applied: an active asynchronous reset forces it.
    fn visible(&self, q: bool, r: bool) -> bool {
        if self.is_async() && r == self.rst_high {
            self.rst_val
        } else {
            q
        }
    }
    /// The state after an active clock edge, from the pin levels before it (Yosys' simcells).
    fn next(&self, q: bool, d: bool, r: bool, e: bool) -> bool {
        let r = self.has_reset() && r == self.rst_high;
        let e = !self.has_enable() || e == self.en_high;
        let v = self.rst_val;
        match self.family {
            Family::Dff => d,
            Family::Dffe => {
                if e {
                    d
                } else {
                    q
                }
            }
            Family::Sdff | Family::Adff => {
                if r {
                    v
                } else {
                    d
                }
            }
            // Reset first, whatever the enable.
            Family::Sdffe | Family::Adffe => {
                if r {
                    v
                } else if e {
                    d
                } else {
                    q
                }
            }
            // Reset only in an enabled cycle.
            Family::Sdffce => match (e, r) {
                (false, _) => q,
                (true, true) => v,
                (true, false) => d,
            },
        }
    }
}

#[test]
fn every_flip_flop_type_matches_a_model_of_its_yosys_semantics() {
    let t0 = Instant::now();
    let types = FlopType::all();
    assert_eq!(types.len(), 70);
    let inits = [None, Some(false), Some(true)];
    let mut v = String::new();
    for (i, t) in types.iter().enumerate() {
        for (j, init) in inits.iter().enumerate() {
            let attr = match init {
                None => "",
                Some(false) => "(* init = 1'b0 *) ",
                Some(true) => "(* init = 1'b1 *) ",
            };
            let mut conns = vec![".C(c)", ".D(d)"];
            if t.has_reset() {
                conns.push(".R(r)");
            }
            if t.has_enable() {
                conns.push(".E(e)");
            }
            writeln!(
                v,
                "module flop_{i}_{j}(input c, input d, input r, input e, input a, output q, \
                 output y);\n  {attr}wire s;\n  \\{} ff ({}, .Q(s));\n  \
                 \\$_XOR_ x (.A(s), .B(a), .Y(y));\n  assign q = s;\nendmodule",
                t.name(),
                conns.join(", ")
            )
            .unwrap();
        }
    }
    let json = yosys("flops", &v, "hierarchy");
    let mut rng = ChaCha8Rng::seed_from_u64(0xF10F);
    const CYCLES: usize = 96;
    for (i, t) in types.iter().enumerate() {
        for (j, init) in inits.iter().enumerate() {
            let name = t.name();
            let net = load(&json, &format!("flop_{i}_{j}"), None);
            assert_eq!(net.flops.len(), 1, "{name}");
            assert_eq!(net.cells.len(), 2, "{name}");
            let what = format!("{name} init {init:?}");
            let mut sim = Sim::new(&net, ToggleMode::Off);
            let mut q = vec![init.unwrap_or(false); LANES];
            for cycle in 0..CYCLES {
                // Control pins active in about 1/4 (reset) and 2/3 (enable) of the cycles.
                let bits = |rng: &mut ChaCha8Rng, p: f64, high: bool| -> Vec<u64> {
                    (0..LANES)
                        .map(|_| u64::from(rng.gen_bool(p) == high))
                        .collect()
                };
                let d = bits(&mut rng, 0.5, true);
                let r = bits(&mut rng, 0.25, t.rst_high);
                let e = bits(&mut rng, 0.65, t.en_high);
                let a = bits(&mut rng, 0.5, true);
                for (pin, vals) in [("d", &d), ("r", &r), ("e", &e), ("a", &a)] {
                    set(&mut sim, pin, vals);
                }
                // The outputs the model gives with state `q`, checked against the engine's;
                // returns the visible flip-flop values.
                let outputs_match = |sim: &Sim, q: &[bool], when: &str| -> Vec<bool> {
                    let (gq, gy) = (get(sim, "q", LANES), get(sim, "y", LANES));
                    (0..LANES)
                        .map(|l| {
                            let vis = t.visible(q[l], r[l] == 1);
                            assert_eq!(
                                (gq[l] == 1, gy[l] == 1),
                                (vis, vis ^ (a[l] == 1)),
                                "{what}, cycle {cycle}, lane {l}, {when} the edge: d={} r={} e={}",
                                d[l],
                                r[l],
                                e[l]
                            );
                            vis
                        })
                        .collect()
                };
                sim.eval();
                let vis = outputs_match(&sim, &q, "before");
                for l in 0..LANES {
                    q[l] = t.next(vis[l], d[l] == 1, r[l] == 1, e[l] == 1);
                }
                sim.clock(LANES);
                sim.eval();
                outputs_match(&sim, &q, "after");
            }
            assert_eq!(sim.lane_cycles, (CYCLES * LANES) as u64);
        }
    }
    println!(
        "{} flip-flop types x 3 init attributes, {CYCLES} cycles x {LANES} lanes each, in {:.2?}",
        types.len(),
        t0.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// A scalar interpreter of Yosys JSON netlists (the naive oracle of the toggle counts)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bit {
    Const(bool),
    Net(usize),
}

fn bit(v: &Value) -> Bit {
    match v {
        Value::Number(n) => Bit::Net(n.as_u64().unwrap() as usize),
        Value::String(s) => Bit::Const(s == "1"),
        other => panic!("bad bit {other}"),
    }
}

enum Model<'l> {
    Gate(Vec<Bit>),
    Flop(FlopType),
    Lib(&'l liberty::Cell),
}

struct ScalarCell<'l> {
    name: String,
    kind: String,
    conns: BTreeMap<String, Bit>,
    outs: Vec<String>,
    model: Model<'l>,
}

/// One vector at a time, every net computed on demand from its driver (memoized per vector).
struct Scalar<'l> {
    inputs: BTreeMap<String, Vec<Bit>>,
    outputs: BTreeMap<String, Vec<Bit>>,
    cells: Vec<ScalarCell<'l>>,
    /// Driver of each net: (cell, output index).
    driver: Vec<Option<(usize, usize)>>,
    /// Every cell output on a net: (cell, output index).
    watched: Vec<(usize, usize)>,
    /// Initial state of each cell (flip-flops).
    init: Vec<bool>,
}

/// The state of one stream.
struct Stream {
    state: Vec<bool>,
    memo: Vec<Option<bool>>,
}

impl<'l> Scalar<'l> {
    fn new(json: &str, top: &str, lib: Option<&'l Library>) -> Scalar<'l> {
        let v: Value = serde_json::from_str(json).unwrap();
        let m = &v["modules"][top];
        let flop_types: BTreeMap<String, FlopType> =
            FlopType::all().into_iter().map(|t| (t.name(), t)).collect();
        let mut nets = 0;
        let mut see = |b: Bit| {
            if let Bit::Net(n) = b {
                nets = nets.max(n + 1);
            }
            b
        };
        let (mut inputs, mut outputs) = (BTreeMap::new(), BTreeMap::new());
        for (name, p) in m["ports"].as_object().unwrap() {
            let bits: Vec<Bit> = p["bits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| see(bit(b)))
                .collect();
            match p["direction"].as_str().unwrap() {
                "input" => inputs.insert(name.clone(), bits),
                _ => outputs.insert(name.clone(), bits),
            };
        }
        let mut cells = Vec::new();
        for (name, c) in m["cells"].as_object().unwrap() {
            let kind = c["type"].as_str().unwrap().to_string();
            let conns: BTreeMap<String, Bit> = c["connections"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(p, b)| {
                    let b = b.as_array().unwrap();
                    assert_eq!(b.len(), 1, "{name}.{p}");
                    (p.clone(), see(bit(&b[0])))
                })
                .collect();
            let (model, outs) = if let Some((_, pins)) = GATES.iter().find(|g| g.0 == kind) {
                (
                    Model::Gate(pins.iter().map(|p| conns[*p]).collect()),
                    vec!["Y".to_string()],
                )
            } else if let Some(t) = flop_types.get(&kind) {
                (Model::Flop(*t), vec!["Q".to_string()])
            } else {
                let lc = lib
                    .and_then(|l| l.cells.get(&kind))
                    .unwrap_or_else(|| panic!("scalar model: unknown cell type {kind}"));
                let outs = lc
                    .outputs()
                    .map(|p| p.name.clone())
                    .filter(|p| conns.contains_key(p))
                    .collect();
                (Model::Lib(lc), outs)
            };
            cells.push(ScalarCell {
                name: name.clone(),
                kind,
                conns,
                outs,
                model,
            });
        }
        let mut driver = vec![None; nets];
        let mut watched = Vec::new();
        for (ci, c) in cells.iter().enumerate() {
            for (oi, p) in c.outs.iter().enumerate() {
                if let Bit::Net(n) = c.conns[p] {
                    assert!(driver[n].is_none(), "net {n} driven twice");
                    driver[n] = Some((ci, oi));
                    watched.push((ci, oi));
                }
            }
        }
        // `init` attributes: most significant bit first.
        let mut init_of = BTreeMap::new();
        for n in m["netnames"].as_object().unwrap().values() {
            if let Some(s) = n["attributes"]["init"].as_str() {
                for (k, b) in n["bits"].as_array().unwrap().iter().enumerate() {
                    if let Bit::Net(id) = bit(b) {
                        init_of.insert(id, s.as_bytes()[s.len() - 1 - k] == b'1');
                    }
                }
            }
        }
        let init = cells
            .iter()
            .map(|c| match c.model {
                Model::Flop(_) => match c.conns["Q"] {
                    Bit::Net(n) => init_of.get(&n).copied().unwrap_or(false),
                    Bit::Const(_) => false,
                },
                _ => {
                    for p in &c.outs {
                        if let Bit::Net(n) = c.conns[p] {
                            assert!(
                                !matches!(c.model, Model::Lib(l) if l.ff.is_some())
                                    || !init_of.contains_key(&n),
                                "scalar model: no init for library flip-flops"
                            );
                        }
                    }
                    false
                }
            })
            .collect();
        Scalar {
            inputs,
            outputs,
            cells,
            driver,
            watched,
            init,
        }
    }

    fn stream(&self) -> Stream {
        Stream {
            state: self.init.clone(),
            memo: vec![None; self.driver.len()],
        }
    }

    /// (cell instance, pin) of each entry of a sample.
    fn keys(&self) -> Vec<(String, String)> {
        self.watched
            .iter()
            .map(|&(ci, oi)| (self.cells[ci].name.clone(), self.cells[ci].outs[oi].clone()))
            .collect()
    }

    fn value(&self, s: &mut Stream, b: Bit) -> bool {
        match b {
            Bit::Const(v) => v,
            Bit::Net(n) => {
                if let Some(v) = s.memo[n] {
                    return v;
                }
                let v = match self.driver[n] {
                    Some((ci, oi)) => self.cell_output(s, ci, oi),
                    None => false,
                };
                s.memo[n] = Some(v);
                v
            }
        }
    }

    fn pin(&self, s: &mut Stream, ci: usize, pin: &str) -> bool {
        match self.cells[ci].conns.get(pin) {
            Some(&b) => self.value(s, b),
            None => false,
        }
    }

    /// The pins of library cell `ci` that `exprs` read (unconnected ones 0) and, for a
    /// flip-flop, its visible state (IQ, IQN).
    fn lib_env(
        &self,
        s: &mut Stream,
        ci: usize,
        lc: &liberty::Cell,
        exprs: &[&liberty::Expr],
    ) -> Vec<(String, bool)> {
        let mut names: Vec<String> = exprs.iter().flat_map(|e| e.vars()).collect();
        let ff = lc.ff.as_ref();
        names.extend(
            ff.iter()
                .flat_map(|f| [&f.clear, &f.preset])
                .flatten()
                .flat_map(|e| e.vars()),
        );
        names.sort();
        names.dedup();
        let state: Vec<&str> = ff
            .iter()
            .flat_map(|f| [f.iq.as_str(), f.iqn.as_str()])
            .collect();
        let mut env: Vec<(String, bool)> = names
            .into_iter()
            .filter(|n| !state.contains(&n.as_str()))
            .map(|n| {
                let v = self.pin(s, ci, &n);
                (n, v)
            })
            .collect();
        if let Some(ff) = ff {
            let look = |env: &[(String, bool)], v: &str| {
                env.iter()
                    .find(|(n, _)| n == v)
                    .unwrap_or_else(|| panic!("{}: unknown name {v}", lc.name))
                    .1
            };
            let on =
                |e: &Option<liberty::Expr>| e.as_ref().is_some_and(|e| e.eval(&|v| look(&env, v)));
            let q = if on(&ff.clear) {
                false
            } else if on(&ff.preset) {
                true
            } else {
                s.state[ci]
            };
            env.push((ff.iq.clone(), q));
            env.push((ff.iqn.clone(), !q));
        }
        env
    }

    fn cell_output(&self, s: &mut Stream, ci: usize, oi: usize) -> bool {
        let c = &self.cells[ci];
        match &c.model {
            Model::Gate(ins) => {
                let x: Vec<bool> = ins.iter().map(|&b| self.value(s, b)).collect();
                truth(&c.kind, &x)
            }
            Model::Flop(t) => {
                let r = self.pin(s, ci, "R");
                t.visible(s.state[ci], r)
            }
            Model::Lib(lc) => {
                let f = lc.pin(&c.outs[oi]).unwrap().function.as_ref().unwrap();
                let env = self.lib_env(s, ci, lc, &[f]);
                f.eval(&|v| {
                    env.iter()
                        .find(|(n, _)| n == v)
                        .unwrap_or_else(|| panic!("{}: unknown name {v}", lc.name))
                        .1
                })
            }
        }
    }

    /// Applies `inputs` (by port name; ports not given are 0) and returns the output ports
    /// and the value of every watched cell output.
    fn step(&self, s: &mut Stream, inputs: &[(&str, u64)]) -> (BTreeMap<String, u64>, Vec<bool>) {
        s.memo.iter_mut().for_each(|m| *m = None);
        for (name, bits) in &self.inputs {
            let v = inputs
                .iter()
                .find(|(n, _)| n == name)
                .map(|p| p.1)
                .unwrap_or(0);
            for (k, b) in bits.iter().enumerate() {
                if let Bit::Net(n) = b {
                    s.memo[*n] = Some(v >> k & 1 == 1);
                }
            }
        }
        let sample = self
            .watched
            .iter()
            .map(|&(ci, oi)| {
                let c = &self.cells[ci];
                self.value(s, c.conns[&c.outs[oi]])
            })
            .collect();
        let mut outs = BTreeMap::new();
        for (name, bits) in &self.outputs {
            let mut v = 0u64;
            for (k, &b) in bits.iter().enumerate() {
                v |= u64::from(self.value(s, b)) << k;
            }
            outs.insert(name.clone(), v);
        }
        (outs, sample)
    }

    /// An active clock edge, from the values of the last [`Scalar::step`].
    fn edge(&self, s: &mut Stream) {
        let mut next = s.state.clone();
        for (ci, c) in self.cells.iter().enumerate() {
            match &c.model {
                Model::Flop(t) => {
                    let r = self.pin(s, ci, "R");
                    let q = t.visible(s.state[ci], r);
                    let d = self.pin(s, ci, "D");
                    let e = self.pin(s, ci, "E");
                    next[ci] = t.next(q, d, r, e);
                }
                Model::Lib(lc) if lc.ff.is_some() => {
                    let ff = lc.ff.as_ref().unwrap();
                    let env = self.lib_env(s, ci, lc, &[&ff.next_state]);
                    let look = |v: &str| env.iter().find(|(n, _)| n == v).unwrap().1;
                    let on = |e: &Option<liberty::Expr>| e.as_ref().is_some_and(|e| e.eval(&look));
                    next[ci] = if on(&ff.clear) {
                        false
                    } else if on(&ff.preset) {
                        true
                    } else {
                        ff.next_state.eval(&look)
                    };
                }
                _ => {}
            }
        }
        s.state = next;
    }
}

// ---------------------------------------------------------------------------------------------
// Designs with an arithmetic model
// ---------------------------------------------------------------------------------------------

/// A small design, its ports and a Rust model of it.
struct Design {
    top: &'static str,
    verilog: &'static str,
    /// Inputs (the clock excluded) and widths; `rst`, `arst` and `en` are drawn as controls.
    inputs: &'static [(&'static str, u32)],
    /// Outputs.
    outputs: &'static [&'static str],
    /// Initial state.
    init: u64,
    /// The state once the inputs are applied (asynchronous resets) and the outputs then.
    observe: fn(u64, &[u64]) -> (u64, Vec<u64>),
    /// The state after a clock edge, from the observed state and the inputs.
    next: fn(u64, &[u64]) -> u64,
}

impl Design {
    fn random_inputs(&self, rng: &mut ChaCha8Rng) -> Vec<u64> {
        self.inputs
            .iter()
            .map(|&(name, w)| match name {
                "rst" | "arst" => u64::from(rng.gen_bool(0.08)),
                "en" => u64::from(rng.gen_bool(0.7)),
                _ => {
                    let v = rng.gen::<u64>() & ((1 << w) - 1);
                    // Some extreme operands, so that carries run the whole width.
                    match rng.gen_range(0..8) {
                        0 => 0,
                        1 => (1 << w) - 1,
                        _ => v,
                    }
                }
            })
            .collect()
    }
}

const MIX16: Design = Design {
    top: "mix16",
    verilog: "module mix16(input [15:0] a, input [15:0] b, input ci, output [16:0] s, \
              output [15:0] m);\n  assign s = a + b + ci;\n  assign m = (a < b) ? a : b;\n\
              endmodule\n",
    inputs: &[("a", 16), ("b", 16), ("ci", 1)],
    outputs: &["m", "s"],
    init: 0,
    observe: |_, x| (0, vec![x[0].min(x[1]), x[0] + x[1] + x[2]]),
    next: |_, _| 0,
};

const ACC: Design = Design {
    top: "acc",
    verilog: "module acc(input clk, input rst, input en, input [7:0] x, output [11:0] q, \
              output [11:0] y);\n  reg [11:0] r = 12'h0a5;\n  always @(posedge clk)\n    \
              if (rst) r <= 12'd0;\n    else if (en) r <= r + x;\n  assign q = r;\n  \
              assign y = r ^ {x, 4'b0000};\nendmodule\n",
    inputs: &[("rst", 1), ("en", 1), ("x", 8)],
    outputs: &["q", "y"],
    init: 0x0a5,
    observe: |r, x| (r, vec![r, (r ^ (x[2] << 4)) & 0xFFF]),
    next: |r, x| {
        if x[0] == 1 {
            0
        } else if x[1] == 1 {
            (r + x[2]) & 0xFFF
        } else {
            r
        }
    },
};

const CNT: Design = Design {
    top: "cnt",
    verilog: "module cnt(input clk, input arst, input en, input [7:0] x, output [7:0] c, \
              output [7:0] y);\n  reg [7:0] r;\n  always @(posedge clk or posedge arst)\n    \
              if (arst) r <= 8'h5a;\n    else if (en) r <= r + x;\n  assign c = r;\n  \
              assign y = r & x;\nendmodule\n",
    inputs: &[("arst", 1), ("en", 1), ("x", 8)],
    outputs: &["c", "y"],
    init: 0,
    observe: |r, x| {
        let r = if x[0] == 1 { 0x5a } else { r };
        (r, vec![r, r & x[2]])
    },
    next: |r, x| {
        if x[0] == 1 {
            0x5a
        } else if x[1] == 1 {
            (r + x[2]) & 0xFF
        } else {
            r
        }
    },
};

const MUL8: Design = Design {
    top: "mul8",
    verilog: "module mul8(input [7:0] a, input [7:0] b, output [15:0] p);\n  \
              assign p = a * b;\nendmodule\n",
    inputs: &[("a", 8), ("b", 8)],
    outputs: &["p"],
    init: 0,
    observe: |_, x| (0, vec![x[0] * x[1]]),
    next: |_, _| 0,
};

const MAC: Design = Design {
    top: "mac",
    verilog: "module mac(input clk, input rst, input en, input [7:0] a, input [7:0] b, \
              output [19:0] q);\n  reg [19:0] acc;\n  always @(posedge clk)\n    \
              if (rst) acc <= 20'd0;\n    else if (en) acc <= acc + a * b;\n  \
              assign q = acc;\nendmodule\n",
    inputs: &[("rst", 1), ("en", 1), ("a", 8), ("b", 8)],
    outputs: &["q"],
    init: 0,
    observe: |r, _| (r, vec![r]),
    next: |r, x| {
        if x[0] == 1 {
            0
        } else if x[1] == 1 {
            (r + x[2] * x[3]) & 0xF_FFFF
        } else {
            r
        }
    },
};

const MAC_ASYNC: Design = Design {
    top: "mac_async",
    verilog: "module mac_async(input clk, input arst, input en, input [7:0] a, input [7:0] b, \
              output [19:0] q);\n  reg [19:0] acc;\n  always @(posedge clk or posedge arst)\n    \
              if (arst) acc <= 20'h5a5a5;\n    else if (en) acc <= acc + a * b;\n  \
              assign q = acc;\nendmodule\n",
    inputs: &[("arst", 1), ("en", 1), ("a", 8), ("b", 8)],
    outputs: &["q"],
    init: 0,
    observe: |r, x| {
        let r = if x[0] == 1 { 0x5a5a5 } else { r };
        (r, vec![r])
    },
    next: |r, x| {
        if x[0] == 1 {
            0x5a5a5
        } else if x[1] == 1 {
            (r + x[2] * x[3]) & 0xF_FFFF
        } else {
            r
        }
    },
};

/// Replays `vectors` on a combinational design in [`ToggleMode::Lanes`], `sizes` vectors per
/// step (cycled), and checks the outputs against the design's model; returns the toggles and
/// the samples counted.
fn run_lanes(
    d: &Design,
    net: &Netlist,
    vectors: &[Vec<u64>],
    sizes: &[usize],
) -> (BTreeMap<(String, String), u64>, u64) {
    let mut sim = Sim::new(net, ToggleMode::Lanes);
    let mut i = 0;
    let mut calls = 0;
    for &size in sizes.iter().cycle() {
        if i == vectors.len() {
            break;
        }
        let n = size.min(vectors.len() - i);
        let chunk = &vectors[i..i + n];
        for (k, &(name, _)) in d.inputs.iter().enumerate() {
            let vals: Vec<u64> = chunk.iter().map(|v| v[k]).collect();
            set(&mut sim, name, &vals);
        }
        sim.eval();
        sim.count_lanes(n).unwrap();
        for (k, name) in d.outputs.iter().enumerate() {
            let got = get(&sim, name, n);
            for (l, v) in chunk.iter().enumerate() {
                assert_eq!(
                    got[l],
                    (d.observe)(0, v).1[k],
                    "{} {name}, vector {}: inputs {v:?}",
                    d.top,
                    i + l
                );
            }
        }
        i += n;
        calls += 1;
    }
    assert!(calls > 1);
    (sim_toggles(net, sim.toggles()), sim.samples)
}

/// The naive recount of [`run_lanes`]: each vector evaluated alone, toggles counted between
/// consecutive vectors.
fn recount_lanes(d: &Design, sc: &Scalar, vectors: &[Vec<u64>]) -> BTreeMap<(String, String), u64> {
    let mut s = sc.stream();
    let mut counts = vec![0u64; sc.watched.len()];
    let mut prev: Option<Vec<bool>> = None;
    for v in vectors {
        let named: Vec<(&str, u64)> = d
            .inputs
            .iter()
            .map(|p| p.0)
            .zip(v.iter().copied())
            .collect();
        let (outs, sample) = sc.step(&mut s, &named);
        let want = (d.observe)(0, v).1;
        for (k, name) in d.outputs.iter().enumerate() {
            assert_eq!(
                outs[*name], want[k],
                "scalar model of {} {name} at {v:?}",
                d.top
            );
        }
        if let Some(p) = &prev {
            for (c, (a, b)) in counts.iter_mut().zip(p.iter().zip(&sample)) {
                *c += u64::from(a != b);
            }
        }
        prev = Some(sample);
    }
    sc.keys().into_iter().zip(counts).collect()
}

/// Runs `lanes` independent streams of `steps` random cycles of design `d` in
/// [`ToggleMode::Time`] (a random subset of the lanes sampled at each step), checks the outputs
/// against the model before and after every edge, and, with `scalar`, the toggles against a
/// naive per-lane recount.
fn run_time(
    d: &Design,
    net: &Netlist,
    scalar: Option<&Scalar>,
    lanes: usize,
    steps: usize,
    seed: u64,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sim = Sim::new(net, ToggleMode::Time);
    let mut state = vec![d.init; lanes];
    let mut streams: Vec<Stream> = scalar
        .map(|sc| (0..lanes).map(|_| sc.stream()).collect())
        .unwrap_or_default();
    let watched = scalar.map_or(0, |sc| sc.watched.len());
    let mut prev: Vec<Vec<bool>> = vec![Vec::new(); streams.len()];
    let mut counts = vec![0u64; watched];
    let (mut samples, mut lane_cycles) = (0u64, 0u64);
    for t in 0..steps {
        let x: Vec<Vec<u64>> = (0..lanes).map(|_| d.random_inputs(&mut rng)).collect();
        for (k, &(name, _)) in d.inputs.iter().enumerate() {
            let vals: Vec<u64> = x.iter().map(|v| v[k]).collect();
            set(&mut sim, name, &vals);
        }
        let mut mask: Word = [0; LANE_WORDS];
        for l in 0..lanes {
            if rng.gen_bool(0.85) {
                mask[l / 64] |= 1 << (l % 64);
            }
        }
        let in_mask = |l: usize| mask[l / 64] >> (l % 64) & 1 == 1;
        sim.eval();
        sim.count_time(&mask).unwrap();
        if t > 0 {
            samples += (0..lanes).filter(|&l| in_mask(l)).count() as u64;
        }
        let before: Vec<Vec<u64>> = d.outputs.iter().map(|o| get(&sim, o, lanes)).collect();
        let active = (0..lanes).filter(|&l| in_mask(l)).count();
        sim.clock(active);
        lane_cycles += active as u64;
        sim.eval();
        let after: Vec<Vec<u64>> = d.outputs.iter().map(|o| get(&sim, o, lanes)).collect();
        for l in 0..lanes {
            let (vis, want) = (d.observe)(state[l], &x[l]);
            for (k, name) in d.outputs.iter().enumerate() {
                assert_eq!(
                    before[k][l], want[k],
                    "{} {name}, step {t}, lane {l}, before the edge: state {:#x}, inputs {:?}",
                    d.top, state[l], x[l]
                );
            }
            state[l] = (d.next)(vis, &x[l]);
            let (_, want) = (d.observe)(state[l], &x[l]);
            for (k, name) in d.outputs.iter().enumerate() {
                assert_eq!(
                    after[k][l], want[k],
                    "{} {name}, step {t}, lane {l}, after the edge: state {:#x}, inputs {:?}",
                    d.top, state[l], x[l]
                );
            }
            if let Some(sc) = scalar {
                let named: Vec<(&str, u64)> = d
                    .inputs
                    .iter()
                    .map(|p| p.0)
                    .zip(x[l].iter().copied())
                    .collect();
                let (outs, sample) = sc.step(&mut streams[l], &named);
                for (k, name) in d.outputs.iter().enumerate() {
                    assert_eq!(
                        outs[*name], before[k][l],
                        "scalar model of {} {name}",
                        d.top
                    );
                }
                if t > 0 && in_mask(l) {
                    for (c, (a, b)) in counts.iter_mut().zip(prev[l].iter().zip(&sample)) {
                        *c += u64::from(a != b);
                    }
                }
                prev[l] = sample;
                sc.edge(&mut streams[l]);
            }
        }
    }
    assert_eq!(sim.samples, samples, "{}: samples", d.top);
    assert_eq!(sim.lane_cycles, lane_cycles, "{}: lane cycles", d.top);
    if let Some(sc) = scalar {
        let want: BTreeMap<_, _> = sc.keys().into_iter().zip(counts).collect();
        same_toggles(
            &format!("{} over time", d.top),
            &sim_toggles(net, sim.toggles()),
            &want,
        );
    }
}

/// Toggle-step sizes: not multiples of the lane count, the first one a single vector.
const SIZES: [usize; 9] = [1, 256, 100, 255, 37, 256, 2, 129, 64];

fn random_vectors(d: &Design, n: usize, seed: u64) -> Vec<Vec<u64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v: Vec<Vec<u64>> = Vec::with_capacity(n);
    for _ in 0..n {
        // Now and then the same vector twice: a transition without toggles.
        if rng.gen_bool(0.1) && !v.is_empty() {
            v.push(v[v.len() - 1].clone());
        } else {
            v.push(d.random_inputs(&mut rng));
        }
    }
    v
}

#[test]
fn lane_toggles_match_a_naive_recount() {
    let t0 = Instant::now();
    let d = &MIX16;
    let json = yosys(d.top, d.verilog, &generic_flow(d.top, true));
    let net = load(&json, d.top, None);
    // ABC emits only gate types checked by every_generic_gate_matches_its_truth_table.
    for kind in net.cell_counts().keys() {
        assert!(
            GATES.iter().any(|g| g.0 == kind),
            "untested cell type {kind}"
        );
    }
    let vectors = random_vectors(d, 3000, 0x1A4E);
    let (got, samples) = run_lanes(d, &net, &vectors, &SIZES);
    assert_eq!(samples, vectors.len() as u64 - 1);
    let sc = Scalar::new(&json, d.top, None);
    let want = recount_lanes(d, &sc, &vectors);
    same_toggles("mix16 over lanes", &got, &want);
    // The same stream, one vector per step.
    let (one, samples) = run_lanes(d, &net, &vectors, &[1]);
    assert_eq!(samples, vectors.len() as u64 - 1);
    same_toggles("mix16 over lanes, one vector per step", &one, &want);
    // Counting in the other mode is refused.
    assert!(Sim::new(&net, ToggleMode::Time).count_lanes(1).is_err());
    assert!(Sim::new(&net, ToggleMode::Off).count_lanes(1).is_err());
    assert!(Sim::new(&net, ToggleMode::Lanes)
        .count_time(&[u64::MAX; LANE_WORDS])
        .is_err());
    // Outputs on many more vectors.
    let many = random_vectors(d, 100_000, 7);
    run_lanes(d, &net, &many, &[LANES]);
    println!(
        "mix16 ({} cells): lane toggles of 3000 vectors against the recount, 100k vectors \
         against arithmetic, in {:.2?}",
        net.cells.len(),
        t0.elapsed()
    );
}

#[test]
fn time_toggles_match_a_naive_recount() {
    let t0 = Instant::now();
    // A combinational design as independent streams.
    let json = yosys("mix16-time", MIX16.verilog, &generic_flow("mix16", true));
    let net = load(&json, "mix16", None);
    let sc = Scalar::new(&json, "mix16", None);
    run_time(&MIX16, &net, Some(&sc), 200, 40, 1);
    // Registered designs: pelab's flow (plain D flip-flops), and Yosys' own enable, reset and
    // asynchronous reset flip-flop types.
    for (d, legalize, want) in [
        (&ACC, true, "$_DFF_P_"),
        (&ACC, false, "$_SDFF"),
        (&CNT, false, "$_DFFE_PP"),
    ] {
        let json = yosys(d.top, d.verilog, &generic_flow(d.top, legalize));
        let net = load(&json, d.top, None);
        let counts = net.cell_counts();
        assert!(
            counts.keys().any(|k| k.starts_with(want)),
            "{}: no {want} flip-flop in {counts:?}",
            d.top
        );
        let sc = Scalar::new(&json, d.top, None);
        run_time(d, &net, Some(&sc), 200, 60, 2);
        run_time(d, &net, None, LANES, 400, 3);
        println!(
            "{} ({} cells, {} flip-flops, {:?}): time toggles against the recount",
            d.top,
            net.cells.len(),
            net.flops.len(),
            counts
                .keys()
                .filter(|k| k.contains("DFF"))
                .collect::<Vec<_>>()
        );
    }
    println!("time toggles in {:.2?}", t0.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Liberty
// ---------------------------------------------------------------------------------------------

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sky130hd_tt.lib.gz")
}

/// The sky130 fixture: parsed once, and its uncompressed text for Yosys.
fn sky130() -> &'static (Library, Vec<u8>) {
    static LIB: OnceLock<(Library, Vec<u8>)> = OnceLock::new();
    LIB.get_or_init(|| {
        use std::io::Read;
        let lib = liberty::read(&fixture()).unwrap_or_else(|e| panic!("{e}"));
        let raw = std::fs::read(fixture()).unwrap();
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut text)
            .unwrap();
        (lib, text)
    })
}

fn liberty_netlist(d: &Design, extra_ffs: &str) -> (String, Netlist) {
    let (lib, text) = sky130();
    let file = "sky130hd_tt.lib";
    let json = yosys_with(
        d.top,
        d.verilog,
        &liberty_flow(d.top, file, extra_ffs),
        &[(file, text)],
    );
    let net = load(&json, d.top, Some(lib));
    for kind in net.cell_counts().keys() {
        assert!(
            kind.starts_with("sky130_fd_sc_hd__"),
            "{}: {kind} is not a library cell",
            d.top
        );
    }
    (json, net)
}

#[test]
fn liberty_multiplier_matches_arithmetic_and_counts_every_cell() {
    let t0 = Instant::now();
    let d = &MUL8;
    let (json, net) = liberty_netlist(d, "");
    assert!(net.flops.is_empty());
    // Every product.
    let all: Vec<Vec<u64>> = (0..1u64 << 16).map(|i| vec![i & 0xFF, i >> 8]).collect();
    run_lanes(d, &net, &all, &[LANES]);
    // Every output pin of every cell is counted, and counted right.
    let (lib, _) = sky130();
    let sc = Scalar::new(&json, d.top, Some(lib));
    let vectors = random_vectors(d, 2000, 0x3E8);
    let (got, _) = run_lanes(d, &net, &vectors, &SIZES);
    same_toggles(
        "mul8 (sky130) over lanes",
        &got,
        &recount_lanes(d, &sc, &vectors),
    );
    println!(
        "mul8 on sky130 ({} cells: {:?}): 65536 products, lane toggles, in {:.2?}",
        net.cells.len(),
        net.cell_counts(),
        t0.elapsed()
    );
}

#[test]
fn liberty_registered_designs_match_arithmetic() {
    let t0 = Instant::now();
    let (lib, _) = sky130();
    for (d, extra) in [
        (&MAC, ""),
        (&MAC_ASYNC, "-cell $_DFF_PP0_ 01 -cell $_DFF_PP1_ 01"),
    ] {
        let (json, net) = liberty_netlist(d, extra);
        assert_eq!(net.flops.len(), 20, "{}", d.top);
        run_time(d, &net, None, LANES, 300, 11);
        let sc = Scalar::new(&json, d.top, Some(lib));
        run_time(d, &net, Some(&sc), 48, 40, 12);
        let ffs: Vec<_> = net
            .cell_counts()
            .into_iter()
            .filter(|(k, _)| k.contains("__df"))
            .collect();
        println!(
            "{} on sky130: {} cells, flip-flops {ffs:?}",
            d.top,
            net.cells.len()
        );
        if d.top == "mac_async" {
            assert!(
                net.flops.iter().any(|f| !f.async_reset.is_empty()),
                "mac_async: its library flip-flops have an asynchronous clear or preset"
            );
        }
    }
    println!("registered sky130 designs in {:.2?}", t0.elapsed());
}

/// Library flip-flops keep their state internally: an `init` attribute on a net of either output
/// pin sets it, inverted for the inverted output. The cells are written as Yosys writes mapped
/// library cells, without port directions.
#[test]
fn liberty_flip_flops_take_init_from_either_output() {
    let (lib, _) = sky130();
    let json = r#"{"modules": {"m": {
        "ports": {"clk": {"direction": "input", "bits": [2]},
                  "d": {"direction": "input", "bits": [3]},
                  "qn": {"direction": "output", "bits": [4]},
                  "q": {"direction": "output", "bits": [5]}},
        "cells": {
          "ff_qn": {"type": "sky130_fd_sc_hd__dfxbp_1",
                    "connections": {"CLK": [2], "D": [3], "Q_N": [4]}},
          "ff_q": {"type": "sky130_fd_sc_hd__dfxtp_1",
                   "connections": {"CLK": [2], "D": [3], "Q": [5]}}},
        "netnames": {"qn": {"bits": [4], "attributes": {"init": "1"}},
                     "q": {"bits": [5], "attributes": {"init": "1"}}}}}}"#;
    let net = load(json, "m", Some(lib));
    assert_eq!(net.flops.len(), 2);
    assert_eq!(net.counted.len(), 2, "both output pins are counted");
    let mut sim = Sim::new(&net, ToggleMode::Off);
    sim.eval();
    // init 1 on Q_N: state 0; init 1 on Q: state 1.
    assert_eq!((get(&sim, "qn", 1), get(&sim, "q", 1)), (vec![1], vec![1]));
    for d in [0u64, 1, 1, 0] {
        set(&mut sim, "d", &[d]);
        sim.eval();
        sim.clock(1);
        sim.eval();
        assert_eq!(
            (get(&sim, "qn", 1), get(&sim, "q", 1)),
            (vec![d ^ 1], vec![d])
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A one-module netlist (module `m`) written by hand.
fn module_json(ports: &str, cells: &str) -> String {
    format!(r#"{{"modules": {{"m": {{"ports": {{{ports}}}, "cells": {{{cells}}}}}}}}}"#)
}

/// The pins of `spec`: input pins, `->`, then output pins, each `NAME=BITS` with the bits
/// comma-separated, e.g. `"A=2 B=3 -> Y=4"`; as (name, direction, bits).
fn pins(spec: &str) -> Vec<(&str, &str, String)> {
    let (ins, outs) = spec.split_once("->").unwrap_or((spec, ""));
    let mut v = Vec::new();
    for (list, dir) in [(ins, "input"), (outs, "output")] {
        for p in list.split_whitespace() {
            let (name, bits) = p.split_once('=').expect("NAME=BITS");
            v.push((name, dir, bits.replace(',', ", ")));
        }
    }
    v
}

/// The ports of module `m`, written as for [`pins`]: `"a=2 b=3 -> y=4"`.
fn module_ports(spec: &str) -> String {
    pins(spec)
        .iter()
        .map(|(name, dir, bits)| format!(r#""{name}": {{"direction": "{dir}", "bits": [{bits}]}}"#))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cell of type `kind` with the pins of `spec` (see [`pins`]).
fn cell(name: &str, kind: &str, spec: &str) -> String {
    let pins = pins(spec);
    let dirs: Vec<String> = pins
        .iter()
        .map(|(p, d, _)| format!(r#""{p}": "{d}""#))
        .collect();
    let conns: Vec<String> = pins
        .iter()
        .map(|(p, _, b)| format!(r#""{p}": [{b}]"#))
        .collect();
    format!(
        r#""{name}": {{"type": "{kind}", "port_directions": {{{}}}, "connections": {{{}}}}}"#,
        dirs.join(", "),
        conns.join(", ")
    )
}

fn load_err(json: &str, top: &str, source: &str, lib: Option<&Library>) -> String {
    match Netlist::from_yosys_json(json, top, source, lib) {
        Ok(_) => panic!("{source}: loaded, an error was expected"),
        Err(e) => e.to_string(),
    }
}

fn has_all(msg: &str, words: &[&str]) {
    for w in words {
        assert!(msg.contains(w), "'{w}' missing from: {msg}");
    }
}

#[test]
fn unsupported_cell_types_are_named_with_instance_and_source() {
    let ports = module_ports("a=2 b=3 -> y=4");
    for (kind, pins) in [
        ("$_DLATCH_P_", "E=2 D=3 -> Q=4"),
        ("$_DFFSR_PPP_", "C=2 S=3 R=3 D=2 -> Q=4"),
        ("$_SR_PP_", "S=2 R=3 -> Q=4"),
        ("$and", "A=2 B=3 -> Y=4"),
        ("sky130_fd_sc_hd__nand2_1", "A=2 B=3 -> Y=4"),
    ] {
        let json = module_json(&ports, &cell("u_odd7", kind, pins));
        let msg = load_err(&json, "m", "odd-cells.json", None);
        has_all(&msg, &[kind, "u_odd7", "odd-cells.json"]);
    }
    // With a library: a cell it does not define.
    let (lib, _) = sky130();
    let json = module_json(
        &ports,
        &cell("u_nope", "sky130_fd_sc_hd__nand7_9", "A=2 B=3 -> Y=4"),
    );
    let msg = load_err(&json, "m", "lib-cells.json", Some(lib));
    has_all(
        &msg,
        &["sky130_fd_sc_hd__nand7_9", "u_nope", "lib-cells.json"],
    );
}

#[test]
fn combinational_loops_are_errors() {
    let ports = module_ports("a=2 -> y=5");
    // A ring of two inverters.
    let ring = [
        cell("inv1", "$_NOT_", "A=5 -> Y=6"),
        cell("inv2", "$_NOT_", "A=6 -> Y=5"),
    ]
    .join(", ");
    let msg = load_err(&module_json(&ports, &ring), "m", "ring.json", None);
    has_all(&msg, &["loop", "ring.json"]);
    // A loop through an input-gated AND.
    let gated = [
        cell("g", "$_AND_", "A=2 B=6 -> Y=5"),
        cell("inv", "$_NOT_", "A=5 -> Y=6"),
    ]
    .join(", ");
    let msg = load_err(&module_json(&ports, &gated), "m", "gated.json", None);
    has_all(&msg, &["loop"]);
    // Yosys' own reading of a loop in Verilog.
    let v = "module lp(input a, output y);\n  wire w;\n  assign w = ~(a & y);\n  \
             assign y = ~w;\nendmodule\n";
    let json = yosys(
        "loop",
        v,
        "hierarchy -top lp\nproc\ntechmap\nabc -g AND,NAND,OR,NOR",
    );
    has_all(&load_err(&json, "lp", "lp.json", None), &["loop"]);
    // A flip-flop in the loop breaks it.
    let cut = [
        cell("g", "$_AND_", "A=2 B=6 -> Y=5"),
        cell("ff", "$_DFF_P_", "C=3 D=5 -> Q=6"),
    ]
    .join(", ");
    let ports = module_ports("a=2 clk=3 -> y=5");
    Netlist::from_yosys_json(&module_json(&ports, &cut), "m", "cut.json", None)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn multi_bit_cell_pins_are_errors() {
    let ports = module_ports("a=2,3 -> y=4");
    let wide = cell("w1", "$_AND_", "A=2,3 B=2 -> Y=4");
    let msg = load_err(&module_json(&ports, &wide), "m", "wide.json", None);
    has_all(&msg, &["w1", "A", "2 bits wide", "wide.json"]);
    // A netlist Yosys has not mapped to gates: word-level cells.
    let v = "module add4(input [3:0] a, input [3:0] b, output [3:0] s);\n  assign s = a + b;\nendmodule\n";
    let json = yosys("add4", v, "hierarchy -top add4\nproc\nopt");
    let msg = load_err(&json, "add4", "add4.json", None);
    has_all(&msg, &["$add", "4 bits wide", "add4.json"]);
}

#[test]
fn flip_flops_need_one_clock_port_and_edge() {
    let ff = |name: &str, kind: &str, clk: &str, q: &str| {
        cell(name, kind, &format!("C={clk} D=4 -> Q={q}"))
    };
    let ports = module_ports("c1=2 c2=3 d=4 -> y=5,6");
    // Two clock ports.
    let two = [
        ff("ff_a", "$_DFF_P_", "2", "5"),
        ff("ff_b", "$_DFF_P_", "3", "6"),
    ]
    .join(", ");
    let msg = load_err(&module_json(&ports, &two), "m", "two-clocks.json", None);
    has_all(&msg, &["ff_a", "ff_b", "clock", "two-clocks.json"]);
    // One port, both edges.
    let edges = [
        ff("ff_p", "$_DFF_P_", "2", "5"),
        ff("ff_n", "$_DFF_N_", "2", "6"),
    ]
    .join(", ");
    let msg = load_err(&module_json(&ports, &edges), "m", "edges.json", None);
    has_all(&msg, &["ff_p", "ff_n", "edges.json"]);
    // A clock made by logic.
    let gated = [
        cell("cg", "$_AND_", "A=2 B=3 -> Y=7"),
        ff("ff_g", "$_DFF_P_", "7", "5"),
    ]
    .join(", ");
    let msg = load_err(&module_json(&ports, &gated), "m", "gated-clock.json", None);
    has_all(&msg, &["clock", "port", "gated-clock.json"]);
    // One clock port and edge: fine, and the clock is that port.
    let one = [
        ff("ff_1", "$_DFF_N_", "3", "5"),
        cell("ff_2", "$_DFFE_NP_", "C=3 D=4 E=2 -> Q=6"),
    ]
    .join(", ");
    let net = Netlist::from_yosys_json(&module_json(&ports, &one), "m", "one.json", None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        net.clock,
        Some(net.inputs[net.input("c2").unwrap()].bits[0])
    );
}

#[test]
fn missing_modules_and_bad_json_are_errors() {
    let ports = module_ports("a=2 -> y=3");
    let json = module_json(&ports, &cell("n", "$_NOT_", "A=2 -> Y=3"));
    Netlist::from_yosys_json(&json, "m", "ok.json", None).unwrap_or_else(|e| panic!("{e}"));
    let msg = load_err(&json, "pelab_missing_top", "where.json", None);
    has_all(&msg, &["pelab_missing_top", "where.json"]);
    let msg = load_err("{\"modules\": ", "m", "cut-short.json", None);
    has_all(&msg, &["cut-short.json"]);
    // A net driven by two cells.
    let two = [
        cell("n1", "$_NOT_", "A=2 -> Y=3"),
        cell("n2", "$_BUF_", "A=2 -> Y=3"),
    ]
    .join(", ");
    let msg = load_err(&module_json(&ports, &two), "m", "two-drivers.json", None);
    has_all(&msg, &["two cells", "two-drivers.json"]);
}
