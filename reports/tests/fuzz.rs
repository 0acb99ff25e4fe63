//! Fuzzing of the `.npy` reader: whatever the bytes, no panic, no hang, no allocation the file
//! does not justify, and an error that names the file and the byte offset. Also headers that
//! announce more than the file holds: 2 GB arrays, shapes beyond 64 bits, 4 GB headers.
//! Both readers are fuzzed: the float reader (`NpyArray::from_bytes`) and the any-dtype reader
//! (`NpyArray::from_bytes_any`, which the GEMM operands go through).
//!
//! `PELAB_FUZZ_CASES=100000 cargo test --release -p pelab-reports --test fuzz` runs the long
//! mode (see docs/verification.md).

#[path = "../../sim/tests/common/fuzz.rs"]
mod fuzz;

use npyz::WriterBuilder;
use pelab_reports::accuracy::{read_npy, read_npy_any, NpyArray, NpyValues};
use pelab_sim::array::Cell;
use proptest::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// `data` as a `.npy` file of dtype `descr`, shape `shape` and order `order`, written by npyz.
fn npy<T: npyz::AutoSerialize + Copy>(
    descr: &str,
    shape: &[u64],
    order: npyz::Order,
    data: &[T],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .dtype(npyz::DType::Plain(descr.parse().unwrap()))
        .shape(shape)
        .order(order)
        .writer(&mut out)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    out
}

/// `v1` (a version-1.0 file) rewritten as version 2.0, whose header length has four bytes.
fn version2(v1: &[u8]) -> Vec<u8> {
    let len = u16::from_le_bytes([v1[8], v1[9]]) as u32;
    let mut out = b"\x93NUMPY\x02\x00".to_vec();
    out.extend(len.to_le_bytes());
    out.extend(&v1[10..]);
    out
}

/// A version-1.0 preamble followed by `header` and `data`.
fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// Valid files: float32 and float64, both byte orders, C and Fortran order, 1-D and 2-D,
/// versions 1.0 and 2.0.
fn seeds() -> Vec<Vec<u8>> {
    let f4 = npy(
        "<f4",
        &[2, 3],
        npyz::Order::C,
        &[1.0f32, -2.5, 0.0, 3.0e38, 1e-40, 7.0],
    );
    vec![
        version2(&f4),
        f4,
        npy(
            ">f8",
            &[3, 2],
            npyz::Order::Fortran,
            &[1.0f64, 2.0, -0.0, 1e300, 5.0, 6.0],
        ),
        npy("<f8", &[4], npyz::Order::C, &[0.5f64, 0.25, 0.125, 0.0625]),
    ]
}

/// Words of `.npy` headers, for token soups and insertions.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\n",
    "'",
    "\"",
    "'descr'",
    "'<f4'",
    "'<f8'",
    "'>f4'",
    "'|u1'",
    "'<i4'",
    "'O'",
    "'fortran_order'",
    "True",
    "False",
    "None",
    "'shape'",
    "0x10",
    "0b1",
    "0o7",
    "1j",
    "-",
    "+",
    "b'x'",
    "\\",
    "\\x00",
    "'''",
    "[('a', '<f8')]",
];

/// Headers made of [`TOKENS`] behind a correct preamble, then a few data bytes.
fn header_soups() -> impl Strategy<Value = fuzz::Input> {
    let tokens: Vec<&str> = TOKENS.iter().chain(fuzz::ODD_NUMBERS).copied().collect();
    (
        proptest::collection::vec(proptest::sample::select(tokens), 0..48),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(t, data)| fuzz::Input(with_header(&t.concat(), &data)))
}

#[test]
fn seeds_are_valid() {
    for s in seeds() {
        let a = NpyArray::from_bytes(&s, Path::new("seed.npy")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!a.data.is_empty());
    }
}

