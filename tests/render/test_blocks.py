"""The Block Kit card: content, clicks, escaping, Slack's limits and redaction.

``assert_slack_limits`` walks a message and checks every limit Slack (and slack_sdk) enforces; most
tests run it on what they render.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.diagnosis.advice import fill
from bot.diagnosis.model import (
    Cause,
    CauseId,
    Diagnosis,
    Evidence,
    Expectations,
    Library,
    Report,
    SignatureStatus,
    Source,
    TokenView,
    Verdict,
)
from bot.knowledge import Card, CauseInfo, DeadEnd, Knowledge, LibraryVersion, Snippet, Workaround, default_knowledge
from bot.render.blocks import (
    ACTION_SHOW_FIX,
    ACTION_VOTE,
    SHOW_FIX_ACTION_RE,
    VOTE_ACTION_RE,
    CardOptions,
    Message,
    fit,
    parse_show_fix_value,
    parse_vote_value,
    render_card,
    render_cards,
    render_summary_line,
)
from bot.render.mrkdwn import clip, escape, ulen, unescape
from tests.support.tokens import AUDIENCE, ISSUER, NOW, SECRET, T, claims, make_token, signature_of

KNOWLEDGE = default_knowledge()
EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,), algorithms=("HS256",))
INJECTIONS = ("<!channel>", "<@U123>", "<https://evil.example|click>", "&lt;", "<!here>", "<#C42>", "<!subteam^S1>")
FORBIDDEN = re.compile(r"<[!@#]|<https?:|<mailto:", re.IGNORECASE)


# --- helpers ----------------------------------------------------------------------------------------


def diagnose(text: str, expectations: Expectations = EXPECT) -> Report:
    from bot.pipeline import diagnose_text

    return diagnose_text(text, expectations, NOW, knowledge=KNOWLEDGE)


def card(diagnosis: Diagnosis, **options: Any) -> Message:
    message = render_card(diagnosis, T, KNOWLEDGE, CardOptions(options.pop("card_id", "c0ffee"), **options))
    assert_slack_limits(message)
    return message


def skew_token() -> str:
    return make_token(claims(nbf=T + 70, iat=T + 70))


def skew_diagnosis(library_text: str = "") -> Diagnosis:
    report = diagnose(f"{library_text} {skew_token()}".strip())
    tokens = [d for d in report.diagnoses if d.source is Source.TOKEN]
    assert len(tokens) == 1
    return tokens[0]


def texts(node: Any) -> list[str]:
    """Every text a reader sees (header, sections, context, buttons, a select's placeholder: not its options,
    which show only when it is opened), unescaped, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "static_select":
            found.extend(texts(node["placeholder"]))
        elif node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            found.append(unescape(node["text"]))
        else:
            for value in node.values():
                found.extend(texts(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(texts(value))
    return found


def visible_chars(message: Message) -> int:
    return sum(len(text) for text in texts(message.blocks))


def blocks_of(message: Message, type_: str) -> list[dict[str, Any]]:
    return [block for block in message.blocks if block["type"] == type_]


def buttons(message: Message) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks_of(message, "actions")
        for element in block["elements"]
        if element["type"] == "button"
    ]


def block_text(block: dict[str, Any]) -> str:
    return "\n".join(texts(block))


def role(block: dict[str, Any]) -> str:
    """The stable part of a block_id (``jc-<card>-r<revision>-<role>``)."""
    return block["block_id"].rsplit("-", 1)[-1]


def assert_slack_limits(message: Message) -> None:
    """Every limit of docs.slack.dev / slack_sdk, plus the escaping rule, on one message."""
    text = message.text
    assert isinstance(text, str) and 0 < ulen(text) <= 300, "fallback text present and short"
    blocks = message.blocks
    assert 1 <= len(blocks) <= 50
    block_ids = [block.get("block_id") for block in blocks]
    assert all(isinstance(b, str) and 0 < len(b) <= 255 for b in block_ids)
    assert len(set(block_ids)) == len(block_ids), "block_ids unique within the message"
    action_ids: list[str] = []
    total = 0
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= ulen(block["text"]["text"]) <= 150
        elif kind == "section":
            if "text" in block:
                assert 1 <= ulen(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(1 <= ulen(f["text"]) <= 2000 for f in fields)
            if "accessory" in block:
                action_ids.append(_check_element(block["accessory"]))
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(1 <= ulen(e["text"]) <= 3000 for e in block["elements"] if "text" in e)
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            action_ids.extend(_check_element(element) for element in block["elements"])
        else:
            assert kind == "divider", f"unexpected block type {kind}"
        total += sum(ulen(t) for t in _raw_texts(block))
        Block.parse(block).to_dict()  # slack_sdk's own validators agree
    assert len(set(action_ids)) == len(action_ids), "action_ids unique within the message"
    assert total <= 12_000, "well under the ~13k aggregate that triggers msg_blocks_too_long"
    dumped = json.dumps(message.blocks, ensure_ascii=False) + text
    assert not FORBIDDEN.search(dumped), FORBIDDEN.search(dumped)


def _check_element(element: dict[str, Any]) -> str:
    if element["type"] == "static_select":  # the card's other stacks
        assert 1 <= len(element["options"]) <= 100
        assert all(1 <= ulen(o["text"]["text"]) <= 75 and 0 < len(o["value"]) <= 150 for o in element["options"])
        assert 1 <= ulen(element["placeholder"]["text"]) <= 150
        assert element.get("initial_option", element["options"][0]) in element["options"]
        assert 0 < len(element["action_id"]) <= 255
        return str(element["action_id"])
    assert element["type"] == "button"
    assert element["text"]["type"] == "plain_text"
    assert 1 <= ulen(element["text"]["text"]) <= 75
    assert 0 < len(element["value"]) <= 2000
    assert 0 < len(element["action_id"]) <= 255
    return str(element["action_id"])


def _raw_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for k, v in node.items() if k != "text" or not isinstance(v, str) for t in _raw_texts(v)]
    if isinstance(node, list):
        return [t for item in node for t in _raw_texts(item)]
    return []


# --- the skew card ------------------------------------------------------------------------------------


def test_skew_card_structure() -> None:
    message = card(skew_diagnosis())
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"].startswith("⛔ Token refused: Clock skew")
    assert "1 min 10 s ahead" in header["text"]["text"]
    assert message.text == header["text"]["text"]

    why = block_text(message.blocks[1])
    assert "nbf is 1 min 10 s in the future" in why
    assert "same for iat" in why, "nbf and iat merged into one cause line"
    assert why.count("Clock skew") == 0, "the only cause is named by the header, not repeated"
    assert "Signature not checked (no key configured)." in why

    fixes = [block_text(b) for b in blocks_of(message, "section") if role(b).startswith("fix")]
    # nbf 70 s ahead: the fix's title shows the card's one figure, the need rounded up to 10 s
    title = fill(KNOWLEDGE.workarounds["clock_leeway"].title_template, {"leeway": "70"})
    assert fixes[0].startswith(f"*What fixes it*\n*1.* {escape(title)} · ")
    assert "*85%*" in fixes[0] and "*75%*" in fixes[1] and "Sync the clocks with NTP" in fixes[1]
    assert "here" not in " ".join(fixes), "no votes yet"

    dead = next(block_text(b) for b in message.blocks if role(b) == "dead")
    assert dead.startswith("*Don't bother:* ")
    assert "regenerating the token (70% fail)" in dead and "disabling validation (90% fail)" in dead
    assert "\n" not in dead, "dead ends on one line"

    facts = next(block_text(b) for b in message.blocks if role(b) == "facts")
    assert "iss https://login.acme.test/ · aud orders-api · sub u1" in facts
    assert "exp in 14 min (21:14 UTC)" in facts
    assert "[redacted]" in facts and "fingerprint " in facts

    show_fix = [b for b in buttons(message) if b["action_id"].startswith(ACTION_SHOW_FIX)]
    assert [b["text"]["text"] for b in show_fix] == [
        "Show fix: spring-security",
        "Show fix: express-jwt",
        "Show fix: PyJWT",
        "Show fix: jsonwebtoken",
    ]
    assert show_fix[2]["value"] == "c0ffee|pyjwt"

    provenance = block_text(message.blocks[-1])
    assert provenance.startswith(KNOWLEDGE.provenance)
    assert "this workspace's votes" in provenance


def test_skew_card_fits_the_before_click_budget() -> None:
    message = card(skew_diagnosis(), live_token_warning=True, votes={"clock_leeway": {"fixed": 4, "didnt_help": 1}})
    assert len(message.blocks) <= 15
    assert visible_chars(message) <= 1200, visible_chars(message)


def test_recognised_library_is_offered_first() -> None:
    diagnosis = skew_diagnosis("jwt.exceptions.ImmatureSignatureError: The token is not yet valid (nbf)")
    assert diagnosis.library is Library.PYJWT
    labels = [b["text"]["text"] for b in buttons(card(diagnosis)) if b["action_id"].startswith(ACTION_SHOW_FIX)]
    assert labels[0] == "Show fix: PyJWT"
    assert len(labels) == len(set(labels)) <= 5


def test_vote_buttons_carry_only_card_id_workaround_and_vote() -> None:
    message = card(skew_diagnosis(), card_id="k7")
    votes = [b for b in buttons(message) if VOTE_ACTION_RE.match(b["action_id"])]
    assert [(b["text"]["text"], b["value"]) for b in votes[:2]] == [
        ("This fixed it", "k7|clock_leeway|fixed"),
        ("Didn't help", "k7|clock_leeway|didnt_help"),
    ]
    assert [b["value"] for b in votes[2:4]] == ["k7|sync_clocks_ntp|fixed", "k7|sync_clocks_ntp|didnt_help"]
    assert all(parse_vote_value(b["value"]) is not None for b in votes)
    assert all(b["action_id"].startswith(ACTION_VOTE) for b in votes)
    for button in buttons(message):
        assert SHOW_FIX_ACTION_RE.match(button["action_id"]) or VOTE_ACTION_RE.match(button["action_id"])


def test_only_the_top_three_fixes_get_vote_buttons() -> None:
    diagnosis = skew_diagnosis()._replace(workarounds=tuple(KNOWLEDGE.workarounds.values())[:6])
    message = card(diagnosis)
    votes = [b for b in buttons(message) if VOTE_ACTION_RE.match(b["action_id"])]
    assert len(votes) == 6
    shown = [block_text(b) for b in message.blocks if role(b).startswith("fix")]
    assert sum(len(re.findall(r"^\*\d+\.\* ", text, re.MULTILINE)) for text in shown) == 5
    assert "+1 more" in shown[-1]
    assert len(message.blocks) <= 15


def test_votes_show_fixed_of_total_here() -> None:
    message = card(skew_diagnosis(), votes={"sync_clocks_ntp": {"fixed": 4, "didnt_help": 1}})
    line = next(block_text(b) for b in message.blocks if "Sync the clocks" in block_text(b))
    assert line.endswith("*75%* · 4 of 5 here")
    other = next(block_text(b) for b in message.blocks if "clock leeway" in block_text(b))
    assert "here" not in other


def test_no_rate_is_shown_for_an_unrated_workaround() -> None:
    unrated = replace(KNOWLEDGE.workarounds["clock_leeway"], success_rate=None)
    message = card(skew_diagnosis()._replace(workarounds=(unrated,)))
    line = next(block_text(b) for b in message.blocks if "clock leeway" in block_text(b))
    assert "%" not in line


# --- after a click --------------------------------------------------------------------------------------


def test_expanded_card_shows_the_pyjwt_snippet_and_keeps_the_rest() -> None:
    diagnosis = skew_diagnosis()
    before = card(diagnosis)
    after = card(diagnosis, expanded_library="pyjwt")
    snippets = [b for b in after.blocks if role(b).startswith("snip")]
    assert snippets
    code = block_text(snippets[0])
    assert code.startswith("*1. PyJWT 2.8.0* · python")
    # nbf is 70 s ahead: the snippet carries the card's one figure; an HS256 token, its secret from the environment
    pattern = (
        r'```\nimport os\n\nimport jwt\n.*os\.environ\["JWT_SECRET"\],\n'
        r'    algorithms=\["HS256"\],.*leeway=70,\n\)\n```'
    )
    assert re.search(pattern, code, re.DOTALL)
    assert "For any stack" in block_text(snippets[1]) and "timedatectl" in block_text(snippets[1])
    unchanged = [b for b in after.blocks if not role(b).startswith("snip")]
    for old, new in zip(before.blocks, unchanged, strict=True):
        if role(old) == "libs":
            continue
        assert old == new
    pressed = [b for b in buttons(after) if b.get("style") == "primary"]
    assert [b["text"]["text"] for b in pressed] == ["Show fix: PyJWT"]


def test_expanded_card_says_when_a_fix_has_no_snippet_for_the_library() -> None:
    only_pyjwt = Workaround(
        "only_pyjwt",
        "A PyJWT-only fix",
        "",
        0.5,
        "card",
        "c",
        (CauseId.CLOCK_SKEW,),
        MappingProxyType({"pyjwt": Snippet("pyjwt", "2.8.0", "python", "jwt.decode(t, leeway=30)")}),
    )
    message = card(skew_diagnosis()._replace(workarounds=(only_pyjwt,)), expanded_library="jsonwebtoken")
    snippet = next(block_text(b) for b in message.blocks if role(b).startswith("snip"))
    assert snippet == "1. No jsonwebtoken snippet for this fix."
    assert "```" not in json.dumps(message.blocks)


# --- other verdicts ----------------------------------------------------------------------------------


def test_a_token_with_nothing_wrong_but_no_key_is_not_called_valid() -> None:
    report = diagnose(make_token())
    message = card(report.diagnoses[0])
    assert message.blocks[0]["text"]["text"] == "🔎 No problem found, but signature not checked"
    why = block_text(message.blocks[1])
    assert "Signature not checked (no key configured)." in why and "aud=… iss=…" in why
    assert not buttons(message)
    assert "Don't bother" not in json.dumps(message.blocks)


def test_valid_token_card_once_audience_issuer_and_signature_are_checked() -> None:
    from bot.diagnosis.signature import HmacSecret, KeyResolution
    from bot.pipeline import diagnose_text

    secret = KeyResolution(secrets=(HmacSecret("S", SECRET),))
    report = diagnose_text(make_token(), EXPECT, NOW, knowledge=KNOWLEDGE, keys=lambda _raw: secret)
    message = card(report.diagnoses[0])
    assert message.blocks[0]["text"]["text"] == "✅ Token valid"


def test_error_text_card_shows_the_escaped_excerpt_and_library() -> None:
    report = diagnose("jwt.exceptions.InvalidAudienceError: Audience doesn't match <!channel>")
    diagnosis = report.diagnoses[0]
    assert diagnosis.source is Source.ERROR_TEXT
    message = card(diagnosis)
    assert message.blocks[0]["text"]["text"].startswith("⛔ Error: ")
    raw = message.blocks[1]["text"]["text"]
    assert raw.startswith("*Error text from PyJWT:* `")
    assert "InvalidAudienceError" in raw
    assert "&lt;!channel&gt;" in raw
    assert "Signature" not in raw
    labels = [b["text"]["text"] for b in buttons(message) if b["action_id"].startswith(ACTION_SHOW_FIX)]
    assert labels[0] == "Show fix: PyJWT"


def test_malformed_and_unverifiable_headers() -> None:
    malformed = Diagnosis(
        Source.TOKEN,
        0,
        Verdict.MALFORMED,
        (_cause(CauseId.MALFORMED, "Not a well-formed JWT"),),
        TokenView("jws", "eyJhbGciOi.[redacted]", "0123456789abcdef", None, None),
    )
    assert card(malformed).blocks[0]["text"]["text"] == "⛔ Malformed token: Not a well-formed JWT"
    jwe = Diagnosis(
        Source.TOKEN,
        0,
        Verdict.UNVERIFIABLE,
        (_cause(CauseId.ENCRYPTED_TOKEN, "Encrypted"),),
        TokenView(
            "jwe",
            "eyJhbGciOiJSU0EtT0FFUCJ9.[redacted]",
            "0123456789abcdef",
            {"alg": "RSA-OAEP", "enc": "A256GCM"},
            None,
        ),
    )
    message = card(jwe)
    assert message.blocks[0]["text"]["text"] == "⚠️ Token can't be checked: Encrypted"
    assert "alg RSA-OAEP · enc A256GCM" in json.dumps(message.blocks, ensure_ascii=False)


def test_signature_line_for_each_status() -> None:
    base = skew_diagnosis()
    verified = card(base._replace(signature=SignatureStatus.VERIFIED, signature_detail="verified with kid k1"))
    assert "✅ Signature verified (with kid k1)." in block_text(verified.blocks[1])
    invalid = card(base._replace(signature=SignatureStatus.INVALID, signature_detail="signature invalid: <@U1>"))
    assert "⛔ Signature invalid (&lt;@U1&gt;)." in invalid.blocks[1]["text"]["text"]


# --- live token warning ----------------------------------------------------------------------------------


def test_live_token_warning_names_the_expiry_in_utc() -> None:
    message = card(skew_diagnosis(), live_token_warning=True)
    warning = next(block_text(b) for b in message.blocks if role(b) == "live")
    assert warning == "⚠️ The message above exposes a live token until 21:14 UTC: delete it and rotate the token."
    assert "live" not in [role(b) for b in card(skew_diagnosis()).blocks]


def test_live_token_warning_without_expiry() -> None:
    diagnosis = diagnose(make_token(claims(exp=None))).diagnoses[0]
    warning = next(block_text(b) for b in card(diagnosis, live_token_warning=True).blocks if role(b) == "live")
    assert "exposes a token with no expiry: delete it and rotate the token" in warning


# --- escaping and injection --------------------------------------------------------------------------


def test_claims_cannot_ping_or_plant_links() -> None:
    evil = " ".join(INJECTIONS)
    token = make_token(claims(sub=evil, iss=evil, aud=evil, name=evil, exp=T - 30))
    report = diagnose(f"{evil} {token}")
    messages = [card(d, live_token_warning=True) for d in report.diagnoses]
    messages += render_cards(report, KNOWLEDGE, lambda i, d: CardOptions(f"c{i}"))
    for message in messages:
        assert_slack_limits(message)
        dumped = json.dumps(message.blocks, ensure_ascii=False) + message.text
        for needle in ("<!", "<@", "<http", "<#"):
            assert needle not in dumped
    dumped = json.dumps(messages[0].blocks, ensure_ascii=False)
    assert "&lt;!channel&gt;" in dumped, "the value is shown, escaped"
    assert "&amp;lt;" in dumped, "an entity in a claim is shown as typed, not decoded"
    assert "&lt;https://evil.example|click&gt;" in dumped


def test_control_and_bidi_characters_are_shown_as_escapes() -> None:
    token = make_token(claims(sub="u1\n*fake line*\u202egnp.exe\x1b[31m"))
    facts = next(block_text(b) for b in card(diagnose(token).diagnoses[0]).blocks if role(b) == "facts")
    assert "sub u1\\u000a*fake line*\\u202egnp.exe\\u001b[31m" in facts
    assert "\n" not in facts and "\u202e" not in facts and "\x1b" not in facts


def test_fallback_text_is_escaped_and_short() -> None:
    cause = _cause(CauseId.ISSUER_MISMATCH, "Issuer mismatch: iss <!channel> & " + "x" * 500)
    message = card(_token_diagnosis((cause,)))
    assert message.text.startswith("⛔ Token refused: Issuer mismatch: iss &lt;!channel&gt; &amp; x")
    assert len(message.text) <= 300


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(alphabet=st.sampled_from(list("<>&!@#|:/ ahttps`*_~\n\u202e😀")), max_size=400))
def test_any_claim_text_is_escaped_and_within_limits(value: str) -> None:
    view = TokenView(
        "jws",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted]",
        "0123456789abcdef",
        {"alg": value},
        {"iss": value, "aud": [value, value], "sub": value, "exp": value},
    )
    cause = Cause(CauseId.ISSUER_MISMATCH, value or "x", (Evidence("iss", "r", value),) * 3, 0.8)
    diagnosis = Diagnosis(
        Source.TOKEN,
        0,
        Verdict.INVALID,
        (cause,),
        view,
        error_text=value,
        signature_detail=value,
        skipped_checks=(value,),
    )
    for options in (CardOptions("x"), CardOptions("x", expanded_library=value or None, live_token_warning=True)):
        message = render_card(diagnosis, T, KNOWLEDGE, options)
        assert_slack_limits(message)
    error = diagnosis._replace(source=Source.ERROR_TEXT, token=None, verdict=Verdict.INVALID)
    assert_slack_limits(render_card(error, T, KNOWLEDGE, CardOptions("x")))


