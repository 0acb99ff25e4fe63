//! fp16mac RTL against the reference model `pelab_sim::fp16mac` in rust-hdl's simulator:
//! - the combinational step ([`simulate_core`]) on every special FP32 accumulator with every
//!   pair of special FP16 operands, and on random triples aimed at cancellation, rounding ties,
//!   alignment distances and subnormal accumulators;
//! - the streaming MAC through `PeRtl::simulate` on random accumulations
//!   (`pelab_sim::fp16mac::random_accumulation`: reset, clear, en, operands that cancel the
//!   running sum or make rounding ties) and on every pair of special operands applied to
//!   special accumulators reached by accumulating into them, cycle by cycle against
//!   `Fp16Mac::clock`;
//! - the emitted Verilog: its combinational step (the `__core` sub-module), as Yosys reads it
//!   and maps it to generic gates, on the same special triples and a million random ones,
//!   including the accumulators (-0, subnormals, values beyond 2^56) that the streaming MAC
//!   cannot reach and golden vectors therefore never exercise; the header, ports and lint;
//!   the synthesized size.

mod common;

use common::{
    accumulations, accumulator_synthesized, assert_accumulator_module, assert_rejects,
    check_accumulator, control_rows, reference_steps, simulated_acc, Addends, Netlist, LANES,
};
use pelab_hdl::pe::fp16mac::simulate_core;
use pelab_hdl::synth::{netlist_json, Flow};
use pelab_hdl::{find, PeRtl, RtlConfig};
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::fp16mac::{fp16mac, random_accumulation, tie_pair, Fp16Mac};
use pelab_sim::pe::stream::Accumulator;
use pelab_sim::samples::{random_pair, special_codes};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

const H: Format = Format::FP16;
const F: Format = Format::FP32;

fn cfg() -> RtlConfig {
    RtlConfig::new("fp16", "ieee", 0)
}

fn rtl() -> &'static dyn PeRtl {
    find("fp16mac").unwrap()
}

fn val_h(c: u16) -> f64 {
    H.to_f64(c as u64)
}

/// Unbiased exponent of a normal FP32 code.
fn exp_of(acc: u32) -> i32 {
    ((acc >> 23) & 0xFF) as i32 - 127
}

/// A random FP32 code with exponent field `ef`.
fn f32_with_exp(ef: u32, r: &mut ChaCha8Rng) -> u32 {
    (r.gen::<u32>() & 0x807F_FFFF) | (ef.min(254) << 23)
}

/// One random `(acc, a, b)` triple of the mixes described in the module documentation.
fn random_triple(r: &mut ChaCha8Rng) -> (u32, u16, u16) {
    let (a, b) = random_pair(&H, r);
    let (a, b) = (a as u16, b as u16);
    let p = val_h(a) * val_h(b);
    match r.gen_range(0..10) {
        0 | 1 => (r.gen(), a, b),
        2..=4 if p.is_finite() && p != 0.0 => {
            // Near -p or +p: cancellation of every depth, or a carry.
            let near = F
                .from_f64(
                    if r.gen_ratio(3, 4) { -p } else { p },
                    Rounding::NearestEven,
                    Overflow::Saturate,
                )
                .unwrap() as u32;
            let bits = r.gen_range(0..24);
            let delta = r.gen_range(0..1u32 << bits);
            let acc = if r.gen() {
                near.wrapping_add(delta)
            } else {
                near.wrapping_sub(delta)
            };
            (acc, a, b)
        }
        5 | 6 if p.is_finite() && p != 0.0 => {
            // Exponents a few binades apart: short alignment shifts.
            let e = p.abs().log2().floor() as i64 + 127 + r.gen_range(-30i64..=30);
            (f32_with_exp(e.clamp(1, 254) as u32, r), a, b)
        }
        7 => {
            let acc = f32_with_exp(r.gen_range(70..=190), r);
            match tie_pair(acc, r) {
                Some((a, b)) => (acc, a, b),
                None => (acc, a, b),
            }
        }
        8 => {
            let sp = special_codes(&F);
            (sp[r.gen_range(0..sp.len())] as u32, a, b)
        }
        _ => {
            // Subnormal, tiny and huge accumulators.
            let ef = [0, 0, 1, 2, 253, 254][r.gen_range(0..6)];
            (f32_with_exp(ef, r), a, b)
        }
    }
}

