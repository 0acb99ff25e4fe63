//! Float operand unpack and the special-value (NaN, Inf, zero) decode of a product.

use crate::format::{inf_code, nan_masks, Format};
use crate::k;
use rust_hdl::prelude::*;

/// Operand unpacking: signs, special results, significands and effective exponents.
#[derive(LogicBlock)]
pub struct FpUnpack<const W: usize, const E: usize, const M: usize, const S: usize, const X: usize>
{
    /// Operand a.
    pub a: Signal<In, Bits<W>>,
    /// Operand b.
    pub b: Signal<In, Bits<W>>,
    /// Sign of the product (sa ^ sb).
    pub sign: Signal<Out, Bit>,
    /// The result is settled by the special rules (NaN, Inf or zero input).
    pub special: Signal<Out, Bit>,
    /// That settled result (valid when `special`).
    pub special_y: Signal<Out, Bits<W>>,
    /// Significand of a (hidden bit 0 when the exponent field is 0).
    pub sig_a: Signal<Out, Bits<S>>,
    /// Significand of b.
    pub sig_b: Signal<Out, Bits<S>>,
    /// Effective exponent of a: the field, or 1 when the field is 0.
    pub ea: Signal<Out, Bits<X>>,
    /// Effective exponent of b.
    pub eb: Signal<Out, Bits<X>>,
    ma: Signal<Local, Bits<M>>,
    mb: Signal<Local, Bits<M>>,
    fa: Signal<Local, Bits<E>>,
    fb: Signal<Local, Bits<E>>,
    a_ez: Signal<Local, Bit>,
    b_ez: Signal<Local, Bit>,
    za: Signal<Local, Bit>,
    zb: Signal<Local, Bit>,
    abs_a: Signal<Local, Bits<W>>,
    abs_b: Signal<Local, Bits<W>>,
    nan_a: Signal<Local, Bit>,
    nan_b: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    sign_w: Signal<Local, Bits<W>>,
    fa_x: Signal<Local, Bits<X>>,
    fb_x: Signal<Local, Bits<X>>,
    sa_m: Signal<Local, Bits<S>>,
    sb_m: Signal<Local, Bits<S>>,
    sign_mask: Constant<Bits<W>>,
    abs_mask: Constant<Bits<W>>,
    nan_sel: Constant<Bits<W>>,
    nan_any: Constant<Bits<W>>,
    inf_code: Constant<Bits<W>>,
    nan_code: Constant<Bits<W>>,
    zero: Constant<Bits<W>>,
    m_off: Constant<Bits<32>>,
    hidden: Constant<Bits<S>>,
    one_x: Constant<Bits<X>>,
}

impl<const W: usize, const E: usize, const M: usize, const S: usize, const X: usize>
    FpUnpack<W, E, M, S, X>
{
    /// Builds the unpacker for format `f` (the const generics must be its widths: `W` width,
    /// `E` exponent bits, `M` mantissa bits, `S = M + 1`, `X = E + 2`).
    pub fn new(f: &Format) -> Self {
        assert_eq!(
            (W, E, M, S, X),
            (
                f.width() as usize,
                f.e as usize,
                f.m as usize,
                f.m as usize + 1,
                f.e as usize + 2
            ),
            "const generics (W, E, M, S, X) must be the widths of the format"
        );
        let (nan_sel, nan_any) = nan_masks(f);
        Self {
            a: Default::default(),
            b: Default::default(),
            sign: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            sig_a: Default::default(),
            sig_b: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            ma: Default::default(),
            mb: Default::default(),
            fa: Default::default(),
            fb: Default::default(),
            a_ez: Default::default(),
            b_ez: Default::default(),
            za: Default::default(),
            zb: Default::default(),
            abs_a: Default::default(),
            abs_b: Default::default(),
            nan_a: Default::default(),
            nan_b: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            nan: Default::default(),
            sign_w: Default::default(),
            fa_x: Default::default(),
            fb_x: Default::default(),
            sa_m: Default::default(),
            sb_m: Default::default(),
            sign_mask: k(f.sign_bit()),
            abs_mask: k(f.mag_mask()),
            nan_sel: k(nan_sel),
            nan_any: k(nan_any),
            inf_code: k(inf_code(f)),
            nan_code: k(f.canonical_nan().unwrap_or(0)),
            zero: k(0),
            m_off: k(M as u64),
            hidden: k(1 << M),
            one_x: k(1),
        }
    }
}

impl<const W: usize, const E: usize, const M: usize, const S: usize, const X: usize> Logic
    for FpUnpack<W, E, M, S, X>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.ma.next = self.a.val().get_bits::<M>(0);
        self.mb.next = self.b.val().get_bits::<M>(0);
        self.fa.next = self.a.val().get_bits::<E>(self.m_off.val().index());
        self.fb.next = self.b.val().get_bits::<E>(self.m_off.val().index());
        self.a_ez.next = !self.fa.val().any();
        self.b_ez.next = !self.fb.val().any();
        self.za.next = self.a_ez.val() & !self.ma.val().any();
        self.zb.next = self.b_ez.val() & !self.mb.val().any();
        self.sign.next = (self.a.val() & self.sign_mask.val()).any()
            ^ (self.b.val() & self.sign_mask.val()).any();
        if self.sign.val() {
            self.sign_w.next = self.sign_mask.val();
        } else {
            self.sign_w.next = self.zero.val();
        }
        // Specials.
        self.abs_a.next = self.a.val() & self.abs_mask.val();
        self.abs_b.next = self.b.val() & self.abs_mask.val();
        self.nan_a.next = ((self.a.val() & self.nan_sel.val()) == self.nan_sel.val())
            & (self.a.val() & self.nan_any.val()).any();
        self.nan_b.next = ((self.b.val() & self.nan_sel.val()) == self.nan_sel.val())
            & (self.b.val() & self.nan_any.val()).any();
        self.inf_a.next = self.abs_a.val() == self.inf_code.val();
        self.inf_b.next = self.abs_b.val() == self.inf_code.val();
        self.nan.next = self.nan_a.val()
            | self.nan_b.val()
            | (self.inf_a.val() & self.zb.val())
            | (self.inf_b.val() & self.za.val());
        self.special.next =
            self.nan.val() | self.inf_a.val() | self.inf_b.val() | self.za.val() | self.zb.val();
        if self.nan.val() {
            self.special_y.next = self.nan_code.val();
        } else if self.inf_a.val() | self.inf_b.val() {
            self.special_y.next = self.inf_code.val() | self.sign_w.val();
        } else {
            self.special_y.next = self.sign_w.val();
        }
        // Significands (hidden bit 0 for subnormals) and effective exponents (field, or 1).
        self.fa_x.next = bit_cast::<X, E>(self.fa.val());
        self.fb_x.next = bit_cast::<X, E>(self.fb.val());
        self.sa_m.next = bit_cast::<S, M>(self.ma.val());
        self.sb_m.next = bit_cast::<S, M>(self.mb.val());
        if self.a_ez.val() {
            self.sig_a.next = self.sa_m.val();
        } else {
            self.sig_a.next = self.sa_m.val() | self.hidden.val();
        }
        if self.b_ez.val() {
            self.sig_b.next = self.sb_m.val();
        } else {
            self.sig_b.next = self.sb_m.val() | self.hidden.val();
        }
        if self.a_ez.val() {
            self.ea.next = self.one_x.val();
        } else {
            self.ea.next = self.fa_x.val();
        }
        if self.b_ez.val() {
            self.eb.next = self.one_x.val();
        } else {
            self.eb.next = self.fb_x.val();
        }
    }
}
