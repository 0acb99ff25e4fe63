//! `pelab report` end to end: the quick run writes every file it lists (CSVs that parse, PNG
//! and SVG plots, summary.md whose every claim has a pelab number), and an output directory
//! that cannot be written is an error before any work.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pelab-test-report-{}-{name}", std::process::id()))
}

/// Cells of a Markdown table row (`\|` is a pipe inside a cell).
fn md_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The rows of the first Markdown table after the heading `heading`.
fn md_table(text: &str, heading: &str) -> Vec<Vec<String>> {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("summary.md has no '{heading}'"));
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(md_cells)
        .collect()
}

fn check_csv(path: &Path) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let width = r.headers().expect("a header line").len();
    assert!(width > 0, "{}: empty header", path.display());
    let mut rows = 0;
    for rec in r.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            rec.len(),
            width,
            "{}: a row of another width",
            path.display()
        );
        rows += 1;
    }
    assert!(rows >= 1, "{}: no row", path.display());
}

#[test]
fn quick_report_writes_every_file() {
    let out = tmp("quick");
    let _ = std::fs::remove_dir_all(&out);
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["report", "--quick", "--json", "--out"])
        .arg(&out)
        .output()
        .expect("run pelab");
    let secs = t.elapsed().as_secs_f64();
    // Written past the test harness's capture, so that every run shows it.
    let _ = writeln!(
        std::io::stderr(),
        "pelab report --quick took {secs:.1} s (target: at most 120 s)"
    );
    assert!(
        o.status.success(),
        "pelab report --quick failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON summary");

    // Every file the summary lists exists and is not empty; the expected ones are there.
    let files: Vec<String> = summary["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    for f in &files {
        let p = out.join(f);
        let len = std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .len();
        assert!(len > 0, "{} is empty", p.display());
    }
    let mut expected = vec!["summary.md".to_string(), "summary.json".to_string()];
    for t in [
        "claims",
        "verification",
        "synthesis",
        "energy",
        "energy_lmul_saving",
        "lmul_elementwise",
        "lmul_dot",
        "bitmod_mse",
        "bitmod_type_share",
        "dfp_quant_error",
        "dfp_overflow",
    ] {
        expected.push(format!("{t}.csv"));
    }
    for p in [
        "lmul_error",
        "energy",
        "bitmod_mse",
        "dfp_overflow",
        "synthesis",
    ] {
        expected.push(format!("{p}.png"));
        expected.push(format!("{p}.svg"));
    }
    for e in &expected {
        assert!(files.contains(e), "{e} not written (files: {files:?})");
    }

    // Every CSV parses, with a header and at least one row; plots have the right magic.
    let mut csvs = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !name.starts_with('.'),
            "a temporary file is left in the output: {name}"
        );
        match p.extension().and_then(|e| e.to_str()) {
            Some("csv") => {
                check_csv(&p);
                csvs += 1;
            }
            Some("png") => {
                let b = std::fs::read(&p).unwrap();
                assert!(b.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
                assert!(b.len() > 10_000, "{name} is suspiciously small");
            }
            Some("svg") => {
                let s = std::fs::read_to_string(&p).unwrap();
                assert!(s.starts_with("<svg"), "{name} is not an SVG");
                assert!(s.contains("<text"), "{name} has no text");
            }
            _ => {}
        }
    }
    assert!(csvs >= 11, "only {csvs} CSV files");

    // The Verilog of every configuration.
    let verilog = std::fs::read_dir(out.join("verilog"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "v")
        })
        .count();
    assert_eq!(
        verilog as u64,
        summary["modules_emitted"].as_u64().unwrap(),
        "one Verilog file per configuration"
    );

    // Verification: something ran, nothing failed, missing simulators are named.
    assert!(summary["configurations_verified"].as_u64().unwrap() >= 6);
    assert!(summary["failures"].as_array().unwrap().is_empty());
    assert!(summary["simulator_runs"]["passed"].as_u64().unwrap() >= 6);

    // summary.md: every claim row has a pelab number, and as many rows as claims.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let rows = md_table(&md, "## Claims and measurements");
    assert_eq!(
        rows[0],
        [
            "claim",
            "paper says",
            "pelab measures",
            "with glitches",
            "verdict"
        ]
    );
    let claims = &rows[2..];
    let json_claims = summary["claims"].as_array().unwrap();
    assert_eq!(claims.len(), json_claims.len(), "one row per claim");
    assert!(claims.len() >= 10, "only {} claims", claims.len());
    // Sources are numbered footnotes below the table: each verdict ends in `[n]`, and line n
    // of the list is that claim's source from summary.json.
    let after = &md[md.find("## Claims and measurements").unwrap()..];
    let list = &after[after
        .find("Sources:")
        .expect("a Sources list under the claims")..];
    for (r, j) in claims.iter().zip(json_claims) {
        assert_eq!(r.len(), 5, "claim row {r:?}");
        assert!(
            r[2].chars().any(|c| c.is_ascii_digit()),
            "claim '{}' has no pelab number: {}",
            r[0],
            r[2]
        );
        let n: usize = r[4]
            .rsplit_once(" [")
            .and_then(|(_, n)| n.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("verdict without a source number: {r:?}"));
        let src = j["source"].as_str().unwrap().replace('|', "\\|");
        assert!(
            list.contains(&format!("\n{n}. {src}\n")),
            "source {n} of '{}' is not listed",
            r[0]
        );
    }
    // "What this means": two lines per paper, each with a figure, before the verification; the
    // L-Mul precision ratio is the one summary.json's figures give.
    let means = &md[md
        .find("### What this means")
        .expect("a 'What this means' section")..];
    let means = &means[..means
        .find("## Verification")
        .expect("verification after it")];
    for paper in ["**L-Mul", "**BitMoD", "**Dynamic Fixed Point"] {
        let para = &means[means
            .find(paper)
            .unwrap_or_else(|| panic!("no {paper} paragraph"))..];
        let lines: Vec<&str> = para.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2, "{paper}: {lines:?}");
        for l in &lines {
            assert!(
                l.chars().any(|c| c.is_ascii_digit()),
                "{paper}: no figure in {l}"
            );
        }
    }
    let fig = |name: &str| {
        json_claims
            .iter()
            .find_map(|c| c["figures"][name].as_f64())
            .unwrap_or_else(|| panic!("no figure {name} in summary.json"))
    };
    let want = fig("lmul_e8m4_rne_amax") / fig("e4m3_rne_amax");
    let said: f64 = means
        .split_once("L-Mul e8m4's error is ")
        .and_then(|(_, r)| r.split_once('x'))
        .and_then(|(n, _)| n.parse().ok())
        .expect("the e8m4 ratio in the L-Mul paragraph");
    assert!(
        (said - want).abs() <= 0.005 * want,
        "L-Mul paragraph says {said}x, summary.json gives {want}"
    );
    accel_table_a(&md, &files);
    glitch_tables(&out, &files, summary["seed"].as_u64().expect("seed"));
    claims_with_glitches(&out, json_claims, claims);
    for section in [
        "## Verification",
        "## Synthesis",
        "## Energy",
        "## Accuracy studies",
        "## Run",
    ] {
        assert!(md.contains(section), "summary.md has no {section}");
    }
    assert!(
        md.contains("zero-delay"),
        "summary.md states the zero-delay caveat"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

/// The L-Mul element-wise claim rows carry the timing study's saving with glitches: in
/// claims.csv's `with_glitches` column (and summary.md's "with glitches"), equal to
/// glitch_lmul_saving.csv's figures (summary.json's figures to 1e-12, the text to its three
/// digits), with their provenance in the source; the saving with glitches is not the
/// zero-delay saving.
fn claims_with_glitches(out: &Path, json_claims: &[serde_json::Value], md_rows: &[Vec<String>]) {
    let mut r = csv::Reader::from_path(out.join("glitch_lmul_saving.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let saving: Vec<(String, f64, f64)> = r
        .records()
        .map(|r| r.unwrap())
        .map(|r| {
            let num = |c: &str| -> f64 {
                r[col(c)]
                    .parse()
                    .unwrap_or_else(|_| panic!("no {c} in glitch_lmul_saving.csv: {r:?}"))
            };
            (
                r[col("format")].to_string(),
                num("saving_zero_delay"),
                num("saving_with_glitches"),
            )
        })
        .collect();
    assert_eq!(saving.len(), 2, "e4m3 and bf16: {saving:?}");
    let mut r = csv::Reader::from_path(out.join("claims.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let (cc, wc, sc) = (col("claim"), col("with_glitches"), col("source"));
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    for (f, zero, unit) in &saving {
        let title = format!("L-Mul element-wise energy saving, {f}");
        let row = rows
            .iter()
            .find(|r| r[cc] == title)
            .unwrap_or_else(|| panic!("no claims.csv row '{title}'"));
        let text = &row[wc];
        let shown: f64 = text
            .split_once('%')
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or_else(|| panic!("'{title}': no percentage with glitches: {text}"));
        assert!(
            (shown - 100.0 * unit).abs() <= 0.005 * (100.0 * unit).abs().max(1.0),
            "'{title}': claims.csv shows {shown}% with glitches, glitch_lmul_saving.csv {unit}"
        );
        assert!(text.contains("unit delay"), "{text}");
        for what in ["glitch_lmul_saving.csv", "unit delay", "seed"] {
            assert!(
                row[sc].contains(what),
                "'{title}': the source does not name {what}"
            );
        }
        let j = json_claims
            .iter()
            .find(|c| c["claim"] == title.as_str())
            .unwrap_or_else(|| panic!("no '{title}' in summary.json"));
        let fig = |n: &str| {
            j["figures"][n]
                .as_f64()
                .unwrap_or_else(|| panic!("'{title}' has no figure {n}"))
        };
        // The CSV prints a float to within a unit in the last place of summary.json's.
        let same = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
        for (n, want) in [
            ("saving_with_glitches_unit", *unit),
            ("saving_zero_delay_glitch_operands", *zero),
        ] {
            assert!(
                same(fig(n), want),
                "'{title}': summary.json's {n} is {}, glitch_lmul_saving.csv's {want}",
                fig(n)
            );
        }
        // Glitches cost the two multipliers unequally: the saving moves.
        for z in [*zero, fig("gate_level_saving")] {
            assert!(
                (unit - z).abs() > 1e-3,
                "'{title}': the saving with glitches {unit} is the zero-delay saving {z}"
            );
        }
        let md = md_rows
            .iter()
            .find(|r| r[0] == title)
            .unwrap_or_else(|| panic!("no summary.md row '{title}'"));
        assert_eq!(md[3], text, "summary.md and claims.csv differ");
    }
    // Claims without the column leave it empty; L-Mul rows outside the timing study's formats
    // say they were not measured.
    for r in &rows {
        let lmul_elem = r[cc].starts_with("L-Mul element-wise energy saving");
        assert_eq!(!r[wc].is_empty(), lmul_elem, "{r:?}");
    }
}

/// The accelerator study's Table A holds the aggregates of `pelab accel --preset bitmod-hpca25
/// --json`, recomputed here from its 60 rows (cycles only), with the paper's 1.69x and 1.48x
/// beside them; its CSVs and plot are written.
fn accel_table_a(md: &str, files: &[String]) {
    for f in [
        "accel.csv",
        "accel_models.csv",
        "accel_speedup.png",
        "accel_speedup.svg",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} not written");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["accel", "--preset", "bitmod-hpca25", "--json"])
        .output()
        .expect("run pelab accel");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("JSON rows");
    assert_eq!(rows.len(), 60, "5 accelerators x 6 models x 2 tasks");
    let cycles = |a: &str, m: &str, t: &str| -> f64 {
        rows.iter()
            .find(|r| r["accelerator"] == a && r["model"] == m && r["task"] == t)
            .and_then(|r| r["cycles"].as_f64())
            .unwrap_or_else(|| panic!("no row {a} {m} {t}"))
    };
    let models: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for r in &rows {
            let m = r["model"].as_str().unwrap().to_string();
            if !v.contains(&m) {
                v.push(m);
            }
        }
        v
    };
    assert_eq!(models.len(), 6);
    // Phase cycles: generative = 20 decode steps + prefill (the paper's aggregate).
    let phase = |a: &str, m: &str, ph: &str| match ph {
        "prefill" => cycles(a, m, "prefill"),
        "decode" => cycles(a, m, "decode"),
        _ => 20.0 * cycles(a, m, "decode") + cycles(a, m, "prefill"),
    };
    // The paper's "Geo Mean" bar: the arithmetic mean over the models of cycles_FP16 / cycles.
    let bar = |a: &str, ph: &str| {
        models
            .iter()
            .map(|m| phase("fp16", m, ph) / phase(a, m, ph))
            .sum::<f64>()
            / models.len() as f64
    };
    let table = md_table(md, "### Table A");
    for (base, name, paper) in [
        ("ant", "ANT", "1.69x"),
        ("olive", "OliVe", "1.48x"),
        ("fp16", "FP16", "—"),
    ] {
        let r = |ph: &str| bar("bitmod-lossy", ph) / bar(base, ph);
        let (p, d, g) = (r("prefill"), r("decode"), r("generative"));
        let want = vec![
            name.to_string(),
            format!("{p:.3}x"),
            format!("{d:.3}x"),
            format!("{g:.3}x"),
            format!("{:.3}x", (p + g) / 2.0),
            paper.to_string(),
        ];
        assert!(
            table.contains(&want),
            "Table A has no row {want:?}: {table:?}"
        );
    }
}

#[test]
fn unwritable_output_directory_fails_before_any_work() {
    let file = tmp("file");
    std::fs::write(&file, "a regular file").unwrap();
    let out = file.join("report");
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["report", "--quick", "--out"])
        .arg(&out)
        .output()
        .expect("run pelab");
    std::fs::remove_file(&file).unwrap();
    assert!(!o.status.success(), "an unwritable --out must fail");
    assert!(o.stdout.is_empty(), "nothing on stdout on error");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&out.display().to_string()) && err.contains("cannot be written"),
        "the error names the directory: {err}"
    );
    assert!(
        !err.contains("emit") && !err.contains("verify"),
        "work started before the check: {err}"
    );
    assert!(t.elapsed().as_secs_f64() < 10.0);
}

/// Without Yosys (an empty PATH), the table method still prices every format Horowitz's table
/// has, and every claim row says which estimator is missing and why.
#[test]
fn table_figures_need_no_yosys() {
    let out = tmp("no-yosys");
    let empty = tmp("no-yosys-path");
    std::fs::create_dir_all(&empty).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["report", "--quick", "--out", out.to_str().unwrap()])
        .env("PATH", &empty)
        .output()
        .expect("run pelab");
    assert!(
        o.status.success(),
        "report without tools failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let saving = std::fs::read_to_string(out.join("energy_lmul_saving.csv")).unwrap();
    let mut table_rows = 0;
    for line in saving.lines().filter(|l| l.contains(",table,")) {
        let cells: Vec<&str> = line.split(',').collect();
        let format = cells[0];
        // Columns: format, workload, estimator, lmul_pj, fpmul_pj, saving, ...
        let priced = !cells[5].is_empty();
        // Horowitz's table has fp16 and fp32 multiplies (bf16 priced as fp16), not FP8.
        let expect = ["bf16", "fp16", "fp32"].contains(&format);
        assert_eq!(priced, expect, "table figure for {format}: {line}");
        table_rows += 1;
    }
    assert_eq!(table_rows, 10, "5 formats x 2 workloads:\n{saving}");
    let claims = std::fs::read_to_string(out.join("claims.csv")).unwrap();
    for line in claims.lines().filter(|l| l.contains("energy saving")) {
        assert!(line.contains("yosys is not installed"), "{line}");
        assert!(
            line.contains("table ") || line.contains("has no e"),
            "the table estimator is either priced or says why not: {line}"
        );
    }
    assert!(claims.contains("BitMoD PE energy per MAC vs FP16 MAC"));
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&empty);
}

