//! What the RTL tests share. Combinational Yosys generic-gate netlists evaluated on pelab's
//! gate-level engine ([`pelab_sim::netlist`]), so that the emitted Verilog is checked through
//! Yosys's reading of it rather than rust-hdl's simulation of the Rust description, and the
//! engine itself is checked against the reference models on every case of these tests; the
//! emitted module linted and synthesized; the streaming accumulators (`fp16mac`, `fp32acc`)
//! against their references cycle by cycle; operand streams through two-operand blocks.

#![allow(dead_code)]

pub use pelab_sim::netlist::LANES;

use pelab_hdl::emit::RtlModule;
use pelab_hdl::synth::{synthesize, Flow, SynthReport};
use pelab_hdl::tools::lint;
use pelab_hdl::{PeRtl, RtlConfig};
use pelab_sim::netlist::{self, Sim, ToggleMode};
use pelab_sim::pe::stream::Accumulator;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// A levelized combinational netlist.
pub struct Netlist {
    net: netlist::Netlist,
}

impl Netlist {
    /// Loads the top module of a Yosys JSON netlist mapped to generic gates; panics on any
    /// error of the engine, and on flip-flops (these tests evaluate combinational logic).
    pub fn parse(json: &str, top: &str) -> Netlist {
        let net = netlist::Netlist::from_yosys_json(json, top, &format!("netlist of {top}"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            net.flops.is_empty(),
            "{top}: {} flip-flops in a netlist evaluated as combinational logic",
            net.flops.len()
        );
        Netlist { net }
    }

    /// Evaluates up to [`LANES`] vectors: `inputs` gives each input port's values (one per
    /// vector, the same count for every port, every port of the module given); returns each
    /// output port's values.
    pub fn eval(&self, inputs: &[(&str, &[u64])]) -> HashMap<String, Vec<u64>> {
        let lanes = inputs[0].1.len();
        assert!(lanes <= LANES, "{lanes} vectors; at most {LANES} per call");
        let mut sim = Sim::new(&self.net, ToggleMode::Off);
        for (name, vals) in inputs {
            assert_eq!(vals.len(), lanes, "input {name}: {} values", vals.len());
            let p = self.net.input(name).unwrap_or_else(|e| panic!("{e}"));
            sim.set_values(p, vals);
        }
        for p in &self.net.inputs {
            assert!(
                inputs.iter().any(|(n, _)| *n == p.name),
                "no value for {}",
                p.name
            );
        }
        sim.eval();
        let mut out = HashMap::new();
        for (k, p) in self.net.outputs.iter().enumerate() {
            assert!(
                p.bits.len() <= 64,
                "output {} is wider than 64 bits",
                p.name
            );
            let mut vals = vec![0u64; lanes];
            sim.values(k, &mut vals);
            out.insert(p.name.clone(), vals);
        }
        out
    }
}

/// The PE `id`'s emitted module of `cfg`, linted (Verilator -Wall and the Yosys check) in a
/// scratch directory.
pub fn linted_module(id: &str, cfg: &RtlConfig) -> RtlModule {
    let m = pelab_hdl::find(id).unwrap().verilog(cfg).unwrap();
    let dir = std::env::temp_dir().join(format!("pelab-{id}-{}", std::process::id()));
    let path = pelab_hdl::emit::write_module(&dir, &m).unwrap();
    lint(&path, &m.name).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    m
}

/// `m` synthesized to generic gates and to iCE40 cells, both printed.
pub fn synthesized(m: &RtlModule) -> (SynthReport, SynthReport) {
    let g = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
    let ice = synthesize(&m.verilog, &m.name, Flow::Ice40).unwrap();
    println!(
        "{} generic: {} cells ({} logic, {} flip-flops), longest path {}; {:?}",
        m.name, g.cell_count, g.logic_cells, g.ffs, g.longest_path, g.cells
    );
    println!(
        "{} ice40: {} LUT4, {} carry, {} flip-flops, longest path {}",
        m.name, ice.luts, ice.carry, ice.ffs, ice.longest_path
    );
    (g, ice)
}

/// Asserts that `rtl`'s `simulate` refuses `rows` of `cfg` with an error that says `want`.
pub fn assert_rejects(rtl: &dyn PeRtl, cfg: &RtlConfig, rows: &[Vec<u64>], want: &str) {
    let e = rtl.simulate(cfg, rows).unwrap_err().to_string();
    assert!(e.contains(want), "{e}");
}

/// Asserts that the streaming accumulator `id`'s module of `cfg`, linted, is named `name`, has
/// latency 1, the ports `clock reset clear en`, the data inputs `data` and the 32-bit `acc`
/// (names and widths, in order), and a header that states the canonical NaN, ties to even,
/// (-0) + (-0) = -0 and reset to +0, and says each of `header`.
pub fn assert_accumulator_module(
    id: &str,
    cfg: &RtlConfig,
    name: &str,
    data: &[(&str, usize)],
    header: &[&str],
) {
    let m = linted_module(id, cfg);
    assert_eq!(m.name, name);
    assert_eq!(m.latency, 1);
    let ports: Vec<(&str, usize)> = m.ports.iter().map(|p| (p.name.as_str(), p.width)).collect();
    let mut want = vec![("clock", 1), ("reset", 1), ("clear", 1), ("en", 1)];
    want.extend_from_slice(data);
    want.push(("acc", 32));
    assert_eq!(ports, want);
    let every = [
        "0x7FC00000",
        "ties to even",
        "(-0) + (-0) = -0",
        "reset -> +0",
    ];
    for w in every.iter().chain(header) {
        assert!(m.verilog.contains(w), "header lacks '{w}'");
    }
}

/// The streaming accumulator `id`'s module of `cfg` synthesized ([`synthesized`]), asserted to
/// hold the 32 flip-flops of the accumulator register and no others.
pub fn accumulator_synthesized(id: &str, cfg: &RtlConfig) -> (SynthReport, SynthReport) {
    let (g, ice) = synthesized(&pelab_hdl::find(id).unwrap().verilog(cfg).unwrap());
    assert_eq!((g.ffs, ice.ffs), (32, 32), "the accumulator register only");
    (g, ice)
}

/// Each cycle of `rows` (rows of input ports) on the reference accumulator `M` from power-up
/// (+0): the inputs, the register before and after the rising edge.
pub fn reference_steps<M: Accumulator>(rows: &[Vec<u64>]) -> Vec<(M::Inputs, u32, u32)> {
    let mut m = M::default();
    let mut acc = 0;
    rows.iter()
        .map(|r| {
            let i = M::of_row(r);
            let before = acc;
            acc = m.clock(&i);
            (i, before, acc)
        })
        .collect()
}

/// Runs `rows` (rows of input ports) through `rtl`'s `simulate` and the reference
/// accumulator `M` from power-up; panics with the first cycles where the `acc` outputs differ.
pub fn check_accumulator<M: Accumulator>(
    rtl: &dyn PeRtl,
    cfg: &RtlConfig,
    what: &str,
    rows: &[Vec<u64>],
) {
    let got = rtl.simulate(cfg, rows).unwrap();
    assert_eq!(got.len(), rows.len());
    let bad: Vec<String> = reference_steps::<M>(rows)
        .iter()
        .zip(&got)
        .enumerate()
        .filter(|(_, ((_, _, want), g))| g[0] != *want as u64)
        .take(8)
        .map(|(i, ((inp, before, want), g))| {
            format!(
                "cycle {i}: acc {before:08X}, inputs {inp:?}: rtl {:08X}, reference {want:08X}",
                g[0]
            )
        })
        .collect();
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

/// At least `cycles` rows of random accumulations (`random` draws one) from `seed`.
pub fn accumulations<M: Accumulator>(
    cycles: usize,
    seed: u64,
    random: impl Fn(&mut ChaCha8Rng) -> Vec<M::Inputs>,
) -> Vec<Vec<u64>> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(cycles + 64);
    while rows.len() < cycles {
        rows.extend(random(&mut r).iter().map(M::row));
    }
    rows
}

/// A random INT16 operand: with `big`, within `spread` of `i16::MAX` or of `i16::MIN` (either,
/// at random); else uniform.
pub fn int16_operand(r: &mut ChaCha8Rng, big: bool, spread: i16) -> i16 {
    if !big {
        r.gen()
    } else if r.gen() {
        i16::MAX - r.gen_range(0..spread)
    } else {
        i16::MIN + r.gen_range(0..spread)
    }
}

/// Operands of a streaming accumulator that add +1, +2, +Inf, a NaN and -0 to its register.
pub struct Addends<T> {
    /// Adds +1.
    pub one: T,
    /// Adds +2.
    pub two: T,
    /// Adds +Inf.
    pub inf: T,
    /// Adds a NaN.
    pub nan: T,
    /// Adds -0.
    pub neg_zero: T,
}

/// The control priorities and hold of a streaming accumulator, written out by hand: the rows
/// (accumulate +1, hold with `en` low, `reset` beating `clear` and `en`, +2, `clear` beating
/// `en` (NaN not accumulated), +0 + (-0) = +0, +1, `reset` without `en`) and the `acc` after
/// each.
pub fn control_rows<M: Accumulator>(x: Addends<M::Operands>) -> (Vec<Vec<u64>>, Vec<u64>) {
    let row = |reset, clear, en, ops| M::row(&M::inputs(reset, clear, en, ops));
    let rows = vec![
        row(false, false, true, x.one),
        row(false, false, false, x.inf),
        row(true, true, true, x.inf),
        row(false, false, true, x.two),
        row(false, true, true, x.nan),
        row(false, false, true, x.neg_zero),
        row(false, false, true, x.one),
        row(true, false, false, x.one),
    ];
    let acc = vec![
        0x3F80_0000,
        0x3F80_0000,
        0,
        0x4000_0000,
        0,
        0,
        0x3F80_0000,
        0,
    ];
    (rows, acc)
}

/// The `acc` outputs of `rtl`'s `simulate` on `rows`.
pub fn simulated_acc(rtl: &dyn PeRtl, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Vec<u64> {
    let got = rtl.simulate(cfg, rows).unwrap();
    got.iter().map(|g| g[0]).collect()
}

/// Drives operand pairs `(a, b)` through a two-operand block with ports `a`, `b` and `y`:
/// `drive!(settled, block, pairs)` settles a combinational block after each pair and gives its
/// output for each; `drive!(clocked, block, pairs)` gives a pipelined block one pair per rising
/// edge of `clock` and the output seen after each edge.
#[allow(unused_macros)]
macro_rules! drive {
    (@step settled $uut:ident) => {
        pelab_hdl::sim::settle($uut)
    };
    (@step clocked $uut:ident) => {
        pelab_hdl::sim::tick($uut, |u| &mut u.clock)
    };
    ($kind:ident, $uut:expr, $pairs:expr) => {{
        let uut = &mut $uut;
        uut.connect_all();
        let mut out = Vec::with_capacity($pairs.len());
        for &(a, b) in $pairs {
            uut.a.next = bits(a);
            uut.b.next = bits(b);
            drive!(@step $kind uut).unwrap();
            out.push(uut.y.val().to_u64());
        }
        out
    }};
}
#[allow(unused_imports)]
pub(crate) use drive;
