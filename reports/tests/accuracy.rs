//! The accuracy studies against independent oracles: L-Mul's value formula and error bound
//! from docs/lmul.md, a hand-written FP8 E4M3 rounding, hand-written INT3/INT4 group
//! quantizers, a hand-written DFP-16 chunk-overflow count, and properties every table must
//! have (orderings, shares summing to 1). Input files are .npy bytes written here by hand.

use pelab_reports::accuracy::{
    bitmod_study, dfp_study, lmul_study, read_npy, render, study, Opts, Source, Style, STUDIES,
};
use pelab_reports::Table;
use pelab_sim::samples::Dist;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh scratch directory for this test binary.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-accuracy-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The bytes of a version-1.0 .npy file: magic, header dict padded to 64 bytes, data.
fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_s = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let order = if fortran { "True" } else { "False" };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_s}, }}");
    let pad = (64 - (10 + h.len() + 1) % 64) % 64;
    h.push_str(&" ".repeat(pad));
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(data);
    b
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A value source reading `vals` from a 1-D float64 .npy file in a fresh scratch directory.
fn npy_f64_source(name: &str, vals: &[f64]) -> Source {
    let bytes = npy_bytes("<f8", false, &[vals.len()], &f64_bytes(vals));
    Source::Npy(write(&scratch(name), "x.npy", &bytes))
}

/// Standard normal values by Box-Muller, from the test's own generator.
fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let (u, v): (f64, f64) = (r.gen_range(f64::EPSILON..1.0), r.gen());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect()
}

fn opts(source: Source, samples: usize) -> Opts {
    Opts {
        source,
        samples,
        seed: 7,
        scale: Default::default(),
    }
}

fn get<'a>(tables: &'a [Table], name: &str) -> &'a Table {
    tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// The rows whose columns equal the given values, as maps column -> value.
fn rows(t: &Table, filter: &[(&str, Value)]) -> Vec<serde_json::Map<String, Value>> {
    t.rows
        .iter()
        .map(|r| {
            t.columns
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .collect::<serde_json::Map<_, _>>()
        })
        .filter(|m| filter.iter().all(|(c, v)| &m[*c] == v))
        .collect()
}

fn one(t: &Table, filter: &[(&str, Value)]) -> serde_json::Map<String, Value> {
    let r = rows(t, filter);
    assert_eq!(
        r.len(),
        1,
        "{} rows match {filter:?} in {}",
        r.len(),
        t.name
    );
    r.into_iter().next().unwrap()
}

fn f(m: &serde_json::Map<String, Value>, c: &str) -> f64 {
    m[c].as_f64()
        .unwrap_or_else(|| panic!("column {c} is {:?}", m[c]))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) || a == b
}

/// Every table has provenance naming the source, the samples and the seed.
fn check_provenance(t: &Table) {
    for key in ["source:", "samples:", "seed:", "reference model"] {
        assert!(
            t.provenance
                .iter()
                .any(|p| p.starts_with(key) || p.contains(key)),
            "{} lacks a '{key}' provenance line: {:?}",
            t.name,
            t.provenance
        );
    }
}

// ---------------------------------------------------------------------------------------------
// L-Mul

/// `l(M)` and the bounds `8/(3-d)^2 - 1 <= L/P - 1 <= d`, `d = 2^-l`, as docs/lmul.md states them.
fn lmul_bounds(m: u32) -> (f64, f64) {
    let l = match m {
        0..=3 => m,
        4 => 3,
        _ => 4,
    };
    let d = 2f64.powi(-(l as i32));
    (8.0 / ((3.0 - d) * (3.0 - d)) - 1.0, d)
}

/// A normal value of magnitude in fp32's exponent range converted to M mantissa bits by
/// truncation or round to nearest even: (sign, unbiased exponent, mantissa field).
fn to_e8(x: f64, m: u32, rne: bool) -> (bool, i32, u64) {
    let b = x.to_bits();
    let sh = 52 - m;
    let frac = b & ((1u64 << 52) - 1);
    let mut q = frac >> sh;
    let rem = frac & ((1u64 << sh) - 1);
    let half = 1u64 << (sh - 1);
    let mut e = ((b >> 52) & 0x7FF) as i32 - 1023;
    if rne && (rem > half || (rem == half && q & 1 == 1)) {
        q += 1;
        if q == 1 << m {
            q = 0;
            e += 1;
        }
    }
    (b >> 63 == 1, e, q)
}

