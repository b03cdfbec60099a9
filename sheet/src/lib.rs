//! Mamoru's spreadsheet writer: a `Book` of `Sheet`s of styled cells, written as XLSX by
//! `rust_xlsxwriter`. Domain-blind, like `mamoru-pdf`: the caller says what each cell holds and how
//! it looks (a title, a grey head, a row label indented under its parent, a number), and sets the
//! column widths itself — Excel's autofit under-measures Japanese.
//!
//! The workbook's creation date is the caller's, so the same book gives the same bytes.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// The font every cell is set in: shipped with Windows 10 (1809) and later, and the one the
/// PDFs embed, so a printed sheet and a printed form look alike.
pub const FONT: &str = "BIZ UDゴシック";

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("writing the spreadsheet: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("the sheet name {0:?} is not allowed (at most 31 characters, none of []:*?/\\)")]
    Name(String),
}

/// A cell and its look.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    /// Large and bold, without a border: a sheet's or a table's title.
    Title(String),
    /// Plain text without a border, on one line (it runs on over empty cells): notes.
    Text(String),
    /// A column's or a corner's head: bold on grey, bordered, centred, wrapped.
    Head(String),
    /// A row's label: bordered; `indent` steps under its parent; `bold` for a total.
    Label {
        text: String,
        indent: u8,
        bold: bool,
    },
    /// A count or a sum: bordered, with thousands separators; `bold` for a total.
    Number {
        value: u64,
        bold: bool,
    },
    /// A measure with a fraction (a per cent, milliseconds): bordered, `places` decimals.
    Decimal {
        value: f64,
        places: u8,
    },
}

/// One worksheet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    /// The tab's name (at most 31 characters).
    pub name: String,
    /// Column widths in characters of the default font (a kanji is about two).
    pub widths: Vec<f64>,
    pub rows: Vec<Vec<Cell>>,
    /// Rows taller than one line (a head that wraps), in points: (row, height).
    pub heights: Vec<(u32, f64)>,
    /// Print across (landscape) rather than down.
    pub landscape: bool,
}

/// A workbook.
#[derive(Clone, Debug, PartialEq)]
pub struct Book {
    pub title: String,
    /// The creation date written in the document's properties: (year, month, day).
    pub created: (u16, u8, u8),
    pub sheets: Vec<Sheet>,
}

impl Book {
    /// The workbook as XLSX bytes.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, SheetError> {
        let mut book = Workbook::new();
        let (y, m, d) = self.created;
        book.set_properties(
            &DocProperties::new()
                .set_title(&self.title)
                .set_author("Mamoru")
                .set_creation_datetime(&ExcelDateTime::from_ymd(y, m, d)?),
        );
        let base = Format::new().set_font_name(FONT).set_font_size(10);
        let bordered = base.clone().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter);
        let title = base.clone().set_bold().set_font_size(13);
        let text = base.clone();
        let head = bordered
            .clone()
            .set_bold()
            .set_background_color(0x00E0_E0E0)
            .set_align(FormatAlign::Center)
            .set_text_wrap();
        let number = bordered.clone().set_num_format("#,##0");
        for sheet in &self.sheets {
            if sheet.name.chars().count() > 31 || sheet.name.contains(['[', ']', ':', '*', '?', '/', '\\']) {
                return Err(SheetError::Name(sheet.name.clone()));
            }
            let ws = book.add_worksheet();
            ws.set_name(&sheet.name)?;
            ws.set_paper_size(9); // A4
            if sheet.landscape {
                ws.set_landscape();
            }
            ws.set_print_fit_to_pages(1, 0);
            for (c, w) in (0u16..).zip(&sheet.widths) {
                ws.set_column_width(c, *w)?;
            }
            for (r, h) in &sheet.heights {
                ws.set_row_height(*r, *h)?;
            }
            for (r, cells) in (0u32..).zip(&sheet.rows) {
                for (c, cell) in (0u16..).zip(cells) {
                    match cell {
                        Cell::Empty => {}
                        Cell::Title(s) => drop(ws.write_string_with_format(r, c, s, &title)?),
                        Cell::Text(s) => drop(ws.write_string_with_format(r, c, s, &text)?),
                        Cell::Head(s) => drop(ws.write_string_with_format(r, c, s, &head)?),
                        Cell::Label { text, indent, bold } => {
                            let mut f = bordered.clone().set_indent(*indent);
                            if *bold {
                                f = f.set_bold();
                            }
                            ws.write_string_with_format(r, c, text, &f)?;
                        }
                        Cell::Number { value, bold } => {
                            let f = if *bold { number.clone().set_bold() } else { number.clone() };
                            // Counts of cases and days: far below 2^53, exact as f64.
                            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
                            ws.write_number_with_format(r, c, *value as f64, &f)?;
                        }
                        Cell::Decimal { value, places } => {
                            let places = usize::from((*places).min(6));
                            let pattern = if places == 0 {
                                "#,##0".to_owned()
                            } else {
                                format!("#,##0.{}", "0".repeat(places))
                            };
                            ws.write_number_with_format(
                                r,
                                c,
                                *value,
                                &bordered.clone().set_num_format(&pattern),
                            )?;
                        }
                    }
                }
            }
        }
        Ok(book.save_to_buffer()?)
    }
}
