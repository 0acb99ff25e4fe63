//! BitMoD RTL: the bit-serial mixture-of-datatype PE of `docs/bitmod.md` (FP16 activations x
//! 3/4-bit weights, 4 lanes, one power-of-two weight term per lane per cycle, a
//! block-floating-point group accumulator and a bit-serial integer dequantizer).
//!
//! It implements the reference model `pelab_sim::bitmod::PeConfig::default()` bit for bit:
//! [`GUARD_BITS`] = 3, [`ACC_BITS`] = 16, [`SCALE_BITS`] = 8. Blocks:
//! - [`BitModDecoder`] (one per lane, combinational): type select, weight code and beat phase
//!   to the term code `{present, sign, exp[1:0]}` of that phase (the table of `docs/bitmod.md`
//!   section 3, held as two small constant ROMs indexed by a 4-bit magnitude index);
//! - [`BitModLane`] (one per lane, combinational): FP16 decode, lane exponent `le = e + exp`
//!   and the 14-bit significand `{m, 000}` (0 for an absent term);
//! - [`BitModAlign`] (one per lane, combinational): `{m, 000} >> (E - le)` (a logical right
//!   shift: the bits shifted out are dropped), negated when `s XOR term sign`, giving a 17-bit
//!   two's-complement lane value (a separate block from [`BitModLane`], so that no module has
//!   a combinational path from an output back to one of its inputs);
//! - [`BitModAccumulate`] (combinational): the accumulator step: `X = max(Ae, Ep)`, the
//!   operand with the smaller exponent shifted right arithmetically by `|Ae - Ep|` in the one
//!   alignment shifter with one extra bit below (its value is the round-half-up carry-in), an
//!   18-bit add and the normalization by 0, 1 or 2 bits;
//! - [`BitModCompute`] (combinational): the four decoders, lanes and alignments,
//!   `E = max le` (a tree of three comparators), the 17-bit lane sum `P`, `Ep = E + phase` and
//!   [`BitModAccumulate`];
//! - [`BitModDequant`] (clocked): the dequantizer registers and its shift-add step
//!   `D <- 2·D + (scale bit ? Am : 0)`, MSB first, 8 steps after a hand-off;
//! - [`BitModPe`]: the PE with the phase, accumulator and special-flag registers, the hand-off
//!   and the dequantizer.
//!
//! Variable shifts are written one per assignment with the shifted signal as wide as the target,
//! so Verilog's context-determined widths equal rust-hdl's; arithmetic shifts are logical shifts
//! between two XORs with the sign (`asr(x, s) = ((x ^ sx) >> s) ^ sx`). Doubling is a shift by
//! a 1-bit constant, not `x + x`, so FPGA flows do not map it to a carry chain.

use crate::blocks::AccReg;
use crate::emit::{emit_block, ModuleSpec, Port, PortDir, RtlModule};
use crate::rtl::{validate, PeRtl, RtlConfig};
use crate::sim::{check_rows, tick};
use crate::Result;
use rust_hdl::prelude::*;

/// Guard bits kept below the 11-bit significand when aligning lanes (`PeConfig::guard_bits`).
pub const GUARD_BITS: u32 = 3;
/// Width of the signed group-accumulator mantissa (`PeConfig::acc_bits`).
pub const ACC_BITS: u32 = 16;
/// Width of the integer group scale = dequantizer steps (`PeConfig::scale_bits`).
pub const SCALE_BITS: u32 = 8;
/// Width of the dequantizer register and of `out_man`: `ACC_BITS + SCALE_BITS`.
pub const DEQUANT_BITS: u32 = ACC_BITS + SCALE_BITS;
/// Cycles from the last compute cycle of a group (its hand-off) to the cycle in which
/// `out_valid` is 1: the 8 dequantizer steps and the output register.
pub const LATENCY: u32 = SCALE_BITS + 1;

/// The shape of one power-of-two term of a weight: present, and its exponent 0..=3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermShape {
    /// The term is nonzero.
    pub present: bool,
    /// Its exponent (the term is `±2^(exp + significance)`).
    pub exp: u8,
}

/// A weight magnitude and its two terms (significance 0 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MagnitudeTerms {
    /// `|value|` in code units.
    pub magnitude: u32,
    /// Term 0 (first cycle of the beat).
    pub term0: TermShape,
    /// Term 1 (second cycle of the beat).
    pub term1: TermShape,
}

const fn mt(magnitude: u32, t0: (bool, u8), t1: (bool, u8)) -> MagnitudeTerms {
    MagnitudeTerms {
        magnitude,
        term0: TermShape {
            present: t0.0,
            exp: t0.1,
        },
        term1: TermShape {
            present: t1.0,
            exp: t1.1,
        },
    }
}

/// The weight decoder's magnitude table, indexed by the 4-bit magnitude index
/// (`docs/bitmod.md` section 3). Indices 0-7 are the FP4 magnitude indices (E2M1 codes times
/// 2); 8 and 9 hold the FP4 spare values 10 and 16. FP3 magnitudes 1, 2, 4 use indices 1, 2,
/// 4, its spare values 3 and 6 indices 3 and 5.
pub const MAGNITUDES: [MagnitudeTerms; 10] = [
    mt(0, (false, 0), (false, 0)),
    mt(1, (true, 0), (false, 0)),
    mt(2, (true, 1), (false, 0)),
    mt(3, (true, 0), (true, 0)),
    mt(4, (true, 2), (false, 0)),
    mt(6, (true, 1), (true, 1)),
    mt(8, (true, 3), (false, 0)),
    mt(12, (true, 2), (true, 2)),
    mt(10, (true, 1), (true, 2)),
    mt(16, (false, 0), (true, 3)),
];

use crate::k;

/// The ROMs of one term (0 or 1): presence bit at bit `mi`, exponent at bits `2mi+1..2mi`.
fn term_roms(term: usize) -> (u64, u64) {
    let (mut pres, mut exp) = (0u64, 0u64);
    for (mi, m) in MAGNITUDES.iter().enumerate() {
        let t = if term == 0 { m.term0 } else { m.term1 };
        pres |= (t.present as u64) << mi;
        exp |= (t.exp as u64) << (2 * mi);
    }
    (pres, exp)
}

