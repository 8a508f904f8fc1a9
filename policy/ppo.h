// policy/ppo.h: proximal policy optimisation (CleanRL's ppo.py family): rollout
// buffers, GAE with truncation bootstrapping, the clipped PPO update, a trainer that
// owns an env, checkpoint/resume, and evaluation of a policy in an env.
// Leaves out: multi-process learners (agents/), PPG/APPO variants, value clipping by
// other schemes, dict observations.
//
// Letters: T = steps per rollout (num_steps), N = envs (num_envs, columns), O = obs
// elements per row, A = action elements per row, S = recurrent state per env.
//
// Conventions (as CleanRL, with Gymnasium's terminated/truncated split):
//   delta[t] = r[t] + gamma * V' - V(s[t]), V' = 0 if terminated[t],
//              final_values[t] (= V(final_obs[t])) if truncated[t], else V(s[t+1])
//              (next_value at t = T-1);
//   adv[t]   = delta[t] + gamma * lambda * (1 - done[t]) * adv[t+1];
//   returns  = adv + values.
// Minibatches are drawn over individual (t, n) samples for feed-forward policies and
// over whole env columns (sequences of T) for recurrent ones (CleanRL's
// ppo_atari_lstm.py), so truncated BPTT runs over the rollout segment with resets
// at episode starts. When the units (samples or columns) do not divide evenly, each
// epoch leaves out a random remainder of fewer than num_minibatches units.
//
// Observation normalisation and reward scaling are the env's (the trainer makes its
// env with its own normalize_obs, clip_obs, normalize_reward, gamma, clip_reward);
// the observation statistics travel with the policy, the reward statistics with the
// checkpoint (lc_env_reward_stats), so a resume is exact.
//
// Resume is exact: a checkpoint is a segment boundary. After lc_ppo_checkpoint
// writes its file, the trainer resets every env from (seed, global_step) and the
// recurrent states, so an uninterrupted run that checkpoints at iteration k and a
// run resumed from that file continue bit-identically (the env's internal state
// cannot be saved through env.h; episodes in flight are cut there and bootstrapped
// like time-limit truncations).
#ifndef LC_POLICY_PPO_H
#define LC_POLICY_PPO_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "core/rng.h"
#include "core/settings.h"
#include "env/env.h"
#include "env/pomdp.h"
#include "nn/nn.h"
#include "policy/policy.h"

LC_API_BEGIN

// ---------------------------------------------------------------- config

// Every PPO setting, once: (name, C type, table type, default, lo, hi, settings
// version that added it, help). The table (lc_ppo_settings) gives the defaults,
// validation, checkpoint save/load, `lucid train` options and the learner's setup
// message; a new setting is one row here. Defaults are CleanRL's ppo.py.
#define LC_BIG_STEPS 1099511627776.0 // 2^40
#define LC_PPO_SETTINGS(X) \
    X(total_steps, int64_t, I64, 500000, 1, LC_BIG_STEPS, 1, "total env steps to train for") \
    X(num_envs, int, INT, 4, 1, 1 << 20, 1, "N: parallel envs") \
    X(num_steps, int, INT, 128, 1, 1 << 20, 1, "T: steps per env per rollout") \
    X(lr, float, FLOAT, 2.5e-4, 1e-30, 3.4e38, 1, "Adam learning rate") \
    X(anneal_lr, int, BOOL, 1, 0, 1, 1, "1: decay the learning rate linearly to 0") \
    X(adam_eps, float, FLOAT, 1e-5, 1e-30, 1, 1, "Adam epsilon") \
    X(gamma, float, FLOAT, 0.99, 0, 1, 1, "discount") \
    X(gae_lambda, float, FLOAT, 0.95, 0, 1, 1, "GAE lambda") \
    X(num_minibatches, int, INT, 4, 1, 1 << 20, 1, "minibatches per epoch") \
    X(update_epochs, int, INT, 4, 1, 1 << 20, 1, "epochs per update") \
    X(norm_adv, int, BOOL, 1, 0, 1, 1, "1: normalise advantages per minibatch") \
    X(clip_coef, float, FLOAT, 0.2, 1e-9, 1e9, 1, "surrogate clipping coefficient") \
    X(clip_vloss, int, BOOL, 1, 0, 1, 1, "1: clipped value loss") \
    X(vf_clip_coef, float, FLOAT, 0, 0, 1e9, 2, "value clipping range (0: clip_coef, as CleanRL)") \
    X(ent_coef, float, FLOAT, 0.01, -1e9, 1e9, 1, "entropy bonus coefficient") \
    X(vf_coef, float, FLOAT, 0.5, -1e9, 1e9, 1, "value loss coefficient") \
    X(max_grad_norm, float, FLOAT, 0.5, -1e9, 1e9, 1, "global gradient norm clip (<= 0: off)") \
    X(target_kl, float, FLOAT, 0, -1e9, 1e9, 1, "stop an update's epochs above this approx KL (0: off)") \
    X(normalize_obs, int, BOOL, 0, 0, 1, 1, "1: running observation normalisation (the env's)") \
    X(clip_obs, float, FLOAT, 10, 0, 1e9, 1, "clip normalised observations") \
    X(normalize_reward, int, BOOL, 0, 0, 1, 1, "1: scale rewards by the discounted-return std") \
    X(clip_reward, float, FLOAT, 10, 0, 1e9, 1, "clip scaled rewards") \
    X(seed, uint64_t, U64, 1, 1, 0, 1, "random seed (policy init, envs, sampling)") \
    X(num_threads, int, INT, 0, 0, 1024, 2, "env stepping threads (0: automatic)") \
    X(checkpoint_every, int64_t, I64, 0, 0, LC_BIG_STEPS, 1, "iterations between checkpoints (0: end only)")

