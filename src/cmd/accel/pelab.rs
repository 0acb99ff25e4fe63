//! `pelab accel --timing pelab`: pelab's own accelerator model (`pelab_sim::accel::pelab`,
//! `docs/accel.md`, "The `pelab` model"), with PE energies from the artifact or from pelab's
//! gate-level measurement (`pelab_reports::accel_energy`).

use super::{one_of, Args};
use crate::cmd::accel_sweep::{gate_energy, measure_gate_entries, no_gate_pe};
use pelab_reports::accel_energy::GatePeEnergy;
use pelab_sim::accel::exact::Exact;
use pelab_sim::accel::hpca25::{self, Bound, GENERATIVE_DECODE_STEPS};
use pelab_sim::accel::pelab::{
    self, AttnLatency, Charge, Energy, Options, Overlap, PeEnergy, PeEnergySource,
    PelabAccelerator, PelabConfig, PelabGroup, PelabRun, PelabTotals, MODEL_NAME, PRESET_IDS,
    PROVENANCE,
};
use pelab_sim::accel::report::uj;
use pelab_sim::accel::workload::{Scenario, Task, Workload, BUILTIN_IDS, MAX_DIM};
use pelab_sim::array::Dataflow;
use pelab_sim::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

/// The pelab-only options given, by flag name (they are refused with another timing).
pub(super) fn pelab_flags(o: &Args) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (flag, given) in [
        ("--dataflow", o.dataflow.is_some()),
        ("--causal", o.causal),
        ("--overlap", o.overlap.is_some()),
        ("--charge", o.charge.is_some()),
        ("--attn-latency", o.attn_latency.is_some()),
        ("--pe-energy", o.pe_energy.is_some()),
    ] {
        if given {
            v.push(flag);
        }
    }
    v
}

/// `--list-accels`: the accelerators of each timing model.
pub(super) fn list_accels(json_out: bool) -> Result<()> {
    let hp: Vec<&str> = hpca25::PRESET_IDS.to_vec();
    if json_out {
        return super::super::print_json(&json!({
            hpca25::MODEL_NAME: hp,
            MODEL_NAME: PRESET_IDS,
        }));
    }
    println!("--timing {} accelerators:", hpca25::MODEL_NAME);
    for id in hp {
        let a = hpca25::preset(id).expect("preset");
        println!("  {id:<16} {} ({})", a.name, a.pe);
    }
    println!("--timing {MODEL_NAME} accelerators:");
    for c in pelab::presets() {
        let energy = match (&c.artifact_pe_energy, &c.gate_pe) {
            (Some(_), Some(g)) => format!("PE energy: artifact, or gate `{g}`"),
            (Some(_), None) => {
                "PE energy: artifact only (pelab has no gate model of this PE)".to_string()
            }
            (None, Some(g)) => format!("PE energy: gate `{g}` only"),
            (None, None) => "no PE energy".to_string(),
        };
        println!("  {:<16} {} ({}); {energy}", c.id, c.name, c.pe);
    }
    println!("Or --accel-file FILE.toml|json: an accelerator definition (see --print-accel).");
    Ok(())
}

fn parse<T: Copy>(
    flag: &str,
    got: &Option<String>,
    default: T,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<T> {
    match got {
        None => Ok(default),
        Some(s) => parse(s).ok_or_else(|| one_of(flag, s, names)),
    }
}

/// The model's options from the command line.
fn options(o: &Args) -> Result<Options> {
    let d = Options::default();
    Ok(Options {
        dataflow: match &o.dataflow {
            None => d.dataflow,
            Some(s) => Dataflow::ALL
                .into_iter()
                .find(|x| x.name() == s)
                .ok_or_else(|| one_of("--dataflow", s, &["os", "ws", "is"]))?,
        },
        causal: o.causal,
        overlap: parse(
            "--overlap",
            &o.overlap,
            d.overlap,
            Overlap::parse,
            &Overlap::names(),
        )?,
        charge: parse(
            "--charge",
            &o.charge,
            d.charge,
            Charge::parse,
            &Charge::names(),
        )?,
        attn_latency: parse(
            "--attn-latency",
            &o.attn_latency,
            d.attn_latency,
            AttnLatency::parse,
            &AttnLatency::names(),
        )?,
    })
}

fn source(o: &Args) -> Result<PeEnergySource> {
    parse(
        "--pe-energy",
        &o.pe_energy,
        PeEnergySource::Artifact,
        PeEnergySource::parse,
        &["artifact", "gate"],
    )
}

/// The accelerator of `--accel` or `--accel-file`.
fn config(o: &Args) -> Result<PelabConfig> {
    match (&o.accel, &o.accel_file) {
        (_, Some(f)) => PelabConfig::from_file(f),
        (Some(id), None) => pelab::preset(id).ok_or_else(|| one_of("--accel", id, &PRESET_IDS)),
        (None, None) => Err(Error::new(format!(
            "--accel: missing (expected one of: {}; or --accel-file FILE)",
            PRESET_IDS.join(", ")
        ))),
    }
}

/// The gate-level measurements, once per command.
struct Gate<'a> {
    cache: &'a Path,
    entries: Option<Vec<GatePeEnergy>>,
}

