//! `bitmod-hpca25`: the analytical accelerator model of BitMoD (Chen et al., HPCA 2025),
//! reproducing bit for bit the cycles and energies behind the paper's Figs. 7 and 8.
//!
//! Source: the artifact `abdelfattah-lab/BitMoD-HPCA-25` at commit 58d7bdb (`bitmod_sim/`:
//! `pe_array.py` for shapes and PE latency, `accelerator.py` for cycles, refetch and energy,
//! the `test_*.py` drivers for the configurations). An accelerator is an [`AccelConfig`]; the
//! five of the paper are [`presets`]. Counts are `u64`, energies exact rationals ([`Exact`],
//! pJ). `docs/accel.md` describes the model and its quirks.
//!
//! # Per op (cout, cin, cin_i, tok), array rows x cols, dot-product width dp, precision w
//!
//! 1. `tiles = ceil(cin/dp) · ceil(cout/rows) · ceil(tok/cols)` (padding is paid);
//! 2. `lat = ceil(floor(w)/2)` for a bit-serial PE, else 1; `C = tiles · lat`;
//! 3. bytes, with b = 16 for attention and b = w for linear ops: `W = ceil(cin·b/8)·cout`,
//!    `I = 2·cin_i·tok`, `O = 2·cout·tok`;
//! 4. refetch: if `W > S` and `I > S` (S = 524288 B), with `n_in = ceil(W/S)` and
//!    `n_w = ceil(I/S)`: `(fw, fi) = (n_w, 1)` if `n_w·W + I < n_in·I + W`, else
//!    `(1, n_in)`; otherwise `(1, 1)`;
//! 5. `D = floor((W·fw + I·fi + O)/32)` (a 128-bit DDR bus, 32 B per cycle);
//! 6. the op takes `max(C, D)` cycles.
//!
//! Energy (pJ): `E_pe = e_pe·1.5·rows·cols·C`; `E_rd = tiles·(R_w + R_i)` (full-port reads);
//! `E_wr = n_w·Wmin_w + (n_i + n_o)·Wmin_i` with `n_w = ceil(cin·w/64)·cout·fw`,
//! `n_i = ceil(cin_i·16/64)·tok·fi`, `n_o = ceil(cout·16/64)·tok` and `Wmin = W_full·64/bits`
//! (one 64-bit write); `E_dram = (W·fw + I·fi + O)·150`. The SRAM costs come from CACTI 7
//! (28 nm, one 64 KiB bank of eight, costs times eight).
//!
//! # Quirks (each reproduced on purpose; see `docs/accel.md`)
//!
//! 1. **Attention is non-physical** (see [`super::workload`]): heads are lumped, MACs are off
//!    by H, T/d or h·H vs T·h, K/V bytes scale with H·T or H.
//! 2. **BitMoD attention** runs at the weight-serial latency (2 or 3 cycles) with dp = 4,
//!    although K and V are FP16.
//! 3. **Two precisions for attention "weights"**: 16 bits in the DRAM bytes, the linear
//!    weight precision `w` in the SRAM-write count `n_w`.
//! 4. **Refetch** tests both operands strictly, re-streams the input on ties, re-streams a
//!    whole operand (no intra-op tiling), and one 524288 B capacity stands for both SRAMs.
//! 5. **No overlap**: an op costs `max(compute, DRAM)`; no prefetch, no fill or drain, no
//!    on-chip reuse between ops (every output round-trips through DRAM).
//! 6. **Rounding of cycles**: DRAM cycles are floored per op; compute is padded by
//!    per-dimension ceilings.
//! 7. **Weight-SRAM port width** uses `4·ceil(w/4)` bits per weight (4.0625 bits → 8); it
//!    affects energy only.
//! 8. **Energy omissions**: idle PEs are charged on every compute cycle, stalls and leakage
//!    are free, SRAM reads are counted per tile (not per cycle).
//! 9. **Reporting**: the artifact prints `round()` of each µJ figure; its notebooks hold the
//!    FP16 prefill row `floor()`ed. pelab reports `round()` (half to even, as Python) and
//!    floors only when comparing with that published row.
//! 10. **Precisions are hard-coded**: ANT's and OliVe's profiled average bit widths, BitMoD's
//!     6, 4 or 3 bits + 0.0625 (8 bits of metadata per 128-weight group).
//! 11. **CACTI** is not shipped with the artifact: the SRAM table here comes from CACTI 7
//!     (HewlettPackard/cacti 1ffd8df); another build may shift energies, never cycles.
//! 12. **Batch 1, context 256**, and decode never grows the context.

