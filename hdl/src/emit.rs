//! Verilog emission: rust-hdl block -> one self-describing Verilog-2001 file per configuration.
//!
//! rust-hdl names the top module `top` and each child `top$child`, and writes `bit_cast` as a
//! mask (`((x) & 9'h1ff)`) whose width Verilog takes from the context. This module renames the
//! modules after the configuration (`pelab_<pe>_<format>...`, children `<name>__<child>`),
//! rewrites each cast of a signal into an explicit zero-extension or part-select (same value,
//! exact width, so `verilator -Wall` has nothing to report), refuses casts of expressions (their
//! Rust and Verilog widths differ), checks the ports against the documented ones and prepends
//! the header.

use crate::{Error, Result};
use regex::Regex;
use rust_hdl::prelude::{check_all, generate_verilog_unchecked, Block};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Direction of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortDir {
    /// Driven from outside.
    Input,
    /// Driven by the module.
    Output,
}

/// One port of an emitted module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// Port name in the Verilog.
    pub name: String,
    /// Direction.
    pub dir: PortDir,
    /// Width in bits.
    pub width: usize,
    /// What the port carries.
    pub doc: String,
}

impl Port {
    /// An input port.
    pub fn input(name: &str, width: usize, doc: impl Into<String>) -> Port {
        Port {
            name: name.into(),
            dir: PortDir::Input,
            width,
            doc: doc.into(),
        }
    }
    /// An output port.
    pub fn output(name: &str, width: usize, doc: impl Into<String>) -> Port {
        Port {
            name: name.into(),
            dir: PortDir::Output,
            width,
            doc: doc.into(),
        }
    }
}

/// What the header of an emitted file says about the module.
#[derive(Debug, Clone)]
pub struct ModuleSpec {
    /// Module name (and file stem).
    pub name: String,
    /// PE id (`lmul`, `int16fma`, ...).
    pub pe: String,
    /// Configuration as `key=value` pairs, in order.
    pub config: Vec<(String, String)>,
    /// Semantics, one sentence per entry.
    pub semantics: Vec<String>,
    /// Clock cycles from inputs to the output that depends on them (0 = combinational).
    pub latency: u32,
    /// Sentence that explains the timing (what `latency` means for this module).
    pub timing: String,
    /// The ports, in any order; checked against the generated Verilog.
    pub ports: Vec<Port>,
}

/// An emitted module: its name, the Verilog text and what the header documents.
#[derive(Debug, Clone, Serialize)]
pub struct RtlModule {
    /// Module name; the file is `<name>.v`.
    pub name: String,
    /// Complete Verilog-2001 text, header included.
    pub verilog: String,
    /// Clock cycles of latency (0 = combinational).
    pub latency: u32,
    /// Ports of the top module.
    pub ports: Vec<Port>,
    /// Names of the sub-modules defined in the same file.
    pub submodules: Vec<String>,
}

impl RtlModule {
    /// File name of the module: `<name>.v`.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.name)
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

static IDENT: OnceLock<Regex> = OnceLock::new();
static MODULE: OnceLock<Regex> = OnceLock::new();
static DECL: OnceLock<Regex> = OnceLock::new();
static PARAM: OnceLock<Regex> = OnceLock::new();
static CAST: OnceLock<Regex> = OnceLock::new();
static LEFT_CAST: OnceLock<Regex> = OnceLock::new();

fn ident_re() -> &'static Regex {
    re(&IDENT, r"[A-Za-z_][A-Za-z0-9_$]*")
}
fn module_re() -> &'static Regex {
    re(&MODULE, r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)\s*\(")
}
fn decl_re() -> &'static Regex {
    re(
        &DECL,
        r"^\s*(input wire|output reg|output wire|inout wire|reg|wire)\s+(signed\s+)?(?:\[(\d+):0\]\s*)?([A-Za-z_][A-Za-z0-9_$]*)\s*;",
    )
}
fn param_re() -> &'static Regex {
    re(
        &PARAM,
        r"^\s*localparam\s+(signed\s+)?([A-Za-z_][A-Za-z0-9_$]*)\s*=\s*(\d+)'",
    )
}
fn cast_re() -> &'static Regex {
    re(
        &CAST,
        r"\(\(([A-Za-z_][A-Za-z0-9_$]*)\) & (\d+)'h([0-9a-f]+)\)",
    )
}
fn left_cast_re() -> &'static Regex {
    re(&LEFT_CAST, r"\) & (\d+)'h([0-9a-f]+)\)")
}

