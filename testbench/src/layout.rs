//! The columns and timing of a PE's golden vectors ([`Layout`]), shared by the vector codecs,
//! the vector files, the testbenches and the gate engine.

use serde::Serialize;

/// One column of a vector row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Port name (lower case, as on the Verilog module).
    pub name: String,
    /// Width in bits.
    pub width: u32,
    /// Whether the DUT drives it (an expected output).
    pub output: bool,
}

impl Field {
    /// An input field.
    pub fn input(name: &str, width: u32) -> Field {
        Field {
            name: name.into(),
            width,
            output: false,
        }
    }
    /// An output field.
    pub fn output(name: &str, width: u32) -> Field {
        Field {
            name: name.into(),
            width,
            output: true,
        }
    }
}

/// How rows meet the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Timing {
    /// Independent operations, one per row, streamed one per cycle; each row's outputs appear
    /// `latency` rising edges after its inputs (0: combinational, no clock).
    Stream {
        /// Register stages between inputs and outputs.
        latency: u32,
    },
    /// Each row is one clock cycle of a stateful PE: inputs are applied, a rising edge
    /// follows, and the outputs are compared after it.
    Cycles,
}

/// The columns of a PE configuration's vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// Inputs, then outputs.
    pub fields: Vec<Field>,
    /// Timing of rows.
    pub timing: Timing,
    /// Whether rows end with a `CARE` mask (bit i set: output i is compared on this row).
    pub care: bool,
    /// Inputs that, when 1 on a row, leave the PE in a state that depends on that row only
    /// (a reset, or a clear of the only register): a cycle-by-cycle stream may be cut there.
    pub restart: Vec<String>,
}

impl Layout {
    /// The input fields.
    pub fn inputs(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.output)
    }
    /// The output fields.
    pub fn outputs(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.output)
    }
    /// Number of output fields.
    pub fn n_outputs(&self) -> usize {
        self.outputs().count()
    }
    /// Every column of a row, the `CARE` mask included.
    pub fn columns(&self) -> Vec<Field> {
        let mut c = self.fields.clone();
        if self.care {
            c.push(Field::input("care", self.n_outputs() as u32));
        }
        c
    }
    /// Width of a packed row.
    pub fn row_width(&self) -> u32 {
        self.columns().iter().map(|f| f.width).sum()
    }
    /// Whether the testbench needs a clock.
    pub fn clocked(&self) -> bool {
        !matches!(self.timing, Timing::Stream { latency: 0 })
    }
    /// The input (or output) columns as `name:width` words.
    pub(crate) fn describe(&self, output: bool) -> String {
        let v: Vec<String> = self
            .fields
            .iter()
            .filter(|f| f.output == output)
            .map(|f| format!("{}:{}", f.name, f.width))
            .collect();
        v.join(",")
    }
    /// The timing as written in vector-file headers.
    pub(crate) fn timing_text(&self) -> String {
        match self.timing {
            Timing::Stream { latency } => format!("stream latency={latency}"),
            Timing::Cycles => "cycles".into(),
        }
    }
}
