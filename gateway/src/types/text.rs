//! PostgreSQL text output format for scalar values (what `typoutput` functions print).
//!
//! All functions append to a byte buffer and never allocate for the common cases.

use bytes::{BufMut, BytesMut};

/// DuckDB's encodings of ±infinity for DATE and TIMESTAMP.
pub const DATE_INFINITY: i32 = i32::MAX;
pub const DATE_NEG_INFINITY: i32 = -i32::MAX;
pub const TS_INFINITY: i64 = i64::MAX;
pub const TS_NEG_INFINITY: i64 = -i64::MAX;

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

pub fn write_int(out: &mut BytesMut, v: impl itoa::Integer) {
    let mut b = itoa::Buffer::new();
    out.put_slice(b.format(v).as_bytes());
}

pub fn write_bool(out: &mut BytesMut, v: bool) {
    out.put_u8(if v { b't' } else { b'f' });
}

/// Float output as PostgreSQL 12+ prints it: shortest round-trip digits when
/// `extra_float_digits > 0` (the default), `%.{DIG+efd}g` otherwise.
pub fn write_f64(out: &mut BytesMut, v: f64, extra_float_digits: i32) {
    write_float(out, v, extra_float_digits, 15)
}

pub fn write_f32(out: &mut BytesMut, v: f32, extra_float_digits: i32) {
    if !v.is_finite() || extra_float_digits <= 0 {
        return write_float(out, f64::from(v), extra_float_digits, 6);
    }
    let mut b = ryu::Buffer::new();
    write_shortest(out, b.format_finite(v), 6);
}

fn write_float(out: &mut BytesMut, v: f64, extra_float_digits: i32, dig: i32) {
    if v.is_nan() {
        return out.put_slice(b"NaN");
    }
    if v.is_infinite() {
        return out.put_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    }
    if extra_float_digits > 0 {
        let mut b = ryu::Buffer::new();
        write_shortest(out, b.format_finite(v), dig);
    } else {
        let precision = (dig + extra_float_digits).max(1) as usize;
        write_g(out, v, precision);
    }
}

/// Split a decimal rendering (`-1.25e-7`, `123.5`, `0.001`) into sign, significant digits
/// and the decimal exponent of the first digit.
fn decompose(s: &str) -> (bool, String, i32) {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    let all: String = format!("{int_part}{frac_part}");
    let lead = all.bytes().take_while(|&c| c == b'0').count();
    if lead == all.len() {
        return (neg, "0".into(), 0);
    }
    let digits = all[lead..].trim_end_matches('0').to_string();
    let exponent = exp + int_part.len() as i32 - 1 - lead as i32;
    (neg, digits, exponent)
}

/// PostgreSQL's shortest-float layout: fixed notation when `-4 <= exp < dig`, else `d.ddde±XX`.
fn write_shortest(out: &mut BytesMut, ryu_text: &str, dig: i32) {
    let (neg, digits, exp) = decompose(ryu_text);
    if neg {
        out.put_u8(b'-');
    }
    if digits == "0" {
        return out.put_u8(b'0');
    }
    if (-4..dig).contains(&exp) {
        write_fixed(out, &digits, exp);
    } else {
        write_sci(out, &digits, exp);
    }
}

fn write_fixed(out: &mut BytesMut, digits: &str, exp: i32) {
    let d = digits.as_bytes();
    if exp < 0 {
        out.put_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.put_u8(b'0');
        }
        out.put_slice(d);
    } else {
        let int_len = exp as usize + 1;
        if d.len() <= int_len {
            out.put_slice(d);
            for _ in d.len()..int_len {
                out.put_u8(b'0');
            }
        } else {
            out.put_slice(&d[..int_len]);
            out.put_u8(b'.');
            out.put_slice(&d[int_len..]);
        }
    }
}

