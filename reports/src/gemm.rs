//! A user's GEMM through a PE array: `C = A·B` with A and B read from `.npy` files, turned into
//! the array cell's operand codes, run on the cycle-accurate array model or on the emitted
//! array RTL in a simulator, and C written as a `.npy` file.
//!
//! Operands ([`read_operand`]): float32/float64 values are rounded to the cell's format
//! (`Format::from_f64`, round to nearest even, the cell's overflow policy; for `int16fma`
//! rounded to the nearest integer, ties to even, and refused beyond int16), unsigned integers
//! are raw codes of the cell's operand width, and signed integers are int16 values for the
//! `int16fma` cell only. C holds 32-bit result codes: FP32 codes as float32 for the float
//! cells, int32 for `int16fma` ([`write_c`]).
//!
//! The model's C is checked against the reference GEMM ([`pelab_sim::array::gemm()`]); an RTL
//! run compares the simulator's outputs with the model cycle by cycle
//! ([`pelab_testbench::array::verify`]), so a pass means the same C at the same cycles.

use crate::accuracy::{read_npy_any, write_npy, NpyAny, NpyValues};
use pelab_hdl::array::cell::cell_or_default;
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_sim::array::gemm::k_steps;
use pelab_sim::array::{
    gemm, run_gemm_os, run_gemm_ws, timing_with, ArrayDims, Cell, GemmDims, GemmTrace, Timing,
};
use pelab_sim::format::{Format, Overflow, Rounding};
use pelab_sim::{Error, Result};
use pelab_testbench::array::{vectors, verify, ArrayVectors};
use pelab_testbench::{SimRun, Simulator, Status};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a GEMM runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The cycle-accurate array model of `pelab_sim`.
    Model,
    /// The emitted array Verilog in a simulator, checked cycle by cycle against the model.
    Rtl(Simulator),
}

impl Engine {
    /// The engines `--sim` takes, for messages.
    pub const NAMES: &'static str = "model, icarus, verilator, gates";

    /// Parses `model`, `icarus`, `verilator` or `gates`; the error lists them.
    pub fn parse(s: &str) -> Result<Engine> {
        match s {
            "model" => Ok(Engine::Model),
            "icarus" => Ok(Engine::Rtl(Simulator::Icarus)),
            "verilator" => Ok(Engine::Rtl(Simulator::Verilator)),
            "gates" => Ok(Engine::Rtl(Simulator::Gates)),
            _ => Err(Error::new(format!(
                "unknown simulator '{s}' for a GEMM; valid: {}",
                Self::NAMES
            ))),
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Model => "model",
            Engine::Rtl(s) => s.name(),
        }
    }
}

/// How an operand's values became codes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conversion {
    /// bitmod weights: float rows quantized by the BitMoD quantizer (one output channel per
    /// row, groups of 128, 8-bit integer scales); C is scaled back by `channel_scales`.
    Quantized {
        /// The candidate set.
        set: String,
        /// Weights per group.
        group: usize,
        /// The per-row FP32 channel scales, multiplied into C outside the array.
        channel_scales: Vec<f32>,
    },
    /// Unsigned integers, taken as the cell's operand codes.
    Codes,
    /// Signed integers, taken as int16 values (two's complement codes).
    Int16,
    /// Floats rounded to the cell's format, round to nearest even; `inexact` values changed.
    Rounded {
        /// The format rounded to (`int16` for the integer cell).
        format: String,
        /// The overflow policy applied (`none` for `int16`, where overflow is an error).
        overflow: String,
        /// Values whose code does not hold exactly the value given.
        inexact: usize,
    },
}

impl Conversion {
    /// Values not converted exactly (0 for codes and integers).
    pub fn inexact(&self) -> usize {
        match self {
            Conversion::Rounded { inexact, .. } => *inexact,
            _ => 0,
        }
    }

