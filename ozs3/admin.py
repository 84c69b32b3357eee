"""``ozs3``: the admin command, like ``ozone s3``.

    ozs3 s3 getsecret --user NAME [-e]
    ozs3 s3 setsecret --user NAME --secret S [-e]
    ozs3 s3 revokesecret --user NAME [-y]
    ozs3 s3 path BUCKET

It works on the gateway's data directory (from ``--config``/``--data-dir``,
``OZONE-SITE.XML_*`` or the defaults, exactly as ``twistd ozones3`` finds
it), also while the gateway runs: the OM database is shared, so a new or
revoked secret takes effect at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .config import ConfigError, load_config
from .storage.datadir import private_dir
from .storage.om import secrets


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ozs3", description="ozs3 administration")
    p.add_argument("--config", help="ozone-site.xml to read")
    p.add_argument("--data-dir", help="the gateway's data directory")
    top = p.add_subparsers(dest="group", required=True)
    s3 = top.add_parser("s3", help="S3 secrets and paths").add_subparsers(
        dest="command", required=True
    )
    g = s3.add_parser("getsecret", help="create and print a user's S3 secret")
    g.add_argument("-u", "--user", required=True)
    g.add_argument("-e", "--export", action="store_true", help="print as exports")
    s = s3.add_parser("setsecret", help="set a user's S3 secret")
    s.add_argument("-u", "--user", required=True)
    s.add_argument("-s", "--secret", required=True)
    s.add_argument("-e", "--export", action="store_true", help="print as exports")
    r = s3.add_parser("revokesecret", help="revoke a user's S3 secret")
    r.add_argument("-u", "--user", required=True)
    r.add_argument("-y", "--yes", action="store_true", help="do not ask")
    path = s3.add_parser("path", help="the Ozone volume and o3fs URI of a bucket")
    path.add_argument("bucket")
    return p


def _print_secret(user: str, secret: str, export: bool) -> None:
    if export:
        print(f"export AWS_ACCESS_KEY_ID={user}")
        print(f"export AWS_SECRET_ACCESS_KEY={secret}")
    else:
        print(f"awsAccessKey={user}")
        print(f"awsSecret={secret}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        site = None
        if args.config:
            with open(args.config, "rb") as f:
                site = f.read()
        overrides = {"ozone.metadata.dirs": args.data_dir} if args.data_dir else {}
        config = load_config(site, os.environ, overrides)
    except (OSError, ConfigError) as e:
        print(f"ozs3: {e}", file=sys.stderr)
        return 1
    private_dir(config.data_dir)  # it holds every secret: 0700
    conn = secrets.open_db(os.path.join(config.data_dir, "om", "om.db"))
    try:
        if args.command == "getsecret":
            try:
                secret = secrets.create_secret(conn, args.user)
            except secrets.SecretExists:
                print(
                    f"ozs3: S3_SECRET_ALREADY_EXISTS: {args.user} already has a "
                    "secret (it is shown only once; use setsecret or revokesecret)",
                    file=sys.stderr,
                )
                return 1
            _print_secret(args.user, secret, args.export)
        elif args.command == "setsecret":
            try:
                secrets.set_secret(conn, args.user, args.secret)
            except ValueError as e:
                print(f"ozs3: {e}", file=sys.stderr)
                return 1
            _print_secret(args.user, args.secret, args.export)
        elif args.command == "revokesecret":
            if not args.yes:
                answer = input(
                    f"Enter 'y' to confirm S3 secret revocation for '{args.user}': "
                )
                if answer.strip().lower() != "y":
                    print("Operation cancelled.", file=sys.stderr)
                    return 1
            try:
                secrets.revoke_secret(conn, args.user)
            except secrets.AccessIdNotFound:
                print(f"ozs3: ACCESS_ID_NOT_FOUND: {args.user}", file=sys.stderr)
                return 1
            print("S3 secret revoked.")
        elif args.command == "path":
            row = conn.execute(
                "SELECT 1 FROM buckets WHERE volume=? AND name=?",
                (config.volume, args.bucket),
            ).fetchone()
            if row is None:
                print(f"ozs3: BUCKET_NOT_FOUND: {args.bucket}", file=sys.stderr)
                return 1
            print(f"Volume name for S3Bucket is : {config.volume}")
            print(f"Ozone FileSystem Uri is : o3fs://{args.bucket}.{config.volume}")
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
