// cli/play.c: `lucid play ENV`: a person plays any env with discrete (or 1-D Box)
// actions in the terminal: raw keys, frames drawn in truecolor half blocks, an
// optional GIF. With stdin not a terminal it reads one action per line (scriptable).
// Leaves out: mouse input, sound, several keys held at once.
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "loops/init.h"
#include "core/image.h"
#include "env/env.h"
#include "worldmodel/worldmodel.h"

#define KEEP (-2)        // idle = repeat the last action
#define NONE (-1)
#define MAX_GIF_FRAMES 5000

typedef struct keymap {
    const char *env;
    int left, right, up, down, idle;
    const char *help;
} keymap;

static const keymap keymaps[] = {
    {"CartPole-v1", 0, 1, NONE, NONE, KEEP, "left/right push the cart"},
    {"MountainCar-v0", 0, 2, NONE, NONE, 1, "left/right accelerate (nothing pressed: coast)"},
    {"Acrobot-v1", 0, 2, NONE, NONE, 1, "left/right apply -1/+1 torque"},
    {"Breakout-v0", 1, 2, NONE, NONE, 0, "left/right move the paddle"},
    {"CoinRun-v0", 1, 2, 3, NONE, 0, "left/right walk, up jumps, 4 jumps right"},
};

typedef struct state_names {
    const char *env;
    const char *names[6];
} state_names;

static const state_names classic_names[] = {
    {"CartPole-v1", {"x", "x_dot", "theta", "theta_dot"}},
    {"Pendulum-v1", {"cos(theta)", "sin(theta)", "theta_dot"}},
    {"MountainCar-v0", {"position", "velocity"}},
    {"Acrobot-v1", {"cos(t1)", "sin(t1)", "cos(t2)", "sin(t2)", "t1_dot", "t2_dot"}},
};

// ---------------------------------------------------------------- the game

typedef struct game {
    lc_env *env;
    const lc_env_spec *sp;
    const lc_env_buf *buf;
    keymap keys;
    int box;                 // 1-D Box actions instead of Discrete
    int last;                // last discrete action (or key for Box: -1 low, 0, +1 high)
    float last_box;
    int steps, episodes;
    double ret, ret_sum;
    const char *const *names;
    lc_gif *gif;
    int gif_frames;
    uint8_t *frame;          // (render_h, render_w, 3)
    char msg[160];           // the last episode's result
} game;

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved, stop_flag;

static void restore_terminal(void) {
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = 0;
        const char *s = "\x1b[0m\x1b[?25h\n";
        ssize_t w = write(STDOUT_FILENO, s, strlen(s));
        (void)w;
    }
}

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
    if (tio_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio); // async-signal-safe
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void set_keys(game *g, const char *name) {
    int n = g->box ? 3 : g->sp->act_space.n;
    g->keys = (keymap){name, 0, n > 1 ? n - 1 : 0, NONE, NONE, 0, "left/right choose the lowest/highest action"};
    if (g->box) g->keys.help = "left/right push with the lowest/highest value, nothing: 0";
    else
        for (size_t k = 0; k < sizeof keymaps / sizeof keymaps[0]; k++)
            if (strcmp(keymaps[k].env, name) == 0) g->keys = keymaps[k];
    g->names = NULL;
    for (size_t k = 0; k < sizeof classic_names / sizeof classic_names[0]; k++)
        if (strcmp(classic_names[k].env, name) == 0) g->names = classic_names[k].names;
}

static int record(game *g, lc_error *err) {
    if (!g->gif || g->gif_frames >= MAX_GIF_FRAMES) return LC_OK;
    int rc = lc_env_render(g->env, 0, g->frame, err);
    if (!rc) rc = lc_gif_frame(g->gif, g->frame, err);
    if (!rc && ++g->gif_frames == MAX_GIF_FRAMES)
        fprintf(stderr, "play: the GIF stops at %d frames\n", MAX_GIF_FRAMES);
    return rc;
}

