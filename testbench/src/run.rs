//! Simulator runners: Icarus Verilog and Verilator over a testbench, the DUT sources and the
//! packed vectors, with compile and run times, a time limit, and the testbench's verdict.

use pelab_hdl::tools::require_tool;
use pelab_sim::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A Verilog simulator pelab can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Simulator {
    /// Icarus Verilog (`iverilog` + `vvp`).
    Icarus,
    /// Verilator (`--binary --timing`).
    Verilator,
    /// rust-hdl's own in-process simulator running the Rust description of the block (not
    /// the emitted Verilog: a first check only).
    RustHdl,
    /// pelab's own bit-parallel simulator running the Yosys generic-gate netlist of the
    /// Verilog (the netlist that gives the energy figures).
    Gates,
}

impl Simulator {
    /// Every simulator, in the order of the verification matrix.
    pub const ALL: [Simulator; 4] = [
        Simulator::RustHdl,
        Simulator::Icarus,
        Simulator::Verilator,
        Simulator::Gates,
    ];

    /// Parses a comma-separated list of simulator names, `all` or `none` (as `--sim` takes
    /// it); the result is sorted by name, without repeats.
    pub fn parse_list(list: &str) -> Result<Vec<Simulator>> {
        let mut v = Vec::new();
        for s in list.split(',') {
            match s.trim() {
                "all" => v.extend(Simulator::ALL),
                "none" => {}
                name => match Simulator::ALL.into_iter().find(|x| x.name() == name) {
                    Some(sim) => v.push(sim),
                    None => {
                        return Err(Error::new(format!(
                            "unknown simulator '{name}'; valid: rusthdl, icarus, verilator, \
                             gates, all, none"
                        )))
                    }
                },
            }
        }
        v.sort_by_key(|s| s.name());
        v.dedup();
        Ok(v)
    }

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Simulator::Icarus => "icarus",
            Simulator::Verilator => "verilator",
            Simulator::RustHdl => "rusthdl",
            Simulator::Gates => "gates",
        }
    }
}

/// How a simulation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every vector passed.
    Passed,
    /// The testbench reported mismatches (or read no vectors).
    Failed,
    /// The compiler or simulator failed without a verdict.
    Crashed,
    /// The time limit ran out.
    TimedOut,
}

/// One mismatch as the testbench printed it (hex fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// Row index in the vector set.
    pub row: u64,
    /// Input fields.
    pub inputs: Vec<u64>,
    /// Expected outputs.
    pub expected: Vec<u64>,
    /// Outputs the DUT produced (`None` where they held X or Z).
    pub got: Vec<Option<u64>>,
}

/// The result of one simulator run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimRun {
    /// Simulator.
    pub sim: String,
    /// Verdict.
    pub status: Status,
    /// Rows that passed.
    pub passed: u64,
    /// Rows that failed.
    pub failed: u64,
    /// Compile (elaboration / C++ build) time, seconds.
    pub compile_secs: f64,
    /// Simulation time, seconds.
    pub run_secs: f64,
    /// Rows per second of simulation time.
    pub vectors_per_sec: f64,
    /// The first mismatches.
    pub mismatches: Vec<Mismatch>,
    /// The last lines of the simulator's output (for crashes and time-outs).
    pub log_tail: String,
}

/// Runs the Yosys script `script` quietly; `Ok(Err(output))` when Yosys fails, with its
/// stderr then stdout.
pub(crate) fn yosys_script(script: &str) -> Result<std::result::Result<(), String>> {
    let out = Command::new(require_tool("yosys")?)
        .args(["-q", "-p", script])
        .output()
        .map_err(|e| Error::new(format!("cannot run yosys: {e}")))?;
    if out.status.success() {
        return Ok(Ok(()));
    }
    Ok(Err(
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout)
    ))
}

/// Runs `cmd` in `dir` with a time limit; stdout+stderr go to `log`.
fn run_limited(
    mut cmd: Command,
    dir: &Path,
    log: &Path,
    limit: Duration,
) -> Result<(Option<i32>, bool)> {
    let out = std::fs::File::create(log)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", log.display())))?;
    let err = out.try_clone().map_err(|e| Error::new(e.to_string()))?;
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::new(format!("cannot start {:?}: {e}", cmd.get_program())))?;
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().map_err(|e| Error::new(e.to_string()))? {
            return Ok((st.code(), false));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, true));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

