"""Get/Put/DeleteBucketPolicy and GetBucketPolicyStatus.  The policy is
enforced in authz.py; it is stored as the JSON text that was put (what
GetBucketPolicy returns) once validated (policy_json.py) and once every
principal it names is a known user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...storage.model import BUCKET_POLICY
from ..context import Call, S3Response
from ..errors import S3Error
from ..policy import ANYONE
from ..policy_json import decode_policy, malformed, parse_policy
from ..xml import policy_status_xml
from .bucket import XML, bucket_of
from .settings import read_setting, write_setting

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_bucket_policy(gw: S3Gateway, call: Call) -> S3Response:
    text = await read_setting(gw, call, BUCKET_POLICY, "NoSuchBucketPolicy")
    return S3Response(200, {"content-type": "application/json"}, text.encode("utf-8"))


async def put_bucket_policy(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    policy = parse_policy(call.body, bucket)
    block = await gw.public_access.get(bucket, call.bucket_id(bucket))
    if block is not None and block.block_public_policy and policy.is_public:
        # S3's answer when BlockPublicPolicy refuses a public policy.
        raise S3Error("AccessDenied")
    for statement in policy.statements:
        for who in statement.principals:
            if who != ANYONE and await gw.store.get_s3_secret(who) is None:
                raise malformed("Invalid principal in policy")
    await write_setting(gw, call, BUCKET_POLICY, policy.text, gw.bucket_policies)
    return S3Response(204)


async def delete_bucket_policy(gw: S3Gateway, call: Call) -> S3Response:
    await write_setting(gw, call, BUCKET_POLICY, None, gw.bucket_policies)
    return S3Response(204)


async def get_bucket_policy_status(gw: S3Gateway, call: Call) -> S3Response:
    text = await read_setting(gw, call, BUCKET_POLICY, "NoSuchBucketPolicy")
    return S3Response(200, dict(XML), policy_status_xml(decode_policy(text).is_public))
