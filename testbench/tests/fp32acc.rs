//! fp32acc through the whole chain: the vector layout against the emitted module's ports;
//! rust-hdl's in-process simulation of the block; the emitted Verilog in Icarus and Verilator
//! and, synthesized to generic gates by Yosys, on pelab's gate engine, each on the corner set
//! plus at least 20 000 random accumulations; one corrupted expected bit caught as exactly one
//! failure by every simulator; and the emitted Verilog proved equivalent to its gate netlist.

use pelab_hdl::{PortDir, RtlConfig};
use pelab_testbench::run::simulate_rusthdl;
use pelab_testbench::vectors::{generate, VectorSet};
use pelab_testbench::verify::{verify, Dut, Report};
use pelab_testbench::{CaseSet, Shard, Simulator, Status};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The vector codec of PE `id` (through the join).
fn find(id: &str) -> pelab_sim::Result<&'static dyn pelab_testbench::PeVectors> {
    pelab_testbench::pe(id).map(|p| p.vectors)
}

const LIMIT: Duration = Duration::from_secs(1200);

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-fp32acc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn cfg() -> RtlConfig {
    RtlConfig::new("fp32", "ieee", 0)
}

fn corners() -> u64 {
    find("fp32acc").unwrap().corner_cases(&cfg()).unwrap().len() as u64
}

/// The corner set and then `random` accumulations.
fn vectors(random: u64, seed: u64) -> VectorSet {
    let t = Instant::now();
    let cases = corners() + random;
    let v = generate(
        find("fp32acc").unwrap(),
        &cfg(),
        CaseSet::Count(cases),
        seed,
        Shard::ALL,
    )
    .unwrap();
    eprintln!(
        "fp32acc: {} corner and {random} random cases, {} rows generated in {:.2?}",
        corners(),
        v.rows.len(),
        t.elapsed()
    );
    v
}

fn run(name: &str, vec: &VectorSet, sims: &[Simulator]) -> Report {
    let dir = work(name);
    let r = verify(vec, &Dut::Emitted, sims, false, &dir, LIMIT).unwrap();
    for run in &r.runs {
        eprintln!(
            "fp32acc {name} on {}: {:?}, {} passed, {} failed of {} rows; compile {:.1} s, run \
             {:.1} s ({:.0} rows/s)",
            run.sim,
            run.status,
            run.passed,
            run.failed,
            r.rows,
            run.compile_secs,
            run.run_secs,
            run.vectors_per_sec
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn passes(name: &str, vec: &VectorSet, sims: &[Simulator]) {
    let r = run(name, vec, sims);
    assert_eq!(r.runs.len(), sims.len());
    for run in &r.runs {
        assert_eq!(
            run.status,
            Status::Passed,
            "{}: {:?}\n{}",
            run.sim,
            run.mismatches,
            run.log_tail
        );
        assert_eq!((run.passed, run.failed), (r.rows, 0), "{}", run.sim);
    }
}

#[test]
fn layout_is_the_emitted_module() {
    let m = pelab_hdl::find("fp32acc").unwrap().verilog(&cfg()).unwrap();
    let layout = find("fp32acc").unwrap().layout(&cfg()).unwrap();
    let fields: Vec<(String, u32, bool)> = layout
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.width, f.output))
        .collect();
    let ports: Vec<(String, u32, bool)> = m
        .ports
        .iter()
        .filter(|p| p.name != "clock")
        .map(|p| (p.name.clone(), p.width as u32, p.dir == PortDir::Output))
        .collect();
    assert_eq!(fields, ports, "vector columns in port order");
    assert!(layout.clocked() && !layout.care);
    assert_eq!(layout.restart, ["reset", "clear"]);
}

#[test]
fn rusthdl_block_passes_corners_and_random_accumulations() {
    let vec = vectors(3000, 11);
    let rtl = pelab_hdl::find("fp32acc").unwrap();
    let r = simulate_rusthdl(rtl, &cfg(), &vec.layout, &vec.rows).unwrap();
    eprintln!(
        "fp32acc rusthdl: {:?}, {} rows, {:.0} rows/s",
        r.status,
        vec.rows.len(),
        r.vectors_per_sec
    );
    assert_eq!(r.status, Status::Passed, "{:?}", r.mismatches);
    assert_eq!((r.passed, r.failed), (vec.rows.len() as u64, 0));
}

#[test]
fn verilator_corners_and_100k_accumulations() {
    let vec = vectors(100_000, 1);
    assert!(vec.rows.len() > 3_000_000);
    passes("verilator", &vec, &[Simulator::Verilator]);
}

#[test]
fn icarus_corners_and_20k_accumulations() {
    let vec = vectors(20_000, 2);
    passes("icarus", &vec, &[Simulator::Icarus]);
}

#[test]
fn gate_netlist_corners_and_20k_accumulations() {
    let vec = vectors(20_000, 3);
    passes("gates", &vec, &[Simulator::Gates]);
}

#[test]
fn a_corrupted_expected_bit_is_one_failure_on_every_simulator() {
    let mut vec = vectors(60, 4);
    let acc = vec
        .layout
        .fields
        .iter()
        .position(|f| f.name == "acc")
        .unwrap();
    let row = vec.rows.len() / 2;
    vec.rows[row][acc] ^= 1 << 22;
    let sims = [
        Simulator::Icarus,
        Simulator::Verilator,
        Simulator::Gates,
        Simulator::RustHdl,
    ];
    let r = run("corrupted", &vec, &sims);
    assert_eq!(r.runs.len(), sims.len());
    for run in &r.runs {
        assert_eq!(run.status, Status::Failed, "{}", run.sim);
        assert_eq!((run.passed, run.failed), (r.rows - 1, 1), "{}", run.sim);
        assert_eq!(run.mismatches[0].row, row as u64, "{}", run.sim);
        assert_eq!(
            run.mismatches[0].got[0],
            Some(vec.rows[row][acc] ^ 1 << 22),
            "{}",
            run.sim
        );
    }
}

#[test]
fn emitted_verilog_is_equivalent_to_its_gate_netlist() {
    // ABC dsec: the accumulator feeds back through the adder only (no multiplier), which
    // induction over the 32 register bits decides.
    let vec = vectors(0, 5);
    let dir = work("formal");
    let r = verify(&vec, &Dut::Emitted, &[], true, &dir, LIMIT).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let proof = r.formal.as_ref().expect("a proof was asked for");
    eprintln!(
        "fp32acc formal: {} {} ({} latches) in {:.1} s",
        proof.method,
        if proof.equivalent {
            "equivalent"
        } else {
            "NOT equivalent"
        },
        proof.latches,
        proof.secs
    );
    assert!(proof.equivalent && r.passed(), "{}", proof.abc_output);
}
