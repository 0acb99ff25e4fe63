//! The BitMoD PE's [`PeRtl`] entry: its configuration, module description, Verilog and
//! simulation in rust-hdl.

use super::params::{ACC_BITS, GUARD_BITS, LATENCY, SCALE_BITS};
use super::pe::BitModPe;
use crate::emit::{emit_block, ModuleSpec, Port, PortDir, RtlModule};
use crate::rtl::{validate, PeRtl, RtlConfig};
use crate::sim::{check_rows, tick};
use crate::Result;
use rust_hdl::prelude::*;

/// The BitMoD PE in the RTL registry.
pub struct BitModRtl;

/// The one policy: the module serves both weight widths of the reference model's policies
/// `bitmod4` and `bitmod3` (type-select bit 2 picks the width per group).
pub const POLICY: &str = "bitmod34";

impl BitModRtl {
    fn spec(&self, cfg: &RtlConfig) -> ModuleSpec {
        let sem = vec![
            format!(
                "BitMoD bit-serial PE, the reference model pelab_sim::bitmod with PeConfig \
                 {{ guard_bits: {GUARD_BITS}, acc_bits: {ACC_BITS}, scale_bits: {SCALE_BITS} }} \
                 bit for bit (docs/bitmod.md): 4 lanes of FP16 activations times 3- or 4-bit \
                 weight codes; one module serves both the bitmod4 and the bitmod3 policy."
            ),
            "in_type = {4-bit mode, variant[1:0]}: 0 fp3-er+, 1 fp3-er-, 2 fp3-ea+, 3 fp3-ea-, \
             4 fp4-er+, 5 fp4-er-, 6 fp4-ea+, 7 fp4-ea- (plain fp3 / fp4 groups run under any \
             select of their width). Codes are sign-magnitude; the spare code (sign 1, \
             magnitude 0) holds the variant's extra value (+-3, +-6, +-10, +-16). 3-bit codes \
             use bits [2:0]."
                .into(),
            "Each weight is two signed power-of-two terms (term code {present, sign, exp[1:0]}, \
             decoded inside the PE); term 0 (significance 0) is processed in the first cycle \
             of a beat, term 1 (significance 1) in the second."
                .into(),
            "Per cycle: lane exponent le = e + exp (e = FP16 exponent field, or 1 for zero and \
             subnormals; 0 for an absent term); E = max le; each present lane's significand \
             {m[10:0], 3 guard zeros} is shifted right by E - le (bits shifted out dropped) and \
             negated when the activation and term signs differ; P = sum of the 4 lanes \
             (17-bit two's complement) at exponent Ep = E + significance."
                .into(),
            "Group accumulator (Am 16-bit two's complement, Ae 6-bit): X = max(Ae, Ep); the \
             operand with the smaller exponent is shifted right arithmetically to X, rounded \
             half up (the last bit shifted out is the carry-in); S = sum; if S does not fit 16 \
             signed bits it is shifted right by the least k in 1..2 that makes it fit (toward \
             -inf) and Ae = X + k."
                .into(),
            "Dequantizer: after a group, D = Am * in_scale computed one scale bit per cycle, \
             MSB first, D <- 2D + (bit ? Am : 0), exact in 24 bits. The result is \
             out_man * 2^(out_exp - 28) code units (times the integer scale); out_special marks \
             a group with an activation of exponent field 31 (Inf/NaN, result meaningless)."
                .into(),
            "Transaction: a beat (in_act*, in_code*, in_last) is held for two in_valid cycles \
             (term 0, then term 1); a 1-bit phase register toggles on every in_valid cycle. \
             in_valid = 0 leaves phase, accumulator and special flag unchanged. At the edge \
             ending the phase-1 cycle of a beat with in_last = 1 (the hand-off) the group goes \
             to the dequantizer with in_scale and the accumulator restarts at (0, 0): the next \
             cycle may carry the next group. Hand-offs must be at least 8 cycles apart (groups \
             of 16 or more weights meet it back to back). A partial last beat is padded with \
             code 0 and activation +0 by the producer."
                .into(),
            "reset (synchronous, active high): phase 0, accumulator (0, 0), special flag 0, \
             dequantizer idle, out_valid 0, out_exp / out_man / out_special 0."
                .into(),
        ];
        let ports = vec![
            Port::input("clock", 1, "clock, rising edge"),
            Port::input("reset", 1, "synchronous reset, active high"),
            Port::input("in_valid", 1, "this cycle processes a term of the beat"),
            Port::input("in_last", 1, "the beat is the last of its group"),
            Port::input("in_type", 3, "type select {4-bit mode, variant[1:0]}"),
            Port::input(
                "in_scale",
                8,
                "integer group scale, sampled at the hand-off",
            ),
            Port::input("in_act0", 16, "FP16 activation, lane 0"),
            Port::input("in_act1", 16, "FP16 activation, lane 1"),
            Port::input("in_act2", 16, "FP16 activation, lane 2"),
            Port::input("in_act3", 16, "FP16 activation, lane 3"),
            Port::input("in_code0", 4, "weight code, lane 0"),
            Port::input("in_code1", 4, "weight code, lane 1"),
            Port::input("in_code2", 4, "weight code, lane 2"),
            Port::input("in_code3", 4, "weight code, lane 3"),
            Port::output(
                "out_valid",
                1,
                "one-cycle pulse: a group result is on the outputs",
            ),
            Port::output("out_exp", 6, "result exponent Ae"),
            Port::output("out_man", 24, "result mantissa D, two's complement"),
            Port::output("out_special", 1, "the group had an Inf/NaN activation"),
        ];
        ModuleSpec {
            name: self.module_name(cfg),
            pe: "bitmod".into(),
            config: cfg.pairs(),
            semantics: sem,
            latency: LATENCY,
            timing: format!(
                "Counting a group's first compute cycle as cycle 0, a group of C compute cycles \
                 (2 per beat of 4 weights; 64 for 128 weights) without idle cycles has its \
                 result valid (out_valid = 1) in cycle C + {SCALE_BITS}: {LATENCY} cycles after \
                 its last compute cycle. The dequantizer overlaps the next group, so n \
                 back-to-back groups of 128 weights take 64n + {SCALE_BITS} cycles. out_man \
                 keeps the result until the next group's first dequantizer step."
            ),
            ports,
        }
    }
}

