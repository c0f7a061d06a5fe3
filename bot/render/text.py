"""Terminal text: what is wrong, what fixes it, what not to bother with. Colour only when asked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.diagnosis.checks.values import printable, show
from bot.diagnosis.model import CauseId, Checked, Diagnosis, Report, Source, Verdict
from bot.diagnosis.redact import shorten_redacted
from bot.diagnosis.timefmt import as_timestamp, format_relative, format_utc
from bot.knowledge import Knowledge, percent
from bot.render.json import cause_counts
from bot.render.snippets import Fit, default_fit, fit_for, fix_title, snippet_code

TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")
HEADLINE_CLAIMS = ("iss", "aud", "sub", "azp", "client_id", "scope", "exp", "nbf", "iat")
_VERDICT_LABEL = {
    Verdict.VALID: "VALID",
    Verdict.INVALID: "REFUSED",
    Verdict.MALFORMED: "MALFORMED",
    Verdict.UNVERIFIABLE: "UNVERIFIABLE",
}
NOT_FULLY_CHECKED = "NO PROBLEM FOUND"
HOW_TO_CHECK = {
    Checked.AUDIENCE: "--aud AUD",
    Checked.ISSUER: "--iss ISS",
    Checked.ALGORITHM: "--alg ALG",
    Checked.SIGNATURE: "a key (--jwks URL, --key FILE or --secret-env NAME)",
}


@dataclass(frozen=True, slots=True)
class Style:
    colour: bool = False

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def bold(self, text: str) -> str:
        return self.paint(text, "1")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")

    def verdict(self, verdict: Verdict, text: str) -> str:
        code = {Verdict.VALID: "1;32", Verdict.INVALID: "1;31", Verdict.MALFORMED: "1;31"}.get(verdict, "1;33")
        return self.paint(text, code)


def render_report(
    report: Report,
    knowledge: Knowledge,
    style: Style = Style(),
    *,
    jwks_url: str | None = None,
    secret_env: str | None = None,
    evidence_need: int | None = None,
) -> str:
    """The report on a terminal; each diagnosis's fixes and snippets fitted to the report's expectations
    and the service's key sources (``jwks_url``, ``secret_env``: the names its snippets use).
    ``evidence_need``: what the clock evidence needs (``bot.diagnosis.clock.leeway_to_accept``), which
    raises every token's one leeway figure as it raises the "Clocks" lines' (pass them the same)."""
    now = report.evaluated_at.timestamp()
    blocks = []
    total = len(report.diagnoses)
    for index, diagnosis in enumerate(report.diagnoses, start=1):
        label = f"[{index}/{total}] " if total > 1 else ""
        fit = None
        if diagnosis.workarounds:
            fit = fit_for(
                diagnosis,
                report.expectations,
                knowledge,
                jwks_url=jwks_url,
                secret_env=secret_env,
                evidence_needs=(evidence_need,) if diagnosis.source is Source.TOKEN else (),
            )
        notes = validator_notes(diagnosis, knowledge)
        blocks.append(render_diagnosis(diagnosis, now, style, label, fit=fit, notes=notes))
    if report.omitted:
        blocks.append(f"… and {report.omitted} more not shown")
    if any(d.workarounds or d.dead_ends for d in report.diagnoses):
        blocks.append(style.dim(knowledge.provenance))
    blocks.append(style.dim(f"Evaluated at {format_utc(now)}."))
    return "\n\n".join(blocks) + "\n"


def render_diagnosis(
    diagnosis: Diagnosis,
    now: float,
    style: Style,
    label: str = "",
    *,
    fit: Fit | None = None,
    notes: Sequence[str] = (),
) -> str:
    """One diagnosis; ``fit`` (``bot.render.snippets.fit_for``) fits its fixes and snippets to what the API
    expects and to the one leeway figure (without it: to the token alone). ``notes``: what is known of the
    error text's validator (:func:`validator_notes`), said under its name."""
    lines = [label + _headline(diagnosis, style)]
    if diagnosis.judged_at is not None:
        now = diagnosis.judged_at
        lines.append(f"  judged at    {format_utc(now)} (the time of its log line)")
    if diagnosis.source is Source.TOKEN and diagnosis.token is not None:
        if diagnosis.error_text:
            lines.append(f"  error text   {printable(diagnosis.error_text)}")
        lines.extend(f"  judged with  {printable(note)}" for note in diagnosis.expected_from)
        lines.append(f"  token        {shorten_redacted(diagnosis.token.redacted, 24, 20)}")
        lines.append(f"  fingerprint  {diagnosis.token.fingerprint}")
        lines.append(f"  signature    {_signature(diagnosis)}")
        lines.extend(_claim_lines(diagnosis, now))
    else:
        lines.append(f"  error text   {printable(diagnosis.error_text or '')}")
        if diagnosis.library:
            lines.append(f"  library      {diagnosis.library.value}")
        lines.extend(f"  {printable(note)}" for note in notes)
    if diagnosis.causes:
        lines.append(style.bold("Why"))
        for number, cause in enumerate(diagnosis.causes, start=1):
            lines.append(f"  {number}. {printable(cause.summary)}  [{cause.id.value}]")
            lines.extend(f"     - {printable(item.detail)}" for item in cause.evidence)
    if diagnosis.libraries_differ:
        lines.append(style.bold("Libraries differ"))
        lines.append(f"  {printable(diagnosis.libraries_differ)}")
    if diagnosis.warnings:
        lines.append(style.bold("Worth knowing (refuses nothing)"))
        for cause in diagnosis.warnings:
            lines.append(f"  - {printable(cause.summary)}  [{cause.id.value}]")
            lines.extend(f"     - {printable(item.detail)}" for item in cause.evidence)
    if diagnosis.next_steps:
        lines.append(style.bold("Next steps"))
        lines.extend(f"  - {step}" for step in diagnosis.next_steps)
    if diagnosis.workarounds:
        fit = fit if fit is not None else default_fit(diagnosis)
        lines.append(style.bold("What fixes it"))
        for number, workaround in enumerate(diagnosis.workarounds, start=1):
            rate = f"  ({percent(workaround.success_rate)} success)" if workaround.success_rate is not None else ""
            lines.append(f"  {number}. {fix_title(workaround, fit)}{rate}")
            snippet = workaround.snippets.get(diagnosis.library.value) if diagnosis.library else None
            if snippet is not None:
                lines.append(style.dim(f"     {snippet.library} {snippet.version}:"))
                code = snippet_code(snippet, diagnosis, fit)
                lines.extend(f"       {line}" for line in code.rstrip().splitlines())
    if diagnosis.dead_ends:
        lines.append(style.bold("Don't bother"))
        for dead_end in diagnosis.dead_ends:
            rate = f" ({percent(dead_end.fail_rate)} fail)" if dead_end.fail_rate is not None else ""
            lines.append(f"  - {dead_end.title}{rate}: {dead_end.why_for(diagnosis.cause_ids)}")
    if diagnosis.verdict is Verdict.VALID and not diagnosis.fully_checked:
        lines.append(style.dim(how_to_check(diagnosis)))  # the headline said what was not checked
    else:
        skipped = [item for item in diagnosis.skipped_checks if not item.startswith("signature")]
        if skipped:
            lines.append(style.dim("Not checked: " + "; ".join(skipped)))
    return "\n".join(lines)