#[test]
fn fuzz_npy() {
    let file = "fuzz.npy";
    let path = Path::new(file);
    let strategy = prop_oneof![3 => fuzz::inputs(seeds(), TOKENS), 1 => header_soups()];
    let cells = [
        Cell::parse("lmul", "e4m3", Some("saturate")).unwrap(),
        Cell::parse("int16fma", "int16", Some("wrap")).unwrap(),
    ];
    let s = fuzz::run("npy", strategy, |bytes| {
        let any = check_any(bytes, path, &cells)?;
        match NpyArray::from_bytes(bytes, path) {
            Ok(a) => {
                // What reads must be usable: as weights (or a clear error naming the file).
                if let Err(e) = a.rows(path) {
                    let msg = e.to_string();
                    if !msg.contains(file) {
                        return Err(format!("the error does not name the file: {msg}"));
                    }
                }
                // The any-dtype reader reads a float file the same way, bit for bit.
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let same = match &any {
                    Some(b) => match &b.values {
                        NpyValues::Float(v) => b.shape == a.shape && bits(v) == bits(&a.data),
                        _ => false,
                    },
                    None => false,
                };
                if !same {
                    return Err(format!(
                        "the float reader read shape {:?}; the any-dtype reader {any:?}",
                        a.shape
                    ));
                }
                Ok(true)
            }
            Err(e) => fuzz::names_file_and_place(&e.to_string(), file).map(|_| false),
        }
    });
    assert!(
        s.accepted > 0,
        "no mutated file was valid: the seeds are not reached"
    );
}

/// The any-dtype reader on `bytes`: an accepted array must be usable as a GEMM operand of each
/// of `cells` (or give an error naming the file); a refusal must name the file and a byte
/// offset. Returns the array read.
fn check_any(
    bytes: &[u8],
    path: &Path,
    cells: &[Cell],
) -> Result<Option<pelab_reports::accuracy::NpyAny>, String> {
    let file = path.to_str().unwrap();
    match NpyArray::from_bytes_any(bytes, path) {
        Ok(a) => {
            let count = a.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            let count = if a.shape.contains(&0) { Some(0) } else { count };
            if count != Some(a.values.len()) {
                return Err(format!("{} values for shape {:?}", a.values.len(), a.shape));
            }
            for cell in cells {
                if let Err(e) = pelab_reports::gemm::operand(&a, path, cell) {
                    let msg = e.to_string();
                    if !msg.contains(file) {
                        return Err(format!("the error does not name the file: {msg}"));
                    }
                }
            }
            Ok(Some(a))
        }
        Err(e) => fuzz::names_file_and_place(&e.to_string(), file).map(|_| None),
    }
}

/// Integer files for the any-dtype reader: unsigned and signed, every width, both byte orders,
/// C and Fortran order.
fn int_seeds() -> Vec<Vec<u8>> {
    vec![
        npy(
            "|u1",
            &[2, 3],
            npyz::Order::C,
            &[0u8, 1, 0x7F, 0x80, 0xFF, 9],
        ),
        npy(
            "<u2",
            &[3, 2],
            npyz::Order::Fortran,
            &[0u16, 0x3C00, 0xFFFF, 1, 2, 3],
        ),
        npy(
            ">u4",
            &[2, 2],
            npyz::Order::C,
            &[0u32, 0x3F80_0000, 0xFFFF_FFFF, 5],
        ),
        npy("<u8", &[1, 3], npyz::Order::C, &[0u64, 1 << 40, 7]),
        npy("|i1", &[2, 2], npyz::Order::C, &[-128i8, 127, -1, 0]),
        npy(
            ">i2",
            &[2, 3],
            npyz::Order::Fortran,
            &[-32768i16, 32767, -1, 0, 5, -5],
        ),
        npy("<i4", &[2, 2], npyz::Order::C, &[70000i32, -3, 0, 1]),
        npy("<i8", &[4], npyz::Order::C, &[i64::MIN, -1, 0, i64::MAX]),
    ]
}