# --- limits --------------------------------------------------------------------------------------------


def test_two_hundred_diagnoses_become_five_compact_cards_and_a_summary() -> None:
    tokens = [
        make_token(claims(sub=f"user{i}", nbf=T + 70 if i % 2 else None, exp=T + 840 if i % 3 else T - 9999))
        for i in range(200)
    ]
    report = diagnose(" ".join(tokens))
    assert len(report.diagnoses) == 200
    messages = render_cards(report, KNOWLEDGE, lambda i, d: CardOptions(f"card{i}", live_token_warning=True))
    assert len(messages) == 6
    for message in messages:
        assert_slack_limits(message)
    for message in messages[:5]:
        assert len(message.blocks) <= 15
        assert visible_chars(message) <= 1200
    assert messages[-1].text.startswith("…and 195 tokens: ")
    assert "refused (" in messages[-1].text
    # compact: at most two vote rows per card
    assert all(len([b for b in buttons(m) if VOTE_ACTION_RE.match(b["action_id"])]) <= 4 for m in messages[:5])


def test_render_cards_counts_what_the_engine_omitted() -> None:
    report = replace(diagnose(skew_token()), omitted=12)
    messages = render_cards(report, KNOWLEDGE, lambda i, d: CardOptions("c"))
    assert len(messages) == 2
    assert messages[-1].text == "…and 12 more not checked"
    assert render_cards(replace(report, diagnoses=(), omitted=0), KNOWLEDGE, lambda i, d: CardOptions("c"))[0].text


