//! The output-stationary array: Verilog text around R×C instances of a cell.
//!
//! The array is written as text, not as a rust-hdl block: its size (R, C up to 64) is a run-time
//! parameter, and rust-hdl sizes a block's children at compile time. Every register and wire is
//! spelled out (no `generate`), so Icarus, Verilator and Yosys read the same plain Verilog-2001.
//!
//! Schedule (cycle `T` = the cycle whose inputs carry step `t`): PE(i, j) applies step `t` in
//! cycle `T + i + j`; the array's registers and the drain are described in the file header
//! ([`ArrayShape::semantics`]).

use crate::emit::{Port, PortDir};
use std::fmt::Write;

/// The shape of an array and of its cells' operand buses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Rows R (A's rows enter one per row, at the west edge).
    pub rows: usize,
    /// Columns C (B's columns enter one per column, at the north edge).
    pub cols: usize,
    /// Operand lanes per step (d).
    pub lanes: usize,
    /// Bits of one lane of A.
    pub a_width: usize,
    /// Bits of one lane of B.
    pub b_width: usize,
    /// The cell is sequential (`bitmod`): clocked, with `valid`, `last`, `y` and `done`.
    pub sequential: bool,
}

impl Geometry {
    /// Bits of a row's `a` bus: `lanes · a_width`.
    pub fn a_bus(&self) -> usize {
        self.lanes * self.a_width
    }
    /// Bits of a column's `b` bus: `lanes · b_width`.
    pub fn b_bus(&self) -> usize {
        self.lanes * self.b_width
    }
}

/// Width of `out_row`: enough for `R - 1`, at least 1.
pub fn row_bits(r: usize) -> usize {
    (usize::BITS - (r.max(2) - 1).leading_zeros()) as usize
}

/// The `clock` and `reset` ports every array begins with.
pub(crate) fn clock_reset() -> Vec<Port> {
    vec![
        Port::input(
            "clock",
            1,
            "clock; every register samples on its rising edge",
        ),
        Port::input(
            "reset",
            1,
            "synchronous reset, active high: every register of the array loads 0",
        ),
    ]
}

/// The ports of the output-stationary array, in order.
pub fn ports(g: &Geometry) -> Vec<Port> {
    let mut p = clock_reset();
    p.extend([
        Port::input("in_valid", 1, "the a_in_* and b_in_* ports carry a step"),
        Port::input(
            "in_first",
            1,
            "with in_valid: the first step of a tile (accumulators start from 0)",
        ),
        Port::input(
            "in_last",
            1,
            "with in_valid: the last step of a tile (starts the drain)",
        ),
    ]);
    for i in 0..g.rows {
        p.push(Port::input(
            &format!("a_in_{i}"),
            g.a_bus(),
            format!(
                "row {i} of A at this step: {} lane(s) of {} bits, lane 0 in the low bits",
                g.lanes, g.a_width
            ),
        ));
    }
    for j in 0..g.cols {
        p.push(Port::input(
            &format!("b_in_{j}"),
            g.b_bus(),
            format!(
                "column {j} of B at this step: {} lane(s) of {} bits, lane 0 in the low bits",
                g.lanes, g.b_width
            ),
        ));
    }
    p.push(Port::output(
        "out_valid",
        1,
        "c_out_* hold row out_row of the finished tile",
    ));
    p.push(Port::output(
        "out_row",
        row_bits(g.rows),
        "row of C on c_out_* (0 first)",
    ));
    for j in 0..g.cols {
        p.push(Port::output(
            &format!("c_out_{j}"),
            32,
            format!("C[out_row][{j}], the accumulator's 32-bit code"),
        ));
    }
    p
}

/// The Verilog of the array module `name` and its PE module `<name>_pe`, instantiating the
/// cell module `cell` (ports `acc`, `a`, `b`, `y`). The cell's own text is not included.
pub fn verilog(name: &str, cell: &str, g: &Geometry) -> String {
    let mut v = String::new();
    top_module(&mut v, name, g);
    v.push_str("/* verilator lint_off DECLFILENAME */\n");
    if g.sequential {
        seq_pe_module(&mut v, name, cell, g);
    } else {
        pe_module(&mut v, name, cell, g);
    }
    v
}

