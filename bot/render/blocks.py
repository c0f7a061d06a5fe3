"""Block Kit: one Diagnosis as a Slack card that answers, in five seconds, what is wrong, what fixes
it and what not to bother with; snippets one click away.

Safety lives here, once:
- every value that came from a token, an error text or a user goes through ``mrkdwn.safe`` (redact,
  printable, escape ``& < >``, then clip entity-aware), in blocks and in the ``text`` fallback;
- every text object, button and block is built by a constructor below that clamps it to Slack's
  limits, and ``fit`` enforces the message-level ones (50 blocks, unique block_ids, a total text
  budget). The constructors build the JSON objects directly, exactly as slack_sdk's block models
  would serialise them (the tests parse every card back with slack_sdk's own validators): the bot
  renders a card per answer, and the model objects cost more than the rest of the answer;
- only ``token.redacted`` is ever shown (it ends in the redaction marker), never a signature;
- button values carry a short card id, never the diagnosis.

Interactive elements: action ids are ``jwtcheck_show_fix:<library>`` and ``jwtcheck_vote:<n>:<vote>``
(Slack wants them unique, at least within a block); register handlers with ``SHOW_FIX_ACTION_RE`` /
``VOTE_ACTION_RE`` and read the button value with ``parse_show_fix_value`` / ``parse_vote_value``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.diagnosis.checks.values import show
from bot.diagnosis.model import (
    Cause,
    Diagnosis,
    Expectations,
    JSONValue,
    Report,
    SignatureStatus,
    Source,
    Verdict,
)
from bot.diagnosis.redact import shorten_redacted
from bot.diagnosis.timefmt import as_timestamp, format_relative, format_utc, is_representable
from bot.knowledge import ANY_LIBRARY, DeadEnd, Knowledge, LibraryVersion, Snippet, Workaround, percent
from bot.render.mrkdwn import clip, code_block, code_span, escape, safe, ulen
from bot.render.snippets import Fit, fit_for, fix_title, snippet_code
from bot.render.text import validator_notes

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block as SdkBlock

Block = dict[str, Any]  # one Block Kit block as JSON; built by the constructors at the end of this module

# --- interactive contract -------------------------------------------------------------------------

ACTION_SHOW_FIX = "jwtcheck_show_fix"
ACTION_VOTE = "jwtcheck_vote"
SHOW_FIX_ACTION_RE = re.compile(r"^jwtcheck_show_fix(?::[A-Za-z0-9_.:-]*)?$")
VOTE_ACTION_RE = re.compile(r"^jwtcheck_vote(?::[A-Za-z0-9_.:-]*)?$")
VOTE_FIXED = "fixed"
VOTE_DIDNT_HELP = "didnt_help"
VOTES = (VOTE_FIXED, VOTE_DIDNT_HELP)
VALUE_SEPARATOR = "|"
CARD_ID_MAX = 128

# --- Slack limits ---------------------------------------------------------------------------------

MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
MAX_FIELDS = 10
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
TEXT_OBJECT_MAX = 3000
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ID_MAX = 255
MESSAGE_TEXT_BUDGET = 11_000  # Slack answers msg_blocks_too_long around 13k characters in total
FALLBACK_TEXT_MAX = 300

# --- card budget ----------------------------------------------------------------------------------

MAX_LIBRARY_BUTTONS = 6  # then a select holds the other stacks
SELECT_OPTIONS_MAX = 100
OPTION_VALUE_MAX = 150
ACTION_SHOW_FIX_MORE = f"{ACTION_SHOW_FIX}:more"
_TOP_EVIDENCE = 200
_TOP_EVIDENCE_COMPACT = 150
_OTHER_EVIDENCE = 110
_SUMMARY_MAX = 110
_CLAIM_MAX = 60
_EXCERPT_MAX = 300
_SNIPPET_CODE_MAX = 2400
_DEAD_ENDS_SHOWN = 4
_NEXT_STEP_MAX = 400

_ICON = {Verdict.VALID: "✅", Verdict.INVALID: "⛔", Verdict.MALFORMED: "⛔", Verdict.UNVERIFIABLE: "⚠️"}
_SIGNATURE_LABEL = {
    SignatureStatus.NOT_CHECKED: "Signature not checked",
    SignatureStatus.VERIFIED: "✅ Signature verified",
    SignatureStatus.INVALID: "⛔ Signature invalid",
    SignatureStatus.KEY_SOURCE_FAILED: "⚠️ Signature not checked: the key source failed",
}
HOW_TO_CHECK = (
    "To check the rest, say what the API expects: reply `aud=… iss=…` with the token, or `service=<name>` "
    "for a configured service (its keys check the signature)."
)
_VERDICT_WORD = {
    Verdict.INVALID: "refused",
    Verdict.MALFORMED: "malformed",
    Verdict.UNVERIFIABLE: "unverifiable",
    Verdict.VALID: "valid",
}


@dataclass(frozen=True, slots=True)
class CardOptions:
    """How to draw one card. The card's state lives in a store under ``card_id``; buttons carry only it.

    ``compact`` (set by ``render_cards`` when one message held several tokens) shows fewer causes
    and fixes.
    """

    card_id: str
    expanded_library: str | None = None
    votes: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: MappingProxyType({}))
    live_token_warning: bool = False
    revision: int = 0
    ephemeral: bool = False
    compact: bool = False
    clock_note: str | None = None  # measured evidence about whose clock is off (plain text, escaped here)
    fit: Fit | None = None  # the card's one leeway figure and what its snippets fit (None: the token alone)
    judged_against: str | None = None  # the configured service named (service= or the channel's binding)
    view_id: str | None = None  # the modal view the card lives in (a private check), else None: a message
    # The stacks bound to the service the card was judged against (its ``stacks``): their fixes get
    # buttons. Not stored with the card: the chat layer reads them from the service at every drawing.
    stacks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.card_id or len(self.card_id) > CARD_ID_MAX or VALUE_SEPARATOR in self.card_id:
            raise ValueError(f"card_id must be 1..{CARD_ID_MAX} characters without {VALUE_SEPARATOR!r}")


@dataclass(frozen=True, slots=True)
class Message:
    """One Slack message: ``text`` is the escaped notification/screen-reader fallback, always set."""

    text: str
    blocks: list[dict[str, Any]]

    def as_kwargs(self) -> dict[str, Any]:
        """For ``say(**m.as_kwargs())`` / ``chat_postMessage(channel=…, **m.as_kwargs())``."""
        return {"text": self.text, "blocks": self.blocks}


def judged_against(service: str) -> str:
    """What a card says of the service it was judged against (escaped): under its header, in its fallback."""
    return f"judged against {safe(service, 64)}"


def show_fix_value(card_id: str, library: str) -> str:
    return f"{card_id}{VALUE_SEPARATOR}{library}"


def vote_value(card_id: str, workaround_id: str, vote: str) -> str:
    return f"{card_id}{VALUE_SEPARATOR}{workaround_id}{VALUE_SEPARATOR}{vote}"


def parse_show_fix_value(value: str) -> tuple[str, str] | None:
    """``(card_id, library)`` from a show-fix button value, or None when it is not one."""
    parts = value.split(VALUE_SEPARATOR)
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def parse_vote_value(value: str) -> tuple[str, str, str] | None:
    """``(card_id, workaround_id, vote)`` from a vote button value, or None when it is not one."""
    parts = value.split(VALUE_SEPARATOR)
    if len(parts) != 3 or not all(parts) or parts[2] not in VOTES:
        return None
    return parts[0], parts[1], parts[2]


# --- public API -----------------------------------------------------------------------------------


def render_card(diagnosis: Diagnosis, now: float, knowledge: Knowledge, options: CardOptions) -> Message:
    """One Diagnosis as one card."""
    card = _Card(diagnosis, now, knowledge, options)
    return Message(text=card.fallback(), blocks=fit(card.blocks(), options.card_id, options.revision))


def render_cards(
    report: Report,
    knowledge: Knowledge,
    options_for: Callable[[int, Diagnosis], CardOptions],
    max_cards: int = 5,
) -> list[Message]:
    """One card per diagnosis (compact when there are several) up to ``max_cards``, then one summary
    message for the rest (including the diagnoses the engine omitted)."""
    now = report.evaluated_at.timestamp()
    diagnoses = report.diagnoses
    if not diagnoses:
        text = "No JWT or known JWT error message found in that text."
        if report.omitted:
            text = f"{report.omitted} items found but not checked (over the limit)."
        return [_text_message(text, "jwtcheck-none")]
    shown = diagnoses[: max(0, max_cards)]
    several = len(diagnoses) > 1
    messages = []
    for index, diagnosis in enumerate(shown):
        options = options_for(index, diagnosis)
        if several and not options.compact:
            options = replace(options, compact=True)
        messages.append(render_card(diagnosis, now, knowledge, options))
    rest = diagnoses[len(shown) :]
    if rest or report.omitted:
        line = f"…and {_summary(rest, report.omitted)}" if rest else f"…and {report.omitted} more not checked"
        messages.append(_text_message(line, f"jwtcheck-rest-{len(shown)}"))
    return messages


def render_summary_line(report: Report) -> str:
    """``3 tokens checked: 2 refused (clock skew, expired), 1 valid`` (already safe for mrkdwn)."""
    if not report.diagnoses:
        return "No JWT or known JWT error message found." + (
            f" {report.omitted} items not checked (over the limit)." if report.omitted else ""
        )
    return _summary(report.diagnoses, report.omitted, verb="checked")


# --- the card -------------------------------------------------------------------------------------


class _Card:
    def __init__(self, diagnosis: Diagnosis, now: float, knowledge: Knowledge, options: CardOptions) -> None:
        self.d = diagnosis
        self.now = now
        self.knowledge = knowledge
        self.options = options
        self.max_causes = 2 if options.compact else 3
        self.max_fixes = 3 if options.compact else 5
        self.max_vote_rows = 2 if options.compact else 3
        self.fixes = diagnosis.workarounds[: self.max_fixes]
        self.expanded = self._expanded_library()
        self.fit = options.fit if options.fit is not None else fit_for(diagnosis, Expectations(), knowledge)

    # header and fallback

    def headline(self) -> str:
        """Verdict + top cause, escaped (not clipped)."""
        d, top = self.d, self.d.top_cause
        icon = _ICON[d.verdict]
        summary = safe(top.summary, _SUMMARY_MAX) if top else ""
        if d.verdict is Verdict.VALID and not d.fully_checked:
            unchecked = ", ".join(check.value.replace("_", " ") for check in d.unchecked)
            return f"🔎 No problem found, but {unchecked} not checked"
        if d.verdict is Verdict.VALID:
            return f"{icon} Token valid"
        if d.source is Source.ERROR_TEXT:
            if d.next_steps and summary:  # a generic refusal: its causes are ranked, not found
                return f"{icon} JWT refused, no claim named: first check {summary}"
            return f"{icon} Error: {summary}" if summary else f"{icon} JWT error message recognised"
        lead = {
            Verdict.INVALID: "Token refused",
            Verdict.MALFORMED: "Malformed token",
            Verdict.UNVERIFIABLE: "Token can't be checked",
        }[d.verdict]
        return f"{icon} {lead}: {summary}" if summary else f"{icon} {lead}"

    def fallback(self) -> str:
        against = self.options.judged_against
        return clip(self.headline() + (f" ({judged_against(against)})" if against else ""), FALLBACK_TEXT_MAX)

    # blocks

    def blocks(self) -> list[Block]:
        out: list[Block] = [_header(self.headline(), "head")]
        if self.options.judged_against:
            out.append(_context([f"🎯 {judged_against(self.options.judged_against)}"], "against"))
        out.append(_section(self._why(), "why"))
        if self.options.clock_note:
            out.append(_context([f"🕒 {safe(self.options.clock_note, 600)}"], "clock"))
        if self.d.next_steps:
            out.append(_section(self._next_steps(), "next"))
        out.extend(self._fixes())
        if self.d.dead_ends:
            out.append(_section(self._dead_ends(), "dead"))
        out.append(self._facts())
        if self.options.live_token_warning and self.d.token is not None:
            out.append(_section(self._live_warning(), "live"))
        libraries = self._library_buttons()
        if libraries is not None:
            out.append(libraries)
        if self.d.workarounds or self.d.dead_ends:
            provenance = escape(self.knowledge.provenance)
            out.append(_context([f"{provenance}; “here” counts this workspace's votes."], "rates"))
        return out

    def _why(self) -> str:
        d = self.d
        lines: list[str] = []
        if d.source is Source.ERROR_TEXT:
            library = self._library_display(d.library.value) if d.library else None
            excerpt = safe(d.error_text or "", _EXCERPT_MAX)
            shown = code_span(excerpt) if excerpt else "(empty)"
            lines.append(f"*Error text{f' from {escape(library)}' if library else ''}:* {shown}")
            for note in validator_notes(d, self.knowledge):
                lines.append(f"_{safe(note, 400)}_")
        causes = d.causes[: self.max_causes]
        for index, cause in enumerate(causes):
            lines.append(self._cause_line(cause, index, len(d.causes)))
        if len(d.causes) > len(causes):
            more = ", ".join(c.id.value.replace("_", " ") for c in d.causes[len(causes) :])
            lines.append(f"_Also: {clip(escape(more), 200)}_")
        if d.verdict is Verdict.VALID and not d.fully_checked:
            checked = ", ".join(check.value.replace("_", " ") for check in d.checked)
            lines.append(f"Checked: {escape(checked)}; nothing wrong there. {HOW_TO_CHECK}")
        elif d.verdict is Verdict.VALID:
            lines.append("All checks that could run passed.")
        if d.verdict is Verdict.VALID:
            skipped = [item for item in d.skipped_checks if not item.startswith("signature")]
            if skipped:
                lines.append(f"_Not checked:_ {safe('; '.join(skipped), 300)}")
        for note in d.expected_from:
            lines.append(f"_Judged with {safe(note, 300)}._")
        if d.error_text and d.source is Source.TOKEN:
            lines.append(f"*Error text beside it:* {code_span(safe(d.error_text, _EXCERPT_MAX))}")
        if d.libraries_differ and not self.options.compact:
            lines.append(f"*Libraries differ:* {safe(d.libraries_differ, 600)}")
        for warning in d.warnings[: 1 if self.options.compact else 2]:
            lines.append(f"_Worth knowing (refuses nothing):_ {safe(warning.summary, _SUMMARY_MAX)}")
        if d.source is Source.TOKEN:
            lines.append(self._signature_line())
        return "\n".join(lines)

    def _cause_line(self, cause: Cause, index: int, total: int) -> str:
        if index == 0:
            limit = _TOP_EVIDENCE_COMPACT if self.options.compact else _TOP_EVIDENCE
        else:
            limit = 0 if self.options.compact else _OTHER_EVIDENCE
        evidence = _condense(cause, limit) if limit else ""
        if total == 1 and evidence:
            return evidence  # the header already names the only cause
        summary = safe(cause.summary, _SUMMARY_MAX)
        return f"• *{summary}*" + (f" — {evidence}" if evidence else "")

    def _signature_line(self) -> str:
        d = self.d
        label = _SIGNATURE_LABEL[d.signature]
        detail = d.signature_detail.strip()
        for prefix in ("signature", "not checked", "verified", "invalid"):  # the label says these
            if detail.casefold().startswith(prefix):
                detail = detail[len(prefix) :].lstrip(" :-—")
        return f"{label} ({safe(detail, 160)})." if detail else f"{label}."

    def _next_steps(self) -> str:
        """The next steps (our own data, escaped all the same), one bullet each."""
        lines = ["*Next steps*", *(f"• {clip(escape(step), _NEXT_STEP_MAX)}" for step in self.d.next_steps)]
        return clip("\n".join(lines), SECTION_TEXT_MAX)

    def _fixes(self) -> list[Block]:
        if not self.fixes:
            return []
        blocks: list[Block] = []
        rest: list[str] = []
        for number, workaround in enumerate(self.fixes, start=1):
            line = self._fix_line(number, workaround)
            if number == 1:
                line = "*What fixes it*\n" + line
            if number <= self.max_vote_rows:
                blocks.append(_section(line, f"fix{number}"))
                blocks.append(self._vote_buttons(number, workaround))
                if self.expanded is not None:
                    blocks.append(self._snippet_block(number, workaround, self.expanded))
            else:
                rest.append(line)
        if rest:
            hidden = len(self.d.workarounds) - len(self.fixes)
            if hidden > 0:
                rest.append(f"_+{hidden} more fixes_")
            blocks.append(_section("\n".join(rest), "fixmore"))
            if self.expanded is not None:
                for number, workaround in enumerate(self.fixes, start=1):
                    if number > self.max_vote_rows:
                        blocks.append(self._snippet_block(number, workaround, self.expanded))
        elif len(self.d.workarounds) > len(self.fixes):
            hidden = len(self.d.workarounds) - len(self.fixes)
            blocks.append(_context([f"+{hidden} more fixes"], "fixmore"))
        return blocks

    def _fix_line(self, number: int, workaround: Workaround) -> str:
        parts = [f"*{number}.* {escape(fix_title(workaround, self.fit))}"]
        if workaround.success_rate is not None:
            parts.append(f"*{percent(workaround.success_rate)}*")
        fixed, total = self._votes(workaround.id)
        if total:
            parts.append(f"{fixed} of {total} here")
        return clip(" · ".join(parts), 400)

    def _votes(self, workaround_id: str) -> tuple[int, int]:
        counts = self.options.votes.get(workaround_id, {})
        fixed = _count(counts.get(VOTE_FIXED, 0))
        return fixed, fixed + _count(counts.get(VOTE_DIDNT_HELP, 0))

    def _vote_buttons(self, number: int, workaround: Workaround) -> Block:
        card_id = self.options.card_id
        buttons = [
            _button(
                "This fixed it", f"{ACTION_VOTE}:{number}:{VOTE_FIXED}", vote_value(card_id, workaround.id, VOTE_FIXED)
            ),
            _button(
                "Didn't help",
                f"{ACTION_VOTE}:{number}:{VOTE_DIDNT_HELP}",
                vote_value(card_id, workaround.id, VOTE_DIDNT_HELP),
            ),
        ]
        return _actions(buttons, f"vote{number}")

    def _snippet_block(self, number: int, workaround: Workaround, library: str) -> Block:
        display = self._library_display(library)
        snippet = _snippet(workaround, library)
        if snippet is None:
            return _context([f"{number}. No {escape(display)} snippet for this fix."], f"snip{number}")
        version = f" {escape(snippet.version)}" if snippet.version else ""
        who = "For any stack" if snippet.library == ANY_LIBRARY else escape(display)
        head = f"*{number}. {who}{version}*" + (f" · {escape(snippet.language)}" if snippet.language else "")
        lines = [head]
        if workaround.detail:
            lines.append(clip(escape(workaround.detail), 280))
        code = snippet_code(snippet, self.d, self.fit)
        lines.append(code_block(clip(escape(code), _SNIPPET_CODE_MAX)))
        if snippet.note:
            lines.append(f"_{clip(escape(snippet.note), 200)}_")
        return _section("\n".join(lines), f"snip{number}")

    def _dead_ends(self) -> str:
        items = [_dead_end_item(dead_end) for dead_end in self.d.dead_ends[:_DEAD_ENDS_SHOWN]]
        hidden = len(self.d.dead_ends) - len(items)
        if hidden > 0:
            items.append(f"+{hidden} more")
        return clip("*Don't bother:* " + " · ".join(items), 700)

    def _facts(self) -> Block:
        d = self.d
        if d.source is Source.ERROR_TEXT or d.token is None:
            return _context(
                ["Only the error message was read: paste the token too and its claims get checked."], "facts"
            )
        token = d.token
        elements: list[str] = []
        claims = _claim_facts(token.claims, token.header, self.now)
        if claims:
            elements.append(claims)
        shown = token.redacted if token.kind == "opaque" else shorten_redacted(token.redacted, 14, 12)
        elements.append(f"token {code_span(safe(shown, 120))}")
        elements.append(f"fingerprint {safe(_short_fingerprint(token.fingerprint), 40)}")
        return _context([" · ".join(elements)], "facts")

    def _live_warning(self) -> str:
        token = self.d.token
        exp = token.claims.get("exp") if token is not None and token.claims is not None else None
        until = as_timestamp(exp)
        where = "Your message above" if self.options.ephemeral else "The message above"
        if until is None or not is_representable(until):
            return f"⚠️ {where} exposes a token with no expiry: delete it and rotate the token."
        if until > self.now:
            until_text = _short_utc(until, self.now)
            return f"⚠️ {where} exposes a live token until {until_text}: delete it and rotate the token."
        return (
            f"⚠️ {where} exposes a token (exp {_short_utc(until, self.now)}) that a lenient validator may still "
            "accept: delete it and rotate the token."
        )

    def _library_buttons(self) -> Block | None:
        """Buttons for the recognised stack, the service's stacks and the card's libraries; a select for the
        other stacks that have a snippet for one of the card's fixes."""
        if not self.fixes:
            return None
        recognised = self.d.library.value if self.d.library else None
        first, rest = self.knowledge.fix_libraries(recognised, self.options.stacks)
        with_snippets = [lib for lib in (*first, *rest) if any(w.snippets.get(lib.library) for w in self.fixes)]
        shown = [lib for lib in first if lib in with_snippets][:MAX_LIBRARY_BUTTONS]
        if not shown and any(ANY_LIBRARY in w.snippets for w in self.fixes):
            shown = list(first[:MAX_LIBRARY_BUTTONS])  # only stack-neutral fixes: any button shows them
        elements: list[dict[str, Any]] = [
            _button(
                f"Show fix: {lib.display}",
                f"{ACTION_SHOW_FIX}:{index}",
                show_fix_value(self.options.card_id, lib.library),
                style="primary" if lib.library == self.expanded else None,
            )
            for index, lib in enumerate(shown)
        ]
        more = [lib for lib in with_snippets if lib not in shown][:SELECT_OPTIONS_MAX]
        select = self._more_stacks(more) if more else None
        if select is not None:
            elements.append(select)
        return _actions(elements, "libs") if elements else None

    def _more_stacks(self, libraries: Sequence[LibraryVersion]) -> dict[str, Any] | None:
        """The "Other stacks…" select (None when no option's value fits Slack's 150 characters: a long
        card id)."""
        values = [(lib, show_fix_value(self.options.card_id, lib.library)) for lib in libraries]
        kept = [(lib, value) for lib, value in values if ulen(value) <= OPTION_VALUE_MAX]
        options = [_option(lib.display, value) for lib, value in kept]
        if not options:
            return None
        select: dict[str, Any] = {
            "action_id": ACTION_SHOW_FIX_MORE,
            "options": options,
            "placeholder": _plain("Other stacks…", BUTTON_TEXT_MAX),
            "type": "static_select",
        }
        chosen = next(
            (option for option, (lib, _) in zip(options, kept, strict=True) if lib.library == self.expanded), None
        )
        if chosen is not None:
            select["initial_option"] = chosen
        return select

    def _library_display(self, library: str) -> str:
        for lib in self.knowledge.libraries_for(library):  # a known library comes first
            if lib.library == library:
                return lib.display
        return clip(safe(library), 40)

    def _expanded_library(self) -> str | None:
        library = self.options.expanded_library
        return library if library else None


