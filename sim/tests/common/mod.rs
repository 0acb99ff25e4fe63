//! Shared test inputs: seeded random codes and special-value sets.
#![allow(dead_code)]

use pelab_sim::format::Format;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Special and boundary codes of a format: zeros, subnormal edges, min/max normal, max finite,
/// Inf, NaN, one, exponent extremes, all-ones and single-bit mantissas — both signs.
pub fn special_codes(f: &Format) -> Vec<u64> {
    let m = f.m;
    let man = f.man_mask();
    let emax_field = (1u64 << f.e) - 1;
    let mut v = vec![
        0,
        1,
        2,
        man,
        man - 1,
        1 << m,
        (1 << m) | 1,
        (1 << m) | man,
        (2 << m) | man,
        f.max_finite(),
        f.max_finite() - 1,
        (emax_field - 1) << m,
        (f.bias as u64) << m,
        ((f.bias as u64) << m) | man,
        ((f.bias as u64) << m) | (1 << (m - 1)),
        ((f.bias as u64 - 1) << m) | man,
        ((f.bias as u64 + 1) << m) | 1,
        emax_field << m,
        (emax_field << m) | 1,
        (emax_field << m) | (1 << (m - 1)),
        f.mag_mask(),
    ];
    for k in 0..m {
        v.push(1 << k);
        v.push((f.bias as u64) << m | (1 << k));
    }
    let mut out: Vec<u64> = v
        .iter()
        .flat_map(|&c| [c & f.mag_mask(), (c & f.mag_mask()) | f.sign_bit()])
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Random codes whose products cover normal, subnormal, overflow and special results:
/// a third uniform codes, a third with exponents near the bias, a third aimed at the
/// underflow and overflow boundaries of the product.
pub fn random_pair(f: &Format, r: &mut ChaCha8Rng) -> (u64, u64) {
    let mask = f.mask();
    let emax = (1i64 << f.e) - 1;
    let code = |r: &mut ChaCha8Rng, ef: i64| -> u64 {
        let ef = ef.clamp(0, emax) as u64;
        (r.gen::<u64>() & (f.sign_bit() | f.man_mask())) | (ef << f.m)
    };
    match r.gen_range(0..3) {
        0 => (r.gen::<u64>() & mask, r.gen::<u64>() & mask),
        1 => {
            let b = f.bias as i64;
            let spread = (f.e as i64 + 1).min(b);
            let ea = b + r.gen_range(-spread..=spread);
            let eb = b + r.gen_range(-spread..=spread);
            (code(r, ea), code(r, eb))
        }
        _ => {
            // Product exponent field near 0 (underflow) or near the top (overflow).
            let target = if r.gen::<bool>() {
                r.gen_range(-(f.m as i64) - 3..=2)
            } else {
                emax - r.gen_range(0..=2)
            };
            let ea = r.gen_range(1..emax);
            let eb = target + f.bias as i64 - ea;
            (code(r, ea), code(r, eb))
        }
    }
}
