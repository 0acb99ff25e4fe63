//! Fuzzing of the model-file reader (`pelab_sim::accel::workload`): seeded random mutations of
//! valid TOML and JSON model files (shape form and GEMM-list form) either load, and then
//! expand to op lists and run through an accelerator, or fail with an error that names the
//! file and a line; never a panic or a hang. 2,000 cases per format by default
//! (`PELAB_FUZZ_CASES` changes it).

#[path = "common/fuzz.rs"]
mod fuzz;

use pelab_sim::accel::hpca25::Accelerator;
use pelab_sim::accel::source::Format;
use pelab_sim::accel::workload::{Scenario, Task, Workload};

const SHAPE_TOML: &str = r#"# a Llama-like model
id = "tiny"
name = "Tiny GQA model"
layers = 4
hidden = 512
ffn = 1376
heads = 8
kv_heads = 2
vocab = 32000
linears = [
  { name = "q_proj", out = "h", in = "h" },
  { name = "k_proj", out = "kvd", in = "h" },
  { name = "v_proj", out = "(h / heads) * kv_heads", in = "h" },
  { name = "o_proj", out = "h", in = "h" },
  { name = "gate_proj", out = "f", in = "h" },
  { name = "up_proj", out = 1376, in = "h" },
  { name = "down_proj", out = "h", in = "f" },
]
"#;

const GEMM_TOML: &str = r#"name = "two GEMMs"

[[gemms]]
name = "proj"
cout = 4096
cin = 4096
tok = "t"
count = 3

[[gemms]]
name = "scores"
kind = "attention"
cout = "ctx"
cin = 128
cin_i = 128
tok = "t * 32"
"#;

const SHAPE_JSON: &str = r#"{
  "name": "Tiny",
  "layers": 2,
  "hidden": 256,
  "ffn": 1024,
  "heads": 4,
  "kv_heads": 4,
  "vocab": 1000,
  "linears": [
    {"name": "qkv", "out": "3*h", "in": "h"},
    {"name": "fc1", "out": "f", "in": "h"},
    {"name": "fc2", "out": "h", "in": "f"}
  ]
}
"#;

const GEMM_JSON: &str = r#"{
  "id": "gemms",
  "gemms": [
    {"name": "proj", "cout": 4096, "cin": 4096, "tok": "t", "count": 3},
    {"name": "scores", "kind": "attention", "cout": "ctx", "cin": 128, "tok": "t*32"}
  ]
}
"#;

const TOML_TOKENS: &[&str] = &[
    "[[gemms]]",
    "[[linears]]",
    "[",
    "]",
    "{",
    "}",
    "=",
    ",",
    "\"",
    "'",
    "#",
    "\n",
    ".",
    "layers",
    "hidden",
    "ffn",
    "heads",
    "kv_heads",
    "vocab",
    "linears",
    "gemms",
    "name",
    "out",
    "in",
    "cout",
    "cin",
    "cin_i",
    "tok",
    "count",
    "kind",
    "\"attention\"",
    "\"linear\"",
    "\"h\"",
    "\"f*h\"",
    "\"t\"",
    "\"ctx\"",
    "\"h/0\"",
    "\"(((h)))\"",
    "\"kvd/3\"",
    "true",
    "1.5",
    "1979-05-27",
];

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
    "null",
    "true",
    "\"layers\"",
    "\"hidden\"",
    "\"heads\"",
    "\"kv_heads\"",
    "\"vocab\"",
    "\"linears\"",
    "\"gemms\"",
    "\"name\"",
    "\"out\"",
    "\"in\"",
    "\"cout\"",
    "\"cin\"",
    "\"tok\"",
    "\"count\"",
    "\"kind\"",
    "\"attention\"",
    "\"h\"",
    "\"t*ctx\"",
    "\"h/0\"",
    "\"kvd-kvd\"",
    "1e5",
    "-0",
    "1.0",
];

