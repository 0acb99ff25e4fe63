//! The `pelab` accelerator model against hand computations from its specification
//! (`docs/accel.md`, "The `pelab` model") and SCALE-Sim's closed forms, and properties:
//! cycles never fall when a shape grows, energy is the sum of its parts, pelab's op time is
//! never below the artifact's for the same linear op (fill and drain on, no overlap), linear
//! ops move the artifact's bytes, each preset survives its accelerator file, bad input is
//! refused with its position.

use pelab_sim::accel::exact::Exact;
use pelab_sim::accel::hpca25::{self, Accelerator, Latency};
use pelab_sim::accel::pelab::{
    self, ops, preset, ArtifactPe, Charge, Clock, Options, Overlap, PeEnergy, PelabAccelerator,
    PelabConfig, PelabRun, Role, Rows, Stated, PRESET_IDS,
};
use pelab_sim::accel::source::Format;
use pelab_sim::accel::workload::{LinearModule, ModelShape, Scenario, Task, Workload, BUILTIN_IDS};
use pelab_sim::array::Dataflow;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn x(s: &str) -> Exact {
    Exact::parse(s).unwrap()
}

fn lin(name: &str, out: u64, inp: u64) -> LinearModule {
    LinearModule {
        name: name.into(),
        out,
        inp,
    }
}

/// One layer, h = 8, H = 2 heads, KV = 1 head (g = 2, d = 4, kvd = 4).
fn tiny() -> Workload {
    Workload::Model(ModelShape {
        id: "tiny".into(),
        name: "tiny".into(),
        layers: 1,
        hidden: 8,
        ffn: 16,
        heads: 2,
        kv_heads: 1,
        vocab: 10,
        linears: vec![
            lin("q_proj", 8, 8),
            lin("k_proj", 4, 8),
            lin("v_proj", 4, 8),
            lin("o_proj", 8, 8),
            lin("up_proj", 16, 8),
            lin("down_proj", 8, 16),
        ],
    })
}

/// A 2x2 array of 1-lane, 1-cycle PEs (lmul-bf16 otherwise) with every energy figure stated:
/// 1 pJ per PE-cycle, 0.25 pJ idle, 1000 nW per PE, 50000 nW per SRAM, 1000 MHz.
fn test_config() -> PelabConfig {
    let mut c = preset("lmul-bf16").unwrap();
    c.id = "test".into();
    c.array.prefill = hpca25::ArrayShape { rows: 2, cols: 2 };
    c.array.decode = hpca25::ArrayShape { rows: 2, cols: 2 };
    c.artifact_pe_energy = Some(ArtifactPe {
        pj_per_cycle: Exact::int(1),
        scaling: Exact::int(1),
        source: "test".into(),
    });
    let fig = |v: &str| Stated::Figure {
        value: x(v),
        source: "test".into(),
    };
    c.pe_idle = fig("0.25");
    c.pe_leakage = fig("1000");
    c.sram_leakage = fig("50000");
    c.clock = Clock {
        mhz: Exact::int(1000),
        source: "test".into(),
    };
    c
}

fn accel(c: PelabConfig) -> PelabAccelerator {
    let e = PeEnergy::artifact(&c).unwrap();
    PelabAccelerator::new(c, e).unwrap()
}

fn sc(task: Task, context: u64) -> Scenario {
    Scenario { task, context }
}

fn core_of<'a>(r: &'a PelabRun, name: &str) -> &'a pelab::OpCore {
    r.cores.iter().find(|c| c.op.name == name).unwrap()
}

