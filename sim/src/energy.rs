//! Energy per operation from gate-level switching activity.
//!
//! `E/op = Σ_nets toggles × E_toggle(net) / ops + flops × E_clock × cycles / ops
//!        + Σ_cells leakage × time / ops`, where a net's toggle costs the internal energy of
//! its driving cell (at the net's load), the switching energy `½·C_load·V²` of the load, and
//! the internal energy of the input pins it drives (when the technology gives one).
//! `C_load` = the input-pin capacitances of the fan-out + a wire estimate per fan-out pin +
//! one flip-flop data input for every output-port bit the net drives (the next stage).
//!
//! Two technologies: [`Generic45`] (`generic-45nm`, Nangate 45 nm figures kept in
//! `sim/data/`) and [`LibertyTech`] (every figure from a Liberty file). A cell type without a
//! figure is an error; nothing falls back to a default.

use crate::liberty::{Cell, Direction, Library, Table};
use crate::netlist::Netlist;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a technology knows of one cell type.
#[derive(Debug, Clone)]
pub struct CellModel {
    /// Area, µm².
    pub area_um2: f64,
    /// Leakage, nW.
    pub leakage_nw: f64,
    /// Input pin capacitance, fF, by (netlist) pin name.
    pub pin_cap_ff: BTreeMap<String, f64>,
    /// Internal energy drawn by an input pin toggle, fJ, by pin (0 when not characterized).
    pub pin_energy_fj: BTreeMap<String, f64>,
    /// Internal energy of one output toggle, fJ, as a function of the load.
    pub output: OutputEnergy,
    /// Energy drawn every clock cycle by a flip-flop's clock pin, fJ (0 for gates).
    pub clock_fj: f64,
    /// The clock pin (flip-flops).
    pub clock_pin: Option<String>,
    /// Where the figures come from.
    pub source: String,
}

/// Internal energy of an output toggle.
#[derive(Debug, Clone)]
pub enum OutputEnergy {
    /// A fixed figure, fJ (characterized at one load).
    Fixed(f64),
    /// Liberty `internal_power` arcs: (rise, fall) tables, averaged over arcs and edges, in
    /// the library's energy unit (`scale` fJ), at the smallest characterized input transition.
    Tables {
        /// Arcs.
        arcs: Vec<(Option<Table>, Option<Table>)>,
        /// fJ per table unit.
        scale: f64,
    },
}

impl OutputEnergy {
    /// Energy of one output toggle at `load_ff`, fJ.
    pub fn at(&self, load_ff: f64) -> f64 {
        match self {
            OutputEnergy::Fixed(e) => *e,
            OutputEnergy::Tables { arcs, scale } => {
                let mut sum = 0.0;
                let mut n = 0.0;
                for (r, f) in arcs {
                    for t in [r, f].into_iter().flatten() {
                        sum += nominal(t, load_ff);
                        n += 1.0;
                    }
                }
                if n == 0.0 {
                    0.0
                } else {
                    sum / n * scale
                }
            }
        }
    }
}

/// A table at the smallest characterized input transition and the given load.
fn nominal(t: &Table, load_ff: f64) -> f64 {
    let is_slew = |v: &str| v.contains("transition");
    let slew = if is_slew(&t.var1) {
        t.index_1.iter().copied().fold(f64::INFINITY, f64::min)
    } else if t.var2.as_deref().is_some_and(is_slew) {
        t.index_2.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        0.0
    };
    // The breakpoints are in library time units; `lookup` takes nanoseconds.
    let slew_ns = if slew.is_finite() {
        slew * t.units.time_ns
    } else {
        0.0
    };
    t.lookup(slew_ns, load_ff)
}

/// A source of cell figures.
pub trait Technology {
    /// Name (`generic-45nm`, `liberty:<library>`).
    fn name(&self) -> String;
    /// Supply voltage, V.
    fn voltage(&self) -> f64;
    /// Figures of a cell type; an error names the cell when a figure is missing.
    fn cell(&self, kind: &str) -> Result<CellModel>;
    /// Wire capacitance added per fan-out pin of a net with `fanout` pins, fF.
    fn wire_ff(&self, fanout: usize) -> f64;
    /// Load of an output-port bit (one flip-flop data input of the next stage), fF.
    fn port_load_ff(&self) -> Result<f64>;
    /// Where every figure comes from, one line each.
    fn provenance(&self) -> Vec<String>;
}

