//! BitMoD RTL against the reference model `pelab_sim::bitmod::PeConfig::run_group_traced`:
//! - the weight decoder exhaustively (every type select, code and phase);
//! - the PE in rust-hdl's simulator on random streams (every BitMoD variant, random lengths,
//!   idle cycles inside and between groups, back-to-back groups whose dequantizer overlaps the
//!   next group, Inf/NaN activations, extreme exponents), compared cycle by cycle with the
//!   model's trace, the result with the model's output and its cycle with the model's count;
//! - reset in the middle of a group and of a dequantization; hand-offs closer than 8 cycles;
//!   the result holding on the outputs;
//! - the emitted Verilog co-simulated with Icarus Verilog on a stream from the same generator;
//! - the synthesized size (generic gates and iCE40).

use pelab_hdl::pe::bitmod::{
    BitModDecoder, BitModPe, BitModRtl, ACC_BITS, GUARD_BITS, LATENCY, MAGNITUDES, POLICY,
    SCALE_BITS,
};
use pelab_hdl::sim::{settle, tick};
use pelab_hdl::synth::{synthesize, Flow};
use pelab_hdl::tools::require_tool;
use pelab_hdl::{PeRtl, RtlConfig};
use pelab_sim::bitmod::datatype::by_pe_select;
use pelab_sim::bitmod::{
    compute_cycles, decompose, CycleTrace, Datatype, GroupOutput, PeConfig, LANES,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::fmt::Write as _;
use std::time::Instant;

const B: usize = SCALE_BITS as usize;

fn sext(v: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((v << sh) as i64) >> sh
}

#[test]
fn rtl_widths_are_the_model_default() {
    let d = PeConfig::default();
    assert_eq!(
        (GUARD_BITS, ACC_BITS, SCALE_BITS),
        (d.guard_bits, d.acc_bits, d.scale_bits)
    );
    assert_eq!(LATENCY, d.scale_bits + 1);
}

/// The decoder's hand-written magnitude table against the model's term rule, and the decoder
/// block for every type select, 4-bit code (bit 3 is don't-care in 3-bit mode) and phase.
#[test]
fn decoder_matches_model_terms_exhaustively() {
    for m in MAGNITUDES {
        let terms = decompose(m.magnitude as i32).unwrap();
        let model = [terms[0], terms[1]].map(|t| (t.present, t.exp));
        let table = [m.term0, m.term1].map(|t| (t.present, t.exp));
        assert_eq!(table, model, "magnitude {}", m.magnitude);
    }
    let mut uut = BitModDecoder::default();
    uut.connect_all();
    let mut n = 0;
    for sel in 0..8u8 {
        let dtype = by_pe_select(sel).unwrap();
        for code in 0..16u8 {
            let value = dtype
                .value((code & ((1 << dtype.bits) - 1)) as u32)
                .unwrap();
            let terms = decompose(value).unwrap();
            for phase in [false, true] {
                uut.type_sel.next = bits(sel as u64);
                uut.code.next = bits(code as u64);
                uut.phase.next = phase;
                settle(&mut uut).unwrap();
                let want = terms[phase as usize].bits() as u64;
                assert_eq!(
                    uut.term.val().to_u64(),
                    want,
                    "{} code {code:X} phase {phase}",
                    dtype.name
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 256);
}

/// One cycle of PE inputs.
#[derive(Debug, Clone, Copy, Default)]
struct Cycle {
    reset: bool,
    valid: bool,
    last: bool,
    ty: u8,
    scale: u8,
    acts: [u16; 4],
    codes: [u8; 4],
    /// (group, compute cycle of the group) for a compute cycle.
    check: Option<(usize, usize)>,
}

impl Cycle {
    /// The stimulus word of the Verilog testbench (see `TB`).
    fn word(&self) -> u128 {
        let mut w = (self.reset as u128) << 93
            | (self.valid as u128) << 92
            | (self.last as u128) << 91
            | (self.ty as u128) << 88
            | (self.scale as u128) << 80;
        for l in 0..LANES {
            w |= (self.acts[l] as u128) << (16 + 16 * l);
            w |= (self.codes[l] as u128) << (4 * l);
        }
        w
    }
}

/// A group, the model's output and trace, and where it sits in the stream.
struct Group {
    dtype: &'static Datatype,
    codes: Vec<u8>,
    acts: Vec<u16>,
    scale: u32,
    out: GroupOutput,
    trace: Vec<CycleTrace>,
}

/// A result the PE must present: the cycle in which `out_valid` is 1 and the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    cycle: usize,
    group: usize,
    exp: u64,
    man: u64,
    special: bool,
}

impl Expect {
    fn word(&self) -> u64 {
        (self.cycle as u64) << 40 | (self.special as u64) << 38 | self.exp << 32 | self.man
    }
}

#[derive(Default)]
struct Stream {
    cycles: Vec<Cycle>,
    groups: Vec<Group>,
    expects: Vec<Expect>,
    last_handoff: Option<usize>,
}

/// How activations of a group are drawn.
#[derive(Debug, Clone, Copy)]
enum Acts {
    /// Exponent field 10..=20 (values around 1).
    Normal,
    /// Exponent field 0..=30: subnormals to the largest binade.
    Wide,
    /// Fields 0, 1, 29, 30 only, with zeros and all-ones fractions.
    Extreme,
    /// One exponent for the whole group.
    Shared,
    /// The largest finite values with the largest positive weights: the accumulator grows
    /// to its highest exponent.
    Max,
    /// Random 16-bit patterns (Inf and NaN included).
    Bits,
    /// Mostly zero weights and activations.
    Sparse,
}

const KINDS: [Acts; 7] = [
    Acts::Normal,
    Acts::Wide,
    Acts::Extreme,
    Acts::Shared,
    Acts::Max,
    Acts::Bits,
    Acts::Sparse,
];

fn fp16(rng: &mut ChaCha8Rng, field: u16) -> u16 {
    (rng.gen::<u16>() & 0x8000) | field << 10 | (rng.gen::<u16>() & 0x3FF)
}

fn random_group(rng: &mut ChaCha8Rng, dtype: &'static Datatype, kind: Acts) -> Group {
    let n = match rng.gen_range(0..10) {
        0..=2 => 128,
        3 => rng.gen_range(1..=8),
        _ => rng.gen_range(1..=128),
    };
    random_group_of(rng, dtype, kind, n)
}

fn random_group_of(rng: &mut ChaCha8Rng, dtype: &'static Datatype, kind: Acts, n: usize) -> Group {
    let ncodes = 1u8 << dtype.bits;
    let mut codes: Vec<u8> = (0..n)
        .map(|_| {
            if rng.gen_ratio(3, 20) {
                dtype.spare_code()
            } else {
                rng.gen_range(0..ncodes)
            }
        })
        .collect();
    let shared = rng.gen_range(0..=30u16);
    let mut acts: Vec<u16> = (0..n)
        .map(|_| match kind {
            Acts::Normal => {
                let f = rng.gen_range(10..=20);
                fp16(rng, f)
            }
            Acts::Wide => {
                let f = rng.gen_range(0..=30);
                fp16(rng, f)
            }
            Acts::Extreme => {
                let f = [0, 1, 29, 30][rng.gen_range(0..4)];
                match rng.gen_range(0..4) {
                    0 => (rng.gen::<u16>() & 0x8000) | f << 10,
                    1 => (rng.gen::<u16>() & 0x8000) | f << 10 | 0x3FF,
                    _ => fp16(rng, f),
                }
            }
            Acts::Shared => fp16(rng, shared),
            Acts::Max => 0x7BFF - rng.gen_range(0..4),
            Acts::Bits => rng.gen(),
            Acts::Sparse => {
                if rng.gen_ratio(1, 2) {
                    rng.gen::<u16>() & 0x8000
                } else {
                    let f = rng.gen_range(0..=30);
                    fp16(rng, f)
                }
            }
        })
        .collect();
    match kind {
        Acts::Max => {
            // The largest positive value of the type, sometimes the next one.
            let top: Vec<u8> = {
                let mut v: Vec<(i32, u8)> =
                    (0..ncodes).map(|c| (dtype.values[c as usize], c)).collect();
                v.sort();
                v.iter().rev().take(2).map(|p| p.1).collect()
            };
            for c in codes.iter_mut() {
                *c = top[rng.gen_range(0..4).min(1)];
            }
        }
        Acts::Sparse => {
            for c in codes.iter_mut() {
                if rng.gen_ratio(7, 10) {
                    *c = 0;
                }
            }
        }
        _ => {}
    }
    // Some groups carry Inf or NaN activations.
    if !matches!(kind, Acts::Bits) && rng.gen_ratio(1, 20) {
        for _ in 0..rng.gen_range(1..=3) {
            let i = rng.gen_range(0..n);
            acts[i] = (rng.gen::<u16>() & 0x83FF) | 0x7C00;
        }
    }
    let scale = match rng.gen_range(0..20) {
        0 => 0,
        1 => 1,
        2 | 3 => 255,
        _ => rng.gen_range(0..=255),
    };
    let (out, trace) = PeConfig::default()
        .run_group_traced(dtype, &codes, &acts, scale)
        .unwrap();
    Group {
        dtype,
        codes,
        acts,
        scale,
        out,
        trace,
    }
}

/// Idle-cycle inputs: random garbage that `in_valid = 0` must ignore.
fn idle(rng: &mut ChaCha8Rng) -> Cycle {
    Cycle {
        reset: false,
        valid: false,
        last: rng.gen(),
        ty: rng.gen_range(0..8),
        scale: rng.gen(),
        acts: [rng.gen(), rng.gen(), 0x7C00 | rng.gen::<u16>(), rng.gen()],
        codes: [rng.gen_range(0..16), 8, rng.gen_range(0..16), 0],
        check: None,
    }
}

impl Stream {
    fn new() -> Stream {
        let mut s = Stream::default();
        s.cycles.push(Cycle {
            reset: true,
            ..Cycle::default()
        });
        s
    }

    /// Appends a group: `idle_ratio` is the chance of idle cycles before each compute cycle.
    /// Idle cycles are added before the group when its hand-off would come less than B cycles
    /// after the previous one.
    fn push(&mut self, rng: &mut ChaCha8Rng, g: Group, idle_ratio: f64) {
        let gi = self.groups.len();
        let n = g.codes.len();
        let c = compute_cycles(n) as usize;
        let beats = c / 2;
        let plan: Vec<usize> = (0..c)
            .map(|j| {
                if j > 0 && rng.gen_bool(idle_ratio) {
                    rng.gen_range(1..=3)
                } else {
                    0
                }
            })
            .collect();
        let inside: usize = plan.iter().sum();
        let start = self.cycles.len();
        let handoff_rel = c - 1 + inside;
        let extra = self
            .last_handoff
            .map_or(0, |h| (h + B).saturating_sub(start + handoff_rel));
        for _ in 0..extra {
            let cy = idle(rng);
            self.cycles.push(cy);
        }
        let first = self.cycles.len();
        let sel = g.dtype.pe_select.unwrap();
        for (j, &idles) in plan.iter().enumerate() {
            for _ in 0..idles {
                let cy = idle(rng);
                self.cycles.push(cy);
            }
            let beat = j / 2;
            let mut cy = Cycle {
                reset: false,
                valid: true,
                last: beat == beats - 1,
                ty: sel,
                scale: g.scale as u8,
                check: Some((gi, j)),
                ..Cycle::default()
            };
            for l in 0..LANES {
                let i = beat * LANES + l;
                if i < n {
                    cy.acts[l] = g.acts[i];
                    // 3-bit codes: bit 3 is don't-care.
                    let junk = if g.dtype.bits == 3 {
                        rng.gen_range(0..2) << 3
                    } else {
                        0
                    };
                    cy.codes[l] = g.codes[i] | junk;
                }
            }
            self.cycles.push(cy);
        }
        let handoff = self.cycles.len() - 1;
        assert_eq!(handoff, first + handoff_rel);
        let valid_at = handoff + B + 1;
        // The model's cycle count: result in cycle C + B of the group's own count, plus the
        // idle cycles inside the group.
        assert_eq!(valid_at - first, g.out.latency() as usize + inside);
        let mask = (1u64 << (ACC_BITS + SCALE_BITS)) - 1;
        self.expects.push(Expect {
            cycle: valid_at,
            group: gi,
            exp: g.out.exponent as u64,
            man: g.out.mantissa as u64 & mask,
            special: g.out.special,
        });
        self.last_handoff = Some(handoff);
        self.groups.push(g);
    }

    /// Idle cycles until every result has been presented, plus a few.
    fn finish(&mut self, rng: &mut ChaCha8Rng) {
        let end = self.expects.last().map_or(0, |e| e.cycle) + 3;
        while self.cycles.len() < end {
            let cy = idle(rng);
            self.cycles.push(cy);
        }
    }
}

/// A stream of `per_type` groups of every BitMoD variant in random order. A third of the
/// groups have idle cycles inside; the others follow each other back to back.
fn random_stream(seed: u64, per_type: usize) -> Stream {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<u8> = (0..8u8)
        .flat_map(|s| std::iter::repeat_n(s, per_type))
        .collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    let mut s = Stream::new();
    for sel in order {
        let dtype = by_pe_select(sel).unwrap();
        let kind = KINDS[rng.gen_range(0..KINDS.len())];
        let g = random_group(&mut rng, dtype, kind);
        let idle_ratio = if rng.gen_ratio(1, 3) { 0.15 } else { 0.0 };
        s.push(&mut rng, g, idle_ratio);
        if rng.gen_ratio(1, 50) {
            // An idle gap long enough for the dequantizer to finish, then a reset.
            for _ in 0..B + 2 {
                let cy = idle(&mut rng);
                s.cycles.push(cy);
            }
            s.cycles.push(Cycle {
                reset: true,
                ..idle(&mut rng)
            });
            s.last_handoff = None;
        }
    }
    s.finish(&mut rng);
    s
}

fn set_inputs(uut: &mut BitModPe, cy: &Cycle) {
    uut.reset.next = cy.reset;
    uut.in_valid.next = cy.valid;
    uut.in_last.next = cy.last;
    uut.in_type.next = bits(cy.ty as u64);
    uut.in_scale.next = bits(cy.scale as u64);
    uut.in_act0.next = bits(cy.acts[0] as u64);
    uut.in_act1.next = bits(cy.acts[1] as u64);
    uut.in_act2.next = bits(cy.acts[2] as u64);
    uut.in_act3.next = bits(cy.acts[3] as u64);
    uut.in_code0.next = bits(cy.codes[0] as u64);
    uut.in_code1.next = bits(cy.codes[1] as u64);
    uut.in_code2.next = bits(cy.codes[2] as u64);
    uut.in_code3.next = bits(cy.codes[3] as u64);
}

/// The state of one compute cycle, as in the model's `CycleTrace`.
#[derive(Debug, PartialEq, Eq)]
struct CycleState {
    terms: [u8; 4],
    lane_exp: [u32; 4],
    max_exp: u32,
    aligned: [i64; 4],
    partial_sum: i64,
    partial_exp: u32,
    acc_mantissa: i64,
    acc_exp: u32,
}

impl CycleState {
    fn of_trace(t: &CycleTrace) -> CycleState {
        CycleState {
            terms: t.terms,
            lane_exp: t.lane_exp,
            max_exp: t.max_exp,
            aligned: t.aligned,
            partial_sum: t.partial_sum,
            partial_exp: t.partial_exp,
            acc_mantissa: t.acc_mantissa,
            acc_exp: t.acc_exp,
        }
    }

    /// The combinational state of the compute cycle on the PE's inputs.
    fn of_pe(uut: &BitModPe) -> CycleState {
        let c = &uut.compute;
        CycleState {
            terms: [
                c.dec0.term.val().to_u64() as u8,
                c.dec1.term.val().to_u64() as u8,
                c.dec2.term.val().to_u64() as u8,
                c.dec3.term.val().to_u64() as u8,
            ],
            lane_exp: [
                c.lane0.le.val().to_u64() as u32,
                c.lane1.le.val().to_u64() as u32,
                c.lane2.le.val().to_u64() as u32,
                c.lane3.le.val().to_u64() as u32,
            ],
            max_exp: c.emax.val().to_u64() as u32,
            aligned: [
                sext(c.align0.lane.val().to_u64(), 17),
                sext(c.align1.lane.val().to_u64(), 17),
                sext(c.align2.lane.val().to_u64(), 17),
                sext(c.align3.lane.val().to_u64(), 17),
            ],
            partial_sum: sext(c.p.val().to_u64(), 17),
            partial_exp: c.ep.val().to_u64() as u32,
            acc_mantissa: sext(c.am_next.val().to_u64(), 16),
            acc_exp: c.ae_next.val().to_u64() as u32,
        }
    }
}

/// Runs a stream through the PE in rust-hdl's simulator; checks every compute cycle against
/// the model's trace, the accumulator registers after it, and every output against the
/// expected results and cycles. Returns the number of results seen.
fn run_stream(s: &Stream) -> usize {
    let mut uut = BitModPe::default();
    uut.connect_all();
    let mut k = 0;
    for (c, cy) in s.cycles.iter().enumerate() {
        // Outputs of cycle c (registered at the previous edge).
        if uut.out_valid.val() {
            let got = Expect {
                cycle: c,
                group: k,
                exp: uut.out_exp.val().to_u64(),
                man: uut.out_man.val().to_u64(),
                special: uut.out_special.val(),
            };
            assert!(k < s.expects.len(), "extra out_valid in cycle {c}");
            let g = &s.groups[s.expects[k].group];
            assert_eq!(
                got, s.expects[k],
                "result {k}: {} scale {} codes {:X?} acts {:04X?}",
                g.dtype.name, g.scale, g.codes, g.acts
            );
            k += 1;
        } else if k < s.expects.len() {
            assert_ne!(s.expects[k].cycle, c, "out_valid missing in cycle {c}");
        }
        set_inputs(&mut uut, cy);
        if let Some((gi, j)) = cy.check {
            settle(&mut uut).unwrap();
            let want = CycleState::of_trace(&s.groups[gi].trace[j]);
            let g = &s.groups[gi];
            assert_eq!(
                CycleState::of_pe(&uut),
                want,
                "group {gi} ({} scale {} codes {:X?} acts {:04X?}) compute cycle {j}",
                g.dtype.name,
                g.scale,
                g.codes,
                g.acts
            );
        }
        tick(&mut uut, |u| &mut u.clock).unwrap();
        if let Some((gi, j)) = cy.check {
            let t = &s.groups[gi].trace[j];
            let last = j + 1 == s.groups[gi].trace.len();
            let want = if last {
                (0, 0)
            } else {
                (t.acc_mantissa as u64 & 0xFFFF, t.acc_exp as u64)
            };
            assert_eq!(
                uut.accumulator(),
                want,
                "registers after group {gi} cycle {j}"
            );
            assert_eq!(uut.phase(), j % 2 == 0, "phase after group {gi} cycle {j}");
        }
    }
    assert_eq!(k, s.expects.len(), "results seen");
    k
}

/// Compute cycles by normalization shift `k = Ae' - max(Ae, Ep)` (0, 1 or 2).
fn normalization_shifts(s: &Stream) -> [usize; 3] {
    let mut by_k = [0usize; 3];
    for g in &s.groups {
        let mut ae = 0;
        for t in &g.trace {
            by_k[(t.acc_exp - ae.max(t.partial_exp)) as usize] += 1;
            ae = t.acc_exp;
        }
    }
    by_k
}

fn coverage(s: &Stream) -> String {
    let special = s.groups.iter().filter(|g| g.out.special).count();
    let full = s.groups.iter().filter(|g| g.codes.len() == 128).count();
    let max_ae = s.groups.iter().map(|g| g.out.exponent).max().unwrap_or(0);
    let idle = s.cycles.iter().filter(|c| !c.valid).count();
    // Groups with a normalization: a cycle whose new Ae exceeds both the old Ae and Ep.
    let normalized = s
        .groups
        .iter()
        .filter(|g| {
            let mut ae = 0;
            g.trace.iter().any(|t| {
                let grew = t.acc_exp > ae.max(t.partial_exp);
                ae = t.acc_exp;
                grew
            })
        })
        .count();
    let by_k = normalization_shifts(s);
    format!(
        "{} groups ({full} of 128 weights, {special} with Inf/NaN, {normalized} renormalized, \
         largest Ae {max_ae}), {} cycles ({idle} idle; normalization k = 0, 1, 2: {by_k:?})",
        s.groups.len(),
        s.cycles.len()
    )
}

#[test]
fn pe_matches_model_on_random_streams() {
    let t = Instant::now();
    let mut per_type = [0usize; 8];
    let mut results = 0;
    let mut cover = Vec::new();
    for seed in 0..4 {
        let s = random_stream(100 + seed, 250);
        for g in &s.groups {
            per_type[g.dtype.pe_select.unwrap() as usize] += 1;
        }
        assert!(s.groups.iter().any(|g| g.out.special));
        assert!(s.groups.iter().any(|g| g.out.exponent >= 40));
        assert!(normalization_shifts(&s).iter().all(|&n| n > 0));
        cover.push(coverage(&s));
        results += run_stream(&s);
    }
    assert!(per_type.iter().all(|&n| n >= 1000), "{per_type:?}");
    println!("{}", cover.join("\n"));
    println!(
        "{results} groups ({per_type:?} per type select) matched the model cycle by cycle \
         in {:.2?}",
        t.elapsed()
    );
}

/// Back-to-back groups without idle cycles: the last result comes in the cycle the model's
/// `dot_cycles` gives (the dequantizer overlaps the next group; short groups wait).
#[test]
fn back_to_back_groups_take_the_model_cycle_count() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let cfg = PeConfig::default();
    for lens in [
        vec![128; 5],
        vec![128, 4, 128, 1, 16, 13, 128],
        vec![16; 6],
        vec![1, 2, 3, 4, 5],
    ] {
        let mut s = Stream::new();
        for &n in &lens {
            let dtype = by_pe_select(rng.gen_range(0..8)).unwrap();
            let g = random_group_of(&mut rng, dtype, Acts::Normal, n);
            s.push(&mut rng, g, 0.0);
        }
        s.finish(&mut rng);
        run_stream(&s);
        let first = 1; // cycle 0 is the reset cycle
        let last = s.expects.last().unwrap().cycle;
        assert_eq!((last - first) as u64, cfg.dot_cycles(&lens), "{lens:?}");
    }
}

/// Runs `cycles` from the PE's current state; returns the outputs of every `out_valid` cycle
/// as `(cycle, exp, man, special)`, cycles counted from the first of `cycles`.
fn run_outputs(uut: &mut BitModPe, cycles: &[Cycle]) -> Vec<(usize, u64, u64, bool)> {
    let mut seen = Vec::new();
    for (c, cy) in cycles.iter().enumerate() {
        if uut.out_valid.val() {
            seen.push((
                c,
                uut.out_exp.val().to_u64(),
                uut.out_man.val().to_u64(),
                uut.out_special.val(),
            ));
        }
        set_inputs(uut, cy);
        tick(uut, |u| &mut u.clock).unwrap();
    }
    seen
}

/// A reset in the middle of a group drops it; a reset during a dequantization drops that
/// result; either way the PE then computes the next groups from scratch.
#[test]
fn reset_drops_the_group_in_flight() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut s = Stream::new();
    for sel in [6, 1] {
        let g = random_group_of(&mut rng, by_pe_select(sel).unwrap(), Acts::Wide, 128);
        s.push(&mut rng, g, 0.0);
    }
    s.finish(&mut rng);
    let want: Vec<(usize, u64, u64, bool)> = s
        .expects
        .iter()
        .map(|e| (e.cycle, e.exp, e.man, e.special))
        .collect();
    let mut uut = BitModPe::default();
    uut.connect_all();
    // Group 0 stopped after 5 of its compute cycles (the stream starts with a reset cycle).
    assert!(run_outputs(&mut uut, &s.cycles[..6]).is_empty());
    assert_eq!(run_outputs(&mut uut, &s.cycles), want);
    // Group 0 stopped 3 steps into its dequantization.
    let handoff = s.expects[0].cycle - B - 1;
    assert!(run_outputs(&mut uut, &s.cycles[..handoff + 4]).is_empty());
    assert_eq!(run_outputs(&mut uut, &s.cycles), want);
}

/// Hand-offs closer than 8 cycles (a producer error): the later group restarts the
/// dequantizer, the earlier result never appears and the later one is right.
#[test]
fn early_handoff_restarts_the_dequantizer() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut s = Stream::new();
    for sel in [2, 5] {
        let g = random_group_of(&mut rng, by_pe_select(sel).unwrap(), Acts::Normal, 4);
        s.last_handoff = None; // no idle cycles: hand-offs 2 cycles apart
        s.push(&mut rng, g, 0.0);
    }
    s.finish(&mut rng);
    let e = s.expects[1];
    let mut uut = BitModPe::default();
    uut.connect_all();
    assert_eq!(
        run_outputs(&mut uut, &s.cycles),
        vec![(e.cycle, e.exp, e.man, e.special)]
    );
}