// Steps with discrete action a (or, for Box, the value v). Returns an lc_status.
static int play_step(game *g, int a, float v, lc_error *err) {
    int32_t ai = a;
    float av = v;
    int rc = lc_env_step(g->env, g->box ? (const void *)&av : (const void *)&ai, err);
    if (rc) return rc;
    g->steps++;
    g->ret += g->buf->rewards[0];
    if (g->buf->done[0]) {
        g->episodes++;
        g->ret_sum += g->buf->ep_return[0];
        snprintf(g->msg, sizeof g->msg, "episode %d: return %.6g, length %d (%s)", g->episodes,
                 (double)g->buf->ep_return[0], g->buf->ep_length[0], g->buf->terminated[0] ? "terminated" : "truncated");
        g->ret = 0.0;
    }
    return record(g, err);
}

static void print_obs(game *g, FILE *out, const char *sep) {
    const lc_space *os = &g->sp->obs_space;
    if (os->dtype != LC_F32 || g->sp->obs_size > 16) return;
    const float *o = g->buf->obs;
    for (int j = 0; j < g->sp->obs_size; j++) {
        if (g->names && j < 6 && g->names[j]) fprintf(out, "%s=%+.4f%s", g->names[j], (double)o[j], sep);
        else fprintf(out, "obs[%d]=%+.4f%s", j, (double)o[j], sep);
    }
}

// ---------------------------------------------------------------- lines from a pipe

static int play_lines(game *g, int max_steps, lc_error *err) {
    char line[256];
    while (!stop_flag && (max_steps <= 0 || g->steps < max_steps) && fgets(line, sizeof line, stdin)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = '\0';
        if (strcmp(s, "q") == 0) break;
        int a = 0;
        float v = 0.0f;
        char *end = NULL;
        if (!*s) { // nothing: the idle action
            a = g->keys.idle == KEEP ? g->last : g->keys.idle;
            v = 0.0f;
        } else if (g->box) {
            v = strtof(s, &end);
            if (*end || !isfinite(v)) {
                fprintf(stderr, "play: '%s' is not a number; skipped\n", s);
                continue;
            }
        } else {
            long x = strtol(s, &end, 10);
            if (*end || x < 0 || x >= g->sp->act_space.n) {
                fprintf(stderr, "play: '%s' is not an action in [0, %d); skipped\n", s, g->sp->act_space.n);
                continue;
            }
            a = (int)x;
        }
        g->last = a;
        g->last_box = v;
        g->msg[0] = '\0';
        int rc = play_step(g, a, v, err);
        if (rc) return rc;
        if (g->box) printf("step %d action %g", g->steps, (double)v);
        else printf("step %d action %d", g->steps, a);
        printf(" reward %.6g terminated %d truncated %d ", (double)g->buf->rewards[0], g->buf->terminated[0],
               g->buf->truncated[0]);
        print_obs(g, stdout, " ");
        printf("\n");
        if (g->msg[0]) printf("%s\n", g->msg);
        fflush(stdout);
    }
    return LC_OK;
}

// ---------------------------------------------------------------- the terminal

typedef struct screen {
    int cols, rows;          // character cells of the picture
    uint8_t *small;          // (2 * rows, cols, 3)
    char *out;
    size_t cap, len;
} screen;

static void emit(screen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(screen *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->out + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (k > 0) s->len += (size_t)k < s->cap - s->len ? (size_t)k : s->cap - s->len - 1;
}

// Area-average downscale of src (sh, sw, 3) into dst (dh, dw, 3).
static void downscale(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
    for (int y = 0; y < dh; y++) {
        int y0 = y * sh / dh, y1 = (y + 1) * sh / dh;
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < dw; x++) {
            int x0 = x * sw / dw, x1 = (x + 1) * sw / dw;
            if (x1 <= x0) x1 = x0 + 1;
            unsigned sum[3] = {0, 0, 0}, n = 0;
            for (int yy = y0; yy < y1 && yy < sh; yy++)
                for (int xx = x0; xx < x1 && xx < sw; xx++) {
                    const uint8_t *p = src + ((size_t)yy * sw + xx) * 3;
                    sum[0] += p[0];
                    sum[1] += p[1];
                    sum[2] += p[2];
                    n++;
                }
            uint8_t *q = dst + ((size_t)y * dw + x) * 3;
            for (int c = 0; c < 3; c++) q[c] = (uint8_t)(n ? (sum[c] + n / 2) / n : 0);
        }
    }
}

