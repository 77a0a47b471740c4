//! When a schedule runs: a 5-field cron expression as crontab(5) reads it, one of the `@daily`
//! family, or `@every DURATION`. Pure time arithmetic: parsing and "the first run time after t".
//!
//! The fields are expanded here, with errors that name the field and the value, into explicit
//! lists that the `cron` crate searches in any time zone. Two things the crate reads differently
//! from crontab are handled here rather than left to surprise anyone: the crate numbers the days
//! of the week from 1 = Sunday (crontab: 0 or 7 = Sunday, 1 = Monday), and it requires the day
//! of the month *and* the day of the week to match, where crontab runs when *either* matches if
//! both fields are restricted (`0 0 1 * MON` = the 1st of each month and every Monday).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::HumanDuration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CronError {
    #[error("invalid schedule {expression:?}: {problem}")]
    Expression { expression: String, problem: String },
    #[error("unknown time zone {0:?}: use an IANA name such as UTC, Europe/Berlin or America/New_York")]
    Timezone(String),
}

/// A parsed schedule expression; compares and serialises as the text the user wrote.
#[derive(Debug, Clone)]
pub(crate) struct CronExpr {
    text: String,
    timing: Timing,
}

#[derive(Debug, Clone)]
enum Timing {
    /// `@every 6h`: a fixed interval after the previous run.
    Every(Duration),
    /// Calendar times; two schedules when crontab's "day of month or day of week" rule applies,
    /// and the earlier of their next times wins.
    Calendar(Vec<cron::Schedule>),
}

