"""Unit tests for ozs3.config: ozone-site.xml, env overrides, validation."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozs3.config import DEFAULTS, ENV_PREFIX, ConfigError, load_config, parse_site_xml
from ozs3.config_values import parse_bool, parse_seconds, parse_size
from ozs3.listen_addresses import address_to_endpoint

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40


def site_xml(props: dict[str, str]) -> bytes:
    body = "".join(
        f"<property><name>{escape(k)}</name><value>{escape(v)}</value></property>"
        for k, v in props.items()
    )
    return f"<configuration>{body}</configuration>".encode()


def _error(*args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(*args, **kwargs)
    message = str(info.value)
    assert message
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- defaults


def test_load_config_defaults():
    """With no file, env or overrides every default applies."""
    c = load_config(None, {})
    assert c.listen == ("tcp:9878",)
    assert c.domains == ()
    assert c.volume == "s3v"
    assert c.data_dir == "ozs3-data"
    assert c.security_enabled is False
    assert c.administrators == ()
    assert c.block_size == 256 * MIB
    assert c.chunk_size == 4 * MIB
    assert c.bytes_per_checksum == 16 * KIB
    assert c.checksum_type == "CRC32C"
    assert c.max_keys_limit == 1000
    assert c.max_object_size == 5 * GIB
    assert c.max_xml_body == 4 * MIB
    assert c.request_timeout == 60.0
    assert c.inline_size == 64 * KIB
    assert dict(c.raw) == DEFAULTS


def test_load_config_from_site_xml():
    """Values from ozone-site.xml replace the defaults."""
    xml = site_xml(
        {
            "ozone.s3g.http-address": "127.0.0.1:1234",
            "ozone.s3g.domain.name": " s3.Example.com , [Other.Org] ,",
            "ozone.s3g.volume.name": "vol-1",
            "ozone.metadata.dirs": " /data/a , /data/b",
            "ozone.security.enabled": " TRUE ",
            "ozone.administrators": "alice, bob,,",
            "ozone.scm.block.size": "128MB",
            "ozone.scm.chunk.size": "1MB",
            "ozone.client.bytes.per.checksum": "1KB",
            "ozone.client.checksum.type": "none",
            "ozone.s3g.list.max.keys.limit": "50",
            "ozone.s3g.max.object.size": "1TB",
            "ozone.s3g.max.xml.body.size": "64KB",
            "ozone.s3g.request.timeout": "1.5m",
        }
    )
    c = load_config(xml, {})
    assert c.listen == ("tcp:1234:interface=127.0.0.1",)
    assert c.domains == ("s3.example.com", "other.org")
    assert c.volume == "vol-1"
    assert c.data_dir == "/data/a"
    assert c.security_enabled is True
    assert c.administrators == ("alice", "bob")
    assert c.block_size == 128 * MIB
    assert c.chunk_size == MIB
    assert c.bytes_per_checksum == KIB
    assert c.checksum_type == "NONE"
    assert c.max_keys_limit == 50
    assert c.max_object_size == TIB
    assert c.max_xml_body == 64 * KIB
    assert c.request_timeout == 90.0


def test_load_config_ignores_foreign_ozone_keys():
    """Keys outside ozone.s3g.* that ozs3 does not read are ignored."""
    xml = site_xml({"ozone.om.address": "om:9862", "hdds.datanode.dir": "/x"})
    c = load_config(xml, {})
    assert c.raw["ozone.om.address"] == "om:9862"
    assert c.volume == "s3v"


def test_load_config_site_xml_values_stripped():
    """Whitespace around names and values in the XML is ignored."""
    xml = (
        b"<configuration><property>\n  <name> ozone.s3g.volume.name </name>\n"
        b"  <value>\n  vol2\n  </value>\n</property></configuration>"
    )
    assert load_config(xml, {}).volume == "vol2"


def test_load_config_empty_value_element():
    """A property with no <value> is the empty string."""
    xml = b"<configuration><property><name>ozone.s3g.domain.name</name>" + (
        b"</property></configuration>"
    )
    assert load_config(xml, {}).domains == ()


# ---------------------------------------------------------------- precedence

SOURCES = ("xml", "env", "override")


@settings(max_examples=100, deadline=None)
@given(
    present=st.sets(st.sampled_from(SOURCES)),
    values=st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=2, max_size=10).map(
            lambda s: "v" + s
        ),
        min_size=3,
        max_size=3,
    ),
    noise=st.dictionaries(
        st.sampled_from(["UNRELATED", "OZONE-SITE.XML", "ozone-site.xml_x"]),
        st.text(max_size=5),
    ),
)
def test_load_config_precedence(present, values, noise):
    """overrides beat OZONE-SITE.XML_ env vars, which beat the XML file."""
    key = "ozone.s3g.volume.name"
    by_source = dict(zip(SOURCES, values))
    xml = site_xml({key: by_source["xml"]}) if "xml" in present else None
    env = dict(noise)
    if "env" in present:
        env[ENV_PREFIX + key] = by_source["env"]
    overrides = {key: by_source["override"]} if "override" in present else None
    expected = DEFAULTS[key]
    for source in SOURCES:
        if source in present:
            expected = by_source[source]
    c = load_config(xml, env, overrides)
    assert c.volume == expected
    assert c.raw[key] == expected


def test_load_config_env_override_only_with_exact_prefix():
    """Only variables named OZONE-SITE.XML_<key> are configuration."""
    env = {
        "OZONE-SITE.XML_ozone.s3g.list.max.keys.limit": "7",
        "ozone-site.xml_ozone.s3g.volume.name": "ignored",
        "OZONE_SITE_XML_ozone.metadata.dirs": "ignored",
    }
    c = load_config(None, env)
    assert c.max_keys_limit == 7
    assert c.volume == "s3v"
    assert c.data_dir == "ozs3-data"


def test_load_config_explicit_listen_wins():
    """An explicit listen tuple replaces the http-address endpoint."""
    c = load_config(None, {}, listen=("tcp:1:interface=::1", "unix:/s"))
    assert c.listen == ("tcp:1:interface=::1", "unix:/s")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<configuration>",
        b"<configuration><property></configuration>",
        b"not xml",
        b"<configuration></configuration>trailing",
    ],
)
def test_load_config_bad_xml(data):
    """XML that is not well-formed is a one-line ConfigError."""
    assert "ozone-site.xml" in _error(data, {})


def test_load_config_wrong_root():
    """A root other than <configuration> is refused."""
    assert "<configuration>" in _error(b"<conf/>", {})


def test_load_config_property_without_name():
    """A <property> without a <name> is refused."""
    msg = _error(b"<configuration><property><value>1</value></property>"
                 b"</configuration>", {})  # fmt: skip
    assert "<name>" in msg


@pytest.mark.parametrize(
    "source", ["xml", "env", "override"], ids=["xml", "env", "override"]
)
def test_load_config_unknown_s3g_key(source):
    """An unknown ozone.s3g.* key from any source names the key."""
    key = "ozone.s3g.volume.nmae"
    xml = site_xml({key: "x"}) if source == "xml" else None
    env = {ENV_PREFIX + key: "x"} if source == "env" else {}
    overrides = {key: "x"} if source == "override" else None
    assert key in _error(xml, env, overrides)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ozone.security.enabled", "yes"),
        ("ozone.security.enabled", "1"),
        ("ozone.security.enabled", ""),
        ("ozone.s3g.http-address", "localhost"),
        ("ozone.s3g.http-address", "host:"),
        ("ozone.s3g.http-address", "host:port"),
        ("ozone.s3g.http-address", "host:65536"),
        ("ozone.s3g.http-address", "host:-1"),
        ("ozone.scm.block.size", "big"),
        ("ozone.scm.block.size", "1.5MB"),
        ("ozone.scm.block.size", "-4MB"),
        ("ozone.scm.block.size", "4PB"),
        ("ozone.scm.block.size", "MB"),
        ("ozone.scm.chunk.size", "512MB"),  # chunk > block
        ("ozone.client.bytes.per.checksum", "0"),
        ("ozone.client.bytes.per.checksum", "8MB"),  # bpc > chunk
        ("ozone.s3g.max.object.size", "lots"),
        ("ozone.s3g.max.xml.body.size", "4 M B"),
        ("ozone.s3g.request.timeout", "soon"),
        ("ozone.s3g.request.timeout", "10d"),
        ("ozone.s3g.list.max.keys.limit", "many"),
        ("ozone.s3g.list.max.keys.limit", "0"),
        ("ozone.s3g.volume.name", "S3V"),
        ("ozone.s3g.volume.name", "ab"),
        ("ozone.s3g.volume.name", "-vol"),
        ("ozone.client.checksum.type", "MD5"),
        ("ozone.metadata.dirs", " , "),
        ("ozone.s3g.embedded.inline.max.size", "2MB"),  # over 1MB
        ("ozone.s3g.embedded.inline.max.size", "small"),
    ],
)
def test_load_config_bad_values(key, value):
    """Every invalid value is a one-line ConfigError naming the problem."""
    msg = _error(None, {}, {key: value})
    if key not in ("ozone.scm.chunk.size", "ozone.client.bytes.per.checksum"):
        assert key in msg


def test_inline_size_may_be_off_and_never_exceeds_the_block_size():
    off = {"ozone.s3g.embedded.inline.max.size": "0"}
    assert load_config(None, {}, off).inline_size == 0
    msg = _error(
        None, {}, {"ozone.scm.block.size": "512KB", "ozone.scm.chunk.size": "512KB",
                   "ozone.s3g.embedded.inline.max.size": "1MB"},
    )  # fmt: skip
    assert "ozone.s3g.embedded.inline.max.size" in msg


def test_load_config_superscript_port_is_config_error():
    """A port of non-ASCII 'digits' is a ConfigError, not a crash."""
    with pytest.raises(ValueError) as info:
        load_config(None, {}, {"ozone.s3g.http-address": "host:\u00b2"})
    assert isinstance(info.value, ConfigError)


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4096", 4096),
        ("0", 0),
        ("1B", 1),
        ("16KB", 16 * KIB),
        ("16kb", 16 * KIB),
        ("16K", 16 * KIB),
        ("256MB", 256 * MIB),
        ("256 mb", 256 * MIB),
        ("4m", 4 * MIB),
        (" 5GB ", 5 * GIB),
        ("2TB", 2 * TIB),
        ("2t", 2 * TIB),
    ],
)
def test_parse_size_units(text, expected):
    """Ozone storage sizes use binary units with optional B and any case."""
    assert parse_size("k", text) == expected


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 10**6),
    unit=st.sampled_from(["", "B", "K", "KB", "M", "MB", "G", "GB", "T", "TB"]),
    lower=st.booleans(),
    space=st.sampled_from(["", " "]),
)
def test_parse_size_round_trip(n, unit, lower, space):
    """parse_size(n<unit>) is n times the unit's power of 1024."""
    factor = {"": 1, "B": 1, "K": KIB, "M": MIB, "G": GIB, "T": TIB}[unit[:1]]
    text = f"{n}{space}{unit.lower() if lower else unit}"
    assert parse_size("k", text) == n * factor


