//! Calibration against OpenSTA (`sta`, Debian package `opensta`): the netlist pelab's Liberty
//! energy prices, written as structural Verilog, read by OpenSTA for `report_power` and
//! `report_checks -path_delay max`.
//!
//! The OpenSTA of Debian (2019-11, 2.0.17) has no `read_saif`, and its `set_power_activity
//! -pins` does not run (the procedure loops over an unset variable). Its power engine seeds the
//! input ports and propagates activity through every cell's Boolean function (probabilities,
//! no correlation between signals), overwriting any activity set on an internal pin. So the
//! script asks for two reports:
//!
//! - **uniform**: `set_power_activity -global` (every pin toggles `a` times per clock period,
//!   duty 0.5), beside pelab's pricing of the same uniform activity on the same netlist: the
//!   per-toggle figures (internal power tables, loads, leakage) compared alone;
//! - **ports**: each input port at pelab's measured activity and duty, OpenSTA's propagation
//!   inside, beside pelab's simulated energy: the activity estimate compared as well.

use crate::energy::{measure_opts, MeasureOptions, Request, StageTrace};
use pelab_hdl::RtlConfig;
use pelab_sim::liberty::Library;
use pelab_sim::netlist::{Delay, Netlist};
use pelab_sim::{Error, Result};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One `report_power` total, mW.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StaPower {
    /// Internal power.
    pub internal_mw: f64,
    /// Switching power.
    pub switching_mw: f64,
    /// Leakage power.
    pub leakage_mw: f64,
    /// Total power.
    pub total_mw: f64,
}

/// Power and timing as OpenSTA reports them.
#[derive(Debug, Clone, Serialize)]
pub struct StaReport {
    /// Power with the input ports at pelab's measured activity, propagated by OpenSTA.
    pub ports: StaPower,
    /// Power at the uniform activity.
    pub uniform: StaPower,
    /// Arrival time of the critical path's endpoint (data arrival time), ns.
    pub path_delay_ns: f64,
    /// Startpoint of the critical path.
    pub startpoint: String,
    /// Endpoint of the critical path.
    pub endpoint: String,
    /// Clock period minus data required time (the setup time of a flip-flop endpoint; 0 for
    /// an output port), ns: the minimum period is `path_delay_ns + setup_ns`.
    pub setup_ns: f64,
}

impl StaReport {
    /// Minimum clock period, ns (the critical path plus the endpoint's setup time).
    pub fn min_period_ns(&self) -> f64 {
        self.path_delay_ns + self.setup_ns
    }

    /// The ASIC Fmax, GHz: 1 / minimum period.
    pub fn fmax_ghz(&self) -> f64 {
        1.0 / self.min_period_ns()
    }
}

/// pelab's figure and OpenSTA's, at the same activity and clock.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// PE id.
    pub pe: String,
    /// Number format.
    pub format: String,
    /// Top module.
    pub module: String,
    /// Library file.
    pub liberty: PathBuf,
    /// Clock frequency, GHz.
    pub freq_ghz: f64,
    /// Cells of the netlist.
    pub cells: usize,
    /// Rows (clock periods) simulated.
    pub rows: u64,
    /// Operations per row.
    pub ops_per_row: f64,
    /// Uniform activity of the uniform comparison: pelab's mean measured toggles per cell
    /// output per clock period.
    pub uniform_activity: f64,
    /// pelab's power at the uniform activity, mW.
    pub pelab_uniform_mw: f64,
    /// pelab's simulated energy per operation, pJ (dynamic, clock, leakage, total).
    pub pelab_pj: [f64; 4],
    /// pelab's simulated power: energy per operation × operations per second, mW.
    pub pelab_mw: f64,
    /// OpenSTA's report.
    pub sta: StaReport,
    /// OpenSTA / pelab at the uniform activity (the per-toggle figures).
    pub ratio_uniform: f64,
    /// OpenSTA's uniform report with its internal power arc-weighted as later OpenSTA does.
    pub arc_weighted: ArcWeighted,
    /// OpenSTA arc-weighted / pelab at the uniform activity.
    pub ratio_arc_weighted: f64,
    /// OpenSTA arc-weighted − pelab at the uniform activity, part by part.
    pub decomposition: Decomposition,
    /// OpenSTA (propagated from the ports' measured activity) / pelab (simulated).
    pub ratio_ports: f64,
    /// The directory holding the Verilog netlist, the Tcl script and OpenSTA's log.
    pub dir: PathBuf,
    /// Provenance of the figures.
    pub provenance: Vec<String>,
}

/// A Verilog identifier for a port name (escaped when it is not a plain identifier).
fn ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\\{s} ")
    }
}

/// The structural Verilog of `net`: ports as in the netlist, one wire `n<k>` per internal net,
/// cells renamed `c<i>` (index in [`Netlist::cells`]), output ports driven by `assign`.
pub fn verilog(net: &Netlist) -> String {
    let mut port_bit = vec![None; net.nets];
    for p in &net.inputs {
        for (i, &b) in p.bits.iter().enumerate() {
            port_bit[b as usize] = Some(if p.bits.len() == 1 {
                ident(&p.name)
            } else {
                format!("{}[{i}]", ident(&p.name))
            });
        }
    }
    let name = |n: u32| match n {
        0 => "1'b0".to_string(),
        1 => "1'b1".to_string(),
        _ => port_bit[n as usize]
            .clone()
            .unwrap_or_else(|| format!("n{n}")),
    };
    let mut s = String::new();
    let ports: Vec<String> = net
        .inputs
        .iter()
        .chain(&net.outputs)
        .map(|p| ident(&p.name))
        .collect();
    let _ = writeln!(
        s,
        "// {} ({}), written by pelab for OpenSTA",
        net.top, net.source
    );
    let _ = writeln!(s, "module {}({});", ident(&net.top), ports.join(", "));
    for (dir, list) in [("input", &net.inputs), ("output", &net.outputs)] {
        for p in list.iter() {
            let range = if p.bits.len() == 1 {
                String::new()
            } else {
                format!("[{}:0] ", p.bits.len() - 1)
            };
            let _ = writeln!(s, "  {dir} {range}{};", ident(&p.name));
        }
    }
    let mut wires = std::collections::BTreeSet::new();
    for c in &net.cells {
        for &(_, n) in c.inputs.iter().chain(&c.outputs) {
            if n > 1 && port_bit[n as usize].is_none() {
                wires.insert(n);
            }
        }
    }
    for p in &net.outputs {
        for &b in &p.bits {
            if b > 1 && port_bit[b as usize].is_none() {
                wires.insert(b);
            }
        }
    }
    for n in wires {
        let _ = writeln!(s, "  wire n{n};");
    }
    for (i, c) in net.cells.iter().enumerate() {
        let pins: Vec<String> = c
            .inputs
            .iter()
            .chain(&c.outputs)
            .map(|(p, n)| format!(".{p}({})", name(*n)))
            .collect();
        let _ = writeln!(s, "  {} c{i} ({});", c.kind, pins.join(", "));
    }
    for p in &net.outputs {
        for (i, &b) in p.bits.iter().enumerate() {
            let lhs = if p.bits.len() == 1 {
                ident(&p.name)
            } else {
                format!("{}[{i}]", ident(&p.name))
            };
            let _ = writeln!(s, "  assign {lhs} = {};", name(b));
        }
    }
    let _ = writeln!(s, "endmodule");
    s
}

