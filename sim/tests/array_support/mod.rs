//! What the array tests share: random operands for a cell, and an FP32 decoder of narrow float
//! codes written from the layout alone (no pelab decoding).
#![allow(dead_code)]

use pelab_sim::array::Cell;
use pelab_sim::format::{Format, Kind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The float format of a float cell (`None` for `int16fma`).
pub fn cell_format(cell: &Cell) -> Option<Format> {
    (cell.pe != "int16fma").then(|| Format::parse(&cell.format).unwrap())
}

pub use pelab_sim::array::gemm::random_operands as operands;

/// The value of `code` in `f`, decoded from the layout with `f64` arithmetic (NaN for NaN
/// codes, ±Inf, signed zeros).
pub fn decode(f: &Format, code: u64) -> f64 {
    let neg = (code >> (f.e + f.m)) & 1 == 1;
    let ef = (code >> f.m) & ((1u64 << f.e) - 1);
    let mf = code & ((1u64 << f.m) - 1);
    let all_e = (1u64 << f.e) - 1;
    let all_m = (1u64 << f.m) - 1;
    let mag = match f.kind {
        Kind::Ieee if ef == all_e => {
            if mf == 0 {
                f64::INFINITY
            } else {
                return f64::NAN;
            }
        }
        Kind::FiniteNan if ef == all_e && mf == all_m => return f64::NAN,
        _ if ef == 0 => mf as f64 * 2f64.powi(1 - f.bias - f.m as i32),
        _ => ((1u64 << f.m) + mf) as f64 * 2f64.powi(ef as i32 - f.bias - f.m as i32),
    };
    if neg {
        -mag
    } else {
        mag
    }
}

/// `x` as an FP32 code with any NaN canonical.
pub fn canon(x: f32) -> u32 {
    if x.is_nan() {
        0x7FC0_0000
    } else {
        x.to_bits()
    }
}
