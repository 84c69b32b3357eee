"""Unit tests for ozs3.storage.om.listing: S3 ListObjects over ordered keys."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.storage.om.listing import Page, list_page, successor


class SortedScan:
    """``scan`` over a sorted list with bisect, recording each call."""

    def __init__(self, keys, honour_upper: bool = True, max_calls: int = 10_000):
        self.keys = sorted(set(keys))
        self.honour_upper = honour_upper
        self.max_calls = max_calls
        self.calls: list[tuple[bytes, bool, bytes | None, int]] = []

    def __call__(self, lower, inclusive, upper, limit):
        self.calls.append((lower, inclusive, upper, limit))
        if len(self.calls) > self.max_calls:
            raise RuntimeError("list_page keeps scanning without progress")
        assert isinstance(lower, bytes)
        assert upper is None or isinstance(upper, bytes)
        assert limit >= 1
        lo = (bisect_left if inclusive else bisect_right)(self.keys, lower)
        if upper is None or not self.honour_upper:
            hi = len(self.keys)
        else:
            hi = bisect_left(self.keys, upper)
        return [(k, b"v:" + k) for k in self.keys[lo : min(hi, lo + limit)]]


def reference(keys, prefix, delimiter, start_after, max_keys, key_of=None):
    """Brute-force S3 ListObjects: (keys, prefixes, truncated, next_marker)."""
    if max_keys <= 0:
        return [], [], False, None
    entries: dict[bytes, bool] = {}
    for k in sorted(set(keys)):
        if not k.startswith(prefix) or k <= start_after:
            continue
        if delimiter:
            at = (key_of(k) if key_of else k).find(delimiter, len(prefix))
            if at >= 0:
                cp = k[: at + len(delimiter)]
                if cp > start_after:
                    entries[cp] = True
                continue
        entries[k] = False
    ordered = sorted(entries.items())
    page = ordered[:max_keys]
    truncated = len(ordered) > max_keys
    return (
        [e for e, is_p in page if not is_p],
        [e for e, is_p in page if is_p],
        truncated,
        page[-1][0] if truncated else None,
    )


def check_key_listing(listing, keys: list[str], query) -> None:
    """A store's KeyListing for ``query`` (a ListQuery) over ``keys`` is what
    brute-force S3 semantics give."""
    exp_keys, exp_prefixes, truncated, marker = reference(
        [k.encode() for k in keys],
        query.prefix.encode(),
        query.delimiter.encode(),
        query.start_after.encode(),
        query.max_keys,
    )
    assert [k.key.encode() for k in listing.keys] == exp_keys, query
    assert [p.encode() for p in listing.common_prefixes] == exp_prefixes, query
    assert listing.truncated is truncated, query
    got_marker = listing.next_marker.encode() if listing.next_marker else None
    assert got_marker == marker, query


def _check_page(
    page: Page, keys, prefix, delimiter, start_after, max_keys, key_of=None
):
    exp_keys, exp_prefixes, exp_trunc, exp_marker = reference(
        keys, prefix, delimiter, start_after, max_keys, key_of
    )
    assert [k for k, _ in page.keys] == exp_keys
    assert all(v == b"v:" + k for k, v in page.keys)
    assert list(page.common_prefixes) == exp_prefixes
    assert page.truncated is exp_trunc
    assert page.next_marker == exp_marker


ALPHABET = [b"a", b"b", b"/"]
WIDE = [b"a", b"b", b"/", b"\x00", b"\xff"]


def words(alphabet, min_size=0, max_size=6):
    return st.lists(
        st.sampled_from(alphabet), min_size=min_size, max_size=max_size
    ).map(b"".join)


def key_sets(alphabet):
    return st.lists(words(alphabet, min_size=1), max_size=40, unique=True)


delimiters = st.sampled_from([b"", b"/", b"a", b"ab", b"//", b"/a"])
max_keys_st = st.one_of(st.integers(0, 12), st.just(1000))


def start_afters(alphabet):
    return st.one_of(st.just(b""), words(alphabet, max_size=5))


@settings(max_examples=300, deadline=None)
@given(
    keys=key_sets(ALPHABET),
    prefix=words(ALPHABET, max_size=3),
    delimiter=delimiters,
    start_after=start_afters(ALPHABET),
    max_keys=max_keys_st,
)
def test_list_page_matches_reference(keys, prefix, delimiter, start_after, max_keys):
    """list_page equals brute-force S3 semantics on colliding key sets."""
    scan = SortedScan(keys)
    page = list_page(scan, prefix, delimiter, start_after, max_keys)
    _check_page(page, keys, prefix, delimiter, start_after, max_keys)


@settings(max_examples=200, deadline=None)
@given(
    keys=key_sets(WIDE),
    prefix=words(WIDE, max_size=3),
    delimiter=st.sampled_from([b"", b"/", b"\xff", b"\x00", b"\xff\xff"]),
    start_after=start_afters(WIDE),
    max_keys=max_keys_st,
)
def test_list_page_matches_reference_extreme_bytes(
    keys, prefix, delimiter, start_after, max_keys
):
    """0x00 and 0xFF bytes (successor edge cases) list like the reference."""
    scan = SortedScan(keys)
    page = list_page(scan, prefix, delimiter, start_after, max_keys)
    _check_page(page, keys, prefix, delimiter, start_after, max_keys)


@settings(max_examples=200, deadline=None)
@given(
    keys=key_sets(ALPHABET),
    prefix=words(ALPHABET, max_size=2),
    delimiter=delimiters,
    start_after=start_afters(ALPHABET),
    max_keys=st.integers(1, 5),
)
def test_list_page_pagination_is_complete(
    keys, prefix, delimiter, start_after, max_keys
):
    """Following next_marker yields the full listing, no duplicates or gaps."""
    full_keys, full_prefixes, _, _ = reference(
        keys, prefix, delimiter, start_after, 10**9
    )
    got_keys: list[bytes] = []
    got_prefixes: list[bytes] = []
    marker = start_after
    for _ in range(len(keys) + 2):
        page = list_page(SortedScan(keys), prefix, delimiter, marker, max_keys)
        _check_page(page, keys, prefix, delimiter, marker, max_keys)
        assert len(page.keys) + len(page.common_prefixes) <= max_keys
        got_keys += [k for k, _ in page.keys]
        got_prefixes += page.common_prefixes
        if not page.truncated:
            break
        assert len(page.keys) + len(page.common_prefixes) == max_keys
        assert page.next_marker is not None and page.next_marker > marker
        marker = page.next_marker
    else:
        pytest.fail("pagination did not terminate")
    assert got_keys == full_keys
    assert got_prefixes == full_prefixes
    assert len(set(got_keys)) == len(got_keys)
    assert len(set(got_prefixes)) == len(got_prefixes)


@settings(max_examples=200, deadline=None)
@given(
    keys=key_sets(ALPHABET),
    prefix=words(ALPHABET, max_size=2),
    delimiter=delimiters,
    start_after=start_afters(ALPHABET),
    max_keys=st.integers(1, 12),
)
def test_list_page_scan_calls_bounded(keys, prefix, delimiter, start_after, max_keys):
    """Each common prefix costs one seek; key runs cost no extra seeks."""
    scan = SortedScan(keys)
    page = list_page(scan, prefix, delimiter, start_after, max_keys)
    assert len(scan.calls) <= len(page.common_prefixes) + 3


def test_list_page_rolled_up_run_costs_one_seek():
    """Thousands of keys under one common prefix are skipped with one seek."""
    keys = [b"dir/%05d" % i for i in range(5000)] + [b"z"]
    scan = SortedScan(keys)
    page = list_page(scan, b"", b"/", b"", 1000)
    assert page.common_prefixes == (b"dir/",)
    assert [k for k, _ in page.keys] == [b"z"]
    assert len(scan.calls) <= 3


def test_list_page_zero_max_keys():
    """max_keys=0 returns nothing and is not truncated, without scanning."""
    scan = SortedScan([b"a", b"b"])
    assert list_page(scan, b"", b"", b"", 0) == Page((), (), False, None)
    assert scan.calls == []


def test_list_page_delimiter_example():
    """The classic photos/ example: keys and common prefixes in order."""
    keys = [
        b"sample.jpg",
        b"photos/2006/January/sample.jpg",
        b"photos/2006/February/sample2.jpg",
        b"photos/2006/February/sample3.jpg",
        b"photos/2006/February/sample4.jpg",
    ]
    page = list_page(SortedScan(keys), b"", b"/", b"", 1000)
    assert [k for k, _ in page.keys] == [b"sample.jpg"]
    assert page.common_prefixes == (b"photos/",)
    page = list_page(SortedScan(keys), b"photos/2006/", b"/", b"", 1000)
    assert page.keys == ()
    assert page.common_prefixes == (b"photos/2006/February/", b"photos/2006/January/")


def test_list_page_start_after_inside_common_prefix():
    """A marker inside a common prefix does not repeat that prefix."""
    keys = [b"a/1", b"a/2", b"a/3", b"b"]
    page = list_page(SortedScan(keys), b"", b"/", b"a/1", 10)
    assert page.common_prefixes == ()
    assert [k for k, _ in page.keys] == [b"b"]


def test_list_page_truncated_on_common_prefix_marker():
    """When the page ends on a common prefix, next_marker is that prefix."""
    keys = [b"a", b"b/1", b"b/2", b"c"]
    page = list_page(SortedScan(keys), b"", b"/", b"", 2)
    assert [k for k, _ in page.keys] == [b"a"]
    assert page.common_prefixes == (b"b/",)
    assert page.truncated
    assert page.next_marker == b"b/"


@settings(max_examples=200, deadline=None)
@given(
    keys=key_sets(ALPHABET),
    prefix=words(ALPHABET, min_size=1, max_size=2),
    delimiter=delimiters,
    start_after=start_afters(ALPHABET),
    max_keys=st.integers(1, 12),
)
def test_list_page_scan_ignoring_upper_still_correct(
    keys, prefix, delimiter, start_after, max_keys
):
    """A scan that returns keys past the prefix's range still lists exactly."""
    scan = SortedScan(keys, honour_upper=False, max_calls=1000)
    page = list_page(scan, prefix, delimiter, start_after, max_keys)
    _check_page(page, keys, prefix, delimiter, start_after, max_keys)


