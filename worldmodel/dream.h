// worldmodel/dream.h: a trained ensemble behind the env API: the "dream:" envs.
// `dream:MODEL.lucid` is num_envs imagined copies of the env the model was trained on:
// same spaces and time limit, starts drawn from the data, reward and termination
// predicted, next states sampled. Leaves out: pixel dreams (the Genie work), resets
// to a given state through the env API (use lc_dream_step directly for that).
//
// Letters: N = envs, O = obs_size, Y = O + 1, K = elites.
//
// One step of N envs is one batched forward pass per elite over all N rows (every
// elite's mean is needed for the disagreement). Then env i draws an elite k at random
// (PETS' TS1) from its own RNG, and
//   next  = obs + delta_mean_k + temperature * delta_std_k * N(0, 1)   (clamped into
//           the finite bounds of the obs space)
//   reward = reward_mean_k - penalty * disagreement                    (MOPO-style)
//   terminated = sigmoid(termination classifier(next)) > 0.5
// where disagreement = max over elites j of |mu_j - mean over elites of mu| on the
// normalised delta (each dimension divided by its std in the training data); it is
// reported as the env's info "disagreement".
//
// Params (opts->params, or after '?' in the name: "dream:m.lucid?temperature=0.5"):
//   temperature=T (default 1; 0 = the mean), penalty=L (default 0),
//   branch=1 (resets draw from real data states instead of episode starts, as MBPO's
//   branched rollouts; needs a model saved with states), horizon=H (time limit H, as
//   MBPO's short rollouts; lc_env_opts.max_episode_steps still overrides).
//
// Render: a bar chart of the observation (one bar per dimension, its value in
// standard deviations of the training data, +-3 at the edges); a dream has no
// pictures of its own. Programs that know the env draw it themselves (cli/demo.c).
#ifndef LC_WORLDMODEL_DREAM_H
#define LC_WORLDMODEL_DREAM_H

#include "core/api.h"

#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "env/env.h"
#include "worldmodel/ensemble.h"

LC_API_BEGIN

typedef struct lc_dream_params {
    float temperature; // 1
    float penalty;     // 0
    int branch;        // 0
    int horizon;       // 0 = the model's time limit
} lc_dream_params;

lc_dream_params lc_dream_params_default(void);
// Parses "key=value,key=value" (NULL or "" = nothing) over p; unknown keys are errors.
int lc_dream_params_parse(lc_dream_params *p, const char *s, lc_error *err);

// A batched sampler over a model for up to N rows; borrows m (keep it alive).
typedef struct lc_dream lc_dream;
int lc_dream_new(lc_dream **out, const lc_ensemble *m, int N, const lc_dream_params *p,
                 lc_error *err);
void lc_dream_free(lc_dream *d);
// Steps rows [0, n) (n <= N) in place: state (n, O) becomes the sampled next state.
// actions (n, act_size) int32 or float; rewards, terminated, disagreement (n) may be
// NULL except rewards and terminated; rngs[i] drives row i. No allocation.
void lc_dream_step(lc_dream *d, float *state, const void *actions, int n, float *rewards,
                   uint8_t *terminated, float *disagreement, lc_rng *rngs);
// A start observation (O floats) drawn with rng: an episode start, or with branch a
// real state from the data.
void lc_dream_start(const lc_dream *d, lc_rng *rng, float *obs);

// The env ctor behind the "dream:" prefix (registered by lc_worldmodel_register).
int lc_dream_env_ctor(lc_env_impl *impl, const char *name, int num_envs,
                      const lc_env_opts *opts, lc_error *err);

LC_API_END

#endif
