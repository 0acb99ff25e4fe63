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
use pelab_sim::array::gemm::{random_gemm, random_operand};
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
/// The bitmod cell's K is `2·128 + 7`: two full groups and a short one (idle cycles before it).
pub fn default_gemm(spec: &ArraySpec) -> GemmDims {
    GemmDims {
        m: (2 * spec.rows).saturating_sub(1).max(1),
        k: if spec.cell.is_sequential() {
            2 * pelab_sim::array::bitmod::GROUP + 7
        } else {
            24 * spec.cell.lanes - 1
        },
        n: (2 * spec.cols).saturating_sub(1).max(1),
    }
}

/// `count` GEMMs of shape `g` with random operands for `cell` (mostly values near 1, one in
/// 16 a special or boundary code; bitmod: a random type and scale per group), seeded by `seed`.
pub fn random_cases(
    cell: &Cell,
    g: GemmDims,
    count: usize,
    seed: u64,
) -> Vec<(GemmDims, Vec<u64>, Vec<u64>)> {
    if cell.is_sequential() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        return (0..count)
            .map(|_| {
                let (a, b) = random_gemm(cell, &mut rng, g.m, g.k, g.n, 16);
                (g, a, b)
            })
            .collect();
    }
    cases_with(g, count, seed, |rng| random_operand(cell, rng, 16))
}

