//! `pelab accel sweep` and `pelab accel merge`: a grid of accelerator-model points evaluated
//! in parallel into one CSV, optionally one shard of it per machine, and the shards merged
//! back (`pelab_sim::accel::sweep`, `docs/accel.md`, "Sweeps").
//!
//! The timing models a sweep can run are listed by [`registry`]: a new model is one entry
//! there (its name, accelerators, configuration text and evaluator).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pelab_reports::accel_energy::{gate_pe_energies, gate_pe_energy, GatePeEnergy};
use pelab_sim::accel::hpca25::MODEL_NAME;
use pelab_sim::accel::pelab::{self, PeEnergy, PeEnergySource, PelabConfig, GATE_PES};
use pelab_sim::accel::sweep::{
    self, csv_text, evaluate, ArraySpec, Grid, Manifest, Point, Row, Shard, SweepTask,
};
use pelab_sim::accel::workload::{BUILTIN_IDS, DEFAULT_CONTEXT};
use pelab_sim::{Error, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// A timing model `pelab accel sweep` can evaluate.
pub struct TimingModel {
    /// Its `--timing` name.
    pub name: &'static str,
    /// The ids of the accelerators it evaluates (what `--accels all` means).
    pub accels: fn() -> Vec<String>,
    /// The configuration of accelerator `id` as canonical text (folded into the grid's
    /// fingerprint), `None` when it does not know `id`.
    pub describe: fn(&str) -> Option<String>,
    /// Evaluates one point (`point.timing` is this model's name).
    pub eval: SweepEval,
}

/// A timing model's evaluation of one point, as the sweep calls it.
pub type SweepEval = Box<dyn Fn(&Point) -> Result<sweep::Figures> + Sync>;

/// Where `pelab` takes its PE energies from in a sweep (`--pe-energy`).
#[derive(Clone, Default)]
pub enum PeEnergies {
    /// The BitMoD artifact's constants (accelerators without one are refused).
    #[default]
    Artifact,
    /// pelab's gate-level measurements (`gate_pe_energies`), as measured once.
    Gate(Vec<GatePeEnergy>),
}

impl PeEnergies {
    /// `artifact` or `gate`.
    pub fn name(&self) -> &'static str {
        match self {
            PeEnergies::Artifact => PeEnergySource::Artifact.name(),
            PeEnergies::Gate(_) => PeEnergySource::Gate.name(),
        }
    }

    /// The gate-level measurements, read from `cache` or measured there (with a spinner).
    pub fn measure_gate(cache: &Path) -> Result<PeEnergies> {
        Ok(PeEnergies::Gate(measure_gate_entries(cache)?))
    }

    /// The PE energy of accelerator `c`.
    pub fn energy(&self, c: &PelabConfig) -> Result<PeEnergy> {
        match self {
            PeEnergies::Artifact => PeEnergy::artifact(c),
            PeEnergies::Gate(list) => gate_energy(list, c),
        }
    }
}

/// The gate-level PE energies (`--pe-energy gate`), read from `cache` or measured there (with a
/// spinner).
pub fn measure_gate_entries(cache: &Path) -> Result<Vec<GatePeEnergy>> {
    let spin = ProgressBar::new_spinner();
    spin.set_message("gate-level PE energies");
    spin.enable_steady_tick(std::time::Duration::from_millis(120));
    let r = gate_pe_energies(cache, &|m: &str| spin.set_message(m.to_string()));
    spin.finish_and_clear();
    r.map_err(|e| Error::new(format!("--pe-energy gate: {e:#}")))
}

/// The PE energy of accelerator `c` from the gate measurement `list` (`--pe-energy gate`).
pub fn gate_energy(list: &[GatePeEnergy], c: &PelabConfig) -> Result<PeEnergy> {
    let entry = c.gate_pe.as_deref().ok_or_else(|| no_gate_pe(c))?;
    gate_pe_energy(list, entry).map_err(|e| Error::new(format!("--pe-energy gate: {e}")))
}

/// The error of `--pe-energy gate` for an accelerator whose PE pelab has no gate model of.
pub fn no_gate_pe(c: &PelabConfig) -> Error {
    Error::new(format!(
        "--pe-energy gate: accelerator `{}` ({}) has no gate-measured PE: pelab has no gate \
         model of it (measured: {}); use --pe-energy artifact",
        c.id,
        c.pe,
        GATE_PES.join(", ")
    ))
}

