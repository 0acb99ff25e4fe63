//! Energy per operation of a PE configuration: the workload's rows replayed on the synthesized
//! gate netlist of every stage (pelab's gate engine, toggles counted), priced by a technology
//! (`generic-45nm` or a Liberty library), with the `horowitz-45nm` table estimate beside it.

use crate::codec::{Dist, Shape, WorkloadOps};
use crate::gates::{run_gates, run_gates_recorded, run_gates_with, synthesized_netlist};
use pelab_hdl::RtlConfig;
use pelab_sim::energy::{energy, Energy, Generic45, LibertyTech, Technology};
use pelab_sim::liberty::Library;
use pelab_sim::netlist::delays::{liberty_delays, DelayOptions};
use pelab_sim::netlist::{Delay, Netlist};
use pelab_sim::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Which technology prices the gates.
#[derive(Debug, Clone)]
pub enum Tech {
    /// `generic-45nm` (Yosys generic gates, Nangate 45 nm figures).
    Generic45,
    /// Cells and figures of a Liberty library (plain or gzip).
    Liberty(PathBuf),
}

/// A request for [`measure`].
#[derive(Debug, Clone)]
pub struct Request {
    /// Technology.
    pub tech: Tech,
    /// Operand distribution.
    pub dist: Dist,
    /// Workload shape.
    pub shape: Shape,
    /// Operations to simulate.
    pub ops: u64,
    /// Random seed.
    pub seed: u64,
    /// Clock frequency, GHz.
    pub freq_ghz: f64,
    /// Wire capacitance per fan-out pin for a Liberty library, fF.
    pub wire_ff: f64,
}

/// One stage's share.
#[derive(Debug, Clone, Serialize)]
pub struct StageEnergy {
    /// PE id of the hardware.
    pub pe: String,
    /// Module.
    pub module: String,
    /// Role in the workload.
    pub role: String,
    /// Rows (operations or cycles) simulated.
    pub rows: u64,
    /// The synthesized netlist.
    pub netlist: PathBuf,
    /// Energy per operation of the workload (glitches included under unit delay).
    pub energy: Energy,
    /// Under unit delay: zero-delay gate toggles per operation (the settled value of each
    /// operation or cycle against the previous one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toggles_zero_delay: Option<f64>,
    /// Under unit delay: toggles / zero-delay toggles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glitch_factor: Option<f64>,
    /// Under Liberty delays: how the cell delays were computed and their range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delays: Option<StageDelays>,
    /// The simulation behind the figures, when kept ([`MeasureOptions::keep`]).
    #[serde(skip)]
    pub trace: Option<Box<StageTrace>>,
}

/// The cell delays of a stage under Liberty delays.
#[derive(Debug, Clone, Serialize)]
pub struct StageDelays {
    /// Library.
    pub library: String,
    /// Time quantum, ps.
    pub resolution_ps: u32,
    /// Transition time of primary inputs and flip-flop outputs, ps.
    pub input_slew_ps: f64,
    /// Wire capacitance per fan-out pin, fF.
    pub wire_ff: f64,
    /// Smallest cell delay (before quantization), ps.
    pub min_delay_ps: f64,
    /// Largest cell delay, ps.
    pub max_delay_ps: f64,
    /// Longest path through the quantized delays, ps: no net changes later than this after
    /// the inputs change.
    pub settle_bound_ps: f64,
    /// The latest change seen in the simulation, ps.
    pub settle_seen_ps: f64,
}

/// A stage's simulation, kept for activity files.
#[derive(Debug, Clone)]
pub struct StageTrace {
    /// The netlist (with its delays under Liberty delays).
    pub net: Netlist,
    /// The rows' layout.
    pub layout: crate::vectors::Layout,
    /// The rows simulated.
    pub rows: Vec<Vec<u64>>,
    /// Toggles and the time at 1 of each counted net.
    pub activity: crate::gates::GateActivity,
    /// Length of a row in time units.
    pub period: u32,
    /// One time unit in ps (the delay resolution; the clock period's ps under zero delay;
    /// 1000, nominal, under unit delay).
    pub unit_ps: u32,
    /// The delay model.
    pub delay: Delay,
}