/// The raw Nangate 45 nm figures kept in the project (see `sim/data/README.md`).
pub const NANGATE45_CSV: &str = include_str!("../data/nangate45_cells.csv");

#[derive(Debug, Clone)]
struct NangateRow {
    cell: String,
    area: f64,
    leakage: f64,
    caps: Vec<(String, f64)>,
    out_rise: f64,
    out_fall: f64,
    ck_rise: f64,
    ck_fall: f64,
}

/// `generic-45nm`: Yosys' generic gates priced with Nangate 45 nm X1 cells (typical corner,
/// 1.1 V). Rules: output toggle = mean of the output pin's rise and fall internal energy;
/// clock = rise + fall clock-pin internal energy + `C_CK·V²` per cycle; `$_ANDNOT_`/`$_ORNOT_`
/// = AND2/OR2 with an inverter on B (areas, leakages and internal energies added, the
/// inverter's load being the AND2/OR2 input); wire = [`Generic45::WIRE_FF_PER_PIN`].
#[derive(Debug, Clone)]
pub struct Generic45 {
    rows: BTreeMap<String, NangateRow>,
}

impl Generic45 {
    /// Supply voltage of the characterization, V.
    pub const VOLTAGE: f64 = 1.1;
    /// Wire capacitance per fan-out pin, fF: an estimate (about 1 µm of local wire per pin at
    /// roughly 0.2 fF/µm in 45 nm), not a library figure.
    pub const WIRE_FF_PER_PIN: f64 = 0.2;

    /// Loads the table from the project's copy of the figures.
    pub fn load() -> Result<Generic45> {
        let mut rows = BTreeMap::new();
        for (k, line) in NANGATE45_CSV.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || Error::new(format!("sim/data/nangate45_cells.csv:{}: bad row", k + 1));
            if f.len() != 9 {
                return Err(bad());
            }
            let num = |s: &str| s.trim().parse::<f64>().map_err(|_| bad());
            let caps = f[4]
                .split_whitespace()
                .map(|c| {
                    let (p, v) = c.split_once('=').ok_or_else(bad)?;
                    Ok((p.to_string(), num(v)?))
                })
                .collect::<Result<Vec<_>>>()?;
            rows.insert(
                f[1].to_string(),
                NangateRow {
                    cell: f[0].to_string(),
                    area: num(f[2])?,
                    leakage: num(f[3])?,
                    caps,
                    out_rise: num(f[5])?,
                    out_fall: num(f[6])?,
                    ck_rise: num(f[7])?,
                    ck_fall: num(f[8])?,
                },
            );
        }
        Ok(Generic45 { rows })
    }

    fn row(&self, gate: &str) -> Result<&NangateRow> {
        self.rows.get(gate).ok_or_else(|| {
            Error::new(format!(
                "generic-45nm has no figure for {gate} (sim/data/nangate45_cells.csv)"
            ))
        })
    }
}

/// Yosys pin -> Nangate pin, per generic cell.
fn nangate_pins(gate: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match gate {
        "$_NOT_" | "$_BUF_" => &[("A", "A")],
        "$_AND_" | "$_NAND_" | "$_OR_" | "$_NOR_" => &[("A", "A1"), ("B", "A2")],
        "$_XOR_" | "$_XNOR_" => &[("A", "A"), ("B", "B")],
        "$_MUX_" => &[("A", "A"), ("B", "B"), ("S", "S")],
        // AOI21: ZN = !(A | (B1 & B2)); Yosys AOI3: Y = !((A & B) | C).
        "$_AOI3_" | "$_OAI3_" => &[("A", "B1"), ("B", "B2"), ("C", "A")],
        "$_AOI4_" | "$_OAI4_" => &[("A", "A1"), ("B", "A2"), ("C", "B1"), ("D", "B2")],
        "$_DFF_P_" => &[("D", "D"), ("C", "CK")],
        _ => return None,
    })
}

