#!/usr/bin/env python3
"""Draws the home-screen icon (web-lite/assets/icon-180.png): the shield of web-lite/assets/icon.svg,
white on the header's navy, 180×180 as iOS asks, 4× supersampled. Pure Python (zlib only).

Usage: scripts/gen-icon.py > web-lite/assets/icon-180.png
"""
import struct
import sys
import zlib

SIZE, SS = 180, 4
NAVY, WHITE = (0x12, 0x39, 0x5F), (0xFF, 0xFF, 0xFF)

def in_shield(x, y):
    # In a 100×100 box, as the SVG: top edge y=20 from x=22 to 78, sides down to y=52, then
    # curving to the point at (50, 86).
    if y < 20 or y > 86:
        return False
    if y <= 52:
        return 22 <= x <= 78
    t = (y - 52) / 34  # 0 at the shoulders, 1 at the point
    half = 28 * (1 - t * t) ** 0.5
    return abs(x - 50) <= half

def in_mark(x, y):
    # The navy check mark inside the shield (safe): two strokes.
    def near(ax, ay, bx, by, w):
        dx, dy = bx - ax, by - ay
        t = max(0, min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        px, py = ax + t * dx, ay + t * dy
        return (x - px) ** 2 + (y - py) ** 2 <= w * w
    return near(36, 50, 47, 61, 5) or near(47, 61, 66, 38, 5)

def pixel(i, j):
    acc = [0, 0, 0]
    for a in range(SS):
        for b in range(SS):
            x = (i + (a + .5) / SS) * 100 / SIZE
            y = (j + (b + .5) / SS) * 100 / SIZE
            c = WHITE if in_shield(x, y) and not in_mark(x, y) else NAVY
            for k in range(3):
                acc[k] += c[k]
    return bytes(v // (SS * SS) for v in acc)

rows = b"".join(b"\x00" + b"".join(pixel(i, j) for i in range(SIZE)) for j in range(SIZE))

def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
sys.stdout.buffer.write(png)
