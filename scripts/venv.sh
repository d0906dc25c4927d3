# Sourced by ./run (`source scripts/venv.sh runtime`) and ./test (`source scripts/venv.sh dev`):
# makes .venv with the project, once per change of pyproject.toml. `runtime` installs what the
# bot needs to run and nothing else (no pytest, mypy, ruff, Playwright: what a server gets);
# `dev` adds the test and lint tools. Needs only Python 3.11+ on the machine.
set -euo pipefail
profile="${1:-dev}"
case "$profile" in
  runtime) spec="" ;;
  dev) spec="[dev]" ;;
  *) echo "scripts/venv.sh: unknown profile '$profile' (runtime or dev)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "Handledarbot needs Python 3.11 or newer (python3.11 or python3 on PATH)." >&2
  exit 1
fi
# A dev install holds everything a runtime install does.
fresh() { [ -f "$venv/.installed-$1" ] && [ ! "$root/pyproject.toml" -nt "$venv/.installed-$1" ]; }
if ! fresh "$profile" && ! { [ "$profile" = runtime ] && fresh dev; }; then
  echo "Setting up $venv ($profile; first run or pyproject.toml changed) ..." >&2
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -e "$root$spec" >&2
  touch "$venv/.installed-$profile"
fi
