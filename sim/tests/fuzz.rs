//! Fuzzing of the Liberty reader and the Yosys JSON netlist loader: whatever the bytes, no
//! panic, no hang, and an error that names the file and the place in it. Also the inputs
//! that once broke recursive parsers: groups and expressions nested 10^5 deep.
//!
//! `PELAB_FUZZ_CASES=100000 cargo test --release -p pelab-sim --test fuzz` runs the long
//! mode (see docs/verification.md).

#[path = "common/fuzz.rs"]
mod fuzz;

use pelab_sim::liberty::{self, Library};
use pelab_sim::netlist::{Netlist, Sim, ToggleMode};
use std::sync::OnceLock;

/// A small library with every construct the reader interprets: units, operating conditions,
/// table templates, 1-D, 2-D and scalar power tables, functions with every operator, a
/// flip-flop, a latch and a state table, comments, continuations and escapes.
const SEED_LIB: &str = r#"/* pelab fuzz seed */
library (seed) {
  delay_model : table_lookup;
  time_unit : "1ns";
  voltage_unit : "1V";
  leakage_power_unit : "1nW";
  capacitive_load_unit (1, pf);
  nom_voltage : 1.8;
  operating_conditions (tt) { voltage : 1.8; temperature : 25; }
  default_operating_conditions : tt;
  power_lut_template (p2) {
    variable_1 : input_transition_time;
    variable_2 : total_output_net_capacitance;
    index_1 ("0.01, 0.1");
    index_2 ("0.001, 0.01");
  }
  lu_table_template (d1) {
    variable_1 : input_net_transition;
    index_1 ("0.1, 0.2, 0.4");
  }
  cell (INV) {
    area : 3.75;
    cell_leakage_power : 0.5;
    pin (A) {
      direction : input;
      capacitance : 0.002;
      internal_power () { power (d1) { values ("1, 2, 4"); } }
    }
    pin (Y) {
      direction : output;
      function : "!A";
      internal_power () {
        related_pin : "A";
        rise_power (p2) { values ("0.1, 0.2", \
                                  "0.3, 0.4"); }
        fall_power (scalar) { values ("0.05"); }
      }
      timing () { related_pin : "A"; cell_rise (scalar) { values ("0.1"); } }
    }
  }
  cell (NAND2) {
    area : 5;
    pin (A, B) { direction : input; capacitance : 0.0025; }
    pin (Y) { direction : output; function : "(A B)'"; }
  }
  cell (AOI21) {
    pin (A1, A2, B1) { direction : input; }
    pin (Y) { direction : output; function : "!((A1&A2) | B1) ^ 0"; }
  }
  cell (DFF) {
    area : 20;
    ff (IQ, IQN) { clocked_on : "CLK"; next_state : "D"; clear : "!RN"; }
    pin (CLK) { direction : input; clock : true; }
    pin (D) { direction : input; }
    pin (RN) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; }
    pin (QN) { direction : output; function : "IQN"; }
  }
  cell (LAT) {
    dont_use : true;
    latch (IQ, IQN) { enable : "G"; data_in : "D"; }
    statetable ("G D", "IQ") { table : "H L : - : L, \
                                        L - : - : N"; }
    pin (G) { direction : input; }
    pin (D) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; three_state : "!G"; }
  }
}
"#;

/// Words and delimiters of Liberty, for token soups and insertions.
const LIB_TOKENS: &[&str] = &[
    "library",
    "cell",
    "pin",
    "ff",
    "latch",
    "statetable",
    "bus",
    "internal_power",
    "rise_power",
    "fall_power",
    "power",
    "values",
    "index_1",
    "index_2",
    "scalar",
    "p2",
    "d1",
    "direction",
    "input",
    "output",
    "inout",
    "function",
    "clocked_on",
    "next_state",
    "IQ",
    "IQN",
    "A",
    "B",
    "(",
    ")",
    "{",
    "}",
    ":",
    ";",
    ",",
    "\"",
    "\\\n",
    "\\",
    "/*",
    "*/",
    "//",
    "\n",
    "\r\n",
    " ",
    "!",
    "&",
    "|",
    "^",
    "'",
    "*",
    "+",
    "time_unit",
    "1ns",
    "pf",
    "capacitive_load_unit",
    "leakage_power_unit",
    "nom_voltage",
    "true",
    "é",
    "\u{0}",
];

