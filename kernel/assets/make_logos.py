#!/usr/bin/env python3
"""Draws the kernelspec logos (logo-32x32.png, logo-64x64.png): a blue rounded
tile with three rising bars, the lab's cost-of-data motif. Standard library only."""
import struct
import zlib
from pathlib import Path

BLUE = (31, 78, 121, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def pixel(x: float, y: float) -> tuple:
    """Colour at (x, y) in unit coordinates."""
    r = 0.18  # corner radius
    cx = min(max(x, r), 1 - r)
    cy = min(max(y, r), 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return CLEAR
    for left, top in ((0.20, 0.58), (0.42, 0.40), (0.64, 0.20)):
        if left <= x <= left + 0.16 and top <= y <= 0.80:
            return WHITE
    return BLUE


def png(size: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel((i + 0.5) / size, (j + 0.5) / size)) for i in range(size))
        for j in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    here = Path(__file__).parent
    for size in (32, 64):
        (here / f"logo-{size}x{size}.png").write_bytes(png(size))
