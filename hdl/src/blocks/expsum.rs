//! Exponent sum of a float product.

use super::low_mask;
use crate::k;
use rust_hdl::prelude::*;

/// Exponent of the product: `T = (ea - lza) + (eb - lzb) + 1 - bias`, the biased exponent of
/// product bit `P - 1`, in `X`-bit two's complement.
#[derive(LogicBlock)]
pub struct FpExpSum<const X: usize> {
    /// Effective exponent of a.
    pub ea: Signal<In, Bits<X>>,
    /// Effective exponent of b.
    pub eb: Signal<In, Bits<X>>,
    /// Normalization shift of a's significand.
    pub lza: Signal<In, Bits<X>>,
    /// Normalization shift of b's significand.
    pub lzb: Signal<In, Bits<X>>,
    /// The product exponent `T`.
    pub t: Signal<Out, Bits<X>>,
    ea_adj: Signal<Local, Bits<X>>,
    eb_adj: Signal<Local, Bits<X>>,
    t_sum: Signal<Local, Bits<X>>,
    t_off: Constant<Bits<X>>,
}

impl<const X: usize> FpExpSum<X> {
    /// Builds the exponent adder for a format with exponent bias `bias`.
    pub fn new(bias: i32) -> Self {
        Self {
            ea: Default::default(),
            eb: Default::default(),
            lza: Default::default(),
            lzb: Default::default(),
            t: Default::default(),
            ea_adj: Default::default(),
            eb_adj: Default::default(),
            t_sum: Default::default(),
            t_off: k(((1 - bias as i64) as u64) & low_mask(X)),
        }
    }
}

impl<const X: usize> Logic for FpExpSum<X> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ea_adj.next = self.ea.val() - self.lza.val();
        self.eb_adj.next = self.eb.val() - self.lzb.val();
        self.t_sum.next = self.ea_adj.val() + self.eb_adj.val();
        self.t.next = self.t_sum.val() + self.t_off.val();
    }
}
