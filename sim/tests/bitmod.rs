//! Tests of the BitMoD reference model against independent computations: code tables built
//! from the written rules, FP16 decoded by the `half` crate, quantizer decisions made with
//! exact integer arithmetic, exact dot products in integers.

use half::f16;
use pelab_sim::bitmod::datatype::{self as dt, Datatype};
use pelab_sim::bitmod::{
    candidate_set, compute_cycles, decompose, exact_group_sum, integer_scales, quantize_channel,
    quantize_group, quantize_with, reconstruct, BitModPe, PeConfig, Term, ALL_DATATYPES, ALL_SETS,
};
use pelab_sim::model::PeModel;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------- independent helpers

/// Code table from the rule: sign-magnitude, magnitude index = low bits, the "-0" code holds
/// `extra` (0 when the type has none).
fn spec_table(mags: &[i32], extra: i32) -> Vec<i32> {
    let mut t: Vec<i32> = mags.to_vec();
    t.push(extra);
    t.extend(mags[1..].iter().map(|m| -m));
    t
}

fn spec_values(name: &str) -> Vec<i32> {
    let fp3 = [0, 1, 2, 4];
    let fp4 = [0, 1, 2, 3, 4, 6, 8, 12];
    match name {
        "int3" => spec_table(&[0, 1, 2, 3], 0),
        "fp3" => spec_table(&fp3, 0),
        "fp3-er+" => spec_table(&fp3, 3),
        "fp3-er-" => spec_table(&fp3, -3),
        "fp3-ea+" => spec_table(&fp3, 6),
        "fp3-ea-" => spec_table(&fp3, -6),
        "int4" => spec_table(&[0, 1, 2, 3, 4, 5, 6, 7], 0),
        "flint4" => spec_table(&[0, 1, 2, 3, 4, 6, 8, 16], 0),
        "fp4" => spec_table(&fp4, 0),
        "fp4-er+" => spec_table(&fp4, 10),
        "fp4-er-" => spec_table(&fp4, -10),
        "fp4-ea+" => spec_table(&fp4, 16),
        "fp4-ea-" => spec_table(&fp4, -16),
        _ => panic!("no spec for {name}"),
    }
}

fn f16v(x: u16) -> f64 {
    f16::from_bits(x).to_f64()
}

/// Exact `w · 2^64` for test weights (|w| >= 2^-40 or 0, |w| < 2^40).
fn fixed(w: f32) -> i128 {
    let v = w as f64 * 2f64.powi(64);
    assert_eq!(v.fract(), 0.0);
    v as i128
}

/// Reference quantization of one weight: brute force over the distinct values, exact distance
/// `|w·q - v·a|` (scaled by 2^64), ties to the lower value.
fn ref_value(w: f32, absmax: f32, values: &[i32]) -> i32 {
    let q = values.iter().map(|v| v.abs()).max().unwrap() as i128;
    let (wf, af) = (fixed(w), fixed(absmax));
    let mut best: Option<(i128, i32)> = None;
    for &v in values {
        let d = (wf * q - v as i128 * af).abs();
        best = match best {
            None => Some((d, v)),
            Some((bd, bv)) if d < bd || (d == bd && v < bv) => Some((d, v)),
            b => b,
        };
    }
    best.unwrap().1
}

/// Reference SSE of a type on a group, by the written rule.
fn ref_sse(ws: &[f32], values: &[i32]) -> (f64, Vec<i32>) {
    let absmax = ws.iter().fold(0f32, |m, w| m.max(w.abs()));
    if absmax == 0.0 {
        return (0.0, vec![0; ws.len()]);
    }
    let q = values.iter().map(|v| v.abs()).max().unwrap();
    let scale = absmax as f64 / q as f64;
    let vs: Vec<i32> = ws.iter().map(|&w| ref_value(w, absmax, values)).collect();
    let sse = ws
        .iter()
        .zip(&vs)
        .map(|(&w, &v)| {
            let d = w as f64 - v as f64 * scale;
            d * d
        })
        .sum();
    (sse, vs)
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A test weight: gaussian times 2^U(-8, 4), rounded to f32, tiny values flushed to 0.
fn rand_weight(rng: &mut ChaCha8Rng, scale: f64) -> f32 {
    let w = (gauss(rng) * scale) as f32;
    if w.abs() < 2f32.powi(-40) {
        0.0
    } else {
        w
    }
}

fn pe_types() -> Vec<&'static Datatype> {
    ALL_DATATYPES
        .iter()
        .copied()
        .filter(|d| d.name != "int4")
        .collect()
}

