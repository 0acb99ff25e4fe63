//! `pelab vectors`: golden vectors of one configuration, printed or written to a file.

use super::args::VectorArgs;
use pelab_sim::Result;

/// Arguments of `pelab vectors`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: VectorArgs,
    /// Output file (the packed companion gets the extension .mem).
    #[arg(long, short)]
    out: Option<std::path::PathBuf>,
}

/// Generates the set and prints it, or writes it and its `.mem` companion.
pub fn run(args: Args) -> Result<()> {
    let (pe, cfg) = args.target.rtl.resolve()?;
    let set = &args.target.set;
    let v = set.generate(pe, &cfg, set.set())?;
    match &args.out {
        Some(path) => {
            let mem = v.write(path)?;
            eprintln!(
                "wrote {} cases ({} rows) to {} and {}",
                v.cases,
                v.rows.len(),
                path.display(),
                mem.display()
            );
        }
        None => print!("{}", v.to_text()),
    }
    Ok(())
}
