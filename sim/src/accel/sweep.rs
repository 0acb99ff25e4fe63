//! Sweeps of the accelerator models (`pelab accel sweep`, `docs/accel.md`, "Sweeps").
//!
//! A [`Grid`] is accelerators × models × tasks × arrays × timing models. Its points are
//! numbered in one stable order (accelerator outermost, timing model innermost: point
//! `i = (((a·M + m)·T + t)·R + r)·K + k`), a [`Shard`] `k/N` holds the points with
//! `i mod N = k - 1`, and every point goes through its timing model's evaluator
//! (`Fn(&Point) -> Result<Figures>`, [`eval_hpca25`] for `bitmod-hpca25`, [`eval_pelab`] for
//! `pelab`). Rows become CSV text
//! ([`csv_text`]) whose `grid` column holds the grid's fingerprint and `shard` column its
//! shard, so that [`merge`] can check that shards belong together and put them back in point
//! order: merging the N shards of a grid gives the unsharded sweep byte for byte.
//!
//! Nothing here reads or writes files.

use super::exact::Exact;
use super::hpca25::{
    self, AccelConfig, Accelerator, ArrayShape, PerTask, Run, Totals, GENERATIVE_DECODE_STEPS,
};
use super::pelab::{self, PeEnergy, PelabAccelerator, PelabConfig, PelabRun, PelabTotals};
use super::workload::{ModelShape, Scenario, Task, Workload, MAX_DIM};
use crate::{Error, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Version of the sweep's CSV layout and enumeration (folded into every fingerprint).
pub const SCHEMA: &str = "pelab-accel-sweep/1";
/// Largest number of rows or columns of an array a sweep accepts.
pub const MAX_ARRAY_SIDE: u64 = 1024;
/// Largest number of points in a grid.
pub const MAX_POINTS: usize = 100_000_000;

/// The tasks of a sweep: the two scenarios and the paper's generative aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SweepTask {
    /// The whole context at once.
    Prefill,
    /// One decode step.
    Decode,
    /// `20 · decode + prefill` (cycles and energies alike).
    Generative,
}

impl SweepTask {
    /// All three, in their enumeration order.
    pub const ALL: [SweepTask; 3] = [SweepTask::Prefill, SweepTask::Decode, SweepTask::Generative];

    /// `prefill`, `decode` or `generative`.
    pub fn name(self) -> &'static str {
        match self {
            SweepTask::Prefill => "prefill",
            SweepTask::Decode => "decode",
            SweepTask::Generative => "generative",
        }
    }

    /// The task called `name`.
    pub fn parse(name: &str) -> Option<SweepTask> {
        SweepTask::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The scenarios' tasks it runs (generative: prefill, then decode).
    pub fn tasks(self) -> &'static [Task] {
        match self {
            SweepTask::Prefill => &[Task::Prefill],
            SweepTask::Decode => &[Task::Decode],
            SweepTask::Generative => &[Task::Prefill, Task::Decode],
        }
    }
}

/// The array of a point: the accelerator's own (per task), or one shape for both tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArraySpec {
    /// The accelerator's own arrays.
    Native,
    /// `rows x cols` in prefill and decode alike.
    Shape(ArrayShape),
}

impl ArraySpec {
    /// Parses `native` or `RxC` (`32x32`); rows and cols from 1 to [`MAX_ARRAY_SIDE`].
    pub fn parse(text: &str) -> Result<ArraySpec> {
        let t = text.trim();
        if t == "native" {
            return Ok(ArraySpec::Native);
        }
        let bad = || {
            Error::new(format!(
                "array `{t}`: expected RxC (rows x columns, such as 32x32) or native (the \
                 accelerator's own arrays)"
            ))
        };
        let (r, c) = t.split_once(['x', 'X']).ok_or_else(bad)?;
        let side = |s: &str| -> Result<u64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse::<u64>().map_err(|_| {
                Error::new(format!(
                    "array `{t}`: at most {MAX_ARRAY_SIDE} rows and {MAX_ARRAY_SIDE} columns"
                ))
            })
        };
        let (rows, cols) = (side(r)?, side(c)?);
        if rows == 0 || cols == 0 {
            return Err(Error::new(format!(
                "array `{t}`: rows and columns must be at least 1"
            )));
        }
        if rows > MAX_ARRAY_SIDE || cols > MAX_ARRAY_SIDE {
            return Err(Error::new(format!(
                "array `{t}`: at most {MAX_ARRAY_SIDE} rows and {MAX_ARRAY_SIDE} columns (a \
                 larger array is refused)"
            )));
        }
        Ok(ArraySpec::Shape(ArrayShape { rows, cols }))
    }

    /// `native` or `RxC`.
    pub fn name(&self) -> String {
        match self {
            ArraySpec::Native => "native".into(),
            ArraySpec::Shape(s) => format!("{}x{}", s.rows, s.cols),
        }
    }
}

/// Shard `k` of `n` (1-based): the points `i` with `i mod n = k - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, 1 to `n`.
    pub k: usize,
    /// How many shards.
    pub n: usize,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Parses `k/N` with `1 <= k <= N`.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = |why: &str| {
            Error::new(format!(
                "shard `{text}`: {why} (expected k/N with 1 <= k <= N, such as 3/8)"
            ))
        };
        let (k, n) = text.trim().split_once('/').ok_or_else(|| bad("no `/`"))?;
        let num = |s: &str, what: &str| -> Result<usize> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("{what} is not a number")));
            }
            s.parse().map_err(|_| bad(&format!("{what} is too large")))
        };
        let (k, n) = (num(k, "k")?, num(n, "N")?);
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(bad(&format!("k must be from 1 to {n}")));
        }
        Ok(Shard { k, n })
    }

    /// Whether point `index` is in the shard.
    pub fn contains(self, index: usize) -> bool {
        index % self.n == self.k - 1
    }

    /// `k/N`.
    pub fn name(self) -> String {
        format!("{}/{}", self.k, self.n)
    }
}

