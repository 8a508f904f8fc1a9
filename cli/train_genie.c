// cli/train_genie.c: `lucid train-genie`: latent action model + frame dynamics from a
// frames file (`lucid collect --frames-only` lives in cli/collect_frames.c).
// Leaves out: resuming training.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "env/env.h"
#include "nn/nn.h"
#include "worldmodel/frames.h"
#include "worldmodel/genie.h"
#include "worldmodel/genie_tokens.h"

static int progress(void *ctx, int phase, int step, double loss) {
    int quiet = *(int *)ctx;
    if (!quiet && step % 500 == 0)
        fprintf(stderr, "  %s step %d: loss %.5f\n",
                phase == 1 ? "dynamics" : phase == 2 ? "token dynamics" : "LAM/tokenizer", step,
                loss);
    return 0;
}

// --design tokens: the LAM (trained here, or taken from --lam-from), the tokenizer and the
// token dynamics.
static int train_tokens(const lc_frames *fr, const lc_genie_cfg *c, const lc_gtok_cfg *tc,
                        const char *lam_from, const char *tokens_from, int keep,
                        int attn_given, int temp_given, const char *out, int quiet) {
    lc_error err = {0};
    lc_genie *lam = NULL;
    float *X = NULL;
    lc_gtok *g = NULL;
    int status = 1;
    if (tokens_from) { // the tokenizer and the LAM of a token world; new dynamics
        if (lc_gtok_load(&g, tokens_from, &err) != LC_OK) goto fail;
        const lc_genie *l = lc_gtok_lam(g);
        if (strcmp(l->env_name, fr->env_name) || l->game_h != fr->H || l->C != fr->C) {
            lc_fail(&err, LC_ERR_ARG, "--tokens-from %s models %s at %dx%d, the data is %s at "
                    "%dx%d", tokens_from, l->env_name, l->game_h, l->game_w, fr->env_name,
                    fr->H, fr->W);
            goto fail;
        }
        // --keep-dynamics with --dyn-attn: blocks added to (or taken from) the trained ones
        if (keep && attn_given &&
            lc_gtok_set_attention(g, tc->dyn_attn, tc->attn_heads, &err) != LC_OK)
            goto fail;
        // ... and with --temp: the unrolled batches' (and the dream's) temperature
        if (keep && temp_given && lc_gtok_set_temperature(g, tc->temperature, &err) != LC_OK)
            goto fail;
        if ((keep ? lc_gtok_set_training(g, tc->steps, tc->lr, tc->unroll, &err)
                  : lc_gtok_reset_dynamics(g, tc, &err)) != LC_OK ||
            lc_genie_prep_all(l, fr, &X, &err) != LC_OK ||
            lc_gtok_train(g, fr, X, 1, progress, &quiet, &err) != LC_OK ||
            lc_gtok_save(g, out, &err) != LC_OK)
            goto fail;
        status = 0;
        if (!quiet)
            printf("token dynamics trained on %lld frames of %s (tokenizer and LAM from %s): "
                   "%.1f s, peak memory %.0f MiB\nwrote %s\n", (long long)l->train_frames,
                   fr->env_name, tokens_from, lc_gtok_train_seconds(g, 2), lc_gtok_peak_mb(g),
                   out);
        goto fail;
    }
    if (lam_from) {
        if (lc_genie_load(&lam, lam_from, &err) != LC_OK) goto fail;
        if (strcmp(lam->env_name, fr->env_name) || lam->game_h != fr->H || lam->C != fr->C) {
            lc_fail(&err, LC_ERR_ARG, "--lam-from %s models %s at %dx%d, the data is %s at %dx%d",
                    lam_from, lam->env_name, lam->game_h, lam->game_w, fr->env_name, fr->H, fr->W);
            goto fail;
        }
        if (lc_genie_prep_all(lam, fr, &X, &err) != LC_OK) goto fail;
    } else {
        lc_genie_cfg lc = *c;
        lc.dyn_steps = 0; // the pixel dynamics is not part of the token design
        if (lc_genie_new(&lam, &lc, fr->C, fr, &err) != LC_OK ||
            lc_genie_prep_all(lam, fr, &X, &err) != LC_OK ||
            lc_genie_train(lam, fr, X, progress, &quiet, &err) != LC_OK)
            goto fail;
    }
    lc_gtok_cfg t = *tc;
    t.tok.side = fr->H;
    t.tok.channels = fr->C;
    lc_genie *l = lam;
    lam = NULL; // the token world owns it from here
    if (lc_gtok_new(&g, &t, l, &err) != LC_OK ||
        lc_gtok_train(g, fr, X, 0, progress, &quiet, &err) != LC_OK ||
        lc_gtok_save(g, out, &err) != LC_OK)
        goto fail;
    status = 0;
    if (!quiet)
        printf("trained on %lld frames of %s: tokenizer %.1f s (%dx%d tokens of %d codes, %lld "
               "code restarts), LAM %.1f s at %dx%d%s, token dynamics %.1f s, peak memory %.0f "
               "MiB\nwrote %s\n",
               (long long)lc_gtok_lam(g)->train_frames, fr->env_name,
               lc_gtok_train_seconds(g, 0), lc_tok_grid(lc_gtok_tokenizer(g)),
               lc_tok_grid(lc_gtok_tokenizer(g)), lc_tok_config(lc_gtok_tokenizer(g))->codes,
               (long long)lc_tok_restarts(lc_gtok_tokenizer(g)), lc_gtok_train_seconds(g, 1),
               lc_gtok_lam(g)->R, lc_gtok_lam(g)->R, lam_from ? " (from --lam-from)" : "",
               lc_gtok_train_seconds(g, 2), lc_gtok_peak_mb(g), out);
fail:
    if (status) fprintf(stderr, "lucid train-genie: %s\n", err.msg);
    free(X);
    lc_genie_free(lam);
    lc_gtok_free(g);
    return status;
}