def test_list_page_scan_ignoring_upper_terminates():
    """Keys past the prefix end the listing rather than being re-scanned."""
    keys = [b"a1", b"b1", b"b2", b"b3"]
    scan = SortedScan(keys, honour_upper=False, max_calls=1000)
    page = list_page(scan, b"a", b"", b"", 1)
    assert [k for k, _ in page.keys] == [b"a1"]
    assert not page.truncated
    assert len(scan.calls) <= 2


class LazyScan(SortedScan):
    """A generator ``scan`` that counts the rows actually pulled."""

    pulled = 0

    def __call__(self, lower, inclusive, upper, limit):
        rows = super().__call__(lower, inclusive, upper, limit)

        def gen():
            for row in rows:
                self.pulled += 1
                yield row

        return gen()


@settings(max_examples=200, deadline=None)
@given(
    keys=key_sets(ALPHABET),
    prefix=words(ALPHABET, max_size=2),
    delimiter=delimiters,
    start_after=start_afters(ALPHABET),
    max_keys=st.integers(1, 12),
)
def test_list_page_lazy_scan_not_over_read(
    keys, prefix, delimiter, start_after, max_keys
):
    """A lazy scan gives the same page and is abandoned after a rollup."""
    scan = LazyScan(keys)
    page = list_page(scan, prefix, delimiter, start_after, max_keys)
    _check_page(page, keys, prefix, delimiter, start_after, max_keys)
    assert scan.pulled <= len(page.keys) + len(scan.calls) + 1


