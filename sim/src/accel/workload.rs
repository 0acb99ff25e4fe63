//! LLM workloads of the accelerator models: model shapes, scenarios and op lists.
//!
//! A workload is either a model shape ([`ModelShape`]: decoder layers, widths, heads and the
//! linear modules of one layer) or an explicit list of GEMMs ([`GemmList`]). Six shapes are
//! built in ([`BUILTIN_IDS`]: the models of BitMoD's Figs. 7 and 8); others come from TOML or
//! JSON files ([`Workload::from_file`], format in `docs/accel.md`).
//!
//! A [`Scenario`] is a task at batch 1 with a context of `T` tokens (default 256):
//! **prefill** processes `T` tokens, **decode** produces one token against a context of `T`.
//! The op list of a model shape has, per decoder layer, one op per linear module plus
//! `attn_qk` and `attn_v`, then one `lm_head` [vocab, hidden]:
//!
//! | op | scenario | cout | cin | cin_i | tok |
//! |---|---|---|---|---|---|
//! | linear [N, K] | prefill / decode | N | K | K | T / 1 |
//! | attn_qk | prefill | T | h | kvd | H·T |
//! | attn_v | prefill | H·T | T | kvd | T |
//! | attn_qk | decode | 1 | h | kvd | H |
//! | attn_v | decode | H | T | kvd | 1 |
//!
//! (h hidden width, H heads, kvd = (h/H)·KV.) **Quirk:** these attention shapes are the
//! BitMoD artifact's and are not physical: all heads are lumped into one product, so prefill
//! QK charges T·h·H·T MACs (H times the true Σ_heads T·T·d), prefill SV H·T·T·T (T/d times the
//! truth), decode QK h·H instead of T·h, decode SV T·H instead of T·h, and the K/V operand
//! bytes (2·kvd per `tok`) scale with H·T or H. There is no separate KV-cache read.
//! Embeddings, norms, softmax, activation functions, RoPE, residuals and biases are not
//! modelled.

use super::expr::Formula;
use super::source::{Doc, Format, Item, Pos, Value};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The context length of the artifact's scenarios.
pub const DEFAULT_CONTEXT: u64 = 256;
/// Largest dimension (and layer count) a model file may give.
pub const MAX_DIM: u64 = 1 << 32;
/// Largest number of ops a workload may expand to.
pub const MAX_OPS: u64 = 1_000_000;
/// The ids of the built-in model shapes, in the artifact's order.
pub const BUILTIN_IDS: [&str; 6] = [
    "opt-1.3b",
    "phi-2",
    "yi-6b",
    "llama-2-7b",
    "llama-2-13b",
    "llama-3-8b",
];

/// Names a model-shape file's `out`/`in` expressions may use.
pub const SHAPE_NAMES: [&str; 7] = ["h", "f", "d", "kvd", "heads", "kv_heads", "vocab"];
/// Names a GEMM-list file's expressions may use.
pub const GEMM_NAMES: [&str; 2] = ["t", "ctx"];

/// The task of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// The whole context at once (the paper's "discriminative" task).
    Prefill,
    /// One new token against the context.
    Decode,
}

impl Task {
    /// Both tasks.
    pub const ALL: [Task; 2] = [Task::Prefill, Task::Decode];

    /// `prefill` or `decode`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Prefill => "prefill",
            Task::Decode => "decode",
        }
    }

    /// The task called `name`.
    pub fn parse(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A task at batch 1 with a context of `context` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Prefill or decode.
    pub task: Task,
    /// Context length T.
    pub context: u64,
}

impl Scenario {
    /// `task` with the default context of 256 tokens.
    pub fn new(task: Task) -> Self {
        Scenario {
            task,
            context: DEFAULT_CONTEXT,
        }
    }

    /// Tokens processed by a linear op: T in prefill, 1 in decode.
    pub fn tokens(&self) -> u64 {
        match self.task {
            Task::Prefill => self.context,
            Task::Decode => 1,
        }
    }
}

/// What an op multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// Weights (at the accelerator's weight precision) times activations.
    Linear,
    /// Activations (FP16) times activations.
    Attention,
}

