//! `pelab accuracy`: the accuracy studies of the reference models, as tables.

use pelab_reports::accuracy as acc;
use pelab_sim::Result;

/// Arguments of `pelab accuracy`.
#[derive(clap::Args)]
pub struct Args {
    #[arg(
        value_name = "STUDY",
        help = format!("The study: {}", acc::STUDIES.join(", "))
    )]
    study: String,
    /// Value source: gaussian, uniform, loguniform, student-t:NU or file:PATH.npy.
    #[arg(long, default_value = "gaussian")]
    dist: String,
    /// Values the study draws (default: the study's own, see docs/accuracy.md).
    #[arg(long)]
    samples: Option<usize>,
    /// Random seed of the values.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scaling before conversion (lmul only): none, or amax (per tensor and format, the
    /// largest power of two whose scaled products stay finite; see docs/accuracy.md).
    #[arg(long, default_value = "none", value_parser = acc::Scale::NAMES)]
    scale: String,
    /// Print a JSON array of the tables.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print the tables as CSV, each after a `# name` line.
    #[arg(long)]
    csv: bool,
    /// Also write one CSV file per table into this directory.
    #[arg(long, short)]
    out: Option<std::path::PathBuf>,
}

/// Runs the study, writes its CSV files when asked, and prints its tables.
pub fn run(args: Args) -> Result<()> {
    let samples = match args.samples {
        Some(n) => n,
        None => acc::default_samples(&args.study)?,
    };
    let opts = acc::Opts {
        source: acc::Source::parse(&args.dist)?,
        samples,
        seed: args.seed,
        scale: acc::Scale::parse(&args.scale)?,
    };
    let tables = acc::study(&args.study, &opts)?;
    if let Some(dir) = &args.out {
        for t in &tables {
            eprintln!("wrote {}", t.write_csv(dir)?.display());
        }
    }
    let style = match (args.json, args.csv) {
        (true, _) => acc::Style::Json,
        (_, true) => acc::Style::Csv,
        _ => acc::Style::Text,
    };
    print!("{}", acc::render(&tables, style));
    Ok(())
}