use super::exact::Exact;
use super::workload::{ModelShape, Op, OpKind, Scenario, Task, Workload, BUILTIN_IDS};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Decode steps of the paper's generative task (`20·decode + prefill`).
pub const GENERATIVE_DECODE_STEPS: u64 = 20;
/// The preset accelerators, in the paper's order of Table/Fig. 7.
pub const PRESET_IDS: [&str; 5] = ["fp16", "ant", "olive", "bitmod-lossless", "bitmod-lossy"];
/// The name of this timing and energy model.
pub const MODEL_NAME: &str = "bitmod-hpca25";
/// One line saying where every constant comes from.
pub const PROVENANCE: &str = "bitmod-hpca25: the BitMoD HPCA'25 artifact's analytical model \
(abdelfattah-lab/BitMoD-HPCA-25 @ 58d7bdb): artifact constants (arrays, PE energies and \
areas, precisions, DRAM 32 B/cycle and 150 pJ/B); SRAM energies from the CACTI 7 table in \
docs/accel.md (28 nm, itrs-hp, 8 banks of 64 KiB); the 1 GHz clock does not enter the model";

/// A value per task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerTask<T> {
    /// In prefill.
    pub prefill: T,
    /// In decode.
    pub decode: T,
}

impl<T> PerTask<T> {
    /// The value for `task`.
    pub fn get(&self, task: Task) -> &T {
        match task {
            Task::Prefill => &self.prefill,
            Task::Decode => &self.decode,
        }
    }
}

/// A PE array: rows tile `cout`, columns tile `tok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrayShape {
    /// Rows.
    pub rows: u64,
    /// Columns.
    pub cols: u64,
}

/// The PE latency rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Latency {
    /// One cycle per tile.
    One,
    /// `ceil(floor(w) / bits_per_cycle)` cycles per tile, `w` the linear-weight precision
    /// (also for attention ops: quirk 2).
    WeightSerial {
        /// Weight bits consumed per cycle (2 in BitMoD).
        bits_per_cycle: u64,
    },
}

/// Linear-weight precisions (bits) of one task: a default and per-model exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precisions {
    /// Bits per weight for models not listed.
    pub default: Exact,
    /// Bits per weight by model id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, Exact>,
}

impl Precisions {
    fn uniform(w: Exact) -> Self {
        Precisions {
            default: w,
            models: BTreeMap::new(),
        }
    }

    /// The precision for model `id`.
    pub fn of(&self, id: &str) -> Exact {
        *self.models.get(id).unwrap_or(&self.default)
    }
}

/// One CACTI run: a 64 KiB SRAM bank with an `rw_bits`-bit port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CactiEntry {
    /// Port width of the whole SRAM (bits).
    pub rw_bits: u64,
    /// CACTI block size (bytes).
    pub block_bytes: u64,
    /// Dynamic read energy of one bank (nJ).
    pub read_nj_per_bank: Exact,
    /// Dynamic write energy of one bank (nJ).
    pub write_nj_per_bank: Exact,
    /// Area of the whole SRAM, all banks (mm²).
    pub area_mm2: Exact,
}

/// SRAMs and DRAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Weight SRAM capacity (bytes), the refetch threshold for weights.
    pub weight_sram_bytes: u64,
    /// Input SRAM capacity (bytes), the refetch threshold for inputs.
    pub input_sram_bytes: u64,
    /// Banks per SRAM; one access touches all of them.
    pub sram_banks: u64,
    /// Bits of one SRAM write (the write count's unit).
    pub sram_write_bits: u64,
    /// DRAM bytes per cycle.
    pub dram_bytes_per_cycle: u64,
    /// DRAM energy per byte (pJ), reads and writes alike.
    pub dram_pj_per_byte: Exact,
    /// SRAM costs by port width.
    pub cacti: Vec<CactiEntry>,
}

/// An accelerator of the `bitmod-hpca25` model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccelConfig {
    /// Short id (`bitmod-lossy`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the PE is.
    pub pe: String,
    /// Array shape per task.
    pub array: PerTask<ArrayShape>,
    /// Dot-product width (`cin` is tiled by it).
    pub dp: u64,
    /// Whether the PE is weight-bit-serial (halves both SRAM port widths).
    pub bit_serial: bool,
    /// PE latency rule.
    pub latency: Latency,
    /// Activation bits (16: FP16).
    pub act_bits: u64,
    /// PE energy per cycle (pJ), pre-layout.
    pub e_pe_pj: Exact,
    /// Post-layout scaling of the PE energy (`PR_SCALING` = 1.5).
    pub pe_energy_scaling: Exact,
    /// PE area (µm²), pre-layout (printed only).
    pub pe_area_um2: Exact,
    /// Linear-weight precision per task and model.
    pub precision: PerTask<Precisions>,
    /// Memories.
    pub memory: Memory,
}

