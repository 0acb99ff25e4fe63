//! One lane of a compute cycle: its front (FP16 decode, lane exponent, significand) and its
//! alignment to the cycle's largest lane exponent.

use super::params::GUARD_BITS;
use crate::k;
use rust_hdl::prelude::*;

/// The front of one lane (combinational): FP16 decode and the lane exponent.
///
/// `e` is the exponent field (1 when it is 0), `m` the 11-bit significand with its hidden bit
/// (0 when the field is 0). A present term gives `le = e + exp` (at least 1) and the
/// significand with the guard bits appended, `{m, 000}`; an absent term gives `le = 0` and a
/// zero significand.
#[derive(LogicBlock)]
pub struct BitModLane {
    /// FP16 activation.
    pub act: Signal<In, Bits<16>>,
    /// Term code `{present, sign, exp[1:0]}`.
    pub term: Signal<In, Bits<4>>,
    /// Lane exponent `le` (0 for an absent term).
    pub le: Signal<Out, Bits<6>>,
    /// The activation's exponent field is 31 (Inf or NaN).
    pub special: Signal<Out, Bit>,
    /// `{m, 000}` for a present term, else 0.
    pub sig: Signal<Out, Bits<14>>,
    /// The lane value is negative: activation sign XOR term sign.
    pub neg: Signal<Out, Bit>,
    field: Signal<Local, Bits<5>>,
    frac: Signal<Local, Bits<10>>,
    field6: Signal<Local, Bits<6>>,
    e6: Signal<Local, Bits<6>>,
    frac14: Signal<Local, Bits<14>>,
    frac_g: Signal<Local, Bits<14>>,
    sig14: Signal<Local, Bits<14>>,
    present: Signal<Local, Bit>,
    texp: Signal<Local, Bits<2>>,
    texp6: Signal<Local, Bits<6>>,
    sum6: Signal<Local, Bits<6>>,
    one6: Constant<Bits<6>>,
    zero6: Constant<Bits<6>>,
    guard: Constant<Bits<2>>,
    hidden14: Constant<Bits<14>>,
    zero14: Constant<Bits<14>>,
}

impl Default for BitModLane {
    fn default() -> Self {
        Self {
            act: Default::default(),
            term: Default::default(),
            le: Default::default(),
            special: Default::default(),
            sig: Default::default(),
            neg: Default::default(),
            field: Default::default(),
            frac: Default::default(),
            field6: Default::default(),
            e6: Default::default(),
            frac14: Default::default(),
            frac_g: Default::default(),
            sig14: Default::default(),
            present: Default::default(),
            texp: Default::default(),
            texp6: Default::default(),
            sum6: Default::default(),
            one6: k(1),
            zero6: k(0),
            guard: k(GUARD_BITS as u64),
            hidden14: k(1 << (10 + GUARD_BITS)),
            zero14: k(0),
        }
    }
}

impl Logic for BitModLane {
    #[hdl_gen]
    fn update(&mut self) {
        self.field.next = self.act.val().get_bits::<5>(10);
        self.frac.next = self.act.val().get_bits::<10>(0);
        self.special.next = self.field.val().all();
        self.field6.next = bit_cast::<6, 5>(self.field.val());
        if self.field.val().any() {
            self.e6.next = self.field6.val();
        } else {
            self.e6.next = self.one6.val();
        }
        self.frac14.next = bit_cast::<14, 10>(self.frac.val());
        self.frac_g.next = self.frac14.val() << self.guard.val();
        if self.field.val().any() {
            self.sig14.next = self.frac_g.val() | self.hidden14.val();
        } else {
            self.sig14.next = self.frac_g.val();
        }
        self.present.next = self.term.val().get_bit(3);
        self.neg.next = self.act.val().get_bit(15) ^ self.term.val().get_bit(2);
        self.texp.next = self.term.val().get_bits::<2>(0);
        self.texp6.next = bit_cast::<6, 2>(self.texp.val());
        self.sum6.next = self.e6.val() + self.texp6.val();
        if self.present.val() {
            self.le.next = self.sum6.val();
            self.sig.next = self.sig14.val();
        } else {
            self.le.next = self.zero6.val();
            self.sig.next = self.zero14.val();
        }
    }
}

/// The alignment of one lane (combinational): `{m, 000} >> (E - le)` (a logical shift: the
/// bits shifted out are dropped, shifts of 14 or more give 0), zero-extended to 17 bits and
/// negated when `neg`.
#[derive(LogicBlock)]
pub struct BitModAlign {
    /// `{m, 000}` (0 for an absent term).
    pub sig: Signal<In, Bits<14>>,
    /// Negate the lane.
    pub neg: Signal<In, Bit>,
    /// The lane exponent `le`.
    pub le: Signal<In, Bits<6>>,
    /// `E`, the largest lane exponent of the cycle.
    pub emax: Signal<In, Bits<6>>,
    /// Signed aligned lane value, 17-bit two's complement.
    pub lane: Signal<Out, Bits<17>>,
    shift_by: Signal<Local, Bits<6>>,
    aligned: Signal<Local, Bits<14>>,
    a17: Signal<Local, Bits<17>>,
    na17: Signal<Local, Bits<17>>,
    zero17: Constant<Bits<17>>,
}

impl Default for BitModAlign {
    fn default() -> Self {
        Self {
            sig: Default::default(),
            neg: Default::default(),
            le: Default::default(),
            emax: Default::default(),
            lane: Default::default(),
            shift_by: Default::default(),
            aligned: Default::default(),
            a17: Default::default(),
            na17: Default::default(),
            zero17: k(0),
        }
    }
}

impl Logic for BitModAlign {
    #[hdl_gen]
    fn update(&mut self) {
        self.shift_by.next = self.emax.val() - self.le.val();
        self.aligned.next = self.sig.val() >> self.shift_by.val();
        self.a17.next = bit_cast::<17, 14>(self.aligned.val());
        self.na17.next = self.zero17.val() - self.a17.val();
        if self.neg.val() {
            self.lane.next = self.na17.val();
        } else {
            self.lane.next = self.a17.val();
        }
    }
}
