//! Array cells: one accumulating step of a PE, `y = step(acc, a, b)`, combinational, with the
//! same ports for every PE, for a PE array to instantiate once per position.
//!
//! Ports of every cell: `acc` [31:0] in, `a` [d*WA-1:0] in, `b` [d*WB-1:0] in, `y` [31:0] out,
//! with `d` lanes of operand widths `WA`, `WB`; lane `l` occupies bits `[(l+1)*W-1 : l*W]`.
//!
//! | PE | step | d |
//! |---|---|---|
//! | `lmul`, `fpmul` | `fp32acc::add(acc, widen(p))`, `p` the product of the PE's combinational configuration (pipeline 0) of the format and policy, `widen` its exact FP32 code ([`FpWiden`]; skipped for fp32) | 1 |
//! | `fp16mac` | `acc + a*b`, the PE's core [`Fp16MacCore`] | 1 |
//! | `int16fma` | `acc + a0*b0 + a1*b1`, wrapped or saturated once per step, the PE's core [`Int16FmaCore`] | 2 |
//!
//! A cell's module is `pelab_cell_<pe>_<format>_<policy>` and its sub-modules carry that name
//! as a prefix ([`emit_block`]), so any set of cells can share one Verilog file. [`cells`] lists
//! every cell, [`cell`] checks one, [`cell_verilog`] emits it and [`CellSpec::step`] is its
//! reference, composed of the reference models of `pelab_sim`.

use crate::blocks::widen::{widen_mode, FpWiden};
use crate::emit::{emit_block, ModuleSpec, Port, RtlModule};
use crate::format::{describe, rtl_format, Format, Kind, Overflow};
use crate::pe::fp16mac::Fp16MacCore;
use crate::pe::fp32acc::Fp32AccCore;
use crate::pe::fpmul::{FpMul0, FpMulParams};
use crate::pe::int16fma::Int16FmaCore;
use crate::pe::lmul::{LMul0, LMulParams};
use crate::rtl::{check_float_policy, overflow_text, RtlConfig};
use crate::{Error, Result};
use pelab_sim::int16fma::Mode;
use rust_hdl::prelude::*;
use serde::Serialize;

/// The PEs that have array cells, in display order.
pub const CELL_PES: [&str; 5] = ["lmul", "fpmul", "fp16mac", "int16fma", "bitmod"];

/// One array cell: a PE's accumulating step in one format and policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CellSpec {
    /// PE id (`lmul`, `fpmul`, `fp16mac`, `int16fma`).
    pub pe: &'static str,
    /// Operand format (`e4m3`, ..., `int16`).
    pub format: String,
    /// Policy (`saturate`, `ieee`, `wrap`).
    pub policy: String,
    /// Lanes `d` per operand bus.
    pub lanes: usize,
    /// Bits of one lane of `a`.
    pub a_width: usize,
    /// Bits of one lane of `b`.
    pub b_width: usize,
    /// Bits of `acc` and `y` (32).
    pub acc_width: usize,
    /// `acc` and `y` are FP32 codes (else INT32).
    pub float: bool,
}

impl CellSpec {
    /// Module name: `pelab_cell_<pe>_<format>_<policy>`.
    pub fn module_name(&self) -> String {
        format!("pelab_cell_{}_{}_{}", self.pe, self.format, self.policy)
    }

    /// Width of the `a` port, `lanes * a_width`.
    pub fn a_bus(&self) -> usize {
        self.lanes * self.a_width
    }

    /// Width of the `b` port, `lanes * b_width`.
    pub fn b_bus(&self) -> usize {
        self.lanes * self.b_width
    }

    /// The reference step `y = step(acc, a, b)` (`a`, `b` the whole buses, lane 0 in the low
    /// bits): `pelab_sim`'s array cell ([`pelab_sim::array::Cell::step`]), the one the array
    /// model and the reference GEMM use.
    pub fn step(&self, acc: u32, a: u64, b: u64) -> Result<u32> {
        if self.is_sequential() {
            return Err(Error::new(format!(
                "{}: the bitmod cell is sequential and has no step function",
                self.module_name()
            )));
        }
        let fits = |v: u64, w: usize| w >= 64 || v >> w == 0;
        if !fits(a, self.a_bus()) || !fits(b, self.b_bus()) {
            return Err(Error::new(format!(
                "{}: operands a = 0x{a:X}, b = 0x{b:X} do not fit the {}-bit a and {}-bit b \
                 buses",
                self.module_name(),
                self.a_bus(),
                self.b_bus()
            )));
        }
        let cell = self.sim_cell()?;
        let lanes = |x: u64, w: usize| -> Vec<u64> {
            (0..self.lanes)
                .map(|l| (x >> (l * w)) & crate::blocks::low_mask(w))
                .collect()
        };
        Ok(cell.step(acc, &lanes(a, self.a_width), &lanes(b, self.b_width)))
    }