fn value_e8((s, e, q): (bool, i32, u64), m: u32) -> f64 {
    let v = (1.0 + q as f64 / (1u64 << m) as f64) * 2f64.powi(e);
    if s {
        -v
    } else {
        v
    }
}

/// L-Mul's value from the formula of docs/lmul.md ("The value it computes"), for normal inputs
/// and a normal result.
fn lmul_value(a: (bool, i32, u64), b: (bool, i32, u64), m: u32) -> f64 {
    let l = match m {
        0..=3 => m,
        4 => 3,
        _ => 4,
    };
    let d = 2f64.powi(-(l as i32));
    let x = a.2 as f64 / (1u64 << m) as f64;
    let y = b.2 as f64 / (1u64 << m) as f64;
    let s = x + y + d;
    let mag = if s < 1.0 {
        1.0 + s
    } else if s < 2.0 {
        2.0 * s
    } else {
        4.0 * (s - 1.0)
    } * 2f64.powi(a.1 + b.1);
    if a.0 != b.0 {
        -mag
    } else {
        mag
    }
}

#[test]
fn lmul_rows_match_the_documented_formula_and_bound() {
    // 3,000 pairs of normal values, written by hand as a float64 .npy file.
    let vals = normals(6000, 11);
    let t = lmul_study(&opts(npy_f64_source("lmul-formula", &vals), 3000)).unwrap();
    let elem = get(&t, "lmul_elementwise");
    check_provenance(elem);
    for m in 1..=7u32 {
        let (lo, hi) = lmul_bounds(m);
        for (conv, rne) in [("rtz", false), ("rne", true)] {
            // Our own loop over the same pairs (consecutive values).
            let (mut sum, mut sum_abs, mut max_abs) = (0.0, 0.0, 0f64);
            let (mut mmin, mut mmax) = (f64::INFINITY, f64::NEG_INFINITY);
            for c in vals.chunks(2) {
                let (a, b) = (to_e8(c[0], m, rne), to_e8(c[1], m, rne));
                let r = lmul_value(a, b, m);
                let p = c[0] * c[1];
                let e = (r - p) / p;
                sum += e;
                sum_abs += e.abs();
                max_abs = max_abs.max(e.abs());
                let q = value_e8(a, m) * value_e8(b, m);
                let me = (r - q) / q;
                mmin = mmin.min(me);
                mmax = mmax.max(me);
            }
            // The documented bound holds for our measurement...
            assert!(
                mmin >= lo - 1e-12 && mmax <= hi + 1e-12,
                "M={m} {conv}: L-Mul error [{mmin}, {mmax}] outside [{lo}, {hi}]"
            );
            // ...and the table agrees with it.
            let row = one(
                elem,
                &[
                    ("method", "lmul".into()),
                    ("format", format!("e8m{m}").into()),
                    ("conversion", conv.into()),
                ],
            );
            assert_eq!(row["mantissa_bits"], m);
            assert_eq!(row["samples"], 3000);
            assert_eq!(row["excluded_zero"], 0);
            assert_eq!(row["excluded_nonfinite"], 0);
            assert!(
                close(f(&row, "method_err_min"), mmin, 1e-12),
                "M={m} {conv}"
            );
            assert!(
                close(f(&row, "method_err_max"), mmax, 1e-12),
                "M={m} {conv}"
            );
            assert!(close(f(&row, "max_abs_rel_err"), max_abs, 1e-12));
            assert!(close(f(&row, "mean_abs_rel_err"), sum_abs / 3000.0, 1e-9));
            assert!(close(f(&row, "mean_rel_err"), sum / 3000.0, 1e-9));
        }
    }
}