def validator_notes(diagnosis: Diagnosis, knowledge: Knowledge) -> list[str]:
    """What a card says of an error text's validator: that a gateway refused before the service saw the
    request, and, for a refusal about time, that the validator has no leeway setting (and what instead)."""
    library = diagnosis.library.value if diagnosis.library else None
    stack = knowledge.stacks.get(library) if library else None
    if stack is None:
        return []
    notes = [refused_in_front(stack.display, diagnosis.in_front)] if diagnosis.in_front else []
    if stack.no_leeway and CauseId.CLOCK_SKEW in diagnosis.cause_ids:
        notes.append(stack.no_leeway)
    return notes


def refused_in_front(validator: str, kind: str) -> str:
    """What a card says when a gateway or a mesh refused the request (plain text: escape it for mrkdwn)."""
    return f"{validator} is a {kind} in front of the service: it refused the request before the service saw it."


def how_to_check(diagnosis: Diagnosis) -> str:
    """What to give jwtcheck so that it checks what it could not (the API's audience, issuer, keys)."""
    flags = [HOW_TO_CHECK[check] for check in diagnosis.unchecked if check in HOW_TO_CHECK]
    return "To check the rest, say what the API expects: " + ", ".join(flags) + " (or --config FILE --service NAME)."


def render_summary(report: Report, style: Style = Style()) -> str:
    diagnoses = report.diagnoses
    by_verdict = {verdict: sum(1 for d in diagnoses if d.verdict is verdict) for verdict in Verdict}
    unchecked = sum(1 for d in diagnoses if d.verdict is Verdict.VALID and not d.fully_checked)
    by_verdict[Verdict.VALID] -= unchecked
    counted = ", ".join(f"{count} {verdict.value}" for verdict, count in by_verdict.items())
    if unchecked:
        counted += f", {unchecked} with no problem found but audience, issuer or signature not checked"
    head = f"{len(diagnoses)} diagnoses: {counted}"
    lines = [style.bold(head)]
    counts = cause_counts(diagnoses)
    width = max((len(name) for name in counts), default=0)
    lines.extend(f"  {name.ljust(width)}  {count:>7}" for name, count in counts.most_common())
    return "\n".join(lines) + "\n"


