//! The lmul study's amax scaling against independent oracles: the scale exponents computed
//! here from the drawn data and each format's largest value, a hand-written E4M3 rounding of
//! the scaled values, the e8mM rows unchanged by power-of-two scales, and the other studies
//! refusing the option.

use pelab_reports::accuracy::{bitmod_study, dfp_study, lmul_study, Opts, Scale, Source};
use pelab_reports::Table;
use pelab_sim::samples::Dist;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// The bytes of a version-1.0 .npy file of little-endian float64 values, 1-D.
fn npy_f64(v: &[f64]) -> Vec<u8> {
    let mut h = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        v.len()
    );
    let pad = (64 - (10 + h.len() + 1) % 64) % 64;
    h.push_str(&" ".repeat(pad));
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    b
}

/// A source reading `vals` from a .npy file in a fresh scratch directory.
fn npy_source(name: &str, vals: &[f64]) -> Source {
    let d = std::env::temp_dir().join(format!("pelab-lmul-scale-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("v.npy");
    std::fs::write(&p, npy_f64(vals)).unwrap();
    Source::Npy(p)
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

fn opts(source: Source, samples: usize, scale: Scale) -> Opts {
    Opts {
        source,
        samples,
        seed: 11,
        scale,
    }
}

fn get<'a>(tables: &'a [Table], name: &str) -> &'a Table {
    tables.iter().find(|t| t.name == name).unwrap()
}

/// The one row whose columns equal the given texts, as a map column -> value.
fn row(t: &Table, want: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        o => o.to_string(),
    };
    let m: Vec<_> = t
        .rows
        .iter()
        .map(|r| {
            t.columns
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .collect::<serde_json::Map<_, _>>()
        })
        .filter(|m| want.iter().all(|(c, v)| text(&m[*c]) == *v))
        .collect();
    assert_eq!(m.len(), 1, "{} rows match {want:?} in {}", m.len(), t.name);
    m.into_iter().next().unwrap()
}

fn f(m: &serde_json::Map<String, Value>, c: &str) -> f64 {
    m[c].as_f64()
        .unwrap_or_else(|| panic!("column {c} is {:?}", m[c]))
}

/// Largest finite values, from the formats' definitions: E4M3FN 1.75 * 2^8, e5m2 1.75 * 2^15,
/// e8mM (2 - 2^-M) * 2^127.
fn max_finite(fmt: &str) -> f64 {
    match fmt {
        "e4m3" => 448.0,
        "e5m2" => 57344.0,
        f => {
            let m: i32 = f.strip_prefix("e8m").unwrap().parse().unwrap();
            (2.0 - 2f64.powi(-m)) * 2f64.powi(127)
        }
    }
}

/// The largest s with (a * 2^s)^2 <= fmax, by counting down from far above; `a` is chosen so
/// that a^2 * 4^s is exact in f64.
fn oracle_exponent(a: f64, fmax: f64) -> i64 {
    (-300..300i64)
        .rev()
        .find(|&s| a * a * 4f64.powi(s as i32) <= fmax)
        .unwrap()
}

/// OCP E4M3FN round to nearest even with subnormals, saturating at 448.
fn e4m3(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let a = x.abs();
    let e = (a.log2().floor() as i32).max(-6);
    let q = 2f64.powi(e - 3);
    let r = ((a / q).round_ties_even() * q).min(448.0);
    r.copysign(x)
}

/// Normal values (x at even, y at odd places) bounded below 3 and 0.375 in magnitude, then the
/// first x set to -3 and the first y to 0.375: amax is 3 for x and 0.375 for y.
fn bounded_pairs(pairs: usize, seed: u64) -> Vec<f64> {
    let mut v = normals(2 * pairs, seed);
    for (i, x) in v.iter_mut().enumerate() {
        let cap = if i % 2 == 0 { 3.0 } else { 0.375 };
        // Fold into (-cap, cap): the values keep their spread and many stay small.
        *x = (*x / 4.0).clamp(-0.999, 0.999) * cap;
    }
    v[0] = -3.0;
    v[1] = 0.375;
    v
}

