//! `pelab list`: the PEs, formats and policies pelab knows.

use pelab_sim::format::{Rounding, NAMED};
use pelab_sim::Result;
use serde_json::json;

/// Arguments of `pelab list`.
#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints every PE (in the joined order), the named formats and the roundings.
pub fn run(args: Args) -> Result<()> {
    let models: Vec<_> = pelab_testbench::pes()
        .into_iter()
        .map(|p| p.model)
        .collect();
    if args.json {
        return super::print_json(&json!({
            "pes": models.iter().map(|p| json!({
                "id": p.id(),
                "summary": p.summary(),
                "formats": p.formats(),
                "format_note": p.format_note(),
                "policies": p.policies(),
                "default_policy": p.policies()[0],
                "operands": p.operand_syntax(),
            })).collect::<Vec<_>>(),
            "formats": NAMED.iter().map(|(n, d)| json!({"name": n, "description": d})).collect::<Vec<_>>(),
            "roundings": Rounding::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        }));
    }
    println!("PEs:");
    for p in &models {
        println!("  {:<9} {}", p.id(), p.summary());
        println!("            formats:  {}", p.formats().join(", "));
        if !p.format_note().is_empty() {
            println!("                      {}", p.format_note());
        }
        println!(
            "            policies: {} (default {})",
            p.policies().join(", "),
            p.policies()[0]
        );
        println!("            operands: {}", p.operand_syntax());
    }
    println!("\nFormats:");
    for (n, d) in NAMED {
        println!("  {n:<6} {d}");
    }
    println!(
        "  eXmY   custom IEEE-kind format, bias 2^(X-1)-1, X in 2..=11, Y in 1..=52, width <= 64"
    );
    Ok(())
}
