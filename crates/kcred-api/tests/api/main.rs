//! Integration tests of `kcred-api`, one test binary (each module was a test binary of its
//! own; one binary links once).

mod config_cases;
mod config_decode;
mod go_duration_cases;
mod gostr_properties;
mod proptests;
mod response_cases;
mod response_checks;
mod yaml_limits;
