//! The lists a form draws under its table of fields, each from its facts: what varies between
//! forms beyond their rows.

use mamoru_pdf::{Align, Block, Cell, Face};

use super::{Facts, FormKind, InjuryFacts, datetime};
use crate::wareki;

/// The lists under a form's table: the notes of a 経過記録, the household of a 児童記録票, the
/// body map of a 安全確認記録, the answers of an assessment, the 疎明資料 of a warrant request.
pub(super) fn lists(form: FormKind, facts: &Facts, day: crate::time::Date) -> Vec<Block> {
    let mut blocks = Vec::new();
    if form == FormKind::Notes {
        let mut rows =
            vec![vec![Cell::head("日時"), Cell::head("記録者"), Cell::head("種別"), Cell::head("内容")]];
        for n in &facts.notes {
            rows.push(vec![
                Cell::text(datetime(n.at)),
                Cell::text(n.author.clone()),
                Cell::text(n.kind.clone()),
                Cell::text(n.body.clone()),
            ]);
        }
        if facts.notes.is_empty() {
            rows.push(vec![Cell::text("（この期間の記録はありません）").spanning(4)]);
        }
        blocks.push(Block::Table { widths: vec![1.3, 1.0, 0.8, 4.0], rows });
    }
    if form == FormKind::ChildRecord {
        blocks.push(Block::Space(6.0));
        blocks.push(Block::text("世帯の構成"));
        let mark = |b: bool| if b { "○" } else { "" };
        let mut rows =
            vec![["氏名", "続柄", "生年月日", "保護者", "親権者", "同居"].map(Cell::head).to_vec()];
        for m in &facts.household {
            let p = &m.person;
            rows.push(vec![
                Cell::text(p.name.clone()),
                Cell::text(p.relation_label.clone()),
                Cell::text(p.birth_date.map(wareki::format).unwrap_or_default()),
                Cell::text(mark(m.guardian)),
                Cell::text(mark(m.custody)),
                Cell::text(mark(p.cohabiting)),
            ]);
        }
        if facts.household.is_empty() {
            rows.push(vec![Cell::text("（世帯は記録されていません）").spanning(6)]);
        }
        blocks.push(Block::Table { widths: vec![2.0, 1.2, 1.8, 0.8, 0.8, 0.7], rows });
        blocks.extend(genogram(&facts.household, day));
    }
    if form == FormKind::SafetyCheckRecord {
        blocks.extend(body_map(&facts.injuries));
        if !facts.check_photo_files.is_empty() {
            blocks.push(Block::Space(6.0));
            blocks.push(Block::text("写真"));
            let photos = facts
                .check_photo_files
                .iter()
                .map(|(caption, jpeg)| mamoru_pdf::Photo { jpeg: jpeg.clone(), caption: caption.clone() })
                .collect();
            blocks.push(Block::Photos { height: 190.0, photos });
        }
    }
    if form == FormKind::AssessmentSheet {
        let mut rows = vec![vec![Cell::head("番号"), Cell::head("確認項目"), Cell::head("回答")]];
        for (i, (q, a)) in facts.answers.iter().enumerate() {
            let answer = match a {
                Some(true) => "はい",
                Some(false) => "いいえ",
                None => "未回答",
            };
            rows.push(vec![Cell::text((i + 1).to_string()), Cell::text(q.clone()), Cell::text(answer)]);
        }
        blocks.push(Block::Table { widths: vec![0.5, 5.0, 0.8], rows });
    }
    if matches!(form, FormKind::WarrantRequest | FormKind::ExtensionPetition | FormKind::PlacementPetition) {
        blocks.extend(documents(form, facts));
    }
    blocks
}

/// The documents a court paper attaches: a warrant request's 疎明資料 with a box to tick by
/// hand, a petition's 添付資料 marked ■ where the centre asks the court not to disclose it.
fn documents(form: FormKind, facts: &Facts) -> Vec<Block> {
    let mut blocks = Vec::new();
    {
        blocks.push(Block::Space(6.0));
        blocks.push(Block::text(if form == FormKind::WarrantRequest {
            "疎明資料"
        } else {
            "添付資料"
        }));
        let mut rows = vec![vec![
            Cell::head("番号"),
            Cell::head("資料"),
            Cell::head("作成日"),
            Cell::head("非開示希望"),
        ]];
        for (i, e) in facts.evidence.iter().enumerate() {
            rows.push(vec![
                Cell::text((i + 1).to_string()),
                Cell::text(e.title.clone()),
                Cell::text(e.made_on.map(wareki::format).unwrap_or_default()),
                Cell::text(match e.withhold {
                    Some(true) => "■ 希望",
                    Some(false) => "",
                    None => "□",
                }),
            ]);
        }
        if facts.evidence.is_empty() {
            rows.push(vec![Cell::text("（記録はありません）").spanning(4)]);
        }
        blocks.push(Block::Table { widths: vec![0.5, 3.6, 1.4, 0.9], rows });
        let note = if form == FormKind::WarrantRequest {
            "非開示希望の欄は、記載内容を保護者等に開示しないよう求める資料に印を付けてください。"
        } else {
            "■の資料は、その記載内容を当事者等に開示しないよう求めます（家事事件手続法第47条）。"
        };
        blocks.push(Block::Text { text: note.into(), align: Align::Left, face: Face::Gothic, size: 8.5 });
    }
    blocks
}