impl OpKind {
    /// `linear` or `attention`.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Linear => "linear",
            OpKind::Attention => "attention",
        }
    }
}

/// One matrix product: `cout` output channels (weight rows), reduction length `cin`, `tok`
/// token vectors, and `cin_i` the row length of the input operand (equal to `cin` for linear
/// ops; used only in byte and SRAM-write counts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Op {
    /// Module name (`q_proj`, `attn_qk`, `lm_head`...).
    pub name: String,
    /// Linear or attention.
    pub kind: OpKind,
    /// Output channels.
    pub cout: u64,
    /// Reduction length.
    pub cin: u64,
    /// Input operand row length.
    pub cin_i: u64,
    /// Token vectors.
    pub tok: u64,
}

/// One linear module of a decoder layer, [out N, in K] as `nn.Linear` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearModule {
    /// Module name.
    pub name: String,
    /// Output features N.
    pub out: u64,
    /// Input features K.
    #[serde(rename = "in")]
    pub inp: u64,
}

/// A decoder-only transformer's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Short id (`llama-2-7b`).
    pub id: String,
    /// Display name (`Llama-2-7B`).
    pub name: String,
    /// Decoder layers L.
    pub layers: u64,
    /// Hidden width h.
    pub hidden: u64,
    /// FFN width f.
    pub ffn: u64,
    /// Attention heads H.
    pub heads: u64,
    /// KV heads (H without grouped-query attention).
    pub kv_heads: u64,
    /// Vocabulary V (the `lm_head` is [V, h]).
    pub vocab: u64,
    /// The linear modules of one layer.
    pub linears: Vec<LinearModule>,
}

fn lin(name: &str, out: u64, inp: u64) -> LinearModule {
    LinearModule {
        name: name.into(),
        out,
        inp,
    }
}

impl ModelShape {
    /// The six built-in shapes (from each model's Hugging Face `config.json` and its
    /// `nn.Linear` modules; Phi-2 in its HF-native form with separate q, k, v).
    pub fn builtins() -> Vec<ModelShape> {
        BUILTIN_IDS
            .iter()
            .map(|id| ModelShape::builtin(id).expect("built-in id"))
            .collect()
    }

    /// The built-in shape `id` (one of [`BUILTIN_IDS`]).
    pub fn builtin(id: &str) -> Option<ModelShape> {
        let llama = |h: u64, f: u64, kvd: u64| {
            vec![
                lin("q_proj", h, h),
                lin("k_proj", kvd, h),
                lin("v_proj", kvd, h),
                lin("o_proj", h, h),
                lin("gate_proj", f, h),
                lin("up_proj", f, h),
                lin("down_proj", h, f),
            ]
        };
        let shape = |name: &str, l, h, f, heads, kv, v, linears| ModelShape {
            id: id.to_string(),
            name: name.to_string(),
            layers: l,
            hidden: h,
            ffn: f,
            heads,
            kv_heads: kv,
            vocab: v,
            linears,
        };
        Some(match id {
            "opt-1.3b" => shape(
                "OPT-1.3B",
                24,
                2048,
                8192,
                32,
                32,
                50272,
                vec![
                    lin("q_proj", 2048, 2048),
                    lin("k_proj", 2048, 2048),
                    lin("v_proj", 2048, 2048),
                    lin("out_proj", 2048, 2048),
                    lin("fc1", 8192, 2048),
                    lin("fc2", 2048, 8192),
                ],
            ),
            "phi-2" => shape(
                "Phi-2",
                32,
                2560,
                10240,
                32,
                32,
                51200,
                vec![
                    lin("q_proj", 2560, 2560),
                    lin("k_proj", 2560, 2560),
                    lin("v_proj", 2560, 2560),
                    lin("dense", 2560, 2560),
                    lin("fc1", 10240, 2560),
                    lin("fc2", 2560, 10240),
                ],
            ),
            "yi-6b" => shape(
                "Yi-6B",
                32,
                4096,
                11008,
                32,
                4,
                64000,
                llama(4096, 11008, 512),
            ),
            "llama-2-7b" => shape(
                "Llama-2-7B",
                32,
                4096,
                11008,
                32,
                32,
                32000,
                llama(4096, 11008, 4096),
            ),
            "llama-2-13b" => shape(
                "Llama-2-13B",
                40,
                5120,
                13824,
                40,
                40,
                32000,
                llama(5120, 13824, 5120),
            ),
            "llama-3-8b" => shape(
                "Llama-3-8B",
                32,
                4096,
                14336,
                32,
                8,
                128256,
                llama(4096, 14336, 1024),
            ),
            _ => return None,
        })
    }