/// Inputs of [`script`].
#[derive(Debug, Clone)]
pub struct ScriptInputs<'a> {
    /// Uncompressed Liberty file.
    pub liberty: &'a Path,
    /// Structural Verilog file.
    pub verilog: &'a Path,
    /// Clock period, ns.
    pub period_ns: f64,
    /// Wire capacitance per fan-out pin, pF (set on every net with `set_load`).
    pub wire_pf: f64,
    /// Load of every output port, pF.
    pub output_load_pf: f64,
    /// Uniform activity of the second report, transitions per clock period.
    pub uniform: f64,
    /// Activity and duty of each input port bit (`name` or `name[k]`).
    pub ports: &'a [(String, f64, f64)],
}

/// The OpenSTA Tcl script: read the library and netlist, clock (or a virtual clock), I/O
/// delays 0, wire and output loads, `report_power` at the input ports' activities, then at a
/// uniform activity, and `report_checks`.
pub fn script(net: &Netlist, i: &ScriptInputs) -> String {
    let mut s = String::new();
    let brace = |p: &Path| format!("{{{}}}", p.display());
    let _ = writeln!(s, "read_liberty {}", brace(i.liberty));
    let _ = writeln!(s, "read_verilog {}", brace(i.verilog));
    let _ = writeln!(s, "link_design {{{}}}", net.top);
    let clock = net.clock.map(|c| {
        net.inputs
            .iter()
            .find(|p| p.bits == [c])
            .map(|p| p.name.clone())
            .unwrap_or_default()
    });
    match &clock {
        Some(clk) => {
            let _ = writeln!(
                s,
                "create_clock -name clk -period {} [get_ports {{{clk}}}]",
                i.period_ns
            );
        }
        None => {
            let _ = writeln!(s, "create_clock -name vclk -period {}", i.period_ns);
        }
    }
    let clk_name = if clock.is_some() { "clk" } else { "vclk" };
    let data_inputs: Vec<&str> = net
        .inputs
        .iter()
        .filter(|p| clock.as_deref() != Some(p.name.as_str()))
        .map(|p| p.name.as_str())
        .collect();
    for p in &data_inputs {
        let _ = writeln!(s, "set_input_delay 0 -clock {clk_name} [get_ports {{{p}}}]");
    }
    for p in &net.outputs {
        let _ = writeln!(
            s,
            "set_output_delay 0 -clock {clk_name} [get_ports {{{}}}]",
            p.name
        );
        let _ = writeln!(
            s,
            "set_load -pin_load {} [get_ports {{{}}}]",
            i.output_load_pf, p.name
        );
    }
    // pelab's wire estimate: a capacitance per fan-out pin on every driven net.
    let mut fanout = vec![0usize; net.nets];
    for c in &net.cells {
        for &(_, n) in &c.inputs {
            fanout[n as usize] += 1;
        }
    }
    for &(n, _) in &net.counted {
        let k = fanout[n as usize];
        if k > 0 {
            let _ = writeln!(s, "set_load {} [get_nets {{n{n}}}]", i.wire_pf * k as f64);
        }
    }
    for (p, a, d) in i.ports {
        let _ = writeln!(
            s,
            "set_power_activity -input_ports [get_ports {{{p}}}] -activity {a} -duty {d}"
        );
    }
    let _ = writeln!(s, "puts \"PELAB_POWER_PORTS\"");
    let _ = writeln!(s, "report_power -digits 8");
    let _ = writeln!(
        s,
        "set_power_activity -global -activity {} -duty 0.5",
        i.uniform
    );
    let _ = writeln!(s, "puts \"PELAB_POWER_UNIFORM\"");
    // The per-arc trace (on stderr) of the uniform report only.
    let _ = writeln!(s, "sta::set_debug power 3");
    let _ = writeln!(s, "report_power -digits 8");
    let _ = writeln!(s, "sta::set_debug power 0");
    let _ = writeln!(s, "puts \"PELAB_CHECKS_BEGIN\"");
    let _ = writeln!(s, "report_checks -path_delay max -digits 4");
    let _ = writeln!(s, "puts \"PELAB_SLEWS_BEGIN\"");
    if !net.cells.is_empty() {
        let _ = writeln!(
            s,
            "foreach p [get_pins */*] {{ puts \"[get_full_name $p] \
             [get_property $p actual_rise_transition_max] \
             [get_property $p actual_fall_transition_max]\" }}"
        );
    }
    let _ = writeln!(s, "puts \"PELAB_SLEWS_END\"");
    let _ = writeln!(s, "puts \"PELAB_LOADS_BEGIN\"");
    if !net.cells.is_empty() {
        let _ = writeln!(
            s,
            "foreach n [get_nets *] {{ puts \"[get_full_name $n] \
             [$n capacitance rise [sta::cmd_corner] max] \
             [$n capacitance fall [sta::cmd_corner] max]\" }}"
        );
    }
    let _ = writeln!(s, "puts \"PELAB_LOADS_END\"");
    let _ = writeln!(s, "exit");
    s
}

