//! A Liberty-mapped gate netlist with its cell delays, for an event-driven simulator (Icarus):
//! the same delays as pelab's [`Delay::Liberty`](pelab_sim::netlist::Delay::Liberty) engine,
//! written two ways.
//!
//! - [`Style::Inertial`]: every cell output becomes `assign #D y = x` with its delay in ps
//!   (inertial, as pelab's engine), `x` the cell's function from the library evaluated once per
//!   time step after the inputs' changes of that step (`always @(...) #0`), as pelab's engine
//!   evaluates a cell once per time: without it, Icarus evaluates a multi-operator expression
//!   operator by operator and may pass a transient (a hazard of zero width) into the delay.
//! - [`Style::Sdf`]: every cell is an instance of a behavioural model of its library cell
//!   (the output functions as continuous assignments and a `specify` block with a path from
//!   every input to every output, written here from the library: no UDP, no PDK model), and
//!   the delays come from an SDF file ([`sdf`], one `IOPATH` per input and output with the
//!   output's delay for both edges) read with `$sdf_annotate`. Icarus applies a module path
//!   delay as a transport delay that, when it expires, passes the path's latest value (see
//!   docs/energy.md, "Delays and glitches"): pulses shorter than the delay are not always
//!   swallowed as under an inertial delay, so toggle counts agree within a tolerance, not
//!   exactly.
//!
//! A testbench drives the input ports with one row per period, read with `$readmemh`, and
//! dumps every net of the top module. Combinational netlists only.

use crate::unit_delay::drivers;
use pelab_sim::liberty::{Expr, Library};
use pelab_sim::netlist::Netlist;
use pelab_sim::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The top module of the testbench.
pub const TOP: &str = "pelab_timed_tb";
/// The instance path of the netlist in [`Style::Sdf`] testbenches (the SDF's scope).
pub const DUT_SCOPE: &str = "pelab_timed_tb";

/// How the delays reach the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `assign #D` per cell output.
    Inertial,
    /// Cell models with `specify` paths, delays from an SDF file.
    Sdf,
}

/// A timed testbench and the files it reads.
#[derive(Debug, Clone)]
pub struct TimedTb {
    /// The Verilog (models, netlist and driver, top module [`TOP`]).
    pub verilog: String,
    /// Files to write beside it: (file name, contents): the memories, and the SDF file
    /// (`delays.sdf`) under [`Style::Sdf`].
    pub files: Vec<(String, String)>,
    /// ps per row.
    pub period: u64,
    /// Rows applied.
    pub rows: usize,
}

/// The Verilog name of net `n` in the testbench.
pub fn net_name(n: u32) -> String {
    format!("n{n}")
}

/// The Verilog expression of a Liberty function, pins named by `pin`.
pub fn verilog_expr(e: &Expr, pin: &dyn Fn(&str) -> String) -> String {
    match e {
        Expr::Const(b) => format!("1'b{}", u8::from(*b)),
        Expr::Var(v) => pin(v),
        Expr::Not(a) => format!("~({})", verilog_expr(a, pin)),
        Expr::And(a, b) => format!("({}) & ({})", verilog_expr(a, pin), verilog_expr(b, pin)),
        Expr::Or(a, b) => format!("({}) | ({})", verilog_expr(a, pin), verilog_expr(b, pin)),
        Expr::Xor(a, b) => format!("({}) ^ ({})", verilog_expr(a, pin), verilog_expr(b, pin)),
    }
}

/// `always @(inputs) #0 x = e;`: `x` takes `e` once per time step, after every input change of
/// that step (no hazard of the expression's own evaluation order, as in pelab's engine, which
/// evaluates a cell once per time with its inputs' final values).
fn settled(ins: &[&str], x: &str, e: &str) -> String {
    if ins.is_empty() {
        format!("initial #0 {x} = {e};")
    } else {
        format!("always @({}) #0 {x} = {e};", ins.join(" or "))
    }
}