#[test]
fn tiny_model_op_list_by_hand() {
    let w = tiny();
    // Prefill, T = 4: 6 linears, kv_write, one KV group (qk, sv), lm_head.
    let p = ops(&w, sc(Task::Prefill, 4), false).unwrap();
    let names: Vec<&str> = p.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "up_proj",
            "down_proj",
            "kv_write",
            "attn_qk",
            "attn_sv",
            "lm_head"
        ]
    );
    let qk = &p[7];
    // K [T x d] stationary, g·T = 8 query rows streamed.
    assert_eq!((qk.cout, qk.cin, qk.tok), (4, 4, 8));
    // H·T·T·d = 2·4·4·4.
    assert_eq!(qk.macs, 128);
    let sv = &p[8];
    assert_eq!((sv.cout, sv.cin, sv.tok), (4, 4, 8));
    assert_eq!(sv.macs, 128);
    // Causal: H·T(T+1)/2·d = 2·10·4 for each.
    let c = ops(&w, sc(Task::Prefill, 4), true).unwrap();
    assert_eq!(c[7].macs, 80);
    assert_eq!(c[8].macs, 80);
    assert_eq!(c[7].output, Rows::Triangle { copies: 2, t: 4 });
    assert_eq!(c[7].output.elems().unwrap(), 20);
    // Decode: one token against T = 4: H·T·d = 2·4·4; the causal mask does not apply.
    for causal in [false, true] {
        let d = ops(&w, sc(Task::Decode, 4), causal).unwrap();
        assert_eq!((d[7].cout, d[7].cin, d[7].tok), (4, 4, 2));
        assert_eq!((d[8].cout, d[8].cin, d[8].tok), (4, 4, 2));
        assert_eq!(d[7].macs, 32);
        assert_eq!(d[8].macs, 32);
        assert_eq!(d[6].output, Rows::Uniform { rows: 2, len: 4 });
    }
}

