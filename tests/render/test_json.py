"""The JSON document: compact, each diagnosis naming its advice, the knowledge said once."""

from __future__ import annotations

import json

from bot.diagnosis import Expectations
from bot.diagnosis.decode import decode_token
from bot.knowledge import default_knowledge
from bot.pipeline import diagnose_text
from bot.render.json import diagnosis_to_dict, dumps, report_to_dict
from tests.support.tokens import AUDIENCE, ISSUER, NOW, T, claims, make_token

KNOWLEDGE = default_knowledge()
EXPECT = Expectations(audiences=(AUDIENCE,), issuers=(ISSUER,))


def document_for(text: str) -> dict:  # type: ignore[type-arg]
    report = diagnose_text(text, EXPECT, NOW, knowledge=KNOWLEDGE)
    parsed: dict = json.loads(dumps(report_to_dict(report, KNOWLEDGE)))  # type: ignore[type-arg]
    return parsed


def test_each_diagnosis_names_its_advice_and_the_knowledge_section_says_the_rest_once() -> None:
    tokens = [make_token(claims(exp=T - 7200, n=n)) for n in range(3)] + [make_token(claims(aud="billing-api"))]
    document = document_for("\n".join(tokens))
    knowledge = document["knowledge"]
    for diagnosis in document["diagnoses"]:
        for item in diagnosis["workarounds"]:
            assert set(item) >= {"id", "title", "success_rate", "source"} and "detail" not in item
            assert knowledge["workarounds"][item["id"]]["detail"] == KNOWLEDGE.workarounds[item["id"]].detail
        for item in diagnosis["dead_ends"]:
            assert set(item) >= {"id", "title", "fail_rate"} and "why" not in item
            assert knowledge["dead_ends"][item["id"]]["why"] == KNOWLEDGE.dead_ends[item["id"]].why
    named = {item["id"] for diagnosis in document["diagnoses"] for item in diagnosis["workarounds"]}
    assert set(knowledge["workarounds"]) == named


def test_a_recognised_library_keeps_its_snippet_with_the_diagnosis() -> None:
    document = document_for("jwt.exceptions.ExpiredSignatureError: Signature has expired")
    [diagnosis] = document["diagnoses"]
    assert diagnosis["library"] == "pyjwt"
    snippets = [item["snippet"] for item in diagnosis["workarounds"] if "snippet" in item]
    assert snippets and all(snippet["library"] in {"pyjwt", "any"} for snippet in snippets)


def test_the_document_is_compact_unless_asked_for_a_layout() -> None:
    report = diagnose_text(make_token(), EXPECT, NOW, knowledge=KNOWLEDGE)
    document = report_to_dict(report, KNOWLEDGE)
    assert dumps(document) == json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(dumps(document, indent=2)) == json.loads(dumps(document))


def test_a_diagnosis_object_names_its_advice_without_the_knowledge_section() -> None:
    [diagnosis] = diagnose_text(make_token(claims(exp=T - 20)), EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses
    item = json.loads(json.dumps(diagnosis_to_dict(diagnosis)))
    assert [w["id"] for w in item["workarounds"]] == [w.id for w in diagnosis.workarounds]
    assert all("detail" not in w for w in item["workarounds"])


def test_a_remembered_header_is_handed_out_as_a_copy() -> None:
    token = make_token()
    first = decode_token(token)
    assert first.header is not None
    first.header["alg"] = "changed"
    assert decode_token(token).header == {"alg": "HS256", "typ": "JWT"}


def _varied_diagnoses() -> list:  # type: ignore[type-arg]
    texts = [
        make_token(claims()),
        make_token(claims(nbf=T + 70, iat=T + 70)),  # the leeway fix: its title shows the card's figure
        make_token(claims(nbf=T + 200)),
        make_token(claims(exp=T - 3600)),
        make_token(claims(aud="billing-api")),
        make_token(claims(nbf=T + 70)) + " jwt.exceptions.ImmatureSignatureError: The token is not yet valid (nbf)",
        "JWT claims validation failed",
        make_token(claims(exp=(T + 600) * 1000)),
    ]
    return [d for text in texts for d in diagnose_text(text, EXPECT, NOW, knowledge=KNOWLEDGE).diagnoses]


def test_the_common_diagnosis_is_one_display_with_the_general_key_order_and_values() -> None:
    """_diagnosis_dict's fast path (no optional field) and its general one write the same keys in the same
    order: the general one, forced by an optional field and without it, is the fast one."""
    from bot.render.json import _diagnosis_dict

    fitting = (EXPECT, KNOWLEDGE)
    for diagnosis in _varied_diagnoses():
        if diagnosis.judged_at is not None or diagnosis.expected_from or diagnosis.libraries or diagnosis.next_steps:
            continue
        fast = _diagnosis_dict(diagnosis, shared=True, fitting=fitting)
        general = _diagnosis_dict(diagnosis._replace(expected_from=("aud",)), shared=True, fitting=fitting)
        del general["expected_from"]
        assert list(fast) == list(general) and fast == general


def test_shared_advice_lists_are_the_lists_each_diagnosis_would_get_alone() -> None:
    """Workaround lists shared by identity (and per leeway figure) hold what an unshared list holds."""
    from bot.render.json import _diagnosis_dict

    fitting = (EXPECT, KNOWLEDGE)
    diagnoses = _varied_diagnoses()
    assert any(w.title_template for d in diagnoses for w in d.workarounds)  # the figure-titled case is here
    for diagnosis in diagnoses * 2:  # the second time from the memos
        shared = _diagnosis_dict(diagnosis, shared=True, fitting=fitting)
        alone = _diagnosis_dict(diagnosis, shared=False, fitting=fitting)
        assert json.dumps(shared) == json.dumps(alone)
