//! 和暦 (Japanese era) dates: reading what staff type (`R7.4.1`, `令和7年4月1日`, `令和元年5月1日`,
//! `H28.4.1`, `2025-04-01`, full-width digits, `㍻`), with a time of day where one is asked
//! (`令和8年11月24日 10:30`, `R8.11.24 10時30分`), and writing dates the way Japanese offices
//! expect. Exact at era boundaries; knows nothing of storage.

use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Why};
use crate::time::{Date, DateError, HOUR, Timestamp};

/// One era of the modern calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Era {
    pub name: &'static str,
    pub letter: char,
    pub short: char,
    /// First day of the era (JIS X 0301 for 明治).
    pub start: (i32, u32, u32),
}

/// 明治 to 令和, oldest first.
pub const ERAS: [Era; 5] = [
    Era { name: "明治", letter: 'M', short: '明', start: (1868, 1, 25) },
    Era { name: "大正", letter: 'T', short: '大', start: (1912, 7, 30) },
    Era { name: "昭和", letter: 'S', short: '昭', start: (1926, 12, 25) },
    Era { name: "平成", letter: 'H', short: '平', start: (1989, 1, 8) },
    Era { name: "令和", letter: 'R', short: '令', start: (2019, 5, 1) },
];

fn era_start(era: &Era) -> Date {
    let (y, m, d) = era.start;
    Date::new(y, m, d).unwrap_or_else(|_| Date::from_days(0))
}

/// The era a date falls in, or `None` before 明治.
#[must_use]
pub fn era_of(date: Date) -> Option<(&'static Era, i32)> {
    ERAS.iter().rev().find(|e| date >= era_start(e)).map(|e| (e, date.year() - e.start.0 + 1))
}

/// `令和7年4月1日`; year one is `元年`. Dates before 明治 fall back to the Gregorian form.
#[must_use]
pub fn format(date: Date) -> String {
    match era_of(date) {
        Some((era, 1)) => format!("{}元年{}月{}日", era.name, date.month(), date.day()),
        Some((era, y)) => format!("{}{}年{}月{}日", era.name, y, date.month(), date.day()),
        None => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    }
}

/// `R7.4.1`, the short form used in lists and case numbers.
#[must_use]
pub fn format_short(date: Date) -> String {
    match era_of(date) {
        Some((era, y)) => format!("{}{}.{}.{}", era.letter, y, date.month(), date.day()),
        None => date.to_string(),
    }
}

/// The label of a fiscal year (April to March) for case numbers: `R7` for FY2025. The era is the
/// one in force at the end of the calendar year the fiscal year starts in, so FY2019 is 令和元年度
/// (as the government numbered it) and FY1988 is 昭和63年度.
#[must_use]
pub fn fiscal_year_label(fiscal_year: i32) -> String {
    Date::new(fiscal_year, 12, 31)
        .ok()
        .and_then(era_of)
        .map_or_else(|| fiscal_year.to_string(), |(era, y)| format!("{}{}", era.letter, y))
}

/// The first year a Gregorian date may name: 明治 began in 1868. A year typed short (`8/11/24`,
/// 令和8 without its era) would otherwise be read as a year of the first century.
const FIRST_YEAR: i32 = 1868;

