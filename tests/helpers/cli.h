// tests/helpers/cli.h: running the `lucid` program from a test: its path from $LUCID_BUILD
// (set by scripts/run_tests.sh; default build/) and a command's stdout. Leaves out: stdin
// (tests pipe it in through the shell command).
#ifndef LC_TESTS_CLI_H
#define LC_TESTS_CLI_H

#include <stddef.h>

// Path of the lucid program into buf, or NULL where it was not built (tests skip then).
const char *lc_test_lucid_bin(char *buf, size_t n);
// Runs cmd through the shell; its stdout (up to n - 1 bytes, NUL-terminated) into out.
// Returns pclose's status (WIFEXITED / WEXITSTATUS).
int lc_test_run_cmd(const char *cmd, char *out, size_t n);

#endif
