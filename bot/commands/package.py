"""`cosell-bot teams-package`: the Teams app package (manifest and Italian localisation file validated against the
official schemas, icons, zipped), written whole or not at all."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_teams_package(args: argparse.Namespace) -> int:
    from bot.channels.teams_package import (
        DEFAULT_NAME,
        DEFAULT_VERSION,
        Developer,
        TeamsPackageError,
        build_manifest,
        build_package,
    )

    defaults = Developer()
    developer = Developer(
        name=args.developer or defaults.name,
        website_url=args.website or defaults.website_url,
        privacy_url=args.privacy or defaults.privacy_url,
        terms_url=args.terms or defaults.terms_url,
    )
    manifest = build_manifest(
        args.app_id,
        name=args.name or DEFAULT_NAME,
        full_name=args.full_name,
        developer=developer,
        version=args.app_version or DEFAULT_VERSION,
    )
    try:
        package = build_package(manifest)
    except TeamsPackageError as exc:
        print(
            f"refused: the Teams app package is invalid ({len(exc.problems)} problems), nothing written",
            file=sys.stderr,
        )
        print("\n".join(f"  {problem}" for problem in exc.problems), file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial")
    partial.write_bytes(package)
    partial.replace(args.out)  # never leave a half-written zip where Teams admins look for it
    info = manifest["localizationInfo"]
    languages = " + ".join(
        [info["defaultLanguageTag"], *(entry["languageTag"] for entry in info["additionalLanguages"])]
    )
    print(f"wrote {args.out} (manifest {manifest['manifestVersion']}, version {manifest['version']}, {languages})")
    if developer.placeholders:
        print(f"warning: replace the example.com placeholders: {', '.join(developer.placeholders)}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add `teams-package`."""
    teams = sub.add_parser("teams-package", help="build the Teams app package (manifest.json + icons, zipped)")
    teams.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (a GUID)")
    teams.add_argument("--out", type=Path, default=Path("var/teams-app.zip"))
    teams.add_argument("--name", help="short name, at most 30 characters (default: Co-sell Connectors Assistant)")
    teams.add_argument("--full-name", help="full name, at most 100 characters (default: the short name)")
    teams.add_argument("--app-version", help="the app's version, default 1.0.0: raise it for every re-upload")
    teams.add_argument("--developer", help="developer name, at most 32 characters")
    teams.add_argument("--website", help="developer website (https)")
    teams.add_argument("--privacy", help="privacy statement URL (https)")
    teams.add_argument("--terms", help="terms of use URL (https)")
    teams.set_defaults(func=cmd_teams_package)
