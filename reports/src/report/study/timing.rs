//! Timing: per PE the gate toggles per operation with zero delay and with unit delay (glitches
//! counted) and their ratio, the glitch factor; L-Mul's saving over fpmul with and without
//! glitches; and the achieved Fmax of every PE placed and routed on an iCE40 HX8K (nextpnr-ice40,
//! default run only).

use super::{figure, Results, Study};
use crate::plots::{short, BarSeries, Bars, Figure, Panel};
use crate::report::{parallel, Claim, ReportOpts};
use crate::table::{cell_str, fnum, md, md_head, md_row, opt_short, pct, provenance_md, Table};
use pelab_hdl::pnr::Device;
use pelab_hdl::RtlConfig;
use pelab_sim::netlist::Delay;
use pelab_sim::{Error, Result};
use pelab_testbench::codec::{Dist, Shape};
use pelab_testbench::energy::{delay_provenance, measure_with, Measurement, Request, Tech};
use pelab_testbench::Pe;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// The glitch table.
const GLITCH: &str = "glitch";
/// The saving table.
const SAVING: &str = "glitch_lmul_saving";
/// The Fmax table.
const FMAX: &str = "fmax";
/// The PEs of the glitch table: id, format, variant (empty: the PE's first).
const GLITCH_PES: [(&str, &str, &str); 7] = [
    ("lmul", "e4m3", ""),
    ("fpmul", "e4m3", ""),
    ("lmul", "bf16", ""),
    ("fpmul", "bf16", ""),
    ("fp16mac", "fp16", ""),
    ("int16fma", "int16", "mac"),
    ("bitmod", "fp16", ""),
];
/// The pipelined configurations of the Fmax table beside every PE at pipeline 0.
const FMAX_PIPELINED: [(&str, &str, &str, u32); 4] = [
    ("lmul", "e4m3", "", 1),
    ("lmul", "e4m3", "", 2),
    ("fpmul", "e4m3", "", 1),
    ("fpmul", "e4m3", "", 2),
];
/// Formats of the saving table.
pub(crate) const SAVING_FORMATS: [&str; 2] = ["e4m3", "bf16"];
/// The paper's element-wise saving (as the L-Mul study states it).
const PAPER_ELEM_SAVING: f64 = 0.95;
/// The device and nextpnr placer seed of the Fmax table.
const DEVICE: &str = "hx8k";
/// nextpnr's placer seed.
const PNR_SEED: u32 = 1;
/// Clock of the energy figures, GHz.
const FREQ_GHZ: f64 = 1.0;

/// The timing study.
pub(crate) struct Timing;

/// Operations simulated per glitch measurement: 16384, 2048 in the quick run.
pub(crate) fn glitch_ops(o: &ReportOpts) -> u64 {
    if o.quick {
        2048
    } else {
        16384
    }
}

/// The configuration of `pe` in `format` with its default policy, `variant` (the first when
/// empty) and `pipeline` register stages, as `pelab energy` / `pelab synth` resolve it.
fn config(pe: &Pe, format: &str, variant: &str, pipeline: u32) -> Result<RtlConfig> {
    pe.rtl
        .configs()
        .into_iter()
        .find(|c| {
            c.format == format
                && c.pipeline == pipeline
                && (variant.is_empty() || c.variant == variant)
        })
        .ok_or_else(|| {
            Error::new(format!(
                "{} has no configuration {format} {variant} pipeline {pipeline}",
                pe.id()
            ))
        })
}

/// The label of a configuration in tables and plots.
fn label(pe: &str, format: &str, variant: &str) -> String {
    if variant.is_empty() {
        format!("{pe} {format}")
    } else {
        format!("{pe} {variant} {format}")
    }
}

/// The zero- and unit-delay measurements of one configuration, or why there are none.
type Pair = std::result::Result<(Measurement, Measurement), String>;

