//! `pelab accel sweep` and `pelab accel merge` end to end: every row of a sweep against the
//! single-run CLI (`pelab accel ... --json`) and BitMoD's published table, utilization worked
//! out by hand from the op shapes of `docs/accel.md`, shards that partition the grid and merge
//! back byte for byte, merges that refuse shards that do not fit, the monotonicity that holds
//! in the array size, and errors that list what is valid.

mod common;

use common::{err, ok};
use pelab_sim::accel::Exact;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ACCELS: [&str; 5] = ["fp16", "ant", "olive", "bitmod-lossless", "bitmod-lossy"];
const MODELS: [&str; 6] = [
    "opt-1.3b",
    "phi-2",
    "yi-6b",
    "llama-2-7b",
    "llama-2-13b",
    "llama-3-8b",
];

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-accel-sweep-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A sweep CSV as header-keyed rows.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            h.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Runs `pelab accel sweep ARGS -o DIR/NAME` and returns the file's path.
fn sweep(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut v = vec!["accel", "sweep"];
    v.extend_from_slice(args);
    v.extend_from_slice(&["-o", s(&out)]);
    ok(&v);
    out
}

fn published() -> BTreeMap<(String, String, String), (u64, i128, i128)> {
    common::published_hpca25()
}

fn ex(text: &str) -> Exact {
    Exact::parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.0))
}

/// The exact µJ of a pJ text.
fn uj(pj: Exact) -> Exact {
    Exact(pj.0 / 1_000_000)
}

