//! Seeded fuzzing of file readers on proptest, shared by the fuzz tests of every crate (the
//! others include this file with `#[path]`).
//!
//! Inputs are arbitrary bytes, soups of a format's own tokens, and valid files put through a
//! few mutations: byte flips, truncation anywhere or next to a delimiter, duplicated, deleted
//! and swapped lines, numbers replaced by huge or odd ones, and repeated spans. The run is
//! seeded by the test's name, so it is the same on every machine; `PELAB_FUZZ_CASES` sets
//! the number of cases per reader (default [`DEFAULT_CASES`]). Each case runs under a time
//! limit, and a watchdog thread aborts the process, saving the input, if a case hangs.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Cases per reader when `PELAB_FUZZ_CASES` is not set.
pub const DEFAULT_CASES: u32 = 2_000;
/// Longest a single case may take before it fails (a parse of these inputs takes
/// microseconds; the margin is for a loaded machine).
pub const CASE_LIMIT: Duration = Duration::from_secs(10);
/// Longest a single case may run before the watchdog aborts the process.
pub const HANG_LIMIT: Duration = Duration::from_secs(120);

/// The number of cases per reader: `PELAB_FUZZ_CASES`, or [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    match std::env::var("PELAB_FUZZ_CASES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PELAB_FUZZ_CASES={v}: expected a number of cases")),
        Err(_) => DEFAULT_CASES,
    }
}

/// One input; shown as (lossy, escaped) text when a case fails.
#[derive(Clone)]
pub struct Input(pub Vec<u8>);

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 4000;
        let text = String::from_utf8_lossy(&self.0[..self.0.len().min(SHOWN)]);
        write!(f, "{} bytes: \"{}\"", self.0.len(), text.escape_debug())?;
        if self.0.len() > SHOWN {
            write!(f, "...")?;
        }
        Ok(())
    }
}

/// Numbers that stress a reader: beyond every integer width, beyond `f64`, not a number,
/// negative, with many digits.
pub const ODD_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "255",
    "256",
    "65536",
    "2147483648",
    "4294967296",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999999999999999999999999999",
    "1e308",
    "1e309",
    "-1e309",
    "1e-400",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "0x7fffffffffffffff",
    "1_000",
    "00000000000000000000000000000000000000000000000000000000000000000001",
    "1.5",
    ".",
    "",
];

/// Bytes around which truncation is most telling: delimiters, quotes, line ends.
const DELIMITERS: &[u8] = b"\n\r{}()[]\"':;,#=/*\\ ";

/// One change to a file.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit of a byte.
    Flip(Index, u8),
    /// Overwrite a byte.
    Set(Index, u8),
    /// Cut the file at any byte.
    Truncate(Index),
    /// Cut the file just before (or just after) one of its delimiter bytes.
    TruncateAtDelimiter(Index, bool),
    /// Repeat a line.
    DuplicateLine(Index),
    /// Delete a line.
    DeleteLine(Index),
    /// Swap two lines.
    SwapLines(Index, Index),
    /// Replace a run of digits with an odd number.
    Number(Index, &'static str),
    /// Insert one of the format's tokens (or an odd number) anywhere.
    Insert(Index, &'static str),
    /// Delete up to 16 bytes.
    Delete(Index, usize),
    /// Repeat a span of up to 64 bytes up to 2,000 times.
    Repeat(Index, usize, usize),
}

/// Byte ranges of the lines of `b`, each with its newline.
fn lines(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push(start..b.len());
    }
    out
}

/// Byte ranges of the runs of decimal digits of `b`.
fn digit_runs(b: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(s..i);
        } else {
            i += 1;
        }
    }
    out
}

