//! Exact significand multiply built from rust-hdl's 16 x 16 multiplier.

use super::low_mask;
use crate::k;
use rust_hdl::prelude::*;

/// Exact `S x S -> P` significand multiplier built from rust-hdl's 16 x 16 multiply.
///
/// `S <= 16`: one multiplier on the zero-extended operands. `16 < S <= 32` (`wide`): each
/// operand splits into a low and a high 16-bit half and the four partial products are added in
/// 64 bits (`ll + ((lh + hl) << 16) + (hh << 32)`). The constant `wide` picks the structure.
#[derive(LogicBlock)]
pub struct FpSigMul<const S: usize, const P: usize> {
    /// Significand of a.
    pub a: Signal<In, Bits<S>>,
    /// Significand of b.
    pub b: Signal<In, Bits<S>>,
    /// Exact product.
    pub p: Signal<Out, Bits<P>>,
    a32: Signal<Local, Bits<32>>,
    b32: Signal<Local, Bits<32>>,
    al: Signal<Local, Bits<16>>,
    ah: Signal<Local, Bits<16>>,
    bl: Signal<Local, Bits<16>>,
    bh: Signal<Local, Bits<16>>,
    ll: Signal<Local, Bits<32>>,
    lh: Signal<Local, Bits<32>>,
    hl: Signal<Local, Bits<32>>,
    hh: Signal<Local, Bits<32>>,
    ll64: Signal<Local, Bits<64>>,
    lh64: Signal<Local, Bits<64>>,
    hl64: Signal<Local, Bits<64>>,
    hh64: Signal<Local, Bits<64>>,
    mid: Signal<Local, Bits<64>>,
    mid_sh: Signal<Local, Bits<64>>,
    hh_sh: Signal<Local, Bits<64>>,
    low_sum: Signal<Local, Bits<64>>,
    p64: Signal<Local, Bits<64>>,
    unused_p64_hi: Signal<Local, Bit>,
    wide: Constant<Bit>,
    off16: Constant<Bits<32>>,
    sh16: Constant<Bits<8>>,
    sh32: Constant<Bits<8>>,
    zero32: Constant<Bits<32>>,
    zero64: Constant<Bits<64>>,
    p64_hi: Constant<Bits<64>>,
}

impl<const S: usize, const P: usize> FpSigMul<S, P> {
    /// Builds the multiplier (`P = 2S`, `S <= 32`).
    pub fn new() -> Self {
        assert!(S <= 32 && P == 2 * S, "FpSigMul needs S <= 32 and P = 2S");
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            a32: Default::default(),
            b32: Default::default(),
            al: Default::default(),
            ah: Default::default(),
            bl: Default::default(),
            bh: Default::default(),
            ll: Default::default(),
            lh: Default::default(),
            hl: Default::default(),
            hh: Default::default(),
            ll64: Default::default(),
            lh64: Default::default(),
            hl64: Default::default(),
            hh64: Default::default(),
            mid: Default::default(),
            mid_sh: Default::default(),
            hh_sh: Default::default(),
            low_sum: Default::default(),
            p64: Default::default(),
            unused_p64_hi: Default::default(),
            wide: Constant::new(S > 16),
            off16: k(16),
            sh16: k(16),
            sh32: k(32),
            zero32: k(0),
            zero64: k(0),
            p64_hi: k(!low_mask(P)),
        }
    }
}

impl<const S: usize, const P: usize> Default for FpSigMul<S, P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const S: usize, const P: usize> Logic for FpSigMul<S, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.a32.next = bit_cast::<32, S>(self.a.val());
        self.b32.next = bit_cast::<32, S>(self.b.val());
        self.al.next = self.a32.val().get_bits::<16>(0);
        self.ah.next = self.a32.val().get_bits::<16>(self.off16.val().index());
        self.bl.next = self.b32.val().get_bits::<16>(0);
        self.bh.next = self.b32.val().get_bits::<16>(self.off16.val().index());
        self.ll.next = self.al.val() * self.bl.val();
        if self.wide.val() {
            self.lh.next = self.al.val() * self.bh.val();
            self.hl.next = self.ah.val() * self.bl.val();
            self.hh.next = self.ah.val() * self.bh.val();
            self.ll64.next = bit_cast::<64, 32>(self.ll.val());
            self.lh64.next = bit_cast::<64, 32>(self.lh.val());
            self.hl64.next = bit_cast::<64, 32>(self.hl.val());
            self.hh64.next = bit_cast::<64, 32>(self.hh.val());
            self.mid.next = self.lh64.val() + self.hl64.val();
            self.mid_sh.next = self.mid.val() << self.sh16.val();
            self.hh_sh.next = self.hh64.val() << self.sh32.val();
            self.low_sum.next = self.ll64.val() + self.mid_sh.val();
            self.p64.next = self.low_sum.val() + self.hh_sh.val();
            self.p.next = bit_cast::<P, 64>(self.p64.val());
        } else {
            self.lh.next = self.zero32.val();
            self.hl.next = self.zero32.val();
            self.hh.next = self.zero32.val();
            self.ll64.next = self.zero64.val();
            self.lh64.next = self.zero64.val();
            self.hl64.next = self.zero64.val();
            self.hh64.next = self.zero64.val();
            self.mid.next = self.zero64.val();
            self.mid_sh.next = self.zero64.val();
            self.hh_sh.next = self.zero64.val();
            self.low_sum.next = self.zero64.val();
            self.p64.next = self.zero64.val();
            self.p.next = bit_cast::<P, 32>(self.ll.val());
        }
        self.unused_p64_hi.next = (self.p64.val() & self.p64_hi.val()).any();
    }
}
