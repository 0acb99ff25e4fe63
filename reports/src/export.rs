//! Gate-level energies for architecture-level models: an Accelergy energy reference table
//! (ERT, YAML) and the same entries as CSV rows (for ZigZag, STONNE or a spreadsheet).
//!
//! One component per measured configuration, with these actions:
//! - the PE's operation as pelab counts it (`mac`, `multiply`): dynamic + clock energy of one
//!   operation at the measured activity;
//! - `idle`: dynamic + clock energy of one clock cycle with the inputs held and no operation
//!   issued, measured on the same netlist ([`measure_idle`]); omitted, with the reason in the
//!   component's attributes, when the PE offers no way to hold it idle;
//! - `leak`: leakage energy of one clock cycle at the measured frequency.
//!
//! Actions leave leakage out and `leak` is charged on every cycle, busy or idle, as Accelergy
//! and Timeloop do. Every entry carries its unit and provenance; a missing or non-finite figure
//! is an error.

use pelab_hdl::RtlConfig;
use pelab_sim::energy::{energy, Activity};
use pelab_sim::liberty::Library;
use pelab_sim::{Error, Result};
use pelab_testbench::codec::WorkloadOps;
use pelab_testbench::energy::{netlist_of, Measurement, PricedTech, Request};
use pelab_testbench::gates::run_gates;
use pelab_testbench::vectors::Timing;
use pelab_testbench::Pe;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Accelergy ERT format version written (read by Accelergy 0.3 and 0.4).
pub const ERT_VERSION: f64 = 0.3;

/// Columns of [`to_csv`].
pub const CSV_COLUMNS: [&str; 8] = [
    "component",
    "action",
    "energy_pj",
    "unit",
    "technology",
    "activity",
    "frequency_ghz",
    "source",
];

/// An export format of `pelab energy --export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Accelergy energy reference table (YAML).
    Accelergy,
    /// One CSV row per action.
    Csv,
}

impl ExportFormat {
    /// The names [`ExportFormat::parse`] accepts.
    pub const NAMES: [&'static str; 2] = ["accelergy", "csv"];

    /// Parses a format name; the error lists the valid ones.
    pub fn parse(s: &str) -> Result<ExportFormat> {
        match s {
            "accelergy" => Ok(ExportFormat::Accelergy),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(Error::new(format!(
                "unknown export format '{s}'; valid: {}",
                Self::NAMES.join(", ")
            ))),
        }
    }
}

/// Cycles of held inputs before the counted idle cycles (the transition into the held state).
const IDLE_SETTLE: usize = 64;
/// Idle cycles counted.
const IDLE_CYCLES: usize = 4096;
/// Inputs that issue an operation: 0 on an idle cycle.
const ISSUE_INPUTS: [&str; 2] = ["en", "in_valid"];
/// Control inputs held at 0 on an idle cycle (besides the layout's restart inputs).
const CONTROL_INPUTS: [&str; 3] = ["reset", "clear", "in_last"];

/// Energy of one idle clock cycle of every stage together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleCycle {
    /// Dynamic (switching + internal) energy per idle cycle, pJ.
    pub dynamic_pj: f64,
    /// Flip-flop clock energy per idle cycle, pJ.
    pub clock_pj: f64,
    /// Leakage energy per cycle, pJ (the same as in the measurement: leakage does not depend
    /// on activity).
    pub leakage_pj: f64,
    /// Idle cycles counted.
    pub cycles: u64,
    /// Net toggles per idle cycle.
    pub toggles_per_cycle: f64,
    /// How the PE was held idle.
    pub held: String,
}

/// The idle measurement, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Idle {
    /// Measured on the netlist.
    Measured(IdleCycle),
    /// Not measurable; the reason.
    Omitted(String),
}