/// `count` GEMMs of shape `g`, every operand (A row-major, then B, GEMM after GEMM) drawn by
/// `draw` from one generator seeded by `seed`.
fn cases_with(
    g: GemmDims,
    count: usize,
    seed: u64,
    mut draw: impl FnMut(&mut ChaCha8Rng) -> u64,
) -> Vec<(GemmDims, Vec<u64>, Vec<u64>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let a = (0..g.m * g.k).map(|_| draw(&mut rng)).collect();
            let b = (0..g.k * g.n).map(|_| draw(&mut rng)).collect();
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

/// Gate-level energy of whole GEMMs on one array: every cycle of the GEMMs replayed on the
/// synthesized array (Yosys generic gates, each module mapped once, then flattened), outputs
/// checked against the cycle-accurate model, toggles counted and priced by `generic-45nm`.
/// Every per-MAC figure divides by the useful MACs (`M·N·K` per GEMM), so padding, skew, drain
/// and idle cycles are charged to them.
#[derive(Debug, Clone, Serialize)]
pub struct ArrayEnergy {
    /// Module synthesized and simulated.
    pub module: String,
    /// The array.
    pub spec: ArraySpec,
    /// The GEMMs run, in order (`M x K x N` each).
    pub gemms: Vec<GemmDims>,
    /// Useful multiply-accumulates: `Σ M·N·K`.
    pub macs: u64,
    /// Steps of the cells: `Σ M·N·ceil(K/d)` (`d` lanes per step).
    pub steps: u64,
    /// Clock cycles simulated (vector rows: each GEMM's reset, its cycles and its idle rows).
    pub cycles: u64,
    /// `cycles / macs`.
    pub cycles_per_mac: f64,
    /// `steps / (R·C·cycles)`: the share of PE-cycles that did a step.
    pub utilization: f64,
    /// Total energy per MAC, pJ (`dynamic + clock + leakage`).
    pub pj_per_mac: f64,
    /// Dynamic (switching and internal) energy per MAC, pJ.
    pub dynamic_pj_per_mac: f64,
    /// Flip-flop clock energy per MAC, pJ.
    pub clock_pj_per_mac: f64,
    /// Leakage energy per MAC, pJ.
    pub leakage_pj_per_mac: f64,
    /// Cell area, µm².
    pub area_um2: f64,
    /// Cells of the netlist (flip-flops included).
    pub cells: usize,
    /// Flip-flops of the netlist.
    pub flip_flops: usize,
    /// Gate toggles per MAC.
    pub toggles_per_mac: f64,
    /// Technology name.
    pub tech: String,
    /// Clock frequency, GHz.
    pub freq_ghz: f64,
    /// What the operands were.
    pub data: String,
    /// The synthesized netlist (Yosys JSON).
    pub netlist: PathBuf,
    /// The priced activity (breakdown by cell type, the technology's provenance lines).
    pub energy: pelab_sim::energy::Energy,
    /// Where every figure comes from: technology, data, activity, frequency, caveat.
    pub provenance: Vec<String>,
    /// The zero-delay caveat.
    pub caveat: String,
}

/// The GEMM `array energy` runs by default on `spec`: `M = 2R`, `N = 2C` (two full folds each
/// way) and `K = 64` rounded up to a multiple of the cell's lanes (bitmod: `K = 128`, one
/// whole group).
pub fn energy_gemm(spec: &ArraySpec) -> GemmDims {
    let d = spec.cell.lanes.max(1);
    GemmDims {
        m: 2 * spec.rows,
        k: if spec.cell.is_sequential() {
            pelab_sim::array::bitmod::GROUP
        } else {
            64usize.div_ceil(d) * d
        },
        n: 2 * spec.cols,
    }
}

/// `count` GEMMs of shape `g` with Gaussian operands for `cell`, seeded by `seed`: the data of
/// `pelab energy --dist gaussian` ([`pelab_sim::samples::Dist::Gaussian`]). Float cells take
/// N(0, 1) values rounded to nearest even (saturating) into their format; `int16fma` takes
/// N(0, 1)·2^12 rounded and clamped to int16 (sums of 2^6 products stay far inside 32 bits).
pub fn gaussian_cases(
    cell: &Cell,
    g: GemmDims,
    count: usize,
    seed: u64,
) -> Vec<(GemmDims, Vec<u64>, Vec<u64>)> {
    use pelab_sim::samples::Dist;
    if cell.is_sequential() {
        return bitmod_gaussian_cases(g, count, seed);
    }
    let fmt = (cell.pe != "int16fma")
        .then(|| pelab_sim::format::Format::parse(&cell.format).expect("a cell's format parses"));
    cases_with(g, count, seed, |rng| match &fmt {
        Some(f) => Dist::Gaussian.code(f, rng),
        None => Dist::Gaussian.int16(rng) as u16 as u64,
    })
}

/// Gaussian GEMMs for the bitmod cell: N(0, 1) weights quantized row by row by the BitMoD
/// quantizer (`bitmod4` candidates, groups of 128, 8-bit integer scales), N(0, 1) activations
/// rounded to nearest even into FP16.
fn bitmod_gaussian_cases(
    g: GemmDims,
    count: usize,
    seed: u64,
) -> Vec<(GemmDims, Vec<u64>, Vec<u64>)> {
    use pelab_sim::samples::Dist;
    let fp16 = pelab_sim::format::Format::FP16;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let w: Vec<f32> = (0..g.m * g.k)
                .map(|_| Dist::Gaussian.value(&mut rng) as f32)
                .collect();
            let (a, _) = pelab_sim::array::bitmod::quantize_a(g.m, g.k, &w, "bitmod4")
                .expect("Gaussian weights quantize");
            let b = (0..g.k * g.n)
                .map(|_| Dist::Gaussian.code(&fp16, &mut rng))
                .collect();
            (g, a, b)
        })
        .collect()
}

/// How [`gaussian_cases`] drew the operands of `cell`, for provenance lines.
pub fn gaussian_data(cell: &Cell, seed: u64) -> String {
    if cell.is_sequential() {
        return format!(
            "Gaussian operands: N(0,1) weights quantized per row by the BitMoD quantizer \
             (bitmod4 candidates, groups of 128, 8-bit integer scales), N(0,1) activations \
             rounded to nearest even into FP16, seed {seed}"
        );
    }
    if cell.pe == "int16fma" {
        format!(
            "Gaussian operands: N(0,1)·2^12 rounded to nearest and clamped to int16 (as pelab \
             energy --dist gaussian), seed {seed}"
        )
    } else {
        format!(
            "Gaussian operands: N(0,1) rounded to nearest even (saturating) into {} (as pelab \
             energy --dist gaussian), seed {seed}",
            cell.format
        )
    }
}