/// The `Total` row (W) of the `report_power` after marker `marker`, in mW.
fn parse_power(out: &str, marker: &str) -> Result<StaPower> {
    let power = out.split(marker).nth(1).ok_or_else(|| {
        Error::new(format!(
            "OpenSTA stopped before report_power:\n{}",
            tail(out)
        ))
    })?;
    let total = power
        .lines()
        .find(|l| l.trim_start().starts_with("Total"))
        .ok_or_else(|| Error::new(format!("no Total row in report_power:\n{}", tail(out))))?;
    let v: Vec<f64> = total
        .split_whitespace()
        .skip(1)
        .filter_map(|w| w.parse().ok())
        .collect();
    if v.len() < 4 {
        return Err(Error::new(format!(
            "cannot read report_power's Total row: '{}'",
            total.trim()
        )));
    }
    Ok(StaPower {
        internal_mw: v[0] * 1e3,
        switching_mw: v[1] * 1e3,
        leakage_mw: v[2] * 1e3,
        total_mw: v[3] * 1e3,
    })
}

/// Parses the two `report_power` totals and `report_checks`' critical path.
pub fn parse_report(out: &str) -> Result<StaReport> {
    let ports = parse_power(out, "PELAB_POWER_PORTS")?;
    let uniform = parse_power(out, "PELAB_POWER_UNIFORM")?;
    let checks = out.split("PELAB_CHECKS_BEGIN").nth(1).ok_or_else(|| {
        Error::new(format!(
            "OpenSTA stopped before report_checks:\n{}",
            tail(out)
        ))
    })?;
    let checks = checks.split("PELAB_SLEWS_BEGIN").next().unwrap_or(checks);
    let field = |key: &str| {
        checks
            .lines()
            .find_map(|l| l.trim().strip_prefix(key).map(|r| r.trim().to_string()))
            .ok_or_else(|| Error::new(format!("no '{key}' in report_checks:\n{}", tail(checks))))
    };
    let number = |key: &str| -> Result<f64> {
        let l = checks
            .lines()
            .find(|l| l.trim_end().ends_with(key))
            .ok_or_else(|| {
                Error::new(format!(
                    "no '{key}' line in report_checks:\n{}",
                    tail(checks)
                ))
            })?;
        l.split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| Error::new(format!("cannot read '{}'", l.trim())))
    };
    let arrival = number("data arrival time")?;
    let required = number("data required time")?;
    // The capturing edge: the `(rise edge)` line at a nonzero time.
    let period = checks
        .lines()
        .filter(|l| l.trim_end().ends_with("(rise edge)"))
        .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .find(|&t| t > 0.0)
        .ok_or_else(|| {
            Error::new(format!(
                "no capturing clock edge in report_checks:\n{}",
                tail(checks)
            ))
        })?;
    Ok(StaReport {
        ports,
        uniform,
        path_delay_ns: arrival,
        startpoint: field("Startpoint:")?,
        endpoint: field("Endpoint:")?,
        setup_ns: period - required,
    })
}

/// The last lines of a tool's output.
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Runs `sta` on `script` in `dir`; OpenSTA's output, or an error holding its messages.
pub fn run_sta(dir: &Path, script: &str) -> Result<String> {
    let exe = pelab_hdl::tools::require_tool("sta")?;
    let tcl = dir.join("power.tcl");
    pelab_hdl::emit::write_atomic(&tcl, script)?;
    let out = std::process::Command::new(&exe)
        .args(["-no_init", "-no_splash", "-exit"])
        .arg(&tcl)
        .current_dir(dir)
        .output()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", exe.display())))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    pelab_hdl::emit::write_atomic(&dir.join("sta.log"), &text)?;
    if let Some(l) = text.lines().find(|l| l.starts_with("Error")) {
        return Err(Error::new(format!(
            "OpenSTA failed on {} ({}): {l}\n{}",
            tcl.display(),
            exe.display(),
            tail(&text)
        )));
    }
    if !out.status.success() {
        return Err(Error::new(format!(
            "OpenSTA exited with {} on {}:\n{}",
            out.status,
            tcl.display(),
            tail(&text)
        )));
    }
    Ok(text)
}

/// The library as plain text in `dir` (OpenSTA reads no gzip).
fn plain_liberty(path: &Path, dir: &Path) -> Result<PathBuf> {
    use std::io::Read;
    let raw = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    let out = dir.join("cells.lib");
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut t = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut t)
            .map_err(|e| Error::new(format!("{}: not a valid gzip file: {e}", path.display())))?;
        pelab_hdl::emit::write_atomic(&out, t)?;
    } else {
        pelab_hdl::emit::write_atomic(&out, raw)?;
    }
    Ok(out)
}

/// Each data input port bit's activity (transitions per row) and duty, from the rows.
fn port_activity(t: &StageTrace) -> Vec<(String, f64, f64)> {
    let mut v = Vec::new();
    let rows = &t.rows;
    let n = rows.len().max(1) as f64;
    for (col, f) in t.layout.inputs().enumerate() {
        let Some(port) = t.net.inputs.iter().find(|p| p.name == f.name) else {
            continue;
        };
        for b in 0..port.bits.len() {
            let bit = |r: &Vec<u64>| (r[col] >> b) & 1;
            let ones = rows.iter().filter(|r| bit(r) == 1).count() as f64;
            let tog = rows.windows(2).filter(|w| bit(&w[0]) != bit(&w[1])).count() as f64;
            let name = if port.bits.len() == 1 {
                port.name.clone()
            } else {
                format!("{}[{b}]", port.name)
            };
            v.push((name, tog / (n - 1.0).max(1.0), ones / n));
        }
    }
    v
}

