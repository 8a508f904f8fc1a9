// env/env.h: the vectorized environment API (the env contract of DESIGN.md).
// An lc_env is num_envs copies of one environment stepped together into
// contiguous structure-of-arrays buffers, made by name from a registry.
// Leaves out: async stepping, dict/tuple spaces.
#ifndef LC_ENV_ENV_H
#define LC_ENV_ENV_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "core/rng.h"
#include "core/settings.h"

LC_API_BEGIN

// ---------------------------------------------------------------- spaces

typedef enum lc_space_kind { LC_SPACE_DISCRETE = 0, LC_SPACE_BOX, LC_SPACE_MULTI_DISCRETE } lc_space_kind;

#define LC_SPACE_MAX_BOUNDS 16 // per-dimension bounds kept up to this many elements
#define LC_MAX_NVEC 16

typedef struct lc_space {
    lc_space_kind kind;
    lc_dtype dtype;   // BOX: LC_F32 or LC_U8. DISCRETE, MULTI_DISCRETE: LC_I32.
    int ndim;         // BOX: 1..3 (images are (H, W, C)); DISCRETE: 0; MULTI_DISCRETE: 1
    int shape[3];
    int n;            // DISCRETE: number of actions
    int nvec[LC_MAX_NVEC]; // MULTI_DISCRETE: choices per component (shape[0] components)
    int per_dim;      // BOX: 1 if low/high hold one bound per element, 0 if low[0]/high[0] hold all
    float low[LC_SPACE_MAX_BOUNDS], high[LC_SPACE_MAX_BOUNDS]; // +-INFINITY allowed
} lc_space;

lc_space lc_space_discrete(int n);
lc_space lc_space_box(lc_dtype dtype, int ndim, const int *shape, const float *low,
                      const float *high); // low/high: per element (size <= 16) or NULL for scalars below
lc_space lc_space_box_scalar(lc_dtype dtype, int ndim, const int *shape, float low, float high);
lc_space lc_space_multi_discrete(int count, const int *nvec);
int lc_space_size(const lc_space *s);       // elements per row (1 for DISCRETE)
float lc_space_low(const lc_space *s, int i);  // bound of element i
float lc_space_high(const lc_space *s, int i);
// "Discrete(2)", "Box(-inf, inf, (4,), float32)", "MultiDiscrete([3 3])"
void lc_space_describe(const lc_space *s, char *buf, size_t n);
// Stores / restores a space in a container under PREFIX (meta and a bounds tensor).
int lc_space_to_file(const lc_space *s, lc_file *f, const char *prefix, lc_error *err);
int lc_space_from_file(lc_space *s, const lc_file *f, const char *prefix, lc_error *err);

// ---------------------------------------------------------------- backends

