//! The emitted Verilog, as Yosys reads and maps it to generic gates, against the reference
//! models: exhaustive for the 8-bit and MX L-Mul formats, random plus edge cases for the wider
//! ones and for the INT16 FMA core. This checks what rust-hdl's Verilog generator wrote (its
//! width and precedence rules differ from Rust's), not only the Rust description.
//! The netlists run on pelab's gate-level engine (`tests/common`), which these cases check in
//! turn.

mod common;

use common::{int16_operand, Netlist, LANES};
use pelab_hdl::format::{rtl_format, Overflow};
use pelab_hdl::synth::{netlist_json, Flow};
use pelab_hdl::{find, RtlConfig};
use pelab_sim::int16fma::Mode;
use pelab_sim::lmul::lmul;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// One INT16 FMA case: acc, (a0, a1), (b0, b1).
type Case = (i32, [i16; 2], [i16; 2]);

fn netlist_of(pe: &str, cfg: &RtlConfig) -> Netlist {
    let m = find(pe).unwrap().verilog(cfg).unwrap();
    let json = netlist_json(&m.verilog, &m.name, Flow::Generic).unwrap();
    Netlist::parse(&json, &m.name)
}

#[test]
fn lmul_gate_netlists_match_reference() {
    let t = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut total = 0;
    for name in [
        "e4m3", "e5m2", "e2m1", "e3m2", "e2m3", "bf16", "fp16", "fp32",
    ] {
        let f = rtl_format(name).unwrap();
        for pol in ["saturate", "ieee"] {
            let cfg = RtlConfig::new(name, pol, 0);
            if find("lmul").unwrap().verilog(&cfg).is_err() {
                continue; // ieee overflow does not exist for the MX formats
            }
            let net = netlist_of("lmul", &cfg);
            let ovf = Overflow::parse(pol).unwrap();
            let pairs: Vec<(u64, u64)> = if f.width() <= 8 {
                (0..=f.mask())
                    .flat_map(|a| (0..=f.mask()).map(move |b| (a, b)))
                    .collect()
            } else {
                (0..64 * 400)
                    .map(|_| (rng.gen::<u64>() & f.mask(), rng.gen::<u64>() & f.mask()))
                    .collect()
            };
            for chunk in pairs.chunks(LANES) {
                let a: Vec<u64> = chunk.iter().map(|p| p.0).collect();
                let b: Vec<u64> = chunk.iter().map(|p| p.1).collect();
                let y = &net.eval(&[("a", &a), ("b", &b)])["y"];
                for (i, &(a, b)) in chunk.iter().enumerate() {
                    assert_eq!(y[i], lmul(&f, a, b, ovf), "{name} {pol} a={a:#x} b={b:#x}");
                }
            }
            total += pairs.len();
        }
    }
    println!(
        "{total} L-Mul cases on gate netlists in {:.2?}",
        t.elapsed()
    );
}

#[test]
fn int16fma_core_gate_netlist_matches_reference() {
    let t = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (pol, mode) in [("wrap", Mode::Wrap), ("saturate", Mode::Saturate)] {
        let net = netlist_of(
            "int16fma",
            &RtlConfig::new("int16", pol, 0).with_variant("core"),
        );
        for round in 0..200 {
            let big = round % 2 == 1;
            let i16v = |r: &mut ChaCha8Rng| int16_operand(r, big, 256);
            let cases: Vec<Case> = (0..64)
                .map(|_| {
                    (
                        rng.gen(),
                        [i16v(&mut rng), i16v(&mut rng)],
                        [i16v(&mut rng), i16v(&mut rng)],
                    )
                })
                .collect();
            let col = |f: &dyn Fn(&Case) -> u64| cases.iter().map(f).collect::<Vec<u64>>();
            let acc = col(&|c| c.0 as u32 as u64);
            let a0 = col(&|c| c.1[0] as u16 as u64);
            let a1 = col(&|c| c.1[1] as u16 as u64);
            let b0 = col(&|c| c.2[0] as u16 as u64);
            let b1 = col(&|c| c.2[1] as u16 as u64);
            let out = net.eval(&[
                ("acc", &acc),
                ("a0", &a0),
                ("a1", &a1),
                ("b0", &b0),
                ("b1", &b1),
            ]);
            for (i, c) in cases.iter().enumerate() {
                assert_eq!(
                    out["y"][i] as u32 as i32,
                    mode.apply(c.0, c.1, c.2),
                    "{pol} {c:?}"
                );
            }
        }
    }
    println!(
        "int16fma core gate netlists: 2 x 12800 cases in {:.2?}",
        t.elapsed()
    );
}