/// Measures `cfg` of `pe` with pelab (Liberty library `liberty`, zero delay, elementwise
/// workload of `req`) and runs OpenSTA on the same netlist at the same clock, in directory
/// `dir`: both at a uniform activity (pelab's mean measured one), and OpenSTA from the ports'
/// measured activity beside pelab's simulation.
pub fn calibrate(
    pe: crate::pe::Pe,
    cfg: &RtlConfig,
    req: &Request,
    liberty: &Path,
    lib: &Library,
    dir: &Path,
) -> Result<Calibration> {
    let mut o = MeasureOptions::new(Delay::Zero);
    o.keep = true;
    let m = measure_opts(pe, cfg, req, Some(lib), &o)?;
    let [stage] = m.stages.as_slice() else {
        return Err(Error::new(format!(
            "OpenSTA calibration takes one netlist; this workload has {} stages",
            m.stages.len()
        )));
    };
    let t = stage
        .trace
        .as_deref()
        .ok_or_else(|| Error::new("the simulation was not kept"))?;
    let net = &t.net;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    let vpath = dir.join(format!("{}.v", net.top));
    pelab_hdl::emit::write_atomic(&vpath, verilog(net))?;
    let plain = plain_liberty(liberty, dir)?;
    let ports = port_activity(t);
    let out_load = smallest_dff_d_pf(lib)?;
    let period_ns = 1.0 / req.freq_ghz;
    let rows = t.activity.samples.max(1) as f64;
    let uniform = if net.counted.is_empty() {
        0.0
    } else {
        t.activity.toggles.iter().sum::<u64>() as f64 / rows / net.counted.len() as f64
    };
    let pelab_uniform_mw = uniform_power_mw(net, lib, req, uniform)?;
    let tcl = script(
        net,
        &ScriptInputs {
            liberty: &plain,
            verilog: &vpath,
            period_ns,
            wire_pf: req.wire_ff * 1e-3,
            output_load_pf: out_load,
            uniform,
            ports: &ports,
        },
    );
    let out = run_sta(dir, &tcl)?;
    let sta = parse_report(&out)?;
    let trace = parse_power_trace(&out)?;
    let ti = trace_internal(&trace, lib, uniform * req.freq_ghz, 2.0 * req.freq_ghz)?;
    let raw_mw = ti.raw_w * 1e3;
    // Each traced power has 3 significant digits: their sum is within a fraction of a percent.
    if (raw_mw / sta.uniform.internal_mw - 1.0).abs() > 0.01 {
        return Err(Error::new(format!(
            "OpenSTA's power trace ({}) sums to {raw_mw:.6} mW of internal power, its \
             report_power says {:.6} mW: the trace was not read whole",
            dir.join("sta.log").display(),
            sta.uniform.internal_mw
        )));
    }
    let arc_weighted = ArcWeighted {
        internal_mw: ti.arc_weighted_w * 1e3,
        total_mw: ti.arc_weighted_w * 1e3 + sta.uniform.switching_mw + sta.uniform.leakage_mw,
        trace_raw_internal_mw: raw_mw,
    };
    let figures = StaNetlistFigures {
        slews: parse_pairs(&out, "SLEWS")?,
        loads: parse_pairs(&out, "LOADS")?,
    };
    let decomposition = decompose(
        net,
        lib,
        req,
        uniform,
        &figures,
        pelab_uniform_mw,
        arc_weighted.total_mw,
    )?;
    let e = &stage.energy;
    let ops_per_row = m.ops as f64 / stage.rows as f64;
    let pelab_mw = e.total_pj * ops_per_row * req.freq_ghz;
    let mut provenance = e.provenance.clone();
    provenance.push(format!(
        "activity: {} elementwise operands, seed {}, {} operations, {} rows of {period_ns} ns",
        m.dist.name(),
        m.seed,
        m.ops,
        stage.rows
    ));
    let version = pelab_hdl::tools::tool_version("sta").unwrap_or_default();
    let version = version.split(" GITDIR").next().unwrap_or("OpenSTA");
    provenance.push(format!(
        "{version} (sta): report_power on the same netlist and library, clock {period_ns} ns, \
         wire {} fF per fan-out pin (set_load on each net), output ports {:.4} fF; uniform: \
         set_power_activity -global -activity {uniform:.4} -duty 0.5 beside pelab's pricing of \
         that activity on every cell output; ports: each input port at its measured activity \
         and duty, propagated through the cell functions by OpenSTA",
        req.wire_ff,
        out_load * 1e3
    ));
    provenance.push(
        "arc-weighted: the uniform report's per-arc table energies (sta::set_debug power 3, \
         OpenSTA's slews and loads), each output pin's arcs weighted by the probability that \
         the arc's input is sensitized (duty / Σ duty, as later OpenSTA's Power.cc does) \
         instead of summed; input and clock pins at mean(rise, fall) per transition; \
         decomposition: pelab's tables read at the slews and loads OpenSTA reports \
         (actual_rise/fall_transition_max of every cell pin, each net's rise/fall \
         capacitance)"
            .to_string(),
    );
    Ok(Calibration {
        pe: m.pe.clone(),
        format: cfg.format.to_string(),
        module: net.top.clone(),
        liberty: liberty.to_path_buf(),
        freq_ghz: req.freq_ghz,
        cells: net.cells.len(),
        rows: stage.rows,
        ops_per_row,
        uniform_activity: uniform,
        pelab_uniform_mw,
        pelab_pj: [e.dynamic_pj, e.clock_pj, e.leakage_pj, e.total_pj],
        pelab_mw,
        ratio_uniform: sta.uniform.total_mw / pelab_uniform_mw,
        ratio_arc_weighted: arc_weighted.total_mw / pelab_uniform_mw,
        arc_weighted,
        decomposition,
        ratio_ports: sta.ports.total_mw / pelab_mw,
        sta,
        dir: dir.to_path_buf(),
        provenance,
    })
}

/// pelab's power, mW, with every cell output toggling `activity` times per clock period (and
/// the flip-flops clocked every period), priced like a measurement.
pub fn uniform_power_mw(net: &Netlist, lib: &Library, req: &Request, activity: f64) -> Result<f64> {
    const ROWS: u64 = 1 << 30;
    let toggles = vec![(activity * ROWS as f64).round() as u64; net.counted.len()];
    let tech = pelab_sim::energy::LibertyTech {
        lib,
        wire_ff_per_pin: req.wire_ff,
    };
    let act = pelab_sim::energy::Activity {
        toggles: &toggles,
        lane_cycles: if net.flops.is_empty() { 0 } else { ROWS },
        ops: ROWS as f64,
        cycles_per_op: 1.0,
    };
    let e = pelab_sim::energy::energy(net, &tech, &act, req.freq_ghz)?;
    Ok(e.total_pj * req.freq_ghz)
}

