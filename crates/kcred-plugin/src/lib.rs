//! SDK for credential provider plugins written in Rust.
