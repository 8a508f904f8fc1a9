// core/progress.h: progress reporting for long work, to a FILE the caller gives.
// A redrawn bar when the stream is a terminal, plain lines (at most one per
// ~2 s and at 100%) otherwise. Leaves out: nested bars.
#ifndef LC_CORE_PROGRESS_H
#define LC_CORE_PROGRESS_H

#include "core/api.h"

#include <stdint.h>
#include <stdio.h>

LC_API_BEGIN

typedef struct lc_progress lc_progress;

// out may be NULL (silent). total > 0.
lc_progress *lc_progress_new(FILE *out, const char *label, int64_t total);
// extra: a short status string shown after the bar ("ret 312.5"), may be NULL.
void lc_progress_update(lc_progress *p, int64_t done, const char *extra);
void lc_progress_finish(lc_progress *p, const char *extra); // prints the last line and frees
double lc_now(void); // monotonic seconds

LC_API_END

#endif