impl Technology for Generic45 {
    fn name(&self) -> String {
        "generic-45nm".into()
    }
    fn voltage(&self) -> f64 {
        Self::VOLTAGE
    }
    fn cell(&self, kind: &str) -> Result<CellModel> {
        let v2 = Self::VOLTAGE * Self::VOLTAGE;
        let (base, inverted) = match kind {
            "$_ANDNOT_" => ("$_AND_", true),
            "$_ORNOT_" => ("$_OR_", true),
            k => (k, false),
        };
        let pins = nangate_pins(base).ok_or_else(|| {
            Error::new(format!(
                "generic-45nm has no figure for cell type {kind}: it prices Yosys' generic gates \
                 and $_DFF_P_ (pelab's flow legalizes every flip-flop to $_DFF_P_)"
            ))
        })?;
        let r = self.row(base)?;
        let cap = |p: &str| -> Result<f64> {
            r.caps
                .iter()
                .find(|(n, _)| n == p)
                .map(|(_, c)| *c)
                .ok_or_else(|| {
                    Error::new(format!(
                        "generic-45nm: {} has no capacitance for pin {p}",
                        r.cell
                    ))
                })
        };
        let mut m = CellModel {
            area_um2: r.area,
            leakage_nw: r.leakage,
            pin_cap_ff: BTreeMap::new(),
            pin_energy_fj: BTreeMap::new(),
            output: OutputEnergy::Fixed((r.out_rise + r.out_fall) / 2.0),
            clock_fj: 0.0,
            clock_pin: None,
            source: format!("Nangate45 {} (sim/data/nangate45_cells.csv)", r.cell),
        };
        for (y, n) in pins {
            m.pin_cap_ff.insert(y.to_string(), cap(n)?);
        }
        if base == "$_DFF_P_" {
            m.clock_fj = r.ck_rise + r.ck_fall + cap("CK")? * v2;
            m.clock_pin = Some("C".into());
        }
        if inverted {
            let inv = self.row("$_NOT_")?;
            let inv_cap = inv.caps.first().map(|c| c.1).unwrap_or(0.0);
            let and_b = cap("A2")?;
            m.area_um2 += inv.area;
            m.leakage_nw += inv.leakage;
            m.pin_cap_ff.insert("B".into(), inv_cap);
            // The inverter's own toggle (internal + charging the gate's B input), counted once
            // per output toggle.
            m.output = OutputEnergy::Fixed(
                (r.out_rise + r.out_fall) / 2.0
                    + (inv.out_rise + inv.out_fall) / 2.0
                    + 0.5 * and_b * v2,
            );
            m.source = format!(
                "Nangate45 {} + {} on B (stand-in; sim/data/nangate45_cells.csv)",
                r.cell, inv.cell
            );
        }
        Ok(m)
    }
    fn wire_ff(&self, _fanout: usize) -> f64 {
        Self::WIRE_FF_PER_PIN
    }
    fn port_load_ff(&self) -> Result<f64> {
        let r = self.row("$_DFF_P_")?;
        r.caps
            .iter()
            .find(|(n, _)| n == "D")
            .map(|c| c.1)
            .ok_or_else(|| Error::new("generic-45nm: DFF_X1 has no D capacitance"))
    }
    fn provenance(&self) -> Vec<String> {
        vec![
            "cells: Nangate 45 nm Open Cell Library, typical corner, 1.1 V, 25 C, X1 cells \
             (figures in sim/data/nangate45_cells.csv; internal energy at input slew 0.0172 ns, \
             load 3.71 fF)"
                .into(),
            "output toggle = mean of rise and fall internal energy + ½·C_load·V²; clock = \
             rise + fall clock-pin energy + C_CK·V² per flip-flop per cycle"
                .into(),
            format!(
                "C_load = fan-out pin capacitances + {} fF wire per fan-out pin (estimate) + \
                 DFF_X1 D (1.14 fF) per output-port bit",
                Self::WIRE_FF_PER_PIN
            ),
            "$_ANDNOT_/$_ORNOT_: AND2/OR2 + INV stand-in".into(),
        ]
    }
}

/// Every figure from a Liberty library: area, `cell_leakage_power`, pin capacitances,
/// `internal_power` tables (output pins at the net's load; input and clock pins), at the
/// library's nominal voltage. Wire capacitance per fan-out pin: `wire_ff_per_pin` (stated in
/// the provenance).
pub struct LibertyTech<'a> {
    /// The library.
    pub lib: &'a Library,
    /// Wire capacitance per fan-out pin, fF.
    pub wire_ff_per_pin: f64,
}

impl LibertyTech<'_> {
    fn lib_cell(&self, kind: &str) -> Result<&Cell> {
        self.lib.cells.get(kind).ok_or_else(|| {
            Error::new(format!(
                "cell type {kind} is not in the liberty library {}",
                self.lib.path
            ))
        })
    }
}

fn mean_edges(arcs: &[(Option<Table>, Option<Table>)], at: impl Fn(&Table) -> f64) -> f64 {
    let mut s = 0.0;
    let mut n = 0.0;
    for (r, f) in arcs {
        for t in [r, f].into_iter().flatten() {
            s += at(t);
            n += 1.0;
        }
    }
    if n == 0.0 {
        0.0
    } else {
        s / n
    }
}

