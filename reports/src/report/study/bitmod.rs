//! BitMoD (Chen et al., HPCA 2025): weight quantization error of the per-group BitMoD types
//! against plain INT and FP types, and the BitMoD PE's energy per MAC against the FP16 MAC.

use super::{figure, study_source, Results, Study};
use crate::plots::{short, BarSeries, Bars, Figure, Panel};
use crate::report::energy::gate_source;
use crate::report::{Claim, ReportOpts};
use crate::table::{cell_str, cols, md_table, one, opt_pct, pct, provenance_md, rows, Shown};
use pelab_sim::Result;
use pelab_testbench::codec::Shape;
use serde_json::Value;
use std::collections::BTreeMap;

/// The PEs of the energy claim.
const BITMOD: &str = "bitmod";
const FP16MAC: &str = "fp16mac";
/// BitMoD's published PE figures (TSMC 28 nm, 1 GHz): BitMoD PE 0.586 mW at 2 MACs per cycle,
/// FP16 MAC 0.77 mW at 1 MAC per cycle.
const BITMOD_MW: f64 = 0.586;
const BITMOD_MACS_PER_CYCLE: f64 = 2.0;
const FP16MAC_MW: f64 = 0.77;
/// A ratio within this relative distance of the authors' reproduces it.
const RATIO_TOLERANCE: f64 = 0.20;

/// The BitMoD study.
pub(crate) struct BitMod;

