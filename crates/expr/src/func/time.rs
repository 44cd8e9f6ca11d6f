//! Time builtins: `date_trunc`, `extract` / `date_part`, `to_timestamp`.

use super::as_text;
use crate::timestamp::{civil_from_days, days_from_civil};
use crate::{Error, Numeric, Result, Value};

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

fn as_ts(v: &Value) -> Result<i64> {
    match v {
        Value::Timestamptz(t) => Ok(*t),
        other => Err(Error::DatatypeMismatch(format!(
            "expected timestamp with time zone, got {}",
            other.data_type()
        ))),
    }
}

fn unit_error(unit: &str) -> Error {
    Error::FeatureNotSupported(format!(
        "unit \"{unit}\" not supported for type timestamp with time zone"
    ))
}

/// The parts of a timestamp in UTC.
struct Parts {
    year: i64,
    month: u32,
    day: u32,
    days: i64,
    micros_of_day: i64,
}

fn parts(t: i64) -> Parts {
    let days = t.div_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        days,
        micros_of_day: t.rem_euclid(MICROS_PER_DAY),
    }
}

/// `date_trunc(unit, ts)` in UTC.
pub(super) fn date_trunc(unit: &Value, ts: &Value) -> Result<Value> {
    let unit = as_text(unit)?.to_ascii_lowercase();
    let t = as_ts(ts)?;
    let p = parts(t);
    let day_start = p.days * MICROS_PER_DAY;
    let floor = |step: i64| t - t.rem_euclid(step);
    let year_floor = |y: i64| days_from_civil(y, 1, 1) * MICROS_PER_DAY;
    let out = match unit.as_str() {
        "microseconds" | "microsecond" => t,
        "milliseconds" | "millisecond" => floor(1000),
        "second" | "seconds" => floor(MICROS_PER_SEC),
        "minute" | "minutes" => floor(60 * MICROS_PER_SEC),
        "hour" | "hours" => floor(3600 * MICROS_PER_SEC),
        "day" | "days" => day_start,
        "week" | "weeks" => {
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            let dow = (p.days + 3).rem_euclid(7);
            (p.days - dow) * MICROS_PER_DAY
        }
        "month" | "months" => days_from_civil(p.year, p.month, 1) * MICROS_PER_DAY,
        "quarter" => days_from_civil(p.year, (p.month - 1) / 3 * 3 + 1, 1) * MICROS_PER_DAY,
        "year" | "years" => year_floor(p.year),
        "decade" => year_floor(p.year.div_euclid(10) * 10),
        "century" => year_floor((p.year - 1).div_euclid(100) * 100 + 1),
        "millennium" => year_floor((p.year - 1).div_euclid(1000) * 1000 + 1),
        other => return Err(unit_error(other)),
    };
    Ok(Value::Timestamptz(out))
}

/// A field of a timestamp as an exact decimal (what `extract` returns).
fn field(unit: &str, t: i64) -> Result<Numeric> {
    let p = parts(t);
    let secs_micros = p.micros_of_day % (60 * MICROS_PER_SEC);
    let scaled = |v: i64, scale: i64| -> Result<Numeric> {
        // v / 10^scale, keeping `scale` fraction digits.
        Numeric::parse(&format!("{v}e-{scale}")).map(|n| n.round_to(scale as u32))
    };
    let int = |v: i64| Ok(Numeric::from(v));
    let iso = iso_week(p.days);
    match unit {
        "microseconds" | "microsecond" | "us" => int(secs_micros),
        "milliseconds" | "millisecond" | "ms" => scaled(secs_micros, 3),
        "second" | "seconds" | "s" => scaled(secs_micros, 6),
        "minute" | "minutes" | "m" => int(p.micros_of_day / (60 * MICROS_PER_SEC) % 60),
        "hour" | "hours" | "h" => int(p.micros_of_day / (3600 * MICROS_PER_SEC)),
        "day" | "days" | "d" => int(p.day as i64),
        "month" | "months" | "mon" => int(p.month as i64),
        "quarter" => int(((p.month - 1) / 3 + 1) as i64),
        "year" | "years" | "y" => int(p.year),
        "decade" => int(p.year.div_euclid(10)),
        "century" => int(if p.year > 0 {
            (p.year + 99) / 100
        } else {
            -((99 - (p.year - 1)) / 100)
        }),
        "millennium" => int(if p.year > 0 {
            (p.year + 999) / 1000
        } else {
            -((999 - (p.year - 1)) / 1000)
        }),
        "dow" => int((p.days + 4).rem_euclid(7)),
        "isodow" => int((p.days + 3).rem_euclid(7) + 1),
        "doy" => int(p.days - days_from_civil(p.year, 1, 1) + 1),
        "week" => int(iso.1),
        "isoyear" => int(iso.0),
        "epoch" => scaled(t, 6),
        "timezone" | "timezone_hour" | "timezone_minute" => int(0),
        other => Err(unit_error(other)),
    }
}

