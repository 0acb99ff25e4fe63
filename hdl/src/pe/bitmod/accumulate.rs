//! The group accumulator's step: align, add with round half up, normalize to 16 signed bits.

use crate::k;
use rust_hdl::prelude::*;

/// One step of the group accumulator (combinational).
///
/// `X = max(Ae, Ep)`. Both operands are sign-extended to 18 bits; the one with the larger
/// exponent (`Am` on a tie) passes, the other goes through the one alignment shifter: it is
/// extended by one bit below its LSB and shifted right arithmetically by `|Ae - Ep|`, so the
/// last bit shifted out (0 for a shift of 0) lands in that extra bit: it is the carry-in `r`
/// of the 18-bit add `S = big + (small >> shift) + r` (round half up). `S` fits 18 bits
/// (`|S| <= 2^15 + 2^16`); it is normalized by the least `k` in 0..=2 for which `S >> k` fits
/// 16 signed bits (`k = 0` when `S[17:15]` agree, 1 when `S[17:16]` do), and `Ae' = X + k`.
#[derive(LogicBlock)]
pub struct BitModAccumulate {
    /// Accumulator mantissa `Am`, 16-bit two's complement.
    pub am: Signal<In, Bits<16>>,
    /// Accumulator exponent `Ae`.
    pub ae: Signal<In, Bits<6>>,
    /// Partial sum `P`, 17-bit two's complement.
    pub p: Signal<In, Bits<17>>,
    /// Partial-sum exponent `Ep`.
    pub ep: Signal<In, Bits<6>>,
    /// The new accumulator mantissa.
    pub am_next: Signal<Out, Bits<16>>,
    /// The new accumulator exponent.
    pub ae_next: Signal<Out, Bits<6>>,
    p_wins: Signal<Local, Bit>,
    x: Signal<Local, Bits<6>>,
    shift: Signal<Local, Bits<6>>,
    am18z: Signal<Local, Bits<18>>,
    am18: Signal<Local, Bits<18>>,
    p18z: Signal<Local, Bits<18>>,
    p18: Signal<Local, Bits<18>>,
    op_big: Signal<Local, Bits<18>>,
    op_small: Signal<Local, Bits<18>>,
    small19: Signal<Local, Bits<19>>,
    small_up: Signal<Local, Bits<19>>,
    flip: Signal<Local, Bits<19>>,
    small_x: Signal<Local, Bits<19>>,
    small_xs: Signal<Local, Bits<19>>,
    small_sh: Signal<Local, Bits<19>>,
    aligned: Signal<Local, Bits<18>>,
    round: Signal<Local, Bit>,
    s0: Signal<Local, Bits<18>>,
    s: Signal<Local, Bits<18>>,
    k0: Signal<Local, Bit>,
    k1: Signal<Local, Bit>,
    one1: Constant<Bits<1>>,
    one6: Constant<Bits<6>>,
    two6: Constant<Bits<6>>,
    one18: Constant<Bits<18>>,
    ones19: Constant<Bits<19>>,
    zero19: Constant<Bits<19>>,
    am_sext: Constant<Bits<18>>,
    p_sext: Constant<Bits<18>>,
}

impl Default for BitModAccumulate {
    fn default() -> Self {
        Self {
            am: Default::default(),
            ae: Default::default(),
            p: Default::default(),
            ep: Default::default(),
            am_next: Default::default(),
            ae_next: Default::default(),
            p_wins: Default::default(),
            x: Default::default(),
            shift: Default::default(),
            am18z: Default::default(),
            am18: Default::default(),
            p18z: Default::default(),
            p18: Default::default(),
            op_big: Default::default(),
            op_small: Default::default(),
            small19: Default::default(),
            small_up: Default::default(),
            flip: Default::default(),
            small_x: Default::default(),
            small_xs: Default::default(),
            small_sh: Default::default(),
            aligned: Default::default(),
            round: Default::default(),
            s0: Default::default(),
            s: Default::default(),
            k0: Default::default(),
            k1: Default::default(),
            one1: k(1),
            one6: k(1),
            two6: k(2),
            one18: k(1),
            ones19: k((1 << 19) - 1),
            zero19: k(0),
            am_sext: k(0b11 << 16),
            p_sext: k(1 << 17),
        }
    }
}

impl Logic for BitModAccumulate {
    #[hdl_gen]
    fn update(&mut self) {
        self.p_wins.next = self.ep.val() > self.ae.val();
        if self.p_wins.val() {
            self.x.next = self.ep.val();
            self.shift.next = self.ep.val() - self.ae.val();
        } else {
            self.x.next = self.ae.val();
            self.shift.next = self.ae.val() - self.ep.val();
        }
        // Sign-extend both operands to 18 bits.
        self.am18z.next = bit_cast::<18, 16>(self.am.val());
        if self.am.val().get_bit(15) {
            self.am18.next = self.am18z.val() | self.am_sext.val();
        } else {
            self.am18.next = self.am18z.val();
        }
        self.p18z.next = bit_cast::<18, 17>(self.p.val());
        if self.p.val().get_bit(16) {
            self.p18.next = self.p18z.val() | self.p_sext.val();
        } else {
            self.p18.next = self.p18z.val();
        }
        if self.p_wins.val() {
            self.op_big.next = self.p18.val();
            self.op_small.next = self.am18.val();
        } else {
            self.op_big.next = self.am18.val();
            self.op_small.next = self.p18.val();
        }
        // {small, 0} >> shift, arithmetic: ((v ^ sign) >> shift) ^ sign.
        self.small19.next = bit_cast::<19, 18>(self.op_small.val());
        self.small_up.next = self.small19.val() << self.one1.val();
        if self.op_small.val().get_bit(17) {
            self.flip.next = self.ones19.val();
        } else {
            self.flip.next = self.zero19.val();
        }
        self.small_x.next = self.small_up.val() ^ self.flip.val();
        self.small_xs.next = self.small_x.val() >> self.shift.val();
        self.small_sh.next = self.small_xs.val() ^ self.flip.val();
        self.aligned.next = self.small_sh.val().get_bits::<18>(1);
        self.round.next = self.small_sh.val().get_bit(0);
        self.s0.next = self.op_big.val() + self.aligned.val();
        if self.round.val() {
            self.s.next = self.s0.val() + self.one18.val();
        } else {
            self.s.next = self.s0.val();
        }
        // Normalize to 16 signed bits.
        self.k1.next = self.s.val().get_bit(17) == self.s.val().get_bit(16);
        self.k0.next = self.k1.val() & (self.s.val().get_bit(16) == self.s.val().get_bit(15));
        if self.k0.val() {
            self.am_next.next = self.s.val().get_bits::<16>(0);
            self.ae_next.next = self.x.val();
        } else if self.k1.val() {
            self.am_next.next = self.s.val().get_bits::<16>(1);
            self.ae_next.next = self.x.val() + self.one6.val();
        } else {
            self.am_next.next = self.s.val().get_bits::<16>(2);
            self.ae_next.next = self.x.val() + self.two6.val();
        }
    }
}
