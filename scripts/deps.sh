#!/bin/sh
# scripts/deps.sh: finds lucid's dependencies with pkg-config and writes the
# flags to the file named by $1 (make includes it). When something is missing it
# installs the Debian packages with apt-get if run as root, else prints the line.
set -u
OUT="$1"
# Debian 12 names msgpack-c's package libmsgpack-dev (msgpack.pc); newer releases
# call it libmsgpack-c-dev (msgpack-c.pc).
PKGS="pkg-config libopenblas-dev libzmq3-dev libmsgpack-dev check libpng-dev libgif-dev python3-msgpack python3-zmq python3-numpy python3-venv python3-pip python3-torch libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg"

have_all() {
    command -v pkg-config >/dev/null 2>&1 || return 1
    pkg-config --exists openblas libzmq check libpng || return 1
    # FFmpeg's libraries (worldmodel/video.c reads video); the ffmpeg program makes the
    # test and benchmark videos.
    pkg-config --exists libavformat libavcodec libswscale libavutil || return 1
    command -v ffmpeg >/dev/null 2>&1 || return 1
    pkg-config --exists msgpack-c 2>/dev/null || pkg-config --exists msgpack || return 1
    [ -f /usr/include/gif_lib.h ] || return 1
    /usr/bin/python3 -c 'import msgpack, zmq, numpy, venv, ensurepip, torch' >/dev/null 2>&1 || return 1
    return 0
}

if ! have_all; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "lucid: installing missing Debian packages: $PKGS" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || true
        if ! apt-get install -y -qq $PKGS >&2; then
            # newer Debian: msgpack-c's development package was renamed
            apt-get install -y -qq $(echo "$PKGS" | sed 's/libmsgpack-dev/libmsgpack-c-dev/') >&2 || exit 1
        fi
    else
        echo "lucid: missing build dependencies. Install them with:" >&2
        echo "    sudo apt-get install -y $PKGS" >&2
        exit 1
    fi
    have_all || { echo "lucid: dependencies still missing after apt-get" >&2; exit 1; }
fi

if pkg-config --exists msgpack-c 2>/dev/null; then MSGPACK=msgpack-c; else MSGPACK=msgpack; fi
MODS="openblas libzmq $MSGPACK libpng libavformat libavcodec libswscale libavutil"
{
    echo "# written by scripts/deps.sh"
    echo "DEP_CFLAGS = $(pkg-config --cflags $MODS)"
    echo "DEP_LIBS = $(pkg-config --libs $MODS) -lgif -lpthread -lm"
    echo "CHECK_CFLAGS = $(pkg-config --cflags check)"
    echo "CHECK_LIBS = $(pkg-config --libs check)"
    echo "PC_REQUIRES = $MODS"
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
