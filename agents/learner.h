// agents/learner.h: the distributed PPO learner: a ROUTER socket that hands workers
// the env, the policy and versioned weights, gathers their rollout segments, runs
// lc_ppo_update on them (sync, or async with a policy-lag bound), detects dead
// workers by heartbeats, and checkpoints atomically so it can be restarted.
// Segments are assembled in worker-id order, so a sync run with the same workers is
// reproducible. Leaves out: several learners, PUB/SUB weight fan-out, observation normalisation
// across workers (refused: each worker would see different statistics).
#ifndef LC_AGENTS_LEARNER_H
#define LC_AGENTS_LEARNER_H

#include "core/api.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "policy/policy.h"
#include "policy/ppo.h"

LC_API_BEGIN

#define LC_LEARNER_MAX_WORKERS 1024

typedef struct lc_learner_stats {
    int64_t version;          // weights version (one per update, from 0)
    int64_t global_step;      // env steps trained on
    int64_t updates;          // PPO updates this run
    int workers_live;         // workers heard from within the timeout
    int64_t workers_joined;   // hellos (a reconnect counts again)
    int64_t workers_lost;     // declared dead after the timeout
    int64_t segments;         // segments trained on
    int64_t segments_stale;   // dropped: older than the allowed lag
    int64_t segments_bad;     // dropped: wrong shapes, values, sender or count
    int64_t segments_dup;     // dropped: a copy of a segment already taken (same bytes)
    int64_t weights_resent;   // weights sent again to a worker silent since the last
    uint64_t malformed;       // frames the decoder rejected (lc_proto_decode)
    uint64_t msgs_in, bytes_in, msgs_out, bytes_out;
    uint64_t auth_denied;     // CURVE peers refused by the allow-list
    int64_t nan_updates;      // updates refused by PPO (non-finite loss), batch dropped
    double episode_return;    // mean return of episodes in the last batch (NAN: none)
    double episode_length;
    int64_t episodes;         // episodes finished, all batches
    lc_ppo_stats ppo;         // of the last update
    double wall_s, sps;       // since the start of lc_learner_run; env steps / s
} lc_learner_stats;

typedef struct lc_learner_cfg {
    const char *bind;          // "tcp://127.0.0.1:5555" (a '*' port picks a free one)
    int allow_public;          // 0: refuse endpoints reachable from other machines
    const char *env_name;      // required; dream:FILE ships FILE's bytes to workers
    const char *env_params;    // lc_env_opts.params for workers (NULL: none)
    int max_episode_steps;     // lc_env_opts.max_episode_steps for workers (0: the env's)
    lc_ppo_cfg ppo;            // total_steps, num_steps (T), lr, epochs, ... (normalize_obs: refused)
    lc_policy_cfg pcfg;
    int sync;                  // 1: one update per batch of one segment per live worker
                               //    of the current version; 0: async
    int max_lag;               // async: accept segments up to this many versions old
    int worker_num_envs;       // suggested envs per worker (0: ppo.num_envs)
    int min_workers;           // the first update waits for this many workers (1)
    double heartbeat_s;        // heartbeat interval both ways (1)
    double worker_timeout_s;   // a worker silent this long is dead (10)
    const char *out_path;      // checkpoint / final policy file (NULL: none)
    int checkpoint_every;      // updates between checkpoints (0: at the end only)
    const char *resume_path;   // continue from this checkpoint (NULL: fresh)
    const char *curve_secret;  // z85 secret key: CURVE server (NULL: off)
    const char *curve_allow;   // allow-list file of worker public keys (NULL: any)
    size_t max_frame;          // message cap (0: LC_PROTO_MAX_FRAME)
    int skip_update;           // benchmarks: gather batches and bump versions, no PPO
    atomic_int *stop;          // lc_learner_run returns (after a checkpoint) when set
    void (*log)(void *ctx, const char *line); // NULL: silent
    void *log_ctx;
    // Called after every update; a non-zero return stops the run like *stop.
    int (*on_update)(void *ctx, const lc_learner_stats *st);
    // Called for every segment taken for training (NULL: none), with its message bytes.
    void (*on_segment)(void *ctx, int worker_id, int64_t version, const void *msg, size_t len);
    void *cb_ctx;
} lc_learner_cfg;

// Defaults: loopback :5555, sync, max_lag 1, min_workers 1, heartbeat 1 s, timeout 10 s,
// checkpoint every 10 updates; ppo and pcfg from lc_ppo_cfg_default().
lc_learner_cfg lc_learner_cfg_default(void);

typedef struct lc_learner lc_learner;

// Makes (or resumes) the policy, reads a dream: model, binds. Errors: the env's,
// the checkpoint's, LC_ERR_ARG (bad options, public bind), LC_ERR_NET (bind).
int lc_learner_new(lc_learner **out, const lc_learner_cfg *cfg, lc_error *err);
const char *lc_learner_endpoint(const lc_learner *l);
// Trains until ppo.total_steps env steps (then tells workers "bye" and writes out_path)
// or *stop / on_update (then writes a checkpoint and leaves workers to reconnect).
int lc_learner_run(lc_learner *l, lc_error *err);
lc_policy *lc_learner_policy(lc_learner *l);
void lc_learner_get_stats(const lc_learner *l, lc_learner_stats *st);
// Writes a checkpoint: the policy with Adam moments (loadable by lc_policy_load)
// and meta learner.* (version, global_step, env), atomically.
int lc_learner_save(lc_learner *l, const char *path, lc_error *err);
void lc_learner_free(lc_learner *l); // NULL is fine

LC_API_END

#endif