    /// One phrase for people.
    pub fn describe(&self) -> String {
        match self {
            Conversion::Quantized { set, group, .. } => format!(
                "floats quantized row by row by the BitMoD quantizer ({set} candidates, groups \
                 of {group}, 8-bit integer scales; each row of C multiplied by its FP32 channel \
                 scale after the array)"
            ),
            Conversion::Codes => "unsigned integers taken as raw codes".into(),
            Conversion::Int16 => "signed integers taken as int16 values".into(),
            Conversion::Rounded {
                format,
                overflow,
                inexact,
            } => {
                let ovf = if overflow == "none" {
                    String::new()
                } else {
                    format!(", overflow {overflow}")
                };
                format!(
                    "floats converted to {format} (round to nearest even{ovf}): {inexact} not exact"
                )
            }
        }
    }
}

/// One operand matrix as the array takes it.
#[derive(Debug, Clone, Serialize)]
pub struct Operand {
    /// The file it came from.
    pub path: PathBuf,
    /// Its NumPy element type (`float32`, `uint8`, `int16`...).
    pub dtype: String,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// The file stored it in Fortran (column-major) order.
    pub fortran_order: bool,
    /// How its values became codes.
    pub conversion: Conversion,
    /// The codes, row-major, each within the cell's operand width.
    #[serde(skip)]
    pub codes: Vec<u64>,
}

/// How a cell takes values: a float format with its overflow policy, or int16.
enum Target {
    Float(Format, Overflow),
    Int16,
}

fn target(cell: &Cell) -> Result<Target> {
    if cell.pe == "int16fma" {
        return Ok(Target::Int16);
    }
    if cell.is_sequential() {
        // bitmod activations: FP16 with Inf and NaN (a group with one gives NaN).
        return Ok(Target::Float(Format::FP16, Overflow::Ieee));
    }
    Ok(Target::Float(
        Format::parse(&cell.format)?,
        Overflow::parse(cell.policy)?,
    ))
}

/// The operand `arr` (read from `path`, named in every error) as row-major codes of `cell`.
///
/// Errors: a rank other than 2, an empty dimension, an unsigned code wider than the cell's
/// operand, a signed integer for a cell other than `int16fma` or beyond int16, a NaN or Inf
/// for a format without them, a float beyond int16 for `int16fma`. Each names the element as
/// `[row, column]`.
pub fn operand(arr: &NpyAny, path: &Path, cell: &Cell) -> Result<Operand> {
    operand_as(arr, path, cell, cell.a_width)
}

/// The operands of a GEMM on `cell`: [`operand`] for both, except for the `bitmod` cell, whose
/// A holds weights (unsigned: 15-bit elements `{scale, select, code}`; floats: quantized row by
/// row, [`pelab_sim::array::bitmod::quantize_a`]) and whose B holds FP16 activations
/// (unsigned: FP16 codes; floats: rounded to nearest even).
pub fn operands(
    a: &NpyAny,
    a_path: &Path,
    b: &NpyAny,
    b_path: &Path,
    cell: &Cell,
) -> Result<(Operand, Operand)> {
    if !cell.is_sequential() {
        return Ok((operand(a, a_path, cell)?, operand(b, b_path, cell)?));
    }
    let b = operand_as(b, b_path, cell, cell.b_width)?;
    let a = match &a.values {
        NpyValues::Float(v) => {
            let (rows, cols) = matrix_shape(a, a_path)?;
            let vals: Vec<f32> = (0..rows * cols)
                .map(|q| {
                    let (r, c) = (q / cols, q % cols);
                    v[if a.fortran_order { c * rows + r } else { q }] as f32
                })
                .collect();
            if let Some(q) = vals.iter().position(|x| !x.is_finite()) {
                return Err(Error::new(format!(
                    "{}: element [{}, {}] is {}; weights to quantize must be finite",
                    a_path.display(),
                    q / cols,
                    q % cols,
                    vals[q]
                )));
            }
            let set = "bitmod4";
            let (codes, channel_scales) =
                pelab_sim::array::bitmod::quantize_a(rows, cols, &vals, set)
                    .map_err(|e| Error::new(format!("{}: {e}", a_path.display())))?;
            Operand {
                path: a_path.to_path_buf(),
                dtype: a.type_name(),
                rows,
                cols,
                fortran_order: a.fortran_order,
                conversion: Conversion::Quantized {
                    set: set.into(),
                    group: pelab_sim::array::bitmod::GROUP,
                    channel_scales,
                },
                codes,
            }
        }
        _ => operand_as(a, a_path, cell, cell.a_width)?,
    };
    Ok((a, b))
}

