//! Liberty reader: the sky130 high-density library (typical corner) read end to end, the
//! expression parser's operators and precedence, and the line numbers of parse errors.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use pelab_sim::liberty::{self, Direction, Expr, Library, Table};

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sky130hd_tt.lib.gz")
}

/// The sky130 library, read once for all tests of this file.
fn sky130() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let t = Instant::now();
        let lib = liberty::read(&fixture_path()).expect("sky130 fixture reads");
        println!(
            "read {} ({} cells) in {:.3} s",
            fixture_path().display(),
            lib.cells.len(),
            t.elapsed().as_secs_f64()
        );
        lib
    })
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Every assignment of `names`, as a lookup function and as a slice of bools.
fn assignments(names: &[&str]) -> Vec<Vec<bool>> {
    (0..1u32 << names.len())
        .map(|m| (0..names.len()).map(|i| m >> i & 1 == 1).collect())
        .collect()
}

fn eval_with(e: &Expr, names: &[&str], bits: &[bool]) -> bool {
    let env = |v: &str| {
        let i = names
            .iter()
            .position(|n| *n == v)
            .unwrap_or_else(|| panic!("unexpected variable {v}"));
        bits[i]
    };
    e.eval(&env)
}

/// Parses `text` and checks it against `want` on every assignment of `names`.
fn check_truth(text: &str, names: &[&str], want: impl Fn(&[bool]) -> bool) {
    let e = Expr::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
    for bits in assignments(names) {
        assert_eq!(
            eval_with(&e, names, &bits),
            want(&bits),
            "{text} at {names:?} = {bits:?} (parsed as {e:?})"
        );
    }
}

// ------------------------------------------------------------------------------------
// sky130
// ------------------------------------------------------------------------------------

#[test]
fn sky130_units_voltage_and_size() {
    let lib = sky130();
    assert_eq!(lib.name, "sky130_fd_sc_hd__tt_025C_1v80");
    assert_eq!(lib.units.time_ns, 1.0);
    assert_eq!(lib.units.cap_ff, 1000.0);
    assert_eq!(lib.units.leakage_nw, 1.0);
    assert_eq!(lib.units.energy_fj, 1000.0);
    assert_eq!(lib.nom_voltage, 1.8);
    // `grep -c '^    cell (' ` on the unpacked file gives 428.
    assert_eq!(lib.cells.len(), 428);
    assert!(lib.path.ends_with("sky130hd_tt.lib.gz"));
}

