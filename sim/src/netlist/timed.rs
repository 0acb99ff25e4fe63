//! Unit-delay simulation over the settled values of the zero-delay engine.
//!
//! Every cell has a delay of one time unit with inertial behaviour (Verilog
//! `assign #1 y = f(...)`): primary inputs and flip-flop outputs take their new values at time
//! 0, and for every `t >= 1` each cell output is `y(t) = f(inputs(t - 1))`, all cells at once,
//! until nothing changes. Instructions that are not a cell's output (the internal temporaries
//! of a Liberty cell's function, the outputs of a flip-flop cell's state) take no time.
//!
//! The step is event-driven over words: each net's waveform is the list of the times at which
//! its value changes in at least one lane, with its value in every lane from then on. The
//! program runs once in topological order; an instruction is evaluated only at the times at
//! which one of its operands changed, so a net whose inputs never change costs one check.

use super::{Netlist, Op, Word, LANE_WORDS};

/// Delay model of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delay {
    /// Zero delay: the logic settles once per evaluation; glitches are not seen.
    #[default]
    Zero,
    /// Unit delay: every cell one time unit, inertial; glitches are counted.
    Unit,
}

impl Delay {
    /// Parses `zero` or `unit`.
    pub fn parse(s: &str) -> crate::Result<Delay> {
        match s {
            "zero" => Ok(Delay::Zero),
            "unit" => Ok(Delay::Unit),
            "liberty" => Err(crate::Error::new(
                "--delay liberty (cell delays from the Liberty timing tables) is not implemented \
                 yet; valid: unit, zero",
            )),
            _ => Err(crate::Error::new(format!(
                "unknown delay model '{s}'; valid: unit, zero"
            ))),
        }
    }

    /// The name (`zero`, `unit`).
    pub fn name(self) -> &'static str {
        match self {
            Delay::Zero => "zero",
            Delay::Unit => "unit",
        }
    }
}

/// Operand count of an operation.
#[inline(always)]
pub(super) fn operands(op: Op) -> usize {
    match op {
        Op::Buf | Op::Not => 1,
        Op::Mux | Op::NMux | Op::Aoi3 | Op::Oai3 => 3,
        Op::Aoi4 | Op::Oai4 => 4,
        _ => 2,
    }
}

/// Bits set in `(x ^ y) & mask`.
#[inline(always)]
fn changed(x: &Word, y: &Word, mask: &Word) -> u64 {
    let mut c = 0u32;
    for k in 0..LANE_WORDS {
        c += ((x[k] ^ y[k]) & mask[k]).count_ones();
    }
    c as u64
}

/// The events of one step: net `n` changes at `times[range[n]]` to `values[range[n]]`.
#[derive(Default)]
struct Events {
    range: Vec<(u32, u32)>,
    times: Vec<u32>,
    values: Vec<Word>,
    /// Toggles of each counted net in this step (index by net).
    toggles: Vec<u64>,
    /// The latest event time so far.
    last_time: u32,
}

/// The state of unit-delay stepping of one netlist.
pub(super) struct Timed {
    /// Delay of each program instruction: 1 for a cell output, 0 inside a cell.
    delay: Vec<u32>,
    /// Nets no instruction writes (constants, inputs, flip-flop states, undriven bits).
    sources: Vec<u32>,
    /// Whether each net's toggles are counted.
    counted: Vec<bool>,
    /// Each net's value before time 0.
    pub(super) start: Vec<Word>,
    /// Lanes mode: each net's value in the last lane of the previous step.
    pub(super) carry: Vec<u64>,
    ev: Events,
    /// Nets whose timed final value differed from the zero-delay value, over all steps.
    pub(super) mismatches: u64,
    /// Latest change seen, in time units after time 0, over all steps.
    pub(super) settle_time: u32,
    /// Whether the last step ran over the first word only.
    narrow: bool,
}

impl Timed {
    /// The stepping state of `net`.
    pub(super) fn new(net: &Netlist) -> Timed {
        let mut cell_output = vec![false; net.nets];
        for c in net.cells.iter().filter(|c| !c.is_flop) {
            for (_, n) in &c.outputs {
                cell_output[*n as usize] = true;
            }
        }
        let mut driven = vec![false; net.nets];
        for i in &net.program {
            driven[i.y as usize] = true;
        }
        let mut counted = vec![false; net.nets];
        for &(n, _) in &net.counted {
            counted[n as usize] = true;
        }
        Timed {
            delay: net
                .program
                .iter()
                .map(|i| u32::from(cell_output[i.y as usize]))
                .collect(),
            sources: (2..net.nets as u32)
                .filter(|&n| !driven[n as usize])
                .collect(),
            counted,
            start: vec![[0; LANE_WORDS]; net.nets],
            carry: vec![0; net.nets],
            ev: Events {
                range: vec![(0, 0); net.nets],
                toggles: vec![0; net.nets],
                ..Events::default()
            },
            mismatches: 0,
            settle_time: 0,
            narrow: false,
        }
    }

