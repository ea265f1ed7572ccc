//! `matchImages` entries against images (`URLsMatchStr`); input is `pattern NUL image`.
//! The parsed matcher agrees with the one-shot `urls_match_str`, and a literal pattern
//! matches itself.
#![no_main]

use kcred_fuzz::split_pair;
use kcred_match::pattern::{urls_match_str, MatchImage, MatchTarget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (pattern, image) = split_pair(data);
    let parsed = MatchImage::parse(&pattern);
    let target = MatchTarget::parse(&image);
    let one_shot = urls_match_str(&pattern, &image);
    if let (Ok(p), Ok(t)) = (&parsed, &target) {
        let matched = p.matches(t);
        let outcome = p.check(t);
        assert_eq!(outcome.is_match(), matched, "check agrees with matches");
        let _ = outcome.to_string();
        assert_eq!(one_shot.as_ref().ok(), Some(&matched), "urls_match_str agrees");
    }
    if let Ok(p) = &parsed {
        if let Ok(t) = MatchTarget::parse(&pattern) {
            if !pattern.contains(['*', '?', '[', '\\']) {
                assert!(p.matches(&t), "literal pattern {pattern:?} matches itself");
            }
        }
    }
});
