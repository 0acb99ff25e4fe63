//! The `bitmod` array cell: the BitMoD PE ([`BitModPe`]) and an FP32 accumulator of its group
//! results, a sequential cell (`pelab_sim::array::bitmod` is its reference).
//!
//! Ports: `clock`, `reset`, `valid` (a term of the beat on `a`, `b` is processed this cycle),
//! `last` (the beat is the tile's last), `a` (4 lanes of 15 bits, lane `l` = `{scale[7:0],
//! select[2:0], code[3:0]}` of weight `l`), `b` (4 FP16 activations), `y` (the FP32
//! accumulator) and `done` (high in the cycle after the tile's last group entered `y`).
//!
//! Inside: the PE takes the codes of the 4 lanes and lane 0's select and scale (every lane of a
//! group carries the same; the copies in lanes 1-3 are not read, and synthesis removes the
//! registers that only carry them); a 5-bit beat counter ends a group after 32 beats or on
//! `last`; a 9-bit shift register carries "last group of the tile" from the hand-off to the
//! cycle the dequantizer's result is valid (9 cycles later), where the result, converted
//! exactly to FP32 (`D · 2^(Ae − 28)`; NaN for a group with an Inf or NaN activation), is added
//! to `y` (or to `+0` for a tile's first group) with the fp32acc adder.

use crate::blocks::norm::FpLeadNorm;
use crate::k;
use crate::pe::bitmod::BitModPe;
use crate::pe::fp32acc::Fp32AccCore;
use rust_hdl::prelude::*;

/// The bitmod array cell (module docs).
#[derive(LogicBlock)]
pub struct BitModCell {
    /// Clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub reset: Signal<In, Bit>,
    /// A term of the beat on `a` and `b` is processed this cycle.
    pub valid: Signal<In, Bit>,
    /// The beat is the last of its tile.
    pub last: Signal<In, Bit>,
    /// Four 15-bit weight lanes `{scale, select, code}`.
    pub a: Signal<In, Bits<60>>,
    /// Four FP16 activations.
    pub b: Signal<In, Bits<64>>,
    /// The FP32 accumulator.
    pub y: Signal<Out, Bits<32>>,
    /// High in the cycle after the tile's last group entered `y`.
    pub done: Signal<Out, Bit>,
    pe: BitModPe,
    conv: BitModToFp32,
    add: Fp32AccCore,
    acc: DFF<Bits<32>>,
    fresh: DFF<Bit>,
    fin: DFF<Bit>,
    cnt: DFF<Bits<5>>,
    phase: DFF<Bit>,
    sh: DFF<Bits<9>>,
    glast: Signal<Local, Bit>,
    handoff: Signal<Local, Bit>,
    last_beat: Constant<Bits<5>>,
    one5: Constant<Bits<5>>,
    zero5: Constant<Bits<5>>,
    one9: Constant<Bits<9>>,
    shift1: Constant<Bits<1>>,
    zero9: Constant<Bits<9>>,
    zero32: Constant<Bits<32>>,
    yes: Constant<Bit>,
    no: Constant<Bit>,
}

impl Default for BitModCell {
    fn default() -> Self {
        Self::new()
    }
}

impl BitModCell {
    /// Builds the cell.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            valid: Default::default(),
            last: Default::default(),
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            done: Default::default(),
            pe: Default::default(),
            conv: BitModToFp32::new(),
            add: Fp32AccCore::new(),
            acc: Default::default(),
            fresh: Default::default(),
            fin: Default::default(),
            cnt: Default::default(),
            phase: Default::default(),
            sh: Default::default(),
            glast: Default::default(),
            handoff: Default::default(),
            last_beat: k(31),
            one5: k(1),
            zero5: k(0),
            one9: k(1),
            shift1: k(1),
            zero9: k(0),
            zero32: k(0),
            yes: Constant::new(true),
            no: Constant::new(false),
        }
    }
}

impl Logic for BitModCell {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc, fresh, fin, cnt, phase, sh);
        self.pe.clock.next = self.clock.val();
        self.pe.reset.next = self.reset.val();
        self.pe.in_valid.next = self.valid.val();
        self.glast.next = self.last.val() | (self.cnt.q.val() == self.last_beat.val());
        self.pe.in_last.next = self.glast.val();
        self.pe.in_type.next = self.a.val().get_bits::<3>(4);
        self.pe.in_scale.next = self.a.val().get_bits::<8>(7);
        self.pe.in_code0.next = self.a.val().get_bits::<4>(0);
        self.pe.in_code1.next = self.a.val().get_bits::<4>(15);
        self.pe.in_code2.next = self.a.val().get_bits::<4>(30);
        self.pe.in_code3.next = self.a.val().get_bits::<4>(45);
        self.pe.in_act0.next = self.b.val().get_bits::<16>(0);
        self.pe.in_act1.next = self.b.val().get_bits::<16>(16);
        self.pe.in_act2.next = self.b.val().get_bits::<16>(32);
        self.pe.in_act3.next = self.b.val().get_bits::<16>(48);
        self.handoff.next = self.valid.val() & self.phase.q.val() & self.glast.val();
        // Beat phase and beat counter, as the PE's own phase.
        if self.valid.val() {
            self.phase.d.next = !self.phase.q.val();
        }
        if self.valid.val() & self.phase.q.val() {
            self.cnt.d.next = self.cnt.q.val() + self.one5.val();
        }
        if self.handoff.val() {
            self.cnt.d.next = self.zero5.val();
        }
        // "Last group of the tile", 9 cycles from the hand-off to the PE's out_valid.
        if self.handoff.val() & self.last.val() {
            self.sh.d.next = (self.sh.q.val() << self.shift1.val()) | self.one9.val();
        } else {
            self.sh.d.next = self.sh.q.val() << self.shift1.val();
        }
        // The group result D·2^(Ae-28) as an FP32 code (exact: |D| <= 2^23).
        self.conv.man.next = self.pe.out_man.val();
        self.conv.exp.next = self.pe.out_exp.val();
        self.conv.special.next = self.pe.out_special.val();
        // The FP32 accumulator: a tile's first group starts from +0.
        if self.fresh.q.val() {
            self.add.acc.next = self.zero32.val();
        } else {
            self.add.acc.next = self.acc.q.val();
        }
        self.add.x.next = self.conv.y.val();
        self.fin.d.next = self.no.val();
        if self.pe.out_valid.val() {
            self.acc.d.next = self.add.y.val();
            self.fresh.d.next = self.sh.q.val().get_bit(8);
            self.fin.d.next = self.sh.q.val().get_bit(8);
        }
        if self.reset.val() {
            self.acc.d.next = self.zero32.val();
            self.fresh.d.next = self.yes.val();
            self.fin.d.next = self.no.val();
            self.cnt.d.next = self.zero5.val();
            self.phase.d.next = self.no.val();
            self.sh.d.next = self.zero9.val();
        }
        self.y.next = self.acc.q.val();
        self.done.next = self.fin.q.val();
    }
}

