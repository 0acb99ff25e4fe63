//! The cross-check chain on real simulators: golden vectors from the reference models against
//! the emitted Verilog in Icarus and Verilator, a deliberately broken DUT caught by every path,
//! formal equivalence (and its failure), and the vector-file checks.

mod common;

use common::{assert_passed, cfg, verify_emitted, LIMIT};
use pelab_hdl::RtlConfig;
use pelab_testbench::formal::prove;
use pelab_testbench::vectors::{generate, parse};
use pelab_testbench::verify::{verify, Dut, Report};
use pelab_testbench::{CaseSet, Shard, Simulator, Status};
use std::path::{Path, PathBuf};

/// The vector codec of PE `id` (through the join).
fn find(id: &str) -> pelab_sim::Result<&'static dyn pelab_testbench::PeVectors> {
    pelab_testbench::pe(id).map(|p| p.vectors)
}

const SIMS: [Simulator; 2] = [Simulator::Icarus, Simulator::Verilator];

fn work(name: &str) -> PathBuf {
    common::work("chain", name)
}

/// Verifies a configuration on the given simulators and checks that each passed every row.
fn passes(pe: &str, c: &RtlConfig, set: CaseSet, sims: &[Simulator]) -> Report {
    let vec = common::vectors(pe, c, set, 1);
    let what = format!(
        "{pe} {} {} p{} {}",
        c.format, c.policy, c.pipeline, c.variant
    );
    let r = verify_emitted(&what, &vec, sims, work(&what.replace(' ', "-")));
    assert_passed(&what, &r, sims);
    r
}

#[test]
fn lmul_and_fpmul_8bit_formats_exhaustive_every_policy_on_both_simulators() {
    for pe in ["lmul", "fpmul"] {
        for f in ["e4m3", "e5m2"] {
            for p in ["saturate", "ieee"] {
                let r = passes(pe, &cfg(f, p, 0, ""), CaseSet::Exhaustive, &SIMS);
                assert_eq!(r.rows, 65536);
            }
        }
        // Pipelined variants stream one operation per cycle.
        passes(
            pe,
            &cfg("e4m3", "saturate", 2, ""),
            CaseSet::Exhaustive,
            &SIMS,
        );
        for f in ["e2m1", "e3m2", "e2m3"] {
            passes(
                pe,
                &cfg(f, "saturate", 0, ""),
                CaseSet::Exhaustive,
                &[Simulator::Icarus],
            );
        }
    }
}

#[test]
fn lmul_and_fpmul_wide_formats_random() {
    for pe in ["lmul", "fpmul"] {
        for f in ["bf16", "fp16"] {
            passes(
                pe,
                &cfg(f, "saturate", 0, ""),
                CaseSet::Count(50_000),
                &[Simulator::Icarus],
            );
            passes(
                pe,
                &cfg(f, "ieee", 0, ""),
                CaseSet::Count(1_000_000),
                &[Simulator::Verilator],
            );
        }
        passes(
            pe,
            &cfg("fp32", "saturate", 1, ""),
            CaseSet::Count(1_000_000),
            &[Simulator::Verilator],
        );
        passes(
            pe,
            &cfg("fp32", "ieee", 0, ""),
            CaseSet::Count(20_000),
            &[Simulator::Icarus],
        );
    }
}

#[test]
fn int16fma_core_and_mac_both_modes() {
    for p in ["wrap", "saturate"] {
        let r = passes(
            "int16fma",
            &cfg("int16", p, 0, "core"),
            CaseSet::Count(1_000_000),
            &[Simulator::Verilator],
        );
        assert_eq!(r.rows, 1_000_000);
        passes(
            "int16fma",
            &cfg("int16", p, 0, "core"),
            CaseSet::Count(30_000),
            &[Simulator::Icarus],
        );
        // MAC: cases are accumulations of up to 64 cycles.
        passes(
            "int16fma",
            &cfg("int16", p, 0, "mac"),
            CaseSet::Count(20_000),
            &SIMS,
        );
    }
}

