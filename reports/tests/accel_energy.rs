//! The per-PE-cycle energies of the accelerator model against `pelab energy`'s own measurement
//! of the same configuration, workload and seed (the public `measure` API, converted to one
//! cycle here with MACs per cycle taken from the PEs' specifications), the idle figure against
//! the flip-flops' clock energy, the leakage against the idle run's, the orderings the
//! circuits imply, the provenance, and the cache (round trip, corrupted file).

use pelab_hdl::RtlConfig;
use pelab_reports::accel_energy::{gate_pe_energies_with, GatePeEnergy, GatePeOptions, PE_NAMES};
use pelab_reports::export::{measure_idle, Idle};
use pelab_testbench::codec::{Dist, Shape};
use pelab_testbench::energy::{measure, Request, Tech};
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Instant;

/// A fresh scratch directory for this test binary.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-accel-energy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Small measurements keep the test fast; the figures' definition does not depend on size.
fn options() -> GatePeOptions {
    GatePeOptions {
        seed: 7,
        dot_len: 128,
        ops: 2048,
        freq_ghz: 1.0,
    }
}

/// The configurations the entries stand for and their MACs per busy cycle from the PEs'
/// specifications: one MAC per cycle for the MACs and the multiplier + accumulator pairs; two
/// for the int16fma lane (VPDPWSSD: two 16 x 16 products per cycle); for bitmod, a group of
/// 128 weights in beats of 4 lanes, each beat held for 2 cycles (docs/bitmod.md section 5).
fn expected_configs() -> Vec<(&'static str, &'static str, RtlConfig, f64)> {
    use pelab_sim::array::bitmod::{BEAT_CYCLES, GROUP, GROUP_BEATS};
    let bitmod_macs = GROUP as f64 / (GROUP_BEATS as f64 * BEAT_CYCLES as f64);
    assert_eq!(bitmod_macs, 2.0, "4 lanes at 2 cycles per beat");
    vec![
        ("fp16mac", "fp16mac", RtlConfig::new("fp16", "ieee", 0), 1.0),
        (
            "bitmod",
            "bitmod",
            RtlConfig::new("fp16", "bitmod34", 0),
            bitmod_macs,
        ),
        (
            "int16fma",
            "int16fma",
            RtlConfig::new("int16", "saturate", 0).with_variant("mac"),
            2.0,
        ),
        (
            "lmul-bf16",
            "lmul",
            RtlConfig::new("bf16", "saturate", 0),
            1.0,
        ),
        (
            "lmul-e4m3",
            "lmul",
            RtlConfig::new("e4m3", "saturate", 0),
            1.0,
        ),
        (
            "fpmul-bf16",
            "fpmul",
            RtlConfig::new("bf16", "ieee", 0),
            1.0,
        ),
        (
            "fpmul-e4m3",
            "fpmul",
            RtlConfig::new("e4m3", "ieee", 0),
            1.0,
        ),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn by_name<'a>(v: &'a [GatePeEnergy], name: &str) -> &'a GatePeEnergy {
    v.iter().find(|e| e.pe == name).unwrap()
}

