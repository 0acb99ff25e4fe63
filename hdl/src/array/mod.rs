//! PE arrays: the array cells (one accumulating step of a PE, combinational) and the systolic
//! arrays built from them, output-stationary ([`os`]) and weight-stationary ([`ws`]).
//!
//! The arrays are written as Verilog text around the cell module (see [`os`] for why); the
//! file holds the array, its PE module and the cell, all named under the array's name.

pub mod bitmod;
pub mod cell;
pub mod os;
pub mod ws;

use crate::emit::{Port, RtlModule};
use crate::{Error, Result};
use cell::CellSpec;
pub use os::Geometry;
use serde::Serialize;

/// The largest number of rows or columns of an array.
pub const MAX_SIDE: usize = 64;

/// How operands and results move through an array (`pelab_sim`'s; the RTL exists for `os` and
/// `ws`, and `is` is the `ws` array with the operands' roles swapped).
pub use pelab_sim::array::Dataflow;

/// The dataflows with RTL.
pub const RTL_DATAFLOWS: [Dataflow; 2] = [Dataflow::Os, Dataflow::Ws];

/// One array configuration: its cell, dataflow and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArraySpec {
    /// The cell every PE holds.
    pub cell: CellSpec,
    /// Dataflow.
    pub dataflow: Dataflow,
    /// Rows R.
    pub rows: usize,
    /// Columns C.
    pub cols: usize,
}

/// Parses an array size `RxC` (each side 1 to [`MAX_SIDE`]).
pub fn parse_size(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::new(format!(
            "array size '{s}': expected RxC with R and C from 1 to {MAX_SIDE} (e.g. 8x8)"
        ))
    };
    let (r, c) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let side = |t: &str| -> Result<usize> {
        let n: usize = t.trim().parse().map_err(|_| bad())?;
        if (1..=MAX_SIDE).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    Ok((side(r)?, side(c)?))
}

impl ArraySpec {
    /// Checks the size and builds the configuration.
    pub fn new(cell: CellSpec, dataflow: Dataflow, rows: usize, cols: usize) -> Result<Self> {
        if cell.is_sequential() && dataflow != Dataflow::Os {
            return Err(Error::new(format!(
                "the bitmod array is output-stationary only (not {}): its group accumulator and \
                 dequantizer stay inside the PE, so no partial sum can flow between PEs",
                dataflow.name()
            )));
        }
        if !RTL_DATAFLOWS.contains(&dataflow) {
            return Err(Error::new(format!(
                "no RTL for the {} dataflow: arrays are generated as os or ws (is is the ws \
                 array with A and B swapped: run it as ws on Bᵀ and Aᵀ)",
                dataflow.name()
            )));
        }
        for (what, n) in [("rows", rows), ("columns", cols)] {
            if !(1..=MAX_SIDE).contains(&n) {
                return Err(Error::new(format!(
                    "array {what} {n} out of range: 1 to {MAX_SIDE}"
                )));
            }
        }
        Ok(ArraySpec {
            cell,
            dataflow,
            rows,
            cols,
        })
    }

    /// Module (and file) name: `pelab_array_<pe>_<format>_<policy>_<df>_<R>x<C>`.
    pub fn module_name(&self) -> String {
        format!(
            "pelab_array_{}_{}_{}_{}_{}x{}",
            self.cell.pe,
            self.cell.format,
            self.cell.policy,
            self.dataflow.name(),
            self.rows,
            self.cols
        )
    }

    /// The array's shape and operand buses.
    pub fn geometry(&self) -> Geometry {
        Geometry {
            rows: self.rows,
            cols: self.cols,
            lanes: self.cell.lanes,
            a_width: self.cell.a_width,
            b_width: self.cell.b_width,
            sequential: self.cell.is_sequential(),
        }
    }

    /// The ports of the array module, in order.
    pub fn ports(&self) -> Vec<Port> {
        match self.dataflow {
            Dataflow::Os => os::ports(&self.geometry()),
            Dataflow::Ws | Dataflow::Is => ws::ports(&self.geometry()),
        }
    }

