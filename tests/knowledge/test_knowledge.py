from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from bot.diagnosis.advice import fill
from bot.diagnosis.leeway import BEYOND_SAFE, SmallLeeway
from bot.diagnosis.model import CauseId
from bot.knowledge import (
    ANY_LIBRARY,
    DATA_DIR,
    DeadEnd,
    Knowledge,
    KnowledgeError,
    Workaround,
    default_knowledge,
    load_knowledge,
)

SEED = DATA_DIR / "jwt-claims-validation-failed.toml"
CARD_LIBRARIES = {
    "spring-security": "6.2.0",
    "express-jwt": "8.4.0",
    "pyjwt": "2.8.0",
    "jsonwebtoken": "9.0.0",
}


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return default_knowledge()


def ids(items: Iterable[Workaround | DeadEnd]) -> list[str]:
    return [item.id for item in items]


# --- the packaged data ------------------------------------------------------------------------


def test_default_knowledge_loads_once(kb: Knowledge) -> None:
    assert default_knowledge() is kb
    assert [card.id for card in kb.cards] == ["api/jwt-claims-validation-failed"]


def test_card_provenance(kb: Knowledge) -> None:
    card = kb.cards[0]
    assert card.verification == "ai_generated"
    assert card.fix_rate == 0.80
    assert [(v.library, v.display, v.version) for v in card.versions] == [
        ("spring-security", "spring-security", "6.2.0"),
        ("express-jwt", "express-jwt", "8.4.0"),
        ("pyjwt", "PyJWT", "2.8.0"),
        ("jsonwebtoken", "jsonwebtoken", "9.0.0"),
    ]
    assert kb.provenance == "Rates: AI-generated estimates from the source card (fix rate 80%)"


def test_every_cause_has_info_and_a_workaround(kb: Knowledge) -> None:
    for cause in CauseId:
        info = kb.causes[cause]
        assert info.id is cause
        assert info.title and info.explanation
        workarounds, _ = kb.advise([cause])
        assert workarounds, cause


def test_seed_rates_are_preserved(kb: Knowledge) -> None:
    rated = {w.id: w.success_rate for w in kb.workarounds.values() if w.source == "card"}
    assert rated == {"sync_clocks_ntp": 0.75, "clock_leeway": 0.85, "verify_aud_iss": 0.90}
    failing = {d.id: d.fail_rate for d in kb.dead_ends.values() if d.source == "card"}
    assert failing == {"regenerate_token": 0.70, "disable_validation": 0.90, "edit_claims": 0.80}


def test_entries_added_by_jwtcheck_carry_no_rate(kb: Knowledge) -> None:
    added = [w.success_rate for w in kb.workarounds.values() if w.source == "jwtcheck"]
    added += [d.fail_rate for d in kb.dead_ends.values() if d.source == "jwtcheck"]
    assert added and all(rate is None for rate in added)


def test_seed_workarounds_map_to_their_causes(kb: Knowledge) -> None:
    assert set(kb.workarounds["clock_leeway"].causes) == {CauseId.CLOCK_SKEW}
    assert CauseId.CLOCK_SKEW in kb.workarounds["sync_clocks_ntp"].causes
    assert {CauseId.AUDIENCE_MISMATCH, CauseId.ISSUER_MISMATCH} <= set(kb.workarounds["verify_aud_iss"].causes)
    # a missing claim (a missing sub, say) is not fixed by matching aud and iss
    assert CauseId.MISSING_CLAIM not in kb.workarounds["verify_aud_iss"].causes
    assert ids(kb.advise([CauseId.MISSING_CLAIM])[0])[0] == "check_sent_claim"


@pytest.mark.parametrize("workaround_id", ["clock_leeway", "verify_aud_iss"])
def test_seed_code_fixes_have_a_snippet_per_card_library(kb: Knowledge, workaround_id: str) -> None:
    snippets = kb.workarounds[workaround_id].snippets
    assert {lib: snippets[lib].version for lib in CARD_LIBRARIES} == CARD_LIBRARIES


def test_ntp_has_a_shell_snippet(kb: Knowledge) -> None:
    snippet = kb.workarounds["sync_clocks_ntp"].snippets[ANY_LIBRARY]
    assert snippet.language == "shell"
    assert "ntp" in snippet.code


