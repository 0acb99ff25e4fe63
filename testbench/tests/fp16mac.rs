//! fp16mac through the whole chain: the vector layout against the emitted module's ports,
//! rust-hdl's in-process simulation of the block on the golden vectors, the emitted Verilog in
//! Verilator (100 000 accumulations) and Icarus (10 000), and one corrupted expected value
//! caught as exactly one failure by every simulator.

mod common;

use common::{corrupted_acc_is_one_failure, emitted_passes};
use pelab_hdl::RtlConfig;
use pelab_testbench::vectors::VectorSet;
use pelab_testbench::{CaseSet, Simulator};

fn cfg() -> RtlConfig {
    RtlConfig::new("fp16", "ieee", 0)
}

fn vectors(cases: u64, seed: u64) -> VectorSet {
    common::vectors("fp16mac", &cfg(), CaseSet::Count(cases), seed)
}

fn passes(name: &str, vec: &VectorSet, sims: &[Simulator]) {
    emitted_passes("fp16mac", name, vec, sims);
}

#[test]
fn layout_is_the_emitted_module() {
    let layout = common::layout_is_the_emitted_module("fp16mac", &cfg());
    assert!(layout.clocked() && !layout.care);
}

#[test]
fn rusthdl_block_passes_corners_and_random_accumulations() {
    common::rusthdl_passes("fp16mac", &cfg(), CaseSet::Count(3000), 11);
}

#[test]
fn verilator_100k_accumulations() {
    let vec = vectors(100_000, 1);
    assert!(vec.rows.len() > 3_000_000);
    passes("verilator", &vec, &[Simulator::Verilator]);
}

#[test]
fn icarus_10k_accumulations() {
    let vec = vectors(10_000, 2);
    passes("icarus", &vec, &[Simulator::Icarus]);
}

#[test]
fn a_corrupted_expected_value_is_one_failure_on_every_simulator() {
    corrupted_acc_is_one_failure(
        "fp16mac",
        vectors(60, 3),
        &[Simulator::Icarus, Simulator::Verilator],
    );
}
