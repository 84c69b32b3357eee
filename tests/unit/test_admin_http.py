"""The admin port's /conf redaction (Hadoop's sensitive-key patterns)."""

from __future__ import annotations

import pytest

from ozs3.ops import admin_http

SENSITIVE = [
    "fs.azure.account.key.acct.blob.core.windows.net",
    "ssl.server.keystore.password",
    "ssl.keystore.pass",
    "fs.s3a.secret.key",
    "fs.s3a.bucket.b.server-side-encryption.key",
    "fs.s3a.encryption.key",
    "fs.adl.oauth2.refresh.token",
    "dfs.webhdfs.oauth2.client.secret",
    "ozone.om.db.username",
    "hadoop.security.credential",
    "hive.metastore.db.passwd",
    "hadoop.security.sensitive-config-keys",
    "custom.pattern.value",  # from the configured list
]
PLAIN = ["ozone.s3g.volume.name", "ozone.scm.block.size", "ozone.metadata.dirs"]


def test_redacted_hides_hadoop_sensitive_keys_and_shows_only_known_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = {k: f"value-of-{k}" for k in SENSITIVE + PLAIN}
    conf["hadoop.security.sensitive-config-keys"] = r"custom\.pattern"
    conf["not.read.by.ozs3"] = "hidden"
    monkeypatch.setattr(admin_http, "DEFAULTS", dict.fromkeys(SENSITIVE + PLAIN, ""))
    shown = admin_http.redacted(conf)
    assert "not.read.by.ozs3" not in shown
    for key in SENSITIVE:
        assert shown[key] == admin_http.REDACTED, key
    for key in PLAIN:
        assert shown[key] == f"value-of-{key}"
