"""The tests' port picker never hands out a port it handed out lately: a
gateway's admin port, picked after its S3 port (neither bound yet), once
came out equal to it."""

from __future__ import annotations

import pytest

from tests.support import gateway


def test_recent_ports_are_not_handed_out_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gateway, "_recent", gateway.collections.deque(maxlen=256))
    monkeypatch.setattr(gateway, "_bindable", lambda port: True)
    monkeypatch.setattr(gateway, "_PORT_RANGE", (20000, 20006))
    picks = [gateway.free_port(2), gateway.free_port(), gateway.free_port()]
    taken = [picks[0], picks[0] + 1, picks[1], picks[2]]
    assert len(set(taken)) == 4
    with pytest.raises(RuntimeError):
        for _ in range(4):  # of the six bases, at most three are left
            gateway.free_port()