/// The D-pin capacitance of the library's smallest plain D flip-flop, pF (pelab's load of an
/// output-port bit).
fn smallest_dff_d_pf(lib: &Library) -> Result<f64> {
    use pelab_sim::energy::Technology as _;
    let t = pelab_sim::energy::LibertyTech {
        lib,
        wire_ff_per_pin: 0.0,
    };
    Ok(t.port_load_ff()? * 1e-3)
}

/// One internal-power arc of OpenSTA's `power` debug trace (`sta::set_debug power 3`), the
/// line `power:  A -> Y !B  0.30 0.50  5.45e-15  1.63e-06 no pg_pin` with the per-edge lines
/// before it (`power:  ^ energy =  1.49e-14 * 0.50 =  7.44e-15`).
#[derive(Debug, Clone, Serialize)]
pub struct TraceArc {
    /// Related pin (`from`); the pin itself for an input pin's own internal power.
    pub from: String,
    /// The pin whose internal power this is.
    pub to: String,
    /// The `when` condition printed (OpenSTA 2.0.17 prints the one it infers when the
    /// library gives none).
    pub when: Option<String>,
    /// Transitions per ns of the pin.
    pub act_per_ns: f64,
    /// OpenSTA 2.0.17's duty of the arc.
    pub duty: f64,
    /// Energy, J: OpenSTA 2.0.17's (rise + fall table energies) × duty.
    pub energy_j: f64,
    /// Power, W: `energy_j` × transitions per second (what 2.0.17 sums).
    pub power_w: f64,
    /// Rise table energy at OpenSTA's slew and load, J (the `^` line).
    pub rise_j: Option<f64>,
    /// Fall table energy at OpenSTA's slew and load, J (the `v` line).
    pub fall_j: Option<f64>,
    /// Line of the trace (1-based, in OpenSTA's output).
    pub line: usize,
}

impl TraceArc {
    /// Mean of the rise and fall table energies, J (the energy of one toggle).
    pub fn mean_edge_j(&self) -> Option<f64> {
        match (self.rise_j, self.fall_j) {
            (Some(r), Some(f)) => Some((r + f) / 2.0),
            (Some(e), None) | (None, Some(e)) => Some(e),
            (None, None) => None,
        }
    }
}

/// One `power: internal <inst>/<pin> (<cell>)` group of the trace.
#[derive(Debug, Clone, Serialize)]
pub struct TracePin {
    /// Instance name.
    pub inst: String,
    /// Pin name.
    pub pin: String,
    /// Cell type.
    pub cell: String,
    /// Line of the header.
    pub line: usize,
    /// Arcs (none for a flip-flop's internal state pins).
    pub arcs: Vec<TraceArc>,
}

fn trace_err(line: usize, text: &str, what: &str) -> Error {
    Error::new(format!(
        "OpenSTA power trace, line {line}: {what}: '{}' (expected the output of \
         `sta::set_debug power 3` of OpenSTA 2.0.17)",
        text.trim()
    ))
}

/// Parses the `power:` debug lines of `out` (the trace of one `report_power` run with
/// `sta::set_debug power 3`) into the internal-power groups. Switching and leakage lines are
/// skipped. Errors name the line and what was expected.
pub fn parse_power_trace(out: &str) -> Result<Vec<TracePin>> {
    let mut pins: Vec<TracePin> = Vec::new();
    let mut rise = None;
    let mut fall = None;
    for (i, raw) in out.lines().enumerate() {
        let line = i + 1;
        let Some(body) = raw.strip_prefix("power:") else {
            continue;
        };
        let t = body.trim();
        if let Some(rest) = t.strip_prefix("internal ") {
            // `c12/Y (sky130_fd_sc_hd__nor2_1)`
            let (path, cell) = rest
                .split_once(" (")
                .and_then(|(p, c)| Some((p.trim(), c.strip_suffix(')')?)))
                .ok_or_else(|| trace_err(line, raw, "an 'internal inst/pin (cell)' header"))?;
            let (inst, pin) = path
                .rsplit_once('/')
                .ok_or_else(|| trace_err(line, raw, "an instance/pin path"))?;
            pins.push(TracePin {
                inst: inst.to_string(),
                pin: pin.to_string(),
                cell: cell.to_string(),
                line,
                arcs: Vec::new(),
            });
            rise = None;
            fall = None;
        } else if t.starts_with("cap =")
            || t.starts_with("when ")
            || t.starts_with("switching ")
            || t.starts_with("leakage ")
        {
            continue;
        } else if let Some(rest) = t
            .strip_prefix("^ energy =")
            .or(t.strip_prefix("v energy ="))
        {
            // `1.49e-14 * 0.50 = 7.44e-15`: the table energy is the first number.
            let e: f64 = rest
                .split_whitespace()
                .next()
                .and_then(|w| w.parse().ok())
                .ok_or_else(|| trace_err(line, raw, "a table energy"))?;
            if t.starts_with('^') {
                rise = Some(e);
            } else {
                fall = Some(e);
            }
        } else if t.contains(" -> ") {
            let group = pins
                .last_mut()
                .ok_or_else(|| trace_err(line, raw, "an arc before any 'internal' header"))?;
            let mut w: Vec<&str> = t.split_whitespace().collect();
            // The supply: `no pg_pin` or a pg pin name.
            if w.ends_with(&["no", "pg_pin"]) {
                w.truncate(w.len() - 2);
            } else {
                w.pop();
            }
            let arrow = w
                .iter()
                .position(|&x| x == "->")
                .filter(|&k| k == 1 && w.len() >= 7)
                .ok_or_else(|| trace_err(line, raw, "'from -> to [when] act duty energy power'"))?;
            let n = w.len();
            let num = |k: usize| -> Result<f64> {
                w[k].parse()
                    .map_err(|_| trace_err(line, raw, &format!("a number, not '{}'", w[k])))
            };
            let when = w[arrow + 2..n - 4].join(" ");
            let arc = TraceArc {
                from: w[0].to_string(),
                to: w[2].to_string(),
                when: (!when.is_empty()).then_some(when),
                act_per_ns: num(n - 4)?,
                duty: num(n - 3)?,
                energy_j: num(n - 2)?,
                power_w: num(n - 1)?,
                rise_j: rise.take(),
                fall_j: fall.take(),
                line,
            };
            if arc.to != group.pin {
                return Err(trace_err(
                    line,
                    raw,
                    &format!(
                        "an arc to pin {} of the group at line {}",
                        group.pin, group.line
                    ),
                ));
            }
            group.arcs.push(arc);
        } else {
            return Err(trace_err(line, raw, "a known trace line"));
        }
    }
    Ok(pins)
}