#[test]
fn sky130_reads_quickly() {
    // Reading twice: the second read is not shared with the other tests' OnceLock.
    let t = Instant::now();
    let lib = liberty::read(&fixture_path()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!("sky130 fixture: {} cells in {secs:.3} s", lib.cells.len());
    // Generous bound: a loaded test machine must not turn this into a flaky test.
    assert!(secs < 20.0, "reading took {secs} s");
}

#[test]
fn sky130_nand2_1() {
    let lib = sky130();
    let c = lib.cell("sky130_fd_sc_hd__nand2_1").unwrap();
    assert_eq!(c.area, 3.7536);
    assert!(close(c.leakage_nw.unwrap(), 0.00211796, 1e-12));
    assert!(!c.dont_use);
    assert!(c.ff.is_none());
    assert!(!c.latch);

    let ins: Vec<&str> = c.inputs().map(|p| p.name.as_str()).collect();
    let outs: Vec<&str> = c.outputs().map(|p| p.name.as_str()).collect();
    assert_eq!(ins, ["A", "B"]);
    assert_eq!(outs, ["Y"]);
    // pg_pin groups are not pins.
    assert!(c.pin("VPWR").is_none());

    let a = c.pin("A").unwrap();
    assert_eq!(a.direction, Direction::Input);
    assert!(close(a.capacitance_ff.unwrap(), 2.315, 1e-12));
    assert!(!a.clock);
    assert!(a.function.is_none());
    // Input pin power: one 1-D table pair without a related pin; its rise energy is
    // negative in this library (-0.0038955 at the first slew).
    assert_eq!(a.internal_power.len(), 1);
    let ia = &a.internal_power[0];
    assert_eq!(ia.related_pin, None);
    let rise_a = ia.rise.as_ref().unwrap();
    assert_eq!(rise_a.var2, None);
    assert_eq!(rise_a.index_1.len(), 7);
    assert_eq!(rise_a.values.len(), 7);
    assert!(close(rise_a.lookup(0.01, 123.0), -0.0038955, 1e-9));

    let y = c.pin("Y").unwrap();
    assert_eq!(y.direction, Direction::Output);
    let f = y.function.as_ref().unwrap();
    assert_eq!(f.vars(), ["A", "B"]);
    for bits in assignments(&["A", "B"]) {
        assert_eq!(eval_with(f, &["A", "B"], &bits), !(bits[0] && bits[1]));
    }
    assert_eq!(y.internal_power.len(), 2);
    let related: Vec<_> = y
        .internal_power
        .iter()
        .map(|p| p.related_pin.as_deref().unwrap())
        .collect();
    assert_eq!(related, ["A", "B"]);

    let rise = y.internal_power[0].rise.as_ref().unwrap();
    assert_eq!(rise.var1, "input_transition_time");
    assert_eq!(rise.var2.as_deref(), Some("total_output_net_capacitance"));
    assert_eq!((rise.index_1.len(), rise.index_2.len()), (7, 7));
    assert_eq!(rise.values.len(), 49);
    // Grid point (index_1[0], index_2[1]) = (0.01 ns, 0.001316547 pF) holds 0.0052286.
    let slew = rise.index_1[0];
    let load_ff = rise.index_2[1] * 1000.0;
    assert!(close(rise.lookup(slew, load_ff), 0.0052286, 1e-9));
    // Between two grid points along the load axis the value lies between them.
    let mid_load = (rise.index_2[1] + rise.index_2[2]) / 2.0 * 1000.0;
    let v = rise.lookup(slew, mid_load);
    assert!(v > 0.0052286 && v < 0.0089009, "{v}");
    // At the centre of a cell, bilinear interpolation gives the mean of its corners
    // (rows 0-1, columns 1-2 of the file: 0.0052286 0.0089009 / 0.0049127 0.0086510).
    let mid_slew = (rise.index_1[0] + rise.index_1[1]) / 2.0;
    let want = (0.0052286 + 0.0089009 + 0.0049127 + 0.0086510) / 4.0;
    assert!(close(rise.lookup(mid_slew, mid_load), want, 1e-9));
    let fall = y.internal_power[0].fall.as_ref().unwrap();
    assert!(close(fall.lookup(slew, load_ff), 0.0009877, 1e-9));
}

#[test]
fn sky130_dfxtp_1() {
    let lib = sky130();
    let c = lib.cell("sky130_fd_sc_hd__dfxtp_1").unwrap();
    let ff = c.ff.as_ref().expect("dfxtp has an ff group");
    assert_eq!((ff.iq.as_str(), ff.iqn.as_str()), ("IQ", "IQ_N"));
    assert_eq!(ff.clocked_on, Expr::Var("CLK".into()));
    assert_eq!(ff.next_state, Expr::Var("D".into()));
    assert_eq!(ff.clear, None);
    assert_eq!(ff.preset, None);
    assert!(!c.latch);
    assert!(c.pin("CLK").unwrap().clock);
    assert!(!c.pin("D").unwrap().clock);
    let q = c.pin("Q").unwrap();
    assert_eq!(q.function, Some(Expr::Var("IQ".into())));
    // The scan flop's test_cell group has pins of its own; they must not leak in.
    let sdf = lib.cell("sky130_fd_sc_hd__sdfrtp_1").unwrap();
    let names: Vec<&str> = sdf.pins.iter().map(|p| p.name.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "{names:?}");
    let sff = sdf.ff.as_ref().unwrap();
    assert_eq!(sff.clear, Some(Expr::parse("!RESET_B").unwrap()));
}

#[test]
fn sky130_xor2_1() {
    let c = sky130().cell("sky130_fd_sc_hd__xor2_1").unwrap();
    let outs: Vec<_> = c.outputs().collect();
    assert_eq!(outs.len(), 1);
    let f = outs[0].function.as_ref().unwrap();
    for bits in assignments(&["A", "B"]) {
        assert_eq!(eval_with(f, &["A", "B"], &bits), bits[0] ^ bits[1]);
    }
}

#[test]
fn sky130_latches_tristates_and_constants() {
    let lib = sky130();
    let dl = lib.cell("sky130_fd_sc_hd__dlxtp_1").unwrap();
    assert!(dl.latch);
    assert!(dl.ff.is_none());
    assert_eq!(dl.latch_vars, ["IQ", "IQ_N"]);
    let cg = lib.cell("sky130_fd_sc_hd__dlclkp_1").unwrap();
    assert!(cg.latch, "clock gate has a statetable");
    assert_eq!(cg.pin("M0").unwrap().direction, Direction::Internal);
    let eb = lib.cell("sky130_fd_sc_hd__ebufn_1").unwrap();
    let z = eb.pin("Z").unwrap();
    assert_eq!(z.three_state.as_deref(), Some("(TE_B)"));
    let conb = lib.cell("sky130_fd_sc_hd__conb_1").unwrap();
    let consts: Vec<_> = conb
        .outputs()
        .map(|p| p.function.clone().unwrap())
        .collect();
    assert!(consts.contains(&Expr::Const(true)) && consts.contains(&Expr::Const(false)));
    // Every cell of this library states its leakage.
    assert!(lib.cells.values().all(|c| c.leakage_nw.is_some()));
    let missing = lib
        .cell("sky130_fd_sc_hd__no_such_cell")
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("sky130_fd_sc_hd__no_such_cell"),
        "{missing}"
    );
    assert!(missing.contains("sky130hd_tt.lib.gz"), "{missing}");
}

