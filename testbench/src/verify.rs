//! The verification flow: vectors (generated or read), the DUT (pelab's emitted Verilog or the
//! user's RTL), a testbench, and one run per simulator.

use crate::ports::read_ports;
use crate::run::{simulate, SimRun, Simulator};
use crate::tb::{check_ports, testbench, DutPort};
use crate::vectors::VectorSet;
use pelab_hdl::RtlConfig;
use pelab_sim::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The design under test.
#[derive(Debug, Clone)]
pub enum Dut {
    /// pelab's own emitted Verilog for the configuration.
    Emitted,
    /// The user's Verilog files and top module.
    User {
        /// Source files.
        files: Vec<PathBuf>,
        /// Top module (defaults to pelab's module name for the configuration).
        top: Option<String>,
    },
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// PE id.
    pub pe: String,
    /// Configuration.
    pub config: RtlConfig,
    /// Module simulated.
    pub module: String,
    /// Where the module came from (`emitted` or the user's files).
    pub source: String,
    /// Cases in the vector set.
    pub cases: u64,
    /// Rows in the vector set.
    pub rows: u64,
    /// One run per simulator.
    pub runs: Vec<SimRun>,
    /// The working directory (testbench, vectors, logs).
    pub work_dir: PathBuf,
    /// The equivalence proof against the synthesized gate netlist, when asked for.
    pub formal: Option<crate::formal::Proof>,
}

impl Report {
    /// Whether every simulator passed.
    pub fn passed(&self) -> bool {
        (!self.runs.is_empty() || self.formal.is_some())
            && self
                .runs
                .iter()
                .all(|r| r.status == crate::run::Status::Passed)
            && self.formal.as_ref().is_none_or(|p| p.equivalent)
    }
}

/// Runs `vectors` (which name their PE and configuration) against the DUT on each simulator, in `work` (created; files there are
/// overwritten).
pub fn verify(
    vectors: &VectorSet,
    dut: &Dut,
    sims: &[Simulator],
    formal: bool,
    work: &Path,
    limit: Duration,
) -> Result<Report> {
    let joined = crate::pe::pe(&vectors.pe)?;
    let (pe, rtl) = (joined.vectors, joined.rtl);
    let cfg = &vectors.config;
    if formal && !matches!(dut, Dut::Emitted) {
        return Err(Error::new(
            "--formal proves pelab's emitted Verilog equivalent to its synthesized gate netlist; \
             it does not take --rtl-files",
        ));
    }
    std::fs::create_dir_all(work)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", work.display())))?;
    // Simulators run inside the work directory: every path handed to them is absolute.
    let work = &work
        .canonicalize()
        .map_err(|e| Error::new(format!("cannot resolve {}: {e}", work.display())))?;
    let layout = pe.layout(cfg)?;
    let (module, files, source) = match dut {
        Dut::Emitted => {
            let m = rtl.verilog(cfg)?;
            let path = pelab_hdl::emit::write_module(work, &m)?;
            let ports: Vec<DutPort> = m
                .ports
                .iter()
                .map(|p| DutPort {
                    name: p.name.clone(),
                    width: p.width as u32,
                    output: p.dir == pelab_hdl::PortDir::Output,
                })
                .collect();
            check_ports(&m.name, &layout, &ports)?;
            (m.name, vec![path], "emitted".to_string())
        }
        Dut::User { files, top } => {
            let top = top.clone().unwrap_or_else(|| rtl.module_name(cfg));
            let ports = read_ports(files, &top, work)?;
            check_ports(&top, &layout, &ports)?;
            let abs: Vec<PathBuf> = files
                .iter()
                .map(|f| std::fs::canonicalize(f).unwrap_or(f.clone()))
                .collect();
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            (top, abs, names.join(" "))
        }
    };
    let rows = vectors.rows.len() as u64;
    let mut runs = Vec::new();
    if !sims.is_empty() {
        std::fs::write(work.join("vectors.mem"), vectors.to_mem())
            .map_err(|e| Error::new(format!("cannot write vectors in {}: {e}", work.display())))?;
        let tb = work.join("pelab_tb.v");
        std::fs::write(&tb, testbench(&module, &layout, rows, "vectors.mem")).map_err(|e| {
            Error::new(format!("cannot write testbench in {}: {e}", work.display()))
        })?;
        for &sim in sims {
            runs.push(match sim {
                Simulator::RustHdl => {
                    if !matches!(dut, Dut::Emitted) {
                        return Err(Error::new(
                            "the rusthdl simulator runs pelab's own blocks; it cannot run --rtl-files",
                        ));
                    }
                    crate::run::simulate_rusthdl(rtl, cfg, &layout, &vectors.rows)?
                }
                Simulator::Gates => gate_run(&files, &module, &layout, &vectors.rows)?,
                _ => simulate(sim, work, &tb, &files, rows, limit)?,
            });
        }
    }
    let formal = if formal {
        let text = std::fs::read_to_string(&files[0]).map_err(|e| Error::new(e.to_string()))?;
        let net = pelab_hdl::synth::synthesize(&text, &module, pelab_hdl::Flow::Generic)?;
        Some(crate::formal::prove(
            &files[0],
            &net.netlist,
            &module,
            &work.join("formal"),
        )?)
    } else {
        None
    };
    Ok(Report {
        pe: pe.id().into(),
        config: cfg.clone(),
        module,
        source,
        cases: vectors.cases,
        rows,
        runs,
        work_dir: work.to_path_buf(),
        formal,
    })
}