def test_a_huge_token_stays_within_limits() -> None:
    big = "<!channel>&" * 10_000  # ~110 KB: the engine calls it malformed (too large to decode)
    token = make_token(claims(iss=big, aud=[big] * 3, sub=big, name=big, exp=T - 30, nbf=big))
    report = diagnose(f"{big} {token} {big}")
    for diagnosis in report.diagnoses:
        message = card(diagnosis, live_token_warning=True, expanded_library="pyjwt")
        assert len(json.dumps(message.blocks)) < 20_000


def test_claims_with_100_kb_strings_stay_within_limits() -> None:
    big = "<!channel>&" * 10_000
    view = TokenView(
        "jws",
        "eyJhbGciOiJIUzI1NiJ9." + "eyJ" * 40_000 + ".[redacted]",
        "f" * 100_000,
        {"alg": big, "kid": big},
        {"iss": big, "aud": [big] * 50, "sub": big, "name": big, "exp": big},
    )
    cause = Cause(CauseId.ISSUER_MISMATCH, big, (Evidence("iss", "r", big), Evidence("aud", "r", big)), 0.8)
    diagnosis = _token_diagnosis((cause, cause))._replace(
        token=view,
        signature_detail=big,
        skipped_checks=(big,),
        workarounds=KNOWLEDGE.advise([CauseId.ISSUER_MISMATCH])[0],
    )
    for verdict in Verdict:
        message = card(diagnosis._replace(verdict=verdict), live_token_warning=True, expanded_library="pyjwt")
        assert len(json.dumps(message.blocks)) < 20_000
        header = message.blocks[0]["text"]["text"]
        if verdict is not Verdict.VALID:
            assert header.endswith("…")
            assert re.sub(r"&(amp|lt|gt);", "", header).count("&") == 0, "no entity cut in half"
        facts = next(block_text(b) for b in message.blocks if role(b) == "facts")
        assert facts.endswith("[redacted]` · fingerprint ffff…ffff")


