"""python/lucid_build.py: cffi's out-of-line API-mode builder of lucid._lucid.

Compiles a small extension against the repo's public header lucid.h and links the static
build/liblucid.a (made by `make`) with the libraries scripts/deps.sh found
(build/config.mk). LUCID_ROOT (the repo) and LUCID_BUILD (its build folder)
override the defaults: this file's parent folder, and build (relative to LUCID_ROOT);
LUCID_LDFLAGS adds link flags (scripts/pyenv.sh: the sanitizers of an ASan build).
"""
import os
import shlex

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get("LUCID_ROOT", os.path.join(HERE, "..")))
BUILD = os.path.join(ROOT, os.environ.get("LUCID_BUILD", "build"))  # relative: to ROOT


def _config():
    """DEP_CFLAGS and DEP_LIBS of build/config.mk, as argument lists."""
    path = os.path.join(BUILD, "config.mk")
    vals = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    vals[k.strip()] = shlex.split(v)
    except OSError as e:
        raise RuntimeError(f"{path}: {e.strerror}; run `make` in {ROOT} first") from e
    return vals.get("DEP_CFLAGS", []), vals.get("DEP_LIBS", [])


def _builder():
    lib = os.path.join(BUILD, "liblucid.a")
    if not os.path.exists(lib):
        raise RuntimeError(f"{lib} is missing: run `make` in {ROOT} first")
    cflags, libs = _config()
    ffi = FFI()
    with open(os.path.join(HERE, "lucid", "_cdef.h")) as f:
        ffi.cdef(f.read())
    ffi.set_source(
        "lucid._lucid",
        '#include "lucid.h"\n',  # the public API only
        include_dirs=[ROOT],
        extra_compile_args=["-std=c11", "-D_DEFAULT_SOURCE"] + cflags,
        extra_objects=[lib],
        extra_link_args=libs + shlex.split(os.environ.get("LUCID_LDFLAGS", "")),
        depends=[lib],
    )
    return ffi


ffibuilder = _builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
