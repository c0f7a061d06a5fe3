"""Every stack's error texts as people paste them: an exception line or a response header, a JSON log line,
a plain log line. The texts are data (``tests/diagnosis/pasted/<library id>.toml``), each with where its
wording and its form come from; this file checks that each is recognised as its stack, for the right cause,
with the evidence its numbers give.

A pasted text's entry:

    [[text]]
    form = "exception"        # exception | header | body | json_log | plain_log
    text = '''…'''
    library = "jjwt"          # the library the text must be attributed to ("generic": none, RFC 6750 text)
    cause = "clock_skew"      # the first cause
    also = ["expired"]        # other causes that must be listed (optional)
    absent = ["clock_skew"]   # causes that must not be listed (optional)
    claim = "exp"             # the first cause's claim (optional)
    seconds_off = 45.0        # pinned evidence, where the text carries numbers (optional)
    leeway_needed = 46        # (optional)
    expected = ["orders-api"] # what the validator expected, as read from the text (optional)
    received = "api://other"  # a value the first cause's evidence must quote (optional)
    source = "…"              # where the wording and the form come from
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.diagnosis import error_texts
from bot.diagnosis.ids import CauseId, Library
from bot.knowledge.catalogue import default_catalogue

PASTED = Path(__file__).with_name("pasted")
FORMS = frozenset({"exception", "header", "body", "json_log", "plain_log"})
KEYS = frozenset(
    {
        "form",
        "text",
        "library",
        "cause",
        "also",
        "absent",
        "claim",
        "seconds_off",
        "leeway_needed",
        "expected",
        "received",
        "source",
    }
)
DISTINCT_TEXTS_AT_LEAST = 100


def _entries() -> list[tuple[str, int, dict[str, Any]]]:
    entries = []
    for path in sorted(PASTED.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        for index, entry in enumerate(data.get("text", [])):
            entries.append((path.stem, index, entry))
    return entries


ENTRIES = _entries()


@pytest.mark.parametrize(
    "stack, entry", [(stem, entry) for stem, _, entry in ENTRIES], ids=[f"{s}-{i}" for s, i, _ in ENTRIES]
)
def test_a_pasted_text_is_read_as_its_stack_and_cause(stack: str, entry: dict[str, Any]) -> None:
    assert set(entry) <= KEYS, sorted(set(entry) - KEYS)
    assert entry["form"] in FORMS
    assert entry.get("source"), "say where the text's wording and form come from"
    matches = error_texts.find_error_texts(entry["text"], default_catalogue())
    assert len(matches) == 1, [(m.library, [f.cause for f in m.findings]) for m in matches]
    match = matches[0]
    assert match.library is (None if entry["library"] == "generic" else Library(entry["library"]))
    causes = [finding.cause for finding in match.findings]
    assert causes[0] is CauseId(entry["cause"]), causes
    for cause in entry.get("also", []):
        assert CauseId(cause) in causes, causes
    for cause in entry.get("absent", []):
        assert CauseId(cause) not in causes, causes
    first = match.findings[0].evidence
    if "claim" in entry:
        assert first.claim == entry["claim"]
    if "seconds_off" in entry:
        timed = [f.evidence for f in match.findings if f.evidence.seconds_off is not None]
        assert timed and timed[0].seconds_off == pytest.approx(entry["seconds_off"])
    if "leeway_needed" in entry:
        timed = [f.evidence for f in match.findings if f.evidence.leeway_needed is not None]
        assert timed and timed[0].leeway_needed == entry["leeway_needed"]
    if "expected" in entry:
        said = [value for _, values in match.expected for value in values]
        assert said == entry["expected"]
    if "received" in entry:
        assert entry["received"] in first.detail


def test_each_stack_is_pasted_in_three_forms() -> None:
    forms: dict[str, set[str]] = {}
    for stack, _, entry in ENTRIES:
        forms.setdefault(stack, set()).add(entry["form"])
    for stack, seen in forms.items():
        assert len(seen) >= 3, f"{stack}: {sorted(seen)}"


def test_at_least_a_hundred_distinct_real_texts_are_recognised() -> None:
    assert len({entry["text"].strip() for _, _, entry in ENTRIES}) >= DISTINCT_TEXTS_AT_LEAST


# A library whose evidence may name another, because it runs it: express-jwt passes jsonwebtoken's errors on,
# APIM's validate-jwt wraps IdentityModel, Spring Security decodes with Nimbus, Authlib and joserfc share texts.
RUNS = {
    "express-jwt": {"jsonwebtoken"},
    "azure-apim": {"microsoft-identitymodel"},
    "spring-security": {"nimbus-jose-jwt"},
    "authlib": {"joserfc"},
    "joserfc": {"authlib"},
}
NAMES = {
    "pyjwt": "PyJWT",
    "spring-security": "Spring",
    "microsoft-identitymodel": "IdentityModel",
    "jose": "panva/jose",
}


def test_the_evidence_names_no_other_library_than_the_one_recognised() -> None:
    """A card that says "PyJWT raises this when…" under a python-jose error is wrong about a library."""
    from bot.knowledge import default_knowledge

    knowledge = default_knowledge()
    names = {lib.library: lib.display for lib in (*knowledge.libraries, *knowledge.extra_libraries)} | NAMES
    wrong = []
    for stack, _, entry in ENTRIES:
        for match in error_texts.find_error_texts(entry["text"], default_catalogue()):
            library = match.library.value if match.library else None
            allowed = {library, *RUNS.get(library or "", ())}
            for finding in match.findings:
                for other, name in names.items():
                    # (a name inside the recognised one's is its own: "jsonwebtoken (Rust)")
                    own = library is not None and name in names.get(library, "")
                    if other not in allowed and len(name) > 3 and name in finding.evidence.detail and not own:
                        wrong.append((stack, library, name, finding.evidence.detail[:80]))
    assert wrong == []