    /// Whether the cell is sequential (`bitmod`: clocked, with `valid`, `last` and `done`
    /// ports; see [`super::bitmod`]) rather than a combinational step.
    pub fn is_sequential(&self) -> bool {
        self.pe == "bitmod"
    }

    /// The same cell in `pelab_sim` (reference step, array model).
    pub fn sim_cell(&self) -> Result<pelab_sim::array::Cell> {
        pelab_sim::array::Cell::parse(self.pe, &self.format, Some(&self.policy))
    }
}

/// The FP32 code of the value of `code` in format `f` (which must widen exactly, see
/// [`widen_mode`]): rounded by `pelab_sim`'s rounding routine, which is exact here; Inf stays
/// the signed Inf and any NaN is `0x7FC00000`.
pub fn widen_code(f: &Format, code: u64) -> u32 {
    pelab_sim::array::cell::widen(f, code)
}

/// Every combinational array cell: `lmul` and `fpmul` in every RTL format that widens exactly
/// to FP32 and each of its policies (in the PE's order), `fp16mac` fp16 ieee, `int16fma` int16
/// wrap and saturate. The sequential `bitmod` cell is [`bitmod_cell`].
pub fn cells() -> Vec<CellSpec> {
    let mut v = Vec::new();
    for pe in CELL_PES.iter().filter(|p| **p != "bitmod") {
        for (format, policy) in cell_configs(pe) {
            let c = cell(pe, &format, &policy).expect("listed cell configurations are valid");
            if !v.contains(&c) {
                v.push(c);
            }
        }
    }
    v
}

/// The sequential `bitmod` cell: format fp16, policy `bitmod34`, 4 lanes of 15-bit weights
/// `{scale, select, code}` and of FP16 activations, an FP32 result.
pub fn bitmod_cell() -> CellSpec {
    CellSpec {
        pe: "bitmod",
        format: "fp16".into(),
        policy: pelab_sim::array::bitmod::POLICY.into(),
        lanes: 4,
        a_width: pelab_sim::array::bitmod::WEIGHT_BITS as usize,
        b_width: 16,
        acc_width: 32,
        float: true,
    }
}

/// `(format, policy)` of every cell of `pe`: its combinational RTL configurations (pipeline 0,
/// no variant or `core`) whose format widens exactly to FP32 (float products) in the PE's order.
fn cell_configs(pe: &str) -> Vec<(String, String)> {
    let Ok(rtl) = crate::find(pe) else {
        return Vec::new();
    };
    rtl.configs()
        .into_iter()
        .filter(|cfg| cfg.pipeline == 0 && (cfg.variant.is_empty() || cfg.variant == "core"))
        .filter(|cfg| {
            !matches!(pe, "lmul" | "fpmul")
                || rtl_format(&cfg.format).is_ok_and(|f| widen_mode(&f).is_ok())
        })
        .map(|cfg| (cfg.format, cfg.policy))
        .collect()
}

/// The cell of `pe` in `format` under `policy`, or, without one, under the first policy
/// [`cells`] lists for that PE and format; the error says what is valid.
pub fn cell_or_default(pe: &str, format: &str, policy: Option<&str>) -> Result<CellSpec> {
    if let Some(p) = policy {
        return cell(pe, format, p);
    }
    if pe == "bitmod" {
        return cell(pe, format, pelab_sim::array::bitmod::POLICY);
    }
    let all = cells();
    if let Some(c) = all.iter().find(|c| c.pe == pe && c.format == format) {
        return Ok(c.clone());
    }
    // No listed cell: the error of the PE's first policy says why (an unknown PE or format).
    let first = all
        .iter()
        .find(|c| c.pe == pe)
        .map_or("ieee".to_string(), |c| c.policy.clone());
    cell(pe, format, &first)
}

