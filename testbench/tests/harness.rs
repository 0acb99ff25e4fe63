//! The Verilator harness baseline of `pelab bench gates` (`pelab_testbench::harness`): the gate
//! engine and the Verilator-compiled netlist, driven by the same stimulus, reduce their outputs
//! to the same checksum, on a combinational netlist (lmul e4m3, also checked against the
//! reference model term by term) and on a clocked one (a 2x2 output-stationary array of lmul
//! e4m3, streams of cycles from the flip-flops' initial state); the split over threads and
//! processes does not change it, and one flipped output bit does.

use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_hdl::RtlConfig;
use pelab_sim::format::{Format, Overflow};
use pelab_sim::netlist::Netlist;
use pelab_testbench::harness::{
    engine_checksum, stimulus, term, verilator_harness, EngineRun, Fault, Harness, Workload,
};
use std::path::PathBuf;
use std::time::Instant;

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-harness-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The engine on `w` in a one-thread pool and in a two-thread pool, which must agree.
fn engine_both(net: &Netlist, w: &Workload, fault: Option<Fault>) -> EngineRun {
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1).install(|| engine_checksum(net, w, fault).unwrap());
    assert_eq!(one.threads, 1);
    let two = pool(2).install(|| engine_checksum(net, w, fault).unwrap());
    assert_eq!(two.threads, 2);
    assert_eq!(
        one.checksum, two.checksum,
        "the engine's checksum depends on the thread count"
    );
    assert_eq!(one.vectors, w.vectors());
    one
}

/// Builds the harness of a synthesized netlist (its `netlist.v` beside the JSON).
fn build(net: &Netlist, json: &std::path::Path, top: &str, name: &str) -> (Harness, PathBuf) {
    let dir = work(name);
    let t = Instant::now();
    let h = verilator_harness(&json.with_file_name("netlist.v"), top, net, &dir).unwrap();
    eprintln!(
        "{top}: harness built in {:.1} s ({:.1} s of Verilator)",
        t.elapsed().as_secs_f64(),
        h.compile_secs
    );
    assert!(!h.cached, "a fresh directory cannot hold a cached build");
    (h, dir)
}

