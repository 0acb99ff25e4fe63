//! The array cells and the reference GEMM against oracles that share no code with them:
//! integer sums in `i64` (wrapped once at the end, or saturated step by step as written here),
//! the CPU's own binary32 adder for every float accumulation, `half` for FP16 values,
//! rustc_apfloat (and, for the formats it lacks, a nearest-value search) for fpmul's products.

mod array_support;

use array_support::{canon, cell_format, decode, operands, rng};
use half::f16;
use pelab_sim::array::cell::{cells, widen, Cell, CELL_PES};
use pelab_sim::array::gemm::{check_operands, gemm, k_steps};
use pelab_sim::format::{Format, Kind};
use pelab_sim::lmul::lmul;
use rand::Rng;
use rustc_apfloat::ieee::{BFloat, Float8E4M3FN, Float8E5M2, Half, Single};
use rustc_apfloat::{Float, Status};

/// fpmul's product of two codes (RNE) from rustc_apfloat, saturated on overflow under the
/// `saturate` policy; for the MX formats (no rustc_apfloat type) the nearest finite value by
/// search over every code, ties to the even code, beyond the largest value saturating.
fn apf_product(f: &Format, saturate: bool, a: u64, b: u64) -> f64 {
    fn via<F: Float>(saturate: bool, a: u64, b: u64) -> Option<(u128, bool)> {
        let r = F::from_bits(a as u128).mul(F::from_bits(b as u128));
        Some((
            r.value.to_bits(),
            saturate && r.status.contains(Status::OVERFLOW),
        ))
    }
    let sign_neg = ((a ^ b) >> (f.e + f.m)) & 1 == 1;
    let res = match f.name().as_str() {
        "e4m3" => via::<Float8E4M3FN>(saturate, a, b),
        "e5m2" => via::<Float8E5M2>(saturate, a, b),
        "bf16" => via::<BFloat>(saturate, a, b),
        "fp16" => via::<Half>(saturate, a, b),
        "fp32" => via::<Single>(saturate, a, b),
        _ => None,
    };
    if let Some((bits, overflowed)) = res {
        if overflowed {
            let m = decode(f, f.max_finite());
            return if sign_neg { -m } else { m };
        }
        return decode(f, bits as u64);
    }
    // MX formats: every code is finite; always saturate.
    assert_eq!(f.kind, Kind::Finite, "{f}: no oracle");
    let exact = decode(f, a) * decode(f, b);
    let v = exact.abs();
    let mut best = 0u64;
    for c in 0..=f.max_finite() {
        let (dc, db) = ((decode(f, c) - v).abs(), (decode(f, best) - v).abs());
        if dc < db || (dc == db && c % 2 == 0 && best % 2 == 1) {
            best = c;
        }
    }
    let m = decode(f, best);
    if sign_neg {
        -m
    } else {
        m
    }
}

/// The oracle's C for `cell`.
fn oracle(cell: &Cell, m: usize, k: usize, n: usize, a: &[u64], b: &[u64]) -> Vec<u32> {
    let mut c = vec![0u32; m * n];
    for i in 0..m {
        for j in 0..n {
            let pairs = || (0..k).map(|kk| (a[i * k + kk], b[kk * n + j]));
            c[i * n + j] = match (cell.pe, cell.policy) {
                ("int16fma", "wrap") => {
                    // Wrapping addition is associative: sum exactly, wrap once.
                    let s: i64 = pairs()
                        .map(|(x, y)| (x as u16 as i16 as i64) * (y as u16 as i16 as i64))
                        .sum();
                    s as i32 as u32
                }
                ("int16fma", "saturate") => {
                    // Saturation once per step of two lanes, the odd last lane with a 0.
                    let mut acc: i64 = 0;
                    for t in 0..k_steps(k, 2) {
                        let mut s = acc;
                        for kk in [2 * t, 2 * t + 1] {
                            if kk < k {
                                s += (a[i * k + kk] as u16 as i16 as i64)
                                    * (b[kk * n + j] as u16 as i16 as i64);
                            }
                        }
                        acc = s.clamp(i32::MIN as i64, i32::MAX as i64);
                    }
                    acc as i32 as u32
                }
                ("fp16mac", _) => {
                    // The FP16 product is exact in f32 (22-bit significand); one RNE add.
                    let mut acc = 0f32;
                    for (x, y) in pairs() {
                        acc +=
                            f16::from_bits(x as u16).to_f32() * f16::from_bits(y as u16).to_f32();
                    }
                    canon(acc)
                }
                ("lmul", p) => {
                    let f = cell_format(cell).unwrap();
                    let ovf = pelab_sim::format::Overflow::parse(p).unwrap();
                    let mut acc = 0f32;
                    for (x, y) in pairs() {
                        acc += decode(&f, lmul(&f, x, y, ovf)) as f32;
                    }
                    canon(acc)
                }
                ("fpmul", p) => {
                    let f = cell_format(cell).unwrap();
                    let mut acc = 0f32;
                    for (x, y) in pairs() {
                        acc += apf_product(&f, p == "saturate", x, y) as f32;
                    }
                    canon(acc)
                }
                other => panic!("no oracle for {other:?}"),
            };
        }
    }
    c
}

