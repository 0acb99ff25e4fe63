//! `pelab energy`: energy per operation of a PE configuration at gate level, with the table
//! estimate beside it, as text, JSON or CSV; or the anchor circuits with `--anchors`.

use super::args::RtlArgs;
use pelab_reports::export::{self as ert, ExportFormat};
use pelab_sim::{Error, Result};
use pelab_testbench::codec::{Dist, Shape, WorkloadSpec};
use pelab_testbench::energy::{
    glitch_by_part, measure_opts, read_library, MeasureOptions, Measurement, Request, StageParts,
    Tech,
};
use std::io::Write as _;

/// Arguments of `pelab energy`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rtl: RtlArgs,
    /// Technology table: generic-45nm (gate level, Nangate 45 nm figures) or horowitz-45nm
    /// (the L-Mul paper's per-operation table alone).
    #[arg(long, default_value = "generic-45nm")]
    tech: String,
    /// Price the gates with this Liberty library (plain or .gz): Yosys maps onto its cells
    /// and every figure comes from the file.
    #[arg(long)]
    liberty: Option<std::path::PathBuf>,
    /// Operand distribution: gaussian, uniform or loguniform.
    #[arg(long, default_value = "gaussian")]
    dist: String,
    #[arg(
        long,
        help = format!(
            "Operations to simulate (default {}, more for long dot products)",
            WorkloadSpec::DEFAULT_OPS
        )
    )]
    ops: Option<u64>,
    /// Random seed of the operands.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// elementwise, dot:K, or matmul:MxKxN (simulated as its dot products, extrapolated).
    #[arg(long, default_value = "elementwise")]
    workload: String,
    /// Clock frequency in GHz (leakage time per cycle).
    #[arg(long, default_value_t = 1.0)]
    freq_ghz: f64,
    /// Wire capacitance per fan-out pin with --liberty, fF (an estimate: state yours).
    #[arg(long, default_value_t = 0.5)]
    wire_ff: f64,
    /// Delay model of the gate simulation: zero (the logic settles once per operation or
    /// cycle), unit (one time unit per cell, glitches counted; prints the glitch factor) or
    /// liberty (each cell's delay from the --liberty library's timing tables, glitches
    /// counted).
    #[arg(long, default_value = "zero")]
    delay: String,
    /// With --delay liberty: time quantum of the simulation in whole picoseconds (cell delays
    /// are rounded to it, at least one quantum each).
    #[arg(long, default_value_t = pelab_sim::netlist::delays::DelayOptions::RESOLUTION_PS)]
    delay_resolution_ps: u32,
    /// With --delay liberty: transition time of primary inputs and flip-flop outputs, ps
    /// (cell outputs get the transition their library tables give).
    #[arg(long, default_value_t = pelab_sim::netlist::delays::DelayOptions::INPUT_SLEW_PS)]
    input_slew_ps: f64,
    /// Drive the PE with the rows of a golden-vector file (`pelab vectors` format; the
    /// expected outputs are ignored) instead of random operands (elementwise workload).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ops", "dist", "seed", "anchors"])]
    vectors: Option<std::path::PathBuf>,
    /// Write the switching activity of every cell output (SAIF 2.0: T0, T1, TC, IG over the
    /// run's DURATION, in ps) to FILE.
    #[arg(long, value_name = "FILE.saif")]
    activity_out: Option<std::path::PathBuf>,
    /// Write a VCD of the gate simulation (inputs and every cell output, glitches included
    /// under a timed delay model) over the rows of --vcd-window to FILE.
    #[arg(long, value_name = "FILE")]
    vcd: Option<std::path::PathBuf>,
    /// Rows (operations, or cycles of a clocked PE) of the --vcd file: A:B is rows A to B - 1
    /// (default the first 64).
    #[arg(long, value_name = "A:B", requires = "vcd")]
    vcd_window: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV rows (one per stage and a total).
    #[arg(long)]
    csv: bool,
    /// Export the measurement for an architecture-level model: accelergy (an Accelergy energy
    /// reference table, YAML) or csv (one row per action, for ZigZag, STONNE or a spreadsheet).
    #[arg(
        long,
        value_name = "FORMAT",
        value_parser = clap::builder::PossibleValuesParser::new(ExportFormat::NAMES),
        conflicts_with_all = ["json", "csv", "anchors"]
    )]
    export: Option<String>,
    /// Write the export to FILE (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE", requires = "export")]
    output: Option<std::path::PathBuf>,
    /// Instead of a PE: price integer adders and multipliers (8/16/32-bit) and the FP16 and
    /// FP32 multipliers through the same flow, beside Horowitz's figures.
    #[arg(long, conflicts_with_all = ["pe", "liberty", "workload"])]
    anchors: bool,
}

