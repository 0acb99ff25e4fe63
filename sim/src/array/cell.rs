//! Array cells: one accumulating step of a PE, `y = step(acc, a[0..d], b[0..d])`, with `acc` and
//! `y` 32-bit codes and `a`, `b` the `d` lanes of one step (the table "Cells" of `docs/arrays.md`).
//!
//! | cell | PE(s) | formats / policies | d | step |
//! |---|---|---|---|---|
//! | `lmul` | L-Mul, product widened to FP32, FP32 add | every format that widens exactly (E <= 8, M <= 23), lmul's policies | 1 | `fp32acc::add(acc, widen(lmul(a, b)))` |
//! | `fpmul` | exact multiply, same | same, fpmul's policies | 1 | `fp32acc::add(acc, widen(fpmul(a, b)))` |
//! | `fp16mac` | FP16 MAC | `fp16`, `ieee` | 1 | `fp16mac(acc, a, b)` |
//! | `int16fma` | INT16 dot-2 | `int16`, `wrap` / `saturate` | 2 | `acc + a0*b0 + a1*b1`, wrapped or saturated once per step |
//! | `bitmod` | BitMoD PE + FP32 accumulator of its group results | `fp16`, `bitmod34` | 4 | none: a sequential cell ([`super::bitmod`]) |
//!
//! The `bitmod` cell is not a step function: its PE accumulates a group of 128 weights
//! bit-serially and dequantizes it before the FP32 add, so [`Cell::step`] does not apply to it
//! and [`cells`] does not list it ([`bitmod_cell`] gives it). `fp32acc` alone has no multiply:
//! it is the adder inside the `lmul` and `fpmul` cells.

use crate::error::{Error, Result};
use crate::format::{Format, Kind, Overflow, Rounding, NAMED};
use crate::fp16mac::{fp16mac, Fp16MacPe};
use crate::fp32acc::{self, NAN};
use crate::fpmul::{float_config, fpmul, FpMulPe};
use crate::int16fma::{Int16FmaPe, Mode};
use crate::lmul::{check_format, lmul, LMulPe};
use crate::model::{pick_policy, PeModel};

/// The ids of the PEs that have an array cell, in display order.
pub const CELL_PES: [&str; 5] = ["lmul", "fpmul", "fp16mac", "int16fma", "bitmod"];

/// What a cell computes (fixed by [`Cell::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    LMul(Format, Overflow),
    FpMul(Format, Overflow),
    Fp16Mac,
    Int16Fma(Mode),
    BitMod,
}

impl Op {
    /// The product code of a float cell (`lmul` or `fpmul`; 0 for the others, never asked).
    #[inline(always)]
    fn product(self, a: u64, b: u64) -> u64 {
        match self {
            Op::LMul(f, o) => lmul(&f, a, b, o),
            Op::FpMul(f, o) => fpmul(&f, a, b, Rounding::NearestEven, o),
            Op::Fp16Mac | Op::Int16Fma(_) | Op::BitMod => 0,
        }
    }
}

/// One array cell: a PE configuration and its step function.
///
/// Build cells with [`Cell::parse`] or [`cells`]; the public fields describe the cell (the
/// step itself follows the configuration parsed, so they are not meant to be changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// PE id (`lmul`, `fpmul`, `fp16mac`, `int16fma`, `bitmod`).
    pub pe: &'static str,
    /// Operand format name (a float format's canonical name, or `int16`).
    pub format: String,
    /// Overflow or accumulation policy (`ieee`, `saturate`, `wrap`).
    pub policy: &'static str,
    /// Lanes per step, `d`.
    pub lanes: usize,
    /// Width of one lane of `a` in bits.
    pub a_width: u32,
    /// Width of one lane of `b` in bits.
    pub b_width: u32,
    op: Op,
}

/// Whether every value of `fmt` is exactly an FP32 value (so [`widen`] is exact): at most 23
/// mantissa bits, no finite exponent above FP32's 127, no bit below FP32's 2^-149.
pub fn widens_exactly(fmt: &Format) -> bool {
    let top_field = match fmt.kind {
        Kind::Ieee => (1i64 << fmt.e) - 2,
        Kind::FiniteNan | Kind::Finite => (1i64 << fmt.e) - 1,
    };
    let emax = top_field - fmt.bias as i64;
    let lsb_min = 1 - fmt.bias as i64 - fmt.m as i64;
    fmt.m <= 23 && emax <= 127 && lsb_min >= -149
}

