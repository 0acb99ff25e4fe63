//! Liberty (`.lib`) reader: the cells, pins, logic functions, flip-flops, units and
//! internal-power tables that the gate-level energy model needs.
//!
//! The reader is hand-written: a tokenizer that keeps line numbers, a parser that turns
//! the text into generic groups and attributes (groups nest at most 1,000 deep), and an
//! interpreter that picks out what pelab uses (including the `timing` groups of output pins:
//! their delay and transition tables) and skips everything else (wire loads, `pg_pin`,
//! `test_cell`, unknown groups and attributes). Every error names the file and the line.
//!
//! ```no_run
//! let lib = pelab_sim::liberty::read(std::path::Path::new("cells.lib.gz"))?;
//! let nand = lib.cell("NAND2_X1")?;
//! for pin in nand.outputs() {
//!     println!("{} = {:?}", pin.name, pin.function);
//! }
//! # Ok::<(), pelab_sim::Error>(())
//! ```

mod build;
mod expr;
mod lexer;
mod parser;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

// ---------------------------------------------------------------------------------------
// Public data model
// ---------------------------------------------------------------------------------------

/// A Liberty library: its units, nominal voltage and cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    /// The name given in `library (name)`.
    pub name: String,
    /// The path (or label) the library was read from; used in error messages.
    pub path: String,
    /// The library's units, as scale factors to ns, fF, nW and fJ.
    pub units: Units,
    /// Nominal supply voltage in volts: `nom_voltage`, or else the `voltage` of the default
    /// (or only) `operating_conditions` group.
    pub nom_voltage: f64,
    /// Cells by name.
    pub cells: BTreeMap<String, Cell>,
}

/// Scale factors from the library's units to the units pelab works in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Units {
    /// One `time_unit` in nanoseconds.
    pub time_ns: f64,
    /// One `capacitive_load_unit` in femtofarads.
    pub cap_ff: f64,
    /// One `leakage_power_unit` in nanowatts.
    pub leakage_nw: f64,
    /// One unit of an `internal_power` table in femtojoules: capacitive load unit times
    /// voltage unit squared (pF x V^2 = pJ gives 1000.0).
    pub energy_fj: f64,
}

/// One cell of a library.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Cell name.
    pub name: String,
    /// Line of the `cell (...)` group in the library file.
    pub line: usize,
    /// `area`, in the library's area unit (0.0 when absent).
    pub area: f64,
    /// `cell_leakage_power` scaled to nW; `None` when the cell has none.
    pub leakage_nw: Option<f64>,
    /// `dont_use : true`.
    pub dont_use: bool,
    /// Signal pins in file order (`pg_pin` groups are not included).
    pub pins: Vec<Pin>,
    /// The cell's `ff` group, if any.
    pub ff: Option<Ff>,
    /// True when the cell has a `latch`, `latch_bank`, `ff_bank` or `statetable` group:
    /// sequential behaviour that pelab's callers do not model.
    pub latch: bool,
    /// State variable names declared by `latch` groups and the internal nodes of
    /// `statetable` groups, so that functions naming them can be told apart from typos.
    pub latch_vars: Vec<String>,
}

/// Direction of a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `direction : input`.
    Input,
    /// `direction : output`.
    Output,
    /// `direction : inout`.
    Inout,
    /// `direction : internal`.
    Internal,
}

/// One signal pin of a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    /// Pin name.
    pub name: String,
    /// Pin direction.
    pub direction: Direction,
    /// `capacitance` scaled to fF; `None` when absent.
    pub capacitance_ff: Option<f64>,
    /// Parsed `function`; `None` when absent.
    pub function: Option<Expr>,
    /// `three_state` condition as written in the library (the output is high impedance
    /// when it is true).
    pub three_state: Option<String>,
    /// `clock : true`.
    pub clock: bool,
    /// The pin's `internal_power` groups in file order.
    pub internal_power: Vec<PowerArc>,
    /// The pin's `timing` groups in file order (output pins).
    pub timing: Vec<TimingArc>,
}

