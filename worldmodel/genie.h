// worldmodel/genie.h: a Genie-style world learned from unlabelled frames: a latent action
// model (LAM, VQ-VAE over frame triples), a pixel dynamics model with reward and episode-end
// heads, and the playable env behind "dream:GENIE.lucid". Leaves out: the token design (a VQ
// tokenizer and sampled token dynamics: genie_tokens.h, which reuses this LAM), MaskGIT.
//
// Letters: B = batch, C = channels, R = model frame side, P = C R R (pixels per model frame),
// K = latent actions (codes), D = code dimension, E = encoder channels, N = envs.
//
// Frames are modelled at R x R (area-averaged from the data, values in [0, 1], CHW).
// LAM: encoder over [x_{t-1}, x_t, x_{t+1}, x_{t+1} - x_t] (4C channels; with enc_pool,
//   [x_t - x_{t-1}, x_{t+1} - x_t] (2C) and the last conv pooled over space):
//   conv 4x4 s2 p1 (-> E), relu, conv 4x4 s2 p1 (E -> 2E), relu, linear -> z (D)
//   -> VQ to one of K codes (zq) -> decoder: a conv stack (lc_genie_cnet) over
//   [x_{t-1}, x_t] with zq embedded and added at every position, which predicts the
//   DIFFERENCE x_{t+1} - x_t. Loss: squared error summed over the frame + codebook + beta
//   commitment (means over D), with dead-code restarts (a code unused over a window of
//   steps is set to an encoder output).
//   Why a conv decoder: an MLP decoder (the first design) cannot cheaply apply "move left"
//   wherever the paddle is, so its codes said WHERE something changed (66-71% consistency
//   on Breakout); with the action added at every position of a translation-equivariant
//   net, codes say WHAT happened (96%).
// Dynamics: the same kind of conv stack over [x_{t-1}, x_t] with the one-hot code embedded,
//   predicting the frame difference; a distribution over the data's reward values (the
//   env pays its expectation) and an episode-end logit come from a linear head on its
//   second layer pooled over space (mean and max). A regression head clamped to the data's
//   range (the first design) paid 0.1 per step for random play where the data had 0.008:
//   clamping zero-mean noise at 0 is a positive bias a policy then farms.
//   Trained on the frozen LAM's codes. At play time only the LAM's codes are used.
#ifndef LC_WORLDMODEL_GENIE_H
#define LC_WORLDMODEL_GENIE_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/frames.h"

LC_API_BEGIN

#define LC_GENIE_MAX_RVALS 16 // reward classes at most

typedef struct lc_genie_cfg {
    int res;          // R, model frame side; must divide the data's side (16)
    int n_codes;      // K (8)
    int code_dim;     // D (16)
    int enc_ch;       // E (16)
    int lam_hidden;   // decoder conv channels (32)
    int dyn_hidden;   // dynamics conv channels (32)
    float beta;       // commitment weight (0.25)
    float lr;         // Adam (1e-3)
    int batch;        // B (64)
    int lam_steps;    // LAM training steps (2000)
    int dyn_steps;    // dynamics training steps (2000)
    int restart_window; // steps over which an unused code is restarted (100; 0 = never)
    int enc_pool;     // 1: the encoder sees differences and pools its last conv over space, so a
                      // code cannot say where (measured 94% vs 96%); 0: flattens (0)
    float holdout;    // fraction of frames (the tail) kept out of training (0.1)
    int horizon;      // the dream's time limit (200)
    int max_starts;   // start contexts stored in the checkpoint (1024)
    int start_anywhere; // 1: the dream starts from any two consecutive frames of the data
                        // (short branched rollouts, as MBPO); 0: from episode starts only (1)
    float dyn_noise;  // std of Gaussian noise on the dynamics' input frames in training, the
                      // targets staying clean, so it learns to repair its own errors (0)
    int dyn_unroll;   // half the dynamics batches predict from the model's own frames, 1..this
                      // steps after the last real pair (forward only), so that long dreams
                      // do not drift off the data (4; 0 = always from real frames)
    int dyn_l1;       // 1: the frame loss is absolute error (a median predictor), 0: squared (0)
    float rare_code;  // a code that fewer than rare_code / K of the training transitions use
                      // is, in the dream, an alias of its nearest used code (0.25; 0: only the
                      // codes the data never uses)
    uint64_t seed;    // 1
} lc_genie_cfg;

lc_genie_cfg lc_genie_cfg_default(void);

