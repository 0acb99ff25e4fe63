//! The GEMM driver's operands and runs against independent oracles: float inputs equal to
//! `Format::from_f64` element by element (round to nearest even, the cell's overflow policy),
//! their inexact count against the set of every code's value, codes and int16 values passed
//! through, the .npy writer read back, the model's C against the reference GEMM and its cycles
//! against the analytic timing, and an error naming the file for every bad input. Input files
//! are .npy bytes written here by hand (any dtype, byte order and storage order).

use pelab_reports::accuracy::{read_npy_any, write_npy, NpyKind, NpyValues};
use pelab_reports::gemm::{array_spec, read_operand, run, Conversion, Engine, GemmJob};
use pelab_sim::array::{timing, ArrayDims, Cell, Dataflow, GemmDims};
use pelab_sim::format::{Format, Overflow, Rounding};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh scratch directory for this test binary.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-gemm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
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

/// The `rows x cols` row-major matrix `v` stored in C or Fortran order.
fn storage<T: Copy>(v: &[T], rows: usize, cols: usize, fortran: bool) -> Vec<T> {
    if !fortran {
        return v.to_vec();
    }
    (0..rows * cols)
        .map(|q| v[(q % rows) * cols + q / rows])
        .collect()
}

/// Writes `v` (row-major, `rows x cols`) as `name` with dtype `descr`, each element encoded by
/// `enc`, in C or Fortran order.
fn write_matrix<T: Copy>(
    dir: &Path,
    name: &str,
    descr: &str,
    (rows, cols): (usize, usize),
    fortran: bool,
    v: &[T],
    enc: impl Fn(T) -> Vec<u8>,
) -> PathBuf {
    let data: Vec<u8> = storage(v, rows, cols, fortran)
        .into_iter()
        .flat_map(enc)
        .collect();
    let p = dir.join(name);
    std::fs::write(&p, npy_bytes(descr, fortran, &[rows, cols], &data)).unwrap();
    p
}

fn f64_le(x: f64) -> Vec<u8> {
    x.to_le_bytes().to_vec()
}

fn f32_be(x: f32) -> Vec<u8> {
    x.to_be_bytes().to_vec()
}

/// Values that probe a conversion: random magnitudes over a wide range, ties, zeros of both
/// signs, subnormal-sized and huge values.
fn probe_values(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    let mut v = vec![
        0.0, -0.0, 1.0, -1.5, 1.0625,  // an E4M3 tie between 1 and 1.125: rounds to even (1)
        1.1875,  // an E4M3 tie between 1.125 and 1.25: rounds to even (1.25)
        3.0e-3,  // E4M3 subnormal range
        1.0e-9,  // below every narrow format's subnormals
        500.0,   // beyond E4M3's 448
        -7.0e4,  // beyond E5M2's 57344 and FP16's 65504
        1.0e39,  // beyond FP32
        1.0e-40, // FP32 subnormal
    ];
    while v.len() < n {
        let e = rng.gen_range(-20..20);
        let m: f64 = rng.gen_range(1.0..2.0);
        let s = if rng.gen() { -1.0 } else { 1.0 };
        v.push(s * m * 2f64.powi(e));
    }
    v
}

/// Whether `x` is exactly the value of some code of `f` (an oracle independent of
/// `from_f64`): the set of every code's value for formats of at most 16 bits, `as f32` for
/// FP32. An Inf stays Inf only under the `ieee` policy (`saturate` clamps it).
fn exact_in(f: &Format, ovf: Overflow, x: f64) -> bool {
    if x.is_nan() {
        return f.has_nan();
    }
    if x.is_infinite() {
        return f.has_inf() && ovf == Overflow::Ieee;
    }
    if f.width() == 32 {
        return (x as f32) as f64 == x;
    }
    let values: HashSet<u64> = (0..1u64 << f.width())
        .map(|c| f.to_f64(c))
        .filter(|v| !v.is_nan())
        .map(|v| (v + 0.0).to_bits())
        .collect();
    values.contains(&(x + 0.0).to_bits())
}

