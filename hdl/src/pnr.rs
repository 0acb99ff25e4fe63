//! Place and route on Lattice iCE40 devices with nextpnr-ice40: the maximum clock frequency
//! (Fmax) and the device utilization of a design, and its bitstream (icepack).
//!
//! nextpnr times register-to-register paths only, so a PE is placed inside a generated wrapper
//! ([`wrap_registered`]) that registers every input port into it and every output port out of
//! it; a combinational PE then has timed paths, and a pipelined one is timed stage by stage.
//!
//! Flow: Yosys `synth_ice40 -flatten` ([`crate::synth::synthesize`], cached there), then
//! `nextpnr-ice40 --hx8k|--up5k --package P --json netlist.json --asc design.asc --seed S
//! --report report.json --freq 1 --timing-allow-fail`. The I/O pins are placed by nextpnr (no
//! constraint file). The target frequency only sets the timing budget; the achieved Fmax is
//! what the report states. Results are cached under `nextpnr/<hash>/` in
//! [`crate::synth::cache_dir`], keyed on the Verilog, top module, device, seed, the nextpnr
//! arguments and the Yosys and nextpnr versions; a hit is used only when the stored Verilog
//! and arguments equal the current ones byte for byte.

use crate::emit::{PortDir, RtlModule};
use crate::synth::{cache_dir, content_hash, fresh_tmp, io_err, synthesize, Flow, SynthReport};
use crate::tools::{require_tool, run, tool_version};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Target frequency given to nextpnr (MHz). It only sets the timing budget: with
/// `--timing-allow-fail` the achieved Fmax is reported whatever the target.
pub const TARGET_MHZ: u32 = 1;

/// An iCE40 device and the package it is placed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// iCE40 HX8K in the CT256 package.
    Hx8k,
    /// iCE40 UltraPlus UP5K in the SG48 package.
    Up5k,
}

impl Device {
    /// Every device.
    pub const ALL: [Device; 2] = [Device::Hx8k, Device::Up5k];

    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Device::Hx8k => "hx8k",
            Device::Up5k => "up5k",
        }
    }

    /// Parses a device name; the error lists the valid ones.
    pub fn parse(s: &str) -> Result<Device> {
        Device::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::new(format!("unknown iCE40 device '{s}'; valid: hx8k, up5k")))
    }

    /// Package passed to nextpnr (`--package`).
    pub fn package(self) -> &'static str {
        match self {
            Device::Hx8k => "ct256",
            Device::Up5k => "sg48",
        }
    }

    /// Logic cells (LUT4 + flip-flop) of the device (Lattice data sheets: iCE40 LP/HX 7 680,
    /// iCE40 UltraPlus UP5K 5 280).
    pub fn logic_cells(self) -> u64 {
        match self {
            Device::Hx8k => 7680,
            Device::Up5k => 5280,
        }
    }

    /// User I/O pins of the package (Lattice data sheets: HX8K CT256 206, UP5K SG48 39).
    pub fn user_io(self) -> u64 {
        match self {
            Device::Hx8k => 206,
            Device::Up5k => 39,
        }
    }

    /// Display name, e.g. `iCE40 HX8K (ct256)`.
    pub fn label(self) -> String {
        format!("iCE40 {} ({})", self.name().to_uppercase(), self.package())
    }
}

/// Where the wrapper's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockSource {
    /// The PE has a `clock` input; the wrapper's registers share it.
    Shared,
    /// The PE is combinational; the wrapper adds a `clock` input for its registers.
    Added,
}

/// A generated place-and-route wrapper around a PE module: every input port registered into
/// the PE, every output port registered out of it, on one clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wrapper {
    /// Wrapper module name: `<module>_pnr`.
    pub module: String,
    /// The wrapped PE module.
    pub wraps: String,
    /// Whether the clock is the PE's own or added by the wrapper.
    pub clock: ClockSource,
    /// Registered input ports (`name[width]`).
    pub registered_inputs: Vec<String>,
    /// Registered output ports (`name[width]`).
    pub registered_outputs: Vec<String>,
    /// Flip-flops the wrapper adds.
    pub register_bits: u64,
    /// Clock cycles from the wrapper's inputs to its outputs (the PE's latency + 2).
    pub latency: u32,
    /// What the wrapper does, as one sentence.
    pub note: String,
    /// Verilog of the wrapper and the PE (one file, top module [`Wrapper::module`]).
    #[serde(skip)]
    pub verilog: String,
}