def test_three_hundred_evidence_items_and_causes_stay_within_limits() -> None:
    evidence = tuple(Evidence(f"claim{i}", "r", f"<@U{i}> " + "detail " * 200) for i in range(300))
    causes = tuple(Cause(cause_id, f"{cause_id.value} " * 40, evidence, 0.5) for cause_id in CauseId)
    diagnosis = _token_diagnosis(causes)._replace(
        workarounds=tuple(KNOWLEDGE.workarounds.values()), dead_ends=tuple(KNOWLEDGE.dead_ends.values())
    )
    for options in ({}, {"expanded_library": "pyjwt"}, {"expanded_library": "nope", "live_token_warning": True}):
        message = card(diagnosis, **options)
        assert len(message.blocks) <= 25
    assert len(card(diagnosis).blocks) <= 15


def test_oversized_knowledge_and_votes_stay_within_limits() -> None:
    huge = "<x & y> " * 5_000
    snippets = MappingProxyType({lib.value: Snippet(lib.value, "1" * 300, huge, huge, huge) for lib in Library})
    workarounds = tuple(
        Workaround(f"w{i}", huge, huge, 0.5, "card", "c", (CauseId.CLOCK_SKEW,), snippets) for i in range(30)
    )
    dead_ends = tuple(DeadEnd(f"d{i}", huge, huge, 0.7, "card", "c", (CauseId.CLOCK_SKEW,)) for i in range(30))
    knowledge = _knowledge(workarounds, dead_ends, provenance_title=huge)
    diagnosis = skew_diagnosis()._replace(workarounds=workarounds, dead_ends=dead_ends)
    votes = {f"w{i}": {"fixed": 10**30, "didnt_help": 10**30} for i in range(30)}
    card_id = "k" * 128
    for expanded in (None, "pyjwt", "jose"):
        for revision in (0, 10**40):
            options = CardOptions(card_id, expanded, votes, True, revision)
            message = render_card(diagnosis, T, knowledge, options)
            assert_slack_limits(message)


