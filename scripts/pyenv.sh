#!/bin/sh
# scripts/pyenv.sh BUILD [bench]: makes BUILD/venv, a venv over Debian's /usr/bin/python3
# that sees its system packages (numpy, msgpack, zmq, torch), installs the PyPI
# packages of python/requirements-test.txt into it, then the lucid package (python/)
# built against BUILD/liblucid.a. Prints the python to run the tests with. With
# `bench`: BUILD/venv-bench, with python/requirements-bench.txt too (EnvPool; if pip
# cannot install it, bench/bench_python.py says so and runs without it).
# Re-runs pip only when the requirements file, python/ or the library changed. With
# an ASan build of the library the printed python is a wrapper that preloads the
# sanitizer runtimes (leak checks off: CPython's own allocations are not leaks).
set -eu
BUILD="$1"
VENV="$BUILD/venv"
[ "${2:-}" = bench ] && VENV="$BUILD/venv-bench"
REQ=python/requirements-test.txt
if [ ! -x "$VENV/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$VENV" >&2
fi
if [ ! -f "$VENV/.req" ] || ! cmp -s "$REQ" "$VENV/.req"; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
    cp "$REQ" "$VENV/.req"
fi
BREQ=python/requirements-bench.txt
if [ "${2:-}" = bench ] && { [ ! -f "$VENV/.breq" ] || ! cmp -s "$BREQ" "$VENV/.breq"; }; then
    if "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$BREQ" >&2; then
        cp "$BREQ" "$VENV/.breq"
    else
        echo "pyenv: could not install $BREQ; the benchmark runs without it" >&2
    fi
fi
PY="$VENV/bin/python"
ASAN=0
if [ -f "$BUILD/liblucid.a" ] && nm "$BUILD/liblucid.a" 2>/dev/null | grep -q ' U __asan_'; then ASAN=1; fi
if [ "$ASAN" = 1 ]; then
    PY="$VENV/bin/python-asan"
    cat > "$PY" <<WRAP
#!/bin/sh
LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" \\
ASAN_OPTIONS="detect_leaks=0\${ASAN_OPTIONS:+:\$ASAN_OPTIONS}" exec "$(cd "$VENV" && pwd)/bin/python" "\$@"
WRAP
    chmod +x "$PY"
fi
STAMP="$VENV/.lucid"
if [ -f "$BUILD/liblucid.a" ] && { [ ! -f "$STAMP" ] ||
    [ -n "$(find "$BUILD/liblucid.a" python/lucid python/lucid_build.py python/setup.py python/pyproject.toml \
        -newer "$STAMP" 2>/dev/null | head -1)" ]; }; then
    rm -rf python/build # setuptools would keep an extension linked against an older library
    LDX=""
    [ "$ASAN" = 1 ] && LDX="-fsanitize=address,undefined"
    LUCID_BUILD="$(cd "$BUILD" && pwd)" LUCID_LDFLAGS="$LDX" "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        --no-build-isolation --no-deps --force-reinstall ./python >&2
    rm -rf python/build
    touch "$STAMP"
fi
echo "$PY"
