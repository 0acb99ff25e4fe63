//! The float formats that have RTL.
//!
//! Formats themselves come from the reference crate ([`pelab_sim::format::Format`]). rust-hdl
//! widths are const generics, so RTL exists only for the named formats in [`RTL_FORMATS`]; any
//! other format, custom `eXmY` included, is rejected with an error that lists them.

use pelab_sim::error::{Error, Result};
pub use pelab_sim::format::{Format, Kind, Overflow, NAMED};

/// Names of the formats that have RTL, in display order.
pub const RTL_FORMATS: [&str; 8] = [
    "e4m3", "e5m2", "bf16", "fp16", "fp32", "e2m1", "e3m2", "e2m3",
];

/// Parses a format name and checks that it has RTL; the error lists the formats that have.
pub fn rtl_format(name: &str) -> Result<Format> {
    let rejected = |why: String| {
        Error::new(format!(
            "{why}; Verilog exists only for the named formats: {}",
            RTL_FORMATS.join(", ")
        ))
    };
    let f = Format::parse(name).map_err(|e| rejected(e.to_string()))?;
    if !RTL_FORMATS.contains(&f.name().as_str()) {
        return Err(rejected(format!(
            "format {name} has a reference model but no RTL (RTL widths are fixed at compile time)"
        )));
    }
    Ok(f)
}

/// Mask of the exponent field.
pub fn exp_mask(f: &Format) -> u64 {
    f.mag_mask() - f.man_mask()
}

/// NaN test masks `(sel, any)`: a code is NaN iff `code & sel == sel && code & any != 0`
/// (never, for formats without NaN).
pub fn nan_masks(f: &Format) -> (u64, u64) {
    match f.kind {
        Kind::Ieee => (exp_mask(f), f.man_mask()),
        Kind::FiniteNan => (f.mag_mask(), f.mag_mask()),
        Kind::Finite => (0, 0),
    }
}

/// Magnitude code that means Inf; formats without Inf get the sign bit, which no magnitude
/// (`code & (S-1)`) can equal.
pub fn inf_code(f: &Format) -> u64 {
    f.inf().unwrap_or(f.sign_bit())
}

/// Result of an overflowing operation under `overflow` (a magnitude, or the whole canonical
/// NaN code) and whether the result's sign applies to it.
pub fn overflow_result(f: &Format, overflow: Overflow) -> (u64, bool) {
    match (overflow, f.inf(), f.canonical_nan()) {
        (Overflow::Saturate, _, _) => (f.max_finite(), true),
        (Overflow::Ieee, Some(inf), _) => (inf, true),
        (Overflow::Ieee, None, Some(nan)) => (nan, false),
        // Formats without Inf or NaN only saturate (their configurations are rejected).
        (Overflow::Ieee, None, None) => (f.max_finite(), true),
    }
}

/// One-line description of a named format, for Verilog headers.
pub fn describe(f: &Format) -> String {
    let name = f.name();
    let what = NAMED
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, d)| *d);
    format!(
        "{name} ({what}; 1 sign, {} exponent, {} mantissa bits)",
        f.e, f.m
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_formats_have_rtl_and_custom_ones_do_not() {
        for n in RTL_FORMATS {
            assert_eq!(rtl_format(n).unwrap().name(), n);
        }
        let e = rtl_format("e8m3").unwrap_err().to_string();
        assert!(
            e.contains("e8m3") && e.contains("bf16") && e.contains("e2m3"),
            "{e}"
        );
        let e = rtl_format("xyz").unwrap_err().to_string();
        assert!(e.contains("fp32"), "{e}");
        assert_eq!(exp_mask(&rtl_format("bf16").unwrap()), 0x7F80);
    }
}
