//! hookbus's additions to the jq language: definitions that make jaq's builtins behave as jq's do
//! (`prelude.jq`), and the mapping helpers (`helpers.jq` and the native filters below).
use jaq_core::load::parse::Def;

/// jq source of the fidelity fixes; parsed once per compiled program.
const PRELUDE: &str = include_str!("prelude.jq");

/// The definitions, in the order they must be loaded (after jaq's own, which they override).
pub(crate) fn defs() -> impl Iterator<Item = Def<&'static str>> {
    // The sources are part of the crate and covered by tests: failing to parse is a build defect.
    jaq_core::load::parse(PRELUDE, |p| p.defs()).expect("prelude.jq parses").into_iter()
}
