//! Array cells (`pelab_hdl::array::cell`): the list and its errors, the lint gate on every cell,
//! and the emitted Verilog co-simulated in Icarus against oracles built here from the reference
//! models of `pelab_sim`:
//! - the exact FP32 widening (`FpWiden`, each format as a module of its own) on every code of
//!   every 8-bit and smaller RTL format and of bf16 and fp16, against the format's `to_f64`
//!   value converted with `as f32` (NaN canonical);
//! - every cell, all in one Verilog file (so their module names must not clash), on 20,000
//!   random `(acc, a, b)` triples aimed at specials, cancellation, rounding and saturation,
//!   against `fp32acc::add(acc, widen(lmul or fpmul(a, b)))`, `fp16mac::fp16mac` and the
//!   `int16fma` wrap and saturate steps; the lmul and fpmul e4m3 cells on every `(a, b)` pair
//!   with four accumulators each;
//! - a few cells synthesized to generic gates (sizes printed) and their netlists evaluated on
//!   pelab's gate engine against the same oracle.

mod common;

use common::{Netlist, LANES};
use pelab_hdl::array::cell::{cell, cell_verilog, cells, widen_code, widen_verilog, CellSpec};
use pelab_hdl::emit::{write_atomic, write_module, RtlModule};
use pelab_hdl::format::{rtl_format, Format, Kind, Overflow, RTL_FORMATS};
use pelab_hdl::synth::{netlist_json, synthesize, Flow};
use pelab_hdl::tools::{lint_verilator, lint_yosys, require_tool};
use pelab_sim::format::Rounding;
use pelab_sim::int16fma::Mode;
use pelab_sim::samples::{random_pair, special_codes, tie_pair};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const NAN: u32 = 0x7FC0_0000;

/// Random triples per cell.
const RANDOM: usize = 20_000;

