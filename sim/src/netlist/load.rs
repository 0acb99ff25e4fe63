//! Loading a Yosys JSON netlist into a [`Netlist`], step by step: ports, cells (generic gates,
//! generic flip-flops and Liberty cells), the clock, flip-flop initial values, levelization
//! and fan-out (the last two in [`super::levelize`]).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::levelize::{counted, fanout, levelize, Pending};
use super::{CellInst, Control, Flop, Instr, Netlist, Op, Port, CONST0, CONST1};
use crate::liberty::{Cell, Expr, Ff, Library};
use crate::{Error, Result};

/// Loads module `top` of a Yosys JSON netlist; see [`Netlist::from_yosys_json`].
pub(super) fn from_yosys_json(
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
        source,
        ids: HashMap::new(),
        nets: 2,
        lib,
    };
    let (mut inputs, mut outputs) = b.ports(module)?;
    let Compiled {
        cells,
        pending,
        mut flops,
        clocks,
    } = b.cells(module)?;
    let clock = clock_net(&clocks, &inputs, source)?;
    b.init_flops(module, &cells, &mut flops);
    let nets = b.nets as usize;
    let names = b.names(module, nets);
    let (program, depth) = levelize(&pending, &flops, &cells, nets, source)?;
    let counted = counted(&cells);
    let fanout = fanout(&cells, nets);
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
        names,
        delays: None,
        kernel: std::sync::OnceLock::new(),
    })
}

/// Net numbering and the context shared by the loading steps.
struct Builder<'a> {
    source: &'a str,
    /// Net of each Yosys bit id.
    ids: HashMap<u64, u32>,
    /// Nets allocated so far (0 and 1 are the constants).
    nets: u32,
    lib: Option<&'a Library>,
}

/// What the module's cells compile to, gathered cell by cell.
struct Compiled {
    cells: Vec<CellInst>,
    pending: Vec<Pending>,
    flops: Vec<Flop>,
    /// Clock net, rising edge, and instance name of every flip-flop.
    clocks: Vec<(u32, bool, String)>,
}

/// One cell instance with its pins resolved to nets.
struct Inst<'j> {
    source: &'j str,
    name: &'j str,
    kind: String,
    /// Net of every connected pin.
    pins: HashMap<String, u32>,
    ins: Vec<(String, u32)>,
    outs: Vec<(String, u32)>,
    /// Index the instance gets in [`Netlist::cells`].
    idx: usize,
}

impl Inst<'_> {
    /// The net on pin `p`, or an error when the instance leaves it unconnected.
    fn pin(&self, p: &str) -> Result<u32> {
        self.pins.get(p).copied().ok_or_else(|| {
            Error::new(format!(
                "{}: cell {} ({}) has no connection on pin {p}",
                self.source, self.name, self.kind
            ))
        })
    }

    /// The nets of the instance's input pins.
    fn input_nets(&self) -> Vec<u32> {
        self.ins.iter().map(|(_, n)| *n).collect()
    }
}

/// `y = op(a, b)` with the unused operands 0.
fn instr2(op: Op, a: u32, b: u32, y: u32) -> Instr {
    Instr {
        op,
        a,
        b,
        c: 0,
        d: 0,
        y,
    }
}

impl<'a> Builder<'a> {
    /// The net of a Yosys bit (an id or a constant); `what` names the place for errors.
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

    /// A new internal net.
    fn temp(&mut self) -> u32 {
        self.nets += 1;
        self.nets - 1
    }

