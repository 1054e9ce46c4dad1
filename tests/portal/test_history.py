"""History told as sentences a person reads, with the object linked, in either language."""

from __future__ import annotations

import re

from django.utils import translation

from tests.workflow import approved, draft
from vpnregistry.applications import selectors
from vpnregistry.audit.models import AuditEvent
from vpnregistry.audit.services import record
from vpnregistry.portal.history import SENTENCES, tell


def test_an_application_history_reads_as_sentences(world):
    application = approved(world, "14.1.105.0/24")
    told = {t.event.action: t for t in tell(selectors.history_of(world.officer, application))}
    link = f'<a href="/applications/{application.pk}/"><bdi>{application.tracking_number}</bdi></a>'
    assert told["application.submit"].sentence == f"<bdi>applicant</bdi> submitted the application {link}."
    assert told["resource.attest"].sentence == (
        f'<bdi>Operator indus</bdi> confirmed <a href="/applications/{application.pk}/">'
        "<bdi>14.1.105.0/24</bdi></a> for this subscriber."
    )
    approve = told["application.approve"].sentence
    assert approve == f"<bdi>The regulator</bdi> approved the application {link}."
    assert not any("_" in re.sub(r"<[^>]+>", "", str(t.sentence)) for t in told.values())  # no state codes


def test_a_page_of_events_costs_a_query_per_kind_of_object(world, django_assert_max_num_queries):
    for value in ["14.1.105.0/24", "14.1.106.0/24", "14.1.107.0/24"]:
        approved(world, value)
    events = list(AuditEvent.objects.all())
    assert len(events) > 20
    # One query per kind of object; one for who acted, one each for their operators' and agencies' names.
    with django_assert_max_num_queries(len({e.object_type for e in events}) + 3):
        tell(events)


def test_names_are_escaped_and_an_unknown_action_is_told_with_its_code(world):
    world.org.name = "<script>alert(1)</script> Ltd"
    world.org.save()
    event = record(actor=world.officer, action="organisation.frobnicate", obj=world.org)
    (told,) = tell([event])
    assert "<script>" not in told.sentence and "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in told.sentence
    assert '<code dir="ltr">organisation.frobnicate</code>' in told.sentence


def test_sentences_are_told_in_urdu(world):
    application = draft(world, "14.1.105.0/24")
    with translation.override("ur"):
        (told,) = tell(AuditEvent.objects.filter(action="application.create"))
    text = re.sub(r"<[^>]+>", "", str(told.sentence))
    assert re.search("[\u0600-\u06ff]", text) and application.tracking_number is None
    assert not re.search("[A-Za-z]{3,}", text.replace("applicant", "").replace("draft", ""))


def test_every_sentence_names_only_known_places():
    for action, sentence in SENTENCES.items():
        assert set(re.findall(r"%\((\w+)\)s", sentence)) <= {"actor", "object", "from", "to"}, action