/// Weight decoder of one lane (combinational): the term code of the current beat phase.
///
/// Type select `{4-bit mode, variant[1:0]}`, variants ER+, ER-, EA+, EA-. The code's sign is
/// bit 3 (4-bit mode) or bit 2 (3-bit mode; bit 3 is ignored); the magnitude index is the
/// remaining bits. The spare code (sign 1, magnitude index 0) stands for the variant's extra
/// value: 3 (ER) or 6 (EA) in 3-bit mode, 10 (ER) or 16 (EA) in 4-bit mode, negative for the
/// `-` variants (variant bit 0).
#[derive(LogicBlock)]
pub struct BitModDecoder {
    /// PE type select `{4-bit mode, variant[1:0]}`.
    pub type_sel: Signal<In, Bits<3>>,
    /// Raw weight code (3-bit types use bits 2..0).
    pub code: Signal<In, Bits<4>>,
    /// Beat phase: 0 selects term 0, 1 selects term 1.
    pub phase: Signal<In, Bit>,
    /// Term code `{present, sign, exp[1:0]}` of the current phase.
    pub term: Signal<Out, Bits<4>>,
    four: Signal<Local, Bit>,
    sgn: Signal<Local, Bit>,
    code_lo: Signal<Local, Bits<2>>,
    idx_lo: Signal<Local, Bits<3>>,
    idx: Signal<Local, Bits<3>>,
    idx4: Signal<Local, Bits<4>>,
    spare: Signal<Local, Bit>,
    mi: Signal<Local, Bits<4>>,
    mi5: Signal<Local, Bits<5>>,
    offset: Signal<Local, Bits<5>>,
    pres_rom: Signal<Local, Bits<16>>,
    exp_rom: Signal<Local, Bits<32>>,
    present: Signal<Local, Bit>,
    sign: Signal<Local, Bit>,
    exp: Signal<Local, Bits<2>>,
    exp4: Signal<Local, Bits<4>>,
    with_present: Signal<Local, Bits<4>>,
    idx_three: Constant<Bits<3>>,
    mi_four: Constant<Bits<4>>,
    mi_er3: Constant<Bits<4>>,
    mi_ea3: Constant<Bits<4>>,
    mi_er4: Constant<Bits<4>>,
    mi_ea4: Constant<Bits<4>>,
    pres0: Constant<Bits<16>>,
    pres1: Constant<Bits<16>>,
    exp0: Constant<Bits<32>>,
    exp1: Constant<Bits<32>>,
    present_bit: Constant<Bits<4>>,
    sign_bit: Constant<Bits<4>>,
    one1: Constant<Bits<1>>,
}

/// The magnitude index of a value of [`MAGNITUDES`].
fn mi_of(mag: u32) -> u64 {
    MAGNITUDES
        .iter()
        .position(|m| m.magnitude == mag)
        .expect("magnitude in the table") as u64
}

impl Default for BitModDecoder {
    fn default() -> Self {
        let (p0, e0) = term_roms(0);
        let (p1, e1) = term_roms(1);
        Self {
            type_sel: Default::default(),
            code: Default::default(),
            phase: Default::default(),
            term: Default::default(),
            four: Default::default(),
            sgn: Default::default(),
            code_lo: Default::default(),
            idx_lo: Default::default(),
            idx: Default::default(),
            idx4: Default::default(),
            spare: Default::default(),
            mi: Default::default(),
            mi5: Default::default(),
            offset: Default::default(),
            pres_rom: Default::default(),
            exp_rom: Default::default(),
            present: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            exp4: Default::default(),
            with_present: Default::default(),
            idx_three: k(3),
            mi_four: k(mi_of(4)),
            mi_er3: k(mi_of(3)),
            mi_ea3: k(mi_of(6)),
            mi_er4: k(mi_of(10)),
            mi_ea4: k(mi_of(16)),
            pres0: k(p0),
            pres1: k(p1),
            exp0: k(e0),
            exp1: k(e1),
            present_bit: k(8),
            sign_bit: k(4),
            one1: k(1),
        }
    }
}

impl Logic for BitModDecoder {
    #[hdl_gen]
    fn update(&mut self) {
        self.four.next = self.type_sel.val().get_bit(2);
        self.code_lo.next = self.code.val().get_bits::<2>(0);
        self.idx_lo.next = bit_cast::<3, 2>(self.code_lo.val());
        if self.four.val() {
            self.sgn.next = self.code.val().get_bit(3);
            self.idx.next = self.code.val().get_bits::<3>(0);
        } else {
            self.sgn.next = self.code.val().get_bit(2);
            self.idx.next = self.idx_lo.val();
        }
        self.idx4.next = bit_cast::<4, 3>(self.idx.val());
        self.spare.next = self.sgn.val() & !self.idx.val().any();
        // Magnitude index: FP4 indices as they are; FP3 index 3 (magnitude 4) moves to 4;
        // the spare code picks the variant's extra magnitude.
        if self.spare.val() {
            if self.four.val() {
                if self.type_sel.val().get_bit(1) {
                    self.mi.next = self.mi_ea4.val();
                } else {
                    self.mi.next = self.mi_er4.val();
                }
            } else if self.type_sel.val().get_bit(1) {
                self.mi.next = self.mi_ea3.val();
            } else {
                self.mi.next = self.mi_er3.val();
            }
        } else if !self.four.val() & (self.idx.val() == self.idx_three.val()) {
            self.mi.next = self.mi_four.val();
        } else {
            self.mi.next = self.idx4.val();
        }
        if self.spare.val() {
            self.sign.next = self.type_sel.val().get_bit(0);
        } else {
            self.sign.next = self.sgn.val();
        }
        if self.phase.val() {
            self.pres_rom.next = self.pres1.val();
            self.exp_rom.next = self.exp1.val();
        } else {
            self.pres_rom.next = self.pres0.val();
            self.exp_rom.next = self.exp0.val();
        }
        self.mi5.next = bit_cast::<5, 4>(self.mi.val());
        self.offset.next = self.mi5.val() << self.one1.val();
        self.present.next = self.pres_rom.val().get_bit(self.mi.val().index());
        self.exp.next = self.exp_rom.val().get_bits::<2>(self.offset.val().index());
        self.exp4.next = bit_cast::<4, 2>(self.exp.val());
        if self.present.val() {
            self.with_present.next = self.exp4.val() | self.present_bit.val();
        } else {
            self.with_present.next = self.exp4.val();
        }
        if self.sign.val() {
            self.term.next = self.with_present.val() | self.sign_bit.val();
        } else {
            self.term.next = self.with_present.val();
        }
    }
}