/// The timing models of `pelab accel sweep`, in `--timing all` order; `pelab` takes its PE
/// energies from `pe`. To make another timing model sweepable, add its entry here.
pub fn registry(pe: PeEnergies) -> Vec<TimingModel> {
    vec![
        TimingModel {
            name: MODEL_NAME,
            accels: sweep::hpca25_accelerators,
            describe: sweep::hpca25_describe,
            eval: Box::new(sweep::eval_hpca25),
        },
        TimingModel {
            name: pelab::MODEL_NAME,
            accels: sweep::pelab_accelerators,
            describe: sweep::pelab_describe,
            eval: Box::new(move |p: &Point| sweep::eval_pelab(p, &|c| pe.energy(c))),
        },
    ]
}

/// `pelab accel sweep` and `pelab accel merge`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Evaluate a grid (accelerators x models x tasks x arrays x timing models) in parallel
    /// into one CSV, or one shard k/N of it (`docs/accel.md`, "Sweeps").
    ///
    /// Points are numbered accelerator outermost, timing model innermost; shard k/N holds
    /// the points i with i mod N = k - 1. Every row repeats the grid's fingerprint (`grid`),
    /// the shard and the grid's number of points, so that `pelab accel merge` can check that
    /// shards belong together. A point the model cannot evaluate (bitmod-hpca25: no CACTI
    /// entry for the SRAM port width an array implies; pelab: no PE energy from the
    /// --pe-energy source) fails the sweep, or with --keep-going becomes a row with empty
    /// figures and the reason in `error`.
    Sweep(SweepArgs),
    /// Merge the shard CSVs of one sweep into the CSV of the whole grid (identical to the
    /// unsharded sweep's, byte for byte).
    ///
    /// Checks that every file has the same grid fingerprint and shard count N, and that no
    /// point is given twice or missing (errors name the files and the point numbers).
    Merge(MergeArgs),
}