/// Options of [`measure_opts`].
#[derive(Debug, Clone)]
pub struct MeasureOptions {
    /// Delay model.
    pub delay: Delay,
    /// Under Liberty delays: time quantum, ps.
    pub resolution_ps: u32,
    /// Under Liberty delays: transition of primary inputs and flip-flop outputs, ps.
    pub input_slew_ps: f64,
    /// Rows of a golden-vector file in place of the workload's random operands.
    pub vectors: Option<crate::vectors::VectorSet>,
    /// Keep each stage's simulation ([`StageEnergy::trace`]) with the time each net spends
    /// at 1.
    pub keep: bool,
}

impl MeasureOptions {
    /// Zero delay, the workload's own operands, nothing kept.
    pub fn new(delay: Delay) -> MeasureOptions {
        MeasureOptions {
            delay,
            resolution_ps: DelayOptions::RESOLUTION_PS,
            input_slew_ps: DelayOptions::INPUT_SLEW_PS,
            vectors: None,
            keep: false,
        }
    }
}

/// The table estimate printed beside the gate-level figure.
#[derive(Debug, Clone, Serialize)]
pub struct TableEstimate {
    /// pJ per operation, when the table has the rows.
    pub energy_pj: Option<f64>,
    /// Rows used, or why there is no figure.
    pub detail: String,
    /// Source.
    pub provenance: String,
}

/// Energy per operation of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// PE id.
    pub pe: String,
    /// Configuration.
    pub config: RtlConfig,
    /// Technology name.
    pub tech: String,
    /// Operand distribution.
    pub dist: Dist,
    /// Workload shape.
    pub shape: Shape,
    /// Seed.
    pub seed: u64,
    /// What one operation is.
    pub op_name: String,
    /// Operations simulated.
    pub ops: u64,
    /// Stages.
    pub stages: Vec<StageEnergy>,
    /// Dynamic pJ per operation (all stages).
    pub dynamic_pj: f64,
    /// Clock pJ per operation.
    pub clock_pj: f64,
    /// Leakage pJ per operation.
    pub leakage_pj: f64,
    /// Total pJ per operation.
    pub total_pj: f64,
    /// Cell area of all stages, µm².
    pub area_um2: f64,
    /// Gate toggles per operation.
    pub toggles_per_op: f64,
    /// The `horowitz-45nm` estimate.
    pub horowitz: TableEstimate,
    /// Delay model of the gate simulation (`zero`, `unit`).
    pub delay: String,
    /// Under unit delay: gate toggles per operation with zero delay (all stages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toggles_zero_delay: Option<f64>,
    /// Under unit delay: toggles / zero-delay toggles of the whole PE (all stages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glitch_factor: Option<f64>,
    /// What the delay model leaves out.
    pub caveat: String,
}

/// The caveat printed with Liberty-delay figures.
pub const LIBERTY_DELAY_CAVEAT: &str = "Liberty-delay simulation: glitches are counted with each \
    cell output's delay from the library's NLDM tables (the worst arc and edge at a propagated \
    worst-case transition and the net's load, quantized), inertial as Verilog `assign #d`; \
    per-arc and rise/fall differences, wire delays, the clock tree, flip-flop clock-to-output \
    delays and primary-input skew are not modelled, so the glitch count is an estimate";

/// The caveat printed with unit-delay figures.
pub const UNIT_DELAY_CAVEAT: &str = "unit-delay simulation: glitches are counted with one time \
    unit per cell (inertial, as Verilog `assign #1`), not with the cells' real delays, which \
    differ by cell, load and edge, so the glitch count is an estimate; wire delays, the clock \
    tree and primary-input drivers are not included";

/// The provenance line of a delay model.
pub fn delay_provenance(delay: Delay) -> &'static str {
    match delay {
        Delay::Zero => {
            "delay model: zero delay (the logic settles once per operation or cycle; glitches \
             not counted)"
        }
        Delay::Unit => {
            "delay model: unit delay (every cell one time unit, inertial; inputs and \
             flip-flops change at the start of each operation or cycle; every value change \
             counted, glitches included)"
        }
        Delay::Liberty => {
            "delay model: Liberty delays (each cell output its worst cell_rise/cell_fall arc of \
             the library at a propagated transition and its load, quantized, inertial; inputs \
             and flip-flops change at the start of each operation or cycle; every value change \
             counted, glitches included)"
        }
    }
}