impl Gate<'_> {
    fn energy(&mut self, c: &PelabConfig) -> Result<PeEnergy> {
        if c.gate_pe.is_none() {
            return Err(no_gate_pe(c));
        }
        if self.entries.is_none() {
            self.entries = Some(measure_gate_entries(self.cache)?);
        }
        gate_energy(self.entries.as_ref().expect("measured"), c)
    }
}

fn energy_of(src: PeEnergySource, gate: &mut Gate<'_>, c: &PelabConfig) -> Result<PeEnergy> {
    match src {
        PeEnergySource::Artifact => PeEnergy::artifact(c),
        PeEnergySource::Gate => gate.energy(c),
    }
}

/// `--print-accel` with `--timing pelab`.
pub(super) fn print_accel(o: &Args) -> Result<()> {
    let c = config(o)?;
    if o.json {
        return super::super::print_json(&c);
    }
    print!("{}", pelab::to_toml(&c)?);
    Ok(())
}

/// `pelab accel --timing pelab`.
pub(super) fn run(o: &Args, task: &str, workload: &Workload) -> Result<()> {
    let opts = options(o)?;
    let src = source(o)?;
    let config = config(o)?;
    let mut gate = Gate {
        cache: &o.cache,
        entries: None,
    };
    let pe = energy_of(src, &mut gate, &config)?;
    let accel = PelabAccelerator::new(config, pe)?;
    let tasks: Vec<Task> = match Task::parse(task) {
        Some(t) => vec![t],
        None => Task::ALL.to_vec(),
    };
    let runs: Vec<PelabRun> = tasks
        .iter()
        .map(|&t| {
            accel.run(
                workload,
                Scenario {
                    task: t,
                    context: o.context,
                },
                &opts,
            )
        })
        .collect::<Result<_>>()?;
    let groups: Vec<Vec<PelabGroup>> = runs.iter().map(PelabRun::groups).collect::<Result<_>>()?;
    let totals = match runs.as_slice() {
        [r] => r.totals.clone(),
        [p, d] => PelabTotals::generative(&p.totals, &d.totals, GENERATIVE_DECODE_STEPS)?,
        _ => unreachable!("one or two tasks"),
    };
    if o.csv {
        print!("{}", csv(&runs, &groups)?);
        return Ok(());
    }
    let notes = notes(&accel, &runs);
    if o.json {
        let phases: Vec<Value> = runs
            .iter()
            .zip(&groups)
            .map(|(r, g)| {
                json!({
                    "task": r.scenario.task.name(),
                    "setup": r.setup,
                    "ops": g.iter().map(|g| group_json(r, g)).collect::<Vec<_>>(),
                    "totals": totals_json(&r.totals, r.setup.pes()),
                })
            })
            .collect();
        let r0 = &runs[0];
        let mut v = json!({
            "timing": MODEL_NAME,
            "accelerator": accel.config.id,
            "accelerator_name": accel.config.name,
            "model": workload.id(),
            "model_name": workload.name(),
            "task": task,
            "context": o.context,
            "options": opts,
            "energy_figures": r0.figures,
            "totals": totals_json(&totals, r0.setup.pes()),
            "notes": notes,
            "provenance": PROVENANCE,
        });
        if runs.len() == 2 {
            v["decode_steps"] = json!(GENERATIVE_DECODE_STEPS);
            v["phases"] = Value::Array(phases);
        } else {
            v["setup"] = phases[0]["setup"].clone();
            v["ops"] = phases[0]["ops"].clone();
        }
        return super::super::print_json(&v);
    }
    println!(
        "{MODEL_NAME}: model {} ({}), accelerator {} ({}), task {task}, context T = {}",
        workload.id(),
        workload.name(),
        accel.config.id,
        accel.config.name,
        o.context
    );
    println!(
        "options: dataflow {}, causal {}, overlap {}, charge {}, attention latency {}",
        opts.dataflow.name(),
        if opts.causal { "on" } else { "off" },
        opts.overlap.name(),
        opts.charge.name(),
        opts.attn_latency.name()
    );
    print_figures(&runs[0]);
    for (r, g) in runs.iter().zip(&groups) {
        println!();
        if runs.len() == 2 {
            let times = match r.scenario.task {
                Task::Prefill => "once".to_string(),
                Task::Decode => format!("x {GENERATIVE_DECODE_STEPS}"),
            };
            println!("{} ({times}):", r.scenario.task.name());
        }
        print_setup(&accel, r);
        print_groups(r, g);
    }
    println!();
    if runs.len() == 2 {
        println!(
            "generative = {GENERATIVE_DECODE_STEPS} x decode + prefill (the context stays {}):",
            o.context
        );
    }
    print_breakdown(&totals, runs[0].setup.pes());
    for n in &notes {
        println!("note: {n}");
    }
    println!("{PROVENANCE}");
    Ok(())
}

