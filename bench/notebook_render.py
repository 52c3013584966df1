"""What the notebook render sandbox adds to a normal render, and what it saves on a hostile one.

Before (the code until issue 14's kill switch): nbconvert in the upload's process,
a new HTMLExporter per render, no bound.  After: ``render_bounded`` — the render
server forks a warm child per render with RLIMIT_CPU, RLIMIT_AS and a deadline
(anarepo/package_types/ipynb/sandbox.py).  Prints, side by side, the median
wall time of ``--runs`` renders per notebook (2, 50 and 150 cells) and the CPU
seconds the calling process spent per render; then the hostile Markdown table
(tests/adversarial/bombs.py) once each way at ``--rows`` rows (2,600 is the
~1 MiB notebook within the render limits).  The render server is started (and
its first render, which waits for it, timed) before the runs.

    .venv/bin/python bench/notebook_render.py [--runs 15] [--rows 800] [--cpu 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anarepo.package_types.ipynb import render  # noqa: E402
from tests.adversarial import bombs  # noqa: E402
from tests.builders import notebook  # noqa: E402


def cells(count: int) -> bytes:
    out = []
    for i in range(count):
        if i % 2:
            out.append({"cell_type": "markdown", "metadata": {},
                        "source": f"## Step {i}\nSome *words* about [the data](https://example.org/{i})."})
        else:
            out.append({"cell_type": "code", "execution_count": i, "metadata": {},
                        "source": f"import math\nvalues = [math.sqrt(x) for x in range({i})]\nprint(len(values))",
                        "outputs": [{"output_type": "stream", "name": "stdout", "text": f"{i}\n"}]})
    return notebook(out)


def before(source: bytes) -> bytes:
    """The former path: in this process, a fresh exporter each time (as render_html did)."""
    render._exporter = None
    return render.render_html(source)


def warm(source: bytes) -> bytes:
    """In this process with one exporter kept (the render server's child does the same):
    after − warm is what the process boundary itself costs."""
    return render.render_html(source)


def timed(func, source: bytes, runs: int) -> tuple[float, float, bytes]:
    walls, cpus, out = [], [], b""
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        out = func(source)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rows", type=int, default=800)
    parser.add_argument("--cpu", type=int, default=5)
    args = parser.parse_args()
    limits = {"cpu_seconds": args.cpu, "seconds": 60.0, "memory": 2048 << 20}

    def after(source: bytes) -> bytes:
        return render.render_bounded(source, limits)

    started = time.perf_counter()
    after(cells(2))
    print(f"render server start + first render: {time.perf_counter() - started:.2f} s (once per server process)")
    before(cells(2))  # imports nbconvert here too

    print(f"\n{'notebook':<12}{'before':>10}{'after':>10}{'added':>10}{'warm here':>11}{'process':>10}"
          f"{'before CPU':>12}{'after CPU':>11}   (wall: median of {args.runs})")
    for count in (2, 50, 150):
        source = cells(count)
        b_wall, b_cpu, b_html = timed(before, source, args.runs)
        a_wall, a_cpu, a_html = timed(after, source, args.runs)
        w_wall, _, _ = timed(warm, source, args.runs)
        assert a_html == b_html, "the sandbox must render the same HTML"
        print(f"{count:>4} cells  {b_wall * 1000:>7.0f} ms{a_wall * 1000:>7.0f} ms{(a_wall - b_wall) * 1000:>+7.0f} ms"
              f"{w_wall * 1000:>8.0f} ms{(a_wall - w_wall) * 1000:>+7.0f} ms{b_cpu * 1000:>9.0f} ms{a_cpu * 1000:>8.0f} ms")
    print("(added: after − before; process: after − the same render in this process with a warm exporter,\n"
          " i.e. the fork and the socket; after CPU: this process only, the child's is bounded by RLIMIT_CPU)")

    _, hostile, _ = bombs.notebook_markdown_table(rows=args.rows)
    print(f"\nhostile Markdown table, {args.rows} rows ({len(hostile) / 1e6:.2f} MB):")
    wall, cpu = time.perf_counter(), time.process_time()
    html = after(hostile)
    print(f"  after:  {time.perf_counter() - wall:6.1f} s wall, {time.process_time() - cpu:5.2f} s CPU here,"
          f" stored as {json.dumps(html.decode()[:40])}... (child killed at {args.cpu} s of CPU)")
    wall, cpu = time.perf_counter(), time.process_time()
    before(hostile)
    print(f"  before: {time.perf_counter() - wall:6.1f} s wall, {time.process_time() - cpu:5.2f} s CPU on the server's thread")


if __name__ == "__main__":
    main()