def test_fit_caps_blocks_and_total_text() -> None:
    blocks = [SectionBlock(text=MarkdownTextObject(text="x" * 3000), block_id="same") for _ in range(80)]
    fitted = fit(blocks, "card", 3)
    assert_slack_limits(Message("t", fitted))
    assert len(fitted) <= 5, "about 11k characters of text at most"
    assert fitted[-1]["type"] == "context" and "left out" in fitted[-1]["elements"][0]["text"]
    small = [SectionBlock(text=MarkdownTextObject(text="x"), block_id="b") for _ in range(80)]
    fitted = fit(small, "card", 3)
    assert_slack_limits(Message("t", fitted))
    assert len(fitted) == 50
    assert fitted[0]["block_id"] == "jc-card-r3-b"


def test_a_card_id_that_could_break_button_values_is_refused() -> None:
    with pytest.raises(ValueError, match="card_id"):
        CardOptions("a|b")
    with pytest.raises(ValueError, match="card_id"):
        CardOptions("x" * 129)
    with pytest.raises(ValueError, match="card_id"):
        CardOptions("")


def test_block_ids_are_fresh_per_revision_and_unique() -> None:
    diagnosis = skew_diagnosis()
    first = card(diagnosis, revision=0)
    second = card(diagnosis, revision=1)
    ids0 = [b["block_id"] for b in first.blocks]
    ids1 = [b["block_id"] for b in second.blocks]
    assert len(ids0) == len(ids1)
    assert not set(ids0) & set(ids1)
    assert [role(b) for b in first.blocks] == [role(b) for b in second.blocks]


