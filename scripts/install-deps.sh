#!/usr/bin/env bash
# Install what fleetops needs on the controller: Debian packages for the lab fleet, and a
# virtualenv with fleetops and its test tools. Idempotent; safe to run on every `make`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
# chromium renders the HTML reports in tests (headless screenshots); espeak-ng speaks the
# speech model's golden inputs (fleetops model convert --model vad).
PACKAGES=(systemd-container debootstrap iptables iproute2 zstd openssh-client procps chromium fonts-dejavu-core
  espeak-ng)

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

# promtool (validates the Prometheus textfile output in tests) comes from Debian's prometheus
# package; only the binary is unpacked into the venv, so no Prometheus server gets installed.
if [[ ! -x "$VENV/bin/promtool" ]]; then
  workdir=$(mktemp -d)
  trap 'rm -rf "$workdir"' EXIT
  (cd "$workdir" && apt-get download prometheus >/dev/null 2>&1) || {
    apt-get update -qq && (cd "$workdir" && apt-get download prometheus >/dev/null)
  }
  dpkg-deb --fsys-tarfile "$workdir"/prometheus_*.deb | tar -x -C "$workdir" ./usr/bin/promtool
  install -m 0755 "$workdir/usr/bin/promtool" "$VENV/bin/promtool"
fi
