//! Gate-level energy of whole arrays (`pelab_testbench::array::energy`): the figures add up,
//! the clock and leakage shares equal hand computations from the raw Nangate rows, the array
//! costs more per MAC than its cell alone on the same GEMMs, the figure per MAC does not move
//! with the number of GEMMs, a wrong circuit is refused, and the toggles the gate engine counts
//! equal those of an independent scalar simulation of the same Yosys netlist.

use pelab_hdl::array::cell::cell;
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_sim::array::GemmDims;
use pelab_testbench::array::{
    energy, energy_gemm, energy_with_lone_pe, energy_with_verilog, gaussian_cases, gaussian_data,
    mutant_pe, vectors, ArrayEnergy,
};
use pelab_testbench::gates::{run_gates, synthesized_netlist_hierarchical};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

fn spec(pe: &str, format: &str, policy: &str, r: usize, c: usize) -> ArraySpec {
    ArraySpec::new(cell(pe, format, policy).unwrap(), Dataflow::Os, r, c).unwrap()
}

/// The raw Nangate row whose Yosys gate is `gate`, read here independently of the model.
fn nangate(gate: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sim/data/nangate45_cells.csv"),
    )
    .unwrap();
    text.lines()
        .map(|l| l.split(',').map(String::from).collect::<Vec<_>>())
        .find(|f| f[1] == gate)
        .unwrap_or_else(|| panic!("no row for {gate}"))
}

fn num(s: &str) -> f64 {
    s.trim().parse().unwrap()
}

/// The cell types of a Yosys JSON netlist, one per instance.
fn cell_types(netlist: &PathBuf, top: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(netlist).unwrap()).unwrap();
    v["modules"][top]["cells"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["type"].as_str().unwrap().to_string())
        .collect()
}

/// Checks the figures of one measurement: finite and positive, the parts adding up, the
/// counts from the GEMMs, and clock and leakage from the raw Nangate rows.
fn check_figures(e: &ArrayEnergy) {
    let what = &e.module;
    for (name, x) in [
        ("total", e.pj_per_mac),
        ("dynamic", e.dynamic_pj_per_mac),
        ("clock", e.clock_pj_per_mac),
        ("leakage", e.leakage_pj_per_mac),
        ("area", e.area_um2),
        ("utilization", e.utilization),
    ] {
        assert!(x.is_finite() && x > 0.0, "{what}: {name} = {x}");
    }
    let sum = e.dynamic_pj_per_mac + e.clock_pj_per_mac + e.leakage_pj_per_mac;
    assert!(
        (e.pj_per_mac - sum).abs() <= 1e-9 * sum,
        "{what}: total {} != {sum}",
        e.pj_per_mac
    );
    let macs: u64 = e.gemms.iter().map(|g| (g.m * g.k * g.n) as u64).sum();
    assert_eq!(e.macs, macs, "{what}");
    assert!(
        e.utilization <= 1.0,
        "{what}: utilization {}",
        e.utilization
    );
    // Clock: every flip-flop, every simulated cycle, rise + fall clock-pin energy + C_CK·V².
    let types = cell_types(&e.netlist, &e.module);
    let flops = types.iter().filter(|t| *t == "$_DFF_P_").count();
    assert_eq!(flops, e.flip_flops, "{what}");
    let dff = nangate("$_DFF_P_");
    let ck = dff[4]
        .split_whitespace()
        .find_map(|c| c.strip_prefix("CK="))
        .map(num)
        .unwrap();
    let per_cycle_fj = num(&dff[7]) + num(&dff[8]) + ck * 1.1 * 1.1;
    let clock = flops as f64 * per_cycle_fj * e.cycles as f64 / macs as f64 * 1e-3;
    assert!(
        (e.clock_pj_per_mac - clock).abs() <= 1e-9 * clock,
        "{what}: clock {} pJ/MAC, by hand {clock}",
        e.clock_pj_per_mac
    );
    // Leakage: every cell for cycles / f per MAC ($_ANDNOT_/$_ORNOT_: AND2/OR2 + INV).
    let leak = |t: &str| -> f64 {
        match t {
            "$_ANDNOT_" => num(&nangate("$_AND_")[3]) + num(&nangate("$_NOT_")[3]),
            "$_ORNOT_" => num(&nangate("$_OR_")[3]) + num(&nangate("$_NOT_")[3]),
            t => num(&nangate(t)[3]),
        }
    };
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    for t in &types {
        *by_type.entry(t.as_str()).or_default() += 1;
    }
    let nw: f64 = by_type.iter().map(|(t, n)| leak(t) * *n as f64).sum();
    let leakage = nw * (e.cycles as f64 / macs as f64) / e.freq_ghz * 1e-6;
    assert!(
        (e.leakage_pj_per_mac - leakage).abs() <= 1e-9 * leakage,
        "{what}: leakage {} pJ/MAC, by hand {leakage}",
        e.leakage_pj_per_mac
    );
    // Provenance: technology, data, frequency and the zero-delay caveat.
    let all = e.provenance.join("\n");
    for want in ["generic-45nm", "Nangate", "data:", "GHz", "glitches"] {
        assert!(
            all.contains(want),
            "{what}: provenance lacks {want}:\n{all}"
        );
    }
}

