//! INT16 FMA RTL (x86 VPDPWSSD / VPDPWSSDS): y = acc + a0*b0 + a1*b1 on signed INT16 operands
//! and an INT32 accumulator.
//!
//! - [`Int16FmaCore`]: combinational. The two 16x16 signed products are sign-extended to 33
//!   bits and added to the sign-extended accumulator; 33 bits hold the exact sum (it lies in
//!   [-2^32 + 2^16, 2^32 - 1]). `wrap` keeps the low 32 bits (VPDPWSSD); `saturate` clamps the
//!   exact sum to [-2^31, 2^31 - 1] (VPDPWSSDS): bits 32 and 31 of the sum differ exactly when
//!   it left the INT32 range.
//! - [`Int16FmaMac`]: the core plus the 32-bit accumulator register of a streaming MAC, with
//!   synchronous `reset`, `clear` and `en` (the cycle behaviour of the reference model
//!   `pelab_sim::int16fma::StreamingMac`).

use crate::blocks::accreg::{acc_streaming, AccText};
use crate::emit::{emit_block, ModuleSpec, Port, RtlModule};
use crate::rtl::{policy_tag, validate, PeRtl, RtlConfig};
use crate::sim::{check_rows, settle};
use crate::{Error, Result};
use rust_hdl::prelude::*;

/// Combinational VPDPWSSD / VPDPWSSDS core.
#[derive(LogicBlock)]
pub struct Int16FmaCore {
    /// Accumulator input, INT32 two's complement.
    pub acc: Signal<In, Bits<32>>,
    /// a0, INT16 two's complement.
    pub a0: Signal<In, Bits<16>>,
    /// a1, INT16 two's complement.
    pub a1: Signal<In, Bits<16>>,
    /// b0, INT16 two's complement.
    pub b0: Signal<In, Bits<16>>,
    /// b1, INT16 two's complement.
    pub b1: Signal<In, Bits<16>>,
    /// acc + a0*b0 + a1*b1, wrapped or saturated to INT32.
    pub y: Signal<Out, Bits<32>>,
    sa0: Signal<Local, Signed<16>>,
    sa1: Signal<Local, Signed<16>>,
    sb0: Signal<Local, Signed<16>>,
    sb1: Signal<Local, Signed<16>>,
    p0: Signal<Local, Signed<32>>,
    p1: Signal<Local, Signed<32>>,
    p0u: Signal<Local, Bits<32>>,
    p1u: Signal<Local, Bits<32>>,
    p0z: Signal<Local, Bits<33>>,
    p1z: Signal<Local, Bits<33>>,
    accz: Signal<Local, Bits<33>>,
    p0e: Signal<Local, Bits<33>>,
    p1e: Signal<Local, Bits<33>>,
    acce: Signal<Local, Bits<33>>,
    sum: Signal<Local, Bits<33>>,
    sum_lo: Signal<Local, Bits<32>>,
    pos_ovf: Signal<Local, Bit>,
    neg_ovf: Signal<Local, Bit>,
    sign32: Constant<Bits<32>>,
    ext33: Constant<Bits<33>>,
    sign33: Constant<Bits<33>>,
    int32_max: Constant<Bits<32>>,
    int32_min: Constant<Bits<32>>,
    saturate: Constant<Bit>,
}

impl Int16FmaCore {
    /// Builds the core; `saturate` selects VPDPWSSDS (else VPDPWSSD, wrapping).
    pub fn new(saturate: bool) -> Self {
        Self {
            acc: Default::default(),
            a0: Default::default(),
            a1: Default::default(),
            b0: Default::default(),
            b1: Default::default(),
            y: Default::default(),
            sa0: Default::default(),
            sa1: Default::default(),
            sb0: Default::default(),
            sb1: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            p0u: Default::default(),
            p1u: Default::default(),
            p0z: Default::default(),
            p1z: Default::default(),
            accz: Default::default(),
            p0e: Default::default(),
            p1e: Default::default(),
            acce: Default::default(),
            sum: Default::default(),
            sum_lo: Default::default(),
            pos_ovf: Default::default(),
            neg_ovf: Default::default(),
            sign32: Constant::new(bits(0x8000_0000)),
            ext33: Constant::new(bits(1 << 32)),
            sign33: Constant::new(bits(0x8000_0000)),
            int32_max: Constant::new(bits(0x7FFF_FFFF)),
            int32_min: Constant::new(bits(0x8000_0000)),
            saturate: Constant::new(saturate),
        }
    }
}

