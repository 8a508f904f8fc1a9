// worldmodel/genie_impl.h: what genie.c, genie_io.c and genie_env.c share of the pixel
// design's internals. Internal: nothing outside worldmodel/genie*.c includes it.
// Leaves out: everything public (genie.h).
#ifndef LC_WORLDMODEL_GENIE_IMPL_H
#define LC_WORLDMODEL_GENIE_IMPL_H

#include "worldmodel/genie.h"

static inline float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

// The LAM encoder's (and, in training, decoder's) buffers for a batch.
typedef struct lam_buf {
    int B;
    float *in;    // (B, IC, R, R)
    float *h1;    // (B, E, H1, H1) after relu
    float *h2;    // (B, 2E, H2, H2) after relu
    float *pool;  // (B, 4E) mean and max of h2 over space (enc_pool)
    int *am;      // (B, 2E) where each max is
    float *z;     // (B, D)
    float *zq;    // (B, D)
    int *codes;   // (B)
    float *decin; // (B, 2C + D, R, R): x_{t-1}, x_t, zq tiled over space
    float *acts;  // decoder activations
    float *tgt;   // (B, P)
    float *col;
    // backward scratch
    float *dpred, *dzq, *dz, *dpool, *dh2, *dh2p, *dh1, *dh1p, *work;
} lam_buf;

int lc_genie_lam_buf_init(lam_buf *b, const lc_genie *g, int B, int train, lc_error *err);
void lc_genie_lam_buf_free(lam_buf *b);
// Codes of the triples centred at t[0..B) through b, cap rows at a time (b's size).
void lc_genie_lam_read(const lc_genie *g, lam_buf *b, int cap, const float *X, const size_t *t,
                       int B, int *codes);
// A model frame x (P floats) to the game's frame o (nearest upsampling, u8 HWC).
void lc_genie_upsample(const lc_genie *g, const float *x, uint8_t *o);
// (genie_io.c) An int meta value in [lo, hi], or an error naming the key.
int lc_genie_meta_int(const lc_file *f, const char *key, int64_t lo, int64_t hi, int64_t *v,
                      lc_error *err);
// Writes what both designs' files say of the game: meta env, channels, game_h/w/c,
// n_real_actions; tensors reward_values (NR, f32) and code_alias (K, i32).
int lc_genie_save_game(const lc_genie *g, lc_file *f, lc_error *err);
// (genie.c) LC_ERR_ARG naming the first value of c out of its range (C: channels).
int lc_genie_check_cfg(const lc_genie_cfg *c, int C, lc_error *err);
// (genie.c) Defines both parameter arenas for g->cfg and g->C, sizes only (a loader
// compares them with the file before allocating).
int lc_genie_define(lc_genie *g, lc_error *err);
// Defines and allocates both parameter arenas for g->cfg and g->C.
int lc_genie_build(lc_genie *g, lc_error *err);

// The pixel dream env over a loaded model (taken over, freed on error too) with the
// dream params of its name (params: the text after '?', may be NULL). dream.c makes it
// from the model file it read once.
int lc_genie_env_of(lc_env_impl *impl, lc_genie *model, const char *params, int num_envs,
                    const lc_env_opts *opts, lc_error *err);
// (genie_env.c) Env i of a pixel dream backend (impl.data) continues from two real game
// frames (game_h, game_w, game_c u8); its observation into obs_row (genie_world.c's hook).
int lc_genie_env_start_at(void *data, int i, const uint8_t *prev, const uint8_t *cur,
                          uint8_t *obs_row, lc_error *err);

#endif
