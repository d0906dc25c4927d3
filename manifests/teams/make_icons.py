"""Writes the Teams app icons next to this file: color.png (192x192) and outline.png (32x32).

Pure Python (zlib + struct), so the icons can be regenerated anywhere:
`python manifests/teams/make_icons.py`. The design is a white speech bubble with an "H" cut out,
on the accent colour (color.png) or transparent (outline.png, white only, as Teams requires).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCENT = (0x0F, 0x6E, 0x6E, 0xFF)
WHITE = (0xFF, 0xFF, 0xFF, 0xFF)
CLEAR = (0, 0, 0, 0)
Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """An RGBA PNG; `pixel(x, y)` gets coordinates scaled to 0..1 (pixel centres)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows.extend(pixel((x + 0.5) / width, (y + 0.5) / height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def in_bubble(x: float, y: float) -> bool:
    """A rounded speech bubble with a tail at the lower left."""
    left, top, right, bottom, r = 0.16, 0.18, 0.84, 0.70, 0.12
    cx = min(max(x, left + r), right - r)
    cy = min(max(y, top + r), bottom - r)
    body = left <= x <= right and top <= y <= bottom and (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    tail = 0.28 <= x <= 0.44 and bottom <= y <= 0.84 and (x - 0.28) <= (0.84 - y) * 1.1
    return body or tail


def in_letter(x: float, y: float) -> bool:
    """The letter H inside the bubble."""
    if not 0.30 <= y <= 0.58:
        return False
    stems = 0.33 <= x <= 0.41 or 0.59 <= x <= 0.67
    bar = 0.33 <= x <= 0.67 and 0.41 <= y <= 0.47
    return stems or bar


def color(x: float, y: float) -> Pixel:
    return ACCENT if in_letter(x, y) or not in_bubble(x, y) else WHITE


def outline(x: float, y: float) -> Pixel:
    return WHITE if in_bubble(x, y) and not in_letter(x, y) else CLEAR


def main() -> None:
    (HERE / "color.png").write_bytes(png(192, 192, color))
    (HERE / "outline.png").write_bytes(png(32, 32, outline))


if __name__ == "__main__":
    main()