impl Mutation {
    /// Applies the change to `b`; a change that needs something `b` lacks does nothing.
    pub fn apply(&self, b: &mut Vec<u8>) {
        let n = b.len();
        // Positions up to and including the end.
        let pos = |i: &Index| i.index(n + 1);
        match self {
            Mutation::Flip(i, bit) if n > 0 => b[i.index(n)] ^= 1 << (bit % 8),
            Mutation::Set(i, v) if n > 0 => b[i.index(n)] = *v,
            Mutation::Truncate(i) => b.truncate(pos(i)),
            Mutation::TruncateAtDelimiter(i, after) => {
                let at: Vec<usize> = (0..n).filter(|&k| DELIMITERS.contains(&b[k])).collect();
                if !at.is_empty() {
                    b.truncate(at[i.index(at.len())] + usize::from(*after));
                }
            }
            Mutation::DuplicateLine(i) => {
                let l = lines(b);
                if !l.is_empty() {
                    let r = l[i.index(l.len())].clone();
                    let copy = b[r.clone()].to_vec();
                    b.splice(r.end..r.end, copy);
                }
            }
            Mutation::DeleteLine(i) => {
                let l = lines(b);
                if !l.is_empty() {
                    b.drain(l[i.index(l.len())].clone());
                }
            }
            Mutation::SwapLines(i, j) => {
                let l = lines(b);
                if l.len() > 1 {
                    let (mut x, mut y) = (i.index(l.len()), j.index(l.len()));
                    if x > y {
                        std::mem::swap(&mut x, &mut y);
                    }
                    if x != y {
                        let (rx, ry) = (l[x].clone(), l[y].clone());
                        let mut out = b[..rx.start].to_vec();
                        out.extend_from_slice(&b[ry.clone()]);
                        out.extend_from_slice(&b[rx.end..ry.start]);
                        out.extend_from_slice(&b[rx]);
                        out.extend_from_slice(&b[ry.end..]);
                        *b = out;
                    }
                }
            }
            Mutation::Number(i, num) => {
                let runs = digit_runs(b);
                if !runs.is_empty() {
                    b.splice(runs[i.index(runs.len())].clone(), num.bytes());
                }
            }
            Mutation::Insert(i, tok) => {
                let at = pos(i);
                b.splice(at..at, tok.bytes());
            }
            Mutation::Delete(i, len) => {
                let at = pos(i);
                b.drain(at..(at + len).min(n));
            }
            Mutation::Repeat(i, len, times) => {
                let at = pos(i);
                let span = b[at..(at + len).min(n)].to_vec();
                let copies: Vec<u8> = span
                    .iter()
                    .copied()
                    .cycle()
                    .take(span.len() * times)
                    .collect();
                b.splice(at..at, copies);
            }
            _ => {}
        }
    }
}

/// A mutation, with `tokens` (the format's own words and delimiters) to insert.
fn mutation(tokens: &'static [&'static str]) -> impl Strategy<Value = Mutation> {
    let insertable = select(
        tokens
            .iter()
            .chain(ODD_NUMBERS)
            .copied()
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), any::<bool>()).prop_map(|(i, a)| Mutation::TruncateAtDelimiter(i, a)),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::SwapLines(i, j)),
        3 => (any::<Index>(), select(ODD_NUMBERS)).prop_map(|(i, s)| Mutation::Number(i, s)),
        3 => (any::<Index>(), insertable).prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => (any::<Index>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1..64usize, 2..2000usize)
            .prop_map(|(i, n, k)| Mutation::Repeat(i, n, k)),
    ]
}

/// Inputs for a reader: arbitrary bytes, soups of `tokens`, and `valid` files (at least one)
/// changed by one to four mutations.
pub fn inputs(
    valid: Vec<Vec<u8>>,
    tokens: &'static [&'static str],
) -> impl Strategy<Value = Input> {
    assert!(!valid.is_empty(), "fuzzing needs at least one valid file");
    let bytes = proptest::collection::vec(any::<u8>(), 0..512).prop_map(Input);
    let soup = proptest::collection::vec(
        select(
            tokens
                .iter()
                .chain(ODD_NUMBERS)
                .copied()
                .collect::<Vec<_>>(),
        ),
        0..96,
    )
    .prop_map(|t| Input(t.concat().into_bytes()));
    let mutated = (
        select(valid),
        proptest::collection::vec(mutation(tokens), 1..=4),
    )
        .prop_map(|(mut b, ms)| {
            for m in &ms {
                m.apply(&mut b);
            }
            Input(b)
        });
    prop_oneof![1 => bytes, 1 => soup, 4 => mutated]
}