    /// The module's input and output ports, in the order of the JSON.
    fn ports(&mut self, module: &Value) -> Result<(Vec<Port>, Vec<Port>)> {
        let source = self.source;
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        let Some(ports) = module.get("ports").and_then(Value::as_object) else {
            return Ok((inputs, outputs));
        };
        for (name, p) in ports {
            let dir = p.get("direction").and_then(Value::as_str).unwrap_or("");
            let bits = p
                .get("bits")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::new(format!("{source}: port {name} has no bits")))?;
            let mut nets = Vec::new();
            for bit in bits {
                nets.push(self.net(bit, &|| format!("port {name}"))?);
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
        Ok((inputs, outputs))
    }

    /// Every cell of the module, compiled to instructions and flip-flops.
    fn cells(&mut self, module: &Value) -> Result<Compiled> {
        let mut out = Compiled {
            cells: Vec::new(),
            pending: Vec::new(),
            flops: Vec::new(),
            clocks: Vec::new(),
        };
        let empty = Map::new();
        let cell_map = module
            .get("cells")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, c) in cell_map {
            let inst = self.connect(name, c, out.cells.len())?;
            let is_flop = if let Some((op, pins)) = Op::generic(&inst.kind) {
                out.pending.push(generic_gate(&inst, op, pins)?);
                false
            } else if let Some((pos, spec, family)) = generic_flop(&inst.kind) {
                let f = generic_flop_cell(&inst, &spec, family)?;
                out.clocks
                    .push((inst.pin("C")?, pos, inst.name.to_string()));
                out.flops.push(f);
                true
            } else if let Some(cell) = self.lib.and_then(|l| l.cells.get(&inst.kind)) {
                self.library_cell(&inst, cell, &mut out)?
            } else {
                let hint = if self.lib.is_some() {
                    "neither a Yosys generic gate nor a cell of the liberty library"
                } else {
                    "not a Yosys generic gate or flip-flop (synthesize with `abc -g` to the \
                     generic gate set, or pass the liberty library that defines it)"
                };
                return Err(Error::new(format!(
                    "{}: unsupported cell type {} (instance {name}): {hint}",
                    self.source, inst.kind
                )));
            };
            out.cells.push(CellInst {
                name: name.clone(),
                kind: inst.kind,
                inputs: inst.ins,
                outputs: inst.outs,
                is_flop,
            });
        }
        Ok(out)
    }

