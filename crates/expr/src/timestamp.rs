//! `timestamptz` values: microseconds since 1970-01-01 00:00:00 UTC.
//!
//! Input accepts ISO 8601 and PostgreSQL's own output form; output is
//! PostgreSQL's ISO `DateStyle` in UTC (`2015-12-12 19:11:01.249+00`).

use crate::{Error, Result};

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A cursor over timestamp text.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
}

/// Parses a timestamp with optional time and zone; no zone means UTC (the
/// session time zone).
pub fn parse_timestamptz(input: &str) -> Result<i64> {
    let invalid = || {
        Error::InvalidDatetime(format!(
            "invalid input syntax for type timestamp with time zone: \"{input}\""
        ))
    };
    let s = input.trim();
    match s.to_ascii_lowercase().as_str() {
        "epoch" => return Ok(0),
        "infinity" | "-infinity" => return Err(invalid()),
        _ => {}
    }
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let y = c.digits(4, 6).ok_or_else(invalid)?;
    if !c.eat(b'-') {
        return Err(invalid());
    }
    let mo = c.digits(1, 2).ok_or_else(invalid)? as u32;
    if !c.eat(b'-') {
        return Err(invalid());
    }
    let d = c.digits(1, 2).ok_or_else(invalid)? as u32;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return Err(Error::FieldOutOfRange(input.to_string()));
    }
    let (mut hh, mut mi, mut ss, mut micros) = (0i64, 0i64, 0i64, 0i64);
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        while c.eat(b' ') {}
        hh = c.digits(1, 2).ok_or_else(invalid)?;
        if !c.eat(b':') {
            return Err(invalid());
        }
        mi = c.digits(2, 2).ok_or_else(invalid)?;
        if c.eat(b':') {
            ss = c.digits(2, 2).ok_or_else(invalid)?;
            if c.eat(b'.') {
                let start = c.i;
                let frac = c.digits(1, 64).ok_or_else(invalid)?;
                let n = c.i - start;
                // Round to microseconds, as PostgreSQL does.
                let text = &s[start..c.i];
                micros = if n <= 6 {
                    frac * 10i64.pow((6 - n) as u32)
                } else {
                    let head: i64 = text[..6].parse().map_err(|_| invalid())?;
                    head + i64::from(text.as_bytes()[6] >= b'5')
                };
            }
        }
        if hh > 24 || mi > 59 || ss > 60 || (hh == 24 && (mi > 0 || ss > 0 || micros > 0)) {
            return Err(Error::FieldOutOfRange(input.to_string()));
        }
    }
    while c.eat(b' ') {}
    let mut offset_secs = 0i64;
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => c.i += 1,
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let oh = c.digits(1, 2).ok_or_else(invalid)?;
            let mut om = 0;
            if c.eat(b':') || c.peek().is_some_and(|b| b.is_ascii_digit()) {
                om = c.digits(2, 2).ok_or_else(invalid)?;
            }
            offset_secs = (oh * 3600 + om * 60) * if sign == b'-' { -1 } else { 1 };
        }
        Some(_) => {
            let rest = &s[c.i..];
            if rest.eq_ignore_ascii_case("utc") || rest.eq_ignore_ascii_case("gmt") {
                c.i = s.len();
            } else {
                return Err(invalid());
            }
        }
    }
    if c.i != c.b.len() {
        return Err(invalid());
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * SECS_PER_DAY + hh * 3600 + mi * 60 + ss - offset_secs;
    secs.checked_mul(MICROS_PER_SEC)
        .and_then(|v| v.checked_add(micros))
        .ok_or(Error::DatetimeOverflow)
}

