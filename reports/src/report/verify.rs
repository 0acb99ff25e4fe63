//! Stage 2: every configuration's emitted Verilog against golden vectors, in every simulator
//! available; the verification matrix (table and summary section).

use super::emit::{quick_set, Module, QUICK_FORMATS};
use super::{parallel, Progress, ReportOpts, Summary, Tools};
use crate::table::{fnum, md, md_head, md_row};
use crate::Table;
use pelab_hdl::RtlConfig;
use pelab_sim::Result;
use pelab_testbench::vectors::{DefaultSets, Timing};
use pelab_testbench::{CaseSet, Shard, Simulator, Status};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Time limit of one simulator step.
const SIM_LIMIT: Duration = Duration::from_secs(900);

/// One simulator's cell of the verification matrix.
#[derive(Debug, Clone)]
pub(crate) struct SimCell {
    pub sim: &'static str,
    /// `passed`, `failed`, `crashed`, `timedout`, `not available`, `not run`.
    pub status: String,
    passed: u64,
    failed: u64,
    vectors_per_sec: f64,
    compile_secs: f64,
    /// Why the simulator did not run.
    note: String,
}

/// One configuration's verification.
pub(crate) struct Verified {
    pub module: String,
    pe: &'static str,
    cfg: RtlConfig,
    set: String,
    cases: u64,
    rows: u64,
    pub cells: Vec<SimCell>,
    pub ok: bool,
    pub error: Option<String>,
    work: Option<PathBuf>,
    secs: f64,
}

/// Why Verilator does not run a configuration in the default run.
const VERILATOR_BUDGET: &str = "time budget: Verilator builds C++ for every module (5-18 s \
     each); the default run gives it every pipeline-0 configuration, and the pipelined ones run \
     in the other simulators";

/// The vector-set policy of a run.
pub(crate) fn default_sets(quick: bool) -> DefaultSets {
    if quick {
        DefaultSets::QUICK
    } else {
        DefaultSets::FULL
    }
}

fn set_name(s: CaseSet) -> String {
    match s {
        CaseSet::Exhaustive => "exhaustive".into(),
        CaseSet::Count(n) => format!("{n} (corners first, then seeded random)"),
    }
}

/// Verifies the configurations of the run (the quick set in a quick run) in every simulator.
pub(crate) fn verify_all(
    o: &ReportOpts,
    modules: &[Module],
    tools: &Tools,
    progress: &dyn Progress,
) -> Result<Vec<Verified>> {
    let mut jobs: Vec<(&Module, u64)> = Vec::new();
    for m in modules {
        if o.quick && !quick_set(m.pe.rtl).contains(&m.cfg) {
            continue;
        }
        // Cost estimate: cycle-by-cycle PEs simulate long transactions; Verilator builds C++.
        let cycles = matches!(m.pe.vectors.layout(&m.cfg)?.timing, Timing::Cycles);
        let verilator = o.quick || m.cfg.pipeline == 0;
        let cost = if cycles { 30 } else { 2 } + if verilator { 10 } else { 0 };
        jobs.push((m, cost));
    }
    // Longest first, for the workers' balance; the matrix keeps the registry order.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].1));
    let ordered: Vec<&Module> = order.iter().map(|&i| jobs[i].0).collect();
    let root = std::env::temp_dir().join(format!("pelab-report-{}", std::process::id()));
    progress.stage("verify", jobs.len() as u64);
    let results = parallel(&ordered, |m| {
        let t = Instant::now();
        let r = verify_one(o, m, tools, &root.join(&m.name));
        progress.step(&m.name);
        let mut r = r.unwrap_or_else(|e| Verified {
            module: m.name.clone(),
            pe: m.pe.id(),
            cfg: m.cfg.clone(),
            set: String::new(),
            cases: 0,
            rows: 0,
            cells: Vec::new(),
            ok: false,
            error: Some(e.to_string()),
            work: Some(root.join(&m.name)),
            secs: 0.0,
        });
        r.secs = t.elapsed().as_secs_f64();
        if !r.ok {
            progress.note(&format!(
                "verification of {} did not pass{}",
                m.name,
                r.work
                    .as_ref()
                    .map(|w| format!(" (work directory {})", w.display()))
                    .unwrap_or_default()
            ));
        }
        r
    });
    progress.done();
    let _ = std::fs::remove_dir(&root);
    let mut back: Vec<Option<Verified>> = (0..jobs.len()).map(|_| None).collect();
    for (k, r) in order.into_iter().zip(results) {
        back[k] = Some(r);
    }
    Ok(back
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect())
}

