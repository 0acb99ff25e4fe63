//! Synthesis with Yosys: generic gates, iCE40 and Xilinx 7-series, with a parsed report and the
//! JSON netlist kept in a content-addressed cache (Yosys runs once per distinct input).
//!
//! Cache location: `$PELAB_CACHE_DIR`, else `$XDG_CACHE_HOME/pelab`, else `$HOME/.cache/pelab`,
//! else the system temporary directory; entries live under `yosys/<hash>/` and hold the input
//! Verilog, the script, the log, the netlist (`netlist.json`) and the report (`report.json`).
//! A hit is used only when the stored Verilog and script equal the current ones byte for byte.

use crate::tools::{run, tool_version};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Gate set of the generic flow (ABC `-g`): two-input gates, MUX, and AND-OR-INVERT /
/// OR-AND-INVERT with 3 and 4 inputs; inverters (`$_NOT_`) and flip-flops stay as Yosys cells.
pub const GENERIC_GATES: &str = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX,AOI3,OAI3,AOI4,OAI4";

/// A synthesis flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// `synth -flatten` then ABC onto [`GENERIC_GATES`] (technology independent, for energy).
    Generic,
    /// `synth_ice40` (Lattice iCE40: SB_LUT4, SB_CARRY, SB_DFF*).
    Ice40,
    /// `synth_xilinx -noiopad` (Xilinx 7-series: LUT1..6, MUXF7/8, CARRY4, FD*, DSP48E1; no I/O
    /// buffers, since a PE is an inner block).
    Xilinx,
    /// `synth -flatten`, flip-flops legalized to plain D flip-flops, then `dfflibmap` and
    /// `abc -liberty` onto the cells of a Liberty library ([`synthesize_liberty`]).
    Liberty,
}

impl Flow {
    /// Every flow that needs no library file.
    pub const ALL: [Flow; 3] = [Flow::Generic, Flow::Ice40, Flow::Xilinx];

    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Flow::Generic => "generic",
            Flow::Ice40 => "ice40",
            Flow::Xilinx => "xilinx",
            Flow::Liberty => "liberty",
        }
    }

    /// Parses a flow name; the error lists the valid ones.
    pub fn parse(s: &str) -> Result<Flow> {
        Flow::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                Error::new(format!(
                    "unknown synthesis flow '{s}'; valid: generic, ice40, xilinx"
                ))
            })
    }

    /// The Yosys script (the input file is `input.v` in the working directory; `liberty` is
    /// the uncompressed library file of the liberty flow).
    ///
    /// The generic and liberty flows legalize every flip-flop to a plain positive-edge D
    /// flip-flop (`dfflegalize -cell $_DFF_P_ 01`): enables and synchronous resets become
    /// gates, so their switching is simulated and priced like any other logic.
    pub fn script(self, top: &str, liberty: Option<&Path>) -> String {
        self.script_as(top, liberty, false)
    }

    /// [`Flow::script`], or with `hierarchical` each module mapped once on its own and the
    /// design flattened afterwards (no optimization across module boundaries): an array of
    /// R x C identical cells maps its cell once, not R x C times. Not for the liberty flow.
    fn script_as(self, top: &str, liberty: Option<&Path>, hierarchical: bool) -> String {
        let lib = liberty.map(|p| p.display().to_string()).unwrap_or_default();
        let map = match self {
            Flow::Generic if hierarchical => format!(
                "synth -top {top}\ndfflegalize -cell $_DFF_P_ 01\n\
                 abc -g {GENERIC_GATES}\nflatten\nopt_clean -purge\n"
            ),
            Flow::Ice40 if hierarchical => {
                format!("synth_ice40 -noflatten -top {top}\nflatten\nopt_clean -purge\n")
            }
            Flow::Xilinx if hierarchical => {
                format!("synth_xilinx -noiopad -top {top}\nflatten\nopt_clean -purge\n")
            }
            Flow::Generic => format!(
                "synth -flatten -top {top}\ndfflegalize -cell $_DFF_P_ 01\n\
                 abc -g {GENERIC_GATES}\nopt_clean -purge\n"
            ),
            Flow::Ice40 => format!("synth_ice40 -flatten -top {top}\n"),
            Flow::Xilinx => format!("synth_xilinx -flatten -noiopad -top {top}\n"),
            Flow::Liberty => format!(
                "synth -flatten -top {top}\ndfflegalize -cell $_DFF_P_ 01\n\
                 tee -q -o ffcount.txt select -count t:$_DFF_P_\n\
                 dfflibmap -liberty \"{lib}\"\nabc -liberty \"{lib}\"\nopt_clean -purge\n"
            ),
        };
        let stat = if self == Flow::Liberty {
            format!("stat -liberty \"{lib}\"")
        } else {
            "stat".to_string()
        };
        // The liberty flow reads the cells as black boxes first, so that the JSON netlist
        // records their port directions.
        let cells = if self == Flow::Liberty {
            format!("read_liberty -lib \"{lib}\"\n")
        } else {
            String::new()
        };
        // The generic netlist is also written as Verilog (gate-level simulation elsewhere).
        let verilog = if self == Flow::Generic {
            "write_verilog -noattr netlist.v\n"
        } else {
            ""
        };
        format!(
            "{cells}read_verilog input.v\nhierarchy -check -top {top}\n{map}\
             tee -o stat.txt {stat}\nwrite_json netlist.json\n{verilog}"
        )
    }
}

