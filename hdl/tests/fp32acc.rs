//! fp32acc RTL in rust-hdl's simulator, against two oracles: the CPU's own binary32 addition
//! (round to nearest even, subnormals kept; NaN results made canonical) and the reference
//! model `pelab_sim::fp32acc`:
//! - the combinational step (`simulate_core`) on every pair of a special-value set and on
//!   random pairs aimed at every exponent distance, cancellation, rounding ties, overflow and
//!   the subnormal range, against the CPU;
//! - the streaming accumulator through `PeRtl::simulate`, cycle by cycle against
//!   `Fp32Acc::clock` (each step of which is checked against the CPU as well), on random
//!   accumulations with `reset`, `clear` and `en`, on special addends applied to special
//!   accumulator states, and on the control priorities;
//! - the emitted module: name, header, ports, lint, synthesized size.

mod common;

use common::{
    accumulations, accumulator_synthesized, assert_accumulator_module, assert_rejects,
    check_accumulator, control_rows, reference_steps, simulated_acc, Addends,
};
use pelab_hdl::pe::fp32acc::simulate_core;
use pelab_hdl::{find, PeRtl, RtlConfig};
use pelab_sim::fp32acc::{cancelling_pair, cpu_add as hw, with_exp, AccInputs, Fp32Acc};
use pelab_sim::pe::stream::{random_cycles, Accumulator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

const NAN: u32 = 0x7FC0_0000;
const ONE: u32 = 0x3F80_0000;

fn cfg() -> RtlConfig {
    RtlConfig::new("fp32", "ieee", 0)
}

fn rtl() -> &'static dyn PeRtl {
    find("fp32acc").unwrap()
}

/// Special and boundary codes, both signs: zeros, subnormal edges, normal edges, the largest
/// finite values, Inf, NaNs, values around 1 and powers of two across the range.
fn specials() -> Vec<u32> {
    let mut v: Vec<u32> = vec![
        0,
        1,
        2,
        3,
        0x0040_0000,
        0x007F_FFFE,
        0x007F_FFFF,
        0x0080_0000,
        0x0080_0001,
        0x00FF_FFFF,
        0x0100_0000,
        0x3380_0000,
        0x3400_0000,
        0x3F7F_FFFF,
        ONE,
        0x3F80_0001,
        0x3FFF_FFFF,
        0x4B80_0000,
        0x7300_0000,
        0x7F00_0000,
        0x7F7F_FFFE,
        0x7F7F_FFFF,
        0x7F80_0000,
        0x7F80_0001,
        NAN,
        0x7FFF_FFFF,
    ];
    for e in (1..=254u32).step_by(23) {
        v.extend([e << 23, (e << 23) | 1, (e << 23) - 1]);
    }
    let mut out: Vec<u32> = v.iter().flat_map(|&c| [c, c | 0x8000_0000]).collect();
    out.sort();
    out.dedup();
    out
}

/// Random `(acc, x)` pairs: uniform codes; exponent distances 0..60; nearly equal magnitudes
/// of opposite sign; half a unit in the last place of `acc` (ties); both near the overflow
/// threshold; operands in and near the subnormal range.
fn random_pair(r: &mut ChaCha8Rng) -> (u32, u32) {
    let (a, b) = match r.gen_range(0..12) {
        0 => (r.gen(), r.gen()),
        1..=3 => {
            let a = with_exp(r.gen_range(0..=254), r);
            let d =
                [r.gen_range(0..=3), r.gen_range(0..=27), r.gen_range(0..=60)][r.gen_range(0..3)];
            let ea = ((a >> 23) & 0xFF) as i64;
            (a, with_exp(if r.gen() { ea - d } else { ea + d }, r))
        }
        // Low exponents too: cancellation into the subnormal range.
        4..=6 => cancelling_pair(r),
        7 => {
            // An odd multiple of half a unit in the last place of a normal `a`.
            let a = with_exp(r.gen_range(1..=230), r);
            let e = ((a >> 23) & 0xFF) as i64 - 24 - r.gen_range(0..=1);
            let m = (r.gen::<u32>() & 0x7F_FFFF) | 1;
            let b = if r.gen_ratio(1, 2) {
                (e as u32) << 23
            } else {
                ((e as u32) << 23) | m
            } | (r.gen::<u32>() & 0x8000_0000);
            (a, b)
        }
        8 => {
            let a = with_exp(254 - r.gen_range(0..3), r);
            let b = with_exp(254 - r.gen_range(0..30), r);
            let flip = (r.gen_ratio(1, 4) as u32) << 31;
            (a, (b & 0x7FFF_FFFF) | ((a & 0x8000_0000) ^ flip))
        }
        9 | 10 => (
            with_exp(r.gen_range(0..3), r),
            with_exp(r.gen_range(0..28), r),
        ),
        _ => (
            with_exp(r.gen_range(0..=254), r),
            with_exp(r.gen_range(0..=254), r),
        ),
    };
    if r.gen() {
        (a, b)
    } else {
        (b, a)
    }
}