fn hexes(s: &str) -> Vec<Option<u64>> {
    s.split_whitespace()
        .map(|t| u64::from_str_radix(t, 16).ok())
        .collect()
}

/// Reads the testbench's verdict from its output.
fn verdict(log: &Path) -> (Option<(u64, u64)>, Vec<Mismatch>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut summary = None;
    let mut mism = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("MISMATCH ") {
            let mut parts = rest.splitn(2, ' ');
            let row = parts.next().and_then(|r| r.parse().ok()).unwrap_or(0);
            let body = parts.next().unwrap_or("");
            let sec: Vec<&str> = body.split('|').collect();
            if sec.len() == 3 {
                mism.push(Mismatch {
                    row,
                    inputs: hexes(sec[0]).into_iter().map(|v| v.unwrap_or(0)).collect(),
                    expected: hexes(sec[1]).into_iter().map(|v| v.unwrap_or(0)).collect(),
                    got: hexes(sec[2]),
                });
            }
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() == 4 && w[1] == "passed," && w[3] == "failed" {
            if let (Ok(p), Ok(f)) = (w[0].parse(), w[2].parse()) {
                summary = Some((p, f));
            }
        }
    }
    (summary, mism)
}

/// Compiles and runs the testbench `tb` (top `pelab_tb`) with the DUT sources in `dir`, where
/// the packed vectors already are. `rows` is the number of vectors (for the rate).
pub fn simulate(
    sim: Simulator,
    dir: &Path,
    tb: &Path,
    dut: &[PathBuf],
    rows: u64,
    limit: Duration,
) -> Result<SimRun> {
    simulate_traced(sim, dir, tb, dut, rows, limit, false)
}

/// [`simulate`], built so that the testbench's `$dumpvars` writes a VCD when `trace` is set
/// (Verilator needs `--trace` for it; Icarus dumps whenever the testbench asks).
pub fn simulate_traced(
    sim: Simulator,
    dir: &Path,
    tb: &Path,
    dut: &[PathBuf],
    rows: u64,
    limit: Duration,
    trace: bool,
) -> Result<SimRun> {
    if matches!(sim, Simulator::RustHdl | Simulator::Gates) {
        return Err(Error::new(
            "the rusthdl and gates simulators run in-process, not on a testbench",
        ));
    }
    let compile_log = dir.join(format!("{}-compile.log", sim.name()));
    let run_log = dir.join(format!("{}-run.log", sim.name()));
    let t0 = Instant::now();
    let (exe, compiled) = match sim {
        Simulator::Icarus => {
            let iverilog = require_tool("iverilog")?;
            require_tool("vvp")?;
            let mut c = Command::new(iverilog);
            c.args(["-g2005", "-s", "pelab_tb", "-o", "pelab_tb.vvp"])
                .arg(tb)
                .args(dut);
            let (code, to) = run_limited(c, dir, &compile_log, limit)?;
            (dir.join("pelab_tb.vvp"), code == Some(0) && !to)
        }
        Simulator::Verilator => {
            let verilator = require_tool("verilator")?;
            let mut c = Command::new(verilator);
            c.args([
                "--binary",
                "--timing",
                "-Wno-fatal",
                "-Wno-lint",
                "-Wno-style",
                "--top-module",
                "pelab_tb",
                "-Mdir",
                "obj_dir",
                "-o",
                "pelab_tb",
                "-j",
                "2",
            ]);
            if trace {
                c.arg("--trace");
            }
            c.arg(tb).args(dut);
            let (code, to) = run_limited(c, dir, &compile_log, limit)?;
            (dir.join("obj_dir").join("pelab_tb"), code == Some(0) && !to)
        }
        Simulator::RustHdl | Simulator::Gates => unreachable!("handled above"),
    };
    let compile_secs = t0.elapsed().as_secs_f64();
    let mut r = SimRun {
        sim: sim.name().into(),
        status: Status::Crashed,
        passed: 0,
        failed: 0,
        compile_secs,
        run_secs: 0.0,
        vectors_per_sec: 0.0,
        mismatches: Vec::new(),
        log_tail: String::new(),
    };
    if !compiled {
        r.log_tail = tail(&compile_log, 30);
        return Ok(r);
    }
    let t1 = Instant::now();
    let cmd = match sim {
        Simulator::Icarus => {
            let mut c = Command::new(require_tool("vvp")?);
            c.arg("-N").arg(&exe);
            c
        }
        _ => Command::new(&exe),
    };
    let (code, timed_out) = run_limited(cmd, dir, &run_log, limit)?;
    r.run_secs = t1.elapsed().as_secs_f64();
    r.vectors_per_sec = rows as f64 / r.run_secs.max(1e-9);
    let (summary, mism) = verdict(&run_log);
    r.mismatches = mism;
    r.log_tail = tail(&run_log, 30);
    r.status = match (timed_out, summary, code) {
        (true, _, _) => Status::TimedOut,
        (false, Some((p, 0)), Some(0)) if p == rows => Status::Passed,
        (false, Some((p, f)), _) if f > 0 || p != rows => {
            r.passed = p;
            // Fewer rows checked than the file holds is never a pass.
            r.failed = f.max(rows.saturating_sub(p));
            Status::Failed
        }
        _ => Status::Crashed,
    };
    if r.status == Status::Passed {
        r.passed = rows;
    }
    Ok(r)
}

