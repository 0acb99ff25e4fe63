//! Hardware blocks shared by the PEs. The PE modules in [`crate::pe`] build their datapaths from
//! these and never import each other.
//!
//! - [`unpack::FpUnpack`]: float operand unpack and the special-value (NaN, Inf, zero) decode
//!   of a product (fpmul).
//! - [`expsum::FpExpSum`]: exponent of a float product (fpmul, fp16mac).
//! - [`sigmul::FpSigMul`]: exact significand multiply (fpmul, fp16mac).
//! - [`norm::FpLeadNorm`]: leading-one normalization (fpmul, fp16mac).
//! - [`round::RoundNe`]: round to nearest even on a packed code, parameterized by the code
//!   width (fp16mac, fp32acc).
//! - [`align::Fp32Align`]: operand order and alignment of an FP32 addition (fp16mac, fp32acc).
//! - [`addsub::SigAddSub`]: significand add or subtract of an aligned pair (fp16mac, fp32acc).
//! - [`fp32add::Fp32Add`]: the FP32 adder built from these, normalization, packing, rounding
//!   and the result multiplexer included (fp16mac, fp32acc).
//! - [`accreg::AccReg`]: the accumulator register with synchronous reset, clear and enable
//!   (fp16mac, fp32acc, int16fma `mac`, bitmod); the `acc_streaming!` macro of
//!   [`accreg`] defines the streaming block that puts a PE's core in front of it (fp16mac,
//!   fp32acc, int16fma `mac`).
//! - [`widen::FpWiden`]: exact widening of a float code to FP32 (the `lmul` and `fpmul` array
//!   cells).

pub mod accreg;
pub mod addsub;
pub mod align;
pub mod expsum;
pub mod fp32add;
pub mod norm;
pub mod round;
pub mod sigmul;
pub mod unpack;
pub mod widen;

pub use accreg::AccReg;
pub use addsub::SigAddSub;
pub use align::Fp32Align;
pub use expsum::FpExpSum;
pub use fp32add::Fp32Add;
pub use norm::FpLeadNorm;
pub use round::RoundNe;
pub use sigmul::FpSigMul;
pub use unpack::FpUnpack;
pub use widen::FpWiden;

/// The mask of the low `n` bits (all ones for `n >= 64`).
pub(crate) fn low_mask(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}