fn verify_one(o: &ReportOpts, m: &Module, tools: &Tools, work: &Path) -> Result<Verified> {
    let pe = m.pe.vectors;
    let set = default_sets(o.quick).choose(pe, &m.cfg)?;
    let v = pelab_testbench::vectors::generate(pe, &m.cfg, set, o.seed, Shard::ALL)?;
    let mut run = Vec::new();
    let mut cells: Vec<Option<SimCell>> = Vec::new();
    for sim in Simulator::ALL {
        let skip = |status: &str, note: String| SimCell {
            sim: sim.name(),
            status: status.into(),
            passed: 0,
            failed: 0,
            vectors_per_sec: 0.0,
            compile_secs: 0.0,
            note,
        };
        if let Err(e) = tools.sim(sim) {
            cells.push(Some(skip("not available", e)));
        } else if sim == Simulator::Verilator && !o.quick && m.cfg.pipeline > 0 {
            cells.push(Some(skip("not run", VERILATOR_BUDGET.into())));
        } else {
            run.push(sim);
            cells.push(None);
        }
    }
    let rep = pelab_testbench::verify::verify(
        &v,
        &pelab_testbench::verify::Dut::Emitted,
        &run,
        false,
        work,
        SIM_LIMIT,
    )?;
    let mut ran = rep.runs.iter();
    let cells: Vec<SimCell> = cells
        .into_iter()
        .map(|c| {
            c.unwrap_or_else(|| {
                let r = ran.next().expect("one run per simulator asked for");
                SimCell {
                    sim: Simulator::ALL
                        .iter()
                        .find(|s| s.name() == r.sim)
                        .map_or("?", |s| s.name()),
                    status: status_name(&r.status).into(),
                    passed: r.passed,
                    failed: r.failed,
                    vectors_per_sec: r.vectors_per_sec,
                    compile_secs: r.compile_secs,
                    note: if r.status == Status::Passed {
                        String::new()
                    } else {
                        r.log_tail.lines().last().unwrap_or("").to_string()
                    },
                }
            })
        })
        .collect();
    let ok = rep.passed();
    if ok {
        let _ = std::fs::remove_dir_all(work);
    }
    Ok(Verified {
        module: m.name.clone(),
        pe: m.pe.id(),
        cfg: m.cfg.clone(),
        set: set_name(set),
        cases: rep.cases,
        rows: rep.rows,
        cells,
        ok,
        error: None,
        work: (!ok).then(|| work.to_path_buf()),
        secs: 0.0,
    })
}

fn status_name(s: &Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Crashed => "crashed",
        Status::TimedOut => "timedout",
    }
}

/// The verification matrix as a table.
pub(crate) fn verification_table(v: &[Verified]) -> Result<Table> {
    let mut t = Table::new(
        "verification",
        "Emitted Verilog against golden vectors from the reference models, per simulator",
        &[
            "module",
            "pe",
            "format",
            "policy",
            "variant",
            "pipeline",
            "vector_set",
            "cases",
            "rows",
            "simulator",
            "status",
            "passed",
            "failed",
            "vectors_per_sec",
            "compile_secs",
            "note",
        ],
    );
    for r in v {
        let head = |sim: &str, status: &str| {
            vec![
                json!(r.module),
                json!(r.pe),
                json!(r.cfg.format),
                json!(r.cfg.policy),
                json!(r.cfg.variant),
                json!(r.cfg.pipeline),
                json!(r.set),
                json!(r.cases),
                json!(r.rows),
                json!(sim),
                json!(status),
            ]
        };
        if let Some(e) = &r.error {
            let mut row = head("", "error");
            row.extend([json!(0), json!(0), Value::Null, Value::Null, json!(e)]);
            t.push(row)?;
        }
        for c in &r.cells {
            let mut row = head(c.sim, &c.status);
            let ran = !matches!(c.status.as_str(), "not available" | "not run");
            row.extend([
                json!(c.passed),
                json!(c.failed),
                if ran {
                    fnum(c.vectors_per_sec.round())
                } else {
                    Value::Null
                },
                if ran {
                    fnum((c.compile_secs * 100.0).round() / 100.0)
                } else {
                    Value::Null
                },
                json!(c.note),
            ]);
            t.push(row)?;
        }
    }
    t.provenance = vec![
        "vectors: pelab-testbench golden vectors from the pelab-sim reference models".into(),
        "rusthdl: rust-hdl's simulation of the block (no Verilog); icarus: iverilog -g2005 + \
         vvp; verilator: --binary --timing; gates: pelab's simulation of the Yosys generic-gate \
         netlist"
            .into(),
    ];
    Ok(t)
}

