"""What of an upstream may enter an owner's label: one filter object per source.

Kinds (every one optional; an empty filter lets everything through):

``names``      globs; a package must match one (conda names, PyPI normalized names)
``exclude``    globs; a package matching one is left out
``specs``      conda match specs (py-rattler) or PEP 508 requirements (packaging);
               a package named by a spec must satisfy one of the specs naming it
``subdirs``    conda subdirs; ``platforms``: globs on wheel platform tags
               (``any``, ``manylinux*_x86_64``; sdists are ``source``)
``builds``     globs on conda build strings
``licenses``   globs on the conda record's license (PyPI indexes carry none)
``latest``     keep only the N newest versions of each package
``after`` / ``before``   date cut-offs (``YYYY-MM-DD``) on the conda timestamp / PyPI upload-time
``yanked``     ``skip`` (default) or ``keep`` yanked PyPI files; conda ``removed`` files never enter

Version order is the ecosystem's own: py-rattler's for conda, ``packaging``'s for PyPI.
"""
from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone

from .model import SourceError

LIST_KINDS = ("names", "exclude", "specs", "subdirs", "platforms", "builds", "licenses")
MAX_ITEMS = 1000


def _strings(value, key) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        from ..names import InvalidName, split_names

        try:
            value = split_names(value, MAX_ITEMS) if key != "specs" else [
                v.strip() for v in value.split(";") if v.strip()]
        except InvalidName as exc:
            raise SourceError(f"filter {key!r}: {exc}") from None
    if not isinstance(value, (list, tuple)) or len(value) > MAX_ITEMS or not all(
            isinstance(v, str) and 0 < len(v) <= 200 for v in value):
        raise SourceError(f"filter {key!r} must be a list of short strings")
    return tuple(value)


def _date(value, key) -> str:
    if value in (None, ""):
        return ""
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise SourceError(f"filter {key!r} must be a date YYYY-MM-DD") from None


def _ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp() * 1000)