/// (ISO year, ISO week number) of a day count.
fn iso_week(days: i64) -> (i64, i64) {
    let isodow = (days + 3).rem_euclid(7); // Monday = 0
    let thursday = days - isodow + 3;
    let (y, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
    (y, week)
}

/// `extract(field FROM ts)`: numeric.
pub(super) fn extract(unit: &Value, ts: &Value) -> Result<Value> {
    let unit = as_text(unit)?.to_ascii_lowercase();
    Ok(Value::Numeric(field_of(&unit, ts)?))
}

/// `date_part(field, ts)`: double precision.
pub(super) fn date_part(unit: &Value, ts: &Value) -> Result<Value> {
    let unit = as_text(unit)?.to_ascii_lowercase();
    Ok(Value::Float8(field_of(&unit, ts)?.to_f64()))
}

/// A field of a timestamp, date or interval.
fn field_of(unit: &str, v: &Value) -> Result<Numeric> {
    match v {
        Value::Interval(i) => interval_field(unit, i),
        Value::Date(d) => {
            let t = i64::from(*d) * MICROS_PER_DAY;
            match unit {
                "epoch" => Ok(Numeric::from(t / MICROS_PER_SEC)),
                "microseconds" | "microsecond" | "us" | "milliseconds" | "millisecond" | "ms"
                | "second" | "seconds" | "s" | "minute" | "minutes" | "m" | "hour" | "hours"
                | "h" | "timezone" | "timezone_hour" | "timezone_minute" => {
                    Err(Error::FeatureNotSupported(format!(
                        "unit \"{unit}\" not supported for type date"
                    )))
                }
                _ => field(unit, t),
            }
        }
        other => field(unit, as_ts(other)?),
    }
}

/// A field of an interval, as PostgreSQL's `interval_part` gives it.
fn interval_field(unit: &str, i: &crate::Interval) -> Result<Numeric> {
    let int = |v: i64| Ok(Numeric::from(v));
    let scaled = |v: i128, scale: u32| Ok(Numeric::from_scaled_i128(v, scale));
    let years = i64::from(i.months / 12);
    let secs_micros = i.micros % (60 * MICROS_PER_SEC);
    match unit {
        "microseconds" | "microsecond" | "us" => int(secs_micros),
        "milliseconds" | "millisecond" | "ms" => scaled(i128::from(secs_micros), 3),
        "second" | "seconds" | "s" => scaled(i128::from(secs_micros), 6),
        "minute" | "minutes" | "m" => int(i.micros / (60 * MICROS_PER_SEC) % 60),
        "hour" | "hours" | "h" => int(i.micros / (3600 * MICROS_PER_SEC)),
        "day" | "days" | "d" => int(i64::from(i.days)),
        "month" | "months" | "mon" => int(i64::from(i.months % 12)),
        "quarter" => int(i64::from(i.months % 12) / 3 + 1),
        "year" | "years" | "y" => int(years),
        "decade" => int(years / 10),
        "century" => int(years / 100),
        "millennium" => int(years / 1000),
        "epoch" => {
            // A year is 365.25 days, a month 30.
            let days_micros = i128::from(MICROS_PER_DAY);
            let micros = i128::from(years) * 36_525 * days_micros / 100
                + i128::from(i.months % 12) * 30 * days_micros
                + i128::from(i.days) * days_micros
                + i128::from(i.micros);
            scaled(micros, 6)
        }
        other => Err(Error::FeatureNotSupported(format!(
            "unit \"{other}\" not supported for type interval"
        ))),
    }
}

/// `to_timestamp(seconds)`.
pub(super) fn to_timestamp(secs: &Value) -> Result<Value> {
    let f = match secs {
        Value::Float8(f) => *f,
        other => {
            return Err(Error::DatatypeMismatch(format!(
                "expected double precision, got {}",
                other.data_type()
            )))
        }
    };
    let micros = (f * 1e6).round();
    if !micros.is_finite() || micros.abs() > 9.2e18 {
        return Err(Error::DatetimeOverflow);
    }
    Ok(Value::Timestamptz(micros as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{format_timestamptz, parse_timestamptz};

    fn ts(s: &str) -> Value {
        Value::Timestamptz(parse_timestamptz(s).unwrap())
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn trunc_and_extract_like_postgres() {
        let at = ts("2015-12-12T19:11:01.249Z");
        let trunc = |u| match date_trunc(&t(u), &at).unwrap() {
            Value::Timestamptz(v) => format_timestamptz(v),
            _ => unreachable!(),
        };
        assert_eq!(trunc("minute"), "2015-12-12 19:11:00+00");
        assert_eq!(trunc("hour"), "2015-12-12 19:00:00+00");
        assert_eq!(trunc("week"), "2015-12-07 00:00:00+00");
        assert_eq!(trunc("quarter"), "2015-10-01 00:00:00+00");
        let ex = |u| extract(&t(u), &at).unwrap().to_pg_text().unwrap();
        assert_eq!(ex("second"), "1.249000");
        assert_eq!(ex("epoch"), "1449947461.249000");
        assert_eq!(ex("milliseconds"), "1249.000");
        assert_eq!(ex("dow"), "6");
        assert_eq!(ex("doy"), "346");
        assert_eq!(ex("week"), "50");
        assert!(date_trunc(&t("fortnight"), &at).is_err());
    }
}
