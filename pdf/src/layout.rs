//! Blocks to pages: each block takes the width between the margins and as much height as its
//! lines need; a table row or a paragraph that does not fit continues on the next page (a row's
//! borders close at the page end and open again). Points throughout, the origin at the top left.

use unicode_linebreak::linebreaks;

use crate::Error;
use crate::fonts::{Face, get};

pub(crate) const A4: (f32, f32) = (595.28, 841.89);
pub(crate) const MARGIN: f32 = 42.5;
const FOOTER: f32 = 30.0;
pub(crate) const BODY: f32 = 10.5;
const PAD: f32 = 4.0;

/// Where a line of text sits between the margins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Centre,
    Right,
}

/// One cell of a table row.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Cell {
    pub text: String,
    /// A column or row head: bold on grey.
    pub head: bool,
    /// How many columns it takes (at least one).
    pub span: usize,
}

impl Cell {
    #[must_use]
    pub fn head(text: impl Into<String>) -> Self {
        Self { text: text.into(), head: true, span: 1 }
    }

    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), head: false, span: 1 }
    }

    #[must_use]
    pub fn spanning(mut self, span: usize) -> Self {
        self.span = span.max(1);
        self
    }
}

/// One column of a 決裁欄: its head (所長, 課長…), and once decided who and when.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stamp {
    pub head: String,
    pub name: String,
    pub date: String,
}

/// A part of a form, laid out below the one before.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// The form's name, large and centred.
    Title(String),
    /// Text between the margins, wrapped; `\n` starts a new line.
    Text { text: String, align: Align, face: Face, size: f32 },
    /// A bordered table; `widths` are relative (they are scaled to the page).
    Table { widths: Vec<f32>, rows: Vec<Vec<Cell>> },
    /// The 決裁欄: a box per column, at the right.
    Approvals(Vec<Stamp>),
    /// A boxed notice with a head line (教示).
    Boxed { title: String, text: String, face: Face },
    /// Empty space, in points.
    Space(f32),
    /// Line drawings side by side (a body map's front and back), each scaled to `height` points
    /// tall, its caption under it.
    Figures { height: f32, figures: Vec<Figure> },
    /// Photographs two to a row, each fitted into half the width and `height` points, its
    /// caption under it.
    Photos { height: f32, photos: Vec<Photo> },
}

/// A photograph: JPEG, embedded as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Photo {
    pub jpeg: Vec<u8>,
    pub caption: String,
}

/// A line drawing in its own units (`width` × `height`, y down).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Figure {
    pub caption: String,
    pub width: f32,
    pub height: f32,
    pub shapes: Vec<Shape>,
}

/// What a figure is drawn of: outlines, and numbered marks on them.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    Oval {
        cx: f32,
        cy: f32,
        rx: f32,
        ry: f32,
    },
    /// A filled dot with its label beside it.
    Mark {
        cx: f32,
        cy: f32,
        label: String,
    },
    /// Points joined by straight lines (back to the first when `closed`), solid or dashed.
    Line {
        points: Vec<(f32, f32)>,
        closed: bool,
        dashed: bool,
    },
    /// Text centred on `x`, its baseline at `y`, `size` in the figure's units (scaled with it).
    Label {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
}

impl Block {
    /// Body text at the left.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Block::Text { text: text.into(), align: Align::Left, face: Face::Gothic, size: BODY }
    }

    /// Body text aligned as asked.
    #[must_use]
    pub fn aligned(text: impl Into<String>, align: Align) -> Self {
        Block::Text { text: text.into(), align, face: Face::Gothic, size: BODY }
    }
}

/// The time a form was made (JST), written into its metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct When {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
}

/// A whole form.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Form {
    /// The document's title (its metadata; what a PDF reader shows).
    pub title: String,
    pub landscape: bool,
    pub made: When,
    /// At the foot of every page, left (the template and its version); `n / m` goes right.
    pub footer: String,
    pub blocks: Vec<Block>,
}

