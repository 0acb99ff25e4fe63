//! A fair Verilator baseline for the gate engine: the same Yosys generic-gate netlist compiled
//! by Verilator (`--cc --exe --build -O3`, C++ at `-O3 -march=native`) and driven by a
//! generated tight C++ loop, against pelab's engine ([`pelab_sim::netlist::Sim`]) on the same
//! stimulus, both reducing the outputs to one checksum that must agree.
//!
//! # Stimulus
//! Input ports are numbered `p` in netlist order ([`Netlist::inputs`], the clock port keeps
//! its number but is never driven by the stimulus). The word applied to port `p` in stream `s`
//! at step `t` is
//!
//! ```text
//! splitmix64(seed ^ (s << 40) ^ (t << 8) ^ p) & mask(width of p)
//! ```
//!
//! with `splitmix64` Vigna's finalizer ([`splitmix64`]) and every operation on wrapping `u64`.
//! Ports are at most 64 bits wide; wider ones are refused.
//!
//! # Checksum
//! Output ports are numbered `o` in netlist order ([`Netlist::outputs`]). With `T` steps per
//! stream, the sample of output `o` (its value, at most 64 bits) at stream `s`, step `t` adds
//!
//! ```text
//! splitmix64(value ^ (o << 56)) * (2 * (s * T + t) + 1)
//! ```
//!
//! to the checksum (wrapping). The sum does not depend on the order of the terms, so any split
//! of the streams (or of the vectors) over threads or processes adds up to the same checksum,
//! and each term is weighted by its position, so a value moved to another vector changes it.
//!
//! # Combinational netlists (no flip-flops)
//! One stream (`s = 0`) of `T` vectors: vector `t` applies the stimulus of step `t`, the logic
//! settles, and every output is sampled. The engine evaluates 512 vectors per step, one per
//! lane; threads (and harness processes) take disjoint ranges of `t`.
//!
//! # Clocked netlists (flip-flops on one clock port, rising edge)
//! `S` independent streams of `T` cycles. Every stream starts from the flip-flops' initial
//! state (their `init` value, 0 when none): the engine starts a fresh [`Sim`] per block of 512
//! streams (one stream per lane), the harness a fresh model object per stream, compiled with
//! `--x-assign 0 --x-initial 0` so that no bit starts random. Cycle `t` of a stream:
//! 1. the clock is low and the inputs take the stimulus of step `t`;
//! 2. the logic settles (`eval`), and the outputs are sampled into the checksum (so they show
//!    the state reached after `t` rising edges, combined with the inputs of step `t`);
//! 3. the clock rises (Verilator: `clock = 1; eval()`; the engine: [`Sim::clock`], whose new
//!    outputs the next cycle's `eval` settles).
//!
//! Threads and harness processes take disjoint ranges of streams.
//!
//! # What is timed
//! Both sides precompute the stimulus words into memory before the timed region (each in the
//! order it reads them; the engine in the narrowest unsigned type that holds each port), so only applying the inputs, evaluating and folding the outputs into
//! the checksum is timed. The harness times its loop with `std::chrono::steady_clock`; in the
//! clocked case the construction and destruction of each stream's model are outside the timed
//! region. The engine's time includes creating its [`Sim`]s and the transposition of the
//! words into bit planes and back (`Sim::set_values` and `Sim::values`, the engine's own
//! transposes).
//!
//! Harness processes synchronize their start: each precomputes its stimulus, prints `ready`,
//! and starts its timed loop when it reads a line on stdin, which the parent sends to all of
//! them at once.

use pelab_sim::netlist::{Netlist, Sim, ToggleMode, LANES};
use pelab_sim::{Error, Result};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Instant;

/// Vigna's SplitMix64 output function of `x` (the generator's state after one step).
#[inline(always)]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stimulus word of input port `p` (netlist order) of width `width`, stream `s`, step `t`.
#[inline(always)]
pub fn stimulus(seed: u64, s: u64, t: u64, p: u64, width: usize) -> u64 {
    splitmix64(seed ^ (s << 40) ^ (t << 8) ^ p) & mask(width)
}

