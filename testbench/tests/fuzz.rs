//! Fuzzing of the golden-vector reader: whatever the bytes, no panic, no hang, and an error
//! that names the file and the line (or byte). Also files cut short anywhere: a truncated
//! vector file is an error, never a shorter set of vectors.
//!
//! pelab only writes `.mem` files (for `$readmemh`); it reads none back.
//!
//! `PELAB_FUZZ_CASES=100000 cargo test --release -p pelab-testbench --test fuzz` runs the long
//! mode (see docs/verification.md).

#[path = "../../sim/tests/common/fuzz.rs"]
mod fuzz;

use pelab_hdl::RtlConfig;
use pelab_testbench::vectors::{generate, parse, parse_bytes};
use pelab_testbench::{CaseSet, PeVectors, Shard};

/// A PE's vectors and the configuration they are for.
struct Target {
    pe: &'static dyn PeVectors,
    cfg: RtlConfig,
    /// A valid file of a few rows.
    text: String,
}

/// Two shapes of file: a streamed PE with three narrow columns (lmul), and a cycle-by-cycle
/// PE with many columns and a `CARE` mask (bitmod).
fn targets() -> Vec<Target> {
    let make = |id: &str, cfg: RtlConfig, set: CaseSet, rows: usize| {
        let pe = pelab_testbench::pe(id).unwrap().vectors;
        let mut v = generate(pe, &cfg, set, 7, Shard::ALL).unwrap();
        v.rows.truncate(rows);
        Target {
            pe,
            cfg,
            text: v.to_text(),
        }
    };
    vec![
        make(
            "lmul",
            RtlConfig::new("e4m3", "saturate", 0),
            CaseSet::Count(40),
            40,
        ),
        make(
            "bitmod",
            RtlConfig::new("fp16", "bitmod34", 0),
            CaseSet::Count(1),
            12,
        ),
    ]
}

/// Words and delimiters of vector files, for token soups and insertions.
const TOKENS: &[&str] = &[
    "#",
    "# ",
    "=",
    " ",
    "\n",
    "\r\n",
    "\t",
    "pe=lmul",
    "pe=bitmod",
    "format=e4m3",
    "format=fp16",
    "policy=saturate",
    "pipeline=0",
    "rows=",
    "count=",
    "seed=",
    "variant=",
    "00",
    "FF",
    "7F",
    "0G",
    "ff",
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
    "+1",
    "-1",
    "é",
    "\u{0}",
    "\u{feff}",
];

#[test]
fn seeds_are_valid() {
    for t in targets() {
        let v = parse_bytes(t.text.as_bytes(), "seed.txt", t.pe, &t.cfg)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!v.rows.is_empty());
    }
}

#[test]
fn fuzz_vectors() {
    let file = "fuzz.txt";
    let targets = targets();
    let seeds = targets
        .iter()
        .map(|t| t.text.clone().into_bytes())
        .collect();
    let s = fuzz::run("vectors", fuzz::inputs(seeds, TOKENS), |bytes| {
        let mut accepted = false;
        for t in &targets {
            match parse_bytes(bytes, file, t.pe, &t.cfg) {
                Ok(v) => {
                    let cols = v.layout.columns().len();
                    if v.rows.is_empty() || v.rows.iter().any(|r| r.len() != cols) {
                        return Err(format!("accepted {} rows of the wrong shape", v.rows.len()));
                    }
                    accepted = true;
                }
                Err(e) => fuzz::names_file_and_place(&e.to_string(), file)?,
            }
        }
        Ok(accepted)
    });
    assert!(
        s.accepted > 0,
        "no mutated file was valid: the seeds are not reached"
    );
}

#[test]
fn a_file_truncated_anywhere_is_an_error_naming_file_and_line() {
    for t in targets() {
        let text = t.text.as_bytes();
        let header: Vec<&str> = t.text.lines().take_while(|l| l.starts_with('#')).collect();
        let header_end: usize = header.iter().map(|l| l.len() + 1).sum();
        // Every cut inside the rows, mid-field, between fields and at line ends.
        for cut in header_end + 1..text.len() {
            let err = match parse_bytes(&text[..cut], "cut.txt", t.pe, &t.cfg) {
                Ok(v) => panic!(
                    "{}: cut at byte {cut} of {} gave {} rows without error",
                    t.cfg.format,
                    text.len(),
                    v.rows.len()
                ),
                Err(e) => e.to_string(),
            };
            fuzz::names_file_and_place(&err, "cut.txt").unwrap();
            assert!(
                err.contains("truncated") || err.contains("columns, expected"),
                "cut at {cut}: {err}"
            );
        }
    }
}

#[test]
fn truncated_mid_line_names_the_last_line() {
    let t = &targets()[0];
    let lines = t.text.lines().count();
    // The last row loses its final digit: still three columns, but no newline.
    let cut = &t.text[..t.text.len() - 2];
    let err = parse_bytes(cut.as_bytes(), "mid.txt", t.pe, &t.cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "mid.txt:{lines}: the last row ends without a newline"
        )),
        "{err}"
    );
    // Cut after a whole line: the header's row count tells.
    let whole: String = t
        .text
        .lines()
        .take(lines - 3)
        .map(|l| format!("{l}\n"))
        .collect();
    let err = parse_bytes(whole.as_bytes(), "lines.txt", t.pe, &t.cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("header says rows=40, but the file has 37 rows; it looks truncated"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_named_by_offset() {
    let t = &targets()[0];
    let mut b = t.text.clone().into_bytes();
    let at = b.len() - 5;
    b[at] = 0xFF;
    let err = parse_bytes(&b, "bin.txt", t.pe, &t.cfg)
        .unwrap_err()
        .to_string();
    let line = t.text.lines().count();
    assert!(
        err.starts_with(&format!("bin.txt:{line}: byte {at} is not UTF-8 text")),
        "{err}"
    );
}

#[test]
fn parse_reads_the_path_and_names_it() {
    let t = &targets()[0];
    let dir = std::env::temp_dir().join(format!("pelab-fuzz-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.txt");
    std::fs::write(&path, &t.text).unwrap();
    assert!(parse(&path, t.pe, &t.cfg).is_ok());
    std::fs::write(&path, &t.text[..t.text.len() / 2]).unwrap();
    let err = parse(&path, t.pe, &t.cfg).unwrap_err().to_string();
    let shown = path.display().to_string();
    assert!(err.starts_with(&format!("{shown}:")), "{err}");
    fuzz::names_file_and_place(&err, &shown).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
