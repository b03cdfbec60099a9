//! The report's sections rendered: an A4 PDF through the form engine, and an XLSX of the same
//! tables with the figures as numbers.

use mamoru_pdf::{Align, Block, Cell as PdfCell, Face};
use mamoru_sheet::{Book, Cell as SheetCell, Sheet};

use super::{Part, ServiceReport, Value};
use crate::wareki;

impl ServiceReport {
    /// The report as an A4 PDF form.
    #[must_use]
    pub fn form(&self) -> mamoru_pdf::Form {
        let d = self.made_at.jst_date();
        let (hour, minute) = self.made_at.jst_time();
        let mut blocks = vec![
            Block::Title(self.title()),
            Block::aligned(
                format!("作成 {}\n児童相談情報管理システム Mamoru", wareki::format(d)),
                Align::Right,
            ),
        ];
        for s in self.sections() {
            blocks.push(Block::Space(8.0));
            blocks.push(Block::Text {
                text: s.title.clone(),
                align: Align::Left,
                face: Face::Gothic,
                size: 12.0,
            });
            if !s.grade.is_empty() {
                blocks.push(Block::text(format!("非機能要求グレード: {}", s.grade)));
            }
            for part in s.parts {
                match part {
                    Part::Text(t) => blocks.push(Block::text(t)),
                    Part::Table(t) => {
                        let mut rows = vec![t.head.iter().map(|h| PdfCell::head(*h)).collect::<Vec<_>>()];
                        rows.extend(
                            t.rows.iter().map(|r| r.iter().map(|v| PdfCell::text(v.shown())).collect()),
                        );
                        blocks.push(Block::Table { widths: t.widths, rows });
                    }
                }
            }
        }
        mamoru_pdf::Form {
            title: self.title(),
            landscape: false,
            made: mamoru_pdf::When {
                year: u16::try_from(d.year()).unwrap_or(0),
                month: u8::try_from(d.month()).unwrap_or(1),
                day: u8::try_from(d.day()).unwrap_or(1),
                hour: u8::try_from(hour).unwrap_or(0),
                minute: u8::try_from(minute).unwrap_or(0),
            },
            footer: format!("Mamoru サービス提供報告書 {}", self.month.slug()),
            blocks,
        }
    }

    /// The same tables as an XLSX workbook: a tab per section, figures as numbers.
    #[must_use]
    pub fn workbook(&self) -> Book {
        let d = self.made_at.jst_date();
        let sheets = self
            .sections()
            .into_iter()
            .map(|s| {
                let mut rows = vec![vec![SheetCell::Title(s.title.clone())]];
                if !s.grade.is_empty() {
                    rows.push(vec![SheetCell::Text(format!("非機能要求グレード: {}", s.grade))]);
                }
                let mut widths: Vec<f64> = Vec::new();
                for part in s.parts {
                    match part {
                        Part::Text(t) => rows.push(vec![SheetCell::Text(t)]),
                        Part::Table(t) => {
                            rows.push(vec![]);
                            rows.push(t.head.iter().map(|h| SheetCell::Head((*h).into())).collect());
                            for r in &t.rows {
                                rows.push(
                                    r.iter()
                                        .map(|v| match v {
                                            Value::Text(s) => {
                                                SheetCell::Label { text: s.clone(), indent: 0, bold: false }
                                            }
                                            Value::Count(n) => SheetCell::Number { value: *n, bold: false },
                                            Value::Decimal(v, places) => {
                                                SheetCell::Decimal { value: *v, places: *places }
                                            }
                                        })
                                        .collect(),
                                );
                            }
                            rows.push(vec![]);
                            for (i, w) in t.widths.iter().enumerate() {
                                let w = f64::from(*w) * 12.0;
                                match widths.get_mut(i) {
                                    Some(have) => *have = have.max(w),
                                    None => widths.push(w),
                                }
                            }
                        }
                    }
                }
                let name =
                    s.title.split_once(' ').map_or(s.title.as_str(), |(_, n)| n).chars().take(31).collect();
                Sheet { name, widths, rows, ..Sheet::default() }
            })
            .collect();
        Book {
            title: self.title(),
            created: (
                u16::try_from(d.year()).unwrap_or(0),
                u8::try_from(d.month()).unwrap_or(1),
                u8::try_from(d.day()).unwrap_or(1),
            ),
            sheets,
        }
    }
}
