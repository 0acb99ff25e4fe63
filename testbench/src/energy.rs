//! Energy per operation of a PE configuration: the workload's rows replayed on the synthesized
//! gate netlist of every stage (pelab's gate engine, toggles counted), priced by a technology
//! (`generic-45nm` or a Liberty library), with the `horowitz-45nm` table estimate beside it.

use crate::codec::{Dist, Shape, WorkloadOps};
use crate::gates::{run_gates, synthesized_netlist};
use pelab_hdl::RtlConfig;
use pelab_sim::energy::{energy, Energy, Generic45, LibertyTech, Technology};
use pelab_sim::liberty::Library;
use pelab_sim::netlist::Netlist;
use pelab_sim::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Which technology prices the gates.
#[derive(Debug, Clone)]
pub enum Tech {
    /// `generic-45nm` (Yosys generic gates, Nangate 45 nm figures).
    Generic45,
    /// Cells and figures of a Liberty library (plain or gzip).
    Liberty(PathBuf),
}

/// A request for [`measure`].
#[derive(Debug, Clone)]
pub struct Request {
    /// Technology.
    pub tech: Tech,
    /// Operand distribution.
    pub dist: Dist,
    /// Workload shape.
    pub shape: Shape,
    /// Operations to simulate.
    pub ops: u64,
    /// Random seed.
    pub seed: u64,
    /// Clock frequency, GHz.
    pub freq_ghz: f64,
    /// Wire capacitance per fan-out pin for a Liberty library, fF.
    pub wire_ff: f64,
}

/// One stage's share.
#[derive(Debug, Clone, Serialize)]
pub struct StageEnergy {
    /// PE id of the hardware.
    pub pe: String,
    /// Module.
    pub module: String,
    /// Role in the workload.
    pub role: String,
    /// Rows (operations or cycles) simulated.
    pub rows: u64,
    /// The synthesized netlist.
    pub netlist: PathBuf,
    /// Energy per operation of the workload.
    pub energy: Energy,
}

/// The table estimate printed beside the gate-level figure.
#[derive(Debug, Clone, Serialize)]
pub struct TableEstimate {
    /// pJ per operation, when the table has the rows.
    pub energy_pj: Option<f64>,
    /// Rows used, or why there is no figure.
    pub detail: String,
    /// Source.
    pub provenance: String,
}

/// Energy per operation of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// PE id.
    pub pe: String,
    /// Configuration.
    pub config: RtlConfig,
    /// Technology name.
    pub tech: String,
    /// Operand distribution.
    pub dist: Dist,
    /// Workload shape.
    pub shape: Shape,
    /// Seed.
    pub seed: u64,
    /// What one operation is.
    pub op_name: String,
    /// Operations simulated.
    pub ops: u64,
    /// Stages.
    pub stages: Vec<StageEnergy>,
    /// Dynamic pJ per operation (all stages).
    pub dynamic_pj: f64,
    /// Clock pJ per operation.
    pub clock_pj: f64,
    /// Leakage pJ per operation.
    pub leakage_pj: f64,
    /// Total pJ per operation.
    pub total_pj: f64,
    /// Cell area of all stages, µm².
    pub area_um2: f64,
    /// Gate toggles per operation.
    pub toggles_per_op: f64,
    /// The `horowitz-45nm` estimate.
    pub horowitz: TableEstimate,
    /// The zero-delay caveat.
    pub caveat: String,
}

/// The netlist of `cfg` of the PE whose RTL is `rtl` under `tech` (synthesized through the
/// cache) and its path.
pub fn netlist_of(
    rtl: &dyn pelab_hdl::PeRtl,
    cfg: &RtlConfig,
    tech: &Tech,
    lib: Option<&Library>,
) -> Result<(Netlist, PathBuf, String)> {
    let m = rtl.verilog(cfg)?;
    let liberty = match (tech, lib) {
        (Tech::Generic45, _) => None,
        (Tech::Liberty(p), Some(lib)) => Some((p.as_path(), lib)),
        (Tech::Liberty(p), None) => {
            return Err(Error::new(format!(
                "liberty {} was not read before synthesizing onto it",
                p.display()
            )))
        }
    };
    let (net, path) = synthesized_netlist(&m.verilog, &m.name, liberty)?;
    Ok((net, path, m.name))
}

/// Reads a Liberty library for [`Tech::Liberty`].
pub fn read_library(path: &Path) -> Result<Library> {
    pelab_sim::liberty::read(path)
}

