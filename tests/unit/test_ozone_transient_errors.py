"""A cluster daemon whose Raft group has no leader yet (for a few seconds
after a JVM pause longer than Ratis' 10 s step-down threshold, or a restart)
is a 503 ServiceUnavailable, retryable, not a 500 InternalError; found by
tests/cluster/faults against the real cluster.  A real internal failure of
the OM stays an internal error."""

from __future__ import annotations

from ozs3.s3.errors import STORAGE_TO_S3
from ozs3.storage.errors import Unavailable
from ozs3.storage.ozone import dn_codec
from ozs3.storage.ozone.dn_errors import LeaderNotReady, NotLeader, RatisError
from ozs3.storage.ozone.om_errors import OMCallFailed, OMUnavailable, grpc_error
from ozs3.storage.ozone.proto import ratis_pb2 as raft


def s3_code(error: Exception | None) -> str:
    for cls in type(error).__mro__:
        if cls in STORAGE_TO_S3:
            return STORAGE_TO_S3[cls]
    return "InternalError"


def test_om_without_a_leader_is_unavailable() -> None:
    # The gRPC details the OM sends (seen on Ozone 2.2.0 after a 15 s pause).
    for details in [
        "org.apache.hadoop.ozone.om.exceptions.OMNotLeaderException: OM:om1 is "
        "not the leader. Could not determine the leader node.",
        "org.apache.hadoop.ozone.om.exceptions.OMLeaderNotReadyException: om1 "
        "is Leader but not ready to process request yet.",
    ]:
        error = grpc_error("INTERNAL", details, "om:8981")
        assert isinstance(error, OMUnavailable), details
        assert s3_code(error) == "ServiceUnavailable"
        assert "om:8981" in str(error) and details in str(error)
    other = grpc_error(
        "INTERNAL", "java.lang.NullPointerException: OMNotLeaderException", "om"
    )
    assert isinstance(other, OMCallFailed) and s3_code(other) == "InternalError"
    assert isinstance(
        grpc_error("UNKNOWN", "OMNotLeaderException: x", "om"), OMCallFailed
    )


def test_datanode_raft_group_without_a_leader_is_unavailable() -> None:
    no_leader = raft.RaftClientReplyProto()
    no_leader.notLeaderException.SetInParent()  # no suggestion: electing
    error = dn_codec.raft_reply_error(no_leader, "dn1:9858")
    assert isinstance(error, NotLeader) and error.suggested_leader is None
    assert isinstance(error, RatisError) and isinstance(error, Unavailable)
    assert s3_code(error) == "ServiceUnavailable"

    not_ready = raft.RaftClientReplyProto()
    not_ready.leaderNotReadyException.SetInParent()
    error = dn_codec.raft_reply_error(not_ready, "dn1:9858")
    assert isinstance(error, LeaderNotReady) and isinstance(error, Unavailable)
    assert s3_code(error) == "ServiceUnavailable"
    assert "LeaderNotReadyException" in str(error) and "dn1:9858" in str(error)

    closed = raft.RaftClientReplyProto()
    closed.stateMachineException.exceptionClassName = "StorageContainerException"
    error = dn_codec.raft_reply_error(closed)
    assert s3_code(error) == "InternalError"


def test_no_room_for_a_block_is_unavailable() -> None:
    """SCM finding no pipeline or container for a block (datanodes down,
    pipelines closing) is the cluster's state for now: a 503, not a 500."""
    from ozs3.storage.ozone.om_errors import OMError, om_status_error

    said = (
        "Unable to allocate a container to the block of size: 4194304, "
        "replicationConfig: RATIS/THREE. Waiting for one of pipelines to be OPEN"
    )
    for status, message in [
        ("INTERNAL_ERROR", said),
        ("KEY_ALLOCATION_ERROR", "no pipeline"),
        ("SCM_GET_PIPELINE_EXCEPTION", "pipeline not found"),
    ]:
        error = om_status_error(status, message, "b")
        assert isinstance(error, OMUnavailable), (status, error)
        assert STORAGE_TO_S3[Unavailable] == "ServiceUnavailable"
    # Any other internal error stays one.
    other = om_status_error("INTERNAL_ERROR", "NullPointerException", "b")
    assert isinstance(other, OMError) and not isinstance(other, Unavailable)


def test_too_few_datanodes_for_an_ec_group_is_said_plainly() -> None:
    """SCM's placement policy refusing an EC group: a cluster that has fewer
    datanodes than the scheme needs can never write it (501, not a 503 a
    client would retry forever); one with enough, some down, is a 503."""
    from ozs3.storage.errors import NotSupported
    from ozs3.storage.ozone.om_errors import om_status_error

    def said(total: int, available: int) -> str:
        return (
            f"No enough datanodes to choose. TotalNodes = {total} AvailableNodes "
            f"= {available} RequiredNodes = 5 ExcludedNodes = 0 UsedNodes = 0"
        )

    never = om_status_error("INTERNAL_ERROR", said(3, 3), "b")
    assert isinstance(never, NotSupported) and "3 datanodes" in str(never)
    assert STORAGE_TO_S3[NotSupported] == "NotImplemented"
    later = om_status_error("INTERNAL_ERROR", said(5, 4), "b")
    assert isinstance(later, OMUnavailable), later
