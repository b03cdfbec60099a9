//! Photos taken through the app: only images, stamped by the server, named by the safety check
//! that carries them, readable by whoever may read the case (audited), checked by `mamoru check`
//! and carried by snapshots.

use mamoru_core::Error;
use mamoru_core::case::{IntakeKind, NewSafetyCheck, SafetyMethod};
use mamoru_core::staff::Role;
use mamoru_core::store::Store;

use crate::support::{t0, world};

/// A small real JPEG, as a camera sends it.
fn jpeg(seed: u8) -> Vec<u8> {
    mamoru_core::photo::sample(seed, 24)
}

/// What the server keeps of `bytes`.
fn kept(bytes: &[u8]) -> Vec<u8> {
    mamoru_core::photo::normalise(bytes).unwrap()
}

fn why(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Invalid { field, reason }) => format!("{field}: {reason}"),
        other => panic!("not refused as invalid: {other:?}"),
    }
}

fn check_with(shas: &[&str]) -> NewSafetyCheck {
    NewSafetyCheck {
        at: Some(t0()),
        method: Some(SafetyMethod::Sighted),
        seen_directly: true,
        place: "自宅".into(),
        child_state: "右腕にあざ".into(),
        photos: shas.iter().map(|s| (*s).to_owned()).collect(),
        ..NewSafetyCheck::default()
    }
}

#[test]
fn a_photo_is_an_image_stamped_by_the_server_and_carried_by_its_safety_check() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let other = w.staff("other", Role::Caseworker, w.u2);
    let child = w.child(&cw, "写真", "あおい", "しゃしん", "あおい", "2018-05-05");
    let case = w.case(&cw, child, IntakeKind::AbuseReport, t0()).id;
    let case = mamoru_core::ids::CaseId(case);

    // Only images, judged by their first bytes.
    let gif = b"GIF89a....".to_vec();
    assert!(matches!(w.svc.add_photo(&cw, case, &gif), Err(Error::Invalid { .. })));
    let mut huge = jpeg(1);
    huge.resize(mamoru_core::case::PHOTO_MAX_BYTES + 1, 0);
    assert!(matches!(w.svc.add_photo(&cw, case, &huge), Err(Error::Invalid { .. })));
    assert!(matches!(w.svc.add_photo(&other, case, &jpeg(1)), Err(Error::Forbidden { .. })));

    w.clock.advance(60);
    let photo = w.svc.add_photo(&cw, case, &jpeg(1)).unwrap();
    let size = kept(&jpeg(1)).len() as u64;
    assert_eq!((photo.body.mime.as_str(), photo.body.size), ("image/jpeg", size));
    assert_eq!((photo.body.by, photo.body.child, photo.body.taken_at), (cw.staff(), child, t0().plus(60)));
    let again = w.svc.add_photo(&cw, case, &jpeg(1)).unwrap();
    assert_eq!(again.id, photo.id, "a retry gives back the same photo");

    // A check names photos sent for its case; what the client says of them is replaced.
    let other_child = w.child(&cw, "別件", "", "べっけん", "", "2017-01-01");
    let other_case = mamoru_core::ids::CaseId(w.case(&cw, other_child, IntakeKind::AbuseReport, t0()).id);
    let elsewhere = w.svc.add_photo(&cw, other_case, &jpeg(2)).unwrap();
    let r = w.svc.record_safety_check(&cw, case, check_with(&[&elsewhere.body.sha256]));
    assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    let sha = photo.body.sha256.as_str();
    let saved = w.svc.record_safety_check(&cw, case, check_with(&[sha, sha])).unwrap();
    assert_eq!(saved.body.attachments.len(), 1, "named twice, kept once");
    let a = &saved.body.attachments[0];
    assert_eq!(
        (a.mime.as_str(), a.size, a.taken_at, a.caption.as_str()),
        ("image/jpeg", size, Some(t0().plus(60)), "")
    );

    // Reading it is a read of the case: allowed in scope, audited, refused outside it.
    let before = w.svc.audit_len().unwrap();
    let (got, bytes) = w.svc.photo(&cw, case, sha).unwrap();
    assert_eq!((got.id, bytes), (photo.id, kept(&jpeg(1))));
    assert_eq!(w.svc.audit_len().unwrap(), before + 1);
    assert!(matches!(w.svc.photo(&other, case, sha), Err(Error::Forbidden { .. })));
    assert!(matches!(w.svc.photo(&cw, other_case, sha), Err(Error::NotFound { .. })));

    // Integrity and backups: the file is checked and travels with a snapshot.
    assert!(w.svc.check().unwrap().problems.is_empty());
    let mut snap = Vec::new();
    w.svc.store().write_snapshot(&mut snap).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (restored, _) = Store::restore_snapshot(&dir.path().join("r"), &mut snap.as_slice()).unwrap();
    let svc = mamoru_core::Service::new(restored, w.clock.clone());
    assert_eq!(svc.photo(&cw, case, sha).unwrap().1, kept(&jpeg(1)));
}

