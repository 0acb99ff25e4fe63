//! `pelab report`: the main job. Emits every PE configuration, verifies the Verilog in every
//! simulator available, synthesizes it (Yosys generic gates and iCE40), measures energy (gate
//! level and the table method), runs the accuracy studies, and writes `summary.md` (each
//! paper's claim beside pelab's measurement), one CSV per table and PNG + SVG plots.
//!
//! Every file is written under a temporary name and renamed, so an interrupted run leaves no
//! half-written file under a final name. The output directory is checked for writing before
//! any work starts. PEs are found through the registries; only the claims name the PEs the
//! papers compare (L-Mul against the exact multiply, BitMoD against the FP16 MAC).

use crate::accuracy;
use crate::plots::{short, BarSeries, Bars, Figure, Line, Lines, Panel};
use crate::Table;
use pelab_hdl::{Flow, PeRtl, RtlConfig, SynthReport};
use pelab_sim::{Error, Result};
use pelab_testbench::codec::{Dist, Shape};
use pelab_testbench::energy::{Measurement, Request, Tech};
use pelab_testbench::vectors::{DefaultSets, Timing};
use pelab_testbench::{CaseSet, PeVectors, Shard, Simulator, Status};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress of a report run, shown by the caller (the CLI draws progress bars).
pub trait Progress: Sync {
    /// A stage starts; it has `total` steps.
    fn stage(&self, name: &str, total: u64);
    /// One step of the current stage is done; `item` says which.
    fn step(&self, item: &str);
    /// A line the user should read (a tool that is missing, a failure).
    fn note(&self, line: &str);
    /// The current stage is over.
    fn done(&self);
}

/// Progress that shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: &str, _: u64) {}
    fn step(&self, _: &str) {}
    fn note(&self, _: &str) {}
    fn done(&self) {}
}

/// Options of a report run.
#[derive(Debug, Clone)]
pub struct ReportOpts {
    /// Output directory (created).
    pub out: PathBuf,
    /// The quick run: a subset of configurations, fewer vectors, operations and samples.
    pub quick: bool,
    /// Seed of every random choice (vectors, operands, study samples).
    pub seed: u64,
}

/// One paper claim beside pelab's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// The claim, short.
    pub claim: String,
    /// What the paper says, with its number.
    pub paper: String,
    /// What pelab measures, with its numbers.
    pub pelab: String,
    /// Where pelab's numbers come from (estimator, library, samples, seed, file).
    pub source: String,
    /// The verdict in plain words.
    pub verdict: String,
}

/// What a report run did (also printed as JSON by `pelab report --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Output directory.
    pub out: PathBuf,
    /// Quick run or not.
    pub quick: bool,
    /// Seed.
    pub seed: u64,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
    /// Wall time of each stage, seconds.
    pub stages: Vec<(String, f64)>,
    /// Verilog modules emitted.
    pub modules_emitted: usize,
    /// Configurations verified.
    pub configurations_verified: usize,
    /// Simulator runs by status (`passed`, `failed`, `not available`, `not run`...).
    pub simulator_runs: BTreeMap<String, usize>,
    /// Modules whose verification did not pass, with the reason.
    pub failures: Vec<String>,
    /// Tools or simulators that were not available, with the reason.
    pub unavailable: Vec<String>,
    /// The claims table.
    pub claims: Vec<Claim>,
    /// Files written, relative to `out`.
    pub files: Vec<String>,
}

/// Formats of the L-Mul energy claims (the paper's 8-, 16- and 32-bit formats).
const CLAIM_FORMATS: [&str; 5] = ["e4m3", "e5m2", "bf16", "fp16", "fp32"];
/// Formats verified and synthesized by the quick run when a PE has several (one 8-bit format:
/// exhaustive vectors, and the cheapest Verilator builds).
const QUICK_FORMATS: [&str; 1] = ["e4m3"];
/// Length of the dot products of the energy claims.
const DOT_K: u64 = 4096;
/// The L-Mul paper's element-wise and dot-product energy savings.
const PAPER_ELEM_SAVING: f64 = 0.95;
const PAPER_DOT_SAVING: f64 = 0.80;
/// A saving within this many percentage points of the paper's (or above it) reproduces it.
const SAVING_TOLERANCE: f64 = 0.05;
/// BitMoD's published PE figures (TSMC 28 nm, 1 GHz): BitMoD PE 0.586 mW at 2 MACs per cycle,
/// FP16 MAC 0.77 mW at 1 MAC per cycle.
const BITMOD_MW: f64 = 0.586;
const BITMOD_MACS_PER_CYCLE: f64 = 2.0;
const FP16MAC_MW: f64 = 0.77;
/// A ratio within this relative distance of the authors' reproduces it.
const RATIO_TOLERANCE: f64 = 0.20;
/// Time limit of one simulator step.
const SIM_LIMIT: Duration = Duration::from_secs(900);

/// Runs the report. The output directory is created and checked for writing before any other
/// work; a verification failure is recorded in the summary (and in `summary.md`), not returned
/// as an error.
pub fn run(o: &ReportOpts, progress: &dyn Progress) -> Result<Summary> {
    let start = Instant::now();
    check_out(&o.out)?;
    let mut stages: Vec<(String, f64)> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut timed =
        |name: &str, t: Instant| stages.push((name.to_string(), t.elapsed().as_secs_f64()));

    // Tools.
    let tools = Tools::find();
    let mut unavailable = Vec::new();
    for (what, r) in [
        ("icarus (iverilog, vvp)", &tools.icarus),
        ("verilator", &tools.verilator),
        (
            "yosys (synthesis, the gates simulator, gate-level energy)",
            &tools.yosys,
        ),
    ] {
        if let Err(e) = r {
            let line = format!("{what}: not available: {e}");
            progress.note(&line);
            unavailable.push(line);
        }
    }

    // 1. Every configuration's Verilog.
    let t = Instant::now();
    let modules = emit_all(&o.out.join("verilog"), progress)?;
    timed("emit", t);

    // 2. Verification.
    let t = Instant::now();
    let verified = verify_all(o, &modules, &tools, progress)?;
    timed("verify", t);
    let vt = verification_table(&verified)?;

    // 3. Synthesis.
    let t = Instant::now();
    let synth = if tools.yosys.is_ok() {
        synthesize_all(o, &modules, progress)?
    } else {
        Vec::new()
    };
    timed("synthesize", t);
    let st = synthesis_table(&synth)?;

    // 4. Energy.
    let t = Instant::now();
    let energy = if tools.yosys.is_ok() {
        measure_all(o, progress)?
    } else {
        Vec::new()
    };
    let anchors = if tools.yosys.is_ok() && !o.quick {
        progress.stage("anchors", 1);
        let a = pelab_testbench::energy::anchors(ops(o, false), o.seed)?;
        progress.step("anchors");
        progress.done();
        Some(a)
    } else {
        None
    };
    timed("energy", t);
    let et = energy_table(o, &energy)?;
    let at = anchors.as_ref().map(|a| anchor_table(o, a)).transpose()?;

    // 5. Studies.
    let t = Instant::now();
    let studies = run_studies(o, progress)?;
    timed("studies", t);

    // 6. Claims, tables, plots, summary.
    let t = Instant::now();
    let all_studies: BTreeMap<String, Table> = studies
        .iter()
        .map(|t| (t.name.clone(), t.clone()))
        .collect();
    let savings = savings_table(o, &energy)?;
    let claims = claims(o, &all_studies, &energy, &savings)?;
    let ct = claims_table(&claims)?;
    let mut tables: Vec<&Table> = vec![&ct, &vt, &st, &et, &savings];
    if let Some(a) = &at {
        tables.push(a);
    }
    tables.extend(studies.iter());
    progress.stage("write", tables.len() as u64 + 6);
    for tab in &tables {
        if tab.rows.is_empty() {
            // An empty table (e.g. no synthesis without Yosys) is said so in summary.md.
            progress.step(&tab.name);
            continue;
        }
        tab.write_csv(&o.out)?;
        files.push(format!("{}.csv", tab.name));
        progress.step(&tab.name);
    }
    for fig in figures(o, &all_studies, &energy, &synth)? {
        for p in fig.write(&o.out)? {
            files.push(rel(&o.out, &p));
        }
        progress.step(&fig.stem);
    }
    timed("write", t);
    let seconds = start.elapsed().as_secs_f64();
    let failures: Vec<String> = verified
        .iter()
        .filter(|v| !v.ok)
        .map(|v| {
            format!(
                "{}: {}",
                v.module,
                v.error.clone().unwrap_or_else(|| {
                    let bad: Vec<String> = v
                        .cells
                        .iter()
                        .filter(|c| {
                            !matches!(c.status.as_str(), "passed" | "not available" | "not run")
                        })
                        .map(|c| format!("{} {}", c.sim, c.status))
                        .collect();
                    bad.join(", ")
                })
            )
        })
        .collect();
    let mut runs = BTreeMap::new();
    for v in &verified {
        for c in &v.cells {
            *runs.entry(c.status.clone()).or_insert(0) += 1;
        }
    }
    files.push("summary.md".into());
    files.push("summary.json".into());
    let summary = Summary {
        out: o.out.clone(),
        quick: o.quick,
        seed: o.seed,
        seconds,
        stages,
        modules_emitted: modules.len(),
        configurations_verified: verified.len(),
        simulator_runs: runs,
        failures,
        unavailable,
        claims,
        files,
    };
    let md = markdown(
        o,
        &summary,
        &Sections {
            tools: &tools,
            modules: &modules,
            verified: &verified,
            synth: &synth,
            energy: &energy,
            savings: &savings,
            anchors: at.as_ref(),
            studies: &all_studies,
        },
    )?;
    pelab_hdl::emit::write_atomic(&o.out.join("summary.md"), &md)?;
    progress.step("summary.md");
    let js = serde_json::to_string_pretty(&summary).map_err(|e| Error::new(e.to_string()))?;
    pelab_hdl::emit::write_atomic(&o.out.join("summary.json"), &js)?;
    progress.step("summary.json");
    progress.done();
    Ok(summary)
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

/// Creates the output directory and proves it writable with a probe file.
fn check_out(out: &Path) -> Result<()> {
    let bad = |e: std::io::Error| {
        Error::new(format!(
            "output directory {} cannot be written: {e}",
            out.display()
        ))
    };
    std::fs::create_dir_all(out).map_err(bad)?;
    let probe = out.join(format!(".pelab-probe-{}", std::process::id()));
    std::fs::write(&probe, b"pelab").map_err(bad)?;
    std::fs::remove_file(&probe).map_err(bad)?;
    Ok(())
}

/// Which external tools are installed.
struct Tools {
    icarus: std::result::Result<String, String>,
    verilator: std::result::Result<String, String>,
    yosys: std::result::Result<String, String>,
}

impl Tools {
    fn find() -> Tools {
        let probe = |names: &[&str]| -> std::result::Result<String, String> {
            for n in names {
                pelab_hdl::tools::require_tool(n).map_err(|e| e.to_string())?;
            }
            Ok(version(names[0]))
        };
        Tools {
            icarus: probe(&["iverilog", "vvp"]),
            verilator: probe(&["verilator"]),
            yosys: probe(&["yosys"]),
        }
    }

    /// Whether `sim` can run, or why not.
    fn sim(&self, sim: Simulator) -> std::result::Result<(), String> {
        let r = match sim {
            Simulator::RustHdl => return Ok(()),
            Simulator::Icarus => &self.icarus,
            Simulator::Verilator => &self.verilator,
            Simulator::Gates => &self.yosys,
        };
        r.as_ref().map(|_| ()).map_err(|e| e.clone())
    }
}

/// First line of a tool's version output (`-V` for Yosys and Icarus, `--version` else).
fn version(tool: &str) -> String {
    let flag = if matches!(tool, "yosys" | "iverilog") {
        "-V"
    } else {
        "--version"
    };
    std::process::Command::new(tool)
        .arg(flag)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().next().map(|l| l.trim().to_string())
        })
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| tool.to_string())
}