/// The 2-D shape of `arr`, or the error [`operand`] gives.
fn matrix_shape(arr: &NpyAny, path: &Path) -> Result<(usize, usize)> {
    let p = path.display();
    let [rows, cols] = arr.shape[..] else {
        return Err(Error::new(format!(
            "{p}: a {}-D array of shape {:?}; expected a 2-D matrix",
            arr.shape.len(),
            arr.shape
        )));
    };
    if rows == 0 || cols == 0 {
        return Err(Error::new(format!(
            "{p}: the matrix has shape {:?}; expected at least one row and one column",
            arr.shape
        )));
    }
    Ok((rows, cols))
}

/// [`operand`] with unsigned codes of `width` bits.
fn operand_as(arr: &NpyAny, path: &Path, cell: &Cell, width: u32) -> Result<Operand> {
    let p = path.display();
    let (rows, cols) = matrix_shape(arr, path)?;
    // Storage position of logical element (r, c).
    let at = |r: usize, c: usize| {
        if arr.fortran_order {
            c * rows + r
        } else {
            r * cols + c
        }
    };
    let place = |q: usize| (q / cols, q % cols);
    let mut codes = Vec::with_capacity(rows * cols);
    let conversion = match &arr.values {
        NpyValues::Unsigned(v) => {
            for q in 0..rows * cols {
                let (r, c) = place(q);
                let x = v[at(r, c)];
                if width < 64 && x >> width != 0 {
                    return Err(Error::new(format!(
                        "{p}: element [{r}, {c}] (index {q} in row-major order) is the code \
                         {x} (0x{x:X}), wider than the {width}-bit operand of cell {}; unsigned \
                         integers are raw codes of the format",
                        cell.name()
                    )));
                }
                codes.push(x);
            }
            Conversion::Codes
        }
        NpyValues::Signed(v) => {
            if cell.pe != "int16fma" {
                return Err(Error::new(format!(
                    "{p}: dtype {} (signed integers) is taken by the int16fma cell only; for \
                     cell {} give float32/float64 values (converted to {}) or unsigned raw codes \
                     of {width} bits",
                    arr.dtype,
                    cell.name(),
                    cell.format
                )));
            }
            for q in 0..rows * cols {
                let (r, c) = place(q);
                let x = v[at(r, c)];
                let y = i16::try_from(x).map_err(|_| {
                    Error::new(format!(
                        "{p}: element [{r}, {c}] (index {q} in row-major order) is {x}, \
                         outside int16 (-32768..=32767)"
                    ))
                })?;
                codes.push(y as u16 as u64);
            }
            Conversion::Int16
        }
        NpyValues::Float(v) => {
            let mut inexact = 0usize;
            let t = target(cell)?;
            for q in 0..rows * cols {
                let (r, c) = place(q);
                let x = v[at(r, c)];
                let bad = |what: String| {
                    Error::new(format!(
                        "{p}: element [{r}, {c}] (index {q} in row-major order) is {x}; {what}"
                    ))
                };
                let code = match &t {
                    Target::Float(f, ovf) => {
                        if x.is_nan() && !f.has_nan() {
                            return Err(bad(format!("{} has no NaN", f.name())));
                        }
                        if x.is_infinite() && !f.has_inf() {
                            return Err(bad(format!(
                                "{} has no Inf (give a finite value, or the raw code as an \
                                 unsigned integer)",
                                f.name()
                            )));
                        }
                        let code = f
                            .from_f64(x, Rounding::NearestEven, *ovf)
                            .map_err(|e| bad(e.to_string()))?;
                        let back = f.to_f64(code);
                        if !(back == x || back.is_nan() && x.is_nan()) {
                            inexact += 1;
                        }
                        code
                    }
                    Target::Int16 => {
                        if !x.is_finite() {
                            return Err(bad("int16 has no NaN or Inf".into()));
                        }
                        let y = x.round_ties_even();
                        if !(-32768.0..=32767.0).contains(&y) {
                            return Err(bad(
                                "it rounds outside int16 (-32768..=32767), the int16fma \
                                 cell's operand"
                                    .into(),
                            ));
                        }
                        if y != x {
                            inexact += 1;
                        }
                        y as i16 as u16 as u64
                    }
                };
                codes.push(code);
            }
            let (format, overflow) = match &t {
                Target::Float(f, o) => (f.name(), o.name().to_string()),
                Target::Int16 => ("int16".to_string(), "none".to_string()),
            };
            Conversion::Rounded {
                format,
                overflow,
                inexact,
            }
        }
    };
    Ok(Operand {
        path: path.to_path_buf(),
        dtype: arr.type_name(),
        rows,
        cols,
        fortran_order: arr.fortran_order,
        conversion,
        codes,
    })
}

