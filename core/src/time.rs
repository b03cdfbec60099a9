//! Instants, calendar dates and the `Clock`. Domain code takes time as an argument; only the
//! binary's `SystemClock` reads the wall clock. All calendar arithmetic is Japan time (JST, UTC+9,
//! no daylight saving).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds east of UTC for Japan Standard Time.
pub const JST_OFFSET: i64 = 9 * 3600;
/// One hour, one day, in seconds.
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 24 * HOUR;

/// An instant: whole seconds since 1970-01-01T00:00:00Z. Written as that number; read from the
/// number or from text (what an API client sends): ISO as [`Timestamp::parse`] takes it, or 和暦
/// as a tablet's page does (`crate::wareki::parse_datetime`: `令和8年11月24日 10:30`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Instant;
        impl serde::de::Visitor<'_> for Instant {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("seconds since 1970, YYYY-MM-DDTHH:MM[:SS][Z|+09:00], or 和暦 such as 令和8年11月24日 10:30")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v).map(Timestamp).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                crate::wareki::parse_datetime(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Instant)
    }
}

impl Timestamp {
    #[must_use]
    pub fn plus(self, seconds: i64) -> Self {
        Self(self.0 + seconds)
    }

    /// The calendar date of this instant in Japan.
    #[must_use]
    pub fn jst_date(self) -> Date {
        Date::from_days(self.0.div_euclid(DAY) + i64::from(self.0.rem_euclid(DAY) + JST_OFFSET >= DAY))
    }

