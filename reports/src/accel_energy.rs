//! Per-PE-cycle energies for the accelerator model (`pelab accel --pe-energy gate`), measured by
//! pelab at gate level instead of taken from the BitMoD artifact's constants.
//!
//! Seven PEs, each at the configuration `pelab energy` picks by default for it (the int16fma
//! `mac` variant with the `saturate` policy), under one fixed measurement: `generic-45nm`
//! (Yosys generic gates priced with Nangate 45 nm figures), Gaussian operands, seed 1, the
//! workload `dot:128` (bitmod: groups of 128 weights back to back on its own schedule), 65,536
//! MACs, zero delay, 1 GHz. lmul and fpmul are measured as MACs: the multiplier followed by the
//! `fp32acc` accumulator, as `pelab energy --workload dot:K` does.
//!
//! For each PE:
//! - `pj_per_pe_cycle` = (dynamic + clock pJ per MAC of [`measure`]) × MACs per busy cycle:
//!   the energy of the whole workload (its reset, clear and drain cycles included) divided by
//!   the cycles that issue an operation (`en` or `in_valid` = 1). Leakage is not included.
//! - `macs_per_pe_cycle` = MACs of the workload / those busy cycles (read from the workload's
//!   rows: 1 for the MACs, 2 for int16fma's two-product lane and for bitmod's 4 lanes at 2
//!   cycles per beat).
//! - `idle_pj_per_pe_cycle`: dynamic + clock energy of a cycle with no operation issued and the
//!   inputs held ([`measure_idle`]).
//! - `leakage_nw_per_pe`: leakage power of every cell of every stage.
//!
//! Results are cached as JSON in the caller's directory, in a file named by a hash of
//! everything that determines them ([`cache_key`]): pelab's version, this method's version,
//! the technology and its cell figures, the distribution, seed, workload, operations,
//! frequency and delay model, and per PE its configuration, the content of every stage's
//! synthesized netlist and the workload's input rows. A cache file that cannot be read or does
//! not hold the expected entries is reported through the progress callback and measured again
//! (then overwritten, atomically).

use anyhow::{anyhow, bail, Context};
use pelab_hdl::RtlConfig;
use pelab_sim::energy::{Generic45, Technology, NANGATE45_CSV};
use pelab_testbench::codec::{Dist, Shape, Workload, WorkloadOps};
use pelab_testbench::energy::{measure, Request, Tech};
use pelab_testbench::Pe;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::export::{measure_idle, Idle};

/// Version of this measurement method; part of the cache key, raised whenever the way the
/// figures are derived changes.
pub const METHOD_VERSION: u32 = 1;

/// Names of the entries, in the order [`gate_pe_energies`] returns them.
pub const PE_NAMES: [&str; 7] = [
    "fp16mac",
    "bitmod",
    "int16fma",
    "lmul-bf16",
    "lmul-e4m3",
    "fpmul-bf16",
    "fpmul-e4m3",
];

/// Inputs that issue an operation on a cycle.
const ISSUE_INPUTS: [&str; 2] = ["en", "in_valid"];

/// The gate-level energy of one PE per clock cycle, for the accelerator model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GatePeEnergy {
    /// Entry name (one of [`PE_NAMES`]).
    pub pe: String,
    /// Dynamic + clock energy of one PE in one busy clock cycle, pJ (leakage excluded).
    pub pj_per_pe_cycle: f64,
    /// MACs one PE performs per busy clock cycle.
    pub macs_per_pe_cycle: f64,
    /// Dynamic + clock energy of one PE in one stalled cycle (inputs held, nothing issued), pJ.
    pub idle_pj_per_pe_cycle: f64,
    /// Leakage power of one PE, nW.
    pub leakage_nw_per_pe: f64,
    /// Provenance: configuration, technology and its cell library, operands, seed, workload,
    /// operations, delay model, frequency, pelab version and the netlists' content hashes.
    pub source: String,
}

