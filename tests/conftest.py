"""Fixtures shared by the suite: a small world with every role, on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.test import APIClient

from tests.factories import (
    AgencyFactory,
    CategoryFactory,
    OperatorFactory,
    OrganisationFactory,
    UserFactory,
    api_key,
)
from vpnregistry.accounts.models import Category, Role
from vpnregistry.accounts.reference import seed as seed_reference

# Two operators share real blocks of the country's space; the tests use /24s inside them.
INDUS_SPACE = ["14.1.104.0/22", "27.0.184.0/22", "2001:dd8:1c::/48"]
MARGALLA_SPACE = ["14.192.128.0/19"]

# Hypothesis profiles for every property test: "ci" (bounded, derandomized, no deadline) is chosen when
# CI is set, "dev" otherwise; HYPOTHESIS_PROFILE names another ("thorough" for a long local run).
# The API fuzzing (tests/api/test_schemathesis.py) counts its examples per operation on its own:
# VPNREGISTRY_FUZZ_EXAMPLES, see docs/testing.md.
hypothesis_settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
hypothesis_settings.register_profile("dev", max_examples=100, deadline=None)
hypothesis_settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(
    "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev")
)
# Hypothesis keeps its examples and caches in the git-ignored build/, not in a .hypothesis/ folder
# of the current directory (HYPOTHESIS_STORAGE_DIRECTORY still names another).
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(__file__).resolve().parents[1] / "build" / "hypothesis")


# Tests that drive a browser or start processes of their own run once per `make test`: in the
# PostgreSQL pass when one follows (the Makefile says so with VPNREGISTRY_PASS=sqlite-first), else in
# the only pass there is.
ONCE_MARKERS = ("browser", "multiprocess")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("VPNREGISTRY_PASS") != "sqlite-first":
        return
    skip = pytest.mark.skip(reason="runs once, in the PostgreSQL pass that follows")
    for item in items:
        if any(item.get_closest_marker(m) for m in ONCE_MARKERS):
            item.add_marker(skip)


# The suite leaves the project's var/ (the registry's own data, `make run`'s) as it found it: every
# file a test writes goes under its tmp_path or the git-ignored build/. The process that runs the
# session (xdist's controller, or the only process) lists var/ before and after and fails the run,
# naming each file made, changed or removed (a `make run` server writing meanwhile shows up too).
# A missing var/ is listed as missing; importing the settings makes it, empty, before the listing.
PROJECT_VAR = Path(__file__).resolve().parents[1] / "var"
_VAR_BEFORE = pytest.StashKey[dict | None]()


def var_listing(var: Path) -> dict[str, tuple] | None:
    """Every entry under `var` (relative path -> kind, size, mtime), or None when there is no var/."""
    if not var.exists() and not var.is_symlink():
        return None
    if not var.is_dir() or var.is_symlink():
        return {".": ("not a folder",)}
    listing = {}
    for folder, dirs, files in os.walk(var):
        for name in dirs + files:
            path = Path(folder, name)
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue
            if path.is_dir() and not path.is_symlink():
                listing[str(path.relative_to(var))] = ("folder",)
            else:
                listing[str(path.relative_to(var))] = ("file", stat.st_size, stat.st_mtime_ns)
    return listing


def var_changes(before: dict | None, after: dict | None) -> list[str]:
    """What happened to var/ between two listings, one line a path."""
    if before == after:
        return []
    if before is None:
        return ["var/ was created"] + [f"created: var/{name}" for name in sorted(after)]
    if after is None:
        return ["var/ was removed"]
    created = [f"created: var/{name}" for name in sorted(after.keys() - before.keys())]
    removed = [f"removed: var/{name}" for name in sorted(before.keys() - after.keys())]
    changed = [
        f"changed: var/{name}" for name in sorted(before.keys() & after.keys()) if before[name] != after[name]
    ]
    return created + changed + removed


def _runs_the_session(config) -> bool:
    return not hasattr(config, "workerinput")  # an xdist worker; its controller checks


def pytest_sessionstart(session):
    if _runs_the_session(session.config):
        session.config.stash[_VAR_BEFORE] = var_listing(PROJECT_VAR)


def pytest_sessionfinish(session, exitstatus):
    if not _runs_the_session(session.config) or _VAR_BEFORE not in session.config.stash:
        return
    changes = var_changes(session.config.stash[_VAR_BEFORE], var_listing(PROJECT_VAR))
    if not changes:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"the suite wrote into {PROJECT_VAR} (a test's files belong under its tmp_path or build/):"]
    lines += [f"  {change}" for change in changes]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "var/ touched", red=True, bold=True)
        for line in lines:
            reporter.write_line(line, red=True)
    else:
        print("\n".join(lines))
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def require_tool(name: str) -> str:
    """The path of a system tool, or skip (fail when VPNREGISTRY_REQUIRE_TOOLS=1, as CI sets it)."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path:
        return path
    message = f"the system tool {name!r} is not installed"
    if os.environ.get("VPNREGISTRY_REQUIRE_TOOLS") == "1":
        pytest.fail(message + " and VPNREGISTRY_REQUIRE_TOOLS=1 demands it")
    pytest.skip(message)


