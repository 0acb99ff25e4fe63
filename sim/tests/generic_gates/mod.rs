//! The combinational generic gates of Yosys (`$_AND_`, `$_MUX_`, ...) and their definitions
//! from the Yosys manual: the oracle of the gate-level simulation tests.

/// Every combinational generic cell type and its input pins (the output is `Y`).
#[allow(dead_code)] // used by some of the tests that include this module
pub const GATES: [(&str, &[&str]); 16] = [
    ("$_BUF_", &["A"]),
    ("$_NOT_", &["A"]),
    ("$_AND_", &["A", "B"]),
    ("$_NAND_", &["A", "B"]),
    ("$_OR_", &["A", "B"]),
    ("$_NOR_", &["A", "B"]),
    ("$_XOR_", &["A", "B"]),
    ("$_XNOR_", &["A", "B"]),
    ("$_ANDNOT_", &["A", "B"]),
    ("$_ORNOT_", &["A", "B"]),
    ("$_MUX_", &["A", "B", "S"]),
    ("$_NMUX_", &["A", "B", "S"]),
    ("$_AOI3_", &["A", "B", "C"]),
    ("$_OAI3_", &["A", "B", "C"]),
    ("$_AOI4_", &["A", "B", "C", "D"]),
    ("$_OAI4_", &["A", "B", "C", "D"]),
];

/// The Yosys manual's definition of each generic gate (inputs in the pin order of [`GATES`]).
pub fn truth(kind: &str, x: &[bool]) -> bool {
    match kind {
        "$_BUF_" => x[0],
        "$_NOT_" => !x[0],
        "$_AND_" => x[0] & x[1],
        "$_NAND_" => !(x[0] & x[1]),
        "$_OR_" => x[0] | x[1],
        "$_NOR_" => !(x[0] | x[1]),
        "$_XOR_" => x[0] ^ x[1],
        "$_XNOR_" => !(x[0] ^ x[1]),
        "$_ANDNOT_" => x[0] & !x[1],
        "$_ORNOT_" => x[0] | !x[1],
        "$_MUX_" => {
            if x[2] {
                x[1]
            } else {
                x[0]
            }
        }
        "$_NMUX_" => !(if x[2] { x[1] } else { x[0] }),
        "$_AOI3_" => !((x[0] & x[1]) | x[2]),
        "$_OAI3_" => !((x[0] | x[1]) & x[2]),
        "$_AOI4_" => !((x[0] & x[1]) | (x[2] & x[3])),
        "$_OAI4_" => !((x[0] | x[1]) & (x[2] | x[3])),
        _ => panic!("{kind} is not a combinational generic gate"),
    }
}
