//! [`image_registry`]: the registry host of a requested image.

/// Docker Hub's canonical registry name in normalised image names.
pub const DOCKER_HUB: &str = "docker.io";

/// The registry (host, with its port if any) of `image`.
///
/// The kubelet sends the normalised image name (`docker.io/library/nginx`,
/// `registry.io:5000/team/app`) and its `Registry` cache key is the text before the first
/// `/` (`parseRegistry`); for such names this returns exactly that text, so a response keyed
/// by it lines up with the kubelet's cache.
///
/// For a name typed by hand it also applies Docker's domain rule, so `nginx` and `foo/bar`
/// give `docker.io`: the first component is a registry only if it contains `.` or `:`, is
/// `localhost`, or has an upper-case letter. `index.docker.io` becomes `docker.io`.
///
/// ```
/// use kcred_plugin::image_registry;
/// assert_eq!(image_registry("registry.io:5000/team/app"), "registry.io:5000");
/// assert_eq!(image_registry("docker.io/library/nginx"), "docker.io");
/// assert_eq!(image_registry("nginx"), "docker.io");
/// assert_eq!(image_registry("localhost/app"), "localhost");
/// ```
pub fn image_registry(image: &str) -> &str {
    let Some((first, _)) = image.split_once('/') else {
        return DOCKER_HUB;
    };
    let is_domain = first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase());
    match first {
        _ if !is_domain => DOCKER_HUB,
        "index.docker.io" => DOCKER_HUB,
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalised_names_give_the_text_before_the_first_slash() {
        for (image, registry) in [
            ("docker.io/library/nginx", "docker.io"),
            ("registry.io/a/b/c", "registry.io"),
            ("registry.io:5000/a", "registry.io:5000"),
            ("[::1]:5000/a", "[::1]:5000"),
            ("localhost/app", "localhost"),
            ("localhost:5000/app", "localhost:5000"),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            ("Registry/app", "Registry"),
        ] {
            assert_eq!(image_registry(image), registry, "{image}");
        }
    }

    #[test]
    fn docker_hub_short_forms() {
        for image in [
            "nginx",
            "nginx:1.2",
            "foo/bar",
            "index.docker.io/foo/bar",
            "library/nginx@sha256:x",
        ] {
            assert_eq!(image_registry(image), DOCKER_HUB, "{image}");
        }
    }

    #[test]
    fn a_host_containing_the_registry_name_is_a_different_registry() {
        assert_eq!(
            image_registry("registry.io.evil.com/app"),
            "registry.io.evil.com"
        );
        assert_eq!(
            image_registry("docker.io.evil.com/library/nginx"),
            "docker.io.evil.com"
        );
    }

    proptest! {
        #[test]
        fn result_is_a_prefix_or_docker_hub(image in "\\PC{0,40}") {
            let r = image_registry(&image);
            let prefix = format!("{r}/");
            prop_assert!(r == DOCKER_HUB || image.starts_with(&prefix), "{:?} -> {:?}", image, r);
            prop_assert!(!r.contains('/'));
        }
    }
}
