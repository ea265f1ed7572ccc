//! JSON the way Go's `encoding/json` reads and writes it.
//!
//! - [`parse`] checks a document exactly like `encoding/json`'s scanner (same grammar, same
//!   `invalid character 'x' looking for beginning of value` messages, same 10000-level
//!   nesting limit) and decodes strings like Go (invalid UTF-8 and unpaired surrogates
//!   become U+FFFD instead of failing). The result keeps object keys in document order
//!   and keeps duplicate keys, so strict decoding can report them.
//! - [`JsonWriter`] writes compact JSON with Go's string escaping
//!   ([`crate::gostr::push_json_string`]: `<`, `>`, `&`, U+2028 and U+2029 are escaped, as
//!   `json.Encoder` does by default).

use std::fmt;

use crate::gostr::{json_quote_char, push_json_string};

/// Go's `maxNestingDepth`.
const MAX_NESTING_DEPTH: usize = 10_000;

/// A parsed JSON value. Objects keep their entries in order, duplicates included.
#[derive(Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object: `(key, value)` in document order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// How Go's type errors name this kind of JSON value ("string", "number", ...).
    pub fn go_kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

impl Drop for Value {
    /// Drops nested values iteratively so a deeply nested document cannot overflow the stack.
    fn drop(&mut self) {
        let mut pending: Vec<Value> = Vec::new();
        take_children(self, &mut pending);
        while let Some(mut value) = pending.pop() {
            take_children(&mut value, &mut pending);
        }
    }
}

/// Moves the children of a container into `out`.
fn take_children(value: &mut Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => out.append(items),
        Value::Object(entries) => out.extend(entries.drain(..).map(|(_, v)| v)),
        _ => {}
    }
}

/// A JSON syntax error, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    msg: String,
}

impl SyntaxError {
    fn invalid_char(c: u8, context: &str) -> Self {
        SyntaxError {
            msg: format!("invalid character {} {context}", json_quote_char(c)),
        }
    }

    fn unexpected_end() -> Self {
        SyntaxError {
            msg: "unexpected end of JSON input".to_owned(),
        }
    }
}

impl std::error::Error for SyntaxError {}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else), as Go's
/// `json.Unmarshal` checks it before decoding.
pub fn parse(data: &[u8]) -> Result<Value, SyntaxError> {
    Parser { data, pos: 0 }.document()
}

/// An open container while parsing.
enum Frame {
    Array(Vec<Value>),
    /// Entries so far and the key whose value is being parsed.
    Object(Vec<(String, Value)>, String),
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
}

/// What to do after a value was completed inside a container.
enum Next {
    /// Parse another value (array element or object value).
    Value,
    /// The innermost container was closed.
    Close,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Skips JSON whitespace (space, tab, CR, LF).
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// The error for the byte at the cursor in `context`; at the end of input Go feeds
    /// the scanner a space, so partial literals fail on `' '`.
    fn err_here(&self, context: &str) -> SyntaxError {
        SyntaxError::invalid_char(self.peek().unwrap_or(b' '), context)
    }