/// The FP32 code of the value of `code` in `fmt` (subnormals normalized, Inf to Inf, -0 to -0,
/// any NaN to the canonical `7FC00000`). Exact when [`widens_exactly`] holds for `fmt`.
#[inline]
pub fn widen(fmt: &Format, code: u64) -> u32 {
    let v = fmt.to_f64(code);
    if v.is_nan() {
        NAN
    } else {
        (v as f32).to_bits()
    }
}

impl Cell {
    /// The cell of `pe` in `format` under `policy` (`None`: the PE's default policy).
    ///
    /// Errors name what is wrong: a PE without a cell (and why), a format the PE does not take
    /// or that does not widen exactly to FP32, an unknown policy.
    pub fn parse(pe: &str, format: &str, policy: Option<&str>) -> Result<Cell> {
        let float = |model: &dyn PeModel| -> Result<(Format, Overflow)> {
            let (fmt, ovf) = float_config(model, format, policy)
                .map_err(|e| Error::new(format!("{pe} cell: {e}")))?;
            if !widens_exactly(&fmt) {
                return Err(Error::new(format!(
                    "{pe} cell: format {} does not widen exactly to FP32 (the accumulator's \
                     format): it needs at most 23 mantissa bits and an exponent range inside \
                     FP32's (E <= 8 for IEEE-kind formats); {} has E={} M={} bias {}",
                    fmt.name(),
                    fmt.name(),
                    fmt.e,
                    fmt.m,
                    fmt.bias
                )));
            }
            Ok((fmt, ovf))
        };
        let fixed_format = |want: &str| -> Result<()> {
            if format != want {
                return Err(Error::new(format!(
                    "{pe} cell: format '{format}' is not taken; the {pe} cell's only format is \
                     {want}"
                )));
            }
            Ok(())
        };
        let policy_of = |model: &dyn PeModel| -> Result<&'static str> {
            pick_policy(model, policy).map_err(|e| Error::new(format!("{pe} cell: {e}")))
        };
        let (op, lanes, width) = match pe {
            "lmul" => {
                let (fmt, ovf) = float(&LMulPe)?;
                check_format(&fmt).map_err(|e| Error::new(format!("lmul cell: {e}")))?;
                (Op::LMul(fmt, ovf), 1, fmt.width())
            }
            "fpmul" => {
                let (fmt, ovf) = float(&FpMulPe)?;
                (Op::FpMul(fmt, ovf), 1, fmt.width())
            }
            "fp16mac" => {
                fixed_format("fp16")?;
                policy_of(&Fp16MacPe)?;
                (Op::Fp16Mac, 1, 16)
            }
            "int16fma" => {
                fixed_format("int16")?;
                let p = policy_of(&Int16FmaPe)?;
                (Op::Int16Fma(Mode::from_policy(p)?), 2, 16)
            }
            "bitmod" => {
                fixed_format("fp16")?;
                if let Some(p) = policy.filter(|p| *p != super::bitmod::POLICY) {
                    return Err(Error::new(format!(
                        "bitmod cell: policy '{p}' is not taken; the cell's only policy is {} \
                         (each group's type select picks 3- or 4-bit codes)",
                        super::bitmod::POLICY
                    )));
                }
                return Ok(bitmod_cell());
            }
            other => return Err(no_cell(other)),
        };
        let (pe, format, policy) = match op {
            Op::LMul(f, o) => ("lmul", f.name(), o.name()),
            Op::FpMul(f, o) => ("fpmul", f.name(), o.name()),
            Op::Fp16Mac => ("fp16mac", "fp16".into(), "ieee"),
            Op::Int16Fma(m) => ("int16fma", "int16".into(), m.policy_name()),
            Op::BitMod => unreachable!("returned above"),
        };
        Ok(Cell {
            pe,
            format,
            policy,
            lanes,
            a_width: width,
            b_width: width,
            op,
        })
    }

    /// The lanes of PE `pe`'s cell (1, 2 for `int16fma`, 4 for `bitmod`); for a PE without a
    /// cell, the error [`Cell::parse`] gives.
    pub fn lanes_of(pe: &str) -> Result<usize> {
        match pe {
            "lmul" | "fpmul" | "fp16mac" => Ok(1),
            "int16fma" => Ok(2),
            "bitmod" => Ok(4),
            other => Err(no_cell(other)),
        }
    }

    /// A short name: `pe format policy`.
    pub fn name(&self) -> String {
        format!("{} {} {}", self.pe, self.format, self.policy)
    }

    /// The mask of one lane of `a`.
    pub fn lane_mask(&self) -> u64 {
        (1u64 << self.a_width) - 1
    }

    /// Whether the cell is sequential (`bitmod`): no [`Cell::step`], a schedule and a result
    /// latency of its own ([`Cell::pe_timing`]).
    pub fn is_sequential(&self) -> bool {
        self.op == Op::BitMod
    }

    /// The cell's timing parameters for [`super::timing::timing_with`].
    pub fn pe_timing(&self) -> super::timing::PeTiming {
        if self.is_sequential() {
            super::timing::PeTiming::bitmod()
        } else {
            super::timing::PeTiming::simple(self.lanes, 1)
        }
    }

    /// One step: the new accumulator `y` from `acc` and the `d` lanes `a[0..d]`, `b[0..d]`
    /// (codes right-aligned, within the lane width; lanes beyond `d` are ignored).
    ///
    /// # Panics
    /// When `a` or `b` holds fewer than `d` lanes, and for the sequential `bitmod` cell.
    #[inline]
    pub fn step(&self, acc: u32, a: &[u64], b: &[u64]) -> u32 {
        match self.op {
            Op::BitMod => panic!("the bitmod cell has no step function (it is sequential)"),
            Op::LMul(f, _) | Op::FpMul(f, _) => {
                fp32acc::add(acc, widen(&f, self.op.product(a[0], b[0])))
            }
            Op::Fp16Mac => fp16mac(acc, a[0] as u16, b[0] as u16),
            Op::Int16Fma(m) => {
                let l = |x: u64| x as u16 as i16;
                m.apply(acc as i32, [l(a[0]), l(a[1])], [l(b[0]), l(b[1])]) as u32
            }
        }
    }

    /// The value of a 32-bit result code for people (FP32 for the float cells, a signed
    /// integer for `int16fma`).
    pub fn display_result(&self, code: u32) -> String {
        match self.op {
            Op::Int16Fma(_) => (code as i32).to_string(),
            _ => Format::FP32.display_value(code as u64),
        }
    }
}

