//! The engine as a reader meets it: a form's PDF read back by poppler (pdftotext, pdffonts), the
//! same form to the same bytes, many rows across pages, a character the fonts lack refused.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::process::Command;

use mamoru_pdf::{Align, Block, Cell, Error, Face, Form, Stamp, When, render};

fn form(rows: usize) -> Form {
    let mut table = vec![vec![Cell::head("日時"), Cell::head("記録")]];
    for i in 0..rows {
        table.push(vec![
            Cell::text(format!("令和7年4月{}日", i % 28 + 1)),
            Cell::text(format!(
                "家庭訪問{i}回目。本児（架空 一郎、平成30年5月1日生）の様子を確認した。「次回」は、来週。"
            )),
        ]);
    }
    Form {
        title: "一時保護決定通知書".into(),
        landscape: false,
        made: When { year: 2025, month: 6, day: 2, hour: 10, minute: 0 },
        footer: "一時保護決定通知書 様式 v1（令和7年4月1日から）".into(),
        blocks: vec![
            Block::aligned("児-R7-00001\n令和7年6月2日", Align::Right),
            Block::Title("一時保護決定通知書".into()),
            Block::Approvals(vec![
                Stamp { head: "所長".into(), name: String::new(), date: String::new() },
                Stamp { head: "課長".into(), name: "架空 花子".into(), date: "R7.6.2".into() },
            ]),
            Block::text("架空 太郎 様"),
            Block::Table { widths: vec![1.0, 4.0], rows: table },
            Block::Boxed {
                title: "教示".into(),
                text: "この処分に不服がある場合は、この処分があったことを知った日の翌日から起算して3か月以内に、審査請求をすることができます。".into(),
                face: Face::Mincho,
            },
        ],
    }
}

fn poppler(tool: &str, pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.pdf");
    std::fs::write(&path, pdf).unwrap();
    let mut cmd = Command::new(tool);
    if tool == "pdftotext" {
        cmd.args([path.to_str().unwrap(), "-"]);
    } else {
        cmd.arg(&path);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{tool} (poppler-utils): {e}"));
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_form_reads_back_with_its_kanji_and_wareki_in_embedded_subset_fonts() {
    let pdf = render(&form(3)).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = poppler("pdftotext", &pdf);
    for expected in ["一時保護決定通知書", "架空 太郎 様", "令和7年4月1日", "3か月以内", "1 / 1", "所長"]
    {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    let fonts = poppler("pdffonts", &pdf);
    // Every face used is embedded as a subset (emb and sub both yes).
    let faces: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(faces.len() >= 3, "{fonts}");
    for line in &faces {
        assert!(line.contains("BIZUD"), "{line}");
        assert!(line.contains(" yes yes "), "embedded subset: {line}");
    }
    // Smaller than the fonts: only the glyphs used are in it.
    assert!(pdf.len() < 300_000, "{} bytes", pdf.len());
}

#[test]
fn the_same_form_makes_the_same_bytes() {
    assert_eq!(render(&form(5)).unwrap(), render(&form(5)).unwrap());
    let mut later = form(5);
    later.made.minute = 1;
    assert_ne!(render(&form(5)).unwrap(), render(&later).unwrap());
}

#[test]
fn a_long_table_continues_on_numbered_pages() {
    let pdf = render(&form(120)).unwrap();
    let text = poppler("pdftotext", &pdf);
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 4, "{pages} pages");
    assert!(text.contains(&format!("1 / {pages}")) && text.contains(&format!("{pages} / {pages}")), "{text}");
    assert!(text.contains("家庭訪問119回目"));
    // The table's head row (日時・記録) stands atop every page the table continues on.
    for page in text.split('\u{c}').filter(|p| p.contains("家庭訪問")) {
        assert!(page.contains("日時") && page.contains("記録"), "{page}");
    }
}

#[test]
fn a_character_the_fonts_lack_is_named_never_a_blank_box() {
    let mut f = form(1);
    f.blocks.push(Block::text("\u{F8F0}"));
    let err = render(&f).unwrap_err();
    assert!(matches!(err, Error::MissingGlyph { code: 0xF8F0, .. }), "{err:?}");
    assert!(err.to_string().contains("U+F8F0"), "{err}");
}

#[test]
fn figures_draw_side_by_side_with_their_captions_and_marks_and_a_figure_needs_a_size() {
    use mamoru_pdf::{Figure, Shape};
    let figure = |caption: &str, mark: &str| Figure {
        caption: caption.into(),
        width: 100.0,
        height: 200.0,
        shapes: vec![
            Shape::Oval { cx: 50.0, cy: 18.0, rx: 12.0, ry: 12.0 },
            Shape::Rect { x: 32.0, y: 35.0, w: 36.0, h: 60.0 },
            Shape::Mark { cx: 40.0, cy: 50.0, label: mark.into() },
        ],
    };
    let mut f = form(1);
    f.blocks
        .push(Block::Figures { height: 160.0, figures: vec![figure("前面", "1"), figure("背面", "2")] });
    let pdf = render(&f).unwrap();
    let text = poppler("pdftotext", &pdf);
    for s in ["前面", "背面", "1", "2"] {
        assert!(text.contains(s), "{s:?} in {text}");
    }
    let mut empty = form(1);
    empty
        .blocks
        .push(Block::Figures {
            height: 160.0, figures: vec![Figure { width: 0.0, ..figure("前面", "1") }]
        });
    assert!(matches!(render(&empty), Err(Error::Layout(_))));
}
