//! Durations as Kubernetes and Velero users write them: `720h`, `1h30m`, `90s`, `500ms`, plus
//! `d` for days, which Go lacks and every TTL wants.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct HumanDuration(pub(crate) Duration);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid duration {0:?}: use a number with a unit, such as 720h, 1h30m, 90s or 7d")]
pub(crate) struct DurationError(String);

impl HumanDuration {
    pub(crate) fn parse(s: &str) -> Result<Self, DurationError> {
        let err = || DurationError(s.to_owned());
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(err());
        }
        if rest == "0" {
            return Ok(Self(Duration::ZERO));
        }
        let mut total = Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(err)?;
            let value: f64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let seconds_per_unit = match &rest[..unit_len] {
                "ms" => 0.001,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                _ => return Err(err()),
            };
            rest = &rest[unit_len..];
            total += Duration::try_from_secs_f64(value * seconds_per_unit).map_err(|_| err())?;
        }
        Ok(Self(total))
    }
}

impl fmt::Display for HumanDuration {
    /// Go's `time.Duration` spelling without the zero parts: `720h`, `1h30m`, `45s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let millis = self.0.subsec_millis();
        if secs == 0 {
            return write!(f, "{millis}ms");
        }
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 || millis > 0 {
            if millis > 0 {
                write!(f, "{s}.{millis:03}s")?;
            } else {
                write!(f, "{s}s")?;
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for HumanDuration {
    type Error = DurationError;
    fn try_from(s: String) -> Result<Self, DurationError> {
        Self::parse(&s)
    }
}

impl From<HumanDuration> for String {
    fn from(d: HumanDuration) -> String {
        d.to_string()
    }
}

impl std::str::FromStr for HumanDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, DurationError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_durations_and_days() {
        let cases = [
            ("720h", Some(720 * 3600)),
            ("1h30m", Some(5400)),
            ("90s", Some(90)),
            ("7d", Some(7 * 86400)),
            ("720h0m0s", Some(720 * 3600)),
            ("0", Some(0)),
            ("", None),
            ("12", None),
            ("3w", None),
            ("h", None),
            ("-1h", None),
        ];
        for (input, want) in cases {
            let got = HumanDuration::parse(input).ok().map(|d| d.0.as_secs());
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn prints_without_zero_parts() {
        let cases = [(720 * 3600, "720h"), (5400, "1h30m"), (45, "45s"), (3601, "1h1s")];
        for (secs, want) in cases {
            assert_eq!(HumanDuration(Duration::from_secs(secs)).to_string(), want);
        }
    }
}
