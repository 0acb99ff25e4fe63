//! `pelab report`: runs `pelab_reports::report` with progress bars on stderr (plain stage lines
//! when stderr is not a terminal) and prints what it wrote.

use indicatif::{ProgressBar, ProgressStyle};
use pelab_reports::report::{Progress, ReportOpts, Summary};
use pelab_sim::{Error, Result};
use std::sync::Mutex;
use std::time::Instant;

/// Progress bars, one per stage; a finished stage stays on screen with its time.
struct Bars {
    current: Mutex<Option<(ProgressBar, String, Instant)>>,
}

impl Bars {
    /// No stage yet.
    fn new() -> Bars {
        Bars {
            current: Mutex::new(None),
        }
    }
}

impl Progress for Bars {
    fn stage(&self, name: &str, total: u64) {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:32}] {pos:>3}/{len:3} {elapsed:>4} {wide_msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        if bar.is_hidden() {
            eprintln!("pelab report: {name} ({total} steps)...");
        }
        *self.current.lock().expect("progress lock") =
            Some((bar, name.to_string(), Instant::now()));
    }

    fn step(&self, item: &str) {
        if let Some((bar, _, _)) = &*self.current.lock().expect("progress lock") {
            bar.inc(1);
            bar.set_message(item.to_string());
        }
    }

    fn note(&self, line: &str) {
        match &*self.current.lock().expect("progress lock") {
            Some((bar, _, _)) if !bar.is_hidden() => bar.println(format!("  note: {line}")),
            _ => eprintln!("pelab report: note: {line}"),
        }
    }

    fn done(&self) {
        if let Some((bar, name, t)) = self.current.lock().expect("progress lock").take() {
            let secs = t.elapsed().as_secs_f64();
            if bar.is_hidden() {
                eprintln!("pelab report: {name} done in {secs:.1} s");
            }
            bar.finish_with_message(format!("done in {secs:.1} s"));
        }
    }
}

/// Arguments of `pelab report`.
#[derive(clap::Args)]
pub struct Args {
    /// Output directory (created; checked for writing before any work).
    #[arg(long, short, default_value = "out/report")]
    out: std::path::PathBuf,
    /// The quick run: a subset of configurations, fewer vectors, operations and samples.
    #[arg(long)]
    quick: bool,
    /// Seed of the vectors, the energy operands and the study samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `pelab report` and prints the summary (text or JSON). Verification failures are an
/// error after everything is written.
pub fn run(args: Args) -> Result<()> {
    let opts = ReportOpts {
        out: args.out,
        quick: args.quick,
        seed: args.seed,
    };
    let s = pelab_reports::report::run(&opts, &Bars::new())?;
    if args.json {
        super::print_json(&s)?;
    } else {
        print_text(&s);
    }
    if s.failures.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "verification failed for {} configuration(s): {} (see {})",
            s.failures.len(),
            s.failures.join("; "),
            s.out.join("summary.md").display()
        )))
    }
}

/// The summary as text: files, verification, unavailable tools, claims.
fn print_text(s: &Summary) {
    println!(
        "pelab report ({}, seed {}): {} files in {} after {:.0} s",
        if s.quick { "quick run" } else { "default run" },
        s.seed,
        s.files.len(),
        s.out.display(),
        s.seconds
    );
    let runs: Vec<String> = s
        .simulator_runs
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    println!(
        "  verification: {} modules emitted, {} configurations verified; simulator runs: {}",
        s.modules_emitted,
        s.configurations_verified,
        runs.join(", ")
    );
    for u in &s.unavailable {
        println!("  {u}");
    }
    println!("  claims:");
    for c in &s.claims {
        println!("    {}: {}", c.claim, c.verdict);
    }
    println!("  summary: {}", s.out.join("summary.md").display());
}