impl Wrapper {
    /// File name of the wrapper: `<module>.v`.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.module)
    }
}

fn range(width: usize) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

/// Generates the place-and-route wrapper of `m` (see [`Wrapper`]). The PE's clock input, a
/// 1-bit port named `clock`, is shared; a PE without one gets a `clock` port on the wrapper.
pub fn wrap_registered(m: &RtlModule) -> Result<Wrapper> {
    let is_clock = |p: &crate::Port| p.name == "clock" && p.dir == PortDir::Input;
    let clock = if m.ports.iter().any(is_clock) {
        ClockSource::Shared
    } else {
        ClockSource::Added
    };
    let data: Vec<&crate::Port> = m.ports.iter().filter(|p| !is_clock(p)).collect();
    let top = format!("{}_pnr", m.name);
    // Wrapper-internal names: `<port>_q` (input registers), `<port>_d` (PE outputs), `pe`.
    let mut names: std::collections::BTreeSet<String> =
        m.ports.iter().map(|p| p.name.clone()).collect();
    names.insert("clock".into());
    for p in &data {
        let internal = match p.dir {
            PortDir::Input => format!("{}_q", p.name),
            PortDir::Output => format!("{}_d", p.name),
        };
        if !names.insert(internal.clone()) {
            return Err(Error::new(format!(
                "cannot wrap {}: the wrapper's signal {internal} would clash with a port",
                m.name
            )));
        }
    }
    if !names.insert("pe".into()) {
        return Err(Error::new(format!(
            "cannot wrap {}: a port is named `pe` like the wrapper's instance",
            m.name
        )));
    }
    let list = |dir: PortDir| -> Vec<String> {
        data.iter()
            .filter(|p| p.dir == dir)
            .map(|p| format!("{}[{}]", p.name, p.width))
            .collect()
    };
    let (inputs, outputs) = (list(PortDir::Input), list(PortDir::Output));
    let bits =
        |dir: PortDir| -> usize { data.iter().filter(|p| p.dir == dir).map(|p| p.width).sum() };
    let (in_bits, out_bits) = (bits(PortDir::Input), bits(PortDir::Output));
    let clock_note = match clock {
        ClockSource::Shared => "the PE's own clock",
        ClockSource::Added => "a clock input the wrapper adds (the PE is combinational)",
    };
    let note = format!(
        "{top} registers every input port of {} ({in_bits} bits) into it and every output port \
         ({out_bits} bits) out of it, on {clock_note}: nextpnr times register-to-register paths \
         only, so every path through the PE is timed; latency {} + 2 cycles",
        m.name, m.latency
    );

    let mut v = String::new();
    let mut line = |s: &str| {
        v.push_str(s);
        v.push('\n');
    };
    line(&format!(
        "// {top}.v -- place-and-route wrapper of {} generated by pelab-hdl {}; do not edit.",
        m.name,
        env!("CARGO_PKG_VERSION")
    ));
    line("//");
    line(&format!(
        "// Registers every input port into {} and every output port out of it, on {clock_note}.",
        m.name
    ));
    line("// nextpnr times register-to-register paths only: with these registers every path");
    line(&format!(
        "// through the PE is timed. Latency: {} clock cycles (the PE's {} + 2).",
        m.latency + 2,
        m.latency
    ));
    line("");
    line("`default_nettype none");
    line("");
    let mut port_names = vec!["clock".to_string()];
    port_names.extend(data.iter().map(|p| p.name.clone()));
    line(&format!("module {top}({});", port_names.join(",")));
    line("    input wire  clock;");
    for p in &data {
        match p.dir {
            PortDir::Input => line(&format!("    input wire  {}{};", range(p.width), p.name)),
            PortDir::Output => line(&format!("    output reg  {}{};", range(p.width), p.name)),
        }
    }
    line("");
    for p in &data {
        match p.dir {
            PortDir::Input => line(&format!("    reg  {}{}_q;", range(p.width), p.name)),
            PortDir::Output => line(&format!("    wire  {}{}_d;", range(p.width), p.name)),
        }
    }
    line("");
    let conns: Vec<String> = m
        .ports
        .iter()
        .map(|p| {
            if is_clock(p) {
                "        .clock(clock)".to_string()
            } else if p.dir == PortDir::Input {
                format!("        .{0}({0}_q)", p.name)
            } else {
                format!("        .{0}({0}_d)", p.name)
            }
        })
        .collect();
    line(&format!(
        "    {} pe(\n{}\n    );",
        m.name,
        conns.join(",\n")
    ));
    line("");
    line("    always @(posedge clock) begin");
    for p in &data {
        match p.dir {
            PortDir::Input => line(&format!("        {0}_q <= {0};", p.name)),
            PortDir::Output => line(&format!("        {0} <= {0}_d;", p.name)),
        }
    }
    line("    end");
    line("");
    line(&format!("endmodule // {top}"));
    line("`default_nettype wire");
    line("");
    line("// The PE, as emitted. Its module names differ from this file's name.");
    line("/* verilator lint_off DECLFILENAME */");
    v.push_str(&m.verilog);
    if !v.ends_with('\n') {
        v.push('\n');
    }
    v.push_str("/* verilator lint_on DECLFILENAME */\n");

    Ok(Wrapper {
        module: top,
        wraps: m.name.clone(),
        clock,
        registered_inputs: inputs,
        registered_outputs: outputs,
        register_bits: (in_bits + out_bits) as u64,
        latency: m.latency + 2,
        note,
        verilog: v,
    })
}