int cmd_train_genie(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *design = "pixels", *lam_from = NULL,
               *tokens_from = NULL;
    lc_genie_cfg c = lc_genie_cfg_default();
    lc_gtok_cfg tc = lc_gtok_cfg_default();
    int keep = 0, dyn_attn = -1;
    float temp = -1;
    int64_t seed = 1;
    int threads = 1, quiet = 0; // 1 BLAS thread: the small convs ran 1.6x faster than with 2
    cli_opt opts[] = {
        {"data", CLI_STR, &data, "frames file (lucid collect --frames-only)"},
        {"out", CLI_STR, &out, "genie checkpoint to write"},
        {"design", CLI_STR, &design, "pixels (conv frame dynamics) or tokens (VQ tokenizer + sampled token dynamics)"},
        {"lam-from", CLI_STR, &lam_from, "tokens: take the LAM of this genie file (same data) instead of training one"},
        {"tokens-from", CLI_STR, &tokens_from, "tokens: keep the tokenizer and LAM of this token world, train new dynamics"},
        {"keep-dynamics", CLI_FLAG, &keep, "with --tokens-from: train its dynamics further (--tdyn-steps more steps) instead of new ones"},
        {"maskgit", CLI_INT, &tc.maskgit, "tokens: MaskGIT decoding in this many steps (the dynamics also sees the next frame's committed tokens; 0 = one pass)"},
        {"tdyn-unroll", CLI_INT, &tc.unroll, "tokens: half the batches start 1..this steps back and predict from the model's own samples (0 = off)"},
        {"dyn-attn", CLI_INT, &dyn_attn, "tokens: transformer blocks (self-attention over all token positions + MLP) after the dynamics' conv stack (0 = conv only); with --keep-dynamics: added to the trained dynamics"},
        {"attn-heads", CLI_INT, &tc.attn_heads, "tokens: heads of those blocks (divides --tdyn-hidden)"},
        {"changed-weight", CLI_FLOAT, &tc.changed_weight, "tokens: loss weight of the tokens that change between frames (1: plain mean)"},
        {"tok-steps", CLI_INT, &tc.tok.steps, "tokens: tokenizer training steps"},
        {"tok-codes", CLI_INT, &tc.tok.codes, "tokens: tokenizer codebook size"},
        {"tok-dim", CLI_INT, &tc.tok.dim, "tokens: tokenizer code dimension"},
        {"tok-hidden", CLI_INT, &tc.tok.hidden, "tokens: tokenizer conv channels"},
        {"tok-batch", CLI_INT, &tc.tok.batch, "tokens: tokenizer batch"},
        {"tdyn-steps", CLI_INT, &tc.steps, "tokens: token dynamics training steps"},
        {"tdyn-hidden", CLI_INT, &tc.hidden, "tokens: token dynamics conv channels"},
        {"tdyn-emb", CLI_INT, &tc.emb, "tokens: token embedding size"},
        {"tdyn-batch", CLI_INT, &tc.batch, "tokens: token dynamics batch"},
        {"corrupt", CLI_FLOAT, &tc.corrupt, "tokens: fraction of the previous frame's tokens randomised in training"},
        {"temp", CLI_FLOAT, &temp, "tokens: the dream's default sampling temperature (0 = argmax; also unrolled training's; default 1)"},
        {"res", CLI_INT, &c.res, "model frame side (multiple of 4 dividing the data's side)"},
        {"codes", CLI_INT, &c.n_codes, "latent actions |A|"},
        {"code-dim", CLI_INT, &c.code_dim, "latent action code dimension"},
        {"enc-ch", CLI_INT, &c.enc_ch, "LAM encoder channels"},
        {"enc-pool", CLI_INT, &c.enc_pool, "1: the LAM encoder pools over space (codes say what moved, not where); 0: flattens"},
        {"start-anywhere", CLI_INT, &c.start_anywhere, "1: dreams start from any two consecutive frames; 0: from episode starts"},
        {"max-starts", CLI_INT, &c.max_starts, "start contexts kept in the checkpoint"},
        {"dyn-unroll", CLI_INT, &c.dyn_unroll, "dynamics trained from its own frames up to this many steps out (0 = off)"},
        {"dyn-l1", CLI_INT, &c.dyn_l1, "1: absolute frame error (sharper), 0: squared"},
        {"dyn-noise", CLI_FLOAT, &c.dyn_noise, "std of noise on the dynamics' input frames in training"},
        {"rare-code", CLI_FLOAT, &c.rare_code, "codes used by fewer than this / K of the transitions play their nearest used code in the dream"},
        {"lam-hidden", CLI_INT, &c.lam_hidden, "LAM decoder conv channels"},
        {"dyn-hidden", CLI_INT, &c.dyn_hidden, "dynamics conv channels"},
        {"beta", CLI_FLOAT, &c.beta, "VQ commitment weight"},
        {"lr", CLI_FLOAT, &c.lr, "Adam learning rate"},
        {"batch", CLI_INT, &c.batch, "batch size"},
        {"lam-steps", CLI_INT, &c.lam_steps, "LAM training steps"},
        {"dyn-steps", CLI_INT, &c.dyn_steps, "dynamics training steps"},
        {"restart-window", CLI_INT, &c.restart_window, "steps before an unused code restarts"},
        {"holdout", CLI_FLOAT, &c.holdout, "fraction of frames (the tail) held out"},
        {"horizon", CLI_INT, &c.horizon, "time limit of the dream"},
        {"seed", CLI_I64, &seed, "seed"},
        {"threads", CLI_INT, &threads, "BLAS threads"},
        {"quiet", CLI_FLAG, &quiet, "print nothing but errors"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid train-genie --data FRAMES --out GENIE [options]", NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!data || !out) {
        fprintf(stderr, "lucid train-genie: --data and --out are required\n");
        return 2;
    }
    c.seed = (uint64_t)seed;
    tc.seed = tc.tok.seed = (uint64_t)seed;
    if (dyn_attn >= 0) tc.dyn_attn = dyn_attn;
    if (temp != -1) tc.temperature = temp; // a bad value is refused with the others
    int tokens = strcmp(design, "tokens") == 0;
    if (!tokens && strcmp(design, "pixels") != 0) {
        fprintf(stderr, "lucid train-genie: --design is pixels or tokens, not '%s'\n", design);
        return 2;
    }
    if (!tokens && (lam_from || tokens_from)) {
        fprintf(stderr, "lucid train-genie: --lam-from and --tokens-from go with --design tokens\n");
        return 2;
    }
    lc_nn_set_threads(threads);
    lc_error err = {0};
    lc_frames fr;
    if (lc_frames_load(&fr, data, NULL, &err) != LC_OK) {
        fprintf(stderr, "lucid train-genie: %s\n", err.msg);
        return 1;
    }
    if (tokens) {
        int st = train_tokens(&fr, &c, &tc, lam_from, tokens_from, keep, dyn_attn >= 0,
                              temp != -1, out, quiet);
        lc_frames_free(&fr);
        return st;
    }
    lc_genie *g = NULL;
    float *X = NULL;
    int status = 1;
    if (lc_genie_new(&g, &c, fr.C, &fr, &err) != LC_OK ||
        lc_genie_prep_all(g, &fr, &X, &err) != LC_OK ||
        lc_genie_train(g, &fr, X, progress, &quiet, &err) != LC_OK ||
        lc_genie_save(g, out, &err) != LC_OK) {
        fprintf(stderr, "lucid train-genie: %s\n", err.msg);
    } else {
        status = 0;
        if (!quiet)
            printf("trained on %lld frames of %s at %dx%dx%d: LAM %.1f s (loss %.5f, %lld code "
                   "restarts), dynamics %.1f s (loss %.5f), peak memory %.0f MiB\nwrote %s\n",
                   (long long)g->train_frames, fr.env_name, g->R, g->R, g->C, g->lam_train_s,
                   g->lam_loss, (long long)g->restarts, g->dyn_train_s, g->dyn_loss,
                   g->peak_rss_mb, out);
    }
    free(X);
    lc_genie_free(g);
    lc_frames_free(&fr);
    return status;
}
