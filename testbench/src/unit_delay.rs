//! A gate netlist as unit-delay structural Verilog, for an event-driven simulator (Icarus):
//! every Yosys generic cell becomes `assign #1 y = f(...)` (one time unit, inertial), every
//! `$_DFF_P_` an `always @(posedge clk) q <= d`. A testbench around one or more copies of the
//! netlist applies one row of input values per period, read with `$readmemh`; the period is
//! long enough for the logic to settle. Primary inputs and flip-flops change at the start of a
//! period (the clock edge), as in pelab's unit-delay model
//! ([`pelab_sim::netlist::Delay::Unit`]).

use pelab_sim::netlist::Netlist;
use pelab_sim::{Error, Result};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The top module of the testbench.
pub const TOP: &str = "pelab_unit_tb";

/// A unit-delay testbench and the files it reads.
#[derive(Debug, Clone)]
pub struct UnitDelayTb {
    /// The Verilog (netlist copies and driver, top module [`TOP`]).
    pub verilog: String,
    /// Memory files to write beside it: (file name, contents).
    pub memories: Vec<(String, String)>,
    /// Time units per row (rows start at `row * period`).
    pub period: u64,
    /// Rows applied.
    pub rows: usize,
}

/// The Verilog name of net `net` in copy `copy`.
pub fn net_name(copy: usize, net: u32) -> String {
    format!("c{copy}_n{net}")
}

/// The Verilog expression of generic cell `kind` over its input pins (Yosys manual).
fn expression(kind: &str, pin: &dyn Fn(&str) -> Result<String>) -> Result<String> {
    let p = |n: &str| pin(n);
    Ok(match kind {
        "$_BUF_" => p("A")?,
        "$_NOT_" => format!("~{}", p("A")?),
        "$_AND_" => format!("{} & {}", p("A")?, p("B")?),
        "$_NAND_" => format!("~({} & {})", p("A")?, p("B")?),
        "$_OR_" => format!("{} | {}", p("A")?, p("B")?),
        "$_NOR_" => format!("~({} | {})", p("A")?, p("B")?),
        "$_XOR_" => format!("{} ^ {}", p("A")?, p("B")?),
        "$_XNOR_" => format!("~({} ^ {})", p("A")?, p("B")?),
        "$_ANDNOT_" => format!("{} & ~{}", p("A")?, p("B")?),
        "$_ORNOT_" => format!("{} | ~{}", p("A")?, p("B")?),
        "$_MUX_" => format!("{} ? {} : {}", p("S")?, p("B")?, p("A")?),
        "$_NMUX_" => format!("~({} ? {} : {})", p("S")?, p("B")?, p("A")?),
        "$_AOI3_" => format!("~(({} & {}) | {})", p("A")?, p("B")?, p("C")?),
        "$_OAI3_" => format!("~(({} | {}) & {})", p("A")?, p("B")?, p("C")?),
        "$_AOI4_" => format!(
            "~(({} & {}) | ({} & {}))",
            p("A")?,
            p("B")?,
            p("C")?,
            p("D")?
        ),
        "$_OAI4_" => format!(
            "~(({} | {}) & ({} | {}))",
            p("A")?,
            p("B")?,
            p("C")?,
            p("D")?
        ),
        _ => {
            return Err(Error::new(format!(
                "unit-delay Verilog: cell type {kind} is not a Yosys generic gate (only \
                 generic gates and $_DFF_P_ are written)"
            )))
        }
    })
}

