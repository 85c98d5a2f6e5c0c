//! Error type shared by compilation and execution.
//!
//! Kept free of jaq types on purpose: callers (worker, CLI, config validation)
//! only need to log, count by [`MappingError::code`] and show positions, and
//! should not have to depend on the jaq crates to do so.

use std::fmt;

/// Which of the two programs of a [`crate::Mapping`] an error comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The `filter` program (decides whether an event is delivered).
    Filter,
    /// The `transform` program (computes the delivered body).
    Transform,
    /// A `{{ jq }}` expression in a templated target URL or header value.
    Template,
}

impl Program {
    /// Lower-case name, as used in configuration files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filter => "filter",
            Self::Transform => "transform",
            Self::Template => "template",
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong when compiling or applying a [`crate::Mapping`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Parse or compile error, with which program (filter|transform), 1-based
    /// line and column of the error position, and a message that quotes the
    /// offending token.
    ///
    /// The column counts Unicode scalar values (not bytes), so it matches what
    /// an editor shows for non-ASCII programs. When jaq reports several errors
    /// only the first is positioned; the message says how many more there are.
    #[error("{program} does not compile: line {line}, column {column}: {message}")]
    Compile {
        /// The program that failed to compile.
        program: Program,
        /// 1-based line of the error position.
        line: usize,
        /// 1-based column (in characters) of the error position.
        column: usize,
        /// Human-readable description, quoting the offending token.
        message: String,
    },
    /// Runtime error (e.g. `error("x")`, indexing a number), with the program
    /// and jq's message.
    #[error("{program} failed: {message}")]
    Runtime {
        /// The program that failed.
        program: Program,
        /// The error text produced by jaq (string errors are not JSON-quoted).
        message: String,
    },
    /// Transform produced no output or more than one.
    ///
    /// `outputs` saturates at [`crate::CARDINALITY_COUNT_LIMIT`]: counting
    /// stops there so that an endless generator still yields an error.
    #[error("transform must produce exactly one output, produced {outputs}")]
    Cardinality {
        /// Number of outputs seen (0, or 2 up to the count limit).
        outputs: usize,
    },
    /// A fanning-out transform ([`crate::Mapping::apply_all`]) produced more outputs than allowed.
    #[error("transform produced more than {max} outputs (the subscription's max_outputs); nothing was delivered")]
    TooManyOutputs {
        /// The limit that was exceeded.
        max: usize,
    },
}

impl MappingError {
    /// Stable machine-readable code, for metrics labels, API error bodies and
    /// dead-letter reasons.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Compile { .. } => "mapping_compile_error",
            Self::Runtime { .. } => "mapping_runtime_error",
            Self::Cardinality { .. } => "mapping_cardinality_error",
            Self::TooManyOutputs { .. } => "mapping_too_many_outputs",
        }
    }
}
