//! YAML documents as JSON values, the way apimachinery's YAML serializer sees them.
//!
//! apimachinery converts YAML with `sigs.k8s.io/yaml` (`go-yaml` v2, YAML 1.1) into JSON
//! before decoding, and runs a second, strict conversion only to find duplicate keys. This
//! module does both in one pass over `serde_yaml_ng` events:
//!
//! - only the first document is read (later ones are ignored, as go-yaml does);
//! - plain scalars resolve as YAML 1.1 does in go-yaml: besides `true`/`false`, the words
//!   `y`, `yes`, `on`, `n`, `no`, `off` (and their capitalised forms) are booleans, and
//!   `0777`, `1_000`, `0X1F` are numbers. Quoted scalars are always strings;
//! - mapping keys become strings like `sigs.k8s.io/yaml` makes them (`1` → `"1"`,
//!   `true` → `"true"`), and each object's keys come out sorted, as Go marshals a map;
//! - a repeated key is reported as go-yaml's strict mode does
//!   (`line 5: key "name" already set in map`; the line is the repeated value's) while
//!   the converted value keeps the last one.
//!
//! Known differences: merge keys (`<<`) are ordinary keys; custom tags on plain scalars do
//! not stop YAML 1.1 resolution; YAML syntax errors carry libyaml's problem text but their
//! line numbers may differ by one from go-yaml's for some parser errors.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use crate::gojson::Value;
use crate::gostr::strconv_quote;

/// A converted YAML document.
#[derive(Debug)]
pub(crate) struct YamlDocument {
    /// The document as JSON (`null` for an empty document).
    pub(crate) value: Value,
    /// go-yaml strict-mode duplicate-key errors, in document order.
    pub(crate) duplicate_keys: Vec<String>,
    /// The nodes converted (keys included; aliases count each time they are expanded).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) nodes: usize,
}

/// Flow-collection nesting beyond which a document is rejected before parsing: libyaml's
/// scanner is quadratic in flow depth, and the deserializer's recursion limit (128) would
/// reject such a document anyway.
const MAX_FLOW_BRACKETS: usize = 1_000;

/// kcred's limit on the nodes of one YAML (or JSON) document: 200,000. A real config has
/// about 15 nodes per provider, so this is far above any; it bounds the decoder's memory,
/// which the parser spends per node (libyaml's events, kept until the document ends, and
/// the converted value) rather than per byte: before this limit a 30 MB flow collection of
/// one-letter scalars took over 2 GB. The kubelet (go-yaml) has no such limit. It is
/// checked twice: before parsing, against an upper bound of the node count computed from
/// the bytes (`potential_nodes`), so the parser never materialises more; and while
/// converting, on the exact count including nodes repeated through aliases.
pub const MAX_YAML_NODES: usize = 200_000;

/// The error for a document over [`MAX_YAML_NODES`].
fn too_many_nodes() -> String {
    format!("yaml: document too large: more than {MAX_YAML_NODES} nodes (kcred's limit)")
}

/// Converts the first YAML document of `input`. The error is the message apimachinery
/// would return from its YAML-to-JSON conversion.
pub(crate) fn yaml_to_json(input: &[u8]) -> Result<YamlDocument, String> {
    if bracket_depth(input) > MAX_FLOW_BRACKETS {
        return Err("yaml: recursion limit exceeded".to_owned());
    }
    if potential_nodes(input) > MAX_YAML_NODES {
        return Err(too_many_nodes());
    }
    let mut ctx = Ctx {
        input,
        line_breaks: line_breaks(input),
        located: Vec::new(),
        duplicate_keys: Vec::new(),
        failure: None,
        nodes: 0,
    };
    let mut documents = serde_yaml_ng::Deserializer::from_slice(input);
    let value = match documents.next() {
        None => Value::Null,
        Some(document) => match (NodeSeed { ctx: &mut ctx }).deserialize(document) {
            Ok(value) => value,
            Err(err) => {
                return Err(ctx
                    .failure
                    .take()
                    .unwrap_or_else(|| yaml_error_message(&err)))
            }
        },
    };
    Ok(YamlDocument {
        value,
        duplicate_keys: ctx.duplicate_keys,
        nodes: ctx.nodes,
    })
}