/// Remarks on how the PE energy fits the run (a gate figure measured at another step rate).
fn notes(a: &PelabAccelerator, runs: &[PelabRun]) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(m) = a.pe_energy.macs_per_pe_cycle {
        for r in runs {
            for (what, pe) in [
                ("linear", r.setup.linear_pe),
                ("attention", r.setup.attention_pe),
            ] {
                let model = Exact::frac(pe.lanes as i128, i128::from(pe.step_cycles));
                if model != m {
                    let text = format!(
                        "{} {what} ops run {} MACs per busy PE-cycle ({} lanes, {} cycles per \
                         step); the gate measurement ran {}: its energy per PE-cycle is charged \
                         as measured",
                        r.scenario.task.name(),
                        model,
                        pe.lanes,
                        pe.step_cycles,
                        m
                    );
                    if !v.contains(&text) {
                        v.push(text);
                    }
                }
            }
        }
    }
    v
}

fn opt_uj(e: Option<Exact>) -> Value {
    e.map_or(Value::Null, |e| json!(uj(e)))
}

fn energy_json(e: &Energy) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in e.parts() {
        m.insert(k.to_string(), opt_uj(v));
    }
    m.insert("onchip".into(), json!(uj(e.on_chip())));
    m.insert("total".into(), json!(uj(e.total())));
    Value::Object(m)
}

fn energy_exact(e: &Energy) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in e.parts() {
        m.insert(
            k.to_string(),
            v.map_or(Value::Null, |x| Value::String(x.to_text())),
        );
    }
    m.insert("total".into(), Value::String(e.total().to_text()));
    Value::Object(m)
}

fn totals_json(t: &PelabTotals, pes: u64) -> Value {
    let not: Vec<&str> = t
        .energy
        .parts()
        .iter()
        .filter(|(_, e)| e.is_none())
        .map(|(k, _)| *k)
        .collect();
    json!({
        "cycles": t.cycles,
        "compute_cycles": t.compute_cycles,
        "dram_cycles": t.dram_cycles,
        "stall_cycles": t.stall_cycles,
        "macs": t.macs,
        "pe_cycles": t.pe_cycles,
        "active_pe_cycles": t.active_pe_cycles,
        "idle_pe_cycles": t.idle_pe_cycles,
        "utilization": t.utilization(pes),
        "dram_bytes": t.dram_bytes,
        "kv_read_bytes": t.kv_read_bytes,
        "kv_write_bytes": t.kv_write_bytes,
        "energy_uj": energy_json(&t.energy),
        "energy_exact_pj": energy_exact(&t.energy),
        "not_modelled": not,
    })
}

fn group_json(r: &PelabRun, g: &PelabGroup) -> Value {
    let c = &r.cores[g.core];
    json!({
        "name": c.op.name,
        "role": c.op.role.name(),
        "count": g.count,
        "cout": c.op.cout,
        "cin": c.op.cin,
        "tok": c.op.tok,
        "each": c,
        "cycles": g.time,
        "stall_cycles": g.stall_cycles,
        "energy_uj": energy_json(&g.energy),
    })
}