fn check_cell(cell: &Cell, seed: u64, cases: usize, max_dim: usize) {
    let mut r = rng(seed);
    for case in 0..cases {
        let (m, k, n) = (
            r.gen_range(1..=max_dim),
            r.gen_range(1..=max_dim),
            r.gen_range(1..=max_dim),
        );
        let special = [8, 40, 400][case % 3];
        let a = operands(cell, &mut r, m * k, special);
        let b = operands(cell, &mut r, k * n, special);
        let got = gemm(cell, m, k, n, &a, &b);
        let want = oracle(cell, m, k, n, &a, &b);
        for q in 0..m * n {
            assert_eq!(
                got[q],
                want[q],
                "{}: {m}x{k}x{n} C[{}][{}]: got {:08X} ({}), oracle {:08X} ({})",
                cell.name(),
                q / n,
                q % n,
                got[q],
                cell.display_result(got[q]),
                want[q],
                cell.display_result(want[q])
            );
        }
    }
}

#[test]
fn every_cell_gemm_matches_its_oracle() {
    let all = cells();
    for (s, cell) in all.iter().enumerate() {
        check_cell(cell, 100 + s as u64, 60, 12);
        check_cell(cell, 200 + s as u64, 4, 40);
    }
}

#[test]
fn the_cell_list_covers_every_format_and_policy() {
    let names: Vec<String> = cells().iter().map(|c| c.name()).collect();
    // lmul: 8 formats; IEEE-kind and E4M3 formats take both policies, MX formats saturate.
    for pe in ["lmul", "fpmul"] {
        for (f, _) in pelab_sim::format::NAMED {
            let kind = Format::parse(f).unwrap().kind;
            let want: &[&str] = if kind == Kind::Finite {
                &["saturate"]
            } else {
                &["saturate", "ieee"]
            };
            for p in want {
                assert!(
                    names.contains(&format!("{pe} {f} {p}")),
                    "{pe} {f} {p}: {names:?}"
                );
            }
        }
    }
    for n in [
        "fp16mac fp16 ieee",
        "int16fma int16 wrap",
        "int16fma int16 saturate",
    ] {
        assert!(names.contains(&n.to_string()), "{n}");
    }
    assert_eq!(names.len(), 2 * (5 * 2 + 3) + 3);
    for c in cells() {
        assert!(CELL_PES.contains(&c.pe));
        assert_eq!(c.lanes, if c.pe == "int16fma" { 2 } else { 1 });
        assert_eq!(c.a_width, c.b_width);
        let w = match c.pe {
            "int16fma" => 16,
            _ => Format::parse(&c.format).unwrap().width(),
        };
        assert_eq!(c.a_width, w);
    }
}

