// env/pool.h: a small persistent thread pool for stepping env vectors in chunks.
// lc_pool_run(p, fn, ctx) calls fn(ctx, c, n) for every chunk c in [0, n), chunk 0 on
// the calling thread, and returns when all are done. Leaves out: work stealing, queues.
#ifndef LC_ENV_POOL_H
#define LC_ENV_POOL_H

#include "core/error.h"

typedef struct lc_pool lc_pool;
typedef void (*lc_pool_fn)(void *ctx, int chunk, int nchunks);

// nthreads >= 2 counts the caller: nthreads - 1 workers are started.
int lc_pool_new(lc_pool **out, int nthreads, lc_error *err);
void lc_pool_free(lc_pool *p); // joins the workers; NULL is fine
void lc_pool_run(lc_pool *p, lc_pool_fn fn, void *ctx);
int lc_pool_size(const lc_pool *p);

#endif
