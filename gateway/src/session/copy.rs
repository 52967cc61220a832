//! COPY data formats (text, CSV, binary), both ways. Pure functions over bytes.
//!
//! Out: rows arrive encoded as DataRow bodies (per field: i32 length, -1 for NULL, then the
//! value in text or binary format) and are rewritten as COPY lines or binary tuples.
//! In: a streaming parser fed CopyData payloads of any size, yielding rows of raw fields with
//! the line they came from.

use bytes::{BufMut, BytesMut};

use crate::engine::encode::DATA_ROW_HEADER;
use crate::sql::copy::{CopyFormat, CopyOptions};

/// The binary COPY signature, flags and header-extension length.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Iterate the fields of a DataRow body.
fn fields(body: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    let mut rest = body;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = i32::from_be_bytes(rest[..4].try_into().unwrap());
        rest = &rest[4..];
        if len < 0 {
            return Some(None);
        }
        let (v, tail) = rest.split_at(len as usize);
        rest = tail;
        Some(Some(v))
    })
}

/// Rewrites DataRow bodies as COPY output.
pub struct CopyOutEncoder {
    options: CopyOptions,
    columns: i16,
}

impl CopyOutEncoder {
    pub fn new(options: CopyOptions, columns: usize) -> Self {
        CopyOutEncoder {
            options,
            columns: columns as i16,
        }
    }

    /// What goes before the first row: the binary header, or the CSV header line.
    pub fn prologue(&self, names: &[String]) -> Option<Vec<u8>> {
        match self.options.format {
            CopyFormat::Binary => Some(BINARY_HEADER.to_vec()),
            CopyFormat::Csv if self.options.header => {
                let mut out = Vec::new();
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        out.push(self.options.delimiter);
                    }
                    self.csv_field(n.as_bytes(), &mut out);
                }
                out.push(b'\n');
                Some(out)
            }
            _ => None,
        }
    }

    /// What goes after the last row: the binary trailer.
    pub fn epilogue(&self) -> Option<Vec<u8>> {
        (self.options.format == CopyFormat::Binary).then(|| (-1i16).to_be_bytes().to_vec())
    }

    /// DataRow messages (as the engine encodes them) as CopyData messages, one per row as
    /// PostgreSQL sends them; `prologue` goes at the start of the first. Returns the frames
    /// and how many there are.
    pub fn copy_data_frames(
        &self,
        data_rows: &[u8],
        prologue: Option<Vec<u8>>,
    ) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(data_rows.len() + 64);
        let mut rest = data_rows;
        let mut prologue = prologue;
        let mut count = 0;
        while rest.len() >= DATA_ROW_HEADER {
            let len = i32::from_be_bytes(rest[1..5].try_into().expect("4 bytes")) as usize;
            let (message, tail) = rest.split_at(1 + len);
            rest = tail;
            let start = out.len();
            out.push(b'd');
            out.extend_from_slice(&[0; 4]); // the length, known once the row is written
            if let Some(p) = prologue.take() {
                out.extend_from_slice(&p);
            }
            self.write_row(&message[DATA_ROW_HEADER..], &mut out);
            let len = (out.len() - start - 1) as i32;
            out[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
            count += 1;
        }
        (out, count)
    }

    /// Append one row as COPY data to `out`.
    fn write_row(&self, body: &[u8], out: &mut Vec<u8>) {
        match self.options.format {
            CopyFormat::Binary => {
                out.extend_from_slice(&self.columns.to_be_bytes());
                out.extend_from_slice(body);
            }
            CopyFormat::Text => {
                for (i, f) in fields(body).enumerate() {
                    if i > 0 {
                        out.push(self.options.delimiter);
                    }
                    match f {
                        None => out.extend_from_slice(self.options.null.as_bytes()),
                        Some(v) => self.text_field(v, out),
                    }
                }
                out.push(b'\n');
            }
            CopyFormat::Csv => {
                for (i, f) in fields(body).enumerate() {
                    if i > 0 {
                        out.push(self.options.delimiter);
                    }
                    match f {
                        None => out.extend_from_slice(self.options.null.as_bytes()),
                        Some(v) => self.csv_field(v, out),
                    }
                }
                out.push(b'\n');
            }
        }
    }

    fn text_field(&self, v: &[u8], out: &mut Vec<u8>) {
        // backspace, tab, newline, vertical tab, form feed, carriage return; backslash; delimiter
        let special =
            |b: u8| (0x08..0x0e).contains(&b) || b == b'\\' || b == self.options.delimiter;
        let mut rest = v;
        // runs of plain bytes go in one copy; most values have no byte to escape at all
        while let Some(i) = rest.iter().position(|&b| special(b)) {
            out.extend_from_slice(&rest[..i]);
            match rest[i] {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                0x0b => out.extend_from_slice(b"\\v"),
                d if d == self.options.delimiter => {
                    out.push(b'\\');
                    out.push(d);
                }
                b => out.push(b), // (every special byte has its arm above)
            }
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
    }

    fn csv_field(&self, v: &[u8], out: &mut Vec<u8>) {
        let o = &self.options;
        let needs_quotes = o.force_quote_all
            || v == o.null.as_bytes()
            || v == b"\\."
            || v.iter()
                .any(|&b| b == o.delimiter || b == o.quote || b == b'\n' || b == b'\r');
        if !needs_quotes {
            out.extend_from_slice(v);
            return;
        }
        out.push(o.quote);
        for &b in v {
            if b == o.quote || b == o.escape {
                out.push(o.escape);
            }
            out.push(b);
        }
        out.push(o.quote);
    }
}

