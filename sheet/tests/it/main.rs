//! The workbook read back from its XLSX: tabs, strings, numbers, font, date and the same bytes.
#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers fail loudly, like the tests they serve")]

use std::io::Read;

use mamoru_sheet::{Book, Cell, FONT, Sheet, SheetError};

fn book() -> Book {
    let label = |t: &str, indent, bold| Cell::Label { text: t.into(), indent, bold };
    Book {
        title: "架空市児童相談所 統計".into(),
        created: (2026, 4, 10),
        sheets: vec![
            Sheet {
                name: "受付（種類・経路）".into(),
                widths: vec![26.0, 9.0, 9.0],
                rows: vec![
                    vec![Cell::Title("受付件数（相談の種類別・経路別）".into())],
                    vec![Cell::Text("期間: 令和7年4月1日〜令和8年3月31日".into())],
                    vec![],
                    vec![Cell::Head("区分".into()), Cell::Head("総数".into()), Cell::Head("警察等".into())],
                    vec![
                        label("総数", 0, true),
                        Cell::Number { value: 1234, bold: true },
                        Cell::Number { value: 56, bold: true },
                    ],
                    vec![
                        label("児童虐待相談", 1, false),
                        Cell::Number { value: 789, bold: false },
                        Cell::Empty,
                    ],
                ],
                heights: vec![(3, 28.0)],
                landscape: true,
            },
            Sheet {
                name: "確認事項".into(),
                rows: vec![vec![Cell::Text("確認事項はありません。".into())]],
                ..Sheet::default()
            },
        ],
    }
}

fn part(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}")).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn a_book_reads_back_with_its_tabs_strings_numbers_font_and_date() {
    let xlsx = book().to_xlsx().unwrap();
    assert!(xlsx.starts_with(b"PK"), "a zip");
    let workbook = part(&xlsx, "xl/workbook.xml");
    assert!(workbook.contains("受付（種類・経路）") && workbook.contains("確認事項"), "{workbook}");
    let strings = part(&xlsx, "xl/sharedStrings.xml");
    for s in ["受付件数（相談の種類別・経路別）", "令和7年4月1日", "児童虐待相談", "警察等"]
    {
        assert!(strings.contains(s), "{s} missing from {strings}");
    }
    let sheet = part(&xlsx, "xl/worksheets/sheet1.xml");
    for v in ["<v>1234</v>", "<v>56</v>", "<v>789</v>"] {
        assert!(sheet.contains(v), "{v} missing");
    }
    assert!(sheet.contains(r#"orientation="landscape""#) && sheet.contains(r#"paperSize="9""#), "A4 across");
    assert!(part(&xlsx, "xl/styles.xml").contains(FONT), "the font is named");
    assert!(part(&xlsx, "docProps/core.xml").contains("2026-04-10T"), "the caller's date");
    assert_eq!(book().to_xlsx().unwrap(), xlsx, "the same book, the same bytes");
}

#[test]
fn a_tab_name_excel_refuses_is_an_error_naming_it() {
    let mut b = book();
    b.sheets[1].name = "受付/対応".into();
    let e = b.to_xlsx().unwrap_err();
    assert!(matches!(&e, SheetError::Name(n) if n == "受付/対応"), "{e}");
}