#[test]
fn amax_exponents_are_the_largest_powers_of_two_whose_products_stay_finite() {
    // 4096 pairs: the whole file is the drawn tensor (the dot products need 4096 pairs).
    let vals = bounded_pairs(4096, 3);
    let t = lmul_study(&opts(npy_source("exp", &vals), 4096, Scale::Amax)).unwrap();
    let el = get(&t, "lmul_elementwise");
    let mut formats = 0;
    for fmt in ["e4m3", "e5m2", "e8m1", "e8m3", "e8m4", "e8m7"] {
        let (s, tt) = (
            oracle_exponent(3.0, max_finite(fmt)),
            oracle_exponent(0.375, max_finite(fmt)),
        );
        // A product of the two largest scaled values stays finite, and one more factor of two
        // on either would not.
        let fm = max_finite(fmt);
        assert!(3.0 * 0.375 * 2f64.powi((s + tt) as i32) <= fm);
        assert!((3.0 * 2f64.powi(s as i32 + 1)).powi(2) > fm);
        for tab in [el, get(&t, "lmul_dot")] {
            let fc = tab.col("format").unwrap();
            let (xc, yc, sc) = (
                tab.col("scale_x_log2").unwrap(),
                tab.col("scale_y_log2").unwrap(),
                tab.col("scale").unwrap(),
            );
            let rows: Vec<_> = tab.rows.iter().filter(|r| r[fc] == fmt).collect();
            assert!(!rows.is_empty(), "no {fmt} rows in {}", tab.name);
            for r in rows {
                assert_eq!(r[sc], "amax");
                assert_eq!(r[xc].as_i64(), Some(s), "{fmt} x scale in {}", tab.name);
                assert_eq!(r[yc].as_i64(), Some(tt), "{fmt} y scale in {}", tab.name);
            }
        }
        formats += 1;
    }
    assert_eq!(formats, 6);
    // e4m3: 3 * 2^2 = 12, 144 <= 448 < 576; 0.375 * 2^5 = 12 likewise.
    let e4 = row(el, &[("method", "fpmul"), ("format", "e4m3")]);
    assert_eq!(
        (e4["scale_x_log2"].as_i64(), e4["scale_y_log2"].as_i64()),
        (Some(2), Some(5))
    );
    // The provenance states both amax values and the exponents.
    let prov = el.provenance.join("\n");
    assert!(prov.contains("largest finite |x| = 3,"), "{prov}");
    assert!(prov.contains("largest finite |y| = 0.375 "), "{prov}");
    assert!(prov.contains("e4m3: x 2^2, y 2^5"), "{prov}");

    // Unscaled, every exponent is 0 and the provenance says so.
    let t = lmul_study(&opts(npy_source("exp0", &vals), 4096, Scale::None)).unwrap();
    let el = get(&t, "lmul_elementwise");
    for r in &el.rows {
        assert_eq!(r[el.col("scale").unwrap()], "none");
        assert_eq!(r[el.col("scale_x_log2").unwrap()].as_i64(), Some(0));
        assert_eq!(r[el.col("scale_y_log2").unwrap()].as_i64(), Some(0));
    }
    assert!(el.provenance.iter().any(|p| p.starts_with("scale: none")));
}

#[test]
fn scaled_e4m3_matches_an_independent_computation_and_flushes_less() {
    let n = 4096;
    let vals = bounded_pairs(n, 8);
    let (x, y): (Vec<f64>, Vec<f64>) = vals.chunks(2).map(|c| (c[0], c[1])).unzip();
    let (s, t) = (2, 5); // from the test above: amax 3 and 0.375 in e4m3
    for (scale, (sx, sy)) in [(Scale::None, (0, 0)), (Scale::Amax, (s, t))] {
        let tab = lmul_study(&opts(npy_source("e4m3", &vals), n, scale)).unwrap();
        let r = row(
            get(&tab, "lmul_elementwise"),
            &[("method", "fpmul"), ("format", "e4m3")],
        );
        let (ux, uy) = (2f64.powi(sx), 2f64.powi(sy));
        let (mut flushed, mut sum_abs, mut sum, mut kept) = (0u64, 0.0, 0.0, 0u64);
        let mut products = Vec::with_capacity(n);
        for (&a, &b) in x.iter().zip(&y) {
            let q = e4m3(e4m3(a * ux) * e4m3(b * uy)) / (ux * uy);
            products.push(q);
            let p = a * b;
            if p == 0.0 {
                continue;
            }
            kept += 1;
            if q == 0.0 {
                flushed += 1;
            }
            let e = (q - p) / p;
            sum += e;
            sum_abs += e.abs();
        }
        assert_eq!(r["samples"].as_u64(), Some(kept), "{scale:?}");
        assert_eq!(r["flushed_to_zero"].as_u64(), Some(flushed), "{scale:?}");
        let close = |a: f64, b: f64, rel: f64| (a - b).abs() <= rel * a.abs().max(b.abs());
        assert!(
            close(f(&r, "mean_abs_rel_err"), sum_abs / kept as f64, 1e-12),
            "{scale:?}: {} vs {}",
            f(&r, "mean_abs_rel_err"),
            sum_abs / kept as f64
        );
        assert!(close(f(&r, "mean_rel_err"), sum / kept as f64, 1e-9));
        if scale == Scale::None {
            assert!(
                flushed > 100,
                "the unscaled data should underflow: {flushed}"
            );
        } else {
            assert!(flushed < 10, "amax scaling should keep products: {flushed}");
        }

        // Dots of 16: descaled products summed in FP32, against the f64 dot.
        let (mut dots, mut err) = (0u64, 0.0);
        for d in 0..n / 16 {
            let r = d * 16..d * 16 + 16;
            let acc = products[r.clone()]
                .iter()
                .fold(0f32, |acc, &p| acc + p as f32);
            let exact: f64 = x[r.clone()]
                .iter()
                .zip(&y[r.clone()])
                .map(|(a, b)| a * b)
                .sum();
            let nrm = x[r.clone()].iter().map(|a| a * a).sum::<f64>().sqrt()
                * y[r].iter().map(|b| b * b).sum::<f64>().sqrt();
            dots += 1;
            err += (acc as f64 - exact).abs() / nrm;
        }
        let dr = row(
            get(&tab, "lmul_dot"),
            &[("method", "fpmul"), ("format", "e4m3"), ("k", "16")],
        );
        assert_eq!(dr["dots"].as_u64(), Some(dots));
        assert!(close(f(&dr, "mean_norm_err"), err / dots as f64, 1e-6));
    }
}

