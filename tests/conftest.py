"""Test-suite settings: the ``slow`` marker (the fast subset is ``-m "not slow"``) and ``--arc-dsl``."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--arc-dsl", metavar="FOLDER", default=None,
                     help="a local clone of michaelhodel/arc-dsl: runs the tests marked arcdsl against it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Without --arc-dsl the differential tests are deselected, not skipped: nothing here may
    # count a test that did not run as one that passed.
    if config.getoption("--arc-dsl"):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("arcdsl") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def arc_dsl_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("--arc-dsl"))