/// The checksum term of output `o` holding `value` at vector `index` (`s * T + t`).
#[inline(always)]
pub fn term(value: u64, o: u64, index: u64) -> u64 {
    splitmix64(value ^ (o << 56)).wrapping_mul(index.wrapping_mul(2).wrapping_add(1))
}

fn mask(width: usize) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// What to run: `streams` streams of `cycles` steps from `seed`. A combinational netlist
/// takes exactly one stream, of `cycles` vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// Independent streams (1 for combinational netlists).
    pub streams: u64,
    /// Steps per stream: vectors (combinational) or clock cycles.
    pub cycles: u64,
    /// Stimulus seed.
    pub seed: u64,
}

impl Workload {
    /// `vectors` independent vectors of a combinational netlist.
    pub fn combinational(vectors: u64, seed: u64) -> Workload {
        Workload {
            streams: 1,
            cycles: vectors,
            seed,
        }
    }

    /// `streams` streams of `cycles` clock cycles of a clocked netlist.
    pub fn clocked(streams: u64, cycles: u64, seed: u64) -> Workload {
        Workload {
            streams,
            cycles,
            seed,
        }
    }

    /// Vectors (or cycles) in total: `streams * cycles`.
    pub fn vectors(&self) -> u64 {
        self.streams * self.cycles
    }

    /// The units split over threads and processes: vectors (combinational) or streams.
    fn units(&self, clocked: bool) -> u64 {
        if clocked {
            self.streams
        } else {
            self.cycles
        }
    }
}

/// One deliberately wrong output bit in the engine's result, to show that the checksum
/// catches it: bit `bit` of output port `output` at vector `index` (`s * T + t`) is flipped
/// before it enters the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Output port (netlist order).
    pub output: usize,
    /// Bit of the port.
    pub bit: u32,
    /// Vector index `s * T + t`.
    pub index: u64,
}

/// How a netlist is driven: ports, the clock and whether it is clocked.
struct Shape {
    /// Stimulus ports: (netlist input index, width); the clock port excluded.
    inputs: Vec<(usize, usize)>,
    /// Output widths.
    outputs: Vec<usize>,
    /// The clock input port, when the netlist has flip-flops.
    clock: Option<usize>,
}

fn shape(net: &Netlist) -> Result<Shape> {
    for (dir, ports) in [("input", &net.inputs), ("output", &net.outputs)] {
        if let Some(p) = ports.iter().find(|p| p.bits.len() > 64) {
            return Err(Error::new(format!(
                "{}: {dir} port '{}' of {} is {} bits wide; the harness drives and samples \
                 ports of at most 64 bits",
                net.source,
                p.name,
                net.top,
                p.bits.len()
            )));
        }
    }
    let clock = if net.flops.is_empty() {
        None
    } else {
        let c = net.clock.ok_or_else(|| {
            Error::new(format!(
                "{}: {} has flip-flops but no clock input port",
                net.source, net.top
            ))
        })?;
        let p = net
            .inputs
            .iter()
            .position(|p| p.bits == [c])
            .ok_or_else(|| {
                Error::new(format!(
                    "{}: the clock of {} is not a one-bit input port",
                    net.source, net.top
                ))
            })?;
        Some(p)
    };
    Ok(Shape {
        inputs: net
            .inputs
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != clock)
            .map(|(i, p)| (i, p.bits.len()))
            .collect(),
        outputs: net.outputs.iter().map(|p| p.bits.len()).collect(),
        clock,
    })
}

fn check_workload(net: &Netlist, clocked: bool, w: &Workload) -> Result<()> {
    if w.streams == 0 || w.cycles == 0 {
        return Err(Error::new(format!(
            "{}: empty workload ({} streams of {} steps)",
            net.top, w.streams, w.cycles
        )));
    }
    if !clocked && w.streams != 1 {
        return Err(Error::new(format!(
            "{} is combinational: it takes one stream of vectors, not {} streams",
            net.top, w.streams
        )));
    }
    Ok(())
}

