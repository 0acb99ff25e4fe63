//! Gate-level netlist engine: loads a flattened Yosys JSON netlist (Yosys' generic gate set and
//! `$_DFF_*` flip-flops, or the cells of a Liberty library), levelizes it once and simulates it
//! bit-parallel, [`LANES`] vectors per evaluation, counting the output toggles of every cell.
//!
//! The simulation is cycle-based: every evaluation settles the combinational logic once in
//! topological order (zero delay), so glitches (transient toggles caused by unequal path
//! delays) are not seen. With [`Delay::Unit`], toggle counting also steps the logic from the
//! previous settled state to the new one with one time unit per cell (inertial, as Verilog
//! `assign #1`), counting every value change, glitches included ([`timed`]); with
//! [`Delay::Liberty`], with each cell's delay from the library's timing tables
//! ([`delays`], annotated on the netlist with [`Netlist::annotate_delays`]).
//!
//! Semantics of the generic cells follow the Yosys manual (`$_MUX_`: `Y = S ? B : A`,
//! `$_ANDNOT_`: `Y = A & !B`, `$_AOI3_`: `Y = !((A & B) | C)`, `$_OAI4_`:
//! `Y = !((A | B) & (C | D))`, ...). Flip-flops: `$_DFF_[NP]_`, `$_DFFE_[NP][NP]_`,
//! `$_SDFF_[NP][NP][01]_`, `$_SDFFE_[NP][NP][01][NP]_` (reset before enable),
//! `$_SDFFCE_[NP][NP][01][NP]_` (reset only when enabled), `$_DFF_[NP][NP][01]_` and
//! `$_DFFE_[NP][NP][01][NP]_` (asynchronous reset: applied at the clock edge and, when it is
//! active after an evaluation, forced at once and the logic settled again). Every flip-flop
//! must be clocked by the same input port on the same edge. Undriven bits and `x`/`z`
//! constants read as 0; flip-flops start at their `init` value (0 when none).

pub mod delays;
mod engine;
pub mod kernel;
mod levelize;
mod load;
pub mod timed;

pub use engine::{from_planes, lane_mask, to_planes, transpose64, Sim, ToggleMode};
pub use timed::Delay;

use crate::liberty::Library;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Words per lane group: a simulation step evaluates `64 * LANE_WORDS` vectors.
pub const LANE_WORDS: usize = 8;
/// Vectors evaluated together.
pub const LANES: usize = 64 * LANE_WORDS;
/// One net's value in every lane (lane `i` is bit `i % 64` of word `i / 64`).
pub type Word = [u64; LANE_WORDS];

/// A primitive operation of the compiled program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `Y = A`.
    Buf,
    /// `Y = !A`.
    Not,
    /// `Y = A & B`.
    And,
    /// `Y = !(A & B)`.
    Nand,
    /// `Y = A | B`.
    Or,
    /// `Y = !(A | B)`.
    Nor,
    /// `Y = A ^ B`.
    Xor,
    /// `Y = !(A ^ B)`.
    Xnor,
    /// `Y = A & !B`.
    AndNot,
    /// `Y = A | !B`.
    OrNot,
    /// `Y = C ? B : A` (operands a, b, c = A, B, S).
    Mux,
    /// `Y = !(C ? B : A)`.
    NMux,
    /// `Y = !((A & B) | C)`.
    Aoi3,
    /// `Y = !((A | B) & C)`.
    Oai3,
    /// `Y = !((A & B) | (C & D))`.
    Aoi4,
    /// `Y = !((A | B) & (C | D))`.
    Oai4,
}

impl Op {
    /// The generic Yosys cell type implemented by this operation, and its input pins.
    fn generic(cell: &str) -> Option<(Op, &'static [&'static str])> {
        Some(match cell {
            "$_BUF_" => (Op::Buf, &["A"]),
            "$_NOT_" => (Op::Not, &["A"]),
            "$_AND_" => (Op::And, &["A", "B"]),
            "$_NAND_" => (Op::Nand, &["A", "B"]),
            "$_OR_" => (Op::Or, &["A", "B"]),
            "$_NOR_" => (Op::Nor, &["A", "B"]),
            "$_XOR_" => (Op::Xor, &["A", "B"]),
            "$_XNOR_" => (Op::Xnor, &["A", "B"]),
            "$_ANDNOT_" => (Op::AndNot, &["A", "B"]),
            "$_ORNOT_" => (Op::OrNot, &["A", "B"]),
            "$_MUX_" => (Op::Mux, &["A", "B", "S"]),
            "$_NMUX_" => (Op::NMux, &["A", "B", "S"]),
            "$_AOI3_" => (Op::Aoi3, &["A", "B", "C"]),
            "$_OAI3_" => (Op::Oai3, &["A", "B", "C"]),
            "$_AOI4_" => (Op::Aoi4, &["A", "B", "C", "D"]),
            "$_OAI4_" => (Op::Oai4, &["A", "B", "C", "D"]),
            _ => return None,
        })
    }
}

/// One instruction: `y = op(a, b, c, d)` over net indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instr {
    /// Operation.
    pub op: Op,
    /// Operands (unused ones are 0).
    pub a: u32,
    /// Second operand.
    pub b: u32,
    /// Third operand.
    pub c: u32,
    /// Fourth operand.
    pub d: u32,
    /// Result net.
    pub y: u32,
}

/// A control input of a flip-flop: net and active level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// Net.
    pub net: u32,
    /// Active when the net is 1 (`true`) or 0 (`false`).
    pub high: bool,
}