#[test]
fn sky130_every_output_function_uses_known_names() {
    let lib = sky130();
    let mut cells = 0;
    let mut functions = 0;
    for c in lib.cells.values() {
        let mut known: BTreeSet<String> = c.inputs().map(|p| p.name.clone()).collect();
        known.extend(
            c.pins
                .iter()
                .filter(|p| p.direction == Direction::Internal)
                .map(|p| p.name.clone()),
        );
        if let Some(ff) = &c.ff {
            known.insert(ff.iq.clone());
            known.insert(ff.iqn.clone());
        }
        known.extend(c.latch_vars.iter().cloned());
        let mut has = false;
        for p in c.outputs() {
            let Some(f) = &p.function else { continue };
            has = true;
            functions += 1;
            for v in f.vars() {
                assert!(
                    known.contains(&v),
                    "cell {} pin {}: function uses '{v}', not among {known:?}",
                    c.name,
                    p.name
                );
            }
        }
        if let Some(ff) = &c.ff {
            for v in ff.clocked_on.vars().into_iter().chain(ff.next_state.vars()) {
                assert!(known.contains(&v), "cell {} ff uses '{v}'", c.name);
            }
        }
        cells += has as usize;
    }
    println!("{cells} cells with {functions} output functions checked");
    assert!(cells > 300, "{cells}");
}

#[test]
fn sky130_every_power_table_is_consistent() {
    let lib = sky130();
    let mut tables = 0;
    let mut negative = 0;
    for c in lib.cells.values() {
        for p in &c.pins {
            for arc in &p.internal_power {
                for t in [&arc.rise, &arc.fall].into_iter().flatten() {
                    tables += 1;
                    let cols = t.index_2.len().max(1);
                    assert_eq!(t.values.len(), t.index_1.len().max(1) * cols);
                    // Looking up at each grid point returns that grid value.
                    for (i, &s) in t.index_1.iter().enumerate() {
                        let load = t.index_2.first().copied().unwrap_or(0.0) * 1000.0;
                        assert!(close(t.lookup(s, load), t.values[i * cols], 1e-9));
                    }
                    negative += t.values.iter().any(|&v| v < 0.0) as usize;
                }
            }
        }
    }
    println!("{tables} power tables, {negative} with negative entries");
    assert!(tables > 4000);
}

// ------------------------------------------------------------------------------------
// Expressions
// ------------------------------------------------------------------------------------