#[test]
fn tiny_model_timing_bytes_and_energy_by_hand() {
    let a = accel(test_config());
    let os = Options::default();
    let r = a.run(&tiny(), sc(Task::Prefill, 4), &os).unwrap();
    let qk = core_of(&r, "attn_qk");
    // os: M = 4 keys, K = d = 4, N = 8 query rows on 2x2: folds 2·4, S = 2 + 2 + 4 − 2 = 6;
    // SCALE-Sim's cycles 8·6 − 1 = 47; the last output drains R + 1 cycles later: 47 + 3,
    // and C counts cycles 0..=50.
    assert_eq!(qk.folds, 8);
    assert_eq!(qk.cycles_per_fold, 6);
    assert_eq!(qk.compute_cycles, 51);
    // Bytes: K 4·4·2, Q 8·4·2, scores 8·4·2; D = 160 / 32.
    assert_eq!((qk.w_bytes, qk.i_bytes, qk.o_bytes), (32, 64, 64));
    assert_eq!(qk.dram_cycles, 5);
    assert_eq!(qk.kv_read_bytes, 32);
    // Active PE-cycles: M·N·K' steps of one cycle.
    assert_eq!(qk.active_pe_cycles, 128);
    // Energy of the op: PE 1 pJ x 4 PEs x 51; DRAM 160 x 150 pJ; leakage over 51 cycles:
    // 4·1000 nW / (1000·1000 MHz) and 2·50000 nW / 10^6 per cycle; no stall (C > D).
    let inst = r
        .ops
        .iter()
        .find(|o| r.cores[o.core].op.name == "attn_qk")
        .unwrap();
    assert_eq!(inst.time, 51);
    assert_eq!(inst.energy.pe, Exact::int(204));
    assert_eq!(inst.energy.dram, Exact::int(24000));
    assert_eq!(inst.energy.leakage_pe, Some(x("0.204")));
    assert_eq!(inst.energy.leakage_sram, Some(x("5.1")));
    assert_eq!(inst.energy.stall, Some(Exact::int(0)));
    // SRAM reads: one weight edge vector and one input edge vector per step per fold
    // (os: folds · K' each), the artifact's tile count.
    assert_eq!(qk.weight_reads, 32);
    assert_eq!(qk.input_reads, 32);
    // SRAM writes (64-bit words): K rows of 4·16 bits: 4 words; Q rows 8; score rows 8.
    assert_eq!((qk.n_w, qk.n_i, qk.n_o), (4, 8, 8));
    let sv = core_of(&r, "attn_sv");
    // os: M = d = 4, K = T = 4, N = 8: the same closed form.
    assert_eq!(sv.compute_cycles, 51);
    // kv_write: 2·T rows of kvd = 4 elements at 16 bits = 64 B, DRAM only.
    let kw = core_of(&r, "kv_write");
    assert_eq!(
        (kw.kv_write_bytes, kw.dram_bytes, kw.compute_cycles),
        (64, 64, 0)
    );
    assert_eq!(kw.dram_cycles, 2);
    let kwi = r
        .ops
        .iter()
        .find(|o| r.cores[o.core].op.name == "kv_write")
        .unwrap();
    // The array waits 2 cycles: 4 PEs x 2 idle PE-cycles x 0.25 pJ.
    assert_eq!(kwi.stall_cycles, 2);
    assert_eq!(kwi.energy.stall, Some(Exact::int(2)));
    // A linear op moves the artifact's bytes: q_proj [8, 8], T = 4, 16-bit weights.
    let q = core_of(&r, "q_proj");
    assert_eq!((q.w_bytes, q.i_bytes, q.o_bytes), (128, 64, 64));
    assert_eq!(q.macs(), 256);

    // Causal, os: query tiles of 2 columns (one position each, g = 2) need 1, 2, 3, 4 keys:
    // ceil(keys/2) = 1, 1, 2, 2 folds of S = 6, then the drain: 36 + 3.
    let rc = a
        .run(
            &tiny(),
            sc(Task::Prefill, 4),
            &Options { causal: true, ..os },
        )
        .unwrap();
    let qk = core_of(&rc, "attn_qk");
    assert_eq!((qk.chunks, qk.folds, qk.compute_cycles), (4, 6, 39));
    // Scores: the triangle, 2·10 elements; the SV op reads them.
    assert_eq!(qk.o_bytes, 40);
    let sv = core_of(&rc, "attn_sv");
    // SV: K = keys 1..4 per chunk, S = 2 + 2 + K − 2, 2 folds each: 2·(3 + 4 + 5 + 6) + 3.
    assert_eq!((sv.chunks, sv.folds, sv.compute_cycles), (4, 8, 39));
    assert_eq!(sv.i_bytes, 40);

    // ws: M = 8 query rows streamed, K = 4, N = 4 keys: folds ceil(4/2)·ceil(4/2) = 4 of
    // S = 2R + C + M − 2 = 12; the last output one cycle after the last MAC: 47 + 1, C = 49.
    let rw = a
        .run(
            &tiny(),
            sc(Task::Prefill, 4),
            &Options {
                dataflow: Dataflow::Ws,
                ..os
            },
        )
        .unwrap();
    let qk = core_of(&rw, "attn_qk");
    assert_eq!(
        (qk.folds, qk.cycles_per_fold, qk.compute_cycles),
        (4, 12, 49)
    );
    // ws, causal: key tiles of 2 columns, keys 0-1 see all 8 rows, keys 2-3 the 4 rows at
    // positions 2 and 3: 2 folds of S = 4 + 2 + 8 − 2 and 2 of 4 + 2 + 4 − 2, plus 1.
    let rwc = a
        .run(
            &tiny(),
            sc(Task::Prefill, 4),
            &Options {
                dataflow: Dataflow::Ws,
                causal: true,
                ..os
            },
        )
        .unwrap();
    assert_eq!(core_of(&rwc, "attn_qk").compute_cycles, 2 * 12 + 2 * 8 + 1);

    // Charging active PE-cycles: the op's PE energy is 128 pJ, and its other
    // 4·51 − 128 PE-cycles are idle (0.25 pJ each).
    let ra = a
        .run(
            &tiny(),
            sc(Task::Prefill, 4),
            &Options {
                charge: Charge::Active,
                ..os
            },
        )
        .unwrap();
    let i = ra
        .ops
        .iter()
        .find(|o| ra.cores[o.core].op.name == "attn_qk")
        .unwrap();
    assert_eq!(i.energy.pe, Exact::int(128));
    assert_eq!(i.idle_pe_cycles, 4 * 51 - 128);
    assert_eq!(i.energy.stall, Some(x("19")));
}