/// The summary's verification section.
pub(crate) fn markdown(
    o: &ReportOpts,
    sum: &Summary,
    modules: usize,
    verified: &[Verified],
) -> String {
    let mut s = String::new();
    s.push_str("## Verification\n\n");
    s.push_str(&format!(
        "Every configuration's emitted Verilog against golden vectors from the reference models \
         (seed {}), in each simulator: rusthdl (rust-hdl's simulation of the block, no Verilog), \
         icarus, verilator, and gates (pelab's simulation of the Yosys generic-gate netlist, the \
         netlist the energy figures come from). Vector sets: {}, corner cases first.\n\n",
        o.seed,
        default_sets(o.quick).describe()
    ));
    if o.quick {
        s.push_str(&format!(
            "Quick run: {} of the {} configurations are verified (pipeline 0, the default \
             policy, only {} where a PE has several formats).\n\n",
            verified.len(),
            modules,
            QUICK_FORMATS.join(" and ")
        ));
    } else {
        s.push_str(&format!(
            "Verilator runs the pipeline-0 configurations only ({VERILATOR_BUDGET}).\n\n"
        ));
    }
    for u in &sum.unavailable {
        s.push_str(&format!("- **{}**\n", md(u)));
    }
    if !sum.unavailable.is_empty() {
        s.push('\n');
    }
    let counts: Vec<String> = sum
        .simulator_runs
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    s.push_str(&format!("Simulator runs: {}.\n\n", counts.join(", ")));
    let mut cols = vec!["module", "vectors"];
    cols.extend(Simulator::ALL.iter().map(|s| s.name()));
    s.push_str(&md_head(&cols));
    for v in verified {
        let mut row = vec![
            v.module.clone(),
            if v.error.is_some() {
                "error".into()
            } else {
                format!("{} cases, {} rows", v.cases, v.rows)
            },
        ];
        for sim in Simulator::ALL {
            let c = v.cells.iter().find(|c| c.sim == sim.name());
            row.push(match (c, &v.error) {
                (_, Some(e)) => format!("error: {e}"),
                (Some(c), _) => match c.status.as_str() {
                    "passed" => "passed".into(),
                    "not available" => "not available".into(),
                    "not run" => "not run (budget)".into(),
                    other => format!("**{other}** ({} failed)", c.failed),
                },
                (None, _) => "—".into(),
            });
        }
        s.push_str(&md_row(&row));
    }
    s.push_str(
        "\nData: `verification.csv` (vectors per second, compile times). Verilog: `verilog/`.\n\n",
    );

    s
}

/// Simulator runs by status.
pub(crate) fn runs(verified: &[Verified]) -> BTreeMap<String, usize> {
    let mut runs = BTreeMap::new();
    for v in verified {
        for c in &v.cells {
            *runs.entry(c.status.clone()).or_insert(0) += 1;
        }
    }
    runs
}

/// The configurations whose verification did not pass, with the reason.
pub(crate) fn failures(verified: &[Verified]) -> Vec<String> {
    verified
        .iter()
        .filter(|v| !v.ok)
        .map(|v| {
            format!(
                "{}: {}",
                v.module,
                v.error.clone().unwrap_or_else(|| {
                    let bad: Vec<String> = v
                        .cells
                        .iter()
                        .filter(|c| {
                            !matches!(c.status.as_str(), "passed" | "not available" | "not run")
                        })
                        .map(|c| format!("{} {}", c.sim, c.status))
                        .collect();
                    bad.join(", ")
                })
            )
        })
        .collect()
}
