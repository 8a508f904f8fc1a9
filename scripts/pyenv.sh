#!/bin/sh
# scripts/pyenv.sh BUILD: makes BUILD/venv, a venv over Debian's /usr/bin/python3
# that sees its system packages (numpy, msgpack, zmq, torch), and installs the
# PyPI packages of python/requirements-test.txt into it. Prints the venv's python.
# Re-runs pip only when the requirements file changed.
set -eu
BUILD="$1"
VENV="$BUILD/venv"
REQ=python/requirements-test.txt
if [ ! -x "$VENV/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$VENV" >&2
fi
if [ ! -f "$VENV/.req" ] || ! cmp -s "$REQ" "$VENV/.req"; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
    cp "$REQ" "$VENV/.req"
fi
echo "$VENV/bin/python"
