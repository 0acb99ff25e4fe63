//! pelab-testbench: golden vectors from the reference models, self-checking Verilog
//! testbenches, the Icarus and Verilator runners, and the verification flow that ties them
//! together over the *emitted* Verilog (or a user's own RTL).

pub mod activity;
pub mod array;
pub mod codec;
pub mod energy;
pub mod formal;
pub mod gates;
pub mod harness;
pub mod kernel;
pub mod layout;
pub mod opensta;
pub mod pe;
pub mod ports;
pub mod run;
pub mod sdf;
pub mod tb;
pub mod unit_delay;
pub mod vectors;
pub mod verify;
pub mod waves;

pub use codec::PeVectors;
pub use pe::{pe, pes, Pe};
pub use run::{SimRun, Simulator, Status};
pub use vectors::{CaseSet, Layout, Shard, VectorSet};
