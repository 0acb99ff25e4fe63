//! L-Mul (Luo and Sun, 2024): accuracy against the FP8 multiplies, and the energy saving over
//! the exact multiply, element-wise and in dot products with FP32 accumulation.

use super::{
    accuracy_tables, figure, figure_range, study_source, timing, Results, Study,
    SAVING_WITH_GLITCHES, SAVING_ZERO_SAME_OPERANDS,
};
use crate::accuracy::Scale;
use crate::plots::{short, Figure, Line, Lines, Panel};
use crate::report::emit::first_per_format;
use crate::report::energy::{gate_source, Energy, EnergyJob, TABLE_SOURCE};
use crate::report::{Claim, ReportOpts};
use crate::table::{
    capitalize, cell_str, distinct_u64, fnum, md_head, md_row, one, one_text, opt_pct, opt_short,
    pct, provenance_md, rows,
};
use crate::Table;
use pelab_sim::{Error, Result};
use pelab_testbench::codec::Shape;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The PEs the paper compares: L-Mul and the exact multiply.
const LMUL: &str = "lmul";
const FPMUL: &str = "fpmul";
/// Formats of the energy claims (the paper's 8-, 16- and 32-bit formats).
const CLAIM_FORMATS: [&str; 5] = ["e4m3", "e5m2", "bf16", "fp16", "fp32"];
/// Length of the dot products of the energy claims.
pub(crate) const DOT_K: u64 = 4096;
/// The paper's element-wise and dot-product energy savings.
const PAPER_ELEM_SAVING: f64 = 0.95;
const PAPER_DOT_SAVING: f64 = 0.80;
/// A saving within this many percentage points of the paper's (or above it) reproduces it.
const SAVING_TOLERANCE: f64 = 0.05;
/// The energy-saving table.
const SAVINGS: &str = "energy_lmul_saving";
/// The scalings the study runs with, as the `scale` column names them, and as the claims word
/// them.
const SCALES: [(&str, &str); 2] = [("none", "unscaled"), ("amax", "amax-scaled")];

/// How one L-Mul figure compares with its FP8 baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Holds,
    Roughly,
    Fails,
    Unmeasured,
}

impl Verdict {
    /// "About as precise": an error at most this fraction above the baseline's.
    const ROUGHLY: f64 = 0.10;

    /// L-Mul's error `l` against the baseline's `b`: strictly below (`strict`), or at most,
    /// or (not strict) within 10% above it.
    fn judge(l: Option<f64>, b: Option<f64>, strict: bool) -> (Verdict, Option<f64>) {
        match (l, b) {
            (Some(l), Some(b)) if b > 0.0 => {
                let v = if (strict && l < b) || (!strict && l <= b) {
                    Verdict::Holds
                } else if !strict && l <= (1.0 + Self::ROUGHLY) * b {
                    Verdict::Roughly
                } else {
                    Verdict::Fails
                };
                (v, Some(l / b))
            }
            _ => (Verdict::Unmeasured, None),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Roughly => "holds roughly (within 10%)",
            Verdict::Fails => "does not hold",
            Verdict::Unmeasured => "is not measured",
        }
    }
}

/// The L-Mul study.
pub(crate) struct LMul;

