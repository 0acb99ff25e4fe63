//! `bitmod`: the BitMoD bit-serial mixture-of-datatype PE ("BitMoD: Bit-serial
//! Mixture-of-Datatype LLM Acceleration", Chen et al., HPCA 2025).
//!
//! - [`datatype`](mod@datatype): the 3/4-bit weight datatypes and their code tables;
//! - [`quant`]: the per-group mixture-of-datatype quantizer and the integer second-level scale;
//! - [`terms`]: each weight as two signed power-of-two terms, one per cycle;
//! - [`datapath`]: the bit-accurate PE model (4 FP16 lanes, block-floating-point group
//!   accumulator, bit-serial dequantizer), its cycle count and error bounds;
//! - [`reference`](mod@reference): the exact-math dot product it is measured against.
//!
//! `docs/bitmod.md` defines every rule and width.

pub mod datapath;
pub mod datatype;
pub mod quant;
pub mod reference;
pub mod terms;

pub use datapath::{
    compute_cycles, CycleTrace, DotOutput, GroupOutput, PeConfig, LANES, MAX_GROUP,
};
pub use datatype::{candidate_set, datatype, CandidateSet, Datatype, ALL_DATATYPES, ALL_SETS};
pub use quant::{
    integer_scales, nearest_code, quantize_channel, quantize_group, quantize_with, IntScales,
    QuantChannel, QuantGroup,
};
pub use reference::{exact_dot, exact_group_sum, fp16_to_f64, Fp16Parts};
pub use terms::{decompose, reconstruct, Term};

use crate::bail;
use crate::error::Result;
use crate::model::{hex, parse_hex, pick_policy, Evaluation, PeModel};

/// The bitmod PE in the registry.
pub struct BitModPe;

const VARIANTS: [&str; 4] = ["er+", "er-", "ea+", "ea-"];

/// Resolves the TYPE operand for a code width: a variant name, a selector digit 0-3, or a
/// datatype name of that width the PE can evaluate.
fn parse_type(token: &str, bits: u32) -> Result<&'static Datatype> {
    let lower = token.to_ascii_lowercase();
    let variant = VARIANTS
        .iter()
        .position(|v| *v == lower)
        .or_else(|| match lower.as_str() {
            "0" | "1" | "2" | "3" => lower.parse().ok(),
            _ => None,
        });
    if let Some(v) = variant {
        let select = if bits == 4 { 4 } else { 0 } + v as u8;
        return Ok(datatype::by_pe_select(select).expect("eight PE selects"));
    }
    match datatype(&lower) {
        Some(d) if d.bits == bits && d.pe_decomposable() => Ok(d),
        Some(d) if d.bits != bits => bail!(
            "operand TYPE = '{token}' is a {}-bit type; the policy bitmod{bits} expects {bits}-bit codes",
            d.bits
        ),
        Some(d) => bail!(
            "operand TYPE = '{token}': the PE cannot evaluate {} (7 needs three terms)",
            d.name
        ),
        None => {
            let names: Vec<_> = ALL_DATATYPES
                .iter()
                .filter(|d| d.bits == bits && d.pe_decomposable())
                .map(|d| d.name)
                .collect();
            bail!(
                "operand TYPE = '{token}' is unknown; expected er+, er-, ea+, ea-, a selector 0-3 or one of {}",
                names.join(", ")
            )
        }
    }
}