#[test]
fn native_rows_equal_single_runs_and_the_published_table() {
    let dir = tmp("native");
    let out = sweep(
        &dir,
        "native.csv",
        &["--accels", "all", "--models", "all", "--tasks", "all"],
    );
    let native = rows(&out);
    assert_eq!(native.len(), 5 * 6 * 3);
    let published = published();
    let mut checked_published = 0;
    for (i, r) in native.iter().enumerate() {
        // The enumeration: accelerator outermost, then model, then task.
        assert_eq!(r["point"], i.to_string());
        assert_eq!(r["accelerator"], ACCELS[i / 18]);
        assert_eq!(r["model"], MODELS[i / 3 % 6]);
        assert_eq!(r["task"], ["prefill", "decode", "generative"][i % 3]);
        assert_eq!(r["error"], "");
        let (a, m, t) = (&r["accelerator"], &r["model"], &r["task"]);
        let v: Value = serde_json::from_str(&ok(&[
            "accel", "--model", m, "--task", t, "--accel", a, "--json",
        ]))
        .unwrap();
        let tot = &v["totals"];
        let key = format!("{a} {m} {t}");
        assert_eq!(r["cycles"], tot["cycles"].to_string(), "{key}");
        assert_eq!(
            r["compute_cycles"],
            tot["compute_cycles"].to_string(),
            "{key}"
        );
        let pj = |k: &str| ex(tot["energy_exact_pj"][k].as_str().unwrap());
        let (pe, rd, wr, dram) = (pj("pe"), pj("sram_read"), pj("sram_write"), pj("dram"));
        let on = pe + rd + wr;
        for (col, want, json_uj) in [
            ("e_pe_uj", pe, &tot["energy_uj"]["pe"]),
            ("e_sram_read_uj", rd, &tot["energy_uj"]["sram_read"]),
            ("e_sram_write_uj", wr, &tot["energy_uj"]["sram_write"]),
            ("e_dram_uj", dram, &tot["energy_uj"]["dram"]),
            ("e_onchip_uj", on, &tot["energy_uj"]["onchip"]),
            ("e_total_uj", on + dram, &tot["energy_uj"]["total"]),
        ] {
            let exact = &r[&format!("{col}_exact")];
            assert_eq!(ex(exact), uj(want), "{key} {col}");
            let f: f64 = r[col].parse().unwrap();
            // The float column is the exact value's nearest double (a terminating decimal
            // parses to it; a fraction p/q is checked to a relative 2^-52); the JSON's float
            // is within an ulp or two.
            match exact.split_once('/') {
                None => assert_eq!(f, exact.parse::<f64>().unwrap(), "{key} {col}"),
                Some((p, q)) => {
                    let v = p.parse::<f64>().unwrap() / q.parse::<f64>().unwrap();
                    assert!(
                        (f - v).abs() <= v.abs() * 2.3e-16,
                        "{key} {col}: {f} vs {exact}"
                    );
                }
            }
            let j = json_uj.as_f64().unwrap();
            assert!((f - j).abs() <= f.abs() * 4e-16, "{key} {col}: {f} vs {j}");
        }
        // The arrays used: one, or prefill's + decode's.
        let arrays: Vec<&Value> = match v.get("phases") {
            Some(p) => p
                .as_array()
                .unwrap()
                .iter()
                .map(|ph| &ph["setup"]["array"])
                .collect(),
            None => vec![&v["setup"]["array"]],
        };
        let mut shapes: Vec<(String, String)> = Vec::new();
        for a in arrays {
            let sh = (a["rows"].to_string(), a["cols"].to_string());
            if !shapes.contains(&sh) {
                shapes.push(sh);
            }
        }
        let join = |f: fn(&(String, String)) -> &String| {
            shapes.iter().map(f).cloned().collect::<Vec<_>>().join("+")
        };
        assert_eq!(r["rows"], join(|x| &x.0), "{key}");
        assert_eq!(r["cols"], join(|x| &x.1), "{key}");
        assert_eq!(r["array"], "native");
        assert!(r["provenance"].contains("58d7bdb"));
        // The published table (prefill and decode rows).
        if let Some(&(cycles, p_on, p_total)) =
            published.get(&(a.to_string(), m.to_string(), t.to_string()))
        {
            assert_eq!(r["cycles"], cycles.to_string(), "{key}");
            let on = ex(&r["e_onchip_uj_exact"]);
            let total = ex(&r["e_total_uj_exact"]);
            if a == "fp16" && t == "prefill" {
                // The notebooks hold this row floor()ed.
                assert_eq!((on.floor(), total.floor()), (p_on, p_total), "{key}");
            } else {
                assert_eq!(
                    (on.round_half_even(), total.round_half_even()),
                    (p_on, p_total),
                    "{key}"
                );
            }
            checked_published += 1;
        }
    }
    assert_eq!(checked_published, 60);
    // An explicit array equal to the accelerator's own gives the same figures.
    let own = sweep(
        &dir,
        "own.csv",
        &[
            "--accels",
            "ant,bitmod-lossy",
            "--models",
            "all",
            "--tasks",
            "prefill",
            "--arrays",
            "32x32",
        ],
    );
    for r in rows(&own) {
        let n = native
            .iter()
            .find(|n| {
                n["accelerator"] == r["accelerator"]
                    && n["model"] == r["model"]
                    && n["task"] == r["task"]
            })
            .unwrap();
        for col in [
            "cycles",
            "compute_cycles",
            "e_total_uj_exact",
            "utilization",
        ] {
            assert_eq!(r[col], n[col], "{} {} {col}", r["accelerator"], r["model"]);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Useful MACs of a model shape's op list, from the op table of `docs/accel.md`: per layer
/// the linears [N, K] with tok = T (prefill) or 1, attn_qk (cout T, cin h, tok H·T) or
/// (1, h, H), attn_v (H·T, T, T) or (H, T, 1); then lm_head [V, h].
fn macs_by_hand(
    layers: u64,
    linears: &[(u64, u64)],
    h: u64,
    heads: u64,
    vocab: u64,
    t: u64,
    prefill: bool,
) -> u128 {
    let tok = if prefill { t } else { 1 };
    let (qk, sv) = if prefill {
        ((t, h, heads * t), (heads * t, t, t))
    } else {
        ((1, h, heads), (heads, t, 1))
    };
    let mac = |(cout, cin, tk): (u64, u64, u64)| u128::from(cout * cin) * u128::from(tk);
    let layer: u128 =
        linears.iter().map(|&(n, k)| mac((n, k, tok))).sum::<u128>() + mac(qk) + mac(sv);
    u128::from(layers) * layer + mac((vocab, h, tok))
}

#[test]
fn utilization_by_hand() {
    // Utilization = lat · MACs / (R·C·dp · cycles): useful MACs over the MAC slots of the
    // whole latency (an R x C array of dp-lane PEs finishes a tile every lat cycles).
    let dir = tmp("util");
    let out = sweep(
        &dir,
        "u.csv",
        &[
            "--accels",
            "fp16,bitmod-lossy",
            "--models",
            "opt-1.3b,llama-2-7b",
            "--tasks",
            "all",
            "--arrays",
            "native,64x32",
        ],
    );
    let opt: Vec<(u64, u64)> = vec![
        (2048, 2048),
        (2048, 2048),
        (2048, 2048),
        (2048, 2048),
        (8192, 2048),
        (2048, 8192),
    ];
    let llama: Vec<(u64, u64)> = vec![
        (4096, 4096),
        (4096, 4096),
        (4096, 4096),
        (4096, 4096),
        (11008, 4096),
        (11008, 4096),
        (4096, 11008),
    ];
    let published = published();
    let rows = rows(&out);
    assert_eq!(rows.len(), 2 * 2 * 3 * 2);
    let find = |a: &str, m: &str, t: &str, arr: &str| {
        rows.iter()
            .find(|r| {
                r["accelerator"] == a && r["model"] == m && r["task"] == t && r["array"] == arr
            })
            .unwrap()
    };
    for r in &rows {
        let (a, m, arr) = (
            r["accelerator"].as_str(),
            r["model"].as_str(),
            r["array"].as_str(),
        );
        let (layers, lin, h, heads, vocab) = match m {
            "opt-1.3b" => (24, &opt, 2048, 32, 50272),
            _ => (32, &llama, 4096, 32, 32000),
        };
        // docs/accel.md: fp16 dp 1, 1 cycle per tile, arrays 32x24 / 64x12; BitMoD lossy dp 4,
        // 2 cycles per tile (4- and 3-bit weights, 2 bits per cycle), arrays 32x32 / 64x16.
        let (dp, lat) = if a == "fp16" { (1u128, 1u128) } else { (4, 2) };
        let pes = |task: &str| -> u128 {
            match (arr, a, task) {
                ("64x32", _, _) => 64 * 32,
                (_, "fp16", "prefill") => 32 * 24,
                (_, "fp16", _) => 64 * 12,
                (_, _, "prefill") => 32 * 32,
                _ => 64 * 16,
            }
        };
        // Cycles: the published numbers at the native arrays, else the row's own.
        let cycles = |task: &str| -> u128 {
            match published.get(&(a.to_string(), m.to_string(), task.to_string())) {
                Some(p) if arr == "native" => u128::from(p.0),
                _ => find(a, m, task, arr)["cycles"].parse().unwrap(),
            }
        };
        let part = |task: &str| {
            let macs = macs_by_hand(layers, lin, h, heads, vocab, 256, task == "prefill");
            (lat * macs, pes(task) * dp * cycles(task))
        };
        let (num, den) = match r["task"].as_str() {
            "generative" => {
                let (p, d) = (part("prefill"), part("decode"));
                (p.0 + 20 * d.0, p.1 + 20 * d.1)
            }
            t => part(t),
        };
        let want = num as f64 / den as f64;
        let got: f64 = r["utilization"].parse().unwrap();
        assert_eq!(got, want, "{a} {m} {} {arr}", r["task"]);
        assert!(got > 0.0 && got <= 1.0);
        // bitmod-hpca25 charges neither leakage nor stalls: those cells are empty.
        for c in [
            "e_leakage_pe_uj",
            "e_leakage_sram_uj",
            "e_stall_uj",
            "e_stall_uj_exact",
        ] {
            assert_eq!(r[c], "", "{c}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_partition_the_grid_and_merge_byte_for_byte() {
    let dir = tmp("shards");
    let grid = [
        "--accels",
        "fp16,bitmod-lossy",
        "--models",
        "opt-1.3b,llama-3-8b",
        "--tasks",
        "all",
        "--arrays",
        "native,64x16",
    ];
    let whole = sweep(&dir, "whole.csv", &grid);
    let whole_bytes = std::fs::read(&whole).unwrap();
    let total = 2 * 2 * 3 * 2;
    assert_eq!(rows(&whole).len(), total);
    for n in 1..=5usize {
        let mut seen = vec![0usize; total];
        let mut parts = Vec::new();
        for k in 1..=n {
            let mut args = grid.to_vec();
            let spec = format!("{k}/{n}");
            args.extend_from_slice(&["--shard", &spec]);
            let p = sweep(&dir, &format!("p{n}-{k}.csv"), &args);
            for r in rows(&p) {
                let i: usize = r["point"].parse().unwrap();
                assert_eq!(i % n, k - 1, "shard {spec} holds point {i}");
                assert_eq!(r["shard"], spec);
                assert_eq!(r["points"], total.to_string());
                seen[i] += 1;
            }
            parts.push(p);
        }
        assert!(seen.iter().all(|&c| c == 1), "N = {n}: {seen:?}");
        // Merge in reverse order: the output is in point order anyway.
        let merged = dir.join(format!("merged{n}.csv"));
        let mut args = vec!["accel", "merge", "-o", s(&merged)];
        args.extend(parts.iter().rev().map(|p| s(p)));
        ok(&args);
        assert!(
            std::fs::read(&merged).unwrap() == whole_bytes,
            "N = {n}: the merged shards differ from the unsharded sweep"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_refuses_shards_that_do_not_fit() {
    let dir = tmp("merge");
    let grid = [
        "--accels",
        "ant",
        "--models",
        "all",
        "--tasks",
        "prefill,decode",
    ];
    let part = |name: &str, extra: &[&str]| {
        let mut a = grid.to_vec();
        a.extend_from_slice(extra);
        sweep(&dir, name, &a)
    };
    let p1 = part("a1.csv", &["--shard", "1/3"]);
    let p2 = part("a2.csv", &["--shard", "2/3"]);
    let p3 = part("a3.csv", &["--shard", "3/3"]);
    let q3 = part("b3.csv", &["--shard", "3/3", "--context", "128"]);
    let r2 = part("c2.csv", &["--shard", "2/4"]);
    let out = dir.join("out.csv");
    let merge = |files: &[&PathBuf]| {
        let mut a = vec!["accel", "merge", "-o", s(&out)];
        a.extend(files.iter().map(|p| s(p)));
        let e = err(&a);
        assert!(!out.exists(), "a failed merge wrote {}", out.display());
        e
    };
    // Missing shard: its number and points (12 points, N = 3: 2, 5, 8, 11).
    let e = merge(&[&p1, &p2]);
    assert!(
        e.contains("4 of the grid's 12 points are missing")
            && e.contains("shard 3/3 (no file given): points 2, 5, 8, 11"),
        "{e}"
    );
    // The same shard twice.
    let e = merge(&[&p1, &p2, &p3, &p2]);
    assert!(
        e.contains(&format!(
            "point 1 appears twice: {} line 2 and {} line 2",
            s(&p2),
            s(&p2)
        )),
        "{e}"
    );
    // Another grid (another context).
    let e = merge(&[&p1, &p2, &q3]);
    assert!(
        e.contains(&format!("{} is from another sweep than {}", s(&q3), s(&p1))),
        "{e}"
    );
    // Another N.
    let e = merge(&[&p1, &r2]);
    assert!(e.contains("the shards of one sweep share N"), "{e}");
    // A row lost: the file and the point are named.
    let text = std::fs::read_to_string(&p2).unwrap();
    let cut: Vec<&str> = text.lines().filter(|l| !l.contains(",2/3,12,4,")).collect();
    assert_eq!(cut.len(), text.lines().count() - 1);
    let p2cut = dir.join("a2cut.csv");
    std::fs::write(&p2cut, cut.join("\n") + "\n").unwrap();
    let e = merge(&[&p1, &p2cut, &p3]);
    assert!(
        e.contains(&format!("shard 2/3 ({}): points 4", s(&p2cut))),
        "{e}"
    );
    // Not a sweep CSV.
    let junk = dir.join("junk.csv");
    std::fs::write(&junk, "a,b\n1,2\n").unwrap();
    let e = merge(&[&junk]);
    assert!(
        e.contains(&format!("{}: not a pelab accel sweep CSV", s(&junk))),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cycles_do_not_increase_when_the_array_grows_in_both_dimensions() {
    // Under the tile model, tiles = ceil(cin/dp)·ceil(cout/R)·ceil(tok/C) cannot grow when R
    // or C grows, and DRAM cycles do not depend on the array: so cycles and compute cycles are
    // non-increasing in R and in C. More PEs alone (R·C) orders nothing: a wider but shorter
    // array can pad more. fp16 has a CACTI entry for every side in {12, 16, 24, 32, 64}.
    let dir = tmp("mono");
    let sides = [12u64, 16, 24, 32, 64];
    let arrays: Vec<String> = sides
        .iter()
        .flat_map(|r| sides.iter().map(move |c| format!("{r}x{c}")))
        .collect();
    let arrays = arrays.join(",");
    let out = sweep(
        &dir,
        "m.csv",
        &["--accels", "fp16", "--models", "all", "--arrays", &arrays],
    );
    let rows = rows(&out);
    assert_eq!(rows.len(), 6 * 2 * 25);
    // (model, task) -> [(rows, cols, cycles, compute cycles)]
    type Points = Vec<(u64, u64, u64, u64)>;
    let mut by: BTreeMap<(String, String), Points> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r["error"], "");
        let n = |c: &str| r[c].parse::<u64>().unwrap();
        assert!(n("cycles") >= n("compute_cycles"), "max(C, D) >= C");
        by.entry((r["model"].clone(), r["task"].clone()))
            .or_default()
            .push((n("rows"), n("cols"), n("cycles"), n("compute_cycles")));
    }
    let mut pairs = 0;
    let mut more_pes_more_cycles = BTreeSet::new();
    for ((m, t), pts) in &by {
        for a in pts {
            for b in pts {
                if b.0 >= a.0 && b.1 >= a.1 {
                    assert!(
                        b.2 <= a.2,
                        "{m} {t}: {}x{} {} cycles < {}x{} {}",
                        a.0,
                        a.1,
                        a.2,
                        b.0,
                        b.1,
                        b.2
                    );
                    assert!(b.3 <= a.3, "{m} {t}: compute cycles");
                    pairs += 1;
                }
                if b.0 * b.1 > a.0 * a.1 && b.2 > a.2 {
                    more_pes_more_cycles.insert((m.clone(), t.clone()));
                }
            }
        }
    }
    assert!(pairs > 1000);
    // More PEs, more cycles: in decode (one token) extra columns idle while fewer rows mean
    // more tiles, e.g. OPT-1.3B decode on 12x24 (288 PEs) against 16x12 (192 PEs).
    let opt = &by[&("opt-1.3b".to_string(), "decode".to_string())];
    let at = |r: u64, c: u64| opt.iter().find(|p| (p.0, p.1) == (r, c)).unwrap().2;
    assert!(at(12, 24) > at(16, 12), "{} vs {}", at(12, 24), at(16, 12));
    assert!(more_pes_more_cycles.contains(&("opt-1.3b".to_string(), "decode".to_string())));
    // In prefill (256 tokens) no pair of these arrays shows it.
    assert!(more_pes_more_cycles.iter().all(|(_, t)| t == "decode"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_the_choices_and_write_nothing() {
    let dir = tmp("errors");
    let out = dir.join("e.csv");
    let run = |extra: &[&str]| {
        let mut a = vec!["accel", "sweep", "--models", "opt-1.3b", "-o", s(&out)];
        a.extend_from_slice(extra);
        let e = err(&a);
        assert!(!out.exists(), "{extra:?} wrote {}", out.display());
        e
    };
    let cases: &[(&[&str], &str)] = &[
        (
            &["--accels", "tpu"],
            "--accels: unknown value `tpu` (expected one of: fp16, ant, olive, bitmod-lossless, bitmod-lossy, or all)",
        ),
        (
            &["--accels", "fp16", "--tasks", "train"],
            "--tasks: unknown value `train` (expected one of: prefill, decode, generative, or all)",
        ),
        (
            &["--accels", "fp16", "--timing", "scale-sim"],
            "--timing: unknown value `scale-sim` (expected one of: bitmod-hpca25, pelab, or all)",
        ),
        (&["--accels", "fp16", "--shard", "0/4"], "k must be from 1 to 4"),
        (&["--accels", "fp16", "--shard", "5/4"], "k must be from 1 to 4"),
        (&["--accels", "fp16", "--shard", "1/0"], "N must be at least 1"),
        (&["--accels", "fp16", "--shard", "2"], "expected k/N"),
        (
            &["--accels", "fp16", "--shard", "1/3"],
            "N = 3 is more than the grid's 2 points",
        ),
        (&["--accels", "fp16", "--arrays", "0x8"], "rows and columns must be at least 1"),
        (&["--accels", "fp16", "--arrays", "2048x8"], "at most 1024 rows and 1024 columns"),
        (&["--accels", "fp16", "--arrays", "32x"], "expected RxC"),
        (&["--accels", "fp16", "--arrays", "32x32,32x32"], "`32x32` is listed twice"),
        (&["--accels", "fp16,", "--arrays", "32x32"], "an entry is empty"),
        (&["--accels", "fp16", "--context", "0"], "--context 0"),
        // No CACTI entry for a 128-bit weight port (fp16, 8 rows x 16 bits).
        (
            &["--accels", "fp16", "--arrays", "8x16"],
            "no CACTI entry for a 128-bit SRAM port",
        ),
    ];
    for (extra, want) in cases {
        let e = run(extra);
        assert!(e.contains(want), "{extra:?}: {e}");
    }
    // The model list is the built-in one, named in the message.
    let e = err(&[
        "accel",
        "sweep",
        "--accels",
        "fp16",
        "--models",
        "gpt-5",
        "-o",
        s(&out),
    ]);
    assert!(
        e.contains("--models: unknown value `gpt-5` (expected one of: opt-1.3b, phi-2, yi-6b, llama-2-7b, llama-2-13b, llama-3-8b, or all)"),
        "{e}"
    );
    // --keep-going writes the point with its reason and empty figures.
    ok(&[
        "accel",
        "sweep",
        "--accels",
        "fp16",
        "--models",
        "opt-1.3b",
        "--arrays",
        "8x16,32x24",
        "--keep-going",
        "-o",
        s(&out),
    ]);
    let rows = rows(&out);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        if r["array"] == "8x16" {
            assert!(
                r["error"].contains("no CACTI entry for a 128-bit SRAM port"),
                "{r:?}"
            );
            assert_eq!((r["cycles"].as_str(), r["e_total_uj"].as_str()), ("", ""));
        } else {
            assert_eq!(r["error"], "");
            assert!(!r["cycles"].is_empty());
        }
    }
    // The flat single-run form still works beside the subcommands, and they do not mix.
    let v: Value = serde_json::from_str(&ok(&[
        "accel", "--model", "phi-2", "--accel", "ant", "--task", "decode", "--json",
    ]))
    .unwrap();
    assert_eq!(v["accelerator"], "ant");
    let e = err(&[
        "accel",
        "--model",
        "phi-2",
        "sweep",
        "--accels",
        "ant",
        "--models",
        "phi-2",
        "-o",
        s(&out),
    ]);
    assert!(e.contains("cannot be used with"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_accel_reports_both_parts() {
    // Structure and counts only: no timing is asserted.
    let v: Value = serde_json::from_str(&ok(&["bench", "accel", "--reps", "1", "--json"])).unwrap();
    assert_eq!(v["table"]["runs"], 60);
    assert!(v["table"]["secs"].as_f64().unwrap() > 0.0);
    let s = &v["sweep"];
    let accels: Vec<&str> = s["accelerators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(accels.len(), 7);
    assert_eq!(s["points"], 8 * 6 * 7 * 2);
    let (ev, re) = (
        s["evaluated"].as_u64().unwrap(),
        s["refused"].as_u64().unwrap(),
    );
    assert_eq!(ev + re, 672);
    assert_eq!(s["baseline"]["points"].as_u64().unwrap(), 672);
    let presets = [
        "fp16 (bitmod-hpca25)",
        "ant (bitmod-hpca25)",
        "olive (bitmod-hpca25)",
        "bitmod-lossless (bitmod-hpca25)",
        "bitmod-lossy (bitmod-hpca25)",
        "lmul-bf16 (pelab)",
        "fpmul-bf16 (pelab)",
    ];
    if accels == presets {
        // By the port-width rule of docs/accel.md: only OliVe's 4-bit decode weight ports
        // (4 bits per row: 128 at 32 rows, 144 at 36, 96 at 24) miss the CACTI table, on the
        // arrays 32x32, 32x16, 36x32 and 24x16, for the five models other than Yi-6B.
        assert_eq!(re, 4 * 5);
        assert_eq!(s["pe_energy"], "pelab points: gate");
        assert!(v["notes"][0]
            .as_str()
            .unwrap()
            .contains("gate-level PE energies"));
    } else {
        eprintln!(
            "SKIPPED check: bench accel sweeps other accelerators ({accels:?}); the refused count is \
             not checked against the bitmod-hpca25 port-width rule"
        );
    }
}

/// The seven energy parts of a sweep row, in column order, as the single-run JSON names them.
const PARTS: [(&str, &str); 7] = [
    ("e_pe_uj", "pe"),
    ("e_sram_read_uj", "sram_read"),
    ("e_sram_write_uj", "sram_write"),
    ("e_dram_uj", "dram"),
    ("e_leakage_pe_uj", "leakage_pe"),
    ("e_leakage_sram_uj", "leakage_sram"),
    ("e_stall_uj", "stall"),
];

/// Every row of a `pelab` sweep at native arrays against `pelab accel --timing pelab --json`
/// (one process per point, with the same `--pe-energy`).
fn check_pelab_rows(csv: &Path, pe_energy: &str) -> usize {
    let mut n = 0;
    for r in rows(csv) {
        let (a, m, t) = (&r["accelerator"], &r["model"], &r["task"]);
        let key = format!("{a} {m} {t} ({pe_energy})");
        assert_eq!(r["timing"], "pelab", "{key}");
        assert_eq!(r["array"], "native", "{key}");
        assert_eq!(r["error"], "", "{key}");
        let v: Value = serde_json::from_str(&ok(&[
            "accel",
            "--model",
            m,
            "--task",
            t,
            "--accel",
            a,
            "--timing",
            "pelab",
            "--pe-energy",
            pe_energy,
            "--json",
        ]))
        .unwrap();
        let tot = &v["totals"];
        assert_eq!(r["cycles"], tot["cycles"].to_string(), "{key}");
        let cc = tot["compute_cycles"].to_string();
        assert_eq!(r["compute_cycles"], cc, "{key}");
        // Each part: exact µJ = the JSON's exact pJ / 10^6; a part the model does not charge is
        // an empty cell (never 0) in both columns.
        let mut sum = Exact::default();
        for (col, part) in PARTS {
            let j = &tot["energy_exact_pj"][part];
            let exact = &r[&format!("{col}_exact")];
            if j.is_null() {
                assert_eq!((exact.as_str(), r[col].as_str()), ("", ""), "{key} {col}");
                continue;
            }
            let want = uj(ex(j.as_str().unwrap()));
            assert_eq!(ex(exact), want, "{key} {col}");
            let f: f64 = r[col].parse().unwrap();
            let jf = tot["energy_uj"][part].as_f64().unwrap();
            assert!(
                (f - jf).abs() <= f.abs() * 4e-16,
                "{key} {col}: {f} vs {jf}"
            );
            sum = sum + want;
        }
        assert_eq!(ex(&r["e_total_uj_exact"]), sum, "{key} total");
        let dram = uj(ex(tot["energy_exact_pj"]["dram"].as_str().unwrap()));
        assert_eq!(
            ex(&r["e_onchip_uj_exact"]),
            Exact(sum.0 - dram.0),
            "{key} on-chip"
        );
        // Utilization: active PE-cycles over the PE-cycles of the latency, each phase with its
        // own array (decode 20 times in generative).
        let phases: Vec<(&Value, u64)> = match v.get("phases") {
            Some(p) => p
                .as_array()
                .unwrap()
                .iter()
                .map(|ph| (ph, if ph["task"] == "decode" { 20 } else { 1 }))
                .collect(),
            None => vec![(&v, 1)],
        };
        let slots: f64 = phases
            .iter()
            .map(|(ph, w)| {
                let arr = &ph["setup"]["array"];
                let pes = arr["rows"].as_u64().unwrap() * arr["cols"].as_u64().unwrap();
                let cycles = match ph.get("totals") {
                    Some(t) if v.get("phases").is_some() => t["cycles"].as_u64().unwrap(),
                    _ => tot["cycles"].as_u64().unwrap(),
                };
                *w as f64 * pes as f64 * cycles as f64
            })
            .sum();
        let want = tot["active_pe_cycles"].as_u64().unwrap() as f64 / slots;
        let u: f64 = r["utilization"].parse().unwrap();
        assert!((u - want).abs() <= want * 1e-12, "{key}: {u} vs {want}");
        assert!(
            r["provenance"].contains(&format!("PE energy ({pe_energy})")),
            "{key}: {}",
            r["provenance"]
        );
        n += 1;
    }
    n
}

#[test]
fn pelab_native_rows_equal_single_runs() {
    let dir = tmp("pelab-native");
    let art = sweep(
        &dir,
        "artifact.csv",
        &[
            "--timing",
            "pelab",
            "--accels",
            "all",
            "--models",
            "all",
            "--tasks",
            "all",
            "--keep-going",
        ],
    );
    // The artifact has no PE energy for pelab's own PEs: with --keep-going their rows hold the
    // model's error and no figure.
    let all = rows(&art);
    assert_eq!(all.len(), 9 * 6 * 3);
    let own = ["lmul-bf16", "lmul-e4m3", "fpmul-bf16", "int16-dfp"];
    for r in &all {
        if own.contains(&r["accelerator"].as_str()) {
            assert!(r["error"].contains("--pe-energy gate"), "{:?}", r["error"]);
            assert_eq!((r["cycles"].as_str(), r["e_pe_uj"].as_str()), ("", ""));
        } else {
            assert_eq!(r["error"], "");
        }
    }
    let art = sweep(
        &dir,
        "artifact5.csv",
        &[
            "--timing",
            "pelab",
            "--accels",
            &ACCELS.join(","),
            "--models",
            "all",
            "--tasks",
            "all",
        ],
    );
    assert_eq!(check_pelab_rows(&art, "artifact"), 5 * 6 * 3);
    let gate = sweep(
        &dir,
        "gate.csv",
        &[
            "--timing",
            "pelab",
            "--pe-energy",
            "gate",
            "--accels",
            "fp16,bitmod-lossy,lmul-bf16,lmul-e4m3,fpmul-bf16,int16-dfp",
            "--models",
            "opt-1.3b,llama-3-8b",
            "--tasks",
            "all",
        ],
    );
    assert_eq!(check_pelab_rows(&gate, "gate"), 6 * 2 * 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pelab_shards_merge_byte_for_byte() {
    let dir = tmp("pelab-shards");
    let grids: [&[&str]; 2] = [
        &[
            "--timing",
            "all",
            "--accels",
            "fp16,bitmod-lossy",
            "--models",
            "opt-1.3b",
            "--tasks",
            "all",
            "--arrays",
            "native,64x16",
        ],
        &[
            "--timing",
            "pelab",
            "--pe-energy",
            "gate",
            "--accels",
            "lmul-bf16,fpmul-bf16",
            "--models",
            "phi-2",
            "--tasks",
            "all",
            "--arrays",
            "native,32x32",
        ],
    ];
    for (g, grid) in grids.iter().enumerate() {
        let whole = sweep(&dir, &format!("whole{g}.csv"), grid);
        let whole_bytes = std::fs::read(&whole).unwrap();
        let all = rows(&whole);
        let total = if g == 0 { 2 * 3 * 2 * 2 } else { 2 * 3 * 2 };
        assert_eq!(all.len(), total);
        assert!(all.iter().any(|r| r["timing"] == "pelab"));
        assert!(all.iter().all(|r| r["error"].is_empty()));
        for n in [2usize, 3, 5] {
            let parts: Vec<PathBuf> = (1..=n)
                .map(|k| {
                    let mut args = grid.to_vec();
                    let spec = format!("{k}/{n}");
                    args.extend_from_slice(&["--shard", &spec]);
                    sweep(&dir, &format!("p{g}-{n}-{k}.csv"), &args)
                })
                .collect();
            let merged = dir.join(format!("merged{g}-{n}.csv"));
            let mut args = vec!["accel", "merge", "-o", s(&merged)];
            args.extend(parts.iter().rev().map(|p| s(p)));
            ok(&args);
            assert!(
                std::fs::read(&merged).unwrap() == whole_bytes,
                "grid {g}, N = {n}: the merged shards differ from the unsharded sweep"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pelab_pe_energy_is_part_of_the_fingerprint() {
    let dir = tmp("pelab-pe");
    let grid = [
        "--timing",
        "pelab",
        "--accels",
        "fp16",
        "--models",
        "opt-1.3b",
        "--tasks",
        "prefill,decode",
    ];
    let with = |name: &str, extra: &[&str]| {
        let mut a = grid.to_vec();
        a.extend_from_slice(extra);
        rows(&sweep(&dir, name, &a))
    };
    let default = with("default.csv", &[]);
    let artifact = with("artifact.csv", &["--pe-energy", "artifact"]);
    let gate = with("gate.csv", &["--pe-energy", "gate"]);
    assert_eq!(default[0]["grid"], artifact[0]["grid"]);
    assert_ne!(artifact[0]["grid"], gate[0]["grid"]);
    // Same timing, different PE energy: the cycles agree, the PE energy does not.
    assert_eq!(artifact[0]["cycles"], gate[0]["cycles"]);
    assert_ne!(artifact[0]["e_pe_uj_exact"], gate[0]["e_pe_uj_exact"]);
    // The same grid as bitmod-hpca25 has yet another fingerprint.
    let hp = rows(&sweep(
        &dir,
        "hp.csv",
        &[
            "--accels",
            "fp16",
            "--models",
            "opt-1.3b",
            "--tasks",
            "prefill,decode",
        ],
    ));
    assert_ne!(hp[0]["grid"], artifact[0]["grid"]);
    // Merge refuses an artifact shard with a gate shard.
    let half = |name: &str, k: &str, pe: &str| {
        let mut a = grid.to_vec();
        a.extend_from_slice(&["--pe-energy", pe, "--shard", k]);
        sweep(&dir, name, &a)
    };
    let a1 = half("a1.csv", "1/2", "artifact");
    let g2 = half("g2.csv", "2/2", "gate");
    let merged = dir.join("mixed.csv");
    let e = err(&["accel", "merge", "-o", s(&merged), s(&a1), s(&g2)]);
    assert!(e.contains("a1.csv") && e.contains("g2.csv"), "{e}");
    assert!(!merged.exists());
    // Up-front refusals name the way out, and write nothing.
    let out = dir.join("refused.csv");
    let e = err(&[
        "accel",
        "sweep",
        "--timing",
        "pelab",
        "--accels",
        "fp16,lmul-bf16",
        "--models",
        "phi-2",
        "-o",
        s(&out),
    ]);
    assert!(
        e.contains("lmul-bf16") && e.contains("--pe-energy gate"),
        "{e}"
    );
    let e = err(&[
        "accel",
        "sweep",
        "--timing",
        "pelab",
        "--pe-energy",
        "gate",
        "--accels",
        "ant",
        "--models",
        "phi-2",
        "-o",
        s(&out),
    ]);
    assert!(
        e.contains("ant") && e.contains("--pe-energy artifact"),
        "{e}"
    );
    let e = err(&[
        "accel",
        "sweep",
        "--pe-energy",
        "gate",
        "--accels",
        "fp16",
        "--models",
        "phi-2",
        "-o",
        s(&out),
    ]);
    assert!(e.contains("only the pelab timing model"), "{e}");
    let e = err(&[
        "accel",
        "sweep",
        "--timing",
        "pelab",
        "--pe-energy",
        "rtl",
        "--accels",
        "fp16",
        "--models",
        "phi-2",
        "-o",
        s(&out),
    ]);
    assert!(e.contains("artifact, gate"), "{e}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
