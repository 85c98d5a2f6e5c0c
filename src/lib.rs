//! hookbus as a library: the process entry points the CLI runs and the end-to-end tests start
//! in-process on port 0.
pub mod app;
pub mod live_worker;
pub mod telemetry;