/// Reads the `.npy` file `path` as an operand of `cell` ([`operand`]).
pub fn read_operand(path: &Path, cell: &Cell) -> Result<Operand> {
    operand(&read_npy_any(path)?, path, cell)
}

/// The array `rows x cols` of `pe`'s cell in `format` and `dataflow`. `policy`: `None` takes
/// the first policy the PE's cells list for the format (`pelab_hdl::array::cell::cells`).
/// Errors name what is wrong (a PE or format without a cell, a policy, the `is` dataflow,
/// which has no RTL, a size).
pub fn array_spec(
    pe: &str,
    format: &str,
    policy: Option<&str>,
    dataflow: Dataflow,
    rows: usize,
    cols: usize,
) -> Result<ArraySpec> {
    ArraySpec::new(cell_or_default(pe, format, policy)?, dataflow, rows, cols)
}

/// A GEMM to run.
#[derive(Debug, Clone)]
pub struct GemmJob {
    /// The array.
    pub spec: ArraySpec,
    /// A, `M x K`.
    pub a: PathBuf,
    /// B, `K x N`.
    pub b: PathBuf,
    /// Where it runs.
    pub engine: Engine,
    /// Working directory of an RTL run (Verilog, testbench, vectors, logs).
    pub work: PathBuf,
    /// Time limit per simulator step (compile or run).
    pub limit: Duration,
}

/// What a GEMM run gave.
#[derive(Debug, Clone)]
pub struct GemmRun {
    /// The array.
    pub spec: ArraySpec,
    /// Its module name.
    pub module: String,
    /// `M x K x N`.
    pub gemm: GemmDims,
    /// Where it ran.
    pub engine: Engine,
    /// A.
    pub a: Operand,
    /// B.
    pub b: Operand,
    /// C, `M x N` 32-bit codes, row-major.
    pub c: Vec<u32>,
    /// Folds, cycles and output cycles as the model counted them.
    pub trace: GemmTrace,
    /// The analytic timing (`pelab_sim::array::timing`).
    pub timing: Timing,
    /// `M·N·K' / (R·C·(cycles + 1))`, `K' = ceil(K/lanes)`, from the model's cycles.
    pub utilization: f64,
    /// The simulator's run (RTL engines).
    pub sim: Option<SimRun>,
    /// Cycles compared with the model (vector rows, reset and idle rows included).
    pub rows_compared: u64,
    /// The working directory (RTL engines).
    pub work_dir: Option<PathBuf>,
}

