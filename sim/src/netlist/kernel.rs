//! Native evaluation kernels: the levelized program written out as straight-line C (one
//! statement per cell, nets held in local variables so the C compiler can keep them in vector
//! registers, no dispatch), compiled for the machine it runs on and called by [`super::Sim`]
//! instead of the interpreter. This module writes the source and defines the interface; the
//! compiling and loading happen outside the pure model crate (`pelab_testbench::kernel`).
//!
//! A [`Word`] is one C value of type `W`, a 512-bit GCC vector (`vector_size(64)`): one
//! AVX-512 register when the CPU has them, two AVX2 registers otherwise. The generated
//! functions take a pointer to the simulation's net values (one `W` per net) and:
//! - `pelab_eval_all` stores every net the program computes (as the interpreter does);
//! - `pelab_eval_obs` stores only the nets read outside the program: output ports and the
//!   data and control nets of flip-flops (verification, where nothing else is looked at).
//!
//! The program is cut into functions of at most [`CHUNK`] statements so the compiler's
//! register allocation stays fast on large netlists; a net computed in one function and read
//! in a later one goes through memory.

use super::{Netlist, Op, Word};
use std::fmt::Write as _;
use std::sync::Arc;

/// Statements per generated function.
pub const CHUNK: usize = 300;

/// A compiled evaluation of one netlist's program.
pub trait EvalKernel: Send + Sync {
    /// Evaluates the program over `vals` (one word per net). With `all`, every computed net is
    /// stored; otherwise only the observed nets (see the module documentation).
    fn eval(&self, vals: &mut [Word], all: bool);
    /// What it is (compiler, flags, vector unit), for reports.
    fn describe(&self) -> &str;
}

/// A shared handle on a compiled kernel.
#[derive(Clone)]
pub struct Kernel(pub Arc<dyn EvalKernel>);

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kernel({})", self.0.describe())
    }
}

/// Nets read outside the program: output ports and the data and control nets of flip-flops.
pub fn observed_nets(net: &Netlist) -> Vec<bool> {
    let mut obs = vec![false; net.nets];
    for p in &net.outputs {
        for &b in &p.bits {
            obs[b as usize] = true;
        }
    }
    for f in &net.flops {
        obs[f.d as usize] = true;
        if let Some(c) = f.enable {
            obs[c.net as usize] = true;
        }
        if let Some((c, _, _)) = f.sync_reset {
            obs[c.net as usize] = true;
        }
        for (c, _) in &f.async_reset {
            obs[c.net as usize] = true;
        }
    }
    obs
}

/// The C expression of one instruction over operand expressions.
fn expr(op: Op, a: &str, b: &str, c: &str, d: &str) -> String {
    match op {
        Op::Buf => a.to_string(),
        Op::Not => format!("~{a}"),
        Op::And => format!("{a} & {b}"),
        Op::Nand => format!("~({a} & {b})"),
        Op::Or => format!("{a} | {b}"),
        Op::Nor => format!("~({a} | {b})"),
        Op::Xor => format!("{a} ^ {b}"),
        Op::Xnor => format!("~({a} ^ {b})"),
        Op::AndNot => format!("{a} & ~{b}"),
        Op::OrNot => format!("{a} | ~{b}"),
        Op::Mux => format!("({a} & ~{c}) | ({b} & {c})"),
        Op::NMux => format!("~(({a} & ~{c}) | ({b} & {c}))"),
        Op::Aoi3 => format!("~(({a} & {b}) | {c})"),
        Op::Oai3 => format!("~(({a} | {b}) & {c})"),
        Op::Aoi4 => format!("~(({a} & {b}) | ({c} & {d}))"),
        Op::Oai4 => format!("~(({a} | {b}) & ({c} | {d}))"),
    }
}

/// Operands an operation reads.
fn arity(op: Op) -> usize {
    match op {
        Op::Buf | Op::Not => 1,
        Op::Mux | Op::NMux | Op::Aoi3 | Op::Oai3 => 3,
        Op::Aoi4 | Op::Oai4 => 4,
        _ => 2,
    }
}

/// The C source of the kernel of `net` (see the module documentation), as one file.
pub fn c_source(net: &Netlist) -> String {
    c_sources(net, 1).concat()
}

/// The C source of the kernel of `net` in at most `parts` files that compile separately and
/// link together (the last one holds the two entry points): for compiling in parallel.
pub fn c_sources(net: &Netlist, parts: usize) -> Vec<String> {
    let prog = &net.program;
    let chunks: Vec<std::ops::Range<usize>> = (0..prog.len())
        .step_by(CHUNK)
        .map(|s| s..(s + CHUNK).min(prog.len()))
        .collect();
    // Chunk that computes each net, and whether a later chunk reads it.
    let mut made_in = vec![usize::MAX; net.nets];
    let mut read_later = vec![false; net.nets];
    for (k, r) in chunks.iter().enumerate() {
        for i in &prog[r.clone()] {
            for &x in [i.a, i.b, i.c, i.d].iter().take(arity(i.op)) {
                let m = made_in[x as usize];
                if m != usize::MAX && m < k {
                    read_later[x as usize] = true;
                }
            }
            made_in[i.y as usize] = k;
        }
    }
    let obs = observed_nets(net);
    let mut head = String::new();
    head.push_str("/* Generated by pelab from the levelized program of ");
    head.push_str(&net.top.replace("*/", "* /"));
    head.push_str(". */\n#include <stdint.h>\n");
    head.push_str(
        "typedef uint64_t W __attribute__((vector_size(64), aligned(8), may_alias));\n\n",
    );
    let parts = parts.clamp(1, chunks.len().max(1));
    let per = chunks.len().div_ceil(parts).max(1);
    let mut files = vec![head.clone(); parts];
    let mut local = vec![false; net.nets];
    for (variant, all) in [("all", true), ("obs", false)] {
        for (k, r) in chunks.iter().enumerate() {
            let s = &mut files[k / per];
            let _ = writeln!(s, "void pelab_{variant}_{k}(W *restrict v) {{");
            for i in &prog[r.clone()] {
                let name = |x: u32| -> String {
                    if local[x as usize] {
                        format!("n{x}")
                    } else {
                        format!("v[{x}]")
                    }
                };
                let e = expr(i.op, &name(i.a), &name(i.b), &name(i.c), &name(i.d));
                let y = i.y as usize;
                let _ = writeln!(s, "  const W n{y} = {e};");
                if all || obs[y] || read_later[y] {
                    let _ = writeln!(s, "  v[{y}] = n{y};");
                }
                local[y] = true;
            }
            s.push_str("}\n");
            for i in &prog[r.clone()] {
                local[i.y as usize] = false;
            }
        }
    }
    let last = files.last_mut().expect("at least one file");
    for variant in ["all", "obs"] {
        for k in 0..chunks.len() {
            let _ = writeln!(last, "void pelab_{variant}_{k}(W *restrict v);");
        }
        let _ = writeln!(last, "void pelab_eval_{variant}(W *restrict v) {{");
        for k in 0..chunks.len() {
            let _ = writeln!(last, "  pelab_{variant}_{k}(v);");
        }
        last.push_str("}\n\n");
    }
    files
}