// A stack of 3x3 "same" convolutions over R x R maps: IC -> HC (relu) -> HC (relu) -> OC,
// conditioned on a vector per sample (a latent action, CD) that is embedded (wc) and added
// to the first layer's pre-activations at every position, as Genie adds its action
// embedding to every token. Translation-equivariant: an action moves a thing the same way
// wherever the thing is. w[l] (out, in, 3, 3), b[l] (out), wc (HC, CD).
typedef struct lc_genie_cnet {
    int IC, HC, OC, R, CD;
    int w[3], b[3], wc;
} lc_genie_cnet;

// Initialises a conv stack: Kaiming for the hidden layers and the embedding, the output
// layer's weights scaled by out_gain (small: the net starts by predicting no change).
void lc_genie_cnet_init(const lc_genie_cnet *n, lc_params *p, float out_gain, lc_rng *rng);
// (worldmodel/genie_cnet.c) Registers the tensors NAME.wc, NAME.c{1,2,3}{w,b} in p.
void lc_genie_cnet_define(lc_genie_cnet *n, lc_params *p, const char *name, int IC, int HC,
                          int OC, int R, int CD);
// Floats of activations (a1, a2, out) for batch B; of the im2col column; of backward scratch.
size_t lc_genie_cnet_act_size(const lc_genie_cnet *n, int B);
size_t lc_genie_cnet_col_size(const lc_genie_cnet *n);
size_t lc_genie_cnet_work_size(const lc_genie_cnet *n, int B);
// Forward: in (B, IC, R, R), cond (B, CD) -> returns out (B, OC, R, R) inside acts (after
// a1 (B, HC, R, R) and a2 (B, HC, R, R), both after their relu).
const float *lc_genie_cnet_forward(const lc_genie_cnet *n, const lc_params *p, float *acts,
                                   float *col, const float *in, const float *cond, int B);
// Backward: dout (B, OC, R, R); grads accumulate into p->grads; din (B, IC, R, R) and
// dcond (B, CD) are overwritten when not NULL; da2 (like a2, may be NULL) is a gradient
// arriving at the second layer's output from elsewhere (a head). work: work_size floats.
void lc_genie_cnet_backward(const lc_genie_cnet *n, lc_params *p, float *work, float *col,
                            const float *acts, const float *in, const float *cond,
                            const float *dout, const float *da2, float *din, float *dcond, int B);

typedef struct lc_genie {
    lc_genie_cfg cfg;
    char env_name[256];
    int C, R, P;
    int game_h, game_w, game_c, n_real_actions;
    int n_rvals;                      // NR reward classes
    float rvals[LC_GENIE_MAX_RVALS]; // their values (the data's distinct rewards, or bins)
    // LAM
    lc_params lam;
    int IC;                             // encoder input channels
    int c1w, c1b, c2w, c2b, lw, lb, cb; // conv1 (E, 4C, 4, 4), conv2 (2E, E, 4, 4),
                                        // linear (D, F), codebook (K, D)
    int H1, H2, F;                      // R/2, R/4, F = 2E H2 H2
    lc_genie_cnet dec; // LAM decoder: [x_{t-1}, x_t] (2C), cond zq (D) -> the difference (C)
    // dynamics
    lc_params dyn;
    lc_genie_cnet dn; // [x_{t-1}, x_t] (2C), cond one-hot code (K) -> the difference (C)
    int hw, hb;       // heads on dn's second layer pooled over space: (2, 2 HC), (2)
    // start contexts (S, 2, P): (x_{t-1}, x_t) pairs from episode starts in the data
    size_t n_starts;
    float *starts;
    // training record
    double lam_train_s, dyn_train_s, peak_rss_mb;
    double lam_loss, dyn_loss;
    int64_t train_frames;
    int64_t restarts; // dead-code restarts done
    float halt_disagree; // with halt=P, the dream halts where dynamics and LAM decoder disagree more
    // The dream's action k plays code code_alias[k]: k itself where the data uses it, else
    // the used code nearest in the codebook (the dynamics barely saw a rare code: the dream
    // would be the model's guess, and an agent finds such guesses and exploits them).
    uint8_t code_alias[256]; // (K)
} lc_genie;

// Builds an untrained model for frames of C channels (side R = cfg.res) of a game.
int lc_genie_new(lc_genie **out, const lc_genie_cfg *cfg, int C, const lc_frames *like,
                 lc_error *err);
void lc_genie_free(lc_genie *g);

// A frame (side S, HWC u8) area-averaged to the model's R into CHW floats in [0, 1].
void lc_genie_prep(const lc_genie *g, const uint8_t *frame, int S, float *out);
// Converts all frames of fr into (N, P) model frames (malloc'd).
int lc_genie_prep_all(const lc_genie *g, const lc_frames *fr, float **out, lc_error *err);
// Index t is a valid triple centre when t-1, t, t+1 are one episode's consecutive frames.
int lc_genie_triple_ok(const lc_frames *fr, size_t t);

