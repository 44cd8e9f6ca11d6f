//! `interval` values, kept as PostgreSQL keeps them: months, days and
//! microseconds apart, since a month is no fixed number of days. Input
//! takes PostgreSQL's `postgres` style (`1 hour`, `2 days 03:00:00`,
//! `1.5 weeks`, `3h`, `10 minutes ago`); output is that style too
//! (`1 day 02:00:00`, `-1 days +02:00:00`). Comparison, equality and
//! grouping go by the whole span with 30-day months and 24-hour days, so
//! `'1 mon' = '30 days'`, as in PostgreSQL.

use std::cmp::Ordering;
use std::fmt;

use crate::timestamp::{civil_from_days, days_from_civil, days_in_month};
use crate::{Error, Result};

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// A time span: `months`, then `days`, then `micros`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Whole months (years are twelve of them).
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds (may exceed a day).
    pub micros: i64,
}

fn out_of_range() -> Error {
    Error::IntervalOverflow
}

fn syntax(input: &str) -> Error {
    Error::InvalidDatetime(format!(
        "invalid input syntax for type interval: \"{input}\""
    ))
}

/// A unit of interval input and what one of it is.
#[derive(Clone, Copy)]
enum Unit {
    Micros(i64),
    Days(i64),
    Months(i64),
}

fn unit(word: &str) -> Option<Unit> {
    Some(match word {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" => Unit::Micros(1),
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => Unit::Micros(1_000),
        "second" | "seconds" | "s" | "sec" | "secs" => Unit::Micros(MICROS_PER_SEC),
        "minute" | "minutes" | "m" | "min" | "mins" => Unit::Micros(60 * MICROS_PER_SEC),
        "hour" | "hours" | "h" | "hr" | "hrs" => Unit::Micros(3_600 * MICROS_PER_SEC),
        "day" | "days" | "d" => Unit::Days(1),
        "week" | "weeks" | "w" => Unit::Days(7),
        "month" | "months" | "mon" | "mons" => Unit::Months(1),
        "year" | "years" | "y" | "yr" | "yrs" => Unit::Months(12),
        "decade" | "decades" => Unit::Months(120),
        "century" | "centuries" => Unit::Months(1_200),
        "millennium" | "millennia" => Unit::Months(12_000),
        _ => return None,
    })
}

/// Accumulates parsed fields; fractions spill down as PostgreSQL's do
/// (a month is 30 days, a day 24 hours).
#[derive(Default)]
struct Acc {
    months: i64,
    days: i64,
    micros: f64,
    whole_micros: i64,
}

impl Acc {
    fn add(&mut self, n: f64, u: Unit) -> Option<()> {
        if !n.is_finite() {
            return None;
        }
        match u {
            Unit::Micros(m) => {
                let v = n * m as f64;
                if v.fract() == 0.0 && v.abs() < 9e15 {
                    self.whole_micros = self.whole_micros.checked_add(v as i64)?;
                } else {
                    self.micros += v;
                }
            }
            Unit::Days(d) => {
                let v = n * d as f64;
                let whole = v.trunc();
                self.days = self.days.checked_add(whole as i64)?;
                self.micros += (v - whole) * MICROS_PER_DAY as f64;
            }
            Unit::Months(m) => {
                let v = n * m as f64;
                let whole = v.trunc();
                self.months = self.months.checked_add(whole as i64)?;
                let days = (v - whole) * 30.0;
                let whole_days = days.trunc();
                self.days = self.days.checked_add(whole_days as i64)?;
                self.micros += (days - whole_days) * MICROS_PER_DAY as f64;
            }
        }
        Some(())
    }

    fn finish(self, negate: bool) -> Option<Interval> {
        let micros = self
            .whole_micros
            .checked_add(self.micros.round() as i64)
            .filter(|_| self.micros.abs() < 9.2e18)?;
        let sign = if negate { -1 } else { 1 };
        Some(Interval {
            months: i32::try_from(self.months * sign).ok()?,
            days: i32::try_from(self.days * sign).ok()?,
            micros: micros.checked_mul(sign)?,
        })
    }
}

