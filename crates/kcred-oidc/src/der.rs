//! The few DER shapes public keys need (ITU-T X.690): reading `SEQUENCE`, `INTEGER`,
//! `BIT STRING`, `OBJECT IDENTIFIER`, `NULL`, and writing the same, definite lengths only.

/// A DER decoding failure (the message names what was expected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER: {0}")]
pub struct DerError(pub &'static str);

/// `SEQUENCE` tag.
pub const SEQUENCE: u8 = 0x30;
/// `INTEGER` tag.
pub const INTEGER: u8 = 0x02;
/// `BIT STRING` tag.
pub const BIT_STRING: u8 = 0x03;
/// `OCTET STRING` tag.
pub const OCTET_STRING: u8 = 0x04;
/// `NULL` tag.
pub const NULL: u8 = 0x05;
/// `OBJECT IDENTIFIER` tag.
pub const OID: u8 = 0x06;

/// A cursor over DER bytes.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// Whether every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next element's tag, without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads one element with tag `tag` and returns its contents.
    pub fn read(&mut self, tag: u8) -> Result<&'a [u8], DerError> {
        let (&t, rest) = self.data.split_first().ok_or(DerError("unexpected end"))?;
        if t != tag {
            return Err(DerError("unexpected tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(DerError("missing length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(DerError("bad length"));
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | usize::from(b);
            }
            if len < 0x80 || rest[0] == 0 {
                return Err(DerError("non-minimal length"));
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err(DerError("length beyond the input"));
        }
        let (contents, after) = rest.split_at(len);
        self.data = after;
        Ok(contents)
    }

    /// Reads a non-negative `INTEGER` and returns its big-endian magnitude without leading zeros.
    pub fn read_unsigned(&mut self) -> Result<&'a [u8], DerError> {
        let v = self.read(INTEGER)?;
        match v {
            [] => Err(DerError("empty INTEGER")),
            [b, ..] if b & 0x80 != 0 => Err(DerError("negative INTEGER")),
            _ => {
                let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
                Ok(&v[start..])
            }
        }
    }

    /// Reads a `BIT STRING` with no unused bits.
    pub fn read_bit_string(&mut self) -> Result<&'a [u8], DerError> {
        match self.read(BIT_STRING)? {
            [0, rest @ ..] => Ok(rest),
            _ => Err(DerError("BIT STRING with unused bits")),
        }
    }
}

/// Appends one element `tag` + definite length + `contents`.
pub fn write(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
}

/// One element as a new vector.
pub fn element(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    write(&mut out, tag, contents);
    out
}

/// A non-negative `INTEGER` from a big-endian magnitude (minimal encoding).
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let m = &magnitude[start..];
    let mut contents = Vec::with_capacity(m.len() + 1);
    if m.is_empty() || m[0] & 0x80 != 0 {
        contents.push(0);
    }
    contents.extend_from_slice(m);
    element(INTEGER, &contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70000] {
            let body = vec![7u8; len];
            let enc = element(OCTET_STRING, &body);
            let mut r = Reader::new(&enc);
            assert_eq!(r.read(OCTET_STRING).unwrap(), &body[..]);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn integers_are_minimal_and_unsigned() {
        assert_eq!(unsigned_integer(&[0x01, 0x00, 0x01]), vec![2, 3, 1, 0, 1]);
        assert_eq!(unsigned_integer(&[0x00, 0x80]), vec![2, 2, 0, 0x80]);
        let enc = unsigned_integer(&[0x80]);
        assert_eq!(Reader::new(&enc).read_unsigned().unwrap(), &[0x80]);
        assert!(Reader::new(&[2, 1, 0xff]).read_unsigned().is_err());
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert!(Reader::new(&[0x30, 0x05, 1]).read(SEQUENCE).is_err());
        assert!(Reader::new(&[0x30]).read(SEQUENCE).is_err());
        assert!(Reader::new(&[0x30, 0x81, 0x05]).read(SEQUENCE).is_err());
    }
}
