//! pelab's own gate-level simulator as a verification simulator and as the source of switching
//! activity: the rows of a vector set (or of a workload) replayed on the synthesized netlist
//! with [`pelab_sim::netlist`], [`LANES`] vectors per step.
//!
//! How rows meet the lanes:
//! - combinational streams (`Stream { latency: 0 }`): lanes hold consecutive rows; toggles are
//!   counted between consecutive rows (the order the hardware would see them);
//! - pipelines (`Stream { latency: L }`): the rows are cut into up to [`LANES`] contiguous
//!   segments, one per lane, each warmed up with the `L` rows before it;
//! - stateful PEs (`Cycles`): the rows are cut at rows that assert one of the layout's
//!   [`Layout::restart`] inputs (where the state stops depending on earlier rows), one segment
//!   per lane.
//!
//! Timing is the testbench's: inputs of row `c` are applied, the logic settles, a rising edge
//! follows, and the outputs then visible are compared with row `c + 1 - max(L, 1)`.

use crate::codec::ColumnBlock;
use crate::run::{Mismatch, SimRun, Simulator, Status};
use crate::vectors::{Field, Layout, Timing};
use pelab_sim::energy::Activity;
use pelab_sim::netlist::{Delay, Netlist, Sim, ToggleMode, LANES, LANE_WORDS};
use pelab_sim::{Error, Result};
use rayon::prelude::*;
use std::time::Instant;

/// Synthesizes `verilog` (top `module`) to Yosys generic gates, or onto the cells of
/// `liberty` (through the synthesis cache), and loads the netlist into the gate engine;
/// returns it with the path of its JSON file. `lib` is the parsed `liberty`, needed to
/// evaluate its cells.
pub fn synthesized_netlist(
    verilog: &str,
    module: &str,
    liberty: Option<(&std::path::Path, &pelab_sim::liberty::Library)>,
) -> Result<(Netlist, std::path::PathBuf)> {
    let rep = match liberty {
        None => pelab_hdl::synth::synthesize(verilog, module, pelab_hdl::Flow::Generic)?,
        Some((path, _)) => pelab_hdl::synth::synthesize_liberty(verilog, module, path)?,
    };
    load_netlist(&rep, module, liberty.map(|l| l.1))
}

/// [`synthesized_netlist`] on Yosys generic gates, mapped module by module and then flattened
/// ([`pelab_hdl::synth::synthesize_hierarchical`]): for arrays of identical cells.
pub fn synthesized_netlist_hierarchical(
    verilog: &str,
    module: &str,
) -> Result<(Netlist, std::path::PathBuf)> {
    let rep = pelab_hdl::synth::synthesize_hierarchical(verilog, module, pelab_hdl::Flow::Generic)?;
    load_netlist(&rep, module, None)
}

/// The gate-engine netlist of a synthesis report, with the path of its JSON file.
fn load_netlist(
    rep: &pelab_hdl::synth::SynthReport,
    module: &str,
    liberty: Option<&pelab_sim::liberty::Library>,
) -> Result<(Netlist, std::path::PathBuf)> {
    let json = std::fs::read_to_string(&rep.netlist)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", rep.netlist.display())))?;
    let net = Netlist::from_yosys_json(&json, module, &rep.netlist.display().to_string(), liberty)?;
    Ok((net, rep.netlist.clone()))
}

/// A gates run with nothing counted yet.
fn empty_run() -> SimRun {
    SimRun {
        sim: Simulator::Gates.name().into(),
        status: Status::Passed,
        passed: 0,
        failed: 0,
        compile_secs: 0.0,
        run_secs: 0.0,
        vectors_per_sec: 0.0,
        mismatches: Vec::new(),
        log_tail: String::new(),
    }
}