impl Technology for LibertyTech<'_> {
    fn name(&self) -> String {
        format!("liberty:{}", self.lib.name)
    }
    fn voltage(&self) -> f64 {
        self.lib.nom_voltage
    }
    fn cell(&self, kind: &str) -> Result<CellModel> {
        let c = self.lib_cell(kind)?;
        let u = &self.lib.units;
        let missing = |what: &str| {
            Error::new(format!(
                "liberty {}: cell {kind} has no {what}; pelab does not substitute a default",
                self.lib.path
            ))
        };
        let leakage = c.leakage_nw.ok_or_else(|| missing("cell_leakage_power"))?;
        let mut m = CellModel {
            area_um2: c.area,
            leakage_nw: leakage,
            pin_cap_ff: BTreeMap::new(),
            pin_energy_fj: BTreeMap::new(),
            output: OutputEnergy::Fixed(0.0),
            clock_fj: 0.0,
            clock_pin: None,
            source: format!("{} ({})", kind, self.lib.path),
        };
        let v2 = self.lib.nom_voltage * self.lib.nom_voltage;
        let mut out_arcs = Vec::new();
        for p in &c.pins {
            match p.direction {
                Direction::Input | Direction::Inout => {
                    let cap = p
                        .capacitance_ff
                        .ok_or_else(|| missing(&format!("capacitance on pin {}", p.name)))?;
                    m.pin_cap_ff.insert(p.name.clone(), cap);
                    let arcs: Vec<(Option<Table>, Option<Table>)> = p
                        .internal_power
                        .iter()
                        .map(|a| (a.rise.clone(), a.fall.clone()))
                        .collect();
                    if p.clock {
                        if arcs.is_empty() {
                            return Err(missing(&format!(
                                "internal_power on its clock pin {}",
                                p.name
                            )));
                        }
                        // A clock pin toggles twice per cycle: rise + fall.
                        let e = mean_edges(&arcs, |t| nominal(t, 0.0)) * 2.0 * u.energy_fj;
                        m.clock_fj = e + cap * v2;
                        m.clock_pin = Some(p.name.clone());
                    } else if !arcs.is_empty() {
                        m.pin_energy_fj.insert(
                            p.name.clone(),
                            mean_edges(&arcs, |t| nominal(t, 0.0)) * u.energy_fj,
                        );
                    }
                }
                Direction::Output => {
                    out_arcs.extend(
                        p.internal_power
                            .iter()
                            .map(|a| (a.rise.clone(), a.fall.clone())),
                    );
                }
                Direction::Internal => {}
            }
        }
        if c.pins.iter().any(|p| p.direction == Direction::Output) && out_arcs.is_empty() {
            return Err(missing("internal_power on its output pins"));
        }
        if c.ff.is_some() && m.clock_pin.is_none() {
            return Err(missing("clock pin (clock : true) with internal_power"));
        }
        m.output = OutputEnergy::Tables {
            arcs: out_arcs,
            scale: u.energy_fj,
        };
        Ok(m)
    }
    fn wire_ff(&self, _fanout: usize) -> f64 {
        self.wire_ff_per_pin
    }
    fn port_load_ff(&self) -> Result<f64> {
        // The data input of the library's plain D flip-flop (no set/reset).
        let ff = self
            .lib
            .cells
            .values()
            .filter(|c| !c.dont_use)
            .filter_map(|c| {
                let f = c.ff.as_ref()?;
                let plain = f.clear.is_none()
                    && f.preset.is_none()
                    && matches!(&f.next_state, crate::liberty::Expr::Var(v) if v == "D");
                if plain {
                    c.pin("D")?.capacitance_ff.map(|cap| (c.area, cap))
                } else {
                    None
                }
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        ff.map(|(_, cap)| cap).ok_or_else(|| {
            Error::new(format!(
                "liberty {}: no plain D flip-flop to load the output ports with",
                self.lib.path
            ))
        })
    }
    fn provenance(&self) -> Vec<String> {
        vec![
            format!(
                "cells: liberty library {} ({}), {} V",
                self.lib.name, self.lib.path, self.lib.nom_voltage
            ),
            "output toggle = internal_power of the output pin (mean over arcs and edges, at the \
             smallest characterized input transition and the net's load) + ½·C_load·V² + \
             internal_power of the driven input pins; clock = clock-pin rise + fall + C_CK·V² \
             per cycle"
                .into(),
            format!(
                "C_load = fan-out pin capacitances + {} fF wire per fan-out pin (estimate) + the \
                 smallest plain D flip-flop's D pin per output-port bit",
                self.wire_ff_per_pin
            ),
        ]
    }
}

/// One row of the breakdown by cell type.
#[derive(Debug, Clone, Serialize)]
pub struct CellRow {
    /// Instances.
    pub count: u64,
    /// Area, µm².
    pub area_um2: f64,
    /// Output toggles per operation.
    pub toggles_per_op: f64,
    /// Dynamic energy of their output nets per operation, pJ.
    pub dynamic_pj: f64,
    /// Leakage energy per operation, pJ.
    pub leakage_pj: f64,
    /// Clock energy per operation, pJ (flip-flops).
    pub clock_pj: f64,
    /// Source of the figures.
    pub source: String,
}

/// Energy per operation of one netlist under one activity.
#[derive(Debug, Clone, Serialize)]
pub struct Energy {
    /// Technology name.
    pub tech: String,
    /// Supply voltage, V.
    pub voltage: f64,
    /// Clock frequency, GHz.
    pub freq_ghz: f64,
    /// Operations the activity covers.
    pub ops: f64,
    /// Clock cycles per operation (time per op = cycles / f).
    pub cycles_per_op: f64,
    /// Net toggles per operation.
    pub toggles_per_op: f64,
    /// Dynamic (switching + internal) energy per operation, pJ.
    pub dynamic_pj: f64,
    /// Flip-flop clock energy per operation, pJ.
    pub clock_pj: f64,
    /// Leakage energy per operation, pJ.
    pub leakage_pj: f64,
    /// Total per operation, pJ.
    pub total_pj: f64,
    /// Cell area, µm².
    pub area_um2: f64,
    /// Breakdown by cell type.
    pub cells: BTreeMap<String, CellRow>,
    /// Where the figures come from.
    pub provenance: Vec<String>,
}

/// The activity of a simulation, for [`energy`].
#[derive(Debug, Clone)]
pub struct Activity<'a> {
    /// Toggles per entry of [`Netlist::counted`].
    pub toggles: &'a [u64],
    /// Clock cycles summed over lanes (0 for a combinational design).
    pub lane_cycles: u64,
    /// Operations performed.
    pub ops: f64,
    /// Clock cycles per operation (time base for leakage).
    pub cycles_per_op: f64,
}

