"""The Teams app package: manifest (checked against the vendored official schema), generated icons, zip.

Nothing here touches the network: the schema lives under `deploy/teams/schema/v<manifestVersion>/`, and a `$ref`
outside it is refused rather than fetched. The icons are drawn in code, so the package is reproducible byte for byte.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

MANIFEST_VERSION = "1.19"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "teams" / "schema"
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
ACCENT_COLOR = "#0F6CBD"
DEFAULT_NAME = "Co-sell Connectors Assistant"
DEFAULT_VERSION = "1.0.0"
BOT_SCOPES = ("personal", "team", "groupChat")
# (title, description): each title is a whole-message command the dialogs recognise (dialogs/base.py).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("prerequisites", "Guided checklist: what must be in place before installing the co-sell connectors"),
    ("configuration", "Guided checklist: connections, flows and settings of the co-sell connectors"),
    ("maintenance", "Guided checklist: keeping referrals in sync once the connectors run"),
    ("menu", "Show the troubleshooting areas"),
    ("help", "What the assistant understands"),
    ("restart", "Start over"),
    ("italiano", "Continua in italiano"),
    ("english", "Continue in English"),
    ("talk to a person", "Hand this conversation to a person, with a summary of what was tried"),
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEX_COLOR = r"#[0-9a-fA-F]{6}"


class TeamsPackageError(Exception):
    """The manifest or an icon is not acceptable to Teams; `problems` lists why (`$.path: message`)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Developer:
    """The manifest's `developer` block. The defaults are placeholders under example.com: replace them."""

    name: str = "Co-sell Assistant maintainers"
    website_url: str = "https://example.com/cosell-assistant"
    privacy_url: str = "https://example.com/cosell-assistant/privacy"
    terms_url: str = "https://example.com/cosell-assistant/terms"

    @property
    def placeholders(self) -> list[str]:
        """The URLs still pointing at example.com."""
        urls = {"websiteUrl": self.website_url, "privacyUrl": self.privacy_url, "termsOfUseUrl": self.terms_url}
        return [key for key, url in urls.items() if "//example.com" in url.casefold()]


def build_manifest(
    app_id: str,
    *,
    name: str = DEFAULT_NAME,
    full_name: str | None = None,
    developer: Developer | None = None,
    version: str = DEFAULT_VERSION,
    accent_color: str = ACCENT_COLOR,
    valid_domains: Sequence[str] = (),
    commands: Sequence[tuple[str, str]] = COMMANDS,
) -> dict[str, Any]:
    """The Teams app manifest for the bot registered as `app_id` (also used as the Teams app id). Not validated."""
    dev = developer or Developer()
    manifest: dict[str, Any] = {
        "$schema": f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json",
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": dev.name,
            "websiteUrl": dev.website_url,
            "privacyUrl": dev.privacy_url,
            "termsOfUseUrl": dev.terms_url,
        },
        "name": {"short": name, "full": full_name or name},
        "description": {
            "short": "Troubleshoots Microsoft's co-sell referrals connectors, in English or Italian",
            "full": (
                "Answers questions about the Partner Center co-sell referrals connectors for Dynamics 365 and "
                "Salesforce: paste an error message or describe the symptom, or walk through the prerequisites, "
                "configuration and maintenance checklists. When a question needs a person, say 'talk to a person' "
                "and the conversation is handed over with a summary. Speaks English and Italian."
            ),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": accent_color,
        "bots": [
            {
                "botId": app_id,
                "scopes": list(BOT_SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": list(BOT_SCOPES),
                        "commands": [{"title": t, "description": d} for t, d in commands],
                    }
                ],
            }
        ],
    }
    if valid_domains:
        manifest["validDomains"] = list(valid_domains)
    return manifest


@cache
def load_schema(manifest_version: str) -> dict[str, Any]:
    """The vendored official schema for `manifest_version`."""
    path = SCHEMA_DIR / f"v{manifest_version}" / "MicrosoftTeams.schema.json"
    if not re.fullmatch(r"\d+\.\d+", manifest_version):
        raise TeamsPackageError([f"$.manifestVersion: {manifest_version!r} is not a manifest version"])
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TeamsPackageError([f"$.manifestVersion: no vendored schema for {manifest_version!r} ({path})"]) from None
    return schema


def _no_remote(uri: str) -> Resource[Any]:
    # Nothing is fetched at run time: vendor the file under SCHEMA_DIR instead. (mypy misreads referencing's attrs
    # classes; jsonschema ignores the same call-arg error.)
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def validate_manifest(manifest: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> list[str]:
    """Schema errors as `$.path: message`, sorted; empty when valid.

    The validator class comes from the schema's `$schema` (draft-04 for the Teams schemas). The official files use
    the draft-06 `const` for `manifestVersion`, which a plain Draft4Validator silently ignores, so it is added back.
    """
    if schema is None:
        schema = load_schema(str(manifest.get("manifestVersion", MANIFEST_VERSION)))
    base = validator_for(schema)
    cls = jsonschema.validators.extend(base, {"const": jsonschema.Draft6Validator.VALIDATORS["const"]})
    registry: Registry[Any] = Registry(retrieve=_no_remote)  # type: ignore[call-arg]
    validator = cls(schema, registry=registry, format_checker=base.FORMAT_CHECKER)
    return sorted(f"{e.json_path}: {_describe(e)}" for e in validator.iter_errors(manifest))


def _describe(error: jsonschema.ValidationError) -> str:
    if len(error.message) <= 200:
        return error.message
    # jsonschema's message starts with the whole instance: for a long command list, name the rule instead
    size = f" ({len(error.instance)} items)" if isinstance(error.instance, list | dict) else ""
    return f"fails {error.validator}: {error.validator_value!r}{size}"


# --- icons --------------------------------------------------------------------------------------------------------


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


# --- package ------------------------------------------------------------------------------------------------------


def build_package(manifest: Mapping[str, Any], icons: tuple[bytes, bytes] | None = None) -> bytes:
    """The app package zip (manifest.json, colour icon, outline icon), after checking all three.

    Raises:
        TeamsPackageError: the manifest breaks the schema or an icon is unfit; nothing is built.
    """
    accent = str(manifest.get("accentColor"))
    color, outline = icons or draw_icons(accent if re.fullmatch(_HEX_COLOR, accent) else ACCENT_COLOR)
    problems = validate_manifest(manifest) + check_icon(color, outline=False) + check_icon(outline, outline=True)
    if problems:
        raise TeamsPackageError(problems)
    files = {
        "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n",
        manifest["icons"]["color"]: color,
        manifest["icons"]["outline"]: outline,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same input, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()