/// The zero- and unit-delay measurements of one PE (an error string when there is none).
fn measure_glitch(
    pe: &str,
    format: &str,
    variant: &str,
    ops: u64,
    seed: u64,
) -> Result<(RtlConfig, Pair)> {
    let p = pelab_testbench::pe(pe)?;
    let cfg = config(&p, format, variant, 0)?;
    let req = Request {
        tech: Tech::Generic45,
        dist: Dist::Gaussian,
        shape: Shape::Elementwise,
        ops,
        seed,
        freq_ghz: FREQ_GHZ,
        wire_ff: 0.5,
    };
    let m = measure_with(p, &cfg, &req, None, Delay::Zero)
        .and_then(|z| Ok((z, measure_with(p, &cfg, &req, None, Delay::Unit)?)))
        .map_err(|e| e.to_string());
    Ok((cfg, m))
}

/// The glitch table.
fn glitch_table(o: &ReportOpts) -> Result<Table> {
    let ops = glitch_ops(o);
    let start = Instant::now();
    let rows = parallel(&GLITCH_PES, |(pe, f, v)| {
        measure_glitch(pe, f, v, ops, o.seed)
    });
    let mut t = Table::new(
        GLITCH,
        "Per PE: gate toggles per operation with zero delay and with unit delay (glitches \
         counted), the glitch factor (unit / zero) and the energy per operation under each",
        &[
            "pe",
            "format",
            "policy",
            "variant",
            "ops",
            "seed",
            "zero_toggles_per_op",
            "unit_toggles_per_op",
            "glitch_factor",
            "zero_pj",
            "unit_pj",
            "note",
        ],
    );
    for ((pe, _, _), r) in GLITCH_PES.iter().zip(rows) {
        let (cfg, m) = r?;
        let (mut zt, mut ut, mut gf, mut zp, mut up) = (
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        );
        let mut note = String::new();
        match m {
            Ok((z, u)) => {
                zt = fnum(z.toggles_per_op);
                ut = fnum(u.toggles_per_op);
                if z.toggles_per_op > 0.0 {
                    gf = fnum(u.toggles_per_op / z.toggles_per_op);
                }
                zp = fnum(z.total_pj);
                up = fnum(u.total_pj);
                // The unit-delay run counts the zero-delay toggles beside its own: the two
                // runs must agree on them.
                if let Some(uz) = u.toggles_zero_delay {
                    if (uz - z.toggles_per_op).abs() > 1e-9 * z.toggles_per_op.max(1.0) {
                        note = format!(
                            "the unit-delay run's zero-delay toggles ({uz}) differ from the \
                             zero-delay run's ({})",
                            z.toggles_per_op
                        );
                    }
                }
            }
            Err(e) => note = e,
        }
        t.push(vec![
            json!(pe),
            json!(cfg.format),
            json!(cfg.policy),
            json!(cfg.variant),
            json!(ops),
            json!(o.seed),
            zt,
            ut,
            gf,
            zp,
            up,
            json!(note),
        ])?;
    }
    t.provenance = vec![
        format!(
            "energy: generic-45nm (Yosys generic gates priced with Nangate 45 nm Open Cell \
             Library figures, typical corner, 1.1 V), {FREQ_GHZ} GHz; elementwise workload, \
             {ops} Gaussian operations (N(0,1) in the format; int16: N(0,1)*2^12; bitmod: \
             N(0,1) weights quantized by the BitMoD quantizer, FP16 activations), seed {}; \
             pipeline 0, each PE's default policy",
            o.seed
        ),
        format!("zero: {}", delay_provenance(Delay::Zero)),
        format!("unit: {}", delay_provenance(Delay::Unit)),
        pelab_testbench::energy::UNIT_DELAY_CAVEAT.to_string(),
        format!(
            "wall time of these measurements: {:.1} s (synthesis cached)",
            start.elapsed().as_secs_f64()
        ),
    ];
    Ok(t)
}