/// The front of one lane (combinational): FP16 decode and the lane exponent.
///
/// `e` is the exponent field (1 when it is 0), `m` the 11-bit significand with its hidden bit
/// (0 when the field is 0). A present term gives `le = e + exp` (at least 1) and the
/// significand with the guard bits appended, `{m, 000}`; an absent term gives `le = 0` and a
/// zero significand.
#[derive(LogicBlock)]
pub struct BitModLane {
    /// FP16 activation.
    pub act: Signal<In, Bits<16>>,
    /// Term code `{present, sign, exp[1:0]}`.
    pub term: Signal<In, Bits<4>>,
    /// Lane exponent `le` (0 for an absent term).
    pub le: Signal<Out, Bits<6>>,
    /// The activation's exponent field is 31 (Inf or NaN).
    pub special: Signal<Out, Bit>,
    /// `{m, 000}` for a present term, else 0.
    pub sig: Signal<Out, Bits<14>>,
    /// The lane value is negative: activation sign XOR term sign.
    pub neg: Signal<Out, Bit>,
    field: Signal<Local, Bits<5>>,
    frac: Signal<Local, Bits<10>>,
    field6: Signal<Local, Bits<6>>,
    e6: Signal<Local, Bits<6>>,
    frac14: Signal<Local, Bits<14>>,
    frac_g: Signal<Local, Bits<14>>,
    sig14: Signal<Local, Bits<14>>,
    present: Signal<Local, Bit>,
    texp: Signal<Local, Bits<2>>,
    texp6: Signal<Local, Bits<6>>,
    sum6: Signal<Local, Bits<6>>,
    one6: Constant<Bits<6>>,
    zero6: Constant<Bits<6>>,
    guard: Constant<Bits<2>>,
    hidden14: Constant<Bits<14>>,
    zero14: Constant<Bits<14>>,
}

impl Default for BitModLane {
    fn default() -> Self {
        Self {
            act: Default::default(),
            term: Default::default(),
            le: Default::default(),
            special: Default::default(),
            sig: Default::default(),
            neg: Default::default(),
            field: Default::default(),
            frac: Default::default(),
            field6: Default::default(),
            e6: Default::default(),
            frac14: Default::default(),
            frac_g: Default::default(),
            sig14: Default::default(),
            present: Default::default(),
            texp: Default::default(),
            texp6: Default::default(),
            sum6: Default::default(),
            one6: k(1),
            zero6: k(0),
            guard: k(GUARD_BITS as u64),
            hidden14: k(1 << (10 + GUARD_BITS)),
            zero14: k(0),
        }
    }
}

impl Logic for BitModLane {
    #[hdl_gen]
    fn update(&mut self) {
        self.field.next = self.act.val().get_bits::<5>(10);
        self.frac.next = self.act.val().get_bits::<10>(0);
        self.special.next = self.field.val().all();
        self.field6.next = bit_cast::<6, 5>(self.field.val());
        if self.field.val().any() {
            self.e6.next = self.field6.val();
        } else {
            self.e6.next = self.one6.val();
        }
        self.frac14.next = bit_cast::<14, 10>(self.frac.val());
        self.frac_g.next = self.frac14.val() << self.guard.val();
        if self.field.val().any() {
            self.sig14.next = self.frac_g.val() | self.hidden14.val();
        } else {
            self.sig14.next = self.frac_g.val();
        }
        self.present.next = self.term.val().get_bit(3);
        self.neg.next = self.act.val().get_bit(15) ^ self.term.val().get_bit(2);
        self.texp.next = self.term.val().get_bits::<2>(0);
        self.texp6.next = bit_cast::<6, 2>(self.texp.val());
        self.sum6.next = self.e6.val() + self.texp6.val();
        if self.present.val() {
            self.le.next = self.sum6.val();
            self.sig.next = self.sig14.val();
        } else {
            self.le.next = self.zero6.val();
            self.sig.next = self.zero14.val();
        }
    }
}

/// The alignment of one lane (combinational): `{m, 000} >> (E - le)` (a logical shift: the
/// bits shifted out are dropped, shifts of 14 or more give 0), zero-extended to 17 bits and
/// negated when `neg`.
#[derive(LogicBlock)]
pub struct BitModAlign {
    /// `{m, 000}` (0 for an absent term).
    pub sig: Signal<In, Bits<14>>,
    /// Negate the lane.
    pub neg: Signal<In, Bit>,
    /// The lane exponent `le`.
    pub le: Signal<In, Bits<6>>,
    /// `E`, the largest lane exponent of the cycle.
    pub emax: Signal<In, Bits<6>>,
    /// Signed aligned lane value, 17-bit two's complement.
    pub lane: Signal<Out, Bits<17>>,
    shift_by: Signal<Local, Bits<6>>,
    aligned: Signal<Local, Bits<14>>,
    a17: Signal<Local, Bits<17>>,
    na17: Signal<Local, Bits<17>>,
    zero17: Constant<Bits<17>>,
}

impl Default for BitModAlign {
    fn default() -> Self {
        Self {
            sig: Default::default(),
            neg: Default::default(),
            le: Default::default(),
            emax: Default::default(),
            lane: Default::default(),
            shift_by: Default::default(),
            aligned: Default::default(),
            a17: Default::default(),
            na17: Default::default(),
            zero17: k(0),
        }
    }
}

impl Logic for BitModAlign {
    #[hdl_gen]
    fn update(&mut self) {
        self.shift_by.next = self.emax.val() - self.le.val();
        self.aligned.next = self.sig.val() >> self.shift_by.val();
        self.a17.next = bit_cast::<17, 14>(self.aligned.val());
        self.na17.next = self.zero17.val() - self.a17.val();
        if self.neg.val() {
            self.lane.next = self.na17.val();
        } else {
            self.lane.next = self.a17.val();
        }
    }
}

/// One step of the group accumulator (combinational).
///
/// `X = max(Ae, Ep)`. Both operands are sign-extended to 18 bits; the one with the larger
/// exponent (`Am` on a tie) passes, the other goes through the one alignment shifter: it is
/// extended by one bit below its LSB and shifted right arithmetically by `|Ae - Ep|`, so the
/// last bit shifted out (0 for a shift of 0) lands in that extra bit: it is the carry-in `r`
/// of the 18-bit add `S = big + (small >> shift) + r` (round half up). `S` fits 18 bits
/// (`|S| <= 2^15 + 2^16`); it is normalized by the least `k` in 0..=2 for which `S >> k` fits
/// 16 signed bits (`k = 0` when `S[17:15]` agree, 1 when `S[17:16]` do), and `Ae' = X + k`.
#[derive(LogicBlock)]
pub struct BitModAccumulate {
    /// Accumulator mantissa `Am`, 16-bit two's complement.
    pub am: Signal<In, Bits<16>>,
    /// Accumulator exponent `Ae`.
    pub ae: Signal<In, Bits<6>>,
    /// Partial sum `P`, 17-bit two's complement.
    pub p: Signal<In, Bits<17>>,
    /// Partial-sum exponent `Ep`.
    pub ep: Signal<In, Bits<6>>,
    /// The new accumulator mantissa.
    pub am_next: Signal<Out, Bits<16>>,
    /// The new accumulator exponent.
    pub ae_next: Signal<Out, Bits<6>>,
    p_wins: Signal<Local, Bit>,
    x: Signal<Local, Bits<6>>,
    shift: Signal<Local, Bits<6>>,
    am18z: Signal<Local, Bits<18>>,
    am18: Signal<Local, Bits<18>>,
    p18z: Signal<Local, Bits<18>>,
    p18: Signal<Local, Bits<18>>,
    op_big: Signal<Local, Bits<18>>,
    op_small: Signal<Local, Bits<18>>,
    small19: Signal<Local, Bits<19>>,
    small_up: Signal<Local, Bits<19>>,
    flip: Signal<Local, Bits<19>>,
    small_x: Signal<Local, Bits<19>>,
    small_xs: Signal<Local, Bits<19>>,
    small_sh: Signal<Local, Bits<19>>,
    aligned: Signal<Local, Bits<18>>,
    round: Signal<Local, Bit>,
    s0: Signal<Local, Bits<18>>,
    s: Signal<Local, Bits<18>>,
    k0: Signal<Local, Bit>,
    k1: Signal<Local, Bit>,
    one1: Constant<Bits<1>>,
    one6: Constant<Bits<6>>,
    two6: Constant<Bits<6>>,
    one18: Constant<Bits<18>>,
    ones19: Constant<Bits<19>>,
    zero19: Constant<Bits<19>>,
    am_sext: Constant<Bits<18>>,
    p_sext: Constant<Bits<18>>,
}

