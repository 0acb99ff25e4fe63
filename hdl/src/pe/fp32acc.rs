//! FP32 accumulator RTL (`fp32acc`): `acc <- acc + x`, a general IEEE 754 binary32 adder (round
//! to nearest, ties to even; subnormal inputs and results; overflow to Inf) in front of the
//! accumulator register.
//!
//! The datapath ([`Fp32AccCore`], combinational) is a single-path adder:
//! - [`Fp32AccUnpack`] splits both codes into signs, effective exponents (field, or 1 for
//!   subnormals and zeros) and 24-bit significands, orders them by magnitude with one 31-bit
//!   comparison of the codes without their sign bits (binary32 magnitudes order like their
//!   codes, subnormals included), and settles the results that need no addition: NaN (any
//!   NaN, Inf + (-Inf)) and the signed Inf.
//! - The shared FP32 adder [`Fp32Add`] (as in `fp16mac`), built with both of its options:
//!   alignment into the 28-bit frame, the 28-bit adder, the leading-zero normalization clamped
//!   at the subnormal exponent (when the clamp binds, the hidden bit stays clear: the result is
//!   subnormal, and exact, since a subnormal sum needs exponents at most one apart, so nothing
//!   was shifted out), the packed code with exponent field 0 for a subnormal, round to nearest
//!   even, overflow to the signed Inf, and the exact zero sum, whose sign is
//!   `sign(acc) AND sign(x)` (+0 except (-0) + (-0)).
//!
//! [`Fp32AccStreaming`] adds the shared accumulator register [`crate::blocks::AccReg`] with
//! synchronous `reset`, `clear` and `en` (priorities of `pelab_sim::fp32acc::Fp32Acc::clock`);
//! `acc` is the register.
//!
//! Leaf blocks hold the logic and the composite blocks hold only connections, as in
//! `fp16mac`; every bit of every signal is read, as `verilator -Wall` demands.

use crate::blocks::accreg::{acc_streaming, AccText};
use crate::blocks::Fp32Add;
use crate::emit::{emit_block, ModuleSpec, RtlModule};
use crate::k;
use crate::rtl::{policy_tag, validate, PeRtl, RtlConfig};
use crate::sim::settle;
use crate::Result;
use rust_hdl::prelude::*;

/// Operand unpacking, magnitude order and the results that need no addition.
#[derive(LogicBlock)]
pub struct Fp32AccUnpack {
    /// FP32 accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// FP32 addend.
    pub x: Signal<In, Bits<32>>,
    /// Sign of the accumulator.
    pub sa: Signal<Out, Bit>,
    /// Effective exponent of the accumulator (field, or 1 for subnormals and zeros).
    pub ea: Signal<Out, Bits<8>>,
    /// Significand of the accumulator (hidden bit 0 for subnormals and zeros).
    pub siga: Signal<Out, Bits<24>>,
    /// Sign of the addend.
    pub sb: Signal<Out, Bit>,
    /// Effective exponent of the addend.
    pub eb: Signal<Out, Bits<8>>,
    /// Significand of the addend.
    pub sigb: Signal<Out, Bits<24>>,
    /// The addend has the larger magnitude.
    pub swap: Signal<Out, Bit>,
    /// The result needs no addition (NaN or Inf).
    pub settled: Signal<Out, Bit>,
    /// That result (valid when `settled`).
    pub settled_y: Signal<Out, Bits<32>>,
    ma: Signal<Local, Bits<23>>,
    mb: Signal<Local, Bits<23>>,
    fa: Signal<Local, Bits<8>>,
    fb: Signal<Local, Bits<8>>,
    a_ez: Signal<Local, Bit>,
    b_ez: Signal<Local, Bit>,
    a_emax: Signal<Local, Bit>,
    b_emax: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    ma24: Signal<Local, Bits<24>>,
    mb24: Signal<Local, Bits<24>>,
    maga: Signal<Local, Bits<31>>,
    magb: Signal<Local, Bits<31>>,
    s_sign: Constant<Bits<32>>,
    s_eoff: Constant<Bits<32>>,
    s_emax: Constant<Bits<8>>,
    s_hidden: Constant<Bits<24>>,
    s_nan: Constant<Bits<32>>,
    one8: Constant<Bits<8>>,
}