/// Highest set bit of a positive integer.
fn top_bit(v: u32) -> u32 {
    let mut k = 0;
    while v >> (k + 1) != 0 {
        k += 1;
    }
    k
}

/// The input-only group bound as written in docs/bitmod.md, computed independently
/// (default widths: G = 3, W = 16).
fn doc_group_bound(values: &[i32], acts: &[u16], int_scale: u32) -> f64 {
    let n = values.len();
    let c = 2.0 * n.div_ceil(4) as f64;
    let k = 3.0 * c + 2.0;
    let mut emax = 1i32;
    let mut t = 0.0;
    for (&v, &x) in values.iter().zip(acts) {
        t += (v as f64 * f16v(x)).abs();
        if v != 0 {
            let field = ((x >> 10) & 31) as i32;
            emax = emax.max(field.max(1) + top_bit(v.unsigned_abs()) as i32);
        }
    }
    let u = 2f64.powi(emax - 28).max(t / (2f64.powi(14) - k));
    int_scale as f64 * k * u
}

// ---------------------------------------------------------------- datatypes

#[test]
fn datatype_tables_follow_the_written_rules() {
    for d in ALL_DATATYPES {
        assert_eq!(d.values, spec_values(d.name).as_slice(), "{}", d.name);
        assert_eq!(d.values.len(), 1 << d.bits, "{}", d.name);
        assert_eq!(dt::datatype(d.name), Some(d));
    }
    let sel: Vec<&str> = (0..8).map(|s| dt::by_pe_select(s).unwrap().name).collect();
    assert_eq!(
        sel,
        ["fp3-er+", "fp3-er-", "fp3-ea+", "fp3-ea-", "fp4-er+", "fp4-er-", "fp4-ea+", "fp4-ea-"]
    );
    assert_eq!(dt::FP4_EA_NEG.extra_value(), Some(-16));
    assert_eq!(dt::FP3.extra_value(), None);
    assert_eq!(dt::FP3_EA_POS.max_abs(), 6);
    assert_eq!(dt::BITMOD4.selector_bits(), 2);
    assert_eq!(dt::BITMOD3_ER.selector_bits(), 1);
    assert_eq!(dt::ONLY_FP4.selector_bits(), 0);
    for name in [
        "bitmod3",
        "bitmod4",
        "bitmod3-er",
        "bitmod3-ea",
        "bitmod4-er",
        "bitmod4-ea",
        "int3",
        "int4",
        "fp3",
        "fp4",
        "flint4",
    ] {
        assert!(candidate_set(name).is_some(), "{name}");
    }
    assert_eq!(ALL_SETS.len(), 13);
}

// ---------------------------------------------------------------- quantizer

#[test]
fn dequantized_weights_lie_on_the_grid() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..300 {
        let s = 2f64.powi(rng.gen_range(-8..4));
        let n = rng.gen_range(1..=128);
        let ws: Vec<f32> = (0..n).map(|_| rand_weight(&mut rng, s)).collect();
        let absmax = ws.iter().fold(0f32, |m, w| m.max(w.abs()));
        for d in ALL_DATATYPES {
            let q = quantize_with(&ws, d).unwrap();
            let vals = spec_values(d.name);
            let qmax = vals.iter().map(|v| v.abs()).max().unwrap();
            assert_eq!(q.scale, absmax as f64 / qmax as f64);
            for (i, (&c, deq)) in q.codes.iter().zip(q.dequantized()).enumerate() {
                let v = vals[c as usize];
                assert_eq!(deq, v as f64 * q.scale, "{} weight {i}", d.name);
                assert!((c as usize) < vals.len());
                if d.extra_value().is_none() {
                    assert_ne!(c, d.spare_code(), "{} emitted the spare code", d.name);
                }
                assert_eq!(v, ref_value(ws[i], absmax, &vals), "{} weight {i}", d.name);
            }
        }
    }
}

