import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=300,
    derandomize=True,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


def _needs_cluster(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        "cluster" in getattr(item, "fixturenames", ())
        or item.nodeid.startswith("tests/cluster/")
        or (callspec is not None and "cluster" in callspec.params.values())
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--part",
        choices=("all", "local", "cluster"),
        default="all",
        help="run only the tests that need no Ozone cluster (local), only those "
        "that do (cluster), or all of them (tests/run.sh runs the two parts "
        "side by side)",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """The tests of the real Ozone cluster last, in their order (the fault
    tests last of them: tests/cluster/faults/conftest.py): when the cluster
    starts in the background, the rest run meanwhile.  With ``--part``, one of
    the two sets only, the other deselected."""
    local: list[pytest.Item] = []
    cluster: list[pytest.Item] = []
    for item in items:
        (cluster if _needs_cluster(item) else local).append(item)
    part = config.getoption("part")
    if part == "all":
        items[:] = local + cluster
        return
    keep, drop = (local, cluster) if part == "local" else (cluster, local)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