/// The deepest nesting of `[`/`{` counted over the raw bytes (an upper bound of the
/// document's flow nesting: brackets inside scalars count too).
fn bracket_depth(input: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut max = 0usize;
    for &b in input {
        match b {
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// An upper bound (up to a small constant factor for contrived inputs) of the number of
/// nodes `input` can hold, from its bytes alone. Two for the start (a root collection and
/// its first entry); then every node is introduced by a flow indicator (`,` `[` `{`: at
/// most two nodes each, a collection or an implicit key and its first entry or value), a
/// line break, or a block indicator (`-` `:` `?` followed by white space or the end) —
/// one node each, as a collection opened by a block indicator has its first entry on the
/// same line (`- a: b`) or on the next (counted by the line break); a `!` (a tag, which
/// the converter counts as one more node) counts one. Over-counts (inside
/// scalars and comments) are harmless: a real config stays far below the limit, and
/// the exact count is checked while converting anyway.
fn potential_nodes(input: &[u8]) -> usize {
    let mut count = 2usize;
    for (i, &b) in input.iter().enumerate() {
        count += match b {
            b',' | b'[' | b'{' => 2,
            // A tag (`!t`) makes the converter visit its node twice.
            b'\n' | b'\r' | b'!' => 1,
            b'-' | b':' | b'?' => usize::from(matches!(
                input.get(i + 1),
                None | Some(b' ' | b'\t' | b'\n' | b'\r')
            )),
            _ => 0,
        };
    }
    count
}

/// `yaml: line N: <problem>` from a `serde_yaml_ng` error.
fn yaml_error_message(err: &serde_yaml_ng::Error) -> String {
    let text = err.to_string();
    let problem = text
        .split(" at line ")
        .next()
        .and_then(|p| p.split(" at position ").next())
        .unwrap_or(&text);
    match err.location() {
        Some(location) => format!("yaml: line {}: {problem}", location.line()),
        None => format!("yaml: {problem}"),
    }
}

/// Offsets of the line breaks (`\n`, or a `\r` not followed by `\n`).
fn line_breaks(input: &[u8]) -> Vec<usize> {
    input
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && input.get(i + 1) != Some(&b'\n')))
        .map(|(i, _)| i)
        .collect()
}

/// State shared by the visitors of one document.
struct Ctx<'i> {
    input: &'i [u8],
    /// See [`line_breaks`].
    line_breaks: Vec<usize>,
    /// Byte offsets of the scalars whose position is known, in visiting order.
    located: Vec<usize>,
    duplicate_keys: Vec<String>,
    /// An error raised by this module (kept so its text is not decorated by serde_yaml_ng).
    failure: Option<String>,
    /// Nodes converted so far (aliases count each time they are expanded).
    nodes: usize,
}

impl Ctx<'_> {
    /// Where `s` starts in the input, when it is borrowed from it.
    fn offset_of(&self, s: &str) -> Option<usize> {
        let start = self.input.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        let end = start.checked_add(self.input.len())?;
        if p >= start && p.checked_add(s.len())? <= end {
            Some(p - start)
        } else {
            None
        }
    }

    /// Records the position of a borrowed scalar; returns whether it was written plain
    /// (unquoted and without an explicit `!!str` tag).
    fn locate(&mut self, s: &str) -> bool {
        let Some(offset) = self.offset_of(s) else {
            return false;
        };
        self.located.push(offset);
        let before = &self.input[..offset];
        if matches!(before.last(), Some(b'"' | b'\'')) {
            return false;
        }
        let trimmed = before
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(&before[..0], |end| &before[..=end]);
        !(trimmed.ends_with(b"!!str") || trimmed.ends_with(b"tag:yaml.org,2002:str>"))
    }

    /// The 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        1 + self.line_breaks.partition_point(|&brk| brk < offset)
    }

    fn fail<E: de::Error>(&mut self, message: String) -> E {
        let err = E::custom(&message);
        self.failure.get_or_insert(message);
        err
    }

    /// Counts one more node; fails past [`MAX_YAML_NODES`].
    fn count_node<E: de::Error>(&mut self) -> Result<(), E> {
        self.nodes += 1;
        if self.nodes > MAX_YAML_NODES {
            return Err(self.fail(too_many_nodes()));
        }
        Ok(())
    }
}

/// How go-yaml (YAML 1.1) resolves a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plain {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str,
}

/// go-yaml v2's resolution of an untagged plain scalar that is not null.
fn resolve_plain(s: &str) -> Plain {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Plain::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Plain::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    if !matches!(s.bytes().next(), Some(b'0'..=b'9' | b'+' | b'-' | b'.')) {
        return Plain::Str;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int_base0(&plain) {
        return Plain::Int(i);
    }
    if is_yaml_style_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Plain::Float(f);
        }
    }
    Plain::Str
}

