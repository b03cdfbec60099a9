//! Reading one file of the layout: its encoding (UTF-8 with or without BOM, or CP932 — `Shift_JIS`
//! with the NEC and IBM extensions), its CSV rows (CRLF or LF; quoted fields may hold commas and
//! line breaks) and each field cleaned the same way: 外字 mapped or refused, half-width katakana
//! folded to full width, bytes the encoding cannot read refused. Streamed: a row at a time.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use encoding_rs::{Decoder, SHIFT_JIS, UTF_8};
use unicode_normalization::UnicodeNormalization;

use super::Kind;
use super::rows::Columns;

/// A source file's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Windows-31J: `Shift_JIS` with the NEC and IBM extensions (`encoding_rs`'s `Shift_JIS`).
    Cp932,
}

impl Encoding {
    /// `utf-8` or `cp932` (also `shift_jis`, `sjis`, `windows-31j`); `auto` is `None`.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(None),
            "utf-8" | "utf8" => Ok(Some(Encoding::Utf8)),
            "cp932" | "shift_jis" | "sjis" | "windows-31j" | "ms932" => Ok(Some(Encoding::Cp932)),
            other => Err(format!("unknown encoding {other:?}: use auto, utf-8 or cp932")),
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Cp932 => "CP932",
        }
    }

    /// The encoding of a file that begins with `sample`: UTF-8 when it has the BOM or reads as
    /// UTF-8 (a sequence cut at the sample's end allowed), else CP932.
    #[must_use]
    pub fn detect(sample: &[u8]) -> Self {
        if sample.starts_with(b"\xEF\xBB\xBF") {
            return Encoding::Utf8;
        }
        match std::str::from_utf8(sample) {
            Ok(_) => Encoding::Utf8,
            Err(e) if e.error_len().is_none() => Encoding::Utf8,
            Err(_) => Encoding::Cp932,
        }
    }

    fn decoder(self) -> Decoder {
        match self {
            Encoding::Utf8 => UTF_8.new_decoder_with_bom_removal(),
            Encoding::Cp932 => SHIFT_JIS.new_decoder_without_bom_handling(),
        }
    }
}

/// The first bytes read to tell the encoding.
const SAMPLE: usize = 64 * 1024;

/// `inner` decoded to UTF-8 as it is read, its line ends (CRLF, CR) made LF. Bytes the encoding cannot read become U+FFFD, which
/// `Gaiji::clean` refuses in the field that holds it.
struct Decoded<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    output: Vec<u8>,
    out_start: usize,
    done: bool,
    /// A CR at the end of the last piece, which may begin a CRLF.
    cr: bool,
}

impl<R: Read> Decoded<R> {
    fn new(inner: R, encoding: Encoding) -> Self {
        Self {
            inner,
            decoder: encoding.decoder(),
            input: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            output: Vec::with_capacity(64 * 1024),
            out_start: 0,
            done: false,
            cr: false,
        }
    }

