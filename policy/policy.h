// policy/policy.h: actor-critic policies over any lc_env's spaces: MLP, MLP with
// layer norm, GRU and CNN trunks; categorical (Discrete, MultiDiscrete) and diagonal
// Gaussian (Box) heads; acting on N envs, training passes for PPO, save/load.
// Leaves out: squashed (tanh) Gaussians, Beta heads, dict/tuple spaces, LSTMs.
//
// Letters: N = env slots acted on at once, T = rollout steps, B = sequences (env
// columns) in a training pass, O = obs elements per row (lc_space_size(obs)),
// A = action elements per row (1 for Discrete, components for MultiDiscrete, dims
// for Box), L = action-head outputs (n, sum of nvec, or Box dims), S = recurrent
// state floats per env slot (0 for feed-forward policies), F = trunk features.
//
// Observations are passed in the env's raw row layout: float rows for float Box
// spaces, uint8 rows (H, W, C) for image spaces (the CNN scales them by 1/255).
// Actions come out as the env wants them: int32 rows for Discrete/MultiDiscrete,
// float rows for Box. Box actions are sampled from the UNSQUASHED Gaussian
// N(mean, exp(log_std)) and the env clips them into the box (as CleanRL's
// ppo_continuous_action.py); log-probs are of the unclipped sample.
//
// Network: trunk (the arch) -> features -> actor head (linear F -> L) and critic
// head (linear F -> 1). Orthogonal init: hidden layers gain sqrt(2), actor head
// 0.01, critic head 1.0, biases 0; Gaussian log-std is one state-independent
// parameter per action dim, initialised to cfg.log_std_init (0).
//
// Observation normalisation is done by the env (lc_env_opts.normalize_obs); the
// policy CARRIES the statistics (count/mean/var, clip) so that an evaluation in
// another env (real or dream:) applies the same normalisation: make that env with
// lc_policy_env_opts() and call lc_policy_sync_env() after lc_env_make.
//
// A policy is used by one thread at a time (it keeps per-slot state and scratch).
//
// ---- Adding an architecture (one file) ----
// Write policy/arch_NAME.c defining `const lc_policy_arch lc_arch_NAME = {...}`
// (the vtable below: define the trunk's tensors, init them, forward over (T, B)
// rows, backward adding into the gradients), then add `&lc_arch_NAME` to the
// table in policy/arch.c (one line). Programs outside the library may instead call
// lc_policy_arch_register() at startup. Feed-forward archs treat the T*B rows as
// one batch and ignore reset/state; recurrent ones set dims->state_size > 0 and
// must honour reset (state multiplied by 0 before a step whose reset is 1).
// policy/arch_mlp.c is the smallest example.
#ifndef LC_POLICY_POLICY_H
#define LC_POLICY_POLICY_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "core/rng.h"
#include "env/env.h"
#include "nn/nn.h"

LC_API_BEGIN

// ---------------------------------------------------------------- config

#define LC_POLICY_MAX_HIDDEN 6
#define LC_POLICY_ARCH_NAME 16

typedef struct lc_policy_cfg {
    char arch[LC_POLICY_ARCH_NAME]; // "mlp" (default), "mlp-ln", "gru", "cnn"
    int nhidden;                    // hidden layers of each trunk MLP (default 2)
    int hidden[LC_POLICY_MAX_HIDDEN]; // their widths (default 64, 64)
    lc_act act;                     // hidden activation (default tanh)
    int shared;                     // 1: actor and critic share the trunk; 0: two
                                    // separate trunks (default, as CleanRL's MLP).
                                    // gru and cnn always share.
    int rnn_hidden;                 // gru: recurrent state size (default 128)
    int cnn_features;               // cnn: width of the linear layer after the convs (256)
    float log_std_init;             // Box: initial log std (0)
    float hidden_gain, pi_gain, v_gain; // orthogonal init gains (sqrt 2, 0.01, 1)
} lc_policy_cfg;

lc_policy_cfg lc_policy_cfg_default(void);
// "64,64" -> nhidden 2, hidden {64, 64}. LC_ERR_ARG on a bad list.
int lc_policy_cfg_parse_hidden(lc_policy_cfg *cfg, const char *s, lc_error *err);

// ---------------------------------------------------------------- architectures

