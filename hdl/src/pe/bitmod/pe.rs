//! The PE: phase, accumulator and special-flag registers, the hand-off and the dequantizer.

use super::compute::BitModCompute;
use super::dequant::BitModDequant;
use crate::blocks::AccReg;
use rust_hdl::prelude::*;

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