/// The saving table, from the glitch table.
fn saving_table(o: &ReportOpts, g: &Table) -> Result<Table> {
    let mut t = Table::new(
        SAVING,
        "L-Mul's element-wise energy saving over the exact multiply, 1 - E(lmul) / E(fpmul), \
         with zero delay and with unit delay (glitches counted)",
        &[
            "format",
            "lmul_pj_zero",
            "fpmul_pj_zero",
            "saving_zero_delay",
            "lmul_pj_unit",
            "fpmul_pj_unit",
            "saving_with_glitches",
            "paper_saving",
            "note",
        ],
    );
    let (pe, fmt, note) = (g.col("pe")?, g.col("format")?, g.col("note")?);
    for f in SAVING_FORMATS {
        let row = |id: &str| {
            g.rows
                .iter()
                .find(|r| cell_str(&r[pe]) == id && cell_str(&r[fmt]) == f)
        };
        let (l, x) = (row("lmul"), row("fpmul"));
        let get = |r: Option<&Vec<Value>>, c: &str| -> Result<Option<f64>> {
            let c = g.col(c)?;
            Ok(r.and_then(|r| r[c].as_f64()))
        };
        let saving = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => fnum(1.0 - a / b),
            _ => Value::Null,
        };
        let (lz, xz) = (get(l, "zero_pj")?, get(x, "zero_pj")?);
        let (lu, xu) = (get(l, "unit_pj")?, get(x, "unit_pj")?);
        let mut notes: Vec<String> = [l, x]
            .iter()
            .flatten()
            .map(|r| cell_str(&r[note]))
            .filter(|n| !n.is_empty())
            .collect();
        notes.dedup();
        t.push(vec![
            json!(f),
            lz.map_or(Value::Null, fnum),
            xz.map_or(Value::Null, fnum),
            saving(lz, xz),
            lu.map_or(Value::Null, fnum),
            xu.map_or(Value::Null, fnum),
            saving(lu, xu),
            json!(PAPER_ELEM_SAVING),
            json!(notes.join("; ")),
        ])?;
    }
    t.provenance = vec![
        format!(
            "from glitch.csv: elementwise, {} Gaussian operations, seed {}, generic-45nm, \
             {FREQ_GHZ} GHz; lmul saturate, fpmul ieee, pipeline 0 (the claims table's \
             zero-delay L-Mul rows use {} operations, so their figures differ slightly)",
            glitch_ops(o),
            o.seed,
            crate::report::energy::ops(o)
        ),
        "delay models: zero (glitches not counted) and unit (one time unit per cell, \
         inertial, every value change counted)"
            .into(),
    ];
    Ok(t)
}

/// L-Mul's element-wise saving over fpmul in one format, from the saving table.
pub(crate) struct GlitchSaving {
    /// At zero delay, on the operands of the glitch runs.
    pub zero: Option<f64>,
    /// With glitches (unit delay), on the same operands.
    pub unit: Option<f64>,
    /// Why a figure is missing (empty when both are there).
    pub note: String,
}

/// The row of `format` in the saving table the timing study wrote into `x` (`None` for a
/// format it does not measure, [`SAVING_FORMATS`]).
pub(crate) fn lmul_glitch_saving(x: &Results, format: &str) -> Result<Option<GlitchSaving>> {
    let s = x.table(SAVING)?;
    let (fc, zc, uc, nc) = (
        s.col("format")?,
        s.col("saving_zero_delay")?,
        s.col("saving_with_glitches")?,
        s.col("note")?,
    );
    Ok(s.rows
        .iter()
        .find(|r| cell_str(&r[fc]) == format)
        .map(|r| GlitchSaving {
            zero: r[zc].as_f64(),
            unit: r[uc].as_f64(),
            note: cell_str(&r[nc]),
        }))
}

/// Where [`lmul_glitch_saving`]'s figures come from: file, library, delay model, activity.
pub(crate) fn glitch_saving_source(o: &ReportOpts) -> String {
    format!(
        "{SAVING}.csv from {GLITCH}.csv: generic-45nm (Yosys generic gates priced with Nangate \
         45 nm figures, 1.1 V), {FREQ_GHZ} GHz, unit delay (one time unit per cell, inertial, \
         glitches counted) beside zero delay on the same operands, elementwise, {} Gaussian \
         operations, seed {}; Liberty delays: not measured by the report",
        glitch_ops(o),
        o.seed
    )
}

