//! fpmul RTL against the reference model `pelab_sim::fpmul::fpmul` (round to nearest even):
//! in rust-hdl's simulator exhaustively for the 8-bit and MX formats at every pipeline depth,
//! random, tie and special-value pairs for bf16, fp16 and fp32; and the emitted Verilog of
//! e4m3 (every pair, both policies) and of the other formats in Icarus Verilog.

mod common;

use common::drive;
use pelab_hdl::emit::write_module;
use pelab_hdl::format::{rtl_format, Format, Overflow};
use pelab_hdl::pe::fpmul::{FpMul0, FpMul1, FpMul2, FpMulParams};
use pelab_hdl::tools::require_tool;
use pelab_hdl::with_fpmul_widths;
use pelab_hdl::{find, RtlConfig};
use pelab_sim::format::Rounding;
use pelab_sim::fpmul::fpmul;
use pelab_sim::samples::{random_pair, special_codes, tie_pair};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn reference(f: &Format, ovf: Overflow, pairs: &[(u64, u64)]) -> Vec<u64> {
    pairs
        .iter()
        .map(|&(a, b)| fpmul(f, a, b, Rounding::NearestEven, ovf))
        .collect()
}

fn policies(f: &Format) -> Vec<Overflow> {
    [Overflow::Ieee, Overflow::Saturate]
        .into_iter()
        .filter(|&o| FpMulParams::new(*f, o).is_ok())
        .collect()
}

/// Every pair of codes (formats of at most 8 bits).
fn all_pairs(f: &Format) -> Vec<(u64, u64)> {
    assert!(f.width() <= 8);
    (0..=f.mask())
        .flat_map(|a| (0..=f.mask()).map(move |b| (a, b)))
        .collect()
}

/// Every pair of the special-value set, then `random` mixed random pairs (uniform, near the
/// bias, aimed at the underflow and overflow edges) and `random / 4` rounding ties.
fn wide_pairs(f: &Format, random: usize, seed: u64) -> Vec<(u64, u64)> {
    let sp = special_codes(f);
    let mut v: Vec<(u64, u64)> = sp
        .iter()
        .flat_map(|&a| sp.iter().map(move |&b| (a, b)))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..random {
        v.push(random_pair(f, &mut rng));
    }
    for _ in 0..random / 4 {
        v.push(tie_pair(f, &mut rng));
    }
    v
}

fn pairs_for(f: &Format, random: usize, seed: u64) -> Vec<(u64, u64)> {
    if f.width() <= 8 {
        all_pairs(f)
    } else {
        wide_pairs(f, random, seed)
    }
}

fn hex(f: &Format, c: u64) -> String {
    format!("{c:0w$X}", w = (f.width() as usize).div_ceil(4))
}

/// Panics with the first mismatches, if any.
fn compare(what: &str, f: &Format, pairs: &[(u64, u64)], got: &[u64], want: &[u64]) {
    let bad: Vec<String> = (0..pairs.len())
        .filter(|&i| got[i] != want[i])
        .take(8)
        .map(|i| {
            format!(
                "a={} b={} rtl={} reference={}",
                hex(f, pairs[i].0),
                hex(f, pairs[i].1),
                hex(f, got[i]),
                hex(f, want[i])
            )
        })
        .collect();
    assert!(bad.is_empty(), "{what}: mismatches\n{}", bad.join("\n"));
}

/// The block of format `f`, parameters `p` and pipeline depth `depth` on `pairs`: the output
/// for each pair (combinational), or the output seen after each rising edge (pipelined).
fn run(f: &Format, p: &FpMulParams, depth: u32, pairs: &[(u64, u64)]) -> Vec<u64> {
    with_fpmul_widths!(f, |W, E, M, S, P, X, H| Ok(match depth {
        0 => drive!(settled, FpMul0::<W, E, M, S, P, X, H>::new(p), pairs),
        1 => drive!(clocked, FpMul1::<W, E, M, S, P, X, H>::new(p), pairs),
        _ => drive!(clocked, FpMul2::<W, E, M, S, P, X, H>::new(p), pairs),
    }))
    .unwrap()
}

