//! Go durations (`time.ParseDuration`). Round trip: `Duration.String()` parses back to the
//! same value.
#![no_main]

use kcred_api::GoDuration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from_bytes = GoDuration::parse_bytes(data);
    if let Ok(s) = std::str::from_utf8(data) {
        assert_eq!(GoDuration::parse(s), from_bytes, "str and bytes parsers agree");
    }
    if let Ok(d) = from_bytes {
        let text = d.to_string();
        assert_eq!(GoDuration::parse(&text), Ok(d), "round trip of {text}");
    }
});