def test_express_jwt_snippets_use_the_v8_api(kb: Knowledge) -> None:
    snippets = [w.snippets["express-jwt"] for w in kb.workarounds.values() if "express-jwt" in w.snippets]
    assert len(snippets) >= 5
    for snippet in snippets:
        assert 'const { expressjwt } = require("express-jwt")' in snippet.code
        assert "expressjwt(" in snippet.code
        assert "algorithms" in snippet.code
        assert not re.search(r"(?<!express)jwt\(\{", snippet.code)  # the pre-v7 default export


def test_library_specific_pitfalls(kb: Knowledge) -> None:
    spring = kb.workarounds["verify_aud_iss"].snippets["spring-security"].code
    assert "JwtAudienceValidator" not in spring  # only from 6.5
    assert "JwtClaimValidator<List<String>>" in spring
    leeway = kb.workarounds["clock_leeway"].snippets
    # Spring's default is already 60 s: its snippet must raise it, not lower it
    assert "new JwtTimestampValidator(Duration.ofSeconds(90))" in leeway["spring-security"].render()
    assert "leeway=30" in leeway["pyjwt"].render()
    assert "clockTolerance: 30" in leeway["jsonwebtoken"].render()
    # the evidence fills in the leeway that accepts the tokens seen
    assert "leeway=80" in leeway["pyjwt"].render({"leeway": "80"})
    assert all("{{" not in snippet.render() for snippet in leeway.values())
    for workaround in kb.workarounds.values():
        pyjwt = workaround.snippets.get("pyjwt")
        if pyjwt is not None:
            assert not re.search(r"issuer=\[", pyjwt.code), workaround.id  # a list needs PyJWT 2.9


def test_text_fits_the_card(kb: Knowledge) -> None:
    for info in kb.causes.values():
        assert len(info.title) <= 80
    for workaround in kb.workarounds.values():
        assert len(workaround.title) <= 80, workaround.id
        assert workaround.detail.count(". ") <= 2, workaround.id
        for snippet in workaround.snippets.values():
            assert len(snippet.code.strip().splitlines()) <= 15, (workaround.id, snippet.library)
    for dead_end in kb.dead_ends.values():
        assert len(dead_end.title) <= 80, dead_end.id


def test_snippet_versions_follow_the_library_list(kb: Knowledge) -> None:
    versions = {lib.library: lib.version for lib in (*kb.libraries, *kb.extra_libraries)}
    for workaround in kb.workarounds.values():
        for key, snippet in workaround.snippets.items():
            assert snippet.library == key
            assert snippet.version == versions.get(key, ""), (workaround.id, key)


# --- advise -------------------------------------------------------------------------------------


def test_advise_orders_by_cause_rank_then_rate(kb: Knowledge) -> None:
    workarounds, _ = kb.advise([CauseId.AUDIENCE_MISMATCH, CauseId.CLOCK_SKEW])
    assert ids(workarounds) == ["verify_aud_iss", "access_token_for_api", "clock_leeway", "sync_clocks_ntp"]
    workarounds, _ = kb.advise([CauseId.CLOCK_SKEW, CauseId.AUDIENCE_MISMATCH])
    assert ids(workarounds) == ["clock_leeway", "sync_clocks_ntp", "verify_aud_iss", "access_token_for_api"]


def test_advise_does_not_repeat_a_workaround(kb: Knowledge) -> None:
    workarounds, _ = kb.advise([CauseId.AUDIENCE_MISMATCH, CauseId.ISSUER_MISMATCH, CauseId.AUDIENCE_MISMATCH])
    assert ids(workarounds) == ["verify_aud_iss", "access_token_for_api"]


def test_advise_dead_ends_for_any_cause(kb: Knowledge) -> None:
    _, dead_ends = kb.advise([CauseId.CLOCK_SKEW])
    assert ids(dead_ends) == ["regenerate_token", "disable_validation", "edit_claims"]
    _, dead_ends = kb.advise([CauseId.UNKNOWN_KID])
    assert ids(dead_ends) == ["disable_validation"]
    assert kb.advise([]) == ((), ())