/// Behavioural models of library cells `kinds` (combinational): one module per cell, its
/// outputs as continuous assignments of the library functions, a `specify` path from every
/// input to every output (delays 0 until annotated).
pub fn cell_models(lib: &Library, kinds: &[&str]) -> Result<String> {
    let mut v = String::new();
    for kind in kinds {
        let cell = lib.cell(kind)?;
        if cell.ff.is_some() || cell.latch {
            return Err(Error::new(format!(
                "cell models: {kind} is sequential; only combinational cells are written"
            )));
        }
        let ins: Vec<&str> = cell.inputs().map(|p| p.name.as_str()).collect();
        let outs: Vec<&str> = cell.outputs().map(|p| p.name.as_str()).collect();
        let ports: Vec<String> = ins
            .iter()
            .map(|p| format!("input {p}"))
            .chain(outs.iter().map(|p| format!("output {p}")))
            .collect();
        let _ = writeln!(v, "module {kind} ({});", ports.join(", "));
        for p in cell.outputs() {
            let f = p.function.as_ref().ok_or_else(|| {
                Error::new(format!(
                    "cell models: {kind} output {} has no function",
                    p.name
                ))
            })?;
            let e = verilog_expr(f, &|x| x.into());
            let _ = writeln!(v, "  reg {}_f;", p.name);
            let _ = writeln!(v, "  {}", settled(&ins, &format!("{}_f", p.name), &e));
            let _ = writeln!(v, "  assign {} = {}_f;", p.name, p.name);
        }
        let _ = writeln!(v, "  specify");
        for o in &outs {
            for i in &ins {
                let _ = writeln!(v, "    ({i} => {o}) = (0, 0);");
            }
        }
        let _ = writeln!(v, "  endspecify\nendmodule");
    }
    Ok(v)
}

/// The SDF of `net` (instances `u<cell index>` in scope [`DUT_SCOPE`]): for every
/// combinational cell, an `IOPATH` from each input pin to each connected output, with the
/// output's delay `delay_ps[k]` (one per entry of [`Netlist::counted`]) for both edges.
pub fn sdf(net: &Netlist, delay_ps: &[u64]) -> Result<String> {
    if delay_ps.len() != net.counted.len() {
        return Err(Error::new("SDF: one delay per cell output is needed"));
    }
    let mut by_net: HashMap<u32, u64> = HashMap::new();
    for (&(n, _), &d) in net.counted.iter().zip(delay_ps) {
        by_net.insert(n, d);
    }
    let mut s = String::new();
    let _ = writeln!(s, "(DELAYFILE");
    let _ = writeln!(s, "  (SDFVERSION \"3.0\")");
    let _ = writeln!(s, "  (DESIGN \"{}\")", net.top);
    let _ = writeln!(s, "  (PROGRAM \"pelab\")");
    let _ = writeln!(s, "  (VERSION \"{}\")", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "  (DIVIDER /)");
    let _ = writeln!(s, "  (TIMESCALE 1ps)");
    for (ci, c) in net.cells.iter().enumerate() {
        if c.is_flop {
            return Err(Error::new(format!(
                "SDF: cell {} is a flip-flop; combinational netlists only",
                c.name
            )));
        }
        let _ = writeln!(
            s,
            "  (CELL (CELLTYPE \"{}\") (INSTANCE u{ci})\n    (DELAY (ABSOLUTE",
            c.kind
        );
        for (o, y) in &c.outputs {
            let Some(d) = by_net.get(y) else { continue };
            for (i, _) in &c.inputs {
                let _ = writeln!(s, "      (IOPATH {i} {o} ({d}) ({d}))");
            }
        }
        let _ = writeln!(s, "    ))\n  )");
    }
    let _ = writeln!(s, ")");
    Ok(s)
}