#[test]
fn expr_operators_and_precedence() {
    let abc = ["A", "B", "C"];
    check_truth("A B + C", &abc, |v| (v[0] && v[1]) || v[2]);
    check_truth("A*B|C", &abc, |v| (v[0] && v[1]) || v[2]);
    check_truth("A|B&C", &abc, |v| v[0] || (v[1] && v[2]));
    check_truth("A+B C", &abc, |v| v[0] || (v[1] && v[2]));
    check_truth("A^B|C", &abc, |v| (v[0] ^ v[1]) || v[2]);
    check_truth("A|B^C", &abc, |v| v[0] || (v[1] ^ v[2]));
    check_truth("A^B&C", &abc, |v| v[0] ^ (v[1] && v[2]));
    check_truth("A B^C", &abc, |v| (v[0] && v[1]) ^ v[2]);
    check_truth("A^B^C", &abc, |v| v[0] ^ v[1] ^ v[2]);
    check_truth("(A|B)&C", &abc, |v| (v[0] || v[1]) && v[2]);
    check_truth("(A+B) C", &abc, |v| (v[0] || v[1]) && v[2]);
    check_truth("A B' C", &abc, |v| v[0] && !v[1] && v[2]);
    check_truth("A !B", &abc[..2], |v| v[0] && !v[1]);
    check_truth("(A)(B)", &abc[..2], |v| v[0] && v[1]);

    let ab = ["A", "B"];
    check_truth("!A^B", &ab, |v| (!v[0]) ^ v[1]);
    check_truth("!A&B", &ab, |v| !v[0] && v[1]);
    check_truth("!(A&B)", &ab, |v| !(v[0] && v[1]));
    check_truth("A'", &ab[..1], |v| !v[0]);
    check_truth("A''", &ab[..1], |v| v[0]);
    check_truth("A ' B", &ab, |v| !v[0] && v[1]);
    check_truth("(A+B)'", &ab, |v| !(v[0] || v[1]));
    check_truth("!!A", &ab[..1], |v| v[0]);
    check_truth("(A&!B) | (!A&B)", &ab, |v| v[0] ^ v[1]);

    check_truth("0", &[], |_| false);
    check_truth("1", &[], |_| true);
    check_truth("!0", &[], |_| true);
    check_truth("A&1", &ab[..1], |v| v[0]);
    check_truth("A|1", &ab[..1], |_| true);
    check_truth("A 0", &ab[..1], |_| false);
    check_truth("A^1", &ab[..1], |v| !v[0]);
    check_truth("1'", &[], |_| false);

    let bus = ["D[0]", "D[1]", "EN_N"];
    check_truth("D[0] & D[1] | !EN_N", &bus, |v| (v[0] && v[1]) || !v[2]);
}

#[test]
fn expr_vars_sorted_unique() {
    let e = Expr::parse("(B & A) | !A ^ C1 C1 | 1").unwrap();
    assert_eq!(e.vars(), ["A", "B", "C1"]);
    assert!(Expr::parse("0 | 1").unwrap().vars().is_empty());
}

#[test]
fn expr_errors() {
    for bad in [
        "", "A &", "(A|B", "A|B)", "A # B", "2", "!", "A ^ ^ B", "()",
    ] {
        let err = Expr::parse(bad).expect_err(bad).to_string();
        assert!(err.contains("expected"), "{bad:?}: {err}");
    }
}

// ------------------------------------------------------------------------------------
// Small libraries
// ------------------------------------------------------------------------------------

/// A library header with the given body after the units.
fn lib_text(body: &str) -> String {
    format!(
        "library (t) {{\n  time_unit : \"1ns\";\n  voltage_unit : \"1V\";\n  leakage_power_unit : \"1nW\";\n  capacitive_load_unit (1, pf);\n  nom_voltage : 1.2;\n{body}}}\n"
    )
}

const INV: &str = r#"  cell (INV) {
    area : 1.5;
    cell_leakage_power : 0.25;
    pin (A) { direction : input; capacitance : 0.002; }
    pin (Y) { direction : output; function : "A'"; }
  }
"#;

