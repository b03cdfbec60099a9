//! The embedded faces: BIZ UDゴシック (regular and bold) and BIZ UD明朝, SIL OFL 1.1, unmodified
//! from Debian's `fonts-morisawa-bizud-gothic` and `-mincho` 1.05 (`pdf/fonts/OFL.txt`). Only the
//! glyphs a document uses are embedded in it (krilla subsets).

use std::sync::LazyLock;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::Error;

static GOTHIC: &[u8] = include_bytes!("../fonts/BIZUDGothic-Regular.ttf");
static GOTHIC_BOLD: &[u8] = include_bytes!("../fonts/BIZUDGothic-Bold.ttf");
static MINCHO: &[u8] = include_bytes!("../fonts/BIZUDMincho-Regular.ttf");

/// A typeface of the forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Face {
    /// BIZ UDゴシック: tables, labels, most text.
    #[default]
    Gothic,
    /// BIZ UDゴシック Bold: titles and column heads.
    GothicBold,
    /// BIZ UD明朝: the body of a notice, as official letters are set.
    Mincho,
}

pub(crate) struct Loaded {
    pub(crate) font: krilla::text::Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: skrifa::metrics::GlyphMetrics<'static>,
    units_per_em: f32,
    name: &'static str,
}

fn load(data: &'static [u8], name: &'static str) -> Loaded {
    // The files are part of the binary, checked by the tests: failing here is a build error.
    #[expect(clippy::expect_used, reason = "the embedded fonts parse, or nothing prints")]
    let font_ref = FontRef::new(data).expect("an embedded font parses");
    #[expect(clippy::expect_used, reason = "the embedded fonts parse, or nothing prints")]
    let font = krilla::text::Font::new(data.into(), 0).expect("krilla reads an embedded font");
    Loaded {
        font,
        charmap: font_ref.charmap(),
        metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
        units_per_em: f32::from(font_ref.metrics(Size::unscaled(), LocationRef::default()).units_per_em),
        name,
    }
}

static FACES: LazyLock<[Loaded; 3]> = LazyLock::new(|| {
    [load(GOTHIC, "BIZ UDGothic"), load(GOTHIC_BOLD, "BIZ UDGothic Bold"), load(MINCHO, "BIZ UDMincho")]
});

pub(crate) fn get(face: Face) -> &'static Loaded {
    &FACES[face as usize]
}

/// Variation selectors (異体字 sequences): drawn with the character before, no width of their own.
fn is_selector(ch: char) -> bool {
    matches!(ch, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

impl Loaded {
    /// The first character of `text` the face has no glyph for.
    pub(crate) fn check(&self, text: &str) -> Result<(), Error> {
        match text.chars().find(|c| !c.is_control() && !is_selector(*c) && self.charmap.map(*c).is_none()) {
            Some(ch) => Err(Error::MissingGlyph { ch, code: u32::from(ch), face: self.name }),
            None => Ok(()),
        }
    }

    /// The width of `text` set at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .filter(|c| !c.is_control() && !is_selector(*c))
            .map(|c| {
                self.charmap.map(c).and_then(|g| self.metrics.advance_width(g)).unwrap_or(self.units_per_em)
            })
            .sum();
        units / self.units_per_em * size
    }
}

#[cfg(test)]
mod tests {
    use super::{Face, get};

    #[test]
    fn the_faces_measure_full_width_kanji_as_one_em_and_name_what_they_lack() {
        let g = get(Face::Gothic);
        assert!((g.width("児童相談所", 10.0) - 50.0).abs() < 0.01);
        assert!(g.width("abc", 10.0) < 30.0);
        assert!(
            get(Face::Mincho)
                .check("髙橋　𠮷野家は、令和7年4月1日")
                .is_err_and(|e| e.to_string().contains("U+20BB7"))
        );
        assert!(get(Face::Mincho).check("髙橋 はしご高の髙と葛\u{E0100}").is_ok());
    }
}