impl Study for BitMod {
    fn name(&self) -> &'static str {
        "bitmod"
    }

    fn paper(&self) -> &'static str {
        "BitMoD (HPCA 2025)"
    }

    fn meaning(&self, claims: &[Claim]) -> [String; 2] {
        // Each BitMoD set's MSE against the better of its two plain types.
        let gain = |set: &str, base: [&str; 2]| {
            let m = |n: &str| figure(claims, set, &format!("mse_{n}"));
            let best = m(base[0]).zip(m(base[1])).map(|(x, y)| x.min(y));
            m(set)
                .zip(best)
                .filter(|(_, b)| *b > 0.0)
                .map(|(s, b)| s / b)
        };
        let g = [
            gain("bitmod4", ["int4", "fp4"]),
            gain("bitmod3", ["int3", "fp3"]),
        ];
        let of = |r: Option<f64>| r.map_or("no figure".into(), pct);
        let what = if g.iter().all(|r| r.is_some_and(|r| r < 1.0)) {
            "choosing the datatype per group is worth its extra bits of metadata"
        } else if g.iter().any(|r| r.is_some_and(|r| r >= 1.0)) {
            "the per-group choice does not beat a plain type in every case"
        } else {
            "not every set was measured"
        };
        let line1 = format!(
            "Quantization: the BitMoD 4-bit types give {} of the weight MSE of the better of INT4 \
             and FP4, the 3-bit types {} of INT3's or FP3's: {what}.",
            of(g[0]),
            of(g[1])
        );
        let r = figure(claims, "energy", "gate_level_ratio");
        let p = figure(claims, "energy", "paper_ratio").unwrap_or(f64::NAN);
        let line2 = match r {
            Some(r) if r < 1.0 => format!(
                "Energy: a bit-serial BitMoD MAC costs {}x an FP16 MAC at gate level (authors: \
                 {}x): {}.",
                short(r),
                short(p),
                if (r - p).abs() <= RATIO_TOLERANCE * p {
                    "the authors' saving reproduces"
                } else {
                    "BitMoD's PE is the cheaper one, by a different margin than the authors'"
                }
            ),
            Some(r) => format!(
                "Energy: a bit-serial BitMoD MAC costs {}x an FP16 MAC at gate level (authors: \
                 {}x): in this measurement the BitMoD PE is not the cheaper one per MAC.",
                short(r),
                short(p)
            ),
            None => "Energy: the PEs were not measured at gate level in this run.".into(),
        };
        [line1, line2]
    }

    fn claims(&self, o: &ReportOpts, x: &Results) -> Result<Vec<Claim>> {
        let mut v = Vec::new();
        let mse = x.table("bitmod_mse")?;
        for (set, base) in [("bitmod4", ["int4", "fp4"]), ("bitmod3", ["int3", "fp3"])] {
            let m = |name: &str| one(mse, &[("set", name)], "mse");
            let b = m(set)?;
            let (x, y) = (m(base[0])?, m(base[1])?);
            let nm = |v: Option<f64>| v.map_or("no figure".into(), |v| format!("{v:.3e}"));
            let verdict = match (b, x, y) {
                (Some(b), Some(x), Some(y)) if b < x && b < y => format!(
                    "Holds: {} of {}'s MSE and {} of {}'s",
                    pct(b / x),
                    base[0],
                    pct(b / y),
                    base[1]
                ),
                (Some(b), Some(x), Some(y)) => format!(
                    "Does not hold: {set}'s MSE is {}x {}'s and {}x {}'s",
                    short(b / x),
                    base[0],
                    short(b / y),
                    base[1]
                ),
                _ => "Not measured".into(),
            };
            v.push(Claim {
                claim: format!(
                    "BitMoD {set} per-group types vs {} / {} (weight MSE)",
                    base[0], base[1]
                ),
                paper: format!(
                    "per-group choice among the BitMoD types (FP{} + extra value) quantizes weights \
                     with lower error than {} or {} alone",
                    &set[6..],
                    base[0].to_uppercase(),
                    base[1].to_uppercase()
                ),
                pelab: format!(
                    "MSE {set} {}, {} {}, {} {}",
                    nm(b),
                    base[0],
                    nm(x),
                    base[1],
                    nm(y)
                ),
                source: format!("{}; groups of 128, exact group scale", study_source(mse)),
                verdict,
                figures: BTreeMap::from([
                    (format!("mse_{set}"), b),
                    (format!("mse_{}", base[0]), x),
                    (format!("mse_{}", base[1]), y),
                ]),
            });
        }

        // BitMoD energy.
        // The gate-level measurement of `pe`, or why there is none.
        let per_mac = |pe: &str| -> std::result::Result<_, String> {
            let r = x
                .energy
                .iter()
                .find(|r| r.pe.id() == pe && r.shape == Shape::Elementwise)
                .ok_or_else(|| format!("{pe} was not measured"))?;
            r.m.as_ref().map_err(|e| e.clone())
        };
        let paper_ratio = BITMOD_MW / BITMOD_MACS_PER_CYCLE / FP16MAC_MW;
        let (b, f) = (per_mac(BITMOD), per_mac(FP16MAC));
        let ratio = match (&b, &f) {
            (Ok(b), Ok(f)) => Some(b.total_pj / f.total_pj),
            _ => None,
        };
        let (pelab, verdict) = match (b, f) {
            (Ok(b), Ok(f)) => {
                let r = b.total_pj / f.total_pj;
                let verdict = if (r - paper_ratio).abs() <= RATIO_TOLERANCE * paper_ratio {
                    format!(
                        "Holds: {} against the authors' {}",
                        short(r),
                        short(paper_ratio)
                    )
                } else if r < 1.0 {
                    format!(
                        "Partly: the BitMoD PE is cheaper per MAC than the FP16 MAC, but the ratio \
                         is {} rather than the authors' {}",
                        short(r),
                        short(paper_ratio)
                    )
                } else {
                    format!(
                        "Does not hold: the BitMoD PE costs {}x the FP16 MAC per MAC",
                        short(r)
                    )
                };
                (
                    format!(
                        "gate level: BitMoD {} pJ/MAC, FP16 MAC {} pJ/MAC, ratio {}; table: no \
                         figure (horowitz-45nm has no bit-serial PE)",
                        short(b.total_pj),
                        short(f.total_pj),
                        short(r)
                    ),
                    verdict,
                )
            }
            (Err(e), _) | (_, Err(e)) => (
                format!(
                    "gate level: no figure ({e}); table: no figure (horowitz-45nm has no \
                     bit-serial PE)"
                ),
                format!("Not measured at gate level ({e})"),
            ),
        };
        v.push(Claim {
            claim: "BitMoD PE energy per MAC vs FP16 MAC".into(),
            paper: format!(
                "BitMoD PE {BITMOD_MW} mW at {BITMOD_MACS_PER_CYCLE} MACs/cycle vs FP16 MAC \
                 {FP16MAC_MW} mW (TSMC 28 nm, 1 GHz): ratio {} per MAC",
                short(paper_ratio)
            ),
            pelab,
            source: format!(
                "energy.csv (elementwise, one MAC per operation): {}; 4-bit weights in groups of 128",
                gate_source(o)
            ),
            verdict,
            figures: BTreeMap::from([
                ("gate_level_ratio".to_string(), ratio),
                ("paper_ratio".to_string(), Some(paper_ratio)),
            ]),
        });

        Ok(v)
    }

    fn figures(&self, _o: &ReportOpts, x: &Results) -> Result<Vec<Figure>> {
        let mut v = Vec::new();
        let mse = x.table("bitmod_mse")?;
        let [si, ni, nii] = cols(mse, ["set", "nmse", "nmse_int_scale"])?;
        let bits = mse.col("bits")?;
        let mut order: Vec<&Vec<Value>> = mse.rows.iter().collect();
        order.sort_by_key(|r| r[bits].as_u64());
        v.push(Figure {
            stem: "bitmod_mse".into(),
            panels: vec![Panel::Bars(Bars {
                title: "BitMoD: weight quantization error by datatype (groups of 128)".into(),
                value_axis: "normalized MSE = MSE / mean(w²) (log scale)".into(),
                categories: order
                    .iter()
                    .map(|r| format!("{} ({}-bit)", cell_str(&r[si]), cell_str(&r[bits])))
                    .collect(),
                series: vec![
                    BarSeries {
                        name: "exact group scale".into(),
                        values: order.iter().map(|r| r[ni].as_f64()).collect(),
                    },
                    BarSeries {
                        name: "8-bit integer group scale (as the PE computes)".into(),
                        values: order.iter().map(|r| r[nii].as_f64()).collect(),
                    },
                ],
                log: true,
                value_labels: true,
                missing: "n/a".into(),
            })],
            notes: vec![
                format!("Source: {}", study_source(mse)),
                "Reference model pelab_sim::bitmod::quantize_channel; bitmodN: per-group choice \
                 among FP-N ER+/ER-/EA+/EA-."
                    .into(),
            ],
            width: 1200,
        });

        Ok(v)
    }

    fn markdown(&self, _o: &ReportOpts, x: &Results) -> Result<String> {
        let mut s = String::new();
        let mse = x.table("bitmod_mse")?;
        s.push_str("### BitMoD weight quantization\n\n");
        s.push_str(&md_table(
            mse,
            &[
                ("set", "set", Shown::Text),
                ("bits", "bits", Shown::Text),
                ("bits/weight", "bits_per_weight", Shown::Fixed(3)),
                ("MSE", "mse", Shown::Sci),
                ("normalized MSE", "nmse", Shown::Sci),
                (
                    "normalized MSE, 8-bit integer scale",
                    "nmse_int_scale",
                    Shown::Sci,
                ),
            ],
        )?);
        s.push_str(&provenance_md(mse));
        if let Ok(sh) = x.table("bitmod_type_share") {
            let mut shares = Vec::new();
            for set in ["bitmod3", "bitmod4"] {
                let parts: Vec<String> = rows(sh, &[("set", set)])?
                    .iter()
                    .map(|r| {
                        Ok(format!(
                            "{} {}",
                            cell_str(&r[sh.col("datatype")?]),
                            opt_pct(r[sh.col("share")?].as_f64())
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                if !parts.is_empty() {
                    shares.push(format!("{set}: {}", parts.join(", ")));
                }
            }
            s.push_str(&format!(
                "Share of groups per datatype: {} (`bitmod_type_share.csv`).\n\n",
                shares.join("; ")
            ));
        }
        s.push_str("Plot: `bitmod_mse.png`, `bitmod_mse.svg`.\n\n");

        Ok(s)
    }
}
