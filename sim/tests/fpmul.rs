//! `fpmul`, rounding and `fp16mac` against rustc_apfloat (LLVM's APFloat in Rust), and the
//! formats without Inf/NaN against a brute-force nearest-value search.

mod common;

use common::{random_pair, rng, special_codes};
use pelab_sim::format::{Class, Format, Kind, Overflow, Rounding};
use pelab_sim::fp16mac::fp16mac;
use pelab_sim::fpmul::{fpmul, fpmul_slice};
use rand::Rng;
use rustc_apfloat::ieee::{
    BFloat, Double, Float8E4M3FN, Float8E5M2, Half, IeeeFloat, Semantics, Single,
};
use rustc_apfloat::{Float, FloatConvert, Round, Status};

struct E8M3S;
impl Semantics for E8M3S {
    const BITS: usize = 12;
    const EXP_BITS: usize = 8;
}
struct E6M9S;
impl Semantics for E6M9S {
    const BITS: usize = 16;
    const EXP_BITS: usize = 6;
}
struct E3M4S;
impl Semantics for E3M4S {
    const BITS: usize = 8;
    const EXP_BITS: usize = 3;
}

fn apf_round(mode: Rounding) -> Round {
    match mode {
        Rounding::NearestEven => Round::NearestTiesToEven,
        Rounding::NearestAway => Round::NearestTiesToAway,
        Rounding::TowardZero => Round::TowardZero,
        Rounding::Up => Round::TowardPositive,
        Rounding::Down => Round::TowardNegative,
    }
}

const MODES: [Rounding; 5] = [
    Rounding::NearestEven,
    Rounding::NearestAway,
    Rounding::TowardZero,
    Rounding::Up,
    Rounding::Down,
];

/// The oracle's product under a policy: `saturate` replaces an overflowed result (the
/// oracle's OVERFLOW flag) by the signed largest finite value.
fn oracle_mul<F: Float>(f: &Format, a: u64, b: u64, mode: Rounding, ovf: Overflow) -> Option<u64> {
    let r = F::from_bits(a as u128).mul_r(F::from_bits(b as u128), apf_round(mode));
    if let Some(w) = fn_directed_overflow(f, f.to_f64(a) * f.to_f64(b), mode, ovf) {
        return w;
    }
    if r.value.is_nan() {
        if ovf == Overflow::Saturate && r.status.contains(Status::OVERFLOW) {
            return Some(((a ^ b) & f.sign_bit()) | f.max_finite());
        }
        return None; // NaN: any NaN code is accepted from the oracle, ours must be canonical
    }
    if ovf == Overflow::Saturate && r.status.contains(Status::OVERFLOW) {
        return Some(((a ^ b) & f.sign_bit()) | f.max_finite());
    }
    Some(r.value.to_bits() as u64)
}

/// E4M3FN-like formats under a directed rounding mode, for an exact value beyond the largest
/// finite one: rustc_apfloat 0.2.3 (LLVM 462a31f5a5ab) mishandles these (it gives NaN or the
/// largest value with the sign rules mirrored), so the oracle there is IEEE 754 §7.4 itself:
/// a mode that rounds toward zero for that sign gives the largest finite value, any other mode
/// overflows (NaN, or the largest value under `saturate`). `None` = not such a case.
fn fn_directed_overflow(
    f: &Format,
    exact: f64,
    mode: Rounding,
    ovf: Overflow,
) -> Option<Option<u64>> {
    let directed = matches!(mode, Rounding::TowardZero | Rounding::Up | Rounding::Down);
    if f.kind != Kind::FiniteNan
        || !directed
        || exact.is_nan()
        || exact.abs() <= f.to_f64(f.max_finite())
    {
        return None;
    }
    let neg = exact < 0.0;
    let to_max = match mode {
        Rounding::Up => neg,
        Rounding::Down => !neg,
        _ => true,
    };
    Some(if to_max || ovf == Overflow::Saturate {
        Some(if neg { f.sign_bit() } else { 0 } | f.max_finite())
    } else {
        None
    })
}

fn check_pair<F: Float>(f: &Format, a: u64, b: u64, mode: Rounding, ovf: Overflow) {
    let got = fpmul(f, a, b, mode, ovf);
    match oracle_mul::<F>(f, a, b, mode, ovf) {
        None => assert_eq!(
            got,
            f.canonical_nan().unwrap(),
            "{f} {a:X}*{b:X} {mode:?} {ovf:?}: want NaN"
        ),
        Some(want) => assert_eq!(got, want, "{f} {a:X}*{b:X} {mode:?} {ovf:?}"),
    }
}

