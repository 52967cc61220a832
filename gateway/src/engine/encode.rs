//! DuckDB result vectors → PostgreSQL DataRow bodies, in text and binary format.
//!
//! This runs on the session's worker thread, straight over DuckDB's chunk memory: no
//! intermediate row objects and no Arrow conversion. Scalar formatting lives in `crate::types`.

use bytes::{BufMut, BytesMut};
use duckdb::ffi;

use super::ffi::Chunk;
use crate::types::text::{self, SessionTimeZone};
use crate::types::{binary, pg_type_of, DuckType, PgAlias};

/// Session settings that change how values print.
#[derive(Debug, Clone)]
pub struct EncodeSettings {
    pub time_zone: SessionTimeZone,
    pub extra_float_digits: i32,
}

impl Default for EncodeSettings {
    fn default() -> Self {
        EncodeSettings {
            time_zone: SessionTimeZone::default(),
            extra_float_digits: 1,
        }
    }
}

/// How one result column is encoded.
#[derive(Debug, Clone)]
pub struct ColumnFormat {
    pub ty: DuckType,
    pub binary: bool,
}

/// A view of one DuckDB vector (and its children) for the rows of a chunk.
struct View<'t> {
    ty: &'t DuckType,
    data: *const u8,
    validity: *const u64,
    children: Vec<View<'t>>,
}

impl<'t> View<'t> {
    unsafe fn new(vector: ffi::duckdb_vector, ty: &'t DuckType) -> Self {
        let data = ffi::duckdb_vector_get_data(vector) as *const u8;
        let validity = ffi::duckdb_vector_get_validity(vector) as *const u64;
        // an aliased type's vector is laid out as the type it aliases
        let children = match ty.storage() {
            DuckType::List(e) => vec![View::new(ffi::duckdb_list_vector_get_child(vector), e)],
            DuckType::Array(e, _) => {
                vec![View::new(ffi::duckdb_array_vector_get_child(vector), e)]
            }
            DuckType::Map(..) => {
                // a MAP is a LIST of STRUCT(key, value)
                let entries = ffi::duckdb_list_vector_get_child(vector);
                vec![
                    View::new_map_part(ffi::duckdb_struct_vector_get_child(entries, 0), ty, 0),
                    View::new_map_part(ffi::duckdb_struct_vector_get_child(entries, 1), ty, 1),
                ]
            }
            DuckType::Struct(members) => members
                .iter()
                .enumerate()
                .map(|(i, (_, t))| {
                    View::new(ffi::duckdb_struct_vector_get_child(vector, i as u64), t)
                })
                .collect(),
            DuckType::Union(members) => {
                // child 0 is the tag, members follow
                let mut v = vec![View::new(
                    ffi::duckdb_struct_vector_get_child(vector, 0),
                    &DuckType::UTinyInt,
                )];
                v.extend(members.iter().enumerate().map(|(i, (_, t))| {
                    View::new(ffi::duckdb_struct_vector_get_child(vector, i as u64 + 1), t)
                }));
                v
            }
            _ => Vec::new(),
        };
        View {
            ty,
            data,
            validity,
            children,
        }
    }

