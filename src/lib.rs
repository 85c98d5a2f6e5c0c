//! hookbus as a library: the process entry points the CLI runs and the end-to-end tests start
//! in-process on port 0.
pub mod app;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ops;
pub mod telemetry;