/// Used and available count of one cell type on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Cells of the type the design uses.
    pub used: u64,
    /// Cells of the type the device has.
    pub available: u64,
}

/// What place and route produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnrReport {
    /// Top module placed.
    pub module: String,
    /// Device.
    pub device: Device,
    /// Package.
    pub package: String,
    /// nextpnr's placer seed.
    pub seed: u32,
    /// Achieved Fmax (MHz) of the slowest clock: the reciprocal of the longest
    /// register-to-register path after routing, as nextpnr reports it.
    pub fmax_mhz: f64,
    /// Achieved Fmax (MHz) per clock net.
    pub clocks: BTreeMap<String, f64>,
    /// Utilization per cell type (`ICESTORM_LC`, `ICESTORM_RAM`, `SB_IO`, `SB_GB`, ...).
    pub utilization: BTreeMap<String, Usage>,
    /// Bits of the top module's ports (each takes one I/O pin).
    pub io_bits: u64,
    /// The iCE40 synthesis of the placed design.
    pub synth: SynthReport,
    /// Yosys version line.
    pub yosys: String,
    /// nextpnr version line.
    pub nextpnr: String,
    /// The cached ASCII bitstream (`design.asc`), input of [`bitstream`].
    pub asc: PathBuf,
    /// The cached nextpnr log.
    pub log: PathBuf,
}

/// The short name of a clock net: nextpnr names the global net of a clock port
/// `<port>$SB_IO_IN_$glb_clk`.
fn clock_name(net: &str) -> &str {
    net.split('$')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(net)
}