#[test]
fn lmul_table_bounds_orderings_and_bias() {
    let t = lmul_study(&opts(Source::Dist(Dist::Gaussian), 50_000)).unwrap();
    let elem = get(&t, "lmul_elementwise");
    for m in 1..=7u32 {
        let fmt: Value = format!("e8m{m}").into();
        let (lo, hi) = lmul_bounds(m);
        let row = |method: &str, conv: &str| {
            one(
                elem,
                &[
                    ("method", method.into()),
                    ("format", fmt.clone()),
                    ("conversion", conv.into()),
                ],
            )
        };
        for conv in ["rtz", "rne"] {
            let l = row("lmul", conv);
            assert!(f(&l, "method_err_min") >= lo - 1e-12, "M={m}");
            assert!(f(&l, "method_err_max") <= hi + 1e-12, "M={m}");
            // The exact multiply rounds correctly: within half a unit in the last place.
            let e = row("fpmul", conv);
            let half_ulp = 2f64.powi(-(m as i32) - 1);
            assert!(f(&e, "method_err_min") >= -half_ulp && f(&e, "method_err_max") <= half_ulp);
        }
        // Rounded inputs leave the exact multiply nearly unbiased; truncated ones pull it down.
        let (rne, rtz) = (row("fpmul", "rne"), row("fpmul", "rtz"));
        assert!(
            f(&rne, "mean_rel_err").abs() < f(&rtz, "mean_rel_err").abs(),
            "M={m}: fpmul bias rne {} vs rtz {}",
            f(&rne, "mean_rel_err"),
            f(&rtz, "mean_rel_err")
        );
        assert!(f(&rtz, "mean_rel_err") < 0.0);
        // L-Mul is monotone in its operands' magnitudes and truncation never raises a
        // magnitude, so truncated inputs give a lower (signed) mean error, pair by pair.
        assert!(
            f(&row("lmul", "rtz"), "mean_rel_err") < f(&row("lmul", "rne"), "mean_rel_err"),
            "M={m}"
        );
    }
    // The exact multiply's error falls with every mantissa bit.
    for conv in ["rtz", "rne"] {
        let errs: Vec<f64> = (1..=7)
            .map(|m| {
                f(
                    &one(
                        elem,
                        &[
                            ("method", "fpmul".into()),
                            ("format", format!("e8m{m}").into()),
                            ("conversion", conv.into()),
                        ],
                    ),
                    "mean_abs_rel_err",
                )
            })
            .collect();
        assert!(errs.windows(2).all(|w| w[1] < w[0]), "{conv}: {errs:?}");
    }
    // Baseline rows exist.
    for fmt in ["e4m3", "e5m2"] {
        one(elem, &[("method", "fpmul".into()), ("format", fmt.into())]);
    }
    // Dot table: every method at every length, errors present.
    let dot = get(&t, "lmul_dot");
    check_provenance(dot);
    assert_eq!(dot.rows.len(), elem.rows.len() * 3);
    for k in [16u64, 256, 4096] {
        for r in rows(dot, &[("k", k.into())]) {
            assert_eq!(r["dots"], 50_000 / k);
            assert!(f(&r, "mean_norm_err") <= f(&r, "max_norm_err"));
        }
    }
}

/// OCP E4M3FN round to nearest even with subnormals, saturating at 448.
fn e4m3(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let a = x.abs();
    let e = (a.log2().floor() as i32).max(-6);
    let q = 2f64.powi(e - 3);
    let mut r = (a / q).round_ties_even() * q;
    // A value at the top of its binade can round to the next power of two: still exact.
    if r > 448.0 {
        r = 448.0;
    }
    if x < 0.0 {
        -r
    } else {
        r
    }
}