#[test]
fn chosen_type_has_least_error_earlier_wins_ties() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let sets = [
        &dt::BITMOD3,
        &dt::BITMOD4,
        &dt::BITMOD3_ER,
        &dt::BITMOD3_EA,
        &dt::BITMOD4_ER,
        &dt::BITMOD4_EA,
        &dt::ANT3,
        &dt::ANT4,
    ];
    let mut ties = 0;
    let mut non_first = 0;
    for it in 0..1600 {
        let set = sets[rng.gen_range(0..sets.len())];
        let n: usize = if it % 3 == 0 {
            rng.gen_range(1..=128)
        } else {
            128
        };
        let ws: Vec<f32> = if it % 4 == 3 {
            // Tie-prone: a grid shared by every variant of the set's width, scaled.
            let c = 2f32.powi(rng.gen_range(-6..3));
            let base = [0.0, 1.0, 2.0, 4.0, -1.0, -2.0, -4.0];
            (0..n)
                .map(|_| base[rng.gen_range(0..base.len())] * c)
                .collect()
        } else {
            let s = 2f64.powi(rng.gen_range(-8..4));
            (0..n).map(|_| rand_weight(&mut rng, s)).collect()
        };
        let got = quantize_group(&ws, set).unwrap();
        let errs: Vec<(f64, Vec<i32>)> = set
            .types
            .iter()
            .map(|t| ref_sse(&ws, &spec_values(t.name)))
            .collect();
        let min = errs.iter().map(|e| e.0).fold(f64::INFINITY, f64::min);
        let want = errs.iter().position(|e| e.0 == min).unwrap();
        if errs.iter().filter(|e| e.0 == min).count() > 1 {
            ties += 1;
        }
        if want > 0 {
            non_first += 1;
        }
        assert_eq!(got.type_index, want, "iteration {it} set {}", set.name);
        assert_eq!(got.sse, min);
        let vals = spec_values(set.types[want].name);
        let gv: Vec<i32> = got.codes.iter().map(|&c| vals[c as usize]).collect();
        assert_eq!(gv, errs[want].1, "iteration {it}");
    }
    assert!(ties > 100, "only {ties} tied groups");
    assert!(
        non_first > 300,
        "only {non_first} groups chose a later candidate"
    );
}

#[test]
fn midpoints_go_to_the_lower_value() {
    // fp3-er+: grid -4 -2 -1 0 1 2 3 4, q = 4; absmax 4 makes w/scale = w.
    let ws = [4.0f32, 1.5, -1.5, 3.5, -3.0, 0.5, -0.5, 2.5, -2.5, 1.25];
    let want = [4, 1, -2, 3, -4, 0, -1, 2, -2, 1];
    for c in [1.0f32, 0.375, 1024.0, -0.0078125] {
        let scaled: Vec<f32> = ws.iter().map(|w| w * c).collect();
        let q = quantize_with(&scaled, &dt::FP3_ER_POS).unwrap();
        let got: Vec<i32> = q
            .codes
            .iter()
            .map(|&k| dt::FP3_ER_POS.values[k as usize])
            .collect();
        let want: Vec<i32> = want.iter().map(|&v| if c < 0.0 { -v } else { v }).collect();
        if c < 0.0 {
            // Negated weights: a midpoint still goes to the lower (more negative) value.
            let neg = [-4, -2, 1, -4, 3, -1, 0, -2, 2, -1];
            assert_eq!(got, neg, "scale {c}");
        } else {
            assert_eq!(got, want, "scale {c}");
        }
    }
    // fp4-ea-: grid -16 -12 -8 -6 -4 -3 -2 -1 0 1 2 3 4 6 8 12, q = 16.
    let ws = [-16.0f32, -14.0, 10.0, 7.0, 5.0, 3.5, -3.5, -10.0, 14.0, 0.5];
    let want = [-16, -16, 8, 6, 4, 3, -4, -12, 12, 0];
    let q = quantize_with(&ws, &dt::FP4_EA_NEG).unwrap();
    let got: Vec<i32> = q
        .codes
        .iter()
        .map(|&k| dt::FP4_EA_NEG.values[k as usize])
        .collect();
    assert_eq!(got, want);
}

#[test]
fn all_zero_groups_and_errors() {
    let q = quantize_group(&[0.0, -0.0, 0.0], &dt::BITMOD4).unwrap();
    assert_eq!((q.type_index, q.scale, q.sse), (0, 0.0, 0.0));
    assert_eq!(q.codes, vec![0, 0, 0]);
    let ch = quantize_channel(&[0.0; 300], 128, &dt::BITMOD4, 8).unwrap();
    assert_eq!(ch.channel_scale, 0.0);
    assert_eq!(ch.int_scales, vec![0, 0, 0]);
    let out = PeConfig::default().run_dot(&ch, &[0x3C00; 300]).unwrap();
    assert_eq!(out.value, 0.0);
    assert!(quantize_group(&[], &dt::BITMOD4).is_err());
    assert!(quantize_group(&[1.0, f32::NAN], &dt::BITMOD4).is_err());
    assert!(quantize_group(&[f32::INFINITY], &dt::BITMOD4).is_err());
}

