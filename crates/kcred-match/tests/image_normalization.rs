//! distribution `ParseNormalizedNamed(..).Name()` as the kubelet uses it (`pkg/credentialprovider/plugin/plugin.go`).

use kcred_match::image::{normalize_image, ImageError, ImageRef};

const SHA: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn normalises_names() {
    let cases = [
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.2", "docker.io/library/nginx"),
        ("foo/bar", "docker.io/foo/bar"),
        ("docker.io/nginx", "docker.io/library/nginx"),
        ("index.docker.io/foo/bar:x", "docker.io/foo/bar"),
        ("index.docker.io/nginx", "docker.io/library/nginx"),
        ("localhost/foo", "localhost/foo"),
        ("localhost:5000/foo:tag", "localhost:5000/foo"),
        ("localhost", "docker.io/library/localhost"),
        ("r.io:5000/a/b:v1", "r.io:5000/a/b"),
        // No '/': "r.io" is a Docker Hub repository and "5000" its tag.
        ("r.io:5000", "docker.io/library/r.io"),
        ("Registry.IO/a", "Registry.IO/a"),
        ("UPPER/a", "UPPER/a"),
        ("[::1]:5000/app", "[::1]:5000/app"),
        ("my_host.com/app", "my_host.com/app"),
        ("a--b__c.d/e-f_g", "a--b__c.d/e-f_g"),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
        ),
    ];
    for (input, name) in cases {
        assert_eq!(normalize_image(input).as_deref(), Ok(name), "{input}");
    }
    let with_digest = format!("r.io:5000/a/b@{SHA}");
    assert_eq!(
        normalize_image(&with_digest).as_deref(),
        Ok("r.io:5000/a/b")
    );
}

#[test]
fn accessors() {
    let r = ImageRef::parse(&format!("gcr.io/p/app:v2@{SHA}")).expect("valid");
    assert_eq!(r.name(), "gcr.io/p/app");
    assert_eq!(r.registry(), "gcr.io");
    assert_eq!(r.tag(), Some("v2"));
    assert_eq!(r.digest(), Some(SHA));
    assert_eq!(r.to_string(), format!("gcr.io/p/app:v2@{SHA}"));
    let r = ImageRef::parse("busybox").expect("valid");
    assert_eq!(
        (r.registry(), r.tag(), r.digest()),
        ("docker.io", None, None)
    );
    let r = ImageRef::parse("localhost:5000/x").expect("valid");
    assert_eq!(r.registry(), "localhost:5000");
}

#[test]
fn error_texts() {
    let err = |s: &str| ImageRef::parse(s).expect_err(s).to_string();
    assert_eq!(
        err("Nginx"),
        "invalid reference format: repository name (library/Nginx) must be lowercase"
    );
    assert_eq!(
        err("r.io/Foo/bar:TAG"),
        "invalid reference format: repository name (Foo/bar) must be lowercase"
    );
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(
        err(hex),
        format!("invalid repository name ({hex}), cannot specify 64-byte hexadecimal strings")
    );
    for bad in [
        "",
        ":tag",
        "a/",
        "/a",
        "a//b",
        "a:",
        "a@",
        "-a",
        "a b",
        "a:b:c",
        "a@sha256:abc",
    ] {
        assert_eq!(err(bad), "invalid reference format", "{bad:?}");
    }
    assert_eq!(
        err(&format!("r.io/{}", "a".repeat(256))),
        "repository name must not be more than 255 characters"
    );
    assert!(ImageRef::parse(&format!("r.io/{}", "a".repeat(255))).is_ok());
    // 255 counts the path only: the domain is not included.
    assert!(ImageRef::parse(&format!("{}.io/{}", "r".repeat(50), "a".repeat(255))).is_ok());
    assert_eq!(
        err(&format!("a@md5:{}", "0".repeat(32))),
        "unsupported digest algorithm"
    );
    assert_eq!(
        err(&format!("a@sha256:{}", "0".repeat(32))),
        "invalid checksum digest format"
    );
    assert_eq!(
        err(&format!("a@sha256:{}", "A".repeat(64))),
        "invalid checksum digest format"
    );
    // The repository check runs up to the first ':', which here is inside the digest.
    assert_eq!(
        err(&format!("a@SHA256:{}", "a".repeat(64))),
        "invalid reference format: repository name (library/a@SHA256) must be lowercase"
    );
    assert_eq!(
        err(&format!("a:{}", "t".repeat(129))),
        "invalid reference format"
    );
    assert!(ImageRef::parse(&format!("a:{}", "t".repeat(128))).is_ok());
    // Go lowercases the Kelvin sign to ASCII 'k', so it counts as an uppercase letter.
    assert_eq!(
        ImageRef::parse("r.io/\u{212A}"),
        Err(ImageError::RepositoryNotLowercase("\u{212A}".into()))
    );
}

#[test]
fn hostile_references_never_panic() {
    for s in [
        "@@@", "[", "[::1", "::::", "/", "%", "a@b@c", "\u{0}", "é/É", "a:b/c:d",
    ] {
        let _ = ImageRef::parse(s);
    }
    let huge = "a/".repeat(100_000) + "a";
    assert_eq!(ImageRef::parse(&huge), Err(ImageError::NameTooLong));
}
