//! Analytic array timing against SCALE-Sim's closed forms (written out here from its published
//! table) and against a brute-force enumeration of every event of the drivers' schedules:
//! each MAC (PE, cycle), each streamed element, each output written.

use pelab_sim::array::timing::{timing, ArrayDims, Dataflow, GemmDims, Timing};

const DIMS: [usize; 9] = [1, 2, 3, 7, 8, 9, 16, 17, 33];

/// The timing of `m x k x n` on `r x c` with `d` lanes and `l` cycles per step.
fn time(
    df: Dataflow,
    (r, c): (usize, usize),
    (m, k, n): (usize, usize, usize),
    d: usize,
    l: u64,
) -> Timing {
    timing(
        df,
        ArrayDims::new(r, c).unwrap(),
        GemmDims::new(m, k, n).unwrap(),
        d,
        l,
    )
    .unwrap()
}

fn cdiv(a: usize, b: usize) -> u64 {
    a.div_ceil(b) as u64
}

#[test]
fn closed_forms_of_scalesim_for_one_lane_one_cycle() {
    for r in 1..=8 {
        for c in 1..=8 {
            for &m in &DIMS {
                for &k in &DIMS {
                    for &n in &DIMS {
                        let (ru, cu) = (r as u64, c as u64);
                        let (mu, ku, nu) = (m as u64, k as u64, n as u64);
                        for (df, folds, per_fold) in [
                            (Dataflow::Os, cdiv(m, r) * cdiv(n, c), ru + cu + ku - 2),
                            (Dataflow::Ws, cdiv(k, r) * cdiv(n, c), 2 * ru + cu + mu - 2),
                            (Dataflow::Is, cdiv(k, r) * cdiv(m, c), 2 * ru + cu + nu - 2),
                        ] {
                            let t = time(df, (r, c), (m, k, n), 1, 1);
                            let ctx = format!("{df:?} {r}x{c} {m}x{k}x{n}");
                            assert_eq!(t.folds, folds, "{ctx}");
                            assert_eq!(t.cycles_per_fold, per_fold, "{ctx}");
                            assert_eq!(t.cycles, folds * per_fold - 1, "{ctx}");
                            let u = (mu * nu * ku) as f64 / ((folds * per_fold) * ru * cu) as f64;
                            assert!((t.utilization - u).abs() < 1e-12, "{ctx}");
                            assert!(t.utilization > 0.0 && t.utilization <= 1.0, "{ctx}");
                            assert_eq!(t.k_steps, ku, "{ctx}");
                        }
                    }
                }
            }
        }
    }
}

/// Everything the brute-force enumeration of a schedule finds.
#[derive(Debug, Default, PartialEq)]
struct Events {
    last_mac: u64,
    real_macs: u64,
    busy: u64,
    a_streamed: u64,
    b_streamed: u64,
    a_real: u64,
    b_real: u64,
    c_written: u64,
    c_read: u64,
}

/// The last cycle each PE (row-major, `C` per row) was busy in; events are enumerated in
/// schedule order.
struct Busy(Vec<Option<u64>>, usize);

/// Records a PE's MAC in a cycle; a PE busy twice in one cycle, or going back in time, is a
/// schedule fault.
fn mac(ev: &mut Events, seen: &mut Busy, pe: (usize, usize), cycle: u64, real: bool) {
    let slot = &mut seen.0[pe.0 * seen.1 + pe.1];
    if let Some(prev) = *slot {
        assert!(
            cycle > prev,
            "PE {pe:?} busy in cycle {cycle} after cycle {prev}"
        );
    }
    *slot = Some(cycle);
    ev.last_mac = ev.last_mac.max(cycle);
    ev.busy += 1;
    ev.real_macs += real as u64;
}

