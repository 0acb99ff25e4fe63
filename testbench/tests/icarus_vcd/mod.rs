//! Running a generated testbench under Icarus Verilog and reading back its VCD, shared by the
//! gate-engine tests that compare pelab's toggle counts with Icarus' (unit and Liberty delays).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One scalar's value changes: (time, value), in order.
pub type Changes = Vec<(u64, vcd::Value)>;

/// A fresh, empty work directory for test `test`, case `name`.
pub fn work(test: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-{test}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `verilog` as `tb.v` and the side `files` into `dir`, compiles it with `iverilog`
/// (plus `flags`), runs it with `vvp` and returns the path of its VCD (`waves.vcd`).
pub fn icarus(verilog: &str, files: &[(String, String)], flags: &[&str], dir: &Path) -> PathBuf {
    std::fs::write(dir.join("tb.v"), verilog).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e} (is Icarus Verilog installed?)"));
        assert!(
            out.status.success(),
            "{what} failed in {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        Command::new("iverilog")
            .args(flags)
            .args(["-o", "tb.vvp", "tb.v"]),
        "iverilog",
    );
    run(Command::new("vvp").args(["-n", "tb.vvp"]), "vvp");
    dir.join("waves.vcd")
}

/// The variables of a VCD in declaration order (code, reference, width) and the changes of
/// every scalar by code.
fn parse(path: &Path) -> (Vec<vcd::Var>, HashMap<vcd::IdCode, Changes>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut p = vcd::Parser::new(std::io::BufReader::new(f));
    let header = p.parse_header().unwrap();
    let mut vars = Vec::new();
    fn walk(items: &[vcd::ScopeItem], vars: &mut Vec<vcd::Var>) {
        for i in items {
            match i {
                vcd::ScopeItem::Var(v) => vars.push(v.clone()),
                vcd::ScopeItem::Scope(s) => walk(&s.items, vars),
                _ => {}
            }
        }
    }
    walk(&header.items, &mut vars);
    let mut by_id: HashMap<vcd::IdCode, Changes> = HashMap::new();
    let mut now = 0;
    for c in p {
        match c.unwrap() {
            vcd::Command::Timestamp(t) => now = t,
            vcd::Command::ChangeScalar(id, v) => by_id.entry(id).or_default().push((now, v)),
            _ => {}
        }
    }
    (vars, by_id)
}

/// Every scalar variable of a VCD by name: its changes.
pub fn vcd_changes(path: &Path) -> HashMap<String, Changes> {
    let (vars, by_id) = parse(path);
    vars.into_iter()
        .map(|v| {
            let ch = by_id.get(&v.code).cloned().unwrap_or_default();
            (v.reference, ch)
        })
        .collect()
}

/// Every scalar variable of a VCD in declaration order: its changes.
#[allow(dead_code)] // used by some of the tests that include this module
pub fn vcd_scalars_in_order(path: &Path) -> Vec<Changes> {
    let (vars, mut by_id) = parse(path);
    vars.iter()
        .filter(|v| v.size == 1)
        .map(|v| by_id.remove(&v.code).unwrap_or_default())
        .collect()
}

/// Rows `row0..rows` (row0 >= 1) whose value settled at the end of the row's `period` differs
/// from the previous row's; panics if the net is still x at either end.
pub fn settled_changes(ch: &[(u64, vcd::Value)], period: u64, row0: usize, rows: usize) -> u64 {
    let at = |time: u64| {
        ch.iter()
            .take_while(|(t, _)| *t <= time)
            .last()
            .map_or(vcd::Value::X, |c| c.1)
    };
    let mut zero = 0;
    for r in row0..rows {
        let (before, after) = (at(r as u64 * period - 1), at((r as u64 + 1) * period - 1));
        assert!(
            before != vcd::Value::X && after != vcd::Value::X,
            "a net is still x at row {r}"
        );
        zero += u64::from(before != after);
    }
    zero
}
