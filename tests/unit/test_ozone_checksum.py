"""Ozone's ChecksumData as ozs3 computes and verifies it: equal to what Ozone's
Java ``Checksum`` class computes (golden values below were produced by Ozone
2.2.0's ``org.apache.hadoop.ozone.common.Checksum.computeChecksum`` on the same
bytes), and every corrupted window caught at its index."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozs3.storage.errors import ChecksumMismatch
from ozs3.storage.ozone import checksum
from ozs3.storage.ozone.checksum import ChecksumData, ChunkChecksumMismatch

# 40,000 bytes, byte i = (31 i + 7) mod 256.
JAVA_INPUT = bytes((i * 31 + 7) & 0xFF for i in range(40000))
# (type, bytes per checksum) -> (number of windows, SHA-256 of the checksums
# concatenated) from Java's Checksum(type, bpc).computeChecksum(JAVA_INPUT).
JAVA_GOLDEN = {
    ("CRC32", 16384): (
        3,
        "7736b59b70e4a6908a08eb0d1a739363f274580cc9b1253795dfd53babe01291",
    ),
    ("CRC32", 1000): (
        40,
        "465f7901fab1544a7cfbb5ec0ae8eacf40e4749077a2f6b4f81367a8d3133ef6",
    ),
    ("CRC32C", 16384): (
        3,
        "70ca84939a684fc6c10c0bd96ca7a3f77e3362cd1ec0e6798ab7921d27434301",
    ),
    ("CRC32C", 1000): (
        40,
        "423ea5c3fff43a9b85629154d3bb48cc58cc0b93ec2a0cfbcc745ebc4608c00f",
    ),
    ("SHA256", 16384): (
        3,
        "12b1515c7b0b3fa99799d4a95d32b106ce4e7405c0ed4e675f156394bbb289d7",
    ),
    ("SHA256", 1000): (
        40,
        "84f3dacee6f29f1ae8c9dd350db1f9be4fa9dd0d06639c5f8bd552e6fe1996c0",
    ),
    ("MD5", 16384): (
        3,
        "2f4a588c14728445070cf5f1dfe52b655e51855b2d61a71a76a1d516c52df3f3",
    ),
    ("MD5", 1000): (
        40,
        "fc1c1b15cbdd2a234cbe412b8e89b49a7568d04fbfb253a7e2a7a214f541eac8",
    ),
}


@pytest.mark.parametrize(("type", "bpc"), sorted(JAVA_GOLDEN))
def test_equal_to_ozones_java_checksum(type: str, bpc: int) -> None:
    windows, digest = JAVA_GOLDEN[(type, bpc)]
    data = checksum.compute(JAVA_INPUT, type, bpc)
    assert (data.type, data.bytes_per_checksum) == (type, bpc)
    assert len(data.checksums) == windows
    assert hashlib.sha256(b"".join(data.checksums)).hexdigest() == digest


def test_crc32_is_four_bytes_big_endian() -> None:
    # Java: 05e37537,05e37537,418b4b44 (the input repeats every 256 bytes).
    assert checksum.compute(JAVA_INPUT).checksums == (
        bytes.fromhex("05e37537"),
        bytes.fromhex("05e37537"),
        bytes.fromhex("418b4b44"),
    )
    # ozone-native-protocol.md A.3; the CRC-32 and CRC-32C check values.
    assert checksum.compute(b"hello").checksums == (bytes.fromhex("3610a686"),)
    assert checksum.compute(b"123456789").checksums == (bytes.fromhex("cbf43926"),)
    assert checksum.compute(b"123456789", "CRC32C").checksums == (
        bytes.fromhex("e3069283"),
    )


def test_none_and_empty() -> None:
    assert checksum.compute(b"abc", "NONE").checksums == ()
    checksum.verify(b"anything", ChecksumData("NONE", 16384))
    assert checksum.compute(b"").checksums == ()
    with pytest.raises(ValueError):
        ChecksumData("ADLER", 16384)
    with pytest.raises(ValueError):
        ChecksumData("CRC32", 0)


types = st.sampled_from(["CRC32", "CRC32C", "SHA256", "MD5"])
window_sizes = st.integers(min_value=1, max_value=300)


@given(data=st.binary(max_size=3000), type=types, bpc=window_sizes)
def test_one_checksum_per_window(data: bytes, type: str, bpc: int) -> None:
    sums = checksum.compute(data, type, bpc).checksums
    assert len(sums) == -(-len(data) // bpc)
    # Each window's checksum is the checksum of that window alone.
    for i, s in enumerate(sums):
        assert (
            s == checksum.compute(data[i * bpc : (i + 1) * bpc], type, bpc).checksums[0]
        )
        assert len(s) == {"CRC32": 4, "CRC32C": 4, "SHA256": 32, "MD5": 16}[type]


@given(
    data=st.binary(min_size=1, max_size=3000),
    type=types,
    bpc=window_sizes,
    st_data=st.data(),
)
def test_any_aligned_part_verifies(
    data: bytes, type: str, bpc: int, st_data: st.DataObject
) -> None:
    recorded = checksum.compute(data, type, bpc)
    start = st_data.draw(st.integers(0, len(data) - 1))
    end = st_data.draw(st.integers(start + 1, len(data)))
    first, last = checksum.aligned_range(start, end, len(data), bpc)
    # The aligned range covers the asked one, on window boundaries (or the end).
    assert first <= start < end <= last and first % bpc == 0
    assert last == len(data) or last % bpc == 0
    assert last - first < (end - start) + 2 * bpc
    checksum.verify(data[first:last], recorded, first // bpc)
    # As V1 ReadChunk buffers (one per window), too.
    buffers = [data[i : min(i + bpc, last)] for i in range(first, last, bpc)]
    checksum.verify(buffers, recorded, first // bpc)


@given(
    data=st.binary(min_size=1, max_size=3000),
    type=types,
    bpc=window_sizes,
    st_data=st.data(),
)
def test_every_flipped_bit_is_caught_at_its_window(
    data: bytes, type: str, bpc: int, st_data: st.DataObject
) -> None:
    recorded = checksum.compute(data, type, bpc)
    position = st_data.draw(st.integers(0, len(data) - 1))
    bit = st_data.draw(st.integers(0, 7))
    corrupted = bytearray(data)
    corrupted[position] ^= 1 << bit
    with pytest.raises(ChunkChecksumMismatch) as caught:
        checksum.verify(bytes(corrupted), recorded)
    assert caught.value.window == position // bpc
    assert isinstance(caught.value, ChecksumMismatch)  # a storage error


def test_a_window_without_a_recorded_checksum_fails() -> None:
    recorded = checksum.compute(b"x" * 100, "CRC32", 10)
    short = ChecksumData("CRC32", 10, recorded.checksums[:5])
    with pytest.raises(ChunkChecksumMismatch) as caught:
        checksum.verify(b"x" * 100, short)
    assert caught.value.window == 5
    # Data read from window 9 on is checked against window 9's checksum.
    checksum.verify(b"x" * 10, recorded, 9)
    with pytest.raises(ChunkChecksumMismatch):
        checksum.verify(b"y" * 10, recorded, 9)


def test_aligned_range_refuses_ranges_outside_the_chunk() -> None:
    assert checksum.aligned_range(5, 6, 100, 16) == (0, 16)
    assert checksum.aligned_range(90, 100, 100, 16) == (80, 100)
    for start, end in [(-1, 5), (5, 5), (0, 101)]:
        with pytest.raises(ValueError):
            checksum.aligned_range(start, end, 100, 16)