fn fmt_opt(e: Option<Exact>) -> String {
    e.map_or_else(|| "n/m".to_string(), |e| format!("{:.1}", uj(e)))
}

fn print_figures(r: &PelabRun) {
    let f = &r.figures;
    println!(
        "PE energy ({}): {} pJ per PE-cycle ({})",
        f.pe.origin.name(),
        f.pe.pj_per_pe_cycle.to_f64(),
        f.pe.source
    );
    let stated = |what: &str, s: &pelab::Stated, unit: &str| match s.value() {
        Some(v) if s.note() == f.pe.source => {
            println!("  {what}: {} {unit} (the same measurement)", v.to_f64())
        }
        Some(v) => println!("  {what}: {} {unit} ({})", v.to_f64(), s.note()),
        None => println!("  {what}: {}", s.note()),
    };
    stated("idle PE-cycle", &f.pe.idle_pj_per_pe_cycle, "pJ");
    stated("PE leakage", &f.pe.leakage_nw_per_pe, "nW per PE");
    stated("SRAM leakage", &f.sram_leakage_nw, "nW per SRAM (2 SRAMs)");
    println!("  clock: {} MHz ({})", f.clock.mhz, f.clock.source);
}

fn print_setup(a: &PelabAccelerator, r: &PelabRun) {
    let s = &r.setup;
    let c = &a.config;
    let port = |p: &pelab::SramPort| {
        if p.bits == p.entry_bits && p.reads == 1 {
            format!("{} bits", p.bits)
        } else {
            format!(
                "{} bits (served by {} x the {}-bit CACTI entry)",
                p.bits, p.reads, p.entry_bits
            )
        }
    };
    println!(
        "  PE: {}; array {}x{}, dataflow {}, lanes (dp) {}, cycles per step: linear {}, attention \
         {}{}{}; weights {} bits, K/V {} bits, activations {} bits; SRAM ports: weight {}, \
         input {}",
        c.pe,
        s.array.rows,
        s.array.cols,
        s.dataflow.name(),
        s.linear_pe.lanes,
        s.linear_pe.step_cycles,
        s.attention_pe.step_cycles,
        s.linear_pe
            .group
            .map(|(w, m)| format!(", groups of {w} taking at least {m} cycles"))
            .unwrap_or_default(),
        if s.linear_pe.result_latency > 0 {
            format!(", result latency {}", s.linear_pe.result_latency)
        } else {
            String::new()
        },
        s.w,
        s.kv_bits,
        s.act_bits,
        port(&s.weight_port),
        port(&s.input_port)
    );
}

fn print_groups(r: &PelabRun, groups: &[PelabGroup]) {
    let name_w = groups
        .iter()
        .map(|g| r.cores[g.core].op.name.chars().count())
        .max()
        .unwrap_or(2)
        .max(5);
    let header = format!(
        "  {:<name_w$} {:>5} {:>9} {:>17} {:>6} {:>8} {:>10} {:>10} {:>7} | {:>13} {:>9} {:>9} \
         {:>9} {:>9} {:>8} {:>8}",
        "op",
        "count",
        "role",
        "GEMM MxKxN",
        "chunks",
        "folds",
        "C/op",
        "D/op",
        "bound",
        "cycles",
        "PE µJ",
        "SRAM rd",
        "SRAM wr",
        "DRAM µJ",
        "leak µJ",
        "stall µJ"
    );
    println!("{header}");
    for g in groups {
        let c = &r.cores[g.core];
        let gemm = c
            .gemm
            .map(|m| format!("{}x{}x{}", m.m, m.k, m.n))
            .unwrap_or_else(|| "-".into());
        let bound = if r
            .ops
            .iter()
            .any(|o| o.core == g.core && o.bound == Bound::Dram)
        {
            "DRAM"
        } else {
            "compute"
        };
        let leakage = match (g.energy.leakage_pe, g.energy.leakage_sram) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
        };
        println!(
            "  {:<name_w$} {:>5} {:>9} {:>17} {:>6} {:>8} {:>10} {:>10} {:>7} | {:>13} {:>9.1} \
             {:>9.1} {:>9.1} {:>9.1} {:>8} {:>8}",
            c.op.name,
            g.count,
            c.op.role.name(),
            gemm,
            c.chunks,
            c.folds,
            c.compute_cycles,
            c.dram_cycles,
            bound,
            g.time,
            uj(g.energy.pe),
            uj(g.energy.sram_read),
            uj(g.energy.sram_write),
            uj(g.energy.dram),
            fmt_opt(leakage),
            fmt_opt(g.energy.stall)
        );
    }
    let t = &r.totals;
    let leakage = match (t.energy.leakage_pe, t.energy.leakage_sram) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
    };
    println!(
        "  {:<name_w$} {:>5} {:>9} {:>17} {:>6} {:>8} {:>10} {:>10} {:>7} | {:>13} {:>9.1} \
         {:>9.1} {:>9.1} {:>9.1} {:>8} {:>8}",
        "total",
        groups.iter().map(|g| g.count).sum::<u64>(),
        "",
        "",
        "",
        "",
        t.compute_cycles,
        t.dram_cycles,
        "",
        t.cycles,
        uj(t.energy.pe),
        uj(t.energy.sram_read),
        uj(t.energy.sram_write),
        uj(t.energy.dram),
        fmt_opt(leakage),
        fmt_opt(t.energy.stall)
    );
    println!(
        "  (C: the array's cycles to its last output, fill and drain per fold; D = DRAM bytes / \
         bytes per cycle; an op takes max(C, D), or its pipeline stage with double-buffering; \
         n/m = not modelled)"
    );
}