    fn document(mut self) -> Result<Value, SyntaxError> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            self.skip_ws();
            let c = self.peek().ok_or_else(SyntaxError::unexpected_end)?;
            let mut value = match c {
                b'{' | b'[' => {
                    if stack.len() >= MAX_NESTING_DEPTH {
                        return Err(SyntaxError::invalid_char(c, "exceeded max depth"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if c == b'{' {
                        match self.peek() {
                            None => return Err(SyntaxError::unexpected_end()),
                            Some(b'}') => {
                                self.pos += 1;
                                Value::Object(Vec::new())
                            }
                            Some(b'"') => {
                                let key = self.key()?;
                                stack.push(Frame::Object(Vec::new(), key));
                                continue 'value;
                            }
                            Some(_) => {
                                return Err(
                                    self.err_here("looking for beginning of object key string")
                                )
                            }
                        }
                    } else {
                        match self.peek() {
                            None => return Err(SyntaxError::unexpected_end()),
                            Some(b']') => {
                                self.pos += 1;
                                Value::Array(Vec::new())
                            }
                            Some(_) => {
                                stack.push(Frame::Array(Vec::new()));
                                continue 'value;
                            }
                        }
                    }
                }
                b'"' => Value::String(self.string()?),
                b'-' | b'0'..=b'9' => Value::Number(self.number()?),
                b't' => {
                    self.literal(b"true")?;
                    Value::Bool(true)
                }
                b'f' => {
                    self.literal(b"false")?;
                    Value::Bool(false)
                }
                b'n' => {
                    self.literal(b"null")?;
                    Value::Null
                }
                _ => return Err(self.err_here("looking for beginning of value")),
            };
            // Attach the finished value, closing containers as long as they end here.
            loop {
                let next = match stack.last_mut() {
                    None => {
                        self.skip_ws();
                        if self.peek().is_some() {
                            return Err(self.err_here("after top-level value"));
                        }
                        return Ok(value);
                    }
                    Some(Frame::Array(items)) => {
                        items.push(value);
                        self.skip_ws();
                        match self.peek() {
                            None => return Err(SyntaxError::unexpected_end()),
                            Some(b',') => {
                                self.pos += 1;
                                Next::Value
                            }
                            Some(b']') => {
                                self.pos += 1;
                                Next::Close
                            }
                            Some(_) => return Err(self.err_here("after array element")),
                        }
                    }
                    Some(Frame::Object(entries, key)) => {
                        entries.push((std::mem::take(key), value));
                        self.skip_ws();
                        match self.peek() {
                            None => return Err(SyntaxError::unexpected_end()),
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                match self.peek() {
                                    None => return Err(SyntaxError::unexpected_end()),
                                    Some(b'"') => *key = self.key()?,
                                    Some(_) => {
                                        return Err(self.err_here(
                                            "looking for beginning of object key string",
                                        ))
                                    }
                                }
                                Next::Value
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                Next::Close
                            }
                            Some(_) => return Err(self.err_here("after object key:value pair")),
                        }
                    }
                };
                match next {
                    Next::Value => continue 'value,
                    Next::Close => {
                        value = match stack.pop() {
                            Some(Frame::Array(items)) => Value::Array(items),
                            Some(Frame::Object(entries, _)) => Value::Object(entries),
                            None => return Err(SyntaxError::unexpected_end()),
                        };
                    }
                }
            }
        }
    }

    /// An object key and the `:` after it.
    fn key(&mut self) -> Result<String, SyntaxError> {
        let key = self.string()?;
        self.skip_ws();
        match self.peek() {
            None => Err(SyntaxError::unexpected_end()),
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            Some(_) => Err(self.err_here("after object key")),
        }
    }

    /// A string literal starting at the opening quote.
    fn string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(SyntaxError::unexpected_end()),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(h) if h.is_ascii_hexdigit() => self.pos += 1,
                                    _ => {
                                        return Err(
                                            self.err_here("in \\u hexadecimal character escape")
                                        )
                                    }
                                }
                            }
                        }
                        _ => return Err(self.err_here("in string escape code")),
                    }
                }
                Some(c) if c < 0x20 => return Err(self.err_here("in string literal")),
                Some(_) => self.pos += 1,
            }
        }
        let raw = &self.data[start..self.pos];
        self.pos += 1;
        Ok(unquote(raw))
    }

    /// A number; returns its text.
    fn number(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err_here("in numeric literal"));
            }
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else {
            self.digits();
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err_here("after decimal point in numeric literal"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err_here("in exponent of numeric literal"));
            }
            self.digits();
        }
        Ok(String::from_utf8_lossy(&self.data[start..self.pos]).into_owned())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// `true`, `false` or `null`; the first byte is already known to match.
    fn literal(&mut self, word: &'static [u8]) -> Result<(), SyntaxError> {
        let name = String::from_utf8_lossy(word);
        self.pos += 1;
        for &expected in &word[1..] {
            if self.peek() != Some(expected) {
                return Err(self.err_here(&format!(
                    "in literal {name} (expecting {})",
                    json_quote_char(expected)
                )));
            }
            self.pos += 1;
        }
        Ok(())
    }
}

