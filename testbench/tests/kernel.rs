//! The compiled gate-engine kernel against the interpreter, the reference: on the gate netlist
//! of every registered configuration (generic gates), on SKY130-mapped netlists (library cells
//! with internal nets), on arrays, under zero and unit delay, the kernel gives the same verdict,
//! the same mismatches and the same toggle count on every net. A kernel compiled from a netlist
//! with one gate changed is caught by the same comparison, and the exhaustive check through the
//! kernel finds exactly the failures the interpreter finds.

use pelab_hdl::array::cell::cell;
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_hdl::RtlConfig;
use pelab_sim::netlist::{Delay, Netlist, Op};
use pelab_testbench::gates::{
    check_exhaustive, run_gates_with, synthesized_netlist, synthesized_netlist_hierarchical,
    GateActivity,
};
use pelab_testbench::kernel::attach;
use pelab_testbench::vectors::{generate, Layout, Timing};
use pelab_testbench::{pes, CaseSet, PeVectors, Shard, SimRun};
use rayon::prelude::*;
use std::time::Instant;

/// A copy of `net` running compiled (the original stays interpreted).
fn compiled(net: &Netlist) -> Netlist {
    let mut k = net.clone();
    k.kernel = Default::default();
    attach(&k).unwrap_or_else(|e| panic!("{}: {e}", net.source));
    assert!(net.kernel.get().is_none() && k.kernel.get().is_some());
    k
}

type Outcome = (Option<SimRun>, GateActivity);

fn run(net: &Netlist, layout: &Layout, rows: &[Vec<u64>], delay: Delay) -> Outcome {
    run_gates_with(net, layout, rows, true, true, delay)
        .unwrap_or_else(|e| panic!("{}: {e}", net.source))
}

/// Everything two runs report, as comparable text (mismatch order aside).
fn summary((run, act): &Outcome) -> String {
    let run = run.as_ref().expect("checked runs have a verdict");
    let mut shown: Vec<String> = run.mismatches.iter().map(|m| format!("{m:?}")).collect();
    shown.sort();
    format!(
        "{:?} passed {} failed {} shown {shown:?} lane_cycles {} samples {} settle {}",
        run.status, run.passed, run.failed, act.lane_cycles, act.samples, act.settle_time
    )
}

/// Asserts that `a` (interpreted) and `b` (compiled) agree on everything, net by net.
fn same(what: &str, net: &Netlist, a: &Outcome, b: &Outcome) {
    assert_eq!(summary(a), summary(b), "{what}: verdicts differ");
    for (k, (x, y)) in a.1.toggles.iter().zip(&b.1.toggles).enumerate() {
        assert_eq!(
            x,
            y,
            "{what}: toggles of net {}",
            net.net_name(net.counted[k].0)
        );
    }
    assert_eq!(a.1.zero_delay_toggles, b.1.zero_delay_toggles, "{what}");
    assert!(
        a.1.toggles.iter().sum::<u64>() > 0,
        "{what}: nothing toggled, the comparison would prove nothing"
    );
}

fn vectors(pe: &dyn PeVectors, c: &RtlConfig) -> Vec<Vec<u64>> {
    let layout = pe.layout(c).unwrap();
    let set = match layout.timing {
        Timing::Cycles => CaseSet::Count(60),
        _ => CaseSet::Count(3000),
    };
    generate(pe, c, set, 0x4B, Shard::ALL).unwrap().rows
}

#[test]
fn every_registered_configuration_runs_the_same_compiled() {
    let t = Instant::now();
    let mut jobs = Vec::new();
    for pe in pes() {
        for c in pe.rtl.configs() {
            jobs.push((pe, c));
        }
    }
    let done: Vec<String> = jobs
        .par_iter()
        .map(|(pe, c)| {
            let what = format!("{} {c:?}", pe.vectors.id());
            let m = pe.rtl.verilog(c).unwrap();
            let (net, _) = synthesized_netlist(&m.verilog, &m.name, None).unwrap();
            let layout = pe.vectors.layout(c).unwrap();
            let rows = vectors(pe.vectors, c);
            let k = compiled(&net);
            let a = run(&net, &layout, &rows, Delay::Zero);
            let b = run(&k, &layout, &rows, Delay::Zero);
            same(&what, &net, &a, &b);
            assert_eq!(
                a.0.as_ref().unwrap().failed,
                0,
                "{what}: the reference vectors fail"
            );
            what
        })
        .collect();
    assert!(done.len() > 10, "only {} configurations", done.len());
    println!(
        "{} configurations: compiled = interpreted, in {:.1?}",
        done.len(),
        t.elapsed()
    );
}

/// lmul e4m3's netlist and vectors.
fn lmul_e4m3() -> (Netlist, Layout, Vec<Vec<u64>>) {
    let pe = pelab_testbench::pe("lmul").unwrap();
    let c = RtlConfig::new("e4m3", "saturate", 0);
    let m = pe.rtl.verilog(&c).unwrap();
    let (net, _) = synthesized_netlist(&m.verilog, &m.name, None).unwrap();
    (net, pe.vectors.layout(&c).unwrap(), vectors(pe.vectors, &c))
}