#[test]
fn integer_scales_follow_the_rule() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for it in 0..500 {
        let bits = [8, 8, 4, 6, 12][it % 5];
        let top = (1u32 << bits) - 1;
        let n = rng.gen_range(1..40);
        let scales: Vec<f64> = (0..n)
            .map(|_| {
                if rng.gen_bool(0.1) {
                    0.0
                } else {
                    rng.gen_range(0.0..1.0f64).powi(3) * 2f64.powi(rng.gen_range(-20..5))
                }
            })
            .collect();
        let s = integer_scales(&scales, bits).unwrap();
        let max = scales.iter().cloned().fold(0.0, f64::max);
        if max == 0.0 {
            assert_eq!(s.channel_scale, 0.0);
            assert!(s.int_scales.iter().all(|&i| i == 0));
            continue;
        }
        let cs = (max / top as f64) as f32;
        assert_eq!(s.channel_scale, cs);
        for (g, (&sc, &i)) in scales.iter().zip(&s.int_scales).enumerate() {
            if sc == 0.0 {
                assert_eq!(i, 0);
                continue;
            }
            let r = sc / cs as f64;
            let want = (r.round() as u32).clamp(1, top);
            assert_eq!(i, want, "group {g}");
            // Away from the clamps the integer is the nearest one.
            if (1.0..top as f64).contains(&r) {
                assert!((i as f64 - r).abs() <= 0.5);
            }
        }
        let imax = scales.iter().position(|&x| x == max).unwrap();
        assert_eq!(s.int_scales[imax], top);
    }
    assert!(integer_scales(&[1.0], 0).is_err());
    assert!(integer_scales(&[1.0], 17).is_err());
}

// ---------------------------------------------------------------- terms

#[test]
fn terms_reconstruct_every_code_of_every_supported_type() {
    for d in ALL_DATATYPES {
        for (code, &v) in spec_values(d.name).iter().enumerate() {
            let t = decompose(v);
            let three_bits = v.unsigned_abs().count_ones() > 2;
            if three_bits {
                assert_eq!(d.name, "int4");
                assert!(t.is_none(), "{} code {code}", d.name);
                continue;
            }
            let t = t.unwrap_or_else(|| panic!("{} code {code} value {v}", d.name));
            let mut sum = 0;
            for (sig, term) in t.iter().enumerate() {
                assert!(term.exp <= 3);
                assert_eq!(term.sign, v < 0, "{} code {code}", d.name);
                assert_eq!(Term::from_bits(term.bits()), *term);
                if term.present {
                    let m = 1i32 << (term.exp as usize + sig);
                    sum += if term.sign { -m } else { m };
                }
            }
            assert_eq!(sum, v, "{} code {code}", d.name);
            assert_eq!(reconstruct(&t), v);
        }
        assert_eq!(d.pe_decomposable(), d.name != "int4", "{}", d.name);
    }
    // Three set bits, and beyond 16, have no decomposition.
    assert!(decompose(7).is_none());
    assert!(decompose(-7).is_none());
    assert!(decompose(17).is_none());
    assert!(decompose(32).is_none());
}

// ---------------------------------------------------------------- PE datapath

#[derive(Clone, Copy, Debug)]
enum Dist {
    Gauss,
    WideRange,
    Outliers,
    RandomBits,
    SameExponent,
    LargePositive,
}

fn rand_act(rng: &mut ChaCha8Rng, dist: Dist, e0: u16) -> u16 {
    match dist {
        Dist::Gauss => f16::from_f64(gauss(rng)).to_bits(),
        Dist::WideRange => {
            let mag = 2f64.powf(rng.gen_range(-25.0..15.9));
            let s = if rng.gen() { -mag } else { mag };
            f16::from_f64(s).to_bits()
        }
        Dist::Outliers => {
            let x = gauss(rng) * 0.1 * if rng.gen_bool(0.02) { 1000.0 } else { 1.0 };
            f16::from_f64(x).to_bits()
        }
        Dist::RandomBits => loop {
            let x: u16 = rng.gen();
            if (x >> 10) & 31 != 31 {
                break x;
            }
        },
        Dist::SameExponent => (rng.gen::<u16>() & 0x83FF) | e0 << 10,
        Dist::LargePositive => (rng.gen::<u16>() & 0x03FF) | rng.gen_range(28u16..=30) << 10,
    }
}