typedef struct lc_policy_dims {
    int fpi, fv;     // features feeding the actor and critic heads (fv = fpi when shared)
    int shared;      // 1: the critic reads the actor's features
    int state_size;  // S: recurrent floats per env slot (0 = feed-forward)
} lc_policy_dims;

typedef struct lc_policy_arch {
    const char *name;    // as in lc_policy_cfg.arch
    const char *summary; // one line for --help
    // Registers the trunk's tensors in params (names "trunk.*"), before allocation.
    // obs_space is the env's; *self receives the arch's private data (may stay NULL).
    int (*define)(void **self, lc_params *params, const lc_space *obs_space,
                  const lc_policy_cfg *cfg, lc_policy_dims *dims, lc_error *err);
    // After allocation: initialises the trunk's tensors (orthogonal, cfg gains).
    void (*init)(void *self, lc_params *params, const lc_policy_cfg *cfg, lc_rng *rng);
    // Floats of activation memory for a pass over T x B rows.
    size_t (*acts_size)(void *self, int T, int B);
    // Forward over T steps of B sequences. x (T, B, O) float (uint8 observations
    // arrive as 0..255 floats), reset (T, B) or NULL, state0 (B, S), state_out (B, S)
    // or NULL (recurrent only). Sets *fpi (T*B, fpi) and *fv (T*B, fv) to memory
    // inside acts (*fv == *fpi when shared).
    void (*forward)(void *self, const lc_params *params, float *acts, const float *x,
                    const uint8_t *reset, const float *state0, float *state_out, int T, int B,
                    float **fpi, float **fv);
    // Backward from dfpi (T*B, fpi) and dfv (T*B, fv) (dfv NULL when shared: dfpi then
    // holds the sum). Adds into params->grads. work: acts_size(T, B) floats of scratch.
    void (*backward)(void *self, lc_params *params, float *work, const float *acts,
                     const float *x, const uint8_t *reset, const float *state0,
                     const float *dfpi, const float *dfv, int T, int B);
    void (*destroy)(void *self); // may be NULL
} lc_policy_arch;

// Built-in table plus registered ones; NULL when unknown.
const lc_policy_arch *lc_policy_arch_find(const char *name);
int lc_policy_arch_count(void);
const lc_policy_arch *lc_policy_arch_at(int i);
// Adds (or replaces by name) an architecture; process-wide. LC_ERR_SIZE when full.
int lc_policy_arch_register(const lc_policy_arch *a);

// ---------------------------------------------------------------- the policy

typedef struct lc_policy lc_policy;

// Unknown arch, unsupported spaces (e.g. cnn on a flat obs) are LC_ERR_ARG /
// LC_ERR_UNSUPPORTED. The same seed gives the same initial parameters.
int lc_policy_new(lc_policy **out, const lc_space *obs_space, const lc_space *act_space,
                  const lc_policy_cfg *cfg, uint64_t seed, lc_error *err);
void lc_policy_free(lc_policy *p); // NULL is fine

const lc_policy_cfg *lc_policy_get_cfg(const lc_policy *p);
const lc_space *lc_policy_obs_space(const lc_policy *p);
const lc_space *lc_policy_act_space(const lc_policy *p);
int lc_policy_obs_size(const lc_policy *p);   // O
int lc_policy_act_size(const lc_policy *p);   // A
int lc_policy_state_size(const lc_policy *p); // S (0: feed-forward)
// The parameter arena (params, grads, Adam moments, step). Weights for a remote
// worker are params->params[0 .. n); the table is the same for the same cfg+spaces.
lc_params *lc_policy_params(lc_policy *p);
size_t lc_policy_nparams(const lc_policy *p);
// The env name the policy was trained on ("" if unknown); saved with it.
const char *lc_policy_env_name(const lc_policy *p);
void lc_policy_set_env_name(lc_policy *p, const char *name);

// ---- acting

// Acts for N env slots. obs (N, O) raw rows; episode_start (N) or NULL: 1 where
// obs row i is the first of an episode (recurrent state of slot i is zeroed first).
// deterministic: argmax / Gaussian mean instead of sampling (rng unused then, may
// be NULL). Outputs (each may be NULL): actions (N, A) int32 or float, logp (N),
// value (N). The recurrent state of slot i (0 <= i < N) advances; slots grow as
// needed. LC_ERR_NAN if the network produced a non-finite value, LC_ERR_NOMEM.
int lc_policy_act(lc_policy *p, const void *obs, int N, const uint8_t *episode_start,
                  int deterministic, lc_rng *rng, void *actions, float *logp, float *value,
                  lc_error *err);
