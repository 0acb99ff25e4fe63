//! Cell delays from the timing tables of a Liberty library, for [`Delay::Liberty`]
//! simulation.
//!
//! Every output of a combinational cell instance gets one delay: the largest, over the
//! output's combinational timing arcs (every related input pin, every `when` condition) and
//! both edges, of the NLDM lookup of `cell_rise` and `cell_fall` at the arc's input transition
//! and the output's load. The engine applies a delay to the cell's output, whichever input
//! changed (it does not know which input caused a change), hence the worst arc.
//!
//! - Load: the capacitance of every input pin the net drives (clock pins excepted), plus the
//!   stated wire capacitance per fan-out pin, plus the `D` pin of the library's smallest plain
//!   D flip-flop per output-port bit: the same load that prices the net's toggles
//!   ([`crate::energy::energy`]).
//! - Input transition: propagated. Primary inputs, flip-flop outputs and constants have the
//!   stated input transition; the transition of a cell output is the largest `rise_transition`
//!   or `fall_transition` of its arcs, at their input transitions and its load (worst case,
//!   as a static timing analysis would propagate it).
//! - Quantization: the delay in picoseconds divided by the resolution, rounded to the nearest
//!   whole number, at least 1.
//!
//! Flip-flops change at the start of a cycle, as under the other delay models (their clock to
//! output delay is not applied). A used combinational cell whose output has no delay table is
//! an error naming the cell: there is no default delay (tie cells, which have no input and never
//! change, excepted).
//!
//! [`Delay::Liberty`]: super::Delay::Liberty

use super::Netlist;
use crate::energy::{LibertyTech, Technology};
use crate::liberty::Library;
use crate::{Error, Result};
use serde::Serialize;

/// How delays are computed from a library.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DelayOptions {
    /// Time quantum of the simulation, ps (a whole number, at least 1).
    pub resolution_ps: u32,
    /// Transition time of primary inputs and flip-flop outputs, ps.
    pub input_slew_ps: f64,
    /// Wire capacitance per fan-out pin, fF.
    pub wire_ff: f64,
}

impl DelayOptions {
    /// Default time quantum, ps.
    pub const RESOLUTION_PS: u32 = 1;
    /// Default transition time of primary inputs and flip-flop outputs, ps.
    pub const INPUT_SLEW_PS: f64 = 50.0;
}

/// The delay of each cell output of a netlist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellDelays {
    /// How they were computed.
    pub options: DelayOptions,
    /// Library name and file.
    pub library: String,
    /// One per entry of [`Netlist::counted`]: the delay in quanta (0 for flip-flop outputs,
    /// which change at the start of a cycle).
    pub quanta: Vec<u32>,
    /// One per entry of [`Netlist::counted`]: the delay before quantization, ps (0 for
    /// flip-flop outputs).
    pub ps: Vec<f64>,
    /// One per entry of [`Netlist::counted`]: the output transition, ps.
    pub slew_ps: Vec<f64>,
    /// One per entry of [`Netlist::counted`]: the output load, fF.
    pub load_ff: Vec<f64>,
}

impl CellDelays {
    /// Longest path through the delays, in quanta: no value changes later than this after
    /// the inputs change (the static bound of a timed step).
    pub fn settle_bound(&self, net: &Netlist) -> u32 {
        let mut arrival = vec![0u32; net.nets];
        let mut delay = vec![0u32; net.nets];
        for (&(n, _), &q) in net.counted.iter().zip(&self.quanta) {
            delay[n as usize] = q;
        }
        let mut worst = 0;
        for i in &net.program {
            let ins = [i.a, i.b, i.c, i.d];
            let k = super::timed::operands(i.op);
            let a = ins[..k]
                .iter()
                .map(|&x| arrival[x as usize])
                .max()
                .unwrap_or(0);
            let t = a + delay[i.y as usize];
            arrival[i.y as usize] = t;
            worst = worst.max(t);
        }
        worst
    }

    /// Smallest and largest delay of a combinational cell output, ps (before quantization).
    pub fn range_ps(&self, net: &Netlist) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = 0.0f64;
        for (&(_, c), &d) in net.counted.iter().zip(&self.ps) {
            if !net.cells[c].is_flop {
                lo = lo.min(d);
                hi = hi.max(d);
            }
        }
        (if lo.is_finite() { lo } else { 0.0 }, hi)
    }
}