/// What a page holds, in the order it is drawn.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        grey: Option<u8>,
        border: bool,
    },
    /// An ellipse: outlined, or filled black (a mark).
    Oval {
        cx: f32,
        cy: f32,
        rx: f32,
        ry: f32,
        filled: bool,
    },
    /// A picture scaled into the box.
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        image: krilla::image::Image,
    },
    /// A polyline (a polygon when `closed`), solid or dashed.
    Path {
        points: Vec<(f32, f32)>,
        closed: bool,
        dashed: bool,
    },
}

pub(crate) struct Pager {
    width: f32,
    height: f32,
    pages: Vec<Vec<Op>>,
    pub(crate) y: f32,
}

impl Pager {
    #[expect(clippy::unused_self, reason = "read beside right() and bottom()")]
    pub(crate) fn left(&self) -> f32 {
        MARGIN
    }

    pub(crate) fn right(&self) -> f32 {
        self.width - MARGIN
    }

    fn bottom(&self) -> f32 {
        self.height - MARGIN - FOOTER
    }

    fn room(&self) -> f32 {
        self.bottom() - self.y
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn at_top(&self) -> bool {
        (self.y - MARGIN).abs() < f32::EPSILON
    }

    pub(crate) fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// Room for `h` points: a new page when this one has not.
    pub(crate) fn need(&mut self, h: f32) {
        if self.room() < h && !self.at_top() {
            self.new_page();
        }
    }

    fn line(&mut self, x: f32, face: Face, size: f32, text: &str) {
        self.push(Op::Text { x, y: self.y + size * 1.1, face, size, text: text.to_owned() });
    }
}

pub(crate) fn line_height(size: f32) -> f32 {
    size * 1.5
}

/// `text` broken into lines no wider than `width` at `size`: at UAX #14's opportunities (禁則),
/// and inside a word only when the word alone is wider.
pub(crate) fn wrap(face: Face, size: f32, width: f32, text: &str) -> Result<Vec<String>, Error> {
    let font = get(face);
    font.check(text)?;
    let fits = |s: &str| font.width(s.trim_end(), size) <= width;
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let para = para.trim_end_matches('\r');
        if para.is_empty() {
            lines.push(String::new());
            continue;
        }
        let (mut start, mut prev) = (0, 0);
        for (pos, _) in linebreaks(para) {
            if fits(&para[start..pos]) {
                prev = pos;
                continue;
            }
            if prev > start {
                lines.push(para[start..prev].trim_end().to_owned());
                start = prev;
            }
            while !fits(&para[start..pos]) {
                // A word wider than the line: cut it where it fills the line (one character at least).
                let mut end = start;
                for (i, c) in para[start..pos].char_indices() {
                    let next = start + i + c.len_utf8();
                    if end > start && !fits(&para[start..next]) {
                        break;
                    }
                    end = next;
                }
                lines.push(para[start..end].to_owned());
                start = end;
            }
            prev = pos;
        }
        if start < para.len() {
            lines.push(para[start..].trim_end().to_owned());
        }
    }
    Ok(lines)
}

