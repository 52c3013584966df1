"""anaconda-client's configuration and token files, read the way it reads them."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote_plus

import yaml

DEFAULT_URL = "https://api.anaconda.org"


def _config_dirs() -> list[Path]:
    binstar = os.environ.get("BINSTAR_CONFIG_DIR")
    home = Path.home()
    dirs = [Path("/etc/anaconda-client")]
    if binstar:
        dirs.append(Path(binstar) / "data")
    else:
        dirs.append(home / ".config" / "binstar")
    dirs.append(home / ".continuum" / "anaconda-client")
    if os.environ.get("CONDA_PREFIX"):
        dirs.append(Path(os.environ["CONDA_PREFIX"]) / "etc" / "anaconda-client")
    return dirs


def load_config() -> dict:
    """Merge every *.yml/*.yaml of the known directories, later ones winning."""
    merged: dict = {}
    for folder in _config_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.y*ml")):
            try:
                data = yaml.safe_load(path.read_text()) or {}
            except (OSError, yaml.YAMLError):
                continue
            if isinstance(data, dict):
                merged.update(data)
    return merged


def api_url(explicit: str | None = None, site: str | None = None) -> str:
    if explicit:
        return explicit.rstrip("/")
    config = load_config()
    site = site or config.get("default_site")
    url = config.get("url") or DEFAULT_URL
    sites = config.get("sites") or {}
    if site and isinstance(sites.get(site), dict) and sites[site].get("url"):
        url = sites[site]["url"]
    if "://" not in url:
        url = "https://" + url
    return url.rstrip("/")


def token_dirs() -> list[Path]:
    binstar = os.environ.get("BINSTAR_CONFIG_DIR")
    if binstar:
        return [Path(binstar) / "data", Path(binstar) / "data" / "tokens"]
    home = Path.home()
    return [home / ".config" / "binstar", home / ".continuum" / "anaconda-client" / "tokens"]


def load_token(url: str, explicit: str | None = None) -> str | None:
    """``-t`` (a token or a file holding one), then the environment, then the token file."""
    if explicit:
        candidate = Path(explicit)
        if candidate.is_file():
            return candidate.read_text()[:8192].strip()
        return explicit.strip()
    for var in ("BINSTAR_API_TOKEN", "ANACONDA_API_TOKEN"):
        if os.environ.get(var):
            return os.environ[var].strip()
    name = quote_plus(url) + ".token"
    for folder in token_dirs():
        path = folder / name
        if path.is_file():
            return path.read_text().strip() or None
    return None
