"""Persistent classes that moved still load from databases that name their old paths.

A ZODB pickle names its class ``module.Class``.  The core's tokens, staged uploads,
channel notices and notifications were defined in ``anarepo.security.tokens``,
``anarepo.staging``, ``anarepo.notices`` and ``anarepo.notifications``; they now live
in ``anarepo.resources``, and ``anarepo.resources.moved`` maps the old paths.  This
test writes each object under its old class path (as the release before the move
did), checks the pickles really name those paths, then opens the database with the
application and reads every object back as the class of today, with its state; the
token still authenticates and the notice is still served by the API.
"""
from __future__ import annotations

import sys
import types

import webtest
from ZODB.utils import get_pickle_metadata

from anarepo import main
from anarepo.services.notices import create_notice, update_notice
from anarepo.services.notifications import inbox_of, notify
from anarepo.resources.moved import MOVED
from anarepo.resources.notices import Notice
from anarepo.resources.notifications import Inbox, Notification
from anarepo.resources.staging import Stage, StagingArea
from anarepo.resources.tokens import Token
from anarepo.services.staging import create_stage, get_stage
from anarepo.testing import AppHarness, make_settings

CLASSES = {cls.__name__: cls for cls in (Token, Stage, StagingArea, Notice, Notification, Inbox)}


def _at_old_paths(monkeypatch):
    """Give each moved class its old ``__module__``, importable under that name (a
    stand-in module where the old module is gone)."""
    for (old_module, name), new_module in MOVED.items():
        cls = CLASSES[name]
        assert cls.__module__ == new_module
        if old_module not in sys.modules:
            monkeypatch.setitem(sys.modules, old_module, types.ModuleType(old_module))
        monkeypatch.setattr(sys.modules[old_module], name, cls, raising=False)
        monkeypatch.setattr(cls, "__module__", old_module)


def _classes_named_in_pickles(db) -> set:
    storage = db.storage
    names = set()
    for txn in storage.iterator():
        for record in txn:
            if record.data:
                names.add(get_pickle_metadata(record.data))
    return names


def test_objects_written_under_old_class_paths_load_as_todays_classes(tmp_path, monkeypatch):
    assert set(MOVED) >= {("anarepo.security.tokens", "Token"), ("anarepo.staging", "Stage"),
                          ("anarepo.staging", "StagingArea"), ("anarepo.notices", "Notice"),
                          ("anarepo.notifications", "Notification"), ("anarepo.notifications", "Inbox")}
    settings = make_settings(tmp_path)
    harness = AppHarness(main({}, **settings))
    harness.make_user("alice")
    with monkeypatch.context() as patch:
        _at_old_paths(patch)
        token = harness.make_token("alice", name="old")
        with harness.root() as root:
            alice = root.owners["alice"]
            root.staging = StagingArea()  # the one made with the root was written at today's path
            alice.inbox = Inbox()
            raw_stage, _ = create_stage(root, owner="alice", package="pkg", version="1.0", basename="a.txt",
                                        type_name="file", uploader="alice", sha256="0" * 64, labels=["main"])
            notice = create_notice(alice, "maintenance tonight", level="warning", author="alice")
            update_notice(notice, status="published")
            notice_id = notice.id
            notify(alice, "welcome back", "/alice")
        written = _classes_named_in_pickles(harness.db)
    harness.close()
    assert set(MOVED) <= written, "the test must write pickles that name the old class paths"

    harness = AppHarness(main({}, **settings))
    try:
        with harness.root() as root:
            alice = root.owners["alice"]
            stage = get_stage(root, raw_stage)
            assert type(stage) is Stage and type(root.staging) is StagingArea
            assert (stage.owner, stage.package, stage.basename, stage.labels) == ("alice", "pkg", "a.txt", ("main",))
            loaded = alice.notices[notice_id]
            assert type(loaded) is Notice and (loaded.message, loaded.level) == ("maintenance tonight", "warning")
            inbox = inbox_of(alice)
            assert type(inbox) is Inbox
            [item] = inbox.newest()
            assert type(item) is Notification and (item.text, item.link) == ("welcome back", "/alice")
            assert {type(t) for t in root.tokens.values()} == {Token}
        testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        assert testapp.get("/api/user", headers={"Authorization": f"token {token}"}).json["login"] == "alice"
        listed = testapp.get("/api/alice/notices").json["items"]
        assert [(n["id"], n["message"]) for n in listed] == [(notice_id, "maintenance tonight")]
    finally:
        harness.close()
