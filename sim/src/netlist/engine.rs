//! The bit-parallel evaluator: one [`Word`] per net holds [`LANES`] vectors; a step runs the
//! levelized program once; toggles are counted per cell output, with zero delay or, with
//! [`Delay::Unit`] or [`Delay::Liberty`], glitches included (see [`super::timed`]).

use super::timed::{Delay, Timed};
use super::{Netlist, Op, Word, LANES, LANE_WORDS};
use crate::{Error, Result};

/// How toggles are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToggleMode {
    /// Not counted (fastest; verification).
    Off,
    /// Lanes hold consecutive operations of one stream (combinational designs): lane `i` is
    /// compared with lane `i - 1`, lane 0 with the last lane of the previous step.
    Lanes,
    /// Lanes are independent streams (clocked designs): each lane is compared with its own
    /// value at the previous sample.
    Time,
}

/// A simulation of one netlist.
pub struct Sim<'a> {
    net: &'a Netlist,
    vals: Vec<Word>,
    mode: ToggleMode,
    toggles: Vec<u64>,
    last: Vec<Word>,
    started: bool,
    has_async: bool,
    delay: Delay,
    /// Unit delay: the stepping state, and the zero-delay toggle counts beside the timed ones.
    timed: Option<Box<Timed>>,
    zero_toggles: Vec<u64>,
    /// Zero delay, when recording the time at 1: samples at 1 per counted net, and the step
    /// length.
    ones: Option<(u32, Vec<u64>)>,
    /// Lane-cycles clocked so far (clock edges times active lanes, as given to [`Sim::clock`]).
    pub lane_cycles: u64,
    /// Vectors (lane samples) over which toggles were counted.
    pub samples: u64,
    /// With a compiled kernel: store only the observed nets ([`Sim::outputs_only`]).
    outputs_only: bool,
    /// Bit planes of an input port being set (kept to avoid an allocation per call).
    scratch: Vec<Word>,
}

#[inline(always)]
fn map1(a: &Word, f: impl Fn(u64) -> u64) -> Word {
    let mut y = [0u64; LANE_WORDS];
    for k in 0..LANE_WORDS {
        y[k] = f(a[k]);
    }
    y
}

/// Transposes a 64x64 bit matrix in place: afterwards bit `i` of `a[j]` is what bit `j` of
/// `a[i]` was.
pub fn transpose64(a: &mut [u64; 64]) {
    #[inline(always)]
    fn stage<const J: usize>(a: &mut [u64; 64], m: u64) {
        // Pairs (k, k + J) for every k whose bit J is clear; the inner loop has a fixed
        // length, so it unrolls and vectorizes.
        for blk in (0..64).step_by(2 * J) {
            for k in blk..blk + J {
                let t = ((a[k] >> J) ^ a[k + J]) & m;
                a[k] ^= t << J;
                a[k + J] ^= t;
            }
        }
    }
    stage::<32>(a, 0x0000_0000_FFFF_FFFF);
    stage::<16>(a, 0x0000_FFFF_0000_FFFF);
    stage::<8>(a, 0x00FF_00FF_00FF_00FF);
    stage::<4>(a, 0x0F0F_0F0F_0F0F_0F0F);
    stage::<2>(a, 0x3333_3333_3333_3333);
    stage::<1>(a, 0x5555_5555_5555_5555);
}

