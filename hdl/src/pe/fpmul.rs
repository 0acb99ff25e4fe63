//! Exact float multiply RTL (`fpmul`): the correctly rounded product of two codes of one format,
//! round to nearest, ties to even, with subnormal inputs and gradual underflow.
//!
//! The datapath has two combinational stages:
//! - [`FpMulFront`] connects four kinds of shared leaf blocks of [`crate::blocks`]: [`FpUnpack`]
//!   splits both operands (sign, exponent field, mantissa, NaN/Inf/zero) and settles the
//!   special results; two
//!   [`FpLeadNorm`] normalize the significands of subnormal operands (leading-zero count and
//!   left shift in one log-depth structure); [`FpSigMul`] multiplies the two `S = M + 1`-bit
//!   significands exactly (`P = 2S` bits); [`FpExpSum`] computes `T`, the biased exponent of
//!   product bit `P - 1` (effective exponents minus the normalization shifts, minus the bias),
//!   as an `X = E + 2`-bit two's complement number.
//! - [`FpMulBack`] normalizes and rounds: with `T >= 1` the product needs at most a one-bit left
//!   shift (both significands are normalized, so the product's top or second bit is set); with
//!   `T <= 0` the result is subnormal and the product shifts right by `min(1 - T, S + 1)`. The
//!   sticky bit is an AND-OR of the product against a mask decoded from the shift amount, in
//!   parallel with the shifter. Round to nearest even increments the packed code
//!   `{exponent, fraction}`, so a mantissa carry moves into the exponent by itself (and a
//!   subnormal that rounds up becomes the smallest normal). Overflow is decided after rounding
//!   (a code above the largest finite one), then the policy and the special results are muxed in.
//!
//! [`FpMul0`] joins the stages (combinational), [`FpMul1`] adds an output register (latency 1)
//! and [`FpMul2`] also registers the front stage's outputs, right after the multiplier
//! (latency 2).
//!
//! rust-hdl multiplies only `Bits<16> x Bits<16> -> Bits<32>`. Significands of up to 16 bits are
//! zero-extended into one such multiplier (synthesis drops the constant bits); fp32's 24-bit
//! significands are split into 16 + 8 bits and the four partial products are added in 64 bits.
//! Which of the two structures a configuration uses is a constant (`wide`) of [`FpSigMul`]; the
//! unused one is constant-folded away by synthesis.
//!
//! Widths are const generics (stable Rust cannot compute `M + 1` in a type): `W` format width,
//! `E` exponent bits, `M` mantissa bits, `S = M + 1`, `P = 2S`, `X = E + 2` and `H` the bits of
//! the right-shift amount (`S + 1` must fit). [`FpMulWidths`] derives them from a format and the
//! constructors check them; [`with_fpmul_widths`](crate::with_fpmul_widths) binds them for a
//! named format.
//!
//! Every bit of every signal is used, as `verilator -Wall` demands; the one exception, the
//! always-zero top of the 64-bit partial-product sum, feeds a signal named `unused_*`, which
//! Verilator's default `--unused-regexp` exempts.

use crate::blocks::{low_mask, FpExpSum, FpLeadNorm, FpSigMul, FpUnpack};
use crate::emit::ModuleSpec;
use crate::format::{describe, overflow_result, Format, Kind, Overflow};
use crate::k;
use crate::rtl::{self, RtlConfig};
use crate::{Error, Result};
use rust_hdl::prelude::*;

/// The widths of one fpmul configuration (the const generics of its blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpMulWidths {
    /// Format width `1 + E + M`.
    pub w: usize,
    /// Exponent field bits.
    pub e: usize,
    /// Mantissa field bits.
    pub m: usize,
    /// Significand bits with the hidden bit, `M + 1`.
    pub s: usize,
    /// Product bits, `2S`.
    pub p: usize,
    /// Exponent arithmetic bits (two's complement), `E + 2`.
    pub x: usize,
    /// Right-shift amount bits: the smallest width that holds `S + 1`.
    pub h: usize,
}

impl FpMulWidths {
    /// The widths for `f`.
    pub fn of(f: &Format) -> FpMulWidths {
        let s = f.m as usize + 1;
        FpMulWidths {
            w: f.width() as usize,
            e: f.e as usize,
            m: f.m as usize,
            s,
            p: 2 * s,
            x: f.e as usize + 2,
            h: (usize::BITS - (s + 1).leading_zeros()) as usize,
        }
    }