typedef struct lc_ppo_cfg {
    LC_SETTINGS_FIELDS(LC_PPO_SETTINGS)
    const char *checkpoint_path; // NULL: no checkpoints (not a setting: where, not how)
} lc_ppo_cfg;

// The table of LC_PPO_SETTINGS (prefix "ppo").
const lc_settings *lc_ppo_settings(void);

// CleanRL's ppo.py defaults (classic control, Discrete actions).
lc_ppo_cfg lc_ppo_cfg_default(void);
// Defaults for a family by spaces:
//  - Box actions: ppo_continuous_action.py (lr 3e-4, 1 env x 2048 steps, 32
//    minibatches, 10 epochs, ent 0, obs + reward normalisation, log-std 0, 1M steps);
//  - image observations (uint8 Box, ndim 3): Atari-like (8 envs x 128, lr 2.5e-4,
//    4 minibatches, 4 epochs, clip 0.1, ent 0.01, cnn arch, shared trunk, relu);
//  - otherwise ppo.py (above, mlp 64x64 tanh).
// pcfg (may be NULL) is set to the matching policy defaults.
void lc_ppo_cfg_for_spaces(lc_ppo_cfg *cfg, lc_policy_cfg *pcfg, const lc_space *obs,
                           const lc_space *act);
// The same for an env name (makes one copy of the env to read its spaces).
int lc_ppo_cfg_for_env(lc_ppo_cfg *cfg, lc_policy_cfg *pcfg, const char *env_name,
                       lc_error *err);

// ---------------------------------------------------------------- rollout buffer

typedef struct lc_rollout {
    int T, N, obs_size, act_size, state_size;
    lc_dtype obs_dtype;    // LC_F32 or LC_U8
    lc_dtype act_dtype;    // LC_I32 (Discrete, MultiDiscrete) or LC_F32 (Box)
    void *obs;             // (T, N, O) the observation acted on at t
    void *actions;         // (T, N, A)
    float *logp;           // (T, N) log-prob of the action under the acting policy
    float *values;         // (T, N) V(obs[t])
    float *rewards;        // (T, N) (scaled when reward normalisation is on)
    uint8_t *terminated;   // (T, N)
    uint8_t *truncated;    // (T, N)
    float *final_values;   // (T, N) V(final_obs[t]) where truncated[t], else 0
    uint8_t *starts;       // (T, N) 1 where obs[t] is an episode's first observation
    float *state0;         // (N, S) recurrent state before step 0 (NULL when S = 0)
    float *next_value;     // (N) V(obs after the last step), the bootstrap at t = T-1
    uint8_t *next_start;   // (N) whether that next obs starts an episode; carried to
                           // the next rollout's starts[0] by lc_rollout_collect
    float *advantages;     // (T, N) filled by lc_rollout_gae
    float *returns;        // (T, N)
    int64_t policy_version; // the weights that acted (for remote workers; free use)
} lc_rollout;

// Allocates for T x N with the spaces' row sizes (state_size = lc_policy_state_size).
// next_start starts all 1.
int lc_rollout_init(lc_rollout *r, int T, int N, const lc_space *obs_space,
                    const lc_space *act_space, int state_size, lc_error *err);
void lc_rollout_free(lc_rollout *r);
// Copies every (T, n) column of src into dst columns [col0, col0 + src->N) (same T,
// row sizes and dtypes): assembling one buffer from several workers.
int lc_rollout_copy_columns(lc_rollout *dst, int col0, const lc_rollout *src, lc_error *err);