/// The probability that `from` is sensitized in `f` (its Boolean difference is 1) with every
/// other input at duty ½ and independent: the weight later OpenSTA gives an arc from `from`
/// (`Power::findInputDuty` → `evalDiffDuty`). ½ when `f` does not use `from` (OpenSTA's
/// default, e.g. a flip-flop's CLK → Q).
pub fn sensitized_duty(f: &pelab_sim::liberty::Expr, from: &str) -> Result<f64> {
    let vars = f.vars();
    if !vars.iter().any(|v| v == from) {
        return Ok(0.5);
    }
    let others: Vec<&str> = vars
        .iter()
        .map(String::as_str)
        .filter(|v| *v != from)
        .collect();
    if others.len() > 16 {
        return Err(Error::new(format!(
            "function with {} inputs: too many to enumerate",
            vars.len()
        )));
    }
    let mut hits = 0u64;
    for m in 0..1u64 << others.len() {
        let at = |x: bool| {
            f.eval(&|v: &str| {
                if v == from {
                    x
                } else {
                    let k = others.iter().position(|o| *o == v).unwrap_or(0);
                    (m >> k) & 1 == 1
                }
            })
        };
        if at(false) != at(true) {
            hits += 1;
        }
    }
    Ok(hits as f64 / (1u64 << others.len()) as f64)
}

/// Internal power of a trace, W, two ways.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TraceInternal {
    /// Σ of the arcs' power as OpenSTA 2.0.17 sums it (each arc of an output pin in full).
    pub raw_w: f64,
    /// The same table energies (OpenSTA's slews and loads) weighted as later OpenSTA does:
    /// per output pin, Σ_arcs mean(rise, fall) × d_arc / Σ d × transitions per second, with
    /// d_arc the probability that the arc's input is sensitized ([`sensitized_duty`]); per
    /// input pin (clock pins included), mean(rise, fall) × transitions per second.
    pub arc_weighted_w: f64,
}

/// [`TraceInternal`] of a trace taken at a uniform activity (`set_power_activity -global`:
/// every pin at `uniform_per_ns` transitions per ns and duty ½, clock pins at
/// `clock_per_ns`), with the cell functions of `lib`. The trace prints each pin's activity
/// with two decimals only, so the exact figures given are used, after checking that the
/// printed ones round to them.
pub fn trace_internal(
    pins: &[TracePin],
    lib: &Library,
    uniform_per_ns: f64,
    clock_per_ns: f64,
) -> Result<TraceInternal> {
    let mut raw = 0.0;
    let mut weighted = 0.0;
    for g in pins {
        raw += g.arcs.iter().map(|a| a.power_w).sum::<f64>();
        if g.arcs.is_empty() {
            continue;
        }
        let cell = lib.cell(&g.cell)?;
        let pin = cell.pin(&g.pin).ok_or_else(|| {
            Error::new(format!(
                "OpenSTA power trace, line {}: cell {} of {} has no pin {}",
                g.line, g.cell, lib.path, g.pin
            ))
        })?;
        let edge = |a: &TraceArc| {
            a.mean_edge_j().ok_or_else(|| {
                trace_err(
                    a.line,
                    &format!("{} -> {}", a.from, a.to),
                    "per-edge energy lines before the arc (sta::set_debug power 3)",
                )
            })
        };
        let act = |a: &TraceArc| -> Result<f64> {
            let want = if pin.clock {
                clock_per_ns
            } else {
                uniform_per_ns
            };
            if (a.act_per_ns - want).abs() > 0.0051 {
                return Err(trace_err(
                    a.line,
                    &format!("{} -> {} at {} per ns", a.from, a.to, a.act_per_ns),
                    &format!("the uniform activity {want:.4} per ns"),
                ));
            }
            Ok(want * 1e9)
        };
        let is_output = matches!(
            pin.direction,
            pelab_sim::liberty::Direction::Output | pelab_sim::liberty::Direction::Inout
        ) && g.arcs.iter().all(|a| a.from != a.to);
        if is_output {
            let mut num = 0.0;
            let mut den = 0.0;
            for a in &g.arcs {
                let d = match &pin.function {
                    Some(f) => sensitized_duty(f, &a.from)?,
                    None => 0.5,
                };
                num += d * edge(a)? * act(a)?;
                den += d;
            }
            if den > 0.0 {
                weighted += num / den;
            }
        } else {
            for a in &g.arcs {
                if a.when.is_some() {
                    return Err(trace_err(
                        a.line,
                        &format!("{} -> {}", a.from, a.to),
                        "an input-pin arc without a when condition (not handled)",
                    ));
                }
                weighted += edge(a)? * act(a)?;
            }
        }
    }
    Ok(TraceInternal {
        raw_w: raw,
        arc_weighted_w: weighted,
    })
}