#[test]
fn pe_matches_exact_math_within_the_bound() {
    let cfg = PeConfig::default();
    let types = pe_types();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let dists = [
        Dist::Gauss,
        Dist::WideRange,
        Dist::Outliers,
        Dist::RandomBits,
        Dist::SameExponent,
        Dist::LargePositive,
    ];
    let per = 2000;
    let mut max_ratio_out: f64 = 0.0;
    let mut max_ratio_in: f64 = 0.0;
    let mut max_rel_t: f64 = 0.0;
    let mut inexact = 0;
    for (di, &dist) in dists.iter().enumerate() {
        let (mut dmax_out, mut dmax_in, mut drel): (f64, f64, f64) = (0.0, 0.0, 0.0);
        for it in 0..per {
            let d = types[rng.gen_range(0..types.len())];
            let n: usize = if it % 4 == 0 {
                rng.gen_range(1..=128)
            } else {
                128
            };
            let e0 = rng.gen_range(1u16..=30);
            let acts: Vec<u16> = (0..n).map(|_| rand_act(&mut rng, dist, e0)).collect();
            let vals = spec_values(d.name);
            let codes: Vec<u8> = if matches!(dist, Dist::LargePositive) {
                // Only positive values: no cancellation, the accumulator grows the most.
                let pos: Vec<u8> = (0..vals.len() as u8)
                    .filter(|&c| vals[c as usize] > 0)
                    .collect();
                (0..n).map(|_| pos[rng.gen_range(0..pos.len())]).collect()
            } else {
                (0..n).map(|_| rng.gen_range(0..vals.len() as u8)).collect()
            };
            let int_scale = match it % 5 {
                0 => 255,
                1 => 1,
                _ => rng.gen_range(1..=255),
            };
            let out = cfg.run_group(d, &codes, &acts, int_scale).unwrap();
            let v: Vec<i32> = codes.iter().map(|&c| vals[c as usize]).collect();
            // Independent exact value: every product and partial sum is exact in f64.
            let exact: f64 = v
                .iter()
                .zip(&acts)
                .map(|(&w, &x)| w as f64 * f16v(x))
                .sum::<f64>()
                * int_scale as f64;
            let err = (out.value() - exact).abs();
            if err != 0.0 {
                inexact += 1;
            }
            let b_out = int_scale as f64
                * (3.0 * (2 * n.div_ceil(4)) as f64 + 2.0)
                * 2f64.powi(out.exponent as i32 - 28);
            let b_in = doc_group_bound(&v, &acts, int_scale);
            assert!(
                err <= b_out,
                "{dist:?} it {it}: err {err:e} > output bound {b_out:e}"
            );
            assert!(
                err <= b_in,
                "{dist:?} it {it}: err {err:e} > input bound {b_in:e}"
            );
            assert_eq!(out.error_bound(), b_out);
            let lib_in = cfg.input_error_bound(d, &codes, &acts, int_scale).unwrap();
            assert!(
                (lib_in - b_in).abs() <= 1e-12 * b_in,
                "{lib_in:e} vs {b_in:e}"
            );
            // Widths.
            assert!(out.exponent < 64);
            assert!(out.acc_mantissa >= -(1 << 15) && out.acc_mantissa < 1 << 15);
            assert!(out.mantissa >= -(1 << 23) && out.mantissa < 1 << 23);
            assert_eq!(out.mantissa, out.acc_mantissa * int_scale as i64);
            assert_eq!(
                out.to_f32() as f64,
                out.value(),
                "FP32 hand-off must be exact"
            );
            assert!(!out.special);
            let t: f64 = v
                .iter()
                .zip(&acts)
                .map(|(&w, &x)| (w as f64 * f16v(x)).abs())
                .sum();
            if b_out > 0.0 {
                dmax_out = dmax_out.max(err / b_out);
            }
            if b_in > 0.0 {
                dmax_in = dmax_in.max(err / b_in);
            }
            if t > 0.0 {
                drel = drel.max(err / (t * int_scale as f64));
            }
        }
        println!(
            "{dist:?}: max err/bound(output exp) = {dmax_out:.4}, max err/bound(inputs) = {dmax_in:.4}, max err/(int*T) = {drel:.3e}"
        );
        max_ratio_out = max_ratio_out.max(dmax_out);
        max_ratio_in = max_ratio_in.max(dmax_in);
        max_rel_t = max_rel_t.max(drel);
        let _ = di;
    }
    println!(
        "all {} groups: max err/bound = {max_ratio_out:.4} (output exponent), {max_ratio_in:.4} (inputs); max err/(int*T) = {max_rel_t:.3e}; {inexact} inexact",
        per * dists.len()
    );
    assert!(
        inexact > 1000,
        "the random groups should exercise truncation"
    );
}

