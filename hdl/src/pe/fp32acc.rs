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
//! - [`Fp32AccAlign`] shifts the smaller significand right by the exponent difference (clamped
//!   to 26) into a 28-bit frame `{carry, 24-bit significand, guard, round, sticky}`; the sticky
//!   bit is an AND-OR of the unshifted significand against a mask decoded from the shift.
//! - The shared 28-bit adder [`SigAddSub`] (as in `fp16mac`): `x + y`, or `x - y = ~(~x + y)`.
//! - [`Fp32AccNorm`] normalizes a sum without carry by its leading-zero count, clamped to
//!   `ex - 1` so that the exponent never drops below the subnormal exponent: a greedy shifter
//!   (16, 8, 4, 2, 1) that takes a stage when the top bits are zero and the remaining budget
//!   allows it. When the clamp binds, the hidden bit stays clear: the result is subnormal, and
//!   exact (a subnormal sum needs exponents at most one apart, so nothing was shifted out).
//! - [`Fp32AccPack`] packs the code `((e - 1) << 23) + significand` (hidden bit included, so a
//!   hidden bit of 0 gives exponent field 0); the shared [`RoundNe`] rounds to nearest even by
//!   adding the increment (a carry out of the fraction moves into the exponent);
//!   [`Fp32AccPick`] detects overflow (an exponent field of 255 or more gives the signed Inf)
//!   and muxes in the settled result and the exact zero sum, whose sign is `sign(acc) AND sign(x)` (+0 except (-0) + (-0)).
//!
//! [`Fp32AccStreaming`] adds the shared accumulator register [`AccReg`] with synchronous `reset`, `clear` and
//! `en` (priorities of `pelab_sim::fp32acc::Fp32Acc::clock`); `acc` is the register.
//!
//! Leaf blocks hold the logic and the composite blocks hold only connections, as in
//! `fp16mac`; every bit of every signal is read, as `verilator -Wall` demands.

use crate::blocks::{AccReg, RoundNe, SigAddSub};
use crate::emit::{emit_block, ModuleSpec, Port, RtlModule};
use crate::k;
use crate::rtl::{policy_tag, validate, PeRtl, RtlConfig};
use crate::sim::{check_rows, settle, tick};
use crate::Result;
use rust_hdl::prelude::*;

/// Operand unpacking, magnitude order and the results that need no addition.
#[derive(LogicBlock)]
pub struct Fp32AccUnpack {
    /// FP32 accumulator.
    pub acc: Signal<In, Bits<32>>,
    /// FP32 addend.
    pub x: Signal<In, Bits<32>>,
    /// Sign of the operand with the larger magnitude (the sign of a nonzero sum).
    pub sx: Signal<Out, Bit>,
    /// Effective subtraction (the signs differ).
    pub sub: Signal<Out, Bit>,
    /// Effective exponent of the larger operand (field, or 1 for subnormals and zeros).
    pub ex: Signal<Out, Bits<8>>,
    /// Effective exponent of the smaller operand.
    pub ey: Signal<Out, Bits<8>>,
    /// Significand of the larger operand (hidden bit 0 for subnormals and zeros).
    pub xsig: Signal<Out, Bits<24>>,
    /// Significand of the smaller operand.
    pub ysig: Signal<Out, Bits<24>>,
    /// Sign of an exact zero sum: `sign(acc) AND sign(x)`.
    pub zsign: Signal<Out, Bit>,
    /// The result needs no addition (NaN or Inf).
    pub settled: Signal<Out, Bit>,
    /// That result (valid when `settled`).
    pub settled_y: Signal<Out, Bits<32>>,
    ma: Signal<Local, Bits<23>>,
    mb: Signal<Local, Bits<23>>,
    fa: Signal<Local, Bits<8>>,
    fb: Signal<Local, Bits<8>>,
    sa: Signal<Local, Bit>,
    sb: Signal<Local, Bit>,
    a_ez: Signal<Local, Bit>,
    b_ez: Signal<Local, Bit>,
    a_emax: Signal<Local, Bit>,
    b_emax: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    ma24: Signal<Local, Bits<24>>,
    mb24: Signal<Local, Bits<24>>,
    siga: Signal<Local, Bits<24>>,
    sigb: Signal<Local, Bits<24>>,
    ea: Signal<Local, Bits<8>>,
    eb: Signal<Local, Bits<8>>,
    maga: Signal<Local, Bits<31>>,
    magb: Signal<Local, Bits<31>>,
    swap: Signal<Local, Bit>,
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
            sx: Default::default(),
            sub: Default::default(),
            ex: Default::default(),
            ey: Default::default(),
            xsig: Default::default(),
            ysig: Default::default(),
            zsign: Default::default(),
            settled: Default::default(),
            settled_y: Default::default(),
            ma: Default::default(),
            mb: Default::default(),
            fa: Default::default(),
            fb: Default::default(),
            sa: Default::default(),
            sb: Default::default(),
            a_ez: Default::default(),
            b_ez: Default::default(),
            a_emax: Default::default(),
            b_emax: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            nan: Default::default(),
            ma24: Default::default(),
            mb24: Default::default(),
            siga: Default::default(),
            sigb: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            maga: Default::default(),
            magb: Default::default(),
            swap: Default::default(),
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
        self.zsign.next = self.sa.val() & self.sb.val();
        self.sub.next = self.sa.val() ^ self.sb.val();
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
        if self.swap.val() {
            self.sx.next = self.sb.val();
            self.ex.next = self.eb.val();
            self.ey.next = self.ea.val();
            self.xsig.next = self.sigb.val();
            self.ysig.next = self.siga.val();
        } else {
            self.sx.next = self.sa.val();
            self.ex.next = self.ea.val();
            self.ey.next = self.eb.val();
            self.xsig.next = self.siga.val();
            self.ysig.next = self.sigb.val();
        }
    }
}

