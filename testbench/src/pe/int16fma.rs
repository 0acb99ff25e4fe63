//! Vectors of `int16fma`: the combinational core (`ACC A0 A1 B0 B1 Y`, one operation per row)
//! and the streaming MAC (`RESET CLEAR EN A0 A1 B0 B1 ACC`, one clock cycle per row; a case is
//! one accumulation: a reset or clear cycle, then up to 64 cycles with `en` mostly high).

use crate::codec::{
    accumulator_rows, input_row, Case, Field, Layout, PeVectors, Stage, Timing, Workload,
    WorkloadOps,
};
use pelab_hdl::RtlConfig;
use pelab_sim::int16fma::{MacInputs, Mode, StreamingMac};
use pelab_sim::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The `int16fma` vector codec.
pub struct Int16FmaVectors;

const EDGE16: [i16; 10] = [0, 1, -1, 2, -2, 181, -182, 16384, i16::MAX, i16::MIN];
const EDGE32: [i32; 10] = [
    0,
    1,
    -1,
    1 << 30,
    -(1 << 30),
    i32::MAX,
    i32::MIN,
    i32::MAX - 1,
    i32::MIN + 1,
    0x7FFF_0000,
];

fn is_mac(cfg: &RtlConfig) -> Result<bool> {
    match cfg.variant.as_str() {
        "core" => Ok(false),
        "mac" => Ok(true),
        v => Err(Error::new(format!(
            "int16fma variant '{v}': expected core or mac"
        ))),
    }
}

fn h16(v: i16) -> u64 {
    v as u16 as u64
}

/// A 16-bit operand: extremes a quarter of the time, else uniform.
fn operand(r: &mut ChaCha8Rng) -> i16 {
    if r.gen_ratio(1, 4) {
        EDGE16[r.gen_range(0..EDGE16.len())]
    } else {
        r.gen()
    }
}