#[test]
fn small_library_units_and_syntax() {
    let text = r#"/* header comment */
library ("small") {
  time_unit : "1ps" ;
  voltage_unit : "100mV";
  leakage_power_unit : "1uW"; // trailing comment
  capacitive_load_unit (1.0, "ff");
  define (my_attr, cell, string);
  operating_conditions (fast) { voltage : 0.9; }
  operating_conditions (slow) { voltage : 0.7; }
  default_operating_conditions : slow;
  unknown_group (x) { anything : goes; nested () { deep : 1; } }
  cell (AND2) {
    area : 2;
    cell_leakage_power : 1.5e-03;
    dont_use : true;
    pin (A, B) { direction : input; capacitance : 1.25; }
    pin (Y) {
      direction : output;
      function : "A \
 B";
    }
  }
}
"#;
    let lib = liberty::parse_str(text, "small.lib").unwrap();
    assert_eq!(lib.name, "small");
    assert_eq!(lib.path, "small.lib");
    assert!(close(lib.units.time_ns, 0.001, 1e-15));
    assert_eq!(lib.units.cap_ff, 1.0);
    assert_eq!(lib.units.leakage_nw, 1000.0);
    // fF x (0.1 V)^2 = 0.01 fJ.
    assert!(close(lib.units.energy_fj, 0.01, 1e-15));
    assert_eq!(lib.nom_voltage, 0.7);
    let c = lib.cell("AND2").unwrap();
    assert!(c.dont_use);
    assert_eq!(c.area, 2.0);
    assert!(close(c.leakage_nw.unwrap(), 1.5, 1e-12));
    assert_eq!(c.inputs().count(), 2);
    assert_eq!(c.pin("B").unwrap().capacitance_ff, Some(1.25));
    // The function "A \<newline> B" joins into "A  B": an AND by juxtaposition.
    let f = c.pin("Y").unwrap().function.as_ref().unwrap();
    for bits in assignments(&["A", "B"]) {
        assert_eq!(eval_with(f, &["A", "B"], &bits), bits[0] && bits[1]);
    }
}

#[test]
fn tables_templates_scalar_and_lookup() {
    let body = r#"  power_lut_template (p2) {
    variable_1 : total_output_net_capacitance;
    variable_2 : input_transition_time;
    index_1 ("0.001, 0.003");
    index_2 ("0.1, 0.3");
  }
  lu_table_template (p1) {
    variable_1 : input_net_transition;
    index_1 ("0.1, 0.2, 0.4");
  }
  cell (BUF) {
    area : 1;
    pin (A) {
      direction : input;
      internal_power () {
        power (p1) { values ("1, 2, 4"); }
      }
    }
    pin (Y) {
      direction : output;
      function : "A";
      internal_power () {
        related_pin : "A";
        when : "!B";
        rise_power (p2) { values ("10, 20", \
                                  "30, 40"); }
        fall_power (scalar) { values ("7.5"); }
      }
    }
  }
"#;
    let lib = liberty::parse_str(&lib_text(body), "t.lib").unwrap();
    let c = lib.cell("BUF").unwrap();
    let arc = &c.pin("Y").unwrap().internal_power[0];
    assert_eq!(arc.related_pin.as_deref(), Some("A"));
    assert_eq!(arc.when.as_deref(), Some("!B"));
    let fall = arc.fall.as_ref().unwrap();
    assert_eq!(fall.values, [7.5]);
    assert_eq!(fall.lookup(0.5, 99.0), 7.5);

    // index_1 is the load here (pF in the file, fF at the call), index_2 the slew.
    let rise: &Table = arc.rise.as_ref().unwrap();
    assert_eq!(rise.index_1, [0.001, 0.003]);
    assert_eq!(rise.index_2, [0.1, 0.3]);
    assert!(close(rise.lookup(0.1, 1.0), 10.0, 1e-12));
    assert!(close(rise.lookup(0.3, 1.0), 20.0, 1e-12));
    assert!(close(rise.lookup(0.1, 3.0), 30.0, 1e-12));
    assert!(close(rise.lookup(0.2, 2.0), 25.0, 1e-12));
    // Linear extrapolation beyond both ends of both axes.
    assert!(close(rise.lookup(0.5, 1.0), 30.0, 1e-12));
    assert!(close(rise.lookup(0.0, 1.0), 5.0, 1e-12));
    assert!(close(rise.lookup(0.1, 5.0), 50.0, 1e-12));
    assert!(close(rise.lookup(0.1, 0.0), 0.0, 1e-12));

    // `power` stands for both edges; the table takes its indices from the template.
    let a = &c.pin("A").unwrap().internal_power[0];
    assert_eq!(a.rise, a.fall);
    let t = a.rise.as_ref().unwrap();
    assert_eq!(t.index_1, [0.1, 0.2, 0.4]);
    assert!(close(t.lookup(0.3, 0.0), 3.0, 1e-12));
    assert!(close(t.lookup(0.15, 1e6), 1.5, 1e-12));
    assert!(close(t.lookup(0.6, 0.0), 6.0, 1e-12));
}

