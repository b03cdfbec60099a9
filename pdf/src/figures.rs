//! What a form draws besides text and tables: line drawings side by side (a body map, a
//! genogram) and photographs, each scaled into the room the page gives it.

use crate::Error;
use crate::fonts::{Face, get};
use crate::layout::{BODY, Figure, Op, Pager, Photo, Shape, line_height};

/// Figures side by side from the left margin, each `height` tall, a caption centred under each.
pub(crate) fn draw_figures(p: &mut Pager, height: f32, figures: &[Figure]) -> Result<(), Error> {
    let caption = line_height(BODY);
    p.need(height + caption + 8.0);
    let gap = 28.0;
    let mut x = p.left() + 12.0;
    for f in figures {
        if f.width <= 0.0 || f.height <= 0.0 {
            return Err(Error::Layout("a figure needs a size".into()));
        }
        // As tall as asked, unless that would run past the right margin.
        let k = (height / f.height).min((p.right() - x) / f.width);
        let (y0, w) = (p.y, f.width * k);
        for s in &f.shapes {
            match s {
                Shape::Rect { x: rx, y: ry, w: rw, h: rh } => p.push(Op::Rect {
                    x: x + rx * k,
                    y: y0 + ry * k,
                    w: rw * k,
                    h: rh * k,
                    grey: None,
                    border: true,
                }),
                Shape::Oval { cx, cy, rx, ry } => {
                    p.push(Op::Oval {
                        cx: x + cx * k,
                        cy: y0 + cy * k,
                        rx: rx * k,
                        ry: ry * k,
                        filled: false,
                    });
                }
                Shape::Mark { cx, cy, label } => {
                    get(Face::GothicBold).check(label)?;
                    let (mx, my) = (x + cx * k, y0 + cy * k);
                    p.push(Op::Oval { cx: mx, cy: my, rx: 2.6, ry: 2.6, filled: true });
                    p.push(Op::Text {
                        x: mx + 3.5,
                        y: my - 2.5,
                        face: Face::GothicBold,
                        size: 8.0,
                        text: label.clone(),
                    });
                }
                Shape::Line { points, closed, dashed } => p.push(Op::Path {
                    points: points.iter().map(|(px, py)| (x + px * k, y0 + py * k)).collect(),
                    closed: *closed,
                    dashed: *dashed,
                }),
                Shape::Label { x: lx, y: ly, size, text } => {
                    let face = get(Face::Gothic);
                    face.check(text)?;
                    let size = size * k;
                    p.push(Op::Text {
                        x: x + lx * k - face.width(text, size) / 2.0,
                        y: y0 + ly * k,
                        face: Face::Gothic,
                        size,
                        text: text.clone(),
                    });
                }
            }
        }
        get(Face::Gothic).check(&f.caption)?;
        let cw = get(Face::Gothic).width(&f.caption, BODY);
        p.push(Op::Text {
            // Centred under the figure, never left of the margin (a caption wider than it).
            x: (x + (w - cw) / 2.0).max(p.left()),
            y: y0 + height + caption * 0.8,
            face: Face::Gothic,
            size: BODY,
            text: f.caption.clone(),
        });
        x += w + gap;
    }
    p.y += height + caption + 8.0;
    Ok(())
}

/// Photographs two to a row, each fitted into its half of the width and `height` points tall
/// (its proportions kept), its caption centred under it.
pub(crate) fn draw_photos(p: &mut Pager, height: f32, photos: &[Photo]) -> Result<(), Error> {
    let caption = line_height(BODY);
    let gap = 12.0;
    let cell = (p.right() - p.left() - gap) / 2.0;
    for pair in photos.chunks(2) {
        p.need(height + caption + 8.0);
        for (i, photo) in pair.iter().enumerate() {
            // Not interpolated: PDF/A forbids it.
            let image = krilla::image::Image::from_jpeg(photo.jpeg.clone().into(), false)
                .map_err(|e| Error::Layout(format!("a photo that is no JPEG: {e}")))?;
            let (pw, ph) = image.size();
            if pw == 0 || ph == 0 {
                return Err(Error::Layout("a photo without pixels".into()));
            }
            #[expect(clippy::cast_precision_loss, reason = "a photo's pixels, at most 2048")]
            let k = (cell / pw as f32).min(height / ph as f32);
            #[expect(clippy::cast_precision_loss, reason = "a photo's pixels, at most 2048")]
            let (w, h) = (pw as f32 * k, ph as f32 * k);
            #[expect(clippy::cast_precision_loss, reason = "0 or 1")]
            let x0 = p.left() + (cell + gap) * i as f32;
            p.push(Op::Image { x: x0 + (cell - w) / 2.0, y: p.y + (height - h) / 2.0, w, h, image });
            let face = get(Face::Gothic);
            face.check(&photo.caption)?;
            let cw = face.width(&photo.caption, BODY);
            p.push(Op::Text {
                x: (x0 + (cell - cw) / 2.0).max(p.left()),
                y: p.y + height + caption * 0.8,
                face: Face::Gothic,
                size: BODY,
                text: photo.caption.clone(),
            });
        }
        p.y += height + caption + 8.0;
    }
    Ok(())
}