/// One point of a grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Its number in the grid's enumeration order (from 0).
    pub index: usize,
    /// Accelerator id.
    pub accel: String,
    /// Model id.
    pub model: String,
    /// Task.
    pub task: SweepTask,
    /// Array.
    pub array: ArraySpec,
    /// Timing model.
    pub timing: String,
    /// Context length T.
    pub context: u64,
}

impl Point {
    /// `accelerator model task array timing`, for messages.
    pub fn label(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.accel,
            self.model,
            self.task.name(),
            self.array.name(),
            self.timing
        )
    }
}

/// A sweep's axes and context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// Accelerator ids (outermost axis).
    pub accels: Vec<String>,
    /// Model ids.
    pub models: Vec<String>,
    /// Tasks.
    pub tasks: Vec<SweepTask>,
    /// Arrays.
    pub arrays: Vec<ArraySpec>,
    /// Timing models (innermost axis).
    pub timings: Vec<String>,
    /// Context length T of every point.
    pub context: u64,
}

fn no_repeats<T>(flag: &str, items: &[T], name: impl Fn(&T) -> String) -> Result<()> {
    if items.is_empty() {
        return Err(Error::new(format!("{flag}: the list is empty")));
    }
    let mut seen = std::collections::HashSet::new();
    for it in items {
        let n = name(it);
        if !seen.insert(n.clone()) {
            return Err(Error::new(format!("{flag}: `{n}` is listed twice")));
        }
    }
    Ok(())
}

impl Grid {
    /// Checks the axes (non-empty, no repeats), the context (1 to 2^32) and the size.
    pub fn new(
        accels: Vec<String>,
        models: Vec<String>,
        tasks: Vec<SweepTask>,
        arrays: Vec<ArraySpec>,
        timings: Vec<String>,
        context: u64,
    ) -> Result<Grid> {
        no_repeats("--accels", &accels, |s| s.clone())?;
        no_repeats("--models", &models, |s| s.clone())?;
        no_repeats("--tasks", &tasks, |t| t.name().to_string())?;
        no_repeats("--arrays", &arrays, |a| a.name())?;
        no_repeats("--timing", &timings, |s| s.clone())?;
        if context == 0 || context > MAX_DIM {
            return Err(Error::new(format!(
                "--context {context}: expected 1 to {MAX_DIM} tokens"
            )));
        }
        let grid = Grid {
            accels,
            models,
            tasks,
            arrays,
            timings,
            context,
        };
        let n = [
            grid.accels.len(),
            grid.models.len(),
            grid.tasks.len(),
            grid.arrays.len(),
            grid.timings.len(),
        ]
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .filter(|&n| n <= MAX_POINTS);
        if n.is_none() {
            return Err(Error::new(format!(
                "the grid has more than {MAX_POINTS} points"
            )));
        }
        Ok(grid)
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.accels.len()
            * self.models.len()
            * self.tasks.len()
            * self.arrays.len()
            * self.timings.len()
    }

    /// Whether the grid has no point (never, for a grid from [`Grid::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `index` (`index < len()`).
    pub fn point(&self, index: usize) -> Point {
        let mut i = index;
        let mut digit = |n: usize| {
            let d = i % n;
            i /= n;
            d
        };
        let timing = digit(self.timings.len());
        let array = digit(self.arrays.len());
        let task = digit(self.tasks.len());
        let model = digit(self.models.len());
        let accel = digit(self.accels.len());
        Point {
            index,
            accel: self.accels[accel].clone(),
            model: self.models[model].clone(),
            task: self.tasks[task],
            array: self.arrays[array],
            timing: self.timings[timing].clone(),
            context: self.context,
        }
    }

    /// The points of `shard`, in order.
    pub fn points(&self, shard: Shard) -> Vec<Point> {
        (shard.k - 1..self.len())
            .step_by(shard.n)
            .map(|i| self.point(i))
            .collect()
    }

    /// The grid as canonical text: the schema, every axis in order, the context.
    pub fn canonical(&self) -> String {
        let tasks: Vec<&str> = self.tasks.iter().map(|t| t.name()).collect();
        let arrays: Vec<String> = self.arrays.iter().map(|a| a.name()).collect();
        format!(
            "{SCHEMA}\naccels={}\nmodels={}\ntasks={}\narrays={}\ntimings={}\ncontext={}\n",
            self.accels.join(","),
            self.models.join(","),
            tasks.join(","),
            arrays.join(","),
            self.timings.join(","),
            self.context
        )
    }

    /// 16 hex digits: a 64-bit FNV-1a hash of [`Grid::canonical`] followed by `salt` (the
    /// evaluators' descriptions of the accelerators and models, so that a changed
    /// configuration gives another fingerprint).
    pub fn fingerprint(&self, salt: &str) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.canonical().bytes().chain(salt.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// The energy parts of a row, in column order (`pelab_sim::accel::pelab::Energy::parts`
/// names the same seven): PE compute, SRAM read, SRAM write, DRAM, PE leakage, SRAM leakage,
/// and PEs idling through stalls.
pub const ENERGY_PARTS: [&str; 7] = [
    "pe",
    "sram_read",
    "sram_write",
    "dram",
    "leakage_pe",
    "leakage_sram",
    "stall",
];

/// An energy breakdown in the order of [`ENERGY_PARTS`]; `None` is a part the model does not
/// charge (an empty cell, never a zero). On-chip is every charged part but DRAM.
// A row holds one breakdown; the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Energies {
    /// Exact figures (pJ).
    Exact([Option<Exact>; 7]),
    /// Floating-point figures (µJ), for a model that does not compute exactly.
    Float([Option<f64>; 7]),
}

impl Energies {
    /// Exact PE, SRAM read, SRAM write and DRAM energies (pJ); the other parts not charged.
    pub fn exact4(pe: Exact, sram_read: Exact, sram_write: Exact, dram: Exact) -> Energies {
        Energies::Exact([
            Some(pe),
            Some(sram_read),
            Some(sram_write),
            Some(dram),
            None,
            None,
            None,
        ])
    }
}

/// What a timing model gives for one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The arrays used: one, or prefill's then decode's when a generative point on native
    /// arrays uses two.
    pub arrays: Vec<ArrayShape>,
    /// Latency in cycles.
    pub cycles: u64,
    /// Cycles of compute (before any overlap with DRAM).
    pub compute_cycles: u64,
    /// Energy breakdown.
    pub energy: Energies,
    /// Useful MACs over the MAC slots of the whole latency (`cycles`), when the model knows
    /// it.
    pub utilization: Option<f64>,
    /// Where every figure comes from.
    pub provenance: String,
}