fn check_core(what: &str, pairs: &[(u32, u32)]) {
    let got = simulate_core(pairs).unwrap();
    let bad: Vec<String> = pairs
        .iter()
        .zip(&got)
        .filter(|(&(a, x), &g)| g != hw(a, x))
        .take(8)
        .map(|(&(a, x), &g)| format!("acc={a:08X} x={x:08X}: rtl {g:08X}, CPU {:08X}", hw(a, x)))
        .collect();
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

#[test]
fn core_matches_cpu_on_every_special_pair() {
    let t = Instant::now();
    let s = specials();
    let pairs: Vec<(u32, u32)> = s
        .iter()
        .flat_map(|&a| s.iter().map(move |&b| (a, b)))
        .collect();
    check_core("special pairs", &pairs);
    println!(
        "fp32acc core: {} special pairs ({} codes) in {:.2?}",
        pairs.len(),
        s.len(),
        t.elapsed()
    );
}

#[test]
fn core_matches_cpu_on_random_pairs() {
    let t = Instant::now();
    let mut r = ChaCha8Rng::seed_from_u64(0xF32);
    let pairs: Vec<(u32, u32)> = (0..300_000).map(|_| random_pair(&mut r)).collect();
    let (mut zero, mut inf, mut sub, mut deep, mut clamped) = (0, 0, 0, 0, 0);
    for &(a, x) in &pairs {
        let (fa, fx, y) = (
            f32::from_bits(a),
            f32::from_bits(x),
            f32::from_bits(hw(a, x)),
        );
        if fa.is_finite() && fx.is_finite() {
            zero += (y == 0.0 && fa != 0.0) as u32;
            inf += y.is_infinite() as u32;
            sub += (y != 0.0 && y.is_subnormal()) as u32;
            // A subnormal sum of operands with exponent fields of 3 or more: the
            // normalization shift is clamped at 2 or more.
            let top = ((a >> 23) & 0xFF).max((x >> 23) & 0xFF);
            clamped += (y != 0.0 && y.is_subnormal() && top >= 3) as u32;
            deep += (y != 0.0 && y.abs() < fa.abs().max(fx.abs()) / 256.0) as u32;
        }
    }
    assert!(
        zero > 2000 && inf > 500 && sub > 3000 && deep > 20_000 && clamped > 2000,
        "coverage: {zero} exact cancellations, {inf} overflows, {sub} subnormal sums ({clamped} \
         with a clamped shift), {deep} cancellations of 8+ bits"
    );
    check_core("random pairs", &pairs);
    println!(
        "fp32acc core: {} random pairs ({zero} exact cancellations, {inf} overflows, {sub} \
         subnormal sums ({clamped} with a clamped shift), {deep} cancellations of 8+ bits) in \
         {:.2?}",
        pairs.len(),
        t.elapsed()
    );
}

fn row(reset: bool, clear: bool, en: bool, x: u32) -> Vec<u64> {
    Fp32Acc::row(&Fp32Acc::inputs(reset, clear, en, x))
}

/// Runs rows through `simulate` and the reference `Fp32Acc` from power-up (+0), checking
/// every accumulating step of the reference against the CPU; panics with the first
/// mismatching cycles.
fn check_acc(what: &str, rows: &[Vec<u64>]) {
    for (k, (i, before, want)) in reference_steps::<Fp32Acc>(rows).into_iter().enumerate() {
        if !(i.reset || i.clear) && i.en {
            assert_eq!(want, hw(before, i.x), "reference vs CPU, cycle {k}");
        }
    }
    check_accumulator::<Fp32Acc>(rtl(), &cfg(), what, rows);
}

/// One random accumulation (`random_cycles`): addends random (`random_pair`), cancelling the
/// running sum, or special codes.
fn random_accumulation(r: &mut ChaCha8Rng) -> Vec<AccInputs> {
    let sp = specials();
    random_cycles::<Fp32Acc, _>(
        r,
        |r| r.gen(),
        |r, acc| match r.gen_range(0..16) {
            0..=3 => {
                // Near -acc: cancellation of every depth.
                let bits = r.gen_range(0..25);
                let d = r.gen_range(0..=1u32 << bits);
                let v = acc.wrapping_add(d) ^ 0x8000_0000;
                if (v >> 23) & 0xFF == 0xFF {
                    acc ^ 0x8000_0000
                } else {
                    v
                }
            }
            4 => sp[r.gen_range(0..sp.len())],
            5 if r.gen_ratio(1, 8) => r.gen(),
            _ => {
                let (a, b) = random_pair(r);
                let c = if r.gen() { a } else { b };
                // NaN and Inf stay until the next clear: mostly redrawn.
                if (c >> 23) & 0xFF == 0xFF && !r.gen_ratio(1, 16) {
                    c & 0x807F_FFFF
                } else {
                    c
                }
            }
        },
    )
}

#[test]
fn accumulator_matches_reference_on_random_accumulations() {
    let t = Instant::now();
    let rows = accumulations::<Fp32Acc>(150_000, 0xACC32, random_accumulation);
    let (mut zero, mut nan, mut inf, mut sub) = (0, 0, 0, 0);
    for (i, before, y) in reference_steps::<Fp32Acc>(&rows) {
        if !(i.reset || i.clear) && i.en {
            zero += (y & 0x7FFF_FFFF == 0 && before & 0x7FFF_FFFF != 0) as u32;
            nan += (y == NAN) as u32;
            inf += (y & 0x7FFF_FFFF == 0x7F80_0000) as u32;
            sub += (y & 0x7F80_0000 == 0 && y & 0x7F_FFFF != 0) as u32;
        }
    }
    assert!(
        zero > 500 && nan > 200 && inf > 200 && sub > 500,
        "coverage: {zero} cancellations to zero, {nan} NaN, {inf} Inf, {sub} subnormal"
    );
    check_acc("random accumulations", &rows);
    println!(
        "fp32acc accumulator: {} cycles ({zero} cancellations to zero, {nan} NaN, {inf} Inf, \
         {sub} subnormal results) in {:.2?}",
        rows.len(),
        t.elapsed()
    );
}

#[test]
fn special_addends_on_special_states() {
    let t = Instant::now();
    let sp = specials();
    // Accumulator states reached by accumulating from +0 (-0 cannot be reached: +0 + (-0) is
    // +0; the combinational step is checked on -0 above).
    let states: Vec<Vec<u32>> = vec![
        vec![],
        vec![1],
        vec![0x807F_FFFF],
        vec![ONE],
        vec![ONE, 0x3400_0000],
        vec![0x7F7F_FFFF],
        vec![0xFF7F_FFFF],
        vec![0x7F80_0000],
        vec![0xFF80_0000],
        vec![0x7F80_0000, 0xFF80_0000],
        vec![ONE, 0xBF80_0000],
    ];
    let mut rows = Vec::new();
    for state in &states {
        for &x in &sp {
            rows.push(row(false, true, true, NAN));
            rows.extend(state.iter().map(|&s| row(false, false, true, s)));
            rows.push(row(false, false, true, x));
        }
    }
    check_acc("special addends on special states", &rows);
    println!(
        "fp32acc accumulator: {} states x {} special addends, {} cycles in {:.2?}",
        states.len(),
        sp.len(),
        rows.len(),
        t.elapsed()
    );
}

#[test]
fn control_priorities_and_hold() {
    let inf = 0x7F80_0000;
    let (mut rows, mut acc) = control_rows::<Fp32Acc>(Addends {
        one: ONE,
        two: 0x4000_0000,
        inf,
        nan: NAN,
        neg_zero: 0x8000_0000,
    });
    // Max, overflow to Inf, Inf - Inf = NaN, and the NaN stays.
    rows.extend([0x7F7F_FFFF, 0x7F7F_FFFF, 0xFF80_0000, ONE].map(|x| row(false, false, true, x)));
    acc.extend([0x7F7F_FFFF, 0x7F80_0000, NAN as u64, NAN as u64]);
    assert_eq!(simulated_acc(rtl(), &cfg(), &rows), acc);
    check_acc("control", &rows);
}

#[test]
fn simulate_rejects_bad_rows_and_configurations() {
    let short = [vec![0, 0, 1]];
    let want = "row 0 has 3 values, expected 4 (reset, clear, en, x)";
    assert_rejects(rtl(), &cfg(), &short, want);
    let wide = [vec![0, 0, 1, 1 << 32]];
    assert_rejects(
        rtl(),
        &cfg(),
        &wide,
        "x = 0x100000000 is wider than 32 bits",
    );
    let fp16 = RtlConfig::new("fp16", "ieee", 0);
    assert_rejects(rtl(), &fp16, &[], "formats: fp32");
}

#[test]
fn emitted_verilog_header_ports_and_lint() {
    assert_accumulator_module(
        "fp32acc",
        &cfg(),
        "pelab_fp32acc_fp32_ieee",
        &[("x", 32)],
        &["signed Inf"],
    );
}

#[test]
fn synthesized_size() {
    let (g, ice) = accumulator_synthesized("fp32acc", &cfg());
    assert!(g.logic_cells > 300 && ice.luts > 200, "{g:?}");
}
