"""Suite-wide rules.

In CI (``CI`` set), a run where a real-model test was skipped, or where nothing passed,
fails: the GGUF tests are the ones that prove the product works, so they must run.
"""

from __future__ import annotations

import os

import pytest

_skipped_gguf: list[str] = []


@pytest.fixture(scope="session")
def _prefix_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("prefix-cache")


@pytest.fixture(autouse=True)
def _private_stores(tmp_path_factory, monkeypatch, _prefix_cache_dir):
    """Every test's runs go to a store of its own, never the user's (memory.py); the
    on-disk prompt-prefix cache (on by default) to one the session shares."""
    monkeypatch.setenv("FOREPLAN_MEMORY", str(tmp_path_factory.mktemp("memory") / "runs.sqlite"))
    monkeypatch.setenv("FOREPLAN_PREFIX_CACHE_DIR", str(_prefix_cache_dir))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # An expected failure ran its body (pytest reports it as skipped with ``wasxfail``);
    # with strict=True it fails the run the day it passes, so it is not a skip.
    if report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("gguf") is not None:
        _skipped_gguf.append(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = len(reporter.stats.get("passed", [])) if reporter else 0
    if _skipped_gguf:
        print(f"\nCI: {len(_skipped_gguf)} real-model tests were skipped (first: {_skipped_gguf[0]}); failing the run.")
        session.exitstatus = 1
    elif passed == 0 and exitstatus == 0:
        print("\nCI: no test passed; failing the run.")
        session.exitstatus = 1