/// Go `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint(s, 0, 64)`.
fn go_parse_int_base0(s: &str) -> Option<i128> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(rest) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        (16, rest)
    } else if let Some(rest) = unsigned
        .strip_prefix("0o")
        .or_else(|| unsigned.strip_prefix("0O"))
    {
        (8, rest)
    } else if let Some(rest) = unsigned
        .strip_prefix("0b")
        .or_else(|| unsigned.strip_prefix("0B"))
    {
        (2, rest)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    let value = if negative {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    };
    // ParseInt accepts [-2^63, 2^63-1]; ParseUint (unsigned input only) up to 2^64-1.
    if value < i128::from(i64::MIN) || (negative && value > i128::from(i64::MAX)) {
        return None;
    }
    Some(value)
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while matches!(b.get(*i), Some(b'0'..=b'9')) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go `strconv.FormatFloat(f, 'g', -1, bits)`.
fn go_format_float_g(f: f64, bits32: bool) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    // Rust's `{:e}` is the shortest round-trip form, e.g. "1.5e-7", "-1e6", "0e0".
    let sci = if bits32 {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    } else if exponent >= 0 {
        let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.push_str(&"0".repeat(usize::try_from(-exponent - 1).unwrap_or(0)));
        out.push_str(&digits);
    }
    out
}

/// A mapping key as go-yaml decodes it into `interface{}`.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Key {
    /// What go-yaml compares to find a repeated key (Go interface equality); `None` for
    /// NaN, which equals nothing.
    fn identity(&self) -> Option<String> {
        Some(match self {
            Key::Str(s) => format!("s{s}"),
            Key::Int(i) => format!("i{i}"),
            Key::Float(f) if f.is_nan() => return None,
            // +0 and -0 are equal.
            Key::Float(f) => format!("f{}", (f + 0.0).to_bits()),
            Key::Bool(b) => format!("b{b}"),
            Key::Null => "n".to_owned(),
        })
    }

    /// The JSON object key `sigs.k8s.io/yaml` makes of it.
    fn json_key(&self) -> Result<String, String> {
        Ok(match self {
            Key::Str(s) => s.clone(),
            Key::Int(i) => i.to_string(),
            Key::Float(f) => match go_format_float_g(*f, true).as_str() {
                "+Inf" => ".inf".to_owned(),
                "-Inf" => "-.inf".to_owned(),
                "NaN" => ".nan".to_owned(),
                other => other.to_owned(),
            },
            Key::Bool(b) => b.to_string(),
            Key::Null => return Err("unsupported map key of type: <nil>, key: <nil>".to_owned()),
        })
    }
}

impl fmt::Display for Key {
    /// Go's `%#v` of the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Str(s) => f.write_str(&strconv_quote(s)),
            Key::Int(i) => write!(f, "{i}"),
            Key::Float(x) => f.write_str(&go_format_float_g(*x, false)),
            Key::Bool(b) => write!(f, "{b}"),
            Key::Null => f.write_str("<nil>"),
        }
    }
}

/// Deserializes one node into a [`Value`].
struct NodeSeed<'c, 'i> {
    ctx: &'c mut Ctx<'i>,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.ctx.count_node::<D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        float_value(self.ctx, v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value, E> {
        if !self.ctx.locate(v) {
            return Ok(Value::String(v.to_owned()));
        }
        match resolve_plain(v) {
            Plain::Bool(b) => Ok(Value::Bool(b)),
            Plain::Int(_) => Ok(Value::Number(v.to_owned())),
            Plain::Float(f) => float_value(self.ctx, f),
            Plain::Str => Ok(Value::String(v.to_owned())),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed { ctx: self.ctx })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let ctx = self.ctx;
        let mut entries: Vec<(Key, Value)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(key) = map.next_key_seed(KeySeed { ctx: &mut *ctx })? {
            let before = ctx.located.len();
            let value = map.next_value_seed(NodeSeed { ctx: &mut *ctx })?;
            let identity = key.identity();
            let existing = identity.as_ref().and_then(|id| index.get(id)).copied();
            if let Some(existing) = existing.and_then(|i| entries.get_mut(i)) {
                // go-yaml's strict mode names the line of the repeated value.
                let position = ctx
                    .located
                    .get(before)
                    .or_else(|| before.checked_sub(1).and_then(|i| ctx.located.get(i)))
                    .copied();
                let message = match position {
                    Some(offset) => {
                        format!("line {}: key {key} already set in map", ctx.line_of(offset))
                    }
                    None => format!("key {key} already set in map"),
                };
                ctx.duplicate_keys.push(message);
                existing.1 = value;
            } else {
                if let Some(id) = identity {
                    index.insert(id, entries.len());
                }
                entries.push((key, value));
            }
        }
        let mut object = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let key = key.json_key().map_err(|m| ctx.fail::<A::Error>(m))?;
            object.push((key, value));
        }
        // Go marshals a map with sorted keys; distinct YAML keys may collide as strings.
        object.sort_by(|a, b| a.0.cmp(&b.0));
        object.reverse();
        object.dedup_by(|later, earlier| later.0 == earlier.0);
        object.reverse();
        Ok(Value::Object(object))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A custom tag (`!Foo value`): go-yaml ignores tags it does not know.
        let (_tag, variant): (String, _) = data.variant()?;
        variant.newtype_variant_seed(NodeSeed { ctx: self.ctx })
    }
}

