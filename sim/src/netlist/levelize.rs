//! Levelization of a loaded netlist: the cells' instruction blocks in topological order, and
//! the toggle-counted nets and fan-out derived from the cells.

use super::{CellInst, Error, Flop, Instr, Op, Result, CONST1};

/// A cell's combinational part before levelization: its instructions (temporaries included)
/// and the nets it reads.
pub(super) struct Pending {
    pub(super) instrs: Vec<Instr>,
    pub(super) reads: Vec<u32>,
}

/// The block that drives each net, checking that no net has two drivers.
fn producers(
    pending: &[Pending],
    flops: &[Flop],
    cells: &[CellInst],
    nets: usize,
    source: &str,
) -> Result<Vec<Option<usize>>> {
    let mut producer: Vec<Option<usize>> = vec![None; nets];
    for (k, p) in pending.iter().enumerate() {
        for i in &p.instrs {
            if let Some(prev) = producer[i.y as usize] {
                if prev != k {
                    return Err(Error::new(format!(
                        "{source}: net {} is driven by two cells",
                        i.y
                    )));
                }
            }
            producer[i.y as usize] = Some(k);
        }
    }
    for f in flops {
        if producer[f.q as usize].is_some() {
            return Err(Error::new(format!(
                "{source}: flip-flop {} output is also driven by a gate",
                cells[f.cell].name
            )));
        }
    }
    Ok(producer)
}

/// Orders the pending blocks topologically (Kahn's algorithm; sources: constants, input
/// ports, flop state nets). Returns the program and its depth in instructions.
pub(super) fn levelize(
    pending: &[Pending],
    flops: &[Flop],
    cells: &[CellInst],
    nets: usize,
    source: &str,
) -> Result<(Vec<Instr>, usize)> {
    let producer = producers(pending, flops, cells, nets, source)?;
    let loop_error = |k: usize| {
        let cell = cells
            .iter()
            .find(|c| {
                c.outputs
                    .iter()
                    .any(|(_, n)| pending[k].instrs.iter().any(|i| i.y == *n))
            })
            .map(|c| format!("{} ({})", c.name, c.kind))
            .unwrap_or_else(|| format!("net {}", pending[k].instrs[0].y));
        Error::new(format!(
            "{source}: combinational loop through cell {cell}; pelab simulates \
             loop-free logic between flip-flops"
        ))
    };
    let mut indeg = vec![0usize; pending.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); nets];
    for (k, p) in pending.iter().enumerate() {
        // A cell whose input pin reads its own output is a loop of one cell.
        if p.reads.iter().any(|&r| producer[r as usize] == Some(k)) {
            return Err(loop_error(k));
        }
        for r in block_reads(p) {
            if let Some(src) = producer[r as usize] {
                if src != k {
                    indeg[k] += 1;
                    users[r as usize].push(k);
                }
            }
        }
    }
    let mut ready: Vec<usize> = (0..pending.len()).filter(|&k| indeg[k] == 0).collect();
    let mut program = Vec::new();
    let mut level = vec![0usize; nets];
    let mut done = 0;
    while let Some(k) = ready.pop() {
        done += 1;
        for i in &pending[k].instrs {
            let l = [i.a, i.b, i.c, i.d]
                .iter()
                .map(|&n| level[n as usize])
                .max()
                .unwrap_or(0);
            level[i.y as usize] = l + 1;
            program.push(*i);
        }
        for i in &pending[k].instrs {
            for &u in &users[i.y as usize] {
                indeg[u] -= 1;
                if indeg[u] == 0 {
                    ready.push(u);
                }
            }
        }
    }
    if done != pending.len() {
        let stuck = (0..pending.len()).find(|&k| indeg[k] > 0).unwrap_or(0);
        return Err(loop_error(stuck));
    }
    let depth = level.iter().copied().max().unwrap_or(0);
    Ok((program, depth))
}

/// Every net a block reads, sorted and without repeats: its input pins and, for library
/// cells, the internal state its instructions read.
fn block_reads(p: &Pending) -> Vec<u32> {
    let mut reads: Vec<u32> = p.reads.clone();
    for i in &p.instrs {
        let n_ops = match i.op {
            Op::Buf | Op::Not => 1,
            Op::Mux | Op::NMux | Op::Aoi3 | Op::Oai3 => 3,
            Op::Aoi4 | Op::Oai4 => 4,
            _ => 2,
        };
        reads.extend([i.a, i.b, i.c, i.d].into_iter().take(n_ops));
    }
    reads.sort_unstable();
    reads.dedup();
    reads
}

/// Toggle-counted nets: every output of every cell, with its cell index (the state net of
/// library flops is internal; their output pins are counted).
pub(super) fn counted(cells: &[CellInst]) -> Vec<(u32, usize)> {
    let mut counted = Vec::new();
    for (k, c) in cells.iter().enumerate() {
        for (_, n) in &c.outputs {
            if *n > CONST1 {
                counted.push((*n, k));
            }
        }
    }
    counted
}

/// Fan-out of every net: the cells and input pins it drives.
pub(super) fn fanout(cells: &[CellInst], nets: usize) -> Vec<Vec<(usize, String)>> {
    let mut fanout: Vec<Vec<(usize, String)>> = vec![Vec::new(); nets];
    for (k, c) in cells.iter().enumerate() {
        for (p, n) in &c.inputs {
            fanout[*n as usize].push((k, p.clone()));
        }
    }
    fanout
}
