//! FP16 MAC RTL (`fp16mac`): `acc <- acc + a·b` with FP16 operands `a`, `b` and an FP32
//! accumulator, the exact product added with one round to nearest, ties to even, per step.
//!
//! The datapath ([`Fp16MacCore`], combinational) is a product front end feeding a single-path
//! FP32 adder:
//! - [`Fp16MacUnpack`] splits `a`, `b` (FP16) and `acc` (FP32) into signs, effective exponents
//!   (field, or 1 for subnormals) and significands, and settles every result that needs no
//!   addition: NaN (any NaN, Inf x 0, Inf - Inf), signed Inf, and a zero product (the result is
//!   `acc`; a zero `acc` gives the zero whose sign is `sign(acc) AND sign(a·b)`, i.e. +0 except
//!   (-0) + (-0)).
//! - The product uses the shared blocks of [`crate::blocks`]: two [`FpLeadNorm`] normalize
//!   subnormal FP16 significands, [`FpSigMul`] multiplies the 11-bit significands into 22 bits
//!   (one rust-hdl 16 x 16 multiplier, zero-extended), [`FpExpSum`] gives the FP32-biased
//!   exponent of product bit 21 (`ea + eb - lza - lzb + 98`).
//! - [`Fp16MacAddend`] normalizes the product by at most one bit into a 24-bit significand
//!   (both inputs are normalized, so bit 21 or bit 20 of the product is set) and orders the two
//!   addends by magnitude with one 32-bit comparison of `{exponent, significand}`.
//! - The shared FP32 adder [`Fp32Add`] (as in `fp32acc`) adds the product to `acc`: alignment
//!   of the smaller addend into a 28-bit frame `{carry, 24-bit significand, guard, round,
//!   sticky}` (the sticky bit an AND-OR of the unshifted significand against a mask decoded
//!   from the shift amount, in parallel with the shifter), one 28-bit adder (`x - y = ~(~x +
//!   y)`, so effective subtraction needs only XORs around it, no carry-in), leading-zero
//!   normalization for cancellation, the packed `{exponent, fraction}` code, round to nearest
//!   even by incrementing it (a mantissa carry moves into the exponent), and the result
//!   multiplexer with the settled result and the exact zero of a cancellation (+0). It is built
//!   without its two options, which the operand ranges make unnecessary:
//!
//! - A nonzero product has magnitude at least 2^-48 and a nonzero sum with it is a multiple of
//!   2^-72 (cancellation needs `|acc|` near `|a·b|`, whose unit in the last place is then at
//!   least 2^-72), so every sum that involves the adder is zero or normal: subnormal results
//!   only arise when a zero product passes a subnormal `acc` through, and the normalizer needs
//!   no clamp at the bottom of the exponent range (the exponent after normalization is at least
//!   53): no `subnormals` option.
//! - `|a·b| <= 65504^2 < 2^32`, below half a unit in the last place of every FP32 value from
//!   2^56 on (2^103 at the top of the range), so a finite `acc` plus a finite product never
//!   rounds past the largest finite value: overflow to Inf cannot occur and there is no
//!   overflow check (nor an exponent above 255): no `overflow` option. Inf results come only
//!   from Inf operands.
//!
//! [`Fp16MacStreaming`] adds the shared accumulator register [`crate::blocks::AccReg`] with
//! synchronous `reset`, `clear` and `en` (priorities of `pelab_sim::fp16mac::Fp16Mac::clock`);
//! `acc` is the register.
//!
//! Leaf blocks hold the logic and the composite blocks hold only connections, so that no
//! always block both drives a child and reads what the child computes from it. Every bit of
//! every signal is read, as `verilator -Wall` demands.

use crate::blocks::accreg::{acc_streaming, AccText};
use crate::blocks::{Fp32Add, FpExpSum, FpLeadNorm, FpSigMul};
use crate::emit::{emit_block, ModuleSpec, RtlModule};
use crate::k;
use crate::rtl::{policy_tag, validate, PeRtl, RtlConfig};
use crate::sim::settle;
use crate::Result;
use rust_hdl::prelude::*;