#[test]
fn fpmul_e4m3_matches_an_independent_computation() {
    // 400 pairs: normal values at three scales (subnormal products, overflow), plus zeros and
    // non-finite values that the table must count, not hide.
    let mut vals = normals(800, 5);
    for (i, v) in vals.iter_mut().enumerate() {
        *v *= [1.0, 0.02, 30.0][i % 3];
    }
    vals[10] = 0.0; // pair 5
    vals[21] = 0.0; // pair 10
    vals[30] = f64::INFINITY; // pair 15
    vals[41] = f64::NAN; // pair 20
    let t = lmul_study(&opts(npy_f64_source("e4m3", &vals), 400)).unwrap();
    let row = one(
        get(&t, "lmul_elementwise"),
        &[("method", "fpmul".into()), ("format", "e4m3".into())],
    );
    let (mut n, mut zero, mut nonfinite, mut sum, mut sum_abs) = (0u64, 0u64, 0u64, 0.0, 0.0);
    for c in vals.chunks(2) {
        let p = c[0] * c[1];
        if !p.is_finite() {
            nonfinite += 1;
            continue;
        }
        if p == 0.0 {
            zero += 1;
            continue;
        }
        let r = e4m3(e4m3(c[0]) * e4m3(c[1]));
        let e = (r - p) / p;
        n += 1;
        sum += e;
        sum_abs += e.abs();
    }
    assert_eq!((zero, nonfinite), (2, 2));
    assert_eq!(row["samples"], n);
    assert_eq!(row["excluded_zero"], zero);
    assert_eq!(row["excluded_nonfinite"], nonfinite);
    assert!(close(
        f(&row, "mean_abs_rel_err"),
        sum_abs / n as f64,
        1e-12
    ));
    assert!(close(f(&row, "mean_rel_err"), sum / n as f64, 1e-9));

    // The dot table, e4m3 at k = 16: pool of 4096 pairs (the file cycled), FP32 sums of the
    // products, against the f64 dot of the unconverted values. Dots touching a non-finite
    // value are excluded.
    let cyc: Vec<f64> = vals.iter().copied().cycle().take(2 * 4096).collect();
    let (x, y): (Vec<f64>, Vec<f64>) = cyc.chunks(2).map(|c| (c[0], c[1])).unzip();
    let (mut dots, mut excluded, mut sum) = (0u64, 0u64, 0.0);
    for d in 0..4096 / 16 {
        let (a, b) = (&x[d * 16..d * 16 + 16], &y[d * 16..d * 16 + 16]);
        let acc = a
            .iter()
            .zip(b)
            .fold(0f32, |s, (&u, &v)| s + e4m3(e4m3(u) * e4m3(v)) as f32);
        let exact: f64 = a.iter().zip(b).map(|(u, v)| u * v).sum();
        let nrm = a.iter().map(|u| u * u).sum::<f64>().sqrt()
            * b.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(exact.is_finite() && acc.is_finite() && nrm.is_finite()) {
            excluded += 1;
            continue;
        }
        dots += 1;
        sum += (acc as f64 - exact).abs() / nrm;
    }
    let dot = one(
        get(&t, "lmul_dot"),
        &[
            ("method", "fpmul".into()),
            ("format", "e4m3".into()),
            ("k", 16.into()),
        ],
    );
    assert_eq!(dot["dots"], dots);
    assert_eq!(dot["excluded"], excluded);
    assert!(excluded > 0);
    assert!(close(f(&dot, "mean_norm_err"), sum / dots as f64, 1e-6));
}

// ---------------------------------------------------------------------------------------------
// BitMoD

/// Mean squared error of a symmetric integer grid {-q..q} per group of 128 along each row:
/// scale = absmax / q, nearest value.
fn int_mse(rows: &[Vec<f32>], q: f64) -> f64 {
    let (mut sse, mut n) = (0.0, 0usize);
    for r in rows {
        for g in r.chunks(128) {
            let absmax = g.iter().fold(0f64, |m, &w| m.max((w as f64).abs()));
            let scale = absmax / q;
            for &w in g {
                let w = w as f64;
                let v = if scale == 0.0 {
                    0.0
                } else {
                    (w / scale).round().clamp(-q, q) * scale
                };
                sse += (w - v) * (w - v);
                n += 1;
            }
        }
    }
    sse / n as f64
}

#[test]
fn bitmod_sets_choose_the_least_error_and_shares_sum_to_one() {
    let t = bitmod_study(&opts(Source::StudentT(4.0), 4096 * 3)).unwrap();
    let mse = get(&t, "bitmod_mse");
    let share = get(&t, "bitmod_type_share");
    check_provenance(mse);
    check_provenance(share);
    let m = |set: &str| f(&one(mse, &[("set", set.into())]), "mse");
    for (all, parts) in [
        ("bitmod3", ["bitmod3-er", "bitmod3-ea"]),
        ("bitmod4", ["bitmod4-er", "bitmod4-ea"]),
    ] {
        for p in parts {
            assert!(m(all) <= m(p), "{all} {} > {p} {}", m(all), m(p));
        }
    }
    assert!(m("ant4") <= m("int4") && m("ant4") <= m("flint4"));
    assert!(m("ant3") <= m("int3") && m("ant3") <= m("fp3"));
    for r in &mse.rows {
        let set = r[0].as_str().unwrap();
        let rs = rows(share, &[("set", set.into())]);
        let total: f64 = rs.iter().map(|r| f(r, "share")).sum();
        let groups: u64 = rs.iter().map(|r| r["groups"].as_u64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-12, "{set}: shares sum to {total}");
        assert_eq!(groups, 96, "{set}: 3 rows of 4096 = 96 groups of 128");
    }
}