/// Alignment of the smaller significand to the larger one in the 28-bit frame.
#[derive(LogicBlock)]
pub struct Fp32AccAlign {
    /// Effective exponent of the larger operand.
    pub ex: Signal<In, Bits<8>>,
    /// Effective exponent of the smaller operand (`ey <= ex`).
    pub ey: Signal<In, Bits<8>>,
    /// Significand of the larger operand.
    pub xsig: Signal<In, Bits<24>>,
    /// Significand of the smaller operand.
    pub ysig: Signal<In, Bits<24>>,
    /// The larger operand in the frame: `{0, significand, 000}`.
    pub x: Signal<Out, Bits<28>>,
    /// The smaller one aligned to it: `{0, shifted significand and guard, round, sticky}`.
    pub y: Signal<Out, Bits<28>>,
    d: Signal<Local, Bits<8>>,
    dc: Signal<Local, Bits<5>>,
    y26z: Signal<Local, Bits<26>>,
    y26: Signal<Local, Bits<26>>,
    yw: Signal<Local, Bits<26>>,
    ge2: Signal<Local, Bit>,
    sm: Signal<Local, Bits<5>>,
    ones_sh: Signal<Local, Bits<24>>,
    smask: Signal<Local, Bits<24>>,
    sticky: Signal<Local, Bit>,
    x28z: Signal<Local, Bits<28>>,
    y28z: Signal<Local, Bits<28>>,
    y28s: Signal<Local, Bits<28>>,
    d_max: Constant<Bits<8>>,
    dc_max: Constant<Bits<5>>,
    one5: Constant<Bits<5>>,
    two5: Constant<Bits<5>>,
    sh1: Constant<Bits<5>>,
    sh2: Constant<Bits<5>>,
    sh3: Constant<Bits<5>>,
    ones24: Constant<Bits<24>>,
    zero24: Constant<Bits<24>>,
    bit0: Constant<Bits<28>>,
}

impl Fp32AccAlign {
    /// Builds the alignment stage.
    pub fn new() -> Self {
        Self {
            ex: Default::default(),
            ey: Default::default(),
            xsig: Default::default(),
            ysig: Default::default(),
            x: Default::default(),
            y: Default::default(),
            d: Default::default(),
            dc: Default::default(),
            y26z: Default::default(),
            y26: Default::default(),
            yw: Default::default(),
            ge2: Default::default(),
            sm: Default::default(),
            ones_sh: Default::default(),
            smask: Default::default(),
            sticky: Default::default(),
            x28z: Default::default(),
            y28z: Default::default(),
            y28s: Default::default(),
            d_max: k(26),
            dc_max: k(26),
            one5: k(1),
            two5: k(2),
            sh1: k(1),
            sh2: k(2),
            sh3: k(3),
            ones24: k(0xFF_FFFF),
            zero24: k(0),
            bit0: k(1),
        }
    }
}

