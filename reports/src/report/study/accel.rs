//! The accelerator study: BitMoD's (HPCA 2025) accelerator-level claim — BitMoD (lossy) 1.69x
//! faster than ANT and 1.48x than OliVe — under the artifact's model (`bitmod-hpca25`), under
//! pelab's timing model (`pelab`, artifact PE energies) and under pelab's timing with pelab's
//! gate-level PE energies; per-model speedups, an energy breakdown, and L-Mul's PE saving once
//! the memory of an accelerator is included (docs/accel.md, docs/report.md).

use super::{figure, Results, Study};
use crate::accel_energy::{gate_pe_energies, gate_pe_energy, GatePeEnergy};
use crate::plots::{short, BarSeries, Bars, Figure, Panel, Stacked};
use crate::report::{Claim, ReportOpts};
use crate::table::{cell_str, fnum, md, md_head, md_row, pct, provenance_md};
use crate::Table;
use pelab_sim::accel::hpca25::{
    self, artifact_table, normalized_energy, speedups, ArtifactRow, Phase, GENERATIVE_DECODE_STEPS,
    PRESET_IDS,
};
use pelab_sim::accel::pelab::{self as pm, Options, PeEnergy, PelabAccelerator};
use pelab_sim::accel::report::uj;
use pelab_sim::accel::workload::{Scenario, Task, Workload, BUILTIN_IDS};
use pelab_sim::{Error, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The aggregates, per timing model and PE-energy source.
const TABLE: &str = "accel";
/// BitMoD (lossy)'s speedup per model and task.
const MODELS: &str = "accel_models";
/// The energy breakdown of one model under pelab timing and gate PE energies.
const BREAKDOWN: &str = "accel_breakdown";
/// The accelerator whose speedups the paper claims.
const LOSSY: &str = "bitmod-lossy";
/// The baselines of the claim, with their display names and the paper's published speedups of
/// BitMoD (lossy) over them (mean of the prefill and generative bars; Sec. VI-C).
const BASELINES: [(&str, &str, Option<f64>); 3] = [
    ("ant", "ANT", Some(1.69)),
    ("olive", "OliVe", Some(1.48)),
    ("fp16", "FP16", None),
];
/// The model of the energy breakdown and of the L-Mul comparison.
const BREAKDOWN_MODEL: &str = "llama-2-7b";
/// The accelerators of the breakdown (pelab timing, gate PE energies).
const BREAKDOWN_ACCELS: [&str; 5] = [
    "fp16",
    "bitmod-lossless",
    "bitmod-lossy",
    "lmul-bf16",
    "fpmul-bf16",
];
/// The phase the paper's claim averages with the prefill bar... and the name of that mean.
const MEAN: &str = "mean(prefill,generative)";
/// A ratio within this relative distance of the paper's reproduces it.
const RATIO_TOLERANCE: f64 = 0.20;
/// The L-Mul paper's claim: L-Mul dot products take about 80% less energy than FP8 multiply.
const LMUL_PAPER_SAVING: f64 = 0.80;

/// The accelerator study.
pub(crate) struct Accel;

/// One (timing, PE energy) configuration's runs.
struct Config {
    timing: &'static str,
    pe_energy: &'static str,
    /// The table rows (cycles, rounded µJ) of the accelerators it could run.
    rows: Vec<ArtifactRow>,
    /// Why an accelerator could not run, by id.
    refused: BTreeMap<&'static str, String>,
}

/// The directory caching the gate-level PE energies: `accel-pe-energy` under pelab's cache
/// directory (`$PELAB_CACHE_DIR`, else `$XDG_CACHE_HOME/pelab`, else `~/.cache/pelab`; the one
/// Yosys results are cached in).
fn gate_cache() -> std::path::PathBuf {
    pelab_hdl::synth::cache_dir().join("accel-pe-energy")
}

/// The PE energy of `c` from the gate measurement `gate`.
fn gate_energy(gate: &[GatePeEnergy], c: &pm::PelabConfig) -> Result<PeEnergy> {
    let entry = c.gate_pe.as_deref().ok_or_else(|| {
        Error::new(format!(
            "pelab has no gate model of the {} PE (measured: {})",
            c.pe,
            pm::GATE_PES.join(", ")
        ))
    })?;
    gate_pe_energy(gate, entry)
}

/// The accelerator `id` under pelab's timing with artifact (`gate` = None) or gate PE energies.
fn pelab_accel(id: &str, gate: Option<&[GatePeEnergy]>) -> Result<PelabAccelerator> {
    let c = pm::preset(id).ok_or_else(|| Error::new(format!("no pelab accelerator `{id}`")))?;
    let e = match gate {
        None => PeEnergy::artifact(&c)?,
        Some(g) => gate_energy(g, &c)?,
    };
    PelabAccelerator::new(c, e)
}

/// The five accelerators x six models x {prefill, decode} under pelab's timing.
fn pelab_config(gate: std::result::Result<&[GatePeEnergy], &str>, label: &'static str) -> Config {
    let mut rows = Vec::new();
    let mut refused = BTreeMap::new();
    for a in PRESET_IDS {
        let acc = match (label, gate) {
            ("gate", Ok(g)) => pelab_accel(a, Some(g)),
            ("gate", Err(e)) => Err(Error::new(format!(
                "gate-level PE energies not measured: {e}"
            ))),
            _ => pelab_accel(a, None),
        };
        let run = acc.and_then(|acc| {
            let mut v = Vec::new();
            for m in BUILTIN_IDS {
                let w = Workload::builtin(m).expect("built-in model");
                for task in Task::ALL {
                    let r = acc.run(&w, Scenario::new(task), &Options::default())?;
                    v.push(r.totals.artifact_row(a, m, task));
                }
            }
            Ok(v)
        });
        match run {
            Ok(v) => rows.extend(v),
            Err(e) => {
                refused.insert(a, e.to_string());
            }
        }
    }
    Config {
        timing: pm::MODEL_NAME,
        pe_energy: label,
        rows,
        refused,
    }
}

/// The mean-speedup bar of `a` over FP16 in `phase` (the paper's "Geo Mean", an arithmetic
/// mean), when both ran.
fn bar(rows: &[ArtifactRow], a: &str, phase: Phase) -> Option<f64> {
    speedups(rows, "fp16", a, phase).ok().map(|(_, m)| m)
}

/// The aggregates table: per configuration, accelerator and phase.
fn aggregates(configs: &[Config], speed_rows: &[&[ArtifactRow]]) -> Result<Table> {
    let mut t = Table::new(
        TABLE,
        "BitMoD (lossy)'s speedup over each accelerator and each accelerator's normalized \
         energy (Figs. 7 and 8 of BitMoD), per timing model and PE-energy source",
        &[
            "timing",
            "pe_energy",
            "accelerator",
            "phase",
            "speedup_over_fp16",
            "bitmod_lossy_over",
            "paper_bitmod_lossy_over",
            "normalized_energy_onchip",
            "normalized_energy_total",
            "note",
        ],
    );
    for (c, srows) in configs.iter().zip(speed_rows) {
        for a in PRESET_IDS {
            let paper = BASELINES.iter().find(|b| b.0 == a).and_then(|b| b.2);
            let mut ratios = BTreeMap::new();
            for ph in Phase::ALL {
                let s = bar(srows, a, ph);
                let l = bar(srows, LOSSY, ph);
                let ratio = s.zip(l).map(|(s, l)| l / s);
                ratios.insert(ph.name(), ratio);
                let ne = c
                    .refused
                    .contains_key(a)
                    .then_some(())
                    .map_or_else(|| normalized_energy(&c.rows, a, ph).ok(), |_| None);
                t.push(vec![
                    json!(c.timing),
                    json!(c.pe_energy),
                    json!(a),
                    json!(ph.name()),
                    s.map_or(Value::Null, fnum),
                    ratio.map_or(Value::Null, fnum),
                    Value::Null,
                    ne.as_ref().map_or(Value::Null, |n| fnum(n.1 .0)),
                    ne.as_ref().map_or(Value::Null, |n| fnum(n.1 .1)),
                    json!(c.refused.get(a).cloned().unwrap_or_default()),
                ])?;
            }
            let mean = ratios["prefill"]
                .zip(ratios["generative"])
                .map(|(p, g)| (p + g) / 2.0);
            t.push(vec![
                json!(c.timing),
                json!(c.pe_energy),
                json!(a),
                json!(MEAN),
                Value::Null,
                mean.map_or(Value::Null, fnum),
                paper.map_or(Value::Null, fnum),
                Value::Null,
                Value::Null,
                json!(""),
            ])?;
        }
    }
    t.provenance = vec![
        format!(
            "models: the six of BitMoD's Figs. 7 and 8 ({}), batch 1, context 256; prefill, \
             decode (one token) and generative = {GENERATIVE_DECODE_STEPS} x decode + prefill",
            BUILTIN_IDS.join(", ")
        ),
        "speedup_over_fp16: the arithmetic mean over the six models of cycles_FP16 / cycles \
         (the bar the paper labels \"Geo Mean\"); bitmod_lossy_over: the ratio of BitMoD \
         (lossy)'s bar to this accelerator's; mean(prefill,generative): the mean of the prefill \
         and generative ratios, the figure the paper's 1.69x (ANT) and 1.48x (OliVe) state \
         (paper_bitmod_lossy_over, typed from the paper's text)"
            .into(),
        "normalized_energy: each model's on-chip and total energy (µJ rounded to integers, as \
         the artifact prints them) divided by the same model's FP16 total energy, mean over \
         the six models (Fig. 8)"
            .into(),
        format!("bitmod-hpca25 timing and energy: {}", hpca25::PROVENANCE),
        format!(
            "pelab timing: {}; options: the defaults (output-stationary, no causal mask, no \
             overlap, PE energy on every PE-cycle, attention latency from the K/V precision)",
            pm::PROVENANCE
        ),
        "pe_energy artifact: BitMoD's per-PE constants (TSMC 28 nm, 1 GHz); gate: pelab's \
         gate-level measurement of its own PE (Yosys generic gates priced with Nangate 45 nm \
         figures, typical corner, 1.1 V; Gaussian operands, seed 1, dot:128, zero delay, \
         1 GHz; reports/src/accel_energy.rs) beside the artifact's 28 nm CACTI SRAM and \
         150 pJ/B DRAM figures: two technologies in one sum. The PE energy does not change the \
         cycles, so the gate rows' speedups are the pelab rows' (checked equal where both ran)"
            .into(),
    ];
    Ok(t)
}

/// BitMoD (lossy)'s speedup per model and task, over each baseline, per timing model.
fn per_model(timings: &[(&str, &[ArtifactRow])]) -> Result<Table> {
    let mut t = Table::new(
        MODELS,
        "BitMoD (lossy)'s speedup (cycles_baseline / cycles_bitmod_lossy) per model and task",
        &[
            "timing",
            "model",
            "task",
            "baseline",
            "cycles_baseline",
            "cycles_bitmod_lossy",
            "speedup",
        ],
    );
    for (timing, rows) in timings {
        for m in BUILTIN_IDS {
            for ph in [Phase::Prefill, Phase::Decode] {
                let l = hpca25::phase_cycles(rows, LOSSY, m, ph)?;
                for (b, _, _) in BASELINES {
                    let c = hpca25::phase_cycles(rows, b, m, ph)?;
                    t.push(vec![
                        json!(timing),
                        json!(m),
                        json!(ph.name()),
                        json!(b),
                        json!(c),
                        json!(l),
                        fnum(c as f64 / l as f64),
                    ])?;
                }
            }
        }
    }
    t.provenance = vec![format!(
        "batch 1, context 256; bitmod-hpca25: {}; pelab: pelab's timing, default options \
         (docs/accel.md)",
        hpca25::PROVENANCE
    )];
    Ok(t)
}

/// The energy breakdown of llama-2-7b under pelab timing with gate PE energies.
fn breakdown(gate: std::result::Result<&[GatePeEnergy], &str>) -> Result<Table> {
    let mut t = Table::new(
        BREAKDOWN,
        "Energy breakdown of llama-2-7b (whole model, every layer) under pelab timing with \
         pelab's gate-level PE energies",
        &[
            "model",
            "task",
            "accelerator",
            "pe",
            "gate_pj_per_pe_cycle",
            "cycles",
            "pe_uj",
            "sram_read_uj",
            "sram_write_uj",
            "dram_uj",
            "leakage_uj",
            "stall_uj",
            "onchip_uj",
            "total_uj",
        ],
    );
    let mut prov = vec![format!(
        "{BREAKDOWN_MODEL}: the whole model (all layers), batch 1, context 256; prefill (256 \
         tokens) and decode (one token); pelab timing, default options; PE energy: pelab's \
         gate-level measurement (Yosys generic gates priced with Nangate 45 nm figures, \
         typical corner, 1.1 V, Gaussian operands, seed 1, dot:128, zero delay, 1 GHz; cached \
         in {}); SRAM: the artifact's CACTI figures (28 nm); DRAM: 150 pJ/B; clock 1 GHz \
         (docs/accel.md)",
        gate_cache().display()
    )];
    match gate {
        Err(e) => prov.push(format!("gate-level PE energies: not measured: {e}")),
        Ok(g) => {
            let w = Workload::builtin(BREAKDOWN_MODEL).expect("built-in model");
            for a in BREAKDOWN_ACCELS {
                let acc = pelab_accel(a, Some(g))?;
                let pj = g
                    .iter()
                    .find(|x| Some(x.pe.as_str()) == acc.config.gate_pe.as_deref())
                    .map(|x| x.pj_per_pe_cycle);
                for task in Task::ALL {
                    let r = acc.run(&w, Scenario::new(task), &Options::default())?;
                    let e = &r.totals.energy;
                    let o = |x: Option<pelab_sim::accel::exact::Exact>| {
                        x.map_or(Value::Null, |x| fnum(uj(x)))
                    };
                    let leak = match (e.leakage_pe, e.leakage_sram) {
                        (None, None) => None,
                        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
                    };
                    t.push(vec![
                        json!(BREAKDOWN_MODEL),
                        json!(task.name()),
                        json!(a),
                        json!(acc.config.pe),
                        pj.map_or(Value::Null, fnum),
                        json!(r.totals.cycles),
                        fnum(uj(e.pe)),
                        fnum(uj(e.sram_read)),
                        fnum(uj(e.sram_write)),
                        fnum(uj(e.dram)),
                        o(leak),
                        o(e.stall),
                        fnum(uj(e.on_chip())),
                        fnum(uj(e.total())),
                    ])?;
                }
            }
            prov.push(
                "ant and olive are not in this table: pelab has no gate model of their FP16 x \
                 INT8 FMA PE"
                    .into(),
            );
        }
    }
    t.provenance = prov;
    Ok(t)
}

/// A row's number in column `c`.
fn num(t: &Table, r: &[Value], c: &str) -> Result<Option<f64>> {
    Ok(r[t.col(c)?].as_f64())
}

/// The value of `col` in the first row whose columns equal `want`.
fn find(t: &Table, want: &[(&str, &str)], col: &str) -> Result<Option<f64>> {
    let idx: Vec<(usize, &str)> = want
        .iter()
        .map(|(c, v)| Ok((t.col(c)?, *v)))
        .collect::<Result<_>>()?;
    let c = t.col(col)?;
    Ok(t.rows
        .iter()
        .find(|r| idx.iter().all(|(i, v)| cell_str(&r[*i]) == *v))
        .and_then(|r| r[c].as_f64()))
}

fn x3(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.3}x"))
}

