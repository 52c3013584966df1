"""The anaconda.org ("binstar") REST API under ``/api``, as anaconda-client 1.16 calls it.

Routes, not traversal: the client's paths (``/package/o/p``, ``/dist/o/p/v/<basename
with slashes>``...) map onto the tree through small lookup functions, and each
view checks its permission on the object it found.  Views never read the web
session; identity comes from tokens only.
"""
from __future__ import annotations


def includeme(config):
    config.include(".base")