    /// Sets `start` to the settled values `vals` shifted up by one lane: lane `i` starts from
    /// lane `i - 1`, lane 0 from the previous step's last lane (from itself on the first
    /// step); records lane `n - 1` for the next step.
    pub(super) fn shift_lanes(&mut self, vals: &[Word], n: usize, first: bool) {
        for ((s, v), carry) in self.start.iter_mut().zip(vals).zip(&mut self.carry) {
            let mut prev = if first { v[0] & 1 } else { *carry };
            for k in 0..LANE_WORDS {
                s[k] = (v[k] << 1) | prev;
                prev = v[k] >> 63;
            }
            *carry = (v[(n - 1) / 64] >> ((n - 1) % 64)) & 1;
        }
    }

    /// One timed step from `start` to the settled values `vals` of the zero-delay engine
    /// (which give the sources their values from time 0): adds the value changes of every
    /// counted net in the lanes of `mask` to `toggles`, glitches included. When `mask` has
    /// lanes in its first word only, only that word is stepped.
    pub(super) fn step(&mut self, net: &Netlist, vals: &[Word], mask: &Word, toggles: &mut [u64]) {
        self.narrow = mask[1..].iter().all(|&m| m == 0);
        if self.narrow {
            self.step_words::<1>(net, vals, mask, toggles);
        } else {
            self.step_words::<LANE_WORDS>(net, vals, mask, toggles);
        }
    }

    /// [`Timed::step`] over the first `W` words of every net.
    fn step_words<const W: usize>(
        &mut self,
        net: &Netlist,
        vals: &[Word],
        mask: &Word,
        toggles: &mut [u64],
    ) {
        let ev = &mut self.ev;
        let start = self.start.as_slice();
        ev.times.clear();
        ev.values.clear();
        // Index 0: the end mark every net without events points at.
        ev.times.push(END);
        ev.values.push([0; LANE_WORDS]);
        for r in ev.range.iter_mut() {
            *r = (0, 0);
        }
        for &n in &self.sources {
            let (s, v) = (&start[n as usize], &vals[n as usize]);
            if s != v {
                let at = ev.times.len() as u32;
                ev.range[n as usize] = (at, at + 1);
                ev.times.extend([0, END]);
                ev.values.extend([*v, *v]);
                if self.counted[n as usize] {
                    ev.toggles[n as usize] += changed(s, v, mask);
                }
            }
        }
        macro_rules! run {
            ($i:expr, $d:expr, |$a:ident, $b:ident, $c:ident, $e:ident| $f:expr) => {{
                let i = $i;
                let c = self.counted[i.y as usize];
                let f = |$a: u64, $b: u64, $c: u64, $e: u64| -> u64 { $f };
                match operands(i.op) {
                    1 => propagate::<1, W>(ev, start, mask, [i.a], i.y, $d, c, f),
                    2 => propagate::<2, W>(ev, start, mask, [i.a, i.b], i.y, $d, c, f),
                    3 => propagate::<3, W>(ev, start, mask, [i.a, i.b, i.c], i.y, $d, c, f),
                    _ => propagate::<4, W>(ev, start, mask, [i.a, i.b, i.c, i.d], i.y, $d, c, f),
                }
            }};
        }
        for (i, &d) in net.program.iter().zip(&self.delay) {
            let last = match i.op {
                Op::Buf => run!(i, d, |a, _b, _c, _d| a),
                Op::Not => run!(i, d, |a, _b, _c, _d| !a),
                Op::And => run!(i, d, |a, b, _c, _d| a & b),
                Op::Nand => run!(i, d, |a, b, _c, _d| !(a & b)),
                Op::Or => run!(i, d, |a, b, _c, _d| a | b),
                Op::Nor => run!(i, d, |a, b, _c, _d| !(a | b)),
                Op::Xor => run!(i, d, |a, b, _c, _d| a ^ b),
                Op::Xnor => run!(i, d, |a, b, _c, _d| !(a ^ b)),
                Op::AndNot => run!(i, d, |a, b, _c, _d| a & !b),
                Op::OrNot => run!(i, d, |a, b, _c, _d| a | !b),
                Op::Mux => run!(i, d, |a, b, c, _d| (a & !c) | (b & c)),
                Op::NMux => run!(i, d, |a, b, c, _d| !((a & !c) | (b & c))),
                Op::Aoi3 => run!(i, d, |a, b, c, _d| !((a & b) | c)),
                Op::Oai3 => run!(i, d, |a, b, c, _d| !((a | b) & c)),
                Op::Aoi4 => run!(i, d, |a, b, c, d| !((a & b) | (c & d))),
                Op::Oai4 => run!(i, d, |a, b, c, d| !((a | b) & (c | d))),
            };
            if last.is_some_and(|w| w[..W] != vals[i.y as usize][..W]) {
                self.mismatches += 1;
            }
        }
        self.settle_time = self.settle_time.max(ev.last_time);
        for (t, &(n, _)) in toggles.iter_mut().zip(&net.counted) {
            *t += ev.toggles[n as usize];
        }
        for &(n, _) in &net.counted {
            ev.toggles[n as usize] = 0;
        }
    }