/// The netlist of `cfg` of the PE whose RTL is `rtl` under `tech` (synthesized through the
/// cache) and its path.
pub fn netlist_of(
    rtl: &dyn pelab_hdl::PeRtl,
    cfg: &RtlConfig,
    tech: &Tech,
    lib: Option<&Library>,
) -> Result<(Netlist, PathBuf, String)> {
    let m = rtl.verilog(cfg)?;
    let liberty = match (tech, lib) {
        (Tech::Generic45, _) => None,
        (Tech::Liberty(p), Some(lib)) => Some((p.as_path(), lib)),
        (Tech::Liberty(p), None) => {
            return Err(Error::new(format!(
                "liberty {} was not read before synthesizing onto it",
                p.display()
            )))
        }
    };
    let (net, path) = synthesized_netlist(&m.verilog, &m.name, liberty)?;
    Ok((net, path, m.name))
}

/// Reads a Liberty library for [`Tech::Liberty`].
pub fn read_library(path: &Path) -> Result<Library> {
    pelab_sim::liberty::read(path)
}

/// Measures the energy per operation of `cfg` of PE `pe` (zero delay).
pub fn measure(
    pe: crate::pe::Pe,
    cfg: &RtlConfig,
    req: &Request,
    lib: Option<&Library>,
) -> Result<Measurement> {
    measure_with(pe, cfg, req, lib, Delay::Zero)
}

/// [`measure`] under delay model `delay`: with a timed model, the energy counts glitches
/// and the measurement carries the zero-delay toggles and the glitch factor beside it.
pub fn measure_with(
    pe: crate::pe::Pe,
    cfg: &RtlConfig,
    req: &Request,
    lib: Option<&Library>,
    delay: Delay,
) -> Result<Measurement> {
    measure_opts(pe, cfg, req, lib, &MeasureOptions::new(delay))
}

/// The technology a [`Request`] prices its toggles with: the generic 45 nm table, or a
/// Liberty library read beforehand.
pub enum PricedTech<'a> {
    /// The generic 45 nm table.
    Generic(Generic45),
    /// The Liberty library of `--liberty`.
    Liberty(LibertyTech<'a>),
}

impl<'a> PricedTech<'a> {
    /// The technology of `req`: the generic table loaded, or `lib` (an error naming the
    /// library file when it was not read before `what`).
    pub fn of(req: &Request, lib: Option<&'a Library>, what: &str) -> Result<Self> {
        Ok(match (&req.tech, lib) {
            (Tech::Generic45, _) => PricedTech::Generic(Generic45::load()?),
            (Tech::Liberty(_), Some(lib)) => PricedTech::Liberty(LibertyTech {
                lib,
                wire_ff_per_pin: req.wire_ff,
            }),
            (Tech::Liberty(p), None) => {
                return Err(Error::new(format!(
                    "liberty {} was not read before {what}",
                    p.display()
                )))
            }
        })
    }

    /// The technology, to price with.
    pub fn get(&self) -> &dyn Technology {
        match self {
            PricedTech::Generic(g) => g,
            PricedTech::Liberty(l) => l,
        }
    }
}