/// Measures an idle cycle of `cfg` of `pe` under the technology, frequency and seed of `req`.
///
/// Each stage's inputs are held at the last row of the workload `req` describes, with the
/// issue inputs (`en`, `in_valid`) and the control inputs (`reset`, `clear`, restarts) at 0;
/// toggles and clock cycles are counted on the stage's netlist over [`IDLE_CYCLES`] cycles
/// after [`IDLE_SETTLE`] cycles of settling (the difference of two runs, so the transition
/// into the held state is not counted). A stateful stage without an issue input cannot be held
/// idle (its held operands would still be accumulated): the result is then
/// [`Idle::Omitted`] with the reason.
pub fn measure_idle(pe: Pe, cfg: &RtlConfig, req: &Request, lib: Option<&Library>) -> Result<Idle> {
    let priced = PricedTech::of(req, lib, "measuring idle cycles")?;
    let tech = priced.get();
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let ops = WorkloadOps {
        dist: req.dist,
        shape: req.shape,
        ops: req.ops,
    };
    let w = pe.vectors.workload(cfg, ops, &mut rng)?;
    let mut total = IdleCycle {
        dynamic_pj: 0.0,
        clock_pj: 0.0,
        leakage_pj: 0.0,
        cycles: IDLE_CYCLES as u64,
        toggles_per_cycle: 0.0,
        held: String::new(),
    };
    let mut held_notes = Vec::new();
    for s in &w.stages {
        let inputs: Vec<&str> = s.layout.inputs().map(|f| f.name.as_str()).collect();
        let issue: Vec<&str> = inputs
            .iter()
            .copied()
            .filter(|n| ISSUE_INPUTS.contains(n))
            .collect();
        let stateful = matches!(s.layout.timing, Timing::Cycles);
        if stateful && issue.is_empty() {
            return Ok(Idle::Omitted(format!(
                "{} ({}) has no issue input ({}): with its inputs held it keeps operating, so an \
                 idle cycle cannot be measured",
                s.rtl.id(),
                s.role,
                ISSUE_INPUTS.join(" or ")
            )));
        }
        let last = s.rows.last().ok_or_else(|| {
            Error::new(format!(
                "{} ({}): the workload has no rows",
                s.rtl.id(),
                s.role
            ))
        })?;
        if last.len() < inputs.len() {
            return Err(Error::new(format!(
                "{} ({}): a workload row has {} columns; the layout has {} inputs",
                s.rtl.id(),
                s.role,
                last.len(),
                inputs.len()
            )));
        }
        let held: Vec<u64> = inputs
            .iter()
            .zip(last)
            .map(|(n, &v)| {
                let off = ISSUE_INPUTS.contains(n)
                    || CONTROL_INPUTS.contains(n)
                    || s.layout.restart.iter().any(|r| r == n);
                if off {
                    0
                } else {
                    v
                }
            })
            .collect();
        let zeroed: Vec<&str> = inputs
            .iter()
            .copied()
            .filter(|n| {
                ISSUE_INPUTS.contains(n)
                    || CONTROL_INPUTS.contains(n)
                    || s.layout.restart.iter().any(|r| r == n)
            })
            .collect();
        held_notes.push(if zeroed.is_empty() {
            format!(
                "{} ({}): every input held at the workload's last operands",
                s.rtl.id(),
                s.role
            )
        } else {
            format!(
                "{} ({}): {} = 0, data inputs held at the workload's last operands",
                s.rtl.id(),
                s.role,
                zeroed.join(" = ")
            )
        });
        let (net, _, _) = netlist_of(s.rtl, &s.cfg, &req.tech, lib)?;
        let run = |n: usize| run_gates(&net, &s.layout, &vec![held.clone(); n], false, true);
        let (_, short) = run(1 + IDLE_SETTLE)?;
        let (_, long) = run(1 + IDLE_SETTLE + IDLE_CYCLES)?;
        let toggles = long
            .toggles
            .iter()
            .zip(&short.toggles)
            .map(|(&l, &s)| {
                l.checked_sub(s)
                    .ok_or_else(|| Error::new("idle run: a longer run counted fewer toggles"))
            })
            .collect::<Result<Vec<u64>>>()?;
        let lane_cycles = long
            .lane_cycles
            .checked_sub(short.lane_cycles)
            .ok_or_else(|| Error::new("idle run: a longer run counted fewer clock cycles"))?;
        let e = energy(
            &net,
            tech,
            &Activity {
                toggles: &toggles,
                lane_cycles,
                ops: IDLE_CYCLES as f64,
                cycles_per_op: 1.0,
            },
            req.freq_ghz,
        )?;
        total.dynamic_pj += e.dynamic_pj;
        total.clock_pj += e.clock_pj;
        total.leakage_pj += e.leakage_pj;
        total.toggles_per_cycle += e.toggles_per_op;
    }
    total.held = held_notes.join("; ");
    Ok(Idle::Measured(total))
}

