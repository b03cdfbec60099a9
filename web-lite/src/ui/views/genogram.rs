//! The family as a genogram on the child page: core lays it out (`mamoru_core::genogram`), this
//! draws it as SVG. Only numbers go into the path data; names are text, escaped by the template.

use mamoru_core::genogram::{self, Member, SIZE};
use mamoru_core::ids::ChildId;
use mamoru_core::person::{MemberRef, Sex};
use mamoru_core::service::MemberView;
use mamoru_core::time::Date;

/// One person on the chart: the centre of the symbol, its kind and the two lines under it.
pub(crate) struct Symbol {
    pub x: i32,
    pub y: i32,
    /// `male`, `female` or `unknown`.
    pub kind: &'static str,
    /// The child whose page it is.
    pub me: bool,
    pub name: String,
    pub sub: String,
    /// Its outline, and (the child's) the second outline around it: path data.
    outlines: [String; 2],
}

impl Symbol {
    /// The square's, circle's or diamond's outline as path data, `grow` px larger (0 or 4).
    pub(crate) fn outline(&self, grow: i32) -> &str {
        &self.outlines[usize::from(grow > 0)]
    }
}

/// What the child page draws.
pub(crate) struct Genogram {
    pub width: i32,
    pub height: i32,
    pub symbols: Vec<Symbol>,
    /// Couple lines, descent lines, separation strokes: path data.
    pub lines: Vec<String>,
    /// The household's outline: path data.
    pub household: Vec<String>,
}

fn outline(s: &genogram::Symbol, grow: i32) -> String {
    genogram::outline(s, grow).map_or_else(
        || {
            let (h, (x, y)) = (SIZE / 2 + grow, (s.x, s.y));
            format!("M{} {y}a{h} {h} 0 1 0 {} 0a{h} {h} 0 1 0 {} 0z", x - h, 2 * h, -2 * h)
        },
        |p| p.svg(),
    )
}

impl Genogram {
    /// The chart of `members` (the child among them) as seen from `child`; `None` without a
    /// family to draw.
    pub(crate) fn of(members: &[MemberView], child: ChildId, today: Date) -> Option<Self> {
        let members: Vec<Member> = members
            .iter()
            .map(|m| Member {
                me: m.who == MemberRef::Child(child),
                child: matches!(m.who, MemberRef::Child(_)),
                name: m.name.clone(),
                birth_date: m.birth_date,
                sex: m.sex,
                relation: m.relation.0.clone(),
                relation_label: m.relation_label.clone(),
                cohabiting: m.cohabiting,
            })
            .collect();
        let g = genogram::Genogram::of(&members, today)?;
        Some(Genogram {
            width: g.width,
            height: g.height,
            symbols: g
                .symbols
                .iter()
                .map(|s| Symbol {
                    x: s.x,
                    y: s.y,
                    kind: match s.sex {
                        Sex::Male => "male",
                        Sex::Female => "female",
                        Sex::Unknown => "unknown",
                    },
                    me: s.me,
                    name: s.name.clone(),
                    sub: s.sub.clone(),
                    outlines: [outline(s, 0), outline(s, 4)],
                })
                .collect(),
            lines: g.lines.iter().map(|path| path.iter().map(genogram::Polyline::svg).collect()).collect(),
            household: g.household.iter().map(genogram::Polyline::svg).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use mamoru_core::code_table::Code;
    use mamoru_core::ids::PersonId;

    use super::*;

    fn member(who: MemberRef, relation: &str, sex: Sex, cohabiting: bool) -> MemberView {
        MemberView {
            who,
            name: format!("架空 {relation}"),
            kana: String::new(),
            birth_date: None,
            sex,
            relation: Code::new(relation),
            relation_label: relation.to_owned(),
            guardian: false,
            custody: false,
            cohabiting,
        }
    }

    /// The page's SVG: each symbol's outline, the child doubly, numbers only in the path data.
    #[test]
    fn draws_the_layout_core_makes_as_svg() {
        let me = ChildId(1);
        let today = Date::parse_iso("2026-12-05").unwrap_or_else(|_| unreachable!());
        let family = [
            member(MemberRef::Person(PersonId(2)), "02", Sex::Female, true),
            member(MemberRef::Person(PersonId(3)), "01", Sex::Male, false),
            member(MemberRef::Person(PersonId(5)), "09", Sex::Unknown, true),
            member(MemberRef::Child(me), "10", Sex::Female, true),
        ];
        let g = Genogram::of(&family, me, today).unwrap_or_else(|| unreachable!());
        let kinds: Vec<&str> = g.symbols.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, ["male", "female", "unknown", "female"]);
        let father = &g.symbols[0];
        assert_eq!(
            father.outline(0),
            format!(
                "M{} {}L{} {}L{} {}L{} {}Z",
                father.x - 18,
                father.y - 18,
                father.x + 18,
                father.y - 18,
                father.x + 18,
                father.y + 18,
                father.x - 18,
                father.y + 18
            )
        );
        assert!(g.symbols[1].outline(0).contains("a18 18 0 1 0"), "a circle");
        assert!(g.symbols[3].me && g.symbols[3].outline(4).contains("a22 22"), "the child doubly");
        assert_eq!(g.symbols[2].outline(0).matches('L').count(), 3, "a diamond");
        let all: String = g.lines.iter().chain(&g.household).map(String::as_str).collect();
        assert!(all.chars().all(|c| c.is_ascii_digit() || " MLZ-".contains(c)), "{all}");
        assert!(Genogram::of(&family[3..], me, today).is_none());
    }
}