/// A timing model's evaluation of one point.
pub type Evaluator = fn(&Point) -> Result<Figures>;

/// A point and what its evaluator gave (an error as text).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The point.
    pub point: Point,
    /// Its figures, or why it could not be evaluated.
    pub outcome: std::result::Result<Figures, String>,
}

/// Every point through `eval`, in parallel (rayon); `done` is called once per point finished.
/// The rows come back in the order of `points`.
pub fn evaluate<F>(points: &[Point], eval: F, done: &(dyn Fn() + Sync)) -> Vec<Row>
where
    F: Fn(&Point) -> Result<Figures> + Sync,
{
    points
        .par_iter()
        .map(|p| {
            let outcome = eval(p).map_err(|e| e.0);
            done();
            Row {
                point: p.clone(),
                outcome,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// bitmod-hpca25

/// The accelerators `bitmod-hpca25` evaluates: its presets.
pub fn hpca25_accelerators() -> Vec<String> {
    hpca25::PRESET_IDS.iter().map(|s| s.to_string()).collect()
}

/// The configuration of `bitmod-hpca25` accelerator `id` as JSON (for fingerprints).
pub fn hpca25_describe(id: &str) -> Option<String> {
    hpca25::preset(id).and_then(|c| serde_json::to_string(&c).ok())
}

/// The shape of built-in model `id` as JSON (for fingerprints).
pub fn model_describe(id: &str) -> Option<String> {
    ModelShape::builtin(id).and_then(|m| serde_json::to_string(&m).ok())
}

/// `bitmod-hpca25` at a point whose accelerator is one of its presets.
pub fn eval_hpca25(p: &Point) -> Result<Figures> {
    let config = hpca25::preset(&p.accel).ok_or_else(|| {
        Error::new(format!(
            "accelerator `{}` is not a {} preset (expected one of: {})",
            p.accel,
            hpca25::MODEL_NAME,
            hpca25::PRESET_IDS.join(", ")
        ))
    })?;
    eval_hpca25_config(config, p)
}

/// Useful MACs and MAC slots of a run: `Σ cout·cin·tok`, and `rows·cols·dp / lat` slots in
/// each of its cycles (`lat` cycles per tile of `rows·cols` PEs of `dp` lanes), scaled by
/// `lat` to stay integral: returns (`lat · MACs`, `rows·cols·dp · cycles`); `None` on overflow.
fn mac_slots(run: &Run, dp: u64) -> Option<(u128, u128)> {
    let a = run.setup.array;
    let per_cycle = u128::from(a.rows)
        .checked_mul(u128::from(a.cols))?
        .checked_mul(u128::from(dp))?;
    let mut macs = 0u128;
    for r in &run.ops {
        let m = u128::from(r.op.cout)
            .checked_mul(u128::from(r.op.cin))?
            .checked_mul(u128::from(r.op.tok))?;
        macs = macs.checked_add(m)?;
    }
    Some((
        macs.checked_mul(u128::from(run.setup.lat))?,
        per_cycle.checked_mul(u128::from(run.totals.cycles))?,
    ))
}

/// The built-in model of point `p`, or an error listing the valid ones.
fn builtin_workload(p: &Point) -> Result<Workload> {
    Workload::builtin(&p.model).ok_or_else(|| {
        Error::new(format!(
            "model `{}` is not a built-in model (expected one of: {})",
            p.model,
            super::workload::BUILTIN_IDS.join(", ")
        ))
    })
}

/// Point `p`'s scenario for one of its tasks.
fn scenario(p: &Point, task: Task) -> Scenario {
    Scenario {
        task,
        context: p.context,
    }
}

/// `bitmod-hpca25` with `config` at point `p` (its accelerator id is taken from `config`);
/// an explicit array replaces both of the configuration's arrays.
///
/// Utilization is `lat · Σ cout·cin·tok / (rows·cols·dp · cycles)`: the share of the array's
/// MAC slots over the whole latency doing useful MACs (padding of the tiles and cycles stalled
/// on DRAM both count as idle). Generative weighs decode 20 times, as its cycles.
pub fn eval_hpca25_config(mut config: AccelConfig, p: &Point) -> Result<Figures> {
    if let ArraySpec::Shape(s) = p.array {
        config.array = PerTask {
            prefill: s,
            decode: s,
        };
    }
    let dp = config.dp;
    let acc = Accelerator::new(config)?;
    let workload = builtin_workload(p)?;
    let runs: Vec<Run> = p
        .task
        .tasks()
        .iter()
        .map(|&task| acc.run(&workload, scenario(p, task)))
        .collect::<Result<_>>()?;
    let (totals, weights): (Totals, &[u128]) = match runs.as_slice() {
        [r] => (r.totals.clone(), &[1]),
        [pre, dec] => (
            Totals::generative(&pre.totals, &dec.totals, GENERATIVE_DECODE_STEPS)?,
            &[1, GENERATIVE_DECODE_STEPS as u128],
        ),
        _ => unreachable!("one or two tasks"),
    };
    let mut arrays: Vec<ArrayShape> = Vec::with_capacity(2);
    for r in &runs {
        if !arrays.contains(&r.setup.array) {
            arrays.push(r.setup.array);
        }
    }
    let mut sums = Some((0u128, 0u128));
    for (r, &w) in runs.iter().zip(weights) {
        sums = sums.and_then(|(m, s)| {
            let (rm, rs) = mac_slots(r, dp)?;
            Some((
                m.checked_add(rm.checked_mul(w)?)?,
                s.checked_add(rs.checked_mul(w)?)?,
            ))
        });
    }
    let utilization = sums.filter(|s| s.1 > 0).map(|(m, s)| m as f64 / s as f64);
    let mut provenance = hpca25::PROVENANCE.to_string();
    if let ArraySpec::Shape(s) = p.array {
        provenance.push_str(&format!(
            "; array set to {}x{} for prefill and decode (SRAM ports follow the array)",
            s.rows, s.cols
        ));
    }
    Ok(Figures {
        arrays,
        cycles: totals.cycles,
        compute_cycles: totals.compute_cycles,
        energy: Energies::exact4(totals.e_pe, totals.e_rd, totals.e_wr, totals.e_dram),
        utilization,
        provenance,
    })
}

// ---------------------------------------------------------------------------------------------
// pelab

/// The accelerators `pelab` evaluates: its presets.
pub fn pelab_accelerators() -> Vec<String> {
    pelab::PRESET_IDS.iter().map(|s| s.to_string()).collect()
}

/// The configuration of `pelab` accelerator `id` as JSON (for fingerprints).
pub fn pelab_describe(id: &str) -> Option<String> {
    pelab::preset(id).and_then(|c| serde_json::to_string(&c).ok())
}

/// `pelab` at a point whose accelerator is one of its presets, with the artifact's PE energy
/// (an error for a PE the artifact has none for).
pub fn eval_pelab_artifact(p: &Point) -> Result<Figures> {
    eval_pelab(p, &PeEnergy::artifact)
}

/// `pelab` at a point whose accelerator is one of its presets, with the PE energy
/// `pe_energy` gives for the configuration (after any array override).
pub fn eval_pelab(
    p: &Point,
    pe_energy: &dyn Fn(&PelabConfig) -> Result<PeEnergy>,
) -> Result<Figures> {
    let config = pelab::preset(&p.accel)
        .ok_or_else(|| pelab::unknown_accel(&p.accel, &pelab::PRESET_IDS))?;
    eval_pelab_config(config, pe_energy, p)
}

/// `pelab` with `config` at point `p`, with the model's default options; an explicit array
/// replaces both of the configuration's arrays. Generative is `20 · decode + prefill`.
///
/// Utilization is active PE-cycles over the PE-cycles of the whole latency (the model's own
/// figure; generative weighs decode 20 times). Energy parts the model does not charge stay
/// empty.
pub fn eval_pelab_config(
    mut config: PelabConfig,
    pe_energy: &dyn Fn(&PelabConfig) -> Result<PeEnergy>,
    p: &Point,
) -> Result<Figures> {
    if let ArraySpec::Shape(s) = p.array {
        config.array = PerTask {
            prefill: s,
            decode: s,
        };
    }
    let energy = pe_energy(&config)?;
    let acc = PelabAccelerator::new(config, energy)?;
    let workload = builtin_workload(p)?;
    let opts = pelab::Options::default();
    let runs: Vec<PelabRun> = p
        .task
        .tasks()
        .iter()
        .map(|&task| acc.run(&workload, scenario(p, task), &opts))
        .collect::<Result<_>>()?;
    let (totals, weights): (PelabTotals, &[u64]) = match runs.as_slice() {
        [r] => (r.totals.clone(), &[1]),
        [pre, dec] => (
            PelabTotals::generative(&pre.totals, &dec.totals, GENERATIVE_DECODE_STEPS)?,
            &[1, GENERATIVE_DECODE_STEPS],
        ),
        _ => unreachable!("one or two tasks"),
    };
    let mut arrays: Vec<ArrayShape> = Vec::with_capacity(2);
    for r in &runs {
        if !arrays.contains(&r.setup.array) {
            arrays.push(r.setup.array);
        }
    }
    let pes: Vec<u64> = runs.iter().map(|r| r.setup.pes()).collect();
    let utilization = if pes.iter().all(|&n| n == pes[0]) {
        totals.utilization(pes[0])
    } else {
        let slots: f64 = runs
            .iter()
            .zip(weights)
            .map(|(r, &w)| w as f64 * r.setup.pes() as f64 * r.totals.cycles as f64)
            .sum();
        totals.active_pe_cycles as f64 / slots.max(1.0)
    };
    let mut provenance = format!(
        "{}; PE energy ({}): {}",
        pelab::PROVENANCE,
        acc.pe_energy.origin.name(),
        acc.pe_energy.source
    );
    if let ArraySpec::Shape(s) = p.array {
        provenance.push_str(&format!(
            "; array set to {}x{} for prefill and decode (SRAM ports follow the array)",
            s.rows, s.cols
        ));
    }
    Ok(Figures {
        arrays,
        cycles: totals.cycles,
        compute_cycles: totals.compute_cycles,
        energy: Energies::Exact(totals.energy.parts().map(|(_, e)| e)),
        utilization: Some(utilization),
        provenance,
    })
}

// ---------------------------------------------------------------------------------------------
// CSV

/// The columns of a sweep's CSV.
pub const HEADER: [&str; 35] = [
    "grid",
    "shard",
    "points",
    "point",
    "timing",
    "accelerator",
    "model",
    "task",
    "context",
    "array",
    "rows",
    "cols",
    "cycles",
    "compute_cycles",
    "e_pe_uj",
    "e_sram_read_uj",
    "e_sram_write_uj",
    "e_dram_uj",
    "e_leakage_pe_uj",
    "e_leakage_sram_uj",
    "e_stall_uj",
    "e_onchip_uj",
    "e_total_uj",
    "e_pe_uj_exact",
    "e_sram_read_uj_exact",
    "e_sram_write_uj_exact",
    "e_dram_uj_exact",
    "e_leakage_pe_uj_exact",
    "e_leakage_sram_uj_exact",
    "e_stall_uj_exact",
    "e_onchip_uj_exact",
    "e_total_uj_exact",
    "utilization",
    "provenance",
    "error",
];

/// Column numbers of the manifest fields.
const COL_GRID: usize = 0;
const COL_SHARD: usize = 1;
const COL_POINTS: usize = 2;
const COL_POINT: usize = 3;

/// What every row of a sweep's CSV repeats: the grid's fingerprint, the shard, the grid's
/// number of points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The grid's fingerprint ([`Grid::fingerprint`]).
    pub grid: String,
    /// The shard the rows belong to.
    pub shard: Shard,
    /// Points in the whole grid.
    pub points: usize,
}

fn csv_err(e: impl std::fmt::Display) -> Error {
    Error::new(format!("CSV: {e}"))
}

/// The exact µJ of `pj`.
fn uj(pj: Exact) -> Exact {
    Exact(pj.0 / 1_000_000)
}

/// `e` rounded to the nearest `f64` (ties to even), by binary long division of its numerator
/// by its denominator: 53 bits, a guard bit and a sticky bit.
fn nearest_f64(e: Exact) -> f64 {
    let (n, d) = (*e.0.numer(), *e.0.denom());
    if n == 0 {
        return 0.0;
    }
    // d > 0 always; |n| and d below 2^127, so doubling a remainder (< d) fits in u128.
    let (p, q) = (n.unsigned_abs(), d.unsigned_abs());
    let bits = |x: u128| 128 - x.leading_zeros();
    let (int, mut r) = (p / q, p % q);
    let (mut sig, mut exp, sticky);
    if bits(int) > 54 {
        let shift = bits(int) - 54;
        sig = int >> shift;
        exp = shift as i32;
        sticky = int & ((1u128 << shift) - 1) != 0 || r != 0;
    } else {
        (sig, exp) = (int, 0);
        while bits(sig) < 54 {
            r <<= 1;
            sig <<= 1;
            if r >= q {
                r -= q;
                sig |= 1;
            }
            exp -= 1;
        }
        sticky = r != 0;
    }
    let guard = sig & 1 == 1;
    let mut m = sig >> 1;
    exp += 1;
    if guard && (sticky || m & 1 == 1) {
        m += 1;
        if m == 1 << 53 {
            m >>= 1;
            exp += 1;
        }
    }
    // m < 2^53 and 2^exp are exact doubles, and so is their product for these magnitudes.
    let v = m as f64 * 2f64.powi(exp);
    if n < 0 {
        -v
    } else {
        v
    }
}

/// The energy columns: the seven parts, on-chip and total in µJ, then the same nine as exact
/// text (empty when the model does not compute exactly); a part not charged is empty.
fn energy_fields(e: &Energies) -> Vec<String> {
    let empty = || String::new();
    match e {
        Energies::Exact(parts) => {
            let total = parts.iter().flatten().fold(Exact::default(), |a, &b| a + b);
            let dram = parts[3].unwrap_or_default();
            let on = Exact(total.0 - dram.0);
            let all: Vec<Option<Exact>> = parts
                .iter()
                .copied()
                .chain([Some(on), Some(total)])
                .map(|x| x.map(uj))
                .collect();
            all.iter()
                .map(|x| x.map_or_else(empty, |x| nearest_f64(x).to_string()))
                .chain(all.iter().map(|x| x.map_or_else(empty, |x| x.to_text())))
                .collect()
        }
        Energies::Float(parts) => {
            let total: f64 = parts.iter().flatten().sum();
            let on = total - parts[3].unwrap_or(0.0);
            parts
                .iter()
                .copied()
                .chain([Some(on), Some(total)])
                .map(|x| x.map_or_else(empty, |x| x.to_string()))
                .chain(std::iter::repeat_n(String::new(), 9))
                .collect()
        }
    }
}

fn record(m: &Manifest, r: &Row) -> Vec<String> {
    let p = &r.point;
    let mut v = vec![
        m.grid.clone(),
        m.shard.name(),
        m.points.to_string(),
        p.index.to_string(),
        p.timing.clone(),
        p.accel.clone(),
        p.model.clone(),
        p.task.name().to_string(),
        p.context.to_string(),
        p.array.name(),
    ];
    match &r.outcome {
        Ok(f) => {
            let join = |g: fn(&ArrayShape) -> u64| {
                f.arrays
                    .iter()
                    .map(|a| g(a).to_string())
                    .collect::<Vec<_>>()
                    .join("+")
            };
            v.push(join(|a| a.rows));
            v.push(join(|a| a.cols));
            v.push(f.cycles.to_string());
            v.push(f.compute_cycles.to_string());
            v.extend(energy_fields(&f.energy));
            v.push(f.utilization.map_or(String::new(), |u| u.to_string()));
            v.push(f.provenance.clone());
            v.push(String::new());
        }
        Err(e) => {
            v.extend(std::iter::repeat_n(
                String::new(),
                HEADER.len() - v.len() - 1,
            ));
            v.push(e.clone());
        }
    }
    debug_assert_eq!(v.len(), HEADER.len());
    v
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w.into_inner().map_err(csv_err)?;
    String::from_utf8(bytes).map_err(csv_err)
}

/// The CSV of `rows` (a header, then one line per row in the order given).
pub fn csv_text(m: &Manifest, rows: &[Row]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).map_err(csv_err)?;
    for r in rows {
        w.write_record(record(m, r)).map_err(csv_err)?;
    }
    finish(w)
}

/// One parsed shard file.
struct Part<'a> {
    name: &'a str,
    grid: String,
    shard: Shard,
    points: usize,
    rows: Vec<(usize, csv::StringRecord)>,
}

fn read_part<'a>(name: &'a str, text: &str) -> Result<Part<'a>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .map_err(|e| Error::new(format!("{name}: {e}")))?
        .clone();
    if header.iter().ne(HEADER.iter().copied()) {
        return Err(Error::new(format!(
            "{name}: not a pelab accel sweep CSV of this version (its header is `{}`, expected \
             `{}`)",
            header.iter().collect::<Vec<_>>().join(","),
            HEADER.join(",")
        )));
    }
    let mut first: Option<(String, String, String)> = None;
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::new(format!("{name}: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let key = (
            rec[COL_GRID].to_string(),
            rec[COL_SHARD].to_string(),
            rec[COL_POINTS].to_string(),
        );
        match &first {
            None => first = Some(key),
            Some(f) if *f != key => {
                return Err(Error::new(format!(
                    "{name} line {line}: grid {}, shard {}, {} points differ from the file's \
                     first row (grid {}, shard {}, {} points)",
                    key.0, key.1, key.2, f.0, f.1, f.2
                )))
            }
            Some(_) => {}
        }
        let index: usize = rec[COL_POINT].parse().map_err(|_| {
            Error::new(format!(
                "{name} line {line}: point `{}` is not a number",
                &rec[COL_POINT]
            ))
        })?;
        rows.push((index, rec));
    }
    let Some((grid, shard, points)) = first else {
        return Err(Error::new(format!(
            "{name}: no rows (a sweep's shard always holds at least one point)"
        )));
    };
    let shard = Shard::parse(&shard).map_err(|e| Error::new(format!("{name}: {e}")))?;
    let points: usize = points
        .parse()
        .map_err(|_| Error::new(format!("{name}: points `{points}` is not a number")))?;
    for (i, rec) in &rows {
        let line = rec.position().map_or(0, |p| p.line());
        if *i >= points || !shard.contains(*i) {
            return Err(Error::new(format!(
                "{name} line {line}: point {i} does not belong to shard {} of a {points}-point \
                 grid",
                shard.name()
            )));
        }
    }
    Ok(Part {
        name,
        grid,
        shard,
        points,
        rows,
    })
}