# --- redaction ------------------------------------------------------------------------------------------


def test_no_signature_anywhere() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    inner = make_token(claims(sub="inner"))
    tokens = [
        make_token(claims(nbf=T + 70)),
        make_token(claims(exp=T - 5000), alg="RS256", key=pem),
        make_token(claims(aud="other-api", note=f"nested {inner}")),
        make_token({"sub": "x"}, alg="HS512", key=SECRET + "-512"),
    ]
    report = diagnose("PyJWT says: Signature has expired\n" + "\n".join(tokens) + f"\nerror near {inner}")
    messages = [card(d, live_token_warning=True, expanded_library="pyjwt") for d in report.diagnoses]
    messages += render_cards(report, KNOWLEDGE, lambda i, d: CardOptions(f"c{i}"))
    dumped = "\n".join(json.dumps(m.blocks, ensure_ascii=False) + m.text for m in messages)
    for token in [*tokens, inner]:
        assert signature_of(token) not in dumped
        assert signature_of(token)[:16] not in dumped
    assert "[redacted]" in dumped


def test_no_signature_even_when_upstream_text_carries_a_whole_token() -> None:
    token = make_token({"a": 1})
    long = f"{token} " * 3
    cause = Cause(CauseId.SIGNATURE_INVALID, f"Bad {long}", (Evidence("sub", "r", long),), 0.9)
    view = TokenView(
        "jws",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted]",
        "0123456789abcdef",
        {"alg": "HS256", "kid": long},
        {"sub": long, "iss": long, "aud": [long], "exp": T + 60},
    )
    diagnosis = Diagnosis(Source.TOKEN, 0, Verdict.INVALID, (cause,), view, signature_detail=long, error_text=long)
    for source in Source:
        message = card(diagnosis._replace(source=source), live_token_warning=True)
        dumped = json.dumps(message.blocks, ensure_ascii=False) + message.text
        assert signature_of(token)[:12] not in dumped
        assert "[redacted]" in dumped or source is Source.ERROR_TEXT


