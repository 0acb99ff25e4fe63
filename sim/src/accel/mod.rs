//! Analytical accelerator models of LLM inference (`docs/accel.md`).
//!
//! - [`workload`]: model shapes (six built-in LLMs and user files), scenarios and op lists;
//! - [`hpca25`]: `bitmod-hpca25`, the analytical model behind Figs. 7 and 8 of BitMoD
//!   (Chen et al., HPCA 2025), reproduced bit for bit, quirks included;
//! - [`pelab`]: pelab's own model beside it: physical attention, systolic timing from the
//!   array model, overlap, leakage and stall energy, measured PE energies;
//! - [`report`]: ops grouped across layers, CSV text;
//! - [`exact`]: the exact rationals (decimal text in and out) the energy model computes in;
//! - [`expr`]: the integer expressions of model files (`h*3`, `kvd`, `t`);
//! - [`source`]: TOML and JSON files read into one tree that keeps the line of every value;
//! - [`sweep`]: grids of points (accelerators × models × tasks × arrays × timing models),
//!   shards, CSV rows and their merge.

pub mod exact;
pub mod expr;
pub mod hpca25;
pub mod pelab;
pub mod report;
pub mod source;
pub mod sweep;
pub mod workload;

pub use exact::Exact;
pub use hpca25::{AccelConfig, Accelerator, OpResult, Run, Totals};
pub use workload::{ModelShape, Op, OpKind, Scenario, Task, Workload};
