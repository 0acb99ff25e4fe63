//! Waveforms of verification runs: VCD files of a window of rows, for GTKWave.
//!
//! A waveform comes from a run of its own over the window's rows only (not from a dump of the
//! whole run): Icarus and Verilator run the waveform testbench ([`crate::tb::testbench_waves`],
//! Verilator built with `--trace`), and the gate engine runs the rows one lane at a time and
//! writes the VCD itself. The window's run starts early enough for the DUT to hold the state the
//! whole run had at the window's first row: `latency` rows before it for a pipeline (which
//! fills with real rows, not X), at the transaction's first row (a row that asserts one of the
//! layout's [`Layout::restart`] inputs) for the cycle-by-cycle PEs. Every row simulated is in the
//! file. A waveform written for a failure records whether its own run failed first on the same
//! row ([`Waveform::reproduced`]); a DUT whose state does not follow its reset may not.
//!
//! Every VCD has the same signals, in scope `pelab_tb` (under `TOP` in Verilator's): `tbclk`;
//! the DUT ports by their names (`clock` included when the PE is clocked), again in the scope
//! `dut` with the DUT's internal signals (gate engine: ports only); and the checker signals,
//! which change at the falling edge of `tbclk` where a row is compared and describe that row:
//! `check_row` (its index in the whole vector set; all ones before the first compare),
//! `expected_<output>`, `got_<output>` (the output compared), `care` (PEs with a
//! `CARE` mask) and `mismatch`. The outputs compared are the values the DUT ports held just
//! before that edge. Row `k` of the window's run is applied at the falling edge at
//! `2k + 1` ns and compared at `2(k + due) + 1` ns, `due` being the pipeline latency (at least 1).

use crate::codec::PeVectors;
use crate::gates::bind;
use crate::run::{simulate_traced, Mismatch, SimRun, Simulator, Status};
use crate::tb::{testbench_waves, TbWaves};
use crate::vectors::{CaseSet, Layout, Shard, Timing, VectorSet};
use pelab_hdl::RtlConfig;
use pelab_sim::netlist::{Netlist, Sim, ToggleMode};
use pelab_sim::{Error, Result};
use serde::Serialize;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vcd::{IdCode, ReferenceIndex, TimescaleUnit, Value, VarType};

/// Rows in a `--vcd` waveform when no window is given: the run's first rows.
pub const VCD_ROWS: u64 = 256;

/// Rows shown before and after the first failing row in a failure waveform.
pub const FAIL_CONTEXT: u64 = 8;

/// Rows `from..to` of a run (`from` included, `to` not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First row.
    pub from: u64,
    /// One past the last row.
    pub to: u64,
}

impl Window {
    /// Parses `A..B` (rows A to B - 1).
    pub fn parse(s: &str) -> Result<Window> {
        let bad = || {
            Error::new(format!(
                "'{s}' is not a window of rows: expected A..B, rows A up to B - 1 with A < B, \
                 e.g. 100..200"
            ))
        };
        let (a, b) = s.split_once("..").ok_or_else(bad)?;
        let (from, to): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if from >= to {
            return Err(bad());
        }
        Ok(Window { from, to })
    }

    /// The first [`VCD_ROWS`] rows of `rows`.
    pub fn first(rows: &Range<u64>) -> Window {
        Window {
            from: rows.start,
            to: rows.end.min(rows.start.saturating_add(VCD_ROWS)),
        }
    }

    /// [`FAIL_CONTEXT`] rows either side of `row`, within `rows`.
    pub fn around(row: u64, rows: &Range<u64>) -> Window {
        Window {
            from: row.saturating_sub(FAIL_CONTEXT).max(rows.start),
            to: row.saturating_add(FAIL_CONTEXT + 1).min(rows.end),
        }
    }

    /// Whether `row` is in the window.
    pub fn contains(&self, row: u64) -> bool {
        (self.from..self.to).contains(&row)
    }

