//! `pelab`: pelab's own accelerator timing and energy model, beside `bitmod-hpca25` (which it
//! never changes). `docs/accel.md` ("The `pelab` model") states every departure from the
//! artifact's model as a named option; in short:
//!
//! - **Physical attention** per KV-head group: with d = h/H, g = H/KV and context T, each group
//!   runs `attn_qk` (cout T keys, cin d, tok g·t query rows: K [T×d] is the stationary-role
//!   operand, loaded once for the g heads) and `attn_sv` (cout d, cin T, tok g·t: V the
//!   stationary-role operand), t = T in prefill and 1 in decode. Prefill charges T·T·d MACs per
//!   head for each of QK and SV (`--causal`: T(T+1)/2·d), decode T·d. A `kv_write` op per layer
//!   writes the new K and V rows (2·t·kvd elements) at the KV precision; decode reads
//!   2·T·kvd elements per layer (the K and V operands of the attention ops).
//! - **Systolic timing**: every GEMM goes through [`crate::array::timing_with`] (SCALE-Sim's
//!   closed forms with fill and drain paid per fold, the array model validated against the RTL).
//!   `os`: M = cout, K = cin, N = tok (A = weights, rows tile cout as in the artifact); `ws` and
//!   `is`: M = tok, K = cin, N = cout (B = weights, stationary in `ws`; A = activations,
//!   stationary in `is`). Lanes = dp; cycles per step = the bit-serial latency
//!   `ceil(floor(bits)/bits_per_cycle)` (1 for a parallel PE) of the stationary-role operand.
//!   An op's compute time C is the array's `total_cycles` (up to its last output).
//! - **DRAM**: the byte counts and refetch rule of `bitmod-hpca25` (K/V operands at the KV
//!   precision), `D = floor(bytes / bytes_per_cycle)`; `--overlap none` (an op takes
//!   `max(C, D)`, as the artifact), `double-buffer` (`D_1 + Σ max(C_i, D_{i+1})`) or `serial`
//!   (`C + D`).
//! - **Energy**: PE (per PE-cycle: every PE every compute cycle, or only active PE-cycles),
//!   SRAM reads (one full-port access per edge vector the array consumes), SRAM writes,
//!   DRAM, leakage (PEs and the two SRAMs over the op's time) and stall (idle PE-cycles), each
//!   figure with its source; a figure that is not known is reported as not modelled, never 0.
//!
//! Counts are `u64`, energies exact rationals ([`Exact`], pJ).

use super::exact::Exact;
use super::hpca25::{
    self, add, ceil_scaled, mul, ovf, AccelConfig, ArrayShape, Bound, Latency, Memory, PerTask,
    Precisions,
};
use super::source::{Doc, Format, Item, Pos, Value};
use super::workload::{Scenario, Task, Workload, MAX_OPS};
use crate::array::cell::Cell;
use crate::array::{timing_with, ArrayDims, Dataflow, GemmDims, PeTiming};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The name of this timing and energy model.
pub const MODEL_NAME: &str = "pelab";
/// Its accelerators: the artifact's five, then pelab's own PEs.
pub const PRESET_IDS: [&str; 9] = [
    "fp16",
    "ant",
    "olive",
    "bitmod-lossless",
    "bitmod-lossy",
    "lmul-bf16",
    "lmul-e4m3",
    "fpmul-bf16",
    "int16-dfp",
];
/// The PEs whose per-cycle energy pelab's gate engine measures (`--pe-energy gate`).
pub const GATE_PES: [&str; 7] = [
    "fp16mac",
    "bitmod",
    "int16fma",
    "lmul-bf16",
    "lmul-e4m3",
    "fpmul-bf16",
    "fpmul-e4m3",
];
/// Most causal chunks one attention op may split into.
pub const MAX_CHUNKS: u64 = 1 << 20;
/// SRAMs that leak: the weight SRAM and the input SRAM.
pub const SRAMS: u64 = 2;
/// Width of a partial sum the `ws` and `is` arrays write and read back (FP32 or INT32).
pub const PSUM_BITS: u64 = 32;
/// One line saying where the model's figures come from.
pub const PROVENANCE: &str = "pelab: pelab's accelerator model (docs/accel.md, \"The pelab \
model\"): physical per-head attention with GQA and explicit KV-cache traffic; compute timed by \
pelab's systolic-array closed forms (sim/src/array/timing.rs: SCALE-Sim's forms, fill and drain \
per fold, checked against the RTL); DRAM bytes, 32 B/cycle, 150 pJ/B and the SRAM table (CACTI 7, \
28 nm) as bitmod-hpca25";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// A figure a configuration states with its source, or an explicit statement that it is not
/// modelled (reported as such, never as 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stated {
    /// A figure and where it comes from.
    Figure {
        /// The value, in the unit the field names.
        value: Exact,
        /// Library, table or measurement; technology; conditions.
        source: String,
    },
    /// Not modelled, and why.
    NotModelled(String),
}

impl Stated {
    /// The value, if modelled.
    pub fn value(&self) -> Option<Exact> {
        match self {
            Stated::Figure { value, .. } => Some(*value),
            Stated::NotModelled(_) => None,
        }
    }

    /// The source, or why it is not modelled.
    pub fn note(&self) -> String {
        match self {
            Stated::Figure { source, .. } => source.clone(),
            Stated::NotModelled(why) => format!("not modelled: {why}"),
        }
    }
}

/// The clock, which converts leakage power into energy per cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    /// Frequency (MHz).
    pub mhz: Exact,
    /// Where it comes from.
    pub source: String,
}

/// A PE energy constant of the BitMoD artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactPe {
    /// Energy per PE-cycle (pJ), pre-layout.
    pub pj_per_cycle: Exact,
    /// Post-layout scaling (the artifact's `PR_SCALING` = 1.5).
    pub scaling: Exact,
    /// Where it comes from.
    pub source: String,
}

/// A grouped reduction: a group of `weights` takes at least `min_cycles` (the bitmod cell's
/// dequantizer; [`PeTiming::group`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeGroup {
    /// Weights per group.
    pub weights: u64,
    /// Fewest cycles per group.
    pub min_cycles: u64,
}

/// An accelerator of the `pelab` model (its serde form is the `--accel-file` format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PelabConfig {
    /// Short id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the PE is.
    pub pe: String,
    /// Array shape per task (rows x cols).
    pub array: PerTask<ArrayShape>,
    /// Lanes per PE step (the dot-product width dp).
    pub dp: u64,
    /// Whether the PE is weight-bit-serial (halves both SRAM port widths, as the artifact).
    pub bit_serial: bool,
    /// Cycles per step: one, or `ceil(floor(bits)/bits_per_cycle)` of the stationary-role
    /// operand.
    pub latency: Latency,
    /// Grouped reduction of the PE, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<PeGroup>,
    /// Cycles a PE's result trails its last step (0 for a combinational cell).
    pub result_latency: u64,
    /// Activation bits (inputs and outputs of every op).
    pub act_bits: u64,
    /// Bits of a K or V element (the KV cache and the attention ops' stationary operand).
    pub kv_bits: u64,
    /// Linear-weight precision per task and model (bits).
    pub precision: PerTask<Precisions>,
    /// SRAMs, DRAM and the CACTI table.
    pub memory: Memory,
    /// The clock (converts leakage power to energy).
    pub clock: Clock,
    /// The artifact's PE energy (`--pe-energy artifact`), when the artifact has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_pe_energy: Option<ArtifactPe>,
    /// The gate-measured PE this accelerator uses (`--pe-energy gate`): one of [`GATE_PES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_pe: Option<String>,
    /// Energy of an idle PE-cycle (pJ) with `--pe-energy artifact`.
    pub pe_idle: Stated,
    /// Leakage power of one PE (nW) with `--pe-energy artifact`.
    pub pe_leakage: Stated,
    /// Leakage power of one SRAM (nW; the weight and the input SRAM each leak it).
    pub sram_leakage: Stated,
}

fn artifact_clock() -> Clock {
    Clock {
        mhz: Exact::int(1000),
        source: "1 GHz, the clock BitMoD's RTL targets (HPCA'25 artifact); here it only converts \
                 leakage power to energy"
            .into(),
    }
}

fn sram_not_modelled() -> Stated {
    Stated::NotModelled(
        "the SRAM table is CACTI 7's dynamic read and write energies only (docs/accel.md); no \
         CACTI leakage run is recorded for these SRAMs; state a figure in an accelerator file"
            .into(),
    )
}

/// The preset accelerator `id` (one of [`PRESET_IDS`]).
pub fn preset(id: &str) -> Option<PelabConfig> {
    if let Some(a) = hpca25::preset(id) {
        return Some(from_artifact(&a));
    }
    let (name, pe, cell_pe, bits, gate) = match id {
        "lmul-bf16" => (
            "L-Mul bf16",
            "L-Mul bf16 x bf16, FP32 accumulator (pelab's lmul cell)",
            "lmul",
            16,
            "lmul-bf16",
        ),
        "lmul-e4m3" => (
            "L-Mul e4m3",
            "L-Mul e4m3 x e4m3, FP32 accumulator (pelab's lmul cell)",
            "lmul",
            8,
            "lmul-e4m3",
        ),
        "fpmul-bf16" => (
            "FP multiply bf16",
            "exact bf16 x bf16 multiply, FP32 accumulator (pelab's fpmul cell)",
            "fpmul",
            16,
            "fpmul-bf16",
        ),
        "int16-dfp" => (
            "INT16 DFP",
            "INT16 dot-2 into INT32 (pelab's int16fma cell, dynamic fixed point)",
            "int16fma",
            16,
            "int16fma",
        ),
        _ => return None,
    };
    let fp16 = hpca25::preset("fp16").expect("fp16 preset");
    let uniform = |w: i128| Precisions {
        default: Exact::int(w),
        models: BTreeMap::new(),
    };
    let none = || {
        Stated::NotModelled(format!(
            "the BitMoD artifact has no figure for this PE; --pe-energy gate measures `{gate}`"
        ))
    };
    Some(PelabConfig {
        id: id.to_string(),
        name: name.to_string(),
        pe: pe.to_string(),
        array: fp16.array,
        dp: Cell::lanes_of(cell_pe).expect("a cell PE") as u64,
        bit_serial: false,
        latency: Latency::One,
        group: None,
        result_latency: 0,
        act_bits: bits,
        kv_bits: bits,
        precision: PerTask {
            prefill: uniform(i128::from(bits)),
            decode: uniform(i128::from(bits)),
        },
        memory: hpca25::artifact_memory(),
        clock: artifact_clock(),
        artifact_pe_energy: None,
        gate_pe: Some(gate.to_string()),
        pe_idle: none(),
        pe_leakage: none(),
        sram_leakage: sram_not_modelled(),
    })
}