impl Fp32AccUnpack {
    /// Builds the unpacker.
    pub fn new() -> Self {
        Self {
            acc: Default::default(),
            x: Default::default(),
            sa: Default::default(),
            ea: Default::default(),
            siga: Default::default(),
            sb: Default::default(),
            eb: Default::default(),
            sigb: Default::default(),
            swap: Default::default(),
            settled: Default::default(),
            settled_y: Default::default(),
            ma: Default::default(),
            mb: Default::default(),
            fa: Default::default(),
            fb: Default::default(),
            a_ez: Default::default(),
            b_ez: Default::default(),
            a_emax: Default::default(),
            b_emax: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            nan: Default::default(),
            ma24: Default::default(),
            mb24: Default::default(),
            maga: Default::default(),
            magb: Default::default(),
            s_sign: k(0x8000_0000),
            s_eoff: k(23),
            s_emax: k(0xFF),
            s_hidden: k(0x80_0000),
            s_nan: k(0x7FC0_0000),
            one8: k(1),
        }
    }
}

impl Default for Fp32AccUnpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccUnpack {
    #[hdl_gen]
    fn update(&mut self) {
        self.ma.next = self.acc.val().get_bits::<23>(0);
        self.mb.next = self.x.val().get_bits::<23>(0);
        self.fa.next = self.acc.val().get_bits::<8>(self.s_eoff.val().index());
        self.fb.next = self.x.val().get_bits::<8>(self.s_eoff.val().index());
        self.sa.next = (self.acc.val() & self.s_sign.val()).any();
        self.sb.next = (self.x.val() & self.s_sign.val()).any();
        self.a_ez.next = !self.fa.val().any();
        self.b_ez.next = !self.fb.val().any();
        self.a_emax.next = self.fa.val() == self.s_emax.val();
        self.b_emax.next = self.fb.val() == self.s_emax.val();
        self.inf_a.next = self.a_emax.val() & !self.ma.val().any();
        self.inf_b.next = self.b_emax.val() & !self.mb.val().any();
        // Specials: a NaN operand, Inf + (-Inf); otherwise an Inf operand is the result.
        self.nan.next = ((self.a_emax.val() & self.ma.val().any())
            | (self.b_emax.val() & self.mb.val().any()))
            | ((self.inf_a.val() & self.inf_b.val()) & (self.sa.val() ^ self.sb.val()));
        self.settled.next = (self.nan.val() | self.inf_a.val()) | self.inf_b.val();
        if self.nan.val() {
            self.settled_y.next = self.s_nan.val();
        } else if self.inf_a.val() {
            self.settled_y.next = self.acc.val();
        } else {
            self.settled_y.next = self.x.val();
        }
        // Significands (hidden bit 0 when the exponent field is 0) and effective exponents.
        self.ma24.next = bit_cast::<24, 23>(self.ma.val());
        self.mb24.next = bit_cast::<24, 23>(self.mb.val());
        if self.a_ez.val() {
            self.siga.next = self.ma24.val();
            self.ea.next = self.one8.val();
        } else {
            self.siga.next = self.ma24.val() | self.s_hidden.val();
            self.ea.next = self.fa.val();
        }
        if self.b_ez.val() {
            self.sigb.next = self.mb24.val();
            self.eb.next = self.one8.val();
        } else {
            self.sigb.next = self.mb24.val() | self.s_hidden.val();
            self.eb.next = self.fb.val();
        }
        // Order by magnitude: the codes without their sign bits compare like the values.
        self.maga.next = self.acc.val().get_bits::<31>(0);
        self.magb.next = self.x.val().get_bits::<31>(0);
        self.swap.next = self.magb.val() > self.maga.val();
    }
}

/// The combinational step: `y = acc + x` (see the module documentation).
#[derive(LogicBlock)]
pub struct Fp32AccCore {
    /// FP32 accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// FP32 addend.
    pub x: Signal<In, Bits<32>>,
    /// FP32 result `acc + x`, rounded once (nearest even).
    pub y: Signal<Out, Bits<32>>,
    unpack: Fp32AccUnpack,
    adder: Fp32Add,
}

impl Fp32AccCore {
    /// Builds the datapath: the shared adder with subnormal results and overflow to Inf.
    pub fn new() -> Self {
        Self {
            acc: Default::default(),
            x: Default::default(),
            y: Default::default(),
            unpack: Fp32AccUnpack::new(),
            adder: Fp32Add::new(true, true),
        }
    }
}