#[test]
fn float_inputs_are_from_f64_per_element_and_inexact_counts_agree() {
    let dir = scratch("float");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let configs = [
        ("lmul", "e4m3", "saturate"),
        ("lmul", "e4m3", "ieee"),
        ("lmul", "e5m2", "ieee"),
        ("fpmul", "bf16", "saturate"),
        ("lmul", "e2m1", "saturate"),
        ("fpmul", "fp32", "ieee"),
        ("fp16mac", "fp16", "ieee"),
    ];
    for (pe, fmt_name, policy) in configs {
        let cell = Cell::parse(pe, fmt_name, Some(policy)).unwrap();
        let f = Format::parse(fmt_name).unwrap();
        let ovf = Overflow::parse(policy).unwrap();
        let (rows, cols) = (6, 9);
        let mut v = probe_values(&mut rng, rows * cols);
        if f.has_nan() {
            v[rows * cols - 1] = f64::NAN;
        }
        if f.has_inf() {
            v[rows * cols - 2] = f64::NEG_INFINITY;
        }
        for fortran in [false, true] {
            // float64, little-endian.
            let p = write_matrix(&dir, "x64.npy", "<f8", (rows, cols), fortran, &v, f64_le);
            let op = read_operand(&p, &cell).unwrap();
            assert_eq!((op.rows, op.cols, op.fortran_order), (rows, cols, fortran));
            assert_eq!(op.dtype, "float64");
            let want: Vec<u64> = v
                .iter()
                .map(|&x| f.from_f64(x, Rounding::NearestEven, ovf).unwrap())
                .collect();
            assert_eq!(op.codes, want, "{pe} {fmt_name} {policy} float64");
            let inexact = v.iter().filter(|&&x| !exact_in(&f, ovf, x)).count();
            assert!(inexact > 0 && inexact < v.len(), "{fmt_name}: {inexact}");
            assert_eq!(
                op.conversion,
                Conversion::Rounded {
                    format: f.name(),
                    overflow: policy.into(),
                    inexact
                },
                "{pe} {fmt_name} {policy}"
            );
            // float32, big-endian: the float32 values are what is converted.
            // (Values beyond float32 stay finite: Inf is placed on purpose above.)
            let v32: Vec<f32> = v
                .iter()
                .map(|&x| match x as f32 {
                    y if y.is_infinite() && x.is_finite() => f32::MAX.copysign(y),
                    y => y,
                })
                .collect();
            let p = write_matrix(&dir, "x32.npy", ">f4", (rows, cols), fortran, &v32, f32_be);
            let op = read_operand(&p, &cell).unwrap();
            assert_eq!(op.dtype, "float32");
            let want: Vec<u64> = v32
                .iter()
                .map(|&x| f.from_f64(x as f64, Rounding::NearestEven, ovf).unwrap())
                .collect();
            assert_eq!(op.codes, want, "{pe} {fmt_name} {policy} float32");
            let inexact32 = v32
                .iter()
                .filter(|&&x| !exact_in(&f, ovf, x as f64))
                .count();
            assert_eq!(op.conversion.inexact(), inexact32);
        }
    }
    // The ties of the probe values round to even in E4M3: 1.0625 -> 1, 1.1875 -> 1.25.
    let e4m3 = Cell::parse("lmul", "e4m3", Some("saturate")).unwrap();
    let p = write_matrix(
        &dir,
        "ties.npy",
        "<f8",
        (1, 2),
        false,
        &[1.0625, 1.1875],
        f64_le,
    );
    assert_eq!(read_operand(&p, &e4m3).unwrap().codes, vec![0x38, 0x3A]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsigned_codes_pass_through_in_every_width_and_order() {
    let dir = scratch("codes");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (pe, fmt, policy, width) in [
        ("lmul", "e4m3", "saturate", 8u32),
        ("fpmul", "bf16", "ieee", 16),
        ("fp16mac", "fp16", "ieee", 16),
        ("int16fma", "int16", "wrap", 16),
        ("lmul", "fp32", "saturate", 32),
    ] {
        let cell = Cell::parse(pe, fmt, Some(policy)).unwrap();
        let (rows, cols) = (5, 7);
        let v: Vec<u64> = (0..rows * cols)
            .map(|_| rng.gen::<u64>() & ((1u64 << width) - 1))
            .collect();
        for (descr, bytes) in [("|u1", 1usize), ("<u2", 2), (">u4", 4), ("<u8", 8)] {
            if (bytes as u32) * 8 < width {
                continue;
            }
            for fortran in [false, true] {
                let enc = |x: u64| {
                    let le = x.to_le_bytes()[..bytes].to_vec();
                    if descr.starts_with('>') {
                        le.into_iter().rev().collect()
                    } else {
                        le
                    }
                };
                let p = write_matrix(&dir, "u.npy", descr, (rows, cols), fortran, &v, enc);
                let op = read_operand(&p, &cell).unwrap();
                assert_eq!(op.codes, v, "{pe} {fmt} {descr} fortran {fortran}");
                assert_eq!(op.conversion, Conversion::Codes);
                assert_eq!(op.dtype, format!("uint{}", bytes * 8));
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signed_integers_are_int16_values_for_int16fma() {
    let dir = scratch("int16");
    let cell = Cell::parse("int16fma", "int16", Some("saturate")).unwrap();
    let v: Vec<i64> = vec![0, 1, -1, 32767, -32768, 12345, -300, 7];
    let want: Vec<u64> = v.iter().map(|&x| (x as i16 as u16) as u64).collect();
    for (descr, bytes) in [("<i2", 2usize), ("<i4", 4), (">i8", 8)] {
        for fortran in [false, true] {
            let enc = |x: i64| {
                let le = x.to_le_bytes()[..bytes].to_vec();
                if descr.starts_with('>') {
                    le.into_iter().rev().collect()
                } else {
                    le
                }
            };
            let p = write_matrix(&dir, "i.npy", descr, (2, 4), fortran, &v, enc);
            let op = read_operand(&p, &cell).unwrap();
            assert_eq!(op.codes, want, "{descr}");
            assert_eq!(op.conversion, Conversion::Int16);
        }
    }
    // int8 values sign-extend.
    let small: Vec<i64> = vec![-128, 127, -1, 0];
    let p = write_matrix(&dir, "i1.npy", "|i1", (1, 4), false, &small, |x| {
        vec![x as i8 as u8]
    });
    let op = read_operand(&p, &cell).unwrap();
    assert_eq!(op.codes, vec![0xFF80, 0x7F, 0xFFFF, 0]);
    // Floats round to the nearest integer, ties to even, and count as inexact when changed.
    let fl = [2.5, 3.5, -2.5, 4.0, -32768.0, 32767.4];
    let p = write_matrix(&dir, "f.npy", "<f8", (2, 3), false, &fl, f64_le);
    let op = read_operand(&p, &cell).unwrap();
    let want: Vec<u64> = [2i16, 4, -2, 4, -32768, 32767]
        .iter()
        .map(|&x| x as u16 as u64)
        .collect();
    assert_eq!(op.codes, want);
    assert_eq!(op.conversion.inexact(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The error of reading `path` as an operand of `cell`; it must name the file.
fn operand_error(path: &Path, cell: &Cell) -> String {
    let e = read_operand(path, cell).unwrap_err().to_string();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(e.contains(name), "the error does not name {name}: {e}");
    e
}

#[test]
fn bad_operands_are_errors_naming_the_file() {
    let dir = scratch("bad");
    let e4m3 = Cell::parse("lmul", "e4m3", Some("saturate")).unwrap();
    let e2m1 = Cell::parse("lmul", "e2m1", Some("saturate")).unwrap();
    let int16 = Cell::parse("int16fma", "int16", Some("wrap")).unwrap();
    let w = |name: &str, descr: &str, shape: &[usize], data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, npy_bytes(descr, false, shape, data)).unwrap();
        p
    };
    let ones = |n: usize| f64_le(1.0).repeat(n);
    // Ranks other than 2, and empty dimensions.
    let e = operand_error(&w("rank1.npy", "<f8", &[4], &ones(4)), &e4m3);
    assert!(e.contains("1-D") && e.contains("2-D"), "{e}");
    let e = operand_error(&w("rank3.npy", "<f8", &[2, 2, 2], &ones(8)), &e4m3);
    assert!(e.contains("3-D"), "{e}");
    let e = operand_error(&w("empty.npy", "<f8", &[0, 3], &[]), &e4m3);
    assert!(e.contains("at least one row"), "{e}");
    let e = operand_error(&w("empty2.npy", "<f8", &[3, 0], &[]), &e4m3);
    assert!(e.contains("[3, 0]"), "{e}");
    // A code wider than the operand: named by element index.
    let mut codes = vec![0u8; 6 * 2];
    codes[2 * 5..2 * 5 + 2].copy_from_slice(&0x100u16.to_le_bytes());
    let e = operand_error(&w("wide.npy", "<u2", &[2, 3], &codes), &e4m3);
    assert!(
        e.contains("element [1, 2]") && e.contains("8-bit") && e.contains("256"),
        "{e}"
    );
    // Signed integers: int16fma only, and within int16.
    let i2: Vec<u8> = [1i16, 2].iter().flat_map(|x| x.to_le_bytes()).collect();
    let e = operand_error(&w("signed.npy", "<i2", &[1, 2], &i2), &e4m3);
    assert!(e.contains("int16fma"), "{e}");
    let i4: Vec<u8> = [1i32, 40000].iter().flat_map(|x| x.to_le_bytes()).collect();
    let e = operand_error(&w("big.npy", "<i4", &[1, 2], &i4), &int16);
    assert!(e.contains("element [0, 1]") && e.contains("40000"), "{e}");
    // NaN and Inf where the format has none; floats beyond int16.
    let e = operand_error(
        &w("nan.npy", "<f8", &[1, 2], &f64_le(f64::NAN).repeat(2)),
        &e2m1,
    );
    assert!(e.contains("element [0, 0]") && e.contains("no NaN"), "{e}");
    let inf: Vec<u8> = [1.0, f64::INFINITY].into_iter().flat_map(f64_le).collect();
    let e = operand_error(&w("inf.npy", "<f8", &[2, 1], &inf), &e4m3);
    assert!(e.contains("element [1, 0]") && e.contains("no Inf"), "{e}");
    let e = operand_error(&w("inf16.npy", "<f8", &[2, 1], &inf), &int16);
    assert!(e.contains("element [1, 0]"), "{e}");
    let e = operand_error(&w("f16.npy", "<f8", &[1, 1], &f64_le(40000.0)), &int16);
    assert!(e.contains("outside int16"), "{e}");
    // Dtypes no operand takes, a truncated file, a missing file.
    let e = operand_error(&w("half.npy", "<f2", &[1, 2], &[0; 4]), &e4m3);
    assert!(e.contains("dtype '<f2'"), "{e}");
    let e = operand_error(&w("bool.npy", "|b1", &[1, 2], &[0, 1]), &e4m3);
    assert!(e.contains("dtype '|b1'"), "{e}");
    let e = operand_error(&w("cut.npy", "<f8", &[2, 2], &ones(3)), &e4m3);
    assert!(e.contains("truncated"), "{e}");
    let e = operand_error(&dir.join("missing.npy"), &e4m3);
    assert!(e.contains("cannot read"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn job(dir: &Path, pe: &str, format: &str, df: Dataflow, r: usize, c: usize) -> GemmJob {
    GemmJob {
        spec: array_spec(pe, format, None, df, r, c).unwrap(),
        a: dir.join("a.npy"),
        b: dir.join("b.npy"),
        engine: Engine::Model,
        work: dir.join("work"),
        limit: Duration::from_secs(600),
    }
}

#[test]
fn mismatched_k_names_both_files() {
    let dir = scratch("k");
    write_npy(&dir.join("a.npy"), &[3, 4], &[1.0f32; 12]).unwrap();
    write_npy(&dir.join("b.npy"), &[5, 2], &[1.0f32; 10]).unwrap();
    let e = run(&job(&dir, "lmul", "e4m3", Dataflow::Os, 2, 2), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a.npy") && e.contains("b.npy") && e.contains("K = 4"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn model_runs_equal_the_reference_gemm_and_the_analytic_timing() {
    let dir = scratch("model");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let cases = [
        ("lmul", "e4m3", Dataflow::Os, 3, 2, (7, 5, 4)),
        ("fpmul", "bf16", Dataflow::Ws, 2, 3, (5, 9, 7)),
        ("fp16mac", "fp16", Dataflow::Ws, 4, 4, (6, 3, 9)),
        ("int16fma", "int16", Dataflow::Os, 3, 3, (4, 11, 5)),
    ];
    for (pe, fmt, df, r, c, (m, k, n)) in cases {
        let j = job(&dir, pe, fmt, df, r, c);
        let cell = j.spec.cell.sim_cell().unwrap();
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-4.0..4.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-4.0..4.0)).collect();
        write_npy(&j.a, &[m, k], &a).unwrap();
        write_npy(&j.b, &[k, n], &b).unwrap();
        let out = run(&j, &|_| {}).unwrap();
        // The oracle: the operands converted here, the reference GEMM of pelab_sim.
        let conv = |x: f32| -> u64 {
            if pe == "int16fma" {
                (x as f64).round_ties_even() as i16 as u16 as u64
            } else {
                let f = Format::parse(fmt).unwrap();
                let o = Overflow::parse(cell.policy).unwrap();
                f.from_f64(x as f64, Rounding::NearestEven, o).unwrap()
            }
        };
        let ac: Vec<u64> = a.iter().map(|&x| conv(x)).collect();
        let bc: Vec<u64> = b.iter().map(|&x| conv(x)).collect();
        let want = pelab_sim::array::gemm(&cell, m, k, n, &ac, &bc);
        assert_eq!(out.c, want, "{pe} {fmt} {df:?}");
        let t = timing(
            df,
            ArrayDims { rows: r, cols: c },
            GemmDims { m, k, n },
            cell.lanes,
            1,
        )
        .unwrap();
        assert_eq!(out.trace.cycles_scalesim, t.cycles, "{pe} {df:?}");
        assert_eq!(out.trace.folds, t.folds);
        assert_eq!(out.trace.cycles_per_fold, t.cycles_per_fold);
        assert_eq!(out.trace.last_output_cycle, t.last_output_cycle);
        assert!((out.utilization - t.utilization).abs() < 1e-12);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_npy_reads_back_bit_for_bit_and_leaves_no_temporary() {
    let dir = scratch("write");
    let codes: Vec<u32> = vec![
        0x7FC0_0000,
        0x8000_0000,
        0x3F80_0000,
        0x0000_0001,
        0xFF80_0000,
        0,
    ];
    let f: Vec<f32> = codes.iter().map(|&c| f32::from_bits(c)).collect();
    let p = dir.join("sub/c.npy");
    write_npy(&p, &[2, 3], &f).unwrap();
    let back = read_npy_any(&p).unwrap();
    assert_eq!(back.shape, vec![2, 3]);
    assert_eq!(
        (back.kind, back.size, back.fortran_order),
        (NpyKind::Float, 4, false)
    );
    assert_eq!(back.dtype, "<f4");
    let NpyValues::Float(v) = &back.values else {
        panic!("not floats")
    };
    let bits: Vec<u32> = v.iter().map(|&x| (x as f32).to_bits()).collect();
    assert_eq!(bits, codes);
    // The raw data bytes are the codes, little-endian, after the header.
    let raw = std::fs::read(&p).unwrap();
    let tail: Vec<u8> = codes.iter().flat_map(|c| c.to_le_bytes()).collect();
    assert!(raw.ends_with(&tail));
    let ints: Vec<i32> = vec![i32::MIN, -1, 0, i32::MAX];
    let q = dir.join("sub/i.npy");
    write_npy(&q, &[4, 1], &ints).unwrap();
    let back = read_npy_any(&q).unwrap();
    assert_eq!(
        (back.kind, back.size, back.dtype.as_str()),
        (NpyKind::Signed, 4, "<i4")
    );
    assert_eq!(
        back.values,
        NpyValues::Signed(ints.iter().map(|&x| x as i64).collect())
    );
    let names: Vec<String> = std::fs::read_dir(dir.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let e = write_npy(&dir.join("bad.npy"), &[2, 2], &[1.0f32; 3])
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.npy"), "{e}");
    assert!(!dir.join("bad.npy").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
