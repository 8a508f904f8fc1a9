// core/metrics.h: metrics logging, one row of named numbers per call.
// The format follows the path's extension: .csv (header from the first row's
// keys) or .jsonl (one object per line). Leaves out: string-valued columns.
#ifndef LC_CORE_METRICS_H
#define LC_CORE_METRICS_H

#include "core/api.h"

#include "core/error.h"

LC_API_BEGIN

typedef struct lc_metrics lc_metrics;

int lc_metrics_open(lc_metrics **out, const char *path, int append, lc_error *err);
// Writes one row. A CSV keeps the first row's columns; keys not among them are
// an LC_ERR_ARG. Non-finite values are written as empty (CSV) or null (JSONL).
int lc_metrics_row(lc_metrics *m, int n, const char *const *keys, const double *vals,
                   lc_error *err);
int lc_metrics_close(lc_metrics *m, lc_error *err); // flushes, closes, frees

LC_API_END

#endif
