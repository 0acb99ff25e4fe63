//! `pelab accel` end to end, against BitMoD's published numbers
//! (`sim/data/bitmod_hpca25_published.csv`, read here) and the per-op vectors worked out from
//! the artifact's model: the `--preset` table, one configuration in JSON and CSV, a model
//! file, and errors that list what is valid.

mod common;

use common::{err, ok};
use serde_json::Value;
use std::collections::BTreeMap;

fn published() -> BTreeMap<(String, String, String), (u64, i64, i64)> {
    common::published_hpca25()
}

fn json(args: &[&str]) -> Value {
    let mut v = args.to_vec();
    v.push("--json");
    serde_json::from_str(&ok(&v)).unwrap()
}

#[test]
fn preset_json_is_the_published_table() {
    let published = published();
    assert_eq!(published.len(), 60);
    let rows = json(&["accel", "--preset", "bitmod-hpca25"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 60);
    let fields = [
        "accelerator",
        "model",
        "task",
        "cycles",
        "energy_onchip_uj",
        "energy_total_uj",
    ];
    let mut floored_differ = 0;
    let mut seen = std::collections::BTreeSet::new();
    for r in rows {
        let o = r.as_object().unwrap();
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = fields.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want);
        let key = (
            o["accelerator"].as_str().unwrap().to_string(),
            o["model"].as_str().unwrap().to_string(),
            o["task"].as_str().unwrap().to_string(),
        );
        assert!(seen.insert(key.clone()));
        let (cycles, on, total) = published[&key];
        assert_eq!(o["cycles"].as_u64().unwrap(), cycles, "{key:?}");
        let got = [
            o["energy_onchip_uj"].as_i64().unwrap(),
            o["energy_total_uj"].as_i64().unwrap(),
        ];
        if key.0 == "fp16" && key.2 == "prefill" {
            // The notebooks hold this row floor()ed; the CLI prints round(): equal or one more.
            for (g, p) in got.into_iter().zip([on, total]) {
                assert!(g == p || g == p + 1, "{key:?}: {g} vs floored {p}");
                floored_differ += usize::from(g == p + 1);
            }
        } else {
            assert_eq!(got, [on, total], "{key:?}");
        }
    }
    assert_eq!(floored_differ, 8);
    // The CSV form holds the same table.
    let csv_text = ok(&["accel", "--preset", "bitmod-hpca25", "--csv"]);
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), fields);
    assert_eq!(r.records().count(), 60);
}

#[test]
fn preset_text_prints_the_aggregates() {
    let out = ok(&["accel", "--preset", "bitmod-hpca25"]);
    for needle in [
        "vs ant",
        "vs olive",
        "vs fp16",
        "generative",
        "CACTI",
        "58d7bdb",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    // The paper's "Geo Mean" bar is an arithmetic mean of per-model speedups, computed here
    // from the published cycles: BitMoD lossy's generative bar over ANT's.
    let p = published();
    let models = [
        "opt-1.3b",
        "phi-2",
        "yi-6b",
        "llama-2-7b",
        "llama-2-13b",
        "llama-3-8b",
    ];
    let gen = |a: &str, m: &str| {
        let c = |t: &str| p[&(a.to_string(), m.to_string(), t.to_string())].0 as f64;
        20.0 * c("decode") + c("prefill")
    };
    let bar = |a: &str| {
        models
            .iter()
            .map(|m| gen("fp16", m) / gen(a, m))
            .sum::<f64>()
            / 6.0
    };
    let ratio = format!("generative {:.3}x", bar("bitmod-lossy") / bar("ant"));
    assert!(out.contains(&ratio), "{ratio} missing:\n{out}");
}

#[test]
fn one_configuration_as_json() {
    let p = published();
    let v = json(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "decode",
        "--accel",
        "bitmod-lossy",
    ]);
    let key = |a: &str, t: &str| ("bitmod-lossy".to_string(), a.to_string(), t.to_string());
    let (cycles, on, total) = p[&key("llama-2-7b", "decode")];
    assert_eq!(v["timing"], "bitmod-hpca25");
    assert_eq!(v["totals"]["cycles"].as_u64().unwrap(), cycles);
    assert_eq!(v["totals"]["energy_onchip_uj"].as_i64().unwrap(), on);
    assert_eq!(v["totals"]["energy_total_uj"].as_i64().unwrap(), total);
    assert_eq!(v["setup"]["lat"], 2);
    assert_eq!(v["setup"]["weight_port_bits"], 512);
    let ops = v["ops"].as_array().unwrap();
    // 32 layers x (7 linear + 2 attention) + lm_head, grouped by module.
    assert_eq!(
        ops.iter()
            .map(|o| o["count"].as_u64().unwrap())
            .sum::<u64>(),
        289
    );
    assert_eq!(
        ops.iter()
            .map(|o| o["cycles"].as_u64().unwrap())
            .sum::<u64>(),
        cycles
    );
    let q = ops.iter().find(|o| o["name"] == "q_proj").unwrap();
    assert_eq!(q["count"], 32);
    // The per-op vector: tiles 65536, C 131072, D 201216 (DRAM-bound), exact E_pe.
    assert_eq!(q["each"]["tiles"], 65536);
    assert_eq!(q["each"]["compute_cycles"], 131072);
    assert_eq!(q["each"]["dram_cycles"], 201216);
    assert_eq!(q["each"]["bound"], "dram");
    assert_eq!(q["each"]["energy_pj"]["pe"], "112742891.52");

    // Generative: 20 x decode + prefill, from the published cycles.
    let g = json(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "generative",
        "--accel",
        "bitmod-lossy",
    ]);
    let prefill = p[&key("llama-2-7b", "prefill")].0;
    assert_eq!(
        g["totals"]["cycles"].as_u64().unwrap(),
        20 * cycles + prefill
    );
    assert_eq!(g["phases"].as_array().unwrap().len(), 2);

    // CSV of the groups: one row per module.
    let text = ok(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "decode",
        "--accel",
        "bitmod-lossy",
        "--csv",
    ]);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<_> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 10);
    let total: u64 = rows.iter().map(|r| r[18].parse::<u64>().unwrap()).sum();
    assert_eq!(total, cycles);
}

