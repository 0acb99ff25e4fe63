//! Running rust-hdl blocks in-process (rust-hdl's own event-free simulator).
//!
//! A combinational block is evaluated by setting `.next` on its inputs and calling [`settle`];
//! a clocked one advances with [`tick`]. This is the cheap first check against the reference
//! model; the emitted Verilog itself is checked separately.

use crate::{Error, Result};
use rust_hdl::prelude::{simulate, Block, Clock, In, Signal};

/// Upper bound on update sweeps before a block counts as oscillating.
const MAX_SWEEPS: usize = 1000;

/// Propagates the inputs through `block` until nothing changes.
pub fn settle<B: Block>(block: &mut B) -> Result<()> {
    if simulate(block, MAX_SWEEPS) {
        Ok(())
    } else {
        Err(Error::new(format!(
            "block did not settle in {MAX_SWEEPS} sweeps (combinational loop?)"
        )))
    }
}

/// One clock cycle: clock low and settle, clock high (rising edge) and settle.
///
/// `clock` selects the block's clock input. Set the inputs for the cycle before calling; after
/// the call the registers hold what they sampled on the edge.
pub fn tick<B: Block>(block: &mut B, clock: fn(&mut B) -> &mut Signal<In, Clock>) -> Result<()> {
    clock(block).next = Clock { clk: false };
    settle(block)?;
    clock(block).next = Clock { clk: true };
    settle(block)
}