/// Output-stationary: fold `f` (column tile outer) presents step `t` from cycle `f·S + L·t` for
/// `L` cycles; PE `(i, j)` completes it `i + j` cycles after PE `(0, 0)`, in the step's last
/// cycle. Column `j`'s drain loads (`ld_j`) in the cycle after PE `(R−1, j)` completed the last
/// step; the next fold's first step may not reach a PE of the column before that, and the
/// next load must wait until the chain has shifted out its `R` rows.
fn enumerate_os(r: usize, c: usize, m: usize, k: usize, n: usize, d: usize, l: u64) -> Events {
    let ks = k.div_ceil(d);
    let s = (ks as u64) * l + (r + c) as u64 - 2;
    let (mt, nt) = (m.div_ceil(r), n.div_ceil(c));
    let mut ev = Events::default();
    let mut seen = Busy(vec![None; r * c], c);
    let mut prev_ld: Option<u64> = None;
    for f in 0..mt * nt {
        let (fc, fr) = (f / mt, f % mt);
        let base = f as u64 * s;
        // ld of column j: the cycle after PE (R-1, j) completed the last step.
        let ld0 = base + l * (ks as u64 - 1) + (l - 1) + (r - 1) as u64 + 1;
        if let Some(prev) = prev_ld {
            for j in 0..c as u64 {
                // This fold's first step reaches PE (0, j) no earlier than the previous ld_j.
                assert!(
                    base + (l - 1) + j >= prev + j,
                    "fold {f} overwrites an undrained sum"
                );
            }
            assert!(
                ld0 >= prev + r as u64,
                "fold {f} reloads a chain still draining"
            );
        }
        prev_ld = Some(ld0);
        for t in 0..ks {
            for i in 0..r {
                for j in 0..c {
                    let cycle = base + l * t as u64 + (l - 1) + (i + j) as u64;
                    let real = fr * r + i < m && fc * c + j < n;
                    mac(&mut ev, &mut seen, (i, j), cycle, real);
                }
            }
            for i in 0..r {
                for lane in 0..d {
                    ev.a_streamed += 1;
                    ev.a_real += (fr * r + i < m && t * d + lane < k) as u64;
                }
            }
            for j in 0..c {
                for lane in 0..d {
                    ev.b_streamed += 1;
                    ev.b_real += (fc * c + j < n && t * d + lane < k) as u64;
                }
            }
        }
        for i in 0..r {
            for j in 0..c {
                ev.c_written += (fr * r + i < m && fc * c + j < n) as u64;
            }
        }
    }
    ev
}

/// Weight-(or input-)stationary: fold `f` (column tile outer, K tile inner) loads `R` rows of
/// `C·d` stationary lanes in cycles `f·S .. f·S + R`, then streams row `q` of the streamed
/// operand from cycle `f·S + R + L·q`; PE `(i, j)` completes it `i + j` cycles later, in the
/// step's last cycle. `rows x k` is the streamed operand, `k x cols` the stationary one.
fn enumerate_stationary(
    r: usize,
    c: usize,
    rows: usize,
    k: usize,
    cols: usize,
    d: usize,
    l: u64,
) -> Events {
    let ks = k.div_ceil(d);
    let s = 2 * r as u64 + c as u64 + l * rows as u64 - 2;
    let (kt, ct) = (ks.div_ceil(r), cols.div_ceil(c));
    let mut ev = Events::default();
    let mut seen = Busy(vec![None; r * c], c);
    for f in 0..kt * ct {
        let (ci, ki) = (f / kt, f % kt);
        let base = f as u64 * s;
        // Preload: every PE's weights change in cycles base .. base + R; none may still be in
        // use by the previous fold.
        for (pe, used) in seen.0.iter().enumerate() {
            if let Some(used) = *used {
                assert!(
                    used < base,
                    "fold {f}: PE {pe} still busy in cycle {used}, loading starts in {base}"
                );
            }
        }
        for i in 0..r {
            for j in 0..c {
                for lane in 0..d {
                    ev.b_streamed += 1;
                    let kk = (ki * r + i) * d + lane;
                    ev.b_real += (kk < k && ci * c + j < cols) as u64;
                }
            }
        }
        for q in 0..rows {
            let start = base + r as u64 + l * q as u64 + (l - 1);
            for i in 0..r {
                for j in 0..c {
                    let real = ki * r + i < ks && ci * c + j < cols;
                    let cycle = start + (i + j) as u64;
                    mac(&mut ev, &mut seen, (i, j), cycle, real);
                }
                for lane in 0..d {
                    ev.a_streamed += 1;
                    ev.a_real += ((ki * r + i) * d + lane < k) as u64;
                }
            }
            for j in 0..c {
                if ci * c + j < cols {
                    ev.c_written += 1;
                    ev.c_read += (ki > 0) as u64;
                }
            }
        }
    }
    ev
}

fn check_against_events(
    df: Dataflow,
    (r, c): (usize, usize),
    (m, k, n): (usize, usize, usize),
    d: usize,
    l: u64,
) {
    let t = time(df, (r, c), (m, k, n), d, l);
    let ctx = format!("{df:?} {r}x{c} {m}x{k}x{n} d={d} L={l}");
    let ks = k.div_ceil(d) as u64;
    let (ev, a_pad, b_pad, a_real, b_real) = match df {
        Dataflow::Os => {
            let e = enumerate_os(r, c, m, k, n, d, l);
            let (a, b, ar, br) = (e.a_streamed, e.b_streamed, e.a_real, e.b_real);
            (e, a, b, ar, br)
        }
        Dataflow::Ws => {
            let e = enumerate_stationary(r, c, m, k, n, d, l);
            // The streamed operand is A, the stationary one B.
            let (a, b, ar, br) = (e.a_streamed, e.b_streamed, e.a_real, e.b_real);
            (e, a, b, ar, br)
        }
        Dataflow::Is => {
            // The streamed operand is Bᵀ (N x K), the stationary one Aᵀ (K x M).
            let e = enumerate_stationary(r, c, n, k, m, d, l);
            let (a, b, ar, br) = (e.b_streamed, e.a_streamed, e.b_real, e.a_real);
            (e, a, b, ar, br)
        }
    };
    assert_eq!(t.cycles, ev.last_mac, "{ctx}: last MAC");
    assert_eq!(ev.real_macs, (m * n) as u64 * ks, "{ctx}: real MACs");
    assert_eq!(t.steps, ev.real_macs, "{ctx}");
    let u = (ev.real_macs * l) as f64 / ((ev.last_mac + 1) * (r * c) as u64) as f64;
    assert!(
        (t.utilization - u).abs() < 1e-12,
        "{ctx}: utilization {} vs {u}",
        t.utilization
    );
    assert_eq!(t.sram.a_reads, a_pad, "{ctx}: a_reads");
    assert_eq!(t.sram.b_reads, b_pad, "{ctx}: b_reads");
    assert_eq!(t.sram_unpadded.a_reads, a_real, "{ctx}: unpadded a_reads");
    assert_eq!(t.sram_unpadded.b_reads, b_real, "{ctx}: unpadded b_reads");
    assert_eq!(t.sram.c_writes, ev.c_written, "{ctx}: c_writes");
    assert_eq!(t.sram.c_reads, ev.c_read, "{ctx}: c_reads");
    assert_eq!(t.sram_unpadded.c_writes, ev.c_written, "{ctx}");
}