/// Where an entry's figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Technology: name and the cell figures' source (table file or Liberty library path).
    pub technology: String,
    /// The technology's provenance lines (cells, energy rules, load model).
    pub technology_detail: Vec<String>,
    /// Activity: operands, workload, seed, operations simulated.
    pub activity: String,
    /// Clock frequency, GHz.
    pub frequency_ghz: f64,
    /// How the figure was obtained.
    pub method: String,
    /// The zero-delay caveat.
    pub caveat: String,
    /// Tool and version.
    pub generator: String,
}

/// One action of an ERT table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErtAction {
    /// Action name (`mac`, `multiply`, `idle`, `leak`).
    pub name: String,
    /// Action arguments (none: written as `null`, as Accelergy writes argument-free actions).
    pub arguments: Option<BTreeMap<String, f64>>,
    /// Energy per action, pJ.
    pub energy: f64,
    /// Unit of `energy` (`pJ/MAC`, `pJ/cycle`, ...).
    pub unit: String,
    /// What one action is.
    pub description: String,
    /// Provenance.
    pub source: Source,
}

/// Attributes of the exported component (ignored by Accelergy's ERT reader, kept for people).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentAttributes {
    /// Component class: the PE id.
    pub class: String,
    /// Number format.
    pub format: String,
    /// Overflow / accumulation policy.
    pub policy: String,
    /// Structure variant (empty when the PE has one).
    pub variant: String,
    /// Register stages.
    pub pipeline: u32,
    /// Hardware stages measured (PE id and role).
    pub stages: Vec<String>,
    /// What one operation is.
    pub operation: String,
    /// Technology name.
    pub technology: String,
    /// Supply voltage, V.
    pub voltage_v: f64,
    /// Clock frequency, GHz.
    pub frequency_ghz: f64,
    /// Cell area of all stages, µm².
    pub area_um2: f64,
    /// Clock cycles per operation (the longest stage).
    pub cycles_per_op: f64,
    /// The measurement per operation, pJ: dynamic, clock, leakage and their total.
    pub dynamic_pj_per_op: f64,
    /// Clock energy per operation, pJ.
    pub clock_pj_per_op: f64,
    /// Leakage energy per operation, pJ.
    pub leakage_pj_per_op: f64,
    /// Total energy per operation, pJ.
    pub total_pj_per_op: f64,
    /// How the actions add up.
    pub convention: String,
    /// Actions left out, with the reason.
    pub omitted: Vec<String>,
}

/// One table (component) of an ERT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErtTable {
    /// Component name.
    pub name: String,
    /// Its attributes.
    pub attributes: ComponentAttributes,
    /// Its actions.
    pub actions: Vec<ErtAction>,
}

/// The body of an ERT file (under its top key `ERT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ert {
    /// Format version.
    pub version: f64,
    /// Tables, one per component.
    pub tables: Vec<ErtTable>,
}

/// An Accelergy ERT file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErtFile {
    /// The table.
    #[serde(rename = "ERT")]
    pub ert: Ert,
}

/// The component name of a configuration: `pelab_<pe>_<format>_<policy>`, then the variant
/// and `p<pipeline>` when set, with every character other than letters, digits and `_`
/// replaced by `_` (Accelergy reads `.` and `[..]` in names as hierarchy and lists).
pub fn component_name(pe: &str, cfg: &RtlConfig) -> String {
    let mut parts = vec!["pelab", pe, &cfg.format, &cfg.policy];
    if !cfg.variant.is_empty() {
        parts.push(&cfg.variant);
    }
    let p = format!("p{}", cfg.pipeline);
    if cfg.pipeline > 0 {
        parts.push(&p);
    }
    parts
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Checks that a figure is a finite, non-negative number.
fn figure(what: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::new(format!(
            "{what} is {v}: every exported figure must be a finite, non-negative number"
        )))
    }
}

/// Checks that a provenance text is present.
fn text(what: &str, v: String) -> Result<String> {
    if v.trim().is_empty() {
        Err(Error::new(format!(
            "{what} is empty: every exported entry states its provenance"
        )))
    } else {
        Ok(v)
    }
}

