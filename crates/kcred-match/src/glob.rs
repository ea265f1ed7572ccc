//! Go `path/filepath.Match` with Unix semantics, which the kubelet applies to each host label
//! of a `matchImages` entry (kubernetes/kubernetes `pkg/credentialprovider/keyring.go`, `URLsMatch`).
//!
//! Syntax: `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` and
//! `[^...]` a character from (or not from) a set of characters and `lo-hi` ranges, and `\c`
//! the character `c`. Matching is case-sensitive and works on runes (UTF-8), except that
//! literal characters are compared byte by byte, as in Go.
//!
//! A malformed pattern gives [`BadPattern`] (Go's `ErrBadPattern`). Like Go since 1.16, a
//! pattern is checked in full even when the name stops matching early, so the answer for a
//! malformed pattern does not depend on the name in most cases; where Go answers `false`
//! before reaching a malformed part, so does this.
//!
//! Cost: each chunk between stars is tried at most once per name position, so a match costs
//! at most `O(len(pattern) × len(name))`, never exponential. Nothing allocates.

use kcred_api::gostr::{decode_rune, RUNE_ERROR};

/// Go's `filepath.ErrBadPattern`: the pattern is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// Go's `filepath.Match(pattern, name)` on Unix.
///
/// ```
/// use kcred_match::glob::{go_filepath_match, BadPattern};
/// assert_eq!(go_filepath_match("*-good", "prefix-good"), Ok(true));
/// assert_eq!(go_filepath_match("ab[^c]", "abc"), Ok(false));
/// assert_eq!(go_filepath_match("a[", "a"), Err(BadPattern));
/// ```
pub fn go_filepath_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    match_bytes(pattern.as_bytes(), name.as_bytes())
}

/// [`go_filepath_match`] on Go byte strings (hosts may hold decoded non-UTF-8 bytes).
pub(crate) fn match_bytes(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, BadPattern> {
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star matches the rest of the name unless it has a separator.
            return Ok(!name.contains(&b'/'));
        }
        // A chunk's syntax does not depend on the name: check it once, as Go's first
        // `matchChunk` call would.
        if !chunk_is_well_formed(chunk) {
            return Err(BadPattern);
        }
        if let Some(after) = match_chunk(chunk, name) {
            // The last chunk must consume the whole name.
            if after.is_empty() || !pattern.is_empty() {
                name = after;
                continue;
            }
        }
        if star {
            // Let the star absorb 1, 2, ... bytes (never a separator).
            let mut skip = 0;
            while skip < name.len() && name[skip] != b'/' {
                if let Some(after) = match_chunk(chunk, &name[skip + 1..]) {
                    if pattern.is_empty() && !after.is_empty() {
                        skip += 1;
                        continue;
                    }
                    name = after;
                    continue 'chunks;
                }
                skip += 1;
            }
        }
        // No match: still report a malformed remainder, as Go does.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            if !chunk_is_well_formed(chunk) {
                return Err(BadPattern);
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Go `scanChunk`: leading stars, then everything up to the next star outside a class.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let stars = pattern.iter().take_while(|&&b| b == b'*').count();
    let pattern = &pattern[stars..];
    let mut in_class = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            // Skip the escaped byte; a trailing backslash is reported by matching.
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    (stars > 0, &pattern[..i], &pattern[i..])
}

/// Go `getEsc`: one (possibly escaped) class character and the rest of the chunk, or
/// `None` where Go reports `ErrBadPattern`.
fn class_char(chunk: &[u8]) -> Option<(char, &[u8])> {
    let chunk = match chunk.first()? {
        b'-' | b']' => return None,
        b'\\' => &chunk[1..],
        _ => chunk,
    };
    let (r, width) = decode_rune(chunk);
    if width <= 1 && r == RUNE_ERROR {
        return None;
    }
    let rest = &chunk[width..];
    if rest.is_empty() {
        return None;
    }
    Some((r, rest))
}