impl Default for BitModAccumulate {
    fn default() -> Self {
        Self {
            am: Default::default(),
            ae: Default::default(),
            p: Default::default(),
            ep: Default::default(),
            am_next: Default::default(),
            ae_next: Default::default(),
            p_wins: Default::default(),
            x: Default::default(),
            shift: Default::default(),
            am18z: Default::default(),
            am18: Default::default(),
            p18z: Default::default(),
            p18: Default::default(),
            op_big: Default::default(),
            op_small: Default::default(),
            small19: Default::default(),
            small_up: Default::default(),
            flip: Default::default(),
            small_x: Default::default(),
            small_xs: Default::default(),
            small_sh: Default::default(),
            aligned: Default::default(),
            round: Default::default(),
            s0: Default::default(),
            s: Default::default(),
            k0: Default::default(),
            k1: Default::default(),
            one1: k(1),
            one6: k(1),
            two6: k(2),
            one18: k(1),
            ones19: k((1 << 19) - 1),
            zero19: k(0),
            am_sext: k(0b11 << 16),
            p_sext: k(1 << 17),
        }
    }
}

impl Logic for BitModAccumulate {
    #[hdl_gen]
    fn update(&mut self) {
        self.p_wins.next = self.ep.val() > self.ae.val();
        if self.p_wins.val() {
            self.x.next = self.ep.val();
            self.shift.next = self.ep.val() - self.ae.val();
        } else {
            self.x.next = self.ae.val();
            self.shift.next = self.ae.val() - self.ep.val();
        }
        // Sign-extend both operands to 18 bits.
        self.am18z.next = bit_cast::<18, 16>(self.am.val());
        if self.am.val().get_bit(15) {
            self.am18.next = self.am18z.val() | self.am_sext.val();
        } else {
            self.am18.next = self.am18z.val();
        }
        self.p18z.next = bit_cast::<18, 17>(self.p.val());
        if self.p.val().get_bit(16) {
            self.p18.next = self.p18z.val() | self.p_sext.val();
        } else {
            self.p18.next = self.p18z.val();
        }
        if self.p_wins.val() {
            self.op_big.next = self.p18.val();
            self.op_small.next = self.am18.val();
        } else {
            self.op_big.next = self.am18.val();
            self.op_small.next = self.p18.val();
        }
        // {small, 0} >> shift, arithmetic: ((v ^ sign) >> shift) ^ sign.
        self.small19.next = bit_cast::<19, 18>(self.op_small.val());
        self.small_up.next = self.small19.val() << self.one1.val();
        if self.op_small.val().get_bit(17) {
            self.flip.next = self.ones19.val();
        } else {
            self.flip.next = self.zero19.val();
        }
        self.small_x.next = self.small_up.val() ^ self.flip.val();
        self.small_xs.next = self.small_x.val() >> self.shift.val();
        self.small_sh.next = self.small_xs.val() ^ self.flip.val();
        self.aligned.next = self.small_sh.val().get_bits::<18>(1);
        self.round.next = self.small_sh.val().get_bit(0);
        self.s0.next = self.op_big.val() + self.aligned.val();
        if self.round.val() {
            self.s.next = self.s0.val() + self.one18.val();
        } else {
            self.s.next = self.s0.val();
        }
        // Normalize to 16 signed bits.
        self.k1.next = self.s.val().get_bit(17) == self.s.val().get_bit(16);
        self.k0.next = self.k1.val() & (self.s.val().get_bit(16) == self.s.val().get_bit(15));
        if self.k0.val() {
            self.am_next.next = self.s.val().get_bits::<16>(0);
            self.ae_next.next = self.x.val();
        } else if self.k1.val() {
            self.am_next.next = self.s.val().get_bits::<16>(1);
            self.ae_next.next = self.x.val() + self.one6.val();
        } else {
            self.am_next.next = self.s.val().get_bits::<16>(2);
            self.ae_next.next = self.x.val() + self.two6.val();
        }
    }
}

/// One compute cycle (combinational): decoders, lanes, `E`, `P`, `Ep` and the accumulator step.
#[derive(LogicBlock)]
pub struct BitModCompute {
    /// PE type select.
    pub type_sel: Signal<In, Bits<3>>,
    /// Beat phase (the term significance).
    pub phase: Signal<In, Bit>,
    /// Activation of lane 0.
    pub act0: Signal<In, Bits<16>>,
    /// Activation of lane 1.
    pub act1: Signal<In, Bits<16>>,
    /// Activation of lane 2.
    pub act2: Signal<In, Bits<16>>,
    /// Activation of lane 3.
    pub act3: Signal<In, Bits<16>>,
    /// Weight code of lane 0.
    pub code0: Signal<In, Bits<4>>,
    /// Weight code of lane 1.
    pub code1: Signal<In, Bits<4>>,
    /// Weight code of lane 2.
    pub code2: Signal<In, Bits<4>>,
    /// Weight code of lane 3.
    pub code3: Signal<In, Bits<4>>,
    /// Accumulator mantissa before the cycle.
    pub am: Signal<In, Bits<16>>,
    /// Accumulator exponent before the cycle.
    pub ae: Signal<In, Bits<6>>,
    /// `E`, the largest lane exponent.
    pub emax: Signal<Local, Bits<6>>,
    /// The partial sum `P`, 17-bit two's complement.
    pub p: Signal<Local, Bits<17>>,
    /// `Ep = E + phase`.
    pub ep: Signal<Local, Bits<6>>,
    /// An activation of the cycle has exponent field 31.
    pub special: Signal<Out, Bit>,
    /// Accumulator mantissa after the cycle.
    pub am_next: Signal<Out, Bits<16>>,
    /// Accumulator exponent after the cycle.
    pub ae_next: Signal<Out, Bits<6>>,
    /// Weight decoder of lane 0.
    pub dec0: BitModDecoder,
    /// Weight decoder of lane 1.
    pub dec1: BitModDecoder,
    /// Weight decoder of lane 2.
    pub dec2: BitModDecoder,
    /// Weight decoder of lane 3.
    pub dec3: BitModDecoder,
    /// Lane 0 front.
    pub lane0: BitModLane,
    /// Lane 1 front.
    pub lane1: BitModLane,
    /// Lane 2 front.
    pub lane2: BitModLane,
    /// Lane 3 front.
    pub lane3: BitModLane,
    /// Lane 0 alignment.
    pub align0: BitModAlign,
    /// Lane 1 alignment.
    pub align1: BitModAlign,
    /// Lane 2 alignment.
    pub align2: BitModAlign,
    /// Lane 3 alignment.
    pub align3: BitModAlign,
    /// The accumulator step.
    pub acc: BitModAccumulate,
    max01: Signal<Local, Bits<6>>,
    max23: Signal<Local, Bits<6>>,
    p01: Signal<Local, Bits<17>>,
    p23: Signal<Local, Bits<17>>,
    one6: Constant<Bits<6>>,
}

