//! Stage 4: energy per operation of every PE configuration, at gate level beside the table
//! method, and the anchor circuits: tables, plot and summary section.

use super::emit::first_per_format;
use super::study::lmul::DOT_K;
use super::{parallel, Progress, ReportOpts};
use crate::plots::{short, BarSeries, Bars, Figure, Panel};
use crate::table::{fnum, md_head, md_row, md_table, opt_short, Shown};
use crate::Table;
use pelab_hdl::RtlConfig;
use pelab_sim::Result;
use pelab_testbench::codec::{Dist, Shape, WorkloadSpec};
use pelab_testbench::energy::{table_estimate, Measurement, Request, TableEstimate, Tech};
use pelab_testbench::Pe;
use serde_json::{json, Value};
/// An energy job: a PE configuration under a workload shape.
pub(crate) struct EnergyJob {
    pub pe: Pe,
    pub cfg: RtlConfig,
    pub shape: Shape,
}

/// A finished energy job: the gate-level measurement (or why there is none) and the table
/// estimate, which needs no netlist and so exists without Yosys.
pub(crate) struct Energy {
    pub pe: Pe,
    pub cfg: RtlConfig,
    pub shape: Shape,
    pub m: std::result::Result<Measurement, String>,
    pub table: TableEstimate,
}

/// Operations simulated per measurement: the library's default
/// ([`WorkloadSpec::DEFAULT_OPS`]), an eighth of it in the quick run.
pub(crate) fn ops(o: &ReportOpts) -> u64 {
    if o.quick {
        WorkloadSpec::DEFAULT_OPS / 8
    } else {
        WorkloadSpec::DEFAULT_OPS
    }
}

/// Measures every PE's elementwise energy (first configuration per format), then the studies'
/// own jobs (`extra`). `gates` is `Err(why)` when the gate level cannot run (no Yosys): the
/// table estimates are still made, and every gate-level figure says why it is missing.
pub(crate) fn measure_all(
    o: &ReportOpts,
    extra: Vec<EnergyJob>,
    gates: std::result::Result<(), String>,
    progress: &dyn Progress,
) -> Result<Vec<Energy>> {
    let mut jobs = Vec::new();
    for pe in pelab_testbench::pes() {
        for cfg in first_per_format(pe.rtl) {
            jobs.push(EnergyJob {
                pe,
                cfg,
                shape: Shape::Elementwise,
            });
        }
    }
    jobs.extend(extra);
    progress.stage("energy", jobs.len() as u64);
    let r = parallel(&jobs, |j| {
        let m = match &gates {
            Err(why) => Err(pelab_sim::Error::new(why.clone())),
            Ok(()) => pelab_testbench::energy::measure(
                j.pe,
                &j.cfg,
                &Request {
                    tech: Tech::Generic45,
                    dist: Dist::Gaussian,
                    shape: j.shape,
                    ops: ops(o),
                    seed: o.seed,
                    freq_ghz: 1.0,
                    wire_ff: 0.5,
                },
                None,
            ),
        };
        progress.step(&format!("{} {} {}", j.pe.id(), j.cfg.format, j.shape));
        Energy {
            pe: j.pe,
            cfg: j.cfg.clone(),
            shape: j.shape,
            table: table_estimate(j.pe, &j.cfg, j.shape),
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
pub(crate) fn gate_source(o: &ReportOpts) -> String {
    format!(
        "gate level: generic-45nm (Yosys generic gates priced with Nangate 45 nm Open Cell \
         Library figures, typical corner, 1.1 V; zero-delay toggle counts), {} Gaussian \
         operations, seed {}, 1 GHz",
        ops(o),
        o.seed
    )
}

pub(crate) const TABLE_SOURCE: &str =
    "table: horowitz-45nm (Horowitz, ISSCC 2014, 45 nm: the L-Mul \
     paper's table method)";

/// Every energy measurement as a table.
pub(crate) fn energy_table(o: &ReportOpts, e: &[Energy]) -> Result<Table> {
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
            json!(r.pe.id()),
            json!(r.cfg.format),
            json!(r.cfg.policy),
            json!(r.cfg.variant),
            json!(r.shape.to_string()),
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
                    r.table.energy_pj.map_or(Value::Null, fnum),
                    json!(r.table.detail),
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
                    r.table.energy_pj.map_or(Value::Null, fnum),
                    json!(r.table.detail),
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

/// The anchor circuits as a table.
pub(crate) fn anchor_table(o: &ReportOpts, a: &[pelab_testbench::energy::Anchor]) -> Result<Table> {
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
            ops(o),
            o.seed
        ),
        TABLE_SOURCE.into(),
    ];
    Ok(t)
}

/// The energy-per-operation plot, when anything was measured.
pub(crate) fn figure(o: &ReportOpts, e: &[Energy]) -> Option<Figure> {
    let mut cats = Vec::new();
    let (mut gate, mut table) = (Vec::new(), Vec::new());
    for r in e {
        let gate_pj = r.m.as_ref().ok().map(|m| m.total_pj);
        if gate_pj.is_none() && r.table.energy_pj.is_none() {
            continue;
        }
        let variant = if r.cfg.variant.is_empty() {
            String::new()
        } else {
            format!(" {}", r.cfg.variant)
        };
        let what = match r.shape {
            Shape::Elementwise => match &r.m {
                Ok(m) => format!("per {}", m.op_name),
                Err(_) => "per operation".into(),
            },
            Shape::Dot { k } => format!("multiply + FP32 accumulate, dot {k}"),
        };
        cats.push(format!(
            "{} {}{} ({what})",
            r.pe.id(),
            r.cfg.format,
            variant
        ));
        gate.push(gate_pj);
        table.push(r.table.energy_pj);
    }
    if cats.is_empty() {
        return None;
    }
    {
        Some(Figure {
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
                missing: "no figure".into(),
            })],
            notes: vec![
                format!(
                    "Gate level: Yosys generic gates, pelab's zero-delay gate simulator, {} \
                     Gaussian operations, seed {}, 1 GHz (glitches not counted).",
                    ops(o),
                    o.seed
                ),
                "Table: Horowitz, ISSCC 2014, 45 nm (the L-Mul paper's method). Data: \
                 energy.csv."
                    .into(),
            ],
            width: 1400,
        })
    }
}

