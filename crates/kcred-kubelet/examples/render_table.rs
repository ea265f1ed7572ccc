//! Prints the version table as Markdown (pasted into docs/kubelet-versions.md).
fn main() {
    print!("{}", kcred_kubelet::render_markdown_table());
}
