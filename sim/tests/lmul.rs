//! L-Mul: the constants of the paper, hand-checked vectors, exhaustive properties, the value
//! formula derived independently of the integer-add implementation, and the analytic bound of
//! its relative error.

mod common;

use common::{random_pair, rng, special_codes};
use pelab_sim::format::{Class, Format, Overflow};
use pelab_sim::lmul::{k_constant, lmul, lmul_slice, offset_bits};

const POLICIES: [Overflow; 2] = [Overflow::Saturate, Overflow::Ieee];

#[test]
fn k_constants_of_the_paper_kernel() {
    assert_eq!(k_constant(&Format::FP32), 0x3F78_0000);
    assert_eq!(k_constant(&Format::BF16), 0x3F78);
    assert_eq!(k_constant(&Format::FP16), 0x3BC0);
    assert_eq!(k_constant(&Format::E4M3), 0x37);
    assert_eq!(k_constant(&Format::E5M2), 0x3B);
    assert_eq!(
        [1, 2, 3, 4, 5, 7, 10, 23].map(offset_bits),
        [1, 2, 3, 3, 4, 4, 4, 4]
    );
}

#[test]
fn hand_checked_vectors() {
    let bf = Format::BF16;
    let sat = Overflow::Saturate;
    let ieee = Overflow::Ieee;
    // 1 x 1 = 1 + 2^-4 (l = 4 for M = 7); 1.5 x 1.5: x+y+2^-4 = 1.0625 carries: 2 * 1.0625.
    assert_eq!(lmul(&bf, 0x3F80, 0x3F80, sat), 0x3F88);
    assert_eq!(bf.to_f64(0x3F88), 1.0625);
    assert_eq!(lmul(&bf, 0x3FC0, 0x3FC0, sat), 0x4008);
    assert_eq!(bf.to_f64(0x4008), 2.125);
    // Signs.
    assert_eq!(lmul(&bf, 0xBF80, 0x3F80, sat), 0xBF88);
    assert_eq!(lmul(&bf, 0xBF80, 0xBF80, sat), 0x3F88);
    // Zeros: 0 x 0.5 is 0 (not NaN), 0 x 0 is 0 (not 4.25), signs kept.
    assert_eq!(lmul(&bf, 0x0000, 0x3F00, sat), 0x0000);
    assert_eq!(lmul(&bf, 0x8000, 0x3F00, sat), 0x8000);
    assert_eq!(lmul(&bf, 0x0000, 0x0000, sat), 0x0000);
    assert_eq!(lmul(&bf, 0x0001, 0x4000, sat), 0x0000); // subnormal input flushes
                                                        // Inf and NaN.
    assert_eq!(lmul(&bf, 0x7F80, 0x4000, sat), 0x7F80);
    assert_eq!(lmul(&bf, 0x7F80, 0xC000, sat), 0xFF80);
    assert_eq!(lmul(&bf, 0x7F80, 0x0000, sat), 0x7FC0);
    assert_eq!(lmul(&bf, 0x7F80, 0x0001, sat), 0x7FC0);
    assert_eq!(lmul(&bf, 0x7FC1, 0x3F80, sat), 0x7FC0);
    assert_eq!(lmul(&bf, 0xFFFF, 0x0000, sat), 0x7FC0);
    // Underflow: min normal squared.
    assert_eq!(lmul(&bf, 0x0080, 0x0080, sat), 0x0000);
    assert_eq!(lmul(&bf, 0x8080, 0x0080, sat), 0x8000);
    // Overflow: max finite x 2.
    assert_eq!(lmul(&bf, 0x7F7F, 0x4000, sat), 0x7F7F);
    assert_eq!(lmul(&bf, 0xFF7F, 0x4000, sat), 0xFF7F);
    assert_eq!(lmul(&bf, 0x7F7F, 0x4000, ieee), 0x7F80);
    assert_eq!(lmul(&bf, 0xFF7F, 0x4000, ieee), 0xFF80);
    // E4M3FN: 1 x 1 = 1 + 2^-3; 448 x 2 saturates to 448 (0x7E, never the NaN 0x7F) or is NaN.
    let e4 = Format::E4M3;
    assert_eq!(lmul(&e4, 0x38, 0x38, sat), 0x39);
    assert_eq!(e4.to_f64(0x39), 1.125);
    assert_eq!(lmul(&e4, 0x7E, 0x40, sat), 0x7E);
    assert_eq!(lmul(&e4, 0xFE, 0x40, sat), 0xFE);
    assert_eq!(lmul(&e4, 0x7E, 0x40, ieee), 0x7F);
    assert_eq!(lmul(&e4, 0x7F, 0x38, sat), 0x7F);
    // fp32: 1 x 1 = 1 + 2^-4 = 0x3F880000.
    assert_eq!(
        lmul(&Format::FP32, 0x3F80_0000, 0x3F80_0000, sat),
        0x3F88_0000
    );
    // e5m2 (l = M = 2): 1 x 1 = 1.25.
    assert_eq!(
        Format::E5M2.to_f64(lmul(&Format::E5M2, 0x3C, 0x3C, sat)),
        1.25
    );
}

