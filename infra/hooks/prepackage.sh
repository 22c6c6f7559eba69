#!/bin/sh
# azd prepackage hook: bytecode for the deploy package (see compile_bytecode.py for why).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
python=python3
[ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"
exec "$python" "$root/infra/hooks/compile_bytecode.py" "$root"