/// `[-]H+:MM[:SS[.frac]]`, as microseconds.
fn time_of(t: &str) -> Option<i64> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut parts = t.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s: f64 = match parts.next() {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            s.parse().ok()?
        }
        Some(_) => return None,
        None => 0.0,
    };
    if parts.next().is_some() || !(0..60).contains(&m) || !(0.0..60.0).contains(&s) {
        return None;
    }
    let v = h
        .checked_mul(3_600 * MICROS_PER_SEC)?
        .checked_add(m * 60 * MICROS_PER_SEC)?
        .checked_add((s * MICROS_PER_SEC as f64).round() as i64)?;
    Some(if neg { -v } else { v })
}

impl Interval {
    /// Parses interval input (22007 for text that is not one).
    pub fn parse(input: &str) -> Result<Interval> {
        Interval::parse_opt(input).ok_or_else(|| syntax(input))
    }

    fn parse_opt(input: &str) -> Option<Interval> {
        let lower = input.trim().to_ascii_lowercase();
        let text = lower.strip_prefix('@').unwrap_or(&lower);
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let ago = words.last() == Some(&"ago");
        if ago {
            words.pop();
        }
        if words.is_empty() {
            return None;
        }
        let mut acc = Acc::default();
        let mut i = 0;
        while i < words.len() {
            let w = words[i];
            if w.contains(':') {
                acc.whole_micros = acc.whole_micros.checked_add(time_of(w)?)?;
                i += 1;
                continue;
            }
            // A number, with its unit attached (`3h`) or as the next word.
            let split = w
                .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
                .unwrap_or(w.len());
            let (num, attached) = w.split_at(split);
            let n: f64 = num.parse().ok()?;
            let u = if attached.is_empty() {
                match words.get(i + 1).and_then(|u| unit(u)) {
                    Some(u) => {
                        i += 1;
                        u
                    }
                    // A lone number is seconds.
                    None if i + 1 == words.len() => Unit::Micros(MICROS_PER_SEC),
                    None => return None,
                }
            } else {
                unit(attached)?
            };
            acc.add(n, u)?;
            i += 1;
        }
        acc.finish(ago)
    }

    /// The whole span in microseconds, with 30-day months: what intervals
    /// are compared and grouped by.
    pub fn span(&self) -> i128 {
        (i128::from(self.months) * 30 + i128::from(self.days)) * i128::from(MICROS_PER_DAY)
            + i128::from(self.micros)
    }

    /// PostgreSQL's ordering of intervals.
    pub fn total_cmp(&self, other: &Interval) -> Ordering {
        self.span().cmp(&other.span())
    }