/// A netlist of Yosys generic gates and flip-flops (synchronous and asynchronous resets,
/// an enable, constants, an `init` attribute).
const SEED_GENERIC: &str = r#"{
  "creator": "Yosys 0.40",
  "modules": {
    "m": {
      "attributes": { "top": "00000000000000000000000000000001" },
      "ports": {
        "clk": { "direction": "input", "bits": [ 2 ] },
        "a": { "direction": "input", "bits": [ 3, 4 ] },
        "rst": { "direction": "input", "bits": [ 5 ] },
        "y": { "direction": "output", "bits": [ 6, 7, "0" ] }
      },
      "cells": {
        "g1": { "hide_name": 1, "type": "$_AND_", "parameters": { }, "attributes": { },
                "port_directions": { "A": "input", "B": "input", "Y": "output" },
                "connections": { "A": [ 3 ], "B": [ 4 ], "Y": [ 8 ] } },
        "g2": { "type": "$_MUX_",
                "port_directions": { "A": "input", "B": "input", "S": "input", "Y": "output" },
                "connections": { "A": [ 8 ], "B": [ 9 ], "S": [ 5 ], "Y": [ 10 ] } },
        "g3": { "type": "$_NOT_", "connections": { "A": [ 10 ], "Y": [ 6 ] } },
        "g4": { "type": "$_AOI4_",
                "connections": { "A": [ 3 ], "B": [ 4 ], "C": [ 9 ], "D": [ "1" ], "Y": [ 11 ] } },
        "r1": { "type": "$_DFF_P_", "connections": { "C": [ 2 ], "D": [ 10 ], "Q": [ 9 ] } },
        "r2": { "type": "$_SDFFE_PP0P_",
                "connections": { "C": [ 2 ], "D": [ 11 ], "R": [ 5 ], "E": [ 3 ], "Q": [ 7 ] } },
        "r3": { "type": "$_DFF_PN1_",
                "connections": { "C": [ 2 ], "D": [ 8 ], "R": [ 5 ], "Q": [ 12 ] } }
      },
      "netnames": {
        "q": { "hide_name": 0, "bits": [ 9, 7 ], "attributes": { "init": "01" } },
        "s": { "hide_name": 1, "bits": [ 12 ], "attributes": { } }
      }
    }
  }
}
"#;

/// A netlist of [`SEED_LIB`]'s cells, without port directions (as `abc -liberty` writes).
const SEED_MAPPED: &str = r#"{
  "modules": {
    "m": {
      "ports": {
        "clk": { "direction": "input", "bits": [ 2 ] },
        "a": { "direction": "input", "bits": [ 3, 4 ] },
        "rst": { "direction": "input", "bits": [ 5 ] },
        "y": { "direction": "output", "bits": [ 6, 7 ] }
      },
      "cells": {
        "u1": { "type": "INV", "connections": { "A": [ 3 ], "Y": [ 8 ] } },
        "u2": { "type": "NAND2", "connections": { "A": [ 8 ], "B": [ 4 ], "Y": [ 9 ] } },
        "u3": { "type": "DFF",
                "connections": { "CLK": [ 2 ], "D": [ 9 ], "RN": [ 5 ], "Q": [ 6 ], "QN": [ 10 ] } },
        "u4": { "type": "AOI21", "connections": { "A1": [ 3 ], "A2": [ 10 ], "B1": [ 4 ], "Y": [ 7 ] } }
      },
      "netnames": { "y": { "bits": [ 6, 7 ], "attributes": { "init": "10" } } }
    }
  }
}
"#;

/// JSON and Yosys words, for token soups and insertions.
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "\\u0000",
    "\"modules\"",
    "\"m\"",
    "\"ports\"",
    "\"cells\"",
    "\"netnames\"",
    "\"direction\"",
    "\"input\"",
    "\"output\"",
    "\"inout\"",
    "\"bits\"",
    "\"type\"",
    "\"connections\"",
    "\"port_directions\"",
    "\"$_AND_\"",
    "\"$_DFF_P_\"",
    "\"$_DFFE_PN0P_\"",
    "\"$_SDFFCE_PP1N_\"",
    "\"$_OAI4_\"",
    "\"INV\"",
    "\"DFF\"",
    "\"LAT\"",
    "\"A\"",
    "\"Y\"",
    "\"Q\"",
    "\"C\"",
    "\"0\"",
    "\"1\"",
    "\"x\"",
    "\"init\"",
    "\"attributes\"",
    "null",
    "true",
    "-",
    ".",
    "e",
    "\n",
    " ",
];