fn is_nan_source(f: &Format, a: u64, b: u64) -> bool {
    let (ca, cb) = (f.classify(a), f.classify(b));
    let flush = |c| matches!(c, Class::Zero | Class::Subnormal);
    ca == Class::Nan
        || cb == Class::Nan
        || (ca == Class::Inf && flush(cb))
        || (cb == Class::Inf && flush(ca))
}

/// The value L-Mul must produce for normal inputs, from the paper's formula in the value
/// domain: with a = (1+x)2^ea, b = (1+y)2^eb, d = 2^-l and s = x+y+d: (1+s)·2^(ea+eb) while
/// s < 1; one mantissa carry into the exponent, 2s·2^(ea+eb), while s < 2; two carries
/// (possible when M > l), 4(s-1)·2^(ea+eb). No integer add involved.
fn formula_value(f: &Format, a: u64, b: u64) -> f64 {
    let (sig, exp) = formula_exact(f, a, b);
    let sign = if f.sign(a) != f.sign(b) { -1.0 } else { 1.0 };
    sign * sig as f64 * 2f64.powi(exp)
}

/// [`formula_value`]'s magnitude as an exact (significand, exponent) pair, in integer units of
/// 2^-M so that it is exact for every M.
fn formula_exact(f: &Format, a: u64, b: u64) -> (u128, i32) {
    let one = 1u128 << f.m;
    let (x, y) = ((a & f.man_mask()) as u128, (b & f.man_mask()) as u128);
    let s = x + y + (1u128 << (f.m - offset_bits(f.m)));
    let m = if s < one {
        one + s
    } else if s < 2 * one {
        2 * s
    } else {
        4 * (s - one)
    };
    let expo = |c: u64| f.exp_field(c) as i32 - f.bias;
    (m, expo(a) + expo(b) - f.m as i32)
}

fn same_value(x: (u128, i32), y: (u128, i32)) -> bool {
    let norm = |(mut s, mut e): (u128, i32)| {
        while s != 0 && s & 1 == 0 {
            s >>= 1;
            e += 1;
        }
        (s, e)
    };
    norm(x) == norm(y)
}

/// The analytic bound of L-Mul's relative error for normal results: with d = 2^-l,
/// 8/(3-d)^2 - 1 <= L/P - 1 <= d (the derivation is in docs/lmul.md).
fn bound(f: &Format) -> (f64, f64) {
    let d = 2f64.powi(-(offset_bits(f.m) as i32));
    (8.0 / ((3.0 - d) * (3.0 - d)) - 1.0, d)
}

fn check_properties(f: &Format, a: u64, b: u64, ovf: Overflow, stats: &mut (f64, f64)) {
    let y = lmul(f, a, b, ovf);
    assert_eq!(y, lmul(f, b, a, ovf), "{f} commutativity {a:X} {b:X}");
    let normal_in = f.classify(a) == Class::Normal && f.classify(b) == Class::Normal;
    // Under the ieee policy a format without Inf overflows to NaN, like the exact multiply.
    let overflow_nan = normal_in
        && ovf == Overflow::Ieee
        && f.kind == pelab_sim::format::Kind::FiniteNan
        && formula_value(f, a, b).abs() > f.to_f64(f.max_finite());
    let na = a ^ f.sign_bit();
    let yn = lmul(f, na, b, ovf);
    if f.classify(y) == Class::Nan {
        assert!(
            is_nan_source(f, a, b) || overflow_nan,
            "{f} NaN from {a:X} x {b:X}"
        );
        assert_eq!(Some(y), f.canonical_nan());
        assert_eq!(yn, y);
    } else {
        assert!(
            !is_nan_source(f, a, b) || !f.has_nan(),
            "{f} {a:X} x {b:X} should be NaN"
        );
        assert_eq!(yn, y ^ f.sign_bit(), "{f} sign symmetry {a:X} {b:X}");
    }
    if normal_in && f.classify(y) == Class::Normal {
        let v = formula_value(f, a, b);
        let max = f.to_f64(f.max_finite());
        if v.abs() <= max {
            let (_, sy, ey) = f.decompose(y).unwrap();
            assert!(
                same_value((sy as u128, ey), formula_exact(f, a, b)),
                "{f} formula {a:X} x {b:X}: {v:e}"
            );
        } else {
            assert_eq!(
                y & f.mag_mask(),
                f.max_finite(),
                "{f} overflow saturates {a:X} {b:X}"
            );
            return;
        }
        // Relative error from the significands alone (exponents cancel; no f64 range limits).
        let (_, sa, ea) = f.decompose(a).unwrap();
        let (_, sb, eb) = f.decompose(b).unwrap();
        let (_, sy, ey) = f.decompose(y).unwrap();
        let rel = sy as f64 * 2f64.powi(ey - ea - eb) / (sa as f64 * sb as f64) - 1.0;
        let (lo, hi) = bound(f);
        assert!(
            rel >= lo - 1e-12 && rel <= hi + 1e-12,
            "{f} {a:X} x {b:X}: rel {rel} outside [{lo}, {hi}]"
        );
        stats.0 = stats.0.min(rel);
        stats.1 = stats.1.max(rel);
    }
}