/// Switching activity of a gate-level run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateActivity {
    /// Toggles per entry of [`Netlist::counted`] (glitches included under unit delay).
    pub toggles: Vec<u64>,
    /// Zero-delay toggles per entry of [`Netlist::counted`] (equal to `toggles` under zero
    /// delay).
    pub zero_delay_toggles: Vec<u64>,
    /// The delay model of the run.
    pub delay: Delay,
    /// Clock cycles summed over lanes.
    pub lane_cycles: u64,
    /// Rows (operations or cycles) over which toggles were counted.
    pub samples: u64,
    /// When recorded ([`run_gates_recorded`]): the length of a row in time units and the time
    /// each counted net spent at 1 over the counted rows.
    pub high_time: Option<(u32, Vec<u64>)>,
    /// Under a timed model: the latest change after the inputs changed, in time units.
    pub settle_time: u32,
}

impl GateActivity {
    /// The activity for [`energy`](pelab_sim::energy::energy): `ops` operations of
    /// `cycles_per_op` clock cycles each.
    pub fn activity(&self, ops: f64, cycles_per_op: f64) -> Activity<'_> {
        Activity {
            toggles: &self.toggles,
            lane_cycles: self.lane_cycles,
            ops,
            cycles_per_op,
        }
    }
}

/// Port bindings of a layout on a netlist.
pub(crate) struct Binding {
    /// Netlist input port of each input field.
    pub(crate) inputs: Vec<usize>,
    /// Netlist output port of each output field.
    pub(crate) outputs: Vec<usize>,
    n_in: usize,
    n_out: usize,
    due: usize,
    latency: usize,
    pub(crate) comb: bool,
}

/// Binds the layout's fields to the netlist's ports (checking their widths).
pub(crate) fn bind(net: &Netlist, layout: &Layout) -> Result<Binding> {
    // The port of each field, which must be as wide as the field (outputs at most 64 bits).
    let port = |dir: &str, f: &Field, p: usize, bits: usize, max: u32| {
        if bits != f.width as usize || f.width > max {
            return Err(Error::new(format!(
                "{}: {dir} {} is {bits} bits wide, the vectors say {}",
                net.source, f.name, f.width
            )));
        }
        Ok(p)
    };
    let inputs = layout
        .inputs()
        .map(|f| {
            let p = net.input(&f.name)?;
            port("input", f, p, net.inputs[p].bits.len(), u32::MAX)
        })
        .collect::<Result<Vec<usize>>>()?;
    let outputs = layout
        .outputs()
        .map(|f| {
            let p = net.output(&f.name)?;
            port("output", f, p, net.outputs[p].bits.len(), 64)
        })
        .collect::<Result<Vec<usize>>>()?;
    let (latency, comb) = match layout.timing {
        Timing::Stream { latency } => (latency as usize, latency == 0),
        Timing::Cycles => (1, false),
    };
    if comb && !net.flops.is_empty() {
        return Err(Error::new(format!(
            "{}: the vectors describe a combinational PE but the netlist has {} flip-flops",
            net.source,
            net.flops.len()
        )));
    }
    Ok(Binding {
        n_in: inputs.len(),
        n_out: outputs.len(),
        inputs,
        outputs,
        due: latency.max(1),
        latency,
        comb,
    })
}

/// Segments (start, end) of the rows, one per lane.
fn segments(
    layout: &Layout,
    rows: &[Vec<u64>],
    latency: usize,
    min_len: usize,
) -> Vec<(usize, usize)> {
    let n = rows.len();
    if n == 0 {
        return Vec::new();
    }
    let starts: Vec<usize> = match layout.timing {
        Timing::Cycles => {
            let cols: Vec<usize> = layout
                .inputs()
                .enumerate()
                .filter(|(_, f)| layout.restart.contains(&f.name))
                .map(|(k, _)| k)
                .collect();
            let cand: Vec<usize> = (0..n)
                .filter(|&i| i == 0 || cols.iter().any(|&k| rows[i][k] == 1))
                .collect();
            // Up to LANES starts, spread evenly over the rows.
            let mut picked = vec![0usize];
            let step = n.div_ceil(LANES).max(min_len);
            for &c in &cand {
                if c >= picked.last().unwrap() + step && picked.len() < LANES {
                    picked.push(c);
                }
            }
            picked
        }
        Timing::Stream { .. } => {
            let per = n.div_ceil(LANES).max(latency.max(1));
            (0..n).step_by(per).collect()
        }
    };
    let mut segs = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n);
        segs.push((s, e));
    }
    segs
}