/// Decode KV traffic: each step reads 2·T·kvd elements per layer (the K and V operands) and
/// writes the new K and V rows.
#[test]
fn kv_cache_traffic_and_gqa() {
    let a = PelabAccelerator::preset_artifact("fp16").unwrap();
    for m in BUILTIN_IDS {
        let shape = ModelShape::builtin(m).unwrap();
        let w = Workload::Model(shape.clone());
        for t in [64, 256] {
            let r = a.run(&w, sc(Task::Decode, t), &Options::default()).unwrap();
            let kvd = shape.hidden / shape.heads * shape.kv_heads;
            assert_eq!(
                r.totals.kv_read_bytes,
                shape.layers * 2 * t * kvd * 2,
                "{m}"
            );
            assert_eq!(r.totals.kv_write_bytes, shape.layers * 2 * kvd * 2, "{m}");
            let qk = core_of(&r, "attn_qk");
            // The g = H/KV query heads of a group stream against its K once.
            assert_eq!(qk.op.tok, shape.heads / shape.kv_heads, "{m}");
            let count = r
                .ops
                .iter()
                .filter(|o| r.cores[o.core].op.name == "attn_qk")
                .count();
            assert_eq!(count as u64, shape.layers * shape.kv_heads, "{m}");
            // MACs of attention: H·T·d per layer for each of QK and SV.
            let d = shape.hidden / shape.heads;
            let attn: u64 = r
                .ops
                .iter()
                .map(|o| &r.cores[o.core].op)
                .filter(|o| matches!(o.role, Role::AttnQk | Role::AttnSv))
                .map(|o| o.macs)
                .sum();
            assert_eq!(attn, shape.layers * 2 * shape.heads * t * d, "{m}");
        }
        let r = a
            .run(&w, sc(Task::Prefill, 128), &Options::default())
            .unwrap();
        let kvd = shape.hidden / shape.heads * shape.kv_heads;
        assert_eq!(
            r.totals.kv_write_bytes,
            shape.layers * 2 * 128 * kvd * 2,
            "{m}"
        );
    }
}

trait Macs {
    fn macs(&self) -> u64;
}

impl Macs for pelab::OpCore {
    fn macs(&self) -> u64 {
        self.op.macs
    }
}

/// For 1-lane, 1-cycle PEs, an op's compute time is SCALE-Sim's closed form plus the drain:
/// os `ceil(M/R)·ceil(N/C)·(R + C + K − 2) − 1 + R + 2`, ws `ceil(K/R)·ceil(N/C)·(2R + C + M − 2)
/// − 1 + 2`, is `ceil(K/R)·ceil(M/C)·(2R + C + N − 2) − 1 + 2`.
#[test]
fn fold_and_fill_cycles_are_scalesim_closed_forms() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut c = preset("lmul-bf16").unwrap();
    c.artifact_pe_energy = test_config().artifact_pe_energy;
    for _ in 0..300 {
        let (r, cc) = (rng.gen_range(1..=64u64), rng.gen_range(1..=64u64));
        c.array.prefill = hpca25::ArrayShape { rows: r, cols: cc };
        let a = accel(c.clone());
        let (cout, cin, tok) = (
            rng.gen_range(1..=5000u64),
            rng.gen_range(1..=5000u64),
            rng.gen_range(1..=600u64),
        );
        let w = Workload::Gemms(gemm_list(cout, cin, tok));
        for df in Dataflow::ALL {
            let o = Options {
                dataflow: df,
                ..Options::default()
            };
            let run = a.run(&w, sc(Task::Prefill, tok), &o).unwrap();
            let k = &run.cores[0];
            let want = match df {
                Dataflow::Os => {
                    cout.div_ceil(r) * tok.div_ceil(cc) * (r + cc + cin - 2) - 1 + r + 2
                }
                Dataflow::Ws => cin.div_ceil(r) * cout.div_ceil(cc) * (2 * r + cc + tok - 2) + 1,
                Dataflow::Is => cin.div_ceil(r) * tok.div_ceil(cc) * (2 * r + cc + cout - 2) + 1,
            };
            assert_eq!(k.compute_cycles, want, "{df:?} {r}x{cc} {cout}x{cin}x{tok}");
        }
    }
}

