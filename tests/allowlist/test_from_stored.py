"""The previous snapshot's document, read back for the delta without the checks an outside one gets."""

from __future__ import annotations

import hashlib

import pytest

from vpnregistry.allowlist.formats import Allowlist, from_stored

DOCUMENT = Allowlist(
    session="0b7e6d3c-6f1a-4d2b-9c4e-2a1f5e8d9c01",
    serial=4,
    generated_at="2026-12-06T09:00:00Z",
    ipv4=["14.1.0.0/24", "14.1.2.7/32"],
    ipv6=["2001:dd8:1c::/48"],
    msisdn={"jazz": ("+923001234567",)},
)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_read_as_from_json_reads_it():
    text = DOCUMENT.to_json()
    assert from_stored(text, digest(text)) == Allowlist.from_json(text) == DOCUMENT


def test_an_empty_list_reads_back():
    empty = Allowlist(
        session=DOCUMENT.session, serial=1, generated_at=DOCUMENT.generated_at, ipv4=[], ipv6=[]
    )
    text = empty.to_json()
    assert from_stored(text, digest(text)) == empty


def test_a_document_that_does_not_match_its_digest_is_never_read():
    text = DOCUMENT.to_json()
    altered = text.replace("14.1.2.7/32", "14.1.2.8/32")
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        from_stored(altered, digest(text))


def test_a_document_not_in_the_canonical_form_is_an_error():
    text = '{"format": "vpnregistry-allowlist/1"}\n'
    with pytest.raises(ValueError, match="not in the canonical form"):
        from_stored(text, digest(text))


@pytest.mark.django_db
def test_the_stored_document_is_compressed_with_lz4_on_postgresql():
    """Writing and reading back tens of MB each publication: LZ4, not pglz (migration 0005)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL server was built without LZ4")
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'allowlist_snapshot'::regclass AND attname = 'content'"
        )
        assert cursor.fetchone()[0] == "l"