# --- pieces ---------------------------------------------------------------------------------------


def _condense(cause: Cause, limit: int) -> str:
    """One line for a cause: its first piece of evidence (clipped) and the other claims behind it."""
    if not cause.evidence:
        return ""
    first = cause.evidence[0]
    others = [claim for claim in cause.claims if claim != first.claim]
    text = safe(first.detail, limit)
    if others:
        text += f" _(same for {safe(', '.join(others), 60)})_"
    elif len(cause.evidence) > 1:
        text += f" _(+{len(cause.evidence) - 1} more)_"
    return text


def _dead_end_item(dead_end: DeadEnd) -> str:
    title = escape(_lower_first(dead_end.title))
    return f"{title} ({percent(dead_end.fail_rate)} fail)" if dead_end.fail_rate is not None else title


def _claim_facts(claims: Mapping[str, JSONValue] | None, header: Mapping[str, JSONValue] | None, now: float) -> str:
    parts: list[str] = []
    if header is not None and "alg" in header:
        parts.append(f"alg {_value(header['alg'], 20)}")
    if claims is None:
        if header is not None and "enc" in header:
            parts.append(f"enc {_value(header['enc'], 30)}")
        return " · ".join(parts)
    for name in ("iss", "aud", "sub"):
        if name in claims:
            parts.append(f"{name} {_value(claims[name], _CLAIM_MAX)}")
    if "exp" in claims:
        exp = as_timestamp(claims["exp"])
        if exp is not None and is_representable(exp):
            parts.append(f"exp {format_relative(exp, now)} ({_short_utc(exp, now)})")
        else:
            parts.append(f"exp {_value(claims['exp'], 40)}")
    else:
        parts.append("no exp")
    return " · ".join(parts)


