"""Server CPU and memory per hostile upload, and anonymous latency during four bombs.

Starts a real waitress server (production settings: 8 threads, the default work
budget and inspection pool) in a subprocess on a temporary FileStorage, sends each
of the issue's bombs (tests/adversarial/bombs.py) through the API upload exactly
as anaconda-client does (stage, form POST, commit), and prints per bomb: the
answer, the server's CPU seconds (user+system of the whole process) and the growth
of its peak RSS.  Then it sends four bombs at once and measures an anonymous PyPI
simple-page request every 50 ms while they run.

Targets (issue 14): <= 2 s CPU and <= 64 MB RSS growth per hostile upload;
anonymous simple page <= 100 ms during four concurrent bombs.

    .venv/bin/python bench/bombs.py
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.adversarial import bombs  # noqa: E402

SERVER = r"""
import sys, json, socket
from anarepo import main
from anarepo.testing import make_settings, AppHarness
from anarepo.package_types.pypi import builders
from pathlib import Path
import waitress
app = main({}, **make_settings(Path(sys.argv[1])))
harness = AppHarness(app)
harness.make_user("bench")
harness.upload("bench", *builders.wheel("public-pkg", "1.0"))
token = harness.make_token("bench", "bench")
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
print(json.dumps({"token": token, "port": port}), flush=True)
waitress.serve(app, host="127.0.0.1", port=port, threads=8, max_request_body_size=1 << 36, _quiet=True)
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def upload(base, headers, filename, data, type_name) -> requests.Response:
    """stage → form POST → commit, as anaconda-client does."""
    name = filename.split("-")[0].split("_")[0].split(".")[0]
    version = "1" if type_name in ("project", "ipynb") else "1.0"
    basename = f"noarch/{filename}" if type_name == "conda" else filename
    stage = requests.post(f"{base}/stage/bench/{name}/{version}/{basename}", headers=headers, json={
        "distribution_type": type_name, "sha256": hashlib.sha256(data).hexdigest(), "channels": [], "attrs": {}})
    stage.raise_for_status()
    staged = stage.json()
    fields = dict(staged["form_data"])
    fields["Content-Length"] = str(len(data))
    fields["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
    post = requests.post(staged["post_url"], data=fields, files={"file": (filename, data)})
    assert post.status_code == 201, post.text
    return requests.post(f"{base}/commit/bench/{name}/{version}/{basename}", headers=headers,
                         json={"dist_id": staged["dist_id"]})


def main():
    tmp = Path(tempfile.mkdtemp(prefix="anarepo-bombs-"))
    built = {}
    for label, build in bombs.ISSUE_BOMBS.items():
        built[label] = build()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp / "db")], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        info = json.loads(proc.stdout.readline())
        url = f"http://127.0.0.1:{info['port']}"
        base, headers = url + "/api", {"Authorization": f"token {info['token']}"}
        simple = url + "/pypi/bench/simple/public-pkg/"
        for _ in range(100):
            try:
                requests.get(simple, timeout=1).raise_for_status()
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        print(f"{'bomb':48} {'bytes':>10} {'answer':>6} {'CPU s':>6} {'RSS +MB':>8}")
        for label, (filename, data, type_name) in built.items():
            samples, stop = [rss_kib(proc.pid)], threading.Event()

            def sample():
                while not stop.is_set():
                    samples.append(rss_kib(proc.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            cpu0 = cpu_seconds(proc.pid)
            sampler.start()
            answer = upload(base, headers, filename, data, type_name)
            stop.set()
            sampler.join()
            cpu = cpu_seconds(proc.pid) - cpu0
            growth = (max(samples) - samples[0]) / 1024
            print(f"{label:48} {len(data):>10,} {answer.status_code:>6} {cpu:>6.2f} {growth:>8.1f}")
        # four bombs at once, anonymous reads meanwhile
        four = [built[k] for k in list(built)[:4]]
        latencies, done = [], threading.Event()
        answers = []

        def bomb(item):
            answers.append(upload(base, headers, *item).status_code)

        threads = [threading.Thread(target=bomb, args=(item,)) for item in four]
        cpu0 = cpu_seconds(proc.pid)
        for thread in threads:
            thread.start()

        def watch():
            while not done.is_set():
                started = time.perf_counter()
                requests.get(simple, timeout=60).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        for thread in threads:
            thread.join()
        done.set()
        watcher.join()
        print(f"four concurrent bombs: answers {sorted(answers)}, server CPU {cpu_seconds(proc.pid) - cpu0:.2f} s")
        print(f"anonymous simple page during them: {len(latencies)} requests, median "
              f"{statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
