"""Fixtures for end-to-end tests that need the real cluster processes (shared with the integration tests)."""

from __future__ import annotations

from tests.integration.conftest import _show_logs_on_failure, cluster, pytest_runtest_makereport, redis_url

__all__ = ["_show_logs_on_failure", "cluster", "pytest_runtest_makereport", "redis_url"]
