"""ClusterObjectStore.list_keys over a fake OM that lists as Ozone's does:
keys within ``prefix``, strictly after ``startKey``, in UTF-8 byte order, at
most ``count``, ``truncated`` when more follow.  Checked against brute-force
S3 semantics (tests/unit/test_listing.reference)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from ozs3.storage.model import ListQuery
from ozs3.storage.ozone.om_types import KeySummary, KeySummaryPage
from ozs3.storage.ozone.store import ClusterObjectStore

from .test_listing import check_key_listing


class FakeOM:
    def __init__(self, keys: list[str], page_size: int) -> None:
        self.keys = sorted(set(keys), key=lambda k: k.encode())
        self.page_size = page_size
        self.calls = 0

    def list_key_summaries(
        self, bucket: str, prefix: str = "", start_after: str = "", count: int = 1000
    ) -> Deferred[KeySummaryPage]:
        self.calls += 1
        assert self.calls < 10_000, "listing does not progress"
        assert count >= 1
        if start_after:
            # Ozone's OM: a start key outside the prefix is the caller's bug.
            assert start_after.startswith(prefix), (start_after, prefix)
        after = start_after.encode()
        hits = [
            k
            for k in self.keys
            if k.startswith(prefix) and (not after or k.encode() > after)
        ]
        n = min(count, self.page_size)
        page = tuple(KeySummary(k, len(k), 0.0, 0.0, etag="e") for k in hits[:n])
        return succeed(KeySummaryPage(page, len(hits) > n))


def listing(keys: list[str], page_size: int, query: ListQuery) -> Any:
    store = ClusterObjectStore.__new__(ClusterObjectStore)
    store.om = FakeOM(keys, page_size)  # type: ignore[assignment]
    box: list[Any] = []
    store.list_keys("b", query).addBoth(box.append)
    assert box, "the fake OM answers at once"
    if isinstance(box[0], Failure):
        box[0].raiseException()
    return box[0]


ALPHABET = ["a", "b", "/", "é", "\U0010ffff", "\x7f"]


def words(min_size: int = 0, max_size: int = 5) -> st.SearchStrategy[str]:
    return st.lists(
        st.sampled_from(ALPHABET), min_size=min_size, max_size=max_size
    ).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(words(min_size=1), max_size=30, unique=True),
    prefix=words(max_size=2),
    delimiter=st.sampled_from(["", "/", "é", "\U0010ffff", "a/"]),
    start_after=st.one_of(st.just(""), words(max_size=4)),
    max_keys=st.one_of(st.integers(1, 8), st.just(1000)),
    page_size=st.integers(1, 4),
)
def test_cluster_listing_matches_s3(
    keys: list[str],
    prefix: str,
    delimiter: str,
    start_after: str,
    max_keys: int,
    page_size: int,
) -> None:
    query = ListQuery(prefix, delimiter, start_after, max_keys)
    check_key_listing(listing(keys, page_size, query), keys, query)


def test_a_common_prefix_costs_one_seek_not_one_row_per_key() -> None:
    keys = [f"dir/{i:05d}" for i in range(5000)] + ["zz"]
    store_om_calls = FakeOM(keys, 1000)
    store = ClusterObjectStore.__new__(ClusterObjectStore)
    store.om = store_om_calls  # type: ignore[assignment]
    box: list[Any] = []
    store.list_keys("b", ListQuery("", "/", "", 1000)).addBoth(box.append)
    assert box[0].common_prefixes == ("dir/",)
    assert [k.key for k in box[0].keys] == ["zz"]
    assert store_om_calls.calls <= 3


def test_an_ec_key_is_read_by_the_ec_reader_not_as_replicas() -> None:
    """EC stripes its bytes over the pipeline: reading one member as a
    replica would return the wrong bytes, so EC keys go to the EC reader;
    a replication the store does not know is refused (501)."""
    from ozs3.storage.errors import NotSupported
    from ozs3.storage.model import ObjectMeta
    from ozs3.storage.ozone.ec_reader import ECObjectReader
    from ozs3.storage.ozone.store import ClusterKeyInfo

    store = ClusterObjectStore.__new__(ClusterObjectStore)
    store.datanodes = None  # type: ignore[assignment]
    for rtype, expected in [("EC", ECObjectReader), ("NONE", NotSupported)]:
        info = ClusterKeyInfo(
            "b", "k", 0, "e", 0.0, ObjectMeta(), replication_type=rtype
        )
        box: list[Any] = []
        store.open_reader(info, 0, 0).addBoth(box.append)
        if isinstance(box[0], Failure):
            assert box[0].check(expected), rtype
        else:
            assert type(box[0]) is expected, rtype