fn f3(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.3}"))
}

/// BitMoD (lossy)'s speedups over the baselines under one configuration, as Markdown rows.
fn speedup_rows(t: &Table, timing: &str, pe: &str, label: &str) -> Result<String> {
    let mut s = String::new();
    for (b, name, paper) in BASELINES {
        let g = |ph: &str| {
            find(
                t,
                &[
                    ("timing", timing),
                    ("pe_energy", pe),
                    ("accelerator", b),
                    ("phase", ph),
                ],
                "bitmod_lossy_over",
            )
        };
        s.push_str(&md_row(&[
            format!("{label}{name}"),
            x3(g("prefill")?),
            x3(g("decode")?),
            x3(g("generative")?),
            x3(g(MEAN)?),
            paper.map_or("—".into(), |p| format!("{p:.2}x")),
        ]));
    }
    Ok(s)
}

/// The normalized-energy rows of one configuration.
fn energy_rows(t: &Table, timing: &str, pe: &str) -> Result<String> {
    let mut s = String::new();
    for a in PRESET_IDS {
        let mut cells = vec![a.to_string()];
        let mut note = String::new();
        for ph in Phase::ALL {
            let w = [
                ("timing", timing),
                ("pe_energy", pe),
                ("accelerator", a),
                ("phase", ph.name()),
            ];
            let on = find(t, &w, "normalized_energy_onchip")?;
            let tot = find(t, &w, "normalized_energy_total")?;
            cells.push(format!("{} / {}", f3(on), f3(tot)));
            if on.is_none() && note.is_empty() {
                let nc = t.col("note")?;
                note = t
                    .rows
                    .iter()
                    .find(|r| {
                        cell_str(&r[0]) == timing
                            && cell_str(&r[1]) == pe
                            && cell_str(&r[2]) == a
                            && !cell_str(&r[nc]).is_empty()
                    })
                    .map_or_else(
                        || "not measured".into(),
                        |r| format!("not measured: {}", cell_str(&r[nc])),
                    );
            }
        }
        cells.push(note);
        s.push_str(&md_row(&cells));
    }
    Ok(s)
}

