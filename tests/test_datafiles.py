"""Packaged TOML is parsed once and read back from its cache while the file is unchanged; every data
file's problems name the file, the line and the key in one format."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from bot import datafiles
from bot.config import ConfigError
from bot.datafiles import DataFile, DataFileError, cache_path, key_lines, key_name, problem, read_toml
from bot.knowledge import CatalogueError, KnowledgeError
from bot.knowledge.catalogue import CATALOGUE_PATH

DOCUMENT = 'title = "cards"\nrate = 0.75\nbig = 12345678901234567890\n[[item]]\nid = "a"\nsteps = ["x", "ÿ"]\n'


@pytest.fixture(autouse=True)
def writes_bytecode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def data_file(tmp_path: Path, text: str = DOCUMENT) -> Path:
    path = tmp_path / "cards.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_read_parses_and_leaves_a_cache_beside_the_file(tmp_path: Path) -> None:
    path = data_file(tmp_path)
    assert read_toml(path) == tomllib.loads(DOCUMENT)
    assert cache_path(path) == tmp_path / "__pycache__" / "cards.toml.json"
    assert cache_path(path).is_file()


def test_the_next_read_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_file(tmp_path)
    expected = read_toml(path)

    def no_parsing(_text: str) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(datafiles.tomllib, "loads", no_parsing)
    assert read_toml(path) == expected


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    path = data_file(tmp_path)
    read_toml(path)
    path.write_text(DOCUMENT.replace("0.75", "0.5"), encoding="utf-8")
    assert read_toml(path)["rate"] == 0.5


@pytest.mark.parametrize("damage", [b"", b"garbage", b"jwtcheck-toml-json-1\n" + b"\0" * 16 + b"{"])
def test_a_damaged_cache_is_ignored(tmp_path: Path, damage: bytes) -> None:
    path = data_file(tmp_path)
    read_toml(path)
    cache_path(path).write_bytes(damage)
    assert read_toml(path) == tomllib.loads(DOCUMENT)


def test_nothing_is_written_when_bytecode_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = data_file(tmp_path)
    assert read_toml(path) == tomllib.loads(DOCUMENT)
    assert not (tmp_path / "__pycache__").exists()


def test_the_pycache_prefix_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = tmp_path / "prefix"
    monkeypatch.setattr(sys, "pycache_prefix", str(prefix))
    path = data_file(tmp_path)
    read_toml(path)
    assert cache_path(path).is_relative_to(prefix) and cache_path(path).is_file()
    assert not (tmp_path / "__pycache__").exists()


def test_a_place_that_cannot_be_written_only_costs_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(sys, "pycache_prefix", str(blocker / "below"))
    path = data_file(tmp_path)
    assert read_toml(path) == tomllib.loads(DOCUMENT)
    assert read_toml(path) == tomllib.loads(DOCUMENT)


def test_dates_have_no_json_form_and_are_parsed_every_time(tmp_path: Path) -> None:
    path = data_file(tmp_path, 'reviewed = 2026-11-28\nby = "team"\n')
    assert read_toml(path) == tomllib.loads('reviewed = 2026-11-28\nby = "team"\n')
    assert not cache_path(path).exists()


def test_invalid_toml_still_raises_as_tomllib_does(tmp_path: Path) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        read_toml(data_file(tmp_path, "title = \n"))


def test_the_packaged_catalogue_reads_the_same_through_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    first, second = read_toml(CATALOGUE_PATH), read_toml(CATALOGUE_PATH)
    assert first == second == tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))


# --- one format for every data file's problems ---------------------------------------------------------


def test_a_problem_is_file_line_key_message() -> None:
    assert (
        problem("services.toml", "unknown key", key="services.o.x", line=3)
        == "services.toml:3: services.o.x: unknown key"
    )
    assert problem("services.toml", "unknown key", key="services.o.x") == "services.toml: services.o.x: unknown key"
    assert problem(Path("/etc/a.toml"), "cannot be read") == "/etc/a.toml: cannot be read"


def test_every_loader_raises_a_data_file_error() -> None:
    for error in (ConfigError, KnowledgeError, CatalogueError):
        assert issubclass(error, DataFileError) and issubclass(error, ValueError)
    assert ConfigError("a: b").problems == ("a: b",)
    assert str(KnowledgeError(["a: b", "c: d"])) == "a: b\nc: d"


TEXT = """\
# a comment = not a key
title = "x"
[services.orders]
issuers = [
  "a = b",
  '[not.a.table]',
]
leeway = 3  # [services.fake]
note = \"\"\"
[services.inside]
\"\"\"
"dotted.name".inner = 1

[services."my.svc"]
audiences = ["a"]

[[pattern]]
id = "a"
causes = { expired = 0.7 }
[[pattern]]
id = "b"
[pattern.extra]
kind = 1
"""


def test_key_lines_follow_tables_arrays_and_multi_line_values() -> None:
    lines = key_lines(TEXT)
    assert lines[("title",)] == 2
    assert lines[("services", "orders")] == 3
    assert lines[("services", "orders", "issuers")] == 4
    assert lines[("services", "orders", "leeway")] == 8
    assert lines[("services", "orders", "note")] == 9
    assert (
        ("services", "inside") not in lines and ("not", "a", "table") not in lines and ("services", "fake") not in lines
    )
    assert lines[("services", "orders", "dotted.name", "inner")] == 12
    assert lines[("services", "my.svc", "audiences")] == 15
    assert lines[("pattern", 0)] == 17 and lines[("pattern", 0, "causes")] == 19
    assert lines[("pattern", 1, "id")] == 21 and lines[("pattern", 1, "extra", "kind")] == 23


def test_a_data_file_names_the_nearest_line_and_the_key() -> None:
    file = DataFile("f.toml", TEXT, CatalogueError)
    assert file.problem(("services", "orders", "missing"), "missing") == "f.toml:3: services.orders.missing: missing"
    assert file.problem(("services", "my.svc"), "bad") == 'f.toml:14: services."my.svc": bad'
    assert file.problem("card.versions[0].library", "unknown") == "f.toml: card.versions[0].library: unknown"
    file.label(("pattern", 0), "pattern['a']")
    assert file.problem(("pattern", 0, "causes", "expired"), "no") == "f.toml:19: pattern['a'].causes.expired: no"
    assert file.problem((), "whole file", at=("title",)) == "f.toml:2: whole file"
    with pytest.raises(CatalogueError, match=r"^f\.toml:21: pattern\[1\]\.id: taken$"):
        file.fail(("pattern", 1, "id"), "taken")
    assert key_name(("card", "versions", 0, "library")) == "card.versions[0].library"


def test_a_file_that_is_not_toml_is_named_with_its_line(tmp_path: Path) -> None:
    path = data_file(tmp_path, "a = 1\n[b\n")
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        read_toml(path)
    assert DataFile(path.name, path).decode_error(caught.value).startswith("cards.toml:2: not valid TOML: ")


def test_lines_are_read_from_the_file_only_for_a_problem(tmp_path: Path) -> None:
    path = data_file(tmp_path)
    file = DataFile(path.name, path)
    path.unlink()  # nothing was read at construction: the line is simply left out
    assert file.problem(("item", 0, "id"), "bad") == "cards.toml: item[0].id: bad"