def _value(value: JSONValue, limit: int) -> str:
    """A claim value, compact and safe: strings bare, lists joined, everything else as JSON."""
    if isinstance(value, str):
        return safe(value, limit)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        joined = ", ".join(str(item) for item in value[:5]) + (f" +{len(value) - 5}" if len(value) > 5 else "")
        return safe(joined, limit)
    return safe(show(value, limit + 10), limit)


def _short_utc(timestamp: float, now: float) -> str:
    stamp = format_utc(timestamp)  # "2026-11-28 21:04:05 UTC"
    if not is_representable(timestamp):
        return stamp
    if abs(timestamp - now) < 20 * 3600:
        return f"{stamp[11:16]} UTC"
    return f"{stamp[:16]} UTC"


def _short_fingerprint(fingerprint: str) -> str:
    return fingerprint if len(fingerprint) <= 9 else f"{fingerprint[:4]}…{fingerprint[-4:]}"


def _snippet(workaround: Workaround, library: str) -> Snippet | None:
    return workaround.snippets.get(library) or workaround.snippets.get(ANY_LIBRARY)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _lower_first(text: str) -> str:
    """ "Regenerating the token" → "regenerating the token"; "JWKS refresh" stays as it is."""
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def _summary(diagnoses: Sequence[Diagnosis], omitted: int, verb: str = "") -> str:
    tokens = sum(1 for d in diagnoses if d.source is Source.TOKEN)
    errors = len(diagnoses) - tokens
    nouns = []
    if tokens:
        nouns.append(f"{tokens} token{'s' if tokens != 1 else ''}")
    if errors:
        nouns.append(f"{errors} error message{'s' if errors != 1 else ''}")
    head = " and ".join(nouns) + (f" {verb}" if verb else "")
    parts = []
    for verdict in (Verdict.INVALID, Verdict.MALFORMED, Verdict.UNVERIFIABLE, Verdict.VALID):
        group = [d for d in diagnoses if d.verdict is verdict]
        if verdict is Verdict.VALID:
            unchecked = [d for d in group if not d.fully_checked]
            if unchecked:
                parts.append(f"{len(unchecked)} with no problem found (audience, issuer or signature not checked)")
            group = [d for d in group if d.fully_checked]
        if not group:
            continue
        text = f"{len(group)} {_VERDICT_WORD[verdict]}"
        causes = Counter(d.top_cause.id.value.replace("_", " ") for d in group if d.top_cause is not None)
        if causes and verdict is not Verdict.VALID:
            shown = [f"{name} ×{n}" if n > 1 else name for name, n in causes.most_common(4)]
            if len(causes) > 4:
                shown.append("…")
            text += f" ({', '.join(shown)})"
        parts.append(text)
    line = f"{head}: {', '.join(parts)}"
    if omitted:
        line += f"; {omitted} more not checked (over the limit)"
    return escape(line)