/// Parses one character class starting after its `[`. Returns whether `r` is in the class
/// (honouring `^`) and the chunk after the closing `]`, or `None` if the class is malformed.
fn parse_class(chunk: &[u8], r: char) -> Option<(bool, &[u8])> {
    let (negated, mut chunk) = match chunk.first() {
        Some(b'^') => (true, &chunk[1..]),
        _ => (false, chunk),
    };
    let mut matched = false;
    let mut ranges = 0usize;
    loop {
        if ranges > 0 && chunk.first() == Some(&b']') {
            return Some((matched != negated, &chunk[1..]));
        }
        let (lo, rest) = class_char(chunk)?;
        let (hi, rest) = match rest.first() {
            Some(b'-') => class_char(&rest[1..])?,
            _ => (lo, rest),
        };
        if lo <= r && r <= hi {
            matched = true;
        }
        chunk = rest;
        ranges += 1;
    }
}

/// Whether Go's `matchChunk` would parse `chunk` without `ErrBadPattern`.
fn chunk_is_well_formed(mut chunk: &[u8]) -> bool {
    while let Some(&c) = chunk.first() {
        chunk = match c {
            b'[' => match parse_class(&chunk[1..], '\0') {
                Some((_, rest)) => rest,
                None => return false,
            },
            b'\\' => match chunk.get(2..) {
                Some(rest) => rest,
                None => return false,
            },
            _ => &chunk[1..],
        };
    }
    true
}

/// Go `matchChunk` for a well-formed chunk: the rest of `s` after the chunk matched a
/// prefix of it, or `None`.
fn match_chunk<'s>(mut chunk: &[u8], mut s: &'s [u8]) -> Option<&'s [u8]> {
    while let Some(&c) = chunk.first() {
        if s.is_empty() {
            return None;
        }
        match c {
            b'[' => {
                let (r, width) = decode_rune(s);
                s = &s[width.max(1)..];
                let (in_class, rest) = parse_class(&chunk[1..], r)?;
                if !in_class {
                    return None;
                }
                chunk = rest;
            }
            b'?' => {
                if s[0] == b'/' {
                    return None;
                }
                let (_, width) = decode_rune(s);
                s = &s[width.max(1)..];
                chunk = &chunk[1..];
            }
            _ => {
                let (literal, rest) = if c == b'\\' {
                    (*chunk.get(1)?, chunk.get(2..)?)
                } else {
                    (c, &chunk[1..])
                };
                if literal != s[0] {
                    return None;
                }
                s = &s[1..];
                chunk = rest;
            }
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_classes() {
        assert_eq!(go_filepath_match("*", ""), Ok(true));
        assert_eq!(go_filepath_match("", ""), Ok(true));
        assert_eq!(go_filepath_match("", "a"), Ok(false));
        assert_eq!(go_filepath_match("*kubernetes", "kubernetes"), Ok(true));
        assert_eq!(go_filepath_match("k*s", "k8s"), Ok(true));
        assert_eq!(go_filepath_match("[a-c]?", "bé"), Ok(true));
        assert_eq!(go_filepath_match("[!a]", "!"), Ok(true));
        assert_eq!(go_filepath_match("[!a]", "b"), Ok(false));
        assert_eq!(go_filepath_match("a*[", "ab"), Err(BadPattern));
        assert_eq!(go_filepath_match("x*[", "ab"), Err(BadPattern));
        assert_eq!(go_filepath_match("[]", "a"), Err(BadPattern));
        assert_eq!(go_filepath_match("[^]", "a"), Err(BadPattern));
        assert_eq!(go_filepath_match("*[*]", "*"), Ok(true));
        assert_eq!(go_filepath_match("a\\", "a"), Err(BadPattern));
        assert_eq!(go_filepath_match("*\\", "a"), Err(BadPattern));
    }

    #[test]
    fn invalid_utf8_in_pattern_class_is_bad() {
        assert_eq!(match_bytes(b"[\xff]", b"a"), Err(BadPattern));
        assert_eq!(match_bytes(b"\xff", b"\xff"), Ok(true));
        assert_eq!(match_bytes(b"?", b"\xff"), Ok(true));
        assert_eq!(match_bytes("[\u{FFFD}]".as_bytes(), b"\xff"), Ok(true));
    }
}