/// The energy of the GEMMs `cases` (`(dims, A, B)`, row-major codes) on `spec` at `freq_ghz`:
/// vectors from the model ([`vectors`]), the array synthesized hierarchically to generic
/// gates, every row replayed on the gate engine with outputs checked and toggles counted, and
/// the activity priced by `generic-45nm` per useful MAC.
///
/// Errors: no GEMMs, a clock frequency that is not positive and finite, operands that do not
/// fit the cell, Yosys failures, and any output of the gate netlist that differs from the
/// model (the energy of a wrong circuit is not reported).
pub fn energy(
    spec: &ArraySpec,
    cases: &[(GemmDims, Vec<u64>, Vec<u64>)],
    freq_ghz: f64,
) -> Result<ArrayEnergy> {
    let shapes: Vec<String> = cases
        .iter()
        .map(|(g, _, _)| format!("{}x{}x{}", g.m, g.k, g.n))
        .collect();
    let data = format!(
        "operands: the {} GEMM(s) given ({}), not described further",
        cases.len(),
        shapes.join(", ")
    );
    energy_of(spec, cases, freq_ghz, &data, None)
}

/// [`energy`] of `verilog`, an array's Verilog text in place of the emitted one (a mutant, in
/// the checks of the checker: its outputs differ from the model's, so it is refused).
pub fn energy_with_verilog(
    spec: &ArraySpec,
    cases: &[(GemmDims, Vec<u64>, Vec<u64>)],
    freq_ghz: f64,
    verilog: &str,
) -> Result<ArrayEnergy> {
    energy_of(
        spec,
        cases,
        freq_ghz,
        "operands: the GEMMs given, on Verilog given in place of the emitted array",
        Some(verilog),
    )
}

/// [`energy`] with `data` saying what the operands are (a provenance line), of `verilog`
/// when given (else the emitted array).
fn energy_of(
    spec: &ArraySpec,
    cases: &[(GemmDims, Vec<u64>, Vec<u64>)],
    freq_ghz: f64,
    data: &str,
    verilog: Option<&str>,
) -> Result<ArrayEnergy> {
    if cases.is_empty() {
        return Err(Error::new("array energy: no GEMMs to run"));
    }
    if !(freq_ghz > 0.0 && freq_ghz.is_finite()) {
        return Err(Error::new(format!(
            "array energy: the clock frequency must be a positive number of GHz, got {freq_ghz}"
        )));
    }
    let tech = pelab_sim::energy::Generic45::load()?;
    let v = vectors(spec, cases)?;
    let m = spec.verilog()?;
    let (net, path) = synthesized_netlist_hierarchical(verilog.unwrap_or(&m.verilog), &m.name)?;
    let (run, act) = run_gates(&net, &v.layout, &v.rows, true, true)?;
    let run = run.expect("a checked run has a verdict");
    if run.status != crate::run::Status::Passed {
        let first = run
            .mismatches
            .first()
            .map(|mm| {
                format!(
                    "; first at vector row {}: expected {:X?}, got {:X?}",
                    mm.row, mm.expected, mm.got
                )
            })
            .unwrap_or_default();
        return Err(Error::new(format!(
            "array energy: the gate netlist of {} ({}) does not match the model on {} of {} \
             rows{first}; no energy is reported for a wrong circuit",
            m.name,
            path.display(),
            run.failed,
            run.failed + run.passed
        )));
    }
    let macs: u64 = cases.iter().map(|(g, _, _)| (g.m * g.n * g.k) as u64).sum();
    let steps: u64 = cases
        .iter()
        .map(|(g, _, _)| (g.m * g.n * g.k.div_ceil(spec.cell.lanes)) as u64)
        .sum();
    let cycles = v.rows.len() as u64;
    let cycles_per_mac = cycles as f64 / macs as f64;
    let e = pelab_sim::energy::energy(
        &net,
        &tech,
        &act.activity(macs as f64, cycles_per_mac),
        freq_ghz,
    )?;
    use pelab_sim::energy::Technology as _;
    let tech_name = tech.name();
    let caveat = pelab_sim::energy::GLITCH_CAVEAT.to_string();
    let mut provenance = vec![format!(
        "technology: {tech_name} (Yosys generic gates, each module of the array mapped once \
         and then flattened; every flip-flop a plain $_DFF_P_)"
    )];
    provenance.extend(e.provenance.iter().cloned());
    provenance.push(format!("data: {data}"));
    provenance.push(format!(
        "activity: all {cycles} cycles of the GEMMs (each GEMM's reset row, its cycles and \
         {} idle rows) replayed on {} by pelab's gate engine, every output checked against \
         the cycle-accurate model; per MAC = divided by {macs} useful MACs (M·N·K per GEMM)",
        spec.rows + spec.cols + 2,
        path.display()
    ));
    provenance.push(format!(
        "frequency: {freq_ghz} GHz (leakage is charged for cycles / f per MAC)"
    ));
    provenance.push(format!("caveat: {caveat}"));
    Ok(ArrayEnergy {
        module: m.name,
        spec: spec.clone(),
        gemms: cases.iter().map(|c| c.0).collect(),
        macs,
        steps,
        cycles,
        cycles_per_mac,
        utilization: steps as f64 / (spec.rows * spec.cols) as f64 / cycles as f64,
        pj_per_mac: e.total_pj,
        dynamic_pj_per_mac: e.dynamic_pj,
        clock_pj_per_mac: e.clock_pj,
        leakage_pj_per_mac: e.leakage_pj,
        area_um2: e.area_um2,
        cells: net.cells.len(),
        flip_flops: net.flops.len(),
        toggles_per_mac: e.toggles_per_op,
        tech: tech_name,
        freq_ghz,
        data: data.to_string(),
        netlist: path,
        energy: e,
        provenance,
        caveat,
    })
}

