//! Stage 3: Yosys synthesis of the pipeline-0 configurations (generic gates and iCE40): its
//! table, plot and summary section.

use super::emit::{quick_set, Module};
use super::{parallel, Progress, ReportOpts};
use crate::plots::{BarSeries, Bars, Figure, Panel};
use crate::table::{md_head, md_row};
use crate::Table;
use pelab_hdl::{Flow, RtlConfig, SynthReport};
use pelab_sim::Result;
use serde_json::{json, Value};

/// One configuration's synthesis.
pub(crate) struct Synth {
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
        .filter(|(_, m)| m.cfg.pipeline == 0 && (!o.quick || quick_set(m.pe.rtl).contains(&m.cfg)))
        .map(|(i, _)| i)
        .collect()
}

/// Synthesizes the pipeline-0 configurations of the run with both flows.
pub(crate) fn synthesize_all(
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
            m.pe.rtl
                .verilog(&m.cfg)
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

/// The synthesis results as a table.
pub(crate) fn synthesis_table(s: &[Synth]) -> Result<Table> {
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

/// The gate-count and LUT plot, when anything was synthesized.
pub(crate) fn figure(synth: &[Synth]) -> Option<Figure> {
    let ok: Vec<&Synth> = synth
        .iter()
        .filter(|r| r.generic.is_ok() || r.ice40.is_ok())
        .collect();
    if ok.is_empty() {
        return None;
    }
    {
        Some(Figure {
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
        })
    }
}

/// The summary's synthesis section.
pub(crate) fn markdown(o: &ReportOpts, synth: &[Synth]) -> String {
    let mut s = String::new();
    s.push_str("## Synthesis\n\n");
    if synth.is_empty() {
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
        for r in synth {
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

    s
}