/// The magnitude of a 24-bit two's-complement number: `neg` its sign, `mag = |x|` (24 bits
/// unsigned: `-2^23` gives `2^23`).
#[derive(LogicBlock)]
pub struct Abs24 {
    /// The number.
    pub x: Signal<In, Bits<24>>,
    /// Its sign bit.
    pub neg: Signal<Out, Bit>,
    /// Its magnitude.
    pub mag: Signal<Out, Bits<24>>,
    one: Constant<Bits<24>>,
}

impl Default for Abs24 {
    fn default() -> Self {
        Self {
            x: Default::default(),
            neg: Default::default(),
            mag: Default::default(),
            one: k(1),
        }
    }
}

impl Logic for Abs24 {
    #[hdl_gen]
    fn update(&mut self) {
        self.neg.next = self.x.val().get_bit(23);
        if self.x.val().get_bit(23) {
            self.mag.next = (!self.x.val()) + self.one.val();
        } else {
            self.mag.next = self.x.val();
        }
    }
}

/// A BitMoD group result as an FP32 code: `y = man · 2^(exp − 28)`, exact (`|man| <= 2^23`,
/// so the value is a normal FP32 number or zero); `+0` for `man = 0`; the canonical NaN
/// `0x7FC00000` when `special`.
#[derive(LogicBlock)]
pub struct BitModToFp32 {
    /// `D`, 24-bit two's complement.
    pub man: Signal<In, Bits<24>>,
    /// `Ae`.
    pub exp: Signal<In, Bits<6>>,
    /// The group had an Inf or NaN activation.
    pub special: Signal<In, Bit>,
    /// The FP32 code.
    pub y: Signal<Out, Bits<32>>,
    abs: Abs24,
    lead: FpLeadNorm<24, 5>,
    exp8: Signal<Local, Bits<8>>,
    sgn: Signal<Local, Bits<32>>,
    frac: Signal<Local, Bits<23>>,
    shift23: Constant<Bits<5>>,
    bias: Constant<Bits<8>>,
    sign32: Constant<Bits<32>>,
    nan32: Constant<Bits<32>>,
    zero32: Constant<Bits<32>>,
}

impl Default for BitModToFp32 {
    fn default() -> Self {
        Self::new()
    }
}

impl BitModToFp32 {
    /// Builds the converter.
    pub fn new() -> Self {
        Self {
            man: Default::default(),
            exp: Default::default(),
            special: Default::default(),
            y: Default::default(),
            abs: Default::default(),
            lead: FpLeadNorm::new(),
            exp8: Default::default(),
            sgn: Default::default(),
            frac: Default::default(),
            shift23: k(23),
            // Biased exponent of man·2^(exp-28) with man's top bit at 23 - lz:
            // exp - 28 + 23 - lz + 127 = exp + 122 - lz (99..=185: always normal).
            bias: k(122),
            sign32: k(0x8000_0000),
            nan32: k(0x7FC0_0000),
            zero32: k(0),
        }
    }
}

impl Logic for BitModToFp32 {
    #[hdl_gen]
    fn update(&mut self) {
        self.abs.x.next = self.man.val();
        self.lead.sig.next = self.abs.mag.val();
        self.exp8.next = bit_cast::<8, 6>(self.exp.val()) + self.bias.val()
            - bit_cast::<8, 5>(self.lead.lz.val());
        if self.abs.neg.val() {
            self.sgn.next = self.sign32.val();
        } else {
            self.sgn.next = self.zero32.val();
        }
        self.frac.next = self.lead.norm.val().get_bits::<23>(0);
        self.y.next = self.sgn.val()
            | (bit_cast::<32, 8>(self.exp8.val()) << self.shift23.val())
            | bit_cast::<32, 23>(self.frac.val());
        // A zero magnitude normalizes to zero: its top bit is clear.
        if !self.lead.norm.val().get_bit(23) {
            self.y.next = self.zero32.val();
        }
        if self.special.val() {
            self.y.next = self.nan32.val();
        }
    }
}