impl GemmRun {
    /// Values of A and B not converted exactly.
    pub fn inexact(&self) -> usize {
        self.a.conversion.inexact() + self.b.conversion.inexact()
    }
}

/// Runs `job`: reads the operands, checks their shapes, runs the GEMM and checks it (module
/// docs). `phase` is told what is being done (for a progress display).
///
/// Errors: bad operands (naming the file), a model C that differs from the reference GEMM,
/// and, for RTL engines, a simulator that does not pass (its first mismatches, by cycle, and
/// the working directory).
pub fn run(job: &GemmJob, phase: &dyn Fn(&str)) -> Result<GemmRun> {
    let spec = &job.spec;
    let cell = spec.cell.sim_cell()?;
    phase("reading operands");
    let (a, b) = operands(
        &read_npy_any(&job.a)?,
        &job.a,
        &read_npy_any(&job.b)?,
        &job.b,
        &cell,
    )?;
    if a.cols != b.rows {
        return Err(Error::new(format!(
            "A {} is {} x {} and B {} is {} x {}: the columns of A (K = {}) must equal the rows \
             of B ({})",
            a.path.display(),
            a.rows,
            a.cols,
            b.path.display(),
            b.rows,
            b.cols,
            a.cols,
            b.rows
        )));
    }
    let g = GemmDims::new(a.rows, a.cols, b.cols)?;
    pelab_sim::array::gemm::check_operands(&cell, g.m, g.k, g.n, &a.codes, &b.codes).map_err(
        |e| {
            Error::new(format!(
                "A {} and B {}: {e}",
                a.path.display(),
                b.path.display()
            ))
        },
    )?;
    let dims = ArrayDims::new(spec.rows, spec.cols)?;
    let t = timing_with(spec.dataflow, dims, g, &cell.pe_timing())?;
    let module = spec.module_name();
    let (c, trace, sim, rows_compared, work_dir) = match job.engine {
        Engine::Model => {
            phase("running the array model");
            let (c, trace) = match spec.dataflow {
                Dataflow::Os => run_gemm_os(&cell, dims, g, &a.codes, &b.codes)?,
                Dataflow::Ws => run_gemm_ws(&cell, dims, g, &a.codes, &b.codes)?,
                Dataflow::Is => {
                    return Err(Error::new(
                        "no RTL for the is dataflow; run ws on the transposed operands",
                    ))
                }
            };
            phase("checking against the reference GEMM");
            let want = gemm(&cell, g.m, g.k, g.n, &a.codes, &b.codes);
            if let Some(q) = (0..c.len()).find(|&q| c[q] != want[q]) {
                return Err(Error::new(format!(
                    "array model fault: {module} C[{}][{}] = {:08X}, the reference GEMM gives \
                     {:08X}",
                    q / g.n,
                    q % g.n,
                    c[q],
                    want[q]
                )));
            }
            (c, trace, None, 0, None)
        }
        Engine::Rtl(simulator) => {
            phase("building the cycle-by-cycle vectors");
            let v = vectors(spec, &[(g, a.codes.clone(), b.codes.clone())])?;
            phase(&format!(
                "{}: {module}, {} cycles",
                simulator.name(),
                v.rows.len()
            ));
            let report = verify(spec, &v, &[simulator], &job.work, job.limit, None)?;
            let run = report
                .runs
                .first()
                .cloned()
                .ok_or_else(|| Error::new(format!("{} did not run", simulator.name())))?;
            if run.status != Status::Passed {
                return Err(Error::new(failure(&v, &run, &report.work_dir, job.limit)));
            }
            let case = &v.cases[0];
            (
                case.c.clone(),
                case.trace,
                Some(run),
                report.rows,
                Some(report.work_dir),
            )
        }
    };
    let steps = (g.m * g.n * k_steps(g.k, cell.lanes)) as f64 * cell.pe_timing().step_cycles as f64;
    let utilization = steps / ((spec.rows * spec.cols) as f64 * (trace.cycles_scalesim + 1) as f64);
    Ok(GemmRun {
        spec: spec.clone(),
        module,
        gemm: g,
        engine: job.engine,
        a,
        b,
        c,
        trace,
        timing: t,
        utilization,
        sim,
        rows_compared,
        work_dir,
    })
}