#[test]
fn pe_is_bit_exact_when_no_bit_is_dropped() {
    // Same activation exponent in every lane and significands with 7 trailing zeros: lane
    // alignment (at most 3 places) and the accumulator (exponent at most e + 10) drop nothing.
    let cfg = PeConfig::default();
    let types: Vec<_> = pe_types();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for it in 0..3000 {
        let d = types[rng.gen_range(0..types.len())];
        let vals = spec_values(d.name);
        let n: usize = if it % 3 == 0 {
            rng.gen_range(1..=128)
        } else {
            128
        };
        let e = rng.gen_range(1u16..=30);
        let acts: Vec<u16> = (0..n)
            .map(|_| (rng.gen::<u16>() & 0x8000) | e << 10 | rng.gen_range(0u16..8) << 7)
            .collect();
        let codes: Vec<u8> = (0..n).map(|_| rng.gen_range(0..vals.len() as u8)).collect();
        let int_scale = rng.gen_range(1..=255u32);
        let out = cfg.run_group(d, &codes, &acts, int_scale).unwrap();
        let exact: f64 = codes
            .iter()
            .zip(&acts)
            .map(|(&c, &x)| vals[c as usize] as f64 * f16v(x))
            .sum::<f64>()
            * int_scale as f64;
        assert_eq!(out.value(), exact, "iteration {it} ({})", d.name);
    }
    // One lane, any activation: a single term is never truncated.
    for x in (0u16..0x7C00).step_by(7) {
        for (c, &v) in spec_values("fp4-ea+").iter().enumerate() {
            let out = cfg
                .run_group(&dt::FP4_EA_POS, &[c as u8], &[x | 0x8000], 1)
                .unwrap();
            assert_eq!(out.value(), -(v as f64) * f16v(x), "x {x:04X} code {c}");
        }
    }
}

#[test]
fn accumulator_exponent_stays_in_six_bits() {
    // The largest magnitudes: 16 x the largest significand at exponent field 31 (treated as an
    // ordinary exponent), all of one sign; and the largest finite FP16.
    for (cfg, limit) in [
        (PeConfig::default(), 43),
        (
            PeConfig {
                guard_bits: 8,
                acc_bits: 12,
                scale_bits: 16,
            },
            52,
        ),
    ] {
        for x in [0x7FFFu16, 0xFFFF, 0x7BFF] {
            let out = cfg
                .run_group(
                    &dt::FP4_EA_POS,
                    &[8; 128],
                    &[x; 128],
                    (1 << cfg.scale_bits) - 1,
                )
                .unwrap();
            assert!(out.exponent <= limit, "{cfg:?} {x:04X}: {}", out.exponent);
            if x == 0x7BFF {
                let exact = 128.0 * 16.0 * 65504.0 * ((1u32 << cfg.scale_bits) - 1) as f64;
                assert!((out.value() - exact).abs() <= out.error_bound());
            }
        }
    }
    assert!(PeConfig {
        guard_bits: 9,
        ..PeConfig::default()
    }
    .validate()
    .is_err());
    assert!(PeConfig {
        acc_bits: 11,
        ..PeConfig::default()
    }
    .validate()
    .is_err());
    assert!(PeConfig {
        acc_bits: 33,
        ..PeConfig::default()
    }
    .validate()
    .is_err());
    assert!(PeConfig {
        scale_bits: 0,
        ..PeConfig::default()
    }
    .validate()
    .is_err());
}

#[test]
fn special_activations_raise_the_flag() {
    let cfg = PeConfig::default();
    for x in [0x7C00u16, 0xFC00, 0x7E00, 0x7C01] {
        let out = cfg
            .run_group(&dt::FP4_ER_POS, &[1, 0, 2], &[0x3C00, x, 0x3C00], 5)
            .unwrap();
        assert!(out.special, "{x:04X}");
        assert!(cfg
            .input_error_bound(&dt::FP4_ER_POS, &[1, 0, 2], &[0x3C00, x, 0x3C00], 5)
            .is_err());
        assert!(exact_group_sum(&dt::FP4_ER_POS, &[1], &[x]).is_err());
    }
    // The flagged lane is still computed as exponent 31 with hidden bit 1 (1.0 · 2^16 here).
    let out = cfg.run_group(&dt::FP4_ER_POS, &[1], &[0x7C00], 1).unwrap();
    assert_eq!(out.value(), 65536.0);
}

