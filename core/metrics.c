// core/metrics.c: metrics rows to CSV (header from the first row's keys, or the
// existing header when appending) or JSONL (one object per line), flushed per row.
// Leaves out: string values, column reordering, locking against other writers.
#include "core/metrics.h"
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lc_metrics {
    FILE *fp;
    char *path;
    int csv;
    char **cols; // CSV columns, fixed by the header
    int ncols;
};

static void free_cols(lc_metrics *m) {
    for (int i = 0; i < m->ncols; i++) free(m->cols[i]);
    free(m->cols);
    m->cols = NULL;
    m->ncols = 0;
}

static int add_col(lc_metrics *m, const char *s, size_t n) {
    char **c = realloc(m->cols, (size_t)(m->ncols + 1) * sizeof *c);
    if (!c) return -1;
    m->cols = c;
    char *d = malloc(n + 1);
    if (!d) return -1;
    memcpy(d, s, n);
    d[n] = '\0';
    m->cols[m->ncols++] = d;
    return 0;
}

// Parses a CSV header line (RFC 4180 quoting) into m->cols.
static int parse_header(lc_metrics *m, const char *line) {
    size_t cap = strlen(line) + 1;
    char *field = malloc(cap);
    if (!field) return -1;
    const char *p = line;
    for (;;) {
        size_t n = 0;
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"') field[n++] = '"', p++;
                else if (*p == '"') {
                    p++;
                    break;
                } else field[n++] = *p;
            }
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r') field[n++] = *p++;
        if (add_col(m, field, n)) {
            free(field);
            return -1;
        }
        if (*p != ',') break;
        p++;
    }
    free(field);
    return 0;
}

// Reads the first line of path if the file exists and is non-empty; notes
// whether the file ends without a newline (a row cut short by a crash).
static int inspect_existing(lc_metrics *m, int *nonempty, int *needs_newline, lc_error *err) {
    *nonempty = *needs_newline = 0;
    FILE *fp = fopen(m->path, "rb");
    if (!fp) return errno == ENOENT ? LC_OK : lc_fail(err, LC_ERR_IO, "%s: %s", m->path, strerror(errno));
    int rc = LC_OK;
    if (fseek(fp, 0, SEEK_END) == 0 && ftell(fp) > 0) {
        *nonempty = 1;
        fseek(fp, -1, SEEK_END);
        *needs_newline = fgetc(fp) != '\n';
        if (m->csv) {
            rewind(fp);
            size_t cap = 0;
            char *line = NULL;
            if (getline(&line, &cap, fp) > 0 && parse_header(m, line))
                rc = lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", m->path);
            free(line);
        }
    }
    fclose(fp);
    return rc;
}

int lc_metrics_open(lc_metrics **out, const char *path, int append, lc_error *err) {
    *out = NULL;
    const char *dot = path ? strrchr(path, '.') : NULL;
    int csv;
    if (dot && strcasecmp(dot, ".csv") == 0) csv = 1;
    else if (dot && strcasecmp(dot, ".jsonl") == 0) csv = 0;
    else
        return lc_fail(err, LC_ERR_ARG, "%s: metrics files end in .csv or .jsonl",
                       path ? path : "(null)");
    lc_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", path);
    }
    m->csv = csv;
    int nonempty = 0, needs_newline = 0, rc = LC_OK;
    if (append) rc = inspect_existing(m, &nonempty, &needs_newline, err);
    if (!rc) {
        m->fp = fopen(path, append ? "a" : "w");
        if (!m->fp) rc = lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!rc && needs_newline && (fputc('\n', m->fp) == EOF || fflush(m->fp)))
        rc = lc_fail(err, LC_ERR_IO, "%s: %s", path, strerror(errno));
    if (rc) {
        if (m->fp) fclose(m->fp);
        free_cols(m);
        free(m->path);
        free(m);
        return rc;
    }
    *out = m;
    return LC_OK;
}

static void csv_field(FILE *fp, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static void number(FILE *fp, double v, int json) {
    if (isfinite(v)) fprintf(fp, "%.10g", v);
    else if (json) fputs("null", fp);
}

int lc_metrics_row(lc_metrics *m, int n, const char *const *keys, const double *vals,
                   lc_error *err) {
    if (n < 1 || !keys || !vals) return lc_fail(err, LC_ERR_ARG, "%s: an empty metrics row", m->path);
    for (int i = 0; i < n; i++) {
        if (!keys[i] || !keys[i][0]) return lc_fail(err, LC_ERR_ARG, "%s: an empty metrics key", m->path);
        for (int j = 0; j < i; j++)
            if (strcmp(keys[i], keys[j]) == 0)
                return lc_fail(err, LC_ERR_ARG, "%s: key '%s' twice in one row", m->path, keys[i]);
    }
    FILE *fp = m->fp;
    if (m->csv) {
        if (m->ncols == 0) {
            for (int i = 0; i < n; i++)
                if (add_col(m, keys[i], strlen(keys[i]))) {
                    free_cols(m);
                    return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", m->path);
                }
            for (int i = 0; i < n; i++) {
                if (i) fputc(',', fp);
                csv_field(fp, keys[i]);
            }
            fputc('\n', fp);
        }
        int *idx = malloc((size_t)m->ncols * sizeof *idx);
        if (!idx) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory", m->path);
        for (int c = 0; c < m->ncols; c++) idx[c] = -1;
        for (int i = 0; i < n; i++) {
            int c = 0;
            while (c < m->ncols && strcmp(m->cols[c], keys[i]) != 0) c++;
            if (c == m->ncols) {
                free(idx);
                return lc_fail(err, LC_ERR_ARG, "%s: column '%s' is not in the CSV header",
                               m->path, keys[i]);
            }
            idx[c] = i;
        }
        for (int c = 0; c < m->ncols; c++) {
            if (c) fputc(',', fp);
            if (idx[c] >= 0) number(fp, vals[idx[c]], 0);
        }
        fputc('\n', fp);
        free(idx);
    } else {
        fputc('{', fp);
        for (int i = 0; i < n; i++) {
            if (i) fputs(", ", fp);
            lc_json_fstr(fp, keys[i]);
            fputs(": ", fp);
            number(fp, vals[i], 1);
        }
        fputs("}\n", fp);
    }
    if (fflush(fp) != 0 || ferror(fp))
        return lc_fail(err, LC_ERR_IO, "%s: write: %s", m->path, strerror(errno));
    return LC_OK;
}

int lc_metrics_close(lc_metrics *m, lc_error *err) {
    if (!m) return LC_OK;
    int rc = LC_OK;
    if (ferror(m->fp) | fclose(m->fp))
        rc = lc_fail(err, LC_ERR_IO, "%s: close: %s", m->path, strerror(errno));
    free_cols(m);
    free(m->path);
    free(m);
    return rc;
}
