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
    let _ = writeln!(s, "report_power -digits 8");
    let _ = writeln!(s, "puts \"PELAB_CHECKS_BEGIN\"");
    let _ = writeln!(s, "report_checks -path_delay max -digits 4");
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
