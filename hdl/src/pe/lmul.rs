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

use crate::emit::{emit_block, ModuleSpec, Port, RtlModule};
use crate::format::{
    describe, exp_mask, inf_code, nan_masks, overflow_result, rtl_format, Format, Kind, Overflow,
};
use crate::k;
use crate::rtl::{float_configs, float_module_name, validate, PeRtl, RtlConfig};
use crate::sim::{check_rows, stream_ab};
use crate::{Error, Result};
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
        if format.kind == Kind::Finite && overflow == Overflow::Ieee {
            return Err(Error::new(format!(
                "lmul {}: overflow policy 'ieee' needs Inf or NaN, which {} does not have; \
                 valid: saturate",
                format.name(),
                format.name()
            )));
        }
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

/// Combinational L-Mul (pipeline 0).
#[derive(LogicBlock)]
pub struct LMul0<const W: usize, const W1: usize> {
    /// Operand a.
    pub a: Signal<In, Bits<W>>,
    /// Operand b.
    pub b: Signal<In, Bits<W>>,
    /// Product code.
    pub y: Signal<Out, Bits<W>>,
    front: LMulFront<W, W1>,
    back: LMulBack<W, W1>,
}

impl<const W: usize, const W1: usize> LMul0<W, W1> {
    /// Builds the block for `p`.
    pub fn new(p: &LMulParams) -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            front: LMulFront::new(p),
            back: LMulBack::new(p),
        }
    }
}

impl<const W: usize, const W1: usize> Logic for LMul0<W, W1> {
    #[hdl_gen]
    fn update(&mut self) {
        self.front.a.next = self.a.val();
        self.front.b.next = self.b.val();
        self.back.sign.next = self.front.sign.val();
        self.back.special.next = self.front.special.val();
        self.back.special_y.next = self.front.special_y.val();
        self.back.r.next = self.front.r.val();
        self.y.next = self.back.y.val();
    }
}

/// L-Mul with an output register (pipeline 1, latency 1).
#[derive(LogicBlock)]
pub struct LMul1<const W: usize, const W1: usize> {
    /// Clock; every register samples on its rising edge.
    pub clock: Signal<In, Clock>,
    /// Operand a.
    pub a: Signal<In, Bits<W>>,
    /// Operand b.
    pub b: Signal<In, Bits<W>>,
    /// Product code of the operands sampled at the previous rising edge.
    pub y: Signal<Out, Bits<W>>,
    front: LMulFront<W, W1>,
    back: LMulBack<W, W1>,
    y_reg: DFF<Bits<W>>,
}

impl<const W: usize, const W1: usize> LMul1<W, W1> {
    /// Builds the block for `p`.
    pub fn new(p: &LMulParams) -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            front: LMulFront::new(p),
            back: LMulBack::new(p),
            y_reg: Default::default(),
        }
    }
}

impl<const W: usize, const W1: usize> Logic for LMul1<W, W1> {
    #[hdl_gen]
    fn update(&mut self) {
        self.y_reg.clock.next = self.clock.val();
        self.front.a.next = self.a.val();
        self.front.b.next = self.b.val();
        self.back.sign.next = self.front.sign.val();
        self.back.special.next = self.front.special.val();
        self.back.special_y.next = self.front.special_y.val();
        self.back.r.next = self.front.r.val();
        self.y_reg.d.next = self.back.y.val();
        self.y.next = self.y_reg.q.val();
    }
}

/// L-Mul with a register after the front stage and one on the output (pipeline 2, latency 2).
#[derive(LogicBlock)]
pub struct LMul2<const W: usize, const W1: usize> {
    /// Clock; every register samples on its rising edge.
    pub clock: Signal<In, Clock>,
    /// Operand a.
    pub a: Signal<In, Bits<W>>,
    /// Operand b.
    pub b: Signal<In, Bits<W>>,
    /// Product code of the operands sampled two rising edges earlier.
    pub y: Signal<Out, Bits<W>>,
    front: LMulFront<W, W1>,
    back: LMulBack<W, W1>,
    sign_reg: DFF<Bit>,
    special_reg: DFF<Bit>,
    special_y_reg: DFF<Bits<W>>,
    r_reg: DFF<Bits<W1>>,
    y_reg: DFF<Bits<W>>,
}

impl<const W: usize, const W1: usize> LMul2<W, W1> {
    /// Builds the block for `p`.
    pub fn new(p: &LMulParams) -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            front: LMulFront::new(p),
            back: LMulBack::new(p),
            sign_reg: Default::default(),
            special_reg: Default::default(),
            special_y_reg: Default::default(),
            r_reg: Default::default(),
            y_reg: Default::default(),
        }
    }
}

