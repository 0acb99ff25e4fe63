//! `pelab vectors`: golden vectors of one configuration, printed or written to a file.

use super::args::{RtlArgs, SetArgs};
use pelab_sim::Result;

/// Arguments of `pelab vectors`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rtl: RtlArgs,
    #[command(flatten)]
    set: SetArgs,
    /// Output file (the packed companion gets the extension .mem).
    #[arg(long, short)]
    out: Option<std::path::PathBuf>,
}

/// Generates the set and prints it, or writes it and its `.mem` companion.
pub fn run(args: Args) -> Result<()> {
    let (pe, cfg) = args.rtl.resolve()?;
    let set = &args.set;
    let v =
        pelab_testbench::vectors::generate(pe.vectors, &cfg, set.set(), set.seed, set.shard()?)?;
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
