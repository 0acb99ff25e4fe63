//! fp16mac through the whole chain: the vector layout against the emitted module's ports,
//! rust-hdl's in-process simulation of the block on the golden vectors, the emitted Verilog in
//! Verilator (100 000 accumulations) and Icarus (10 000), and one corrupted expected value
//! caught as exactly one failure by every simulator.

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
    let d = std::env::temp_dir().join(format!("pelab-fp16mac-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn cfg() -> RtlConfig {
    RtlConfig::new("fp16", "ieee", 0)
}

fn vectors(cases: u64, seed: u64) -> VectorSet {
    let t = Instant::now();
    let v = generate(
        find("fp16mac").unwrap(),
        &cfg(),
        CaseSet::Count(cases),
        seed,
        Shard::ALL,
    )
    .unwrap();
    eprintln!(
        "fp16mac: {cases} cases, {} rows generated in {:.2?}",
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
            "fp16mac {name} on {}: {:?}, {} passed, {} failed of {} rows; compile {:.1} s, run \
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
    let m = pelab_hdl::find("fp16mac").unwrap().verilog(&cfg()).unwrap();
    let layout = find("fp16mac").unwrap().layout(&cfg()).unwrap();
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
}

#[test]
fn rusthdl_block_passes_corners_and_random_accumulations() {
    let vec = vectors(3000, 11);
    let rtl = pelab_hdl::find("fp16mac").unwrap();
    let r = simulate_rusthdl(rtl, &cfg(), &vec.layout, &vec.rows).unwrap();
    eprintln!(
        "fp16mac rusthdl: {:?}, {} rows, {:.0} rows/s",
        r.status,
        vec.rows.len(),
        r.vectors_per_sec
    );
    assert_eq!(r.status, Status::Passed, "{:?}", r.mismatches);
    assert_eq!((r.passed, r.failed), (vec.rows.len() as u64, 0));
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
    let mut vec = vectors(60, 3);
    let acc = vec
        .layout
        .fields
        .iter()
        .position(|f| f.name == "acc")
        .unwrap();
    let row = vec.rows.len() / 2;
    vec.rows[row][acc] ^= 1 << 22;
    let r = run(
        "corrupted",
        &vec,
        &[Simulator::Icarus, Simulator::Verilator],
    );
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
