//! The accumulator register of the streaming MACs.

use crate::k;
use rust_hdl::prelude::*;

/// `N`-bit accumulator register. At each rising edge of `clock` the first matching rule
/// applies: `reset` loads 0, `clear` loads 0, `en` loads `d`; else the register holds. `q` is
/// the register itself.
#[derive(LogicBlock)]
pub struct AccReg<const N: usize> {
    /// Clock; the register samples on its rising edge.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high, highest priority.
    pub reset: Signal<In, Bit>,
    /// Synchronous clear, active high.
    pub clear: Signal<In, Bit>,
    /// Load enable, active high.
    pub en: Signal<In, Bit>,
    /// The next accumulator value.
    pub d: Signal<In, Bits<N>>,
    /// The register.
    pub q: Signal<Out, Bits<N>>,
    state: DFF<Bits<N>>,
    zero: Constant<Bits<N>>,
}

impl<const N: usize> AccReg<N> {
    /// Builds the register.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            en: Default::default(),
            d: Default::default(),
            q: Default::default(),
            state: Default::default(),
            zero: k(0),
        }
    }
}

impl<const N: usize> Default for AccReg<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Logic for AccReg<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.state.clock.next = self.clock.val();
        if self.reset.val() | self.clear.val() {
            self.state.d.next = self.zero.val();
        } else if self.en.val() {
            self.state.d.next = self.d.val();
        } else {
            self.state.d.next = self.state.q.val();
        }
        self.q.next = self.state.q.val();
    }
}