    /// Checks that the window lies within the run's rows `rows`.
    pub fn check(&self, rows: &Range<u64>) -> Result<()> {
        if self.from < rows.start || self.to > rows.end {
            return Err(Error::new(format!(
                "waveform window {}..{} is outside the run's rows {}..{}",
                self.from, self.to, rows.start, rows.end
            )));
        }
        Ok(())
    }
}

/// Which waveforms a verification writes.
#[derive(Debug, Clone, Default)]
pub struct Waves {
    /// Write a VCD of `window` from each simulator to this file; when several simulators
    /// write one, each file gets its simulator's name ([`sim_path`]).
    pub vcd: Option<PathBuf>,
    /// The rows of the `vcd` waveform (default: [`Window::first`]).
    pub window: Option<Window>,
    /// On a mismatch, write a VCD of the rows around the simulator's first failing row
    /// ([`Window::around`]) into the work directory ([`failure_path`]), unless the `vcd`
    /// waveform shows that row already.
    pub on_failure: bool,
}

impl Waves {
    /// Whether any waveform may be written.
    pub fn any(&self) -> bool {
        self.vcd.is_some() || self.on_failure
    }
}

/// A VCD that a verification wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waveform {
    /// Simulator.
    pub sim: String,
    /// The file.
    pub path: PathBuf,
    /// The rows asked for.
    pub window: Window,
    /// The first row simulated (before `window.from` when a pipeline fills or a transaction
    /// starts earlier); the file shows rows `start..window.to`.
    pub start: u64,
    /// For a waveform of a failure: the first row that failed in the verification run.
    pub failing_row: Option<u64>,
    /// The first row that failed in the waveform's own run.
    pub first_mismatch: Option<u64>,
    /// When `mismatch` rises for `first_mismatch`, in ns from the start of the file.
    pub mismatch_ns: Option<u64>,
}

impl Waveform {
    /// Whether the waveform's run failed first on the verification's first failing row.
    pub fn reproduced(&self) -> bool {
        self.failing_row.is_some() && self.failing_row == self.first_mismatch
    }
}

/// `path` with the simulator's name before its extension: `out.vcd` -> `out.icarus.vcd`
/// (`out` -> `out.icarus.vcd`).
pub fn sim_path(path: &Path, sim: Simulator) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "waves".into());
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "vcd".into());
    path.with_file_name(format!("{stem}.{}.{ext}", sim.name()))
}

/// Where the failure waveform of `module` on `sim` goes: `<work>/<module>-<sim>-fail.vcd`.
pub fn failure_path(work: &Path, module: &str, sim: Simulator) -> PathBuf {
    work.join(format!("{module}-{}-fail.vcd", sim.name()))
}

/// The time (ns) of the falling edge where row `k` of a waveform's run is compared.
fn check_ns(k: u64, due: u64) -> u64 {
    2 * (k + due) + 1
}

/// Rising edges between a row's inputs and the check of its outputs (at least 1).
fn due(layout: &Layout) -> u64 {
    match layout.timing {
        Timing::Stream { latency } => latency.max(1) as u64,
        Timing::Cycles => 1,
    }
}

/// The first row to simulate so that the DUT is in the run's state at row `from` of `rows`:
/// `latency` rows earlier for a pipeline, the last row at or before `from` that asserts a
/// restart input for a cycle-by-cycle PE (row 0 when there is none).
pub fn start_row(layout: &Layout, rows: &[Vec<u64>], from: usize) -> usize {
    match layout.timing {
        Timing::Stream { latency } => from.saturating_sub(latency as usize),
        Timing::Cycles => {
            let cols: Vec<usize> = layout
                .inputs()
                .enumerate()
                .filter(|(_, f)| layout.restart.contains(&f.name))
                .map(|(k, _)| k)
                .collect();
            (0..=from.min(rows.len().saturating_sub(1)))
                .rev()
                .find(|&i| cols.iter().any(|&k| rows[i][k] == 1))
                .unwrap_or(0)
        }
    }
}