#[test]
fn cycle_counts() {
    let cfg = PeConfig::default();
    let d = &dt::FP4_ER_NEG;
    for (n, c) in [(1usize, 2u32), (4, 2), (5, 4), (127, 64), (128, 64)] {
        let (out, trace) = cfg
            .run_group_traced(d, &vec![3; n], &vec![0x3C00; n], 7)
            .unwrap();
        assert_eq!(out.compute_cycles, c, "n = {n}");
        assert_eq!(compute_cycles(n), c);
        assert_eq!(out.dequant_cycles, 8);
        assert_eq!(out.latency(), c + 8);
        assert_eq!(trace.len(), c as usize);
        let last = trace.last().unwrap();
        assert_eq!(
            (last.acc_mantissa, last.acc_exp),
            (out.acc_mantissa, out.exponent)
        );
    }
    assert_eq!(cfg.dot_cycles(&[128]), 72);
    assert_eq!(cfg.dot_cycles(&[128; 32]), 32 * 64 + 8);
    // Groups shorter than the dequantizer wait for it: 4 + max(4, 8) + max(2, 8) + 8.
    assert_eq!(cfg.dot_cycles(&[8, 8, 3]), 4 + 8 + 8 + 8);
    assert_eq!(cfg.dot_cycles(&[16, 16, 3]), 8 + 8 + 8 + 8);
    assert_eq!(cfg.dot_cycles(&[]), 0);
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let row: Vec<f32> = (0..1000).map(|_| rand_weight(&mut rng, 1.0)).collect();
    let ch = quantize_channel(&row, 128, &dt::BITMOD4, 8).unwrap();
    let out = cfg.run_dot(&ch, &vec![0x3C00; 1000]).unwrap();
    // 7 full groups and one of 104 weights (26 beats, 52 cycles).
    assert_eq!(out.cycles, 7 * 64 + 52 + 8);
}

#[test]
fn dot_products_within_the_bound() {
    let cfg = PeConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut max_ratio: f64 = 0.0;
    for it in 0..300 {
        let set = [&dt::BITMOD4, &dt::BITMOD3, &dt::ONLY_FP4, &dt::ONLY_FLINT4][it % 4];
        let len = [128, 1024, 4096, 1000][it % 4];
        let wscale = 2f64.powi(rng.gen_range(-10..2));
        let row: Vec<f32> = (0..len).map(|_| rand_weight(&mut rng, wscale)).collect();
        let ch = quantize_channel(&row, 128, set, 8).unwrap();
        let dist = [Dist::Gauss, Dist::Outliers, Dist::WideRange][it % 3];
        let acts: Vec<u16> = (0..len).map(|_| rand_act(&mut rng, dist, 15)).collect();
        let out = cfg.run_dot(&ch, &acts).unwrap();
        // Independent exact value and bound.
        let cs = ch.channel_scale as f64;
        let mut exact = 0.0f64;
        let (mut sum_b, mut sum_a) = (0.0, 0.0);
        let mut at = 0;
        for (g, &s) in ch.groups.iter().zip(&ch.int_scales) {
            let vals = spec_values(g.datatype.name);
            let v: Vec<i32> = g.codes.iter().map(|&c| vals[c as usize]).collect();
            let x = &acts[at..at + v.len()];
            let sg: f64 = v.iter().zip(x).map(|(&w, &a)| w as f64 * f16v(a)).sum();
            exact += sg * s as f64;
            let b = doc_group_bound(&v, x, s);
            sum_b += b;
            sum_a += s as f64 * sg.abs() + b;
            at += v.len();
        }
        exact *= cs;
        let n = ch.groups.len() as f64;
        let u = 2f64.powi(-24);
        let bound = cs * (sum_b + (n * u / (1.0 - n * u) + 2.0 * u) * sum_a) + 2f64.powi(-149);
        let err = (out.value as f64 - exact).abs();
        assert!(err <= bound, "it {it}: err {err:e} > bound {bound:e}");
        let lib = cfg.dot_error_bound(&ch, &acts).unwrap();
        assert!((lib - bound).abs() <= 1e-9 * bound);
        let lib_exact = pelab_sim::bitmod::exact_dot(&ch, &acts).unwrap();
        assert!((lib_exact - exact).abs() <= 1e-15 * exact.abs().max(1e-30));
        max_ratio = max_ratio.max(err / bound);
        // The hardware's weights are value · int_scale · channel_scale.
        let deq = ch.dequantized();
        let direct: f64 = deq.iter().zip(&acts).map(|(&w, &a)| w * f16v(a)).sum();
        assert!((direct - exact).abs() <= 1e-12 * exact.abs().max(1e-30) + 1e-30);
    }
    println!("dot products: max err/bound = {max_ratio:.4}");
}