/// Runs the rows through rust-hdl's in-process simulation of the PE's block and compares the
/// outputs with the expected columns (honouring a `CARE` mask), like a testbench would.
pub fn simulate_rusthdl(
    rtl: &dyn pelab_hdl::PeRtl,
    cfg: &pelab_hdl::RtlConfig,
    layout: &crate::vectors::Layout,
    rows: &[Vec<u64>],
) -> Result<SimRun> {
    let n_in = layout.inputs().count();
    let n_out = layout.n_outputs();
    let inputs: Vec<Vec<u64>> = rows.iter().map(|r| r[..n_in].to_vec()).collect();
    let t = Instant::now();
    let got = rtl.simulate(cfg, &inputs)?;
    let secs = t.elapsed().as_secs_f64();
    let mut r = SimRun {
        sim: Simulator::RustHdl.name().into(),
        status: Status::Passed,
        passed: 0,
        failed: 0,
        compile_secs: 0.0,
        run_secs: secs,
        vectors_per_sec: rows.len() as f64 / secs.max(1e-9),
        mismatches: Vec::new(),
        log_tail: String::new(),
    };
    if got.len() != rows.len() {
        r.status = Status::Crashed;
        r.log_tail = format!(
            "rust-hdl simulation returned {} rows for {}",
            got.len(),
            rows.len()
        );
        return Ok(r);
    }
    for (i, (row, g)) in rows.iter().zip(&got).enumerate() {
        let exp = &row[n_in..n_in + n_out];
        let care = if layout.care {
            row[n_in + n_out]
        } else {
            u64::MAX
        };
        let bad = (0..n_out).any(|j| care >> j & 1 == 1 && g.get(j) != Some(&exp[j]));
        if bad {
            r.failed += 1;
            if r.mismatches.len() < crate::tb::SHOWN_MISMATCHES as usize {
                r.mismatches.push(Mismatch {
                    row: i as u64,
                    inputs: row[..n_in].to_vec(),
                    expected: exp.to_vec(),
                    got: g.iter().map(|v| Some(*v)).collect(),
                });
            }
        } else {
            r.passed += 1;
        }
    }
    if r.failed > 0 || r.passed == 0 {
        r.status = Status::Failed;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_lists_parse() {
        let all = Simulator::parse_list("all").unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(
            Simulator::parse_list("verilator, gates,gates").unwrap(),
            [Simulator::Gates, Simulator::Verilator]
        );
        assert!(Simulator::parse_list("none").unwrap().is_empty());
        let e = Simulator::parse_list("icarus,vcs").unwrap_err().0;
        assert!(e.contains("unknown simulator 'vcs'"), "{e}");
    }
}