/// The simulators, in the order of the verification matrix.
const SIMS: [Simulator; 4] = [
    Simulator::RustHdl,
    Simulator::Icarus,
    Simulator::Verilator,
    Simulator::Gates,
];

/// An emitted configuration.
struct Module {
    pe: &'static dyn PeRtl,
    cfg: RtlConfig,
    name: String,
}

/// Runs `f` on every item with one worker per core, longest jobs first (the caller orders
/// `items`); results come back in `items`' order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                out.lock().expect("no panic holding the lock")[i] = Some(r);
            });
        }
    });
    out.into_inner()
        .expect("no panic holding the lock")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

fn emit_all(dir: &Path, progress: &dyn Progress) -> Result<Vec<Module>> {
    let mut jobs = Vec::new();
    for pe in pelab_hdl::registry() {
        for cfg in pe.configs() {
            jobs.push((pe, cfg));
        }
    }
    progress.stage("emit", jobs.len() as u64);
    let r = parallel(&jobs, |(pe, cfg)| -> Result<Module> {
        let m = pe.verilog(cfg)?;
        pelab_hdl::emit::write_module(dir, &m)?;
        progress.step(&m.name);
        Ok(Module {
            pe: *pe,
            cfg: cfg.clone(),
            name: m.name,
        })
    });
    progress.done();
    r.into_iter().collect()
}

/// The first pipeline-0 configuration of each format and variant of a PE (its default policy).
fn first_per_format(pe: &dyn PeRtl) -> Vec<RtlConfig> {
    let mut v: Vec<RtlConfig> = Vec::new();
    for c in pe.configs().into_iter().filter(|c| c.pipeline == 0) {
        if !v
            .iter()
            .any(|x| x.format == c.format && x.variant == c.variant)
        {
            v.push(c);
        }
    }
    v
}

/// The quick set: [`first_per_format`], restricted to [`QUICK_FORMATS`] when a PE has several
/// formats.
fn quick_set(pe: &dyn PeRtl) -> Vec<RtlConfig> {
    let all = first_per_format(pe);
    let mut formats: Vec<&str> = all.iter().map(|c| c.format.as_str()).collect();
    formats.dedup();
    if formats.len() <= 1 {
        return all;
    }
    all.into_iter()
        .filter(|c| QUICK_FORMATS.contains(&c.format.as_str()))
        .collect()
}

/// One simulator's cell of the verification matrix.
#[derive(Debug, Clone)]
struct SimCell {
    sim: &'static str,
    /// `passed`, `failed`, `crashed`, `timedout`, `not available`, `not run`.
    status: String,
    passed: u64,
    failed: u64,
    vectors_per_sec: f64,
    compile_secs: f64,
    /// Why the simulator did not run.
    note: String,
}

/// One configuration's verification.
struct Verified {
    module: String,
    pe: &'static str,
    cfg: RtlConfig,
    set: String,
    cases: u64,
    rows: u64,
    cells: Vec<SimCell>,
    ok: bool,
    error: Option<String>,
    work: Option<PathBuf>,
    secs: f64,
}

/// Why Verilator does not run a configuration in the default run.
const VERILATOR_BUDGET: &str = "time budget: Verilator builds C++ for every module (5-18 s \
     each); the default run gives it every pipeline-0 configuration, and the pipelined ones run \
     in the other simulators";

/// The vector-set policy of a run.
fn default_sets(quick: bool) -> DefaultSets {
    if quick {
        DefaultSets::QUICK
    } else {
        DefaultSets::FULL
    }
}

fn case_set(pe: &dyn PeVectors, cfg: &RtlConfig, quick: bool) -> Result<CaseSet> {
    default_sets(quick).choose(pe, cfg)
}

fn set_name(s: CaseSet) -> String {
    match s {
        CaseSet::Exhaustive => "exhaustive".into(),
        CaseSet::Count(n) => format!("{n} (corners first, then seeded random)"),
    }
}

