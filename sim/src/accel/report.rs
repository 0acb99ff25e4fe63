//! Readable summaries of accelerator runs: ops grouped by name across layers, and CSV text of
//! groups and of the artifact's table.

use super::exact::Exact;
use super::hpca25::{ArtifactRow, Bound, OpResult, Run};
use super::workload::OpKind;
use crate::{Error, Result};
use serde::Serialize;

/// Identical ops (same name and shape) of a run, counted: one row per module across layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpGroup {
    /// How many ops the group holds.
    pub count: u64,
    /// One op of the group (all are identical).
    pub each: OpResult,
    /// Σ max(C, D) over the group.
    pub cycles: u64,
    /// Σ E_pe (pJ).
    pub e_pe: Exact,
    /// Σ E_rd (pJ).
    pub e_rd: Exact,
    /// Σ E_wr (pJ).
    pub e_wr: Exact,
    /// Σ E_dram (pJ).
    pub e_dram: Exact,
}

/// The run's ops grouped by (name, kind, shape), in order of first appearance.
pub fn group_ops(run: &Run) -> Result<Vec<OpGroup>> {
    let mut groups: Vec<OpGroup> = Vec::new();
    let mut index: std::collections::HashMap<super::workload::Op, usize> =
        std::collections::HashMap::new();
    for r in &run.ops {
        match index.get(&r.op).copied() {
            Some(i) => {
                let g = &mut groups[i];
                g.count += 1;
                g.cycles = g
                    .cycles
                    .checked_add(r.cycles)
                    .ok_or_else(|| Error::new("cycle count overflows"))?;
                g.e_pe = g.e_pe.checked_add(r.e_pe)?;
                g.e_rd = g.e_rd.checked_add(r.e_rd)?;
                g.e_wr = g.e_wr.checked_add(r.e_wr)?;
                g.e_dram = g.e_dram.checked_add(r.e_dram)?;
            }
            None => {
                index.insert(r.op.clone(), groups.len());
                groups.push(OpGroup {
                    count: 1,
                    each: r.clone(),
                    cycles: r.cycles,
                    e_pe: r.e_pe,
                    e_rd: r.e_rd,
                    e_wr: r.e_wr,
                    e_dram: r.e_dram,
                })
            }
        }
    }
    Ok(groups)
}

/// µJ of an exact pJ figure, as `f64`.
pub fn uj(pj: Exact) -> f64 {
    Exact(pj.0 / 1_000_000).to_f64()
}

/// `linear`/`attention`, `compute`/`dram`.
fn names(kind: OpKind, bound: Bound) -> (&'static str, &'static str) {
    (
        kind.name(),
        match bound {
            Bound::Compute => "compute",
            Bound::Dram => "dram",
        },
    )
}

fn csv_err(e: impl std::fmt::Display) -> Error {
    Error::new(format!("CSV: {e}"))
}

/// CSV of op groups, one row per group (per-op figures, then the group's sums; µJ).
pub fn groups_csv(task: &str, groups: &[OpGroup]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "task",
        "op",
        "kind",
        "count",
        "cout",
        "cin",
        "cin_i",
        "tok",
        "tiles",
        "compute_cycles",
        "dram_cycles",
        "cycles_each",
        "bound",
        "fw",
        "fi",
        "w_bytes",
        "i_bytes",
        "o_bytes",
        "cycles",
        "e_pe_uj",
        "e_sram_read_uj",
        "e_sram_write_uj",
        "e_dram_uj",
    ])
    .map_err(csv_err)?;
    for g in groups {
        let e = &g.each;
        let (kind, bound) = names(e.op.kind, e.bound);
        let rec: Vec<String> = vec![
            task.to_string(),
            e.op.name.clone(),
            kind.to_string(),
            g.count.to_string(),
            e.op.cout.to_string(),
            e.op.cin.to_string(),
            e.op.cin_i.to_string(),
            e.op.tok.to_string(),
            e.tiles.to_string(),
            e.compute_cycles.to_string(),
            e.dram_cycles.to_string(),
            e.cycles.to_string(),
            bound.to_string(),
            e.fw.to_string(),
            e.fi.to_string(),
            e.w_bytes.to_string(),
            e.i_bytes.to_string(),
            e.o_bytes.to_string(),
            g.cycles.to_string(),
            uj(g.e_pe).to_string(),
            uj(g.e_rd).to_string(),
            uj(g.e_wr).to_string(),
            uj(g.e_dram).to_string(),
        ];
        w.write_record(&rec).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    String::from_utf8(bytes).map_err(csv_err)
}

/// CSV of the artifact's table (the columns of [`ArtifactRow`]).
pub fn artifact_csv(rows: &[ArtifactRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    String::from_utf8(bytes).map_err(csv_err)
}