/// FP32 exponent bias minus FP16 exponent bias. [`FpExpSum`] built for the bias `15 - 112`
/// adds `1 - 15 + 112 = 98`, so its `T` is the FP32-biased exponent of product bit 21.
const REBIAS: i32 = 112;

/// Operand unpacking and the results that need no addition.
#[derive(LogicBlock)]
pub struct Fp16MacUnpack {
    /// FP16 operand a.
    pub a: Signal<In, Bits<16>>,
    /// FP16 operand b.
    pub b: Signal<In, Bits<16>>,
    /// FP32 accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// Sign of the product (sa ^ sb).
    pub psign: Signal<Out, Bit>,
    /// Significand of a (hidden bit 0 for subnormals).
    pub sig_a: Signal<Out, Bits<11>>,
    /// Significand of b.
    pub sig_b: Signal<Out, Bits<11>>,
    /// Effective exponent field of a (1 for subnormals).
    pub ea: Signal<Out, Bits<8>>,
    /// Effective exponent field of b.
    pub eb: Signal<Out, Bits<8>>,
    /// Sign of the accumulator.
    pub csign: Signal<Out, Bit>,
    /// Significand of the accumulator (hidden bit 0 for subnormals and zero).
    pub csig: Signal<Out, Bits<24>>,
    /// Effective exponent field of the accumulator (1 for subnormals and zero).
    pub cexp: Signal<Out, Bits<8>>,
    /// The result needs no addition (NaN, Inf, or a zero product).
    pub settled: Signal<Out, Bit>,
    /// That result (valid when `settled`).
    pub settled_y: Signal<Out, Bits<32>>,
    ma: Signal<Local, Bits<10>>,
    mb: Signal<Local, Bits<10>>,
    mc: Signal<Local, Bits<23>>,
    fa: Signal<Local, Bits<5>>,
    fb: Signal<Local, Bits<5>>,
    fc: Signal<Local, Bits<8>>,
    a_ez: Signal<Local, Bit>,
    b_ez: Signal<Local, Bit>,
    c_ez: Signal<Local, Bit>,
    a_emax: Signal<Local, Bit>,
    b_emax: Signal<Local, Bit>,
    c_emax: Signal<Local, Bit>,
    za: Signal<Local, Bit>,
    zb: Signal<Local, Bit>,
    zc: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    inf_c: Signal<Local, Bit>,
    nan_in: Signal<Local, Bit>,
    pinf: Signal<Local, Bit>,
    pzero: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    inf_sign: Signal<Local, Bit>,
    inf_y: Signal<Local, Bits<32>>,
    fa8: Signal<Local, Bits<8>>,
    fb8: Signal<Local, Bits<8>>,
    ma11: Signal<Local, Bits<11>>,
    mb11: Signal<Local, Bits<11>>,
    mc24: Signal<Local, Bits<24>>,
    h_sign: Constant<Bits<16>>,
    h_eoff: Constant<Bits<32>>,
    h_emax: Constant<Bits<5>>,
    h_hidden: Constant<Bits<11>>,
    s_sign: Constant<Bits<32>>,
    s_eoff: Constant<Bits<32>>,
    s_emax: Constant<Bits<8>>,
    s_hidden: Constant<Bits<24>>,
    s_nan: Constant<Bits<32>>,
    s_inf: Constant<Bits<32>>,
    s_zero: Constant<Bits<32>>,
    one8: Constant<Bits<8>>,
}

