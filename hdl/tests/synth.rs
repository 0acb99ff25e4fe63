//! Yosys flows on a registered L-Mul: reports, the cached JSON netlist, cache reuse.

use pelab_hdl::synth::{netlist_json, synthesize, Flow};
use pelab_hdl::{find, RtlConfig};

#[test]
fn flows_report_cells_and_reuse_the_cache() {
    let m = find("lmul")
        .unwrap()
        .verilog(&RtlConfig::new("e4m3", "saturate", 1))
        .unwrap();
    let g = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
    assert_eq!(g.ffs, 8, "one 8-bit output register: {:?}", g.cells);
    assert_eq!(g.luts, 0);
    assert!(g.logic_cells > 40 && g.longest_path > 4, "{g:?}");
    assert!(
        g.cells.keys().all(|t| t.starts_with("$_")),
        "generic cells only: {:?}",
        g.cells
    );
    let again = synthesize(&m.verilog, &m.name, Flow::Generic).unwrap();
    assert_eq!(again, g);
    let stamp = std::fs::metadata(&g.netlist).unwrap().modified().unwrap();
    let json = netlist_json(&m.verilog, &m.name, Flow::Generic).unwrap();
    assert!(json.contains(&format!("\"{}\"", m.name)));
    assert_eq!(
        std::fs::metadata(&g.netlist).unwrap().modified().unwrap(),
        stamp,
        "no re-run"
    );

    let ice = synthesize(&m.verilog, &m.name, Flow::Ice40).unwrap();
    assert_eq!(ice.ffs, 8, "{:?}", ice.cells);
    assert!(ice.luts > 20 && ice.carry > 0, "{:?}", ice.cells);
    let x = synthesize(&m.verilog, &m.name, Flow::Xilinx).unwrap();
    assert_eq!(x.ffs, 8, "{:?}", x.cells);
    assert!(
        x.luts > 10 && !x.cells.contains_key("IBUF"),
        "{:?}",
        x.cells
    );
}

#[test]
fn unknown_flow_lists_the_valid_ones() {
    let e = Flow::parse("asic").unwrap_err().to_string();
    assert!(
        e.contains("generic") && e.contains("ice40") && e.contains("xilinx"),
        "{e}"
    );
}
