//! Decoding of Bind parameters (text and binary formats) into values DuckDB can bind.
//!
//! The wire format of a parameter is defined by its PostgreSQL type: the OID the client declared
//! in Parse, or, when it declared 0, the OID we reported in ParameterDescription.

use super::binary::{PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use super::oid;

/// A parameter value ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    /// Bound as VARCHAR; DuckDB casts it to the parameter's type.
    Text(String),
    Blob(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01 (wall clock).
    Timestamp(i64),
    /// Microseconds since 1970-01-01 UTC.
    TimestampTz(i64),
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
    Uuid([u8; 16]),
    /// A list of values of one PostgreSQL element type.
    List(u32, Vec<ParamValue>),
}

/// Why a parameter could not be decoded; maps to SQLSTATE 22P02 / 22P03 / 22003.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("invalid input syntax for type {type_name}: \"{value}\"")]
    InvalidText {
        type_name: &'static str,
        value: String,
    },
    #[error("incorrect binary data format in bind parameter {0}")]
    InvalidBinary(usize),
    #[error("value \"{value}\" is out of range for type {type_name}")]
    OutOfRange {
        type_name: &'static str,
        value: String,
    },
    #[error("invalid byte sequence for encoding \"UTF8\" in bind parameter {0}")]
    InvalidUtf8(usize),
}

impl ParamError {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            ParamError::InvalidText { .. } => "22P02",
            ParamError::InvalidBinary(_) => "22P03",
            ParamError::OutOfRange { .. } => "22003",
            ParamError::InvalidUtf8(_) => "22021",
        }
    }
}

fn invalid(type_name: &'static str, value: &str) -> ParamError {
    ParamError::InvalidText {
        type_name,
        value: value.to_owned(),
    }
}

/// Decode one parameter. `index` is 1-based (for messages); `binary` is the format code.
pub fn decode(
    type_oid: u32,
    bytes: Option<&[u8]>,
    binary: bool,
    index: usize,
) -> Result<ParamValue, ParamError> {
    let Some(bytes) = bytes else {
        return Ok(ParamValue::Null);
    };
    if binary {
        decode_binary(type_oid, bytes, index)
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| ParamError::InvalidUtf8(index))?;
        decode_text(type_oid, text)
    }
}

/// Text format. Types without special handling are passed as text for DuckDB to cast.
pub fn decode_text(type_oid: u32, text: &str) -> Result<ParamValue, ParamError> {
    let t = text.trim();
    Ok(match type_oid {
        oid::BOOL => ParamValue::Bool(parse_bool(t).ok_or_else(|| invalid("boolean", text))?),
        oid::INT2 => ParamValue::I16(parse_int(t, "smallint")?),
        oid::INT4 => ParamValue::I32(parse_int(t, "integer")?),
        oid::OID => ParamValue::I64(i64::from(parse_int::<u32>(t, "oid")?)),
        oid::INT8 => ParamValue::I64(parse_int(t, "bigint")?),
        oid::FLOAT4 => ParamValue::F32(parse_float(t).ok_or_else(|| invalid("real", text))? as f32),
        oid::FLOAT8 => {
            ParamValue::F64(parse_float(t).ok_or_else(|| invalid("double precision", text))?)
        }
        oid::BYTEA => ParamValue::Blob(parse_bytea(text).ok_or_else(|| invalid("bytea", text))?),
        oid::UNKNOWN => guess_literal(text),
        other => match oid::element_of(other) {
            Some(elem) => {
                let items = parse_array(text).ok_or_else(|| invalid("array", text))?;
                let values = items
                    .into_iter()
                    .map(|item| match item {
                        None => Ok(ParamValue::Null),
                        Some(s) => decode_text(elem, &s),
                    })
                    .collect::<Result<_, _>>()?;
                ParamValue::List(elem, values)
            }
            None => ParamValue::Text(text.to_owned()),
        },
    })
}

/// A parameter of unknown type with no type hint: like a PostgreSQL untyped literal, an
/// integer-looking value binds as an integer, a number as a double, anything else as text.
fn guess_literal(text: &str) -> ParamValue {
    if let Ok(i) = text.parse::<i64>() {
        return ParamValue::I64(i);
    }
    let numeric_chars = text
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if numeric_chars && text.bytes().any(|c| c.is_ascii_digit()) {
        if let Ok(f) = text.parse::<f64>() {
            return ParamValue::F64(f);
        }
    }
    ParamValue::Text(text.to_owned())
}

