//! PE arrays: per PE an output-stationary array (8x8; 2x2 in the quick run) — its gates,
//! iCE40 LUTs and Xilinx 7-series LUTs, flip-flops, carry cells and DSPs, its energy per MAC at gate level beside the lone PE's on the same GEMMs, and the
//! cycles of a 64x64x64 GEMM (8x8x8 quick) in RTL against the model and SCALE-Sim's closed
//! form.

use super::{figure, Results, Study};
use crate::plots::{short, Figure};
use crate::report::{parallel, Claim, ReportOpts};
use crate::table::{cell_str, fnum, md, md_head, md_row, opt_short, pct, Table};
use pelab_hdl::array::cell::{cell, CellSpec};
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_hdl::Flow;
use pelab_sim::array::{timing_with, ArrayDims, GemmDims};
use pelab_sim::Result;
use pelab_testbench::array as tb;
use pelab_testbench::{Simulator, Status};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// The table's name.
const TABLE: &str = "arrays";
/// One cell per PE.
const CELLS: [(&str, &str, &str); 5] = [
    ("lmul", "e4m3", "saturate"),
    ("fpmul", "e4m3", "saturate"),
    ("fp16mac", "fp16", "ieee"),
    ("int16fma", "int16", "wrap"),
    ("bitmod", "fp16", "bitmod34"),
];
/// The quick run's cells.
const QUICK_CELLS: [(&str, &str, &str); 2] =
    [("lmul", "e4m3", "saturate"), ("int16fma", "int16", "wrap")];
/// Clock of the energy figures, GHz.
const FREQ_GHZ: f64 = 1.0;

/// The arrays study.
pub(crate) struct Arrays;

/// The array side and the cycle-count GEMM of a run.
fn sizes(o: &ReportOpts) -> (usize, usize) {
    if o.quick {
        (2, 8)
    } else {
        (8, 64)
    }
}

