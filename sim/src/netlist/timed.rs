//! Timed simulation over the settled values of the zero-delay engine: unit delay, or a delay
//! per cell output in whole time quanta (Liberty delays).
//!
//! Unit delay: every cell has a delay of one time unit with inertial behaviour (Verilog
//! `assign #1 y = f(...)`): primary inputs and flip-flop outputs take their new values at time
//! 0, and for every `t >= 1` each cell output is `y(t) = f(inputs(t - 1))`, all cells at once,
//! until nothing changes. Instructions that are not a cell's output (the internal temporaries
//! of a Liberty cell's function, the outputs of a flip-flop cell's state) take no time.
//!
//! Delays of `d` quanta (Verilog `assign #d y = f(...)`, inertial, as Icarus applies it): let
//! `x` be the value of `f` over time; a change of `x` at `s` reaches `y` at `s + d` unless `x`
//! changes again before `s + d` (a pulse shorter than the delay is swallowed; a pulse of
//! exactly `d` passes). With `d = 1` (and integer times) no pulse is shorter than the delay,
//! so unit delay is the case `d = 1` of the same rule.
//!
//! The step is event-driven over words: each net's waveform is the list of the times at which
//! its value changes in at least one lane, with its value in every lane from then on. The
//! program runs once in topological order; an instruction is evaluated only at the times at
//! which one of its operands changed, so a net whose inputs never change costs one check.
//! Under delays above one quantum, the evaluations of a cell output are then filtered lane by
//! lane: a lane's change is kept unless the same lane changes again within the delay. The
//! internal temporaries of a library cell take no time, so where the cell's function is one
//! operation over its inputs they are folded into it and keep no events (`plan`).

use super::{Instr, Netlist, Op, Word, LANE_WORDS};

/// Delay model of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delay {
    /// Zero delay: the logic settles once per evaluation; glitches are not seen.
    #[default]
    Zero,
    /// Unit delay: every cell one time unit, inertial; glitches are counted.
    Unit,
    /// Each cell output its own delay in time quanta (from a Liberty library's timing tables,
    /// [`super::delays`]), inertial; glitches are counted. The netlist must carry the delays
    /// ([`Netlist::annotate_delays`]).
    Liberty,
}

impl Delay {
    /// Parses `zero`, `unit` or `liberty`.
    pub fn parse(s: &str) -> crate::Result<Delay> {
        match s {
            "zero" => Ok(Delay::Zero),
            "unit" => Ok(Delay::Unit),
            "liberty" => Ok(Delay::Liberty),
            _ => Err(crate::Error::new(format!(
                "unknown delay model '{s}'; valid: liberty, unit, zero"
            ))),
        }
    }

    /// The name (`zero`, `unit`, `liberty`).
    pub fn name(self) -> &'static str {
        match self {
            Delay::Zero => "zero",
            Delay::Unit => "unit",
            Delay::Liberty => "liberty",
        }
    }

    /// Whether the model is timed (glitches counted).
    pub fn timed(self) -> bool {
        self != Delay::Zero
    }
}

