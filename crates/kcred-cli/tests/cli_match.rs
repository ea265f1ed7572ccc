//! `kcred match`: exit codes, the normalised image, the rule that decided.

mod common;

use common::{kcred, reason};
use serde_json::Value;

#[test]
fn docker_hub_image_is_normalised_before_matching() {
    let run = kcred(&["match", "docker.io", "nginx:1.27"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "image:      nginx:1.27\n\
             normalised: docker.io/library/nginx\n\
             pattern:    docker.io\n\
             result:     match\n\
             reason:     {}\n",
            reason("docker.io", "docker.io/library/nginx")
        )
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn short_name_pattern_does_not_match_normalised_image() {
    let run = kcred(&["match", "nginx", "nginx"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "reason:     {}\n",
            reason("nginx", "docker.io/library/nginx")
        )),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "note:       the kubelet matches the normalised name \"docker.io/library/nginx\""
        ),
        "{run:?}"
    );
    // Dropping only the tag is not worth a note.
    let tagged = kcred(&["match", "*.io", "registry.k8s.io/pause:3.10"]);
    assert_eq!(tagged.code, 1, "{tagged:?}");
    assert!(!tagged.stdout.contains("note:"), "{tagged:?}");
}

#[test]
fn each_rule_is_named() {
    // (pattern, image (already normalised), rule id, label index)
    let cases = [
        ("registry.io:5000", "registry.io/app", "port", None),
        ("registry.io", "registry.io:5000/app", "port", None),
        ("*.io", "k8s.gcr.io/pause", "label-count", None),
        (
            "registry.io/foo",
            "registry.io/bar/app",
            "path-prefix",
            None,
        ),
        ("*.gcr.io", "k8s.gcr.com/x", "label", Some(2)),
        ("Registry.io", "registry.io/app", "label", Some(0)),
        ("a[.io", "a.io/x", "bad-label-pattern", Some(0)),
    ];
    for (pattern, image, rule, label_index) in cases {
        // 1.34.1: the last 1.34 whose Go lets `[` into a host label.
        let run = kcred(&["match", "--kubelet-version", "1.34.1", pattern, image]);
        assert_eq!(run.code, 1, "{pattern} {image}: {run:?}");
        assert!(run.stdout.contains("result:     no match\n"), "{run:?}");
        assert!(
            run.stdout
                .contains(&format!("reason:     {}\n", reason(pattern, image))),
            "{pattern} {image}: {run:?}"
        );
        let json = kcred(&[
            "match",
            pattern,
            image,
            "--output",
            "json",
            "--kubelet-version",
            "1.34.1",
        ]);
        let v: Value = serde_json::from_str(&json.stdout).expect("json");
        assert_eq!(v["rule"], rule, "{pattern} {image}");
        assert_eq!(v["match"], false);
        assert_eq!(v["label_index"].as_u64(), label_index, "{pattern} {image}");
    }
}

#[test]
fn path_is_a_plain_string_prefix() {
    let run = kcred(&["match", "registry.io/foo", "registry.io/foobar"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn lint_warnings_about_the_pattern_go_to_stderr() {
    let run = kcred(&["match", "registry.io/*", "registry.io/team/app"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("warning: matchImages \"registry.io/*\": "),
        "{run:?}"
    );
    assert!(run.stderr.contains("[path-literal-prefix]"), "{run:?}");
}

#[test]
fn invalid_pattern_or_image_exits_2() {
    let run = kcred(&["match", "%invalid%", "nginx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: invalid pattern \"%invalid%\": match image is invalid: parse \"https://%invalid%\": invalid URL escape \"%in\"\n"
    );

    let run = kcred(&["match", "docker.io", "Nginx"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: invalid image \"Nginx\": invalid reference format: repository name (library/Nginx) must be lowercase\n"
    );
}

#[test]
fn json_output() {
    let run = kcred(&[
        "match",
        "*.dkr.ecr.*.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        "--output",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["match"], true);
    assert_eq!(v["rule"], "match");
    assert_eq!(
        v["normalised"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
    );
    assert_eq!(
        v["pattern_parts"]["labels"].as_array().map(Vec::len),
        Some(6)
    );
    assert_eq!(v["image_parts"]["path"], "/app");

    let run = kcred(&["match", "*.gcr.io", "k8s.gcr.com/x", "--output", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["match"], false);
    assert_eq!(v["rule"], "label");
    assert_eq!(v["reason"], reason("*.gcr.io", "k8s.gcr.com/x"));
}

#[test]
fn missing_arguments_are_a_usage_error() {
    let run = kcred(&["match", "docker.io"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("IMAGE"), "{run:?}");
}
