//! What keeping a photo costs the server (`mamoru_core::photo::normalise`: decode, limits,
//! orientation, scale, JPEG again), beside what the upload path did before it (a SHA-256 of the
//! bytes) and a plain decode, in the same run.
//!
//!     cargo bench -p mamoru-core --bench photo
//!     cargo bench -p mamoru-core --bench photo -- --samples 50

#![expect(clippy::expect_used, reason = "a benchmark stops at the first failure")]

use std::time::{Duration, Instant};

use image::{ImageFormat, RgbImage};
use sha2::{Digest, Sha256};

/// A photo-like picture (smooth gradients and some detail), as JPEG at quality 80.
fn photo(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let wave = |v: u32, k: u32| u8::try_from((v * k / 7 + (v ^ y) % 31) % 256).unwrap_or(0);
        image::Rgb([wave(x, 3), wave(y, 5), wave(x + y, 2)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&picture).expect("encodes");
    out
}

fn time(samples: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut v: Vec<Duration> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples = args
        .iter()
        .position(|a| a == "--samples")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!("| photo | bytes | SHA-256 p50 | decode p50 | normalise p50 | normalise p99 | kept bytes |");
    println!("|---|---|---|---|---|---|---|");
    for (name, w, h) in
        [("tablet (1600×1240, as the app sends)", 1600, 1240), ("camera (4032×3024)", 4032, 3024)]
    {
        let bytes = photo(w, h);
        let kept = mamoru_core::photo::normalise(&bytes).expect("a photo");
        let (sha, _) = time(samples, || {
            std::hint::black_box(Sha256::digest(&bytes));
        });
        let (decode, _) = time(samples, || {
            std::hint::black_box(
                image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).expect("decodes"),
            );
        });
        let (p50, p99) = time(samples, || {
            std::hint::black_box(mamoru_core::photo::normalise(&bytes).expect("a photo"));
        });
        println!(
            "| {name} | {} | {:.2} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            bytes.len(),
            ms(sha),
            ms(decode),
            ms(p50),
            ms(p99),
            kept.len()
        );
    }
}
