//! L-Mul RTL: a float multiply approximated by one integer add of the exponent+mantissa fields.
//!
//! The datapath has two combinational stages:
//! - [`LMulFront`] decodes both operands (sign, zero/subnormal, NaN, Inf), settles the special
//!   results and computes `r = (a & (S-1)) + (b & (S-1)) - K` in W+1 bits (two's complement);
//! - [`LMulBack`] picks the result: special, underflow (signed zero), overflow (policy) or
//!   `sign | r`.
//!
//! [`LMul0`] joins them (combinational), [`LMul1`] adds an output register (latency 1) and
//! [`LMul2`] also registers the front stage's outputs (latency 2; the adder and the result
//! selection sit in different clock cycles).
//!
//! Widths are const generics: `W` is the format width and `W1 = W + 1` (stable Rust cannot
//! write `W + 1` in a type); the format's patterns are constants given to the constructors.

use crate::emit::ModuleSpec;
use crate::format::{
    describe, exp_mask, inf_code, nan_masks, overflow_result, Format, Kind, Overflow,
};
use crate::k;
use crate::rtl::{self, RtlConfig};
use crate::Result;
use rust_hdl::prelude::*;

/// The constants of one L-Mul configuration, derived from the format and the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LMulParams {
    /// Operand and result format.
    pub format: Format,
    /// Overflow policy.
    pub overflow: Overflow,
}

impl LMulParams {
    /// Checks that the policy exists for the format (kinds without NaN only saturate).
    pub fn new(format: Format, overflow: Overflow) -> Result<LMulParams> {
        rtl::check_float_policy("lmul", &format, overflow)?;
        Ok(LMulParams { format, overflow })
    }
    /// l(M): the offset exponent of the L-Mul correction term.
    pub fn l(&self) -> u32 {
        match self.format.m {
            m if m <= 3 => m,
            4 => 3,
            _ => 4,
        }
    }
    /// K = (bias << M) - 2^(M - l(M)).
    pub fn k(&self) -> u64 {
        let f = &self.format;
        ((f.bias as u64) << f.m) - (1u64 << (f.m - self.l()))
    }
}

/// Calls `$body` with `W`/`W1` bound to the width of `$fmt` (a macro because the widths are
/// const generics).
#[macro_export]
#[doc(hidden)]
macro_rules! with_lmul_width {
    ($fmt:expr, |$w:ident, $w1:ident| $body:expr) => {
        match $fmt.width() {
            4 => {
                const $w: usize = 4;
                const $w1: usize = 5;
                $body
            }
            6 => {
                const $w: usize = 6;
                const $w1: usize = 7;
                $body
            }
            8 => {
                const $w: usize = 8;
                const $w1: usize = 9;
                $body
            }
            16 => {
                const $w: usize = 16;
                const $w1: usize = 17;
                $body
            }
            32 => {
                const $w: usize = 32;
                const $w1: usize = 33;
                $body
            }
            w => Err($crate::Error::new(format!("lmul: no RTL for width {w}"))),
        }
    };
}

rtl::two_stage_product! {
    pe: LMulRtl (
        "lmul",
        "L-Mul",
        "L-Mul: one integer add of the exponent+mantissa fields, special cases, saturate/ieee \
         overflow; 0, 1 or 2 register stages"
    ),
    policies: [Overflow::Saturate, Overflow::Ieee], widths: with_lmul_width,
    blocks: LMul0, LMul1, LMul2 <W, W1>,
    params: LMulParams, operands: Bits<W>,
    stages: LMulFront<W, W1>, then LMulBack<W, W1>,
    registers after "the front stage": { sign => sign_reg: Bit, special => special_reg: Bit,
        special_y => special_y_reg: Bits<W>, r => r_reg: Bits<W1> },
}