    /// The same vector read as `ty` (a scalar type: no children).
    fn scalar_as(&self, ty: &'t DuckType) -> View<'t> {
        View {
            ty,
            data: self.data,
            validity: self.validity,
            children: Vec::new(),
        }
    }

    unsafe fn new_map_part(vector: ffi::duckdb_vector, map: &'t DuckType, which: usize) -> Self {
        let DuckType::Map(k, v) = map else {
            unreachable!()
        };
        View::new(vector, if which == 0 { k } else { v })
    }

    #[inline]
    fn is_valid(&self, row: usize) -> bool {
        if self.validity.is_null() {
            return true;
        }
        unsafe { (*self.validity.add(row / 64) >> (row % 64)) & 1 == 1 }
    }

    #[inline]
    unsafe fn read<T: Copy>(&self, row: usize) -> T {
        std::ptr::read_unaligned((self.data as *const T).add(row))
    }

    #[inline]
    unsafe fn string(&self, row: usize) -> &[u8] {
        let p = self.data.add(row * 16);
        let len = std::ptr::read_unaligned(p as *const u32) as usize;
        if len <= 12 {
            std::slice::from_raw_parts(p.add(4), len)
        } else {
            let ptr = std::ptr::read_unaligned(p.add(8) as *const *const u8);
            std::slice::from_raw_parts(ptr, len)
        }
    }

    #[inline]
    unsafe fn i128(&self, row: usize) -> i128 {
        let h: ffi::duckdb_hugeint = self.read(row);
        (i128::from(h.upper) << 64) | i128::from(h.lower)
    }

    #[inline]
    unsafe fn u128(&self, row: usize) -> u128 {
        let h: ffi::duckdb_uhugeint = self.read(row);
        (u128::from(h.upper) << 64) | u128::from(h.lower)
    }

    /// (offset, length) of a LIST/MAP row in the child vector.
    #[inline]
    unsafe fn list_range(&self, row: usize) -> (usize, usize) {
        match self.ty.storage() {
            DuckType::Array(_, n) => (row * n, *n),
            _ => {
                let e: ffi::duckdb_list_entry = self.read(row);
                (e.offset as usize, e.length as usize)
            }
        }
    }

    unsafe fn decimal(&self, row: usize, width: u8) -> i128 {
        match width {
            0..=4 => i128::from(self.read::<i16>(row)),
            5..=9 => i128::from(self.read::<i32>(row)),
            10..=18 => i128::from(self.read::<i64>(row)),
            _ => self.i128(row),
        }
    }

    unsafe fn enum_index(&self, row: usize, dict_len: usize) -> usize {
        if dict_len <= u8::MAX as usize {
            self.read::<u8>(row) as usize
        } else if dict_len <= u16::MAX as usize {
            self.read::<u16>(row) as usize
        } else {
            self.read::<u32>(row) as usize
        }
    }
}

/// DuckDB stores UUIDs as a HUGEINT with the top bit flipped (so they sort as unsigned).
fn uuid_bytes(h: i128) -> [u8; 16] {
    ((h as u128) ^ (1u128 << 127)).to_be_bytes()
}

/// TIMETZ: 40 bits of microseconds, 24 bits of encoded offset.
fn split_timetz(bits: u64) -> (i64, i32) {
    const MAX_OFFSET: i64 = 16 * 60 * 60 - 1;
    let micros = (bits >> 24) as i64;
    let offset = MAX_OFFSET - (bits & 0xFF_FFFF) as i64;
    (micros, offset as i32)
}

fn bit_values(b: &[u8]) -> Vec<bool> {
    if b.is_empty() {
        return Vec::new();
    }
    let pad = b[0] as usize;
    let total = (b.len() - 1) * 8;
    (pad..total)
        .map(|i| (b[1 + i / 8] >> (7 - i % 8)) & 1 == 1)
        .collect()
}

/// DuckDB BIGNUM: 3-byte header (sign in the top bit, set = positive), then big-endian magnitude;
/// negative values have every byte inverted.
fn bignum_decimal(b: &[u8]) -> (bool, String) {
    if b.len() < 3 {
        return (false, "0".into());
    }
    let negative = b[0] & 0x80 == 0;
    let mut mag: Vec<u8> = b[3..]
        .iter()
        .map(|&x| if negative { !x } else { x })
        .collect();
    // repeated division by 10^9 of a big-endian byte string
    let mut groups = Vec::new();
    while mag.iter().any(|&x| x != 0) {
        let mut rem: u64 = 0;
        for x in mag.iter_mut() {
            let cur = (rem << 8) | u64::from(*x);
            *x = (cur / 1_000_000_000) as u8;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem);
    }
    if groups.is_empty() {
        return (false, "0".into());
    }
    let mut s = groups.last().unwrap().to_string();
    for g in groups.iter().rev().skip(1) {
        s.push_str(&format!("{g:09}"));
    }
    (negative, s)
}

fn ts_micros(ty: &DuckType, raw: i64) -> i64 {
    if raw == text::TS_INFINITY || raw == text::TS_NEG_INFINITY {
        return raw;
    }
    match ty {
        DuckType::TimestampS => raw.saturating_mul(1_000_000),
        DuckType::TimestampMs => raw.saturating_mul(1_000),
        DuckType::TimestampNs => raw.div_euclid(1_000),
        _ => raw,
    }
}

/// The bytes of a DataRow message before its fields: type byte, length, field count.
pub const DATA_ROW_HEADER: usize = 7;

/// Encodes chunks into whole DataRow messages (type byte, length, field count, then the
/// length-prefixed field values), so a batch of rows goes to the socket as one copy.
pub struct RowEncoder {
    columns: Vec<ColumnFormat>,
    settings: EncodeSettings,
    scratch: BytesMut,
}

impl RowEncoder {
    pub fn new(columns: Vec<ColumnFormat>, settings: EncodeSettings) -> Self {
        RowEncoder {
            columns,
            settings,
            scratch: BytesMut::new(),
        }
    }

    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    /// Columns whose type was unknown when the statement was described were announced as text;
    /// encode them from the type DuckDB really produced, in text form (which is also the binary
    /// form of `text`), so the rows always agree with the RowDescription.
    pub fn resolve_unknown(&mut self, mut actual: impl FnMut(usize) -> DuckType) {
        for (i, c) in self.columns.iter_mut().enumerate() {
            if matches!(c.ty, DuckType::Unsupported(_)) {
                c.ty = actual(i);
                c.binary = false;
            }
        }
    }

