// core/progress.c: progress reporting: a bar redrawn in place (\r) on a terminal,
// plain lines at most every ~2 s otherwise, always a final line.
// Leaves out: nested bars, terminal width detection (the bar is fixed width).
#include "core/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define TTY_PERIOD 0.1   // seconds between redraws on a terminal
#define LINE_PERIOD 2.0  // seconds between plain lines

struct lc_progress {
    FILE *out;
    char label[64];
    int64_t total, done;
    double t0, last;
    int tty;
};

double lc_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

lc_progress *lc_progress_new(FILE *out, const char *label, int64_t total) {
    lc_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->out = out;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total > 0 ? total : 1;
    p->t0 = p->last = lc_now();
    p->tty = out && isatty(fileno(out));
    return p;
}

// 1234 -> "1234", 12345 -> "12.3k", 1.5e6 -> "1.50M".
static void fmt_count(char *buf, size_t cap, double v) {
    if (v < 10000) snprintf(buf, cap, "%.0f", v);
    else if (v < 1e6) snprintf(buf, cap, "%.1fk", v / 1e3);
    else if (v < 1e9) snprintf(buf, cap, "%.2fM", v / 1e6);
    else snprintf(buf, cap, "%.2fG", v / 1e9);
}

static void fmt_rate(char *buf, size_t cap, double v) {
    if (v < 10) snprintf(buf, cap, "%.2f", v);
    else if (v < 1000) snprintf(buf, cap, "%.1f", v);
    else fmt_count(buf, cap, v);
}

// Seconds as m:ss or h:mm:ss; "?" when unknown.
static void fmt_time(char *buf, size_t cap, double s) {
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

static void draw(lc_progress *p, const char *extra, int final) {
    double now = lc_now(), el = now - p->t0;
    double rate = el > 0 ? (double)p->done / el : 0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : -1;
    int pct = (int)(100.0 * (double)p->done / (double)p->total);
    char done[32], total[32], rs[32], els[32], etas[32];
    fmt_count(done, sizeof done, (double)p->done);
    fmt_count(total, sizeof total, (double)p->total);
    fmt_rate(rs, sizeof rs, rate);
    fmt_time(els, sizeof els, el);
    fmt_time(etas, sizeof etas, eta);
    const char *sep = extra && *extra ? "  " : "";
    if (!extra) extra = "";
    if (p->tty) {
        char bar[BAR_WIDTH + 1];
        int fill = (int)((double)BAR_WIDTH * (double)p->done / (double)p->total);
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[BAR_WIDTH] = '\0';
        if (final)
            fprintf(p->out, "\r%s [%s] %3d%% %s/%s in %s, %s/s%s%s\033[K\n", p->label, bar, pct,
                    done, total, els, rs, sep, extra);
        else
            fprintf(p->out, "\r%s [%s] %3d%% %s/%s %s/s eta %s%s%s\033[K", p->label, bar, pct,
                    done, total, rs, etas, sep, extra);
    } else if (final) {
        fprintf(p->out, "%s: %d%% %s/%s in %s, %s/s%s%s\n", p->label, pct, done, total, els, rs,
                sep, extra);
    } else {
        fprintf(p->out, "%s: %d%% %s/%s %s/s elapsed %s eta %s%s%s\n", p->label, pct, done, total,
                rs, els, etas, sep, extra);
    }
    fflush(p->out);
    p->last = now;
}

void lc_progress_update(lc_progress *p, int64_t done, const char *extra) {
    if (!p) return;
    p->done = done < 0 ? 0 : done > p->total ? p->total : done;
    if (!p->out) return;
    double now = lc_now();
    if (now - p->last >= (p->tty ? TTY_PERIOD : LINE_PERIOD)) draw(p, extra, 0);
}

void lc_progress_finish(lc_progress *p, const char *extra) {
    if (!p) return;
    if (p->out) draw(p, extra, 1);
    free(p);
}
