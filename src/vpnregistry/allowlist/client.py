"""`vpnregistry sync`: the operator's side of publication, run on a firewall host.

Fetch the signed index, verify it with the pinned key (or the next key it announced), apply the
deltas since the serial held (or fetch the whole snapshot), check every SHA-256, refuse a rollback
or a changed session, write the outputs atomically, optionally load them (the whole list once, then
only what changed: a round with nothing new loads nothing), and keep the last good list whenever
anything fails. Needs no database and no Django settings.

Exit codes:
  0  up to date, or updated
  1  usage or local configuration error (bad key file, unwritable output directory)
  2  the registry could not be reached or answered with an error, or a body was cut short
  3  verification failed: a signature, a SHA-256 or a document did not check out
  4  refused: the serial went backwards, or the session changed without --accept-reset
  5  the outputs were fetched and verified, but loading them (--apply) failed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from vpnregistry.allowlist.deltas import apply_delta, make_delta
from vpnregistry.allowlist.formats import FORMATS, IPSET_SETS, NFT_TABLE, Allowlist, nft_set_of, render
from vpnregistry.signing.minisign import PublicKey, SignatureError, verify

log = logging.getLogger("vpnregistry.sync")

OK, USAGE, FETCH, VERIFY, REFUSED, APPLY = 0, 1, 2, 3, 4, 5
STATE_DIR = ".vpnregistry-sync"
MAX_BODY = 1 << 30  # a whole snapshot of a million prefixes is some tens of MB
APPLY_COMMANDS = {
    "nft": "nft -f {file}",
    "ipset": "ipset restore -file {file}",
}


class SyncError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class State:
    session: str | None = None
    serial: int | None = None
    trusted_keys: list[str] = field(default_factory=list)
    # What --apply last loaded, as "<apply>:<session>:<serial>": a round with nothing new loads
    # nothing, and the next change is loaded as a delta on top of it.
    applied: str | None = None

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(
            session=data.get("session"),
            serial=data.get("serial"),
            trusted_keys=data.get("trusted_keys", []),
            applied=data.get("applied"),
        )

    def save(self, path: Path) -> None:
        write_atomic(path, (json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n").encode())


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _TokenStaysHome(urllib.request.HTTPRedirectHandler):
    """Follows the registry's redirect of a file to its object store (a short-lived signed URL) without
    the token: the signed URL is its own credential, and the token is for the registry alone."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if (
            new is not None
            and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        ):
            new.remove_header("Authorization")
        return new


_opener = urllib.request.build_opener(_TokenStaysHome)