/// Reads a date in any of the accepted forms (`R7.4.1`, `令和7年4月1日`, `2025-04-01`,
/// `2025年4月1日`, with or without a weekday such as `(火)`). A Gregorian year has its four
/// digits and is 1868 or later. Lenient in one customary way only: a date written in an era just
/// after that era ended, in the same Gregorian year (`平成31年5月1日` on a pre-printed form), is
/// read as the date it names. A date before its era began is refused.
pub fn parse(input: &str) -> Result<Date, DateError> {
    let text: String = input.nfkc().filter(|c| !c.is_whitespace()).collect();
    let text = without_weekday(&text);
    if text.is_empty() {
        return Err(DateError::new(input, "empty date"));
    }
    let first = text.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() {
        four_digit_year(input, &text)?;
        let date = if text.contains('年') {
            let (y, m, d) = split_numbers(&text)
                .ok_or_else(|| DateError::new(input, "expected year, month and day, e.g. 2025年4月1日"))?;
            Date::new(y, m, d)
        } else {
            Date::parse_iso(&text)
        }
        .map_err(|e| DateError::new(input, e.reason))?;
        return gregorian(input, &text, date);
    }
    let (era, rest) = split_era(&text).ok_or_else(|| {
        DateError::new(input, "unknown era; use 令和/平成/昭和/大正/明治, R/H/S/T/M, or YYYY-MM-DD")
    })?;
    let (year, month, day) = split_numbers(rest).ok_or_else(|| {
        DateError::new(input, "expected era year, month and day, e.g. R7.4.1 or 令和7年4月1日")
    })?;
    if year < 1 {
        return Err(DateError::new(input, "era year must be 1 or more"));
    }
    if year > 200 {
        return Err(DateError::new(input, "era year too large"));
    }
    let gregorian = era.start.0 + year - 1;
    let date = Date::new(gregorian, month, day).map_err(|e| DateError::new(input, e.reason))?;
    if date < era_start(era) {
        return Err(DateError::new(input, format!("{} began on {}", era.name, format(era_start(era)))));
    }
    if let Some(next) = ERAS.iter().find(|e| e.start > era.start) {
        let next_start = era_start(next);
        if date >= next_start && date.year() != next_start.year() {
            return Err(DateError::new(
                input,
                format!("{} ended on {}", era.name, format(next_start.plus_days(-1))),
            ));
        }
    }
    Ok(date)
}

/// Reads a date and a time of day in Japan: the date in any form [`parse`] takes, then the time
/// as `10:30`, `10:30:15`, `10時30分`, `10時` or `10時半`: `令和8年11月24日 10:30`,
/// `R8.11.24 10:30`, `令和8年11月24日(火)10時30分`, `2026-11-24T10:30`. An ISO instant with its
/// offset (`2026-11-24T01:30Z`, what an API client sends) is read as that instant. A date alone
/// is refused: a record's time is not guessed.
pub fn parse_datetime(input: &str) -> Result<Timestamp, DateError> {
    let text: String = input.nfkc().collect();
    let text = without_weekday(text.trim());
    let text = text.trim();
    if text.is_empty() {
        return Err(DateError::new(input, "empty date and time"));
    }
    if let Ok(at) = Timestamp::parse(text) {
        gregorian(input, text, at.jst_date())?;
        return Ok(at);
    }
    let (date, time) = split_datetime(input, text)?;
    let (h, m, s) = split_time(time)
        .filter(|&(h, m, s)| (0..24).contains(&h) && (0..60).contains(&m) && (0..60).contains(&s))
        .ok_or_else(|| DateError::new(input, "expected a time of day 0:00-23:59, e.g. 10:30 or 10時30分"))?;
    Ok(Timestamp::jst_midnight(date).plus(h * HOUR + m * 60 + s))
}

/// Reads a date typed into `field`; a refusal names the field.
pub fn read_date(field: &'static str, input: &str) -> Result<Date, Error> {
    parse(input).map_err(|e| Error::invalid(field, Why::NotADate(e.reason)))
}

/// Reads a date and a time typed into `field` ([`parse_datetime`]); a refusal names the field.
pub fn read_datetime(field: &'static str, input: &str) -> Result<Timestamp, Error> {
    parse_datetime(input).map_err(|e| Error::invalid(field, Why::NotADateTime(e.reason)))
}