#[test]
fn sequential_cells_buses_and_inout() {
    let body = r#"  cell (DFFR) {
    ff (IQ, IQN) { clocked_on : "CK"; next_state : "D"; clear : "!RN"; preset : "0"; }
    pin (CK) { direction : input; clock : true; }
    pin (D) { direction : input; }
    pin (RN) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; }
    pin (QN) { direction : output; function : "IQN"; }
  }
  cell (LAT) {
    latch (IQ, IQN) { enable : "G"; data_in : "D"; }
    pin (G) { direction : input; }
    pin (D) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; }
  }
  cell (PAD) {
    pin (IO) { direction : inout; function : "A"; three_state : "!EN"; }
    pin (A) { direction : input; }
    pin (EN) { direction : input; }
  }
"#;
    let lib = liberty::parse_str(&lib_text(body), "seq.lib").unwrap();
    let d = lib.cell("DFFR").unwrap();
    let ff = d.ff.as_ref().unwrap();
    assert_eq!(ff.iqn, "IQN");
    assert_eq!(ff.clear, Some(Expr::Not(Box::new(Expr::Var("RN".into())))));
    assert_eq!(ff.preset, Some(Expr::Const(false)));
    assert!(d.pin("CK").unwrap().clock);
    let l = lib.cell("LAT").unwrap();
    assert!(l.latch && l.ff.is_none());
    let p = lib.cell("PAD").unwrap();
    let ins: Vec<_> = p.inputs().map(|x| x.name.as_str()).collect();
    let outs: Vec<_> = p.outputs().map(|x| x.name.as_str()).collect();
    assert_eq!(ins, ["IO", "A", "EN"]);
    assert_eq!(outs, ["IO"]);
    assert_eq!(p.pin("IO").unwrap().three_state.as_deref(), Some("!EN"));

    let bus = lib_text("  cell (REG) {\n    bus (Q) { bus_type : b4; direction : output; }\n  }\n");
    let err = liberty::parse_str(&bus, "bus.lib").unwrap_err().to_string();
    assert!(err.starts_with("bus.lib:8:"), "{err}");
    assert!(err.contains("REG") && err.contains("bus"), "{err}");
}

