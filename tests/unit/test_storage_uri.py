"""``file://`` URIs open FileStorage with native blobs, never ZODB's BlobStorage proxy."""
import pytest
from ZODB.blob import BlobStorage
from ZODB.FileStorage import FileStorage

from anarepo.db import resolve_uri


@pytest.mark.parametrize("param", ["blob_dir", "blobstorage_dir"])
def test_file_uri_with_blobs_is_native_filestorage(tmp_path, param):
    factory, dbkw = resolve_uri(f"file://{tmp_path}/Data.fs?{param}={tmp_path}/blobs"
                                "&blobstorage_layout=bushy&connection_pool_size=3")
    storage = factory()
    try:
        assert type(storage) is FileStorage and not isinstance(storage, BlobStorage)
        assert storage.temporaryDirectory().startswith(str(tmp_path / "blobs"))
        assert dbkw["pool_size"] == 3
    finally:
        storage.close()


def test_other_uris_go_to_zodburi():
    factory, dbkw = resolve_uri("memory://?connection_cache_size=7")
    assert dbkw["cache_size"] == 7


def test_unknown_parameters_are_refused(tmp_path):
    with pytest.raises(KeyError):
        resolve_uri(f"file://{tmp_path}/Data.fs?blob_dir={tmp_path}/b&bogus=1")