// Training. progress (may be NULL) is called every 100 steps with (phase 0 = LAM,
// 1 = dynamics, step, loss); returning non-zero stops. Uses frames [0, train_end).
typedef int (*lc_genie_progress)(void *ctx, int phase, int step, double loss);
int lc_genie_train(lc_genie *g, const lc_frames *fr, const float *X, lc_genie_progress cb,
                   void *ctx, lc_error *err);

// Losses of one batch (triple centres t) with their gradients written into g->lam.grads /
// g->dyn.grads (zeroed first); for gradient checks. The LAM's is the straight-through
// estimate (exact for the decoder). codes (B, may be NULL) receives the LAM's codes.
double lc_genie_lam_loss(lc_genie *g, const float *X, const size_t *t, int B, int *codes);
double lc_genie_dyn_loss(lc_genie *g, const lc_frames *fr, const float *X, const size_t *t,
                         const int *codes, int B);

// LAM inference: codes (B) for B triples given as X rows (N, P) and centre indices t.
// LC_ERR_NOMEM (codes all 0) when its buffers cannot be allocated.
int lc_genie_infer(const lc_genie *g, const float *X, const size_t *t, int B, int *codes);
// The labelled transitions of the latent -> real map: the first n triple centres t (into
// t) of frames [0, end) (eval-genie's training part, or all of an expert's frames); returns
// how many there are (fewer than n when the frames hold fewer).
int lc_genie_label_first(const lc_frames *fr, size_t end, int n, size_t *t);
// The latent -> real map from n labelled transitions (triple centres t; their true actions
// fr->actions[t + 1]): each code goes to the action it was most often seen with (0 if
// never seen). map has K entries. LC_ERR_NOMEM leaves map all 0.
int lc_genie_label_map(const lc_genie *g, const float *X, const lc_frames *fr, const size_t *t,
                       int n, int *map);
// The dream and the real game in lockstep under the same play: M envs of the real game
// take one random real step from reset; the dream starts from those two frames; then each
// step the dream takes a latent action and the real game its real action (map). Each
// window ends when either side's episode ends, or after W steps. The held-out metrics feed
// the dynamics the LAM's codes of real transitions; this measures what PPO in the dream
// learns from: whether the dream's rewards and ends are the real game's for the same play.
// Actions: with choose NULL, uniform over the K latent actions played as their aliases (a
// policy in the dream at the start of training); otherwise choose(ctx, obs, M, first,
// actions, err) picks actions in [0, n_actions) (a dream's action space: K, or the played
// codes' count) from the dream's frames obs (M, game_h, game_w, game_c u8, as the dream env
// shows them; first[i] = 1 at a window's first step); its error stops the run.
// LC_ERR_ARG, LC_ERR_SHAPE (the game's frames are not the model's, or its actions are not
// discrete), LC_ERR_ACTION (a chosen action out of range), LC_ERR_NOMEM, or the real env's
// errors (its name must be registered).
typedef int (*lc_genie_chooser)(void *ctx, const uint8_t *obs, int M, const uint8_t *first,
                                int32_t *actions, lc_error *err);
typedef struct lc_genie_lockstep {
    int windows;      // windows played (a real episode ending at the first step is none)
    double real_ret;  // mean real return per window
    double dream_ret; // mean dream return per window (the reward head's expected rewards)
    double agree;     // fraction of windows whose returns differ by < 0.5
    double end_agree; // fraction whose ends agree (same step, or neither within W)
} lc_genie_lockstep;
int lc_genie_run_lockstep(const lc_genie *g, const int *map, int M, int W, uint64_t seed,
                          lc_genie_chooser choose, void *ctx, int n_actions,
                          lc_genie_lockstep *out, lc_error *err);
// Episodes of the real game (g->env_name, 8 envs reset from seed) played with the dream's
// actions: choose (as above) picks actions in [0, n_actions) from the real frames as the
// dream shows them (lc_genie_view; first[i] = 1 at an episode's first step), each plays
// its code (lc_genie_action_code) and the game takes map[code]. With choose NULL: uniform
// random real actions (fixed < 0) or the real action fixed. Mean and sd of the first
// episodes' returns. LC_ERR_ARG, LC_ERR_SHAPE (as above), LC_ERR_ACTION,
// LC_ERR_NOMEM, the chooser's and the env's errors.
int lc_genie_play_real(const lc_genie *g, const int *map, lc_genie_chooser choose, void *ctx,
                       int n_actions, int fixed, int episodes, uint64_t seed, double *mean,
                       double *sd, lc_error *err);
