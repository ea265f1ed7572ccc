//! Integration tests of `kcred-match`, one test binary (each module was a test binary of its
//! own; one binary links once).

mod conformance_filepath;
mod conformance_keyring;
mod conformance_match;
mod conformance_url_variants;
mod image_normalization;
mod keyring_behaviour;
mod properties;
mod url_errors_and_hostile_inputs;
mod url_variant_properties;