/// A GEMM list of one linear GEMM `cout x cin`, `tok` = the step's tokens.
fn gemm_list(cout: u64, cin: u64, tok: u64) -> pelab_sim::accel::workload::GemmList {
    let text =
        format!(r#"{{"gemms": [{{"name": "g", "cout": {cout}, "cin": {cin}, "tok": {tok}}}]}}"#);
    match Workload::parse("g.json", "g", &text, Format::Json).unwrap() {
        Workload::Gemms(g) => g,
        Workload::Model(_) => unreachable!(),
    }
}

/// Growing any dimension of a linear op never lowers its compute cycles, DRAM cycles or time,
/// on every preset and dataflow; growing the context never lowers a model's cycles.
#[test]
fn cycles_never_fall_when_a_shape_grows() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let cfgs: Vec<PelabConfig> = PRESET_IDS
        .iter()
        .map(|id| {
            let mut c = preset(id).unwrap();
            c.artifact_pe_energy = test_config().artifact_pe_energy;
            c
        })
        .collect();
    for _ in 0..150 {
        let c = &cfgs[rng.gen_range(0..cfgs.len())];
        let a = accel(c.clone());
        let task = if rng.gen() {
            Task::Prefill
        } else {
            Task::Decode
        };
        let dims = [
            rng.gen_range(1..=3000u64),
            rng.gen_range(1..=3000u64),
            rng.gen_range(1..=400u64),
        ];
        let which = rng.gen_range(0..3);
        let mut grown = dims;
        grown[which] += rng.gen_range(1..=700u64);
        let dfs: &[Dataflow] = if c.group.is_some() {
            &[Dataflow::Os]
        } else {
            &Dataflow::ALL
        };
        for &df in dfs {
            let o = Options {
                dataflow: df,
                ..Options::default()
            };
            let core = |d: [u64; 3]| {
                let w = Workload::Gemms(gemm_list(d[0], d[1], d[2]));
                let r = a.run(&w, sc(task, d[2]), &o).unwrap();
                (
                    r.cores[0].compute_cycles,
                    r.cores[0].dram_cycles,
                    r.totals.cycles,
                )
            };
            let (a0, b0) = (core(dims), core(grown));
            assert!(
                a0.0 <= b0.0 && a0.1 <= b0.1 && a0.2 <= b0.2,
                "{} {df:?} {task:?}: {dims:?} -> {grown:?}: {a0:?} vs {b0:?}",
                c.id
            );
        }
    }
    // Contexts: every model, prefill and decode, causal or not, both overlaps.
    let a = PelabAccelerator::preset_artifact("bitmod-lossy").unwrap();
    for m in ["opt-1.3b", "llama-3-8b"] {
        let w = Workload::builtin(m).unwrap();
        for task in Task::ALL {
            for causal in [false, true] {
                for overlap in [Overlap::None, Overlap::DoubleBuffer, Overlap::Serial] {
                    let o = Options {
                        causal,
                        overlap,
                        ..Options::default()
                    };
                    let mut last = 0;
                    for t in [1, 2, 7, 64, 100, 255, 256, 300] {
                        let c = a.run(&w, sc(task, t), &o).unwrap().totals.cycles;
                        assert!(c >= last, "{m} {task:?} causal {causal} {overlap:?} T {t}");
                        last = c;
                    }
                }
            }
        }
    }
}