#[test]
fn model_file_equals_the_builtin() {
    let dir = std::env::temp_dir().join(format!("pelab-accel-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("yi.toml");
    std::fs::write(
        &file,
        r#"name = "Yi-6B"
layers = 32
hidden = 4096
ffn = 11008
heads = 32
kv_heads = 4
vocab = 64000
linears = [
  { name = "q_proj", out = "h", in = "h" },
  { name = "k_proj", out = "kvd", in = "h" },
  { name = "v_proj", out = "kvd", in = "h" },
  { name = "o_proj", out = "h", in = "h" },
  { name = "gate_proj", out = "f", in = "h" },
  { name = "up_proj", out = "f", in = "h" },
  { name = "down_proj", out = "h", in = "f" },
]
"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    // ANT's decode precision for Yi-6B is per model (5.25 bits): the file's id must be yi-6b
    // for that, so compare against FP16 (16 bits for every model) and prefill.
    let p = published();
    for (accel, task) in [("fp16", "decode"), ("ant", "prefill")] {
        let v = json(&["accel", "--model-file", f, "--task", task, "--accel", accel]);
        let (cycles, on, total) = p[&(accel.to_string(), "yi-6b".to_string(), task.to_string())];
        assert_eq!(v["totals"]["cycles"].as_u64().unwrap(), cycles);
        assert_eq!(v["totals"]["energy_onchip_uj"].as_i64().unwrap(), on);
        assert_eq!(v["totals"]["energy_total_uj"].as_i64().unwrap(), total);
    }
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n  \"layers\": 2,\n  \"hidden\": -4\n}\n").unwrap();
    let e = err(&[
        "accel",
        "--model-file",
        bad.to_str().unwrap(),
        "--accel",
        "fp16",
    ]);
    assert!(e.contains("bad.json:3:13:"), "{e}");
    assert!(e.contains("expected an integer from 1 to"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_list_the_valid_values() {
    let e = err(&["accel", "--model", "gpt-5", "--accel", "fp16"]);
    assert!(e.contains("--model: unknown value `gpt-5`"), "{e}");
    for m in [
        "opt-1.3b",
        "phi-2",
        "yi-6b",
        "llama-2-7b",
        "llama-2-13b",
        "llama-3-8b",
    ] {
        assert!(e.contains(m), "{e}");
    }
    let e = err(&["accel", "--model", "phi-2", "--accel", "tpu"]);
    assert!(
        e.contains("fp16, ant, olive, bitmod-lossless, bitmod-lossy"),
        "{e}"
    );
    let e = err(&[
        "accel", "--model", "phi-2", "--accel", "ant", "--task", "train",
    ]);
    assert!(e.contains("prefill, decode, generative"), "{e}");
    let e = err(&[
        "accel", "--model", "phi-2", "--accel", "ant", "--timing", "scalesim",
    ]);
    assert!(
        e.contains("--timing: unknown value `scalesim` (expected one of: bitmod-hpca25, pelab)"),
        "{e}"
    );
    let e = err(&["accel", "--preset", "hpca24"]);
    assert!(e.contains("bitmod-hpca25"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// --timing pelab
// ---------------------------------------------------------------------------------------------

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pelab-accel-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn pelab_one_configuration() {
    let v = json(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "decode",
        "--accel",
        "bitmod-lossy",
        "--timing",
        "pelab",
    ]);
    assert_eq!(v["timing"], "pelab");
    assert_eq!(v["options"]["dataflow"], "os");
    assert_eq!(v["options"]["overlap"], "none");
    let t = &v["totals"];
    // Each decode step reads K and V of the context, 2·T·kvd FP16 elements per layer, and
    // writes the new rows.
    assert_eq!(t["kv_read_bytes"], 32 * 2 * 256 * 4096 * 2);
    assert_eq!(t["kv_write_bytes"], 32 * 2 * 4096 * 2);
    // The artifact charges no leakage or stall energy: not modelled, not 0.
    let not: Vec<&str> = t["not_modelled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(not, ["leakage_pe", "leakage_sram", "stall"]);
    assert!(t["energy_uj"]["stall"].is_null());
    let ops = v["ops"].as_array().unwrap();
    // 32 layers x (7 linear + kv_write + 32 groups x (qk, sv)) + lm_head.
    assert_eq!(
        ops.iter()
            .map(|o| o["count"].as_u64().unwrap())
            .sum::<u64>(),
        32 * (7 + 1 + 64) + 1
    );
    assert_eq!(
        ops.iter()
            .map(|o| o["cycles"].as_u64().unwrap())
            .sum::<u64>(),
        t["cycles"].as_u64().unwrap()
    );
    // q_proj by hand: os, M = 4096, K = 4096, N = 1 on 64x16, 4 lanes, 2 cycles per beat,
    // groups of 128 (32 beats, 64 cycles): 64 folds of 64 + 16 + 2048 − 2 = 2126 cycles;
    // SCALE-Sim's 64·2126 − 1, then the drain (64 + 1) and the PE's result latency (9):
    // cycles 0..=136137. DRAM: the artifact's 201216 cycles, so DRAM-bound.
    let q = ops.iter().find(|o| o["name"] == "q_proj").unwrap();
    assert_eq!(q["each"]["folds"], 64);
    assert_eq!(q["each"]["cycles_per_fold"], 2126);
    assert_eq!(q["each"]["compute_cycles"], 136138);
    assert_eq!(q["each"]["dram_cycles"], 201216);
    assert_eq!(q["cycles"], 32 * 201216);
    // Attention per KV group: K [256 x 128] against the one query row.
    let qk = ops.iter().find(|o| o["name"] == "attn_qk").unwrap();
    assert_eq!(qk["count"], 32 * 32);
    assert_eq!(
        (qk["cout"].as_u64(), qk["cin"].as_u64(), qk["tok"].as_u64()),
        (Some(256), Some(128), Some(1))
    );
    assert_eq!(qk["each"]["op"]["macs"], 256 * 128);
    // The total is the sum of its modelled parts.
    let e = &t["energy_uj"];
    let sum: f64 = ["pe", "sram_read", "sram_write", "dram"]
        .iter()
        .map(|k| e[k].as_f64().unwrap())
        .sum();
    assert!((sum - e["total"].as_f64().unwrap()).abs() < 1e-6 * sum);

    // Generative: 20 x decode + prefill, from the two runs.
    let one = |task: &str| {
        json(&[
            "accel",
            "--model",
            "llama-2-7b",
            "--task",
            task,
            "--accel",
            "bitmod-lossy",
            "--timing",
            "pelab",
            "--overlap",
            "double-buffer",
        ])["totals"]["cycles"]
            .as_u64()
            .unwrap()
    };
    let g = json(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "generative",
        "--accel",
        "bitmod-lossy",
        "--timing",
        "pelab",
        "--overlap",
        "double-buffer",
    ]);
    assert_eq!(
        g["totals"]["cycles"].as_u64().unwrap(),
        20 * one("decode") + one("prefill")
    );

    // CSV: one row per group.
    let text = ok(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "decode",
        "--accel",
        "bitmod-lossy",
        "--timing",
        "pelab",
        "--csv",
    ]);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&r.headers().unwrap()[1], "op");
    assert_eq!(r.records().count(), ops.len());
    // Text shows the breakdown with what is not modelled.
    let text = ok(&[
        "accel", "--model", "phi-2", "--accel", "fp16", "--timing", "pelab", "--causal",
        "--charge", "active",
    ]);
    for needle in ["not modelled", "causal on", "charge active", "SRAM leakage"] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn pelab_preset_table() {
    let rows = json(&["accel", "--preset", "bitmod-hpca25", "--timing", "pelab"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 60);
    for r in rows {
        // Every configuration runs, OliVe's 72x16 decode array included.
        assert!(r["cycles"].as_u64().unwrap() > 0, "{r}");
    }
    // A row equals the single configuration.
    let one = json(&[
        "accel", "--model", "yi-6b", "--task", "prefill", "--accel", "ant", "--timing", "pelab",
    ]);
    let row = rows
        .iter()
        .find(|r| r["accelerator"] == "ant" && r["model"] == "yi-6b" && r["task"] == "prefill")
        .unwrap();
    assert_eq!(row["cycles"], one["totals"]["cycles"]);
    let text = ok(&["accel", "--preset", "bitmod-hpca25", "--timing", "pelab"]);
    for needle in ["vs ant", "vs olive", "mean of prefill and generative"] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn pelab_accel_files_round_trip() {
    let dir = temp_dir("files");
    for id in [
        "fp16",
        "ant",
        "olive",
        "bitmod-lossless",
        "bitmod-lossy",
        "lmul-bf16",
        "lmul-e4m3",
        "fpmul-bf16",
        "int16-dfp",
    ] {
        for (ext, extra) in [("toml", None), ("json", Some("--json"))] {
            let mut args = vec!["accel", "--accel", id, "--timing", "pelab", "--print-accel"];
            args.extend(extra);
            let text = ok(&args);
            let f = dir.join(format!("{id}.{ext}"));
            std::fs::write(&f, &text).unwrap();
            let f = f.to_str().unwrap();
            // The file prints back the same definition.
            let mut again = vec![
                "accel",
                "--accel-file",
                f,
                "--timing",
                "pelab",
                "--print-accel",
            ];
            again.extend(extra);
            assert_eq!(ok(&again), text, "{id} {ext}");
            if ["ant", "olive", "bitmod-lossy"].contains(&id) {
                let run = |a: &[&str]| {
                    let mut v = vec!["accel", "--model", "opt-1.3b", "--task", "prefill"];
                    v.extend(a);
                    v.extend(["--timing", "pelab"]);
                    json(&v)["totals"].clone()
                };
                assert_eq!(run(&["--accel-file", f]), run(&["--accel", id]), "{id}");
            }
        }
    }
    // bitmod-hpca25's definitions too: the published decode cycles of BitMoD lossy.
    let text = ok(&["accel", "--accel", "bitmod-lossy", "--print-accel"]);
    let f = dir.join("hpca25.toml");
    std::fs::write(&f, &text).unwrap();
    let v = json(&[
        "accel",
        "--model",
        "llama-2-7b",
        "--task",
        "decode",
        "--accel-file",
        f.to_str().unwrap(),
    ]);
    let p = published();
    let key = (
        "bitmod-lossy".to_string(),
        "llama-2-7b".to_string(),
        "decode".to_string(),
    );
    assert_eq!(v["totals"]["cycles"].as_u64().unwrap(), p[&key].0);
    // A malformed file: its line and column.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, text.replacen("dp = 4", "dp = 0", 1)).unwrap();
    let line = text.lines().position(|l| l == "dp = 4").unwrap() + 1;
    let e = err(&[
        "accel",
        "--model",
        "phi-2",
        "--accel-file",
        bad.to_str().unwrap(),
    ]);
    assert!(
        e.contains(&format!("bad.toml:{line}:6: `dp`: must be positive")),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pelab_errors_name_the_choices() {
    let base = ["accel", "--model", "phi-2", "--timing", "pelab"];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend(extra);
        err(&v)
    };
    let e = with(&["--accel", "tpu"]);
    assert!(
        e.contains(
            "fp16, ant, olive, bitmod-lossless, bitmod-lossy, lmul-bf16, lmul-e4m3, fpmul-bf16, \
             int16-dfp"
        ),
        "{e}"
    );
    let e = with(&["--accel", "lmul-bf16"]);
    assert!(e.contains("--pe-energy gate"), "{e}");
    let e = with(&["--accel", "fp16", "--overlap", "triple"]);
    assert!(e.contains("none, double-buffer, serial"), "{e}");
    let e = with(&["--accel", "fp16", "--charge", "some"]);
    assert!(e.contains("all, active"), "{e}");
    let e = with(&["--accel", "fp16", "--dataflow", "rs"]);
    assert!(e.contains("os, ws, is"), "{e}");
    let e = with(&["--accel", "fp16", "--pe-energy", "spice"]);
    assert!(e.contains("artifact, gate"), "{e}");
    let e = with(&["--accel", "bitmod-lossy", "--dataflow", "ws"]);
    assert!(e.contains("os dataflow only"), "{e}");
    let e = with(&["--accel", "ant", "--pe-energy", "gate"]);
    assert!(e.contains("no gate-measured PE"), "{e}");
    let e = err(&[
        "accel",
        "--model",
        "phi-2",
        "--accel",
        "fp16",
        "--overlap",
        "none",
    ]);
    assert!(
        e.contains("--overlap applies to --timing pelab only"),
        "{e}"
    );
    let e = err(&["accel", "--model", "phi-2", "--accel", "lmul-bf16"]);
    assert!(e.contains("accelerator of --timing pelab"), "{e}");
    let list = ok(&["accel", "--list-accels"]);
    for id in ["bitmod-lossy", "int16-dfp", "gate `int16fma`"] {
        assert!(list.contains(id), "{list}");
    }
}

/// The gate-measured PE names the model maps accelerators to are those the measurement gives.
#[test]
fn pelab_gate_pe_names_are_the_measurements() {
    assert_eq!(
        pelab_sim::accel::pelab::GATE_PES,
        pelab_reports::accel_energy::PE_NAMES
    );
}

/// `--pe-energy gate`: the accelerator's `gate_pe` entry of pelab's gate-level measurement
/// (measured into a fresh cache, a few seconds) prices busy PE-cycles, idle PE-cycles and
/// leakage; SRAM leakage stays not modelled.
#[test]
fn pelab_gate_pe_energy() {
    let dir = temp_dir("gate");
    let cache = dir.join("cache");
    let v = json(&[
        "accel",
        "--model",
        "opt-1.3b",
        "--task",
        "decode",
        "--accel",
        "lmul-bf16",
        "--timing",
        "pelab",
        "--pe-energy",
        "gate",
        "--cache",
        cache.to_str().unwrap(),
    ]);
    let entries = pelab_reports::accel_energy::gate_pe_energies(&cache, &|_| {}).unwrap();
    let g = entries.iter().find(|e| e.pe == "lmul-bf16").unwrap();
    let t = &v["totals"];
    let a = &v["setup"]["array"];
    let pes = (a["rows"].as_u64().unwrap() * a["cols"].as_u64().unwrap()) as f64;
    let num = |x: &Value| x.as_f64().unwrap();
    let close = |got: f64, want: f64| assert!((got - want).abs() <= 1e-9 * want, "{got} {want}");
    let e = &t["energy_uj"];
    close(
        num(&e["pe"]),
        g.pj_per_pe_cycle * num(&t["pe_cycles"]) / 1e6,
    );
    close(
        num(&e["stall"]),
        g.idle_pj_per_pe_cycle * num(&t["idle_pe_cycles"]) / 1e6,
    );
    // nW x cycles at 1 GHz: 10^-18 J per nW-cycle, 10^-12 µJ.
    close(
        num(&e["leakage_pe"]),
        g.leakage_nw_per_pe * pes * num(&t["cycles"]) / 1e12,
    );
    assert!(e["leakage_sram"].is_null());
    assert_eq!(v["energy_figures"]["pe"]["origin"], "gate");
    assert!(v["energy_figures"]["pe"]["source"]
        .as_str()
        .unwrap()
        .contains("Nangate"));
    std::fs::remove_dir_all(&dir).unwrap();
}
