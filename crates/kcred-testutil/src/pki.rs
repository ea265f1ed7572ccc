//! A test PKI made by the real `openssl` CLI: EC P-256 CAs and the certificates they sign, as
//! PEM files in a directory, for the loopback TLS servers of the tests.

use std::path::Path;
use std::process::Command;

/// Extensions of a TLS server certificate for `127.0.0.1` (for [`ec_leaf`]).
pub const SERVER_EXT: &str =
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";

/// Runs the `openssl` CLI in `dir`; panics with its stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl req` arguments for a new unencrypted EC P-256 key (`-keyout` follows).
const NEW_EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// `NAME.crt`/`NAME.key`: a self-signed EC P-256 CA named `cn`, valid two days.
pub fn ec_ca(dir: &Path, name: &str, cn: &str) {
    let key = format!("{name}.key");
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &NEW_EC_KEY,
            &[
                "-keyout",
                &key,
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-subj",
                &format!("/CN={cn}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    );
}

/// `NAME.crt`/`NAME.key`: an EC P-256 certificate for `subj` (`/CN=...`), signed by the CA
/// `CA.crt`/`CA.key`, with the X.509 extensions in `ext` (an `openssl x509 -extfile`).
pub fn ec_leaf(dir: &Path, name: &str, subj: &str, ca: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).expect("ext");
    let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
    openssl(
        dir,
        &[
            &["req"][..],
            &NEW_EC_KEY,
            &["-keyout", &key, "-out", &csr, "-subj", subj],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}
