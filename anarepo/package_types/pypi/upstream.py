"""The PyPI type's upstream records (mirrors and proxies of PyPI indexes,
``anarepo.sources``): a proxied file is listed with the upstream's
``requires-python`` and yanked state before its bytes are here; once they are, its
core metadata is kept from the bytes (PEP 658), as for an upload."""
from __future__ import annotations

from ...plugins.api import UpstreamRecords, set_dist_extra
from .index import STATE, StoredMetadata, keep_metadata


class PypiUpstreamRecords(UpstreamRecords):
    def place(self, dist, want) -> None:
        set_dist_extra(dist, STATE, StoredMetadata(None, None, want.record.get("requires_python")))
        dist.yanked = want.yanked

    def fetched(self, dist, info) -> None:
        keep_metadata(dist, info.payload.get("core_metadata"))  # PEP 658 from the bytes
        dist._v_pypi_record = None