/// The Fmax table: every PE of [`GLITCH_PES`] at pipeline 0 and [`FMAX_PIPELINED`], placed
/// and routed in parallel (results cached by pelab's place-and-route cache).
fn fmax_table(o: &ReportOpts) -> Result<Table> {
    let mut t = Table::new(
        FMAX,
        "Achieved Fmax on iCE40 HX8K (nextpnr-ice40), each PE inside a wrapper that registers \
         every input and output",
        &[
            "pe",
            "format",
            "policy",
            "variant",
            "pipeline",
            "device",
            "package",
            "nextpnr_seed",
            "fmax_mhz",
            "logic_cells",
            "seconds",
            "note",
        ],
    );
    let device = Device::parse(DEVICE)?;
    t.provenance = vec![format!(
        "place and route: Yosys synth_ice40 -flatten, then nextpnr-ice40 --{DEVICE} --package \
         {} --seed {PNR_SEED} --freq 1 --timing-allow-fail, no pin constraints \
         (docs/hdl.md); Fmax: nextpnr's achieved figure; logic cells: ICESTORM_LC used, \
         wrapper included; seconds: wall time of the step (a cache hit takes well under one)",
        device.package()
    )];
    if o.quick {
        return Ok(t);
    }
    if let Err(e) = pelab_hdl::tools::require_tool("nextpnr-ice40") {
        t.provenance.push(format!("not run: {e}"));
        return Ok(t);
    }
    let mut jobs: Vec<(&str, &str, &str, u32)> =
        GLITCH_PES.iter().map(|(p, f, v)| (*p, *f, *v, 0)).collect();
    jobs.extend(FMAX_PIPELINED);
    let start = Instant::now();
    let rows = parallel(&jobs, |(pe, f, v, pipe)| -> Result<Vec<Value>> {
        let p = pelab_testbench::pe(pe)?;
        let cfg = config(&p, f, v, *pipe)?;
        let start = Instant::now();
        let r = p
            .rtl
            .verilog(&cfg)
            .and_then(|m| pelab_hdl::pnr::pnr_module(&m, device, PNR_SEED));
        let secs = start.elapsed().as_secs_f64();
        let (fmax, lc, note) = match r {
            Ok((_, r)) => (
                fnum(r.fmax_mhz),
                r.utilization
                    .get("ICESTORM_LC")
                    .map_or(Value::Null, |u| json!(u.used)),
                String::new(),
            ),
            Err(e) => (Value::Null, Value::Null, e.to_string()),
        };
        Ok(vec![
            json!(pe),
            json!(cfg.format),
            json!(cfg.policy),
            json!(cfg.variant),
            json!(pipe),
            json!(DEVICE),
            json!(device.package()),
            json!(PNR_SEED),
            fmax,
            lc,
            fnum((secs * 10.0).round() / 10.0),
            json!(note),
        ])
    });
    for r in rows {
        t.push(r?)?;
    }
    t.provenance.push(format!(
        "wall time of place and route: {:.1} s on {} thread(s)",
        start.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    ));
    if let Ok(v) = pelab_hdl::tools::tool_version("nextpnr-ice40") {
        t.provenance.push(format!("nextpnr-ice40: {v}"));
    }
    Ok(t)
}

/// The glitch factor of the row of `pe` in `format`.
fn factor(g: &Table, pe: &str, format: &str) -> Option<f64> {
    let (p, f, c) = (
        g.col("pe").ok()?,
        g.col("format").ok()?,
        g.col("glitch_factor").ok()?,
    );
    g.rows
        .iter()
        .find(|r| cell_str(&r[p]) == pe && cell_str(&r[f]) == format)
        .and_then(|r| r[c].as_f64())
}

