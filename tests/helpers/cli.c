// tests/helpers/cli.c: lc_test_lucid_bin, lc_test_run_cmd (cli.h). Leaves out: nothing.
#include "tests/helpers/cli.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

const char *lc_test_lucid_bin(char *buf, size_t n) {
    const char *b = getenv("LUCID_BUILD");
    snprintf(buf, n, "%s/lucid", b && b[0] ? b : "build");
    FILE *f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

int lc_test_run_cmd(const char *cmd, char *out, size_t n) {
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = '\0';
    return pclose(p);
}