/// The headline (mean of prefill and generative over ANT and OliVe) per configuration.
fn headline(t: &Table, timing: &str, pe: &str, base: &str) -> Result<Option<f64>> {
    find(
        t,
        &[
            ("timing", timing),
            ("pe_energy", pe),
            ("accelerator", base),
            ("phase", MEAN),
        ],
        "bitmod_lossy_over",
    )
}

/// The L-Mul comparison from the breakdown table: per task (PE, memory, total µJ of lmul-bf16
/// and fpmul-bf16; the gate pJ per PE-cycle of each).
struct LMulRow {
    task: &'static str,
    lmul: [f64; 4],
    fpmul: [f64; 4],
    cycles: (f64, f64),
}

fn lmul_rows(t: &Table) -> Result<Vec<LMulRow>> {
    let mut v = Vec::new();
    for task in ["prefill", "decode"] {
        let get = |a: &str| -> Result<Option<([f64; 4], f64)>> {
            let Some(r) = t.rows.iter().find(|r| {
                cell_str(&r[0]) == BREAKDOWN_MODEL
                    && cell_str(&r[1]) == task
                    && cell_str(&r[2]) == a
            }) else {
                return Ok(None);
            };
            let n = |c: &str| num(t, r, c).map(|x| x.unwrap_or(0.0));
            let pe = n("pe_uj")?;
            let total = n("total_uj")?;
            let mem = n("sram_read_uj")? + n("sram_write_uj")? + n("dram_uj")?;
            Ok(Some((
                [pe, mem, total, n("gate_pj_per_pe_cycle")?],
                n("cycles")?,
            )))
        };
        if let (Some(l), Some(f)) = (get("lmul-bf16")?, get("fpmul-bf16")?) {
            v.push(LMulRow {
                task,
                lmul: l.0,
                fpmul: f.0,
                cycles: (l.1, f.1),
            });
        }
    }
    Ok(v)
}