/// Prices an activity on a netlist with a technology at `freq_ghz`.
pub fn energy(
    net: &Netlist,
    tech: &dyn Technology,
    act: &Activity,
    freq_ghz: f64,
) -> Result<Energy> {
    if act.toggles.len() != net.counted.len() {
        return Err(Error::new("toggle counts do not match the netlist"));
    }
    if act.ops <= 0.0 {
        return Err(Error::new("no operations to divide the energy by"));
    }
    let v = tech.voltage();
    let mut models: BTreeMap<String, CellModel> = BTreeMap::new();
    for c in &net.cells {
        if !models.contains_key(&c.kind) {
            models.insert(c.kind.clone(), tech.cell(&c.kind)?);
        }
    }
    let port_load = tech.port_load_ff()?;
    let mut port_bits = vec![0usize; net.nets];
    for &n in &net.port_loads {
        port_bits[n as usize] += 1;
    }
    let mut cells: BTreeMap<String, CellRow> = BTreeMap::new();
    for c in &net.cells {
        let m = &models[&c.kind];
        let row = cells.entry(c.kind.clone()).or_insert(CellRow {
            count: 0,
            area_um2: 0.0,
            toggles_per_op: 0.0,
            dynamic_pj: 0.0,
            leakage_pj: 0.0,
            clock_pj: 0.0,
            source: m.source.clone(),
        });
        row.count += 1;
        row.area_um2 += m.area_um2;
        // nW × ns = 1e-18 J = 1e-6 pJ.
        row.leakage_pj += m.leakage_nw * act.cycles_per_op / freq_ghz * 1e-6;
        if m.clock_pin.is_some() && act.ops > 0.0 {
            row.clock_pj += m.clock_fj * act.lane_cycles as f64 / act.ops * 1e-3;
        }
    }
    let mut toggles_total = 0u64;
    for (&(n, ci), &t) in net.counted.iter().zip(act.toggles) {
        toggles_total += t;
        let c = &net.cells[ci];
        let fan = &net.fanout[n as usize];
        let mut load = port_bits[n as usize] as f64 * port_load;
        let mut pin_e = 0.0;
        for (k, pin) in fan {
            let fm = &models[&net.cells[*k].kind];
            if fm.clock_pin.as_deref() == Some(pin.as_str()) {
                continue; // the clock net is priced per cycle
            }
            load += fm.pin_cap_ff.get(pin).copied().ok_or_else(|| {
                Error::new(format!(
                    "{}: no capacitance for pin {pin} of {}",
                    tech.name(),
                    net.cells[*k].kind
                ))
            })?;
            pin_e += fm.pin_energy_fj.get(pin).copied().unwrap_or(0.0);
        }
        load += tech.wire_ff(fan.len()) * fan.len() as f64;
        let m = &models[&c.kind];
        let e_fj = m.output.at(load) + 0.5 * load * v * v + pin_e;
        let row = cells.get_mut(&c.kind).expect("row");
        row.toggles_per_op += t as f64 / act.ops;
        row.dynamic_pj += t as f64 * e_fj * 1e-3 / act.ops;
    }
    let sum = |f: fn(&CellRow) -> f64| cells.values().map(f).sum::<f64>();
    let (dynamic, clock, leakage) = (
        sum(|r| r.dynamic_pj),
        sum(|r| r.clock_pj),
        sum(|r| r.leakage_pj),
    );
    Ok(Energy {
        tech: tech.name(),
        voltage: v,
        freq_ghz,
        ops: act.ops,
        cycles_per_op: act.cycles_per_op,
        toggles_per_op: toggles_total as f64 / act.ops,
        dynamic_pj: dynamic,
        clock_pj: clock,
        leakage_pj: leakage,
        total_pj: dynamic + clock + leakage,
        area_um2: sum(|r| r.area_um2),
        cells,
        provenance: tech.provenance(),
    })
}