/// The array against its cell alone (a 1x1 array of the same dataflow) on the same GEMMs.
fn array_against_lone_pe(spec: &ArraySpec) {
    let c = spec.cell.sim_cell().unwrap();
    let cases = gaussian_cases(&c, energy_gemm(spec), 1, 11);
    let r = energy_with_lone_pe(spec, &cases, 1.0, &gaussian_data(&c, 11)).unwrap();
    check_figures(&r.array);
    check_figures(&r.lone_pe);
    assert_eq!((r.lone_pe.spec.rows, r.lone_pe.spec.cols), (1, 1));
    assert_eq!(r.lone_pe.macs, r.array.macs);
    assert!(
        r.array.pj_per_mac >= r.lone_pe.pj_per_mac,
        "{}: array {} pJ/MAC below the lone PE's {}",
        r.array.module,
        r.array.pj_per_mac,
        r.lone_pe.pj_per_mac
    );
    // More flip-flops per MAC: skew, deskew and drain registers, fill and drain cycles.
    let flop_cycles = |e: &ArrayEnergy| e.flip_flops as f64 * e.cycles as f64 / e.macs as f64;
    assert!(flop_cycles(&r.array) > flop_cycles(&r.lone_pe));
    assert!(r.array.clock_pj_per_mac > r.lone_pe.clock_pj_per_mac);
    assert!((r.overhead - r.array.pj_per_mac / r.lone_pe.pj_per_mac).abs() < 1e-12);
    assert!(r.array.data.contains("Gaussian") && r.array.data.contains("seed 11"));
}

#[test]
fn int16fma_2x2_costs_more_per_mac_than_its_lone_pe() {
    array_against_lone_pe(&spec("int16fma", "int16", "wrap", 2, 2));
}

#[test]
fn lmul_e4m3_2x2_costs_more_per_mac_than_its_lone_pe() {
    array_against_lone_pe(&spec("lmul", "e4m3", "saturate", 2, 2));
}

#[test]
fn bitmod_2x2_costs_more_per_mac_than_its_lone_pe() {
    let s = ArraySpec::new(
        pelab_hdl::array::cell::bitmod_cell(),
        pelab_hdl::array::Dataflow::Os,
        2,
        2,
    )
    .unwrap();
    array_against_lone_pe(&s);
}

#[test]
fn twice_the_gemms_leave_the_energy_per_mac_within_ten_percent() {
    for s in [
        spec("int16fma", "int16", "wrap", 2, 2),
        spec("lmul", "e4m3", "saturate", 2, 2),
    ] {
        let c = s.cell.sim_cell().unwrap();
        let g = energy_gemm(&s);
        let one = energy(&s, &gaussian_cases(&c, g, 1, 21), 1.0).unwrap();
        let two = energy(&s, &gaussian_cases(&c, g, 2, 22), 1.0).unwrap();
        assert_eq!(two.macs, 2 * one.macs);
        let ratio = two.pj_per_mac / one.pj_per_mac;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{}: {} pJ/MAC with one GEMM, {} with two",
            s.module_name(),
            one.pj_per_mac,
            two.pj_per_mac
        );
    }
}

#[test]
fn bad_inputs_and_a_wrong_circuit_are_refused() {
    let s = spec("int16fma", "int16", "wrap", 1, 1);
    let c = s.cell.sim_cell().unwrap();
    let cases = gaussian_cases(&c, GemmDims { m: 2, k: 8, n: 2 }, 1, 3);
    for f in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = energy(&s, &cases, f).unwrap_err().to_string();
        assert!(e.contains("frequency"), "{f}: {e}");
    }
    let e = energy(&s, &[], 1.0).unwrap_err().to_string();
    assert!(e.contains("no GEMMs"), "{e}");
    // A PE whose result has bit 0 flipped: its outputs differ, so no energy is given.
    let v = s.verilog().unwrap().verilog;
    let bad = mutant_pe(&s, &v, 0, 0).unwrap();
    let e = energy_with_verilog(&s, &cases, 1.0, &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not match the model"), "{e}");
    // The same path with the emitted Verilog passes.
    energy_with_verilog(&s, &cases, 1.0, &v).unwrap();
}

/// Value of a Yosys bit: a net id, or a constant (`x` and `z` read as 0, as in the engine).
enum Bit {
    Net(usize),
    Const(bool),
}