/// Builds the ERT of a measurement: `m` (from `pelab energy`), its `workload` as the user
/// named it, the idle measurement, and the Liberty file when the gates were priced with one.
pub fn build_ert(
    m: &Measurement,
    workload: &str,
    idle: &Idle,
    liberty: Option<&Path>,
) -> Result<Ert> {
    let first = m.stages.first().ok_or_else(|| {
        Error::new(format!(
            "{} {}: the measurement has no stages",
            m.pe, m.config.format
        ))
    })?;
    let freq = first.energy.freq_ghz;
    if m.stages.iter().any(|s| s.energy.freq_ghz != freq) {
        return Err(Error::new(
            "the stages of the measurement were priced at different frequencies",
        ));
    }
    let tech_detail = first.energy.provenance.clone();
    let cells = tech_detail.first().cloned().unwrap_or_default();
    let technology = text(
        "technology",
        match liberty {
            Some(p) => format!("{} (Liberty file {}); {cells}", m.tech, p.display()),
            None => format!("{}; {cells}", m.tech),
        },
    )?;
    if tech_detail.is_empty() {
        return Err(Error::new(format!(
            "technology {} gave no provenance for its figures",
            m.tech
        )));
    }
    let activity = text(
        "activity",
        format!(
            "{} operands, workload {workload}, seed {}, {} operations ({}) simulated at gate level",
            m.dist.name(),
            m.seed,
            m.ops,
            m.op_name
        ),
    )?;
    let generator = format!("pelab {} energy", env!("CARGO_PKG_VERSION"));
    let source = |method: String| -> Result<Source> {
        Ok(Source {
            technology: technology.clone(),
            technology_detail: tech_detail.clone(),
            activity: activity.clone(),
            frequency_ghz: figure("frequency (GHz)", freq)?,
            method: text("method", method)?,
            caveat: text("caveat", m.caveat.clone())?,
            generator: generator.clone(),
        })
    };
    let stages: Vec<String> = m
        .stages
        .iter()
        .map(|s| format!("{} ({})", s.pe, s.role))
        .collect();
    let op = m.op_name.to_lowercase().replace(' ', "_");
    let op_unit = format!("pJ/{}", m.op_name);
    // Leakage per cycle of every stage together (each stage leaks on every cycle).
    let leak = m
        .stages
        .iter()
        .map(|s| {
            let e = &s.energy;
            figure(
                &format!("cycles per operation of {}", s.pe),
                e.cycles_per_op,
            )
            .and_then(|c| {
                if c > 0.0 {
                    Ok(e.leakage_pj / c)
                } else {
                    Err(Error::new(format!(
                        "stage {} has no cycles per operation to divide its leakage by",
                        s.pe
                    )))
                }
            })
        })
        .sum::<Result<f64>>()?;
    let cycles_per_op = m
        .stages
        .iter()
        .map(|s| s.energy.cycles_per_op)
        .fold(0.0, f64::max);
    let mut actions = vec![ErtAction {
        name: op.clone(),
        arguments: None,
        energy: figure(
            &format!("energy per {}", m.op_name),
            m.dynamic_pj + m.clock_pj,
        )?,
        unit: op_unit.clone(),
        description: format!(
            "one {} of {} at the measured activity: dynamic + clock energy of every stage ({}), \
             leakage excluded (see leak)",
            m.op_name,
            m.pe,
            stages.join(" + ")
        ),
        source: source(format!(
            "gate level: toggles of the synthesized netlist counted over {} operations, priced \
             per toggle; clock energy of every flip-flop per cycle",
            m.ops
        ))?,
    }];
    let mut omitted = Vec::new();
    match idle {
        Idle::Measured(i) => actions.push(ErtAction {
            name: "idle".into(),
            arguments: None,
            energy: figure("idle energy per cycle", i.dynamic_pj + i.clock_pj)?,
            unit: "pJ/cycle".into(),
            description: "one clock cycle with no operation issued and the inputs held: \
                          dynamic + clock energy, leakage excluded (see leak)"
                .into(),
            source: source(format!(
                "gate level: {} cycles counted after settling; {}; {:.3} toggles per cycle",
                i.cycles, i.held, i.toggles_per_cycle
            ))?,
        }),
        Idle::Omitted(why) => omitted.push(format!("idle: {why}")),
    }
    actions.push(ErtAction {
        name: "leak".into(),
        arguments: None,
        energy: figure("leakage per cycle", leak)?,
        unit: "pJ/cycle".into(),
        description: format!(
            "leakage of every cell of every stage over one clock period at {freq} GHz; charged \
             on every cycle, busy or idle"
        ),
        source: source(
            "cell leakage power of the technology × one clock period, summed over the netlist"
                .into(),
        )?,
    });
    let attributes = ComponentAttributes {
        class: m.pe.clone(),
        format: m.config.format.clone(),
        policy: m.config.policy.clone(),
        variant: m.config.variant.clone(),
        pipeline: m.config.pipeline,
        stages,
        operation: m.op_name.clone(),
        technology: m.tech.clone(),
        voltage_v: figure("supply voltage", first.energy.voltage)?,
        frequency_ghz: freq,
        area_um2: figure("area", m.area_um2)?,
        cycles_per_op: figure("cycles per operation", cycles_per_op)?,
        dynamic_pj_per_op: figure("dynamic energy per operation", m.dynamic_pj)?,
        clock_pj_per_op: figure("clock energy per operation", m.clock_pj)?,
        leakage_pj_per_op: figure("leakage energy per operation", m.leakage_pj)?,
        total_pj_per_op: figure("total energy per operation", m.total_pj)?,
        convention: format!(
            "energies in pJ; {op} and idle exclude leakage; leak is charged on every cycle, so \
             one {} at full rate costs {op} + leak × cycles_per_op",
            m.op_name
        ),
        omitted,
    };
    Ok(Ert {
        version: ERT_VERSION,
        tables: vec![ErtTable {
            name: component_name(&m.pe, &m.config),
            attributes,
            actions,
        }],
    })
}

