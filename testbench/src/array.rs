//! Arrays on the testbench: cycle-by-cycle vectors of whole GEMMs from the cycle-accurate array
//! model of `pelab_sim`, run against the emitted array Verilog on Icarus, Verilator and the gate
//! engine.
//!
//! One vector row is one clock cycle ([`Timing::Cycles`]): the inputs the GEMM driver presents
//! in that cycle, and the outputs the model has right after its rising edge. `out_valid` is
//! compared on every row, so an output one cycle early or late, a missing row (a truncated
//! drain) or an extra one fails; `c_out_*` and `out_row` are compared on the rows where
//! `out_valid` is due. Each GEMM starts with a reset row and ends with idle rows in which no
//! output may appear. Before any simulator runs, the model's C is checked against the reference
//! GEMM ([`pelab_sim::array::gemm()`]), bit for bit.

use crate::gates::{run_gates, synthesized_netlist_hierarchical};
use crate::layout::{Field, Layout, Timing};
use crate::run::{simulate, SimRun, Simulator};
use crate::tb::testbench;
use crate::vectors::pack_mem;
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_hdl::PortDir;
use pelab_sim::array::gemm::random_operands;
use pelab_sim::array::{drive_gemm_os, drive_gemm_ws, gemm, ArrayDims, Cell, GemmDims, GemmTrace};
use pelab_sim::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a column of an array's vector row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    Reset,
    InValid,
    InFirst,
    InLast,
    WLoad,
    WValid,
    A(usize),
    B(usize),
    W(usize),
    P(usize),
    OutValid,
    OutRow,
    C(usize),
}

impl Src {
    fn of(name: &str) -> Result<Src> {
        let idx = |p: &str| name.strip_prefix(p).and_then(|n| n.parse::<usize>().ok());
        Ok(match name {
            "reset" => Src::Reset,
            "in_valid" => Src::InValid,
            "in_first" => Src::InFirst,
            "in_last" => Src::InLast,
            "w_load" => Src::WLoad,
            "w_valid" => Src::WValid,
            "out_valid" => Src::OutValid,
            "out_row" => Src::OutRow,
            _ => {
                if let Some(i) = idx("a_in_") {
                    Src::A(i)
                } else if let Some(j) = idx("b_in_") {
                    Src::B(j)
                } else if let Some(j) = idx("w_in_") {
                    Src::W(j)
                } else if let Some(j) = idx("p_in_") {
                    Src::P(j)
                } else if let Some(j) = idx("c_out_") {
                    Src::C(j)
                } else {
                    return Err(Error::new(format!(
                        "array port '{name}' has no place in the array vectors"
                    )));
                }
            }
        })
    }
}

/// The columns of an array's vectors: every port but `clock`, in port order, one row per
/// cycle, with a `CARE` mask.
pub fn layout(spec: &ArraySpec) -> Layout {
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for p in spec.ports() {
        if p.name == "clock" {
            continue;
        }
        match p.dir {
            PortDir::Input => inputs.push(Field::input(&p.name, p.width as u32)),
            PortDir::Output => outputs.push(Field::output(&p.name, p.width as u32)),
        }
    }
    inputs.extend(outputs);
    Layout {
        fields: inputs,
        timing: Timing::Cycles,
        care: true,
        restart: vec!["reset".into()],
    }
}

/// One GEMM run through an array: its operands (row-major codes), the model's C (equal to the
/// reference GEMM's) and what the model measured.
#[derive(Debug, Clone, Serialize)]
pub struct ArrayCase {
    /// `M x K x N`.
    pub gemm: GemmDims,
    /// A, `M x K` codes.
    #[serde(skip)]
    pub a: Vec<u64>,
    /// B, `K x N` codes.
    #[serde(skip)]
    pub b: Vec<u64>,
    /// C, `M x N` 32-bit codes.
    #[serde(skip)]
    pub c: Vec<u32>,
    /// Folds, cycles and output cycles as the model counted them.
    pub trace: GemmTrace,
    /// The vector row of the GEMM's reset; cycle 0 of the GEMM is the next row.
    pub first_row: usize,
}

