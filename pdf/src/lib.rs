//! Mamoru's PDF engine: an A4 form described as blocks (a title, lines of text, bordered tables,
//! a 決裁欄, a boxed notice) laid out top to bottom, broken into pages, and written as PDF/A-2u
//! with subsets of BIZ UDゴシック and BIZ UD明朝 embedded, so a page looks the same on every PC
//! and its text extracts.
//!
//! Domain-blind: it knows forms, not cases. What goes on a form, and what may not (the reporter
//! on anything addressed to a family), is core's. Lines break by UAX #14 (禁則: no line starts
//! with 、。」ょー nor ends with 「（), at the width the fonts measure. A character the fonts lack is
//! an error naming it ([`Error::MissingGlyph`]), never a blank box.
//!
//! The same form renders to the same bytes: nothing depends on the clock or chance (the
//! creation date is the form's own), so a notice can be produced again exactly.

mod figures;
mod fonts;
mod layout;
mod write;

pub use fonts::Face;
pub use layout::{Align, Block, Cell, Figure, Form, Photo, Shape, Stamp, When};

/// Why a form did not render.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A character no face has: printing it would leave a blank box.
    #[error("{ch} (U+{code:04X}) is not in {face}: write it another way or print it by hand")]
    MissingGlyph { ch: char, code: u32, face: &'static str },
    /// A form that cannot be laid out (a table without columns, a cell spanning past its row).
    #[error("the form cannot be laid out: {0}")]
    Layout(String),
    /// krilla refused the document (a PDF/A rule, a limit).
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// The PDF of `form`: A4, its pages numbered `n / m` in the footer beside `form.footer`.
pub fn render(form: &Form) -> Result<Vec<u8>, Error> {
    let pages = layout::lay_out(form)?;
    write::write(form, &pages)
}

/// Whether every character of `text` is in `face` (the first that is not, as an error): for a
/// check before a form is stored.
pub fn check_text(face: Face, text: &str) -> Result<(), Error> {
    fonts::get(face).check(text)
}
