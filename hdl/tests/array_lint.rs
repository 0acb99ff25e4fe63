//! The lint gate on the arrays: Verilator -Wall and the Yosys check, every cell in both
//! dataflows at 2x2, one cell per PE at 4x4, 8x8 and 16x16 (every cell at 16x16 with
//! `PELAB_LONG=1`), the bitmod array (output-stationary) at every size, and every size class 1x1 .. 8x8 (square and not) for one cell.

use pelab_hdl::array::cell::{bitmod_cell, cells};
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_hdl::emit::write_module;
use pelab_hdl::tools::{lint_verilator, lint_yosys};

fn lint_all(specs: Vec<ArraySpec>, tag: &str) {
    let dir = std::env::temp_dir().join(format!("pelab-array-lint-{tag}-{}", std::process::id()));
    // Two threads: the lint tools are single-threaded.
    let half = specs.len().div_ceil(2);
    let failures: Vec<String> = std::thread::scope(|sc| {
        let parts: Vec<_> = specs
            .chunks(half.max(1))
            .map(|part| sc.spawn(|| lint_part(part, &dir)))
            .collect();
        parts.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    println!("{} arrays linted", specs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn lint_part(specs: &[ArraySpec], dir: &std::path::Path) -> Vec<String> {
    specs
        .iter()
        .filter_map(|s| {
            let m = s
                .verilog()
                .unwrap_or_else(|e| panic!("{}: {e}", s.module_name()));
            assert_eq!(m.name, s.module_name());
            let path = write_module(dir, &m).unwrap();
            lint_verilator(&path)
                .and_then(|_| lint_yosys(&path, &m.name))
                .err()
                .map(|e| e.to_string())
        })
        .collect()
}

#[test]
fn every_cell_array_passes_the_lint_gate() {
    let long = std::env::var("PELAB_LONG").is_ok_and(|v| v == "1");
    let mut specs = Vec::new();
    let mut seen_pe = Vec::new();
    for c in cells() {
        // The first cell of each PE at every size; the others at 2x2 (all sizes when long).
        let sizes: &[usize] = if long || !seen_pe.contains(&c.pe) {
            &[2, 4, 8, 16]
        } else {
            &[2]
        };
        seen_pe.push(c.pe);
        for df in [Dataflow::Os, Dataflow::Ws] {
            for &n in sizes {
                specs.push(ArraySpec::new(c.clone(), df, n, n).unwrap());
            }
        }
    }
    // The sequential bitmod cell: output-stationary only, every size and a 1x1 and 1x3.
    for (r, k) in [(2, 2), (4, 4), (8, 8), (16, 16), (1, 1), (1, 3)] {
        specs.push(ArraySpec::new(bitmod_cell(), Dataflow::Os, r, k).unwrap());
    }
    lint_all(specs, "cells");
}

#[test]
fn the_bitmod_array_is_output_stationary_only() {
    let e = ArraySpec::new(bitmod_cell(), Dataflow::Ws, 2, 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("output-stationary only"), "{e}");
    let e = pelab_hdl::array::cell::cell("bitmod", "fp16", "bitmod4")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bitmod34"), "{e}");
}

#[test]
fn every_small_shape_passes_the_lint_gate() {
    let c = pelab_hdl::array::cell::cell("int16fma", "int16", "wrap").unwrap();
    let mut specs = Vec::new();
    for df in [Dataflow::Os, Dataflow::Ws] {
        for (r, k) in [(1, 1), (1, 3), (3, 1), (2, 5), (4, 4), (8, 8), (5, 7)] {
            specs.push(ArraySpec::new(c.clone(), df, r, k).unwrap());
        }
    }
    lint_all(specs, "shapes");
}

#[test]
fn sizes_out_of_range_are_refused() {
    let c = pelab_hdl::array::cell::cell("fp16mac", "fp16", "ieee").unwrap();
    for (r, k) in [(0, 4), (4, 0), (65, 1), (1, 65)] {
        let e = ArraySpec::new(c.clone(), Dataflow::Os, r, k)
            .unwrap_err()
            .to_string();
        assert!(e.contains("out of range") && e.contains("64"), "{e}");
    }
    for bad in ["8", "8x", "x8", "0x8", "65x1", "8x8x8", "ax8"] {
        assert!(pelab_hdl::array::parse_size(bad).is_err(), "{bad}");
    }
    assert_eq!(pelab_hdl::array::parse_size("16x4").unwrap(), (16, 4));
    assert_eq!(pelab_hdl::array::parse_size("64X64").unwrap(), (64, 64));
}