#[test]
fn cell_steps_match_the_table() {
    // One step from a nonzero accumulator, against the CPU: acc + widen(product).
    let mut r = rng(7);
    for cell in cells() {
        for _ in 0..2000 {
            let a = operands(&cell, &mut r, cell.lanes, 20);
            let b = operands(&cell, &mut r, cell.lanes, 20);
            let acc = if cell.pe == "int16fma" {
                r.gen::<u32>()
            } else {
                (r.gen_range(-1000.0f32..1000.0)).to_bits()
            };
            let got = cell.step(acc, &a, &b);
            let want = match cell.pe {
                "int16fma" => {
                    let l = |x: u64| x as u16 as i16 as i64;
                    let s = acc as i32 as i64 + l(a[0]) * l(b[0]) + l(a[1]) * l(b[1]);
                    if cell.policy == "wrap" {
                        s as i32 as u32
                    } else {
                        s.clamp(i32::MIN as i64, i32::MAX as i64) as i32 as u32
                    }
                }
                "fp16mac" => canon(
                    f32::from_bits(acc)
                        + f16::from_bits(a[0] as u16).to_f32()
                            * f16::from_bits(b[0] as u16).to_f32(),
                ),
                _ => {
                    let f = cell_format(&cell).unwrap();
                    let p = if cell.pe == "lmul" {
                        let ovf = pelab_sim::format::Overflow::parse(cell.policy).unwrap();
                        decode(&f, lmul(&f, a[0], b[0], ovf))
                    } else {
                        apf_product(&f, cell.policy == "saturate", a[0], b[0])
                    };
                    canon(f32::from_bits(acc) + p as f32)
                }
            };
            assert_eq!(got, want, "{} acc {acc:08X} a {a:X?} b {b:X?}", cell.name());
        }
    }
}

#[test]
fn widen_agrees_with_the_layout_decoder() {
    for (name, _) in pelab_sim::format::NAMED {
        let f = Format::parse(name).unwrap();
        let codes: Vec<u64> = if f.width() <= 16 {
            (0..1u64 << f.width()).collect()
        } else {
            let mut r = rng(3);
            (0..200_000).map(|_| r.gen::<u32>() as u64).collect()
        };
        for c in codes {
            let want = canon(decode(&f, c) as f32);
            assert_eq!(widen(&f, c), want, "{name} {c:X}");
        }
    }
}

#[test]
fn parse_errors_say_what_is_wrong() {
    let e = |pe: &str, f: &str, p: Option<&str>| Cell::parse(pe, f, p).unwrap_err().to_string();
    let m = e("bitmod", "fp16", Some("bitmod4"));
    assert!(m.contains("bitmod34"), "{m}");
    let m = e("bitmod", "int4", None);
    assert!(m.contains("only format is fp16"), "{m}");
    let m = e("nope", "fp16", None);
    assert!(m.contains("lmul, fpmul, fp16mac, int16fma, bitmod"), "{m}");
    let m = e("fp32acc", "fp32", None);
    assert!(m.contains("does not") && m.contains("multiply"), "{m}");
    let m = e("nope", "fp16", None);
    assert!(m.contains("unknown PE 'nope'"), "{m}");
    let m = e("lmul", "e9m3", None);
    assert!(m.contains("does not widen exactly"), "{m}");
    let m = e("fpmul", "e5m30", None);
    assert!(m.contains("does not widen exactly"), "{m}");
    let m = e("lmul", "bf16", Some("wrap"));
    assert!(
        m.contains("unknown policy 'wrap'") && m.contains("saturate, ieee"),
        "{m}"
    );
    let m = e("lmul", "e2m1", Some("ieee"));
    assert!(m.contains("saturate"), "{m}");
    let m = e("int16fma", "fp16", None);
    assert!(m.contains("only format is int16"), "{m}");
    let m = e("int16fma", "int16", Some("ieee"));
    assert!(m.contains("wrap, saturate"), "{m}");
    let m = e("fp16mac", "bf16", None);
    assert!(m.contains("only format is fp16"), "{m}");
    let m = e("fpmul", "fp8", None);
    assert!(m.contains("unknown format 'fp8'"), "{m}");
    // Defaults: lmul saturates, fpmul is IEEE, MX formats saturate, int16fma wraps.
    assert_eq!(
        Cell::parse("lmul", "bf16", None).unwrap().policy,
        "saturate"
    );
    assert_eq!(Cell::parse("fpmul", "bf16", None).unwrap().policy, "ieee");
    assert_eq!(
        Cell::parse("fpmul", "e2m1", None).unwrap().policy,
        "saturate"
    );
    assert_eq!(
        Cell::parse("int16fma", "int16", None).unwrap().policy,
        "wrap"
    );
    assert_eq!(Cell::parse("lmul", "e8m7", None).unwrap().format, "bf16");
}

