"""Published files are replaced whole, and a failed write leaves no temporary file behind."""

from __future__ import annotations

import pytest

from vpnregistry.allowlist.services import write_atomic


def test_write_atomic_replaces_the_file_whole(tmp_path):
    target = tmp_path / "1.txt"
    write_atomic(target, b"old\n")
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["1.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "1.txt"
    target.mkdir()  # the rename onto a directory fails after the data was written
    with pytest.raises(IsADirectoryError):
        write_atomic(target, b"new\n")
    assert [p.name for p in tmp_path.iterdir()] == ["1.txt"]
    assert target.is_dir()