    /// Head width d = h/H.
    pub fn head_dim(&self) -> u64 {
        self.hidden / self.heads.max(1)
    }

    /// KV width kvd = (h/H)·KV.
    pub fn kv_dim(&self) -> u64 {
        self.head_dim() * self.kv_heads
    }

    /// The op list of `sc` (see the module documentation): per layer the linear modules,
    /// `attn_qk` and `attn_v`; then `lm_head`.
    pub fn ops(&self, sc: Scenario) -> Result<Vec<Op>> {
        let t = sc.context;
        let ht = self
            .heads
            .checked_mul(t)
            .ok_or_else(|| Error::new(format!("{}: heads x context overflows", self.id)))?;
        let (h, kvd, heads) = (self.hidden, self.kv_dim(), self.heads);
        let att = |name: &str, cout, cin, tok| Op {
            name: name.into(),
            kind: OpKind::Attention,
            cout,
            cin,
            cin_i: kvd,
            tok,
        };
        let (qk, sv) = match sc.task {
            Task::Prefill => (att("attn_qk", t, h, ht), att("attn_v", ht, t, t)),
            Task::Decode => (att("attn_qk", 1, h, heads), att("attn_v", heads, t, 1)),
        };
        let tok = sc.tokens();
        let per_layer = self.linears.len() as u64 + 2;
        let n = per_layer
            .checked_mul(self.layers)
            .and_then(|n| n.checked_add(1))
            .filter(|&n| n <= MAX_OPS)
            .ok_or_else(|| {
                Error::new(format!(
                    "{}: more than {MAX_OPS} ops ({} layers x {per_layer} ops)",
                    self.id, self.layers
                ))
            })?;
        let mut ops = Vec::with_capacity(n as usize);
        for _ in 0..self.layers {
            for l in &self.linears {
                ops.push(Op {
                    name: l.name.clone(),
                    kind: OpKind::Linear,
                    cout: l.out,
                    cin: l.inp,
                    cin_i: l.inp,
                    tok,
                });
            }
            ops.push(qk.clone());
            ops.push(sv.clone());
        }
        ops.push(Op {
            name: "lm_head".into(),
            kind: OpKind::Linear,
            cout: self.vocab,
            cin: h,
            cin_i: h,
            tok,
        });
        Ok(ops)
    }
}

/// One GEMM of a GEMM-list file, repeated `count` times. Its dimensions are expressions of
/// `t` (tokens of the step: T in prefill, 1 in decode) and `ctx` (the context T).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GemmSpec {
    /// Name.
    pub name: String,
    /// Linear (weights at the accelerator's precision) or attention (FP16 operands).
    pub kind: OpKind,
    /// Output channels.
    pub cout: Formula,
    /// Reduction length.
    pub cin: Formula,
    /// Input operand row length (default: `cin`).
    pub cin_i: Formula,
    /// Token vectors.
    pub tok: Formula,
    /// How many times the GEMM runs.
    pub count: u64,
    /// `file:line` of the entry, for messages.
    #[serde(skip)]
    pub origin: String,
}

/// A workload given as an explicit list of GEMMs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GemmList {
    /// Short id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The GEMMs.
    pub gemms: Vec<GemmSpec>,
}

impl GemmList {
    /// The op list of `sc`: each GEMM `count` times.
    pub fn ops(&self, sc: Scenario) -> Result<Vec<Op>> {
        let total: u64 = self.gemms.iter().map(|g| g.count).sum();
        if total > MAX_OPS {
            return Err(Error::new(format!(
                "{}: {total} ops (at most {MAX_OPS})",
                self.id
            )));
        }
        let mut ops = Vec::with_capacity(total as usize);
        for g in &self.gemms {
            let op = g.op(sc)?;
            ops.extend(std::iter::repeat_n(op, g.count as usize));
        }
        Ok(ops)
    }
}