    /// Decodes the next piece into `output`; false at the end.
    fn fill(&mut self) -> std::io::Result<bool> {
        self.output.clear();
        self.out_start = 0;
        while self.output.is_empty() {
            if self.done {
                return Ok(false);
            }
            if self.start == self.end {
                self.start = 0;
                self.end = self.inner.read(&mut self.input)?;
            }
            let last = self.end == 0;
            let mut text = String::with_capacity(
                1 + self.decoder.max_utf8_buffer_length(self.end - self.start).unwrap_or(64 * 1024),
            );
            if std::mem::take(&mut self.cr) {
                text.push('\r');
            }
            let (_, read, _) =
                self.decoder.decode_to_string(&self.input[self.start..self.end], &mut text, last);
            self.start += read;
            if !last && text.ends_with('\r') {
                text.pop();
                self.cr = true;
            }
            // Line ends as LF: the CSV reader counts lines right, and a line break inside a
            // field is stored as the tablet stores one.
            if text.contains('\r') {
                text = text.replace("\r\n", "\n").replace('\r', "\n");
            }
            self.output.extend_from_slice(text.as_bytes());
            self.done = last;
        }
        Ok(true)
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_start == self.output.len() && !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.output.len() - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// 外字: characters of the source's user-defined area (CP932 F040–F9FC, decoded to the
/// private-use area U+E000–U+E757 without any error) and what each stands for, from the
/// `--gaiji` file. A private-use character without a mapping is refused wherever it is.
#[derive(Clone, Debug, Default)]
pub struct Gaiji {
    map: HashMap<char, String>,
}

/// The private-use character CP932's user-defined code `code` (F040–F9FC) decodes to.
#[must_use]
pub fn cp932_gaiji_char(code: u16) -> Option<char> {
    let [lead, trail] = code.to_be_bytes();
    if !(0xF0..=0xF9).contains(&lead) || !(0x40..=0xFC).contains(&trail) || trail == 0x7F {
        return None;
    }
    let index = u32::from(lead - 0xF0) * 188 + u32::from(trail - 0x40) - u32::from(trail > 0x7F);
    char::from_u32(0xE000 + index)
}

/// The CP932 code of a private-use character of the user-defined area, for messages.
#[must_use]
pub fn gaiji_code(c: char) -> Option<u16> {
    let index = u32::from(c).checked_sub(0xE000).filter(|i| *i < 1880)?;
    let lead = 0xF0 + index / 188;
    let mut trail = 0x40 + index % 188;
    if trail >= 0x7F {
        trail += 1;
    }
    u16::try_from(lead << 8 | trail).ok()
}

fn is_private_use(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
        || ('\u{F0000}'..='\u{FFFFD}').contains(&c)
        || ('\u{100000}'..='\u{10FFFD}').contains(&c)
}

/// Names a private-use character as the source has it: `F040 (U+E000)`.
#[must_use]
pub fn describe_gaiji(c: char) -> String {
    match gaiji_code(c) {
        Some(code) => format!("{code:04X} (U+{:04X})", u32::from(c)),
        None => format!("U+{:04X}", u32::from(c)),
    }
}

impl Gaiji {
    /// Reads a mapping file: one line each, `SOURCE,TARGET`, where SOURCE is a CP932 code
    /// (`F040`) or a code point (`U+E000`) and TARGET the character(s) it stands for, written as
    /// themselves or as code points (`U+20BB7`). Blank lines and lines starting with `#` are
    /// skipped; a header line `source,target` too.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (n, line) in text.trim_start_matches('\u{FEFF}').lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (n == 0 && line.starts_with("source")) {
                continue;
            }
            let (source, target) = line
                .split_once([',', '\t'])
                .ok_or_else(|| format!("line {}: expected SOURCE,TARGET", n + 1))?;
            let source = source.trim();
            let from = if let Some(hex) = source.strip_prefix("U+").or_else(|| source.strip_prefix("u+")) {
                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).filter(|c| is_private_use(*c))
            } else {
                u16::from_str_radix(source, 16).ok().and_then(cp932_gaiji_char)
            }
            .ok_or_else(|| {
                format!(
                    "line {}: {source:?} is no user-defined character (F040–F9FC or U+E000–U+F8FF)",
                    n + 1
                )
            })?;
            let to = code_points(target.trim()).map_err(|e| format!("line {}: {e}", n + 1))?;
            if to.is_empty() || to.chars().any(|c| is_private_use(c) || c.is_control()) {
                return Err(format!(
                    "line {}: the target must be characters outside the private-use area",
                    n + 1
                ));
            }
            map.insert(from, to);
        }
        Ok(Self { map })
    }

    /// How many characters are mapped.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A field as it is to be stored: 外字 mapped, half-width katakana folded to full width
    /// (ｶﾞｯｺｳ → ガッコウ, nothing else touched). Refused: a private-use character without a
    /// mapping, and bytes the file's encoding could not read (U+FFFD).
    pub fn clean(&self, field: &str, encoding: Encoding) -> Result<String, String> {
        if field.is_ascii() {
            return Ok(field.to_owned());
        }
        let mut out = String::with_capacity(field.len());
        let mut halfwidth = String::new();
        for c in field.chars() {
            if ('\u{FF61}'..='\u{FF9F}').contains(&c) {
                halfwidth.push(c);
                continue;
            }
            if !halfwidth.is_empty() {
                out.extend(halfwidth.nfkc());
                halfwidth.clear();
            }
            if c == '\u{FFFD}' {
                return Err(format!("bytes that are not {}", encoding.name()));
            }
            if is_private_use(c) {
                match self.map.get(&c) {
                    Some(to) => out.push_str(to),
                    None => {
                        return Err(format!("外字 {} is not mapped (give it in --gaiji)", describe_gaiji(c)));
                    }
                }
            } else {
                out.push(c);
            }
        }
        out.extend(halfwidth.nfkc());
        Ok(out)
    }
}

