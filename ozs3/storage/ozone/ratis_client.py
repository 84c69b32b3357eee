"""Writing blocks to a RATIS pipeline through Ratis' client protocol.

``RatisClient``: one per pipeline (Raft group id = pipeline id).  Container
commands travel as ``ContainerCommandRequestMessage`` contents in ordered write
requests on one ``/ratis.grpc.RaftClientProtocolService/ordered`` stream to the
leader's RATIS port; replies come back in order, each with the command's
``ContainerCommandResponseProto`` and the Raft log index.  Every request has a
deadline.

A block's data goes through it in ``ratis_block_writer.RatisBlockWriter``.

THREE pipelines: a broken stream or a NotLeader / LeaderNotReady reply sends
every unanswered request again, with its call id, on a new stream to the new
leader (Ratis' retry cache de-duplicates), as Java's client does.  A reply
already means the write is committed by a majority and applied on the
leader; ``watch`` for ALL_COMMITTED (what Java does before freeing buffers)
is not sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from . import dn_codec
from .dn_errors import (
    DatanodeDeadlineExceeded,
    DatanodeUnavailable,
    LeaderNotReady,
    NotLeader,
)
from .dn_transport import ordered_stream, ratis_channel
from .grpc_twisted import close_channel
from .proto import datanode_pb2 as dn

DEFAULT_DEADLINE = 60.0
DEFAULT_CHUNK_SIZE = (
    4 * 1024 * 1024
)  # ozone.client.stream.buffer.size / ozone.scm.chunk.size


@dataclass(frozen=True)
class RatisReply:
    response: dn.ContainerCommandResponseProto
    log_index: int


@dataclass(eq=False)
class _Call:
    """A write request until its reply: resent, with its call id, on every
    new stream until it is answered or its deadline passes."""

    call_id: int
    content: bytes
    d: Deferred[RatisReply]
    timer: Any = None


class _Stream:
    """One ordered stream to one peer and the calls waiting on it."""

    def __init__(self, owner: RatisClient, peer_id: str, address: str) -> None:
        self.owner = owner
        self.peer_id = peer_id
        self.address = address
        self.next_seq = 1
        self.pending: dict[int, _Call] = {}
        self.ended = False
        self.transport = ordered_stream(
            owner.reactor, owner.channel(address), address, self.on_reply, self.on_end
        )

    def send(self, call: _Call) -> None:
        seq = self.next_seq
        self.next_seq += 1
        self.pending[call.call_id] = call
        self.transport.send(
            dn_codec.raft_write_request(
                client_id=self.owner.client_id,
                peer_id=self.peer_id,
                group_id=self.owner.pipeline_id,
                call_id=call.call_id,
                seq_num=seq,
                is_first=seq == 1,
                content=call.content,
                replication=self.owner.replication,
            )
        )

    def on_reply(self, reply: Any) -> None:
        if self.ended:
            return  # its calls went to another stream
        call = self.pending.pop(reply.rpcReply.callId, None)
        if call is None:
            return
        error = dn_codec.raft_reply_error(reply, self.address)
        if error is None:
            try:
                response = dn.ContainerCommandResponseProto.FromString(
                    reply.message.content
                )
                dn_codec.check(response, self.address)
            except Exception as e:
                error = e
            else:
                self.owner.answered(call, RatisReply(response, reply.logIndex))
                return
        if isinstance(error, (NotLeader, LeaderNotReady)):
            # This call and every later one must go again, to the leader.
            self.pending[call.call_id] = call
            self.owner.fail_over(self, error)
            return
        self.owner.failed(call, error)

    def on_end(self, error: Exception | None) -> None:
        if not self.ended:
            ended = DatanodeUnavailable(f"ratis stream to {self.address} ended")
            self.owner.fail_over(self, error or ended)

    def end(self) -> list[_Call]:
        """Stop the stream; the calls still waiting on it, in order."""
        if not self.ended:
            self.ended = True
            self.transport.cancel()
        calls = sorted(self.pending.values(), key=lambda c: c.call_id)
        self.pending = {}
        return calls


class RatisClient:
    """Ordered writes to one Raft group.  ``peers``: datanode UUID -> host:port
    of its RATIS (client) port; ``leader``: the pipeline's leader UUID if the
    OM said (else the first peer).

    Leader changes are followed as Java's client follows them: when the
    stream breaks (the leader died) or a peer answers that it does not lead
    (NotLeader, with the leader it knows) or not yet (LeaderNotReady), every
    unanswered call is sent again, with its call id (Ratis' retry cache
    answers one that was applied already), on a new stream to the suggested
    leader or the next peer, after a short pause that grows with each try.
    A call unanswered at its deadline ends it all: every outstanding call
    fails with ``DatanodeDeadlineExceeded`` (their order is unknown now)."""

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        pipeline_id: str,
        peers: Mapping[str, str],
        *,
        leader: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
        client_id: bytes | None = None,
        replication: str = "MAJORITY",
    ) -> None:
        if not peers:
            raise ValueError("a pipeline needs at least one peer")
        self.reactor = reactor
        self.pipeline_id = pipeline_id
        self.peers = dict(peers)
        self.leader = leader if leader in self.peers else next(iter(self.peers))
        self.deadline = deadline
        self.replication = replication
        # Ratis' ClientId: 16 random bytes; with the call id it keys the
        # server's retry cache.
        self.client_id = client_id or uuid.uuid4().bytes
        self._call_id = 0
        self._stream: _Stream | None = None
        self._channels: dict[str, Any] = {}
        self._calls: dict[int, _Call] = {}  # every unanswered call
        # Calls waiting out a fail-over's pause (None: not failing over).
        self._waiting: list[_Call] | None = None
        self._failovers = 0  # in a row, since the last answer
        self.failovers_total = 0
        # Peers whose stream broke (dead or unreachable, not merely not
        # leading): a failed block's ExcludeList names them.
        self.unreachable: set[str] = set()

    def channel(self, address: str) -> Any:
        if address not in self._channels:
            self._channels[address] = ratis_channel(self.reactor, address)
        return self._channels[address]

    def _current_stream(self) -> _Stream:
        if self._stream is None or self._stream.ended:
            self._stream = _Stream(self, self.leader, self.peers[self.leader])
        return self._stream

    def submit(
        self, request: dn.ContainerCommandRequestProto, data: bytes | memoryview = b""
    ) -> Deferred[RatisReply]:
        """Send a container command as an ordered Raft write; its reply (a
        failure: the mapped storage error) within the deadline."""
        return self.submit_message(dn_codec.container_message(request, data))

    def submit_message(self, content: bytes) -> Deferred[RatisReply]:
        """``submit`` of a command already made a Ratis message
        (``dn_codec.container_message``)."""
        self._call_id += 1
        call = _Call(self._call_id, content, Deferred())
        call.timer = self.reactor.callLater(self.deadline, self._expire, call)
        self._calls[call.call_id] = call
        if self._waiting is not None:
            self._waiting.append(call)
        else:
            self._current_stream().send(call)
        return call.d

    def answered(self, call: _Call, reply: RatisReply) -> None:
        self._failovers = 0
        self._done(call)
        call.d.callback(reply)

    def failed(self, call: _Call, error: Exception) -> None:
        self._done(call)
        call.d.errback(error)

    def _done(self, call: _Call) -> None:
        self._calls.pop(call.call_id, None)
        if call.timer is not None and call.timer.active():
            call.timer.cancel()

    def fail_over(self, stream: _Stream, error: Exception) -> None:
        """``stream`` cannot carry its calls: send them again elsewhere."""
        calls = stream.end()
        if self._stream is stream:
            self._stream = None
        if isinstance(error, NotLeader) and error.suggested_leader in self.peers:
            self.leader = error.suggested_leader
        elif not isinstance(error, LeaderNotReady):
            if not isinstance(error, NotLeader):
                self.unreachable.add(stream.peer_id)
            # Dead or leaderless: try the next peer (the same one, alone).
            ids = list(self.peers)
            self.leader = ids[(ids.index(stream.peer_id) + 1) % len(ids)]
        waiting = calls + (self._waiting or [])
        self._waiting = sorted(waiting, key=lambda c: c.call_id)
        if not isinstance(error, LeaderNotReady):
            self.log.info(
                "pipeline {p}: {error}; {n} unanswered writes go to {peer}",
                p=self.pipeline_id, error=error, n=len(self._waiting),
                peer=self.leader,
            )  # fmt: skip
        self._failovers += 1
        self.failovers_total += 1
        self.reactor.callLater(min(1.0, 0.05 * self._failovers), self._resend)

    def _resend(self) -> None:
        waiting, self._waiting = self._waiting, None
        live = [c for c in waiting or () if c.call_id in self._calls]
        if live:
            stream = self._current_stream()
            for call in live:
                stream.send(call)

    def _expire(self, call: _Call) -> None:
        # The stream's order is unknown from here on: end it, and with it every
        # other request still outstanding.
        where = self.peers.get(self.leader, "?")
        self._give_up(
            DatanodeDeadlineExceeded(
                f"ratis {where}: no reply to call {call.call_id} in {self.deadline} s"
            )
        )

    def _give_up(self, error: Exception) -> None:
        if self._stream is not None:
            self._stream.end()
            self._stream = None
        self._waiting = None
        calls, self._calls = self._calls, {}
        for call in sorted(calls.values(), key=lambda c: c.call_id):
            if call.timer is not None and call.timer.active():
                call.timer.cancel()
            call.d.errback(error)

    def close(self) -> None:
        self._give_up(DatanodeUnavailable("ratis client closed"))
        for channel in self._channels.values():
            close_channel(channel)
        self._channels.clear()