    /// Panics unless the const generics of a block equal these widths.
    #[allow(clippy::too_many_arguments)]
    fn check(&self, w: usize, e: usize, m: usize, s: usize, p: usize, x: usize, h: usize) {
        assert_eq!(
            (w, e, m, s, p, x, h),
            (self.w, self.e, self.m, self.s, self.p, self.x, self.h),
            "const generics (W, E, M, S, P, X, H) must be the widths of the format"
        );
    }
}

/// The constants of one fpmul configuration, derived from the format and the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpMulParams {
    /// Operand and result format.
    pub format: Format,
    /// Overflow policy.
    pub overflow: Overflow,
}

impl FpMulParams {
    /// Checks that the policy exists for the format (kinds without NaN only saturate) and that
    /// the datapath covers the format (significands of at most 32 bits, every `T` inside `X`
    /// bits).
    pub fn new(format: Format, overflow: Overflow) -> Result<FpMulParams> {
        rtl::check_float_policy("fpmul", &format, overflow)?;
        let p = FpMulParams { format, overflow };
        let w = FpMulWidths::of(&format);
        let (lo, hi) = p.t_range();
        let half = 1i64 << (w.x - 1);
        if w.s > 32 || lo - 1 < -half || hi >= half || 1 - lo >= half {
            return Err(Error::new(format!(
                "fpmul: no RTL datapath for {} (significand or exponent range too wide)",
                format.name()
            )));
        }
        Ok(p)
    }

    /// Range of `T`, the biased exponent of product bit `P - 1`, over all finite nonzero
    /// operands: `T = ea + eb - lza - lzb - bias + 1` with `ea`, `eb` the effective exponents
    /// (field, or 1 for subnormals) and `lza`, `lzb` the leading zeros of the significands.
    pub fn t_range(&self) -> (i64, i64) {
        let f = &self.format;
        let bias = f.bias as i64;
        let emax = (1i64 << f.e) - 1;
        let m = f.m as i64;
        (2 * (1 - m) - bias + 1, 2 * emax - bias + 1)
    }
}

/// Calls `$body` with `W, E, M, S, P, X, H` bound to the widths of the named format `$fmt`
/// (a macro because the widths are const generics); other formats give an error.
#[macro_export]
#[doc(hidden)]
macro_rules! with_fpmul_widths {
    ($fmt:expr, |$w:ident, $e:ident, $m:ident, $s:ident, $p:ident, $x:ident, $h:ident| $body:expr) => {
        match $fmt.name().as_str() {
            "e4m3" => $crate::with_fpmul_widths!(@bind 8, 4, 3, 4, 8, 6, 3, |$w, $e, $m, $s, $p, $x, $h| $body),
            "e5m2" => $crate::with_fpmul_widths!(@bind 8, 5, 2, 3, 6, 7, 3, |$w, $e, $m, $s, $p, $x, $h| $body),
            "bf16" => $crate::with_fpmul_widths!(@bind 16, 8, 7, 8, 16, 10, 4, |$w, $e, $m, $s, $p, $x, $h| $body),
            "fp16" => $crate::with_fpmul_widths!(@bind 16, 5, 10, 11, 22, 7, 4, |$w, $e, $m, $s, $p, $x, $h| $body),
            "fp32" => $crate::with_fpmul_widths!(@bind 32, 8, 23, 24, 48, 10, 5, |$w, $e, $m, $s, $p, $x, $h| $body),
            "e2m1" => $crate::with_fpmul_widths!(@bind 4, 2, 1, 2, 4, 4, 2, |$w, $e, $m, $s, $p, $x, $h| $body),
            "e3m2" => $crate::with_fpmul_widths!(@bind 6, 3, 2, 3, 6, 5, 3, |$w, $e, $m, $s, $p, $x, $h| $body),
            "e2m3" => $crate::with_fpmul_widths!(@bind 6, 2, 3, 4, 8, 4, 3, |$w, $e, $m, $s, $p, $x, $h| $body),
            other => Err($crate::Error::new(format!("fpmul: no RTL for format {other}"))),
        }
    };
    (@bind $vw:expr, $ve:expr, $vm:expr, $vs:expr, $vp:expr, $vx:expr, $vh:expr,
     |$w:ident, $e:ident, $m:ident, $s:ident, $p:ident, $x:ident, $h:ident| $body:expr) => {{
        const $w: usize = $vw;
        const $e: usize = $ve;
        const $m: usize = $vm;
        const $s: usize = $vs;
        const $p: usize = $vp;
        const $x: usize = $vx;
        const $h: usize = $vh;
        $body
    }};
}

