//! Compiled gate-engine kernels: the C source of a netlist's program
//! ([`pelab_sim::netlist::kernel::c_source`]) compiled by the system C compiler for the CPU it
//! runs on (`-O2 -march=native`: AVX-512 words when the CPU has them, AVX2 otherwise), loaded
//! and attached to the netlist so [`Sim`](pelab_sim::netlist::Sim) calls it instead of the
//! interpreter. Kernels are cached under pelab's cache directory
//! ([`pelab_hdl::synth::cache_dir`]`/kernels`), keyed on the source, the compiler's version and
//! the flags; the stored source is compared on every hit.
//!
//! Which engine runs is chosen by the environment variable `PELAB_ENGINE`: `interp` (the
//! interpreter, the reference), `kernel` (always compile), or `auto` (default: compile when
//! the run is long enough to repay the compile, [`AUTO_CELL_EVALS`]).

use pelab_hdl::synth::{cache_dir, content_hash, fresh_tmp};
use pelab_sim::netlist::kernel::{c_sources, EvalKernel, Kernel};
use pelab_sim::netlist::{Netlist, Word};
use pelab_sim::{Error, Result};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Flags the kernel's files are compiled with (then linked with `-shared`).
const FLAGS: &[&str] = &["-O1", "-march=native", "-fPIC", "-w"];

/// Under `PELAB_ENGINE=auto`, a kernel is compiled when a run evaluates at least this many
/// cells x vectors (about a second of interpretation; a small kernel compiles in a fraction
/// of that).
pub const AUTO_CELL_EVALS: f64 = 2e10;

/// The engine `PELAB_ENGINE` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The interpreter.
    Interp,
    /// A compiled kernel, always.
    Kernel,
    /// A compiled kernel for long runs.
    Auto,
}

/// The engine chosen by `PELAB_ENGINE` (default `auto`).
pub fn engine() -> Result<Engine> {
    match std::env::var("PELAB_ENGINE").as_deref() {
        Err(_) | Ok("") | Ok("auto") => Ok(Engine::Auto),
        Ok("interp") => Ok(Engine::Interp),
        Ok("kernel") => Ok(Engine::Kernel),
        Ok(other) => Err(Error::new(format!(
            "PELAB_ENGINE={other}: expected interp, kernel or auto"
        ))),
    }
}

/// Attaches a compiled kernel to `net` when `PELAB_ENGINE` asks for one for a run of
/// `cell_evals` cell evaluations (cells x vectors). Returns whether the netlist runs compiled.
pub fn attach_for(net: &Netlist, cell_evals: f64) -> Result<bool> {
    match engine()? {
        Engine::Interp => {}
        Engine::Kernel => attach(net)?,
        Engine::Auto if cell_evals >= AUTO_CELL_EVALS => {
            if let Err(e) = attach(net) {
                // Said loudly, once per process: the run goes on, interpreted.
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    eprintln!(
                        "WARNING: no compiled gate-engine kernel, interpreting instead                          (several times slower): {e}"
                    )
                });
            }
        }
        Engine::Auto => {}
    }
    Ok(net.kernel.get().is_some())
}

/// Compiles (or finds in the cache) and attaches the kernel of `net`.
pub fn attach(net: &Netlist) -> Result<()> {
    if net.kernel.get().is_none() {
        let k = compile(net)?;
        let _ = net.kernel.set(k);
    }
    Ok(())
}

/// The widest vector unit of this CPU and its one-bit lanes per instruction: AVX-512 (512),
/// AVX2 (256), or 64-bit scalar words. The kernels use it (a 512-bit word is one AVX-512
/// register, two AVX2 registers).
pub fn vector_unit() -> (&'static str, u32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return ("AVX-512", 512);
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return ("AVX2", 256);
        }
    }
    ("64-bit scalar", 64)
}

/// Field `key` of the first CPU in `/proc/cpuinfo`, when there is one.
pub fn cpuinfo_field(key: &str) -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

type EvalFn = unsafe extern "C" fn(*mut Word);

/// A loaded kernel.
struct Native {
    _lib: libloading::Library,
    all: EvalFn,
    obs: EvalFn,
    nets: usize,
    desc: String,
}

impl EvalKernel for Native {
    fn eval(&self, vals: &mut [Word], all: bool) {
        assert_eq!(
            vals.len(),
            self.nets,
            "kernel called on another netlist's values"
        );
        // SAFETY: the kernel reads and writes only net indices of the netlist it was generated
        // from (all below `nets`, checked by the netlist's levelization and by `Sim`), and
        // `vals` holds one word per net of that netlist.
        unsafe { (if all { self.all } else { self.obs })(vals.as_mut_ptr()) }
    }
    fn describe(&self) -> &str {
        &self.desc
    }
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

fn compiler_version(cc: &str) -> Result<String> {
    let out = Command::new(cc).arg("--version").output().map_err(|e| {
        Error::new(format!(
            "cannot run the C compiler '{cc}' for the gate-engine kernel: {e} \
             (install the Debian package gcc, or set PELAB_ENGINE=interp)"
        ))
    })?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string())
}