/// Whether a spreadsheet would take `field` for a formula: it starts, after any apostrophes,
/// with `=`, `+`, `-` or `@` (a field already escaped is escaped again, so that it reads back).
#[must_use]
pub fn looks_like_formula(field: &str) -> bool {
    field.trim_start_matches('\'').starts_with(['=', '+', '-', '@'])
}

/// A field as written before the apostrophe `csv_field` put before what a spreadsheet would
/// take for a formula (`'=1` is `=1`, `''=1` is `'=1`).
#[must_use]
pub fn unescape(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => field,
    }
}

/// `U+20BB7 U+E0100` or the characters themselves.
fn code_points(s: &str) -> Result<String, String> {
    if !(s.starts_with("U+") || s.starts_with("u+")) {
        return Ok(s.to_owned());
    }
    s.split_whitespace()
        .map(|p| {
            p.get(2..)
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32)
                .ok_or_else(|| format!("{p:?} is no code point"))
        })
        .collect()
}

/// One file being read: its encoding, its header (which columns are where) and its rows.
pub struct Table<R: Read> {
    pub kind: Kind,
    pub encoding: Encoding,
    /// The header row as the file has it.
    pub header: Vec<String>,
    columns: Columns,
    rows: csv::StringRecordsIntoIter<Decoded<std::io::Chain<Cursor<Vec<u8>>, R>>>,
}

/// One row, each field cleaned or refused, and the line it starts on.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    pub fields: Vec<Result<String, String>>,
    /// The fields as the file has them (a refused row is written back as it was).
    pub raw: Vec<String>,
}

/// A file that cannot be read at all: a missing column, an unreadable header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub column: String,
    pub reason: String,
}

impl<R: Read> Table<R> {
    /// Opens `source` as a file of `kind`: the encoding given or told from its first 64 KiB, the
    /// header read and every required column found (header names trimmed, any case).
    pub fn open(kind: Kind, source: R, encoding: Option<Encoding>) -> Result<Self, FileError> {
        Self::open_columns(kind, kind.required(), source, encoding)
    }