#[test]
fn power_of_two_scales_leave_the_e8_rows_unchanged_and_help_e4m3() {
    let src = Source::Dist(Dist::Gaussian);
    let none = lmul_study(&opts(src.clone(), 40_000, Scale::None)).unwrap();
    let amax = lmul_study(&opts(src, 40_000, Scale::Amax)).unwrap();
    let mut compared = 0;
    for tab in ["lmul_elementwise", "lmul_dot"] {
        let (a, b) = (get(&none, tab), get(&amax, tab));
        assert_eq!(a.rows.len(), b.rows.len());
        let fc = a.col("format").unwrap();
        for (ra, rb) in a.rows.iter().zip(&b.rows) {
            let fmt = ra[fc].as_str().unwrap();
            if !fmt.starts_with("e8m") {
                continue;
            }
            // N(0, 1) data sits in e8mM's normal range scaled or not: the same results.
            for (i, c) in a.columns.iter().enumerate() {
                if c.starts_with("scale") {
                    continue;
                }
                // Sums in parallel may differ in the last bit.
                let same = match (ra[i].as_f64(), rb[i].as_f64()) {
                    (Some(u), Some(v)) if !ra[i].is_u64() => {
                        (u - v).abs() <= 1e-12 * u.abs().max(v.abs())
                    }
                    _ => ra[i] == rb[i],
                };
                assert!(same, "{tab} {fmt} column {c}: {ra:?} vs {rb:?}");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 2 * 14 * 4, "every e8mM row of both tables");
    let e4 = |t: &[Table]| {
        row(
            get(t, "lmul_elementwise"),
            &[("method", "fpmul"), ("format", "e4m3")],
        )
    };
    let (u, s) = (e4(&none), e4(&amax));
    assert!(f(&s, "flushed_to_zero") < f(&u, "flushed_to_zero"));
    assert!(f(&s, "mean_abs_rel_err") < f(&u, "mean_abs_rel_err"));
    // What is left is e8m3's precision (the same mantissa), within a few percent of it.
    let e8m3 = row(
        get(&amax, "lmul_elementwise"),
        &[
            ("method", "fpmul"),
            ("format", "e8m3"),
            ("conversion", "rne"),
        ],
    );
    let ratio = f(&s, "mean_abs_rel_err") / f(&e8m3, "mean_abs_rel_err");
    assert!((1.0..1.1).contains(&ratio), "scaled e4m3 / e8m3 = {ratio}");
}

#[test]
fn other_studies_refuse_amax_scaling_and_scale_names_parse() {
    for (name, r) in [
        (
            "bitmod",
            bitmod_study(&opts(Source::Dist(Dist::Gaussian), 4096, Scale::Amax)),
        ),
        (
            "dfp",
            dfp_study(&opts(Source::Dist(Dist::Gaussian), 8192, Scale::Amax)),
        ),
    ] {
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("--scale amax applies to the lmul study only") && e.contains(name),
            "{e}"
        );
    }
    assert_eq!(Scale::parse("amax").unwrap(), Scale::Amax);
    assert_eq!(Scale::parse("none").unwrap(), Scale::None);
    let e = Scale::parse("max").unwrap_err().to_string();
    assert!(e.contains("'max'") && e.contains("none, amax"), "{e}");
    assert_eq!(Scale::default(), Scale::None);
}