def test_regenerating_is_the_fix_for_expired_and_a_dead_end_for_skew(kb: Knowledge) -> None:
    workarounds, dead_ends = kb.advise([CauseId.EXPIRED])
    assert ids(workarounds)[0] == "request_fresh_token"
    assert "regenerate_token" not in ids(dead_ends)
    assert kb.dead_ends["regenerate_token"].same_as == "request_fresh_token"

    workarounds, dead_ends = kb.advise([CauseId.CLOCK_SKEW])
    assert "request_fresh_token" not in ids(workarounds)
    assert "regenerate_token" in ids(dead_ends)

    for causes in ([CauseId.EXPIRED, CauseId.CLOCK_SKEW], [CauseId.CLOCK_SKEW, CauseId.EXPIRED]):
        workarounds, dead_ends = kb.advise(causes)
        assert "request_fresh_token" in ids(workarounds)
        assert "regenerate_token" not in ids(dead_ends)
        assert not {w.id for w in workarounds} & {d.same_as for d in dead_ends}


def test_library_specific_workaround_only_for_its_library(kb: Knowledge) -> None:
    assert "pyjwt_issuer_string" not in ids(kb.advise([CauseId.ISSUER_MISMATCH])[0])
    assert "pyjwt_issuer_string" not in ids(kb.advise([CauseId.ISSUER_MISMATCH], "jsonwebtoken")[0])
    assert "pyjwt_issuer_string" in ids(kb.advise([CauseId.ISSUER_MISMATCH], "pyjwt")[0])


# --- libraries_for ------------------------------------------------------------------------------


def test_libraries_for_puts_the_recognised_library_first(kb: Knowledge) -> None:
    card_order = ["spring-security", "express-jwt", "pyjwt", "jsonwebtoken"]
    assert [lib.library for lib in kb.libraries] == card_order
    assert [lib.library for lib in kb.libraries_for(None)] == card_order
    assert [lib.library for lib in kb.libraries_for("no-such-library")] == card_order
    assert [lib.library for lib in kb.libraries_for("jsonwebtoken")] == [
        "jsonwebtoken",
        "spring-security",
        "express-jwt",
        "pyjwt",
    ]
    assert [lib.library for lib in kb.libraries_for("jose")] == ["jose", *card_order]
    assert kb.libraries_for("microsoft-identitymodel")[0].display == "Microsoft.IdentityModel"


# --- more cards, broken cards ---------------------------------------------------------------------


def _copy_with_new_ids(text: str, prefix: str) -> str:
    text = text.replace('id = "api/jwt-claims-validation-failed"', f'id = "api/{prefix}card"')
    text = re.sub(r"^\[(workarounds|dead_ends)\.(\w+)", rf"[\1.{prefix}\2", text, flags=re.MULTILINE)
    return re.sub(r'^same_as = "(\w+)"', rf'same_as = "{prefix}\1"', text, flags=re.MULTILINE)


