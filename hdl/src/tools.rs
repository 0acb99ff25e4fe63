//! External tools (Yosys, Verilator, Icarus, nextpnr-ice40, icepack): detection with install
//! hints, and the lint gate.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian package that provides `tool`.
fn package_of(tool: &str) -> &'static str {
    match tool {
        "yosys" | "yosys-abc" => "yosys",
        "verilator" => "verilator",
        "iverilog" | "vvp" => "iverilog",
        "nextpnr-ice40" => "nextpnr-ice40",
        "icepack" => "fpga-icestorm",
        "sta" => "opensta",
        _ => "(unknown package)",
    }
}

/// Finds `tool` on `PATH`; the error names the tool and the package that installs it.
pub fn require_tool(tool: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(tool);
        if is_executable(&candidate) {
            return Ok(candidate);
        }
    }
    Err(Error::new(format!(
        "{tool} is not installed (not found on PATH); install it with `apt-get install {}` \
         or run `./scripts/setup` from the pelab checkout (installs every tool pelab uses)",
        package_of(tool)
    )))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Output of a finished external command.
pub(crate) struct Run {
    pub ok: bool,
    pub output: String,
}

/// Runs `tool args...` in `cwd`, capturing stdout and stderr together.
pub(crate) fn run(tool: &str, args: &[&str], cwd: Option<&Path>) -> Result<Run> {
    let exe = require_tool(tool)?;
    let mut cmd = Command::new(&exe);
    cmd.args(args);
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let out = cmd
        .output()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", exe.display())))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(Run {
        ok: out.status.success(),
        output: text,
    })
}

/// Version line of a tool (`yosys -V`, `verilator --version`, ...).
pub fn tool_version(tool: &str) -> Result<String> {
    let flag = if tool == "yosys" { "-V" } else { "--version" };
    let r = run(tool, &[flag], None)?;
    Ok(r.output.lines().next().unwrap_or("").trim().to_string())
}

/// `verilator --lint-only -Wall` on one file whose top module is named like the file.
///
/// Any warning is an error (the message holds Verilator's report). Waivers, if a design ever
/// needs one, live in the file as `/* verilator lint_off X */` next to a written reason.
pub fn lint_verilator(path: &Path) -> Result<()> {
    let top = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::new(format!("no module name in file name {}", path.display())))?;
    let file = path.to_str().ok_or_else(|| Error::new("non-UTF-8 path"))?;
    let r = run(
        "verilator",
        &["--lint-only", "-Wall", "--top-module", top, file],
        None,
    )?;
    if !r.ok || r.output.contains("%Warning") || r.output.contains("%Error") {
        return Err(Error::new(format!(
            "verilator --lint-only -Wall rejected {}:\n{}",
            path.display(),
            r.output.trim_end()
        )));
    }
    Ok(())
}

/// Yosys structural check: `read_verilog; hierarchy -check -top TOP; proc; check -assert`, plus
/// no latch cell after `proc` and no Yosys warning at all.
pub fn lint_yosys(path: &Path, top: &str) -> Result<()> {
    let file = path.to_str().ok_or_else(|| Error::new("non-UTF-8 path"))?;
    let script = format!(
        "read_verilog \"{file}\"; hierarchy -check -top {top}; proc; check -assert; \
         select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr t:$_DLATCH_* t:$_DLATCHSR_* t:$_SR_*"
    );
    let r = run("yosys", &["-q", "-p", &script], None)?;
    let warnings: Vec<&str> = r.output.lines().filter(|l| l.contains("Warning")).collect();
    if !r.ok || !warnings.is_empty() {
        return Err(Error::new(format!(
            "yosys check rejected {} (top {top}):\n{}",
            path.display(),
            r.output.trim_end()
        )));
    }
    Ok(())
}

/// The whole lint gate: Verilator `-Wall` and the Yosys check, on one file.
pub fn lint(path: &Path, top: &str) -> Result<()> {
    lint_verilator(path)?;
    lint_yosys(path, top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tool_names_tool_and_package() {
        let e = require_tool("yosys-definitely-missing")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("yosys-definitely-missing") && e.contains("apt-get install"),
            "{e}"
        );
        assert_eq!(package_of("vvp"), "iverilog");
        assert_eq!(package_of("icepack"), "fpga-icestorm");
    }
}