impl Fp16MacUnpack {
    /// Builds the unpacker.
    pub fn new() -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            acc: Default::default(),
            psign: Default::default(),
            sig_a: Default::default(),
            sig_b: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            csign: Default::default(),
            csig: Default::default(),
            cexp: Default::default(),
            settled: Default::default(),
            settled_y: Default::default(),
            ma: Default::default(),
            mb: Default::default(),
            mc: Default::default(),
            fa: Default::default(),
            fb: Default::default(),
            fc: Default::default(),
            a_ez: Default::default(),
            b_ez: Default::default(),
            c_ez: Default::default(),
            a_emax: Default::default(),
            b_emax: Default::default(),
            c_emax: Default::default(),
            za: Default::default(),
            zb: Default::default(),
            zc: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            inf_c: Default::default(),
            nan_in: Default::default(),
            pinf: Default::default(),
            pzero: Default::default(),
            nan: Default::default(),
            inf_sign: Default::default(),
            inf_y: Default::default(),
            fa8: Default::default(),
            fb8: Default::default(),
            ma11: Default::default(),
            mb11: Default::default(),
            mc24: Default::default(),
            h_sign: k(0x8000),
            h_eoff: k(10),
            h_emax: k(0x1F),
            h_hidden: k(0x400),
            s_sign: k(0x8000_0000),
            s_eoff: k(23),
            s_emax: k(0xFF),
            s_hidden: k(0x80_0000),
            s_nan: k(0x7FC0_0000),
            s_inf: k(0x7F80_0000),
            s_zero: k(0),
            one8: k(1),
        }
    }
}

impl Default for Fp16MacUnpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp16MacUnpack {
    #[hdl_gen]
    fn update(&mut self) {
        self.ma.next = self.a.val().get_bits::<10>(0);
        self.mb.next = self.b.val().get_bits::<10>(0);
        self.mc.next = self.acc.val().get_bits::<23>(0);
        self.fa.next = self.a.val().get_bits::<5>(self.h_eoff.val().index());
        self.fb.next = self.b.val().get_bits::<5>(self.h_eoff.val().index());
        self.fc.next = self.acc.val().get_bits::<8>(self.s_eoff.val().index());
        self.a_ez.next = !self.fa.val().any();
        self.b_ez.next = !self.fb.val().any();
        self.c_ez.next = !self.fc.val().any();
        self.a_emax.next = self.fa.val() == self.h_emax.val();
        self.b_emax.next = self.fb.val() == self.h_emax.val();
        self.c_emax.next = self.fc.val() == self.s_emax.val();
        self.za.next = self.a_ez.val() & !self.ma.val().any();
        self.zb.next = self.b_ez.val() & !self.mb.val().any();
        self.zc.next = self.c_ez.val() & !self.mc.val().any();
        self.inf_a.next = self.a_emax.val() & !self.ma.val().any();
        self.inf_b.next = self.b_emax.val() & !self.mb.val().any();
        self.inf_c.next = self.c_emax.val() & !self.mc.val().any();
        self.psign.next =
            (self.a.val() & self.h_sign.val()).any() ^ (self.b.val() & self.h_sign.val()).any();
        self.csign.next = (self.acc.val() & self.s_sign.val()).any();
        // Specials: NaN in, Inf x 0, Inf - Inf.
        self.nan_in.next = (self.a_emax.val() & self.ma.val().any())
            | (self.b_emax.val() & self.mb.val().any())
            | (self.c_emax.val() & self.mc.val().any());
        self.pinf.next = self.inf_a.val() | self.inf_b.val();
        self.pzero.next = self.za.val() | self.zb.val();
        self.nan.next = self.nan_in.val()
            | (self.pinf.val() & self.pzero.val())
            | ((self.pinf.val() & self.inf_c.val()) & (self.psign.val() ^ self.csign.val()));
        if self.inf_c.val() {
            self.inf_sign.next = self.csign.val();
        } else {
            self.inf_sign.next = self.psign.val();
        }
        if self.inf_sign.val() {
            self.inf_y.next = self.s_inf.val() | self.s_sign.val();
        } else {
            self.inf_y.next = self.s_inf.val();
        }
        self.settled.next =
            (self.nan.val() | self.pinf.val()) | (self.inf_c.val() | self.pzero.val());
        if self.nan.val() {
            self.settled_y.next = self.s_nan.val();
        } else if self.pinf.val() | self.inf_c.val() {
            self.settled_y.next = self.inf_y.val();
        } else if self.zc.val() {
            // Zero product, zero accumulator: -0 only for (-0) + (-0).
            if self.csign.val() & self.psign.val() {
                self.settled_y.next = self.s_sign.val();
            } else {
                self.settled_y.next = self.s_zero.val();
            }
        } else {
            self.settled_y.next = self.acc.val();
        }
        // Significands (hidden bit 0 when the exponent field is 0) and effective exponents.
        self.ma11.next = bit_cast::<11, 10>(self.ma.val());
        self.mb11.next = bit_cast::<11, 10>(self.mb.val());
        self.mc24.next = bit_cast::<24, 23>(self.mc.val());
        self.fa8.next = bit_cast::<8, 5>(self.fa.val());
        self.fb8.next = bit_cast::<8, 5>(self.fb.val());
        if self.a_ez.val() {
            self.sig_a.next = self.ma11.val();
            self.ea.next = self.one8.val();
        } else {
            self.sig_a.next = self.ma11.val() | self.h_hidden.val();
            self.ea.next = self.fa8.val();
        }
        if self.b_ez.val() {
            self.sig_b.next = self.mb11.val();
            self.eb.next = self.one8.val();
        } else {
            self.sig_b.next = self.mb11.val() | self.h_hidden.val();
            self.eb.next = self.fb8.val();
        }
        if self.c_ez.val() {
            self.csig.next = self.mc24.val();
            self.cexp.next = self.one8.val();
        } else {
            self.csig.next = self.mc24.val() | self.s_hidden.val();
            self.cexp.next = self.fc.val();
        }
    }
}

