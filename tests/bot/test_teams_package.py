"""Teams app package: manifest and Italian localisation file valid against the vendored official schemas, icons fit,
broken input refused (the CLI: tests/bot/commands/test_package.py; Microsoft's own validator on the package:
tests/bot/test_teams_validator.py)."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from referencing.exceptions import Unresolvable

from bot.channels import teams_icons as ti
from bot.channels import teams_package as tp
from dialogs import base as dialog_words

APP_ID = "2f1b7a0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "deploy/teams/schema/v1.30"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _unzip(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("file", [tp.MANIFEST_SCHEMA, tp.LANGUAGE_SCHEMA])
def test_vendored_schemas_are_self_contained(file: str) -> None:
    schema = json.loads((SCHEMA_DIR / file).read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert all(ref.startswith("#/") for ref in _refs(schema))  # nothing to fetch: no other file is referenced
    assert tp.load_schema(tp.MANIFEST_VERSION, file) == schema
    assert sorted(p.name for p in SCHEMA_DIR.parent.iterdir() if p.is_dir()) == [f"v{tp.MANIFEST_VERSION}"]
    if file == tp.MANIFEST_SCHEMA:
        assert schema["properties"]["manifestVersion"]["const"] == tp.MANIFEST_VERSION


def test_manifest_is_valid_and_names_the_bot() -> None:
    manifest = tp.build_manifest(APP_ID)
    assert tp.validate_manifest(manifest) == []
    assert manifest["manifestVersion"] == "1.30" and manifest["id"] == APP_ID
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en-us",
        "additionalLanguages": [{"languageTag": "it-it", "file": "it-it.json"}],
    }
    bot = manifest["bots"][0]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert set(manifest["developer"]) == {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}
    assert tp.Developer().placeholders == ["websiteUrl", "privacyUrl", "termsOfUseUrl"]
    assert "validDomains" not in manifest
    assert tp.build_manifest(APP_ID, valid_domains=["bot.example.org"])["validDomains"] == ["bot.example.org"]


def test_every_command_is_a_word_the_dialogs_understand_in_both_languages() -> None:
    # Teams sends a picked command's title as the message text (the Italian one to an Italian client), so each
    # title must route somewhere
    known = dialog_words.HELP | dialog_words.MENU | dialog_words.CANCEL | dialog_words.AGENT | dialog_words.TO_ENGLISH
    known |= dialog_words.TO_ITALIAN | frozenset().union(*dialog_words.AREA_WORDS.values())
    manifest = tp.build_manifest(APP_ID)
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    italian = tp.build_language_file(manifest, "it")
    titles = [c["title"] for c in commands] + [
        italian[f"bots[0].commandLists[0].commands[{i}].title"] for i in range(9)
    ]
    assert len(commands) == 9 and [t for t in titles if t.casefold() not in known] == []
    assert "parla con una persona" in titles and "prerequisiti" in titles


def _localisable_paths(manifest: dict[str, Any]) -> set[str]:
    """Every string path of `manifest` (`bots[0].commandLists[0].commands[3].title`) the official localisation
    schema lets a language file carry: found from the schema, not from tp.localisable."""
    schema = tp.load_schema(tp.MANIFEST_VERSION, tp.LANGUAGE_SCHEMA)

    def paths(node: Any, prefix: str) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from paths(value, f"{prefix}.{key}" if prefix else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from paths(value, f"{prefix}[{i}]")
        elif isinstance(node, str):
            yield prefix

    allowed = set(schema["properties"]) - {"$schema", "localizationKeys"}
    patterns = [re.compile(p) for p in schema["patternProperties"]]
    return {p for p in paths(manifest, "") if p in allowed or any(r.search(p) for r in patterns)}


def test_italian_file_translates_every_localisable_string() -> None:
    manifest = tp.build_manifest(APP_ID)
    italian = tp.build_language_file(manifest, "it")
    expected = _localisable_paths(manifest)
    assert len(expected) == 4 + 2 * 9 and set(italian) == expected | {"$schema"}
    assert italian["$schema"].endswith("/teams/v1.30/MicrosoftTeams.Localization.schema.json")
    assert tp.validate_language_file(italian) == []
    english = tp.localisable(manifest)
    same = {key.removeprefix("bots[0].commandLists[0].") for key in expected if italian[key] == english[key]}
    # only "menu" and the language commands (each written in its own language) read the same
    assert same == {"commands[3].title"} | {f"commands[{i}].{f}" for i in (6, 7) for f in ("title", "description")}
    assert italian["name.short"] == "Assistente connettori co-sell" and "co-selling" in italian["description.full"]


def test_a_custom_name_is_kept_in_the_italian_file() -> None:
    manifest = tp.build_manifest(APP_ID, name="Contoso Co-sell Help")
    italian = tp.build_language_file(manifest, "it")
    assert italian["name.short"] == italian["name.full"] == "Contoso Co-sell Help"
    assert italian["bots[0].commandLists[0].commands[4].title"] == "aiuto"


def test_package_holds_manifest_and_both_icons() -> None:
    manifest = tp.build_manifest(APP_ID)
    package = tp.build_package(manifest)
    files = _unzip(package)
    assert set(files) == {"manifest.json", "it-it.json", "color.png", "outline.png"}
    assert json.loads(files["manifest.json"]) == manifest
    assert json.loads(files["it-it.json"]) == tp.build_language_file(manifest, "it")
    color, outline = ti.read_png(files["color.png"]), ti.read_png(files["outline.png"])
    assert (color.width, color.height, color.colour_type) == (192, 192, 6)
    assert (outline.width, outline.height, outline.colour_type) == (32, 32, 6)
    assert tp.build_package(manifest) == package  # reproducible: same input, same bytes


def test_outline_icon_is_white_on_transparent_and_colour_icon_opaque() -> None:
    files = _unzip(tp.build_package(tp.build_manifest(APP_ID)))
    outline = ti.read_png(files["outline.png"]).rgba
    color = ti.read_png(files["color.png"]).rgba
    assert outline is not None and color is not None
    pixels = [outline[i : i + 4] for i in range(0, len(outline), 4)]
    assert all(px[3] == 0 or px[:3] == b"\xff\xff\xff" for px in pixels)
    assert any(px[3] == 0 for px in pixels) and any(px[3] == 255 for px in pixels)
    assert all(color[i] == 255 for i in range(3, len(color), 4))
    assert color[:3] == bytes.fromhex(ti.ACCENT_COLOR[1:])  # the corner shows the accent colour


def _drop_privacy(m: dict[str, Any]) -> None:
    del m["developer"]["privacyUrl"]


def _bad_accent(m: dict[str, Any]) -> None:
    m["accentColor"] = "red"


def _bad_bot_id(m: dict[str, Any]) -> None:
    m["bots"][0]["botId"] = "cosell-bot"


def _thirteen_commands(m: dict[str, Any]) -> None:
    m["bots"][0]["commandLists"][0]["commands"] = [{"title": f"c{i}", "description": "d"} for i in range(13)]


def _long_short_name(m: dict[str, Any]) -> None:
    m["name"]["short"] = "x" * 31


def _long_command_title(m: dict[str, Any]) -> None:
    m["bots"][0]["commandLists"][0]["commands"][0]["title"] = "t" * 129


@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        (_drop_privacy, "$.developer: 'privacyUrl' is a required property"),
        (_bad_accent, "$.accentColor: 'red' does not match '^#[0-9a-fA-F]{6}$'"),
        (_bad_bot_id, "$.bots[0].botId: 'cosell-bot' does not match"),
        (_thirteen_commands, "$.bots[0].commandLists[0].commands: fails maxItems: 12 (13 items)"),
        (_long_short_name, "$.name.short: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is too long"),
        (_long_command_title, "$.bots[0].commandLists[0].commands[0].title:"),
    ],
)
def test_broken_manifest_is_refused_with_the_schema_errors(
    breaks: Callable[[dict[str, Any]], None], expected: str
) -> None:
    manifest = copy.deepcopy(tp.build_manifest(APP_ID))
    breaks(manifest)
    with pytest.raises(tp.TeamsPackageError) as refused:
        tp.build_package(manifest)
    assert len(refused.value.problems) == 1 and refused.value.problems[0].startswith(expected)


def test_all_errors_are_reported_at_once() -> None:
    manifest = copy.deepcopy(tp.build_manifest(APP_ID))
    for breaks in (_drop_privacy, _bad_accent, _bad_bot_id, _thirteen_commands):
        breaks(manifest)
    assert [p.split(":")[0] for p in tp.validate_manifest(manifest)] == [
        "$.accentColor",
        "$.bots[0].botId",
        "$.bots[0].commandLists[0].commands",
        "$.developer",
    ]


def test_manifest_version_const_is_enforced_despite_draft_04() -> None:
    # the official schema says draft-04 but uses draft-06 `const`; a plain Draft4Validator would accept "1.19"
    manifest = {**tp.build_manifest(APP_ID), "manifestVersion": "1.19"}
    assert tp.validate_manifest(manifest, tp.load_schema("1.30")) == ["$.manifestVersion: '1.30' was expected"]
    with pytest.raises(tp.TeamsPackageError, match="no vendored schema for '1.19'"):
        tp.validate_manifest(manifest)


def test_a_ref_does_not_hide_its_sibling_rules() -> None:
    # as Microsoft's validator reads the file: "maxLength": 30 beside a "$ref" still applies (draft-04 drops it)
    italian = {**tp.build_language_file(tp.build_manifest(APP_ID), "it"), "name.short": "x" * 31, "extra": "y"}
    assert tp.validate_language_file(italian) == [
        "$: unexpected 'extra'",
        "$['name.short']: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is too long",
    ]


def test_a_broken_translation_or_an_unknown_language_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tp.build_manifest(APP_ID)
    monkeypatch.setitem(tp.TEXTS, "it", dataclasses.replace(tp.TEXTS["it"], name="Assistente per i connettori co-sell"))
    with pytest.raises(tp.TeamsPackageError) as refused:
        tp.build_package(manifest)
    assert refused.value.problems == ["it-it.json: $['name.short']: 'Assistente per i connettori co-sell' is too long"]
    manifest["localizationInfo"]["additionalLanguages"].append({"languageTag": "fr-fr", "file": "fr-fr.json"})
    with pytest.raises(tp.TeamsPackageError, match="no texts for language 'fr-fr'"):
        tp.build_package(manifest)


def test_remote_refs_are_refused_not_fetched() -> None:
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "$ref": "https://example.com/teams.json"}
    with pytest.raises(Unresolvable):
        tp.validate_manifest({}, schema)


def _filtered_png(width: int, height: int, rgba: bytes) -> bytes:
    """A PNG using filter types 0-4 in turn, as image editors write them (ti.encode_png only writes type 0)."""
    stride, prev, raw = width * 4, bytes(width * 4), bytearray()
    for y in range(height):
        row, kind = rgba[y * stride : (y + 1) * stride], y % 5
        raw.append(kind)
        for i in range(stride):
            a, b, c = (row[i - 4] if i >= 4 else 0), prev[i], (prev[i - 4] if i >= 4 else 0)
            p = a + b - c
            paeth = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - c), 2, c))[2]
            raw.append((row[i] - (0, a, b, (a + b) // 2, paeth)[kind]) & 0xFF)
        prev = row
    return _raw_png(width, height, bytes(raw))


def _raw_png(width: int, height: int, raw: bytes) -> bytes:
    """An 8-bit RGBA PNG around already-filtered image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunks = [(b"IHDR", ihdr), (b"IDAT", zlib.compress(raw)), (b"IEND", b"")]
    body = b"".join(struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d)) for t, d in chunks)
    return b"\x89PNG\r\n\x1a\n" + body


