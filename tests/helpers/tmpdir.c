// tests/helpers/tmpdir.c: see tmpdir.h.
#include "tests/helpers/tmpdir.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

char tmpdir[256];

void tmpdir_make(const char *tag) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lucid_test_%s_XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

void tmpdir_remove(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

void path_in(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", tmpdir, name); }