/// Runs `pelab energy`: the anchors, or the configuration the arguments name.
pub fn run(o: Args) -> Result<()> {
    if o.anchors {
        let ops = o.ops.unwrap_or(WorkloadSpec::Elementwise.default_ops());
        return anchors(ops, o.seed, o.json, o.csv);
    }
    let (pe, cfg) = o.rtl.resolve()?;
    measure_pe(pe, &cfg, &o)
}

/// Measures one configuration and prints the measurement.
fn measure_pe(pe: pelab_testbench::Pe, cfg: &pelab_hdl::RtlConfig, o: &Args) -> Result<()> {
    let pe_id = pe.id();
    let dist = Dist::parse(&o.dist)?;
    let wl = WorkloadSpec::parse(&o.workload)?;
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
    if table_only && o.export.is_some() {
        return Err(Error::new(
            "--export writes gate-level measurements; it does not combine with --tech \
             horowitz-45nm",
        ));
    }
    let delay = pelab_sim::netlist::Delay::parse(&o.delay)?;
    let unit = delay == pelab_sim::netlist::Delay::Unit;
    if delay.timed() && (table_only || o.export.is_some()) {
        return Err(Error::new(format!(
            "--delay {} simulates the gate netlist with glitches; it does not combine with \
             --tech horowitz-45nm or --export (which measure at zero delay)",
            delay.name()
        )));
    }
    if delay == pelab_sim::netlist::Delay::Liberty && o.liberty.is_none() {
        return Err(Error::new(
            "--delay liberty takes each cell's delay from a Liberty library's timing tables: \
             add --liberty FILE (e.g. the SKY130 library)",
        ));
    }
    let files = o.activity_out.is_some() || o.vcd.is_some() || o.vectors.is_some();
    if files && (table_only || o.export.is_some()) {
        return Err(Error::new(
            "--vectors, --activity-out and --vcd need the gate-level simulation; they do not \
             combine with --tech horowitz-45nm or --export",
        ));
    }
    let window = o
        .vcd_window
        .as_deref()
        .map(pelab_testbench::activity::parse_window)
        .transpose()?
        .unwrap_or(pelab_testbench::waves::Window { from: 0, to: 64 });
    if table_only {
        return table_only_run(pe, cfg, wl, o);
    }
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
        ops: o.ops.unwrap_or(wl.default_ops()),
        seed: o.seed,
        freq_ghz: o.freq_ghz,
        wire_ff: o.wire_ff,
    };
    let spin = spinner(format!(
        "{pe_id} {} {}: synthesizing and simulating {} operations",
        cfg.format, cfg.policy, req.ops
    ));
    let vectors = o
        .vectors
        .as_deref()
        .map(|p| pelab_testbench::vectors::parse(p, pe.vectors, cfg))
        .transpose()?;
    let opts = MeasureOptions {
        delay,
        resolution_ps: o.delay_resolution_ps,
        input_slew_ps: o.input_slew_ps,
        vectors,
        keep: o.activity_out.is_some() || o.vcd.is_some(),
    };
    let m = measure_opts(pe, cfg, &req, lib.as_ref(), &opts);
    // Unit delay: the glitch factor of each part, on the netlist mapped module by module.
    let parts = match (&m, unit) {
        (Ok(_), true) if o.vectors.is_none() => Some(glitch_by_part(pe, cfg, &req)),
        _ => None,
    };
    spin.finish_and_clear();
    let m = m?;
    let parts = parts.transpose()?;
    activity_files(&m, o, window)?;
    if let Some(format) = &o.export {
        return export(
            pe,
            cfg,
            &req,
            lib.as_ref(),
            &m,
            ExportFormat::parse(format)?,
            o,
        );
    }
    if o.json {
        let mut v = serde_json::to_value(&m).map_err(|e| Error::new(e.to_string()))?;
        v["workload"] = serde_json::json!(o.workload);
        if let Some(p) = &parts {
            v["glitch_by_part"] = serde_json::to_value(p).map_err(|e| Error::new(e.to_string()))?;
        }
        if let Some(total) = wl.total_ops() {
            v["workload_ops"] = serde_json::json!(total as f64);
            v["workload_total_pj"] = serde_json::json!(total as f64 * m.total_pj);
        }
        super::print_json(&v)?;
    } else if o.csv {
        print!("{}", csv_rows(&m, &o.workload)?);
    } else {
        print_text(&m, wl, &o.workload);
        if let Some(p) = &parts {
            print_glitch_parts(p);
        }
    }
    Ok(())
}