/// The product as an FP32 addend: one-bit normalization into a 24-bit significand, and its
/// magnitude order against the accumulator.
#[derive(LogicBlock)]
pub struct Fp16MacAddend {
    /// Exact product of the normalized significands (bit 21 or bit 20 set when nonzero).
    pub p: Signal<In, Bits<22>>,
    /// FP32-biased exponent of product bit 21.
    pub tp: Signal<In, Bits<8>>,
    /// Significand of the accumulator.
    pub csig: Signal<In, Bits<24>>,
    /// Effective exponent field of the accumulator.
    pub cexp: Signal<In, Bits<8>>,
    /// Significand of the product, hidden bit at bit 23.
    pub psig: Signal<Out, Bits<24>>,
    /// Exponent of the product's hidden bit.
    pub ep: Signal<Out, Bits<8>>,
    /// The product has the larger magnitude.
    pub swap: Signal<Out, Bit>,
    p_hi: Signal<Local, Bit>,
    p24: Signal<Local, Bits<24>>,
    ep32: Signal<Local, Bits<32>>,
    psig32: Signal<Local, Bits<32>>,
    cexp32: Signal<Local, Bits<32>>,
    csig32: Signal<Local, Bits<32>>,
    pk: Signal<Local, Bits<32>>,
    ck: Signal<Local, Bits<32>>,
    p_top: Constant<Bits<22>>,
    one8: Constant<Bits<8>>,
    sh2: Constant<Bits<5>>,
    sh3: Constant<Bits<5>>,
    sh24: Constant<Bits<5>>,
}

impl Fp16MacAddend {
    /// Builds the stage.
    pub fn new() -> Self {
        Self {
            p: Default::default(),
            tp: Default::default(),
            csig: Default::default(),
            cexp: Default::default(),
            psig: Default::default(),
            ep: Default::default(),
            swap: Default::default(),
            p_hi: Default::default(),
            p24: Default::default(),
            ep32: Default::default(),
            psig32: Default::default(),
            cexp32: Default::default(),
            csig32: Default::default(),
            pk: Default::default(),
            ck: Default::default(),
            p_top: k(1 << 21),
            one8: k(1),
            sh2: k(2),
            sh3: k(3),
            sh24: k(24),
        }
    }
}

