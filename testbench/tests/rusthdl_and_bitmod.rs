//! rust-hdl's in-process simulation of every PE block against the golden vectors
//! (`simulate_rusthdl`), and the BitMoD PE's vectors through the whole chain: the codec against
//! the module's ports and a value worked out by hand in `docs/bitmod.md`, the emitted Verilog in
//! Verilator (at least 1,000 groups per type select) and Icarus, and one corrupted expected bit
//! caught as exactly one failure by every simulator.

mod common;

use common::{assert_one_failure, cfg, col, verify_emitted, work};
use pelab_hdl::RtlConfig;
use pelab_testbench::vectors::VectorSet;
use pelab_testbench::{CaseSet, Simulator};
use std::time::Instant;

fn bitmod_cfg() -> RtlConfig {
    cfg("fp16", "bitmod34", 0, "")
}

/// Generates `set` for `c` (seed 1) and checks that rust-hdl's simulation of the block passes
/// every row; returns the vectors.
fn rusthdl_passes(pe: &str, c: &RtlConfig, set: CaseSet) -> VectorSet {
    common::rusthdl_passes(pe, c, set, 1)
}

#[test]
fn lmul_rusthdl_e4m3_exhaustive_every_pipeline_and_policy() {
    for policy in ["saturate", "ieee"] {
        for p in 0..=2 {
            let v = rusthdl_passes("lmul", &cfg("e4m3", policy, p, ""), CaseSet::Exhaustive);
            assert_eq!(v.rows.len(), 65536);
        }
    }
}

#[test]
fn fpmul_rusthdl_e4m3_exhaustive_and_bf16_random() {
    for policy in ["ieee", "saturate"] {
        rusthdl_passes("fpmul", &cfg("e4m3", policy, 0, ""), CaseSet::Exhaustive);
        for p in 0..=2 {
            rusthdl_passes("fpmul", &cfg("bf16", policy, p, ""), CaseSet::Count(20_000));
        }
    }
}

#[test]
fn int16fma_rusthdl_core_and_mac() {
    for policy in ["wrap", "saturate"] {
        rusthdl_passes(
            "int16fma",
            &cfg("int16", policy, 0, "core"),
            CaseSet::Count(20_000),
        );
        let v = rusthdl_passes(
            "int16fma",
            &cfg("int16", policy, 0, "mac"),
            CaseSet::Count(20_000),
        );
        assert!(v.rows.len() > 20_000, "MAC cases are several cycles each");
    }
}

/// Groups whose result the expected columns present, per type select: hand-offs (the
/// phase-1 `in_valid` cycle of a beat with `in_last`, tracked here from the inputs alone) with
/// `out_valid` expected 1 eight cycles later.
fn groups_per_type(v: &VectorSet) -> [usize; 8] {
    let (reset, valid, last, ty, out_valid) = (
        col(v, "reset"),
        col(v, "in_valid"),
        col(v, "in_last"),
        col(v, "in_type"),
        col(v, "out_valid"),
    );
    let mut phase = false;
    let mut n = [0; 8];
    for (i, row) in v.rows.iter().enumerate() {
        if row[reset] == 1 {
            phase = false;
            continue;
        }
        if row[valid] == 1 {
            if phase && row[last] == 1 && v.rows.get(i + 8).is_some_and(|r| r[out_valid] == 1) {
                n[row[ty] as usize] += 1;
            }
            phase = !phase;
        }
    }
    n
}

#[test]
fn bitmod_layout_is_the_emitted_module() {
    let layout = common::layout_is_the_emitted_module("bitmod", &bitmod_cfg());
    assert!(layout.care);
    assert_eq!(layout.timing, pelab_testbench::vectors::Timing::Cycles);
}