def _headline(diagnosis: Diagnosis, style: Style) -> str:
    what = "token" if diagnosis.source is Source.TOKEN else "error text"
    if diagnosis.verdict is Verdict.VALID and not diagnosis.fully_checked:
        checked = ", ".join(check.value.replace("_", " ") for check in diagnosis.checked)
        unchecked = ", ".join(check.value.replace("_", " ") for check in diagnosis.unchecked)
        label = style.paint(NOT_FULLY_CHECKED, "1;33")
        return f"{label} in this {what}: checked {checked}; not checked: {unchecked}"
    verdict = style.verdict(diagnosis.verdict, _VERDICT_LABEL[diagnosis.verdict])
    top = diagnosis.top_cause
    if diagnosis.next_steps and top:  # a generic refusal: its causes are ranked, not found
        return f"{verdict} {what} (names no claim): first check {printable(top.summary)}"
    tail = f": {printable(top.summary)}" if top else ""
    return f"{verdict} {what}{tail}"


def _claim_lines(diagnosis: Diagnosis, now: float) -> Iterable[str]:
    token = diagnosis.token
    if token is None or token.claims is None:
        if token is not None and token.header is not None:
            yield f"  header       {show(dict(token.header), 160)}"
        return
    header = token.header or {}
    alg, kid = header.get("alg"), header.get("kid")
    yield f"  alg          {show(alg)}" + (f"   kid {show(kid)}" if kid is not None else "")
    claims = token.claims
    for name in [*HEADLINE_CLAIMS, *sorted(set(claims) - set(HEADLINE_CLAIMS))][:24]:
        if name not in claims:
            continue
        value = claims[name]
        shown = show(value)
        seconds = as_timestamp(value) if name in TIME_CLAIMS else None
        if seconds is not None:
            shown = f"{shown}  {format_utc(seconds)} ({format_relative(seconds, now)})"
        yield f"  {printable(name)[:12].ljust(12)} {shown}"  # a claim name is the token's too: escaped
    if len(claims) > 24:
        yield f"  … {len(claims) - 24} more claims (see --json)"


def _signature(diagnosis: Diagnosis) -> str:
    """``verified with key k-2026 from login.acme.test``; ``not checked (no key configured)``."""
    status = diagnosis.signature.value.replace("_", " ")
    detail = printable(diagnosis.signature_detail.strip())
    if not detail:
        return status
    if detail.casefold().startswith(status.split()[0]):
        return detail  # the detail already says it: "verified with …", "invalid: …"
    return f"{status} ({detail})"