// What an environment implementation provides. An env ctor fills this in for
// num_envs copies. Each env i owns its RNG (rngs[i]); implementations never use
// global state, so envs may be stepped on any thread in any grouping.
#define LC_MAX_INFO 4
typedef struct lc_env_impl {
    lc_space obs_space, act_space;
    int max_episode_steps;  // the env's own time limit (0 = none)
    int can_split;          // 1: step() may run on disjoint ranges from several threads at once
    int render_w, render_h; // native render size
    int n_info;             // extra per-step floats reported in the info buffer
    const char *info_names[LC_MAX_INFO];
    void *data;             // the backend's state for all num_envs

    // Draw env i's start state with rng and write its observation row. A backend with
    // seed() below draws from its own per-env generator instead and ignores rng.
    void (*reset)(void *data, int i, lc_rng *rng, void *obs_row);
    // Optional, for envs that follow a reference's seeding (DESIGN.md's env contract):
    // lc_env_reset(seed) calls it for every env i before reset(), and the backend seeds
    // env i's own generator as the reference seeds copy i of a vector (Gymnasium's classic
    // control: np_random(seed + i); MinAtar: RandomState(seed + i)), seed being the
    // vector's seed. Resets without a seed (lc_env_reset_mask, autoreset)
    // continue that generator. Without it, env i's rng is seeded from (seed, i).
    void (*seed)(void *data, int i, uint64_t seed);
    // Step envs [i0, i1). Pointers are the whole-vector bases: env i reads
    // actions row i (int32 or float, validated and clipped to the space) and writes
    // obs row i, rewards[i], terminated[i], info row i (when n_info > 0). terminated[i]
    // = LC_BACKEND_TRUNCATED says the backend's own time limit ended the episode (a
    // remote env's server): the vector reports it as truncated.
    void (*step)(void *data, int i0, int i1, const void *actions, void *obs, float *rewards,
                 uint8_t *terminated, float *info, lc_rng *rngs);
    // Optional: draw env i as RGB (h, w, 3) at the given size. 0 on success.
    int (*render)(void *data, int i, uint8_t *rgb, int w, int h);
    void (*destroy)(void *data);
    // Optional, for backends whose reset or step can fail (a remote env's network):
    // called after every reset and step of the vector; non-zero fails that call with err.
    int (*status)(void *data, lc_error *err);
    // Optional, for envs that can step a copy of their state (the pixel games): which of env
    // i's actions have the same effect in its current state. cls[a] (act_space.n entries) =
    // the smallest action whose step from a copy of the state and of rng gives the same
    // observation, reward and end as a's. Neither the env nor rng changes. 0, or non-zero
    // when out of memory.
    int (*action_classes)(const void *data, int i, const lc_rng *rng, int32_t *cls);
} lc_env_impl;
#define LC_BACKEND_TRUNCATED 2 // a terminated[i] value of impl.step: see above

typedef struct lc_env_opts lc_env_opts;
typedef int (*lc_env_ctor)(lc_env_impl *impl, const char *name, int num_envs,
                           const lc_env_opts *opts, lc_error *err);

// Registers a name ("CartPole-v1") or a prefix ending in ':' ("dream:"), whose
// ctor receives the whole name. Process-wide; later registration of a name replaces.
int lc_env_register(const char *name, lc_env_ctor ctor, const char *summary);
void lc_env_register_builtin(void); // classic control and pixel games; idempotent
int lc_env_registry_count(void);
const char *lc_env_registry_name(int i);
const char *lc_env_registry_summary(int i);
// Finds the ctor for name: an exact name, else the longest "family:" prefix of it.
// Unknown names get LC_ERR_NOTFOUND listing the registered names. Registry calls
// register the built-ins first (lc_env_register_builtin), so theirs can be replaced.
int lc_env_lookup(const char *name, lc_env_ctor *ctor, lc_error *err);

// ---------------------------------------------------------------- the vector

// SAME_STEP: an ended env restarts within the step (final_obs keeps its last observation).
// DISABLED: it waits for lc_env_reset_mask. NEXT_STEP (Gymnasium's default): its obs row
// keeps the last observation, and the next lc_env_step resets it instead of stepping it
// (its action is ignored; reward 0, flags 0, obs row the first observation).
enum { LC_AUTORESET_SAME_STEP = 0, LC_AUTORESET_DISABLED = 1, LC_AUTORESET_NEXT_STEP = 2 };