impl Default for BitModCompute {
    fn default() -> Self {
        Self {
            type_sel: Default::default(),
            phase: Default::default(),
            act0: Default::default(),
            act1: Default::default(),
            act2: Default::default(),
            act3: Default::default(),
            code0: Default::default(),
            code1: Default::default(),
            code2: Default::default(),
            code3: Default::default(),
            am: Default::default(),
            ae: Default::default(),
            emax: Default::default(),
            p: Default::default(),
            ep: Default::default(),
            special: Default::default(),
            am_next: Default::default(),
            ae_next: Default::default(),
            dec0: Default::default(),
            dec1: Default::default(),
            dec2: Default::default(),
            dec3: Default::default(),
            lane0: Default::default(),
            lane1: Default::default(),
            lane2: Default::default(),
            lane3: Default::default(),
            align0: Default::default(),
            align1: Default::default(),
            align2: Default::default(),
            align3: Default::default(),
            acc: Default::default(),
            max01: Default::default(),
            max23: Default::default(),
            p01: Default::default(),
            p23: Default::default(),
            one6: k(1),
        }
    }
}

impl Logic for BitModCompute {
    #[hdl_gen]
    fn update(&mut self) {
        self.dec0.type_sel.next = self.type_sel.val();
        self.dec1.type_sel.next = self.type_sel.val();
        self.dec2.type_sel.next = self.type_sel.val();
        self.dec3.type_sel.next = self.type_sel.val();
        self.dec0.phase.next = self.phase.val();
        self.dec1.phase.next = self.phase.val();
        self.dec2.phase.next = self.phase.val();
        self.dec3.phase.next = self.phase.val();
        self.dec0.code.next = self.code0.val();
        self.dec1.code.next = self.code1.val();
        self.dec2.code.next = self.code2.val();
        self.dec3.code.next = self.code3.val();
        self.lane0.act.next = self.act0.val();
        self.lane1.act.next = self.act1.val();
        self.lane2.act.next = self.act2.val();
        self.lane3.act.next = self.act3.val();
        self.lane0.term.next = self.dec0.term.val();
        self.lane1.term.next = self.dec1.term.val();
        self.lane2.term.next = self.dec2.term.val();
        self.lane3.term.next = self.dec3.term.val();
        if self.lane0.le.val() > self.lane1.le.val() {
            self.max01.next = self.lane0.le.val();
        } else {
            self.max01.next = self.lane1.le.val();
        }
        if self.lane2.le.val() > self.lane3.le.val() {
            self.max23.next = self.lane2.le.val();
        } else {
            self.max23.next = self.lane3.le.val();
        }
        if self.max01.val() > self.max23.val() {
            self.emax.next = self.max01.val();
        } else {
            self.emax.next = self.max23.val();
        }
        self.align0.emax.next = self.emax.val();
        self.align1.emax.next = self.emax.val();
        self.align2.emax.next = self.emax.val();
        self.align3.emax.next = self.emax.val();
        self.align0.le.next = self.lane0.le.val();
        self.align1.le.next = self.lane1.le.val();
        self.align2.le.next = self.lane2.le.val();
        self.align3.le.next = self.lane3.le.val();
        self.align0.sig.next = self.lane0.sig.val();
        self.align1.sig.next = self.lane1.sig.val();
        self.align2.sig.next = self.lane2.sig.val();
        self.align3.sig.next = self.lane3.sig.val();
        self.align0.neg.next = self.lane0.neg.val();
        self.align1.neg.next = self.lane1.neg.val();
        self.align2.neg.next = self.lane2.neg.val();
        self.align3.neg.next = self.lane3.neg.val();
        self.p01.next = self.align0.lane.val() + self.align1.lane.val();
        self.p23.next = self.align2.lane.val() + self.align3.lane.val();
        self.p.next = self.p01.val() + self.p23.val();
        if self.phase.val() {
            self.ep.next = self.emax.val() + self.one6.val();
        } else {
            self.ep.next = self.emax.val();
        }
        self.special.next = self.lane0.special.val()
            | self.lane1.special.val()
            | self.lane2.special.val()
            | self.lane3.special.val();
        self.acc.am.next = self.am.val();
        self.acc.ae.next = self.ae.val();
        self.acc.p.next = self.p.val();
        self.acc.ep.next = self.ep.val();
        self.am_next.next = self.acc.am_next.val();
        self.ae_next.next = self.acc.ae_next.val();
    }
}