# --- summary line -----------------------------------------------------------------------------------------


def test_summary_line() -> None:
    report = diagnose(" ".join([skew_token(), make_token(claims(exp=T - 9999)), make_token()]))
    assert render_summary_line(report) == (
        "3 tokens checked: 2 refused (clock skew, expired), "
        "1 with no problem found (audience, issuer or signature not checked)"
    )
    mixed = diagnose(f"{make_token()} jwt.exceptions.InvalidAudienceError: Audience doesn't match")
    assert render_summary_line(mixed).startswith("1 token and 1 error message checked: 1 refused (")
    assert render_summary_line(replace(report, diagnoses=())).startswith("No JWT")


# --- interactive values and mrkdwn helpers ------------------------------------------------------------------


def test_button_values_parse_back() -> None:
    assert parse_show_fix_value("c1|pyjwt") == ("c1", "pyjwt")
    assert parse_vote_value("c1|clock_leeway|didnt_help") == ("c1", "clock_leeway", "didnt_help")
    assert parse_vote_value("c1|clock_leeway|maybe") is None
    assert parse_show_fix_value("c1|a|b") is None
    assert SHOW_FIX_ACTION_RE.match("jwtcheck_show_fix:0") and not SHOW_FIX_ACTION_RE.match("jwtcheck_vote:1")


