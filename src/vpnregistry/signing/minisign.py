"""Detached Ed25519 signatures in minisign's format, written and checked with `cryptography`.

Pure Python without Django: the operator's sync client verifies with it on a firewall host.
Signatures are minisign's prehashed kind ("ED"): Ed25519 over the BLAKE2b-512 of the file, plus a
global signature over the signature and the trusted comment, so the comment cannot be changed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_PUBLIC_ALG = b"Ed"
_PREHASHED_ALG = b"ED"
_LEGACY_ALG = b"Ed"


class SignatureError(ValueError):
    """A signature that is malformed, made by an unknown key, or does not match."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (ValueError, TypeError):
        raise SignatureError(f"the {what} is not valid base64") from None


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes  # 8 bytes
    raw: bytes  # 32 bytes

    @property
    def key_id_hex(self) -> str:
        # minisign prints the id as a little-endian 64-bit number
        return self.key_id[::-1].hex().upper()

    def to_minisign(self) -> str:
        """The one-line base64 form (what `minisign -P` takes)."""
        return base64.b64encode(_PUBLIC_ALG + self.key_id + self.raw).decode()

    def to_file(self) -> str:
        """The contents of a minisign public key file."""
        return f"untrusted comment: minisign public key {self.key_id_hex}\n{self.to_minisign()}\n"

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """A public key file's contents, or the bare base64 line."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("untrusted comment:")]
        if len(lines) != 1:
            raise SignatureError("a public key is one base64 line, optionally after an untrusted comment")
        blob = _b64decode(lines[0], "public key")
        if len(blob) != 42 or blob[:2] != _PUBLIC_ALG:
            raise SignatureError("this is not a minisign Ed25519 public key")
        return cls(key_id=blob[2:10], raw=blob[10:])


def prehash(data: bytes) -> bytes:
    """What minisign's prehashed signature (algorithm "ED") signs: the data's BLAKE2b-512."""
    return hashlib.blake2b(data, digest_size=64).digest()


@dataclass(frozen=True)
class SigningKey:
    key_id: bytes
    private: bytes  # the 32-byte Ed25519 seed

    @classmethod
    def generate(cls) -> SigningKey:
        raw = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return cls(key_id=secrets.token_bytes(8), private=raw)

    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.private)

    @property
    def public(self) -> PublicKey:
        raw = (
            self._key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return PublicKey(key_id=self.key_id, raw=raw)

    def sign(self, data: bytes, *, trusted_comment: str, untrusted_comment: str = "") -> str:
        """The text of a `.minisig` file for `data`."""
        return self.sign_prehashed(
            prehash(data), trusted_comment=trusted_comment, untrusted_comment=untrusted_comment
        )

    def sign_prehashed(self, digest: bytes, *, trusted_comment: str, untrusted_comment: str = "") -> str:
        """The text of a `.minisig` file for the data whose `prehash` is `digest` (for a caller that
        takes the digest beside other work: hashing lets go of the GIL)."""
        if "\n" in trusted_comment or "\r" in trusted_comment:
            raise ValueError("a trusted comment is one line")
        if len(digest) != 64:
            raise ValueError("a minisign prehash is BLAKE2b-512: 64 bytes")
        key = self._key()
        signature = key.sign(digest)
        global_signature = key.sign(signature + trusted_comment.encode())
        untrusted = untrusted_comment or f"signature from vpnregistry key {self.public.key_id_hex}"
        return (
            f"untrusted comment: {untrusted}\n"
            f"{base64.b64encode(_PREHASHED_ALG + self.key_id + signature).decode()}\n"
            f"trusted comment: {trusted_comment}\n"
            f"{base64.b64encode(global_signature).decode()}\n"
        )

    def to_json(self) -> dict:
        return {"key_id": self.key_id.hex(), "private": base64.b64encode(self.private).decode()}

    @classmethod
    def from_json(cls, data: dict) -> SigningKey:
        return cls(key_id=bytes.fromhex(data["key_id"]), private=base64.b64decode(data["private"]))


def verify(data: bytes, signature_text: str, keys: list[PublicKey]) -> tuple[PublicKey, str]:
    """Check a `.minisig` text against `data` with any of `keys`; return the key and the trusted comment."""
    lines = signature_text.splitlines()
    if (
        len(lines) < 4
        or not lines[0].startswith("untrusted comment:")
        or not lines[2].startswith("trusted comment: ")
    ):
        raise SignatureError("the signature file does not have minisign's four lines")
    blob = _b64decode(lines[1], "signature")
    if len(blob) != 74 or blob[:2] not in (_PREHASHED_ALG, _LEGACY_ALG):
        raise SignatureError("the signature is not a minisign Ed25519 signature")
    alg, key_id, signature = blob[:2], blob[2:10], blob[10:]
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise SignatureError(f"signed by key {key_id[::-1].hex().upper()}, which is not trusted here")
    trusted_comment = lines[2][len("trusted comment: ") :]
    global_signature = _b64decode(lines[3], "global signature")
    message = hashlib.blake2b(data, digest_size=64).digest() if alg == _PREHASHED_ALG else data
    public = Ed25519PublicKey.from_public_bytes(key.raw)
    try:
        public.verify(signature, message)
    except InvalidSignature:
        raise SignatureError("the signature does not match the file") from None
    try:
        public.verify(global_signature, signature + trusted_comment.encode())
    except InvalidSignature:
        raise SignatureError("the trusted comment has been altered") from None
    return key, trusted_comment


def write_private(path: os.PathLike | str, text: str) -> None:
    """Write a secret file readable by its owner only, atomically."""
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# Secret key files. `minisign -G -W` writes an unencrypted secret key: an untrusted comment and one
# base64 line holding the algorithm ("Ed"), no KDF, a BLAKE2b checksum, the (unused) KDF parameters,
# the key id, the Ed25519 secret key (seed and public key) and the checksum. `vpnregistry
# make-signing-key` writes the same, so either tool makes a key the registry reads. The JSON that
# development keeps under its keys folder is read too.
_KDF_NONE = b"\0\0"
_CHK_ALG = b"B2"
_SECRET_BLOB = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32


def _secret_checksum(key_id: bytes, secret: bytes) -> bytes:
    return hashlib.blake2b(_PUBLIC_ALG + key_id + secret, digest_size=32).digest()


def secret_key_text(key: SigningKey) -> str:
    """The contents of an unencrypted minisign secret key file for `key`."""
    secret = key.private + key.public.raw
    blob = (
        _PUBLIC_ALG + _KDF_NONE + _CHK_ALG + bytes(32 + 8 + 8) + key.key_id + secret
        + _secret_checksum(key.key_id, secret)
    )  # fmt: skip
    return (
        f"untrusted comment: minisign secret key {key.public.key_id_hex}\n{base64.b64encode(blob).decode()}\n"
    )


def parse_secret_key(text: str) -> SigningKey:
    """A signing key from a secret key file's contents: minisign's unencrypted format, or our JSON."""
    if text.lstrip().startswith("{"):
        import json

        try:
            return SigningKey.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError):
            raise SignatureError("the JSON key file has no valid key_id and private key") from None
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("untrusted comment:")]
    if len(lines) != 1:
        raise SignatureError("a minisign secret key is one base64 line after an untrusted comment")
    blob = _b64decode(lines[0], "secret key")
    if len(blob) != _SECRET_BLOB or blob[:2] != _PUBLIC_ALG or blob[4:6] != _CHK_ALG:
        raise SignatureError("this is not a minisign Ed25519 secret key")
    if blob[2:4] != _KDF_NONE:
        raise SignatureError("the secret key is encrypted with a password; make it with `minisign -G -W`")
    key_id, secret, checksum = blob[54:62], blob[62:126], blob[126:]
    # minisign before 0.12 leaves an unencrypted key's checksum zero.
    if checksum != bytes(32) and checksum != _secret_checksum(key_id, secret):
        raise SignatureError("the secret key's checksum does not match: the file is damaged")
    key = SigningKey(key_id=key_id, private=secret[:32])
    if key.public.raw != secret[32:]:
        raise SignatureError("the secret key's public half does not match its private half")
    return key


def read_secret_key(path: os.PathLike | str) -> SigningKey:
    """Read a secret key file; OSError when it cannot be read, SignatureError when it is not a key."""
    with open(path, encoding="ascii", errors="replace") as fh:
        return parse_secret_key(fh.read())


def make_key_main(argv: list[str]) -> int:
    """`vpnregistry make-signing-key PATH`: a new key pair for production (PATH and PATH.pub)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="vpnregistry make-signing-key",
        description="Make an allowlist signing key: PATH (secret, mode 0600, minisign's unencrypted "
        "format) and PATH.pub (the public key). Give PATH as VPNREGISTRY_SIGNING_KEY_FILE, or as "
        "VPNREGISTRY_SIGNING_NEXT_KEY_FILE to announce it.",
    )
    parser.add_argument("path")
    args = parser.parse_args(argv)
    public_path = f"{args.path}.pub"
    for path in (args.path, public_path):
        if os.path.exists(path):
            print(f"make-signing-key: {path} exists; a key is never overwritten", file=sys.stderr)
            return 1
    key = SigningKey.generate()
    write_private(args.path, secret_key_text(key))
    with open(public_path, "w", encoding="ascii") as fh:
        fh.write(key.public.to_file())
    print(f"key {key.public.key_id_hex}: secret in {args.path}, public in {public_path}")
    return 0
