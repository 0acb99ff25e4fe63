//! Vectors of `bitmod` (the BitMoD PE, `docs/bitmod.md` sections 5 and 11): one row per clock
//! cycle.
//!
//! Columns: the module's inputs in port order (`RESET IN_VALID IN_LAST IN_TYPE IN_SCALE
//! IN_ACT0..3 IN_CODE0..3`), its outputs after that cycle's rising edge (`OUT_VALID OUT_EXP
//! OUT_MAN OUT_SPECIAL`) and a `CARE` mask, bit i for output i. An output is compared only
//! where the transaction defines it: from the first reset on, `out_valid`, `out_exp` and
//! `out_special` on every cycle (the last two hold the latest result, 0 after a reset), and
//! `out_man` whenever the dequantizer is not between its first and last step (it holds the
//! latest result, 0 after a reset); nothing before the first reset.
//!
//! A case is a short stream: a reset cycle, one or more groups (each beat held for its two
//! term cycles, idle cycles with random inputs inside and between groups, back-to-back groups
//! whose dequantizer overlaps the next group, hand-offs at least 8 cycles apart), now and then
//! a reset that drops a group or a result in flight, and idle cycles until the last result.
//!
//! The expected outputs come from a transaction model that reads only the input rows: it
//! tracks the beat phase, collects each group's beats, runs the group through the reference
//! model (`PeConfig::run_group`) at its hand-off and presents the result as section 5 times
//! it: in the outputs of the 8th row after the hand-off row (the dequantizer's last step).
//! Input streams the reference model cannot express (a beat that changes between its two term
//! cycles, a type select that changes within a group, a group of more than 128 weights) are
//! refused with an error.

use crate::codec::{Case, Field, Layout, PeVectors, Stage, Timing, Workload, WorkloadOps};
use pelab_hdl::RtlConfig;
use pelab_sim::bitmod::datapath::EXP_BITS;
use pelab_sim::bitmod::datatype::by_pe_select;
use pelab_sim::bitmod::{Datatype, PeConfig, LANES, MAX_GROUP};
use pelab_sim::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The `bitmod` vector codec.
pub struct BitModVectors;

/// Column indices of the inputs.
const RESET: usize = 0;
const VALID: usize = 1;
const LAST: usize = 2;
const TYPE: usize = 3;
const SCALE: usize = 4;
const ACT: usize = 5;
const CODE: usize = ACT + LANES;
/// Number of input columns.
const N_IN: usize = CODE + LANES;

/// `CARE` bits of the outputs, in output order.
const CARE_VALID: u64 = 1;
const CARE_EXP: u64 = 2;
const CARE_MAN: u64 = 4;
const CARE_SPECIAL: u64 = 8;
const CARE_ALL: u64 = CARE_VALID | CARE_EXP | CARE_MAN | CARE_SPECIAL;

/// Number of PE type selects (`{4-bit mode, variant[1:0]}`).
const SELECTS: u8 = 8;

fn pe() -> PeConfig {
    PeConfig::default()
}

fn check_config(cfg: &RtlConfig) -> Result<()> {
    pelab_hdl::rtl::validate(&pelab_hdl::pe::bitmod::BitModRtl, cfg)
}

/// The datatype of a type select.
fn dtype(sel: u8) -> &'static Datatype {
    by_pe_select(sel).expect("type selects 0..=7 are the eight BitMoD variants")
}

/// The code bits a type select uses (3-bit types ignore bit 3).
fn code_mask(sel: u64) -> u64 {
    if sel & 4 != 0 {
        0xF
    } else {
        0x7
    }
}

/// One beat as the datapath sees it: type select, activations and the used code bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Beat {
    sel: u8,
    acts: [u16; LANES],
    codes: [u8; LANES],
}

impl Beat {
    fn of(row: &[u64]) -> Beat {
        let sel = row[TYPE];
        Beat {
            sel: sel as u8,
            acts: std::array::from_fn(|l| row[ACT + l] as u16),
            codes: std::array::from_fn(|l| (row[CODE + l] & code_mask(sel)) as u8),
        }
    }
}

/// The PE's state as far as its outputs depend on it, rebuilt from the input rows.
#[derive(Debug, Default)]
struct Transaction {
    /// A reset has been seen: the state below is defined.
    known: bool,
    phase: bool,
    /// The beat of the phase-0 cycle, waiting for its phase-1 cycle.
    open: Option<Beat>,
    /// The beats of the group so far.
    beats: Vec<Beat>,
    /// Dequantizer steps left and the result it is computing.
    dequant: Option<(u32, u64, u64, bool)>,
    out_exp: u64,
    out_man: Option<u64>,
    out_special: bool,
}

