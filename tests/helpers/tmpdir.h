// tests/helpers/tmpdir.h: a private temporary folder per test (mkdtemp), removed
// after it, and paths inside it. For Check fixtures: tmpdir_setup / tmpdir_teardown.
// Leaves out: anything but /tmp.
#ifndef LC_TESTS_TMPDIR_H
#define LC_TESTS_TMPDIR_H

#include <stddef.h>

extern char tmpdir[256]; // the current test's folder

// Makes /tmp/lucid_test_TAG_XXXXXX into tmpdir (asserts on failure).
void tmpdir_make(const char *tag);
void tmpdir_remove(void);          // rm -rf tmpdir
void path_in(char *buf, size_t cap, const char *name); // tmpdir/name

#endif
