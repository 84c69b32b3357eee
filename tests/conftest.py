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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of the real Ozone cluster last, in their order (the fault
    tests last of them: tests/cluster/faults/conftest.py): tests/run.sh
    starts the cluster in the background, and the rest run meanwhile."""
    items[:] = [i for i in items if not _needs_cluster(i)] + [
        i for i in items if _needs_cluster(i)
    ]