/// Reserved words of Verilog and SystemVerilog (IEEE 1800-2017 Annex B): no signal or module
/// may be named like one, whatever language mode a tool reads the file in.
const KEYWORDS: &[&str] = &[
    "accept_on",
    "alias",
    "always",
    "always_comb",
    "always_ff",
    "always_latch",
    "and",
    "assert",
    "assign",
    "assume",
    "automatic",
    "before",
    "begin",
    "bind",
    "bins",
    "binsof",
    "bit",
    "break",
    "buf",
    "bufif0",
    "bufif1",
    "byte",
    "case",
    "casex",
    "casez",
    "cell",
    "chandle",
    "checker",
    "class",
    "clocking",
    "cmos",
    "config",
    "const",
    "constraint",
    "context",
    "continue",
    "cover",
    "covergroup",
    "coverpoint",
    "cross",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "dist",
    "do",
    "edge",
    "else",
    "end",
    "endcase",
    "endchecker",
    "endclass",
    "endclocking",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endgroup",
    "endinterface",
    "endmodule",
    "endpackage",
    "endprimitive",
    "endprogram",
    "endproperty",
    "endspecify",
    "endsequence",
    "endtable",
    "endtask",
    "enum",
    "event",
    "eventually",
    "expect",
    "export",
    "extends",
    "extern",
    "final",
    "first_match",
    "for",
    "force",
    "foreach",
    "forever",
    "fork",
    "forkjoin",
    "function",
    "generate",
    "genvar",
    "global",
    "highz0",
    "highz1",
    "if",
    "iff",
    "ifnone",
    "ignore_bins",
    "illegal_bins",
    "implements",
    "implies",
    "import",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "inside",
    "instance",
    "int",
    "integer",
    "interconnect",
    "interface",
    "intersect",
    "join",
    "join_any",
    "join_none",
    "large",
    "let",
    "liblist",
    "library",
    "local",
    "localparam",
    "logic",
    "longint",
    "macromodule",
    "matches",
    "medium",
    "modport",
    "module",
    "nand",
    "negedge",
    "nettype",
    "new",
    "nexttime",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "null",
    "or",
    "output",
    "package",
    "packed",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "priority",
    "program",
    "property",
    "protected",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_ondetect",
    "pulsestyle_onevent",
    "pure",
    "rand",
    "randc",
    "randcase",
    "randsequence",
    "rcmos",
    "real",
    "realtime",
    "ref",
    "reg",
    "reject_on",
    "release",
    "repeat",
    "restrict",
    "return",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "s_always",
    "s_eventually",
    "s_nexttime",
    "s_until",
    "s_until_with",
    "scalared",
    "sequence",
    "shortint",
    "shortreal",
    "showcancelled",
    "signed",
    "small",
    "soft",
    "solve",
    "specify",
    "specparam",
    "static",
    "string",
    "strong",
    "strong0",
    "strong1",
    "struct",
    "super",
    "supply0",
    "supply1",
    "sync_accept_on",
    "sync_reject_on",
    "table",
    "tagged",
    "task",
    "this",
    "throughout",
    "time",
    "timeprecision",
    "timeunit",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "type",
    "typedef",
    "union",
    "unique",
    "unique0",
    "unsigned",
    "until",
    "until_with",
    "untyped",
    "use",
    "uwire",
    "var",
    "vectored",
    "virtual",
    "void",
    "wait",
    "wait_order",
    "wand",
    "weak",
    "weak0",
    "weak1",
    "while",
    "wildcard",
    "wire",
    "with",
    "within",
    "wor",
    "xnor",
    "xor",
];

/// A declared signal: width and signedness.
#[derive(Debug, Clone, Copy)]
struct Decl {
    width: usize,
    signed: bool,
    dir: Option<PortDir>,
}