/// The timed testbench of combinational `net` (mapped onto `lib`): `rows[r][j]` is the value
/// of input port `ports[j]` in row `r`; `delay_ps` one delay per entry of
/// [`Netlist::counted`]; `period` ps per row (longer than the longest path); every net
/// dumped to `vcd`.
#[allow(clippy::too_many_arguments)]
pub fn timed_tb(
    net: &Netlist,
    lib: &Library,
    ports: &[usize],
    rows: &[Vec<u64>],
    delay_ps: &[u64],
    period: u64,
    style: Style,
    vcd: &str,
) -> Result<TimedTb> {
    if rows.is_empty() || rows.iter().any(|r| r.len() != ports.len()) {
        return Err(Error::new(
            "timed testbench: every row needs one value per port, at least one row",
        ));
    }
    if delay_ps.len() != net.counted.len() {
        return Err(Error::new(
            "timed testbench: one delay per cell output is needed",
        ));
    }
    let delay: HashMap<u32, u64> = net
        .counted
        .iter()
        .zip(delay_ps)
        .map(|(&(n, _), &d)| (n, d))
        .collect();
    let (port_bit, driven) = drivers(net, ports);
    let name = |n: u32| -> String {
        match n {
            0 => "1'b0".into(),
            1 => "1'b1".into(),
            n => net_name(n),
        }
    };
    let mut v = String::new();
    let w = &mut v;
    let _ = writeln!(w, "// pelab timed netlist of {} ({})", net.top, net.source);
    let _ = writeln!(w, "`timescale 1ps/1ps");
    if style == Style::Sdf {
        let mut kinds: Vec<&str> = net.cells.iter().map(|c| c.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        w.push_str(&cell_models(lib, &kinds)?);
    }
    let _ = writeln!(w, "module {TOP};");
    let _ = writeln!(w, "  integer i;");
    let mut files = Vec::new();
    for (j, &p) in ports.iter().enumerate() {
        let width = net.inputs[p].bits.len();
        let _ = writeln!(w, "  reg [{}:0] p{j};", width - 1);
        let _ = writeln!(w, "  reg [{}:0] m{j} [0:{}];", width - 1, rows.len() - 1);
        let mut mem = String::new();
        for r in rows {
            let _ = writeln!(mem, "{:x}", r[j]);
        }
        files.push((format!("m{j}.mem"), mem));
    }
    for n in 2..net.nets as u32 {
        if let Some((j, b)) = port_bit.get(&n) {
            let _ = writeln!(w, "  wire {} = p{j}[{b}];", net_name(n));
        } else if driven[n as usize] {
            let _ = writeln!(w, "  wire {};", net_name(n));
        } else if !net.fanout[n as usize].is_empty() {
            let _ = writeln!(w, "  wire {} = 1'b0;", net_name(n));
        }
    }
    for (ci, c) in net.cells.iter().enumerate() {
        if c.is_flop {
            return Err(Error::new(format!(
                "timed testbench: cell {} ({}) is a flip-flop; combinational netlists only",
                c.name, c.kind
            )));
        }
        let pins: BTreeMap<&str, u32> = c.inputs.iter().map(|(p, n)| (p.as_str(), *n)).collect();
        match style {
            Style::Inertial => {
                let cell = lib.cell(&c.kind)?;
                for (o, y) in &c.outputs {
                    if *y <= 1 {
                        continue;
                    }
                    let f = cell
                        .pin(o)
                        .and_then(|p| p.function.as_ref())
                        .ok_or_else(|| {
                            Error::new(format!("{} output {o} has no function", c.kind))
                        })?;
                    let e = verilog_expr(f, &|x| pins.get(x).map_or("1'b0".into(), |&n| name(n)));
                    let d = delay.get(y).copied().unwrap_or(0);
                    let ins: Vec<String> = pins
                        .values()
                        .filter(|&&n| n > 1)
                        .map(|&n| name(n))
                        .collect();
                    let ins: Vec<&str> = ins.iter().map(|s| s.as_str()).collect();
                    let x = format!("{}_f", name(*y));
                    let _ = writeln!(w, "  reg {x};\n  {}", settled(&ins, &x, &e));
                    let _ = writeln!(w, "  assign #{d} {} = {x};", name(*y));
                }
            }
            Style::Sdf => {
                let cell = lib.cell(&c.kind)?;
                let mut conns: Vec<String> = Vec::new();
                for p in cell.inputs() {
                    let n = pins.get(p.name.as_str()).copied().unwrap_or(0);
                    conns.push(format!(".{}({})", p.name, name(n)));
                }
                for (o, y) in &c.outputs {
                    if *y > 1 {
                        conns.push(format!(".{o}({})", name(*y)));
                    }
                }
                let _ = writeln!(w, "  {} u{ci} ({});", c.kind, conns.join(", "));
            }
        }
    }
    let _ = writeln!(w, "  initial begin");
    if style == Style::Sdf {
        let _ = writeln!(w, "    $sdf_annotate(\"delays.sdf\", {TOP});");
        files.push(("delays.sdf".into(), sdf(net, delay_ps)?));
    }
    for j in 0..ports.len() {
        let _ = writeln!(w, "    $readmemh(\"m{j}.mem\", m{j});");
    }
    let _ = writeln!(w, "    $dumpfile(\"{vcd}\");");
    let _ = writeln!(w, "    $dumpvars(1, {TOP});");
    let _ = writeln!(w, "    for (i = 0; i < {}; i = i + 1) begin", rows.len());
    for j in 0..ports.len() {
        let _ = writeln!(w, "      p{j} <= m{j}[i];");
    }
    let _ = writeln!(w, "      #{period};");
    let _ = writeln!(w, "    end");
    let _ = writeln!(w, "    $finish;");
    let _ = writeln!(w, "  end");
    let _ = writeln!(w, "endmodule");
    Ok(TimedTb {
        verilog: v,
        files,
        period,
        rows: rows.len(),
    })
}
