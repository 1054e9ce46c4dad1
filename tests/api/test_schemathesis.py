"""Schemathesis drives every operation of /api/v1/schema/ against the app itself.

The schema is loaded from the app (through WSGI, no server). Each operation is called anonymously
and as the first identity the authorization table (`tests/test_authorization_matrix.py`) allows,
with generated valid and invalid input, against the world of that table (applications in several
states, a registration, events, a complaint). Path ids are drawn from the objects that exist as
often as generated, so the steps are reached and not only refused with 404. Every example runs in a
savepoint that is rolled back, so each sees that same world (built once per operation: it is the
costly part, so each example is sent both ways).

Nothing may answer 5xx, and every answer, refusals included, must match the schema: its status code
declared, its media type declared, its body valid against the declared shape (and, with
VPNREGISTRY_FUZZ_STRICT=1, input that violates the schema refused).

Examples per operation: VPNREGISTRY_FUZZ_EXAMPLES (12 by default, for CI); VPNREGISTRY_FUZZ_PATHS
(a regular expression) narrows the run to some paths. See docs/testing.md.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import resolve
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests import test_authorization_matrix as matrix
from tests.factories import api_key
from vpnregistry.accounts.models import District
from vpnregistry.restrictions.models import Service
from vpnregistry.wsgi import application

EXAMPLES = int(os.environ.get("VPNREGISTRY_FUZZ_EXAMPLES", "12"))
PATHS = os.environ.get("VPNREGISTRY_FUZZ_PATHS")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# That input violating the schema is refused: on with VPNREGISTRY_FUZZ_STRICT=1. It passes on most of
# the API but flags DRF's own leniency (a number taken as a text field's value, a flag's unknown
# value read as false), which is not a fault of ours; run it when an endpoint's input changes.
if os.environ.get("VPNREGISTRY_FUZZ_STRICT") == "1":
    CHECKS.append(negative_data_rejection)

# The world of the authorization table, as the fixture `ctx`: objects added there for new routes
# are fuzzed here too.
ctx = matrix.ctx

# Values of path parameters that name objects of the world: the fixture `aimed` fills it before the
# operations run, and the hook draws from it as often as it takes the generated value.
KNOWN: dict[str, list] = {}


def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {name: st.sampled_from([value, *KNOWN.get(name, [])]) for name, value in path_parameters.items()}
    )


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
# Anonymous means no credentials at all; the callers' tokens are set per call.
schema.config.generation.update(with_security_parameters=False)
schema.hook(flatmap_path_parameters)
if PATHS:
    schema = schema.include(path_regex=PATHS)


@pytest.fixture
def wsgi_in_test_transaction():
    """Calls through the WSGI handler share the test's transaction, as Django's test client does:
    the handler must not close the connection at the start and end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def aimed(ctx, wsgi_in_test_transaction):
    KNOWN["id"] = sorted({v.pk for v in ctx.values() if isinstance(getattr(v, "pk", None), int)})
    KNOWN["code"] = [
        *District.objects.order_by("code").values_list("code", flat=True)[:3],
        *Service.objects.order_by("code").values_list("code", flat=True)[:3],
    ]
    KNOWN["which"] = ["latest", "1"]
    KNOWN["name"] = ["txt", "nft", "json", "msisdn.csv"]
    yield ctx
    KNOWN.clear()


def _identity(case) -> str:
    """The first identity the authorization table lets make this call."""
    concrete = case.operation.path
    for parameter in case.operation.path_parameters:
        concrete = concrete.replace("{" + parameter.name + "}", "1")
    name = resolve(concrete).view_name
    method = case.operation.method.upper()
    rules = [r for r in matrix.RULES.get(name, []) if r.method == method]
    if not rules:
        pytest.fail(f"{method} {case.operation.path} ({name}) has no rule in the authorization table")
    return next(i for i in matrix.IDENTITIES if i in rules[0].allowed and i != "anonymous")


def _call(case, headers: dict) -> None:
    # Invalid bodies are judged in JSON, where a body that is not an object can be sent. A text body
    # is a string whatever it holds (the bulk exemption check answers bad lines in its CSV), and a
    # form body is fields whatever it holds ("a number" arrives as a form with no fields).
    judged = case.media_type is None or "json" in case.media_type
    checks = [c for c in CHECKS if judged or c is not negative_data_rejection]
    with transaction.atomic():
        case.call_and_validate(headers=headers, checks=checks)
        transaction.set_rollback(True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_operation(case, aimed):
    """Each example twice: anonymously, then as a caller the authorization table allows."""
    _call(case, {})
    who = _identity(case)
    _call(case, {"Authorization": f"Token {api_key(getattr(aimed['world'], who))}"})