    /// `open` with the columns given (`codes.csv`, which is no file of records).
    pub fn open_columns(
        kind: Kind,
        required: &[&str],
        mut source: R,
        encoding: Option<Encoding>,
    ) -> Result<Self, FileError> {
        let mut sample = Vec::with_capacity(SAMPLE);
        (&mut source)
            .take(SAMPLE as u64)
            .read_to_end(&mut sample)
            .map_err(|e| FileError { column: "-".into(), reason: format!("cannot be read: {e}") })?;
        let encoding = encoding.unwrap_or_else(|| Encoding::detect(&sample));
        let decoded = Decoded::new(Cursor::new(sample).chain(source), encoding);
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(decoded);
        let header = reader
            .headers()
            .map_err(|e| FileError { column: "-".into(), reason: format!("no header row: {e}") })?;
        let names: Vec<String> = header.iter().map(str::to_owned).collect();
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().trim_start_matches('\u{FEFF}').to_ascii_lowercase(), i))
            .collect();
        if let Some(missing) = required.iter().find(|c| !columns.contains_key(**c)) {
            return Err(FileError {
                column: (*missing).to_owned(),
                reason: "column missing from the header".into(),
            });
        }
        Ok(Self { kind, encoding, header: names, columns: Columns(columns), rows: reader.into_records() })
    }

    /// The file's columns, by name.
    #[must_use]
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The next row, its fields cleaned by `gaiji`; `None` at the end. A row the CSV reader
    /// cannot read (a quote left open to the end of the file) is an error with its line.
    pub fn next_row(&mut self, gaiji: &Gaiji) -> Option<Result<Row, (u64, String)>> {
        let record = self.rows.next()?;
        Some(match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                let fields = record.iter().map(|f| gaiji.clean(unescape(f), self.encoding)).collect();
                Ok(Row { line, fields, raw: record.iter().map(str::to_owned).collect() })
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                Err((line, format!("unreadable CSV: {e}")))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(kind: Kind, bytes: &[u8], gaiji: &Gaiji) -> (Encoding, Vec<Row>) {
        let mut t = Table::open(kind, bytes, None).unwrap();
        let mut out = Vec::new();
        while let Some(r) = t.next_row(gaiji) {
            out.push(r.unwrap());
        }
        (t.encoding, out)
    }

    #[test]
    fn cp932_with_extensions_quoted_line_breaks_and_halfwidth_kana_read_as_typed() {
        let text =
            "case_id,at,author,body\r\n1,R7.4.1,山田,\"一行目,\r\n二行目 ｶﾞｯｺｳ ①\"\r\n2,H31.4.30,髙橋,～\r\n";
        let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let (encoding, rows) = rows(Kind::Notes, &bytes, &Gaiji::default());
        assert_eq!(encoding, Encoding::Cp932);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].fields[3].as_deref(), Ok("一行目,\n二行目 ガッコウ ①"));
        assert_eq!(rows[1].line, 4, "the second row starts after the quoted line break");
        assert_eq!(rows[1].fields[2].as_deref(), Ok("髙橋"));
    }

    #[test]
    fn utf8_with_bom_and_lf_is_told_from_cp932() {
        let text = "\u{FEFF}case_id,at,author,body\n1,2025-04-01 14:30,ｱｲ,本文\n";
        let (encoding, rows) = rows(Kind::Notes, text.as_bytes(), &Gaiji::default());
        assert_eq!(encoding, Encoding::Utf8);
        assert_eq!(rows[0].fields[2].as_deref(), Ok("アイ"));
        assert_eq!(rows[0].fields[0].as_deref(), Ok("1"), "the BOM is not part of the first column");
    }

    #[test]
    fn user_defined_characters_decode_without_error_and_are_refused_unless_mapped() {
        // F040 and F9FC: the first and last of CP932's user-defined area.
        let bytes = b"case_id,at,author,body\r\n1,R7.4.1,\xF0\x40\x96\xEC,x\xF9\xFC\r\n";
        let (_, rows1) = rows(Kind::Notes, bytes, &Gaiji::default());
        let refused = rows1[0].fields[2].clone().unwrap_err();
        assert!(refused.contains("F040 (U+E000)"), "{refused}");
        assert!(rows1[0].fields[3].clone().unwrap_err().contains("F9FC"));
        let gaiji = Gaiji::parse("source,target\nF040,𠮷\nU+E757,U+9AD9\n").unwrap();
        assert_eq!(gaiji.len(), 2);
        let (_, rows2) = rows(Kind::Notes, bytes, &gaiji);
        assert_eq!(rows2[0].fields[2].as_deref(), Ok("𠮷野"));
        assert_eq!(rows2[0].fields[3].as_deref(), Ok("x髙"));
    }

    #[test]
    fn the_user_defined_area_maps_as_encoding_rs_decodes_it() {
        for code in [0xF040_u16, 0xF07E, 0xF080, 0xF0FC, 0xF540, 0xF9FC] {
            let bytes = code.to_be_bytes();
            let (text, _, errors) = SHIFT_JIS.decode(&bytes);
            assert!(!errors, "{code:04X} decodes without error");
            let c = text.chars().next().unwrap();
            assert_eq!(cp932_gaiji_char(code), Some(c), "{code:04X}");
            assert_eq!(gaiji_code(c), Some(code));
        }
        assert_eq!(cp932_gaiji_char(0xF07F), None);
        assert!(Gaiji::parse("F040,U+E001").is_err(), "a target in the private-use area");
        assert!(Gaiji::parse("8140,亜").is_err(), "not a user-defined code");
    }

    #[test]
    fn bytes_the_encoding_cannot_read_are_refused_in_their_field() {
        let bytes = b"case_id,at,author,body\n1,R7.4.1,ok,\xFF\xFE\n";
        let mut t = Table::open(Kind::Notes, &bytes[..], Some(Encoding::Utf8)).unwrap();
        let row = t.next_row(&Gaiji::default()).unwrap().unwrap();
        assert_eq!(row.fields[3], Err("bytes that are not UTF-8".into()));
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = Table::open(Kind::Notes, &b"case_id,at,body\n"[..], None).err().unwrap();
        assert_eq!(err.column, "author");
    }

    #[test]
    fn a_long_file_decodes_across_buffer_boundaries() {
        use std::fmt::Write as _;
        let mut text = String::from("case_id,at,author,body\r\n");
        for i in 0..5000 {
            writeln!(text, "{i},R7.4.1,職員{i},経過の記録 ﾃｽﾄ {i}\r").unwrap();
        }
        let (bytes, _, _) = SHIFT_JIS.encode(&text);
        let (_, rows) = rows(Kind::Notes, &bytes, &Gaiji::default());
        assert_eq!(rows.len(), 5000);
        assert_eq!(rows[4999].fields[3].as_deref(), Ok("経過の記録 テスト 4999"));
        assert_eq!(rows[4999].fields[2].as_deref(), Ok("職員4999"));
    }

    mod round_trip {
        use proptest::prelude::*;

        use super::super::{Encoding, Gaiji, Kind, Table};
        use crate::interchange::write_csv_line;

        fn field() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    Just('a'),
                    Just(','),
                    Just('"'),
                    Just('\n'),
                    Just(' '),
                    Just('='),
                    Just('-'),
                    Just('\''),
                    Just('ア'),
                    Just('漢'),
                    Just('髙'),
                    Just('①'),
                    Just('～'),
                ],
                0..12,
            )
            .prop_map(|c| c.into_iter().collect())
        }

        proptest! {
            /// What the layout's writer writes, the reader reads back as it was, in UTF-8 and CP932.
            #[test]
            fn written_rows_read_back_the_same(
                rows in proptest::collection::vec(proptest::collection::vec(field(), 4), 1..20),
                cp932 in any::<bool>(),
            ) {
                let mut bytes = Vec::new();
                write_csv_line(&mut bytes, &["case_id", "at", "author", "body"]).unwrap();
                for r in &rows {
                    write_csv_line(&mut bytes, r).unwrap();
                }
                let (bytes, encoding) = if cp932 {
                    let text = String::from_utf8(bytes).unwrap();
                    let (b, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
                    prop_assert!(!unmappable);
                    (b.into_owned(), Encoding::Cp932)
                } else {
                    (bytes, Encoding::Utf8)
                };
                let mut table = Table::open(Kind::Notes, bytes.as_slice(), None).unwrap();
                prop_assert_eq!(table.encoding, if rows.iter().flatten().all(|f| f.is_ascii()) { Encoding::Utf8 } else { encoding });
                let mut read = Vec::new();
                while let Some(row) = table.next_row(&Gaiji::default()) {
                    let row = row.unwrap();
                    read.push(row.fields.into_iter().map(Result::unwrap).collect::<Vec<_>>());
                }
                prop_assert_eq!(read, rows);
            }
        }
    }
}
