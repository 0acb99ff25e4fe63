//! Placeholder: the fpmul reference model is being written.

use crate::error::Result;
use crate::pe::{Evaluation, PeModel};

/// The fpmul PE in the registry.
pub struct FpMulPe;

impl PeModel for FpMulPe {
    fn id(&self) -> &'static str {
        "fpmul"
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
        crate::bail!("fpmul is not implemented yet")
    }
}