/// The bit-serial dequantizer (clocked).
///
/// At each rising edge of `clock`, in priority order: `reset` clears every register (idle,
/// `out_valid` 0); `load` (the hand-off) takes `load_m`, `load_e`, `load_scale`,
/// `load_special` and schedules 8 steps, the first of which takes `D` as 0; otherwise, while
/// steps remain, one step `D <- 2·D + (scale bit ? Am : 0)` runs with the scale bits MSB
/// first. A step also runs at a `load` edge when steps remain (the previous group's last step,
/// since hand-offs are at least 8 cycles apart). The edge of the last step registers `out_exp`
/// and `out_special` and sets `out_valid` for one cycle; `out_man` is `D` itself.
#[derive(LogicBlock)]
pub struct BitModDequant {
    /// Clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub reset: Signal<In, Bit>,
    /// Hand-off: load a group.
    pub load: Signal<In, Bit>,
    /// The group's accumulator mantissa `Am`.
    pub load_m: Signal<In, Bits<16>>,
    /// The group's accumulator exponent `Ae`.
    pub load_e: Signal<In, Bits<6>>,
    /// The group's integer scale.
    pub load_scale: Signal<In, Bits<8>>,
    /// The group's special flag.
    pub load_special: Signal<In, Bit>,
    /// A result is on `out_exp`, `out_man`, `out_special` (one cycle).
    pub out_valid: Signal<Out, Bit>,
    /// Result exponent `Ae`.
    pub out_exp: Signal<Out, Bits<6>>,
    /// Result mantissa `D = Am · scale`, 24-bit two's complement (the `D` register).
    pub out_man: Signal<Out, Bits<24>>,
    /// Result special flag.
    pub out_special: Signal<Out, Bit>,
    m: DFF<Bits<16>>,
    e: DFF<Bits<6>>,
    scale: DFF<Bits<8>>,
    special: DFF<Bit>,
    count: DFF<Bits<4>>,
    first: DFF<Bit>,
    dq: DFF<Bits<24>>,
    oexp: DFF<Bits<6>>,
    ospecial: DFF<Bit>,
    ovalid: DFF<Bit>,
    active: Signal<Local, Bit>,
    last: Signal<Local, Bit>,
    m24: Signal<Local, Bits<24>>,
    m_ext: Signal<Local, Bits<24>>,
    addend: Signal<Local, Bits<24>>,
    d2: Signal<Local, Bits<24>>,
    base: Signal<Local, Bits<24>>,
    d_next: Signal<Local, Bits<24>>,
    scale_next: Signal<Local, Bits<8>>,
    count_next: Signal<Local, Bits<4>>,
    sext24: Constant<Bits<24>>,
    zero24: Constant<Bits<24>>,
    zero16: Constant<Bits<16>>,
    zero8: Constant<Bits<8>>,
    zero6: Constant<Bits<6>>,
    zero4: Constant<Bits<4>>,
    one4: Constant<Bits<4>>,
    steps: Constant<Bits<4>>,
    one1: Constant<Bits<1>>,
    yes: Constant<Bit>,
    no: Constant<Bit>,
}

impl Default for BitModDequant {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            load: Default::default(),
            load_m: Default::default(),
            load_e: Default::default(),
            load_scale: Default::default(),
            load_special: Default::default(),
            out_valid: Default::default(),
            out_exp: Default::default(),
            out_man: Default::default(),
            out_special: Default::default(),
            m: Default::default(),
            e: Default::default(),
            scale: Default::default(),
            special: Default::default(),
            count: Default::default(),
            first: Default::default(),
            dq: Default::default(),
            oexp: Default::default(),
            ospecial: Default::default(),
            ovalid: Default::default(),
            active: Default::default(),
            last: Default::default(),
            m24: Default::default(),
            m_ext: Default::default(),
            addend: Default::default(),
            d2: Default::default(),
            base: Default::default(),
            d_next: Default::default(),
            scale_next: Default::default(),
            count_next: Default::default(),
            sext24: k(0xFF_0000),
            zero24: k(0),
            zero16: k(0),
            zero8: k(0),
            zero6: k(0),
            zero4: k(0),
            one4: k(1),
            steps: k(SCALE_BITS as u64),
            one1: k(1),
            yes: Constant::new(true),
            no: Constant::new(false),
        }
    }
}

impl Logic for BitModDequant {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, m, e, scale, special, count, first, dq, oexp, ospecial, ovalid);
        self.active.next = self.count.q.val().any();
        self.last.next = self.count.q.val() == self.one4.val();
        self.m24.next = bit_cast::<24, 16>(self.m.q.val());
        if self.m.q.val().get_bit(15) {
            self.m_ext.next = self.m24.val() | self.sext24.val();
        } else {
            self.m_ext.next = self.m24.val();
        }
        if self.scale.q.val().get_bit(7) {
            self.addend.next = self.m_ext.val();
        } else {
            self.addend.next = self.zero24.val();
        }
        self.d2.next = self.dq.q.val() << self.one1.val();
        if self.first.q.val() {
            self.base.next = self.zero24.val();
        } else {
            self.base.next = self.d2.val();
        }
        self.d_next.next = self.base.val() + self.addend.val();
        self.scale_next.next = self.scale.q.val() << self.one1.val();
        self.count_next.next = self.count.q.val() - self.one4.val();
        self.ovalid.d.next = self.active.val() & self.last.val();
        if self.active.val() {
            self.dq.d.next = self.d_next.val();
            self.count.d.next = self.count_next.val();
            self.scale.d.next = self.scale_next.val();
            self.first.d.next = self.no.val();
        }
        if self.active.val() & self.last.val() {
            self.oexp.d.next = self.e.q.val();
            self.ospecial.d.next = self.special.q.val();
        }
        if self.load.val() {
            self.m.d.next = self.load_m.val();
            self.e.d.next = self.load_e.val();
            self.scale.d.next = self.load_scale.val();
            self.special.d.next = self.load_special.val();
            self.count.d.next = self.steps.val();
            self.first.d.next = self.yes.val();
        }
        if self.reset.val() {
            self.m.d.next = self.zero16.val();
            self.e.d.next = self.zero6.val();
            self.scale.d.next = self.zero8.val();
            self.special.d.next = self.no.val();
            self.count.d.next = self.zero4.val();
            self.first.d.next = self.no.val();
            self.dq.d.next = self.zero24.val();
            self.oexp.d.next = self.zero6.val();
            self.ospecial.d.next = self.no.val();
            self.ovalid.d.next = self.no.val();
        }
        self.out_valid.next = self.ovalid.q.val();
        self.out_exp.next = self.oexp.q.val();
        self.out_man.next = self.dq.q.val();
        self.out_special.next = self.ospecial.q.val();
    }
}