/// Writes `--activity-out` and `--vcd` from the kept simulation of a one-stage measurement.
fn activity_files(m: &Measurement, o: &Args, window: pelab_testbench::waves::Window) -> Result<()> {
    if o.activity_out.is_none() && o.vcd.is_none() {
        return Ok(());
    }
    let [stage] = m.stages.as_slice() else {
        return Err(Error::new(format!(
            "--activity-out and --vcd describe one netlist; the {} workload has {} stages \
             ({}): use --workload elementwise",
            o.workload,
            m.stages.len(),
            m.stages
                .iter()
                .map(|s| s.role.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let trace = stage
        .trace
        .as_deref()
        .ok_or_else(|| Error::new("the simulation was not kept"))?;
    if let Some(path) = &o.activity_out {
        let mut prov = stage.energy.provenance.clone();
        prov.push(format!(
            "activity: {} {} operands, seed {}, {} operations",
            m.dist.name(),
            o.workload,
            m.seed,
            m.ops
        ));
        let text = pelab_testbench::activity::saif(trace, &prov)?;
        pelab_hdl::emit::write_atomic(path, text)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &o.vcd {
        let spin = spinner(format!(
            "VCD of rows {}..{}: simulating them again",
            window.from, window.to
        ));
        let text = pelab_testbench::activity::vcd(trace, window);
        spin.finish_and_clear();
        pelab_hdl::emit::write_atomic(path, text?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The glitch factor of each part of each stage (unit delay), as a short table: parts with
/// less than 1% of the stage's toggles are summed in one row (`--json` has them all).
fn print_glitch_parts(stages: &[StageParts]) {
    println!("  glitch factor by part (netlist mapped module by module, then flattened):");
    for s in stages {
        println!(
            "    {} ({}): {} cells, glitch factor {:.2} as a whole",
            s.module, s.role, s.cells, s.glitch_factor
        );
        println!(
            "      {:<24} {:>6} {:>12} {:>12} {:>7}",
            "part", "cells", "toggles/op", "zero-delay", "factor"
        );
        let row = |name: &str, cells: usize, t: f64, z: f64| {
            let g = if z > 0.0 { t / z } else { f64::NAN };
            println!("      {name:<24} {cells:>6} {t:>12.2} {z:>12.2} {g:>7.2}");
        };
        let total: f64 = s.parts.iter().map(|p| p.toggles_per_op).sum();
        let (mut n, mut cells, mut t, mut z) = (0, 0, 0.0, 0.0);
        for p in &s.parts {
            if p.toggles_per_op >= 0.01 * total {
                row(&p.part, p.cells, p.toggles_per_op, p.toggles_zero_delay);
            } else {
                n += 1;
                cells += p.cells;
                t += p.toggles_per_op;
                z += p.toggles_zero_delay;
            }
        }
        if n > 0 {
            row(&format!("({n} parts < 1% each)"), cells, t, z);
        }
    }
}

/// `--export`: measures an idle cycle and writes the measurement as an Accelergy ERT or CSV
/// rows, to `--output` (atomically) or standard output.
fn export(
    pe: pelab_testbench::Pe,
    cfg: &pelab_hdl::RtlConfig,
    req: &Request,
    lib: Option<&pelab_sim::liberty::Library>,
    m: &Measurement,
    format: ExportFormat,
    o: &Args,
) -> Result<()> {
    let spin = spinner(format!(
        "{} {} {}: measuring idle cycles",
        pe.id(),
        cfg.format,
        cfg.policy
    ));
    let idle = ert::measure_idle(pe, cfg, req, lib);
    spin.finish_and_clear();
    let table = ert::build_ert(m, &o.workload, &idle?, o.liberty.as_deref())?;
    let text = match format {
        ExportFormat::Accelergy => ert::to_accelergy_yaml(&table)?,
        ExportFormat::Csv => ert::to_csv(&table)?,
    };
    match &o.output {
        Some(path) => {
            pelab_hdl::emit::write_atomic(path, text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `--tech horowitz-45nm`: the per-operation table estimate alone, without synthesis.
fn table_only_run(
    pe: pelab_testbench::Pe,
    cfg: &pelab_hdl::RtlConfig,
    wl: WorkloadSpec,
    o: &Args,
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
        super::print_json(&v)?;
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

/// The measurement as text: stages, table estimate, workload total, cells, provenance.
fn print_text(m: &Measurement, wl: WorkloadSpec, workload: &str) {
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
    if let (Some(g), Some(z)) = (m.glitch_factor, m.toggles_zero_delay) {
        println!(
            "  {} delay: {:.2} toggles/op with glitches, {z:.2} at zero delay: glitch factor {g:.2}",
            m.delay, m.toggles_per_op
        );
    }
    for s in &m.stages {
        if let Some(d) = &s.delays {
            println!(
                "  cell delays of {} ({}): {:.1} to {:.1} ps, {} ps quantum, input transition \
                 {} ps, wire {} fF per fan-out pin; longest path {:.0} ps, latest change seen \
                 {:.0} ps",
                s.module,
                d.library,
                d.min_delay_ps,
                d.max_delay_ps,
                d.resolution_ps,
                d.input_slew_ps,
                d.wire_ff,
                d.settle_bound_ps,
                d.settle_seen_ps
            );
        }
    }
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

/// The measurement as CSV: a header, one row per stage and a total row.
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
fn anchors(ops: u64, seed: u64, json: bool, csv: bool) -> Result<()> {
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
        return super::print_json(&v);
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
