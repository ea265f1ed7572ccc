//! Image references (`reference.ParseNormalizedNamed`). Normalising is idempotent: the
//! normalised name parses to itself.
#![no_main]

use kcred_match::image::{normalize_image, ImageRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let parsed = ImageRef::parse(&s);
    assert_eq!(
        normalize_image(&s).ok(),
        parsed.as_ref().ok().map(|r| r.name().to_owned()),
        "normalize_image agrees with ImageRef::parse"
    );
    if let Ok(r) = parsed {
        let _ = (r.registry(), r.tag(), r.digest());
        let again = ImageRef::parse(r.name()).expect("a normalised name parses");
        assert_eq!(again.name(), r.name(), "normalising is idempotent");
    }
});
