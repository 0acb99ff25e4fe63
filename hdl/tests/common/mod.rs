//! Combinational Yosys generic-gate netlists evaluated on pelab's gate-level engine
//! ([`pelab_sim::netlist`]), so that the emitted Verilog is checked through Yosys's reading of
//! it rather than rust-hdl's simulation of the Rust description, and the engine itself is
//! checked against the reference models on every case of these tests.

#![allow(dead_code)]

pub use pelab_sim::netlist::LANES;

use pelab_sim::netlist::{self, Sim, ToggleMode};
use std::collections::HashMap;

/// A levelized combinational netlist.
pub struct Netlist {
    net: netlist::Netlist,
}

impl Netlist {
    /// Loads the top module of a Yosys JSON netlist mapped to generic gates; panics on any
    /// error of the engine, and on flip-flops (these tests evaluate combinational logic).
    pub fn parse(json: &str, top: &str) -> Netlist {
        let net = netlist::Netlist::from_yosys_json(json, top, &format!("netlist of {top}"), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            net.flops.is_empty(),
            "{top}: {} flip-flops in a netlist evaluated as combinational logic",
            net.flops.len()
        );
        Netlist { net }
    }

    /// Evaluates up to [`LANES`] vectors: `inputs` gives each input port's values (one per
    /// vector, the same count for every port, every port of the module given); returns each
    /// output port's values.
    pub fn eval(&self, inputs: &[(&str, &[u64])]) -> HashMap<String, Vec<u64>> {
        let lanes = inputs[0].1.len();
        assert!(lanes <= LANES, "{lanes} vectors; at most {LANES} per call");
        let mut sim = Sim::new(&self.net, ToggleMode::Off);
        for (name, vals) in inputs {
            assert_eq!(vals.len(), lanes, "input {name}: {} values", vals.len());
            let p = self.net.input(name).unwrap_or_else(|e| panic!("{e}"));
            sim.set_values(p, vals);
        }
        for p in &self.net.inputs {
            assert!(
                inputs.iter().any(|(n, _)| *n == p.name),
                "no value for {}",
                p.name
            );
        }
        sim.eval();
        let mut out = HashMap::new();
        for (k, p) in self.net.outputs.iter().enumerate() {
            assert!(
                p.bits.len() <= 64,
                "output {} is wider than 64 bits",
                p.name
            );
            let mut vals = vec![0u64; lanes];
            sim.values(k, &mut vals);
            out.insert(p.name.clone(), vals);
        }
        out
    }
}
