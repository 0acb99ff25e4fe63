//! The studies: each paper's claims, measured. A study runs its accuracy tables, may add energy
//! jobs and derive energy tables from the measurements, and gives its claims, plots and summary
//! sections. Adding a study: one new module here and one line in [`STUDIES`].

pub(crate) mod accel;
pub(crate) mod arrays;
pub(crate) mod bitmod;
pub(crate) mod dfp;
pub(crate) mod lmul;
pub(crate) mod timing;

use super::energy::{Energy, EnergyJob};
use super::{Claim, ReportOpts};
use crate::accuracy;
use crate::plots::Figure;
use crate::Table;
use pelab_sim::{Error, Result};
use std::collections::BTreeMap;

/// Every study, in the order of the claims, plots and summary sections.
pub(crate) const STUDIES: [&dyn Study; 6] = [
    &lmul::LMul,
    &bitmod::BitMod,
    &dfp::Dfp,
    &arrays::Arrays,
    &accel::Accel,
    &timing::Timing,
];

/// What the run measured, as the studies read it.
pub(crate) struct Results<'a> {
    /// Every study's tables (accuracy and energy), by name.
    pub tables: &'a BTreeMap<String, Table>,
    /// Every energy measurement.
    pub energy: &'a [Energy],
}

impl Results<'_> {
    /// The table `name`.
    pub fn table(&self, name: &str) -> Result<&Table> {
        self.tables
            .get(name)
            .ok_or_else(|| Error::new(format!("the studies produced no table {name}")))
    }
}

/// One study of a paper's claims.
pub(crate) trait Study: Sync {
    /// The study's name (also its `pelab study` name and progress step).
    fn name(&self) -> &'static str;

    /// The summary section the study writes into: `accuracy` (the accuracy studies) or its own
    /// (`arrays`).
    fn section(&self) -> &'static str {
        "accuracy"
    }

    /// Energy jobs of the study beyond the elementwise one of every PE.
    fn energy_jobs(&self) -> Result<Vec<EnergyJob>> {
        Ok(Vec::new())
    }

    /// The study's accuracy tables.
    fn run(&self, o: &ReportOpts) -> Result<Vec<Table>> {
        accuracy_tables(self.name(), o, accuracy::Scale::None)
    }

    /// Tables the study derives from the energy measurements.
    fn energy_tables(&self, _o: &ReportOpts, _energy: &[Energy]) -> Result<Vec<Table>> {
        Ok(Vec::new())
    }

    /// The study's claims, each beside pelab's measurement.
    fn claims(&self, o: &ReportOpts, x: &Results) -> Result<Vec<Claim>>;

    /// The study's plots.
    fn figures(&self, o: &ReportOpts, x: &Results) -> Result<Vec<Figure>>;

    /// The study's subsection of the summary's energy section (shown when energy was measured).
    fn energy_markdown(&self, _o: &ReportOpts, _x: &Results) -> Result<String> {
        Ok(String::new())
    }

    /// The study's subsection of the summary's accuracy section.
    fn markdown(&self, o: &ReportOpts, x: &Results) -> Result<String>;

    /// The paper the study measures, as the summary's "what this means" names it.
    fn paper(&self) -> &'static str;

    /// Two lines for a reader: what the study's measured claims (`claims`, as [`Study::claims`]
    /// gave them) mean, written from their figures.
    fn meaning(&self, claims: &[Claim]) -> [String; 2];
}

/// The figure of a claim: its energy saving with glitches counted (unit delay), when the
/// claim has a "with glitches" column.
pub(crate) const SAVING_WITH_GLITCHES: &str = "saving_with_glitches_unit";
/// The figure of a claim: the zero-delay saving on the operands of [`SAVING_WITH_GLITCHES`].
pub(crate) const SAVING_ZERO_SAME_OPERANDS: &str = "saving_zero_delay_glitch_operands";

/// The claims table's "with glitches" column of claim `c`, from its figures
/// [`SAVING_WITH_GLITCHES`] and [`SAVING_ZERO_SAME_OPERANDS`] (their provenance is in the
/// claim's source); empty for a claim without them.
pub(crate) fn with_glitches(c: &Claim) -> String {
    let get = |n: &str| c.figures.get(n).copied();
    match (get(SAVING_WITH_GLITCHES), get(SAVING_ZERO_SAME_OPERANDS)) {
        (None, _) => String::new(),
        (Some(Some(u)), z) => format!(
            "{} with unit delay (generic-45nm; zero delay on the same operands: {}); Liberty \
             delays: not measured",
            crate::table::pct(u),
            crate::table::opt_pct(z.flatten())
        ),
        (Some(None), None) => {
            "not measured (the timing study measures e4m3 and bf16, element-wise)".into()
        }
        (Some(None), Some(_)) => "no figure (the source says why)".into(),
    }
}

/// The figure `name` of the first claim whose title contains `claim`.
fn figure(claims: &[Claim], claim: &str, name: &str) -> Option<f64> {
    claims
        .iter()
        .filter(|c| c.claim.contains(claim))
        .find_map(|c| c.figures.get(name).copied().flatten())
}

/// The smallest and largest figure `name` of the claims whose title contains `claim`.
fn figure_range(claims: &[Claim], claim: &str, name: &str) -> Option<(f64, f64)> {
    claims
        .iter()
        .filter(|c| c.claim.contains(claim))
        .filter_map(|c| c.figures.get(name).copied().flatten())
        .fold(None, |r, v| match r {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })
}

/// The accuracy tables of the study `name` from a Gaussian source, scaled by `scale`; the quick
/// run takes an eighth of the samples (at least 4096).
fn accuracy_tables(name: &str, o: &ReportOpts, scale: accuracy::Scale) -> Result<Vec<Table>> {
    let full = accuracy::default_samples(name)?;
    let samples = if o.quick { (full / 8).max(4096) } else { full };
    let opts = accuracy::Opts {
        source: accuracy::Source::parse("gaussian")?,
        samples,
        seed: o.seed,
        scale,
    };
    accuracy::study(name, &opts)
}

/// A study table's provenance in one line: source, samples, seed.
fn study_source(t: &Table) -> String {
    let keep: Vec<&str> = t
        .provenance
        .iter()
        .filter(|p| p.starts_with("source:") || p.starts_with("samples:") || p.starts_with("seed:"))
        .map(|p| p.as_str())
        .collect();
    format!("{}.csv: {}", t.name, keep.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_runs_every_accuracy_study_in_order() {
        let names: Vec<&str> = STUDIES
            .iter()
            .filter(|s| s.section() == "accuracy")
            .map(|s| s.name())
            .collect();
        assert_eq!(names, accuracy::STUDIES);
    }
}
