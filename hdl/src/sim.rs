//! Running rust-hdl blocks in-process (rust-hdl's own event-free simulator).
//!
//! A combinational block is evaluated by setting `.next` on its inputs and calling [`settle`];
//! a clocked one advances with [`tick`]. This is the cheap first check against the reference
//! model; the emitted Verilog itself is checked separately.

use crate::{Error, Result};
use rust_hdl::prelude::{simulate, Block, Clock, In, Signal};

/// A function that picks a block's clock input.
pub type ClockOf<B> = fn(&mut B) -> &mut Signal<In, Clock>;

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

/// Checks that every row holds one value per input port (`ports`: name and width, in port
/// order), each within its port's width.
pub fn check_rows(module: &str, rows: &[Vec<u64>], ports: &[(&str, u32)]) -> Result<()> {
    for (i, r) in rows.iter().enumerate() {
        if r.len() != ports.len() {
            let names: Vec<&str> = ports.iter().map(|p| p.0).collect();
            return Err(Error::new(format!(
                "{module}: row {i} has {} values, expected {} ({})",
                r.len(),
                ports.len(),
                names.join(", ")
            )));
        }
        for (v, (name, width)) in r.iter().zip(ports) {
            if v >> width != 0 {
                return Err(Error::new(format!(
                    "{module}: row {i}: {name} = 0x{v:X} is wider than {width} bits"
                )));
            }
        }
    }
    Ok(())
}

/// Streams `(a, b)` rows through a block, one per clock cycle, and returns each row's `y`:
/// read `latency` rising edges after the row's inputs (0: combinational, settled per row).
pub fn stream_ab<B: Block>(
    uut: &mut B,
    latency: u32,
    rows: &[Vec<u64>],
    set: impl Fn(&mut B, u64, u64),
    y: impl Fn(&B) -> u64,
    clock: Option<ClockOf<B>>,
) -> Result<Vec<Vec<u64>>> {
    uut.connect_all();
    let mut out = Vec::with_capacity(rows.len());
    let Some(last) = rows.last() else {
        return Ok(out);
    };
    let Some(clock) = clock.filter(|_| latency > 0) else {
        for r in rows {
            set(uut, r[0], r[1]);
            settle(uut)?;
            out.push(vec![y(uut)]);
        }
        return Ok(out);
    };
    // Row i's result is on y after edge i + latency - 1; the last row's inputs stay on while
    // the pipeline drains.
    let lat = latency as usize;
    for i in 0..rows.len() + lat - 1 {
        let r = rows.get(i).unwrap_or(last);
        set(uut, r[0], r[1]);
        tick(uut, clock)?;
        if i + 1 >= lat {
            out.push(vec![y(uut)]);
        }
    }
    Ok(out)
}
