//! `tests/conformance/go_duration_cases.json`: Go `time.ParseDuration` / `Duration.String`.

use kcred_api::GoDuration;
use serde_json::Value;

fn table() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/go_duration_cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read go_duration_cases.json");
    serde_json::from_str(&text).expect("parse go_duration_cases.json")
}

fn rows<'a>(table: &'a Value, key: &str) -> &'a [Value] {
    table[key]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("missing {key}"))
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

#[test]
fn parse_ok_rows() {
    let table = table();
    let rows = rows(&table, "parse_ok");
    assert_eq!(rows.len(), 42);
    for row in rows {
        let input = row["in"].as_str().expect("in");
        let nanos = row["nanos"].as_i64().expect("nanos");
        assert_eq!(
            GoDuration::parse(input),
            Ok(GoDuration(nanos)),
            "ParseDuration({input:?})"
        );
    }
}

#[test]
fn parse_err_rows() {
    let table = table();
    let rows = rows(&table, "parse_err");
    assert_eq!(rows.len(), 21);
    for row in rows {
        let input = match (row["in"].as_str(), row["in_bytes_hex"].as_str()) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(hex)) => hex_bytes(hex),
            _ => panic!("row without input: {row}"),
        };
        let err =
            GoDuration::parse_bytes(&input).expect_err(&format!("{input:?} must be rejected"));
        // Every message starts like Go's and quotes the whole input.
        let msg = err.to_string();
        assert!(msg.starts_with("time: "), "{msg}");
        if let Ok(text) = std::str::from_utf8(&input) {
            assert_eq!(GoDuration::parse(text), Err(err));
        }
    }
}

#[test]
fn parse_err_messages_follow_go_formats() {
    // The formats given in the table's notes.
    assert_eq!(
        GoDuration::parse("3").unwrap_err().to_string(),
        "time: missing unit in duration \"3\""
    );
    assert_eq!(
        GoDuration::parse("1d").unwrap_err().to_string(),
        "time: unknown unit \"d\" in duration \"1d\""
    );
    assert_eq!(
        GoDuration::parse("-.").unwrap_err().to_string(),
        "time: invalid duration \"-.\""
    );
    assert_eq!(
        GoDuration::parse_bytes(&hex_bytes("8585"))
            .unwrap_err()
            .to_string(),
        "time: invalid duration \"\\x85\\x85\""
    );
    assert_eq!(
        GoDuration::parse("\u{FFFD} hello \u{FFFD} world")
            .unwrap_err()
            .to_string(),
        "time: invalid duration \"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world\""
    );
}

#[test]
fn format_rows() {
    let table = table();
    let rows = rows(&table, "format");
    assert_eq!(rows.len(), 11);
    for row in rows {
        let nanos = row["nanos"].as_i64().expect("nanos");
        let out = row["out"].as_str().expect("out");
        assert_eq!(GoDuration(nanos).to_string(), out, "String({nanos})");
        // Per the table's notes, negating a positive entry prefixes '-'.
        if nanos > 0 {
            assert_eq!(GoDuration(-nanos).to_string(), format!("-{out}"));
        }
        // Every formatted value parses back to itself.
        assert_eq!(GoDuration::parse(out), Ok(GoDuration(nanos)));
    }
}
