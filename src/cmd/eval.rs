//! `pelab eval`: one operation of a PE's reference model.

use pelab_sim::{Error, Result};
use serde_json::json;

/// Arguments of `pelab eval`.
#[derive(clap::Args)]
pub struct Args {
    /// PE id (see `pelab list`).
    pe: String,
    /// Number format (named, or custom eXmY where the PE allows it). Defaults to the PE's
    /// only format when it has one.
    #[arg(long, short)]
    format: Option<String>,
    /// Overflow / accumulation policy; defaults to the PE's first policy.
    #[arg(long, visible_alias = "policy")]
    overflow: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Operands, in the PE's syntax.
    #[arg(required = true)]
    operands: Vec<String>,
}

/// Evaluates the operation and prints its result code, value and details.
pub fn run(args: Args) -> Result<()> {
    let pe = pelab_testbench::pe(&args.pe)?.model;
    let formats = pe.formats();
    let format = match args.format {
        Some(f) => f,
        None if formats.len() == 1 => formats[0].clone(),
        None => {
            return Err(Error::new(format!(
                "{} needs --format; valid: {}",
                pe.id(),
                formats.join(", ")
            )))
        }
    };
    let r = pe.eval(&format, args.overflow.as_deref(), &args.operands)?;
    if args.json {
        let details: serde_json::Map<_, _> = r
            .details
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        return super::print_json(&json!({
            "pe": pe.id(),
            "format": format,
            "operands": args.operands,
            "hex": r.hex,
            "value": r.value,
            "details": details,
        }));
    }
    println!("{} {}", r.hex, r.value);
    for (k, v) in &r.details {
        println!("  {k}: {v}");
    }
    Ok(())
}
