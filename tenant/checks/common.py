"""Helpers the live checks share: the run functions' registry, the findings' words (`Say`), client lookup, and
the connector's flow names.

A check is declared in knowledge/data/checks/<area>.yaml (id, title, systems, needs, entries, messages) and run by
one coroutine registered with `@check("<id>")`. The coroutine gets the context and a `Say` bound to its declaration,
computes facts and returns `say("<message key>", status, **parameters)`: the words, in English and Italian, are
the data's (number formats and plurals included), the facts are the parameters.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from knowledge.check_specs import CheckBook, CheckSpec
from knowledge.messages import Bilingual, Message, MessageError, Phrase, render, render_both
from knowledge.models import Lang
from tenant.base import Check, CheckContext, CheckFn, CheckResult, CredentialMissing, Fix, Status, System
from tenant.texts import book, said

RunFn = Callable[[CheckContext, "Say"], Awaitable[CheckResult]]
_RUNS: dict[str, RunFn] = {}


class CatalogError(Exception):
    """The declared checks and the registered run functions do not match, or a declaration names no system."""


def check(check_id: str) -> Callable[[RunFn], RunFn]:
    """Register the decorated coroutine as the run function of the declared check `check_id`."""

    def register(run: RunFn) -> RunFn:
        if check_id in _RUNS:
            raise CatalogError(
                f"check {check_id} has two run functions: {_RUNS[check_id].__qualname__}, {run.__qualname__}"
            )
        _RUNS[check_id] = run
        return run

    return register


def registered() -> Mapping[str, RunFn]:
    """The run functions registered so far, by check id."""
    return MappingProxyType(_RUNS)


class Say:
    """One check's findings in its own words: its title and its messages (then the shared ones)."""

    def __init__(self, spec: CheckSpec, checks: CheckBook) -> None:
        self.spec = spec
        self.system = System(spec.systems[0])  # the findings' system unless one says otherwise
        self._lookup = checks.lookup(spec.id)

    def __call__(
        self,
        key: str,
        status: Status,
        *,
        system: System | None = None,
        evidence: dict[str, Any] | None = None,
        entries: tuple[str, ...] | list[str] = (),
        fix: Fix | None = None,
        **params: Any,
    ) -> CheckResult:
        """The finding worded by message `key` with `params`; `entries` keep their order without duplicates."""
        summary = self._both(key, params)
        return CheckResult(
            id=self.spec.id,
            title=self.spec.title.en,
            title_it=self.spec.title.it,
            system=system or self.system,
            status=status,
            summary=summary.en,
            summary_it=summary.it,
            evidence=evidence or {},
            entries=tuple(dict.fromkeys(entries)),
            fix=fix,
        )

    def text(self, words: Phrase, lang: Lang = "en") -> str:
        """A phrase of this check in `lang` (e.g. a problem's English wording for the evidence)."""
        message = self._message(words.key)
        try:
            return render(message, lang, words.params, self._lookup)
        except MessageError as exc:
            raise MessageError(f"check {self.spec.id}, message {words.key}: {exc}") from exc

    def _both(self, key: str, params: Mapping[str, Any]) -> Bilingual:
        message = self._message(key)
        try:
            return render_both(message, params, self._lookup)
        except MessageError as exc:
            raise MessageError(f"check {self.spec.id}, message {key}: {exc}") from exc

    def _message(self, key: str) -> Message:
        try:
            return self._lookup(key)
        except KeyError:
            raise MessageError(f"check {self.spec.id}: unknown message {key!r}") from None


def _bound(run: RunFn, say: Say) -> CheckFn:
    async def bound(ctx: CheckContext) -> CheckResult:
        return await run(ctx, say)

    bound.__qualname__ = run.__qualname__
    return bound


def _build(spec: CheckSpec, run: RunFn, checks: CheckBook) -> Check:
    try:
        systems = tuple(System(name) for name in spec.systems)
    except ValueError as exc:
        raise CatalogError(f"check {spec.id}: {exc}") from exc
    return Check(
        id=spec.id,
        title=spec.title.en,
        title_it=spec.title.it,
        systems=systems,
        needs=spec.needs,
        entries=spec.entries,
        area=spec.area.value,
        estimated_calls=spec.estimated_calls,
        run=_bound(run, Say(spec, checks)),
    )


def build_checks(checks: CheckBook, runs: Mapping[str, RunFn]) -> list[Check]:
    """Every declared check in the data's order, run by its registered function: each declared check must have
    one, and each function a declaration."""
    declared = [spec.id for spec in checks.checks]
    if missing := [check_id for check_id in declared if check_id not in runs]:
        raise CatalogError(f"checks declared in knowledge/data/checks without a run function: {missing}")
    if undeclared := sorted(set(runs) - set(declared)):
        raise CatalogError(f"run functions for checks knowledge/data/checks does not declare: {undeclared}")
    return [_build(spec, runs[spec.id], checks) for spec in checks.checks]


