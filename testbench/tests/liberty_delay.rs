//! Liberty-delay toggle counts of pelab's gate engine ([`Delay::Liberty`]) against Icarus
//! Verilog on the same SKY130-mapped netlist, the same delays and the same stimulus:
//!
//! - inertial (`assign #D` per cell output, D the cell's delay in ps): every net's toggle
//!   count, zero-delay count and time at 1 (the SAIF `T1`) equal Icarus', and the VCD pelab
//!   writes for a window of rows has Icarus' value changes at Icarus' times;
//! - SDF (behavioural cell models with `specify` paths, the delays written by pelab as SDF and
//!   read with `$sdf_annotate`): Icarus applies path delays without swallowing every short
//!   pulse, so the counts agree within a stated tolerance (printed);
//! - a library without the delay table of a used cell is an error naming the cell.
//!
//! Cases: the lmul and fpmul e4m3 PEs (combinational, consecutive operations).

mod icarus_vcd;

use icarus_vcd::{settled_changes, vcd_changes, vcd_scalars_in_order};
use pelab_hdl::RtlConfig;
use pelab_sim::liberty::Library;
use pelab_sim::netlist::delays::{liberty_delays, CellDelays, DelayOptions};
use pelab_sim::netlist::{Delay, Netlist};
use pelab_testbench::codec::{Dist, Shape, WorkloadOps};
use pelab_testbench::energy::StageTrace;
use pelab_testbench::gates::{run_gates_recorded, synthesized_netlist, GateActivity};
use pelab_testbench::sdf::{net_name, timed_tb, Style, TimedTb};
use pelab_testbench::vectors::Layout;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn library_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sim/tests/data/sky130hd_tt.lib.gz")
}

fn work(name: &str) -> PathBuf {
    icarus_vcd::work("libdelay", name)
}

/// Runs `tb` under Icarus (`-gspecify`) in `dir`; returns the path of its VCD.
fn icarus(tb: &TimedTb, dir: &Path) -> PathBuf {
    icarus_vcd::icarus(&tb.verilog, &tb.files, &["-gspecify"], dir)
}

/// Icarus' figures of one net from `from` to `end` (ps): value changes (glitches included),
/// changes of the value settled at the end of each period, and time at 1.
fn icarus_net(ch: &[(u64, vcd::Value)], period: u64, rows: usize) -> (u64, u64, u64) {
    let (from, end) = (period, rows as u64 * period);
    let mut timed = 0;
    let mut last = vcd::Value::X;
    let mut high = 0;
    let mut at = 0;
    for &(t, v) in ch {
        if t >= from {
            if last == vcd::Value::V1 {
                high += t - at.max(from);
            }
            at = t;
            if v != last {
                timed += 1;
            }
        }
        last = v;
    }
    if last == vcd::Value::V1 {
        high += end - at.max(from);
    }
    let zero = settled_changes(ch, period, 1, rows);
    (timed, zero, high)
}

struct Case {
    net: Netlist,
    lib: Library,
    layout: Layout,
    rows: Vec<Vec<u64>>,
    delays: CellDelays,
}

/// The SKY130-mapped netlist of `pe` `cfg` with its Liberty delays and `ops` Gaussian
/// operations.
fn case(pe: &str, cfg: &RtlConfig, ops: u64) -> Case {
    let lib = pelab_sim::liberty::read(&library_path()).unwrap();
    let p = pelab_testbench::pe(pe).unwrap();
    let m = p.rtl.verilog(cfg).unwrap();
    let path = library_path();
    let (mut net, _) = synthesized_netlist(&m.verilog, &m.name, Some((&path, &lib))).unwrap();
    let opts = DelayOptions {
        resolution_ps: 1,
        input_slew_ps: DelayOptions::INPUT_SLEW_PS,
        wire_ff: 0.5,
    };
    let delays = liberty_delays(&net, &lib, &opts).unwrap();
    net.annotate_delays(&delays).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let w = p
        .vectors
        .workload(
            cfg,
            WorkloadOps {
                dist: Dist::Gaussian,
                shape: Shape::Elementwise,
                ops,
            },
            &mut rng,
        )
        .unwrap();
    let s = w.stages.into_iter().next().unwrap();
    Case {
        net,
        lib,
        layout: s.layout,
        rows: s.rows,
        delays,
    }
}

/// pelab's run of a case: the activity (time at 1 recorded) and the period (ps).
fn pelab(c: &Case) -> (GateActivity, u32) {
    let period = c.delays.settle_bound(&c.net) + 1;
    let (_, act) = run_gates_recorded(
        &c.net,
        &c.layout,
        &c.rows,
        (false, true, Delay::Liberty),
        Some(period),
    )
    .unwrap();
    (act, period)
}