/// The cell of PE `pe` in `format` and `policy`; the error says what is valid.
pub fn cell(pe: &str, format: &str, policy: &str) -> Result<CellSpec> {
    let float = |pe: &'static str, w: usize, lanes: usize| CellSpec {
        pe,
        format: format.to_string(),
        policy: policy.to_string(),
        lanes,
        a_width: w,
        b_width: w,
        acc_width: 32,
        float: pe != "int16fma",
    };
    match pe {
        "lmul" | "fpmul" => {
            let id = if pe == "lmul" { "lmul" } else { "fpmul" };
            let f = Format::parse(format).map_err(|e| {
                Error::new(format!(
                    "{id} cell: {e}; cells exist for: {}",
                    float_formats(id)
                ))
            })?;
            widen_mode(&f).map_err(|e| {
                Error::new(format!(
                    "{id} cell: {e}; cells exist for: {}",
                    float_formats(id)
                ))
            })?;
            let f = rtl_format(format).map_err(|e| Error::new(format!("{id} cell: {e}")))?;
            let ovf = Overflow::parse(policy)
                .map_err(|e| Error::new(format!("{id} cell {format}: {e}")))?;
            check_float_policy(id, &f, ovf)?;
            let mut c = float(id, f.width() as usize, 1);
            c.format = f.name();
            Ok(c)
        }
        "fp16mac" => {
            if format != "fp16" || policy != "ieee" {
                return Err(Error::new(format!(
                    "fp16mac has one cell, format fp16 with policy ieee (got format {format}, \
                     policy {policy})"
                )));
            }
            Ok(float("fp16mac", 16, 1))
        }
        "int16fma" => {
            if format != "int16" {
                return Err(Error::new(format!(
                    "int16fma cells take format int16 (got {format}); policies: wrap, saturate"
                )));
            }
            Mode::from_policy(policy).map_err(|e| Error::new(format!("int16fma cell: {e}")))?;
            Ok(float("int16fma", 16, 2))
        }
        "fp32acc" => Err(Error::new(
            "fp32acc has no array cell of its own: it is the adder inside every lmul and fpmul \
             cell (y = acc + widen(a*b)), so it has no operands a and b to multiply; use lmul or \
             fpmul (format fp32 for an FP32 product). PEs with array cells: lmul, fpmul, \
             fp16mac, int16fma",
        )),
        "bitmod" => {
            let p = pelab_sim::array::bitmod::POLICY;
            if format != "fp16" || policy != p {
                return Err(Error::new(format!(
                    "bitmod has one cell, format fp16 (the activations) with policy {p} (each \
                     group's type select picks 3- or 4-bit weights); got format {format}, \
                     policy {policy}"
                )));
            }
            Ok(bitmod_cell())
        }
        other => {
            let known = crate::find(other).is_ok();
            Err(Error::new(format!(
                "{}; PEs with array cells: {}",
                if known {
                    format!("PE {other} has no array cell")
                } else {
                    format!("no PE '{other}'")
                },
                CELL_PES.join(", ")
            )))
        }
    }
}