/// The caveat printed with every gate-level figure.
pub const GLITCH_CAVEAT: &str = "zero-delay simulation: glitches (transient toggles from \
     unequal path delays) are not counted, so dynamic energy is a lower bound for logic with \
     deep unbalanced paths; the clock tree and primary-input drivers are not included";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_reads_the_smallest_transition_whatever_the_time_unit() {
        // One 2x2 table (slew x load), written once in ns and once in ps: the nominal value
        // is the first row at the load, 1.0 + (2.0 - 1.0) * 0.5 at 1.5 fF, in both.
        let table = |time_ns: f64, scale: f64| Table {
            var1: "input_net_transition".into(),
            var2: Some("total_output_net_capacitance".into()),
            index_1: vec![0.01 * scale, 0.5 * scale],
            index_2: vec![1.0, 2.0],
            values: vec![1.0, 2.0, 10.0, 20.0],
            units: crate::liberty::Units {
                time_ns,
                cap_ff: 1.0,
                leakage_nw: 1.0,
                energy_fj: 1.0,
            },
        };
        assert!((nominal(&table(1.0, 1.0), 1.5) - 1.5).abs() < 1e-12);
        assert!((nominal(&table(0.001, 1000.0), 1.5) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn generic_table_prices_every_generic_gate() {
        let g = Generic45::load().unwrap();
        for gate in [
            "$_NOT_",
            "$_AND_",
            "$_NAND_",
            "$_OR_",
            "$_NOR_",
            "$_XOR_",
            "$_XNOR_",
            "$_ANDNOT_",
            "$_ORNOT_",
            "$_MUX_",
            "$_AOI3_",
            "$_OAI3_",
            "$_AOI4_",
            "$_OAI4_",
            "$_DFF_P_",
        ] {
            let m = g.cell(gate).unwrap();
            assert!(m.area_um2 > 0.0 && m.leakage_nw > 0.0, "{gate}");
            assert!(m.output.at(1.0) > 0.0, "{gate}");
        }
        let e = g.cell("$_SDFFE_PP0P_").unwrap_err();
        assert!(e.0.contains("$_SDFFE_PP0P_"), "{e}");
        // DFF_X1: 1.257 + 5.945 fJ internal + 0.950 fF × 1.1² V².
        let ff = g.cell("$_DFF_P_").unwrap();
        assert!((ff.clock_fj - (1.257 + 5.945 + 0.950 * 1.21)).abs() < 1e-9);
        // NAND2_X1: (2.528 + 0.156) / 2.
        assert!((g.cell("$_NAND_").unwrap().output.at(0.0) - 1.342).abs() < 1e-9);
    }
}