/// Measures the energy per operation of `cfg` of PE `pe`.
pub fn measure(
    pe: crate::pe::Pe,
    cfg: &RtlConfig,
    req: &Request,
    lib: Option<&Library>,
) -> Result<Measurement> {
    if req.ops == 0 {
        return Err(Error::new("--ops must be at least 1"));
    }
    if !(req.freq_ghz > 0.0 && req.freq_ghz.is_finite()) {
        return Err(Error::new("the clock frequency must be positive"));
    }
    if let Shape::Dot { k: 0 } = req.shape {
        return Err(Error::new("a dot product needs k >= 1"));
    }
    let generic;
    let liberty;
    let tech: &dyn Technology = match (&req.tech, lib) {
        (Tech::Generic45, _) => {
            generic = Generic45::load()?;
            &generic
        }
        (Tech::Liberty(_), Some(lib)) => {
            liberty = LibertyTech {
                lib,
                wire_ff_per_pin: req.wire_ff,
            };
            &liberty
        }
        (Tech::Liberty(p), None) => {
            return Err(Error::new(format!(
                "liberty {} was not read before measuring",
                p.display()
            )))
        }
    };
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let ops = WorkloadOps {
        dist: req.dist,
        shape: req.shape,
        ops: req.ops,
    };
    let w = pe.vectors.workload(cfg, ops, &mut rng)?;
    let mut stages = Vec::new();
    for s in &w.stages {
        let (net, path, module) = netlist_of(s.rtl, &s.cfg, &req.tech, lib)?;
        let (_, act) = run_gates(&net, &s.layout, &s.rows, false, true)?;
        let cycles_per_op = s.rows.len() as f64 / w.ops as f64;
        let e = energy(
            &net,
            tech,
            &act.activity(w.ops as f64, cycles_per_op),
            req.freq_ghz,
        )?;
        stages.push(StageEnergy {
            pe: s.rtl.id().to_string(),
            module,
            role: s.role.clone(),
            rows: s.rows.len() as u64,
            netlist: path,
            energy: e,
        });
    }
    let sum = |f: fn(&Energy) -> f64| stages.iter().map(|s| f(&s.energy)).sum::<f64>();
    let horowitz = table_estimate(pe, cfg, req.shape);
    Ok(Measurement {
        pe: pe.id().into(),
        config: cfg.clone(),
        tech: tech.name(),
        dist: req.dist,
        shape: req.shape,
        seed: req.seed,
        op_name: w.op_name.into(),
        ops: w.ops,
        dynamic_pj: sum(|e| e.dynamic_pj),
        clock_pj: sum(|e| e.clock_pj),
        leakage_pj: sum(|e| e.leakage_pj),
        total_pj: sum(|e| e.total_pj),
        area_um2: sum(|e| e.area_um2),
        toggles_per_op: sum(|e| e.toggles_per_op),
        stages,
        horowitz,
        caveat: pelab_sim::energy::GLITCH_CAVEAT.into(),
    })
}

/// The `horowitz-45nm` table estimate of `cfg` of `pe` under `shape`. It reads no netlist,
/// so it exists whether or not Yosys is installed; `energy_pj` is `None` (and `detail` says
/// why) when the table has no rows for the operation.
pub fn table_estimate(pe: crate::pe::Pe, cfg: &RtlConfig, shape: Shape) -> TableEstimate {
    let accumulate = matches!(shape, Shape::Dot { .. });
    match pe
        .model
        .table_ops(&cfg.format, accumulate)
        .and_then(|(ops, note)| Ok((pelab_sim::horowitz::estimate(&ops)?, note)))
    {
        Ok((est, note)) => {
            let rows: Vec<String> = est
                .rows
                .iter()
                .map(|r| format!("{} {} ({} pJ)", r.operation, r.bits, r.energy_pj))
                .collect();
            let mut detail = format!("{}: {}", rows.join(" + "), note);
            for n in &est.notes {
                detail.push_str("; ");
                detail.push_str(n);
            }
            TableEstimate {
                energy_pj: Some(est.energy_pj),
                detail,
                provenance: pelab_sim::horowitz::PROVENANCE.into(),
            }
        }
        Err(e) => TableEstimate {
            energy_pj: None,
            detail: e.0,
            provenance: pelab_sim::horowitz::PROVENANCE.into(),
        },
    }
}