pub fn parse_bool(t: &str) -> Option<bool> {
    let l = t.to_ascii_lowercase();
    if l.is_empty() {
        return None;
    }
    // PostgreSQL accepts any unique prefix of these words.
    let is_prefix = |w: &str| w.starts_with(l.as_str());
    if is_prefix("true") || is_prefix("yes") || l == "on" || l == "1" {
        Some(true)
    } else if is_prefix("false") || is_prefix("no") || l == "off" || l == "0" {
        Some(false)
    } else {
        None
    }
}

fn parse_int<T: std::str::FromStr + TryFrom<i128>>(
    t: &str,
    type_name: &'static str,
) -> Result<T, ParamError> {
    match t.parse::<i128>() {
        Ok(v) => T::try_from(v).map_err(|_| ParamError::OutOfRange {
            type_name,
            value: t.to_owned(),
        }),
        Err(_) => Err(invalid(type_name, t)),
    }
}

fn parse_float(t: &str) -> Option<f64> {
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" | "inf" | "+inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => t.parse().ok(),
    }
}

/// bytea input: `\x` hex format or the traditional escape format.
pub fn parse_bytea(text: &str) -> Option<Vec<u8>> {
    if let Some(hex) = text
        .strip_prefix("\\x")
        .or_else(|| text.strip_prefix("\\X"))
    {
        let digits: Vec<u8> = hex.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        return digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
            .collect();
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if i + 4 <= b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push(u8::try_from(v).ok()?);
            i += 4;
        } else {
            return None;
        }
    }
    Some(out)
}

/// A one-dimensional PostgreSQL array literal `{a,"b c",NULL}` into its elements
/// (`None` = NULL). Nested arrays are not accepted.
pub fn parse_array(text: &str) -> Option<Vec<Option<String>>> {
    let t = text.trim();
    // optional dimension decoration: [1:3]={...}
    let t = match t.find('=') {
        Some(i) if t.starts_with('[') => &t[i + 1..],
        _ => t,
    };
    let inner = t.strip_prefix('{')?.strip_suffix('}')?;
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Some(items);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '"' => break,
                    c => value.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' || c == '"' {
                    return None;
                }
                if c == '\\' {
                    chars.next();
                    value.push(chars.next()?);
                    continue;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim_end().to_owned();
        }
        if !quoted && value.eq_ignore_ascii_case("NULL") {
            items.push(None);
        } else {
            items.push(Some(value));
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(_) => return None,
        }
    }
    Some(items)
}

