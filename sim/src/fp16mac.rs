//! Placeholder: the fp16mac reference model is being written.

use crate::error::Result;
use crate::pe::{Evaluation, PeModel};

/// The fp16mac PE in the registry.
pub struct Fp16MacPe;

impl PeModel for Fp16MacPe {
    fn id(&self) -> &'static str {
        "fp16mac"
    }
    fn summary(&self) -> &'static str {
        "(not yet implemented)"
    }
    fn formats(&self) -> Vec<String> {
        vec![]
    }
    fn policies(&self) -> &'static [&'static str] {
        &["default"]
    }
    fn operand_syntax(&self) -> &'static str {
        ""
    }
    fn eval(
        &self,
        _format: &str,
        _policy: Option<&str>,
        _operands: &[String],
    ) -> Result<Evaluation> {
        crate::bail!("fp16mac is not implemented yet")
    }
}
