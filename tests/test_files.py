"""``core.files.replacing``: the one way the suite replaces a file (overrides, imported inputs, the Excel workbook,
the board PDF): the new file in one step on success; on failure the old file intact and nothing left beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sop_lib.core.files import replacing


def test_a_clean_exit_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.csv"
    target.write_text("old\n")
    with replacing(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".plan.csv.") and tmp.suffix == ".tmp"
        tmp.write_text("new\n")
        assert target.read_text() == "old\n"  # readers see the old file until the block ends
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_a_new_file_is_created_with_the_given_suffix_for_the_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "sop.xlsx"
    with replacing(target, suffix=".partial") as tmp:
        assert tmp.name.endswith(".partial")
        tmp.write_bytes(b"xlsx")
    assert target.read_bytes() == b"xlsx" and [p.name for p in tmp_path.iterdir()] == ["sop.xlsx"]


@pytest.mark.parametrize("error", [ValueError("half written"), KeyboardInterrupt()])
def test_an_exception_leaves_the_old_file_intact_and_no_temporary_file(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "plan.csv"
    target.write_text("old\n")
    with pytest.raises(type(error)), replacing(target) as tmp:
        tmp.write_text("half")
        raise error
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_a_block_that_wrote_nothing_fails_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.csv"
    target.write_text("old\n")
    with pytest.raises(FileNotFoundError), replacing(target):
        pass
    assert target.read_text() == "old\n"