/// [`measure_with`] with options: Liberty delays (their resolution and input transition),
/// the rows of a golden-vector file instead of random operands (single-stage workloads),
/// each stage's simulation kept for activity files.
pub fn measure_opts(
    pe: crate::pe::Pe,
    cfg: &RtlConfig,
    req: &Request,
    lib: Option<&Library>,
    o: &MeasureOptions,
) -> Result<Measurement> {
    let delay = o.delay;
    if delay == Delay::Liberty && lib.is_none() {
        return Err(Error::new(
            "--delay liberty takes the cell delays from a Liberty library: add --liberty FILE",
        ));
    }
    if req.ops == 0 {
        return Err(Error::new("--ops must be at least 1"));
    }
    if !(req.freq_ghz > 0.0 && req.freq_ghz.is_finite()) {
        return Err(Error::new("the clock frequency must be positive"));
    }
    if let Shape::Dot { k: 0 } = req.shape {
        return Err(Error::new("a dot product needs k >= 1"));
    }
    let priced = PricedTech::of(req, lib, "measuring")?;
    let tech = priced.get();
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let ops = WorkloadOps {
        dist: req.dist,
        shape: req.shape,
        ops: req.ops,
    };
    let mut w = pe.vectors.workload(cfg, ops, &mut rng)?;
    if let Some(v) = &o.vectors {
        if w.stages.len() != 1 || !matches!(req.shape, Shape::Elementwise) {
            return Err(Error::new(format!(
                "--vectors drives the PE alone on the elementwise workload ({} stage(s) here \
                 for {}); drop --workload",
                w.stages.len(),
                pe.id()
            )));
        }
        let s = &mut w.stages[0];
        if v.layout != s.layout {
            return Err(Error::new(format!(
                "the vector file's columns ({}) are not those of the {} stage ({})",
                v.layout.describe(false),
                s.role,
                s.layout.describe(false)
            )));
        }
        if v.rows.len() < 2 {
            return Err(Error::new(
                "the vector file has fewer than 2 rows: no transition to count",
            ));
        }
        let n_in = s.layout.inputs().count();
        s.rows = v.rows.iter().map(|r| r[..n_in].to_vec()).collect();
        w.ops = v.cases;
    }
    let mut stages = Vec::new();
    for s in &w.stages {
        let (mut net, path, module) = netlist_of(s.rtl, &s.cfg, &req.tech, lib)?;
        let mut summary = None;
        let mut bound = 0u32;
        if let (Delay::Liberty, Some(lib)) = (delay, lib) {
            let d = liberty_delays(
                &net,
                lib,
                &DelayOptions {
                    resolution_ps: o.resolution_ps,
                    input_slew_ps: o.input_slew_ps,
                    wire_ff: req.wire_ff,
                },
            )?;
            net.annotate_delays(&d)?;
            bound = d.settle_bound(&net);
            let (lo, hi) = d.range_ps(&net);
            summary = Some(StageDelays {
                library: d.library.clone(),
                resolution_ps: o.resolution_ps,
                input_slew_ps: o.input_slew_ps,
                wire_ff: req.wire_ff,
                min_delay_ps: lo,
                max_delay_ps: hi,
                settle_bound_ps: bound as f64 * o.resolution_ps as f64,
                settle_seen_ps: 0.0,
            });
        }
        let (period, unit_ps) = row_period(&net, delay, bound, o.resolution_ps, req.freq_ghz);
        let (_, act) = run_gates_recorded(
            &net,
            &s.layout,
            &s.rows,
            (false, true, delay),
            o.keep.then_some(period),
        )?;
        if let Some(sd) = summary.as_mut() {
            sd.settle_seen_ps = act.settle_time as f64 * o.resolution_ps as f64;
        }
        let cycles_per_op = s.rows.len() as f64 / w.ops as f64;
        let mut e = energy(
            &net,
            tech,
            &act.activity(w.ops as f64, cycles_per_op),
            req.freq_ghz,
        )?;
        e.provenance.push(delay_provenance(delay).into());
        let zero: u64 = act.zero_delay_toggles.iter().sum();
        let timed: u64 = act.toggles.iter().sum();
        stages.push(StageEnergy {
            pe: s.rtl.id().to_string(),
            module,
            role: s.role.clone(),
            rows: s.rows.len() as u64,
            netlist: path,
            energy: e,
            toggles_zero_delay: delay.timed().then(|| zero as f64 / w.ops as f64),
            glitch_factor: delay.timed().then(|| ratio(timed, zero)),
            delays: summary,
            trace: o.keep.then(|| {
                Box::new(StageTrace {
                    net,
                    layout: s.layout.clone(),
                    rows: s.rows.clone(),
                    activity: act,
                    period,
                    unit_ps,
                    delay,
                })
            }),
        });
    }
    let sum = |f: fn(&Energy) -> f64| stages.iter().map(|s| f(&s.energy)).sum::<f64>();
    let horowitz = table_estimate(pe, cfg, req.shape);
    Ok(Measurement {
        pe: pe.id().into(),
        config: cfg.clone(),
        tech: tech.name(),
        dist: req.dist,
        shape: req.shape,
        seed: req.seed,
        op_name: w.op_name.into(),
        ops: w.ops,
        dynamic_pj: sum(|e| e.dynamic_pj),
        clock_pj: sum(|e| e.clock_pj),
        leakage_pj: sum(|e| e.leakage_pj),
        total_pj: sum(|e| e.total_pj),
        area_um2: sum(|e| e.area_um2),
        toggles_per_op: sum(|e| e.toggles_per_op),
        horowitz,
        delay: delay.name().into(),
        toggles_zero_delay: delay.timed().then(|| sum_zero(&stages)),
        glitch_factor: delay
            .timed()
            .then(|| sum(|e| e.toggles_per_op) / sum_zero(&stages)),
        stages,
        caveat: match delay {
            Delay::Zero => pelab_sim::energy::GLITCH_CAVEAT,
            Delay::Unit => UNIT_DELAY_CAVEAT,
            Delay::Liberty => LIBERTY_DELAY_CAVEAT,
        }
        .into(),
    })
}