/// At most `n` numbers of `ids`, then `...` and how many more.
fn some_ids(ids: &[usize], n: usize) -> String {
    let mut s: Vec<String> = ids.iter().take(n).map(|i| i.to_string()).collect();
    if ids.len() > n {
        s.push(format!("... ({} more)", ids.len() - n));
    }
    s.join(", ")
}

/// Merges the shard CSVs `inputs` (name, text) of one sweep into the CSV of the whole grid:
/// every file of the same grid and shard count, no point twice, none missing; rows in point
/// order with shard `1/1`, exactly as the unsharded sweep writes them. Returns the CSV text and
/// its number of rows.
pub fn merge(inputs: &[(String, String)]) -> Result<(String, usize)> {
    if inputs.is_empty() {
        return Err(Error::new("merge: no shard files given"));
    }
    let parts: Vec<Part> = inputs
        .iter()
        .map(|(name, text)| read_part(name, text))
        .collect::<Result<_>>()?;
    let p0 = &parts[0];
    for p in &parts[1..] {
        if p.grid != p0.grid || p.points != p0.points {
            return Err(Error::new(format!(
                "{} is from another sweep than {}: grid {} ({} points) vs grid {} ({} points)",
                p.name, p0.name, p.grid, p.points, p0.grid, p0.points
            )));
        }
        if p.shard.n != p0.shard.n {
            return Err(Error::new(format!(
                "{} is shard {} but {} is shard {}: the shards of one sweep share N",
                p.name,
                p.shard.name(),
                p0.name,
                p0.shard.name()
            )));
        }
    }
    let n = p0.shard.n;
    let total = p0.points;
    let mut owner: Vec<Option<(usize, u64)>> = vec![None; total];
    for (f, p) in parts.iter().enumerate() {
        for (i, rec) in &p.rows {
            let line = rec.position().map_or(0, |x| x.line());
            if let Some((g, gl)) = owner[*i] {
                return Err(Error::new(format!(
                    "point {i} appears twice: {} line {gl} and {} line {line}",
                    parts[g].name, p.name
                )));
            }
            owner[*i] = Some((f, line));
        }
    }
    let missing: Vec<usize> = (0..total).filter(|&i| owner[i].is_none()).collect();
    if !missing.is_empty() {
        let mut by_shard: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in &missing {
            by_shard.entry(i % n + 1).or_default().push(i);
        }
        let lines: Vec<String> = by_shard
            .iter()
            .map(|(k, ids)| {
                let files: Vec<&str> = parts
                    .iter()
                    .filter(|p| p.shard.k == *k)
                    .map(|p| p.name)
                    .collect();
                let whose = if files.is_empty() {
                    "no file given".to_string()
                } else {
                    files.join(", ")
                };
                format!("shard {k}/{n} ({whose}): points {}", some_ids(ids, 12))
            })
            .collect();
        return Err(Error::new(format!(
            "{} of the grid's {total} points are missing:\n  {}",
            missing.len(),
            lines.join("\n  ")
        )));
    }
    let mut all: Vec<(usize, &csv::StringRecord)> = parts
        .iter()
        .flat_map(|p| p.rows.iter().map(|(i, r)| (*i, r)))
        .collect();
    all.sort_by_key(|(i, _)| *i);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).map_err(csv_err)?;
    let whole = Shard::ALL.name();
    for (_, rec) in all {
        let fields = rec
            .iter()
            .enumerate()
            .map(|(c, f)| if c == COL_SHARD { whole.as_str() } else { f });
        w.write_record(fields).map_err(csv_err)?;
    }
    Ok((finish(w)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n_acc: usize, n_mod: usize, tasks: Vec<SweepTask>, arrays: usize) -> Grid {
        Grid::new(
            (0..n_acc).map(|i| format!("a{i}")).collect(),
            (0..n_mod).map(|i| format!("m{i}")).collect(),
            tasks,
            (1..=arrays as u64)
                .map(|i| {
                    ArraySpec::Shape(ArrayShape {
                        rows: i,
                        cols: 2 * i,
                    })
                })
                .collect(),
            vec!["t0".into(), "t1".into()],
            256,
        )
        .unwrap()
    }

    /// A stand-in evaluator: figures computed from the point's index and names.
    fn fake(p: &Point) -> Result<Figures> {
        if p.model == "m2" && p.task == SweepTask::Decode {
            return Err(Error::new(format!("no figure for {}", p.label())));
        }
        let i = p.index as i128;
        Ok(Figures {
            arrays: vec![ArrayShape { rows: 3, cols: 4 }],
            cycles: 1000 + p.index as u64,
            compute_cycles: 7 * p.index as u64,
            energy: Energies::Exact([
                Some(Exact::frac(i * 1_000_003, 7)),
                Some(Exact::frac(1, 3)),
                Some(Exact::int(i)),
                Some(Exact::frac(150 * i + 1, 16)),
                None,
                (i % 2 == 0).then(|| Exact::int(5)),
                None,
            ]),
            utilization: Some(1.0 / (1.0 + p.index as f64)),
            provenance: format!("fake, \"quoted\", {}", p.accel),
        })
    }

    #[test]
    fn enumeration_is_the_nested_loops() {
        let g = grid(2, 3, SweepTask::ALL.to_vec(), 2);
        assert_eq!(g.len(), 2 * 3 * 3 * 2 * 2);
        // The oracle: the nested loops the documentation states, accelerator outermost.
        let mut i = 0;
        for a in &g.accels {
            for m in &g.models {
                for &t in &g.tasks {
                    for &r in &g.arrays {
                        for k in &g.timings {
                            let p = g.point(i);
                            assert_eq!(
                                (&p.accel, &p.model, p.task, p.array, &p.timing, p.index),
                                (a, m, t, r, k, i)
                            );
                            i += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(i, g.len());
    }

    #[test]
    fn shards_partition_the_grid() {
        for (a, m, arrays) in [(1, 1, 1), (2, 3, 2), (5, 6, 4), (1, 2, 1)] {
            let g = grid(a, m, vec![SweepTask::Prefill], arrays);
            for n in 1..=5 {
                let mut count = vec![0usize; g.len()];
                for k in 1..=n {
                    let s = Shard { k, n };
                    for p in g.points(s) {
                        assert_eq!(p.index % n, k - 1, "shard {k}/{n}");
                        assert_eq!(p, g.point(p.index));
                        count[p.index] += 1;
                    }
                }
                assert!(
                    count.iter().all(|&c| c == 1),
                    "{n} shards of {} points: counts {count:?}",
                    g.len()
                );
            }
        }
    }

    #[test]
    fn shard_specs() {
        assert_eq!(Shard::parse("3/8").unwrap(), Shard { k: 3, n: 8 });
        assert_eq!(Shard::parse("1/1").unwrap(), Shard::ALL);
        for bad in [
            "0/4", "5/4", "1/0", "3", "a/4", "1/b", "-1/4", "/", "1/4/2", "",
        ] {
            let e = Shard::parse(bad).unwrap_err().0;
            assert!(e.contains("expected k/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn array_specs() {
        assert_eq!(ArraySpec::parse("native").unwrap(), ArraySpec::Native);
        assert_eq!(
            ArraySpec::parse("64x16").unwrap(),
            ArraySpec::Shape(ArrayShape { rows: 64, cols: 16 })
        );
        assert_eq!(ArraySpec::parse("1024x1").unwrap().name(), "1024x1");
        for (bad, why) in [
            ("0x8", "at least 1"),
            ("8x0", "at least 1"),
            ("1025x8", "at most 1024"),
            ("8x99999999999999999999999", "at most 1024"),
            ("8x", "expected RxC"),
            ("x8", "expected RxC"),
            ("8*8", "expected RxC"),
            ("-8x8", "expected RxC"),
        ] {
            let e = ArraySpec::parse(bad).unwrap_err().0;
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn grid_checks_and_fingerprints() {
        let g = grid(2, 2, vec![SweepTask::Prefill, SweepTask::Decode], 2);
        assert_eq!(g.fingerprint(""), g.clone().fingerprint(""));
        assert_eq!(g.fingerprint("").len(), 16);
        let mut others = vec![g.fingerprint("salt")];
        let mut h = g.clone();
        h.context = 255;
        others.push(h.fingerprint(""));
        let mut h = g.clone();
        h.tasks.reverse();
        others.push(h.fingerprint(""));
        let mut h = g.clone();
        h.arrays.pop();
        others.push(h.fingerprint(""));
        for o in &others {
            assert_ne!(*o, g.fingerprint(""));
        }
        let e = Grid::new(
            vec!["a".into(), "a".into()],
            vec!["m".into()],
            vec![SweepTask::Prefill],
            vec![ArraySpec::Native],
            vec!["t".into()],
            256,
        )
        .unwrap_err()
        .0;
        assert!(e.contains("--accels: `a` is listed twice"), "{e}");
        let e = Grid::new(
            vec!["a".into()],
            vec![],
            vec![SweepTask::Prefill],
            vec![ArraySpec::Native],
            vec!["t".into()],
            256,
        )
        .unwrap_err()
        .0;
        assert!(e.contains("--models: the list is empty"), "{e}");
    }

    /// The CSV of a grid, shard by shard.
    fn shard_csvs(g: &Grid, n: usize) -> Vec<(String, String)> {
        (1..=n)
            .map(|k| {
                let s = Shard { k, n };
                let rows = evaluate(&g.points(s), fake, &|| {});
                let m = Manifest {
                    grid: g.fingerprint(""),
                    shard: s,
                    points: g.len(),
                };
                (format!("part{k}.csv"), csv_text(&m, &rows).unwrap())
            })
            .collect()
    }

    #[test]
    fn merged_shards_are_the_whole_sweep() {
        let g = grid(2, 3, SweepTask::ALL.to_vec(), 2);
        let whole = shard_csvs(&g, 1).pop().unwrap().1;
        assert_eq!(whole.lines().count(), g.len() + 1);
        assert!(whole.contains("no figure for"));
        for n in 1..=5 {
            let mut parts = shard_csvs(&g, n);
            parts.reverse();
            assert_eq!(merge(&parts).unwrap().0, whole, "{n} shards");
        }
    }

    #[test]
    fn merge_rejects_what_does_not_fit() {
        let g = grid(2, 3, vec![SweepTask::Prefill], 2);
        let parts = shard_csvs(&g, 3);
        // A missing shard: named with its points.
        let e = merge(&parts[..2]).unwrap_err().0;
        assert!(
            e.contains("shard 3/3 (no file given): points 2, 5, 8"),
            "{e}"
        );
        // A shard twice.
        let e = merge(&[parts[0].clone(), parts[1].clone(), parts[0].clone()])
            .unwrap_err()
            .0;
        assert!(
            e.contains("point 0 appears twice: part1.csv line 2 and part1.csv line 2"),
            "{e}"
        );
        // A row lost from a file: that file and the point are named.
        let mut cut = parts.clone();
        let text = &cut[1].1;
        let keep: Vec<&str> = text.lines().filter(|l| !l.contains(",2/3,24,4,")).collect();
        cut[1].1 = keep.join("\n") + "\n";
        let e = merge(&cut).unwrap_err().0;
        assert!(e.contains("shard 2/3 (part2.csv): points 4"), "{e}");
        // Another grid.
        let mut h = g.clone();
        h.context = 128;
        let other = shard_csvs(&h, 3);
        let e = merge(&[parts[0].clone(), parts[1].clone(), other[2].clone()])
            .unwrap_err()
            .0;
        assert!(
            e.contains("part3.csv is from another sweep than part1.csv"),
            "{e}"
        );
        // Another N.
        let four = shard_csvs(&g, 4);
        let e = merge(&[parts[0].clone(), four[1].clone()]).unwrap_err().0;
        assert!(e.contains("the shards of one sweep share N"), "{e}");
        // Not a sweep.
        let e = merge(&[("x.csv".into(), "a,b\n1,2\n".into())])
            .unwrap_err()
            .0;
        assert!(e.contains("x.csv: not a pelab accel sweep CSV"), "{e}");
    }

    #[test]
    fn exact_columns_and_nearest_floats() {
        let e = Energies::exact4(
            Exact::parse("1234567.5").unwrap(),
            Exact::int(1),
            Exact::frac(1, 3),
            Exact::int(3_000_000),
        );
        let f = energy_fields(&e);
        assert_eq!(f.len(), 18);
        assert_eq!(f[0], "1.2345675");
        assert_eq!(f[9], "1.2345675");
        assert_eq!(f[9 + 2], "1/3000000");
        // Leakage and stalls not charged: empty, in both forms.
        assert_eq!(&f[4..7], ["", "", ""]);
        assert_eq!(&f[13..16], ["", "", ""]);
        // On-chip 1234567.5 + 1 + 1/3 = 7407413/6 pJ, total + 3e6 pJ = 25407413/6 pJ.
        assert_eq!(f[9 + 7], "7407413/6000000");
        assert_eq!(f[9 + 8], "25407413/6000000");
        assert_eq!(f[8].parse::<f64>().unwrap(), 25407413.0 / 6000000.0);
        // A charged leakage joins on-chip and total.
        let mut parts = [None; 7];
        parts[0] = Some(Exact::int(2_000_000));
        parts[3] = Some(Exact::int(1_000_000));
        parts[5] = Some(Exact::int(500_000));
        let f = energy_fields(&Energies::Exact(parts));
        assert_eq!((f[7].as_str(), f[8].as_str()), ("2.5", "3.5"));
        assert_eq!((f[1].as_str(), f[10].as_str()), ("", ""));
        let f = energy_fields(&Energies::Float([
            Some(1.5),
            Some(0.25),
            None,
            Some(4.0),
            None,
            None,
            Some(0.125),
        ]));
        assert_eq!(f[7], "1.875");
        assert_eq!(f[8], "5.875");
        assert!(f[9..].iter().all(|x| x.is_empty()));
    }

    #[test]
    fn nearest_doubles() {
        // Oracles: Rust's decimal parser and IEEE division of exact operands both round to
        // nearest, ties to even.
        for t in [
            "0.3",
            "0.1",
            "1234567.5",
            "2549498.83341070336",
            "0.000000000000000000000000000001",
            "170141183460469.231731687303715884105727",
            "9007199254740993",
            "9007199254740995",
            "18014398509481982",
            "-4.0625",
            "12",
        ] {
            let e = Exact::parse(t).unwrap();
            assert_eq!(nearest_f64(e), t.parse::<f64>().unwrap(), "{t}");
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = (x >> 11) as i128; // below 2^53
            let q = ((x.rotate_left(29) >> (11 + (x % 40))) as i128).max(1);
            assert_eq!(
                nearest_f64(Exact::frac(p, q)),
                p as f64 / q as f64,
                "{p}/{q}"
            );
            let dec = Exact::frac(p, 10i128.pow((x % 25) as u32));
            assert_eq!(nearest_f64(dec), dec.to_text().parse::<f64>().unwrap());
        }
    }
}