fn bit(v: &Value) -> Bit {
    match v {
        Value::Number(n) => Bit::Net(n.as_u64().unwrap() as usize),
        Value::String(s) => Bit::Const(s == "1"),
        other => panic!("bad bit {other}"),
    }
}

/// One cell of [`Scalar`]: name, type, input pins (pin, bit) and output bit.
type ScalarCell = (String, String, Vec<(String, Bit)>, Bit);

/// A scalar simulation of a Yosys JSON netlist of generic gates and `$_DFF_P_`, written from
/// the Yosys manual's cell semantics (its own topological order), counting the output toggles
/// of each cell between consecutive cycles as the energy flow defines them: inputs of a row
/// applied, logic settled, values sampled, then the clock edge.
struct Scalar {
    /// Cell name, type, input pins (pin, bit) and output bit.
    cells: Vec<ScalarCell>,
    /// Combinational cells in evaluation order.
    order: Vec<usize>,
    /// Flip-flops: (cell, Q net).
    flops: Vec<(usize, usize)>,
    ports: HashMap<String, Vec<usize>>,
    nets: usize,
}

impl Scalar {
    fn load(path: &PathBuf, top: &str) -> Scalar {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let m = &v["modules"][top];
        let mut nets = 0;
        let mut ports = HashMap::new();
        for (name, p) in m["ports"].as_object().unwrap() {
            let bits: Vec<usize> = p["bits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| match bit(b) {
                    Bit::Net(n) => n,
                    Bit::Const(_) => usize::MAX,
                })
                .collect();
            nets = bits
                .iter()
                .filter(|&&b| b != usize::MAX)
                .fold(nets, |a, &b| a.max(b + 1));
            ports.insert(name.clone(), bits);
        }
        let mut cells = Vec::new();
        for (name, c) in m["cells"].as_object().unwrap() {
            let ty = c["type"].as_str().unwrap().to_string();
            let dirs = c["port_directions"].as_object().unwrap();
            let mut ins = Vec::new();
            let mut out = None;
            for (pin, bits) in c["connections"].as_object().unwrap() {
                let bits = bits.as_array().unwrap();
                assert_eq!(bits.len(), 1, "{name}: multi-bit pin {pin}");
                let b = bit(&bits[0]);
                if let Bit::Net(n) = b {
                    nets = nets.max(n + 1);
                }
                if dirs[pin] == "output" {
                    out = Some(b);
                } else {
                    ins.push((pin.clone(), b));
                }
            }
            cells.push((name.clone(), ty, ins, out.expect("an output pin")));
        }
        // Drivers, then a depth-first order of the combinational cells from every net.
        let mut driver = vec![usize::MAX; nets];
        let mut flops = Vec::new();
        for (k, (_, ty, ins, out)) in cells.iter().enumerate() {
            if let Bit::Net(n) = out {
                driver[*n] = k;
            }
            if ty == "$_DFF_P_" {
                let Bit::Net(q) = out else {
                    panic!("constant Q")
                };
                let d = ins.iter().find(|(p, _)| p == "D").unwrap();
                let Bit::Net(_) = d.1 else {
                    panic!("constant D")
                };
                flops.push((k, *q));
            }
        }
        let mut state = vec![0u8; cells.len()]; // 0 new, 1 on the stack, 2 placed
        let mut order = Vec::new();
        for start in 0..cells.len() {
            let mut stack = vec![(start, false)];
            while let Some((k, expanded)) = stack.pop() {
                if cells[k].1 == "$_DFF_P_" || state[k] == 2 {
                    continue;
                }
                if expanded {
                    state[k] = 2;
                    order.push(k);
                    continue;
                }
                assert_ne!(state[k], 1, "combinational loop through {}", cells[k].0);
                state[k] = 1;
                stack.push((k, true));
                for (_, b) in &cells[k].2 {
                    if let Bit::Net(n) = b {
                        let d = driver[*n];
                        if d != usize::MAX && state[d] == 0 {
                            stack.push((d, false));
                        }
                    }
                }
            }
        }
        Scalar {
            cells,
            order,
            flops,
            ports,
            nets,
        }
    }

    /// Runs `inputs` (one map of port values per cycle) from power-up (every net 0) and
    /// returns each cell's output toggles by name.
    fn toggles(&self, inputs: &[Vec<(String, u64)>]) -> HashMap<String, u64> {
        let mut v = vec![false; self.nets];
        let get = |v: &[bool], b: &Bit| match b {
            Bit::Net(n) => v[*n],
            Bit::Const(c) => *c,
        };
        let mut last: Option<Vec<bool>> = None;
        let mut counts = vec![0u64; self.cells.len()];
        for row in inputs {
            for (name, value) in row {
                for (i, &n) in self.ports[name].iter().enumerate() {
                    if n != usize::MAX {
                        v[n] = value >> i & 1 == 1;
                    }
                }
            }
            for &k in &self.order {
                let (name, ty, ins, out) = &self.cells[k];
                let p = |pin: &str| {
                    let b = &ins.iter().find(|(q, _)| q == pin).unwrap().1;
                    get(&v, b)
                };
                let y = match ty.as_str() {
                    "$_BUF_" => p("A"),
                    "$_NOT_" => !p("A"),
                    "$_AND_" => p("A") & p("B"),
                    "$_NAND_" => !(p("A") & p("B")),
                    "$_OR_" => p("A") | p("B"),
                    "$_NOR_" => !(p("A") | p("B")),
                    "$_XOR_" => p("A") ^ p("B"),
                    "$_XNOR_" => !(p("A") ^ p("B")),
                    "$_ANDNOT_" => p("A") & !p("B"),
                    "$_ORNOT_" => p("A") | !p("B"),
                    "$_MUX_" => {
                        if p("S") {
                            p("B")
                        } else {
                            p("A")
                        }
                    }
                    "$_NMUX_" => !(if p("S") { p("B") } else { p("A") }),
                    "$_AOI3_" => !((p("A") & p("B")) | p("C")),
                    "$_OAI3_" => !((p("A") | p("B")) & p("C")),
                    "$_AOI4_" => !((p("A") & p("B")) | (p("C") & p("D"))),
                    "$_OAI4_" => !((p("A") | p("B")) & (p("C") | p("D"))),
                    other => panic!("{name}: cell type {other} has no scalar model here"),
                };
                if let Bit::Net(n) = out {
                    v[*n] = y;
                }
            }
            let outs: Vec<bool> = self
                .cells
                .iter()
                .map(|(_, _, _, out)| get(&v, out))
                .collect();
            if let Some(prev) = &last {
                for (k, (a, b)) in prev.iter().zip(&outs).enumerate() {
                    counts[k] += u64::from(a != b);
                }
            }
            last = Some(outs);
            // The rising edge: every Q takes its D.
            let next: Vec<bool> = self
                .flops
                .iter()
                .map(|&(k, _)| {
                    get(
                        &v,
                        &self.cells[k].2.iter().find(|(p, _)| p == "D").unwrap().1,
                    )
                })
                .collect();
            for (&(_, q), d) in self.flops.iter().zip(next) {
                v[q] = d;
            }
        }
        self.cells
            .iter()
            .zip(counts)
            .filter(|((_, _, _, out), _)| matches!(out, Bit::Net(_)))
            .map(|((name, ..), c)| (name.clone(), c))
            .collect()
    }
}

