"""The default storage, a private folder: names kept, files replaced whole, nothing half-written
left behind, the folder following its setting, a spooled upload renamed rather than copied."""

from __future__ import annotations

import stat

import pytest
from django.core.files.base import ContentFile

from vpnregistry import storage
from vpnregistry.storage import FolderStorage


def test_a_save_keeps_the_name_and_replaces_the_file_whole(tmp_path):
    folder = FolderStorage(location=tmp_path / "files")
    assert folder.save("s/1.txt", ContentFile(b"old\n")) == "s/1.txt"
    assert folder.save("s/1.txt", ContentFile(b"new\n")) == "s/1.txt"  # not 1_AbCd.txt
    assert folder.open("s/1.txt").read() == b"new\n"
    assert sorted(p.name for p in (tmp_path / "files" / "s").iterdir()) == ["1.txt"]
    assert stat.S_IMODE((tmp_path / "files" / "s" / "1.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "files" / "s").stat().st_mode) == 0o700
    folder.make_durable("s")


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path):
    folder = FolderStorage(location=tmp_path)
    (tmp_path / "1.txt").mkdir()  # the rename onto a directory fails after the data was written
    with pytest.raises(IsADirectoryError):
        folder.save("1.txt", ContentFile(b"new\n"))
    assert [p.name for p in tmp_path.iterdir()] == ["1.txt"]


def test_the_folder_follows_its_setting(settings, tmp_path):
    files = storage.get(storage.DOCUMENTS)
    settings.DOCUMENTS_DIR = tmp_path / "first"
    files.save("a", ContentFile(b"1"))
    settings.DOCUMENTS_DIR = tmp_path / "second"
    assert not files.exists("a")
    files.save("a", ContentFile(b"2"))
    assert (tmp_path / "first" / "a").read_bytes() == b"1" and (
        tmp_path / "second" / "a"
    ).read_bytes() == b"2"


def test_a_spooled_upload_is_renamed_into_place(tmp_path):
    folder = FolderStorage(location=tmp_path)
    with storage.spool(folder) as upload:
        upload.write(b"14.1.105.1\n")
        upload.flush()
        spooled = upload.temporary_file_path()
        inode = (tmp_path / spooled).stat().st_ino
        folder.save("7.in", upload)
    assert (tmp_path / "7.in").stat().st_ino == inode  # the same file, not a copy
    assert [p.name for p in tmp_path.iterdir()] == ["7.in"]  # and the spool gone


def test_an_abandoned_spool_is_removed(tmp_path):
    folder = FolderStorage(location=tmp_path)
    with pytest.raises(RuntimeError), storage.spool(folder) as upload:
        upload.write(b"half a body")
        raise RuntimeError("the client went away")
    assert not list(tmp_path.iterdir())