rtl::two_stage_product! {
    pe: FpMulRtl (
        "fpmul",
        "fpmul",
        "exact float multiply: correctly rounded (nearest even), subnormals, ieee/saturate \
         overflow; 0, 1 or 2 register stages"
    ),
    policies: [Overflow::Ieee, Overflow::Saturate], widths: with_fpmul_widths,
    blocks: FpMul0, FpMul1, FpMul2 <W, E, M, S, P, X, H>,
    params: FpMulParams, operands: Bits<W>,
    stages: FpMulFront<W, E, M, S, P, X>, then FpMulBack<W, E, M, S, P, X, H>,
    registers after "the multiplier": { sign => sign_reg: Bit, special => special_reg: Bit,
        special_y => special_y_reg: Bits<W>, p => p_reg: Bits<P>, t => t_reg: Bits<X> },
}

impl FpMulRtl {
    fn spec(&self, cfg: &RtlConfig, p: &FpMulParams) -> ModuleSpec {
        let f = &p.format;
        let wd = FpMulWidths::of(f);
        let mut sem = vec![
            format!("Format {}.", describe(f)),
            "y = a * b correctly rounded to the format: round to nearest, ties to even; \
             sign = sa ^ sb always (zero results are signed zeros)."
                .to_string(),
            "Subnormal inputs are used as they are (exponent field 0: exponent 1, hidden bit \
             0); results below the normal range are subnormal (gradual underflow)."
                .to_string(),
        ];
        sem.extend(rtl::nan_input_text(f));
        if f.kind == Kind::Ieee {
            sem.push(
                "Inf x 0 gives the canonical NaN; Inf x any other number gives sign | Inf.".into(),
            );
        }
        sem.push(format!(
            "Overflow is decided after rounding (a result that rounds to the largest finite \
             magnitude 0x{:X} is not an overflow): {}.",
            f.max_finite(),
            rtl::overflow_text(f, p.overflow)
        ));
        let mult = if wd.s > 16 {
            format!(
                "four 16x16 partial products of the significands split into 16 + {} bits, \
                 added in 64 bits",
                wd.s - 16
            )
        } else {
            "one 16x16 multiplier on the zero-extended significands".to_string()
        };
        sem.push(format!(
            "Datapath: unpack and classify; subnormal significands normalized by a \
             leading-zero shift (the exponent absorbs the count); {s}x{s} -> {p}-bit exact \
             product ({mult}); exponent arithmetic in {x}-bit two's complement; then a 1-bit \
             normalize (normal results) or a right shift by up to {r} bits (subnormal results) \
             with the sticky bit from a mask of the product; the round-to-nearest-even \
             increment is added to the packed {{exponent, fraction}} code, so its carry moves \
             into the exponent.",
            s = wd.s,
            p = wd.p,
            x = wd.x,
            r = wd.s + 1
        ));
        rtl::product_spec(
            self,
            cfg,
            f,
            sem,
            "registers after the multiplier, before normalization and rounding, and on the \
             output",
        )
    }
}

/// Front stage: unpack, specials, significand normalization, product and exponent.
///
/// Only connections live here; the logic sits in leaf blocks, so no always block both drives
/// a child and reads what that child computes from it (Verilator would report a false
/// combinational loop).
#[derive(LogicBlock)]
pub struct FpMulFront<
    const W: usize,
    const E: usize,
    const M: usize,
    const S: usize,
    const P: usize,
    const X: usize,
> {
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
    /// Exact product of the normalized significands (top or second bit set).
    pub p: Signal<Out, Bits<P>>,
    /// Biased exponent of product bit `P - 1`, `X`-bit two's complement.
    pub t: Signal<Out, Bits<X>>,
    unpack: FpUnpack<W, E, M, S, X>,
    norm_a: FpLeadNorm<S, X>,
    norm_b: FpLeadNorm<S, X>,
    mul: FpSigMul<S, P>,
    exps: FpExpSum<X>,
}