/// The BitMoD PE: ports and transaction of `docs/bitmod.md` section 5.
///
/// At each rising edge of `clock`: `reset` clears the phase, the accumulator `(0, 0)`, the
/// special flag and the dequantizer. Otherwise an `in_valid` cycle toggles the phase and loads
/// the accumulator step's result and the special flag (ORed with this cycle's activations);
/// when it is the phase-1 cycle of a beat with `in_last` (the hand-off), the accumulator and
/// the special flag restart at 0 instead and the new values go to the dequantizer with
/// `in_scale`. A cycle with `in_valid = 0` changes nothing but the dequantizer.
#[derive(LogicBlock)]
pub struct BitModPe {
    /// Clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub reset: Signal<In, Bit>,
    /// This cycle processes a term of the beat on the inputs.
    pub in_valid: Signal<In, Bit>,
    /// The beat is the last of its group.
    pub in_last: Signal<In, Bit>,
    /// PE type select `{4-bit mode, variant[1:0]}`, stable for the whole group.
    pub in_type: Signal<In, Bits<3>>,
    /// Integer scale of the group, sampled at the hand-off.
    pub in_scale: Signal<In, Bits<8>>,
    /// FP16 activation of lane 0.
    pub in_act0: Signal<In, Bits<16>>,
    /// FP16 activation of lane 1.
    pub in_act1: Signal<In, Bits<16>>,
    /// FP16 activation of lane 2.
    pub in_act2: Signal<In, Bits<16>>,
    /// FP16 activation of lane 3.
    pub in_act3: Signal<In, Bits<16>>,
    /// Weight code of lane 0.
    pub in_code0: Signal<In, Bits<4>>,
    /// Weight code of lane 1.
    pub in_code1: Signal<In, Bits<4>>,
    /// Weight code of lane 2.
    pub in_code2: Signal<In, Bits<4>>,
    /// Weight code of lane 3.
    pub in_code3: Signal<In, Bits<4>>,
    /// One-cycle pulse: a group result is on `out_exp`, `out_man`, `out_special`.
    pub out_valid: Signal<Out, Bit>,
    /// Result exponent `Ae`.
    pub out_exp: Signal<Out, Bits<6>>,
    /// Result mantissa `D`, 24-bit two's complement.
    pub out_man: Signal<Out, Bits<24>>,
    /// An activation of the group had exponent field 31.
    pub out_special: Signal<Out, Bit>,
    /// The compute cycle's combinational datapath.
    pub compute: BitModCompute,
    /// The dequantizer.
    pub dequant: BitModDequant,
    phase: DFF<Bit>,
    am: AccReg<16>,
    ae: AccReg<6>,
    special: DFF<Bit>,
    handoff: Signal<Local, Bit>,
    special_all: Signal<Local, Bit>,
    no: Constant<Bit>,
}

impl Default for BitModPe {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_last: Default::default(),
            in_type: Default::default(),
            in_scale: Default::default(),
            in_act0: Default::default(),
            in_act1: Default::default(),
            in_act2: Default::default(),
            in_act3: Default::default(),
            in_code0: Default::default(),
            in_code1: Default::default(),
            in_code2: Default::default(),
            in_code3: Default::default(),
            out_valid: Default::default(),
            out_exp: Default::default(),
            out_man: Default::default(),
            out_special: Default::default(),
            compute: Default::default(),
            dequant: Default::default(),
            phase: Default::default(),
            am: AccReg::new(),
            ae: AccReg::new(),
            special: Default::default(),
            handoff: Default::default(),
            special_all: Default::default(),
            no: Constant::new(false),
        }
    }
}

impl BitModPe {
    /// The beat phase register (0: term 0 next, 1: term 1 next).
    pub fn phase(&self) -> bool {
        self.phase.q.val()
    }
    /// The accumulator registers `(Am, Ae)`.
    pub fn accumulator(&self) -> (u64, u64) {
        (self.am.q.val().to_u64(), self.ae.q.val().to_u64())
    }
}

impl Logic for BitModPe {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, phase, special);
        self.dequant.clock.next = self.clock.val();
        self.compute.type_sel.next = self.in_type.val();
        self.compute.phase.next = self.phase.q.val();
        self.compute.act0.next = self.in_act0.val();
        self.compute.act1.next = self.in_act1.val();
        self.compute.act2.next = self.in_act2.val();
        self.compute.act3.next = self.in_act3.val();
        self.compute.code0.next = self.in_code0.val();
        self.compute.code1.next = self.in_code1.val();
        self.compute.code2.next = self.in_code2.val();
        self.compute.code3.next = self.in_code3.val();
        self.compute.am.next = self.am.q.val();
        self.compute.ae.next = self.ae.q.val();
        self.handoff.next = self.in_valid.val() & self.phase.q.val() & self.in_last.val();
        self.special_all.next = self.special.q.val() | self.compute.special.val();
        // The group accumulator (Am, Ae): reset, then the hand-off (clear), then in_valid.
        self.am.clock.next = self.clock.val();
        self.ae.clock.next = self.clock.val();
        self.am.reset.next = self.reset.val();
        self.ae.reset.next = self.reset.val();
        self.am.clear.next = self.handoff.val();
        self.ae.clear.next = self.handoff.val();
        self.am.en.next = self.in_valid.val();
        self.ae.en.next = self.in_valid.val();
        self.am.d.next = self.compute.am_next.val();
        self.ae.d.next = self.compute.ae_next.val();
        if self.in_valid.val() {
            self.phase.d.next = !self.phase.q.val();
            self.special.d.next = self.special_all.val();
        }
        if self.handoff.val() {
            self.special.d.next = self.no.val();
        }
        if self.reset.val() {
            self.phase.d.next = self.no.val();
            self.special.d.next = self.no.val();
        }
        self.dequant.reset.next = self.reset.val();
        self.dequant.load.next = self.handoff.val();
        self.dequant.load_m.next = self.compute.am_next.val();
        self.dequant.load_e.next = self.compute.ae_next.val();
        self.dequant.load_scale.next = self.in_scale.val();
        self.dequant.load_special.next = self.special_all.val();
        self.out_valid.next = self.dequant.out_valid.val();
        self.out_exp.next = self.dequant.out_exp.val();
        self.out_man.next = self.dequant.out_man.val();
        self.out_special.next = self.dequant.out_special.val();
    }
}

/// The BitMoD PE in the RTL registry.
pub struct BitModRtl;

/// The one policy: the module serves both weight widths of the reference model's policies
/// `bitmod4` and `bitmod3` (type-select bit 2 picks the width per group).
pub const POLICY: &str = "bitmod34";

