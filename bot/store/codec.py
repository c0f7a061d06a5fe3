"""How every value the bot keeps in the store is written and read back: one codec, versioned.

Three kinds of value, each a compact JSON array whose first item is its tag, ``"<kind>/<version>"``:

- ``facts/1``: a token's :class:`~bot.diagnosis.TokenFacts`, the cache of the checks that do not
  depend on the instant (``diag:…`` keys, :func:`encode_facts` / :func:`decode_facts`);
- ``card/5``: a posted card's state for clicks (``card:…``, :func:`encode_card` / :func:`decode_card`):
  where it was posted, its :class:`~bot.render.blocks.CardOptions` (votes excepted: they are read
  fresh) and its Diagnosis, whose workarounds and dead ends are kept by id and looked up again in the
  Knowledge when read, so a knowledge update reaches old cards too. A card in a modal view (a private
  check) is written as ``card/5``, with the view's id as the options' last item; every other card as
  ``card/4`` (``card/5`` without that item), so that the version before reads it as before (the clock
  rows' trick). ``card/3`` (without the options' item ``judged_against``) is still read, with none; ``card/2``
  (the options' seventh item the measured leeway, not the card's :class:`~bot.render.snippets.Fit`)
  and ``card/1`` (the same, and no diagnosis ``next_steps``) are still read: with no fit (drawn fitted
  to the token alone), no steps;
- ``clock/2``: one clock :class:`~bot.diagnosis.clock.Observation`, a row of a channel's clock book
  (``clock:…``) or a probe reading (``probe:…``), :func:`encode_observation` / :func:`decode_observations`.
  A reading that counts is written as ``clock/1`` (``clock/2`` without the reason a reading is kept out),
  so that the version before reads it as before; one kept out as ``clock/2``, which that version skips.

The version rule: a change to a layout bumps its kind's version, and a reader reads its own version
and the older ones it still knows; anything else reads as ``None``: a cache miss for facts, a row
skipped for the clock book, "written by another version" for a card. So a deploy in the middle of an
incident neither misreads what the previous version wrote nor fails on it. Version 0 is what the bot
wrote before this codec, with no tag: card states held the public JSON contract's diagnosis object
(:func:`_card_v0` still reads them), clock rows were ``[lower, upper, at, kind]`` (still read); the
facts cache of then is simply missed.

The layouts are positional. The model's named tuples (:class:`TokenView`, :class:`Evidence`,
:class:`Finding`, :class:`Cause`, :class:`TokenFacts`) are written as JSON arrays of their fields in
order, which the standard encoder does natively, with no Python loop: ``tests/store/test_codec.py``
pins their field lists, so a model change that would change a layout fails there until the version
is bumped. This is storage, not the public JSON contract (``bot/render/json.py``): its layouts change
with a version bump, the contract does not. No value holds a signature or a secret: token views are
redacted before they get here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

from bot.diagnosis import (
    Cause,
    CauseId,
    Diagnosis,
    Evidence,
    Finding,
    Library,
    Reason,
    SignatureStatus,
    Source,
    TokenFacts,
    TokenView,
    Verdict,
)
from bot.diagnosis.clock import SLACK, Observation
from bot.diagnosis.ids import Checked
from bot.diagnosis.leeway import LeewayFigure
from bot.knowledge import Knowledge
from bot.render.blocks import CardOptions
from bot.render.snippets import Fit

FACTS = "facts/1"
CARD = "card/4"  # a card in a message: card/5 without the options' view_id, as the version before reads it
CARD_IN_VIEW = "card/5"  # a card in a modal view: the options end with its view_id
CARD_V3 = "card/3"  # before CardOptions.judged_against: still read, with none
CARD_V2 = "card/2"  # before CardOptions.fit (the measured leeway in its place): still read, with no fit
CARD_V1 = "card/1"  # before Diagnosis.next_steps too: still read (with no next steps)
CLOCK = "clock/2"
CLOCK_V1 = "clock/1"  # before Observation.kept_out: still read (as counted)

# The enums by value, for the readers: a dict lookup costs a fraction of ``Reason(value)``, and the facts
# are read at every cache hit (an unknown value raises KeyError, an unhashable one TypeError).
_CAUSES = {item.value: item for item in CauseId}
_REASONS = {item.value: item for item in Reason}
_SIGNATURES = {item.value: item for item in SignatureStatus}
_CHECKS = {item.value: item for item in Checked}

# What a value that is not of the expected layout raises while being read (a wrong type, a missing
# item, an unknown enum value, a knowledge id gone): the readers turn all of it into None.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _plain(value: object) -> object:
    """Header and claims are mappings (the decoder's dicts, or read-only views of them)."""
    return dict(value) if isinstance(value, Mapping) else str(value)


# The standard encoder, built once (``json.dumps`` with options builds one per call, which costs more than
# encoding a clock row). ensure_ascii, its default: a claim may hold a lone surrogate, which only an escape
# can carry into the store's UTF-8; it also writes integers of any size, which orjson refuses.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_plain, check_circular=False)
_dumps = _ENCODER.encode


# --- facts ------------------------------------------------------------------------------------------


def encode_facts(facts: TokenFacts) -> str:
    """``["facts/1", view, findings, skipped, readable, malformed, signature, signature_detail,
    keys_configured]``: the fields of :class:`TokenFacts` in order, named tuples as arrays."""
    return _dumps([FACTS, *facts])


def decode_facts(text: str) -> TokenFacts | None:
    """The facts :func:`encode_facts` wrote, or None (a cache miss) for anything else: damaged, of another
    version, or of another kind."""
    try:
        data = json.loads(text)
        if not isinstance(data, list) or not data or data[0] != FACTS:
            return None
        _, view, findings, skipped, readable, malformed, signature, detail, keys_configured = data
        return TokenFacts(
            view=_view(view),
            findings=tuple(_finding(item) for item in findings),
            skipped=tuple(_text(item) for item in skipped),
            readable=_flag(readable),
            malformed=_flag(malformed),
            signature=_SIGNATURES[signature],
            signature_detail=_text(detail),
            keys_configured=_flag(keys_configured),
        )
    except _UNREADABLE:
        return None


# --- card state -------------------------------------------------------------------------------------


class CardFields(NamedTuple):
    """What a card's state holds: where it was posted, how it is drawn, what it says.

    ``bot.chat.cards.CardState`` is this with its behaviour; the codec reads and writes these fields.
    """

    team: str
    channel: str
    evaluated_at: float  # the instant the diagnosis was judged at (epoch seconds)
    ts: str | None  # the card message, once posted (None for an ephemeral card)
    thread_ts: str | None
    options: CardOptions  # votes are not kept: they are read fresh at every drawing
    diagnosis: Diagnosis


def encode_card(card: CardFields) -> str:
    """``["card/4", card_id, team, channel, evaluated_at, ts, thread_ts, options, diagnosis]`` where
    options are ``[expanded_library, live_token_warning, revision, ephemeral, compact, clock_note, fit,
    judged_against]``, and ``"card/5"`` with the options' ``view_id`` after them for a card in a view
    (``fit`` null or the :class:`Fit`'s fields in order, its leeway figure ``[needed, recommended, own]``
    or null) and the diagnosis is its fields in order (the model's named tuples as arrays),
    its workarounds and dead ends by id."""
    options, d = card.options, card.diagnosis
    in_view = [options.view_id] if options.view_id is not None else []
    return _dumps(
        [
            CARD_IN_VIEW if in_view else CARD,
            options.card_id,
            card.team,
            card.channel,
            card.evaluated_at,
            card.ts,
            card.thread_ts,
            [
                options.expanded_library,
                options.live_token_warning,
                options.revision,
                options.ephemeral,
                options.compact,
                options.clock_note,
                options.fit,
                options.judged_against,
                *in_view,
            ],
            [
                d.source,
                d.position,
                d.verdict,
                d.causes,
                d.token,
                d.library,
                d.signature,
                d.signature_detail,
                d.skipped_checks,
                d.error_text,
                d.validator_time,
                d.judged_at,
                [w.id for w in d.workarounds],
                [x.id for x in d.dead_ends],
                d.warnings,
                d.checked,
                d.expected_from,
                d.libraries,
                d.libraries_differ,
                d.next_steps,
            ],
        ]
    )


def decode_card(text: str, knowledge: Knowledge) -> CardFields | None:
    """The card state :func:`encode_card` wrote (or the bot wrote before this codec), its advice looked up
    in ``knowledge``; None for a value this version cannot read (a newer layout, damage)."""
    try:
        data = json.loads(text)
        if isinstance(data, list) and data and data[0] in (CARD_IN_VIEW, CARD, CARD_V3, CARD_V2, CARD_V1):
            return _card_v1(data, knowledge)
        if isinstance(data, dict) and "diagnosis" in data:
            return _card_v0(data, knowledge)
    except _UNREADABLE:
        pass
    return None


def _card_v1(data: list[Any], knowledge: Knowledge) -> CardFields:
    """``card/5``; ``card/4`` (no ``view_id``); ``card/3`` (no ``judged_against`` either); ``card/2`` (no fit
    either); ``card/1`` (no fit, and no
    ``next_steps`` at the diagnosis's end)."""
    tag, card_id, team, channel, evaluated_at, ts, thread_ts, options, diagnosis = data
    view_id = against = None
    if tag == CARD_IN_VIEW:
        expanded, live, revision, ephemeral, compact, note, fit, against, view_id = options
        if view_id is None:
            raise ValueError("a card/5 lives in a view")
    elif tag == CARD:
        expanded, live, revision, ephemeral, compact, note, fit, against = options
    else:
        expanded, live, revision, ephemeral, compact, note, fit = options
    if tag not in (CARD_IN_VIEW, CARD, CARD_V3):
        fit = None  # card/2 and card/1 kept the measured leeway here: the card is drawn fitted to its token
    if tag != CARD_V1:
        *diagnosis, next_steps = diagnosis
    else:
        next_steps = []
    (
        source,
        position,
        verdict,
        causes,
        token,
        library,
        signature,
        signature_detail,
        skipped,
        error_text,
        validator_time,
        judged_at,
        workarounds,
        dead_ends,
        warnings,
        checked,
        expected_from,
        libraries,
        libraries_differ,
    ) = diagnosis
    return CardFields(
        team=_text(team),
        channel=_text(channel),
        evaluated_at=_number(evaluated_at),
        ts=_maybe_text(ts),
        thread_ts=_maybe_text(thread_ts),
        options=CardOptions(
            card_id=_text(card_id),
            expanded_library=_maybe_text(expanded),
            live_token_warning=_flag(live),
            revision=_whole(revision),
            ephemeral=_flag(ephemeral),
            compact=_flag(compact),
            clock_note=_maybe_text(note),
            fit=None if fit is None else _fit(fit),
            judged_against=_maybe_text(against),
            view_id=_maybe_text(view_id),
        ),
        diagnosis=Diagnosis(
            source=Source(source),
            position=_whole(position),
            verdict=Verdict(verdict),
            causes=tuple(_cause(item) for item in causes),
            token=None if token is None else _view(token),
            library=None if library is None else Library(library),
            signature=SignatureStatus(signature),
            signature_detail=_text(signature_detail),
            skipped_checks=tuple(_text(item) for item in skipped),
            error_text=_maybe_text(error_text),
            validator_time=None if validator_time is None else _number(validator_time),
            judged_at=None if judged_at is None else _number(judged_at),
            workarounds=_advice(knowledge.workarounds, workarounds),
            dead_ends=_advice(knowledge.dead_ends, dead_ends),
            warnings=tuple(_cause(item) for item in warnings),
            checked=tuple(_CHECKS[item] for item in checked),
            expected_from=tuple(_text(item) for item in expected_from),
            libraries=tuple((_text(library), _text(verdict)) for library, verdict in libraries),
            libraries_differ=_maybe_text(libraries_differ),
            next_steps=tuple(_text(item) for item in next_steps),
            in_front=knowledge.in_front(library),  # knowledge, not stored
        ),
    )


def _card_v0(data: dict[str, Any], knowledge: Knowledge) -> CardFields:
    """A card state as the bot wrote it before this codec: its fields as a JSON object, the diagnosis as
    the public contract's ``diagnoses[]`` item (times as ISO 8601, advice as ``{id, …}`` objects)."""
    d = data["diagnosis"]
    token = d.get("token")
    library = d.get("library")
    return CardFields(
        team=_text(data["team"]),
        channel=_text(data["channel"]),
        evaluated_at=_number(data["evaluated_at"]),
        ts=_maybe_text(data.get("ts")),
        thread_ts=_maybe_text(data.get("thread_ts")),
        options=CardOptions(
            card_id=_text(data["card_id"]),
            expanded_library=_maybe_text(data.get("expanded_library")),
            live_token_warning=_flag(data.get("live_token_warning", False)),
            revision=_whole(data.get("revision", 0)),
            ephemeral=_flag(data.get("ephemeral", False)),
            clock_note=_maybe_text(data.get("clock_note")),
        ),
        diagnosis=Diagnosis(
            source=Source(d["source"]),
            position=_whole(d.get("position", 0)),
            verdict=Verdict(d["verdict"]),
            causes=tuple(
                Cause(
                    CauseId(cause["id"]),
                    _text(cause["summary"]),
                    tuple(
                        _evidence(
                            [
                                item["claim"],
                                item["reason"],
                                item["detail"],
                                item.get("seconds_off"),
                                item.get("leeway_needed"),
                            ]
                        )
                        for item in cause["evidence"]
                    ),
                    _number(cause.get("likelihood", 0.5)),
                )
                for cause in d["causes"]
            ),
            token=None
            if token is None
            else _view([token["kind"], token["redacted"], token["fingerprint"], token["header"], token["claims"]]),
            library=Library(library) if library else None,
            signature=SignatureStatus(d["signature"]),
            signature_detail=_text(d["signature_detail"]),
            skipped_checks=tuple(_text(item) for item in d.get("skipped_checks", ())),
            error_text=_maybe_text(d.get("error_text")),
            validator_time=_iso_instant(d.get("validator_time")),
            judged_at=_iso_instant(d.get("judged_at")),
            workarounds=_advice(knowledge.workarounds, [item["id"] for item in d["workarounds"]]),
            dead_ends=_advice(knowledge.dead_ends, [item["id"] for item in d["dead_ends"]]),
        ),
    )


T = TypeVar("T")


def _advice(known: Mapping[str, T], ids: Sequence[Any]) -> tuple[T, ...]:
    """The workarounds (or dead ends) of these ids that the knowledge still has, in order."""
    return tuple(known[item] for item in ids if isinstance(item, str) and item in known)


def _iso_instant(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# --- clock observations -----------------------------------------------------------------------------


def encode_observation(observation: Observation) -> str:
    """``["clock/2", lower, upper, at, kind, kept_out]`` for a reading kept out of the estimate, else
    ``["clock/1", lower, upper, at, kind]``; ``upper`` null when unbounded. The clock and its reference
    are in the key, not in the row."""
    upper = None if math.isinf(observation.upper) else observation.upper
    if observation.kept_out:
        return _dumps([CLOCK, observation.lower, upper, observation.at, observation.kind, observation.kept_out])
    return _dumps([CLOCK_V1, observation.lower, upper, observation.at, observation.kind])


def decode_observations(rows: Sequence[str], clock: str, reference: str = SLACK) -> list[Observation]:
    """The observations of one clock (up to fifty, read back at every answer): one JSON parse for all of
    them; row by row, skipping the unreadable, only if that fails."""
    try:
        decoded = json.loads(f"[{','.join(rows)}]")
        if len(decoded) != len(rows):
            raise ValueError("rows do not match their values")
        return [_observation(clock, reference, row) for row in decoded]
    except _UNREADABLE:
        return [item for raw in rows if (item := decode_observation(raw, clock, reference)) is not None]


def decode_observation(raw: str | None, clock: str, reference: str = SLACK) -> Observation | None:
    """One observation kept in the store, or None for nothing, or anything unreadable."""
    if not raw:
        return None
    try:
        return _observation(clock, reference, json.loads(raw))
    except _UNREADABLE:
        return None


def _observation(clock: str, reference: str, row: Any) -> Observation:
    """Raises on a row that is neither ``clock/2``, ``clock/1`` nor the untagged ``[lower, upper, at, kind]``
    of before.

    Coerces as ``float()`` does rather than checking each type: this runs for every row kept (up to fifty)
    at every answer, and a row is only ever what :func:`encode_observation` wrote, or damage."""
    kept_out = ""
    if row[0] == CLOCK_V1:
        _, lower, upper, at, kind = row
    elif row[0] == CLOCK:
        _, lower, upper, at, kind, kept_out = row
        if not isinstance(kept_out, str) or not kept_out:
            raise ValueError("a clock/2 row says why it is kept out")
    elif len(row) == 4 and not isinstance(row[0], str):
        lower, upper, at, kind = row
    else:
        raise ValueError("not an observation of a version this codec reads")
    return Observation(
        clock, reference, float(lower), math.inf if upper is None else float(upper), float(at), str(kind), kept_out
    )


# --- the model's pieces -----------------------------------------------------------------------------


_KINDS: dict[Any, Literal["jws", "jwe", "opaque"]] = {"jwe": "jwe", "opaque": "opaque"}


def _fit(row: Any) -> Fit:
    leeway, alg, style, audience, issuer, jwks_url, secret_env = row
    figure = None
    if leeway is not None:
        needed, recommended, own = leeway
        figure = LeewayFigure(
            _whole(needed), None if recommended is None else _whole(recommended), None if own is None else _whole(own)
        )
    return Fit(
        figure,
        _maybe_text(alg),
        _text(style),
        _maybe_text(audience),
        _maybe_text(issuer),
        _maybe_text(jwks_url),
        _maybe_text(secret_env),
    )


def _view(row: Any) -> TokenView:
    kind, redacted, fingerprint, header, claims = row
    if not (header is None or isinstance(header, dict)) or not (claims is None or isinstance(claims, dict)):
        raise TypeError("a token's header and claims are objects")
    return TokenView(_KINDS.get(kind, "jws"), _text(redacted), _text(fingerprint), header, claims)


def _evidence(row: Any) -> Evidence:
    claim, reason, detail, seconds_off, leeway_needed = row
    return Evidence(
        _maybe_text(claim),
        _REASONS[reason],
        _text(detail),
        None if seconds_off is None else _number(seconds_off),
        None if leeway_needed is None else _whole(leeway_needed),
    )


def _finding(row: Any) -> Finding:
    cause, evidence, likelihood, summary, warning = row
    return Finding(_CAUSES[cause], _evidence(evidence), _number(likelihood), _maybe_text(summary), _flag(warning))


def _cause(row: Any) -> Cause:
    cause, summary, evidence, likelihood, detail = row
    evidence = tuple(_evidence(item) for item in evidence)
    return Cause(CauseId(cause), _text(summary), evidence, _number(likelihood), _maybe_text(detail))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _maybe_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return float(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a whole number")
    return value


__all__ = [
    "CARD",
    "CARD_IN_VIEW",
    "CLOCK",
    "FACTS",
    "CardFields",
    "decode_card",
    "decode_facts",
    "decode_observation",
    "decode_observations",
    "encode_card",
    "encode_facts",
    "encode_observation",
]