impl PeModel for BitModPe {
    fn id(&self) -> &'static str {
        "bitmod"
    }

    fn summary(&self) -> &'static str {
        "BitMoD bit-serial PE: 4 lanes of FP16 activations x 3/4-bit mixture-of-datatype weights, block-floating-point group accumulator, bit-serial integer dequantizer"
    }

    fn formats(&self) -> Vec<String> {
        vec!["fp16".to_string()]
    }

    fn format_note(&self) -> &'static str {
        "activations are FP16; the policy chooses 4-bit (bitmod4) or 3-bit (bitmod3) weight codes"
    }

    fn policies(&self) -> &'static [&'static str] {
        &["bitmod4", "bitmod3"]
    }

    fn operand_syntax(&self) -> &'static str {
        "TYPE SCALE CODES X0 [X1 ...]  (TYPE er+|er-|ea+|ea- or selector 0-3 or a type name; SCALE 8-bit hex integer scale; CODES 1..128 hex digits, one weight code each, weight 0 first; Xi FP16 hex, one per weight)"
    }

    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation> {
        if format != "fp16" {
            bail!("bitmod takes format fp16 (FP16 activations), not '{format}'");
        }
        let bits = match pick_policy(self, policy)? {
            "bitmod3" => 3,
            _ => 4,
        };
        let cfg = PeConfig::default();
        if operands.len() < 4 {
            bail!(
                "bitmod needs TYPE SCALE CODES X0 [X1 ...]; got {} operand(s)",
                operands.len()
            );
        }
        let dtype = parse_type(&operands[0], bits)?;
        let scale = parse_hex("SCALE", &operands[1], cfg.scale_bits)? as u32;
        let digits = operands[2]
            .strip_prefix("0x")
            .or_else(|| operands[2].strip_prefix("0X"))
            .unwrap_or(&operands[2]);
        if digits.is_empty() || digits.len() > MAX_GROUP {
            bail!(
                "operand CODES has {} digits; expected 1..={MAX_GROUP} hex digits, one {bits}-bit code per weight",
                digits.len()
            );
        }
        let codes = digits
            .chars()
            .enumerate()
            .map(|(i, ch)| parse_hex(&format!("W{i}"), &ch.to_string(), bits).map(|c| c as u8))
            .collect::<Result<Vec<u8>>>()?;
        let xs = &operands[3..];
        if xs.len() != codes.len() {
            bail!(
                "{} weight codes but {} activations; expected one FP16 activation (4 hex digits) per weight",
                codes.len(),
                xs.len()
            );
        }
        let acts = xs
            .iter()
            .enumerate()
            .map(|(i, t)| parse_hex(&format!("X{i}"), t, 16).map(|x| x as u16))
            .collect::<Result<Vec<u16>>>()?;
        let out = cfg.run_group(dtype, &codes, &acts, scale)?;
        let value = out.value();
        let mut details = vec![
            ("type".to_string(), dtype.name.to_string()),
            (
                "pe_select".to_string(),
                dtype
                    .pe_select
                    .map_or("none (model only)".to_string(), |s| s.to_string()),
            ),
            ("int_scale".to_string(), scale.to_string()),
            ("weights".to_string(), codes.len().to_string()),
            ("exponent".to_string(), out.exponent.to_string()),
            ("mantissa".to_string(), out.mantissa.to_string()),
            ("acc_mantissa".to_string(), out.acc_mantissa.to_string()),
            ("fp32".to_string(), hex(out.to_f32().to_bits() as u64, 32)),
            ("compute_cycles".to_string(), out.compute_cycles.to_string()),
            ("dequant_cycles".to_string(), out.dequant_cycles.to_string()),
            ("cycles".to_string(), out.latency().to_string()),
        ];
        if out.special {
            details.push((
                "special".to_string(),
                "Inf/NaN activation: result meaningless".to_string(),
            ));
        } else {
            let exact = exact_group_sum(dtype, &codes, &acts)? * scale as f64;
            let bound = cfg.input_error_bound(dtype, &codes, &acts, scale)?;
            details.push(("exact".to_string(), format!("{exact}")));
            details.push(("error".to_string(), format!("{}", value - exact)));
            details.push(("error_bound".to_string(), format!("{bound:e}")));
        }
        Ok(Evaluation {
            hex: hex(out.packed(), cfg.output_bits()),
            value: format!("{value}"),
            details,
        })
    }
}