/// The energy of an array beside that of its cell alone: the same GEMMs (the same operands)
/// through a 1x1 array of the same cell and dataflow, i.e. the `M·N` dot products of length
/// `K` one after another through one PE, through the same synthesis flow and technology. The
/// difference is the array's overhead: skew and deskew registers, the drain, padding and
/// fill/drain cycles, and the clock of every flip-flop.
#[derive(Debug, Clone, Serialize)]
pub struct ArrayEnergyComparison {
    /// The array.
    pub array: ArrayEnergy,
    /// The same cell as a 1x1 array on the same GEMMs.
    pub lone_pe: ArrayEnergy,
    /// `array.pj_per_mac / lone_pe.pj_per_mac`.
    pub overhead: f64,
    /// `array.clock_pj_per_mac / lone_pe.clock_pj_per_mac`.
    pub clock_overhead: f64,
    /// What the operands were.
    pub data: String,
}

/// [`energy`] of `spec` and of the 1x1 array of the same cell and dataflow on the same
/// `cases`, with `data` (what the operands are) in both provenances. The two syntheses and
/// runs go side by side.
pub fn energy_with_lone_pe(
    spec: &ArraySpec,
    cases: &[(GemmDims, Vec<u64>, Vec<u64>)],
    freq_ghz: f64,
    data: &str,
) -> Result<ArrayEnergyComparison> {
    let lone = ArraySpec::new(spec.cell.clone(), spec.dataflow, 1, 1)?;
    let (array, lone_pe) = rayon::join(
        || energy_of(spec, cases, freq_ghz, data, None),
        || energy_of(&lone, cases, freq_ghz, data, None),
    );
    let (array, lone_pe) = (array?, lone_pe?);
    Ok(ArrayEnergyComparison {
        overhead: array.pj_per_mac / lone_pe.pj_per_mac,
        clock_overhead: array.clock_pj_per_mac / lone_pe.clock_pj_per_mac,
        data: data.to_string(),
        array,
        lone_pe,
    })
}

/// `pelab array energy`: `count` GEMMs of shape `g` with Gaussian operands ([`gaussian_cases`],
/// seed `seed`) on `spec` and on its lone PE, at `freq_ghz`.
pub fn gaussian_energy(
    spec: &ArraySpec,
    g: GemmDims,
    count: usize,
    seed: u64,
    freq_ghz: f64,
) -> Result<ArrayEnergyComparison> {
    if count == 0 {
        return Err(Error::new("array energy: --count must be at least 1"));
    }
    if !(freq_ghz > 0.0 && freq_ghz.is_finite()) {
        return Err(Error::new(format!(
            "array energy: the clock frequency must be a positive number of GHz, got {freq_ghz}"
        )));
    }
    let cell = spec.cell.sim_cell()?;
    let cases = gaussian_cases(&cell, g, count, seed);
    energy_with_lone_pe(spec, &cases, freq_ghz, &gaussian_data(&cell, seed))
}
