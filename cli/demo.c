// cli/demo.c: `lucid demo`: the model-based flow end to end on CartPole-v1: random
// real data (and Dyna rounds with the policy while needed), an ensemble world model,
// PPO trained ONLY in the dream, evaluation in the real env; a table of what it took
// and achieved, a dream-versus-real GIF and the learning curve. Leaves out: other envs
// (lucid dyna --env ...).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/mb.h"
#include "core/image.h"
#include "core/progress.h"
#include "loops/init.h"

// ---------------------------------------------------------------- drawing CartPole

// Draws CartPole state obs (x, x_dot, theta, theta_dot) into the panel at (px, py) of
// size (w, h), as Gymnasium's renderer does (world width 4.8, pole length 1).
static void thick_line(lc_canvas *c, double x0, double y0, double x1, double y1, double width,
                       uint32_t color) {
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy, r = width / 2;
    if (len2 < 1e-9) return;
    int xa = (int)floor(fmin(x0, x1) - r), xb = (int)ceil(fmax(x0, x1) + r);
    int ya = (int)floor(fmin(y0, y1) - r), yb = (int)ceil(fmax(y0, y1) + r);
    for (int y = ya; y <= yb; y++)
        for (int x = xa; x <= xb; x++) {
            // distance from the pixel centre to the segment
            double t = ((x - x0) * dx + (y - y0) * dy) / len2;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = x0 + t * dx - x, ey = y0 + t * dy - y;
            if (ex * ex + ey * ey <= r * r) lc_canvas_fill_rect(c, x, y, 1, 1, color);
        }
}

static void draw_cartpole(lc_canvas *c, int px, int py, int w, int h, const float *obs,
                          const char *label, int ended) {
    lc_canvas_fill_rect(c, px, py, w, h, ended ? 0xf3e3e3u : 0xffffffu);
    double scale = w / 4.8, track = py + h * 0.7;
    lc_canvas_line(c, px, (int)track, px + w - 1, (int)track, 0x000000u);
    // Positions past the termination bound are drawn at the panel's edge.
    double xv = isfinite(obs[0]) ? fmax(-2.4, fmin(2.4, obs[0])) : 0.0;
    double th = isfinite(obs[2]) ? obs[2] : 0.0;
    double cx = px + w / 2.0 + xv * scale;
    int cw = (int)(scale * 0.4), ch = (int)(scale * 0.24);
    lc_canvas_fill_rect(c, (int)(cx - cw / 2.0), (int)(track - ch / 2.0), cw, ch, 0x202020u);
    double len = scale * 1.0, axle_y = track - ch / 4.0;
    double tx = cx + len * sin(th), ty = axle_y - len * cos(th);
    thick_line(c, cx, axle_y, tx, ty, scale * 0.08, 0xca9865u);
    lc_canvas_fill_rect(c, (int)cx - 2, (int)axle_y - 2, 5, 5, 0x8184cbu);
    lc_canvas_text(c, px + 6, py + 6, label, 0x000000u, 2);
    // the termination bounds of x (+-2.4)
    int lx = (int)(px + w / 2.0 - 2.4 * scale), rx = (int)(px + w / 2.0 + 2.4 * scale);
    lc_canvas_line(c, lx, (int)track - 6, lx, (int)track + 6, 0xd1495bu);
    lc_canvas_line(c, rx, (int)track - 6, rx, (int)track + 6, 0xd1495bu);
}

