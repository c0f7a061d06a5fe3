"""The JSON contract, ``jwtcheck/diagnosis@1``: one document per run.

Contract fields (others may be added): schema, evaluated_at, diagnoses[].{source, token, library,
verdict, signature, causes[], workarounds[], dead_ends[]}.

Each diagnosis names its workarounds ``{id, title, success_rate, source}`` and dead ends ``{id, title,
fail_rate, source}``; what is the same for every diagnosis that names them (a workaround's detail,
causes and snippets, a dead end's why) is said once, in the document's ``knowledge`` section, keyed by
id. A log of thousands of tokens then does not repeat the knowledge base thousands of times.
This is the contract for users only: what the bot keeps in its store has its own, versioned layouts
(``bot/store/codec.py``).

``signature`` is exactly one of ``verified``, ``invalid``, ``key_source_failed``, ``not_checked``
(:class:`SignatureStatus`); ``signature_detail`` says with what key, or why not. ``skipped_checks``
holds ``signature (no key configured)`` only when the service has no key source.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from bot.diagnosis import Cause, Diagnosis, Expectations, Report, Verdict
from bot.diagnosis.leeway import LeewayFigure, card_figure
from bot.diagnosis.timefmt import format_iso
from bot.knowledge import DeadEnd, Knowledge, Snippet, Workaround
from bot.render.snippets import Fit, fit_for, fix_title, snippet_code

SCHEMA = "jwtcheck/diagnosis@1"
SUMMARY_SCHEMA = "jwtcheck/summary@1"


def report_to_dict(report: Report, knowledge: Knowledge) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "evaluated_at": format_iso(report.evaluated_at.timestamp()),
        "rates": knowledge.provenance,
        "diagnoses": [
            _diagnosis_dict(d, shared=True, fitting=(report.expectations, knowledge)) for d in report.diagnoses
        ],
        "omitted": report.omitted,
        "knowledge": knowledge_to_dict(report.diagnoses),
    }


def diagnoses_json(diagnoses: Iterable[Diagnosis], fitting: Fitting | None = None) -> bytes:
    """The ``diagnoses`` array of a document, compact, in UTF-8: one part for :func:`assemble_report`."""
    return encode_compact([_diagnosis_dict(d, shared=True, fitting=fitting) for d in diagnoses])


def assemble_report(
    evaluated_at: datetime,
    knowledge: Knowledge,
    parts: Iterable[bytes | memoryview],
    omitted: int,
    sections: Iterable[dict[str, Any]],
) -> list[bytes | memoryview]:
    """The pieces of :func:`report_to_dict`'s compact document, from diagnoses judged in parts, in order.

    ``parts`` are :func:`diagnoses_json` arrays and ``sections`` the :func:`knowledge_to_dict` of each
    part. Joined, the pieces are the very bytes of ``dumps(report_to_dict(report, knowledge))``; they
    are left apart (the parts' items are views, not copies) because a big log's document runs to
    megabytes, to be written piece by piece.
    """
    evaluated = format_iso(evaluated_at.timestamp())
    head = dumps({"schema": SCHEMA, "evaluated_at": evaluated, "rates": knowledge.provenance})
    tail = dumps({"omitted": omitted, "knowledge": merge_knowledge(sections)})
    pieces: list[bytes | memoryview] = [f'{head[:-1]},"diagnoses":['.encode()]
    for part in parts:
        items = memoryview(part)[1:-1]  # without the array's brackets
        if items:
            pieces.extend((b",", items) if len(pieces) > 1 else (items,))
    pieces.append(f"],{tail[1:]}".encode())
    return pieces


def merge_knowledge(sections: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One ``knowledge`` section from those of consecutive runs of diagnoses, as if made from all of them."""
    workarounds: dict[str, Any] = {}
    dead_ends: dict[str, Any] = {}
    for section in sections:  # first mention first, as knowledge_to_dict lists them
        for key, value in section["workarounds"].items():
            workarounds.setdefault(key, value)
        for key, value in section["dead_ends"].items():
            dead_ends.setdefault(key, value)
    return {"workarounds": workarounds, "dead_ends": dead_ends}


def knowledge_to_dict(diagnoses: Iterable[Diagnosis]) -> dict[str, Any]:
    """The workarounds and dead ends the diagnoses name, in full, keyed by id: the ``knowledge`` section."""
    workarounds: dict[str, Workaround] = {}
    dead_ends: dict[str, DeadEnd] = {}
    seen: set[int] = set()
    for diagnosis in diagnoses:
        if id(diagnosis.workarounds) not in seen:  # diagnoses with the same advice share its tuples
            seen.add(id(diagnosis.workarounds))
            for workaround in diagnosis.workarounds:
                workarounds.setdefault(workaround.id, workaround)
        if id(diagnosis.dead_ends) not in seen:
            seen.add(id(diagnosis.dead_ends))
            for dead_end in diagnosis.dead_ends:
                dead_ends.setdefault(dead_end.id, dead_end)
    return {
        "workarounds": {
            w.id: {
                "title": w.title,
                "detail": w.detail,
                "success_rate": w.success_rate,
                "source": w.source,
                "causes": [c.value for c in w.causes],
                "snippet_libraries": sorted(w.snippets),
            }
            for w in workarounds.values()
        },
        "dead_ends": {
            d.id: {
                "title": d.title,
                "why": d.why,
                "fail_rate": d.fail_rate,
                "source": d.source,
                "causes": [c.value for c in d.causes],
                "same_as": d.same_as,
            }
            for d in dead_ends.values()
        },
    }


def diagnosis_to_dict(diagnosis: Diagnosis) -> dict[str, Any]:
    """One diagnosis as its JSON object: a ``diagnoses[]`` item of the contract."""
    return _diagnosis_dict(diagnosis, shared=False)


Fitting = tuple[Expectations, Knowledge]
"""What a snippet is fitted with beyond the token: the API's expectations and the knowledge base's
small-leeway range (``bot.render.snippets.fit_for``), as on the card."""


def _diagnosis_dict(diagnosis: Diagnosis, *, shared: bool, fitting: Fitting | None = None) -> dict[str, Any]:
    """``shared``: the workaround and dead-end lists may be shared with other diagnoses of one document.

    Built once per diagnosis of a big log: the ids' strings are read as ``_value_`` (a StrEnum's value,
    a plain str, without ``.value``'s descriptor), and a diagnosis with none of the optional fields (the
    common case) is one dict display, in the very key order of the general one (tested in
    tests/render/test_json.py).
    """
    token = diagnosis.token
    library = diagnosis.library._value_ if diagnosis.library else None
    token_dict = (
        None
        if token is None
        else {
            "kind": token.kind,
            "redacted": token.redacted,
            "fingerprint": token.fingerprint,
            "header": token.header,
            "claims": token.claims,
        }
    )
    validator_time = None if diagnosis.validator_time is None else format_iso(diagnosis.validator_time)
    if (
        diagnosis.judged_at is None
        and not diagnosis.expected_from
        and not diagnosis.libraries
        and not diagnosis.next_steps
        and diagnosis.in_front is None
    ):
        return {
            "source": diagnosis.source._value_,
            "position": diagnosis.position,
            "token": token_dict,
            "error_text": diagnosis.error_text,
            "validator_time": validator_time,
            "library": library,
            "verdict": diagnosis.verdict._value_,
            "signature": diagnosis.signature._value_,
            "signature_detail": diagnosis.signature_detail,
            "causes": _causes(diagnosis.causes) if diagnosis.causes else [],
            "warnings": _causes(diagnosis.warnings) if diagnosis.warnings else [],
            "checked": [check._value_ for check in diagnosis.checked],
            "workarounds": _workarounds(diagnosis, library, shared, fitting),
            "dead_ends": _dead_ends(diagnosis.dead_ends, shared),
            "skipped_checks": list(diagnosis.skipped_checks),
        }
    return {
        "source": diagnosis.source._value_,
        "position": diagnosis.position,
        "token": token_dict,
        "error_text": diagnosis.error_text,
        "validator_time": validator_time,
        **({"judged_at": format_iso(diagnosis.judged_at)} if diagnosis.judged_at is not None else {}),
        "library": library,
        **({"in_front": diagnosis.in_front} if diagnosis.in_front is not None else {}),
        "verdict": diagnosis.verdict._value_,
        "signature": diagnosis.signature._value_,
        "signature_detail": diagnosis.signature_detail,
        "causes": _causes(diagnosis.causes),
        "warnings": _causes(diagnosis.warnings) if diagnosis.warnings else [],
        "checked": [check._value_ for check in diagnosis.checked],
        **({"expected_from": list(diagnosis.expected_from)} if diagnosis.expected_from else {}),
        **(
            {"libraries": {"differ": diagnosis.libraries_differ, **dict(diagnosis.libraries)}}
            if diagnosis.libraries
            else {}
        ),
        "workarounds": _workarounds(diagnosis, library, shared, fitting),
        "dead_ends": _dead_ends(diagnosis.dead_ends, shared),
        **({"next_steps": list(diagnosis.next_steps)} if diagnosis.next_steps else {}),
        "skipped_checks": list(diagnosis.skipped_checks),
    }


def _causes(causes: tuple[Cause, ...]) -> list[dict[str, Any]]:
    return [
        {
            "id": cause.id._value_,
            "summary": cause.summary,
            "likelihood": cause.likelihood,
            "claims": list(cause.claims),
            "evidence": [
                {
                    "claim": item.claim,
                    "reason": item.reason,
                    "detail": item.detail,
                    "seconds_off": item.seconds_off,
                    "leeway_needed": item.leeway_needed,
                }
                for item in cause.evidence
            ],
        }
        for cause in causes
    ]


# The advice tuples come memoised by Knowledge.advise, so diagnoses with the same causes share them: their
# JSON lists are built once and shared too, keyed by identity with the tuple kept alive. This relies on
# Knowledge.advise's invariant (the same tuples for equal causes and library; tested in
# tests/knowledge/test_advise.py); a miss only costs building the list again.
_ADVICE_LISTS: dict[int, tuple[object, list[dict[str, Any]]]] = {}
_MAX_ADVICE_LISTS = 4096


def _workarounds(
    diagnosis: Diagnosis, library: str | None, shared: bool, fitting: Fitting | None = None
) -> list[dict[str, Any]]:
    workarounds = diagnosis.workarounds
    if not workarounds:
        return []  # a valid token's: nothing to share
    templated, libraries = _traits(workarounds)
    snippets = library is not None and library in libraries
    if shared and not snippets:
        if templated and fitting is not None:
            # Without snippets, only the titles depend on the diagnosis, and only through the card's leeway
            # figure (``fix_title`` reads nothing else of the fit): one list per figure, shared.
            figure = card_figure(diagnosis, fitting[1].small_leeway, fitting[0].skew_window)
            if figure is not None:
                return _titled(workarounds, figure)
        kept = _ADVICE_LISTS.get(id(workarounds))
        if kept is not None and kept[0] is workarounds:
            return kept[1]
        entries = [
            {"id": w.id, "title": w.title, "success_rate": w.success_rate, "source": w.source} for w in workarounds
        ]
        _remember(workarounds, entries)
        return entries
    fit = fit_for(diagnosis, *fitting) if fitting is not None and (snippets or templated) else None
    # not shared, or snippets: the title and the snippet show this diagnosis's leeway figure
    return [
        {
            "id": w.id,
            "title": fix_title(w, fit),
            "success_rate": w.success_rate,
            "source": w.source,
            **(
                {"snippet": _snippet(w.snippets[library], diagnosis, fit)}
                if library is not None and library in w.snippets
                else {}
            ),
        }
        for w in workarounds
    ]


_TITLED: dict[tuple[int, LeewayFigure], tuple[tuple[Workaround, ...], list[dict[str, Any]]]] = {}


def _titled(workarounds: tuple[Workaround, ...], figure: LeewayFigure) -> list[dict[str, Any]]:
    """The shared list of ``workarounds`` titled for a card whose leeway figure is ``figure``."""
    key = (id(workarounds), figure)
    kept = _TITLED.get(key)
    if kept is not None and kept[0] is workarounds:
        return kept[1]
    fit = Fit(leeway=figure)
    entries = [
        {"id": w.id, "title": fix_title(w, fit), "success_rate": w.success_rate, "source": w.source}
        for w in workarounds
    ]
    if len(_TITLED) >= _MAX_ADVICE_LISTS:
        _TITLED.clear()
    _TITLED[key] = (workarounds, entries)
    return entries


_TRAITS: dict[int, tuple[tuple[Workaround, ...], bool, frozenset[str]]] = {}


def _traits(workarounds: tuple[Workaround, ...]) -> tuple[bool, frozenset[str]]:
    """Whether any of the workarounds has a title template (only the leeway fix: most diagnoses have none),
    and the libraries any of them has a snippet for. Memoised by identity with the tuple kept alive, as
    the lists above (Knowledge.advise's invariant); a miss only costs looking again."""
    kept = _TRAITS.get(id(workarounds))
    if kept is not None and kept[0] is workarounds:
        return kept[1], kept[2]
    templated = any(w.title_template for w in workarounds)
    libraries = frozenset(name for w in workarounds for name in w.snippets)
    if len(_TRAITS) >= _MAX_ADVICE_LISTS:
        _TRAITS.clear()
    _TRAITS[id(workarounds)] = (workarounds, templated, libraries)
    return templated, libraries


def _dead_ends(dead_ends: tuple[DeadEnd, ...], shared: bool) -> list[dict[str, Any]]:
    if not shared:
        return [{"id": d.id, "title": d.title, "fail_rate": d.fail_rate, "source": d.source} for d in dead_ends]
    kept = _ADVICE_LISTS.get(id(dead_ends))
    if kept is not None and kept[0] is dead_ends:
        return kept[1]
    entries = [{"id": d.id, "title": d.title, "fail_rate": d.fail_rate, "source": d.source} for d in dead_ends]
    _remember(dead_ends, entries)
    return entries


def _remember(advice: object, entries: list[dict[str, Any]]) -> None:
    if len(_ADVICE_LISTS) >= _MAX_ADVICE_LISTS:
        _ADVICE_LISTS.clear()
    _ADVICE_LISTS[id(advice)] = (advice, entries)


def summary_to_dict(report: Report) -> dict[str, Any]:
    verdicts: Counter[str] = Counter({verdict.value: 0 for verdict in Verdict})
    verdicts.update(d.verdict.value for d in report.diagnoses)
    return {
        "schema": SUMMARY_SCHEMA,
        "evaluated_at": format_iso(report.evaluated_at.timestamp()),
        "total": len(report.diagnoses),
        "verdicts": dict(verdicts),
        # of the "valid" ones: audience, issuer or signature not checked (so not called valid on screen)
        "valid_not_fully_checked": sum(
            1 for d in report.diagnoses if d.verdict is Verdict.VALID and not d.fully_checked
        ),
        "causes": dict(cause_counts(report.diagnoses).most_common()),
        "warnings": dict(Counter(cause.id.value for d in report.diagnoses for cause in d.warnings).most_common()),
        "libraries": dict(Counter(d.library.value for d in report.diagnoses if d.library).most_common()),
    }


def cause_counts(diagnoses: Iterable[Diagnosis]) -> Counter[str]:
    return Counter(cause.id.value for d in diagnoses for cause in d.causes)


def dumps(document: dict[str, Any] | list[Any], *, indent: int | None = None) -> str:
    """The document as JSON text: compact (:func:`encode_compact`) unless ``indent`` asks for a person's layout.

    Either way the text holds no lone surrogate (a claim may carry one, from a ``\\ud800`` escape in the
    token): it is written back as that escape, so the text can be encoded and printed.
    """
    if indent is None:
        return encode_compact(document).decode()
    text = json.dumps(document, ensure_ascii=False, indent=indent, default=str)
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode()


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME  # to ``default``, as json does


def encode_compact(document: dict[str, Any] | list[Any]) -> bytes:
    """Compact JSON in UTF-8, by orjson: twelve times faster than the standard library on a big log's report,
    which made the encoding the largest part of ``jwtcheck --json`` on thousands of tokens.

    orjson refuses integers beyond 64 bits and lone surrogates, both of which a hostile token can hold;
    the standard library writes those documents (the same JSON values; a float may show its exponent
    as ``1e22`` here and ``1e+22`` there).
    """
    try:
        return orjson.dumps(document, default=str, option=_ORJSON_OPTIONS)
    except TypeError:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False)
        return text.encode("utf-8", "backslashreplace")


def _snippet(snippet: Snippet, diagnosis: Diagnosis, fit: Fit | None) -> dict[str, str]:
    return {
        "library": snippet.library,
        "version": snippet.version,
        "language": snippet.language,
        "code": snippet_code(snippet, diagnosis, fit),
    }
