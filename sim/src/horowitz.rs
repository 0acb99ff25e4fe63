//! `horowitz-45nm`: the table estimator of the L-Mul paper — energy per arithmetic operation
//! from M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
//! (45 nm, about 0.9 V), kept in `sim/data/horowitz45.csv`. An operation of a PE is priced as a
//! list of table rows ([`crate::model::PeModel::table_ops`]); a row the table lacks is an error.
//! This estimator is printed beside the gate-level figure, never in its place.

use crate::{Error, Result};
use serde::Serialize;

/// The table as kept in the project.
pub const HOROWITZ45_CSV: &str = include_str!("../data/horowitz45.csv");

/// One table row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Operation (`int_add`, `int_mult`, `fp_add`, `fp_mult`, ...).
    pub operation: String,
    /// Operand width, bits.
    pub bits: u32,
    /// Energy, pJ.
    pub energy_pj: f64,
    /// Area, µm², when given.
    pub area_um2: Option<f64>,
    /// Whether the row is on the original slide (`false`: from secondary tables).
    pub original: bool,
}

/// Loads the table.
pub fn table() -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (k, line) in HOROWITZ45_CSV.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.splitn(5, ',').collect();
        let bad =
            |what: &str| Error::new(format!("sim/data/horowitz45.csv:{}: {what}: {line}", k + 1));
        if f.len() != 5 {
            return Err(bad("expected 5 columns"));
        }
        // Ranges such as DRAM's 1300-2600 are not arithmetic rows; skip them.
        let Ok(energy) = f[2].parse::<f64>() else {
            continue;
        };
        rows.push(Row {
            operation: f[0].to_string(),
            bits: f[1].parse().map_err(|_| bad("bad bits"))?,
            energy_pj: energy,
            area_um2: if f[3].is_empty() {
                None
            } else {
                Some(f[3].parse().map_err(|_| bad("bad area"))?)
            },
            original: f[4].starts_with("yes"),
        });
    }
    Ok(rows)
}

/// A priced operation: the rows used and their sum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Rows used, in order.
    pub rows: Vec<Row>,
    /// Sum, pJ per operation.
    pub energy_pj: f64,
    /// Notes (secondary rows, stand-ins).
    pub notes: Vec<String>,
}

/// Prices a list of `(operation, bits)` with the table; an absent row is an error.
pub fn estimate(ops: &[(&str, u32)]) -> Result<Estimate> {
    let t = table()?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for &(op, bits) in ops {
        let r = t
            .iter()
            .find(|r| r.operation == op && r.bits == bits)
            .ok_or_else(|| {
                Error::new(format!(
                    "horowitz-45nm has no row for {op} {bits}-bit (sim/data/horowitz45.csv)"
                ))
            })?;
        if !r.original {
            notes.push(format!(
                "{op} {bits}-bit is not on Horowitz's original slide (secondary tables)"
            ));
        }
        rows.push(r.clone());
    }
    Ok(Estimate {
        energy_pj: rows.iter().map(|r| r.energy_pj).sum(),
        rows,
        notes,
    })
}

/// Provenance line of the estimator.
pub const PROVENANCE: &str = "M. Horowitz, \"Computing's energy problem (and what we can do \
     about it)\", ISSCC 2014, 45 nm, ~0.9 V (sim/data/horowitz45.csv); the table method of the \
     L-Mul paper";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_and_lmul_paper_claims() {
        let t = table().unwrap();
        assert_eq!(t.len(), 11, "arithmetic rows and the SRAM read");
        // The L-Mul paper's figures: fp32 multiply 3.7 pJ -> int32 add 0.1 pJ saves 97%;
        // multiply-add 3.7 + 0.9 -> 0.1 + 0.9 saves 78%.
        let mul = estimate(&[("fp_mult", 32)]).unwrap().energy_pj;
        let add = estimate(&[("int_add", 32)]).unwrap().energy_pj;
        assert!(((1.0 - add / mul) * 100.0 - 97.3).abs() < 0.1);
        let mac = estimate(&[("fp_mult", 32), ("fp_add", 32)])
            .unwrap()
            .energy_pj;
        let lmac = estimate(&[("int_add", 32), ("fp_add", 32)])
            .unwrap()
            .energy_pj;
        assert!(((1.0 - lmac / mac) * 100.0 - 78.3).abs() < 0.1);
        let e = estimate(&[("fp_mult", 8)]).unwrap_err();
        assert!(e.0.contains("fp_mult 8-bit"), "{e}");
        let s = estimate(&[("int_add", 16)]).unwrap();
        assert_eq!(s.notes.len(), 1, "int_add 16 is a secondary row");
    }
}
