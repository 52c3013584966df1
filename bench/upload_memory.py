"""Peak server memory while a 1 GB file goes through stage → form POST → commit.

Starts a real waitress server in a subprocess on a temporary FileStorage,
uploads a sparse file of ``--size`` bytes exactly as anaconda-client does
(streamed multipart with Content-Length and Content-MD5), samples the server's
RSS from /proc every 20 ms, and prints baseline, peak and the difference.

    .venv/bin/python bench/upload_memory.py [--size 1073741824]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from requests_toolbelt.multipart.encoder import MultipartEncoder

SERVER = r"""
import sys, json
from anarepo import main
from anarepo.testing import make_settings, AppHarness
from pathlib import Path
import waitress
app = main({}, **make_settings(Path(sys.argv[1])))
harness = AppHarness(app)
harness.make_user("bench")
token = harness.make_token("bench", "bench")
sock = __import__("socket").socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
print(json.dumps({"token": token, "port": port}), flush=True)
waitress.serve(app, host="127.0.0.1", port=port, threads=4, max_request_body_size=1 << 36, _quiet=True)
"""


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def hashes(path: Path):
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as fd:
        while chunk := fd.read(1 << 20):
            md5.update(chunk)
            sha.update(chunk)
    return md5, sha


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1 << 30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="anarepo-bench-"))
    big = tmp / "big.bin"
    with open(big, "wb") as fd:  # sparse: costs no disk until written by the server
        fd.truncate(args.size)
    md5, sha = hashes(big)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp / "db")], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        base = f"http://127.0.0.1:{info['port']}/api"
        headers = {"Authorization": f"token {info['token']}"}
        for _ in range(100):
            try:
                requests.head(base, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        requests.get(base + "/user", headers=headers).raise_for_status()  # warm up
        baseline = rss_kib(proc.pid)
        samples, stop = [baseline], threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(rss_kib(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        stage = requests.post(f"{base}/stage/bench/big/1.0/big.bin", headers=headers, json={
            "distribution_type": "file", "sha256": sha.hexdigest(), "channels": [], "attrs": {}}).json()
        with open(big, "rb") as fd:
            fields = dict(stage["form_data"])
            fields["Content-Length"] = str(args.size)
            fields["Content-MD5"] = base64.b64encode(md5.digest()).decode()
            fields["file"] = ("big.bin", fd)
            encoder = MultipartEncoder(fields)
            post = requests.post(stage["post_url"], data=encoder, headers={"Content-Type": encoder.content_type})
        assert post.status_code == 201, post.text
        commit = requests.post(f"{base}/commit/bench/big/1.0/big.bin", headers=headers,
                               json={"dist_id": stage["dist_id"]})
        commit.raise_for_status()
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        assert commit.json()["size"] == args.size
        peak = max(samples)
        print(f"file size          : {args.size / 2**20:,.0f} MiB")
        print(f"upload time        : {elapsed:.1f} s ({args.size / 2**20 / elapsed:,.0f} MiB/s, stage+POST+commit)")
        print(f"server RSS baseline: {baseline / 1024:,.1f} MiB")
        print(f"server RSS peak    : {peak / 1024:,.1f} MiB  (VmHWM {rss_kib(proc.pid, 'VmHWM') / 1024:,.1f} MiB)")
        print(f"growth during upload: {(peak - baseline) / 1024:,.1f} MiB over {len(samples)} samples")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    os.environ.setdefault("OTEL_SDK_DISABLED", "true")
    main()