pub(crate) fn lay_out(form: &Form) -> Result<Vec<Vec<Op>>, Error> {
    let (w, h) = if form.landscape { (A4.1, A4.0) } else { A4 };
    let mut p = Pager { width: w, height: h, pages: Vec::new(), y: MARGIN };
    p.new_page();
    get(Face::Gothic).check(&form.footer)?;
    for block in &form.blocks {
        match block {
            Block::Title(text) => {
                let size = 16.0;
                let lines = wrap(Face::GothicBold, size, p.right() - p.left(), text)?;
                for l in &lines {
                    p.need(line_height(size));
                    let x = (p.width - get(Face::GothicBold).width(l, size)) / 2.0;
                    p.line(x, Face::GothicBold, size, l);
                    p.y += line_height(size);
                }
                p.y += 6.0;
            }
            Block::Text { text, align, face, size } => {
                let lines = wrap(*face, *size, p.right() - p.left(), text)?;
                for l in &lines {
                    p.need(line_height(*size));
                    let lw = get(*face).width(l, *size);
                    let x = match align {
                        Align::Left => p.left(),
                        Align::Centre => (p.width - lw) / 2.0,
                        Align::Right => p.right() - lw,
                    };
                    p.line(x, *face, *size, l);
                    p.y += line_height(*size);
                }
            }
            Block::Table { widths, rows } => {
                let (x, w) = (p.left(), p.right() - p.left());
                table(&mut p, widths, rows, x, w)?;
            }
            Block::Boxed { title, text, face } => {
                let rows = vec![vec![Cell::head(title.clone())], vec![Cell::text(text.clone())]];
                let (x, w) = (p.left(), p.right() - p.left());
                table_with(&mut p, &[1.0], &rows, x, w, *face)?;
            }
            Block::Approvals(stamps) => approvals(&mut p, stamps)?,
            Block::Figures { height, figures } => crate::figures::draw_figures(&mut p, *height, figures)?,
            Block::Photos { height, photos } => crate::figures::draw_photos(&mut p, *height, photos)?,
            Block::Space(h) => {
                p.y += h;
                if p.room() < 0.0 {
                    p.new_page();
                }
            }
        }
    }
    Ok(p.pages)
}

fn table(p: &mut Pager, widths: &[f32], rows: &[Vec<Cell>], x0: f32, total: f32) -> Result<(), Error> {
    table_with(p, widths, rows, x0, total, Face::Gothic)
}

/// A table: rows one under another, each as tall as its tallest cell; a row too tall for what is
/// left of the page continues on the next.
fn table_with(
    p: &mut Pager,
    widths: &[f32],
    rows: &[Vec<Cell>],
    x0: f32,
    total: f32,
    face: Face,
) -> Result<(), Error> {
    let sum: f32 = widths.iter().sum();
    if widths.is_empty() || sum <= 0.0 {
        return Err(Error::Layout("a table needs columns".into()));
    }
    let mut xs = vec![x0];
    for w in widths {
        xs.push(xs[xs.len() - 1] + w / sum * total);
    }
    let lh = line_height(BODY);
    let mut laid: Vec<Vec<LaidCell>> = Vec::new();
    for row in rows {
        let mut cells = Vec::new();
        let mut col = 0;
        for cell in row {
            let span = cell.span.max(1);
            if col + span > widths.len() {
                return Err(Error::Layout(format!("a row spans {} columns of {}", col + span, widths.len())));
            }
            let (x, w) = (xs[col], xs[col + span] - xs[col]);
            let f = if cell.head { Face::GothicBold } else { face };
            let lines = wrap(f, BODY, w - 2.0 * PAD, &cell.text)?;
            cells.push(LaidCell { x, w, face: f, head: cell.head, lines });
            col += span;
        }
        laid.push(cells);
    }
    // The table's head: its leading rows of head cells only, drawn again atop each page it
    // continues on.
    let heads = laid.iter().take_while(|r| !r.is_empty() && r.iter().all(|c| c.head)).count();
    let lines_of = |cells: &[LaidCell]| cells.iter().map(|c| c.lines.len()).max().unwrap_or(0).max(1);
    for (i, cells) in laid.iter().enumerate() {
        let count = lines_of(cells);
        let mut from = 0;
        while from < count {
            let page = p.pages.len();
            p.need(lh + 2.0 * PAD);
            if p.pages.len() != page && i >= heads {
                for head in &laid[..heads] {
                    draw_row(p, head, 0, lines_of(head));
                }
            }
            // Whole lines only: as many as the page has room for (one at least).
            let room = ((p.room() - 2.0 * PAD) / lh).floor();
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a page's lines")]
            let fit = if room >= 1.0 { room as usize } else { 1 };
            let to = count.min(from + fit);
            draw_row(p, cells, from, to);
            from = to;
            if from < count {
                p.new_page();
                if i >= heads {
                    for head in &laid[..heads] {
                        draw_row(p, head, 0, lines_of(head));
                    }
                }
            }
        }
    }
    p.y += 6.0;
    Ok(())
}

