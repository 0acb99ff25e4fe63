//! The single-path FP32 adder of the accumulating PEs: two unpacked addends in, the FP32 sum
//! rounded once (nearest even) out.
//!
//! [`Fp32Add`] chains:
//! - [`Fp32Align`]: the larger addend `x` (by the caller's magnitude comparison) and the
//!   smaller one `y` shifted right by the exponent difference (clamped to 26) into a 28-bit
//!   frame `{carry, 24-bit significand, guard, round, sticky}`.
//! - [`SigAddSub`]: one 28-bit adder, `x + y`, or `x - y = ~(~x + y)`.
//! - [`Fp32AddNorm`]: a sum without carry shifts left by its leading-zero count (a greedy
//!   shifter, 16, 8, 4, 2, 1).
//! - [`Fp32AddPack`]: the truncated `{exponent field, fraction}` code and its round bits; a
//!   carry shifts right by one.
//! - [`RoundNe`]: round to nearest even by adding the increment to the code (a carry out of the
//!   fraction moves into the exponent field).
//! - [`Fp32AddPick`]: the settled result that needs no addition, the exact zero sum (whose sign
//!   is `sign(a) AND sign(b)`: +0 except (-0) + (-0)), or the signed rounded code.
//!
//! Two build options add the logic that general operands need and a PE's operand ranges may
//! make unnecessary:
//! - `subnormals`: results may be subnormal. The normalization is clamped to `ex - 1`, so that
//!   the exponent never drops below the subnormal exponent; when the clamp binds, the hidden bit
//!   stays clear and the exponent field is 0. A zero sum is told from the whole sum. Without
//!   the option every nonzero sum normalizes to a leading one, which alone tells a zero sum.
//! - `overflow`: a sum may round past the largest finite value; an exponent field of 255 or
//!   more gives the signed Inf. Without the option there is no overflow check.
//!
//! The options are constants in the emitted Verilog; synthesis removes the logic they disable.

use super::{Fp32Align, RoundNe, SigAddSub};
use crate::k;
use rust_hdl::prelude::*;

/// Leading-zero normalization of the 27 bits below the carry, optionally clamped to `ex - 1`:
/// `norm = s_lo << t` with `t = min(leading zeros, ex - 1)` (at most 31), or `t` the leading
/// zeros when unclamped.
///
/// Greedy stages shift by 16, 8, 4, 2 and 1. A stage shifts when its top bits are zero and the
/// remaining budget `ex - 1 - (shifts so far)` is at least its size: the budget is either
/// known to be large (`free`: at least twice the stage, so every later stage fits; always so
/// when unclamped) or its binary digit for the stage decides. The stages taken are the binary
/// digits of `t`.
#[derive(LogicBlock)]
pub struct Fp32AddNorm {
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
    clamp: Constant<Bit>,
    one8: Constant<Bits<8>>,
    big: Constant<Bits<8>>,
    m16: Constant<Bits<8>>,
    m8: Constant<Bits<8>>,
    m4: Constant<Bits<8>>,
    m2: Constant<Bits<8>>,
    m1: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,
    top16: Constant<Bits<27>>,
    top8: Constant<Bits<27>>,
    top4: Constant<Bits<27>>,
    top2: Constant<Bits<27>>,
    top1: Constant<Bits<27>>,
}

impl Fp32AddNorm {
    /// Builds the normalizer; `clamp` limits the shift to `ex - 1`.
    pub fn new(clamp: bool) -> Self {
        // The stage that shifts by n tests the n top bits of the 27.
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
            clamp: Constant::new(clamp),
            one8: k(1),
            big: k(0xE0),
            m16: k(16),
            m8: k(8),
            m4: k(4),
            m2: k(2),
            m1: k(1),
            zero8: k(0),
            top16: top(16),
            top8: top(8),
            top4: top(4),
            top2: top(2),
            top1: top(1),
        }
    }
}