impl Logic for Int16FmaCore {
    #[hdl_gen]
    fn update(&mut self) {
        self.sa0.next = signed_cast(self.a0.val());
        self.sa1.next = signed_cast(self.a1.val());
        self.sb0.next = signed_cast(self.b0.val());
        self.sb1.next = signed_cast(self.b1.val());
        self.p0.next = self.sa0.val() * self.sb0.val();
        self.p1.next = self.sa1.val() * self.sb1.val();
        self.p0u.next = unsigned_cast(self.p0.val());
        self.p1u.next = unsigned_cast(self.p1.val());
        self.p0z.next = bit_cast::<33, 32>(self.p0u.val());
        self.p1z.next = bit_cast::<33, 32>(self.p1u.val());
        self.accz.next = bit_cast::<33, 32>(self.acc.val());
        if (self.p0u.val() & self.sign32.val()).any() {
            self.p0e.next = self.p0z.val() | self.ext33.val();
        } else {
            self.p0e.next = self.p0z.val();
        }
        if (self.p1u.val() & self.sign32.val()).any() {
            self.p1e.next = self.p1z.val() | self.ext33.val();
        } else {
            self.p1e.next = self.p1z.val();
        }
        if (self.acc.val() & self.sign32.val()).any() {
            self.acce.next = self.accz.val() | self.ext33.val();
        } else {
            self.acce.next = self.accz.val();
        }
        self.sum.next = (self.acce.val() + self.p0e.val()) + self.p1e.val();
        self.sum_lo.next = self.sum.val().get_bits::<32>(0);
        self.pos_ovf.next =
            !(self.sum.val() & self.ext33.val()).any() & (self.sum.val() & self.sign33.val()).any();
        self.neg_ovf.next =
            (self.sum.val() & self.ext33.val()).any() & !(self.sum.val() & self.sign33.val()).any();
        if self.saturate.val() & self.pos_ovf.val() {
            self.y.next = self.int32_max.val();
        } else if self.saturate.val() & self.neg_ovf.val() {
            self.y.next = self.int32_min.val();
        } else {
            self.y.next = self.sum_lo.val();
        }
    }
}

acc_streaming! {
    /// Streaming MAC: the core plus the accumulator register (latency 1); `new(saturate)`
    /// selects VPDPWSSDS semantics for every step.
    ///
    /// At each rising edge of `clock`, the first matching rule applies: `reset` loads 0,
    /// `clear` loads 0 (that cycle's operands are not accumulated), `en` loads
    /// `core(acc, a, b)`; else the register holds.
    Int16FmaMac(saturate: bool) {
        core: Int16FmaCore = Int16FmaCore::new(saturate),
        inputs: [
            /// a0, INT16.
            a0: 16 = "a0, INT16",
            /// a1, INT16.
            a1: 16 = "a1, INT16",
            /// b0, INT16.
            b0: 16 = "b0, INT16",
            /// b1, INT16.
            b1: 16 = "b1, INT16",
        ],
        acc: "accumulator register, INT32",
    }
}

/// How the header of the `mac` variant words the accumulator register.
const ACC_TEXT: AccText = AccText {
    zero: "0",
    dropped: "operands are",
    next: "acc_next (above)",
    inputs: "operands",
};

/// The INT16 FMA PE in the RTL registry.
pub struct Int16FmaRtl;

const POLICIES: [&str; 2] = ["wrap", "saturate"];
const VARIANTS: [&str; 2] = ["core", "mac"];