// Episode statistics gathered while collecting.
typedef struct lc_episode_stats {
    int64_t episodes;      // finished episodes counted since the last clear
    double return_sum, length_sum;
    double last_return;    // the most recent one (NAN before any)
} lc_episode_stats;
void lc_episode_stats_clear(lc_episode_stats *s);

// Fills r with T steps of p acting (sampling) in env from its current observations
// (call lc_env_reset and set r->next_start to 1 first). Stores V(final_obs) for
// truncated steps, next_value for the bootstrap, and carries next_start over.
// Rewards are stored as the env gives them (scaled if the env was made with
// normalize_reward); eps (may be NULL) gathers finished episodes.
// Errors: the env's (LC_ERR_ACTION ...) and LC_ERR_NAN from the policy.
int lc_rollout_collect(lc_rollout *r, lc_policy *p, lc_env *env, lc_rng *rng,
                       lc_episode_stats *eps, lc_error *err);

// ---------------------------------------------------------------- GAE and update

// Generalised advantage estimation over (T, N) as the convention above. adv, ret
// (T, N) out; final_values may be NULL (then truncation bootstraps from 0, i.e. is
// treated like termination). Works in double internally.
void lc_gae(float *adv, float *ret, const float *rewards, const float *values,
            const uint8_t *terminated, const uint8_t *truncated, const float *final_values,
            const float *next_value, int T, int N, float gamma, float lambda);
// lc_gae on the buffer's fields into r->advantages / r->returns.
void lc_rollout_gae(lc_rollout *r, float gamma, float lambda);

typedef struct lc_ppo_stats {
    int64_t global_step, iteration;
    double wall_s, sps;            // wall time since start (or resume), env steps/s
    double episode_return;         // mean return of episodes finished this iteration (NAN: none)
    double episode_length;
    int64_t episodes;
    double policy_loss, value_loss, entropy; // means over the last epoch's minibatches
    double approx_kl, old_approx_kl, clip_frac; // CleanRL: (ratio - 1) - log ratio; -log ratio
    double explained_var;
    double grad_norm;              // before clipping, mean over minibatches
    double lr;
    int epochs;                    // epochs run (fewer when target_kl stopped early)
} lc_ppo_stats;

// One PPO update on a filled buffer: computes GAE (cfg gamma, lambda) into
// r->advantages / returns, then cfg->update_epochs epochs of shuffled minibatches
// (rng) with the clipped surrogate, (clipped) value loss, entropy bonus, global
// grad-norm clip and Adam at lr (eps cfg->adam_eps) on lc_policy_params(p).
// LC_ERR_NAN when a loss or a parameter becomes non-finite (the parameters are then
// restored to their values before the update). stats may be NULL.
int lc_ppo_update(lc_policy *p, lc_rollout *r, const lc_ppo_cfg *cfg, float lr, lc_rng *rng,
                  lc_ppo_stats *stats, lc_error *err);
// The minibatch loss for tests: mean over the B rows of
//   -min(A r, A clip(r, 1-c, 1+c)) + vf_coef * 0.5 * max((v-R)^2, (v_clip-R)^2)
//   - ent_coef * entropy,   r = exp(logp - old_logp)
// with d(loss)/d(logp, entropy, value) written to dlogp, dent, dvalue (B each).
// adv is used as given (normalise before calling). parts (may be NULL): pg, v, ent,
// approx_kl, clip_frac.
double lc_ppo_loss(const float *logp, const float *entropy, const float *value,
                   const float *old_logp, const float *old_value, const float *adv,
                   const float *ret, int B, const lc_ppo_cfg *cfg, float *dlogp, float *dent,
                   float *dvalue, double parts[5]);

// ---------------------------------------------------------------- trainer

typedef struct lc_ppo lc_ppo;

// Makes the env (env_opts may be NULL: defaults; num_envs, normalize_obs, clip_obs,
// num_threads come from cfg), the policy (seed cfg->seed), the optimiser state and
// the buffers, and resets the env with cfg->seed.
int lc_ppo_new(lc_ppo **out, const char *env_name, const lc_env_opts *env_opts,
               const lc_ppo_cfg *cfg, const lc_policy_cfg *pcfg, lc_error *err);