fn ex(text: &str) -> Exact {
    Exact::parse(text).expect("constant")
}

/// The CACTI 7 table of the artifact's SRAMs (one 64 KiB bank, 28 nm; `docs/accel.md`).
pub fn cacti_table() -> Vec<CactiEntry> {
    [
        (192, 8, "0.00832226", "0.0054148", "1.529144"),
        (256, 8, "0.0087616", "0.00646473", "1.48456"),
        (288, 8, "0.00907452", "0.0067649", "1.500336"),
        (384, 8, "0.0103538", "0.00800599", "1.590344"),
        (512, 8, "0.0115993", "0.0104192", "1.601896"),
        (576, 16, "0.013462", "0.0111679", "1.43136"),
        (1024, 16, "0.0173052", "0.0195113", "1.570672"),
    ]
    .into_iter()
    .map(|(rw_bits, block_bytes, r, w, a)| CactiEntry {
        rw_bits,
        block_bytes,
        read_nj_per_bank: ex(r),
        write_nj_per_bank: ex(w),
        area_mm2: ex(a),
    })
    .collect()
}

/// The artifact's memories: two 512 KiB SRAMs of 8 banks, 64-bit writes, DRAM at 32 B per
/// cycle and 150 pJ per byte.
pub fn artifact_memory() -> Memory {
    Memory {
        weight_sram_bytes: 524_288,
        input_sram_bytes: 524_288,
        sram_banks: 8,
        sram_write_bits: 64,
        dram_bytes_per_cycle: 32,
        dram_pj_per_byte: Exact::int(150),
        cacti: cacti_table(),
    }
}

/// The preset accelerator `id` (one of [`PRESET_IDS`]).
pub fn preset(id: &str) -> Option<AccelConfig> {
    let arr = |r, c| ArrayShape { rows: r, cols: c };
    let per_model = |d: &str, m: &[(&str, &str)]| Precisions {
        default: ex(d),
        models: m.iter().map(|(k, v)| (k.to_string(), ex(v))).collect(),
    };
    let base = |name: &str, pe: &str, p: ArrayShape, d: ArrayShape| AccelConfig {
        id: id.to_string(),
        name: name.to_string(),
        pe: pe.to_string(),
        array: PerTask {
            prefill: p,
            decode: d,
        },
        dp: 1,
        bit_serial: false,
        latency: Latency::One,
        act_bits: 16,
        e_pe_pj: ex("0.56"),
        pe_energy_scaling: ex("1.5"),
        pe_area_um2: ex("1318.6"),
        precision: PerTask {
            prefill: Precisions::uniform(Exact::int(16)),
            decode: Precisions::uniform(Exact::int(16)),
        },
        memory: artifact_memory(),
    };
    let bitmod = |name: &str, lat_note: &str, prefill: &str, decode: &str| AccelConfig {
        dp: 4,
        bit_serial: true,
        latency: Latency::WeightSerial { bits_per_cycle: 2 },
        pe_area_um2: ex("1507.7"),
        precision: PerTask {
            prefill: Precisions::uniform(ex(prefill)),
            decode: Precisions::uniform(ex(decode)),
        },
        ..base(
            name,
            &format!("4-lane weight-bit-serial dot product ({lat_note})"),
            arr(32, 32),
            arr(64, 16),
        )
    };
    Some(match id {
        "fp16" => AccelConfig {
            e_pe_pj: ex("0.77"),
            pe_area_um2: ex("1968.7"),
            ..base("FP16", "FP16 MAC", arr(32, 24), arr(64, 12))
        },
        "ant" => AccelConfig {
            precision: PerTask {
                prefill: Precisions::uniform(ex("5.5")),
                decode: per_model("5", &[("yi-6b", "5.25"), ("llama-3-8b", "4.5")]),
            },
            ..base("ANT", "FP16 x INT8 FMA", arr(32, 32), arr(64, 16))
        },
        "olive" => AccelConfig {
            e_pe_pj: ex("0.613"),
            precision: PerTask {
                prefill: Precisions::uniform(ex("4.5")),
                decode: per_model(
                    "3.75",
                    &[
                        ("opt-1.3b", "3.875"),
                        ("phi-2", "4"),
                        ("yi-6b", "4.25"),
                        ("llama-3-8b", "3.5"),
                    ],
                ),
            },
            ..base("OliVe", "FP16 x INT8 FMA", arr(36, 32), arr(72, 16))
        },
        "bitmod-lossless" => bitmod(
            "BitMoD (lossless)",
            "6-bit weights + metadata",
            "97/16",
            "97/16",
        ),
        "bitmod-lossy" => bitmod(
            "BitMoD (lossy)",
            "4-bit prefill, 3-bit decode weights + metadata",
            "65/16",
            "49/16",
        ),
        _ => return None,
    })
}