/// A cell's step as the array models compute it: bit for bit [`Cell::step`] (the model tests
/// hold it to that), faster. Products of formats of at most 8 bits come from a table of
/// widened products, 16-bit codes widen through a table, FP16 products are exact `f32`
/// products, and the FP32 sums are the CPU's (`fp32acc::cpu_add`, which equals
/// `fp32acc::add`); the integer cell is the reference itself.
#[derive(Debug, Clone)]
pub struct FastStep {
    op: Op,
    /// Widened products `widen(p(a, b))` at `a << W | b`, for formats of at most 8 bits.
    products: Vec<u32>,
    /// `widen(c)` for every code `c` of a format of at most 16 bits (FP16 for `fp16mac`).
    widened: Vec<u32>,
    width: u32,
}

impl FastStep {
    /// The fast step of `cell` (builds its tables: at most 2^16 entries each).
    pub fn new(cell: &Cell) -> FastStep {
        let op = cell.op;
        let fmt = match op {
            Op::LMul(f, _) | Op::FpMul(f, _) => Some(f),
            Op::Fp16Mac => Some(Format::FP16),
            Op::Int16Fma(_) | Op::BitMod => None,
        };
        let width = fmt.map_or(0, |f| f.width());
        let widened = match fmt {
            Some(f) if width <= 16 => (0..1u64 << width).map(|c| widen(&f, c)).collect(),
            _ => Vec::new(),
        };
        let products = match op {
            Op::LMul(..) | Op::FpMul(..) if width <= 8 => (0..1u64 << (2 * width))
                .map(|q| widened[op.product(q >> width, q & ((1 << width) - 1)) as usize])
                .collect(),
            _ => Vec::new(),
        };
        FastStep {
            op,
            products,
            widened,
            width,
        }
    }

