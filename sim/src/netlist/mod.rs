//! Gate-level netlist engine: loads a flattened Yosys JSON netlist (Yosys' generic gate set and
//! `$_DFF_*` flip-flops, or the cells of a Liberty library), levelizes it once and simulates it
//! bit-parallel, [`LANES`] vectors per evaluation, counting the output toggles of every cell.
//!
//! The simulation is cycle-based and zero-delay: every evaluation settles the combinational
//! logic once in topological order, so glitches (transient toggles caused by unequal path
//! delays) are not seen.
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

mod engine;

pub use engine::{from_planes, lane_mask, to_planes, transpose64, Sim, ToggleMode};

use crate::liberty::{Expr, Library};
use crate::{Error, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

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
}

/// Net 0 is constant 0, net 1 constant 1.
const CONST0: u32 = 0;
const CONST1: u32 = 1;

struct Builder<'a> {
    source: String,
    ids: HashMap<u64, u32>,
    nets: u32,
    driver: Vec<Option<usize>>,
    lib: Option<&'a Library>,
}

impl Builder<'_> {
    fn net(&mut self, bit: &Value, what: &dyn Fn() -> String) -> Result<u32> {
        match bit {
            Value::Number(n) => {
                let id = n.as_u64().ok_or_else(|| {
                    Error::new(format!("{}: bad bit id in {}", self.source, what()))
                })?;
                let next = self.nets;
                let e = *self.ids.entry(id).or_insert(next);
                if e == next {
                    self.nets += 1;
                }
                Ok(e)
            }
            Value::String(s) => match s.as_str() {
                "1" => Ok(CONST1),
                "0" | "x" | "z" => Ok(CONST0),
                _ => Err(Error::new(format!(
                    "{}: bad constant '{s}' in {}",
                    self.source,
                    what()
                ))),
            },
            _ => Err(Error::new(format!(
                "{}: bad bit in {}",
                self.source,
                what()
            ))),
        }
    }
    fn temp(&mut self) -> u32 {
        self.nets += 1;
        self.nets - 1
    }
}

/// Parses a flip-flop type name of Yosys' generic library.
fn generic_flop(kind: &str) -> Option<(bool, Vec<char>, &'static str)> {
    let (family, rest) = kind.strip_prefix("$_")?.split_once('_')?;
    let spec: Vec<char> = rest.strip_suffix('_')?.chars().collect();
    let ok = |n: usize| spec.len() == n && spec.iter().all(|c| "NP01".contains(*c));
    let f = match family {
        "DFF" if ok(1) => "dff",
        "DFF" if ok(3) => "adff",
        "DFFE" if ok(2) => "dffe",
        "DFFE" if ok(4) => "adffe",
        "SDFF" if ok(3) => "sdff",
        "SDFFE" if ok(4) => "sdffe",
        "SDFFCE" if ok(4) => "sdffce",
        _ => return None,
    };
    Some((spec[0] == 'P', spec, f))
}

fn compile_expr(
    b: &mut Builder,
    e: &Expr,
    pins: &HashMap<String, u32>,
    prog: &mut Vec<Instr>,
    cell: &str,
) -> Result<u32> {
    let ins = |op, a, bb, y| Instr {
        op,
        a,
        b: bb,
        c: 0,
        d: 0,
        y,
    };
    Ok(match e {
        Expr::Const(v) => {
            if *v {
                CONST1
            } else {
                CONST0
            }
        }
        Expr::Var(n) => *pins.get(n).ok_or_else(|| {
            Error::new(format!(
                "{}: cell type {cell}: its function reads '{n}', which is not one of its pins",
                b.source
            ))
        })?,
        Expr::Not(x) => {
            let a = compile_expr(b, x, pins, prog, cell)?;
            let y = b.temp();
            prog.push(ins(Op::Not, a, 0, y));
            y
        }
        Expr::And(x, z) | Expr::Or(x, z) | Expr::Xor(x, z) => {
            let a = compile_expr(b, x, pins, prog, cell)?;
            let c = compile_expr(b, z, pins, prog, cell)?;
            let op = match e {
                Expr::And(..) => Op::And,
                Expr::Or(..) => Op::Or,
                _ => Op::Xor,
            };
            let y = b.temp();
            prog.push(ins(op, a, c, y));
            y
        }
    })
}