/// Formats as PostgreSQL does with `DateStyle = ISO` and `TimeZone = UTC`.
pub fn format_timestamptz(micros: i64) -> String {
    let secs = micros.div_euclid(MICROS_PER_SEC);
    let frac = micros.rem_euclid(MICROS_PER_SEC);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let mut s = if y <= 0 {
        format!("{:04}-{:02}-{:02}", 1 - y, m, d)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    };
    s.push_str(&format!(
        " {:02}:{:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    ));
    if frac > 0 {
        let f = format!(".{frac:06}");
        s.push_str(f.trim_end_matches('0'));
    }
    s.push_str("+00");
    if y <= 0 {
        s.push_str(" BC");
    }
    s
}

/// Parses `date` input: `YYYY-MM-DD`, optionally followed by a time (and
/// zone), which is ignored, as PostgreSQL ignores it. Days since
/// 1970-01-01.
pub fn parse_date(input: &str) -> Result<i32> {
    let invalid =
        || Error::InvalidDatetime(format!("invalid input syntax for type date: \"{input}\""));
    let s = input.trim();
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let y = c.digits(4, 6).ok_or_else(invalid)?;
    let m = (c.eat(b'-').then(|| c.digits(1, 2)))
        .flatten()
        .ok_or_else(invalid)?;
    let d = (c.eat(b'-').then(|| c.digits(1, 2)))
        .flatten()
        .ok_or_else(invalid)?;
    let rest = &s[c.i..];
    if !rest.is_empty() {
        // A time after the date must itself be valid.
        if !(rest.starts_with(' ') || rest.starts_with('T') || rest.starts_with('t')) {
            return Err(invalid());
        }
        parse_timestamptz(s).map_err(|_| invalid())?;
    }
    if !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(y, m as u32)) {
        return Err(Error::FieldOutOfRange(input.to_string()));
    }
    i32::try_from(days_from_civil(y, m as u32, d as u32)).map_err(|_| Error::DatetimeOverflow)
}

/// `YYYY-MM-DD`, PostgreSQL's ISO `DateStyle`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    if y <= 0 {
        return format!("{:04}-{m:02}-{d:02} BC", 1 - y);
    }
    format!("{y:04}-{m:02}-{d:02}")
}

/// The date of a timestamp (UTC, the session time zone).
pub fn date_of_timestamp(micros: i64) -> Result<i32> {
    i32::try_from(micros.div_euclid(SECS_PER_DAY * MICROS_PER_SEC))
        .map_err(|_| Error::DatetimeOverflow)
}

/// Midnight (UTC) of a date, as a timestamp.
pub fn timestamp_of_date(days: i32) -> Result<i64> {
    i64::from(days)
        .checked_mul(SECS_PER_DAY * MICROS_PER_SEC)
        .ok_or(Error::DatetimeOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        format_timestamptz(parse_timestamptz(s).unwrap())
    }

    #[test]
    fn matches_postgres_output() {
        // Expected values from PostgreSQL 15 with TimeZone=UTC.
        assert_eq!(
            round("2015-12-12T19:11:01.249Z"),
            "2015-12-12 19:11:01.249+00"
        );
        assert_eq!(round("2015-12-12 19:11:01"), "2015-12-12 19:11:01+00");
        assert_eq!(round("2015-12-12"), "2015-12-12 00:00:00+00");
        assert_eq!(round("2015-12-12T19:11:01+02:00"), "2015-12-12 17:11:01+00");
        assert_eq!(round("2015-12-12T19:11:01-0530"), "2015-12-13 00:41:01+00");
        assert_eq!(
            round("2020-02-29T00:00:00.1234567Z"),
            "2020-02-29 00:00:00.123457+00"
        );
        assert_eq!(round("1969-12-31T23:59:59.5Z"), "1969-12-31 23:59:59.5+00");
        assert_eq!(round("2024-01-01 10:00 UTC"), "2024-01-01 10:00:00+00");
    }

    #[test]
    fn rejects_bad_dates() {
        for s in [
            "",
            "2015-13-01",
            "2015-02-30",
            "2015-12-12T25:00",
            "yesterday",
            "2015-12-12Tx",
        ] {
            assert!(parse_timestamptz(s).is_err(), "{s}");
        }
    }
}