#[test]
fn closed_forms_match_the_enumerated_schedules() {
    for r in 1..=8 {
        for c in 1..=8 {
            for &m in &DIMS {
                for &k in &DIMS {
                    for &n in &DIMS {
                        if m * n * k * r * c > 100_000 {
                            continue;
                        }
                        for df in Dataflow::ALL {
                            check_against_events(df, (r, c), (m, k, n), 1, 1);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn lanes_and_step_cycles_match_the_enumerated_schedules() {
    for (r, c) in [(1, 1), (2, 3), (4, 4), (5, 2)] {
        for &m in &[1, 3, 8, 9] {
            for &k in &[1, 2, 5, 16, 17] {
                for &n in &[1, 4, 7] {
                    for d in 1..=3 {
                        for l in 1..=3 {
                            for df in Dataflow::ALL {
                                check_against_events(df, (r, c), (m, k, n), d, l);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn last_output_cycles_follow_the_protocol() {
    // os: the last fold's last step is presented in cycle T = (folds-1)·S + K' - 1; row r of
    // the fold is on c_out in T + R + C + r (the contract's timing).
    for (r, c, m, k, n) in [(1, 1, 1, 1, 1), (4, 3, 9, 5, 7), (8, 8, 33, 17, 16)] {
        let t = time(Dataflow::Os, (r, c), (m, k, n), 1, 1);
        let t_last = (t.folds - 1) * t.cycles_per_fold + k as u64 - 1;
        assert_eq!(t.last_output_cycle, t_last + (2 * r + c) as u64 - 1);
        assert_eq!(t.total_cycles, t.last_output_cycle + 1);
        // ws: the last row streamed in cycle T is on c_out in T + R + C - 1.
        let t = time(Dataflow::Ws, (r, c), (m, k, n), 1, 1);
        let t_last = (t.folds - 1) * t.cycles_per_fold + (r + m) as u64 - 1;
        assert_eq!(t.last_output_cycle, t_last + (r + c) as u64 - 1);
    }
}

#[test]
fn bad_shapes_are_refused_with_reasons() {
    let e = ArrayDims::new(0, 4).unwrap_err().to_string();
    assert!(e.contains("rows = 0") && e.contains("1..=64"), "{e}");
    let e = ArrayDims::new(4, 65).unwrap_err().to_string();
    assert!(e.contains("columns = 65"), "{e}");
    let e = GemmDims::new(3, 0, 2).unwrap_err().to_string();
    assert!(e.contains("K = 0"), "{e}");
    let g = GemmDims::new(3, 3, 3).unwrap();
    let a = ArrayDims::new(2, 2).unwrap();
    assert!(timing(Dataflow::Os, a, g, 0, 1)
        .unwrap_err()
        .to_string()
        .contains("lanes"));
    assert!(timing(Dataflow::Os, a, g, 1, 0)
        .unwrap_err()
        .to_string()
        .contains("cycles per step"));
    assert!(Dataflow::parse("xs")
        .unwrap_err()
        .to_string()
        .contains("os, ws, is"));
    // Counts beyond 64 bits are refused, not wrapped; large ones that fit are exact.
    let one = ArrayDims::new(1, 1).unwrap();
    let huge = GemmDims::new(1 << 31, 1 << 31, 1 << 31).unwrap();
    let e = timing(Dataflow::Os, one, huge, 1, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not fit 64 bits"), "{e}");
    let big = GemmDims::new(1 << 20, 1 << 20, 1 << 20).unwrap();
    let t = timing(Dataflow::Os, one, big, 1, 1).unwrap();
    assert_eq!(t.folds, 1 << 40);
    assert_eq!(t.cycles, (1u64 << 60) - 1);
}
