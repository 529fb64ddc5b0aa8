//! Tokens and the login flow: where secrets are kept (`store`, `keyring`, `file`) and how a
//! browser consent turns into an `auth_code` (`login`).

pub(crate) mod file;
pub(crate) mod keyring;
pub(crate) mod login;
pub(crate) mod store;
pub(crate) mod token;

pub(crate) use store::{Location, SecretStore, StoreError};
pub(crate) use token::StoredToken;
