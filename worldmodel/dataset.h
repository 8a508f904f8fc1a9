// worldmodel/dataset.h: datasets of trajectories (obs, action, reward, ends, next obs).
// Recorded from any lc_env with a random policy or a caller's action function,
// appended to, merged, written and read (validated) in the lucid container.
// Leaves out: pixel frames (the Genie work has its own frame datasets), compression.
//
// Letters: N = rows (transitions), O = obs_size, A = act_size (1 for Discrete),
// K = envs stepped together while recording, T = steps per env.
//
// Row order: rows are grouped by trajectory. A recording of T steps of K envs is
// stored env by env (env 0's T rows, then env 1's, ...), so row r + 1 continues
// row r exactly when !terminated[r] && !truncated[r] && !starts[r + 1]; then
// obs[r + 1] == next_obs[r]. starts[r] = 1 where obs[r] is the first observation
// of an episode (after a reset); every recording begins with a reset.
#ifndef LC_WORLDMODEL_DATASET_H
#define LC_WORLDMODEL_DATASET_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "env/env.h"

LC_API_BEGIN

#define LC_DATASET_VERSION 1

typedef struct lc_dataset {
    char env_name[256];
    lc_space obs_space, act_space; // obs: Box float32; act: any lc_space kind
    int obs_size, act_size;        // O, A
    int max_episode_steps;         // the env's effective time limit while recording (0 = none)
    size_t n, cap;                 // rows used, rows allocated
    float *obs;                    // (N, O) observation before the step
    void *actions;                 // (N, A) int32 (Discrete, MultiDiscrete) or float (Box)
    float *rewards;                // (N)
    uint8_t *terminated;           // (N)
    uint8_t *truncated;            // (N)
    float *next_obs;               // (N, O) observation after the step (final obs where it ended)
    uint8_t *starts;               // (N) 1 where obs[r] begins an episode
} lc_dataset;

// An empty dataset for an env with these spaces. obs_space must be a float Box.
int lc_dataset_init(lc_dataset *ds, const char *env_name, const lc_space *obs_space,
                    const lc_space *act_space, int max_episode_steps, lc_error *err);
void lc_dataset_free(lc_dataset *ds);
// Grows the buffers to hold at least cap rows.
int lc_dataset_reserve(lc_dataset *ds, size_t cap, lc_error *err);
// Appends one recording of T steps of K envs given in time-major order (row t*K + k),
// as a vector env produces them; stores it trajectory-grouped (see above). starts may be
// NULL: then t == 0 and the steps after an end are starts. Values are copied.
int lc_dataset_add_run(lc_dataset *ds, int T, int K, const float *obs, const void *actions,
                       const float *rewards, const uint8_t *terminated, const uint8_t *truncated,
                       const float *next_obs, const uint8_t *starts, lc_error *err);
// Appends every row of src to dst; both must have the same env name and spaces.
int lc_dataset_merge(lc_dataset *dst, const lc_dataset *src, lc_error *err);
// Checks everything a reader relies on (flags 0/1, terminated and truncated not both,
// actions in their space, finite values, continuity); err says which row is wrong.
int lc_dataset_validate(const lc_dataset *ds, lc_error *err);
// Number of rows with starts[r] = 1.
size_t lc_dataset_episodes(const lc_dataset *ds);
// 1 if row r + 1 continues the trajectory of row r.
int lc_dataset_continues(const lc_dataset *ds, size_t r);

// Container kind "dataset": meta env, obs_space.*, act_space.*, n, obs_size, act_size,
// max_episode_steps, episodes; tensors obs, actions, rewards, terminated, truncated,
// next_obs, starts. Reading validates shapes, dtypes, counts and values.
int lc_dataset_save(const lc_dataset *ds, const char *path, lc_error *err);
int lc_dataset_load(lc_dataset *ds, const char *path, lc_error *err);
// The same to / from an open container (used by tests and other kinds of files). On
// failure from_file leaves ds empty (nothing to free).
int lc_dataset_to_file(const lc_dataset *ds, lc_file *f, lc_error *err);
int lc_dataset_from_file(lc_dataset *ds, const lc_file *f, lc_error *err);

// Chooses actions (N rows of act_size, int32 or float by the action space) for the
// observations obs (N, O) of a vector env; starts (N): 1 where obs row i is the first
// of an episode (for recurrent policies). Returns LC_OK or an error.
typedef int (*lc_act_fn)(void *ctx, const float *obs, const uint8_t *starts, int N,
                         void *actions, lc_error *err);

// A uniform random action of space into action_row (Box: uniform within finite
// bounds, N(0, 1) along an unbounded dimension).
void lc_dataset_random_action(const lc_space *s, lc_rng *rng, void *action_row);

// Records `steps` transitions from env (reset with seed first) into ds, choosing actions
// with fn (NULL = uniform random with the rng stream of seed). steps is split over
// the env's num_envs copies (env k records ceil or floor of steps/K rows). ds must be
// initialised for the env's spaces (lc_dataset_init_for_env). Episode statistics of the
// episodes that ended are summed into *ep_return_sum / *ep_count when not NULL.
int lc_dataset_collect(lc_dataset *ds, lc_env *env, int64_t steps, lc_act_fn fn, void *ctx,
                       uint64_t seed, double *ep_return_sum, int64_t *ep_count, lc_error *err);
// lc_dataset_init with the env's name, spaces and time limit.
int lc_dataset_init_for_env(lc_dataset *ds, const lc_env *env, lc_error *err);

LC_API_END

#endif