@pytest.mark.parametrize("text", ["", "MB", "1.5GB", "-1", "4 PB", "4MiB", "x4MB"])
def test_parse_size_invalid(text):
    """Non-sizes raise a ConfigError naming the key."""
    with pytest.raises(ConfigError, match=r"my\.key"):
        parse_size("my.key", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("60s", 60.0), ("60", 60.0), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0)],
)
def test_parse_seconds_units(text, expected):
    """Durations accept ms, s, m, h or bare seconds."""
    assert parse_seconds("k", text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("FALSE", False), (" True ", True)]
)
def test_parse_bool_values(text, expected):
    """Booleans are true/false in any case."""
    assert parse_bool("k", text) is expected


@pytest.mark.parametrize(
    ("address", "endpoint"),
    [
        ("0.0.0.0:9878", "tcp:9878"),
        (":9878", "tcp:9878"),
        ("127.0.0.1:1234", "tcp:1234:interface=127.0.0.1"),
        ("localhost:80", "tcp:80:interface=localhost"),
        (" 10.1.2.3:0 ", "tcp:0:interface=10.1.2.3"),
        ("[::1]:9878", "tcp:9878:interface=\\:\\:1"),
    ],
)
def test_address_to_endpoint(address, endpoint):
    """host:port becomes a Twisted endpoint; 0.0.0.0 listens everywhere."""
    assert address_to_endpoint("k", address) == endpoint


def test_load_config_http_address_to_listen():
    """ozone.s3g.http-address drives the listen endpoint."""
    c = load_config(site_xml({"ozone.s3g.http-address": "127.0.0.1:1234"}), {})
    assert c.listen == ("tcp:1234:interface=127.0.0.1",)


def test_parse_site_xml_last_property_wins():
    """A repeated property takes its last value, as Hadoop does."""
    xml = site_xml({"a": "1"}).replace(
        b"</configuration>",
        b"<property><name>a</name><value>2</value></property></configuration>",
    )
    assert parse_site_xml(xml) == {"a": "2"}


def test_parse_site_xml_no_entity_expansion():
    """Entities declared in a DTD are not expanded into values."""
    xml = (
        b'<!DOCTYPE configuration [<!ENTITY x "ozone.s3g.bogus">]>'
        b"<configuration><property><name>n</name><value>&x;</value>"
        b"</property></configuration>"
    )
    try:
        props = parse_site_xml(xml)
    except ConfigError:
        return
    assert props.get("n") != "ozone.s3g.bogus"