fn verify_all(
    o: &ReportOpts,
    modules: &[Module],
    tools: &Tools,
    progress: &dyn Progress,
) -> Result<Vec<Verified>> {
    let mut jobs: Vec<(&Module, &'static dyn PeVectors, u64)> = Vec::new();
    for m in modules {
        let pe = pelab_testbench::pe(m.pe.id())?.vectors;
        if o.quick && !quick_set(m.pe).contains(&m.cfg) {
            continue;
        }
        // Cost estimate: cycle-by-cycle PEs simulate long transactions; Verilator builds C++.
        let cycles = matches!(pe.layout(&m.cfg)?.timing, Timing::Cycles);
        let verilator = o.quick || m.cfg.pipeline == 0;
        let cost = if cycles { 30 } else { 2 } + if verilator { 10 } else { 0 };
        jobs.push((m, pe, cost));
    }
    // Longest first, for the workers' balance; the matrix keeps the registry order.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].2));
    let ordered: Vec<&(&Module, &'static dyn PeVectors, u64)> =
        order.iter().map(|&i| &jobs[i]).collect();
    let root = std::env::temp_dir().join(format!("pelab-report-{}", std::process::id()));
    progress.stage("verify", jobs.len() as u64);
    let results = parallel(&ordered, |(m, pe, _)| {
        let t = Instant::now();
        let r = verify_one(o, m, *pe, tools, &root.join(&m.name));
        progress.step(&m.name);
        let mut r = r.unwrap_or_else(|e| Verified {
            module: m.name.clone(),
            pe: m.pe.id(),
            cfg: m.cfg.clone(),
            set: String::new(),
            cases: 0,
            rows: 0,
            cells: Vec::new(),
            ok: false,
            error: Some(e.to_string()),
            work: Some(root.join(&m.name)),
            secs: 0.0,
        });
        r.secs = t.elapsed().as_secs_f64();
        if !r.ok {
            progress.note(&format!(
                "verification of {} did not pass{}",
                m.name,
                r.work
                    .as_ref()
                    .map(|w| format!(" (work directory {})", w.display()))
                    .unwrap_or_default()
            ));
        }
        r
    });
    progress.done();
    let _ = std::fs::remove_dir(&root);
    let mut back: Vec<Option<Verified>> = (0..jobs.len()).map(|_| None).collect();
    for (k, r) in order.into_iter().zip(results) {
        back[k] = Some(r);
    }
    Ok(back
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect())
}

fn verify_one(
    o: &ReportOpts,
    m: &Module,
    pe: &'static dyn PeVectors,
    tools: &Tools,
    work: &Path,
) -> Result<Verified> {
    let set = case_set(pe, &m.cfg, o.quick)?;
    let v = pelab_testbench::vectors::generate(pe, &m.cfg, set, o.seed, Shard::ALL)?;
    let mut run = Vec::new();
    let mut cells: Vec<Option<SimCell>> = Vec::new();
    for sim in SIMS {
        let skip = |status: &str, note: String| SimCell {
            sim: sim.name(),
            status: status.into(),
            passed: 0,
            failed: 0,
            vectors_per_sec: 0.0,
            compile_secs: 0.0,
            note,
        };
        if let Err(e) = tools.sim(sim) {
            cells.push(Some(skip("not available", e)));
        } else if sim == Simulator::Verilator && !o.quick && m.cfg.pipeline > 0 {
            cells.push(Some(skip("not run", VERILATOR_BUDGET.into())));
        } else {
            run.push(sim);
            cells.push(None);
        }
    }
    let rep = pelab_testbench::verify::verify(
        &v,
        &pelab_testbench::verify::Dut::Emitted,
        &run,
        false,
        work,
        SIM_LIMIT,
    )?;
    let mut ran = rep.runs.iter();
    let cells: Vec<SimCell> = cells
        .into_iter()
        .map(|c| {
            c.unwrap_or_else(|| {
                let r = ran.next().expect("one run per simulator asked for");
                SimCell {
                    sim: SIMS
                        .iter()
                        .find(|s| s.name() == r.sim)
                        .map_or("?", |s| s.name()),
                    status: status_name(&r.status).into(),
                    passed: r.passed,
                    failed: r.failed,
                    vectors_per_sec: r.vectors_per_sec,
                    compile_secs: r.compile_secs,
                    note: if r.status == Status::Passed {
                        String::new()
                    } else {
                        r.log_tail.lines().last().unwrap_or("").to_string()
                    },
                }
            })
        })
        .collect();
    let ok = rep.passed();
    if ok {
        let _ = std::fs::remove_dir_all(work);
    }
    Ok(Verified {
        module: m.name.clone(),
        pe: m.pe.id(),
        cfg: m.cfg.clone(),
        set: set_name(set),
        cases: rep.cases,
        rows: rep.rows,
        cells,
        ok,
        error: None,
        work: (!ok).then(|| work.to_path_buf()),
        secs: 0.0,
    })
}

fn status_name(s: &Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Crashed => "crashed",
        Status::TimedOut => "timedout",
    }
}

fn verification_table(v: &[Verified]) -> Result<Table> {
    let mut t = Table::new(
        "verification",
        "Emitted Verilog against golden vectors from the reference models, per simulator",
        &[
            "module",
            "pe",
            "format",
            "policy",
            "variant",
            "pipeline",
            "vector_set",
            "cases",
            "rows",
            "simulator",
            "status",
            "passed",
            "failed",
            "vectors_per_sec",
            "compile_secs",
            "note",
        ],
    );
    for r in v {
        let head = |sim: &str, status: &str| {
            vec![
                json!(r.module),
                json!(r.pe),
                json!(r.cfg.format),
                json!(r.cfg.policy),
                json!(r.cfg.variant),
                json!(r.cfg.pipeline),
                json!(r.set),
                json!(r.cases),
                json!(r.rows),
                json!(sim),
                json!(status),
            ]
        };
        if let Some(e) = &r.error {
            let mut row = head("", "error");
            row.extend([json!(0), json!(0), Value::Null, Value::Null, json!(e)]);
            t.push(row)?;
        }
        for c in &r.cells {
            let mut row = head(c.sim, &c.status);
            let ran = !matches!(c.status.as_str(), "not available" | "not run");
            row.extend([
                json!(c.passed),
                json!(c.failed),
                if ran {
                    fnum(c.vectors_per_sec.round())
                } else {
                    Value::Null
                },
                if ran {
                    fnum((c.compile_secs * 100.0).round() / 100.0)
                } else {
                    Value::Null
                },
                json!(c.note),
            ]);
            t.push(row)?;
        }
    }
    t.provenance = vec![
        "vectors: pelab-testbench golden vectors from the pelab-sim reference models".into(),
        "rusthdl: rust-hdl's simulation of the block (no Verilog); icarus: iverilog -g2005 + \
         vvp; verilator: --binary --timing; gates: pelab's simulation of the Yosys generic-gate \
         netlist"
            .into(),
    ];
    Ok(t)
}

/// A finite number as JSON, else null.
fn fnum(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// One configuration's synthesis.
struct Synth {
    module: String,
    pe: &'static str,
    cfg: RtlConfig,
    generic: std::result::Result<SynthReport, String>,
    ice40: std::result::Result<SynthReport, String>,
}

fn synth_configs(o: &ReportOpts, modules: &[Module]) -> Vec<usize> {
    modules
        .iter()
        .enumerate()
        .filter(|(_, m)| m.cfg.pipeline == 0 && (!o.quick || quick_set(m.pe).contains(&m.cfg)))
        .map(|(i, _)| i)
        .collect()
}

fn synthesize_all(
    o: &ReportOpts,
    modules: &[Module],
    progress: &dyn Progress,
) -> Result<Vec<Synth>> {
    let idx = synth_configs(o, modules);
    let jobs: Vec<(usize, Flow)> = idx
        .iter()
        .flat_map(|&i| [(i, Flow::Generic), (i, Flow::Ice40)])
        .collect();
    progress.stage("synthesize", jobs.len() as u64);
    let reps = parallel(&jobs, |&(i, flow)| {
        let m = &modules[i];
        let r =
            m.pe.verilog(&m.cfg)
                .and_then(|v| pelab_hdl::synth::synthesize(&v.verilog, &v.name, flow))
                .map_err(|e| e.to_string());
        progress.step(&format!("{} {}", m.name, flow.name()));
        r
    });
    progress.done();
    let mut it = reps.into_iter();
    Ok(idx
        .iter()
        .map(|&i| {
            let m = &modules[i];
            let generic = it.next().expect("generic result");
            let ice40 = it.next().expect("ice40 result");
            Synth {
                module: m.name.clone(),
                pe: m.pe.id(),
                cfg: m.cfg.clone(),
                generic,
                ice40,
            }
        })
        .collect())
}

fn synthesis_table(s: &[Synth]) -> Result<Table> {
    let mut t = Table::new(
        "synthesis",
        "Yosys synthesis of every pipeline-0 configuration: generic gates and iCE40",
        &[
            "module",
            "pe",
            "format",
            "policy",
            "variant",
            "generic_logic_cells",
            "generic_ffs",
            "generic_longest_path",
            "ice40_luts",
            "ice40_carry",
            "ice40_ffs",
            "ice40_longest_path",
            "yosys",
            "note",
        ],
    );
    let mut yosys = String::new();
    for r in s {
        let g = r.generic.as_ref().ok();
        let i = r.ice40.as_ref().ok();
        let mut note = Vec::new();
        for (f, e) in [("generic", &r.generic), ("ice40", &r.ice40)] {
            if let Err(e) = e {
                note.push(format!("{f}: {e}"));
            }
        }
        if let Some(g) = g {
            yosys = g.yosys.clone();
        }
        t.push(vec![
            json!(r.module),
            json!(r.pe),
            json!(r.cfg.format),
            json!(r.cfg.policy),
            json!(r.cfg.variant),
            g.map_or(Value::Null, |g| json!(g.logic_cells)),
            g.map_or(Value::Null, |g| json!(g.ffs)),
            g.map_or(Value::Null, |g| json!(g.longest_path)),
            i.map_or(Value::Null, |i| json!(i.luts)),
            i.map_or(Value::Null, |i| json!(i.carry)),
            i.map_or(Value::Null, |i| json!(i.ffs)),
            i.map_or(Value::Null, |i| json!(i.longest_path)),
            json!(g.or(i).map_or(String::new(), |r| r.yosys.clone())),
            json!(note.join("; ")),
        ])?;
    }
    t.provenance = vec![
        format!("synthesis: {yosys}; generic: synth -flatten, flip-flops legalized to $_DFF_P_, abc -g {}", pelab_hdl::synth::GENERIC_GATES),
        "ice40: synth_ice40 -flatten (SB_LUT4, SB_CARRY, SB_DFF*)".into(),
        "logic cells: all cells but flip-flops, carry cells, DSPs and I/O buffers; longest path \
         in cells between ports or flip-flops"
            .into(),
        "pipeline-0 configurations only: pipelining adds registers, not logic, and the fp32 \
         multiplier's pipelined netlists take the longest to synthesize"
            .into(),
    ];
    Ok(t)
}

/// An energy job: a PE configuration under a workload shape.
struct EnergyJob {
    pe: &'static str,
    cfg: RtlConfig,
    shape: Shape,
}

/// A finished energy job.
struct Energy {
    pe: &'static str,
    cfg: RtlConfig,
    shape: Shape,
    m: std::result::Result<Measurement, String>,
}

fn ops(o: &ReportOpts, _dot: bool) -> u64 {
    if o.quick {
        8192
    } else {
        65_536
    }
}

fn workload_name(s: Shape) -> String {
    match s {
        Shape::Elementwise => "elementwise".into(),
        Shape::Dot { k } => format!("dot:{k}"),
    }
}

/// The PEs of the L-Mul claims (the paper compares L-Mul with the exact multiply).
const LMUL: &str = "lmul";
const FPMUL: &str = "fpmul";
/// The PEs of the BitMoD claim.
const BITMOD: &str = "bitmod";
const FP16MAC: &str = "fp16mac";

fn measure_all(o: &ReportOpts, progress: &dyn Progress) -> Result<Vec<Energy>> {
    let mut jobs = Vec::new();
    for rtl in pelab_hdl::registry() {
        for cfg in first_per_format(rtl) {
            jobs.push(EnergyJob {
                pe: rtl.id(),
                cfg,
                shape: Shape::Elementwise,
            });
        }
    }
    // The dot products of the L-Mul claim: each multiplier with the FP32 accumulator.
    for pe in [LMUL, FPMUL] {
        let rtl = pelab_hdl::find(pe)?;
        for cfg in first_per_format(rtl) {
            if CLAIM_FORMATS.contains(&cfg.format.as_str()) {
                jobs.push(EnergyJob {
                    pe: rtl.id(),
                    cfg,
                    shape: Shape::Dot { k: DOT_K },
                });
            }
        }
    }
    progress.stage("energy", jobs.len() as u64);
    let r = parallel(&jobs, |j| {
        let m = pelab_testbench::pe(j.pe).and_then(|pe| {
            pelab_testbench::energy::measure(
                pe,
                &j.cfg,
                &Request {
                    tech: Tech::Generic45,
                    dist: Dist::Gaussian,
                    shape: j.shape,
                    ops: ops(o, matches!(j.shape, Shape::Dot { .. })),
                    seed: o.seed,
                    freq_ghz: 1.0,
                    wire_ff: 0.5,
                },
                None,
            )
        });
        progress.step(&format!(
            "{} {} {}",
            j.pe,
            j.cfg.format,
            workload_name(j.shape)
        ));
        Energy {
            pe: j.pe,
            cfg: j.cfg.clone(),
            shape: j.shape,
            m: m.map_err(|e| {
                let e = e.to_string();
                if e.contains("has no energy workload") {
                    format!(
                        "no workload of its own: it is measured as the accumulator stage of \
                         the dot:{DOT_K} rows ({e})"
                    )
                } else {
                    e
                }
            }),
        }
    });
    progress.done();
    Ok(r)
}

/// Provenance of the gate-level figures.
fn gate_source(o: &ReportOpts) -> String {
    format!(
        "gate level: generic-45nm (Yosys generic gates priced with Nangate 45 nm Open Cell \
         Library figures, typical corner, 1.1 V; zero-delay toggle counts), {} Gaussian \
         operations, seed {}, 1 GHz",
        ops(o, false),
        o.seed
    )
}

const TABLE_SOURCE: &str = "table: horowitz-45nm (Horowitz, ISSCC 2014, 45 nm: the L-Mul \
     paper's table method)";

fn energy_table(o: &ReportOpts, e: &[Energy]) -> Result<Table> {
    let mut t = Table::new(
        "energy",
        "Energy per operation of every PE configuration: gate level beside the table method",
        &[
            "pe",
            "format",
            "policy",
            "variant",
            "workload",
            "operation",
            "ops_simulated",
            "gate_total_pj",
            "gate_dynamic_pj",
            "gate_clock_pj",
            "gate_leakage_pj",
            "area_um2",
            "toggles_per_op",
            "table_pj",
            "table_rows",
            "stages",
            "tech",
            "dist",
            "seed",
            "note",
        ],
    );
    for r in e {
        let head = vec![
            json!(r.pe),
            json!(r.cfg.format),
            json!(r.cfg.policy),
            json!(r.cfg.variant),
            json!(workload_name(r.shape)),
        ];
        let mut row = head;
        match &r.m {
            Ok(m) => {
                let stages: Vec<String> = m
                    .stages
                    .iter()
                    .map(|s| format!("{} ({}, {:.4} pJ)", s.module, s.role, s.energy.total_pj))
                    .collect();
                row.extend([
                    json!(m.op_name),
                    json!(m.ops),
                    fnum(m.total_pj),
                    fnum(m.dynamic_pj),
                    fnum(m.clock_pj),
                    fnum(m.leakage_pj),
                    fnum(m.area_um2),
                    fnum(m.toggles_per_op),
                    m.horowitz.energy_pj.map_or(Value::Null, fnum),
                    json!(m.horowitz.detail),
                    json!(stages.join("; ")),
                    json!(m.tech),
                    json!(m.dist.name()),
                    json!(m.seed),
                    json!(""),
                ]);
            }
            Err(err) => {
                row.extend([
                    Value::Null,
                    json!(0),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    json!(""),
                    json!(""),
                    json!("generic-45nm"),
                    json!("gaussian"),
                    json!(o.seed),
                    json!(err),
                ]);
            }
        }
        t.push(row)?;
    }
    t.provenance = vec![
        gate_source(o),
        TABLE_SOURCE.into(),
        pelab_sim::energy::GLITCH_CAVEAT.into(),
        "dot:K workloads: the multiplier followed by the fp32acc FP32 accumulator (a clear \
         cycle per dot product); MAC PEs accumulate themselves"
            .into(),
    ];
    Ok(t)
}

fn anchor_table(o: &ReportOpts, a: &[pelab_testbench::energy::Anchor]) -> Result<Table> {
    let mut t = Table::new(
        "energy_anchors",
        "Basic integer and float operations through the same gate-level flow, beside Horowitz's \
         table",
        &[
            "operation",
            "bits",
            "circuit",
            "cells",
            "gate_pj",
            "horowitz_pj",
            "ratio",
            "on_original_slide",
        ],
    );
    for r in a {
        t.push(vec![
            json!(r.operation),
            json!(r.bits),
            json!(r.circuit),
            json!(r.cells),
            fnum(r.gate_pj),
            fnum(r.horowitz_pj),
            fnum(r.ratio),
            json!(r.original),
        ])?;
    }
    t.provenance = vec![
        format!(
            "gate level: generic-45nm, {} operations, seed {}; uniform integer operands, Gaussian \
             float operands",
            ops(o, false),
            o.seed
        ),
        TABLE_SOURCE.into(),
    ];
    Ok(t)
}

/// The L-Mul energy saving per format, workload and estimator.
fn savings_table(o: &ReportOpts, e: &[Energy]) -> Result<Table> {
    let mut t = Table::new(
        "energy_lmul_saving",
        "L-Mul's energy saving over the exact multiply: 1 - E(lmul) / E(fpmul), per format, \
         workload and estimator",
        &[
            "format",
            "workload",
            "estimator",
            "lmul_pj",
            "fpmul_pj",
            "saving",
            "paper_saving",
            "note",
        ],
    );
    for shape in [Shape::Elementwise, Shape::Dot { k: DOT_K }] {
        for f in CLAIM_FORMATS {
            let get = |pe: &str| {
                e.iter()
                    .find(|r| r.pe == pe && r.cfg.format == f && r.shape == shape)
                    .and_then(|r| r.m.as_ref().ok())
            };
            let (l, x) = (get(LMUL), get(FPMUL));
            let paper = if shape == Shape::Elementwise {
                PAPER_ELEM_SAVING
            } else {
                PAPER_DOT_SAVING
            };
            for est in ["gate level", "table"] {
                let pick = |m: Option<&Measurement>| {
                    m.and_then(|m| {
                        if est == "gate level" {
                            Some(m.total_pj)
                        } else {
                            m.horowitz.energy_pj
                        }
                    })
                };
                let (a, b) = (pick(l), pick(x));
                let note = match (l, x, a, b) {
                    (None, _, _, _) | (_, None, _, _) => "not measured".to_string(),
                    (_, Some(x), _, None) if est == "table" => x.horowitz.detail.clone(),
                    (Some(l), _, None, _) if est == "table" => l.horowitz.detail.clone(),
                    _ => String::new(),
                };
                let saving = match (a, b) {
                    (Some(a), Some(b)) if b > 0.0 => fnum(1.0 - a / b),
                    _ => Value::Null,
                };
                t.push(vec![
                    json!(f),
                    json!(workload_name(shape)),
                    json!(est),
                    a.map_or(Value::Null, fnum),
                    b.map_or(Value::Null, fnum),
                    saving,
                    json!(paper),
                    json!(note),
                ])?;
            }
        }
    }
    t.provenance = vec![
        gate_source(o),
        TABLE_SOURCE.into(),
        format!(
            "elementwise: one multiply; dot:{DOT_K}: a multiply plus the FP32 accumulation \
             (fp32acc at gate level, fp_add 32 in the table)"
        ),
        "lmul with its default overflow policy (saturate), fpmul with its default (ieee); \
         pipeline 0"
            .into(),
        pelab_sim::energy::GLITCH_CAVEAT.into(),
    ];
    Ok(t)
}

fn run_studies(o: &ReportOpts, progress: &dyn Progress) -> Result<Vec<Table>> {
    progress.stage("studies", accuracy::STUDIES.len() as u64);
    let mut v = Vec::new();
    for name in accuracy::STUDIES {
        let full = accuracy::default_samples(name)?;
        let samples = if o.quick { (full / 8).max(4096) } else { full };
        let opts = accuracy::Opts {
            source: accuracy::Source::parse("gaussian")?,
            samples,
            seed: o.seed,
        };
        v.extend(accuracy::study(name, &opts)?);
        progress.step(name);
    }
    progress.done();
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Claims

fn cell_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        o => o.to_string(),
    }
}

/// Rows of `t` whose columns equal the given texts.
fn rows<'a>(t: &'a Table, want: &[(&str, &str)]) -> Result<Vec<&'a [Value]>> {
    let idx = want
        .iter()
        .map(|(c, v)| Ok((t.col(c)?, *v)))
        .collect::<Result<Vec<_>>>()?;
    Ok(t.rows
        .iter()
        .filter(|r| idx.iter().all(|(i, v)| cell_str(&r[*i]) == *v))
        .map(|r| r.as_slice())
        .collect())
}