    /// Whether a result of `count` columns typed `actual` is what this encoder was built for.
    /// Encoding reads DuckDB's vectors as the announced types, so a mismatch must never reach
    /// [`RowEncoder::encode_chunk`].
    pub fn fits(&self, count: usize, mut actual: impl FnMut(usize) -> DuckType) -> bool {
        count == self.columns.len()
            && self
                .columns
                .iter()
                .enumerate()
                .all(|(i, c)| matches!(c.ty, DuckType::Unsupported(_)) || c.ty == actual(i))
    }

    /// Append every row of `chunk` to `out` as a DataRow message; push each row's end offset
    /// to `row_ends`.
    pub fn encode_chunk(&mut self, chunk: &Chunk, out: &mut BytesMut, row_ends: &mut Vec<usize>) {
        let rows = chunk.len();
        let columns = std::mem::take(&mut self.columns);
        let views: Vec<View> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| unsafe { View::new(chunk.vector(i), &c.ty) })
            .collect();
        let field_count = columns.len() as i16;
        for row in 0..rows {
            let start = out.len();
            out.put_u8(b'D');
            out.put_i32(0); // the length, known once the fields are written
            out.put_i16(field_count);
            for (view, col) in views.iter().zip(&columns) {
                self.write_field(view, row, col.binary, out);
            }
            let len = (out.len() - start - 1) as i32;
            out[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
            row_ends.push(out.len());
        }
        drop(views);
        self.columns = columns;
    }