/// Checks one format at pipeline depth `depth` under every policy; returns the number of
/// products checked.
fn check(name: &str, depth: u32, random: usize) -> usize {
    let f = rtl_format(name).unwrap();
    let mut n = 0;
    for ovf in policies(&f) {
        let p = FpMulParams::new(f, ovf).unwrap();
        let pairs = pairs_for(&f, random, 0x5eed + depth as u64);
        let want = reference(&f, ovf, &pairs);
        let what = format!("{name} {} pipeline {depth}", ovf.name());
        let got = run(&f, &p, depth, &pairs);
        // Output i of a pipeline of depth d (seen after edge i) is the product of pair
        // i - (d - 1).
        let lag = depth.saturating_sub(1) as usize;
        compare(
            &what,
            &f,
            &pairs[..pairs.len() - lag],
            &got[lag..],
            &want[..want.len() - lag],
        );
        n += pairs.len();
    }
    n
}

fn check_all_depths(name: &str, random: [usize; 3]) {
    for depth in 0..=2u32 {
        let t = Instant::now();
        let n = check(name, depth, random[depth as usize]);
        println!(
            "{name} pipeline {depth}: {n} products equal the reference ({:.2?})",
            t.elapsed()
        );
    }
}

#[test]
fn fpmul_e4m3_every_pair_every_depth() {
    check_all_depths("e4m3", [0; 3]);
}

#[test]
fn fpmul_e5m2_every_pair_every_depth() {
    check_all_depths("e5m2", [0; 3]);
}

#[test]
fn fpmul_mx_formats_every_pair_every_depth() {
    for name in ["e2m1", "e3m2", "e2m3"] {
        check_all_depths(name, [0; 3]);
    }
}

#[test]
fn fpmul_bf16_random_ties_and_specials() {
    check_all_depths("bf16", [100_000, 10_000, 10_000]);
}

#[test]
fn fpmul_fp16_random_ties_and_specials() {
    check_all_depths("fp16", [100_000, 10_000, 10_000]);
}

#[test]
fn fpmul_fp32_random_ties_and_specials() {
    check_all_depths("fp32", [100_000, 10_000, 10_000]);
}

/// Hand-checked products, independent of both implementations.
#[test]
fn fpmul_known_values() {
    let y = |name: &str, ovf: Overflow, a: u64, b: u64| -> u64 {
        let f = rtl_format(name).unwrap();
        let p = FpMulParams::new(f, ovf).unwrap();
        run(&f, &p, 0, &[(a, b)])[0]
    };
    let ieee = Overflow::Ieee;
    let sat = Overflow::Saturate;
    // bf16: 1.5 x 1.5 = 2.25; (1 + 2^-7)^2 = 1 + 2^-6 + 2^-14 rounds down to 1 + 2^-6;
    // -2 x 3 = -6.
    assert_eq!(y("bf16", ieee, 0x3FC0, 0x3FC0), 0x4010);
    assert_eq!(y("bf16", ieee, 0x3F81, 0x3F81), 0x3F82);
    assert_eq!(y("bf16", ieee, 0xC000, 0x4040), 0xC0C0);
    // fp16: smallest subnormal x 0.5 is a tie between 0 and it: rounds to even (0), signed.
    assert_eq!(y("fp16", ieee, 0x0001, 0x3800), 0x0000);
    assert_eq!(y("fp16", ieee, 0x8001, 0x3800), 0x8000);
    // 3 x smallest subnormal x 0.5 = 1.5 units: rounds to 2 units.
    assert_eq!(y("fp16", ieee, 0x0003, 0x3800), 0x0002);
    // Largest subnormal x (1 + 2^-10) rounds up into the smallest normal.
    assert_eq!(y("fp16", ieee, 0x03FF, 0x3C01), 0x0400);
    // Subnormal x 2^10: 2^-24 * 1024 = 2^-14, the smallest normal.
    assert_eq!(y("fp16", ieee, 0x0001, 0x6400), 0x0400);
    // 65504 x 1 stays finite; 65504 x (1 + 2^-10) overflows.
    assert_eq!(y("fp16", ieee, 0x7BFF, 0x3C00), 0x7BFF);
    assert_eq!(y("fp16", ieee, 0x7BFF, 0x3C01), 0x7C00);
    assert_eq!(y("fp16", sat, 0xFBFF, 0x3C01), 0xFBFF);
    // Inf x 0 is the canonical NaN, Inf x -subnormal is -Inf, NaN in gives 0x7E00.
    assert_eq!(y("fp16", ieee, 0x7C00, 0x8000), 0x7E00);
    assert_eq!(y("fp16", sat, 0x7C00, 0x8001), 0xFC00);
    assert_eq!(y("fp16", ieee, 0xFC01, 0x3C00), 0x7E00);
    // fp32: 3 x 1/3 rounds to 1; max x 2 overflows to Inf (ieee) or max (saturate).
    assert_eq!(y("fp32", ieee, 0x4040_0000, 0x3EAA_AAAB), 0x3F80_0000);
    assert_eq!(y("fp32", ieee, 0x7F7F_FFFF, 0x4000_0000), 0x7F80_0000);
    assert_eq!(y("fp32", sat, 0x7F7F_FFFF, 0xC000_0000), 0xFF7F_FFFF);
    // e4m3: 448 x 1 = 448; 448 x 1.125 = 504 overflows: NaN 0x7F (ieee), -448 (saturate);
    // 256 x 1.75 = 448 exactly; 240 x 2 = 480 would take the NaN pattern: overflow.
    assert_eq!(y("e4m3", ieee, 0x7E, 0x38), 0x7E);
    assert_eq!(y("e4m3", ieee, 0x7E, 0x39), 0x7F);
    assert_eq!(y("e4m3", sat, 0xFE, 0x39), 0xFE);
    assert_eq!(y("e4m3", ieee, 0x78, 0x3E), 0x7E);
    assert_eq!(y("e4m3", ieee, 0x77, 0x40), 0x7F);
    // e2m1 (every code a number): 6 x 6 saturates to 6; 0.5 x 0.5 = 0.25 ties to 0.
    assert_eq!(y("e2m1", sat, 0x7, 0x7), 0x7);
    assert_eq!(y("e2m1", sat, 0x1, 0x9), 0x8);
}

