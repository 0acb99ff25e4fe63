//! Placeholder: the lmul reference model is being written.

use crate::error::Result;
use crate::pe::{Evaluation, PeModel};

/// The lmul PE in the registry.
pub struct LMulPe;

impl PeModel for LMulPe {
    fn id(&self) -> &'static str {
        "lmul"
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
        crate::bail!("lmul is not implemented yet")
    }
}