/// Energy is the sum of its parts, per op and in total, and the total is the sum over ops;
/// the latency is `Σ max(C, D)`, `D_1 + Σ max(C_i, D_{i+1})` (double-buffering) or
/// `Σ (C + D)` (serial), the last never below the other two.
#[test]
fn energy_is_the_sum_of_its_parts() {
    let mut cfg = test_config();
    cfg.array.prefill = hpca25::ArrayShape { rows: 16, cols: 8 };
    cfg.array.decode = hpca25::ArrayShape { rows: 32, cols: 4 };
    let a = accel(cfg);
    let w = Workload::builtin("yi-6b").unwrap();
    for task in Task::ALL {
        for charge in [Charge::All, Charge::Active] {
            for overlap in [Overlap::None, Overlap::DoubleBuffer, Overlap::Serial] {
                let o = Options {
                    charge,
                    overlap,
                    causal: true,
                    ..Options::default()
                };
                let r = a.run(&w, sc(task, 256), &o).unwrap();
                let e = &r.totals.energy;
                let parts: Vec<Exact> = e.parts().iter().map(|(_, p)| p.unwrap()).collect();
                let sum = parts.iter().fold(Exact::default(), |a, b| a + *b);
                assert_eq!(e.total(), sum);
                let mut over_ops = Exact::default();
                let mut time = 0;
                for i in &r.ops {
                    over_ops = over_ops + i.energy.total();
                    time += i.time;
                }
                assert_eq!(over_ops, e.total());
                assert_eq!(time, r.totals.cycles);
                // Leakage is the whole latency at (PEs·1000 + 2·50000) nW.
                let pes = r.setup.pes() as i128;
                assert_eq!(
                    e.leakage_pe.unwrap() + e.leakage_sram.unwrap(),
                    Exact::frac((pes * 1000 + 100_000) * r.totals.cycles as i128, 1_000_000)
                );
                let c: Vec<u64> = r
                    .ops
                    .iter()
                    .map(|i| r.cores[i.core].compute_cycles)
                    .collect();
                let d: Vec<u64> = r.ops.iter().map(|i| r.cores[i.core].dram_cycles).collect();
                let want = match overlap {
                    Overlap::None => c.iter().zip(&d).map(|(c, d)| *c.max(d)).sum::<u64>(),
                    Overlap::DoubleBuffer => {
                        d[0] + (0..c.len())
                            .map(|i| c[i].max(d.get(i + 1).copied().unwrap_or(0)))
                            .sum::<u64>()
                    }
                    Overlap::Serial => c.iter().sum::<u64>() + d.iter().sum::<u64>(),
                };
                assert_eq!(r.totals.cycles, want, "{task:?} {overlap:?}");
                // Idle PE-cycles: stalls (charge all) or everything but active PE-cycles.
                let pes = r.setup.pes();
                let idle = match charge {
                    Charge::All => pes * r.totals.stall_cycles,
                    Charge::Active => pes * r.totals.cycles - r.totals.active_pe_cycles,
                };
                assert_eq!(r.totals.idle_pe_cycles, idle);
                assert_eq!(e.stall.unwrap(), Exact::frac(idle as i128, 4));
            }
        }
        // Either overlap is at most the serial sum C + D.
        let cycles = |overlap| {
            a.run(
                &w,
                sc(task, 256),
                &Options {
                    overlap,
                    ..Options::default()
                },
            )
            .unwrap()
            .totals
            .cycles
        };
        let serial = cycles(Overlap::Serial);
        assert!(cycles(Overlap::None) <= serial);
        assert!(cycles(Overlap::DoubleBuffer) <= serial);
    }
    // Not modelled parts are absent, not 0, and the total is the sum of the others.
    let r = PelabAccelerator::preset_artifact("fp16")
        .unwrap()
        .run(&w, sc(Task::Decode, 256), &Options::default())
        .unwrap();
    let e = &r.totals.energy;
    assert_eq!((e.leakage_pe, e.leakage_sram, e.stall), (None, None, None));
    assert_eq!(e.total(), e.pe + e.sram_read + e.sram_write + e.dram);
}

