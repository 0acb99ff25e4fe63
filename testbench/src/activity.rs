//! Activity files of an energy measurement: SAIF (switching activity of every cell output
//! over the whole run) and VCD (the gate simulation's waveforms over a window of rows).
//!
//! Time: one row (an operation, or a clock cycle of a clocked PE) lasts
//! [`StageTrace::period`] time units of [`StageTrace::unit_ps`] ps each; row `r` starts at
//! `r * period`, when the inputs (and flip-flops) take their new values. Under zero delay every
//! net takes its settled value at the start of the row; under a timed model the cell outputs
//! change at the simulated times after it (glitches included). Both files are written in ps.

use crate::energy::StageTrace;
use crate::waves::Window;
use pelab_sim::netlist::{Delay, Sim, ToggleMode, LANES, LANE_WORDS};
use pelab_sim::{Error, Result};
use std::fmt::Write as _;

/// A SAIF identifier: every character but letters, digits and `_` escaped with `\`.
fn saif_name(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c.is_ascii_alphanumeric() || c == '_') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// The SAIF 2.0 file of a stage: `DURATION` (counted rows times the period), and for every
/// cell output net `T0`, `T1` (time at 0 and 1), `TX` 0, `TC` (value changes, glitches
/// included under a timed model) and `IG` 0 (two-valued simulation), in ps
/// (`TIMESCALE 1 ps`), in one `INSTANCE` named after the top module. `provenance` lines go in
/// a comment at the top.
pub fn saif(t: &StageTrace, provenance: &[String]) -> Result<String> {
    let (period, high) = t.activity.high_time.as_ref().ok_or_else(|| {
        Error::new("the activity was not recorded with the time each net spends at 1")
    })?;
    let unit = t.unit_ps as u64;
    let duration = t.activity.samples * *period as u64;
    let net = &t.net;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "/* pelab switching activity of {} ({})",
        net.top, net.source
    );
    for p in provenance {
        let _ = writeln!(s, "   {}", p.replace("*/", "* /"));
    }
    let _ = writeln!(
        s,
        "   {} rows of {} ps, delay model {} */",
        t.activity.samples,
        *period as u64 * unit,
        t.delay.name()
    );
    let _ = writeln!(s, "(SAIFILE");
    let _ = writeln!(s, "(SAIFVERSION \"2.0\")");
    let _ = writeln!(s, "(DIRECTION \"backward\")");
    let _ = writeln!(s, "(DESIGN \"{}\")", net.top);
    let _ = writeln!(s, "(VENDOR \"pelab\")");
    let _ = writeln!(s, "(PROGRAM_NAME \"pelab energy\")");
    let _ = writeln!(s, "(VERSION \"{}\")", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "(DIVIDER / )");
    let _ = writeln!(s, "(TIMESCALE 1 ps)");
    let _ = writeln!(s, "(DURATION {})", duration * unit);
    let _ = writeln!(s, "(INSTANCE {}", saif_name(&net.top));
    let _ = writeln!(s, "  (NET");
    for ((&(n, _), &tc), &t1) in net.counted.iter().zip(&t.activity.toggles).zip(high) {
        let t0 = duration.checked_sub(t1).ok_or_else(|| {
            Error::new(format!(
                "net {}: {t1} units at 1 in a run of {duration}",
                net.net_name(n)
            ))
        })?;
        let _ = writeln!(
            s,
            "    ({}\n      (T0 {}) (T1 {}) (TX 0)\n      (TC {tc}) (IG 0)\n    )",
            saif_name(&net.net_name(n)),
            t0 * unit,
            t1 * unit
        );
    }
    let _ = writeln!(s, "  )\n)\n)");
    Ok(s)
}

/// A VCD identifier for signal `k`.
fn vcd_id(mut k: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((33 + (k % 94) as u8) as char);
        k /= 94;
        if k == 0 {
            return s;
        }
    }
}

/// Parses `A:B` (or `A..B`): rows A up to B - 1.
pub fn parse_window(s: &str) -> Result<Window> {
    Window::parse(&s.replacen(':', "..", 1)).map_err(|_| {
        Error::new(format!(
            "--vcd-window '{s}': expected A:B with A < B, e.g. 100:200"
        ))
    })
}

/// Rows at most in a VCD window.
pub const MAX_VCD_ROWS: u64 = 100_000;

