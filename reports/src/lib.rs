//! pelab-reports: accuracy and energy studies of the PEs, their tables (CSV, JSON), plots
//! (PNG, SVG) and the Markdown summary that sets each paper's claim beside pelab's measurement.
//!
//! Only this crate draws; it builds on the reference models (pelab-sim), the RTL and synthesis
//! (pelab-hdl) and the vectors, simulators and energy measurement (pelab-testbench).

pub mod accel_energy;
pub mod accuracy;
pub mod export;
pub mod gemm;
pub mod plots;
pub mod report;
pub mod table;

pub use table::Table;