impl Default for Fp32AccCore {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccCore {
    #[hdl_gen]
    fn update(&mut self) {
        self.unpack.acc.next = self.acc.val();
        self.unpack.x.next = self.x.val();
        self.adder.sa.next = self.unpack.sa.val();
        self.adder.ea.next = self.unpack.ea.val();
        self.adder.siga.next = self.unpack.siga.val();
        self.adder.sb.next = self.unpack.sb.val();
        self.adder.eb.next = self.unpack.eb.val();
        self.adder.sigb.next = self.unpack.sigb.val();
        self.adder.swap.next = self.unpack.swap.val();
        self.adder.settled.next = self.unpack.settled.val();
        self.adder.settled_y.next = self.unpack.settled_y.val();
        self.y.next = self.adder.y.val();
    }
}

acc_streaming! {
    /// The streaming accumulator: [`Fp32AccCore`] plus the FP32 register (latency 1).
    ///
    /// At each rising edge of `clock`, the first matching rule applies: `reset` loads +0,
    /// `clear` loads +0 (that cycle's `x` is not accumulated), `en` loads `acc + x`; else the
    /// register holds.
    Fp32AccStreaming() {
        core: Fp32AccCore = Fp32AccCore::new(),
        inputs: [
            /// FP32 addend.
            x: 32 = "addend, fp32 code",
        ],
        acc: "accumulator register, fp32 code",
    }
}

/// How the header words the accumulator register.
const ACC_TEXT: AccText = AccText {
    zero: "+0",
    dropped: "x is",
    next: "acc_next",
    inputs: "addends",
};

/// The fp32acc PE in the RTL registry.
pub struct Fp32AccRtl;

impl Fp32AccRtl {
    fn spec(&self, cfg: &RtlConfig) -> ModuleSpec {
        let sem = vec![
            "x and acc are FP32 codes (IEEE binary32: 8 exponent, 23 mantissa bits, bias 127)."
                .to_string(),
            "acc_next = acc + x, the IEEE 754 binary32 sum rounded once, round to nearest, ties \
             to even; subnormal operands and results are kept (gradual underflow); a sum whose \
             rounded magnitude exceeds the largest finite value gives the signed Inf."
                .to_string(),
            "Any NaN operand gives the canonical NaN 0x7FC00000, as does Inf + (-Inf); otherwise \
             an Inf operand is the result."
                .to_string(),
            "An exact zero sum is +0, except (-0) + (-0) = -0.".to_string(),
            "Datapath: unpack and specials; operands ordered by a 31-bit comparison of their \
             magnitude codes; the smaller significand shifted right by the exponent difference \
             (up to 26) into a 28-bit frame {carry, 24 bits, guard, round, sticky} (sticky from \
             a mask of the unshifted significand); one 28-bit adder (subtraction as ~(~x + y)); \
             leading-zero normalization clamped at the subnormal exponent; the \
             round-to-nearest-even increment added to the packed {exponent, fraction} code; \
             overflow to Inf."
                .to_string(),
        ];
        Fp32AccStreaming::spec(self, cfg, sem, &ACC_TEXT)
    }
}

/// Evaluates the combinational [`Fp32AccCore`] on `(acc, x)` pairs in rust-hdl's simulator
/// (one settle per pair); returns each `acc + x`.
pub fn simulate_core(pairs: &[(u32, u32)]) -> Result<Vec<u32>> {
    let mut uut = Fp32AccCore::new();
    uut.connect_all();
    let mut out = Vec::with_capacity(pairs.len());
    for &(acc, x) in pairs {
        uut.acc.next = bits(acc as u64);
        uut.x.next = bits(x as u64);
        settle(&mut uut)?;
        out.push(uut.y.val().to_u64() as u32);
    }
    Ok(out)
}

impl PeRtl for Fp32AccRtl {
    fn id(&self) -> &'static str {
        "fp32acc"
    }
    fn summary(&self) -> &'static str {
        "FP32 accumulator register with a general IEEE binary32 adder (RNE, subnormals, \
         overflow to Inf); the dot-product adder behind lmul/fpmul"
    }
    fn configs(&self) -> Vec<RtlConfig> {
        vec![RtlConfig::new("fp32", "ieee", 0)]
    }
    fn module_name(&self, cfg: &RtlConfig) -> String {
        format!("pelab_fp32acc_{}_{}", cfg.format, policy_tag(&cfg.policy))
    }
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule> {
        validate(self, cfg)?;
        emit_block(&mut Fp32AccStreaming::new(), &self.spec(cfg))
    }
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        validate(self, cfg)?;
        Fp32AccStreaming::new().stream(&self.module_name(cfg), rows)
    }
}