/// A cell laid out: where, in which face, its lines.
struct LaidCell {
    x: f32,
    w: f32,
    face: Face,
    head: bool,
    lines: Vec<String>,
}

/// Lines `from..to` of a row's cells, boxed, at the pager's position; the pager moves below.
fn draw_row(p: &mut Pager, cells: &[LaidCell], from: usize, to: usize) {
    let lh = line_height(BODY);
    #[expect(clippy::cast_precision_loss, reason = "a page's lines")]
    let h = (to - from) as f32 * lh + 2.0 * PAD;
    for c in cells {
        p.push(Op::Rect { x: c.x, y: p.y, w: c.w, h, grey: c.head.then_some(232), border: true });
        for (i, l) in c.lines.iter().enumerate().skip(from).take(to - from) {
            #[expect(clippy::cast_precision_loss, reason = "a page's lines")]
            let y = p.y + PAD + (i - from) as f32 * lh + (lh - BODY) / 2.0;
            p.push(Op::Text { x: c.x + PAD, y: y + BODY * 0.95, face: c.face, size: BODY, text: l.clone() });
        }
    }
    p.y += h;
}

/// The 決裁欄: a column per stamp at the right, the head above, the name and date in the box.
fn approvals(p: &mut Pager, stamps: &[Stamp]) -> Result<(), Error> {
    let (cw, head, body) = (62.0, 16.0, 46.0);
    p.need(head + body);
    #[expect(clippy::cast_precision_loss, reason = "a few columns")]
    let x0 = p.right() - cw * stamps.len() as f32;
    for (i, s) in stamps.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "a few columns")]
        let x = x0 + cw * i as f32;
        for text in [&s.head, &s.name, &s.date] {
            get(Face::Gothic).check(text)?;
        }
        p.push(Op::Rect { x, y: p.y, w: cw, h: head, grey: Some(232), border: true });
        p.push(Op::Rect { x, y: p.y + head, w: cw, h: body, grey: None, border: true });
        let centre = |text: &str, size: f32| x + (cw - get(Face::Gothic).width(text, size)) / 2.0;
        for (text, size, y) in
            [(&s.head, 8.5, 11.5), (&s.name, 8.0, head + 18.0), (&s.date, 7.0, head + 34.0)]
        {
            p.push(Op::Text {
                x: centre(text, size),
                y: p.y + y,
                face: Face::Gothic,
                size,
                text: text.clone(),
            });
        }
    }
    p.y += head + body + 8.0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wrap;
    use crate::Face;

    #[test]
    fn lines_break_by_kinsoku_and_fit_the_width() {
        // 10 full-width characters to a line of 100 points at 10 points.
        let lines = wrap(
            Face::Gothic,
            10.0,
            100.0,
            "児童の安全を確認した。「次回」は、令和7年4月1日に家庭訪問する。",
        )
        .unwrap();
        for l in &lines {
            assert!(!l.starts_with(['、', '。', '」']), "{lines:?}");
            assert!(!l.ends_with('「'), "{lines:?}");
            assert!(crate::fonts::get(Face::Gothic).width(l, 10.0) <= 100.0, "{lines:?}");
        }
        assert_eq!(lines.concat(), "児童の安全を確認した。「次回」は、令和7年4月1日に家庭訪問する。");
        // A word wider than the line is cut; a blank line stays.
        let lines = wrap(Face::Gothic, 10.0, 30.0, "ABCDEFGHIJ\n\nx").unwrap();
        assert!(lines.len() >= 4 && lines.contains(&String::new()), "{lines:?}");
        assert_eq!(lines.concat(), "ABCDEFGHIJx");
    }
}
