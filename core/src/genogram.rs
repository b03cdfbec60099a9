//! The family as a genogram (ジェノグラム), laid out from the child's point of view with the
//! standard symbols: a square for a male, a circle for a female, a diamond where the sex is not
//! known; the child doubly outlined; a couple joined by a line below them, struck through where
//! they do not live together; the children hanging from their parents' line; the household
//! (those living together) inside a dashed outline. Generations in rows: grandparents, parents
//! and other adults, the children.
//!
//! Geometry only (units of a chart `width` × `height`, y downwards): the child page draws it as
//! SVG, the 児童記録票 into its PDF. No IO, no clock.

use std::fmt::Write as _;

use crate::person::Sex;
use crate::time::Date;

/// A column's width.
pub const CELL: i32 = 112;
/// A generation's height.
pub const ROW: i32 = 118;
const TOP: i32 = 16;
/// A symbol's side (or diameter).
pub const SIZE: i32 = 36;
const LEFT: i32 = 16;

/// A member of the household as the chart places them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The child whose chart it is.
    pub me: bool,
    /// A child on file (a sibling, the child): drawn among the children whatever the relation.
    pub child: bool,
    pub name: String,
    pub birth_date: Option<Date>,
    pub sex: Sex,
    /// Code table `relation`: the standing to the child.
    pub relation: String,
    pub relation_label: String,
    pub cohabiting: bool,
}

/// One person on the chart: the centre of the symbol, the sex it shows, and the two lines of
/// text under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub x: i32,
    pub y: i32,
    pub sex: Sex,
    pub me: bool,
    pub name: String,
    /// `本人 8歳`, `実母 35歳`.
    pub sub: String,
}

/// Points joined by straight lines, closed back to the first when `closed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Polyline {
    pub points: Vec<(i32, i32)>,
    pub closed: bool,
}

impl Polyline {
    fn open(points: Vec<(i32, i32)>) -> Self {
        Polyline { points, closed: false }
    }

    /// As SVG path data: `M16 20L40 20`, `…Z` when closed.
    #[must_use]
    pub fn svg(&self) -> String {
        let mut d = String::new();
        for (i, (x, y)) in self.points.iter().enumerate() {
            let _ = write!(d, "{}{x} {y}", if i == 0 { 'M' } else { 'L' });
        }
        if self.closed {
            d.push('Z');
        }
        d
    }

    /// Whether it is the short stroke across a couple's line (the couple live apart).
    #[must_use]
    pub fn is_stroke(&self) -> bool {
        matches!(self.points.as_slice(), [(ax, ay), (bx, by)] if bx - ax == 8 && by - ay == -14)
    }
}

/// One thing drawn in one stroke: a couple's line, a stroke, the children's line (its drop from
/// the parents, its bar, a drop to each child).
pub type Path = Vec<Polyline>;

/// The chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genogram {
    pub width: i32,
    pub height: i32,
    pub symbols: Vec<Symbol>,
    /// Couple lines, descent lines, separation strokes.
    pub lines: Vec<Path>,
    /// The household's dashed outline (one per group of rows living together).
    pub household: Vec<Polyline>,
}

/// The outline of `s`, `grow` larger: a square, a circle (as its centre and radius: `None`
/// here), or a diamond.
#[must_use]
pub fn outline(s: &Symbol, grow: i32) -> Option<Polyline> {
    let h = SIZE / 2 + grow;
    let (x, y) = (s.x, s.y);
    match s.sex {
        Sex::Male => Some(Polyline {
            points: vec![(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)],
            closed: true,
        }),
        Sex::Female => None,
        Sex::Unknown => {
            Some(Polyline { points: vec![(x, y - h), (x + h, y), (x, y + h), (x - h, y)], closed: true })
        }
    }
}

/// Where a relation puts a member: 0 grandparents, 1 parents, 2 children, 3 other adults.
fn generation(m: &Member) -> u8 {
    if m.child {
        return 2;
    }
    match m.relation.as_str() {
        "09" | "10" => 2,
        "07" | "08" => 0,
        "01" | "02" | "03" | "04" | "05" | "06" | "12" => 1,
        _ => 3,
    }
}

