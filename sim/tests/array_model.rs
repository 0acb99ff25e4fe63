//! The cycle-accurate array models against the reference GEMM (bit for bit, every cell) and
//! against the analytic timing (the measured cycle of the last MAC, of the first and last
//! output, the PE-steps done), plus reset and the port-level protocol of the output-stationary
//! array.

mod array_support;

use array_support::{operands, rng};
use pelab_sim::array::cell::{cells, Cell};
use pelab_sim::array::gemm::{gemm, k_steps};
use pelab_sim::array::model::{run_gemm_os, ArrayInputs, GemmTrace, OsArray};
use pelab_sim::array::timing::{timing, ArrayDims, Dataflow, GemmDims};
use pelab_sim::array::ws::{run_gemm_is, run_gemm_ws};
use rand::Rng;

type Runner =
    fn(&Cell, ArrayDims, GemmDims, &[u64], &[u64]) -> pelab_sim::Result<(Vec<u32>, GemmTrace)>;

const RUNNERS: [(Dataflow, Runner); 3] = [
    (Dataflow::Os, run_gemm_os),
    (Dataflow::Ws, run_gemm_ws),
    (Dataflow::Is, run_gemm_is),
];

/// Runs one random product through every dataflow's model and checks C and the timing.
fn check_case(cell: &Cell, array: ArrayDims, g: GemmDims, a: &[u64], b: &[u64]) {
    let want = gemm(cell, g.m, g.k, g.n, a, b);
    for (df, run) in RUNNERS {
        let ctx = format!(
            "{} {} on {}x{}, {}x{}x{}",
            cell.name(),
            df.name(),
            array.rows,
            array.cols,
            g.m,
            g.k,
            g.n
        );
        let (got, tr) = run(cell, array, g, a, b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        for q in 0..g.m * g.n {
            assert_eq!(
                got[q],
                want[q],
                "{ctx}: C[{}][{}] model {:08X} reference {:08X}",
                q / g.n,
                q % g.n,
                got[q],
                want[q]
            );
        }
        let t = timing(df, array, g, cell.lanes, 1).unwrap();
        assert_eq!(tr.folds, t.folds, "{ctx}: folds");
        assert_eq!(tr.cycles_per_fold, t.cycles_per_fold, "{ctx}: S");
        assert_eq!(tr.cycles_scalesim, t.cycles, "{ctx}: last MAC cycle");
        assert_eq!(
            tr.last_output_cycle, t.last_output_cycle,
            "{ctx}: last output"
        );
        let (r, c) = (array.rows as u64, array.cols as u64);
        let ks = k_steps(g.k, cell.lanes) as u64;
        let (first, busy) = match df {
            // First fold: last step presented in K'-1, row 0 out R + C later.
            Dataflow::Os => (ks - 1 + r + c, t.folds * r * c * ks),
            // First fold: row 0 presented in R, out R + C - 1 later.
            Dataflow::Ws => (2 * r + c - 1, t.folds * r * c * g.m as u64),
            Dataflow::Is => (2 * r + c - 1, t.folds * r * c * g.n as u64),
        };
        assert_eq!(tr.first_output_cycle, first, "{ctx}: first output");
        assert_eq!(tr.busy_steps, busy, "{ctx}: PE-steps");
    }
}

#[test]
fn every_cell_on_random_shapes_matches_the_reference_and_the_timing() {
    let mut r = rng(11);
    for cell in cells() {
        for case in 0..12 {
            let array = ArrayDims::new(r.gen_range(1..=8), r.gen_range(1..=8)).unwrap();
            let g = GemmDims::new(
                r.gen_range(1..=40),
                r.gen_range(1..=40),
                r.gen_range(1..=40),
            )
            .unwrap();
            let special = [10, 60, 1000][case % 3];
            let a = operands(&cell, &mut r, g.m * g.k, special);
            let b = operands(&cell, &mut r, g.k * g.n, special);
            check_case(&cell, array, g, &a, &b);
        }
    }
}

#[test]
fn edge_shapes_on_every_array_up_to_8x8() {
    // Tiles that fit exactly, miss by one, and single rows or columns.
    let mut r = rng(12);
    let cell = Cell::parse("int16fma", "int16", Some("saturate")).unwrap();
    let fcell = Cell::parse("lmul", "bf16", None).unwrap();
    for rows in 1..=8 {
        for cols in 1..=8 {
            let array = ArrayDims::new(rows, cols).unwrap();
            for (m, k, n) in [
                (1, 1, 1),
                (rows, 3, cols),
                (rows + 1, 2, cols + 1),
                (2 * rows, 5, 1),
                (1, 9, 2 * cols - 1),
            ] {
                let g = GemmDims::new(m, k, n).unwrap();
                for c in [&cell, &fcell] {
                    let a = operands(c, &mut r, m * k, 50);
                    let b = operands(c, &mut r, k * n, 50);
                    check_case(c, array, g, &a, &b);
                }
            }
        }
    }
}

#[test]
fn os_ports_follow_the_contract() {
    // One fold on a 3x4 array, driven by hand: row r of C on c_out in T_last + R + C + r,
    // out_row counting 0..R-1, out_valid low before and after.
    let cell = Cell::parse("int16fma", "int16", Some("wrap")).unwrap();
    let (rr, cc, k) = (3usize, 4usize, 5usize);
    let mut r = rng(13);
    let a: Vec<u64> = (0..rr * k).map(|_| r.gen_range(0..50)).collect();
    let b: Vec<u64> = (0..k * cc).map(|_| r.gen_range(0..50)).collect();
    let want = gemm(&cell, rr, k, cc, &a, &b);
    let ks = k_steps(k, 2);
    let mut arr = OsArray::new(&cell, ArrayDims::new(rr, cc).unwrap());
    let (mut a_in, mut b_in) = (vec![0u64; rr * 2], vec![0u64; cc * 2]);
    let t_last = ks as u64 - 1;
    for x in 0..40u64 {
        let t = x as usize;
        let valid = t < ks;
        a_in.fill(0);
        b_in.fill(0);
        if valid {
            for i in 0..rr {
                for l in 0..2 {
                    if t * 2 + l < k {
                        a_in[i * 2 + l] = a[i * k + t * 2 + l];
                    }
                }
            }
            for j in 0..cc {
                for l in 0..2 {
                    if t * 2 + l < k {
                        b_in[j * 2 + l] = b[(t * 2 + l) * cc + j];
                    }
                }
            }
        }
        let o = arr.clock(&ArrayInputs {
            reset: false,
            in_valid: valid,
            in_first: valid && t == 0,
            in_last: valid && t + 1 == ks,
            a_in: &a_in,
            b_in: &b_in,
        });
        let cycle = x + 1;
        let due = t_last + (rr + cc) as u64;
        if (due..due + rr as u64).contains(&cycle) {
            let row = (cycle - due) as usize;
            assert!(o.out_valid, "cycle {cycle}: row {row} due");
            assert_eq!(o.out_row, row);
            assert_eq!(o.c_out, &want[row * cc..(row + 1) * cc], "cycle {cycle}");
        } else {
            assert!(!o.out_valid, "cycle {cycle}: out_valid outside the rows");
        }
        // PE (i, j) holds its final sum from cycle T_last + i + j + 1 on.
        if cycle == t_last + (rr + cc) as u64 - 1 {
            for i in 0..rr {
                for j in 0..cc {
                    assert_eq!(arr.acc(i, j), want[i * cc + j]);
                }
            }
        }
    }
}

#[test]
fn reset_clears_every_register() {
    let cell = Cell::parse("fpmul", "e4m3", None).unwrap();
    let array = ArrayDims::new(3, 2).unwrap();
    let mut arr = OsArray::new(&cell, array);
    let ones = vec![0x38u64; 3];
    let twos = vec![0x40u64; 2];
    let step = |arr: &mut OsArray, reset: bool, valid: bool| {
        let o = arr.clock(&ArrayInputs {
            reset,
            in_valid: valid,
            in_first: valid,
            in_last: valid,
            a_in: &ones,
            b_in: &twos,
        });
        (o.out_valid, o.c_out.to_vec(), o.busy)
    };
    // Start a product, reset in the middle of the drain: nothing comes out afterwards.
    for _ in 0..3 {
        step(&mut arr, false, true);
    }
    let (v, c, busy) = step(&mut arr, true, true);
    assert!(!v && c.iter().all(|&x| x == 0) && busy == 0);
    for _ in 0..20 {
        let (v, _, busy) = step(&mut arr, false, false);
        assert!(!v && busy == 0);
    }
    for i in 0..3 {
        for j in 0..2 {
            assert_eq!(arr.acc(i, j), 0);
        }
    }
    // After the reset the array computes as new: 1 x 2 = 2.0 = 0x40000000.
    let mut fresh = OsArray::new(&cell, array);
    let mut outs = (vec![], vec![]);
    for x in 0..12 {
        let valid = x == 0;
        let o1 = arr.clock(&ArrayInputs {
            reset: false,
            in_valid: valid,
            in_first: valid,
            in_last: valid,
            a_in: &ones,
            b_in: &twos,
        });
        outs.0.push((o1.out_valid, o1.out_row, o1.c_out.to_vec()));
        let o2 = fresh.clock(&ArrayInputs {
            reset: false,
            in_valid: valid,
            in_first: valid,
            in_last: valid,
            a_in: &ones,
            b_in: &twos,
        });
        outs.1.push((o2.out_valid, o2.out_row, o2.c_out.to_vec()));
    }
    assert_eq!(outs.0, outs.1);
    assert!(outs
        .0
        .iter()
        .any(|(v, _, c)| *v && c.iter().all(|&x| x == 0x4000_0000)));
}

#[test]
fn bad_operands_are_refused_by_every_driver() {
    let cell = Cell::parse("lmul", "e4m3", None).unwrap();
    let array = ArrayDims::new(2, 2).unwrap();
    let g = GemmDims::new(2, 2, 2).unwrap();
    for (df, run) in RUNNERS {
        let e = run(&cell, array, g, &[0; 4], &[0; 3])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("B must hold 2 x 2 = 4 codes"),
            "{}: {e}",
            df.name()
        );
        let e = run(&cell, array, g, &[0, 0x1FF, 0, 0], &[0; 4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("A[0][1]"), "{}: {e}", df.name());
    }
}

#[test]
fn ws_ports_follow_the_contract() {
    // A 3x2 weight-stationary array driven by hand: three weight rows loaded (the last row
    // first), the middle one marked invalid, so its PEs pass the sums through; four rows of A
    // with partial sums p_in; row m of the result on c_out in t_m + R + C - 1.
    use pelab_sim::array::ws::{Stationary, WsArray, WsInputs};
    let cell = Cell::parse("int16fma", "int16", Some("wrap")).unwrap();
    let (rr, cc, d, m) = (3usize, 2usize, 2usize, 4usize);
    let mut r = rng(14);
    let w: Vec<u64> = (0..rr * cc * d).map(|_| r.gen_range(1..100)).collect();
    let x: Vec<u64> = (0..m * rr * d).map(|_| r.gen_range(1..100)).collect();
    let p: Vec<u32> = (0..m * cc).map(|_| r.gen_range(0..1000)).collect();
    let valid_row = |i: usize| i != 1;
    let mut arr = WsArray::new(&cell, ArrayDims::new(rr, cc).unwrap(), Stationary::B);
    let (zero_w, zero_a, zero_p) = (vec![0u64; cc * d], vec![0u64; rr * d], vec![0u32; cc]);
    let mut seen = 0;
    for cycle in 0..30usize {
        let mut inp = WsInputs {
            reset: false,
            w_load: false,
            w_valid_in: false,
            w_in: &zero_w,
            in_valid: false,
            a_in: &zero_a,
            p_in: &zero_p,
        };
        if cycle < rr {
            let i = rr - 1 - cycle;
            inp.w_load = true;
            inp.w_valid_in = valid_row(i);
            inp.w_in = &w[i * cc * d..(i + 1) * cc * d];
        } else if cycle - rr < m {
            let q = cycle - rr;
            inp.in_valid = true;
            inp.a_in = &x[q * rr * d..(q + 1) * rr * d];
            inp.p_in = &p[q * cc..(q + 1) * cc];
        }
        let o = arr.clock(&inp);
        let now = cycle + 1;
        let first = rr + rr + cc - 1;
        if (first..first + m).contains(&now) {
            let q = now - first;
            assert!(o.out_valid, "cycle {now}: row {q} due");
            for j in 0..cc {
                let mut want = p[q * cc + j] as i32;
                for i in (0..rr).filter(|&i| valid_row(i)) {
                    for l in 0..d {
                        let a = x[q * rr * d + i * d + l] as i32;
                        let b = w[i * cc * d + j * d + l] as i32;
                        want = want.wrapping_add(a * b);
                    }
                }
                assert_eq!(o.c_out[j], want as u32, "cycle {now} row {q} column {j}");
            }
            seen += 1;
        } else {
            assert!(!o.out_valid, "cycle {now}: out_valid outside the rows");
        }
    }
    assert_eq!(seen, m);
}