impl GemmSpec {
    /// This GEMM's op in `sc`.
    pub fn op(&self, sc: Scenario) -> Result<Op> {
        let (t, ctx) = (i128::from(sc.tokens()), i128::from(sc.context));
        let env = |n: &str| match n {
            "t" => Some(t),
            "ctx" => Some(ctx),
            _ => None,
        };
        let dim = |what: &str, f: &Formula| -> Result<u64> {
            let v = f.eval(&env).map_err(|e| {
                Error::new(format!(
                    "{}: gemm `{}`, `{what}` in {}: {e}",
                    self.origin,
                    self.name,
                    sc.task.name()
                ))
            })?;
            in_range(v).ok_or_else(|| {
                Error::new(format!(
                    "{}: gemm `{}`, `{what}` = {} = {v} in {} (expected 1 to {MAX_DIM})",
                    self.origin,
                    self.name,
                    f.text(),
                    sc.task.name()
                ))
            })
        };
        Ok(Op {
            name: self.name.clone(),
            kind: self.kind,
            cout: dim("cout", &self.cout)?,
            cin: dim("cin", &self.cin)?,
            cin_i: dim("cin_i", &self.cin_i)?,
            tok: dim("tok", &self.tok)?,
        })
    }
}

fn in_range(v: i128) -> Option<u64> {
    u64::try_from(v).ok().filter(|v| (1..=MAX_DIM).contains(v))
}

/// A workload: a model shape or a GEMM list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "lowercase")]
pub enum Workload {
    /// A decoder-only transformer's shape.
    Model(ModelShape),
    /// An explicit list of GEMMs.
    Gemms(GemmList),
}

impl Workload {
    /// The built-in model `id`.
    pub fn builtin(id: &str) -> Option<Workload> {
        ModelShape::builtin(id).map(Workload::Model)
    }

    /// The short id.
    pub fn id(&self) -> &str {
        match self {
            Workload::Model(m) => &m.id,
            Workload::Gemms(g) => &g.id,
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        match self {
            Workload::Model(m) => &m.name,
            Workload::Gemms(g) => &g.name,
        }
    }

    /// The op list of `sc`.
    pub fn ops(&self, sc: Scenario) -> Result<Vec<Op>> {
        match self {
            Workload::Model(m) => m.ops(sc),
            Workload::Gemms(g) => g.ops(sc),
        }
    }

    /// Reads a model file (`.toml` or `.json`, format in `docs/accel.md`). Its id defaults to
    /// the file's stem.
    pub fn from_file(path: &Path) -> Result<Workload> {
        let format = Format::of_path(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("{}: cannot read: {e}", path.display())))?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("model")
            .to_string();
        Workload::parse(&path.display().to_string(), &stem, &text, format)
    }

    /// Parses a model file's `text`; `file` names it in messages and `default_id` is the id
    /// when the file gives none.
    pub fn parse(file: &str, default_id: &str, text: &str, format: Format) -> Result<Workload> {
        let doc = Doc::parse(file, text, format)?;
        let root = Table::new(&doc, &doc.root, "the file")?;
        let has_gemms = root.get("gemms").is_some();
        let has_layers = root.get("layers").is_some();
        let w =
            match (has_gemms, has_layers) {
                (true, true) => {
                    return Err(doc.err(
                        root.get("gemms").map_or(doc.root.pos, |i| i.pos),
                        "the file has both `gemms` (a GEMM list) and `layers` (a model shape): \
                     expected one form",
                    ))
                }
                (false, false) => return Err(doc.err(
                    doc.root.pos,
                    "expected a model shape (keys layers, hidden, ffn, heads, kv_heads, vocab, \
                     linears) or a GEMM list (key gemms)",
                )),
                (true, false) => Workload::Gemms(gemm_list(&root, default_id)?),
                (false, true) => Workload::Model(model_shape(&root, default_id)?),
            };
        // Both scenarios at the default context must expand: errors surface at load time.
        for task in Task::ALL {
            w.check(Scenario::new(task))?;
        }
        Ok(w)
    }