impl Default for Fp16MacAddend {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp16MacAddend {
    #[hdl_gen]
    fn update(&mut self) {
        // One-bit normalization of the product into a 24-bit significand, exponent of bit 23.
        self.p_hi.next = (self.p.val() & self.p_top.val()).any();
        self.p24.next = bit_cast::<24, 22>(self.p.val());
        if self.p_hi.val() {
            self.psig.next = self.p24.val() << self.sh2.val();
            self.ep.next = self.tp.val();
        } else {
            self.psig.next = self.p24.val() << self.sh3.val();
            self.ep.next = self.tp.val() - self.one8.val();
        }
        // Order by magnitude: {exponent, significand} compares like the values (the product is
        // normalized; a subnormal or zero accumulator has the smallest exponent).
        self.ep32.next = bit_cast::<32, 8>(self.ep.val());
        self.psig32.next = bit_cast::<32, 24>(self.psig.val());
        self.cexp32.next = bit_cast::<32, 8>(self.cexp.val());
        self.csig32.next = bit_cast::<32, 24>(self.csig.val());
        self.pk.next = (self.ep32.val() << self.sh24.val()) | self.psig32.val();
        self.ck.next = (self.cexp32.val() << self.sh24.val()) | self.csig32.val();
        self.swap.next = self.pk.val() > self.ck.val();
    }
}

/// The combinational MAC step: `y = acc + a·b` (see the module documentation).
#[derive(LogicBlock)]
pub struct Fp16MacCore {
    /// FP32 accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// FP16 operand a.
    pub a: Signal<In, Bits<16>>,
    /// FP16 operand b.
    pub b: Signal<In, Bits<16>>,
    /// FP32 result `acc + a·b`, rounded once (nearest even).
    pub y: Signal<Out, Bits<32>>,
    unpack: Fp16MacUnpack,
    norm_a: FpLeadNorm<11, 8>,
    norm_b: FpLeadNorm<11, 8>,
    mul: FpSigMul<11, 22>,
    exps: FpExpSum<8>,
    addend: Fp16MacAddend,
    adder: Fp32Add,
}

impl Fp16MacCore {
    /// Builds the datapath.
    pub fn new() -> Self {
        Self {
            acc: Default::default(),
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            unpack: Fp16MacUnpack::new(),
            norm_a: FpLeadNorm::new(),
            norm_b: FpLeadNorm::new(),
            mul: FpSigMul::new(),
            exps: FpExpSum::new(15 - REBIAS),
            addend: Fp16MacAddend::new(),
            adder: Fp32Add::new(false, false),
        }
    }
}

impl Default for Fp16MacCore {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp16MacCore {
    #[hdl_gen]
    fn update(&mut self) {
        self.unpack.a.next = self.a.val();
        self.unpack.b.next = self.b.val();
        self.unpack.acc.next = self.acc.val();
        self.norm_a.sig.next = self.unpack.sig_a.val();
        self.norm_b.sig.next = self.unpack.sig_b.val();
        self.mul.a.next = self.norm_a.norm.val();
        self.mul.b.next = self.norm_b.norm.val();
        self.exps.ea.next = self.unpack.ea.val();
        self.exps.eb.next = self.unpack.eb.val();
        self.exps.lza.next = self.norm_a.lz.val();
        self.exps.lzb.next = self.norm_b.lz.val();
        self.addend.p.next = self.mul.p.val();
        self.addend.tp.next = self.exps.t.val();
        self.addend.csig.next = self.unpack.csig.val();
        self.addend.cexp.next = self.unpack.cexp.val();
        self.adder.sa.next = self.unpack.csign.val();
        self.adder.ea.next = self.unpack.cexp.val();
        self.adder.siga.next = self.unpack.csig.val();
        self.adder.sb.next = self.unpack.psign.val();
        self.adder.eb.next = self.addend.ep.val();
        self.adder.sigb.next = self.addend.psig.val();
        self.adder.swap.next = self.addend.swap.val();
        self.adder.settled.next = self.unpack.settled.val();
        self.adder.settled_y.next = self.unpack.settled_y.val();
        self.y.next = self.adder.y.val();
    }
}

acc_streaming! {
    /// The streaming MAC: [`Fp16MacCore`] plus the FP32 accumulator register (latency 1).
    ///
    /// At each rising edge of `clock`, the first matching rule applies: `reset` loads +0,
    /// `clear` loads +0 (that cycle's operands are not accumulated), `en` loads `acc + a·b`;
    /// else the register holds.
    Fp16MacStreaming() {
        core: Fp16MacCore = Fp16MacCore::new(),
        inputs: [
            /// FP16 operand a.
            a: 16 = "operand a, fp16 code",
            /// FP16 operand b.
            b: 16 = "operand b, fp16 code",
        ],
        acc: "accumulator register, fp32 code",
    }
}

/// How the header words the accumulator register.
const ACC_TEXT: AccText = AccText {
    zero: "+0",
    dropped: "operands are",
    next: "acc_next",
    inputs: "operands",
};

/// The fp16mac PE in the RTL registry.
pub struct Fp16MacRtl;

impl Fp16MacRtl {
    fn spec(&self, cfg: &RtlConfig) -> ModuleSpec {
        let sem = vec![
            "a and b are FP16 codes (IEEE binary16: 5 exponent, 10 mantissa bits, bias 15); \
             acc is an FP32 code (IEEE binary32)."
                .to_string(),
            "acc_next = acc + a*b: the FP16 product is exact (22-bit significand, always a normal \
             FP32 value or zero) and the sum is rounded once to FP32, round to nearest, ties to \
             even; subnormal inputs are used as they are and a subnormal acc is kept."
                .to_string(),
            "Any NaN (a, b or acc) gives the canonical NaN 0x7FC00000; Inf x 0 and Inf + (-Inf) \
             give the canonical NaN; otherwise an Inf product or acc gives the signed Inf. A \
             finite acc plus a finite product never overflows (|a*b| < 2^32)."
                .to_string(),
            "An exact zero sum is +0, except (-0) + (-0) = -0 (a zero product with acc = -0)."
                .to_string(),
            "Datapath: FP16 unpack and specials; subnormal significands normalized by a \
             leading-zero shift; 11x11 -> 22-bit product (one 16x16 multiplier on the \
             zero-extended significands); one-bit product normalization; addends ordered by a \
             32-bit {exponent, significand} comparison; the smaller one shifted right by up to \
             26 into a 28-bit frame {carry, 24 bits, guard, round, sticky} (sticky from a mask \
             of the unshifted significand); one 28-bit adder (subtraction as ~(~x + y)); \
             leading-zero normalization; the round-to-nearest-even increment added to the \
             packed {exponent, fraction} code."
                .to_string(),
        ];
        Fp16MacStreaming::spec(self, cfg, sem, &ACC_TEXT)
    }
}

/// Evaluates the combinational [`Fp16MacCore`] on `(acc, a, b)` triples in rust-hdl's
/// simulator (one settle per triple); returns each `acc + a·b`.
pub fn simulate_core(triples: &[(u32, u16, u16)]) -> Result<Vec<u32>> {
    let mut uut = Fp16MacCore::new();
    uut.connect_all();
    let mut out = Vec::with_capacity(triples.len());
    for &(acc, a, b) in triples {
        uut.acc.next = bits(acc as u64);
        uut.a.next = bits(a as u64);
        uut.b.next = bits(b as u64);
        settle(&mut uut)?;
        out.push(uut.y.val().to_u64() as u32);
    }
    Ok(out)
}

impl PeRtl for Fp16MacRtl {
    fn id(&self) -> &'static str {
        "fp16mac"
    }
    fn summary(&self) -> &'static str {
        "FP16 x FP16 exact product accumulated into an FP32 register, one round to nearest \
         even per add; the BitMoD baseline"
    }
    fn configs(&self) -> Vec<RtlConfig> {
        vec![RtlConfig::new("fp16", "ieee", 0)]
    }
    fn module_name(&self, cfg: &RtlConfig) -> String {
        format!("pelab_fp16mac_{}_{}", cfg.format, policy_tag(&cfg.policy))
    }
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule> {
        validate(self, cfg)?;
        emit_block(&mut Fp16MacStreaming::new(), &self.spec(cfg))
    }
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        validate(self, cfg)?;
        Fp16MacStreaming::new().stream(&self.module_name(cfg), rows)
    }
}