impl Transaction {
    /// Applies one row (its rising edge) and returns the outputs after it with their care mask.
    fn clock(&mut self, i: usize, row: &[u64]) -> Result<(Vec<u64>, u64)> {
        let at = |msg: String| Error::new(format!("bitmod row {i}: {msg}"));
        if row.len() != N_IN {
            return Err(at(format!("{} inputs, expected {N_IN}", row.len())));
        }
        if row[RESET] == 1 {
            *self = Transaction {
                known: true,
                out_man: Some(0),
                ..Transaction::default()
            };
            return Ok((vec![0, 0, 0, 0], CARE_ALL));
        }
        if !self.known {
            return Ok((vec![0, 0, 0, 0], 0));
        }
        // The dequantizer step of this edge (the last one presents the result)...
        let mut valid = false;
        if let Some((left, exp, man, special)) = self.dequant {
            if left == 1 {
                valid = true;
                self.out_exp = exp;
                self.out_man = Some(man);
                self.out_special = special;
                self.dequant = None;
            } else {
                self.out_man = None;
                self.dequant = Some((left - 1, exp, man, special));
            }
        }
        // ...then the compute cycle, whose hand-off restarts the dequantizer.
        if row[VALID] == 1 {
            let beat = Beat::of(row);
            if !self.phase {
                self.open = Some(beat);
            } else {
                let first = self.open.take().expect("phase 1 follows a phase-0 cycle");
                if first != beat {
                    return Err(at(format!(
                        "the beat changed between its two term cycles ({first:X?} then \
                         {beat:X?}); a beat is held for both"
                    )));
                }
                if let Some(b) = self.beats.first() {
                    if b.sel != beat.sel {
                        return Err(at(format!(
                            "type select {} within a group of type select {}",
                            beat.sel, b.sel
                        )));
                    }
                }
                self.beats.push(beat);
                if self.beats.len() * LANES > MAX_GROUP {
                    return Err(at(format!(
                        "a group longer than {MAX_GROUP} weights ({} beats)",
                        self.beats.len()
                    )));
                }
                if row[LAST] == 1 {
                    let codes: Vec<u8> = self.beats.iter().flat_map(|b| b.codes).collect();
                    let acts: Vec<u16> = self.beats.iter().flat_map(|b| b.acts).collect();
                    let out = pe()
                        .run_group(dtype(beat.sel), &codes, &acts, row[SCALE] as u32)
                        .map_err(|e| at(e.to_string()))?;
                    let mask = (1u64 << pe().dequant_bits()) - 1;
                    self.dequant = Some((
                        pe().scale_bits,
                        out.exponent as u64,
                        out.mantissa as u64 & mask,
                        out.special,
                    ));
                    self.beats.clear();
                }
            }
            self.phase = !self.phase;
        }
        let outs = vec![
            valid as u64,
            self.out_exp,
            self.out_man.unwrap_or(0),
            self.out_special as u64,
        ];
        let care = CARE_VALID
            | CARE_EXP
            | CARE_SPECIAL
            | if self.out_man.is_some() { CARE_MAN } else { 0 };
        Ok((outs, care))
    }
}

/// A group as the producer sends it.
#[derive(Debug, Clone)]
struct Group {
    sel: u8,
    scale: u8,
    codes: Vec<u8>,
    acts: Vec<u16>,
}

impl Group {
    fn beats(&self) -> usize {
        self.codes.len().div_ceil(LANES)
    }
}

/// Builds a case row by row, keeping hand-offs at least `scale_bits` cycles apart.
struct Stream<'r> {
    rng: &'r mut ChaCha8Rng,
    rows: Vec<Vec<u64>>,
    last_handoff: Option<usize>,
    /// Idle and reset rows hold zeros instead of random inputs (energy workloads).
    quiet: bool,
}