/// One crontab field: its name for messages, its range, and the names its values may take.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field { name: "minute", min: 0, max: 59, names: &[] };
const HOUR: Field = Field { name: "hour", min: 0, max: 23, names: &[] };
const DAY_OF_MONTH: Field = Field { name: "day-of-month", min: 1, max: 31, names: &[] };
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
};
/// 0-7, where 7 is Sunday again, as crontab allows.
const DAY_OF_WEEK: Field =
    Field { name: "day-of-week", min: 0, max: 7, names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"] };

/// The cron crate's names for days, indexed by crontab's numbers (0 = Sunday).
const CRATE_DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronExpr {
    pub(crate) fn parse(text: &str) -> Result<Self, CronError> {
        let err = |problem: String| CronError::Expression { expression: text.to_owned(), problem };
        let trimmed = text.trim();
        let expanded = match trimmed.split_once(char::is_whitespace) {
            Some(("@every", interval)) => {
                let interval = HumanDuration::parse(interval.trim()).map_err(|e| err(e.to_string()))?;
                if interval.0 < Duration::from_secs(1) {
                    return Err(err("the interval of @every must be at least 1s".into()));
                }
                return Ok(Self { text: trimmed.to_owned(), timing: Timing::Every(interval.0) });
            }
            _ if trimmed.starts_with('@') => match trimmed {
                "@every" => return Err(err("@every needs an interval, such as @every 6h".into())),
                "@yearly" | "@annually" => "0 0 1 1 *",
                "@monthly" => "0 0 1 * *",
                "@weekly" => "0 0 * * 0",
                "@daily" | "@midnight" => "0 0 * * *",
                "@hourly" => "0 * * * *",
                other => {
                    return Err(err(format!(
                        "unknown shorthand {other}: use @every DURATION, @hourly, @daily, @weekly, @monthly or @yearly"
                    )));
                }
            },
            _ => trimmed,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(err(format!(
                "{} fields; a cron expression has 5: minute hour day-of-month month day-of-week",
                fields.len()
            )));
        };
        let list = |values: BTreeSet<u32>| values.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let minutes = list(expand(minute, &MINUTE).map_err(err)?);
        let hours = list(expand(hour, &HOUR).map_err(err)?);
        let days = list(expand(day_of_month, &DAY_OF_MONTH).map_err(err)?);
        let months = list(expand(month, &MONTH).map_err(err)?);
        let weekdays: BTreeSet<u32> = expand(day_of_week, &DAY_OF_WEEK).map_err(err)?.iter().map(|d| d % 7).collect();
        let weekdays = weekdays.iter().map(|d| CRATE_DAYS[*d as usize]).collect::<Vec<_>>().join(",");
        // crontab's rule: a field that starts with `*` does not restrict; when both day fields
        // restrict, either one matching is enough.
        let sources = match (day_of_month.starts_with('*'), day_of_week.starts_with('*')) {
            (false, false) => vec![
                format!("0 {minutes} {hours} {days} {months} *"),
                format!("0 {minutes} {hours} * {months} {weekdays}"),
            ],
            _ => vec![format!("0 {minutes} {hours} {days} {months} {weekdays}")],
        };
        let schedules = sources
            .iter()
            .map(|source| cron::Schedule::from_str(source).map_err(|e| err(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let expr = Self { text: trimmed.to_owned(), timing: Timing::Calendar(schedules) };
        // `0 0 30 2 *` parses, field by field, and never runs: say so now rather than never.
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        if expr.next_after(epoch, Tz::UTC).is_none() {
            return Err(err("no date matches it (that day does not exist in those months)".into()));
        }
        Ok(expr)
    }

    /// The first run time strictly after `after`, reading calendar fields in `timezone`. None
    /// only for a calendar expression with no date left before the cron crate's last year.
    pub(crate) fn next_after(&self, after: DateTime<Utc>, timezone: Tz) -> Option<DateTime<Utc>> {
        match &self.timing {
            Timing::Every(interval) => after.checked_add_signed(chrono::Duration::from_std(*interval).ok()?),
            Timing::Calendar(schedules) => {
                let local = after.with_timezone(&timezone);
                schedules.iter().filter_map(|s| s.after(&local).next()).map(|t| t.with_timezone(&Utc)).min()
            }
        }
    }
}

/// Expands one crontab field (`*`, `5`, `1-5`, `*/15`, `10-50/20`, `mon-fri`, lists of those)
/// into the values it matches.
fn expand(text: &str, field: &Field) -> Result<BTreeSet<u32>, String> {
    let name = field.name;
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{name} field {text:?}: step {step:?} is not a positive number"))?;
                (range, step)
            }
            None => (item, 1),
        };
        let (low, high) = match range.split_once('-') {
            _ if range == "*" => (field.min, if field.names.len() == 7 { 6 } else { field.max }),
            Some((low, high)) => (value(low, field, text)?, value(high, field, text)?),
            // `5/15` is crontab's "from 5 to the end, every 15".
            None if item.contains('/') => (value(range, field, text)?, field.max),
            None => {
                let v = value(range, field, text)?;
                (v, v)
            }
        };
        if low > high {
            return Err(format!("{name} field {text:?}: range {range} runs backwards"));
        }
        values.extend((low..=high).step_by(step as usize));
    }
    Ok(values)
}

fn value(text: &str, field: &Field, whole: &str) -> Result<u32, String> {
    let name = field.name;
    let lower = text.to_ascii_lowercase();
    if let Some(index) = field.names.iter().position(|n| *n == lower) {
        // Month names count from 1, day names from 0 (Sunday).
        return Ok(index as u32 + if field.names.len() == 12 { 1 } else { 0 });
    }
    let number: u32 = text.parse().map_err(|_| {
        let names =
            if field.names.is_empty() { String::new() } else { format!(" or a name ({})", field.names.join(", ")) };
        format!("{name} field {whole:?}: {text:?} is not a number{names}")
    })?;
    if number < field.min || number > field.max {
        return Err(format!("{name} field {whole:?}: {number} is out of range {}-{}", field.min, field.max));
    }
    Ok(number)
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CronExpr {}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for CronExpr {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, CronError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CronExpr {
    type Error = CronError;
    fn try_from(s: String) -> Result<Self, CronError> {
        Self::parse(&s)
    }
}

impl From<CronExpr> for String {
    fn from(expr: CronExpr) -> String {
        expr.text
    }
}

impl serde::Serialize for CronExpr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for CronExpr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An IANA time zone name, checked.
pub(crate) fn parse_timezone(name: &str) -> Result<Tz, CronError> {
    name.parse::<Tz>().map_err(|_| CronError::Timezone(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str) -> String {
        CronExpr::parse(expr).unwrap().next_after(at(after), Tz::UTC).unwrap().to_rfc3339()
    }

    #[test]
    fn next_run_follows_crontab_semantics() {
        // (expression, after, next): table of what crontab(5) would do.
        let cases = [
            ("0 2 * * *", "2026-11-24T01:59:59Z", "2026-11-24T02:00:00+00:00"),
            ("0 2 * * *", "2026-11-24T02:00:00Z", "2026-11-25T02:00:00+00:00"),
            ("*/15 * * * *", "2026-11-24T10:07:00Z", "2026-11-24T10:15:00+00:00"),
            ("5/20 * * * *", "2026-11-24T10:26:00Z", "2026-11-24T10:45:00+00:00"),
            ("0 9 * * 1-5", "2026-11-27T10:00:00Z", "2026-11-30T09:00:00+00:00"), // Fri -> Mon
            ("0 9 * * mon-fri", "2026-11-28T10:00:00Z", "2026-11-30T09:00:00+00:00"),
            ("0 0 * * 0", "2026-11-24T00:00:00Z", "2026-11-29T00:00:00+00:00"), // 0 = Sunday
            ("0 0 * * 7", "2026-11-24T00:00:00Z", "2026-11-29T00:00:00+00:00"), // 7 = Sunday too
            ("0 0 * * 1", "2026-11-24T00:00:00Z", "2026-11-30T00:00:00+00:00"), // 1 = Monday
            ("0 0 1 * mon", "2026-11-24T00:00:00Z", "2026-11-30T00:00:00+00:00"), // Monday first
            ("0 0 1 * mon", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00+00:00"), // or the 1st
            ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00+00:00"),
            ("30 4 1,15 jan,jul *", "2026-01-02T00:00:00Z", "2026-01-15T04:30:00+00:00"),
            ("@daily", "2026-11-24T13:00:00Z", "2026-11-25T00:00:00+00:00"),
            ("@hourly", "2026-11-24T13:00:00Z", "2026-11-24T14:00:00+00:00"),
            ("@weekly", "2026-11-24T13:00:00Z", "2026-11-29T00:00:00+00:00"),
            ("@monthly", "2026-11-24T13:00:00Z", "2026-12-01T00:00:00+00:00"),
            ("@yearly", "2026-11-24T13:00:00Z", "2027-01-01T00:00:00+00:00"),
            ("@every 6h", "2026-11-24T13:00:05Z", "2026-11-24T19:00:05+00:00"),
            ("@every 5s", "2026-11-24T13:00:05Z", "2026-11-24T13:00:10+00:00"),
        ];
        for (expr, after, want) in cases {
            assert_eq!(next(expr, after), want, "{expr} after {after}");
        }
    }

    #[test]
    fn calendar_fields_are_read_in_the_schedule_time_zone() {
        let expr = CronExpr::parse("0 2 * * *").unwrap();
        let berlin = parse_timezone("Europe/Berlin").unwrap();
        // 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
        assert_eq!(expr.next_after(at("2026-11-24T03:00:00Z"), berlin).unwrap(), at("2026-11-25T01:00:00Z"));
        assert_eq!(expr.next_after(at("2026-07-01T03:00:00Z"), berlin).unwrap(), at("2026-07-02T00:00:00Z"));
        assert!(parse_timezone("Mars/Olympus").is_err());
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        let cases = [
            ("0 2 * *", "4 fields"),
            ("0 2 * * * *", "6 fields"),
            ("61 * * * *", "minute field \"61\": 61 is out of range 0-59"),
            ("* 24 * * *", "hour field"),
            ("* * 0 * *", "day-of-month field \"0\": 0 is out of range 1-31"),
            ("* * * 13 *", "month field"),
            ("* * * * 8", "day-of-week field \"8\": 8 is out of range 0-7"),
            ("* * * * funday", "\"funday\" is not a number or a name (sun, mon"),
            ("*/0 * * * *", "step \"0\" is not a positive number"),
            ("30-10 * * * *", "range 30-10 runs backwards"),
            ("0 0 30 2 *", "no date matches"),
            ("@fortnightly", "unknown shorthand @fortnightly"),
            ("@every 500ms", "at least 1s"),
            ("@every soon", "invalid duration"),
            ("", "0 fields"),
        ];
        for (expr, needle) in cases {
            let message = CronExpr::parse(expr).unwrap_err().to_string();
            assert!(message.contains(&format!("{expr:?}")), "{message} names the expression");
            assert!(message.contains(needle), "{expr:?}: {message:?} lacks {needle:?}");
        }
    }

    #[test]
    fn round_trips_as_the_text_written() {
        let expr = CronExpr::parse(" 0 2 * * * ").unwrap();
        let json = serde_json::to_string(&expr).unwrap();
        assert_eq!(json, "\"0 2 * * *\"");
        assert_eq!(serde_json::from_str::<CronExpr>(&json).unwrap(), expr);
        assert!(serde_json::from_str::<CronExpr>("\"bad\"").is_err());
    }
}
