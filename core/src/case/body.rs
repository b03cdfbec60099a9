//! The body map: one figure, 100 wide and 200 high, front and back alike, in regions that say
//! which part of the body they are. The tablet draws the regions and names a mark as it is
//! placed; core names a recorded mark by the same regions, so a form and a court paper say the
//! same 「右上腕」.

use super::BodySide;

/// A shape of the figure, in its 100 × 200 units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Rect { x: f32, y: f32, w: f32, h: f32 },
    Circle { cx: f32, cy: f32, r: f32 },
    Ellipse { cx: f32, cy: f32, rx: f32, ry: f32 },
}

/// A part of the body the map tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Head,
    Neck,
    /// 胸部 in front, 背部 behind.
    Chest,
    /// 腹部 in front, 腰部 behind.
    Abdomen,
    UpperArm,
    Forearm,
    Hand,
    /// 大腿 (its upper part behind: 臀部).
    Thigh,
    LowerLeg,
    Foot,
}

/// One region of the figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    pub shape: Shape,
    pub part: Part,
}

const fn rect(x: f32, y: f32, w: f32, h: f32, part: Part) -> Region {
    Region { shape: Shape::Rect { x, y, w, h }, part }
}

/// The figure, drawn in this order.
pub const REGIONS: [Region; 20] = [
    Region { shape: Shape::Circle { cx: 50.0, cy: 18.0, r: 12.0 }, part: Part::Head },
    rect(45.0, 28.0, 10.0, 8.0, Part::Neck),
    rect(32.0, 35.0, 36.0, 30.0, Part::Chest),
    rect(32.0, 65.0, 36.0, 32.0, Part::Abdomen),
    rect(18.0, 37.0, 12.0, 29.0, Part::UpperArm),
    rect(70.0, 37.0, 12.0, 29.0, Part::UpperArm),
    rect(18.0, 66.0, 12.0, 29.0, Part::Forearm),
    rect(70.0, 66.0, 12.0, 29.0, Part::Forearm),
    Region { shape: Shape::Circle { cx: 24.0, cy: 100.0, r: 5.0 }, part: Part::Hand },
    Region { shape: Shape::Circle { cx: 76.0, cy: 100.0, r: 5.0 }, part: Part::Hand },
    rect(34.0, 97.0, 14.0, 18.0, Part::Thigh),
    rect(52.0, 97.0, 14.0, 18.0, Part::Thigh),
    rect(34.0, 115.0, 14.0, 22.0, Part::Thigh),
    rect(52.0, 115.0, 14.0, 22.0, Part::Thigh),
    rect(34.0, 137.0, 14.0, 40.0, Part::LowerLeg),
    rect(52.0, 137.0, 14.0, 40.0, Part::LowerLeg),
    Region { shape: Shape::Ellipse { cx: 41.0, cy: 181.0, rx: 8.0, ry: 4.0 }, part: Part::Foot },
    Region { shape: Shape::Ellipse { cx: 59.0, cy: 181.0, rx: 8.0, ry: 4.0 }, part: Part::Foot },
    // The seat behind and the groin in front: the top of the thighs, between them.
    rect(48.0, 97.0, 4.0, 18.0, Part::Thigh),
    rect(32.0, 95.0, 36.0, 2.0, Part::Abdomen),
];

/// How far outside a region a tap still counts as on it (a finger is wider than a line).
const REACH: f32 = 4.0;

impl Shape {
    /// How far the point is outside the shape (0 inside).
    fn distance(self, px: f32, py: f32) -> f32 {
        match self {
            Shape::Rect { x, y, w, h } => {
                let dx = (x - px).max(px - (x + w)).max(0.0);
                let dy = (y - py).max(py - (y + h)).max(0.0);
                dx.hypot(dy)
            }
            Shape::Circle { cx, cy, r } => ((px - cx).hypot(py - cy) - r).max(0.0),
            Shape::Ellipse { cx, cy, rx, ry } => {
                let k = ((px - cx) / rx).hypot((py - cy) / ry);
                if k <= 1.0 { 0.0 } else { (k - 1.0) * rx.min(ry) }
            }
        }
    }
}

