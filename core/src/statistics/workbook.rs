//! The report laid out as a workbook to file (`mamoru_sheet::Book`): what the XLSX holds, apart
//! from how the figures are counted.

use super::Statistics;
use crate::time::Date;
use crate::wareki;

/// The report as a workbook: a tab per table (its title, the period, the counts, its rule), a
/// tab of the counting rules (each table's rule and the codes each row and column holds) and a
/// tab of the warnings with their case numbers.
#[must_use]
pub fn workbook(s: &Statistics, unit_name: &str, made_on: Date) -> mamoru_sheet::Book {
    use mamoru_sheet::{Book, Cell, Sheet};
    let period = format!("期間: {}〜{}", wareki::format(s.span.from), wareki::format(s.span.to));
    let made = format!("作成: {}（Mamoru）", wareki::format(made_on));
    let text = |t: &str| vec![Cell::Text(t.to_owned())];
    let mut sheets: Vec<Sheet> = s
        .tables
        .iter()
        .map(|t| {
            let width = 9.0;
            let mut rows = vec![
                vec![Cell::Title(format!("{unit_name} {}", t.title))],
                text(&period),
                vec![],
                [
                    vec![Cell::Head("区分".into())],
                    t.columns.iter().map(|c| Cell::Head(c.label.clone())).collect(),
                ]
                .concat(),
            ];
            for (line, cells) in t.rows.iter().zip(&t.cells) {
                let bold = line.holds.is_none();
                let mut row = vec![Cell::Label { text: line.label.clone(), indent: line.depth, bold }];
                row.extend(
                    cells
                        .iter()
                        .zip(&t.columns)
                        .map(|(c, col)| Cell::Number { value: c.value, bold: bold || col.holds.is_none() }),
                );
                rows.push(row);
            }
            rows.push(vec![]);
            rows.extend(sentences(t.rule).map(|r| text(&r)));
            rows.push(text(&made));
            // A head wraps at about `width` half-width characters; a kanji takes two.
            let lines =
                t.columns.iter().map(|c| (c.label.chars().count() * 2).div_ceil(8)).max().unwrap_or(1);
            #[expect(clippy::cast_precision_loss, reason = "a few lines")]
            let heights = vec![(3, 14.0 * lines.max(1) as f64)];
            Sheet {
                name: t.sheet.into(),
                widths: [vec![26.0], vec![width; t.columns.len()]].concat(),
                rows,
                heights,
                landscape: t.columns.len() > 9,
            }
        })
        .collect();
    let mut rules = vec![vec![Cell::Title("計数規則".into())], text(&period), vec![]];
    for t in &s.tables {
        rules.push(vec![Cell::Label { text: t.title.into(), indent: 0, bold: true }]);
        rules.extend(sentences(t.rule).map(|r| text(&r)));
        rules.extend(t.rows.iter().map(|l| text(&format!("行 {}", l.definition()))));
        rules.extend(t.columns.iter().map(|l| text(&format!("列 {}", l.definition()))));
        rules.push(vec![]);
    }
    sheets.push(Sheet { name: "計数規則".into(), widths: vec![100.0], rows: rules, ..Sheet::default() });
    sheets.extend(check_sheets(s, &period));
    let (y, m, d) = (made_on.year(), made_on.month(), made_on.day());
    Book {
        title: format!("{unit_name} 統計 {}〜{}", wareki::format(s.span.from), wareki::format(s.span.to)),
        created: (
            u16::try_from(y).unwrap_or(1900),
            u8::try_from(m).unwrap_or(1),
            u8::try_from(d).unwrap_or(1),
        ),
        sheets,
    }
}

/// The warnings to check before filing, one a row with the first case numbers; and every case
/// they name, one a row (a list to filter).
fn check_sheets(s: &Statistics, period: &str) -> [mamoru_sheet::Sheet; 2] {
    use mamoru_sheet::{Cell, Sheet};
    let text = |t: &str| vec![Cell::Text(t.to_owned())];
    let mut checks = vec![
        vec![Cell::Title("確認事項（提出前に確認してください）".into())],
        text(period),
        vec![],
        ["確認事項", "件数", "ケース番号", "補足", "確認すること"].map(|h| Cell::Head(h.into())).to_vec(),
    ];
    let mut listed = vec![
        vec![Cell::Title("確認対象ケース".into())],
        text(period),
        vec![],
        ["確認事項", "ケース番号", "補足"].map(|h| Cell::Head(h.into())).to_vec(),
    ];
    let mut left_out = 0;
    for w in &s.warnings {
        let nos: Vec<&str> = w.cases.iter().filter_map(|c| s.case_nos.get(c).map(String::as_str)).collect();
        for no in &nos {
            if listed.len() >= MAX_ROWS {
                left_out += 1;
                continue;
            }
            listed.push(vec![
                Cell::Label { text: w.kind.label().into(), indent: 0, bold: false },
                Cell::Label { text: (*no).to_owned(), indent: 0, bold: false },
                Cell::Label { text: w.detail.clone(), indent: 0, bold: false },
            ]);
        }
        // A cell holds at most 32,767 characters: a long list is in the sheet after this one.
        let mut in_cell = nos.iter().take(IN_CELL).copied().collect::<Vec<_>>().join("、");
        if nos.len() > IN_CELL {
            in_cell = format!("{in_cell}ほか{}件（全件は「確認対象ケース」）", nos.len() - IN_CELL);
        }
        checks.push(vec![
            Cell::Label { text: w.kind.label().into(), indent: 0, bold: false },
            Cell::Number { value: w.cases.len() as u64, bold: false },
            Cell::Label { text: in_cell, indent: 0, bold: false },
            Cell::Label { text: w.detail.clone(), indent: 0, bold: false },
            Cell::Label { text: w.kind.advice().into(), indent: 0, bold: false },
        ]);
    }
    if s.warnings.is_empty() {
        checks.push(text("確認事項はありません。"));
    }
    let checks = Sheet {
        name: "確認事項".into(),
        widths: vec![34.0, 6.0, 40.0, 22.0, 90.0],
        rows: checks,
        ..Sheet::default()
    };
    if left_out > 0 {
        listed.push(text(&format!("ほか{left_out}件は Excel の行数の上限のため省略しました。")));
    }
    let list = Sheet {
        name: "確認対象ケース".into(),
        widths: vec![34.0, 16.0, 40.0],
        rows: listed,
        ..Sheet::default()
    };
    [checks, list]
}

/// The case numbers a warning's cell names before it points to the list (a cell holds at most
/// 32,767 characters; a case number is about ten).
const IN_CELL: usize = 100;

/// The rows a sheet may have (Excel's 1,048,576), less the list's note.
const MAX_ROWS: usize = 1_048_575;

/// A rule's sentences, one a line.
fn sentences(rule: &str) -> impl Iterator<Item = String> + '_ {
    rule.split_inclusive('。').map(str::to_owned)
}