fn exhaustive<F: Float>(f: Format) {
    let n = 1u64 << f.width();
    for ovf in [Overflow::Ieee, Overflow::Saturate] {
        for mode in MODES {
            for a in 0..n {
                for b in 0..n {
                    check_pair::<F>(&f, a, b, mode, ovf);
                }
            }
        }
        // The slice kernel agrees with the scalar model on every pair.
        let a: Vec<u64> = (0..n * n).map(|i| i / n).collect();
        let b: Vec<u64> = (0..n * n).map(|i| i % n).collect();
        slice_agrees(&f, ovf, &a, &b);
    }
}

/// Asserts that the slice kernel gives the scalar model's product (round to nearest even) of
/// every pair `a[i]`, `b[i]`.
fn slice_agrees(f: &Format, ovf: Overflow, a: &[u64], b: &[u64]) {
    let mut out = vec![0u64; a.len()];
    fpmul_slice(f, ovf, a, b, &mut out);
    for i in 0..a.len() {
        assert_eq!(
            out[i],
            fpmul(f, a[i], b[i], Rounding::NearestEven, ovf),
            "slice {f} {:X}*{:X}",
            a[i],
            b[i]
        );
    }
}

#[test]
fn e4m3_all_pairs_all_modes_both_policies() {
    exhaustive::<Float8E4M3FN>(Format::E4M3);
}

#[test]
fn e5m2_all_pairs_all_modes_both_policies() {
    exhaustive::<Float8E5M2>(Format::E5M2);
}

#[test]
fn e3m4_custom_all_pairs() {
    exhaustive::<IeeeFloat<E3M4S>>(Format::parse("e3m4").unwrap());
}

fn random_and_specials<F: Float>(f: Format, n: usize, seed: u64) {
    let sp = special_codes(&f);
    for ovf in [Overflow::Ieee, Overflow::Saturate] {
        for &a in &sp {
            for &b in &sp {
                for mode in MODES {
                    check_pair::<F>(&f, a, b, mode, ovf);
                }
            }
        }
        let mut r = rng(seed);
        let mut a = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        for i in 0..n {
            let (x, y) = random_pair(&f, &mut r);
            check_pair::<F>(&f, x, y, MODES[i % 5], ovf);
            check_pair::<F>(&f, x, y, Rounding::NearestEven, ovf);
            a.push(x);
            b.push(y);
        }
        slice_agrees(&f, ovf, &a, &b);
    }
}

#[test]
fn bf16_random_and_specials() {
    random_and_specials::<BFloat>(Format::BF16, 1_000_000, 1);
}

#[test]
fn fp16_random_and_specials() {
    random_and_specials::<Half>(Format::FP16, 1_000_000, 2);
}

#[test]
fn fp32_random_and_specials() {
    random_and_specials::<Single>(Format::FP32, 1_000_000, 3);
}

#[test]
fn custom_formats_random_and_specials() {
    random_and_specials::<IeeeFloat<E8M3S>>(Format::parse("e8m3").unwrap(), 200_000, 4);
    random_and_specials::<IeeeFloat<E6M9S>>(Format::parse("e6m9").unwrap(), 200_000, 5);
    random_and_specials::<Double>(Format::parse("e11m52").unwrap(), 200_000, 6);
}

/// Nearest value of a finite-only format by search over every code; ties to the even code;
/// beyond the largest value: the largest value (saturation).
fn brute_nearest(f: &Format, x: f64) -> u64 {
    let mut best = 0u64;
    let mut best_d = f64::INFINITY;
    for c in 0..=f.mask() {
        let d = (f.to_f64(c) - x).abs();
        let better = d < best_d || (d == best_d && c & 1 == 0 && best & 1 == 1);
        if better
            && !(f.to_f64(c) == 0.0
                && (f.sign(c) != (x < 0.0 || (x == 0.0 && x.is_sign_negative()))))
        {
            best = c;
            best_d = d;
        }
    }
    best
}