fn check_core(what: &str, triples: &[(u32, u16, u16)]) {
    let got = simulate_core(triples).unwrap();
    let bad: Vec<String> = triples
        .iter()
        .zip(&got)
        .filter(|(&(c, a, b), &g)| g != fp16mac(c, a, b))
        .take(8)
        .map(|(&(c, a, b), &g)| {
            format!(
                "acc={c:08X} a={a:04X} b={b:04X}: rtl {g:08X}, reference {:08X}",
                fp16mac(c, a, b)
            )
        })
        .collect();
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

#[test]
fn core_matches_reference_on_every_special_combination() {
    let t = Instant::now();
    let hs = special_codes(&H);
    let fs = special_codes(&F);
    let mut v = Vec::with_capacity(fs.len() * hs.len() * hs.len());
    for &c in &fs {
        for &a in &hs {
            for &b in &hs {
                v.push((c as u32, a as u16, b as u16));
            }
        }
    }
    check_core("special accumulators x special operand pairs", &v);
    println!(
        "fp16mac core: {} special triples ({} FP32 x {}^2 FP16 codes) in {:.2?}",
        v.len(),
        fs.len(),
        hs.len(),
        t.elapsed()
    );
}

#[test]
fn core_matches_reference_on_random_triples() {
    let t = Instant::now();
    let mut r = ChaCha8Rng::seed_from_u64(0xF16);
    let v: Vec<(u32, u16, u16)> = (0..200_000).map(|_| random_triple(&mut r)).collect();
    // The mixes must reach what they aim at.
    let (mut zero, mut deep, mut ties) = (0, 0, 0);
    for &(c, a, b) in &v {
        let y = fp16mac(c, a, b);
        let (fin_c, p) = (F.to_f64(c as u64), val_h(a) * val_h(b));
        if y & 0x7FFF_FFFF == 0 && p != 0.0 {
            zero += 1;
        }
        if fin_c.is_finite() && p != 0.0 && y & 0x7F80_0000 != 0 {
            let ey = exp_of(y);
            if ey + 12 < exp_of(c).max(p.abs().log2().floor() as i32) {
                deep += 1;
            }
        }
        if fin_c.is_normal() && p.is_finite() && p != 0.0 {
            let half = 2f64.powi(exp_of(c) - 24);
            if (p / half).fract() == 0.0
                && (p / half) as i64 % 2 != 0
                && p.abs() < 2f64.powi(exp_of(c))
            {
                ties += 1;
            }
        }
    }
    assert!(
        zero > 1000 && deep > 5000 && ties > 5000,
        "coverage: {zero} exact cancellations, {deep} cancellations of 12+ bits, {ties} ties"
    );
    check_core("random triples", &v);
    println!(
        "fp16mac core: {} random triples ({zero} exact cancellations, {deep} cancellations of \
         12+ bits, {ties} tie products) in {:.2?}",
        v.len(),
        t.elapsed()
    );
}

fn row(reset: bool, clear: bool, en: bool, a: u16, b: u16) -> Vec<u64> {
    Fp16Mac::row(&Fp16Mac::inputs(reset, clear, en, (a, b)))
}

/// Runs rows through `simulate` and the reference `Fp16Mac` from power-up; panics with the
/// first mismatching cycles.
fn check_mac(what: &str, rows: &[Vec<u64>]) {
    check_accumulator::<Fp16Mac>(rtl(), &cfg(), what, rows);
}

#[test]
fn mac_matches_reference_on_random_accumulations() {
    let t = Instant::now();
    let rows = accumulations::<Fp16Mac>(150_000, 0xACC, random_accumulation);
    // The running sum must go through cancellation and special states.
    let (mut zero_after_nonzero, mut nan, mut inf, mut ties) = (0, 0, 0, 0);
    for (i, before, y) in reference_steps::<Fp16Mac>(&rows) {
        if !(i.reset || i.clear) && i.en {
            zero_after_nonzero += (y == 0 && before & 0x7FFF_FFFF != 0) as u32;
            nan += (y == 0x7FC0_0000) as u32;
            inf += (y & 0x7FFF_FFFF == 0x7F80_0000) as u32;
            let p = val_h(i.a) * val_h(i.b);
            if F.to_f64(before as u64).is_normal() && p.is_finite() {
                let half = 2f64.powi(exp_of(before) - 24);
                ties += ((p / half).fract() == 0.0 && (p / half) as i64 % 2 != 0) as u32;
            }
        }
    }
    assert!(
        zero_after_nonzero > 200 && nan > 200 && inf > 200 && ties > 2000,
        "coverage: {zero_after_nonzero} cancellations to zero, {nan} NaN, {inf} Inf, {ties} ties"
    );
    check_mac("random accumulations", &rows);
    println!(
        "fp16mac MAC: {} cycles ({zero_after_nonzero} cancellations to zero, {ties} tie \
         products, {nan} NaN, {inf} Inf results) in {:.2?}",
        rows.len(),
        t.elapsed()
    );
}

/// Accumulator states reached by accumulating from +0 (after a clear): name and operand pairs.
fn special_states() -> Vec<(&'static str, Vec<(u16, u16)>)> {
    vec![
        ("+0", vec![]),
        ("+Inf", vec![(0x7C00, 0x3C00)]),
        ("-Inf", vec![(0x3C00, 0xFC00)]),
        ("NaN from a NaN operand", vec![(0x7C01, 0x3C00)]),
        (
            "NaN from Inf - Inf",
            vec![(0x7C00, 0x3C00), (0xFC00, 0x3C00)],
        ),
        ("NaN from Inf x 0", vec![(0x7C00, 0x0000)]),
        ("+2^-48 (smallest product)", vec![(0x0001, 0x0001)]),
        ("-2^-48", vec![(0x8001, 0x0001)]),
        ("+1", vec![(0x3C00, 0x3C00)]),
        (
            "1 + 2^-23 (odd last bit)",
            vec![(0x3C00, 0x3C00), (0x0C00, 0x1000)],
        ),
        ("-3 x 65504^2", vec![(0xFBFF, 0x7BFF); 3]),
        ("+0 from 1 - 1", vec![(0x3C00, 0x3C00), (0xBC00, 0x3C00)]),
    ]
}

#[test]
fn mac_special_operands_on_special_accumulators() {
    let t = Instant::now();
    let hs = special_codes(&H);
    let mut rows = Vec::new();
    for (_, steps) in special_states() {
        for &a in &hs {
            for &b in &hs {
                rows.push(row(false, true, true, 0x7E00, 0x7E00));
                for &(x, y) in &steps {
                    rows.push(row(false, false, true, x, y));
                }
                rows.push(row(false, false, true, a as u16, b as u16));
            }
        }
    }
    check_mac("special operand pairs on special accumulators", &rows);
    println!(
        "fp16mac MAC: {} states x {}^2 special operand pairs, {} cycles in {:.2?}",
        special_states().len(),
        hs.len(),
        rows.len(),
        t.elapsed()
    );
}

#[test]
fn mac_control_priorities_and_hold() {
    let (one, inf) = (0x3C00, 0x7C00);
    let (rows, acc) = control_rows::<Fp16Mac>(Addends {
        one: (one, one),
        two: (0x4000, one),
        inf: (inf, one),
        nan: (inf, 0x0000),
        neg_zero: (0xBC00, 0x0000),
    });
    assert_eq!(simulated_acc(rtl(), &cfg(), &rows), acc);
    check_mac("control", &rows);
}

#[test]
fn simulate_rejects_bad_rows_and_configurations() {
    let short = [vec![0, 0, 1, 0x3C00]];
    let want = "row 0 has 4 values, expected 5 (reset, clear, en, a, b)";
    assert_rejects(rtl(), &cfg(), &short, want);
    let wide = [vec![0, 2, 1, 0x3C00, 0]];
    assert_rejects(rtl(), &cfg(), &wide, "clear = 0x2 is wider than 1 bits");
    let bf16 = RtlConfig::new("bf16", "ieee", 0);
    assert_rejects(rtl(), &bf16, &[], "formats: fp16");
}

#[test]
fn emitted_verilog_header_ports_and_lint() {
    assert_accumulator_module(
        "fp16mac",
        &cfg(),
        "pelab_fp16mac_fp16_ieee",
        &[("a", 16), ("b", 16)],
        &[],
    );
}

#[test]
fn synthesized_size() {
    let (g, ice) = accumulator_synthesized("fp16mac", &cfg());
    assert!(g.logic_cells > 500 && ice.luts > 300, "{g:?}");
}

#[test]
fn emitted_core_gate_netlist_matches_reference() {
    let t = Instant::now();
    let m = rtl().verilog(&cfg()).unwrap();
    let top = format!("{}__core", m.name);
    assert!(m.submodules.contains(&top), "{:?}", m.submodules);
    let net = Netlist::parse(
        &netlist_json(&m.verilog, &top, Flow::Generic).unwrap(),
        &top,
    );
    let hs = special_codes(&H);
    let mut v: Vec<(u32, u16, u16)> = Vec::new();
    for &c in &special_codes(&F) {
        for &a in &hs {
            for &b in &hs {
                v.push((c as u32, a as u16, b as u16));
            }
        }
    }
    let mut r = ChaCha8Rng::seed_from_u64(0x6A7E);
    v.extend((0..1_000_000).map(|_| random_triple(&mut r)));
    let mut bad = Vec::new();
    for chunk in v.chunks(LANES) {
        let acc: Vec<u64> = chunk.iter().map(|t| t.0 as u64).collect();
        let a: Vec<u64> = chunk.iter().map(|t| t.1 as u64).collect();
        let b: Vec<u64> = chunk.iter().map(|t| t.2 as u64).collect();
        let out = net.eval(&[("acc", &acc), ("a", &a), ("b", &b)]);
        for (&(c, a, b), &y) in chunk.iter().zip(&out["y"]) {
            let want = fp16mac(c, a, b) as u64;
            if y != want && bad.len() < 8 {
                bad.push(format!(
                    "acc={c:08X} a={a:04X} b={b:04X}: netlist {y:08X}, reference {want:08X}"
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    println!(
        "fp16mac emitted core as generic gates: {} triples in {:.2?}",
        v.len(),
        t.elapsed()
    );
}
