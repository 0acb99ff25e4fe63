//! Leading-one normalization: leading-zero count and left shift of a significand.

use super::low_mask;
use crate::k;
use rust_hdl::prelude::*;

/// Leading-zero normalization of an `S`-bit significand: `norm = sig << lz` with `lz` the number
/// of leading zeros (`sig` nonzero). Five conditional shifts by 16, 8, 4, 2 and 1; the stages
/// that no count below `S` needs are disabled by constants and removed by synthesis. Each taken
/// shift sets one bit of the count.
#[derive(LogicBlock)]
pub struct FpLeadNorm<const S: usize, const X: usize> {
    /// Significand (hidden bit included); zero gives an unspecified result.
    pub sig: Signal<In, Bits<S>>,
    /// Normalized significand (top bit set).
    pub norm: Signal<Out, Bits<S>>,
    /// Leading zeros of `sig`.
    pub lz: Signal<Out, Bits<X>>,
    c16: Signal<Local, Bit>,
    c8: Signal<Local, Bit>,
    c4: Signal<Local, Bit>,
    c2: Signal<Local, Bit>,
    c1: Signal<Local, Bit>,
    x16: Signal<Local, Bits<S>>,
    x8: Signal<Local, Bits<S>>,
    x4: Signal<Local, Bits<S>>,
    x2: Signal<Local, Bits<S>>,
    l16: Signal<Local, Bits<X>>,
    l8: Signal<Local, Bits<X>>,
    l4: Signal<Local, Bits<X>>,
    l2: Signal<Local, Bits<X>>,
    l1: Signal<Local, Bits<X>>,
    en16: Constant<Bit>,
    en8: Constant<Bit>,
    en4: Constant<Bit>,
    en2: Constant<Bit>,
    en1: Constant<Bit>,
    top16: Constant<Bits<S>>,
    top8: Constant<Bits<S>>,
    top4: Constant<Bits<S>>,
    top2: Constant<Bits<S>>,
    top1: Constant<Bits<S>>,
    sh16: Constant<Bits<5>>,
    sh8: Constant<Bits<5>>,
    sh4: Constant<Bits<5>>,
    sh2: Constant<Bits<5>>,
    sh1: Constant<Bits<5>>,
    w16: Constant<Bits<X>>,
    w8: Constant<Bits<X>>,
    w4: Constant<Bits<X>>,
    w2: Constant<Bits<X>>,
    w1: Constant<Bits<X>>,
    zero_x: Constant<Bits<X>>,
}

impl<const S: usize, const X: usize> FpLeadNorm<S, X> {
    /// Builds the normalizer (`S` in 2..=32; `X` must hold `S - 1`).
    pub fn new() -> Self {
        assert!((2..=32).contains(&S), "significand width 2..=32");
        assert!(S - 1 < 1 << X, "X must hold the leading-zero count");
        // The stage that shifts by n is needed iff a count of n or more can occur (count < S).
        let en = |n: usize| Constant::new(n < S);
        let top = |n: usize| -> Constant<Bits<S>> {
            if n < S {
                k(low_mask(n) << (S - n))
            } else {
                k(0)
            }
        };
        let w = |n: usize| -> Constant<Bits<X>> { k((n as u64) & low_mask(X)) };
        Self {
            sig: Default::default(),
            norm: Default::default(),
            lz: Default::default(),
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
            en16: en(16),
            en8: en(8),
            en4: en(4),
            en2: en(2),
            en1: en(1),
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
            w16: w(16),
            w8: w(8),
            w4: w(4),
            w2: w(2),
            w1: w(1),
            zero_x: k(0),
        }
    }
}

impl<const S: usize, const X: usize> Default for FpLeadNorm<S, X> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const S: usize, const X: usize> Logic for FpLeadNorm<S, X> {
    #[hdl_gen]
    fn update(&mut self) {
        self.c16.next = self.en16.val() & !(self.sig.val() & self.top16.val()).any();
        if self.c16.val() {
            self.x16.next = self.sig.val() << self.sh16.val();
            self.l16.next = self.w16.val();
        } else {
            self.x16.next = self.sig.val();
            self.l16.next = self.zero_x.val();
        }
        self.c8.next = self.en8.val() & !(self.x16.val() & self.top8.val()).any();
        if self.c8.val() {
            self.x8.next = self.x16.val() << self.sh8.val();
            self.l8.next = self.w8.val();
        } else {
            self.x8.next = self.x16.val();
            self.l8.next = self.zero_x.val();
        }
        self.c4.next = self.en4.val() & !(self.x8.val() & self.top4.val()).any();
        if self.c4.val() {
            self.x4.next = self.x8.val() << self.sh4.val();
            self.l4.next = self.w4.val();
        } else {
            self.x4.next = self.x8.val();
            self.l4.next = self.zero_x.val();
        }
        self.c2.next = self.en2.val() & !(self.x4.val() & self.top2.val()).any();
        if self.c2.val() {
            self.x2.next = self.x4.val() << self.sh2.val();
            self.l2.next = self.w2.val();
        } else {
            self.x2.next = self.x4.val();
            self.l2.next = self.zero_x.val();
        }
        self.c1.next = self.en1.val() & !(self.x2.val() & self.top1.val()).any();
        if self.c1.val() {
            self.norm.next = self.x2.val() << self.sh1.val();
            self.l1.next = self.w1.val();
        } else {
            self.norm.next = self.x2.val();
            self.l1.next = self.zero_x.val();
        }
        self.lz.next =
            ((self.l16.val() | self.l8.val()) | (self.l4.val() | self.l2.val())) | self.l1.val();
    }
}
