//! `application/x-www-form-urlencoded` and URL query encoding (as Go's `url.Values.Encode`:
//! keys sorted, `+` for spaces).

/// Percent-encodes one form component: unreserved bytes stay, space becomes `+`.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
    out
}

/// Encodes pairs as `k=v&…`, sorted by key (stable for equal keys), like `url.Values.Encode`.
pub(crate) fn encode_sorted(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes a form body into pairs: the inverse of [`encode_sorted`], for the round-trip test.
#[cfg(test)]
fn decode(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Decodes one component (`+` is a space, `%XX` a byte; malformed escapes stay as they are).
#[cfg(test)]
fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_go_url_values() {
        assert_eq!(
            encode_sorted(&[("scope", "https://x/.default"), ("a b", "c&d")]),
            "a+b=c%26d&scope=https%3A%2F%2Fx%2F.default"
        );
    }

    #[test]
    fn decode_round_trips() {
        let enc = encode_sorted(&[("k", "v =&%/é"), ("z", "")]);
        assert_eq!(
            decode(&enc),
            vec![("k".into(), "v =&%/é".into()), ("z".into(), String::new())]
        );
        assert_eq!(decode_component("%zz%4"), "%zz%4");
    }
}
