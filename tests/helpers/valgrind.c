// tests/helpers/valgrind.c: lc_test_on_valgrind (valgrind.h). Leaves out: nothing.
#include "tests/helpers/valgrind.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

int lc_test_on_valgrind(void) {
#ifdef RUNNING_ON_VALGRIND
    return RUNNING_ON_VALGRIND != 0;
#else
    return 0;
#endif
}
