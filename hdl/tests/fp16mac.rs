//! fp16mac RTL against the reference model `pelab_sim::fp16mac` in rust-hdl's simulator:
//! - the combinational step ([`simulate_core`]) on every special FP32 accumulator with every
//!   pair of special FP16 operands, and on random triples aimed at cancellation, rounding ties,
//!   alignment distances and subnormal accumulators;
//! - the streaming MAC through `PeRtl::simulate` on random accumulations (reset, clear, en,
//!   operands that cancel the running sum) and on every pair of special operands applied to
//!   special accumulators reached by accumulating into them, cycle by cycle against
//!   `Fp16Mac::clock`;
//! - the emitted Verilog: its combinational step (the `__core` sub-module), as Yosys reads it
//!   and maps it to generic gates, on the same special triples and a million random ones,
//!   including the accumulators (-0, subnormals, values beyond 2^56) that the streaming MAC
//!   cannot reach and golden vectors therefore never exercise; the header, ports and lint;
//!   the synthesized size.

mod common;

use common::{Netlist, LANES};
use pelab_hdl::pe::fp16mac::simulate_core;
use pelab_hdl::synth::{netlist_json, synthesize, Flow};
use pelab_hdl::tools::lint;
use pelab_hdl::{find, PeRtl, RtlConfig};
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::fp16mac::{fp16mac, Fp16Mac, MacInputs};
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

/// The FP16 code of `x` when `x` is exactly an FP16 value.
fn exact_h(x: f64) -> Option<u16> {
    let c = H
        .from_f64(x, Rounding::NearestEven, Overflow::Saturate)
        .ok()? as u16;
    (val_h(c) == x).then_some(c)
}

/// Operands whose product nearly or exactly cancels the finite accumulator `acc`: `b` a power
/// of two or a random value near 1, `a` the FP16 value nearest to `-acc / b`, sometimes moved
/// by one unit in the last place. Infinite, NaN or out-of-range accumulators give random pairs.
fn cancel_pair(acc: u32, r: &mut ChaCha8Rng) -> (u16, u16) {
    let v = F.to_f64(acc as u64);
    let b = if r.gen_ratio(3, 4) {
        ((15 + r.gen_range(-8i64..=8)) as u16) << 10
    } else {
        (((15 + r.gen_range(-3i64..=3)) as u16) << 10) | r.gen_range(0..0x400)
    } | if r.gen() { 0x8000 } else { 0 };
    let x = -v / val_h(b);
    if !v.is_finite() || x.abs() > 65504.0 {
        let (a, b) = random_pair(&H, r);
        return (a as u16, b as u16);
    }
    let mut a = H
        .from_f64(x, Rounding::NearestEven, Overflow::Saturate)
        .unwrap() as u16;
    match r.gen_range(0..8) {
        0 if a & 0x7FFF < 0x7BFF => a += 1,
        1 if a & 0x7FFF > 0 => a -= 1,
        _ => {}
    }
    if r.gen() {
        (a, b)
    } else {
        (b, a)
    }
}

