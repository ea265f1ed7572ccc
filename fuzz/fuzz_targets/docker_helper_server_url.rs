//! The server URL a docker client sends to `docker-credential-kcred get`. An accepted URL
//! yields an image the kubelet's parser accepts, in the registry it names.
#![no_main]

use kcred_docker_helper::RegistryQuery;
use kcred_match::image::ImageRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    match RegistryQuery::parse(&s) {
        Err(e) => {
            let _ = e.to_string();
        }
        Ok(q) => {
            let image = ImageRef::parse(q.image()).expect("the query's image parses");
            assert_eq!(image.name(), q.image(), "the query's image is normalised");
            assert_eq!(image.registry(), q.registry());
        }
    }
});
