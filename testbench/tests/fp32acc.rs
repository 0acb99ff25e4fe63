//! fp32acc through the whole chain: the vector layout against the emitted module's ports;
//! rust-hdl's in-process simulation of the block; the emitted Verilog in Icarus and Verilator
//! and, synthesized to generic gates by Yosys, on pelab's gate engine, each on the corner set
//! plus at least 20 000 random accumulations; one corrupted expected bit caught as exactly one
//! failure by every simulator; and the emitted Verilog proved equivalent to its gate netlist.

mod common;

use common::{corrupted_acc_is_one_failure, emitted_passes, work, LIMIT};
use pelab_hdl::RtlConfig;
use pelab_testbench::vectors::VectorSet;
use pelab_testbench::verify::{verify, Dut};
use pelab_testbench::{CaseSet, Simulator};

fn cfg() -> RtlConfig {
    RtlConfig::new("fp32", "ieee", 0)
}

fn corners() -> u64 {
    let v = pelab_testbench::pe("fp32acc").unwrap().vectors;
    v.corner_cases(&cfg()).unwrap().len() as u64
}

/// The corner set and then `random` accumulations.
fn vectors(random: u64, seed: u64) -> VectorSet {
    common::vectors("fp32acc", &cfg(), CaseSet::Count(corners() + random), seed)
}

fn passes(name: &str, vec: &VectorSet, sims: &[Simulator]) {
    emitted_passes("fp32acc", name, vec, sims);
}

#[test]
fn layout_is_the_emitted_module() {
    let layout = common::layout_is_the_emitted_module("fp32acc", &cfg());
    assert!(layout.clocked() && !layout.care);
    assert_eq!(layout.restart, ["reset", "clear"]);
}

#[test]
fn rusthdl_block_passes_corners_and_random_accumulations() {
    let set = CaseSet::Count(corners() + 3000);
    common::rusthdl_passes("fp32acc", &cfg(), set, 11);
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
    let sims = [
        Simulator::Icarus,
        Simulator::Verilator,
        Simulator::Gates,
        Simulator::RustHdl,
    ];
    corrupted_acc_is_one_failure("fp32acc", vectors(60, 4), &sims);
}

#[test]
fn emitted_verilog_is_equivalent_to_its_gate_netlist() {
    // ABC dsec: the accumulator feeds back through the adder only (no multiplier), which
    // induction over the 32 register bits decides.
    let vec = vectors(0, 5);
    let dir = work("fp32acc", "formal");
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