/// Binary format, by PostgreSQL type.
pub fn decode_binary(type_oid: u32, b: &[u8], index: usize) -> Result<ParamValue, ParamError> {
    let bad = || ParamError::InvalidBinary(index);
    let fixed = |n: usize| if b.len() == n { Ok(()) } else { Err(bad()) };
    Ok(match type_oid {
        oid::BOOL => {
            fixed(1)?;
            ParamValue::Bool(b[0] != 0)
        }
        oid::INT2 => {
            fixed(2)?;
            ParamValue::I16(i16::from_be_bytes([b[0], b[1]]))
        }
        oid::INT4 => {
            fixed(4)?;
            ParamValue::I32(i32::from_be_bytes(b.try_into().unwrap()))
        }
        // an oid is an unsigned 32-bit integer
        oid::OID => {
            fixed(4)?;
            ParamValue::I64(i64::from(u32::from_be_bytes(b.try_into().unwrap())))
        }
        oid::INT8 => {
            fixed(8)?;
            ParamValue::I64(i64::from_be_bytes(b.try_into().unwrap()))
        }
        oid::FLOAT4 => {
            fixed(4)?;
            ParamValue::F32(f32::from_be_bytes(b.try_into().unwrap()))
        }
        oid::FLOAT8 => {
            fixed(8)?;
            ParamValue::F64(f64::from_be_bytes(b.try_into().unwrap()))
        }
        oid::BYTEA => ParamValue::Blob(b.to_vec()),
        oid::UUID => {
            fixed(16)?;
            ParamValue::Uuid(b.try_into().unwrap())
        }
        oid::DATE => {
            fixed(4)?;
            let d = i32::from_be_bytes(b.try_into().unwrap());
            ParamValue::Date(match d {
                i32::MAX => super::text::DATE_INFINITY,
                i32::MIN => super::text::DATE_NEG_INFINITY,
                d => d.checked_add(PG_EPOCH_DAYS).ok_or_else(bad)?,
            })
        }
        oid::TIME => {
            fixed(8)?;
            ParamValue::Time(i64::from_be_bytes(b.try_into().unwrap()))
        }
        oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            fixed(8)?;
            let m = i64::from_be_bytes(b.try_into().unwrap());
            let m = match m {
                i64::MAX => super::text::TS_INFINITY,
                i64::MIN => super::text::TS_NEG_INFINITY,
                m => m.checked_add(PG_EPOCH_MICROS).ok_or_else(bad)?,
            };
            if type_oid == oid::TIMESTAMP {
                ParamValue::Timestamp(m)
            } else {
                ParamValue::TimestampTz(m)
            }
        }
        oid::INTERVAL => {
            fixed(16)?;
            ParamValue::Interval {
                micros: i64::from_be_bytes(b[0..8].try_into().unwrap()),
                days: i32::from_be_bytes(b[8..12].try_into().unwrap()),
                months: i32::from_be_bytes(b[12..16].try_into().unwrap()),
            }
        }
        oid::NUMERIC => ParamValue::Text(numeric_binary_to_text(b).ok_or_else(bad)?),
        oid::JSONB => {
            // version byte 1, then the JSON text
            if b.first() != Some(&1) {
                return Err(bad());
            }
            ParamValue::Text(String::from_utf8(b[1..].to_vec()).map_err(|_| bad())?)
        }
        other => match oid::element_of(other) {
            Some(_) => decode_binary_array(b, index)?,
            // text-like types (text, varchar, name, json, unknown, ...) are their UTF-8 bytes
            None => ParamValue::Text(
                String::from_utf8(b.to_vec()).map_err(|_| ParamError::InvalidUtf8(index))?,
            ),
        },
    })
}

fn decode_binary_array(b: &[u8], index: usize) -> Result<ParamValue, ParamError> {
    let bad = || ParamError::InvalidBinary(index);
    let rd_i32 = |at: usize| -> Result<i32, ParamError> {
        Ok(i32::from_be_bytes(
            b.get(at..at + 4).ok_or_else(bad)?.try_into().unwrap(),
        ))
    };
    let ndim = rd_i32(0)?;
    let elem = rd_i32(8)? as u32;
    if ndim == 0 {
        return Ok(ParamValue::List(elem, Vec::new()));
    }
    if ndim != 1 {
        return Err(bad());
    }
    let len = rd_i32(12)?;
    if len < 0 {
        return Err(bad());
    }
    let mut at = 20;
    let mut values = Vec::with_capacity(len as usize);
    for _ in 0..len {
        let l = rd_i32(at)?;
        at += 4;
        if l < 0 {
            values.push(ParamValue::Null);
        } else {
            let item = b.get(at..at + l as usize).ok_or_else(bad)?;
            values.push(decode_binary(elem, item, index)?);
            at += l as usize;
        }
    }
    Ok(ParamValue::List(elem, values))
}

