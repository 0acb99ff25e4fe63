//! Argument groups several subcommands share: the RTL configuration ([`RtlArgs`]), the
//! vector set ([`SetArgs`]) and the two together ([`VectorArgs`]).

use pelab_hdl::RtlConfig;
use pelab_sim::{Error, Result};
use pelab_testbench::vectors::VectorSet;
use pelab_testbench::{CaseSet, Pe, Shard};

/// Cases of a vector set when a single configuration is named without --count.
pub const DEFAULT_COUNT: u64 = 10_000;

/// Selects one RTL configuration.
#[derive(clap::Args)]
pub struct RtlArgs {
    /// PE id (see `pelab list`).
    pub pe: Option<String>,
    /// Number format; defaults to the PE's only format when it has one.
    #[arg(long, short)]
    pub format: Option<String>,
    /// Overflow / accumulation policy; defaults to the first one the configuration offers.
    #[arg(long, visible_alias = "policy")]
    pub overflow: Option<String>,
    /// Register stages (PEs that offer pipelining).
    #[arg(long, default_value_t = 0)]
    pub pipeline: u32,
    /// Structure variant of PEs that have several (e.g. int16fma `core` or `mac`); defaults
    /// to the first.
    #[arg(long)]
    pub variant: Option<String>,
}

impl RtlArgs {
    /// Resolves the PE (joined across the layers) and the RTL configuration the arguments
    /// name; errors list what is valid.
    pub fn resolve(&self) -> Result<(Pe, RtlConfig)> {
        let Some(id) = self.pe.as_deref() else {
            return Err(Error::new("name a PE (see `pelab list`), or use --all"));
        };
        let pe = pelab_testbench::pe(id)?;
        let all = pe.rtl.configs();
        let mut formats: Vec<&str> = all.iter().map(|c| c.format.as_str()).collect();
        formats.dedup();
        let format = match &self.format {
            Some(f) => f.clone(),
            None if formats.len() == 1 => formats[0].to_string(),
            None => {
                return Err(Error::new(format!(
                    "{id} needs --format; formats with RTL: {}",
                    formats.join(", ")
                )))
            }
        };
        if !formats.contains(&format.as_str()) {
            // Let the format layer say why (unknown, or no RTL for it).
            pelab_hdl::format::rtl_format(&format)?;
        }
        // Unset policy and variant: the first configuration of the format offers them.
        let first = all.iter().find(|c| c.format == format);
        let policy = match &self.overflow {
            Some(p) => p.clone(),
            None => first.map(|c| c.policy.clone()).unwrap_or_default(),
        };
        let variant = match &self.variant {
            Some(v) => v.clone(),
            None => first.map(|c| c.variant.clone()).unwrap_or_default(),
        };
        let cfg = RtlConfig::new(&format, &policy, self.pipeline).with_variant(&variant);
        pelab_hdl::rtl::validate(pe.rtl, &cfg)?;
        Ok((pe, cfg))
    }
}

/// Which cases a vector set holds.
#[derive(clap::Args)]
pub struct SetArgs {
    /// Every case of the input space (e.g. all 2^16 pairs of an 8-bit format).
    #[arg(long, conflicts_with = "count")]
    pub exhaustive: bool,
    /// Number of cases: the corner set first, then seeded random cases.
    #[arg(long)]
    pub count: Option<u64>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only part k of N of the set (contiguous, jointly complete), e.g. 3/8.
    #[arg(long, default_value = "1/1")]
    pub shard: String,
}

impl SetArgs {
    /// The set asked for: exhaustive, or --count cases ([`DEFAULT_COUNT`] without it).
    pub fn set(&self) -> CaseSet {
        if self.exhaustive {
            CaseSet::Exhaustive
        } else {
            CaseSet::Count(self.count.unwrap_or(DEFAULT_COUNT))
        }
    }

    /// Whether the size is left to a default (neither --exhaustive nor --count).
    pub fn default_size(&self) -> bool {
        !self.exhaustive && self.count.is_none()
    }

    /// The parsed --shard.
    pub fn shard(&self) -> Result<Shard> {
        Shard::parse(&self.shard)
    }

    /// The vectors of `cases` of `pe`'s `cfg`, with the seed and the shard asked for.
    pub fn generate(&self, pe: Pe, cfg: &RtlConfig, cases: CaseSet) -> Result<VectorSet> {
        pelab_testbench::vectors::generate(pe.vectors, cfg, cases, self.seed, self.shard()?)
    }
}

/// One configuration and a vector set of it.
#[derive(clap::Args)]
pub struct VectorArgs {
    #[command(flatten)]
    pub rtl: RtlArgs,
    #[command(flatten)]
    pub set: SetArgs,
}