/// The date and the time of `令和8年11月24日10時30分`, `R8.11.24 10:30` or `2026-11-24T10:30`: after
/// the 日, at a `T` that follows a digit (not 大正's T), or at the first space before which a date
/// is read.
fn split_datetime<'t>(input: &str, text: &'t str) -> Result<(Date, &'t str), DateError> {
    let read = |day: &str| parse(day).map_err(|e| DateError::new(input, e.reason));
    if let Some(i) = text.rfind('日') {
        let (day, time) = text.split_at(i + '日'.len_utf8());
        return Ok((read(day)?, time));
    }
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        if c == 'T' && prev.is_ascii_digit() {
            return Ok((read(&text[..i])?, &text[i + 1..]));
        }
        prev = c;
    }
    // The longest part that is not a date says best why (`令和 8.2.30 10:30`: no such day).
    let mut last_error = None;
    for (i, _) in text.match_indices(char::is_whitespace) {
        match read(&text[..i]) {
            Ok(date) => return Ok((date, &text[i..])),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        DateError::new(input, "expected a date and a time, e.g. 令和8年11月24日 10:30 or R8.11.24 10:30")
    }))
}

/// Hours, minutes and seconds of `10:30`, `10:30:15`, `10時30分`, `10時`, `10時半`.
fn split_time(time: &str) -> Option<(i64, i64, i64)> {
    // Spaces around 時, 分 and the colon go; one between two digits is not a time (`2 3:00`).
    let chars: Vec<char> = time.trim().chars().collect();
    let split_number =
        chars.windows(3).any(|w| w[0].is_ascii_digit() && w[1].is_whitespace() && w[2].is_ascii_digit());
    if split_number {
        return None;
    }
    let time: String = chars.into_iter().filter(|c| !c.is_whitespace()).collect();
    let number = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    if let Some((h, rest)) = time.split_once(':') {
        let (m, s) = match rest.split_once(':') {
            Some((m, s)) => (m, number(s)?),
            None => (rest, 0),
        };
        return Some((number(h)?, number(m)?, s));
    }
    let (h, rest) = time.split_once('時')?;
    let m = match rest {
        "" => 0,
        "半" => 30,
        _ => number(rest.strip_suffix('分')?)?,
    };
    Some((number(h)?, m, 0))
}

/// Refuses a Gregorian date whose year was not written with its four digits.
fn four_digit_year(input: &str, text: &str) -> Result<(), DateError> {
    if text.chars().take_while(char::is_ascii_digit).count() == 4 {
        Ok(())
    } else {
        Err(DateError::new(input, "write the year with its four digits (2026) or with its era (令和8年, R8)"))
    }
}

/// `date`, read from `text`, if its year was written with four digits and is 1868 or later.
fn gregorian(input: &str, text: &str, date: Date) -> Result<Date, DateError> {
    four_digit_year(input, text)?;
    if date.year() < FIRST_YEAR {
        return Err(DateError::new(input, "before 明治 (1868)"));
    }
    Ok(date)
}

/// `text` without a weekday in brackets (`(火)`, `(火曜)`, `(火曜日)`), as dates are often
/// copied from a letter or a calendar.
fn without_weekday(text: &str) -> String {
    let mut out = text.to_owned();
    for day in "月火水木金土日".chars() {
        for form in [format!("({day}曜日)"), format!("({day}曜)"), format!("({day})")] {
            out = out.replace(&form, "");
        }
    }
    out
}

fn split_era(text: &str) -> Option<(&'static Era, &str)> {
    for era in &ERAS {
        if let Some(rest) = text.strip_prefix(era.name) {
            return Some((era, rest));
        }
    }
    let mut chars = text.chars();
    let c = chars.next()?;
    let era = ERAS.iter().find(|e| c.eq_ignore_ascii_case(&e.letter) || c == e.short)?;
    Some((era, chars.as_str()))
}