impl<
        const W: usize,
        const E: usize,
        const M: usize,
        const S: usize,
        const P: usize,
        const X: usize,
    > FpMulFront<W, E, M, S, P, X>
{
    /// Builds the stage for `p` (the const generics must be the widths of its format).
    pub fn new(p: &FpMulParams) -> Self {
        let wd = FpMulWidths::of(&p.format);
        wd.check(W, E, M, S, P, X, wd.h);
        Self {
            a: Default::default(),
            b: Default::default(),
            sign: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            p: Default::default(),
            t: Default::default(),
            unpack: FpUnpack::new(&p.format),
            norm_a: FpLeadNorm::new(),
            norm_b: FpLeadNorm::new(),
            mul: FpSigMul::new(),
            exps: FpExpSum::new(p.format.bias),
        }
    }
}

impl<
        const W: usize,
        const E: usize,
        const M: usize,
        const S: usize,
        const P: usize,
        const X: usize,
    > Logic for FpMulFront<W, E, M, S, P, X>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.unpack.a.next = self.a.val();
        self.unpack.b.next = self.b.val();
        self.sign.next = self.unpack.sign.val();
        self.special.next = self.unpack.special.val();
        self.special_y.next = self.unpack.special_y.val();
        self.norm_a.sig.next = self.unpack.sig_a.val();
        self.norm_b.sig.next = self.unpack.sig_b.val();
        self.mul.a.next = self.norm_a.norm.val();
        self.mul.b.next = self.norm_b.norm.val();
        self.p.next = self.mul.p.val();
        self.exps.ea.next = self.unpack.ea.val();
        self.exps.eb.next = self.unpack.eb.val();
        self.exps.lza.next = self.norm_a.lz.val();
        self.exps.lzb.next = self.norm_b.lz.val();
        self.t.next = self.exps.t.val();
    }
}

/// Back stage: normalize, round to nearest even, overflow policy and the result multiplexer.
#[derive(LogicBlock)]
pub struct FpMulBack<
    const W: usize,
    const E: usize,
    const M: usize,
    const S: usize,
    const P: usize,
    const X: usize,
    const H: usize,
> {
    /// Sign of the product.
    pub sign: Signal<In, Bit>,
    /// The result is settled by the special rules.
    pub special: Signal<In, Bit>,
    /// That settled result.
    pub special_y: Signal<In, Bits<W>>,
    /// Exact product of the normalized significands.
    pub p: Signal<In, Bits<P>>,
    /// Biased exponent of product bit `P - 1`.
    pub t: Signal<In, Bits<X>>,
    /// The product code.
    pub y: Signal<Out, Bits<W>>,
    hi: Signal<Local, Bit>,
    t_neg: Signal<Local, Bit>,
    t_zero: Signal<Local, Bit>,
    t_gt1: Signal<Local, Bit>,
    right: Signal<Local, Bit>,
    shift1: Signal<Local, Bit>,
    r_amt: Signal<Local, Bits<X>>,
    r_clamp: Signal<Local, Bits<H>>,
    rsh: Signal<Local, Bits<H>>,
    p_left: Signal<Local, Bits<P>>,
    p_right: Signal<Local, Bits<P>>,
    pn: Signal<Local, Bits<P>>,
    th_ones: Signal<Local, Bits<P>>,
    th: Signal<Local, Bits<P>>,
    th_up: Signal<Local, Bits<P>>,
    smask: Signal<Local, Bits<P>>,
    sticky: Signal<Local, Bit>,
    guard: Signal<Local, Bit>,
    lsb: Signal<Local, Bit>,
    hn: Signal<Local, Bit>,
    inc: Signal<Local, Bit>,
    e_adj: Signal<Local, Bits<X>>,
    big: Signal<Local, Bit>,
    e_lo: Signal<Local, Bits<E>>,
    e_w: Signal<Local, Bits<W>>,
    e_sh: Signal<Local, Bits<W>>,
    frac: Signal<Local, Bits<M>>,
    frac_w: Signal<Local, Bits<W>>,
    code: Signal<Local, Bits<W>>,
    inc_w: Signal<Local, Bits<W>>,
    rounded: Signal<Local, Bits<W>>,
    over: Signal<Local, Bit>,
    sign_w: Signal<Local, Bits<W>>,
    x_sign: Constant<Bits<X>>,
    x_one: Constant<Bits<X>>,
    x_big: Constant<Bits<X>>,
    x_rmax: Constant<Bits<X>>,
    h_rmax: Constant<Bits<H>>,
    h_zero: Constant<Bits<H>>,
    h_one: Constant<Bits<H>>,
    h_sm1: Constant<Bits<H>>,
    h_m: Constant<Bits<H>>,
    p_top: Constant<Bits<P>>,
    p_guard: Constant<Bits<P>>,
    p_lsb: Constant<Bits<P>>,
    p_ones: Constant<Bits<P>>,
    p_low1: Constant<Bits<P>>,
    p_low2: Constant<Bits<P>>,
    s_off: Constant<Bits<32>>,
    w_sign: Constant<Bits<W>>,
    w_zero: Constant<Bits<W>>,
    w_one: Constant<Bits<W>>,
    w_max: Constant<Bits<W>>,
    ovf_code: Constant<Bits<W>>,
    ovf_sign: Constant<Bits<W>>,
}