fn icarus_run(c: &Case, style: Style, period: u32, name: &str) -> (PathBuf, TimedTb) {
    let ports: Vec<usize> = c
        .layout
        .inputs()
        .map(|f| c.net.input(&f.name).unwrap())
        .collect();
    let rows: Vec<Vec<u64>> = c.rows.iter().map(|r| r[..ports.len()].to_vec()).collect();
    let ps: Vec<u64> = c.delays.quanta.iter().map(|&q| q as u64).collect();
    let tb = timed_tb(
        &c.net,
        &c.lib,
        &ports,
        &rows,
        &ps,
        period as u64,
        style,
        "waves.vcd",
    )
    .unwrap();
    let dir = work(name);
    let t = Instant::now();
    let vcd = icarus(&tb, &dir);
    eprintln!(
        "{name}: {} cells, {} rows, period {period} ps, Icarus {:.2?}",
        c.net.cells.len(),
        rows.len(),
        t.elapsed()
    );
    (vcd, tb)
}

/// The first net where `a` and `b` differ, named with its cell.
fn same(net: &Netlist, what: &str, a: &[u64], b: &[u64]) {
    if let Some(k) = (0..a.len()).find(|&k| a[k] != b[k]) {
        let c = &net.cells[net.counted[k].1];
        let n = (0..a.len()).filter(|&k| a[k] != b[k]).count();
        panic!(
            "{what}: {n} nets differ; first: net {} of {} ({}): pelab {} vs Icarus {}",
            net.counted[k].0, c.name, c.kind, a[k], b[k]
        );
    }
}

