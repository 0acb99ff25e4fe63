//! `pelab`: bit-accurate models, Verilog, golden vectors and gate-level energy of low-precision
//! ML processing elements.

mod cli;
mod cmd;

use std::process::ExitCode;

/// Restores the default action of SIGPIPE (the Rust runtime ignores it), so that a reader
/// closing the pipe early (`pelab list | head -1`) ends pelab quietly, as it ends any Unix
/// filter, instead of a panic on the failed write. pelab writes to no pipe of its own: the
/// tools it runs get no standard input, and children start with the default action anyway.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL at the start of main, before any
    // thread is spawned, has no precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