/// The seed library, parsed once.
fn seed_lib() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| liberty::parse_str(SEED_LIB, "seed.lib").unwrap_or_else(|e| panic!("{e}")))
}

/// Uses what a parsed library holds the way the energy model and the netlist loader do.
fn exercise_library(lib: &Library) {
    for cell in lib.cells.values() {
        for pin in &cell.pins {
            if let Some(f) = &pin.function {
                let _ = f.vars();
                let _ = f.eval(&|v: &str| v.len() % 2 == 1);
            }
            for arc in &pin.internal_power {
                for t in arc.rise.iter().chain(&arc.fall) {
                    let _ = t.lookup(0.05, 2.0);
                }
            }
        }
    }
}

#[test]
fn seeds_are_valid() {
    let lib = seed_lib();
    assert_eq!(lib.cells.len(), 5);
    exercise_library(lib);
    Netlist::from_yosys_json(SEED_GENERIC, "m", "generic.json", None)
        .unwrap_or_else(|e| panic!("{e}"));
    Netlist::from_yosys_json(SEED_MAPPED, "m", "mapped.json", Some(lib))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn fuzz_liberty() {
    let file = "fuzz.lib";
    let s = fuzz::run(
        "liberty",
        fuzz::inputs(vec![SEED_LIB.as_bytes().to_vec()], LIB_TOKENS),
        |bytes| match liberty::parse_str(&String::from_utf8_lossy(bytes), file) {
            Ok(lib) => {
                exercise_library(&lib);
                Ok(true)
            }
            Err(e) => fuzz::names_file_and_place(&e.to_string(), file).map(|_| false),
        },
    );
    assert!(
        s.accepted > 0,
        "no mutated library was valid: the seed is not reached"
    );
}

/// Checks a netlist loader error: it names the file, and the line (syntax errors) or the
/// port, cell, net or module at fault (JSON values carry no line numbers).
fn netlist_error_is_located(msg: &str, file: &str) -> Result<(), String> {
    if fuzz::names_file_and_place(msg, file).is_ok() {
        return Ok(());
    }
    let items = ["port ", "cell ", "net ", "module ", "flip-flop", "clock"];
    if msg.contains(file) && items.iter().any(|w| msg.contains(w)) {
        Ok(())
    } else {
        Err(format!(
            "the error names neither the file, a line nor a netlist item: {msg}"
        ))
    }
}

#[test]
fn fuzz_yosys_json() {
    let file = "fuzz.json";
    let lib = seed_lib();
    let seeds = vec![SEED_GENERIC.into(), SEED_MAPPED.into()];
    let s = fuzz::run("yosys-json", fuzz::inputs(seeds, JSON_TOKENS), |bytes| {
        let text = String::from_utf8_lossy(bytes);
        match Netlist::from_yosys_json(&text, "m", file, Some(lib)) {
            Ok(net) => {
                // What loads must simulate.
                let mut sim = Sim::new(&net, ToggleMode::Lanes);
                for p in 0..net.inputs.len() {
                    sim.set_values(p, &[u64::MAX, 0, 1]);
                }
                sim.eval();
                sim.clock(3);
                sim.eval();
                sim.count_lanes(3).map_err(|e| e.to_string())?;
                Ok(true)
            }
            Err(e) => netlist_error_is_located(&e.to_string(), file).map(|_| false),
        }
    });
    assert!(
        s.accepted > 0,
        "no mutated netlist was valid: the seeds are not reached"
    );
}

// ---------------------------------------------------------------------------------------
// Inputs that break recursive parsers
// ---------------------------------------------------------------------------------------

/// The error of parsing `text` as `file`.
fn lib_error(text: &str, file: &str) -> String {
    match liberty::parse_str(text, file) {
        Ok(_) => panic!("{file}: parsed without error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn liberty_groups_nested_1e5_deep_are_an_error_not_a_stack_overflow() {
    let n = 100_000;
    let text = format!(
        "library (deep) {{\n{}{}}}\n",
        "g () {\n".repeat(n),
        "}\n".repeat(n)
    );
    let err = lib_error(&text, "deep.lib");
    // The library is the first group: the 1,000th group inside it, on line 1001, is too deep.
    assert!(
        err.starts_with("deep.lib:1001: group 'g' is nested more than 1000 groups deep"),
        "{err}"
    );
    // Exactly at the limit it still parses (and fails later for want of units).
    let ok = 999;
    let text = format!(
        "library (deep) {{\n{}{}}}\n",
        "g () {\n".repeat(ok),
        "}\n".repeat(ok)
    );
    let err = lib_error(&text, "limit.lib");
    assert!(err.contains("leakage_power_unit"), "{err}");
}

#[test]
fn liberty_functions_nested_deep_or_long_are_an_error() {
    let n = 100_000;
    let lib = |f: &str| {
        format!(
            "library (e) {{\n  leakage_power_unit : \"1nW\"; capacitive_load_unit (1, pf);\n  \
             nom_voltage : 1;\n  cell (X) {{\n    pin (Y) {{\n      direction : output;\n      \
             function : \"{f}\";\n    }}\n  }}\n}}\n"
        )
    };
    let cases = [
        (
            format!("{}A{}", "(".repeat(n), ")".repeat(n)),
            "nested more than 100 deep",
        ),
        (format!("{}A", "!".repeat(n)), "nested more than 100 deep"),
        (
            vec!["A"; n].join(" & "),
            "more than 1000 names and operators",
        ),
        (
            format!("A{}", "'".repeat(n)),
            "more than 1000 names and operators",
        ),
    ];
    for (f, want) in cases {
        let err = lib_error(&lib(&f), "expr.lib");
        assert!(
            err.starts_with("expr.lib:7: cell 'X' pin 'Y': bad function"),
            "{err:.200}"
        );
        assert!(err.contains(want), "{want}: {err:.300}");
    }
    // Real functions stay far below both limits.
    let deep = format!("{}A{}", "(".repeat(100), ")".repeat(100));
    assert!(liberty::Expr::parse(&deep).is_ok());
}

#[test]
fn liberty_line_numbers_count_escaped_newlines_in_strings() {
    let text = "library (t) {\n  s : \"a\\\nb\";\n  x : ;\n}\n";
    let err = lib_error(text, "esc.lib");
    assert!(err.starts_with("esc.lib:4: "), "{err}");
}

#[test]
fn liberty_read_names_the_path_of_a_truncated_file() {
    let dir = std::env::temp_dir().join(format!("pelab-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cut.lib");
    let cut = SEED_LIB.find("cell (DFF)").unwrap() + 8;
    std::fs::write(&path, &SEED_LIB[..cut]).unwrap();
    let err = liberty::read(&path).unwrap_err().to_string();
    let shown = path.display().to_string();
    assert!(err.starts_with(&format!("{shown}:")), "{err}");
    fuzz::names_file_and_place(&err, &shown).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn netlist_json_nested_deep_or_with_huge_numbers_is_an_error() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = Netlist::from_yosys_json(&deep, "m", "deep.json", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("deep.json: ") && err.contains("line 1"),
        "{err}"
    );
    for bit in ["18446744073709551616", "-1", "1e999", "1.5"] {
        let json = SEED_GENERIC.replacen("[ 3, 4 ]", &format!("[ {bit}, 4 ]"), 1);
        let err = Netlist::from_yosys_json(&json, "m", "big.json", None)
            .unwrap_err()
            .to_string();
        netlist_error_is_located(&err, "big.json").unwrap();
    }
}

#[test]
fn netlist_outputs_never_drive_the_constant_nets() {
    let json = |y: &str| {
        format!(
            r#"{{"modules": {{"m": {{
              "ports": {{"a": {{"direction": "input", "bits": [2]}},
                        "y": {{"direction": "output", "bits": [3]}}}},
              "cells": {{
                "n": {{"type": "$_NOT_", "connections": {{"A": [2], "Y": [{y}]}}}},
                "o": {{"type": "$_OR_", "connections": {{"A": [2], "B": ["0"], "Y": [3]}}}}
              }}}}}}}}"#
        )
    };
    // An undriven ("x") output drives a net of its own: constant 0 stays 0, so y = a.
    let net = Netlist::from_yosys_json(&json(r#""x""#), "m", "x.json", None).unwrap();
    let mut sim = Sim::new(&net, ToggleMode::Off);
    sim.set_values(net.input("a").unwrap(), &[0, 1]);
    sim.eval();
    let mut y = [9u64; 2];
    sim.values(net.output("y").unwrap(), &mut y);
    assert_eq!(y, [0, 1]);
    // An output wired to a constant is a malformed netlist.
    let err = Netlist::from_yosys_json(&json(r#""0""#), "m", "c.json", None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "c.json: cell n ($_NOT_) output pin Y is wired to the constant 0"
    );
}
