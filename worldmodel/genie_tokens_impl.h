// worldmodel/genie_tokens_impl.h: the token world's struct and passes, shared by
// genie_tokens.c (model, training) and genie_tokens_io.c (checkpoint, env). Internal:
// nothing outside worldmodel/ includes it. Leaves out: everything public (genie_tokens.h).
#ifndef LC_WORLDMODEL_GENIE_TOKENS_IMPL_H
#define LC_WORLDMODEL_GENIE_TOKENS_IMPL_H

#include "nn/attn.h"
#include "worldmodel/genie_tokens.h"

#define LC_GTOK_MAX_ATTN 8 // transformer blocks of the dynamics at most

struct lc_gtok {
    lc_gtok_cfg cfg;
    lc_genie *lam; // owned: the LAM, the game, reward classes, aliases, dream settings
    lc_tok *tok;   // owned
    int G, T, V, K, NR;
    lc_params p; // dynamics and heads
    lc_genie_cnet net;
    int emb, memb, ow, ob, hemb, hcw, hcb, hlw, hlb;
    int apos;                        // (T, HC) position embedding; -1 without attention
    lc_attn attn[LC_GTOK_MAX_ATTN]; // cfg.dyn_attn blocks
    size_t n_starts;
    int32_t *starts; // (S, 2, T) token contexts
    double dyn_s, dyn_loss, peak_mb;
};

// A masked position and the confidence of its draw (MaskGIT decoding).
typedef struct gtok_rank {
    float c;
    int s;
} gtok_rank;

// Activations of a batch (train: with gradients).
typedef struct gtok_buf {
    int B, train;
    float *pr; // (V) sampling scratch
    int *known, *draw; // (B, T) MaskGIT decoding scratch
    float *conf;       // (B, T)
    gtok_rank *order;  // (T)
    float *in, *cond, *acts, *col, *r3, *logits, *hin, *hh, *pool, *hl;
    int *am;
    float *dlog, *dr3, *dout, *din, *work, *dhl, *dpool, *dhh, *dhhp, *dhin;
    // attention (dyn_attn = N > 0): the residual stream before each block and after the
    // last (N + 1, B, T, HC), the blocks' saved activations (train: N sets; else one reused),
    // their backward scratch and two gradient buffers (B, T, HC)
    float *xa, *aacts, *awork, *dxa;
    size_t aact_n;
} gtok_buf;

int lc_gtok_check_cfg(const lc_gtok_cfg *c, lc_error *err);
int lc_gtok_build(lc_gtok *g, lc_error *err);
int lc_gtok_buf_init(gtok_buf *b, const lc_gtok *g, int B, int train, lc_error *err);
void lc_gtok_buf_free(gtok_buf *b);
// known: MaskGIT's next-frame tokens (B, T), V where masked (NULL: all masked); ignored
// when maskgit is 0.
void lc_gtok_dyn_forward(const lc_gtok *g, gtok_buf *b, const int *prev, const int *cur,
                         const int *known, const int *codes);
void lc_gtok_head_forward(const lc_gtok *g, gtok_buf *b, const int *cur, const int *next);
// hcur: the heads' current tokens (NULL: cur).
// known as in lc_gtok_dyn_forward; with maskgit the token loss covers the masked positions.
double lc_gtok_fwd_bwd(lc_gtok *g, gtok_buf *b, const int *prev, const int *cur,
                       const int *next, const int *known, const int *codes, const int *rcls,
                       const uint8_t *ends, const int *hcur);

// The token dream env over a loaded model (taken over, freed on error too) with the
// dream params of its name (params: the text after '?', may be NULL).
int lc_gtok_env_of(lc_env_impl *impl, lc_gtok *model, const char *params, int num_envs,
                   const lc_env_opts *opts, lc_error *err);
// Env i of a token dream backend (impl.data) continues from two real game frames (game_h,
// game_w, game_c u8), encoded by the tokenizer; its observation (the decoded current
// frame) into obs_row. LC_ERR_NOMEM (genie_world.c's hook).
int lc_gtok_env_start_at(void *data, int i, const uint8_t *prev, const uint8_t *cur,
                         uint8_t *obs_row, lc_error *err);

#endif
