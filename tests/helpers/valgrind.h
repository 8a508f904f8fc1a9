// tests/helpers/valgrind.h: whether a test program runs under valgrind, where OpenBLAS and
// the vector maths are emulated (thousands of times slower), so training tests shrink to a
// few steps there and check memory only. Leaves out: other slow tools (ASan runs in full).
#ifndef LC_TESTS_VALGRIND_H
#define LC_TESTS_VALGRIND_H

// 1 under valgrind (RUNNING_ON_VALGRIND where <valgrind/valgrind.h> exists), else 0.
int lc_test_on_valgrind(void);

#endif