/// The five accelerators of the paper.
pub fn presets() -> Vec<AccelConfig> {
    PRESET_IDS
        .iter()
        .map(|id| preset(id).expect("preset id"))
        .collect()
}

/// Whether an op is limited by compute or by DRAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// `C >= D`.
    Compute,
    /// `D > C`.
    Dram,
}

/// An SRAM port and its CACTI costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// Port width (bits).
    pub bits: u64,
    /// Energy of one full-width read (pJ): per-bank read energy x banks.
    pub read_pj: Exact,
    /// Energy of one full-width write (pJ).
    pub write_full_pj: Exact,
    /// Energy of one `sram_write_bits` write (pJ): `write_full · write_bits / bits`.
    pub write_pj: Exact,
    /// Area of the SRAM (mm²).
    pub area_mm2: Exact,
}

/// What an accelerator uses for one task and model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setup {
    /// The task.
    pub task: Task,
    /// The array.
    pub array: ArrayShape,
    /// Linear-weight precision (bits).
    pub w: Exact,
    /// Cycles per tile.
    pub lat: u64,
    /// Weight SRAM port.
    pub weight_port: Port,
    /// Input SRAM port.
    pub input_port: Port,
}

/// One op through the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpResult {
    /// The op.
    pub op: Op,
    /// Bits per element of the weight operand in DRAM bytes: `w`, or 16 for attention.
    pub b: Exact,
    /// Tiles.
    pub tiles: u64,
    /// Compute cycles `C = tiles · lat`.
    pub compute_cycles: u64,
    /// Weight bytes `W`.
    pub w_bytes: u64,
    /// Input bytes `I`.
    pub i_bytes: u64,
    /// Output bytes `O`.
    pub o_bytes: u64,
    /// DRAM bytes moved: `W·fw + I·fi + O`.
    pub dram_bytes: u64,
    /// Weight fetches.
    pub fw: u64,
    /// Input fetches.
    pub fi: u64,
    /// DRAM cycles `D`.
    pub dram_cycles: u64,
    /// `max(C, D)`.
    pub cycles: u64,
    /// Which of the two it is.
    pub bound: Bound,
    /// Weight-SRAM writes.
    pub n_w: u64,
    /// Input-SRAM writes of inputs.
    pub n_i: u64,
    /// Input-SRAM writes of outputs.
    pub n_o: u64,
    /// PE energy (pJ).
    pub e_pe: Exact,
    /// SRAM read energy (pJ).
    pub e_rd: Exact,
    /// SRAM write energy (pJ).
    pub e_wr: Exact,
    /// DRAM energy (pJ).
    pub e_dram: Exact,
}

/// Sums over an op list (or a combination of op lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Totals {
    /// Latency: Σ max(C, D).
    pub cycles: u64,
    /// Σ C (feeds PE energy).
    pub compute_cycles: u64,
    /// Σ tiles (feeds SRAM-read energy).
    pub tiles: u64,
    /// Σ DRAM cycles.
    pub dram_cycles: u64,
    /// DRAM bytes moved.
    pub dram_bytes: u64,
    /// PE energy (pJ).
    pub e_pe: Exact,
    /// SRAM read energy (pJ).
    pub e_rd: Exact,
    /// SRAM write energy (pJ).
    pub e_wr: Exact,
    /// DRAM energy (pJ).
    pub e_dram: Exact,
}

impl Totals {
    /// PE + SRAM energy (pJ).
    pub fn on_chip_pj(&self) -> Exact {
        self.e_pe + self.e_rd + self.e_wr
    }

    /// On-chip + DRAM energy (pJ).
    pub fn total_pj(&self) -> Exact {
        self.on_chip_pj() + self.e_dram
    }

    /// On-chip energy (µJ), exact.
    pub fn on_chip_uj(&self) -> Exact {
        Exact(self.on_chip_pj().0 / 1_000_000)
    }

    /// Total energy (µJ), exact.
    pub fn total_uj(&self) -> Exact {
        Exact(self.total_pj().0 / 1_000_000)
    }

    /// (on-chip, total) µJ rounded as the artifact prints them: `round()`, half to even.
    pub fn rounded_uj(&self) -> (i128, i128) {
        (
            self.on_chip_uj().round_half_even(),
            self.total_uj().round_half_even(),
        )
    }