#[test]
fn bitmod_reads_a_2d_npy_matrix_and_matches_integer_oracles() {
    let (nr, nc) = (3, 300);
    let w: Vec<f32> = normals(nr * nc, 3).iter().map(|&v| v as f32).collect();
    let dir = scratch("bitmod-npy");
    let c_path = write(
        &dir,
        "w.npy",
        &npy_bytes("<f4", false, &[nr, nc], &f32_bytes(&w)),
    );
    let t = bitmod_study(&opts(Source::Npy(c_path.clone()), 1)).unwrap();
    let mse = get(&t, "bitmod_mse");
    let rows_m: Vec<Vec<f32>> = w.chunks(nc).map(|r| r.to_vec()).collect();
    for (set, q) in [("int4", 7.0), ("int3", 3.0)] {
        let r = one(mse, &[("set", set.into())]);
        assert_eq!(r["weights"], nr * nc);
        // 300 = 128 + 128 + 44: three groups per row.
        assert_eq!(r["groups"], nr * 3);
        let oracle = int_mse(&rows_m, q);
        assert!(
            close(f(&r, "mse"), oracle, 1e-9),
            "{set}: {} vs {oracle}",
            f(&r, "mse")
        );
    }
    // The same matrix stored in Fortran (column-major) order gives the same tables.
    let mut fort = Vec::with_capacity(w.len());
    for c in 0..nc {
        for r in 0..nr {
            fort.push(w[r * nc + c]);
        }
    }
    let mse_rows_of = |name: &str, descr: &str, fortran: bool, data: &[u8]| {
        let p = write(&dir, name, &npy_bytes(descr, fortran, &[nr, nc], data));
        let t = bitmod_study(&opts(Source::Npy(p), 1)).unwrap();
        get(&t, "bitmod_mse").rows.clone()
    };
    assert_eq!(
        mse_rows_of("wf.npy", "<f4", true, &f32_bytes(&fort)),
        mse.rows
    );
    // A float64 matrix is read too.
    let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    assert_eq!(
        mse_rows_of("w64.npy", "<f8", false, &f64_bytes(&w64)),
        mse.rows
    );
}