#[test]
fn figures_equal_pelab_energy_per_cycle_and_the_cache_round_trips() {
    let dir = scratch("main");
    let opts = options();
    let log = RefCell::new(Vec::<String>::new());
    let progress = |m: &str| log.borrow_mut().push(m.to_string());

    let t = Instant::now();
    let first = gate_pe_energies_with(&dir, &opts, &progress).unwrap();
    let first_secs = t.elapsed().as_secs_f64();
    let names: Vec<&str> = first.iter().map(|e| e.pe.as_str()).collect();
    assert_eq!(names, PE_NAMES);
    let measured = log
        .borrow()
        .iter()
        .filter(|m| m.contains("gate level"))
        .count();
    assert_eq!(
        measured,
        7,
        "one progress message per PE: {:?}",
        log.borrow()
    );

    // Each entry against `pelab energy`'s measurement of the same request.
    let req = Request {
        tech: Tech::Generic45,
        dist: Dist::Gaussian,
        shape: Shape::Dot { k: opts.dot_len },
        ops: opts.ops,
        seed: opts.seed,
        freq_ghz: opts.freq_ghz,
        wire_ff: 0.2,
    };
    for (name, id, cfg, macs) in expected_configs() {
        let e = by_name(&first, name);
        let pe = pelab_testbench::pe(id).unwrap();
        let m = measure(pe, &cfg, &req, None).unwrap();
        assert_eq!(e.macs_per_pe_cycle, macs, "{name}");
        let busy = (m.dynamic_pj + m.clock_pj) * macs;
        assert!(
            close(e.pj_per_pe_cycle, busy),
            "{name}: {} vs {busy}",
            e.pj_per_pe_cycle
        );
        // With zero delay and held inputs no net switches: an idle cycle costs the clock of
        // every flip-flop, the busy measurement's clock energy per cycle of each stage.
        let clock: f64 = m
            .stages
            .iter()
            .map(|s| s.energy.clock_pj / s.energy.cycles_per_op)
            .sum();
        assert!(
            close(e.idle_pj_per_pe_cycle, clock),
            "{name}: idle {} vs clock {clock}",
            e.idle_pj_per_pe_cycle
        );
        assert!(e.idle_pj_per_pe_cycle < e.pj_per_pe_cycle, "{name}");
        // Leakage: the idle run's leakage per cycle (1 cycle per "operation") at 1 GHz.
        let Idle::Measured(idle) = measure_idle(pe, &cfg, &req, None).unwrap() else {
            panic!("{name}: no idle measurement");
        };
        let leak_nw = idle.leakage_pj * opts.freq_ghz * 1e6;
        assert!(
            close(e.leakage_nw_per_pe, leak_nw),
            "{name}: leakage {} vs {leak_nw} nW",
            e.leakage_nw_per_pe
        );
        // Provenance.
        for word in [
            "generic-45nm",
            "Nangate 45 nm",
            "gaussian",
            "seed 7",
            "zero-delay",
            "1 GHz",
            "netlist ",
            concat!("pelab ", env!("CARGO_PKG_VERSION")),
            cfg.format.as_str(),
            cfg.policy.as_str(),
        ] {
            assert!(
                e.source.contains(word),
                "{name}: '{word}' not in {}",
                e.source
            );
        }
    }
    for f in ["bf16", "e4m3"] {
        let (l, m) = (
            by_name(&first, &format!("lmul-{f}")),
            by_name(&first, &format!("fpmul-{f}")),
        );
        assert!(l.pj_per_pe_cycle < m.pj_per_pe_cycle, "{f}: {l:?} {m:?}");
    }

    // A second call reads the cache: equal figures, no measurement.
    log.borrow_mut().clear();
    let t = Instant::now();
    let second = gate_pe_energies_with(&dir, &opts, &progress).unwrap();
    let second_secs = t.elapsed().as_secs_f64();
    assert_eq!(first, second);
    assert!(
        log.borrow().iter().all(|m| m.contains("read from")),
        "{:?}",
        log.borrow()
    );
    eprintln!("measured in {first_secs:.2} s, read from the cache in {second_secs:.2} s");
    assert!(
        second_secs < first_secs,
        "{second_secs} s vs {first_secs} s"
    );

    // A corrupted cache file is reported (naming it) and measured again.
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::write(&files[0], "{\"key\": \"trunc").unwrap();
    log.borrow_mut().clear();
    let third = gate_pe_energies_with(&dir, &opts, &progress).unwrap();
    assert_eq!(first, third);
    let shown = files[0].display().to_string();
    assert!(
        log.borrow()
            .iter()
            .any(|m| m.contains(&shown) && m.contains("measuring again")),
        "{:?}",
        log.borrow()
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("\"entries\""), "the file was rewritten");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The published table: the default measurement (65,536 MACs per PE), printed as Markdown with
/// its run time. Ignored by default because it takes 3 to 15 s; run with `--ignored`.
#[test]
#[ignore = "measures the published table (3 to 15 s); run with --ignored to print it"]
fn published_table() {
    let dir = scratch("published");
    let t = Instant::now();
    let v = pelab_reports::accel_energy::gate_pe_energies(&dir, &|m| eprintln!("{m}")).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "| PE | pJ per busy cycle | MACs per cycle | pJ per MAC | idle pJ per cycle | leakage nW |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for e in &v {
        println!(
            "| {} | {:.4} | {} | {:.4} | {:.4} | {:.0} |",
            e.pe,
            e.pj_per_pe_cycle,
            e.macs_per_pe_cycle,
            e.pj_per_pe_cycle / e.macs_per_pe_cycle,
            e.idle_pj_per_pe_cycle,
            e.leakage_nw_per_pe
        );
    }
    println!("measured in {secs:.1} s");
    for e in &v {
        println!("{}: {}", e.pe, e.source);
    }
    let t = Instant::now();
    let again = pelab_reports::accel_energy::gate_pe_energies(&dir, &|_| {}).unwrap();
    println!("read from the cache in {:.2} s", t.elapsed().as_secs_f64());
    assert_eq!(v, again);
    let _ = std::fs::remove_dir_all(&dir);
}
