//! The widths and the latency of the BitMoD RTL (the reference model's `PeConfig::default()`).

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
