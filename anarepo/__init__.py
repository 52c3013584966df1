"""anarepo: a self-hosted package repository (conda channels, PyPI indexes and more).

``main`` builds the WSGI application: Pyramid over a ZODB object tree, with
pyramid_tm (explicit manager, commit veto) and pyramid_retry, traversal for the
tree, plugins for package types, and the ``/t/<token>/`` middleware outside.
"""
from __future__ import annotations

import warnings

# pyramid.asset still imports pkg_resources; the warning is about pyramid, not us
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from pyramid.config import Configurator  # noqa: E402
from pyramid.settings import aslist  # noqa: E402

from .db import close_at_exit, ensure_root, get_db, include_zodb, prepare_file_storage_dirs
from .services.downloads import flush_on_sigterm
from .http.lastresort import LastResort
from .http.middleware import PublicURLMiddleware, TokenPrefixMiddleware, install_log_redaction, public_url_parts
from . import startup
from .deploy import published
from .deploy.xaccel import document_files
from .deploy.bodybuffer import install as install_body_buffer
from .deploy.zeoclient import forget_prefetched_oids_on_reconnect
from .http.replay import ReplayMiddleware
from .settings import with_defaults


def make_config(settings: dict) -> Configurator:
    install_log_redaction()  # no token or upload id ever reaches a log line
    settings = with_defaults(settings)
    config = Configurator(settings=settings, root_factory="anarepo.db.root_factory")
    config.include("pyramid_retry")
    config.include(".http.retry")
    config.include("pyramid_tm")
    prepare_file_storage_dirs(settings.get("zodbconn.uri", ""))
    config.include(include_zodb)
    db = get_db(config.registry)
    close_at_exit(db)
    forget_prefetched_oids_on_reconnect(db)
    published.install(db, settings)  # every commit that may change them ends the documents nginx sends alone
    startup.begin(config.registry, db)  # one process at a time from here to finish_startup
    secret, fresh = ensure_root(db)
    published.ensure_documents_counter(db)
    if not config.registry.settings.get("anarepo.secret"):
        config.registry.settings["anarepo.secret"] = secret
    config.registry.anarepo_fresh_db = fresh
    config.include("pyramid_jinja2")
    config.include(".db")
    config.include(".evolve")
    # "latest version" moved from PEP 440 to conda's VersionOrder (docs/conda.md)
    config.add_evolve_step("anarepo.versions.refresh_latest_versions", "core.version-order-1")
    # packages record their versions' order, which conflict resolution reads (PackageType.version_scheme)
    config.add_evolve_step("anarepo.versions.store_version_schemes", "core.version-scheme-1")
    # plugin state gets one home on owners (Owner.indexes); before any plugin's steps
    config.add_evolve_step("anarepo.resources.owners.give_owners_plugin_state", "core.plugin-state-1")
    # and on files (Distribution.extras)
    config.add_evolve_step("anarepo.resources.packages.give_distributions_extras", "core.distribution-extras-1")
    # staging area, notices, inboxes and download histories made by constructors, not on first use
    config.add_evolve_step("anarepo.resources.owners.give_declared_fields", "core.declared-fields-1")
    config.include(".security")
    config.include(".inspection")
    config.include(".http.caching")  # the rendered documents of every face
    config.include(".plugins")  # directives first, then every plugin's includeme
    config.include(".views")
    config.include(".sources")
    config.include(".deploy.xaccel")
    config.include(".deploy.outages")
    for dotted in aslist(settings.get("anarepo.includes", "")):
        config.include(dotted)
    return config


def finish_startup(registry) -> None:
    from .evolve import evolve, mark_all_finished
    from .services.housekeeping import clean_startup

    registry.anarepo_startup_cleanup = clean_startup(get_db(registry))

    def work():
        if registry.anarepo_fresh_db:
            mark_all_finished(registry)
        elif registry.settings["anarepo.autoevolve"]:
            evolve(registry)

    startup.finish(registry, work)


def main(global_config=None, **settings):
    """The paste ``app_factory``: ``pserve development.ini``."""
    config = make_config(settings)
    app = config.make_wsgi_app()
    finish_startup(app.registry)
    flush_on_sigterm()
    # waitress answers 507 when it cannot buffer a body (JSON on the JSON faces)
    install_body_buffer(app.registry.anarepo_faces.json_mounts())
    settings = app.registry.settings
    replay = ReplayMiddleware(app, get_db(app.registry), max_bytes=int(settings["anarepo.replay.max_bytes"]),
                              max_age=float(settings["anarepo.replay.max_age"]), documents=document_files(settings),
                              gzip_min=int(settings.get("anarepo.publish.gzip_min_size", 1024)))
    app = LastResort(replay, json_mounts=app.registry.anarepo_faces.json_mounts())
    if settings.get("anarepo.public_url"):
        app = PublicURLMiddleware(app, settings["anarepo.public_url"])
    faces = app.registry.anarepo_faces
    prefix = public_url_parts(settings["anarepo.public_url"]).path if settings.get("anarepo.public_url") else ""
    return TokenPrefixMiddleware(app, subdomains=settings["anarepo.subdomains"], mounts=faces.token_mounts(),
                                 subdomain_mounts=faces.subdomain_mounts(), prefix=prefix)
