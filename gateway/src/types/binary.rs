//! PostgreSQL binary output format (what `typsend` functions write) for scalar values.

use bytes::{BufMut, BytesMut};

use super::text::{DATE_INFINITY, DATE_NEG_INFINITY, TS_INFINITY, TS_NEG_INFINITY};

/// Days between 1970-01-01 (DuckDB's epoch) and 2000-01-01 (PostgreSQL's).
pub const PG_EPOCH_DAYS: i32 = 10_957;
pub const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

pub fn write_date(out: &mut BytesMut, days: i32) {
    out.put_i32(match days {
        DATE_INFINITY => i32::MAX,
        DATE_NEG_INFINITY => i32::MIN,
        d => d - PG_EPOCH_DAYS,
    });
}

pub fn write_timestamp(out: &mut BytesMut, micros: i64) {
    out.put_i64(match micros {
        TS_INFINITY => i64::MAX,
        TS_NEG_INFINITY => i64::MIN,
        m => m - PG_EPOCH_MICROS,
    });
}

/// TIMETZ: time of day in microseconds, then the zone in seconds WEST of UTC (PostgreSQL's sign).
pub fn write_timetz(out: &mut BytesMut, micros: i64, offset_secs_east: i32) {
    out.put_i64(micros);
    out.put_i32(-offset_secs_east);
}

pub fn write_interval(out: &mut BytesMut, months: i32, days: i32, micros: i64) {
    out.put_i64(micros);
    out.put_i32(days);
    out.put_i32(months);
}

/// PostgreSQL `numeric` binary form of `±magnitude × 10^-scale`:
/// ndigits, weight, sign, dscale, then base-10000 digits, most significant first.
pub fn write_numeric(out: &mut BytesMut, negative: bool, magnitude: u128, scale: u8) {
    write_numeric_digits(out, negative, &magnitude.to_string(), scale)
}

/// As [`write_numeric`], for a magnitude given as decimal digits (any length).
pub fn write_numeric_digits(out: &mut BytesMut, negative: bool, text: &str, scale: u8) {
    let scale = scale as usize;
    // Split into integer and fraction parts in decimal, then regroup in base 10000
    // aligned on the decimal point.
    let (int_part, frac_part) = if text.len() > scale {
        (
            &text[..text.len() - scale],
            text[text.len() - scale..].to_owned(),
        )
    } else {
        ("0", format!("{}{}", "0".repeat(scale - text.len()), text))
    };
    let int_part = int_part.trim_start_matches('0');
    let mut groups: Vec<i16> = Vec::new();
    // integer groups, padded on the left to a multiple of 4 digits
    let pad = (4 - int_part.len() % 4) % 4;
    let padded_int = format!("{}{}", "0".repeat(pad), int_part);
    for chunk in padded_int.as_bytes().chunks(4) {
        groups.push(std::str::from_utf8(chunk).unwrap().parse().unwrap());
    }
    let int_groups = groups.len() as i16;
    // fraction groups, padded on the right
    let fpad = (4 - frac_part.len() % 4) % 4;
    let padded_frac = format!("{}{}", frac_part, "0".repeat(fpad));
    for chunk in padded_frac.as_bytes().chunks(4) {
        groups.push(std::str::from_utf8(chunk).unwrap().parse().unwrap());
    }
    let mut weight = int_groups - 1;
    // strip leading zero groups (adjusting weight) and trailing zero groups
    let mut start = 0;
    while start < groups.len() && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = groups.len();
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let digits = &groups[start..end];
    if digits.is_empty() {
        weight = 0;
    }
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if negative && !digits.is_empty() {
        0x4000
    } else {
        0
    });
    out.put_u16(scale as u16);
    for d in digits {
        out.put_i16(*d);
    }
}

/// A one-dimensional array header: ndim, has-null flag, element OID, length, lower bound 1.
/// Elements follow, each as an i32 length (-1 for NULL) and its bytes.
pub fn write_array_header(out: &mut BytesMut, elem_oid: u32, len: usize, has_null: bool) {
    if len == 0 {
        out.put_i32(0);
        out.put_i32(0);
        out.put_u32(elem_oid);
        return;
    }
    out.put_i32(1);
    out.put_i32(i32::from(has_null));
    out.put_u32(elem_oid);
    out.put_i32(len as i32);
    out.put_i32(1);
}

/// The header of int2vector / oidvector (`int2vectorsend`, `oidvectorsend`: PostgreSQL's
/// array format, always one dimension, even when empty, with lower bound 0).
pub fn write_vector_header(out: &mut BytesMut, elem_oid: u32, len: usize, has_null: bool) {
    out.put_i32(1);
    out.put_i32(i32::from(has_null));
    out.put_u32(elem_oid);
    out.put_i32(len as i32);
    out.put_i32(0);
}

/// BIT/VARBIT: bit count, then the bits packed most-significant first.
pub fn write_varbit(out: &mut BytesMut, bits: &[bool]) {
    out.put_i32(bits.len() as i32);
    for chunk in bits.chunks(8) {
        let mut byte = 0u8;
        for (i, &b) in chunk.iter().enumerate() {
            if b {
                byte |= 0x80 >> i;
            }
        }
        out.put_u8(byte);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_header_is_one_dimension_from_zero() {
        let mut b = BytesMut::new();
        write_vector_header(&mut b, 21, 2, false);
        let words: Vec<i32> = b
            .chunks(4)
            .map(|c| i32::from_be_bytes(c.try_into().unwrap()))
            .collect();
        // ndim, has-null, element type, length, lower bound
        assert_eq!(words, vec![1, 0, 21, 2, 0]);
        let mut e = BytesMut::new();
        write_vector_header(&mut e, 26, 0, false);
        assert_eq!(
            &e[..4],
            &1i32.to_be_bytes(),
            "an empty vector still has one dimension"
        );
    }

    fn numeric(neg: bool, m: u128, scale: u8) -> (i16, i16, u16, u16, Vec<i16>) {
        let mut b = BytesMut::new();
        write_numeric(&mut b, neg, m, scale);
        let v = b.to_vec();
        let rd = |i: usize| i16::from_be_bytes([v[i], v[i + 1]]);
        let n = rd(0);
        let digits = (0..n as usize).map(|i| rd(8 + 2 * i)).collect();
        (n, rd(2), rd(4) as u16, rd(6) as u16, digits)
    }

    #[test]
    fn numeric_binary_layout() {
        // 12345.678 -> groups 1 2345 . 6780, weight 1, dscale 3
        assert_eq!(
            numeric(false, 12_345_678, 3),
            (3, 1, 0, 3, vec![1, 2345, 6780])
        );
        assert_eq!(numeric(true, 5, 2), (1, -1, 0x4000, 2, vec![500]));
        assert_eq!(numeric(false, 0, 2), (0, 0, 0, 2, vec![]));
        assert_eq!(numeric(false, 100_000_000, 0), (1, 2, 0, 0, vec![1]));
        assert_eq!(numeric(false, 1, 8), (1, -2, 0, 8, vec![1]));
    }

    #[test]
    fn epochs() {
        let mut b = BytesMut::new();
        write_date(&mut b, PG_EPOCH_DAYS);
        write_timestamp(&mut b, PG_EPOCH_MICROS);
        write_date(&mut b, DATE_INFINITY);
        assert_eq!(
            &b[..],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn varbit_packs_msb_first() {
        let mut b = BytesMut::new();
        write_varbit(
            &mut b,
            &[true, false, true, true, false, false, false, false, true],
        );
        assert_eq!(&b[..], &[0, 0, 0, 9, 0b1011_0000, 0b1000_0000]);
    }
}