#[test]
fn mx_formats_all_pairs_against_brute_force() {
    for f in [Format::E2M1, Format::E3M2, Format::E2M3] {
        let n = 1u64 << f.width();
        for a in 0..n {
            for b in 0..n {
                let exact = f.to_f64(a) * f.to_f64(b);
                let mut want = brute_nearest(&f, exact);
                if exact == 0.0 {
                    want = (a ^ b) & f.sign_bit();
                }
                let got = fpmul(&f, a, b, Rounding::NearestEven, Overflow::Saturate);
                assert_eq!(got, want, "{f} {a:X}*{b:X} = {exact}");
            }
        }
    }
}

fn conversions<F: Float>(f: Format, seed: u64)
where
    Double: FloatConvert<F>,
{
    let mut r = rng(seed);
    let span = (1i64 << (f.e - 1)) + f.m as i64 + 4;
    for i in 0..300_000 {
        let e = (1023 + r.gen_range(-span..=span)).clamp(1, 2046) as u64;
        let bits = (r.gen::<u64>() & 0x800F_FFFF_FFFF_FFFF) | (e << 52);
        let bits = if i % 7 == 0 {
            bits & !((1u64 << r.gen_range(0..52)) - 1)
        } else {
            bits
        };
        let x = f64::from_bits(bits);
        for mode in MODES {
            for ovf in [Overflow::Ieee, Overflow::Saturate] {
                let mut loses = false;
                let o = Double::from_bits(bits as u128).convert_r(apf_round(mode), &mut loses);
                let want = if ovf == Overflow::Saturate && o.status.contains(Status::OVERFLOW) {
                    (if x < 0.0 { f.sign_bit() } else { 0 }) | f.max_finite()
                } else {
                    o.value.to_bits() as u64
                };
                let got = f.from_f64(x, mode, ovf).unwrap();
                if let Some(w) = fn_directed_overflow(&f, x, mode, ovf) {
                    match w {
                        Some(w) => assert_eq!(got, w, "{f} {x:e} {mode:?} {ovf:?}"),
                        None => assert_eq!(Some(got), f.canonical_nan(), "{f} {x:e} {mode:?}"),
                    }
                } else if o.value.is_nan()
                    && !(ovf == Overflow::Saturate && o.status.contains(Status::OVERFLOW))
                {
                    assert_eq!(f.classify(got), Class::Nan, "{f} {x:e} {mode:?}");
                } else {
                    assert_eq!(got, want, "{f} {x:e} {mode:?} {ovf:?}");
                }
            }
        }
    }
}

#[test]
fn f64_conversion_all_modes() {
    conversions::<Float8E4M3FN>(Format::E4M3, 10);
    conversions::<Float8E5M2>(Format::E5M2, 11);
    conversions::<BFloat>(Format::BF16, 12);
    conversions::<Half>(Format::FP16, 13);
    conversions::<Single>(Format::FP32, 14);
    conversions::<IeeeFloat<E8M3S>>(Format::parse("e8m3").unwrap(), 15);
}

fn oracle_mac(acc: u32, a: u16, b: u16) -> Option<u32> {
    let mut loses = false;
    let ha = Half::from_bits(a as u128);
    let hb = Half::from_bits(b as u128);
    let sa: Single = ha.convert(&mut loses).value;
    let sb: Single = hb.convert(&mut loses).value;
    let p = sa.mul_r(sb, Round::NearestTiesToEven);
    assert!(
        !p.status.contains(Status::INEXACT),
        "an FP16 product is exact in FP32"
    );
    let s = Single::from_bits(acc as u128)
        .add_r(p.value, Round::NearestTiesToEven)
        .value;
    (!s.is_nan()).then(|| s.to_bits() as u32)
}