/// Synthesizes the DUT to Yosys generic gates and replays the rows on pelab's gate engine.
fn gate_run(
    files: &[PathBuf],
    module: &str,
    layout: &crate::vectors::Layout,
    rows: &[Vec<u64>],
) -> Result<SimRun> {
    let t = std::time::Instant::now();
    let mut text = String::new();
    for f in files {
        text.push_str(
            &std::fs::read_to_string(f)
                .map_err(|e| Error::new(format!("cannot read {}: {e}", f.display())))?,
        );
        text.push('\n');
    }
    let (net, _) = crate::gates::synthesized_netlist(&text, module, None)?;
    let compile = t.elapsed().as_secs_f64();
    let (run, _) = crate::gates::run_gates(&net, layout, rows, true, false)?;
    let mut run = run.expect("checked run");
    run.compile_secs = compile;
    Ok(run)
}

/// Verifies the gate netlist of pelab's emitted Verilog for `cfg` against every case of the
/// exhaustive set (part `shard`), streamed through the gate engine without vector files (for
/// sets far beyond what a file holds, such as the 2^32 pairs of a 16-bit format).
pub fn verify_gates_exhaustive(
    joined: crate::pe::Pe,
    cfg: &RtlConfig,
    shard: crate::vectors::Shard,
    work: &Path,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Report> {
    let (pe, rtl) = (joined.vectors, joined.rtl);
    let total = pe.exhaustive_size(cfg).ok_or_else(|| {
        Error::new(format!(
            "{} {} has no exhaustive set (its input space is too large)",
            pe.id(),
            cfg.format
        ))
    })?;
    let range = shard.range(total);
    let layout = pe.layout(cfg)?;
    let m = rtl.verilog(cfg)?;
    std::fs::create_dir_all(work)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", work.display())))?;
    let path = pelab_hdl::emit::write_module(work, &m)?;
    let t = std::time::Instant::now();
    let (net, _) = crate::gates::synthesized_netlist(&m.verilog, &m.name, None)?;
    let compile = t.elapsed().as_secs_f64();
    let n = range.end - range.start;
    let mut run =
        crate::gates::check_exhaustive(&net, pe, cfg, &layout, range, &|d| progress(d, n))?;
    run.compile_secs = compile;
    Ok(Report {
        pe: pe.id().into(),
        config: cfg.clone(),
        module: m.name,
        source: path.display().to_string(),
        cases: n,
        rows: n,
        runs: vec![run],
        work_dir: work.to_path_buf(),
        formal: None,
    })
}