/// On the artifact's accelerators, every linear op moves the artifact's bytes (same W, I, O,
/// refetch and D), reads and writes its SRAMs as often (so the same SRAM and DRAM energies)
/// and takes at least the artifact's time (os, fill and drain, no overlap).
#[test]
fn linear_ops_match_the_artifact_bytes_and_never_run_faster() {
    let mut checked = 0;
    for id in hpca25::PRESET_IDS {
        let art = Accelerator::preset(id).unwrap();
        let pel = PelabAccelerator::preset_artifact(id).unwrap();
        for m in BUILTIN_IDS {
            let w = Workload::builtin(m).unwrap();
            for task in Task::ALL {
                let s = sc(task, 256);
                let r = pel.run(&w, s, &Options::default()).unwrap();
                let a = art.run(&w, s).unwrap();
                for core in r.cores.iter().filter(|c| c.op.role == Role::Linear) {
                    let o = a
                        .ops
                        .iter()
                        .find(|o| o.op.name == core.op.name)
                        .expect("the same module");
                    assert_eq!(
                        (core.w_bytes, core.i_bytes, core.o_bytes, core.fw, core.fi),
                        (o.w_bytes, o.i_bytes, o.o_bytes, o.fw, o.fi),
                        "{id} {m} {task:?} {}",
                        core.op.name
                    );
                    assert_eq!(core.dram_cycles, o.dram_cycles);
                    // os reads one edge vector of each operand per step per fold: the tiles.
                    assert_eq!((core.weight_reads, core.input_reads), (o.tiles, o.tiles));
                    assert_eq!((core.n_w, core.n_i, core.n_o), (o.n_w, o.n_i, o.n_o));
                    // So SRAM and DRAM energies are the artifact's; the PE's follows C.
                    assert_eq!(
                        (core.e_rd, core.e_wr, core.e_dram),
                        (o.e_rd, o.e_wr, o.e_dram)
                    );
                    assert!(core.e_pe >= o.e_pe);
                    assert!(core.compute_cycles >= o.compute_cycles);
                    assert!(core.compute_cycles.max(core.dram_cycles) >= o.cycles);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100);
}

#[test]
fn presets_survive_their_accelerator_files() {
    for c in pelab::presets() {
        let toml = pelab::to_toml(&c).unwrap();
        assert_eq!(
            PelabConfig::parse("a.toml", &toml, Format::Toml).unwrap(),
            c
        );
        let json = serde_json::to_string_pretty(&c).unwrap();
        assert_eq!(
            PelabConfig::parse("a.json", &json, Format::Json).unwrap(),
            c
        );
    }
    // The artifact's five under bitmod-hpca25 too.
    for c in hpca25::presets() {
        let toml = pelab::to_toml(&c).unwrap();
        let (back, _): (hpca25::AccelConfig, _) =
            pelab::parse_text("a.toml", &toml, Format::Toml).unwrap();
        assert_eq!(back, c);
    }
}

#[test]
fn presets_take_their_pe_from_the_array_model() {
    let p = |id: &str| preset(id).unwrap();
    assert_eq!(p("lmul-bf16").dp, 1);
    assert_eq!(p("fpmul-bf16").dp, 1);
    // int16fma is a dot-2 cell (two products per step).
    assert_eq!(p("int16-dfp").dp, 2);
    assert_eq!((p("lmul-e4m3").act_bits, p("lmul-e4m3").kv_bits), (8, 8));
    let b = p("bitmod-lossy");
    assert_eq!((b.dp, b.result_latency), (4, 9));
    assert_eq!(b.group.map(|g| (g.weights, g.min_cycles)), Some((128, 8)));
    assert_eq!(b.latency, Latency::WeightSerial { bits_per_cycle: 2 });
    // Arrays of pelab's PEs are the FP16 baseline's.
    for id in ["lmul-bf16", "lmul-e4m3", "fpmul-bf16", "int16-dfp"] {
        assert_eq!(p(id).array, p("fp16").array);
        let e = PeEnergy::artifact(&p(id)).unwrap_err();
        assert!(e.0.contains("--pe-energy gate"), "{e}");
    }
    // The bitmod cell's 2 cycles per beat for 3- and 4-bit weights; 16-bit K/V take 8.
    let a = PelabAccelerator::preset_artifact("bitmod-lossy").unwrap();
    let s = a
        .setup(Task::Prefill, "llama-2-7b", &Options::default())
        .unwrap();
    assert_eq!(
        (s.linear_pe.step_cycles, s.attention_pe.step_cycles),
        (2, 8)
    );
    let s = a
        .setup(
            Task::Prefill,
            "llama-2-7b",
            &Options {
                attn_latency: pelab::AttnLatency::Weight,
                ..Options::default()
            },
        )
        .unwrap();
    assert_eq!(s.attention_pe.step_cycles, 2);
}

#[test]
fn gate_energies_become_exact_figures() {
    let e = PeEnergy::gate(3.25, 2.0, 0.5, 61546.85, "src").unwrap();
    assert_eq!(e.pj_per_pe_cycle, x("3.25"));
    assert_eq!(e.idle_pj_per_pe_cycle.value(), Some(x("0.5")));
    assert_eq!(e.leakage_nw_per_pe.value(), Some(x("61546.85")));
    assert_eq!(e.macs_per_pe_cycle, Some(Exact::int(2)));
    assert!(e.source.contains("src"));
    assert!(PeEnergy::gate(-1.0, 1.0, 0.0, 0.0, "s").is_err());
    assert!(PeEnergy::gate(f64::NAN, 1.0, 0.0, 0.0, "s").is_err());
    assert!(PeEnergy::gate(1.0, 1.0, 0.0, 0.0, " ").is_err());
}

fn bad(text: &str, format: Format) -> String {
    let file = match format {
        Format::Toml => "a.toml",
        Format::Json => "a.json",
    };
    PelabConfig::parse(file, text, format).unwrap_err().0
}

#[test]
fn bad_accelerator_files_are_refused_at_their_line() {
    let good = pelab::to_toml(&preset("lmul-bf16").unwrap()).unwrap();
    let line_of =
        |text: &str, needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    // A zero size, at the line of the value.
    let zero = good.replacen("rows = 32", "rows = 0", 1);
    let e = bad(&zero, Format::Toml);
    let l = zero.lines().position(|l| l == "rows = 0").unwrap() + 1;
    assert!(e.starts_with(&format!("a.toml:{l}:")), "{e}");
    assert!(
        e.contains("array.prefill.rows") && e.contains("positive"),
        "{e}"
    );
    // An unknown key, named with the valid ones.
    let typo = good.replacen("kv_bits = 16", "kv_bitz = 16", 1);
    let e = bad(&typo, Format::Toml);
    assert!(
        e.starts_with(&format!("a.toml:{}:", line_of(&typo, "kv_bitz"))),
        "{e}"
    );
    assert!(
        e.contains("unknown key `kv_bitz`") && e.contains("kv_bits"),
        "{e}"
    );
    // A missing figure is refused, not defaulted.
    let start = good.find("[sram_leakage]").unwrap();
    let missing = format!("{}\n", &good[..start]);
    let e = bad(&missing, Format::Toml);
    assert!(e.contains("missing field `sram_leakage`"), "{e}");
    // A wrong type, at its line.
    let wrong = good.replacen("dp = 1", "dp = \"one\"", 1);
    let e = bad(&wrong, Format::Toml);
    assert!(
        e.starts_with(&format!("a.toml:{}:", line_of(&wrong, "dp = "))),
        "{e}"
    );
    assert!(e.contains("`dp`"), "{e}");
    // Syntax.
    let e = bad("id = \"x\"\nname = \n", Format::Toml);
    assert!(e.starts_with("a.toml:2:"), "{e}");
    let json = serde_json::to_string_pretty(&preset("fp16").unwrap()).unwrap();
    let e = bad(
        &json.replacen("\"kv_bits\": 16", "\"kv_bits\": -16", 1),
        Format::Json,
    );
    let l = json
        .lines()
        .position(|l| l.contains("\"kv_bits\""))
        .unwrap()
        + 1;
    assert!(e.starts_with(&format!("a.json:{l}:")), "{e}");
    let e = bad(
        &json.replacen("\"gate_pe\": \"fp16mac\"", "\"gate_pe\": \"tpu\"", 1),
        Format::Json,
    );
    assert!(e.contains("fp16mac, bitmod"), "{e}");
    // An unknown accelerator lists the valid ones.
    let e = PelabAccelerator::preset_artifact("tpu").unwrap_err().0;
    for id in PRESET_IDS {
        assert!(e.contains(id), "{e}");
    }
    // Arrays beyond the analytic model's range are refused by name.
    let mut big = preset("fp16").unwrap();
    big.artifact_pe_energy = test_config().artifact_pe_energy;
    big.array.decode.rows = 5000;
    let e = accel(big)
        .run(&tiny(), sc(Task::Decode, 4), &Options::default())
        .unwrap_err()
        .0;
    assert!(e.contains("5000x") && e.contains("1 to 4096"), "{e}");
    // The bitmod PE's grouped accumulation is timed for os only.
    let e = PelabAccelerator::preset_artifact("bitmod-lossy")
        .unwrap()
        .run(
            &tiny(),
            sc(Task::Decode, 4),
            &Options {
                dataflow: Dataflow::Ws,
                ..Options::default()
            },
        )
        .unwrap_err()
        .0;
    assert!(e.contains("os dataflow only"), "{e}");
}