/// The length of a row in time units and one time unit in ps: under Liberty delays (quanta of
/// `resolution_ps`), the clock period or, when longer, the longest path `bound` plus one
/// quantum; under unit delay (one unit, 1000 ps nominal), the depth plus 2 as in the Icarus
/// unit-delay testbench; under zero delay (1 ps), the clock period.
pub fn row_period(
    net: &Netlist,
    delay: Delay,
    bound: u32,
    resolution_ps: u32,
    freq_ghz: f64,
) -> (u32, u32) {
    let clock_ps = (1e3 / freq_ghz).round().max(1.0);
    match delay {
        Delay::Zero => (clock_ps as u32, 1),
        Delay::Unit => (net.depth as u32 + 2, 1000),
        Delay::Liberty => {
            let clock = (clock_ps / resolution_ps as f64).ceil() as u32;
            (clock.max(bound + 1), resolution_ps)
        }
    }
}

/// Zero-delay toggles per operation of all stages.
fn sum_zero(stages: &[StageEnergy]) -> f64 {
    stages.iter().filter_map(|s| s.toggles_zero_delay).sum()
}

/// `timed / zero` (1 when neither toggles; infinite when only glitches toggle).
fn ratio(timed: u64, zero: u64) -> f64 {
    if timed == zero {
        1.0
    } else {
        timed as f64 / zero as f64
    }
}

/// The glitch factor of one part of a stage.
#[derive(Debug, Clone, Serialize)]
pub struct PartGlitch {
    /// Instance path in the RTL hierarchy (`front.mul`), or `(top)` for cells of the top
    /// module itself.
    pub part: String,
    /// Cells of the part.
    pub cells: usize,
    /// Unit-delay toggles per operation.
    pub toggles_per_op: f64,
    /// Zero-delay toggles per operation.
    pub toggles_zero_delay: f64,
    /// `toggles_per_op / toggles_zero_delay`.
    pub glitch_factor: f64,
}

/// The glitch factors of one stage's parts.
#[derive(Debug, Clone, Serialize)]
pub struct StageParts {
    /// PE id of the hardware.
    pub pe: String,
    /// Module.
    pub module: String,
    /// Role in the workload.
    pub role: String,
    /// Cells of the module-by-module netlist.
    pub cells: usize,
    /// Glitch factor of the whole module-by-module netlist.
    pub glitch_factor: f64,
    /// Parts, in order of the RTL instance path.
    pub parts: Vec<PartGlitch>,
}

/// The part of a cell of a netlist mapped module by module and then flattened: the instance
/// path Yosys' `flatten` puts in front of the name (`$flatten\front.\mul.$abc$...` is in
/// `front.mul`), or `(top)`.
pub fn part_of(cell: &str) -> String {
    let rest = cell.strip_prefix("$flatten").unwrap_or(cell);
    let path: Vec<&str> = rest
        .split('.')
        .map_while(|c| c.strip_prefix('\\'))
        .collect();
    if path.is_empty() {
        "(top)".into()
    } else {
        path.join(".")
    }
}