/// The PE energy of gate entry `entry` (one of [`PE_NAMES`]) in the measurement `list`; an error
/// naming the entries measured when `entry` is missing.
pub fn gate_pe_energy(
    list: &[GatePeEnergy],
    entry: &str,
) -> pelab_sim::Result<pelab_sim::accel::pelab::PeEnergy> {
    let g = list.iter().find(|g| g.pe == entry).ok_or_else(|| {
        pelab_sim::Error::new(format!(
            "the gate measurement has no entry `{entry}` (it has: {})",
            list.iter()
                .map(|g| g.pe.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    pelab_sim::accel::pelab::PeEnergy::gate(
        g.pj_per_pe_cycle,
        g.macs_per_pe_cycle,
        g.idle_pj_per_pe_cycle,
        g.leakage_nw_per_pe,
        &g.source,
    )
}

/// The measurement behind [`gate_pe_energies_with`]. The defaults are the published ones;
/// smaller `ops` serve quick checks.
#[derive(Debug, Clone, PartialEq)]
pub struct GatePeOptions {
    /// Random seed of the operands.
    pub seed: u64,
    /// Length of each dot product (the MACs between two clears of the accumulator).
    pub dot_len: u64,
    /// MACs simulated per PE.
    pub ops: u64,
    /// Clock frequency, GHz.
    pub freq_ghz: f64,
}

impl Default for GatePeOptions {
    fn default() -> Self {
        GatePeOptions {
            seed: 1,
            dot_len: 128,
            ops: 65_536,
            freq_ghz: 1.0,
        }
    }
}

/// One PE of the table: entry name, PE id and configuration.
struct Entry {
    name: &'static str,
    pe: &'static str,
    format: &'static str,
    policy: &'static str,
    variant: &'static str,
}

/// The seven entries, each at `pelab energy`'s default configuration for its PE and format
/// (for int16fma: the `mac` variant, policy `saturate`).
const ENTRIES: [Entry; 7] = [
    Entry {
        name: "fp16mac",
        pe: "fp16mac",
        format: "fp16",
        policy: "ieee",
        variant: "",
    },
    Entry {
        name: "bitmod",
        pe: "bitmod",
        format: "fp16",
        policy: "bitmod34",
        variant: "",
    },
    Entry {
        name: "int16fma",
        pe: "int16fma",
        format: "int16",
        policy: "saturate",
        variant: "mac",
    },
    Entry {
        name: "lmul-bf16",
        pe: "lmul",
        format: "bf16",
        policy: "saturate",
        variant: "",
    },
    Entry {
        name: "lmul-e4m3",
        pe: "lmul",
        format: "e4m3",
        policy: "saturate",
        variant: "",
    },
    Entry {
        name: "fpmul-bf16",
        pe: "fpmul",
        format: "bf16",
        policy: "ieee",
        variant: "",
    },
    Entry {
        name: "fpmul-e4m3",
        pe: "fpmul",
        format: "e4m3",
        policy: "ieee",
        variant: "",
    },
];

impl Entry {
    fn config(&self) -> RtlConfig {
        RtlConfig::new(self.format, self.policy, 0).with_variant(self.variant)
    }
}

/// The cache file's content.
#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    /// [`cache_key`] of the inputs.
    key: String,
    /// The inputs the key hashes, for people.
    inputs: Vec<String>,
    /// The entries.
    entries: Vec<GatePeEnergy>,
}

/// The per-cycle energies of the seven PEs at the default measurement ([`GatePeOptions`]),
/// read from `cache_dir` when measured before, else measured and cached there.
/// `progress` is called once per PE.
pub fn gate_pe_energies(
    cache_dir: &Path,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<GatePeEnergy>> {
    gate_pe_energies_with(cache_dir, &GatePeOptions::default(), progress)
}

/// [`gate_pe_energies`] with the measurement `opts`.
pub fn gate_pe_energies_with(
    cache_dir: &Path,
    opts: &GatePeOptions,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<GatePeEnergy>> {
    check_options(opts)?;
    let prepared = ENTRIES
        .iter()
        .map(|e| prepare(e, opts))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (key, inputs) = cache_key(opts, &prepared)?;
    let path = cache_file(cache_dir, &key);
    if path.exists() {
        match read_cache(&path, &key) {
            Ok(entries) => {
                for e in &entries {
                    progress(&format!("{}: read from {}", e.pe, path.display()));
                }
                return Ok(entries);
            }
            Err(e) => progress(&format!(
                "cache file {} is unusable ({e:#}); measuring again",
                path.display()
            )),
        }
    }
    let mut entries = Vec::with_capacity(prepared.len());
    for (i, p) in prepared.iter().enumerate() {
        progress(&format!(
            "{} ({}/{}): {} {} {}, {} MACs at gate level",
            p.entry.name,
            i + 1,
            prepared.len(),
            p.entry.pe,
            p.entry.format,
            p.entry.policy,
            opts.ops
        ));
        entries
            .push(measure_entry(p, opts).with_context(|| format!("measuring {}", p.entry.name))?);
    }
    let file = CacheFile {
        key,
        inputs,
        entries,
    };
    let text = serde_json::to_string_pretty(&file)?;
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    pelab_hdl::emit::write_atomic(&path, &text)?;
    // The figures as a later call reads them back, so that both calls agree to the bit.
    let back: CacheFile = serde_json::from_str(&text)?;
    Ok(back.entries)
}

/// The cache file of `key` in `cache_dir`.
pub fn cache_file(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join(format!("accel-pe-energy-{key}.json"))
}

/// Reads and checks a cache file: the key it stores, every entry in order, every figure
/// finite and non-negative, every source non-empty.
fn read_cache(path: &Path, key: &str) -> anyhow::Result<Vec<GatePeEnergy>> {
    let text = std::fs::read_to_string(path)?;
    let file: CacheFile = serde_json::from_str(&text)?;
    if file.key != key {
        bail!("it holds key {}, not {key}", file.key);
    }
    let names: Vec<&str> = file.entries.iter().map(|e| e.pe.as_str()).collect();
    if names != PE_NAMES {
        bail!("it holds the entries {names:?}, not {PE_NAMES:?}");
    }
    for e in &file.entries {
        check_entry(e)?;
    }
    Ok(file.entries)
}

/// Checks that every figure of `e` is finite and non-negative (busy energy, MACs and leakage
/// positive) and that it has a source.
fn check_entry(e: &GatePeEnergy) -> anyhow::Result<()> {
    for (what, v, positive) in [
        ("pj_per_pe_cycle", e.pj_per_pe_cycle, true),
        ("macs_per_pe_cycle", e.macs_per_pe_cycle, true),
        ("idle_pj_per_pe_cycle", e.idle_pj_per_pe_cycle, false),
        ("leakage_nw_per_pe", e.leakage_nw_per_pe, true),
    ] {
        if !v.is_finite() || v < 0.0 || (positive && v == 0.0) {
            bail!("{}: {what} is {v}", e.pe);
        }
    }
    if e.source.trim().is_empty() {
        bail!("{}: no source", e.pe);
    }
    Ok(())
}

fn check_options(o: &GatePeOptions) -> anyhow::Result<()> {
    if o.ops == 0 || o.dot_len == 0 {
        bail!(
            "ops and dot_len must be at least 1 (ops {}, dot_len {})",
            o.ops,
            o.dot_len
        );
    }
    if !(o.freq_ghz.is_finite() && o.freq_ghz > 0.0) {
        bail!(
            "the clock frequency must be positive, not {} GHz",
            o.freq_ghz
        );
    }
    Ok(())
}

/// An entry with its PE, configuration, request, workload and netlist hashes.
struct Prepared {
    entry: &'static Entry,
    pe: Pe,
    cfg: RtlConfig,
    req: Request,
    workload: Workload,
    /// Per stage: `role: module (netlist hash)`.
    netlists: Vec<String>,
    /// Hash of the workload's input rows, all stages.
    rows_hash: String,
}

fn request(o: &GatePeOptions) -> Request {
    Request {
        tech: Tech::Generic45,
        dist: Dist::Gaussian,
        shape: Shape::Dot { k: o.dot_len },
        ops: o.ops,
        seed: o.seed,
        freq_ghz: o.freq_ghz,
        wire_ff: Generic45::WIRE_FF_PER_PIN,
    }
}

/// Resolves an entry: its PE and configuration (validated), the workload `measure` will run
/// (the same seed gives the same rows) and the content hash of every stage's netlist
/// (synthesized through Yosys' cache).
fn prepare(e: &'static Entry, o: &GatePeOptions) -> anyhow::Result<Prepared> {
    let pe = pelab_testbench::pe(e.pe)?;
    let cfg = e.config();
    pelab_hdl::rtl::validate(pe.rtl, &cfg)?;
    let req = request(o);
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
    let workload = pe.vectors.workload(
        &cfg,
        WorkloadOps {
            dist: req.dist,
            shape: req.shape,
            ops: req.ops,
        },
        &mut rng,
    )?;
    let mut netlists = Vec::new();
    let mut rows = Hasher::new();
    for s in &workload.stages {
        let m = s.rtl.verilog(&s.cfg)?;
        let rep = pelab_hdl::synth::synthesize(&m.verilog, &m.name, pelab_hdl::Flow::Generic)?;
        let bytes = std::fs::read(&rep.netlist)
            .with_context(|| format!("cannot read {}", rep.netlist.display()))?;
        let mut h = Hasher::new();
        h.bytes(&bytes);
        netlists.push(format!(
            "{} {}: {} (netlist {})",
            s.rtl.id(),
            s.role,
            m.name,
            h.hex()
        ));
        rows.bytes(s.role.as_bytes());
        for r in &s.rows {
            for v in r {
                rows.bytes(&v.to_le_bytes());
            }
            rows.bytes(&[0xff]);
        }
    }
    Ok(Prepared {
        entry: e,
        pe,
        cfg,
        req,
        workload,
        netlists,
        rows_hash: rows.hex(),
    })
}

/// The technology's identity: name, voltage, wire estimate, provenance lines and a hash of the
/// Nangate cell figures.
fn technology_id() -> anyhow::Result<String> {
    let t = Generic45::load()?;
    let mut h = Hasher::new();
    h.bytes(NANGATE45_CSV.as_bytes());
    Ok(format!(
        "{} ({} V, wire {} fF/pin, Nangate 45 nm cell figures sim/data/nangate45_cells.csv hash \
         {}): {}",
        t.name(),
        t.voltage(),
        Generic45::WIRE_FF_PER_PIN,
        h.hex(),
        t.provenance().join("; ")
    ))
}

/// The cache key of a measurement and the inputs it hashes.
fn cache_key(o: &GatePeOptions, prepared: &[Prepared]) -> anyhow::Result<(String, Vec<String>)> {
    let mut inputs = vec![
        format!("pelab {}", env!("CARGO_PKG_VERSION")),
        format!("method {METHOD_VERSION}"),
        format!("technology {}", technology_id()?),
        format!(
            "{} operands, seed {}, workload dot:{}, {} MACs, zero delay, {} GHz",
            Dist::Gaussian.name(),
            o.seed,
            o.dot_len,
            o.ops,
            o.freq_ghz
        ),
    ];
    for p in prepared {
        inputs.push(format!(
            "{}: {} format {} policy {} variant '{}' pipeline {}; {}; workload rows {}",
            p.entry.name,
            p.entry.pe,
            p.cfg.format,
            p.cfg.policy,
            p.cfg.variant,
            p.cfg.pipeline,
            p.netlists.join("; "),
            p.rows_hash
        ));
    }
    let mut h = Hasher::new();
    for i in &inputs {
        h.bytes(i.as_bytes());
        h.bytes(&[0xff]);
    }
    Ok((h.hex(), inputs))
}

/// Cycles of the workload's stages that issue an operation: every stage with an issue input
/// (`en`, `in_valid`) must issue on the same number of cycles.
fn busy_cycles(p: &Prepared) -> anyhow::Result<(u64, &'static str)> {
    let mut found: Option<(u64, &'static str)> = None;
    for s in &p.workload.stages {
        let inputs: Vec<&str> = s.layout.inputs().map(|f| f.name.as_str()).collect();
        let Some((col, name)) = inputs
            .iter()
            .enumerate()
            .find_map(|(i, n)| ISSUE_INPUTS.iter().find(|x| *x == n).map(|x| (i, *x)))
        else {
            continue;
        };
        let n = s.rows.iter().filter(|r| r.get(col) == Some(&1)).count() as u64;
        match found {
            Some((m, _)) if m != n => bail!(
                "stages issue on different numbers of cycles ({m} and {n} of {})",
                s.rtl.id()
            ),
            _ => found = Some((n, name)),
        }
    }
    match found {
        Some((0, _)) => bail!("the workload issues no operation"),
        Some(f) => Ok(f),
        None => bail!(
            "no stage has an issue input ({}): busy cycles are not defined",
            ISSUE_INPUTS.join(" or ")
        ),
    }
}

/// Measures one entry: [`measure`] and [`measure_idle`] on the same request, converted to one
/// PE cycle.
fn measure_entry(p: &Prepared, o: &GatePeOptions) -> anyhow::Result<GatePeEnergy> {
    let m = measure(p.pe, &p.cfg, &p.req, None)?;
    if m.ops != p.workload.ops {
        bail!(
            "the measurement counted {} operations, the workload {}",
            m.ops,
            p.workload.ops
        );
    }
    let (busy, issue) = busy_cycles(p)?;
    let macs_per_cycle = m.ops as f64 / busy as f64;
    let pj_per_cycle = (m.dynamic_pj + m.clock_pj) * macs_per_cycle;
    let idle = match measure_idle(p.pe, &p.cfg, &p.req, None)? {
        Idle::Measured(i) => i,
        Idle::Omitted(why) => bail!("no idle figure: {why}"),
    };
    let leak_nw = m
        .stages
        .iter()
        .map(|s| {
            let e = &s.energy;
            if e.cycles_per_op > 0.0 {
                Ok(e.leakage_pj / e.cycles_per_op * e.freq_ghz * 1e6)
            } else {
                Err(anyhow!("stage {} has no cycles per operation", s.pe))
            }
        })
        .sum::<anyhow::Result<f64>>()?;
    let first = m
        .stages
        .first()
        .ok_or_else(|| anyhow!("the measurement has no stages"))?;
    let workload = if p.entry.pe == "bitmod" {
        format!(
            "groups of 128 weights (bitmod4 candidate set, FP16 activations) back to back on \
             the PE's own schedule, {} MACs",
            m.ops
        )
    } else {
        format!("dot:{}, {} MACs", o.dot_len, m.ops)
    };
    let source = format!(
        "pelab {} gate-level measurement (pelab energy {} --format {} --overflow {}{} \
         --workload dot:{} --ops {} --seed {} --dist {} --freq-ghz {}): stages {}; \
         technology {} ({}); {} operands, seed {}, workload {}; zero-delay simulation \
         (glitches not counted), clock {} GHz; busy cycle = a cycle with {} = 1 ({} of them; \
         MACs per busy cycle {}): pJ per cycle = (dynamic {:.4} + clock {:.4} pJ per MAC) x \
         MACs per cycle, reset/clear/drain cycles charged to the busy ones, leakage excluded; \
         idle = dynamic + clock of one cycle with {} (measured over {} cycles); leakage = cell \
         leakage of all stages at {} V",
        env!("CARGO_PKG_VERSION"),
        p.entry.pe,
        p.cfg.format,
        p.cfg.policy,
        if p.cfg.variant.is_empty() {
            String::new()
        } else {
            format!(" --variant {}", p.cfg.variant)
        },
        o.dot_len,
        o.ops,
        o.seed,
        p.req.dist.name(),
        o.freq_ghz,
        p.netlists.join(" + "),
        m.tech,
        first.energy.provenance.first().cloned().unwrap_or_default(),
        p.req.dist.name(),
        o.seed,
        workload,
        o.freq_ghz,
        issue,
        busy,
        macs_per_cycle,
        m.dynamic_pj,
        m.clock_pj,
        idle.held,
        idle.cycles,
        first.energy.voltage,
    );
    let e = GatePeEnergy {
        pe: p.entry.name.into(),
        pj_per_pe_cycle: pj_per_cycle,
        macs_per_pe_cycle: macs_per_cycle,
        idle_pj_per_pe_cycle: idle.dynamic_pj + idle.clock_pj,
        leakage_nw_per_pe: leak_nw,
        source,
    };
    check_entry(&e)?;
    Ok(e)
}

/// 128-bit FNV-1a (two 64-bit lanes with different offsets), as pelab's synthesis cache.
struct Hasher(u64, u64);

impl Hasher {
    fn new() -> Hasher {
        Hasher(0xcbf2_9ce4_8422_2325, 0x6c62_272e_07bb_0142)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
            self.1 = (self.1 ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}{:016x}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_the_names_and_are_valid_configurations() {
        let names: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        assert_eq!(names, PE_NAMES);
        for e in &ENTRIES {
            let pe = pelab_testbench::pe(e.pe).unwrap();
            pelab_hdl::rtl::validate(pe.rtl, &e.config()).unwrap();
        }
    }

    #[test]
    fn hash_depends_on_every_byte() {
        let h = |s: &[u8]| {
            let mut x = Hasher::new();
            x.bytes(s);
            x.hex()
        };
        assert_eq!(h(b"abc"), h(b"abc"));
        assert_ne!(h(b"abc"), h(b"abd"));
        assert_ne!(h(b""), h(b"\0"));
        assert_eq!(h(b"").len(), 32);
    }

    #[test]
    fn bad_figures_and_options_are_errors() {
        let good = GatePeEnergy {
            pe: "x".into(),
            pj_per_pe_cycle: 1.0,
            macs_per_pe_cycle: 1.0,
            idle_pj_per_pe_cycle: 0.0,
            leakage_nw_per_pe: 1.0,
            source: "s".into(),
        };
        assert!(check_entry(&good).is_ok());
        for f in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
            let mut e = good.clone();
            e.pj_per_pe_cycle = f;
            assert!(check_entry(&e).is_err(), "{f}");
        }
        let mut e = good.clone();
        e.source = " ".into();
        assert!(check_entry(&e).is_err());
        let o = GatePeOptions {
            ops: 0,
            ..GatePeOptions::default()
        };
        assert!(check_options(&o).is_err());
        let o = GatePeOptions {
            freq_ghz: 0.0,
            ..GatePeOptions::default()
        };
        assert!(check_options(&o).is_err());
    }
}
