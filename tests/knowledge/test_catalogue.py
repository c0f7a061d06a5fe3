"""The error-text catalogue's start-up checks: the packaged file passes them all, and a bad entry is one
line naming the file, the line, the entry and what is wrong. (The matching: tests/diagnosis/test_error_texts.py.)"""

from __future__ import annotations

import re
import tomllib

import pytest

from bot.diagnosis.error_texts import anchor_of
from bot.diagnosis.model import CauseId, Library
from bot.knowledge import CATALOGUE_PATH, CatalogueError, default_catalogue, load_catalogue
from bot.knowledge.catalogue import catalogue_from_data, packaged_catalogue, packaged_files, regex_problem
from bot.knowledge.loader import default_knowledge

C = CauseId

GOOD_ENTRY = """
[[pattern]]
id = "x.one"
library = "pyjwt"
needle = "Signature has expired"
regex = 'Signature has expired'
causes = { expired = 0.7 }
explain = "Expired."
examples = ["Signature has expired"]
"""


def test_the_packaged_catalogue_loads() -> None:
    catalogue = default_catalogue()
    assert len(catalogue.patterns) > 100
    assert {p.library for p in catalogue.patterns} == {*Library, None}


def test_the_packaged_catalogue_passes_every_check_the_start_skips() -> None:
    checked = packaged_catalogue(checked=True)
    assert checked.patterns == default_catalogue().patterns
    assert [p.id for p in load_catalogue(CATALOGUE_PATH.read_text(encoding="utf-8")).patterns] == [
        p.id for p in checked.patterns[: len(tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["pattern"])]
    ]


def listed_anchors() -> list[str]:
    """The anchors of catalogue.toml, then those the stack files add, in that order."""
    anchors: list[str] = []
    for path in packaged_files():
        anchors += [a for a in tomllib.loads(path.read_text(encoding="utf-8")).get("anchors", []) if a not in anchors]
    return anchors


def test_every_needle_of_the_catalogue_has_an_anchor_from_the_list() -> None:
    """A needle outside the listed anchors would still be found (it is its own anchor), but it would cost
    every message a pass of its own: add an anchor for it to the catalogue's ``anchors``."""
    listed = listed_anchors()
    catalogue = default_catalogue()
    orphans = [needle for needle in catalogue.by_needle if anchor_of(needle, listed) not in listed]
    assert orphans == []
    grouped = [needle for needles in catalogue.anchors.values() for needle in needles]
    assert sorted(grouped) == sorted(catalogue.by_needle)  # each needle under exactly one anchor
    assert all(anchor in needle for anchor, needles in catalogue.anchors.items() for needle in needles)
    assert sorted(catalogue.anchors) == sorted(listed)  # and no listed anchor is left without a needle


def test_a_needle_takes_the_first_listed_anchor_it_contains() -> None:
    needle = "Signature has expired"
    assert load_catalogue('anchors = ["expired", "Signature"]\n' + GOOD_ENTRY).anchors == {"expired": (needle,)}
    assert load_catalogue('anchors = ["Signature", "expired"]\n' + GOOD_ENTRY).anchors == {"Signature": (needle,)}
    assert load_catalogue('anchors = ["nothing"]\n' + GOOD_ENTRY).anchors == {needle: (needle,)}  # its own anchor
    assert load_catalogue(GOOD_ENTRY).anchors == {needle: (needle,)}


def test_a_minimal_catalogue_loads() -> None:
    assert load_catalogue(GOOD_ENTRY).patterns[0].causes == ((C.EXPIRED, 0.7),)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("expired = 0.7", "expird = 0.7"), "unknown cause id 'expird'"),
        (('library = "pyjwt"', 'library = "pyjwtt"'), "unknown library 'pyjwtt'"),
        (("regex = 'Signature has expired'", "regex = 'Signature (has expired'"), "does not compile"),
        (("regex = 'Signature has expired'", "regex = '(?:a+)+Signature has expired'"), "unbounded quantifier"),
        (("regex = 'Signature has expired'", "regex = '(?:a{1,5}){1,5}Signature has expired'"), "inside a repeated"),
        (("regex = 'Signature has expired'", "regex = '(?:a|aa){1,5}Signature has expired'"), "alternation inside"),
        (("regex = 'Signature has expired'", "regex = '(?P<when>x)?Signature has expired'"), "unknown regex group"),
        (('needle = "Signature has expired"', 'needle = "has \\"expired"'), "needle: may not contain"),
        (('examples = ["Signature has expired"]', 'examples = ["Signature was expired"]'), "does not match"),
        (("expired = 0.7", "expired = 1.5"), "likelihood of expired"),
        (('explain = "Expired."', 'explain = "Expired."\nsurprise = 1'), "unknown keys ['surprise']"),
    ],
)
def test_a_bad_entry_is_refused_with_a_clear_error(change: tuple[str, str], complaint: str) -> None:
    old, new = change
    assert old in GOOD_ENTRY
    with pytest.raises(CatalogueError, match=r"x\.one") as error:
        load_catalogue(GOOD_ENTRY.replace(old, new))
    assert complaint in str(error.value)