/// The testbench driving `streams.len()` copies of `net`: `streams[c][r][j]` is the value of
/// input port `ports[j]` in row `r` of copy `c` (the clock port is driven by the testbench and
/// must not be listed). With `vcd`, every net of every copy is dumped to that file.
pub fn unit_delay_tb(
    net: &Netlist,
    ports: &[usize],
    streams: &[Vec<Vec<u64>>],
    vcd: Option<&str>,
) -> Result<UnitDelayTb> {
    let rows = streams.first().map_or(0, |s| s.len());
    if rows == 0 || streams.iter().any(|s| s.len() != rows) {
        return Err(Error::new(
            "unit-delay testbench: every copy needs the same number of rows, at least one",
        ));
    }
    if let Some(r) = streams.iter().flatten().find(|r| r.len() != ports.len()) {
        return Err(Error::new(format!(
            "unit-delay testbench: a row has {} values for {} ports",
            r.len(),
            ports.len()
        )));
    }
    let clock_port = net
        .clock
        .and_then(|c| net.inputs.iter().position(|p| p.bits == [c]));
    if let Some(p) = ports.iter().find(|&&p| Some(p) == clock_port) {
        return Err(Error::new(format!(
            "unit-delay testbench: port {} is the clock, driven by the testbench",
            net.inputs[*p].name
        )));
    }
    // How each net is driven: a port bit, a cell, or nothing (reads 0).
    let (port_bit, driven) = drivers(net, ports);
    let period = net.depth as u64 + 2;
    let half = period / 2;
    let mut v = String::new();
    let w = &mut v;
    let _ = writeln!(
        w,
        "// pelab unit-delay netlist of {} ({})",
        net.top, net.source
    );
    let _ = writeln!(w, "`timescale 1ns/1ns");
    let _ = writeln!(w, "module {TOP};");
    let _ = writeln!(w, "  integer i;");
    if net.clock.is_some() {
        let _ = writeln!(w, "  reg clk;");
    }
    let mut memories = Vec::new();
    for (c, stream) in streams.iter().enumerate() {
        let name = |n: u32| -> String {
            match n {
                0 => "1'b0".into(),
                1 => "1'b1".into(),
                n if Some(n) == net.clock => "clk".into(),
                n => net_name(c, n),
            }
        };
        for (j, &p) in ports.iter().enumerate() {
            let width = net.inputs[p].bits.len();
            let _ = writeln!(w, "  reg [{}:0] c{c}_p{j};", width - 1);
            let _ = writeln!(w, "  reg [{}:0] c{c}_m{j} [0:{}];", width - 1, rows - 1);
            let mut mem = String::new();
            for r in stream {
                let _ = writeln!(mem, "{:x}", r[j]);
            }
            memories.push((format!("c{c}_m{j}.mem"), mem));
        }
        for n in 2..net.nets as u32 {
            if Some(n) == net.clock {
                continue;
            }
            if let Some((j, b)) = port_bit.get(&n) {
                let _ = writeln!(w, "  wire {} = c{c}_p{j}[{b}];", net_name(c, n));
            } else if !driven[n as usize] && !net.fanout[n as usize].is_empty() {
                let _ = writeln!(w, "  wire {} = 1'b0;", net_name(c, n));
            }
        }
        for cell in &net.cells {
            let pins: HashMap<&str, u32> =
                cell.inputs.iter().map(|(p, n)| (p.as_str(), *n)).collect();
            let pin = |p: &str| -> Result<String> {
                pins.get(p).map(|&n| name(n)).ok_or_else(|| {
                    Error::new(format!(
                        "unit-delay Verilog: cell {} ({}) has no pin {p}",
                        cell.name, cell.kind
                    ))
                })
            };
            let out = |p: &str| -> Result<u32> {
                cell.outputs
                    .iter()
                    .find(|(q, _)| q == p)
                    .map(|(_, n)| *n)
                    .ok_or_else(|| {
                        Error::new(format!(
                            "unit-delay Verilog: cell {} ({}) has no output {p}",
                            cell.name, cell.kind
                        ))
                    })
            };
            if cell.kind == "$_DFF_P_" {
                let q = out("Q")?;
                let init = net.flops.iter().find(|f| f.q == q).is_some_and(|f| f.init);
                let _ = writeln!(w, "  reg {};", name(q));
                let _ = writeln!(w, "  initial {} = 1'b{};", name(q), u8::from(init));
                let _ = writeln!(w, "  always @(posedge clk) {} <= {};", name(q), pin("D")?);
            } else if cell.is_flop {
                return Err(Error::new(format!(
                    "unit-delay Verilog: flip-flop type {} is not written (only $_DFF_P_)",
                    cell.kind
                )));
            } else {
                let y = out("Y")?;
                if y > 1 {
                    let _ = writeln!(
                        w,
                        "  wire {};\n  assign #1 {} = {};",
                        name(y),
                        name(y),
                        expression(&cell.kind, &pin)?
                    );
                }
            }
        }
    }
    let _ = writeln!(w, "  initial begin");
    for c in 0..streams.len() {
        for j in 0..ports.len() {
            let _ = writeln!(w, "    $readmemh(\"c{c}_m{j}.mem\", c{c}_m{j});");
        }
    }
    if let Some(f) = vcd {
        let _ = writeln!(w, "    $dumpfile(\"{f}\");");
        let _ = writeln!(w, "    $dumpvars(1, {TOP});");
    }
    let clocked = net.clock.is_some();
    if clocked {
        let _ = writeln!(w, "    clk = 0;");
    }
    let _ = writeln!(w, "    for (i = 0; i < {rows}; i = i + 1) begin");
    if clocked {
        let _ = writeln!(w, "      if (i > 0) clk = 1;");
    }
    for c in 0..streams.len() {
        for j in 0..ports.len() {
            let _ = writeln!(w, "      c{c}_p{j} <= c{c}_m{j}[i];");
        }
    }
    let _ = writeln!(w, "      #{half};");
    if clocked {
        let _ = writeln!(w, "      clk = 0;");
    }
    let _ = writeln!(w, "      #{};", period - half);
    let _ = writeln!(w, "    end");
    let _ = writeln!(w, "    $finish;");
    let _ = writeln!(w, "  end");
    let _ = writeln!(w, "endmodule");
    Ok(UnitDelayTb {
        verilog: v,
        memories,
        period,
        rows,
    })
}

/// How each net of `net` is driven: the first (port index in `ports`, bit) that drives it,
/// and whether a cell output drives it (a net driven by neither reads 0).
pub(crate) fn drivers(net: &Netlist, ports: &[usize]) -> (HashMap<u32, (usize, usize)>, Vec<bool>) {
    let mut port_bit: HashMap<u32, (usize, usize)> = HashMap::new();
    for (j, &p) in ports.iter().enumerate() {
        for (b, &n) in net.inputs[p].bits.iter().enumerate() {
            if n > 1 {
                port_bit.entry(n).or_insert((j, b));
            }
        }
    }
    let mut driven = vec![false; net.nets];
    for c in &net.cells {
        for (_, n) in &c.outputs {
            driven[*n as usize] = true;
        }
    }
    (port_bit, driven)
}