    /// Expands the op list of `sc` without keeping it (sizes and dimensions checked).
    fn check(&self, sc: Scenario) -> Result<()> {
        match self {
            Workload::Model(m) => m.ops(sc).map(|_| ()),
            Workload::Gemms(g) => {
                for s in &g.gemms {
                    s.op(sc)?;
                }
                Ok(())
            }
        }
    }
}

/// A table of the file, with the keys it may have.
struct Table<'a> {
    doc: &'a Doc,
    pos: Pos,
    what: String,
    entries: &'a [(String, Item)],
}

impl<'a> Table<'a> {
    fn new(doc: &'a Doc, item: &'a Item, what: &str) -> Result<Table<'a>> {
        match &item.value {
            Value::Table(entries) => Ok(Table {
                doc,
                pos: item.pos,
                what: what.to_string(),
                entries,
            }),
            v => Err(doc.err(
                item.pos,
                format!("{what}: expected a table, found {}", v.kind()),
            )),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Item> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn require(&self, key: &str, expected: &str) -> Result<&'a Item> {
        self.get(key).ok_or_else(|| {
            self.doc.err(
                self.pos,
                format!("{}: missing key `{key}` ({expected})", self.what),
            )
        })
    }

    /// Errors on a key not in `allowed` or given twice.
    fn check_keys(&self, allowed: &[&str]) -> Result<()> {
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                return Err(self.doc.err(
                    v.pos,
                    format!(
                        "{}: unknown key `{}` (expected one of: {})",
                        self.what,
                        k.escape_debug(),
                        allowed.join(", ")
                    ),
                ));
            }
            if self.entries[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(self
                    .doc
                    .err(v.pos, format!("{}: key `{k}` given twice", self.what)));
            }
        }
        Ok(())
    }

    fn string(&self, key: &str) -> Result<Option<String>> {
        let Some(item) = self.get(key) else {
            return Ok(None);
        };
        match &item.value {
            Value::Str(s) if !s.trim().is_empty() && s.len() <= 200 => Ok(Some(s.clone())),
            v => Err(self.doc.err(
                item.pos,
                format!(
                    "{}: `{key}`: expected a non-empty string of at most 200 bytes, found {}",
                    self.what,
                    v.kind()
                ),
            )),
        }
    }

    fn positive(&self, key: &str) -> Result<u64> {
        let item = self.require(key, &format!("an integer from 1 to {MAX_DIM}"))?;
        match &item.value {
            Value::Int(v) => in_range(*v).ok_or_else(|| {
                self.doc.err(
                    item.pos,
                    format!(
                        "{}: `{key}` = {v}: expected an integer from 1 to {MAX_DIM}",
                        self.what
                    ),
                )
            }),
            v => Err(self.doc.err(
                item.pos,
                format!(
                    "{}: `{key}`: expected an integer from 1 to {MAX_DIM}, found {}",
                    self.what,
                    v.kind()
                ),
            )),
        }
    }

    fn formula(&self, key: &str, names: &[&str]) -> Result<Formula> {
        let expected = format!(
            "an integer, or a string holding an expression of {}",
            names.join(", ")
        );
        let item = self.require(key, &expected)?;
        match &item.value {
            Value::Int(v) => {
                let n = in_range(*v).ok_or_else(|| {
                    self.doc.err(
                        item.pos,
                        format!(
                            "{}: `{key}` = {v}: expected an integer from 1 to {MAX_DIM}",
                            self.what
                        ),
                    )
                })?;
                Ok(Formula::constant(n))
            }
            Value::Str(s) => Formula::parse(s, names).map_err(|e| {
                self.doc
                    .err(item.pos, format!("{}: `{key}`: {e}", self.what))
            }),
            v => Err(self.doc.err(
                item.pos,
                format!(
                    "{}: `{key}`: expected {expected}, found {}",
                    self.what,
                    v.kind()
                ),
            )),
        }
    }

    fn array(&self, key: &str, expected: &str) -> Result<&'a [Item]> {
        let item = self.require(key, expected)?;
        match &item.value {
            Value::Array(a) if !a.is_empty() => Ok(a),
            Value::Array(_) => Err(self.doc.err(
                item.pos,
                format!("{}: `{key}` is empty (expected {expected})", self.what),
            )),
            v => Err(self.doc.err(
                item.pos,
                format!(
                    "{}: `{key}`: expected {expected}, found {}",
                    self.what,
                    v.kind()
                ),
            )),
        }
    }
}