/// What a synthesis run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthReport {
    /// Top module.
    pub module: String,
    /// Flow used.
    pub flow: Flow,
    /// Yosys version line.
    pub yosys: String,
    /// Cell count by cell type (e.g. `$_AND_`, `SB_LUT4`, `LUT6`).
    pub cells: BTreeMap<String, u64>,
    /// All cells.
    pub cell_count: u64,
    /// Logic cells: all cells but flip-flops, carry cells, DSPs and I/O buffers (generic gates;
    /// LUTs and wide-function multiplexers such as MUXF7 on FPGAs).
    pub logic_cells: u64,
    /// LUTs (FPGA flows; 0 for the generic flow).
    pub luts: u64,
    /// Flip-flops.
    pub ffs: u64,
    /// Dedicated carry cells (SB_CARRY, CARRY4).
    pub carry: u64,
    /// DSP blocks.
    pub dsps: u64,
    /// Longest combinational path, in cells of the mapped netlist ([`longest_path`]): paths
    /// start and end at ports or flip-flops; on FPGAs each carry cell of a chain counts 1.
    pub longest_path: u64,
    /// The cached JSON netlist.
    pub netlist: PathBuf,
}

/// Root of pelab's cache directory (see the module documentation).
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PELAB_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("pelab");
    }
    if let Some(d) = std::env::var_os("HOME") {
        return PathBuf::from(d).join(".cache").join("pelab");
    }
    std::env::temp_dir().join("pelab-cache")
}