/// Whether `tool` is installed, or why not.
fn have(tool: &str) -> std::result::Result<(), String> {
    pelab_hdl::tools::require_tool(tool)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// One row of the table: every measurement of one array, `null` (and a note) where a tool is
/// missing or a step failed.
fn measure(c: &CellSpec, n: usize, gk: usize, seed: u64) -> Result<Vec<Value>> {
    let spec = ArraySpec::new(c.clone(), Dataflow::Os, n, n)?;
    let mut notes = Vec::new();
    let g = GemmDims {
        m: gk,
        k: gk,
        n: gk,
    };
    let t = timing_with(
        Dataflow::Os,
        ArrayDims { rows: n, cols: n },
        g,
        &c.sim_cell()?.pe_timing(),
    )?;
    let m = spec.verilog()?;
    // Synthesis.
    let (mut gates, mut ffs, mut luts, mut carry) =
        (Value::Null, Value::Null, Value::Null, Value::Null);
    let (mut x_luts, mut x_ffs, mut x_carry, mut x_dsp) =
        (Value::Null, Value::Null, Value::Null, Value::Null);
    match have("yosys") {
        Ok(()) => {
            match pelab_hdl::synth::synthesize_hierarchical(&m.verilog, &m.name, Flow::Generic) {
                Ok(r) => {
                    gates = json!(r.logic_cells);
                    ffs = json!(r.ffs);
                }
                Err(e) => notes.push(format!("generic synthesis failed: {e}")),
            }
            match pelab_hdl::synth::synthesize_hierarchical(&m.verilog, &m.name, Flow::Ice40) {
                Ok(r) => {
                    luts = json!(r.luts);
                    carry = json!(r.carry);
                }
                Err(e) => notes.push(format!("iCE40 synthesis failed: {e}")),
            }
            match pelab_hdl::synth::synthesize_hierarchical(&m.verilog, &m.name, Flow::Xilinx) {
                Ok(r) => {
                    x_luts = json!(r.luts);
                    x_ffs = json!(r.ffs);
                    x_carry = json!(r.carry);
                    x_dsp = json!(r.dsps);
                }
                Err(e) => notes.push(format!("Xilinx synthesis failed: {e}")),
            }
        }
        Err(e) => notes.push(format!("no synthesis: {e}")),
    }
    // Cycles of the GEMM in RTL: the emitted array held to the model's outputs and cycles.
    let sim = if have("verilator").is_ok() {
        Some(Simulator::Verilator)
    } else if have("iverilog").and(have("vvp")).is_ok() {
        Some(Simulator::Icarus)
    } else {
        None
    };
    let cases = tb::gaussian_cases(&spec.cell.sim_cell()?, g, 1, seed);
    let v = tb::vectors(&spec, &cases)?;
    let trace = v.cases[0].trace;
    let (mut rtl_status, mut rtl_sim) = (Value::Null, Value::Null);
    match sim {
        Some(s) => {
            let work = std::env::temp_dir().join(format!(
                "pelab-report-array-{}-{}",
                spec.module_name(),
                std::process::id()
            ));
            match tb::verify(&spec, &v, &[s], &work, Duration::from_secs(1800), None) {
                Ok(r) => {
                    let run = &r.runs[0];
                    rtl_sim = json!(run.sim);
                    rtl_status = json!(match run.status {
                        Status::Passed => "passed".to_string(),
                        _ => format!("{:?}: {} rows failed", run.status, run.failed),
                    });
                    if run.status == Status::Passed {
                        let _ = std::fs::remove_dir_all(&work);
                    }
                }
                Err(e) => notes.push(format!("RTL run failed: {e}")),
            }
        }
        None => notes.push("no RTL run: neither Verilator nor Icarus is installed".into()),
    }
    // Energy: the array and its lone PE on the same Gaussian GEMMs.
    let (mut e_arr, mut e_lone, mut overhead) = (Value::Null, Value::Null, Value::Null);
    if let Err(e) = have("yosys") {
        notes.push(format!("no gate-level energy: {e}"));
    } else {
        match tb::gaussian_energy(&spec, tb::energy_gemm(&spec), 1, seed, FREQ_GHZ) {
            Ok(e) => {
                e_arr = fnum(e.array.pj_per_mac);
                e_lone = fnum(e.lone_pe.pj_per_mac);
                overhead = fnum(e.overhead);
            }
            Err(e) => notes.push(format!("gate-level energy failed: {e}")),
        }
    }
    let eg = tb::energy_gemm(&spec);
    Ok(vec![
        json!(c.pe),
        json!(c.format),
        json!(c.policy),
        json!(format!("{n}x{n}")),
        gates,
        ffs,
        luts,
        carry,
        x_luts,
        x_ffs,
        x_carry,
        x_dsp,
        json!(format!("{gk}x{gk}x{gk}")),
        json!(t.folds),
        json!(t.cycles),
        json!(trace.cycles_scalesim),
        json!(t.last_output_cycle),
        json!(trace.last_output_cycle),
        rtl_sim,
        rtl_status,
        fnum(t.utilization),
        json!(format!("{}x{}x{}", eg.m, eg.k, eg.n)),
        e_arr,
        e_lone,
        overhead,
        json!(notes.join("; ")),
    ])
}

impl Study for Arrays {
    fn name(&self) -> &'static str {
        "arrays"
    }

    fn section(&self) -> &'static str {
        "arrays"
    }

    fn paper(&self) -> &'static str {
        "Systolic arrays (SCALE-Sim's timing)"
    }

    fn run(&self, o: &ReportOpts) -> Result<Vec<Table>> {
        let (n, gk) = sizes(o);
        let picks: &[(&str, &str, &str)] = if o.quick { &QUICK_CELLS } else { &CELLS };
        let cells: Vec<CellSpec> = picks
            .iter()
            .map(|(p, f, q)| cell(p, f, q))
            .collect::<Result<_>>()?;
        let rows = parallel(&cells, |c| measure(c, n, gk, o.seed));
        let mut t = Table::new(
            TABLE,
            "Per PE an output-stationary array: gates, iCE40 and Xilinx resources, GEMM cycles in \
             RTL against the model and the closed form, energy per MAC against the lone PE",
            &[
                "pe",
                "format",
                "policy",
                "array",
                "generic_logic_cells",
                "flip_flops",
                "ice40_luts",
                "ice40_carry",
                "xilinx_luts",
                "xilinx_flip_flops",
                "xilinx_carry",
                "xilinx_dsps",
                "gemm",
                "folds",
                "scalesim_cycles",
                "model_last_mac_cycle",
                "analytic_last_output_cycle",
                "model_last_output_cycle",
                "rtl_sim",
                "rtl_status",
                "utilization",
                "energy_gemm",
                "array_pj_per_mac",
                "lone_pe_pj_per_mac",
                "overhead",
                "note",
            ],
        );
        for r in rows {
            t.push(r?)?;
        }
        t.provenance = vec![
            format!(
                "arrays: output-stationary {n}x{n}, one cell per PE; synthesis: Yosys, each \
                 module mapped once then flattened (generic gates; synth_ice40 -noflatten; \
                 synth_xilinx -noiopad, 7-series LUT6, CARRY4, DSP48E1)"
            ),
            format!(
                "cycles: a {gk}x{gk}x{gk} GEMM; scalesim_cycles = folds*(K'+R+C-2)-1 (the cycle \
                 of the last MAC, cycle 0 the first input), SCALE-Sim's closed form for the \
                 1-cycle cells; bitmod (4 weights per 2-cycle beat, groups of 128 of at least 8 \
                 cycles, results 9 cycles after the last beat) uses its generalization \
                 folds*(R+C+stream-2)-1 and last output +9 (docs/arrays.md); the RTL run passes \
                 only when every output of every cycle equals the model's, so its last MAC and \
                 last output fall in the model's cycles"
            ),
            format!(
                "energy: generic-45nm (Yosys generic gates priced with Nangate 45 nm Open Cell \
                 Library figures, typical corner, 1.1 V), {FREQ_GHZ} GHz, zero-delay toggle \
                 counts; Gaussian operands (N(0,1) in the format; int16: N(0,1)*2^12; bitmod: \
                 N(0,1) weights quantized by the BitMoD quantizer, FP16 activations), seed {}; \
                 per useful MAC (M*N*K) of the energy GEMM, skew, drain, padding and the clock \
                 of every flip-flop included; lone PE: the same cell as a 1x1 array on the same \
                 GEMM",
                o.seed
            ),
        ];
        Ok(vec![t])
    }

    fn claims(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Claim>> {
        let t = x.table(TABLE)?;
        let col = |n: &str| t.col(n);
        let (pe, arr, gemm) = (col("pe")?, col("array")?, col("gemm")?);
        let (sc, mm, ao, mo) = (
            col("scalesim_cycles")?,
            col("model_last_mac_cycle")?,
            col("analytic_last_output_cycle")?,
            col("model_last_output_cycle")?,
        );
        let (st, sim) = (col("rtl_status")?, col("rtl_sim")?);
        let mut meas = Vec::new();
        let (mut all_equal, mut all_rtl, mut any_rtl) = (true, true, false);
        for r in &t.rows {
            let eq = r[sc] == r[mm] && r[ao] == r[mo];
            all_equal &= eq;
            let passed = cell_str(&r[st]) == "passed";
            all_rtl &= passed;
            any_rtl |= passed;
            meas.push(format!(
                "{} {} {}: last MAC in cycle {} (closed form {}), last output {} ({}); RTL on \
                 {}: {}",
                cell_str(&r[pe]),
                cell_str(&r[arr]),
                cell_str(&r[gemm]),
                cell_str(&r[mm]),
                cell_str(&r[sc]),
                cell_str(&r[mo]),
                cell_str(&r[ao]),
                if r[sim].is_null() {
                    "-".into()
                } else {
                    cell_str(&r[sim])
                },
                if r[st].is_null() {
                    "not run".into()
                } else {
                    cell_str(&r[st])
                }
            ));
        }
        let verdict = match (all_equal, all_rtl, any_rtl) {
            (true, true, _) => {
                "Holds: the RTL's last MAC falls in the closed form's cycle for every PE \
                 (SCALE-Sim's for the 1-cycle cells, its generalization for bitmod); the last \
                 output follows R + 1 cycles later (the drain; + 9 for bitmod's dequantizer)"
                    .to_string()
            }
            (true, false, true) => {
                "Partly: the model matches the closed form, but not every RTL run passed".into()
            }
            (true, false, false) => {
                "Model only: the model matches the closed form; no RTL run (no simulator)".into()
            }
            (false, _, _) => "Does not hold: the model's cycles differ from the closed form".into(),
        };
        let mut figures = BTreeMap::new();
        figures.insert(
            "rtl_runs_passed".to_string(),
            Some(
                t.rows
                    .iter()
                    .filter(|r| cell_str(&r[st]) == "passed")
                    .count() as f64,
            ),
        );
        figures.insert("arrays".to_string(), Some(t.rows.len() as f64));
        let ov = col("overhead")?;
        for r in &t.rows {
            figures.insert(format!("overhead_{}", cell_str(&r[pe])), r[ov].as_f64());
        }
        Ok(vec![Claim {
            claim: "Systolic array cycles vs SCALE-Sim's closed form (output-stationary)".into(),
            paper:
                "SCALE-Sim (Samajdar et al.): an output-stationary R x C array computes an M x K \
                    x N GEMM in ceil(M/R)*ceil(N/C) folds of K + R + C - 2 cycles, 1-cycle MACs"
                    .into(),
            pelab: meas.join("; "),
            source: format!(
                "arrays.csv: {}",
                t.provenance.get(1).cloned().unwrap_or_default()
            ),
            verdict,
            figures,
        }])
    }

    fn meaning(&self, claims: &[Claim]) -> [String; 2] {
        let passed = figure(claims, "Systolic", "rtl_runs_passed").unwrap_or(0.0);
        let arrays = figure(claims, "Systolic", "arrays").unwrap_or(0.0);
        let line1 = format!(
            "Cycles: {passed:.0} of {arrays:.0} emitted arrays ran a whole GEMM in RTL output for \
             output and cycle for cycle as the model, whose cycle counts are SCALE-Sim's closed \
             forms; SCALE-Sim's count ends at the last MAC, the results leave R + 1 cycles later \
             (R + 10 for bitmod, whose dequantizer takes 9)."
        );
        let overheads: Vec<(String, f64)> = claims
            .iter()
            .flat_map(|c| &c.figures)
            .filter_map(|(k, v)| Some((k.strip_prefix("overhead_")?.to_string(), (*v)?)))
            .collect();
        let line2 = if overheads.is_empty() {
            "Energy: not measured at gate level in this run.".into()
        } else {
            format!(
                "Energy: per MAC an array costs {} the lone PE at gate level (skew, drain, padding \
                 and the clock of every flip-flop): PE-level savings shrink by that much in an \
                 accelerator.",
                overheads
                    .iter()
                    .map(|(p, o)| format!("{}x ({p})", short(*o)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        [line1, line2]
    }

    fn figures(&self, _o: &ReportOpts, _x: &Results) -> Result<Vec<Figure>> {
        Ok(Vec::new())
    }

    fn markdown(&self, _o: &ReportOpts, x: &Results) -> Result<String> {
        let t = x.table(TABLE)?;
        let mut s = String::from("## PE arrays\n\n");
        s.push_str(
            "Per PE an output-stationary array of its cell (docs/arrays.md): synthesis (each \
             module mapped once, then flattened), the cycles of a GEMM in RTL held output for \
             output and cycle for cycle to the cycle-accurate model, and energy per MAC at gate \
             level beside the same cell alone on the same GEMM.\n\n",
        );
        s.push_str(&md_head(&[
            "PE",
            "array",
            "logic cells",
            "flip-flops",
            "iCE40 LUTs",
            "Xilinx LUT / FF / carry / DSP",
            "GEMM",
            "last MAC (SCALE-Sim)",
            "last output",
            "RTL",
            "utilization",
            "pJ/MAC array",
            "pJ/MAC lone PE",
            "overhead",
        ]));
        let g = |r: &[Value], n: &str| -> Result<String> {
            let v = &r[t.col(n)?];
            Ok(if v.is_null() {
                "-".into()
            } else if let Some(f) = v.as_f64().filter(|_| !v.is_u64()) {
                short(f)
            } else {
                cell_str(v)
            })
        };
        for r in &t.rows {
            let rtl = if r[t.col("rtl_status")?].is_null() {
                "not run".to_string()
            } else {
                format!("{} ({})", g(r, "rtl_status")?, g(r, "rtl_sim")?)
            };
            let util = r[t.col("utilization")?].as_f64();
            s.push_str(&md_row(&[
                format!("{} {} {}", g(r, "pe")?, g(r, "format")?, g(r, "policy")?),
                g(r, "array")?,
                g(r, "generic_logic_cells")?,
                g(r, "flip_flops")?,
                g(r, "ice40_luts")?,
                format!(
                    "{} / {} / {} / {}",
                    g(r, "xilinx_luts")?,
                    g(r, "xilinx_flip_flops")?,
                    g(r, "xilinx_carry")?,
                    g(r, "xilinx_dsps")?
                ),
                g(r, "gemm")?,
                format!(
                    "{} ({})",
                    g(r, "model_last_mac_cycle")?,
                    g(r, "scalesim_cycles")?
                ),
                g(r, "model_last_output_cycle")?,
                rtl,
                util.map_or("-".into(), pct),
                opt_short(r[t.col("array_pj_per_mac")?].as_f64()),
                opt_short(r[t.col("lone_pe_pj_per_mac")?].as_f64()),
                r[t.col("overhead")?]
                    .as_f64()
                    .map_or("-".into(), |o| format!("{}x", short(o))),
            ]));
        }
        s.push('\n');
        for r in &t.rows {
            let note = g(r, "note")?;
            if !note.is_empty() && note != "-" {
                s.push_str(&format!(
                    "- {} {}: {}\n",
                    g(r, "pe")?,
                    g(r, "array")?,
                    md(&note)
                ));
            }
        }
        s.push_str(&crate::table::provenance_md(t));
        Ok(s)
    }
}
