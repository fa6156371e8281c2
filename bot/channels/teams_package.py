"""The Teams app package: the manifest (English) and its localisation files (Italian), each checked against the
vendored official schema, the icons (teams_icons.py), zip.

Nothing here touches the network: the schemas live under `deploy/teams/schema/v<manifestVersion>/`, and a `$ref`
outside them is refused rather than fetched. The icons are drawn in code, so the package is reproducible byte for byte.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from bot.channels.teams_icons import ACCENT_COLOR, COLOR_ICON, OUTLINE_ICON, check_icon, draw_icons
from knowledge.models import Lang

MANIFEST_VERSION = "1.30"  # the newest @microsoft/app-manifest 1.1.2 bundles (tests/bot/test_teams_validator.py)
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "teams" / "schema"
MANIFEST_SCHEMA, LANGUAGE_SCHEMA = "MicrosoftTeams.schema.json", "MicrosoftTeams.Localization.schema.json"
DEFAULT_VERSION = "1.0.0"
BOT_SCOPES = ("personal", "team", "groupChat")
# the manifest's own strings are English; each other language gets a localisation file named after its tag
LANGUAGE_TAGS: dict[Lang, str] = {"en": "en-us", "it": "it-it"}


@dataclass(frozen=True)
class Texts:
    """The manifest's strings in one language: all of those a Teams localisation file may carry."""

    name: str
    full_name: str
    short_description: str
    full_description: str
    # (title, description): Teams sends a picked title as the message, so each is a command the dialogs recognise
    commands: tuple[tuple[str, str], ...]

    def by_key(self) -> dict[str, str]:
        """The strings under their localisation-file keys, for the manifest `build_manifest` writes."""
        keys = {
            "name.short": self.name,
            "name.full": self.full_name,
            "description.short": self.short_description,
            "description.full": self.full_description,
        }
        for i, (title, description) in enumerate(self.commands):
            keys[f"{_COMMANDS_KEY}[{i}].title"] = title
            keys[f"{_COMMANDS_KEY}[{i}].description"] = description
        return keys


