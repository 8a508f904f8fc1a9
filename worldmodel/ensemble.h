// worldmodel/ensemble.h: a probabilistic ensemble of MLP dynamics models (PETS / MBPO).
// Each member maps a normalised [obs, encoded action] to a Gaussian over the normalised
// (delta obs, reward) with soft-bounded log-variance (PETS' learned max/min log-variance).
// Members train on bootstrap resamples with Adam and early stopping; the best by
// validation loss are the elites. Termination is a separate classifier: an MLP from the
// normalised NEXT observation to a logit (BCE), so it judges the state the model
// actually samples, and its gradients are not drowned by the Gaussian likelihood's
// (a logit head on the dynamics members learned nothing better than the base rate).
// Leaves out: recurrent / latent models, pixel observations.
//
// Letters: E = members, O = obs_size, I = input size (O + encoded action: one-hot for
// Discrete and MultiDiscrete, raw floats for Box), Y = O + 1 (the Gaussian's targets:
// delta obs then reward), OUT = 2 Y (mean, raw log-variance), H = hidden size,
// HT = the termination classifier's hidden size, N = rows in a batch.
#ifndef LC_WORLDMODEL_ENSEMBLE_H
#define LC_WORLDMODEL_ENSEMBLE_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/dataset.h"

LC_API_BEGIN

#define LC_WM_VERSION 1
#define LC_WM_MAX_MEMBERS 12

typedef struct lc_wm_config {
    int members;        // E (5)
    int elites;         // members kept for prediction, best by validation loss (3)
    int hidden;         // H (200)
    int layers;         // hidden layers (3)
    lc_act act;         // hidden activation (silu, as PETS' swish)
    int epochs;         // most epochs (100); training stops earlier on validation loss
    int patience;       // stop after this many epochs with no member improving by > 1% (5)
    int batch;          // rows per member per step (256)
    float lr;           // Adam (1e-3)
    float weight_decay; // AdamW decoupled decay (0)
    float val_frac;     // held-out fraction of rows (0.2), at most val_max rows (5000)
    int val_max;
    int max_starts;     // episode start observations kept in the model (10000)
    int max_states;     // real states kept for branched starts (10000; 0 = none)
    int term_hidden;    // HT: the termination classifier's two hidden layers (64)
    uint64_t seed;
} lc_wm_config;

lc_wm_config lc_wm_config_default(void);

// Figures on held-out or other data. MSEs are in raw observation units, averaged
// over rows (or windows and steps) and dimensions, with predictions from the mean
// of the elites' means; the "trivial" predictor says nothing changes (next = obs).
typedef struct lc_wm_eval {
    size_t rows;
    double mse, mse_trivial;     // one-step next-observation MSE
    double nmse;                 // mse divided by the mean per-dimension variance of next obs
    double reward_mse;
    double term_acc;             // termination accuracy (classifier on the predicted next obs)
    int horizon;                 // open-loop horizon (0 = not measured)
    size_t windows;              // open-loop windows used
    double ol_mse, ol_mse_trivial; // open-loop MSE over steps 1..horizon (actions from the data)
} lc_wm_eval;

typedef struct lc_ensemble {
    char env_name[256];
    lc_space obs_space, act_space;
    int max_episode_steps;       // the real env's time limit (0 = none)
    int E, n_elites;
    int elites[LC_WM_MAX_MEMBERS];
    int O, in_size, Y, OUT, hidden, layers; // O, I, Y, OUT
    lc_act act;
    lc_params params;            // every member in one arena (tensors mK.*)
    lc_mlp mlp[LC_WM_MAX_MEMBERS];
    lc_mlp term;                 // termination classifier O -> HT -> HT -> 1 (tensors term.*)
    int term_hidden;
    int maxlv[LC_WM_MAX_MEMBERS], minlv[LC_WM_MAX_MEMBERS]; // param indices, (Y) each
    float *in_mean, *in_std;     // (I)
    float *out_mean, *out_std;   // (Y)
    float *starts;               // (S, O) episode start observations from the data
    size_t n_starts;
    float *states;               // (M, O) real states for branched starts, may be NULL
    size_t n_states;
    lc_wm_eval val;              // one-step figures on the held-out split at training
    int epochs_run;
    size_t train_rows, val_rows;
} lc_ensemble;

// Called after every training epoch (may be NULL); a non-zero return stops training.
typedef struct lc_wm_epoch {
    int epoch, epochs;           // 1-based epoch, the most there may be
    double train_loss;           // mean minibatch loss over members (NLL + BCE + bound)
    double val_loss, best_val;   // mean over members of the held-out loss now / best
    int improved;                // members that improved by > 1% this epoch
} lc_wm_epoch;
typedef int (*lc_wm_epoch_fn)(void *ctx, const lc_wm_epoch *e);

// Trains a new ensemble on ds (at least 10 rows). *out is NULL on failure.
int lc_ensemble_train(lc_ensemble **out, const lc_dataset *ds, const lc_wm_config *cfg,
                      lc_wm_epoch_fn cb, void *cb_ctx, lc_error *err);
void lc_ensemble_free(lc_ensemble *m);

// Container kind "worldmodel" (see ensemble.c for the fields); reading validates all.
int lc_ensemble_save(const lc_ensemble *m, const char *path, lc_error *err);
int lc_ensemble_load(lc_ensemble **out, const char *path, lc_error *err);
int lc_ensemble_to_file(const lc_ensemble *m, lc_file *f, lc_error *err);
int lc_ensemble_from_file(lc_ensemble **out, const lc_file *f, lc_error *err);

// ---------------------------------------------------------------- inference

// Floats of activation scratch needed by lc_ensemble_forward for N rows.
size_t lc_ensemble_act_size(const lc_ensemble *m, int N);
// x (N, I) = normalised [obs (N, O), encoded actions (N, act_size)]. Discrete actions
// must be valid (asserted); Box actions are used as given.
void lc_ensemble_encode(const lc_ensemble *m, const float *obs, const void *actions, int N,
                        float *x);
// Member e on x (N, I): mu (N, Y) normalised mean, logvar (N, Y) bounded normalised
// log-variance; either may be NULL. acts: scratch.
void lc_ensemble_forward(const lc_ensemble *m, int e, float *acts, const float *x, int N,
                         float *mu, float *logvar);
// Termination logits (N) of raw next observations (N, O); z: (N, O) scratch, acts:
// lc_ensemble_act_size scratch. Terminated means logit > 0 (sigmoid > 0.5).
void lc_ensemble_term_logit(const lc_ensemble *m, float *acts, float *z, const float *next_obs,
                            int N, float *logit);
// Raw next observation (N, O) and reward (N) from the mean of the elites' means (the
// deterministic prediction used by lc_ensemble_evaluate), clamped into finite obs bounds.
// work: lc_ensemble_predict_work(m, N) floats.
size_t lc_ensemble_predict_work(const lc_ensemble *m, int N);
void lc_ensemble_predict_mean(const lc_ensemble *m, float *work, const float *obs,
                              const void *actions, int N, float *next_obs, float *reward,
                              float *term_prob);
// Clamps rows of observations into the finite bounds of the obs space.
void lc_ensemble_clamp_obs(const lc_ensemble *m, float *obs, int N);

// One-step figures on every row of ds and, with horizon > 0, open-loop figures on up
// to max_windows windows of horizon consecutive steps within one trajectory.
int lc_ensemble_evaluate(const lc_ensemble *m, const lc_dataset *ds, int horizon,
                         int max_windows, lc_wm_eval *out, lc_error *err);

LC_API_END

#endif
