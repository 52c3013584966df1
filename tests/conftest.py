"""Shared test configuration; the fixtures come from the ``anarepo.testing`` plugin."""


def pytest_make_parametrize_id(config, val, argname):
    """Long byte strings (archives built at import time, with timestamps inside) are
    named by their length: test ids must be the same in every pytest-xdist worker."""
    if isinstance(val, (bytes, bytearray)) and len(val) > 32:
        return f"{argname}-{len(val)}B"
    return None
