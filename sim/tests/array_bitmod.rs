//! The bitmod array cell: its reference GEMM against exact integer arithmetic within the PE's
//! error bound, the cycle-accurate output-stationary model against the reference bit for bit,
//! and the model's measured cycles against the closed forms with groups and result latency.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
use pelab_sim::array::bitmod::{self, tile_cycles, tile_stream, unpack_weight, weight, GROUP};
use pelab_sim::array::cell::{bitmod_cell, Cell};
use pelab_sim::array::gemm::{gemm, random_gemm};
use pelab_sim::array::model::run_gemm_os;
use pelab_sim::array::timing::{timing_with, ArrayDims, Dataflow, GemmDims, PeTiming};
use pelab_sim::bitmod::{datatype::by_pe_select, exact_group_sum, PeConfig};
use rand::Rng;

/// `|C[i][j] − Σ_g scale_g·S_g|` within `Σ_g B_g` (each group's input error bound) plus the
/// FP32 conversion and summation error: an oracle that shares only the datatypes' value tables
/// with the model.
#[test]
fn reference_gemm_is_the_exact_product_within_the_pe_error_bound() {
    let cfg = PeConfig::default();
    let mut r = rng(5);
    for case in 0..40 {
        let (m, k, n) = (r.gen_range(1..=4), r.gen_range(1..=400), r.gen_range(1..=4));
        // No specials: the bound is for finite activations.
        let (a, b) = random_gemm(&bitmod_cell(), &mut r, m, k, n, u32::MAX);
        let c = gemm(&bitmod_cell(), m, k, n, &a, &b);
        for i in 0..m {
            for j in 0..n {
                let (mut exact, mut bound, mut mag) = (0f64, 0f64, 0f64);
                for (first, len) in bitmod::groups(k) {
                    let (_, sel, scale) = unpack_weight(a[i * k + first]);
                    let dt = by_pe_select(sel).unwrap();
                    let codes: Vec<u8> = (first..first + len)
                        .map(|kk| unpack_weight(a[i * k + kk]).0)
                        .collect();
                    let acts: Vec<u16> = (first..first + len)
                        .map(|kk| b[kk * n + j] as u16)
                        .collect();
                    let s = exact_group_sum(dt, &codes, &acts).unwrap() * scale as f64;
                    let bg = cfg
                        .input_error_bound(dt, &codes, &acts, scale as u32)
                        .unwrap();
                    exact += s;
                    bound += bg;
                    mag += s.abs() + bg;
                }
                let groups = k.div_ceil(GROUP) as f64;
                let tol = bound + groups * mag * 2f64.powi(-23) + 1e-30;
                let got = f32::from_bits(c[i * n + j]) as f64;
                assert!(
                    (got - exact).abs() <= tol,
                    "case {case}: C[{i}][{j}] = {got} exact {exact} bound {tol}"
                );
            }
        }
    }
}

#[test]
fn the_os_model_equals_the_reference_and_the_closed_forms() {
    let cell: Cell = bitmod_cell();
    let mut r = rng(17);
    for case in 0..40 {
        let array = ArrayDims::new(r.gen_range(1..=6), r.gen_range(1..=6)).unwrap();
        // K crosses group boundaries and short last groups (K mod 128 below 16).
        let k = match case % 4 {
            0 => r.gen_range(1..=20),
            1 => 128 * r.gen_range(1..=2) + r.gen_range(1..=15),
            2 => r.gen_range(100..=300),
            _ => 128,
        };
        let g = GemmDims::new(r.gen_range(1..=13), k, r.gen_range(1..=13)).unwrap();
        let (a, b) = random_gemm(&cell, &mut r, g.m, g.k, g.n, [8, 50, 1000][case % 3]);
        let want = gemm(&cell, g.m, g.k, g.n, &a, &b);
        let (got, tr) = run_gemm_os(&cell, array, g, &a, &b).unwrap();
        let ctx = format!("{}x{} {}x{}x{}", array.rows, array.cols, g.m, g.k, g.n);
        for q in 0..g.m * g.n {
            assert_eq!(got[q], want[q], "{ctx}: C[{}][{}]", q / g.n, q % g.n);
        }
        let t = timing_with(Dataflow::Os, array, g, &cell.pe_timing()).unwrap();
        assert_eq!(tr.folds, t.folds, "{ctx}");
        assert_eq!(tr.cycles_per_fold, t.cycles_per_fold, "{ctx}: S");
        assert_eq!(tr.cycles_scalesim, t.cycles, "{ctx}: last MAC cycle");
        assert_eq!(
            tr.last_output_cycle, t.last_output_cycle,
            "{ctx}: last output"
        );
        // Every PE computes 2 cycles per beat of every fold.
        let beats = g.k.div_ceil(4) as u64;
        assert_eq!(
            tr.busy_steps,
            t.folds * (array.rows * array.cols) as u64 * 2 * beats,
            "{ctx}: MAC cycles"
        );
    }
}

#[test]
fn closed_form_terms() {
    // Full groups: 2 cycles per beat, the stream term is L*K'.
    let p = PeTiming::bitmod();
    assert_eq!(p.stream_cycles(128), 64);
    assert_eq!(p.stream_cycles(4096), 2048);
    // A group of 2 weights still takes the dequantizer's 8 cycles; 20 weights take 10.
    assert_eq!(p.stream_cycles(130), 64 + 8);
    assert_eq!(p.stream_cycles(148), 64 + 10);
    for k in 1..=600 {
        assert_eq!(tile_stream(k).len() as u64, tile_cycles(k), "K={k}");
        assert_eq!(p.stream_cycles(k as u128), tile_cycles(k) as u128, "K={k}");
        let busy = tile_stream(k).iter().filter(|x| x.is_some()).count();
        assert_eq!(busy, 2 * k.div_ceil(4), "K={k}");
    }
    let t = timing_with(
        Dataflow::Os,
        ArrayDims::new(8, 8).unwrap(),
        GemmDims::new(64, 256, 64).unwrap(),
        &p,
    )
    .unwrap();
    // 64 folds of 8 + 8 + 128 - 2 cycles; the last output R + 1 + 9 after the last MAC.
    assert_eq!(t.cycles_per_fold, 142);
    assert_eq!(t.cycles, 64 * 142 - 1);
    assert_eq!(t.last_output_cycle, t.cycles + 8 + 1 + 9);
    assert!(timing_with(
        Dataflow::Ws,
        ArrayDims::new(2, 2).unwrap(),
        GemmDims::new(2, 2, 2).unwrap(),
        &p
    )
    .is_err());
}

#[test]
fn operand_errors_name_the_element_and_the_rule() {
    let cell = bitmod_cell();
    let (m, k, n) = (1, 130, 1);
    let mut a: Vec<u64> = (0..k).map(|_| weight(1, 4, 7)).collect();
    let b = vec![0x3C00u64; k];
    assert!(pelab_sim::array::gemm::check_operands(&cell, m, k, n, &a, &b).is_ok());
    a[5] = weight(1, 4, 8);
    let e = pelab_sim::array::gemm::check_operands(&cell, m, k, n, &a, &b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("A[0][5]") && e.contains("scale"), "{e}");
    a[5] = weight(1, 4, 7);
    a[128] = weight(1, 2, 7);
    a[129] = weight(9, 2, 7);
    let e = pelab_sim::array::gemm::check_operands(&cell, m, k, n, &a, &b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("A[0][129]") && e.contains("3 bits"), "{e}");
}
