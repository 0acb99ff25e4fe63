//! Weight datatypes of BitMoD and of the comparison schemes, as code tables.
//!
//! Every datatype is a table of signed integer values ("code units") indexed by the 3- or 4-bit
//! weight code. Codes are sign-magnitude: the top bit is the sign, the lower bits index the
//! magnitude (`0` is the smallest). The code with sign bit 1 and magnitude index 0 (the "-0"
//! code, `100` / `1000`) is the spare code: the BitMoD variants store their extra value there,
//! whatever its sign; in the other types it decodes to 0 and the quantizer never emits it.
//! The per-group scale makes the unit irrelevant, so FP4 is E2M1 multiplied by 2.

use super::terms::decompose;

/// A weight datatype: the value of every 3- or 4-bit code.
#[derive(Debug, PartialEq, Eq)]
pub struct Datatype {
    /// Name as typed on the command line (`fp4-er+`, `int3`, ...).
    pub name: &'static str,
    /// Code width in bits (3 or 4).
    pub bits: u32,
    /// Value of each code in code units, indexed by the code (`1 << bits` entries).
    pub values: &'static [i32],
    /// The 3-bit type select of the BitMoD PE for the eight BitMoD variants, `None` for the
    /// comparison types the hardware decoder does not implement.
    pub pe_select: Option<u8>,
}

impl Datatype {
    /// Value of `code` in code units; `None` when the code is wider than the type.
    pub fn value(&self, code: u32) -> Option<i32> {
        self.values.get(code as usize).copied()
    }

    /// The spare ("-0") code: sign bit set, magnitude index 0.
    pub fn spare_code(&self) -> u8 {
        1 << (self.bits - 1)
    }

    /// The extra value stored in the spare code (`None` for types without one).
    pub fn extra_value(&self) -> Option<i32> {
        match self.values[self.spare_code() as usize] {
            0 => None,
            v => Some(v),
        }
    }

    /// The largest magnitude of the type (the quantizer maps the group's absmax onto it).
    pub fn max_abs(&self) -> i32 {
        self.values.iter().map(|v| v.abs()).max().unwrap_or(0)
    }

    /// The distinct values of the type, ascending (the quantization grid).
    pub fn grid(&self) -> Vec<i32> {
        let mut g = self.values.to_vec();
        g.sort_unstable();
        g.dedup();
        g
    }

    /// The code the quantizer emits for `value`: 0 for zero, otherwise the unique code holding
    /// it. `None` when the value is not on the grid.
    pub fn code_of(&self, value: i32) -> Option<u8> {
        if value == 0 {
            return Some(0);
        }
        self.values
            .iter()
            .position(|&v| v == value)
            .map(|c| c as u8)
    }

    /// True when every value splits into two power-of-two terms, i.e. the PE datapath can
    /// evaluate the type (false only for INT4, whose 7 needs three terms).
    pub fn pe_decomposable(&self) -> bool {
        self.values.iter().all(|&v| decompose(v).is_some())
    }
}

macro_rules! dtype {
    ($id:ident, $name:literal, $bits:literal, $sel:expr, [$($v:expr),* $(,)?]) => {
        #[doc = concat!("The `", $name, "` datatype (values by code: ", stringify!($($v),*), ").")]
        pub static $id: Datatype = Datatype {
            name: $name,
            bits: $bits,
            values: &[$($v),*],
            pe_select: $sel,
        };
    };
}

dtype!(INT3, "int3", 3, None, [0, 1, 2, 3, 0, -1, -2, -3]);
dtype!(FP3, "fp3", 3, None, [0, 1, 2, 4, 0, -1, -2, -4]);
dtype!(
    FP3_ER_POS,
    "fp3-er+",
    3,
    Some(0),
    [0, 1, 2, 4, 3, -1, -2, -4]
);
dtype!(
    FP3_ER_NEG,
    "fp3-er-",
    3,
    Some(1),
    [0, 1, 2, 4, -3, -1, -2, -4]
);
dtype!(
    FP3_EA_POS,
    "fp3-ea+",
    3,
    Some(2),
    [0, 1, 2, 4, 6, -1, -2, -4]
);
dtype!(
    FP3_EA_NEG,
    "fp3-ea-",
    3,
    Some(3),
    [0, 1, 2, 4, -6, -1, -2, -4]
);
dtype!(
    INT4,
    "int4",
    4,
    None,
    [0, 1, 2, 3, 4, 5, 6, 7, 0, -1, -2, -3, -4, -5, -6, -7]
);
dtype!(
    FLINT4,
    "flint4",
    4,
    None,
    [0, 1, 2, 3, 4, 6, 8, 16, 0, -1, -2, -3, -4, -6, -8, -16]
);
dtype!(
    FP4,
    "fp4",
    4,
    None,
    [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12]
);
dtype!(
    FP4_ER_POS,
    "fp4-er+",
    4,
    Some(4),
    [0, 1, 2, 3, 4, 6, 8, 12, 10, -1, -2, -3, -4, -6, -8, -12]
);
dtype!(
    FP4_ER_NEG,
    "fp4-er-",
    4,
    Some(5),
    [0, 1, 2, 3, 4, 6, 8, 12, -10, -1, -2, -3, -4, -6, -8, -12]
);
dtype!(
    FP4_EA_POS,
    "fp4-ea+",
    4,
    Some(6),
    [0, 1, 2, 3, 4, 6, 8, 12, 16, -1, -2, -3, -4, -6, -8, -12]
);
dtype!(
    FP4_EA_NEG,
    "fp4-ea-",
    4,
    Some(7),
    [0, 1, 2, 3, 4, 6, 8, 12, -16, -1, -2, -3, -4, -6, -8, -12]
);