_COMMANDS_KEY = "bots[0].commandLists[0].commands"
TEXTS: dict[Lang, Texts] = {
    "en": Texts(
        name="Co-sell Connectors Assistant",
        full_name="Co-sell Connectors Assistant",
        short_description="Troubleshoots Microsoft's co-sell referrals connectors, in English or Italian",
        full_description=(
            "Answers questions about the Partner Center co-sell referrals connectors for Dynamics 365 and "
            "Salesforce: paste an error message or describe the symptom, or walk through the prerequisites, "
            "configuration and maintenance checklists. When a question needs a person, say 'talk to a person' "
            "and the conversation is handed over with a summary. Speaks English and Italian."
        ),
        commands=(
            ("prerequisites", "Guided checklist: what must be in place before installing the co-sell connectors"),
            ("configuration", "Guided checklist: connections, flows and settings of the co-sell connectors"),
            ("maintenance", "Guided checklist: keeping referrals in sync once the connectors run"),
            ("menu", "Show the troubleshooting areas"),
            ("help", "What the assistant understands"),
            ("restart", "Start over"),
            ("italiano", "Continua in italiano"),
            ("english", "Continue in English"),
            ("talk to a person", "Hand this conversation to a person, with a summary of what was tried"),
        ),
    ),
    "it": Texts(
        name="Assistente connettori co-sell",
        full_name="Assistente per i connettori di co-selling",
        short_description="Risolve i problemi dei connettori Microsoft di co-selling, in italiano o inglese",
        full_description=(
            "Risponde alle domande sui connettori delle segnalazioni di co-selling di Partner Center per "
            "Dynamics 365 e Salesforce: incolla un messaggio di errore o descrivi il sintomo, oppure segui le "
            "checklist di prerequisiti, configurazione e manutenzione. Quando serve una persona, scrivi 'parla con "
            "una persona' e la conversazione passa a un operatore con un riepilogo. Parla italiano e inglese."
        ),
        commands=(
            (
                "prerequisiti",
                "Checklist guidata: cosa deve essere pronto prima di installare i connettori di co-selling",
            ),
            ("configurazione", "Checklist guidata: connessioni, flussi e impostazioni dei connettori di co-selling"),
            ("manutenzione", "Checklist guidata: mantenere sincronizzate le segnalazioni con i connettori in funzione"),
            ("menu", "Mostra le aree di risoluzione dei problemi"),
            ("aiuto", "Cosa capisce l'assistente"),
            ("ricomincia", "Ricomincia da capo"),
            ("italiano", "Continua in italiano"),
            ("english", "Continue in English"),
            (
                "parla con una persona",
                "Passa la conversazione a una persona, con un riepilogo di ciò che è stato provato",
            ),
        ),
    ),
}
DEFAULT_NAME = TEXTS["en"].name
COMMANDS = TEXTS["en"].commands
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
) -> dict[str, Any]:
    """The Teams app manifest (English) for the bot registered as `app_id` (also used as the Teams app id), naming
    a localisation file for each other language of `TEXTS` (`build_language_file`). Not validated."""
    dev, en = developer or Developer(), TEXTS["en"]
    manifest: dict[str, Any] = {
        "$schema": _schema_url(MANIFEST_SCHEMA),
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": dev.name,
            "websiteUrl": dev.website_url,
            "privacyUrl": dev.privacy_url,
            "termsOfUseUrl": dev.terms_url,
        },
        "name": {"short": name, "full": full_name or (en.full_name if name == en.name else name)},
        "description": {"short": en.short_description, "full": en.full_description},
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
                        "commands": [{"title": t, "description": d} for t, d in en.commands],
                    }
                ],
            }
        ],
        "localizationInfo": {
            "defaultLanguageTag": LANGUAGE_TAGS["en"],
            "additionalLanguages": [
                {"languageTag": tag, "file": f"{tag}.json"} for lang, tag in LANGUAGE_TAGS.items() if lang != "en"
            ],
        },
    }
    if valid_domains:
        manifest["validDomains"] = list(valid_domains)
    return manifest


def localisable(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The manifest's strings a localisation file may carry, under their keys (`name.short`,
    `bots[0].commandLists[0].commands[3].title`, ...)."""
    keys = {
        f"{outer}.{inner}": value
        for outer in ("name", "description")
        for inner in ("short", "full")
        if isinstance(value := manifest.get(outer, {}).get(inner), str)
    }
    for b, bot in enumerate(manifest.get("bots", [])):
        for c, command_list in enumerate(bot.get("commandLists", [])):
            for i, command in enumerate(command_list.get("commands", [])):
                for field in ("title", "description"):
                    if isinstance(command.get(field), str):
                        keys[f"bots[{b}].commandLists[{c}].commands[{i}].{field}"] = command[field]
    return keys


def build_language_file(manifest: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """The localisation file of `manifest` in `lang`: every localisable string, translated where the manifest
    still carries the English default, as given otherwise (a custom app name stays a name)."""
    english, translated = TEXTS["en"].by_key(), TEXTS[lang].by_key()
    strings = {
        key: translated[key] if key in translated and english.get(key) == value else value
        for key, value in localisable(manifest).items()
    }
    return {"$schema": _schema_url(LANGUAGE_SCHEMA), **strings}


def _schema_url(file: str) -> str:
    return f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/{file}"


@cache
def load_schema(manifest_version: str, file: str = MANIFEST_SCHEMA) -> dict[str, Any]:
    """The vendored official schema `file` (the manifest's, or the localisation file's) for `manifest_version`."""
    path = SCHEMA_DIR / f"v{manifest_version}" / file
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

    The validator class comes from the schema's `$schema` (draft-04 for the Teams schemas), read as Microsoft's
    validator (Ajv) reads it: the official files use the draft-06 `const` for `manifestVersion`, which a plain
    Draft4Validator silently ignores, so it is added back; and a `$ref`'s sibling keywords apply too (draft-04 would
    drop the localisation file's `"maxLength": 30` beside `"$ref": "#/definitions/nonEmptyString"`).
    """
    if schema is None:
        schema = load_schema(str(manifest.get("manifestVersion", MANIFEST_VERSION)))
    base = validator_for(schema)
    cls = jsonschema.validators.create(
        meta_schema=base.META_SCHEMA,
        validators={**base.VALIDATORS, "const": jsonschema.Draft6Validator.VALIDATORS["const"]},
        type_checker=base.TYPE_CHECKER,
        format_checker=base.FORMAT_CHECKER,
    )
    registry: Registry[Any] = Registry(retrieve=_no_remote)  # type: ignore[call-arg]
    validator = cls(schema, registry=registry, format_checker=base.FORMAT_CHECKER)
    return sorted(f"{e.json_path}: {_describe(e)}" for e in validator.iter_errors(manifest))


