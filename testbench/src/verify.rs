//! The verification flow: vectors (generated or read), the DUT (pelab's emitted Verilog or the
//! user's RTL), a testbench, and one run per simulator.

use crate::ports::read_ports;
use crate::run::{simulate, SimRun, Simulator};
use crate::tb::{check_ports, testbench, DutPort};
use crate::vectors::VectorSet;
use crate::waves::{write_waves, Target, Waveform, Waves};
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
    /// The VCD waveforms written (see [`crate::waves`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<Waveform>,
    /// Why a simulator has no waveform where one was due.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waves_missing: Vec<String>,
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
    verify_waves(vectors, dut, sims, formal, work, limit, &Waves::default())
}

/// [`verify`], then the VCD waveforms that `waves` asks for (a window of the run, and the rows
/// around each simulator's first failing row), from a run of each simulator over those rows.
pub fn verify_waves(
    vectors: &VectorSet,
    dut: &Dut,
    sims: &[Simulator],
    formal: bool,
    work: &Path,
    limit: Duration,
    waves: &Waves,
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
    if let Some(w) = &waves.window {
        w.check(&(0..rows))?;
    }
    let mut runs = Vec::new();
    let mut net = None;
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
                Simulator::Gates => {
                    let (run, n) = gate_run(&files, &module, &layout, &vectors.rows)?;
                    net = Some(n);
                    run
                }
                _ => simulate(sim, work, &tb, &files, rows, limit)?,
            });
        }
    }
    let (mut waveforms, mut waves_missing) = (Vec::new(), Vec::new());
    if waves.any() && !runs.is_empty() {
        let start =
            |from: u64| crate::waves::start_row(&layout, &vectors.rows, from as usize) as u64;
        let slice = |a: u64, b: u64| Ok(vectors.rows[a as usize..b as usize].to_vec());
        let target = Target {
            pe: pe.id(),
            config: cfg,
            layout: &layout,
            module: &module,
            files: &files,
            net: net.as_ref(),
            work,
            limit,
            range: 0..rows,
            start: &start,
            rows: &slice,
        };
        (waveforms, waves_missing) = write_waves(&target, waves, sims, &runs)?;
    } else if waves.vcd.is_some() {
        waves_missing.push("no waveform: no simulator ran".to_string());
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
        waves: waveforms,
        waves_missing,
    })
}

/// Synthesizes the DUT to Yosys generic gates and replays the rows on pelab's gate engine;
/// returns the verdict and the netlist.
fn gate_run(
    files: &[PathBuf],
    module: &str,
    layout: &crate::vectors::Layout,
    rows: &[Vec<u64>],
) -> Result<(SimRun, pelab_sim::netlist::Netlist)> {
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
    Ok((run, net))
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
    verify_gates_exhaustive_waves(joined, cfg, shard, work, progress, &Waves::default())
}

/// [`verify_gates_exhaustive`], then the waveforms `waves` asks for; their rows are the
/// exhaustive set's case numbers, as in the mismatches.
pub fn verify_gates_exhaustive_waves(
    joined: crate::pe::Pe,
    cfg: &RtlConfig,
    shard: crate::vectors::Shard,
    work: &Path,
    progress: &(dyn Fn(u64, u64) + Sync),
    waves: &Waves,
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
    if let Some(w) = &waves.window {
        w.check(&range)?;
    }
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
        crate::gates::check_exhaustive(&net, pe, cfg, &layout, range.clone(), &|d| progress(d, n))?;
    run.compile_secs = compile;
    let runs = vec![run];
    let (mut waveforms, mut waves_missing) = (Vec::new(), Vec::new());
    if waves.any() {
        let start = |from: u64| from;
        let rows = |a: u64, b: u64| crate::waves::exhaustive_rows(pe, cfg, a..b);
        let files = [path.clone()];
        let target = Target {
            pe: pe.id(),
            config: cfg,
            layout: &layout,
            module: &m.name,
            files: &files,
            net: Some(&net),
            work,
            limit: Duration::from_secs(3600),
            range: range.clone(),
            start: &start,
            rows: &rows,
        };
        (waveforms, waves_missing) = write_waves(&target, waves, &[Simulator::Gates], &runs)?;
    }
    Ok(Report {
        pe: pe.id().into(),
        config: cfg.clone(),
        module: m.name,
        source: path.display().to_string(),
        cases: n,
        rows: n,
        runs,
        work_dir: work.to_path_buf(),
        formal: None,
        waves: waveforms,
        waves_missing,
    })
}