#[test]
fn int_seeds_are_valid_for_the_any_dtype_reader() {
    for s in int_seeds() {
        let a =
            NpyArray::from_bytes_any(&s, Path::new("seed.npy")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!a.values.is_empty());
        // The float reader refuses them, naming the dtype.
        let e = NpyArray::from_bytes(&s, Path::new("seed.npy"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("dtype"), "{e}");
    }
}

#[test]
fn fuzz_npy_any() {
    let file = "fuzz.npy";
    let path = Path::new(file);
    let cells = [
        Cell::parse("lmul", "e4m3", Some("saturate")).unwrap(),
        Cell::parse("fp16mac", "fp16", None).unwrap(),
        Cell::parse("int16fma", "int16", Some("saturate")).unwrap(),
    ];
    let mut all = int_seeds();
    all.extend(seeds());
    let strategy = prop_oneof![3 => fuzz::inputs(all, TOKENS), 1 => header_soups()];
    let s = fuzz::run("npy-any", strategy, |bytes| {
        check_any(bytes, path, &cells).map(|a| a.is_some())
    });
    assert!(
        s.accepted > 0,
        "no mutated file was valid: the seeds are not reached"
    );
}

/// The error of reading `bytes` as `name`, which must come at once and name the file and a
/// byte offset; the any-dtype reader must refuse it the same way.
fn npy_error(bytes: &[u8], name: &str) -> String {
    let t = Instant::now();
    match NpyArray::from_bytes_any(bytes, Path::new(name)) {
        Ok(a) => panic!(
            "{name}: the any-dtype reader read {} values",
            a.values.len()
        ),
        Err(e) => fuzz::names_file_and_place(&e.to_string(), name).unwrap(),
    }
    let err = match NpyArray::from_bytes(bytes, Path::new(name)) {
        Ok(a) => panic!("{name}: read {} values without error", a.data.len()),
        Err(e) => e.to_string(),
    };
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "{name}: took {:?}",
        t.elapsed()
    );
    fuzz::names_file_and_place(&err, name).unwrap();
    err
}

#[test]
fn headers_announcing_more_than_the_file_are_an_error_without_allocation() {
    let header = |shape: &str, descr: &str| {
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n")
    };
    // 2 GB of float32 announced, 16 bytes present.
    let err = npy_error(
        &with_header(&header("(536870912,)", "<f4"), &[0; 16]),
        "2gb.npy",
    );
    assert!(
        err.contains("2147483648 data bytes") && err.contains("16 data bytes follow it"),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");
    // A shape whose element count overflows 64 bits (npyz would multiply unchecked).
    for shape in [
        "(4294967296, 4294967296)",
        "(0x4000000000000000, 8)",
        "(3, 0, 2**64)",
    ] {
        let err = npy_error(&with_header(&header(shape, "<f8"), &[]), "huge.npy");
        assert!(
            err.contains("more than 2^64 elements") || err.contains("not a valid"),
            "{shape}: {err}"
        );
    }
    // Elements that fit in 64 bits but whose bytes do not.
    let err = npy_error(
        &with_header(&header("(4611686018427387904,)", "<f8"), &[]),
        "b.npy",
    );
    assert!(err.contains("the shape is too large"), "{err}");
    // A version-2.0 header length of 4 GB in a file of 20 bytes.
    let mut b = b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec();
    b.extend(b"{'descr': '<f4'}");
    let err = npy_error(&b, "long.npy");
    assert!(
        err.contains("bytes 8..12: the header length 4294967295 runs past"),
        "{err}"
    );
    // Brackets nested 10^4 deep (npyz's literal parser recurses).
    let nested = format!("{}{}", "(".repeat(10_000), ")".repeat(10_000));
    let err = npy_error(&with_header(&nested, &[]), "deep.npy");
    assert!(
        err.contains("bytes 10..20010: a header of 20000 bytes is longer"),
        "{err}"
    );
    let nested = format!("{}{}", "[".repeat(20), "]".repeat(20));
    let err = npy_error(&with_header(&nested, &[]), "deep.npy");
    assert!(
        err.contains("byte 18: the header nests brackets more than 8 deep"),
        "{err}"
    );
}

#[test]
fn read_npy_names_the_path_of_a_truncated_file() {
    let dir = std::env::temp_dir().join(format!("pelab-fuzz-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cut.npy");
    let whole = &seeds()[1];
    std::fs::write(&path, whole).unwrap();
    assert_eq!(read_npy(&path).unwrap().data.len(), 6);
    std::fs::write(&path, &whole[..whole.len() - 3]).unwrap();
    let err = read_npy(&path).unwrap_err().to_string();
    let shown = path.display().to_string();
    assert!(err.contains("truncated"), "{err}");
    fuzz::names_file_and_place(&err, &shown).unwrap();
    let err = read_npy_any(&path).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    fuzz::names_file_and_place(&err, &shown).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
