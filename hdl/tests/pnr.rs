//! Place and route on iCE40 (nextpnr-ice40): Fmax of wrapped PEs, pipelining against the
//! combinational design, designs too large for a device, the wrapper's lint, the cache.

use pelab_hdl::emit::{PortDir, RtlModule};
use pelab_hdl::pnr::{pnr_fmax, pnr_module, wrap_registered, ClockSource, Device};
use pelab_hdl::tools::{lint, lint_verilator};
use pelab_hdl::{find, registry, RtlConfig};

fn module(pe: &str, format: &str, policy: &str, pipeline: u32, variant: &str) -> RtlModule {
    find(pe)
        .unwrap()
        .verilog(&RtlConfig::new(format, policy, pipeline).with_variant(variant))
        .unwrap()
}

/// Bits of the module's ports, the clock included (one I/O pin each), counted from the
/// documented ports.
fn port_bits(m: &RtlModule) -> u64 {
    let clock = u64::from(!m.ports.iter().any(|p| p.name == "clock"));
    m.ports.iter().map(|p| p.width as u64).sum::<u64>() + clock
}

#[test]
fn fmax_of_int16fma_and_pipelined_lmul() {
    let core = module("int16fma", "int16", "wrap", 0, "core");
    let (w, r) = pnr_module(&core, Device::Hx8k, 1).unwrap();
    assert_eq!(
        w.clock,
        ClockSource::Added,
        "int16fma core is combinational"
    );
    assert!(r.fmax_mhz > 0.0 && r.fmax_mhz.is_finite(), "{r:?}");
    // Lattice iCE40 LP/HX data sheet: the HX8K has 7 680 logic cells.
    let lc = r.utilization["ICESTORM_LC"];
    assert_eq!(lc.available, 7680, "{:?}", r.utilization);
    // Each logic cell holds one LUT4 and one flip-flop.
    assert!(
        lc.used >= r.synth.luts.max(r.synth.ffs),
        "{lc:?} against {:?}",
        r.synth.cells
    );
    assert_eq!(r.utilization["SB_IO"].used, port_bits(&core));
    assert_eq!(r.io_bits, port_bits(&core));
    // The wrapper's registers: every data port bit once.
    let data_bits: u64 = core.ports.iter().map(|p| p.width as u64).sum();
    assert_eq!(w.register_bits, data_bits);
    assert_eq!(r.synth.ffs, data_bits, "the core itself has no register");

    let fmax = |p: u32| {
        let m = module("lmul", "e4m3", "saturate", p, "");
        let (_, r) = pnr_module(&m, Device::Hx8k, 1).unwrap();
        assert!(r.fmax_mhz > 0.0 && r.fmax_mhz.is_finite(), "p{p}: {r:?}");
        r.fmax_mhz
    };
    // Pipeline 1 only registers the output, which the wrapper registers already: it places,
    // but no path gets shorter, so no ordering against pipeline 0 is expected.
    fmax(1);
    let (p0, p2) = (fmax(0), fmax(2));
    assert!(
        p2 > p0,
        "lmul e4m3: pipeline 2 ({p2:.2} MHz) should beat the combinational design ({p0:.2} MHz)"
    );
}

#[test]
fn too_large_for_up5k_reports_the_utilization() {
    // fpmul fp32 takes 97 I/O pins (a, b, y and the clock); the UP5K SG48 package bonds 39
    // (Lattice iCE40 UltraPlus data sheet).
    let m = module("fpmul", "fp32", "ieee", 0, "");
    assert_eq!(port_bits(&m), 97);
    let e = pnr_module(&m, Device::Up5k, 1).unwrap_err().to_string();
    assert!(e.contains("UP5K") && e.contains("utilization"), "{e}");
    assert!(
        e.contains("SB_IO") && e.contains("more than the device has"),
        "{e}"
    );
    assert!(
        e.contains("97 I/O bits") && e.contains("39 user I/O"),
        "{e}"
    );

    // Too many logic cells: a 6 000-bit shift register needs 6 000 flip-flops, one per logic
    // cell; the UP5K has 5 280 (data sheet).
    let big = "module pnr_big(input wire clock, input wire d, output wire q);\n\
               reg [5999:0] s;\n\
               always @(posedge clock) s <= {s[5998:0], d ^ s[5999]};\n\
               assign q = s[5999];\n\
               endmodule\n";
    let e = pnr_fmax(big, "pnr_big", Device::Up5k, 1)
        .unwrap_err()
        .to_string();
    let lc_line = e
        .lines()
        .find(|l| l.trim_start().starts_with("ICESTORM_LC"))
        .unwrap_or_else(|| panic!("no logic-cell utilization in: {e}"));
    let used: u64 = lc_line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{lc_line}"));
    assert!(used >= 6000, "{e}");
    assert!(
        lc_line.contains("/ 5280") && lc_line.contains("more than the device has"),
        "{e}"
    );
    assert!(e.contains("the device has 5280 (too few)"), "{e}");
}

#[test]
fn wrappers_lint_clean() {
    let dir = std::env::temp_dir().join(format!("pelab-pnr-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One configuration of every PE, plus a pipelined one (its clock is shared).
    let mut mods: Vec<RtlModule> = registry()
        .iter()
        .map(|pe| pe.verilog(&pe.configs()[0]).unwrap())
        .collect();
    mods.push(module("lmul", "e4m3", "saturate", 2, ""));
    mods.push(module("int16fma", "int16", "wrap", 0, "mac"));
    for m in &mods {
        let w = wrap_registered(m).unwrap();
        assert_eq!(w.module, format!("{}_pnr", m.name));
        let has_clock = m.ports.iter().any(|p| p.name == "clock");
        assert_eq!(w.clock == ClockSource::Shared, has_clock, "{}", m.name);
        let inputs = m
            .ports
            .iter()
            .filter(|p| p.dir == PortDir::Input && p.name != "clock")
            .count();
        assert_eq!(w.registered_inputs.len(), inputs, "{}", m.name);
        let path = dir.join(w.file_name());
        std::fs::write(&path, &w.verilog).unwrap();
        lint_verilator(&path).unwrap_or_else(|e| panic!("{e}"));
        lint(&path, &w.module).unwrap_or_else(|e| panic!("{e}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn results_are_cached() {
    let m = module("lmul", "e2m1", "saturate", 0, "");
    let (_, a) = pnr_module(&m, Device::Up5k, 7).unwrap();
    let stamp = std::fs::metadata(&a.log).unwrap().modified().unwrap();
    let (_, b) = pnr_module(&m, Device::Up5k, 7).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        std::fs::metadata(&b.log).unwrap().modified().unwrap(),
        stamp,
        "no re-run"
    );
    assert_eq!(a.utilization["ICESTORM_LC"].available, 5280);
    assert!(pnr_fmax("", "x", Device::Hx8k, u32::MAX).is_err());
}