/// One `timing` group of an output pin: a delay arc from `related_pin`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingArc {
    /// Line of the `timing` group in the library file.
    pub line: usize,
    /// `related_pin`, as written (may name several pins separated by spaces).
    pub related_pin: Option<String>,
    /// `timing_type` (`combinational` when absent).
    pub timing_type: String,
    /// `timing_sense`, as written.
    pub timing_sense: Option<String>,
    /// `when` condition, as written.
    pub when: Option<String>,
    /// `cell_rise`: delay of an output rise, in the library's time unit.
    pub cell_rise: Option<Table>,
    /// `cell_fall`: delay of an output fall.
    pub cell_fall: Option<Table>,
    /// `rise_transition`: the output's rise time.
    pub rise_transition: Option<Table>,
    /// `fall_transition`: the output's fall time.
    pub fall_transition: Option<Table>,
}

impl TimingArc {
    /// Whether this arc is a delay through combinational logic (`timing_type` combinational,
    /// `combinational_rise` or `combinational_fall`) with at least one delay table.
    pub fn is_combinational_delay(&self) -> bool {
        matches!(
            self.timing_type.as_str(),
            "combinational" | "combinational_rise" | "combinational_fall"
        ) && (self.cell_rise.is_some() || self.cell_fall.is_some())
    }

    /// The related pins (`related_pin` split at blanks).
    pub fn related_pins(&self) -> impl Iterator<Item = &str> {
        self.related_pin.as_deref().unwrap_or("").split_whitespace()
    }
}

/// One `internal_power` group of a pin.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerArc {
    /// `related_pin`, as written (may name several pins separated by spaces).
    pub related_pin: Option<String>,
    /// `when` condition, as written.
    pub when: Option<String>,
    /// `rise_power` table (or the `power` table, which stands for both).
    pub rise: Option<Table>,
    /// `fall_power` table (or the `power` table, which stands for both).
    pub fall: Option<Table>,
}

/// A lookup table (`rise_power`, `fall_power`, `power`) with its template's variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `variable_1` of the template (empty for a `scalar` table).
    pub var1: String,
    /// `variable_2` of the template, if it has one.
    pub var2: Option<String>,
    /// Breakpoints of the first variable, in library units (empty for a scalar table).
    pub index_1: Vec<f64>,
    /// Breakpoints of the second variable, in library units (empty for 0-D and 1-D tables).
    pub index_2: Vec<f64>,
    /// Values row-major: `index_1.len()` rows of `index_2.len()` columns (one column for a
    /// 1-D table, a single value for a scalar table), in the table's raw unit.
    pub values: Vec<f64>,
    /// The library's units, used by [`Table::lookup`] to convert its arguments.
    pub units: Units,
}

/// A flip-flop (`ff (IQ, IQN) { ... }`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ff {
    /// Name of the state variable (first argument of `ff`).
    pub iq: String,
    /// Name of the inverted state variable (second argument of `ff`).
    pub iqn: String,
    /// `clocked_on`: the state is loaded on this expression's rising edge.
    pub clocked_on: Expr,
    /// `next_state`: the value loaded.
    pub next_state: Expr,
    /// `clear`: asynchronous clear condition.
    pub clear: Option<Expr>,
    /// `preset`: asynchronous preset condition.
    pub preset: Option<Expr>,
}

/// A Boolean expression in Liberty `function` syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `0` or `1`.
    Const(bool),
    /// A pin or state variable name.
    Var(String),
    /// `!x` or `x'`.
    Not(Box<Expr>),
    /// `x & y`, `x * y` or `x y`.
    And(Box<Expr>, Box<Expr>),
    /// `x | y` or `x + y`.
    Or(Box<Expr>, Box<Expr>),
    /// `x ^ y`.
    Xor(Box<Expr>, Box<Expr>),
}

// ---------------------------------------------------------------------------------------
// Public functions and methods
// ---------------------------------------------------------------------------------------

/// Reads a Liberty file, gunzipping it when it starts with the gzip magic bytes.
pub fn read(path: &Path) -> Result<Library> {
    let shown = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| Error::new(format!("{shown}: cannot read: {e}")))?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(bytes.len() * 6);
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::new(format!("{shown}: cannot decompress gzip data: {e}")))?;
        out
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes);
    parse_str(&text, &shown)
}