/// Parses the block between `PELAB_<name>_BEGIN` and `PELAB_<name>_END` of OpenSTA's output:
/// `object rise fall` per line, as a map from the object's name.
pub fn parse_pairs(out: &str, name: &str) -> Result<std::collections::HashMap<String, (f64, f64)>> {
    let block = out
        .split(&format!("PELAB_{name}_BEGIN"))
        .nth(1)
        .and_then(|b| b.split(&format!("PELAB_{name}_END")).next())
        .ok_or_else(|| {
            Error::new(format!(
                "no PELAB_{name}_BEGIN block in OpenSTA's output:\n{}",
                tail(out)
            ))
        })?;
    // `name rise fall`; a name may hold spaces (escaped Verilog names), so the numbers are
    // the last two words. A line whose numbers do not parse (a pin OpenSTA has no slew for)
    // is left out: the decomposition names any pin or net it needs and cannot find.
    let mut m = std::collections::HashMap::new();
    for l in block.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() < 3 {
            continue;
        }
        let n = w.len();
        if let (Ok(r), Ok(f)) = (w[n - 2].parse::<f64>(), w[n - 1].parse::<f64>()) {
            m.insert(w[..n - 2].join(" "), (r, f));
        }
    }
    Ok(m)
}

/// OpenSTA's uniform report with its internal power re-weighted as later OpenSTA does.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ArcWeighted {
    /// Internal power, arc-weighted ([`TraceInternal::arc_weighted_w`]), mW.
    pub internal_mw: f64,
    /// Arc-weighted internal + OpenSTA's switching and leakage, mW.
    pub total_mw: f64,
    /// Σ of the trace's arc powers, mW: report_power's internal power, read back from the
    /// trace (a check that every arc was parsed).
    pub trace_raw_internal_mw: f64,
}

/// The difference between OpenSTA's arc-weighted total and pelab's pricing at the same
/// uniform activity, part by part, each computed with pelab's own tables (mW). The parts are
/// taken in order: loads, then slews, then arc weights, each on top of the previous ones.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Decomposition {
    /// Loads: pelab's pricing (switching and internal tables) at the loads OpenSTA computes
    /// (each pin at the larger of its `rise_capacitance` and `fall_capacitance`, where pelab
    /// takes `capacitance`) minus pelab's pricing, mW.
    pub load_mw: f64,
    /// Slews: pelab's pricing at OpenSTA's loads with every internal-power table read at the
    /// slews OpenSTA computes (same arcs, same mean over arcs and edges) minus the same at
    /// the smallest characterized transition, mW.
    pub slew_mw: f64,
    /// pelab's pricing at OpenSTA's loads and slews, mW (pelab + `load_mw` + `slew_mw`).
    pub pelab_at_sta_mw: f64,
    /// Arc weights: later OpenSTA's weighting (sensitization probability of each arc's input)
    /// minus pelab's plain mean over arcs, at OpenSTA's loads and slews, mW.
    pub weighting_mw: f64,
    /// Internal power of the input pins on nets no cell drives (input ports, constants): in
    /// OpenSTA's figure, not in pelab's (which prices a pin with its driver's toggle), mW.
    pub input_pins_mw: f64,
    /// Clock: later OpenSTA's clock-pin internal power (mean of rise and fall, two
    /// transitions per period, at OpenSTA's clock slew) minus pelab's clock energy (rise +
    /// fall at the smallest transition + C_CK·V² per cycle), mW.
    pub clock_mw: f64,
    /// The model's arc-weighted internal power (pelab's tables at OpenSTA's loads and slews,
    /// later OpenSTA's weights), mW: to compare with [`ArcWeighted::internal_mw`], which reads
    /// OpenSTA's own table energies from its trace.
    pub model_internal_mw: f64,
    /// The model's switching power at OpenSTA's loads, mW (OpenSTA's report: `switching_mw`).
    pub model_switching_mw: f64,
    /// Arc-weighted OpenSTA total − pelab − the parts above, mW: what the model misses.
    pub remainder_mw: f64,
}

/// OpenSTA's figures the decomposition reads.
#[derive(Debug, Clone, Default)]
pub struct StaNetlistFigures {
    /// Slew of each cell pin (`c<i>/<pin>`): (rise, fall) in the library's time unit.
    pub slews: std::collections::HashMap<String, (f64, f64)>,
    /// Load of each net (`n<k>`): (rise, fall) capacitance, F.
    pub loads: std::collections::HashMap<String, (f64, f64)>,
}