/// Wraps the emitted module so that output bit 0 flips whenever both operands are odd.
fn broken_copy(dir: &Path, c: &RtlConfig) -> (PathBuf, String) {
    let rtl = pelab_hdl::find("lmul").unwrap();
    let m = rtl.verilog(c).unwrap();
    let inner = m.verilog.replace(
        &format!("module {}(", m.name),
        &format!("module {}_inner(", m.name),
    );
    let wrapper = format!(
        "{inner}\nmodule {0}(a, b, y);\n  input wire [7:0] a;\n  input wire [7:0] b;\n  output wire [7:0] y;\n  wire [7:0] t;\n  {0}_inner u (.a(a), .b(b), .y(t));\n  assign y = t ^ {{7'b0, a[0] & b[0]}};\nendmodule\n",
        m.name
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("broken.v");
    std::fs::write(&path, wrapper).unwrap();
    (path, m.name)
}

#[test]
fn a_broken_dut_is_caught_by_every_simulator_and_by_formal() {
    let c = cfg("e4m3", "saturate", 0, "");
    let dir = work("broken");
    let (path, name) = broken_copy(&dir, &c);
    let v = find("lmul").unwrap();
    let vec = generate(v, &c, CaseSet::Exhaustive, 1, Shard::ALL).unwrap();
    let dut = Dut::User {
        files: vec![path.clone()],
        top: None,
    };
    let r = verify(&vec, &dut, &SIMS, false, &dir.join("sim"), LIMIT).unwrap();
    assert!(!r.passed());
    for run in &r.runs {
        // Exactly the pairs with both operands odd: 128 x 128.
        assert_eq!(run.status, Status::Failed, "{}", run.sim);
        assert_eq!(
            (run.passed, run.failed),
            (65536 - 16384, 16384),
            "{}",
            run.sim
        );
        assert_eq!(
            run.mismatches.len(),
            20,
            "{}: the first 20 are shown",
            run.sim
        );
        let m = &run.mismatches[0];
        assert!(m.inputs[0] & m.inputs[1] & 1 == 1);
        assert_eq!(m.got[0], Some(m.expected[0] ^ 1));
    }
    // Formal: the emitted RTL against the broken design's gate netlist.
    let text = std::fs::read_to_string(&path).unwrap();
    let net = pelab_hdl::synth::synthesize(&text, &name, pelab_hdl::Flow::Generic).unwrap();
    let rtl = pelab_hdl::find("lmul").unwrap().verilog(&c).unwrap();
    let good = pelab_hdl::emit::write_module(&dir, &rtl).unwrap();
    let p = prove(&good, &net.netlist, &name, &dir.join("formal")).unwrap();
    assert!(!p.equivalent, "{}", p.abc_output);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn formal_proves_lmul_fpmul_and_int16fma() {
    let dir = work("formal");
    for (pe, c) in [
        ("lmul", cfg("e4m3", "saturate", 0, "")),
        ("lmul", cfg("bf16", "ieee", 0, "")),
        ("lmul", cfg("fp32", "saturate", 2, "")),
        ("fpmul", cfg("e4m3", "ieee", 0, "")),
        ("fpmul", cfg("bf16", "saturate", 0, "")),
        ("int16fma", cfg("int16", "wrap", 0, "core")),
        ("int16fma", cfg("int16", "saturate", 0, "core")),
    ] {
        let v = find(pe).unwrap();
        let none = generate(v, &c, CaseSet::Count(0), 1, Shard::ALL).unwrap();
        let r = verify(&none, &Dut::Emitted, &[], true, &dir, LIMIT).unwrap();
        let p = r.formal.as_ref().unwrap();
        eprintln!(
            "{pe} {c:?}: {} {} in {:.2} s",
            p.method, p.equivalent, p.secs
        );
        assert!(p.equivalent, "{pe} {c:?}: {}", p.abc_output);
        assert!(r.passed());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_short_vector_file_fails_the_testbench() {
    // The testbench expects ROWS rows; a .mem holding fewer is a failure, never a pass.
    let c = cfg("e4m3", "saturate", 0, "");
    let v = find("lmul").unwrap();
    let vec = generate(v, &c, CaseSet::Count(100), 1, Shard::ALL).unwrap();
    let dir = work("short");
    std::fs::create_dir_all(&dir).unwrap();
    let m = pelab_hdl::find("lmul").unwrap().verilog(&c).unwrap();
    let dut = pelab_hdl::emit::write_module(&dir, &m).unwrap();
    let mem: String = vec
        .to_mem()
        .lines()
        .take(50)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("vectors.mem"), mem).unwrap();
    let tb = dir.join("tb.v");
    std::fs::write(
        &tb,
        pelab_testbench::tb::testbench(&m.name, &vec.layout, 100, "vectors.mem"),
    )
    .unwrap();
    let r =
        pelab_testbench::run::simulate(Simulator::Icarus, &dir, &tb, &[dut], 100, LIMIT).unwrap();
    assert_eq!(r.status, Status::Failed, "{}", r.log_tail);
    assert!(r.log_tail.contains("fewer than 100"), "{}", r.log_tail);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_are_disjoint_and_complete_and_generation_is_deterministic() {
    let c = cfg("bf16", "saturate", 0, "");
    let v = find("fpmul").unwrap_or_else(|_| find("lmul").unwrap());
    let whole = generate(v, &c, CaseSet::Count(20_000), 9, Shard::ALL).unwrap();
    assert_eq!(
        whole.rows,
        generate(v, &c, CaseSet::Count(20_000), 9, Shard::ALL)
            .unwrap()
            .rows
    );
    let mut joined = Vec::new();
    for k in 1..=3 {
        joined.extend(
            generate(v, &c, CaseSet::Count(20_000), 9, Shard { k, n: 3 })
                .unwrap()
                .rows,
        );
    }
    assert_eq!(joined, whole.rows);
    let other = generate(v, &c, CaseSet::Count(20_000), 10, Shard::ALL).unwrap();
    assert_ne!(other.rows, whole.rows, "the seed matters");
    // Exhaustive shards too.
    let e = cfg("e4m3", "saturate", 0, "");
    let all = generate(v, &e, CaseSet::Exhaustive, 1, Shard::ALL).unwrap();
    let mut parts = Vec::new();
    for k in 1..=7 {
        parts.extend(
            generate(v, &e, CaseSet::Exhaustive, 1, Shard { k, n: 7 })
                .unwrap()
                .rows,
        );
    }
    assert_eq!(parts, all.rows);
    assert_eq!(all.rows.len(), 65536);
    assert!(
        Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("x").is_err()
    );
}

#[test]
fn vector_files_round_trip_and_bad_files_are_named() {
    let c = cfg("e4m3", "saturate", 0, "");
    let v = find("lmul").unwrap();
    let dir = work("files");
    let vec = generate(v, &c, CaseSet::Count(300), 3, Shard::ALL).unwrap();
    let path = dir.join("v.txt");
    vec.write(&path).unwrap();
    let back = parse(&path, v, &c).unwrap();
    assert_eq!(back.rows, vec.rows);
    let text = std::fs::read_to_string(&path).unwrap();
    let first_row = text.lines().position(|l| !l.starts_with('#')).unwrap();
    let bad = |edit: &dyn Fn(&mut Vec<String>), want: &str| {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        edit(&mut lines);
        let p = dir.join("bad.txt");
        std::fs::write(&p, lines.join("\n")).unwrap();
        let e = parse(&p, v, &c).unwrap_err().to_string();
        assert!(e.contains("bad.txt:") && e.contains(want), "{e}");
    };
    let row = first_row + 5;
    bad(
        &|l| l[row] = "00 01".into(),
        &format!("{}: 2 columns, expected 3 (A B Y)", row + 1),
    );
    bad(&|l| l[row] = "00 0G 00".into(), "field B = '0G' is not hex");
    bad(
        &|l| l[row] = "100 01 00".into(),
        "field A = '100' is wider than 8 bits",
    );
    bad(
        &|l| l[1] = "# pe=fpmul".into(),
        "header says pe=fpmul, but the run is for pe=lmul",
    );
    bad(&|l| l[2] = "# format=e5m2".into(), "format=e5m2");
    let _ = std::fs::remove_dir_all(&dir);
}