    /// `self + k · other`.
    pub fn add_scaled(&self, other: &Totals, k: u64) -> Result<Totals> {
        let f = |a: u64, b: u64| {
            b.checked_mul(k)
                .and_then(|b| a.checked_add(b))
                .ok_or_else(|| Error::new("cycle count overflows"))
        };
        let g = |a: Exact, b: Exact| b.checked_mul_int(k).and_then(|b| a.checked_add(b));
        Ok(Totals {
            cycles: f(self.cycles, other.cycles)?,
            compute_cycles: f(self.compute_cycles, other.compute_cycles)?,
            tiles: f(self.tiles, other.tiles)?,
            dram_cycles: f(self.dram_cycles, other.dram_cycles)?,
            dram_bytes: f(self.dram_bytes, other.dram_bytes)?,
            e_pe: g(self.e_pe, other.e_pe)?,
            e_rd: g(self.e_rd, other.e_rd)?,
            e_wr: g(self.e_wr, other.e_wr)?,
            e_dram: g(self.e_dram, other.e_dram)?,
        })
    }

    /// The paper's generative task: `steps · decode + prefill`.
    pub fn generative(prefill: &Totals, decode: &Totals, steps: u64) -> Result<Totals> {
        prefill.add_scaled(decode, steps)
    }
}

/// A workload's op list through an accelerator in one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Accelerator id.
    pub accelerator: String,
    /// Workload id.
    pub model: String,
    /// Scenario.
    pub scenario: Scenario,
    /// Array, precision, latency and ports used.
    pub setup: Setup,
    /// Every op, in order.
    pub ops: Vec<OpResult>,
    /// Sums.
    pub totals: Totals,
}

/// Area of an accelerator (printed only; it feeds nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    /// PE array: `pe_area · rows · cols` (µm² → mm²), without the 1.5 scaling.
    pub pe_array_mm2: Exact,
    /// Weight SRAM (mm², CACTI).
    pub weight_sram_mm2: Exact,
    /// Input SRAM (mm², CACTI).
    pub input_sram_mm2: Exact,
}

/// The error of a count that does not fit in 64 bits.
pub(crate) fn ovf(what: &str) -> Error {
    Error::new(format!(
        "{what} overflows 64 bits (the workload is too large)"
    ))
}

/// `a · b`, or an error on overflow.
pub(crate) fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b).ok_or_else(|| ovf("a count"))
}

/// `a + b`, or an error on overflow.
pub(crate) fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| ovf("a count"))
}

/// `ceil(n · w / unit)` for an exact `w >= 0`.
pub(crate) fn ceil_scaled(n: u64, w: Exact, unit: u64) -> Result<u64> {
    let (p, q) = (*w.0.numer(), *w.0.denom());
    let num = i128::from(n)
        .checked_mul(p)
        .ok_or_else(|| ovf("a byte count"))?;
    let den = q
        .checked_mul(i128::from(unit))
        .ok_or_else(|| ovf("a byte count"))?;
    let v = num.div_euclid(den) + i128::from(num.rem_euclid(den) != 0);
    u64::try_from(v).map_err(|_| ovf("a byte count"))
}

/// An accelerator of the `bitmod-hpca25` model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accelerator {
    /// Its configuration.
    pub config: AccelConfig,
}

impl Accelerator {
    /// Checks `config` (positive sizes and precisions, CACTI entries usable).
    pub fn new(config: AccelConfig) -> Result<Self> {
        let c = &config;
        let bad = |what: &str| Err(Error::new(format!("accelerator `{}`: {what}", c.id)));
        for task in Task::ALL {
            let a = c.array.get(task);
            if a.rows == 0 || a.cols == 0 {
                return bad(&format!(
                    "{} array: rows and cols must be positive",
                    task.name()
                ));
            }
            let p = c.precision.get(task);
            if !p.default.is_positive() || p.models.values().any(|w| !w.is_positive()) {
                return bad(&format!("{} precisions must be positive", task.name()));
            }
        }
        let m = &c.memory;
        if c.dp == 0 || c.act_bits == 0 {
            return bad("dp and act_bits must be positive");
        }
        if let Latency::WeightSerial { bits_per_cycle: 0 } = c.latency {
            return bad("bits_per_cycle must be positive");
        }
        if m.weight_sram_bytes == 0
            || m.input_sram_bytes == 0
            || m.sram_banks == 0
            || m.sram_write_bits == 0
            || m.dram_bytes_per_cycle == 0
        {
            return bad("SRAM sizes, banks, write bits and DRAM bytes per cycle must be positive");
        }
        if m.cacti.iter().any(|e| e.rw_bits == 0) {
            return bad("CACTI entries need a positive rw_bits");
        }
        Ok(Accelerator { config })
    }