impl Default for Fp32AccAlign {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccAlign {
    #[hdl_gen]
    fn update(&mut self) {
        self.d.next = self.ex.val() - self.ey.val();
        // From a shift of 26 on, every bit of y lies below the round bit.
        if self.d.val() > self.d_max.val() {
            self.dc.next = self.dc_max.val();
        } else {
            self.dc.next = self.d.val().get_bits::<5>(0);
        }
        self.y26z.next = bit_cast::<26, 24>(self.ysig.val());
        self.y26.next = self.y26z.val() << self.sh2.val();
        self.yw.next = self.y26.val() >> self.dc.val();
        // Sticky: the dc - 2 lowest bits of y land below the round bit; masked straight from
        // the unshifted significand.
        self.ge2.next = self.dc.val() > self.one5.val();
        self.sm.next = self.dc.val() - self.two5.val();
        self.ones_sh.next = self.ones24.val() << self.sm.val();
        if self.ge2.val() {
            self.smask.next = !self.ones_sh.val();
        } else {
            self.smask.next = self.zero24.val();
        }
        self.sticky.next = (self.ysig.val() & self.smask.val()).any();
        self.x28z.next = bit_cast::<28, 24>(self.xsig.val());
        self.x.next = self.x28z.val() << self.sh3.val();
        self.y28z.next = bit_cast::<28, 26>(self.yw.val());
        self.y28s.next = self.y28z.val() << self.sh1.val();
        if self.sticky.val() {
            self.y.next = self.y28s.val() | self.bit0.val();
        } else {
            self.y.next = self.y28s.val();
        }
    }
}

/// Leading-zero normalization of the 27 bits below the carry, clamped to `ex - 1`: `norm =
/// s_lo << t` with `t = min(leading zeros, ex - 1)` (at most 31).
///
/// Greedy stages shift by 16, 8, 4, 2 and 1. A stage shifts when its top bits are zero and the
/// remaining budget `ex - 1 - (shifts so far)` is at least its size: the budget is either
/// known to be large (`free`: at least twice the stage, so every later stage fits) or its
/// binary digit for the stage decides. The stages taken are the binary digits of `t`.
#[derive(LogicBlock)]
pub struct Fp32AccNorm {
    /// The sum below its carry bit.
    pub s_lo: Signal<In, Bits<27>>,
    /// Effective exponent of frame bit 26 (at least 1).
    pub ex: Signal<In, Bits<8>>,
    /// `s_lo << t`.
    pub norm: Signal<Out, Bits<27>>,
    /// The shift `t`.
    pub t: Signal<Out, Bits<8>>,
    b: Signal<Local, Bits<8>>,
    f16: Signal<Local, Bit>,
    f8: Signal<Local, Bit>,
    f4: Signal<Local, Bit>,
    f2: Signal<Local, Bit>,
    f1: Signal<Local, Bit>,
    b16: Signal<Local, Bit>,
    b8: Signal<Local, Bit>,
    b4: Signal<Local, Bit>,
    b2: Signal<Local, Bit>,
    b1: Signal<Local, Bit>,
    c16: Signal<Local, Bit>,
    c8: Signal<Local, Bit>,
    c4: Signal<Local, Bit>,
    c2: Signal<Local, Bit>,
    c1: Signal<Local, Bit>,
    x16: Signal<Local, Bits<27>>,
    x8: Signal<Local, Bits<27>>,
    x4: Signal<Local, Bits<27>>,
    x2: Signal<Local, Bits<27>>,
    l16: Signal<Local, Bits<8>>,
    l8: Signal<Local, Bits<8>>,
    l4: Signal<Local, Bits<8>>,
    l2: Signal<Local, Bits<8>>,
    l1: Signal<Local, Bits<8>>,
    one8: Constant<Bits<8>>,
    big: Constant<Bits<8>>,
    m16: Constant<Bits<8>>,
    m8: Constant<Bits<8>>,
    m4: Constant<Bits<8>>,
    m2: Constant<Bits<8>>,
    m1: Constant<Bits<8>>,
    top16: Constant<Bits<27>>,
    top8: Constant<Bits<27>>,
    top4: Constant<Bits<27>>,
    top2: Constant<Bits<27>>,
    top1: Constant<Bits<27>>,
    sh16: Constant<Bits<5>>,
    sh8: Constant<Bits<5>>,
    sh4: Constant<Bits<5>>,
    sh2: Constant<Bits<5>>,
    sh1: Constant<Bits<5>>,
    zero8: Constant<Bits<8>>,
}

impl Fp32AccNorm {
    /// Builds the normalizer.
    pub fn new() -> Self {
        let top = |n: u32| -> Constant<Bits<27>> { k(((1u64 << n) - 1) << (27 - n)) };
        Self {
            s_lo: Default::default(),
            ex: Default::default(),
            norm: Default::default(),
            t: Default::default(),
            b: Default::default(),
            f16: Default::default(),
            f8: Default::default(),
            f4: Default::default(),
            f2: Default::default(),
            f1: Default::default(),
            b16: Default::default(),
            b8: Default::default(),
            b4: Default::default(),
            b2: Default::default(),
            b1: Default::default(),
            c16: Default::default(),
            c8: Default::default(),
            c4: Default::default(),
            c2: Default::default(),
            c1: Default::default(),
            x16: Default::default(),
            x8: Default::default(),
            x4: Default::default(),
            x2: Default::default(),
            l16: Default::default(),
            l8: Default::default(),
            l4: Default::default(),
            l2: Default::default(),
            l1: Default::default(),
            one8: k(1),
            big: k(0xE0),
            m16: k(16),
            m8: k(8),
            m4: k(4),
            m2: k(2),
            m1: k(1),
            top16: top(16),
            top8: top(8),
            top4: top(4),
            top2: top(2),
            top1: top(1),
            sh16: k(16),
            sh8: k(8),
            sh4: k(4),
            sh2: k(2),
            sh1: k(1),
            zero8: k(0),
        }
    }
}

impl Default for Fp32AccNorm {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccNorm {
    #[hdl_gen]
    fn update(&mut self) {
        self.b.next = self.ex.val() - self.one8.val();
        self.b16.next = (self.b.val() & self.m16.val()).any();
        self.b8.next = (self.b.val() & self.m8.val()).any();
        self.b4.next = (self.b.val() & self.m4.val()).any();
        self.b2.next = (self.b.val() & self.m2.val()).any();
        self.b1.next = (self.b.val() & self.m1.val()).any();
        // free: the remaining budget is at least twice this stage's shift.
        self.f16.next = (self.b.val() & self.big.val()).any();
        self.c16.next =
            !(self.s_lo.val() & self.top16.val()).any() & (self.f16.val() | self.b16.val());
        if self.c16.val() {
            self.x16.next = self.s_lo.val() << self.sh16.val();
            self.l16.next = self.m16.val();
        } else {
            self.x16.next = self.s_lo.val();
            self.l16.next = self.zero8.val();
        }
        self.f8.next = self.f16.val() | (self.b16.val() & !self.c16.val());
        self.c8.next = !(self.x16.val() & self.top8.val()).any() & (self.f8.val() | self.b8.val());
        if self.c8.val() {
            self.x8.next = self.x16.val() << self.sh8.val();
            self.l8.next = self.m8.val();
        } else {
            self.x8.next = self.x16.val();
            self.l8.next = self.zero8.val();
        }
        self.f4.next = self.f8.val() | (self.b8.val() & !self.c8.val());
        self.c4.next = !(self.x8.val() & self.top4.val()).any() & (self.f4.val() | self.b4.val());
        if self.c4.val() {
            self.x4.next = self.x8.val() << self.sh4.val();
            self.l4.next = self.m4.val();
        } else {
            self.x4.next = self.x8.val();
            self.l4.next = self.zero8.val();
        }
        self.f2.next = self.f4.val() | (self.b4.val() & !self.c4.val());
        self.c2.next = !(self.x4.val() & self.top2.val()).any() & (self.f2.val() | self.b2.val());
        if self.c2.val() {
            self.x2.next = self.x4.val() << self.sh2.val();
            self.l2.next = self.m2.val();
        } else {
            self.x2.next = self.x4.val();
            self.l2.next = self.zero8.val();
        }
        self.f1.next = self.f2.val() | (self.b2.val() & !self.c2.val());
        self.c1.next = !(self.x2.val() & self.top1.val()).any() & (self.f1.val() | self.b1.val());
        if self.c1.val() {
            self.norm.next = self.x2.val() << self.sh1.val();
            self.l1.next = self.m1.val();
        } else {
            self.norm.next = self.x2.val();
            self.l1.next = self.zero8.val();
        }
        self.t.next =
            ((self.l16.val() | self.l8.val()) | (self.l4.val() | self.l2.val())) | self.l1.val();
    }
}

/// Normalization and packing before the rounder: the truncated FP32 code and its round bits.
#[derive(LogicBlock)]
pub struct Fp32AccPack {
    /// The sum in the frame.
    pub s: Signal<In, Bits<28>>,
    /// Its low 27 bits shifted left by `t`.
    pub norm: Signal<In, Bits<27>>,
    /// The normalization shift.
    pub t: Signal<In, Bits<8>>,
    /// Effective exponent of frame bit 26.
    pub ex: Signal<In, Bits<8>>,
    /// The truncated code `((e - 1) << 23) + significand`.
    pub code: Signal<Out, Bits<32>>,
    /// The sum is an exact zero.
    pub zero: Signal<Out, Bit>,
    /// Least significant kept bit.
    pub lsb: Signal<Out, Bit>,
    /// Round bit.
    pub rb: Signal<Out, Bit>,
    /// Sticky bit.
    pub st: Signal<Out, Bit>,
    carry: Signal<Local, Bit>,
    norm28z: Signal<Local, Bits<28>>,
    n: Signal<Local, Bits<28>>,
    et: Signal<Local, Bits<8>>,
    eb: Signal<Local, Bits<8>>,
    sig: Signal<Local, Bits<24>>,
    e32: Signal<Local, Bits<32>>,
    sig32: Signal<Local, Bits<32>>,
    n_top: Constant<Bits<28>>,
    n_lsb: Constant<Bits<28>>,
    n_rb: Constant<Bits<28>>,
    n_st: Constant<Bits<28>>,
    s_off: Constant<Bits<32>>,
    one8: Constant<Bits<8>>,
    sh1: Constant<Bits<5>>,
    sh23: Constant<Bits<5>>,
}

impl Fp32AccPack {
    /// Builds the packing stage.
    pub fn new() -> Self {
        Self {
            s: Default::default(),
            norm: Default::default(),
            t: Default::default(),
            ex: Default::default(),
            code: Default::default(),
            zero: Default::default(),
            lsb: Default::default(),
            rb: Default::default(),
            st: Default::default(),
            carry: Default::default(),
            norm28z: Default::default(),
            n: Default::default(),
            et: Default::default(),
            eb: Default::default(),
            sig: Default::default(),
            e32: Default::default(),
            sig32: Default::default(),
            n_top: k(1 << 27),
            n_lsb: k(1 << 4),
            n_rb: k(1 << 3),
            n_st: k(0b111),
            s_off: k(4),
            one8: k(1),
            sh1: k(1),
            sh23: k(23),
        }
    }
}

impl Default for Fp32AccPack {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccPack {
    #[hdl_gen]
    fn update(&mut self) {
        // A 28-bit value whose bit 27 is the hidden bit: with a carry the sum itself (exponent
        // ex + 1), else the normalized low bits (exponent ex - t, or a subnormal when the
        // clamped shift leaves bit 27 clear). `eb` is the exponent field minus the hidden bit.
        self.carry.next = (self.s.val() & self.n_top.val()).any();
        self.zero.next = !self.s.val().any();
        self.norm28z.next = bit_cast::<28, 27>(self.norm.val());
        self.et.next = self.ex.val() - self.t.val();
        if self.carry.val() {
            self.n.next = self.s.val();
            self.eb.next = self.ex.val();
        } else {
            self.n.next = self.norm28z.val() << self.sh1.val();
            self.eb.next = self.et.val() - self.one8.val();
        }
        self.sig.next = self.n.val().get_bits::<24>(self.s_off.val().index());
        self.lsb.next = (self.n.val() & self.n_lsb.val()).any();
        self.rb.next = (self.n.val() & self.n_rb.val()).any();
        self.st.next = (self.n.val() & self.n_st.val()).any();
        // Packed code ((e - 1) << 23) + significand with its hidden bit; [`RoundNe`] adds the
        // increment, and a carry out of the fraction moves into the exponent field by itself.
        self.e32.next = bit_cast::<32, 8>(self.eb.val());
        self.sig32.next = bit_cast::<32, 24>(self.sig.val());
        self.code.next = (self.e32.val() << self.sh23.val()) + self.sig32.val();
    }
}

/// The result multiplexer after the rounder: settled result, signed zero, Inf on overflow, or
/// the signed rounded code.
#[derive(LogicBlock)]
pub struct Fp32AccPick {
    /// The rounded code.
    pub code: Signal<In, Bits<32>>,
    /// The sum is an exact zero.
    pub zero: Signal<In, Bit>,
    /// Sign of a nonzero sum.
    pub sx: Signal<In, Bit>,
    /// Sign of an exact zero sum.
    pub zsign: Signal<In, Bit>,
    /// The result needs no addition.
    pub settled: Signal<In, Bit>,
    /// That result.
    pub settled_y: Signal<In, Bits<32>>,
    /// The FP32 result.
    pub y: Signal<Out, Bits<32>>,
    ovf: Signal<Local, Bit>,
    sign32: Signal<Local, Bits<32>>,
    zero32: Constant<Bits<32>>,
    s_sign: Constant<Bits<32>>,
    s_inf: Constant<Bits<32>>,
}

impl Fp32AccPick {
    /// Builds the multiplexer.
    pub fn new() -> Self {
        Self {
            code: Default::default(),
            zero: Default::default(),
            sx: Default::default(),
            zsign: Default::default(),
            settled: Default::default(),
            settled_y: Default::default(),
            y: Default::default(),
            ovf: Default::default(),
            sign32: Default::default(),
            zero32: k(0),
            s_sign: k(0x8000_0000),
            s_inf: k(0x7F80_0000),
        }
    }
}

impl Default for Fp32AccPick {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccPick {
    #[hdl_gen]
    fn update(&mut self) {
        // Exponent field 255 or more (the code reaches at most 2^31): overflow to Inf.
        self.ovf.next = (self.code.val() & self.s_sign.val()).any()
            | ((self.code.val() & self.s_inf.val()) == self.s_inf.val());
        if self.sx.val() {
            self.sign32.next = self.s_sign.val();
        } else {
            self.sign32.next = self.zero32.val();
        }
        if self.settled.val() {
            self.y.next = self.settled_y.val();
        } else if self.zero.val() {
            if self.zsign.val() {
                self.y.next = self.s_sign.val();
            } else {
                self.y.next = self.zero32.val();
            }
        } else if self.ovf.val() {
            self.y.next = self.sign32.val() | self.s_inf.val();
        } else {
            self.y.next = self.sign32.val() | self.code.val();
        }
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
    align: Fp32AccAlign,
    add: SigAddSub<28, 27>,
    lzn: Fp32AccNorm,
    pack: Fp32AccPack,
    round: RoundNe<32>,
    pick: Fp32AccPick,
}

impl Fp32AccCore {
    /// Builds the datapath.
    pub fn new() -> Self {
        Self {
            acc: Default::default(),
            x: Default::default(),
            y: Default::default(),
            unpack: Fp32AccUnpack::new(),
            align: Fp32AccAlign::new(),
            add: SigAddSub::new(),
            lzn: Fp32AccNorm::new(),
            pack: Fp32AccPack::new(),
            round: RoundNe::new(),
            pick: Fp32AccPick::new(),
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
        self.align.ex.next = self.unpack.ex.val();
        self.align.ey.next = self.unpack.ey.val();
        self.align.xsig.next = self.unpack.xsig.val();
        self.align.ysig.next = self.unpack.ysig.val();
        self.add.x.next = self.align.x.val();
        self.add.y.next = self.align.y.val();
        self.add.sub.next = self.unpack.sub.val();
        self.lzn.s_lo.next = self.add.s_lo.val();
        self.lzn.ex.next = self.unpack.ex.val();
        self.pack.s.next = self.add.s.val();
        self.pack.norm.next = self.lzn.norm.val();
        self.pack.t.next = self.lzn.t.val();
        self.pack.ex.next = self.unpack.ex.val();
        self.round.code.next = self.pack.code.val();
        self.round.lsb.next = self.pack.lsb.val();
        self.round.rb.next = self.pack.rb.val();
        self.round.st.next = self.pack.st.val();
        self.pick.code.next = self.round.rounded.val();
        self.pick.zero.next = self.pack.zero.val();
        self.pick.sx.next = self.unpack.sx.val();
        self.pick.zsign.next = self.unpack.zsign.val();
        self.pick.settled.next = self.unpack.settled.val();
        self.pick.settled_y.next = self.unpack.settled_y.val();
        self.y.next = self.pick.y.val();
    }
}

/// The streaming accumulator: [`Fp32AccCore`] plus the FP32 register (latency 1).
///
/// At each rising edge of `clock`, the first matching rule applies: `reset` loads +0, `clear`
/// loads +0 (that cycle's `x` is not accumulated), `en` loads `acc + x`; else the register
/// holds.
#[derive(LogicBlock)]
pub struct Fp32AccStreaming {
    /// Clock; the accumulator samples on its rising edge.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high, highest priority: the accumulator becomes +0.
    pub reset: Signal<In, Bit>,
    /// Synchronous clear, active high: the accumulator becomes +0 (a new sum starts).
    pub clear: Signal<In, Bit>,
    /// Accumulate enable, active high.
    pub en: Signal<In, Bit>,
    /// FP32 addend.
    pub x: Signal<In, Bits<32>>,
    /// The accumulator register, FP32.
    pub acc: Signal<Out, Bits<32>>,
    core: Fp32AccCore,
    acc_reg: AccReg<32>,
}

impl Fp32AccStreaming {
    /// Builds the accumulator.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            en: Default::default(),
            x: Default::default(),
            acc: Default::default(),
            core: Fp32AccCore::new(),
            acc_reg: AccReg::new(),
        }
    }
}

impl Default for Fp32AccStreaming {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32AccStreaming {
    #[hdl_gen]
    fn update(&mut self) {
        self.acc_reg.clock.next = self.clock.val();
        self.core.acc.next = self.acc_reg.q.val();
        self.core.x.next = self.x.val();
        self.acc_reg.reset.next = self.reset.val();
        self.acc_reg.clear.next = self.clear.val();
        self.acc_reg.en.next = self.en.val();
        self.acc_reg.d.next = self.core.y.val();
        self.acc.next = self.acc_reg.q.val();
    }
}

/// The input ports of the streaming accumulator in port order (`clock` excluded): name and
/// width.
const INPUTS: [(&str, u32); 4] = [("reset", 1), ("clear", 1), ("en", 1), ("x", 32)];

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
             round-to-nearest-even increment added to the packed {exponent, significand} code; \
             overflow to Inf."
                .to_string(),
            "Accumulator register, at each rising edge of clock: reset -> +0, else clear -> +0 \
             (that cycle's x is not accumulated), else en -> acc_next, else hold. The output acc \
             is the register itself."
                .to_string(),
        ];
        let ports = vec![
            Port::input("clock", 1, "clock, rising edge"),
            Port::input(
                "reset",
                1,
                "synchronous reset, active high, highest priority",
            ),
            Port::input("clear", 1, "synchronous clear, active high"),
            Port::input("en", 1, "accumulate enable, active high"),
            Port::input("x", 32, "addend, fp32 code"),
            Port::output("acc", 32, "accumulator register, fp32 code"),
        ];
        ModuleSpec {
            name: self.module_name(cfg),
            pe: "fp32acc".into(),
            config: cfg.pairs(),
            semantics: sem,
            latency: 1,
            timing: "acc includes the addends presented before the rising edge that \
                     accumulated them; no combinational path from any input to acc."
                .into(),
            ports,
        }
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
        check_rows(&self.module_name(cfg), rows, &INPUTS)?;
        let mut uut = Fp32AccStreaming::new();
        uut.connect_all();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            uut.reset.next = r[0] == 1;
            uut.clear.next = r[1] == 1;
            uut.en.next = r[2] == 1;
            uut.x.next = bits(r[3]);
            tick(&mut uut, |u| &mut u.clock)?;
            out.push(vec![uut.acc.val().to_u64()]);
        }
        Ok(out)
    }
}