def _solid(size: int, rgba: bytes) -> bytes:
    return ti.encode_png(size, size, rgba * size * size)


@pytest.mark.parametrize(
    ("icons", "expected"),
    [
        ((_solid(96, b"\x0f\x6c\xbd\xff"), None), "color.png: 96x96, not 192x192"),
        ((None, _solid(48, b"\xff\xff\xff\x00")), "outline.png: 48x48, not 32x32"),
        ((None, _solid(32, b"\x00\x00\x00\xff")), "outline.png: has pixels that are neither white nor"),
        ((None, _solid(32, b"\xff\xff\xff\xff")), "outline.png: has no transparent background"),
        ((b"GIF89a", None), "color.png: not a PNG file"),
        ((None, _raw_png(32, 32, b"\x00" * 100)), "outline.png: PNG image data is corrupt"),
    ],
)
def test_unfit_icons_are_refused(icons: tuple[bytes | None, bytes | None], expected: str) -> None:
    color, outline = ti.draw_icons()
    with pytest.raises(tp.TeamsPackageError) as refused:
        tp.build_package(tp.build_manifest(APP_ID), (icons[0] or color, icons[1] or outline))
    assert [p for p in refused.value.problems if p.startswith(expected)], refused.value.problems


def test_png_reader_undoes_every_filter_type() -> None:
    pixels = bytes((x * 37 + y * 11 + ch * 53) % 256 for y in range(10) for x in range(7) for ch in range(4))
    png = ti.read_png(_filtered_png(7, 10, pixels))
    assert (png.width, png.height, png.rgba) == (7, 10, pixels)
