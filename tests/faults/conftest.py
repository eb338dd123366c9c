"""The integration tests' real components (Redis, `sweepq` processes per test prefix), reused for fault tests."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401  (fixtures and hooks pytest finds by name)
    ROOT,
    SWEEPQ,
    Cluster,
    _show_logs_on_failure,
    cluster,
    kill_group,
    pytest_runtest_makereport,
    redis_url,
    wait_until,
)
