//! `pelab gemm` end to end: .npy operands written here, C read back and checked against
//! oracles computed here (the reference GEMM of `pelab_sim` on operands converted here, a
//! plain i64 dot product for int16fma), its cycles against the analytic timing, one run of the
//! array's Verilog on Icarus, and errors that name the file (nothing written on failure).

mod common;

use common::{err, ok};
use pelab_reports::accuracy::{read_npy_any, write_npy, NpyKind};
use pelab_sim::array::{gemm, timing, ArrayDims, Cell, Dataflow, GemmDims};
use pelab_sim::format::{Format, Overflow, Rounding};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-gemm-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A version-1.0 .npy file written by hand: `descr`, Fortran order, `shape`, raw data.
fn npy_fortran(path: &Path, descr: &str, shape: [usize; 2], data: &[u8]) {
    let mut h = format!(
        "{{'descr': '{descr}', 'fortran_order': True, 'shape': ({}, {}), }}",
        shape[0], shape[1]
    );
    let pad = (64 - (10 + h.len() + 1) % 64) % 64;
    h.push_str(&" ".repeat(pad));
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(data);
    std::fs::write(path, b).unwrap();
}

/// Column-major order of the row-major `rows x cols` matrix `v`.
fn col_major<T: Copy>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..rows * cols)
        .map(|q| v[(q % rows) * cols + q / rows])
        .collect()
}

/// C as written: shape, dtype and the 32-bit codes (the data section's last `4·M·N` bytes).
fn read_c(path: &Path) -> (Vec<usize>, String, Vec<u32>) {
    let a = read_npy_any(path).unwrap();
    let n = a.shape.iter().product::<usize>();
    let raw = std::fs::read(path).unwrap();
    let codes = raw[raw.len() - 4 * n..]
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert!(!a.fortran_order);
    assert_eq!(a.size, 4);
    assert!(matches!(a.kind, NpyKind::Float | NpyKind::Signed));
    (a.shape, a.dtype, codes)
}

fn json(args: &[&str]) -> Value {
    let mut v: Vec<&str> = args.to_vec();
    v.push("--json");
    serde_json::from_str(&ok(&v)).unwrap()
}

/// No temporary file of an atomic write is left in `dir`.
fn no_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp"), "temporary file left: {name}");
    }
}

fn assert_timing(v: &Value, df: Dataflow, r: usize, c: usize, g: GemmDims, lanes: usize) {
    let t = timing(df, ArrayDims { rows: r, cols: c }, g, lanes, 1).unwrap();
    assert_eq!(v["cycles"], t.cycles, "{v}");
    assert_eq!(v["folds"], t.folds);
    assert_eq!(v["cycles_per_fold"], t.cycles_per_fold);
    assert_eq!(v["last_output_cycle"], t.last_output_cycle);
    let ks = g.k.div_ceil(lanes);
    let util = (g.m * g.n * ks) as f64 / ((r * c) as f64 * (t.cycles + 1) as f64);
    assert!(
        (v["utilization"].as_f64().unwrap() - util).abs() < 1e-12,
        "{v}"
    );
    assert_eq!(v["shape"]["m"], g.m);
    assert_eq!(v["shape"]["k"], g.k);
    assert_eq!(v["shape"]["n"], g.n);
}

