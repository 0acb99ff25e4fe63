//! What the chain tests share: scratch directories, the vector layout against the emitted
//! module's ports, rust-hdl's simulation of a block on golden vectors, and verification runs
//! of the emitted Verilog that must pass every row or fail on exactly one.

#![allow(dead_code)]

use pelab_hdl::{PortDir, RtlConfig};
use pelab_testbench::run::simulate_rusthdl;
use pelab_testbench::vectors::{generate, Layout, VectorSet};
use pelab_testbench::verify::{verify, Dut, Report};
use pelab_testbench::{CaseSet, Shard, Simulator, Status};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Time limit of a simulator step.
pub const LIMIT: Duration = Duration::from_secs(1200);

/// A fresh scratch directory `name` of the test binary `test`.
pub fn work(test: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-{test}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A configuration.
pub fn cfg(format: &str, policy: &str, pipeline: u32, variant: &str) -> RtlConfig {
    RtlConfig::new(format, policy, pipeline).with_variant(variant)
}

/// `pe`'s vectors of `c`: the case set `set` from `seed`.
pub fn vectors(pe: &str, c: &RtlConfig, set: CaseSet, seed: u64) -> VectorSet {
    let t = Instant::now();
    let v = pelab_testbench::pe(pe).unwrap().vectors;
    let vec = generate(v, c, set, seed, Shard::ALL).unwrap();
    eprintln!(
        "{pe} {c:?}: {} cases, {} rows generated in {:.2?}",
        vec.cases,
        vec.rows.len(),
        t.elapsed()
    );
    vec
}

/// Asserts that the vector layout of `pe`'s `c` holds the emitted module's ports (the clock
/// aside) in port order; returns the layout.
pub fn layout_is_the_emitted_module(pe: &str, c: &RtlConfig) -> Layout {
    let joined = pelab_testbench::pe(pe).unwrap();
    let layout = joined.vectors.layout(c).unwrap();
    let m = joined.rtl.verilog(c).unwrap();
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
    assert_eq!(fields, ports, "{pe}: vector columns in port order");
    layout
}

/// Generates the case set `set` of `pe`'s `c` from `seed` and checks that rust-hdl's
/// simulation of the block passes every row; returns the vectors.
pub fn rusthdl_passes(pe: &str, c: &RtlConfig, set: CaseSet, seed: u64) -> VectorSet {
    let vec = vectors(pe, c, set, seed);
    let rtl = pelab_testbench::pe(pe).unwrap().rtl;
    let r = simulate_rusthdl(rtl, c, &vec.layout, &vec.rows).unwrap();
    eprintln!(
        "{pe} {} {} p{} {}: rusthdl {:?}, {} rows, {:.0} vectors/s",
        c.format,
        c.policy,
        c.pipeline,
        c.variant,
        r.status,
        vec.rows.len(),
        r.vectors_per_sec
    );
    assert_eq!(
        r.status,
        Status::Passed,
        "{pe} {c:?}: {:?} {}",
        r.mismatches,
        r.log_tail
    );
    assert_eq!((r.passed, r.failed), (vec.rows.len() as u64, 0));
    vec
}

/// Verifies the emitted Verilog on `vec` with `sims` in the scratch directory `dir` (removed
/// afterwards), printing each run under the label `what`.
pub fn verify_emitted(what: &str, vec: &VectorSet, sims: &[Simulator], dir: PathBuf) -> Report {
    let r = verify(vec, &Dut::Emitted, sims, false, &dir, LIMIT).unwrap();
    for run in &r.runs {
        eprintln!(
            "{what} on {}: {:?}, {} passed, {} failed of {} rows ({} cases); compile {:.1} s, \
             run {:.2} s ({:.0} rows/s)",
            run.sim,
            run.status,
            run.passed,
            run.failed,
            r.rows,
            r.cases,
            run.compile_secs,
            run.run_secs,
            run.vectors_per_sec
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Verifies the emitted Verilog of `pe` on `vec` with `sims` (the run `name`); every run must
/// pass every row.
pub fn emitted_passes(pe: &str, name: &str, vec: &VectorSet, sims: &[Simulator]) {
    let what = format!("{pe} {name}");
    let r = verify_emitted(&what, vec, sims, work(pe, name));
    assert_passed(&what, &r, sims);
}

/// Asserts that `r` has a run of each of `sims` and that every run passed every row.
pub fn assert_passed(what: &str, r: &Report, sims: &[Simulator]) {
    assert_eq!(r.runs.len(), sims.len(), "{what}");
    for run in &r.runs {
        assert_eq!(
            run.status,
            Status::Passed,
            "{what} on {}: {:?}\n{}",
            run.sim,
            run.mismatches,
            run.log_tail
        );
        assert_eq!(
            (run.passed, run.failed),
            (r.rows, 0),
            "{what} on {}",
            run.sim
        );
    }
}

/// Asserts that `r` has a run of each of `sims` and that every run failed on row `row` and
/// passed every other row.
pub fn assert_one_failure(r: &Report, sims: &[Simulator], row: usize) {
    assert!(!r.passed());
    assert_eq!(r.runs.len(), sims.len());
    for run in &r.runs {
        assert_eq!(run.status, Status::Failed, "{}: {}", run.sim, run.log_tail);
        assert_eq!((run.passed, run.failed), (r.rows - 1, 1), "{}", run.sim);
        assert_eq!(run.mismatches.len(), 1, "{}", run.sim);
        assert_eq!(run.mismatches[0].row, row as u64, "{}", run.sim);
    }
}

/// Flips bit 22 of the expected `acc` of the middle row of `vec` and verifies the emitted
/// Verilog of `pe` on `sims`: every simulator must report exactly that row, with the value the
/// vectors had before.
pub fn corrupted_acc_is_one_failure(pe: &str, mut vec: VectorSet, sims: &[Simulator]) {
    let acc = col(&vec, "acc");
    let row = vec.rows.len() / 2;
    vec.rows[row][acc] ^= 1 << 22;
    let what = format!("{pe} corrupted");
    let r = verify_emitted(&what, &vec, sims, work(pe, "corrupted"));
    assert_one_failure(&r, sims, row);
    for run in &r.runs {
        assert_eq!(
            run.mismatches[0].got[0],
            Some(vec.rows[row][acc] ^ 1 << 22),
            "{}",
            run.sim
        );
    }
}

/// Column index of the field `name` of `v`'s layout (inputs, then outputs).
pub fn col(v: &VectorSet, name: &str) -> usize {
    v.layout
        .columns()
        .iter()
        .position(|f| f.name == name)
        .unwrap()
}