/// `7.4.1`, `7年4月1日`, `元年5月1日`, `07/04/01`.
fn split_numbers(rest: &str) -> Option<(i32, u32, u32)> {
    let rest = rest.replacen('元', "1", 1);
    let nums: Vec<&str> = rest.split(['.', '/', '-', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    if nums.len() != 3 || !rest.chars().all(|c| c.is_ascii_digit() || ".-/年月日".contains(c)) {
        return None;
    }
    Some((nums[0].parse().ok()?, nums[1].parse().ok()?, nums[2].parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    #[test]
    fn parses_the_table() {
        let table = [
            ("R7.4.1", "2025-04-01"),
            ("r7.4.1", "2025-04-01"),
            ("令和7年4月1日", "2025-04-01"),
            ("令和元年5月1日", "2019-05-01"),
            ("令和1年5月1日", "2019-05-01"),
            ("2025-04-01", "2025-04-01"),
            ("2025/4/1", "2025-04-01"),
            ("H28.4.1", "2016-04-01"),
            ("平成28年4月1日", "2016-04-01"),
            ("平28.4.1", "2016-04-01"),
            ("Ｒ７．４．１", "2025-04-01"),
            ("令和７年４月１日", "2025-04-01"),
            ("㍻28年4月1日", "2016-04-01"),
            ("令和 7年 4月 1日", "2025-04-01"),
            ("S64.1.7", "1989-01-07"),
            ("昭和64年1月7日", "1989-01-07"),
            ("H1.1.8", "1989-01-08"),
            ("平成元年1月8日", "1989-01-08"),
            ("H31.4.30", "2019-04-30"),
            ("R1.5.1", "2019-05-01"),
            ("平成31年5月1日", "2019-05-01"),
            ("T1.7.30", "1912-07-30"),
            ("M45.7.29", "1912-07-29"),
            ("S1.12.25", "1926-12-25"),
            ("T15.12.24", "1926-12-24"),
            ("M1.1.25", "1868-01-25"),
            ("H12.2.29", "2000-02-29"),
            ("2025年4月1日", "2025-04-01"),
            ("令和7年4月1日(火)", "2025-04-01"),
            ("R7.4.6（日曜日）", "2025-04-06"),
            ("1868-01-25", "1868-01-25"),
        ];
        for (input, iso) in table {
            assert_eq!(parse(input), Ok(d(iso)), "{input}");
        }
    }

    #[test]
    fn refuses_impossible_dates_clearly() {
        for bad in [
            "R1.4.30", // 令和 began 2019-05-01
            "令和元年4月30日",
            "H1.1.7",  // 平成 began 1989-01-08
            "H32.1.1", // 平成 ended 2019-04-30, and 2020 is another year
            "R7.2.29", // 2025 is not a leap year
            "R7.13.1",
            "R0.1.1",
            "X7.4.1",
            "R7.4",
            "",
            "令和七年四月一日",
            "M1.1.24",
            "8/11/24",
            "26-11-24",
            "0008-11-24",
            "1867-12-31",
            "20261124",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(!err.reason.is_empty(), "{bad}");
        }
        assert!(parse("R1.4.30").unwrap_err().reason.contains("令和元年5月1日"));
        for short in ["8/11/24", "4.2.2", "26-11-24", "R"] {
            let reason = parse(short).unwrap_err().reason;
            assert_eq!(reason.contains("four digits"), short != "R", "{short}: {reason}");
        }
    }

    #[test]
    fn reads_a_date_and_a_time() {
        let at = |iso: &str| Timestamp::parse(iso).unwrap();
        let table = [
            ("令和8年11月24日 10:30", "2026-11-24T10:30+09:00"),
            ("令和8年11月24日10:30", "2026-11-24T10:30+09:00"),
            ("令和8年11月24日10時30分", "2026-11-24T10:30+09:00"),
            ("令和８年１１月２４日　１０：３０", "2026-11-24T10:30+09:00"),
            ("R8.11.24 10:30", "2026-11-24T10:30+09:00"),
            ("r8.11.24  9:05", "2026-11-24T09:05+09:00"),
            ("R8.11.24 9時", "2026-11-24T09:00+09:00"),
            ("R8.11.24 9時半", "2026-11-24T09:30+09:00"),
            ("令和 8年 11月 24日 23:59:59", "2026-11-24T23:59:59+09:00"),
            ("令和8年11月24日(火) 10:30", "2026-11-24T10:30+09:00"),
            ("令和8年11月29日（日）10:30", "2026-11-29T10:30+09:00"),
            ("R8.11.24 10時 30分", "2026-11-24T10:30+09:00"),
            ("2026年11月24日 10:30", "2026-11-24T10:30+09:00"),
            ("令和元年5月1日 0:00", "2019-05-01T00:00+09:00"),
            ("T1.7.30 12:00", "1912-07-30T12:00+09:00"),
            ("2026-11-24T10:30", "2026-11-24T10:30+09:00"),
            ("2026-11-24 10:30", "2026-11-24T10:30+09:00"),
            ("2026/11/24 10:30", "2026-11-24T10:30+09:00"),
            ("2026-11-24T01:30Z", "2026-11-24T10:30+09:00"),
            ("2026-11-24T10:30+09:00", "2026-11-24T10:30+09:00"),
        ];
        for (input, iso) in table {
            assert_eq!(parse_datetime(input), Ok(at(iso)), "{input}");
        }
        // What the page writes is read back.
        for iso in ["2019-04-30T23:59+09:00", "2019-05-01T00:00+09:00", "1989-01-07T08:15+09:00"] {
            let t = at(iso);
            let secs = (t.0 + crate::time::JST_OFFSET).rem_euclid(86_400);
            let written = format!("{} {}:{:02}", format(t.jst_date()), secs / 3600, secs % 3600 / 60);
            assert_eq!(parse_datetime(&written), Ok(t), "{written}");
        }
    }

    #[test]
    fn refuses_a_date_time_it_cannot_read_naming_why() {
        for (bad, why) in [
            ("", "empty"),
            ("令和8年11月24日", "time of day"),
            ("R8.11.24", "expected a date and a time"),
            ("R8.11.24 24:00", "time of day"),
            ("R8.11.24 10:60", "time of day"),
            ("R8.11.24 1030", "time of day"),
            ("R8.1.1 2 3:00", "time of day"),
            ("令和 8.2.30 10:30", "no such day"),
            ("8/11/24 10:30", "four digits"),
            ("26-11-24 10:30", "four digits"),
            ("0026-11-24T10:30", "1868"),
            ("1800-01-01 10:00", "1868"),
            ("R8.11.24 10時30", "time of day"),
            ("R8.11.24 10:30:75", "time of day"),
            ("R1.4.30 10:00", "令和元年5月1日"),
            ("R8.2.30 10:00", "day"),
            ("X8.11.24 10:00", "unknown era"),
        ] {
            let err = parse_datetime(bad).expect_err(bad);
            assert!(err.reason.contains(why), "{bad}: {}", err.reason);
        }
        let e = read_datetime("received_at", "R8.11.24").unwrap_err();
        assert!(matches!(e, Error::Invalid { field: "received_at", reason: Why::NotADateTime(_) }), "{e:?}");
        let e = read_date("birth_date", "R1.4.30").unwrap_err();
        assert!(e.to_string().contains("birth_date") && e.to_string().contains("令和元年5月1日"), "{e}");
    }

    #[test]
    fn formats_at_boundaries() {
        assert_eq!(format(d("1989-01-07")), "昭和64年1月7日");
        assert_eq!(format(d("1989-01-08")), "平成元年1月8日");
        assert_eq!(format(d("2019-04-30")), "平成31年4月30日");
        assert_eq!(format(d("2019-05-01")), "令和元年5月1日");
        assert_eq!(format(d("2025-04-01")), "令和7年4月1日");
        assert_eq!(format_short(d("2025-04-01")), "R7.4.1");
        assert_eq!(fiscal_year_label(2025), "R7");
        assert_eq!(fiscal_year_label(2019), "R1");
        assert_eq!(fiscal_year_label(1988), "S63");
        assert_eq!(fiscal_year_label(1989), "H1");
        for iso in ["1989-01-07", "1989-01-08", "2019-04-30", "2019-05-01", "1912-07-30"] {
            assert_eq!(parse(&format(d(iso))), Ok(d(iso)));
            assert_eq!(parse(&format_short(d(iso))), Ok(d(iso)));
        }
    }
}
