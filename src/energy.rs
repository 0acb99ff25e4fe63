//! `pelab energy`: energy per operation of a PE configuration at gate level, with the table
//! estimate beside it, as text, JSON or CSV.

use pelab_sim::{Error, Result};
use pelab_testbench::codec::{Dist, Shape};
use pelab_testbench::energy::{measure, read_library, Measurement, Request, Tech};
use std::io::Write as _;

/// A parsed `--workload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadArg {
    /// Element-wise operations.
    Elementwise,
    /// Dot products of length k.
    Dot(u64),
    /// A matrix product M x K x N (M·N dot products of length K).
    Matmul(u64, u64, u64),
}

impl WorkloadArg {
    /// Parses `elementwise`, `dot:K` or `matmul:MxKxN`.
    pub fn parse(s: &str) -> Result<WorkloadArg> {
        let bad = || {
            Error::new(format!(
                "bad --workload '{s}'; expected elementwise, dot:K or matmul:MxKxN (positive \
                 integers, e.g. dot:4096 or matmul:64x4096x64)"
            ))
        };
        let num = |t: &str| t.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(bad);
        if s == "elementwise" {
            return Ok(WorkloadArg::Elementwise);
        }
        if let Some(k) = s.strip_prefix("dot:") {
            return Ok(WorkloadArg::Dot(num(k)?));
        }
        if let Some(d) = s.strip_prefix("matmul:") {
            let v: Vec<&str> = d.split('x').collect();
            if v.len() != 3 {
                return Err(bad());
            }
            return Ok(WorkloadArg::Matmul(num(v[0])?, num(v[1])?, num(v[2])?));
        }
        Err(bad())
    }

    /// The simulated shape (a matrix product is simulated as its dot products).
    pub fn shape(self) -> Shape {
        match self {
            WorkloadArg::Elementwise => Shape::Elementwise,
            WorkloadArg::Dot(k) | WorkloadArg::Matmul(_, k, _) => Shape::Dot { k },
        }
    }

    /// Operations of the whole workload, when it has a size.
    pub fn total_ops(self) -> Option<u128> {
        match self {
            WorkloadArg::Matmul(m, k, n) => Some(m as u128 * k as u128 * n as u128),
            WorkloadArg::Dot(k) => Some(k as u128),
            WorkloadArg::Elementwise => None,
        }
    }
}

/// Options of `pelab energy`.
pub struct EnergyOpts {
    /// `generic-45nm` or `horowitz-45nm`.
    pub tech: String,
    /// Liberty file.
    pub liberty: Option<std::path::PathBuf>,
    /// Distribution name.
    pub dist: String,
    /// Operations to simulate.
    pub ops: Option<u64>,
    /// Seed.
    pub seed: u64,
    /// Workload.
    pub workload: String,
    /// Clock, GHz.
    pub freq_ghz: f64,
    /// Wire fF per fan-out pin (liberty).
    pub wire_ff: f64,
    /// JSON output.
    pub json: bool,
    /// CSV output.
    pub csv: bool,
}

/// Runs `pelab energy` for one configuration.
pub fn run(pe: pelab_testbench::Pe, cfg: &pelab_hdl::RtlConfig, o: &EnergyOpts) -> Result<()> {
    let pe_id = pe.id();
    let dist = Dist::parse(&o.dist)?;
    let wl = WorkloadArg::parse(&o.workload)?;
    let table_only = match o.tech.as_str() {
        "generic-45nm" => false,
        "horowitz-45nm" => true,
        t => {
            return Err(Error::new(format!(
                "unknown --tech '{t}'; valid: generic-45nm, horowitz-45nm (or --liberty FILE)"
            )))
        }
    };
    if table_only && o.liberty.is_some() {
        return Err(Error::new(
            "--liberty prices the gates with a library; it does not combine with --tech \
             horowitz-45nm",
        ));
    }
    if table_only {
        return table_only_run(pe, cfg, wl, o);
    }
    let default_ops = match wl {
        WorkloadArg::Elementwise => 65_536,
        WorkloadArg::Dot(k) | WorkloadArg::Matmul(_, k, _) => (16 * k).clamp(65_536, 1 << 20),
    };
    let tech = match &o.liberty {
        Some(p) => Tech::Liberty(p.clone()),
        None => Tech::Generic45,
    };
    let lib = match &o.liberty {
        Some(p) => Some(read_library(p)?),
        None => None,
    };
    let req = Request {
        tech,
        dist,
        shape: wl.shape(),
        ops: o.ops.unwrap_or(default_ops),
        seed: o.seed,
        freq_ghz: o.freq_ghz,
        wire_ff: o.wire_ff,
    };
    let spin = spinner(format!(
        "{pe_id} {} {}: synthesizing and simulating {} operations",
        cfg.format, cfg.policy, req.ops
    ));
    let m = measure(pe, cfg, &req, lib.as_ref());
    spin.finish_and_clear();
    let m = m?;
    if o.json {
        let mut v = serde_json::to_value(&m).map_err(|e| Error::new(e.to_string()))?;
        v["workload"] = serde_json::json!(o.workload);
        if let Some(total) = wl.total_ops() {
            v["workload_ops"] = serde_json::json!(total as f64);
            v["workload_total_pj"] = serde_json::json!(total as f64 * m.total_pj);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| Error::new(e.to_string()))?
        );
    } else if o.csv {
        print!("{}", csv_rows(&m, &o.workload)?);
    } else {
        print_text(&m, wl, &o.workload);
    }
    Ok(())
}