impl Study for Timing {
    fn name(&self) -> &'static str {
        "timing"
    }

    fn section(&self) -> &'static str {
        "timing"
    }

    fn paper(&self) -> &'static str {
        "Timing (glitches under unit delay, iCE40 Fmax)"
    }

    fn run(&self, o: &ReportOpts) -> Result<Vec<Table>> {
        let g = glitch_table(o)?;
        let s = saving_table(o, &g)?;
        Ok(vec![g, s, fmax_table(o)?])
    }

    fn claims(&self, o: &ReportOpts, x: &Results) -> Result<Vec<Claim>> {
        let s = x.table(SAVING)?;
        let g = x.table(GLITCH)?;
        let (fc, zc, uc, nc) = (
            s.col("format")?,
            s.col("saving_zero_delay")?,
            s.col("saving_with_glitches")?,
            s.col("note")?,
        );
        let mut figures = BTreeMap::new();
        let mut meas = Vec::new();
        let mut verdicts = Vec::new();
        for r in &s.rows {
            let f = cell_str(&r[fc]);
            let (z, u) = (r[zc].as_f64(), r[uc].as_f64());
            figures.insert(format!("saving_zero_delay_{f}"), z);
            figures.insert(format!("saving_with_glitches_{f}"), u);
            let (gl, gx) = (factor(g, "lmul", &f), factor(g, "fpmul", &f));
            figures.insert(format!("glitch_factor_lmul_{f}"), gl);
            figures.insert(format!("glitch_factor_fpmul_{f}"), gx);
            match (z, u) {
                (Some(z), Some(u)) => {
                    meas.push(format!(
                        "{f}: {} at zero delay, {} with glitches (unit delay; glitch factor \
                         lmul {}, fpmul {})",
                        pct(z),
                        pct(u),
                        opt_short(gl),
                        opt_short(gx)
                    ));
                    verdicts.push(format!(
                        "{f}: glitches {} the saving by {} points",
                        if u >= z { "raise" } else { "lower" },
                        short(((u - z) * 100.0).abs())
                    ));
                }
                _ => meas.push(format!("{f}: no figure ({})", cell_str(&r[nc]))),
            }
        }
        let verdict = if verdicts.is_empty() {
            "Not measured: no gate-level figure".to_string()
        } else {
            format!(
                "{}; the paper's figure counts no glitches",
                verdicts.join("; ")
            )
        };
        Ok(vec![Claim {
            claim: "L-Mul saving vs fpmul, with glitches (element-wise, unit delay)".into(),
            paper: format!(
                "L-Mul (Luo & Sun): an element-wise L-Mul costs {} less energy than the FP8 / \
                 BF16 multiply (table method, no timing)",
                pct(PAPER_ELEM_SAVING)
            ),
            pelab: meas.join("; "),
            source: format!(
                "{SAVING}.csv from {GLITCH}.csv: generic-45nm, {} Gaussian operations, seed \
                 {}, zero and unit delay",
                glitch_ops(o),
                o.seed
            ),
            verdict,
            figures,
        }])
    }

    fn meaning(&self, claims: &[Claim]) -> [String; 2] {
        let get = |n: &str| figure(claims, "glitches", n);
        let line1 = match (
            get("saving_zero_delay_e4m3"),
            get("saving_with_glitches_e4m3"),
            get("saving_zero_delay_bf16"),
            get("saving_with_glitches_bf16"),
        ) {
            (Some(a), Some(b), Some(c), Some(d)) => format!(
                "Glitches: counting them (unit delay) moves L-Mul's element-wise saving over \
                 fpmul from {} to {} (e4m3) and from {} to {} (bf16): the exact multiplier's \
                 deeper, unbalanced logic glitches more.",
                pct(a),
                pct(b),
                pct(c),
                pct(d)
            ),
            _ => "Glitches: not measured at gate level in this run.".into(),
        };
        [
            line1,
            "Fmax: the iCE40 table (default run) gives each PE's achieved clock after place and \
             route; energy per operation at a fixed clock does not show it."
                .into(),
        ]
    }

    fn figures(&self, o: &ReportOpts, x: &Results) -> Result<Vec<Figure>> {
        let g = x.table(GLITCH)?;
        let (p, f, v, c) = (
            g.col("pe")?,
            g.col("format")?,
            g.col("variant")?,
            g.col("glitch_factor")?,
        );
        let values: Vec<Option<f64>> = g.rows.iter().map(|r| r[c].as_f64()).collect();
        if values.iter().all(|v| v.is_none()) {
            return Ok(Vec::new());
        }
        let cats = g
            .rows
            .iter()
            .map(|r| label(&cell_str(&r[p]), &cell_str(&r[f]), &cell_str(&r[v])))
            .collect();
        Ok(vec![Figure {
            stem: GLITCH.into(),
            panels: vec![Panel::Bars(Bars {
                title: "Glitch factor: toggles with unit delay / toggles with zero delay".into(),
                value_axis: "glitch factor (1 = no glitches)".into(),
                categories: cats,
                series: vec![BarSeries {
                    name: "unit delay / zero delay (generic-45nm gates)".into(),
                    values,
                }],
                log: false,
                value_labels: true,
                missing: "no figure".into(),
            })],
            notes: vec![
                format!(
                    "Yosys generic gates, pelab's gate simulator, {} Gaussian operations per PE, \
                     seed {}, pipeline 0, default policies.",
                    glitch_ops(o),
                    o.seed
                ),
                "Unit delay: one time unit per cell, inertial; real cell delays differ. Data: \
                 glitch.csv."
                    .into(),
            ],
            width: 1100,
        }])
    }

    fn markdown(&self, o: &ReportOpts, x: &Results) -> Result<String> {
        let g = x.table(GLITCH)?;
        let s = x.table(SAVING)?;
        let fm = x.table(FMAX)?;
        let mut out = String::from("## Timing: glitches and Fmax\n\n");
        out.push_str(
            "Zero-delay simulation counts one settled value per operation; unit-delay \
             simulation (one time unit per cell) also counts the glitches that unequal path \
             depths cause (docs/energy.md, \"Delays and glitches\"). The glitch factor is the \
             ratio of the two toggle counts.\n\n",
        );
        out.push_str(&md_head(&[
            "PE",
            "policy",
            "toggles/op zero delay",
            "toggles/op unit delay",
            "glitch factor",
            "pJ/op zero delay",
            "pJ/op unit delay",
        ]));
        let col =
            |t: &Table, r: &[Value], n: &str| -> Result<Option<f64>> { Ok(r[t.col(n)?].as_f64()) };
        for r in &g.rows {
            out.push_str(&md_row(&[
                label(
                    &cell_str(&r[g.col("pe")?]),
                    &cell_str(&r[g.col("format")?]),
                    &cell_str(&r[g.col("variant")?]),
                ),
                cell_str(&r[g.col("policy")?]),
                opt_short(col(g, r, "zero_toggles_per_op")?),
                opt_short(col(g, r, "unit_toggles_per_op")?),
                opt_short(col(g, r, "glitch_factor")?),
                opt_short(col(g, r, "zero_pj")?),
                opt_short(col(g, r, "unit_pj")?),
            ]));
        }
        out.push('\n');
        for r in &g.rows {
            let n = cell_str(&r[g.col("note")?]);
            if !n.is_empty() {
                let who = label(
                    &cell_str(&r[g.col("pe")?]),
                    &cell_str(&r[g.col("format")?]),
                    &cell_str(&r[g.col("variant")?]),
                );
                out.push_str(&format!("- {who}: {}\n", md(&n)));
            }
        }
        out.push_str(&provenance_md(g));
        out.push_str(
            "\n### L-Mul saving with glitches\n\nThe claims table's L-Mul energy figures are \
             zero-delay; its \"with glitches\" column (e4m3 and bf16 element-wise) and the \
             claims row \"L-Mul saving vs fpmul, with glitches\" give this table's \
             element-wise saving with glitches, from the measurements above.\n\n",
        );
        out.push_str(&md_head(&[
            "format",
            "saving, zero delay",
            "saving with glitches (unit delay)",
            "paper",
            "pJ/op lmul / fpmul, zero",
            "pJ/op lmul / fpmul, unit",
        ]));
        for r in &s.rows {
            let p = |n: &str| -> Result<String> { Ok(col(s, r, n)?.map_or("—".into(), pct)) };
            out.push_str(&md_row(&[
                cell_str(&r[s.col("format")?]),
                p("saving_zero_delay")?,
                p("saving_with_glitches")?,
                p("paper_saving")?,
                format!(
                    "{} / {}",
                    opt_short(col(s, r, "lmul_pj_zero")?),
                    opt_short(col(s, r, "fpmul_pj_zero")?)
                ),
                format!(
                    "{} / {}",
                    opt_short(col(s, r, "lmul_pj_unit")?),
                    opt_short(col(s, r, "fpmul_pj_unit")?)
                ),
            ]));
        }
        out.push_str(&provenance_md(s));
        out.push_str("\n### Fmax on iCE40 HX8K\n\n");
        if fm.rows.is_empty() {
            let why = if o.quick {
                "**Not run in the quick run** (place and route runs in the default run only)."
                    .to_string()
            } else {
                format!(
                    "**NOT RUN: nextpnr-ice40 is not installed** (Debian package \
                     `nextpnr-ice40`; {}).",
                    fm.provenance
                        .iter()
                        .find_map(|p| p.strip_prefix("not run: "))
                        .unwrap_or("not found on PATH")
                )
            };
            out.push_str(&why);
            out.push_str("\n\n");
            return Ok(out);
        }
        out.push_str(&md_head(&[
            "PE",
            "policy",
            "pipeline",
            "Fmax (MHz)",
            "logic cells",
            "seconds",
        ]));
        for r in &fm.rows {
            let fmax = col(fm, r, "fmax_mhz")?.map_or_else(
                || format!("failed: {}", cell_str(&r[fm.col("note").unwrap_or(0)])),
                |f| format!("{f:.1}"),
            );
            out.push_str(&md_row(&[
                label(
                    &cell_str(&r[fm.col("pe")?]),
                    &cell_str(&r[fm.col("format")?]),
                    &cell_str(&r[fm.col("variant")?]),
                ),
                cell_str(&r[fm.col("policy")?]),
                cell_str(&r[fm.col("pipeline")?]),
                fmax,
                cell_str(&r[fm.col("logic_cells")?]),
                cell_str(&r[fm.col("seconds")?]),
            ]));
        }
        out.push_str(&provenance_md(fm));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmax_table_places_every_pe_in_the_default_run_only() {
        let mut o = ReportOpts {
            out: std::env::temp_dir(),
            quick: true,
            seed: 1,
        };
        let t = fmax_table(&o).unwrap();
        assert!(t.rows.is_empty(), "the quick run places nothing");
        if let Err(e) = pelab_hdl::tools::require_tool("nextpnr-ice40") {
            eprintln!("SKIPPED the Fmax check: {e}");
            return;
        }
        o.quick = false;
        let t = fmax_table(&o).unwrap();
        assert_eq!(t.rows.len(), GLITCH_PES.len() + FMAX_PIPELINED.len());
        let (f, lc, note) = (
            t.col("fmax_mhz").unwrap(),
            t.col("logic_cells").unwrap(),
            t.col("note").unwrap(),
        );
        let hx8k_cells = Device::parse(DEVICE).unwrap().logic_cells();
        for r in &t.rows {
            let fmax = r[f].as_f64().unwrap_or_else(|| panic!("no Fmax: {r:?}"));
            // The iCE40's fastest register-to-register path is well under 1 GHz.
            assert!(fmax > 1.0 && fmax < 1000.0, "{r:?}");
            let cells = r[lc].as_u64().unwrap();
            assert!(cells > 0 && cells <= hx8k_cells, "{r:?}");
            assert_eq!(cell_str(&r[note]), "", "{r:?}");
        }
        // The section shows one row per placement with its Fmax to one decimal.
        let g = glitch_table(&ReportOpts {
            quick: true,
            ..o.clone()
        })
        .unwrap();
        let sv = saving_table(&o, &g).unwrap();
        let tables: BTreeMap<String, Table> = [g, sv, t.clone()]
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let x = Results {
            tables: &tables,
            energy: &[],
        };
        let md = Timing.markdown(&o, &x).unwrap();
        let sec = &md[md.find("### Fmax").unwrap()..];
        eprintln!("{sec}");
        for r in &t.rows {
            assert!(
                sec.contains(&format!("| {:.1} |", r[f].as_f64().unwrap())),
                "{r:?} not in {sec}"
            );
        }
    }
}