/// A float value; JSON has no NaN or infinities, so Go's marshalling fails on them.
fn float_value<E: de::Error>(ctx: &mut Ctx<'_>, f: f64) -> Result<Value, E> {
    if f.is_finite() {
        Ok(Value::Number(f.to_string()))
    } else {
        Err(ctx.fail(format!(
            "json: unsupported value: {}",
            go_format_float_g(f, false)
        )))
    }
}

/// Deserializes a mapping key.
struct KeySeed<'c, 'i> {
    ctx: &'c mut Ctx<'i>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        self.ctx.count_node::<D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML mapping key")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key::Int(i128::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key::Int(i128::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Key, E> {
        Ok(Key::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Key, E> {
        Ok(i128::try_from(v).map_or(Key::Float(v as f64), Key::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::Str(v.to_owned()))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key, E> {
        if !self.ctx.locate(v) {
            return Ok(Key::Str(v.to_owned()));
        }
        Ok(match resolve_plain(v) {
            Plain::Bool(b) => Key::Bool(b),
            Plain::Int(i) => Key::Int(i),
            Plain::Float(f) => Key::Float(f),
            Plain::Str => Key::Str(v.to_owned()),
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Key, A::Error> {
        Err(self
            .ctx
            .fail("yaml: invalid map key: a sequence".to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Key, A::Error> {
        Err(self.ctx.fail("yaml: invalid map key: a mapping".to_owned()))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Key, A::Error> {
        let (_tag, variant): (String, _) = data.variant()?;
        variant.newtype_variant_seed(KeySeed { ctx: self.ctx })
    }
}

#[cfg(test)]
mod node_bound_tests {
    use super::*;

    /// The byte-level bound is never below the exact node count (aliases aside: they
    /// repeat nodes without bytes, and are counted while converting).
    #[test]
    fn potential_nodes_bounds_the_nodes_of_tricky_documents() {
        let docs = [
            "a: b",
            "a",
            "[a]",
            "{a}",
            "{a, b}",
            "[a: b, c: d]",
            "- a: b",
            "- - - a: b",
            "x:\n- - a: b\n  - c\n- [e: f, {g}]",
            "- a: b\n  c: d\n- e: f",
            "a:\n  b:\n    c: [d, {e: f}]",
            "? a\n: b",
            "? a\n: - c\n  - d",
            "a: |\n  text\n  more\nb: >\n  folded",
            "- \"quoted: [x, y]\"\n- 'single, quoted'",
            "a: !!str 1\nb: !custom {c: d}",
            "[[[[a]]], {b: {c: [d]}}]",
            "a:\n- b\n- c:\n  - d",
            "a: &x [1, 2]\nb: c",
            "-\n-\n- a",
            "a:\nb:\nc:",
            "{a: , b: }",
        ];
        for doc in docs {
            let converted = yaml_to_json(doc.as_bytes()).unwrap_or_else(|e| panic!("{doc:?}: {e}"));
            let bound = potential_nodes(doc.as_bytes());
            assert!(
                bound >= converted.nodes,
                "{doc:?}: bound {bound} < {} nodes",
                converted.nodes
            );
        }
    }
}

#[cfg(test)]
mod node_bound_properties {
    use proptest::prelude::*;

    use super::*;

    /// Fragments from which random YAML is built: every indicator, scalars, anchors and
    /// aliases, quotes, comments, block scalars and indentation.
    const FRAGMENTS: &[&str] = &[
        "a", "b", ":", ": ", "-", "- ", "? ", "\n", "\n  ", "\n    ", "[", "]", "{", "}", ",",
        ", ", " ", "&x ", "*x", "\"", "'", "# c", "|\n  ", ">\n  ", "!t ", "~",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Wherever random YAML converts, the byte-level bound covers its node count once
        /// aliases are discounted (an alias can repeat nodes without bytes; the exact count
        /// catches those while converting).
        #[test]
        fn potential_nodes_bounds_converted_nodes(
            parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)
        ) {
            let doc = parts.concat();
            if doc.contains('*') {
                return Ok(());
            }
            if let Ok(converted) = yaml_to_json(doc.as_bytes()) {
                let bound = potential_nodes(doc.as_bytes());
                prop_assert!(bound >= converted.nodes, "{:?}: bound {} < {} nodes", doc, bound, converted.nodes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(input: &str) -> YamlDocument {
        yaml_to_json(input.as_bytes()).unwrap()
    }

    fn object(v: &Value) -> &[(String, Value)] {
        match v {
            Value::Object(entries) => entries,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn resolves_scalars_like_go_yaml_v2() {
        let doc = convert("a: yes\nb: \"yes\"\nc: 'on'\nd: off\ne: 0777\nf: 1_000\ng: 10m\nh: ~\ni: !!str no\nj: 2001-12-14\n");
        let entries = object(&doc.value);
        let get = |k: &str| &entries.iter().find(|(key, _)| key == k).unwrap().1;
        assert_eq!(get("a"), &Value::Bool(true));
        assert_eq!(get("b"), &Value::String("yes".into()));
        assert_eq!(get("c"), &Value::String("on".into()));
        assert_eq!(get("d"), &Value::Bool(false));
        assert!(matches!(get("e"), Value::Number(_)));
        assert!(matches!(get("f"), Value::Number(_)));
        assert_eq!(get("g"), &Value::String("10m".into()));
        assert_eq!(get("h"), &Value::Null);
        assert_eq!(get("i"), &Value::String("no".into()));
        assert_eq!(get("j"), &Value::String("2001-12-14".into()));
    }

    #[test]
    fn keys_are_stringified_and_sorted() {
        let doc = convert("z: 1\n1: a\ny: b\n0x10: c\n1.5: d\n");
        let keys: Vec<&str> = object(&doc.value).iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["1", "1.5", "16", "true", "z"]);
    }

    #[test]
    fn duplicate_keys_name_the_value_line() {
        let doc = convert("---\nkind: A\nproviders:\n- name: x\n  name: y\nkind: B\n");
        assert_eq!(
            doc.duplicate_keys,
            [
                "line 5: key \"name\" already set in map",
                "line 6: key \"kind\" already set in map"
            ]
        );
        let entries = object(&doc.value);
        assert_eq!(entries[0], ("kind".to_owned(), Value::String("B".into())));
    }

    #[test]
    fn first_document_only_and_empty_documents() {
        assert_eq!(
            convert("a: 1\n---\n: : bad").value,
            Value::Object(vec![("a".into(), Value::Number("1".into()))])
        );
        assert_eq!(convert("").value, Value::Null);
        assert_eq!(convert("# only a comment\n").value, Value::Null);
    }

    #[test]
    fn errors_look_like_go_yaml() {
        let err = yaml_to_json(b"a: b: c").unwrap_err();
        assert!(
            err.starts_with("yaml: line 1: mapping values are not allowed"),
            "{err}"
        );
        let err = yaml_to_json(b"a: .nan").unwrap_err();
        assert_eq!(err, "json: unsupported value: NaN");
        let err = yaml_to_json(b"~: x").unwrap_err();
        assert!(
            err.starts_with("unsupported map key of type: <nil>"),
            "{err}"
        );
    }

    #[test]
    fn deep_flow_nesting_is_rejected_early() {
        let deep = "[".repeat(MAX_FLOW_BRACKETS + 1);
        assert_eq!(
            yaml_to_json(deep.as_bytes()).unwrap_err(),
            "yaml: recursion limit exceeded"
        );
        let balanced = "[]".repeat(MAX_FLOW_BRACKETS * 2);
        assert_eq!(bracket_depth(balanced.as_bytes()), 1);
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_format_float_g(1.5, false), "1.5");
        assert_eq!(go_format_float_g(1e6, false), "1e+06");
        assert_eq!(go_format_float_g(123456.0, false), "123456");
        assert_eq!(go_format_float_g(0.0001, false), "0.0001");
        assert_eq!(go_format_float_g(0.00001, false), "1e-05");
        assert_eq!(go_format_float_g(0.1, true), "0.1");
        assert_eq!(go_format_float_g(-2.0, false), "-2");
        assert_eq!(go_format_float_g(0.0, false), "0");
    }
}