/// The order of a parent's line: the child's own parents first (実父, 実母), then adoptive,
/// then step-parents and partners.
fn parent_rank(relation: &str) -> u8 {
    match relation {
        "01" | "02" => 0,
        "05" | "06" => 1,
        _ => 2,
    }
}

/// The relations of the women a man of relation `man` is drawn as a couple with, given the
/// relations `present` in his row: the child's father with its mother, a stepmother, and an
/// adoptive mother unless an adoptive father is there; a stepfather or the mother's partner
/// with the mother; an adoptive father with the adoptive mother, or with the mother when there
/// is none (her husband adopted the child); a grandfather with a grandmother.
fn partners(man: &str, present: &[&str]) -> Vec<&'static str> {
    match man {
        "01" if present.contains(&"05") => vec!["02", "04"],
        "01" => vec!["02", "04", "06"],
        "05" if present.contains(&"06") => vec!["06"],
        "03" | "05" | "12" => vec!["02"],
        "07" => vec!["08"],
        _ => Vec::new(),
    }
}

/// Whether a man of this relation has one partner on the chart (an adoptive father, a
/// grandfather: two grandfathers are each drawn with a grandmother of their own).
fn one_partner(man: &str) -> bool {
    matches!(man, "05" | "07")
}

fn n(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

impl Genogram {
    /// The chart of `members` (the child among them, `me`) on `today` (ages); `None` without a
    /// family to draw.
    #[must_use]
    pub fn of(members: &[Member], today: Date) -> Option<Self> {
        if members.iter().all(|m| m.me) {
            return None;
        }
        // Rows: grandparents, parents and other adults, children.
        let mut rows: [Vec<&Member>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        let mut others = Vec::new();
        for m in members {
            match generation(m) {
                3 => others.push(m),
                g => rows[usize::from(g)].push(m),
            }
        }
        rows[0].sort_by_key(|m| (!m.cohabiting, m.sex != Sex::Male));
        // Parents: the child's own father and mother side by side in the middle, other men to
        // their left (those apart from the home outermost), other women to their right, then
        // the other adults, those at home first.
        rows[1].sort_by_key(|m| {
            let rank = parent_rank(&m.relation);
            match m.sex {
                Sex::Female => (2, rank, !m.cohabiting),
                _ => (1, u8::MAX - rank, m.cohabiting),
            }
        });
        others.sort_by_key(|m| !m.cohabiting);
        rows[1].extend(others);
        rows[2].sort_by_key(|m| (!m.cohabiting, m.birth_date));
        let used: Vec<usize> = (0..3).filter(|r| !rows[*r].is_empty()).collect();
        let widest = rows.iter().map(Vec::len).max().unwrap_or(1);
        let width = LEFT * 2 + CELL * n(widest);
        let mut g = Genogram {
            width,
            height: TOP + ROW * n(used.len()) + 8,
            symbols: Vec::new(),
            lines: Vec::new(),
            household: Vec::new(),
        };
        let mut placed: Vec<(&Member, usize, usize)> = Vec::new();
        let mut bands = Vec::new();
        for (line, &r) in used.iter().enumerate() {
            let y = TOP + ROW * n(line) + SIZE / 2 + 8;
            let offset = (width - CELL * n(rows[r].len())) / 2;
            // The runs of members living together in this row, as (left, right) centres.
            let mut living: Vec<(i32, i32)> = Vec::new();
            for (i, m) in rows[r].iter().enumerate() {
                let x = offset + CELL * n(i) + CELL / 2;
                if m.cohabiting {
                    match living.last_mut() {
                        Some(run) if run.1 == x - CELL => run.1 = x,
                        _ => living.push((x, x)),
                    }
                }
                let age = m.birth_date.map(|b| format!(" {}歳", b.age_on(today).max(0))).unwrap_or_default();
                let sub = if m.me { format!("本人{age}") } else { format!("{}{age}", m.relation_label) };
                g.symbols.push(Symbol { x, y, sex: m.sex, me: m.me, name: m.name.clone(), sub });
                placed.push((m, r, g.symbols.len() - 1));
            }
            let (top, bottom) = (TOP + ROW * n(line), TOP + ROW * n(line + 1));
            bands.push(
                living.into_iter().map(|(a, b)| (a - CELL / 2 + 6, b + CELL / 2 - 6, top, bottom)).collect(),
            );
        }
        g.couples(&placed);
        g.outline(&bands);
        Some(g)
    }

    /// The couple lines among the parents (and among the grandparents) and the children's line,
    /// hung from the child's own parents' line (or the one parent there is).
    fn couples(&mut self, placed: &[(&Member, usize, usize)]) {
        let mut hang = None;
        for r in [0, 1] {
            let of = |sex: Sex| -> Vec<(&Member, usize)> {
                placed
                    .iter()
                    .filter(|(m, row, _)| *row == r && usize::from(generation(m)) == r && m.sex == sex)
                    .map(|(m, _, s)| (*m, *s))
                    .collect()
            };
            let (men, women) = (of(Sex::Male), of(Sex::Female));
            let primary = men.iter().min_by_key(|(m, _)| parent_rank(&m.relation)).map(|(_, s)| *s);
            // Under a lone parent's name and age, not through them.
            let bottom = |s: &Symbol| (s.x, s.y + SIZE / 2 + 38);
            let Some(&(_, first)) = women.first() else {
                if r == 1 {
                    hang = primary.map(|s| bottom(&self.symbols[s]));
                }
                continue;
            };
            let present: Vec<&str> = men.iter().chain(&women).map(|(m, _)| m.relation.as_str()).collect();
            // Each man with the women his relation pairs him with (or the first woman not drawn
            // with another, when it names none of them).
            let mut couples: Vec<(&Member, usize, &Member, usize)> = Vec::new();
            for &(man, s) in &men {
                let taken = |w: usize| couples.iter().any(|c| c.3 == w);
                let codes = partners(&man.relation, &present);
                let mut hers: Vec<(&Member, usize)> =
                    women.iter().filter(|(w, _)| codes.contains(&w.relation.as_str())).copied().collect();
                if one_partner(&man.relation) {
                    hers = hers.into_iter().filter(|(_, w)| !taken(*w)).take(1).collect();
                }
                if hers.is_empty() {
                    hers = women.iter().filter(|(_, w)| !taken(*w)).take(1).copied().collect();
                }
                couples.extend(hers.into_iter().map(|(her, w)| (man, s, her, w)));
            }
            let (mut above, mut own_parents, mut any) = (0, None, None);
            for (man, s, her, w) in couples {
                let (a, b) = (&self.symbols[s], &self.symbols[w]);
                let mid = i32::midpoint(a.x, b.x);
                // Side by side: a line between them at mid height; else above the row, each
                // such line a step higher than the last.
                let (line, y) = if (a.x - b.x).abs() == CELL {
                    (vec![(a.x.min(b.x) + SIZE / 2, a.y), (a.x.max(b.x) - SIZE / 2, a.y)], a.y)
                } else {
                    let y = (a.y - SIZE / 2 - 8 - 6 * above).max(2);
                    above += 1;
                    (vec![(a.x, a.y - SIZE / 2), (a.x, y), (b.x, y), (b.x, b.y - SIZE / 2)], y)
                };
                self.lines.push(vec![Polyline::open(line)]);
                // One at the child's home and one away: the couple live apart. (Both away is
                // not known to be a separation.)
                if man.cohabiting != her.cohabiting {
                    // Struck nearer the man, clear of the children's line from the middle.
                    let at = i32::midpoint(a.x, mid);
                    self.lines.push(vec![Polyline::open(vec![(at - 4, y + 7), (at + 4, y - 7)])]);
                }
                // The children hang from the first line of the man most the child's parent
                // (the women come in that order too), else from the row's first line.
                if primary == Some(s) {
                    own_parents = own_parents.or(Some((mid, y)));
                }
                any = any.or(Some((mid, y)));
            }
            if r == 1 {
                hang = own_parents
                    .or(any)
                    .or_else(|| primary.map(|s| bottom(&self.symbols[s])))
                    .or(Some(bottom(&self.symbols[first])));
            }
        }
        let kids: Vec<&Symbol> =
            placed.iter().filter(|(_, row, _)| *row == 2).map(|(_, _, s)| &self.symbols[*s]).collect();
        if let (Some((hx, hy)), Some(first), Some(last)) = (hang, kids.first(), kids.last()) {
            let bar = first.y - SIZE / 2 - 16;
            let mut path = vec![
                Polyline::open(vec![(hx, hy), (hx, bar)]),
                Polyline::open(vec![(first.x.min(hx), bar), (last.x.max(hx), bar)]),
            ];
            for k in &kids {
                path.push(Polyline::open(vec![(k.x, bar), (k.x, k.y - SIZE / 2)]));
            }
            self.lines.push(path);
        }
    }

    /// The household's dashed outline: one around the rows' runs of members living together
    /// where each row has one run (rows next to each other joined), else one around each run.
    fn outline(&mut self, bands: &[Vec<(i32, i32, i32, i32)>]) {
        let box_of = |(l, r, top, bottom): (i32, i32, i32, i32)| Polyline {
            points: vec![(l, top), (r, top), (r, bottom), (l, bottom)],
            closed: true,
        };
        if bands.iter().any(|b| b.len() > 1) {
            self.household.extend(bands.iter().flatten().copied().map(box_of));
            return;
        }
        for run in bands.split(Vec::is_empty) {
            let run: Vec<(i32, i32, i32, i32)> = run.iter().flatten().copied().collect();
            if run.is_empty() {
                continue;
            }
            let mut points = Vec::new();
            for (l, _, top, bottom) in &run {
                points.extend([(*l, *top), (*l, *bottom)]);
            }
            for (_, r, top, bottom) in run.iter().rev() {
                points.extend([(*r, *bottom), (*r, *top)]);
            }
            self.household.push(Polyline { points, closed: true });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(me: bool, relation: &str, sex: Sex, cohabiting: bool) -> Member {
        Member {
            me,
            child: me,
            name: format!("架空 {relation}"),
            birth_date: None,
            sex,
            relation: relation.to_owned(),
            relation_label: relation.to_owned(),
            cohabiting,
        }
    }

    fn p(relation: &str, sex: Sex, home: bool) -> Member {
        member(false, relation, sex, home)
    }

    fn today() -> Date {
        Date::parse_iso("2026-12-05").unwrap_or_else(|_| unreachable!())
    }

    fn line(points: &[(i32, i32)]) -> Path {
        vec![Polyline::open(points.to_vec())]
    }

    #[test]
    fn draws_the_family_from_the_childs_side() {
        let alone = [member(true, "10", Sex::Female, true)];
        assert!(Genogram::of(&alone, today()).is_none(), "nothing to draw without a family");

        // The father lives apart, a stepfather at home: the child's own parents side by side,
        // the stepfather to their left; the parents' line struck through; the household is
        // not one run in the parents' row, so each run has its own outline.
        let family = [
            p("02", Sex::Female, true),
            p("01", Sex::Male, false),
            p("03", Sex::Male, true),
            member(true, "10", Sex::Female, true),
        ];
        let g = Genogram::of(&family, today()).unwrap_or_else(|| unreachable!());
        let order: Vec<&str> = g.symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(order, ["架空 03", "架空 01", "架空 02", "架空 10"]);
        assert!(g.symbols[3].me && g.symbols.iter().filter(|s| s.me).count() == 1);
        assert_eq!((g.symbols[1].sex, g.symbols[2].sex), (Sex::Male, Sex::Female));
        // Two couple lines (one straight, one above the row), one stroke, the children's line.
        assert_eq!(g.lines.len(), 4, "{:?}", g.lines);
        let (father, mother) = (&g.symbols[1], &g.symbols[2]);
        let father_line = line(&[(father.x + SIZE / 2, father.y), (mother.x - SIZE / 2, father.y)]);
        assert!(g.lines.contains(&father_line), "{:?}", g.lines);
        assert_eq!(g.household.len(), 3, "the stepfather, the mother, the child: {:?}", g.household);
        assert_eq!(
            father_line[0].svg(),
            format!("M{} {}L{} {}", father.x + 18, father.y, mother.x - 18, father.y)
        );

        // The father at home with a stepmother, the mother apart: the father is drawn with both,
        // his line with the mother struck through; the children hang from the parents' line.
        let family = [
            p("02", Sex::Female, false),
            p("01", Sex::Male, true),
            p("04", Sex::Female, true),
            member(true, "10", Sex::Female, true),
        ];
        let g = Genogram::of(&family, today()).unwrap_or_else(|| unreachable!());
        let order: Vec<&str> = g.symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(order, ["架空 01", "架空 02", "架空 04", "架空 10"]);
        let (father, mother, stepmother) = (&g.symbols[0], &g.symbols[1], &g.symbols[2]);
        let with_mother = line(&[(father.x + SIZE / 2, father.y), (mother.x - SIZE / 2, father.y)]);
        let top = father.y - SIZE / 2;
        let with_stepmother =
            line(&[(father.x, top), (father.x, top - 8), (stepmother.x, top - 8), (stepmother.x, top)]);
        assert!(g.lines.contains(&with_mother) && g.lines.contains(&with_stepmother), "{:?}", g.lines);
        let strokes = g.lines.iter().filter(|l| l[0].is_stroke()).count();
        assert_eq!(strokes, 1, "only the line with the mother apart is struck: {:?}", g.lines);
        let hung = g.lines.last().unwrap_or_else(|| unreachable!());
        assert_eq!(hung[0].points[0], (i32::midpoint(father.x, mother.x), father.y), "{hung:?}");
    }

    /// The couple lines of a chart: those joining two symbols (not strokes, not the children's).
    fn couple_lines(g: &Genogram) -> Vec<&Path> {
        g.lines.iter().filter(|l| l.len() == 1 && !l[0].is_stroke()).collect()
    }

    #[test]
    fn draws_each_couple_the_relations_make() {
        let child = member(true, "10", Sex::Female, true);

        // The mother's husband adopted the child: they are a couple, the child hangs from them.
        let family = [p("02", Sex::Female, true), p("05", Sex::Male, true), child.clone()];
        let g = Genogram::of(&family, today()).unwrap_or_else(|| unreachable!());
        assert_eq!(couple_lines(&g).len(), 1, "{:?}", g.lines);
        let (husband, mother) = (&g.symbols[0], &g.symbols[1]);
        let hung = g.lines.last().unwrap_or_else(|| unreachable!());
        assert_eq!(hung[0].points[0], (i32::midpoint(husband.x, mother.x), husband.y), "{hung:?}");

        // Adoptive parents, and the birth parents apart: each pair its own, no cross lines.
        let family = [
            p("02", Sex::Female, false),
            p("01", Sex::Male, false),
            p("05", Sex::Male, true),
            p("06", Sex::Female, true),
            child.clone(),
        ];
        let g = Genogram::of(&family, today()).unwrap_or_else(|| unreachable!());
        assert_eq!(couple_lines(&g).len(), 2, "{:?}", g.lines);

        // Both sides' grandparents: two couples, no grandmother drawn with two men.
        let family = [
            p("07", Sex::Male, false),
            p("08", Sex::Female, false),
            p("07", Sex::Male, false),
            p("08", Sex::Female, false),
            p("02", Sex::Female, true),
            child.clone(),
        ];
        let g = Genogram::of(&family, today()).unwrap_or_else(|| unreachable!());
        let row0 = g.symbols[0].y;
        let grand: Vec<&Path> =
            couple_lines(&g).into_iter().filter(|l| l[0].points[0].1 == row0 - SIZE / 2).collect();
        assert_eq!(grand.len(), 2, "{:?}", g.lines);
        let ends: Vec<i32> = grand.iter().map(|l| l[0].points.last().map_or(0, |p| p.0)).collect();
        assert_ne!(ends[0], ends[1], "each grandmother once: {grand:?}");

        // A stepfather and a stepmother only: drawn together, the child hanging from them.
        let family = [p("03", Sex::Male, true), p("04", Sex::Female, true), child];
        let g = Genogram::of(&family, today()).unwrap_or_else(|| unreachable!());
        assert_eq!(couple_lines(&g).len(), 1, "{:?}", g.lines);
        assert_eq!(g.lines.len(), 2, "the couple and the children's line: {:?}", g.lines);
    }
}