fn model_shape(root: &Table<'_>, default_id: &str) -> Result<ModelShape> {
    root.check_keys(&[
        "id", "name", "layers", "hidden", "ffn", "heads", "kv_heads", "vocab", "linears",
    ])?;
    let doc = root.doc;
    let id = root.string("id")?.unwrap_or_else(|| default_id.to_string());
    let name = root.string("name")?.unwrap_or_else(|| id.clone());
    let layers = root.positive("layers")?;
    let hidden = root.positive("hidden")?;
    let ffn = root.positive("ffn")?;
    let heads = root.positive("heads")?;
    let kv_heads = root.positive("kv_heads")?;
    let vocab = root.positive("vocab")?;
    let at = |k: &str| root.get(k).map_or(root.pos, |i| i.pos);
    if hidden % heads != 0 {
        return Err(doc.err(
            at("heads"),
            format!("`heads` = {heads} does not divide `hidden` = {hidden} (expected a divisor)"),
        ));
    }
    if heads % kv_heads != 0 {
        return Err(doc.err(
            at("kv_heads"),
            format!(
                "`kv_heads` = {kv_heads} does not divide `heads` = {heads} (expected a divisor)"
            ),
        ));
    }
    let d = hidden / heads;
    let kvd = d * kv_heads;
    let env = |n: &str| {
        Some(i128::from(match n {
            "h" => hidden,
            "f" => ffn,
            "d" => d,
            "kvd" => kvd,
            "heads" => heads,
            "kv_heads" => kv_heads,
            "vocab" => vocab,
            _ => return None,
        }))
    };
    let items = root.array("linears", "an array of tables {name, out, in}")?;
    let mut linears = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let t = Table::new(doc, item, &format!("linears[{i}]"))?;
        t.check_keys(&["name", "out", "in"])?;
        let name = t.string("name")?.ok_or_else(|| {
            doc.err(
                item.pos,
                format!("linears[{i}]: missing key `name` (a string)"),
            )
        })?;
        let dim = |key: &str| -> Result<u64> {
            let f = t.formula(key, &SHAPE_NAMES)?;
            let pos = t.get(key).map_or(item.pos, |i| i.pos);
            let v = f
                .eval(&env)
                .map_err(|e| doc.err(pos, format!("linears[{i}] `{name}`: `{key}`: {e}")))?;
            in_range(v).ok_or_else(|| {
                doc.err(
                    pos,
                    format!(
                        "linears[{i}] `{name}`: `{key}` = {} = {v} (expected 1 to {MAX_DIM})",
                        f.text()
                    ),
                )
            })
        };
        let out = dim("out")?;
        let inp = dim("in")?;
        linears.push(LinearModule { name, out, inp });
    }
    let per_layer = linears.len() as u64 + 2;
    if per_layer.saturating_mul(layers).saturating_add(1) > MAX_OPS {
        return Err(doc.err(
            at("layers"),
            format!(
                "{layers} layers of {per_layer} ops exceed {MAX_OPS} ops (expected a smaller model)"
            ),
        ));
    }
    Ok(ModelShape {
        id,
        name,
        layers,
        hidden,
        ffn,
        heads,
        kv_heads,
        vocab,
        linears,
    })
}

