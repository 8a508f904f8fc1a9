"""tests/python/test_abi.py: the public API boundary. liblucid.so must export only
functions and variables that the installed headers declare (between LC_API_BEGIN and
LC_API_END), lucid.h must include every installed header, and the installed header
set must be closed: a public header includes only public headers.
Leaves out: ABI compatibility across versions (no symbol versioning yet)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LUCID_BUILD", "build")
LIB = os.path.join(ROOT, BUILD, "liblucid.so") if not os.path.isabs(BUILD) else os.path.join(BUILD, "liblucid.so")


def public_headers():
    out = []
    for d in sorted(os.listdir(ROOT)):
        p = os.path.join(ROOT, d)
        if not os.path.isdir(p) or d.startswith((".", "build")) or d in ("tests", "cli", "bench", "examples", "python", "docs", "scripts"):
            continue
        for f in sorted(os.listdir(p)):
            if f.endswith(".h"):
                text = open(os.path.join(p, f)).read()
                if re.search(r"^LC_API_BEGIN", text, re.M):
                    out.append((d + "/" + f, text))
    return out


def main():
    heads = public_headers()
    assert heads, "no public headers found"
    names = set(h for h, _ in heads)
    declared = set()
    for h, text in heads:
        for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
            if inc not in names and inc != "core/api.h":
                sys.exit("public header %s includes internal %s" % (h, inc))
        body = re.sub(r"//[^\n]*", "", text)
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        declared.update(re.findall(r"\b(lc_[A-Za-z0-9_]+)\s*\(", body))
        declared.update(re.findall(r"\b(lc_[A-Za-z0-9_]+)\s*(?:\[[^\]]*\])?\s*;", body))
    umbrella = open(os.path.join(ROOT, "lucid.h")).read()
    for h in names:
        if '#include "%s"' % h not in umbrella:
            sys.exit("lucid.h does not include public header %s" % h)
    nm = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True, text=True, check=True).stdout
    exported = set()
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVW":
            exported.add(parts[2])
    stray = sorted(s for s in exported if s not in declared and not s.startswith("_"))
    if stray:
        sys.exit("liblucid.so exports %d symbols no public header declares: %s" % (len(stray), ", ".join(stray[:40])))
    print("test_abi: %d exported symbols, all declared in %d public headers" % (len(exported), len(heads)))


if __name__ == "__main__":
    main()