impl BitModRtl {
    fn spec(&self, cfg: &RtlConfig) -> ModuleSpec {
        let sem = vec![
            format!(
                "BitMoD bit-serial PE, the reference model pelab_sim::bitmod with PeConfig \
                 {{ guard_bits: {GUARD_BITS}, acc_bits: {ACC_BITS}, scale_bits: {SCALE_BITS} }} \
                 bit for bit (docs/bitmod.md): 4 lanes of FP16 activations times 3- or 4-bit \
                 weight codes; one module serves both the bitmod4 and the bitmod3 policy."
            ),
            "in_type = {4-bit mode, variant[1:0]}: 0 fp3-er+, 1 fp3-er-, 2 fp3-ea+, 3 fp3-ea-, \
             4 fp4-er+, 5 fp4-er-, 6 fp4-ea+, 7 fp4-ea- (plain fp3 / fp4 groups run under any \
             select of their width). Codes are sign-magnitude; the spare code (sign 1, \
             magnitude 0) holds the variant's extra value (+-3, +-6, +-10, +-16). 3-bit codes \
             use bits [2:0]."
                .into(),
            "Each weight is two signed power-of-two terms (term code {present, sign, exp[1:0]}, \
             decoded inside the PE); term 0 (significance 0) is processed in the first cycle \
             of a beat, term 1 (significance 1) in the second."
                .into(),
            "Per cycle: lane exponent le = e + exp (e = FP16 exponent field, or 1 for zero and \
             subnormals; 0 for an absent term); E = max le; each present lane's significand \
             {m[10:0], 3 guard zeros} is shifted right by E - le (bits shifted out dropped) and \
             negated when the activation and term signs differ; P = sum of the 4 lanes \
             (17-bit two's complement) at exponent Ep = E + significance."
                .into(),
            "Group accumulator (Am 16-bit two's complement, Ae 6-bit): X = max(Ae, Ep); the \
             operand with the smaller exponent is shifted right arithmetically to X, rounded \
             half up (the last bit shifted out is the carry-in); S = sum; if S does not fit 16 \
             signed bits it is shifted right by the least k in 1..2 that makes it fit (toward \
             -inf) and Ae = X + k."
                .into(),
            "Dequantizer: after a group, D = Am * in_scale computed one scale bit per cycle, \
             MSB first, D <- 2D + (bit ? Am : 0), exact in 24 bits. The result is \
             out_man * 2^(out_exp - 28) code units (times the integer scale); out_special marks \
             a group with an activation of exponent field 31 (Inf/NaN, result meaningless)."
                .into(),
            "Transaction: a beat (in_act*, in_code*, in_last) is held for two in_valid cycles \
             (term 0, then term 1); a 1-bit phase register toggles on every in_valid cycle. \
             in_valid = 0 leaves phase, accumulator and special flag unchanged. At the edge \
             ending the phase-1 cycle of a beat with in_last = 1 (the hand-off) the group goes \
             to the dequantizer with in_scale and the accumulator restarts at (0, 0): the next \
             cycle may carry the next group. Hand-offs must be at least 8 cycles apart (groups \
             of 16 or more weights meet it back to back). A partial last beat is padded with \
             code 0 and activation +0 by the producer."
                .into(),
            "reset (synchronous, active high): phase 0, accumulator (0, 0), special flag 0, \
             dequantizer idle, out_valid 0, out_exp / out_man / out_special 0."
                .into(),
        ];
        let ports = vec![
            Port::input("clock", 1, "clock, rising edge"),
            Port::input("reset", 1, "synchronous reset, active high"),
            Port::input("in_valid", 1, "this cycle processes a term of the beat"),
            Port::input("in_last", 1, "the beat is the last of its group"),
            Port::input("in_type", 3, "type select {4-bit mode, variant[1:0]}"),
            Port::input(
                "in_scale",
                8,
                "integer group scale, sampled at the hand-off",
            ),
            Port::input("in_act0", 16, "FP16 activation, lane 0"),
            Port::input("in_act1", 16, "FP16 activation, lane 1"),
            Port::input("in_act2", 16, "FP16 activation, lane 2"),
            Port::input("in_act3", 16, "FP16 activation, lane 3"),
            Port::input("in_code0", 4, "weight code, lane 0"),
            Port::input("in_code1", 4, "weight code, lane 1"),
            Port::input("in_code2", 4, "weight code, lane 2"),
            Port::input("in_code3", 4, "weight code, lane 3"),
            Port::output(
                "out_valid",
                1,
                "one-cycle pulse: a group result is on the outputs",
            ),
            Port::output("out_exp", 6, "result exponent Ae"),
            Port::output("out_man", 24, "result mantissa D, two's complement"),
            Port::output("out_special", 1, "the group had an Inf/NaN activation"),
        ];
        ModuleSpec {
            name: self.module_name(cfg),
            pe: "bitmod".into(),
            config: cfg.pairs(),
            semantics: sem,
            latency: LATENCY,
            timing: format!(
                "Counting a group's first compute cycle as cycle 0, a group of C compute cycles \
                 (2 per beat of 4 weights; 64 for 128 weights) without idle cycles has its \
                 result valid (out_valid = 1) in cycle C + {SCALE_BITS}: {LATENCY} cycles after \
                 its last compute cycle. The dequantizer overlaps the next group, so n \
                 back-to-back groups of 128 weights take 64n + {SCALE_BITS} cycles. out_man \
                 keeps the result until the next group's first dequantizer step."
            ),
            ports,
        }
    }
}

impl PeRtl for BitModRtl {
    fn id(&self) -> &'static str {
        "bitmod"
    }
    fn summary(&self) -> &'static str {
        "BitMoD bit-serial PE: 4 FP16 lanes x 3/4-bit mixture-of-datatype weights (two \
         power-of-two terms per weight), block-floating-point group accumulator, bit-serial \
         8-bit dequantizer"
    }
    fn configs(&self) -> Vec<RtlConfig> {
        vec![RtlConfig::new("fp16", POLICY, 0)]
    }
    fn module_name(&self, cfg: &RtlConfig) -> String {
        format!("pelab_bitmod_{}_{}", cfg.format, cfg.policy)
    }
    fn verilog(&self, cfg: &RtlConfig) -> Result<RtlModule> {
        validate(self, cfg)?;
        let spec = self.spec(cfg);
        emit_block(&mut BitModPe::default(), &spec)
    }
    fn simulate(&self, cfg: &RtlConfig, rows: &[Vec<u64>]) -> Result<Vec<Vec<u64>>> {
        validate(self, cfg)?;
        let spec = self.spec(cfg);
        let inputs: Vec<&Port> = spec
            .ports
            .iter()
            .filter(|p| p.dir == PortDir::Input && p.name != "clock")
            .collect();
        let names: Vec<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, DRIVEN, "the driver below follows the port order");
        let widths: Vec<(&str, u32)> = inputs
            .iter()
            .map(|p| (p.name.as_str(), p.width as u32))
            .collect();
        check_rows(&spec.name, rows, &widths)?;
        let mut uut = BitModPe::default();
        uut.connect_all();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            uut.reset.next = r[0] == 1;
            uut.in_valid.next = r[1] == 1;
            uut.in_last.next = r[2] == 1;
            uut.in_type.next = bits(r[3]);
            uut.in_scale.next = bits(r[4]);
            uut.in_act0.next = bits(r[5]);
            uut.in_act1.next = bits(r[6]);
            uut.in_act2.next = bits(r[7]);
            uut.in_act3.next = bits(r[8]);
            uut.in_code0.next = bits(r[9]);
            uut.in_code1.next = bits(r[10]);
            uut.in_code2.next = bits(r[11]);
            uut.in_code3.next = bits(r[12]);
            tick(&mut uut, |u| &mut u.clock)?;
            out.push(vec![
                uut.out_valid.val() as u64,
                uut.out_exp.val().to_u64(),
                uut.out_man.val().to_u64(),
                uut.out_special.val() as u64,
            ]);
        }
        Ok(out)
    }
}

/// The input ports in port order (`clock` excluded), as `simulate` drives them.
const DRIVEN: [&str; 13] = [
    "reset", "in_valid", "in_last", "in_type", "in_scale", "in_act0", "in_act1", "in_act2",
    "in_act3", "in_code0", "in_code1", "in_code2", "in_code3",
];