// The vector's options, once: (name, C type, table type, default, lo, hi, settings
// version, help); lc_env_opts_settings() is the table (prefix "env"). Zero fields of
// a memset struct mean the defaults too (num_envs 1, no repeat or stack, clip 10,
// gamma 0.99).
#define LC_ENV_OPTS_SETTINGS(X) \
    X(num_envs, int, INT, 1, 1, 1 << 20, 2, "parallel copies of the env (>= 1)") \
    X(num_threads, int, INT, 0, 0, 1024, 2, \
      "stepping threads: 0 automatic (from 256 envs a 2-thread pool, kept only if clearly " \
      "faster), 1 none, k at most num_envs") \
    X(max_episode_steps, int, INT, 0, -1, 1 << 30, 1, "time limit: 0 the env's, < 0 none, > 0 override") \
    X(autoreset, int, INT, 0, 0, 2, 2, \
      "0: same-step autoreset (final_obs), 1: disabled, 2: next-step (Gymnasium's; not with action_repeat > 1)") \
    X(render_w, int, INT, 0, 0, 8192, 1, "render width (0: the env's)") \
    X(render_h, int, INT, 0, 0, 8192, 1, "render height (0: the env's)") \
    X(action_repeat, int, INT, 1, 0, 1000, 1, "> 1: repeat each action, summing rewards") \
    X(frame_stack, int, INT, 1, 0, 64, 1, "> 1: observations hold the last k frames (last axis)") \
    X(normalize_obs, int, BOOL, 0, 0, 1, 2, "running mean/variance normalisation of float obs") \
    X(clip_obs, float, FLOAT, 10, 0, 1e9, 2, "with normalize_obs: clip to +-clip_obs") \
    X(normalize_reward, int, BOOL, 0, 0, 1, 2, "scale rewards by the running std of the return") \
    X(gamma, float, FLOAT, 0.99, 0, 1, 2, "for normalize_reward") \
    X(clip_reward, float, FLOAT, 10, 0, 1e9, 2, "with normalize_reward: clip to +-clip_reward") \
    X(resize_h, int, INT, 0, 0, 4096, 3, "uint8 (H, W, C) frames: resize to this height (0: as the env gives)") \
    X(resize_w, int, INT, 0, 0, 4096, 3, "uint8 (H, W, C) frames: resize to this width (0: as the env gives)")

struct lc_env_opts {
    LC_SETTINGS_FIELDS(LC_ENV_OPTS_SETTINGS)
    // Wrappers apply in the order action_repeat, resize, frame_stack, normalize_obs,
    // normalize_reward on every step. resize_h/resize_w (both or neither) change the
    // size of uint8 (H, W, C) frame observations by the exact area average of
    // core/resize.h, the one rule lucid resizes frames by (render is not resized).
    const char *params;    // backend options "key=value,key=value" (dream: temperature=...)
};
const lc_settings *lc_env_opts_settings(void);
lc_env_opts lc_env_opts_default(void);
// Details of the wrappers (env/env.c):
// - the time limit counts env steps, so with action_repeat an episode still lasts at
//   most max_episode_steps backend steps; ep_length counts backend steps too.
// - normalize_obs keeps Gymnasium's RunningMeanStd (count 1e-4, mean 0, var 1 at
//   first) per element of one frame, updated with each batch of observations a reset
//   or step returns (after autoreset); obs = clip((x - mean) / sqrt(var + 1e-8)).
//   With frame_stack, frames are normalised as they enter the stack. The public obs
//   space becomes Box(-clip_obs, clip_obs). uint8 observations are LC_ERR_ARG.
// - normalize_reward keeps one running variance of the per-env discounted returns
//   (return = return * gamma + reward, zeroed when an episode ends, as Gymnasium 0.26
//   and SB3's VecNormalize); reward / sqrt(var + 1e-8), clipped. ep_return stays raw.
// - zero fields of a memset opts mean the defaults (num_envs 1, clip 10, gamma 0.99).

typedef struct lc_env_spec {
    char name[256];
    int num_envs;
    lc_space obs_space, act_space; // after wrappers (frame stacking widens obs)
    int obs_size, act_size;        // elements per row: act_size 1 for DISCRETE
    int max_episode_steps;         // effective time limit, 0 = none
    int n_info;
    const char *info_names[LC_MAX_INFO];
    int render_w, render_h;
} lc_env_spec;