fn saturate_of(policy: &str) -> Result<bool> {
    match policy {
        "wrap" => Ok(false),
        "saturate" => Ok(true),
        _ => Err(Error::new(format!(
            "unknown int16fma policy '{policy}'; valid: wrap, saturate"
        ))),
    }
}

impl Int16FmaRtl {
    fn spec(&self, cfg: &RtlConfig, saturate: bool) -> ModuleSpec {
        let mac = cfg.variant == "mac";
        let (ints, out) = if mac {
            ("acc is", "acc_next")
        } else {
            ("acc and y are", "y")
        };
        let sem = vec![
            format!("Operands a0, a1, b0, b1 are INT16; {ints} INT32; all two's complement."),
            if saturate {
                format!(
                    "saturate (VPDPWSSDS): {out} = clamp(acc + a0*b0 + a1*b1) to [-2^31, \
                     2^31-1], the sum taken exactly."
                )
            } else {
                format!("wrap (VPDPWSSD): {out} = (acc + a0*b0 + a1*b1) mod 2^32.")
            },
        ];
        if mac {
            return Int16FmaMac::spec(self, cfg, sem, &ACC_TEXT);
        }
        let mut ports = vec![Port::input("acc", 32, "accumulator in, INT32")];
        for n in ["a0", "a1", "b0", "b1"] {
            ports.push(Port::input(n, 16, format!("{n}, INT16")));
        }
        ports.push(Port::output("y", 32, "result, INT32"));
        ModuleSpec {
            name: self.module_name(cfg),
            pe: "int16fma".into(),
            config: cfg.pairs(),
            semantics: sem,
            latency: 0,
            timing: "Combinational: y follows the inputs.".into(),
            ports,
        }
    }
}

impl PeRtl for Int16FmaRtl {
    fn id(&self) -> &'static str {
        "int16fma"
    }
    fn summary(&self) -> &'static str {
        "INT16 FMA (VPDPWSSD/VPDPWSSDS): acc + a0*b0 + a1*b1, wrap or saturate; combinational \
         core or streaming MAC with accumulator register"
    }
    fn configs(&self) -> Vec<RtlConfig> {
        let mut v = Vec::new();
        for variant in VARIANTS {
            for pol in POLICIES {
                v.push(RtlConfig::new("int16", pol, 0).with_variant(variant));
            }
        }
        v
    }
    fn module_name(&self, cfg: &RtlConfig) -> String {
        format!("pelab_int16fma_{}_{}", cfg.variant, policy_tag(&cfg.policy))
    }
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule> {
        validate(self, cfg)?;
        let saturate = saturate_of(&cfg.policy)?;
        let spec = self.spec(cfg, saturate);
        if cfg.variant == "mac" {
            emit_block(&mut Int16FmaMac::new(saturate), &spec)
        } else {
            emit_block(&mut Int16FmaCore::new(saturate), &spec)
        }
    }
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        validate(self, cfg)?;
        let saturate = saturate_of(&cfg.policy)?;
        let module = self.module_name(cfg);
        if cfg.variant == "mac" {
            return Int16FmaMac::new(saturate).stream(&module, rows);
        }
        check_rows(&module, rows, &[("acc", 32), A0, A1, B0, B1])?;
        let mut uut = Int16FmaCore::new(saturate);
        uut.connect_all();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            uut.acc.next = bits(r[0]);
            uut.a0.next = bits(r[1]);
            uut.a1.next = bits(r[2]);
            uut.b0.next = bits(r[3]);
            uut.b1.next = bits(r[4]);
            settle(&mut uut)?;
            out.push(vec![uut.y.val().to_u64()]);
        }
        Ok(out)
    }
}

const A0: (&str, u32) = ("a0", 16);
const A1: (&str, u32) = ("a1", 16);
const B0: (&str, u32) = ("b0", 16);
const B1: (&str, u32) = ("b1", 16);
