//! `pelab verify --vcd` and the waveform of a failure: the VCD files parse (with the `vcd`
//! crate), and what they show is checked against the golden vector file that `pelab vectors`
//! writes from the reference models: the DUT's output just before each compare, the expected
//! value, the `mismatch` flag, the rows and the times the documentation gives.

mod common;

use common::{err, ok, pelab};
use pelab_testbench::waves::{FAIL_CONTEXT, VCD_ROWS};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-vcd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The rows of a vector file (hex fields).
fn vector_rows(path: &Path) -> Vec<Vec<u64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|t| u64::from_str_radix(t, 16).unwrap())
                .collect()
        })
        .collect()
}

/// A parsed VCD: the signals of the testbench scope `pelab_tb` and their changes (ps).
struct Vcd {
    path: PathBuf,
    vars: HashMap<String, vcd::IdCode>,
    dut: Vec<String>,
    changes: HashMap<vcd::IdCode, Vec<(u64, Option<u64>)>>,
}

fn value(bits: impl Iterator<Item = vcd::Value>) -> Option<u64> {
    let mut v = 0u64;
    for b in bits {
        v = v << 1
            | match b {
                vcd::Value::V0 => 0,
                vcd::Value::V1 => 1,
                _ => return None,
            };
    }
    Some(v)
}