/// A flip-flop (one state bit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flop {
    /// Cell instance index in [`Netlist::cells`].
    pub cell: usize,
    /// State net (Q).
    pub q: u32,
    /// Data net.
    pub d: u32,
    /// Clock enable.
    pub enable: Option<Control>,
    /// Synchronous reset and its value; `gated`: only when enabled (`$_SDFFCE_`).
    pub sync_reset: Option<(Control, bool, bool)>,
    /// Asynchronous set/reset controls and their values.
    pub async_reset: Vec<(Control, bool)>,
    /// Initial value.
    pub init: bool,
}

/// A port of the top module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// Name.
    pub name: String,
    /// Nets of its bits, least significant first.
    pub bits: Vec<u32>,
}

/// One cell instance of the netlist.
#[derive(Debug, Clone, PartialEq)]
pub struct CellInst {
    /// Instance name.
    pub name: String,
    /// Cell type (`$_AND_`, `sky130_fd_sc_hd__nand2_1`, ...).
    pub kind: String,
    /// Input pins and their nets.
    pub inputs: Vec<(String, u32)>,
    /// Output pins and their nets.
    pub outputs: Vec<(String, u32)>,
    /// Whether it is a flip-flop.
    pub is_flop: bool,
}

/// A levelized netlist, ready to simulate.
#[derive(Debug, Clone)]
pub struct Netlist {
    /// Top module name.
    pub top: String,
    /// Where it came from (for messages).
    pub source: String,
    /// Number of nets (including internal temporaries of library cells).
    pub nets: usize,
    /// Input ports (the clock included).
    pub inputs: Vec<Port>,
    /// Output ports.
    pub outputs: Vec<Port>,
    /// Cell instances.
    pub cells: Vec<CellInst>,
    /// The program in topological order.
    pub program: Vec<Instr>,
    /// Flip-flops.
    pub flops: Vec<Flop>,
    /// The clock input port's net, when the design has flip-flops.
    pub clock: Option<u32>,
    /// Nets whose toggles are counted: every cell output, with its cell index.
    pub counted: Vec<(u32, usize)>,
    /// Fan-out of each net: (cell index, input pin name).
    pub fanout: Vec<Vec<(usize, String)>>,
    /// Nets that drive output ports (a net may appear once per port bit).
    pub port_loads: Vec<u32>,
    /// Longest combinational path in program instructions (flip-flops and ports cut).
    pub depth: usize,
    /// Each net's name in the Yosys netlist (`name` or `name[k]`), when it has one.
    pub names: Vec<Option<String>>,
    /// Cell delays for [`Delay::Liberty`], in time quanta, one per entry of
    /// [`Netlist::counted`] (set by [`Netlist::annotate_delays`]).
    pub delays: Option<Vec<u32>>,
    /// A compiled evaluation of [`Netlist::program`], when one was attached
    /// ([`kernel`]); [`Sim`] then calls it instead of interpreting the program.
    pub kernel: std::sync::OnceLock<kernel::Kernel>,
}

/// Net 0 is constant 0, net 1 constant 1.
const CONST0: u32 = 0;
const CONST1: u32 = 1;

impl Netlist {
    /// Loads module `top` of a Yosys JSON netlist (`source` names it in messages). Cells must be
    /// Yosys generic gates and flip-flops, or cells of `lib`.
    pub fn from_yosys_json(
        json: &str,
        top: &str,
        source: &str,
        lib: Option<&Library>,
    ) -> Result<Netlist> {
        load::from_yosys_json(json, top, source, lib)
    }

    /// Input port by name.
    pub fn input(&self, name: &str) -> Result<usize> {
        self.inputs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| {
                Error::new(format!(
                    "{}: module {} has no input port '{name}'",
                    self.source, self.top
                ))
            })
    }

    /// Output port by name.
    pub fn output(&self, name: &str) -> Result<usize> {
        self.outputs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| {
                Error::new(format!(
                    "{}: module {} has no output port '{name}'",
                    self.source, self.top
                ))
            })
    }

    /// Annotates the netlist with cell delays (for [`Delay::Liberty`] simulation).
    pub fn annotate_delays(&mut self, d: &delays::CellDelays) -> Result<()> {
        if d.quanta.len() != self.counted.len() {
            return Err(Error::new(format!(
                "{}: {} delays for {} cell outputs",
                self.source,
                d.quanta.len(),
                self.counted.len()
            )));
        }
        self.delays = Some(d.quanta.clone());
        Ok(())
    }

    /// A name for net `n`: its Yosys name when it has a public one, else `n<index>`.
    pub fn net_name(&self, n: u32) -> String {
        match self.names.get(n as usize).and_then(|x| x.as_deref()) {
            Some(s) => s.to_string(),
            None => format!("n{n}"),
        }
    }

    /// Cell count by type.
    pub fn cell_counts(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for c in &self.cells {
            *m.entry(c.kind.clone()).or_insert(0) += 1;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::load::generic_flop;

    #[test]
    fn flop_names() {
        assert_eq!(generic_flop("$_DFF_P_").unwrap().2, "dff");
        assert!(!generic_flop("$_DFF_N_").unwrap().0);
        assert_eq!(generic_flop("$_SDFFE_PP0P_").unwrap().2, "sdffe");
        assert_eq!(generic_flop("$_SDFFCE_PN1P_").unwrap().2, "sdffce");
        assert_eq!(generic_flop("$_DFF_PP0_").unwrap().2, "adff");
        assert!(generic_flop("$_DFFSR_PPP_").is_none());
        assert!(generic_flop("$_AND_").is_none());
    }
}