#[test]
fn operand_errors_name_the_matrix_and_the_index() {
    let cell = Cell::parse("lmul", "e4m3", None).unwrap();
    let m = check_operands(&cell, 2, 3, 2, &[0; 6], &[0; 5])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("B must hold 3 x 2 = 6 codes") && m.contains("got 5"),
        "{m}"
    );
    let mut a = vec![0u64; 6];
    a[4] = 0x100;
    let m = check_operands(&cell, 2, 3, 2, &a, &[0; 6])
        .unwrap_err()
        .to_string();
    assert!(m.contains("A[1][1] = 100") && m.contains("8-bit"), "{m}");
    let m = check_operands(&cell, 0, 3, 2, &[], &[0; 6])
        .unwrap_err()
        .to_string();
    assert!(m.contains("at least 1"), "{m}");
}

#[test]
fn accumulation_is_sequential_from_positive_zero() {
    // Order matters in floating point: 1 + 2^24 - 2^24 ... a case where k order and a tree
    // differ, checked against the sequential CPU sum.
    let cell = Cell::parse("fpmul", "fp32", None).unwrap();
    let one = 1f32.to_bits() as u64;
    let vals = [2f32.powi(24), 1.0, 1.0, -(2f32.powi(24))];
    let a: Vec<u64> = vals.iter().map(|v| v.to_bits() as u64).collect();
    let b = vec![one; 4];
    let c = gemm(&cell, 1, 4, 1, &a, &b);
    let seq = ((0f32 + vals[0] + vals[1]) + vals[2]) + vals[3];
    let tree = (vals[0] + vals[1]) + (vals[2] + vals[3]);
    assert_ne!(seq, tree, "the case must tell the orders apart");
    assert_eq!(f32::from_bits(c[0]), seq);
    // Products of -0 only: +0 + -0 = +0.
    let neg0 = (-0f32).to_bits() as u64;
    let c = gemm(&cell, 1, 2, 1, &[neg0, neg0], &[one, one]);
    assert_eq!(c[0], 0);
}

#[test]
fn fast_step_equals_the_reference_step() {
    // The models' step against Cell::step: every operand pair of the formats of at most 8 bits
    // (their product tables), random and special operands elsewhere, from accumulators that
    // are zero, ordinary, tiny, huge, Inf and NaN.
    use pelab_sim::array::cell::FastStep;
    let mut r = rng(21);
    let accs: Vec<u32> = [
        0f32,
        -0.0,
        1.5,
        -3.25e-3,
        1e-40,
        3e38,
        f32::INFINITY,
        f32::NAN,
    ]
    .iter()
    .map(|x| x.to_bits())
    .chain([0x8000_0001, 0x7FFF_FFFF, 0xFFC0_0001])
    .collect();
    for cell in cells() {
        let fast = FastStep::new(&cell);
        let pairs: Vec<(Vec<u64>, Vec<u64>)> = match cell_format(&cell) {
            Some(f) if f.width() <= 8 => {
                let n = 1u64 << f.width();
                (0..n * n).map(|q| (vec![q / n], vec![q % n])).collect()
            }
            _ => (0..50_000)
                .map(|_| {
                    (
                        operands(&cell, &mut r, cell.lanes, 5),
                        operands(&cell, &mut r, cell.lanes, 5),
                    )
                })
                .collect(),
        };
        for (a, b) in &pairs {
            for &acc in &accs {
                assert_eq!(
                    fast.step(acc, a, b),
                    cell.step(acc, a, b),
                    "{}: acc {acc:08X} a {a:X?} b {b:X?}",
                    cell.name()
                );
            }
        }
    }
}
