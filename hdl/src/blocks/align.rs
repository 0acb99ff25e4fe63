//! Operand order and alignment of an FP32 addition: the smaller significand shifted into the
//! adder frame of the larger one.

use crate::k;
use rust_hdl::prelude::*;

/// Order and alignment of two FP32 addends `a` and `b` (sign, effective exponent, 24-bit
/// significand) in the 28-bit adder frame `{carry, 24-bit significand, guard, round, sticky}`.
///
/// `swap` (the caller's magnitude comparison, `|b| > |a|`) picks the larger addend `x`; the
/// smaller one, `y`, shifts right by the exponent difference, clamped to 26 (from there on every
/// bit of it lies below the round bit). The sticky bit is an AND-OR of the unshifted smaller
/// significand against a mask decoded from the shift, in parallel with the shifter.
#[derive(LogicBlock)]
pub struct Fp32Align {
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
    /// `|b| > |a|`: b is the larger addend.
    pub swap: Signal<In, Bit>,
    /// Sign of the larger addend (the sign of a nonzero sum).
    pub sx: Signal<Out, Bit>,
    /// Effective subtraction (the signs differ).
    pub sub: Signal<Out, Bit>,
    /// Sign of an exact zero sum: `sa AND sb`.
    pub zsign: Signal<Out, Bit>,
    /// Effective exponent of the larger addend, the exponent of frame bit 26.
    pub ex: Signal<Out, Bits<8>>,
    /// The larger addend in the frame: `{0, significand, 000}`.
    pub x: Signal<Out, Bits<28>>,
    /// The smaller one aligned to it: `{0, shifted significand and guard, round, sticky}`.
    pub y: Signal<Out, Bits<28>>,
    ey: Signal<Local, Bits<8>>,
    xsig: Signal<Local, Bits<24>>,
    ysig: Signal<Local, Bits<24>>,
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

impl Fp32Align {
    /// Builds the alignment stage.
    pub fn new() -> Self {
        Self {
            sa: Default::default(),
            ea: Default::default(),
            siga: Default::default(),
            sb: Default::default(),
            eb: Default::default(),
            sigb: Default::default(),
            swap: Default::default(),
            sx: Default::default(),
            sub: Default::default(),
            zsign: Default::default(),
            ex: Default::default(),
            x: Default::default(),
            y: Default::default(),
            ey: Default::default(),
            xsig: Default::default(),
            ysig: Default::default(),
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

impl Default for Fp32Align {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for Fp32Align {
    #[hdl_gen]
    fn update(&mut self) {
        self.sub.next = self.sa.val() ^ self.sb.val();
        self.zsign.next = self.sa.val() & self.sb.val();
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
