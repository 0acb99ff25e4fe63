//! Dynamic Fixed Point (Das et al., ICLR 2018): DFP-16 quantization error, and how often the
//! INT32 chunk sums overflow against headroom and chunk length.

use super::{study_source, Results, Study};
use crate::plots::{Figure, Line, Lines, Panel};
use crate::report::{Claim, ReportOpts};
use crate::table::{
    cell_str, cols, distinct_u64, md_head, md_row, md_table, one, opt_pct, opt_short,
    provenance_md, Shown,
};
use pelab_sim::Result;

/// The DFP study.
pub(crate) struct Dfp;

impl Study for Dfp {
    fn name(&self) -> &'static str {
        "dfp"
    }

    fn paper(&self) -> &'static str {
        "Dynamic Fixed Point (ICLR 2018)"
    }

    fn meaning(&self, claims: &[Claim]) -> [String; 2] {
        // (headroom, chunk, fraction) from the figure names `overflow_h{h}_k{c}`.
        let mut pts: Vec<(u64, u64, f64)> = claims
            .iter()
            .flat_map(|c| &c.figures)
            .filter_map(|(k, v)| {
                let (h, c) = k.strip_prefix("overflow_h")?.split_once("_k")?;
                Some((h.parse().ok()?, c.parse().ok()?, (*v)?))
            })
            .collect();
        pts.sort_by_key(|p| (p.0, p.1));
        let (Some(&(h_lo, _, _)), Some(&(h_hi, _, _))) = (pts.first(), pts.last()) else {
            return [
                "Overflow: not measured in this run.".into(),
                "No conclusion on chunk length and headroom.".into(),
            ];
        };
        let longest = pts.iter().map(|p| p.1).max().unwrap_or(0);
        let at = |h: u64, c: u64| pts.iter().find(|p| p.0 == h && p.1 == c).map(|p| p.2);
        let line1 = format!(
            "Overflow: in chunks of {longest} INT16 products the INT32 sum left its range in {} of \
             chunks at headroom {h_lo} and {} at headroom {h_hi}.",
            opt_pct(at(h_lo, longest)),
            opt_pct(at(h_hi, longest))
        );
        // The longest chunk that never overflowed, per headroom; equal answers of consecutive
        // headrooms are said once.
        let heads: Vec<u64> = pts
            .iter()
            .map(|p| p.0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let safe_chunk = |h: u64| {
            pts.iter()
                .filter(|p| p.0 == h)
                .take_while(|p| p.2 == 0.0)
                .map(|p| p.1)
                .last()
        };
        let mut groups: Vec<(u64, u64, Option<u64>)> = Vec::new();
        for h in heads {
            let c = safe_chunk(h);
            match groups.last_mut() {
                Some(g) if g.2 == c => g.1 = h,
                _ => groups.push((h, h, c)),
            }
        }
        let safe: Vec<String> = groups
            .iter()
            .map(|&(a, b, c)| {
                let hs = if a == b {
                    format!("headroom {a}")
                } else {
                    format!("headroom {a} to {b}")
                };
                match c {
                    Some(c) if c == longest => format!("{hs}, every chunk length (up to {c})"),
                    Some(c) => format!("{hs}, chunks up to {c}"),
                    None => format!("{hs}, none of the chunk lengths"),
                }
            })
            .collect();
        let line2 = format!(
            "So INT32 accumulation of INT16 products needs short chunks or headroom bits; no chunk \
             overflowed with {} (Gaussian data).",
            safe.join("; ")
        );
        [line1, line2]
    }

    fn claims(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Claim>> {
        let mut v = Vec::new();
        let ov = x.table("dfp_overflow")?;
        let frac = |chunk: usize, h: u32| {
            one(
                ov,
                &[
                    ("chunk", &chunk.to_string()),
                    ("headroom", &h.to_string()),
                    ("mode", "wrap"),
                ],
                "overflow_fraction",
            )
        };
        let [ci, hi, mi, fi] = cols(ov, ["chunk", "headroom", "mode", "overflow_fraction"])?;
        let chunks = distinct_u64(ov, ci);
        let heads = distinct_u64(ov, hi);
        let get = |c: u64, h: u64, m: &str| {
            ov.rows
                .iter()
                .find(|r| {
                    r[ci].as_u64() == Some(c) && r[hi].as_u64() == Some(h) && cell_str(&r[mi]) == m
                })
                .and_then(|r| r[fi].as_f64())
        };
        let mut by_headroom = true;
        let mut by_chunk = true;
        for m in ["wrap", "saturate"] {
            for &c in &chunks {
                for w in heads.windows(2) {
                    if let (Some(a), Some(b)) = (get(c, w[0], m), get(c, w[1], m)) {
                        by_headroom &= b <= a;
                    }
                }
            }
            for &h in &heads {
                for w in chunks.windows(2) {
                    if let (Some(a), Some(b)) = (get(w[0], h, m), get(w[1], h, m)) {
                        by_chunk &= a <= b;
                    }
                }
            }
        }
        let longest = chunks.last().copied().unwrap_or(4096) as usize;
        let shortest = chunks.first().copied().unwrap_or(64) as usize;
        let at_long: Vec<String> = heads
            .iter()
            .map(|&h| {
                Ok(format!(
                    "headroom {h}: {}",
                    opt_pct(frac(longest, h as u32)?)
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let h0 = heads.first().copied().unwrap_or(0) as u32;
        let any_over = ov
            .rows
            .iter()
            .any(|r| r[fi].as_f64().is_some_and(|x| x > 0.0));
        let verdict = match (by_headroom, by_chunk, any_over) {
            (_, _, false) => {
                "Holds trivially: no chunk overflowed at any headroom or chunk length \
                              with these values"
                    .to_string()
            }
            (true, true, _) => "Holds: the overflow fraction never grows with more headroom and \
                                never shrinks with longer chunks"
                .into(),
            (false, true, _) => "Partly: longer chunks overflow more, but more headroom does not \
                                 always overflow less"
                .into(),
            (true, false, _) => "Partly: more headroom overflows less, but longer chunks do not \
                                 always overflow more"
                .into(),
            (false, false, _) => {
                "Does not hold: the overflow fraction is not monotone in headroom \
                                  or chunk length"
                    .into()
            }
        };
        v.push(Claim {
            claim: "DFP-16 INT32 chunk overflow vs headroom and chunk length".into(),
            paper: "Dynamic Fixed Point (Das et al., ICLR 2018; libxsmm uses headroom 2): INT16 \
                    products accumulate in INT32 over chunks converted to FP32; headroom bits and \
                    short chunks keep the INT32 sums from overflowing"
                .into(),
            pelab: format!(
                "chunks of {longest} whose exact sum left INT32: {}; headroom {h0}, chunk \
                 {shortest}: {}",
                at_long.join(", "),
                opt_pct(frac(shortest, h0)?)
            ),
            source: study_source(ov),
            verdict,
            figures: heads
                .iter()
                .flat_map(|&h| {
                    chunks
                        .iter()
                        .map(move |&c| (format!("overflow_h{h}_k{c}"), get(c, h, "wrap")))
                })
                .collect(),
        });
        Ok(v)
    }

    fn figures(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Figure>> {
        let mut v = Vec::new();
        let ov = x.table("dfp_overflow")?;
        let [ci, hi, mi, fi, ei] = cols(
            ov,
            [
                "chunk",
                "headroom",
                "mode",
                "overflow_fraction",
                "mean_norm_err",
            ],
        )?;
        let heads = distinct_u64(ov, hi);
        let chunks = distinct_u64(ov, ci);
        let series = |mode: &str, col: usize, scale: f64| -> Vec<Line> {
            heads
                .iter()
                .enumerate()
                .map(|(k, &h)| Line {
                    name: format!("headroom {h}"),
                    points: ov
                        .rows
                        .iter()
                        .filter(|r| r[hi].as_u64() == Some(h) && cell_str(&r[mi]) == mode)
                        .filter_map(|r| Some((r[ci].as_u64()? as f64, r[col].as_f64()? * scale)))
                        .collect(),
                    dashed: false,
                    color: k,
                    markers: true,
                    legend: true,
                })
                .collect()
        };
        let ticks: Vec<(f64, String)> = chunks.iter().map(|&c| (c as f64, c.to_string())).collect();
        let over = series("wrap", fi, 100.0);
        let flat: Vec<String> = over
            .iter()
            .filter(|l| l.points.iter().all(|p| p.1 == 0.0))
            .map(|l| l.name.clone())
            .collect();
        let mut err_lines = series("saturate", ei, 1.0);
        for mut l in series("wrap", ei, 1.0) {
            l.dashed = true;
            l.legend = false;
            err_lines.push(l);
        }
        for (name, dashed) in [
            ("solid: VPDPWSSDS (saturate)", false),
            ("dashed: VPDPWSSD (wrap)", true),
        ] {
            err_lines.push(Line {
                name: name.into(),
                points: Vec::new(),
                dashed,
                color: 6,
                markers: false,
                legend: true,
            });
        }
        let mut notes = vec![
            format!("Source: {}", study_source(ov)),
            "Reference model pelab_sim::int16fma::dfp: shared exponent per vector of 4096, scf = 15 \
             - headroom - e; chunks summed in INT32, converted to FP32."
                .into(),
        ];
        if !flat.is_empty() {
            notes.push(format!(
                "Left: {} overflow in no chunk at any length (their lines lie on 0 and overlap).",
                flat.join(", ")
            ));
        }
        v.push(Figure {
            stem: "dfp_overflow".into(),
            panels: vec![
                Panel::Lines(Lines {
                    title: "DFP-16: INT32 chunk overflow vs chunk length".into(),
                    x_axis: "chunk length (products per INT32 sum, log scale)".into(),
                    y_axis: "chunks overflowing INT32 (%)".into(),
                    lines: over,
                    log_x: true,
                    log_y: false,
                    x_ticks: Some(ticks.clone()),
                    y_range: Some((0.0, 100.0)),
                }),
                Panel::Lines(Lines {
                    title: "DFP-16: dot-product error vs chunk length".into(),
                    x_axis: "chunk length (products per INT32 sum, log scale)".into(),
                    y_axis: "mean |dot - exact| / (|a| |b|), log scale".into(),
                    lines: err_lines,
                    log_x: true,
                    log_y: true,
                    x_ticks: Some(ticks),
                    y_range: None,
                }),
            ],
            notes,
            width: 1600,
        });
        Ok(v)
    }

    fn markdown(&self, _o: &ReportOpts, x: &Results) -> Result<String> {
        let mut s = String::new();
        let qe = x.table("dfp_quant_error")?;
        s.push_str("### DFP-16 quantization and chunk overflow\n\n");
        s.push_str(&md_table(
            qe,
            &[
                ("headroom", "headroom", Shown::Text),
                ("mean error / max", "mean_abs_err_rel_max", Shown::Sci),
                ("bound / max", "bound_rel_max", Shown::Sci),
                ("SQNR dB", "sqnr_db", Shown::Fixed(1)),
                ("clamped", "clamped", Shown::Text),
            ],
        )?);
        s.push_str(&provenance_md(qe));
        let ov = x.table("dfp_overflow")?;
        let (ci, hi) = (ov.col("chunk")?, ov.col("headroom")?);
        let chunks = distinct_u64(ov, ci);
        let heads = distinct_u64(ov, hi);
        let fi = ov.col("overflow_fraction")?;
        let mi = ov.col("mode")?;
        let same = ov.rows.iter().all(|r| {
            ov.rows
                .iter()
                .all(|q| q[ci] != r[ci] || q[hi] != r[hi] || q[mi] == r[mi] || q[fi] == r[fi])
        });
        s.push_str(&format!(
            "Chunks whose exact INT32 sum overflowed ({}), by chunk length and headroom; in \
             brackets the mean dot-product error with VPDPWSSD (wrap) / VPDPWSSDS (saturate):\n\n",
            if same {
                "the same fraction in both modes"
            } else {
                "wrap mode; saturate differs, see the CSV"
            }
        ));
        let mut cols: Vec<String> = vec!["chunk".into()];
        cols.extend(heads.iter().map(|h| format!("headroom {h}")));
        let colrefs: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
        s.push_str(&md_head(&colrefs));
        for &c in &chunks {
            let mut row = vec![c.to_string()];
            for &h in &heads {
                let key = [("chunk", c.to_string()), ("headroom", h.to_string())];
                let get = |mode: &str, col: &str| {
                    one(
                        ov,
                        &[(key[0].0, &key[0].1), (key[1].0, &key[1].1), ("mode", mode)],
                        col,
                    )
                };
                row.push(format!(
                    "{} ({} / {})",
                    opt_pct(get("wrap", "overflow_fraction")?),
                    opt_short(get("wrap", "mean_norm_err")?),
                    opt_short(get("saturate", "mean_norm_err")?)
                ));
            }
            s.push_str(&md_row(&row));
        }
        s.push_str(&provenance_md(ov));
        s.push_str("Plot: `dfp_overflow.png`, `dfp_overflow.svg`.\n\n");

        Ok(s)
    }
}
