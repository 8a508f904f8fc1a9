// cli/plot.c: `lucid plot`: learning curves from metrics files (.csv or .jsonl,
// as written by lucid train --metrics) into one PNG, one curve per file.
// Leaves out: smoothing bands across seeds, log axes, reading other CSV dialects.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/image.h"

#define MAX_RUNS 16
#define MAX_COLS 64

typedef struct curve {
    double *x, *y;
    int n, cap;
    char label[128];
} curve;

static int push(curve *c, double x, double y) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 256;
        double *nx = realloc(c->x, (size_t)cap * sizeof(double));
        if (!nx) return -1;
        c->x = nx;
        double *ny = realloc(c->y, (size_t)cap * sizeof(double));
        if (!ny) return -1;
        c->y = ny;
        c->cap = cap;
    }
    c->x[c->n] = x;
    c->y[c->n] = y;
    c->n++;
    return 0;
}

// Parses a number; empty, "null" or garbage is NAN.
static double num(const char *s, size_t len) {
    char buf[64];
    while (len && isspace((unsigned char)*s)) s++, len--;
    if (!len || len >= sizeof buf) return NAN;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    double v = strtod(buf, &end);
    while (*end && isspace((unsigned char)*end)) end++;
    return end == buf || *end ? NAN : v;
}

// Splits a CSV line in place (no quoting: lucid's metrics have none).
static int split(char *line, char **cells, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        cells[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    for (int i = 0; i < n; i++) {
        size_t l = strlen(cells[i]);
        while (l && (cells[i][l - 1] == '\n' || cells[i][l - 1] == '\r')) cells[i][--l] = 0;
    }
    return n;
}

static int read_csv(FILE *f, const char *path, const char *xk, const char *yk, curve *c) {
    char line[8192];
    char *cells[MAX_COLS];
    if (!fgets(line, sizeof line, f)) {
        fprintf(stderr, "lucid plot: %s is empty\n", path);
        return -1;
    }
    int n = split(line, cells, MAX_COLS), xi = -1, yi = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(cells[i], xk)) xi = i;
        if (!strcmp(cells[i], yk)) yi = i;
    }
    if (xi < 0 || yi < 0) {
        fprintf(stderr, "lucid plot: %s has no column '%s'\n", path, xi < 0 ? xk : yk);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        int m = split(line, cells, MAX_COLS);
        if (m <= xi || m <= yi) continue;
        double x = num(cells[xi], strlen(cells[xi])), y = num(cells[yi], strlen(cells[yi]));
        if (isfinite(x) && isfinite(y) && push(c, x, y)) return -1;
    }
    return 0;
}

// The number after "key": in a JSON object line (NAN when absent or null).
static double json_field(const char *line, const char *key) {
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return NAN;
    p += strlen(pat);
    size_t len = strcspn(p, ",}");
    return num(p, len);
}

static int read_jsonl(FILE *f, const char *xk, const char *yk, curve *c) {
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        double x = json_field(line, xk), y = json_field(line, yk);
        if (isfinite(x) && isfinite(y) && push(c, x, y)) return -1;
    }
    return 0;
}

int cmd_plot(int argc, char **argv) {
    const char *out = "curve.png", *xk = "steps", *yk = "episode_return", *title = NULL;
    int width = 800, height = 500;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "PNG file to write"},
        {"x", CLI_STR, &xk, "x column: steps, wall (wall_s) or any column name"},
        {"y", CLI_STR, &yk, "y column, e.g. episode_return, entropy, approx_kl"},
        {"title", CLI_STR, &title, "plot title (default: the y column)"},
        {"width", CLI_INT, &width, "image width in pixels"},
        {"height", CLI_INT, &height, "image height in pixels"},
    };
    const char *files[MAX_RUNS];
    int nf = 0;
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid plot RUN1.csv [RUN2.csv ...] --out curve.png "
                       "[--x steps|wall] [--y episode_return]",
                       files, MAX_RUNS, &nf);
    if (rc) return rc == 1 ? 0 : 2;
    if (nf < 1) {
        fprintf(stderr, "lucid plot: give at least one metrics file (see --help)\n");
        return 2;
    }
    if (width < 200 || height < 150 || width > 8000 || height > 8000) {
        fprintf(stderr, "lucid plot: --width/--height out of range (200..8000, 150..8000)\n");
        return 2;
    }
    if (!strcmp(xk, "wall")) xk = "wall_s";
    curve cv[MAX_RUNS];
    memset(cv, 0, sizeof cv);
    int status = 0;
    for (int i = 0; i < nf && !status; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) {
            fprintf(stderr, "lucid plot: cannot open %s\n", files[i]);
            status = 1;
            break;
        }
        size_t l = strlen(files[i]);
        int jsonl = l > 6 && !strcmp(files[i] + l - 6, ".jsonl");
        const char *base = strrchr(files[i], '/');
        snprintf(cv[i].label, sizeof cv[i].label, "%s", base ? base + 1 : files[i]);
        if ((jsonl ? read_jsonl(f, xk, yk, &cv[i]) : read_csv(f, files[i], xk, yk, &cv[i])) != 0)
            status = 1;
        fclose(f);
        if (!status && cv[i].n == 0) {
            fprintf(stderr, "lucid plot: %s has no rows with both %s and %s\n", files[i], xk, yk);
            status = 1;
        }
    }
    if (!status) {
        lc_series s[MAX_RUNS];
        for (int i = 0; i < nf; i++) {
            memset(&s[i], 0, sizeof s[i]);
            s[i].label = cv[i].label;
            s[i].x = cv[i].x;
            s[i].y = cv[i].y;
            s[i].n = cv[i].n;
        }
        lc_error err = {0};
        if (lc_plot_png(out, title ? title : yk, xk, yk, s, nf, width, height, &err) != LC_OK) {
            fprintf(stderr, "lucid plot: %s\n", err.msg);
            status = 1;
        } else {
            printf("wrote %s (%d curve%s)\n", out, nf, nf > 1 ? "s" : "");
        }
    }
    for (int i = 0; i < nf; i++) {
        free(cv[i].x);
        free(cv[i].y);
    }
    return status;
}