def test_duplicate_ids_and_broken_toml_are_refused() -> None:
    with pytest.raises(CatalogueError, match="used twice"):
        load_catalogue(GOOD_ENTRY + GOOD_ENTRY)
    with pytest.raises(CatalogueError, match="not valid TOML"):
        load_catalogue("[[pattern]\n")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD_ENTRY.replace("expired = 0.7", "expird = 0.7"), "<string>:7: pattern['x.one'].causes: unknown cause id"),
        (
            GOOD_ENTRY.replace("expired = 0.7", "expired = 1.5"),
            "<string>:7: pattern['x.one']: likelihood of expired must be a number from 0.01 to 1",
        ),
        (GOOD_ENTRY.replace('"pyjwt"', '"pyjwtt"'), "<string>:4: pattern['x.one'].library: unknown library 'pyjwtt'"),
        (
            GOOD_ENTRY.replace('explain = "Expired."', 'surprise = 1\nexplain = "Expired."'),
            "<string>:8: pattern['x.one']: missing keys [], unknown keys ['surprise']",
        ),
        (GOOD_ENTRY.replace('id = "x.one"\n', ""), "<string>:2: pattern[0]: missing keys ['id']"),
        (GOOD_ENTRY + GOOD_ENTRY, "<string>:12: pattern['x.one']: pattern id 'x.one' is used twice"),
        ("[[pattern]\n", "<string>:1: not valid TOML: "),
        ('anchors = ["a", "b", "a"]\n' + GOOD_ENTRY, "<string>:1: anchors: 'a' is listed twice"),
        ("anchors = [1]\n" + GOOD_ENTRY, "<string>:1: anchors: must be a list of non-empty strings"),
        ("surprise = 1\n" + GOOD_ENTRY, "<string>:1: unknown top-level keys ['surprise']"),
        ("[timing]\nplausible_skew_seconds = 0\n" + GOOD_ENTRY, "<string>:2: timing.plausible_skew_seconds: must be"),
        (
            "[default_leeway]\npyjwt = { seconds = -1, setting = 'leeway' }\n" + GOOD_ENTRY,
            "<string>:2: default_leeway.pyjwt.seconds: must be a number from 0 to inf",
        ),
        (
            GOOD_ENTRY + '[[context]]\nlibrary = "pyjwt"\ntext_contains = "x"\nbecomes = "nope"\n',
            "<string>:13: context[0].becomes: unknown library 'nope'",
        ),
    ],
)
def test_a_problem_names_the_file_the_line_and_the_key(text: str, problem: str) -> None:
    with pytest.raises(CatalogueError) as error:
        load_catalogue(text)
    assert str(error.value).startswith(problem), str(error.value)
    assert error.value.problems == (str(error.value),) and "\n" not in str(error.value)


def test_the_packaged_file_names_its_lines_too() -> None:
    data = tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["pattern"][3]["causes"] = {"expird": 0.5}
    with pytest.raises(CatalogueError) as error:
        catalogue_from_data(data, source=CATALOGUE_PATH.name, text=CATALOGUE_PATH)
    pattern_id = data["pattern"][3]["id"]
    line = next(
        number
        for number, text in enumerate(CATALOGUE_PATH.read_text(encoding="utf-8").splitlines(), 1)
        if text == f'id = "{pattern_id}"'
    )
    assert re.fullmatch(
        rf"catalogue\.toml:(\d+): pattern\['{re.escape(pattern_id)}'\]\.causes: unknown cause id 'expird'; known: .*",
        str(error.value),
    )
    assert int(str(error.value).split(":")[1]) in range(line, line + 10)  # the entry's causes line


