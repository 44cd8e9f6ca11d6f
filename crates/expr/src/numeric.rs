//! Arbitrary-precision decimal values with PostgreSQL `numeric` text rules.
//!
//! A [`Numeric`] keeps exactly the digits it was written with (its display
//! scale), so `2.50` prints as `2.50` and `1e3` as `1000`, as PostgreSQL does
//! for both `numeric` and JSON numbers inside `jsonb`.

use std::cmp::Ordering;
use std::fmt;

use crate::{Error, Result};

/// PostgreSQL's numeric limits: digits before and after the point.
const MAX_INT_DIGITS: usize = 131_072;
const MAX_SCALE: i64 = 16_383;

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
    /// Bytes the value owns on the heap.
    pub fn heap_size(&self) -> usize {
        self.digits.len()
    }

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
            // As in PostgreSQL 15, any exponent parses; the result's
            // digits are then checked against the limits below.
            if i == start {
                return Err(invalid());
            }
            if exp_neg {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(invalid());
        }
        let scale = frac_len.saturating_sub(exponent);
        let significant = mantissa.iter().skip_while(|&&d| d == 0).count() as i64;
        // Zero has no integer digits, whatever its exponent.
        let int_digits = if significant == 0 {
            0
        } else {
            significant.saturating_sub(scale)
        };
        if scale > MAX_SCALE || int_digits > MAX_INT_DIGITS as i64 {
            return Err(Error::NumericValueOutOfRange(
                "value overflows numeric format".into(),
            ));
        }
        if significant == 0 {
            return Ok(Numeric::from_parts(neg, vec![0], scale.max(0)));
        }
        Ok(Numeric::from_parts(neg, mantissa, scale))
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

    /// Digits before the point (none for |x| < 1).
    pub fn int_len(&self) -> usize {
        if self.nan {
            0
        } else {
            self.digits.len() - self.scale as usize
        }
    }

    /// The number itself, or 22003 if it is beyond PostgreSQL's numeric
    /// limits (131,072 digits before the point, 16,383 after).
    pub fn within_limits(self) -> Result<Numeric> {
        if self.int_len() > MAX_INT_DIGITS || i64::from(self.scale) > MAX_SCALE {
            return Err(Error::NumericValueOutOfRange(
                "value overflows numeric format".into(),
            ));
        }
        Ok(self)
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

/// Big-endian decimal digit arithmetic on magnitudes (no sign, no scale).
mod mag {
    use std::cmp::Ordering;

    /// Drops leading zeros, keeping at least one digit.
    pub fn trim(mut v: Vec<u8>) -> Vec<u8> {
        let z = v
            .iter()
            .take_while(|&&d| d == 0)
            .count()
            .min(v.len().saturating_sub(1));
        v.drain(..z);
        if v.is_empty() {
            v.push(0);
        }
        v
    }

    pub fn cmp(a: &[u8], b: &[u8]) -> Ordering {
        let a = &a[a.iter().take_while(|&&d| d == 0).count()..];
        let b = &b[b.iter().take_while(|&&d| d == 0).count()..];
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    pub fn add(a: &[u8], b: &[u8]) -> Vec<u8> {
        let n = a.len().max(b.len()) + 1;
        let mut out = vec![0u8; n];
        let mut carry = 0;
        for k in 0..n {
            let x = if k < a.len() { a[a.len() - 1 - k] } else { 0 };
            let y = if k < b.len() { b[b.len() - 1 - k] } else { 0 };
            let s = x + y + carry;
            out[n - 1 - k] = s % 10;
            carry = s / 10;
        }
        trim(out)
    }

    /// `a - b` for `a >= b`.
    pub fn sub(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut out = a.to_vec();
        let mut borrow = 0i8;
        for k in 0..out.len() {
            let i = out.len() - 1 - k;
            let y = if k < b.len() {
                b[b.len() - 1 - k] as i8
            } else {
                0
            };
            let mut d = out[i] as i8 - y - borrow;
            borrow = 0;
            if d < 0 {
                d += 10;
                borrow = 1;
            }
            out[i] = d as u8;
        }
        trim(out)
    }

    pub fn mul(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut acc = vec![0u32; a.len() + b.len()];
        for (i, &x) in a.iter().rev().enumerate() {
            for (j, &y) in b.iter().rev().enumerate() {
                acc[i + j] += x as u32 * y as u32;
            }
        }
        let mut carry = 0u32;
        for v in acc.iter_mut() {
            let s = *v + carry;
            *v = s % 10;
            carry = s / 10;
        }
        trim(acc.iter().rev().map(|&d| d as u8).collect())
    }

    /// Appends `n` zeros (multiplies by 10^n).
    pub fn shift(a: &[u8], n: usize) -> Vec<u8> {
        let mut v = a.to_vec();
        v.extend(std::iter::repeat_n(0, n));
        v
    }

    /// Integer division: (quotient, remainder). `b` must be non-zero.
    pub fn divmod(a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let b = trim(b.to_vec());
        let mut q = Vec::with_capacity(a.len());
        let mut r: Vec<u8> = vec![0];
        for &d in a {
            r.push(d);
            r = trim(r);
            let mut digit = 0;
            while cmp(&r, &b) != Ordering::Less {
                r = sub(&r, &b);
                digit += 1;
            }
            q.push(digit);
        }
        (trim(q), r)
    }
}

impl Numeric {
    fn from_mag(neg: bool, digits: Vec<u8>, scale: u32) -> Numeric {
        Numeric::from_parts(neg, mag::trim(digits), scale as i64)
    }

    /// The magnitude's digits with exactly `scale` fraction digits.
    fn digits_at(&self, scale: u32) -> Vec<u8> {
        mag::shift(&self.digits, (scale - self.scale) as usize)
    }

    /// `-self`.
    pub fn neg(&self) -> Numeric {
        let mut n = self.clone();
        n.neg = !n.neg && !n.is_zero();
        n
    }

    /// Exact `self + other`; the scale is the larger of the two.
    pub fn add(&self, other: &Numeric) -> Numeric {
        if self.nan || other.nan {
            return Numeric::nan();
        }
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.digits_at(scale), other.digits_at(scale));
        if self.neg == other.neg {
            return Numeric::from_mag(self.neg, mag::add(&a, &b), scale);
        }
        match mag::cmp(&a, &b) {
            Ordering::Less => Numeric::from_mag(other.neg, mag::sub(&b, &a), scale),
            _ => Numeric::from_mag(self.neg, mag::sub(&a, &b), scale),
        }
    }

    /// Exact `self - other`.
    pub fn sub(&self, other: &Numeric) -> Numeric {
        self.add(&other.neg())
    }

    /// Exact `self * other`; the scale is the sum of the scales.
    pub fn mul(&self, other: &Numeric) -> Numeric {
        if self.nan || other.nan {
            return Numeric::nan();
        }
        let digits = mag::mul(&self.digits, &other.digits);
        Numeric::from_mag(self.neg != other.neg, digits, self.scale + other.scale)
    }

    /// PostgreSQL's base-10000 weight and first digit of a value, which
    /// decide the scale of a quotient (`select_div_scale`).
    fn nbase_weight(&self) -> (i64, u32) {
        if self.is_zero() {
            return (0, 0);
        }
        let int = self.int_digits();
        let group = |d: &[u8]| d.iter().fold(0u32, |acc, &x| acc * 10 + x as u32);
        if !int.is_empty() {
            let first_len = (int.len() - 1) % 4 + 1;
            return (((int.len() - 1) / 4) as i64, group(&int[..first_len]));
        }
        let frac = self.frac_digits();
        let zeros = frac.iter().take_while(|&&d| d == 0).count();
        let g = zeros / 4;
        let mut first: Vec<u8> = frac[g * 4..].iter().take(4).copied().collect();
        first.resize(4, 0);
        (-(g as i64) - 1, group(&first))
    }

    /// `self / other` with PostgreSQL's result scale: at least 16
    /// significant digits and no fewer fraction digits than either input,
    /// rounded half away from zero.
    pub fn div(&self, other: &Numeric) -> Result<Numeric> {
        if other.is_zero() {
            return Err(Error::DivisionByZero);
        }
        if self.nan || other.nan {
            return Ok(Numeric::nan());
        }
        let (w1, f1) = self.nbase_weight();
        let (w2, f2) = other.nbase_weight();
        let mut qweight = w1 - w2;
        if f1 <= f2 {
            qweight -= 1;
        }
        let rscale = (16 - qweight * 4)
            .max(self.scale as i64)
            .max(other.scale as i64)
            .clamp(0, 1000) as u32;
        Ok(self.div_scaled(other, rscale))
    }

    /// `self / other` rounded half away from zero to `rscale` digits.
    pub fn div_scaled(&self, other: &Numeric, rscale: u32) -> Numeric {
        // a/b = (A·10^sb) / (B·10^sa); compute one extra digit to round.
        let n = mag::shift(&self.digits, (other.scale + rscale + 1) as usize);
        let d = mag::shift(&other.digits, self.scale as usize);
        let (q, _) = mag::divmod(&n, &d);
        let (q10, last) = mag::divmod(&q, &[1, 0]);
        let q = if last.last().copied().unwrap_or(0) >= 5 {
            mag::add(&q10, &[1])
        } else {
            q10
        };
        Numeric::from_mag(self.neg != other.neg, q, rscale)
    }

    /// `self % other`: the remainder of truncating division; its sign
    /// follows `self` and its scale is the larger input scale.
    pub fn rem(&self, other: &Numeric) -> Result<Numeric> {
        if other.is_zero() {
            return Err(Error::DivisionByZero);
        }
        if self.nan || other.nan {
            return Ok(Numeric::nan());
        }
        let n = mag::shift(&self.digits, other.scale as usize);
        let d = mag::shift(&other.digits, self.scale as usize);
        let (q, _) = mag::divmod(&n, &d);
        let q = Numeric::from_mag(self.neg != other.neg, q, 0);
        Ok(self.sub(&q.mul(other)))
    }

    /// The same value with no trailing fraction zeros: `1.50` → `1.5`,
    /// `2.0` → `2`. Equal numbers have equal normalized forms.
    pub fn normalized(&self) -> Numeric {
        let mut n = self.clone();
        while n.scale > 0 && n.digits.last() == Some(&0) {
            n.digits.pop();
            n.scale -= 1;
        }
        if n.digits.is_empty() {
            n.digits.push(0);
        }
        n
    }

    /// The number as `units × 10^-scale` with `scale` its display scale,
    /// if `units` fits an `i128` (38 digits); `None` for NaN or larger.
    pub fn to_scaled_i128(&self) -> Option<(i128, u32)> {
        if self.nan || self.digits.len() > 38 {
            return None;
        }
        let mut v: i128 = 0;
        for &d in &self.digits {
            v = v * 10 + i128::from(d);
        }
        Some((if self.neg { -v } else { v }, self.scale))
    }

    /// `units × 10^-scale` (the inverse of [`Numeric::to_scaled_i128`]).
    pub fn from_scaled_i128(units: i128, scale: u32) -> Numeric {
        let digits: Vec<u8> = units
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        Numeric::from_parts(units < 0, digits, i64::from(scale))
    }

    /// Appends a memcomparable encoding: byte order of the encodings is
    /// numeric order, and equal numbers of any scale encode alike. Layout:
    /// a sign class byte (negative, zero, positive, NaN), then for nonzero
    /// numbers the decimal exponent (i32, sign-flipped big-endian) and the
    /// significant digits as bytes 1..=10 ended by 0; negative numbers
    /// store all of that inverted so larger magnitudes sort first.
    pub fn write_ordered(&self, out: &mut Vec<u8>) {
        if self.nan {
            out.push(4);
            return;
        }
        let first = self.digits.iter().position(|&d| d != 0);
        let Some(first) = first else {
            out.push(2);
            return;
        };
        let last = self.digits.iter().rposition(|&d| d != 0).unwrap_or(first);
        let point = (self.digits.len() - self.scale as usize) as i64;
        let exponent = (point - first as i64) as i32;
        let inv = |b: u8| if self.neg { !b } else { b };
        out.push(if self.neg { 1 } else { 3 });
        for b in ((exponent as u32) ^ (1 << 31)).to_be_bytes() {
            out.push(inv(b));
        }
        for &d in &self.digits[first..=last] {
            out.push(inv(d + 1));
        }
        out.push(inv(0));
    }

    /// Truncates toward zero to `scale` fraction digits; a negative
    /// `scale` zeroes that many integer digits too (`trunc(1234.5, -2)` is
    /// 1200). A scale above the value's pads it with zeros.
    pub fn trunc_to(&self, scale: i64) -> Numeric {
        if self.nan {
            return self.clone();
        }
        if scale >= 0 {
            let scale = scale.min(MAX_SCALE) as u32;
            if scale >= self.scale {
                return self.round_to(scale);
            }
            let keep = self.digits.len() - (self.scale - scale) as usize;
            return Numeric::from_mag(self.neg, self.digits[..keep].to_vec(), scale);
        }
        let int_len = self.digits.len() - self.scale as usize;
        let zeros = scale.unsigned_abs().min(int_len as u64) as usize;
        let mut digits = self.digits[..int_len - zeros].to_vec();
        digits.resize(int_len, 0);
        Numeric::from_mag(self.neg, digits, 0)
    }

    /// Rounds half away from zero to `scale` fraction digits, or with a
    /// negative `scale` to a multiple of `10^-scale`.
    pub fn round_signed(&self, scale: i64) -> Numeric {
        if scale >= 0 {
            return self.round_to(scale.min(MAX_SCALE) as u32);
        }
        let int_len = self.digits.len().saturating_sub(self.scale as usize);
        let k = scale.unsigned_abs().min(int_len as u64 + 1) as usize;
        let mut unit = vec![1u8];
        unit.resize(k + 1, 0);
        let unit = Numeric::from_mag(false, unit, 0);
        self.div_scaled(&unit, 0).mul(&unit)
    }

    /// The largest integer not above `self` (`ceil`: the smallest not
    /// below), with scale 0.
    pub fn floor_or_ceil(&self, ceil: bool) -> Numeric {
        let t = self.trunc_to(0);
        if self.nan || t.total_cmp(self) == Ordering::Equal {
            return t;
        }
        match (self.neg, ceil) {
            (true, false) => t.sub(&Numeric::from(1)),
            (false, true) => t.add(&Numeric::from(1)),
            _ => t,
        }
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// Rounds half away from zero to `scale` fraction digits.
    pub fn round_to(&self, scale: u32) -> Numeric {
        if self.nan || scale >= self.scale {
            let mut n = self.clone();
            if !n.nan {
                n.digits = n.digits_at(scale);
                n.scale = scale;
            }
            return n;
        }
        self.div_scaled(&Numeric::from(1), scale)
    }
}

#[cfg(test)]
mod scaled_tests {
    use super::*;

    #[test]
    fn scaled_integers_round_trip() {
        for s in ["0", "12.50", "-0.001", "99999999999999999999.99", "7"] {
            let n = Numeric::parse(s).unwrap();
            let (u, sc) = n.to_scaled_i128().unwrap();
            assert_eq!(Numeric::from_scaled_i128(u, sc).to_string(), s);
        }
        assert_eq!(Numeric::nan().to_scaled_i128(), None);
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
        for s in ["", "-", ".", "1e", "abc", "1.2.3", "1 2"] {
            assert!(Numeric::parse(s).is_err(), "{s}");
        }
        // PostgreSQL 15's size limits: any exponent parses, the digits it
        // makes are bounded (and zero has none).
        assert_eq!(Numeric::parse("1e1001").unwrap().int_len(), 1002);
        assert!(Numeric::parse("1e131072").is_err());
        assert!(Numeric::parse("1e-16384").is_err());
        assert!(Numeric::parse("1e-99999999999999999999").is_err());
        assert_eq!(Numeric::parse("0e99999999999").unwrap().to_string(), "0");
        assert!(Numeric::parse(&"9".repeat(131_073)).is_err());
        assert!(Numeric::parse(&format!("0.{}", "1".repeat(16_384))).is_err());
        assert!(Numeric::parse(&"9".repeat(131_072)).is_ok());
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
    fn arithmetic_matches_postgres() {
        // Expected values from PostgreSQL 15.
        let n = |s: &str| Numeric::parse(s).unwrap();
        assert_eq!(n("1.50").add(&n("2.5")).to_string(), "4.00");
        assert_eq!(n("1").sub(&n("2.25")).to_string(), "-1.25");
        assert_eq!(n("-0.5").add(&n("0.5")).to_string(), "0.0");
        assert_eq!(n("1.5").mul(&n("-2.25")).to_string(), "-3.375");
        assert_eq!(
            n("10").div(&n("3")).unwrap().to_string(),
            "3.3333333333333333"
        );
        assert_eq!(
            n("1").div(&n("3")).unwrap().to_string(),
            "0.33333333333333333333"
        );
        assert_eq!(
            n("3").div(&n("2")).unwrap().to_string(),
            "1.5000000000000000"
        );
        assert_eq!(
            n("2").div(&n("3")).unwrap().to_string(),
            "0.66666666666666666667"
        );
        assert_eq!(
            n("123456").div(&n("7")).unwrap().to_string(),
            "17636.571428571429"
        );
        assert_eq!(
            n("0.001").div(&n("7")).unwrap().to_string(),
            "0.00014285714285714286"
        );
        assert_eq!(
            n("-7").div(&n("2")).unwrap().to_string(),
            "-3.5000000000000000"
        );
        assert_eq!(n("7.5").rem(&n("2")).unwrap().to_string(), "1.5");
        assert_eq!(n("-7").rem(&n("3")).unwrap().to_string(), "-1");
        assert_eq!(n("2.345").round_to(2).to_string(), "2.35");
        assert_eq!(n("1").div(&n("0")), Err(Error::DivisionByZero));
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