/// One processing element around a sequential cell (`bitmod`): the cell keeps its own
/// accumulator and says `done` in the cycle its tile's result is final; the systolic registers
/// and the drain stage are those of [`pe_module`].
fn seq_pe_module(v: &mut String, name: &str, cell: &str, g: &Geometry) {
    let (la, lb) = (g.a_bus(), g.b_bus());
    let _ = writeln!(
        v,
        "// One PE of {name}: the sequential cell takes a term of the beat on a_w, b_n when \
         valid and keeps its accumulator acc; a, b and the flags move on; d is this PE's stage \
         of the column's drain chain (load acc on ld, else take d_in from the PE below); done \
         is the cell's."
    );
    let _ = writeln!(
        v,
        "module {name}__pe(clock, reset, a_w, b_n, v_w, f_w, l_w, a_e, b_s, v_e, f_e, l_e, ld, \
         d_in, d, done);"
    );
    for (kind, w, n) in [
        ("input wire", 1, "clock"),
        ("input wire", 1, "reset"),
        ("input wire", la, "a_w"),
        ("input wire", lb, "b_n"),
        ("input wire", 1, "v_w"),
        ("input wire", 1, "f_w"),
        ("input wire", 1, "l_w"),
        ("output reg", la, "a_e"),
        ("output reg", lb, "b_s"),
        ("output reg", 1, "v_e"),
        ("output reg", 1, "f_e"),
        ("output reg", 1, "l_e"),
        ("input wire", 1, "ld"),
        ("input wire", 32, "d_in"),
        ("output reg", 32, "d"),
        ("output wire", 1, "done"),
    ] {
        decl(v, kind, w, n);
    }
    decl(v, "wire", 32, "acc");
    let _ = writeln!(
        v,
        "    {cell} seq(\n        .clock(clock),\n        .reset(reset),\n        \
         .valid(v_w),\n        .last(l_w),\n        .a(a_w),\n        .b(b_n),\n        \
         .y(acc),\n        .done(done)\n    );"
    );
    let _ = writeln!(v, "    always @(posedge clock) begin");
    let _ = writeln!(v, "        if (reset) begin");
    for (r, w) in [
        ("a_e", la),
        ("b_s", lb),
        ("v_e", 1),
        ("f_e", 1),
        ("l_e", 1),
        ("d", 32),
    ] {
        let _ = writeln!(v, "            {r} <= {w}'d0;");
    }
    let _ = writeln!(v, "        end else begin");
    for (r, x) in [
        ("a_e", "a_w"),
        ("b_s", "b_n"),
        ("v_e", "v_w"),
        ("f_e", "f_w"),
        ("l_e", "l_w"),
    ] {
        let _ = writeln!(v, "            {r} <= {x};");
    }
    let _ = writeln!(v, "            d <= ld ? acc : d_in;");
    let _ = writeln!(v, "        end");
    let _ = writeln!(v, "    end");
    let _ = writeln!(v, "endmodule // {name}__pe\n");
}

pub(crate) fn decl(v: &mut String, kind: &str, width: usize, name: &str) {
    if width == 1 {
        let _ = writeln!(v, "    {kind} {name};");
    } else {
        let _ = writeln!(v, "    {kind} [{}:0] {name};", width - 1);
    }
}

/// One processing element: the cell, its accumulator, the systolic registers that pass `a`
/// east and `b` south with the step flags, and one stage of the column's drain chain.
fn pe_module(v: &mut String, name: &str, cell: &str, g: &Geometry) {
    let (la, lb) = (g.a_bus(), g.b_bus());
    let _ = writeln!(
        v,
        "// One PE of {name}: acc <= step(first ? 0 : acc, a_w, b_n) when valid; a, b and the \
         flags move on; d is this PE's stage of the column's drain chain (load acc on ld, else \
         take d_in from the PE below)."
    );
    let _ = writeln!(
        v,
        "module {name}__pe(clock, reset, a_w, b_n, v_w, f_w, l_w, a_e, b_s, v_e, f_e, l_e, ld, \
         d_in, d);"
    );
    for (kind, w, n) in [
        ("input wire", 1, "clock"),
        ("input wire", 1, "reset"),
        ("input wire", la, "a_w"),
        ("input wire", lb, "b_n"),
        ("input wire", 1, "v_w"),
        ("input wire", 1, "f_w"),
        ("input wire", 1, "l_w"),
        ("output reg", la, "a_e"),
        ("output reg", lb, "b_s"),
        ("output reg", 1, "v_e"),
        ("output reg", 1, "f_e"),
        ("output reg", 1, "l_e"),
        ("input wire", 1, "ld"),
        ("input wire", 32, "d_in"),
        ("output reg", 32, "d"),
    ] {
        decl(v, kind, w, n);
    }
    decl(v, "reg", 32, "acc");
    decl(v, "wire", 32, "acc_in");
    decl(v, "wire", 32, "y");
    let _ = writeln!(v, "    assign acc_in = f_w ? 32'd0 : acc;");
    let _ = writeln!(
        v,
        "    {cell} step(\n        .acc(acc_in),\n        .a(a_w),\n        .b(b_n),\n        \
         .y(y)\n    );"
    );
    let _ = writeln!(v, "    always @(posedge clock) begin");
    let _ = writeln!(v, "        if (reset) begin");
    for (r, w) in [
        ("a_e", la),
        ("b_s", lb),
        ("v_e", 1),
        ("f_e", 1),
        ("l_e", 1),
        ("acc", 32),
        ("d", 32),
    ] {
        let _ = writeln!(v, "            {r} <= {w}'d0;");
    }
    let _ = writeln!(v, "        end else begin");
    for (r, x) in [
        ("a_e", "a_w"),
        ("b_s", "b_n"),
        ("v_e", "v_w"),
        ("f_e", "f_w"),
        ("l_e", "l_w"),
    ] {
        let _ = writeln!(v, "            {r} <= {x};");
    }
    let _ = writeln!(v, "            if (v_w) acc <= y;");
    let _ = writeln!(v, "            d <= ld ? acc : d_in;");
    let _ = writeln!(v, "        end");
    let _ = writeln!(v, "    end");
    let _ = writeln!(v, "endmodule // {name}__pe\n");
}

