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
/// Memory a decoder may use (one 50-megapixel RGBA image is 200 MB).
const MAX_ALLOC: u64 = 256 << 20;
const QUALITY: u8 = 85;

/// The picture in `bytes` (JPEG, PNG or WebP), as the server keeps it: JPEG, upright, at most
/// `KEPT_SIDE` pixels on its longer side, with no metadata. Refuses what is not one of those
/// images whole (`Why::NotAnImage`), and images above the pixel limits before decoding them
/// (`Why::TooManyPixels`).
pub fn normalise(bytes: &[u8]) -> Result<Vec<u8>> {
    let not_an_image = || Error::invalid("photo", Why::NotAnImage);
    let format = match crate::case::image_type(bytes) {
        Some("image/jpeg") => ImageFormat::Jpeg,
        Some("image/png") => ImageFormat::Png,
        Some("image/webp") => ImageFormat::WebP,
        _ => return Err(not_an_image()),
    };
    let reader = || {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(MAX_ALLOC);
        r.limits(limits);
        r
    };
    // The header first: a 100000×100000 image is refused before anything is allocated for it.
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|_| not_an_image())?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Error::invalid("photo", Why::TooManyPixels));
    }
    let mut decoder = reader().into_decoder().map_err(|_| not_an_image())?;
    let orientation = decoder.orientation().map_err(|_| not_an_image())?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| not_an_image())?;
    picture.apply_orientation(orientation);
    if picture.width().max(picture.height()) > KEPT_SIDE {
        picture = picture.resize(KEPT_SIDE, KEPT_SIDE, image::imageops::FilterType::Triangle);
    }
    let rgb = picture.into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(|e| Error::Corrupt(format!("encoding a photo: {e}")))?;
    Ok(out)
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
