//! `pelab array`: PE arrays. `timing`: the analytic timing of a GEMM on an array
//! (`pelab_sim::array::timing`).

use pelab_sim::array::cell::Cell;
use pelab_sim::array::timing::{timing, ArrayDims, Dataflow, GemmDims, Timing};
use pelab_sim::{Error, Result};

/// Arguments of `pelab array`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    which: Which,
}

/// The `array` subcommands.
#[derive(clap::Subcommand)]
pub enum Which {
    /// Analytic timing of [M x K]·[K x N] on an R x C array: folds, cycles per fold, cycles
    /// (SCALE-Sim's count), the last output cycle, utilization and SRAM traffic.
    ///
    /// Cycle 0 is the cycle of the first input; `cycles` = folds·per_fold − 1 is the cycle of
    /// the last MAC; utilization = M·N·K'·L / (R·C·(cycles + 1)). SRAM counts are operand
    /// elements streamed into the array, padding of partial tiles included (also given
    /// without padding, SCALE-Sim v2's count).
    Timing(TimingArgs),
}

/// Arguments of `pelab array timing`.
#[derive(clap::Args)]
pub struct TimingArgs {
    /// Dataflow: os (output-stationary), ws (weight-stationary), is (input-stationary).
    #[arg(long, value_parser = parse_dataflow)]
    dataflow: Dataflow,
    /// Array size RxC, rows and columns each in 1..=64 (e.g. 8x8).
    #[arg(long, value_name = "RxC", value_parser = parse_array)]
    array: ArrayDims,
    /// Product shape MxKxN: [M x K]·[K x N] (e.g. 64x128x32).
    #[arg(long, value_name = "MxKxN", value_parser = parse_gemm)]
    gemm: GemmDims,
    /// PE whose array cell runs the steps; sets the lanes per step (int16fma: 2, the float
    /// cells: 1).
    #[arg(long)]
    pe: Option<String>,
    /// Lanes per step d (K' = ceil(K/d) steps per dot product); default 1, or the lanes of
    /// --pe.
    #[arg(long)]
    lanes: Option<usize>,
    /// Cycles per step L (bit-serial PEs); the streamed term of a fold is multiplied by it.
    #[arg(long, default_value_t = 1)]
    step_cycles: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_dataflow(s: &str) -> std::result::Result<Dataflow, String> {
    Dataflow::parse(s).map_err(|e| e.to_string())
}

/// Parses `N1xN2[x...]` into `count` positive integers; the error quotes the text and says
/// what was expected.
fn parse_dims(
    s: &str,
    count: usize,
    shape: &str,
    example: &str,
) -> std::result::Result<Vec<usize>, String> {
    let parts: Vec<&str> = s.split(['x', 'X']).collect();
    let bad = |why: String| {
        format!("'{s}' is not {shape}: {why}; expected {count} positive integers joined by 'x' (e.g. {example})")
    };
    if parts.len() != count {
        return Err(bad(format!("{} part(s) found", parts.len())));
    }
    parts
        .iter()
        .map(|p| match p.trim().parse::<usize>() {
            Ok(0) => Err(bad("a dimension is 0".into())),
            Ok(v) => Ok(v),
            Err(_) => Err(bad(format!("'{p}' is not a positive integer"))),
        })
        .collect()
}

fn parse_array(s: &str) -> std::result::Result<ArrayDims, String> {
    let v = parse_dims(s, 2, "RxC", "8x8")?;
    ArrayDims::new(v[0], v[1]).map_err(|e| e.to_string())
}

fn parse_gemm(s: &str) -> std::result::Result<GemmDims, String> {
    let v = parse_dims(s, 3, "MxKxN", "64x128x32")?;
    GemmDims::new(v[0], v[1], v[2]).map_err(|e| e.to_string())
}

/// Runs the `array` subcommand asked for.
pub fn run(args: Args) -> Result<()> {
    match args.which {
        Which::Timing(a) => run_timing(a),
    }
}

fn run_timing(a: TimingArgs) -> Result<()> {
    let lanes = match (&a.pe, a.lanes) {
        (None, l) => l.unwrap_or(1),
        (Some(pe), None) => Cell::lanes_of(pe)?,
        (Some(pe), Some(l)) => {
            let own = Cell::lanes_of(pe)?;
            if own != l {
                return Err(Error::new(format!(
                    "--lanes {l} contradicts --pe {pe}, whose cell has {own} lane(s) per step; \
                     give one of them"
                )));
            }
            l
        }
    };
    let t = timing(a.dataflow, a.array, a.gemm, lanes, a.step_cycles)?;
    if a.json {
        let mut v = serde_json::to_value(&t).map_err(|e| Error::new(e.to_string()))?;
        v["pe"] = serde_json::json!(a.pe);
        return super::print_json(&v);
    }
    print_text(&t, a.pe.as_deref());
    Ok(())
}

fn print_text(t: &Timing, pe: Option<&str>) {
    let (r, c) = (t.array.rows, t.array.cols);
    let streamed = match t.dataflow {
        Dataflow::Os => "K'",
        Dataflow::Ws => "M",
        Dataflow::Is => "N",
    };
    let per_fold = match t.dataflow {
        Dataflow::Os => format!("R + C + L*{streamed} - 2"),
        _ => format!("2R + C + L*{streamed} - 2"),
    };
    println!(
        "{} dataflow, {r}x{c} array, {}x{}x{} GEMM (M x K x N){}",
        t.dataflow.name(),
        t.gemm.m,
        t.gemm.k,
        t.gemm.n,
        pe.map(|p| format!(", {p} cells")).unwrap_or_default()
    );
    println!(
        "{} lane(s) per step (K' = {} steps per dot product), {} cycle(s) per step (L)",
        t.lanes, t.k_steps, t.step_cycles
    );
    println!("  folds               {}", t.folds);
    println!("  cycles per fold     {}  ({per_fold})", t.cycles_per_fold);
    println!(
        "  cycles              {}  (SCALE-Sim: folds * per fold - 1, the cycle of the last MAC; \
         cycle 0 = the first input)",
        t.cycles
    );
    println!(
        "  last output cycle   {}  (the last row of C on c_out; {} cycles in all)",
        t.last_output_cycle, t.total_cycles
    );
    println!(
        "  utilization         {:.4}  (M*N*K'*L / (R*C*(cycles + 1)))",
        t.utilization
    );
    for (what, s) in [
        ("streamed, padding included", &t.sram),
        ("without padding (SCALE-Sim v2)", &t.sram_unpadded),
    ] {
        println!(
            "  SRAM {what}: a_reads {}, b_reads {}, c_writes {}, c_reads {} (elements)",
            s.a_reads, s.b_reads, s.c_writes, s.c_reads
        );
    }
}
