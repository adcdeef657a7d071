#!/usr/bin/env bash
# Install what fleetops needs on the controller: Debian packages for the lab fleet, and a
# virtualenv with fleetops and its test tools. Idempotent; safe to run on every `make`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PACKAGES=(systemd-container debootstrap iptables iproute2 zstd openssh-client procps)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: need root to apt-get install: ${missing[*]}" >&2
    exit 3
  fi
  echo "install-deps: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.fleetops-installed"
if [[ ! -e "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import fleetops.cli, fleetops.roles, fleetops.checks, fleetops.runner.deploy"
  touch "$stamp"
fi
