//! Running the pelab binary from the integration tests.

#![allow(dead_code)]

use std::process::{Command, Output};

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