/// `out_man` is the dequantizer register: it keeps the result through idle cycles.
#[test]
fn result_holds_until_the_next_group() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let g = random_group(&mut rng, by_pe_select(1).unwrap(), Acts::Normal);
    let mut s = Stream::new();
    s.push(&mut rng, g, 0.0);
    s.finish(&mut rng);
    let e = s.expects[0];
    let mut uut = BitModPe::default();
    uut.connect_all();
    for (c, cy) in s.cycles.iter().enumerate() {
        set_inputs(&mut uut, cy);
        tick(&mut uut, |u| &mut u.clock).unwrap();
        if c + 1 >= e.cycle {
            assert_eq!(uut.out_valid.val(), c + 1 == e.cycle);
            let got = (
                uut.out_exp.val().to_u64(),
                uut.out_man.val().to_u64(),
                uut.out_special.val(),
            );
            assert_eq!(got, (e.exp, e.man, e.special), "cycle {}", c + 1);
        }
    }
}

/// The Verilog testbench: streams the per-cycle inputs from `stim.hex`, checks every
/// `out_valid` cycle against `exp.hex` (`{cycle[23:0], 0, special, exp[5:0], 8'b0,
/// man[23:0]}`) and prints `N passed, N failed` on its last line.
const TB: &str = r#"`timescale 1ns/1ps
`default_nettype none
module tb;
  reg clock = 1'b0;
  reg reset, in_valid, in_last;
  reg [2:0] in_type;
  reg [7:0] in_scale;
  reg [15:0] in_act0, in_act1, in_act2, in_act3;
  reg [3:0] in_code0, in_code1, in_code2, in_code3;
  wire out_valid, out_special;
  wire [5:0] out_exp;
  wire [23:0] out_man;
  reg [95:0] stim [0:NCYC-1];
  reg [63:0] expv [0:NEXP-1];
  integer c, k, pass, fail;
  DUT dut(.clock(clock), .reset(reset), .in_valid(in_valid), .in_last(in_last),
    .in_type(in_type), .in_scale(in_scale), .in_act0(in_act0), .in_act1(in_act1),
    .in_act2(in_act2), .in_act3(in_act3), .in_code0(in_code0), .in_code1(in_code1),
    .in_code2(in_code2), .in_code3(in_code3), .out_valid(out_valid), .out_exp(out_exp),
    .out_man(out_man), .out_special(out_special));
  initial begin
    $readmemh("stim.hex", stim);
    $readmemh("exp.hex", expv);
    k = 0; pass = 0; fail = 0;
    for (c = 0; c < NCYC; c = c + 1) begin
      {reset, in_valid, in_last, in_type, in_scale, in_act3, in_act2, in_act1, in_act0,
       in_code3, in_code2, in_code1, in_code0} = stim[c][93:0];
      #1;
      if (out_valid) begin
        if (k < NEXP && expv[k][63:40] == c && expv[k][38] == out_special
            && expv[k][37:32] == out_exp && expv[k][23:0] == out_man) begin
          pass = pass + 1;
        end else begin
          fail = fail + 1;
          if (fail <= 10)
            $display("mismatch in cycle %0d: result %0d got exp %0d man %h special %b, want %h",
                     c, k, out_exp, out_man, out_special, expv[k]);
        end
        k = k + 1;
      end
      #4 clock = 1'b1;
      #5 clock = 1'b0;
    end
    if (k != NEXP) begin
      $display("%0d results seen, %0d expected", k, NEXP);
      fail = fail + 1;
    end
    $display("%0d passed, %0d failed", pass, fail);
    $finish;
  end
endmodule
`default_nettype wire
"#;