/// Operands whose product is an odd multiple of half a unit in the last place of a normal
/// accumulator with exponent `e` (a rounding tie when the sum stays in that binade), or `None`.
fn tie_pair_for(e: i32, r: &mut ChaCha8Rng) -> Option<(u16, u16)> {
    let q = (r.gen_range(0..1024u32) * 2 + 1) as f64;
    let q = if r.gen_ratio(1, 3) { 1.0 } else { q };
    for _ in 0..8 {
        let t = r.gen_range(-24i32..=15);
        let s = e - 24 - t;
        let (Some(a), Some(b)) = (exact_h(q * 2f64.powi(s)), exact_h(2f64.powi(t))) else {
            continue;
        };
        let a = a | if r.gen() { 0x8000 } else { 0 };
        return Some(if r.gen() { (a, b) } else { (b, a) });
    }
    None
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
            match tie_pair_for(exp_of(acc), r) {
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
    vec![reset as u64, clear as u64, en as u64, a as u64, b as u64]
}

fn inputs(r: &[u64]) -> MacInputs {
    MacInputs {
        reset: r[0] == 1,
        clear: r[1] == 1,
        en: r[2] == 1,
        a: r[3] as u16,
        b: r[4] as u16,
    }
}

/// Runs rows through `simulate` and the reference `Fp16Mac` from power-up; panics with the
/// first mismatching cycles.
fn check_mac(what: &str, rows: &[Vec<u64>]) {
    let got = rtl().simulate(&cfg(), rows).unwrap();
    assert_eq!(got.len(), rows.len());
    let mut m = Fp16Mac::default();
    let mut bad = Vec::new();
    for (i, (r, g)) in rows.iter().zip(&got).enumerate() {
        let before = m.acc;
        let want = m.clock(&inputs(r)) as u64;
        if g[0] != want && bad.len() < 8 {
            bad.push(format!(
                "cycle {i}: acc {before:08X}, inputs {:?}: rtl {:08X}, reference {want:08X}",
                inputs(r),
                g[0]
            ));
        }
    }
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

/// A `random_pair`, redrawn (but for one time in 128) while it holds a NaN or an Inf: those
/// stay in the accumulator until the next clear.
fn mostly_finite_pair(r: &mut ChaCha8Rng) -> (u16, u16) {
    loop {
        let (a, b) = random_pair(&H, r);
        let special = |c: u64| c & 0x7C00 == 0x7C00;
        if !(special(a) || special(b)) || r.gen_ratio(1, 128) {
            return (a as u16, b as u16);
        }
    }
}

/// Random accumulations: a reset or clear cycle, then up to 64 cycles with `en` mostly high;
/// operands random, cancelling the running sum (sometimes in a run of up to three cycles,
/// which reaches exact zero), rounding ties or special codes.
fn accumulations(cycles: usize, seed: u64) -> Vec<Vec<u64>> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let sp = special_codes(&H);
    let mut m = Fp16Mac::default();
    let mut rows = Vec::with_capacity(cycles + 64);
    while rows.len() < cycles {
        let start = if r.gen_ratio(1, 8) {
            row(true, r.gen(), r.gen(), r.gen(), r.gen())
        } else {
            row(false, true, r.gen(), r.gen(), r.gen())
        };
        m.clock(&inputs(&start));
        rows.push(start);
        let mut run = 0;
        for _ in 0..r.gen_range(1..=64) {
            let normal = m.acc & 0x7F80_0000 != 0 && m.acc & 0x7F80_0000 != 0x7F80_0000;
            let (a, b) = if run > 0 {
                run -= 1;
                cancel_pair(m.acc, &mut r)
            } else {
                match r.gen_range(0..64) {
                    0..=35 => mostly_finite_pair(&mut r),
                    36..=49 => {
                        run = r.gen_range(0..=2);
                        cancel_pair(m.acc, &mut r)
                    }
                    50..=57 if normal => {
                        tie_pair_for(exp_of(m.acc), &mut r).unwrap_or((0x3C00, 0x3C00))
                    }
                    58 => (sp[r.gen_range(0..sp.len())] as u16, r.gen()),
                    59 => (r.gen(), r.gen()),
                    _ => mostly_finite_pair(&mut r),
                }
            };
            let x = row(
                r.gen_ratio(1, 400),
                r.gen_ratio(1, 100),
                !r.gen_ratio(1, 8),
                a,
                b,
            );
            m.clock(&inputs(&x));
            rows.push(x);
        }
    }
    rows
}

#[test]
fn mac_matches_reference_on_random_accumulations() {
    let t = Instant::now();
    let rows = accumulations(150_000, 0xACC);
    // The running sum must go through cancellation and special states.
    let mut m = Fp16Mac::default();
    let (mut zero_after_nonzero, mut nan, mut inf, mut ties) = (0, 0, 0, 0);
    for r in &rows {
        let before = m.acc;
        let i = inputs(r);
        let y = m.clock(&i);
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
    let one = 0x3C00;
    let inf = 0x7C00;
    let rows = vec![
        row(false, false, true, one, one),       // +1
        row(false, false, false, inf, one),      // hold
        row(true, true, true, inf, one),         // reset beats everything
        row(false, false, true, 0x4000, one),    // +2
        row(false, true, true, inf, 0x0000),     // clear beats en: +0, NaN not accumulated
        row(false, false, true, 0xBC00, 0x0000), // +0 + (-0) = +0
        row(false, false, true, one, one),       // +1
        row(true, false, false, one, one),       // reset without en
    ];
    let got = rtl().simulate(&cfg(), &rows).unwrap();
    let acc: Vec<u64> = got.iter().map(|g| g[0]).collect();
    assert_eq!(
        acc,
        [
            0x3F80_0000,
            0x3F80_0000,
            0,
            0x4000_0000,
            0,
            0,
            0x3F80_0000,
            0
        ]
    );
    check_mac("control", &rows);
}

#[test]
fn simulate_rejects_bad_rows_and_configurations() {
    let e = rtl()
        .simulate(&cfg(), &[vec![0, 0, 1, 0x3C00]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("row 0 has 4 values, expected 5 (reset, clear, en, a, b)"),
        "{e}"
    );
    let e = rtl()
        .simulate(&cfg(), &[vec![0, 2, 1, 0x3C00, 0]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("clear = 0x2 is wider than 1 bits"), "{e}");
    let e = rtl()
        .simulate(&RtlConfig::new("bf16", "ieee", 0), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("formats: fp16"), "{e}");
}

#[test]
fn emitted_verilog_header_ports_and_lint() {
    let m = rtl().verilog(&cfg()).unwrap();
    assert_eq!(m.name, "pelab_fp16mac_fp16_ieee");
    assert_eq!(m.latency, 1);
    let ports: Vec<(&str, usize)> = m.ports.iter().map(|p| (p.name.as_str(), p.width)).collect();
    assert_eq!(
        ports,
        [
            ("clock", 1),
            ("reset", 1),
            ("clear", 1),
            ("en", 1),
            ("a", 16),
            ("b", 16),
            ("acc", 32)
        ]
    );
    for want in [
        "0x7FC00000",
        "ties to even",
        "(-0) + (-0) = -0",
        "reset -> +0",
    ] {
        assert!(m.verilog.contains(want), "header lacks '{want}'");
    }
    let dir = std::env::temp_dir().join(format!("pelab-fp16mac-{}", std::process::id()));
    let path = pelab_hdl::emit::write_module(&dir, &m).unwrap();
    lint(&path, &m.name).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn synthesized_size() {
    let m = rtl().verilog(&cfg()).unwrap();
    let g = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
    let ice = synthesize(&m.verilog, &m.name, Flow::Ice40).unwrap();
    println!(
        "fp16mac generic: {} cells ({} logic, {} flip-flops), longest path {}; {:?}",
        g.cell_count, g.logic_cells, g.ffs, g.longest_path, g.cells
    );
    println!(
        "fp16mac ice40: {} LUT4, {} carry, {} flip-flops, longest path {}",
        ice.luts, ice.carry, ice.ffs, ice.longest_path
    );
    assert_eq!((g.ffs, ice.ffs), (32, 32), "the accumulator register only");
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