fn write_sci(out: &mut BytesMut, digits: &str, exp: i32) {
    let d = digits.as_bytes();
    out.put_u8(d[0]);
    if d.len() > 1 {
        out.put_u8(b'.');
        out.put_slice(&d[1..]);
    }
    out.put_u8(b'e');
    out.put_u8(if exp < 0 { b'-' } else { b'+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.put_u8(b'0');
    }
    write_int(out, a);
}

/// C's `%.{precision}g`.
fn write_g(out: &mut BytesMut, v: f64, precision: usize) {
    let s = format!("{:.*e}", precision - 1, v);
    let (neg, digits, exp) = decompose(&s);
    if neg {
        out.put_u8(b'-');
    }
    if digits == "0" {
        return out.put_u8(b'0');
    }
    if exp < -4 || exp >= precision as i32 {
        write_sci(out, &digits, exp);
    } else {
        write_fixed(out, &digits, exp);
    }
}

/// An integer scaled by `10^scale`, printed with exactly `scale` fraction digits.
pub fn write_decimal(out: &mut BytesMut, negative: bool, magnitude: u128, scale: u8) {
    if negative && magnitude != 0 {
        out.put_u8(b'-');
    }
    let mut b = itoa::Buffer::new();
    let s = b.format(magnitude).as_bytes();
    let scale = scale as usize;
    if scale == 0 {
        return out.put_slice(s);
    }
    if s.len() <= scale {
        out.put_slice(b"0.");
        for _ in s.len()..scale {
            out.put_u8(b'0');
        }
        out.put_slice(s);
    } else {
        let split = s.len() - scale;
        out.put_slice(&s[..split]);
        out.put_u8(b'.');
        out.put_slice(&s[split..]);
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn put2(out: &mut BytesMut, v: u32) {
    out.put_u8(b'0' + (v / 10 % 10) as u8);
    out.put_u8(b'0' + (v % 10) as u8);
}

fn write_ymd(out: &mut BytesMut, days: i64) -> bool {
    let (y, m, d) = civil_from_days(days);
    // PostgreSQL has no year 0: year 0 is 1 BC.
    let bc = y <= 0;
    let year = if bc { 1 - y } else { y };
    if year < 1000 {
        let s = format!("{year:04}");
        out.put_slice(s.as_bytes());
    } else {
        write_int(out, year);
    }
    out.put_u8(b'-');
    put2(out, m);
    out.put_u8(b'-');
    put2(out, d);
    bc
}

pub fn write_date(out: &mut BytesMut, days: i32) {
    match days {
        DATE_INFINITY => out.put_slice(b"infinity"),
        DATE_NEG_INFINITY => out.put_slice(b"-infinity"),
        _ => {
            if write_ymd(out, i64::from(days)) {
                out.put_slice(b" BC");
            }
        }
    }
}

/// `HH:MM:SS[.ffffff]` with trailing fraction zeros removed. Hours may exceed 23 (intervals).
fn write_hms(out: &mut BytesMut, micros: u64) {
    let secs = micros / 1_000_000;
    let frac = (micros % 1_000_000) as u32;
    let h = secs / 3600;
    if h < 100 {
        put2(out, h as u32);
    } else {
        write_int(out, h);
    }
    out.put_u8(b':');
    put2(out, ((secs / 60) % 60) as u32);
    out.put_u8(b':');
    put2(out, (secs % 60) as u32);
    write_fraction(out, frac);
}

fn write_fraction(out: &mut BytesMut, frac: u32) {
    if frac == 0 {
        return;
    }
    let mut digits = [0u8; 6];
    let mut f = frac;
    for i in (0..6).rev() {
        digits[i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    let mut len = 6;
    while len > 0 && digits[len - 1] == b'0' {
        len -= 1;
    }
    out.put_u8(b'.');
    out.put_slice(&digits[..len]);
}

pub fn write_time(out: &mut BytesMut, micros: i64) {
    write_hms(out, micros.rem_euclid(MICROS_PER_DAY + 1) as u64);
}

/// A UTC offset in seconds east of Greenwich, as PostgreSQL prints it: `+05`, `-03:30`, `+00:00:12`.
pub fn write_offset(out: &mut BytesMut, offset_secs: i32) {
    out.put_u8(if offset_secs < 0 { b'-' } else { b'+' });
    let a = offset_secs.unsigned_abs();
    put2(out, a / 3600);
    let m = (a / 60) % 60;
    let s = a % 60;
    if m != 0 || s != 0 {
        out.put_u8(b':');
        put2(out, m);
    }
    if s != 0 {
        out.put_u8(b':');
        put2(out, s);
    }
}

pub fn write_timetz(out: &mut BytesMut, micros: i64, offset_secs: i32) {
    write_time(out, micros);
    write_offset(out, offset_secs);
}

/// Microseconds since 1970-01-01 00:00:00 (local wall-clock time).
pub fn write_timestamp(out: &mut BytesMut, micros: i64) {
    match micros {
        TS_INFINITY => return out.put_slice(b"infinity"),
        TS_NEG_INFINITY => return out.put_slice(b"-infinity"),
        _ => {}
    }
    let days = micros.div_euclid(MICROS_PER_DAY);
    let tod = micros.rem_euclid(MICROS_PER_DAY) as u64;
    let bc = write_ymd(out, days);
    out.put_u8(b' ');
    write_hms(out, tod);
    if bc {
        out.put_slice(b" BC");
    }
}

/// A UTC instant rendered in a session time zone with its offset.
pub fn write_timestamptz(out: &mut BytesMut, micros: i64, tz: &SessionTimeZone) {
    if micros == TS_INFINITY || micros == TS_NEG_INFINITY {
        return write_timestamp(out, micros);
    }
    let offset = tz.offset_at(micros);
    let local = micros + i64::from(offset) * MICROS_PER_SEC;
    let days = local.div_euclid(MICROS_PER_DAY);
    let tod = local.rem_euclid(MICROS_PER_DAY) as u64;
    let bc = write_ymd(out, days);
    out.put_u8(b' ');
    write_hms(out, tod);
    write_offset(out, offset);
    if bc {
        out.put_slice(b" BC");
    }
}

/// `IntervalStyle = postgres`, exactly as PostgreSQL's `EncodeInterval` prints it.
pub fn write_interval(out: &mut BytesMut, months: i32, days: i32, micros: i64) {
    let mut is_zero = true;
    let mut is_before = false;
    let mut part = |out: &mut BytesMut, value: i64, unit: &str| {
        if value == 0 {
            return;
        }
        if !is_zero {
            out.put_u8(b' ');
        }
        if is_before && value > 0 {
            out.put_u8(b'+');
        }
        write_int(out, value);
        out.put_u8(b' ');
        out.put_slice(unit.as_bytes());
        if value != 1 {
            out.put_u8(b's');
        }
        is_before = value < 0;
        is_zero = false;
    };
    part(out, i64::from(months / 12), "year");
    part(out, i64::from(months % 12), "mon");
    part(out, i64::from(days), "day");
    if is_zero || micros != 0 {
        if !is_zero {
            out.put_u8(b' ');
        }
        if micros < 0 {
            out.put_u8(b'-');
        } else if is_before {
            out.put_u8(b'+');
        }
        write_hms(out, micros.unsigned_abs());
    }
}

pub fn write_bytea_hex(out: &mut BytesMut, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + bytes.len() * 2);
    out.put_slice(b"\\x");
    for &b in bytes {
        out.put_u8(HEX[(b >> 4) as usize]);
        out.put_u8(HEX[(b & 15) as usize]);
    }
}

pub fn write_uuid(out: &mut BytesMut, bytes: &[u8; 16]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.put_u8(b'-');
        }
        out.put_u8(HEX[(b >> 4) as usize]);
        out.put_u8(HEX[(b & 15) as usize]);
    }
}

/// An element of a text-format array: quoted when PostgreSQL's `array_out` would quote it.
pub fn write_array_element(out: &mut BytesMut, text: &[u8]) {
    let needs_quotes = text.is_empty()
        || text.eq_ignore_ascii_case(b"NULL")
        || text.iter().any(|&c| {
            matches!(
                c,
                b'{' | b'}' | b',' | b'"' | b'\\' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c
            )
        });
    if !needs_quotes {
        return out.put_slice(text);
    }
    out.put_u8(b'"');
    for &c in text {
        if c == b'"' || c == b'\\' {
            out.put_u8(b'\\');
        }
        out.put_u8(c);
    }
    out.put_u8(b'"');
}

/// A JSON string literal.
pub fn write_json_string(out: &mut BytesMut, s: &[u8]) {
    out.put_u8(b'"');
    for &c in s {
        match c {
            b'"' => out.put_slice(b"\\\""),
            b'\\' => out.put_slice(b"\\\\"),
            b'\n' => out.put_slice(b"\\n"),
            b'\r' => out.put_slice(b"\\r"),
            b'\t' => out.put_slice(b"\\t"),
            0..=0x1f => {
                let s = format!("\\u{c:04x}");
                out.put_slice(s.as_bytes());
            }
            _ => out.put_u8(c),
        }
    }
    out.put_u8(b'"');
}

/// The session's `TimeZone`, used to render TIMESTAMPTZ values.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionTimeZone {
    Named(chrono_tz::Tz),
    /// Seconds east of UTC.
    Fixed(i32),
}

impl Default for SessionTimeZone {
    fn default() -> Self {
        SessionTimeZone::Named(chrono_tz::Tz::UTC)
    }
}

impl SessionTimeZone {
    /// Parse a `TimeZone` setting: an IANA name (case-insensitive), `UTC`/`GMT`/`Z`,
    /// or an ISO-8601 offset such as `+05:30`.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("gmt") || t == "Z" {
            return Some(SessionTimeZone::Named(chrono_tz::Tz::UTC));
        }
        if let Ok(tz) = t.parse::<chrono_tz::Tz>() {
            return Some(SessionTimeZone::Named(tz));
        }
        if let Ok(tz) = chrono_tz::Tz::from_str_insensitive(t) {
            return Some(SessionTimeZone::Named(tz));
        }
        parse_iso_offset(t).map(SessionTimeZone::Fixed)
    }

    /// Offset (seconds east of UTC) in effect at a UTC instant given in microseconds.
    pub fn offset_at(&self, utc_micros: i64) -> i32 {
        use chrono::{Offset, TimeZone};
        match self {
            SessionTimeZone::Fixed(s) => *s,
            SessionTimeZone::Named(tz) => {
                let secs = utc_micros.div_euclid(MICROS_PER_SEC);
                match chrono::DateTime::from_timestamp(secs, 0) {
                    Some(dt) => tz
                        .offset_from_utc_datetime(&dt.naive_utc())
                        .fix()
                        .local_minus_utc(),
                    None => 0,
                }
            }
        }
    }

    /// The name reported in ParameterStatus and `SHOW TimeZone`.
    pub fn name(&self) -> String {
        match self {
            SessionTimeZone::Named(tz) => tz.name().to_owned(),
            SessionTimeZone::Fixed(s) => {
                let mut b = BytesMut::new();
                write_offset(&mut b, *s);
                String::from_utf8_lossy(&b).into_owned()
            }
        }
    }
}

