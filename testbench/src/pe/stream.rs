//! The vector codec the streaming FP32 accumulators (`fp16mac`, `fp32acc`) share: `RESET CLEAR
//! EN`, the PE's data inputs, then `ACC`, one clock cycle per row (`ACC` is the accumulator
//! after that cycle's rising edge); one configuration (the PE's format, policy `ieee`); random
//! cases from the reference's random accumulations, expected outputs from the reference. A PE
//! gives what differs in an [`AccumulatorPe`] and gets its [`PeVectors`] from it.

use crate::codec::{only_config, Case, Field, Layout, PeVectors, Timing, Workload, WorkloadOps};
use pelab_hdl::RtlConfig;
use pelab_sim::format::Format;
use pelab_sim::pe::stream::Accumulator;
use pelab_sim::{Error, Result};
use rand_chacha::ChaCha8Rng;

/// What a streaming FP32 accumulator's vectors need from its PE.
pub trait AccumulatorPe: Sync {
    /// The reference.
    type Model: Accumulator;
    /// PE id.
    const ID: &'static str;
    /// The PE's one format (its policy is `ieee`).
    const FORMAT: &'static str;
    /// The data input ports after `reset clear en`, with their widths.
    const DATA: &'static [(&'static str, u32)];
    /// The corner cases, in a fixed order.
    fn corner_cases() -> Vec<Case>;
    /// One random accumulation's inputs.
    fn random(r: &mut ChaCha8Rng) -> Vec<<Self::Model as Accumulator>::Inputs>;
    /// The energy workload `w`; none by default.
    fn workload(cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        let _ = (cfg, w, rng);
        Err(Error::new(format!(
            "PE '{}' has no energy workload",
            Self::ID
        )))
    }
}

fn check<P: AccumulatorPe>(cfg: &RtlConfig) -> Result<()> {
    only_config(cfg, P::ID, P::FORMAT, "ieee")
}

impl<P: AccumulatorPe> PeVectors for P {
    fn id(&self) -> &'static str {
        P::ID
    }
    fn layout(&self, cfg: &RtlConfig) -> Result<Layout> {
        check::<P>(cfg)?;
        let control = ["reset", "clear", "en"].map(|n| Field::input(n, 1));
        let data = P::DATA.iter().map(|&(n, w)| Field::input(n, w));
        Ok(Layout {
            fields: control
                .into_iter()
                .chain(data)
                .chain([Field::output("acc", 32)])
                .collect(),
            timing: Timing::Cycles,
            care: false,
            restart: vec!["reset".into(), "clear".into()],
        })
    }
    fn corner_cases(&self, cfg: &RtlConfig) -> Result<Vec<Case>> {
        check::<P>(cfg)?;
        Ok(P::corner_cases())
    }
    fn random_case(&self, cfg: &RtlConfig, r: &mut ChaCha8Rng) -> Result<Case> {
        check::<P>(cfg)?;
        Ok(P::random(r).iter().map(P::Model::row).collect())
    }
    /// The register after each row. Cases start with a reset or clear cycle, so the
    /// register's earlier content never matters.
    fn expected(&self, cfg: &RtlConfig, case: &[Vec<u64>]) -> Result<Vec<(Vec<u64>, u64)>> {
        check::<P>(cfg)?;
        let mut m = P::Model::default();
        Ok(case
            .iter()
            .map(|r| (vec![m.clock(&P::Model::of_row(r)) as u64], 0))
            .collect())
    }
    fn describe_output(&self, _cfg: &RtlConfig, _field: &str, v: u64) -> String {
        Format::FP32.display_value(v)
    }
    fn workload(&self, cfg: &RtlConfig, w: WorkloadOps, rng: &mut ChaCha8Rng) -> Result<Workload> {
        P::workload(cfg, w, rng)
    }
}
