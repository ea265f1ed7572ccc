//! docs/kubelet-versions.md shows the version table exactly as the crate holds it.

#[test]
fn docs_render_the_table() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/kubelet-versions.md"
    ))
    .expect("docs/kubelet-versions.md is readable");
    let table = kcred_kubelet::render_markdown_table();
    assert!(
        docs.contains(&table),
        "docs/kubelet-versions.md is out of date; paste the output of \
         `cargo run -p kcred-kubelet --example render_table`:\n{table}"
    );
}
