"""GatewayMetrics.observe: what /prom shows is what was observed (its
labelled children are looked up once per operation and status)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from ozs3.ops.metrics import GatewayMetrics

REQUESTS = st.lists(
    st.tuples(
        st.sampled_from(["GetObject", "PutObject", "HeadObject", "Invalid"]),
        st.sampled_from([200, 204, 404, 499]),
        st.floats(0, 400, allow_nan=False),
        st.integers(0, 10**9),
        st.integers(0, 10**9),
    ),
    max_size=40,
)


def samples(m: GatewayMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(m.render().decode())
        for s in family.samples
    }


@given(REQUESTS)
def test_prom_shows_what_was_observed(requests) -> None:
    m = GatewayMetrics()
    for op, status, seconds, got, sent in requests:
        m.observe(op, status, seconds, got, sent)
    shown = samples(m)
    counts = Counter((op, status) for op, status, *_ in requests)
    for (op, status), n in counts.items():
        labels = frozenset({("operation", op), ("status", str(status))})
        assert shown[("ozs3_requests_total", labels)] == n
    for op, n in Counter(op for op, *_ in requests).items():
        labels = frozenset({("operation", op)})
        assert shown[("ozs3_request_duration_seconds_count", labels)] == n
        quick = sum(1 for o, _, s, *_ in requests if o == op and s <= 0.005)
        le = frozenset({("operation", op), ("le", "0.005")})
        assert shown[("ozs3_request_duration_seconds_bucket", le)] == quick
    assert len([k for k in shown if k[0] == "ozs3_requests_total"]) == len(counts)
    assert shown[("ozs3_received_bytes_total", frozenset())] == sum(
        r[3] for r in requests
    )
    assert shown[("ozs3_sent_bytes_total", frozenset())] == sum(r[4] for r in requests)