/// Outcome of comparing one row.
struct Checker<'a> {
    layout: &'a Layout,
    rows: &'a [Vec<u64>],
    n_in: usize,
    n_out: usize,
    run: SimRun,
}

impl Checker<'_> {
    fn check(&mut self, row: usize, got: &[u64]) {
        let r = &self.rows[row];
        let exp = &r[self.n_in..self.n_in + self.n_out];
        let care = if self.layout.care {
            r[self.n_in + self.n_out]
        } else {
            u64::MAX
        };
        let bad = (0..self.n_out).any(|j| care >> j & 1 == 1 && got[j] != exp[j]);
        if bad {
            self.run.failed += 1;
            // Keep the first rows that failed (lanes run segments side by side, so rows do not
            // fail in order): a later row gives way to an earlier one.
            let m = Mismatch {
                row: row as u64,
                inputs: r[..self.n_in].to_vec(),
                expected: exp.to_vec(),
                got: got.iter().map(|v| Some(*v)).collect(),
            };
            let shown = &mut self.run.mismatches;
            if shown.len() < crate::tb::SHOWN_MISMATCHES as usize {
                shown.push(m);
            } else if let Some(last) = shown.iter_mut().max_by_key(|m| m.row) {
                if last.row > m.row {
                    *last = m;
                }
            }
        } else {
            self.run.passed += 1;
        }
    }
}

/// Replays `rows` on `net`. With `check`, the rows carry expected outputs (and a `CARE` mask
/// when the layout has one) and the result holds the verdict; with `count`, toggles are
/// counted. Combinational streams are split over threads (toggles stay exact: each part starts
/// with the row before it).
pub fn run_gates(
    net: &Netlist,
    layout: &Layout,
    rows: &[Vec<u64>],
    check: bool,
    count: bool,
) -> Result<(Option<SimRun>, GateActivity)> {
    run_gates_with(net, layout, rows, check, count, Delay::Zero)
}

/// [`run_gates`] with toggles counted under delay model `delay` (with [`Delay::Unit`], the
/// activity holds the timed counts and the zero-delay counts beside them).
pub fn run_gates_with(
    net: &Netlist,
    layout: &Layout,
    rows: &[Vec<u64>],
    check: bool,
    count: bool,
    delay: Delay,
) -> Result<(Option<SimRun>, GateActivity)> {
    run_gates_recorded(net, layout, rows, (check, count, delay), None)
}