#[test]
fn exhaustive_properties_e4m3_e5m2_and_mx() {
    for f in [
        Format::E4M3,
        Format::E5M2,
        Format::E2M1,
        Format::E3M2,
        Format::E2M3,
        Format::parse("e3m4").unwrap(),
    ] {
        let n = 1u64 << f.width();
        for ovf in POLICIES {
            if f.kind == pelab_sim::format::Kind::Finite && ovf == Overflow::Ieee {
                continue;
            }
            let mut stats = (0.0, 0.0);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for x in 0..n {
                for z in 0..n {
                    check_properties(&f, x, z, ovf, &mut stats);
                    a.push(x as u8);
                    b.push(z as u8);
                }
            }
            // The bound's upper end is reached exactly at x = y = 0 (1 x 1).
            assert_eq!(stats.1, bound(&f).1, "{f}");
            let mut out = vec![0u8; a.len()];
            lmul_slice(&f, ovf, &a, &b, &mut out);
            for i in 0..a.len() {
                assert_eq!(
                    out[i] as u64,
                    lmul(&f, a[i] as u64, b[i] as u64, ovf),
                    "{f} slice"
                );
            }
        }
    }
}

#[test]
fn random_and_special_pairs_wide_formats() {
    let mut r = rng(7);
    for f in [
        Format::BF16,
        Format::FP16,
        Format::FP32,
        Format::parse("e8m3").unwrap(),
        Format::parse("e11m52").unwrap(),
    ] {
        let sp = special_codes(&f);
        for ovf in POLICIES {
            let mut stats = (0.0, 0.0);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for &x in &sp {
                for &z in &sp {
                    check_properties(&f, x, z, ovf, &mut stats);
                    a.push(x);
                    b.push(z);
                }
            }
            for _ in 0..300_000 {
                let (x, z) = random_pair(&f, &mut r);
                check_properties(&f, x, z, ovf, &mut stats);
                a.push(x);
                b.push(z);
            }
            let mut out = vec![0u64; a.len()];
            lmul_slice(&f, ovf, &a, &b, &mut out);
            for i in 0..a.len() {
                assert_eq!(
                    out[i],
                    lmul(&f, a[i], b[i], ovf),
                    "{f} slice {:X} {:X}",
                    a[i],
                    b[i]
                );
            }
            let w: Vec<u32> = a.iter().map(|&c| c as u32).collect();
            if f.width() <= 32 {
                let z: Vec<u32> = b.iter().map(|&c| c as u32).collect();
                let mut o32 = vec![0u32; w.len()];
                lmul_slice(&f, ovf, &w, &z, &mut o32);
                assert!(o32.iter().zip(&out).all(|(p, q)| *p as u64 == *q));
            }
        }
    }
}

#[test]
fn relative_error_bound_every_mantissa_pair() {
    // The relative error depends only on the two mantissas: enumerate every pair for
    // M = 1..=10 (2^20 pairs at M = 10) at a fixed mid-range exponent.
    for m in 1..=10u32 {
        let f = Format::parse(&format!("e8m{m}")).unwrap();
        let (lo, hi) = bound(&f);
        let one = (f.bias as u64) << f.m;
        let (mut min, mut max) = (f64::MAX, f64::MIN);
        for x in 0..1u64 << m {
            for z in 0..1u64 << m {
                let (a, b) = (one | x, one | z);
                let rel = f.to_f64(lmul(&f, a, b, Overflow::Saturate))
                    / (f.to_f64(a) * f.to_f64(b))
                    - 1.0;
                min = min.min(rel);
                max = max.max(rel);
            }
        }
        assert!(
            min >= lo - 1e-12 && max <= hi + 1e-12,
            "M={m}: [{min}, {max}] outside [{lo}, {hi}]"
        );
        assert_eq!(max, hi, "M={m}: the upper bound is attained at 1 x 1");
        // The lower bound is approached on the grid as M grows.
        if m >= 6 {
            assert!(
                min - lo < 2f64.powi(-(m as i32)),
                "M={m}: min {min} far from bound {lo}"
            );
        }
    }
}