impl<'a> Sim<'a> {
    /// A zero-delay simulation with every flip-flop at its initial value and every input 0.
    pub fn new(net: &'a Netlist, mode: ToggleMode) -> Sim<'a> {
        Sim::with_delay(net, mode, Delay::Zero)
    }

    /// A simulation under delay model `delay`. With [`Delay::Unit`] and toggles counted, each
    /// count also steps the logic in unit delays from the previous settled state (the previous
    /// lane in [`ToggleMode::Lanes`], the lane's previous sample in [`ToggleMode::Time`]) to
    /// the current one, and [`Sim::toggles`] counts every value change, glitches included;
    /// the zero-delay counts stay available ([`Sim::zero_delay_toggles`]). Settled values,
    /// outputs and flip-flops are the same under both models. [`Delay::Liberty`] steps with
    /// the delays the netlist carries ([`Netlist::annotate_delays`]); it panics when the
    /// netlist carries none.
    pub fn with_delay(net: &'a Netlist, mode: ToggleMode, delay: Delay) -> Sim<'a> {
        // The evaluator reads and writes nets without bounds checks: check every index once.
        assert!(
            net.program.iter().all(|i| [i.a, i.b, i.c, i.d, i.y]
                .iter()
                .all(|&x| (x as usize) < net.nets)),
            "netlist program refers to a net beyond its net count"
        );
        let mut vals = vec![[0u64; LANE_WORDS]; net.nets];
        vals[1] = [u64::MAX; LANE_WORDS];
        for f in &net.flops {
            vals[f.q as usize] = [if f.init { u64::MAX } else { 0 }; LANE_WORDS];
        }
        Sim {
            net,
            vals,
            mode,
            toggles: vec![0; net.counted.len()],
            last: if mode == ToggleMode::Time {
                vec![[0; LANE_WORDS]; net.counted.len()]
            } else {
                Vec::new()
            },
            started: false,
            has_async: net.flops.iter().any(|f| !f.async_reset.is_empty()),
            delay,
            timed: (delay.timed() && mode != ToggleMode::Off)
                .then(|| Box::new(Timed::new(net, delay))),
            zero_toggles: if delay.timed() {
                vec![0; net.counted.len()]
            } else {
                Vec::new()
            },
            ones: None,
            lane_cycles: 0,
            samples: 0,
            outputs_only: false,
            scratch: Vec::new(),
        }
    }

    /// The netlist.
    pub fn netlist(&self) -> &'a Netlist {
        self.net
    }

    /// Sets input port `port` from bit planes: `planes[b]` holds bit `b` in every lane.
    pub fn set_planes(&mut self, port: usize, planes: &[Word]) {
        for (k, &n) in self.net.inputs[port].bits.iter().enumerate() {
            if n > 1 {
                self.vals[n as usize] = planes.get(k).copied().unwrap_or([0; LANE_WORDS]);
            }
        }
    }

    /// Sets input port `port` to `values[i]` in lane `i` (lanes past the slice get 0).
    pub fn set_values(&mut self, port: usize, values: &[u64]) {
        let bits = self.net.inputs[port].bits.len();
        let mut planes = std::mem::take(&mut self.scratch);
        planes.resize(bits, [0; LANE_WORDS]);
        to_planes(values, &mut planes[..bits]);
        self.set_planes(port, &planes[..bits]);
        self.scratch = planes;
    }

    /// The bit planes of output port `port`.
    pub fn planes(&self, port: usize) -> Vec<Word> {
        self.net.outputs[port]
            .bits
            .iter()
            .map(|&n| self.vals[n as usize])
            .collect()
    }

    /// Copies the bit planes of output port `port` into `out` (one per bit).
    pub fn planes_into(&self, port: usize, out: &mut [Word]) {
        for (o, &n) in out.iter_mut().zip(&self.net.outputs[port].bits) {
            *o = self.vals[n as usize];
        }
    }

    /// The value of output port `port` (at most 64 bits) in the first `out.len()` lanes.
    pub fn values(&self, port: usize, out: &mut [u64]) {
        let bits = &self.net.outputs[port].bits;
        if bits.len() <= 64 {
            let mut planes = [[0u64; LANE_WORDS]; 64];
            for (p, &n) in planes.iter_mut().zip(bits) {
                *p = self.vals[n as usize];
            }
            from_planes(&planes[..bits.len()], out);
        } else {
            from_planes(&self.planes(port), out);
        }
    }

    /// Settles the combinational logic for the current inputs and state.
    pub fn eval(&mut self) {
        self.run_program();
        if self.has_async && self.apply_async() {
            self.run_program();
        }
    }

    /// Only output ports and the nets flip-flops read need to be right after [`Sim::eval`]
    /// (nothing else is looked at): a compiled kernel may then keep the other nets in
    /// registers. Has no effect when toggles are counted or without a kernel.
    pub fn outputs_only(&mut self) {
        self.outputs_only = self.mode == ToggleMode::Off;
    }

    /// Whether the program runs as a compiled kernel ([`Netlist::kernel`]).
    pub fn compiled(&self) -> bool {
        self.net.kernel.get().is_some()
    }

    fn run_program(&mut self) {
        if let Some(k) = self.net.kernel.get() {
            k.0.eval(&mut self.vals, !self.outputs_only);
            return;
        }
        self.interpret();
    }

    /// The reference evaluation: the program interpreted instruction by instruction.
    fn interpret(&mut self) {
        let v = self.vals.as_mut_slice();
        // SAFETY (for the unchecked reads and writes below): `Sim::new` checked every operand
        // and result index of the program against the number of nets, `vals` has one word per
        // net, and the netlist cannot change while `self` borrows it.
        let get = |v: &[Word], k: u32| -> Word { unsafe { *v.get_unchecked(k as usize) } };
        for i in &self.net.program {
            let a = get(v, i.a);
            let b = get(v, i.b);
            let mut y = [0u64; LANE_WORDS];
            match i.op {
                Op::Buf => y = a,
                Op::Not => y = map1(&a, |x| !x),
                Op::And => (0..LANE_WORDS).for_each(|k| y[k] = a[k] & b[k]),
                Op::Nand => (0..LANE_WORDS).for_each(|k| y[k] = !(a[k] & b[k])),
                Op::Or => (0..LANE_WORDS).for_each(|k| y[k] = a[k] | b[k]),
                Op::Nor => (0..LANE_WORDS).for_each(|k| y[k] = !(a[k] | b[k])),
                Op::Xor => (0..LANE_WORDS).for_each(|k| y[k] = a[k] ^ b[k]),
                Op::Xnor => (0..LANE_WORDS).for_each(|k| y[k] = !(a[k] ^ b[k])),
                Op::AndNot => (0..LANE_WORDS).for_each(|k| y[k] = a[k] & !b[k]),
                Op::OrNot => (0..LANE_WORDS).for_each(|k| y[k] = a[k] | !b[k]),
                Op::Mux | Op::NMux => {
                    let s = get(v, i.c);
                    (0..LANE_WORDS).for_each(|k| y[k] = (a[k] & !s[k]) | (b[k] & s[k]));
                    if i.op == Op::NMux {
                        y = map1(&y, |x| !x);
                    }
                }
                Op::Aoi3 => {
                    let c = get(v, i.c);
                    (0..LANE_WORDS).for_each(|k| y[k] = !((a[k] & b[k]) | c[k]));
                }
                Op::Oai3 => {
                    let c = get(v, i.c);
                    (0..LANE_WORDS).for_each(|k| y[k] = !((a[k] | b[k]) & c[k]));
                }
                Op::Aoi4 => {
                    let (c, d) = (get(v, i.c), get(v, i.d));
                    (0..LANE_WORDS).for_each(|k| y[k] = !((a[k] & b[k]) | (c[k] & d[k])));
                }
                Op::Oai4 => {
                    let (c, d) = (get(v, i.c), get(v, i.d));
                    (0..LANE_WORDS).for_each(|k| y[k] = !((a[k] | b[k]) & (c[k] | d[k])));
                }
            }
            // SAFETY: see above.
            unsafe { *v.get_unchecked_mut(i.y as usize) = y };
        }
    }

    /// Forces flip-flops whose asynchronous control is active; true when any was.
    fn apply_async(&mut self) -> bool {
        let mut any = false;
        for f in &self.net.flops {
            for (c, value) in &f.async_reset {
                let act = active(&self.vals[c.net as usize], c.high);
                if act.iter().any(|&w| w != 0) {
                    any = true;
                    let q = &mut self.vals[f.q as usize];
                    for k in 0..LANE_WORDS {
                        q[k] = if *value {
                            q[k] | act[k]
                        } else {
                            q[k] & !act[k]
                        };
                    }
                }
            }
        }
        any
    }

    /// One active clock edge in every lane: flip-flops take their next state from the
    /// values of the last [`Sim::eval`]. Call [`Sim::eval`] afterwards to see the new outputs.
    /// `active_lanes` (for the clock-energy count) is how many lanes carry real cycles.
    pub fn clock(&mut self, active_lanes: usize) {
        let mut next = Vec::with_capacity(self.net.flops.len());
        for f in &self.net.flops {
            let q = self.vals[f.q as usize];
            let d = self.vals[f.d as usize];
            let en = f
                .enable
                .map(|c| active(&self.vals[c.net as usize], c.high))
                .unwrap_or([u64::MAX; LANE_WORDS]);
            let mut y = [0u64; LANE_WORDS];
            for k in 0..LANE_WORDS {
                y[k] = (d[k] & en[k]) | (q[k] & !en[k]);
            }
            if let Some((c, value, gated)) = f.sync_reset {
                let mut r = active(&self.vals[c.net as usize], c.high);
                if gated {
                    for k in 0..LANE_WORDS {
                        r[k] &= en[k];
                    }
                }
                for k in 0..LANE_WORDS {
                    y[k] = if value { y[k] | r[k] } else { y[k] & !r[k] };
                }
            }
            for (c, value) in &f.async_reset {
                let r = active(&self.vals[c.net as usize], c.high);
                for k in 0..LANE_WORDS {
                    y[k] = if *value { y[k] | r[k] } else { y[k] & !r[k] };
                }
            }
            next.push(y);
        }
        for (f, y) in self.net.flops.iter().zip(next) {
            self.vals[f.q as usize] = y;
        }
        self.lane_cycles += active_lanes as u64;
    }

    /// Counts toggles in [`ToggleMode::Lanes`]: lanes `0..n` hold the next `n` operations of
    /// the stream. The very first lane of the first call has no predecessor and is not counted.
    pub fn count_lanes(&mut self, n: usize) -> Result<()> {
        self.require(ToggleMode::Lanes)?;
        let n = n.min(LANES);
        if n == 0 {
            return Ok(());
        }
        let first = !self.started;
        let mut mask = lane_mask(n);
        if first {
            // The very first lane has no predecessor: no sample.
            mask[0] &= !1;
        }
        if self.last.len() != self.toggles.len() {
            self.last = vec![[0; LANE_WORDS]; self.toggles.len()];
        }
        self.each_counted(|t, last, v| {
            // last[0] holds the value of the previous call's final lane.
            let mut prev = if first { v[0] & 1 } else { last[0] };
            let mut count = 0u32;
            for k in 0..LANE_WORDS {
                let shifted = (v[k] << 1) | prev;
                prev = v[k] >> 63;
                count += ((v[k] ^ shifted) & mask[k]).count_ones();
            }
            *t += count as u64;
            last[0] = (v[(n - 1) / 64] >> ((n - 1) % 64)) & 1;
        });
        if let Some(timed) = self.timed.as_mut() {
            timed.shift_lanes(&self.vals, n, first);
            timed.step(self.net, &self.vals, &mask, &mut self.toggles);
        }
        self.add_ones(&mask);
        self.started = true;
        self.samples += n as u64 - u64::from(first);
        Ok(())
    }

    /// Counts toggles in [`ToggleMode::Time`]: each lane in `mask` is compared with its own
    /// value at the previous sample (the first sample only records values).
    pub fn count_time(&mut self, mask: &Word) -> Result<()> {
        self.require(ToggleMode::Time)?;
        let first = !self.started;
        if let Some(timed) = self.timed.as_mut() {
            if first {
                timed.start.copy_from_slice(&self.vals);
            } else {
                timed.step(self.net, &self.vals, mask, &mut self.toggles);
                timed.advance(&self.vals);
            }
        }
        self.each_counted(|t, last, v| {
            if !first {
                let mut c = 0u32;
                for k in 0..LANE_WORDS {
                    c += ((v[k] ^ last[k]) & mask[k]).count_ones();
                }
                *t += c as u64;
            }
            *last = *v;
        });
        if !first {
            self.samples += mask.iter().map(|w| w.count_ones() as u64).sum::<u64>();
            self.add_ones(mask);
        }
        self.started = true;
        Ok(())
    }

    /// An error unless toggles are counted in `mode`.
    fn require(&self, mode: ToggleMode) -> Result<()> {
        if self.mode == mode {
            return Ok(());
        }
        let over = format!("{mode:?}").to_lowercase();
        Err(Error::new(format!(
            "toggle counting over {over} needs ToggleMode::{mode:?}"
        )))
    }

    /// Calls `f` with each counted net's zero-delay toggle count, its last recorded value and
    /// its value now.
    #[inline(always)]
    fn each_counted(&mut self, mut f: impl FnMut(&mut u64, &mut Word, &Word)) {
        let zero = if self.delay == Delay::Zero {
            &mut self.toggles
        } else {
            &mut self.zero_toggles
        };
        for ((t, last), &(net, _)) in zero
            .iter_mut()
            .zip(self.last.iter_mut())
            .zip(&self.net.counted)
        {
            f(t, last, &self.vals[net as usize]);
        }
    }

    /// Toggles counted so far, one per entry of [`Netlist::counted`]: under [`Delay::Unit`],
    /// every value change, glitches included.
    pub fn toggles(&self) -> &[u64] {
        &self.toggles
    }

    /// Zero-delay toggles counted so far (the settled value of each sample against the
    /// previous one), one per entry of [`Netlist::counted`]; [`Sim::toggles`] under
    /// [`Delay::Zero`].
    pub fn zero_delay_toggles(&self) -> &[u64] {
        match self.delay {
            Delay::Zero => &self.toggles,
            Delay::Unit | Delay::Liberty => &self.zero_toggles,
        }
    }

    /// The delay model.
    pub fn delay(&self) -> Delay {
        self.delay
    }

    /// Under [`Delay::Unit`]: how many times a net's final timed value differed from its
    /// zero-delay settled value, over all steps (0 unless the engine is wrong).
    pub fn timed_mismatches(&self) -> u64 {
        self.timed.as_ref().map_or(0, |t| t.mismatches)
    }

    /// Under a timed model: the latest value change seen after the inputs changed, in time
    /// units (quanta under [`Delay::Liberty`]), over all steps (at most [`Netlist::depth`]
    /// under [`Delay::Unit`]).
    pub fn settle_time(&self) -> u32 {
        self.timed.as_ref().map_or(0, |t| t.settle_time)
    }

    /// With toggles counted: records from now on the time each counted net spends at 1 in
    /// the counted samples, each sample lasting `period` time units (under a timed model,
    /// longer than any change after the inputs change; under zero delay a net holds its
    /// settled value for the whole sample). Returns false when toggles are not counted.
    pub fn record_high_time(&mut self, period: u32) -> bool {
        let n = self.net.counted.len();
        if self.mode == ToggleMode::Off {
            return false;
        }
        match self.timed.as_mut() {
            Some(t) => t.record_high(period, n),
            None => self.ones = Some((period, vec![0; n])),
        }
        true
    }

    /// The sample length and the time at 1 of each counted net, when recorded
    /// ([`Sim::record_high_time`]).
    pub fn high_time(&self) -> Option<(u32, Vec<u64>)> {
        match (&self.timed, &self.ones) {
            (Some(t), _) => t.high_time().map(|(p, h)| (p, h.to_vec())),
            (None, Some((p, ones))) => Some((*p, ones.iter().map(|&o| o * *p as u64).collect())),
            _ => None,
        }
    }

    /// Adds the counted nets' settled values in the lanes of `mask` to the zero-delay time at 1.
    fn add_ones(&mut self, mask: &Word) {
        if let Some((_, ones)) = self.ones.as_mut() {
            for (o, &(n, _)) in ones.iter_mut().zip(&self.net.counted) {
                let v = &self.vals[n as usize];
                *o += (0..LANE_WORDS)
                    .map(|k| (v[k] & mask[k]).count_ones() as u64)
                    .sum::<u64>();
            }
        }
    }

    /// Under a timed model with toggles counted: the changes (time, value) of net `n` in lane
    /// `lane` during the last count, from value `v0` before time 0 (empty under zero delay).
    pub fn waveform(&self, n: u32, lane: usize, v0: bool) -> Vec<(u32, bool)> {
        self.timed
            .as_ref()
            .map_or_else(Vec::new, |t| t.waveform(n, lane, v0))
    }

    /// The settled value of net `n` in lane `lane`.
    pub fn net_value(&self, n: u32, lane: usize) -> bool {
        (self.vals[n as usize][lane / 64] >> (lane % 64)) & 1 == 1
    }
}

#[inline(always)]
fn active(w: &Word, high: bool) -> Word {
    if high {
        *w
    } else {
        map1(w, |x| !x)
    }
}

/// Mask of lanes `0..n`.
pub fn lane_mask(n: usize) -> Word {
    let mut m = [0u64; LANE_WORDS];
    for (k, w) in m.iter_mut().enumerate() {
        let lo = k * 64;
        *w = if n >= lo + 64 {
            u64::MAX
        } else if n > lo {
            (1u64 << (n - lo)) - 1
        } else {
            0
        };
    }
    m
}

/// Bit `b` (< 6) of the lane index within a word, in every lane.
const LANE_BITS: [u64; 6] = [
    0xAAAA_AAAA_AAAA_AAAA,
    0xCCCC_CCCC_CCCC_CCCC,
    0xF0F0_F0F0_F0F0_F0F0,
    0xFF00_FF00_FF00_FF00,
    0xFFFF_0000_FFFF_0000,
    0xFFFF_FFFF_0000_0000,
];

/// Transposes per-lane values (at most [`LANES`]) into bit planes (`planes.len()` bits).
/// Words of 64 lanes that hold one value, or a count `base, base + 1, ...` with `base` a
/// multiple of 64 (exhaustive enumeration), are filled without a transpose.
pub fn to_planes(values: &[u64], planes: &mut [Word]) {
    /// How one word of 64 lanes is filled.
    #[derive(Clone, Copy)]
    enum Kind {
        /// Every lane holds `base` (or lanes past the values: 0).
        Const(u64),
        /// Lane `l` holds `base + l`, `base` a multiple of 64.
        Count(u64),
        /// Anything else: transposed into `general[w]`.
        General,
    }
    let bits = planes.len().min(64);
    let mut kind = [Kind::Const(0); LANE_WORDS];
    // Written for the general words only, and read only there (no zeroing on the fast path).
    let mut general: [std::mem::MaybeUninit<[u64; 64]>; LANE_WORDS] =
        [const { std::mem::MaybeUninit::uninit() }; LANE_WORDS];
    for (w, k) in kind.iter_mut().enumerate() {
        let lo = w * 64;
        if lo >= values.len() {
            continue;
        }
        if lo + 64 <= values.len() {
            let v: &[u64; 64] = values[lo..lo + 64].try_into().unwrap();
            let base = v[0];
            #[cfg(target_arch = "x86_64")]
            let (is_const, is_count) = if fast::available() {
                // SAFETY: the CPU has the features `fast` needs (checked just above).
                unsafe { (fast::all_equal(v), fast::counts_up(v)) }
            } else {
                (slow_all_equal(v), slow_counts_up(v))
            };
            #[cfg(not(target_arch = "x86_64"))]
            let (is_const, is_count) = (slow_all_equal(v), slow_counts_up(v));
            if is_const {
                *k = Kind::Const(base);
                continue;
            }
            if base.is_multiple_of(64) && is_count {
                *k = Kind::Count(base);
                continue;
            }
        }
        *k = Kind::General;
        let mut m = [0u64; 64];
        #[cfg(target_arch = "x86_64")]
        if fast::available() {
            let src: &[u64; 64] = if values.len() >= lo + 64 {
                values[lo..lo + 64].try_into().unwrap()
            } else {
                m[..values.len() - lo].copy_from_slice(&values[lo..]);
                &m
            };
            let out = general[w].write([0u64; 64]);
            // SAFETY: the CPU has the features `fast` needs (checked just above).
            unsafe { fast::values_to_planes(src, bits, out) };
            continue;
        }
        let hi = values.len().min(lo + 64);
        m[..hi - lo].copy_from_slice(&values[lo..hi]);
        transpose64(&mut m);
        general[w].write(m);
    }
    let bit = |base: u64, b: usize| if base >> b & 1 == 1 { u64::MAX } else { 0 };
    for (b, p) in planes.iter_mut().enumerate() {
        *p = std::array::from_fn(|w| match kind[w] {
            _ if b >= 64 => 0,
            Kind::Const(base) => bit(base, b),
            Kind::Count(_) if b < 6 => LANE_BITS[b],
            Kind::Count(base) => bit(base, b),
            // SAFETY: written above for every general word.
            Kind::General => unsafe { general[w].assume_init_ref()[b] },
        });
    }
}

/// Whether the 64 values are equal.
fn slow_all_equal(v: &[u64; 64]) -> bool {
    v.iter().all(|&x| x == v[0])
}

/// Whether the 64 values count up by one from the first.
fn slow_counts_up(v: &[u64; 64]) -> bool {
    v.iter()
        .zip(0u64..)
        .all(|(&x, l)| x == v[0].wrapping_add(l))
}

/// Bit-matrix transposes of 64 values with AVX-512BW byte masks (`vpmovb2m`, `vpmovm2b`):
/// about one instruction per value and byte of width, where the generic [`transpose64`]
/// spends several per value whatever the width.
#[cfg(target_arch = "x86_64")]
mod fast {
    use std::arch::x86_64::*;

