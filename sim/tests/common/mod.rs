//! Shared test inputs (re-exported from the library) and a seeded generator.
#![allow(dead_code)]

pub use pelab_sim::samples::{random_pair, special_codes};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