/// What `-march=native` depends on: the CPU's model and feature flags (a cache shared between
/// machines must not hand one CPU another's kernel).
fn cpu_signature() -> String {
    let field = |k: &str| cpuinfo_field(k).unwrap_or_default();
    format!("{} | {}", field("model name"), field("flags"))
}

/// Compiles (or loads from the cache) the kernel of `net`: the source in as many files as
/// there are cores, compiled in parallel and linked.
pub fn compile(net: &Netlist) -> Result<Kernel> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = c_sources(net, cores);
    let cc = compiler();
    let version = compiler_version(&cc)?;
    let flags = FLAGS.join(" ");
    let joined = parts.join("\n/* part */\n");
    let key = content_hash(&[
        "pelab-kernel-2",
        &joined,
        &version,
        &flags,
        &cpu_signature(),
    ]);
    let root = cache_dir().join("kernels");
    let dir = root.join(&key);
    let so = dir.join("kernel.so");
    let hit =
        std::fs::read_to_string(dir.join("kernel.c")).is_ok_and(|s| s == joined) && so.exists();
    if !hit {
        build(&root, &key, &parts, &joined, &cc, &dir)?;
    }
    let unit = match vector_unit().1 {
        512 => "AVX-512 (one 512-bit register per word)",
        256 => "AVX2 (two 256-bit registers per word)",
        _ => "no wide vector unit (scalar words)",
    };
    load(net, &so, format!("{cc} {flags} ({version}), {unit}"))
}

fn build(
    root: &Path,
    key: &str,
    parts: &[String],
    joined: &str,
    cc: &str,
    dir: &Path,
) -> Result<()> {
    let tmp = fresh_tmp(root, key)?;
    let write = |p: &Path, s: &str| {
        std::fs::write(p, s).map_err(|e| Error::new(format!("cannot write {}: {e}", p.display())))
    };
    let run = |cmd: &mut Command, what: &Path| -> Result<()> {
        let out = cmd
            .output()
            .map_err(|e| Error::new(format!("cannot run {cc}: {e}")))?;
        if !out.status.success() {
            return Err(Error::new(format!(
                "{cc} failed on the gate-engine kernel {}:\n{}",
                what.display(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    };
    let mut objects = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let c = tmp.join(format!("kernel_{i}.c"));
        write(&c, p)?;
        objects.push((c.clone(), tmp.join(format!("kernel_{i}.o"))));
    }
    std::thread::scope(|s| {
        let jobs: Vec<_> = objects
            .iter()
            .map(|(c, o)| {
                s.spawn(move || {
                    run(
                        Command::new(cc)
                            .args(FLAGS)
                            .arg("-c")
                            .arg("-o")
                            .arg(o)
                            .arg(c),
                        c,
                    )
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| j.join().expect("compiler thread"))
            .collect::<Result<Vec<()>>>()
    })?;
    let so = tmp.join("kernel.so");
    run(
        Command::new(cc)
            .args(["-shared", "-o"])
            .arg(&so)
            .args(objects.iter().map(|(_, o)| o)),
        &so,
    )?;
    for (c, o) in &objects {
        let _ = std::fs::remove_file(c);
        let _ = std::fs::remove_file(o);
    }
    // The whole source, to compare on a cache hit.
    write(&tmp.join("kernel.c"), joined)?;
    let _ = std::fs::remove_dir_all(dir);
    if std::fs::rename(&tmp, dir).is_err() {
        // Another process put the same entry in place first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

fn load(net: &Netlist, so: &Path, desc: String) -> Result<Kernel> {
    let err = |e: libloading::Error| Error::new(format!("cannot load {}: {e}", so.display()));
    // SAFETY: the library is pelab's own generated kernel (no initializers); its two
    // functions have the signature `void f(W *)`.
    unsafe {
        let lib = libloading::Library::new(so).map_err(err)?;
        let all: EvalFn = *lib.get::<EvalFn>(b"pelab_eval_all\0").map_err(err)?;
        let obs: EvalFn = *lib.get::<EvalFn>(b"pelab_eval_obs\0").map_err(err)?;
        Ok(Kernel(Arc::new(Native {
            _lib: lib,
            all,
            obs,
            nets: net.nets,
            desc,
        })))
    }
}