#[test]
fn npy_errors_name_the_file_and_what_was_expected() {
    let dir = scratch("npy-errors");
    let e = |p: &PathBuf| {
        bitmod_study(&opts(Source::Npy(p.clone()), 1))
            .unwrap_err()
            .to_string()
    };
    // 1-D: fine as a value source, not as a weight matrix.
    let one_d = write(
        &dir,
        "v.npy",
        &npy_bytes("<f4", false, &[4], &f32_bytes(&[1.0; 4])),
    );
    let msg = e(&one_d);
    assert!(
        msg.contains("v.npy") && msg.contains("1-D") && msg.contains("2-D"),
        "{msg}"
    );
    let a = read_npy(&one_d).unwrap();
    assert_eq!((a.shape.clone(), a.data.clone()), (vec![4], vec![1.0; 4]));
    // 3-D.
    let three = write(
        &dir,
        "t.npy",
        &npy_bytes("<f4", false, &[1, 2, 2], &f32_bytes(&[1.0; 4])),
    );
    let msg = e(&three);
    assert!(msg.contains("3-D") && msg.contains("2-D"), "{msg}");
    // int32.
    let ints: Vec<u8> = [1i32, 2, 3, 4]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let int = write(&dir, "i.npy", &npy_bytes("<i4", false, &[2, 2], &ints));
    let msg = e(&int);
    assert!(
        msg.contains("i.npy") && msg.contains("<i4") && msg.contains("float32"),
        "{msg}"
    );
    // Truncated data.
    let trunc = write(
        &dir,
        "short.npy",
        &npy_bytes("<f4", false, &[2, 3], &f32_bytes(&[1.0; 5])),
    );
    let msg = e(&trunc);
    assert!(
        msg.contains("short.npy") && msg.contains("truncated"),
        "{msg}"
    );
    // Not an npy file at all.
    let junk = write(&dir, "junk.npy", b"hello, world");
    let msg = e(&junk);
    assert!(msg.contains("junk.npy") && msg.contains(".npy"), "{msg}");
    // Missing.
    let missing = dir.join("nowhere.npy");
    let msg = e(&missing);
    assert!(
        msg.contains("nowhere.npy") && msg.contains("cannot read"),
        "{msg}"
    );
    // The other studies read the same files through Source::sample.
    let msg = lmul_study(&opts(Source::Npy(int), 10))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("<i4"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// DFP-16

#[test]
fn dfp_overflow_orderings_and_quantization_bound() {
    let t = dfp_study(&opts(Source::Dist(Dist::Gaussian), 2 * 4096 * 96)).unwrap();
    let q = get(&t, "dfp_quant_error");
    let o = get(&t, "dfp_overflow");
    check_provenance(q);
    check_provenance(o);
    // Half a step relative to the largest magnitude: 2^(h-15); each headroom bit doubles it.
    let mut prev = 0.0;
    for h in 0..=4u32 {
        let r = one(q, &[("headroom", h.into())]);
        assert!(f(&r, "max_abs_err_rel_max") <= 2f64.powi(h as i32 - 15));
        let mean = f(&r, "mean_abs_err_rel_max");
        if h > 0 {
            assert!((mean / prev - 2.0).abs() < 0.05, "h={h}: {mean} vs {prev}");
        }
        prev = mean;
    }
    let chunks = [64u64, 128, 256, 512, 1024, 2048, 4096];
    let frac = |c: u64, h: u32, mode: &str| {
        one(
            o,
            &[
                ("chunk", c.into()),
                ("headroom", h.into()),
                ("mode", mode.into()),
            ],
        )
    };
    let mut overflowing_cells = 0;
    for mode in ["wrap", "saturate"] {
        for h in 0..=4u32 {
            let fr: Vec<f64> = chunks
                .iter()
                .map(|&c| f(&frac(c, h, mode), "overflow_fraction"))
                .collect();
            assert!(fr.windows(2).all(|w| w[0] <= w[1]), "h={h} {mode}: {fr:?}");
        }
        for &c in &chunks {
            let fr: Vec<f64> = (0..=4)
                .map(|h| f(&frac(c, h, mode), "overflow_fraction"))
                .collect();
            assert!(
                fr.windows(2).all(|w| w[0] >= w[1]),
                "chunk {c} {mode}: {fr:?}"
            );
        }
    }
    for &c in &chunks {
        for h in 0..=4u32 {
            let (w, s) = (frac(c, h, "wrap"), frac(c, h, "saturate"));
            // Overflow is a property of the exact sums, the same in both modes.
            assert_eq!(w["overflowed_chunks"], s["overflowed_chunks"]);
            if w["overflowed_chunks"].as_u64().unwrap() > 0 {
                overflowing_cells += 1;
                assert!(
                    f(&s, "mean_norm_err") <= f(&w, "mean_norm_err"),
                    "chunk {c} h={h}: saturate {} > wrap {}",
                    f(&s, "mean_norm_err"),
                    f(&w, "mean_norm_err")
                );
            } else if f(&w, "transient_overflow_fraction") == 0.0 {
                // Nothing left INT32: both modes compute the same value.
                assert_eq!(w["mean_norm_err"], s["mean_norm_err"]);
            }
        }
    }
    assert!(overflowing_cells >= 5, "the data should overflow somewhere");
}

/// frexp's exponent of a positive finite value: max = m * 2^e with 0.5 <= m < 1.
fn frexp_exp(x: f64) -> i32 {
    let mut e = x.log2().floor() as i32 + 1;
    // Guard against log2 rounding at exact powers of two.
    while 2f64.powi(e - 1) > x {
        e -= 1;
    }
    while 2f64.powi(e) <= x {
        e += 1;
    }
    e
}

#[test]
fn dfp_overflow_counts_match_an_independent_count() {
    // Two dot products whose second vector equals the first: sums of squares, which overflow
    // INT32 at low headroom. Values are float32 in a .npy file.
    let base: Vec<f32> = normals(2 * 4096, 9).iter().map(|&v| v as f32).collect();
    let mut vals = Vec::new();
    for d in 0..2 {
        let v = &base[d * 4096..(d + 1) * 4096];
        vals.extend_from_slice(v);
        vals.extend_from_slice(v);
    }
    let dir = scratch("dfp");
    let p = write(
        &dir,
        "x.npy",
        &npy_bytes("<f4", false, &[vals.len()], &f32_bytes(&vals)),
    );
    let t = dfp_study(&opts(Source::Npy(p), vals.len())).unwrap();
    let o = get(&t, "dfp_overflow");
    for h in 0..=4i32 {
        let q: Vec<Vec<i64>> = vals
            .chunks(4096)
            .map(|v| {
                let max = v.iter().fold(0f64, |m, &x| m.max((x as f64).abs()));
                let scf = 15 - h - frexp_exp(max);
                v.iter()
                    .map(|&x| {
                        ((x as f64) * 2f64.powi(scf))
                            .round_ties_even()
                            .clamp(-32768.0, 32767.0) as i64
                    })
                    .collect()
            })
            .collect();
        for chunk in [64usize, 512, 4096] {
            let (mut over, mut total) = (0u64, 0u64);
            for d in 0..2 {
                let (a, b) = (&q[2 * d], &q[2 * d + 1]);
                for s in (0..4096).step_by(chunk) {
                    let sum: i64 = (s..s + chunk).map(|i| a[i] * b[i]).sum();
                    total += 1;
                    over += (sum > i32::MAX as i64 || sum < i32::MIN as i64) as u64;
                }
            }
            for mode in ["wrap", "saturate"] {
                let r = one(
                    o,
                    &[
                        ("chunk", chunk.into()),
                        ("headroom", h.into()),
                        ("mode", mode.into()),
                    ],
                );
                assert_eq!(r["chunks"], total);
                assert_eq!(r["overflowed_chunks"], over, "h={h} chunk {chunk}");
            }
            if h == 0 && chunk == 4096 {
                assert_eq!(over, 2, "sums of 4096 squares at headroom 0 overflow");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Names, sources, rendering

#[test]
fn studies_and_sources_by_name() {
    assert_eq!(STUDIES, &["lmul", "bitmod", "dfp"]);
    let e = study("lmu", &opts(Source::Dist(Dist::Gaussian), 10))
        .unwrap_err()
        .to_string();
    assert!(e.contains("lmul, bitmod, dfp"), "{e}");
    assert_eq!(
        Source::parse("uniform").unwrap(),
        Source::Dist(Dist::Uniform)
    );
    assert_eq!(Source::parse("student-t:3").unwrap(), Source::StudentT(3.0));
    assert_eq!(
        Source::parse("file:a/b.npy").unwrap(),
        Source::Npy(PathBuf::from("a/b.npy"))
    );
    for bad in ["gauss", "student-t:0", "student-t:x", "file:"] {
        let e = Source::parse(bad).unwrap_err().to_string();
        assert!(e.contains("student-t:"), "{bad}: {e}");
    }
    assert!(Source::parse("gauss")
        .unwrap_err()
        .to_string()
        .contains("gaussian, uniform, loguniform"));
    // Values in file order, cycled.
    let v = npy_f64_source("cycle", &[1.0, 2.0, 3.0])
        .sample(7, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap();
    assert_eq!(v, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0]);
    // Seeded sources repeat.
    let s = Source::StudentT(2.5);
    let a = s.sample(5, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    let b = s.sample(5, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    assert_eq!(a, b);
    assert!(study("dfp", &opts(Source::Dist(Dist::Gaussian), 0)).is_err());
}

#[test]
fn rendering_text_json_and_csv() {
    let t = study("bitmod", &opts(Source::Dist(Dist::Uniform), 256)).unwrap();
    let text = render(&t, Style::Text);
    assert!(text.starts_with("bitmod_mse: "));
    assert!(text.contains("bitmod_type_share: ") && text.contains("  # source: uniform"));
    let json: Value = serde_json::from_str(&render(&t, Style::Json)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["name"], "bitmod_type_share");
    let csv = render(&t, Style::Csv);
    let parts: Vec<&str> = csv.split("\n\n").collect();
    assert_eq!(parts.len(), 2);
    assert!(parts[0].starts_with("# bitmod_mse\nset,bits,"));
    assert!(parts[1].starts_with("# bitmod_type_share\n"));
}