impl PeVectors for Int16FmaVectors {
    fn id(&self) -> &'static str {
        "int16fma"
    }
    /// `ops` MACs (two per row: one VPDPWSSD lane) of 16-bit operands drawn from `dist`.
    /// The MAC: a reset cycle, then dot products of `k` terms (`k / 2` rows) each starting
    /// with `clear` (element-wise: one running sum). The core: the accumulator input is the
    /// previous row's result, back to 0 at the start of every dot product.
    fn workload(&self, cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        let WorkloadOps { dist, shape, ops } = w;
        let mode = Mode::from_policy(&cfg.policy)?;
        let layout = self.layout(cfg)?;
        let n = ops.div_ceil(2);
        let k_rows = shape.dot_len().div_ceil(2);
        let ops4: Vec<[i16; 4]> = (0..n).map(|_| [0; 4].map(|_| dist.int16(rng))).collect();
        let rows = if is_mac(cfg)? {
            let col = |k: usize| ops4.iter().map(|o| h16(o[k])).collect::<Vec<u64>>();
            accumulator_rows(
                &layout,
                &[
                    ("a0", col(0)),
                    ("a1", col(1)),
                    ("b0", col(2)),
                    ("b1", col(3)),
                ],
                k_rows,
            )
        } else {
            let mut acc = 0i32;
            ops4.iter()
                .enumerate()
                .map(|(i, o)| {
                    if k_rows > 0 && (i as u64).is_multiple_of(k_rows) {
                        acc = 0;
                    }
                    let row = input_row(
                        &layout,
                        &[
                            ("acc", acc as u32 as u64),
                            ("a0", h16(o[0])),
                            ("a1", h16(o[1])),
                            ("b0", h16(o[2])),
                            ("b1", h16(o[3])),
                        ],
                    );
                    acc = match mode {
                        Mode::Wrap => {
                            pelab_sim::int16fma::vpdpwssd(acc, [o[0], o[1]], [o[2], o[3]])
                        }
                        Mode::Saturate => {
                            pelab_sim::int16fma::vpdpwssds(acc, [o[0], o[1]], [o[2], o[3]])
                        }
                    };
                    row
                })
                .collect()
        };
        Ok(Workload {
            stages: vec![Stage {
                rtl: &pelab_hdl::pe::int16fma::Int16FmaRtl,
                cfg: cfg.clone(),
                layout,
                rows,
                role: if is_mac(cfg)? { "MAC" } else { "VPDPWSSD lane" }.into(),
            }],
            ops: 2 * n,
            op_name: "MAC",
        })
    }
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout> {
        Mode::from_policy(&cfg.policy)?;
        let ops = ["a0", "a1", "b0", "b1"].map(|n| Field::input(n, 16));
        Ok(if is_mac(cfg)? {
            let mut f = vec![
                Field::input("reset", 1),
                Field::input("clear", 1),
                Field::input("en", 1),
            ];
            f.extend(ops);
            f.push(Field::output("acc", 32));
            Layout {
                fields: f,
                timing: Timing::Cycles,
                care: false,
                restart: vec!["reset".into(), "clear".into()],
            }
        } else {
            let mut f = vec![Field::input("acc", 32)];
            f.extend(ops);
            f.push(Field::output("y", 32));
            Layout {
                fields: f,
                timing: Timing::Stream { latency: 0 },
                care: false,
                restart: Vec::new(),
            }
        })
    }
    fn corner_cases(&self, cfg: &RtlConfig) -> Result<Vec<Case>> {
        let mut v = Vec::new();
        if is_mac(cfg)? {
            // Accumulations that run into both INT32 bounds and stay there, then come back.
            for (x, n) in [(i16::MIN, 6u32), (i16::MAX, 6), (-1, 3)] {
                let mut case = vec![vec![1, 0, 0, 0, 0, 0, 0]];
                for i in 0..n {
                    let y = if i % 2 == 0 { x } else { i16::MIN };
                    case.push(vec![0, 0, 1, h16(y), h16(y), h16(i16::MIN), h16(i16::MIN)]);
                }
                for _ in 0..n {
                    case.push(vec![
                        0,
                        0,
                        1,
                        h16(i16::MAX),
                        h16(i16::MAX),
                        h16(i16::MIN),
                        h16(i16::MIN),
                    ]);
                }
                v.push(case);
            }
            return Ok(v);
        }
        // Every combination of edge operands with edge accumulators (a0 = a1 and b0 = b1 keep
        // the count reasonable; the random cases mix them).
        for &acc in &EDGE32 {
            for &a in &EDGE16 {
                for &b in &EDGE16 {
                    for &c in &[a, 0, i16::MIN] {
                        v.push(vec![vec![
                            acc as u32 as u64,
                            h16(a),
                            h16(c),
                            h16(b),
                            h16(b),
                        ]]);
                    }
                }
            }
        }
        Ok(v)
    }
    fn random_case(&self, cfg: &RtlConfig, r: &mut ChaCha8Rng) -> Result<Case> {
        if is_mac(cfg)? {
            let n = r.gen_range(1..=64);
            let start = if r.gen_ratio(1, 8) {
                vec![1, r.gen_range(0..2), r.gen_range(0..2)]
            } else {
                vec![0, 1, r.gen_range(0..2)]
            };
            let mut case = vec![[
                start,
                vec![
                    h16(operand(r)),
                    h16(operand(r)),
                    h16(operand(r)),
                    h16(operand(r)),
                ],
            ]
            .concat()];
            for _ in 0..n {
                let en = !r.gen_ratio(1, 8) as u64;
                case.push(vec![
                    0,
                    0,
                    en,
                    h16(operand(r)),
                    h16(operand(r)),
                    h16(operand(r)),
                    h16(operand(r)),
                ]);
            }
            return Ok(case);
        }
        let acc: i32 = match r.gen_range(0..4) {
            0 => EDGE32[r.gen_range(0..EDGE32.len())],
            1 => (i32::MAX as i64 - r.gen_range(0..1i64 << 31)) as i32,
            2 => (i32::MIN as i64 + r.gen_range(0..1i64 << 31)) as i32,
            _ => r.gen(),
        };
        Ok(vec![vec![
            acc as u32 as u64,
            h16(operand(r)),
            h16(operand(r)),
            h16(operand(r)),
            h16(operand(r)),
        ]])
    }
    fn expected(&self, cfg: &RtlConfig, case: &[Vec<u64>]) -> Result<Vec<(Vec<u64>, u64)>> {
        let mode = Mode::from_policy(&cfg.policy)?;
        let s = |v: u64| v as u16 as i16;
        if is_mac(cfg)? {
            // Each case starts with a reset or clear cycle, so the register's earlier content
            // never matters.
            let mut m = StreamingMac::new(mode);
            return Ok(case
                .iter()
                .map(|r| {
                    let acc = m.clock(&MacInputs {
                        reset: r[0] == 1,
                        clear: r[1] == 1,
                        en: r[2] == 1,
                        a: [s(r[3]), s(r[4])],
                        b: [s(r[5]), s(r[6])],
                    });
                    (vec![acc as u32 as u64], 0)
                })
                .collect());
        }
        Ok(case
            .iter()
            .map(|r| {
                (
                    vec![
                        mode.apply(r[0] as u32 as i32, [s(r[1]), s(r[2])], [s(r[3]), s(r[4])])
                            as u32 as u64,
                    ],
                    0,
                )
            })
            .collect())
    }
    fn describe_output(&self, _cfg: &RtlConfig, _field: &str, v: u64) -> String {
        format!("{}", v as u32 as i32)
    }
}
