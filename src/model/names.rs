//! Backup, restore, schedule and location names: DNS-1123 labels, validated once at the edge.

use std::fmt;

/// A DNS-1123 label: what Kubernetes accepts as a name and what ark uses for backups, restores,
/// schedules and storage locations, so that every name can also be a label value and a bucket
/// key segment without escaping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct ResourceName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name {0:?} is longer than 63 characters")]
    TooLong(String),
    #[error(
        "name {0:?} is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit"
    )]
    Invalid(String),
}

impl ResourceName {
    pub(crate) fn parse(s: &str) -> Result<Self, NameError> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.len() > 63 {
            return Err(NameError::TooLong(s.to_owned()));
        }
        let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let first = s.chars().next().is_some_and(alnum);
        let last = s.chars().last().is_some_and(alnum);
        if !(first && last && s.chars().all(valid_char)) {
            return Err(NameError::Invalid(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ResourceName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, NameError> {
        Self::parse(&s)
    }
}

impl From<ResourceName> for String {
    fn from(n: ResourceName) -> String {
        n.0
    }
}

impl std::str::FromStr for ResourceName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Self::parse(s)
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Six hex digits of FNV-1a, for names made from other names (label values shortened to fit,
/// renamed volumes): tiny, and stable across platforms and releases (std's hasher promises
/// neither), so the same input always gives the same name.
pub(crate) fn short_hash(value: &str) -> String {
    let hash = value.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{:06x}", hash & 0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels_and_rejects_the_rest() {
        let cases = [
            ("pre-upgrade-1-31", true),
            ("a", true),
            ("0abc", true),
            ("", false),
            ("Upper", false),
            ("-lead", false),
            ("trail-", false),
            ("under_score", false),
            ("dot.ted", false),
            (&"x".repeat(63), true),
            (&"x".repeat(64), false),
        ];
        for (input, ok) in cases {
            assert_eq!(ResourceName::parse(input).is_ok(), ok, "{input:?}");
        }
    }
}