/// Glitch factors of the parts of `cfg` of PE `pe` under the workload of `req` (same
/// operands, same seed), at unit delay. The flat netlists priced by [`measure_with`] keep no
/// trace of the RTL hierarchy (ABC renames every cell), so the parts are counted on the netlist
/// mapped module by module to Yosys generic gates and then flattened
/// ([`crate::gates::synthesized_netlist_hierarchical`]): the same RTL without optimization
/// across module boundaries, whose whole glitch factor is given beside its parts.
pub fn glitch_by_part(
    pe: crate::pe::Pe,
    cfg: &RtlConfig,
    req: &Request,
) -> Result<Vec<StageParts>> {
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let ops = WorkloadOps {
        dist: req.dist,
        shape: req.shape,
        ops: req.ops,
    };
    let w = pe.vectors.workload(cfg, ops, &mut rng)?;
    let mut out = Vec::new();
    for s in &w.stages {
        let m = s.rtl.verilog(&s.cfg)?;
        let (net, _) = crate::gates::synthesized_netlist_hierarchical(&m.verilog, &m.name)?;
        let (_, act) = run_gates_with(&net, &s.layout, &s.rows, false, true, Delay::Unit)?;
        let mut parts: std::collections::BTreeMap<String, (usize, u64, u64)> =
            std::collections::BTreeMap::new();
        for c in &net.cells {
            parts.entry(part_of(&c.name)).or_default().0 += 1;
        }
        for ((&(_, ci), t), z) in net
            .counted
            .iter()
            .zip(&act.toggles)
            .zip(&act.zero_delay_toggles)
        {
            let p = parts.entry(part_of(&net.cells[ci].name)).or_default();
            p.1 += t;
            p.2 += z;
        }
        let per_op = |x: u64| x as f64 / w.ops as f64;
        out.push(StageParts {
            pe: s.rtl.id().to_string(),
            module: m.name.clone(),
            role: s.role.clone(),
            cells: net.cells.len(),
            glitch_factor: ratio(
                act.toggles.iter().sum(),
                act.zero_delay_toggles.iter().sum(),
            ),
            parts: parts
                .into_iter()
                .map(|(part, (cells, t, z))| PartGlitch {
                    part,
                    cells,
                    toggles_per_op: per_op(t),
                    toggles_zero_delay: per_op(z),
                    glitch_factor: ratio(t, z),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The `horowitz-45nm` table estimate of `cfg` of `pe` under `shape`. It reads no netlist,
/// so it exists whether or not Yosys is installed; `energy_pj` is `None` (and `detail` says
/// why) when the table has no rows for the operation.
pub fn table_estimate(pe: crate::pe::Pe, cfg: &RtlConfig, shape: Shape) -> TableEstimate {
    let accumulate = matches!(shape, Shape::Dot { .. });
    match pe
        .model
        .table_ops(&cfg.format, accumulate)
        .and_then(|(ops, note)| Ok((pelab_sim::horowitz::estimate(&ops)?, note)))
    {
        Ok((est, note)) => {
            let rows: Vec<String> = est
                .rows
                .iter()
                .map(|r| format!("{} {} ({} pJ)", r.operation, r.bits, r.energy_pj))
                .collect();
            let mut detail = format!("{}: {}", rows.join(" + "), note);
            for n in &est.notes {
                detail.push_str("; ");
                detail.push_str(n);
            }
            TableEstimate {
                energy_pj: Some(est.energy_pj),
                detail,
                provenance: pelab_sim::horowitz::PROVENANCE.into(),
            }
        }
        Err(e) => TableEstimate {
            energy_pj: None,
            detail: e.0,
            provenance: pelab_sim::horowitz::PROVENANCE.into(),
        },
    }
}

/// One anchor circuit priced at gate level beside Horowitz's figure.
#[derive(Debug, Clone, Serialize)]
pub struct Anchor {
    /// Horowitz's operation name (`int_add`, `int_mult`, `fp_mult`).
    pub operation: String,
    /// Width, bits.
    pub bits: u32,
    /// What was synthesized.
    pub circuit: String,
    /// Logic cells of the netlist.
    pub cells: usize,
    /// Gate-level energy per operation, pJ.
    pub gate_pj: f64,
    /// Horowitz's figure, pJ.
    pub horowitz_pj: f64,
    /// gate / Horowitz.
    pub ratio: f64,
    /// Whether Horowitz's row is on his original slide.
    pub original: bool,
}

/// The anchor circuits: `y = a + b` and `y = a * b` on n-bit integers (n = 8, 16, 32, full
/// result width, written as one line of Verilog each: rust-hdl multiplies only 16 x 16) and
/// pelab's own exact FP16 and FP32 multipliers, all through the same flow (Yosys generic
/// gates, the gate engine, `generic-45nm`) with `ops` uniformly random integer operands or
/// Gaussian float operands, each priced beside Horowitz's row.
pub fn anchors(ops: u64, seed: u64) -> Result<Vec<Anchor>> {
    use crate::vectors::{Field, Layout, Timing};
    use rand::Rng;
    let tech = Generic45::load()?;
    let table = pelab_sim::horowitz::table()?;
    let mut out = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut price = |operation: &str,
                     bits: u32,
                     circuit: String,
                     net: &Netlist,
                     layout: &Layout,
                     rows: &[Vec<u64>]|
     -> Result<()> {
        let (_, act) = run_gates(net, layout, rows, false, true)?;
        let e = energy(net, &tech, &act.activity(rows.len() as f64, 1.0), 1.0)?;
        let h = table
            .iter()
            .find(|r| r.operation == operation && r.bits == bits)
            .ok_or_else(|| Error::new(format!("horowitz-45nm has no {operation} {bits}")))?;
        out.push(Anchor {
            operation: operation.into(),
            bits,
            circuit,
            cells: net.cells.len(),
            gate_pj: e.total_pj,
            horowitz_pj: h.energy_pj,
            ratio: e.total_pj / h.energy_pj,
            original: h.original,
        });
        Ok(())
    };
    for (operation, sym) in [("int_add", "+"), ("int_mult", "*")] {
        for n in [8u32, 16, 32] {
            let ow = if sym == "+" { n + 1 } else { 2 * n };
            let name = format!(
                "pelab_anchor_{}{n}",
                if sym == "+" { "add" } else { "mult" }
            );
            let v = format!(
                "module {name}(input [{}:0] a, input [{}:0] b, output [{}:0] y);\n  \
                 assign y = a {sym} b;\nendmodule\n",
                n - 1,
                n - 1,
                ow - 1
            );
            let (net, _) = synthesized_netlist(&v, &name, None)?;
            let layout = Layout {
                fields: vec![
                    Field::input("a", n),
                    Field::input("b", n),
                    Field::output("y", ow),
                ],
                timing: Timing::Stream { latency: 0 },
                care: false,
                restart: Vec::new(),
            };
            let mask = (1u64 << n) - 1;
            let rows: Vec<Vec<u64>> = (0..ops)
                .map(|_| vec![rng.gen::<u64>() & mask, rng.gen::<u64>() & mask])
                .collect();
            price(
                operation,
                n,
                format!("y = a {sym} b ({n}-bit unsigned, {ow}-bit result)"),
                &net,
                &layout,
                &rows,
            )?;
        }
    }
    for (fmt, bits) in [("fp16", 16u32), ("fp32", 32)] {
        let cfg = RtlConfig::new(fmt, "ieee", 0);
        let pe = crate::pe::pe("fpmul")?;
        let (net, _, module) = netlist_of(pe.rtl, &cfg, &Tech::Generic45, None)?;
        let gaussian = WorkloadOps {
            dist: Dist::Gaussian,
            shape: Shape::Elementwise,
            ops,
        };
        let w = pe.vectors.workload(&cfg, gaussian, &mut rng)?;
        let s = &w.stages[0];
        price(
            "fp_mult",
            bits,
            format!("{module} (exact RNE multiply, Gaussian operands)"),
            &net,
            &s.layout,
            &s.rows,
        )?;
    }
    Ok(out)
}