/// Parses nextpnr's JSON report (`--report`): achieved Fmax per clock and utilization.
pub fn parse_report(json: &str) -> Result<(BTreeMap<String, f64>, BTreeMap<String, Usage>)> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::new(format!("nextpnr report does not parse: {e}")))?;
    let fmax = v["fmax"]
        .as_object()
        .ok_or_else(|| Error::new("nextpnr report has no `fmax` object"))?;
    let mut clocks = BTreeMap::new();
    for (net, c) in fmax {
        let mhz = c["achieved"].as_f64().ok_or_else(|| {
            Error::new(format!(
                "nextpnr report: clock {net} has no numeric `achieved` Fmax"
            ))
        })?;
        clocks.insert(net.clone(), mhz);
    }
    // Short names when they stay distinct.
    let short: BTreeMap<String, f64> = clocks
        .iter()
        .map(|(k, &f)| (clock_name(k).to_string(), f))
        .collect();
    if short.len() == clocks.len() {
        clocks = short;
    }
    let util = v["utilization"]
        .as_object()
        .ok_or_else(|| Error::new("nextpnr report has no `utilization` object"))?;
    let mut utilization = BTreeMap::new();
    for (t, u) in util {
        let field = |f: &str| {
            u[f].as_u64().ok_or_else(|| {
                Error::new(format!("nextpnr report: utilization of {t} has no `{f}`"))
            })
        };
        utilization.insert(
            t.clone(),
            Usage {
                used: field("used")?,
                available: field("available")?,
            },
        );
    }
    Ok((clocks, utilization))
}

/// The `Device utilisation` block of a nextpnr log (`Info:  ICESTORM_LC:  2214/ 5280  41%`).
pub fn parse_log_utilization(log: &str) -> BTreeMap<String, Usage> {
    let mut out = BTreeMap::new();
    let mut inside = false;
    for l in log.lines() {
        if l.contains("Device utilisation:") {
            inside = true;
            out.clear();
            continue;
        }
        if !inside {
            continue;
        }
        let body = l.strip_prefix("Info:").unwrap_or("").trim();
        let parsed = body.split_once(':').and_then(|(t, rest)| {
            let (used, rest) = rest.split_once('/')?;
            let available = rest.split_whitespace().next()?;
            Some((t.trim(), used.trim().parse().ok()?, available.parse().ok()?))
        });
        match parsed {
            Some((t, used, available)) => {
                out.insert(t.to_string(), Usage { used, available });
            }
            None => inside = false,
        }
    }
    out
}

/// Bits of the top module's ports in a Yosys JSON netlist.
fn port_bits(json: &str, top: &str) -> Result<u64> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::new(format!("Yosys JSON netlist does not parse: {e}")))?;
    let ports = v["modules"][top]["ports"]
        .as_object()
        .ok_or_else(|| Error::new(format!("module {top} has no ports in the netlist")))?;
    Ok(ports
        .values()
        .map(|p| p["bits"].as_array().map_or(0, |b| b.len() as u64))
        .sum())
}

/// The nextpnr arguments, with `{netlist}` standing for the netlist path.
fn nextpnr_args(device: Device, seed: u32) -> Vec<String> {
    let mut a: Vec<String> = vec![format!("--{}", device.name())];
    for s in [
        "--package",
        device.package(),
        "--json",
        "{netlist}",
        "--asc",
        "design.asc",
        "--seed",
        &seed.to_string(),
        "--report",
        "report.json",
        "--freq",
        &TARGET_MHZ.to_string(),
        "--timing-allow-fail",
        "-q",
        "-l",
        "nextpnr.log",
    ] {
        a.push(s.to_string());
    }
    a
}

/// Explains a failed place and route: nextpnr's errors, the utilization it reported, the
/// design's I/O bits against the package's pins and the synthesis' cells against the device's
/// logic cells.
fn failure(
    top: &str,
    device: Device,
    seed: u32,
    log: &str,
    out: &str,
    synth: &SynthReport,
    io: u64,
) -> Error {
    let mut msg = format!(
        "nextpnr-ice40 could not place and route {top} on {} (seed {seed})",
        device.label()
    );
    let errors: Vec<&str> = log
        .lines()
        .chain(out.lines())
        .filter(|l| l.starts_with("ERROR"))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in errors {
        if seen.insert(e) {
            msg.push_str(&format!("\n  {e}"));
        }
    }
    if seen.is_empty() {
        let tail: Vec<&str> = out.lines().rev().take(15).collect();
        for l in tail.into_iter().rev() {
            msg.push_str(&format!("\n  {l}"));
        }
    }
    let util = parse_log_utilization(log);
    if util.is_empty() {
        msg.push_str("\n  nextpnr reported no utilization (it failed before packing)");
    } else {
        msg.push_str("\n  utilization nextpnr reported:");
        for (t, u) in util.iter().filter(|(_, u)| u.used > 0) {
            let over = if u.used > u.available {
                "  <- more than the device has"
            } else {
                ""
            };
            msg.push_str(&format!(
                "\n    {t:<14} {:>6} / {}{over}",
                u.used, u.available
            ));
        }
    }
    msg.push_str(&format!(
        "\n  the design has {io} I/O bits; the {} package bonds {} user I/O pins",
        device.package(),
        device.user_io()
    ));
    if io > device.user_io() {
        msg.push_str(" (too few)");
    }
    let lcs = synth.luts.max(synth.ffs);
    msg.push_str(&format!(
        "\n  synthesis: {} LUT4, {} flip-flops, {} carry cells: at least {lcs} logic cells; \
         the device has {}",
        synth.luts,
        synth.ffs,
        synth.carry,
        device.logic_cells()
    ));
    if lcs > device.logic_cells() {
        msg.push_str(" (too few)");
    }
    Error::new(msg)
}

