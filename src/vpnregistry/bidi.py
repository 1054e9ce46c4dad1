"""`{% load bidi %}`: values that read left to right, kept whole inside right-to-left (Urdu) text.

In an Urdu page the Unicode bidirectional algorithm reorders the neutral characters of a value that
is not isolated from the text around it: "/24" shows as "24/", "<5" as "5>", "2026-12-06 10:21" as
"10:21 2026-12-06". Each filter here wraps its value in an element that isolates it as one
left-to-right run (an element with `dir` is isolated, as `<bdi>` is), escaping it:

- `{{ value|ltr }}`    `<bdi dir="ltr">`: a number, reference, username, email address or English
                       name inside a sentence or a cell;
- `{{ value|code }}`   `<code dir="ltr">`: an address, prefix, reference, code or hash set as code;
- `{{ value|bdi }}`    `<bdi>`: text people typed (a name, a reason) in whichever script: it takes
                       its direction from its first letter and leaves the sentence around it alone;
- `{{ value|when }}`   `<time datetime="ISO" dir="ltr">2026-12-06 10:21 PKT</time>`: a time in the
                       registry's zone with the zone named (`|when:"seconds"` adds the seconds);
                       a date shows as a date, and `|day` shows only the date of a time;
- `{{ value|when_text }}`, `{{ value|ltr_text }}`  a time, or any value, as plain text isolated
                       with Unicode marks (LRI ... PDI), where no element may stand: an `<option>`;
- `{% arrow %}`        "→", or "←" in a right-to-left language ("Older →");
- `{% transition a b %}`  a change of state, "a → b", or in a right-to-left language "a ← b" with
                       each state isolated.

An empty value (None or "") gives "", so that `|default:"—"` still applies after any of them. The
library is registered in settings.TEMPLATES (not in an app), so that every layer's templates, the
printed ones too, can load it.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from vpnregistry import timeutil

register = template.Library()

LRI, PDI = "\u2066", "\u2069"  # left-to-right isolate, pop directional isolate
FSI = "\u2068"  # first strong isolate: the run takes the direction of its own first letter


def _empty(value) -> bool:
    return value is None or value == ""


@register.filter(is_safe=True)
def ltr(value) -> SafeString | str:
    """The value as one left-to-right run inside text: `<bdi dir="ltr">value</bdi>`."""
    return "" if _empty(value) else format_html('<bdi dir="ltr">{}</bdi>', value)


@register.filter(is_safe=True)
def code(value) -> SafeString | str:
    """A code-like value (address, prefix, reference, hash): `<code dir="ltr">value</code>`."""
    return "" if _empty(value) else format_html('<code dir="ltr">{}</code>', value)


@register.filter(is_safe=True)
def bdi(value) -> SafeString | str:
    """Text in either script, isolated with the direction of its own first letter: `<bdi>value</bdi>`."""
    return "" if _empty(value) else format_html("<bdi>{}</bdi>", value)


def _machine(value) -> str | None:
    """The ISO 8601 form for a `<time datetime>` attribute; None when the value is no time at all."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        return timeutil.local(value).isoformat()
    except ValueError:
        return None


def _time(value, shown: str) -> SafeString:
    machine = _machine(value)
    if machine is None:  # not a time: shown as given, still as one run
        return format_html('<bdi dir="ltr">{}</bdi>', value)
    return format_html('<time datetime="{}" dir="ltr">{}</time>', machine, shown)


def _shown(value, **how: bool) -> str | None:
    try:
        return timeutil.shown(value, **how)
    except ValueError:
        return None


@register.filter(is_safe=True)
def when(value, arg: str = "") -> SafeString | str:
    """A time in the registry's zone, named: `<time datetime="ISO" dir="ltr">2026-12-06 10:21 PKT</time>`.

    `value` is a datetime, a date or an ISO 8601 text (the statistics' and statements' times are
    stored as text); `arg` "seconds" shows the seconds too. Anything else is shown as given.
    """
    if _empty(value):
        return ""
    if arg not in ("", "seconds"):
        raise template.TemplateSyntaxError(f'when: the argument is "seconds" or nothing, not {arg!r}')
    return _time(value, _shown(value, seconds=arg == "seconds") or str(value))


@register.filter(is_safe=True)
def day(value) -> SafeString | str:
    """The date of a time (or a date) in the registry's zone, as `when` shows a time: "2026-12-06"."""
    return "" if _empty(value) else _time(value, _shown(value, day=True) or str(value))


@register.filter
def when_text(value, arg: str = "") -> str:
    """The time of `when` as plain text, isolated by Unicode marks, for where no markup may stand."""
    if _empty(value):
        return ""
    return f"{LRI}{_shown(value, seconds=arg == 'seconds') or value}{PDI}"


@register.filter
def ltr_text(value) -> str:
    """Any value as plain text isolated left to right by Unicode marks (LRI ... PDI): in an `<option>`."""
    return "" if _empty(value) else f"{LRI}{value}{PDI}"


@register.filter
def bdi_text(value) -> str:
    """Text people typed as plain text isolated by Unicode marks (FSI ... PDI), taking the direction
    of its own first letter, as `bdi` does in markup: in an `<option>` or the page's title."""
    return "" if _empty(value) else f"{FSI}{value}{PDI}"


@register.simple_tag
def arrow() -> str:
    """An arrow that points forward in the reading direction: "→", or "←" in a right-to-left language.

    "from → to" and "Older →" read left to right; in Urdu they read right to left, and a "→" there
    points back to where the reader came from.
    """
    return "←" if translation.get_language_bidi() else "→"


@register.simple_tag
def transition(before, after) -> SafeString:
    """A change of state, "before → after" ("—" for none); in a right-to-left language "before ← after".

    There each state is isolated (`<bdi>`): two English states with an arrow between them would
    otherwise make one left-to-right run, read backwards against the arrow.
    """
    before, after = before or "—", after or "—"
    if translation.get_language_bidi():
        return format_html("<bdi>{}</bdi> ← <bdi>{}</bdi>", before, after)
    return format_html("{} → {}", before, after)


def sentence(message: str, **values) -> SafeString:
    """A translated sentence with %(name)s placeholders, each value put in as a left-to-right run.

    For the portal's messages (`messages.success(request, sentence(_("Renewal drafted from
    %(ref)s."), ref=reference))`), which are shown as they are: the sentence is escaped, the values
    are escaped and isolated, as `{% blocktrans with ref=ref|ltr %}` does in a template.
    """
    return mark_safe(conditional_escape(message) % {name: ltr(value) for name, value in values.items()})  # noqa: S308