// Buffers, owned by the env, valid until lc_env_free; rows are env indices.
typedef struct lc_env_buf {
    void *obs;            // (N, obs_size) float or uint8: after a step, the first
                          // observation of the next episode where an episode ended
    float *rewards;       // (N)
    uint8_t *terminated;  // (N) the episode reached a terminal state
    uint8_t *truncated;   // (N) the time limit ended it (never both set)
    uint8_t *done;        // (N) terminated | truncated: final_obs and stats rows are valid
    void *final_obs;      // (N, obs_size) last observation of the episode that ended
    float *ep_return;     // (N) return of the episode that ended (raw rewards)
    int32_t *ep_length;   // (N) its length in env steps
    float *info;          // (N, n_info) or NULL
} lc_env_buf;

typedef struct lc_env lc_env;

// Unknown names get LC_ERR_NOTFOUND listing the registered names.
int lc_env_make(lc_env **out, const char *name, const lc_env_opts *opts, lc_error *err);
void lc_env_free(lc_env *e);
const lc_env_spec *lc_env_get_spec(const lc_env *e);
const lc_env_buf *lc_env_get_buf(const lc_env *e);

// Seeds env i from (seed, i) (or as the backend's reference does: impl.seed) and resets
// every env.
int lc_env_reset(lc_env *e, uint64_t seed, lc_error *err);
// Resets the envs where mask[i] != 0, continuing their RNG streams (the only way
// to continue an ended env in LC_AUTORESET_DISABLED mode). Their obs rows get first
// observations and their rewards, flags and ep_* rows are cleared; other rows stay.
// Before the first lc_env_reset it is LC_ERR_STATE.
int lc_env_reset_mask(lc_env *e, const uint8_t *mask, lc_error *err);
// actions: (N, act_size) int32 for DISCRETE/MULTI_DISCRETE, float for BOX.
// Out-of-range discrete actions and non-finite continuous ones are LC_ERR_ACTION
// (nothing is stepped); finite continuous actions are clipped to the box (into the
// env's scratch: the caller's array is not changed). Stepping before lc_env_reset, or
// an ended env in LC_AUTORESET_DISABLED mode, is LC_ERR_STATE. Never allocates.
int lc_env_step(lc_env *e, const void *actions, lc_error *err);
// RGB frame of env i at the spec's render size into rgb (render_h, render_w, 3).
// A backend without render gets a stand-in: its image observation scaled up, or one
// bar per observation element. Before the first reset it is LC_ERR_STATE.
int lc_env_render(lc_env *e, int i, uint8_t *rgb, lc_error *err);

// Which of env i's actions have the same effect in its current state (impl.action_classes):
// cls[a] (Discrete(n): n entries) = the smallest action whose step gives the same next
// observation, reward and end as a's (a no-op and a move into a wall share a class). Nothing
// is stepped. LC_ERR_UNSUPPORTED for envs that cannot copy their state; LC_ERR_STATE
// before reset; LC_ERR_ARG for i out of range.
int lc_env_action_classes(lc_env *e, int i, int32_t *cls, lc_error *err);

// Observation normalisation statistics (normalize_obs): pointers to the live
// running count, mean and variance (obs_size before stacking), which a policy
// saves and restores; freeze stops updating them (evaluation).
int lc_env_obs_stats(lc_env *e, double **count, double **mean, double **var);
void lc_env_obs_freeze(lc_env *e, int frozen);
// Reward scaling statistics (normalize_reward): pointers to the running count, mean
// and variance of the discounted return, which a trainer checkpoints and restores
// (the per-env returns restart at 0 on every reset). LC_ERR_UNSUPPORTED without.
int lc_env_reward_stats(lc_env *e, double **count, double **mean, double **var);

// Episodes env i has finished since lc_env_make; threads stepping the vector (1 = the caller).
int64_t lc_env_episode_count(const lc_env *e, int i);
int lc_env_num_threads(const lc_env *e);
int lc_env_threads_in_use(const lc_env *e); // now: 1 when automatic mode dropped its pool

LC_API_END

#endif