#[test]
fn combinational_lmul_e4m3_checksums_agree() {
    let joined = pelab_testbench::pe("lmul").unwrap();
    let cfg = RtlConfig::new("e4m3", "saturate", 0);
    let m = joined.rtl.verilog(&cfg).unwrap();
    let (net, json) =
        pelab_testbench::gates::synthesized_netlist(&m.verilog, &m.name, None).unwrap();
    assert!(net.flops.is_empty(), "lmul e4m3 p0 is combinational");
    let names: Vec<&str> = net.inputs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(net.outputs.len(), 1);
    // Not a multiple of the engine's 512 lanes, nor of the two processes' halves.
    let w = Workload::combinational(5001, 7);

    // Independent oracle: the reference model on the specified stimulus, term by term.
    let fmt = Format::E4M3;
    let want = (0..w.cycles).fold(0u64, |sum, t| {
        let a = stimulus(w.seed, 0, t, 0, 8);
        let b = stimulus(w.seed, 0, t, 1, 8);
        let y = pelab_sim::lmul::lmul(&fmt, a, b, Overflow::Saturate);
        sum.wrapping_add(term(y, 0, t))
    });
    let eng = engine_both(&net, &w, None);
    assert_eq!(
        eng.checksum, want,
        "engine against the lmul reference model"
    );

    let (h, dir) = build(&net, &json, &m.name, "lmul-e4m3");
    assert!(!h.clocked);
    let one = h.run(&w).unwrap();
    assert_eq!(
        one.checksum, want,
        "Verilator harness against the reference model"
    );
    assert_eq!(one.process_secs.len(), 1);
    assert!(one.secs > 0.0);
    let two = h.run_parallel(&w, 2).unwrap();
    assert_eq!(two.process_secs.len(), 2);
    assert_eq!(two.checksum, want, "two harness processes on halves");

    // Another seed is another stimulus, hence (almost surely) another checksum, on both sides.
    let w2 = Workload::combinational(5001, 8);
    let e2 = engine_checksum(&net, &w2, None).unwrap();
    assert_ne!(e2.checksum, want);
    assert_eq!(h.run(&w2).unwrap().checksum, e2.checksum);

    // One wrong output bit in the engine's result, at the first, a middle and the last vector.
    for index in [0, 2600, 5000] {
        let f = Fault {
            output: 0,
            bit: 3,
            index,
        };
        let bad = engine_checksum(&net, &w, Some(f)).unwrap();
        assert_ne!(
            bad.checksum, one.checksum,
            "flipped bit at vector {index} unseen"
        );
    }

    // The build is reused when nothing changed.
    let again = verilator_harness(&json.with_file_name("netlist.v"), &m.name, &net, &dir).unwrap();
    assert!(again.cached);
    assert_eq!(again.compile_secs, h.compile_secs);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clocked_array_checksums_agree() {
    let spec = ArraySpec::new(
        pelab_hdl::array::cell::cell_or_default("lmul", "e4m3", None).unwrap(),
        Dataflow::Os,
        2,
        2,
    )
    .unwrap();
    let m = spec.verilog().unwrap();
    let (net, json) =
        pelab_testbench::gates::synthesized_netlist_hierarchical(&m.verilog, &m.name).unwrap();
    assert!(!net.flops.is_empty(), "the array is clocked");
    // More streams than one lane group (a full block and a partial one), enough cycles for
    // operands to reach the accumulators and results to drain.
    let w = Workload::clocked(600, 24, 3);
    let eng = engine_both(&net, &w, None);
    let (h, dir) = build(&net, &json, &m.name, "array-2x2");
    assert!(h.clocked);
    let one = h.run(&w).unwrap();
    assert_eq!(
        one.checksum, eng.checksum,
        "engine and Verilator harness on {}",
        m.name
    );
    let two = h.run_parallel(&w, 2).unwrap();
    assert_eq!(
        two.checksum, eng.checksum,
        "two harness processes on halves"
    );

    // The stimulus exercises the state: some output sampled after clock edges differs from
    // what the flip-flops' initial state shows (checked on the engine, lane by lane).
    assert!(
        outputs_move(&net, &w),
        "{}: no output ever leaves its initial value; the comparison would not test the state",
        m.name
    );

    // One wrong output bit in the engine's result: first cycle, late in the partial block, and
    // mid-stream.
    for (s, t) in [(0u64, 0u64), (599, 23), (513, 11)] {
        let f = Fault {
            output: net.outputs.len() - 1,
            bit: 0,
            index: s * w.cycles + t,
        };
        let bad = engine_checksum(&net, &w, Some(f)).unwrap();
        assert_ne!(
            bad.checksum, one.checksum,
            "flipped bit at stream {s} cycle {t} unseen"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether some output of the first 64 streams of `w`, sampled at a cycle after the first,
/// differs from its value at cycle 0.
fn outputs_move(net: &Netlist, w: &Workload) -> bool {
    use pelab_sim::netlist::{Sim, ToggleMode};
    let clock = net.clock.unwrap();
    let mut sim = Sim::new(net, ToggleMode::Off);
    let mut first: Vec<Vec<u64>> = Vec::new();
    let mut moved = false;
    for t in 0..w.cycles {
        for (p, port) in net.inputs.iter().enumerate() {
            if port.bits != [clock] {
                let v: Vec<u64> = (0..64)
                    .map(|s| stimulus(w.seed, s, t, p as u64, port.bits.len()))
                    .collect();
                sim.set_values(p, &v);
            }
        }
        sim.eval();
        for o in 0..net.outputs.len() {
            let mut v = vec![0u64; 64];
            sim.values(o, &mut v);
            if t == 0 {
                first.push(v);
            } else if v != first[o] {
                moved = true;
            }
        }
        sim.clock(64);
    }
    moved
}
