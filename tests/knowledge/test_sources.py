"""Every answer says where it comes from: the troubleshooting page's section for the entry's area, plus Microsoft's
docs; entries beyond that page are marked as such and cite the doc they come from."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from knowledge.loader import load_kb
from knowledge.models import LANGS, Area

PAGE = {
    "en": "https://learn.microsoft.com/en-us/partner-center/referrals/connectors-troubleshoot",
    "it": "https://learn.microsoft.com/it-it/partner-center/referrals/connectors-troubleshoot",
}
#: the page's own table of contents links its three sections by these anchors
ANCHORS = {
    Area.prerequisites: "fundamentals-faq",
    Area.configuration: "configuration-troubleshooting",
    Area.maintenance: "run-and-maintenance-troubleshooting",
}
ALLOWED_HOSTS = ("learn.microsoft.com", "microsoft.com", "appsource.microsoft.com")
BEYOND = {
    "pre-marketplace-leads": Area.prerequisites,
    "pre-availability": Area.prerequisites,
    "run-flows-off-after-upgrade": Area.maintenance,
    "run-get-help": Area.maintenance,
}

KB = load_kb()
PAGE_ENTRIES = [e for e in KB.entries if not e.beyond_page]


def _all_links(entry, lang):  # type: ignore[no-untyped-def]
    return [*entry.sources.of(lang), *entry.content(lang).links]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("entry", PAGE_ENTRIES, ids=lambda e: e.id)
def test_every_page_entry_links_its_section_of_the_page_and_a_doc(entry, lang) -> None:  # type: ignore[no-untyped-def]
    first, *more = entry.sources.of(lang)
    assert str(first.url) == f"{PAGE[lang]}#{ANCHORS[entry.area]}"
    docs = [link for link in more if not str(link.url).startswith(PAGE[lang])]
    assert docs, f"{entry.id} ({lang}) links no documentation beside the page"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("entry", KB.entries, ids=lambda e: e.id)
def test_every_link_is_https_on_a_microsoft_domain_in_the_answers_language(entry, lang) -> None:  # type: ignore[no-untyped-def]
    for link in _all_links(entry, lang):
        parts = urlsplit(str(link.url))
        assert parts.scheme == "https", link.url
        assert any(parts.hostname == h or (parts.hostname or "").endswith("." + h) for h in ALLOWED_HOSTS), link.url
        if parts.hostname == "learn.microsoft.com":
            assert parts.path.startswith("/en-us/" if lang == "en" else "/it-it/"), link.url


def test_the_page_has_its_nineteen_entries_and_four_more_beyond_it() -> None:
    assert len(PAGE_ENTRIES) == 19
    assert {e.id: e.area for e in KB.entries if e.beyond_page} == BEYOND


@pytest.mark.parametrize("entry_id", sorted(BEYOND))
def test_a_beyond_page_entry_cites_its_doc_comes_after_the_page_and_is_complete(entry_id) -> None:  # type: ignore[no-untyped-def]
    entry = KB.get(entry_id)
    page_orders = [e.order for e in PAGE_ENTRIES if e.area == entry.area]
    assert entry.order > max(page_orders)
    for lang in LANGS:
        c = entry.content(lang)
        first = entry.sources.of(lang)[0]
        assert not str(first.url).startswith(PAGE[lang]), "a beyond-page entry cites the doc it comes from"
        assert c.label and len(c.label) <= 40
        assert len(c.phrasings) >= 10 and len(c.keywords) >= 5 and c.steps and len(c.check) >= 10


def test_the_area_checklist_walks_only_the_pages_entries() -> None:
    """The checklist is the page's: a beyond-page entry (where to get help, marketplace leads) is no check a tenant
    passes or fails, so it is answered when asked but never walked."""
    assert [len(KB.area(a)) for a in Area] == [6, 5, 8]
    assert not any(e.beyond_page for a in Area for e in KB.area(a))


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("ChildFlowNeverPublished when I turn on the parent flow", "run-flows-off-after-upgrade"),
        (
            "After the solution upgrade every flow fails with ConnectionAuthorizationFailed",
            "run-flows-off-after-upgrade",
        ),
        ("ConnectionAuthorizationFailed dopo l'aggiornamento della soluzione", "run-flows-off-after-upgrade"),
        ("Flow run failed with code 'ConnectionAuthorizationFailed'", "run-disconnected"),  # an expired connection
    ],
)
def test_pasted_error_codes_answer_their_entry(knowledge, text, entry_id) -> None:  # type: ignore[no-untyped-def]
    verdict = knowledge.match(text, "en")
    assert (verdict.kind, verdict.entry, verdict.via) == ("answer", entry_id, "fingerprint")