impl Study for Accel {
    fn name(&self) -> &'static str {
        "accel"
    }

    fn section(&self) -> &'static str {
        "accel"
    }

    fn paper(&self) -> &'static str {
        "Accelerators (BitMoD's speedup, L-Mul's saving in an accelerator)"
    }

    fn run(&self, _o: &ReportOpts) -> Result<Vec<Table>> {
        let hp = Config {
            timing: hpca25::MODEL_NAME,
            pe_energy: "artifact",
            rows: artifact_table()?,
            refused: BTreeMap::new(),
        };
        let gate = gate_pe_energies(&gate_cache(), &|_: &str| {}).map_err(|e| format!("{e:#}"));
        let gate_ref = gate.as_deref().map_err(|e| e.as_str());
        let pa = pelab_config(gate_ref, "artifact");
        if let Some((a, e)) = pa.refused.iter().next() {
            return Err(Error::new(format!(
                "accel study: {a} under pelab timing: {e}"
            )));
        }
        let pg = pelab_config(gate_ref, "gate");
        // The PE energy does not change the cycles: the gate rows' speedups are the pelab
        // rows'; checked where both ran.
        for r in &pg.rows {
            let same = pa
                .rows
                .iter()
                .find(|x| x.accelerator == r.accelerator && x.model == r.model && x.task == r.task);
            if same.map(|x| x.cycles) != Some(r.cycles) {
                return Err(Error::new(format!(
                    "accel study: {} {} {}: the gate PE energies changed the cycles",
                    r.accelerator,
                    r.model,
                    r.task.name()
                )));
            }
        }
        let configs = [hp, pa, pg];
        let speed: [&[ArtifactRow]; 3] = [&configs[0].rows, &configs[1].rows, &configs[1].rows];
        let agg = aggregates(&configs, &speed)?;
        let models = per_model(&[
            (hpca25::MODEL_NAME, &configs[0].rows),
            (pm::MODEL_NAME, &configs[1].rows),
        ])?;
        let bd = breakdown(gate_ref)?;
        Ok(vec![agg, models, bd])
    }

    fn claims(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Claim>> {
        let t = x.table(TABLE)?;
        let h = |timing, pe, b| headline(t, timing, pe, b);
        let (ha, ho) = (
            h(hpca25::MODEL_NAME, "artifact", "ant")?,
            h(hpca25::MODEL_NAME, "artifact", "olive")?,
        );
        let (pa, po) = (
            h(pm::MODEL_NAME, "artifact", "ant")?,
            h(pm::MODEL_NAME, "artifact", "olive")?,
        );
        let within =
            |v: Option<f64>, p: f64| v.is_some_and(|v| (v / p - 1.0).abs() <= RATIO_TOLERANCE);
        let verdict = match (
            within(ha, 1.69) && within(ho, 1.48),
            within(pa, 1.69) && within(po, 1.48),
        ) {
            (true, true) => format!(
                "Holds: the artifact's model reproduces both figures, and pelab's timing keeps \
                 them within {:.0}%",
                RATIO_TOLERANCE * 100.0
            ),
            (true, false) => format!(
                "Partly: the artifact's model reproduces both figures; pelab's timing moves \
                 them by more than {:.0}%",
                RATIO_TOLERANCE * 100.0
            ),
            _ => "Does not hold: the artifact's own model does not give the paper's figures".into(),
        };
        let mut figures = BTreeMap::new();
        for (k, v) in [
            ("hpca25_over_ant", ha),
            ("hpca25_over_olive", ho),
            ("pelab_over_ant", pa),
            ("pelab_over_olive", po),
        ] {
            figures.insert(k.to_string(), v);
        }
        let mut claims = vec![Claim {
            claim: "BitMoD accelerator speedup over ANT and OliVe".into(),
            paper: "BitMoD (lossy) is 1.69x faster than ANT and 1.48x faster than OliVe (mean \
                    of the prefill and generative bars, six LLMs)"
                .into(),
            pelab: format!(
                "artifact model ({}): {} over ANT, {} over OliVe; pelab timing: {} over ANT, {} \
                 over OliVe",
                hpca25::MODEL_NAME,
                x3(ha),
                x3(ho),
                x3(pa),
                x3(po)
            ),
            source: "accel.csv: bitmod-hpca25 (the artifact's model, bit for bit) and pelab's \
                     timing model, batch 1, context 256, six models (docs/accel.md)"
                .into(),
            verdict,
            figures,
        }];
        let bd = x.table(BREAKDOWN)?;
        let lm = lmul_rows(bd)?;
        let mut figures = BTreeMap::new();
        let (pelab, verdict) = if lm.is_empty() {
            (
                format!(
                    "not measured: {}",
                    bd.provenance.get(1).cloned().unwrap_or_default()
                ),
                "Not measured (no gate-level PE energies)".to_string(),
            )
        } else {
            let mut parts = Vec::new();
            for r in &lm {
                let pe = 1.0 - r.lmul[0] / r.fpmul[0];
                let whole = 1.0 - r.lmul[2] / r.fpmul[2];
                figures.insert(format!("pe_saving_{}", r.task), Some(pe));
                figures.insert(format!("accel_saving_{}", r.task), Some(whole));
                parts.push(format!(
                    "{}: PE energy {} lower, whole accelerator {} lower",
                    r.task,
                    pct(pe),
                    pct(whole)
                ));
            }
            let cell = 1.0 - lm[0].lmul[3] / lm[0].fpmul[3];
            figures.insert("cell_saving".into(), Some(cell));
            parts.insert(0, format!("PE cell per cycle {} lower", pct(cell)));
            let best = lm
                .iter()
                .map(|r| 1.0 - r.lmul[2] / r.fpmul[2])
                .fold(f64::NEG_INFINITY, f64::max);
            (
                parts.join("; "),
                format!(
                    "Does not carry over: the PE saves {} per cycle (the paper: about {:.0}%), \
                     and the whole accelerator at most {} once SRAM, DRAM and leakage are \
                     counted",
                    pct(cell),
                    LMUL_PAPER_SAVING * 100.0,
                    pct(best)
                ),
            )
        };
        claims.push(Claim {
            claim: "L-Mul in an accelerator (llama-2-7b, bf16)".into(),
            paper: format!(
                "L-Mul: dot products take about {:.0}% less energy than with FP multiplies",
                LMUL_PAPER_SAVING * 100.0
            ),
            pelab,
            source: format!(
                "accel_breakdown.csv: {}",
                bd.provenance.first().cloned().unwrap_or_default()
            ),
            verdict,
            figures,
        });
        Ok(claims)
    }

    fn meaning(&self, claims: &[Claim]) -> [String; 2] {
        let f = |k: &str| figure(claims, "BitMoD accelerator", k);
        let line1 = format!(
            "Accelerator speed: the artifact's model gives BitMoD (lossy) {} over ANT and {} \
             over OliVe (paper: 1.69x, 1.48x); pelab's timing (fill and drain, physical \
             attention) gives {} and {}.",
            x3(f("hpca25_over_ant")),
            x3(f("hpca25_over_olive")),
            x3(f("pelab_over_ant")),
            x3(f("pelab_over_olive"))
        );
        let g = |k: &str| figure(claims, "L-Mul in an accelerator", k);
        let line2 = match (
            g("cell_saving"),
            g("accel_saving_prefill"),
            g("accel_saving_decode"),
        ) {
            (Some(c), Some(p), Some(d)) => format!(
                "L-Mul in an accelerator: the bf16 PE saves {} per cycle at gate level, but \
                 llama-2-7b's whole accelerator only {} in prefill and {} in decode, where \
                 SRAM and DRAM dominate.",
                pct(c),
                pct(p),
                pct(d)
            ),
            _ => "L-Mul in an accelerator: not measured (no gate-level PE energies).".into(),
        };
        [line1, line2]
    }

    fn figures(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Figure>> {
        let mt = x.table(MODELS)?;
        let t = x.table(TABLE)?;
        let mut panels = Vec::new();
        for task in ["prefill", "decode"] {
            let mut cats: Vec<String> = BUILTIN_IDS.iter().map(|s| s.to_string()).collect();
            cats.push("mean".into());
            let mut series = Vec::new();
            for timing in [hpca25::MODEL_NAME, pm::MODEL_NAME] {
                for (b, name, _) in BASELINES {
                    let mut vals = Vec::new();
                    for m in BUILTIN_IDS {
                        vals.push(find(
                            mt,
                            &[
                                ("timing", timing),
                                ("model", m),
                                ("task", task),
                                ("baseline", b),
                            ],
                            "speedup",
                        )?);
                    }
                    vals.push(find(
                        t,
                        &[
                            ("timing", timing),
                            ("pe_energy", "artifact"),
                            ("accelerator", b),
                            ("phase", task),
                        ],
                        "bitmod_lossy_over",
                    )?);
                    series.push(BarSeries {
                        name: format!("vs {name} ({timing})"),
                        values: vals,
                    });
                }
            }
            panels.push(Panel::Bars(Bars {
                title: format!("BitMoD (lossy) speedup, {task}"),
                value_axis: "speedup (x)".into(),
                categories: cats,
                series,
                log: false,
                value_labels: true,
                missing: "n/a".into(),
            }));
        }
        let mut figs = vec![Figure {
            stem: "accel_speedup".into(),
            panels,
            notes: vec![
                "cycles_baseline / cycles_bitmod_lossy per model, batch 1, context 256; mean: \
                 the ratio of the mean-over-models speedup bars (BitMoD Fig. 7); \
                 bitmod-hpca25: the artifact's model; pelab: pelab's timing (docs/accel.md). \
                 Data: accel_models.csv, accel.csv"
                    .into(),
            ],
            width: 1500,
        }];
        let bd = x.table(BREAKDOWN)?;
        if !bd.rows.is_empty() {
            let parts = [
                ("PE", "pe_uj"),
                ("SRAM read", "sram_read_uj"),
                ("SRAM write", "sram_write_uj"),
                ("DRAM", "dram_uj"),
                ("leakage", "leakage_uj"),
                ("stall", "stall_uj"),
            ];
            let mut panels = Vec::new();
            for task in ["prefill", "decode"] {
                let rows: Vec<&Vec<Value>> =
                    bd.rows.iter().filter(|r| cell_str(&r[1]) == task).collect();
                let mut segments = Vec::new();
                for (name, col) in parts {
                    let c = bd.col(col)?;
                    segments.push(BarSeries {
                        name: name.into(),
                        values: rows.iter().map(|r| r[c].as_f64()).collect(),
                    });
                }
                panels.push(Panel::Stacked(Stacked {
                    title: format!("{BREAKDOWN_MODEL} {task}: energy"),
                    value_axis: "energy (µJ)".into(),
                    categories: rows.iter().map(|r| cell_str(&r[2])).collect(),
                    segments,
                }));
            }
            figs.push(Figure {
                stem: "accel_energy".into(),
                panels,
                notes: vec![format!(
                    "pelab timing, default options; PE: pelab's gate-level energies (Nangate \
                     45 nm figures, 1 GHz, zero delay); SRAM: CACTI 28 nm (the artifact's); \
                     DRAM 150 pJ/B; leakage: PE + SRAM. ant and olive: no gate model of their \
                     PE. Data: {BREAKDOWN}.csv"
                )],
                width: 1500,
            });
        }
        Ok(figs)
    }

    fn markdown(&self, _o: &ReportOpts, x: &Results) -> Result<String> {
        let t = x.table(TABLE)?;
        let mt = x.table(MODELS)?;
        let bd = x.table(BREAKDOWN)?;
        let hp = hpca25::MODEL_NAME;
        let pl = pm::MODEL_NAME;
        let mut s = String::from("## Accelerator\n\n");
        s.push_str(
            "BitMoD's accelerator-level claim (HPCA 2025, Figs. 7 and 8) under the artifact's \
             analytical model, bit for bit (`pelab accel --preset bitmod-hpca25`), then under \
             pelab's own timing model (`--timing pelab`) with the artifact's PE energies and \
             with pelab's gate-level PE energies (`--pe-energy gate`); docs/accel.md describes \
             both models.\n\n",
        );
        let head = [
            "BitMoD (lossy) over",
            "prefill",
            "decode",
            "generative",
            "mean (prefill, generative)",
            "paper",
        ];
        s.push_str(&format!(
            "### Table A: the paper's claim under the artifact's model ({hp})\n\n"
        ));
        s.push_str(&md_head(&head));
        s.push_str(&speedup_rows(t, hp, "artifact", "")?);
        s.push_str(
            "\nNormalized energy (on-chip / total, each divided by the same model's FP16 total, \
             mean over the six models; Fig. 8):\n\n",
        );
        let ehead = ["accelerator", "prefill", "decode", "generative", "note"];
        s.push_str(&md_head(&ehead));
        s.push_str(&energy_rows(t, hp, "artifact")?);
        s.push_str(&format!(
            "\n- {}\n- speedups: mean over the six models of cycles_FP16 / cycles (the paper's \
             \"Geo Mean\" bar is an arithmetic mean), ratio of BitMoD (lossy)'s bar to the \
             baseline's; the paper's 1.69x and 1.48x are typed from its text\n- technology: \
             the artifact's figures (PE energies TSMC 28 nm, SRAM CACTI 28 nm, DRAM 150 pJ/B, \
             1 GHz)\n\n",
            hpca25::PROVENANCE
        ));
        s.push_str(&format!(
            "### Table B: under pelab's timing ({pl}), artifact and gate PE energies\n\n"
        ));
        s.push_str(&md_head(&head));
        s.push_str(&speedup_rows(t, pl, "artifact", "")?);
        s.push_str(
            "\nThe PE energy does not change the cycles: the speedups with gate PE energies are \
             these (the run checks the cycles equal).\n\nNormalized energy, pelab timing, \
             artifact PE energies:\n\n",
        );
        s.push_str(&md_head(&ehead));
        s.push_str(&energy_rows(t, pl, "artifact")?);
        s.push_str("\nNormalized energy, pelab timing, gate PE energies:\n\n");
        s.push_str(&md_head(&ehead));
        s.push_str(&energy_rows(t, pl, "gate")?);
        let moves: Vec<String> = BASELINES
            .iter()
            .filter(|b| b.2.is_some())
            .map(|(b, name, p)| -> Result<String> {
                let a = headline(t, hp, "artifact", b)?;
                let q = headline(t, pl, "artifact", b)?;
                let d = a.zip(q).map(|(a, q)| q / a - 1.0);
                Ok(format!(
                    "{} -> {} over {name} (paper {:.2}x; {} moved)",
                    x3(a),
                    x3(q),
                    p.unwrap_or(0.0),
                    d.map_or("—".into(), |d| format!("{:+.1}%", d * 100.0))
                ))
            })
            .collect::<Result<_>>()?;
        s.push_str(&format!(
            "\n**Verdict:** from the artifact's model to pelab's timing the headline moves {}.\n",
            moves.join("; ")
        ));
        s.push_str(&provenance_md(t));

        s.push_str("### Per model: BitMoD (lossy)'s speedup\n\n");
        s.push_str(&md_head(&[
            "model",
            "task",
            "vs ANT (hpca25)",
            "vs OliVe (hpca25)",
            "vs FP16 (hpca25)",
            "vs ANT (pelab)",
            "vs OliVe (pelab)",
            "vs FP16 (pelab)",
        ]));
        for m in BUILTIN_IDS {
            for task in ["prefill", "decode"] {
                let mut cells = vec![m.to_string(), task.to_string()];
                for timing in [hp, pl] {
                    for (b, _, _) in BASELINES {
                        cells.push(x3(find(
                            mt,
                            &[
                                ("timing", timing),
                                ("model", m),
                                ("task", task),
                                ("baseline", b),
                            ],
                            "speedup",
                        )?));
                    }
                }
                s.push_str(&md_row(&cells));
            }
        }
        s.push_str(&provenance_md(mt));
        s.push_str("### Energy breakdown and L-Mul in an accelerator\n\n");
        if bd.rows.is_empty() {
            s.push_str(&format!(
                "Not measured: {}\n\n",
                md(&bd.provenance.get(1).cloned().unwrap_or_default())
            ));
            return Ok(s);
        }
        s.push_str(&md_head(&[
            "accelerator",
            "task",
            "cycles",
            "PE µJ",
            "SRAM read µJ",
            "SRAM write µJ",
            "DRAM µJ",
            "leakage µJ",
            "stall µJ",
            "total µJ",
        ]));
        for r in &bd.rows {
            let n = |c: &str| -> Result<String> {
                Ok(num(bd, r, c)?.map_or("—".into(), |v| format!("{v:.1}")))
            };
            s.push_str(&md_row(&[
                cell_str(&r[2]),
                cell_str(&r[1]),
                cell_str(&r[bd.col("cycles")?]),
                n("pe_uj")?,
                n("sram_read_uj")?,
                n("sram_write_uj")?,
                n("dram_uj")?,
                n("leakage_uj")?,
                n("stall_uj")?,
                n("total_uj")?,
            ]));
        }
        let lm = lmul_rows(bd)?;
        if !lm.is_empty() {
            s.push_str(
                "\nL-Mul bf16 against the exact bf16 multiply (both into an FP32 accumulator), \
                 llama-2-7b, whole model (all layers):\n\n",
            );
            s.push_str(&md_head(&[
                "task",
                "cycles lmul / fpmul",
                "PE µJ lmul / fpmul",
                "memory µJ (SRAM + DRAM)",
                "total µJ lmul / fpmul",
                "PE saving",
                "accelerator saving",
            ]));
            for r in &lm {
                s.push_str(&md_row(&[
                    r.task.into(),
                    format!("{} / {}", r.cycles.0, r.cycles.1),
                    format!("{:.1} / {:.1}", r.lmul[0], r.fpmul[0]),
                    format!("{:.1} / {:.1}", r.lmul[1], r.fpmul[1]),
                    format!("{:.1} / {:.1}", r.lmul[2], r.fpmul[2]),
                    pct(1.0 - r.lmul[0] / r.fpmul[0]),
                    pct(1.0 - r.lmul[2] / r.fpmul[2]),
                ]));
            }
            s.push_str(&format!(
                "\nThe L-Mul paper claims about {:.0}% less energy for dot products; pelab's gate \
                 measurement gives the PE cell {} less per cycle ({} vs {} pJ); in the \
                 accelerator the saving is what is left once SRAM, DRAM and leakage are \
                 counted.\n",
                LMUL_PAPER_SAVING * 100.0,
                pct(1.0 - lm[0].lmul[3] / lm[0].fpmul[3]),
                short(lm[0].lmul[3]),
                short(lm[0].fpmul[3])
            ));
        }
        s.push_str(&provenance_md(bd));
        Ok(s)
    }
}
