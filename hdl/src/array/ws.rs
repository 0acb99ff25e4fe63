//! The weight-stationary array: Verilog text around R×C instances of a cell.
//!
//! Array row `i` holds `lanes` consecutive values of the reduction index k, column `j` one
//! column of B. A tile of B is shifted in from the north (bottom row first) while `w_load` is
//! high; then rows of A stream in from the west, each row's partial sums entering at the north
//! edge (`p_in_*`: 0, or the previous k-tile's partial) and flowing south through the column,
//! one PE per cycle; a PE whose weight row is not valid (`w_valid` low when it was loaded)
//! passes the partial sum on unchanged. Results leave at the south edge, deskewed so that a
//! row of C appears on all `c_out_*` in one cycle.

use super::os::{decl, port_list, Geometry};
use crate::emit::{Port, PortDir};
use std::fmt::Write;

/// The ports of the weight-stationary array, in order.
pub fn ports(g: &Geometry) -> Vec<Port> {
    let mut p = super::os::clock_reset();
    p.extend([
        Port::input(
            "w_load",
            1,
            "shift the weights one row south, taking w_in_* and w_valid into row 0",
        ),
        Port::input(
            "w_valid",
            1,
            "with w_load: the row on w_in_* is part of the tile (else the row passes sums on)",
        ),
    ]);
    for j in 0..g.cols {
        p.push(Port::input(
            &format!("w_in_{j}"),
            g.b_bus(),
            format!(
                "with w_load: B's weights of column {j} for one array row, {} lane(s) of {} bits",
                g.lanes, g.b_width
            ),
        ));
    }
    p.push(Port::input(
        "in_valid",
        1,
        "a_in_* and p_in_* carry one row of A and its partial sums",
    ));
    for i in 0..g.rows {
        p.push(Port::input(
            &format!("a_in_{i}"),
            g.a_bus(),
            format!(
                "the k values of array row {i} of this row of A: {} lane(s) of {} bits",
                g.lanes, g.a_width
            ),
        ));
    }
    for j in 0..g.cols {
        p.push(Port::input(
            &format!("p_in_{j}"),
            32,
            format!("partial sum entering column {j} (0, or the previous k-tile's result)"),
        ));
    }
    p.push(Port::output(
        "out_valid",
        1,
        "c_out_* hold the results of one row of A (rows in input order)",
    ));
    for j in 0..g.cols {
        p.push(Port::output(
            &format!("c_out_{j}"),
            32,
            format!("column {j} of the row's result, the accumulator's 32-bit code"),
        ));
    }
    p
}

/// The Verilog of the array module `name` and its PE module `<name>__pe`, instantiating the
/// cell module `cell` (ports `acc`, `a`, `b`, `y`). The cell's own text is not included.
pub fn verilog(name: &str, cell: &str, g: &Geometry) -> String {
    let mut v = String::new();
    top_module(&mut v, name, g);
    v.push_str("/* verilator lint_off DECLFILENAME */\n");
    pe_module(&mut v, name, cell, g);
    v
}

