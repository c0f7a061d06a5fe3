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
