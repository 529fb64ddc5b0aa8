//! Tokens and the login flow: where secrets are kept (`store`, `keyring`, `file`) and how a
//! browser consent turns into an `auth_code` (`login`).

pub mod file;
pub mod keyring;
pub mod login;
pub mod store;
pub mod token;

pub use store::{Location, SecretStore, StoreError};
pub use token::StoredToken;
