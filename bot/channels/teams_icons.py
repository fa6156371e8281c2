"""The Teams app icons: drawn in code (two interlinked rings, "co-sell"), written and read as PNG, and checked the
way Teams wants them (192×192 truecolour; 32×32 white on transparent). Nothing binary is committed."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
ACCENT_COLOR = "#0F6CBD"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_png(width: int, height: int, rgba: bytes) -> bytes:
    """An 8-bit RGBA, non-interlaced PNG of `rgba` (row-major, 4 bytes a pixel)."""
    if len(rgba) != width * height * 4:
        raise ValueError("rgba must hold width * height * 4 bytes")
    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))  # filter 0 on each row
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


@dataclass(frozen=True)
class PngInfo:
    """A PNG's header, plus its RGBA pixels when it is 8-bit RGBA and not interlaced (else None)."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool
    rgba: bytes | None


def read_png(data: bytes) -> PngInfo:
    """Parse a PNG (checking signature and chunk CRCs); raises ValueError when it is not one."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    pos, header, idat = len(_PNG_SIGNATURE), b"", bytearray()
    while pos + 8 <= len(data):
        (length,), tag = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body, (crc,) = data[pos + 8 : pos + 8 + length], struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(tag + body) != crc:
            raise ValueError(f"bad CRC in {tag.decode('latin-1')} chunk")
        header = body if tag == b"IHDR" else header
        idat += body if tag == b"IDAT" else b""
        pos += 12 + length
    if len(header) != 13:
        raise ValueError("PNG has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    rgba = _unfilter(zlib.decompress(bytes(idat)), width, height) if (depth, colour, interlace) == (8, 6, 0) else None
    return PngInfo(width, height, depth, colour, bool(interlace), rgba)


def _unfilter(raw: bytes, width: int, height: int, bpp: int = 4) -> bytes:
    stride, out, prev = width * bpp, bytearray(), bytearray(width * bpp)
    if len(raw) != height * (stride + 1) or any(raw[y * (stride + 1)] > 4 for y in range(height)):
        raise ValueError("PNG image data is corrupt")
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a, b, c = (row[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            else:
                pred = (0, a, b, (a + b) // 2)[kind]
            row[i] = (row[i] + pred) & 0xFF
        out += row
        prev = row
    return bytes(out)


def check_icon(data: bytes, *, outline: bool) -> list[str]:
    """What makes `data` unfit as the colour (192×192, truecolour) or outline (32×32, white on transparent) icon."""
    name, size = (OUTLINE_ICON, OUTLINE_SIZE) if outline else (COLOR_ICON, COLOR_SIZE)
    try:
        png = read_png(data)
    except (ValueError, zlib.error, struct.error) as exc:
        return [f"{name}: {exc}"]
    found = f"{png.width}x{png.height}"
    problems = [] if found == f"{size}x{size}" else [f"{name}: {found}, not {size}x{size}"]
    if not outline:
        return problems + ([] if png.colour_type in (2, 6) else [f"{name}: not a truecolour PNG"])
    if png.rgba is None:
        return [*problems, f"{name}: must be an 8-bit RGBA, non-interlaced PNG"]
    pixels = [png.rgba[i : i + 4] for i in range(0, len(png.rgba), 4)]
    if any(px[3] and px[:3] != b"\xff\xff\xff" for px in pixels):
        problems.append(f"{name}: has pixels that are neither white nor fully transparent")
    if all(px[3] for px in pixels):
        problems.append(f"{name}: has no transparent background")
    return problems


def _rings(size: int, box: float) -> list[float]:
    """Coverage (0..1) of two interlinked rings ("co-sell") centred in a `box`-pixel square, antialiased."""
    centre, radius, half_stroke = size / 2, 0.27 * box, 0.05 * box
    cover = []
    for y in range(size):
        for x in range(size):
            px, py = x + 0.5 - centre, y + 0.5 - centre
            dist = min(abs(((px - dx) ** 2 + py**2) ** 0.5 - radius) for dx in (-0.18 * box, 0.18 * box))
            cover.append(min(1.0, max(0.0, 0.5 - (dist - half_stroke))))
    return cover


def draw_icons(accent_color: str = ACCENT_COLOR) -> tuple[bytes, bytes]:
    """The colour icon (white rings on `accent_color`) and the outline icon (white rings on transparent)."""
    bg = bytes.fromhex(accent_color.removeprefix("#"))
    color = b"".join(bytes(round(c + (255 - c) * a) for c in bg) + b"\xff" for a in _rings(COLOR_SIZE, 96))
    outline = b"".join(b"\xff\xff\xff" + bytes([round(255 * a)]) for a in _rings(OUTLINE_SIZE, 28))
    return encode_png(COLOR_SIZE, COLOR_SIZE, color), encode_png(OUTLINE_SIZE, OUTLINE_SIZE, outline)
