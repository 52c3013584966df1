"""The shipped .ini files: every waitress thread gets a pooled ZODB connection
(more threads than ``connection_pool_size`` makes ZODB warn on every burst),
and development.ini keeps waitress's per-request queue warnings out of the log."""
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ini(name):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / name)
    return parser


@pytest.mark.parametrize("name", ["development.ini", "production.ini"])
def test_threads_fit_the_connection_pool(name):
    ini = _ini(name)
    threads = int(ini["server:main"]["threads"])
    pool = int(re.search(r"connection_pool_size=(\d+)", ini["app:main"]["zodbconn.uri"]).group(1))
    assert threads <= pool


def test_development_ini_silences_queue_depth_warnings_only():
    ini = _ini("development.ini")
    loggers = {ini[f"logger_{key.strip()}"]["qualname"] if key.strip() != "root" else "": ini[f"logger_{key.strip()}"]
               for key in ini["loggers"]["keys"].split(",")}
    assert loggers["waitress.queue"]["level"] == "ERROR"
    assert loggers[""]["level"] == "WARNING"  # every other waitress warning still shows
    assert int(ini["server:main"]["threads"]) >= 16
