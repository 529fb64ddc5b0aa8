//! Customer-file audiences as a library (REFERENCE 18): customer IDs normalised and hashed on
//! this machine ([`normalize`]) — raw values never leave it.

pub mod dedup;
pub mod normalize;
pub mod parts;
pub mod prepare;
pub mod status;
pub mod sync;
pub mod wait;