/// Go's `unquote` for a scanned string body: escapes decoded; invalid UTF-8 bytes and
/// unpaired UTF-16 surrogates become U+FFFD.
fn unquote(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let run_end = raw[i..]
            .iter()
            .position(|&b| b == b'\\')
            .map_or(raw.len(), |p| i + p);
        push_lossy_go(&mut out, &raw[i..run_end]);
        i = run_end;
        if i >= raw.len() {
            break;
        }
        // raw[i] is a backslash; the scanner validated the escape.
        let escape = raw.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        match escape {
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let first = hex4(raw.get(i..i + 4));
                i += 4;
                match first {
                    Some(r) if (0xD800..0xE000).contains(&r) => {
                        // A surrogate: combine with a following \uXXXX low surrogate if any.
                        let second = if raw.get(i..i + 2) == Some(b"\\u") {
                            hex4(raw.get(i + 2..i + 6))
                        } else {
                            None
                        };
                        match second {
                            Some(lo)
                                if (0xD800..0xDC00).contains(&r)
                                    && (0xDC00..0xE000).contains(&lo) =>
                            {
                                let combined = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
                                out.push(char::from_u32(combined).unwrap_or('\u{FFFD}'));
                                i += 6;
                            }
                            _ => out.push('\u{FFFD}'),
                        }
                    }
                    Some(r) => out.push(char::from_u32(r).unwrap_or('\u{FFFD}')),
                    None => out.push('\u{FFFD}'),
                }
            }
            other => out.push(char::from(other)),
        }
    }
    out
}

/// Appends bytes as text the way Go coerces strings: one U+FFFD per invalid byte.
fn push_lossy_go(out: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
}

