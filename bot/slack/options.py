"""Options typed after the text of ``/jwtcheck`` or a mention: ``aud=… iss=… alg=… leeway=… service=…``.

Whole words only, so a token or a URL inside the text is never taken for an option. Values may come
wrapped by Slack (``<https://login.acme.test/>``) and are unwrapped. The text left to diagnose and every
value come out with Slack's escaping undone.

A value that holds a token, a piece of one or another credential
(:func:`bot.diagnosis.redact.credential_shaped`) is refused with a message that does not repeat it, before
it can be echoed, kept in a card's state or logged: a token pasted after ``service=`` belongs in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.config import ConfigError, ServicesConfig
from bot.diagnosis import Expectations
from bot.diagnosis.expectations import Overrides, merge, seconds_problem
from bot.diagnosis.redact import credential_shaped, last_pass
from bot.keys.config import KeyConfig
from bot.slack.text import unescape_slack

_OPTION = re.compile(r"^(aud|iss|alg|require|leeway|skew|service)=(\S+)$", re.IGNORECASE)
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
HELP_WORDS = frozenset({"help", "-h", "--help", "?"})


class OptionError(ValueError):
    """A bad option value, said in one line to the user."""


@dataclass(frozen=True, slots=True)
class Request:
    text: str
    audiences: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ()
    required_claims: tuple[str, ...] = ()
    leeway: float | None = None
    skew_window: float | None = None
    service: str | None = None
    private: bool = False
    wants_help: bool = False

    def bound_to(self, service: str) -> Request:
        """This request as if ``service=<service>`` had been typed: a channel's binding (``bot.chat.bindings``)."""
        return replace(self, service=service)

    def keys(self, services: ServicesConfig | None) -> KeyConfig | None:
        """The trusted key sources of the service that :meth:`expectations` picks, if any."""
        if services is None:
            return None
        try:
            return services.keys_for(self.service)
        except ConfigError:
            return None

    def expectations(self, services: ServicesConfig | None) -> Expectations:
        base = Expectations()
        if services is not None:
            try:
                chosen = services.pick(self.service)
            except ConfigError:
                known = ", ".join(sorted(services.services)) or "none"
                raise OptionError(f"no service named {_shown(self.service)} (services: {known})") from None
            base = chosen.expectations if chosen else base
        elif self.service:
            raise OptionError("no services are configured on this bot (JWTCHECK_CONFIG), so service= has no effect")
        overrides = Overrides(
            self.audiences, self.issuers, self.algorithms, self.required_claims, self.leeway, self.skew_window
        )
        return merge(base, overrides)  # the one merge the command line uses too


def parse_request(text: str) -> Request:
    """Split user text, as Slack sends it, into the text to diagnose (unescaped) and the options around it."""
    text = _MENTION.sub(" ", text or "")
    words = text.split()
    if not words or (len(words) == 1 and words[0].lower() in HELP_WORDS):
        return Request("", wants_help=True)
    lists: dict[str, list[str]] = {"aud": [], "iss": [], "alg": [], "require": []}
    numbers: dict[str, float] = {}
    service: str | None = None
    private = False
    kept: list[str] = []
    for word in re.split(r"(\s+)", text):
        match = _OPTION.match(word)
        if word.lower() == "private":
            private = True
        elif match:
            key, value = match.group(1).lower(), _unwrap(match.group(2))
            if credential_shaped(value):
                raise OptionError(
                    f"{key}= was given what looks like a token or a secret, so it is neither shown nor kept; "
                    f"put the token in the text and a name after {key}= (`/jwtcheck <token> {key}=…`)"
                )
            if key in lists:
                lists[key].extend(part for part in value.split(",") if part)
            elif key == "service":
                service = value
            else:
                numbers[key] = _seconds(key, value)
        else:
            kept.append(word)
    return Request(
        text=unescape_slack("".join(kept).strip()),
        audiences=tuple(lists["aud"]),
        issuers=tuple(lists["iss"]),
        algorithms=tuple(lists["alg"]),
        required_claims=tuple(lists["require"]),
        leeway=numbers.get("leeway"),
        skew_window=numbers.get("skew"),
        service=service,
        private=private,
    )


def _unwrap(value: str) -> str:
    value = unescape_slack(value)
    link = _SLACK_LINK.match(value)
    return link.group(1) if link else value


def _seconds(key: str, value: str) -> float:
    try:
        seconds = float(value.rstrip("s"))
    except ValueError:
        raise OptionError(f"{key}= takes a number of seconds, not {_shown(value)}") from None
    problem = seconds_problem(seconds)  # the one limit the command line and the config use too
    if problem:
        raise OptionError(f"{key}= {problem}")
    return seconds


def _shown(value: str | None, longest: int = 40) -> str:
    """A user's value as an error message may quote it: redacted and cut short."""
    text = last_pass(value or "")
    return repr(text if len(text) <= longest else text[: longest - 1] + "…")