/// Column `col` of the first row matching `want`, as a number.
fn one(t: &Table, want: &[(&str, &str)], col: &str) -> Result<Option<f64>> {
    let c = t.col(col)?;
    Ok(rows(t, want)?.first().and_then(|r| r[c].as_f64()))
}

fn study<'a>(s: &'a BTreeMap<String, Table>, name: &str) -> Result<&'a Table> {
    s.get(name)
        .ok_or_else(|| Error::new(format!("the studies produced no table {name}")))
}

/// A fraction as a percentage with 3 significant digits.
fn pct(x: f64) -> String {
    format!("{}%", short(x * 100.0))
}

fn opt_pct(x: Option<f64>) -> String {
    x.map_or("no figure".into(), pct)
}

/// A study table's provenance in one line: source, samples, seed.
fn study_source(t: &Table) -> String {
    let keep: Vec<&str> = t
        .provenance
        .iter()
        .filter(|p| p.starts_with("source:") || p.starts_with("samples:") || p.starts_with("seed:"))
        .map(|p| p.as_str())
        .collect();
    format!("{}.csv: {}", t.name, keep.join("; "))
}

fn claims(
    o: &ReportOpts,
    s: &BTreeMap<String, Table>,
    e: &[Energy],
    savings: &Table,
) -> Result<Vec<Claim>> {
    let mut v = Vec::new();
    // L-Mul accuracy.
    let el = study(s, "lmul_elementwise")?;
    let err = |method: &str, fmt: &str, conv: &str| {
        one(
            el,
            &[("method", method), ("format", fmt), ("conversion", conv)],
            "mean_abs_rel_err",
        )
    };
    for (m, base, paper, strict) in [
        (
            "e8m4",
            "e4m3",
            "L-Mul with a 4-bit mantissa is about as precise as float8 e4m3 multiplication",
            false,
        ),
        (
            "e8m3",
            "e5m2",
            "L-Mul with a 3-bit mantissa is more precise than float8 e5m2 multiplication",
            true,
        ),
    ] {
        let b = err(FPMUL, base, "rne")?;
        let mut meas = Vec::new();
        let mut verdicts = Vec::new();
        for conv in ["rne", "rtz"] {
            let l = err(LMUL, m, conv)?;
            meas.push(format!(
                "L-Mul {m}, {} inputs: {}",
                conv.to_uppercase(),
                opt_pct(l)
            ));
            let word = match (l, b) {
                (Some(l), Some(b)) if strict && l < b => format!(
                    "holds with {} inputs ({} of e5m2's error)",
                    conv.to_uppercase(),
                    pct(l / b)
                ),
                (Some(l), Some(b)) if strict => format!(
                    "does not hold with {} inputs (L-Mul's error is {}x e5m2's)",
                    conv.to_uppercase(),
                    short(l / b)
                ),
                (Some(l), Some(b)) if l <= b => format!(
                    "holds with {} inputs (L-Mul is at least as precise: {}x e4m3's error)",
                    conv.to_uppercase(),
                    short(l / b)
                ),
                (Some(l), Some(b)) if l <= 1.1 * b => format!(
                    "holds roughly with {} inputs (within 10%: {}x e4m3's error)",
                    conv.to_uppercase(),
                    short(l / b)
                ),
                (Some(l), Some(b)) => format!(
                    "does not hold with {} inputs (L-Mul's error is {}x e4m3's)",
                    conv.to_uppercase(),
                    short(l / b)
                ),
                _ => format!("not measured with {} inputs", conv.to_uppercase()),
            };
            verdicts.push(word);
        }
        meas.push(format!(
            "exact {base} multiply (RNE inputs): {}",
            opt_pct(b)
        ));
        v.push(Claim {
            claim: format!("L-Mul {m} vs {base} multiply (accuracy)"),
            paper: paper.into(),
            pelab: format!("mean relative error: {}", meas.join("; ")),
            source: format!(
                "{}; error against the exact product of the real values",
                study_source(el)
            ),
            verdict: capitalize(&verdicts.join("; ")),
        });
    }

    // L-Mul energy, per workload and format.
    for (shape, paper) in [
        (Shape::Elementwise, PAPER_ELEM_SAVING),
        (Shape::Dot { k: DOT_K }, PAPER_DOT_SAVING),
    ] {
        let wl = workload_name(shape);
        for f in CLAIM_FORMATS {
            let get = |est: &str, col: &str| {
                one(
                    savings,
                    &[("format", f), ("workload", &wl), ("estimator", est)],
                    col,
                )
            };
            let (gs, gl, gx) = (
                get("gate level", "saving")?,
                get("gate level", "lmul_pj")?,
                get("gate level", "fpmul_pj")?,
            );
            let (ts, tl, tx) = (
                get("table", "saving")?,
                get("table", "lmul_pj")?,
                get("table", "fpmul_pj")?,
            );
            let pj = |x: Option<f64>| x.map_or("no figure".into(), |x| format!("{} pJ", short(x)));
            let mut meas = format!("gate level {} ({} vs {})", opt_pct(gs), pj(gl), pj(gx));
            meas.push_str(&match ts {
                Some(ts) => format!("; table {} ({} vs {})", pct(ts), pj(tl), pj(tx)),
                None => "; table: no figure (horowitz-45nm has no multiply in this format)".into(),
            });
            let holds = |x: f64| x >= paper - SAVING_TOLERANCE;
            let gate_v = match gs {
                Some(g) if holds(g) => format!("holds at gate level ({})", pct(g)),
                Some(g) => format!(
                    "not reproduced at gate level: {} instead of {}",
                    pct(g),
                    pct(paper)
                ),
                None => "not measured at gate level".into(),
            };
            let table_v = match ts {
                Some(t) if holds(t) => format!("the table method gives it ({})", pct(t)),
                Some(t) => format!("the table method gives {}", pct(t)),
                None => "the table method has no figure for this format".into(),
            };
            let what = if shape == Shape::Elementwise {
                "element-wise"
            } else {
                "dot-product"
            };
            v.push(Claim {
                claim: format!("L-Mul {what} energy saving, {f}"),
                paper: format!(
                    "{} less energy than the float multiply{} (Horowitz's 45 nm table)",
                    pct(paper),
                    if shape == Shape::Elementwise {
                        ""
                    } else {
                        " in dot products with FP32 accumulation"
                    }
                ),
                pelab: meas,
                source: format!(
                    "energy_lmul_saving.csv ({wl}): {}; {TABLE_SOURCE}",
                    gate_source(o)
                ),
                verdict: capitalize(&format!("{gate_v}; {table_v}")),
            });
        }
    }

    // BitMoD accuracy.
    let mse = study(s, "bitmod_mse")?;
    for (set, base) in [("bitmod4", ["int4", "fp4"]), ("bitmod3", ["int3", "fp3"])] {
        let m = |name: &str| one(mse, &[("set", name)], "mse");
        let b = m(set)?;
        let (x, y) = (m(base[0])?, m(base[1])?);
        let nm = |v: Option<f64>| v.map_or("no figure".into(), |v| format!("{v:.3e}"));
        let verdict = match (b, x, y) {
            (Some(b), Some(x), Some(y)) if b < x && b < y => format!(
                "Holds: {} of {}'s MSE and {} of {}'s",
                pct(b / x),
                base[0],
                pct(b / y),
                base[1]
            ),
            (Some(b), Some(x), Some(y)) => format!(
                "Does not hold: {set}'s MSE is {}x {}'s and {}x {}'s",
                short(b / x),
                base[0],
                short(b / y),
                base[1]
            ),
            _ => "Not measured".into(),
        };
        v.push(Claim {
            claim: format!(
                "BitMoD {set} per-group types vs {} / {} (weight MSE)",
                base[0], base[1]
            ),
            paper: format!(
                "per-group choice among the BitMoD types (FP{} + extra value) quantizes weights \
                 with lower error than {} or {} alone",
                &set[6..],
                base[0].to_uppercase(),
                base[1].to_uppercase()
            ),
            pelab: format!(
                "MSE {set} {}, {} {}, {} {}",
                nm(b),
                base[0],
                nm(x),
                base[1],
                nm(y)
            ),
            source: format!("{}; groups of 128, exact group scale", study_source(mse)),
            verdict,
        });
    }

    // BitMoD energy.
    let per_mac = |pe: &str| {
        e.iter()
            .find(|r| r.pe == pe && r.shape == Shape::Elementwise)
            .and_then(|r| r.m.as_ref().ok())
    };
    let paper_ratio = BITMOD_MW / BITMOD_MACS_PER_CYCLE / FP16MAC_MW;
    let (b, f) = (per_mac(BITMOD), per_mac(FP16MAC));
    let (pelab, verdict) = match (b, f) {
        (Some(b), Some(f)) => {
            let r = b.total_pj / f.total_pj;
            let verdict = if (r - paper_ratio).abs() <= RATIO_TOLERANCE * paper_ratio {
                format!(
                    "Holds: {} against the authors' {}",
                    short(r),
                    short(paper_ratio)
                )
            } else if r < 1.0 {
                format!(
                    "Partly: the BitMoD PE is cheaper per MAC than the FP16 MAC, but the ratio \
                     is {} rather than the authors' {}",
                    short(r),
                    short(paper_ratio)
                )
            } else {
                format!(
                    "Does not hold: the BitMoD PE costs {}x the FP16 MAC per MAC",
                    short(r)
                )
            };
            (
                format!(
                    "gate level: BitMoD {} pJ/MAC, FP16 MAC {} pJ/MAC, ratio {}; table: no \
                     figure (horowitz-45nm has no bit-serial PE)",
                    short(b.total_pj),
                    short(f.total_pj),
                    short(r)
                ),
                verdict,
            )
        }
        _ => (
            "not measured (0 pJ figures: no gate-level energy)".into(),
            "Not measured".into(),
        ),
    };
    v.push(Claim {
        claim: "BitMoD PE energy per MAC vs FP16 MAC".into(),
        paper: format!(
            "BitMoD PE {BITMOD_MW} mW at {BITMOD_MACS_PER_CYCLE} MACs/cycle vs FP16 MAC \
             {FP16MAC_MW} mW (TSMC 28 nm, 1 GHz): ratio {} per MAC",
            short(paper_ratio)
        ),
        pelab,
        source: format!(
            "energy.csv (elementwise, one MAC per operation): {}; 4-bit weights in groups of 128",
            gate_source(o)
        ),
        verdict,
    });

    // DFP overflow.
    let ov = study(s, "dfp_overflow")?;
    let frac = |chunk: usize, h: u32| {
        one(
            ov,
            &[
                ("chunk", &chunk.to_string()),
                ("headroom", &h.to_string()),
                ("mode", "wrap"),
            ],
            "overflow_fraction",
        )
    };
    let (ci, hi, mi, fi) = (
        ov.col("chunk")?,
        ov.col("headroom")?,
        ov.col("mode")?,
        ov.col("overflow_fraction")?,
    );
    let mut chunks: Vec<u64> = ov.rows.iter().filter_map(|r| r[ci].as_u64()).collect();
    chunks.sort();
    chunks.dedup();
    let mut heads: Vec<u64> = ov.rows.iter().filter_map(|r| r[hi].as_u64()).collect();
    heads.sort();
    heads.dedup();
    let get = |c: u64, h: u64, m: &str| {
        ov.rows
            .iter()
            .find(|r| {
                r[ci].as_u64() == Some(c) && r[hi].as_u64() == Some(h) && cell_str(&r[mi]) == m
            })
            .and_then(|r| r[fi].as_f64())
    };
    let mut by_headroom = true;
    let mut by_chunk = true;
    for m in ["wrap", "saturate"] {
        for &c in &chunks {
            for w in heads.windows(2) {
                if let (Some(a), Some(b)) = (get(c, w[0], m), get(c, w[1], m)) {
                    by_headroom &= b <= a;
                }
            }
        }
        for &h in &heads {
            for w in chunks.windows(2) {
                if let (Some(a), Some(b)) = (get(w[0], h, m), get(w[1], h, m)) {
                    by_chunk &= a <= b;
                }
            }
        }
    }
    let longest = chunks.last().copied().unwrap_or(4096) as usize;
    let shortest = chunks.first().copied().unwrap_or(64) as usize;
    let at_long: Vec<String> = heads
        .iter()
        .map(|&h| {
            Ok(format!(
                "headroom {h}: {}",
                opt_pct(frac(longest, h as u32)?)
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let h0 = heads.first().copied().unwrap_or(0) as u32;
    let any_over = ov
        .rows
        .iter()
        .any(|r| r[fi].as_f64().is_some_and(|x| x > 0.0));
    let verdict = match (by_headroom, by_chunk, any_over) {
        (_, _, false) => "Holds trivially: no chunk overflowed at any headroom or chunk length \
                          with these values"
            .to_string(),
        (true, true, _) => "Holds: the overflow fraction never grows with more headroom and \
                            never shrinks with longer chunks"
            .into(),
        (false, true, _) => "Partly: longer chunks overflow more, but more headroom does not \
                             always overflow less"
            .into(),
        (true, false, _) => "Partly: more headroom overflows less, but longer chunks do not \
                             always overflow more"
            .into(),
        (false, false, _) => "Does not hold: the overflow fraction is not monotone in headroom \
                              or chunk length"
            .into(),
    };
    v.push(Claim {
        claim: "DFP-16 INT32 chunk overflow vs headroom and chunk length".into(),
        paper: "Dynamic Fixed Point (Das et al., ICLR 2018; libxsmm uses headroom 2): INT16 \
                products accumulate in INT32 over chunks converted to FP32; headroom bits and \
                short chunks keep the INT32 sums from overflowing"
            .into(),
        pelab: format!(
            "chunks of {longest} whose exact sum left INT32: {}; headroom {h0}, chunk \
             {shortest}: {}",
            at_long.join(", "),
            opt_pct(frac(shortest, h0)?)
        ),
        source: study_source(ov),
        verdict,
    });
    Ok(v)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn claims_table(c: &[Claim]) -> Result<Table> {
    let mut t = Table::new(
        "claims",
        "Each paper claim beside pelab's measurement, with the verdict",
        &["claim", "paper", "pelab", "source", "verdict"],
    );
    for x in c {
        t.push(vec![
            json!(x.claim),
            json!(x.paper),
            json!(x.pelab),
            json!(x.source),
            json!(x.verdict),
        ])?;
    }
    t.provenance =
        vec!["summary.md explains each row; the source column names each number's origin".into()];
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// Figures

fn figures(
    o: &ReportOpts,
    s: &BTreeMap<String, Table>,
    e: &[Energy],
    synth: &[Synth],
) -> Result<Vec<Figure>> {
    let mut v = Vec::new();
    let seed = o.seed;

    // L-Mul error against mantissa bits.
    let el = study(s, "lmul_elementwise")?;
    let mut lines = Vec::new();
    for (k, (method, conv, name, dashed)) in [
        (LMUL, "rne", "L-Mul e8mM, RNE inputs", false),
        (LMUL, "rtz", "L-Mul e8mM, RTZ inputs", true),
        (FPMUL, "rne", "exact multiply e8mM, RNE inputs", false),
        (FPMUL, "rtz", "exact multiply e8mM, RTZ inputs", true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut pts = Vec::new();
        for m in 1..=7 {
            if let Some(y) = one(
                el,
                &[
                    ("method", method),
                    ("format", &format!("e8m{m}")),
                    ("conversion", conv),
                ],
                "mean_abs_rel_err",
            )? {
                pts.push((m as f64, y * 100.0));
            }
        }
        lines.push(Line {
            name: name.into(),
            points: pts,
            dashed,
            color: k / 2,
            markers: true,
            legend: true,
        });
    }
    for (i, (fmt, m)) in [("e4m3", 3.0), ("e5m2", 2.0)].into_iter().enumerate() {
        if let Some(y) = one(
            el,
            &[("method", FPMUL), ("format", fmt), ("conversion", "rne")],
            "mean_abs_rel_err",
        )? {
            lines.push(Line {
                name: format!("exact {fmt} multiply (at M = {m}; dashed: its level)"),
                points: vec![(m, y * 100.0)],
                dashed: false,
                color: 2 + i,
                markers: true,
                legend: true,
            });
            lines.push(Line {
                name: format!("{fmt} level"),
                points: vec![(1.0, y * 100.0), (7.0, y * 100.0)],
                dashed: true,
                color: 2 + i,
                markers: false,
                legend: false,
            });
        }
    }
    v.push(Figure {
        stem: "lmul_error".into(),
        panels: vec![Panel::Lines(Lines {
            title: "L-Mul error vs mantissa bits, beside the FP8 multiplies".into(),
            x_axis: "mantissa bits M (format e8mM: 8 exponent bits; e4m3 has 3, e5m2 has 2)".into(),
            y_axis: "mean relative error (%, log scale)".into(),
            lines,
            log_x: false,
            log_y: true,
            x_ticks: Some((1..=7).map(|m| (m as f64, m.to_string())).collect()),
            y_range: None,
        })],
        notes: vec![
            format!("Source: {}", study_source(el)),
            "Error against the exact product of the real values (conversion of the inputs \
             included); reference models pelab_sim::lmul and pelab_sim::fpmul."
                .into(),
        ],
        width: 1200,
    });

    // Energy per operation.
    let mut cats = Vec::new();
    let (mut gate, mut table) = (Vec::new(), Vec::new());
    for r in e {
        let Ok(m) = &r.m else { continue };
        let variant = if r.cfg.variant.is_empty() {
            String::new()
        } else {
            format!(" {}", r.cfg.variant)
        };
        let what = match r.shape {
            Shape::Elementwise => format!("per {}", m.op_name),
            Shape::Dot { k } => format!("multiply + FP32 accumulate, dot {k}"),
        };
        cats.push(format!("{} {}{} ({what})", r.pe, r.cfg.format, variant));
        gate.push(Some(m.total_pj));
        table.push(m.horowitz.energy_pj);
    }
    if !cats.is_empty() {
        v.push(Figure {
            stem: "energy".into(),
            panels: vec![Panel::Bars(Bars {
                title: "Energy per operation by PE, format and estimator".into(),
                value_axis: "energy per operation (pJ, log scale)".into(),
                categories: cats,
                series: vec![
                    BarSeries {
                        name: "gate level (generic-45nm, Nangate 45 nm, 1.1 V)".into(),
                        values: gate,
                    },
                    BarSeries {
                        name: "table method (horowitz-45nm)".into(),
                        values: table,
                    },
                ],
                log: true,
                value_labels: true,
                missing: "no table figure".into(),
            })],
            notes: vec![
                format!(
                    "Gate level: Yosys generic gates, pelab's zero-delay gate simulator, {} \
                     Gaussian operations, seed {seed}, 1 GHz (glitches not counted).",
                    ops(o, false)
                ),
                "Table: Horowitz, ISSCC 2014, 45 nm (the L-Mul paper's method). Data: \
                 energy.csv."
                    .into(),
            ],
            width: 1400,
        });
    }

    // BitMoD MSE.
    let mse = study(s, "bitmod_mse")?;
    let (si, ni, nii) = (
        mse.col("set")?,
        mse.col("nmse")?,
        mse.col("nmse_int_scale")?,
    );
    let bits = mse.col("bits")?;
    let mut order: Vec<&Vec<Value>> = mse.rows.iter().collect();
    order.sort_by_key(|r| r[bits].as_u64());
    v.push(Figure {
        stem: "bitmod_mse".into(),
        panels: vec![Panel::Bars(Bars {
            title: "BitMoD: weight quantization error by datatype (groups of 128)".into(),
            value_axis: "normalized MSE = MSE / mean(w²) (log scale)".into(),
            categories: order
                .iter()
                .map(|r| format!("{} ({}-bit)", cell_str(&r[si]), cell_str(&r[bits])))
                .collect(),
            series: vec![
                BarSeries {
                    name: "exact group scale".into(),
                    values: order.iter().map(|r| r[ni].as_f64()).collect(),
                },
                BarSeries {
                    name: "8-bit integer group scale (as the PE computes)".into(),
                    values: order.iter().map(|r| r[nii].as_f64()).collect(),
                },
            ],
            log: true,
            value_labels: true,
            missing: "n/a".into(),
        })],
        notes: vec![
            format!("Source: {}", study_source(mse)),
            "Reference model pelab_sim::bitmod::quantize_channel; bitmodN: per-group choice \
             among FP-N ER+/ER-/EA+/EA-."
                .into(),
        ],
        width: 1200,
    });

    // DFP overflow against chunk length.
    let ov = study(s, "dfp_overflow")?;
    let (ci, hi, mi, fi, ei) = (
        ov.col("chunk")?,
        ov.col("headroom")?,
        ov.col("mode")?,
        ov.col("overflow_fraction")?,
        ov.col("mean_norm_err")?,
    );
    let mut heads: Vec<u64> = ov.rows.iter().filter_map(|r| r[hi].as_u64()).collect();
    heads.sort();
    heads.dedup();
    let mut chunks: Vec<u64> = ov.rows.iter().filter_map(|r| r[ci].as_u64()).collect();
    chunks.sort();
    chunks.dedup();
    let series = |mode: &str, col: usize, scale: f64| -> Vec<Line> {
        heads
            .iter()
            .enumerate()
            .map(|(k, &h)| Line {
                name: format!("headroom {h}"),
                points: ov
                    .rows
                    .iter()
                    .filter(|r| r[hi].as_u64() == Some(h) && cell_str(&r[mi]) == mode)
                    .filter_map(|r| Some((r[ci].as_u64()? as f64, r[col].as_f64()? * scale)))
                    .collect(),
                dashed: false,
                color: k,
                markers: true,
                legend: true,
            })
            .collect()
    };
    let ticks: Vec<(f64, String)> = chunks.iter().map(|&c| (c as f64, c.to_string())).collect();
    let over = series("wrap", fi, 100.0);
    let flat: Vec<String> = over
        .iter()
        .filter(|l| l.points.iter().all(|p| p.1 == 0.0))
        .map(|l| l.name.clone())
        .collect();
    let mut err_lines = series("saturate", ei, 1.0);
    for mut l in series("wrap", ei, 1.0) {
        l.dashed = true;
        l.legend = false;
        err_lines.push(l);
    }
    for (name, dashed) in [
        ("solid: VPDPWSSDS (saturate)", false),
        ("dashed: VPDPWSSD (wrap)", true),
    ] {
        err_lines.push(Line {
            name: name.into(),
            points: Vec::new(),
            dashed,
            color: 6,
            markers: false,
            legend: true,
        });
    }
    let mut notes = vec![
        format!("Source: {}", study_source(ov)),
        "Reference model pelab_sim::int16fma::dfp: shared exponent per vector of 4096, scf = 15 \
         - headroom - e; chunks summed in INT32, converted to FP32."
            .into(),
    ];
    if !flat.is_empty() {
        notes.push(format!(
            "Left: {} overflow in no chunk at any length (their lines lie on 0 and overlap).",
            flat.join(", ")
        ));
    }
    v.push(Figure {
        stem: "dfp_overflow".into(),
        panels: vec![
            Panel::Lines(Lines {
                title: "DFP-16: INT32 chunk overflow vs chunk length".into(),
                x_axis: "chunk length (products per INT32 sum, log scale)".into(),
                y_axis: "chunks overflowing INT32 (%)".into(),
                lines: over,
                log_x: true,
                log_y: false,
                x_ticks: Some(ticks.clone()),
                y_range: Some((0.0, 100.0)),
            }),
            Panel::Lines(Lines {
                title: "DFP-16: dot-product error vs chunk length".into(),
                x_axis: "chunk length (products per INT32 sum, log scale)".into(),
                y_axis: "mean |dot - exact| / (|a| |b|), log scale".into(),
                lines: err_lines,
                log_x: true,
                log_y: true,
                x_ticks: Some(ticks),
                y_range: None,
            }),
        ],
        notes,
        width: 1600,
    });

    // Gate counts and LUTs.
    let ok: Vec<&Synth> = synth
        .iter()
        .filter(|r| r.generic.is_ok() || r.ice40.is_ok())
        .collect();
    if !ok.is_empty() {
        v.push(Figure {
            stem: "synthesis".into(),
            panels: vec![Panel::Bars(Bars {
                title: "Logic by PE configuration (pipeline 0): generic gates and iCE40 LUTs"
                    .into(),
                value_axis: "cells (log scale)".into(),
                categories: ok.iter().map(|r| r.module.clone()).collect(),
                series: vec![
                    BarSeries {
                        name: "generic logic gates (Yosys + ABC)".into(),
                        values: ok
                            .iter()
                            .map(|r| r.generic.as_ref().ok().map(|g| g.logic_cells as f64))
                            .collect(),
                    },
                    BarSeries {
                        name: "iCE40 LUT4s".into(),
                        values: ok
                            .iter()
                            .map(|r| r.ice40.as_ref().ok().map(|g| g.luts as f64))
                            .collect(),
                    },
                    BarSeries {
                        name: "flip-flops".into(),
                        values: ok
                            .iter()
                            .map(|r| {
                                r.generic
                                    .as_ref()
                                    .ok()
                                    .map(|g| g.ffs as f64)
                                    .filter(|&f| f > 0.0)
                            })
                            .collect(),
                    },
                ],
                log: true,
                value_labels: true,
                missing: "none".into(),
            })],
            notes: vec![
                format!(
                    "Source: synthesis.csv; {}.",
                    ok.iter()
                        .find_map(|r| r.generic.as_ref().ok().map(|g| g.yosys.clone()))
                        .unwrap_or_default()
                ),
                "Generic: synth -flatten, abc -g onto 2-4-input gates and MUX; iCE40: \
                 synth_ice40 -flatten."
                    .into(),
            ],
            width: 1300,
        });
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// summary.md

struct Sections<'a> {
    tools: &'a Tools,
    modules: &'a [Module],
    verified: &'a [Verified],
    synth: &'a [Synth],
    energy: &'a [Energy],
    savings: &'a Table,
    anchors: Option<&'a Table>,
    studies: &'a BTreeMap<String, Table>,
}

/// A Markdown table cell: pipes escaped, no line breaks.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn md_row(cells: &[String]) -> String {
    let c: Vec<String> = cells.iter().map(|c| md(c)).collect();
    format!("| {} |\n", c.join(" | "))
}

fn md_head(cols: &[&str]) -> String {
    let mut s = format!("| {} |\n", cols.join(" | "));
    s.push_str(&format!("|{}\n", "---|".repeat(cols.len())));
    s
}

fn opt_short(v: Option<f64>) -> String {
    v.map_or("—".into(), short)
}

fn markdown(o: &ReportOpts, sum: &Summary, x: &Sections) -> Result<String> {
    let mut s = String::new();
    let mode = if o.quick {
        "quick run (`--quick`)"
    } else {
        "default run"
    };
    s.push_str("# pelab report\n\n");
    s.push_str(&format!(
        "pelab {}, {mode}, seed {}: {} Verilog modules emitted, {} configurations verified, \
         run time {:.0} s.\n\n",
        env!("CARGO_PKG_VERSION"),
        o.seed,
        sum.modules_emitted,
        sum.configurations_verified,
        sum.seconds
    ));
    let tool = |r: &std::result::Result<String, String>| match r {
        Ok(v) => v.clone(),
        Err(e) => format!("not available ({e})"),
    };
    s.push_str(&format!(
        "Tools: {}; {}; {}.\n\n",
        tool(&x.tools.yosys),
        tool(&x.tools.icarus),
        tool(&x.tools.verilator)
    ));
    if !sum.failures.is_empty() {
        s.push_str("**Verification failures:**\n\n");
        for f in &sum.failures {
            s.push_str(&format!("- {}\n", md(f)));
        }
        s.push('\n');
    }

    // Claims.
    s.push_str("## Claims and measurements\n\n");
    s.push_str(
        "Each claim of the papers beside what pelab measures. A claim the measurements do not \
         support is said so. Tolerances: an energy saving reproduces the paper's when it is at \
         most 5 percentage points below it; a ratio, when within 20% of it; \"about as precise\" \
         means an error at most 10% above the baseline's.\n\n",
    );
    s.push_str(&md_head(&[
        "claim",
        "paper says",
        "pelab measures",
        "source",
        "verdict",
    ]));
    for c in &sum.claims {
        s.push_str(&md_row(&[
            c.claim.clone(),
            c.paper.clone(),
            c.pelab.clone(),
            c.source.clone(),
            c.verdict.clone(),
        ]));
    }
    s.push_str("\nData: `claims.csv`.\n\n");

    // Verification.
    s.push_str("## Verification\n\n");
    s.push_str(&format!(
        "Every configuration's emitted Verilog against golden vectors from the reference models \
         (seed {}), in each simulator: rusthdl (rust-hdl's simulation of the block, no Verilog), \
         icarus, verilator, and gates (pelab's simulation of the Yosys generic-gate netlist, the \
         netlist the energy figures come from). Vector sets: {}, corner cases first.\n\n",
        o.seed,
        default_sets(o.quick).describe()
    ));
    if o.quick {
        s.push_str(&format!(
            "Quick run: {} of the {} configurations are verified (pipeline 0, the default \
             policy, only {} where a PE has several formats).\n\n",
            x.verified.len(),
            x.modules.len(),
            QUICK_FORMATS.join(" and ")
        ));
    } else {
        s.push_str(&format!(
            "Verilator runs the pipeline-0 configurations only ({VERILATOR_BUDGET}).\n\n"
        ));
    }
    for u in &sum.unavailable {
        s.push_str(&format!("- **{}**\n", md(u)));
    }
    if !sum.unavailable.is_empty() {
        s.push('\n');
    }
    let counts: Vec<String> = sum
        .simulator_runs
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    s.push_str(&format!("Simulator runs: {}.\n\n", counts.join(", ")));
    let mut cols = vec!["module", "vectors"];
    cols.extend(SIMS.iter().map(|s| s.name()));
    s.push_str(&md_head(&cols));
    for v in x.verified {
        let mut row = vec![
            v.module.clone(),
            if v.error.is_some() {
                "error".into()
            } else {
                format!("{} cases, {} rows", v.cases, v.rows)
            },
        ];
        for sim in SIMS {
            let c = v.cells.iter().find(|c| c.sim == sim.name());
            row.push(match (c, &v.error) {
                (_, Some(e)) => format!("error: {e}"),
                (Some(c), _) => match c.status.as_str() {
                    "passed" => "passed".into(),
                    "not available" => "not available".into(),
                    "not run" => "not run (budget)".into(),
                    other => format!("**{other}** ({} failed)", c.failed),
                },
                (None, _) => "—".into(),
            });
        }
        s.push_str(&md_row(&row));
    }
    s.push_str(
        "\nData: `verification.csv` (vectors per second, compile times). Verilog: `verilog/`.\n\n",
    );

    // Synthesis.
    s.push_str("## Synthesis\n\n");
    if x.synth.is_empty() {
        s.push_str("Not run: Yosys is not available.\n\n");
    } else {
        s.push_str(&format!(
            "Yosys, pipeline-0 configurations{} (pipelining adds registers, not logic; the \
             pipelined fp32 multipliers take the longest to synthesize). Generic: gates of the \
             energy model (2-4-input gates, MUX, AOI/OAI). iCE40: 4-input LUTs and carry \
             cells. Longest path in cells between ports or flip-flops.\n\n",
            if o.quick { " of the quick set" } else { "" }
        ));
        s.push_str(&md_head(&[
            "module",
            "generic gates",
            "flip-flops",
            "generic depth",
            "iCE40 LUT4",
            "iCE40 carry",
            "iCE40 depth",
        ]));
        for r in x.synth {
            let g = r.generic.as_ref().ok();
            let i = r.ice40.as_ref().ok();
            let n = |v: Option<u64>| v.map_or("error".into(), |v| v.to_string());
            s.push_str(&md_row(&[
                r.module.clone(),
                n(g.map(|g| g.logic_cells)),
                n(g.map(|g| g.ffs)),
                n(g.map(|g| g.longest_path)),
                n(i.map(|i| i.luts)),
                n(i.map(|i| i.carry)),
                n(i.map(|i| i.longest_path)),
            ]));
        }
        s.push_str("\nData: `synthesis.csv`. Plot: `synthesis.png`, `synthesis.svg`.\n\n");
    }

    // Energy.
    s.push_str("## Energy\n\n");
    if x.energy.is_empty() {
        s.push_str("Not measured: Yosys is not available.\n\n");
    } else {
        s.push_str(&format!(
            "Two estimators side by side. {}. {}. Caveat: {}.\n\n",
            gate_source(o),
            TABLE_SOURCE,
            pelab_sim::energy::GLITCH_CAVEAT
        ));
        s.push_str(&md_head(&[
            "PE",
            "format",
            "policy / variant",
            "workload",
            "gate level pJ/op",
            "table pJ/op",
            "gate / table",
            "area µm²",
        ]));
        for r in x.energy {
            let pv = if r.cfg.variant.is_empty() {
                r.cfg.policy.clone()
            } else {
                format!("{} / {}", r.cfg.policy, r.cfg.variant)
            };
            match &r.m {
                Ok(m) => s.push_str(&md_row(&[
                    r.pe.into(),
                    r.cfg.format.clone(),
                    pv,
                    format!("{} (per {})", workload_name(r.shape), m.op_name),
                    short(m.total_pj),
                    opt_short(m.horowitz.energy_pj),
                    opt_short(m.horowitz.energy_pj.map(|h| m.total_pj / h)),
                    format!("{:.0}", m.area_um2),
                ])),
                Err(e) => s.push_str(&md_row(&[
                    r.pe.into(),
                    r.cfg.format.clone(),
                    pv,
                    workload_name(r.shape),
                    format!("not measured: {e}"),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                ])),
            }
        }
        s.push_str("\nData: `energy.csv` (dynamic, clock and leakage parts, toggles, the table rows used). Plot: `energy.png`, `energy.svg`.\n\n");
        // The int16fma figures per instruction.
        for r in x.energy.iter().filter(|r| r.pe == "int16fma") {
            if let Ok(m) = &r.m {
                s.push_str(&format!(
                    "- int16fma {} {}: {} pJ per MAC, {} pJ per VPDPWSSD{} (two MACs) at gate \
                     level; table {} pJ per MAC.\n",
                    r.cfg.variant,
                    r.cfg.policy,
                    short(m.total_pj),
                    short(2.0 * m.total_pj),
                    if r.cfg.policy == "saturate" { "S" } else { "" },
                    opt_short(m.horowitz.energy_pj)
                ));
            }
        }
        s.push('\n');
        s.push_str("### L-Mul's saving over the exact multiply\n\n");
        s.push_str(&md_head(&[
            "format",
            "workload",
            "estimator",
            "lmul pJ",
            "fpmul pJ",
            "saving",
            "paper",
        ]));
        let t = x.savings;
        for r in &t.rows {
            let g = |c: &str| -> Result<Option<f64>> { Ok(r[t.col(c)?].as_f64()) };
            s.push_str(&md_row(&[
                cell_str(&r[t.col("format")?]),
                cell_str(&r[t.col("workload")?]),
                cell_str(&r[t.col("estimator")?]),
                opt_short(g("lmul_pj")?),
                opt_short(g("fpmul_pj")?),
                g("saving")?.map_or_else(
                    || format!("no figure ({})", cell_str(&r[t.col("note").unwrap_or(0)])),
                    pct,
                ),
                opt_pct(g("paper_saving")?),
            ]));
        }
        s.push_str("\nData: `energy_lmul_saving.csv`.\n\n");
        if let Some(a) = x.anchors {
            s.push_str("### Anchors: the two estimators on basic operations\n\n");
            s.push_str(
                "The same gate-level flow on plain integer adders and multipliers and pelab's \
                 exact FP16/FP32 multipliers, beside Horowitz's figure for the same operation \
                 (generic-45nm is at 1.1 V, Horowitz's table at about 0.9 V).\n\n",
            );
            s.push_str(&md_head(&[
                "operation",
                "bits",
                "cells",
                "gate pJ",
                "table pJ",
                "gate / table",
            ]));
            for r in &a.rows {
                let c = |n: &str| -> Result<String> { Ok(cell_str(&r[a.col(n)?])) };
                let f = |n: &str| -> Result<String> { Ok(opt_short(r[a.col(n)?].as_f64())) };
                s.push_str(&md_row(&[
                    c("operation")?,
                    c("bits")?,
                    c("cells")?,
                    f("gate_pj")?,
                    f("horowitz_pj")?,
                    f("ratio")?,
                ]));
            }
            s.push_str("\nData: `energy_anchors.csv`.\n\n");
        }
    }

    // Accuracy.
    s.push_str("## Accuracy studies\n\n");
    s.push_str(
        "Values from a Gaussian N(0, 1) source through the reference models; each table's \
         provenance lines are below it. Column definitions: docs/accuracy.md.\n\n",
    );
    let el = study(x.studies, "lmul_elementwise")?;
    s.push_str("### L-Mul, element-wise (mean relative error of the product)\n\n");
    s.push_str(&md_head(&[
        "format",
        "mantissa bits",
        "L-Mul RNE",
        "L-Mul RTZ",
        "exact RNE",
        "exact RTZ",
    ]));
    let mut fmts: Vec<String> = Vec::new();
    for r in &el.rows {
        let f = cell_str(&r[el.col("format")?]);
        if !fmts.contains(&f) {
            fmts.push(f);
        }
    }
    for f in &fmts {
        let e = |m: &str, c: &str| -> Result<String> {
            Ok(opt_pct(one(
                el,
                &[("method", m), ("format", f), ("conversion", c)],
                "mean_abs_rel_err",
            )?))
            .map(|v| if v == "no figure" { "—".into() } else { v })
        };
        let mb = rows(el, &[("format", f)])?
            .first()
            .map(|r| cell_str(&r[el.col("mantissa_bits").unwrap_or(0)]))
            .unwrap_or_default();
        s.push_str(&md_row(&[
            f.clone(),
            mb,
            e(LMUL, "rne")?,
            e(LMUL, "rtz")?,
            e(FPMUL, "rne")?,
            e(FPMUL, "rtz")?,
        ]));
    }
    s.push_str(&provenance_md(el));
    s.push_str("Plot: `lmul_error.png`, `lmul_error.svg`.\n\n");

    let dot = study(x.studies, "lmul_dot")?;
    let kc = dot.col("k")?;
    let mut ks: Vec<u64> = dot.rows.iter().filter_map(|r| r[kc].as_u64()).collect();
    ks.sort();
    ks.dedup();
    if let Some(&k) = ks.last() {
        s.push_str(&format!(
            "### L-Mul in dot products of length {k} (FP32 accumulation; mean |dot - exact| / (|a| |b|))\n\n"
        ));
        s.push_str(&md_head(&[
            "format",
            "L-Mul RNE",
            "L-Mul RTZ",
            "exact RNE",
            "exact RTZ",
        ]));
        let ks = k.to_string();
        for f in &fmts {
            let e = |m: &str, c: &str| -> Result<String> {
                Ok(opt_short(one(
                    dot,
                    &[("method", m), ("format", f), ("conversion", c), ("k", &ks)],
                    "mean_norm_err",
                )?))
            };
            s.push_str(&md_row(&[
                f.clone(),
                e(LMUL, "rne")?,
                e(LMUL, "rtz")?,
                e(FPMUL, "rne")?,
                e(FPMUL, "rtz")?,
            ]));
        }
        s.push_str(&provenance_md(dot));
    }

    let mse = study(x.studies, "bitmod_mse")?;
    s.push_str("### BitMoD weight quantization\n\n");
    s.push_str(&md_head(&[
        "set",
        "bits",
        "bits/weight",
        "MSE",
        "normalized MSE",
        "normalized MSE, 8-bit integer scale",
    ]));
    for r in &mse.rows {
        let c = |n: &str| -> Result<String> { Ok(cell_str(&r[mse.col(n)?])) };
        let f = |n: &str| -> Result<String> {
            Ok(r[mse.col(n)?]
                .as_f64()
                .map_or("—".into(), |v| format!("{v:.3e}")))
        };
        s.push_str(&md_row(&[
            c("set")?,
            c("bits")?,
            r[mse.col("bits_per_weight")?]
                .as_f64()
                .map_or("—".into(), |v| format!("{v:.3}")),
            f("mse")?,
            f("nmse")?,
            f("nmse_int_scale")?,
        ]));
    }
    s.push_str(&provenance_md(mse));
    if let Ok(sh) = study(x.studies, "bitmod_type_share") {
        let mut shares = Vec::new();
        for set in ["bitmod3", "bitmod4"] {
            let parts: Vec<String> = rows(sh, &[("set", set)])?
                .iter()
                .map(|r| {
                    Ok(format!(
                        "{} {}",
                        cell_str(&r[sh.col("datatype")?]),
                        opt_pct(r[sh.col("share")?].as_f64())
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            if !parts.is_empty() {
                shares.push(format!("{set}: {}", parts.join(", ")));
            }
        }
        s.push_str(&format!(
            "Share of groups per datatype: {} (`bitmod_type_share.csv`).\n\n",
            shares.join("; ")
        ));
    }
    s.push_str("Plot: `bitmod_mse.png`, `bitmod_mse.svg`.\n\n");

    let qe = study(x.studies, "dfp_quant_error")?;
    s.push_str("### DFP-16 quantization and chunk overflow\n\n");
    s.push_str(&md_head(&[
        "headroom",
        "mean error / max",
        "bound / max",
        "SQNR dB",
        "clamped",
    ]));
    for r in &qe.rows {
        let c = |n: &str| -> Result<String> { Ok(cell_str(&r[qe.col(n)?])) };
        let f = |n: &str| -> Result<String> {
            Ok(r[qe.col(n)?]
                .as_f64()
                .map_or("—".into(), |v| format!("{v:.3e}")))
        };
        s.push_str(&md_row(&[
            c("headroom")?,
            f("mean_abs_err_rel_max")?,
            f("bound_rel_max")?,
            r[qe.col("sqnr_db")?]
                .as_f64()
                .map_or("—".into(), |v| format!("{v:.1}")),
            c("clamped")?,
        ]));
    }
    s.push_str(&provenance_md(qe));
    let ov = study(x.studies, "dfp_overflow")?;
    let (ci, hi) = (ov.col("chunk")?, ov.col("headroom")?);
    let mut chunks: Vec<u64> = ov.rows.iter().filter_map(|r| r[ci].as_u64()).collect();
    chunks.sort();
    chunks.dedup();
    let mut heads: Vec<u64> = ov.rows.iter().filter_map(|r| r[hi].as_u64()).collect();
    heads.sort();
    heads.dedup();
    let fi = ov.col("overflow_fraction")?;
    let mi = ov.col("mode")?;
    let same = ov.rows.iter().all(|r| {
        ov.rows
            .iter()
            .all(|q| q[ci] != r[ci] || q[hi] != r[hi] || q[mi] == r[mi] || q[fi] == r[fi])
    });
    s.push_str(&format!(
        "Chunks whose exact INT32 sum overflowed ({}), by chunk length and headroom; in \
         brackets the mean dot-product error with VPDPWSSD (wrap) / VPDPWSSDS (saturate):\n\n",
        if same {
            "the same fraction in both modes"
        } else {
            "wrap mode; saturate differs, see the CSV"
        }
    ));
    let mut cols: Vec<String> = vec!["chunk".into()];
    cols.extend(heads.iter().map(|h| format!("headroom {h}")));
    let colrefs: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
    s.push_str(&md_head(&colrefs));
    for &c in &chunks {
        let mut row = vec![c.to_string()];
        for &h in &heads {
            let key = [("chunk", c.to_string()), ("headroom", h.to_string())];
            let get = |mode: &str, col: &str| {
                one(
                    ov,
                    &[(key[0].0, &key[0].1), (key[1].0, &key[1].1), ("mode", mode)],
                    col,
                )
            };
            row.push(format!(
                "{} ({} / {})",
                opt_pct(get("wrap", "overflow_fraction")?),
                opt_short(get("wrap", "mean_norm_err")?),
                opt_short(get("saturate", "mean_norm_err")?)
            ));
        }
        s.push_str(&md_row(&row));
    }
    s.push_str(&provenance_md(ov));
    s.push_str("Plot: `dfp_overflow.png`, `dfp_overflow.svg`.\n\n");

    // Run.
    s.push_str("## Run\n\n");
    s.push_str(&md_head(&["stage", "seconds"]));
    for (k, v) in &sum.stages {
        s.push_str(&md_row(&[k.clone(), format!("{v:.1}")]));
    }
    s.push_str(&md_row(&["total".into(), format!("{:.1}", sum.seconds)]));
    s.push_str(&format!(
        "\n{} thread(s). Synthesis results are cached (see `pelab synth`), so a second run \
         skips Yosys for unchanged modules.\n\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    ));
    s.push_str("Not in this report: ");
    let mut left = vec![
        "synthesis of the pipelined configurations",
        "a Liberty-library energy estimate (see `pelab energy --liberty`)",
        "formal equivalence proofs (see `pelab verify --formal`)",
    ];
    if o.quick {
        left.insert(0, "the configurations outside the quick set");
        left.push("the anchor circuits (default run only)");
    } else {
        left.insert(0, "Verilator on the pipelined configurations");
    }
    s.push_str(&left.join("; "));
    s.push_str(".\n\n## Files\n\n");
    for f in &sum.files {
        s.push_str(&format!("- `{f}`\n"));
    }
    Ok(s)
}

fn provenance_md(t: &Table) -> String {
    let mut s = String::from("\n");
    for p in &t.provenance {
        s.push_str(&format!("- {}\n", p));
    }
    s.push_str(&format!("\nData: `{}.csv`.\n\n", t.name));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_directory_under_a_file_is_refused() {
        let file = std::env::temp_dir().join(format!("pelab-report-unit-{}", std::process::id()));
        std::fs::write(&file, "x").unwrap();
        let dir = file.join("out");
        let e = check_out(&dir).unwrap_err().to_string();
        std::fs::remove_file(&file).unwrap();
        assert!(e.contains(&dir.display().to_string()), "{e}");
        let ok = std::env::temp_dir().join(format!("pelab-report-unit-dir-{}", std::process::id()));
        check_out(&ok).unwrap();
        assert_eq!(
            std::fs::read_dir(&ok).unwrap().count(),
            0,
            "the probe is removed"
        );
        std::fs::remove_dir(&ok).unwrap();
    }

    #[test]
    fn quick_set_is_pipeline_0_and_covers_every_pe() {
        for pe in pelab_hdl::registry() {
            let q = quick_set(pe);
            assert!(!q.is_empty(), "{}", pe.id());
            assert!(q.iter().all(|c| c.pipeline == 0));
            let all = first_per_format(pe);
            assert!(q.iter().all(|c| all.contains(c)));
            if all.iter().any(|c| c.format != all[0].format) {
                assert!(q.iter().all(|c| QUICK_FORMATS.contains(&c.format.as_str())));
            }
        }
    }

    #[test]
    fn parallel_keeps_order_and_markdown_escapes_pipes() {
        let v: Vec<u64> = (0..50).collect();
        assert_eq!(
            parallel(&v, |x| x * 2),
            (0..50).map(|x| x * 2).collect::<Vec<_>>()
        );
        assert_eq!(md("a | b\nc"), "a \\| b c");
        assert_eq!(pct(0.9534), "95.3%");
    }
}