/// Computes the delay of every cell output of `net` (mapped onto `lib`) from the library's
/// `cell_rise` / `cell_fall` tables (see the module documentation).
pub fn liberty_delays(net: &Netlist, lib: &Library, o: &DelayOptions) -> Result<CellDelays> {
    if o.resolution_ps == 0 {
        return Err(Error::new(
            "the delay resolution must be a whole number of picoseconds, at least 1",
        ));
    }
    if !(o.input_slew_ps >= 0.0 && o.input_slew_ps.is_finite()) {
        return Err(Error::new("the input transition must be >= 0 ps"));
    }
    if !(o.wire_ff >= 0.0 && o.wire_ff.is_finite()) {
        return Err(Error::new("the wire capacitance must be >= 0 fF"));
    }
    let tech = LibertyTech {
        lib,
        wire_ff_per_pin: o.wire_ff,
    };
    let port_load = tech.port_load_ff()?;
    let mut port_bits = vec![0usize; net.nets];
    for &n in &net.port_loads {
        port_bits[n as usize] += 1;
    }
    let time_ps = lib.units.time_ns * 1e3;
    // Program position of the instruction writing each net: cells in topological order.
    let mut pos = vec![usize::MAX; net.nets];
    for (k, i) in net.program.iter().enumerate() {
        pos[i.y as usize] = k;
    }
    let mut order: Vec<usize> = (0..net.counted.len()).collect();
    order.sort_by_key(|&k| pos[net.counted[k].0 as usize]);
    let mut slew = vec![o.input_slew_ps; net.nets];
    let n = net.counted.len();
    let (mut quanta, mut ps, mut slews, mut loads) =
        (vec![0u32; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for k in order {
        let (y, ci) = net.counted[k];
        let inst = &net.cells[ci];
        let cell = lib.cell(&inst.kind)?;
        let mut load = port_bits[y as usize] as f64 * port_load;
        let fan = &net.fanout[y as usize];
        for (fc, pin) in fan {
            let kind = &net.cells[*fc].kind;
            let p = lib.cell(kind)?.pin(pin).ok_or_else(|| {
                Error::new(format!(
                    "liberty {}: cell {kind} has no pin {pin}",
                    lib.path
                ))
            })?;
            if p.clock {
                continue;
            }
            load += p.capacitance_ff.ok_or_else(|| {
                Error::new(format!(
                    "liberty {}: pin {pin} of cell {kind} has no capacitance",
                    lib.path
                ))
            })?;
        }
        load += o.wire_ff * fan.len() as f64;
        loads[k] = load;
        if inst.is_flop {
            slews[k] = o.input_slew_ps;
            continue;
        }
        let pin_name = inst
            .outputs
            .iter()
            .find(|(_, n)| *n == y)
            .map(|(p, _)| p.as_str())
            .unwrap_or("");
        let pin = cell.pin(pin_name).ok_or_else(|| {
            Error::new(format!(
                "liberty {}: cell {} has no output pin {pin_name}",
                lib.path, inst.kind
            ))
        })?;
        let (mut delay, mut out_slew, mut arcs) = (0.0f64, 0.0f64, 0);
        for arc in pin.timing.iter().filter(|a| a.is_combinational_delay()) {
            for r in arc.related_pins() {
                let s = inst
                    .inputs
                    .iter()
                    .find(|(p, _)| p == r)
                    .map_or(o.input_slew_ps, |(_, n)| slew[*n as usize]);
                let at = |t: &Option<crate::liberty::Table>| {
                    t.as_ref()
                        .map_or(0.0, |t| t.lookup(s * 1e-3, load) * time_ps)
                };
                delay = delay.max(at(&arc.cell_rise)).max(at(&arc.cell_fall));
                out_slew = out_slew
                    .max(at(&arc.rise_transition))
                    .max(at(&arc.fall_transition));
                arcs += 1;
            }
        }
        if arcs == 0 && cell.inputs().next().is_none() {
            // A tie cell (no input): its output never changes.
            slew[y as usize] = o.input_slew_ps;
            slews[k] = o.input_slew_ps;
            quanta[k] = 1;
            continue;
        }
        if arcs == 0 {
            return Err(Error::new(format!(
                "liberty {}: cell {} (instance {}) has no delay table (cell_rise/cell_fall of a \
                 combinational timing arc) for output {pin_name}; --delay liberty needs one \
                 for every combinational cell used (there is no default delay)",
                lib.path, inst.kind, inst.name
            )));
        }
        let delay = delay.max(0.0);
        slew[y as usize] = out_slew;
        slews[k] = out_slew;
        ps[k] = delay;
        quanta[k] = ((delay / o.resolution_ps as f64).round() as u32).max(1);
    }
    Ok(CellDelays {
        options: *o,
        library: format!("{} ({})", lib.name, lib.path),
        quanta,
        ps,
        slew_ps: slews,
        load_ff: loads,
    })
}
