//! What the streaming FP32 accumulators (`fp16mac`, `fp32acc`) share: their reference's face
//! as an [`Accumulator`] (the control ports `reset`, `clear`, `en` and their priorities, the
//! inputs of a cycle as a row of port values) and random accumulations built on it for test
//! stimulus ([`random_cycles`]).

use rand::Rng;

/// The reference of a streaming FP32 accumulator: a register, +0 after power-up, that each
/// rising clock edge loads with +0 on `reset` or `clear` (in that priority), with its sum with
/// the cycle's operands on `en`, and otherwise holds.
pub trait Accumulator: Default {
    /// The operands of one cycle (what `en` accumulates).
    type Operands: Copy;
    /// The inputs of one cycle, one value per RTL port.
    type Inputs: Copy + std::fmt::Debug;
    /// The inputs of a cycle with the control `reset`, `clear`, `en` and the operands `ops`.
    fn inputs(reset: bool, clear: bool, en: bool, ops: Self::Operands) -> Self::Inputs;
    /// One rising clock edge; returns the new register value.
    fn clock(&mut self, i: &Self::Inputs) -> u32;
    /// The inputs as a row of port values in port order.
    fn row(i: &Self::Inputs) -> Vec<u64>;
    /// The inputs of a row of port values in port order.
    fn of_row(r: &[u64]) -> Self::Inputs;
}

/// One random accumulation of the accumulator `M`: a start cycle (a reset one time in eight,
/// with random `clear` and `en`, else a clear with random `en`; operands from `any`), then 1 to
/// 64 cycles with `reset` one time in 400, `clear` one time in 100 and `en` seven times in
/// eight, whose operands `pick` chooses against the running sum (the register before the
/// cycle, from `M`'s reference).
pub fn random_cycles<M: Accumulator, R: Rng>(
    r: &mut R,
    any: impl FnOnce(&mut R) -> M::Operands,
    mut pick: impl FnMut(&mut R, u32) -> M::Operands,
) -> Vec<M::Inputs> {
    let mut m = M::default();
    let start = if r.gen_ratio(1, 8) {
        M::inputs(true, r.gen(), r.gen(), any(r))
    } else {
        M::inputs(false, true, r.gen(), any(r))
    };
    let mut acc = m.clock(&start);
    let mut cycles = vec![start];
    for _ in 0..r.gen_range(1..=64) {
        let ops = pick(r, acc);
        let i = M::inputs(
            r.gen_ratio(1, 400),
            r.gen_ratio(1, 100),
            !r.gen_ratio(1, 8),
            ops,
        );
        acc = m.clock(&i);
        cycles.push(i);
    }
    cycles
}