fn print_breakdown(t: &PelabTotals, pes: u64) {
    let total = t.energy.total();
    let share = |e: Exact| 100.0 * e.to_f64() / total.to_f64().max(f64::MIN_POSITIVE);
    println!(
        "  cycles        {:>16}  (compute {}, DRAM {}, stalled {}; utilization {:.1} %)",
        t.cycles,
        t.compute_cycles,
        t.dram_cycles,
        t.stall_cycles,
        100.0 * t.utilization(pes)
    );
    println!(
        "  MACs          {:>16}  (DRAM bytes {}, KV cache read {} B, written {} B)",
        t.macs, t.dram_bytes, t.kv_read_bytes, t.kv_write_bytes
    );
    let how = [
        ("pe", "PE", "energy per PE-cycle x charged PE-cycles"),
        ("sram_read", "SRAM read", "edge-vector accesses x port read"),
        ("sram_write", "SRAM write", "word writes"),
        ("dram", "DRAM", "pJ per byte"),
        ("leakage_pe", "PE leakage", "nW per PE x PEs x time"),
        ("leakage_sram", "SRAM leakage", "nW per SRAM x 2 x time"),
        ("stall", "stall/idle", "idle PE-cycles x idle energy"),
    ];
    for ((k, e), (k2, what, note)) in t.energy.parts().iter().zip(how) {
        debug_assert_eq!(*k, k2);
        match e {
            Some(e) => println!(
                "  {what:<12}  {:>16.3} µJ  {:>5.1} %  ({note})",
                uj(*e),
                share(*e)
            ),
            None => println!("  {what:<12}  {:>16}     not modelled", ""),
        }
    }
    println!(
        "  on-chip       {:>16.3} µJ  (all but DRAM)",
        uj(t.energy.on_chip())
    );
    println!(
        "  total         {:>16.3} µJ  (the sum of the modelled parts)",
        uj(total)
    );
}