    /// Resolves the pins of cell `name` to nets and sorts them into inputs and outputs.
    fn connect<'j>(&mut self, name: &'j str, c: &Value, idx: usize) -> Result<Inst<'j>>
    where
        'a: 'j,
    {
        let source = self.source;
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
        let mut inst = Inst {
            source,
            name,
            kind,
            pins: HashMap::new(),
            ins: Vec::new(),
            outs: Vec::new(),
            idx,
        };
        for (pin, bits) in conns {
            let bits = bits
                .as_array()
                .ok_or_else(|| Error::new(format!("{source}: cell {name} pin {pin}: no bits")))?;
            if bits.len() != 1 {
                return Err(Error::new(format!(
                    "{source}: cell {name} ({}) pin {pin} is {} bits wide; pelab \
                     simulates single-bit gate-level cells (synthesize to gates first)",
                    inst.kind,
                    bits.len()
                )));
            }
            // Yosys writes no port directions for cells it has no model of, such as the
            // library cells that `abc -liberty` and `dfflibmap` map to: the library, or
            // the generic cell's pin names, tell then which pins drive.
            let kind = inst.kind.as_str();
            let output = match dirs.and_then(|d| d.get(pin)).and_then(Value::as_str) {
                Some(dir) => dir == "output",
                None if Op::generic(kind).is_some() => pin == "Y",
                None if generic_flop(kind).is_some() => pin == "Q",
                None => self
                    .lib
                    .and_then(|l| l.cells.get(kind))
                    .is_some_and(|c| c.outputs().any(|p| p.name == *pin)),
            };
            // An output never drives the constant nets: an undriven one gets a net of its
            // own, and one wired to 0 or 1 is a malformed netlist.
            let n = match bits[0].as_str() {
                Some("x" | "z") if output => self.temp(),
                Some(c @ ("0" | "1")) if output => {
                    return Err(Error::new(format!(
                        "{source}: cell {name} ({kind}) output pin {pin} is wired to the \
                         constant {c}"
                    )))
                }
                _ => self.net(&bits[0], &|| format!("cell {name} pin {pin}"))?,
            };
            inst.pins.insert(pin.clone(), n);
            if output {
                inst.outs.push((pin.clone(), n));
            } else {
                inst.ins.push((pin.clone(), n));
            }
        }
        Ok(inst)
    }

    /// Compiles an instance of Liberty cell `cell`: its flip-flop, if any, and the functions
    /// of its output pins. Returns whether it is a flip-flop.
    fn library_cell(&mut self, inst: &Inst, cell: &Cell, out: &mut Compiled) -> Result<bool> {
        let source = self.source;
        let (name, kind) = (inst.name, inst.kind.as_str());
        if cell.latch {
            return Err(Error::new(format!(
                "{source}: cell {name} is a {kind}, a latch or state-table cell; pelab \
                 simulates combinational cells and edge-triggered flip-flops only"
            )));
        }
        let mut env = inst.pins.clone();
        // Pins of the library cell that the instance leaves unconnected read 0.
        for p in &cell.pins {
            env.entry(p.name.clone()).or_insert(CONST0);
        }
        let mut instrs = Vec::new();
        let is_flop = match &cell.ff {
            Some(ff) => {
                self.library_ff(inst, ff, &mut env, &mut instrs, out)?;
                true
            }
            None => false,
        };
        for p in cell.outputs() {
            let Some(net) = inst.pins.get(&p.name).copied() else {
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
                    self.lib.map(|l| l.path.as_str()).unwrap_or("")
                ))
            })?;
            let n = self.compile_expr(f, &env, &mut instrs, kind)?;
            instrs.push(instr2(Op::Buf, n, 0, net));
        }
        // Outputs of a library flip-flop are functions of its state only.
        let reads = if is_flop {
            Vec::new()
        } else {
            inst.input_nets()
        };
        if !instrs.is_empty() {
            out.pending.push(Pending { instrs, reads });
        }
        Ok(is_flop)
    }

    /// Compiles the `ff` group of a Liberty cell instance: state nets `IQ` and `IQN` (added
    /// to `env`, the inverter into `instrs`), the next-state block and the flip-flop.
    fn library_ff(
        &mut self,
        inst: &Inst,
        ff: &Ff,
        env: &mut HashMap<String, u32>,
        instrs: &mut Vec<Instr>,
        out: &mut Compiled,
    ) -> Result<()> {
        let kind = inst.kind.as_str();
        let (clk, pos) = match &ff.clocked_on {
            Expr::Var(c) => (c.clone(), true),
            Expr::Not(x) => match x.as_ref() {
                Expr::Var(c) => (c.clone(), false),
                _ => return Err(self.clocked_on_error(kind)),
            },
            _ => return Err(self.clocked_on_error(kind)),
        };
        let q = self.temp();
        env.insert(ff.iq.clone(), q);
        let qn = self.temp();
        env.insert(ff.iqn.clone(), qn);
        instrs.push(instr2(Op::Not, q, 0, qn));
        // The next state (and asynchronous controls) form their own block: it
        // reads the data pins, which may depend on this flop's own outputs.
        let mut next = Vec::new();
        let d = self.compile_expr(&ff.next_state, env, &mut next, kind)?;
        let mut f = Flop {
            cell: inst.idx,
            q,
            d,
            enable: None,
            sync_reset: None,
            async_reset: Vec::new(),
            init: false,
        };
        for (e, value) in [(&ff.clear, false), (&ff.preset, true)] {
            if let Some(e) = e {
                let n = self.compile_expr(e, env, &mut next, kind)?;
                f.async_reset.push((Control { net: n, high: true }, value));
            }
        }
        if !next.is_empty() {
            out.pending.push(Pending {
                instrs: next,
                reads: inst.input_nets(),
            });
        }
        out.clocks
            .push((inst.pin(&clk)?, pos, inst.name.to_string()));
        out.flops.push(f);
        Ok(())
    }

    /// The error for a `clocked_on` that is not a pin or its negation.
    fn clocked_on_error(&self, kind: &str) -> Error {
        Error::new(format!(
            "{}: cell type {kind}: clocked_on must be a pin or its negation",
            self.source
        ))
    }

    /// Compiles a Liberty expression over the nets in `pins` into `prog`; returns its net.
    fn compile_expr(
        &mut self,
        e: &Expr,
        pins: &HashMap<String, u32>,
        prog: &mut Vec<Instr>,
        cell: &str,
    ) -> Result<u32> {
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
                    self.source
                ))
            })?,
            Expr::Not(x) => {
                let a = self.compile_expr(x, pins, prog, cell)?;
                let y = self.temp();
                prog.push(instr2(Op::Not, a, 0, y));
                y
            }
            Expr::And(x, z) | Expr::Or(x, z) | Expr::Xor(x, z) => {
                let a = self.compile_expr(x, pins, prog, cell)?;
                let c = self.compile_expr(z, pins, prog, cell)?;
                let op = match e {
                    Expr::And(..) => Op::And,
                    Expr::Or(..) => Op::Or,
                    _ => Op::Xor,
                };
                let y = self.temp();
                prog.push(instr2(op, a, c, y));
                y
            }
        })
    }

    /// Sets the initial value of every flip-flop from the `init` attributes of the nets.
    /// Each net's public name from the module's `netnames` (`hide_name` 0): `name` for a
    /// one-bit signal, `name[k]` for bit `k` of a wider one (offsets from `offset`).
    fn names(&self, module: &Value, nets: usize) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = vec![None; nets];
        let Some(names) = module.get("netnames").and_then(Value::as_object) else {
            return out;
        };
        for (name, n) in names {
            if n.get("hide_name").and_then(Value::as_u64) == Some(1) || name.starts_with('$') {
                continue;
            }
            let Some(bits) = n.get("bits").and_then(Value::as_array) else {
                continue;
            };
            let offset = n.get("offset").and_then(Value::as_i64).unwrap_or(0);
            for (k, bit) in bits.iter().enumerate() {
                if let Value::Number(id) = bit {
                    if let Some(&net) = id.as_u64().and_then(|i| self.ids.get(&i)) {
                        let slot = &mut out[net as usize];
                        if slot.is_none() {
                            *slot = Some(if bits.len() == 1 {
                                name.clone()
                            } else {
                                format!("{name}[{}]", offset + k as i64)
                            });
                        }
                    }
                }
            }
        }
        out
    }

    fn init_flops(&self, module: &Value, cells: &[CellInst], flops: &mut [Flop]) {
        let Some(names) = module.get("netnames").and_then(Value::as_object) else {
            return;
        };
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
                    if let Some(&net) = id.as_u64().and_then(|i| self.ids.get(&i)) {
                        let ch = s.as_bytes().get(s.len().wrapping_sub(1 + k)).copied();
                        init.insert(net, ch == Some(b'1'));
                    }
                }
            }
        }
        for f in flops {
            // Generic flops: Q is the cell's output net. Library flops: the state net is
            // internal, so the init of an output pin whose function is the state (IQ) or
            // its inverse (IQN, !IQ) is used.
            let c = &cells[f.cell];
            let from_pin = || {
                let lc = self.lib.and_then(|l| l.cells.get(&c.kind))?;
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
}

/// Parses a flip-flop type name of Yosys' generic library.
pub(super) fn generic_flop(kind: &str) -> Option<(bool, Vec<char>, &'static str)> {
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

/// Compiles a generic Yosys gate into one instruction reading `pins`.
fn generic_gate(inst: &Inst, op: Op, pins: &[&str]) -> Result<Pending> {
    let mut ops = [0u32; 4];
    for (k, p) in pins.iter().enumerate() {
        ops[k] = inst.pin(p)?;
    }
    let y = inst.pin("Y")?;
    Ok(Pending {
        instrs: vec![Instr {
            op,
            a: ops[0],
            b: ops[1],
            c: ops[2],
            d: ops[3],
            y,
        }],
        reads: pins.iter().map(|p| inst.pins[*p]).collect(),
    })
}

/// The flip-flop of a generic Yosys flip-flop cell of family `family` and polarity/reset
/// letters `spec` (its clock is taken by the caller).
fn generic_flop_cell(inst: &Inst, spec: &[char], family: &str) -> Result<Flop> {
    let ctl = |p: &str, level: char| -> Result<Control> {
        Ok(Control {
            net: inst.pin(p)?,
            high: level == 'P',
        })
    };
    let val = |c: char| c == '1';
    let mut f = Flop {
        cell: inst.idx,
        q: inst.pin("Q")?,
        d: inst.pin("D")?,
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
    Ok(f)
}

/// The one clock net of all flip-flops; it must be an input port.
fn clock_net(clocks: &[(u32, bool, String)], inputs: &[Port], source: &str) -> Result<Option<u32>> {
    let Some((net, pos, _)) = clocks.first() else {
        return Ok(None);
    };
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
    Ok(Some(*net))
}