    /// Whether the CPU has AVX-512F and AVX-512BW.
    #[inline]
    pub fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512f")
    }

    /// Whether the 64 values are equal.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn all_equal(v: &[u64; 64]) -> bool {
        let p = v.as_ptr() as *const __m512i;
        let b = _mm512_set1_epi64(v[0] as i64);
        let mut m = 0xffu8;
        for i in 0..8 {
            m &= _mm512_cmpeq_epi64_mask(_mm512_loadu_si512(p.add(i)), b);
        }
        m == 0xff
    }

    /// Whether the 64 values count up by one from the first.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn counts_up(v: &[u64; 64]) -> bool {
        let p = v.as_ptr() as *const __m512i;
        let mut want = _mm512_add_epi64(
            _mm512_set1_epi64(v[0] as i64),
            _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
        );
        let eight = _mm512_set1_epi64(8);
        let mut m = 0xffu8;
        for i in 0..8 {
            m &= _mm512_cmpeq_epi64_mask(_mm512_loadu_si512(p.add(i)), want);
            want = _mm512_add_epi64(want, eight);
        }
        m == 0xff
    }

    /// `out[b]` = bit `b` of `v[0..64]` (lane `i` in bit `i`), for `b < bits`.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn values_to_planes(v: &[u64; 64], bits: usize, out: &mut [u64; 64]) {
        let p = v.as_ptr() as *const __m512i;
        let z: [__m512i; 8] = std::array::from_fn(|i| _mm512_loadu_si512(p.add(i)));
        for g in 0..bits.div_ceil(8) {
            let sh = _mm_cvtsi32_si128(8 * g as i32);
            // Byte g of every value, value i in byte i.
            let q: [i64; 8] = std::array::from_fn(|i| {
                _mm_cvtsi128_si64(_mm512_cvtepi64_epi8(_mm512_srl_epi64(z[i], sh)))
            });
            let bytes = _mm512_set_epi64(q[7], q[6], q[5], q[4], q[3], q[2], q[1], q[0]);
            for b in 0..8.min(bits - 8 * g) {
                let up = _mm512_sll_epi16(bytes, _mm_cvtsi32_si128(7 - b as i32));
                out[8 * g + b] = _mm512_movepi8_mask(up);
            }
        }
    }

    /// The inverse, for word `w` of the planes: `out[i]` = the value whose bit `b` is lane
    /// `64 w + i` of `planes[b]`.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn planes_to_values(planes: &[super::Word], w: usize, out: &mut [u64; 64]) {
        let mut acc = [_mm512_setzero_si512(); 8];
        for (g, group) in planes.chunks(8).enumerate() {
            let mut bytes = _mm512_setzero_si512();
            for (b, p) in group.iter().enumerate() {
                bytes = _mm512_or_si512(bytes, _mm512_maskz_set1_epi8(p[w], 1 << b));
            }
            let sh = _mm_cvtsi32_si128(8 * g as i32);
            for (i, a) in acc.iter_mut().enumerate() {
                let lane = match i / 2 {
                    0 => _mm512_extracti32x4_epi32::<0>(bytes),
                    1 => _mm512_extracti32x4_epi32::<1>(bytes),
                    2 => _mm512_extracti32x4_epi32::<2>(bytes),
                    _ => _mm512_extracti32x4_epi32::<3>(bytes),
                };
                let part = if i % 2 == 1 {
                    _mm_srli_si128::<8>(lane)
                } else {
                    lane
                };
                *a = _mm512_or_si512(*a, _mm512_sll_epi64(_mm512_cvtepu8_epi64(part), sh));
            }
        }
        let o = out.as_mut_ptr() as *mut __m512i;
        for (i, a) in acc.iter().enumerate() {
            _mm512_storeu_si512(o.add(i), *a);
        }
    }
}

