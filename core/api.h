// core/api.h: the marks of lucid's public API and its version. liblucid.so is built
// with -fvisibility=hidden: it exports exactly what the public headers declare
// between LC_API_BEGIN and LC_API_END, and only those headers are installed.
// Leaves out: Windows dllexport, symbol versioning.
#ifndef LC_CORE_API_H
#define LC_CORE_API_H

#define LC_VERSION_MAJOR 0
#define LC_VERSION_MINOR 2
#define LC_VERSION_PATCH 0
#define LC_VERSION "0.2.0"
// For #if checks: LC_VERSION_NUM >= LC_MAKE_VERSION(0, 2, 0).
#define LC_MAKE_VERSION(a, b, c) ((a) * 10000 + (b) * 100 + (c))
#define LC_VERSION_NUM LC_MAKE_VERSION(LC_VERSION_MAJOR, LC_VERSION_MINOR, LC_VERSION_PATCH)

#define LC_API __attribute__((visibility("default")))
#define LC_API_BEGIN _Pragma("GCC visibility push(default)")
#define LC_API_END _Pragma("GCC visibility pop")

LC_API_BEGIN
// The version of the library in use (may differ from the headers': LC_VERSION).
const char *lc_version(void);
LC_API_END

#endif