/// [`run_gates_with`] (arguments `check`, `count`, `delay`) that, with `record` (the length
/// of a row in time units), also records the time each counted net spends at 1
/// ([`GateActivity::high_time`]). Under [`Delay::Liberty`] the netlist must carry its delays.
pub fn run_gates_recorded(
    net: &Netlist,
    layout: &Layout,
    rows: &[Vec<u64>],
    (check, count, delay): (bool, bool, Delay),
    record: Option<u32>,
) -> Result<(Option<SimRun>, GateActivity)> {
    if delay == Delay::Liberty && net.delays.is_none() {
        return Err(Error::new(format!(
            "{}: --delay liberty needs the cell delays of the netlist (computed from the \
             library's timing tables)",
            net.source
        )));
    }
    let b = bind(net, layout)?;
    crate::kernel::attach_for(net, net.program.len() as f64 * rows.len() as f64)?;
    let width = b.n_in + if check { b.n_out } else { 0 };
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() < width) {
        return Err(Error::new(format!(
            "row {i} has {} columns; the layout needs {width}",
            r.len()
        )));
    }
    let t = Instant::now();
    let new_run = empty_run;
    let (run, act) = if b.comb {
        // Parts of whole lane groups, one per thread-sized chunk.
        let part = (LANES * 256).max(rows.len().div_ceil(rayon::current_num_threads() * 4));
        let part = part.div_ceil(LANES) * LANES;
        let results: Vec<Result<(SimRun, GateActivity)>> = (0..rows.len().div_ceil(part))
            .into_par_iter()
            .map(|k| {
                let lo = k * part;
                let hi = (lo + part).min(rows.len());
                let mut c = Checker {
                    layout,
                    rows,
                    n_in: b.n_in,
                    n_out: b.n_out,
                    run: new_run(),
                };
                let mode = if count {
                    ToggleMode::Lanes
                } else {
                    ToggleMode::Off
                };
                let mut sim = Sim::with_delay(net, mode, delay);
                if let Some(p) = record {
                    sim.record_high_time(p);
                }
                let mut vals = vec![0u64; LANES];
                let mut got = vec![vec![0u64; LANES]; b.n_out];
                // With counting, a part after the first starts with the row before it.
                let mut i = if count && lo > 0 { lo - 1 } else { lo };
                let mut first = true;
                while i < hi {
                    let n = (hi - i).min(LANES);
                    for (j, &p) in b.inputs.iter().enumerate() {
                        for (l, v) in vals[..n].iter_mut().enumerate() {
                            *v = rows[i + l][j];
                        }
                        sim.set_values(p, &vals[..n]);
                    }
                    sim.eval();
                    if count {
                        sim.count_lanes(n)?;
                    }
                    if check {
                        for (j, &p) in b.outputs.iter().enumerate() {
                            sim.values(p, &mut got[j][..n]);
                        }
                        let skip = usize::from(first && count && lo > 0);
                        let mut g = vec![0u64; b.n_out];
                        for l in skip..n {
                            for (gj, col) in g.iter_mut().zip(&got) {
                                *gj = col[l];
                            }
                            c.check(i + l, &g);
                        }
                    }
                    first = false;
                    i += n;
                }
                Ok((
                    c.run,
                    GateActivity {
                        toggles: sim.toggles().to_vec(),
                        zero_delay_toggles: sim.zero_delay_toggles().to_vec(),
                        delay,
                        lane_cycles: 0,
                        samples: sim.samples,
                        high_time: sim.high_time(),
                        settle_time: sim.settle_time(),
                    },
                ))
            })
            .collect();
        let mut run = new_run();
        let mut act = GateActivity {
            toggles: vec![0; net.counted.len()],
            zero_delay_toggles: vec![0; net.counted.len()],
            delay,
            lane_cycles: 0,
            samples: 0,
            high_time: None,
            settle_time: 0,
        };
        for r in results {
            let (r, a) = r?;
            run.passed += r.passed;
            run.failed += r.failed;
            for m in r.mismatches {
                if run.mismatches.len() < crate::tb::SHOWN_MISMATCHES as usize {
                    run.mismatches.push(m);
                }
            }
            for (t, x) in act.toggles.iter_mut().zip(a.toggles) {
                *t += x;
            }
            for (t, x) in act.zero_delay_toggles.iter_mut().zip(a.zero_delay_toggles) {
                *t += x;
            }
            act.samples += a.samples;
            act.settle_time = act.settle_time.max(a.settle_time);
            if let Some((p, h)) = a.high_time {
                let (_, sum) = act
                    .high_time
                    .get_or_insert_with(|| (p, vec![0; net.counted.len()]));
                for (s, x) in sum.iter_mut().zip(h) {
                    *s += x;
                }
            }
        }
        run.mismatches.sort_by_key(|m| m.row);
        (run, act)
    } else {
        clocked(
            net,
            layout,
            rows,
            &b,
            (check, count, delay, record),
            new_run(),
        )?
    };
    let mut run = run;
    run.mismatches.sort_by_key(|m| m.row);
    run.run_secs = t.elapsed().as_secs_f64();
    run.vectors_per_sec = rows.len() as f64 / run.run_secs.max(1e-9);
    if run.failed > 0 || run.passed == 0 {
        run.status = Status::Failed;
    }
    Ok((check.then_some(run), act))
}