def require_broker() -> str:
    """The test broker's URL (VPNREGISTRY_TEST_BROKER_URL, set by .ci/run), once it answers; or skip
    (fail when VPNREGISTRY_REQUIRE_TOOLS=1), as for the system tools."""
    url = os.environ.get("VPNREGISTRY_TEST_BROKER_URL", "")
    if not url:
        message = "VPNREGISTRY_TEST_BROKER_URL is not set (a RabbitMQ broker, amqp://...)"
    else:
        from kombu import Connection

        try:
            with Connection(url, connect_timeout=5) as connection:
                connection.ensure_connection(max_retries=1)
            return url
        except Exception as exc:
            message = f"the test broker does not answer ({type(exc).__name__}: {exc})"
    if os.environ.get("VPNREGISTRY_REQUIRE_TOOLS") == "1":
        pytest.fail(message + " and VPNREGISTRY_REQUIRE_TOOLS=1 demands it")
    pytest.skip(message)


def require_cache() -> str:
    """The test cache's URL (VPNREGISTRY_TEST_CACHE_URL, default Redis database 15 on this host),
    once it answers; or skip (fail when VPNREGISTRY_REQUIRE_TOOLS=1), as for the broker."""
    url = os.environ.get("VPNREGISTRY_TEST_CACHE_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        return url
    except (redis.RedisError, ValueError) as exc:
        message = f"the test cache {url} does not answer ({type(exc).__name__}: {exc})"
    if os.environ.get("VPNREGISTRY_REQUIRE_TOOLS") == "1":
        pytest.fail(message + " and VPNREGISTRY_REQUIRE_TOOLS=1 demands it")
    pytest.skip(message)


# The production hasher is slow by design; tests create many users.
FAST_PASSWORD_HASHING = {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"]}
NO_RATE_LIMITS = {
    # Tests make many requests from one address; the limits have tests of their own.
    "THROTTLE_RATES": {"anon": None, "user": None},
    "RESOURCES_PER_HOUR": 0,
    # Tokens' last use is written once in a long while, so that counted queries stay the same from
    # one request to the next (the test of last use sets the minute back).
    "API_TOKEN_LAST_USED_SECONDS": 3600,
}
# Downloads are noted in batches in production; tests count each one (the batching has its test).
EVERY_DOWNLOAD_NOTED = {"DOWNLOAD_NOTE_SECONDS": 0}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    for name, value in FAST_PASSWORD_HASHING.items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    for name, value in NO_RATE_LIMITS.items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _language_reset():
    # A request in Urdu leaves Urdu active in the thread (Django sets it per request, never resets
    # it): without this, services' messages in the tests that follow on the same worker are Urdu.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _every_download_noted(settings):
    for name, value in EVERY_DOWNLOAD_NOTED.items():
        setattr(settings, name, value)


def private_dirs(root: Path) -> dict[str, Path]:
    """The settings naming every folder the registry writes into, each under `root`."""
    return {
        "VAR_DIR": root / "var",
        "ALLOWLIST_DIR": root / "allowlist",
        "ALLOWLIST_KEYS_DIR": root / "keys",
        "DOCUMENTS_DIR": root / "documents",
        "EXEMPTION_JOBS_DIR": root / "exemption-jobs",
        "EVIDENCE_DIR": root / "complaints",
    }


@pytest.fixture(autouse=True)
def _private_publication_dirs(settings, tmp_path):
    # Each test publishes into, signs with keys from, and keeps documents, evidence and jobs (and
    # whatever else goes to var/) in directories of its own.
    for name, path in private_dirs(tmp_path).items():
        setattr(settings, name, path)


@dataclass
class World:
    pseb: object
    licensing: object
    company: object
    freelancer: object
    bank: object
    indus: object
    margalla: object
    org: object
    other_org: object
    freelancer_org: object
    applicant: object
    other_applicant: object
    freelancer_applicant: object
    agency: object
    licensing_reviewer: object
    operator: object
    other_operator: object
    officer: object
    officer2: object
    auditor: object

    def client(self, user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
        return client


@pytest.fixture
def world(db) -> World:
    return build_world()


def build_world() -> World:
    """The world's rows, made by the factories (the fixture `world`, or once for a module)."""
    # The real reference data (categories, agencies, the documents each category needs), seeded again
    # here because a transactional test's flush removes what the migration seeded. The world keeps
    # three of its categories, under short names, with their real document requirements.
    seed_reference(django_apps)
    Category.objects.exclude(code__in=["company", "freelancer", "bank"]).delete()
    for code in ["company", "freelancer", "bank"]:
        Category.objects.filter(code=code).update(name=code.title())
    pseb = AgencyFactory(code="pseb", name="Software Export Board")
    licensing = AgencyFactory(code="licensing", name="Licensing Desk")
    company = CategoryFactory(code="company", agency=pseb)
    freelancer = CategoryFactory(code="freelancer", agency=pseb, min_len_v4=32, min_len_v6=64)
    bank = CategoryFactory(code="bank", agency=licensing)
    indus = OperatorFactory(code="indus", space=INDUS_SPACE)
    margalla = OperatorFactory(code="margalla", space=MARGALLA_SPACE)
    org = OrganisationFactory(category=company, name="Ravi Software")
    other_org = OrganisationFactory(category=company, name="Other Software")
    freelancer_org = OrganisationFactory(category=freelancer, name="A Freelancer")
    return World(
        pseb=pseb,
        licensing=licensing,
        company=company,
        freelancer=freelancer,
        bank=bank,
        indus=indus,
        margalla=margalla,
        org=org,
        other_org=other_org,
        freelancer_org=freelancer_org,
        applicant=UserFactory(username="applicant", role=Role.APPLICANT, organisation=org),
        other_applicant=UserFactory(username="other-applicant", role=Role.APPLICANT, organisation=other_org),
        freelancer_applicant=UserFactory(
            username="freelancer", role=Role.APPLICANT, organisation=freelancer_org
        ),
        agency=UserFactory(username="reviewer", role=Role.AGENCY, agency=pseb),
        licensing_reviewer=UserFactory(username="licensing", role=Role.AGENCY, agency=licensing),
        operator=UserFactory(username="indus-staff", role=Role.OPERATOR, operator=indus),
        other_operator=UserFactory(username="margalla-staff", role=Role.OPERATOR, operator=margalla),
        officer=UserFactory(username="officer", role=Role.OFFICER),
        officer2=UserFactory(username="officer2", role=Role.OFFICER),
        auditor=UserFactory(username="auditor", role=Role.AUDITOR),
    )


def suite_settings(root: Path) -> dict:
    """What the autouse fixtures above set for each test, its folders under `root`: for rows made
    outside a test (`built_once`)."""
    return {**FAST_PASSWORD_HASHING, **NO_RATE_LIMITS, **EVERY_DOWNLOAD_NOTED, **private_dirs(root)}


def built_once(django_db_blocker, root: Path, build):
    """For a module-scoped fixture (`yield from built_once(...)`): what `build()` returns, its rows
    made once, in a transaction rolled back after the module's last test, with the suite's settings
    and its files under `root`.

    Each test that uses them asks for `db` too: its own changes are then in a savepoint inside that
    transaction, rolled back at its end, and it should take a deep copy of what is yielded and a
    copy of the files under `root` (`copy_private_dirs`), as setUpTestData's tests do.
    """
    with override_settings(**suite_settings(root)), django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            made = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield made
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def copy_private_dirs(root: Path, settings) -> None:
    """The files written under `root` while rows were built once, copied into this test's folders."""
    for name, path in private_dirs(root).items():
        if path.exists():
            shutil.copytree(path, getattr(settings, name), dirs_exist_ok=True)