/// Port list text of a module.
pub(crate) fn port_list(ports: &[Port]) -> String {
    let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
    names.join(", ")
}

fn top_module(v: &mut String, name: &str, g: &Geometry) {
    let (r, c) = (g.rows, g.cols);
    let (la, lb) = (g.a_bus(), g.b_bus());
    let ports = ports(g);
    let _ = writeln!(v, "module {name}({});", port_list(&ports));
    for p in &ports {
        let kind = match p.dir {
            PortDir::Input => "input wire",
            PortDir::Output => "output wire",
        };
        decl(v, kind, p.width, &p.name);
    }
    // Row skew: row i's a and flags through i registers.
    let _ = writeln!(
        v,
        "    // Row skew: row i's a and step flags delayed i cycles."
    );
    for i in 0..r {
        for s in 0..i {
            decl(v, "reg", la, &format!("ask_{i}_{s}"));
            decl(v, "reg", 3, &format!("fsk_{i}_{s}"));
        }
    }
    let _ = writeln!(v, "    // Column skew: column j's b delayed j cycles.");
    for j in 0..c {
        for s in 0..j {
            decl(v, "reg", lb, &format!("bsk_{j}_{s}"));
        }
    }
    let _ = writeln!(
        v,
        "    // Deskew: column j's drain head delayed C-1-j cycles."
    );
    for j in 0..c {
        for s in 0..(c - 1 - j) {
            decl(v, "reg", 32, &format!("dsk_{j}_{s}"));
        }
    }
    decl(v, "reg", row_bits(r) + 1, "left");
    decl(v, "reg", row_bits(r), "row");
    // Wires between PEs: a and flags east (index j = the PE's west input), b south. The
    // east and south edges' wires are left unread.
    let _ = writeln!(v, "    // verilator lint_off UNUSED");
    for i in 0..r {
        for j in 0..=c {
            decl(v, "wire", la, &format!("a_{i}_{j}"));
            decl(v, "wire", 1, &format!("v_{i}_{j}"));
            decl(v, "wire", 1, &format!("f_{i}_{j}"));
            decl(v, "wire", 1, &format!("l_{i}_{j}"));
        }
    }
    for i in 0..=r {
        for j in 0..c {
            decl(v, "wire", lb, &format!("b_{i}_{j}"));
            decl(v, "wire", 32, &format!("d_{i}_{j}"));
        }
    }
    if g.sequential {
        for i in 0..r {
            for j in 0..c {
                decl(v, "wire", 1, &format!("done_{i}_{j}"));
            }
        }
    }
    let _ = writeln!(v, "    // verilator lint_on UNUSED");
    for j in 0..c {
        decl(v, "wire", 1, &format!("ld_{j}"));
    }
    // West edge.
    for i in 0..r {
        let (a, f) = if i == 0 {
            (
                "a_in_0".to_string(),
                "{in_last, in_first, in_valid}".to_string(),
            )
        } else {
            (format!("ask_{i}_{}", i - 1), format!("fsk_{i}_{}", i - 1))
        };
        let _ = writeln!(v, "    assign a_{i}_0 = {a};");
        let _ = writeln!(v, "    assign {{l_{i}_0, f_{i}_0, v_{i}_0}} = {f};");
    }
    // North edge.
    for j in 0..c {
        let b = if j == 0 {
            "b_in_0".to_string()
        } else {
            format!("bsk_{j}_{}", j - 1)
        };
        let _ = writeln!(v, "    assign b_0_{j} = {b};");
        let _ = writeln!(v, "    assign d_{r}_{j} = 32'd0;");
        if g.sequential {
            let _ = writeln!(v, "    assign ld_{j} = done_{}_{j};", r - 1);
        } else {
            let _ = writeln!(
                v,
                "    assign ld_{j} = v_{}_{} & l_{}_{};",
                r - 1,
                j + 1,
                r - 1,
                j + 1
            );
        }
    }
    // The PEs.
    for i in 0..r {
        for j in 0..c {
            let _ = writeln!(
                v,
                "    {name}__pe pe_{i}_{j}(.clock(clock), .reset(reset), .a_w(a_{i}_{j}), \
                 .b_n(b_{i}_{j}), .v_w(v_{i}_{j}), .f_w(f_{i}_{j}), .l_w(l_{i}_{j}), \
                 .a_e(a_{i}_{j1}), .b_s(b_{i1}_{j}), .v_e(v_{i}_{j1}), .f_e(f_{i}_{j1}), \
                 .l_e(l_{i}_{j1}), .ld(ld_{j}), .d_in(d_{i1}_{j}), .d(d_{i}_{j}){});",
                if g.sequential {
                    format!(", .done(done_{i}_{j})")
                } else {
                    String::new()
                },
                j1 = j + 1,
                i1 = i + 1
            );
        }
    }
    // Outputs.
    for j in 0..c {
        let head = if j + 1 == c {
            format!("d_0_{j}")
        } else {
            format!("dsk_{j}_{}", c - 2 - j)
        };
        let _ = writeln!(v, "    assign c_out_{j} = {head};");
    }
    let _ = writeln!(v, "    assign out_valid = |left;");
    let _ = writeln!(v, "    assign out_row = row;");
    // Registers.
    let _ = writeln!(v, "    always @(posedge clock) begin");
    let _ = writeln!(v, "        if (reset) begin");
    for i in 0..r {
        for s in 0..i {
            let _ = writeln!(
                v,
                "            ask_{i}_{s} <= {la}'d0;\n            fsk_{i}_{s} <= 3'd0;"
            );
        }
    }
    for j in 0..c {
        for s in 0..j {
            let _ = writeln!(v, "            bsk_{j}_{s} <= {lb}'d0;");
        }
        for s in 0..(c - 1 - j) {
            let _ = writeln!(v, "            dsk_{j}_{s} <= 32'd0;");
        }
    }
    let rb = row_bits(r);
    let _ = writeln!(
        v,
        "            left <= {}'d0;\n            row <= {rb}'d0;",
        rb + 1
    );
    let _ = writeln!(v, "        end else begin");
    for i in 1..r {
        let _ = writeln!(v, "            ask_{i}_0 <= a_in_{i};");
        let _ = writeln!(
            v,
            "            fsk_{i}_0 <= {{in_last, in_first, in_valid}};"
        );
        for s in 1..i {
            let _ = writeln!(v, "            ask_{i}_{s} <= ask_{i}_{};", s - 1);
            let _ = writeln!(v, "            fsk_{i}_{s} <= fsk_{i}_{};", s - 1);
        }
    }
    for j in 1..c {
        let _ = writeln!(v, "            bsk_{j}_0 <= b_in_{j};");
        for s in 1..j {
            let _ = writeln!(v, "            bsk_{j}_{s} <= bsk_{j}_{};", s - 1);
        }
    }
    for j in 0..c.saturating_sub(1) {
        let _ = writeln!(v, "            dsk_{j}_0 <= d_0_{j};");
        for s in 1..(c - 1 - j) {
            let _ = writeln!(v, "            dsk_{j}_{s} <= dsk_{j}_{};", s - 1);
        }
    }
    let _ = writeln!(
        v,
        "            if (ld_{}) begin\n                left <= {lw}'d{r};\n                row <= \
         {rb}'d0;\n            end else if (|left) begin\n                left <= left - \
         {lw}'d1;\n                row <= row + {rb}'d1;\n            end",
        c - 1,
        lw = rb + 1
    );
    let _ = writeln!(v, "        end");
    let _ = writeln!(v, "    end");
    let _ = writeln!(v, "endmodule // {name}\n");
}