    /// The hour and minute of this instant in Japan.
    #[must_use]
    pub fn jst_time(self) -> (u32, u32) {
        let secs = (self.0 + JST_OFFSET).rem_euclid(DAY);
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "less than a day")]
        let secs = secs as u32;
        (secs / 3600, secs % 3600 / 60)
    }

    /// Midnight JST at the start of `date`.
    #[must_use]
    pub fn jst_midnight(date: Date) -> Self {
        Self(date.days() * DAY - JST_OFFSET)
    }

    /// `YYYY-MM-DDTHH:MM:SS+09:00`.
    #[must_use]
    pub fn to_jst_string(self) -> String {
        let local = self.0 + JST_OFFSET;
        let date = Date::from_days(local.div_euclid(DAY));
        let secs = local.rem_euclid(DAY);
        format!("{date}T{:02}:{:02}:{:02}+09:00", secs / 3600, secs % 3600 / 60, secs % 60)
    }

    /// `2026-12-20 22:00` in Japan time: what a person reads and types back.
    #[must_use]
    pub fn to_jst_minute(self) -> String {
        let s = self.to_jst_string();
        format!("{} {}", &s[..10], &s[11..16])
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS]` with an optional `Z` or `+09:00` offset; without an offset
    /// the time is taken as JST (what a Japanese user types).
    pub fn parse(s: &str) -> Result<Self, DateError> {
        let s = s.trim();
        let bad = || DateError::new(s, "expected YYYY-MM-DDTHH:MM[:SS][Z|+09:00]");
        let (date_part, rest) = s.split_once(['T', ' ']).ok_or_else(bad)?;
        let date = Date::parse_iso(date_part)?;
        let (time_part, offset) = if let Some(t) = rest.strip_suffix('Z') {
            (t, 0)
        } else if let Some(idx) = rest.rfind(['+', '-']) {
            let (t, off) = rest.split_at(idx);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let (h, m) = off[1..].split_once(':').ok_or_else(bad)?;
            let h: i64 = h.parse().map_err(|_| bad())?;
            let m: i64 = m.parse().map_err(|_| bad())?;
            (t, sign * (h * 3600 + m * 60))
        } else {
            (rest, JST_OFFSET)
        };
        let mut parts = time_part.split(':');
        let mut next = |max: i64| -> Result<i64, DateError> {
            match parts.next() {
                None => Ok(0),
                Some(p) => p.parse::<i64>().ok().filter(|v| (0..max).contains(v)).ok_or_else(bad),
            }
        };
        let (h, m, sec) = (next(24)?, next(60)?, next(60)?);
        Ok(Self(date.days() * DAY + h * 3600 + m * 60 + sec - offset))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_jst_string())
    }
}

/// Where the current time comes from. Tests pass a fixed clock; the binary passes the system one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A clock that stays where it is put: for tests and for replaying imports.
#[derive(Debug)]
pub struct FixedClock(std::sync::atomic::AtomicI64);

impl FixedClock {
    #[must_use]
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::atomic::AtomicI64::new(at.0))
    }
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, std::sync::atomic::Ordering::SeqCst);
    }
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// A date in the proleptic Gregorian calendar, stored and exchanged as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// A date that could not be read, with the text and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {input:?}: {reason}")]
pub struct DateError {
    pub input: String,
    pub reason: String,
}

/// How a `DateError` reads (its `Display` above; a test holds them together): a deserialiser passes it on as text only, and a front-end that
/// reads a body by serde tells a date refused (a field's value, answered like any refused
/// field) from a body that is not what the operation takes by it (`is_date_error`).
const DATE_ERROR_OPENS: &str = "invalid date ";

impl DateError {
    /// Whether a deserialiser's message is a `DateError`'s.
    #[must_use]
    pub fn is_date_error(message: &str) -> bool {
        message.starts_with(DATE_ERROR_OPENS)
    }
}

impl DateError {
    pub(crate) fn new(input: &str, reason: impl Into<String>) -> Self {
        Self { input: input.to_owned(), reason: reason.into() }
    }
}

impl Date {
    /// A checked date: month 1–12, a day that exists in that month, year 1–9999.
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, DateError> {
        // The text is made only for an error: a date is built for every row a page draws.
        let refused = |reason: &str| DateError::new(&format!("{year:04}-{month:02}-{day:02}"), reason);
        if !(1..=9999).contains(&year) {
            return Err(refused("year out of range"));
        }
        if !(1..=12).contains(&month) {
            return Err(refused("month must be 1 to 12"));
        }
        let month8 = u8::try_from(month).map_err(|_| refused("month"))?;
        if day == 0 || day > u32::from(days_in_month(year, month8)) {
            return Err(refused("no such day in that month"));
        }
        let day = u8::try_from(day).map_err(|_| refused("day"))?;
        Ok(Self { year, month: month8, day })
    }

    #[must_use]
    pub fn year(self) -> i32 {
        self.year
    }
    #[must_use]
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    #[must_use]
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// The dates someone may have meant when typing this one as `YYYYMMDD` with one digit wrong,
    /// two neighbouring digits swapped, or the month and the day swapped, or with the year one
    /// off (a 和暦 year mistyped across a decade: 平成22 as 平成21): those that exist, without
    /// this one, in order. For the duplicate check (a 7/12 typed 7/21). None for a year outside
    /// 1000–9999.
    #[must_use]
    pub fn near_misses(self) -> Vec<Date> {
        if !(1000..=9999).contains(&self.year) {
            return Vec::new();
        }
        let digits: Vec<u8> = format!("{:04}{:02}{:02}", self.year, self.month, self.day).into_bytes();
        let of = |d: &[u8]| {
            let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
            let year = i32::try_from(n(0..4)).ok()?;
            Date::new(year, n(4..6), n(6..8)).ok()
        };
        let mut out = Vec::new();
        for i in 0..digits.len() {
            for digit in b'0'..=b'9' {
                let mut d = digits.clone();
                d[i] = digit;
                out.extend(of(&d));
            }
            if i + 1 < digits.len() {
                let mut d = digits.clone();
                d.swap(i, i + 1);
                out.extend(of(&d));
            }
        }
        out.extend(Date::new(self.year, self.day(), self.month()).ok());
        for year in [self.year - 1, self.year + 1] {
            out.extend(Date::new(year, self.month(), self.day()).ok());
        }
        out.sort();
        out.dedup();
        out.retain(|d| *d != self);
        out
    }

    /// Days since 1970-01-01 (negative before).
    #[must_use]
    pub fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[must_use]
    pub fn from_days(z: i64) -> Self {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "month is 1..=12 and day 1..=31 by construction"
        )]
        Self { year: year as i32, month: month as u8, day: day as u8 }
    }

    #[must_use]
    pub fn plus_days(self, n: i64) -> Self {
        Self::from_days(self.days() + n)
    }

    /// The date `n` months later with the same day number, or `None` when that month is too short
    /// (the caller decides; the Civil Code art. 143 rule is in `legal_period_end`).
    #[must_use]
    pub fn plus_months_exact(self, n: i32) -> Option<Self> {
        let total = self.year * 12 + i32::from(self.month) - 1 + n;
        let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        #[expect(clippy::cast_sign_loss, reason = "rem_euclid(12) + 1 is 1..=12")]
        Self::new(y, m as u32, u32::from(self.day)).ok()
    }

    /// The first day after a period of `months` months that starts on `self` (start day counted, as
    /// for temporary protection, which counts from the day it begins). Civil Code arts. 140–143: the
    /// period ends at the end of the day before the corresponding day; if that month has no
    /// corresponding day, at the end of its last day. Returns the day after the last day.
    #[must_use]
    pub fn legal_period_end(self, months: i32) -> Self {
        // No corresponding day: the period ends on the last day of that month, so the first day
        // after it is the 1st of the month after.
        self.plus_months_exact(months).unwrap_or_else(|| {
            let first = Self { day: 1, ..self };
            first.plus_months_exact(months + 1).unwrap_or(first)
        })
    }

    /// Reads `YYYY-MM-DD` (also `YYYY/MM/DD` and unpadded numbers).
    pub fn parse_iso(s: &str) -> Result<Self, DateError> {
        let parts: Vec<&str> = s.trim().split(['-', '/']).collect();
        if parts.len() != 3 {
            return Err(DateError::new(s, "expected YYYY-MM-DD"));
        }
        let num = |p: &str| p.parse::<u32>().map_err(|_| DateError::new(s, "expected YYYY-MM-DD"));
        let year = i32::try_from(num(parts[0])?).map_err(|_| DateError::new(s, "year"))?;
        Self::new(year, num(parts[1])?, num(parts[2])?).map_err(|e| DateError::new(s, e.reason))
    }

    /// Age in whole years on `on`.
    #[must_use]
    pub fn age_on(self, on: Date) -> i32 {
        let mut age = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            age -= 1;
        }
        age
    }
}

#[must_use]
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

#[must_use]
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_iso(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_error_is_known_by_its_text_after_a_deserialiser_passes_it_on() {
        let e = serde_json::from_str::<Timestamp>(r#""令和8年13月1日""#).unwrap_err();
        assert!(DateError::is_date_error(&e.to_string()), "{e}");
        let e = serde_json::from_str::<Date>(r#""2026-02-30""#).unwrap_err();
        assert!(DateError::is_date_error(&e.to_string()), "{e}");
        let e = serde_json::from_str::<Timestamp>("true").unwrap_err();
        assert!(!DateError::is_date_error(&e.to_string()), "a wrong type is no refused date: {e}");
    }

    #[test]
    fn near_misses_are_one_digit_off_or_two_swapped_or_month_and_day_swapped() {
        let d = |s: &str| Date::parse_iso(s).unwrap();
        let near = d("2017-07-12").near_misses();
        for meant in ["2017-07-21", "2017-07-13", "2017-01-12", "2016-07-12", "2007-07-12", "2017-12-07"] {
            assert!(near.contains(&d(meant)), "{meant}");
        }
        for far in ["2017-07-12", "2017-08-13", "2015-02-14", "2017-07-31"] {
            assert!(!near.contains(&d(far)), "{far}");
        }
        assert!(near.windows(2).all(|w| w[0] < w[1]), "in order, each once");
        // 平成22年 typed 平成21年: the year one off across a decade.
        assert!(d("2010-04-01").near_misses().contains(&d("2009-04-01")));
        // A leap day's year one off does not exist; a digit off may (2024).
        let leap = d("2020-02-29").near_misses();
        assert!(
            leap.contains(&d("2024-02-29")) && !leap.iter().any(|x| x.year() == 2019 || x.year() == 2021)
        );
    }

    #[test]
    fn days_round_trip_across_centuries() {
        for z in (-800_000..800_000).step_by(997) {
            assert_eq!(Date::from_days(z).days(), z);
        }
        assert_eq!(Date::new(1970, 1, 1).map(Date::days), Ok(0));
        assert_eq!(Date::new(2000, 3, 1).map(Date::days), Ok(11017));
    }

    #[test]
    fn an_instant_is_written_as_seconds_and_read_from_seconds_or_text() {
        let t = Timestamp::parse("2026-11-24T10:30+09:00").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), t.0.to_string());
        assert_eq!(serde_json::from_str::<Timestamp>(&t.0.to_string()).unwrap(), t);
        assert_eq!(serde_json::from_str::<Timestamp>("\"2026-11-24T10:30\"").unwrap(), t);
        assert_eq!(serde_json::from_str::<Timestamp>("\"令和8年11月24日 10:30\"").unwrap(), t);
        assert_eq!(serde_json::from_str::<Timestamp>("\"R8.11.24 10:30\"").unwrap(), t);
        let err = serde_json::from_str::<Timestamp>("\"24日の朝\"").unwrap_err();
        assert!(err.to_string().contains("four digits"), "{err}");
        let err = serde_json::from_str::<Timestamp>("\"26-11-24T10:30\"").unwrap_err();
        assert!(err.to_string().contains("four digits"), "a short year is not the year 26: {err}");
        assert!(serde_json::from_str::<Timestamp>("true").is_err());
    }

    #[test]
    fn jst_date_changes_at_15_utc() {
        let t = Timestamp::parse("2025-03-31T14:59:59Z").unwrap();
        assert_eq!(t.jst_date().to_string(), "2025-03-31");
        assert_eq!(t.plus(1).jst_date().to_string(), "2025-04-01");
        assert_eq!(t.plus(1).to_jst_string(), "2025-04-01T00:00:00+09:00");
        assert_eq!(Timestamp::parse("2025-04-01T00:00").unwrap(), t.plus(1));
    }

    #[test]
    fn legal_period_follows_civil_code() {
        let d = |s| Date::parse_iso(s).unwrap();
        assert_eq!(d("2025-04-10").legal_period_end(2), d("2025-06-10"));
        // 12-31 + 2 months: February has no 31st, the period ends on the last day of February.
        assert_eq!(d("2024-12-31").legal_period_end(2), d("2025-03-01"));
        assert_eq!(d("2023-12-30").legal_period_end(2), d("2024-03-01"));
        assert_eq!(d("2023-12-29").legal_period_end(2), d("2024-02-29"));
    }

    #[test]
    fn bad_dates_are_refused_with_a_reason() {
        assert!(Date::new(2025, 2, 29).is_err());
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(2025, 13, 1).is_err());
        assert!(Date::parse_iso("2025-04").is_err());
        assert!(Date::parse_iso("abcd-01-01").is_err());
    }
}