fn parse_iso_offset(t: &str) -> Option<i32> {
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let mut parts = rest.split(':');
    let h: i32 = parts.next()?.parse().ok()?;
    let m: i32 = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    if parts.next().is_some() || !(0..=15).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut BytesMut)) -> String {
        let mut b = BytesMut::new();
        f(&mut b);
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn floats_like_postgres() {
        assert_eq!(s(|b| write_f64(b, 0.1, 1)), "0.1");
        assert_eq!(s(|b| write_f64(b, 1.0, 1)), "1");
        assert_eq!(s(|b| write_f64(b, -2.5, 1)), "-2.5");
        assert_eq!(s(|b| write_f64(b, 1e15, 1)), "1e+15");
        assert_eq!(s(|b| write_f64(b, 123456789012345.0, 1)), "123456789012345");
        assert_eq!(s(|b| write_f64(b, 1e-5, 1)), "1e-05");
        assert_eq!(s(|b| write_f64(b, 0.0001, 1)), "0.0001");
        assert_eq!(s(|b| write_f64(b, 1e100, 1)), "1e+100");
        assert_eq!(s(|b| write_f64(b, f64::MAX, 1)), "1.7976931348623157e+308");
        assert_eq!(s(|b| write_f64(b, 5e-324, 1)), "5e-324");
        assert_eq!(s(|b| write_f64(b, f64::NAN, 1)), "NaN");
        assert_eq!(s(|b| write_f64(b, f64::NEG_INFINITY, 1)), "-Infinity");
        assert_eq!(s(|b| write_f64(b, 0.0, 1)), "0");
        assert_eq!(s(|b| write_f64(b, -0.0, 1)), "-0");
        assert_eq!(s(|b| write_f32(b, 1e6, 1)), "1e+06");
        assert_eq!(s(|b| write_f32(b, 100000.0, 1)), "100000");
        assert_eq!(s(|b| write_f32(b, 0.1, 1)), "0.1");
        // extra_float_digits = 0: %.15g
        assert_eq!(s(|b| write_f64(b, 0.1, 0)), "0.1");
        assert_eq!(s(|b| write_f64(b, 1.0 / 3.0, 0)), "0.333333333333333");
        assert_eq!(s(|b| write_f64(b, 1e20, 0)), "1e+20");
    }

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(s(|b| write_decimal(b, false, 150, 2)), "1.50");
        assert_eq!(s(|b| write_decimal(b, true, 5, 3)), "-0.005");
        assert_eq!(s(|b| write_decimal(b, false, 0, 2)), "0.00");
        assert_eq!(s(|b| write_decimal(b, true, 0, 0)), "0");
        assert_eq!(
            s(|b| write_decimal(b, false, u128::MAX, 0)),
            "340282366920938463463374607431768211455"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(s(|b| write_date(b, 0)), "1970-01-01");
        assert_eq!(s(|b| write_date(b, 19_000)), "2022-01-08");
        assert_eq!(s(|b| write_date(b, -719_528)), "0001-01-01 BC");
        assert_eq!(s(|b| write_date(b, -719_163)), "0001-12-31 BC");
        assert_eq!(s(|b| write_date(b, -719_162)), "0001-01-01");
        assert_eq!(s(|b| write_date(b, DATE_INFINITY)), "infinity");
        assert_eq!(s(|b| write_date(b, DATE_NEG_INFINITY)), "-infinity");
        for d in [-1_000_000i64, -1, 0, 59, 60, 365, 10_957, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn times_and_timestamps() {
        assert_eq!(s(|b| write_time(b, 0)), "00:00:00");
        assert_eq!(s(|b| write_time(b, 45_296_789_000)), "12:34:56.789");
        assert_eq!(s(|b| write_time(b, 86_400_000_000)), "24:00:00");
        assert_eq!(
            s(|b| write_timestamp(b, 1_700_000_000_123_456)),
            "2023-11-14 22:13:20.123456"
        );
        assert_eq!(s(|b| write_timestamp(b, -1)), "1969-12-31 23:59:59.999999");
        assert_eq!(s(|b| write_timestamp(b, TS_INFINITY)), "infinity");
        assert_eq!(
            s(|b| write_timetz(b, 3_600_000_000, 19_800)),
            "01:00:00+05:30"
        );
        assert_eq!(s(|b| write_timetz(b, 0, -7200)), "00:00:00-02");
    }

    #[test]
    fn timestamptz_in_session_zone() {
        let utc = SessionTimeZone::default();
        assert_eq!(
            s(|b| write_timestamptz(b, 1_700_000_000_000_000, &utc)),
            "2023-11-14 22:13:20+00"
        );
        let ny = SessionTimeZone::parse("america/new_york").unwrap();
        assert_eq!(ny.name(), "America/New_York");
        assert_eq!(
            s(|b| write_timestamptz(b, 1_700_000_000_000_000, &ny)),
            "2023-11-14 17:13:20-05"
        );
        let kolkata = SessionTimeZone::parse("Asia/Kolkata").unwrap();
        assert_eq!(
            s(|b| write_timestamptz(b, 0, &kolkata)),
            "1970-01-01 05:30:00+05:30"
        );
        assert_eq!(
            SessionTimeZone::parse("+02:00"),
            Some(SessionTimeZone::Fixed(7200))
        );
        assert_eq!(SessionTimeZone::parse("Mars/Base"), None);
    }

    #[test]
    fn intervals_like_postgres() {
        assert_eq!(s(|b| write_interval(b, 0, 0, 0)), "00:00:00");
        assert_eq!(
            s(|b| write_interval(b, 14, 3, 14_706_789_000)),
            "1 year 2 mons 3 days 04:05:06.789"
        );
        assert_eq!(s(|b| write_interval(b, 0, 1, 0)), "1 day");
        assert_eq!(
            s(|b| write_interval(b, 0, -1, 7_200_000_000)),
            "-1 days +02:00:00"
        );
        assert_eq!(s(|b| write_interval(b, -13, 0, 0)), "-1 years -1 mons");
        assert_eq!(
            s(|b| write_interval(b, 0, 0, -360_000_000_000)),
            "-100:00:00"
        );
    }

    #[test]
    fn bytes_uuid_arrays_json() {
        assert_eq!(s(|b| write_bytea_hex(b, &[0, 0xab, 0x10])), "\\x00ab10");
        let u = [
            0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44,
            0x00, 0x00,
        ];
        assert_eq!(
            s(|b| write_uuid(b, &u)),
            "550e8400-e29b-41d4-a716-446655440000"
        );
        assert_eq!(s(|b| write_array_element(b, b"abc")), "abc");
        assert_eq!(s(|b| write_array_element(b, b"")), "\"\"");
        assert_eq!(s(|b| write_array_element(b, b"null")), "\"null\"");
        assert_eq!(s(|b| write_array_element(b, b"a b")), "\"a b\"");
        assert_eq!(s(|b| write_array_element(b, b"q\"\\")), "\"q\\\"\\\\\"");
        assert_eq!(
            s(|b| write_json_string(b, b"a\"b\n\x01")),
            "\"a\\\"b\\n\\u0001\""
        );
    }
}
