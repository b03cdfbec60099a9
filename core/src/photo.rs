//! What the server keeps of a photo: the picture only. Every photo is decoded, checked against
//! pixel limits, turned upright, scaled down when larger than a tablet needs, and encoded again
//! as JPEG, so that nothing else survives — no EXIF (the place, the device, its owner), no other
//! file hidden behind an image's first bytes (a polyglot) — and no tablet is handed an image that
//! would exhaust its memory. Deterministic: the same upload gives the same bytes, so a retry
//! finds the photo it stored.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result, Why};

/// Longest side accepted, in pixels (a 48-megapixel camera's is 8064).
pub const MAX_SIDE: u32 = 10_000;
/// Most pixels accepted (a 48-megapixel camera's photo, with room).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Longest side kept: larger photos are scaled down to it (the tablet sends 1600).
pub const KEPT_SIDE: u32 = 2048;
/// Memory the header may take to read (a PNG's compressed colour profile is inflated there).
const HEADER_ALLOC: u64 = 32 << 20;
/// Memory a decoder may use, the decoded picture included (50 megapixels of RGB are 150 MB); a
/// 16-bit or alpha picture of as many pixels is refused as too large.
const MAX_ALLOC: u64 = 160 << 20;
const QUALITY: u8 = 85;

/// One photo decoded at a time: each may take `MAX_ALLOC`, and a burst of uploads must not add
/// them up (the CPU is two cores anyway).
static DECODING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The picture in `bytes` (JPEG, PNG or WebP), as the server keeps it: JPEG, upright, at most
/// `KEPT_SIDE` pixels on its longer side, with no metadata. Refuses what is not one of those
/// images whole (`Why::NotAnImage`), and images above the pixel or memory limits before
/// decoding them (`Why::TooManyPixels`).
pub fn normalise(bytes: &[u8]) -> Result<Vec<u8>> {
    let not_an_image = || Error::invalid("photo", Why::NotAnImage);
    let too_large = || Error::invalid("photo", Why::TooManyPixels);
    let format = match crate::case::image_type(bytes) {
        Some("image/jpeg") => ImageFormat::Jpeg,
        Some("image/png") => ImageFormat::Png,
        Some("image/webp") => {
            webp_chunks_fit(bytes).ok_or_else(not_an_image)?;
            ImageFormat::WebP
        }
        _ => return Err(not_an_image()),
    };
    let reader = |max_alloc: u64| {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(max_alloc);
        r.limits(limits);
        r
    };
    let refused = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => too_large(),
        _ => not_an_image(),
    };
    // The header first: a 100000×100000 image is refused before anything is allocated for it.
    let (width, height) = reader(HEADER_ALLOC).into_dimensions().map_err(refused)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large());
    }
    let _one_at_a_time = DECODING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut decoder = reader(MAX_ALLOC).into_decoder().map_err(refused)?;
    // `into_decoder` does not count the picture itself against the limit: done here.
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(too_large());
    }
    let orientation = decoder.orientation().map_err(refused)?;
    let picture = DynamicImage::from_decoder(decoder).map_err(refused)?;
    // To 8-bit RGB first, then scaled with integer sampling: no full-size float copy.
    let mut rgb = picture.into_rgb8();
    let longer = rgb.width().max(rgb.height());
    if longer > KEPT_SIDE {
        let scale = |v: u32| {
            u32::try_from(u64::from(v) * u64::from(KEPT_SIDE) / u64::from(longer)).unwrap_or(1).max(1)
        };
        rgb = image::imageops::thumbnail(&rgb, scale(rgb.width()), scale(rgb.height()));
    }
    let mut upright = DynamicImage::ImageRgb8(rgb);
    upright.apply_orientation(orientation);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&upright)
        .map_err(|e| Error::Corrupt(format!("encoding a photo: {e}")))?;
    Ok(out)
}

/// Whether every chunk of a WebP file lies within it. The decoder trusts a chunk's declared
/// size (an EXIF chunk claiming 4 GB is allocated whole): such a file is refused first.
fn webp_chunks_fit(bytes: &[u8]) -> Option<()> {
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let riff = usize::try_from(u32_at(4)?).ok()?;
    if riff.checked_add(8)? > bytes.len() {
        return None;
    }
    let end = riff + 8;
    let mut at = 12;
    while at < end {
        let size = usize::try_from(u32_at(at + 4)?).ok()?;
        let next = at.checked_add(8)?.checked_add(size)?.checked_add(size & 1)?;
        if at + 8 + size > end {
            return None;
        }
        at = next;
    }
    Some(())
}

/// A small picture (`side` pixels square, its colours from `seed`), as a JPEG a camera might
/// send: for tests and the demo, where every photo must be a real image.
#[must_use]
pub fn sample(seed: u8, side: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(side, side, |x, y| {
        let shade = |v: u32| u8::try_from(v % 256).unwrap_or(0);
        image::Rgb([shade(x + u32::from(seed) * 40), shade(y * 2), seed])
    });
    let mut out = Vec::new();
    let encoded = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&picture);
    debug_assert!(encoded.is_ok(), "{encoded:?}");
    out
}
