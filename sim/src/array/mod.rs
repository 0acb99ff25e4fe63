//! PE arrays: the sim side of the array contract (`docs/arrays.md`).
//!
//! - [`cell`]: one accumulating step of a PE, the unit every array cell computes;
//! - [`bitmod`](mod@bitmod): the sequential bitmod cell (BitMoD PE + FP32 accumulator);
//! - [`gemm`](mod@gemm): the reference GEMM, with the order of accumulation arrays reproduce
//!   bit for bit;
//! - [`timing`](mod@timing): SCALE-Sim's closed-form timing for the `os`, `ws` and `is`
//!   dataflows, the last output cycle of this protocol, and the SRAM traffic;
//! - [`model`]: the cycle-accurate output-stationary array (every register) and its GEMM driver;
//! - [`ws`]: the cycle-accurate weight-stationary array, and its drivers for `ws` and `is`.

pub mod bitmod;
pub mod cell;
pub mod gemm;
pub mod model;
pub mod timing;
pub mod ws;

pub use cell::{cells, Cell};
pub use gemm::gemm;
pub use model::{drive_gemm_os, run_gemm_os, ArrayInputs, ArrayOutputs, GemmTrace, OsArray};
pub use timing::{timing, timing_with, ArrayDims, Dataflow, GemmDims, PeTiming, Sram, Timing};
pub use ws::{drive_gemm_ws, run_gemm_is, run_gemm_ws, Stationary, WsArray, WsInputs, WsOutputs};