impl Logic for Fp32AddNorm {
    #[hdl_gen]
    fn update(&mut self) {
        self.b.next = self.ex.val() - self.one8.val();
        self.b16.next = (self.b.val() & self.m16.val()).any();
        self.b8.next = (self.b.val() & self.m8.val()).any();
        self.b4.next = (self.b.val() & self.m4.val()).any();
        self.b2.next = (self.b.val() & self.m2.val()).any();
        self.b1.next = (self.b.val() & self.m1.val()).any();
        // free: the remaining budget is at least twice this stage's shift.
        self.f16.next = !self.clamp.val() | (self.b.val() & self.big.val()).any();
        self.c16.next =
            !(self.s_lo.val() & self.top16.val()).any() & (self.f16.val() | self.b16.val());
        if self.c16.val() {
            self.x16.next = self.s_lo.val() << self.m16.val();
            self.l16.next = self.m16.val();
        } else {
            self.x16.next = self.s_lo.val();
            self.l16.next = self.zero8.val();
        }
        self.f8.next = self.f16.val() | (self.b16.val() & !self.c16.val());
        self.c8.next = !(self.x16.val() & self.top8.val()).any() & (self.f8.val() | self.b8.val());
        if self.c8.val() {
            self.x8.next = self.x16.val() << self.m8.val();
            self.l8.next = self.m8.val();
        } else {
            self.x8.next = self.x16.val();
            self.l8.next = self.zero8.val();
        }
        self.f4.next = self.f8.val() | (self.b8.val() & !self.c8.val());
        self.c4.next = !(self.x8.val() & self.top4.val()).any() & (self.f4.val() | self.b4.val());
        if self.c4.val() {
            self.x4.next = self.x8.val() << self.m4.val();
            self.l4.next = self.m4.val();
        } else {
            self.x4.next = self.x8.val();
            self.l4.next = self.zero8.val();
        }
        self.f2.next = self.f4.val() | (self.b4.val() & !self.c4.val());
        self.c2.next = !(self.x4.val() & self.top2.val()).any() & (self.f2.val() | self.b2.val());
        if self.c2.val() {
            self.x2.next = self.x4.val() << self.m2.val();
            self.l2.next = self.m2.val();
        } else {
            self.x2.next = self.x4.val();
            self.l2.next = self.zero8.val();
        }
        self.f1.next = self.f2.val() | (self.b2.val() & !self.c2.val());
        self.c1.next = !(self.x2.val() & self.top1.val()).any() & (self.f1.val() | self.b1.val());
        if self.c1.val() {
            self.norm.next = self.x2.val() << self.m1.val();
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
pub struct Fp32AddPack {
    /// The sum in the frame.
    pub s: Signal<In, Bits<28>>,
    /// Its low 27 bits shifted left by `t`.
    pub norm: Signal<In, Bits<27>>,
    /// The normalization shift.
    pub t: Signal<In, Bits<8>>,
    /// Effective exponent of frame bit 26.
    pub ex: Signal<In, Bits<8>>,
    /// The truncated code `{exponent field, fraction}` (field 0 for a subnormal).
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
    hidden: Signal<Local, Bit>,
    norm28z: Signal<Local, Bits<28>>,
    n: Signal<Local, Bits<28>>,
    e: Signal<Local, Bits<8>>,
    field: Signal<Local, Bits<8>>,
    frac: Signal<Local, Bits<23>>,
    e32: Signal<Local, Bits<32>>,
    frac32: Signal<Local, Bits<32>>,
    subnormals: Constant<Bit>,
    n_top: Constant<Bits<28>>,
    n_lsb: Constant<Bits<28>>,
    n_rb: Constant<Bits<28>>,
    n_st: Constant<Bits<28>>,
    s_off: Constant<Bits<32>>,
    one8: Constant<Bits<8>>,
    zero8: Constant<Bits<8>>,
    sh1: Constant<Bits<5>>,
    sh23: Constant<Bits<5>>,
}

impl Fp32AddPack {
    /// Builds the packing stage; `subnormals`: a normalized sum may lack its leading one.
    pub fn new(subnormals: bool) -> Self {
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
            hidden: Default::default(),
            norm28z: Default::default(),
            n: Default::default(),
            e: Default::default(),
            field: Default::default(),
            frac: Default::default(),
            e32: Default::default(),
            frac32: Default::default(),
            subnormals: Constant::new(subnormals),
            n_top: k(1 << 27),
            n_lsb: k(1 << 4),
            n_rb: k(1 << 3),
            n_st: k(0b111),
            s_off: k(4),
            one8: k(1),
            zero8: k(0),
            sh1: k(1),
            sh23: k(23),
        }
    }
}

impl Logic for Fp32AddPack {
    #[hdl_gen]
    fn update(&mut self) {
        // A 28-bit value whose bit 27 is the hidden bit: with a carry the sum itself (exponent
        // ex + 1), else the normalized low bits (exponent ex - t, or a subnormal when the
        // clamped shift leaves bit 27 clear).
        self.carry.next = (self.s.val() & self.n_top.val()).any();
        self.norm28z.next = bit_cast::<28, 27>(self.norm.val());
        if self.carry.val() {
            self.n.next = self.s.val();
            self.e.next = self.ex.val() + self.one8.val();
        } else {
            self.n.next = self.norm28z.val() << self.sh1.val();
            self.e.next = self.ex.val() - self.t.val();
        }
        // Without subnormal results, only a zero sum lacks the leading one.
        self.hidden.next = (self.n.val() & self.n_top.val()).any();
        if self.subnormals.val() {
            self.zero.next = !self.s.val().any();
        } else {
            self.zero.next = !self.hidden.val();
        }
        // A subnormal (hidden bit clear) has exponent field 0.
        if self.hidden.val() | !self.subnormals.val() {
            self.field.next = self.e.val();
        } else {
            self.field.next = self.zero8.val();
        }
        self.frac.next = self.n.val().get_bits::<23>(self.s_off.val().index());
        self.lsb.next = (self.n.val() & self.n_lsb.val()).any();
        self.rb.next = (self.n.val() & self.n_rb.val()).any();
        self.st.next = (self.n.val() & self.n_st.val()).any();
        // The packed code; [`RoundNe`] adds the increment, and a carry out of the fraction
        // moves into the exponent field by itself.
        self.e32.next = bit_cast::<32, 8>(self.field.val());
        self.frac32.next = bit_cast::<32, 23>(self.frac.val());
        self.code.next = (self.e32.val() << self.sh23.val()) | self.frac32.val();
    }
}

/// The result multiplexer after the rounder: settled result, signed zero, Inf on overflow, or
/// the signed rounded code.
#[derive(LogicBlock)]
pub struct Fp32AddPick {
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
    overflow: Constant<Bit>,
    zero32: Constant<Bits<32>>,
    s_sign: Constant<Bits<32>>,
    s_inf: Constant<Bits<32>>,
}

impl Fp32AddPick {
    /// Builds the multiplexer; `overflow`: a rounded code may reach exponent field 255.
    pub fn new(overflow: bool) -> Self {
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
            overflow: Constant::new(overflow),
            zero32: k(0),
            s_sign: k(0x8000_0000),
            s_inf: k(0x7F80_0000),
        }
    }
}

impl Logic for Fp32AddPick {
    #[hdl_gen]
    fn update(&mut self) {
        // Exponent field 255 or more (the code reaches at most 2^31): overflow to Inf.
        self.ovf.next = self.overflow.val()
            & ((self.code.val() & self.s_sign.val()).any()
                | ((self.code.val() & self.s_inf.val()) == self.s_inf.val()));
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

/// The FP32 adder: `y = a + b` rounded once to nearest even, or the settled result that needs
/// no addition (see the module documentation).
#[derive(LogicBlock)]
pub struct Fp32Add {
    /// Sign of addend a.
    pub sa: Signal<In, Bit>,
    /// Effective exponent of a (field, or 1 for subnormals and zeros).
    pub ea: Signal<In, Bits<8>>,
    /// Significand of a, hidden bit included (0 for subnormals and zeros).
    pub siga: Signal<In, Bits<24>>,
    /// Sign of addend b.
    pub sb: Signal<In, Bit>,
    /// Effective exponent of b.
    pub eb: Signal<In, Bits<8>>,
    /// Significand of b.
    pub sigb: Signal<In, Bits<24>>,
    /// `|b| > |a|`.
    pub swap: Signal<In, Bit>,
    /// The result needs no addition (NaN, Inf, ...).
    pub settled: Signal<In, Bit>,
    /// That result (used when `settled`).
    pub settled_y: Signal<In, Bits<32>>,
    /// The FP32 result.
    pub y: Signal<Out, Bits<32>>,
    align: Fp32Align,
    add: SigAddSub<28, 27>,
    lzn: Fp32AddNorm,
    pack: Fp32AddPack,
    round: RoundNe<32>,
    pick: Fp32AddPick,
}

impl Fp32Add {
    /// Builds the adder. `subnormals`: sums may be subnormal (the normalization clamps at the
    /// subnormal exponent); `overflow`: sums may round past the largest finite value (to Inf).
    pub fn new(subnormals: bool, overflow: bool) -> Self {
        Self {
            sa: Default::default(),
            ea: Default::default(),
            siga: Default::default(),
            sb: Default::default(),
            eb: Default::default(),
            sigb: Default::default(),
            swap: Default::default(),
            settled: Default::default(),
            settled_y: Default::default(),
            y: Default::default(),
            align: Fp32Align::new(),
            add: SigAddSub::new(),
            lzn: Fp32AddNorm::new(subnormals),
            pack: Fp32AddPack::new(subnormals),
            round: RoundNe::new(),
            pick: Fp32AddPick::new(overflow),
        }
    }
}

impl Logic for Fp32Add {
    #[hdl_gen]
    fn update(&mut self) {
        self.align.sa.next = self.sa.val();
        self.align.ea.next = self.ea.val();
        self.align.siga.next = self.siga.val();
        self.align.sb.next = self.sb.val();
        self.align.eb.next = self.eb.val();
        self.align.sigb.next = self.sigb.val();
        self.align.swap.next = self.swap.val();
        self.add.x.next = self.align.x.val();
        self.add.y.next = self.align.y.val();
        self.add.sub.next = self.align.sub.val();
        self.lzn.s_lo.next = self.add.s_lo.val();
        self.lzn.ex.next = self.align.ex.val();
        self.pack.s.next = self.add.s.val();
        self.pack.norm.next = self.lzn.norm.val();
        self.pack.t.next = self.lzn.t.val();
        self.pack.ex.next = self.align.ex.val();
        self.round.code.next = self.pack.code.val();
        self.round.lsb.next = self.pack.lsb.val();
        self.round.rb.next = self.pack.rb.val();
        self.round.st.next = self.pack.st.val();
        self.pick.code.next = self.round.rounded.val();
        self.pick.zero.next = self.pack.zero.val();
        self.pick.sx.next = self.align.sx.val();
        self.pick.zsign.next = self.align.zsign.val();
        self.pick.settled.next = self.settled.val();
        self.pick.settled_y.next = self.settled_y.val();
        self.y.next = self.pick.y.val();
    }
}