fn csv(runs: &[PelabRun], groups: &[Vec<PelabGroup>]) -> Result<String> {
    let mut recs: Vec<Vec<String>> = vec![[
        "task",
        "op",
        "role",
        "count",
        "cout",
        "cin",
        "tok",
        "gemm_m",
        "gemm_k",
        "gemm_n",
        "chunks",
        "folds",
        "macs",
        "compute_cycles",
        "dram_cycles",
        "w_bytes",
        "i_bytes",
        "o_bytes",
        "fw",
        "fi",
        "kv_read_bytes",
        "kv_write_bytes",
        "cycles",
        "stall_cycles",
        "e_pe_uj",
        "e_sram_read_uj",
        "e_sram_write_uj",
        "e_dram_uj",
        "e_leakage_pe_uj",
        "e_leakage_sram_uj",
        "e_stall_uj",
    ]
    .map(String::from)
    .to_vec()];
    let o = |x: Option<Exact>| x.map_or_else(String::new, |x| uj(x).to_string());
    for (r, gs) in runs.iter().zip(groups) {
        for g in gs {
            let c = &r.cores[g.core];
            let (m, k, n) = c.gemm.map_or((0, 0, 0), |m| (m.m, m.k, m.n));
            let rec: Vec<String> = vec![
                r.scenario.task.name().into(),
                c.op.name.clone(),
                c.op.role.name().into(),
                g.count.to_string(),
                c.op.cout.to_string(),
                c.op.cin.to_string(),
                c.op.tok.to_string(),
                m.to_string(),
                k.to_string(),
                n.to_string(),
                c.chunks.to_string(),
                c.folds.to_string(),
                c.op.macs.to_string(),
                c.compute_cycles.to_string(),
                c.dram_cycles.to_string(),
                c.w_bytes.to_string(),
                c.i_bytes.to_string(),
                c.o_bytes.to_string(),
                c.fw.to_string(),
                c.fi.to_string(),
                c.kv_read_bytes.to_string(),
                c.kv_write_bytes.to_string(),
                g.time.to_string(),
                g.stall_cycles.to_string(),
                uj(g.energy.pe).to_string(),
                uj(g.energy.sram_read).to_string(),
                uj(g.energy.sram_write).to_string(),
                uj(g.energy.dram).to_string(),
                o(g.energy.leakage_pe),
                o(g.energy.leakage_sram),
                o(g.energy.stall),
            ];
            recs.push(rec);
        }
    }
    pelab::csv_text(&recs)
}

/// One configuration of the artifact's table under the `pelab` model.
struct Row {
    accelerator: &'static str,
    model: &'static str,
    task: Task,
    result: std::result::Result<PelabTotals, String>,
}