impl PeRtl for BitModRtl {
    fn id(&self) -> &'static str {
        "bitmod"
    }
    fn summary(&self) -> &'static str {
        "BitMoD bit-serial PE: 4 FP16 lanes x 3/4-bit mixture-of-datatype weights (two \
         power-of-two terms per weight), block-floating-point group accumulator, bit-serial \
         8-bit dequantizer"
    }
    fn configs(&self) -> Vec<RtlConfig> {
        vec![RtlConfig::new("fp16", POLICY, 0)]
    }
    fn module_name(&self, cfg: &RtlConfig) -> String {
        format!("pelab_bitmod_{}_{}", cfg.format, cfg.policy)
    }
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule> {
        validate(self, cfg)?;
        let spec = self.spec(cfg);
        emit_block(&mut BitModPe::default(), &spec)
    }
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        validate(self, cfg)?;
        let spec = self.spec(cfg);
        let inputs: Vec<&Port> = spec
            .ports
            .iter()
            .filter(|p| p.dir == PortDir::Input && p.name != "clock")
            .collect();
        let names: Vec<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, DRIVEN, "the driver below follows the port order");
        let widths: Vec<(&str, u32)> = inputs
            .iter()
            .map(|p| (p.name.as_str(), p.width as u32))
            .collect();
        check_rows(&spec.name, rows, &widths)?;
        let mut uut = BitModPe::default();
        uut.connect_all();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            uut.reset.next = r[0] == 1;
            uut.in_valid.next = r[1] == 1;
            uut.in_last.next = r[2] == 1;
            uut.in_type.next = bits(r[3]);
            uut.in_scale.next = bits(r[4]);
            uut.in_act0.next = bits(r[5]);
            uut.in_act1.next = bits(r[6]);
            uut.in_act2.next = bits(r[7]);
            uut.in_act3.next = bits(r[8]);
            uut.in_code0.next = bits(r[9]);
            uut.in_code1.next = bits(r[10]);
            uut.in_code2.next = bits(r[11]);
            uut.in_code3.next = bits(r[12]);
            tick(&mut uut, |u| &mut u.clock)?;
            out.push(vec![
                uut.out_valid.val() as u64,
                uut.out_exp.val().to_u64(),
                uut.out_man.val().to_u64(),
                uut.out_special.val() as u64,
            ]);
        }
        Ok(out)
    }
}

/// The input ports in port order (`clock` excluded), as `simulate` drives them.
const DRIVEN: [&str; 13] = [
    "reset", "in_valid", "in_last", "in_type", "in_scale", "in_act0", "in_act1", "in_act2",
    "in_act3", "in_code0", "in_code1", "in_code2", "in_code3",
];
