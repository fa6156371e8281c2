"""`cosell-bot login SYSTEM`: device-code sign-in to one system for the delegated live checks (Entra ID); the msal
token cache is kept encrypted in the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.commands.common import settings_or_exit
from bot.log_setup import configure_logging


def cmd_login(args: argparse.Namespace) -> int:
    from bot.live import entra_config
    from bot.wiring import SqlTokenCacheStore, open_database
    from tenant.auth.entra import AuthNotConfigured, login, msal_configured, uses_app_only
    from tenant.base import LiveCheckError, System

    settings = settings_or_exit()
    configure_logging("WARNING")
    system = System(args.system)
    config = entra_config(settings)
    if not msal_configured(config):
        print(
            "login needs an Entra app registration: set COSELL_LIVE_CLIENT_ID and COSELL_LIVE_TENANT_ID",
            file=sys.stderr,
        )
        return 2
    if uses_app_only(config, system):
        print(f"{system.value} uses app-only tokens (client secret configured): no sign-in needed")
        return 0
    database = open_database(settings)
    try:
        username = login(config, SqlTokenCacheStore(database), system)
    except AuthNotConfigured as exc:
        print(f"login: {exc}", file=sys.stderr)
        return 2
    except LiveCheckError as exc:
        print(f"login failed: {exc}", file=sys.stderr)
        return 1
    finally:
        asyncio.run(database.aclose())
    print(f"signed in to {system.value} as {username}; the token cache is stored encrypted in the database")
    return 0


def register(sub: Any) -> None:
    """Add `login`."""
    login = sub.add_parser("login", help="device-code sign-in to a system for delegated live checks (Entra ID)")
    login.add_argument("system", choices=["partner_center", "power_automate", "dataverse", "graph", "power_platform"])
    login.set_defaults(func=cmd_login)
