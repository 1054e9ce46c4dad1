"""Where the registry's files live: the named storages of `settings.STORAGES`.

Four kinds, each a storage of its own: the published allowlist files (`allowlist`), organisations'
documents (`documents`), complaint evidence (`evidence`) and bulk exemption jobs (`jobs`). By default
each is a private folder under var/ (`FolderStorage`); with `VPNREGISTRY_S3_BUCKET` set, each is an
S3-compatible object store under a key prefix of its own (`ObjectStorage`), so that every app
server reads and writes the same files and answers every download alike. Code reads and writes
these files only through the storage, never through a path of its own.

Both kinds of storage keep the names they are given (a save replaces a file of the same name), and a
reader never sees part of a file: the folder writes a temporary file and renames it into place, the
object store makes an object visible once it is whole. The object store's backend is in
vpnregistry/objectstore.py, imported only when configured (boto3 is large).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import FileResponse, Http404
from django.utils.functional import cached_property

ALLOWLIST = "allowlist"
DOCUMENTS = "documents"
EVIDENCE = "evidence"
JOBS = "jobs"
KINDS = (ALLOWLIST, DOCUMENTS, EVIDENCE, JOBS)
# The folder of each kind by default (settings, so that a deployment and each test may move them).
FOLDER_SETTINGS = {
    ALLOWLIST: "ALLOWLIST_DIR",
    DOCUMENTS: "DOCUMENTS_DIR",
    EVIDENCE: "EVIDENCE_DIR",
    JOBS: "EXEMPTION_JOBS_DIR",
}


def get(kind: str) -> Storage:
    return storages[kind]


class FolderStorage(FileSystemStorage):
    """A private folder (files 0600, folders 0700) named by a setting, followed when it changes.

    A save writes a temporary file beside the target (`.{name}.tmp-{pid}`), syncs it and renames it
    into place: a reader sees the old file or the new one, never part of one, and the name given is
    the name kept (an existing file is replaced).
    """

    def __init__(self, setting: str | None = None, location=None, **options):
        self.setting = setting
        options.setdefault("file_permissions_mode", 0o600)
        options.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, allow_overwrite=True, **options)

    @cached_property
    def base_location(self):
        configured = getattr(settings, self.setting) if self.setting else settings.MEDIA_ROOT
        return self._value_or_setting(self._location, configured)

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def _clear_cached_properties(self, setting, **kwargs):
        """The folder moves with its setting (as Django's own does with MEDIA_ROOT)."""
        super()._clear_cached_properties(setting, **kwargs)
        if setting == self.setting:
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        full = self.path(name)
        directory = os.path.dirname(full)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if hasattr(content, "temporary_file_path") and _same_device(content.temporary_file_path(), directory):
            # A spooled upload (see `spool`) in this folder already: renamed into place, not copied.
            os.chmod(content.temporary_file_path(), 0o600)
            os.replace(content.temporary_file_path(), full)
            return name
        tmp = os.path.join(directory, f".{os.path.basename(full)}.tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                whole = getattr(content, "file", None)
                if isinstance(whole, io.BytesIO):
                    # A ContentFile of bytes: one write of the very bytes given (getvalue returns
                    # them without a copy; getbuffer would copy them first).
                    fh.write(whole.getvalue())
                else:
                    for chunk in content.chunks(chunk_size=1 << 20):
                        fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, full)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return name

    def make_durable(self, folder: str = "") -> None:
        """Make the renames into `folder` durable before a database row comes to name the files."""
        fd = os.open(self.path(folder) if folder else self.location, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _same_device(path: str, directory: str) -> bool:
    try:
        return os.stat(path).st_dev == os.stat(directory).st_dev
    except OSError:
        return False


def is_local(storage: Storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def make_durable(storage: Storage, folder: str = "") -> None:
    maker = getattr(storage, "make_durable", None)
    if maker is not None:
        maker(folder)


class _Opened(File):
    """A stream opened from a storage, with the size it has (for Content-Length)."""

    def __init__(self, stream, name: str, size: int):
        super().__init__(stream, name)
        self._size = size

    @cached_property
    def size(self):
        return self._size


def open_stream(storage: Storage, name: str):
    """`name` opened for reading from `storage`, streamed (an object is not first copied whole).

    Raises FileNotFoundError when there is no such file. The result has `.read`, `.close` and `.size`.
    """
    stream = getattr(storage, "stream", None)
    if stream is not None:
        body, size = stream(name)
        return _Opened(body, os.path.basename(name), size)
    return storage.open(name, "rb")


def save_new(storage: Storage, content: bytes) -> str:
    """Store `content` in `storage` under a new random name (32 hex digits) and return the name,
    which the row the file belongs to keeps (an uploaded document, a complaint's evidence)."""
    return storage.save(secrets.token_hex(16), ContentFile(content))


def signed_url(storage: Storage, name: str, *, content_type: str | None = None) -> str | None:
    """A short-lived URL to hand a download over to the object store, or None to stream it here.

    Only an object store gives one, and only when `VPNREGISTRY_S3_REDIRECT_SECONDS` is above 0. The
    store is told to answer with the media type and the inline file name the app would have sent.
    """
    seconds = settings.S3_REDIRECT_SECONDS
    maker = getattr(storage, "signed_url", None)
    if not seconds or maker is None:
        return None
    disposition = f'inline; filename="{os.path.basename(name)}"'
    return maker(name, seconds=seconds, content_type=content_type, disposition=disposition)


class Spooled(File):
    """A file written before it is stored; `save` renames it into a folder storage on the same disk."""

    def temporary_file_path(self) -> str:
        return self.file.name


@contextlib.contextmanager
def spool(storage: Storage):
    """A temporary file to write into, then to `storage.save(name, spooled)`.

    For a folder storage it is made in the folder itself, so that saving it is a rename (a body of a
    gigabyte is not copied); otherwise in the system's temporary folder. Whatever is left of it (a
    failed save, an error) is removed on leaving.
    """
    directory = None
    if isinstance(storage, FolderStorage):
        directory = Path(storage.location)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fh = tempfile.NamedTemporaryFile(prefix=".upload-", dir=directory, delete=False)  # noqa: SIM115
    try:
        yield Spooled(fh, os.path.basename(fh.name))
    finally:
        fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(fh.name)


@dataclass(frozen=True)
class Stored:
    """A file in a storage, streamed from there rather than read into memory."""

    files: Storage
    name: str


def stored_file_response(stored: Stored, *, content_type: str, **options) -> FileResponse:
    """The stored file streamed through the app, with its length (404 when it is missing)."""
    try:
        fh = open_stream(stored.files, stored.name)
    except FileNotFoundError:
        raise Http404("this file is no longer kept") from None
    response = FileResponse(fh, content_type=content_type, **options)
    response.headers.setdefault("Content-Length", str(fh.size))  # a stream from the object store
    return response
