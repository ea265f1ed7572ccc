//! Integration tests of `kcred-host`, one test binary (each module was a test binary of its
//! own; one binary links once).

mod cache_conformance;
mod common;
mod exec_behaviour;
mod faults;
mod host;
mod kubelet_versions;
mod properties;
mod provide_conformance;