#[test]
fn read_plain_and_gzip_files() {
    let dir = std::env::temp_dir().join(format!("pelab-liberty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("inv.lib");
    std::fs::write(&plain, lib_text(INV)).unwrap();
    let lib = liberty::read(&plain).unwrap();
    let cap = lib.cell("INV").unwrap().pin("A").unwrap().capacitance_ff;
    assert!(close(cap.unwrap(), 2.0, 1e-12));
    assert_eq!(lib.path, plain.display().to_string());

    // gzip magic followed by garbage.
    let broken = dir.join("broken.lib.gz");
    std::fs::write(&broken, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
    let err = liberty::read(&broken).unwrap_err().to_string();
    assert!(
        err.contains("broken.lib.gz") && err.contains("gzip"),
        "{err}"
    );

    let missing = dir.join("missing.lib");
    let err = liberty::read(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.lib"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ------------------------------------------------------------------------------------
// Errors and their line numbers
// ------------------------------------------------------------------------------------

/// Parses `text` as `name`, expecting an error that starts with `name:line:` and
/// mentions every string of `words`.
fn expect_error(text: &str, name: &str, line: usize, words: &[&str]) {
    let err = match liberty::parse_str(text, name) {
        Ok(_) => panic!("{name}: parsed without error"),
        Err(e) => e.to_string(),
    };
    let prefix = format!("{name}:{line}: ");
    assert!(err.starts_with(&prefix), "want {prefix:?}, got {err:?}");
    for w in words {
        assert!(err.contains(w), "{name}: {err:?} lacks {w:?}");
    }
}

#[test]
fn error_missing_semicolon() {
    let text = lib_text("  cell (X) {\n    area : 2.0\n    pin (A) { direction : input; }\n  }\n");
    expect_error(&text, "semi.lib", 8, &["expected ';'", "area"]);
}

#[test]
fn error_unterminated_group_and_string() {
    let text = "library (t) {\n  nom_voltage : 1.0;\n  cell (X) {\n    area : 1;\n";
    expect_error(text, "open.lib", 3, &["'cell'", "'}'"]);
    let text = "library (t) {\n  nom_voltage : 1.0;\n";
    expect_error(text, "open2.lib", 1, &["'library'", "'}'"]);
    let text = "library (t) {\n  time_unit : \"1ns;\n  nom_voltage : 1.0;\n}\n";
    expect_error(text, "str.lib", 2, &["unterminated string"]);
    let text = "library (t) {\n  /* never closed\n}\n";
    expect_error(text, "cmt.lib", 2, &["comment", "*/"]);
    let text = "library (t) {\n  cell (X\n";
    expect_error(text, "paren.lib", 2, &["')'"]);
}

#[test]
fn error_non_numeric_values() {
    let text = lib_text("  cell (X) {\n    area : big;\n  }\n");
    expect_error(&text, "area.lib", 8, &["number", "area", "big"]);
    let text = lib_text(
        "  cell (X) {\n    area : 1;\n    pin (A) {\n      direction : input;\n      capacitance : \"0.0x1\";\n    }\n  }\n",
    );
    expect_error(&text, "cap.lib", 11, &["number", "capacitance", "0.0x1"]);
    let table = |values: &str| {
        lib_text(&format!(
            r#"  power_lut_template (p) {{
    variable_1 : input_transition_time;
    variable_2 : total_output_net_capacitance;
    index_1 ("1, 2");
    index_2 ("1, 2, 3");
  }}
  cell (X) {{
    pin (Y) {{
      direction : output;
      internal_power () {{
        rise_power (p) {{
          values ("1, 2, 3", \
                  {values});
        }}
      }}
    }}
  }}
"#
        ))
    };
    expect_error(&table("\"4, five, 6\""), "val.lib", 19, &["number", "five"]);
    expect_error(
        &table("\"4, 5\""),
        "count.lib",
        18,
        &["5 values", "2 x 3 = 6", "'X'", "'Y'"],
    );
}

#[test]
fn error_bad_function_names_cell_and_pin() {
    let text = lib_text(
        "  cell (NAND) {\n    pin (A) { direction : input; }\n    pin (Y) {\n      direction : output;\n      function : \"!(A &\";\n    }\n  }\n",
    );
    expect_error(&text, "fn.lib", 11, &["'NAND'", "'Y'", "function", "!(A &"]);
}

#[test]
fn error_other_cases() {
    // No library group.
    expect_error("cell (X) { }\n", "top.lib", 1, &["library"]);
    // Something after the library.
    let text = format!("{}extra : 1;\n", lib_text(""));
    expect_error(&text, "after.lib", 8, &["end of the file"]);
    // Unknown unit.
    let text = "library (t) {\n  time_unit : \"1 parsec\";\n}\n";
    expect_error(text, "unit.lib", 2, &["time_unit", "parsec"]);
    // Missing capacitive_load_unit.
    let text = "library (t) {\n  leakage_power_unit : \"1nW\";\n  nom_voltage : 1;\n}\n";
    expect_error(text, "nocap.lib", 1, &["capacitive_load_unit"]);
    // Bad direction.
    let text = lib_text("  cell (X) {\n    pin (A) {\n      direction : sideways;\n    }\n  }\n");
    expect_error(&text, "dir.lib", 9, &["direction", "sideways", "'X'"]);
    // Undefined template.
    let text = lib_text(
        "  cell (X) {\n    pin (A) {\n      direction : input;\n      internal_power () {\n        rise_power (nope) { values (\"1\"); }\n      }\n    }\n  }\n",
    );
    expect_error(&text, "tpl.lib", 11, &["nope", "template"]);
    // A stray character where a name should be.
    let text = lib_text("  cell (X) {\n    : area 1;\n  }\n");
    expect_error(
        &text,
        "stray.lib",
        8,
        &["expected an attribute or group name"],
    );
    // The same cell twice.
    let text = lib_text(&format!("{INV}{INV}"));
    expect_error(&text, "dup.lib", 13, &["INV", "twice", "line 7"]);
}
