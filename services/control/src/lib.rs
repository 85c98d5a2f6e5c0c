//! hookbus control plane: the admin API, live subscriptions, the event index and the attempt log.
pub mod crypto;
mod error;
pub mod store;

pub use error::{ControlError, Problem};