impl Vcd {
    fn load(path: &Path) -> Vcd {
        let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut p = vcd::Parser::new(std::io::BufReader::new(f));
        let h = p
            .parse_header()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (n, unit) = h.timescale.expect("a timescale");
        let ps = n as u64 * 1_000_000_000_000 / unit.divisor();
        // Icarus and the gate engine put the testbench at the top, Verilator under TOP.
        let tb = h
            .find_scope(&["pelab_tb"])
            .or_else(|| h.find_scope(&["TOP", "pelab_tb"]))
            .unwrap_or_else(|| panic!("{}: no scope pelab_tb", path.display()));
        let mut vars = HashMap::new();
        let mut dut = Vec::new();
        for item in &tb.items {
            match item {
                vcd::ScopeItem::Var(v) => {
                    vars.insert(v.reference.clone(), v.code);
                }
                vcd::ScopeItem::Scope(sc) if sc.identifier == "dut" => {
                    for i in &sc.items {
                        if let vcd::ScopeItem::Var(v) = i {
                            dut.push(v.reference.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        let mut changes: HashMap<vcd::IdCode, Vec<(u64, Option<u64>)>> = HashMap::new();
        let mut t = 0;
        for c in p {
            match c.unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
                vcd::Command::Timestamp(x) => t = x * ps,
                vcd::Command::ChangeScalar(id, v) => changes
                    .entry(id)
                    .or_default()
                    .push((t, value([v].into_iter()))),
                vcd::Command::ChangeVector(id, v) => {
                    changes.entry(id).or_default().push((t, value(v.iter())))
                }
                _ => {}
            }
        }
        Vcd {
            path: path.to_path_buf(),
            vars,
            dut,
            changes,
        }
    }

    fn id(&self, name: &str) -> vcd::IdCode {
        *self
            .vars
            .get(name)
            .unwrap_or_else(|| panic!("{}: no signal {name}", self.path.display()))
    }

    /// The value of `name` just before time `t` (what a compare at `t` samples).
    fn before(&self, name: &str, t: u64) -> Option<u64> {
        let ch = &self.changes[&self.id(name)];
        ch.iter().rev().find(|(x, _)| *x < t).and_then(|c| c.1)
    }

    /// The value of `name` at time `t` (after the changes at `t`).
    fn at(&self, name: &str, t: u64) -> Option<u64> {
        let ch = &self.changes[&self.id(name)];
        ch.iter().rev().find(|(x, _)| *x <= t).and_then(|c| c.1)
    }

    /// The compares: (row, time in ps) at each change of `check_row` (all ones before the
    /// first).
    fn checks(&self) -> Vec<(u64, u64)> {
        self.changes[&self.id("check_row")]
            .iter()
            .filter(|&&(_, v)| v != Some(u64::MAX))
            .map(|&(t, v)| (v.expect("check_row is known"), t))
            .collect()
    }
}

/// Checks a waveform against the vector rows: the signals are there, every compare is at the
/// documented time of its row (the file's first row being `start`, `due` edges of latency),
/// the output sampled and the expected value are the golden ones, `mismatch` is low. Returns
/// the rows compared.
fn matches_vectors(
    w: &Vcd,
    rows: &[Vec<u64>],
    ins: &[&str],
    out: &str,
    start: u64,
    due: u64,
) -> Vec<u64> {
    for name in ins.iter().chain([&out, &"tbclk", &"mismatch"]) {
        w.id(name);
    }
    for port in ins.iter().chain([&out]) {
        assert!(
            w.dut.iter().any(|d| d == port),
            "{}: dut scope lacks {port}",
            w.path.display()
        );
    }
    let exp = format!("expected_{out}");
    let n_in = ins.len();
    let checks = w.checks();
    assert!(!checks.is_empty(), "{}: no compare", w.path.display());
    for &(r, t) in &checks {
        let row = &rows[r as usize];
        let what = format!("{} row {r} at {t} ps", w.path.display());
        assert_eq!(t, (2 * (r - start + due) + 1) * 1000, "{what}: time");
        assert_eq!(w.before(out, t), Some(row[n_in]), "{what}: {out}");
        assert_eq!(
            w.at(&format!("got_{out}"), t),
            Some(row[n_in]),
            "{what}: got"
        );
        assert_eq!(w.at(&exp, t), Some(row[n_in]), "{what}: {exp}");
        assert_eq!(w.at("mismatch", t), Some(0), "{what}: mismatch");
    }
    checks.iter().map(|c| c.0).collect()
}

#[test]
fn vcd_of_a_run_shows_the_golden_outputs_on_every_simulator() {
    let dir = tmp("run");
    let vec = dir.join("v.txt");
    let n = VCD_ROWS + 44;
    ok(&[
        "vectors",
        "lmul",
        "-f",
        "e4m3",
        "--count",
        &n.to_string(),
        "-o",
        s(&vec),
    ]);
    let rows = vector_rows(&vec);
    assert_eq!(rows.len() as u64, n);
    let out = dir.join("out.vcd");
    let text = ok(&[
        "verify",
        "lmul",
        "-f",
        "e4m3",
        "--vectors",
        s(&vec),
        "--sim",
        "icarus,verilator,gates",
        "--vcd",
        s(&out),
        "--work",
        s(&dir.join("work")),
    ]);
    for sim in ["icarus", "verilator", "gates"] {
        let path = dir.join(format!("out.{sim}.vcd"));
        assert!(
            text.contains(&format!("{sim} waveform: {}", path.display())),
            "{sim} path not printed:\n{text}"
        );
        let w = Vcd::load(&path);
        // Without --vcd-window: the first VCD_ROWS rows, each compared once, in order.
        let seen = matches_vectors(&w, &rows, &["a", "b"], "y", 0, 1);
        assert_eq!(seen, (0..VCD_ROWS).collect::<Vec<_>>(), "{sim}");
    }
    assert!(!out.exists(), "several simulators: no unsuffixed file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vcd_windows_start_where_the_state_is_known() {
    let dir = tmp("window");
    // A two-stage pipeline: the window's run starts two rows early so that it fills.
    let vec = dir.join("p.txt");
    ok(&[
        "vectors",
        "lmul",
        "-f",
        "e4m3",
        "--pipeline",
        "2",
        "--count",
        "100",
        "-o",
        s(&vec),
    ]);
    let rows = vector_rows(&vec);
    let out = dir.join("p.vcd");
    let text = ok(&[
        "verify",
        "lmul",
        "-f",
        "e4m3",
        "--pipeline",
        "2",
        "--vectors",
        s(&vec),
        "--sim",
        "icarus,gates",
        "--vcd",
        s(&out),
        "--vcd-window",
        "40..60",
        "--work",
        s(&dir.join("work")),
    ]);
    for sim in ["icarus", "gates"] {
        let w = Vcd::load(&dir.join(format!("p.{sim}.vcd")));
        w.id("clock");
        let seen = matches_vectors(&w, &rows, &["a", "b"], "y", 38, 2);
        assert_eq!(seen, (38..60).collect::<Vec<_>>(), "{sim}:\n{text}");
    }
    // A MAC, cycle by cycle: the run starts at the last reset or clear at or before row 100.
    let vec = dir.join("m.txt");
    ok(&[
        "vectors",
        "int16fma",
        "--variant",
        "mac",
        "--count",
        "20",
        "-o",
        s(&vec),
    ]);
    let rows = vector_rows(&vec);
    let restart = |r: &Vec<u64>| r[0] == 1 || r[1] == 1;
    let start = (0..=100).rev().find(|&i| restart(&rows[i])).unwrap() as u64;
    assert!(start < 100, "the test wants a window inside a transaction");
    let out = dir.join("m.vcd");
    ok(&[
        "verify",
        "int16fma",
        "--variant",
        "mac",
        "--vectors",
        s(&vec),
        "--sim",
        "gates",
        "--vcd",
        s(&out),
        "--vcd-window",
        "100..130",
        "--work",
        s(&dir.join("work")),
    ]);
    let ins = ["reset", "clear", "en", "a0", "a1", "b0", "b1"];
    let w = Vcd::load(&out);
    let seen = matches_vectors(&w, &rows, &ins, "acc", start, 1);
    assert_eq!(seen, (start..130).collect::<Vec<_>>());
    // The gate engine streaming an exhaustive set: rows are case numbers.
    let vec = dir.join("x.txt");
    ok(&[
        "vectors",
        "lmul",
        "-f",
        "e4m3",
        "--exhaustive",
        "-o",
        s(&vec),
    ]);
    let rows = vector_rows(&vec);
    let out = dir.join("x.vcd");
    ok(&[
        "verify",
        "lmul",
        "-f",
        "e4m3",
        "--exhaustive",
        "--sim",
        "gates",
        "--vcd",
        s(&out),
        "--vcd-window",
        "40000..40010",
        "--work",
        s(&dir.join("work")),
    ]);
    let seen = matches_vectors(&Vcd::load(&out), &rows, &["a", "b"], "y", 40000, 1);
    assert_eq!(seen, (40000..40010).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vcd_window_errors_are_named() {
    let dir = tmp("errors");
    let base = [
        "verify", "lmul", "-f", "e4m3", "--count", "50", "--sim", "gates",
    ];
    let work = dir.join("work");
    let vcd = dir.join("w.vcd");
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(["--work", s(&work), "--vcd", s(&vcd)]);
        a.extend(extra);
        err(&a)
    };
    let e = with(&["--vcd-window", "20..10"]);
    assert!(e.contains("--vcd-window") && e.contains("A..B"), "{e}");
    let e = with(&["--vcd-window", "10..500"]);
    assert!(e.contains("10..500") && e.contains("0..50"), "{e}");
    assert!(!vcd.exists());
    let o = pelab(&[&base[..], &["--vcd-window", "1..2"]].concat());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--vcd"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files that a write left half done.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(temporaries(&p));
        } else if p.file_name().unwrap().to_str().unwrap().contains(".tmp") {
            v.push(p);
        }
    }
    v
}

#[test]
fn a_wrong_rtl_fails_with_a_waveform_of_its_first_failing_row() {
    let dir = tmp("fail");
    let vec = dir.join("v.txt");
    ok(&[
        "vectors",
        "lmul",
        "-f",
        "e4m3",
        "--count",
        "1000",
        "-o",
        s(&vec),
    ]);
    let rows = vector_rows(&vec);
    // The emitted L-Mul with bit 0 of a normal result flipped.
    ok(&["emit", "lmul", "-f", "e4m3", "--out", s(&dir)]);
    let good = std::fs::read_to_string(dir.join("pelab_lmul_e4m3_sat.v")).unwrap();
    let line = "y = r_lo | sign_w;";
    assert_eq!(good.matches(line).count(), 1, "the emitted Verilog changed");
    let bad = dir.join("mutant.v");
    std::fs::write(&bad, good.replace(line, "y = (r_lo | sign_w) ^ 8'h01;")).unwrap();
    let work = dir.join("work");
    let o = pelab(&[
        "verify",
        "lmul",
        "-f",
        "e4m3",
        "--rtl",
        s(&bad),
        "--top",
        "pelab_lmul_e4m3_sat",
        "--vectors",
        s(&vec),
        "--work",
        s(&work),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "the mutant passed:\n{stdout}");
    let mdir = work.join("pelab_lmul_e4m3_sat");
    for sim in ["icarus", "verilator", "gates"] {
        // The first failing row the run reported.
        let first: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("  {sim} row ")))
            .and_then(|l| l.split(':').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("{sim}: no mismatch printed:\n{stdout}"));
        assert!(
            first >= FAIL_CONTEXT,
            "the test wants rows before the failure"
        );
        let path = mdir.join(format!("pelab_lmul_e4m3_sat-{sim}-fail.vcd"));
        assert!(
            stderr.contains(&path.display().to_string()),
            "{sim}: path not in the failure message:\n{stderr}"
        );
        let w = Vcd::load(&path);
        let checks = w.checks();
        let seen: Vec<u64> = checks.iter().map(|c| c.0).collect();
        let from = first - FAIL_CONTEXT;
        assert_eq!(
            seen,
            (from..=first + FAIL_CONTEXT).collect::<Vec<_>>(),
            "{sim}"
        );
        for &(r, t) in &checks {
            let what = format!("{sim} row {r} at {t} ps");
            assert_eq!(t, (2 * (r - from + 1) + 1) * 1000, "{what}");
            let want = rows[r as usize][2];
            assert_eq!(w.at("expected_y", t), Some(want), "{what}");
            let got = w.before("y", t).expect("y known");
            assert_eq!(w.at("got_y", t), Some(got), "{what}: got_y");
            let mism = w.at("mismatch", t);
            if r < first {
                assert_eq!((got, mism), (want, Some(0)), "{what}: before the failure");
            } else if r == first {
                assert_eq!((got, mism), (want ^ 1, Some(1)), "{what}: the failure");
            } else {
                assert_eq!(mism, Some(u64::from(got != want)), "{what}");
            }
        }
    }
    assert_eq!(temporaries(&dir), Vec::<PathBuf>::new());
    // A passing run in the same work directory removes the waveforms of its simulators.
    ok(&[
        "verify",
        "lmul",
        "-f",
        "e4m3",
        "--vectors",
        s(&vec),
        "--sim",
        "icarus,gates",
        "--work",
        s(&work),
    ]);
    for (sim, kept) in [("icarus", false), ("gates", false), ("verilator", true)] {
        let p = mdir.join(format!("pelab_lmul_e4m3_sat-{sim}-fail.vcd"));
        assert_eq!(p.exists(), kept, "{}", p.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
