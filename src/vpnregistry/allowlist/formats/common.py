"""What the text formats share: the comment header, and lines made from a `CidrList`'s text."""

from __future__ import annotations

from vpnregistry.allowlist.formats.cidrlist import CidrList
from vpnregistry.allowlist.formats.document import Allowlist


def _header(allowlist: Allowlist, mark: str) -> str:
    return (
        f"{mark} vpnregistry allowlist\n"
        f"{mark} session: {allowlist.session}\n"
        f"{mark} serial: {allowlist.serial}\n"
        f"{mark} generated: {allowlist.generated_at}\n"
        f"{mark} entries: {len(allowlist.ipv4)} IPv4, {len(allowlist.ipv6)} IPv6\n"
    )


def _lines(prefix: str, items: CidrList, suffix: str = "", end: str | None = None) -> list[str]:
    """Parts of `prefix + item + suffix` a line for each item (the last item's suffix is `end` when
    given), made from the list's text with one `replace`: no string per line."""
    if not items:
        return []
    if not prefix and not suffix and not end:
        return [items.text]
    if (suffix if end is None else end) == "":
        # The text's last newline is left as it is: no copy of the text without it.
        return [prefix, items.text.replace("\n", f"{suffix}\n{prefix}", len(items) - 1)]
    body = items.text[:-1].replace("\n", f"{suffix}\n{prefix}")
    return [prefix, body, suffix if end is None else end, "\n"]