/// The summary's energy section: every measurement, then the studies' energy sections
/// (`studies`), then the anchors.
pub(crate) fn markdown(
    o: &ReportOpts,
    energy: &[Energy],
    studies: &str,
    anchors: Option<&Table>,
) -> Result<String> {
    let mut s = String::new();
    s.push_str("## Energy\n\n");
    if energy.is_empty() {
        s.push_str("Not measured.\n\n");
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
        for r in energy {
            let pv = if r.cfg.variant.is_empty() {
                r.cfg.policy.clone()
            } else {
                format!("{} / {}", r.cfg.policy, r.cfg.variant)
            };
            match &r.m {
                Ok(m) => s.push_str(&md_row(&[
                    r.pe.id().into(),
                    r.cfg.format.clone(),
                    pv,
                    format!("{} (per {})", r.shape, m.op_name),
                    short(m.total_pj),
                    opt_short(r.table.energy_pj),
                    opt_short(r.table.energy_pj.map(|h| m.total_pj / h)),
                    format!("{:.0}", m.area_um2),
                ])),
                Err(e) => s.push_str(&md_row(&[
                    r.pe.id().into(),
                    r.cfg.format.clone(),
                    pv,
                    r.shape.to_string(),
                    format!("not measured: {e}"),
                    opt_short(r.table.energy_pj),
                    "—".into(),
                    "—".into(),
                ])),
            }
        }
        s.push_str("\nData: `energy.csv` (dynamic, clock and leakage parts, toggles, the table rows used). Plot: `energy.png`, `energy.svg`.\n\n");
        // The int16fma figures per instruction.
        for r in energy.iter().filter(|r| r.pe.id() == "int16fma") {
            if let Ok(m) = &r.m {
                s.push_str(&format!(
                    "- int16fma {} {}: {} pJ per MAC, {} pJ per VPDPWSSD{} (two MACs) at gate \
                     level; table {} pJ per MAC.\n",
                    r.cfg.variant,
                    r.cfg.policy,
                    short(m.total_pj),
                    short(2.0 * m.total_pj),
                    if r.cfg.policy == "saturate" { "S" } else { "" },
                    opt_short(r.table.energy_pj)
                ));
            }
        }
        s.push('\n');
        s.push_str(studies);
        if let Some(a) = anchors {
            s.push_str("### Anchors: the two estimators on basic operations\n\n");
            s.push_str(
                "The same gate-level flow on plain integer adders and multipliers and pelab's \
                 exact FP16/FP32 multipliers, beside Horowitz's figure for the same operation \
                 (generic-45nm is at 1.1 V, Horowitz's table at about 0.9 V).\n\n",
            );
            s.push_str(&md_table(
                a,
                &[
                    ("operation", "operation", Shown::Text),
                    ("bits", "bits", Shown::Text),
                    ("cells", "cells", Shown::Text),
                    ("gate pJ", "gate_pj", Shown::Short),
                    ("table pJ", "horowitz_pj", Shown::Short),
                    ("gate / table", "ratio", Shown::Short),
                ],
            )?);
            s.push_str("\nData: `energy_anchors.csv`.\n\n");
        }
    }

    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names_are_what_the_command_line_reads() {
        for s in [Shape::Elementwise, Shape::Dot { k: DOT_K }] {
            assert_eq!(WorkloadSpec::parse(&s.to_string()).unwrap().shape(), s);
        }
    }
}