/// The ERT as an Accelergy YAML file, after a comment header.
pub fn to_accelergy_yaml(ert: &Ert) -> Result<String> {
    let body = serde_yaml::to_string(&ErtFile { ert: ert.clone() })
        .map_err(|e| Error::new(format!("cannot write the ERT as YAML: {e}")))?;
    let mut out = format!(
        "# Accelergy energy reference table (ERT format {ERT_VERSION}) written by pelab {}.\n\
         # Gate-level energies, pJ; every action carries its unit and source. Actions exclude\n\
         # leakage: charge `leak` on every clock cycle, busy or idle.\n",
        env!("CARGO_PKG_VERSION")
    );
    for t in &ert.tables {
        out.push_str(&format!(
            "# {}: {} {} {}, {}\n",
            t.name,
            t.attributes.class,
            t.attributes.format,
            t.attributes.policy,
            t.attributes.technology
        ));
    }
    out.push_str(&body);
    Ok(out)
}

/// The ERT's entries as CSV: a header ([`CSV_COLUMNS`]) and one row per action.
pub fn to_csv(ert: &Ert) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::new(format!("cannot write the CSV export: {e}"));
    w.write_record(CSV_COLUMNS).map_err(err)?;
    for t in &ert.tables {
        for a in &t.actions {
            let s = &a.source;
            let source = format!(
                "{}; method: {}; {}; caveat: {}",
                s.technology_detail.join("; "),
                s.method,
                s.generator,
                s.caveat
            );
            w.write_record([
                t.name.as_str(),
                a.name.as_str(),
                &a.energy.to_string(),
                a.unit.as_str(),
                s.technology.as_str(),
                s.activity.as_str(),
                &s.frequency_ghz.to_string(),
                source.as_str(),
            ])
            .map_err(err)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::new(format!("cannot write the CSV export: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::new(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_format_names_round_trip_and_errors_list_them() {
        for n in ExportFormat::NAMES {
            assert!(ExportFormat::parse(n).is_ok(), "{n}");
        }
        let e = ExportFormat::parse("xml").unwrap_err().0;
        assert!(e.contains("accelergy") && e.contains("csv"), "{e}");
    }

    #[test]
    fn component_names_have_no_hierarchy_characters() {
        let cfg = RtlConfig::new("e4m3", "sat.x[1]", 2).with_variant("core");
        let n = component_name("lmul", &cfg);
        assert_eq!(n, "pelab_lmul_e4m3_sat_x_1__core_p2");
        assert!(!n.contains('.') && !n.contains('['));
    }

    #[test]
    fn non_finite_figures_are_errors() {
        assert!(figure("x", f64::NAN).is_err());
        assert!(figure("x", -1.0).is_err());
        assert!(figure("x", f64::INFINITY).is_err());
        assert_eq!(figure("x", 0.0).unwrap(), 0.0);
        assert!(text("t", " ".into()).is_err());
    }
}