/// Transposes bit planes (at most 64) back into per-lane values (the first `out.len()` lanes).
pub fn from_planes(planes: &[Word], out: &mut [u64]) {
    for w in 0..LANE_WORDS {
        let lo = w * 64;
        if lo >= out.len() {
            break;
        }
        #[cfg(target_arch = "x86_64")]
        if fast::available() {
            let planes = &planes[..planes.len().min(64)];
            if out.len() >= lo + 64 {
                let dst: &mut [u64; 64] = (&mut out[lo..lo + 64]).try_into().unwrap();
                // SAFETY: the CPU has the features `fast` needs (checked just above).
                unsafe { fast::planes_to_values(planes, w, dst) };
            } else {
                let mut vals = [0u64; 64];
                // SAFETY: as above.
                unsafe { fast::planes_to_values(planes, w, &mut vals) };
                let hi = out.len();
                out[lo..hi].copy_from_slice(&vals[..hi - lo]);
            }
            continue;
        }
        let mut m = [0u64; 64];
        for (b, p) in planes.iter().enumerate().take(64) {
            m[b] = p[w];
        }
        transpose64(&mut m);
        let hi = out.len().min(lo + 64);
        out[lo..hi].copy_from_slice(&m[..hi - lo]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_is_a_transpose() {
        let mut a = [0u64; 64];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for v in a.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *v = x;
        }
        let orig = a;
        transpose64(&mut a);
        for (i, o) in orig.iter().enumerate() {
            for (j, t) in a.iter().enumerate() {
                assert_eq!(t >> i & 1, o >> j & 1, "bit ({i},{j})");
            }
        }
    }

    #[test]
    fn planes_round_trip() {
        let vals: Vec<u64> = (0..200u64).map(|i| i * 0x1234_5677 % 65521).collect();
        let mut planes = vec![[0u64; LANE_WORDS]; 17];
        to_planes(&vals, &mut planes);
        for (i, v) in vals.iter().enumerate() {
            for (b, p) in planes.iter().enumerate() {
                assert_eq!(p[i / 64] >> (i % 64) & 1, v >> b & 1);
            }
        }
        let mut back = vec![0u64; 200];
        from_planes(&planes, &mut back);
        assert_eq!(back, vals);
    }

    #[test]
    fn planes_of_every_width_match_bit_extraction() {
        // Every width from 1 to 64 (the byte-mask transposes work a byte of width at a time),
        // on random values, against the definition of a bit plane; and back.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let vals: Vec<u64> = (0..LANES - 3)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect();
        for bits in 1..=64usize {
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            let v: Vec<u64> = vals.iter().map(|&a| a & mask).collect();
            let mut planes = vec![[0u64; LANE_WORDS]; bits];
            to_planes(&v, &mut planes);
            for (i, a) in v.iter().enumerate() {
                for (b, p) in planes.iter().enumerate() {
                    assert_eq!(
                        p[i / 64] >> (i % 64) & 1,
                        a >> b & 1,
                        "width {bits} lane {i} bit {b}"
                    );
                }
            }
            for p in &planes {
                assert_eq!(p[LANE_WORDS - 1] >> 61, 0, "lanes past the values are 0");
            }
            let mut back = vec![0u64; v.len()];
            from_planes(&planes, &mut back);
            assert_eq!(back, v, "width {bits}");
        }
    }

    #[test]
    fn structured_words_fill_like_a_transpose() {
        let cases: Vec<Vec<u64>> = vec![
            (0..LANES as u64).map(|i| 0x1_2340 + i).collect(),
            vec![0xBEEF; LANES],
            (0..LANES as u64).map(|i| 64 * 7 + i).collect(),
            (0..LANES as u64).map(|i| 3 + i).collect(),
        ];
        for vals in cases {
            let mut planes = vec![[0u64; LANE_WORDS]; 20];
            to_planes(&vals, &mut planes);
            for (i, v) in vals.iter().enumerate() {
                for (b, p) in planes.iter().enumerate() {
                    assert_eq!(p[i / 64] >> (i % 64) & 1, v >> b & 1, "lane {i} bit {b}");
                }
            }
        }
    }

    #[test]
    fn lane_masks() {
        assert_eq!(lane_mask(0), [0; LANE_WORDS]);
        assert_eq!(lane_mask(65)[1], 1);
        assert_eq!(lane_mask(LANES), [u64::MAX; LANE_WORDS]);
    }
}