/// `jpeg` with an EXIF block (a place and a device) after its first marker, and another file
/// after its end.
fn with_metadata_and_a_tail(jpeg: &[u8]) -> Vec<u8> {
    // A whole little-endian TIFF header with one empty directory, then the secrets as padding.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPS 36.3219N 139.0032E iPad-of-TANAKA");
    let len = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out.extend_from_slice(b"PK\x03\x04<html><script>alert(1)</script></html>");
    out
}

/// A PNG whose header says `width`×`height`, with no picture after it.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc(&ihdr).to_be_bytes());
    // A first data chunk (an empty zlib stream: far too little for the picture).
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(idat);
    out.extend_from_slice(&crc(idat).to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(b"IEND");
    out.extend_from_slice(&crc(b"IEND").to_be_bytes());
    out
}

#[test]
fn a_photo_is_kept_as_its_picture_only_within_pixel_limits() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "画素", "", "がそ", "", "2018-05-05");
    let case = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);

    // EXIF and whatever follows the picture are gone; what is kept decodes as the picture.
    let sent = with_metadata_and_a_tail(&jpeg(3));
    assert!(sent.windows(4).any(|x| x == b"Exif"));
    let photo = w.svc.add_photo(&cw, case, &sent).unwrap();
    let (_, stored) = w.svc.photo(&cw, case, &photo.body.sha256).unwrap();
    for secret in [&b"Exif"[..], b"GPS", b"TANAKA", b"PK\x03\x04", b"<script"] {
        assert!(
            !stored.windows(secret.len()).any(|x| x == secret),
            "{:?} kept",
            String::from_utf8_lossy(secret)
        );
    }
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 24);
    // A PNG screenshot is kept as a JPEG too; a large photo is scaled down to 2048 on its longer side.
    let mut png = Vec::new();
    image::RgbaImage::from_pixel(3000, 1000, image::Rgba([200, 10, 10, 255]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let big = w.svc.add_photo(&cw, case, &png).unwrap();
    assert_eq!(big.body.mime, "image/jpeg");
    let (_, stored) = w.svc.photo(&cw, case, &big.body.sha256).unwrap();
    let picture = image::load_from_memory(&stored).unwrap();
    assert_eq!((picture.width(), picture.height()), (2048, 682));
    // A camera's "rotate 90°" (EXIF orientation 6) is applied: the picture is kept upright.
    let landscape = {
        let mut out = Vec::new();
        image::RgbImage::from_pixel(40, 20, image::Rgb([10, 200, 10]))
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .unwrap();
        out
    };
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0".to_vec();
    exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    let len = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    let mut turned = landscape[..2].to_vec();
    turned.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    turned.extend_from_slice(&exif);
    turned.extend_from_slice(&landscape[2..]);
    let upright = w.svc.add_photo(&cw, case, &turned).unwrap();
    let (_, stored) = w.svc.photo(&cw, case, &upright.body.sha256).unwrap();
    let picture = image::load_from_memory(&stored).unwrap();
    assert_eq!((picture.width(), picture.height()), (20, 40));
    // A WebP whose metadata chunk claims 4 GB is refused before the decoder allocates it.
    let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
    webp.extend_from_slice(&10u32.to_le_bytes());
    webp.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    webp.extend_from_slice(b"EXIF");
    webp.extend_from_slice(&u32::MAX.to_le_bytes());
    let riff = u32::try_from(webp.len() - 8).unwrap().to_le_bytes();
    webp[4..8].copy_from_slice(&riff);
    assert_eq!(why(w.svc.add_photo(&cw, case, &webp)), "photo: not a JPEG, PNG or WebP image");
    // Who may not add to the case is refused before anything is decoded.
    let other = w.staff("other", Role::Caseworker, w.u2);
    assert!(matches!(w.svc.add_photo(&other, case, &png_header(9000, 5000)), Err(Error::Forbidden { .. })));

    // A 100000×100000 PNG is refused from its header, before anything is decoded; so is one
    // just over the pixel count, and a picture cut short.
    let started = std::time::Instant::now();
    assert_eq!(
        why(w.svc.add_photo(&cw, case, &png_header(100_000, 100_000))),
        "photo: larger than 10000 pixels a side or 50 megapixels"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "decoded before refusing");
    assert!(why(w.svc.add_photo(&cw, case, &png_header(8000, 7000))).contains("megapixels"));
    let cut = &jpeg(4)[..200];
    assert_eq!(why(w.svc.add_photo(&cw, case, cut)), "photo: not a JPEG, PNG or WebP image");
    assert_eq!(why(w.svc.add_photo(&cw, case, &png_header(20, 20))), "photo: not a JPEG, PNG or WebP image");
}

/// A distinct little picture for each `n`: its number in black and white squares, which survive
/// JPEG.
fn photo(n: usize) -> Vec<u8> {
    let n = u32::try_from(n).unwrap();
    let picture = image::RgbImage::from_fn(32, 32, |x, y| {
        let bit = (y / 8) * 4 + x / 8;
        if n >> bit & 1 == 1 { image::Rgb([255, 255, 255]) } else { image::Rgb([0, 0, 0]) }
    });
    let mut out = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[test]
fn a_case_holds_at_most_so_many_photos() {
    use mamoru_core::service::{PHOTOS_PER_CASE, PHOTOS_PER_DAY};
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "件数", "", "けんすう", "", "2018-05-05");
    let case = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    for n in 0..PHOTOS_PER_CASE {
        if n > 0 && n % PHOTOS_PER_DAY == 0 {
            w.clock.advance(86_400);
        }
        w.svc.add_photo(&cw, case, &photo(n)).unwrap();
    }
    assert_eq!(
        why(w.svc.add_photo(&cw, case, &photo(PHOTOS_PER_CASE))),
        "photo: at most 1000 photos in a case"
    );
    let other = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    w.svc.add_photo(&cw, other, &photo(PHOTOS_PER_CASE)).unwrap();
}

#[test]
fn one_person_sends_at_most_so_many_photos_a_day() {
    use mamoru_core::service::PHOTOS_PER_DAY;
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "上限", "", "じょうげん", "", "2018-05-05");
    let case = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let mut first = None;
    for n in 0..PHOTOS_PER_DAY {
        let p = w.svc.add_photo(&cw, case, &photo(n)).unwrap();
        first.get_or_insert(p.id);
    }
    assert_eq!(why(w.svc.add_photo(&cw, case, &photo(PHOTOS_PER_DAY))), "photo: at most 300 photos a day");
    // A retry of one already sent is no new photo; someone else, or the next day, may send.
    assert_eq!(w.svc.add_photo(&cw, case, &photo(0)).unwrap().id, first.unwrap());
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    w.svc.add_photo(&sv, case, &photo(PHOTOS_PER_DAY)).unwrap();
    w.clock.advance(86_400);
    w.svc.add_photo(&cw, case, &photo(PHOTOS_PER_DAY + 1)).unwrap();
}

#[test]
fn body_map_marks_must_lie_on_the_outline_with_a_plausible_size() {
    use mamoru_core::case::{BodySide, Injury};
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "図", "", "ず", "", "2018-05-05");
    let case = mamoru_core::ids::CaseId(w.case(&cw, child, IntakeKind::AbuseReport, t0()).id);
    let mark = |x: f32, size: Option<f32>| Injury {
        side: BodySide::Back,
        x,
        y: 0.5,
        size_cm: size,
        description: "あざ".into(),
        photo: None,
    };
    let with = |marks: Vec<Injury>| NewSafetyCheck { injuries: marks, ..check_with(&[]) };
    for bad in [mark(1.5, None), mark(f32::NAN, None), mark(0.5, Some(-1.0)), mark(0.5, Some(500.0))] {
        let r = w.svc.record_safety_check(&cw, case, with(vec![bad]));
        assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    }
    let saved =
        w.svc.record_safety_check(&cw, case, with(vec![mark(0.3, Some(2.5)), mark(0.7, None)])).unwrap();
    assert_eq!(saved.body.injuries.len(), 2);
}