impl LMulRtl {
    fn spec(&self, cfg: &RtlConfig, p: &LMulParams) -> ModuleSpec {
        let f = &p.format;
        let w = f.width() as usize;
        let mut sem = vec![
            format!("Format {}.", describe(f)),
            format!(
                "y = L-Mul(a, b): sign = sa ^ sb always; r = (a & 0x{:X}) + (b & 0x{:X}) - K \
                 with K = (bias << M) - 2^(M - l(M)) = 0x{:X} (l(M) = {}), computed as a \
                 {}-bit two's-complement integer; the mantissa carry runs into the exponent \
                 field, there is no normalization and no rounding.",
                f.mag_mask(),
                f.mag_mask(),
                p.k(),
                p.l(),
                w + 1
            ),
        ];
        sem.extend(rtl::nan_input_text(f));
        if f.kind == Kind::Ieee {
            sem.push(
                "Inf x (zero or subnormal) gives the canonical NaN; Inf x anything else gives \
                 sign | Inf."
                    .into(),
            );
        }
        sem.push(
            "An input with exponent field 0 (zero or subnormal) gives sign | 0 (inputs are \
             flushed)."
                .into(),
        );
        sem.push(format!(
            "Underflow r < 0x{:X} (result exponent field <= 0) gives sign | 0.",
            1u64 << f.m
        ));
        sem.push(format!(
            "Overflow r > 0x{:X} (largest finite magnitude): {}.",
            f.max_finite(),
            rtl::overflow_text(f, p.overflow)
        ));
        sem.push("Otherwise y = sign | r.".into());
        rtl::product_spec(
            self,
            cfg,
            f,
            sem,
            "registers after the adder stage and on the output",
        )
    }
}

/// Front stage: decode and the exponent+mantissa add.
#[derive(LogicBlock)]
pub struct LMulFront<const W: usize, const W1: usize> {
    /// Operand a.
    pub a: Signal<In, Bits<W>>,
    /// Operand b.
    pub b: Signal<In, Bits<W>>,
    /// Sign of the product (sa ^ sb).
    pub sign: Signal<Out, Bit>,
    /// The result is settled by the special rules (NaN, Inf, zero or subnormal input).
    pub special: Signal<Out, Bit>,
    /// That settled result (valid when `special`).
    pub special_y: Signal<Out, Bits<W>>,
    /// r = |a| + |b| - K in W+1 bits, two's complement.
    pub r: Signal<Out, Bits<W1>>,
    ma: Signal<Local, Bits<W>>,
    mb: Signal<Local, Bits<W>>,
    za: Signal<Local, Bit>,
    zb: Signal<Local, Bit>,
    nan_a: Signal<Local, Bit>,
    nan_b: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    sign_w: Signal<Local, Bits<W>>,
    ma1: Signal<Local, Bits<W1>>,
    mb1: Signal<Local, Bits<W1>>,
    sign_mask: Constant<Bits<W>>,
    abs_mask: Constant<Bits<W>>,
    exp_mask: Constant<Bits<W>>,
    nan_sel: Constant<Bits<W>>,
    nan_any: Constant<Bits<W>>,
    inf_code: Constant<Bits<W>>,
    nan_code: Constant<Bits<W>>,
    zero: Constant<Bits<W>>,
    k_offset: Constant<Bits<W1>>,
}

impl<const W: usize, const W1: usize> LMulFront<W, W1> {
    /// Builds the stage for `p` (`W` must be the format width and `W1 = W + 1`).
    pub fn new(p: &LMulParams) -> Self {
        assert_eq!(W as u32, p.format.width(), "W must be the format width");
        assert_eq!(W1, W + 1, "W1 must be W + 1");
        let f = &p.format;
        let (nan_sel, nan_any) = nan_masks(&p.format);
        Self {
            a: Default::default(),
            b: Default::default(),
            sign: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            r: Default::default(),
            ma: Default::default(),
            mb: Default::default(),
            za: Default::default(),
            zb: Default::default(),
            nan_a: Default::default(),
            nan_b: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            nan: Default::default(),
            sign_w: Default::default(),
            ma1: Default::default(),
            mb1: Default::default(),
            sign_mask: k(f.sign_bit()),
            abs_mask: k(f.mag_mask()),
            exp_mask: k(exp_mask(f)),
            nan_sel: k(nan_sel),
            nan_any: k(nan_any),
            inf_code: k(inf_code(&p.format)),
            nan_code: k(f.canonical_nan().unwrap_or(0)),
            zero: k(0),
            k_offset: k(p.k()),
        }
    }
}