    #[inline(always)]
    fn widen_code(&self, f: &Format, code: u64) -> u32 {
        if self.widened.is_empty() {
            widen(f, code)
        } else {
            self.widened[code as usize]
        }
    }

    /// One step, equal to [`Cell::step`] of the cell it was built from.
    #[inline]
    pub fn step(&self, acc: u32, a: &[u64], b: &[u64]) -> u32 {
        let product = match self.op {
            Op::LMul(f, _) | Op::FpMul(f, _) if self.products.is_empty() => {
                self.widen_code(&f, self.op.product(a[0], b[0]))
            }
            Op::LMul(..) | Op::FpMul(..) => {
                let mask = (1u64 << self.width) - 1;
                self.products[(((a[0] & mask) << self.width) | (b[0] & mask)) as usize]
            }
            Op::Fp16Mac => {
                // The FP16 product is exact in f32 (22-bit significands, exponents in range);
                // a NaN product stays NaN through the sum and is made canonical there.
                let (x, y) = (
                    f32::from_bits(self.widened[a[0] as u16 as usize]),
                    f32::from_bits(self.widened[b[0] as u16 as usize]),
                );
                (x * y).to_bits()
            }
            Op::Int16Fma(m) => {
                let l = |x: u64| x as u16 as i16;
                return m.apply(acc as i32, [l(a[0]), l(a[1])], [l(b[0]), l(b[1])]) as u32;
            }
            Op::BitMod => panic!("the bitmod cell has no step function (it is sequential)"),
        };
        fp32acc::cpu_add(acc, product)
    }
}

/// The error for a PE without a cell: why it has none, and the PEs that have one.
fn no_cell(pe: &str) -> Error {
    let why = match pe {
        "fp32acc" => "fp32acc has no array cell of its own: it accumulates but does not \
                      multiply (it is the adder inside the lmul and fpmul cells)"
            .to_string(),
        other => format!("unknown PE '{other}' for an array cell"),
    };
    Error::new(format!("{why}; PEs with a cell: {}", CELL_PES.join(", ")))
}

/// The `bitmod` cell: format `fp16`, policy `bitmod34`, 4 lanes of 15-bit weights
/// `{scale, select, code}` and FP16 activations ([`super::bitmod`]).
pub fn bitmod_cell() -> Cell {
    Cell {
        pe: "bitmod",
        format: "fp16".into(),
        policy: super::bitmod::POLICY,
        lanes: crate::bitmod::LANES,
        a_width: super::bitmod::WEIGHT_BITS,
        b_width: 16,
        op: Op::BitMod,
    }
}

/// Every cell but the sequential `bitmod` one: `lmul` and `fpmul` in each named format that widens exactly, under each policy
/// the format allows, then `fp16mac` and `int16fma` under each policy.
pub fn cells() -> Vec<Cell> {
    let mut v = Vec::new();
    for (pe, model) in [("lmul", &LMulPe as &dyn PeModel), ("fpmul", &FpMulPe)] {
        for (name, _) in NAMED {
            for policy in model.policies() {
                if let Ok(c) = Cell::parse(pe, name, Some(policy)) {
                    v.push(c);
                }
            }
        }
    }
    v.push(Cell::parse("fp16mac", "fp16", None).expect("fp16mac cell"));
    for p in Int16FmaPe.policies() {
        v.push(Cell::parse("int16fma", "int16", Some(p)).expect("int16fma cell"));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widen_is_exact_for_every_code_of_every_narrow_format() {
        for (name, _) in NAMED {
            let f = Format::parse(name).unwrap();
            assert!(widens_exactly(&f), "{name}");
            if f.width() > 16 {
                continue;
            }
            for c in 0..1u64 << f.width() {
                let w = widen(&f, c);
                let (x, y) = (f.to_f64(c), f32::from_bits(w));
                if x.is_nan() {
                    assert_eq!(w, NAN, "{name} {c:X}");
                } else {
                    // Same value and same sign (of zero too).
                    assert_eq!(y as f64, x, "{name} {c:X}");
                    assert_eq!(y.is_sign_negative(), f.sign(c), "{name} {c:X}");
                }
            }
        }
        assert!(!widens_exactly(&Format::parse("e9m3").unwrap()));
        assert!(!widens_exactly(&Format::parse("e5m24").unwrap()));
        assert!(widens_exactly(&Format::parse("e8m23").unwrap()));
    }
}