/// The vectors of one or more GEMMs on an array.
#[derive(Debug, Clone)]
pub struct ArrayVectors {
    /// Columns and timing.
    pub layout: Layout,
    /// One row per cycle: inputs, expected outputs, `CARE` mask.
    pub rows: Vec<Vec<u64>>,
    /// The GEMMs, in order.
    pub cases: Vec<ArrayCase>,
}

/// The `d` lanes of `lanes` packed into one bus of `d · w` bits, lane 0 in the low bits.
fn pack(lanes: &[u64], w: u32) -> u64 {
    lanes
        .iter()
        .enumerate()
        .fold(0u64, |acc, (l, &v)| acc | (v << (l as u32 * w)))
}

/// The vectors of the GEMMs `cases` (`(dims, A, B)`, row-major codes) on `spec`. Each GEMM is a
/// reset row, the driver's cycles (see [`pelab_sim::array::drive_gemm_os`] and
/// [`pelab_sim::array::drive_gemm_ws`]) and `R + C + 2` idle rows in which `out_valid` must stay
/// low.
///
/// Errors: operands that do not fit the cell, and (a model fault) a model C that differs from
/// the reference GEMM.
pub fn vectors(spec: &ArraySpec, cases: &[(GemmDims, Vec<u64>, Vec<u64>)]) -> Result<ArrayVectors> {
    let layout = layout(spec);
    let src: Vec<Src> = layout
        .fields
        .iter()
        .map(|f| Src::of(&f.name))
        .collect::<Result<_>>()?;
    let outs: Vec<Src> = layout
        .fields
        .iter()
        .zip(&src)
        .filter(|(f, _)| f.output)
        .map(|(_, s)| *s)
        .collect();
    let cell = spec.cell.sim_cell()?;
    let (d, wa, wb) = (cell.lanes, cell.a_width, cell.b_width);
    let dims = ArrayDims {
        rows: spec.rows,
        cols: spec.cols,
    };
    let care_all = (1u64 << outs.len()) - 1;
    let care_valid: u64 = outs
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == Src::OutValid)
        .map(|(i, _)| 1u64 << i)
        .sum();
    let mut rows: Vec<Vec<u64>> = Vec::new();
    let mut done = Vec::new();
    // A row from a function of each column.
    let row_of = |f: &dyn Fn(Src) -> u64, valid: bool| -> Vec<u64> {
        let mut r: Vec<u64> = src.iter().map(|&s| f(s)).collect();
        r.push(if valid { care_all } else { care_valid });
        r
    };
    for (g, a, b) in cases {
        let first_row = rows.len();
        // Reset: every register loads 0, so every output is 0 after the edge.
        rows.push(row_of(&|s| u64::from(s == Src::Reset), true));
        let (c, trace) = match spec.dataflow {
            Dataflow::Os => drive_gemm_os(&cell, dims, *g, a, b, &mut |_, i, o| {
                let f = |s: Src| match s {
                    Src::Reset => u64::from(i.reset),
                    Src::InValid => u64::from(i.in_valid),
                    Src::InFirst => u64::from(i.in_first),
                    Src::InLast => u64::from(i.in_last),
                    Src::A(r) => pack(&i.a_in[r * d..(r + 1) * d], wa),
                    Src::B(j) => pack(&i.b_in[j * d..(j + 1) * d], wb),
                    Src::OutValid => u64::from(o.out_valid),
                    Src::OutRow => o.out_row as u64,
                    Src::C(j) => o.c_out[j] as u64,
                    _ => 0,
                };
                rows.push(row_of(&f, o.out_valid));
            })?,
            Dataflow::Ws => drive_gemm_ws(&cell, dims, *g, a, b, &mut |_, i, o| {
                let f = |s: Src| match s {
                    Src::Reset => u64::from(i.reset),
                    Src::WLoad => u64::from(i.w_load),
                    Src::WValid => u64::from(i.w_valid_in),
                    Src::W(j) => pack(&i.w_in[j * d..(j + 1) * d], wb),
                    Src::InValid => u64::from(i.in_valid),
                    Src::A(r) => pack(&i.a_in[r * d..(r + 1) * d], wa),
                    Src::P(j) => i.p_in[j] as u64,
                    Src::OutValid => u64::from(o.out_valid),
                    Src::C(j) => o.c_out[j] as u64,
                    _ => 0,
                };
                rows.push(row_of(&f, o.out_valid));
            })?,
            Dataflow::Is => {
                return Err(Error::new(
                    "no RTL for the is dataflow; run ws on the transposed operands",
                ))
            }
        };
        let want = gemm(&cell, g.m, g.k, g.n, a, b);
        if let Some(q) = (0..c.len()).find(|&q| c[q] != want[q]) {
            return Err(Error::new(format!(
                "array model fault: {} C[{}][{}] = {:08X}, the reference GEMM gives {:08X}",
                spec.module_name(),
                q / g.n,
                q % g.n,
                c[q],
                want[q]
            )));
        }
        for _ in 0..spec.rows + spec.cols + 2 {
            rows.push(row_of(&|_| 0, false));
        }
        done.push(ArrayCase {
            gemm: *g,
            a: a.clone(),
            b: b.clone(),
            c,
            trace,
            first_row,
        });
    }
    Ok(ArrayVectors {
        layout,
        rows,
        cases: done,
    })
}