/// A scratch directory for one test, removed by [`Scratch::done`] after success.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let d =
            std::env::temp_dir().join(format!("pelab-array-cell-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
    fn done(self) {
        std::fs::remove_dir_all(&self.0).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Oracles, from the reference models of pelab_sim and the host's f64 -> f32 conversion.

/// The FP32 code of `code`'s value: `to_f64`, then `as f32` (exact for every format that
/// widens), NaN canonical.
fn widen_oracle(f: &Format, code: u64) -> u32 {
    let v = f.to_f64(code);
    if v.is_nan() {
        NAN
    } else {
        (v as f32).to_bits()
    }
}

/// The product of a float cell's PE (`lmul` or `fpmul`).
fn product(c: &CellSpec, f: &Format, a: u64, b: u64) -> u64 {
    let ovf = Overflow::parse(&c.policy).unwrap();
    match c.pe {
        "lmul" => pelab_sim::lmul::lmul(f, a, b, ovf),
        "fpmul" => pelab_sim::fpmul::fpmul(f, a, b, Rounding::NearestEven, ovf),
        other => panic!("{other} is not a float product cell"),
    }
}

/// The step of cell `c`: `y = step(acc, a, b)`.
fn oracle(c: &CellSpec, acc: u32, a: u64, b: u64) -> u32 {
    match c.pe {
        "lmul" | "fpmul" => {
            let f = Format::parse(&c.format).unwrap();
            pelab_sim::fp32acc::add(acc, widen_oracle(&f, product(c, &f, a, b)))
        }
        "fp16mac" => pelab_sim::fp16mac::fp16mac(acc, a as u16, b as u16),
        "int16fma" => {
            let lane = |x: u64, l: u32| (x >> (16 * l)) as u16 as i16;
            let mode = Mode::from_policy(&c.policy).unwrap();
            mode.apply(
                acc as i32,
                [lane(a, 0), lane(a, 1)],
                [lane(b, 0), lane(b, 1)],
            ) as u32
        }
        other => panic!("no oracle for {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Vectors.

/// An accumulator for a float step whose product has the FP32 code `p`: FP32 specials, uniform
/// codes, near `-p` (cancellation), `p` moved by an exponent distance (alignment and rounding
/// ties), zeros, `p` itself and values near the overflow threshold.
fn float_acc(r: &mut ChaCha8Rng, p: u32, specials: &[u32]) -> u32 {
    match r.gen_range(0..6) {
        0 => specials[r.gen_range(0..specials.len())],
        1 => r.gen(),
        2 => {
            let bits = r.gen_range(0..25);
            let delta = r.gen_range(0..=1u32 << bits);
            let neg = p ^ 0x8000_0000;
            if r.gen() {
                neg.wrapping_add(delta)
            } else {
                neg.wrapping_sub(delta)
            }
        }
        3 => {
            let ef = ((p >> 23) & 0xFF) as i64 + r.gen_range(-30..=30);
            let mant = if r.gen() {
                p & 0x7F_FFFF
            } else {
                r.gen::<u32>() & 0x7F_FFFF
            };
            let sign = if r.gen() {
                p & 0x8000_0000
            } else {
                r.gen::<u32>() & 0x8000_0000
            };
            sign | ((ef.clamp(0, 254) as u32) << 23) | mant
        }
        4 => [0, 0x8000_0000, p, p ^ 0x8000_0000][r.gen_range(0..4)],
        _ => (r.gen::<u32>() & 0x8000_0000) | (0x7F7F_FFFF - r.gen_range(0..1u32 << 22)),
    }
}

/// `n` random `(acc, a, b)` triples for a float cell of format `f`: operand pairs from the
/// format's special codes, rounding ties and `random_pair` (aimed at normal, subnormal and
/// overflowing products), each with an accumulator from [`float_acc`].
fn float_triples(c: &CellSpec, f: &Format, n: usize, seed: u64) -> Vec<(u32, u64, u64)> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let sp = special_codes(f);
    let acc_sp = pelab_sim::fp32acc::specials();
    (0..n)
        .map(|_| {
            let (a, b) = match r.gen_range(0..8) {
                0 | 1 => (sp[r.gen_range(0..sp.len())], sp[r.gen_range(0..sp.len())]),
                2 => tie_pair(f, &mut r),
                _ => random_pair(f, &mut r),
            };
            let p = if c.pe == "fp16mac" {
                // The product's FP32 neighbourhood is all an accumulator choice needs.
                let v = f.to_f64(a) * f.to_f64(b);
                if v.is_nan() {
                    NAN
                } else {
                    (v as f32).to_bits()
                }
            } else {
                widen_oracle(f, product(c, f, a, b))
            };
            (float_acc(&mut r, p, &acc_sp), a, b)
        })
        .collect()
}

/// `n` random `(acc, a, b)` triples for an int16fma cell: uniform, large and small lanes, and
/// accumulators near the INT32 limits (saturation and wrap-around) or uniform.
fn int_triples(n: usize, seed: u64) -> Vec<(u32, u64, u64)> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let lane = |r: &mut ChaCha8Rng| -> u16 {
        match r.gen_range(0..4) {
            0 => r.gen(),
            1 => (i16::MAX - r.gen_range(0..64)) as u16,
            2 => (i16::MIN + r.gen_range(0..64)) as u16,
            _ => r.gen_range(-8i16..=8) as u16,
        }
    };
    (0..n)
        .map(|_| {
            let a = lane(&mut r) as u64 | (lane(&mut r) as u64) << 16;
            let b = lane(&mut r) as u64 | (lane(&mut r) as u64) << 16;
            let acc = match r.gen_range(0..4) {
                0 => r.gen(),
                1 => (i32::MAX - r.gen_range(0..1 << 30)) as u32,
                2 => (i32::MIN + r.gen_range(0..1 << 30)) as u32,
                _ => r.gen_range(-1000i32..=1000) as u32,
            };
            (acc, a, b)
        })
        .collect()
}

/// The random triples of cell `c`.
fn triples(c: &CellSpec, seed: u64) -> Vec<(u32, u64, u64)> {
    if c.float {
        float_triples(c, &Format::parse(&c.format).unwrap(), RANDOM, seed)
    } else {
        int_triples(RANDOM, seed)
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal Icarus harness for combinational modules with one 32-bit output `y`.

/// One module under test: its inputs (name, width; the first is the most significant part of
/// a vector), the input vectors and the expected `y` of each.
struct Dut {
    module: String,
    inputs: Vec<(&'static str, usize)>,
    vectors: Vec<Vec<u64>>,
    expected: Vec<u32>,
    /// What each vector is, for failure messages.
    label: String,
}

impl Dut {
    fn width(&self) -> usize {
        self.inputs.iter().map(|p| p.1).sum()
    }

    /// One vector as hex, the inputs concatenated in port order.
    fn hex(&self, v: &[u64]) -> String {
        let mut bits: Vec<bool> = Vec::with_capacity(self.width());
        for (&(name, w), &x) in self.inputs.iter().zip(v) {
            assert!(
                w >= 64 || x >> w == 0,
                "{}: {name} = {x:X} wider than {w} bits",
                self.module
            );
            for i in (0..w).rev() {
                bits.push((x >> i) & 1 == 1);
            }
        }
        let pad = (4 - bits.len() % 4) % 4;
        let mut all = vec![false; pad];
        all.extend(bits);
        all.chunks(4)
            .map(|n| {
                let d = n.iter().fold(0u32, |acc, &b| acc << 1 | b as u32);
                char::from_digit(d, 16).unwrap()
            })
            .collect()
    }
}

/// Runs every DUT in one Icarus simulation of `sources` (the modules' Verilog, in one file):
/// each DUT's vectors from its own `$readmemh` file, each `y` written with `$fwrite`; returns
/// the number of mismatches found and prints the first few of each DUT.
fn run_icarus(dir: &Path, sources: &str, duts: &[Dut]) -> usize {
    require_tool("iverilog").unwrap();
    require_tool("vvp").unwrap();
    let src = dir.join("modules.v");
    // The modules carry no timescale of their own; give them the testbench's.
    write_atomic(&src, &format!("`timescale 1ns/1ns\n{sources}")).unwrap();
    let mut tb = String::from("`timescale 1ns/1ns\nmodule pelab_cell_tb;\n  integer i, fd;\n");
    for (k, d) in duts.iter().enumerate() {
        let w = d.width();
        tb.push_str(&format!(
            "  reg [{}:0] mem{k} [0:{}];\n  reg [{}:0] in{k};\n  wire [31:0] y{k};\n",
            w - 1,
            d.vectors.len() - 1,
            w - 1
        ));
        let mut lo = w;
        let conns: Vec<String> = d
            .inputs
            .iter()
            .map(|&(name, pw)| {
                lo -= pw;
                format!(".{name}(in{k}[{}:{lo}])", lo + pw - 1)
            })
            .collect();
        tb.push_str(&format!(
            "  {} dut{k}({}, .y(y{k}));\n",
            d.module,
            conns.join(", ")
        ));
        let lines: String = d.vectors.iter().map(|v| d.hex(v) + "\n").collect();
        write_atomic(&dir.join(format!("in{k}.hex")), &lines).unwrap();
    }
    tb.push_str("  initial begin\n");
    for (k, d) in duts.iter().enumerate() {
        let n = d.vectors.len();
        tb.push_str(&format!(
            "    $readmemh(\"in{k}.hex\", mem{k});\n    fd = $fopen(\"out{k}.hex\", \"w\");\n    \
             for (i = 0; i < {n}; i = i + 1) begin in{k} = mem{k}[i]; #1; $fwrite(fd, \"%h\\n\", \
             y{k}); end\n    $fclose(fd);\n"
        ));
    }
    tb.push_str("    $finish;\n  end\nendmodule\n");
    write_atomic(&dir.join("tb.v"), &tb).unwrap();
    let out = Command::new("iverilog")
        .args([
            "-g2005",
            "-Wall",
            "-s",
            "pelab_cell_tb",
            "-o",
            "tb.vvp",
            "tb.v",
            "modules.v",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "iverilog in {}:\n{text}",
        dir.display()
    );
    let out = Command::new("vvp")
        .args(["-n", "tb.vvp"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vvp in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bad = 0;
    for (k, d) in duts.iter().enumerate() {
        let path = dir.join(format!("out{k}.hex"));
        let text = std::fs::read_to_string(&path).unwrap();
        let got: Vec<u32> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                u32::from_str_radix(l.trim(), 16).unwrap_or_else(|_| {
                    panic!(
                        "{} line {}: '{l}' is not a 32-bit hex word ({})",
                        path.display(),
                        i + 1,
                        d.module
                    )
                })
            })
            .collect();
        assert_eq!(
            got.len(),
            d.vectors.len(),
            "{}: outputs in {}",
            d.module,
            path.display()
        );
        let wrong: Vec<usize> = (0..got.len())
            .filter(|&i| got[i] != d.expected[i])
            .collect();
        for &i in wrong.iter().take(6) {
            let ins: Vec<String> = d
                .inputs
                .iter()
                .zip(&d.vectors[i])
                .map(|(p, v)| format!("{} {v:X}", p.0))
                .collect();
            println!(
                "MISMATCH {} ({}) vector {i}: {}: icarus {:08X}, oracle {:08X}",
                d.module,
                d.label,
                ins.join(", "),
                got[i],
                d.expected[i]
            );
        }
        println!(
            "{}: {} vectors ({}), {} mismatches",
            d.module,
            got.len(),
            d.label,
            wrong.len()
        );
        bad += wrong.len();
    }
    bad
}

/// The Icarus DUT of cell `c` on `(acc, a, b)` triples, expected values from [`oracle`] (and
/// `CellSpec::step` asserted equal to it on every triple).
fn cell_dut(c: &CellSpec, t: &[(u32, u64, u64)], label: &str) -> Dut {
    let expected: Vec<u32> = t.iter().map(|&(acc, a, b)| oracle(c, acc, a, b)).collect();
    for (&(acc, a, b), &want) in t.iter().zip(&expected) {
        assert_eq!(
            c.step(acc, a, b).unwrap(),
            want,
            "{}: CellSpec::step(acc {acc:08X}, a {a:X}, b {b:X})",
            c.module_name()
        );
    }
    Dut {
        module: c.module_name(),
        inputs: vec![("acc", 32), ("a", c.a_bus()), ("b", c.b_bus())],
        vectors: t
            .iter()
            .map(|&(acc, a, b)| vec![acc as u64, a, b])
            .collect(),
        expected,
        label: label.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn the_cell_list_follows_the_contract() {
    // Expected independently: each RTL format has E <= 8 and M <= 23; formats without Inf or
    // NaN only saturate; lmul lists saturate first, fpmul ieee first (as their RTL does).
    let mut want: Vec<(String, String, String)> = Vec::new();
    for (pe, pols) in [
        ("lmul", ["saturate", "ieee"]),
        ("fpmul", ["ieee", "saturate"]),
    ] {
        for name in RTL_FORMATS {
            let f = rtl_format(name).unwrap();
            assert!(f.e <= 8 && f.m <= 23);
            for p in pols {
                if !(f.kind == Kind::Finite && p == "ieee") {
                    want.push((pe.into(), name.into(), p.into()));
                }
            }
        }
    }
    want.push(("fp16mac".into(), "fp16".into(), "ieee".into()));
    want.push(("int16fma".into(), "int16".into(), "wrap".into()));
    want.push(("int16fma".into(), "int16".into(), "saturate".into()));
    let all = cells();
    let got: Vec<(String, String, String)> = all
        .iter()
        .map(|c| (c.pe.to_string(), c.format.clone(), c.policy.clone()))
        .collect();
    assert_eq!(got, want);
    for c in &all {
        assert_eq!(cell(c.pe, &c.format, &c.policy).unwrap(), *c);
        assert_eq!(c.acc_width, 32);
        let (lanes, w) = match c.pe {
            "int16fma" => (2, 16),
            "fp16mac" => (1, 16),
            _ => (1, rtl_format(&c.format).unwrap().width() as usize),
        };
        assert_eq!(
            (c.lanes, c.a_width, c.b_width, c.float),
            (lanes, w, w, c.pe != "int16fma")
        );
        assert_eq!(
            c.module_name(),
            format!("pelab_cell_{}_{}_{}", c.pe, c.format, c.policy)
        );
    }
    assert_eq!(all.len(), 29);
}

#[test]
fn bad_cells_are_refused_with_what_is_valid() {
    let err = |pe: &str, f: &str, p: &str| cell(pe, f, p).unwrap_err().to_string();
    let e = err("bitmod", "int4", "ieee");
    assert!(e.contains("format fp16") && e.contains("bitmod34"), "{e}");
    let e = err("nosuch", "fp16", "ieee");
    assert!(e.contains("lmul, fpmul, fp16mac, int16fma, bitmod"), "{e}");
    let e = err("fp32acc", "fp32", "ieee");
    assert!(
        e.contains("adder inside every lmul and fpmul cell") && e.contains("format fp32"),
        "{e}"
    );
    let e = err("nosuch", "fp16", "ieee");
    assert!(e.contains("nosuch") && e.contains("lmul"), "{e}");
    let e = err("lmul", "e5m30", "saturate");
    assert!(
        e.contains("does not widen exactly to FP32") && e.contains("30 mantissa bits"),
        "{e}"
    );
    assert!(
        e.contains("e4m3 (saturate, ieee)") && e.contains("e2m1 (saturate)"),
        "{e}"
    );
    let e = err("fpmul", "e9m3", "ieee");
    assert!(
        e.contains("9 exponent bits") && e.contains("bf16 (ieee, saturate)"),
        "{e}"
    );
    let e = err("lmul", "e4m4", "saturate");
    assert!(e.contains("no RTL") && e.contains("e2m3"), "{e}");
    let e = err("lmul", "e2m1", "ieee");
    assert!(e.contains("valid: saturate"), "{e}");
    let e = err("fpmul", "bf16", "wrap");
    assert!(e.contains("'wrap'") && e.contains("ieee, saturate"), "{e}");
    let e = err("fp16mac", "bf16", "ieee");
    assert!(e.contains("fp16 with policy ieee"), "{e}");
    let e = err("int16fma", "int16", "ieee");
    assert!(e.contains("wrap, saturate"), "{e}");
    let e = err("int16fma", "int8", "wrap");
    assert!(e.contains("int16"), "{e}");
    let mut forged = cell("lmul", "e4m3", "saturate").unwrap();
    forged.a_width = 9;
    let e = cell_verilog(&forged).unwrap_err().to_string();
    assert!(e.contains("differs"), "{e}");
    let c = cell("int16fma", "int16", "wrap").unwrap();
    assert!(c
        .step(0, 1 << 32, 0)
        .unwrap_err()
        .to_string()
        .contains("32-bit a"));
}

#[test]
fn every_cell_passes_the_lint_gate_and_has_the_uniform_ports() {
    let dir = Scratch::new("lint");
    let mut failures = Vec::new();
    let mut n = 0;
    let widens: Vec<RtlModule> = RTL_FORMATS
        .iter()
        .filter(|f| **f != "fp32")
        .map(|f| widen_verilog(f).unwrap())
        .collect();
    let mut all_children: Vec<String> = Vec::new();
    for c in cells() {
        let m = cell_verilog(&c).unwrap();
        assert_eq!(m.name, c.module_name());
        assert_eq!(m.latency, 0);
        let ports: Vec<(&str, usize)> =
            m.ports.iter().map(|p| (p.name.as_str(), p.width)).collect();
        assert_eq!(
            ports,
            [
                ("acc", 32),
                ("a", c.lanes * c.a_width),
                ("b", c.lanes * c.b_width),
                ("y", 32)
            ]
        );
        for s in &m.submodules {
            assert!(s.starts_with(&format!("{}__", m.name)), "{s}");
            assert!(!all_children.contains(s), "{s} twice");
            all_children.push(s.clone());
        }
        if c.float {
            assert!(m.verilog.contains("0x7FC00000") && m.verilog.contains("ties to even"));
        }
        let path = write_module(&dir.0, &m).unwrap();
        if let Err(e) = lint_verilator(&path).and_then(|_| lint_yosys(&path, &m.name)) {
            failures.push(e.to_string());
        }
        n += 1;
    }
    for m in &widens {
        let path = write_module(&dir.0, m).unwrap();
        if let Err(e) = lint_verilator(&path).and_then(|_| lint_yosys(&path, &m.name)) {
            failures.push(e.to_string());
        }
        n += 1;
    }
    println!("{n} modules linted");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    dir.done();
}

#[test]
fn widening_matches_the_f32_conversion_on_every_code_in_icarus() {
    let dir = Scratch::new("widen");
    let mut sources = String::new();
    let mut duts = Vec::new();
    for name in RTL_FORMATS {
        let f = rtl_format(name).unwrap();
        if f.width() > 16 {
            continue;
        }
        let codes: Vec<u64> = (0..=f.mask()).collect();
        let expected: Vec<u32> = codes.iter().map(|&c| widen_oracle(&f, c)).collect();
        for (&c, &want) in codes.iter().zip(&expected) {
            assert_eq!(widen_code(&f, c), want, "widen_code {name} 0x{c:X}");
        }
        // The oracle's own corner cases, stated by hand.
        assert_eq!(expected[f.sign_bit() as usize], 0x8000_0000, "{name}: -0");
        if let Some(nan) = f.canonical_nan() {
            assert_eq!(expected[(nan | f.sign_bit()) as usize], NAN, "{name}: -NaN");
        }
        let m = widen_verilog(name).unwrap();
        sources.push_str(&m.verilog);
        duts.push(Dut {
            module: m.name.clone(),
            inputs: vec![("a", f.width() as usize)],
            vectors: codes.iter().map(|&c| vec![c]).collect(),
            expected,
            label: "every code".into(),
        });
    }
    let t = Instant::now();
    let bad = run_icarus(&dir.0, &sources, &duts);
    println!("icarus: {:.1} s", t.elapsed().as_secs_f64());
    assert_eq!(
        bad,
        0,
        "mismatches (see above); files in {}",
        dir.0.display()
    );
    dir.done();
}

#[test]
fn every_cell_matches_the_reference_step_in_icarus() {
    let dir = Scratch::new("cells");
    let mut sources = String::new();
    let mut duts = Vec::new();
    for (k, c) in cells().iter().enumerate() {
        sources.push_str(&cell_verilog(c).unwrap().verilog);
        duts.push(cell_dut(c, &triples(c, 0xCE11 + k as u64), "random"));
    }
    let t = Instant::now();
    let bad = run_icarus(&dir.0, &sources, &duts);
    println!("icarus: {:.1} s", t.elapsed().as_secs_f64());
    assert_eq!(
        bad,
        0,
        "mismatches (see above); files in {}",
        dir.0.display()
    );
    dir.done();
}

#[test]
fn e4m3_cells_match_on_every_operand_pair_in_icarus() {
    let dir = Scratch::new("e4m3");
    let mut sources = String::new();
    let mut duts = Vec::new();
    // Every (a, b) pair, each with four accumulators: +0, -0 (signed zero sums), 1.25 (a
    // value inside the products' range: rounding) and -448 (cancels the largest product).
    let mut t = Vec::with_capacity(1 << 18);
    for a in 0..256u64 {
        for b in 0..256u64 {
            for acc in [0u32, 0x8000_0000, 0x3FA0_0000, 0xC3E0_0000] {
                t.push((acc, a, b));
            }
        }
    }
    for c in cells().iter().filter(|c| c.format == "e4m3") {
        sources.push_str(&cell_verilog(c).unwrap().verilog);
        duts.push(cell_dut(c, &t, "every (a, b) x 4 accumulators"));
    }
    assert_eq!(duts.len(), 4, "lmul and fpmul, saturate and ieee");
    let t = Instant::now();
    let bad = run_icarus(&dir.0, &sources, &duts);
    println!("icarus: {:.1} s", t.elapsed().as_secs_f64());
    assert_eq!(
        bad,
        0,
        "mismatches (see above); files in {}",
        dir.0.display()
    );
    dir.done();
}

#[test]
fn some_cells_in_generic_gates() {
    let picks = [
        ("lmul", "e4m3", "saturate"),
        ("fpmul", "e4m3", "ieee"),
        ("lmul", "bf16", "saturate"),
        ("fpmul", "bf16", "ieee"),
        ("fp16mac", "fp16", "ieee"),
        ("int16fma", "int16", "wrap"),
    ];
    for (pe, f, p) in picks {
        let c = cell(pe, f, p).unwrap();
        let m = cell_verilog(&c).unwrap();
        let g = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
        assert_eq!(g.ffs, 0, "{}: combinational", m.name);
        assert!(g.logic_cells > 100, "{g:?}");
        println!(
            "{}: {} generic cells ({} logic), longest path {}",
            m.name, g.cell_count, g.logic_cells, g.longest_path
        );
        // The netlist, as Yosys reads the Verilog, against the oracle.
        let net = Netlist::parse(
            &netlist_json(&m.verilog, &m.name, Flow::Generic).unwrap(),
            &m.name,
        );
        let t = triples(&c, 0x6A7E);
        for chunk in t.chunks(LANES).take(8) {
            let acc: Vec<u64> = chunk.iter().map(|v| v.0 as u64).collect();
            let a: Vec<u64> = chunk.iter().map(|v| v.1).collect();
            let b: Vec<u64> = chunk.iter().map(|v| v.2).collect();
            let y = &net.eval(&[("acc", &acc), ("a", &a), ("b", &b)])["y"];
            for (i, v) in chunk.iter().enumerate() {
                assert_eq!(
                    y[i] as u32,
                    oracle(&c, v.0, v.1, v.2),
                    "{} gates: acc {:08X}, a {:X}, b {:X}",
                    m.name,
                    v.0,
                    v.1,
                    v.2
                );
            }
        }
    }
    for f in ["e4m3", "bf16", "fp16"] {
        let m = widen_verilog(f).unwrap();
        let g = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
        println!(
            "{}: {} generic cells, longest path {}",
            m.name, g.cell_count, g.longest_path
        );
    }
}