def _object_key(composite: bytes) -> bytes:
    return composite.split(b"\x00", 1)[0]


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(words(ALPHABET, min_size=1, max_size=4), words(ALPHABET, 1, 3)),
        max_size=30,
        unique=True,
    ),
    prefix=words(ALPHABET, max_size=2),
    delimiter=delimiters,
    start_after=start_afters(ALPHABET),
    max_keys=max_keys_st,
)
def test_list_page_key_of_composite_keys(
    pairs, prefix, delimiter, start_after, max_keys
):
    """With key_of, the delimiter applies only to the key part (uploads)."""
    keys = [k + b"\x00" + u for k, u in pairs]
    scan = SortedScan(keys)
    page = list_page(scan, prefix, delimiter, start_after, max_keys, _object_key)
    _check_page(page, keys, prefix, delimiter, start_after, max_keys, _object_key)


def test_list_page_key_of_ignores_delimiter_in_upload_id():
    """A delimiter inside the upload id part does not roll keys up."""
    keys = [b"a\x00x/y", b"a\x00z", b"d/e\x00u/v"]
    page = list_page(SortedScan(keys), b"", b"/", b"", 10, _object_key)
    assert [k for k, _ in page.keys] == [b"a\x00x/y", b"a\x00z"]
    assert page.common_prefixes == (b"d/",)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (b"", None),
        (b"a", b"b"),
        (b"abc", b"abd"),
        (b"a\xff", b"b"),
        (b"a\xff\xff", b"b"),
        (b"\xff", None),
        (b"\xff\xff", None),
        (b"\x00", b"\x01"),
        (b"photos/", b"photos0"),
    ],
)
def test_successor_examples(prefix, expected):
    """successor increments the last non-0xFF byte and drops trailing 0xFFs."""
    assert successor(prefix) == expected


@settings(max_examples=300, deadline=None)
@given(prefix=words(WIDE, max_size=4), key=words(WIDE, max_size=6))
def test_successor_bounds_prefix_range(prefix, key):
    """prefix <= key < successor(prefix) exactly when key starts with prefix."""
    succ = successor(prefix)
    in_range = prefix <= key and (succ is None or key < succ)
    assert in_range is key.startswith(prefix)
