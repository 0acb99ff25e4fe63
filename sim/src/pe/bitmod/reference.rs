//! Exact-math reference of the BitMoD dot product, and FP16 activation decoding.
//!
//! Every FP16 number is an integer multiple of 2^-24 and every weight value an integer, so a
//! group sum `Σ value(code_i)·x_i` over at most 128 weights is an integer multiple of 2^-24
//! below 2^28: it is computed exactly in integers. The dot product
//! `channel_scale · Σ_g int_scale_g · group_sum_g` is exact in integers up to the final
//! conversion and multiplication by the channel scale (two f64 roundings, relative error below
//! 2^-52).

use super::datatype::Datatype;
use super::quant::QuantChannel;
use crate::bail;
use crate::error::Result;

/// An FP16 activation as the PE sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fp16Parts {
    /// Sign bit.
    pub sign: bool,
    /// Exponent used by the datapath: the exponent field, or 1 when the field is 0.
    pub exp: u32,
    /// The 11-bit significand: hidden bit (1 unless the exponent field is 0) and fraction.
    pub significand: u32,
    /// True for Inf and NaN (exponent field 31); the datapath then treats the field as an
    /// ordinary exponent 31 with hidden bit 1 and raises its special flag.
    pub special: bool,
}

impl Fp16Parts {
    /// Splits an FP16 code. The value is `(-1)^sign · significand · 2^(exp - 25)` for every
    /// finite code.
    pub fn from_bits(x: u16) -> Fp16Parts {
        let field = (x >> 10) as u32 & 0x1F;
        let frac = x as u32 & 0x3FF;
        Fp16Parts {
            sign: x & 0x8000 != 0,
            exp: field.max(1),
            significand: if field == 0 { frac } else { frac | 0x400 },
            special: field == 0x1F,
        }
    }
}

/// The value of a finite FP16 code in units of 2^-24 (exact; `None` for Inf and NaN).
pub fn fp16_units(x: u16) -> Option<i64> {
    let p = Fp16Parts::from_bits(x);
    if p.special {
        return None;
    }
    let m = (p.significand as i64) << (p.exp - 1);
    Some(if p.sign { -m } else { m })
}

/// The value of an FP16 code as f64 (Inf and NaN included).
pub fn fp16_to_f64(x: u16) -> f64 {
    match fp16_units(x) {
        Some(u) => u as f64 * 2f64.powi(-24),
        None if x & 0x3FF != 0 => f64::NAN,
        None if x & 0x8000 != 0 => f64::NEG_INFINITY,
        None => f64::INFINITY,
    }
}

fn check_group(dtype: &Datatype, codes: &[u8], acts: &[u16]) -> Result<()> {
    if codes.len() != acts.len() {
        bail!(
            "{} weight codes but {} activations; expected one activation per weight",
            codes.len(),
            acts.len()
        );
    }
    for (i, &c) in codes.iter().enumerate() {
        if c as usize >= dtype.values.len() {
            bail!(
                "weight code W{i} = {c:X} is wider than {} bits ({})",
                dtype.bits,
                dtype.name
            );
        }
    }
    Ok(())
}

/// The exact group sum `Σ value(code_i)·x_i` in units of 2^-24 (code units times activation
/// units). Inf and NaN activations are an error.
pub fn exact_group_units(dtype: &Datatype, codes: &[u8], acts: &[u16]) -> Result<i64> {
    check_group(dtype, codes, acts)?;
    // |value·x| < 2^44, so 2^18 products cannot overflow the i64 sum.
    if codes.len() > 1 << 18 {
        bail!("a group holds at most 2^18 weights here");
    }
    let mut sum = 0i64;
    for (i, (&c, &x)) in codes.iter().zip(acts).enumerate() {
        let Some(u) = fp16_units(x) else {
            bail!("activation X{i} = {x:04X} is Inf or NaN; the reference needs finite values");
        };
        sum += dtype.values[c as usize] as i64 * u;
    }
    Ok(sum)
}

/// The exact group sum `Σ value(code_i)·x_i` in code units (exact in f64).
pub fn exact_group_sum(dtype: &Datatype, codes: &[u8], acts: &[u16]) -> Result<f64> {
    Ok(exact_group_units(dtype, codes, acts)? as f64 * 2f64.powi(-24))
}

/// The exact dot product of a quantized channel with FP16 activations:
/// `channel_scale · Σ_g int_scale_g · Σ_i value(code_i)·x_i`.
pub fn exact_dot(channel: &QuantChannel, acts: &[u16]) -> Result<f64> {
    if acts.len() != channel.len() {
        bail!(
            "{} activations for a channel of {} weights",
            acts.len(),
            channel.len()
        );
    }
    let mut total = 0i128;
    let mut at = 0;
    for (g, (grp, &s)) in channel.groups.iter().zip(&channel.int_scales).enumerate() {
        let n = grp.codes.len();
        let u = exact_group_units(grp.datatype, &grp.codes, &acts[at..at + n])
            .map_err(|e| crate::Error::new(format!("group {g}: {e}")))?;
        total += u as i128 * s as i128;
        at += n;
    }
    Ok(total as f64 * 2f64.powi(-24) * channel.channel_scale as f64)
}
