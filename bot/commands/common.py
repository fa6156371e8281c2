"""What the sub-commands share: settings (or exit 2 naming the invalid ones), the reply locale, and the developer tools
(`--demo`), found through their entry point so that nothing in the product imports them."""

from __future__ import annotations

import sys
from typing import Any

from pydantic import ValidationError

from bot.settings import Settings, describe_error


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, with `overrides` that are not None; exits 2 naming each invalid setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        raise SystemExit(2) from exc


def locale_tag(lang: str | None) -> str:
    """The locale a `--locale` value asks for: Italian, else English."""
    return "it-IT" if (lang or "").casefold().startswith("it") else "en-US"


def devtools() -> Any | None:
    """The developer tools (bench, sandbox, `--demo`), found through their entry point so that nothing in the
    product imports them; None when they are not installed."""
    from importlib.metadata import entry_points

    for point in entry_points(group="cosell_bot.devtools"):
        try:
            return point.load()
        except ImportError:
            return None
    return None


def demo_tools() -> Any:
    """The developer tools, for `--demo`; exits 2 saying how to install them when they are missing."""
    tools = devtools()
    if tools is None:
        print(
            "--demo needs the developer tools: install the project with its dev extra (scripts/bootstrap)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return tools


async def start_demo(settings: Settings, demo: str | None) -> Any:
    """The simulated tenant for `--demo NAME`, started (it has `.settings` and `stop()`), or None."""
    return await demo_tools().start_demo(settings, demo) if demo else None


def demo_scenario(name: str | None) -> Any:
    """The sandbox scenario for `--demo NAME`, or None; exits 2 naming the valid ones when unknown."""
    return demo_tools().scenario(name) if name else None