/// Loads `bytes` as `file`; an accepted file must expand and run in both scenarios.
fn check(file: &str, format: Format, bytes: &[u8]) -> Result<bool, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return Ok(false),
    };
    match Workload::parse(file, "fuzz", text, format) {
        Ok(w) => {
            let acc = Accelerator::preset("bitmod-lossy").unwrap();
            for task in Task::ALL {
                let sc = Scenario::new(task);
                let ops = w
                    .ops(sc)
                    .map_err(|e| format!("accepted, but no op list: {e}"))?;
                if ops.is_empty() {
                    return Err("accepted, with an empty op list".into());
                }
                // Large accepted models may overflow the counts: that must be an error too.
                if let Err(e) = acc.run(&w, sc) {
                    if !e.0.contains("overflow") {
                        return Err(format!("accepted, but the run failed: {e}"));
                    }
                }
            }
            Ok(true)
        }
        Err(e) => fuzz::names_file_and_place(&e.0, file).map(|_| false),
    }
}

#[test]
fn fuzz_toml_model_files() {
    let seeds = vec![
        SHAPE_TOML.as_bytes().to_vec(),
        GEMM_TOML.as_bytes().to_vec(),
    ];
    for s in &seeds {
        assert!(
            check("m.toml", Format::Toml, s).unwrap(),
            "a seed is rejected"
        );
    }
    let s = fuzz::run("accel-toml", fuzz::inputs(seeds, TOML_TOKENS), |b| {
        check("m.toml", Format::Toml, b)
    });
    assert!(s.accepted > 0);
}

#[test]
fn fuzz_json_model_files() {
    let seeds = vec![
        SHAPE_JSON.as_bytes().to_vec(),
        GEMM_JSON.as_bytes().to_vec(),
    ];
    for s in &seeds {
        assert!(
            check("m.json", Format::Json, s).unwrap(),
            "a seed is rejected"
        );
    }
    let s = fuzz::run("accel-json", fuzz::inputs(seeds, JSON_TOKENS), |b| {
        check("m.json", Format::Json, b)
    });
    assert!(s.accepted > 0);
}

/// Errors a person meets, each naming the file, the line and what was expected.
#[test]
fn errors_name_file_line_and_expectation() {
    let cases: [(&str, Format, String, &str); 7] = [
        (
            "a.toml",
            Format::Toml,
            SHAPE_TOML.replace("hidden = 512", "hidden = \"512\""),
            "a.toml:5:10: the file: `hidden`: expected an integer from 1 to",
        ),
        (
            "a.toml",
            Format::Toml,
            SHAPE_TOML.replace("\"kvd\"", "\"kvd/3\""),
            "a.toml:12:28: linears[1] `k_proj`: `out`: `kvd/3`: 128 / 3 is not exact",
        ),
        (
            "a.toml",
            Format::Toml,
            SHAPE_TOML.replace("heads = 8", "heads = 7"),
            "`heads` = 7 does not divide `hidden` = 512",
        ),
        (
            "a.toml",
            Format::Toml,
            SHAPE_TOML.replace("layers = 4", "layer = 4"),
            "a.toml:1:1: expected a model shape",
        ),
        (
            "a.json",
            Format::Json,
            SHAPE_JSON.replace("\"3*h\"", "\"3*x\""),
            "a.json:10:28: linears[0]: `out`: `3*x`: unknown name `x` (expected one of: h, f, d",
        ),
        (
            "a.json",
            Format::Json,
            GEMM_JSON.replace("\"count\": 3", "\"count\": 0"),
            "a.json:4:",
        ),
        (
            "a.json",
            Format::Json,
            GEMM_JSON.replace("\"tok\": \"t\",", "\"tok\": \"t\""),
            "a.json:4:",
        ),
    ];
    for (file, format, text, want) in cases {
        let e = Workload::parse(file, "x", &text, format).unwrap_err();
        assert!(e.0.contains(want), "{e}\n(expected `{want}`)");
        fuzz::names_file_and_place(&e.0, file).unwrap();
    }
}

/// Arrays nested 10^5 deep are refused with a positioned error, without exhausting the stack.
#[test]
fn deep_nesting_is_an_error() {
    let deep = format!("layers = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let e = Workload::parse("d.toml", "d", &deep, Format::Toml).unwrap_err();
    fuzz::names_file_and_place(&e.0, "d.toml").unwrap();
    let deep = format!(
        "{{\"layers\": {}1{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = Workload::parse("d.json", "d", &deep, Format::Json).unwrap_err();
    fuzz::names_file_and_place(&e.0, "d.json").unwrap();
}
