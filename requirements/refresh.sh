#!/usr/bin/env bash
# Refresh the locks from pyproject.toml's extras, newest releases within its ranges and
# within requirements/pins.in:
#
#     bash requirements/refresh.sh
#
# llama.txt locks what the README's first command installs (the llama extra), test.txt
# what its second installs (the test extra, which includes every other extra but gpu).
# Both carry sha256 hashes, so pip installs them in hash-checking mode. pyproject.toml
# keeps the library's real compatibility ranges; the locks are for the app and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python -m venv "$tools"
"$tools/bin/pip" install --quiet 'pip-tools>=7.4'
for extra in llama test; do
    "$tools/bin/pip-compile" --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
        --no-emit-index-url --no-emit-find-links --extra "$extra" \
        --constraint requirements/pins.in --output-file "requirements/$extra.txt" pyproject.toml
    # The test extra names foreplan's own extras (foreplan[llama,...]); the project
    # itself is installed editable by the README's command, not from the lock.
    python - "requirements/$extra.txt" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r"# WARNING: pip install will require the following package to be hashed\.\n"
              r"# Consider using a hashable URL like .*\n", "", text)
text = re.sub(r"foreplan @ file://\S+\n(    # via.*\n|    #   .*\n)*", "", text)
open(path, "w").write(text)
PY
done
