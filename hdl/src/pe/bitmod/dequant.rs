//! The bit-serial integer dequantizer: `D <- 2·D + (scale bit ? Am : 0)`, MSB first.

use super::params::SCALE_BITS;
use crate::k;
use rust_hdl::prelude::*;

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