/// The most mismatches a failure lists.
const SHOWN: usize = 5;

/// The message of a simulator run that did not pass: its status, its first mismatches by
/// cycle of the GEMM (the differing outputs, expected and got) and the working directory.
fn failure(v: &ArrayVectors, run: &SimRun, work: &Path, limit: Duration) -> String {
    let outs: Vec<&str> = v.layout.outputs().map(|f| f.name.as_str()).collect();
    let first_row = v.cases.first().map_or(0, |c| c.first_row) as u64;
    let mut msg = match run.status {
        Status::Failed => format!(
            "{} does not match the array model: {} of {} cycles differ",
            run.sim,
            run.failed,
            run.failed + run.passed
        ),
        _ => {
            let tail = run.log_tail.trim_end();
            format!(
                "{} {} without a verdict (time limit {} s per step); {}",
                run.sim,
                if run.status == Status::TimedOut {
                    "timed out"
                } else {
                    "crashed"
                },
                limit.as_secs(),
                if tail.is_empty() {
                    "it printed nothing".to_string()
                } else {
                    format!("its last output:\n{tail}")
                }
            )
        }
    };
    for m in run.mismatches.iter().take(SHOWN) {
        let when = if m.row > first_row {
            format!("cycle {} (vector row {})", m.row - first_row - 1, m.row)
        } else {
            format!("reset (vector row {})", m.row)
        };
        let diffs: Vec<String> = outs
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let e = m.expected.get(i).copied().unwrap_or(0);
                let g = m.got.get(i).copied().flatten();
                (g != Some(e)).then(|| {
                    format!(
                        "{name} expected {e:X} got {}",
                        g.map_or("X".into(), |g| format!("{g:X}"))
                    )
                })
            })
            .collect();
        msg.push_str(&format!("\n  {when}: {}", diffs.join(", ")));
    }
    if run.mismatches.len() > SHOWN {
        msg.push_str(&format!(
            "\n  ... {} more mismatches listed",
            run.mismatches.len() - SHOWN
        ));
    }
    msg.push_str(&format!("\n  work directory: {}", work.display()));
    msg
}

/// The per-row channel scales of quantized bitmod weights, if A was quantized.
pub fn channel_scales(run: &GemmRun) -> Option<&[f32]> {
    match &run.a.conversion {
        Conversion::Quantized { channel_scales, .. } => Some(channel_scales),
        _ => None,
    }
}

/// Writes C of `run` to `path` atomically: `M x N` float32 holding the FP32 result codes (bit
/// for bit) for the float cells, int32 for `int16fma`. When A was quantized (bitmod), each row
/// is first multiplied by its FP32 channel scale (round to nearest even), as the logic after
/// the array does.
pub fn write_c(path: &Path, run: &GemmRun) -> Result<()> {
    let shape = [run.gemm.m, run.gemm.n];
    if let Some(cs) = channel_scales(run) {
        let n = run.gemm.n;
        let v: Vec<f32> = run
            .c
            .iter()
            .enumerate()
            .map(|(q, &c)| f32::from_bits(c) * cs[q / n])
            .collect();
        return write_npy(path, &shape, &v);
    }
    if run.spec.cell.float {
        let v: Vec<f32> = run.c.iter().map(|&c| f32::from_bits(c)).collect();
        write_npy(path, &shape, &v)
    } else {
        let v: Vec<i32> = run.c.iter().map(|&c| c as i32).collect();
        write_npy(path, &shape, &v)
    }
}
