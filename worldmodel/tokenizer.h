// worldmodel/tokenizer.h: a frame tokenizer learned from frames alone (VQ-VAE): a square
// RGB (or any C-channel) frame becomes a G x G grid of discrete tokens from a codebook of K
// entries, and a token grid decodes back to a frame. Nothing in it knows a game.
// Leaves out: temporal (video) tokenizers, EMA codebooks, perceptual/adversarial losses.
//
// Letters: B = frames, S = frame side, C = channels, E = hidden channels, D = code
// dimension, G = S / 4 token grid side, T = G G tokens per frame, K = codebook entries.
//
// Encoder: conv 4x4 s2 p1 (C -> E), relu, conv 4x4 s2 p1 (E -> E), relu, conv 1x1 (E -> D):
//   one D-vector per 4x4 patch (with context), quantised to the nearest of K codes.
// Decoder: conv 3x3 p1 (D -> E), relu, transposed conv 4x4 s2 p1 (E -> E), relu,
//   transposed conv 4x4 s2 p1 (E -> C): the frame in [0, 1] (clamped when shown).
// Loss: squared error (mean over pixels) + codebook + beta commitment (means over B T D).
// Dead-code restarts: a code no token used over restart_window steps is moved to the
// encoder output of the current batch that its code fits worst (so the rare patches, like
// a 2-pixel ball, get codes of their own rather than the commonest ones more).
#ifndef LC_WORLDMODEL_TOKENIZER_H
#define LC_WORLDMODEL_TOKENIZER_H

#include "core/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/file.h"
#include "nn/nn.h"

LC_API_BEGIN

typedef struct lc_tok_cfg {
    int side;           // S, frame side, a multiple of 4 (64)
    int channels;       // C (3)
    int hidden;         // E (32)
    int dim;            // D (16)
    int codes;          // K (256)
    int batch;          // B in training (16)
    int steps;          // training steps (2000)
    int restart_window; // steps over which an unused code is restarted (50; 0 = never)
    float beta;         // commitment weight (0.25)
    float lr;           // Adam (2e-3)
    uint64_t seed;      // 1
} lc_tok_cfg;

lc_tok_cfg lc_tok_cfg_default(void);

typedef struct lc_tok lc_tok; // opaque

int lc_tok_new(lc_tok **out, const lc_tok_cfg *cfg, lc_error *err);
void lc_tok_free(lc_tok *t);
const lc_tok_cfg *lc_tok_config(const lc_tok *t);
int lc_tok_grid(const lc_tok *t); // G
lc_params *lc_tok_params(lc_tok *t);
int64_t lc_tok_restarts(const lc_tok *t); // dead-code restarts done in training

// Training on n frames (N, S, S, C) u8 HWC. progress (may be NULL) every 100 steps with
// (step, loss); non-zero stops. Records train seconds and the last loss.
typedef int (*lc_tok_progress)(void *ctx, int step, double loss);
int lc_tok_train(lc_tok *t, const uint8_t *frames, size_t n, lc_tok_progress cb, void *ctx,
                 lc_error *err);
double lc_tok_train_seconds(const lc_tok *t);

// Loss of a batch x (B, C, S, S) floats in [0, 1], gradients written into the params'
// grads (zeroed first); straight-through for the encoder, exact for the decoder and the
// codebook. For gradient checks and training. tokens (B T, may be NULL) receives the codes.
double lc_tok_loss(lc_tok *t, const float *x, int B, int *tokens, lc_error *err);

// Frames (B, S, S, C) u8 -> tokens (B, T). Frames (HWC u8) <-> floats (CHW [0, 1]).
int lc_tok_encode(const lc_tok *t, const uint8_t *frames, int B, int *tokens, lc_error *err);
// Tokens (B, T) in [0, K) -> frames (B, S, S, C) u8 (and, if xf is not NULL, the decoder's
// floats (B, C, S, S) unclamped).
int lc_tok_decode(const lc_tok *t, const int *tokens, int B, uint8_t *frames, float *xf,
                  lc_error *err);
void lc_tok_to_float(const uint8_t *frame, int S, int C, float *out);

// Checkpoint: meta PREFIX.cfg.* and tensors PREFIX.* (exactly the encoder, decoder and
// codebook). Load validates sizes and rejects non-finite parameters.
int lc_tok_to_file(const lc_tok *t, lc_file *f, const char *prefix, lc_error *err);
int lc_tok_from_file(lc_tok **out, const lc_file *f, const char *prefix, lc_error *err);

LC_API_END

#endif
