// cli/train_wm.c: `lucid train-wm`: fits a probabilistic ensemble to a dataset file and
// writes a "worldmodel" checkpoint (usable as the env dream:MODEL). Progress on stderr,
// per-epoch metrics to --metrics, a summary (or JSON with --json) on stdout.
// Leaves out: resuming a half-trained model.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mb.h"
#include "core/metrics.h"
#include "core/progress.h"
#include "worldmodel/worldmodel.h"

typedef struct epoch_ctx {
    lc_progress *prog;
    lc_metrics *metrics;
    int failed;
    lc_error err;
} epoch_ctx;

static int on_epoch(void *ctx, const lc_wm_epoch *e) {
    epoch_ctx *c = ctx;
    char extra[96];
    snprintf(extra, sizeof extra, "val %.4f best %.4f", e->val_loss, e->best_val);
    if (c->prog) lc_progress_update(c->prog, e->epoch, extra);
    if (c->metrics) {
        const char *keys[] = {"epoch", "train_loss", "val_loss", "best_val", "improved"};
        double vals[] = {e->epoch, e->train_loss, e->val_loss, e->best_val, e->improved};
        if (lc_metrics_row(c->metrics, 5, keys, vals, &c->err) != LC_OK) {
            c->failed = 1;
            return 1;
        }
    }
    return 0;
}

static void json_num(FILE *out, const char *key, double v, int last) {
    if (isfinite(v)) fprintf(out, "  \"%s\": %.9g%s\n", key, v, last ? "" : ",");
    else fprintf(out, "  \"%s\": null%s\n", key, last ? "" : ",");
}