    /// A length-prefixed field (-1 for NULL).
    fn write_field(&mut self, view: &View, row: usize, binary: bool, out: &mut BytesMut) {
        if !view.is_valid(row) {
            out.put_i32(-1);
            return;
        }
        let at = out.len();
        out.put_i32(0);
        unsafe {
            if binary {
                self.write_binary(view, row, out)
            } else {
                self.write_text(view, row, out)
            }
        }
        let len = (out.len() - at - 4) as i32;
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    unsafe fn write_text(&mut self, v: &View, row: usize, out: &mut BytesMut) {
        use DuckType::*;
        match v.ty {
            Boolean => text::write_bool(out, v.read::<u8>(row) != 0),
            TinyInt => text::write_int(out, v.read::<i8>(row)),
            SmallInt => text::write_int(out, v.read::<i16>(row)),
            Integer => text::write_int(out, v.read::<i32>(row)),
            BigInt => text::write_int(out, v.read::<i64>(row)),
            UTinyInt => text::write_int(out, v.read::<u8>(row)),
            USmallInt => text::write_int(out, v.read::<u16>(row)),
            UInteger => text::write_int(out, v.read::<u32>(row)),
            UBigInt => text::write_int(out, v.read::<u64>(row)),
            HugeInt => text::write_int(out, v.i128(row)),
            UHugeInt => text::write_int(out, v.u128(row)),
            BigNum => {
                let (neg, digits) = bignum_decimal(v.string(row));
                if neg {
                    out.put_u8(b'-');
                }
                out.put_slice(digits.as_bytes());
            }
            Float => text::write_f32(out, v.read::<f32>(row), self.settings.extra_float_digits),
            Double => text::write_f64(out, v.read::<f64>(row), self.settings.extra_float_digits),
            Decimal { width, scale } => {
                let x = v.decimal(row, *width);
                text::write_decimal(out, x < 0, x.unsigned_abs(), *scale)
            }
            Varchar | Json => out.put_slice(v.string(row)),
            Blob => text::write_bytea_hex(out, v.string(row)),
            Bit => {
                for b in bit_values(v.string(row)) {
                    out.put_u8(if b { b'1' } else { b'0' });
                }
            }
            Enum(dict) => {
                let i = v.enum_index(row, dict.len());
                out.put_slice(dict.get(i).map(String::as_bytes).unwrap_or_default())
            }
            Uuid => text::write_uuid(out, &uuid_bytes(v.i128(row))),
            Date => text::write_date(out, v.read::<i32>(row)),
            Time => text::write_time(out, v.read::<i64>(row)),
            TimeNs => text::write_time(out, v.read::<i64>(row) / 1000),
            TimeTz => {
                let (m, o) = split_timetz(v.read::<u64>(row));
                text::write_timetz(out, m, o)
            }
            Timestamp | TimestampS | TimestampMs | TimestampNs => {
                text::write_timestamp(out, ts_micros(v.ty, v.read::<i64>(row)))
            }
            TimestampTz => {
                text::write_timestamptz(out, v.read::<i64>(row), &self.settings.time_zone)
            }
            Interval => {
                let i: ffi::duckdb_interval = v.read(row);
                text::write_interval(out, i.months, i.days, i.micros)
            }
            List(e) | Array(e, _) if !e.is_list_like() => self.write_text_array(v, row, out),
            List(_) | Array(..) | Struct(_) | Map(..) | Union(_) => self.write_json(v, row, out),
            Pg(PgAlias::Name | PgAlias::Char, t) => self.write_text(&v.scalar_as(t), row, out),
            Pg(PgAlias::Int2Vector | PgAlias::OidVector, _) => self.write_text_vector(v, row, out),
            Null => {}
            Unsupported(name) => out.put_slice(format!("<unsupported type {name}>").as_bytes()),
        }
    }

    /// `{a,b,NULL}`; elements that are themselves JSON-like become JSON texts.
    unsafe fn write_text_array(&mut self, v: &View, row: usize, out: &mut BytesMut) {
        let (offset, len) = v.list_range(row);
        let child = &v.children[0];
        out.put_u8(b'{');
        for i in 0..len {
            if i > 0 {
                out.put_u8(b',');
            }
            let r = offset + i;
            if !child.is_valid(r) {
                out.put_slice(b"NULL");
                continue;
            }
            let mut elem = std::mem::take(&mut self.scratch);
            elem.clear();
            if child.ty.is_json_like() {
                self.write_json(child, r, &mut elem);
            } else {
                self.write_text(child, r, &mut elem);
            }
            text::write_array_element(out, &elem);
            self.scratch = elem;
        }
        out.put_u8(b'}');
    }

    /// int2vector / oidvector: the elements separated by spaces (`1 2`; empty for none).
    unsafe fn write_text_vector(&mut self, v: &View, row: usize, out: &mut BytesMut) {
        let (offset, len) = v.list_range(row);
        let child = &v.children[0];
        for i in 0..len {
            if i > 0 {
                out.put_u8(b' ');
            }
            // PostgreSQL's vectors have no NULL elements; the views never produce one
            if child.is_valid(offset + i) {
                self.write_text(child, offset + i, out);
            }
        }
    }

    /// The documented JSON representation of nested values.
    unsafe fn write_json(&mut self, v: &View, row: usize, out: &mut BytesMut) {
        use DuckType::*;
        if !v.is_valid(row) {
            return out.put_slice(b"null");
        }
        match v.ty {
            Boolean => out.put_slice(if v.read::<u8>(row) != 0 {
                b"true"
            } else {
                b"false"
            }),
            TinyInt
            | SmallInt
            | Integer
            | BigInt
            | UTinyInt
            | USmallInt
            | UInteger
            | UBigInt
            | HugeInt
            | UHugeInt
            | BigNum
            | Decimal { .. } => self.write_text(v, row, out),
            Float | Double => {
                let f = if matches!(v.ty, Float) {
                    f64::from(v.read::<f32>(row))
                } else {
                    v.read::<f64>(row)
                };
                if f.is_finite() {
                    self.write_text(v, row, out)
                } else {
                    // JSON has no literal for these; quote PostgreSQL's spelling
                    out.put_u8(b'"');
                    self.write_text(v, row, out);
                    out.put_u8(b'"');
                }
            }
            Json => out.put_slice(v.string(row)),
            List(_) | Array(..) => {
                let (offset, len) = v.list_range(row);
                out.put_u8(b'[');
                for i in 0..len {
                    if i > 0 {
                        out.put_u8(b',');
                    }
                    self.write_json(&v.children[0], offset + i, out);
                }
                out.put_u8(b']');
            }
            Struct(members) => {
                out.put_u8(b'{');
                for (i, (name, _)) in members.iter().enumerate() {
                    if i > 0 {
                        out.put_u8(b',');
                    }
                    text::write_json_string(out, name.as_bytes());
                    out.put_u8(b':');
                    self.write_json(&v.children[i], row, out);
                }
                out.put_u8(b'}');
            }
            Map(..) => {
                let e: ffi::duckdb_list_entry = v.read(row);
                out.put_u8(b'{');
                for i in 0..e.length as usize {
                    if i > 0 {
                        out.put_u8(b',');
                    }
                    let r = e.offset as usize + i;
                    let mut key = std::mem::take(&mut self.scratch);
                    key.clear();
                    self.write_text(&v.children[0], r, &mut key);
                    text::write_json_string(out, &key);
                    self.scratch = key;
                    out.put_u8(b':');
                    self.write_json(&v.children[1], r, out);
                }
                out.put_u8(b'}');
            }
            Union(_) => {
                let tag = v.children[0].read::<u8>(row) as usize;
                match v.children.get(tag + 1) {
                    Some(member) => self.write_json(member, row, out),
                    None => out.put_slice(b"null"),
                }
            }
            _ => {
                let mut s = std::mem::take(&mut self.scratch);
                s.clear();
                self.write_text(v, row, &mut s);
                text::write_json_string(out, &s);
                self.scratch = s;
            }
        }
    }

    unsafe fn write_binary(&mut self, v: &View, row: usize, out: &mut BytesMut) {
        use DuckType::*;
        match v.ty {
            Boolean => out.put_u8(u8::from(v.read::<u8>(row) != 0)),
            TinyInt => out.put_i16(i16::from(v.read::<i8>(row))),
            SmallInt => out.put_i16(v.read::<i16>(row)),
            UTinyInt => out.put_i16(i16::from(v.read::<u8>(row))),
            Integer => out.put_i32(v.read::<i32>(row)),
            USmallInt => out.put_i32(i32::from(v.read::<u16>(row))),
            BigInt => out.put_i64(v.read::<i64>(row)),
            UInteger => out.put_u32(v.read::<u32>(row)),
            UBigInt => binary::write_numeric(out, false, u128::from(v.read::<u64>(row)), 0),
            HugeInt => {
                let x = v.i128(row);
                binary::write_numeric(out, x < 0, x.unsigned_abs(), 0)
            }
            UHugeInt => binary::write_numeric(out, false, v.u128(row), 0),
            BigNum => {
                let (neg, digits) = bignum_decimal(v.string(row));
                binary::write_numeric_digits(out, neg, &digits, 0)
            }
            Decimal { width, scale } => {
                let x = v.decimal(row, *width);
                binary::write_numeric(out, x < 0, x.unsigned_abs(), *scale)
            }
            Float => out.put_f32(v.read::<f32>(row)),
            Double => out.put_f64(v.read::<f64>(row)),
            Varchar | Json | Blob => out.put_slice(v.string(row)),
            Enum(dict) => {
                let i = v.enum_index(row, dict.len());
                out.put_slice(dict.get(i).map(String::as_bytes).unwrap_or_default())
            }
            Bit => binary::write_varbit(out, &bit_values(v.string(row))),
            Uuid => out.put_slice(&uuid_bytes(v.i128(row))),
            Date => binary::write_date(out, v.read::<i32>(row)),
            Time => out.put_i64(v.read::<i64>(row)),
            TimeNs => out.put_i64(v.read::<i64>(row) / 1000),
            TimeTz => {
                let (m, o) = split_timetz(v.read::<u64>(row));
                binary::write_timetz(out, m, o)
            }
            Timestamp | TimestampS | TimestampMs | TimestampNs | TimestampTz => {
                binary::write_timestamp(out, ts_micros(v.ty, v.read::<i64>(row)))
            }
            Interval => {
                let i: ffi::duckdb_interval = v.read(row);
                binary::write_interval(out, i.months, i.days, i.micros)
            }
            List(e) | Array(e, _) if !e.is_list_like() => {
                let (offset, len) = v.list_range(row);
                let child = &v.children[0];
                let has_null = (0..len).any(|i| !child.is_valid(offset + i));
                let elem_oid = pg_type_of(e).oid;
                binary::write_array_header(out, elem_oid, len, has_null);
                for i in 0..len {
                    let r = offset + i;
                    if child.ty.is_json_like() {
                        if !child.is_valid(r) {
                            out.put_i32(-1);
                            continue;
                        }
                        let at = out.len();
                        out.put_i32(0);
                        self.write_json(child, r, out);
                        let l = (out.len() - at - 4) as i32;
                        out[at..at + 4].copy_from_slice(&l.to_be_bytes());
                    } else {
                        self.write_field(child, r, true, out);
                    }
                }
            }
            // json's binary format is its text
            List(_) | Array(..) | Struct(_) | Map(..) | Union(_) => self.write_json(v, row, out),
            Pg(PgAlias::Name, _) => out.put_slice(v.string(row)),
            // `charsend`: the one byte, 0 for the empty "char"
            Pg(PgAlias::Char, _) => out.put_u8(v.string(row).first().copied().unwrap_or(0)),
            Pg(a @ (PgAlias::Int2Vector | PgAlias::OidVector), _) => {
                let (offset, len) = v.list_range(row);
                let child = &v.children[0];
                let has_null = (0..len).any(|i| !child.is_valid(offset + i));
                let elem_oid = match a {
                    PgAlias::Int2Vector => crate::types::oid::INT2,
                    _ => crate::types::oid::OID,
                };
                binary::write_vector_header(out, elem_oid, len, has_null);
                for i in 0..len {
                    self.write_field(child, offset + i, true, out);
                }
            }
            Null | Unsupported(_) => self.write_text(v, row, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_top_bit_flip() {
        // DuckDB stores 00000000-0000-0000-0000-000000000000 as i128::MIN
        assert_eq!(uuid_bytes(i128::MIN), [0u8; 16]);
        assert_eq!(uuid_bytes(-1)[0], 0x7f);
    }

    #[test]
    fn timetz_bits() {
        let micros: u64 = 3_600_000_000;
        let offset: i64 = 19_800;
        let bits = (micros << 24) | ((16 * 3600 - 1 - offset) as u64);
        assert_eq!(split_timetz(bits), (3_600_000_000, 19_800));
    }

    #[test]
    fn bits_skip_padding() {
        // "101" stored as padding 5, then 00000101
        assert_eq!(bit_values(&[5, 0b0000_0101]), vec![true, false, true]);
    }

    #[test]
    fn bignum_positive_and_negative() {
        let pos = [0x80, 0x00, 0x02, 0x01, 0x00];
        assert_eq!(bignum_decimal(&pos), (false, "256".into()));
        let neg: Vec<u8> = [0x80u8, 0x00, 0x01, 0x05].iter().map(|b| !b).collect();
        assert_eq!(bignum_decimal(&neg), (true, "5".into()));
    }
}
