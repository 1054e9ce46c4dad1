"""Values that read left to right in Urdu pages: the bidi template library, and the pages that use it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.core.cache import cache
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, TestCase
from django.utils import translation
from django.utils.safestring import SafeString

from tests.auth import login
from tests.workflow import approved
from vpnregistry.bidi import sentence
from vpnregistry.registrations.models import Registration
from vpnregistry.timeutil import shown
from vpnregistry.transparency.statistics import refresh_statistics

AT = datetime(2026, 12, 5, 22, 21, 25, tzinfo=UTC)  # 03:21 on the 6th in Karachi (UTC+5)


def render(source: str, **context) -> str:
    return Template("{% load bidi %}" + source).render(Context(context))


# --- the library -------------------------------------------------------------------------------


def test_ltr_code_and_bdi_isolate_and_escape():
    assert render("{{ v|ltr }}", v="203.0.113.0/24") == '<bdi dir="ltr">203.0.113.0/24</bdi>'
    assert render("{{ v|ltr }}", v="<5") == '<bdi dir="ltr">&lt;5</bdi>'
    assert render("{{ v|code }}", v="R-2026-<b>") == '<code dir="ltr">R-2026-&lt;b&gt;</code>'
    assert render("{{ v|bdi }}", v="Ravi & Sons") == "<bdi>Ravi &amp; Sons</bdi>"
    # Nothing to isolate: nothing at all, so that a default still applies.
    for name in ("ltr", "code", "bdi", "when", "day"):
        assert render(f'{{{{ v|{name}|default:"—" }}}}', v=None) == "—"
        assert render(f'{{{{ v|{name}|default:"—" }}}}', v="") == "—"
    assert render("{{ v|ltr }}", v=0) == '<bdi dir="ltr">0</bdi>'  # a zero is a value


def test_when_shows_pakistan_time_named_and_keeps_iso_for_machines():
    html = render("{{ t|when }}", t=AT)
    assert html == '<time datetime="2026-12-06T03:21:25+05:00" dir="ltr">2026-12-06 03:21 PKT</time>'
    assert render('{{ t|when:"seconds" }}', t=AT).endswith(">2026-12-06 03:21:25 PKT</time>")
    # The statistics and statements hold their times as ISO text: read, then shown the same way.
    assert render("{{ t|when }}", t="2026-12-05T22:21:25+00:00") == html
    assert render("{{ t|when }}", t="2026-12-05T22:21:25Z") == html
    # A date is a date: no zone, no shift.
    day = '<time datetime="2026-12-06" dir="ltr">2026-12-06</time>'
    assert render("{{ d|when }}", d=date(2026, 12, 6)) == render("{{ d|day }}", d=date(2026, 12, 6)) == day
    assert render("{{ t|day }}", t=AT) == day.replace('"2026-12-06"', '"2026-12-06T03:21:25+05:00"')
    # Text that is no time is shown as given, still one run, never an error on a page.
    assert render("{{ t|when }}", t="soon <b>") == '<bdi dir="ltr">soon &lt;b&gt;</bdi>'
    with pytest.raises(TemplateSyntaxError, match="seconds"):
        render('{{ t|when:"minutes" }}', t=AT)
    assert shown(AT) == "2026-12-06 03:21 PKT"


def test_plain_text_forms_for_where_no_element_may_stand():
    assert render("{{ t|when_text }}", t=AT) == "\u20662026-12-06 03:21 PKT\u2069"
    assert render("{{ v|ltr_text }}", v="14.1.105.0/24 <x>") == "\u206614.1.105.0/24 &lt;x&gt;\u2069"


def test_a_message_sentence_isolates_its_values_and_escapes_everything():
    html = sentence("Renewal <drafted> from %(ref)s.", ref="R-0H2<YV>")
    assert html == 'Renewal &lt;drafted&gt; from <bdi dir="ltr">R-0H2&lt;YV&gt;</bdi>.'
    assert isinstance(html, SafeString)


def test_the_arrow_points_the_way_the_language_reads():
    with translation.override("en"):
        assert render("{% arrow %}") == "→"
    with translation.override("ur"):
        assert render("{% arrow %}") == "←"


def test_a_change_of_state_reads_the_way_the_language_reads():
    with translation.override("en"):
        assert render("{% transition a b %}", a="in_review", b="approved") == "in_review → approved"
        assert render("{% transition a b %}", a=None, b="draft") == "— → draft"
    with translation.override("ur"):
        # Each state isolated: "in_review ← approved" unisolated is one left-to-right run, which
        # shows "approved" on the right, read first, against the arrow.
        html = render("{% transition a b %}", a="in_review", b="<b>")
        assert html == "<bdi>in_review</bdi> ← <bdi>&lt;b&gt;</bdi>"


# --- pages -------------------------------------------------------------------------------------

LTR_RUN = r'<(?:bdi|code|time)(?: datetime="[^"]*")? dir="ltr"[^>]*>{}</(?:bdi|code|time)>'
ISO_IN_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.fixture
def registration(world):
    with TestCase.captureOnCommitCallbacks(execute=True):
        application = approved(world, "14.1.105.0/24", "14.1.106.7")
    return Registration.objects.filter(resource__application=application).order_by("first")


def in_urdu(user) -> Client:
    client = login(Client(), user)
    client.cookies["django_language"] = "ur"
    return client


def visible(html: str) -> str:
    """The page without its attributes (a `<time>`'s datetime is for machines, not read)."""
    return re.sub(r'\s[\w-]+="[^"]*"', "", html)


def test_urdu_pages_isolate_addresses_prefixes_counts_and_times(world, registration):
    prefix, address = registration
    client = in_urdu(world.applicant)
    page = client.get(f"/registrations/{prefix.pk}/").content.decode()
    assert 'dir="rtl"' in page
    assert re.search(LTR_RUN.format(re.escape("14.1.105.0/24")), page)
    assert re.search(LTR_RUN.format(re.escape(prefix.reference)), page)
    valid_from = shown(prefix.valid_from)
    assert valid_from.endswith(" PKT")
    assert re.search(LTR_RUN.format(re.escape(valid_from)), page)
    page = client.get(f"/registrations/{address.pk}/").content.decode()
    assert re.search(LTR_RUN.format(re.escape(address.value)), page)  # an address: 14.1.106.7/32

    application = prefix.resource.application
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert re.search(LTR_RUN.format(re.escape(application.tracking_number)), page)
    assert re.search(LTR_RUN.format(re.escape(shown(application.submitted_at))), page)
    for html in (page, client.get("/registrations/").content.decode()):
        assert not ISO_IN_TEXT.search(visible(html)), ISO_IN_TEXT.search(visible(html))


def test_the_statistics_show_a_small_count_and_their_time_as_runs(client, world, registration):
    cache.clear()
    stored = refresh_statistics()
    client.cookies["django_language"] = "ur"
    page = client.get("/statistics/").content.decode()
    # One organisation holds them: a count under five, shown "<5" (not "5>") in a run of its own.
    assert re.search(LTR_RUN.format("&lt;5"), page)
    assert re.search(r'<td class="n"><bdi dir="ltr">&lt;5</bdi></td>', page)
    computed = shown(stored.data["generated_at"])
    assert computed.endswith(" PKT") and re.search(LTR_RUN.format(re.escape(computed)), page)
    assert not ISO_IN_TEXT.search(visible(page))
    cache.clear()


def test_an_english_name_and_a_time_in_the_conflict_sentence_are_runs(world, registration):
    """The sentence's values are placeholders now: each isolated by the filters, in either language."""
    from tests.workflow import to_decision

    clash = to_decision(world, "14.1.105.0/25", user=world.other_applicant)
    client = in_urdu(world.officer)
    page = client.get(f"/applications/{clash.pk}/").content.decode()
    section = page.split('id="conflicts"')[1].split("</section>")[0]
    prefix = registration[0]
    assert "<bdi>Ravi Software</bdi>" in section
    assert re.search(LTR_RUN.format(re.escape(prefix.reference)), section)
    assert re.search(LTR_RUN.format(re.escape(shown(prefix.valid_until, day=True))), section)


PAGES = {
    "applicant": [
        "/",
        "/applications/",
        "/registrations/",
        "/notifications/",
        "/organisation/",
        "/organisation/members/",
        "/documents/",
        "/statements/",
        "/complaints/",
    ],
    "officer": [
        "/",
        "/applications/",
        "/queue/",
        "/registrations/",
        "/allowlist/",
        "/audit/",
        "/transparency/checkpoints/",
        "/turnaround/",
        "/mail/failed/",
        "/space/",
        "/events/",
    ],
    "operator": ["/queue/", "/attestations/", "/registrations/", "/allowlist/", "/space/"],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_no_page_shows_an_iso_time_to_a_person(world, registration, role):
    """Each role's pages, in Urdu: every time a person reads is "2026-12-06 10:21 PKT", never ISO 8601.

    What sits in a `<code>` or `<pre>` (the audit log's data, a signed document) is data, shown as is.
    """
    user = {"applicant": world.applicant, "officer": world.officer, "operator": world.operator}[role]
    client = in_urdu(user)
    prefix = registration[0]
    pages = [*PAGES[role], f"/registrations/{prefix.pk}/", f"/applications/{prefix.resource.application_id}/"]
    times = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = re.sub(r"<(code|pre)\b[^>]*>.*?</\1>", "", response.content.decode(), flags=re.S)
        assert not ISO_IN_TEXT.search(visible(html)), (url, ISO_IN_TEXT.search(visible(html)))
        times += len(re.findall(r'<time datetime="[^"]+" dir="ltr">[^<]* PKT</time>', html))
    assert times >= len(pages) // 2  # the pages do show times, each in a run with its zone


def test_a_message_after_an_action_shows_its_reference_as_a_run(world, registration):
    prefix = registration[0]
    response = in_urdu(world.applicant).post(f"/registrations/{prefix.pk}/renew/", follow=True)
    assert response.status_code == 200
    messages = response.content.decode().split('<ul class="messages"')[1].split("</ul>")[0]
    assert f'<bdi dir="ltr">{prefix.reference}</bdi>' in messages
