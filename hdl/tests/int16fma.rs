//! INT16 FMA RTL in rust-hdl's simulator: the combinational core against an i128 transcription
//! of VPDPWSSD / VPDPWSSDS and against the reference model, and the streaming MAC against the
//! reference `StreamingMac` cycle by cycle.

mod common;

use common::int16_operand;
use pelab_hdl::pe::int16fma::{Int16FmaCore, Int16FmaMac};
use pelab_hdl::sim::{settle, tick};
use pelab_sim::int16fma::{MacInputs, Mode, StreamingMac};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::time::Instant;

/// acc + a0*b0 + a1*b1 computed exactly in i128, then wrapped or clamped to INT32.
fn transcription(saturate: bool, acc: i32, a: [i16; 2], b: [i16; 2]) -> i32 {
    let s = acc as i128 + a[0] as i128 * b[0] as i128 + a[1] as i128 * b[1] as i128;
    if saturate {
        s.clamp(i32::MIN as i128, i32::MAX as i128) as i32
    } else {
        (s & 0xFFFF_FFFF) as u32 as i32
    }
}

const I16_EDGES: [i16; 9] = [0, 1, -1, 2, -2, i16::MAX, i16::MIN, i16::MIN + 1, 0x4000];
const I32_EDGES: [i32; 10] = [
    0,
    1,
    -1,
    i32::MAX,
    i32::MIN,
    i32::MAX - 1,
    i32::MIN + 1,
    1 << 30,
    -(1 << 30),
    i32::MIN + (1 << 16),
];

fn cases(n_random: usize) -> Vec<(i32, [i16; 2], [i16; 2])> {
    let mut v = Vec::new();
    for &acc in &I32_EDGES {
        for &a0 in &I16_EDGES {
            for &b0 in &I16_EDGES {
                for &x in &[i16::MIN, -1, 0, i16::MAX] {
                    v.push((acc, [a0, x], [b0, x]));
                    v.push((acc, [a0, x], [b0, -x.max(-i16::MAX)]));
                }
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    for i in 0..n_random {
        // Half uniform, half with large magnitudes (the overflow region).
        let big = |r: &mut ChaCha8Rng| -> i16 {
            if r.gen() {
                r.gen_range(0x6000..=i16::MAX)
            } else {
                r.gen_range(i16::MIN..=-0x6000)
            }
        };
        if i % 2 == 0 {
            v.push((rng.gen(), [rng.gen(), rng.gen()], [rng.gen(), rng.gen()]));
        } else {
            let acc = if rng.gen() {
                rng.gen_range(0x6000_0000..=i32::MAX)
            } else {
                rng.gen_range(i32::MIN..=-0x6000_0000)
            };
            v.push((
                acc,
                [big(&mut rng), big(&mut rng)],
                [big(&mut rng), big(&mut rng)],
            ));
        }
    }
    v
}

#[test]
fn core_matches_transcription_and_reference() {
    let t = Instant::now();
    let all = cases(20_000);
    let mut clamped = 0;
    for (saturate, mode) in [(false, Mode::Wrap), (true, Mode::Saturate)] {
        let mut uut = Int16FmaCore::new(saturate);
        uut.connect_all();
        for &(acc, a, b) in &all {
            uut.acc.next = bits(acc as u32 as u64);
            uut.a0.next = bits(a[0] as u16 as u64);
            uut.a1.next = bits(a[1] as u16 as u64);
            uut.b0.next = bits(b[0] as u16 as u64);
            uut.b1.next = bits(b[1] as u16 as u64);
            settle(&mut uut).unwrap();
            let got = uut.y.val().to_u64() as u32 as i32;
            let want = transcription(saturate, acc, a, b);
            assert_eq!(got, want, "saturate={saturate} acc={acc} a={a:?} b={b:?}");
            assert_eq!(got, mode.apply(acc, a, b), "reference disagrees");
            if saturate && (got == i32::MAX || got == i32::MIN) {
                clamped += 1;
            }
        }
    }
    assert!(
        clamped > 1000,
        "the cases must exercise saturation ({clamped})"
    );
    println!(
        "{} int16fma core cases x 2 policies in {:.2?}",
        all.len(),
        t.elapsed()
    );
}

#[test]
fn mac_matches_reference_cycle_by_cycle() {
    let t = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(32);
    for (saturate, mode) in [(false, Mode::Wrap), (true, Mode::Saturate)] {
        let mut uut = Int16FmaMac::new(saturate);
        uut.connect_all();
        let mut model = StreamingMac::new(mode);
        for cycle in 0..20_000 {
            let big = rng.gen_bool(0.5);
            let op = |r: &mut ChaCha8Rng| int16_operand(r, big, 64);
            let inp = MacInputs {
                reset: cycle == 0 || rng.gen_ratio(1, 500),
                clear: rng.gen_ratio(1, 100),
                en: rng.gen_ratio(9, 10),
                a: [op(&mut rng), op(&mut rng)],
                b: [op(&mut rng), op(&mut rng)],
            };
            uut.reset.next = inp.reset;
            uut.clear.next = inp.clear;
            uut.en.next = inp.en;
            uut.a0.next = bits(inp.a[0] as u16 as u64);
            uut.a1.next = bits(inp.a[1] as u16 as u64);
            uut.b0.next = bits(inp.b[0] as u16 as u64);
            uut.b1.next = bits(inp.b[1] as u16 as u64);
            tick(&mut uut, |u| &mut u.clock).unwrap();
            let want = model.clock(&inp);
            let got = uut.acc.val().to_u64() as u32 as i32;
            assert_eq!(got, want, "saturate={saturate} cycle {cycle} {inp:?}");
        }
    }
    println!("int16fma MAC: 2 x 20000 cycles in {:.2?}", t.elapsed());
}