/// The VCD of rows `w` of a stage's simulation, run again over those rows (a combinational
/// stage from the row before the window; a clocked one from its first row, in one lane): the
/// input ports (vectors) and every cell output net (scalars, named as in the netlist or
/// `n<index>`), in scope `<top module>`, timescale 1 ps, row `r` at `r * period`.
pub fn vcd(t: &StageTrace, w: Window) -> Result<String> {
    let rows = t.rows.len() as u64;
    if w.to > rows {
        return Err(Error::new(format!(
            "--vcd-window {}:{} is outside the {rows} rows simulated",
            w.from, w.to
        )));
    }
    if w.to - w.from > MAX_VCD_ROWS {
        return Err(Error::new(format!(
            "--vcd-window {}:{}: at most {MAX_VCD_ROWS} rows",
            w.from, w.to
        )));
    }
    let net = &t.net;
    let b = crate::gates::bind(net, &t.layout)?;
    let ports: Vec<usize> = b.inputs.clone();
    let unit = t.unit_ps as u64;
    let period = t.period as u64;
    let mut out = String::new();
    let _ = writeln!(out, "$comment pelab gate simulation of {} ({}), delay model {}, rows {}..{} of {period} x {unit} ps $end", net.top, net.source, t.delay.name(), w.from, w.to);
    let _ = writeln!(out, "$timescale 1 ps $end");
    let _ = writeln!(out, "$scope module {} $end", net.top);
    let mut id = 0usize;
    let port_ids: Vec<String> = ports
        .iter()
        .map(|&p| {
            let i = vcd_id(id);
            id += 1;
            let _ = writeln!(
                out,
                "$var wire {} {i} {} $end",
                net.inputs[p].bits.len(),
                net.inputs[p].name
            );
            i
        })
        .collect();
    let net_ids: Vec<String> = net
        .counted
        .iter()
        .map(|&(n, _)| {
            let i = vcd_id(id);
            id += 1;
            let name = net.net_name(n).replace(' ', "_");
            let _ = writeln!(out, "$var wire 1 {i} {name} $end");
            i
        })
        .collect();
    let _ = writeln!(out, "$upscope $end\n$enddefinitions $end");
    let bit = |v: bool| if v { '1' } else { '0' };
    let port_value = |r: usize, j: usize| -> String {
        let width = net.inputs[ports[j]].bits.len();
        (0..width)
            .rev()
            .map(|k| bit(k < 64 && (t.rows[r][j] >> k) & 1 == 1))
            .collect()
    };
    // Per row: the value of every counted net before it, then its changes.
    let mut emit = |r: u64, before: &[bool], changes: &[Vec<(u32, bool)>], after: &[bool]| {
        let base = r * period * unit;
        if r == w.from {
            let _ = writeln!(out, "#{base}\n$dumpvars");
            for (j, i) in port_ids.iter().enumerate() {
                let _ = writeln!(out, "b{} {i}", port_value(r as usize, j));
            }
            for (k, i) in net_ids.iter().enumerate() {
                let _ = writeln!(out, "{}{i}", bit(before[k]));
            }
            let _ = writeln!(out, "$end");
        } else {
            let _ = writeln!(out, "#{base}");
            for (j, i) in port_ids.iter().enumerate() {
                if t.rows[r as usize][j] != t.rows[r as usize - 1][j] {
                    let _ = writeln!(out, "b{} {i}", port_value(r as usize, j));
                }
            }
        }
        // Zero delay: the settled value at the start of the row.
        let mut at: std::collections::BTreeMap<u32, Vec<(usize, bool)>> = Default::default();
        for k in 0..net_ids.len() {
            if t.delay == Delay::Zero {
                if after[k] != before[k] {
                    at.entry(0).or_default().push((k, after[k]));
                }
            } else {
                for &(tm, v) in &changes[k] {
                    at.entry(tm).or_default().push((k, v));
                }
            }
        }
        for (tm, ch) in at {
            if tm > 0 {
                let _ = writeln!(out, "#{}", base + tm as u64 * unit);
            }
            for (k, v) in ch {
                let _ = writeln!(out, "{}{}", bit(v), net_ids[k]);
            }
        }
    };
    let counted: Vec<u32> = net.counted.iter().map(|&(n, _)| n).collect();
    let none: Vec<Vec<(u32, bool)>> = vec![Vec::new(); counted.len()];
    if b.comb {
        let mut sim = Sim::with_delay(net, ToggleMode::Lanes, t.delay);
        let from = w.from.saturating_sub(1) as usize;
        let mut prev: Option<Vec<bool>> = None;
        let mut r0 = from;
        let mut vals = vec![0u64; LANES];
        while r0 < w.to as usize {
            let n = (w.to as usize - r0).min(LANES);
            for (j, &p) in ports.iter().enumerate() {
                for (l, v) in vals[..n].iter_mut().enumerate() {
                    *v = t.rows[r0 + l][j];
                }
                sim.set_values(p, &vals[..n]);
            }
            sim.eval();
            sim.count_lanes(n)?;
            for l in 0..n {
                let r = (r0 + l) as u64;
                let after: Vec<bool> = counted.iter().map(|&c| sim.net_value(c, l)).collect();
                let before = prev.take().unwrap_or_else(|| after.clone());
                if r >= w.from {
                    let changes: Vec<Vec<(u32, bool)>> =
                        if t.delay == Delay::Zero || (r0 == from && l == 0) {
                            none.clone()
                        } else {
                            counted
                                .iter()
                                .zip(&before)
                                .map(|(&c, &v0)| sim.waveform(c, l, v0))
                                .collect()
                        };
                    emit(r, &before, &changes, &after);
                }
                prev = Some(after);
            }
            r0 += n;
        }
    } else {
        let mut sim = Sim::with_delay(net, ToggleMode::Time, t.delay);
        let mut mask = [0u64; LANE_WORDS];
        mask[0] = 1;
        let mut prev: Option<Vec<bool>> = None;
        for r in 0..w.to as usize {
            for (j, &p) in ports.iter().enumerate() {
                sim.set_values(p, &[t.rows[r][j]]);
            }
            sim.eval();
            sim.count_time(&mask)?;
            let after: Vec<bool> = counted.iter().map(|&c| sim.net_value(c, 0)).collect();
            let before = prev.take().unwrap_or_else(|| after.clone());
            if r as u64 >= w.from {
                let changes: Vec<Vec<(u32, bool)>> = if t.delay == Delay::Zero || r == 0 {
                    none.clone()
                } else {
                    counted
                        .iter()
                        .zip(&before)
                        .map(|(&c, &v0)| sim.waveform(c, 0, v0))
                        .collect()
                };
                emit(r as u64, &before, &changes, &after);
            }
            prev = Some(after);
            sim.clock(1);
        }
    }
    let _ = writeln!(out, "#{}", w.to * period * unit);
    Ok(out)
}