/// The `pelab` form of one of the artifact's accelerators: its arrays, dp, latency rule,
/// precisions, memories and PE energy, with FP16 K/V, the bitmod cell's grouping and result
/// latency for the BitMoD PE, and explicit statements for what the artifact does not model.
pub fn from_artifact(a: &AccelConfig) -> PelabConfig {
    let bitmod = a.id.starts_with("bitmod");
    let cell = PeTiming::bitmod();
    let (group, result_latency) = if bitmod {
        let (weights, min) = cell.group.expect("the bitmod cell groups");
        (
            Some(PeGroup {
                weights: weights as u64,
                min_cycles: min,
            }),
            cell.result_latency,
        )
    } else {
        (None, 0)
    };
    let gate_pe = match a.id.as_str() {
        "fp16" => Some("fp16mac".to_string()),
        _ if bitmod => Some("bitmod".to_string()),
        _ => None,
    };
    let no_artifact = |what: &str| {
        Stated::NotModelled(format!(
            "the BitMoD artifact charges no {what}; --pe-energy gate measures it where pelab \
             has the PE"
        ))
    };
    PelabConfig {
        id: a.id.clone(),
        name: a.name.clone(),
        pe: a.pe.clone(),
        array: a.array.clone(),
        dp: a.dp,
        bit_serial: a.bit_serial,
        latency: a.latency,
        group,
        result_latency,
        act_bits: a.act_bits,
        kv_bits: a.act_bits,
        precision: a.precision.clone(),
        memory: a.memory.clone(),
        clock: artifact_clock(),
        artifact_pe_energy: Some(ArtifactPe {
            pj_per_cycle: a.e_pe_pj,
            scaling: a.pe_energy_scaling,
            source: format!(
                "BitMoD artifact (abdelfattah-lab/BitMoD-HPCA-25 @ 58d7bdb, bitmod_sim/test_*.py): \
                 {} pJ per PE-cycle, pre-layout",
                a.e_pe_pj
            ),
        }),
        gate_pe,
        pe_idle: no_artifact("stall or idle energy"),
        pe_leakage: no_artifact("leakage"),
        sram_leakage: sram_not_modelled(),
    }
}

/// The nine presets, in [`PRESET_IDS`] order.
pub fn presets() -> Vec<PelabConfig> {
    PRESET_IDS
        .iter()
        .map(|id| preset(id).expect("preset id"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// PE energy
// ---------------------------------------------------------------------------------------------

/// Where the PE energy comes from (`--pe-energy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeEnergySource {
    /// The BitMoD artifact's constants (with its post-layout scaling).
    Artifact,
    /// pelab's gate-level measurement of its own PE.
    Gate,
}

impl PeEnergySource {
    /// Both.
    pub const ALL: [PeEnergySource; 2] = [PeEnergySource::Artifact, PeEnergySource::Gate];

    /// `artifact` or `gate`.
    pub fn name(self) -> &'static str {
        match self {
            PeEnergySource::Artifact => "artifact",
            PeEnergySource::Gate => "gate",
        }
    }

    /// The source called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The PE energy an accelerator is charged, each figure with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeEnergy {
    /// Artifact constants or gate measurement.
    pub origin: PeEnergySource,
    /// Energy of a PE-cycle that computes (pJ), as charged.
    pub pj_per_pe_cycle: Exact,
    /// Energy of an idle PE-cycle (pJ): stalls on DRAM, and idle cycles with `--charge active`.
    pub idle_pj_per_pe_cycle: Stated,
    /// Leakage power of one PE (nW).
    pub leakage_nw_per_pe: Stated,
    /// MACs per busy PE-cycle of the measurement, if known.
    pub macs_per_pe_cycle: Option<Exact>,
    /// Where `pj_per_pe_cycle` comes from.
    pub source: String,
}

/// A measured `f64` as an exact decimal, to 10^-12 of its unit.
pub fn exact_from_f64(what: &str, x: f64) -> Result<Exact> {
    if !(0.0..=1e15).contains(&x) {
        return Err(Error::new(format!(
            "{what} = {x}: expected a finite, non-negative figure below 1e15"
        )));
    }
    let scale = 1_000_000_000_000i128;
    Ok(Exact::frac((x * 1e12).round() as i128, scale))
}

impl PeEnergy {
    /// The artifact's constant of `c` (`e_pe · scaling`), with `c`'s stated idle energy and
    /// leakage. Errors when the artifact has no figure for the PE.
    pub fn artifact(c: &PelabConfig) -> Result<PeEnergy> {
        let a = c.artifact_pe_energy.as_ref().ok_or_else(|| {
            Error::new(format!(
                "accelerator `{}` ({}): the BitMoD artifact has no PE energy for it; use \
                 --pe-energy gate (pelab's gate-level measurement of its PE{})",
                c.id,
                c.pe,
                c.gate_pe
                    .as_ref()
                    .map(|g| format!(" `{g}`"))
                    .unwrap_or_default()
            ))
        })?;
        Ok(PeEnergy {
            origin: PeEnergySource::Artifact,
            pj_per_pe_cycle: a.pj_per_cycle.checked_mul(a.scaling)?,
            idle_pj_per_pe_cycle: c.pe_idle.clone(),
            leakage_nw_per_pe: c.pe_leakage.clone(),
            macs_per_pe_cycle: None,
            source: format!("{} x {} post-layout scaling", a.source, a.scaling),
        })
    }

    /// A gate-level measurement: energy of a busy and of an idle PE-cycle (pJ), MACs per busy
    /// cycle, leakage per PE (nW) and the measurement's source (library, activity, technology,
    /// frequency). Figures become exact decimals to 10^-12 of their unit.
    pub fn gate(
        pj_per_pe_cycle: f64,
        macs_per_pe_cycle: f64,
        idle_pj_per_pe_cycle: f64,
        leakage_nw_per_pe: f64,
        source: &str,
    ) -> Result<PeEnergy> {
        if source.trim().is_empty() {
            return Err(Error::new("a gate-level PE energy needs its source"));
        }
        let src = format!("pelab gate-level measurement: {source}");
        Ok(PeEnergy {
            origin: PeEnergySource::Gate,
            pj_per_pe_cycle: exact_from_f64("pj_per_pe_cycle", pj_per_pe_cycle)?,
            idle_pj_per_pe_cycle: Stated::Figure {
                value: exact_from_f64("idle_pj_per_pe_cycle", idle_pj_per_pe_cycle)?,
                source: src.clone(),
            },
            leakage_nw_per_pe: Stated::Figure {
                value: exact_from_f64("leakage_nw_per_pe", leakage_nw_per_pe)?,
                source: src.clone(),
            },
            macs_per_pe_cycle: Some(exact_from_f64("macs_per_pe_cycle", macs_per_pe_cycle)?),
            source: src,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// How DRAM transfers overlap compute (`--overlap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overlap {
    /// Each op takes `max(C, D)` (as `bitmod-hpca25`).
    None,
    /// The DRAM traffic of op i+1 overlaps the compute of op i: `D_1 + Σ max(C_i, D_{i+1})`.
    DoubleBuffer,
    /// Nothing overlaps: each op takes `C + D`.
    Serial,
}

/// Which PE-cycles pay the PE energy (`--charge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Charge {
    /// Every PE on every compute cycle (as the artifact).
    All,
    /// Only PE-cycles on steps of real outputs; the others are idle.
    Active,
}

/// Which precision sets a bit-serial PE's cycles per step on attention ops (`--attn-latency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttnLatency {
    /// The K/V precision (`kv_bits`), which the PE consumes bit-serially.
    Kv,
    /// The linear-weight precision (the artifact's quirk 2).
    Weight,
}

macro_rules! named {
    ($t:ty, $($v:path => $n:literal),+) => {
        impl $t {
            /// Every value, in display order.
            pub const ALL: &'static [$t] = &[$($v),+];
            /// The command-line name.
            pub fn name(self) -> &'static str {
                match self { $($v => $n),+ }
            }
            /// The value called `name`.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
            /// The command-line names.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.name()).collect()
            }
        }
    };
}

named!(Overlap, Overlap::None => "none", Overlap::DoubleBuffer => "double-buffer",
    Overlap::Serial => "serial");
named!(Charge, Charge::All => "all", Charge::Active => "active");
named!(AttnLatency, AttnLatency::Kv => "kv", AttnLatency::Weight => "weight");

/// The model's options (the named departures of `docs/accel.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Options {
    /// Dataflow of the array (`os` default).
    pub dataflow: Dataflow,
    /// Causal mask in prefill attention.
    pub causal: bool,
    /// DRAM/compute overlap.
    pub overlap: Overlap,
    /// Which PE-cycles pay the PE energy.
    pub charge: Charge,
    /// Cycles per step of attention ops on a bit-serial PE.
    pub attn_latency: AttnLatency,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dataflow: Dataflow::Os,
            causal: false,
            overlap: Overlap::None,
            charge: Charge::All,
            attn_latency: AttnLatency::Kv,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ops
// ---------------------------------------------------------------------------------------------

