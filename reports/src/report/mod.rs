//! `pelab report`: the main job. Emits every PE configuration, verifies the Verilog in every
//! simulator available, synthesizes it (Yosys generic gates and iCE40), measures energy (gate
//! level and the table method), runs the studies, and writes `summary.md` (each paper's claim
//! beside pelab's measurement), one CSV per table and PNG + SVG plots.
//!
//! The stages are modules ([`emit`], [`verify`], [`synth`], [`energy`]); each study (L-Mul,
//! BitMoD, DFP) is one module under `study/` behind the `Study` trait, listed once in
//! `study::STUDIES`. Every file is written under a temporary name and renamed, so an
//! interrupted run leaves no half-written file under a final name. The output directory is
//! checked for writing before any work starts. PEs are the joined [`pelab_testbench::Pe`]s;
//! only the studies name the PEs the papers compare.

mod emit;
mod energy;
mod study;
mod synth;
mod verify;

use crate::table::{md, md_head, md_row};
use crate::Table;
use emit::Module;
use pelab_sim::{Error, Result};
use pelab_testbench::Simulator;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use study::{Results, STUDIES};
use synth::Synth;
use verify::Verified;

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
    /// The claim's numbers by name, as in `pelab`'s text (fractions, not percent); empty for a
    /// claim that gives none this way.
    pub figures: BTreeMap<String, Option<f64>>,
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
    let modules = emit::emit_all(&o.out.join("verilog"), progress)?;
    timed("emit", t);

    // 2. Verification.
    let t = Instant::now();
    let verified = verify::verify_all(o, &modules, &tools, progress)?;
    timed("verify", t);
    let vt = verify::verification_table(&verified)?;

    // 3. Synthesis.
    let t = Instant::now();
    let synth = if tools.yosys.is_ok() {
        synth::synthesize_all(o, &modules, progress)?
    } else {
        Vec::new()
    };
    timed("synthesize", t);
    let st = synth::synthesis_table(&synth)?;

    // 4. Energy: every PE, then the studies' own jobs.
    let t = Instant::now();
    let energy = {
        let mut extra = Vec::new();
        for s in STUDIES {
            extra.extend(s.energy_jobs()?);
        }
        let gates = tools
            .yosys
            .as_ref()
            .map(|_| ())
            .map_err(|_| "yosys is not installed; `./scripts/setup` installs it".to_string());
        energy::measure_all(o, extra, gates, progress)?
    };
    let anchors = if tools.yosys.is_ok() && !o.quick {
        progress.stage("anchors", 1);
        let a = pelab_testbench::energy::anchors(energy::ops(o), o.seed)?;
        progress.step("anchors");
        progress.done();
        Some(a)
    } else {
        None
    };
    timed("energy", t);
    let et = energy::energy_table(o, &energy)?;
    let at = anchors
        .as_ref()
        .map(|a| energy::anchor_table(o, a))
        .transpose()?;

    // 5. Studies.
    let t = Instant::now();
    progress.stage("studies", STUDIES.len() as u64);
    let mut accuracy = Vec::new();
    for s in STUDIES {
        accuracy.extend(s.run(o)?);
        progress.step(s.name());
    }
    progress.done();
    timed("studies", t);

    // 6. Claims, tables, plots, summary.
    let t = Instant::now();
    let mut derived = Vec::new();
    for s in STUDIES {
        derived.extend(s.energy_tables(o, &energy)?);
    }
    let all: BTreeMap<String, Table> = derived
        .iter()
        .chain(&accuracy)
        .map(|t| (t.name.clone(), t.clone()))
        .collect();
    let results = Results {
        tables: &all,
        energy: &energy,
    };
    let mut claims = Vec::new();
    let mut meaning = Vec::new();
    for s in STUDIES {
        let c = s.claims(o, &results)?;
        meaning.push((s.paper(), s.meaning(&c)));
        claims.extend(c);
    }
    let ct = claims_table(&claims)?;
    let mut tables: Vec<&Table> = vec![&ct, &vt, &st, &et];
    tables.extend(derived.iter());
    tables.extend(at.iter());
    tables.extend(accuracy.iter());
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
    // Every figure, keyed by the summary section that shows it inline.
    let mut figures = Vec::new();
    for s in STUDIES {
        figures.extend(s.figures(o, &results)?.into_iter().map(|f| (s.name(), f)));
    }
    figures.extend(energy::figure(o, &energy).map(|f| ("energy", f)));
    figures.extend(synth::figure(&synth).map(|f| ("synthesis", f)));
    let mut plots: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (section, fig) in figures {
        for p in fig.write(&o.out)? {
            files.push(rel(&o.out, &p));
        }
        plots.entry(section).or_default().push(fig.stem.clone());
        progress.step(&fig.stem);
    }
    timed("write", t);
    let seconds = start.elapsed().as_secs_f64();
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
        simulator_runs: verify::runs(&verified),
        failures: verify::failures(&verified),
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
            anchors: at.as_ref(),
            results: &results,
            plots: &plots,
            meaning: &meaning,
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
pub(crate) struct Tools {
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
    pub(crate) fn sim(&self, sim: Simulator) -> std::result::Result<(), String> {
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

/// Runs `f` on every item with one worker per core, longest jobs first (the caller orders
/// `items`); results come back in `items`' order.
pub(crate) fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
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

fn claims_table(c: &[Claim]) -> Result<Table> {
    let mut t = Table::new(
        "claims",
        "Each paper claim beside pelab's measurement, with the verdict",
        &[
            "claim",
            "paper",
            "pelab",
            "with_glitches",
            "source",
            "verdict",
        ],
    );
    for x in c {
        t.push(vec![
            json!(x.claim),
            json!(x.paper),
            json!(x.pelab),
            json!(study::with_glitches(x)),
            json!(x.source),
            json!(x.verdict),
        ])?;
    }
    t.provenance =
        vec!["summary.md explains each row; the source column names each number's origin".into()];
    Ok(t)
}

/// What the summary is written from.
struct Sections<'a> {
    tools: &'a Tools,
    modules: &'a [Module],
    verified: &'a [Verified],
    synth: &'a [Synth],
    anchors: Option<&'a Table>,
    results: &'a Results<'a>,
    /// The plots written, by the section that shows them (a study's name, `energy`,
    /// `synthesis`).
    plots: &'a BTreeMap<&'a str, Vec<String>>,
    /// Each study's paper and its two "what this means" lines.
    meaning: &'a [(&'static str, [String; 2])],
}