    /// After a [`Timed::step`] to the settled values `vals`: makes them the start values of
    /// the next step (after a full step, only the nets that changed are written).
    pub(super) fn advance(&mut self, vals: &[Word]) {
        if self.narrow {
            self.start.copy_from_slice(vals);
            return;
        }
        for (s, &(lo, hi)) in self.start.iter_mut().zip(&self.ev.range) {
            if hi > lo {
                *s = self.ev.values[hi as usize - 1];
            }
        }
    }
}

/// The time that ends every net's list of events.
const END: u32 = u32::MAX;

/// Evaluates `f` (lane-wise over `N` operands `ins`) into net `y` at every time one of the
/// operands changes, recording the changes of `y` `d` time units later (and, when `counted`,
/// their toggles in the lanes of `mask`), over the first `W` words (the others of the events
/// are left 0). Returns `y`'s final value, or `None` when no operand changed (the value is then
/// `start[y]`).
///
/// Each operand's events end with an [`END`] mark (nets without events point at the one at
/// index 0), so the merge of the operands' event times runs without branches but the loop's.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn propagate<const N: usize, const W: usize>(
    ev: &mut Events,
    start: &[Word],
    mask: &Word,
    ins: [u32; N],
    y: u32,
    d: u32,
    counted: bool,
    f: impl Fn(u64, u64, u64, u64) -> u64,
) -> Option<Word> {
    let mut pos = [0usize; N];
    let mut total = 0;
    for k in 0..N {
        let (lo, hi) = ev.range[ins[k] as usize];
        pos[k] = lo as usize;
        total += (hi - lo) as usize;
    }
    if total == 0 {
        return None;
    }
    // At most `total` evaluations, each writing at `len` (kept only when `y` changed), then
    // the end mark: every write lands past the events read (all before `lo_out`), within the
    // capacity reserved here, so the pointers stay valid and reads never see a write.
    ev.times.reserve(total + 1);
    ev.values.reserve(total + 1);
    let lo_out = ev.times.len();
    let mut len = lo_out;
    let tp = ev.times.as_mut_ptr();
    let vp = ev.values.as_mut_ptr();
    const ZERO: Word = [0; LANE_WORDS];
    let mut cur: [*const Word; 4] = [&ZERO; 4];
    for k in 0..N {
        cur[k] = &start[ins[k] as usize];
    }
    let mut ycur = start[y as usize];
    let mut toggles = 0u64;
    loop {
        let mut next = [END; N];
        let mut t = END;
        for k in 0..N {
            // SAFETY: every position is within an operand's events or at their end mark,
            // all initialized and before `lo_out`.
            next[k] = unsafe { *tp.add(pos[k]) };
            t = t.min(next[k]);
        }
        if t == END {
            break;
        }
        for k in 0..N {
            let adv = next[k] == t;
            // SAFETY: as above (an advancing operand's position holds an event).
            let at = unsafe { vp.add(pos[k]) as *const Word };
            cur[k] = if adv { at } else { cur[k] };
            pos[k] += usize::from(adv);
        }
        // SAFETY: `cur` points at `start`, `ZERO` or initialized events before `lo_out`.
        let (a, b, c, e) = unsafe { (&*cur[0], &*cur[1], &*cur[2], &*cur[3]) };
        let mut v = [0u64; LANE_WORDS];
        let mut diff = 0u64;
        for k in 0..W {
            v[k] = f(a[k], b[k], c[k], e[k]);
            diff |= v[k] ^ ycur[k];
        }
        if counted {
            for k in 0..W {
                toggles += ((v[k] ^ ycur[k]) & mask[k]).count_ones() as u64;
            }
        }
        // SAFETY: len <= lo_out + evaluations so far < lo_out + total + 1 <= capacity.
        unsafe {
            tp.add(len).write(t + d);
            vp.add(len).write(v);
        }
        len += usize::from(diff != 0);
        ycur = v;
    }
    if len > lo_out {
        // SAFETY: len <= lo_out + total < capacity; the events lo_out..len are written.
        unsafe {
            ev.last_time = ev.last_time.max(*tp.add(len - 1));
            tp.add(len).write(END);
            vp.add(len).write(ycur);
            ev.times.set_len(len + 1);
            ev.values.set_len(len + 1);
        }
        ev.range[y as usize] = (lo_out as u32, len as u32);
        ev.toggles[y as usize] += toggles;
    }
    Some(ycur)
}