/// What an op is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Weights (stationary role) times activations.
    Linear,
    /// Q·Kᵀ of one KV group: K is the stationary-role operand.
    AttnQk,
    /// P·V of one KV group: V is the stationary-role operand.
    AttnSv,
    /// An `attention` GEMM of a GEMM list (its stationary-role operand at the KV precision).
    AttnGemm,
    /// The new K and V rows written to the KV cache (DRAM only).
    KvWrite,
}

impl Role {
    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Role::Linear => "linear",
            Role::AttnQk => "attn-qk",
            Role::AttnSv => "attn-sv",
            Role::AttnGemm => "attn-gemm",
            Role::KvWrite => "kv-write",
        }
    }
}

/// The rows of an operand: `rows` rows of `len` elements, or the causal triangle (`copies`
/// times the rows of 1, 2, ..., `t` elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "form", rename_all = "lowercase")]
pub enum Rows {
    /// `rows` rows of `len` elements.
    Uniform {
        /// Rows.
        rows: u64,
        /// Elements per row.
        len: u64,
    },
    /// `copies` x rows of 1..=t elements.
    Triangle {
        /// Copies (query heads of the group).
        copies: u64,
        /// Longest row.
        t: u64,
    },
}

impl Rows {
    /// Elements.
    pub fn elems(&self) -> Result<u64> {
        match *self {
            Rows::Uniform { rows, len } => mul(rows, len),
            Rows::Triangle { copies, t } => mul(copies, tri(t)?),
        }
    }

    /// Writes of `unit` bits, each row written separately: `Σ_rows ceil(len·bits/unit)`.
    pub fn words(&self, bits: u64, unit: u64) -> Result<u64> {
        match *self {
            Rows::Uniform { rows, len } => mul(mul(len, bits)?.div_ceil(unit), rows),
            Rows::Triangle { copies, t } => {
                // Σ_{n=1..t} ceil(n·b/u) = Σ_{i=0..t-1} floor((b·i + b + u − 1)/u).
                let s = floor_sum(
                    u128::from(t),
                    u128::from(unit),
                    u128::from(bits),
                    u128::from(bits) + u128::from(unit) - 1,
                );
                let s = u64::try_from(s).map_err(|_| ovf("a write count"))?;
                mul(s, copies)
            }
        }
    }
}

/// `t(t+1)/2`.
fn tri(t: u64) -> Result<u64> {
    let v = u128::from(t) * (u128::from(t) + 1) / 2;
    u64::try_from(v).map_err(|_| ovf("a triangle"))
}

/// `Σ_{i=0}^{n−1} floor((a·i + b)/m)` (the standard O(log) algorithm; `m > 0`).
fn floor_sum(n: u128, m: u128, mut a: u128, mut b: u128) -> u128 {
    let (mut n, mut m) = (n, m);
    let mut ans = 0u128;
    loop {
        if a >= m {
            ans += n * (n.saturating_sub(1)) / 2 * (a / m);
            a %= m;
        }
        if b >= m {
            ans += n * (b / m);
            b %= m;
        }
        let y_max = a * n + b;
        if y_max < m {
            return ans;
        }
        n = y_max / m;
        b = y_max % m;
        std::mem::swap(&mut m, &mut a);
    }
}

/// One op of the `pelab` op list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PelabOp {
    /// Name (`q_proj`, `attn_qk`, `kv_write`...).
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Rows of the stationary-role operand (weights, K keys, V channels); 0 for `kv_write`.
    pub cout: u64,
    /// Reduction length; 0 for `kv_write`.
    pub cin: u64,
    /// Rows of the streamed operand (tokens, query rows); 0 for `kv_write`.
    pub tok: u64,
    /// The streamed operand's rows (DRAM reads and SRAM writes).
    pub input: Rows,
    /// The output's rows (the K and V rows for `kv_write`).
    pub output: Rows,
    /// `(g, T)` of a causal prefill attention op: query rows are position-major
    /// (row r is position `floor(r/g)`), position p sees keys `0..=p`.
    pub causal: Option<(u64, u64)>,
    /// Multiply-accumulates the op needs (masked products excluded).
    pub macs: u64,
}

/// The `pelab` op list of `workload` in `sc`.
///
/// A model shape gives, per layer: its linear modules (as `bitmod-hpca25`: `cout` N, `cin` K,
/// `tok` t), one `kv_write` (2·t rows of kvd elements), and per KV group `attn_qk`
/// (cout T, cin d, tok g·t) and `attn_sv` (cout d, cin T, tok g·t); then `lm_head`. With
/// `causal`, prefill's attention ops see the causal triangle. A GEMM list is taken as given
/// (`attention` GEMMs with their stationary-role operand at the KV precision); `causal` is
/// refused for it, since it has no attention structure.
pub fn ops(workload: &Workload, sc: Scenario, causal: bool) -> Result<Vec<PelabOp>> {
    let lin = |name: &str, role: Role, cout: u64, cin: u64, cin_i: u64, tok: u64| {
        Ok(PelabOp {
            name: name.to_string(),
            role,
            cout,
            cin,
            tok,
            input: Rows::Uniform {
                rows: tok,
                len: cin_i,
            },
            output: Rows::Uniform {
                rows: tok,
                len: cout,
            },
            causal: None,
            macs: mul(mul(cout, cin)?, tok)?,
        })
    };
    let m = match workload {
        Workload::Gemms(g) => {
            if causal {
                return Err(Error::new(format!(
                    "--causal: `{}` is a list of GEMMs, which has no attention structure to mask \
                     (give a model shape)",
                    g.id
                )));
            }
            return g
                .ops(sc)?
                .iter()
                .map(|o| {
                    let role = match o.kind {
                        super::OpKind::Linear => Role::Linear,
                        super::OpKind::Attention => Role::AttnGemm,
                    };
                    lin(&o.name, role, o.cout, o.cin, o.cin_i, o.tok)
                })
                .collect();
        }
        Workload::Model(m) => m,
    };
    let t = sc.context;
    let tok = sc.tokens();
    let d = m.head_dim();
    let kvd = m.kv_dim();
    let g = m.heads / m.kv_heads.max(1);
    let q_rows = mul(g, tok)?;
    let tri_mask = causal && sc.task == Task::Prefill;
    let full = mul(mul(t, d)?, q_rows)?;
    let masked = mul(mul(tri(t)?, d)?, g)?;
    let macs = if tri_mask { masked } else { full };
    let qk = PelabOp {
        name: "attn_qk".into(),
        role: Role::AttnQk,
        cout: t,
        cin: d,
        tok: q_rows,
        input: Rows::Uniform {
            rows: q_rows,
            len: d,
        },
        output: if tri_mask {
            Rows::Triangle { copies: g, t }
        } else {
            Rows::Uniform {
                rows: q_rows,
                len: t,
            }
        },
        causal: tri_mask.then_some((g, t)),
        macs,
    };
    let sv = PelabOp {
        name: "attn_sv".into(),
        role: Role::AttnSv,
        cout: d,
        cin: t,
        tok: q_rows,
        input: qk.output,
        output: Rows::Uniform {
            rows: q_rows,
            len: d,
        },
        causal: qk.causal,
        macs,
    };
    let kv_write = PelabOp {
        name: "kv_write".into(),
        role: Role::KvWrite,
        cout: 0,
        cin: 0,
        tok: 0,
        input: Rows::Uniform { rows: 0, len: 0 },
        output: Rows::Uniform {
            rows: mul(2, tok)?,
            len: kvd,
        },
        causal: None,
        macs: 0,
    };
    let per_layer = (m.linears.len() as u64)
        .checked_add(1)
        .and_then(|n| n.checked_add(m.kv_heads.checked_mul(2)?))
        .ok_or_else(|| ovf("the op count"))?;
    let n = per_layer
        .checked_mul(m.layers)
        .and_then(|n| n.checked_add(1))
        .filter(|&n| n <= MAX_OPS)
        .ok_or_else(|| {
            Error::new(format!(
                "{}: more than {MAX_OPS} ops ({} layers x {per_layer} ops with per-group \
                 attention)",
                m.id, m.layers
            ))
        })?;
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..m.layers {
        for l in &m.linears {
            out.push(lin(&l.name, Role::Linear, l.out, l.inp, l.inp, tok)?);
        }
        out.push(kv_write.clone());
        for _ in 0..m.kv_heads {
            out.push(qk.clone());
            out.push(sv.clone());
        }
    }
    out.push(lin(
        "lm_head",
        Role::Linear,
        m.vocab,
        m.hidden,
        m.hidden,
        tok,
    )?);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Setup: array, PE timing, SRAM ports
// ---------------------------------------------------------------------------------------------

/// An SRAM port and its costs from the CACTI table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SramPort {
    /// Width the array edge needs (bits): the artifact's formula.
    pub bits: u64,
    /// The CACTI entry that serves it: `bits` itself when listed, else the narrowest listed
    /// port at least `ceil(bits/reads)` wide.
    pub entry_bits: u64,
    /// Reads of that entry per access (`ceil(bits / widest listed port)`).
    pub reads: u64,
    /// Energy of one access (pJ): `reads · R_full(entry)`.
    pub read_pj: Exact,
    /// Energy of one read of `sram_write_bits` (pJ): `R_full · write_bits / entry_bits`
    /// (partial sums).
    pub read_word_pj: Exact,
    /// Energy of one write of `sram_write_bits` (pJ): `W_full · write_bits / entry_bits`.
    pub write_word_pj: Exact,
}

/// What an accelerator uses for one task and model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PelabSetup {
    /// The task.
    pub task: Task,
    /// The array.
    pub array: ArrayShape,
    /// Linear-weight precision (bits).
    pub w: Exact,
    /// K/V precision (bits).
    pub kv_bits: u64,
    /// Activation precision (bits).
    pub act_bits: u64,
    /// The dataflow.
    pub dataflow: Dataflow,
    /// The PE's timing on linear ops.
    pub linear_pe: PeTiming,
    /// The PE's timing on attention ops.
    pub attention_pe: PeTiming,
    /// Weight SRAM port (weights, K and V).
    pub weight_port: SramPort,
    /// Input SRAM port (activations, outputs, partial sums).
    pub input_port: SramPort,
}

