//! Arbitrary-precision decimal values with PostgreSQL `numeric` text rules.
//!
//! A [`Numeric`] keeps exactly the digits it was written with (its display
//! scale), so `2.50` prints as `2.50` and `1e3` as `1000`, as PostgreSQL does
//! for both `numeric` and JSON numbers inside `jsonb`.

use std::cmp::Ordering;
use std::fmt;

use crate::{Error, Result};

/// Largest decimal exponent accepted on input, as in PostgreSQL.
const MAX_EXPONENT: i64 = 1000;

/// An exact decimal number, or NaN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Numeric {
    /// Sign; never set for zero.
    neg: bool,
    /// All significant digits as values 0..=9: integer part (no leading zeros)
    /// followed by exactly `scale` fraction digits.
    digits: Vec<u8>,
    /// Number of digits after the decimal point (the display scale).
    scale: u32,
    /// PostgreSQL's numeric NaN, which sorts above every number.
    nan: bool,
}

impl Numeric {
    /// Parses PostgreSQL numeric input: `[+-]digits[.digits][e[+-]digits]`,
    /// or `NaN`. Surrounding whitespace is allowed.
    pub fn parse(input: &str) -> Result<Numeric> {
        let invalid = || Error::InvalidTextRepresentation {
            ty: "numeric",
            input: input.to_string(),
        };
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if s.eq_ignore_ascii_case("nan") {
            return Ok(Numeric::nan());
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = bytes.first() {
            if c == b'+' || c == b'-' {
                neg = c == b'-';
                i = 1;
            }
        }
        let mut mantissa = Vec::new();
        let mut frac_len: i64 = 0;
        let mut seen_point = false;
        let mut seen_digit = false;
        while i < bytes.len() {
            match bytes[i] {
                c @ b'0'..=b'9' => {
                    mantissa.push(c - b'0');
                    seen_digit = true;
                    if seen_point {
                        frac_len += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(invalid());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let mut exp_neg = false;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                exp_neg = bytes[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                exponent = exponent
                    .saturating_mul(10)
                    .saturating_add((bytes[i] - b'0') as i64);
                i += 1;
            }
            if i == start || exponent > MAX_EXPONENT {
                return Err(invalid());
            }
            if exp_neg {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(invalid());
        }
        Ok(Numeric::from_parts(neg, mantissa, frac_len - exponent))
    }

    /// Builds `±mantissa × 10^-scale`, normalising leading zeros. A negative
    /// scale appends zeros to the integer part.
    fn from_parts(neg: bool, mut digits: Vec<u8>, scale: i64) -> Numeric {
        let scale = if scale < 0 {
            digits.extend(std::iter::repeat_n(0, (-scale) as usize));
            0
        } else {
            scale as usize
        };
        if digits.len() < scale {
            let pad = scale - digits.len();
            digits.splice(0..0, std::iter::repeat_n(0, pad));
        }
        let int_len = digits.len() - scale;
        let leading = digits[..int_len].iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        let is_zero = digits.iter().all(|&d| d == 0);
        Numeric {
            neg: neg && !is_zero,
            digits,
            scale: scale as u32,
            nan: false,
        }
    }

    /// PostgreSQL's numeric NaN.
    pub fn nan() -> Numeric {
        Numeric {
            neg: false,
            digits: Vec::new(),
            scale: 0,
            nan: true,
        }
    }

    /// Whether this is NaN.
    pub fn is_nan(&self) -> bool {
        self.nan
    }

    /// Whether this is zero (of any scale).
    pub fn is_zero(&self) -> bool {
        !self.nan && self.digits.iter().all(|&d| d == 0)
    }

    /// The display scale (digits after the point).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    fn int_digits(&self) -> &[u8] {
        &self.digits[..self.digits.len() - self.scale as usize]
    }

    fn frac_digits(&self) -> &[u8] {
        &self.digits[self.digits.len() - self.scale as usize..]
    }

    /// Converts to the nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        if self.nan {
            return f64::NAN;
        }
        // The canonical text is always valid float syntax.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// Converts from an `f64` the way PostgreSQL's `float8::numeric` does:
    /// rounded to 15 significant digits.
    pub fn from_f64(f: f64) -> Result<Numeric> {
        if f.is_nan() {
            return Ok(Numeric::nan());
        }
        if f.is_infinite() {
            return Err(Error::NumericValueOutOfRange(
                "cannot convert infinity to numeric".into(),
            ));
        }
        let text = format!("{:.14e}", f);
        let mut n = Numeric::parse(&text)?;
        // `{:e}` always carries 14 fraction digits; drop the trailing zeros
        // that PostgreSQL's %g-style conversion would not produce.
        while n.scale > 0 && n.digits.last() == Some(&0) {
            n.digits.pop();
            n.scale -= 1;
        }
        Ok(n)
    }

    /// Rounds to an integer (half away from zero) if it fits in `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if self.nan {
            return None;
        }
        let mut v: i128 = 0;
        for &d in self.int_digits() {
            v = v.checked_mul(10)?.checked_add(d as i128)?;
            if v > i64::MAX as i128 + 1 {
                return None;
            }
        }
        if self.frac_digits().first().is_some_and(|&d| d >= 5) {
            v += 1;
        }
        if self.neg {
            v = -v;
        }
        i64::try_from(v).ok()
    }

    fn cmp_magnitude(&self, other: &Numeric) -> Ordering {
        let (a, b) = (self.int_digits(), other.int_digits());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b)).then_with(|| {
            let (fa, fb) = (self.frac_digits(), other.frac_digits());
            let n = fa.len().max(fb.len());
            (0..n)
                .map(|i| {
                    let x = fa.get(i).copied().unwrap_or(0);
                    let y = fb.get(i).copied().unwrap_or(0);
                    x.cmp(&y)
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    }

    /// Total order as PostgreSQL sorts numerics: by value, NaN last; `1.0`
    /// and `1.00` are equal.
    pub fn total_cmp(&self, other: &Numeric) -> Ordering {
        match (self.nan, other.nan) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        let (za, zb) = (self.is_zero(), other.is_zero());
        if za && zb {
            return Ordering::Equal;
        }
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl From<i64> for Numeric {
    fn from(v: i64) -> Numeric {
        let digits = v
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        Numeric::from_parts(v < 0, digits, 0)
    }
}

impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nan {
            return f.write_str("NaN");
        }
        let mut s = String::with_capacity(self.digits.len() + 3);
        if self.neg {
            s.push('-');
        }
        let int = self.int_digits();
        if int.is_empty() {
            s.push('0');
        }
        s.extend(int.iter().map(|&d| (b'0' + d) as char));
        if self.scale > 0 {
            s.push('.');
            s.extend(self.frac_digits().iter().map(|&d| (b'0' + d) as char));
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        Numeric::parse(s).unwrap().to_string()
    }

    #[test]
    fn keeps_written_digits_like_postgres() {
        // Expected values from PostgreSQL 15: SELECT 'x'::numeric.
        assert_eq!(show("2.50"), "2.50");
        assert_eq!(show("1e3"), "1000");
        assert_eq!(show("-0.0"), "0.0");
        assert_eq!(show("-0"), "0");
        assert_eq!(show("1.50e1"), "15.0");
        assert_eq!(show("1e-3"), "0.001");
        assert_eq!(show("00012.3400"), "12.3400");
        assert_eq!(show(".5"), "0.5");
        assert_eq!(show("5."), "5");
        assert_eq!(show("-1.5E+2"), "-150");
        assert_eq!(show("123e-5"), "0.00123");
        assert_eq!(show(" 7 "), "7");
    }

    #[test]
    fn rejects_bad_input() {
        for s in ["", "-", ".", "1e", "1e1001", "abc", "1.2.3", "1 2"] {
            assert!(Numeric::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn orders_by_value() {
        let n = |s| Numeric::parse(s).unwrap();
        assert_eq!(n("1.0").total_cmp(&n("1.00")), Ordering::Equal);
        assert_eq!(n("-2").total_cmp(&n("1")), Ordering::Less);
        assert_eq!(n("-2").total_cmp(&n("-10")), Ordering::Greater);
        assert_eq!(n("0.09").total_cmp(&n("0.1")), Ordering::Less);
        assert_eq!(n("NaN").total_cmp(&n("1e100")), Ordering::Greater);
        assert_eq!(n("0").total_cmp(&n("-0.0")), Ordering::Equal);
    }

    #[test]
    fn converts() {
        assert_eq!(Numeric::parse("2.5").unwrap().to_i64(), Some(3));
        assert_eq!(Numeric::parse("-2.5").unwrap().to_i64(), Some(-3));
        assert_eq!(Numeric::from(-42).to_string(), "-42");
        assert_eq!(Numeric::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(
            Numeric::from_f64(1e20).unwrap().to_string(),
            "100000000000000000000"
        );
    }
}