fn gemm_list(root: &Table<'_>, default_id: &str) -> Result<GemmList> {
    root.check_keys(&["id", "name", "gemms"])?;
    let doc = root.doc;
    let id = root.string("id")?.unwrap_or_else(|| default_id.to_string());
    let name = root.string("name")?.unwrap_or_else(|| id.clone());
    let items = root.array(
        "gemms",
        "an array of tables {name, cout, cin, tok, count, kind, cin_i}",
    )?;
    let mut gemms = Vec::with_capacity(items.len());
    let mut total: u64 = 0;
    for (i, item) in items.iter().enumerate() {
        let t = Table::new(doc, item, &format!("gemms[{i}]"))?;
        t.check_keys(&["name", "kind", "cout", "cin", "cin_i", "tok", "count"])?;
        let name = t.string("name")?.ok_or_else(|| {
            doc.err(
                item.pos,
                format!("gemms[{i}]: missing key `name` (a string)"),
            )
        })?;
        let kind = match t.get("kind") {
            None => OpKind::Linear,
            Some(k) => match &k.value {
                Value::Str(s) if s == "linear" => OpKind::Linear,
                Value::Str(s) if s == "attention" => OpKind::Attention,
                v => {
                    return Err(doc.err(
                        k.pos,
                        format!(
                            "gemms[{i}] `{name}`: `kind`: expected \"linear\" or \"attention\", \
                             found {}",
                            match v {
                                Value::Str(s) => format!("\"{}\"", s.escape_debug()),
                                v => v.kind().to_string(),
                            }
                        ),
                    ))
                }
            },
        };
        let cout = t.formula("cout", &GEMM_NAMES)?;
        let cin = t.formula("cin", &GEMM_NAMES)?;
        let cin_i = match t.get("cin_i") {
            Some(_) => t.formula("cin_i", &GEMM_NAMES)?,
            None => cin.clone(),
        };
        let tok = t.formula("tok", &GEMM_NAMES)?;
        let count = match t.get("count") {
            None => 1,
            Some(_) => t.positive("count")?,
        };
        total = total.saturating_add(count);
        if total > MAX_OPS {
            return Err(doc.err(
                item.pos,
                format!("gemms: the counts add up to more than {MAX_OPS} ops"),
            ));
        }
        gemms.push(GemmSpec {
            name,
            kind,
            cout,
            cin,
            cin_i,
            tok,
            count,
            origin: format!("{}:{}", doc.file, item.pos.line),
        });
    }
    Ok(GemmList { id, name, gemms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_counts() {
        let total: usize = ModelShape::builtins()
            .iter()
            .map(|m| {
                m.ops(Scenario::new(Task::Prefill))
                    .unwrap()
                    .iter()
                    .filter(|o| o.kind == OpKind::Linear)
                    .count()
            })
            .sum();
        assert_eq!(total, 1294);
    }

    #[test]
    fn shape_file_matches_builtin() {
        let text = r#"
id = "llama-3-8b"
name = "Llama-3-8B"
layers = 32
hidden = 4096
ffn = 14336
heads = 32
kv_heads = 8
vocab = 128256
linears = [
  { name = "q_proj", out = "h", in = "h" },
  { name = "k_proj", out = "kvd", in = "h" },
  { name = "v_proj", out = "(h / heads) * kv_heads", in = "h" },
  { name = "o_proj", out = "h", in = "h" },
  { name = "gate_proj", out = "f", in = "h" },
  { name = "up_proj", out = 14336, in = "h" },
  { name = "down_proj", out = "h", in = "f" },
]
"#;
        let w = Workload::parse("m.toml", "m", text, Format::Toml).unwrap();
        assert_eq!(w, Workload::builtin("llama-3-8b").unwrap());
    }

    #[test]
    fn gemm_file() {
        let text = r#"{
  "name": "two gemms",
  "gemms": [
    {"name": "proj", "cout": 4096, "cin": 4096, "tok": "t", "count": 3},
    {"name": "scores", "kind": "attention", "cout": "ctx", "cin": 128, "tok": "t * 32"}
  ]
}"#;
        let w = Workload::parse("g.json", "g", text, Format::Json).unwrap();
        assert_eq!(w.id(), "g");
        let ops = w.ops(Scenario::new(Task::Decode)).unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[3].tok, 32);
        assert_eq!(ops[3].cout, 256);
        assert_eq!(ops[3].cin_i, 128);
        let bad = text.replace("\"t * 32\"", "\"t - 1\"");
        let e = Workload::parse("g.json", "g", &bad, Format::Json).unwrap_err();
        assert!(e.0.starts_with("g.json:5:"), "{e}");
    }
}
