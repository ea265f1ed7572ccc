//! Go's `filepath.Match(pattern, name)`; input is `pattern NUL name`. A pattern without
//! metacharacters matches exactly itself.
#![no_main]

use kcred_fuzz::split_pair;
use kcred_match::glob::go_filepath_match;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (pattern, name) = split_pair(data);
    let _ = go_filepath_match(&pattern, &name);
    if !pattern.contains(['*', '?', '[', '\\']) {
        assert_eq!(go_filepath_match(&pattern, &name), Ok(pattern == name));
    }
});