impl<'r> Stream<'r> {
    /// A stream that starts with a reset cycle.
    fn new(rng: &'r mut ChaCha8Rng) -> Stream<'r> {
        Stream::starting(rng, false)
    }

    /// A stream whose idle and reset rows hold zeros, as a quiet bus would.
    fn quiet(rng: &'r mut ChaCha8Rng) -> Stream<'r> {
        Stream::starting(rng, true)
    }

    /// A stream that starts with a reset cycle, its idle and reset rows zeros when `quiet`.
    fn starting(rng: &'r mut ChaCha8Rng, quiet: bool) -> Stream<'r> {
        let mut s = Stream {
            rng,
            rows: Vec::new(),
            last_handoff: None,
            quiet,
        };
        s.reset();
        s
    }

    /// Random inputs with `in_valid = 0` (and `reset = 0`).
    fn idle_row(&mut self) -> Vec<u64> {
        if self.quiet {
            return vec![0; 5 + 2 * LANES];
        }
        let r = &mut *self.rng;
        let mut row = vec![
            0,
            0,
            r.gen_range(0..2),
            r.gen_range(0..8),
            r.gen_range(0..256),
        ];
        row.extend((0..LANES).map(|_| r.gen_range(0..=0xFFFFu64)));
        row.extend((0..LANES).map(|_| r.gen_range(0..16u64)));
        row
    }

    fn idle(&mut self, n: usize) {
        for _ in 0..n {
            let row = self.idle_row();
            self.rows.push(row);
        }
    }

    /// A reset cycle (the other inputs random: reset takes priority over them all).
    fn reset(&mut self) {
        let mut row = self.idle_row();
        row[RESET] = 1;
        row[VALID] = if self.quiet {
            0
        } else {
            self.rng.gen_range(0..2)
        };
        self.rows.push(row);
        self.last_handoff = None;
    }

    /// The row of compute cycle `j` of `g` (beat `j / 2`); 3-bit types get random bit 3.
    fn compute_row(&mut self, g: &Group, j: usize) -> Vec<u64> {
        let beat = j / 2;
        let mut row = vec![
            0,
            1,
            (beat + 1 == g.beats()) as u64,
            g.sel as u64,
            g.scale as u64,
        ];
        let lane = |l: usize| beat * LANES + l;
        row.extend((0..LANES).map(|l| g.acts.get(lane(l)).map_or(0, |&x| x as u64)));
        for l in 0..LANES {
            let code = g.codes.get(lane(l)).map_or(0, |&c| c as u64);
            let junk = if g.sel & 4 == 0 {
                self.rng.gen_range(0..2u64) << 3
            } else {
                0
            };
            row.push(code | junk);
        }
        row
    }

    /// Appends `g`: before each compute cycle but the first, 1 to 3 idle cycles with
    /// probability `idle_ratio`; idle cycles before the group when its hand-off would come
    /// less than `scale_bits` cycles after the previous one. With `stop_after`, the group is
    /// cut after that many compute cycles by a reset.
    fn push(&mut self, g: &Group, idle_ratio: f64, stop_after: Option<usize>) {
        let c = 2 * g.beats();
        let plan: Vec<usize> = (0..c)
            .map(|j| {
                if j > 0 && self.rng.gen_bool(idle_ratio) {
                    self.rng.gen_range(1..=3)
                } else {
                    0
                }
            })
            .collect();
        let handoff = self.rows.len() + c - 1 + plan.iter().sum::<usize>();
        let b = pe().scale_bits as usize;
        if let Some(h) = self.last_handoff {
            self.idle((h + b).saturating_sub(handoff));
        }
        for (j, &idles) in plan.iter().enumerate() {
            if stop_after == Some(j) {
                self.reset();
                return;
            }
            self.idle(idles);
            let row = self.compute_row(g, j);
            self.rows.push(row);
        }
        self.last_handoff = Some(self.rows.len() - 1);
    }

    /// Idle cycles until the last result has been presented, then `extra` more.
    fn finish(mut self, extra: usize) -> Case {
        if let Some(h) = self.last_handoff {
            let end = h + pe().scale_bits as usize + 1;
            let n = end.saturating_sub(self.rows.len());
            self.idle(n);
        }
        self.idle(extra);
        self.rows
    }
}

/// An FP16 code with a random sign and fraction and the exponent field `field`.
fn fp16(r: &mut ChaCha8Rng, field: u16) -> u16 {
    (r.gen::<u16>() & 0x8000) | field << 10 | (r.gen::<u16>() & 0x3FF)
}

/// The code holding the type's largest magnitude, and the sign of that value.
fn max_code(sel: u8) -> (u8, bool) {
    let d = dtype(sel);
    let c = (0..d.values.len())
        .max_by_key(|&c| d.values[c].abs())
        .expect("a type has codes");
    (c as u8, d.values[c] < 0)
}

/// A random group: a random type select, length (a third 128, some 1..=8), codes (the spare
/// code often), activations from one of seven distributions (around 1; the whole FP16 range
/// with subnormals; the extreme exponent fields 0, 1, 29, 30; one shared exponent; the
/// largest values with the largest weights; random bit patterns; sparse), a few Inf/NaN, and
/// a random scale (0, 1 and 255 often).
fn random_group(r: &mut ChaCha8Rng) -> Group {
    let sel = r.gen_range(0..SELECTS);
    let d = dtype(sel);
    let n = match r.gen_range(0..10) {
        0..=2 => MAX_GROUP,
        3 | 4 => r.gen_range(1..=8),
        _ => r.gen_range(1..=MAX_GROUP),
    };
    let ncodes = 1u8 << d.bits;
    let mut codes: Vec<u8> = (0..n)
        .map(|_| {
            if r.gen_ratio(3, 20) {
                d.spare_code()
            } else {
                r.gen_range(0..ncodes)
            }
        })
        .collect();
    let kind = r.gen_range(0..7);
    let shared = r.gen_range(0..=30u16);
    let mut acts: Vec<u16> = (0..n)
        .map(|_| match kind {
            0 => {
                let f = r.gen_range(10..=20);
                fp16(r, f)
            }
            1 => {
                let f = r.gen_range(0..=30);
                fp16(r, f)
            }
            2 => {
                let f = [0, 1, 29, 30][r.gen_range(0..4)];
                match r.gen_range(0..4) {
                    0 => (r.gen::<u16>() & 0x8000) | f << 10,
                    1 => (r.gen::<u16>() & 0x8000) | f << 10 | 0x3FF,
                    _ => fp16(r, f),
                }
            }
            3 => fp16(r, shared),
            4 => 0x7BFF - r.gen_range(0..4),
            5 => r.gen(),
            _ => {
                if r.gen_ratio(1, 2) {
                    r.gen::<u16>() & 0x8000
                } else {
                    let f = r.gen_range(0..=30);
                    fp16(r, f)
                }
            }
        })
        .collect();
    match kind {
        4 => {
            // The largest magnitude, signed so that every product is positive.
            let (c, neg) = max_code(sel);
            for (code, act) in codes.iter_mut().zip(acts.iter_mut()) {
                *code = c;
                *act |= (neg as u16) << 15;
            }
        }
        6 => {
            for code in codes.iter_mut() {
                if r.gen_ratio(7, 10) {
                    *code = 0;
                }
            }
        }
        _ => {}
    }
    if kind != 5 && r.gen_ratio(1, 16) {
        for _ in 0..r.gen_range(1..=3) {
            let i = r.gen_range(0..n);
            acts[i] = (r.gen::<u16>() & 0x83FF) | 0x7C00;
        }
    }
    let scale = match r.gen_range(0..20) {
        0 => 0,
        1 => 1,
        2 | 3 => 255,
        _ => r.gen(),
    };
    Group {
        sel,
        scale,
        codes,
        acts,
    }
}

/// Extreme FP16 activations: the largest finite, the smallest subnormal, the largest
/// subnormal, the smallest normal, one, zeros, and fields 1, 29 and 30, both signs.
const EXTREME_ACTS: [u16; 16] = [
    0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0400, 0x8400, 0x3C00, 0xBC00, 0x0000, 0x8000,
    0x77FF, 0xF400, 0x0401, 0x87FF,
];

/// A group of `n` weights of type select `sel` whose codes and activations cycle through
/// every code and [`EXTREME_ACTS`] (`shift` offsets the pairing).
fn extreme_group(sel: u8, n: usize, scale: u8, shift: usize) -> Group {
    let ncodes = 1usize << dtype(sel).bits;
    Group {
        sel,
        scale,
        codes: (0..n).map(|i| (i % ncodes) as u8).collect(),
        acts: (0..n)
            .map(|i| EXTREME_ACTS[(i / ncodes + i + shift) % EXTREME_ACTS.len()])
            .collect(),
    }
}

/// A group of 128 weights of the type's largest magnitude with the largest finite
/// activations, every product positive (`positive`) or every product negative.
fn max_group(sel: u8, positive: bool) -> Group {
    let (c, neg) = max_code(sel);
    let act = 0x7BFF | (((neg == positive) as u16) << 15);
    Group {
        sel,
        scale: 255,
        codes: vec![c; MAX_GROUP],
        acts: vec![act; MAX_GROUP],
    }
}

impl PeVectors for BitModVectors {
    fn id(&self) -> &'static str {
        "bitmod"
    }
    /// `ops` MACs (rounded up to whole groups of 128): weights drawn from `dist`, quantized
    /// per group of 128 with the BitMoD 4-bit candidate set (`bitmod4`, least-MSE type per
    /// group, 8-bit integer group scales), against FP16 activations drawn from `dist`; groups
    /// back to back after a reset, zeros on idle cycles, until the last result. The PE does
    /// dot products by construction (one result per group); `shape` does not change it.
    fn workload(&self, cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        let WorkloadOps { dist, ops, .. } = w;
        check_config(cfg)?;
        let groups = ops.div_ceil(MAX_GROUP as u64).max(1) as usize;
        let set = pelab_sim::bitmod::candidate_set("bitmod4")
            .ok_or_else(|| Error::new("the bitmod4 candidate set is missing"))?;
        let weights: Vec<f32> = (0..groups * MAX_GROUP)
            .map(|_| dist.value(rng) as f32)
            .collect();
        let ch = pelab_sim::bitmod::quantize_channel(&weights, MAX_GROUP, set, pe().scale_bits)?;
        let h = pelab_sim::format::Format::FP16;
        let acts: Vec<Vec<u16>> = (0..groups)
            .map(|_| (0..MAX_GROUP).map(|_| dist.code(&h, rng) as u16).collect())
            .collect();
        let mut s = Stream::quiet(rng);
        for (g, q) in ch.groups.iter().enumerate() {
            let sel = q.datatype.pe_select.ok_or_else(|| {
                Error::new(format!(
                    "datatype {} has no PE type select",
                    q.datatype.name
                ))
            })?;
            let grp = Group {
                sel,
                scale: u8::try_from(ch.int_scales[g])
                    .map_err(|_| Error::new("a group scale does not fit the PE's 8 bits"))?,
                codes: q.codes.clone(),
                acts: acts[g].clone(),
            };
            s.push(&grp, 0.0, None);
        }
        let rows = s.finish(0);
        Ok(Workload {
            stages: vec![Stage {
                rtl: &pelab_hdl::pe::bitmod::BitModRtl,
                cfg: cfg.clone(),
                layout: self.layout(cfg)?,
                rows,
                role: "PE (4 lanes, bit-serial)".into(),
            }],
            ops: (groups * MAX_GROUP) as u64,
            op_name: "MAC",
        })
    }
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout> {
        check_config(cfg)?;
        let p = pe();
        let mut fields = vec![
            Field::input("reset", 1),
            Field::input("in_valid", 1),
            Field::input("in_last", 1),
            Field::input("in_type", 3),
            Field::input("in_scale", p.scale_bits),
        ];
        fields.extend((0..LANES).map(|l| Field::input(&format!("in_act{l}"), 16)));
        fields.extend((0..LANES).map(|l| Field::input(&format!("in_code{l}"), 4)));
        fields.extend([
            Field::output("out_valid", 1),
            Field::output("out_exp", EXP_BITS),
            Field::output("out_man", p.dequant_bits()),
            Field::output("out_special", 1),
        ]);
        Ok(Layout {
            fields,
            timing: Timing::Cycles,
            care: true,
            restart: vec!["reset".into()],
        })
    }
    fn corner_cases(&self, cfg: &RtlConfig) -> Result<Vec<Case>> {
        check_config(cfg)?;
        let mut r = ChaCha8Rng::seed_from_u64(0xB170D);
        let mut v = Vec::new();
        // Every type select: every code against extreme activations, then the same codes
        // against other activations at the smallest nonzero scale, back to back.
        for sel in 0..SELECTS {
            let mut s = Stream::new(&mut r);
            s.push(&extreme_group(sel, MAX_GROUP, 255, 0), 0.0, None);
            s.push(&extreme_group(sel, MAX_GROUP, 1, 7), 0.0, None);
            v.push(s.finish(2));
        }
        // Every type select: 128 weights of the largest magnitude times the largest
        // activations, all products positive, then all negative (the accumulator's highest
        // exponent, both signs).
        for sel in 0..SELECTS {
            let mut s = Stream::new(&mut r);
            s.push(&max_group(sel, true), 0.0, None);
            s.push(&max_group(sel, false), 0.0, None);
            v.push(s.finish(2));
        }
        // The smallest, largest and two middle scales on the same data, groups of 16 weights
        // back to back (hand-offs exactly 8 cycles apart).
        let mut s = Stream::new(&mut r);
        for scale in [0, 1, 0x80, 0x7F, 255] {
            s.push(&extreme_group(6, 16, scale, 3), 0.0, None);
        }
        v.push(s.finish(3));
        // One-weight groups: the spare code of every type select, then its largest magnitude
        // with the largest activation, each group waiting for the previous hand-off.
        let mut s = Stream::new(&mut r);
        for sel in 0..SELECTS {
            let spare = dtype(sel).spare_code();
            let one = |code, act| Group {
                sel,
                scale: 255,
                codes: vec![code],
                acts: vec![act],
            };
            s.push(&one(spare, 0x0001), 0.0, None);
            s.push(&one(max_code(sel).0, 0xFBFF), 0.0, None);
        }
        v.push(s.finish(1));
        // Inf, NaN, then a clean group: the special flag restarts with each group.
        let mut s = Stream::new(&mut r);
        for (i, bad) in [(5, 0x7C00u16), (70, 0xFE01), (0, 0x3C00)] {
            let mut g = extreme_group(4, 96, 200, 1);
            g.acts[i] = bad;
            s.push(&g, 0.0, None);
        }
        v.push(s.finish(2));
        // All-zero codes; all-zero activations.
        let mut s = Stream::new(&mut r);
        let mut g = extreme_group(7, MAX_GROUP, 255, 0);
        g.codes.fill(0);
        s.push(&g, 0.0, None);
        let mut g = extreme_group(3, 64, 255, 0);
        g.acts.iter_mut().for_each(|a| *a &= 0x8000);
        s.push(&g, 0.0, None);
        v.push(s.finish(2));
        // Idle cycles before every compute cycle (inside every beat), then a long idle gap:
        // the result holds on the outputs.
        let mut s = Stream::new(&mut r);
        s.push(&extreme_group(5, 37, 99, 2), 1.0, None);
        v.push(s.finish(20));
        // A reset in the middle of a group, a reset during a dequantization; then a group.
        let mut s = Stream::new(&mut r);
        s.push(&extreme_group(2, MAX_GROUP, 77, 0), 0.0, Some(21));
        s.push(&extreme_group(1, 32, 77, 1), 0.0, None);
        s.idle(3);
        s.reset();
        s.push(&extreme_group(0, 9, 77, 2), 0.0, None);
        v.push(s.finish(2));
        Ok(v)
    }
    fn random_case(&self, cfg: &RtlConfig, r: &mut ChaCha8Rng) -> Result<Case> {
        check_config(cfg)?;
        let groups = r.gen_range(1..=4);
        let mut s = Stream::new(r);
        for _ in 0..groups {
            let g = random_group(s.rng);
            let idle_ratio = if s.rng.gen_ratio(1, 3) { 0.15 } else { 0.0 };
            // Now and then a reset cuts the group short.
            let stop = if s.rng.gen_ratio(1, 40) {
                Some(s.rng.gen_range(1..2 * g.beats()))
            } else {
                None
            };
            s.push(&g, idle_ratio, stop);
            match s.rng.gen_range(0..40) {
                // A reset during the dequantization drops the result.
                0 => {
                    let n = s.rng.gen_range(0..8);
                    s.idle(n);
                    s.reset();
                }
                // Idle cycles between groups, sometimes more than the dequantizer needs.
                1..=8 => {
                    let n = s.rng.gen_range(1..=12);
                    s.idle(n);
                }
                _ => {}
            }
        }
        let extra = s.rng.gen_range(0..=3);
        Ok(s.finish(extra))
    }
    fn expected(&self, cfg: &RtlConfig, case: &[Vec<u64>]) -> Result<Vec<(Vec<u64>, u64)>> {
        check_config(cfg)?;
        let mut t = Transaction::default();
        case.iter()
            .enumerate()
            .map(|(i, row)| t.clock(i, row))
            .collect()
    }
    fn describe_output(&self, _cfg: &RtlConfig, field: &str, v: u64) -> String {
        match field {
            "out_man" => {
                let w = pe().dequant_bits();
                format!("{}", ((v << (64 - w)) as i64) >> (64 - w))
            }
            _ => format!("{v}"),
        }
    }
}