    /// Multiply-accumulate steps per PE per cycle is one; this is the number of cycles from a
    /// step's inputs to the cycle after PE(R-1, C-1) applied it, R + C - 1 (both dataflows).
    pub fn skew(&self) -> usize {
        self.rows + self.cols - 1
    }

    /// What the file header says about the array's protocol, one sentence per entry.
    pub fn semantics(&self) -> Vec<String> {
        let (r, c) = (self.rows, self.cols);
        let d = self.cell.lanes;
        let zero = if self.cell.float { "+0" } else { "0" };
        if self.cell.is_sequential() {
            return self.bitmod_semantics();
        }
        let mut s = vec![format!(
            "Each PE holds the cell {}: y = step(acc, a, b), one {} step of {d} lane(s); \
             C[i][j] folds the steps t = 0, 1, ... in order from {zero}, never as a tree.",
            self.cell.module_name(),
            self.cell.pe
        )];
        match self.dataflow {
            Dataflow::Os => s.extend([
                format!(
                    "Output-stationary {r}x{c}: present step t of a tile on a_in_i (A[i][t*{d}..]) \
                     and b_in_j (B[t*{d}..][j]) with in_valid, in_first on the first step and \
                     in_last on the last; rows and columns beyond the tile carry code 0."
                ),
                "Inside, row i's a and flags are delayed i cycles and column j's b j cycles: \
                 PE(i,j) applies the step presented in cycle T in cycle T+i+j, from 0 when \
                 in_first was set (acc <= step(first ? 0 : acc, a, b))."
                    .into(),
                format!(
                    "Drain: the cycle after PE({},j) applied the last step, column j's chain \
                     loads every accumulator of the column and then shifts one row per cycle; \
                     the columns are deskewed, so row r of C is on c_out_* with out_valid and \
                     out_row = r after the rising edge of cycle T_last+{}+r (T_last: the cycle \
                     of the last step).",
                    r - 1,
                    r + c - 1
                ),
                format!(
                    "A tile's last step must follow the previous tile's last step by at least \
                     {r} cycles (the drain); the SCALE-Sim spacing of tiles, K'+R+C-2 cycles, \
                     meets it."
                ),
            ]),
            Dataflow::Ws | Dataflow::Is => s.extend([
                format!(
                    "Weight-stationary {r}x{c}: array row i holds k = {d}*i .. {d}*i+{}; load a \
                     tile of B by presenting its rows on w_in_* with w_load for {r} cycles, the \
                     bottom row (i = {}) first; w_valid low marks a padding row, whose PEs pass \
                     sums on unchanged.",
                    d - 1,
                    r - 1
                ),
                "Then present each row m of A on a_in_i (A[m][{d}*i..]) with its partial sums \
                 on p_in_j (0 for the first k-tile, else the previous k-tile's result) and \
                 in_valid; row i's a is delayed i cycles and column j's partial sum j cycles, \
                 so PE(i,j) adds its step in cycle T+i+j."
                    .to_string(),
                format!(
                    "Row m of C leaves on c_out_* with out_valid after the rising edge of cycle \
                     T+{}, rows in the order they were presented.",
                    r + c - 1
                ),
                "Load weights only after the last row's step has left PE(R-1,C-1) (the \
                 SCALE-Sim spacing, 2R+C+M-2 cycles per tile, does)."
                    .into(),
            ]),
        }
        s
    }