/// Four hex digits.
fn hex4(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Compact JSON output with Go `encoding/json` string escaping, as `json.Marshal` writes a
/// struct of strings (HTML escaping on, see [`crate::gostr::push_json_string`]).
///
/// ```
/// use kcred_api::go::json::JsonWriter;
/// let mut w = JsonWriter::new();
/// w.begin_object();
/// w.field_str("a", "<b>");
/// w.end_object();
/// assert_eq!(w.finish(), r#"{"a":"\u003cb\u003e"}"#);
/// ```
#[derive(Debug, Default)]
pub struct JsonWriter {
    out: String,
    /// Per open container: whether a member was written already.
    needs_comma: Vec<bool>,
}

impl JsonWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    fn before_value(&mut self) {
        if let Some(needs) = self.needs_comma.last_mut() {
            if *needs {
                self.out.push(',');
            }
            *needs = true;
        }
    }

    /// `{`
    pub fn begin_object(&mut self) {
        self.before_value();
        self.out.push('{');
        self.needs_comma.push(false);
    }

    /// `}`
    pub fn end_object(&mut self) {
        self.needs_comma.pop();
        self.out.push('}');
    }

    /// `[`
    pub fn begin_array(&mut self) {
        self.before_value();
        self.out.push('[');
        self.needs_comma.push(false);
    }

    /// `]`
    pub fn end_array(&mut self) {
        self.needs_comma.pop();
        self.out.push(']');
    }

    /// An object key; exactly one value must follow.
    pub fn key(&mut self, key: &str) {
        self.before_value();
        push_json_string(&mut self.out, key);
        self.out.push(':');
        // The value that follows must not get a comma; writing it marks the member again.
        if let Some(needs) = self.needs_comma.last_mut() {
            *needs = false;
        }
    }

    /// A string value.
    pub fn string(&mut self, value: &str) {
        self.before_value();
        push_json_string(&mut self.out, value);
    }

    /// `null`
    pub fn null(&mut self) {
        self.before_value();
        self.out.push_str("null");
    }

    /// A boolean value.
    pub fn bool(&mut self, value: bool) {
        self.before_value();
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// `"key":"value"`
    pub fn field_str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
    }

    /// `"key":["a","b"]`
    pub fn field_str_array(&mut self, key: &str, values: &[String]) {
        self.key(key);
        self.begin_array();
        for v in values {
            self.string(v);
        }
        self.end_array();
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> String {
        parse(input.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn parses_documents_keeping_order_and_duplicates() {
        let v = parse(br#" {"b":1,"a":[true,null,"x"],"b":-2.5e3} "#).unwrap();
        let Value::Object(entries) = &v else {
            panic!("not an object")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        assert_eq!(entries[2].1, Value::Number("-2.5e3".into()));
        assert_eq!(parse(b"[]").unwrap(), Value::Array(vec![]));
        assert_eq!(parse(b"{}").unwrap(), Value::Object(vec![]));
    }

    #[test]
    fn syntax_errors_match_go() {
        assert_eq!(err(""), "unexpected end of JSON input");
        assert_eq!(err("{"), "unexpected end of JSON input");
        assert_eq!(
            err("kind: x"),
            "invalid character 'k' looking for beginning of value"
        );
        assert_eq!(err("{} x"), "invalid character 'x' after top-level value");
        assert_eq!(err("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(
            err("{\"a\":1 \"b\"}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(err("[1 2]"), "invalid character '2' after array element");
        assert_eq!(
            err("{1:2}"),
            "invalid character '1' looking for beginning of object key string"
        );
        assert_eq!(err("-"), "invalid character ' ' in numeric literal");
        assert_eq!(err("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(
            err("1."),
            "invalid character ' ' after decimal point in numeric literal"
        );
        assert_eq!(
            err("1e+"),
            "invalid character ' ' in exponent of numeric literal"
        );
        assert_eq!(err("01"), "invalid character '1' after top-level value");
        assert_eq!(
            err("tru"),
            "invalid character ' ' in literal true (expecting 'e')"
        );
        assert_eq!(
            err("nul!"),
            "invalid character '!' in literal null (expecting 'l')"
        );
        assert_eq!(err("\"a\tb\""), "invalid character '\\t' in string literal");
        assert_eq!(
            err("\"\\x\""),
            "invalid character 'x' in string escape code"
        );
        assert_eq!(
            err("\"\\u12g4\""),
            "invalid character 'g' in \\u hexadecimal character escape"
        );
        assert_eq!(
            err("\u{feff}{}"),
            "invalid character 'ï' looking for beginning of value"
        );
    }

    #[test]
    fn nesting_limit_matches_go() {
        let ok = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = "[".repeat(10_001) + &"]".repeat(10_001);
        assert_eq!(err(&deep), "invalid character '[' exceeded max depth");
    }

    #[test]
    fn strings_are_coerced_like_go() {
        let v = parse(b"\"a\\u00e9\\ud83d\\ude00\\ud800x\\udc00\xff\xf0\x9f\x98\"").unwrap();
        assert_eq!(
            v,
            Value::String("aé😀\u{FFFD}x\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}".into())
        );
        // A high surrogate followed by another high surrogate: the second one is decoded alone.
        let v = parse(br#""\ud800\ud800\udc00""#).unwrap();
        assert_eq!(v, Value::String("\u{FFFD}\u{10000}".into()));
    }

    #[test]
    fn writer_builds_compact_json() {
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field_str("a", "1");
        w.field_str_array("b", &["x".to_owned(), "y".to_owned()]);
        w.key("c");
        w.begin_object();
        w.field_str("d", "2");
        w.end_object();
        w.key("e");
        w.bool(true);
        w.end_object();
        assert_eq!(
            w.finish(),
            r#"{"a":"1","b":["x","y"],"c":{"d":"2"},"e":true}"#
        );
    }
}