/// The GEMM shape `array verify` runs by default on an `R x C` array with `d` lanes: two folds
/// of rows and two of columns, one short of full in each (so padding is exercised), and 24
/// steps of K (at least 2 weight tiles of `ws` when R <= 12).
pub fn default_gemm(spec: &ArraySpec) -> GemmDims {
    GemmDims {
        m: (2 * spec.rows).saturating_sub(1).max(1),
        k: 24 * spec.cell.lanes - 1,
        n: (2 * spec.cols).saturating_sub(1).max(1),
    }
}

/// `count` GEMMs of shape `g` with random operands for `cell` (mostly values near 1, one in
/// 16 a special or boundary code), seeded by `seed`.
pub fn random_cases(
    cell: &Cell,
    g: GemmDims,
    count: usize,
    seed: u64,
) -> Vec<(GemmDims, Vec<u64>, Vec<u64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let a = random_operands(cell, &mut rng, g.m * g.k, 16);
            let b = random_operands(cell, &mut rng, g.k * g.n, 16);
            (g, a, b)
        })
        .collect()
}

/// What `array verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct ArrayReport {
    /// Module simulated.
    pub module: String,
    /// The array.
    pub spec: ArraySpec,
    /// The GEMMs run (shape, folds, cycles, vector row of each reset).
    pub cases: Vec<ArrayCase>,
    /// Vector rows (cycles) in all.
    pub rows: u64,
    /// Multiply-accumulate steps of every PE in all GEMMs (`M·N·K'` per GEMM).
    pub steps: u64,
    /// One run per simulator.
    pub runs: Vec<SimRun>,
    /// The working directory (Verilog, testbench, vectors, logs).
    pub work_dir: PathBuf,
}

impl ArrayReport {
    /// Whether every simulator ran and passed.
    pub fn passed(&self) -> bool {
        !self.runs.is_empty()
            && self
                .runs
                .iter()
                .all(|r| r.status == crate::run::Status::Passed)
    }
}