    /// The preset `id` (one of [`PRESET_IDS`]).
    pub fn preset(id: &str) -> Option<Accelerator> {
        preset(id).map(|config| Accelerator { config })
    }

    /// The linear-weight precision for `task` and model `model_id`.
    pub fn precision(&self, task: Task, model_id: &str) -> Exact {
        self.config.precision.get(task).of(model_id)
    }

    fn port(&self, bits: u64) -> Result<Port> {
        let m = &self.config.memory;
        let e = m.cacti.iter().find(|e| e.rw_bits == bits).ok_or_else(|| {
            Error::new(format!(
                "accelerator `{}`: no CACTI entry for a {bits}-bit SRAM port (the table has {})",
                self.config.id,
                m.cacti
                    .iter()
                    .map(|e| e.rw_bits.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        // nJ per bank -> pJ for all banks.
        let scale = Exact::int(1000 * i128::from(m.sram_banks));
        let read_pj = e.read_nj_per_bank.checked_mul(scale)?;
        let write_full_pj = e.write_nj_per_bank.checked_mul(scale)?;
        let write_pj = Exact(write_full_pj.0 * i128::from(m.sram_write_bits) / i128::from(bits));
        Ok(Port {
            bits,
            read_pj,
            write_full_pj,
            write_pj,
            area_mm2: e.area_mm2,
        })
    }

    /// Array, precision, latency and SRAM ports for `task` on model `model_id`.
    ///
    /// Port widths: weight SRAM `dp·4·ceil(w/4)·rows` bits, input SRAM `dp·act_bits·cols`
    /// bits, both halved for a bit-serial PE (quirk 7: 4.0625-bit weights count as 8).
    pub fn setup(&self, task: Task, model_id: &str) -> Result<Setup> {
        let c = &self.config;
        let array = *c.array.get(task);
        let w = self.precision(task, model_id);
        let lat = match c.latency {
            Latency::One => 1,
            Latency::WeightSerial { bits_per_cycle } => u64::try_from(w.floor())
                .unwrap_or(0)
                .div_ceil(bits_per_cycle),
        }
        .max(1);
        let word = u64::try_from(w.ceil()).map_err(|_| ovf("the precision"))?;
        let div = if c.bit_serial { 2 } else { 1 };
        let wbits = mul(mul(mul(c.dp, 4)?, word.div_ceil(4))?, array.rows)? / div;
        let ibits = mul(mul(c.dp, c.act_bits)?, array.cols)? / div;
        Ok(Setup {
            task,
            array,
            w,
            lat,
            weight_port: self.port(wbits)?,
            input_port: self.port(ibits)?,
        })
    }

    /// One op with `setup` (cycles, bytes, refetch and energy of the module documentation).
    pub fn op(&self, s: &Setup, op: &Op) -> Result<OpResult> {
        let c = &self.config;
        let m = &c.memory;
        let (rows, cols) = (s.array.rows, s.array.cols);
        let tiles = mul(
            mul(op.cin.div_ceil(c.dp), op.cout.div_ceil(rows))?,
            op.tok.div_ceil(cols),
        )?;
        let compute_cycles = mul(tiles, s.lat)?;
        let act = Exact::int(i128::from(c.act_bits));
        let b = match op.kind {
            OpKind::Linear => s.w,
            OpKind::Attention => act,
        };
        let act_bytes = c.act_bits.div_ceil(8);
        let w_bytes = mul(ceil_scaled(op.cin, b, 8)?, op.cout)?;
        let i_bytes = mul(mul(act_bytes, op.cin_i)?, op.tok)?;
        let o_bytes = mul(mul(act_bytes, op.cout)?, op.tok)?;
        let (sw, si) = (m.weight_sram_bytes, m.input_sram_bytes);
        let (fw, fi) = if w_bytes > sw && i_bytes > si {
            let n_in = w_bytes.div_ceil(sw);
            let n_w = i_bytes.div_ceil(si);
            let restream_w = add(mul(n_w, w_bytes)?, i_bytes)?;
            let restream_i = add(mul(n_in, i_bytes)?, w_bytes)?;
            if restream_w < restream_i {
                (n_w, 1)
            } else {
                (1, n_in)
            }
        } else {
            (1, 1)
        };
        let dram_bytes = add(add(mul(w_bytes, fw)?, mul(i_bytes, fi)?)?, o_bytes)?;
        let dram_cycles = dram_bytes / m.dram_bytes_per_cycle;
        let (cycles, bound) = if dram_cycles > compute_cycles {
            (dram_cycles, Bound::Dram)
        } else {
            (compute_cycles, Bound::Compute)
        };
        let wb = m.sram_write_bits;
        let n_w = mul(mul(ceil_scaled(op.cin, s.w, wb)?, op.cout)?, fw)?;
        let n_i = mul(mul(ceil_scaled(op.cin_i, act, wb)?, op.tok)?, fi)?;
        let n_o = mul(ceil_scaled(op.cout, act, wb)?, op.tok)?;
        let pes = mul(rows, cols)?;
        let e_pe = c
            .e_pe_pj
            .checked_mul(c.pe_energy_scaling)?
            .checked_mul_int(pes)?
            .checked_mul_int(compute_cycles)?;
        let e_rd = s
            .weight_port
            .read_pj
            .checked_add(s.input_port.read_pj)?
            .checked_mul_int(tiles)?;
        let e_wr = s
            .weight_port
            .write_pj
            .checked_mul_int(n_w)?
            .checked_add(s.input_port.write_pj.checked_mul_int(add(n_i, n_o)?)?)?;
        let e_dram = m.dram_pj_per_byte.checked_mul_int(dram_bytes)?;
        Ok(OpResult {
            op: op.clone(),
            b,
            tiles,
            compute_cycles,
            w_bytes,
            i_bytes,
            o_bytes,
            dram_bytes,
            fw,
            fi,
            dram_cycles,
            cycles,
            bound,
            n_w,
            n_i,
            n_o,
            e_pe,
            e_rd,
            e_wr,
            e_dram,
        })
    }

    /// The workload's op list of `scenario` through the accelerator.
    pub fn run(&self, workload: &Workload, scenario: Scenario) -> Result<Run> {
        let setup = self.setup(scenario.task, workload.id())?;
        let ops = workload.ops(scenario)?;
        let mut results = Vec::with_capacity(ops.len());
        let mut t = Totals::default();
        for op in &ops {
            let r = self.op(&setup, op)?;
            t.cycles = add(t.cycles, r.cycles)?;
            t.compute_cycles = add(t.compute_cycles, r.compute_cycles)?;
            t.tiles = add(t.tiles, r.tiles)?;
            t.dram_cycles = add(t.dram_cycles, r.dram_cycles)?;
            t.dram_bytes = add(t.dram_bytes, r.dram_bytes)?;
            t.e_pe = t.e_pe.checked_add(r.e_pe)?;
            t.e_rd = t.e_rd.checked_add(r.e_rd)?;
            t.e_wr = t.e_wr.checked_add(r.e_wr)?;
            t.e_dram = t.e_dram.checked_add(r.e_dram)?;
            results.push(r);
        }
        Ok(Run {
            accelerator: self.config.id.clone(),
            model: workload.id().to_string(),
            scenario,
            setup,
            ops: results,
            totals: t,
        })
    }

    /// PE-array and SRAM areas for `task` on model `model_id` (printed only).
    pub fn area(&self, task: Task, model_id: &str) -> Result<Area> {
        let s = self.setup(task, model_id)?;
        let pes = mul(s.array.rows, s.array.cols)?;
        Ok(Area {
            pe_array_mm2: Exact(self.config.pe_area_um2.checked_mul_int(pes)?.0 / 1_000_000),
            weight_sram_mm2: s.weight_port.area_mm2,
            input_sram_mm2: s.input_port.area_mm2,
        })
    }
}

/// One row of the artifact's table: an accelerator, a model and a task, with the cycles and
/// the energies as the artifact prints them (`round()` of µJ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRow {
    /// Accelerator id.
    pub accelerator: String,
    /// Model id.
    pub model: String,
    /// `prefill` or `decode`.
    pub task: Task,
    /// Cycles.
    pub cycles: u64,
    /// On-chip energy (µJ, rounded half to even).
    pub energy_onchip_uj: i64,
    /// Total energy (µJ, rounded half to even).
    pub energy_total_uj: i64,
}

/// The 60 runs of the paper (5 accelerators x 6 models x {prefill, decode}), in
/// accelerator, model, task order.
pub fn artifact_runs() -> Result<Vec<Run>> {
    let mut out = Vec::with_capacity(60);
    for a in PRESET_IDS {
        let acc = Accelerator::preset(a).expect("preset");
        for m in BUILTIN_IDS {
            let w = Workload::Model(ModelShape::builtin(m).expect("built-in"));
            for task in Task::ALL {
                out.push(acc.run(&w, Scenario::new(task))?);
            }
        }
    }
    Ok(out)
}

impl ArtifactRow {
    /// The row of `run`.
    pub fn of(run: &Run) -> ArtifactRow {
        let (on, total) = run.totals.rounded_uj();
        ArtifactRow {
            accelerator: run.accelerator.clone(),
            model: run.model.clone(),
            task: run.scenario.task,
            cycles: run.totals.cycles,
            energy_onchip_uj: i64::try_from(on).unwrap_or(i64::MAX),
            energy_total_uj: i64::try_from(total).unwrap_or(i64::MAX),
        }
    }
}

/// The artifact's table: the 60 rows of [`artifact_runs`].
pub fn artifact_table() -> Result<Vec<ArtifactRow>> {
    Ok(artifact_runs()?.iter().map(ArtifactRow::of).collect())
}

/// The tasks as the paper's figures aggregate them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Prefill ("discriminative").
    Prefill,
    /// One decode step.
    Decode,
    /// `20·decode + prefill`.
    Generative,
}

impl Phase {
    /// All three.
    pub const ALL: [Phase; 3] = [Phase::Prefill, Phase::Decode, Phase::Generative];

    /// `prefill`, `decode` or `generative`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Prefill => "prefill",
            Phase::Decode => "decode",
            Phase::Generative => "generative",
        }
    }
}

fn row<'a>(rows: &'a [ArtifactRow], a: &str, m: &str, t: Task) -> Result<&'a ArtifactRow> {
    rows.iter()
        .find(|r| r.accelerator == a && r.model == m && r.task == t)
        .ok_or_else(|| Error::new(format!("no row for {a}, {m}, {}", t.name())))
}