/// 128-bit FNV-1a (two 64-bit lanes with different offsets); collisions are caught anyway by
/// comparing the stored inputs.
pub fn content_hash(parts: &[&str]) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x6c62_272e_07bb_0142;
    for p in parts {
        for &b in p.as_bytes().iter().chain(std::iter::once(&0xffu8)) {
            h1 = (h1 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
            h2 = (h2 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h1:016x}{h2:016x}")
}

pub(crate) fn io_err(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::new(format!("cannot {what} {}: {e}", p.display()))
}

/// A fresh, empty working directory for cache entry `key` under the cache folder `root`
/// (created if missing), unique to this process; renamed into place once complete.
pub fn fresh_tmp(root: &Path, key: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(root).map_err(|e| io_err("create", root, e))?;
    let tmp = root.join(format!(
        ".tmp-{key}-{}-{}",
        std::process::id(),
        crate::emit::unique()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io_err("create", &tmp, e))?;
    Ok(tmp)
}

/// Counts cells by type in the top module of a Yosys JSON netlist.
pub fn count_cells(json: &str, top: &str) -> Result<BTreeMap<String, u64>> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::new(format!("Yosys JSON netlist does not parse: {e}")))?;
    let cells = v["modules"][top]["cells"]
        .as_object()
        .ok_or_else(|| Error::new(format!("module {top} has no cells in the netlist")))?;
    let mut by_type = BTreeMap::new();
    for cell in cells.values() {
        let t = cell["type"].as_str().unwrap_or("?").to_string();
        *by_type.entry(t).or_insert(0) += 1;
    }
    Ok(by_type)
}

fn is_ff(t: &str) -> bool {
    t.contains("DFF") || (t.starts_with("FD") && t.len() == 4)
}
fn is_lut(t: &str) -> bool {
    t.contains("LUT")
}
fn is_carry(t: &str) -> bool {
    t.contains("CARRY")
}
fn is_dsp(t: &str) -> bool {
    t.contains("MAC16") || t.starts_with("DSP")
}
fn is_io(t: &str) -> bool {
    matches!(t, "IBUF" | "OBUF" | "IOBUF" | "OBUFT" | "SB_IO")
}

/// Longest combinational path of the top module of a Yosys JSON netlist, in cells: paths start
/// and end at ports or flip-flops (cells that [`is_ff`] recognizes), every other cell counts 1.
pub fn longest_path(json: &str, top: &str) -> Result<u64> {
    longest_path_by(json, top, &is_ff)
}

/// [`longest_path`] with the sequential cells given by `is_seq` (library flip-flops and
/// latches in the liberty flow).
fn longest_path_by(json: &str, top: &str, is_seq: &dyn Fn(&str) -> bool) -> Result<u64> {
    let v: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::new(format!("Yosys JSON netlist does not parse: {e}")))?;
    let cells = v["modules"][top]["cells"]
        .as_object()
        .ok_or_else(|| Error::new(format!("module {top} has no cells in the netlist")))?;
    // Combinational cells: their input nets and output nets.
    let mut comb: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
    for (name, cell) in cells {
        let t = cell["type"].as_str().unwrap_or("?");
        if is_seq(t) {
            continue;
        }
        let dirs = cell["port_directions"].as_object().ok_or_else(|| {
            Error::new(format!(
                "cell {name} ({t}) has no port directions in the netlist"
            ))
        })?;
        let (mut ins, mut outs) = (Vec::new(), Vec::new());
        for (port, bits) in cell["connections"].as_object().into_iter().flatten() {
            let nets = bits
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b.as_u64());
            match dirs.get(port).and_then(|d| d.as_str()) {
                Some("output") => outs.extend(nets),
                _ => ins.extend(nets),
            }
        }
        comb.push((ins, outs));
    }
    let mut driver = std::collections::HashMap::new();
    for (i, (_, outs)) in comb.iter().enumerate() {
        for &n in outs {
            driver.insert(n, i);
        }
    }
    // depth[i]: cells on the longest path ending at cell i (iterative DFS, cycles are errors).
    let mut depth: Vec<u64> = vec![0; comb.len()];
    let mut state = vec![0u8; comb.len()]; // 0 new, 1 open, 2 done
    for start in 0..comb.len() {
        let mut stack = vec![(start, false)];
        while let Some((c, expanded)) = stack.pop() {
            if expanded {
                let d = comb[c]
                    .0
                    .iter()
                    .filter_map(|n| driver.get(n))
                    .map(|&p| depth[p])
                    .max();
                depth[c] = 1 + d.unwrap_or(0);
                state[c] = 2;
                continue;
            }
            if state[c] != 0 {
                continue;
            }
            state[c] = 1;
            stack.push((c, true));
            for n in &comb[c].0 {
                if let Some(&p) = driver.get(n) {
                    match state[p] {
                        0 => stack.push((p, false)),
                        1 => {
                            return Err(Error::new(format!(
                                "combinational loop in the netlist of {top}"
                            )))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(depth.into_iter().max().unwrap_or(0))
}

/// Runs (or reuses) the synthesis of `verilog` (top module `top`) with `flow`; returns the
/// cache entry directory.
fn run_cached(
    verilog: &str,
    top: &str,
    flow: Flow,
    liberty: Option<(&Path, &str)>,
    hierarchical: bool,
) -> Result<PathBuf> {
    let version = tool_version("yosys")?;
    let script = flow.script_as(top, liberty.map(|l| l.0), hierarchical);
    let lib_hash = liberty.map(|l| l.1).unwrap_or("");
    let key = content_hash(&[&version, &script, top, verilog, lib_hash]);
    let root = cache_dir().join("yosys");
    let entry = root.join(&key);
    let same =
        |name: &str, want: &str| std::fs::read_to_string(entry.join(name)).is_ok_and(|s| s == want);
    if entry.join("report.json").is_file() && same("input.v", verilog) && same("script.ys", &script)
    {
        return Ok(entry);
    }
    let tmp = fresh_tmp(&root, &key)?;
    let write = |name: &str, text: &str| {
        let p = tmp.join(name);
        std::fs::write(&p, text).map_err(|e| io_err("write", &p, e))
    };
    write("input.v", verilog)?;
    write("script.ys", &script)?;
    let r = run(
        "yosys",
        &["-q", "-l", "yosys.log", "-s", "script.ys"],
        Some(&tmp),
    )?;
    if !r.ok {
        let log = std::fs::read_to_string(tmp.join("yosys.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(Error::new(format!(
            "yosys {} synthesis of {top} failed:\n{}\n{}",
            flow.name(),
            r.output.trim_end(),
            tail.join("\n")
        )));
    }
    let json = std::fs::read_to_string(tmp.join("netlist.json"))
        .map_err(|e| io_err("read", &tmp.join("netlist.json"), e))?;
    let cells = count_cells(&json, top)?;
    let count = |f: fn(&str) -> bool| cells.iter().filter(|(t, _)| f(t)).map(|(_, n)| n).sum();
    let cell_count: u64 = cells.values().sum();
    let (luts, mut ffs, carry, dsps) =
        (count(is_lut), count(is_ff), count(is_carry), count(is_dsp));
    if flow == Flow::Liberty {
        // Library flip-flops have library names: count them before mapping.
        let t = std::fs::read_to_string(tmp.join("ffcount.txt")).unwrap_or_default();
        ffs = t
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                Error::new(format!(
                    "yosys left no flip-flop count in {}",
                    tmp.display()
                ))
            })?;
    }
    let ios: u64 = count(is_io);
    let report = SynthReport {
        module: top.to_string(),
        flow,
        yosys: version,
        cell_count,
        logic_cells: cell_count - ffs - carry - dsps - ios,
        luts,
        ffs,
        carry,
        dsps,
        longest_path: match liberty {
            None => longest_path(&json, top)?,
            Some((lib, _)) => {
                let lib = pelab_sim::liberty::read(lib)?;
                let seq: std::collections::HashSet<&str> = lib
                    .cells
                    .values()
                    .filter(|c| c.ff.is_some() || c.latch)
                    .map(|c| c.name.as_str())
                    .collect();
                longest_path_by(&json, top, &|t: &str| is_ff(t) || seq.contains(t))?
            }
        },
        netlist: entry.join("netlist.json"),
        cells,
    };
    let report_json = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::new(format!("cannot serialize report: {e}")))?;
    write("report.json", &report_json)?;
    if std::fs::rename(&tmp, &entry).is_err() {
        // Another process filled the entry first, or a stale entry is in the way.
        if !(entry.join("report.json").is_file() && same("input.v", verilog)) {
            let _ = std::fs::remove_dir_all(&entry);
            std::fs::rename(&tmp, &entry).map_err(|e| io_err("rename", &tmp, e))?;
        } else {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(entry)
}

/// Synthesizes `verilog` (top module `top`) with `flow` and returns the parsed report.
pub fn synthesize(verilog: &str, top: &str, flow: Flow) -> Result<SynthReport> {
    if flow == Flow::Liberty {
        return Err(Error::new(
            "the liberty flow needs a library file: use synthesize_liberty",
        ));
    }
    let entry = run_cached(verilog, top, flow, None, false)?;
    let p = entry.join("report.json");
    let text = std::fs::read_to_string(&p).map_err(|e| io_err("read", &p, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("bad cached report {}: {e}", p.display())))
}

/// [`synthesize`] module by module: each module is mapped once on its own, then the design is
/// flattened (no optimization across module boundaries). For arrays, whose R x C identical
/// cells would otherwise be mapped R x C times. Generic, iCE40 and Xilinx flows.
pub fn synthesize_hierarchical(verilog: &str, top: &str, flow: Flow) -> Result<SynthReport> {
    if flow == Flow::Liberty {
        return Err(Error::new(
            "hierarchical synthesis takes the generic, ice40 and xilinx flows",
        ));
    }
    let entry = run_cached(verilog, top, flow, None, true)?;
    let p = entry.join("report.json");
    let text = std::fs::read_to_string(&p).map_err(|e| io_err("read", &p, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("bad cached report {}: {e}", p.display())))
}

/// Yosys JSON netlist (flattened, mapped by `flow`) of `verilog` with top module `top`.
pub fn netlist_json(verilog: &str, top: &str, flow: Flow) -> Result<String> {
    if flow == Flow::Liberty {
        return Err(Error::new(
            "the liberty flow needs a library file: use synthesize_liberty",
        ));
    }
    let entry = run_cached(verilog, top, flow, None, false)?;
    let p = entry.join("netlist.json");
    std::fs::read_to_string(&p).map_err(|e| io_err("read", &p, e))
}

/// Synthesizes `verilog` onto the cells of the Liberty library `liberty` (plain or
/// gzip-compressed; Yosys reads an uncompressed copy kept in the cache) and returns the report;
/// the netlist is at [`SynthReport::netlist`].
pub fn synthesize_liberty(verilog: &str, top: &str, liberty: &Path) -> Result<SynthReport> {
    let (plain, hash) = uncompressed_library(liberty)?;
    let entry = run_cached(verilog, top, Flow::Liberty, Some((&plain, &hash)), false)?;
    let p = entry.join("report.json");
    let text = std::fs::read_to_string(&p).map_err(|e| io_err("read", &p, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::new(format!("bad cached report {}: {e}", p.display())))
}

/// An uncompressed copy of a Liberty file in the cache (`liberty/<hash>.lib`) and the hash of
/// its content.
fn uncompressed_library(path: &Path) -> Result<(PathBuf, String)> {
    use std::io::Read;
    let raw = std::fs::read(path).map_err(|e| io_err("read liberty file", path, e))?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .map_err(|e| Error::new(format!("{}: not a valid gzip file: {e}", path.display())))?;
        s
    } else {
        String::from_utf8(raw)
            .map_err(|_| Error::new(format!("{}: liberty file is not text", path.display())))?
    };
    let hash = content_hash(&[&text]);
    let dir = cache_dir().join("liberty");
    let out = dir.join(format!("{hash}.lib"));
    if std::fs::read(&out).is_ok_and(|b| b == text.as_bytes()) {
        return Ok((out, hash));
    }
    std::fs::create_dir_all(&dir).map_err(|e| io_err("create", &dir, e))?;
    let tmp = dir.join(format!(".tmp-{hash}-{}", std::process::id()));
    std::fs::write(&tmp, &text).map_err(|e| io_err("write", &tmp, e))?;
    std::fs::rename(&tmp, &out).map_err(|e| io_err("rename", &tmp, e))?;
    Ok((out, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_part() {
        let a = content_hash(&["x", "y"]);
        assert_eq!(a.len(), 32);
        assert_ne!(a, content_hash(&["xy", ""]));
        assert_ne!(a, content_hash(&["x", "z"]));
        assert_eq!(a, content_hash(&["x", "y"]));
    }

    #[test]
    fn cell_classes() {
        assert!(is_ff("$_DFF_P_") && is_ff("SB_DFFE") && is_ff("FDRE") && !is_ff("FDRE_X"));
        assert!(is_lut("SB_LUT4") && is_lut("LUT6") && is_carry("CARRY4") && is_dsp("SB_MAC16"));
        assert!(!is_ff("$_AND_") && !is_lut("$_MUX_"));
    }

    #[test]
    fn longest_path_stops_at_flip_flops() {
        let json = r#"{"modules": {"m": {"cells": {
            "g1": {"type": "$_AND_", "port_directions": {"A": "input", "B": "input", "Y": "output"},
                   "connections": {"A": [2], "B": [3], "Y": [4]}},
            "g2": {"type": "$_NOT_", "port_directions": {"A": "input", "Y": "output"},
                   "connections": {"A": [4], "Y": [5]}},
            "ff": {"type": "$_DFF_P_", "port_directions": {"C": "input", "D": "input", "Q": "output"},
                   "connections": {"C": [1], "D": [5], "Q": [6]}},
            "g3": {"type": "$_XOR_", "port_directions": {"A": "input", "B": "input", "Y": "output"},
                   "connections": {"A": [6], "B": ["0"], "Y": [7]}}}}}}"#;
        assert_eq!(
            longest_path(json, "m").unwrap(),
            2,
            "g1 -> g2; the flip-flop cuts g3 off"
        );
    }
}