/// The engine's result on a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineRun {
    /// The checksum of every output sample.
    pub checksum: u64,
    /// Wall time of the timed region, seconds.
    pub secs: f64,
    /// Vectors (or cycles) simulated.
    pub vectors: u64,
    /// Threads of the rayon pool it ran in.
    pub threads: usize,
}

/// Runs pelab's gate engine over the workload `w` (see the module documentation for the
/// stimulus, the sampling and the checksum), [`LANES`] vectors or streams per evaluation,
/// spread over the current rayon pool (a one-thread pool runs on one thread). `fault` flips
/// one output bit before it enters the checksum (for tests of the comparison itself).
pub fn engine_checksum(net: &Netlist, w: &Workload, fault: Option<Fault>) -> Result<EngineRun> {
    let sh = shape(net)?;
    let clocked = sh.clock.is_some();
    check_workload(net, clocked, w)?;
    let (s_n, t_n) = (w.streams as usize, w.cycles as usize);
    // Stimulus, port by port, in the narrowest unsigned type that holds the port: [t]
    // (combinational) or [t * S + s] (clocked).
    let stim: Vec<Words> = sh
        .inputs
        .par_iter()
        .map(|&(p, width)| {
            let word =
                |i: usize| stimulus(w.seed, (i % s_n) as u64, (i / s_n) as u64, p as u64, width);
            let n = s_n * t_n;
            match width {
                0..=8 => Words::W8((0..n).map(|i| word(i) as u8).collect()),
                9..=16 => Words::W16((0..n).map(|i| word(i) as u16).collect()),
                17..=32 => Words::W32((0..n).map(|i| word(i) as u32).collect()),
                _ => Words::W64((0..n).map(word).collect()),
            }
        })
        .collect();
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    let checksum = if clocked {
        let blocks = s_n.div_ceil(LANES);
        (0..blocks)
            .into_par_iter()
            .map(|b| {
                let s0 = b * LANES;
                let n = LANES.min(s_n - s0);
                let mut sim = Sim::new(net, ToggleMode::Off);
                sim.outputs_only();
                let mut io = Io::new();
                let mut sum = 0u64;
                for t in 0..t_n {
                    let at = t * s_n + s0;
                    io.apply(&mut sim, &sh, &stim, at, n);
                    sim.eval();
                    sum =
                        sum.wrapping_add(io.fold(&sim, n, fault, |l| ((s0 + l) * t_n + t) as u64));
                    sim.clock(n);
                }
                sum
            })
            .reduce(|| 0, u64::wrapping_add)
    } else {
        // Chunks of whole lane groups, several per thread for balance.
        let per = t_n.div_ceil(threads * 8).div_ceil(LANES).max(1) * LANES;
        let chunks = t_n.div_ceil(per);
        (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut sim = Sim::new(net, ToggleMode::Off);
                sim.outputs_only();
                let mut io = Io::new();
                let mut sum = 0u64;
                let end = t_n.min((c + 1) * per);
                let mut t0 = c * per;
                while t0 < end {
                    let n = LANES.min(end - t0);
                    io.apply(&mut sim, &sh, &stim, t0, n);
                    sim.eval();
                    sum = sum.wrapping_add(io.fold(&sim, n, fault, |l| (t0 + l) as u64));
                    t0 += n;
                }
                sum
            })
            .reduce(|| 0, u64::wrapping_add)
    };
    Ok(EngineRun {
        checksum,
        secs: start.elapsed().as_secs_f64(),
        vectors: w.vectors(),
        threads,
    })
}

/// One input port's precomputed stimulus words, in the narrowest type that holds the port.
enum Words {
    W8(Vec<u8>),
    W16(Vec<u16>),
    W32(Vec<u32>),
    W64(Vec<u64>),
}

/// Per-thread buffer of the engine loop: one port's values, widened to 64 bits.
struct Io {
    values: Vec<u64>,
}

impl Io {
    fn new() -> Io {
        Io {
            values: vec![0; LANES],
        }
    }

