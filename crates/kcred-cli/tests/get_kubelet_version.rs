//! `kcred get --kubelet-version`: provider order and metric names follow the kubelet.

mod get_support;

use get_support::{provider, Fixture, Plugin};

fn fixture() -> Fixture {
    let f = Fixture::new();
    f.plugin("zeta", Plugin::Test)
        .plugin("alpha", Plugin::Test)
        .config(&[
            provider("zeta", &["r.io"], &["--mode", "fail"], ""),
            provider("alpha", &["r.io"], &["--auth", "r.io=a:a"], ""),
        ]);
    f
}

#[test]
fn before_1_33_providers_run_sorted_by_name_with_the_old_metric_names() {
    let f = fixture();
    let run = f.get("r.io/app", &["--kubelet-version", "1.32", "--metrics"]);
    assert_eq!(run.code, 1, "zeta fails: {run:?}");
    let alpha = run.stdout.find("provider \"alpha\"").expect("alpha shown");
    let zeta = run.stdout.find("provider \"zeta\"").expect("zeta shown");
    assert!(alpha < zeta, "sorted by name:\n{}", run.stdout);
    assert!(
        run.stderr
            .contains("kubelet_credential_provider_plugin_errors{plugin_name=\"zeta\"} 1"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("config_info"), "{}", run.stderr);
}

#[test]
fn from_1_33_providers_run_in_config_order() {
    let f = fixture();
    let run = f.get("r.io/app", &["--kubelet-version", "1.34", "--metrics"]);
    assert_eq!(run.code, 1, "{run:?}");
    let alpha = run.stdout.find("provider \"alpha\"").expect("alpha shown");
    let zeta = run.stdout.find("provider \"zeta\"").expect("zeta shown");
    assert!(zeta < alpha, "config order:\n{}", run.stdout);
    assert!(
        run.stderr
            .contains("kubelet_credential_provider_plugin_errors_total{plugin_name=\"zeta\"} 1"),
        "{}",
        run.stderr
    );
}
