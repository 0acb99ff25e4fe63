//! Self-checking Verilog testbenches.
//!
//! A testbench reads the packed vectors with `$readmemh`, drives the DUT as the layout's timing
//! says, compares every output with `!==` (so X and Z count as mismatches), prints the first
//! mismatches as `MISMATCH <row> <inputs> | <expected> | <got>` (hex), and ends with the line
//! `N passed, N failed`. It exits non-zero when anything failed or no vector was read (Icarus:
//! run `vvp -N`, which turns the final `$stop` into exit code 1; Verilator: `std::exit(1)`).
//!
//! A waveform testbench ([`testbench_waves`]) is the same testbench that also dumps a VCD:
//! every signal of the testbench and the DUT, plus `check_row` (all ones before the first
//! compare), `expected_<output>`, `got_<output>`, `mismatch` (and `care` with a `CARE` mask),
//! which change at the falling edge of `tbclk` where a row is compared and describe that row.
//! It ends with `$finish` whatever its verdict (so that the simulator closes the VCD): only its
//! summary line tells. The plain testbench dumps nothing.

use crate::vectors::{Field, Layout, Timing};
use pelab_sim::{Error, Result};
use std::fmt::Write as _;

/// How many mismatches a testbench prints (it counts all of them).
pub const SHOWN_MISMATCHES: u32 = 20;

/// A DUT port as the testbench needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutPort {
    /// Port name.
    pub name: String,
    /// Width in bits.
    pub width: u32,
    /// Whether it is an output.
    pub output: bool,
}

/// Checks that the DUT's ports match the layout (same names, widths, directions; a `clock`
/// input when the layout is clocked, nothing else).
pub fn check_ports(module: &str, layout: &Layout, ports: &[DutPort]) -> Result<()> {
    let mut want: Vec<DutPort> = layout
        .fields
        .iter()
        .map(|f| DutPort {
            name: f.name.clone(),
            width: f.width,
            output: f.output,
        })
        .collect();
    if layout.clocked() {
        want.push(DutPort {
            name: "clock".into(),
            width: 1,
            output: false,
        });
    }
    for w in &want {
        match ports.iter().find(|p| p.name == w.name) {
            None => {
                return Err(Error::new(format!(
                    "module {module} has no port '{}' ({} {} bit{}); the port conventions are in docs/hdl.md",
                    w.name,
                    if w.output { "output" } else { "input" },
                    w.width,
                    if w.width == 1 { "" } else { "s" }
                )))
            }
            Some(p) if p.width != w.width || p.output != w.output => {
                return Err(Error::new(format!(
                    "module {module} port '{}' is {} {} bits, expected {} {} bits",
                    w.name,
                    if p.output { "output" } else { "input" },
                    p.width,
                    if w.output { "output" } else { "input" },
                    w.width
                )))
            }
            _ => {}
        }
    }
    if let Some(extra) = ports
        .iter()
        .find(|p| !want.iter().any(|w| w.name == p.name))
    {
        return Err(Error::new(format!(
            "module {module} has a port '{}' that the vectors do not drive or check",
            extra.name
        )));
    }
    Ok(())
}

/// (msb, lsb) of each column in a packed row (first column in the top bits).
fn slices(cols: &[Field], width: u32) -> Vec<(u32, u32)> {
    let mut hi = width;
    cols.iter()
        .map(|f| {
            let s = (hi - 1, hi - f.width);
            hi -= f.width;
            s
        })
        .collect()
}

fn decl(w: u32) -> String {
    if w == 1 {
        String::new()
    } else {
        format!("[{}:0] ", w - 1)
    }
}

/// What a waveform testbench dumps, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TbWaves {
    /// The VCD file the simulator writes (relative to its working directory).
    pub vcd: String,
    /// Index of the memory's first row in the whole vector set (for `check_row`).
    pub base: u64,
}

/// The testbench for `module` reading `rows` packed rows from `mem_file`.
pub fn testbench(module: &str, layout: &Layout, rows: u64, mem_file: &str) -> String {
    testbench_waves(module, layout, rows, mem_file, None)
}