    /// Applies `n` lanes of stimulus starting at `at` in every port's words.
    #[inline]
    fn apply(&mut self, sim: &mut Sim, sh: &Shape, stim: &[Words], at: usize, n: usize) {
        for (&(p, _), words) in sh.inputs.iter().zip(stim) {
            let vals = &mut self.values[..n];
            fn widen<T: Copy + Into<u64>>(from: &[T], to: &mut [u64]) {
                for (t, &f) in to.iter_mut().zip(from) {
                    *t = f.into();
                }
            }
            match words {
                Words::W8(v) => widen(&v[at..at + n], vals),
                Words::W16(v) => widen(&v[at..at + n], vals),
                Words::W32(v) => widen(&v[at..at + n], vals),
                Words::W64(v) => vals.copy_from_slice(&v[at..at + n]),
            }
            sim.set_values(p, vals);
        }
    }

    /// The checksum terms of every output in lanes `0..n`; `index(l)` is lane `l`'s vector.
    #[inline]
    fn fold(
        &mut self,
        sim: &Sim,
        n: usize,
        fault: Option<Fault>,
        index: impl Fn(usize) -> u64,
    ) -> u64 {
        let mut sum = 0u64;
        for o in 0..sim.netlist().outputs.len() {
            let vals = &mut self.values[..n];
            sim.values(o, vals);
            if let Some(f) = fault.filter(|f| f.output == o) {
                if let Some(l) = (0..n).find(|&l| index(l) == f.index) {
                    vals[l] ^= 1u64 << f.bit;
                }
            }
            for (l, &v) in vals.iter().enumerate() {
                sum = sum.wrapping_add(term(v, o as u64, index(l)));
            }
        }
        sum
    }
}

/// A built Verilator harness of one netlist.
#[derive(Debug, Clone)]
pub struct Harness {
    /// Top module.
    pub top: String,
    /// Working directory (generated C++, Verilator's `obj_dir`, logs).
    pub dir: PathBuf,
    /// The harness executable.
    pub exe: PathBuf,
    /// Wall time of the Verilator build (Verilog to C++ to executable), seconds.
    pub compile_secs: f64,
    /// Whether an identical earlier build was reused (`compile_secs` is then that build's).
    pub cached: bool,
    /// Whether the netlist is clocked (streams of cycles) or combinational (vectors).
    pub clocked: bool,
    /// The exact Verilator command line of the build.
    pub command: String,
}

/// A harness run (one process, or several in parallel on disjoint parts of the workload).
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessRun {
    /// Checksum of every output sample (the processes' checksums added).
    pub checksum: u64,
    /// Time of the run, seconds: the one process's timed loop, or with several processes
    /// started together the longest of their timed loops.
    pub secs: f64,
    /// With several processes: wall time from the common start signal until the last one
    /// reported, seconds (includes the clocked case's model construction).
    pub wall_secs: f64,
    /// Each process's timed loop, seconds.
    pub process_secs: Vec<f64>,
}

/// The flags the harness is built with (besides the top module and the files).
pub const VERILATOR_FLAGS: &[&str] = &[
    "--cc",
    "--exe",
    "--build",
    "-O3",
    "--x-assign",
    "0",
    "--x-initial",
    "0",
    "-Wno-fatal",
    "-Wno-lint",
    "-Wno-style",
    "-CFLAGS",
    "-O3 -march=native",
    "-MAKEFLAGS",
    "OPT_FAST=-O3",
];

/// A C++ identifier Verilator keeps as is (no `__`, which it escapes).
fn plain_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && !s.contains("__")
}