/// The case being run, with its start, for the watchdog.
type Current = Arc<Mutex<Option<(Instant, Vec<u8>)>>>;

/// Watches `current` until `done`; aborts the process, saving the input, when a case has run
/// for longer than [`HANG_LIMIT`].
fn watchdog(name: &'static str, current: Current, done: Arc<AtomicU64>) {
    std::thread::spawn(move || {
        while done.load(Ordering::Relaxed) == 0 {
            std::thread::sleep(Duration::from_millis(200));
            let guard = current.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((start, input)) = guard.as_ref() {
                if start.elapsed() > HANG_LIMIT {
                    let path = std::env::temp_dir().join(format!("pelab-fuzz-hang-{name}"));
                    let _ = std::fs::write(&path, input);
                    eprintln!(
                        "fuzz {name}: a case ran for more than {HANG_LIMIT:?}; its input is in {}",
                        path.display()
                    );
                    std::process::abort();
                }
            }
        }
    });
}

/// The fixed seed of the run called `name`.
fn seed(name: &str) -> [u8; 32] {
    let mut s = *b"pelab fuzz: fixed seed, 32 bytes";
    for (k, b) in name.bytes().enumerate() {
        s[k % 32] = s[k % 32].wrapping_mul(31) ^ b;
    }
    s
}

/// What a run did.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Cases run.
    pub cases: u32,
    /// Inputs the reader accepted.
    pub accepted: u64,
    /// Wall-clock time of the run.
    pub time: Duration,
}

/// Runs [`cases`] inputs from `strategy` through `check`, which returns whether the reader
/// accepted the input, or a description of a broken property. A panic, a broken property
/// or a slow case fails the test with the smallest input found to fail.
pub fn run<S: Strategy<Value = Input>>(
    name: &'static str,
    strategy: S,
    check: impl Fn(&[u8]) -> Result<bool, String>,
) -> Summary {
    let cases = cases();
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed(name)),
    );
    let current: Current = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicU64::new(0));
    let accepted = AtomicU64::new(0);
    watchdog(name, current.clone(), done.clone());
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        let t = Instant::now();
        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some((t, input.0.clone()));
        let outcome = check(&input.0);
        *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let took = t.elapsed();
        if took > CASE_LIMIT {
            return Err(TestCaseError::fail(format!(
                "the case took {took:?} (limit {CASE_LIMIT:?})"
            )));
        }
        if outcome.map_err(TestCaseError::fail)? {
            accepted.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    done.store(1, Ordering::Relaxed);
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
    let summary = Summary {
        cases,
        accepted: accepted.into_inner(),
        time: started.elapsed(),
    };
    println!(
        "fuzz {name}: {} cases in {:.2?} ({} accepted)",
        summary.cases, summary.time, summary.accepted
    );
    summary
}

/// Checks that an error message names `file` and a place in it: `file:LINE:`, a line, or a
/// byte offset.
pub fn names_file_and_place(msg: &str, file: &str) -> Result<(), String> {
    if !msg.contains(file) {
        return Err(format!("the error does not name the file {file}: {msg}"));
    }
    let prefix = format!("{file}:");
    let numbered = msg
        .split(&prefix)
        .skip(1)
        .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    if numbered || msg.contains("line ") || msg.contains("byte") {
        Ok(())
    } else {
        Err(format!("the error names no line or byte offset: {msg}"))
    }
}
