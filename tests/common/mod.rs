//! Running the pelab binary from the integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::str::FromStr;

pub fn pelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pelab"))
        .args(args)
        .output()
        .expect("run pelab")
}

pub fn ok(args: &[&str]) -> String {
    let o = pelab(args);
    assert!(
        o.status.success(),
        "pelab {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Runs a failing command; returns stderr after checking the exit code and empty stdout.
pub fn err(args: &[&str]) -> String {
    let o = pelab(args);
    assert!(!o.status.success(), "pelab {args:?} should fail");
    assert!(
        o.stdout.is_empty(),
        "pelab {args:?} printed to stdout on error"
    );
    String::from_utf8(o.stderr).unwrap()
}

/// BitMoD's published table (`sim/data/bitmod_hpca25_published.csv`):
/// (accelerator, model, task) -> (cycles, on-chip µJ, total µJ) as the notebooks hold them.
pub fn published_hpca25<E>() -> BTreeMap<(String, String, String), (u64, E, E)>
where
    E: FromStr,
    E::Err: std::fmt::Debug,
{
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sim/data/bitmod_hpca25_published.csv"
    );
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                (rec[0].into(), rec[1].into(), rec[2].into()),
                (
                    rec[3].parse().unwrap(),
                    rec[4].parse().unwrap(),
                    rec[5].parse().unwrap(),
                ),
            )
        })
        .collect()
}