/// [`testbench`], dumping a VCD as `waves` says when it is given (see the module doc).
pub fn testbench_waves(
    module: &str,
    layout: &Layout,
    rows: u64,
    mem_file: &str,
    waves: Option<&TbWaves>,
) -> String {
    let cols = layout.columns();
    let width = layout.row_width();
    let sl = slices(&cols, width);
    let col = |name: &str| cols.iter().position(|f| f.name == name).unwrap();
    let outs: Vec<&Field> = layout.outputs().collect();
    let ins: Vec<&Field> = layout.inputs().collect();
    let mut v = String::new();
    let w = &mut v;
    let _ = writeln!(
        w,
        "// pelab self-checking testbench for {module}: {rows} rows from {mem_file}"
    );
    let _ = writeln!(w, "// generator: pelab {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(w, "`timescale 1ns/1ps");
    let _ = writeln!(w, "module pelab_tb;");
    let _ = writeln!(w, "  localparam integer ROWS = {rows};");
    let _ = writeln!(w, "  reg [{}:0] mem [0:ROWS-1];", width - 1);
    let _ = writeln!(w, "  reg [{}:0] row;", width - 1);
    let _ = writeln!(w, "  reg [{}:0] chk;", width - 1);
    for f in &ins {
        let _ = writeln!(w, "  reg {}{};", decl(f.width), f.name);
    }
    for f in &outs {
        let _ = writeln!(w, "  wire {}{};", decl(f.width), f.name);
    }
    if layout.clocked() {
        let _ = writeln!(w, "  reg clock;");
    }
    let _ = writeln!(w, "  integer i, passed, failed, shown, bad;");
    if let Some(wv) = waves {
        // The row compared at the last falling edge, and what it expected.
        let _ = writeln!(w, "  localparam [63:0] BASE = 64'd{};", wv.base);
        let _ = writeln!(w, "  reg [63:0] check_row;");
        for f in &outs {
            let _ = writeln!(w, "  reg {}expected_{};", decl(f.width), f.name);
            let _ = writeln!(w, "  reg {}got_{};", decl(f.width), f.name);
        }
        if layout.care {
            let _ = writeln!(w, "  reg {}care;", decl(outs.len() as u32));
        }
        let _ = writeln!(w, "  reg mismatch;");
    }
    let mut conns: Vec<String> = Vec::new();
    if layout.clocked() {
        conns.push(".clock(clock)".into());
    }
    conns.extend(layout.fields.iter().map(|f| format!(".{0}({0})", f.name)));
    let _ = writeln!(w, "  {module} dut ({});", conns.join(", "));
    // The check, inlined at each use (Verilator 5.006 with --timing loses updates that a task
    // makes to module variables in a clocked testbench): compares the outputs with row K.
    let mut check = String::new();
    {
        let c = &mut check;
        let _ = writeln!(c, "begin");
        let _ = writeln!(c, "        chk = mem[K];");
        let _ = writeln!(c, "        bad = 0;");
        for (j, f) in outs.iter().enumerate() {
            let (hi, lo) = sl[col(&f.name)];
            let care = if layout.care {
                let (_, cl) = sl[col("care")];
                format!("chk[{}] && ", cl + j as u32)
            } else {
                String::new()
            };
            let _ = writeln!(
                c,
                "        if ({care}{} !== chk[{hi}:{lo}]) bad = 1;",
                f.name
            );
        }
        let _ = writeln!(c, "        if (bad) begin");
        let _ = writeln!(c, "          failed = failed + 1;");
        let _ = writeln!(c, "          if (shown < {SHOWN_MISMATCHES}) begin");
        let fmt_in: Vec<&str> = ins.iter().map(|_| "%h").collect();
        let fmt_out: Vec<&str> = outs.iter().map(|_| "%h").collect();
        let field = |f: &Field| {
            let (hi, lo) = sl[col(&f.name)];
            format!("chk[{hi}:{lo}]")
        };
        let args_in: Vec<String> = ins.iter().map(|f| field(f)).collect();
        let args_exp: Vec<String> = outs.iter().map(|f| field(f)).collect();
        let args_got: Vec<String> = outs.iter().map(|f| f.name.clone()).collect();
        let _ = writeln!(
            c,
            "            $display(\"MISMATCH %0d {} | {} | {}\", K, {}, {}, {});",
            fmt_in.join(" "),
            fmt_out.join(" "),
            fmt_out.join(" "),
            args_in.join(", "),
            args_exp.join(", "),
            args_got.join(", ")
        );
        let _ = writeln!(c, "            shown = shown + 1;");
        let _ = writeln!(c, "          end");
        let _ = writeln!(c, "        end else passed = passed + 1;");
        if waves.is_some() {
            // (No capital K here: the check's row index is substituted for it.)
            let _ = writeln!(c, "        mismatch = bad;");
            let _ = writeln!(c, "        check_row = BASE + K;");
            for f in &outs {
                let (hi, lo) = sl[col(&f.name)];
                let _ = writeln!(c, "        expected_{} = chk[{hi}:{lo}];", f.name);
                let _ = writeln!(c, "        got_{0} = {0};", f.name);
            }
            if layout.care {
                let (hi, lo) = sl[col("care")];
                let _ = writeln!(c, "        care = chk[{hi}:{lo}];");
            }
        }
        let _ = write!(c, "      end");
    }
    let check_at = |k: &str| check.replace('K', k);
    let drive = {
        let mut d = String::new();
        for f in &ins {
            let (hi, lo) = sl[col(&f.name)];
            let _ = write!(d, " {} = row[{hi}:{lo}];", f.name);
        }
        d
    };
    // One process on the testbench clock's falling edge: check the row whose result is due,
    // then apply the next row's inputs; the DUT samples on the rising edge in between.
    // (A single clocked process rather than a loop with delays: Verilator 5.006 with --timing
    // loses variable updates made inside long delayed loops.)
    let due = match layout.timing {
        Timing::Stream { latency } => latency.max(1),
        Timing::Cycles => 1,
    };
    let _ = writeln!(w, "  reg tbclk;");
    let _ = writeln!(w, "  integer n;");
    let _ = writeln!(w, "  initial begin");
    let _ = writeln!(
        w,
        "    passed = 0; failed = 0; shown = 0; n = 0; tbclk = 1;"
    );
    let _ = writeln!(
        w,
        "    for (i = 0; i < ROWS; i = i + 1) mem[i] = {{{width}{{1'bx}}}};"
    );
    let _ = writeln!(w, "    $readmemh(\"{mem_file}\", mem);");
    if let Some(wv) = waves {
        let _ = writeln!(w, "    mismatch = 0; check_row = ~64'd0;");
        let _ = writeln!(w, "    $dumpfile(\"{}\");", wv.vcd);
        let _ = writeln!(w, "    $dumpvars(0, pelab_tb);");
    }
    let _ = writeln!(w, "    if (^mem[ROWS-1] === 1'bx) begin");
    let _ = writeln!(
        w,
        "      $display(\"ERROR: {mem_file} holds fewer than %0d complete rows\", ROWS);"
    );
    let _ = writeln!(w, "      n = ROWS + {due};");
    let _ = writeln!(w, "      failed = failed + 1;");
    let _ = writeln!(w, "    end");
    let _ = writeln!(w, "  end");
    let _ = writeln!(w, "  always #1 tbclk = ~tbclk;");
    if layout.clocked() {
        let _ = writeln!(w, "  always @(*) clock = tbclk;");
    }
    let _ = writeln!(w, "  always @(negedge tbclk) begin");
    let _ = writeln!(
        w,
        "    if (n >= {due} && n < ROWS + {due}) {}",
        check_at(&format!("(n - {due})"))
    );
    let _ = writeln!(w, "    if (n < ROWS) begin row = mem[n];{drive} end");
    let _ = writeln!(w, "    if (n >= ROWS + {due}) begin");
    let _ = writeln!(
        w,
        "      $display(\"%0d passed, %0d failed\", passed, failed);"
    );
    // A waveform testbench always ends with $finish, which closes the VCD (Verilator's exit
    // would lose its buffered end); its verdict is the summary line alone.
    if waves.is_none() {
        let _ = writeln!(w, "      if (failed != 0 || passed == 0) begin");
        let _ = writeln!(w, "`ifdef VERILATOR");
        let _ = writeln!(w, "        $c(\"std::exit(1);\");");
        let _ = writeln!(w, "`else");
        let _ = writeln!(w, "        $stop;");
        let _ = writeln!(w, "`endif");
        let _ = writeln!(w, "      end");
    }
    let _ = writeln!(w, "      $finish;");
    let _ = writeln!(w, "    end");
    let _ = writeln!(w, "    n = n + 1;");
    let _ = writeln!(w, "  end");
    let _ = writeln!(w, "endmodule");
    v
}