/// The household as a genogram, laid out as the child page lays it (`crate::genogram`), with
/// ages on the paper's day; nothing when the child has no family recorded.
fn genogram(household: &[super::MemberFacts], day: crate::time::Date) -> Vec<Block> {
    use crate::genogram::{Genogram, Member, outline};
    use mamoru_pdf::{Figure, Shape};
    let members: Vec<Member> = household.iter().map(|m| m.person.clone()).collect();
    let Some(g) = Genogram::of(&members, day) else { return Vec::new() };
    #[expect(clippy::cast_precision_loss, reason = "a chart's few hundred units")]
    let f = |v: i32| v as f32;
    let line = |p: &crate::genogram::Polyline, dashed: bool| Shape::Line {
        points: p.points.iter().map(|(x, y)| (f(*x), f(*y))).collect(),
        closed: p.closed,
        dashed,
    };
    let mut shapes: Vec<Shape> = g.household.iter().map(|p| line(p, true)).collect();
    shapes.extend(g.lines.iter().flatten().map(|p| line(p, false)));
    for s in &g.symbols {
        for grow in if s.me { [0, 4].as_slice() } else { [0].as_slice() } {
            shapes.push(outline(s, *grow).map_or_else(
                || {
                    let r = f(crate::genogram::SIZE / 2 + grow);
                    Shape::Oval { cx: f(s.x), cy: f(s.y), rx: r, ry: r }
                },
                |p| line(&p, false),
            ));
        }
        shapes.push(Shape::Label { x: f(s.x), y: f(s.y + 36), size: 12.0, text: s.name.clone() });
        shapes.push(Shape::Label { x: f(s.x), y: f(s.y + 51), size: 10.0, text: s.sub.clone() });
    }
    let caption = "ジェノグラム（□男性 ○女性 ◇性別不明 二重線 本人 斜線 別居 点線の囲み 同居）";
    vec![
        Block::Space(6.0),
        Block::Figures {
            height: f(g.height) * 0.75,
            figures: vec![Figure { caption: caption.into(), width: f(g.width), height: f(g.height), shapes }],
        },
    ]
}

/// The body map as the tablet draws it (`case::body::REGIONS`), front and back, each mark
/// numbered on its side; then the marks listed by number with the part they are on.
fn body_map(injuries: &[InjuryFacts]) -> Vec<Block> {
    use crate::case::body::{REGIONS, Shape as Region};
    use mamoru_pdf::{Figure, Shape};
    let outline: Vec<Shape> = REGIONS
        .iter()
        .map(|r| match r.shape {
            Region::Rect { x, y, w, h } => Shape::Rect { x, y, w, h },
            Region::Circle { cx, cy, r } => Shape::Oval { cx, cy, rx: r, ry: r },
            Region::Ellipse { cx, cy, rx, ry } => Shape::Oval { cx, cy, rx, ry },
        })
        .collect();
    let figure = |front: bool, caption: &str| {
        let mut shapes = outline.clone();
        for (i, m) in injuries.iter().enumerate().filter(|(_, m)| m.front == front) {
            shapes.push(Shape::Mark { cx: m.x * 100.0, cy: m.y * 200.0, label: (i + 1).to_string() });
        }
        Figure { caption: caption.into(), width: 100.0, height: 200.0, shapes }
    };
    let mut blocks = vec![
        Block::Space(6.0),
        Block::text("身体の状況（ボディマップ）"),
        Block::Figures { height: 200.0, figures: vec![figure(true, "前面"), figure(false, "背面")] },
    ];
    let mut rows = vec![["番号", "面", "部位", "大きさ", "所見", "写真"].map(Cell::head).to_vec()];
    for (i, m) in injuries.iter().enumerate() {
        rows.push(vec![
            Cell::text((i + 1).to_string()),
            Cell::text(if m.front { "前面" } else { "背面" }),
            Cell::text(m.part.clone()),
            Cell::text(m.size_cm.map(|s| format!("{s}cm")).unwrap_or_default()),
            Cell::text(m.description.clone()),
            Cell::text(if m.photo { "あり" } else { "" }),
        ]);
    }
    if injuries.is_empty() {
        rows.push(vec![Cell::text("（記録された傷・あざはありません）").spanning(6)]);
    }
    blocks.push(Block::Table { widths: vec![0.5, 0.6, 1.0, 0.7, 3.2, 0.6], rows });
    blocks
}
