//! The weight decoder: type select, weight code and beat phase to the term code of that phase,
//! from the magnitude table of `docs/bitmod.md` section 3 held as two small constant ROMs.

use crate::k;
use rust_hdl::prelude::*;

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
