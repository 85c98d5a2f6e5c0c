//! Helpers shared by the top-level integration tests. Each test binary includes this with `mod support;`
//! and uses only part of it.
#![allow(dead_code)]

pub mod bus;
pub mod receiver;
pub mod schema;
pub mod yaml;
