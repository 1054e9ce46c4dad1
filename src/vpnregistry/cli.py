"""The `vpnregistry` command: operator-side tools without Django, everything else via Django."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

# Commands an operator runs on a firewall host: no database, no Django settings, fast start.
STANDALONE = {
    "validate": "vpnregistry.netblocks.cli:validate_main",
    "aggregate": "vpnregistry.netblocks.cli:aggregate_main",
    "check": "vpnregistry.netblocks.cli:check_main",
    "sync": "vpnregistry.allowlist.client:main",
    # Production's signing key is made before the registry can start (its settings refuse without one).
    "make-signing-key": "vpnregistry.signing.minisign:make_key_main",
}

# Django's own `check` is shadowed by the operator's `check`; it stays reachable under this name.
RENAMED = {"django-check": "check"}

# What a server command says on a host with the operator tools alone (`pip install vpnregistry`).
SERVER_EXTRA = "the registry needs: pip install 'vpnregistry[server]'"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in STANDALONE:
        module_name, func_name = STANDALONE[argv[0]].split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(argv[1:]) or 0)
    if importlib.util.find_spec("django") is None:
        what = f"vpnregistry {argv[0]}: " if argv else ""
        print(
            f"{what}{SERVER_EXTRA} (this install has the operator tools: {', '.join(STANDALONE)})",
            file=sys.stderr,
        )
        return 2
    if argv and argv[0] in RENAMED:
        argv[0] = RENAMED[argv[0]]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpnregistry.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["vpnregistry", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