/// Places and routes `verilog` (top module `top`, already wrapped in registers if it needs
/// timed paths: [`wrap_registered`]) on `device` with nextpnr's placer seed `seed`, and returns
/// the achieved Fmax and the utilization. Errors name a missing tool and its package, or
/// explain why the design does not fit.
pub fn pnr_fmax(verilog: &str, top: &str, device: Device, seed: u32) -> Result<PnrReport> {
    if seed > i32::MAX as u32 {
        return Err(Error::new(format!(
            "nextpnr seed {seed} is too large (at most {})",
            i32::MAX
        )));
    }
    let nextpnr = tool_version("nextpnr-ice40")?;
    let synth = synthesize(verilog, top, Flow::Ice40)?;
    let yosys = synth.yosys.clone();
    let args = nextpnr_args(device, seed);
    let args_text = args.join(" ");
    let key = content_hash(&[&yosys, &nextpnr, &args_text, top, verilog]);
    let root = cache_dir().join("nextpnr");
    let entry = root.join(&key);
    let same =
        |name: &str, want: &str| std::fs::read_to_string(entry.join(name)).is_ok_and(|s| s == want);
    let cached = entry.join("pnr.json");
    if cached.is_file() && same("input.v", verilog) && same("args.txt", &args_text) {
        let text = std::fs::read_to_string(&cached).map_err(|e| io_err("read", &cached, e))?;
        if let Ok(r) = serde_json::from_str::<PnrReport>(&text) {
            if r.asc.is_file() {
                return Ok(r);
            }
        }
    }

    let tmp = fresh_tmp(&root, &key)?;
    let result = place(
        &tmp, &entry, top, device, seed, &args, &synth, &yosys, &nextpnr,
    );
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let write = |name: &str, text: &str| {
        let p = tmp.join(name);
        std::fs::write(&p, text).map_err(|e| io_err("write", &p, e))
    };
    write("input.v", verilog)?;
    write("args.txt", &args_text)?;
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::new(format!("cannot serialize report: {e}")))?;
    write("pnr.json", &json)?;
    if std::fs::rename(&tmp, &entry).is_err() {
        // Another process filled the entry first, or a stale entry is in the way.
        if entry.join("pnr.json").is_file() && same("input.v", verilog) {
            let _ = std::fs::remove_dir_all(&tmp);
        } else {
            let _ = std::fs::remove_dir_all(&entry);
            std::fs::rename(&tmp, &entry).map_err(|e| io_err("rename", &tmp, e))?;
        }
    }
    Ok(report)
}