#[test]
fn lmul_e4m3_os_model_equals_the_reference_gemm() {
    let dir = scratch("lmul");
    let (m, k, n) = (9, 13, 6);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-3.0f32..3.0)).collect();
    let mut b: Vec<f64> = (0..k * n).map(|_| rng.gen_range(-3.0..3.0)).collect();
    b[0] = 1000.0; // beyond E4M3's 448
    b[1] = 0.5; // exact
    let (pa, pb, pc) = (dir.join("a.npy"), dir.join("b.npy"), dir.join("out/c.npy"));
    write_npy(&pa, &[m, k], &a).unwrap();
    let bf: Vec<u8> = col_major(&b, k, n)
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    npy_fortran(&pb, "<f8", [k, n], &bf);
    let args = [
        "gemm",
        "lmul",
        "--format",
        "e4m3",
        "--array",
        "4x4",
        "--dataflow",
        "os",
        "--a",
        s(&pa),
        "--b",
        s(&pb),
        "-o",
        s(&pc),
    ];
    let v = json(&args);
    // The default policy: the first the lmul cells list for e4m3.
    let policy = pelab_hdl::array::cell::cells()
        .into_iter()
        .find(|c| c.pe == "lmul" && c.format == "e4m3")
        .unwrap()
        .policy;
    assert_eq!(v["policy"], policy.as_str());
    assert_eq!(v["sim"], "model");
    assert_eq!(v["output"], s(&pc));
    // The oracle: operands converted here, pelab_sim's reference GEMM.
    let cell = Cell::parse("lmul", "e4m3", Some(&policy)).unwrap();
    let f = Format::E4M3;
    let ovf = Overflow::parse(&policy).unwrap();
    let conv = |x: f64| f.from_f64(x, Rounding::NearestEven, ovf).unwrap();
    let ac: Vec<u64> = a.iter().map(|&x| conv(x as f64)).collect();
    let bc: Vec<u64> = b.iter().map(|&x| conv(x)).collect();
    let want = gemm(&cell, m, k, n, &ac, &bc);
    let (shape, dtype, c) = read_c(&pc);
    assert_eq!(shape, vec![m, n]);
    assert_eq!(dtype, "<f4");
    assert_eq!(c, want);
    // Inexact conversions: values that are no E4M3 value (the set of all 256 codes' values).
    let values: Vec<f64> = (0..256).map(|c| f.to_f64(c)).collect();
    let inexact = a
        .iter()
        .map(|&x| x as f64)
        .chain(b.iter().copied())
        .filter(|x| !values.contains(x))
        .count();
    assert!(inexact > 0);
    assert_eq!(v["converted"], inexact);
    assert_timing(&v, Dataflow::Os, 4, 4, GemmDims { m, k, n }, 1);
    no_temporaries(&dir.join("out"));
    // The text output says the same.
    let text = ok(&args);
    for want in [
        "M x K x N = 9 x 13 x 6".to_string(),
        "4x4, os dataflow".into(),
        "simulator    model".into(),
        format!("folds        {}", v["folds"]),
        format!("cycles       {}", v["cycles"]),
        "utilization".into(),
        "round to nearest even".into(),
        format!("{} not exact", v["operands"]["a"]["conversion"]["inexact"]),
        s(&pc).to_string(),
    ] {
        assert!(text.contains(&want), "'{want}' missing from:\n{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn int16fma_ws_wraps_like_an_i64_dot_product() {
    let dir = scratch("int16");
    let (m, k, n) = (5, 9, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    // Full-range values: sums of 9 products overflow int32, so the wrap is exercised.
    let a: Vec<i16> = (0..m * k).map(|_| rng.gen()).collect();
    let b: Vec<i32> = (0..k * n).map(|_| rng.gen::<i16>() as i32).collect();
    let (pa, pb, pc) = (dir.join("a.npy"), dir.join("b.npy"), dir.join("c.npy"));
    let ab: Vec<u8> = a.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_fortran(
        &pa,
        "<i2",
        [m, k],
        &col_major(&ab.chunks(2).collect::<Vec<_>>(), m, k).concat(),
    );
    write_npy(&pb, &[k, n], &b).unwrap();
    let v = json(&[
        "gemm",
        "int16fma",
        "--format",
        "int16",
        "--policy",
        "wrap",
        "--array",
        "3x4",
        "--dataflow",
        "ws",
        "--a",
        s(&pa),
        "--b",
        s(&pb),
        "-o",
        s(&pc),
    ]);
    let (shape, dtype, c) = read_c(&pc);
    assert_eq!(shape, vec![m, n]);
    assert_eq!(dtype, "<i4");
    let mut wrapped_somewhere = false;
    for i in 0..m {
        for j in 0..n {
            let dot: i64 = (0..k)
                .map(|t| a[i * k + t] as i64 * b[t * n + j] as i64)
                .sum();
            wrapped_somewhere |= dot != dot as i32 as i64;
            assert_eq!(c[i * n + j] as i32, dot as i32, "C[{i}][{j}]");
        }
    }
    assert!(wrapped_somewhere, "no sum overflowed int32");
    assert_eq!(v["converted"], 0);
    assert_eq!(v["policy"], "wrap");
    assert_eq!(v["dataflow"], "ws");
    assert_timing(&v, Dataflow::Ws, 3, 4, GemmDims { m, k, n }, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn icarus_runs_the_array_verilog_to_the_models_c() {
    let dir = scratch("icarus");
    let (m, k, n) = (4, 5, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
    let (pa, pb) = (dir.join("a.npy"), dir.join("b.npy"));
    write_npy(&pa, &[m, k], &a).unwrap();
    write_npy(&pb, &[k, n], &b).unwrap();
    let (pm, pi) = (dir.join("model.npy"), dir.join("icarus.npy"));
    let work = dir.join("work");
    let base = [
        "gemm",
        "fp16mac",
        "--format",
        "fp16",
        "--array",
        "2x3",
        "--dataflow",
        "ws",
        "--a",
        s(&pa),
        "--b",
        s(&pb),
        "--work",
        s(&work),
    ];
    let run = |out: &Path, sim: &str| {
        let mut args = base.to_vec();
        args.extend(["-o", s(out), "--sim", sim]);
        json(&args)
    };
    let vm = run(&pm, "model");
    let vi = run(&pi, "icarus");
    // The same C from the model and the Verilog, equal to the reference GEMM.
    let cell = Cell::parse("fp16mac", "fp16", None).unwrap();
    let conv = |x: &f32| {
        Format::FP16
            .from_f64(*x as f64, Rounding::NearestEven, Overflow::Ieee)
            .unwrap()
    };
    let ac: Vec<u64> = a.iter().map(conv).collect();
    let bc: Vec<u64> = b.iter().map(conv).collect();
    let want = gemm(&cell, m, k, n, &ac, &bc);
    assert_eq!(read_c(&pi).2, want);
    assert_eq!(std::fs::read(&pm).unwrap(), std::fs::read(&pi).unwrap());
    assert_eq!(vi["sim"], "icarus");
    assert_eq!(vi["sim_run"]["status"], "passed");
    assert_eq!(vi["sim_run"]["failed"], 0);
    assert!(vi["cycles_compared"].as_u64().unwrap() > vi["last_output_cycle"].as_u64().unwrap());
    assert_timing(&vi, Dataflow::Ws, 2, 3, GemmDims { m, k, n }, 1);
    for key in [
        "cycles",
        "folds",
        "utilization",
        "last_output_cycle",
        "converted",
    ] {
        assert_eq!(vi[key], vm[key], "{key}");
    }
    let wd = PathBuf::from(vi["work_dir"].as_str().unwrap());
    assert!(wd
        .join(format!("{}.v", vi["module"].as_str().unwrap()))
        .is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_an_error_naming_the_file_and_writes_nothing() {
    let dir = scratch("bad");
    let (pa, pb, pc) = (dir.join("a.npy"), dir.join("b.npy"), dir.join("c.npy"));
    write_npy(&pa, &[3, 4], &[1.0f32; 12]).unwrap();
    write_npy(&pb, &[5, 2], &[1.0f32; 10]).unwrap();
    let args = |b: &Path, df: &str, sim: &str| {
        vec![
            "gemm".to_string(),
            "lmul".into(),
            "--format".into(),
            "e4m3".into(),
            "--array".into(),
            "2x2".into(),
            "--dataflow".into(),
            df.into(),
            "--a".into(),
            s(&pa).into(),
            "--b".into(),
            s(b).into(),
            "-o".into(),
            s(&pc).into(),
            "--sim".into(),
            sim.into(),
        ]
    };
    let e = |v: Vec<String>| err(&v.iter().map(|x| x.as_str()).collect::<Vec<_>>());
    let msg = e(args(&pb, "os", "model"));
    assert!(
        msg.contains(s(&pa)) && msg.contains(s(&pb)) && msg.contains("K = 4"),
        "{msg}"
    );
    let msg = e(args(&pb, "is", "model"));
    assert!(msg.contains("no RTL for the is dataflow"), "{msg}");
    let msg = e(args(&pb, "os", "rusthdl"));
    assert!(msg.contains("model, icarus, verilator, gates"), "{msg}");
    let p1 = dir.join("one_d.npy");
    write_npy(&p1, &[4], &[1.0f32; 4]).unwrap();
    let msg = e(args(&p1, "os", "model"));
    assert!(msg.contains(s(&p1)) && msg.contains("2-D"), "{msg}");
    let pw = dir.join("wide.npy");
    write_npy(&pw, &[4, 2], &[1u16, 2, 3, 4, 5, 300, 7, 8]).unwrap();
    let msg = e(args(&pw, "os", "model"));
    assert!(
        msg.contains(s(&pw)) && msg.contains("element [2, 1]"),
        "{msg}"
    );
    assert!(!pc.exists(), "C written despite an error");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// bitmod: float weights quantized row by row, FP16 activations, run on Verilator; C (scaled
/// back by the channel scales) near the float product, the timing the closed form with beats,
/// groups and the dequantizer's latency, computed here; inconsistent raw weights refused.
#[test]
fn bitmod_quantizes_float_weights_and_runs_on_verilator() {
    let dir = scratch("bitmod");
    let (m, k, n) = (3, 200, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let gauss = |r: &mut ChaCha8Rng| {
        // Box-Muller from two uniforms.
        let (u, v): (f64, f64) = (r.gen_range(1e-12..1.0), r.gen());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let a: Vec<f32> = (0..m * k).map(|_| gauss(&mut rng) as f32).collect();
    // Activations exact in FP16 (multiples of 1/16 below 4).
    let b: Vec<f32> = (0..k * n)
        .map(|_| rng.gen_range(-64i32..64) as f32 / 16.0)
        .collect();
    let (pa, pb, pc) = (dir.join("a.npy"), dir.join("b.npy"), dir.join("c.npy"));
    write_npy(&pa, &[m, k], &a).unwrap();
    write_npy(&pb, &[k, n], &b).unwrap();
    let v = json(&[
        "gemm",
        "bitmod",
        "--format",
        "fp16",
        "--array",
        "2x2",
        "--sim",
        "verilator",
        "--a",
        s(&pa),
        "--b",
        s(&pb),
        "-o",
        s(&pc),
    ]);
    assert_eq!(v["channel_scales_applied"], true, "{v}");
    assert_eq!(v["converted"], 0, "{v}");
    assert_eq!(v["sim"], "verilator");
    // Groups of 128 and 72 weights: 64 + 36 cycles of beats per fold.
    let per_fold = 2 + 2 + 64 + 36 - 2;
    // Row folds (M over 2 rows) times column folds (N over 2 columns).
    let folds = 2;
    assert_eq!(v["cycles_per_fold"], per_fold, "{v}");
    assert_eq!(v["cycles"], folds * per_fold - 1, "{v}");
    assert_eq!(
        v["last_output_cycle"],
        folds * per_fold - 1 + 2 + 1 + 9,
        "{v}"
    );
    let (shape, _, c) = read_c(&pc);
    assert_eq!(shape, vec![m, n]);
    let (mut err2, mut ref2) = (0f64, 0f64);
    for i in 0..m {
        for j in 0..n {
            let e: f64 = (0..k)
                .map(|t| a[i * k + t] as f64 * b[t * n + j] as f64)
                .sum();
            let got = f32::from_bits(c[i * n + j]) as f64;
            err2 += (got - e).powi(2);
            ref2 += e * e;
        }
    }
    let rel = (err2 / ref2).sqrt();
    // 4-bit weights: about 10% relative RMS error on Gaussian weights.
    assert!(rel < 0.2, "relative RMS error {rel}");
    // Raw elements {scale, select, code} whose select changes inside a group are refused.
    let raw: Vec<u16> = (0..k)
        .map(|q| if q == 5 { 0x7F41 } else { 0x7F51 })
        .collect();
    let pr = dir.join("raw.npy");
    write_npy(&pr, &[1, k], &raw).unwrap();
    let e = err(&[
        "gemm",
        "bitmod",
        "--format",
        "fp16",
        "--array",
        "2x2",
        "--a",
        s(&pr),
        "--b",
        s(&pb),
        "-o",
        s(&dir.join("x.npy")),
    ]);
    assert!(e.contains("raw.npy") && e.contains("A[0][5]"), "{e}");
    assert!(!dir.join("x.npy").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
