//! L-Mul RTL in rust-hdl's simulator against the reference model `pelab_sim::lmul::lmul`:
//! exhaustive for the 8-bit and MX formats, random plus edge cases for bf16, fp16 and fp32,
//! and streams through the pipelined variants (latency and values).

mod common;

use common::drive;
use pelab_hdl::format::{rtl_format, Format, Overflow};
use pelab_hdl::pe::lmul::{LMul0, LMul1, LMul2, LMulParams};
use pelab_sim::lmul::lmul;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::time::Instant;

const POLICIES: [Overflow; 2] = [Overflow::Saturate, Overflow::Ieee];

/// Codes worth testing in any format: zeros, subnormals, smallest/largest normals, one, Inf,
/// NaNs, and values around the overflow and underflow edges, with both signs.
fn edge_codes(f: &Format) -> Vec<u64> {
    let m = f.m;
    let mag = f.mag_mask();
    let mut v = vec![
        0,
        1,
        f.man_mask(),
        1 << m,
        (1 << m) + 1,
        (2 << m) - 1,
        (f.bias as u64) << m,
        ((f.bias as u64) << m) | 1,
        ((f.bias as u64) << m) | f.man_mask(),
        ((f.bias as u64 - 1) << m) | (1 << (m - 1)),
        f.max_finite(),
        f.max_finite() - 1,
        mag,
        mag - f.man_mask(),
        mag - f.man_mask() + 1,
        mag - f.man_mask() + (1 << (m - 1)),
    ];
    let s = f.sign_bit();
    let neg: Vec<u64> = v.iter().map(|c| c | s).collect();
    v.extend(neg);
    v.retain(|c| *c <= f.mask());
    v.sort_unstable();
    v.dedup();
    v
}

fn pairs_for(f: &Format, random: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    if f.width() <= 8 {
        for a in 0..=f.mask() {
            for b in 0..=f.mask() {
                v.push((a, b));
            }
        }
        return v;
    }
    let e = edge_codes(f);
    for &a in &e {
        for &b in &e {
            v.push((a, b));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..random {
        v.push((rng.gen::<u64>() & f.mask(), rng.gen::<u64>() & f.mask()));
    }
    // Operands whose exponents sum near the underflow and overflow edges.
    for _ in 0..random / 4 {
        let ea: u64 = rng.gen_range(1..(1u64 << f.e));
        let target = rng.gen_range(0..=(2 * f.bias as u64 + 2));
        let eb = target.saturating_sub(ea).clamp(1, (1 << f.e) - 1);
        let a = (ea << f.m) | (rng.gen::<u64>() & f.man_mask()) | (rng.gen::<u64>() & f.sign_bit());
        let b = (eb << f.m) | (rng.gen::<u64>() & f.man_mask()) | (rng.gen::<u64>() & f.sign_bit());
        v.push((a, b));
    }
    v
}

fn check_comb<const W: usize, const W1: usize>(name: &str, random: usize) -> usize {
    let f = rtl_format(name).unwrap();
    let mut n = 0;
    for ovf in POLICIES {
        let Ok(p) = LMulParams::new(f, ovf) else {
            continue;
        };
        let pairs = pairs_for(&f, random, 7);
        let got = drive!(settled, LMul0::<W, W1>::new(&p), &pairs);
        for (&(a, b), got) in pairs.iter().zip(got) {
            let want = lmul(&f, a, b, ovf);
            assert_eq!(got, want, "{name} {} a={a:#x} b={b:#x}", ovf.name());
            n += 1;
        }
    }
    n
}

#[test]
fn lmul_comb_matches_reference() {
    let t = Instant::now();
    let mut n = 0;
    n += check_comb::<8, 9>("e4m3", 0);
    n += check_comb::<8, 9>("e5m2", 0);
    n += check_comb::<4, 5>("e2m1", 0);
    n += check_comb::<6, 7>("e3m2", 0);
    n += check_comb::<6, 7>("e2m3", 0);
    n += check_comb::<16, 17>("bf16", 20_000);
    n += check_comb::<16, 17>("fp16", 20_000);
    n += check_comb::<32, 33>("fp32", 20_000);
    println!("{n} L-Mul cases checked in {:.2?}", t.elapsed());
}

fn check_pipelined<const W: usize, const W1: usize>(name: &str) {
    let f = rtl_format(name).unwrap();
    for ovf in POLICIES {
        let Ok(p) = LMulParams::new(f, ovf) else {
            continue;
        };
        let mut pairs = pairs_for(&f, 3000, 11);
        pairs.truncate(6000);
        let want: Vec<u64> = pairs.iter().map(|&(a, b)| lmul(&f, a, b, ovf)).collect();
        let got1 = drive!(clocked, LMul1::<W, W1>::new(&p), &pairs);
        let got2 = drive!(clocked, LMul2::<W, W1>::new(&p), &pairs);
        for i in 0..pairs.len() {
            assert_eq!(
                got1[i],
                want[i],
                "{name} p1 {} pair {:x?}",
                ovf.name(),
                pairs[i]
            );
            if i >= 1 {
                assert_eq!(
                    got2[i],
                    want[i - 1],
                    "{name} p2 {} pair {:x?}",
                    ovf.name(),
                    pairs[i - 1]
                );
            }
        }
    }
}

#[test]
fn lmul_pipelines_have_documented_latency() {
    let t = Instant::now();
    check_pipelined::<8, 9>("e4m3");
    check_pipelined::<8, 9>("e5m2");
    check_pipelined::<4, 5>("e2m1");
    check_pipelined::<6, 7>("e3m2");
    check_pipelined::<6, 7>("e2m3");
    check_pipelined::<16, 17>("bf16");
    check_pipelined::<16, 17>("fp16");
    check_pipelined::<32, 33>("fp32");
    println!("pipelined L-Mul streams checked in {:.2?}", t.elapsed());
}

/// Hand-checked values, independent of both implementations.
#[test]
fn lmul_known_values() {
    let f = rtl_format("bf16").unwrap();
    let p = LMulParams::new(f, Overflow::Saturate).unwrap();
    let y = |a: u64, b: u64| drive!(settled, LMul0::<16, 17>::new(&p), &[(a, b)])[0];
    // 1.0 x 1.0: 0x3F80 + 0x3F80 - 0x3F78 = 0x3F88 (1.0625: the 2^-4 offset term).
    assert_eq!(y(0x3F80, 0x3F80), 0x3F88);
    // 2.0 x -3.0: 0x4000 + 0x4040 - 0x3F78 = 0x40C8 with the sign set.
    assert_eq!(y(0x4000, 0xC040), 0xC0C8);
    // 0 x 0.5 is +0, not NaN; -0 x 0 is -0.
    assert_eq!(y(0x0000, 0x3F00), 0x0000);
    assert_eq!(y(0x8000, 0x0000), 0x8000);
    // Max x 2 saturates to max finite, never to the NaN pattern.
    assert_eq!(y(0x7F7F, 0x4000), 0x7F7F);
    assert_eq!(y(0xFF7F, 0x4000), 0xFF7F);
    // Inf x 0 is the canonical NaN; Inf x -2 is -Inf; NaN in gives 0x7FC0.
    assert_eq!(y(0x7F80, 0x0000), 0x7FC0);
    assert_eq!(y(0x7F80, 0xC000), 0xFF80);
    assert_eq!(y(0xFFC1, 0x3F80), 0x7FC0);
    // Tiny x tiny underflows to a signed zero.
    assert_eq!(y(0x0080, 0x8080), 0x8000);
}