class Registry:
    """HTTP to the registry, with the operator's token; every failure becomes a SyncError."""

    def __init__(self, base_url: str, token: str, timeout: float):
        if urllib.parse.urlsplit(base_url).scheme not in {"http", "https"}:
            raise SyncError(USAGE, f"the registry's address must be http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def get(self, path: str) -> bytes:
        # Paths from the index are resolved against the registry's own address, never elsewhere.
        url = f"{self.base_url}{urllib.parse.urlsplit(path).path}"
        request = urllib.request.Request(  # noqa: S310 (the scheme was checked in __init__)
            url,
            headers={
                "Authorization": f"Token {self.token}",
                "User-Agent": "vpnregistry-sync/1",
            },
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                expected = response.headers.get("Content-Length")
                body = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            raise SyncError(FETCH, f"{url}: the registry answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SyncError(FETCH, f"{url}: {getattr(exc, 'reason', exc)}") from None
        except Exception as exc:  # http.client.IncompleteRead and friends
            raise SyncError(FETCH, f"{url}: {type(exc).__name__}: {exc}") from None
        if len(body) > MAX_BODY:
            raise SyncError(FETCH, f"{url}: the body is larger than {MAX_BODY} bytes")
        if expected is not None and expected.isascii() and expected.isdigit() and int(expected) != len(body):
            raise SyncError(FETCH, f"{url}: the body was cut short ({len(body)} of {expected} bytes)")
        return body


def load_held(path: Path) -> Allowlist:
    """The list this client wrote after verifying it: read back without validating it again."""
    doc = json.loads(path.read_bytes())
    return Allowlist(
        session=doc["session"],
        serial=int(doc["serial"]),
        generated_at=doc["generated_at"],
        ipv4=tuple(doc["ipv4"]),
        ipv6=tuple(doc["ipv6"]),
        msisdn={},
    )


def _check_sha(name: str, data: bytes, expected: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise SyncError(VERIFY, f"{name}: SHA-256 {actual} does not match the index's {expected}")


class Syncer:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = Path(args.out)
        self.state_dir = self.out / STATE_DIR
        self.registry = Registry(args.url, args.token, args.timeout)
        try:
            self.pinned = PublicKey.from_text(Path(args.key).read_text())
        except (OSError, SignatureError) as exc:
            raise SyncError(USAGE, f"the key file {args.key}: {exc}") from None

    def _trusted(self, state: State) -> list[PublicKey]:
        return [self.pinned, *(PublicKey.from_text(k) for k in state.trusted_keys)]

    def _fetch_verified(self, url: str, name: str, sha256: str, trusted: list[PublicKey]) -> bytes:
        data = self.registry.get(url)
        _check_sha(name, data, sha256)
        self._verify(name, data, self.registry.get(url + ".minisig").decode("utf-8", "replace"), trusted)
        return data

    @staticmethod
    def _verify(name: str, data: bytes, signature: str, trusted: list[PublicKey]) -> str:
        try:
            return verify(data, signature, trusted)[1]
        except SignatureError as exc:
            raise SyncError(VERIFY, f"{name}: {exc}") from None

    def round(self) -> int:
        """One round: returns an exit code, raising nothing."""
        try:
            return self._round()
        except SyncError as exc:
            log.error("%s; keeping the last good list", exc)
            return exc.code

    def _round(self) -> int:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SyncError(USAGE, f"cannot use the output directory {self.out}: {exc}") from None
        state = State.load(self.state_dir / "state.json")
        trusted = self._trusted(state)
        index, session, serial, files = self._fetch_index(trusted)
        reset = self._check_succession(state, session, serial)

        current = self.state_dir / "allowlist.json"
        held = load_held(current) if current.exists() else None
        if not reset and state.serial == serial and held is not None:
            allowlist = held
            how = "up to date"
        else:
            allowlist, how = self._fetch(index, state, trusted, reset)

        applied = f"{self.args.apply}:{session}:{serial}" if self.args.apply else None
        outputs = [self.out / f"allowlist.{name}" for name in self.args.format or ["txt"]]
        if how != "up to date" or not all(p.exists() for p in outputs) or state.applied != applied:
            # What was loaded before, if it is the held list: then only the difference is loaded.
            before = (
                held
                if self.args.apply
                and held is not None
                and state.applied == f"{self.args.apply}:{held.session}:{held.serial}"
                else None
            )
            self._write_outputs(allowlist, files, loaded=before)
            write_atomic(current, render("json", allowlist).encode())
        self._save_state(index, session, serial, applied)
        log.info(
            "serial %s (%s): %d IPv4, %d IPv6 entries", serial, how, len(allowlist.ipv4), len(allowlist.ipv6)
        )
        return OK

    def _fetch_index(self, trusted: list[PublicKey]) -> tuple[dict, str, int, dict]:
        """The registry's signed index, verified: (index, session, serial, the snapshot's files)."""
        raw = self.registry.get("/api/v1/allowlist/index.json")
        self._verify(
            "index.json",
            raw,
            self.registry.get("/api/v1/allowlist/index.json.minisig").decode("utf-8", "replace"),
            trusted,
        )
        try:
            index = json.loads(raw)
            session, serial = str(index["session"]), int(index["serial"])
            files = index["snapshot"]["files"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SyncError(VERIFY, f"index.json is not a valid index: {exc}") from None
        return index, session, serial, files

    def _check_succession(self, state: State, session: str, serial: int) -> bool:
        """Whether the index starts a new session (a reset, accepted with --accept-reset only); a
        SyncError for a new session without it, or for a serial older than the one held."""
        if state.session is not None and session != state.session and not self.args.accept_reset:
            raise SyncError(
                REFUSED,
                f"the registry's session changed ({state.session} -> {session}); "
                "run with --accept-reset if the registry announced a reset",
            )
        reset = state.session is not None and session != state.session
        if not reset and state.serial is not None and serial < state.serial:
            raise SyncError(
                REFUSED,
                f"the registry offers serial {serial}, older than the {state.serial} held: "
                "refusing to roll back",
            )
        return reset

    def _save_state(self, index: dict, session: str, serial: int, applied: str | None) -> None:
        """The state after a good round, with the keys the index announced (other than the pinned one)."""
        keys = index.get("keys") or {}
        accepted = {
            k for k in (keys.get("current"), keys.get("next")) if k and k != self.pinned.to_minisign()
        }
        State(session=session, serial=serial, trusted_keys=sorted(accepted), applied=applied).save(
            self.state_dir / "state.json"
        )

    def _fetch(
        self, index: dict, state: State, trusted: list[PublicKey], reset: bool
    ) -> tuple[Allowlist, str]:
        serial = int(index["serial"])
        files = index["snapshot"]["files"]
        deltas = {int(d["to"]): d for d in index.get("deltas", [])}
        current = self.state_dir / "allowlist.json"
        wanted = range((state.serial or 0) + 1, serial + 1)
        if (
            not reset
            and state.serial is not None
            and current.exists()
            and wanted
            and all(s in deltas for s in wanted)
        ):
            try:
                allowlist = load_held(current)
                for s in wanted:
                    d = deltas[s]
                    data = self._fetch_verified(d["url"], f"delta {s}", d["sha256"], trusted)
                    try:
                        allowlist = apply_delta(allowlist, json.loads(data))
                    except ValueError as exc:  # DeltaError, or JSON that does not parse
                        raise SyncError(VERIFY, f"delta {s}: {exc}") from None
                # The result must be the very bytes the registry published for this serial.
                if hashlib.sha256(render("json", allowlist).encode()).hexdigest() == files["json"]["sha256"]:
                    return allowlist, f"{len(wanted)} delta(s)"
                log.warning(
                    "applying the deltas did not give serial %s exactly; fetching the snapshot", serial
                )
            except SyncError as exc:
                # The snapshot is verified on its own; a bad delta only costs a larger download.
                log.warning("%s; fetching the whole snapshot instead", exc)
        data = self._fetch_verified(files["json"]["url"], "snapshot", files["json"]["sha256"], trusted)
        try:
            allowlist = Allowlist.from_json(data)
        except ValueError as exc:
            raise SyncError(VERIFY, f"the snapshot is not a valid allowlist: {exc}") from None
        if allowlist.serial != serial or allowlist.session != index["session"]:
            raise SyncError(VERIFY, "the snapshot's session or serial differs from the index's")
        return allowlist, "full snapshot"

    def _write_outputs(self, allowlist: Allowlist, files: dict, *, loaded: Allowlist | None = None) -> None:
        """Write every output atomically; with --apply, load the new list first (the files are replaced
        only once it loaded). With `loaded`, the list the firewall holds now, only the difference is
        loaded (a large set takes minutes to load whole); if that fails, the whole list is."""
        formats = self.args.format or ["txt"]
        staged = []
        for name in formats:
            path = self.out / f"allowlist.{name}"
            tmp = path.with_name(f".{path.name}.new")
            tmp.write_bytes(render(name, allowlist).encode())
            staged.append((tmp, path))
        if self.args.apply:
            target = next((tmp for tmp, path in staged if path.name == f"allowlist.{self.args.apply}"), None)
            try:
                self._load(allowlist, target, loaded)
            except SyncError:
                for tmp, _ in staged:
                    tmp.unlink(missing_ok=True)
                raise
        for tmp, path in staged:
            os.replace(tmp, path)

    def _load(self, allowlist: Allowlist, whole: Path, loaded: Allowlist | None) -> None:
        if loaded is not None and loaded.session == allowlist.session:
            script = render_change(self.args.apply, loaded, allowlist)
            if script is None:
                return  # no IP entry changed (a mobile operator's numbers, say): nothing to load
            change = whole.with_name(f".allowlist.{self.args.apply}.change")
            change.write_text(script)
            try:
                self._run_apply(change)
                return
            except SyncError as exc:
                log.warning("%s; loading the whole list instead", exc)
            finally:
                change.unlink(missing_ok=True)
        self._run_apply(whole)

    def _run_apply(self, path: Path) -> None:
        template = self.args.apply_command or APPLY_COMMANDS[self.args.apply]
        argv = [part.replace("{file}", str(path)) for part in shlex.split(template)]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SyncError(APPLY, f"loading with {argv[0]} failed: {exc}") from None
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()[-500:]
            raise SyncError(APPLY, f"loading with {argv[0]} failed: {detail}")


def render_change(apply: str, old: Allowlist, new: Allowlist) -> str | None:
    """The commands that turn the set holding `old` into one holding `new`, for `nft -f` (one
    transaction: removals, then additions) or `ipset restore`; None when no IP entry changed."""
    change = make_delta(old, new)
    lines = [f"# vpnregistry change from serial {old.serial} to {new.serial}\n"]
    for version, family in ((4, "ipv4"), (6, "ipv6")):
        for verb, key in (("delete", "removed"), ("add", "added")):
            entries = change[family][key]
            if not entries:
                continue
            if apply == "nft":
                by_set: dict[str, list[str]] = {}
                for entry in entries:
                    name, element = nft_set_of(version, entry)
                    by_set.setdefault(name, []).append(element)
                for name, elements in sorted(by_set.items()):
                    lines.append(f"{verb} element {NFT_TABLE} {name} {{\n")
                    lines.extend(f"\t{e},\n" for e in elements)
                    lines.append("}\n")
            else:
                word = "del" if verb == "delete" else "add"
                lines.extend(f"{word} {IPSET_SETS[version]} {e}\n" for e in entries)
    return "".join(lines) if len(lines) > 1 else None


def parser() -> argparse.ArgumentParser:
    ip_formats = [name for name in FORMATS if name != "msisdn.csv"]
    p = argparse.ArgumentParser(
        prog="vpnregistry sync",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", required=True, help="the registry's base address, e.g. https://registry.example")
    p.add_argument(
        "--token",
        default=os.environ.get("VPNREGISTRY_TOKEN"),
        help="the operator's API token (or set VPNREGISTRY_TOKEN, which keeps it out of ps)",
    )
    p.add_argument("--key", required=True, help="the registry's key.pub, as served, pinned")
    p.add_argument("--out", required=True, help="directory for the outputs and the client's state")
    p.add_argument(
        "--format", action="append", choices=ip_formats, help="output format; repeat for several (txt)"
    )
    p.add_argument("--apply", choices=sorted(APPLY_COMMANDS), help="load the new list with nft or ipset")
    p.add_argument(
        "--apply-command",
        help="the command that loads it; {file} is the new file "
        f"(default: {APPLY_COMMANDS['nft']!r} or {APPLY_COMMANDS['ipset']!r})",
    )
    p.add_argument(
        "--accept-reset", action="store_true", help="accept a new session announced by the registry"
    )
    p.add_argument(
        "--interval", type=float, help="run as a daemon, one round every so many seconds (with jitter)"
    )
    p.add_argument("--rounds", type=int, help="with --interval, stop after so many rounds")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds for each request (30)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose or args.interval else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if not args.token:
        print("vpnregistry sync: a token is required (--token or VPNREGISTRY_TOKEN)", file=sys.stderr)
        return USAGE
    if args.apply and args.apply not in (args.format or ["txt"]):
        args.format = [*(args.format or ["txt"]), args.apply]
    try:
        syncer = Syncer(args)
    except SyncError as exc:
        print(f"vpnregistry sync: {exc}", file=sys.stderr)
        return exc.code
    if not args.interval:
        return syncer.round()
    rounds = 0
    code = OK
    while args.rounds is None or rounds < args.rounds:
        code = syncer.round()
        rounds += 1
        if args.rounds is not None and rounds >= args.rounds:
            break
        time.sleep(max(0.0, args.interval * random.uniform(0.9, 1.1)))
    return code