@dataclass(frozen=True)
class Filters:
    kind: str = "conda"
    names: tuple = ()
    exclude: tuple = ()
    specs: tuple = ()
    subdirs: tuple = ()
    platforms: tuple = ()
    builds: tuple = ()
    licenses: tuple = ()
    latest: int = 0
    after: str = ""
    before: str = ""
    yanked: str = "skip"
    _specs: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, data: dict, kind: str) -> "Filters":
        if not isinstance(data, dict):
            raise SourceError("filters must be an object")
        unknown = set(data) - set(LIST_KINDS) - {"latest", "after", "before", "yanked"}
        if unknown:
            raise SourceError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        values = {key: _strings(data.get(key), key) for key in LIST_KINDS}
        if kind == "pypi" and (values["subdirs"] or values["builds"] or values["licenses"]):
            raise SourceError("subdirs, builds and licenses filter conda channels; use platforms for PyPI")
        if kind == "conda" and values["platforms"]:
            raise SourceError("platforms filter PyPI wheels; use subdirs for conda")
        try:
            latest = int(data.get("latest") or 0)
        except (TypeError, ValueError):
            raise SourceError("filter 'latest' must be a number") from None
        if not 0 <= latest <= 100_000:
            raise SourceError("filter 'latest' must be between 0 and 100000")
        yanked = data.get("yanked") or "skip"
        if yanked not in ("skip", "keep"):
            raise SourceError("filter 'yanked' must be skip or keep")
        filters = cls(kind, latest=latest, after=_date(data.get("after"), "after"),
                      before=_date(data.get("before"), "before"), yanked=yanked, **values)
        filters._specs.update(filters._compile_specs())
        return filters

    def _compile_specs(self) -> dict:
        """name -> [checker(version, build) -> bool]."""
        out: dict[str, list] = {}
        for text in self.specs:
            if self.kind == "conda":
                import rattler

                try:
                    spec = rattler.MatchSpec(text)
                except Exception as exc:  # rattler raises its own exception types
                    raise SourceError(f"invalid match spec {text!r}: {exc}") from None
                name = spec.name.normalized
                version = rattler.VersionSpec(spec.version) if spec.version else None
                build = spec.build

                def check(v, b, version=version, build=build):
                    if version is not None and not version.matches(rattler.Version(v)):
                        return False
                    return build is None or fnmatch.fnmatchcase(b, build)
            else:
                from packaging.requirements import InvalidRequirement, Requirement
                from packaging.utils import canonicalize_name

                try:
                    req = Requirement(text)
                except InvalidRequirement as exc:
                    raise SourceError(f"invalid requirement {text!r}: {exc}") from None
                name = canonicalize_name(req.name)

                def check(v, b, specifier=req.specifier):
                    return specifier.contains(v, prereleases=True)
            out.setdefault(name, []).append(check)
        return out

    def as_dict(self) -> dict:
        """The stored, shown form: only what is set."""
        data = {k: v for k, v in asdict(self).items() if k not in ("kind", "_specs")}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()
                if v not in ((), 0, "") and not (k == "yanked" and v == "skip")}

    # -- per file ---------------------------------------------------------------------
    def name_ok(self, name: str) -> bool:
        if self.names and not any(fnmatch.fnmatchcase(name, g) for g in self.names):
            return False
        return not any(fnmatch.fnmatchcase(name, g) for g in self.exclude)

    def conda_ok(self, subdir: str, record: dict) -> bool:
        name = record["name"]
        if not self.name_ok(name):
            return False
        if self.subdirs and subdir not in self.subdirs:
            return False
        build = record.get("build", "")
        if self.builds and not any(fnmatch.fnmatchcase(build, g) for g in self.builds):
            return False
        license, timestamp = record.get("license"), record.get("timestamp")  # the upstream's: any JSON
        if self.licenses and not any(fnmatch.fnmatchcase(license if isinstance(license, str) else "", g)
                                     for g in self.licenses):
            return False
        if not self._version_ok(name, record["version"], build):
            return False
        return self._time_ok(timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else 0)

    def pypi_ok(self, project: str, version: str, filename: str, upload_ms: int, yanked: bool) -> bool:
        if not self.name_ok(project):
            return False
        if yanked and self.yanked == "skip":
            return False
        if self.platforms:
            tags = wheel_platforms(filename)
            if not any(fnmatch.fnmatchcase(t, g) for t in tags for g in self.platforms):
                return False
        if not self._version_ok(project, version, ""):
            return False
        return self._time_ok(upload_ms)

    def _version_ok(self, name: str, version: str, build: str) -> bool:
        checks = self._specs.get(name)
        if not checks:
            return True
        try:
            return any(check(version, build) for check in checks)
        except Exception:  # a version the ecosystem's parser refuses: not admitted
            return False

    def _time_ok(self, ms: int) -> bool:
        if self.after and (not ms or ms < _ms(self.after)):
            return False
        return not (self.before and ms and ms >= _ms(self.before))

    def keep_latest(self, versions, key) -> set:
        """The versions kept by ``latest`` (all when unset), ordered by ``key``."""
        versions = set(versions)
        if not self.latest:
            return versions
        return set(sorted(versions, key=key, reverse=True)[: self.latest])


class AllOf:
    """Several filters at once (a source's and its label's): admitted only by all."""

    def __init__(self, first: Filters, *others: Filters):
        self.parts = (first, *others)
        self.names = first.names  # the source's names say which PyPI projects to read

    def name_ok(self, name: str) -> bool:
        return all(f.name_ok(name) for f in self.parts)

    def conda_ok(self, subdir: str, record: dict) -> bool:
        return all(f.conda_ok(subdir, record) for f in self.parts)

    def pypi_ok(self, *args) -> bool:
        return all(f.pypi_ok(*args) for f in self.parts)

    def keep_latest(self, versions, key) -> set:
        kept = set(versions)
        for f in self.parts:
            kept &= f.keep_latest(versions, key)
        return kept


def wheel_platforms(filename: str) -> tuple[str, ...]:
    """Platform tags of a wheel; ``source`` for anything else (sdists)."""
    if not filename.endswith(".whl"):
        return ("source",)
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return ()
    return tuple(sorted({t.platform for t in tags}))


def conda_version_key(version: str):
    import rattler

    try:
        return (1, rattler.Version(version))
    except Exception:
        return (0, version)


def pypi_version_key(version: str):
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def parse_filters(pairs) -> dict:
    """``KEY=VALUE`` lines (CLI ``--filter``, the web form) as a filters object."""
    out: dict = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:
            raise SourceError(f"a filter is KEY=VALUE, not {pair!r}")
        out[key.strip()] = value
    return out