/// One PE: the weight register (and its valid bit) in the column's load chain, the cell on
/// the partial sum from the north, the sum register, and the register that passes `a` east.
fn pe_module(v: &mut String, name: &str, cell: &str, g: &Geometry) {
    let (la, lb) = (g.a_bus(), g.b_bus());
    let _ = writeln!(
        v,
        "// One PE of {name}: on w_load, (w, wv) <= (w_n, wv_n); p <= wv ? step(p_n, a_w, w) : \
         p_n; a moves east."
    );
    let _ = writeln!(
        v,
        "module {name}__pe(clock, reset, w_load, w_n, wv_n, w, wv, a_w, a_e, p_n, p);"
    );
    for (kind, w, n) in [
        ("input wire", 1, "clock"),
        ("input wire", 1, "reset"),
        ("input wire", 1, "w_load"),
        ("input wire", lb, "w_n"),
        ("input wire", 1, "wv_n"),
        ("output reg", lb, "w"),
        ("output reg", 1, "wv"),
        ("input wire", la, "a_w"),
        ("output reg", la, "a_e"),
        ("input wire", 32, "p_n"),
        ("output reg", 32, "p"),
    ] {
        decl(v, kind, w, n);
    }
    decl(v, "wire", 32, "y");
    let _ = writeln!(
        v,
        "    {cell} step(\n        .acc(p_n),\n        .a(a_w),\n        .b(w),\n        \
         .y(y)\n    );"
    );
    let _ = writeln!(v, "    always @(posedge clock) begin");
    let _ = writeln!(v, "        if (reset) begin");
    for (r, w) in [("w", lb), ("wv", 1), ("a_e", la), ("p", 32)] {
        let _ = writeln!(v, "            {r} <= {w}'d0;");
    }
    let _ = writeln!(v, "        end else begin");
    let _ = writeln!(v, "            if (w_load) begin");
    let _ = writeln!(v, "                w <= w_n;");
    let _ = writeln!(v, "                wv <= wv_n;");
    let _ = writeln!(v, "            end");
    let _ = writeln!(v, "            a_e <= a_w;");
    let _ = writeln!(v, "            p <= wv ? y : p_n;");
    let _ = writeln!(v, "        end");
    let _ = writeln!(v, "    end");
    let _ = writeln!(v, "endmodule // {name}__pe\n");
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
    let _ = writeln!(v, "    // Row skew: row i's a delayed i cycles.");
    for i in 0..r {
        for s in 0..i {
            decl(v, "reg", la, &format!("ask_{i}_{s}"));
        }
    }
    let _ = writeln!(
        v,
        "    // Column skew: column j's partial sum delayed j cycles; deskew: column j's result \
         delayed C-1-j cycles."
    );
    for j in 0..c {
        for s in 0..j {
            decl(v, "reg", 32, &format!("psk_{j}_{s}"));
        }
        for s in 0..(c - 1 - j) {
            decl(v, "reg", 32, &format!("dsk_{j}_{s}"));
        }
    }
    let lat = r + c - 1;
    let _ = writeln!(v, "    // in_valid delayed R+C-1 cycles.");
    decl(v, "reg", lat, "vq");
    let _ = writeln!(
        v,
        "    // Wires between PEs: a east, weights and partial sums south. The east edge's \
         wires and the south edge's weights are left unread."
    );
    let _ = writeln!(v, "    // verilator lint_off UNUSED");
    for i in 0..r {
        for j in 0..=c {
            decl(v, "wire", la, &format!("a_{i}_{j}"));
        }
    }
    for i in 0..=r {
        for j in 0..c {
            decl(v, "wire", lb, &format!("w_{i}_{j}"));
            decl(v, "wire", 1, &format!("wv_{i}_{j}"));
            decl(v, "wire", 32, &format!("p_{i}_{j}"));
        }
    }
    let _ = writeln!(v, "    // verilator lint_on UNUSED");
    for i in 0..r {
        let a = if i == 0 {
            "a_in_0".to_string()
        } else {
            format!("ask_{i}_{}", i - 1)
        };
        let _ = writeln!(v, "    assign a_{i}_0 = {a};");
    }
    for j in 0..c {
        let p = if j == 0 {
            "p_in_0".to_string()
        } else {
            format!("psk_{j}_{}", j - 1)
        };
        let _ = writeln!(v, "    assign p_0_{j} = {p};");
        let _ = writeln!(v, "    assign w_0_{j} = w_in_{j};");
        let _ = writeln!(v, "    assign wv_0_{j} = w_valid;");
    }
    for i in 0..r {
        for j in 0..c {
            let _ = writeln!(
                v,
                "    {name}__pe pe_{i}_{j}(.clock(clock), .reset(reset), .w_load(w_load), \
                 .w_n(w_{i}_{j}), .wv_n(wv_{i}_{j}), .w(w_{i1}_{j}), .wv(wv_{i1}_{j}), \
                 .a_w(a_{i}_{j}), .a_e(a_{i}_{j1}), .p_n(p_{i}_{j}), .p(p_{i1}_{j}));",
                i1 = i + 1,
                j1 = j + 1
            );
        }
    }
    for j in 0..c {
        let head = if j + 1 == c {
            format!("p_{r}_{j}")
        } else {
            format!("dsk_{j}_{}", c - 2 - j)
        };
        let _ = writeln!(v, "    assign c_out_{j} = {head};");
    }
    if lat == 1 {
        let _ = writeln!(v, "    assign out_valid = vq;");
    } else {
        let _ = writeln!(v, "    assign out_valid = vq[{}];", lat - 1);
    }
    let _ = writeln!(v, "    always @(posedge clock) begin");
    let _ = writeln!(v, "        if (reset) begin");
    for i in 0..r {
        for s in 0..i {
            let _ = writeln!(v, "            ask_{i}_{s} <= {la}'d0;");
        }
    }
    for j in 0..c {
        for s in 0..j {
            let _ = writeln!(v, "            psk_{j}_{s} <= 32'd0;");
        }
        for s in 0..(c - 1 - j) {
            let _ = writeln!(v, "            dsk_{j}_{s} <= 32'd0;");
        }
    }
    let _ = writeln!(v, "            vq <= {lat}'d0;");
    let _ = writeln!(v, "        end else begin");
    for i in 1..r {
        let _ = writeln!(v, "            ask_{i}_0 <= a_in_{i};");
        for s in 1..i {
            let _ = writeln!(v, "            ask_{i}_{s} <= ask_{i}_{};", s - 1);
        }
    }
    for j in 1..c {
        let _ = writeln!(v, "            psk_{j}_0 <= p_in_{j};");
        for s in 1..j {
            let _ = writeln!(v, "            psk_{j}_{s} <= psk_{j}_{};", s - 1);
        }
    }
    for j in 0..c.saturating_sub(1) {
        let _ = writeln!(v, "            dsk_{j}_0 <= p_{r}_{j};");
        for s in 1..(c - 1 - j) {
            let _ = writeln!(v, "            dsk_{j}_{s} <= dsk_{j}_{};", s - 1);
        }
    }
    if lat == 1 {
        let _ = writeln!(v, "            vq <= in_valid;");
    } else {
        let _ = writeln!(v, "            vq <= {{vq[{}:0], in_valid}};", lat - 2);
    }
    let _ = writeln!(v, "        end");
    let _ = writeln!(v, "    end");
    let _ = writeln!(v, "endmodule // {name}\n");
}