static int screen_init(screen *s, const lc_env_spec *sp) {
    struct winsize ws;
    int tc = 80, tr = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        tc = ws.ws_col;
        tr = ws.ws_row;
    }
    int text = 9; // status lines under the picture
    int cols = tc - 1 < sp->render_w ? tc - 1 : sp->render_w;
    if (cols > 160) cols = 160;
    if (cols < 8) cols = 8;
    int rows = (int)((double)sp->render_h * cols / sp->render_w / 2.0 + 0.5);
    int max_rows = tr - text > 4 ? tr - text : 4;
    if (rows > max_rows) {
        rows = max_rows;
        cols = (int)((double)sp->render_w * rows * 2 / sp->render_h + 0.5);
        if (cols < 8) cols = 8;
    }
    if (rows < 1) rows = 1;
    s->cols = cols;
    s->rows = rows;
    s->small = malloc((size_t)cols * rows * 2 * 3);
    s->cap = (size_t)cols * rows * 48 + 8192;
    s->out = malloc(s->cap);
    return s->small && s->out ? 0 : -1;
}

static void draw(game *g, screen *s, int action) {
    s->len = 0;
    emit(s, "\x1b[H");
    if (lc_env_render(g->env, 0, g->frame, NULL) == LC_OK) {
        downscale(g->frame, g->sp->render_w, g->sp->render_h, s->small, s->cols, s->rows * 2);
        int fg = -1, bg = -1;
        for (int r = 0; r < s->rows; r++) {
            for (int c = 0; c < s->cols; c++) {
                const uint8_t *t = s->small + ((size_t)(2 * r) * s->cols + c) * 3;
                const uint8_t *b = s->small + ((size_t)(2 * r + 1) * s->cols + c) * 3;
                int tf = t[0] << 16 | t[1] << 8 | t[2], bb = b[0] << 16 | b[1] << 8 | b[2];
                if (tf != fg) emit(s, "\x1b[38;2;%d;%d;%dm", t[0], t[1], t[2]);
                if (bb != bg) emit(s, "\x1b[48;2;%d;%d;%dm", b[0], b[1], b[2]);
                fg = tf;
                bg = bb;
                emit(s, "\xe2\x96\x80"); // U+2580 upper half block
            }
            emit(s, "\x1b[0m\x1b[K\r\n");
            fg = bg = -1;
        }
    }
    emit(s, "\x1b[0m%s  step %d  return %.6g  episodes %d\x1b[K\r\n", g->sp->name, g->steps, g->ret, g->episodes);
    if (g->box) emit(s, "action %+.3g\x1b[K\r\n", (double)g->last_box);
    else emit(s, "action %d\x1b[K\r\n", action);
    const lc_space *os = &g->sp->obs_space;
    if (os->dtype == LC_F32 && g->sp->obs_size <= 16) {
        const float *o = g->buf->obs;
        for (int j = 0; j < g->sp->obs_size; j++) {
            if (g->names && j < 6 && g->names[j]) emit(s, "%s %+.4f  ", g->names[j], (double)o[j]);
            else emit(s, "[%d] %+.4f  ", j, (double)o[j]);
            if (j % 4 == 3 && j + 1 < g->sp->obs_size) emit(s, "\x1b[K\r\n");
        }
        emit(s, "\x1b[K\r\n");
    }
    emit(s, "%s\x1b[K\r\n", g->msg);
    if (g->box) emit(s, "keys: %s; digits 0-9 set a level; q quits\x1b[K\r\n", g->keys.help);
    else emit(s, "keys: %s; digits 0-%d choose an action; q quits\x1b[K\r\n", g->keys.help,
              g->sp->act_space.n - 1 < 9 ? g->sp->act_space.n - 1 : 9);
    emit(s, "\x1b[J");
    size_t off = 0;
    while (off < s->len) {
        ssize_t w = write(STDOUT_FILENO, s->out + off, s->len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        off += (size_t)w;
    }
}

// Reads pending keys; sets *choice (an action, or for Box -1/0/+1 and levels) and *quit.
static void read_keys(game *g, int *choice, float *level, int *quit) {
    unsigned char b[64];
    ssize_t n = read(STDIN_FILENO, b, sizeof b);
    for (ssize_t k = 0; k < n; k++) {
        int key = -1; // 0 left, 1 right, 2 up, 3 down
        if (b[k] == 0x1b && k + 2 < n && (b[k + 1] == '[' || b[k + 1] == 'O')) {
            switch (b[k + 2]) {
            case 'D': key = 0; break;
            case 'C': key = 1; break;
            case 'A': key = 2; break;
            case 'B': key = 3; break;
            }
            k += 2;
        } else if (b[k] == 'q' || b[k] == 'Q' || (b[k] == 0x1b && k + 1 == n)) {
            *quit = 1;
        } else if (b[k] == 'a' || b[k] == 'h') {
            key = 0;
        } else if (b[k] == 'd' || b[k] == 'l') {
            key = 1;
        } else if (b[k] == 'w' || b[k] == 'k' || b[k] == ' ') {
            key = 2;
        } else if (b[k] == 's' || b[k] == 'j') {
            key = 3;
        } else if (b[k] >= '0' && b[k] <= '9') {
            int d = b[k] - '0';
            if (g->box) {
                float lo = lc_space_low(&g->sp->act_space, 0), hi = lc_space_high(&g->sp->act_space, 0);
                *level = lo + (hi - lo) * d / 9.0f;
                *choice = 100;
            } else if (d < g->sp->act_space.n) {
                *choice = d;
            }
        }
        if (key < 0) continue;
        if (g->box) {
            if (key == 0 || key == 1) {
                *level = key == 0 ? lc_space_low(&g->sp->act_space, 0) : lc_space_high(&g->sp->act_space, 0);
                *choice = 100;
            }
            continue;
        }
        int a = key == 0 ? g->keys.left : key == 1 ? g->keys.right : key == 2 ? g->keys.up : g->keys.down;
        if (a >= 0) *choice = a;
    }
}

static int play_terminal(game *g, int fps, int max_steps, lc_error *err) {
    screen s = {0};
    if (screen_init(&s, g->sp)) {
        free(s.small);
        free(s.out);
        return lc_fail(err, LC_ERR_NOMEM, "play: out of memory for the screen");
    }
    if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tio_saved = 1;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    const char *start = "\x1b[?25l\x1b[2J";
    ssize_t w = write(STDOUT_FILENO, start, strlen(start));
    (void)w;
    int rc = LC_OK, quit = 0, action = g->keys.idle == KEEP ? 0 : g->keys.idle;
    g->last = action;
    double tick = 1.0 / fps, next = now_s() + tick;
    draw(g, &s, action);
    while (!stop_flag && !quit && (max_steps <= 0 || g->steps < max_steps)) {
        int choice = NONE;
        float level = 0.0f;
        for (;;) { // gather keys until the tick is over
            double left = next - now_s();
            if (left <= 0 || quit || stop_flag) break;
            struct pollfd p = {STDIN_FILENO, POLLIN, 0};
            int r = poll(&p, 1, (int)(left * 1000) + 1);
            if (r > 0) read_keys(g, &choice, &level, &quit);
        }
        next += tick;
        if (next < now_s()) next = now_s() + tick; // fell behind: do not race to catch up
        if (quit || stop_flag) break;
        float v = 0.0f;
        if (g->box) {
            v = choice == 100 ? level : 0.0f;
            g->last_box = v;
            action = 0;
        } else {
            action = choice >= 0 ? choice : g->keys.idle == KEEP ? g->last : g->keys.idle;
            g->last = action;
        }
        if ((rc = play_step(g, action, v, err))) break;
        draw(g, &s, action);
    }
    restore_terminal();
    free(s.small);
    free(s.out);
    return rc;
}

int cmd_play(int argc, char **argv) {
    int64_t seed = 0;
    int fps = 15, max_steps = 0;
    const char *gif = NULL, *params = NULL;
    cli_opt opts[] = {
        {"seed", CLI_I64, &seed, "seed of the episodes"},
        {"fps", CLI_INT, &fps, "steps per second in the terminal (and the GIF's rate)"},
        {"gif", CLI_STR, &gif, "also record the game as an animated GIF"},
        {"params", CLI_STR, &params, "env options key=value,... (dream: temperature=...)"},
        {"steps", CLI_INT, &max_steps, "stop after this many steps (0 = until q or end of input)"},
    };
    const char *usage =
        "usage: lucid play ENV [--seed N] [--fps N] [--gif out.gif]\n"
        "Plays ENV (or dream:MODEL.lucid) in the terminal with arrow keys or digits; q quits.\n"
        "With stdin not a terminal, reads one action per line (an empty line: the idle action).";
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts), usage, pos, 1, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 1) {
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    if (fps < 1 || fps > 100) {
        fprintf(stderr, "play: --fps must be in [1, 100]\n");
        return 2;
    }
    lc_init();
    lc_env_opts o = lc_env_opts_default();
    o.params = params;
    lc_error err = {0};
    game g;
    memset(&g, 0, sizeof g);
    if (lc_env_make(&g.env, pos[0], &o, &err)) {
        fprintf(stderr, "play: %s\n", err.msg);
        return err.code == LC_ERR_NOTFOUND || err.code == LC_ERR_ARG ? 2 : 1;
    }
    g.sp = lc_env_get_spec(g.env);
    g.buf = lc_env_get_buf(g.env);
    const lc_space *as = &g.sp->act_space;
    g.box = as->kind == LC_SPACE_BOX;
    if (!(as->kind == LC_SPACE_DISCRETE || (g.box && g.sp->act_size == 1))) {
        char d[128];
        lc_space_describe(as, d, sizeof d);
        fprintf(stderr, "play: %s has %s actions; play needs Discrete actions or a 1-D Box\n", pos[0], d);
        lc_env_free(g.env);
        return 2;
    }
    set_keys(&g, pos[0]);
    int status = 1;
    g.frame = malloc((size_t)g.sp->render_w * g.sp->render_h * 3);
    if (!g.frame) {
        fprintf(stderr, "play: out of memory\n");
        goto done;
    }
    if ((rc = lc_env_reset(g.env, (uint64_t)seed, &err))) goto fail;
    if (gif) {
        int delay = (100 + fps / 2) / fps;
        if ((rc = lc_gif_open(&g.gif, gif, g.sp->render_w, g.sp->render_h, delay, &err))) goto fail;
        if ((rc = record(&g, &err))) goto fail;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) rc = play_terminal(&g, fps, max_steps, &err);
    else rc = play_lines(&g, max_steps, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (rc) goto fail;
    if (g.gif) {
        lc_gif *gg = g.gif;
        g.gif = NULL;
        if ((rc = lc_gif_close(gg, &err))) goto fail;
        printf("wrote %s (%d frames)\n", gif, g.gif_frames);
    }
    printf("%d steps, %d episodes finished", g.steps, g.episodes);
    if (g.episodes) printf(", mean return %.6g", g.ret_sum / g.episodes);
    printf("\n");
    status = 0;
    goto done;
fail:
    fprintf(stderr, "play: %s\n", err.msg);
done:
    if (g.gif) {
        lc_error ignore;
        lc_gif_close(g.gif, &ignore);
    }
    free(g.frame);
    lc_env_free(g.env);
    return status;
}
