//! The reference-model face of a processing element: the [`PeModel`] trait every PE
//! implements once, and the operand helpers the models share. The list of PEs is
//! [`crate::pe::registry`].

use crate::error::{Error, Result};
use serde::Serialize;

/// One evaluated operation, ready to print or serialize.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Result code as uppercase hex, zero-padded to the result width.
    pub hex: String,
    /// The result as a decimal value (or `NaN`, `inf`, `-inf`).
    pub value: String,
    /// Further named facts about the operation (cycles, flags, decoded operands...).
    pub details: Vec<(String, String)>,
}

/// The reference model of one PE, as the CLI and the other layers see it.
pub trait PeModel: Sync {
    /// Short identifier used on the command line (`lmul`, `fpmul`, ...).
    fn id(&self) -> &'static str;
    /// One-line description.
    fn summary(&self) -> &'static str;
    /// Format names this PE accepts (custom `eXmY` support is described by [`Self::format_note`]).
    fn formats(&self) -> Vec<String>;
    /// Free-text note on formats beyond the named ones (empty when none).
    fn format_note(&self) -> &'static str {
        ""
    }
    /// Overflow / accumulation policies; the first one is the default.
    fn policies(&self) -> &'static [&'static str];
    /// Operand syntax for `pelab eval`, one line.
    fn operand_syntax(&self) -> &'static str;
    /// Evaluates one operation given the format name, the policy (None = default) and the
    /// operand tokens as typed by the user.
    fn eval(&self, format: &str, policy: Option<&str>, operands: &[String]) -> Result<Evaluation>;
    /// The rows of Horowitz's 45 nm table (`horowitz-45nm`) that one operation of this PE in
    /// `format` stands for (`accumulate`: inside a dot product, with its accumulation), and a
    /// note on the mapping. An error when the table has no fair counterpart.
    fn table_ops(&self, format: &str, accumulate: bool) -> Result<TableOps> {
        let _ = (format, accumulate);
        Err(crate::Error::new(format!(
            "{} has no counterpart in horowitz-45nm",
            self.id()
        )))
    }
}

/// Rows of Horowitz's 45 nm table (operation, bits) that one operation stands for, and a note
/// on the mapping ([`PeModel::table_ops`]).
pub type TableOps = (Vec<(&'static str, u32)>, String);

/// The smallest integer-add width of Horowitz's table (8, 16, 32) holding `bits`.
pub fn table_add_bits(bits: u32) -> Option<u32> {
    [8, 16, 32].into_iter().find(|&b| b >= bits)
}

/// Picks the policy: `None` gives the default (first), an unknown one is an error listing the
/// valid ones.
pub fn pick_policy(pe: &dyn PeModel, policy: Option<&str>) -> Result<&'static str> {
    let all = pe.policies();
    match policy {
        None => Ok(all[0]),
        Some(p) => all.iter().copied().find(|q| *q == p).ok_or_else(|| {
            Error::new(format!(
                "unknown policy '{p}' for {}; valid: {}",
                pe.id(),
                all.join(", ")
            ))
        }),
    }
}

/// Parses a hex operand of at most `bits` bits (an optional `0x` prefix is accepted).
pub fn parse_hex(name: &str, token: &str, bits: u32) -> Result<u64> {
    let t = token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))
        .unwrap_or(token);
    let digits = bits.div_ceil(4) as usize;
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::new(format!(
            "operand {name} = '{token}' is not hex; expected up to {digits} hex digits ({bits} bits)"
        )));
    }
    let v = u128::from_str_radix(t.trim_start_matches('0').max("0"), 16).map_err(|_| {
        Error::new(format!(
            "operand {name} = '{token}' is wider than {bits} bits"
        ))
    })?;
    if bits < 128 && v >> bits != 0 {
        return Err(Error::new(format!(
            "operand {name} = '{token}' is wider than {bits} bits (expected up to {digits} hex digits)"
        )));
    }
    Ok(v as u64)
}

/// Formats `v` as uppercase hex zero-padded to `bits` bits.
pub fn hex(v: u64, bits: u32) -> String {
    format!("{:0width$X}", v, width = bits.div_ceil(4) as usize)
}