/// Declarations of each module in rust-hdl output, keyed by module then signal.
fn declarations(text: &str) -> BTreeMap<String, BTreeMap<String, Decl>> {
    let mut all: BTreeMap<String, BTreeMap<String, Decl>> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(c) = module_re().captures(line) {
            current = c[1].to_string();
            all.entry(current.clone()).or_default();
        } else if let Some(c) = decl_re().captures(line) {
            let width = c
                .get(3)
                .map_or(1, |w| w.as_str().parse::<usize>().unwrap_or(0) + 1);
            let dir = match &c[1] {
                "input wire" => Some(PortDir::Input),
                "output reg" | "output wire" => Some(PortDir::Output),
                _ => None,
            };
            let d = Decl {
                width,
                signed: c.get(2).is_some(),
                dir,
            };
            all.entry(current.clone())
                .or_default()
                .insert(c[4].to_string(), d);
        } else if let Some(c) = param_re().captures(line) {
            let width = c[3].parse().unwrap_or(0);
            let d = Decl {
                width,
                signed: c.get(1).is_some(),
                dir: None,
            };
            all.entry(current.clone())
                .or_default()
                .insert(c[2].to_string(), d);
        }
    }
    all
}

/// Rewrites rust-hdl's mask-style casts of signals into width-exact Verilog.
fn fix_casts(text: &str) -> Result<String> {
    let decls = declarations(text);
    let mut out = String::with_capacity(text.len());
    let mut current = String::new();
    for line in text.lines() {
        if let Some(c) = module_re().captures(line) {
            current = c[1].to_string();
        }
        let empty = BTreeMap::new();
        let scope = decls.get(&current).unwrap_or(&empty);
        let mut failure = None;
        let fixed = cast_re().replace_all(line, |c: &regex::Captures| {
            let name = &c[1];
            let n: usize = c[2].parse().unwrap_or(0);
            let Some(d) = scope.get(name) else {
                failure = Some(format!("cast of undeclared signal '{name}'"));
                return c[0].to_string();
            };
            if d.signed {
                failure = Some(format!("bit_cast of signed signal '{name}'"));
                return c[0].to_string();
            }
            let w = d.width;
            match w.cmp(&n) {
                std::cmp::Ordering::Less => format!("{{{}'b0, {}}}", n - w, name),
                std::cmp::Ordering::Equal => name.to_string(),
                std::cmp::Ordering::Greater if n == 1 => format!("{name}[0]"),
                std::cmp::Ordering::Greater => format!("{name}[{}:0]", n - 1),
            }
        });
        if let Some(f) = failure {
            return Err(Error::new(format!(
                "Verilog emission: {f} in module {current}: {line}"
            )));
        }
        if left_cast_re().is_match(&fixed) {
            return Err(Error::new(format!(
                "Verilog emission: bit_cast of an expression in module {current} (its Verilog \
                 width would come from the context, not from the cast); cast a signal instead: {}",
                fixed.trim()
            )));
        }
        out.push_str(fixed.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// Renames `top` to `name` and `top$a$b` to `name__a__b`; returns the text and child names.
fn rename_modules(text: &str, name: &str) -> (String, Vec<String>) {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        if let Some(c) = module_re().captures(line) {
            let old = c[1].to_string();
            let new = if old == "top" {
                name.to_string()
            } else if let Some(rest) = old.strip_prefix("top$") {
                format!("{name}__{}", rest.replace('$', "__"))
            } else {
                old.clone()
            };
            map.insert(old, new);
        }
    }
    let renamed = ident_re()
        .replace_all(text, |c: &regex::Captures| {
            map.get(&c[0]).cloned().unwrap_or_else(|| c[0].to_string())
        })
        .into_owned();
    let children = map.into_values().filter(|n| n != name).collect();
    (renamed, children)
}

/// Refuses signal and module names that are Verilog or SystemVerilog keywords.
fn check_names(text: &str) -> Result<()> {
    for (module, decls) in declarations(text) {
        for name in std::iter::once(&module).chain(decls.keys()) {
            if KEYWORDS.contains(&name.as_str()) {
                return Err(Error::new(format!(
                    "Verilog emission: '{name}' in module {module} is a (System)Verilog keyword; \
                     rename the rust-hdl field"
                )));
            }
        }
    }
    Ok(())
}

/// Checks the ports of the top module against the documented ones.
fn check_ports(text: &str, spec: &ModuleSpec) -> Result<()> {
    let decls = declarations(text);
    let top = decls
        .get(&spec.name)
        .ok_or_else(|| Error::new(format!("Verilog emission: module {} not found", spec.name)))?;
    let mut actual: Vec<(String, PortDir, usize)> = top
        .iter()
        .filter_map(|(n, d)| d.dir.map(|dir| (n.clone(), dir, d.width)))
        .collect();
    let mut documented: Vec<(String, PortDir, usize)> = spec
        .ports
        .iter()
        .map(|p| (p.name.clone(), p.dir, p.width))
        .collect();
    actual.sort_by(|a, b| a.0.cmp(&b.0));
    documented.sort_by(|a, b| a.0.cmp(&b.0));
    if actual != documented {
        return Err(Error::new(format!(
            "Verilog emission: ports of {} are {:?} but the header documents {:?}",
            spec.name, actual, documented
        )));
    }
    Ok(())
}

fn header(spec: &ModuleSpec, submodules: &[String], has_registers: bool) -> String {
    let mut h = Vec::new();
    h.push(format!(
        "{}.v -- generated by pelab-hdl {} from its rust-hdl description; do not edit.",
        spec.name,
        env!("CARGO_PKG_VERSION")
    ));
    h.push(String::new());
    h.push(format!("Module: {} (PE {})", spec.name, spec.pe));
    let cfg: Vec<String> = spec
        .config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    h.push(format!("Configuration: {}", cfg.join(" ")));
    h.push("Semantics:".into());
    for s in &spec.semantics {
        h.push(format!("  - {s}"));
    }
    h.push(format!(
        "Latency: {} clock cycle{}. {}",
        spec.latency,
        if spec.latency == 1 { "" } else { "s" },
        spec.timing
    ));
    h.push("Ports:".into());
    let wmax = spec.ports.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in &spec.ports {
        let dir = match p.dir {
            PortDir::Input => "input ",
            PortDir::Output => "output",
        };
        let range = if p.width == 1 {
            String::new()
        } else {
            format!("[{}:0]", p.width - 1)
        };
        h.push(format!("  {dir} {range:>7} {:wmax$}  {}", p.name, p.doc));
    }
    h.push("Notes:".into());
    if !submodules.is_empty() {
        h.push(format!(
            "  - Sub-modules of this configuration are defined in this file: {}.",
            submodules.join(", ")
        ));
    }
    if has_registers {
        h.push(
            "  - Each register comes from rust-hdl's DFF, which writes an `initial` block that \
             sets its power-up value to 0."
                .into(),
        );
        h.push(
            "    FPGA flows use it as the register's init value; ASIC synthesis ignores it, so \
             the registers power up unknown: flush the pipeline (or clear the state) before use."
                .into(),
        );
    }
    h.push(
        "  - Ports are plain (unsigned) vectors; any signed interpretation is stated above.".into(),
    );
    let mut out: String = h
        .iter()
        .map(|l| {
            if l.is_empty() {
                "//\n".to_string()
            } else {
                format!("// {l}\n")
            }
        })
        .collect();
    out.push('\n');
    out
}

/// Generates the Verilog of `block` and turns it into the documented module `spec.name`.
///
/// The block must be fully built (constants set); `connect_all` and rust-hdl's structural checks
/// (every input driven, no combinational loop, no input written inside) run here.
pub fn emit_block<B: Block>(block: &mut B, spec: &ModuleSpec) -> Result<RtlModule> {
    block.connect_all();
    check_all(block).map_err(|e| {
        Error::new(format!(
            "rust-hdl rejected the block of {}: {e:?}",
            spec.name
        ))
    })?;
    let raw = generate_verilog_unchecked(block);
    let (renamed, submodules) = rename_modules(&raw, &spec.name);
    let body = fix_casts(&renamed)?;
    check_names(&body)?;
    check_ports(&body, spec)?;
    let has_registers = body.contains("always @(posedge");
    let mut text = header(spec, &submodules, has_registers);
    text.push_str("`default_nettype none\n");
    let mut first_child = true;
    for line in body.lines() {
        let is_child_start = module_re()
            .captures(line)
            .is_some_and(|c| submodules.iter().any(|s| s == &c[1]));
        if is_child_start && first_child {
            first_child = false;
            text.push_str(
                "// The sub-modules of this configuration live in its file (one file per \
                 configuration),\n// so their names differ from the file name on purpose.\n\
                 /* verilator lint_off DECLFILENAME */\n",
            );
        }
        // Drop the blank-line runs rust-hdl leaves between sections.
        if line.is_empty() && text.ends_with("\n\n") {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    if !first_child {
        text.push_str("/* verilator lint_on DECLFILENAME */\n");
    }
    text.push_str("`default_nettype wire\n");
    Ok(RtlModule {
        name: spec.name.clone(),
        verilog: text,
        latency: spec.latency,
        ports: spec.ports.clone(),
        submodules,
    })
}

/// A number that differs between calls in this process (temporary names of parallel writers).
pub(crate) fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Writes `bytes` (text or binary) to `path` atomically: [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes.as_ref()))
}

/// Writes `path` through a temporary file in its directory (created when missing), filled by
/// `fill`, flushed and synced, then renamed into place: a reader never sees a partial file, and
/// a failed write leaves no temporary file behind.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::new(format!("cannot create directory {}: {e}", dir.display())))?;
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{file}.tmp{}-{}", std::process::id(), unique()));
    let written = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    let done = written
        .map_err(|e| Error::new(format!("cannot write {}: {e}", tmp.display())))
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|e| {
                Error::new(format!(
                    "cannot rename {} to {}: {e}",
                    tmp.display(),
                    path.display()
                ))
            })
        });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Writes the module to `<dir>/<name>.v` atomically and returns the path.
