//! `pelab accuracy lmul --scale amax` as a user runs it: on a .npy file with a known largest
//! magnitude, the e4m3 scale it prints is the power of two computed here, fewer products are
//! flushed to zero than unscaled, and the other studies refuse the option with a clear error.

mod common;

use common::{err, ok};
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

/// 4096 pairs (x, y) spread over magnitudes 2^-12 .. 2^1.5 by a fixed sequence (no generator
/// needed): many products fall below e4m3's normal range unscaled. The largest |x| is 3.0
/// and the largest |y| 1.5.
fn values() -> Vec<f64> {
    let mut v = Vec::with_capacity(8192);
    for i in 0..4096u32 {
        // Exponent in [-12, 1) and a mantissa in [1, 1.5), signs alternating.
        let e = -12.0 + (i % 13) as f64;
        let m = 1.0 + ((i * 37) % 64) as f64 / 128.0;
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        v.push(sign * m * e.exp2());
        v.push(-sign * (1.0 + ((i * 11) % 64) as f64 / 128.0) * (-12.0 + (i % 11) as f64).exp2());
    }
    v[0] = -3.0;
    v[1] = 1.5;
    v
}

/// The e4m3 exact-multiply row of `lmul_elementwise` in `pelab accuracy lmul --json` output.
fn e4m3_row(json: &str) -> serde_json::Map<String, Value> {
    let tables: Value = serde_json::from_str(json).expect("JSON tables");
    let el = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "lmul_elementwise")
        .expect("lmul_elementwise");
    let rows: Vec<_> = el["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "fpmul" && r["format"] == "e4m3")
        .collect();
    assert_eq!(rows.len(), 1, "one e4m3 row");
    rows[0].as_object().unwrap().clone()
}

#[test]
fn amax_scale_is_the_independent_power_of_two_and_flushes_less() {
    let vals = values();
    let amax_x = vals.iter().step_by(2).fold(0f64, |m, v| m.max(v.abs()));
    let amax_y = vals
        .iter()
        .skip(1)
        .step_by(2)
        .fold(0f64, |m, v| m.max(v.abs()));
    assert_eq!((amax_x, amax_y), (3.0, 1.5));
    let dir = std::env::temp_dir().join(format!("pelab-accuracy-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pairs.npy");
    std::fs::write(&path, npy_f64(&vals)).unwrap();
    let dist = format!("file:{}", path.display());

    // The largest s with (amax * 2^s)^2 <= 448, e4m3's largest value, by trying each s:
    // x: 12^2 = 144 <= 448 < 24^2 gives 2; y: 1.5 * 2^3 = 12 gives 3.
    let exp = |a: f64| {
        (-64..64)
            .rev()
            .find(|&s| (a * 2f64.powi(s)).powi(2) <= 448.0)
            .unwrap()
    };
    let (sx, sy) = (exp(amax_x), exp(amax_y));
    assert_eq!((sx, sy), (2, 3));

    let run = |scale: &str| {
        ok(&[
            "accuracy",
            "lmul",
            "--dist",
            &dist,
            "--samples",
            "4096",
            "--scale",
            scale,
            "--json",
        ])
    };
    let (none, amax) = (e4m3_row(&run("none")), e4m3_row(&run("amax")));
    assert_eq!(none["scale"], "none");
    assert_eq!(amax["scale"], "amax");
    assert_eq!(none["scale_x_log2"], 0);
    assert_eq!(amax["scale_x_log2"], sx);
    assert_eq!(amax["scale_y_log2"], sy);
    let flushed = |r: &serde_json::Map<String, Value>| r["flushed_to_zero"].as_u64().unwrap();
    let err_of = |r: &serde_json::Map<String, Value>| r["mean_abs_rel_err"].as_f64().unwrap();
    assert!(
        flushed(&none) > 100 && flushed(&amax) < flushed(&none),
        "flushed to zero: unscaled {}, amax {}",
        flushed(&none),
        flushed(&amax)
    );
    assert!(err_of(&amax) < err_of(&none));
    assert_eq!(none["samples"], amax["samples"]);

    // The text output states the scales.
    let text = ok(&[
        "accuracy",
        "lmul",
        "--dist",
        &dist,
        "--samples",
        "4096",
        "--scale",
        "amax",
    ]);
    assert!(
        text.contains(&format!("e4m3: x 2^{sx}, y 2^{sy}")),
        "the text names the e4m3 scales:\n{text}"
    );
    assert!(text.contains("largest finite |x| = 3,"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn scale_is_checked_and_only_lmul_takes_amax() {
    let e = err(&["accuracy", "lmul", "--scale", "max", "--samples", "4096"]);
    assert!(e.contains("max") && e.contains("amax"), "{e}");
    for study in ["bitmod", "dfp"] {
        let e = err(&["accuracy", study, "--scale", "amax", "--samples", "8192"]);
        assert!(
            e.contains("--scale amax applies to the lmul study only") && e.contains(study),
            "{e}"
        );
    }
    // The default and an explicit `none` agree.
    let a = ok(&["accuracy", "dfp", "--samples", "8192", "--json"]);
    let b = ok(&[
        "accuracy",
        "dfp",
        "--samples",
        "8192",
        "--scale",
        "none",
        "--json",
    ]);
    assert_eq!(a, b);
}
