//! Command-line parsing and the subcommands. PEs are found through the registries of the
//! library crates; nothing here names a PE.

use clap::{Parser, Subcommand};
use pelab_sim::format::{Rounding, NAMED};
use pelab_sim::pe::{find, registry};
use pelab_sim::Result;
use serde_json::json;

/// Model, emit, verify and measure low-precision ML processing elements (PEs).
#[derive(Parser)]
#[command(name = "pelab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the PEs, formats and policies pelab knows.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate one operation of a PE's reference model.
    ///
    /// Operands are hex codes (an optional 0x prefix is accepted); `pelab list` shows each PE's
    /// operand syntax. Example: `pelab eval lmul --format bf16 3FC0 3FC0`.
    Eval {
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
    },
    /// Benchmarks (ratios against a baseline measured in the same run).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Reference kernels: lmul and fpmul slice kernels against a plain f32 multiply loop over
    /// the same bf16 values, and the int16fma reference against the CPU's own instructions.
    Ref {
        /// Number of operand pairs.
        #[arg(long, default_value_t = 16 << 20)]
        n: usize,
        /// Timed repetitions of each kernel (the median is reported).
        #[arg(long, default_value_t = 7)]
        reps: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs it.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::List { json } => list(json),
        Command::Eval {
            pe,
            format,
            overflow,
            json,
            operands,
        } => eval(&pe, format.as_deref(), overflow.as_deref(), &operands, json),
        Command::Bench { which } => match which {
            BenchCommand::Ref { n, reps, json } => crate::bench::reference(n, reps, json),
        },
    }
}

fn list(json: bool) -> Result<()> {
    let pes = registry();
    if json {
        let v = json!({
            "pes": pes.iter().map(|p| json!({
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
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return Ok(());
    }
    println!("PEs:");
    for p in &pes {
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

fn eval(
    pe: &str,
    format: Option<&str>,
    policy: Option<&str>,
    operands: &[String],
    json: bool,
) -> Result<()> {
    let pe = find(pe)?;
    let formats = pe.formats();
    let format = match format {
        Some(f) => f.to_string(),
        None if formats.len() == 1 => formats[0].clone(),
        None => {
            return Err(pelab_sim::Error::new(format!(
                "{} needs --format; valid: {}",
                pe.id(),
                formats.join(", ")
            )))
        }
    };
    let r = pe.eval(&format, policy, operands)?;
    if json {
        let details: serde_json::Map<_, _> = r
            .details
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let v = json!({
            "pe": pe.id(),
            "format": format,
            "operands": operands,
            "hex": r.hex,
            "value": r.value,
            "details": details,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
    } else {
        println!("{} {}", r.hex, r.value);
        for (k, v) in &r.details {
            println!("  {k}: {v}");
        }
    }
    Ok(())
}