#[test]
fn unit_delay_and_liberty_cells_run_the_same_compiled() {
    // Unit delay: the timed stepping reads every net the kernel stores.
    let (net, layout, rows) = lmul_e4m3();
    let k = compiled(&net);
    same(
        "lmul e4m3 unit delay",
        &net,
        &run(&net, &layout, &rows, Delay::Unit),
        &run(&k, &layout, &rows, Delay::Unit),
    );
    // SKY130 cells: library functions compiled to operations on internal nets.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sim/tests/data/sky130hd_tt.lib.gz");
    let lib = pelab_sim::liberty::read(&path).unwrap();
    for (pe, f, p) in [("fpmul", "e4m3", "saturate"), ("fp16mac", "fp16", "ieee")] {
        let pe = pelab_testbench::pe(pe).unwrap();
        let c = RtlConfig::new(f, p, 0);
        let m = pe.rtl.verilog(&c).unwrap();
        let (net, _) = synthesized_netlist(&m.verilog, &m.name, Some((&path, &lib))).unwrap();
        let layout = pe.vectors.layout(&c).unwrap();
        let rows = vectors(pe.vectors, &c);
        let k = compiled(&net);
        same(
            &format!("{} sky130", m.name),
            &net,
            &run(&net, &layout, &rows, Delay::Zero),
            &run(&k, &layout, &rows, Delay::Zero),
        );
    }
}

#[test]
fn arrays_run_the_same_compiled() {
    for (pe, f, p) in [("lmul", "e4m3", "saturate"), ("bitmod", "fp16", "bitmod34")] {
        let spec = ArraySpec::new(cell(pe, f, p).unwrap(), Dataflow::Os, 2, 3).unwrap();
        let m = spec.verilog().unwrap();
        let (net, _) = synthesized_netlist_hierarchical(&m.verilog, &m.name).unwrap();
        let cases = pelab_testbench::array::random_cases(
            &spec.cell.sim_cell().unwrap(),
            pelab_testbench::array::default_gemm(&spec),
            2,
            7,
        );
        let v = pelab_testbench::array::vectors(&spec, &cases).unwrap();
        let k = compiled(&net);
        same(
            &m.name,
            &net,
            &run(&net, &v.layout, &v.rows, Delay::Zero),
            &run(&k, &v.layout, &v.rows, Delay::Zero),
        );
    }
}

/// `net` with instruction `i` changed to another operation of the same operands.
fn mutant(net: &Netlist, i: usize) -> Netlist {
    let mut m = net.clone();
    m.kernel = Default::default();
    let ins = &mut m.program[i];
    ins.op = match ins.op {
        Op::And => Op::Or,
        Op::Or => Op::And,
        Op::Xor => Op::Xnor,
        Op::Xnor => Op::Xor,
        Op::Nand => Op::Nor,
        Op::Nor => Op::Nand,
        Op::AndNot => Op::OrNot,
        Op::OrNot => Op::AndNot,
        Op::Not => Op::Buf,
        Op::Buf => Op::Not,
        Op::Mux => Op::NMux,
        Op::NMux => Op::Mux,
        Op::Aoi3 => Op::Oai3,
        Op::Oai3 => Op::Aoi3,
        Op::Aoi4 => Op::Oai4,
        Op::Oai4 => Op::Aoi4,
    };
    m
}

#[test]
fn a_kernel_of_a_changed_gate_is_caught_and_exhaustive_checks_agree() {
    let (net, layout, rows) = lmul_e4m3();
    // The comparison can fail: a kernel compiled from a netlist with one gate changed (in
    // the middle of the program) differs from the interpreter on the original.
    let bad = compiled(&mutant(&net, net.program.len() / 2));
    let a = run(&net, &layout, &rows, Delay::Zero);
    let b = run(&bad, &layout, &rows, Delay::Zero);
    assert_ne!(
        (summary(&a), a.1.toggles.clone()),
        (summary(&b), b.1.toggles.clone()),
        "a changed gate went unnoticed"
    );
    // Exhaustive (2^16 pairs, outputs only stored): the same verdict on the netlist and on a
    // mutant, interpreted and compiled.
    let pe = pelab_testbench::pe("lmul").unwrap().vectors;
    let c = RtlConfig::new("e4m3", "saturate", 0);
    for (what, n) in [
        ("original", net.clone()),
        ("mutant", mutant(&net, net.program.len() / 2)),
    ] {
        let k = compiled(&n);
        let x = check_exhaustive(&n, pe, &c, &layout, 0..1 << 16, &|_| {}).unwrap();
        let y = check_exhaustive(&k, pe, &c, &layout, 0..1 << 16, &|_| {}).unwrap();
        let key = |r: &SimRun| {
            let mut m: Vec<String> = r.mismatches.iter().map(|m| format!("{m:?}")).collect();
            m.sort();
            (r.passed, r.failed, m)
        };
        assert_eq!(key(&x), key(&y), "{what}");
        assert_eq!(x.passed + x.failed, 1 << 16, "{what}");
        if what == "original" {
            assert_eq!(x.failed, 0);
        } else {
            assert!(x.failed > 0, "the mutant passes every pair");
        }
    }
}
