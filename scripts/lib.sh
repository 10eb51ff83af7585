# Shared set-up for scripts/test and scripts/demo: idempotent, installs only what is missing.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages, installed only when a command is missing. Needs root (as on these machines).
APT_UPDATED=""
ensure_apt() { # ensure_apt COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        say "$1 is missing and cannot be installed here (needs root and apt-get); install package $2"
        return 1
    fi
    if [ -z "$APT_UPDATED" ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    say "installing Debian package $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

# The project's virtualenv with the package (editable), the vault application's dependencies ([app]) and the
# test tools ([dev]). Reinstalls only when pyproject.toml changed since the last install, so a second run
# costs nothing.
ensure_venv() {
    local python="${PYTHON:-python3}"
    if [ ! -x "$PY" ]; then
        say "creating $VENV"
        "$python" -m venv "$VENV"
    fi
    local stamp="$VENV/.installed-pyproject"
    if ! cmp -s "$ROOT/pyproject.toml" "$stamp"; then
        say "installing the project, the vault application and the dev dependencies into .venv"
        "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[app,dev]"
        cp "$ROOT/pyproject.toml" "$stamp"
    fi
    # Bytecode for the package, as pip writes it when it installs the wheel: with PYTHONDONTWRITEBYTECODE
    # set, every `vault` process would otherwise compile the modules it imports at each start (~150 ms
    # for `vault serve`). Only what changed since the last run is compiled; a stale file is never used
    # (Python checks each against its source). A module that does not compile is named here, and again by
    # whatever imports it.
    "$PY" -m compileall -q "$ROOT/vault" >&2 || true
}

# Node packages the tests use: a JOSE library we did not write (tests/node), web-ext (tests/extension).
ensure_node_deps() {
    ensure_apt node nodejs || return 1
    ensure_apt npm npm || return 1
    local dir
    for dir in "$ROOT/tests/node" "$ROOT/tests/extension"; do
        [ -f "$dir/package-lock.json" ] || continue
        local stamp="$dir/node_modules/.installed-package-lock"
        if ! cmp -s "$dir/package-lock.json" "$stamp"; then
            say "installing Node test dependencies in ${dir#"$ROOT"/}"
            (cd "$dir" && npm ci --silent --no-audit --no-fund >/dev/null)
            cp "$dir/package-lock.json" "$stamp"
        fi
    done
}