/// A parsed input row: its line (text/CSV) or tuple number (binary), and raw field values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InRow {
    pub line: u64,
    pub fields: Vec<Option<Vec<u8>>>,
}

/// A malformed input: the line it was found on and what is wrong (SQLSTATE 22P04).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InError {
    pub line: u64,
    pub message: String,
}

/// Streaming parser for COPY FROM STDIN data.
pub struct CopyInParser {
    options: CopyOptions,
    buf: BytesMut,
    /// Lines (text/CSV records, or binary tuples) consumed so far.
    line: u64,
    header_pending: bool,
    binary_header_done: bool,
    /// The end marker (`\.` or the binary trailer) was seen; later data is ignored.
    ended: bool,
}

impl CopyInParser {
    pub fn new(options: CopyOptions) -> Self {
        CopyInParser {
            header_pending: options.header,
            options,
            buf: BytesMut::new(),
            line: 0,
            binary_header_done: false,
            ended: false,
        }
    }

    /// Add a CopyData payload and return the complete rows it finished.
    pub fn feed(&mut self, data: &[u8], rows: &mut Vec<InRow>) -> Result<(), InError> {
        if self.ended {
            return Ok(());
        }
        self.buf.put_slice(data);
        match self.options.format {
            CopyFormat::Binary => self.binary_rows(rows),
            CopyFormat::Text => self.text_rows(rows, false),
            CopyFormat::Csv => self.csv_rows(rows, false),
        }
    }

    /// CopyDone: the last line may lack its newline.
    pub fn finish(&mut self, rows: &mut Vec<InRow>) -> Result<(), InError> {
        if self.ended {
            return Ok(());
        }
        match self.options.format {
            CopyFormat::Binary => {
                if !self.buf.is_empty() || !self.binary_header_done {
                    return Err(self.error("unexpected end of binary COPY data"));
                }
                Ok(())
            }
            CopyFormat::Text => self.text_rows(rows, true),
            CopyFormat::Csv => self.csv_rows(rows, true),
        }
    }

    fn error(&self, message: impl Into<String>) -> InError {
        InError {
            line: self.line.max(1),
            message: message.into(),
        }
    }