/// The energy of `pe` e4m3 through `pelab energy` with `--delay delay`, `ops` operations and
/// `seed`: total pJ per operation.
fn cli_energy(pe: &str, delay: &str, ops: u64, seed: u64) -> f64 {
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(["energy", pe, "-f", "e4m3", "--delay", delay, "--json"])
        .args(["--ops", &ops.to_string(), "--seed", &seed.to_string()])
        .output()
        .expect("run pelab energy");
    assert!(
        o.status.success(),
        "pelab energy {pe}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    v["total_pj"].as_f64().expect("total_pj")
}

/// The timing study: glitch.csv has a glitch factor of at least 1 for every PE (a unit-delay
/// run counts every zero-delay toggle and the glitches besides), and its L-Mul savings with
/// and without glitches are the ones `pelab energy --delay unit|zero` gives on their own.
fn glitch_tables(out: &Path, files: &[String], seed: u64) {
    for f in [
        "glitch.csv",
        "glitch_lmul_saving.csv",
        "glitch.png",
        "glitch.svg",
    ] {
        assert!(files.contains(&f.to_string()), "{f} not written");
    }
    let mut r = csv::Reader::from_path(out.join("glitch.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let (gf, ops_c) = (col("glitch_factor"), col("ops"));
    let mut ops = None;
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let g: f64 = rec[gf]
            .parse()
            .unwrap_or_else(|_| panic!("no glitch factor: {rec:?}"));
        assert!(g >= 1.0, "glitch factor below 1: {rec:?}");
        ops = Some(rec[ops_c].parse::<u64>().unwrap());
        n += 1;
    }
    assert!(n >= 4, "only {n} PEs in glitch.csv");
    let ops = ops.unwrap();
    let mut r = csv::Reader::from_path(out.join("glitch_lmul_saving.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let rec = r
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[col("format")] == "e4m3")
        .expect("an e4m3 row");
    for (delay, c) in [
        ("unit", "saving_with_glitches"),
        ("zero", "saving_zero_delay"),
    ] {
        let want =
            1.0 - cli_energy("lmul", delay, ops, seed) / cli_energy("fpmul", delay, ops, seed);
        let got: f64 = rec[col(c)].parse().expect(c);
        assert!(
            (got - want).abs() <= 1e-9,
            "{c}: the report has {got}, pelab energy --delay {delay} gives {want}"
        );
    }
}
