"""Shared test configuration; the fixtures come from the ``anarepo.testing`` plugin."""