fn table_only_run(
    pe: pelab_testbench::Pe,
    cfg: &pelab_hdl::RtlConfig,
    wl: WorkloadArg,
    o: &EnergyOpts,
) -> Result<()> {
    let (model, pe_id) = (pe.model, pe.id());
    let (ops, note) = model.table_ops(&cfg.format, matches!(wl.shape(), Shape::Dot { .. }))?;
    let est = pelab_sim::horowitz::estimate(&ops)?;
    if o.json {
        let v = serde_json::json!({
            "pe": pe_id, "format": cfg.format, "tech": "horowitz-45nm", "workload": o.workload,
            "energy_pj": est.energy_pj, "rows": est.rows, "note": note, "notes": est.notes,
            "provenance": pelab_sim::horowitz::PROVENANCE,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
    } else if o.csv {
        println!("pe,format,tech,workload,total_pj_per_op,detail");
        println!(
            "{pe_id},{},horowitz-45nm,{},{},\"{note}\"",
            cfg.format, o.workload, est.energy_pj
        );
    } else {
        println!(
            "{pe_id} {} ({}), horowitz-45nm: {:.4} pJ per operation",
            cfg.format, o.workload, est.energy_pj
        );
        for r in &est.rows {
            println!("  {} {}-bit  {} pJ", r.operation, r.bits, r.energy_pj);
        }
        println!("  mapping: {note}");
        for n in &est.notes {
            println!("  note: {n}");
        }
        println!("  source: {}", pelab_sim::horowitz::PROVENANCE);
    }
    Ok(())
}

fn print_text(m: &Measurement, wl: WorkloadArg, workload: &str) {
    println!(
        "{} {} {} ({}, {} operands, seed {}): energy per {}",
        m.pe,
        m.config.format,
        m.config.policy,
        workload,
        m.dist.name(),
        m.seed,
        m.op_name
    );
    println!(
        "  technology {}, {} operations ({}) simulated at gate level",
        m.tech, m.ops, m.op_name
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>11} {:>9}",
        "stage", "dynamic", "clock", "leakage", "total pJ", "area µm²", "toggles"
    );
    for s in &m.stages {
        let e = &s.energy;
        println!(
            "  {:<22} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>11.1} {:>9.1}",
            format!("{} ({})", s.pe, s.role),
            e.dynamic_pj,
            e.clock_pj,
            e.leakage_pj,
            e.total_pj,
            e.area_um2,
            e.toggles_per_op
        );
    }
    println!(
        "  {:<22} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>11.1} {:>9.1}",
        "total", m.dynamic_pj, m.clock_pj, m.leakage_pj, m.total_pj, m.area_um2, m.toggles_per_op
    );
    match m.horowitz.energy_pj {
        Some(e) => println!(
            "  horowitz-45nm (table, beside it): {e:.4} pJ — {}",
            m.horowitz.detail
        ),
        None => println!("  horowitz-45nm (table): no figure — {}", m.horowitz.detail),
    }
    if let Some(total) = wl.total_ops() {
        println!(
            "  whole workload ({workload}, {total} operations ({}), extrapolated from the {} simulated): \
             {:.4} nJ gate-level",
            m.op_name,
            m.ops,
            total as f64 * m.total_pj * 1e-3
        );
    }
    for s in &m.stages {
        println!("  cells of {} ({}):", s.module, s.energy.tech);
        for (k, c) in &s.energy.cells {
            println!(
                "    {:<34} {:>6} cells {:>9.1} µm² {:>8.3} toggles/op {:>9.5} pJ/op",
                k,
                c.count,
                c.area_um2,
                c.toggles_per_op,
                c.dynamic_pj + c.clock_pj + c.leakage_pj
            );
        }
    }
    println!("  provenance:");
    if let Some(s) = m.stages.first() {
        for p in &s.energy.provenance {
            println!("    - {p}");
        }
    }
    println!(
        "    - activity: {} {} operands, seed {}, {} operations simulated, clock {} GHz",
        m.dist.name(),
        workload,
        m.seed,
        m.ops,
        m.stages.first().map_or(1.0, |s| s.energy.freq_ghz)
    );
    println!("    - table: {}", m.horowitz.provenance);
    println!("  caveat: {}", m.caveat);
}

fn csv_rows(m: &Measurement, workload: &str) -> Result<String> {
    let mut w = Vec::new();
    writeln!(
        w,
        "pe,format,policy,variant,pipeline,tech,workload,dist,seed,ops,stage,module,role,\
         dynamic_pj,clock_pj,leakage_pj,total_pj,area_um2,toggles_per_op,horowitz_pj,provenance"
    )
    .map_err(|e| Error::new(e.to_string()))?;
    let hz = m
        .horowitz
        .energy_pj
        .map(|e| e.to_string())
        .unwrap_or_default();
    let mut line = |stage: &str, module: &str, role: &str, e: [f64; 6], prov: &str| {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
            m.pe,
            m.config.format,
            m.config.policy,
            m.config.variant,
            m.config.pipeline,
            m.tech,
            workload,
            m.dist.name(),
            m.seed,
            m.ops,
            stage,
            module,
            role,
            e[0],
            e[1],
            e[2],
            e[3],
            e[4],
            e[5],
            hz,
            prov.replace('"', "'")
        )
    };
    for s in &m.stages {
        let e = &s.energy;
        line(
            &s.pe,
            &s.module,
            &s.role,
            [
                e.dynamic_pj,
                e.clock_pj,
                e.leakage_pj,
                e.total_pj,
                e.area_um2,
                e.toggles_per_op,
            ],
            &e.provenance.join("; "),
        )
        .map_err(|e| Error::new(e.to_string()))?;
    }
    line(
        "total",
        "",
        "",
        [
            m.dynamic_pj,
            m.clock_pj,
            m.leakage_pj,
            m.total_pj,
            m.area_um2,
            m.toggles_per_op,
        ],
        &m.caveat,
    )
    .map_err(|e| Error::new(e.to_string()))?;
    String::from_utf8(w).map_err(|e| Error::new(e.to_string()))
}