# --- constructors that clamp ----------------------------------------------------------------------


def _mrkdwn(text: str, limit: int = TEXT_OBJECT_MAX) -> dict[str, Any]:
    return {"text": clip(text, limit) or " ", "type": "mrkdwn", "verbatim": True}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"emoji": True, "text": clip(text, limit) or " ", "type": "plain_text"}


def _header(text: str, name: str) -> Block:
    return {"block_id": name, "text": _plain(text, HEADER_TEXT_MAX), "type": "header"}


def _section(text: str, name: str) -> Block:
    return {"block_id": name, "text": _mrkdwn(text, SECTION_TEXT_MAX), "type": "section"}


def _context(texts: Iterable[str], name: str) -> Block:
    elements = [_mrkdwn(text) for text in list(texts)[:CONTEXT_ELEMENTS_MAX]]
    return {"block_id": name, "elements": elements, "type": "context"}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    if ulen(value) > BUTTON_VALUE_MAX:  # cannot happen with a valid card_id: ids come from the card data
        raise ValueError("button value over Slack's limit")
    if style not in (None, "primary", "danger"):
        raise ValueError(f"no button style {style!r}")
    button: dict[str, Any] = {"action_id": clip(action_id, ID_MAX, ellipsis="")}
    if style is not None:
        button["style"] = style
    button.update(text=_plain(escape(text), BUTTON_TEXT_MAX), type="button", value=value)
    return button


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(escape(text), BUTTON_TEXT_MAX), "value": value}