fn clocked(
    net: &Netlist,
    layout: &Layout,
    rows: &[Vec<u64>],
    b: &Binding,
    (check, count, delay, record): (bool, bool, Delay, Option<u32>),
    run: SimRun,
) -> Result<(SimRun, GateActivity)> {
    let clock = net.clock;
    if clock.is_none() && !net.flops.is_empty() {
        return Err(Error::new(format!(
            "{}: flip-flops without a clock",
            net.source
        )));
    }
    // Counting toggles, a cycle-by-cycle stream is cut into segments of at least
    // COUNT_SEGMENT rows: a segment starts from the power-up state rather than the state the
    // previous rows left, which may misplace at most one transition per net per segment.
    const COUNT_SEGMENT: usize = 4096;
    let segs = segments(
        layout,
        rows,
        b.latency,
        if count { COUNT_SEGMENT } else { 1 },
    );
    // Lane j feeds rows from warm[j]: a pipeline is filled by its `latency` rows before the
    // segment, plus one more when counting, so that the sample the first counted transition
    // starts from already holds the true pipeline state.
    let warm: Vec<usize> = segs
        .iter()
        .map(|&(s, _)| match layout.timing {
            Timing::Stream { .. } => s.saturating_sub(b.latency + usize::from(count)),
            Timing::Cycles => s,
        })
        .collect();
    let steps = segs
        .iter()
        .zip(&warm)
        .map(|(&(_, e), &w)| e - w + b.due - 1)
        .max()
        .unwrap_or(0);
    let mode = if count {
        ToggleMode::Time
    } else {
        ToggleMode::Off
    };
    let mut sim = Sim::with_delay(net, mode, delay);
    if let Some(p) = record {
        sim.record_high_time(p);
    }
    let mut c = Checker {
        layout,
        rows,
        n_in: b.n_in,
        n_out: b.n_out,
        run,
    };
    let lanes = segs.len();
    let mut vals = vec![0u64; lanes];
    let mut got = vec![vec![0u64; lanes]; b.n_out];
    let mut g = vec![0u64; b.n_out];
    for t in 0..steps {
        // Row fed in each lane at step t (held at the segment's last row once it ends).
        // Lanes on one of their own rows (not warming up, not past their end): only these
        // count toggles and clock cycles.
        let mut mask = [0u64; LANE_WORDS];
        let mut active = 0;
        for (j, (&(s, e), &w)) in segs.iter().zip(&warm).enumerate() {
            if w + t >= s && w + t < e {
                mask[j / 64] |= 1 << (j % 64);
                active += 1;
            }
        }
        for (k, &p) in b.inputs.iter().enumerate() {
            for (j, (&(_, e), &w)) in segs.iter().zip(&warm).enumerate() {
                vals[j] = rows[(w + t).min(e - 1)][k];
            }
            sim.set_values(p, &vals);
        }
        sim.eval();
        if count {
            sim.count_time(&mask)?;
        }
        sim.clock(active);
        if check {
            sim.eval();
            for (k, &p) in b.outputs.iter().enumerate() {
                sim.values(p, &mut got[k]);
            }
            for (j, (&(s, e), &w)) in segs.iter().zip(&warm).enumerate() {
                // Observation after edge t shows row w + t + 1 - due.
                let r = (w + t + 1).checked_sub(b.due);
                if let Some(r) = r.filter(|&r| r >= s && r < e) {
                    for k in 0..b.n_out {
                        g[k] = got[k][j];
                    }
                    c.check(r, &g);
                }
            }
        }
    }
    let _ = clock;
    Ok((
        c.run,
        GateActivity {
            toggles: sim.toggles().to_vec(),
            zero_delay_toggles: sim.zero_delay_toggles().to_vec(),
            delay,
            lane_cycles: sim.lane_cycles,
            samples: sim.samples,
            high_time: sim.high_time(),
            settle_time: sim.settle_time(),
        },
    ))
}