def test_regex_problem_accepts_linear_shapes() -> None:
    assert regex_problem(r"IDX10223: (?:a{0,5})?b{2}[^'\n]{1,200}(?=x)") is None
    assert regex_problem(r"a.*b") is not None
    assert regex_problem(r"(a)\1") is not None


# ------------------------------------------------------------------------------ each cause its own sentence

TWO_CAUSES = """
[[pattern]]
id = "x.two"
library = "pyjwt"
needle = "The token is not yet valid"
regex = 'The token is not yet valid'
causes = { clock_skew = 0.7, not_yet_valid = 0.5 }
why.not_yet_valid = "The issuer set nbf ahead on purpose."
claim = "nbf"
explain = "nbf is in the future."
examples = ["The token is not yet valid"]
"""


def test_every_later_cause_says_its_own_why_and_clock_skew_may_go_without() -> None:
    [pattern] = load_catalogue(TWO_CAUSES).patterns
    assert pattern.sentence(C.CLOCK_SKEW) == "nbf is in the future."
    assert pattern.sentence(C.NOT_YET_VALID) == "The issuer set nbf ahead on purpose."
    skew_later = TWO_CAUSES.replace(
        "{ clock_skew = 0.7, not_yet_valid = 0.5 }", "{ not_yet_valid = 0.7, clock_skew = 0.5 }"
    )
    [later] = load_catalogue(
        skew_later.replace('why.not_yet_valid = "The issuer set nbf ahead on purpose."\n', "")
    ).patterns
    assert later.sentence(C.CLOCK_SKEW) is None  # the matcher writes it from the claim and the times


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (('why.not_yet_valid = "The issuer set nbf ahead on purpose."\n', ""), "missing: ['not_yet_valid']"),
        (("why.not_yet_valid", "why.clock_skew"), "'clock_skew' is not one of the later causes"),
        (("why.not_yet_valid", "why.expired"), "'expired' is not one of the later causes"),
        (('"The issuer set nbf ahead on purpose."', '"nbf is in the future"'), "two causes share one sentence"),
        (('claim = "nbf"', "claim = \"nbf\"\nbelow = '(?P<kid>x)'"), "below: must name one or more of the groups"),
        (('claim = "nbf"', "claim = \"nbf\"\nbelow = 'nbf: (?P<nbf>.*)'"), "below: bad regex"),
        (('claim = "nbf"', 'claim = "nbf"\nseparator = " or "'), "the regex has none"),
    ],
)
def test_a_bad_why_below_or_separator_is_refused(change: tuple[str, str], complaint: str) -> None:
    old, new = change
    assert old in TWO_CAUSES
    with pytest.raises(CatalogueError, match=r"x\.two") as error:
        load_catalogue(TWO_CAUSES.replace(old, new))
    assert complaint in str(error.value)


def test_timing_and_context_keys_are_checked() -> None:
    with pytest.raises(CatalogueError, match=r"timing\.far_skew_likelihood: unknown key"):
        load_catalogue("[timing]\nfar_skew_likelihood = 0.1\n" + GOOD_ENTRY)
    rule = '[[context]]\nlibrary = "pyjwt"\ntext_contains = "x"\nbecomes = "python-jose"\n'
    assert load_catalogue(GOOD_ENTRY + rule + 'within = "line"\n').context_rules[0].line_only
    assert not load_catalogue(GOOD_ENTRY + rule).context_rules[0].line_only
    with pytest.raises(CatalogueError, match="within: must be 'text' or 'line'"):
        load_catalogue(GOOD_ENTRY + rule + 'within = "page"\n')


def test_every_library_has_its_default_leeway_or_says_it_has_no_leeway_option() -> None:
    without = {Library(s.library) for s in default_knowledge().stacks.values() if s.no_leeway}
    leeway = set(default_catalogue().default_leeway)
    assert leeway | without == set(Library)
    assert not leeway & without


def test_the_new_libraries_needles_are_anchored() -> None:
    """python-jose, joserfc, Authlib and the key-type texts: each needle under a listed anchor (the
    prefilter stays one scan)."""
    listed = listed_anchors()
    catalogue = default_catalogue()
    new = {Library.PYTHON_JOSE, Library.JOSERFC, Library.AUTHLIB}
    needles = {p.needle for p in catalogue.patterns if p.library in new or p.id.startswith(("jose.key", "jose.crypto"))}
    assert needles and all(anchor_of(needle, listed) in listed for needle in needles)