    /// The file header's protocol of the bitmod (sequential-cell) array.
    fn bitmod_semantics(&self) -> Vec<String> {
        let (r, c) = (self.rows, self.cols);
        let x = pelab_sim::array::bitmod::RESULT_LATENCY;
        vec![
            format!(
                "Each PE holds the sequential cell {}: the BitMoD PE and an FP32 accumulator of \
                 its group results; C[i][j] is the FP32 sum in group order from +0 of the \
                 dequantized results of the groups of 128 weights of row i of A with column j \
                 of B (pelab_sim::array::bitmod).",
                self.cell.module_name()
            ),
            format!(
                "Output-stationary {r}x{c}: a step is a beat of 4 weights, presented for two \
                 cycles: a_in_i = row i's 4 lanes {{scale, select, code}} of A[i][4t..4t+3], \
                 b_in_j = B[4t..4t+3][j] as FP16, both cycles with in_valid, in_first on the \
                 tile's first beat and in_last on its last; lanes beyond K and rows and columns \
                 beyond the tile carry code 0."
            ),
            "A group (128 weights, or the rest of K) ends with its last beat; a group of fewer \
             than 16 weights must be preceded by idle cycles (in_valid = 0) so that it takes \
             8 cycles in all (the dequantizer's spacing)."
                .into(),
            format!(
                "Inside, row i's a and flags are delayed i cycles and column j's b j cycles; \
                 PE(i,j)'s result is final {x} cycles after it processed the tile's last term, \
                 when its done rises; the drain starts from PE({},j)'s done, so row r of C is on \
                 c_out_* with out_valid and out_row = r after the rising edge of cycle \
                 T_last+{}+r (T_last: the second cycle of the tile's last beat).",
                r - 1,
                r + c - 1 + x as usize
            ),
            format!(
                "Tiles follow each other every (beat and idle cycles of a tile)+R+C-2 cycles \
                 ({r}+{c}-2 here), which leaves the drain its {r} cycles and the dequantizer \
                 its spacing."
            ),
        ]
    }

    /// The Verilog of the array: header, array module, its PE module and the cell (renamed
    /// under the array's name).
    pub fn verilog(&self) -> Result<RtlModule> {
        let name = self.module_name();
        let cell = cell::cell_verilog(&self.cell)?;
        let cell_name = format!("{name}__cell");
        let body = match self.dataflow {
            Dataflow::Os => os::verilog(&name, &cell_name, &self.geometry()),
            Dataflow::Ws => ws::verilog(&name, &cell_name, &self.geometry()),
            Dataflow::Is => {
                return Err(Error::new(
                    "no RTL for the is dataflow; emit ws on Bᵀ and Aᵀ",
                ))
            }
        };
        // The cell's modules, renamed under the array's name; its header comment dropped.
        let start = cell.verilog.find("\nmodule ").map_or(0, |i| i + 1);
        let cell_text = cell.verilog[start..].replace(&cell.name, &cell_name);
        let cell_text = cell_text.replace("/* verilator lint_off DECLFILENAME */\n", "");
        let mut submodules = vec![format!("{name}__pe"), cell_name.clone()];
        submodules.extend(
            cell.submodules
                .iter()
                .map(|m| m.replace(&cell.name, &cell_name)),
        );
        let ports = self.ports();
        let mut h = vec![
            format!(
                "{name}.v -- generated by pelab-hdl {}; do not edit.",
                env!("CARGO_PKG_VERSION")
            ),
            String::new(),
            format!(
                "Module: {name} ({} array of {} PEs, {} {} {})",
                self.dataflow.name(),
                self.rows * self.cols,
                self.cell.pe,
                self.cell.format,
                self.cell.policy
            ),
            "Semantics:".into(),
        ];
        h.extend(self.semantics().into_iter().map(|x| format!("  - {x}")));
        h.push("Ports:".into());
        let wmax = ports.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &ports {
            let dir = match p.dir {
                crate::PortDir::Input => "input ",
                crate::PortDir::Output => "output",
            };
            let range = if p.width == 1 {
                String::new()
            } else {
                format!("[{}:0]", p.width - 1)
            };
            h.push(format!("  {dir} {range:>7} {:wmax$}  {}", p.name, p.doc));
        }
        h.push(format!(
            "Notes:\n  - Sub-modules defined in this file: {}.",
            submodules.join(", ")
        ));
        h.push(
            "  - Every register is reset synchronously by reset; assert it for one cycle \
             after power-up."
                .into(),
        );
        let mut text = String::new();
        for line in h {
            for l in line.split('\n') {
                text.push_str("// ");
                text.push_str(l);
                text.push('\n');
            }
        }
        text.push('\n');
        text.push_str(&body);
        text.push_str(&cell_text);
        Ok(RtlModule {
            name,
            verilog: text,
            latency: self.skew() as u32 + 1,
            ports,
            submodules,
        })
    }
}
