"""One bad token does not poison its issuer's clock estimate (issue 11): the playground's three clicks.

A token whose iat is 3 h ahead is judged set wrong (``issued_in_future``), so it is kept out of the
issuer's clock evidence, and the cards say so. A valid token's card then carries no leeway at all, and a
later token 70 s ahead gets one leeway figure, from its own need, everywhere on its card: the note, the
fix's title and the PyJWT snippet after a click; never the 3 h.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.diagnosis.advice import fill
from bot.diagnosis.leeway import safe_limit
from bot.knowledge import default_knowledge
from tests.slack.conftest import Bot
from tests.support.slack_api import MockSlack
from tests.support.slack_requests import message
from tests.support.tokens import T, claims, make_token

KNOWLEDGE = default_knowledge()
WINDOW = 300  # the default skew window (Expectations)


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    return next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == label
    )


async def test_a_token_set_hours_ahead_is_kept_out_and_a_later_skew_card_keeps_one_small_figure(
    bot: Bot, slack: MockSlack
) -> None:
    three_hours = make_token(claims(iat=T + 3 * 3600, exp=T + 4 * 3600))
    valid = make_token(claims(n=2))
    skewed = make_token(claims(iat=T + 70, nbf=T + 70, exp=T + 3600, n=3))
    for n, token in enumerate((three_hours, valid, skewed)):
        await bot.event(message(f"401 again: {token}", ts=f"{T + n}.000100"), f"Ev{n}")
        await bot.settle()
    first, second, third = (call.params["blocks"] for call in slack.of("chat.postMessage"))

    # 1. set wrong, not skew: kept out of login.acme.test's clock estimate, and its card says so
    assert "Token issued in the future" in texts(first)
    assert "too far for clock skew, so it is kept out of login.acme.test's clock estimate" in texts(first)
    # 2. a valid token's card speaks of no leeway at all (the 3 h reading counts for nothing)
    assert "leeway" not in texts(second).casefold() and "10800" not in texts(second)

    # 3. 70 s of skew: its own need, and one recommended figure between it and the skew window
    shown = texts(third)
    assert "this token needs a leeway of at least 70 s" in shown
    assert "kept out: 1 token 3 h ahead (too far for clock skew)" in shown
    note = re.search(r"until then a leeway of (\d+) s accepts its tokens", shown)
    assert note is not None
    figure = int(note.group(1))
    assert 70 <= figure <= min(WINDOW, safe_limit(KNOWLEDGE.small_leeway, WINDOW))
    title = fill(KNOWLEDGE.workarounds["clock_leeway"].title_template, {"leeway": str(figure)})
    assert title in shown
    assert "10800" not in shown and "10810" not in shown

    card_ts = "1795900000.000003"
    pyjwt = button(third, "Show fix: PyJWT")
    await bot.click(pyjwt["action_id"], pyjwt["value"], message_ts=card_ts)
    await bot.settle()
    [update] = slack.of("chat.update")
    expanded = texts(update.params["blocks"])
    [snippet_leeway] = {int(value) for value in re.findall(r"leeway=(\d+)", expanded)}
    assert 70 <= snippet_leeway <= WINDOW and snippet_leeway == figure
    assert 'algorithms=[\\"HS256\\"]' in expanded and "public_key_pem" not in expanded  # an HS256 token
    assert "kept out: 1 token 3 h ahead" in expanded  # the note stays with the card after the click