/// Runs a Verilog testbench with Icarus; returns the last line of its output.
fn icarus(dir: &Path, files: &[&Path]) -> String {
    let iverilog = require_tool("iverilog").unwrap();
    let vvp = require_tool("vvp").unwrap();
    let out = dir.join("tb.vvp");
    let mut cmd = Command::new(iverilog);
    cmd.args(["-g2005", "-Wall", "-o"]).arg(&out).args(files);
    let r = cmd.output().unwrap();
    assert!(
        r.status.success(),
        "iverilog failed:\n{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let r = Command::new(vvp).arg("-n").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(r.status.success(), "vvp failed:\n{text}");
    text.lines().last().unwrap_or("").trim().to_string()
}

/// Simulates the emitted Verilog of `cfg` in Icarus on `pairs` (`$readmemh` of operands and
/// reference results) and asserts that every output equals the reference.
fn cosim(cfg: &RtlConfig, pairs: &[(u64, u64)]) {
    let f = rtl_format(&cfg.format).unwrap();
    let ovf = Overflow::parse(&cfg.policy).unwrap();
    let pe = find("fpmul").unwrap();
    let m = pe.verilog(cfg).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "pelab-fpmul-cosim-{}-{}",
        m.name,
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = write_module(&dir, &m).unwrap();
    let w = f.width() as usize;
    let want = reference(&f, ovf, pairs);
    let mut vec = String::new();
    for (&(a, b), y) in pairs.iter().zip(&want) {
        vec.push_str(&format!("{} {} {}\n", hex(&f, a), hex(&f, b), hex(&f, *y)));
    }
    // Three memories read from three files keeps $readmemh simple: one word per line.
    for (k, col) in ["a", "b", "y"].iter().enumerate() {
        let text: String = vec
            .lines()
            .map(|l| format!("{}\n", l.split(' ').nth(k).unwrap()))
            .collect();
        std::fs::write(dir.join(format!("{col}.hex")), text).unwrap();
    }
    let n = pairs.len();
    let lat = m.latency as usize;
    let clocked = lat > 0;
    let tb = format!(
        r#"`timescale 1ns/1ps
`default_nettype none
module tb;
    reg [{top}:0] va [0:{last}];
    reg [{top}:0] vb [0:{last}];
    reg [{top}:0] vy [0:{last}];
    reg [{top}:0] a;
    reg [{top}:0] b;
    wire [{top}:0] y;
    reg clock;
    integer i;
    integer j;
    integer fails;
    {name} uut({clk_port}.a(a), .b(b), .y(y));
    initial begin
        $readmemh("{dir}/a.hex", va);
        $readmemh("{dir}/b.hex", vb);
        $readmemh("{dir}/y.hex", vy);
        fails = 0;
        clock = 1'b0;
        a = 0;
        b = 0;
        for (i = 0; i < {n} + {lag}; i = i + 1) begin
            if (i < {n}) begin
                a = va[i];
                b = vb[i];
            end
            #5;
            if ({clocked}) clock = 1'b1;
            #1;
            j = i - {lag};
            if (j >= 0 && j < {n}) begin
                if (y !== vy[j]) begin
                    fails = fails + 1;
                    if (fails <= 8) $display("MISMATCH a=%h b=%h y=%h want=%h", va[j], vb[j], y, vy[j]);
                end
            end
            #4;
            clock = 1'b0;
        end
        $display("%0d passed, %0d failed", {n} - fails, fails);
        $finish;
    end
endmodule
`default_nettype wire
"#,
        top = w - 1,
        last = n - 1,
        name = m.name,
        clk_port = if clocked { ".clock(clock), " } else { "" },
        dir = dir.display(),
        lag = lat.saturating_sub(1),
        clocked = if clocked { 1 } else { 0 },
    );
    let tb_path = dir.join("tb.v");
    std::fs::write(&tb_path, tb).unwrap();
    let last = icarus(&dir, &[&tb_path, &path]);
    assert_eq!(last, format!("{n} passed, 0 failed"), "{}", m.name);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fpmul_e4m3_verilog_matches_reference_on_every_pair() {
    let t = Instant::now();
    let f = rtl_format("e4m3").unwrap();
    for pol in ["ieee", "saturate"] {
        cosim(&RtlConfig::new("e4m3", pol, 0), &all_pairs(&f));
    }
    cosim(&RtlConfig::new("e4m3", "ieee", 2), &all_pairs(&f));
    println!("e4m3 Verilog checked in Icarus ({:.2?})", t.elapsed());
}

#[test]
fn fpmul_verilog_of_other_formats_matches_reference() {
    let t = Instant::now();
    for name in ["e5m2", "e2m1", "e3m2", "e2m3", "bf16", "fp16", "fp32"] {
        let f = rtl_format(name).unwrap();
        let pairs = pairs_for(&f, 20_000, 99);
        for ovf in policies(&f) {
            cosim(&RtlConfig::new(name, ovf.name(), 0), &pairs);
        }
    }
    let f = rtl_format("fp32").unwrap();
    cosim(
        &RtlConfig::new("fp32", "ieee", 2),
        &pairs_for(&f, 5_000, 98),
    );
    println!(
        "Verilog of the other formats checked in Icarus ({:.2?})",
        t.elapsed()
    );
}

/// Synthesized sizes of fpmul next to L-Mul (generic gates and longest path in cells): the
/// integer add of L-Mul must come out smaller and shallower than the exact multiply in every
/// format. Prints the table (`--nocapture`); `pelab synth` gives iCE40 and Xilinx figures.
#[test]
fn lmul_is_smaller_and_shallower_than_fpmul_in_every_format() {
    use pelab_hdl::synth::synthesize;
    use pelab_hdl::Flow;
    println!("format\tfpmul logic\tlmul logic\tfpmul path\tlmul path");
    for name in ["e4m3", "e5m2", "bf16", "fp16", "fp32"] {
        let cfg = RtlConfig::new(name, "ieee", 0);
        let size = |pe_id: &str| {
            let m = find(pe_id).unwrap().verilog(&cfg).unwrap();
            synthesize(&m.verilog, &m.name, Flow::Generic).unwrap()
        };
        let (f, l) = (size("fpmul"), size("lmul"));
        println!(
            "{name}\t{}\t{}\t{}\t{}",
            f.logic_cells, l.logic_cells, f.longest_path, l.longest_path
        );
        assert!(
            l.logic_cells < f.logic_cells,
            "{name}: lmul {} vs fpmul {}",
            l.logic_cells,
            f.logic_cells
        );
        assert!(
            l.longest_path < f.longest_path,
            "{name}: lmul path {} vs fpmul {}",
            l.longest_path,
            f.longest_path
        );
    }
}
