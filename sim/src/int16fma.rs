//! Placeholder: the int16fma reference model is being written.

use crate::error::Result;
use crate::pe::{Evaluation, PeModel};

/// The int16fma PE in the registry.
pub struct Int16FmaPe;

impl PeModel for Int16FmaPe {
    fn id(&self) -> &'static str {
        "int16fma"
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
        crate::bail!("int16fma is not implemented yet")
    }
}
