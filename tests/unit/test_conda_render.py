"""The shard index is a byte join of pre-encoded entries; it must equal msgpack's own encoding."""
from __future__ import annotations

import hashlib

import msgpack
import pytest
import zstandard

from anarepo.package_types.conda import render


@pytest.mark.parametrize("count", [0, 1, 15, 16, 300, 65535, 65536])
def test_shard_index_equals_msgpack_of_the_whole_document(count):
    hashes = {f"pkg{i:06d}": hashlib.sha256(str(i).encode()).digest() for i in range(count)}
    entries = [render.shard_entry(name, digest) for name, digest in sorted(hashes.items())]
    data = zstandard.ZstdDecompressor().decompressobj().decompress(render.shard_index("linux-64", entries, 1.5e9))
    expected = msgpack.packb({
        "version": 1,
        "info": {"subdir": "linux-64", "base_url": "", "shards_base_url": "./shards/",
                 "created_at": render.iso(1.5e9)},
        "shards": dict(sorted(hashes.items())),
    }, use_bin_type=True)
    assert data == expected
    assert msgpack.unpackb(data)["shards"] == hashes