    fn text_rows(&mut self, rows: &mut Vec<InRow>, at_end: bool) -> Result<(), InError> {
        loop {
            let (line, consumed) = match self.buf.iter().position(|&b| b == b'\n') {
                Some(p) => (&self.buf[..p], p + 1),
                None if at_end && !self.buf.is_empty() => (&self.buf[..], self.buf.len()),
                None => return Ok(()),
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.line += 1;
            if line == b"\\." {
                self.ended = true;
                self.buf.clear();
                return Ok(());
            }
            let fields = split_text_line(line, &self.options).map_err(|m| InError {
                line: self.line,
                message: m,
            })?;
            rows.push(InRow {
                line: self.line,
                fields,
            });
            let _ = self.buf.split_to(consumed);
        }
    }

    fn csv_rows(&mut self, rows: &mut Vec<InRow>, at_end: bool) -> Result<(), InError> {
        loop {
            let Some((fields, consumed, newlines)) =
                split_csv_record(&self.buf, &self.options, at_end).map_err(|m| InError {
                    line: self.line + 1,
                    message: m,
                })?
            else {
                return Ok(());
            };
            self.line += 1;
            let first_line = self.line;
            self.line += newlines; // quoted newlines inside the record
            let record = self.buf.split_to(consumed);
            if self.header_pending {
                self.header_pending = false;
                continue;
            }
            if record.strip_suffix(b"\n").unwrap_or(&record) == b"\\." {
                self.ended = true;
                self.buf.clear();
                return Ok(());
            }
            rows.push(InRow {
                line: first_line,
                fields,
            });
        }
    }

    fn binary_rows(&mut self, rows: &mut Vec<InRow>) -> Result<(), InError> {
        if !self.binary_header_done {
            if self.buf.len() < 19 {
                return Ok(());
            }
            if &self.buf[..11] != b"PGCOPY\n\xff\r\n\0" {
                return Err(self.error("COPY file signature not recognized"));
            }
            let ext = u32::from_be_bytes(self.buf[15..19].try_into().unwrap()) as usize;
            if self.buf.len() < 19 + ext {
                return Ok(());
            }
            let _ = self.buf.split_to(19 + ext);
            self.binary_header_done = true;
        }
        loop {
            if self.buf.len() < 2 {
                return Ok(());
            }
            let count = i16::from_be_bytes(self.buf[..2].try_into().unwrap());
            if count == -1 {
                self.ended = true;
                self.buf.clear();
                return Ok(());
            }
            if count < 0 {
                return Err(self.error(format!("invalid field count {count} in binary COPY")));
            }
            // is the whole tuple here?
            let mut pos = 2;
            let mut lens = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let Some(l) = self.buf.get(pos..pos + 4) else {
                    return Ok(());
                };
                let len = i32::from_be_bytes(l.try_into().unwrap());
                pos += 4;
                if len >= 0 {
                    pos += len as usize;
                    if pos > self.buf.len() {
                        return Ok(());
                    }
                } else if len != -1 {
                    return Err(self.error(format!("invalid field length {len} in binary COPY")));
                }
                lens.push(len);
            }
            self.line += 1;
            let tuple = self.buf.split_to(pos);
            let mut at = 2;
            let fields = lens
                .into_iter()
                .map(|len| {
                    at += 4;
                    (len >= 0).then(|| {
                        let v = tuple[at..at + len as usize].to_vec();
                        at += len as usize;
                        v
                    })
                })
                .collect();
            rows.push(InRow {
                line: self.line,
                fields,
            });
        }
    }
}

/// One text-format line into fields: backslash escapes decoded, the NULL marker recognised
/// before decoding (as PostgreSQL does).
fn split_text_line(line: &[u8], o: &CopyOptions) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut out = Vec::new();
    let mut raw_start = 0;
    let mut cur = Vec::new();
    let mut i = 0;
    let mut push = |raw: &[u8], cur: &mut Vec<u8>| {
        if raw == o.null.as_bytes() {
            out.push(None);
        } else {
            out.push(Some(std::mem::take(cur)));
        }
        cur.clear();
    };
    while i < line.len() {
        let b = line[i];
        if b == b'\\' && i + 1 < line.len() {
            let n = line[i + 1];
            i += 2;
            match n {
                b'n' => cur.push(b'\n'),
                b'r' => cur.push(b'\r'),
                b't' => cur.push(b'\t'),
                b'b' => cur.push(0x08),
                b'f' => cur.push(0x0c),
                b'v' => cur.push(0x0b),
                b'0'..=b'7' => {
                    let mut v = (n - b'0') as u32;
                    let mut k = 0;
                    while k < 2 && i < line.len() && (b'0'..=b'7').contains(&line[i]) {
                        v = v * 8 + (line[i] - b'0') as u32;
                        i += 1;
                        k += 1;
                    }
                    cur.push(v as u8);
                }
                b'x' if i < line.len() && line[i].is_ascii_hexdigit() => {
                    let mut v = 0u32;
                    let mut k = 0;
                    while k < 2 && i < line.len() && line[i].is_ascii_hexdigit() {
                        v = v * 16 + (line[i] as char).to_digit(16).unwrap();
                        i += 1;
                        k += 1;
                    }
                    cur.push(v as u8);
                }
                other => cur.push(other),
            }
        } else if b == o.delimiter {
            push(&line[raw_start..i], &mut cur);
            i += 1;
            raw_start = i;
        } else {
            cur.push(b);
            i += 1;
        }
    }
    push(&line[raw_start..], &mut cur);
    Ok(out)
}

