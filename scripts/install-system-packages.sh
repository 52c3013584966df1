#!/usr/bin/env bash
# Install the Debian packages named in a list file (one per line, # comments),
# only those missing; `apt-get update` runs once, and only if something is missing.
set -euo pipefail
list="${1:?usage: install-system-packages.sh LIST}"
missing=()
while read -r pkg _; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < "$list"
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