impl<
        const W: usize,
        const E: usize,
        const M: usize,
        const S: usize,
        const P: usize,
        const X: usize,
        const H: usize,
    > FpMulBack<W, E, M, S, P, X, H>
{
    /// Builds the stage for `p` (the const generics must be the widths of its format).
    pub fn new(p: &FpMulParams) -> Self {
        let f = &p.format;
        FpMulWidths::of(f).check(W, E, M, S, P, X, H);
        let (ovf_code, signed) = overflow_result(&p.format, p.overflow);
        Self {
            sign: Default::default(),
            special: Default::default(),
            special_y: Default::default(),
            p: Default::default(),
            t: Default::default(),
            y: Default::default(),
            hi: Default::default(),
            t_neg: Default::default(),
            t_zero: Default::default(),
            t_gt1: Default::default(),
            right: Default::default(),
            shift1: Default::default(),
            r_amt: Default::default(),
            r_clamp: Default::default(),
            rsh: Default::default(),
            p_left: Default::default(),
            p_right: Default::default(),
            pn: Default::default(),
            th_ones: Default::default(),
            th: Default::default(),
            th_up: Default::default(),
            smask: Default::default(),
            sticky: Default::default(),
            guard: Default::default(),
            lsb: Default::default(),
            hn: Default::default(),
            inc: Default::default(),
            e_adj: Default::default(),
            big: Default::default(),
            e_lo: Default::default(),
            e_w: Default::default(),
            e_sh: Default::default(),
            frac: Default::default(),
            frac_w: Default::default(),
            code: Default::default(),
            inc_w: Default::default(),
            rounded: Default::default(),
            over: Default::default(),
            sign_w: Default::default(),
            x_sign: k(1 << (X - 1)),
            x_one: k(1),
            x_big: k(low_mask(X) & !low_mask(E)),
            x_rmax: k(S as u64 + 1),
            h_rmax: k(S as u64 + 1),
            h_zero: k(0),
            h_one: k(1),
            h_sm1: k(S as u64 - 1),
            h_m: k(M as u64),
            p_top: k(1 << (P - 1)),
            p_guard: k(1 << (S - 1)),
            p_lsb: k(1 << S),
            p_ones: k(low_mask(P)),
            p_low1: k(low_mask(S - 1)),
            p_low2: k(low_mask(S - 2)),
            s_off: k(S as u64),
            w_sign: k(f.sign_bit()),
            w_zero: k(0),
            w_one: k(1),
            w_max: k(f.max_finite()),
            ovf_code: k(ovf_code),
            ovf_sign: k(if signed { f.sign_bit() } else { 0 }),
        }
    }
}