/// The example of `docs/bitmod.md` section 8, worked out there by hand: fp4-er+ (select 4),
/// scale 3, weights 10, 1, 2, 3 (codes 8, 1, 2, 3) times 2, 1, -1, 0.33325 gives
/// `{Ae, D} = 0x13007800`; a lone group of C = 2 compute cycles has its result in cycle
/// C + 8 counting its first compute cycle as 0 (section 6).
#[test]
fn bitmod_codec_matches_the_documented_example() {
    let c = bitmod_cfg();
    let v = pelab_testbench::pe("bitmod").unwrap().vectors;
    let beat = |valid: u64| {
        vec![
            0, valid, 1, 4, 3, 0x4000, 0x3C00, 0xBC00, 0x3555, 8, 1, 2, 3,
        ]
    };
    let mut rows = vec![
        vec![1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        beat(1),
        beat(1),
    ];
    rows.extend((0..10).map(|_| beat(0)));
    let exp = v.expected(&c, &rows).unwrap();
    // Row r's outputs are those after its rising edge, i.e. of cycle r + 1; the first
    // compute cycle is row 1, so the result is on row 1 + 2 + 8 - 1 = 10.
    let all = 0b1111;
    for (r, (out, care)) in exp.iter().enumerate() {
        let want: (Vec<u64>, u64) = match r {
            0..=2 => (vec![0, 0, 0, 0], all),
            3..=9 => (vec![0, 0, 0, 0], all & !0b100), // out_man mid-dequantization
            10 => (vec![1, 0x13, 0x7800, 0], all),
            _ => (vec![0, 0x13, 0x7800, 0], all), // the result holds
        };
        let masked: Vec<u64> = out
            .iter()
            .enumerate()
            .map(|(j, x)| if care >> j & 1 == 1 { *x } else { 0 })
            .collect();
        assert_eq!((masked, *care), want, "row {r}");
    }
    // Before the first reset nothing is defined.
    assert!(v
        .expected(&c, &rows[1..])
        .unwrap()
        .iter()
        .all(|(_, care)| *care == 0));
    // A beat that changes between its two term cycles, or a type select that changes within
    // a group, is refused.
    let mut bad = rows.clone();
    bad[2][7] = 0x3C00;
    let e = v.expected(&c, &bad).unwrap_err().to_string();
    assert!(e.contains("row 2") && e.contains("beat changed"), "{e}");
    let mut bad = rows.clone();
    bad[2][2] = 0;
    bad.insert(3, beat(1));
    bad.insert(4, beat(1));
    bad[3][3] = 5;
    bad[4][3] = 5;
    let e = v.expected(&c, &bad).unwrap_err().to_string();
    assert!(e.contains("row 4") && e.contains("type select 5"), "{e}");
}

#[test]
fn bitmod_rusthdl_corner_and_random_streams() {
    let t = Instant::now();
    let corners = pelab_testbench::pe("bitmod")
        .unwrap()
        .vectors
        .corner_cases(&bitmod_cfg())
        .unwrap()
        .len() as u64;
    let v = rusthdl_passes("bitmod", &bitmod_cfg(), CaseSet::Count(corners + 240));
    let n = groups_per_type(&v);
    eprintln!(
        "bitmod rusthdl: {} cases, {} rows, groups per type select {n:?}, {:.2?}",
        v.cases,
        v.rows.len(),
        t.elapsed()
    );
    assert!(n.iter().all(|&k| k >= 40), "{n:?}");
}

/// Verifies the emitted Verilog of bitmod on `sims`; every run must pass every row. Returns
/// the vectors.
fn bitmod_chain(name: &str, set: CaseSet, seed: u64, sims: &[Simulator]) -> VectorSet {
    let vec = common::vectors("bitmod", &bitmod_cfg(), set, seed);
    common::emitted_passes("bitmod", name, &vec, sims);
    vec
}

#[test]
fn bitmod_verilator_1000_groups_per_type_select() {
    let v = bitmod_chain(
        "verilator",
        CaseSet::Count(4000),
        11,
        &[Simulator::Verilator],
    );
    let n = groups_per_type(&v);
    eprintln!("bitmod Verilator: groups per type select {n:?}");
    assert!(n.iter().all(|&k| k >= 1000), "{n:?}");
}

#[test]
fn bitmod_icarus_100_groups() {
    let v = bitmod_chain("icarus", CaseSet::Count(80), 12, &[Simulator::Icarus]);
    let n = groups_per_type(&v);
    eprintln!("bitmod Icarus: groups per type select {n:?}");
    assert!(n.iter().sum::<usize>() >= 100, "{n:?}");
}

/// One expected bit flipped on a cycle where that output is compared: every simulator reports
/// exactly that row. A bit flipped where the output is not compared (mid-dequantization
/// `out_man`) changes nothing.
#[test]
fn bitmod_a_corrupted_expected_bit_is_one_failure_on_every_simulator() {
    let mut vec = common::vectors("bitmod", &bitmod_cfg(), CaseSet::Count(40), 3);
    let (out_valid, out_man, care) = (
        col(&vec, "out_valid"),
        col(&vec, "out_man"),
        col(&vec, "care"),
    );
    let man_bit = 1 << 2; // out_man is output 2
    let target = vec
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[out_valid] == 1 && r[care] & man_bit != 0 && r[out_man] != 0)
        .map(|(i, _)| i)
        .nth(30)
        .expect("results in the set");
    let ignored = vec
        .rows
        .iter()
        .position(|r| r[care] & man_bit == 0 && r[care] != 0)
        .expect("dequantization cycles in the set");
    let want = vec.rows[target][out_man];
    vec.rows[target][out_man] ^= 1 << 5;
    vec.rows[ignored][out_man] ^= 1 << 7;
    let sims = [Simulator::RustHdl, Simulator::Icarus, Simulator::Verilator];
    let r = verify_emitted("bitmod corrupt", &vec, &sims, work("rhb", "corrupt"));
    assert_one_failure(&r, &sims, target);
    let n_in = vec.layout.inputs().count();
    for run in &r.runs {
        let m = &run.mismatches[0];
        assert_eq!(m.expected[out_man - n_in], want ^ (1 << 5), "{}", run.sim);
        assert_eq!(m.got[out_man - n_in], Some(want), "{}", run.sim);
    }
}