int cmd_train_wm(int argc, char **argv) {
    const char *data = NULL, *out = NULL, *metrics = NULL, *act = "silu";
    int members = 5, elites = 3, hidden = 200, layers = 3, epochs = 100, batch = 256;
    int patience = 5, horizon = 50, json = 0, quiet = 0, max_states = 10000;
    float lr = 1e-3f, wd = 0.0f;
    int64_t seed = 1;
    cli_opt opts[] = {
        {"data", CLI_STR, &data, "dataset file (from lucid collect)"},
        {"out", CLI_STR, &out, "world model file to write"},
        {"members", CLI_INT, &members, "ensemble members"},
        {"elites", CLI_INT, &elites, "members kept for prediction (best on validation)"},
        {"hidden", CLI_INT, &hidden, "hidden units per layer"},
        {"layers", CLI_INT, &layers, "hidden layers"},
        {"act", CLI_STR, &act, "hidden activation: relu, tanh, silu, gelu"},
        {"epochs", CLI_INT, &epochs, "most epochs (early stopping may end sooner)"},
        {"patience", CLI_INT, &patience, "epochs without a 1% improvement before stopping"},
        {"batch", CLI_INT, &batch, "minibatch rows per member"},
        {"lr", CLI_FLOAT, &lr, "Adam learning rate"},
        {"weight-decay", CLI_FLOAT, &wd, "AdamW weight decay"},
        {"max-states", CLI_INT, &max_states, "real states kept for branched starts (dream branch=1)"},
        {"horizon", CLI_INT, &horizon, "open-loop horizon of the summary's multi-step error (0 = none)"},
        {"seed", CLI_I64, &seed, "random seed"},
        {"metrics", CLI_STR, &metrics, "per-epoch metrics file (.csv or .jsonl)"},
        {"json", CLI_FLAG, &json, "print the summary as JSON"},
        {"quiet", CLI_FLAG, &quiet, "no progress output"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid train-wm --data FILE --out MODEL.lucid [options]", NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    if (!data || !out) {
        fprintf(stderr, "lucid train-wm: --data and --out are required (see --help)\n");
        return 2;
    }
    lc_wm_config cfg = lc_wm_config_default();
    cfg.members = members;
    cfg.elites = elites;
    cfg.hidden = hidden;
    cfg.layers = layers;
    cfg.epochs = epochs;
    cfg.patience = patience;
    cfg.batch = batch;
    cfg.lr = lr;
    cfg.weight_decay = wd;
    cfg.max_states = max_states;
    cfg.seed = (uint64_t)seed;
    if (lc_act_parse(act, &cfg.act) != LC_OK) {
        fprintf(stderr, "lucid train-wm: unknown activation '%s'\n", act);
        return 2;
    }
    if (horizon < 0) {
        fprintf(stderr, "lucid train-wm: --horizon must be >= 0\n");
        return 2;
    }
    lc_error err = {0};
    lc_dataset ds;
    if (lc_dataset_load(&ds, data, &err) != LC_OK) {
        fprintf(stderr, "lucid train-wm: %s\n", err.msg);
        return 1;
    }
    epoch_ctx ec = {0};
    if (metrics && lc_metrics_open(&ec.metrics, metrics, 0, &err) != LC_OK) {
        fprintf(stderr, "lucid train-wm: %s\n", err.msg);
        lc_dataset_free(&ds);
        return 1;
    }
    if (!quiet) {
        fprintf(stderr, "train-wm: %s, %zu rows (%zu episodes) of %s; %d members x %d layers of %d\n",
                data, ds.n, lc_dataset_episodes(&ds), ds.env_name, members, layers, hidden);
        ec.prog = lc_progress_new(stderr, "epochs", epochs);
    }
    double t0 = lc_now();
    lc_ensemble *m = NULL;
    rc = lc_ensemble_train(&m, &ds, &cfg, on_epoch, &ec, &err);
    double secs = lc_now() - t0;
    if (ec.prog) lc_progress_finish(ec.prog, rc == LC_OK ? "done" : "failed");
    int status = 0;
    if (ec.failed) {
        fprintf(stderr, "lucid train-wm: metrics: %s\n", ec.err.msg);
        status = 1;
    } else if (rc != LC_OK) {
        fprintf(stderr, "lucid train-wm: %s\n", err.msg);
        status = 1;
    }
    lc_wm_eval ol = {0};
    if (!status && horizon > 0 && lc_ensemble_evaluate(m, &ds, horizon, 2000, &ol, &err) != LC_OK) {
        fprintf(stderr, "lucid train-wm: %s\n", err.msg);
        status = 1;
    }
    if (!status && lc_ensemble_save(m, out, &err) != LC_OK) {
        fprintf(stderr, "lucid train-wm: %s\n", err.msg);
        status = 1;
    }
    if (ec.metrics && lc_metrics_close(ec.metrics, &err) != LC_OK && !status) {
        fprintf(stderr, "lucid train-wm: metrics: %s\n", err.msg);
        status = 1;
    }
    if (!status) {
        const lc_wm_eval *v = &m->val;
        if (json) {
            printf("{\n  \"model\": ");
            cli_json_str(stdout, out);
            printf(",\n  \"env\": ");
            cli_json_str(stdout, m->env_name);
            printf(",\n");
            json_num(stdout, "rows", (double)ds.n, 0);
            json_num(stdout, "train_rows", (double)m->train_rows, 0);
            json_num(stdout, "val_rows", (double)m->val_rows, 0);
            json_num(stdout, "epochs", m->epochs_run, 0);
            json_num(stdout, "members", m->E, 0);
            printf("  \"elites\": [");
            for (int k = 0; k < m->n_elites; k++) printf("%s%d", k ? ", " : "", m->elites[k]);
            printf("],\n");
            json_num(stdout, "val_mse", v->mse, 0);
            json_num(stdout, "val_mse_trivial", v->mse_trivial, 0);
            json_num(stdout, "val_nmse", v->nmse, 0);
            json_num(stdout, "val_reward_mse", v->reward_mse, 0);
            json_num(stdout, "val_term_acc", v->term_acc, 0);
            json_num(stdout, "open_loop_horizon", ol.horizon, 0);
            json_num(stdout, "open_loop_windows", (double)ol.windows, 0);
            json_num(stdout, "open_loop_mse", ol.windows ? ol.ol_mse : NAN, 0);
            json_num(stdout, "open_loop_mse_trivial", ol.windows ? ol.ol_mse_trivial : NAN, 0);
            json_num(stdout, "seconds", secs, 1);
            printf("}\n");
        } else {
            printf("wrote %s: %d members (elites", out, m->E);
            for (int k = 0; k < m->n_elites; k++) printf(" %d", m->elites[k]);
            printf("), %d epochs, %.1f s\n", m->epochs_run, secs);
            printf("validation (%zu held-out rows): one-step MSE %.3g (nothing-changes %.3g), "
                   "normalised %.3g, reward MSE %.3g, termination accuracy %.4f\n",
                   m->val_rows, v->mse, v->mse_trivial, v->nmse, v->reward_mse, v->term_acc);
            if (ol.windows)
                printf("open loop on the data file (%zu windows of %d steps): MSE %.3g "
                       "(nothing-changes %.3g)\n", ol.windows, ol.horizon, ol.ol_mse, ol.ol_mse_trivial);
            else if (horizon > 0)
                printf("open loop: no trajectory in the data has %d steps\n", horizon);
        }
    }
    lc_ensemble_free(m);
    lc_dataset_free(&ds);
    return status;
}