// ---------------------------------------------------------------- CLI evaluation

fn ops(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn eval_syntax() {
    let pe = BitModPe;
    assert_eq!(pe.id(), "bitmod");
    assert_eq!(pe.formats(), vec!["fp16".to_string()]);
    assert_eq!(pe.policies()[0], "bitmod4");
    // fp4-er+ spare code 8 = +10, times 2.0, int scale 3: 60.
    let e = pe.eval("fp16", None, &ops("er+ 03 8 4000")).unwrap();
    assert_eq!(e.value, "60");
    let get = |k: &str| e.details.iter().find(|d| d.0 == k).unwrap().1.clone();
    assert_eq!(get("type"), "fp4-er+");
    assert_eq!(get("exact"), "60");
    assert_eq!(get("error"), "0");
    assert_eq!(get("cycles"), "10");
    assert_eq!(e.hex.len(), 8);
    // The packed word decodes back to the value: {exp[5:0], mantissa[23:0]}.
    let word = u64::from_str_radix(&e.hex, 16).unwrap();
    let (ex, man) = ((word >> 24) as i32, ((word & 0xFF_FFFF) as i64) << 40 >> 40);
    assert_eq!(man as f64 * 2f64.powi(ex - 28), 60.0);
    assert_eq!(get("fp32"), format!("{:08X}", 60f32.to_bits()));
    // 3-bit: fp3-ea- spare = -6; 1.5 * -6 + 0.5 * 4 (code 3) = -7, int scale 1.
    let e = pe
        .eval("fp16", Some("bitmod3"), &ops("ea- 1 43 3E00 3800"))
        .unwrap();
    assert_eq!(e.value, "-7");
    let e = pe
        .eval("fp16", Some("bitmod3"), &ops("fp3 1 3 0x3C00"))
        .unwrap();
    assert_eq!(e.value, "4");
    let e = pe
        .eval("fp16", Some("bitmod3"), &ops("2 1 4 3C00"))
        .unwrap();
    assert_eq!(e.value, "6");
    // Errors name the operand and the expected width.
    let err = pe
        .eval("fp16", Some("bitmod3"), &ops("er+ 1 18 3C00 3C00"))
        .unwrap_err();
    assert!(err.0.contains("W1") && err.0.contains("3 bits"), "{err}");
    let err = pe.eval("fp16", None, &ops("er+ 100 1 3C00")).unwrap_err();
    assert!(err.0.contains("SCALE") && err.0.contains("8 bits"), "{err}");
    let err = pe.eval("fp16", None, &ops("er+ 1 12 3C00")).unwrap_err();
    assert!(err.0.contains("one FP16"), "{err}");
    let err = pe.eval("fp16", None, &ops("er+ 1 1 13C00")).unwrap_err();
    assert!(err.0.contains("X0") && err.0.contains("16 bits"), "{err}");
    assert!(pe.eval("fp16", None, &ops("int4 1 1 3C00")).is_err());
    assert!(pe.eval("fp16", None, &ops("fp3 1 1 3C00")).is_err());
    assert!(pe.eval("bf16", None, &ops("er+ 1 1 3C00")).is_err());
    assert!(pe
        .eval("fp16", Some("bitmod5"), &ops("er+ 1 1 3C00"))
        .is_err());
    let long = format!("er+ 1 {} {}", "1".repeat(129), "3C00 ".repeat(129));
    assert!(pe.eval("fp16", None, &ops(&long)).is_err());
    // Inf activation: flagged, no exact value.
    let e = pe.eval("fp16", None, &ops("er+ 1 1 7C00")).unwrap();
    assert!(e.details.iter().any(|d| d.0 == "special"));
}