def _actions(buttons: Sequence[dict[str, Any]], name: str) -> Block:
    return {"block_id": name, "elements": list(buttons)[:ACTIONS_ELEMENTS_MAX], "type": "actions"}


def _text_message(text: str, name: str) -> Message:
    line = clip(text, SECTION_TEXT_MAX)
    return Message(text=clip(line, FALLBACK_TEXT_MAX), blocks=[_section(line, name)])


def _text_size(block: dict[str, Any]) -> int:
    """Characters of text a block carries (what Slack's undocumented aggregate limit seems to count)."""
    size = 0
    stack: list[Any] = [block]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("text"), str):
                size += ulen(item["text"])
            stack.extend(v for k, v in item.items() if k != "text" or not isinstance(v, str))
        elif isinstance(item, list):
            stack.extend(item)
    return size


def fit(blocks: Sequence[Block | SdkBlock], card_id: str, revision: int = 0) -> list[dict[str, Any]]:
    """Message-level limits, in one place: fresh, unique block_ids per revision
    (``jc-<card_id>-r<revision>-<role>``); at most 50 blocks; a total text budget. Blocks that do not
    fit are left out (in order) and a one-line note says so. ``blocks`` are JSON objects, or slack_sdk
    block models."""
    prefix = "jc-" + re.sub(r"[^A-Za-z0-9_-]", "_", card_id)[:64] + f"-r{revision}-"
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    budget = MESSAGE_TEXT_BUDGET
    dropped = 0
    for block in blocks:
        data = block if isinstance(block, dict) else block.to_dict()
        base = clip(prefix + (data.get("block_id") or "b"), ID_MAX - 6, ellipsis="")
        block_id, n = base, 1
        while block_id in seen:
            n += 1
            block_id = f"{base}-{n}"
        seen.add(block_id)
        data = {**data, "block_id": block_id}
        size = _text_size(data)
        if len(out) >= MAX_BLOCKS - 1 or size > budget:
            dropped += 1
            continue
        budget -= size
        out.append(data)
    if dropped:
        note = _context([f"{dropped} part(s) of this card were left out to fit Slack's limits."], "cut")
        note["block_id"] = clip(prefix + "cut", ID_MAX, ellipsis="")
        out.append(note)
    return out
