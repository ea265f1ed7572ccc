//! Integration tests of `kcred-config`, one test binary (each module was a test binary of its
//! own; one binary links once).

mod conformance_config;
mod kubelet_versions;
mod lint;
mod load;
mod proptest_config;
mod special_files;