impl Sections<'_> {
    /// The section's plots as inline Markdown images (the PNG; the SVG sits beside it).
    fn plots(&self, section: &str) -> String {
        let mut s = String::new();
        for stem in self.plots.get(section).into_iter().flatten() {
            s.push_str(&format!("![{stem}]({stem}.png)\n\n"));
        }
        s
    }
}

/// The summary's sections, in order: header, claims, verification, synthesis, energy (with the
/// studies' energy sections), the studies' accuracy sections, run and files.
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
         means an error at most 10% above the baseline's. \"With glitches\": the L-Mul \
         element-wise saving recomputed with unit-delay toggles (glitches counted) by the timing \
         study, beside its zero-delay figure on the same operands.\n\n",
    );
    s.push_str(&md_head(&[
        "claim",
        "paper says",
        "pelab measures",
        "with glitches",
        "verdict",
    ]));
    // Sources as numbered footnotes, each distinct source once.
    let mut sources: Vec<&str> = Vec::new();
    for c in &sum.claims {
        let n = match sources.iter().position(|x| *x == c.source) {
            Some(i) => i + 1,
            None => {
                sources.push(&c.source);
                sources.len()
            }
        };
        s.push_str(&md_row(&[
            c.claim.clone(),
            c.paper.clone(),
            c.pelab.clone(),
            study::with_glitches(c),
            format!("{} [{n}]", c.verdict),
        ]));
    }
    s.push_str("\nSources:\n\n");
    for (i, src) in sources.iter().enumerate() {
        s.push_str(&format!("{}. {}\n", i + 1, md(src)));
    }
    s.push_str("\nData: `claims.csv`.\n\n");
    s.push_str("### What this means\n\n");
    for (paper, lines) in x.meaning {
        s.push_str(&format!("**{paper}.** {}  \n{}\n\n", lines[0], lines[1]));
    }

    s.push_str(&verify::markdown(o, sum, x.modules.len(), x.verified));
    s.push_str(&synth::markdown(o, x.synth));
    s.push_str(&x.plots("synthesis"));
    let mut studies = String::new();
    for st in STUDIES {
        studies.push_str(&st.energy_markdown(o, x.results)?);
    }
    s.push_str(&energy::markdown(o, x.results.energy, &studies, x.anchors)?);
    s.push_str(&x.plots("energy"));

    // Accuracy.
    s.push_str("## Accuracy studies\n\n");
    s.push_str(
        "Values from a Gaussian N(0, 1) source through the reference models; each table's \
         provenance lines are below it. Column definitions: docs/accuracy.md.\n\n",
    );
    for st in STUDIES.iter().filter(|st| st.section() == "accuracy") {
        s.push_str(&st.markdown(o, x.results)?);
        s.push_str(&x.plots(st.name()));
    }
    // Studies with their own sections (the arrays).
    for st in STUDIES.iter().filter(|st| st.section() != "accuracy") {
        s.push_str(&st.markdown(o, x.results)?);
        s.push_str(&x.plots(st.name()));
    }

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
    fn parallel_keeps_order() {
        let v: Vec<u64> = (0..50).collect();
        assert_eq!(
            parallel(&v, |x| x * 2),
            (0..50).map(|x| x * 2).collect::<Vec<_>>()
        );
    }
}