/// The next CSV record in `buf`: (fields, bytes consumed, newlines inside quotes). `None`
/// when the record is not complete yet (and `at_end` is false).
#[allow(clippy::type_complexity)]
fn split_csv_record(
    buf: &[u8],
    o: &CopyOptions,
    at_end: bool,
) -> Result<Option<(Vec<Option<Vec<u8>>>, usize, u64)>, String> {
    if buf.is_empty() {
        return Ok(None);
    }
    let mut fields = Vec::new();
    let mut cur = Vec::new();
    let mut quoted_any = false;
    let mut in_quotes = false;
    let mut newlines = 0;
    let mut i = 0;
    let mut finish = |cur: &mut Vec<u8>, quoted: bool| {
        if !quoted && cur.as_slice() == o.null.as_bytes() {
            fields.push(None);
        } else {
            fields.push(Some(std::mem::take(cur)));
        }
        cur.clear();
    };
    while i < buf.len() {
        let b = buf[i];
        if in_quotes {
            if b == o.escape && o.escape != o.quote && buf.get(i + 1) == Some(&o.quote) {
                cur.push(o.quote);
                i += 2;
                continue;
            }
            if b == o.quote {
                if o.escape == o.quote && buf.get(i + 1) == Some(&o.quote) {
                    cur.push(o.quote);
                    i += 2;
                    continue;
                }
                if i + 1 == buf.len() && !at_end {
                    return Ok(None); // a doubled quote may continue in the next message
                }
                in_quotes = false;
                i += 1;
                continue;
            }
            if b == b'\n' {
                newlines += 1;
            }
            cur.push(b);
            i += 1;
            continue;
        }
        if b == o.quote {
            in_quotes = true;
            quoted_any = true;
            i += 1;
        } else if b == o.delimiter {
            finish(&mut cur, quoted_any);
            quoted_any = false;
            i += 1;
        } else if b == b'\n' || b == b'\r' {
            let mut end = i + 1;
            if b == b'\r' && buf.get(i + 1) == Some(&b'\n') {
                end += 1;
            } else if b == b'\r' && i + 1 == buf.len() && !at_end {
                return Ok(None);
            }
            finish(&mut cur, quoted_any);
            return Ok(Some((fields, end, newlines)));
        } else {
            cur.push(b);
            i += 1;
        }
    }
    if !at_end {
        return Ok(None);
    }
    if in_quotes {
        return Err("unterminated CSV quoted field".into());
    }
    finish(&mut cur, quoted_any);
    Ok(Some((fields, buf.len(), newlines)))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl CopyOutEncoder {
        /// One row as COPY data.
        fn row(&self, body: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            self.write_row(body, &mut out);
            out
        }
    }
    use crate::sql::copy::parse;

    fn opts(sql: &str) -> CopyOptions {
        parse(sql).unwrap().unwrap().options
    }

    fn body(fields: &[Option<&str>]) -> Vec<u8> {
        let mut b = Vec::new();
        for f in fields {
            match f {
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    b.extend_from_slice(v.as_bytes());
                }
            }
        }
        b
    }

    fn parse_all(o: CopyOptions, chunks: &[&[u8]]) -> Result<Vec<InRow>, InError> {
        let mut p = CopyInParser::new(o);
        let mut rows = Vec::new();
        for c in chunks {
            p.feed(c, &mut rows)?;
        }
        p.finish(&mut rows)?;
        Ok(rows)
    }

    fn values(rows: &[InRow]) -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|r| {
                r.fields
                    .iter()
                    .map(|f| f.as_ref().map(|v| String::from_utf8(v.clone()).unwrap()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn text_out_escapes_like_postgresql() {
        let e = CopyOutEncoder::new(opts("COPY t TO STDOUT"), 3);
        let line = e.row(&body(&[Some("a\tb\\c\nd"), None, Some("")]));
        assert_eq!(line, b"a\\tb\\\\c\\nd\t\\N\t\n");
    }

    #[test]
    fn text_out_escapes_control_bytes_and_another_delimiter_inside_plain_runs() {
        let e = CopyOutEncoder::new(opts("COPY t TO STDOUT (DELIMITER ',')"), 2);
        let line = e.row(&body(&[
            Some("ab,c\td\x0be\x08\x0c\rf"),
            Some("plain text"),
        ]));
        assert_eq!(line, b"ab\\,c\\td\\ve\\b\\f\\rf,plain text\n");
    }

    #[test]
    fn csv_out_quotes_only_when_needed() {
        let e = CopyOutEncoder::new(opts("COPY t TO STDOUT (FORMAT csv, HEADER)"), 4);
        assert_eq!(
            e.prologue(&["id".into(), "a,b".into()]).unwrap(),
            b"id,\"a,b\"\n"
        );
        let line = e.row(&body(&[Some("plain"), Some("say \"hi\""), None, Some("")]));
        assert_eq!(line, b"plain,\"say \"\"hi\"\"\",,\"\"\n");
    }

    #[test]
    fn binary_out_has_header_tuples_and_trailer() {
        let e = CopyOutEncoder::new(opts("COPY t TO STDOUT (FORMAT binary)"), 1);
        assert_eq!(&e.prologue(&[]).unwrap()[..11], b"PGCOPY\n\xff\r\n\0");
        let row = e.row(&body(&[Some("xy")]));
        assert_eq!(row, [0, 1, 0, 0, 0, 2, b'x', b'y']);
        assert_eq!(e.epilogue().unwrap(), [0xff, 0xff]);
    }

    /// A DataRow message as the engine frames it.
    fn data_row(fields: &[Option<&str>]) -> Vec<u8> {
        let b = body(fields);
        let mut m = vec![b'D'];
        m.extend_from_slice(&((b.len() + 6) as i32).to_be_bytes());
        m.extend_from_slice(&(fields.len() as i16).to_be_bytes());
        m.extend_from_slice(&b);
        m
    }

    #[test]
    fn data_rows_become_one_copy_data_message_each_with_the_prologue_in_the_first() {
        let e = CopyOutEncoder::new(opts("COPY t TO STDOUT (FORMAT csv, HEADER)"), 2);
        let mut rows = data_row(&[Some("1"), Some("a")]);
        rows.extend(data_row(&[Some("2"), None]));
        let (frames, n) = e.copy_data_frames(&rows, e.prologue(&["id".into(), "v".into()]));
        assert_eq!(n, 2);
        let mut want = vec![b'd'];
        want.extend_from_slice(&(4 + 9i32).to_be_bytes());
        want.extend_from_slice(b"id,v\n1,a\n");
        want.push(b'd');
        want.extend_from_slice(&(4 + 3i32).to_be_bytes());
        want.extend_from_slice(b"2,\n");
        assert_eq!(frames, want);
    }

    #[test]
    fn text_in_round_trips_escapes_nulls_and_split_messages() {
        let rows = parse_all(
            opts("COPY t FROM STDIN"),
            &[
                b"1\ta\\tb\\\\c\\nd\t\\N\n2\t",
                b"x\\101\\x42\t\r\n",
                b"\\.\nignored\n",
            ],
        )
        .unwrap();
        assert_eq!(
            values(&rows),
            vec![
                vec![Some("1".into()), Some("a\tb\\c\nd".into()), None],
                vec![Some("2".into()), Some("xAB".into()), Some("".into())],
            ]
        );
        assert_eq!(rows[1].line, 2);
        // last line without a newline
        let rows = parse_all(opts("COPY t FROM STDIN"), &[b"1\n2"]).unwrap();
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn csv_in_handles_quotes_newlines_header_and_nulls() {
        let rows = parse_all(
            opts("COPY t FROM STDIN (FORMAT csv, HEADER)"),
            &[b"id,txt\n1,\"multi\nline, \"\"q\"\"\"\n2,", b"\n3,\"\"\n"],
        )
        .unwrap();
        assert_eq!(
            values(&rows),
            vec![
                vec![Some("1".into()), Some("multi\nline, \"q\"".into())],
                vec![Some("2".into()), None],
                vec![Some("3".into()), Some("".into())],
            ]
        );
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 4, 5]
        );
        let err = parse_all(opts("COPY t FROM STDIN (FORMAT csv)"), &[b"1,\"open\n"]).unwrap_err();
        assert!(err.message.contains("unterminated"), "{err:?}");
    }

    #[test]
    fn binary_in_parses_tuples_across_messages() {
        let mut data = BINARY_HEADER.to_vec();
        data.extend_from_slice(&2i16.to_be_bytes());
        data.extend_from_slice(&body(&[Some("ab"), None]));
        data.extend_from_slice(&(-1i16).to_be_bytes());
        let (a, b) = data.split_at(22);
        let rows = parse_all(opts("COPY t FROM STDIN (FORMAT binary)"), &[a, b]).unwrap();
        assert_eq!(values(&rows), vec![vec![Some("ab".into()), None]]);
        let bad = parse_all(
            opts("COPY t FROM STDIN (FORMAT binary)"),
            &[b"NOTCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0"],
        );
        assert!(bad.is_err());
    }
}
