//! `pelab synth --pnr`: text and JSON reports, the bitstream, and the errors (wrong target,
//! flags without --pnr, missing tools).

mod common;

use common::{err, ok};
use std::process::Command;

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pelab-pnr-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const LMUL: [&str; 6] = ["synth", "lmul", "--format", "e4m3", "--target", "ice40"];

#[test]
fn json_and_text_reports() {
    let mut args = LMUL.to_vec();
    args.extend(["--pnr", "--pipeline", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    assert!(v["fmax_mhz"].as_f64().unwrap() > 0.0, "{v}");
    assert_eq!(v["device"], "hx8k");
    assert_eq!(v["seed"], 1);
    // Lattice data sheet: the HX8K has 7 680 logic cells.
    assert_eq!(v["utilization"]["ICESTORM_LC"]["available"], 7680, "{v}");
    // a, b, y (8 bits each) and the clock.
    assert_eq!(v["utilization"]["SB_IO"]["used"], 25, "{v}");
    assert_eq!(v["wrapper"]["module"], "pelab_lmul_e4m3_sat_p2_pnr");
    assert_eq!(v["wrapper"]["clock"], "shared");
    assert_eq!(v["wrapper"]["register_bits"], 24);
    assert!(v["tools"]["yosys"].as_str().unwrap().contains("Yosys"));
    assert!(v["tools"]["nextpnr-ice40"]
        .as_str()
        .unwrap()
        .contains("nextpnr"));

    let mut args = LMUL.to_vec();
    args.extend(["--pnr", "--device", "up5k", "--seed", "3"]);
    let text = ok(&args);
    for want in [
        "UP5K (sg48), seed 3",
        "Fmax:",
        "MHz",
        "wrapper:      pelab_lmul_e4m3_sat_pnr registers every input port",
        "a clock input the wrapper adds",
        "ICESTORM_LC",
        "/ 5280",
        "nextpnr-ice40",
        "Yosys",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn bitstream_is_written() {
    let dir = temp_dir("bin");
    let out = dir.join("lmul.bin");
    let mut args = LMUL.to_vec();
    args.extend(["--pnr", "--bitstream", out.to_str().unwrap()]);
    let text = ok(&args);
    assert!(text.contains("bitstream:"), "{text}");
    let bin = std::fs::read(&out).unwrap();
    // iCE40 programming and configuration guide: the bitstream starts its configuration with
    // the synchronization word 0x7EAA997E.
    assert!(
        bin.windows(4).any(|w| w == [0x7e, 0xaa, 0x99, 0x7e]),
        "no iCE40 sync word in {} bytes",
        bin.len()
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temporary files left: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pnr_needs_the_ice40_target_and_flags_need_pnr() {
    let e = err(&["synth", "lmul", "--format", "e4m3", "--pnr"]);
    assert!(e.contains("--target ice40") && e.contains("generic"), "{e}");
    let e = err(&[
        "synth", "lmul", "--format", "e4m3", "--target", "xilinx", "--pnr",
    ]);
    assert!(e.contains("--target ice40") && e.contains("xilinx"), "{e}");
    let mut args = LMUL.to_vec();
    args.extend(["--device", "up5k"]);
    assert!(err(&args).contains("--pnr"));
    let mut args = LMUL.to_vec();
    args.extend(["--pnr", "--device", "ecp5"]);
    let e = err(&args);
    assert!(e.contains("hx8k") && e.contains("up5k"), "{e}");
}

#[test]
fn missing_tools_name_their_package() {
    // No tool at all on PATH: nextpnr-ice40 is looked for first.
    let empty = temp_dir("nopath");
    let mut args = LMUL.to_vec();
    args.push("--pnr");
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(&args)
        .env("PATH", &empty)
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("nextpnr-ice40 is not installed")
            && e.contains("apt-get install nextpnr-ice40")
            && e.contains("./scripts/setup"),
        "{e}"
    );

    // Everything but icepack: the bitstream names fpga-icestorm.
    let dir = temp_dir("noicepack");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["yosys", "yosys-abc", "nextpnr-ice40"] {
        let found = pelab_hdl::tools::require_tool(tool).unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = dir.join("x.bin");
    args.extend(["--bitstream", out.to_str().unwrap()]);
    let o = Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(&args)
        .env("PATH", &bin)
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("icepack is not installed") && e.contains("apt-get install fpga-icestorm"),
        "{e}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&empty);
    let _ = std::fs::remove_dir_all(&dir);
}