/// Parses Liberty text; `path` is used only in error messages and [`Library::path`].
pub fn parse_str(text: &str, path: &str) -> Result<Library> {
    let top = parser::Parser::new(text, path).parse_top()?;
    build::build_library(&top, path)
}

impl Library {
    /// The cell called `name`, or an error naming the cell and the library file.
    pub fn cell(&self, name: &str) -> Result<&Cell> {
        self.cells.get(name).ok_or_else(|| {
            Error::new(format!(
                "cell '{name}' not found in library '{}' ({})",
                self.name, self.path
            ))
        })
    }
}

impl Cell {
    /// The pin called `name`.
    pub fn pin(&self, name: &str) -> Option<&Pin> {
        self.pins.iter().find(|p| p.name == name)
    }

    /// Pins that drive a value: `output` and `inout` pins.
    pub fn outputs(&self) -> impl Iterator<Item = &Pin> {
        self.pins
            .iter()
            .filter(|p| matches!(p.direction, Direction::Output | Direction::Inout))
    }

    /// Pins that receive a value: `input` and `inout` pins.
    pub fn inputs(&self) -> impl Iterator<Item = &Pin> {
        self.pins
            .iter()
            .filter(|p| matches!(p.direction, Direction::Input | Direction::Inout))
    }
}

/// What a table variable measures, as far as [`Table::lookup`] is concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum VarKind {
    Slew,
    Load,
    Unknown,
}

fn var_kind(name: &str) -> VarKind {
    if name.contains("transition") {
        VarKind::Slew
    } else if name.contains("capacitance") {
        VarKind::Load
    } else {
        VarKind::Unknown
    }
}

/// Position of `x` on the breakpoints `ix`: the two bracketing indices and the fraction
/// between them (outside the ends, the first or last segment, extrapolated linearly).
fn axis_position(ix: &[f64], x: f64) -> (usize, usize, f64) {
    if ix.len() < 2 {
        return (0, 0, 0.0);
    }
    let above = ix.partition_point(|&v| v <= x);
    let lo = above.saturating_sub(1).min(ix.len() - 2);
    let hi = lo + 1;
    let span = ix[hi] - ix[lo];
    let t = if span == 0.0 {
        0.0
    } else {
        (x - ix[lo]) / span
    };
    (lo, hi, t)
}

impl Table {
    /// Value at input slew `slew_ns` (ns) and output load `load_ff` (fF), in the table's raw
    /// unit. Interpolates bilinearly and extrapolates linearly beyond the table's ends.
    ///
    /// The template's variable names decide which index is the slew (names containing
    /// `transition`) and which is the load (names containing `capacitance`); a variable
    /// with another name takes the slew when it is `variable_1` and the load when it is
    /// `variable_2`. A scalar table returns its one value.
    pub fn lookup(&self, slew_ns: f64, load_ff: f64) -> f64 {
        if self.values.len() == 1 {
            return self.values[0];
        }
        let slew = slew_ns / self.units.time_ns;
        let load = load_ff / self.units.cap_ff;
        let arg = |var: &str, first: bool| match var_kind(var) {
            VarKind::Slew => slew,
            VarKind::Load => load,
            VarKind::Unknown if first => slew,
            VarKind::Unknown => load,
        };
        let (i0, i1, t) = axis_position(&self.index_1, arg(&self.var1, true));
        let (j0, j1, u) = match &self.var2 {
            Some(v) if !self.index_2.is_empty() => axis_position(&self.index_2, arg(v, false)),
            _ => (0, 0, 0.0),
        };
        let cols = self.index_2.len().max(1);
        let at = |i: usize, j: usize| self.values.get(i * cols + j).copied().unwrap_or(0.0);
        at(i0, j0) * (1.0 - t) * (1.0 - u)
            + at(i1, j0) * t * (1.0 - u)
            + at(i0, j1) * (1.0 - t) * u
            + at(i1, j1) * t * u
    }
}
