//! `load_path` on real directories: which entries count, their order, the messages.

use std::path::{Path, PathBuf};

use kcred_config::load::config_hash;
use kcred_config::{load_files, load_path, LoadError};

fn config(name: &str) -> String {
    format!(
        "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: {name}\n    matchImages: [\"{name}.registry.io\"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
    )
}

fn names(path: &Path) -> Vec<String> {
    load_path(path)
        .unwrap_or_else(|e| panic!("load {}: {e}", path.display()))
        .providers
        .into_iter()
        .map(|p| p.name)
        .collect()
}

fn write(dir: &Path, file: &str, content: &str) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(&p, content).expect("write");
    p
}

#[test]
fn directory_entries_filtered_and_sorted_by_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write(d, "b.yaml", &config("b"));
    write(d, "a.json", &config("a"));
    write(d, "B.yml", &config("upper-b"));
    write(d, ".hidden.yaml", &config("hidden"));
    write(d, "c.YAML", &config("wrong-case"));
    write(d, "d.yaml.bak", &config("backup"));
    write(d, "notes.txt", "not a config");
    std::fs::create_dir(d.join("sub.yaml")).expect("mkdir");
    write(&d.join("sub.yaml"), "x.yaml", &config("nested"));
    // Byte order: '.' (0x2e) < 'B' (0x42) < 'a' (0x61) < 'b'.
    assert_eq!(names(d), vec!["hidden", "upper-b", "a", "b"]);

    let loaded = load_path(d).expect("load");
    let file_names: Vec<String> = loaded
        .files
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        file_names,
        vec![".hidden.yaml", "B.yml", "a.json", "b.yaml"]
    );
    // The hash covers exactly the files read, in order.
    let contents: Vec<Vec<u8>> = loaded
        .files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    assert_eq!(
        loaded.hash,
        config_hash(contents.iter().map(|c| c.as_slice()))
    );
}

#[cfg(unix)]
#[test]
fn symlinks_count_as_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let real = tempfile::tempdir().expect("tempdir");
    let target = write(real.path(), "target.conf", &config("linked"));
    std::os::unix::fs::symlink(&target, tmp.path().join("link.yaml")).expect("symlink");
    assert_eq!(names(tmp.path()), vec!["linked"]);

    // A symlink to a directory is not a directory entry, so it is read, and fails.
    std::os::unix::fs::symlink(real.path(), tmp.path().join("z.yaml")).expect("symlink");
    let err = load_path(tmp.path()).expect_err("dir symlink");
    let want = format!(
        "unable to read file \"{0}/z.yaml\": read {0}/z.yaml: is a directory",
        tmp.path().display()
    );
    assert_eq!(err.to_string(), want);
}

#[test]
fn a_file_path_needs_no_extension() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = write(tmp.path(), "credential-config", &config("plain"));
    assert_eq!(names(&f), vec!["plain"]);
}

#[test]
fn directory_path_is_cleaned_in_messages_and_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "a.yaml", "kind: [");
    let dir_with_slashes = PathBuf::from(format!("{}//./", tmp.path().display()));
    let err = load_path(&dir_with_slashes).expect_err("bad yaml");
    let msg = err.to_string();
    let prefix = format!(
        "error decoding config \"{}/a.yaml\": ",
        tmp.path().display()
    );
    assert!(msg.starts_with(&prefix), "{msg}");
    assert!(matches!(err, LoadError::Decode { .. }));
}

#[test]
fn empty_directory_message_quotes_the_path_as_given() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = load_path(tmp.path()).expect_err("empty");
    assert_eq!(
        err.to_string(),
        format!(
            "no configuration files found in directory \"{}\"",
            tmp.path().display()
        )
    );
}

#[test]
fn duplicate_names_within_one_file() {
    let doc = "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/v1\nproviders:\n  - name: x\n    matchImages: [a.io]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n  - name: x\n    matchImages: [b.io]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n";
    let err = load_files(vec![(PathBuf::from("c.yaml"), doc.as_bytes().to_vec())])
        .expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "duplicate provider name \"x\" found in configuration file(s)"
    );
}

#[test]
fn load_files_matches_load_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = write(tmp.path(), "1.yaml", &config("one"));
    let b = write(tmp.path(), "2.json", &config("two"));
    let from_disk = load_path(tmp.path()).expect("load_path");
    let in_memory = load_files(vec![
        (a.clone(), std::fs::read(&a).expect("read")),
        (b.clone(), std::fs::read(&b).expect("read")),
    ])
    .expect("load_files");
    assert_eq!(from_disk, in_memory);
}

#[test]
fn first_failing_file_is_reported() {
    // Decoding stops at the first bad file even if a later file is also bad.
    let err = load_files(vec![
        (PathBuf::from("a.yaml"), config("ok").into_bytes()),
        (
            PathBuf::from("b.yaml"),
            b"kind: WrongKind\napiVersion: kubelet.config.k8s.io/v1\n".to_vec(),
        ),
        (PathBuf::from("c.yaml"), b"{".to_vec()),
    ])
    .expect_err("bad");
    assert!(
        err.to_string()
            .starts_with("error decoding config \"b.yaml\": "),
        "{err}"
    );
}
