//! Formal equivalence of a module's Verilog and a gate netlist of it, with ABC (`yosys-abc`).
//!
//! Both sides become AIGs with Yosys (`proc; flatten; techmap; aigmap` for the Verilog, `aigmap`
//! for the netlist JSON); undefined constants (`x`) are tied to 0 on both sides. Combinational
//! designs are compared with ABC `cec`, designs with flip-flops with `dsec` (sequential
//! equivalence from the all-zero initial state, which is what rust-hdl's `initial` blocks set).

use crate::run::yosys_script;
use pelab_hdl::tools::require_tool;
use pelab_sim::{Error, Result};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The outcome of an equivalence check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proof {
    /// Whether ABC proved the two equivalent.
    pub equivalent: bool,
    /// `cec` or `dsec`.
    pub method: String,
    /// Latches in the Verilog's AIG.
    pub latches: u64,
    /// ABC's output (its verdict, and the counterexample when there is one).
    pub abc_output: String,
    /// Wall time, seconds.
    pub secs: f64,
}

fn yosys(script: &str, what: &str) -> Result<()> {
    yosys_script(script)?.map_err(|text| {
        Error::new(format!(
            "yosys failed to build the AIG of the {what}: {}",
            text.trim()
        ))
    })
}

/// Time limit of one ABC proof, seconds.
pub const ABC_SECONDS: u32 = 600;

/// Proves the module `top` of `verilog` equivalent to the Yosys JSON netlist `netlist`, in
/// the scratch directory `work`.
pub fn prove(verilog: &Path, netlist: &Path, top: &str, work: &Path) -> Result<Proof> {
    let abc = require_tool("yosys-abc")?;
    std::fs::create_dir_all(work)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", work.display())))?;
    let t0 = Instant::now();
    let rtl = work.join("rtl.aig");
    let gate = work.join("gate.aig");
    yosys(
        &format!(
            "read_verilog \"{}\"; hierarchy -check -top {top}; proc; flatten; opt_clean; techmap; \
             opt -fast; setundef -zero; dffunmap; aigmap; write_aiger -zinit \"{}\"",
            verilog.display(),
            rtl.display()
        ),
        "Verilog",
    )?;
    yosys(
        &format!(
            "read_json \"{}\"; hierarchy -top {top}; setundef -zero; dffunmap; aigmap; \
             write_aiger -zinit \"{}\"",
            netlist.display(),
            gate.display()
        ),
        "gate netlist",
    )?;
    let stats = Command::new(&abc)
        .args(["-c", &format!("read \"{}\"; print_stats", rtl.display())])
        .output()
        .map_err(|e| Error::new(format!("cannot run yosys-abc: {e}")))?;
    let stats = String::from_utf8_lossy(&stats.stdout).to_string();
    let latches = stats
        .split("lat =")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // With flip-flops: inductive sequential equivalence without retiming (pelab's netlists keep
    // the RTL's registers, so retiming only costs time).
    let (method, cmd) = if latches == 0 {
        ("cec", format!("cec -T {ABC_SECONDS}"))
    } else {
        ("dsec", format!("dsec -r -m -T {ABC_SECONDS}"))
    };
    let out = Command::new(&abc)
        .current_dir(work)
        .args([
            "-c",
            &format!("{cmd} \"{}\" \"{}\"", rtl.display(), gate.display()),
        ])
        .output()
        .map_err(|e| Error::new(format!("cannot run yosys-abc: {e}")))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("ABC command line"))
        .collect::<Vec<_>>()
        .join("\n");
    let equivalent = text.contains("Networks are equivalent");
    if !equivalent && !text.contains("NOT EQUIVALENT") && !text.contains("not equivalent") {
        return Err(Error::new(format!(
            "ABC {method} could not decide within its limits ({ABC_SECONDS} s): {}",
            text.trim()
        )));
    }
    Ok(Proof {
        equivalent,
        method: method.into(),
        latches,
        abc_output: text.trim().to_string(),
        secs: t0.elapsed().as_secs_f64(),
    })
}