/// `format (policies)` of every cell of the float PE `pe`, for error messages.
fn float_formats(pe: &str) -> String {
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for (format, policy) in cell_configs(pe) {
        match parts.iter_mut().find(|(f, _)| *f == format) {
            Some((_, p)) => p.push(policy),
            None => parts.push((format, vec![policy])),
        }
    }
    parts
        .iter()
        .map(|(f, p)| format!("{f} ({})", p.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Defines a cell block of a float product PE: the PE's combinational product `mul`, its exact
/// widening to FP32 `widen` (arm `widened`, formats narrower than FP32) or none (arm `fp32`),
/// then the fp32acc adder core `add`. Connections only.
macro_rules! product_cell {
    (widened $(#[$doc:meta])* $name:ident<$($g:ident),+> {
        mul: $mul:ty, params: $params:ty, operands: $code:ty, widen: $widen:ty $(,)?
    }) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<$(const $g: usize),+> {
            /// Accumulator in, FP32 code.
            pub acc: Signal<In, Bits<32>>,
            /// Operand a.
            pub a: Signal<In, $code>,
            /// Operand b.
            pub b: Signal<In, $code>,
            /// `acc + widen(a * b)`, FP32 code.
            pub y: Signal<Out, Bits<32>>,
            mul: $mul,
            widen: $widen,
            add: Fp32AccCore,
        }

        impl<$(const $g: usize),+> $name<$($g),+> {
            /// Builds the cell for `p` (the const generics must be the widths of its format).
            pub fn new(p: &$params) -> Self {
                Self {
                    acc: Default::default(),
                    a: Default::default(),
                    b: Default::default(),
                    y: Default::default(),
                    mul: <$mul>::new(p),
                    widen: <$widen>::new(&p.format),
                    add: Fp32AccCore::new(),
                }
            }
        }

        impl<$(const $g: usize),+> Logic for $name<$($g),+> {
            #[hdl_gen]
            fn update(&mut self) {
                self.mul.a.next = self.a.val();
                self.mul.b.next = self.b.val();
                self.widen.a.next = self.mul.y.val();
                self.add.acc.next = self.acc.val();
                self.add.x.next = self.widen.y.val();
                self.y.next = self.add.y.val();
            }
        }
    };
    (fp32 $(#[$doc:meta])* $name:ident { mul: $mul:ty, params: $params:ty $(,)? }) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name {
            /// Accumulator in, FP32 code.
            pub acc: Signal<In, Bits<32>>,
            /// Operand a, FP32 code.
            pub a: Signal<In, Bits<32>>,
            /// Operand b, FP32 code.
            pub b: Signal<In, Bits<32>>,
            /// `acc + a * b`, FP32 code.
            pub y: Signal<Out, Bits<32>>,
            mul: $mul,
            add: Fp32AccCore,
        }

        impl $name {
            /// Builds the cell for `p` (format fp32).
            pub fn new(p: &$params) -> Self {
                Self {
                    acc: Default::default(),
                    a: Default::default(),
                    b: Default::default(),
                    y: Default::default(),
                    mul: <$mul>::new(p),
                    add: Fp32AccCore::new(),
                }
            }
        }

        impl Logic for $name {
            #[hdl_gen]
            fn update(&mut self) {
                self.mul.a.next = self.a.val();
                self.mul.b.next = self.b.val();
                self.add.acc.next = self.acc.val();
                self.add.x.next = self.mul.y.val();
                self.y.next = self.add.y.val();
            }
        }
    };
}

product_cell! { widened
    /// The `lmul` cell of a format narrower than FP32: L-Mul product, widened, added to `acc`.
    LMulCell<W, W1, E, M, S> {
        mul: LMul0<W, W1>, params: LMulParams, operands: Bits<W>, widen: FpWiden<W, E, M, S>,
    }
}

product_cell! { fp32
    /// The `lmul` cell of format fp32: L-Mul product added to `acc`.
    LMulCell32 { mul: LMul0<32, 33>, params: LMulParams }
}

product_cell! { widened
    /// The `fpmul` cell of a format narrower than FP32: rounded product, widened, added to `acc`.
    FpMulCell<W, E, M, S, P, X, H> {
        mul: FpMul0<W, E, M, S, P, X, H>, params: FpMulParams, operands: Bits<W>,
        widen: FpWiden<W, E, M, S>,
    }
}

product_cell! { fp32
    /// The `fpmul` cell of format fp32: rounded product added to `acc`.
    FpMulCell32 { mul: FpMul0<32, 8, 23, 24, 48, 10, 5>, params: FpMulParams }
}

/// The `int16fma` cell: [`Int16FmaCore`] with its two lanes on the buses `a = {a1, a0}`,
/// `b = {b1, b0}` (lane 0 in bits 15:0).
#[derive(LogicBlock)]
pub struct Int16FmaCell {
    /// Accumulator in, INT32.
    pub acc: Signal<In, Bits<32>>,
    /// `{a1, a0}`, INT16 lanes.
    pub a: Signal<In, Bits<32>>,
    /// `{b1, b0}`, INT16 lanes.
    pub b: Signal<In, Bits<32>>,
    /// `acc + a0*b0 + a1*b1`, wrapped or saturated, INT32.
    pub y: Signal<Out, Bits<32>>,
    core: Int16FmaCore,
}

impl Int16FmaCell {
    /// Builds the cell; `saturate` selects VPDPWSSDS (else VPDPWSSD, wrapping).
    pub fn new(saturate: bool) -> Self {
        Self {
            acc: Default::default(),
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            core: Int16FmaCore::new(saturate),
        }
    }
}

impl Logic for Int16FmaCell {
    #[hdl_gen]
    fn update(&mut self) {
        self.core.acc.next = self.acc.val();
        self.core.a0.next = self.a.val().get_bits::<16>(0);
        self.core.a1.next = self.a.val().get_bits::<16>(16);
        self.core.b0.next = self.b.val().get_bits::<16>(0);
        self.core.b1.next = self.b.val().get_bits::<16>(16);
        self.y.next = self.core.y.val();
    }
}

/// The header of a cell's module.
fn module_spec(c: &CellSpec) -> Result<ModuleSpec> {
    const ADD: &str = "The sum is the fp32acc adder (the core of pelab_fp32acc_fp32_ieee): the \
        IEEE binary32 sum rounded once, round to nearest, ties to even; subnormal operands and \
        results kept; a sum beyond the largest finite value gives the signed Inf; any NaN \
        operand and Inf + (-Inf) give the canonical NaN 0x7FC00000; an exact zero sum is +0, \
        except (-0) + (-0) = -0.";
    let mut sem = Vec::new();
    let (a_doc, b_doc, acc_doc, y_doc);
    match c.pe {
        "lmul" | "fpmul" => {
            let f = rtl_format(&c.format)?;
            let ovf = Overflow::parse(&c.policy)?;
            let mul = crate::find(c.pe)?.module_name(&RtlConfig::new(&c.format, &c.policy, 0));
            sem.push(format!(
                "Operands a and b: format {}; acc and y are FP32 codes.",
                describe(&f)
            ));
            let what = if c.pe == "lmul" {
                "the L-Mul approximate product (one integer add of the exponent+mantissa \
                 fields; subnormal inputs flushed)"
            } else {
                "the product correctly rounded to the format (nearest even, gradual underflow)"
            };
            if f.width() == 32 {
                sem.push(format!(
                    "y = acc + p with p = {}(a, b), {what}, as the combinational module {mul} \
                     computes it; p is an FP32 code already.",
                    c.pe
                ));
            } else {
                let how = match widen_mode(&f)? {
                    crate::blocks::widen::WidenMode::Normalize => {
                        "subnormal products are normalized (every value of the format is a \
                         normal FP32 number or zero)"
                    }
                    crate::blocks::widen::WidenMode::Direct => {
                        "the exponent field is kept (FP32's own), subnormal products stay \
                         FP32 subnormals"
                    }
                };
                sem.push(format!(
                    "y = acc + widen(p) with p = {}(a, b), {what}, as the combinational module \
                     {mul} computes it.",
                    c.pe
                ));
                sem.push(format!(
                    "widen(p) is the FP32 code of the same value, exact: signed zeros keep their \
                     sign, {how}, Inf stays the signed Inf, any NaN becomes 0x7FC00000."
                ));
            }
            sem.push(format!("Product overflow: {}.", overflow_text(&f, ovf)));
            if f.kind != Kind::Finite {
                sem.push(format!(
                    "A NaN operand gives the product the format's canonical NaN 0x{:X}, hence \
                     y = 0x7FC00000.",
                    f.canonical_nan().unwrap_or(0)
                ));
            }
            sem.push(ADD.to_string());
            a_doc = format!("operand a, {} code", c.format);
            b_doc = format!("operand b, {} code", c.format);
            acc_doc = "accumulator in, fp32 code".to_string();
            y_doc = "acc + widened product, fp32 code".to_string();
        }
        "fp16mac" => {
            sem.push(
                "a and b are FP16 codes (IEEE binary16); acc and y are FP32 codes.".to_string(),
            );
            sem.push(
                "y = acc + a*b as the fp16mac core computes it: the FP16 product exact, the sum \
                 rounded once to FP32, round to nearest, ties to even; subnormal inputs used as \
                 they are; a subnormal acc is kept."
                    .to_string(),
            );
            sem.push(
                "Any NaN (a, b or acc) gives the canonical NaN 0x7FC00000, as do Inf x 0 and \
                 Inf + (-Inf); otherwise an Inf product or acc gives the signed Inf. An exact \
                 zero sum is +0, except (-0) + (-0) = -0."
                    .to_string(),
            );
            a_doc = "operand a, fp16 code".to_string();
            b_doc = "operand b, fp16 code".to_string();
            acc_doc = "accumulator in, fp32 code".to_string();
            y_doc = "acc + a*b, fp32 code".to_string();
        }
        "int16fma" => {
            sem.push(
                "a = {a1, a0} and b = {b1, b0}, two INT16 lanes each (lane 0 in bits 15:0); acc \
                 and y are INT32; all two's complement."
                    .to_string(),
            );
            sem.push(if c.policy == "saturate" {
                "saturate (VPDPWSSDS): y = clamp(acc + a0*b0 + a1*b1) to [-2^31, 2^31-1], the \
                 sum taken exactly, clamped once per step."
                    .to_string()
            } else {
                "wrap (VPDPWSSD): y = (acc + a0*b0 + a1*b1) mod 2^32.".to_string()
            });
            a_doc = "{a1, a0}, INT16 lanes".to_string();
            b_doc = "{b1, b0}, INT16 lanes".to_string();
            acc_doc = "accumulator in, INT32".to_string();
            y_doc = "acc + a0*b0 + a1*b1, INT32".to_string();
        }
        "bitmod" => return Ok(bitmod_module_spec(c)),
        other => return Err(Error::new(format!("no array cell for PE '{other}'"))),
    }
    Ok(ModuleSpec {
        name: c.module_name(),
        pe: c.pe.to_string(),
        config: vec![
            ("format".into(), c.format.clone()),
            ("policy".into(), c.policy.clone()),
            ("lanes".into(), c.lanes.to_string()),
        ],
        semantics: sem,
        latency: 0,
        timing: "Combinational: y follows acc, a and b (one accumulation step of an array cell)."
            .into(),
        ports: vec![
            Port::input("acc", c.acc_width, acc_doc),
            Port::input("a", c.a_bus(), a_doc),
            Port::input("b", c.b_bus(), b_doc),
            Port::output("y", c.acc_width, y_doc),
        ],
    })
}

/// The header of the bitmod cell's module.
fn bitmod_module_spec(c: &CellSpec) -> ModuleSpec {
    use pelab_sim::array::bitmod::RESULT_LATENCY;
    ModuleSpec {
        name: c.module_name(),
        pe: c.pe.to_string(),
        config: vec![
            ("format".into(), c.format.clone()),
            ("policy".into(), c.policy.clone()),
            ("lanes".into(), c.lanes.to_string()),
        ],
        semantics: vec![
            "The BitMoD PE (pelab_bitmod_fp16_bitmod34, docs/bitmod.md) and an FP32 \
             accumulator of its group results: y = sum over the groups of a tile, in order from \
             +0, of D*2^(Ae-28) (exact in FP32; the canonical NaN 0x7FC00000 for a group with an \
             Inf or NaN activation), added with the fp32acc adder (round to nearest even)."
                .into(),
            "a = 4 lanes of {scale[7:0], select[2:0], code[3:0]} (lane l in bits 15l+14:15l): \
             weight l's code and its group's PE type select and integer scale; lanes 1-3 carry \
             the same select and scale as lane 0, which is the copy the PE reads. b = 4 FP16 \
             activations (lane l in bits 16l+15:16l)."
                .into(),
            "A beat (a, b) is held for two valid cycles (term 0, then term 1). A group ends \
             after 32 beats (128 weights) or with the beat that has last = 1 (the tile's last); \
             its hand-off to the dequantizer is at the edge ending that beat's second cycle, and \
             hand-offs must be at least 8 cycles apart (the producer idles before a group of \
             fewer than 16 weights)."
                .into(),
            format!(
                "The group's result enters y at the edge {RESULT_LATENCY} cycles after its \
                 hand-off; after the tile's last group, done is 1 for one cycle and y holds the \
                 tile's sum until the next tile's first group result replaces it."
            ),
        ],
        latency: RESULT_LATENCY as u32,
        timing: "Sequential: one term per valid cycle, results 9 cycles after a group's \
                 hand-off."
            .into(),
        ports: vec![
            Port::input("clock", 1, "clock, rising edge"),
            Port::input("reset", 1, "synchronous reset, active high"),
            Port::input(
                "valid",
                1,
                "a term of the beat on a, b is processed this cycle",
            ),
            Port::input("last", 1, "the beat is the last of its tile"),
            Port::input("a", c.a_bus(), "4 weight lanes {scale, select, code}"),
            Port::input("b", c.b_bus(), "4 FP16 activations"),
            Port::output("y", 32, "FP32 accumulator"),
            Port::output(
                "done",
                1,
                "the tile's last group entered y in the previous edge",
            ),
        ],
    }
}

/// Emits the Verilog of cell `c` (which must be one that [`cell`] gives).
pub fn cell_verilog(c: &CellSpec) -> Result<RtlModule> {
    let checked = cell(c.pe, &c.format, &c.policy)?;
    if checked != *c {
        return Err(Error::new(format!(
            "cell spec {c:?} differs from the cell of {} {} {}: {checked:?}",
            c.pe, c.format, c.policy
        )));
    }
    let spec = module_spec(c)?;
    match c.pe {
        "lmul" => {
            let p = LMulParams::new(rtl_format(&c.format)?, Overflow::parse(&c.policy)?)?;
            crate::with_fpmul_widths!(p.format, |W, E, M, S, P, X, H| {
                let _ = (P, X, H);
                const W1: usize = W + 1;
                if W == 32 {
                    emit_block(&mut LMulCell32::new(&p), &spec)
                } else {
                    emit_block(&mut LMulCell::<W, W1, E, M, S>::new(&p), &spec)
                }
            })
        }
        "fpmul" => {
            let p = FpMulParams::new(rtl_format(&c.format)?, Overflow::parse(&c.policy)?)?;
            crate::with_fpmul_widths!(p.format, |W, E, M, S, P, X, H| {
                if W == 32 {
                    emit_block(&mut FpMulCell32::new(&p), &spec)
                } else {
                    emit_block(&mut FpMulCell::<W, E, M, S, P, X, H>::new(&p), &spec)
                }
            })
        }
        "fp16mac" => emit_block(&mut Fp16MacCore::new(), &spec),
        "int16fma" => emit_block(
            &mut Int16FmaCell::new(Mode::from_policy(&c.policy)? == Mode::Saturate),
            &spec,
        ),
        "bitmod" => {
            let mut m = emit_block(&mut super::bitmod::BitModCell::new(), &spec)?;
            // Lanes 1-3 carry copies of their group's select and scale that the PE does not
            // read (the array's operand lanes are uniform); synthesis removes what carries them.
            let decl = format!("    input wire  [{}:0] a;\n", c.a_bus() - 1);
            if !m.verilog.contains(&decl) {
                return Err(Error::new(format!(
                    "{}: no declaration '{}' to waive",
                    c.module_name(),
                    decl.trim()
                )));
            }
            m.verilog = m.verilog.replacen(
                &decl,
                &format!(
                    "    // Lanes 1-3's select and scale copies are not read (lane 0's are).\n    \
                     /* verilator lint_off UNUSEDSIGNAL */\n{decl}    /* verilator lint_on \
                     UNUSEDSIGNAL */\n"
                ),
                1,
            );
            Ok(m)
        }
        other => Err(Error::new(format!("no array cell for PE '{other}'"))),
    }
}

/// The [`FpWiden`] block of `format` alone as a module `pelab_widen_<format>` (ports `a`, the
/// code, and `y`, its FP32 code), for tests and size measurements.
pub fn widen_verilog(format: &str) -> Result<RtlModule> {
    let f = rtl_format(format)?;
    widen_mode(&f)?;
    let w = f.width() as usize;
    let spec = ModuleSpec {
        name: format!("pelab_widen_{}", f.name()),
        pe: "array cell block".into(),
        config: vec![("format".into(), f.name())],
        semantics: vec![
            format!("a is a code of format {}.", describe(&f)),
            "y is the FP32 code of the same value, exact: signed zeros keep their sign, \
             subnormals are normalized where FP32 has the range, Inf stays the signed Inf, any \
             NaN becomes 0x7FC00000."
                .into(),
        ],
        latency: 0,
        timing: "Combinational: y follows a.".into(),
        ports: vec![
            Port::input("a", w, format!("{} code", f.name())),
            Port::output("y", 32, "fp32 code of the same value"),
        ],
    };
    crate::with_fpmul_widths!(f, |W, E, M, S, P, X, H| {
        let _ = (P, X, H);
        emit_block(&mut FpWiden::<W, E, M, S>::new(&f), &spec)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_have_the_contract_widths() {
        let c = cell("lmul", "bf16", "saturate").unwrap();
        assert_eq!(c.module_name(), "pelab_cell_lmul_bf16_saturate");
        assert_eq!(
            (c.lanes, c.a_bus(), c.b_bus(), c.acc_width),
            (1, 16, 16, 32)
        );
        let c = cell("int16fma", "int16", "wrap").unwrap();
        assert_eq!(c.module_name(), "pelab_cell_int16fma_int16_wrap");
        assert_eq!((c.lanes, c.a_bus(), c.float), (2, 32, false));
        assert_eq!(
            cell("fp16mac", "fp16", "ieee").unwrap().module_name(),
            "pelab_cell_fp16mac_fp16_ieee"
        );
    }
}