impl<const W: usize, const W1: usize> Logic for LMulFront<W, W1> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ma.next = self.a.val() & self.abs_mask.val();
        self.mb.next = self.b.val() & self.abs_mask.val();
        self.sign.next = (self.a.val() & self.sign_mask.val()).any()
            ^ (self.b.val() & self.sign_mask.val()).any();
        if self.sign.val() {
            self.sign_w.next = self.sign_mask.val();
        } else {
            self.sign_w.next = self.zero.val();
        }
        self.za.next = !(self.a.val() & self.exp_mask.val()).any();
        self.zb.next = !(self.b.val() & self.exp_mask.val()).any();
        self.nan_a.next = ((self.a.val() & self.nan_sel.val()) == self.nan_sel.val())
            & (self.a.val() & self.nan_any.val()).any();
        self.nan_b.next = ((self.b.val() & self.nan_sel.val()) == self.nan_sel.val())
            & (self.b.val() & self.nan_any.val()).any();
        self.inf_a.next = self.ma.val() == self.inf_code.val();
        self.inf_b.next = self.mb.val() == self.inf_code.val();
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
        self.ma1.next = bit_cast::<W1, W>(self.ma.val());
        self.mb1.next = bit_cast::<W1, W>(self.mb.val());
        self.r.next = (self.ma1.val() + self.mb1.val()) - self.k_offset.val();
    }
}

/// Back stage: underflow, overflow and the result multiplexer.
#[derive(LogicBlock)]
pub struct LMulBack<const W: usize, const W1: usize> {
    /// Sign of the product.
    pub sign: Signal<In, Bit>,
    /// The result is settled by the special rules.
    pub special: Signal<In, Bit>,
    /// That settled result.
    pub special_y: Signal<In, Bits<W>>,
    /// r from the front stage.
    pub r: Signal<In, Bits<W1>>,
    /// The product code.
    pub y: Signal<Out, Bits<W>>,
    neg: Signal<Local, Bit>,
    under: Signal<Local, Bit>,
    over: Signal<Local, Bit>,
    sign_w: Signal<Local, Bits<W>>,
    r_lo: Signal<Local, Bits<W>>,
    sign_mask: Constant<Bits<W>>,
    zero: Constant<Bits<W>>,
    ovf_code: Constant<Bits<W>>,
    ovf_sign: Constant<Bits<W>>,
    r_neg: Constant<Bits<W1>>,
    min_normal: Constant<Bits<W1>>,
    max_finite: Constant<Bits<W1>>,
}

impl<const W: usize, const W1: usize> LMulBack<W, W1> {
    /// Builds the stage for `p` (`W` must be the format width and `W1 = W + 1`).
    pub fn new(p: &LMulParams) -> Self {
        assert_eq!(W as u32, p.format.width(), "W must be the format width");
        assert_eq!(W1, W + 1, "W1 must be W + 1");
        let f = &p.format;
        let (ovf_code, signed) = overflow_result(&p.format, p.overflow);
        Self {
            sign: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            r: Default::default(),
            y: Default::default(),
            neg: Default::default(),
            under: Default::default(),
            over: Default::default(),
            sign_w: Default::default(),
            r_lo: Default::default(),
            sign_mask: k(f.sign_bit()),
            zero: k(0),
            ovf_code: k(ovf_code),
            ovf_sign: k(if signed { f.sign_bit() } else { 0 }),
            r_neg: k(1 << W),
            min_normal: k(1 << f.m),
            max_finite: k(f.max_finite()),
        }
    }
}

impl<const W: usize, const W1: usize> Logic for LMulBack<W, W1> {
    #[hdl_gen]
    fn update(&mut self) {
        if self.sign.val() {
            self.sign_w.next = self.sign_mask.val();
        } else {
            self.sign_w.next = self.zero.val();
        }
        self.neg.next = (self.r.val() & self.r_neg.val()).any();
        self.under.next = self.neg.val() | (self.r.val() < self.min_normal.val());
        self.over.next = !self.neg.val() & (self.r.val() > self.max_finite.val());
        self.r_lo.next = self.r.val().get_bits::<W>(0);
        if self.special.val() {
            self.y.next = self.special_y.val();
        } else if self.under.val() {
            self.y.next = self.sign_w.val();
        } else if self.over.val() {
            self.y.next = self.ovf_code.val() | (self.sign_w.val() & self.ovf_sign.val());
        } else {
            self.y.next = self.r_lo.val() | self.sign_w.val();
        }
    }
}