/// Runs `vectors` against the array `spec` on each simulator in `work` (created; files there
/// are overwritten). `verilog`: the array's Verilog text, when not the emitted one (a mutant
/// in the checks of the checker).
pub fn verify(
    spec: &ArraySpec,
    vectors: &ArrayVectors,
    sims: &[Simulator],
    work: &Path,
    limit: Duration,
    verilog: Option<&str>,
) -> Result<ArrayReport> {
    if let Some(s) = sims.iter().find(|s| **s == Simulator::RustHdl) {
        return Err(Error::new(format!(
            "the {} simulator runs single PEs; arrays run on icarus, verilator and gates",
            s.name()
        )));
    }
    std::fs::create_dir_all(work)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", work.display())))?;
    let work = &work
        .canonicalize()
        .map_err(|e| Error::new(format!("cannot resolve {}: {e}", work.display())))?;
    let m = spec.verilog()?;
    let text = verilog.unwrap_or(&m.verilog);
    let path = work.join(format!("{}.v", m.name));
    pelab_hdl::emit::write_atomic(&path, text)?;
    let rows = vectors.rows.len() as u64;
    std::fs::write(
        work.join("vectors.mem"),
        pack_mem(&vectors.layout, &vectors.rows),
    )
    .map_err(|e| Error::new(format!("cannot write vectors in {}: {e}", work.display())))?;
    let tb = work.join("pelab_tb.v");
    std::fs::write(
        &tb,
        testbench(&m.name, &vectors.layout, rows, "vectors.mem"),
    )
    .map_err(|e| Error::new(format!("cannot write testbench in {}: {e}", work.display())))?;
    let mut runs = Vec::new();
    for &sim in sims {
        runs.push(match sim {
            Simulator::Gates => {
                let t = std::time::Instant::now();
                let (net, _) = synthesized_netlist_hierarchical(text, &m.name)?;
                let compile = t.elapsed().as_secs_f64();
                let (run, _) = run_gates(&net, &vectors.layout, &vectors.rows, true, false)?;
                let mut run = run.expect("a checked run has a verdict");
                run.compile_secs = compile;
                run
            }
            _ => simulate(sim, work, &tb, std::slice::from_ref(&path), rows, limit)?,
        });
    }
    let steps = vectors
        .cases
        .iter()
        .map(|c| (c.gemm.m * c.gemm.n * c.gemm.k.div_ceil(spec.cell.lanes)) as u64)
        .sum();
    Ok(ArrayReport {
        module: m.name,
        spec: spec.clone(),
        cases: vectors.cases.clone(),
        rows,
        steps,
        runs,
        work_dir: work.to_path_buf(),
    })
}

/// The array's Verilog with PE `(i, j)` replaced by a mutant whose output has bit 0 flipped
/// (the accumulator as it enters the drain in `os`, the partial sum it passes south in `ws`):
/// the checks of the checker, which must fail exactly that position's outputs.
pub fn mutant_pe(spec: &ArraySpec, verilog: &str, i: usize, j: usize) -> Result<String> {
    let name = spec.module_name();
    let pe = format!("{name}__pe");
    let start = verilog
        .find(&format!("module {pe}("))
        .ok_or_else(|| Error::new(format!("no module {pe} in the array's Verilog")))?;
    let end_tag = format!("endmodule // {pe}\n");
    let end = verilog[start..]
        .find(&end_tag)
        .map(|e| start + e + end_tag.len())
        .ok_or_else(|| Error::new(format!("no end of module {pe}")))?;
    let (from, to) = match spec.dataflow {
        Dataflow::Os => ("d <= ld ? acc : d_in;", "d <= ld ? (acc ^ 32'd1) : d_in;"),
        _ => ("p <= wv ? y : p_n;", "p <= wv ? (y ^ 32'd1) : p_n;"),
    };
    let body = &verilog[start..end];
    if !body.contains(from) {
        return Err(Error::new(format!("module {pe} has no '{from}'")));
    }
    let mutant = body
        .replace(from, to)
        .replace(&format!("module {pe}("), &format!("module {pe}_mut("))
        .replace(&end_tag, &format!("endmodule // {pe}_mut\n"));
    let inst = format!("    {pe} pe_{i}_{j}(");
    if !verilog.contains(&inst) {
        return Err(Error::new(format!("no instance pe_{i}_{j} in the array")));
    }
    let mut out = verilog.replace(&inst, &format!("    {pe}_mut pe_{i}_{j}("));
    out.push('\n');
    out.push_str(&mutant);
    Ok(out)
}

/// The output-stationary array's Verilog with a drain cut one row short: `out_valid` never
/// rises for the last row of a tile (a truncated drain, which the vectors must catch).
pub fn truncated_drain(spec: &ArraySpec, verilog: &str) -> Result<String> {
    let from = "    assign out_valid = |left;";
    if spec.dataflow != Dataflow::Os || !verilog.contains(from) {
        return Err(Error::new(
            "a truncated drain is made on the output-stationary array's `out_valid`",
        ));
    }
    Ok(verilog.replace(
        from,
        &format!("    assign out_valid = |left & (row != {});", spec.rows - 1),
    ))
}
