// worldmodel/genie_tokens.h: the token design of the Genie-style world (kind
// "genie_tokens"): a VQ frame tokenizer (worldmodel/tokenizer.h), the latent action model
// of worldmodel/genie.h, and dynamics that give a distribution over the next frame's tokens,
// sampled at play time, with reward and episode end read from the generated tokens.
// Leaves out: temporal attention (the context frames enter as channels of every position, so
// each position already mixes them); MaskGIT's iterative decoding is an option (maskgit > 0,
// else every token is sampled in one pass).
//
// Letters: B = batch, G = token grid side, T = G G tokens per frame, V = tokenizer codes,
// De = token embedding, HC = hidden channels, K = latent actions, NR = reward classes.
//
// Dynamics: tokens of (x_{t-1}, x_t) embedded (V, De) into (2 De, G, G); the conditioned
//   conv stack of genie.h (latent action one-hot embedded and added at every position),
//   relu, a 1x1 conv to V logits per position: p(token of x_{t+1} at each position).
//   With dyn_attn = N > 0, the conv stack's output (HC per position) plus a learned position
//   embedding (T, HC) goes through N transformer blocks (nn/attn.h: pre-norm self-attention
//   over all T positions with attn_heads heads, an MLP of 2 HC, residuals) before the relu:
//   every position sees the whole grid, not the 7x7 tokens of the conv stack.
//   Trained with cross-entropy on the real next frame's tokens; a fraction `corrupt` of
//   the previous frame's tokens are replaced by random ones (robustness to its samples).
// Heads: tokens of (x_t, x_{t+1}) embedded (V, Dh) -> conv 3x3 (2 Dh -> HH), relu, mean
//   and max over space, linear -> NR reward-class logits and an episode-end logit. Read
//   from discrete tokens, a generated frame pays only for what it shows: there is no blur
//   for a head to be paid by.
// Sampling: token logits / temperature, one draw per position from the env's own RNG
//   (temperature 0: argmax), so a seed fixes a dream.
// MaskGIT (maskgit = K > 0): the next frame's known tokens enter the conv stack as a third
//   embedded input (a table (V + 1, De) whose row V is the learned [MASK]); training masks
//   a fraction cos(pi/2 u), u ~ U[0, 1), of each sample's positions (at least one) and takes
//   the loss on the masked ones. Play starts all masked; at step k = 0..K-1 every masked
//   position is sampled as above, the most confident draws (their probability under the
//   model, ties to the lower position) are committed so that floor(T cos(pi/2 (k+1)/K))
//   stay masked, and the rest are predicted again given them. K = 1 is one-pass sampling
//   from an all-masked input.
#ifndef LC_WORLDMODEL_GENIE_TOKENS_H
#define LC_WORLDMODEL_GENIE_TOKENS_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/tokenizer.h"

LC_API_BEGIN

typedef struct lc_gtok_cfg {
    lc_tok_cfg tok;    // the tokenizer
    int emb;           // De (32)
    int hidden;        // HC (64)
    int head_emb;      // Dh (8)
    int head_hidden;   // HH (32)
    int batch;         // (32)
    int steps;         // dynamics training steps (2000)
    float lr;          // Adam (1e-3)
    float corrupt;     // fraction of x_{t-1}'s tokens replaced at random in training (0.05)
    float temperature; // the dream's default sampling temperature (1; params temp=T)
    float changed_weight; // weight of the positions whose token changes from x_t to x_{t+1}
                          // in the dynamics' loss (the rest weigh 1): moving things are a
                          // few tokens of a frame (1: plain mean)
    int unroll;        // half the dynamics batches predict from the model's own sampled tokens,
                       // 1..unroll steps after the last real pair (forward only; the targets
                       // stay real): errors compound in long dreams otherwise (0 = off)
    int maskgit;       // MaskGIT decoding steps K (0 = one pass, no next-frame input)
    int dyn_attn;      // N transformer blocks (nn/attn.h) over the T positions after the conv
                       // stack (0 = the conv dynamics alone)
    int attn_heads;    // their heads (2; divides hidden)
    uint64_t seed;     // 1
} lc_gtok_cfg;

lc_gtok_cfg lc_gtok_cfg_default(void);

typedef struct lc_gtok lc_gtok; // opaque

// A token world around a LAM (an lc_genie whose LAM is trained or about to be; the token
// world owns it from here on, also on failure). Its cfg gives holdout, horizon, starts,
// the reward classes and the code aliases; its pixel dynamics is not used.
int lc_gtok_new(lc_gtok **out, const lc_gtok_cfg *cfg, lc_genie *lam, lc_error *err);
void lc_gtok_free(lc_gtok *g);

const lc_gtok_cfg *lc_gtok_config(const lc_gtok *g);
const lc_genie *lc_gtok_lam(const lc_gtok *g);
lc_genie *lc_gtok_lam_mut(lc_gtok *g);
const lc_tok *lc_gtok_tokenizer(const lc_gtok *g);
lc_tok *lc_gtok_tokenizer_mut(lc_gtok *g);
lc_params *lc_gtok_params(lc_gtok *g); // dynamics + heads
int lc_gtok_tokens(const lc_gtok *g);  // T
double lc_gtok_train_seconds(const lc_gtok *g, int part); // 0 tokenizer, 1 LAM, 2 dynamics
double lc_gtok_peak_mb(const lc_gtok *g);