impl<const W: usize, const W1: usize> Logic for LMul2<W, W1> {
    #[hdl_gen]
    fn update(&mut self) {
        self.sign_reg.clock.next = self.clock.val();
        self.special_reg.clock.next = self.clock.val();
        self.special_y_reg.clock.next = self.clock.val();
        self.r_reg.clock.next = self.clock.val();
        self.y_reg.clock.next = self.clock.val();
        self.front.a.next = self.a.val();
        self.front.b.next = self.b.val();
        self.sign_reg.d.next = self.front.sign.val();
        self.special_reg.d.next = self.front.special.val();
        self.special_y_reg.d.next = self.front.special_y.val();
        self.r_reg.d.next = self.front.r.val();
        self.back.sign.next = self.sign_reg.q.val();
        self.back.special.next = self.special_reg.q.val();
        self.back.special_y.next = self.special_y_reg.q.val();
        self.back.r.next = self.r_reg.q.val();
        self.y_reg.d.next = self.back.y.val();
        self.y.next = self.y_reg.q.val();
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

/// The L-Mul PE in the RTL registry.
pub struct LMulRtl;

impl LMulRtl {
    fn spec(&self, cfg: &RtlConfig, p: &LMulParams) -> ModuleSpec {
        let f = &p.format;
        let w = f.width() as usize;
        let (ovf, _) = overflow_result(&p.format, p.overflow);
        let ovf_text = match (p.overflow, f.kind) {
            (Overflow::Saturate, _) => {
                format!("saturate: sign | largest finite magnitude 0x{ovf:X}")
            }
            (Overflow::Ieee, Kind::Ieee) => format!("ieee: sign | Inf (0x{ovf:X})"),
            _ => format!("ieee: canonical NaN 0x{ovf:X} (the format has no Inf)"),
        };
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
        match f.kind {
            Kind::Finite => {}
            _ => sem.push(format!(
                "Any NaN input gives the canonical NaN 0x{:X}.",
                f.canonical_nan().unwrap_or(0)
            )),
        }
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
            "Overflow r > 0x{:X} (largest finite magnitude): {ovf_text}.",
            f.max_finite()
        ));
        sem.push("Otherwise y = sign | r.".into());
        let mut ports = Vec::new();
        let timing = match cfg.pipeline {
            0 => "Combinational: y follows a and b.".to_string(),
            1 => {
                ports.push(Port::input("clock", 1, "clock, rising edge"));
                "y holds the product of the a and b sampled at the previous rising edge of \
                 clock (output register)."
                    .to_string()
            }
            _ => {
                ports.push(Port::input("clock", 1, "clock, rising edge"));
                "y holds the product of the a and b sampled two rising edges earlier; one \
                 operation per cycle (registers after the adder stage and on the output)."
                    .to_string()
            }
        };
        ports.push(Port::input("a", w, format!("operand a, {} code", f.name())));
        ports.push(Port::input("b", w, format!("operand b, {} code", f.name())));
        ports.push(Port::output("y", w, format!("product, {} code", f.name())));
        ModuleSpec {
            name: self.module_name(cfg),
            pe: "lmul".into(),
            config: cfg.pairs(),
            semantics: sem,
            latency: cfg.pipeline,
            timing,
            ports,
        }
    }
}

/// Parses the format and policy of an L-Mul configuration.
pub fn lmul_params(cfg: &RtlConfig) -> Result<LMulParams> {
    LMulParams::new(rtl_format(&cfg.format)?, Overflow::parse(&cfg.policy)?)
}

impl PeRtl for LMulRtl {
    fn id(&self) -> &'static str {
        "lmul"
    }
    fn summary(&self) -> &'static str {
        "L-Mul: one integer add of the exponent+mantissa fields, special cases, saturate/ieee \
         overflow; 0, 1 or 2 register stages"
    }
    fn configs(&self) -> Vec<RtlConfig> {
        float_configs([Overflow::Saturate, Overflow::Ieee])
    }
    fn module_name(&self, cfg: &RtlConfig) -> String {
        float_module_name("lmul", cfg)
    }
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule> {
        validate(self, cfg)?;
        let p = lmul_params(cfg)?;
        let spec = self.spec(cfg, &p);
        with_lmul_width!(p.format, |W, W1| match cfg.pipeline {
            0 => emit_block(&mut LMul0::<W, W1>::new(&p), &spec),
            1 => emit_block(&mut LMul1::<W, W1>::new(&p), &spec),
            _ => emit_block(&mut LMul2::<W, W1>::new(&p), &spec),
        })
    }
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        validate(self, cfg)?;
        let p = lmul_params(cfg)?;
        let w = p.format.width();
        check_rows(&self.module_name(cfg), rows, &[("a", w), ("b", w)])?;
        with_lmul_width!(p.format, |W, W1| match cfg.pipeline {
            0 => stream_ab(
                &mut LMul0::<W, W1>::new(&p),
                0,
                rows,
                |u, a, b| {
                    u.a.next = bits(a);
                    u.b.next = bits(b);
                },
                |u| u.y.val().to_u64(),
                None,
            ),
            1 => stream_ab(
                &mut LMul1::<W, W1>::new(&p),
                1,
                rows,
                |u, a, b| {
                    u.a.next = bits(a);
                    u.b.next = bits(b);
                },
                |u| u.y.val().to_u64(),
                Some(|u| &mut u.clock),
            ),
            _ => stream_ab(
                &mut LMul2::<W, W1>::new(&p),
                2,
                rows,
                |u, a, b| {
                    u.a.next = bits(a);
                    u.b.next = bits(b);
                },
                |u| u.y.val().to_u64(),
                Some(|u| &mut u.clock),
            ),
        })
    }
}
