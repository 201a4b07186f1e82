#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/ui): Playwright launches it by path, so Playwright's own browser
# download (a host outside the package registries) is never used. `make install` runs this; it does nothing when
# `chromium` is already on PATH, and it refreshes the package lists only when an install fails for want of them.
set -euo pipefail

command -v chromium >/dev/null 2>&1 && exit 0

fail() {
    echo "install_browser.sh: $*" >&2
    echo "install_browser.sh: the browser tests (tests/ui) need Debian's chromium at /usr/bin/chromium:" \
        "run 'apt-get install --no-install-recommends chromium' as root, then 'make install' again" >&2
    exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "chromium is not on PATH and there is no apt-get to install it with"
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    fail "chromium is not on PATH, and installing it needs root (or sudo without a password)"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
install_chromium() {
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium >"$log" 2>&1
}

echo "Installing Debian's chromium for the browser tests (apt-get)"
if ! install_chromium; then
    # A fresh machine may have no package lists yet ("Unable to locate package chromium").
    "${as_root[@]}" apt-get update -q >"$log" 2>&1 || { cat "$log" >&2; fail "apt-get update failed"; }
    install_chromium || { cat "$log" >&2; fail "apt-get install chromium failed"; }
fi
command -v chromium >/dev/null 2>&1 || fail "apt-get installed chromium, yet it is not on PATH"