/// The resolved figures for leakage and idle energy of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnergyFigures {
    /// PE energy.
    pub pe: PeEnergy,
    /// Leakage of one SRAM (nW).
    pub sram_leakage_nw: Stated,
    /// The clock.
    pub clock: Clock,
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// An energy breakdown (pJ). `None` means "not modelled" (see the run's [`EnergyFigures`]);
/// the totals add the modelled parts only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Energy {
    /// PE energy of compute cycles.
    pub pe: Exact,
    /// SRAM reads.
    pub sram_read: Exact,
    /// SRAM writes.
    pub sram_write: Exact,
    /// DRAM.
    pub dram: Exact,
    /// PE leakage.
    pub leakage_pe: Option<Exact>,
    /// SRAM leakage.
    pub leakage_sram: Option<Exact>,
    /// Idle PE-cycles (stalls on DRAM; idle PEs with `--charge active`).
    pub stall: Option<Exact>,
}

fn add_opt(a: Option<Exact>, b: Option<Exact>) -> Result<Option<Exact>> {
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(a.checked_add(b)?),
        (x, None) | (None, x) => x,
    })
}

impl Energy {
    /// The parts, by name: `pe`, `sram_read`, `sram_write`, `dram`, `leakage_pe`,
    /// `leakage_sram`, `stall` (`None`: not modelled).
    pub fn parts(&self) -> [(&'static str, Option<Exact>); 7] {
        [
            ("pe", Some(self.pe)),
            ("sram_read", Some(self.sram_read)),
            ("sram_write", Some(self.sram_write)),
            ("dram", Some(self.dram)),
            ("leakage_pe", self.leakage_pe),
            ("leakage_sram", self.leakage_sram),
            ("stall", self.stall),
        ]
    }

    /// Σ of the modelled parts (pJ).
    pub fn total(&self) -> Exact {
        self.parts()
            .iter()
            .filter_map(|(_, e)| *e)
            .fold(Exact::default(), |a, b| a + b)
    }

    /// Everything but DRAM (pJ).
    pub fn on_chip(&self) -> Exact {
        Exact(self.total().0 - self.dram.0)
    }

    /// `self + other`.
    pub fn checked_add(&self, o: &Energy) -> Result<Energy> {
        Ok(Energy {
            pe: self.pe.checked_add(o.pe)?,
            sram_read: self.sram_read.checked_add(o.sram_read)?,
            sram_write: self.sram_write.checked_add(o.sram_write)?,
            dram: self.dram.checked_add(o.dram)?,
            leakage_pe: add_opt(self.leakage_pe, o.leakage_pe)?,
            leakage_sram: add_opt(self.leakage_sram, o.leakage_sram)?,
            stall: add_opt(self.stall, o.stall)?,
        })
    }

    /// `k · self`.
    pub fn scaled(&self, k: u64) -> Result<Energy> {
        let s = |e: Exact| e.checked_mul_int(k);
        let so = |e: Option<Exact>| e.map(s).transpose();
        Ok(Energy {
            pe: s(self.pe)?,
            sram_read: s(self.sram_read)?,
            sram_write: s(self.sram_write)?,
            dram: s(self.dram)?,
            leakage_pe: so(self.leakage_pe)?,
            leakage_sram: so(self.leakage_sram)?,
            stall: so(self.stall)?,
        })
    }
}

/// The GEMM an op maps to (the whole op; a causal op is timed in chunks of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GemmMap {
    /// Rows of A and C.
    pub m: u64,
    /// Reduction.
    pub k: u64,
    /// Columns of B and C.
    pub n: u64,
    /// Lanes per step.
    pub lanes: u64,
    /// Cycles per step.
    pub step_cycles: u64,
}

/// What one op costs by itself (independent of its neighbours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpCore {
    /// The op.
    pub op: PelabOp,
    /// Its GEMM (`None` for `kv_write`).
    pub gemm: Option<GemmMap>,
    /// Sub-GEMMs timed (1, or the causal chunks).
    pub chunks: u64,
    /// Folds over all chunks.
    pub folds: u64,
    /// Cycles per fold (of the first chunk).
    pub cycles_per_fold: u64,
    /// Compute cycles C: the array's cycles up to its last output.
    pub compute_cycles: u64,
    /// PE-cycles on steps of real outputs (`steps · L` of the timing).
    pub active_pe_cycles: u64,
    /// Weight-role bytes `W` (weights, or K/V at the KV precision).
    pub w_bytes: u64,
    /// Streamed-operand bytes `I`.
    pub i_bytes: u64,
    /// Output bytes `O`.
    pub o_bytes: u64,
    /// Weight fetches.
    pub fw: u64,
    /// Input fetches.
    pub fi: u64,
    /// DRAM bytes: `W·fw + I·fi + O`.
    pub dram_bytes: u64,
    /// DRAM cycles `floor(bytes / bytes_per_cycle)`.
    pub dram_cycles: u64,
    /// KV-cache bytes read (the K or V operand of a model's attention op).
    pub kv_read_bytes: u64,
    /// KV-cache bytes written (`kv_write`).
    pub kv_write_bytes: u64,
    /// Weight-SRAM accesses (edge vectors of the weight-role operand).
    pub weight_reads: u64,
    /// Input-SRAM accesses (edge vectors of the streamed operand).
    pub input_reads: u64,
    /// Partial-sum words read back (`ws`, `is`).
    pub psum_read_words: u64,
    /// Weight-SRAM word writes.
    pub n_w: u64,
    /// Input-SRAM word writes of inputs.
    pub n_i: u64,
    /// Input-SRAM word writes of outputs.
    pub n_o: u64,
    /// Partial-sum word writes (`ws`, `is`).
    pub psum_write_words: u64,
    /// PE energy (pJ).
    pub e_pe: Exact,
    /// SRAM read energy (pJ).
    pub e_rd: Exact,
    /// SRAM write energy (pJ).
    pub e_wr: Exact,
    /// DRAM energy (pJ).
    pub e_dram: Exact,
}

/// One op in its place in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpInstance {
    /// Index of its [`OpCore`] in the run.
    pub core: usize,
    /// Cycles attributed to it (`max(C, D)`, or its pipeline stage with double-buffering).
    pub time: u64,
    /// Cycles the array waits: `time − C`.
    pub stall_cycles: u64,
    /// Idle PE-cycles charged the idle energy.
    pub idle_pe_cycles: u64,
    /// Whether DRAM or compute sets its time.
    pub bound: Bound,
    /// Its energy.
    pub energy: Energy,
}

/// Sums over an op list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PelabTotals {
    /// Latency.
    pub cycles: u64,
    /// Σ C.
    pub compute_cycles: u64,
    /// Σ D.
    pub dram_cycles: u64,
    /// Σ (time − C).
    pub stall_cycles: u64,
    /// MACs.
    pub macs: u64,
    /// Σ PEs · C.
    pub pe_cycles: u64,
    /// Σ active PE-cycles.
    pub active_pe_cycles: u64,
    /// Σ idle PE-cycles charged.
    pub idle_pe_cycles: u64,
    /// DRAM bytes.
    pub dram_bytes: u64,
    /// KV-cache bytes read.
    pub kv_read_bytes: u64,
    /// KV-cache bytes written.
    pub kv_write_bytes: u64,
    /// Energy.
    pub energy: Energy,
}

impl PelabTotals {
    /// This run as a row of the artifact's table (µJ rounded to integers, as the artifact prints
    /// them), so that the artifact's aggregates ([`hpca25::speedups`],
    /// [`hpca25::normalized_energy`]) apply unchanged.
    pub fn artifact_row(&self, accel: &str, model: &str, task: Task) -> hpca25::ArtifactRow {
        hpca25::ArtifactRow {
            accelerator: accel.into(),
            model: model.into(),
            task,
            cycles: self.cycles,
            energy_onchip_uj: super::report::uj(self.energy.on_chip()).round() as i64,
            energy_total_uj: super::report::uj(self.energy.total()).round() as i64,
        }
    }

    /// `self + k · other`.
    pub fn add_scaled(&self, o: &PelabTotals, k: u64) -> Result<PelabTotals> {
        let f = |a: u64, b: u64| mul(b, k).and_then(|b| add(a, b));
        Ok(PelabTotals {
            cycles: f(self.cycles, o.cycles)?,
            compute_cycles: f(self.compute_cycles, o.compute_cycles)?,
            dram_cycles: f(self.dram_cycles, o.dram_cycles)?,
            stall_cycles: f(self.stall_cycles, o.stall_cycles)?,
            macs: f(self.macs, o.macs)?,
            pe_cycles: f(self.pe_cycles, o.pe_cycles)?,
            active_pe_cycles: f(self.active_pe_cycles, o.active_pe_cycles)?,
            idle_pe_cycles: f(self.idle_pe_cycles, o.idle_pe_cycles)?,
            dram_bytes: f(self.dram_bytes, o.dram_bytes)?,
            kv_read_bytes: f(self.kv_read_bytes, o.kv_read_bytes)?,
            kv_write_bytes: f(self.kv_write_bytes, o.kv_write_bytes)?,
            energy: self.energy.checked_add(&o.energy.scaled(k)?)?,
        })
    }

    /// The paper's generative task: `steps · decode + prefill`.
    pub fn generative(prefill: &PelabTotals, decode: &PelabTotals, steps: u64) -> Result<Self> {
        prefill.add_scaled(decode, steps)
    }

    /// Utilization: active PE-cycles over PE-cycles of the whole latency.
    pub fn utilization(&self, pes: u64) -> f64 {
        self.active_pe_cycles as f64 / (pes as f64 * self.cycles as f64).max(1.0)
    }
}