#[test]
fn emitted_verilog_matches_model_in_icarus() {
    let t = Instant::now();
    for tool in ["iverilog", "vvp"] {
        require_tool(tool).unwrap();
    }
    let m = BitModRtl
        .verilog(&RtlConfig::new("fp16", POLICY, 0))
        .unwrap();
    let s = random_stream(500, 32);
    assert!(s.groups.len() >= 200);
    let dir = std::env::temp_dir().join(format!("pelab-bitmod-cosim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut stim = String::new();
    for cy in &s.cycles {
        writeln!(stim, "{:024X}", cy.word()).unwrap();
    }
    let mut exp = String::new();
    for e in &s.expects {
        writeln!(exp, "{:016X}", e.word()).unwrap();
    }
    std::fs::write(dir.join("stim.hex"), stim).unwrap();
    std::fs::write(dir.join("exp.hex"), exp).unwrap();
    let tb = TB
        .replace("NCYC", &s.cycles.len().to_string())
        .replace("NEXP", &s.expects.len().to_string())
        .replace("DUT", &m.name);
    std::fs::write(dir.join("tb.v"), tb).unwrap();
    std::fs::write(dir.join(m.file_name()), &m.verilog).unwrap();
    let run = |cmd: &str, args: &[&str]| {
        let out = std::process::Command::new(cmd)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{cmd} failed:\n{text}");
        text
    };
    run("iverilog", &["-o", "sim.vvp", "tb.v", &m.file_name()]);
    let text = run("vvp", &["-n", "sim.vvp"]);
    let last = text
        .lines()
        .rfind(|l| l.contains("passed"))
        .unwrap_or_default();
    assert_eq!(
        last,
        format!("{} passed, 0 failed", s.expects.len()),
        "{text}"
    );
    println!("Icarus: {} ({}) in {:.2?}", last, coverage(&s), t.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn synthesized_size() {
    let m = BitModRtl
        .verilog(&RtlConfig::new("fp16", POLICY, 0))
        .unwrap();
    let g = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
    let i = synthesize(&m.verilog, &m.name, Flow::Ice40).unwrap();
    println!(
        "{}: generic {} cells ({} logic, {} flip-flops, longest path {}); iCE40 {} LUT4, {} \
         carry, {} flip-flops, longest path {}",
        m.name,
        g.cell_count,
        g.logic_cells,
        g.ffs,
        g.longest_path,
        i.luts,
        i.carry,
        i.ffs,
        i.longest_path
    );
    // phase 1 + Am 16 + Ae 6 + special 1; dequantizer: Am 16, Ae 6, scale 8, special 1,
    // count 4, first 1, D 24, out_exp 6, out_special 1, out_valid 1.
    assert_eq!(g.ffs, 92);
    assert_eq!(i.ffs, 92);
}
