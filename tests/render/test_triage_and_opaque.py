"""The triage answer (a refusal that names no claim) and an opaque token, on all three faces: terminal
text, the JSON contract and the Block Kit card. An opaque token's value appears on none of them."""

from __future__ import annotations

import json

import pytest

from bot.diagnosis import Expectations, Report
from bot.knowledge import default_knowledge
from bot.knowledge.triage import default_triage
from bot.pipeline import diagnose_text
from bot.render.blocks import CardOptions, Message, render_card, render_cards
from bot.render.json import diagnosis_to_dict, dumps, report_to_dict
from bot.render.mrkdwn import escape
from bot.render.text import Style, render_report
from tests.render.test_blocks import assert_slack_limits, block_text, role
from tests.support.tokens import NOW, T, claims, make_token

KNOWLEDGE = default_knowledge()
SEED = "401 Unauthorized: JWT claims validation failed"
OPAQUE = "2YotnFZFEjr1zCsicMWpAA"
SHOWN = "2Yot… (22 chars)"
PASTES = [
    f"Authorization: Bearer {OPAQUE}",
    f"curl -H 'Authorization: Bearer {OPAQUE}' https://api.acme.test/orders",
    f'{{"access_token":"{OPAQUE}","token_type":"Bearer","expires_in":86400}}',
    f"401 Unauthorized: invalid_token\nAuthorization: Bearer {OPAQUE}",  # with the generic refusal it drew
    f"{SEED} for GET /orders?access_token={OPAQUE}",  # on the error line itself
]


def diagnose(text: str) -> Report:
    return diagnose_text(text, Expectations(), NOW, knowledge=KNOWLEDGE)


def card(text: str) -> Message:
    [diagnosis] = diagnose(text).diagnoses
    message = render_card(diagnosis, T, KNOWLEDGE, CardOptions("c0ffee"))
    assert_slack_limits(message)
    return message


# --- the triage answer -----------------------------------------------------------------------------


def test_the_terminal_says_the_message_names_no_claim_then_causes_then_next_steps() -> None:
    out = render_report(diagnose(SEED), KNOWLEDGE, Style())
    assert out.startswith("REFUSED error text (names no claim): first check Audience (aud) mismatch")
    why, steps, fixes = out.index("\nWhy\n"), out.index("\nNext steps\n"), out.index("\nWhat fixes it\n")
    assert why < steps < fixes
    for line in default_triage().lines:
        assert f"  - {line}\n" in out
    assert "(90% success)" in out and "(85% success)" in out and "(75% success)" in out


def test_the_json_carries_next_steps_only_where_there_are_some() -> None:
    document = json.loads(dumps(report_to_dict(diagnose(SEED), KNOWLEDGE)))
    [diagnosis] = document["diagnoses"]
    assert diagnosis["next_steps"] == list(default_triage().lines)
    assert [c["id"] for c in diagnosis["causes"]] == ["audience_mismatch", "issuer_mismatch", "clock_skew", "expired"]
    details = [e["detail"] for c in diagnosis["causes"] for e in c["evidence"]]
    assert len(set(details)) == len(details)
    token = diagnose(make_token(claims(exp=T - 7200))).diagnoses[0]
    assert "next_steps" not in diagnosis_to_dict(token)


def test_the_card_has_a_next_steps_section_after_why_escaped() -> None:
    message = card(SEED)
    assert message.text.startswith("⛔ JWT refused, no claim named: first check Audience (aud) mismatch")
    roles = [role(block) for block in message.blocks]
    assert roles.index("why") < roles.index("next") < roles.index("fix1")
    [section] = [block for block in message.blocks if role(block) == "next"]
    raw = section["text"]["text"]
    assert raw.startswith("*Next steps*\n• ") and "/jwtcheck &lt;token&gt; private" in raw
    assert raw.count("\n• ") == len(default_triage().lines)
    shown = block_text(section)
    assert "logging.level.org.springframework.security=TRACE" in shown and "IdentityModelEventSource.ShowPII" in shown


def test_the_rfc6750_header_gets_the_triage_card_too() -> None:
    message = card('WWW-Authenticate: Bearer error="invalid_token"')
    assert "next" in [role(block) for block in message.blocks]
    assert "malformed" in json.dumps(message.blocks)


def test_a_library_error_has_no_next_steps_section() -> None:
    message = card("jwt.exceptions.ExpiredSignatureError: Signature has expired")
    assert "next" not in [role(block) for block in message.blocks]
    assert message.text.startswith("⛔ Error: ")


# --- opaque tokens ---------------------------------------------------------------------------------


def test_an_opaque_token_card_says_what_it_is() -> None:
    message = card(f"Authorization: Bearer {OPAQUE}")
    assert message.text == "⚠️ Token can't be checked: Opaque access token, not a JWT: no claims to read"
    everything = json.dumps(message.blocks, ensure_ascii=False)
    assert escape(SHOWN) in everything and "Ask the issuer for a JWT access token" in everything
    assert "introspection" in everything


def test_an_opaque_token_in_the_json_contract() -> None:
    [diagnosis] = json.loads(dumps(report_to_dict(diagnose(f"Authorization: Bearer {OPAQUE}"), KNOWLEDGE)))["diagnoses"]
    assert diagnosis["source"] == "token" and diagnosis["verdict"] == "unverifiable"
    assert diagnosis["token"] == {
        "kind": "opaque",
        "redacted": SHOWN,
        "fingerprint": diagnosis["token"]["fingerprint"],
        "header": None,
        "claims": None,
    }
    assert [c["id"] for c in diagnosis["causes"]] == ["opaque_token"]
    assert {e["reason"] for e in diagnosis["causes"][0]["evidence"]} == {"opaque"}
    assert [w["id"] for w in diagnosis["workarounds"]] == ["request_jwt_access_token", "introspect_reference_token"]
    assert "next_steps" not in diagnosis


@pytest.mark.parametrize("text", PASTES)
def test_the_opaque_value_appears_on_no_face(text: str) -> None:
    report = diagnose(text)
    assert any(d.token is not None and d.token.kind == "opaque" for d in report.diagnoses)
    faces = [
        render_report(report, KNOWLEDGE, Style()),
        render_report(report, KNOWLEDGE, Style(colour=True)),
        dumps(report_to_dict(report, KNOWLEDGE)),
        dumps(report_to_dict(report, KNOWLEDGE), indent=2),
    ]
    for message in render_cards(report, KNOWLEDGE, lambda n, _: CardOptions(f"card{n}")):
        assert_slack_limits(message)
        faces.append(json.dumps(message.blocks, ensure_ascii=False) + message.text)
    for face in faces:
        assert OPAQUE not in face and OPAQUE[4:] not in face and OPAQUE[2:14] not in face