/// Every datatype, 3-bit ones first.
pub static ALL_DATATYPES: [&Datatype; 13] = [
    &INT3,
    &FP3,
    &FP3_ER_POS,
    &FP3_ER_NEG,
    &FP3_EA_POS,
    &FP3_EA_NEG,
    &INT4,
    &FLINT4,
    &FP4,
    &FP4_ER_POS,
    &FP4_ER_NEG,
    &FP4_EA_POS,
    &FP4_EA_NEG,
];

/// Finds a datatype by name.
pub fn datatype(name: &str) -> Option<&'static Datatype> {
    ALL_DATATYPES.iter().copied().find(|d| d.name == name)
}

/// The datatype of the PE's 3-bit type select (`{4-bit mode, variant[1:0]}`, variants in the
/// order ER+, ER-, EA+, EA-).
pub fn by_pe_select(select: u8) -> Option<&'static Datatype> {
    ALL_DATATYPES
        .iter()
        .copied()
        .find(|d| d.pe_select == Some(select))
}

/// An ordered list of candidate datatypes; the quantizer picks one per group and stores its
/// index (the selector).
#[derive(Debug, PartialEq, Eq)]
pub struct CandidateSet {
    /// Name as typed on the command line.
    pub name: &'static str,
    /// Candidates in priority order: on equal error the earlier one wins.
    pub types: &'static [&'static Datatype],
}

impl CandidateSet {
    /// Bits of the per-group selector (0 for a single type).
    pub fn selector_bits(&self) -> u32 {
        (self.types.len() as u32)
            .next_power_of_two()
            .trailing_zeros()
    }
}

macro_rules! cset {
    ($id:ident, $name:literal, $doc:literal, [$($t:ident),*]) => {
        #[doc = $doc]
        pub static $id: CandidateSet = CandidateSet { name: $name, types: &[$(&$t),*] };
    };
}

cset!(
    BITMOD3,
    "bitmod3",
    "BitMoD 3-bit: FP3 ER+, ER-, EA+, EA- (2 selector bits).",
    [FP3_ER_POS, FP3_ER_NEG, FP3_EA_POS, FP3_EA_NEG]
);
cset!(
    BITMOD4,
    "bitmod4",
    "BitMoD 4-bit: FP4 ER+, ER-, EA+, EA- (2 selector bits).",
    [FP4_ER_POS, FP4_ER_NEG, FP4_EA_POS, FP4_EA_NEG]
);
cset!(
    BITMOD3_ER,
    "bitmod3-er",
    "FP3 ER+ and ER- only (1 selector bit).",
    [FP3_ER_POS, FP3_ER_NEG]
);
cset!(
    BITMOD3_EA,
    "bitmod3-ea",
    "FP3 EA+ and EA- only (1 selector bit).",
    [FP3_EA_POS, FP3_EA_NEG]
);
cset!(
    BITMOD4_ER,
    "bitmod4-er",
    "FP4 ER+ and ER- only (1 selector bit).",
    [FP4_ER_POS, FP4_ER_NEG]
);
cset!(
    BITMOD4_EA,
    "bitmod4-ea",
    "FP4 EA+ and EA- only (1 selector bit).",
    [FP4_EA_POS, FP4_EA_NEG]
);
cset!(
    ANT3,
    "ant3",
    "ANT-style 3-bit mixture: INT3 or FP3 per group.",
    [INT3, FP3]
);
cset!(
    ANT4,
    "ant4",
    "ANT-style 4-bit mixture: INT4 or FLINT4 per group.",
    [INT4, FLINT4]
);
cset!(ONLY_INT3, "int3", "INT3 alone.", [INT3]);
cset!(ONLY_FP3, "fp3", "FP3 alone.", [FP3]);
cset!(ONLY_INT4, "int4", "INT4 alone.", [INT4]);
cset!(ONLY_FP4, "fp4", "FP4 (E2M1) alone.", [FP4]);
cset!(ONLY_FLINT4, "flint4", "FLINT4 alone.", [FLINT4]);

/// Every candidate set.
pub static ALL_SETS: [&CandidateSet; 13] = [
    &BITMOD3,
    &BITMOD4,
    &BITMOD3_ER,
    &BITMOD3_EA,
    &BITMOD4_ER,
    &BITMOD4_EA,
    &ANT3,
    &ANT4,
    &ONLY_INT3,
    &ONLY_FP3,
    &ONLY_INT4,
    &ONLY_FP4,
    &ONLY_FLINT4,
];

/// Finds a candidate set by name.
pub fn candidate_set(name: &str) -> Option<&'static CandidateSet> {
    ALL_SETS.iter().copied().find(|s| s.name == name)
}
