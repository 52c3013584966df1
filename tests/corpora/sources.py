"""Real-world corpora: what to fetch with the ordinary clients, and where it is cached.

PyPI files are fetched with ``pip download --no-deps`` in groups (one pip run per
group of options), chosen for variety: long descriptions (pydantic 93 KB, black
141 KB), many versions of one project, odd names (dots, capitals, underscores),
abi3 and manylinux/musllinux/macOS/Windows tags, ``.zip`` sdists, old and new
metadata versions.  Notebooks are taken from sdists that ship them (nbformat's,
nbconvert's and nbclient's test and documentation notebooks).  Everything lands
in ``ANAREPO_CORPORA_CACHE`` (default ``~/.cache/anarepo-corpora``) and is fetched
once: a group is complete when its stamp file names the same request, so offline
runs use the cache and a changed list fetches only the changed group.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

BIN = Path(sys.executable).parent
CACHE = Path(os.environ.get("ANAREPO_CORPORA_CACHE", Path.home() / ".cache" / "anarepo-corpora"))

#: Wheels for this interpreter (CPython 3.11, linux x86_64) and pure-Python ones.
NATIVE_WHEELS = [
    "pydantic==2.9.2", "pydantic-core==2.23.4", "black==24.10.0",
    "requests==2.25.1", "requests==2.28.2", "requests==2.31.0", "requests==2.32.3",
    "six==1.12.0", "six==1.15.0", "six==1.16.0", "six==1.17.0",
    "packaging==21.3", "packaging==23.2", "packaging==24.1",
    "attrs==23.2.0", "attrs==24.2.0",
    "zope.interface==7.1.1", "ruamel.yaml==0.18.6", "python-dateutil==2.9.0.post0",
    "typing_extensions==4.12.2", "jaraco.classes==3.4.0", "PyYAML==6.0.2",
    "cryptography==43.0.1", "bcrypt==4.2.0", "PyNaCl==1.5.0", "MarkupSafe==2.1.5",
    "msgpack==1.1.0", "charset-normalizer==3.4.0", "idna==3.10", "certifi==2024.8.30",
    "urllib3==2.2.3", "docutils==0.21.2", "Markdown==3.7", "Jinja2==3.1.4", "click==8.1.7",
    "Flask==3.0.3", "Flask-SQLAlchemy==3.1.1", "backports.tarfile==1.2.0", "zipp==3.20.2",
    "importlib_metadata==8.5.0", "tomli==2.0.2", "pytz==2024.2", "wrapt==1.16.0", "pluggy==1.5.0",
    "iniconfig==2.0.0", "more-itertools==10.5.0", "wheel==0.44.0", "Pygments==2.18.0",
    "packaging==20.9", "attrs==22.2.0", "idna==3.7", "click==8.1.6", "Markdown==3.6", "tomli==2.0.1",
    "pluggy==1.4.0", "urllib3==1.26.20",
]

#: Wheels for other platforms: (pip platform options, requirements).
FOREIGN_WHEELS = [
    (("--platform", platform, *(("--platform", "musllinux_1_2_x86_64") if "musl" in platform else ()),
      "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312"),
     ["MarkupSafe==2.1.5", "wrapt==1.16.0", "msgpack==1.1.0"])
    for platform in ("win_amd64", "macosx_11_0_arm64", "musllinux_1_1_x86_64", "manylinux2014_aarch64")
]

#: Source distributions, ``.zip`` ones included (pyreadline, comtypes, WMI).
SDISTS = [
    "six==1.16.0", "PyYAML==6.0.2", "pyreadline==2.1", "comtypes==1.1.14", "WMI==1.4.9",
    "requests==2.32.3", "python-dateutil==2.9.0.post0", "MarkupSafe==2.1.5", "idna==3.10",
    "iniconfig==2.0.0", "pydantic==2.9.2", "black==24.10.0", "typing_extensions==4.12.2",
    "nbformat==5.10.4", "nbconvert==7.16.4", "nbclient==0.10.0",
]

#: sdists whose ``.ipynb`` files make the notebook corpus.
NOTEBOOK_SDISTS = ("nbformat-5.10.4.tar.gz", "nbconvert-7.16.4.tar.gz", "nbclient-0.10.0.tar.gz")

GROUPS = {
    "native-wheels": (("--only-binary", ":all:"), NATIVE_WHEELS),
    **{f"wheels-{opts[1]}": (("--only-binary", ":all:", *opts), reqs) for opts, reqs in FOREIGN_WHEELS},
    # --no-binary per project, not :all: (which would build setuptools and Cython from source)
    "sdists": (("--no-binary", ",".join(r.split("==")[0] for r in SDISTS)), SDISTS),
}


class CorpusUnavailable(Exception):
    """Not cached and could not be fetched (offline)."""


def _stamp(options, requirements) -> str:
    return hashlib.sha256(json.dumps([list(options), sorted(requirements)]).encode()).hexdigest()


def _rounds(requirements) -> list[list[str]]:
    """Requirements split so that no project appears twice in one list."""
    rounds: list[list[str]] = []
    for requirement in requirements:
        project = requirement.split("==", 1)[0].lower()
        for batch in rounds:
            if all(r.split("==", 1)[0].lower() != project for r in batch):
                batch.append(requirement)
                break
        else:
            rounds.append([requirement])
    return rounds


def fetch_group(name: str) -> list[Path]:
    """The files of one group, downloaded with pip once and then read from the cache."""
    options, requirements = GROUPS[name]
    directory = CACHE / "pypi" / name
    stamp = directory / ".complete"
    wanted = _stamp(options, requirements)
    directory.mkdir(parents=True, exist_ok=True)
    # test workers (pytest -n) may ask for the same group at once: one downloads, the others wait
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == wanted):
            _download(directory, options, requirements, name)
            stamp.write_text(wanted)
    return sorted(p for p in directory.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip")))


def _download(directory: Path, options: list[str], requirements: list[str], name: str) -> None:
    for batch in _rounds(requirements):  # pip takes one version of a project per run
        result = subprocess.run(
            [BIN / "pip", "download", "--no-deps", "--disable-pip-version-check", "--progress-bar", "off",
             "-d", directory, *options, *batch],
            capture_output=True, text=True, timeout=1800,
        )
        if result.returncode != 0:
            raise CorpusUnavailable(
                f"pip download of {name} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")


def pypi_files() -> list[Path]:
    files = []
    for name in GROUPS:
        files += fetch_group(name)
    return files


def notebooks(sdists: list[Path]) -> list[tuple[str, bytes]]:
    """(unique name, bytes) of every ``.ipynb`` in the notebook sdists."""
    out = []
    for path in sdists:
        if path.name not in NOTEBOOK_SDISTS:
            continue
        project = path.name.split("-", 1)[0]
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".ipynb"):
                    stem = member.name.split("/", 1)[1].replace("/", "-")
                    out.append((f"{project}-{stem}", tar.extractfile(member).read()))
    return sorted(out)