/// One anchor circuit priced at gate level beside Horowitz's figure.
#[derive(Debug, Clone, Serialize)]
pub struct Anchor {
    /// Horowitz's operation name (`int_add`, `int_mult`, `fp_mult`).
    pub operation: String,
    /// Width, bits.
    pub bits: u32,
    /// What was synthesized.
    pub circuit: String,
    /// Logic cells of the netlist.
    pub cells: usize,
    /// Gate-level energy per operation, pJ.
    pub gate_pj: f64,
    /// Horowitz's figure, pJ.
    pub horowitz_pj: f64,
    /// gate / Horowitz.
    pub ratio: f64,
    /// Whether Horowitz's row is on his original slide.
    pub original: bool,
}

/// The anchor circuits: `y = a + b` and `y = a * b` on n-bit integers (n = 8, 16, 32, full
/// result width, written as one line of Verilog each: rust-hdl multiplies only 16 x 16) and
/// pelab's own exact FP16 and FP32 multipliers, all through the same flow (Yosys generic
/// gates, the gate engine, `generic-45nm`) with `ops` uniformly random integer operands or
/// Gaussian float operands, each priced beside Horowitz's row.
pub fn anchors(ops: u64, seed: u64) -> Result<Vec<Anchor>> {
    use crate::vectors::{Field, Layout, Timing};
    use rand::Rng;
    let tech = Generic45::load()?;
    let table = pelab_sim::horowitz::table()?;
    let mut out = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut price = |operation: &str,
                     bits: u32,
                     circuit: String,
                     net: &Netlist,
                     layout: &Layout,
                     rows: &[Vec<u64>]|
     -> Result<()> {
        let (_, act) = run_gates(net, layout, rows, false, true)?;
        let e = energy(net, &tech, &act.activity(rows.len() as f64, 1.0), 1.0)?;
        let h = table
            .iter()
            .find(|r| r.operation == operation && r.bits == bits)
            .ok_or_else(|| Error::new(format!("horowitz-45nm has no {operation} {bits}")))?;
        out.push(Anchor {
            operation: operation.into(),
            bits,
            circuit,
            cells: net.cells.len(),
            gate_pj: e.total_pj,
            horowitz_pj: h.energy_pj,
            ratio: e.total_pj / h.energy_pj,
            original: h.original,
        });
        Ok(())
    };
    for (operation, sym) in [("int_add", "+"), ("int_mult", "*")] {
        for n in [8u32, 16, 32] {
            let ow = if sym == "+" { n + 1 } else { 2 * n };
            let name = format!(
                "pelab_anchor_{}{n}",
                if sym == "+" { "add" } else { "mult" }
            );
            let v = format!(
                "module {name}(input [{}:0] a, input [{}:0] b, output [{}:0] y);\n  \
                 assign y = a {sym} b;\nendmodule\n",
                n - 1,
                n - 1,
                ow - 1
            );
            let (net, _) = synthesized_netlist(&v, &name, None)?;
            let layout = Layout {
                fields: vec![
                    Field::input("a", n),
                    Field::input("b", n),
                    Field::output("y", ow),
                ],
                timing: Timing::Stream { latency: 0 },
                care: false,
                restart: Vec::new(),
            };
            let mask = (1u64 << n) - 1;
            let rows: Vec<Vec<u64>> = (0..ops)
                .map(|_| vec![rng.gen::<u64>() & mask, rng.gen::<u64>() & mask])
                .collect();
            price(
                operation,
                n,
                format!("y = a {sym} b ({n}-bit unsigned, {ow}-bit result)"),
                &net,
                &layout,
                &rows,
            )?;
        }
    }
    for (fmt, bits) in [("fp16", 16u32), ("fp32", 32)] {
        let cfg = RtlConfig::new(fmt, "ieee", 0);
        let pe = crate::pe::pe("fpmul")?;
        let (net, _, module) = netlist_of(pe.rtl, &cfg, &Tech::Generic45, None)?;
        let gaussian = WorkloadOps {
            dist: Dist::Gaussian,
            shape: Shape::Elementwise,
            ops,
        };
        let w = pe.vectors.workload(&cfg, gaussian, &mut rng)?;
        let s = &w.stages[0];
        price(
            "fp_mult",
            bits,
            format!("{module} (exact RNE multiply, Gaussian operands)"),
            &net,
            &s.layout,
            &s.rows,
        )?;
    }
    Ok(out)
}