def test_a_second_card_file_is_loaded_alongside(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    (tmp_path / SEED.name).write_text(text, encoding="utf-8")
    (tmp_path / "second.toml").write_text(
        _copy_with_new_ids(text, "b_").replace("fix_rate = 0.80", "fix_rate = 0.70"), encoding="utf-8"
    )
    kb = load_knowledge(tmp_path)
    assert [card.id for card in kb.cards] == ["api/jwt-claims-validation-failed", "api/b_card"]
    assert len(kb.workarounds) == 2 * len(default_knowledge().workarounds)
    assert kb.workarounds["b_clock_leeway"].card_id == "api/b_card"
    assert kb.dead_ends["b_regenerate_token"].same_as == "b_request_fresh_token"
    workarounds, _ = kb.advise([CauseId.CLOCK_SKEW])
    assert ids(workarounds)[:2] == ["clock_leeway", "b_clock_leeway"]
    assert "fix rate 80%" in kb.provenance and "api/b_card (fix rate 70%)" in kb.provenance


def _replace(old: str, new: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        assert old in text, f"test data drifted: {old!r} is gone"
        return text.replace(old, new, 1)

    return mutate


BROKEN = [
    pytest.param(
        _replace('causes = ["clock_skew"]', 'causes = ["clock_skewed"]'),
        "workarounds.clock_leeway.causes: unknown cause id 'clock_skewed'",
        id="bad-cause-id",
    ),
    pytest.param(
        _replace("success_rate = 0.85", "success_rate = 1.5"),
        "workarounds.clock_leeway.success_rate: 1.5 is outside 0..1",
        id="rate-1.5",
    ),
    pytest.param(
        _replace('same_as = "request_fresh_token"', 'same_as = "request_new_token"'),
        "dead_ends.regenerate_token.same_as: workaround 'request_new_token' is not defined",
        id="undefined-workaround",
    ),
    pytest.param(
        _replace('title = "Allow a clock leeway of {{leeway}} s in the validator"\n', ""),
        "workarounds.clock_leeway.title: missing",
        id="missing-title",
    ),
    pytest.param(
        _replace("[workarounds.clock_leeway.snippets.jose]", "[workarounds.clock_leeway.snippets.jjwtx]"),
        "workarounds.clock_leeway.snippets.jjwtx: snippet for unknown library 'jjwtx'",
        id="unknown-snippet-library",
    ),
    pytest.param(
        _replace(
            'source = "jwtcheck"\ncauses = ["expired"]',
            'source = "jwtcheck"\nsuccess_rate = 0.5\ncauses = ["expired"]',
        ),
        "workarounds.request_fresh_token.success_rate: jwtcheck entries carry no rate",
        id="invented-rate",
    ),
    pytest.param(
        _replace("fix_rate = 0.80\n", ""),
        "card.fix_rate: missing",
        id="missing-fix-rate",
    ),
    pytest.param(
        _replace("[causes.unknown_kid]", "[causes.unknown_key]"),
        "causes.unknown_key: unknown cause id 'unknown_key'",
        id="unknown-cause-section",
    ),
    pytest.param(
        _replace("[workarounds.refresh_jwks]", "[workarounds.refresh_jwks]\ntitel = 'typo'"),
        "workarounds.refresh_jwks.titel: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        _replace(
            "[workarounds.clock_leeway.snippets.pyjwt]\n",
            "[workarounds.clock_leeway.snippets.pyjwt]\nversion = '2.9.0'\n",
        ),
        "workarounds.clock_leeway.snippets.pyjwt.version: '2.9.0' differs from the card's '2.8.0'",
        id="snippet-version-drift",
    ),
    pytest.param(
        _replace("\n[card]\n", "\n[card\n"),
        "not valid TOML",
        id="not-toml",
    ),
    pytest.param(
        _replace("small = [30, 90]", "small = [90, 30]"),
        "leeway.small: [90, 30] is not [low, high], whole seconds with 0 < low <= high",
        id="small-leeway-upside-down",
    ),
    pytest.param(
        _replace("[dead_ends.regenerate_token.reasons]\n", "[dead_ends.regenerate_token.reasons]\nexpired = 'x'\n"),
        "dead_ends.regenerate_token.reasons.expired: not one of this dead end's causes",
        id="reason-for-a-cause-not-listed",
    ),
    pytest.param(
        _replace(
            'title = "Allow a clock leeway of {{leeway}} s in the validator"',
            'title = "Allow a clock leeway of {{leway}} s in the validator"',
        ),
        "workarounds.clock_leeway.title: unknown placeholder {{leway}}",
        id="unknown-title-placeholder",
    ),
    pytest.param(
        _replace("[snippets.keys.pyjwt.hmac]\nkey_import", "[snippets.keys.pyjwt.hmac]\nkey_imports"),
        "workarounds.clock_leeway.snippets.pyjwt.code: {{key_import}} has no text in snippets.keys.pyjwt.hmac",
        id="key-style-without-a-value",
    ),
    pytest.param(
        _replace('public = ["RS256",', 'asymmetric = ["RS256",'),
        "snippets.algorithms.asymmetric: not a key style an algorithm has",
        id="unknown-key-style",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BROKEN)
def test_broken_card_names_file_and_key(tmp_path: Path, mutate: Callable[[str], str], expected: str) -> None:
    text = mutate(SEED.read_text(encoding="utf-8"))
    (tmp_path / "broken.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    found = [m for p in caught.value.problems if (m := re.match(rf"broken\.toml:(\d+): {re.escape(expected)}", p))]
    assert found, caught.value.problems
    assert all("\n" not in problem for problem in caught.value.problems)
    line = text.splitlines()[int(found[0].group(1)) - 1]  # the line of the key, or of its table when missing
    assert "TOML" in expected or any(part in line for part in expected.split(": ")[0].split(".")[-2:]), line


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text.replace("api/jwt-claims", "api/other-claims"), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    lines = text.splitlines()
    workaround, dead_end = lines.index("[workarounds.clock_leeway]") + 1, lines.index("[dead_ends.edit_claims]") + 1
    assert (
        f"b.toml:{workaround}: workarounds.clock_leeway: duplicate workaround id 'clock_leeway' (also in a.toml)"
    ) in caught.value.problems
    assert f"b.toml:{dead_end}: dead_ends.edit_claims: duplicate dead end id 'edit_claims' (also in a.toml)" in (
        caught.value.problems
    )


def test_conflicting_cause_text_across_files(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    second = _copy_with_new_ids(text, "b_").replace('title = "Token expired"', 'title = "Expired"')
    (tmp_path / "b.toml").write_text(second, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"b\.toml:\d+: causes\.expired: differs from the same cause in a\.toml"):
        load_knowledge(tmp_path)


def test_every_cause_must_be_covered(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8")
    cut = re.sub(r'causes = \["malformed"\]', 'causes = ["expired"]', text)
    (tmp_path / "card.toml").write_text(cut, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"causes\.malformed: no workaround applies to this cause"):
        load_knowledge(tmp_path)


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match=r"no \*\.toml card files"):
        load_knowledge(tmp_path)


def test_an_unknown_snippet_placeholder_is_refused(tmp_path: Path) -> None:
    text = SEED.read_text(encoding="utf-8").replace("leeway={{leeway|30}}", "leeway={{leway|30}}")
    (tmp_path / "card.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"snippets.pyjwt.code: unknown placeholder \{\{leway"):
        load_knowledge(tmp_path)


# --- one leeway figure, snippets that fit, dead ends that fit their cause ---------------------------------


def _seed() -> dict[str, Any]:
    return tomllib.loads(SEED.read_text(encoding="utf-8"))


def test_the_small_leeway_is_the_datas_and_titles_name_it_without_a_figure(kb: Knowledge) -> None:
    low, high = _seed()["leeway"]["small"]
    assert kb.small_leeway == SmallLeeway(low, high)
    leeway = kb.workarounds["clock_leeway"]
    assert leeway.title_template == _seed()["workarounds"]["clock_leeway"]["title"]
    assert leeway.title == fill(leeway.title_template, {"leeway": f"{low}–{high}"})
    assert BEYOND_SAFE in leeway.title_beyond


def test_a_dead_end_gives_the_reason_written_for_the_cards_cause(kb: Knowledge) -> None:
    data = _seed()["dead_ends"]
    for dead_end in kb.dead_ends.values():
        written = data.get(dead_end.id, {}).get("reasons", {})
        for cause in dead_end.causes:
            assert dead_end.why_for([cause]) == written.get(cause.value, dead_end.why), (dead_end.id, cause)
    regenerate = kb.dead_ends["regenerate_token"]
    skew = regenerate.why_for([CauseId.CLOCK_SKEW])
    for cause in (CauseId.ALGORITHM_NOT_ALLOWED, CauseId.MISSING_CLAIM, CauseId.SIGNATURE_INVALID):
        reason = regenerate.why_for([cause])
        assert reason != skew and "skew" not in reason and "audience" not in reason, cause
    # on a card with several causes, the first one the dead end is shown for says why
    assert regenerate.why_for([CauseId.UNKNOWN_KID, CauseId.MISSING_CLAIM]) == regenerate.why_for(
        [CauseId.MISSING_CLAIM]
    )


def test_nothing_advised_as_a_fix_is_also_a_dead_end(kb: Knowledge) -> None:
    for first in CauseId:
        for second in (None, *CauseId):
            causes = [first] if second is None else [first, second]
            for library in (None, "pyjwt"):
                workarounds, dead_ends = kb.advise(causes, library)
                assert not {w.id for w in workarounds} & {d.same_as for d in dead_ends}, causes
                assert not {w.title for w in workarounds} & {d.title for d in dead_ends}, causes


def test_snippets_name_the_keys_by_style_and_fill_every_placeholder(kb: Knowledge) -> None:
    data = kb.snippet_data
    assert data.defaults["alg"] in data.algorithms and data.algorithms["HS256"] == "hmac"
    for workaround in kb.workarounds.values():
        for snippet in workaround.snippets.values():
            for style in ("hmac", "public", "jwks"):
                code = snippet.render({"alg": "HS256" if style == "hmac" else "ES256"}, style)
                assert "{{" not in code, (workaround.id, snippet.library, style)