void lc_ppo_free(lc_ppo *t); // NULL is fine
// One iteration: collect T x N steps, update. LC_ERR_NAN leaves the trainer
// poisoned: later iterations and checkpoints fail, files on disk are untouched.
int lc_ppo_iterate(lc_ppo *t, lc_ppo_stats *stats, lc_error *err);
int lc_ppo_done(const lc_ppo *t); // global_step >= total_steps
int64_t lc_ppo_global_step(const lc_ppo *t);
int64_t lc_ppo_iteration(const lc_ppo *t);
int64_t lc_ppo_num_iterations(const lc_ppo *t); // total_steps / (T N), rounded up
lc_policy *lc_ppo_policy(lc_ppo *t);
lc_env *lc_ppo_env(lc_ppo *t);
const lc_ppo_cfg *lc_ppo_get_cfg(const lc_ppo *t);
// Starts the trainer from another policy's weights (fine-tuning, a cloned policy, the
// last round of a loop): copies its parameters (with_optimizer: also its Adam moments
// and step) and its obs-normalisation statistics, into the trainer's policy and its
// env's live statistics. LC_ERR_SHAPE if the arch or sizes differ, LC_ERR_STATE if src
// has statistics and the trainer does not normalise, LC_ERR_NAN for a non-finite weight.
int lc_ppo_init_from(lc_ppo *t, const lc_policy *src, int with_optimizer, lc_error *err);
// Saves policy (with Adam moments), obs-norm stats, reward-norm state, global step,
// iteration, RNG states, configs and env name into one "policy" file (loadable by
// lc_policy_load for evaluation), atomically, then resets the envs (a segment
// boundary, see above). Refuses (LC_ERR_NAN) if any parameter is non-finite.
// Layout: everything lc_policy_to_file writes (with_opt: tensors policy.NAME, .m, .v,
// meta policy.step), meta ppo.<every lc_ppo_cfg field>, ppo.global_step,
// ppo.iteration, ppo.wall_s, ppo.rn.count/mean/var (reward scaling), env.name,
// env.params, env.max_episode_steps, env.action_repeat, env.frame_stack,
// env.render_w/h, and tensor ppo.rng (2, 4) i64: the acting and minibatch
// xoshiro256** states.
int lc_ppo_checkpoint(lc_ppo *t, const char *path, lc_error *err);
// Rebuilds a trainer from a checkpoint; the env is made again from the saved name
// and options (env_opts may override num_threads only; NULL = saved).
// total_steps > 0 replaces the saved total (anneal schedule follows the new total).
int lc_ppo_resume(lc_ppo **out, const char *path, int64_t total_steps, lc_error *err);

// Where lc_ppo_train writes checkpoints (copied; NULL = none) and how often
// (iterations, 0 = at the end only). LC_ERR_ARG for a path over 1023 bytes.
int lc_ppo_set_checkpoint(lc_ppo *t, const char *path, int64_t every, lc_error *err);

// Train until done; checkpoints every cfg->checkpoint_every iterations and at the end
// when cfg->checkpoint_path is set. cb (may be NULL) sees every iteration's stats
// and may return non-zero to stop early.
typedef int (*lc_ppo_callback)(void *ctx, const lc_ppo_stats *stats);
int lc_ppo_train(lc_ppo *t, lc_ppo_callback cb, void *ctx, lc_error *err);

// ---------------------------------------------------------------- evaluation

typedef struct lc_eval_result {
    int episodes;
    double mean, std, min, max; // of episode returns (raw rewards)
    double mean_length;
} lc_eval_result;

// Runs p in env_name for `episodes` episodes (spread evenly over min(episodes, 16)
// envs, so short episodes are not over-counted), seeded with seed, applying the
// policy's obs normalisation (frozen). opts may be NULL (defaults).
int lc_evaluate(lc_policy *p, const char *env_name, const lc_env_opts *opts, int episodes,
                uint64_t seed, int deterministic, lc_eval_result *res, lc_error *err);
// The same in a caller's env (its obs normalisation is the caller's business); resets
// it with seed. Each of its num_envs copies runs ceil(episodes / num_envs) episodes
// at most until `episodes` have been counted.
int lc_evaluate_env(lc_policy *p, lc_env *env, int episodes, uint64_t seed, int deterministic,
                    lc_eval_result *res, lc_error *err);

// ---------------------------------------------------------------- partially observed envs

// Registers "CartPoleNoVel-v1" (env/pomdp.h: CartPole-v1 without its velocities),
// for recurrent policies. Idempotent; called by lc_ppo_new, lc_evaluate and
// lc_ppo_cfg_for_env. Kept for callers: the env lives in env/pomdp.c.
static inline void lc_policy_register_envs(void) { lc_env_register_pomdp(); }

LC_API_END

#endif