/// `--preset bitmod-hpca25 --timing pelab`: the artifact's 60 configurations under pelab's
/// model, with the paper's aggregates.
pub(super) fn preset(o: &Args) -> Result<()> {
    if o.context == 0 || o.context > MAX_DIM {
        return Err(Error::new(format!(
            "--context {}: expected 1 to {MAX_DIM} tokens",
            o.context
        )));
    }
    let opts = options(o)?;
    let src = source(o)?;
    let mut gate = Gate {
        cache: &o.cache,
        entries: None,
    };
    let mut rows = Vec::with_capacity(60);
    for a in hpca25::PRESET_IDS {
        let c = pelab::preset(a).expect("preset");
        let accel = energy_of(src, &mut gate, &c).and_then(|e| PelabAccelerator::new(c, e));
        for m in BUILTIN_IDS {
            let w = Workload::builtin(m).expect("built-in");
            for task in Task::ALL {
                let result = match &accel {
                    Ok(acc) => acc
                        .run(
                            &w,
                            Scenario {
                                task,
                                context: o.context,
                            },
                            &opts,
                        )
                        .map(|r| r.totals),
                    Err(e) => Err(e.clone()),
                };
                rows.push(Row {
                    accelerator: a,
                    model: m,
                    task,
                    result: result.map_err(|e| e.0),
                });
            }
        }
    }
    let fields = |r: &Row| -> Value {
        match &r.result {
            Ok(t) => json!({
                "accelerator": r.accelerator,
                "model": r.model,
                "task": r.task.name(),
                "cycles": t.cycles,
                "energy_onchip_uj": uj(t.energy.on_chip()),
                "energy_total_uj": uj(t.energy.total()),
            }),
            Err(e) => json!({
                "accelerator": r.accelerator,
                "model": r.model,
                "task": r.task.name(),
                "error": e,
            }),
        }
    };
    if o.json {
        return super::super::print_json(&rows.iter().map(fields).collect::<Vec<_>>());
    }
    if o.csv {
        let mut recs: Vec<Vec<String>> = vec![[
            "accelerator",
            "model",
            "task",
            "cycles",
            "energy_onchip_uj",
            "energy_total_uj",
            "error",
        ]
        .map(String::from)
        .to_vec()];
        for r in &rows {
            let rec: Vec<String> = match &r.result {
                Ok(t) => vec![
                    r.accelerator.into(),
                    r.model.into(),
                    r.task.name().into(),
                    t.cycles.to_string(),
                    uj(t.energy.on_chip()).to_string(),
                    uj(t.energy.total()).to_string(),
                    String::new(),
                ],
                Err(m) => vec![
                    r.accelerator.into(),
                    r.model.into(),
                    r.task.name().into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    m.clone(),
                ],
            };
            recs.push(rec);
        }
        print!("{}", pelab::csv_text(&recs)?);
        return Ok(());
    }
    println!(
        "{MODEL_NAME}: the configurations of BitMoD (HPCA 2025) Figs. 7 and 8 under pelab's model, \
         batch 1, context {} (energies in µJ); options: dataflow {}, causal {}, overlap {}, \
         charge {}, attention latency {}, PE energy {}",
        o.context,
        opts.dataflow.name(),
        if opts.causal { "on" } else { "off" },
        opts.overlap.name(),
        opts.charge.name(),
        opts.attn_latency.name(),
        src.name()
    );
    println!();
    println!(
        "  {:<16} {:<12} | {:>12} {:>10} {:>10} | {:>12} {:>10} {:>10}",
        "accelerator", "model", "prefill cyc", "on-chip", "total", "decode cyc", "on-chip", "total"
    );
    let find = |a: &str, m: &str, t: Task| {
        rows.iter()
            .find(|r| r.accelerator == a && r.model == m && r.task == t)
            .expect("row")
    };
    let mut errors = Vec::new();
    for a in hpca25::PRESET_IDS {
        for m in BUILTIN_IDS {
            let mut cell = |t: Task| match &find(a, m, t).result {
                Ok(t) => format!(
                    "{:>12} {:>10.1} {:>10.1}",
                    t.cycles,
                    uj(t.energy.on_chip()),
                    uj(t.energy.total())
                ),
                Err(e) => {
                    if !errors.contains(e) {
                        errors.push(e.clone());
                    }
                    format!("{:>34}", "refused (see below)")
                }
            };
            let (p, d) = (cell(Task::Prefill), cell(Task::Decode));
            println!("  {a:<16} {m:<12} | {p} | {d}");
        }
    }
    println!();
    // The runs pelab could model, as the artifact's rows, for the artifact's aggregates.
    let table: Vec<hpca25::ArtifactRow> = rows
        .iter()
        .filter_map(|r| {
            let t = r.result.as_ref().ok()?;
            Some(t.artifact_row(r.accelerator, r.model, r.task))
        })
        .collect();
    // The bar the paper labels "Geo Mean": the arithmetic mean over the six models of
    // cycles_FP16 / cycles_X; `None` unless all six are there.
    let bar = |a: &str, ph: hpca25::Phase| -> Option<f64> {
        hpca25::speedups(&table, "fp16", a, ph).ok().map(|(_, m)| m)
    };
    let show = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |x| format!("{x:.3}x"));
    println!(
        "Speedup over FP16 (cycles_FP16 / cycles), mean over the six models (as the paper's \
         \"Geo Mean\" bar, an arithmetic mean); generative = {GENERATIVE_DECODE_STEPS} x decode + \
         prefill:"
    );
    println!(
        "  {:<16} {:>9} {:>9} {:>11}",
        "accelerator", "prefill", "decode", "generative"
    );
    for a in hpca25::PRESET_IDS {
        println!(
            "  {:<16} {:>9} {:>9} {:>11}",
            a,
            show(bar(a, hpca25::Phase::Prefill)),
            show(bar(a, hpca25::Phase::Decode)),
            show(bar(a, hpca25::Phase::Generative))
        );
    }
    println!();
    println!("BitMoD (lossy) over the others: ratio of the mean-speedup bars:");
    for base in ["ant", "olive", "fp16"] {
        let r = |ph| Some(bar("bitmod-lossy", ph)? / bar(base, ph)?);
        let (p, d, g) = (
            r(hpca25::Phase::Prefill),
            r(hpca25::Phase::Decode),
            r(hpca25::Phase::Generative),
        );
        let mean = p.zip(g).map(|(p, g)| (p + g) / 2.0);
        println!(
            "  vs {:<6} prefill {}, decode {}, generative {}; mean of prefill and generative {}",
            base,
            show(p),
            show(d),
            show(g),
            show(mean)
        );
    }
    for e in &errors {
        println!("refused: {e}");
    }
    println!("{PROVENANCE}");
    Ok(())
}