/// 64-bit FNV-1a of several byte strings (separated), for the build cache.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for p in parts {
        for &b in p.iter().chain(&[0xffu8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// The C++ harness of `net` (top `top`); see the module documentation.
pub fn harness_cpp(net: &Netlist, top: &str) -> Result<String> {
    let sh = shape(net)?;
    let bad = |what: &str, name: &str| {
        Error::new(format!(
            "{}: {what} '{name}' is not a plain C++ identifier (letters, digits, single \
             underscores); the Verilator harness cannot name it",
            net.source
        ))
    };
    if !plain_identifier(top) {
        return Err(bad("module", top));
    }
    for p in net.inputs.iter().chain(&net.outputs) {
        if !plain_identifier(&p.name) {
            return Err(bad("port", &p.name));
        }
    }
    if sh.clock.is_some() {
        for f in &net.flops {
            let kind = &net.cells[f.cell].kind;
            let edge = kind
                .strip_prefix("$_")
                .and_then(|k| k.split('_').nth(1))
                .and_then(|k| k.chars().next());
            match edge {
                Some('P') => {}
                Some('N') => {
                    return Err(Error::new(format!(
                        "{}: flip-flop {} ({kind}) is clocked on the falling edge; the harness \
                         drives rising-edge designs",
                        net.source, net.cells[f.cell].name
                    )))
                }
                _ => {
                    return Err(Error::new(format!(
                        "{}: flip-flop {} is a {kind}; the harness takes Yosys generic-gate \
                         netlists ($_DFF_* family)",
                        net.source, net.cells[f.cell].name
                    )))
                }
            }
        }
    }
    let class = format!("V{top}");
    let mut c = String::new();
    let w = &mut c;
    let _ = writeln!(
        w,
        "// Verilator harness of {top}, generated by pelab (pelab_testbench::harness): the\n\
         // stimulus and checksum are specified there and computed identically by the engine.\n\
         // Usage: harness SEED STREAMS CYCLES BEGIN END   (units BEGIN..END: vectors when\n\
         // combinational, streams when clocked). Prints `ready`, waits for a line on stdin,\n\
         // runs the timed loop, prints `checksum N` and `seconds S`."
    );
    let _ = writeln!(
        w,
        "#include \"{class}.h\"\n#include \"verilated.h\"\n#include <chrono>\n#include <cstdint>\n\
         #include <cstdio>\n#include <cstdlib>\n#include <iostream>\n#include <string>\n\
         #include <vector>\n"
    );
    let _ = writeln!(
        w,
        "static inline uint64_t splitmix64(uint64_t x) {{\n\
         \x20   uint64_t z = x + 0x9E3779B97F4A7C15ULL;\n\
         \x20   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;\n\
         \x20   z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;\n\
         \x20   return z ^ (z >> 31);\n}}\n"
    );
    let np = sh.inputs.len();
    let _ = writeln!(w, "static const int P = {};", np.max(1));
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "0".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(
        w,
        "static const uint64_t PORT[P] = {{{}}};",
        list(sh.inputs.iter().map(|&(p, _)| format!("{p}ULL")).collect())
    );
    let _ = writeln!(
        w,
        "static const uint64_t MASK[P] = {{{}}};\n",
        list(
            sh.inputs
                .iter()
                .map(|&(_, wd)| format!("0x{:X}ULL", mask(wd)))
                .collect()
        )
    );
    // Applying stimulus row `v` and folding the outputs at vector index `ix`.
    let mut apply = String::new();
    for (k, &(p, _)) in sh.inputs.iter().enumerate() {
        let _ = writeln!(apply, "        top->{} = v[{k}];", net.inputs[p].name);
    }
    let mut fold = String::new();
    for (o, (port, &wd)) in net.outputs.iter().zip(&sh.outputs).enumerate() {
        let _ = writeln!(
            fold,
            "        sum += splitmix64(((uint64_t)top->{} & 0x{:X}ULL) ^ ({o}ULL << 56)) * wt;",
            port.name,
            mask(wd)
        );
    }
    let _ = writeln!(
        w,
        "int main(int argc, char** argv) {{\n\
         \x20   if (argc != 6) {{\n\
         \x20       std::fprintf(stderr, \"usage: %s SEED STREAMS CYCLES BEGIN END\\n\", argv[0]);\n\
         \x20       return 2;\n\
         \x20   }}\n\
         \x20   const uint64_t seed = std::strtoull(argv[1], nullptr, 10);\n\
         \x20   const uint64_t S = std::strtoull(argv[2], nullptr, 10);\n\
         \x20   const uint64_t T = std::strtoull(argv[3], nullptr, 10);\n\
         \x20   const uint64_t b = std::strtoull(argv[4], nullptr, 10);\n\
         \x20   const uint64_t e = std::strtoull(argv[5], nullptr, 10);\n\
         \x20   (void)S;\n\
         \x20   const bool clocked = {};\n\
         \x20   const uint64_t units = e > b ? e - b : 0;\n\
         \x20   const uint64_t per = clocked ? T : 1;\n\
         \x20   std::vector<uint64_t> stim(units * per * P);\n\
         \x20   for (uint64_t u = 0; u < units; u++)\n\
         \x20       for (uint64_t t = 0; t < per; t++) {{\n\
         \x20           const uint64_t s = clocked ? b + u : 0, tt = clocked ? t : b + u;\n\
         \x20           for (int p = 0; p < P; p++)\n\
         \x20               stim[(u * per + t) * P + p] =\n\
         \x20                   splitmix64(seed ^ (s << 40) ^ (tt << 8) ^ PORT[p]) & MASK[p];\n\
         \x20       }}\n\
         \x20   std::printf(\"ready\\n\");\n\
         \x20   std::fflush(stdout);\n\
         \x20   std::string go;\n\
         \x20   std::getline(std::cin, go);\n\
         \x20   uint64_t sum = 0;\n\
         \x20   double secs = 0;",
        if sh.clock.is_some() { "true" } else { "false" }
    );
    if let Some(cp) = sh.clock {
        let clk = &net.inputs[cp].name;
        let _ = writeln!(
            w,
            "    for (uint64_t u = 0; u < units; u++) {{\n\
             \x20       {class}* top = new {class};\n\
             \x20       const uint64_t base = (b + u) * T;\n\
             \x20       const uint64_t* row = &stim[u * T * P];\n\
             \x20       auto t0 = std::chrono::steady_clock::now();\n\
             \x20       for (uint64_t t = 0; t < T; t++) {{\n\
             \x20       const uint64_t* v = row + t * P;\n\
             \x20       const uint64_t wt = 2 * (base + t) + 1;\n\
             \x20       top->{clk} = 0;\n\
             {apply}\
             \x20       top->eval();\n\
             {fold}\
             \x20       top->{clk} = 1;\n\
             \x20       top->eval();\n\
             \x20       }}\n\
             \x20       secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();\n\
             \x20       top->final();\n\
             \x20       delete top;\n\
             \x20   }}"
        );
    } else {
        let _ = writeln!(
            w,
            "    {class}* top = new {class};\n\
             \x20   auto t0 = std::chrono::steady_clock::now();\n\
             \x20   for (uint64_t u = 0; u < units; u++) {{\n\
             \x20       const uint64_t* v = &stim[u * P];\n\
             \x20       const uint64_t wt = 2 * (b + u) + 1;\n\
             {apply}\
             \x20       top->eval();\n\
             {fold}\
             \x20   }}\n\
             \x20   secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();\n\
             \x20   top->final();\n\
             \x20   delete top;"
        );
    }
    let _ = writeln!(
        w,
        "    std::printf(\"checksum %llu\\nseconds %.9f\\n\", (unsigned long long)sum, secs);\n\
         \x20   return 0;\n}}"
    );
    Ok(c)
}

/// Writes the C++ harness of `net` (top `top`, Verilog netlist `netlist_v`) into `dir`, builds
/// it with Verilator ([`VERILATOR_FLAGS`], `-j` all cores) and returns it, ready to
/// [`Harness::run`]. An identical earlier build in `dir` (same netlist, harness, flags and
/// Verilator version) is reused. A missing Verilator is an error naming its package.
pub fn verilator_harness(
    netlist_v: &Path,
    top: &str,
    net: &Netlist,
    dir: &Path,
) -> Result<Harness> {
    let verilator = pelab_hdl::tools::require_tool("verilator")?;
    let cpp = harness_cpp(net, top)?;
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::new(format!("cannot {what} {}: {e}", p.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    let dir = dir.canonicalize().map_err(|e| io("resolve", dir, e))?;
    if dir.to_string_lossy().contains(char::is_whitespace) {
        return Err(Error::new(format!(
            "{}: Verilator's make cannot build in a directory whose path has spaces",
            dir.display()
        )));
    }
    let netlist_v = netlist_v
        .canonicalize()
        .map_err(|e| io("resolve", netlist_v, e))?;
    let text = std::fs::read(&netlist_v).map_err(|e| io("read", &netlist_v, e))?;
    let version = Command::new(&verilator)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args: Vec<String> = VERILATOR_FLAGS.iter().map(|s| s.to_string()).collect();
    args.extend([
        "--top-module".into(),
        top.into(),
        "-Mdir".into(),
        "obj_dir".into(),
        "-o".into(),
        "harness".into(),
        "-j".into(),
        jobs.to_string(),
        netlist_v.display().to_string(),
        "harness.cpp".into(),
    ]);
    let command = format!("verilator {}", args.join(" "));
    let key = format!(
        "{:016x}",
        fnv(&[
            &text,
            cpp.as_bytes(),
            command.as_bytes(),
            version.as_bytes()
        ])
    );
    let exe = dir.join("obj_dir").join("harness");
    let stamp = dir.join("build.stamp");
    let clocked = !net.flops.is_empty();
    let done = |compile_secs: f64, cached: bool| Harness {
        top: top.into(),
        dir: dir.clone(),
        exe: exe.clone(),
        compile_secs,
        cached,
        clocked,
        command: command.clone(),
    };
    if let Ok(s) = std::fs::read_to_string(&stamp) {
        let mut w = s.split_whitespace();
        if w.next() == Some(key.as_str()) && exe.is_file() {
            if let Some(secs) = w.next().and_then(|x| x.parse::<f64>().ok()) {
                return Ok(done(secs, true));
            }
        }
    }
    let _ = std::fs::remove_file(&stamp);
    let _ = std::fs::remove_dir_all(dir.join("obj_dir"));
    pelab_hdl::emit::write_atomic(&dir.join("harness.cpp"), &cpp)?;
    let log_path = dir.join("build.log");
    let log = std::fs::File::create(&log_path).map_err(|e| io("create", &log_path, e))?;
    let log2 = log.try_clone().map_err(|e| io("open", &log_path, e))?;
    let t0 = Instant::now();
    let st = Command::new(&verilator)
        .args(&args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .status()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", verilator.display())))?;
    let compile_secs = t0.elapsed().as_secs_f64();
    if !st.success() || !exe.is_file() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        return Err(Error::new(format!(
            "the Verilator build of the harness of {top} failed ({st}); log {}:\n{}",
            log_path.display(),
            lines[lines.len().saturating_sub(30)..].join("\n")
        )));
    }
    pelab_hdl::emit::write_atomic(&stamp, format!("{key} {compile_secs}\n"))?;
    Ok(done(compile_secs, false))
}

impl Harness {
    /// Runs the harness on the whole workload in one process.
    pub fn run(&self, w: &Workload) -> Result<HarnessRun> {
        self.run_parallel(w, 1)
    }

    /// Runs `procs` harness processes side by side, each on a disjoint, contiguous part of the
    /// workload (vectors when combinational, streams when clocked), started together once all
    /// have precomputed their stimulus; the checksum is the sum of theirs.
    pub fn run_parallel(&self, w: &Workload, procs: usize) -> Result<HarnessRun> {
        if w.streams == 0 || w.cycles == 0 || (!self.clocked && w.streams != 1) {
            return Err(Error::new(format!(
                "harness of {}: bad workload {} streams of {} steps ({})",
                self.top,
                w.streams,
                w.cycles,
                if self.clocked {
                    "clocked"
                } else {
                    "combinational: one stream"
                }
            )));
        }
        let units = w.units(self.clocked);
        let procs = procs.clamp(1, units as usize);
        let err = |e: String| Error::new(format!("harness of {}: {e}", self.top));
        let mut children = Vec::new();
        for k in 0..procs {
            let b = units * k as u64 / procs as u64;
            let e = units * (k as u64 + 1) / procs as u64;
            let log_path = self.dir.join(format!("run-{k}.log"));
            let log = std::fs::File::create(&log_path)
                .map_err(|e| err(format!("cannot create {}: {e}", log_path.display())))?;
            let spawned = Command::new(&self.exe)
                .args([w.seed, w.streams, w.cycles, b, e].map(|x| x.to_string()))
                .current_dir(&self.dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn();
            let mut child = match spawned {
                Ok(c) => c,
                Err(e) => {
                    stop(&mut children);
                    return Err(err(format!("cannot start {}: {e}", self.exe.display())));
                }
            };
            let out = BufReader::new(child.stdout.take().expect("piped stdout"));
            children.push((child, out, log_path));
        }
        let r = self.drive(&mut children);
        if r.is_err() {
            stop(&mut children);
        }
        r
    }

    /// Starts the harness processes together once all are ready, and collects their results.
    fn drive(
        &self,
        children: &mut [(Child, BufReader<ChildStdout>, PathBuf)],
    ) -> Result<HarnessRun> {
        let err = |e: String| Error::new(format!("harness of {}: {e}", self.top));
        let log_tail = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        for (_, out, log) in children.iter_mut() {
            let mut line = String::new();
            out.read_line(&mut line)
                .map_err(|e| err(format!("reading the harness: {e}")))?;
            if line.trim() != "ready" {
                return Err(err(format!(
                    "the harness did not start (said {line:?}):\n{}",
                    log_tail(log)
                )));
            }
        }
        let t0 = Instant::now();
        for (child, _, _) in children.iter_mut() {
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin
                .write_all(b"go\n")
                .map_err(|e| err(format!("cannot start the harness: {e}")))?;
        }
        let mut checksum = 0u64;
        let mut process_secs = Vec::new();
        let mut wall_secs = 0.0;
        for (child, out, log) in children.iter_mut() {
            let (mut sum, mut secs) = (None, None);
            for line in out.lines() {
                let line = line.map_err(|e| err(format!("reading the harness: {e}")))?;
                let mut f = line.split_whitespace();
                match (f.next(), f.next()) {
                    (Some("checksum"), Some(x)) => sum = x.parse::<u64>().ok(),
                    (Some("seconds"), Some(x)) => secs = x.parse::<f64>().ok(),
                    _ => {}
                }
            }
            wall_secs = t0.elapsed().as_secs_f64();
            let st = child
                .wait()
                .map_err(|e| err(format!("waiting for the harness: {e}")))?;
            match (st.success(), sum, secs) {
                (true, Some(s), Some(t)) => {
                    checksum = checksum.wrapping_add(s);
                    process_secs.push(t);
                }
                _ => {
                    return Err(err(format!(
                        "the harness failed ({st}) without a checksum and a time:\n{}",
                        log_tail(log)
                    )))
                }
            }
        }
        Ok(HarnessRun {
            checksum,
            secs: process_secs.iter().cloned().fold(0.0, f64::max),
            wall_secs,
            process_secs,
        })
    }
}

/// Stops the harness processes of a run that are still waiting or running.
fn stop(children: &mut [(Child, BufReader<ChildStdout>, PathBuf)]) {
    for (child, _, _) in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of Vigna's splitmix64.c seeded with 1234567: state += golden
        // gamma before each output, so output k is splitmix64(1234567 + k * gamma).
        let gamma = 0x9E37_79B9_7F4A_7C15u64;
        let want = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
        ];
        for (k, w) in want.iter().enumerate() {
            assert_eq!(
                splitmix64(1234567u64.wrapping_add(gamma.wrapping_mul(k as u64))),
                *w
            );
        }
    }

    #[test]
    fn identifiers() {
        assert!(plain_identifier("a_in_0"));
        assert!(!plain_identifier("a__b"));
        assert!(!plain_identifier("\\acc_reg.d"));
        assert!(!plain_identifier("0a"));
    }
}