// Replaces the dynamics and heads by fresh ones of cfg's sizes (cfg.tok is ignored: the
// tokenizer and the LAM stay), e.g. to train only the dynamics again on the same tokens.
int lc_gtok_reset_dynamics(lc_gtok *g, const lc_gtok_cfg *cfg, lc_error *err);

// Sets the dynamics' training steps, lr (when > 0) and unroll for the next lc_gtok_train,
// keeping its parameters (to train a loaded world further; Adam's moments start afresh).
int lc_gtok_set_training(lc_gtok *g, int steps, float lr, int unroll, lc_error *err);

// Sets the sampling temperature (0..100) of the dream's default and of unrolled training.
int lc_gtok_set_temperature(lc_gtok *g, float temp, lc_error *err);

// Gives the dynamics `blocks` attention blocks of `heads` heads (0 blocks: none), keeping
// every other tensor of the dynamics and heads, and the blocks it keeps when only their
// number changes: e.g. attention on top of trained conv dynamics, then trained further
// (lc_gtok_set_training). New blocks start near identity (small residual outputs).
int lc_gtok_set_attention(lc_gtok *g, int blocks, int heads, lc_error *err);

// Sets a MaskGIT world's decoding steps (1..64) for play, keeping its parameters; a
// one-pass world (maskgit 0) refuses (LC_ERR_STATE): it has no next-frame input.
int lc_gtok_set_decoding(lc_gtok *g, int steps, lc_error *err);

// Training: the tokenizer on the training frames (skip_tok: keep it as it is), then the
// LAM's codes of the training transitions (its aliases are set from them), then the
// dynamics and heads. X: the frames prepared for the LAM (lc_genie_prep_all of the LAM).
// progress (may be NULL): (phase 0 tokenizer / 2 dynamics, step, loss).
int lc_gtok_train(lc_gtok *g, const lc_frames *fr, const float *X, int skip_tok,
                  lc_genie_progress cb, void *ctx, lc_error *err);

// Loss of a batch with gradients in lc_gtok_params' grads (zeroed first), for gradient
// checks: tokens prev, cur, next (B, T), codes (B, played as aliases), reward classes
// rcls (B) in [0, NR), ends (B) 0/1. No corruption.
double lc_gtok_loss(lc_gtok *g, const int *prev, const int *cur, const int *next,
                    const int *codes, const int *rcls, const uint8_t *ends, int B);
// The same with MaskGIT's next-frame input: known (B, T) the next frame's tokens where
// known, V ([MASK]) elsewhere; the token loss is over the masked positions only (known
// NULL: all masked). Only for maskgit > 0 worlds (NAN otherwise).
double lc_gtok_loss_masked(lc_gtok *g, const int *prev, const int *cur, const int *next,
                           const int *known, const int *codes, const int *rcls,
                           const uint8_t *ends, int B);

// One dream step for B contexts: next tokens (B, T) sampled from the dynamics at
// temperature temp (0: argmax) with rngs[b] (may be NULL when temp is 0), codes played as
// code_alias[code]; rewards (B) the heads' expected reward, end_logits (B). Either output
// may be NULL. LC_ERR_NOMEM.
int lc_gtok_step(const lc_gtok *g, const int *prev, const int *cur, const int *codes, int B,
                 float temp, lc_rng *rngs, int *next, float *rewards, float *end_logits,
                 lc_error *err);
// Next-token logits (B, V, T) of the dynamics (for tests and evaluation); a MaskGIT world's
// from an all-masked next frame.
int lc_gtok_logits(const lc_gtok *g, const int *prev, const int *cur, const int *codes, int B,
                   float *logits, lc_error *err);

// Checkpoint (kind "genie_tokens"): meta gtok.cfg.* (absent in older files: maskgit 0,
// dyn_attn 0, attn_heads 2), lam.cfg.*, tok.cfg.*, the game and
// training record; tensors exactly: lam.* (the LAM's encoder, codebook and decoder), tok.*,
// tdyn.*, starts (S, 2, T) i32, reward_values (NR) f32, code_alias (K) i32. Anything else
// in the file, a missing or misshapen tensor, or a bad value is refused.
int lc_gtok_save(const lc_gtok *g, const char *path, lc_error *err);
int lc_gtok_load(lc_gtok **out, const char *path, lc_error *err);
// The same from an in-memory container (dream: reads a model file once).
int lc_gtok_from_file(lc_gtok **out, const lc_file *f, lc_error *err);
int lc_gtok_file_is(const char *path);

// The env behind "dream:FILE" for a token world (lc_dream_env_ctor dispatches): obs the
// decoded frame (game_h, game_w, game_c u8; the tokenizer's side must be the game's),
// Discrete(K) (actions=played: the played codes), starts from stored token contexts,
// params horizon=H, temp=T (>= 0), actions=all|played.
// (lc_dream_env_ctor reads the file once and makes this env; worldmodel/genie_tokens_impl.h.)

// Rollouts for evaluation: M contexts (prev, cur tokens (M, T)) played W steps with codes
// (M, W); frames out (M, W, S, S, C) u8 decoded from the sampled tokens; rewards (M, W) or
// NULL. seed fixes the draws.
int lc_gtok_rollout(const lc_gtok *g, const int *prev, const int *cur, const int *codes, int M,
                    int W, float temp, uint64_t seed, uint8_t *frames, float *rewards,
                    lc_error *err);

LC_API_END

#endif