// Sets g->code_alias from the LAM's codes of n training transitions (cfg.rare_code).
void lc_genie_set_aliases(lc_genie *g, const int *codes, size_t n);
// The codes the dream plays (those that alias to themselves), ascending, into played (K
// entries); returns their count (>= 1: a code's alias plays itself).
int lc_genie_played_codes(const lc_genie *g, int *played);
// The code the dream plays for action a (in [0, n_actions)) of a dream whose action space
// has n_actions: K (actions=all): code_alias[a]; the played codes' count (actions=played):
// the a-th played code. (Both agree where no code is aliased.)
int lc_genie_action_code(const lc_genie *g, int n_actions, int a);
// Dynamics: next frames (B, P) (clamped to [0, 1]), rewards (B), end logits (B) from
// prev (B, P), cur (B, P), codes (B), each played as code_alias[code] (as the dynamics
// was trained). work: lc_genie_dyn_work(g, B) floats.
size_t lc_genie_dyn_work(const lc_genie *g, int B);
void lc_genie_dyn_step(const lc_genie *g, float *work, const float *prev, const float *cur,
                       const int *codes, int B, float *next, float *rewards, float *end_logits);

// Disagreement of the dynamics' next frames (B, P) with the LAM decoder's for the same
// context and latent actions (played as their aliases): d (B) = mean squared difference
// per pixel. Two nets trained
// on the same transitions agree on the data and drift apart off it (a two-member ensemble
// for free). work: lc_genie_disagree_work(g, B) floats.
size_t lc_genie_disagree_work(const lc_genie *g, int B);
void lc_genie_disagree(const lc_genie *g, float *work, const float *prev, const float *cur,
                       const int *codes, int B, const float *next, float *d);

// Checkpoint (kind "genie"): meta cfg.*, env, shapes, training record, dream.halt_disagree;
// tensors lam.*, dyn.* (lc_params_to_file), starts (S, 2, P), reward_values (NR, f32) and
// code_alias (K, i32; files without it: every code plays itself). Loading validates all
// and refuses what the model does not use: exactly the tensors and shapes its cfg implies,
// every meta value of its type and range (LC_ERR_FORMAT, SHAPE, NAN, NOTFOUND naming it).
int lc_genie_save(const lc_genie *g, const char *path, lc_error *err);
// The same into a new in-memory container (*out NULL on failure).
int lc_genie_to_file(const lc_genie *g, lc_file **out, lc_error *err);
int lc_genie_load(lc_genie **out, const char *path, lc_error *err);
// The same from an in-memory file (*out NULL on failure).
int lc_genie_from_file(lc_genie **out, const lc_file *f, lc_error *err);
// 1 if path is a readable lucid file of kind "genie" (for the dream: dispatch).
int lc_genie_file_is(const char *path);

// The env behind "dream:GENIE.lucid" (dispatched to by lc_dream_env_ctor): obs uint8 at
// the game's (H, W, C) (nearest upsampling of the model's frames), Discrete(K) latent
// actions, starts from the stored contexts, reward and end from the heads (end when
// sigmoid > 0.5), time limit cfg.horizon (params: horizon=H overrides). Action k plays
// code code_alias[k]. With params halt=PENALTY (default off), where the disagreement
// exceeds halt_disagree (its largest on the training data) the episode ends with reward
// -PENALTY, MOReL's halt state. With relabel=1 (default 0) the LAM reads each generated
// step, and where it reads another action than the one played (a move into a wall, which
// the data only shows as "nothing moved"), the step is generated again with that action.
// With actions=played (default actions=all), the action space is Discrete(number of played
// codes): the aliases are left out (measured on Catch: PPO learns as fast as on the real
// game with 3 actions, and about 15k steps later with the 8 of which 5 repeat others).
// (lc_dream_env_ctor reads the file once and makes this env; worldmodel/genie_impl.h.)

// What the dream shows of a real game frame (game_h x game_w x C u8, square): area-averaged
// to the model's side and upsampled back, into out (same shape). A controller trained in
// the dream sees real frames through this in the real game. work: P floats.
void lc_genie_view(const lc_genie *g, const uint8_t *frame, float *work, uint8_t *out);

// "dream:PATH?PARAMS" (or "PATH?PARAMS") -> path (n bytes) and params (NULL when none).
int lc_genie_dream_path(const char *name, char *path, size_t n, const char **params,
                        lc_error *err);
// The reward class (index into rvals) nearest to r.
int lc_genie_reward_class(const lc_genie *g, float r);
// 1 if frames (r, r + 1) can start a dream: r + 1 goes on in r's episode, and (unless
// anywhere) r starts an episode.
int lc_genie_start_ok(const lc_frames *fr, size_t r, int anywhere);

// Peak resident memory of this process in MiB (getrusage).
double lc_genie_peak_rss_mb(void);

LC_API_END

#endif
