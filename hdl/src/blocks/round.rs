//! Round to nearest, ties to even, on a packed float code.

use crate::k;
use rust_hdl::prelude::*;

/// Round to nearest even on a `W`-bit packed code `{exponent, fraction}`: `rounded = code + 1`
/// when the round bit is set and the sticky or the lsb is, else `code`. A carry out of the
/// fraction moves into the exponent field by itself.
#[derive(LogicBlock)]
pub struct RoundNe<const W: usize> {
    /// The truncated code.
    pub code: Signal<In, Bits<W>>,
    /// Least significant kept bit.
    pub lsb: Signal<In, Bit>,
    /// Round (guard) bit, the first bit below the lsb.
    pub rb: Signal<In, Bit>,
    /// Sticky: any bit below the round bit.
    pub st: Signal<In, Bit>,
    /// The rounded code.
    pub rounded: Signal<Out, Bits<W>>,
    inc: Signal<Local, Bit>,
    inc_w: Signal<Local, Bits<W>>,
    one: Constant<Bits<W>>,
    zero: Constant<Bits<W>>,
}

impl<const W: usize> RoundNe<W> {
    /// Builds the rounder.
    pub fn new() -> Self {
        Self {
            code: Default::default(),
            lsb: Default::default(),
            rb: Default::default(),
            st: Default::default(),
            rounded: Default::default(),
            inc: Default::default(),
            inc_w: Default::default(),
            one: k(1),
            zero: k(0),
        }
    }
}

impl<const W: usize> Default for RoundNe<W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const W: usize> Logic for RoundNe<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.inc.next = self.rb.val() & (self.st.val() | self.lsb.val());
        if self.inc.val() {
            self.inc_w.next = self.one.val();
        } else {
            self.inc_w.next = self.zero.val();
        }
        self.rounded.next = self.code.val() + self.inc_w.val();
    }
}