/// A workload's op list through an accelerator in one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PelabRun {
    /// Accelerator id.
    pub accelerator: String,
    /// Workload id.
    pub model: String,
    /// Scenario.
    pub scenario: Scenario,
    /// Options.
    pub options: Options,
    /// Array, PE timing and ports.
    pub setup: PelabSetup,
    /// Energy figures and their sources.
    pub figures: EnergyFigures,
    /// The distinct ops, in order of first appearance.
    pub cores: Vec<OpCore>,
    /// Every op, in order.
    pub ops: Vec<OpInstance>,
    /// Sums.
    pub totals: PelabTotals,
}

/// Identical ops of a run, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PelabGroup {
    /// Index of the op's [`OpCore`].
    pub core: usize,
    /// How many.
    pub count: u64,
    /// Σ time.
    pub time: u64,
    /// Σ stall cycles.
    pub stall_cycles: u64,
    /// Σ energy.
    pub energy: Energy,
}

impl PelabRun {
    /// The ops grouped by identity, in order of first appearance.
    pub fn groups(&self) -> Result<Vec<PelabGroup>> {
        let mut out: Vec<PelabGroup> = (0..self.cores.len())
            .map(|core| PelabGroup {
                core,
                count: 0,
                time: 0,
                stall_cycles: 0,
                energy: Energy::default(),
            })
            .collect();
        for o in &self.ops {
            let g = &mut out[o.core];
            g.count += 1;
            g.time = add(g.time, o.time)?;
            g.stall_cycles = add(g.stall_cycles, o.stall_cycles)?;
            g.energy = g.energy.checked_add(&o.energy)?;
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// An accelerator of the `pelab` model with its PE energy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PelabAccelerator {
    /// Its configuration.
    pub config: PelabConfig,
    /// Its PE energy.
    pub pe_energy: PeEnergy,
}

impl PelabAccelerator {
    /// Checks `config` ([`check`]) and pairs it with `pe_energy`.
    pub fn new(config: PelabConfig, pe_energy: PeEnergy) -> Result<Self> {
        check(&config).map_err(|(path, msg)| {
            Error::new(format!("accelerator `{}`: `{path}`: {msg}", config.id))
        })?;
        Ok(PelabAccelerator { config, pe_energy })
    }

    /// The preset `id` with the PE energy of `source` from the artifact (errors when the
    /// artifact has none; gate energies come from the measurement, [`PeEnergy::gate`]).
    pub fn preset_artifact(id: &str) -> Result<Self> {
        let c = preset(id).ok_or_else(|| unknown_accel(id, &PRESET_IDS))?;
        let e = PeEnergy::artifact(&c)?;
        Self::new(c, e)
    }

    fn steps(&self, bits: Exact) -> u64 {
        match self.config.latency {
            Latency::One => 1,
            Latency::WeightSerial { bits_per_cycle } => u64::try_from(bits.floor())
                .unwrap_or(0)
                .div_ceil(bits_per_cycle.max(1)),
        }
        .max(1)
    }

    fn port(&self, bits: u64) -> Result<SramPort> {
        let m = &self.config.memory;
        let widest = m.cacti.iter().map(|e| e.rw_bits).max().unwrap_or(0);
        if widest == 0 {
            return Err(Error::new(format!(
                "accelerator `{}`: the CACTI table is empty",
                self.config.id
            )));
        }
        let reads = bits.div_ceil(widest).max(1);
        let need = bits.div_ceil(reads);
        let e = m
            .cacti
            .iter()
            .filter(|e| e.rw_bits >= need)
            .min_by_key(|e| e.rw_bits)
            .expect("the widest entry serves");
        let scale = Exact::int(1000 * i128::from(m.sram_banks));
        let r_full = e.read_nj_per_bank.checked_mul(scale)?;
        let w_full = e.write_nj_per_bank.checked_mul(scale)?;
        let word = |full: Exact| {
            full.checked_mul(Exact::frac(
                i128::from(m.sram_write_bits),
                i128::from(e.rw_bits),
            ))
        };
        Ok(SramPort {
            bits,
            entry_bits: e.rw_bits,
            reads,
            read_pj: r_full.checked_mul_int(reads)?,
            read_word_pj: word(r_full)?,
            write_word_pj: word(w_full)?,
        })
    }

    /// Array, PE timing and SRAM ports for `task` on model `model_id`.
    ///
    /// Port widths as the artifact: weight SRAM `dp·4·ceil(w/4)·rows`, input SRAM
    /// `dp·act_bits·cols`, both halved for a bit-serial PE. The PE timing: lanes = dp, cycles
    /// per step = the latency rule on the stationary-role operand's bits (w for linear ops;
    /// `kv_bits`, or w with [`AttnLatency::Weight`], for attention), the PE's grouping and
    /// result latency.
    pub fn setup(&self, task: Task, model_id: &str, o: &Options) -> Result<PelabSetup> {
        let c = &self.config;
        let array = *c.array.get(task);
        let side = crate::array::timing::MAX_ANALYTIC_SIDE as u64;
        if array.rows > side || array.cols > side {
            return Err(Error::new(format!(
                "accelerator `{}`: its {} array {}x{} is outside pelab's array model, which times \
                 arrays of 1 to {side} rows and columns (sim/src/array/timing.rs)",
                c.id,
                task.name(),
                array.rows,
                array.cols
            )));
        }
        let w = c.precision.get(task).of(model_id);
        let kv = Exact::int(i128::from(c.kv_bits));
        let word = u64::try_from(w.ceil()).map_err(|_| ovf("the precision"))?;
        let div = if c.bit_serial { 2 } else { 1 };
        let wbits = mul(mul(mul(c.dp, 4)?, word.div_ceil(4))?, array.rows)? / div;
        let ibits = mul(mul(c.dp, c.act_bits)?, array.cols)? / div;
        let lanes = usize::try_from(c.dp).map_err(|_| ovf("dp"))?;
        let timing = |steps: u64| PeTiming {
            lanes,
            step_cycles: steps,
            group: c.group.map(|g| (g.weights as usize, g.min_cycles)),
            result_latency: c.result_latency,
        };
        let attn_bits = match o.attn_latency {
            AttnLatency::Kv => kv,
            AttnLatency::Weight => w,
        };
        Ok(PelabSetup {
            task,
            array,
            w,
            kv_bits: c.kv_bits,
            act_bits: c.act_bits,
            dataflow: o.dataflow,
            linear_pe: timing(self.steps(w)),
            attention_pe: timing(self.steps(attn_bits)),
            weight_port: self.port(wbits)?,
            input_port: self.port(ibits)?,
        })
    }

    /// The sub-GEMMs `(m, k, n)` an op is timed as: the whole GEMM, or its causal chunks
    /// (module docs of `docs/accel.md`): the query dimension is cut into array tiles when it
    /// is tiled (os: N, is: M) and each chunk takes only the keys its last position sees;
    /// otherwise (ws) the key dimension is cut into array tiles and each chunk streams only
    /// the query rows at or after its first key.
    fn sub_gemms(&self, s: &PelabSetup, op: &PelabOp) -> Result<Vec<(u64, u64, u64)>> {
        let df = s.dataflow;
        let (m, k, n) = match df {
            Dataflow::Os => (op.cout, op.cin, op.tok),
            Dataflow::Ws | Dataflow::Is => (op.tok, op.cin, op.cout),
        };
        let Some((g, t)) = op.causal else {
            return Ok(vec![(m, k, n)]);
        };
        let (rows, cols) = (s.array.rows, s.array.cols);
        let qk = op.role == Role::AttnQk;
        let q_rows = op.tok;
        let by_query = |width: u64, f: &dyn Fn(u64, u64) -> (u64, u64, u64)| {
            let chunks = q_rows.div_ceil(width);
            if chunks > MAX_CHUNKS {
                return Err(too_many(chunks));
            }
            Ok((0..chunks)
                .map(|j| {
                    let r0 = j * width;
                    let r1 = (r0 + width).min(q_rows);
                    f(r1 - r0, (r1 - 1) / g + 1)
                })
                .collect::<Vec<_>>())
        };
        let by_key = |width: u64, f: &dyn Fn(u64, u64) -> (u64, u64, u64)| {
            let chunks = t.div_ceil(width);
            if chunks > MAX_CHUNKS {
                return Err(too_many(chunks));
            }
            Ok((0..chunks)
                .map(|j| {
                    let k0 = j * width;
                    let k1 = (k0 + width).min(t);
                    f(k1 - k0, g * (t - k0))
                })
                .collect::<Vec<_>>())
        };
        match (df, qk) {
            // N = query rows, tiled by cols; a chunk needs `keys` keys.
            (Dataflow::Os, true) => by_query(cols, &|w, keys| (keys, op.cin, w)),
            (Dataflow::Os, false) => by_query(cols, &|w, keys| (op.cout, keys, w)),
            // M = query rows, tiled by cols.
            (Dataflow::Is, true) => by_query(cols, &|w, keys| (w, op.cin, keys)),
            (Dataflow::Is, false) => by_query(cols, &|w, keys| (w, keys, op.cout)),
            // M = query rows is streamed: cut the keys (N by cols, or K by rows·dp).
            (Dataflow::Ws, true) => by_key(cols, &|w, q| (q, op.cin, w)),
            (Dataflow::Ws, false) => by_key(mul(rows, self.config.dp)?, &|w, q| (q, w, op.cout)),
        }
    }

    /// One op by itself: timing, bytes, SRAM traffic and the energies that do not depend on
    /// its neighbours.
    pub fn core(&self, s: &PelabSetup, op: &PelabOp, o: &Options) -> Result<OpCore> {
        let c = &self.config;
        let m = &c.memory;
        let unit = m.sram_write_bits;
        let act_bytes = c.act_bits.div_ceil(8);
        let kv = Exact::int(i128::from(c.kv_bits));
        let mut r = OpCore {
            op: op.clone(),
            gemm: None,
            chunks: 0,
            folds: 0,
            cycles_per_fold: 0,
            compute_cycles: 0,
            active_pe_cycles: 0,
            w_bytes: 0,
            i_bytes: 0,
            o_bytes: 0,
            fw: 1,
            fi: 1,
            dram_bytes: 0,
            dram_cycles: 0,
            kv_read_bytes: 0,
            kv_write_bytes: 0,
            weight_reads: 0,
            input_reads: 0,
            psum_read_words: 0,
            n_w: 0,
            n_i: 0,
            n_o: 0,
            psum_write_words: 0,
            e_pe: Exact::default(),
            e_rd: Exact::default(),
            e_wr: Exact::default(),
            e_dram: Exact::default(),
        };
        if op.role == Role::KvWrite {
            let Rows::Uniform { rows, len } = op.output else {
                unreachable!("kv_write rows are uniform")
            };
            r.o_bytes = mul(ceil_scaled(len, kv, 8)?, rows)?;
            r.kv_write_bytes = r.o_bytes;
            r.dram_bytes = r.o_bytes;
            r.dram_cycles = r.dram_bytes / m.dram_bytes_per_cycle;
            r.e_dram = m.dram_pj_per_byte.checked_mul_int(r.dram_bytes)?;
            return Ok(r);
        }
        let (b, pe) = match op.role {
            Role::Linear => (s.w, s.linear_pe),
            _ => (kv, s.attention_pe),
        };
        // Bytes and refetch, as bitmod-hpca25.
        r.w_bytes = mul(ceil_scaled(op.cin, b, 8)?, op.cout)?;
        r.i_bytes = mul(act_bytes, op.input.elems()?)?;
        r.o_bytes = mul(act_bytes, op.output.elems()?)?;
        let (sw, si) = (m.weight_sram_bytes, m.input_sram_bytes);
        (r.fw, r.fi) = if r.w_bytes > sw && r.i_bytes > si {
            let n_in = r.w_bytes.div_ceil(sw);
            let n_w = r.i_bytes.div_ceil(si);
            if add(mul(n_w, r.w_bytes)?, r.i_bytes)? < add(mul(n_in, r.i_bytes)?, r.w_bytes)? {
                (n_w, 1)
            } else {
                (1, n_in)
            }
        } else {
            (1, 1)
        };
        r.dram_bytes = add(
            add(mul(r.w_bytes, r.fw)?, mul(r.i_bytes, r.fi)?)?,
            r.o_bytes,
        )?;
        r.dram_cycles = r.dram_bytes / m.dram_bytes_per_cycle;
        if matches!(op.role, Role::AttnQk | Role::AttnSv) {
            r.kv_read_bytes = mul(r.w_bytes, r.fw)?;
        }
        // Timing.
        let df = s.dataflow;
        let (rows, cols) = (s.array.rows, s.array.cols);
        let dims = ArrayDims {
            rows: usize::try_from(rows).map_err(|_| ovf("rows"))?,
            cols: usize::try_from(cols).map_err(|_| ovf("cols"))?,
        };
        let d = c.dp;
        let subs = self.sub_gemms(s, op)?;
        let (gm, gk, gn) = match df {
            Dataflow::Os => (op.cout, op.cin, op.tok),
            Dataflow::Ws | Dataflow::Is => (op.tok, op.cin, op.cout),
        };
        r.gemm = Some(GemmMap {
            m: gm,
            k: gk,
            n: gn,
            lanes: d,
            step_cycles: pe.step_cycles,
        });
        let mut sum = 0u64;
        let mut drain = 0u64;
        let mut outputs = 0u64;
        for (i, &(sm, sk, sn)) in subs.iter().enumerate() {
            let to_usize = |v: u64| usize::try_from(v).map_err(|_| ovf("a GEMM dimension"));
            let gemm = GemmDims {
                m: to_usize(sm)?,
                k: to_usize(sk)?,
                n: to_usize(sn)?,
            };
            let t = timing_with(df, dims, gemm, &pe).map_err(|e| {
                Error::new(format!(
                    "accelerator `{}`, {} array {rows}x{cols}, op `{}` ({} GEMM {sm}x{sk}x{sn}): \
                     {e}",
                    c.id,
                    s.task.name(),
                    op.name,
                    df.name()
                ))
            })?;
            if i == 0 {
                r.cycles_per_fold = t.cycles_per_fold;
            }
            r.folds = add(r.folds, t.folds)?;
            sum = add(sum, t.cycles + 1)?;
            drain = t.total_cycles - t.cycles - 1;
            r.active_pe_cycles = add(r.active_pe_cycles, mul(t.steps, pe.step_cycles)?)?;
            let (rd, cd) = (mul(rows, d)?, mul(cols, d)?);
            let (w_acc, i_acc) = match df {
                Dataflow::Os => (t.sram.a_reads / rd, t.sram.b_reads / cd),
                Dataflow::Ws => (t.sram.b_reads / cd, t.sram.a_reads / rd),
                Dataflow::Is => (t.sram.b_reads / rd, t.sram.a_reads / cd),
            };
            r.weight_reads = add(r.weight_reads, w_acc)?;
            r.input_reads = add(r.input_reads, i_acc)?;
            let mn = mul(sm, sn)?;
            outputs = add(outputs, mn)?;
            r.psum_write_words = add(r.psum_write_words, t.sram.c_writes - mn)?;
            r.psum_read_words = add(r.psum_read_words, t.sram.c_reads)?;
        }
        r.chunks = subs.len() as u64;
        r.compute_cycles = add(sum, drain)?;
        if df == Dataflow::Ws && op.role == Role::AttnSv && op.causal.is_some() {
            // Chunks of keys chain partial sums: every chunk's outputs but the last per row
            // are written and read back.
            let extra = outputs - op.output.elems()?;
            r.psum_write_words = add(r.psum_write_words, extra)?;
            r.psum_read_words = add(r.psum_read_words, extra)?;
        }
        // Partial sums counted in elements so far: as words.
        let words = |n: u64| mul(n, PSUM_BITS).map(|b| b.div_ceil(unit));
        r.psum_write_words = words(r.psum_write_words)?;
        r.psum_read_words = words(r.psum_read_words)?;
        // SRAM writes: what arrives from DRAM, and the outputs.
        r.n_w = mul(mul(ceil_scaled(op.cin, b, unit)?, op.cout)?, r.fw)?;
        r.n_i = mul(op.input.words(c.act_bits, unit)?, r.fi)?;
        r.n_o = op.output.words(c.act_bits, unit)?;
        // Energies.
        let pes = mul(rows, cols)?;
        let pj = self.pe_energy.pj_per_pe_cycle;
        r.e_pe = match o.charge {
            Charge::All => pj.checked_mul_int(mul(pes, r.compute_cycles)?)?,
            Charge::Active => pj.checked_mul_int(r.active_pe_cycles)?,
        };
        let (wp, ip) = (&s.weight_port, &s.input_port);
        r.e_rd = wp
            .read_pj
            .checked_mul_int(r.weight_reads)?
            .checked_add(ip.read_pj.checked_mul_int(r.input_reads)?)?
            .checked_add(ip.read_word_pj.checked_mul_int(r.psum_read_words)?)?;
        r.e_wr = wp.write_word_pj.checked_mul_int(r.n_w)?.checked_add(
            ip.write_word_pj
                .checked_mul_int(add(add(r.n_i, r.n_o)?, r.psum_write_words)?)?,
        )?;
        r.e_dram = m.dram_pj_per_byte.checked_mul_int(r.dram_bytes)?;
        Ok(r)
    }

    /// The energy figures of a run: PE energy, SRAM leakage and the clock.
    pub fn figures(&self) -> EnergyFigures {
        EnergyFigures {
            pe: self.pe_energy.clone(),
            sram_leakage_nw: self.config.sram_leakage.clone(),
            clock: self.config.clock.clone(),
        }
    }

    /// The workload's op list of `scenario` through the accelerator with options `o`.
    pub fn run(&self, workload: &Workload, sc: Scenario, o: &Options) -> Result<PelabRun> {
        let setup = self.setup(sc.task, workload.id(), o)?;
        let list = ops(workload, sc, o.causal)?;
        let mut index: HashMap<&PelabOp, usize> = HashMap::new();
        let mut cores: Vec<OpCore> = Vec::new();
        let mut seq = Vec::with_capacity(list.len());
        for op in &list {
            let i = match index.get(op) {
                Some(&i) => i,
                None => {
                    cores.push(self.core(&setup, op, o)?);
                    index.insert(op, cores.len() - 1);
                    cores.len() - 1
                }
            };
            seq.push(i);
        }
        let figures = self.figures();
        let pes = mul(setup.array.rows, setup.array.cols)?;
        // pJ per cycle of leakage: P[nW] / (1000 · f[MHz]).
        let per_cycle = |p: Exact| -> Result<Exact> {
            let f = figures.clock.mhz.checked_mul_int(1000)?;
            Ok(Exact(p.0 / f.0))
        };
        let pe_leak = figures
            .pe
            .leakage_nw_per_pe
            .value()
            .map(|p| per_cycle(p.checked_mul_int(pes)?))
            .transpose()?;
        let sram_leak = figures
            .sram_leakage_nw
            .value()
            .map(|p| per_cycle(p.checked_mul_int(SRAMS)?))
            .transpose()?;
        let idle_pj = figures.pe.idle_pj_per_pe_cycle.value();
        let zero = Exact::default();
        let mut totals = PelabTotals {
            energy: Energy {
                leakage_pe: pe_leak.map(|_| zero),
                leakage_sram: sram_leak.map(|_| zero),
                stall: idle_pj.map(|_| zero),
                ..Energy::default()
            },
            ..PelabTotals::default()
        };
        let n = seq.len();
        let mut out = Vec::with_capacity(n);
        for (j, &i) in seq.iter().enumerate() {
            let k = &cores[i];
            let next_d = seq.get(j + 1).map_or(0, |&x| cores[x].dram_cycles);
            let (time, dram_side) = match o.overlap {
                Overlap::None => (k.compute_cycles.max(k.dram_cycles), k.dram_cycles),
                Overlap::DoubleBuffer => {
                    let stage = k.compute_cycles.max(next_d);
                    let prologue = if j == 0 { k.dram_cycles } else { 0 };
                    (add(stage, prologue)?, next_d)
                }
                Overlap::Serial => (add(k.compute_cycles, k.dram_cycles)?, k.dram_cycles),
            };
            let stall_cycles = time - k.compute_cycles;
            let bound = if dram_side > k.compute_cycles || stall_cycles > 0 {
                Bound::Dram
            } else {
                Bound::Compute
            };
            let idle_pe_cycles = match o.charge {
                Charge::All => mul(pes, stall_cycles)?,
                Charge::Active => mul(pes, time)? - k.active_pe_cycles,
            };
            let energy = Energy {
                pe: k.e_pe,
                sram_read: k.e_rd,
                sram_write: k.e_wr,
                dram: k.e_dram,
                leakage_pe: pe_leak.map(|e| e.checked_mul_int(time)).transpose()?,
                leakage_sram: sram_leak.map(|e| e.checked_mul_int(time)).transpose()?,
                stall: idle_pj
                    .map(|e| e.checked_mul_int(idle_pe_cycles))
                    .transpose()?,
            };
            let t = &mut totals;
            t.cycles = add(t.cycles, time)?;
            t.compute_cycles = add(t.compute_cycles, k.compute_cycles)?;
            t.dram_cycles = add(t.dram_cycles, k.dram_cycles)?;
            t.stall_cycles = add(t.stall_cycles, stall_cycles)?;
            t.macs = add(t.macs, k.op.macs)?;
            t.pe_cycles = add(t.pe_cycles, mul(pes, k.compute_cycles)?)?;
            t.active_pe_cycles = add(t.active_pe_cycles, k.active_pe_cycles)?;
            t.idle_pe_cycles = add(t.idle_pe_cycles, idle_pe_cycles)?;
            t.dram_bytes = add(t.dram_bytes, k.dram_bytes)?;
            t.kv_read_bytes = add(t.kv_read_bytes, k.kv_read_bytes)?;
            t.kv_write_bytes = add(t.kv_write_bytes, k.kv_write_bytes)?;
            t.energy = t.energy.checked_add(&energy)?;
            out.push(OpInstance {
                core: i,
                time,
                stall_cycles,
                idle_pe_cycles,
                bound,
                energy,
            });
        }
        Ok(PelabRun {
            accelerator: self.config.id.clone(),
            model: workload.id().to_string(),
            scenario: sc,
            options: *o,
            setup,
            figures,
            cores,
            ops: out,
            totals,
        })
    }
}

impl PelabSetup {
    /// PEs in the array.
    pub fn pes(&self) -> u64 {
        self.array.rows.saturating_mul(self.array.cols)
    }
}

fn too_many(chunks: u64) -> Error {
    Error::new(format!(
        "--causal: the context splits one attention op into {chunks} chunks (at most \
         {MAX_CHUNKS}); use a shorter --context"
    ))
}

/// The message for an unknown accelerator, listing the valid ones.
pub fn unknown_accel(id: &str, valid: &[&str]) -> Error {
    Error::new(format!(
        "--accel: unknown value `{id}` (expected one of: {})",
        valid.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

type Bad = (String, String);

fn positive(path: &str, v: u64) -> std::result::Result<(), Bad> {
    if v == 0 {
        return Err((path.into(), "must be positive (got 0)".into()));
    }
    Ok(())
}

fn text(path: &str, s: &str) -> std::result::Result<(), Bad> {
    if s.trim().is_empty() {
        return Err((path.into(), "must not be empty".into()));
    }
    Ok(())
}

/// Checks the parts a `pelab` and a `bitmod-hpca25` configuration share: arrays, dp, the
/// latency rule, activation bits, precisions and memories. The error is (path, message).
pub fn check_common(
    array: &PerTask<ArrayShape>,
    dp: u64,
    latency: &Latency,
    act_bits: u64,
    precision: &PerTask<Precisions>,
    memory: &Memory,
) -> std::result::Result<(), Bad> {
    for task in Task::ALL {
        let a = array.get(task);
        positive(&format!("array.{}.rows", task.name()), a.rows)?;
        positive(&format!("array.{}.cols", task.name()), a.cols)?;
        let p = precision.get(task);
        let base = format!("precision.{}", task.name());
        if !p.default.is_positive() {
            return Err((format!("{base}.default"), "must be positive".into()));
        }
        for (k, w) in &p.models {
            if !w.is_positive() {
                return Err((format!("{base}.models.{k}"), "must be positive".into()));
            }
        }
    }
    positive("dp", dp)?;
    positive("act_bits", act_bits)?;
    if let Latency::WeightSerial { bits_per_cycle } = latency {
        positive("latency.bits_per_cycle", *bits_per_cycle)?;
    }
    let m = memory;
    positive("memory.weight_sram_bytes", m.weight_sram_bytes)?;
    positive("memory.input_sram_bytes", m.input_sram_bytes)?;
    positive("memory.sram_banks", m.sram_banks)?;
    positive("memory.sram_write_bits", m.sram_write_bits)?;
    positive("memory.dram_bytes_per_cycle", m.dram_bytes_per_cycle)?;
    if m.dram_pj_per_byte.0 < Exact::default().0 {
        return Err((
            "memory.dram_pj_per_byte".into(),
            "must not be negative".into(),
        ));
    }
    if m.cacti.is_empty() {
        return Err(("memory.cacti".into(), "must list at least one SRAM".into()));
    }
    for (i, e) in m.cacti.iter().enumerate() {
        positive(&format!("memory.cacti[{i}].rw_bits"), e.rw_bits)?;
        for (k, v) in [
            ("read_nj_per_bank", e.read_nj_per_bank),
            ("write_nj_per_bank", e.write_nj_per_bank),
            ("area_mm2", e.area_mm2),
        ] {
            if v.0 < Exact::default().0 {
                return Err((
                    format!("memory.cacti[{i}].{k}"),
                    "must not be negative".into(),
                ));
            }
        }
    }
    Ok(())
}

fn check_stated(path: &str, s: &Stated) -> std::result::Result<(), Bad> {
    match s {
        Stated::Figure { value, source } => {
            if value.0 < Exact::default().0 {
                return Err((
                    format!("{path}.figure.value"),
                    "must not be negative".into(),
                ));
            }
            text(&format!("{path}.figure.source"), source)
        }
        Stated::NotModelled(why) => text(&format!("{path}.not_modelled"), why),
    }
}

/// Checks a `pelab` configuration: positive sizes, precisions and clock, sources stated,
/// `gate_pe` one of [`GATE_PES`]. The error is (path in the file, message).
pub fn check(c: &PelabConfig) -> std::result::Result<(), Bad> {
    text("id", &c.id)?;
    check_common(
        &c.array,
        c.dp,
        &c.latency,
        c.act_bits,
        &c.precision,
        &c.memory,
    )?;
    positive("kv_bits", c.kv_bits)?;
    if let Some(g) = c.group {
        positive("group.weights", g.weights)?;
    }
    if !c.clock.mhz.is_positive() {
        return Err(("clock.mhz".into(), "must be positive".into()));
    }
    text("clock.source", &c.clock.source)?;
    if let Some(a) = &c.artifact_pe_energy {
        if a.pj_per_cycle.0 < Exact::default().0 {
            return Err((
                "artifact_pe_energy.pj_per_cycle".into(),
                "must not be negative".into(),
            ));
        }
        if !a.scaling.is_positive() {
            return Err((
                "artifact_pe_energy.scaling".into(),
                "must be positive".into(),
            ));
        }
        text("artifact_pe_energy.source", &a.source)?;
    }
    if let Some(g) = &c.gate_pe {
        if !GATE_PES.contains(&g.as_str()) {
            return Err((
                "gate_pe".into(),
                format!(
                    "unknown PE `{g}` (expected one of: {})",
                    GATE_PES.join(", ")
                ),
            ));
        }
    }
    check_stated("pe_idle", &c.pe_idle)?;
    check_stated("pe_leakage", &c.pe_leakage)?;
    check_stated("sram_leakage", &c.sram_leakage)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Accelerator files
// ---------------------------------------------------------------------------------------------

/// The TOML text of a configuration (what `--print-accel` prints and `--accel-file` reads).
pub fn to_toml<T: Serialize>(v: &T) -> Result<String> {
    toml::to_string(v).map_err(|e| Error::new(format!("TOML: {e}")))
}

/// CSV text of `records` (the first is the header).
pub fn csv_text(records: &[Vec<String>]) -> Result<String> {
    let err = |e: &dyn std::fmt::Display| Error::new(format!("CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(r).map_err(|e| err(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| err(&e))?;
    String::from_utf8(bytes).map_err(|e| err(&e))
}

/// Reads a `.toml` or `.json` accelerator file into `T` (its serde form). Every error names
/// the file, line and column: syntax, unknown or repeated keys, wrong types, missing fields.
pub fn read_file<T: DeserializeOwned>(path: &Path) -> Result<(T, Doc)> {
    let format = Format::of_path(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{}: cannot read: {e}", path.display())))?;
    parse_text(&path.display().to_string(), &text, format)
}

/// [`read_file`] on `text`, naming it `file` in messages.
pub fn parse_text<T: DeserializeOwned>(file: &str, text: &str, format: Format) -> Result<(T, Doc)> {
    let doc = Doc::parse(file, text, format)?;
    let v = de::from_item::<T>(&doc.root).map_err(|e| match e.at {
        Some((pos, path)) if !path.is_empty() => doc.err(pos, format!("`{path}`: {}", e.msg)),
        Some((pos, _)) => doc.err(pos, e.msg),
        None => Error::new(format!("{file}: {}", e.msg)),
    })?;
    Ok((v, doc))
}

/// The position of the value at `path` (`memory.cacti[2].rw_bits`) in `doc`, or of the
/// deepest table on the way.
pub fn position_of(doc: &Doc, path: &str) -> Pos {
    let mut item: &Item = &doc.root;
    for seg in path.split('.') {
        let (key, idx) = match seg.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        let Value::Table(entries) = &item.value else {
            break;
        };
        let Some((_, next)) = entries.iter().find(|(k, _)| k == key) else {
            break;
        };
        item = next;
        if let Some(i) = idx {
            match &item.value {
                Value::Array(a) if i < a.len() => item = &a[i],
                _ => break,
            }
        }
    }
    item.pos
}

impl PelabConfig {
    /// Reads and checks an accelerator file (errors at `file:line:col`).
    pub fn from_file(path: &Path) -> Result<PelabConfig> {
        let (c, doc): (PelabConfig, Doc) = read_file(path)?;
        check(&c).map_err(|(p, msg)| doc.err(position_of(&doc, &p), format!("`{p}`: {msg}")))?;
        Ok(c)
    }

    /// [`PelabConfig::from_file`] on `text`.
    pub fn parse(file: &str, text: &str, format: Format) -> Result<PelabConfig> {
        let (c, doc): (PelabConfig, Doc) = parse_text(file, text, format)?;
        check(&c).map_err(|(p, msg)| doc.err(position_of(&doc, &p), format!("`{p}`: {msg}")))?;
        Ok(c)
    }
}

/// Reads and checks a `bitmod-hpca25` accelerator file (errors at `file:line:col`).
pub fn hpca25_from_file(path: &Path) -> Result<AccelConfig> {
    let (c, doc): (AccelConfig, Doc) = read_file(path)?;
    check_common(
        &c.array,
        c.dp,
        &c.latency,
        c.act_bits,
        &c.precision,
        &c.memory,
    )
    .map_err(|(p, msg)| doc.err(position_of(&doc, &p), format!("`{p}`: {msg}")))?;
    hpca25::Accelerator::new(c.clone())
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    Ok(c)
}

/// A serde deserializer over the positioned tree of [`super::source`]: errors carry the
/// line, column and key path of the innermost value concerned; unknown and repeated keys of
/// structs are refused.
mod de {
    use super::super::source::{Item, Pos, Value};
    use serde::de::value::BorrowedStrDeserializer;
    use serde::de::{
        self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess,
        SeqAccess, VariantAccess, Visitor,
    };
    use std::fmt;

    /// A message and, once known, where.
    #[derive(Debug)]
    pub struct DeError {
        pub msg: String,
        pub at: Option<(Pos, String)>,
    }

    impl DeError {
        fn at(mut self, pos: Pos, path: &str) -> Self {
            if self.at.is_none() {
                self.at = Some((pos, path.to_string()));
            }
            self
        }
    }

    impl fmt::Display for DeError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.msg)
        }
    }

    impl std::error::Error for DeError {}

    impl de::Error for DeError {
        fn custom<T: fmt::Display>(msg: T) -> Self {
            DeError {
                msg: msg.to_string(),
                at: None,
            }
        }
    }

    pub fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, DeError> {
        T::deserialize(ItemDe {
            item,
            path: String::new(),
        })
    }

    /// Integer methods that refuse a number with a fraction, then read as any value.
    macro_rules! integers {
        ($($m:ident)*) => {
            $(
                fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
                    if let Value::Float(s) = &self.item.value {
                        let r = Err(de::Error::custom(format!(
                            "expected an integer, found the number {s}"
                        )));
                        return self.here(r);
                    }
                    self.deserialize_any(v)
                }
            )*
        };
    }

    pub struct ItemDe<'a> {
        item: &'a Item,
        path: String,
    }

    impl<'a> ItemDe<'a> {
        fn child_key(&self, key: &str, item: &'a Item) -> ItemDe<'a> {
            ItemDe {
                item,
                path: if self.path.is_empty() {
                    key.to_string()
                } else {
                    format!("{}.{key}", self.path)
                },
            }
        }

        fn child_index(&self, i: usize, item: &'a Item) -> ItemDe<'a> {
            ItemDe {
                item,
                path: format!("{}[{i}]", self.path),
            }
        }

        fn here<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
            r.map_err(|e| e.at(self.item.pos, &self.path))
        }
    }

    impl<'de> de::Deserializer<'de> for ItemDe<'de> {
        type Error = DeError;

        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let r = match &self.item.value {
                Value::Int(i) => {
                    if let Ok(x) = i64::try_from(*i) {
                        v.visit_i64(x)
                    } else if let Ok(x) = u64::try_from(*i) {
                        v.visit_u64(x)
                    } else {
                        v.visit_i128(*i)
                    }
                }
                // A number with a fraction goes as written, so that exact figures (`0.56`)
                // are read exactly; integer fields refuse it below.
                Value::Float(s) => v.visit_borrowed_str(s),
                Value::Str(s) => v.visit_borrowed_str(s),
                Value::Bool(b) => v.visit_bool(*b),
                Value::Array(items) => v.visit_seq(Seq {
                    parent: &self,
                    items: items.iter().enumerate(),
                }),
                Value::Table(entries) => v.visit_map(Map {
                    parent: &self,
                    entries: entries.iter(),
                    value: None,
                }),
                Value::Other(k) => Err(de::Error::custom(format!("unexpected {k}"))),
            };
            self.here(r)
        }

        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            match self.item.value {
                Value::Other("null") => v.visit_none(),
                _ => v.visit_some(self),
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            v: V,
        ) -> Result<V::Value, DeError> {
            v.visit_newtype_struct(self)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, DeError> {
            let Value::Table(entries) = &self.item.value else {
                let r = Err(de::Error::custom(format!(
                    "expected a table with keys {}, found {}",
                    fields.join(", "),
                    self.item.value.kind()
                )));
                return self.here(r);
            };
            for (i, (k, item)) in entries.iter().enumerate() {
                let child = self.child_key(k, item);
                if !fields.contains(&k.as_str()) {
                    return child.here(Err(de::Error::custom(format!(
                        "unknown key `{}` (expected one of: {})",
                        k.escape_debug(),
                        fields.join(", ")
                    ))));
                }
                if entries[..i].iter().any(|(k2, _)| k2 == k) {
                    return child.here(Err(de::Error::custom(format!("key `{k}` given twice"))));
                }
            }
            self.deserialize_any(v)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            variants: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, DeError> {
            let r = match &self.item.value {
                Value::Str(s) => v.visit_enum(s.as_str().into_deserializer()),
                Value::Table(entries) if entries.len() == 1 => {
                    let (k, item) = &entries[0];
                    let value = self.child_key(k, item);
                    v.visit_enum(Enum { key: k, value })
                }
                other => Err(de::Error::custom(format!(
                    "expected one of {} (a string, or a table with one of these keys), found {}",
                    variants.join(", "),
                    other.kind()
                ))),
            };
            self.here(r)
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            v.visit_unit()
        }

        integers! {
            deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
            deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        }

        serde::forward_to_deserialize_any! {
            bool f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
            map identifier
        }
    }

    struct Seq<'a, 'p> {
        parent: &'p ItemDe<'a>,
        items: std::iter::Enumerate<std::slice::Iter<'a, Item>>,
    }

    impl<'de> SeqAccess<'de> for Seq<'de, '_> {
        type Error = DeError;
        fn next_element_seed<T: DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>, DeError> {
            match self.items.next() {
                Some((i, item)) => seed.deserialize(self.parent.child_index(i, item)).map(Some),
                None => Ok(None),
            }
        }
    }

    struct Map<'a, 'p> {
        parent: &'p ItemDe<'a>,
        entries: std::slice::Iter<'a, (String, Item)>,
        value: Option<&'a (String, Item)>,
    }

    impl<'de> MapAccess<'de> for Map<'de, '_> {
        type Error = DeError;
        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, DeError> {
            match self.entries.next() {
                Some(e) => {
                    self.value = Some(e);
                    let child = self.parent.child_key(&e.0, &e.1);
                    let key = seed.deserialize(BorrowedStrDeserializer::<DeError>::new(&e.0));
                    child.here(key).map(Some)
                }
                None => Ok(None),
            }
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, DeError> {
            let e = self
                .value
                .take()
                .ok_or_else(|| de::Error::custom("a value without its key"))?;
            seed.deserialize(self.parent.child_key(&e.0, &e.1))
        }
    }

    struct Enum<'a> {
        key: &'a str,
        value: ItemDe<'a>,
    }

    impl<'de> EnumAccess<'de> for Enum<'de> {
        type Error = DeError;
        type Variant = ItemDe<'de>;
        fn variant_seed<V: DeserializeSeed<'de>>(
            self,
            seed: V,
        ) -> Result<(V::Value, ItemDe<'de>), DeError> {
            let v = seed.deserialize(BorrowedStrDeserializer::<DeError>::new(self.key));
            let v = self.value.here(v)?;
            Ok((v, self.value))
        }
    }

    impl<'de> VariantAccess<'de> for ItemDe<'de> {
        type Error = DeError;
        fn unit_variant(self) -> Result<(), DeError> {
            self.here(Err(de::Error::custom(
                "expected the variant's name as a string",
            )))
        }
        fn newtype_variant_seed<T: DeserializeSeed<'de>>(
            self,
            seed: T,
        ) -> Result<T::Value, DeError> {
            seed.deserialize(self)
        }
        fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
            de::Deserializer::deserialize_seq(self, v)
        }
        fn struct_variant<V: Visitor<'de>>(
            self,
            fields: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, DeError> {
            de::Deserializer::deserialize_struct(self, "", fields, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_sum_matches_the_loop() {
        for t in 0..40u128 {
            for (b, u) in [
                (16u128, 64u128),
                (8, 64),
                (12, 64),
                (5, 7),
                (64, 64),
                (100, 64),
            ] {
                let want: u128 = (1..=t).map(|n| (n * b).div_ceil(u)).sum();
                assert_eq!(floor_sum(t, u, b, b + u - 1), want, "t {t} b {b} u {u}");
            }
        }
    }
}