    /// `self + other` (22008 past the range).
    pub fn add(&self, other: &Interval) -> Result<Interval> {
        (|| {
            Some(Interval {
                months: self.months.checked_add(other.months)?,
                days: self.days.checked_add(other.days)?,
                micros: self.micros.checked_add(other.micros)?,
            })
        })()
        .ok_or_else(out_of_range)
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Interval> {
        (|| {
            Some(Interval {
                months: self.months.checked_neg()?,
                days: self.days.checked_neg()?,
                micros: self.micros.checked_neg()?,
            })
        })()
        .ok_or_else(out_of_range)
    }

    /// The difference of two timestamps as PostgreSQL gives it: whole days
    /// moved out of the microseconds (`justify_hours`).
    pub fn between(later: i64, earlier: i64) -> Result<Interval> {
        let diff = later.checked_sub(earlier).ok_or_else(out_of_range)?;
        Ok(Interval {
            months: 0,
            days: i32::try_from(diff / MICROS_PER_DAY).map_err(|_| out_of_range())?,
            micros: diff % MICROS_PER_DAY,
        })
    }

    /// Seconds in the interval, as `extract(epoch from ...)` counts them: a
    /// year is 365.25 days, a month 30.
    pub fn epoch_seconds(&self) -> f64 {
        let years = f64::from(self.months / 12);
        let months = f64::from(self.months % 12);
        years * 365.25 * 86_400.0
            + months * 30.0 * 86_400.0
            + f64::from(self.days) * 86_400.0
            + self.micros as f64 / MICROS_PER_SEC as f64
    }

    /// The timestamp `micros` moved by this interval: months on the
    /// calendar (the day clamped to the month's last), then days, then
    /// time (UTC, so days are 24 hours).
    pub fn add_to_timestamp(&self, micros: i64) -> Result<i64> {
        let range = || Error::DatetimeOverflow;
        let mut t = micros;
        if self.months != 0 {
            let days = t.div_euclid(MICROS_PER_DAY);
            let time = t.rem_euclid(MICROS_PER_DAY);
            let (y, m, d) = civil_from_days(days);
            let total = y * 12 + i64::from(m) - 1 + i64::from(self.months);
            let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
            let d = d.min(days_in_month(y, m));
            t = days_from_civil(y, m, d)
                .checked_mul(MICROS_PER_DAY)
                .and_then(|v| v.checked_add(time))
                .ok_or_else(range)?;
        }
        t.checked_add(i64::from(self.days) * MICROS_PER_DAY)
            .and_then(|v| v.checked_add(self.micros))
            .ok_or_else(range)
    }
}

impl fmt::Display for Interval {
    /// PostgreSQL's `postgres` interval style.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut zero = true;
        let mut before_negative = false;
        let mut part = |f: &mut fmt::Formatter<'_>, v: i64, unit: &str| -> fmt::Result {
            if v == 0 {
                return Ok(());
            }
            let space = if zero { "" } else { " " };
            let plus = if !zero && before_negative && v > 0 {
                "+"
            } else {
                ""
            };
            let s = if v == 1 { "" } else { "s" };
            write!(f, "{space}{plus}{v} {unit}{s}")?;
            before_negative = v < 0;
            zero = false;
            Ok(())
        };
        part(f, i64::from(self.months / 12), "year")?;
        part(f, i64::from(self.months % 12), "mon")?;
        part(f, i64::from(self.days), "day")?;
        if zero || self.micros != 0 {
            let neg = self.micros < 0;
            let abs = self.micros.unsigned_abs();
            let secs = abs / MICROS_PER_SEC as u64;
            let frac = abs % MICROS_PER_SEC as u64;
            let space = if zero { "" } else { " " };
            let sign = if neg {
                "-"
            } else if before_negative {
                "+"
            } else {
                ""
            };
            write!(
                f,
                "{space}{sign}{:02}:{:02}:{:02}",
                secs / 3_600,
                secs / 60 % 60,
                secs % 60
            )?;
            if frac != 0 {
                let digits = format!("{frac:06}");
                write!(f, ".{}", digits.trim_end_matches('0'))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        Interval::parse(s).map_or_else(|e| e.to_string(), |i| i.to_string())
    }

    #[test]
    fn input_and_output_follow_postgres_style() {
        assert_eq!(show("1 hour"), "01:00:00");
        assert_eq!(show("2 days 3 hours"), "2 days 03:00:00");
        assert_eq!(show("1 day"), "1 day");
        assert_eq!(show("-1 day 2 hours"), "-1 days +02:00:00");
        assert_eq!(show("1.5 days"), "1 day 12:00:00");
        assert_eq!(show("1 year 2 months"), "1 year 2 mons");
        assert_eq!(show("10 minutes ago"), "-00:10:00");
        assert_eq!(show("3h"), "03:00:00");
        assert_eq!(show("0"), "00:00:00");
        assert_eq!(show("1 week"), "7 days");
        assert_eq!(show("00:00:01.5"), "00:00:01.5");
        assert_eq!(show("@ 1 minute"), "00:01:00");
        assert!(show("an hour").contains("invalid input syntax"));
        assert!(show("").contains("invalid input syntax"));
    }

    #[test]
    fn months_move_on_the_calendar() {
        let jan31 = days_from_civil(2024, 1, 31) * MICROS_PER_DAY;
        let month = Interval::parse("1 month").unwrap();
        assert_eq!(
            month.add_to_timestamp(jan31).unwrap(),
            days_from_civil(2024, 2, 29) * MICROS_PER_DAY
        );
        assert_eq!(
            Interval::parse("1 mon").unwrap().span(),
            Interval::parse("30 days").unwrap().span()
        );
    }
}