// Rolls the policy in the real CartPole (deterministic) and replays the same actions in
// the model from the same start, open loop, with the model's mean prediction (temperature
// 0: the picture shows the model's error, not its sampling noise); both side by side.
static int write_gif(const char *path, lc_policy *pol, const lc_ensemble *m, uint64_t seed,
                     int *real_len, int *dream_len, lc_error *err) {
    const int PW = 300, PH = 200, W = 2 * PW + 6, H = PH + 24;
    lc_env *real = NULL;
    lc_env_opts o = lc_env_opts_default();
    int rc = lc_env_make(&real, "CartPole-v1", &o, err);
    if (rc) return rc;
    lc_dream_params dp = lc_dream_params_default();
    lc_dream *d = NULL;
    lc_actor *actor = NULL;
    lc_gif *gif = NULL;
    lc_canvas cv = {0};
    dp.temperature = 0.0f;
    if ((rc = lc_dream_new(&d, m, 1, &dp, err)) ||
        (rc = lc_actor_wrap(&actor, pol, seed, 1, err)) || (rc = lc_env_reset(real, seed, err)) ||
        (rc = lc_canvas_init(&cv, W, H, 0xffffffu, err)) || (rc = lc_gif_open(&gif, path, W, H, 4, err)))
        goto done;
    const lc_env_buf *b = lc_env_get_buf(real);
    float rs[4], ds[4], rew;
    memcpy(rs, b->obs, sizeof rs);
    memcpy(ds, rs, sizeof ds);
    lc_rng rng;
    lc_rng_seed(&rng, seed, 0xd7ea);
    int rdone = 0, ddone = 0, t;
    *real_len = *dream_len = 0;
    uint8_t start = 1;
    for (t = 0; t <= 500; t++) {
        if (t % 2 == 0 || rdone) {
            char lab[64];
            lc_canvas_fill_rect(&cv, 0, 0, W, H, 0xffffffu);
            snprintf(lab, sizeof lab, rdone ? "real: ended at %d" : "real  t=%d", rdone ? *real_len : t);
            draw_cartpole(&cv, 0, 0, PW, PH, rs, lab, rdone);
            snprintf(lab, sizeof lab, ddone ? "model: ended at %d" : "model t=%d", ddone ? *dream_len : t);
            draw_cartpole(&cv, PW + 6, 0, PW, PH, ds, lab, ddone);
            lc_canvas_text(&cv, 6, PH + 6, "same start and actions (the policy on the real state); "
                           "model: mean prediction, open loop", 0x404040u, 1);
            if ((rc = lc_gif_frame(gif, cv.rgb, err))) goto done;
        }
        if (rdone || t == 500) break;
        int32_t a;
        if ((rc = lc_actor_act(actor, rs, &start, 1, &a, err))) goto done;
        start = 0;
        if ((rc = lc_env_step(real, &a, err))) goto done;
        memcpy(rs, b->done[0] ? b->final_obs : b->obs, sizeof rs);
        (*real_len)++;
        if (b->done[0]) rdone = 1;
        if (!ddone) {
            uint8_t term;
            lc_dream_step(d, ds, &a, 1, &rew, &term, NULL, &rng);
            (*dream_len)++;
            if (term) ddone = 1;
        }
    }
    for (int k = 0; k < 12; k++) // hold the last frame
        if ((rc = lc_gif_frame(gif, cv.rgb, err))) goto done;
    rc = lc_gif_close(gif, err);
    gif = NULL;
done:
    if (gif) lc_gif_close(gif, NULL);
    lc_canvas_free(&cv);
    lc_actor_free(actor);
    lc_dream_free(d);
    lc_env_free(real);
    return rc;
}