/// Cycles of `phase` from the table's integers (generative: `20·decode + prefill`).
pub fn phase_cycles(rows: &[ArtifactRow], a: &str, m: &str, phase: Phase) -> Result<u64> {
    let p = row(rows, a, m, Task::Prefill)?.cycles;
    let d = row(rows, a, m, Task::Decode)?.cycles;
    Ok(match phase {
        Phase::Prefill => p,
        Phase::Decode => d,
        Phase::Generative => GENERATIVE_DECODE_STEPS * d + p,
    })
}

/// (on-chip, total) µJ of `phase` from the table's integers.
pub fn phase_energy(rows: &[ArtifactRow], a: &str, m: &str, phase: Phase) -> Result<(i64, i64)> {
    let p = row(rows, a, m, Task::Prefill)?;
    let d = row(rows, a, m, Task::Decode)?;
    let k = GENERATIVE_DECODE_STEPS as i64;
    Ok(match phase {
        Phase::Prefill => (p.energy_onchip_uj, p.energy_total_uj),
        Phase::Decode => (d.energy_onchip_uj, d.energy_total_uj),
        Phase::Generative => (
            k * d.energy_onchip_uj + p.energy_onchip_uj,
            k * d.energy_total_uj + p.energy_total_uj,
        ),
    })
}

