// core/json.c: JSON writing into a growing string (or a stream) and the flat-object
// reader. See core/json.h. Leaves out: nested objects, non-ASCII \u escapes.
#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- writing

void lc_sbuf_printf(lc_sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
}

void lc_sbuf_free(lc_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

void lc_json_str(lc_sbuf *b, const char *s) {
    lc_sbuf_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') lc_sbuf_printf(b, "\\%c", *p);
        else if (*p < 0x20) lc_sbuf_printf(b, "\\u%04x", *p);
        else lc_sbuf_printf(b, "%c", *p);
    }
    lc_sbuf_printf(b, "\"");
}

void lc_json_num(lc_sbuf *b, double v) {
    if (isfinite(v)) lc_sbuf_printf(b, "%.10g", v);
    else lc_sbuf_printf(b, "null");
}

void lc_json_nums(lc_sbuf *b, const double *v, size_t n) {
    lc_sbuf_printf(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) lc_sbuf_printf(b, ", ");
        lc_json_num(b, v[i]);
    }
    lc_sbuf_printf(b, "]");
}

void lc_json_fstr(FILE *fp, const char *s) {
    lc_sbuf b = {0};
    lc_json_str(&b, s);
    if (!b.oom) fwrite(b.s, 1, b.n, fp);
    lc_sbuf_free(&b);
}

void lc_json_fnum(FILE *fp, double v) {
    if (isfinite(v)) fprintf(fp, "%.10g", v);
    else fputs("null", fp);
}

// ---------------------------------------------------------------- reading

static void ws(lc_json_reader *r) {
    while (r->s < r->end && (*r->s == ' ' || *r->s == '\n' || *r->s == '\t' || *r->s == '\r'))
        r->s++;
}

int lc_json_lit(lc_json_reader *r, const char *lit) {
    ws(r);
    size_t n = strlen(lit);
    if ((size_t)(r->end - r->s) < n || memcmp(r->s, lit, n) != 0) return 0;
    r->s += n;
    return 1;
}

char lc_json_peek(lc_json_reader *r) {
    ws(r);
    return r->s < r->end ? *r->s : '\0';
}

int lc_json_read_str(lc_json_reader *r, char *out, size_t cap) {
    ws(r);
    if (r->s >= r->end || *r->s != '"') return -1;
    r->s++;
    size_t n = 0;
    while (r->s < r->end && *r->s != '"') {
        char c = *r->s++;
        if (c == '\\') {
            if (r->s >= r->end) return -1;
            char e = *r->s++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                if (r->end - r->s < 4) return -1;
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    char h = *r->s++;
                    int d = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                   : -1;
                    if (d < 0) return -1;
                    v = v * 16 + (unsigned)d;
                }
                c = v < 0x80 && v > 0 ? (char)v : '?';
                break;
            }
            case '"': case '\\': case '/': c = e; break;
            default: return -1;
            }
        }
        if (n + 1 < cap) out[n++] = c;
    }
    if (r->s >= r->end) return -1;
    r->s++;
    if (cap) out[n] = '\0';
    return 0;
}

int lc_json_read_num(lc_json_reader *r, double *v) {
    if (lc_json_lit(r, "null")) {
        *v = NAN;
        return 0;
    }
    char buf[64];
    size_t n = 0;
    while (r->s + n < r->end && n + 1 < sizeof buf && strchr("+-0123456789.eE", r->s[n]) && r->s[n])
        n++;
    if (n == 0) return -1;
    memcpy(buf, r->s, n);
    buf[n] = '\0';
    char *e;
    *v = strtod(buf, &e);
    if (e != buf + n) return -1;
    r->s += n;
    return 0;
}

int lc_json_read_nums(lc_json_reader *r, double **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!lc_json_lit(r, "[")) return -1;
    if (lc_json_lit(r, "]")) return 0;
    size_t cap = 0;
    for (;;) {
        double v;
        if (lc_json_read_num(r, &v)) goto bad;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            double *nv = realloc(*out, cap * sizeof(double));
            if (!nv) goto bad;
            *out = nv;
        }
        (*out)[(*n)++] = v;
        if (lc_json_lit(r, ",")) continue;
        if (lc_json_lit(r, "]")) return 0;
        goto bad;
    }
bad:
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

int lc_json_obj_begin(lc_json_reader *r) { return lc_json_lit(r, "{") ? 0 : -1; }

int lc_json_obj_next(lc_json_reader *r, int nread, char *key, size_t cap) {
    if (lc_json_lit(r, "}")) return 0;
    if (nread > 0 && !lc_json_lit(r, ",")) return -1;
    if (lc_json_read_str(r, key, cap)) return -1;
    return lc_json_lit(r, ":") ? 1 : -1;
}

int lc_json_skip(lc_json_reader *r) {
    char c = lc_json_peek(r);
    if (c == '"') {
        char tmp[1];
        return lc_json_read_str(r, tmp, 0);
    }
    if (c == '[') {
        double *v;
        size_t n;
        if (lc_json_read_nums(r, &v, &n)) return -1;
        free(v);
        return 0;
    }
    if (lc_json_lit(r, "true") || lc_json_lit(r, "false")) return 0;
    double v;
    return lc_json_read_num(r, &v);
}

int lc_json_end(lc_json_reader *r) {
    ws(r);
    return r->s == r->end ? 0 : -1;
}