// A policy as an action callback for code below policy/ that hands out observation rows
// (the shape of worldmodel's lc_genie_chooser): ctx is an lc_policy_sampler; sampled
// actions (N) from its rng, as in training.
typedef struct lc_policy_sampler {
    lc_policy *p;
    lc_rng rng;
} lc_policy_sampler;
int lc_policy_sample_cb(void *ctx, const uint8_t *obs, int N, const uint8_t *episode_start,
                        int32_t *actions, lc_error *err);
// Critic only, for bootstrapping: value (N) of obs rows (N, O) from each slot's
// CURRENT state without advancing it (call it after lc_policy_act(t) on
// final_obs(t) rows). mask (N) or NULL: rows to compute (others get 0).
int lc_policy_value(lc_policy *p, const void *obs, int N, const uint8_t *mask, float *value,
                    lc_error *err);
// Recurrent state of slots [0, N): copy out / in (N, S); reset zeroes all slots.
void lc_policy_get_state(lc_policy *p, float *state, int N);
int lc_policy_set_state(lc_policy *p, const float *state, int N, lc_error *err);
void lc_policy_reset_state(lc_policy *p);

// ---- training passes (used by PPO; one pass is live at a time)

// Evaluates stored actions on T steps of B sequences: obs (T, B, O) raw,
// actions (T, B, A), starts (T, B) or NULL (episode starts: recurrent resets),
// state0 (B, S) or NULL (zeros). Outputs (T*B each): logp, entropy, value.
// Keeps the activations for one following lc_policy_backward.
int lc_policy_evaluate(lc_policy *p, const void *obs, const void *actions,
                       const uint8_t *starts, const float *state0, int T, int B, float *logp,
                       float *entropy, float *value, lc_error *err);
// Adds d(loss)/d(params) into lc_policy_params(p)->grads given d(loss)/d(logp),
// d(loss)/d(entropy) and d(loss)/d(value) (T*B each, any may be NULL = zeros).
void lc_policy_backward(lc_policy *p, const float *dlogp, const float *dentropy,
                        const float *dvalue);

// ---- distributions (exposed for tests and other heads)

// Categorical over V logits: log-prob of a and entropy; writes dlogits (V) += g_logp *
// dlogp/dlogits + g_ent * dH/dlogits when dlogits is not NULL.
float lc_categorical_logp(const float *logits, int V, int a);
float lc_categorical_entropy(const float *logits, int V);
// Diagonal Gaussian over D dims: log N(x; mean, exp(log_std)); entropy
// = sum(log_std) + D/2 (1 + log 2 pi).
float lc_gaussian_logp(const float *x, const float *mean, const float *log_std, int D);
float lc_gaussian_entropy(const float *log_std, int D);

// ---- observation normalisation statistics (count, mean (O), var (O), clip)

// 1 if the policy carries statistics (trained with normalize_obs).
int lc_policy_has_obs_norm(const lc_policy *p);
// Copies in statistics of n = O values. clip: the env's clip_obs.
int lc_policy_set_obs_norm(lc_policy *p, double count, const double *mean, const double *var,
                           int n, float clip, lc_error *err);
// Pointers to the stored statistics (NULL when none).
void lc_policy_obs_norm(const lc_policy *p, double *count, const double **mean,
                        const double **var, float *clip);
// Copies an env's live statistics into the policy (no-op when the env has none).
// Copies O values (or as many as the policy already holds): for an env made with
// frame_stack k, call lc_policy_set_obs_norm with n = O / k first (the trainer does).
int lc_policy_capture_obs_norm(lc_policy *p, lc_env *env, lc_error *err);
// Sets opts->normalize_obs / clip_obs as the policy was trained.
void lc_policy_env_opts(const lc_policy *p, lc_env_opts *opts);
// Writes the policy's statistics into env (made with lc_policy_env_opts) and
// freezes them; LC_ERR_SHAPE if the env's obs size differs. No-op without stats.
int lc_policy_sync_env(const lc_policy *p, lc_env *env, lc_error *err);

// ---- files (kind "policy"; docs/FORMAT.md)