def validate_language_file(strings: Mapping[str, Any], manifest_version: str = MANIFEST_VERSION) -> list[str]:
    """Errors of a localisation file against the official localisation schema, as `validate_manifest` gives them."""
    return validate_manifest(strings, load_schema(manifest_version, LANGUAGE_SCHEMA))


def _describe(error: jsonschema.ValidationError) -> str:
    if (
        error.validator == "additionalProperties"
        and isinstance(error.instance, dict)
        and isinstance(error.schema, dict)
    ):
        # jsonschema lists every allowed pattern (a localisation file has dozens): name the keys instead
        known, patterns = error.schema.get("properties", {}), error.schema.get("patternProperties", {})
        extra = [k for k in error.instance if k not in known and not any(re.search(p, k) for p in patterns)]
        return f"unexpected {', '.join(map(repr, extra))}"
    if len(error.message) <= 200:
        return error.message
    # jsonschema's message starts with the whole instance: for a long command list, name the rule instead
    size = f" ({len(error.instance)} items)" if isinstance(error.instance, list | dict) else ""
    return f"fails {error.validator}: {error.validator_value!r}{size}"


# --- package ------------------------------------------------------------------------------------------------------


def build_package(manifest: Mapping[str, Any], icons: tuple[bytes, bytes] | None = None) -> bytes:
    """The app package zip (manifest.json, its localisation files, colour icon, outline icon), after checking all.

    Raises:
        TeamsPackageError: the manifest or a localisation file breaks its schema, or an icon is unfit; nothing is
            built. A localisation file's problems start with its name.
    """
    accent = str(manifest.get("accentColor"))
    color, outline = icons or draw_icons(accent if re.fullmatch(_HEX_COLOR, accent) else ACCENT_COLOR)
    problems = validate_manifest(manifest) + check_icon(color, outline=False) + check_icon(outline, outline=True)
    files = {"manifest.json": _json_bytes(manifest)}
    langs = {tag: lang for lang, tag in LANGUAGE_TAGS.items()}
    version = str(manifest.get("manifestVersion", MANIFEST_VERSION))
    # the language files are derived from the manifest: checked once it is valid, so one mistake is reported once
    for entry in [] if problems else manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        lang = langs.get(str(entry.get("languageTag")).casefold())
        if lang is None:
            problems.append(f"$.localizationInfo: no texts for language {entry.get('languageTag')!r}")
            continue
        strings = build_language_file(manifest, lang)
        problems += [f"{entry['file']}: {p}" for p in validate_language_file(strings, version)]
        files[entry["file"]] = _json_bytes(strings)
    if problems:
        raise TeamsPackageError(problems)
    files |= {manifest["icons"]["color"]: color, manifest["icons"]["outline"]: outline}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same input, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n"