#[test]
fn engine_toggles_equal_an_independent_scalar_simulation() {
    let s = spec("int16fma", "int16", "wrap", 2, 2);
    let c = s.cell.sim_cell().unwrap();
    let cases = gaussian_cases(&c, energy_gemm(&s), 1, 5);
    let v = vectors(&s, &cases).unwrap();
    assert!(v.rows.len() < 4096, "one segment of rows");
    let m = s.verilog().unwrap();
    let (net, path) = synthesized_netlist_hierarchical(&m.verilog, &m.name).unwrap();
    let (run, act) = run_gates(&net, &v.layout, &v.rows, true, true).unwrap();
    assert_eq!(run.unwrap().failed, 0);
    assert_eq!(act.lane_cycles, v.rows.len() as u64);
    let inputs: Vec<Vec<(String, u64)>> = v
        .rows
        .iter()
        .map(|r| {
            v.layout
                .inputs()
                .zip(r)
                .map(|(f, &x)| (f.name.clone(), x))
                .collect()
        })
        .collect();
    let want = Scalar::load(&path, &m.name).toggles(&inputs);
    let mut got: HashMap<String, u64> = HashMap::new();
    for (&(_, ci), &t) in net.counted.iter().zip(&act.toggles) {
        *got.entry(net.cells[ci].name.clone()).or_default() += t;
    }
    assert_eq!(got.len(), want.len(), "counted cells");
    let differ: Vec<_> = want
        .iter()
        .filter(|(k, t)| got.get(*k) != Some(t))
        .take(5)
        .collect();
    assert!(differ.is_empty(), "cells whose toggles differ: {differ:?}");
    let total: u64 = want.values().sum();
    assert_eq!(act.toggles.iter().sum::<u64>(), total);
    assert!(total > 0);
    // And the energy of those rows prices exactly that many toggles.
    let e = energy(&s, &cases, 1.0).unwrap();
    let priced = e.energy.toggles_per_op * e.macs as f64;
    assert!((priced - total as f64).abs() < 1e-6 * total as f64);
}
