//! `fp16mac`: the bit-parallel FP16 × FP16 + FP32 multiply-accumulate, the usual accelerator
//! PE that BitMoD is compared with.
//!
//! The FP16 product is exact (22-bit significand, it always fits FP32 exactly); it is added to
//! the FP32 accumulator with one round-to-nearest-even per add, subnormals kept, IEEE specials:
//! any NaN gives the canonical NaN `7FC00000`, Inf × 0 and Inf − Inf give NaN, overflow gives Inf.

use crate::error::{Error, Result};
use crate::format::{Class, Format, Overflow, Rounding};
use crate::model::{hex, parse_hex, Evaluation, PeModel};

/// One multiply-accumulate: `acc + a·b` with `a`, `b` FP16 codes and `acc`, result FP32 codes.
pub fn fp16mac(acc: u32, a: u16, b: u16) -> u32 {
    let (h, f) = (Format::FP16, Format::FP32);
    let (a, b, acc) = (a as u64, b as u64, acc as u64);
    let nan = f.canonical_nan().unwrap() as u32;
    let (ca, cb, cc) = (h.classify(a), h.classify(b), f.classify(acc));
    if ca == Class::Nan || cb == Class::Nan || cc == Class::Nan {
        return nan;
    }
    let psign = h.sign(a) != h.sign(b);
    let p_inf = ca == Class::Inf || cb == Class::Inf;
    if p_inf && (ca == Class::Zero || cb == Class::Zero) {
        return nan;
    }
    if p_inf || cc == Class::Inf {
        if p_inf && cc == Class::Inf && psign != f.sign(acc) {
            return nan;
        }
        let sign = if cc == Class::Inf { f.sign(acc) } else { psign };
        return ((if sign { f.sign_bit() } else { 0 }) | f.inf().unwrap()) as u32;
    }
    let (_, sa, ea) = h.decompose(a).unwrap();
    let (_, sb, eb) = h.decompose(b).unwrap();
    let x = f.decompose(acc).unwrap();
    f.round_sum(
        x,
        (psign, sa * sb, ea + eb),
        Rounding::NearestEven,
        Overflow::Ieee,
    ) as u32
}

/// The inputs of the streaming MAC during one clock cycle (one value per RTL port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacInputs {
    /// Synchronous reset, active high; highest priority.
    pub reset: bool,
    /// Synchronous clear, active high; beats `en`, the operands of that cycle are ignored.
    pub clear: bool,
    /// Accumulate enable, active high; when low (and no reset/clear) the register holds.
    pub en: bool,
    /// FP16 operand `a`.
    pub a: u16,
    /// FP16 operand `b`.
    pub b: u16,
}

/// The streaming MAC: an FP32 accumulator register updated by one [`fp16mac`] per clock, with
/// the same control ports and priorities as the `int16fma` streaming MAC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fp16Mac {
    /// The FP32 accumulator register (the `acc` output port); +0 after reset.
    pub acc: u32,
}

impl Fp16Mac {
    /// One rising clock edge. Priority: `reset`, then `clear` (both load +0), then `en`
    /// (load `acc + a·b`); otherwise the register holds. Returns the new `acc`.
    pub fn clock(&mut self, i: &MacInputs) -> u32 {
        if i.reset || i.clear {
            self.acc = 0;
        } else if i.en {
            self.acc = fp16mac(self.acc, i.a, i.b);
        }
        self.acc
    }
}

/// The `fp16mac` PE in the registry.
pub struct Fp16MacPe;

impl PeModel for Fp16MacPe {
    fn table_ops(
        &self,
        _format: &str,
        _accumulate: bool,
    ) -> Result<(Vec<(&'static str, u32)>, String)> {
        Ok((
            vec![("fp_mult", 16), ("fp_add", 32)],
            "an FP16 multiply and an FP32 add per MAC".into(),
        ))
    }

    fn id(&self) -> &'static str {
        "fp16mac"
    }
    fn summary(&self) -> &'static str {
        "FP16 x FP16 exact product accumulated into FP32 (RNE per add); the BitMoD baseline"
    }
    fn formats(&self) -> Vec<String> {
        vec!["fp16".into()]
    }
    fn policies(&self) -> &'static [&'static str] {
        &["ieee"]
    }
    fn operand_syntax(&self) -> &'static str {
        "ACC A B (ACC: FP32 hex code, A and B: FP16 hex codes)"
    }
    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation> {
        if format != "fp16" {
            return Err(Error::new(format!(
                "fp16mac takes format fp16 (FP16 operands, FP32 accumulator), not '{format}'"
            )));
        }
        crate::model::pick_policy(self, policy)?;
        if operands.len() != 3 {
            return Err(Error::new(format!(
                "expected three operands: {}; got {}",
                self.operand_syntax(),
                operands.len()
            )));
        }
        let acc = parse_hex("ACC", &operands[0], 32)? as u32;
        let a = parse_hex("A", &operands[1], 16)? as u16;
        let b = parse_hex("B", &operands[2], 16)? as u16;
        let y = fp16mac(acc, a, b);
        let (h, f) = (Format::FP16, Format::FP32);
        Ok(Evaluation {
            hex: hex(y as u64, 32),
            value: f.display_value(y as u64),
            details: vec![
                ("acc".into(), f.display_value(acc as u64)),
                ("a".into(), h.display_value(a as u64)),
                ("b".into(), h.display_value(b as u64)),
            ],
        })
    }
}
