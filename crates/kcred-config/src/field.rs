//! apimachinery's `field.Error` and `ErrorList.ToAggregate()`, with their exact texts.
//!
//! A [`FieldError`] prints as `<path>: <type>[: <value>][: <detail>]`, e.g.
//! `providers.name: Invalid value: "foo/bar": provider name cannot contain '/'`.
//! [`Aggregate`] prints a de-duplicated list: one error bare, several as `[e1, e2]`.

use std::fmt;

use kcred_api::gostr::strconv_quote;

/// The kinds of `field.Error` the kubelet's config validation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    /// `field.Required`: `Required value`.
    Required,
    /// `field.Invalid`: `Invalid value`.
    Invalid,
    /// `field.NotSupported`: `Unsupported value`.
    NotSupported,
    /// `field.Duplicate`: `Duplicate value`.
    Duplicate,
    /// `field.Forbidden`: `Forbidden`.
    Forbidden,
}

impl ErrorType {
    /// The text apimachinery prints for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Forbidden => "Forbidden",
        }
    }

    /// Whether apimachinery prints the bad value for this type
    /// (`Required` and `Forbidden` never do).
    fn shows_value(self) -> bool {
        !matches!(self, ErrorType::Required | ErrorType::Forbidden)
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The offending value, already rendered the way apimachinery renders it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BadValue {
    /// No value (Required, Forbidden).
    None,
    /// A Go string, printed with `%q`.
    Str(String),
    /// Any other value, printed as its JSON encoding (e.g. `"-1m0s"`, `["a","b"]`).
    Json(String),
}

/// One apimachinery `field.Error`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldError {
    /// The error's type.
    pub error_type: ErrorType,
    /// The field path, e.g. `providers.tokenAttributes.cacheType` (no index: the kubelet
    /// builds paths with `Child`, never `Index`).
    pub field: String,
    /// The offending value.
    pub bad_value: BadValue,
    /// The explanation; may be empty.
    pub detail: String,
}

impl FieldError {
    /// `field.Required(path, detail)`.
    pub fn required(field: &str, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, BadValue::None, detail.into())
    }

    /// `field.Invalid(path, value, detail)` for a string value.
    pub fn invalid(field: &str, value: &str, detail: impl Into<String>) -> Self {
        Self::new(
            ErrorType::Invalid,
            field,
            BadValue::Str(value.to_owned()),
            detail.into(),
        )
    }

    /// `field.Invalid(path, value, detail)` for a non-string value given as its JSON encoding.
    pub fn invalid_json(field: &str, json: String, detail: impl Into<String>) -> Self {
        Self::new(
            ErrorType::Invalid,
            field,
            BadValue::Json(json),
            detail.into(),
        )
    }

    /// `field.NotSupported(path, value, valid)`: the detail lists `valid` quoted, in the order given.
    pub fn not_supported(field: &str, value: &str, valid: &[&str]) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| strconv_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(
            ErrorType::NotSupported,
            field,
            BadValue::Str(value.to_owned()),
            detail,
        )
    }

    /// `field.Duplicate(path, value)`.
    pub fn duplicate(field: &str, value: &str) -> Self {
        Self::new(
            ErrorType::Duplicate,
            field,
            BadValue::Str(value.to_owned()),
            String::new(),
        )
    }

    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(field: &str, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, BadValue::None, detail.into())
    }

    fn new(error_type: ErrorType, field: &str, bad_value: BadValue, detail: String) -> Self {
        FieldError {
            error_type,
            field: field.to_owned(),
            bad_value,
            detail,
        }
    }

    /// `ErrorBody()`: the message without the field path.
    pub fn body(&self) -> String {
        let mut s = self.error_type.as_str().to_owned();
        if self.error_type.shows_value() {
            s.push_str(": ");
            match &self.bad_value {
                BadValue::None => s.push_str("null"),
                BadValue::Str(v) => s.push_str(&strconv_quote(v)),
                BadValue::Json(j) => s.push_str(j),
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// `ErrorList.ToAggregate()`: errors whose messages repeat an earlier one are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    errors: Vec<FieldError>,
}

impl Aggregate {
    /// Builds the aggregate, keeping the first of each distinct message, in order.
    /// Returns `None` for an empty list (Go's `ToAggregate` returns nil).
    pub fn new(list: Vec<FieldError>) -> Option<Self> {
        let mut seen = std::collections::HashSet::new();
        let errors: Vec<FieldError> = list
            .into_iter()
            .filter(|e| seen.insert(e.to_string()))
            .collect();
        if errors.is_empty() {
            None
        } else {
            Some(Aggregate { errors })
        }
    }

    /// The distinct errors, in the order they were found.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => Ok(()),
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("[")?;
                for (i, e) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_each_type() {
        assert_eq!(
            FieldError::required("providers.apiVersion", "").to_string(),
            "providers.apiVersion: Required value"
        );
        assert_eq!(
            FieldError::required("providers", "at least 1 item in plugins is required").to_string(),
            "providers: Required value: at least 1 item in plugins is required"
        );
        assert_eq!(
            FieldError::invalid(
                "providers.name",
                "a b",
                "provider name cannot contain spaces"
            )
            .to_string(),
            "providers.name: Invalid value: \"a b\": provider name cannot contain spaces"
        );
        assert_eq!(
            FieldError::invalid_json("providers.defaultCacheDuration", "\"-1m0s\"".into(), "x")
                .to_string(),
            "providers.defaultCacheDuration: Invalid value: \"-1m0s\": x"
        );
        assert_eq!(
            FieldError::not_supported("providers.tokenAttributes.cacheType", "x", &["A", "B"])
                .to_string(),
            "providers.tokenAttributes.cacheType: Unsupported value: \"x\": supported values: \"A\", \"B\""
        );
        assert_eq!(
            FieldError::duplicate("providers.name", "n").to_string(),
            "providers.name: Duplicate value: \"n\""
        );
        assert_eq!(
            FieldError::forbidden("providers.tokenAttributes", "no").to_string(),
            "providers.tokenAttributes: Forbidden: no"
        );
    }

    #[test]
    fn aggregate_dedupes_and_brackets() {
        assert!(Aggregate::new(vec![]).is_none());
        let one = Aggregate::new(vec![FieldError::duplicate("p", "a")]).expect("non-empty");
        assert_eq!(one.to_string(), "p: Duplicate value: \"a\"");
        let dup = Aggregate::new(vec![
            FieldError::duplicate("p", "a"),
            FieldError::duplicate("p", "a"),
        ])
        .expect("non-empty");
        assert_eq!(dup.to_string(), "p: Duplicate value: \"a\"");
        assert_eq!(dup.errors().len(), 1);
        let two = Aggregate::new(vec![
            FieldError::duplicate("p", "a"),
            FieldError::required("q", ""),
            FieldError::duplicate("p", "a"),
        ])
        .expect("non-empty");
        assert_eq!(
            two.to_string(),
            "[p: Duplicate value: \"a\", q: Required value]"
        );
    }
}
