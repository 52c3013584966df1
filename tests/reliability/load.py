"""Concurrent uploaders against a live server, and the check that follows them.

Shared by the reliability tests and ``bench/reliability.py``: each uploader
sends real requests (the anaconda-client stage → form POST → commit flow for
conda packages, the twine-style form for wheels), every answer is recorded,
and afterwards every acknowledged file is downloaded and its sha256 compared.
"""
from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from anarepo.package_types.pypi import builders
from tests.conda_builders import build_package


@dataclass
class Job:
    """One file to upload: ``kind`` is ``conda`` (API) or ``wheel`` (PyPI upload)."""

    kind: str
    package: str
    version: str
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Outcome:
    job: Job
    status: int  # the final answer's status (the commit for conda), 0 for a dropped connection
    retries: int = 0  # 503 answers that the uploader retried
    body: str = ""


@dataclass
class Tally:
    attempted: int = 0
    acknowledged: int = 0
    downloadable: int = 0
    server_errors: int = 0  # 5xx answers (retried ones included)
    retries: int = 0
    lost: list = field(default_factory=list)  # acknowledged but not downloadable as sent
    listed_missing: list = field(default_factory=list)  # listed but not downloadable


def conda_job(package: str, version: str, build: str = "0") -> Job:
    filename, data = build_package(package, version, build, subdir="noarch")
    return Job("conda", package, version, f"noarch/{filename}", data)


def wheel_job(package: str, version: str) -> Job:
    filename, data = builders.wheel(package, version)
    return Job("wheel", package, version, filename, data)


class Uploader:
    """One client with its own HTTP session, uploading as ``owner`` with ``token``."""

    def __init__(self, base: str, owner: str, token: str, retry_503: int = 0):
        self.base = base.rstrip("/")
        self.owner = owner
        self.token = token
        self.retry_503 = retry_503
        self.session = requests.Session()

    def upload(self, job: Job) -> Outcome:
        send = self._conda if job.kind == "conda" else self._wheel
        retries = 0
        while True:
            try:
                response = send(job)
            except requests.ConnectionError as exc:
                return Outcome(job, 0, retries, str(exc))
            if response.status_code == 503 and retries < self.retry_503:
                retries += 1
                continue
            return Outcome(job, response.status_code, retries, response.text[:500])

    def _conda(self, job: Job) -> requests.Response:
        auth = {"Authorization": f"token {self.token}"}
        path = f"{self.owner}/{job.package}/{job.version}/{job.filename}"
        staged = self.session.post(f"{self.base}/api/stage/{path}", headers=auth, json={
            "distribution_type": "conda", "sha256": job.sha256, "channels": ["main"]})
        if staged.status_code != 200:
            return staged
        form = staged.json()
        posted = self.session.post(form["post_url"], data=form["form_data"],
                                   files={"file": (job.filename.rsplit("/", 1)[-1], job.data)})
        if posted.status_code != 201:
            return posted
        return self.session.post(f"{self.base}/api/commit/{path}", headers=auth,
                                 json={"dist_id": form["dist_id"]})

    def _wheel(self, job: Job) -> requests.Response:
        fields = {
            ":action": "file_upload", "protocol_version": "1", "name": job.package, "version": job.version,
            "filetype": "bdist_wheel", "pyversion": "py3", "metadata_version": "2.1",
            "sha256_digest": job.sha256,
        }
        return self.session.post(f"{self.base}/pypi/{self.owner}/", data=fields, auth=("__token__", self.token),
                                 files={"content": (job.filename, job.data)})


def run(base: str, owner: str, token: str, work: list[list[Job]], retry_503: int = 0) -> list[Outcome]:
    """Each inner list is one uploader's sequence; all uploaders start together."""
    return run_on([base], owner, token, work, retry_503)


def run_on(bases: list[str], owner: str, token: str, work: list[list[Job]], retry_503: int = 0) -> list[Outcome]:
    """:func:`run` with the uploaders spread over several servers (round robin)."""
    start = threading.Barrier(len(work))

    def uploader(numbered):
        number, jobs = numbered
        client = Uploader(bases[number % len(bases)], owner, token, retry_503)
        start.wait()
        return [client.upload(job) for job in jobs]

    with ThreadPoolExecutor(len(work)) as pool:
        return [outcome for outcomes in pool.map(uploader, enumerate(work)) for outcome in outcomes]


def download_sha256(session: requests.Session, url: str, headers=None) -> tuple[int, str]:
    response = session.get(url, headers=headers)
    return response.status_code, hashlib.sha256(response.content).hexdigest()


def listed_files(session: requests.Session, base: str, owner: str, token: str, packages) -> dict[str, str]:
    """basename → sha256 of every file the API lists for ``packages``."""
    listed = {}
    for package in packages:
        response = session.get(f"{base}/api/package/{owner}/{package}", headers={"Authorization": f"token {token}"})
        if response.status_code == 404:
            continue
        response.raise_for_status()
        for item in response.json()["files"]:
            listed[(package, item["version"], item["basename"])] = item["sha256"]
    return listed


def verify(base: str, owner: str, token: str, outcomes: list[Outcome]) -> Tally:
    """Download every acknowledged and every listed file; count what fails."""
    base = base.rstrip("/")
    session = requests.Session()
    auth = {"Authorization": f"token {token}"}
    tally = Tally(attempted=len(outcomes))
    tally.server_errors = sum(1 for o in outcomes if o.status >= 500 or o.status == 0) + sum(
        o.retries for o in outcomes)
    tally.retries = sum(o.retries for o in outcomes)
    packages = sorted({o.job.package for o in outcomes})
    listed = listed_files(session, base, owner, token, packages)
    acknowledged = {}
    for outcome in outcomes:
        if outcome.status in (200, 201):
            job = outcome.job
            acknowledged[(job.package, job.version, job.filename)] = job.sha256
    tally.acknowledged = len(acknowledged)
    for key in sorted(set(acknowledged) | set(listed)):
        package, version, filename = key
        status, digest = download_sha256(session, f"{base}/api/download/{owner}/{package}/{version}/{filename}", auth)
        expected = acknowledged.get(key) or listed[key]
        ok = status == 200 and digest == expected and listed.get(key, expected) == expected
        if key in acknowledged:
            if ok:
                tally.downloadable += 1
            else:
                tally.lost.append((key, status))
        elif not ok:
            tally.listed_missing.append((key, status))
    return tally