@pytest.mark.parametrize("limit", range(1, 30))
def test_clip_never_cuts_an_entity(limit: int) -> None:
    text = escape("a<b&c>d" * 5)
    clipped = clip(text, limit)
    assert ulen(clipped) <= limit
    body = clipped.removesuffix("…")
    assert re.sub(r"&(amp|lt|gt);", "", body).count("&") == 0
    assert text.startswith(body)


def test_clip_counts_utf16_units() -> None:
    assert ulen("😀") == 2
    assert ulen(clip("😀" * 100, 151)) <= 151
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"
    assert escape("*_~`'\"") == "*_~`'\"", "nothing but & < > is escaped"


# --- builders ---------------------------------------------------------------------------------------------


def _cause(cause_id: CauseId, summary: str) -> Cause:
    return Cause(cause_id, summary, (Evidence(None, "r", f"{summary} evidence"),), 0.9)


def _token_diagnosis(causes: tuple[Cause, ...]) -> Diagnosis:
    view = TokenView(
        "jws",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted]",
        "0123456789abcdef",
        {"alg": "HS256"},
        {"sub": "x", "exp": T + 60},
    )
    return Diagnosis(Source.TOKEN, 0, Verdict.INVALID, causes, view)


def _knowledge(workarounds: tuple[Workaround, ...], dead_ends: tuple[DeadEnd, ...], provenance_title: str) -> Knowledge:
    versions = tuple(LibraryVersion(lib.value, provenance_title[:200], "9" * 100) for lib in Library)
    card_ = Card("c", provenance_title, "api", "auth", provenance_title, 0.8, "", versions)
    causes = {cause: CauseInfo(cause, cause.value, "") for cause in CauseId}
    return Knowledge([card_], causes, workarounds, dead_ends, small_leeway=KNOWLEDGE.small_leeway)
