"""What a package page shows beyond its fields: install commands per label
(with the ``/t/<TOKEN>/`` form for packages that are not public), versions,
labels and a download chart (inline SVG geometry computed here, drawn by the
template, no script)."""
from __future__ import annotations

from datetime import timedelta

from ..clock import utcnow
from ..services.downloads import daily_downloads
from ..versions import version_key

CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = 600, 120


def package_labels(package) -> list[str]:
    labels = {label for dist in package.distributions() for label in dist.labels}
    return sorted(labels, key=lambda name: (name != "main", name))


def extra_hints(request, package, label: str) -> list[tuple[str, str]]:
    """Commands every package gets, whatever its types (the types give theirs,
    token variants included: ``PackageType.install_hints``)."""
    hints = []
    if package.access != "public":
        hints.append(("anaconda download with a token", f"anaconda -t <TOKEN> download {package.full_name}"))
    else:
        hints.append(("anaconda download", f"anaconda download {package.full_name}"))
    return hints


def install_sections(request, package) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(label, [(title, command), ...]), ...]: main first, no duplicates."""
    types = request.registry.package_types
    sections = []
    for label in package_labels(package) or ["main"]:
        hints = []
        for type_name in package.package_types:
            ptype = types.get(type_name)
            if ptype is not None:
                hints += ptype.install_hints(request, package, label)
        hints += extra_hints(request, package, label)
        seen, unique = set(), []
        for title, command in hints:
            if command not in seen:
                seen.add(command)
                unique.append((title, command))
        sections.append((label, unique))
    return sections


def sorted_releases(package) -> list:
    scheme = package.version_scheme
    return sorted(package.releases.values(), key=lambda r: version_key(r.version, scheme), reverse=True)


def total_downloads(package) -> int:
    """Every counted download of the package's files, all time, including files
    removed since: the same daily history the chart draws, summed over all days
    (a sum over the files present would drop the downloads of removed ones and
    disagree with the chart)."""
    return sum(daily_downloads(package).values())


def download_chart(package, days: int = CHART_DAYS) -> dict:
    """Bars for the last ``days`` days: [{day, count, x, y, w, h}], their total and the peak."""
    history = daily_downloads(package)
    today = utcnow().date()
    series = [(d.isoformat(), history.get(d.isoformat(), 0))
              for d in (today - timedelta(days=n) for n in range(days - 1, -1, -1))]
    peak = max((count for _, count in series), default=0)
    step = CHART_WIDTH / days
    bars = []
    for i, (day, count) in enumerate(series):
        height = 0 if not peak else max(1.0, (CHART_HEIGHT - 4) * count / peak) if count else 0
        bars.append({"day": day, "count": count, "x": round(i * step + 1, 1), "w": round(step - 2, 1),
                     "y": round(CHART_HEIGHT - height, 1), "h": round(height, 1)})
    return {"bars": bars, "total": sum(c for _, c in series), "peak": peak, "days": days,
            "width": CHART_WIDTH, "height": CHART_HEIGHT, "first": series[0][0], "last": series[-1][0]}
