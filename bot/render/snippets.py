"""Snippets and fix titles fitted to the card: the token's algorithm (an HMAC secret from the environment
for HS*, a public key or the issuer's JWKS for RS/PS/ES), what the API expects (audience, issuer, the
service's JWKS URL and secret variable) and the card's one leeway figure (``bot.diagnosis.leeway``).

What is filled in where is the knowledge base's data: the snippets' placeholders (``{{alg}}``,
``{{key}}``, ``{{audience}}``, ``{{leeway|30}}``…), their defaults, the key style of each algorithm and
each library's key styles. This module only picks the values: a :class:`Fit`, made once per card
(:func:`fit_for`) and kept with the card's state, so a click draws the same figure as the card.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from bot.diagnosis.advice import fill
from bot.diagnosis.leeway import BEYOND_SAFE, LeewayFigure, card_figure
from bot.diagnosis.model import Diagnosis, Expectations
from bot.knowledge import Knowledge, Snippet, Workaround

SAFE_VALUE = re.compile(r"[A-Za-z0-9._~:/@%+=-]{1,200}\Z")
"""An audience, issuer or URL that may stand in a snippet's string literal (and unquoted in a shell line):
anything else is left to the knowledge base's example value."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
# How each snippet language writes a line comment (bot.knowledge.loader.LANGUAGES; JSON has none: see
# _no_leeway_snippet), for the snippet a card shows when no safe leeway will do.
_COMMENT = {
    **dict.fromkeys(("python", "shell", "ruby", "yaml", "nginx"), "# {}"),
    **dict.fromkeys(("go", "java", "javascript", "typescript", "csharp", "kotlin", "php", "rust"), "// {}"),
    "xml": "<!-- {} -->",
}


class Fit(NamedTuple):
    """What one card's snippets and fix titles are fitted to (kept with the card's state).

    ``alg`` is the token's algorithm when a snippet may use it, else the expected one (None: the knowledge
    base's example); ``style`` its key style (``hmac``, ``public``, ``jwks``; "" for the example's). The
    other values are None where unknown (the knowledge base's example stands in)."""

    leeway: LeewayFigure | None = None
    alg: str | None = None
    style: str = ""
    audience: str | None = None
    issuer: str | None = None
    jwks_url: str | None = None
    secret_env: str | None = None


def fit_for(
    diagnosis: Diagnosis,
    expectations: Expectations,
    knowledge: Knowledge,
    *,
    jwks_url: str | None = None,
    secret_env: str | None = None,
    evidence_needs: Iterable[int | None] = (),
) -> Fit:
    """The card's fit: its one leeway figure (the token's own need and what the clock evidence needs,
    within the knowledge base's small range and ``expectations.skew_window``), the algorithm and key style
    the snippets use, and what the API expects."""
    data = knowledge.snippet_data
    alg = _algorithm(diagnosis, expectations, data.algorithms)
    jwks_url = jwks_url if jwks_url and SAFE_VALUE.match(jwks_url) else None
    style = data.algorithms.get(alg, "") if alg else ""
    if style == "public" and jwks_url:
        style = "jwks"
    return Fit(
        leeway=card_figure(diagnosis, knowledge.small_leeway, expectations.skew_window, evidence_needs),
        alg=alg,
        style=style,
        audience=_safe(expectations.audiences),
        issuer=_safe(expectations.issuers),
        jwks_url=jwks_url,
        secret_env=secret_env if secret_env and _ENV_NAME.match(secret_env) else None,
    )


def default_fit(diagnosis: Diagnosis) -> Fit:
    """A card's fit when nothing says what the API expects: the token alone, the default skew window."""
    from bot.knowledge import default_knowledge

    return fit_for(diagnosis, Expectations(), default_knowledge())


def snippet_code(snippet: Snippet, diagnosis: Diagnosis, fit: Fit | None = None) -> str:
    """The snippet fitted to the card (``fit``; without one, to the token alone). A snippet that sets the
    leeway, on a card whose evidence needs more than any safe leeway, is a comment saying so instead."""
    fit = fit if fit is not None else default_fit(diagnosis)
    figure = fit.leeway
    if figure is not None and figure.recommended is None and "{{leeway" in snippet.code:
        own = f" (this token needs a leeway of at least {figure.own} s)" if figure.own == figure.needed else ""
        return _no_leeway_snippet(snippet.language, f"No leeway snippet: {BEYOND_SAFE}{own}.")
    values = {
        name: value
        for name, value in (
            ("leeway", str(figure.recommended) if figure is not None and figure.recommended is not None else None),
            ("alg", fit.alg),
            ("alg_bits", "".join(ch for ch in fit.alg if ch.isdigit()) if fit.alg else None),
            ("audience", fit.audience),
            ("issuer", fit.issuer),
            ("jwks_url", fit.jwks_url),
            ("secret_env", fit.secret_env),
        )
        if value is not None
    }
    return snippet.render(values, fit.style or "public")


def _no_leeway_snippet(language: str, sentence: str) -> str:
    """The sentence as a comment in the snippet's language (JSON, which has none, as a note value)."""
    if language == "json":
        return json.dumps({"note": sentence}) + "\n"
    return _COMMENT.get(language, "# {}").format(sentence) + "\n"


def fix_title(workaround: Workaround, fit: Fit | None) -> str:
    """The fix's title on this card: one that names the leeway shows the card's recommended figure, or
    says that no safe leeway will do; without a figure, the small range."""
    figure = fit.leeway if fit is not None else None
    if not workaround.title_template or figure is None:
        return workaround.title
    if figure.recommended is None:
        return workaround.title_beyond or workaround.title
    return fill(workaround.title_template, {"leeway": str(figure.recommended)})


def suggested_leeway(diagnosis: Diagnosis, fit: Fit | None = None) -> int | None:
    """The card's recommended leeway (None: no figure, or beyond any safe leeway)."""
    figure = (fit if fit is not None else default_fit(diagnosis)).leeway
    return figure.recommended if figure is not None else None


def _algorithm(diagnosis: Diagnosis, expectations: Expectations, known: Mapping[str, str]) -> str | None:
    """The token's alg when snippets may use it (one the knowledge base gives a key style: never none),
    else the first expected one that is."""
    header = diagnosis.token.header if diagnosis.token is not None else None
    alg = header.get("alg") if header is not None else None
    if isinstance(alg, str) and alg in known:
        return alg
    return next((expected for expected in expectations.algorithms if expected in known), None)


def _safe(values: tuple[str, ...]) -> str | None:
    return next((value for value in values if SAFE_VALUE.match(value)), None)


__all__ = ["Fit", "default_fit", "fit_for", "fix_title", "snippet_code", "suggested_leeway"]
