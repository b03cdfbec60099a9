//! The laid-out pages written as PDF/A-2u: each op drawn by krilla, the footer added, the
//! metadata dated by the form (never the clock).

use krilla::color::luma;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::TextDirection;
use krilla::{Document, SerializeSettings};

use crate::Error;
use crate::fonts::{Face, get};
use crate::layout::{A4, Form, MARGIN, Op};

fn black() -> Fill {
    Fill {
        paint: luma::Color::black().into(),
        opacity: NormalizedF32::ONE,
        rule: krilla::paint::FillRule::default(),
    }
}

/// An ellipse as four cubic Béziers (the usual 0.5523 of the radius for the handles).
fn oval(cx: f32, cy: f32, rx: f32, ry: f32) -> Option<krilla::geom::Path> {
    const K: f32 = 0.552_284_8;
    let (kx, ky) = (rx * K, ry * K);
    let mut pb = PathBuilder::new();
    pb.move_to(cx + rx, cy);
    pb.cubic_to(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry);
    pb.cubic_to(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy);
    pb.cubic_to(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry);
    pb.cubic_to(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy);
    pb.close();
    pb.finish()
}

/// The pages as PDF/A-2u.
pub(crate) fn write(form: &Form, pages: &[Vec<Op>]) -> Result<Vec<u8>, Error> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_U)
        .finish()
        .map_err(|e| Error::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings { configuration, ..SerializeSettings::default() };
    let mut doc = Document::new_with(settings);
    let (w, h) = if form.landscape { (A4.1, A4.0) } else { A4 };
    let total = pages.len();
    for (n, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(w, h).ok_or_else(|| Error::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let footer = [
            Op::Text { x: MARGIN, y: h - MARGIN, face: Face::Gothic, size: 7.5, text: form.footer.clone() },
            Op::Text {
                x: w - MARGIN - get(Face::Gothic).width(&format!("{} / {total}", n + 1), 7.5),
                y: h - MARGIN,
                face: Face::Gothic,
                size: 7.5,
                text: format!("{} / {total}", n + 1),
            },
        ];
        for op in ops.iter().chain(&footer) {
            draw(&mut surface, op)?;
        }
        surface.finish();
        page.finish();
    }
    let made = form.made;
    let metadata = Metadata::new()
        .title(form.title.clone())
        .language("ja".into())
        .creator("Mamoru".into())
        .creation_date(
            DateTime::new(made.year)
                .month(made.month)
                .day(made.day)
                .hour(made.hour)
                .minute(made.minute)
                .second(0)
                .utc_offset_hour(9)
                .utc_offset_minute(0),
        );
    doc.set_metadata(metadata);
    doc.finish().map_err(|e| Error::Pdf(format!("{e:?}")))
}

/// One op onto the page.
fn draw(surface: &mut krilla::surface::Surface<'_>, op: &Op) -> Result<(), Error> {
    match op {
        Op::Text { x, y, face, size, text } => {
            if text.is_empty() {
                return Ok(());
            }
            surface.set_fill(Some(black()));
            surface.set_stroke(None);
            surface.draw_text(
                Point::from_xy(*x, *y),
                get(*face).font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect { x, y, w, h, grey, border } => {
            let mut pb = PathBuilder::new();
            pb.push_rect(
                Rect::from_xywh(*x, *y, *w, *h).ok_or_else(|| Error::Layout("an empty box".into()))?,
            );
            let Some(path) = pb.finish() else { return Ok(()) };
            if let Some(g) = grey {
                surface.set_fill(Some(Fill { paint: luma::Color::new(*g).into(), ..black() }));
                surface.set_stroke(None);
                surface.draw_path(&path);
            }
            if *border {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke { width: 0.6, ..Stroke::default() }));
                surface.draw_path(&path);
            }
        }
        Op::Oval { cx, cy, rx, ry, filled } => {
            let Some(path) = oval(*cx, *cy, *rx, *ry) else { return Ok(()) };
            if *filled {
                surface.set_fill(Some(black()));
                surface.set_stroke(None);
            } else {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke { width: 0.6, ..Stroke::default() }));
            }
            surface.draw_path(&path);
        }
        Op::Image { x, y, w, h, image } => {
            let size =
                krilla::geom::Size::from_wh(*w, *h).ok_or_else(|| Error::Layout("an empty photo".into()))?;
            surface.push_transform(&krilla::geom::Transform::from_translate(*x, *y));
            surface.draw_image(image.clone(), size);
            surface.pop();
        }
        Op::Path { points, closed, dashed } => {
            let mut pb = PathBuilder::new();
            for (i, (px, py)) in points.iter().enumerate() {
                if i == 0 {
                    pb.move_to(*px, *py);
                } else {
                    pb.line_to(*px, *py);
                }
            }
            if *closed {
                pb.close();
            }
            let Some(path) = pb.finish() else { return Ok(()) };
            let dash = dashed.then(|| StrokeDash { array: vec![3.0, 2.0], offset: 0.0 });
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke { width: 0.6, dash, ..Stroke::default() }));
            surface.draw_path(&path);
        }
    }
    Ok(())
}