/// Decomposes `aw_total_mw` − `pelab_mw` (both at `activity` toggles per period on every
/// cell output, clock `req.freq_ghz`) with pelab's tables of `lib` read at OpenSTA's slews
/// and loads (`sta`).
pub fn decompose(
    net: &Netlist,
    lib: &Library,
    req: &Request,
    activity: f64,
    sta: &StaNetlistFigures,
    pelab_mw: f64,
    aw_total_mw: f64,
) -> Result<Decomposition> {
    use pelab_sim::energy::{CellModel, Technology as _};
    use pelab_sim::liberty::{PowerArc, Table};
    let tech = pelab_sim::energy::LibertyTech {
        lib,
        wire_ff_per_pin: req.wire_ff,
    };
    let v2 = lib.nom_voltage * lib.nom_voltage;
    let scale = lib.units.energy_fj;
    let tu = lib.units.time_ns;
    let port_load = tech.port_load_ff()?;
    let mut models: std::collections::BTreeMap<&str, CellModel> = Default::default();
    for c in &net.cells {
        if !models.contains_key(c.kind.as_str()) {
            models.insert(&c.kind, tech.cell(&c.kind)?);
        }
    }
    let slew = |ci: usize, pin: &str| -> Result<(f64, f64)> {
        let key = format!("c{ci}/{pin}");
        sta.slews
            .get(&key)
            .map(|&(r, f)| (r * tu, f * tu))
            .ok_or_else(|| Error::new(format!("OpenSTA reported no slew for pin {key}")))
    };
    // Σ of the present tables of one arc, each at its edge's slew, fJ, and their count.
    let at_slews = |a: &PowerArc, s: (f64, f64), load: f64| -> (f64, f64) {
        let mut sum = 0.0;
        let mut n = 0.0;
        for (t, sl) in [(&a.rise, s.0), (&a.fall, s.1)] {
            if let Some(t) = t.as_ref() {
                sum += Table::lookup(t, sl, load) * scale;
                n += 1.0;
            }
        }
        (sum, n)
    };
    let mut port_bits = vec![0usize; net.nets];
    for &n in &net.port_loads {
        port_bits[n as usize] += 1;
    }
    let mut counted = vec![false; net.nets];
    for &(n, _) in &net.counted {
        counted[n as usize] = true;
    }
    // fJ per toggle × toggles per ns = µW.
    let rate = activity * req.freq_ghz;
    let (mut load_uw, mut slew_uw, mut weight_uw, mut pins_uw, mut clock_uw) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut model_uw, mut model_sw_uw) = (0.0, 0.0);
    // An input pin's own internal power at OpenSTA's slew, fJ per toggle.
    let pin_energy = |ci: usize, pin: &str| -> Result<f64> {
        let lc = lib.cell(&net.cells[ci].kind)?;
        let Some(p) = lc.pin(pin) else {
            return Ok(0.0);
        };
        let s = slew(ci, pin)?;
        let (mut sum, mut n) = (0.0, 0.0);
        for a in &p.internal_power {
            let (v, k) = at_slews(a, s, 0.0);
            sum += v;
            n += k;
        }
        Ok(if n > 0.0 { sum / n } else { 0.0 })
    };
    for &(n, ci) in &net.counted {
        let c = &net.cells[ci];
        let m = &models[c.kind.as_str()];
        let lc = lib.cell(&c.kind)?;
        let fan = &net.fanout[n as usize];
        let mut load = port_bits[n as usize] as f64 * port_load;
        for (k, pin) in fan {
            let fm = &models[net.cells[*k].kind.as_str()];
            if fm.clock_pin.as_deref() == Some(pin.as_str()) {
                continue;
            }
            load += fm.pin_cap_ff.get(pin).copied().unwrap_or(0.0);
            let e_min = fm.pin_energy_fj.get(pin).copied().unwrap_or(0.0);
            let e = pin_energy(*k, pin)?;
            slew_uw += (e - e_min) * rate;
            model_uw += e * rate;
        }
        load += tech.wire_ff(fan.len()) * fan.len() as f64;
        let key = format!("n{n}");
        let sta_load = sta
            .loads
            .get(&key)
            .map(|&(r, f)| r.max(f) * 1e15)
            .ok_or_else(|| Error::new(format!("OpenSTA reported no load for net {key}")))?;
        let i0 = m.output.at(load);
        let i0s = m.output.at(sta_load);
        load_uw += (i0s - i0 + 0.5 * (sta_load - load) * v2) * rate;
        model_sw_uw += 0.5 * sta_load * v2 * rate;
        // pelab's pooled mean over every output pin's arcs, at OpenSTA's slews.
        let (mut sum, mut cnt) = (0.0, 0.0);
        for p in lc.outputs() {
            for a in &p.internal_power {
                let rel: Vec<&str> = a
                    .related_pin
                    .as_deref()
                    .map(|r| r.split_whitespace().collect())
                    .unwrap_or_default();
                if rel.is_empty() {
                    for t in [&a.rise, &a.fall].into_iter().flatten() {
                        sum += lookup_at_smallest_slew(t, sta_load) * scale;
                        cnt += 1.0;
                    }
                    continue;
                }
                let k = rel.len() as f64;
                for r in &rel {
                    let (v, nn) = at_slews(a, slew(ci, r)?, sta_load);
                    sum += v / k;
                    cnt += nn / k;
                }
            }
        }
        let i1 = if cnt > 0.0 { sum / cnt } else { 0.0 };
        // Later OpenSTA: this output pin's arcs, weighted by the sensitization probability.
        let out_pin = c
            .outputs
            .iter()
            .find(|(_, nn)| *nn == n)
            .map(|(p, _)| p.as_str())
            .unwrap_or_default();
        let (mut num, mut den) = (0.0, 0.0);
        if let Some(p) = lc.pin(out_pin) {
            for a in &p.internal_power {
                for r in a.related_pin.as_deref().unwrap_or("").split_whitespace() {
                    let d = match &p.function {
                        Some(f) => sensitized_duty(f, r)?,
                        None => 0.5,
                    };
                    let (v, nn) = at_slews(a, slew(ci, r)?, sta_load);
                    if nn > 0.0 {
                        num += d * v / nn;
                        den += d;
                    }
                }
            }
        }
        let i2 = if den > 0.0 { num / den } else { 0.0 };
        slew_uw += (i1 - i0s) * rate;
        weight_uw += (i2 - i1) * rate;
        model_uw += i2 * rate;
    }
    for (ci, c) in net.cells.iter().enumerate() {
        let m = &models[c.kind.as_str()];
        for (pin, n) in &c.inputs {
            if m.clock_pin.as_deref() == Some(pin.as_str()) {
                // Later OpenSTA: mean(rise, fall) × 2 transitions per period.
                let e = pin_energy(ci, pin)? * 2.0;
                clock_uw += (e - m.clock_fj) * req.freq_ghz;
                model_uw += e * req.freq_ghz;
            } else if !counted[*n as usize] {
                let e = pin_energy(ci, pin)?;
                pins_uw += e * rate;
                model_uw += e * rate;
            }
        }
    }
    let mw = |uw: f64| uw * 1e-3;
    let parts = mw(load_uw + slew_uw + weight_uw + pins_uw + clock_uw);
    Ok(Decomposition {
        load_mw: mw(load_uw),
        slew_mw: mw(slew_uw),
        pelab_at_sta_mw: pelab_mw + mw(load_uw + slew_uw),
        weighting_mw: mw(weight_uw),
        input_pins_mw: mw(pins_uw),
        clock_mw: mw(clock_uw),
        model_internal_mw: mw(model_uw),
        model_switching_mw: mw(model_sw_uw),
        remainder_mw: aw_total_mw - pelab_mw - parts,
    })
}

/// A table at the smallest characterized transition (pelab's reading).
fn lookup_at_smallest_slew(t: &pelab_sim::liberty::Table, load_ff: f64) -> f64 {
    let is_slew = |v: &str| v.contains("transition");
    let slew = if is_slew(&t.var1) {
        t.index_1.iter().copied().fold(f64::INFINITY, f64::min)
    } else if t.var2.as_deref().is_some_and(is_slew) {
        t.index_2.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        0.0
    };
    t.lookup(
        if slew.is_finite() {
            slew * t.units.time_ns
        } else {
            0.0
        },
        load_ff,
    )
}