def checks_from(module: str) -> list[Check]:
    """The declared checks whose run functions `module` registers, in the data's order."""
    runs = {check_id: run for check_id, run in _RUNS.items() if run.__module__ == module}
    return [_build(spec, runs[spec.id], book()) for spec in book().checks if spec.id in runs]


def client(ctx: CheckContext, system: System) -> Any:
    """The ready client for `system`; a missing one skips the check (no credential, nothing to call)."""
    found = ctx.clients.get(system)
    if found is None:
        raise CredentialMissing(system, said("no-client", system=system.value))
    return found


def host(url: str | None) -> str | None:
    """The host of a URL, the only part of a signed URL that may be shown."""
    return urlsplit(url).hostname if url else None


def same_url(a: str, b: str) -> bool:
    """Equal up to host case and query-parameter order (signed trigger URLs carry api-version, sp, sv, sig)."""
    left, right = urlsplit(a.strip()), urlsplit(b.strip())
    return (
        left.scheme.lower() == right.scheme.lower()
        and (left.hostname or "") == (right.hostname or "")
        and left.port == right.port
        and left.path.rstrip("/") == right.path.rstrip("/")
        and sorted(parse_qsl(left.query, keep_blank_values=True))
        == sorted(parse_qsl(right.query, keep_blank_values=True))
    )


# --- the connector's flows -------------------------------------------------------------------------------------

CRMS = ("Dynamics 365", "Salesforce", "CRM")
# role: parent = "Partner Center to <CRM>"; child = activated before the parent (cfg-activate-pc-to-crm);
# first = activated first in the Salesforce solution (cfg-flows-wont-turn-on); other = everything else
_TEMPLATES = (
    ("Partner Center Webhook Registration", "other"),
    ("Create Co-sell Referral - {crm} to Partner Center", "other"),
    ("Partner Center Microsoft Co-sell Referral Updates to {crm}", "child"),
    ("Partner Center to {crm}", "parent"),
    ("Partner Center to {crm} - Helper", "child"),
    ("{crm} to Partner Center", "first"),
    ("{crm} Opportunity to Partner Center", "other"),
    ("{crm} Microsoft Solutions to Partner Center", "other"),
)
_START_RANK = {"child": 0, "first": 0, "other": 1, "parent": 2}
_PREVIEW = re.compile(r"\(\s*insider\s+preview\s*\)", re.IGNORECASE)


def normalize_flow_name(name: str) -> str:
    """Case-insensitive, without " (Insider Preview)", whitespace collapsed."""
    return " ".join(_PREVIEW.sub(" ", name).split()).casefold()


def _known() -> dict[str, tuple[str | None, str]]:
    known: dict[str, tuple[str | None, str]] = {}
    for template, role in _TEMPLATES:
        if "{crm}" not in template:
            known[normalize_flow_name(template)] = (None, role)
            continue
        for crm in CRMS:
            known[normalize_flow_name(template.format(crm=crm))] = (crm, role)
    return known


KNOWN_FLOWS = _known()


@dataclass(frozen=True)
class ConnectorFlow:
    """A connector flow found in the environment, from either the Flow API or Dataverse."""

    id: str
    name: str  # display name as found
    on: bool
    state: str
    crm: str | None  # Dynamics 365 | Salesforce | CRM; None for the shared webhook registration flow
    role: str  # parent | child | first | other
    trigger: str = "manual"

    @property
    def start_rank(self) -> int:
        return _START_RANK[self.role]


def connector_flow(
    flow_id: str, name: str | None, on: bool, state: str, triggers: tuple[str, ...] = ()
) -> ConnectorFlow | None:
    """The flow as a ConnectorFlow when its display name is one of the connector's, else None."""
    known = KNOWN_FLOWS.get(normalize_flow_name(name or ""))
    if known is None or name is None:
        return None
    trigger = "manual" if not triggers or "manual" in triggers else triggers[0]
    return ConnectorFlow(flow_id, name, on, state, known[0], known[1], trigger)


_CRM_KEYS = {"Dynamics 365": "dynamics", "Salesforce": "salesforce"}


def crm_of(results: Iterable[CheckResult]) -> str | None:
    """The CRM whose connector flows the checks found ("dynamics" or "salesforce"), when they found exactly one."""
    lists = [r.evidence.get(key) or () for r in results for key in ("found", "parents")]
    names = [name for names in lists for name in names if isinstance(name, str)]
    found = {(KNOWN_FLOWS.get(normalize_flow_name(n)) or (None, ""))[0] for n in names}
    crms = {_CRM_KEYS[crm] for crm in found if crm in _CRM_KEYS}
    return crms.pop() if len(crms) == 1 else None


def start_order(flows: list[ConnectorFlow]) -> list[str]:
    """Names in the order to turn them on: child flows first, the Partner Center to <CRM> flow last."""
    return [f.name for f in sorted(flows, key=lambda f: f.start_rank)]