// Adds the policy to f: meta policy.* (arch, widths, activation, ...), spaces
// (obs_space, act_space), tensors policy.* (params, with Adam moments and step
// when with_opt), obs_norm.mean / obs_norm.var with meta obs_norm.count/.clip.
int lc_policy_to_file(const lc_policy *p, lc_file *f, int with_opt, lc_error *err);
int lc_policy_from_file(lc_policy **out, const lc_file *f, int with_opt, lc_error *err);
int lc_policy_save(const lc_policy *p, const char *path, lc_error *err);
int lc_policy_load(lc_policy **out, const char *path, lc_error *err);

// ---- behaviour cloning, action maps, warm starts (policy/bc.c)

// Behaviour cloning: the actor learns by cross-entropy to predict labels (N, Discrete
// actions) from obs (N rows of the policy's raw layout: uint8 for image spaces, else
// float); with returns (N, may be NULL) the critic regresses them (vf_coef * 0.5 * sq.
// error), so a cloned policy starts PPO with a critic. Feed-forward Discrete policies only
// (LC_ERR_UNSUPPORTED otherwise). Minibatches drawn uniformly (seed), Adam, global grad-norm
// clip. progress (may be NULL) is called every 100 steps with the running loss; non-zero
// stops. LC_ERR_ARG for labels out of range or a bad cfg, LC_ERR_NAN.
typedef struct lc_bc_cfg {
    int steps;           // Adam steps (2000)
    int batch;           // rows per step (64)
    float lr;            // Adam learning rate (5e-4)
    float vf_coef;       // critic loss weight (0.5)
    float max_grad_norm; // (0.5, as PPO; 0 = off)
    uint64_t seed;       // minibatch draws (1)
} lc_bc_cfg;
lc_bc_cfg lc_bc_cfg_default(void);
typedef int (*lc_bc_progress)(void *ctx, int step, double loss);
// rows (N, may be NULL = 0..N-1): row i's observation is obs row rows[i] (a subset of a
// larger array, without copying it).
int lc_bc_train(lc_policy *p, const void *obs, const size_t *rows, const int32_t *labels,
                const float *returns, size_t N, const lc_bc_cfg *cfg, lc_bc_progress progress,
                void *ctx, lc_error *err);
// Fraction of the N rows whose most probable action (argmax) is labels[i] (feed-forward
// Discrete policies; acts on slots 0..255).
int lc_bc_accuracy(lc_policy *p, const void *obs, const size_t *rows, const int32_t *labels,
                   size_t N, double *accuracy, lc_error *err);

// A Discrete(n) policy from a Discrete(K) one (without observation statistics) through map
// (K entries in [0, n)): the trunk and critic are copied; the actor's row for action a is the row of
// the code k with map[k] = a of largest mass[k] (K weights >= 0, e.g. how often each code
// was a label), its bias raised by log(sum of mass over the codes mapped to a / that
// code's): exact where one code with mass maps to each action, the probabilities of the
// others folded in proportionally otherwise. An action no code with mass maps to gets
// logit -30 (never chosen). *exact (may be NULL) is 1 when no action had two codes with
// mass. LC_ERR_UNSUPPORTED for non-Discrete policies, LC_ERR_ARG for a bad map.
int lc_policy_fold_actions(lc_policy **out, const lc_policy *p, const int *map,
                           const double *mass, int n, int *exact, lc_error *err);

// Where two codes with mass share an action the folded head is approximate; this fits it to
// the exact fold: q's actor head (only) learns by cross-entropy to predict map[k] for codes
// k sampled from p (so its target is sum over k with map[k] = a of p(k | obs)) on the N
// observation rows (rows as lc_bc_train's), steps minibatches of 64, Adam at 3e-3.
int lc_policy_fold_refine(lc_policy *q, lc_policy *p, const int *map, const void *obs,
                          const size_t *rows, size_t N, int steps, uint64_t seed, lc_error *err);

// Copies src's parameters into dst (a warm start: PPO from a cloned policy). Refused
// (LC_ERR_SHAPE naming what differs) unless both have the same architecture, observation
// and action spaces and parameter table. Adam moments and obs statistics are not copied.
int lc_policy_copy_params(lc_policy *dst, const lc_policy *src, lc_error *err);

LC_API_END

#endif