/// PostgreSQL binary numeric to its decimal text.
pub fn numeric_binary_to_text(b: &[u8]) -> Option<String> {
    let rd =
        |i: usize| -> Option<i16> { Some(i16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?)) };
    let ndigits = rd(0)? as usize;
    let weight = rd(2)? as i32;
    let sign = rd(4)? as u16;
    let dscale = rd(6)? as usize;
    if b.len() != 8 + 2 * ndigits {
        return None;
    }
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0 | 0x4000 => {}
        _ => return None,
    }
    let digits: Vec<i16> = (0..ndigits).map(|i| rd(8 + 2 * i)).collect::<Option<_>>()?;
    let mut int_part = String::new();
    for w in 0..=weight.max(-1) {
        let d = digits.get(w as usize).copied().unwrap_or(0);
        if int_part.is_empty() {
            if d != 0 {
                int_part.push_str(&d.to_string());
            }
        } else {
            int_part.push_str(&format!("{d:04}"));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut w = weight + 1;
    while frac.len() < dscale {
        let d = if w < 0 {
            0
        } else {
            digits.get(w as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        w += 1;
    }
    frac.truncate(dscale);
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    s.push_str(&int_part);
    if dscale > 0 {
        s.push('.');
        s.push_str(&frac);
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::binary::write_numeric;
    use bytes::BytesMut;

    #[test]
    fn text_scalars() {
        assert_eq!(decode_text(oid::BOOL, "TRUE"), Ok(ParamValue::Bool(true)));
        assert_eq!(decode_text(oid::BOOL, "f"), Ok(ParamValue::Bool(false)));
        assert!(decode_text(oid::BOOL, "maybe").is_err());
        assert_eq!(decode_text(oid::INT4, " 42 "), Ok(ParamValue::I32(42)));
        assert_eq!(
            decode_text(oid::INT2, "70000").unwrap_err().sqlstate(),
            "22003"
        );
        assert_eq!(decode_text(oid::INT8, "x").unwrap_err().sqlstate(), "22P02");
        assert!(matches!(decode_text(oid::FLOAT8, "NaN"), Ok(ParamValue::F64(f)) if f.is_nan()));
        assert_eq!(
            decode_text(oid::BYTEA, "\\x00ff"),
            Ok(ParamValue::Blob(vec![0, 255]))
        );
        assert_eq!(
            decode_text(oid::BYTEA, "a\\\\b\\001"),
            Ok(ParamValue::Blob(vec![b'a', b'\\', b'b', 1]))
        );
        assert_eq!(
            decode_text(oid::DATE, "2024-01-02"),
            Ok(ParamValue::Text("2024-01-02".into()))
        );
        assert_eq!(decode_text(oid::UNKNOWN, "12"), Ok(ParamValue::I64(12)));
        assert_eq!(decode_text(oid::UNKNOWN, "1.5"), Ok(ParamValue::F64(1.5)));
        assert_eq!(
            decode_text(oid::UNKNOWN, "abc"),
            Ok(ParamValue::Text("abc".into()))
        );
    }

    #[test]
    fn text_arrays() {
        assert_eq!(
            parse_array(r#"{1, 2,NULL,"a b","q\"x",""}"#),
            Some(vec![
                Some("1".into()),
                Some("2".into()),
                None,
                Some("a b".into()),
                Some("q\"x".into()),
                Some("".into())
            ])
        );
        assert_eq!(parse_array("{}"), Some(vec![]));
        assert_eq!(parse_array("{{1},{2}}"), None);
        assert_eq!(
            decode_text(oid::INT4_ARRAY, "{1,NULL,3}"),
            Ok(ParamValue::List(
                oid::INT4,
                vec![ParamValue::I32(1), ParamValue::Null, ParamValue::I32(3)]
            ))
        );
    }

    #[test]
    fn binary_scalars_and_arrays() {
        assert_eq!(
            decode_binary(oid::INT8, &42i64.to_be_bytes(), 1),
            Ok(ParamValue::I64(42))
        );
        assert_eq!(
            decode_binary(oid::INT4, &[0, 1], 1).unwrap_err().sqlstate(),
            "22P03"
        );
        assert_eq!(
            decode_binary(oid::DATE, &0i32.to_be_bytes(), 1),
            Ok(ParamValue::Date(PG_EPOCH_DAYS))
        );
        let mut arr = Vec::new();
        for v in [1i32, 1, 23, 2, 1] {
            arr.extend_from_slice(&v.to_be_bytes());
        }
        arr.extend_from_slice(&4i32.to_be_bytes());
        arr.extend_from_slice(&7i32.to_be_bytes());
        arr.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(
            decode_binary(oid::INT4_ARRAY, &arr, 1),
            Ok(ParamValue::List(
                oid::INT4,
                vec![ParamValue::I32(7), ParamValue::Null]
            ))
        );
    }

    #[test]
    fn numeric_binary_round_trip() {
        for (neg, m, s, want) in [
            (false, 12_345_678u128, 3u8, "12345.678"),
            (true, 5, 2, "-0.05"),
            (false, 0, 0, "0"),
            (false, 100_000_000, 0, "100000000"),
            (false, 1, 8, "0.00000001"),
            (
                false,
                1_000_000_000_000_000_000_000_000_000_000u128,
                2,
                "10000000000000000000000000000.00",
            ),
        ] {
            let mut b = BytesMut::new();
            write_numeric(&mut b, neg, m, s);
            assert_eq!(numeric_binary_to_text(&b).as_deref(), Some(want));
        }
    }
}