/// Runs nextpnr in `dir` and reads its report; paths in the result point into `entry`.
#[allow(clippy::too_many_arguments)]
fn place(
    dir: &Path,
    entry: &Path,
    top: &str,
    device: Device,
    seed: u32,
    args: &[String],
    synth: &SynthReport,
    yosys: &str,
    nextpnr: &str,
) -> Result<PnrReport> {
    let netlist = std::fs::canonicalize(&synth.netlist)
        .map_err(|e| io_err("find the netlist", &synth.netlist, e))?;
    let netlist_text =
        std::fs::read_to_string(&netlist).map_err(|e| io_err("read", &netlist, e))?;
    let io_bits = port_bits(&netlist_text, top)?;
    drop(netlist_text);
    let netlist = netlist
        .to_str()
        .ok_or_else(|| Error::new("non-UTF-8 cache path"))?
        .to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a == "{netlist}" {
                netlist.clone()
            } else {
                a.clone()
            }
        })
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run("nextpnr-ice40", &argv, Some(dir))?;
    let log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
    if !r.ok || !dir.join("report.json").is_file() {
        return Err(failure(top, device, seed, &log, &r.output, synth, io_bits));
    }
    let p = dir.join("report.json");
    let text = std::fs::read_to_string(&p).map_err(|e| io_err("read", &p, e))?;
    let (clocks, utilization) = parse_report(&text)?;
    let fmax_mhz = clocks.values().copied().reduce(f64::min).ok_or_else(|| {
        Error::new(format!(
            "nextpnr timed no clock in {top}: the design has no register-to-register path \
                 (wrap it with registers first)"
        ))
    })?;
    Ok(PnrReport {
        module: top.to_string(),
        device,
        package: device.package().to_string(),
        seed,
        fmax_mhz,
        clocks,
        utilization,
        io_bits,
        synth: synth.clone(),
        yosys: yosys.to_string(),
        nextpnr: nextpnr.to_string(),
        asc: entry.join("design.asc"),
        log: entry.join("nextpnr.log"),
    })
}

/// [`wrap_registered`] then [`pnr_fmax`] on the wrapper.
pub fn pnr_module(m: &RtlModule, device: Device, seed: u32) -> Result<(Wrapper, PnrReport)> {
    let w = wrap_registered(m)?;
    let r = pnr_fmax(&w.verilog, &w.module, device, seed)?;
    Ok((w, r))
}

/// The binary bitstream of a placed design: `icepack design.asc` into a temporary file, read
/// back (the caller writes it where it belongs).
pub fn bitstream(report: &PnrReport) -> Result<Vec<u8>> {
    require_tool("icepack")?;
    let dir = std::env::temp_dir().join(format!(
        "pelab-icepack-{}-{}",
        std::process::id(),
        crate::emit::unique()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| io_err("create", &dir, e))?;
    let asc = report
        .asc
        .to_str()
        .ok_or_else(|| Error::new("non-UTF-8 cache path"))?;
    let out = dir.join("design.bin");
    let r = run("icepack", &[asc, "design.bin"], Some(&dir));
    let bytes = match r {
        Ok(r) if r.ok => std::fs::read(&out).map_err(|e| io_err("read", &out, e)),
        Ok(r) => Err(Error::new(format!(
            "icepack {asc} failed:\n{}",
            r.output.trim_end()
        ))),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_utilization_block() {
        let log = "Info: Device utilisation:\n\
                   Info: \t         ICESTORM_LC:  6002/ 5280   113%\n\
                   Info: \t               SB_IO:     3/   96     3%\n\
                   \n\
                   Info: Placed 0 cells based on constraints.\n";
        let u = parse_log_utilization(log);
        assert_eq!(u.len(), 2, "{u:?}");
        assert_eq!(
            u["ICESTORM_LC"],
            Usage {
                used: 6002,
                available: 5280
            }
        );
        assert_eq!(u["SB_IO"].used, 3);
    }

    #[test]
    fn report_fields() {
        let json = r#"{"fmax": {"clock$SB_IO_IN_$glb_clk": {"achieved": 112.5, "constraint": 1}},
            "utilization": {"ICESTORM_LC": {"available": 7680, "used": 81}}}"#;
        let (c, u) = parse_report(json).unwrap();
        assert_eq!(c["clock"], 112.5);
        assert_eq!(u["ICESTORM_LC"].available, 7680);
        assert!(parse_report("{}").is_err());
    }

    #[test]
    fn devices_parse() {
        assert_eq!(Device::parse("up5k").unwrap().package(), "sg48");
        let e = Device::parse("ecp5").unwrap_err().to_string();
        assert!(e.contains("hx8k") && e.contains("up5k"), "{e}");
    }
}