#[test]
fn fp16mac_against_apfloat() {
    let h = Format::FP16;
    let f = Format::FP32;
    let mut r = rng(20);
    let hs: Vec<u16> = special_codes(&h).into_iter().map(|c| c as u16).collect();
    let fs: Vec<u32> = special_codes(&f).into_iter().map(|c| c as u32).collect();
    let check = |acc: u32, a: u16, b: u16| {
        let got = fp16mac(acc, a, b);
        match oracle_mac(acc, a, b) {
            None => assert_eq!(got, 0x7FC0_0000, "{acc:08X} + {a:04X}*{b:04X}: want NaN"),
            Some(w) => assert_eq!(got, w, "{acc:08X} + {a:04X}*{b:04X}"),
        }
    };
    for &acc in &fs {
        for &a in &hs {
            for &b in &hs {
                check(acc, a, b);
            }
        }
    }
    for _ in 0..1_000_000 {
        let (a, b) = random_pair(&h, &mut r);
        // Accumulators near the product's magnitude (cancellation, ties) and anywhere.
        let p = h.to_f64(a) * h.to_f64(b);
        let acc = match r.gen_range(0..4) {
            0 => r.gen::<u32>(),
            1 if p.is_finite() => f
                .from_f64(
                    -p * (1.0 + r.gen_range(-1e-3..1e-3)),
                    Rounding::NearestEven,
                    Overflow::Ieee,
                )
                .unwrap() as u32,
            2 if p.is_finite() => {
                f.from_f64(
                    p * 2f64.powi(r.gen_range(-30..30)),
                    Rounding::NearestEven,
                    Overflow::Ieee,
                )
                .unwrap() as u32
                    ^ (r.gen::<u32>() & 0x8000_00FF)
            }
            _ => (r.gen::<u32>() & 0x807F_FFFF) | (r.gen_range(60u32..200) << 23),
        };
        check(acc, a as u16, b as u16);
    }
}

#[test]
fn slice_kernel_equals_scalar_on_every_e8m3_pair() {
    // e8m3 takes the f32 fast path with fp32's exponent range: every pair, both policies.
    let f = Format::parse("e8m3").unwrap();
    let n = 1u64 << f.width();
    let a: Vec<u16> = (0..n * n).map(|i| (i / n) as u16).collect();
    let b: Vec<u16> = (0..n * n).map(|i| (i % n) as u16).collect();
    let mut out = vec![0u16; a.len()];
    for ovf in [Overflow::Ieee, Overflow::Saturate] {
        fpmul_slice(&f, ovf, &a, &b, &mut out);
        for i in 0..a.len() {
            let want = fpmul(&f, a[i] as u64, b[i] as u64, Rounding::NearestEven, ovf);
            assert_eq!(out[i] as u64, want, "{:X}*{:X}", a[i], b[i]);
        }
    }
}

#[test]
fn bf16_slice_kernel_every_pair_with_a_subnormal_range_product() {
    // Every bf16 pair whose exact product lies in [2^-160, 2^-120] (CPU-rounded products of
    // the f32 path) against the scalar model, which the other tests hold to rustc_apfloat.
    let f = Format::BF16;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for x in 0..0x8000u64 {
        for ez in 0u64..255 {
            let ex = (x >> 7) as i64;
            let e = ex.max(1) + (ez as i64).max(1) - 254;
            if !(-160..=-120).contains(&e) {
                continue;
            }
            for mz in (0..128u64).step_by(3) {
                a.push(x as u16);
                b.push(((ez << 7) | mz | ((x & 1) << 15)) as u16);
            }
        }
    }
    let mut out = vec![0u16; a.len()];
    fpmul_slice(&f, Overflow::Ieee, &a, &b, &mut out);
    for i in 0..a.len() {
        let want = fpmul(
            &f,
            a[i] as u64,
            b[i] as u64,
            Rounding::NearestEven,
            Overflow::Ieee,
        );
        assert_eq!(out[i] as u64, want, "{:X}*{:X}", a[i], b[i]);
    }
    assert!(a.len() > 1_000_000, "{} pairs", a.len());
}

#[test]
fn fp16mac_streaming_control() {
    use pelab_sim::fp16mac::{Fp16Mac, MacInputs};
    let mut m = Fp16Mac::default();
    let one = 0x3C00; // 1.0
    let two = 0x4000; // 2.0
    let step = |m: &mut Fp16Mac, reset, clear, en, a, b| {
        m.clock(&MacInputs {
            reset,
            clear,
            en,
            a,
            b,
        })
    };
    assert_eq!(step(&mut m, false, false, true, two, two), 0x4080_0000); // 4
    assert_eq!(step(&mut m, false, false, false, two, two), 0x4080_0000); // hold
    assert_eq!(step(&mut m, false, false, true, one, two), 0x40C0_0000); // 6
    assert_eq!(step(&mut m, false, true, true, one, two), 0); // clear beats en
    assert_eq!(step(&mut m, false, false, true, one, one), 0x3F80_0000); // 1
    assert_eq!(step(&mut m, true, false, true, one, one), 0); // reset
}