/// Arguments of `pelab accel sweep`.
#[derive(clap::Args)]
pub struct SweepArgs {
    /// Accelerators, comma-separated, or `all` (the accelerators every timing model given
    /// has): fp16, ant, olive, bitmod-lossless, bitmod-lossy (both models); lmul-bf16,
    /// lmul-e4m3, fpmul-bf16, int16-dfp (pelab only, with --pe-energy gate).
    #[arg(long, value_name = "A,B,..|all")]
    accels: String,
    /// Built-in models, comma-separated, or `all`: opt-1.3b, phi-2, yi-6b, llama-2-7b,
    /// llama-2-13b, llama-3-8b.
    #[arg(long, value_name = "M,..|all")]
    models: String,
    /// Tasks, comma-separated, or `all`: prefill, decode, generative (20 x decode + prefill).
    #[arg(long, default_value = "prefill,decode", value_name = "T,..|all")]
    tasks: String,
    /// Arrays, comma-separated: RxC (rows x columns, 1 to 1024 each; used for prefill and
    /// decode alike) or `native` (each accelerator's own arrays).
    #[arg(long, default_value = "native", value_name = "RxC,..")]
    arrays: String,
    /// Timing models, comma-separated, or `all`: bitmod-hpca25, pelab.
    #[arg(long, default_value = MODEL_NAME, value_name = "MODEL,..|all")]
    timing: String,
    /// [pelab] PE energy: `artifact` (the BitMoD artifact's constants; the default) or `gate`
    /// (pelab's gate-level measurement of its own PE, measured once, then cached in --cache).
    /// Part of the grid's fingerprint.
    #[arg(long = "pe-energy", value_name = "artifact|gate")]
    pe_energy: Option<String>,
    /// [pelab] Directory that caches the gate-level PE energies (as `pelab accel`).
    #[arg(long, value_name = "DIR", default_value = "out/accel-cache")]
    cache: PathBuf,
    /// Context length T in tokens.
    #[arg(long, default_value_t = DEFAULT_CONTEXT, value_name = "T")]
    context: u64,
    /// Evaluate only shard k of N (1 <= k <= N): the points i with i mod N = k - 1.
    #[arg(long, default_value = "1/1", value_name = "k/N")]
    shard: String,
    /// Write points the model cannot evaluate as rows with an error instead of failing.
    #[arg(long)]
    keep_going: bool,
    /// The CSV to write (atomically).
    #[arg(short = 'o', long, value_name = "FILE.csv")]
    output: PathBuf,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pelab accel merge`.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// The merged CSV to write (atomically).
    #[arg(short = 'o', long, value_name = "OUT.csv")]
    output: PathBuf,
    /// The shard CSVs, in any order.
    #[arg(required = true, value_name = "SHARD.csv")]
    shards: Vec<PathBuf>,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `sweep` or `merge`.
pub fn run(c: Command) -> Result<()> {
    match c {
        Command::Sweep(a) => run_sweep(a),
        Command::Merge(a) => run_merge(a),
    }
}

/// The comma-separated entries of `text` (`flag` names it in messages).
fn list(flag: &str, text: &str) -> Result<Vec<String>> {
    let items: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(Error::new(format!(
            "{flag} `{text}`: an entry is empty (expected a comma-separated list)"
        )));
    }
    Ok(items)
}

fn unknown(flag: &str, got: &str, valid: &[String]) -> Error {
    Error::new(format!(
        "{flag}: unknown value `{got}` (expected one of: {}, or all)",
        valid.join(", ")
    ))
}

/// `all` or names from `valid`.
fn names(flag: &str, text: &str, valid: &[String]) -> Result<Vec<String>> {
    if text.trim() == "all" {
        return Ok(valid.to_vec());
    }
    let items = list(flag, text)?;
    for it in &items {
        if !valid.contains(it) {
            return Err(unknown(flag, it, valid));
        }
    }
    Ok(items)
}

/// The grid `a` asks for, the registry entries of its timing models, and the salt of its
/// fingerprint (the accelerators' configurations and the models' shapes).
fn grid_of(a: &SweepArgs, reg: &[TimingModel]) -> Result<(Grid, String)> {
    let timing_names: Vec<String> = reg.iter().map(|t| t.name.to_string()).collect();
    let timings = names("--timing", &a.timing, &timing_names)?;
    let chosen: Vec<&TimingModel> = timings
        .iter()
        .map(|n| reg.iter().find(|t| t.name == n).expect("checked"))
        .collect();
    // Accelerators: those of the first timing model, kept when every other one has them.
    let mut valid: Vec<String> = (chosen[0].accels)();
    for t in &chosen[1..] {
        let theirs = (t.accels)();
        valid.retain(|x| theirs.contains(x));
    }
    let accels = if a.accels.trim() == "all" {
        if valid.is_empty() {
            return Err(Error::new(format!(
                "--accels all: no accelerator is common to the timing models {}",
                timings.join(", ")
            )));
        }
        valid
    } else {
        let items = list("--accels", &a.accels)?;
        for it in &items {
            if let Some(t) = chosen.iter().find(|t| !(t.accels)().contains(it)) {
                let known_elsewhere = reg.iter().any(|r| (r.accels)().contains(it));
                return Err(Error::new(if known_elsewhere {
                    format!(
                        "--accels: accelerator `{it}` has no {} model (its accelerators: {})",
                        t.name,
                        (t.accels)().join(", ")
                    )
                } else {
                    format!(
                        "--accels: unknown value `{it}` (expected one of: {}, or all)",
                        (t.accels)().join(", ")
                    )
                }));
            }
        }
        items
    };
    let model_ids: Vec<String> = BUILTIN_IDS.iter().map(|s| s.to_string()).collect();
    let models = names("--models", &a.models, &model_ids)?;
    let task_names: Vec<String> = SweepTask::ALL.iter().map(|t| t.name().into()).collect();
    let tasks = names("--tasks", &a.tasks, &task_names)?
        .iter()
        .map(|t| SweepTask::parse(t).expect("checked"))
        .collect();
    let arrays = list("--arrays", &a.arrays)?
        .iter()
        .map(|s| ArraySpec::parse(s).map_err(|e| Error::new(format!("--arrays: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    let grid = Grid::new(accels, models, tasks, arrays, timings, a.context)?;
    let mut salt = String::new();
    for t in &chosen {
        for acc in &grid.accels {
            let text = (t.describe)(acc).ok_or_else(|| {
                Error::new(format!(
                    "timing model {}: no configuration for accelerator `{acc}`",
                    t.name
                ))
            })?;
            salt.push_str(&format!("{} {acc} {text}\n", t.name));
        }
    }
    for m in &grid.models {
        let text = sweep::model_describe(m).expect("built-in model");
        salt.push_str(&format!("model {m} {text}\n"));
    }
    Ok((grid, salt))
}

/// A progress bar that stays hidden for the first second, then shows on stderr.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: AtomicBool,
    done: AtomicUsize,
}

impl Progress {
    fn new(len: usize) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "accel sweep [{bar:40}] {pos}/{len} points, {elapsed} elapsed, eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Progress {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
            done: AtomicUsize::new(0),
        }
    }

    fn step(&self) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed().as_secs_f64() > 1.0
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.bar.set_position(n as u64);
    }
}

/// The PE energies of the sweep's `pelab` points (measured when `gate`), after checking that
/// every accelerator has one (unless --keep-going: then such points become rows with the
/// error), with what they add to the fingerprint's salt.
fn pe_energies(a: &SweepArgs, grid: &Grid) -> Result<(PeEnergies, String)> {
    let src = match &a.pe_energy {
        None => PeEnergySource::Artifact,
        Some(s) => PeEnergySource::parse(s).ok_or_else(|| {
            Error::new(format!(
                "--pe-energy: unknown value `{s}` (expected one of: artifact, gate)"
            ))
        })?,
    };
    if !grid.timings.iter().any(|t| t == pelab::MODEL_NAME) {
        if let Some(s) = &a.pe_energy {
            return Err(Error::new(format!(
                "--pe-energy {s}: only the pelab timing model takes a PE energy source (--timing \
                 {} has no pelab)",
                grid.timings.join(",")
            )));
        }
        return Ok((PeEnergies::Artifact, String::new()));
    }
    let configs: Vec<PelabConfig> = grid
        .accels
        .iter()
        .map(|id| pelab::preset(id).expect("a pelab accelerator (checked)"))
        .collect();
    let lacking = |f: fn(&PelabConfig) -> bool| -> Vec<&str> {
        configs
            .iter()
            .filter(|c| f(c))
            .map(|c| c.id.as_str())
            .collect()
    };
    let mut salt = format!("{} pe-energy {}\n", pelab::MODEL_NAME, src.name());
    let pe = match src {
        PeEnergySource::Artifact => {
            let bad = lacking(|c| c.artifact_pe_energy.is_none());
            if !bad.is_empty() && !a.keep_going {
                return Err(Error::new(format!(
                    "--pe-energy artifact (the default): the BitMoD artifact has no PE energy \
                     for {} (pelab's own PEs); use --pe-energy gate (pelab's gate-level \
                     measurement of their PEs), leave them out of --accels, or give \
                     --keep-going (their rows then hold this error)",
                    bad.join(", ")
                )));
            }
            PeEnergies::Artifact
        }
        PeEnergySource::Gate => {
            let bad = lacking(|c| c.gate_pe.is_none());
            if !bad.is_empty() && !a.keep_going {
                return Err(Error::new(format!(
                    "--pe-energy gate: pelab has no gate model of the PEs of {} (measured: \
                     {}); use --pe-energy artifact, leave them out of --accels, or give \
                     --keep-going (their rows then hold this error)",
                    bad.join(", "),
                    GATE_PES.join(", ")
                )));
            }
            let pe = PeEnergies::measure_gate(&a.cache)?;
            for c in configs.iter().filter(|c| c.gate_pe.is_some()) {
                let e = pe.energy(c)?;
                let text = serde_json::to_string(&e).map_err(|e| Error::new(e.to_string()))?;
                salt.push_str(&format!("{} pe {} {text}\n", pelab::MODEL_NAME, c.id));
            }
            pe
        }
    };
    Ok((pe, salt))
}

fn run_sweep(a: SweepArgs) -> Result<()> {
    let (grid, mut salt) = grid_of(&a, &registry(PeEnergies::Artifact))?;
    let (pe, pe_salt) = pe_energies(&a, &grid)?;
    salt.push_str(&pe_salt);
    let pe_name = pe.name();
    let reg = registry(pe);
    let shard = Shard::parse(&a.shard).map_err(|e| Error::new(format!("--shard: {e}")))?;
    if shard.n > grid.len() {
        return Err(Error::new(format!(
            "--shard {}: N = {} is more than the grid's {} points (every shard must hold a \
             point)",
            a.shard,
            shard.n,
            grid.len()
        )));
    }
    let points = grid.points(shard);
    let t0 = Instant::now();
    let progress = Progress::new(points.len());
    let rows: Vec<Row> = evaluate(
        &points,
        |p: &Point| {
            let t = reg
                .iter()
                .find(|t| t.name == p.timing)
                .expect("a timing model of the grid");
            (t.eval)(p)
        },
        &|| progress.step(),
    );
    progress.bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let failed: Vec<&Row> = rows.iter().filter(|r| r.outcome.is_err()).collect();
    if !failed.is_empty() && !a.keep_going {
        let shown: Vec<String> = failed
            .iter()
            .take(5)
            .map(|r| {
                format!(
                    "point {} ({}): {}",
                    r.point.index,
                    r.point.label(),
                    r.outcome.as_ref().expect_err("failed")
                )
            })
            .collect();
        let more = if failed.len() > 5 {
            format!("\n  ... and {} more", failed.len() - 5)
        } else {
            String::new()
        };
        let cacti = failed.iter().any(|r| {
            r.point.timing == MODEL_NAME
                && r.outcome
                    .as_ref()
                    .is_err_and(|e| e.contains("no CACTI entry"))
        });
        let hint = if cacti {
            "\nbitmod-hpca25 prices an SRAM only at the port widths of its CACTI table (192, \
             256, 288, 384, 512, 576, 1024 bits), and the widths follow the array (docs/accel.md, \
             \"Sweeps\", lists the array sides each accelerator accepts)"
        } else {
            ""
        };
        return Err(Error::new(format!(
            "{} of the {} points of shard {} could not be evaluated (nothing written to {}):\n  \
             {}{more}{hint}\n--keep-going writes these points as rows with the reason in `error`",
            failed.len(),
            rows.len(),
            shard.name(),
            a.output.display(),
            shown.join("\n  ")
        )));
    }
    let uses_pelab = grid.timings.iter().any(|t| t == pelab::MODEL_NAME);
    let manifest = Manifest {
        grid: grid.fingerprint(&salt),
        shard,
        points: grid.len(),
    };
    let text = csv_text(&manifest, &rows)?;
    pelab_hdl::emit::write_atomic(&a.output, text.as_bytes())?;
    if a.json {
        return super::print_json(&json!({
            "output": a.output,
            "grid": manifest.grid,
            "shard": shard.name(),
            "grid_points": grid.len(),
            "points": rows.len(),
            "errors": failed.len(),
            "pe_energy": uses_pelab.then_some(pe_name),
            "secs": secs,
            "threads": rayon::current_num_threads(),
            "canonical": grid.canonical(),
        }));
    }
    let pe_note = if uses_pelab {
        format!(", pelab PE energy: {pe_name}")
    } else {
        String::new()
    };
    println!(
        "pelab accel sweep: {} of {} points (shard {}, grid {}{pe_note}) in {secs:.2} s on {} \
         threads -> {}",
        rows.len(),
        grid.len(),
        shard.name(),
        manifest.grid,
        rayon::current_num_threads(),
        a.output.display()
    );
    if !failed.is_empty() {
        println!(
            "WARNING: {} points could not be evaluated; their rows hold the reason in `error`",
            failed.len()
        );
    }
    Ok(())
}

fn run_merge(a: MergeArgs) -> Result<()> {
    let inputs: Vec<(String, String)> = a
        .shards
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|e| Error::new(format!("{}: cannot read: {e}", p.display())))
        })
        .collect::<Result<_>>()?;
    let (text, rows) = sweep::merge(&inputs)?;
    pelab_hdl::emit::write_atomic(&a.output, text.as_bytes())?;
    if a.json {
        return super::print_json(&json!({
            "output": a.output,
            "shards": a.shards.len(),
            "points": rows,
        }));
    }
    println!(
        "pelab accel merge: {} shards, {rows} points -> {}",
        a.shards.len(),
        a.output.display()
    );
    Ok(())
}
