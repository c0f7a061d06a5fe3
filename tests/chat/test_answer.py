"""The answer without any chat platform: what a second platform's edge would call."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.chat.answer import Chat, Place
from bot.chat.cards import CardState
from bot.diagnosis import Expectations
from bot.diagnosis.advice import fill
from bot.diagnosis.leeway import LeewayFigure
from bot.knowledge import default_knowledge
from bot.render import blocks
from bot.store import MemoryStore
from tests.support.tokens import NOW, T, claims, make_token

KNOWLEDGE = default_knowledge()
PLACE = Place("T1", "C1", "1795899990.000100")


def chat() -> tuple[Chat, list[str]]:
    counted: list[str] = []
    core = Chat(MemoryStore(), KNOWLEDGE, None, renderer=blocks, clock=lambda: NOW, on_diagnosis=counted.append)
    return core, counted


def test_the_chat_services_import_no_chat_sdk() -> None:
    code = (
        "import sys, bot.chat.answer, bot.chat.cards, bot.chat.claims, bot.chat.clocks, bot.store.codec\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'slack_bolt', 'slack_sdk'} or "
        "m.startswith('bot.slack')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_a_message_is_diagnosed_measured_and_drawn_with_its_state_saved() -> None:
    core, counted = chat()
    token = make_token(claims(iat=T + 70, nbf=T + 70, exp=T + 3670))
    answer = await core.answer(PLACE, f"401: {token}", Expectations(), None, seen_at=T - 10)
    assert counted == ["clock_skew"] and list(answer.estimates) == ["https://login.acme.test/"]
    [(card, card_id)] = await core.make_cards(answer, PLACE, 5, exposes_tokens=True, ephemeral=False)
    blocks = json.dumps(card.blocks, ensure_ascii=False)
    # seen 10 s before its iat and nbf: the issuer runs at least 80 s ahead, this token needs 70 s; one figure, 80 s
    assert "🕒" in blocks and "a leeway of 80 s accepts its tokens" in blocks and "exposes a live token" in blocks
    assert "this token needs a leeway of at least 70 s" in blocks
    value = next(
        e["value"] for b in card.blocks if b["type"] == "actions" for e in b["elements"] if "|" in e.get("value", "")
    )
    state = await core.cards.load(value.split("|")[0])
    assert isinstance(state, CardState) and state.card_id == card_id
    assert state.diagnosis == answer.report.diagnoses[0] and state.options.fit is not None
    assert state.options.fit.leeway == LeewayFigure(needed=80, recommended=80, own=70)
    _, expanded = await core.redraw(state.with_options(expanded_library="pyjwt"))
    title = fill(KNOWLEDGE.workarounds["clock_leeway"].title_template, {"leeway": "80"})
    assert "leeway=80," in json.dumps(expanded.blocks) and title in json.dumps(expanded.blocks, ensure_ascii=False)
    assert state.thread_ts == PLACE.thread_ts and state.options.live_token_warning


async def test_a_redraw_bumps_the_revision_and_saves_it() -> None:
    core, _ = chat()
    answer = await core.answer(PLACE, make_token(claims(exp=T - 20)), Expectations(), None)
    assert answer.estimates == {}  # no instant given: no clock evidence
    await core.make_cards(answer, PLACE, 5, exposes_tokens=False, ephemeral=True)
    [key] = [k for k in core.store._data if k.startswith("card:")]  # type: ignore[attr-defined]
    state = await core.cards.load(key.split(":")[1])
    assert isinstance(state, CardState) and state.options.ephemeral
    redrawn, message = await core.redraw(state.with_options(expanded_library="pyjwt"))
    assert redrawn.options.revision == 1 and "PyJWT" in json.dumps(message.blocks)
    assert await core.cards.load(state.card_id) == redrawn


async def test_a_mention_with_nothing_reads_the_thread() -> None:
    core, _ = chat()

    async def thread() -> list[tuple[str, float]]:
        return [("hello", T - 50.0), (make_token(claims(exp=T - 7200)), T - 40.0)]

    answer = await core.answer(PLACE, "what is wrong here?", Expectations(), None, seen_at=T, thread=thread)
    assert [d.top_cause.id.value for d in answer.report.diagnoses if d.top_cause] == ["expired"]
    assert answer.report.evaluated_at == NOW