pub fn write_module(dir: &Path, module: &RtlModule) -> Result<PathBuf> {
    let path = dir.join(module.file_name());
    write_atomic(&path, &module.verilog)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "\n\nmodule top(a,y);\n    input wire  [7:0] a;\n    output reg  [8:0] y;\n    reg  [3:0] n;\n    wire  [7:0] sub$q;\n    top$sub sub(\n        .q(sub$q)\n    );\n    always @(*) begin\n        y = ((a) & 9'h1ff);\n        n = ((a) & 4'hf);\n    end\nendmodule // top\n\n\nmodule top$sub(q);\n    output reg  [7:0] q;\nendmodule // top$sub\n";

    #[test]
    fn renames_top_and_children() {
        let (t, kids) = rename_modules(RAW, "pelab_x");
        assert!(t.contains("module pelab_x(a,y);"));
        assert!(t.contains("module pelab_x__sub(q);"));
        assert!(t.contains("    pelab_x__sub sub("));
        assert!(t.contains(".q(sub$q)"), "signal names untouched");
        assert_eq!(kids, vec!["pelab_x__sub".to_string()]);
    }

    #[test]
    fn casts_become_exact_width() {
        let t = fix_casts(RAW).unwrap();
        assert!(t.contains("y = {1'b0, a};"), "{t}");
        assert!(t.contains("n = a[3:0];"), "{t}");
    }

    #[test]
    fn cast_of_expression_is_refused() {
        let bad = "module top(a);\n  input wire  [7:0] a;\n  always @(*) begin\n    y = ((a + a) & 9'h1ff);\n  end\nendmodule\n";
        let e = fix_casts(bad).unwrap_err().to_string();
        assert!(e.contains("bit_cast of an expression"), "{e}");
    }

    #[test]
    fn keyword_names_are_refused() {
        let bad = "module top(a);\n  input wire  [7:0] a;\n  reg  [5:0] dist;\nendmodule\n";
        let e = check_names(bad).unwrap_err().to_string();
        assert!(e.contains("'dist'"), "{e}");
        assert!(check_names(RAW).is_ok());
    }

    #[test]
    fn atomic_write_replaces_file() {
        let dir = std::env::temp_dir().join(format!("pelab-hdl-emit-{}", std::process::id()));
        let p = dir.join("m.v");
        write_atomic(&p, "one").unwrap();
        write_atomic(&p, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
