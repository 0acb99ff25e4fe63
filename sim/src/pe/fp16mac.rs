//! `fp16mac`: the bit-parallel FP16 × FP16 + FP32 multiply-accumulate, the usual accelerator
//! PE that BitMoD is compared with.
//!
//! The FP16 product is exact (22-bit significand, it always fits FP32 exactly); it is added to
//! the FP32 accumulator with one round-to-nearest-even per add, subnormals kept, IEEE specials:
//! any NaN gives the canonical NaN `7FC00000`, Inf × 0 and Inf − Inf give NaN, overflow gives Inf.

use crate::error::{Error, Result};
use crate::format::{Class, Format, Overflow, Rounding};
use crate::model::{hex, parse_hex, Evaluation, PeModel, TableOps};
use crate::pe::stream::{random_cycles, Accumulator};
use crate::samples::{random_pair, special_codes};
use rand::Rng;

const H: Format = Format::FP16;
const F: Format = Format::FP32;

/// One multiply-accumulate: `acc + a·b` with `a`, `b` FP16 codes and `acc`, result FP32 codes.
pub fn fp16mac(acc: u32, a: u16, b: u16) -> u32 {
    let (h, f) = (H, F);
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

impl Accumulator for Fp16Mac {
    type Operands = (u16, u16);
    type Inputs = MacInputs;
    fn inputs(reset: bool, clear: bool, en: bool, (a, b): (u16, u16)) -> MacInputs {
        MacInputs {
            reset,
            clear,
            en,
            a,
            b,
        }
    }
    fn clock(&mut self, i: &MacInputs) -> u32 {
        Fp16Mac::clock(self, i)
    }
    /// `reset clear en a b`.
    fn row(i: &MacInputs) -> Vec<u64> {
        vec![
            i.reset as u64,
            i.clear as u64,
            i.en as u64,
            i.a as u64,
            i.b as u64,
        ]
    }
    fn of_row(r: &[u64]) -> MacInputs {
        Self::inputs(r[0] == 1, r[1] == 1, r[2] == 1, (r[3] as u16, r[4] as u16))
    }
}

/// One random accumulation of the streaming MAC, for test stimulus ([`random_cycles`]):
/// operands from [`random_pair`] (NaN and Inf mostly redrawn, since they stay in the accumulator
/// until the next clear), chosen against the running sum (products that cancel it, sometimes in
/// runs of up to three cycles that reach exact zero, and products at half a unit in its last
/// place: rounding ties), and a few special or uniformly random codes.
pub fn random_accumulation<R: Rng>(r: &mut R) -> Vec<MacInputs> {
    let sp = special_codes(&H);
    let mut run = 0;
    random_cycles::<Fp16Mac, R>(
        r,
        |r| (r.gen(), r.gen()),
        |r, acc| {
            let exp = acc & 0x7F80_0000;
            let normal = exp != 0 && exp != 0x7F80_0000;
            if run > 0 {
                run -= 1;
                return cancel_pair(acc, r);
            }
            match r.gen_range(0..64) {
                36..=49 => {
                    run = r.gen_range(0..=2);
                    cancel_pair(acc, r)
                }
                50..=57 if normal => tie_pair(acc, r).unwrap_or_else(|| random_pair_h(r)),
                58 => (sp[r.gen_range(0..sp.len())] as u16, r.gen()),
                59 => (r.gen(), r.gen()),
                _ => mostly_finite_pair(r),
            }
        },
    )
}

fn random_pair_h<R: Rng>(r: &mut R) -> (u16, u16) {
    let (a, b) = random_pair(&H, r);
    (a as u16, b as u16)
}

/// The FP16 code of `x` when `x` is exactly an FP16 value.
fn exact_h(x: f64) -> Option<u16> {
    let c = H
        .from_f64(x, Rounding::NearestEven, Overflow::Saturate)
        .ok()? as u16;
    (H.to_f64(c as u64) == x).then_some(c)
}

/// A [`random_pair`], redrawn (but for one time in 128) while it holds a NaN or an Inf.
pub fn mostly_finite_pair<R: Rng>(r: &mut R) -> (u16, u16) {
    loop {
        let (a, b) = random_pair(&H, r);
        let special = |c: u64| c & 0x7C00 == 0x7C00;
        if !(special(a) || special(b)) || r.gen_ratio(1, 128) {
            return (a as u16, b as u16);
        }
    }
}

/// Operands whose product nearly or exactly cancels the accumulator: `b` a power of two (or a
/// random value near 1), `a` the FP16 value nearest to `-acc / b`, sometimes one unit off.
/// Infinite, NaN or out-of-range accumulators give a [`mostly_finite_pair`].
pub fn cancel_pair<R: Rng>(acc: u32, r: &mut R) -> (u16, u16) {
    let v = F.to_f64(acc as u64);
    let sign = if r.gen() { 0x8000 } else { 0 };
    let b = if r.gen_ratio(3, 4) {
        ((15 + r.gen_range(-8i32..=8)) as u16) << 10
    } else {
        (((15 + r.gen_range(-3i32..=3)) as u16) << 10) | r.gen_range(0..0x400)
    } | sign;
    let x = -v / H.to_f64(b as u64);
    if !v.is_finite() || x.abs() > 65504.0 {
        return mostly_finite_pair(r);
    }
    let mut a = H
        .from_f64(x, Rounding::NearestEven, Overflow::Saturate)
        .expect("finite") as u16;
    match r.gen_range(0..8) {
        0 if a & 0x7FFF < 0x7BFF => a += 1,
        1 if a & 0x7FFF > 0 => a -= 1,
        _ => {}
    }
    if r.gen() {
        (a, b)
    } else {
        (b, a)
    }
}

/// Operands whose product is an odd multiple of half a unit in the last place of the normal
/// accumulator `acc` (a rounding tie when the sum stays in its binade), or `None`.
pub fn tie_pair<R: Rng>(acc: u32, r: &mut R) -> Option<(u16, u16)> {
    let e = ((acc >> 23) & 0xFF) as i32 - 127;
    let q = if r.gen_ratio(1, 3) {
        1.0
    } else {
        (r.gen_range(0..1024u32) * 2 + 1) as f64
    };
    for _ in 0..8 {
        let t = r.gen_range(-24i32..=15);
        let s = e - 24 - t;
        if let (Some(a), Some(b)) = (exact_h(q * 2f64.powi(s)), exact_h(2f64.powi(t))) {
            let a = a | if r.gen() { 0x8000 } else { 0 };
            return Some(if r.gen() { (a, b) } else { (b, a) });
        }
    }
    None
}

/// The `fp16mac` PE in the registry.
pub struct Fp16MacPe;

impl PeModel for Fp16MacPe {
    fn table_ops(&self, _format: &str, _accumulate: bool) -> Result<TableOps> {
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
        let (h, f) = (H, F);
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
