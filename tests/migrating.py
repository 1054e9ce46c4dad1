"""Tests of a data migration: the database taken to a named state, and the app registry of that state."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(target: list[tuple[str, str]]):
    """Migrate the test database to `target` (forwards or backwards); the apps as they were there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def migrate_to_latest() -> None:
    """Back to every app's latest migration, as the rest of the suite expects the database."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