/// A spinner on stderr (hidden when stderr is not a terminal).
fn spinner(msg: String) -> indicatif::ProgressBar {
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(msg);
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

/// `pelab energy --anchors`.
pub fn anchors(ops: u64, seed: u64, json: bool, csv: bool) -> Result<()> {
    let spin = spinner(format!(
        "anchors: synthesizing and simulating 8 circuits, {ops} operations each"
    ));
    let rows = pelab_testbench::energy::anchors(ops, seed);
    spin.finish_and_clear();
    let rows = rows?;
    if json {
        let v = serde_json::json!({
            "tech": "generic-45nm", "ops": ops, "seed": seed, "anchors": rows,
            "provenance": [pelab_sim::horowitz::PROVENANCE,
                "gate level: Nangate 45 nm figures (sim/data/nangate45_cells.csv), 1.1 V"],
            "caveat": pelab_sim::energy::GLITCH_CAVEAT,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return Ok(());
    }
    if csv {
        println!("operation,bits,circuit,cells,gate_pj,horowitz_pj,ratio,horowitz_original");
        for r in &rows {
            println!(
                "{},{},\"{}\",{},{},{},{},{}",
                r.operation,
                r.bits,
                r.circuit,
                r.cells,
                r.gate_pj,
                r.horowitz_pj,
                r.ratio,
                r.original
            );
        }
        return Ok(());
    }
    println!("Anchors: the same flow (Yosys generic gates, gate engine, generic-45nm at 1.1 V) beside Horowitz's 45 nm table (~0.9 V)");
    println!(
        "  {:<9} {:>4} {:>7} {:>10} {:>12} {:>8}  circuit",
        "operation", "bits", "cells", "gate pJ", "Horowitz pJ", "ratio"
    );
    for r in &rows {
        println!(
            "  {:<9} {:>4} {:>7} {:>10.4} {:>11.3}{} {:>7.2}x  {}",
            r.operation,
            r.bits,
            r.cells,
            r.gate_pj,
            r.horowitz_pj,
            if r.original { " " } else { "*" },
            r.ratio,
            r.circuit
        );
    }
    println!("  * not on Horowitz's original slide (secondary tables)");
    println!(
        "  ({ops} operations each, seed {seed}; uniform integer operands, Gaussian float operands)"
    );
    println!("  caveat: {}", pelab_sim::energy::GLITCH_CAVEAT);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_syntax() {
        assert_eq!(
            WorkloadArg::parse("elementwise").unwrap(),
            WorkloadArg::Elementwise
        );
        assert_eq!(
            WorkloadArg::parse("dot:4096").unwrap(),
            WorkloadArg::Dot(4096)
        );
        assert_eq!(
            WorkloadArg::parse("matmul:2x3x4").unwrap(),
            WorkloadArg::Matmul(2, 3, 4)
        );
        for bad in [
            "dot:",
            "dot:0",
            "dot:x",
            "matmul:2x3",
            "matmul:2x0x4",
            "gemm",
            "",
        ] {
            assert!(WorkloadArg::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(WorkloadArg::Matmul(2, 3, 4).total_ops(), Some(24));
    }
}
