//! A small evaluator of Yosys generic-gate JSON netlists (combinational, 64 vectors per word),
//! used to check the emitted Verilog through Yosys's reading of it rather than rust-hdl's
//! simulation of the Rust description.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;

/// A net: a constant or a numbered wire.
#[derive(Clone, Copy, Debug)]
enum Net {
    Const(bool),
    Wire(usize),
}

fn net(v: &Value) -> Net {
    match v {
        Value::Number(n) => Net::Wire(n.as_u64().unwrap() as usize),
        Value::String(s) if s == "1" => Net::Const(true),
        Value::String(_) => Net::Const(false), // "0", "x", "z": 0
        other => panic!("bad net {other}"),
    }
}

struct Gate {
    kind: String,
    ins: Vec<Net>,
    out: usize,
}

/// A levelized combinational netlist.
pub struct Netlist {
    inputs: Vec<(String, Vec<Net>)>,
    outputs: Vec<(String, Vec<Net>)>,
    gates: Vec<Gate>,
    nets: usize,
}

const PINS: [&str; 4] = ["A", "B", "C", "D"];

impl Netlist {
    /// Parses the top module of a Yosys JSON netlist mapped to generic gates.
    pub fn parse(json: &str, top: &str) -> Netlist {
        let v: Value = serde_json::from_str(json).unwrap();
        let m = &v["modules"][top];
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        let mut nets = 0;
        for (name, p) in m["ports"].as_object().unwrap() {
            let bits: Vec<Net> = p["bits"].as_array().unwrap().iter().map(net).collect();
            for b in &bits {
                if let Net::Wire(i) = b {
                    nets = nets.max(i + 1);
                }
            }
            match p["direction"].as_str().unwrap() {
                "input" => inputs.push((name.clone(), bits)),
                _ => outputs.push((name.clone(), bits)),
            }
        }
        let mut gates = Vec::new();
        for (_, c) in m["cells"].as_object().unwrap() {
            let kind = c["type"].as_str().unwrap().to_string();
            let conn = &c["connections"];
            let ins: Vec<Net> = if kind == "$_MUX_" {
                ["A", "B", "S"].iter().map(|p| net(&conn[*p][0])).collect()
            } else {
                PINS.iter()
                    .filter(|p| !conn[**p].is_null())
                    .map(|p| net(&conn[*p][0]))
                    .collect()
            };
            let Net::Wire(out) = net(&conn["Y"][0]) else {
                panic!("constant output")
            };
            for n in ins.iter().chain([&Net::Wire(out)]) {
                if let Net::Wire(i) = n {
                    nets = nets.max(i + 1);
                }
            }
            gates.push(Gate { kind, ins, out });
        }
        // Levelize: a gate goes after the gates that drive its inputs.
        let mut driver = vec![usize::MAX; nets];
        for (i, g) in gates.iter().enumerate() {
            driver[g.out] = i;
        }
        let mut order = Vec::with_capacity(gates.len());
        let mut state = vec![0u8; gates.len()]; // 0 new, 1 on stack, 2 done
        for start in 0..gates.len() {
            let mut stack = vec![(start, false)];
            while let Some((g, expanded)) = stack.pop() {
                if expanded {
                    state[g] = 2;
                    order.push(g);
                    continue;
                }
                if state[g] != 0 {
                    continue;
                }
                state[g] = 1;
                stack.push((g, true));
                for n in &gates[g].ins {
                    if let Net::Wire(w) = n {
                        let d = driver[*w];
                        if d != usize::MAX {
                            assert_ne!(state[d], 1, "combinational loop");
                            if state[d] == 0 {
                                stack.push((d, false));
                            }
                        }
                    }
                }
            }
        }
        let mut taken: Vec<Option<Gate>> = gates.into_iter().map(Some).collect();
        let gates = order
            .into_iter()
            .map(|i| taken[i].take().unwrap())
            .collect();
        Netlist {
            inputs,
            outputs,
            gates,
            nets,
        }
    }

    /// Evaluates up to 64 vectors: `inputs` gives each input port's values (one per vector);
    /// returns each output port's values.
    pub fn eval(&self, inputs: &[(&str, &[u64])]) -> HashMap<String, Vec<u64>> {
        let lanes = inputs[0].1.len();
        assert!(lanes <= 64);
        let mut w = vec![0u64; self.nets];
        for (name, bits) in &self.inputs {
            let vals = inputs
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no value for {name}"))
                .1;
            for (bit, n) in bits.iter().enumerate() {
                if let Net::Wire(i) = n {
                    let mut word = 0u64;
                    for (lane, v) in vals.iter().enumerate() {
                        word |= ((v >> bit) & 1) << lane;
                    }
                    w[*i] = word;
                }
            }
        }
        let get = |w: &Vec<u64>, n: &Net| match n {
            Net::Const(true) => u64::MAX,
            Net::Const(false) => 0,
            Net::Wire(i) => w[*i],
        };
        for g in &self.gates {
            let x: Vec<u64> = g.ins.iter().map(|n| get(&w, n)).collect();
            w[g.out] = match g.kind.as_str() {
                "$_NOT_" => !x[0],
                "$_BUF_" => x[0],
                "$_AND_" => x[0] & x[1],
                "$_NAND_" => !(x[0] & x[1]),
                "$_OR_" => x[0] | x[1],
                "$_NOR_" => !(x[0] | x[1]),
                "$_XOR_" => x[0] ^ x[1],
                "$_XNOR_" => !(x[0] ^ x[1]),
                "$_ANDNOT_" => x[0] & !x[1],
                "$_ORNOT_" => x[0] | !x[1],
                "$_MUX_" => (x[0] & !x[2]) | (x[1] & x[2]),
                "$_AOI3_" => !((x[0] & x[1]) | x[2]),
                "$_OAI3_" => !((x[0] | x[1]) & x[2]),
                "$_AOI4_" => !((x[0] & x[1]) | (x[2] & x[3])),
                "$_OAI4_" => !((x[0] | x[1]) & (x[2] | x[3])),
                other => panic!("cell type {other} is not a combinational generic gate"),
            };
        }
        let mut out = HashMap::new();
        for (name, bits) in &self.outputs {
            let mut vals = vec![0u64; lanes];
            for (bit, n) in bits.iter().enumerate() {
                let word = get(&w, n);
                for (lane, v) in vals.iter_mut().enumerate() {
                    *v |= ((word >> lane) & 1) << bit;
                }
            }
            out.insert(name.clone(), vals);
        }
        out
    }
}
