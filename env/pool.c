// env/pool.c: the persistent pthread pool behind multi-threaded env stepping.
// run() bumps a generation counter and wakes the workers; each does its chunk and
// counts down. Waiters spin briefly (a step takes microseconds) before sleeping on a
// condition variable. Leaves out: work stealing, thread affinity.
#include "env/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN 2000 // pause-polls (tens of microseconds in all) before sleeping

typedef struct worker {
    struct lc_pool *pool;
    int index; // chunk index, 1..n-1
    pthread_t th;
} worker;

struct lc_pool {
    int n;                   // threads including the caller
    worker *workers;         // (n - 1)
    int started;             // workers successfully created
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_ulong gen;        // bumped by each run (under mu)
    atomic_int pending;      // workers still busy with this generation
    atomic_int quit;
    lc_pool_fn fn;
    void *ctx;
};

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg) {
    worker *w = arg;
    lc_pool *p = w->pool;
    unsigned long seen = 0;
    for (;;) {
        for (int s = 0; s < SPIN && atomic_load(&p->gen) == seen && !atomic_load(&p->quit); s++) relax();
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->go, &p->mu);
        if (atomic_load(&p->quit)) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = atomic_load(&p->gen);
        lc_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, w->index, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

int lc_pool_new(lc_pool **out, int nthreads, lc_error *err) {
    *out = NULL;
    if (nthreads < 2) return lc_fail(err, LC_ERR_ARG, "thread pool: needs at least 2 threads, got %d", nthreads);
    lc_pool *p = calloc(1, sizeof *p);
    if (!p) return lc_fail(err, LC_ERR_NOMEM, "thread pool: out of memory");
    p->n = nthreads;
    p->workers = calloc((size_t)nthreads - 1, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return lc_fail(err, LC_ERR_NOMEM, "thread pool: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    for (int i = 0; i < nthreads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i + 1;
        if (pthread_create(&p->workers[i].th, NULL, worker_main, &p->workers[i]) != 0) {
            lc_pool_free(p);
            return lc_fail(err, LC_ERR_NOMEM, "thread pool: cannot start thread %d of %d", i + 2, nthreads);
        }
        p->started++;
    }
    *out = p;
    return LC_OK;
}

void lc_pool_free(lc_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++) pthread_join(p->workers[i].th, NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

void lc_pool_run(lc_pool *p, lc_pool_fn fn, void *ctx) {
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->gen, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    for (int s = 0; s < SPIN && atomic_load(&p->pending) > 0; s++) relax();
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

int lc_pool_size(const lc_pool *p) { return p ? p->n : 1; }