int cmd_demo(int argc, char **argv) {
    int64_t seed = 1;
    const char *dir = "runs/demo";
    int quiet = 0, threads = 1;
    cli_opt opts[] = {
        {"threads", CLI_INT, &threads, "OpenBLAS threads (small models run best on 1)"},
        {"seed", CLI_I64, &seed, "random seed"},
        {"dir", CLI_STR, &dir, "where the files and pictures go"},
        {"quiet", CLI_FLAG, &quiet, "no progress output"},
    };
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts), "usage: lucid demo [--seed S] [--dir D]",
                       NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : 2;
    lc_init();
    lc_nn_set_threads(threads);
    lc_error err = {0};
    lc_dyna_cfg cfg;
    if (lc_dyna_defaults(&cfg, "CartPole-v1", &err) != LC_OK) {
        fprintf(stderr, "lucid demo: %s\n", err.msg);
        return 1;
    }
    cfg.dir = dir;
    cfg.seed = (uint64_t)seed;
    cfg.log = quiet ? NULL : stderr;
    if (cli_mkdirs(dir) != 0) {
        fprintf(stderr, "lucid demo: cannot create directory %s\n", dir);
        return 1;
    }
    printf("lucid demo: CartPole-v1, PPO trained only inside a learned world model\n"
           "  real data: %lld random steps, then up to %lld more with the policy (budget %lld)\n"
           "  model: %d MLPs of %d x %d (%s), %d elites; dream: %s; PPO: %lld dream steps, then %lld per round\n\n",
           (long long)cfg.init_steps, (long long)(cfg.budget - cfg.init_steps), (long long)cfg.budget,
           cfg.wm.members, cfg.wm.layers, cfg.wm.hidden, lc_act_name(cfg.wm.act), cfg.wm.elites,
           cfg.dream_params, (long long)cfg.ppo.total_steps, (long long)cfg.ppo_round_steps);
    fflush(stdout);
    double t0 = lc_now();
    lc_dyna_result res;
    if (lc_dyna_run(&cfg, &res, &err) != LC_OK) {
        fprintf(stderr, "lucid demo: %s\n", err.msg);
        lc_dyna_result_free(&res);
        return 1;
    }
    lc_policy *pol = lc_dyna_policy(&res);
    const lc_dyna_round *last = &res.r[res.rounds - 1];
    int status = 0;

    // Multi-step error on the final policy's real trajectories (evaluation only).
    lc_env *real = NULL;
    lc_env_opts o = lc_env_opts_default();
    o.num_envs = 4;
    lc_dataset evds;
    int have_ev = 0;
    lc_actor *actor = NULL;
    lc_wm_eval ev = {0}, ev10 = {0};
    if (lc_env_make(&real, "CartPole-v1", &o, &err) || lc_dataset_init_for_env(&evds, real, &err) ||
        (have_ev = 1, lc_actor_wrap(&actor, pol, (uint64_t)seed, 1, &err)) ||
        lc_dataset_collect(&evds, real, 2000, lc_actor_act, actor, (uint64_t)seed + 99, NULL, NULL, &err) ||
        lc_ensemble_evaluate(res.model, &evds, 50, 1000, &ev, &err) ||
        lc_ensemble_evaluate(res.model, &evds, 10, 1000, &ev10, &err)) {
        fprintf(stderr, "lucid demo: %s\n", err.msg);
        status = 1;
    }
    lc_actor_free(actor);
    lc_env_free(real);
    int64_t eval_steps = last->real_eval + (have_ev ? (int64_t)evds.n : 0);
    if (have_ev) lc_dataset_free(&evds);

    // Pictures.
    char gif_path[600], png_path[600];
    snprintf(gif_path, sizeof gif_path, "%s/dream_vs_real.gif", dir);
    snprintf(png_path, sizeof png_path, "%s/curve.png", dir);
    int rl = 0, dl = 0;
    if (!status && write_gif(gif_path, pol, res.model, (uint64_t)seed + 5, &rl, &dl, &err)) {
        fprintf(stderr, "lucid demo: %s\n", err.msg);
        status = 1;
    }
    double rx[LC_DYNA_MAX_ROUNDS], ry[LC_DYNA_MAX_ROUNDS];
    for (int i = 0; i < res.rounds; i++) {
        rx[i] = (double)res.r[i].dream_steps;
        ry[i] = res.r[i].real_return;
    }
    lc_series ser[2] = {
        {"dream (PPO episodes)", res.curve_x, res.curve_y, NULL, NULL, res.ncurve},
        {"real (after each round)", rx, ry, NULL, NULL, res.rounds},
    };
    if (!status && lc_plot_png(png_path, "CartPole-v1: PPO in the dream",
                               "steps of PPO in the dream", "episode return", ser, 2, 800, 500, &err)) {
        fprintf(stderr, "lucid demo: %s\n", err.msg);
        status = 1;
    }

    printf("%-6s %11s %22s %11s %11s %18s\n", "round", "real steps", "model 1-step MSE", "dream steps",
           "dream ret", "real ret (100 ep)");
    for (int i = 0; i < res.rounds; i++) {
        const lc_dyna_round *r = &res.r[i];
        printf("%-6d %11lld %22.3g %11lld %11.1f %11.1f +- %.1f\n", i, (long long)r->real_learn,
               r->wm_mse, (long long)r->dream_steps, r->dream_return, r->real_return, r->real_std);
    }
    printf("\n");
    printf("  real env steps used for learning      %lld (budget %lld)\n", (long long)last->real_learn,
           (long long)cfg.budget);
    printf("  real env steps used for evaluation    %lld (never learned from)\n", (long long)eval_steps);
    printf("  model one-step MSE (held-out)         %.3g   nothing-changes predictor %.3g\n",
           last->wm_mse, last->wm_mse_trivial);
    if (ev10.windows)
        printf("  model 10-step open-loop MSE           %.3g   nothing-changes predictor %.3g\n",
               ev10.ol_mse, ev10.ol_mse_trivial);
    if (ev.windows)
        printf("  model 50-step open-loop MSE           %.3g   nothing-changes predictor %.3g\n"
               "    (open loop: the model's mean prediction fed back for H steps with the real actions,\n"
               "     MSE over steps 1..H, on %zu windows of the final policy's real trajectories)\n",
               ev.ol_mse, ev.ol_mse_trivial, ev.windows);
    printf("  return in the dream                   %.1f\n", last->dream_return);
    printf("  return in reality (100 episodes)      %.1f +- %.1f   %s (target %.0f)\n",
           last->real_return, last->real_std, res.reached ? "reached" : "NOT reached", cfg.target);
    printf("  wall time                             %.0f s\n", lc_now() - t0);
    if (!status)
        printf("wrote %s (real episode %d steps, dream %d steps), %s\n", gif_path, rl, dl, png_path);
    lc_dyna_result_free(&res);
    return status;
}
