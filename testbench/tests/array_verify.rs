//! The emitted arrays against the cycle-accurate model, cycle by cycle, in real simulators:
//! every cell at 2x2 and every PE at 4x4, 8x8 and 16x16 in Icarus (bitmod: output-stationary
//! only); each PE on Verilator and
//! the gate engine; random GEMM shapes; and the checks of the checker (a mutant PE at one
//! position fails exactly that position's outputs, a truncated drain is caught).
//!
//! The model's C is checked against the reference GEMM inside `vectors` before any run.
//! `PELAB_LONG=1` runs every PE at every size on all three simulators.

use pelab_hdl::array::cell::{bitmod_cell, cell, cells, CellSpec};
use pelab_hdl::array::{ArraySpec, Dataflow};
use pelab_sim::array::{timing_with, ArrayDims, GemmDims};
use pelab_testbench::array::{
    default_gemm, layout, mutant_pe, random_cases, truncated_drain, vectors, verify, ArrayReport,
    ArrayVectors,
};
use pelab_testbench::{Simulator, Status};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(900);

fn long() -> bool {
    std::env::var("PELAB_LONG").is_ok_and(|v| v == "1")
}

fn work(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-array-verify-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// One cell per PE: the formats the report's array study uses.
fn pe_cells() -> Vec<CellSpec> {
    vec![
        cell("lmul", "e4m3", "saturate").unwrap(),
        cell("fpmul", "bf16", "saturate").unwrap(),
        cell("fp16mac", "fp16", "ieee").unwrap(),
        cell("int16fma", "int16", "saturate").unwrap(),
    ]
}

/// The analytic timing of every GEMM of `v` against the cycles the RTL was held to: the vector
/// row of the last MAC and of the last output (cycle 0 is the row after each GEMM's reset).
fn check_timing(spec: &ArraySpec, v: &ArrayVectors) {
    let n_out = v.layout.n_outputs();
    let valid = out_index(spec, "out_valid");
    for (q, case) in v.cases.iter().enumerate() {
        let t = timing_with(
            spec.dataflow,
            ArrayDims {
                rows: spec.rows,
                cols: spec.cols,
            },
            case.gemm,
            &spec.cell.sim_cell().unwrap().pe_timing(),
        )
        .unwrap();
        assert_eq!(case.trace.folds, t.folds, "{q}: folds");
        assert_eq!(case.trace.cycles_per_fold, t.cycles_per_fold, "{q}: S");
        assert_eq!(case.trace.cycles_scalesim, t.cycles, "{q}: cycles");
        let end = v.cases.get(q + 1).map_or(v.rows.len(), |c| c.first_row);
        let last_valid_row = (case.first_row..end)
            .rfind(|&r| {
                let row = &v.rows[r];
                row[row.len() - 1 - n_out + valid] == 1
            })
            .expect("outputs");
        // Row first_row + 1 + x holds cycle x's inputs and the outputs right after its edge,
        // that is, the outputs of cycle x + 1.
        assert_eq!(
            (last_valid_row - case.first_row) as u64,
            t.last_output_cycle,
            "{q}: the last output's cycle"
        );
    }
}

/// Runs the default GEMM (two folds each way, padding in the last) on `spec` and returns the
/// report; panics with the first mismatches when a simulator does not pass. The cycles the
/// vectors hold the RTL to are checked against the analytic timing first.
fn run(spec: &ArraySpec, sims: &[Simulator], seed: u64) -> ArrayReport {
    let cases = random_cases(&spec.cell.sim_cell().unwrap(), default_gemm(spec), 1, seed);
    let v = vectors(spec, &cases).unwrap();
    check_timing(spec, &v);
    let dir = work(&spec.module_name());
    let r = verify(spec, &v, sims, &dir, LIMIT, None).unwrap();
    for run in &r.runs {
        assert_eq!(
            run.status,
            Status::Passed,
            "{} on {}: {} failed rows; first: {:?}\n{}",
            r.module,
            run.sim,
            run.failed,
            run.mismatches.first(),
            run.log_tail
        );
        assert_eq!(
            run.passed,
            v.rows.len() as u64,
            "{} on {}",
            r.module,
            run.sim
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    r
}

#[test]
fn every_cell_array_matches_the_model_in_icarus() {
    let mut n = 0;
    for c in cells() {
        for df in [Dataflow::Os, Dataflow::Ws] {
            run(
                &ArraySpec::new(c.clone(), df, 2, 2).unwrap(),
                &[Simulator::Icarus],
                1,
            );
            n += 1;
        }
    }
    run(
        &ArraySpec::new(bitmod_cell(), Dataflow::Os, 2, 2).unwrap(),
        &[Simulator::Icarus],
        1,
    );
    assert!(n >= 58, "only {n} arrays");
}

#[test]
fn every_pe_at_4x4_8x8_16x16_matches_the_model_in_icarus() {
    for c in pe_cells() {
        for df in [Dataflow::Os, Dataflow::Ws] {
            for (r, k) in [(4, 4), (8, 8), (3, 5)] {
                run(
                    &ArraySpec::new(c.clone(), df, r, k).unwrap(),
                    &[Simulator::Icarus],
                    2,
                );
            }
        }
    }
    // 16x16: one float and one integer PE in CI (Icarus takes ~10 s per float 16x16 run);
    // every PE in the long mode.
    let big: Vec<(CellSpec, Dataflow)> = if long() {
        pe_cells()
            .into_iter()
            .flat_map(|c| [(c.clone(), Dataflow::Os), (c, Dataflow::Ws)])
            .collect()
    } else {
        vec![
            (cell("lmul", "e4m3", "saturate").unwrap(), Dataflow::Os),
            (cell("int16fma", "int16", "wrap").unwrap(), Dataflow::Ws),
        ]
    };
    for (c, df) in big {
        run(
            &ArraySpec::new(c, df, 16, 16).unwrap(),
            &[Simulator::Icarus],
            3,
        );
    }
    // bitmod: output-stationary only; 16x16 in the long mode (Icarus ~1 min).
    let sizes: &[(usize, usize)] = if long() {
        &[(4, 4), (8, 8), (3, 5), (16, 16)]
    } else {
        &[(4, 4), (8, 8), (3, 5)]
    };
    for &(r, k) in sizes {
        run(
            &ArraySpec::new(bitmod_cell(), Dataflow::Os, r, k).unwrap(),
            &[Simulator::Icarus],
            2,
        );
    }
}

#[test]
fn every_pe_matches_the_model_on_verilator_and_the_gate_engine() {
    let sims = [Simulator::Verilator, Simulator::Gates];
    let mut arrays = Vec::new();
    for c in pe_cells() {
        arrays.push(ArraySpec::new(c.clone(), Dataflow::Os, 4, 4).unwrap());
        arrays.push(ArraySpec::new(c, Dataflow::Ws, 3, 4).unwrap());
    }
    arrays.push(
        ArraySpec::new(
            cell("lmul", "e4m3", "saturate").unwrap(),
            Dataflow::Os,
            8,
            8,
        )
        .unwrap(),
    );
    arrays.push(ArraySpec::new(bitmod_cell(), Dataflow::Os, 4, 4).unwrap());
    if long() {
        for n in [2, 8, 16] {
            arrays.push(ArraySpec::new(bitmod_cell(), Dataflow::Os, n, n).unwrap());
        }
        for c in pe_cells() {
            for df in [Dataflow::Os, Dataflow::Ws] {
                for n in [2, 8, 16] {
                    arrays.push(ArraySpec::new(c.clone(), df, n, n).unwrap());
                }
            }
        }
    }
    for a in &arrays {
        run(a, &sims, 4);
    }
}

/// Random GEMM shapes (M, K, N from 1 to 300) on arrays up to 16x16: model, RTL (Verilator:
/// all shapes of an array in one run, each after its own reset) and the reference GEMM agree.
#[test]
fn random_shapes_agree_among_model_rtl_and_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let arrays = [
        ArraySpec::new(
            cell("int16fma", "int16", "wrap").unwrap(),
            Dataflow::Os,
            16,
            16,
        )
        .unwrap(),
        ArraySpec::new(
            cell("lmul", "bf16", "saturate").unwrap(),
            Dataflow::Ws,
            7,
            5,
        )
        .unwrap(),
        ArraySpec::new(cell("fp16mac", "fp16", "ieee").unwrap(), Dataflow::Os, 1, 9).unwrap(),
        ArraySpec::new(bitmod_cell(), Dataflow::Os, 5, 3).unwrap(),
    ];
    let per_array = if long() { 12 } else { 3 };
    for spec in &arrays {
        let sim_cell = spec.cell.sim_cell().unwrap();
        let mut cases = Vec::new();
        for s in 0..per_array {
            // Keep CI runs short: one shape of each array up to 300 each way, the rest
            // smaller.
            let top = if s == 0 { 300 } else { 120 };
            let g = GemmDims {
                m: rng.gen_range(1..=top),
                k: rng.gen_range(1..=top),
                n: rng.gen_range(1..=top),
            };
            cases.extend(random_cases(&sim_cell, g, 1, rng.gen()));
        }
        let v = vectors(spec, &cases).unwrap();
        check_timing(spec, &v);
        let dir = work(&format!("random-{}", spec.module_name()));
        let r = verify(spec, &v, &[Simulator::Verilator], &dir, LIMIT, None).unwrap();
        let run = &r.runs[0];
        assert_eq!(
            run.status,
            Status::Passed,
            "{} shapes {:?}: first mismatch {:?}",
            r.module,
            cases.iter().map(|c| c.0).collect::<Vec<_>>(),
            run.mismatches.first()
        );
        assert_eq!(run.passed, v.rows.len() as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The positions of the outputs in a mismatch's `expected`/`got`.
fn out_index(spec: &ArraySpec, name: &str) -> usize {
    layout(spec)
        .outputs()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("no output {name}"))
}

#[test]
fn a_mutant_pe_fails_exactly_its_own_outputs_in_every_simulator() {
    for (c, df, (r, k), (i, j), sims) in [
        (
            cell("int16fma", "int16", "wrap").unwrap(),
            Dataflow::Os,
            (4, 4),
            (1, 2),
            vec![Simulator::Icarus, Simulator::Verilator, Simulator::Gates],
        ),
        (
            cell("lmul", "e4m3", "saturate").unwrap(),
            Dataflow::Os,
            (3, 5),
            (2, 0),
            vec![Simulator::Icarus, Simulator::Gates],
        ),
        (
            bitmod_cell(),
            Dataflow::Os,
            (3, 3),
            (1, 2),
            vec![Simulator::Icarus, Simulator::Verilator, Simulator::Gates],
        ),
        (
            // Weight-stationary: PE (0, j) holds a valid weight row in every K tile and is
            // on column j's path for every row of A; integer wrap-around addition keeps the
            // flipped bit visible at the output.
            cell("int16fma", "int16", "wrap").unwrap(),
            Dataflow::Ws,
            (3, 4),
            (0, 3),
            vec![Simulator::Icarus, Simulator::Verilator],
        ),
    ] {
        let spec = ArraySpec::new(c, df, r, k).unwrap();
        let cases = random_cases(&spec.cell.sim_cell().unwrap(), default_gemm(&spec), 1, 5);
        let v = vectors(&spec, &cases).unwrap();
        let text = mutant_pe(&spec, &spec.verilog().unwrap().verilog, i, j).unwrap();
        let dir = work(&format!("mutant-{}", spec.module_name()));
        let rep = verify(&spec, &v, &sims, &dir, LIMIT, Some(&text)).unwrap();
        let n_out = layout(&spec).n_outputs();
        let col = out_index(&spec, &format!("c_out_{j}"));
        let valid = out_index(&spec, "out_valid");
        // The rows whose outputs include PE (i, j)'s: every valid row for ws (column j of
        // every row of A), the rows with out_row = i for os.
        let row_of = |row: &Vec<u64>| -> bool {
            let outs = &row[row.len() - 1 - n_out..row.len() - 1];
            outs[valid] == 1
                && match df {
                    Dataflow::Os => outs[out_index(&spec, "out_row")] == i as u64,
                    _ => true,
                }
        };
        let due = v.rows.iter().filter(|r| row_of(r)).count() as u64;
        assert!(due > 0);
        for run in &rep.runs {
            assert_eq!(
                run.status,
                Status::Failed,
                "{} mutant on {}",
                rep.module,
                run.sim
            );
            assert_eq!(
                run.failed, due,
                "{} mutant ({i},{j}) on {}: failed rows",
                rep.module, run.sim
            );
            assert!(
                !run.mismatches.is_empty(),
                "{}: no mismatch printed",
                run.sim
            );
            for m in &run.mismatches {
                for (q, (e, g)) in m.expected.iter().zip(&m.got).enumerate() {
                    if q != col {
                        assert_eq!(
                            Some(*e),
                            *g,
                            "{} mutant ({i},{j}) on {}: row {} output {q} differs",
                            rep.module,
                            run.sim,
                            m.row
                        );
                    } else {
                        assert_ne!(Some(*e), *g, "{}: row {} c_out_{j} equal", run.sim, m.row);
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_truncated_drain_is_caught() {
    let spec = ArraySpec::new(
        cell("int16fma", "int16", "wrap").unwrap(),
        Dataflow::Os,
        3,
        3,
    )
    .unwrap();
    let cases = random_cases(&spec.cell.sim_cell().unwrap(), default_gemm(&spec), 1, 6);
    let v = vectors(&spec, &cases).unwrap();
    let text = truncated_drain(&spec, &spec.verilog().unwrap().verilog).unwrap();
    let dir = work("truncated");
    let rep = verify(
        &spec,
        &v,
        &[Simulator::Icarus, Simulator::Gates],
        &dir,
        LIMIT,
        Some(&text),
    )
    .unwrap();
    let folds = v.cases[0].trace.folds;
    for run in &rep.runs {
        // The last row of every fold is missing: one failing row per fold.
        assert_eq!(run.status, Status::Failed, "{}", run.sim);
        assert_eq!(run.failed, folds, "{}: failed rows", run.sim);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_rusthdl_simulator_is_refused_for_arrays() {
    let spec = ArraySpec::new(
        cell("int16fma", "int16", "wrap").unwrap(),
        Dataflow::Os,
        2,
        2,
    )
    .unwrap();
    let cases = random_cases(&spec.cell.sim_cell().unwrap(), default_gemm(&spec), 1, 7);
    let v = vectors(&spec, &cases).unwrap();
    let e = verify(
        &spec,
        &v,
        &[Simulator::RustHdl],
        &work("rusthdl"),
        LIMIT,
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("icarus, verilator and gates"), "{e}");
}