/// Inertial: exact toggles, zero-delay toggles, time at 1 and VCD window; then the SDF run's
/// agreement within the stated tolerance.
fn check(pe: &str, cfg: &RtlConfig, ops: u64) {
    let c = case(pe, cfg, ops);
    let (act, period) = pelab(&c);
    let what = format!("{pe} {}", cfg.format);
    let (vcd, tb) = icarus_run(&c, Style::Inertial, period, &format!("{pe}_inertial"));
    let waves = vcd_changes(&vcd);
    let ic: Vec<(u64, u64, u64)> = c
        .net
        .counted
        .iter()
        .map(|&(n, _)| icarus_net(&waves[&net_name(n)], tb.period, tb.rows))
        .collect();
    let col = |f: fn(&(u64, u64, u64)) -> u64| ic.iter().map(f).collect::<Vec<u64>>();
    same(
        &c.net,
        &format!("{what} toggles"),
        &act.toggles,
        &col(|x| x.0),
    );
    same(
        &c.net,
        &format!("{what} zero-delay toggles"),
        &act.zero_delay_toggles,
        &col(|x| x.1),
    );
    let (p, high) = act.high_time.clone().unwrap();
    assert_eq!(p, period);
    same(&c.net, &format!("{what} time at 1"), &high, &col(|x| x.2));
    let glitches: u64 =
        act.toggles.iter().sum::<u64>() - act.zero_delay_toggles.iter().sum::<u64>();
    assert!(glitches > 0, "{what}: no glitch to check");
    // pelab's VCD of a window: the same changes at the same times as Icarus'.
    let trace = StageTrace {
        net: c.net.clone(),
        layout: c.layout.clone(),
        rows: c.rows.clone(),
        activity: act.clone(),
        period,
        unit_ps: 1,
        delay: Delay::Liberty,
    };
    let w = pelab_testbench::waves::Window { from: 40, to: 60 };
    let text = pelab_testbench::activity::vcd(&trace, w).unwrap();
    let dir = vcd.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("pelab.vcd"), &text).unwrap();
    // Its scalars: the counted nets in order (the input ports are vectors, unless 1 bit).
    let ours = vcd_scalars_in_order(&dir.join("pelab.vcd"));
    let one_bit_ports = c.layout.inputs().filter(|f| f.width == 1).count();
    let ours = &ours[one_bit_ports..];
    assert_eq!(ours.len(), c.net.counted.len());
    let (lo, hi) = (w.from * period as u64, w.to * period as u64);
    let mut compared = 0;
    for (k, &(n, _)) in c.net.counted.iter().enumerate() {
        let theirs: Vec<(u64, vcd::Value)> = waves[&net_name(n)]
            .iter()
            .copied()
            .filter(|&(t, _)| t > lo && t < hi)
            .collect();
        let mine: Vec<(u64, vcd::Value)> = ours[k]
            .iter()
            .copied()
            .filter(|&(t, _)| t > lo && t < hi)
            .collect();
        // Icarus may dump a net at the start of a row without a change; compare changes.
        let dedup = |v: &[(u64, vcd::Value)], before: vcd::Value| {
            let mut out = Vec::new();
            let mut last = before;
            for &(t, x) in v {
                if x != last {
                    out.push((t, x));
                }
                last = x;
            }
            out
        };
        let at = |ch: &[(u64, vcd::Value)]| {
            ch.iter()
                .take_while(|(t, _)| *t <= lo)
                .last()
                .map_or(vcd::Value::X, |c| c.1)
        };
        let (a, b) = (
            dedup(&mine, at(&ours[k])),
            dedup(&theirs, at(&waves[&net_name(n)])),
        );
        assert_eq!(a, b, "{what}: VCD window of net {}", c.net.net_name(n));
        compared += a.len();
    }
    assert!(compared > 0, "{what}: no change in the VCD window");
    let _ = std::fs::remove_dir_all(&dir);
    // SDF: the same delays through $sdf_annotate on specify paths.
    let (vcd, tb) = icarus_run(&c, Style::Sdf, period, &format!("{pe}_sdf"));
    let waves = vcd_changes(&vcd);
    let sdf: Vec<(u64, u64, u64)> = c
        .net
        .counted
        .iter()
        .map(|&(n, _)| icarus_net(&waves[&net_name(n)], tb.period, tb.rows))
        .collect();
    // The settled values are the same (the delays do not change the function).
    let zero: Vec<u64> = sdf.iter().map(|x| x.1).collect();
    same(
        &c.net,
        &format!("{what} SDF zero-delay toggles"),
        &act.zero_delay_toggles,
        &zero,
    );
    let _ = std::fs::remove_dir_all(vcd.parent().unwrap());
    let t_sdf: u64 = sdf.iter().map(|x| x.0).sum();
    let t_pelab: u64 = act.toggles.iter().sum();
    let equal = sdf
        .iter()
        .zip(&act.toggles)
        .filter(|(s, t)| s.0 == **t)
        .count();
    let abs: u64 = sdf
        .iter()
        .zip(&act.toggles)
        .map(|(s, t)| s.0.abs_diff(*t))
        .sum();
    let total = 100.0 * (t_sdf as f64 - t_pelab as f64) / t_pelab as f64;
    let per_net = 100.0 * abs as f64 / t_pelab as f64;
    eprintln!(
        "{what}: SDF agreement: toggles pelab {t_pelab} vs Icarus+SDF {t_sdf} ({total:+.3}%), \
         {equal} of {} nets equal, per-net differences {abs} ({per_net:.2}% of the toggles)",
        sdf.len()
    );
    // The documented tolerance of the SDF flow (docs/energy.md): total toggles within 1%,
    // the per-net differences summing to at most 5% of the toggles.
    assert!(total.abs() <= 1.0, "{what}: SDF total {total:+.3}%");
    assert!(
        per_net <= 5.0,
        "{what}: SDF per-net differences {per_net:.2}%"
    );
}

#[test]
fn lmul_e4m3_liberty_delays_count_as_icarus() {
    check("lmul", &RtlConfig::new("e4m3", "saturate", 0), 500);
}

#[test]
fn fpmul_e4m3_liberty_delays_count_as_icarus() {
    check("fpmul", &RtlConfig::new("e4m3", "ieee", 0), 500);
}

#[test]
fn a_cell_without_delay_tables_is_named() {
    let c = case("lmul", &RtlConfig::new("e4m3", "saturate", 0), 4);
    let mut lib = c.lib.clone();
    let kind = c.net.cells[0].kind.clone();
    for p in &mut lib.cells.get_mut(&kind).unwrap().pins {
        p.timing.clear();
    }
    let opts = DelayOptions {
        resolution_ps: 1,
        input_slew_ps: 50.0,
        wire_ff: 0.5,
    };
    let e = liberty_delays(&c.net, &lib, &opts).unwrap_err().0;
    assert!(e.contains(&kind) && e.contains("no delay table"), "{e}");
    // A coarser quantum rounds the same delays.
    let coarse = liberty_delays(
        &c.net,
        &c.lib,
        &DelayOptions {
            resolution_ps: 10,
            ..opts
        },
    )
    .unwrap();
    for (q, ps) in coarse.quanta.iter().zip(&coarse.ps) {
        if *ps > 0.0 {
            assert_eq!(*q, ((ps / 10.0).round() as u32).max(1));
        }
    }
    assert_eq!(coarse.ps, c.delays.ps);
}