impl<
        const W: usize,
        const E: usize,
        const M: usize,
        const S: usize,
        const P: usize,
        const X: usize,
        const H: usize,
    > Logic for FpMulBack<W, E, M, S, P, X, H>
{
    #[hdl_gen]
    fn update(&mut self) {
        // Path selection: T >= 1 normal (one-bit normalize at most), T <= 0 subnormal.
        self.hi.next = (self.p.val() & self.p_top.val()).any();
        self.t_neg.next = (self.t.val() & self.x_sign.val()).any();
        self.t_zero.next = !self.t.val().any();
        self.t_gt1.next = self.t.val() > self.x_one.val();
        self.right.next = self.t_neg.val() | self.t_zero.val();
        self.shift1.next = !self.hi.val() & !self.t_neg.val() & self.t_gt1.val();
        // Right shift by 1 - T, clamped to S + 1 (from there on every bit lies below the guard).
        self.r_amt.next = self.x_one.val() - self.t.val();
        if self.r_amt.val() > self.x_rmax.val() {
            self.r_clamp.next = self.h_rmax.val();
        } else {
            self.r_clamp.next = self.r_amt.val().get_bits::<H>(0);
        }
        if self.right.val() {
            self.rsh.next = self.r_clamp.val();
        } else {
            self.rsh.next = self.h_zero.val();
        }
        self.p_left.next = self.p.val() << self.h_one.val();
        self.p_right.next = self.p.val() >> self.rsh.val();
        if self.shift1.val() {
            self.pn.next = self.p_left.val();
        } else {
            self.pn.next = self.p_right.val();
        }
        // Sticky: the product bits that land below the guard bit, masked straight from p.
        self.th_ones.next = self.p_ones.val() << self.rsh.val();
        self.th.next = !self.th_ones.val();
        self.th_up.next = self.th.val() << self.h_sm1.val();
        if self.shift1.val() {
            self.smask.next = self.p_low2.val();
        } else {
            self.smask.next = self.th_up.val() | self.p_low1.val();
        }
        self.sticky.next = (self.p.val() & self.smask.val()).any();
        self.hn.next = (self.pn.val() & self.p_top.val()).any();
        self.guard.next = (self.pn.val() & self.p_guard.val()).any();
        self.lsb.next = (self.pn.val() & self.p_lsb.val()).any();
        self.inc.next = self.guard.val() & (self.sticky.val() | self.lsb.val());
        // Pack {exponent, fraction}; a cleared hidden bit means exponent field 0.
        if self.shift1.val() {
            self.e_adj.next = self.t.val() - self.x_one.val();
        } else {
            self.e_adj.next = self.t.val();
        }
        self.big.next = self.hn.val() & (self.e_adj.val() & self.x_big.val()).any();
        self.e_lo.next = self.e_adj.val().get_bits::<E>(0);
        self.e_w.next = bit_cast::<W, E>(self.e_lo.val());
        self.e_sh.next = self.e_w.val() << self.h_m.val();
        self.frac.next = self.pn.val().get_bits::<M>(self.s_off.val().index());
        self.frac_w.next = bit_cast::<W, M>(self.frac.val());
        if self.hn.val() {
            self.code.next = self.e_sh.val() | self.frac_w.val();
        } else {
            self.code.next = self.frac_w.val();
        }
        // Round to nearest even: the increment carries into the exponent field by itself.
        if self.inc.val() {
            self.inc_w.next = self.w_one.val();
        } else {
            self.inc_w.next = self.w_zero.val();
        }
        self.rounded.next = self.code.val() + self.inc_w.val();
        self.over.next = self.big.val() | (self.rounded.val() > self.w_max.val());
        if self.sign.val() {
            self.sign_w.next = self.w_sign.val();
        } else {
            self.sign_w.next = self.w_zero.val();
        }
        if self.special.val() {
            self.y.next = self.special_y.val();
        } else if self.over.val() {
            self.y.next = self.ovf_code.val() | (self.sign_w.val() & self.ovf_sign.val());
        } else {
            self.y.next = self.rounded.val() | self.sign_w.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{rtl_format, RTL_FORMATS};

    #[test]
    fn widths_match_the_dispatch_macro() {
        for name in RTL_FORMATS {
            let f = rtl_format(name).unwrap();
            let got: Result<FpMulWidths> =
                with_fpmul_widths!(f, |W, E, M, S, P, X, H| Ok(FpMulWidths {
                    w: W,
                    e: E,
                    m: M,
                    s: S,
                    p: P,
                    x: X,
                    h: H
                }));
            assert_eq!(got.unwrap(), FpMulWidths::of(&f), "{name}");
            assert!(FpMulParams::new(f, Overflow::Saturate).is_ok(), "{name}");
        }
    }

    #[test]
    fn ieee_policy_needs_inf_or_nan() {
        let e = FpMulParams::new(rtl_format("e2m1").unwrap(), Overflow::Ieee)
            .unwrap_err()
            .to_string();
        assert!(e.contains("saturate"), "{e}");
    }
}
