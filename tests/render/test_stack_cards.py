"""Cards for the stacks beyond the source card: a gateway's card says the gateway refused the request before
the service saw it and shows the gateway's fix first; the fix buttons are the recognised stack's, the
service's and the card's, and every other stack is one pick away in a select."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.diagnosis.ids import CauseId, Library, Reason, Source, Verdict
from bot.diagnosis.model import Cause, Diagnosis, Evidence, Expectations
from bot.knowledge.advise import advise_one
from bot.knowledge.model import Knowledge
from bot.render.blocks import ACTION_SHOW_FIX, ACTION_SHOW_FIX_MORE, MAX_LIBRARY_BUTTONS, CardOptions, render_card
from bot.render.json import diagnosis_to_dict
from bot.render.text import Style, refused_in_front, render_diagnosis, validator_notes
from tests.knowledge.test_stacks import STACK, _knowledge_folder
from tests.render.test_blocks import assert_slack_limits
from tests.support.tokens import T

GATEWAY = STACK.replace("Gizmo", "Upstream gizmo")


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    from bot.knowledge.loader import load_knowledge

    folder: Path = tmp_path_factory.mktemp("knowledge")
    return load_knowledge(_knowledge_folder(folder, GATEWAY))


def refused(library: Library | None, *causes: CauseId) -> Diagnosis:
    evidence = (Evidence("exp", Reason.ERROR_TEXT, "the gateway said so."),)
    return Diagnosis(
        source=Source.ERROR_TEXT,
        position=0,
        verdict=Verdict.INVALID,
        causes=tuple(Cause(cause, cause.value, evidence, 0.7) for cause in causes),
        library=library,
        error_text="401 token expired",
    )


def advised(knowledge: Knowledge, diagnosis: Diagnosis) -> Diagnosis:
    return advise_one(diagnosis, knowledge, Expectations(), T)


def test_a_gateways_card_says_it_refused_first_and_puts_its_fix_first(knowledge: Knowledge) -> None:
    d = advised(knowledge, refused(Library.KONG, CauseId.EXPIRED, CauseId.CLOCK_SKEW))
    assert d.in_front == "gateway"
    library_first = advised(knowledge, refused(Library.PYJWT, CauseId.EXPIRED, CauseId.CLOCK_SKEW))
    assert library_first.in_front is None
    # the gateway's own configuration fix (clock_leeway has a kong snippet) before the others
    assert d.workarounds[0].id == "clock_leeway"
    assert library_first.workarounds[0].id != "clock_leeway"
    message = render_card(d, T, knowledge, CardOptions("c0ffee"))
    assert_slack_limits(message)
    sentence = refused_in_front("Kong Gateway", "gateway")
    assert sentence in json.dumps(message.blocks)
    assert validator_notes(d, knowledge) == [sentence]
    assert sentence in render_diagnosis(d, T, Style(), notes=validator_notes(d, knowledge))
    assert diagnosis_to_dict(d)["in_front"] == "gateway"
    assert "in_front" not in diagnosis_to_dict(library_first)


def test_the_buttons_are_the_recognised_stack_the_services_and_the_cards(knowledge: Knowledge) -> None:
    d = advised(knowledge, refused(Library.KONG, CauseId.EXPIRED, CauseId.CLOCK_SKEW))
    message = render_card(d, T, knowledge, CardOptions("c0ffee", stacks=("golang-jwt",)))
    assert_slack_limits(message)
    [libs] = [block for block in message.blocks if block["block_id"].endswith("-libs")]
    buttons = [e for e in libs["elements"] if e["type"] == "button"]
    shown = [e["value"].split("|")[1] for e in buttons]
    assert shown[:2] == ["kong", "golang-jwt"]  # recognised, then the service's
    assert {"spring-security", "pyjwt", "jsonwebtoken", "express-jwt"} <= set(shown)
    assert len(buttons) <= MAX_LIBRARY_BUTTONS
    assert all(e["action_id"].startswith(f"{ACTION_SHOW_FIX}:") for e in buttons)
    [select] = [e for e in libs["elements"] if e["type"] == "static_select"]
    assert select["action_id"] == ACTION_SHOW_FIX_MORE
    others = [o["value"].split("|")[1] for o in select["options"]]
    assert "jose" in others and not set(others) & set(shown)


def test_a_stack_picked_in_the_select_is_expanded_and_stays_selected(knowledge: Knowledge) -> None:
    d = advised(knowledge, refused(Library.PYJWT, CauseId.EXPIRED, CauseId.CLOCK_SKEW))
    message = render_card(d, T, knowledge, CardOptions("c0ffee", expanded_library="kong"))
    assert_slack_limits(message)
    text = json.dumps(message.blocks)
    assert "Kong Gateway 3.9.0" in text and "leeway: " in text
    [libs] = [block for block in message.blocks if block["block_id"].endswith("-libs")]
    [select] = [e for e in libs["elements"] if e["type"] == "static_select"]
    assert select["initial_option"]["value"] == "c0ffee|kong"


def test_a_card_with_no_library_offers_the_cards_four_and_the_rest_in_the_select(knowledge: Knowledge) -> None:
    d = advised(knowledge, refused(None, CauseId.AUDIENCE_MISMATCH))
    message = render_card(d, T, knowledge, CardOptions("c0ffee"))
    assert_slack_limits(message)
    [libs] = [block for block in message.blocks if block["block_id"].endswith("-libs")]
    buttons = [e["value"].split("|")[1] for e in libs["elements"] if e["type"] == "button"]
    assert buttons == [lib.library for lib in knowledge.libraries]


def test_a_stack_with_no_leeway_setting_is_never_told_to_set_one(tmp_path: Path) -> None:
    from bot.knowledge.loader import load_knowledge

    without = GATEWAY.replace(
        'source = "Kong/kong', 'no_leeway = "sync the gateway hosts with NTP."\nsource = "Kong/kong'
    )
    without = (
        without[: without.index("[snippets.clock_leeway]")] + without[without.index("[snippets.verify_aud_iss]") :]
    )
    knowledge = load_knowledge(_knowledge_folder(tmp_path, without))
    d = advised(knowledge, refused(Library.KONG, CauseId.EXPIRED, CauseId.CLOCK_SKEW))
    assert "clock_leeway" not in [w.id for w in d.workarounds] and "sync_clocks_ntp" in [w.id for w in d.workarounds]
    assert "clock_leeway" in [w.id for w in advised(knowledge, refused(Library.PYJWT, CauseId.CLOCK_SKEW)).workarounds]
    note = "sync the gateway hosts with NTP."
    assert validator_notes(d, knowledge)[-1] == note
    message = render_card(d, T, knowledge, CardOptions("c0ffee"))
    assert_slack_limits(message)
    assert note in json.dumps(message.blocks)


def test_a_long_card_id_leaves_out_the_options_slack_would_refuse(knowledge: Knowledge) -> None:
    """An option's value is at most 150 characters: with a 128-character card id, the longest library ids
    no longer fit, and the others keep their own labels and the picked one stays picked."""
    d = advised(knowledge, refused(Library.PYJWT, CauseId.EXPIRED, CauseId.CLOCK_SKEW))
    card_id = "c" * 128
    message = render_card(d, T, knowledge, CardOptions(card_id, expanded_library="jose"))
    assert_slack_limits(message)
    [libs] = [block for block in message.blocks if block["block_id"].endswith("-libs")]
    [select] = [e for e in libs["elements"] if e["type"] == "static_select"]
    picked = {o["value"].split("|")[1]: o["text"]["text"] for o in select["options"]}
    assert "microsoft-identitymodel" not in picked and picked["jose"] == "jose"
    assert select["initial_option"]["value"] == f"{card_id}|jose"