/// Checks the exhaustive cases `range` of a combinational PE on `net` without writing them
/// down: blocks of cases come from the PE's fast path ([`PeVectors::exhaustive_block`]), are
/// replayed on the gate engine and compared with the reference, in parallel. `progress` is
/// called with the number of cases done so far (from several threads). Peak memory stays at a
/// few buffers per thread whatever the size of the range.
pub fn check_exhaustive(
    net: &Netlist,
    pe: &dyn crate::codec::PeVectors,
    cfg: &pelab_hdl::RtlConfig,
    layout: &Layout,
    range: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SimRun> {
    let b = bind(net, layout)?;
    if !b.comb || layout.care {
        return Err(Error::new(
            "streamed exhaustive checking is for combinational PEs without a CARE mask",
        ));
    }
    crate::kernel::attach_for(
        net,
        net.program.len() as f64 * (range.end - range.start) as f64,
    )?;
    let t = Instant::now();
    const CHUNK: u64 = 1 << 13;
    let done = std::sync::atomic::AtomicU64::new(0);
    let chunks = (range.end - range.start).div_ceil(CHUNK);
    let results: Vec<Result<(u64, u64, Vec<Mismatch>)>> = (0..chunks)
        .into_par_iter()
        .map_init(
            || {
                let mut sim = Sim::new(net, ToggleMode::Off);
                sim.outputs_only();
                (
                    sim,
                    vec![vec![0u64; CHUNK as usize]; b.n_in],
                    vec![vec![0u64; CHUNK as usize]; b.n_out],
                    vec![0u64; LANES],
                )
            },
            |(sim, ins, exp, have), c| {
                let lo = range.start + c * CHUNK;
                let hi = (lo + CHUNK).min(range.end);
                let n = (hi - lo) as usize;
                for v in ins.iter_mut().chain(exp.iter_mut()) {
                    v.resize(n, 0);
                }
                let block = ColumnBlock {
                    start: lo,
                    inputs: ins,
                    expected: exp,
                };
                pe.exhaustive_block(cfg, block).ok_or_else(|| {
                    Error::new(format!(
                        "{} has no fast exhaustive path; use vector files (--shard)",
                        pe.id()
                    ))
                })??;
                let (mut passed, mut failed) = (0u64, 0u64);
                let mut shown = Vec::new();
                let mut i = 0;
                while i < n {
                    let m = (n - i).min(LANES);
                    for (k, &p) in b.inputs.iter().enumerate() {
                        sim.set_values(p, &ins[k][i..i + m]);
                    }
                    sim.eval();
                    // Compare values: the outputs go through one transpose.
                    let mut diff = [0u64; LANE_WORDS];
                    for (k, &p) in b.outputs.iter().enumerate() {
                        sim.values(p, &mut have[..m]);
                        let want = exp[k][i..i + m].chunks(64);
                        for ((d, x), y) in diff.iter_mut().zip(want).zip(have[..m].chunks(64)) {
                            *d |= x
                                .iter()
                                .zip(y)
                                .zip(0..64)
                                .fold(0u64, |acc, ((x, y), l)| acc | (u64::from(x != y) << l));
                        }
                    }
                    let bad: u32 = diff.iter().map(|d| d.count_ones()).sum();
                    passed += (m as u32 - bad) as u64;
                    failed += bad as u64;
                    if bad > 0 && shown.len() < crate::tb::SHOWN_MISMATCHES as usize {
                        let mut outs = Vec::new();
                        for &p in &b.outputs {
                            let mut v = vec![0u64; m];
                            sim.values(p, &mut v);
                            outs.push(v);
                        }
                        for l in 0..m {
                            if diff[l / 64] >> (l % 64) & 1 == 1
                                && shown.len() < crate::tb::SHOWN_MISMATCHES as usize
                            {
                                shown.push(Mismatch {
                                    row: lo + (i + l) as u64,
                                    inputs: ins.iter().map(|v| v[i + l]).collect(),
                                    expected: exp.iter().map(|v| v[i + l]).collect(),
                                    got: outs.iter().map(|v| Some(v[l])).collect(),
                                });
                            }
                        }
                    }
                    i += m;
                }
                let d = done.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                progress(d + n as u64);
                Ok((passed, failed, shown))
            },
        )
        .collect();
    let mut run = empty_run();
    for r in results {
        let (p, f, s) = r?;
        run.passed += p;
        run.failed += f;
        for m in s {
            if run.mismatches.len() < crate::tb::SHOWN_MISMATCHES as usize {
                run.mismatches.push(m);
            }
        }
    }
    run.run_secs = t.elapsed().as_secs_f64();
    run.vectors_per_sec = (range.end - range.start) as f64 / run.run_secs.max(1e-9);
    if run.failed > 0 || run.passed == 0 {
        run.status = Status::Failed;
    }
    Ok(run)
}
