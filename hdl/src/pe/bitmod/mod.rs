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

mod accumulate;
mod compute;
mod decoder;
mod dequant;
mod entry;
mod lane;
mod params;
mod pe;

pub use accumulate::BitModAccumulate;
pub use compute::BitModCompute;
pub use decoder::{BitModDecoder, MagnitudeTerms, TermShape, MAGNITUDES};
pub use dequant::BitModDequant;
pub use entry::{BitModRtl, POLICY};
pub use lane::{BitModAlign, BitModLane};
pub use params::{ACC_BITS, DEQUANT_BITS, GUARD_BITS, LATENCY, SCALE_BITS};
pub use pe::BitModPe;
