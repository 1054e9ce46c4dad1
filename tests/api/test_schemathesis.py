"""Schemathesis drives every operation of /api/v1/schema/ against the app itself.

Each operation is called anonymously and as a caller the authorization table allows
(`tests/test_authorization_matrix.py`), with generated valid and invalid input, against the world
of that table (applications in several states, a registration, events, a complaint). Path ids are
drawn from the objects that exist as often as from anywhere, so the steps are reached, not only
refused with 404. Every example runs in a savepoint that is rolled back, so each sees that same
world. Nothing may answer 500, and every answer, refusals included, must match the schema: its
status code declared, its media type declared, its body valid against the declared shape.

Examples per operation: VPNREGISTRY_FUZZ_EXAMPLES (default 12, bounded for CI); see
docs/testing.md for a long local run.
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
from vpnregistry.accounts.models import District
from vpnregistry.restrictions.models import Service
from vpnregistry.wsgi import application

EXAMPLES = int(os.environ.get("VPNREGISTRY_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# The world of the authorization table (applications in each state, a registration, events, a
# complaint...), as the fixture `ctx`: objects added there for new routes are fuzzed here too.
ctx = matrix.ctx

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture
def wsgi_in_test_transaction():
    """Calls through the WSGI handler share the test's transaction, as Django's test client does:
    the handler must not close the connection at the start and end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _identity(case) -> str:
    """The first identity the authorization table lets make this call."""
    path = case.operation.path
    concrete = path
    for parameter in case.operation.path_parameters:
        concrete = concrete.replace("{" + parameter.name + "}", "1")
    name = resolve(concrete).view_name
    rules = [r for r in matrix.RULES.get(name, []) if r.method == case.operation.method.upper()]
    if not rules:
        pytest.fail(f"{case.method} {path} ({name}) has no rule in the authorization table")
    allowed = rules[0].allowed
    return next(i for i in matrix.IDENTITIES if i in allowed and i != "anonymous")


# Values of path parameters that name objects of the world; the fixture `aimed` fills it before each
# operation runs, and the hook below draws from it as often as from the generated value.
KNOWN: dict[str, list] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {name: st.sampled_from([value, *KNOWN.get(name, [])]) for name, value in path_parameters.items()}
    )


@pytest.fixture
def aimed(ctx):
    KNOWN["id"] = sorted({v.pk for v in ctx.values() if isinstance(getattr(v, "pk", None), int)})
    KNOWN["code"] = [
        *District.objects.order_by("code").values_list("code", flat=True)[:3],
        *Service.objects.order_by("code").values_list("code", flat=True)[:3],
    ]
    KNOWN["which"] = ["latest", "1"]
    KNOWN["name"] = ["txt", "nft", "json", "msisdn.csv"]
    yield ctx
    KNOWN.clear()


def _run(case, ctx, who: str) -> None:
    headers = {}
    if who != "anonymous":
        user = getattr(ctx["world"], who)
        headers["Authorization"] = f"Token {user.auth_token.key}"
    with transaction.atomic():
        # A text body is a string whatever it holds (the bulk exemption check answers bad lines in
        # its CSV), so generating "invalid" ones proves nothing.
        text_body = (case.media_type or "").startswith("text/")
        response = case.call_and_validate(
            headers=headers, checks=[c for c in CHECKS if not (text_body and c is negative_data_rejection)]
        )
        if os.environ.get("FUZZ_TRACE"):
            with open(os.environ["FUZZ_TRACE"], "a") as fh:
                fh.write(f"{case.method} {case.operation.path} {who} {response.status_code}\n")
        transaction.set_rollback(True)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_as_allowed_caller(case, aimed, wsgi_in_test_transaction):
    _run(case, aimed, _identity(case))


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymously(case, aimed, wsgi_in_test_transaction):
    _run(case, aimed, "anonymous")