/// Speedups of accelerator `a` over `base` per model (`cycles_base / cycles_a`), and the bar
/// the paper labels "Geo Mean", which is their **arithmetic** mean.
pub fn speedups(
    rows: &[ArtifactRow],
    base: &str,
    a: &str,
    phase: Phase,
) -> Result<(Vec<f64>, f64)> {
    let mut v = Vec::with_capacity(BUILTIN_IDS.len());
    for m in BUILTIN_IDS {
        v.push(
            phase_cycles(rows, base, m, phase)? as f64 / phase_cycles(rows, a, m, phase)? as f64,
        );
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Ok((v, mean))
}

/// Per-model (on-chip, total) normalized energies and their means.
pub type NormalizedEnergy = (Vec<(f64, f64)>, (f64, f64));

/// Energies of accelerator `a` normalized to the same model's FP16 **total** energy, per model
/// as (on-chip, total), and their arithmetic means.
pub fn normalized_energy(rows: &[ArtifactRow], a: &str, phase: Phase) -> Result<NormalizedEnergy> {
    let mut v = Vec::with_capacity(BUILTIN_IDS.len());
    for m in BUILTIN_IDS {
        let (_, base) = phase_energy(rows, "fp16", m, phase)?;
        let (on, total) = phase_energy(rows, a, m, phase)?;
        v.push((on as f64 / base as f64, total as f64 / base as f64));
    }
    let n = v.len() as f64;
    let mean = (
        v.iter().map(|x| x.0).sum::<f64>() / n,
        v.iter().map(|x| x.1).sum::<f64>() / n,
    );
    Ok((v, mean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_serialize() {
        for c in presets() {
            let a = Accelerator::new(c.clone()).unwrap();
            let text = serde_json::to_string(&a.config).unwrap();
            let back: AccelConfig = serde_json::from_str(&text).unwrap();
            assert_eq!(back, c);
            let t = toml::to_string(&a.config).unwrap();
            let back: AccelConfig = toml::from_str(&t).unwrap();
            assert_eq!(back, c);
        }
    }
}