/// Operand count of an operation.
#[inline(always)]
pub(crate) fn operands(op: Op) -> usize {
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

/// The value of `op` over operand words (lane-wise).
#[inline(always)]
fn apply(op: Op, a: u64, b: u64, c: u64, d: u64) -> u64 {
    match op {
        Op::Buf => a,
        Op::Not => !a,
        Op::And => a & b,
        Op::Nand => !(a & b),
        Op::Or => a | b,
        Op::Nor => !(a | b),
        Op::Xor => a ^ b,
        Op::Xnor => !(a ^ b),
        Op::AndNot => a & !b,
        Op::OrNot => a | !b,
        Op::Mux => (a & !c) | (b & c),
        Op::NMux => !((a & !c) | (b & c)),
        Op::Aoi3 => !((a & b) | c),
        Op::Oai3 => !((a | b) & c),
        Op::Aoi4 => !((a & b) | (c & d)),
        Op::Oai4 => !((a | b) & (c | d)),
    }
}

/// Every operation, for [`single_op`].
const OPS: [Op; 16] = [
    Op::Buf,
    Op::Not,
    Op::And,
    Op::Nand,
    Op::Or,
    Op::Nor,
    Op::Xor,
    Op::Xnor,
    Op::AndNot,
    Op::OrNot,
    Op::Mux,
    Op::NMux,
    Op::Aoi3,
    Op::Oai3,
    Op::Aoi4,
    Op::Oai4,
];

/// The nets instruction `i` reads.
fn instr_ins(i: &Instr) -> ([u32; 4], usize) {
    ([i.a, i.b, i.c, i.d], operands(i.op))
}

/// The nodes of a timed step over `net` (instruction delays `delay`, counted nets
/// `counted`), in topological order: one operation each, with its delay.
///
/// An instruction of no time whose net is not counted (an internal temporary of a library
/// cell: `!(A&B)` compiles to AND, NOT and the output's buffer) is folded into the node that
/// reads it when the node's whole function is then one operation over the nets it reads
/// (`nand2` becomes one NAND; `xor2`, written `(A&!B) | (!A&B)`, one XOR): its value at any
/// time is a function of those nets at that time, so the node's changes are the same, and it
/// keeps no events of its own. The temporaries of a function that is not one operation are
/// evaluated as nodes of their own, the earliest first, until the rest is.
fn plan(net: &Netlist, delay: &[u32], counted: &[bool]) -> Vec<(Instr, u32)> {
    let prog = &net.program;
    let mut writer = vec![u32::MAX; net.nets];
    for (k, i) in prog.iter().enumerate() {
        writer[i.y as usize] = k as u32;
    }
    let mut fold: Vec<bool> = prog
        .iter()
        .zip(delay)
        .map(|(i, &d)| d == 0 && !counted[i.y as usize])
        .collect();
    let mut nodes = Vec::with_capacity(prog.len());
    for k in 0..prog.len() {
        if !fold[k] {
            plan_node(k, prog, &writer, delay, &mut fold, &mut nodes);
        }
    }
    nodes
}

/// Adds the node of instruction `k` to `nodes` (after the nodes of the temporaries it
/// leaves unfolded; see [`plan`]).
fn plan_node(
    k: usize,
    prog: &[Instr],
    writer: &[u32],
    delay: &[u32],
    fold: &mut [bool],
    nodes: &mut Vec<(Instr, u32)>,
) {
    loop {
        // The folded instructions feeding `k` and the nets they and `k` read.
        let mut cone: Vec<u32> = Vec::new();
        let mut leaves: Vec<u32> = Vec::new();
        let mut stack = vec![k as u32];
        while let Some(j) = stack.pop() {
            let (x, n) = instr_ins(&prog[j as usize]);
            for &v in &x[..n] {
                let w = writer[v as usize];
                if w != u32::MAX && fold[w as usize] {
                    if !cone.contains(&w) {
                        cone.push(w);
                        stack.push(w);
                    }
                } else if !leaves.contains(&v) {
                    leaves.push(v);
                }
            }
        }
        if cone.is_empty() {
            nodes.push((prog[k], delay[k]));
            return;
        }
        if leaves.len() <= 4 {
            if let Some(i) = single_op(k, &cone, &leaves, prog, writer) {
                nodes.push((i, delay[k]));
                return;
            }
        }
        let first = *cone.iter().min().expect("a cone");
        fold[first as usize] = false;
        plan_node(first as usize, prog, writer, delay, fold, nodes);
    }
}

/// Instruction `k` with the folded instructions `cone` (reading the nets `leaves`, at most
/// four) as one operation over `leaves`, when its truth table is one's.
fn single_op(
    k: usize,
    cone: &[u32],
    leaves: &[u32],
    prog: &[Instr],
    writer: &[u32],
) -> Option<Instr> {
    // Truth tables over 16 rows: leaf `l` is bit `l` of the row.
    const COLUMN: [u64; 4] = [0xAAAA, 0xCCCC, 0xF0F0, 0xFF00];
    let mut order = cone.to_vec();
    order.sort_unstable();
    order.push(k as u32);
    let mut temp: Vec<(u32, u64)> = Vec::with_capacity(order.len());
    let value = |v: u32, temp: &[(u32, u64)]| -> u64 {
        match leaves.iter().position(|&l| l == v) {
            Some(p) => COLUMN[p],
            None => {
                let w = writer[v as usize];
                temp.iter().find(|t| t.0 == w).expect("in the cone").1
            }
        }
    };
    for &j in &order {
        let i = &prog[j as usize];
        let (x, n) = instr_ins(i);
        let mut o = [0u64; 4];
        for (s, &v) in o.iter_mut().zip(&x[..n]) {
            *s = value(v, &temp);
        }
        temp.push((j, apply(i.op, o[0], o[1], o[2], o[3]) & 0xFFFF));
    }
    let want = temp.last().expect("k").1;
    let l = leaves.len();
    for op in OPS {
        if operands(op) != l {
            continue;
        }
        // Every assignment of the leaves to the operands.
        let mut perm: Vec<usize> = (0..l).collect();
        loop {
            let mut o = [0u64; 4];
            for (s, &p) in o.iter_mut().zip(&perm) {
                *s = COLUMN[p];
            }
            if apply(op, o[0], o[1], o[2], o[3]) & 0xFFFF == want {
                let mut v = [0u32; 4];
                for (s, &p) in v.iter_mut().zip(&perm) {
                    *s = leaves[p];
                }
                return Some(Instr {
                    op,
                    a: v[0],
                    b: v[1],
                    c: v[2],
                    d: v[3],
                    y: prog[k].y,
                });
            }
            if !next_permutation(&mut perm) {
                break;
            }
        }
    }
    None
}

/// The next permutation of `p` in lexicographic order; false after the last.
fn next_permutation(p: &mut [usize]) -> bool {
    let Some(i) = (1..p.len()).rev().find(|&i| p[i - 1] < p[i]) else {
        return false;
    };
    let j = (i..p.len())
        .rev()
        .find(|&j| p[j] > p[i - 1])
        .expect("a larger one");
    p.swap(i - 1, j);
    p[i..].reverse();
    true
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

/// The state of timed stepping of one netlist.
pub(super) struct Timed {
    /// The evaluations of a step in topological order, each with its delay: the program's
    /// instructions, with internal temporaries folded in where [`plan`] can.
    nodes: Vec<(Instr, u32)>,
    /// Nets no instruction writes (constants, inputs, flip-flop states, undriven bits).
    sources: Vec<u32>,
    /// The nets a step reads or writes: the sources and the nodes' outputs.
    live: Vec<u32>,
    /// Whether each net's toggles are counted.
    counted: Vec<bool>,
    /// Each net's value before time 0.
    pub(super) start: Vec<Word>,
    /// Lanes mode: each net's value in the last lane of the previous step.
    pub(super) carry: Vec<u64>,
    ev: Events,
    /// Nets (cell outputs and the temporaries not folded) whose timed final value differed
    /// from the zero-delay value, over all steps.
    pub(super) mismatches: u64,
    /// Latest change seen, in time units after time 0, over all steps.
    pub(super) settle_time: u32,
    /// Whether the last step ran over the first word only.
    narrow: bool,
    /// When recorded: the length of a step in quanta and, per counted net, the time it
    /// spent at 1 in the counted lanes, over all steps.
    high: Option<(u32, Vec<u64>)>,
}

impl Timed {
    /// The stepping state of `net` under `delay` (a timed model; under [`Delay::Liberty`]
    /// the netlist must carry its delays).
    pub(super) fn new(net: &Netlist, delay: Delay) -> Timed {
        let mut cell_delay = vec![0u32; net.nets];
        let annotated = match delay {
            Delay::Liberty => Some(net.delays.as_ref().unwrap_or_else(|| {
                panic!(
                    "{}: Delay::Liberty needs a netlist annotated with cell delays \
                     (Netlist::annotate_delays)",
                    net.source
                )
            })),
            _ => None,
        };
        for (k, &(n, c)) in net.counted.iter().enumerate() {
            if !net.cells[c].is_flop {
                cell_delay[n as usize] = annotated.map_or(1, |d| d[k]);
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
        let delays: Vec<u32> = net
            .program
            .iter()
            .map(|i| cell_delay[i.y as usize])
            .collect();
        let nodes = plan(net, &delays, &counted);
        let sources: Vec<u32> = (2..net.nets as u32)
            .filter(|&n| !driven[n as usize])
            .collect();
        let mut live: Vec<u32> = (0..2)
            .chain(sources.iter().copied())
            .chain(nodes.iter().map(|(i, _)| i.y))
            .collect();
        live.sort_unstable();
        live.dedup();
        Timed {
            nodes,
            sources,
            live,
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
            high: None,
        }
    }

    /// Records from now on the time each counted net spends at 1 in steps of `period`
    /// quanta (which must exceed every event time).
    pub(super) fn record_high(&mut self, period: u32, counted: usize) {
        self.high = Some((period, vec![0; counted]));
    }

    /// The time at 1 per counted net, when recorded.
    pub(super) fn high_time(&self) -> Option<(u32, &[u64])> {
        self.high.as_ref().map(|(p, h)| (*p, h.as_slice()))
    }

    /// The changes (time, new value) of net `n` in lane `lane` during the last step, from
    /// value `v0` before time 0.
    pub(super) fn waveform(&self, n: u32, lane: usize, v0: bool) -> Vec<(u32, bool)> {
        let bit = |w: &Word| (w[lane / 64] >> (lane % 64)) & 1 == 1;
        let (lo, hi) = self.ev.range[n as usize];
        let mut cur = v0;
        let mut out = Vec::new();
        for k in lo..hi {
            let v = bit(&self.ev.values[k as usize]);
            if v != cur {
                out.push((self.ev.times[k as usize], v));
                cur = v;
            }
        }
        out
    }

    /// Sets `start` to the settled values `vals` shifted up by one lane: lane `i` starts from
    /// lane `i - 1`, lane 0 from the previous step's last lane (from itself on the first
    /// step); records lane `n - 1` for the next step. Only the nets a step reads are set (the
    /// folded temporaries are not).
    pub(super) fn shift_lanes(&mut self, vals: &[Word], n: usize, first: bool) {
        for &m in &self.live {
            let m = m as usize;
            let (s, v, carry) = (&mut self.start[m], &vals[m], &mut self.carry[m]);
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
        for &(ref i, d) in &self.nodes {
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
        if let Some((period, high)) = self.high.as_mut() {
            let ones =
                |w: &Word| -> u64 { (0..W).map(|k| (w[k] & mask[k]).count_ones() as u64).sum() };
            for (h, &(n, _)) in high.iter_mut().zip(&net.counted) {
                let (lo, hi) = ev.range[n as usize];
                let mut at = 0u32;
                let mut cur = ones(&start[n as usize]);
                for k in lo..hi {
                    let t = ev.times[k as usize];
                    *h += cur * u64::from(t - at);
                    at = t;
                    cur = ones(&ev.values[k as usize]);
                }
                *h += cur * u64::from(period.saturating_sub(at));
            }
        }
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
        if counted && d <= 1 {
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
    if d > 1 && len > lo_out {
        // Inertial filter: the evaluations (x) written at lo_out..len become the changes of
        // y, in place (the write position never passes the read position).
        let mut yv = start[y as usize];
        let mut out = lo_out;
        for i in lo_out..len {
            // SAFETY: lo_out..len are written events, within capacity.
            let (ti, vi) = unsafe { (*tp.add(i), *vp.add(i)) };
            // Lanes whose x changes again before this change reaches y.
            let mut again = [0u64; LANE_WORDS];
            let mut prev = vi;
            let mut j = i + 1;
            // SAFETY: j < len.
            while j < len && unsafe { *tp.add(j) } < ti.saturating_add(d) {
                let vj = unsafe { *vp.add(j) };
                for k in 0..W {
                    again[k] |= vj[k] ^ prev[k];
                }
                prev = vj;
                j += 1;
            }
            let mut ny = [0u64; LANE_WORDS];
            let mut diff = 0u64;
            for k in 0..W {
                ny[k] = (vi[k] & !again[k]) | (yv[k] & again[k]);
                diff |= ny[k] ^ yv[k];
            }
            if diff != 0 {
                if counted {
                    for k in 0..W {
                        toggles += ((ny[k] ^ yv[k]) & mask[k]).count_ones() as u64;
                    }
                }
                // SAFETY: out <= i < len, within the written events.
                unsafe {
                    tp.add(out).write(ti);
                    vp.add(out).write(ny);
                }
                out += 1;
                yv = ny;
            }
        }
        len = out;
        ycur = yv;
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
