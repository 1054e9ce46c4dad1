"""The fault tests' own PostgreSQL cluster: created, started, and always stopped and removed."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool
from tests.faults.cluster import Cluster


@pytest.fixture(scope="session")
def pg_cluster():
    initdb = require_tool("initdb")
    pg_ctl = require_tool("pg_ctl")
    cluster = Cluster(initdb, pg_ctl)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