/// A cell's combinational part before levelization: its instructions (temporaries included)
/// and the nets it reads.
struct Pending {
    instrs: Vec<Instr>,
    reads: Vec<u32>,
}

impl Netlist {
    /// Loads module `top` of a Yosys JSON netlist (`source` names it in messages). Cells must be
    /// Yosys generic gates and flip-flops, or cells of `lib`.
    pub fn from_yosys_json(
        json: &str,
        top: &str,
        source: &str,
        lib: Option<&Library>,
    ) -> Result<Netlist> {
        let v: Value = serde_json::from_str(json)
            .map_err(|e| Error::new(format!("{source}: not a Yosys JSON netlist: {e}")))?;
        let module = v
            .get("modules")
            .and_then(|m| m.get(top))
            .ok_or_else(|| Error::new(format!("{source}: no module '{top}' in the netlist")))?;
        let mut b = Builder {
            source: source.to_string(),
            ids: HashMap::new(),
            nets: 2,
            driver: Vec::new(),
            lib,
        };
        // Ports.
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        if let Some(ports) = module.get("ports").and_then(Value::as_object) {
            for (name, p) in ports {
                let dir = p.get("direction").and_then(Value::as_str).unwrap_or("");
                let bits = p
                    .get("bits")
                    .and_then(Value::as_array)
                    .ok_or_else(|| Error::new(format!("{source}: port {name} has no bits")))?;
                let mut nets = Vec::new();
                for bit in bits {
                    nets.push(b.net(bit, &|| format!("port {name}"))?);
                }
                let port = Port {
                    name: name.clone(),
                    bits: nets,
                };
                match dir {
                    "input" => inputs.push(port),
                    "output" => outputs.push(port),
                    _ => {
                        return Err(Error::new(format!(
                            "{source}: port {name} is '{dir}'; only input and output ports are \
                             supported"
                        )))
                    }
                }
            }
        }
        // Cells.
        let mut cells = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut flops = Vec::new();
        let mut clocks: Vec<(u32, bool, String)> = Vec::new();
        let empty = serde_json::Map::new();
        let cell_map = module
            .get("cells")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, c) in cell_map {
            let kind = c
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let conns = c
                .get("connections")
                .and_then(Value::as_object)
                .ok_or_else(|| Error::new(format!("{source}: cell {name} has no connections")))?;
            let dirs = c.get("port_directions").and_then(Value::as_object);
            let mut pin_nets: HashMap<String, u32> = HashMap::new();
            let mut ins = Vec::new();
            let mut outs = Vec::new();
            for (pin, bits) in conns {
                let bits = bits.as_array().ok_or_else(|| {
                    Error::new(format!("{source}: cell {name} pin {pin}: no bits"))
                })?;
                if bits.len() != 1 {
                    return Err(Error::new(format!(
                        "{source}: cell {name} ({kind}) pin {pin} is {} bits wide; pelab \
                         simulates single-bit gate-level cells (synthesize to gates first)",
                        bits.len()
                    )));
                }
                let n = b.net(&bits[0], &|| format!("cell {name} pin {pin}"))?;
                pin_nets.insert(pin.clone(), n);
                // Yosys writes no port directions for cells it has no model of, such as the
                // library cells that `abc -liberty` and `dfflibmap` map to: the library, or
                // the generic cell's pin names, tell then which pins drive.
                let output = match dirs.and_then(|d| d.get(pin)).and_then(Value::as_str) {
                    Some(dir) => dir == "output",
                    None if Op::generic(&kind).is_some() => pin == "Y",
                    None if generic_flop(&kind).is_some() => pin == "Q",
                    None => b
                        .lib
                        .and_then(|l| l.cells.get(&kind))
                        .is_some_and(|c| c.outputs().any(|p| p.name == *pin)),
                };
                if output {
                    outs.push((pin.clone(), n));
                } else {
                    ins.push((pin.clone(), n));
                }
            }
            let idx = cells.len();
            let pin = |p: &str| -> Result<u32> {
                pin_nets.get(p).copied().ok_or_else(|| {
                    Error::new(format!(
                        "{source}: cell {name} ({kind}) has no connection on pin {p}"
                    ))
                })
            };
            let mut is_flop = false;
            if let Some((op, pins)) = Op::generic(&kind) {
                let mut ops = [0u32; 4];
                for (k, p) in pins.iter().enumerate() {
                    ops[k] = pin(p)?;
                }
                let y = pin("Y")?;
                pending.push(Pending {
                    instrs: vec![Instr {
                        op,
                        a: ops[0],
                        b: ops[1],
                        c: ops[2],
                        d: ops[3],
                        y,
                    }],
                    reads: pins.iter().map(|p| pin_nets[*p]).collect(),
                });
            } else if let Some((pos, spec, family)) = generic_flop(&kind) {
                is_flop = true;
                let ctl = |p: &str, level: char| -> Result<Control> {
                    Ok(Control {
                        net: pin(p)?,
                        high: level == 'P',
                    })
                };
                let val = |c: char| c == '1';
                let mut f = Flop {
                    cell: idx,
                    q: pin("Q")?,
                    d: pin("D")?,
                    enable: None,
                    sync_reset: None,
                    async_reset: Vec::new(),
                    init: false,
                };
                match family {
                    "dff" => {}
                    "adff" => f.async_reset.push((ctl("R", spec[1])?, val(spec[2]))),
                    "dffe" => f.enable = Some(ctl("E", spec[1])?),
                    "adffe" => {
                        f.async_reset.push((ctl("R", spec[1])?, val(spec[2])));
                        f.enable = Some(ctl("E", spec[3])?);
                    }
                    "sdff" => f.sync_reset = Some((ctl("R", spec[1])?, val(spec[2]), false)),
                    "sdffe" | "sdffce" => {
                        f.sync_reset = Some((ctl("R", spec[1])?, val(spec[2]), family == "sdffce"));
                        f.enable = Some(ctl("E", spec[3])?);
                    }
                    _ => unreachable!(),
                }
                clocks.push((pin("C")?, pos, name.clone()));
                flops.push(f);
            } else if let Some(cell) = b.lib.and_then(|l| l.cells.get(&kind)) {
                if cell.latch {
                    return Err(Error::new(format!(
                        "{source}: cell {name} is a {kind}, a latch or state-table cell; pelab \
                         simulates combinational cells and edge-triggered flip-flops only"
                    )));
                }
                let mut env = pin_nets.clone();
                // Pins of the library cell that the instance leaves unconnected read 0.
                for p in &cell.pins {
                    env.entry(p.name.clone()).or_insert(CONST0);
                }
                let mut instrs = Vec::new();
                if let Some(ff) = &cell.ff {
                    is_flop = true;
                    let (clk, pos) = match &ff.clocked_on {
                        Expr::Var(c) => (c.clone(), true),
                        Expr::Not(x) => match x.as_ref() {
                            Expr::Var(c) => (c.clone(), false),
                            _ => {
                                return Err(Error::new(format!(
                                    "{source}: cell type {kind}: clocked_on must be a pin or \
                                     its negation"
                                )))
                            }
                        },
                        _ => {
                            return Err(Error::new(format!(
                                "{source}: cell type {kind}: clocked_on must be a pin or its \
                                 negation"
                            )))
                        }
                    };
                    let q = b.temp();
                    env.insert(ff.iq.clone(), q);
                    let qn = b.temp();
                    env.insert(ff.iqn.clone(), qn);
                    instrs.push(Instr {
                        op: Op::Not,
                        a: q,
                        b: 0,
                        c: 0,
                        d: 0,
                        y: qn,
                    });
                    // The next state (and asynchronous controls) form their own block: it
                    // reads the data pins, which may depend on this flop's own outputs.
                    let mut next = Vec::new();
                    let d = compile_expr(&mut b, &ff.next_state, &env, &mut next, &kind)?;
                    let mut f = Flop {
                        cell: idx,
                        q,
                        d,
                        enable: None,
                        sync_reset: None,
                        async_reset: Vec::new(),
                        init: false,
                    };
                    for (e, value) in [(&ff.clear, false), (&ff.preset, true)] {
                        if let Some(e) = e {
                            let n = compile_expr(&mut b, e, &env, &mut next, &kind)?;
                            f.async_reset.push((Control { net: n, high: true }, value));
                        }
                    }
                    if !next.is_empty() {
                        pending.push(Pending {
                            instrs: next,
                            reads: ins.iter().map(|(_, n)| *n).collect(),
                        });
                    }
                    clocks.push((pin(&clk)?, pos, name.clone()));
                    flops.push(f);
                }
                for p in cell.outputs() {
                    let Some(out) = pin_nets.get(&p.name).copied() else {
                        continue;
                    };
                    if p.three_state.is_some() {
                        return Err(Error::new(format!(
                            "{source}: cell {name} is a {kind}, a three-state cell; pelab does \
                             not simulate three-state logic"
                        )));
                    }
                    let f = p.function.as_ref().ok_or_else(|| {
                        Error::new(format!(
                            "{source}: cell type {kind}: output pin {} has no function in {}",
                            p.name,
                            b.lib.map(|l| l.path.as_str()).unwrap_or("")
                        ))
                    })?;
                    let n = compile_expr(&mut b, f, &env, &mut instrs, &kind)?;
                    instrs.push(Instr {
                        op: Op::Buf,
                        a: n,
                        b: 0,
                        c: 0,
                        d: 0,
                        y: out,
                    });
                }
                // Outputs of a library flip-flop are functions of its state only.
                let reads = if is_flop {
                    Vec::new()
                } else {
                    ins.iter().map(|(_, n)| *n).collect()
                };
                if !instrs.is_empty() {
                    pending.push(Pending { instrs, reads });
                }
            } else {
                let hint = if b.lib.is_some() {
                    "neither a Yosys generic gate nor a cell of the liberty library"
                } else {
                    "not a Yosys generic gate or flip-flop (synthesize with `abc -g` to the \
                     generic gate set, or pass the liberty library that defines it)"
                };
                return Err(Error::new(format!(
                    "{source}: unsupported cell type {kind} (instance {name}): {hint}"
                )));
            }
            cells.push(CellInst {
                name: name.clone(),
                kind,
                inputs: ins,
                outputs: outs,
                is_flop,
            });
        }
        // Clock.
        let clock = match clocks.first() {
            None => None,
            Some((net, pos, _)) => {
                if let Some((_, _, other)) = clocks.iter().find(|c| c.0 != *net || c.1 != *pos) {
                    return Err(Error::new(format!(
                        "{source}: flip-flop {other} is clocked by another net or edge than \
                         {}; pelab simulates one clock domain",
                        clocks[0].2
                    )));
                }
                if !inputs.iter().any(|p| p.bits == [*net]) {
                    return Err(Error::new(format!(
                        "{source}: the flip-flops' clock is not an input port; pelab needs the \
                         clock to come from a port"
                    )));
                }
                Some(*net)
            }
        };
        // Initial values of flip-flops from the `init` attributes of nets.
        if let Some(names) = module.get("netnames").and_then(Value::as_object) {
            let mut init: HashMap<u32, bool> = HashMap::new();
            for (_, n) in names {
                let Some(s) = n
                    .get("attributes")
                    .and_then(|a| a.get("init"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                let Some(bits) = n.get("bits").and_then(Value::as_array) else {
                    continue;
                };
                // The init string is most significant bit first.
                for (k, bit) in bits.iter().enumerate() {
                    if let Value::Number(id) = bit {
                        if let Some(&net) = id.as_u64().and_then(|i| b.ids.get(&i)) {
                            let ch = s.as_bytes().get(s.len().wrapping_sub(1 + k)).copied();
                            init.insert(net, ch == Some(b'1'));
                        }
                    }
                }
            }
            for f in &mut flops {
                // Generic flops: Q is the cell's output net. Library flops: the state net is
                // internal, so the init of an output pin whose function is the state (IQ) or
                // its inverse (IQN, !IQ) is used.
                let c = &cells[f.cell];
                let from_pin = || {
                    let lc = b.lib.and_then(|l| l.cells.get(&c.kind))?;
                    let ff = lc.ff.as_ref()?;
                    c.outputs.iter().find_map(|(p, n)| {
                        let v = *init.get(n)?;
                        match lc.pin(p)?.function.as_ref()? {
                            Expr::Var(x) if *x == ff.iq => Some(v),
                            Expr::Var(x) if *x == ff.iqn => Some(!v),
                            Expr::Not(e) if **e == Expr::Var(ff.iq.clone()) => Some(!v),
                            _ => None,
                        }
                    })
                };
                f.init = init.get(&f.q).copied().or_else(from_pin).unwrap_or(false);
            }
        }
        let nets = b.nets as usize;
        b.driver = vec![None; nets];
        // Levelize: Kahn's algorithm over pending blocks. Sources: constants, input ports,
        // flop state nets.
        let mut producer: Vec<Option<usize>> = vec![None; nets];
        for (k, p) in pending.iter().enumerate() {
            for i in &p.instrs {
                if let Some(prev) = producer[i.y as usize] {
                    if prev != k {
                        return Err(Error::new(format!(
                            "{source}: net {} is driven by two cells",
                            i.y
                        )));
                    }
                }
                producer[i.y as usize] = Some(k);
            }
        }
        for f in &flops {
            if producer[f.q as usize].is_some() {
                return Err(Error::new(format!(
                    "{source}: flip-flop {} output is also driven by a gate",
                    cells[f.cell].name
                )));
            }
        }
        let loop_error = |k: usize| {
            let cell = cells
                .iter()
                .find(|c| {
                    c.outputs
                        .iter()
                        .any(|(_, n)| pending[k].instrs.iter().any(|i| i.y == *n))
                })
                .map(|c| format!("{} ({})", c.name, c.kind))
                .unwrap_or_else(|| format!("net {}", pending[k].instrs[0].y));
            Error::new(format!(
                "{source}: combinational loop through cell {cell}; pelab simulates \
                 loop-free logic between flip-flops"
            ))
        };
        let mut indeg = vec![0usize; pending.len()];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); nets];
        for (k, p) in pending.iter().enumerate() {
            // A cell whose input pin reads its own output is a loop of one cell.
            if p.reads.iter().any(|&r| producer[r as usize] == Some(k)) {
                return Err(loop_error(k));
            }
            let mut reads: Vec<u32> = p.reads.clone();
            // Library cells also read internal state through their instructions.
            for i in &p.instrs {
                let n_ops = match i.op {
                    Op::Buf | Op::Not => 1,
                    Op::Mux | Op::NMux | Op::Aoi3 | Op::Oai3 => 3,
                    Op::Aoi4 | Op::Oai4 => 4,
                    _ => 2,
                };
                reads.extend([i.a, i.b, i.c, i.d].into_iter().take(n_ops));
            }
            reads.sort_unstable();
            reads.dedup();
            for r in reads {
                if let Some(src) = producer[r as usize] {
                    if src != k {
                        indeg[k] += 1;
                        users[r as usize].push(k);
                    }
                }
            }
        }
        let mut ready: Vec<usize> = (0..pending.len()).filter(|&k| indeg[k] == 0).collect();
        let mut program = Vec::new();
        let mut level = vec![0usize; nets];
        let mut done = 0;
        while let Some(k) = ready.pop() {
            done += 1;
            for i in &pending[k].instrs {
                let l = [i.a, i.b, i.c, i.d]
                    .iter()
                    .map(|&n| level[n as usize])
                    .max()
                    .unwrap_or(0);
                level[i.y as usize] = l + 1;
                program.push(*i);
            }
            let outs: Vec<u32> = pending[k].instrs.iter().map(|i| i.y).collect();
            for y in outs {
                for &u in &users[y as usize] {
                    indeg[u] -= 1;
                    if indeg[u] == 0 {
                        ready.push(u);
                    }
                }
            }
        }
        if done != pending.len() {
            let stuck = (0..pending.len()).find(|&k| indeg[k] > 0).unwrap_or(0);
            return Err(loop_error(stuck));
        }
        let depth = level.iter().copied().max().unwrap_or(0);
        // Toggle-counted nets: every output of every cell (the state net of library flops is
        // internal; their output pins are counted).
        let mut counted = Vec::new();
        let mut fanout: Vec<Vec<(usize, String)>> = vec![Vec::new(); nets];
        for (k, c) in cells.iter().enumerate() {
            for (_, n) in &c.outputs {
                if *n > CONST1 {
                    counted.push((*n, k));
                }
            }
            for (p, n) in &c.inputs {
                fanout[*n as usize].push((k, p.clone()));
            }
        }
        let port_loads = outputs
            .iter()
            .flat_map(|p| p.bits.iter().copied())
            .collect();
        inputs.sort_by(|a: &Port, b: &Port| a.name.cmp(&b.name));
        outputs.sort_by(|a: &Port, b: &Port| a.name.cmp(&b.name));
        Ok(Netlist {
            top: top.to_string(),
            source: source.to_string(),
            nets,
            inputs,
            outputs,
            cells,
            program,
            flops,
            clock,
            counted,
            fanout,
            port_loads,
            depth,
        })
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
    use super::*;

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