impl Study for LMul {
    fn name(&self) -> &'static str {
        "lmul"
    }

    fn paper(&self) -> &'static str {
        "L-Mul (Addition is All You Need)"
    }

    fn meaning(&self, claims: &[Claim]) -> [String; 2] {
        // Precision against amax-scaled FP8, where the exponent range is not in play.
        let ratio = |m: &str, base: &str, conv: &str| {
            let l = figure(
                claims,
                &format!("{m} vs {base}"),
                &format!("lmul_{m}_{conv}_amax"),
            );
            let b = figure(
                claims,
                &format!("{m} vs {base}"),
                &format!("{base}_rne_amax"),
            );
            l.zip(b).filter(|(_, b)| *b > 0.0).map(|(l, b)| l / b)
        };
        let x = |r: Option<f64>| r.map_or("no figure".into(), |r| format!("{}x", short(r)));
        let r4 = [ratio("e8m4", "e4m3", "rne"), ratio("e8m4", "e4m3", "rtz")];
        let r3 = [ratio("e8m3", "e5m2", "rne"), ratio("e8m3", "e5m2", "rtz")];
        let ok4 = r4.map(|r| r.map(|r| r <= 1.0 + Verdict::ROUGHLY));
        let ok3 = r3.map(|r| r.map(|r| r < 1.0));
        let conclusion = match (ok4, ok3) {
            ([Some(true), Some(true)], [Some(true), Some(true)]) => {
                "L-Mul keeps FP8's precision whichever way its inputs are rounded"
            }
            ([Some(false), Some(true)], [_, Some(true)]) => {
                "the precision claim holds when inputs are truncated (RTZ) and not for e8m4 when \
                 they are rounded to nearest"
            }
            _ if ok4.iter().chain(&ok3).any(|o| *o == Some(false)) => {
                "the precision claim does not hold in every case measured"
            }
            _ => "not every case was measured",
        };
        let line1 = format!(
            "Precision: against amax-scaled FP8, L-Mul e8m4's error is {} (RNE inputs) and {} \
             (RTZ inputs) e4m3's, and e8m3's is {} and {} e5m2's: {conclusion}.",
            x(r4[0]),
            x(r4[1]),
            x(r3[0]),
            x(r3[1])
        );
        let range = |what: &str, paper: f64| match figure_range(claims, what, "gate_level_saving") {
            Some((a, b)) if a == b => format!("{} (paper: {})", pct(a), pct(paper)),
            Some((a, b)) => format!("{} to {} (paper: {})", pct(a), pct(b), pct(paper)),
            None => format!("no gate-level figure (paper: {})", pct(paper)),
        };
        let low = |what: &str, paper: f64| {
            figure_range(claims, what, "gate_level_saving")
                .map(|(a, _)| a >= paper - SAVING_TOLERANCE)
        };
        let energy = match (
            low("element-wise", PAPER_ELEM_SAVING),
            low("dot-product", PAPER_DOT_SAVING),
        ) {
            (Some(true), Some(true)) => "both savings reproduce",
            (Some(true), Some(false)) => {
                "the multiply saving reproduces, but accumulation dilutes it more than the paper \
                 says"
            }
            (Some(false), _) | (_, Some(false)) => {
                "the saving is real but smaller than the paper's table-based figures"
            }
            _ => "no gate-level energy was measured in this run",
        };
        let line2 = format!(
            "Energy: at gate level, over the formats measured, L-Mul saves {} of the float \
             multiply's energy, and {} of a multiply with FP32 accumulation in dot products: {energy}.",
            range("element-wise", PAPER_ELEM_SAVING),
            range("dot-product", PAPER_DOT_SAVING)
        );
        [line1, line2]
    }

    /// The accuracy tables run unscaled and with amax scaling, merged: the rows of both (the
    /// `scale` column tells them apart) and the provenance lines of both.
    fn run(&self, o: &ReportOpts) -> Result<Vec<Table>> {
        let mut tables = accuracy_tables(self.name(), o, Scale::None)?;
        let scaled = accuracy_tables(self.name(), o, Scale::Amax)?;
        if tables.len() != scaled.len() {
            return Err(Error::new("the scaled lmul study gave other tables"));
        }
        for (t, u) in tables.iter_mut().zip(scaled) {
            if t.name != u.name || t.columns != u.columns {
                return Err(Error::new(format!(
                    "the scaled lmul study's table {} does not match {}",
                    u.name, t.name
                )));
            }
            t.rows.extend(u.rows);
            // The scaled run's own lines (its scale line) go after the unscaled scale line.
            let mut at = t
                .provenance
                .iter()
                .position(|p| p.starts_with("scale:"))
                .map_or(t.provenance.len(), |i| i + 1);
            for p in u.provenance {
                if !t.provenance.contains(&p) {
                    t.provenance.insert(at, p);
                    at += 1;
                }
            }
        }
        Ok(tables)
    }

    /// The dot products of the energy claims: each multiplier with the FP32 accumulator.
    fn energy_jobs(&self) -> Result<Vec<EnergyJob>> {
        let mut jobs = Vec::new();
        for id in [LMUL, FPMUL] {
            let pe = pelab_testbench::pe(id)?;
            for cfg in first_per_format(pe.rtl) {
                if CLAIM_FORMATS.contains(&cfg.format.as_str()) {
                    jobs.push(EnergyJob {
                        pe,
                        cfg,
                        shape: Shape::Dot { k: DOT_K },
                    });
                }
            }
        }
        Ok(jobs)
    }

    /// The energy saving per format, workload and estimator.
    fn energy_tables(&self, o: &ReportOpts, e: &[Energy]) -> Result<Vec<Table>> {
        let mut t = Table::new(
            "energy_lmul_saving",
            "L-Mul's energy saving over the exact multiply: 1 - E(lmul) / E(fpmul), per format, \
             workload and estimator",
            &[
                "format",
                "workload",
                "estimator",
                "lmul_pj",
                "fpmul_pj",
                "saving",
                "paper_saving",
                "note",
            ],
        );
        for shape in [Shape::Elementwise, Shape::Dot { k: DOT_K }] {
            for f in CLAIM_FORMATS {
                let get = |pe: &str| {
                    e.iter()
                        .find(|r| r.pe.id() == pe && r.cfg.format == f && r.shape == shape)
                };
                let (l, x) = (get(LMUL), get(FPMUL));
                let paper = if shape == Shape::Elementwise {
                    PAPER_ELEM_SAVING
                } else {
                    PAPER_DOT_SAVING
                };
                for est in ["gate level", "table"] {
                    // The figure of one side, or why there is none.
                    let pick = |r: Option<&Energy>| -> std::result::Result<f64, String> {
                        let r = r.ok_or_else(|| "not measured".to_string())?;
                        if est == "gate level" {
                            r.m.as_ref().map(|m| m.total_pj).map_err(|e| e.clone())
                        } else {
                            r.table.energy_pj.ok_or_else(|| r.table.detail.clone())
                        }
                    };
                    let (a, b) = (pick(l), pick(x));
                    let note = match (&a, &b) {
                        (Err(e), _) | (_, Err(e)) => e.clone(),
                        _ => String::new(),
                    };
                    let (a, b) = (a.ok(), b.ok());
                    let saving = match (a, b) {
                        (Some(a), Some(b)) if b > 0.0 => fnum(1.0 - a / b),
                        _ => Value::Null,
                    };
                    t.push(vec![
                        json!(f),
                        json!(shape.to_string()),
                        json!(est),
                        a.map_or(Value::Null, fnum),
                        b.map_or(Value::Null, fnum),
                        saving,
                        json!(paper),
                        json!(note),
                    ])?;
                }
            }
        }
        t.provenance = vec![
            gate_source(o),
            TABLE_SOURCE.into(),
            format!(
                "elementwise: one multiply; dot:{DOT_K}: a multiply plus the FP32 accumulation \
                 (fp32acc at gate level, fp_add 32 in the table)"
            ),
            "lmul with its default overflow policy (saturate), fpmul with its default (ieee); \
             pipeline 0"
                .into(),
            pelab_sim::energy::GLITCH_CAVEAT.into(),
        ];
        Ok(vec![t])
    }

    fn claims(&self, o: &ReportOpts, x: &Results) -> Result<Vec<Claim>> {
        let mut v = Vec::new();
        let el = x.table("lmul_elementwise")?;
        let get = |method: &str, fmt: &str, conv: &str, scale: &str, col: &str| {
            one(
                el,
                &[
                    ("method", method),
                    ("format", fmt),
                    ("conversion", conv),
                    ("scale", scale),
                ],
                col,
            )
        };
        let err = |method: &str, fmt: &str, conv: &str, scale: &str| {
            get(method, fmt, conv, scale, "mean_abs_rel_err")
        };
        for (m, base, paper, strict) in [
            (
                "e8m4",
                "e4m3",
                "L-Mul with a 4-bit mantissa is about as precise as float8 e4m3 multiplication",
                false,
            ),
            (
                "e8m3",
                "e5m2",
                "L-Mul with a 3-bit mantissa is more precise than float8 e5m2 multiplication",
                true,
            ),
        ] {
            let mut figures = BTreeMap::new();
            let mut meas = Vec::new();
            let mut verdicts = Vec::new();
            let b = [
                err(FPMUL, base, "rne", "none")?,
                err(FPMUL, base, "rne", "amax")?,
            ];
            let scale = |col: &str| get(FPMUL, base, "rne", "amax", col);
            let (sx, sy) = (scale("scale_x_log2")?, scale("scale_y_log2")?);
            for conv in ["rne", "rtz"] {
                let c = conv.to_uppercase();
                let l = [err(LMUL, m, conv, "none")?, err(LMUL, m, conv, "amax")?];
                for (i, (sc, _)) in SCALES.iter().enumerate() {
                    figures.insert(format!("lmul_{m}_{conv}_{sc}"), l[i]);
                }
                // The same figure up to the last bits of a parallel sum reads as one.
                meas.push(if opt_pct(l[0]) == opt_pct(l[1]) {
                    format!(
                        "L-Mul {m}, {c} inputs: {} (unscaled and amax-scaled alike)",
                        opt_pct(l[0])
                    )
                } else {
                    format!(
                        "L-Mul {m}, {c} inputs: unscaled {}, amax-scaled {}",
                        opt_pct(l[0]),
                        opt_pct(l[1])
                    )
                });
                let j = [0, 1].map(|i| Verdict::judge(l[i], b[i], strict));
                let ratio =
                    |r: Option<f64>| r.map_or("no figure".into(), |r| format!("{}x", short(r)));
                verdicts.push(if j[0].0 == j[1].0 {
                    format!(
                        "{} with {c} inputs, unscaled and amax-scaled (L-Mul's error is {} and {} \
                         {base}'s)",
                        j[0].0.words(),
                        ratio(j[0].1),
                        ratio(j[1].1)
                    )
                } else {
                    format!(
                        "with {c} inputs it {} against amax-scaled {base} ({}) and {} against \
                         unscaled {base} ({})",
                        j[1].0.words(),
                        ratio(j[1].1),
                        j[0].0.words(),
                        ratio(j[0].1)
                    )
                });
            }
            for (i, (sc, _)) in SCALES.iter().enumerate() {
                figures.insert(format!("{base}_rne_{sc}"), b[i]);
            }
            figures.insert(format!("{base}_amax_scale_x_log2"), sx);
            figures.insert(format!("{base}_amax_scale_y_log2"), sy);
            let pow = |s: Option<f64>| s.map_or("2^?".into(), |s| format!("2^{s}"));
            meas.push(format!(
                "exact {base} multiply (RNE inputs): unscaled {}, amax-scaled {} (x times {}, \
                 y times {})",
                opt_pct(b[0]),
                opt_pct(b[1]),
                pow(sx),
                pow(sy)
            ));
            v.push(Claim {
                claim: format!("L-Mul {m} vs {base} multiply (accuracy)"),
                paper: paper.into(),
                pelab: format!("mean relative error: {}", meas.join("; ")),
                source: format!(
                    "{}; error against the exact product of the real values; amax: each tensor \
                     times the largest power of two keeping its products finite",
                    study_source(el)
                ),
                verdict: capitalize(&verdicts.join("; ")),
                figures,
            });
        }

        // L-Mul energy, per workload and format.
        let savings = x.table(SAVINGS)?;
        for (shape, paper) in [
            (Shape::Elementwise, PAPER_ELEM_SAVING),
            (Shape::Dot { k: DOT_K }, PAPER_DOT_SAVING),
        ] {
            let wl = shape.to_string();
            for f in CLAIM_FORMATS {
                let want = |est: &'static str| {
                    [("format", f), ("workload", wl.as_str()), ("estimator", est)]
                };
                let get = |est: &'static str, col: &str| one(savings, &want(est), col);
                let (gs, gl, gx) = (
                    get("gate level", "saving")?,
                    get("gate level", "lmul_pj")?,
                    get("gate level", "fpmul_pj")?,
                );
                let (ts, tl, tx) = (
                    get("table", "saving")?,
                    get("table", "lmul_pj")?,
                    get("table", "fpmul_pj")?,
                );
                // Why an estimator has no figure, from the saving table's note.
                let why = |est: &'static str| -> Result<String> {
                    Ok(one_text(savings, &want(est), "note")?.unwrap_or_default())
                };
                let pj =
                    |x: Option<f64>| x.map_or("no figure".into(), |x| format!("{} pJ", short(x)));
                let mut meas = match gs {
                    Some(gs) => format!("gate level {} ({} vs {})", pct(gs), pj(gl), pj(gx)),
                    None => format!("gate level: no figure ({})", why("gate level")?),
                };
                meas.push_str(&match ts {
                    Some(ts) => format!("; table {} ({} vs {})", pct(ts), pj(tl), pj(tx)),
                    None => format!("; table: no figure ({})", why("table")?),
                });
                let holds = |x: f64| x >= paper - SAVING_TOLERANCE;
                let gate_v = match gs {
                    Some(g) if holds(g) => format!("holds at gate level ({})", pct(g)),
                    Some(g) => format!(
                        "not reproduced at gate level: {} instead of {}",
                        pct(g),
                        pct(paper)
                    ),
                    None => format!("not measured at gate level ({})", why("gate level")?),
                };
                let table_v = match ts {
                    Some(t) if holds(t) => format!("the table method gives it ({})", pct(t)),
                    Some(t) => format!("the table method gives {}", pct(t)),
                    None => format!("the table method has no figure ({})", why("table")?),
                };
                let what = if shape == Shape::Elementwise {
                    "element-wise"
                } else {
                    "dot-product"
                };
                let mut figures = BTreeMap::from([
                    ("gate_level_saving".to_string(), gs),
                    ("table_saving".to_string(), ts),
                    ("paper_saving".to_string(), Some(paper)),
                ]);
                let mut source = format!(
                    "energy_lmul_saving.csv ({wl}): {}; {TABLE_SOURCE}",
                    gate_source(o)
                );
                // The "with glitches" column: the timing study's unit-delay saving, measured
                // element-wise in its formats.
                if shape == Shape::Elementwise {
                    let g = timing::lmul_glitch_saving(x, f)?;
                    figures.insert(SAVING_WITH_GLITCHES.into(), g.as_ref().and_then(|g| g.unit));
                    if let Some(g) = g {
                        figures.insert(SAVING_ZERO_SAME_OPERANDS.into(), g.zero);
                        source.push_str(&format!(
                            "; with glitches: {}",
                            timing::glitch_saving_source(o)
                        ));
                        if g.unit.is_none() {
                            source.push_str(&format!(" (no figure with glitches: {})", g.note));
                        }
                    }
                }
                v.push(Claim {
                    claim: format!("L-Mul {what} energy saving, {f}"),
                    paper: format!(
                        "{} less energy than the float multiply{} (Horowitz's 45 nm table)",
                        pct(paper),
                        if shape == Shape::Elementwise {
                            ""
                        } else {
                            " in dot products with FP32 accumulation"
                        }
                    ),
                    pelab: meas,
                    source,
                    verdict: capitalize(&format!("{gate_v}; {table_v}")),
                    figures,
                });
            }
        }

        Ok(v)
    }

    fn figures(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Figure>> {
        let mut v = Vec::new();
        let el = x.table("lmul_elementwise")?;
        let mut lines = Vec::new();
        for (k, (method, conv, name, dashed)) in [
            (LMUL, "rne", "L-Mul e8mM, RNE inputs", false),
            (LMUL, "rtz", "L-Mul e8mM, RTZ inputs", true),
            (FPMUL, "rne", "exact multiply e8mM, RNE inputs", false),
            (FPMUL, "rtz", "exact multiply e8mM, RTZ inputs", true),
        ]
        .into_iter()
        .enumerate()
        {
            let mut pts = Vec::new();
            for m in 1..=7 {
                if let Some(y) = one(
                    el,
                    &[
                        ("method", method),
                        ("format", &format!("e8m{m}")),
                        ("conversion", conv),
                        ("scale", "none"),
                    ],
                    "mean_abs_rel_err",
                )? {
                    pts.push((m as f64, y * 100.0));
                }
            }
            lines.push(Line {
                name: name.into(),
                points: pts,
                dashed,
                color: k / 2,
                markers: true,
                legend: true,
            });
        }
        for (i, (fmt, m, sc, how)) in [
            ("e4m3", 3.0, "none", "unscaled"),
            ("e5m2", 2.0, "none", "unscaled"),
            ("e4m3", 3.0, "amax", "amax-scaled"),
            ("e5m2", 2.0, "amax", "amax-scaled"),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(y) = one(
                el,
                &[
                    ("method", FPMUL),
                    ("format", fmt),
                    ("conversion", "rne"),
                    ("scale", sc),
                ],
                "mean_abs_rel_err",
            )? {
                lines.push(Line {
                    name: format!("exact {fmt} multiply, {how} (at M = {m}; dashed: its level)"),
                    points: vec![(m, y * 100.0)],
                    dashed: false,
                    color: 2 + i,
                    markers: true,
                    legend: true,
                });
                lines.push(Line {
                    name: format!("{fmt} {how} level"),
                    points: vec![(1.0, y * 100.0), (7.0, y * 100.0)],
                    dashed: true,
                    color: 2 + i,
                    markers: false,
                    legend: false,
                });
            }
        }
        v.push(Figure {
            stem: "lmul_error".into(),
            panels: vec![Panel::Lines(Lines {
                title: "L-Mul error vs mantissa bits, beside the FP8 multiplies".into(),
                x_axis: "mantissa bits M (format e8mM: 8 exponent bits; e4m3 has 3, e5m2 has 2)"
                    .into(),
                y_axis: "mean relative error (%, log scale)".into(),
                lines,
                log_x: false,
                log_y: true,
                x_ticks: Some((1..=7).map(|m| (m as f64, m.to_string())).collect()),
                y_range: None,
            })],
            notes: vec![
                format!("Source: {}", study_source(el)),
                "Error against the exact product of the real values (conversion of the inputs \
                 included); reference models pelab_sim::lmul and pelab_sim::fpmul. The e8mM \
                 lines are unscaled; amax-scaled FP8: each tensor times the largest power of \
                 two whose products stay finite (docs/accuracy.md)."
                    .into(),
            ],
            width: 1200,
        });

        Ok(v)
    }

    fn energy_markdown(&self, _o: &ReportOpts, x: &Results) -> Result<String> {
        let mut s = String::new();
        s.push_str("### L-Mul's saving over the exact multiply\n\n");
        s.push_str(&md_head(&[
            "format",
            "workload",
            "estimator",
            "lmul pJ",
            "fpmul pJ",
            "saving",
            "paper",
        ]));
        let t = x.table(SAVINGS)?;
        for r in &t.rows {
            let g = |c: &str| -> Result<Option<f64>> { Ok(r[t.col(c)?].as_f64()) };
            s.push_str(&md_row(&[
                cell_str(&r[t.col("format")?]),
                cell_str(&r[t.col("workload")?]),
                cell_str(&r[t.col("estimator")?]),
                opt_short(g("lmul_pj")?),
                opt_short(g("fpmul_pj")?),
                g("saving")?.map_or_else(
                    || format!("no figure ({})", cell_str(&r[t.col("note").unwrap_or(0)])),
                    pct,
                ),
                opt_pct(g("paper_saving")?),
            ]));
        }
        s.push_str("\nData: `energy_lmul_saving.csv`.\n\n");
        Ok(s)
    }

    fn markdown(&self, _o: &ReportOpts, x: &Results) -> Result<String> {
        let mut s = String::new();
        let el = x.table("lmul_elementwise")?;
        s.push_str("### L-Mul, element-wise (mean relative error of the product)\n\n");
        s.push_str(&md_head(&[
            "format",
            "mantissa bits",
            "L-Mul RNE",
            "L-Mul RTZ",
            "exact RNE",
            "exact RTZ",
            "exact RNE, amax-scaled",
            "amax scales (x, y)",
            "exact RNE flushed to 0 (unscaled, amax)",
        ]));
        let mut fmts: Vec<String> = Vec::new();
        for r in &el.rows {
            let f = cell_str(&r[el.col("format")?]);
            if !fmts.contains(&f) {
                fmts.push(f);
            }
        }
        // Whether amax scaling changed any L-Mul figure.
        let mut lmul_same = true;
        for f in &fmts {
            let cell = |m: &str, c: &str, sc: &str, col: &str| {
                one(
                    el,
                    &[
                        ("method", m),
                        ("format", f),
                        ("conversion", c),
                        ("scale", sc),
                    ],
                    col,
                )
            };
            let es = |m: &str, c: &str, sc: &str| -> Result<String> {
                Ok(opt_pct(cell(m, c, sc, "mean_abs_rel_err")?)).map(|v| {
                    if v == "no figure" {
                        "—".into()
                    } else {
                        v
                    }
                })
            };
            let e = |m: &str, c: &str| es(m, c, "none");
            for c in ["rne", "rtz"] {
                let l = |sc| cell(LMUL, c, sc, "mean_abs_rel_err");
                // Equal up to the last bits of a parallel sum.
                lmul_same &= match (l("none")?, l("amax")?) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
                    (a, b) => a == b,
                };
            }
            let int = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v}"));
            let scales = match (
                cell(FPMUL, "rne", "amax", "scale_x_log2")?,
                cell(FPMUL, "rne", "amax", "scale_y_log2")?,
            ) {
                (Some(a), Some(b)) => format!("2^{a}, 2^{b}"),
                _ => "—".into(),
            };
            let mb = rows(el, &[("format", f)])?
                .first()
                .map(|r| cell_str(&r[el.col("mantissa_bits").unwrap_or(0)]))
                .unwrap_or_default();
            s.push_str(&md_row(&[
                f.clone(),
                mb,
                e(LMUL, "rne")?,
                e(LMUL, "rtz")?,
                e(FPMUL, "rne")?,
                e(FPMUL, "rtz")?,
                es(FPMUL, "rne", "amax")?,
                scales,
                format!(
                    "{}, {}",
                    int(cell(FPMUL, "rne", "none", "flushed_to_zero")?),
                    int(cell(FPMUL, "rne", "amax", "flushed_to_zero")?)
                ),
            ]));
        }
        s.push_str(&format!(
            "\nUnscaled columns unless marked. amax scaling multiplies each tensor (all x, all y) by \
             the largest power of two whose products stay finite in the format and divides the \
             result by both scales; {}. Flushed to 0: pairs whose product is not 0 but whose \
             result is.\n",
            if lmul_same {
                "L-Mul's figures are the same with it (lmul_elementwise.csv has both)"
            } else {
                "some of L-Mul's figures change with it (lmul_elementwise.csv has both)"
            }
        ));
        s.push_str(&provenance_md(el));
        s.push_str("Plot: `lmul_error.png`, `lmul_error.svg`.\n\n");

        let dot = x.table("lmul_dot")?;
        let kc = dot.col("k")?;
        let ks = distinct_u64(dot, kc);
        if let Some(&k) = ks.last() {
            s.push_str(&format!(
                "### L-Mul in dot products of length {k} (FP32 accumulation; mean |dot - exact| / (|a| |b|))\n\n"
            ));
            s.push_str(&md_head(&[
                "format",
                "L-Mul RNE",
                "L-Mul RTZ",
                "exact RNE",
                "exact RTZ",
                "exact RNE, amax-scaled",
            ]));
            let ks = k.to_string();
            for f in &fmts {
                let es = |m: &str, c: &str, sc: &str| -> Result<String> {
                    Ok(opt_short(one(
                        dot,
                        &[
                            ("method", m),
                            ("format", f),
                            ("conversion", c),
                            ("k", &ks),
                            ("scale", sc),
                        ],
                        "mean_norm_err",
                    )?))
                };
                let e = |m: &str, c: &str| es(m, c, "none");
                s.push_str(&md_row(&[
                    f.clone(),
                    e(LMUL, "rne")?,
                    e(LMUL, "rtz")?,
                    e(FPMUL, "rne")?,
                    e(FPMUL, "rtz")?,
                    es(FPMUL, "rne", "amax")?,
                ]));
            }
            s.push_str(&provenance_md(dot));
        }

        Ok(s)
    }
}
