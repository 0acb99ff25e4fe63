//! Significand adder of an aligned pair: sum, or difference for effective subtraction.

use rust_hdl::prelude::*;

/// The `N`-bit significand adder: `x + y`, or `x - y = ~(~x + y)` for effective subtraction
/// (`x >= y`, so the difference is never negative). `L = N - 1`.
#[derive(LogicBlock)]
pub struct SigAddSub<const N: usize, const L: usize> {
    /// The larger addend.
    pub x: Signal<In, Bits<N>>,
    /// The smaller addend, aligned.
    pub y: Signal<In, Bits<N>>,
    /// Subtract.
    pub sub: Signal<In, Bit>,
    /// The sum (or difference).
    pub s: Signal<Out, Bits<N>>,
    /// Its low `L` bits (below the carry), for the leading-zero count.
    pub s_lo: Signal<Out, Bits<L>>,
    xs: Signal<Local, Bits<N>>,
    t: Signal<Local, Bits<N>>,
}

impl<const N: usize, const L: usize> SigAddSub<N, L> {
    /// Builds the adder (`L = N - 1`).
    pub fn new() -> Self {
        assert_eq!(L + 1, N, "L must be N - 1");
        Self {
            x: Default::default(),
            y: Default::default(),
            sub: Default::default(),
            s: Default::default(),
            s_lo: Default::default(),
            xs: Default::default(),
            t: Default::default(),
        }
    }
}

impl<const N: usize, const L: usize> Default for SigAddSub<N, L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const L: usize> Logic for SigAddSub<N, L> {
    #[hdl_gen]
    fn update(&mut self) {
        if self.sub.val() {
            self.xs.next = !self.x.val();
        } else {
            self.xs.next = self.x.val();
        }
        self.t.next = self.xs.val() + self.y.val();
        if self.sub.val() {
            self.s.next = !self.t.val();
        } else {
            self.s.next = self.t.val();
        }
        self.s_lo.next = self.s.val().get_bits::<L>(0);
    }
}