/// The rows of exhaustive cases `range` of a PE whose cases are single rows (inputs, then
/// expected outputs).
pub fn exhaustive_rows(
    pe: &dyn PeVectors,
    cfg: &RtlConfig,
    range: Range<u64>,
) -> Result<Vec<Vec<u64>>> {
    let mut rows = Vec::new();
    for i in range {
        let case = pe.exhaustive_case(cfg, i);
        let outs = pe.expected(cfg, &case)?;
        for (mut row, (o, _)) in case.into_iter().zip(outs) {
            row.extend(o);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// What a waveform run needs to know about the verification.
pub(crate) struct Target<'a> {
    /// PE id and configuration (for the window's vector memory).
    pub pe: &'a str,
    pub config: &'a RtlConfig,
    pub layout: &'a Layout,
    /// DUT module and sources.
    pub module: &'a str,
    pub files: &'a [PathBuf],
    /// The gate netlist, when the gate engine ran.
    pub net: Option<&'a Netlist>,
    /// The verification's work directory (absolute).
    pub work: &'a Path,
    pub limit: Duration,
    /// The run's row indices.
    pub range: Range<u64>,
    /// First row to simulate for a window starting at a row.
    pub start: &'a dyn Fn(u64) -> u64,
    /// Rows `a..b` of the run.
    pub rows: &'a dyn Fn(u64, u64) -> Result<Vec<Vec<u64>>>,
}

/// Writes the waveforms `waves` asks for after the runs `runs` (one per simulator of
/// `sims`): the waveforms written, and why a simulator has none where one was due.
pub(crate) fn write_waves(
    t: &Target,
    waves: &Waves,
    sims: &[Simulator],
    runs: &[SimRun],
) -> Result<(Vec<Waveform>, Vec<String>)> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let several = sims.iter().filter(|&&s| s != Simulator::RustHdl).count() > 1;
    for (&sim, run) in sims.iter().zip(runs) {
        let first_fail = run.mismatches.iter().map(|m| m.row).min();
        let failed = run.status != Status::Passed;
        if sim == Simulator::RustHdl {
            if waves.vcd.is_some() || (waves.on_failure && failed) {
                notes.push(
                    "rusthdl: no waveform (rust-hdl's in-process run writes none; icarus, \
                     verilator and gates do)"
                        .into(),
                );
            }
            continue;
        }
        let mut shown = false;
        if let Some(path) = &waves.vcd {
            let w = waves.window.unwrap_or_else(|| Window::first(&t.range));
            let dest = if several {
                sim_path(path, sim)
            } else {
                path.clone()
            };
            let fail = first_fail.filter(|&r| w.contains(r));
            shown = fail.is_some();
            out.push(waveform(t, sim, w, &dest, fail)?);
        }
        let fail_path = failure_path(t.work, t.module, sim);
        // A failure waveform left by an earlier run of this module is no longer true.
        let _ = std::fs::remove_file(&fail_path);
        if !waves.on_failure || shown || !failed {
            continue;
        }
        match first_fail {
            Some(r) => {
                let w = Window::around(r, &t.range);
                match waveform(t, sim, w, &fail_path, Some(r)) {
                    Ok(wf) => out.push(wf),
                    Err(e) => notes.push(format!("{}: no failure waveform: {}", sim.name(), e.0)),
                }
            }
            None => notes.push(format!(
                "{}: no failure waveform: the run {} without a mismatched row to show",
                sim.name(),
                match run.status {
                    Status::Crashed => "crashed",
                    Status::TimedOut => "timed out",
                    _ => "failed",
                }
            )),
        }
    }
    Ok((out, notes))
}

/// Runs the rows of window `w` on `sim` and writes its VCD to `dest`.
fn waveform(
    t: &Target,
    sim: Simulator,
    w: Window,
    dest: &Path,
    failing_row: Option<u64>,
) -> Result<Waveform> {
    let start = (t.start)(w.from).min(w.from);
    let rows = (t.rows)(start, w.to)?;
    let run = match sim {
        Simulator::Gates => {
            let net = t
                .net
                .ok_or_else(|| Error::new("the gate netlist is not at hand"))?;
            gates_vcd(net, t.layout, &rows, start, dest)?
        }
        Simulator::Icarus | Simulator::Verilator => {
            let dir = t.work.join(format!("waves-{}", sim.name()));
            verilog_vcd(t, sim, &rows, start, &dir, dest)?
        }
        Simulator::RustHdl => return Err(Error::new("rust-hdl writes no waveform")),
    };
    let first_mismatch = run.mismatches.iter().map(|m| m.row).min();
    Ok(Waveform {
        sim: sim.name().into(),
        path: dest.to_path_buf(),
        window: w,
        start,
        failing_row,
        first_mismatch,
        mismatch_ns: first_mismatch.map(|r| check_ns(r - start, due(t.layout))),
    })
}

/// Runs `rows` (row `base` of the run first) through the waveform testbench on Icarus or
/// Verilator in `dir` and moves the VCD to `dest`.
fn verilog_vcd(
    t: &Target,
    sim: Simulator,
    rows: &[Vec<u64>],
    base: u64,
    dir: &Path,
    dest: &Path,
) -> Result<SimRun> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::new(format!("cannot {what} {}: {e}", p.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    let n = rows.len() as u64;
    let set = VectorSet {
        pe: t.pe.into(),
        config: t.config.clone(),
        layout: t.layout.clone(),
        set: CaseSet::Count(n),
        seed: 0,
        shard: Shard::ALL,
        cases: n,
        rows: rows.to_vec(),
    };
    let mem = dir.join("vectors.mem");
    std::fs::write(&mem, set.to_mem()).map_err(|e| io("write", &mem, e))?;
    let tb = dir.join("pelab_tb.v");
    let waves = TbWaves {
        vcd: "waves.vcd".into(),
        base,
    };
    let text = testbench_waves(t.module, t.layout, n, "vectors.mem", Some(&waves));
    std::fs::write(&tb, text).map_err(|e| io("write", &tb, e))?;
    let vcd = dir.join(&waves.vcd);
    let _ = std::fs::remove_file(&vcd);
    let mut run = simulate_traced(sim, dir, &tb, t.files, n, t.limit, true)?;
    if !matches!(run.status, Status::Passed | Status::Failed) || !vcd.exists() {
        return Err(Error::new(format!(
            "the waveform run in {} ended {:?} without a VCD; last output:\n{}",
            dir.display(),
            run.status,
            run.log_tail
        )));
    }
    for m in &mut run.mismatches {
        m.row += base;
    }
    check_vcd(&vcd)?;
    pelab_hdl::emit::write_atomic_with(dest, |w| {
        let mut f = std::fs::File::open(&vcd)?;
        std::io::copy(&mut f, w).map(|_| ())
    })?;
    Ok(run)
}

/// Checks that the VCD `path` is whole: it parses to its end and declares `mismatch`.
fn check_vcd(path: &Path) -> Result<()> {
    let bad = |e: std::io::Error| Error::new(format!("{} is not a whole VCD: {e}", path.display()));
    let f = std::fs::File::open(path).map_err(bad)?;
    let mut p = vcd::Parser::new(std::io::BufReader::new(f));
    let header = p.parse_header().map_err(bad)?;
    fn declares(items: &[vcd::ScopeItem], name: &str) -> bool {
        items.iter().any(|i| match i {
            vcd::ScopeItem::Var(v) => v.reference == name,
            vcd::ScopeItem::Scope(s) => declares(&s.items, name),
            _ => false,
        })
    }
    if !declares(&header.items, "mismatch") {
        return Err(Error::new(format!(
            "{} declares no signal 'mismatch'; expected the waveform testbench's",
            path.display()
        )));
    }
    for c in p {
        c.map_err(bad)?;
    }
    Ok(())
}

/// One VCD variable and the value last written to it (`None`: x).
struct Var {
    id: IdCode,
    width: u32,
    last: Option<Option<u64>>,
}

impl Var {
    fn set<W: Write>(&mut self, v: &mut vcd::Writer<W>, value: Option<u64>) -> std::io::Result<()> {
        if self.last == Some(value) {
            return Ok(());
        }
        self.last = Some(value);
        let bit = |i: u32| match value {
            None => Value::X,
            Some(x) => Value::from(x >> i & 1 == 1),
        };
        if self.width == 1 {
            v.change_scalar(self.id, bit(0))
        } else {
            v.change_vector(self.id, (0..self.width).rev().map(bit))
        }
    }
}

/// Declares a variable of `width` bits named `name` in the current scope.
fn declare<W: Write>(
    v: &mut vcd::Writer<W>,
    kind: VarType,
    width: u32,
    name: &str,
) -> std::io::Result<Var> {
    let index = (width > 1).then(|| ReferenceIndex::Range(width as i32 - 1, 0));
    Ok(Var {
        id: v.add_var(kind, width, name, index)?,
        width,
        last: None,
    })
}

/// Runs `rows` (row `base` of the run first) on the gate netlist in one lane, with the
/// testbench's timing, writing every port, `tbclk` and the checker signals to the VCD `dest`.
/// Returns the verdict on the rows (mismatches by row of the run).
pub fn gates_vcd(
    net: &Netlist,
    layout: &Layout,
    rows: &[Vec<u64>],
    base: u64,
    dest: &Path,
) -> Result<SimRun> {
    let b = bind(net, layout)?;
    let ins: Vec<_> = layout.inputs().collect();
    let outs: Vec<_> = layout.outputs().collect();
    let (n_in, n_out) = (ins.len(), outs.len());
    let width = n_in + n_out + usize::from(layout.care);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() < width) {
        return Err(Error::new(format!(
            "row {} has {} columns; the layout needs {width}",
            base + i as u64,
            r.len()
        )));
    }
    let clocked = layout.clocked();
    let due = due(layout) as usize;
    let n = rows.len();
    let t0 = std::time::Instant::now();
    let mut run = SimRun {
        sim: Simulator::Gates.name().into(),
        status: Status::Passed,
        passed: 0,
        failed: 0,
        compile_secs: 0.0,
        run_secs: 0.0,
        vectors_per_sec: 0.0,
        mismatches: Vec::new(),
        log_tail: String::new(),
    };
    let mut sim = Sim::new(net, ToggleMode::Off);
    pelab_hdl::emit::write_atomic_with(dest, |w| {
        let mut v = vcd::Writer::new(w);
        v.version(&format!(
            "pelab {} gate engine: {}",
            env!("CARGO_PKG_VERSION"),
            net.top
        ))?;
        v.timescale(1, TimescaleUnit::PS)?;
        v.add_module("pelab_tb")?;
        let mut tbclk = declare(&mut v, VarType::Reg, 1, "tbclk")?;
        let mut clock = if clocked {
            Some(declare(&mut v, VarType::Reg, 1, "clock")?)
        } else {
            None
        };
        let mut vin = Vec::new();
        for f in &ins {
            vin.push(declare(&mut v, VarType::Reg, f.width, &f.name)?);
        }
        let mut vout = Vec::new();
        for f in &outs {
            vout.push(declare(&mut v, VarType::Wire, f.width, &f.name)?);
        }
        let mut check_row = declare(&mut v, VarType::Reg, 64, "check_row")?;
        let (mut vexp, mut vgot) = (Vec::new(), Vec::new());
        for f in &outs {
            vexp.push(declare(
                &mut v,
                VarType::Reg,
                f.width,
                &format!("expected_{}", f.name),
            )?);
            vgot.push(declare(
                &mut v,
                VarType::Reg,
                f.width,
                &format!("got_{}", f.name),
            )?);
        }
        let mut care = if layout.care {
            Some(declare(&mut v, VarType::Reg, n_out as u32, "care")?)
        } else {
            None
        };
        let mut mismatch = declare(&mut v, VarType::Reg, 1, "mismatch")?;
        // The DUT's ports again in its own scope, as in the Verilog simulators' files.
        v.add_module("dut")?;
        let ports = clock.iter().chain(&vin).chain(&vout);
        let names = clocked
            .then_some("clock")
            .into_iter()
            .chain(ins.iter().chain(&outs).map(|f| f.name.as_str()));
        for (p, name) in ports.zip(names) {
            let index = (p.width > 1).then(|| ReferenceIndex::Range(p.width as i32 - 1, 0));
            v.var_def(VarType::Wire, p.width, p.id, name, index)?;
        }
        v.upscope()?;
        v.upscope()?;
        v.enddefinitions()?;
        // Time 0: the testbench's power-up values.
        v.timestamp(0)?;
        v.begin(vcd::SimulationCommand::Dumpvars)?;
        tbclk.set(&mut v, Some(1))?;
        if let Some(c) = &mut clock {
            c.set(&mut v, Some(1))?;
        }
        for x in vin
            .iter_mut()
            .chain(&mut vout)
            .chain(&mut vexp)
            .chain(&mut vgot)
        {
            x.set(&mut v, None)?;
        }
        check_row.set(&mut v, Some(u64::MAX))?;
        if let Some(c) = &mut care {
            c.set(&mut v, None)?;
        }
        mismatch.set(&mut v, Some(0))?;
        v.end()?;
        let mut got = vec![0u64; n_out];
        let mut one = [0u64; 1];
        for tick in 0..=n + due {
            // Falling edge: compare the row due, then apply the next row's inputs.
            v.timestamp(2000 * tick as u64 + 1000)?;
            tbclk.set(&mut v, Some(0))?;
            if let Some(c) = &mut clock {
                c.set(&mut v, Some(0))?;
            }
            if tick == n + due {
                break;
            }
            if tick >= due {
                let k = tick - due;
                let row = &rows[k];
                let exp = &row[n_in..n_in + n_out];
                let mask = if layout.care {
                    row[n_in + n_out]
                } else {
                    u64::MAX
                };
                let bad = (0..n_out).any(|j| mask >> j & 1 == 1 && got[j] != exp[j]);
                if bad {
                    run.failed += 1;
                    if run.mismatches.len() < crate::tb::SHOWN_MISMATCHES as usize {
                        run.mismatches.push(Mismatch {
                            row: base + k as u64,
                            inputs: row[..n_in].to_vec(),
                            expected: exp.to_vec(),
                            got: got.iter().map(|&g| Some(g)).collect(),
                        });
                    }
                } else {
                    run.passed += 1;
                }
                mismatch.set(&mut v, Some(u64::from(bad)))?;
                check_row.set(&mut v, Some(base + k as u64))?;
                for (x, &e) in vexp.iter_mut().zip(exp) {
                    x.set(&mut v, Some(e))?;
                }
                for (x, &g) in vgot.iter_mut().zip(&got) {
                    x.set(&mut v, Some(g))?;
                }
                if let Some(c) = &mut care {
                    c.set(&mut v, Some(mask))?;
                }
            }
            if tick < n {
                for (j, &p) in b.inputs.iter().enumerate() {
                    sim.set_values(p, &rows[tick][j..=j]);
                    vin[j].set(&mut v, Some(rows[tick][j]))?;
                }
                sim.eval();
                for (j, &p) in b.outputs.iter().enumerate() {
                    sim.values(p, &mut one);
                    got[j] = one[0];
                    vout[j].set(&mut v, Some(one[0]))?;
                }
            }
            // Rising edge: the DUT's registers take their next state.
            v.timestamp(2000 * tick as u64 + 2000)?;
            tbclk.set(&mut v, Some(1))?;
            if let Some(c) = &mut clock {
                c.set(&mut v, Some(1))?;
                sim.clock(1);
                sim.eval();
                for (j, &p) in b.outputs.iter().enumerate() {
                    sim.values(p, &mut one);
                    got[j] = one[0];
                    vout[j].set(&mut v, Some(one[0]))?;
                }
            }
        }
        Ok(())
    })?;
    run.run_secs = t0.elapsed().as_secs_f64();
    run.vectors_per_sec = n as f64 / run.run_secs.max(1e-9);
    if run.failed > 0 || run.passed == 0 {
        run.status = Status::Failed;
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_place() {
        assert_eq!(Window::parse("3..10").unwrap(), Window { from: 3, to: 10 });
        for bad in ["3", "10..3", "4..4", "a..5", "1..2..3", "-1..4"] {
            let e = Window::parse(bad).unwrap_err().0;
            assert!(e.contains(bad) && e.contains("A..B"), "{e}");
        }
        let rows = 0..100;
        assert_eq!(Window::first(&rows), Window { from: 0, to: 100 });
        assert_eq!(Window::first(&(0..1000)).to, VCD_ROWS);
        assert_eq!(Window::around(3, &rows), Window { from: 0, to: 12 });
        assert_eq!(Window::around(50, &rows), Window { from: 42, to: 59 });
        assert_eq!(Window::around(99, &rows), Window { from: 91, to: 100 });
        assert!(Window { from: 90, to: 101 }.check(&rows).is_err());
        assert!(Window { from: 90, to: 100 }.check(&rows).is_ok());
    }

    #[test]
    fn file_names() {
        let p = Path::new("/tmp/out.vcd");
        assert_eq!(
            sim_path(p, Simulator::Icarus),
            Path::new("/tmp/out.icarus.vcd")
        );
        assert_eq!(
            sim_path(Path::new("w"), Simulator::Gates),
            Path::new("w.gates.vcd")
        );
        assert_eq!(
            failure_path(
                Path::new("work"),
                "pelab_lmul_e4m3_sat",
                Simulator::Verilator
            ),
            Path::new("work/pelab_lmul_e4m3_sat-verilator-fail.vcd")
        );
    }

    #[test]
    fn only_the_waveform_testbench_dumps() {
        use crate::vectors::Field;
        let layout = Layout {
            fields: vec![
                Field::input("a", 4),
                Field::output("y", 4),
                Field::output("v", 1),
            ],
            timing: Timing::Stream { latency: 1 },
            care: true,
            restart: vec![],
        };
        let plain = crate::tb::testbench("m", &layout, 10, "v.mem");
        assert!(
            !plain.contains("$dump") && !plain.contains("mismatch"),
            "{plain}"
        );
        let waves = TbWaves {
            vcd: "w.vcd".into(),
            base: 70,
        };
        let tb = testbench_waves("m", &layout, 10, "v.mem", Some(&waves));
        for want in [
            "$dumpfile(\"w.vcd\");",
            "$dumpvars(0, pelab_tb);",
            "localparam [63:0] BASE = 64'd70;",
            "check_row = BASE + (n - 1);",
            "expected_y = chk[",
            "got_v = v;",
            "care = chk[",
            "mismatch = bad;",
        ] {
            assert!(tb.contains(want), "{want} missing:\n{tb}");
        }
        // The waveform testbench finishes whatever its verdict, so the VCD is closed.
        assert!(!tb.contains("$stop") && !tb.contains("std::exit"), "{tb}");
        assert!(plain.contains("$stop") && plain.contains("std::exit"));
    }

    #[test]
    fn windows_start_where_the_state_is_known() {
        use crate::vectors::Field;
        let pipe = Layout {
            fields: vec![Field::input("a", 4), Field::output("y", 4)],
            timing: Timing::Stream { latency: 2 },
            care: false,
            restart: vec![],
        };
        let rows = vec![vec![0, 0]; 10];
        assert_eq!(start_row(&pipe, &rows, 5), 3);
        assert_eq!(start_row(&pipe, &rows, 1), 0);
        let mac = Layout {
            fields: vec![
                Field::input("reset", 1),
                Field::input("a", 4),
                Field::output("y", 4),
            ],
            timing: Timing::Cycles,
            care: false,
            restart: vec!["reset".into()],
        };
        let rows: Vec<Vec<u64>> = [1, 0, 0, 1, 0, 0, 0]
            .iter()
            .map(|&r| vec![r, 0, 0])
            .collect();
        assert_eq!(start_row(&mac, &rows, 5), 3);
        assert_eq!(start_row(&mac, &rows, 3), 3);
        assert_eq!(start_row(&mac, &rows, 2), 0);
    }
}
