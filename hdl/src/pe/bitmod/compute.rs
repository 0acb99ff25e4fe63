//! One compute cycle: the four lanes' decoders, fronts and alignments, `E`, `P`, `Ep` and the
//! accumulator step.

use super::accumulate::BitModAccumulate;
use super::decoder::BitModDecoder;
use super::lane::{BitModAlign, BitModLane};
use crate::k;
use rust_hdl::prelude::*;

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