impl Region {
    /// Its name on the figure seen from `side`: the child's right is on the viewer's left in
    /// front and on the viewer's right behind.
    #[must_use]
    pub fn name(&self, side: BodySide) -> String {
        let centre_x = match self.shape {
            Shape::Rect { x, w, .. } => x + w / 2.0,
            Shape::Circle { cx, .. } | Shape::Ellipse { cx, .. } => cx,
        };
        let top = match self.shape {
            Shape::Rect { y, .. } => y,
            Shape::Circle { cy, r, .. } => cy - r,
            Shape::Ellipse { cy, ry, .. } => cy - ry,
        };
        let front = side == BodySide::Front;
        let lr = if (centre_x - 50.0).abs() < 1.0 {
            ""
        } else if (centre_x < 50.0) == front {
            "右"
        } else {
            "左"
        };
        let part = match (self.part, front) {
            (Part::Head, true) => "頭部・顔",
            (Part::Head, false) => "後頭部",
            (Part::Neck, _) => "首",
            (Part::Chest, true) => "胸部",
            (Part::Chest, false) => "背部",
            (Part::Abdomen, true) => "腹部",
            (Part::Abdomen, false) => "腰部",
            (Part::UpperArm, _) => "上腕",
            (Part::Forearm, _) => "前腕",
            (Part::Hand, _) => "手",
            (Part::Thigh, false) if top < 115.0 => "臀部",
            (Part::Thigh, true) if lr.is_empty() => "陰部",
            (Part::Thigh, _) => "大腿",
            (Part::LowerLeg, _) => "下腿",
            (Part::Foot, _) => "足",
        };
        format!("{lr}{part}")
    }
}

/// The part a mark at (`x`, `y`), fractions of the figure's width and height, is on, seen from
/// `side` (`右上腕`, `背部`); `None` off the figure.
#[must_use]
pub fn part_at(side: BodySide, x: f32, y: f32) -> Option<String> {
    let (px, py) = (x * 100.0, y * 200.0);
    REGIONS
        .iter()
        .map(|r| (r.shape.distance(px, py), r))
        .filter(|(d, _)| *d <= REACH)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r.name(side))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_named_by_the_region_it_is_on_the_child_s_right_on_the_viewer_s_left_in_front() {
        let at = |side, x: f32, y: f32| part_at(side, x / 100.0, y / 200.0);
        assert_eq!(at(BodySide::Front, 24.0, 50.0).as_deref(), Some("右上腕"));
        assert_eq!(at(BodySide::Back, 24.0, 50.0).as_deref(), Some("左上腕"));
        assert_eq!(at(BodySide::Front, 76.0, 80.0).as_deref(), Some("左前腕"));
        assert_eq!(at(BodySide::Front, 50.0, 15.0).as_deref(), Some("頭部・顔"));
        assert_eq!(at(BodySide::Back, 50.0, 15.0).as_deref(), Some("後頭部"));
        assert_eq!(at(BodySide::Front, 50.0, 50.0).as_deref(), Some("胸部"));
        assert_eq!(at(BodySide::Back, 50.0, 80.0).as_deref(), Some("腰部"));
        assert_eq!(at(BodySide::Back, 41.0, 105.0).as_deref(), Some("左臀部"));
        assert_eq!(at(BodySide::Front, 41.0, 125.0).as_deref(), Some("右大腿"));
        assert_eq!(at(BodySide::Front, 59.0, 150.0).as_deref(), Some("左下腿"));
        assert_eq!(at(BodySide::Front, 41.0, 182.0).as_deref(), Some("右足"));
        // Just off an arm's edge (a finger's width): still the arm. Far off: nothing.
        assert_eq!(at(BodySide::Front, 16.0, 50.0).as_deref(), Some("右上腕"));
        assert_eq!(at(BodySide::Front, 5.0, 150.0), None);
    }
}
