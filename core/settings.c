// core/settings.c: defaults, validation, text parsing and checkpoint save/load of
// a settings struct, all from its table (see settings.h).
// Leaves out: string settings, settings spread over several structs.
#include "core/settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *field(void *obj, const lc_setting *r) { return (char *)obj + r->offset; }
static const void *cfield(const void *obj, const lc_setting *r) {
    return (const char *)obj + r->offset;
}

static int bounded(const lc_setting *r) { return r->lo <= r->hi; }

// The value of a row as a double (U64 and I64 beyond 2^53 lose precision: only
// used for range checks, where the ranges are far below that).
static double get_d(const lc_setting *r, const void *obj) {
    const void *p = cfield(obj, r);
    switch (r->type) {
    case LC_SET_INT: case LC_SET_BOOL: case LC_SET_ENUM: return *(const int *)p;
    case LC_SET_I64: return (double)*(const int64_t *)p;
    case LC_SET_U64: return (double)*(const uint64_t *)p;
    case LC_SET_FLOAT: return *(const float *)p;
    case LC_SET_DOUBLE: return *(const double *)p;
    }
    return NAN;
}

static void put_i(const lc_setting *r, void *obj, int64_t v) {
    void *p = field(obj, r);
    switch (r->type) {
    case LC_SET_INT: case LC_SET_BOOL: case LC_SET_ENUM: *(int *)p = (int)v; break;
    case LC_SET_I64: *(int64_t *)p = v; break;
    case LC_SET_U64: *(uint64_t *)p = (uint64_t)v; break;
    case LC_SET_FLOAT: *(float *)p = (float)v; break;
    case LC_SET_DOUBLE: *(double *)p = (double)v; break;
    }
}

static int n_choices(const char *choices) {
    int n = 1;
    for (const char *c = choices; c && *c; c++) n += *c == '|';
    return choices ? n : 0;
}

// Index of word (len bytes) among '|'-separated choices, or -1.
static int find_choice(const char *choices, const char *word, size_t len) {
    int i = 0;
    for (const char *c = choices; c;) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == len && strncmp(c, word, len) == 0) return i;
        if (!bar) break;
        c = bar + 1;
        i++;
    }
    return -1;
}

int lc_settings_version(const lc_settings *s) {
    int v = 1;
    for (int i = 0; i < s->n; i++)
        if (s->rows[i].since > v) v = s->rows[i].since;
    return v;
}

static int name_eq(const char *a, const char *b, size_t blen) {
    size_t i = 0;
    for (; a[i] && i < blen; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y) return 0;
    }
    return a[i] == '\0' && i == blen;
}

static const lc_setting *find_n(const lc_settings *s, const char *name, size_t len) {
    for (int i = 0; i < s->n; i++)
        if (name_eq(s->rows[i].name, name, len)) return &s->rows[i];
    return NULL;
}

const lc_setting *lc_settings_find(const lc_settings *s, const char *name) {
    return find_n(s, name, strlen(name));
}

void lc_settings_defaults(const lc_settings *s, void *obj) {
    for (int i = 0; i < s->n; i++) {
        const lc_setting *r = &s->rows[i];
        if (r->type == LC_SET_FLOAT) *(float *)field(obj, r) = (float)r->def;
        else if (r->type == LC_SET_DOUBLE) *(double *)field(obj, r) = r->def;
        else put_i(r, obj, (int64_t)r->def);
    }
}

// Range check of a value about to be stored in row r.
static int in_range(const lc_setting *r, double v) {
    if ((r->type == LC_SET_FLOAT || r->type == LC_SET_DOUBLE) && !isfinite(v)) return 0;
    if (r->type == LC_SET_BOOL) return v == 0 || v == 1;
    if (r->type == LC_SET_ENUM) return v >= 0 && v < n_choices(r->choices);
    return !bounded(r) || (v >= r->lo && v <= r->hi);
}

// A named value of a number row ("off=-1" in choices, '|'-separated): 1 and *v if word
// (len bytes) names one.
static int named_value(const lc_setting *r, const char *word, size_t len, double *v) {
    if (r->type == LC_SET_ENUM || !r->choices) return 0;
    for (const char *c = r->choices; c && *c;) {
        const char *bar = strchr(c, '|'), *eq = strchr(c, '=');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (eq && eq < c + n && (size_t)(eq - c) == len && strncmp(c, word, len) == 0) {
            *v = strtod(eq + 1, NULL);
            return 1;
        }
        if (!bar) break;
        c = bar + 1;
    }
    return 0;
}

static void range_text(const lc_setting *r, char *buf, size_t n) {
    if (r->type == LC_SET_BOOL) snprintf(buf, n, "0 or 1");
    else if (r->type == LC_SET_ENUM) snprintf(buf, n, "one of %s", r->choices);
    else if (bounded(r)) snprintf(buf, n, "in [%.9g, %.9g]", r->lo, r->hi);
    else snprintf(buf, n, "finite");
}

int lc_settings_check(const lc_settings *s, const void *obj, lc_error *err) {
    for (int i = 0; i < s->n; i++) {
        const lc_setting *r = &s->rows[i];
        if (r->type == LC_SET_U64) continue;
        double v = get_d(r, obj);
        if (!in_range(r, v)) {
            char rt[96];
            range_text(r, rt, sizeof rt);
            return lc_fail(err, LC_ERR_ARG, "%s: %s = %.9g is not %s", s->prefix, r->name, v, rt);
        }
    }
    return LC_OK;
}

void lc_settings_format(const lc_setting *r, const void *obj, char *buf, size_t n) {
    const void *p = cfield(obj, r);
    switch (r->type) {
    case LC_SET_INT: case LC_SET_BOOL: snprintf(buf, n, "%d", *(const int *)p); break;
    case LC_SET_I64: snprintf(buf, n, "%lld", (long long)*(const int64_t *)p); break;
    case LC_SET_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case LC_SET_FLOAT: snprintf(buf, n, "%g", (double)*(const float *)p); break;
    case LC_SET_DOUBLE: snprintf(buf, n, "%.17g", *(const double *)p); break;
    case LC_SET_ENUM: {
        int k = *(const int *)p, i = 0;
        const char *c = r->choices;
        while (c && i < k) {
            c = strchr(c, '|');
            if (c) c++;
            i++;
        }
        size_t len = c ? (strchr(c, '|') ? (size_t)(strchr(c, '|') - c) : strlen(c)) : 0;
        snprintf(buf, n, "%.*s", (int)len, c ? c : "");
        break;
    }
    }
}

// Parses len bytes of text into row r of obj.
static int set_n(const lc_settings *s, const lc_setting *r, void *obj, const char *text,
                 size_t len, lc_error *err) {
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return lc_fail(err, LC_ERR_ARG, "%s: %s needs a value", s->prefix, r->name);
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end = NULL;
    errno = 0;
    double named;
    if (named_value(r, buf, len, &named)) { // "off" and the like: no range check
        if (r->type == LC_SET_FLOAT) *(float *)field(obj, r) = (float)named;
        else if (r->type == LC_SET_DOUBLE) *(double *)field(obj, r) = named;
        else put_i(r, obj, (int64_t)named);
        return LC_OK;
    }
    if (r->type == LC_SET_ENUM) {
        int k = find_choice(r->choices, buf, len);
        if (k < 0)
            return lc_fail(err, LC_ERR_ARG, "%s: %s=%s is not one of %s", s->prefix, r->name, buf,
                           r->choices);
        put_i(r, obj, k);
        return LC_OK;
    }
    if (r->type == LC_SET_FLOAT || r->type == LC_SET_DOUBLE) {
        double v = strtod(buf, &end);
        if (errno || *end || !in_range(r, v)) goto bad;
        if (r->type == LC_SET_DOUBLE) *(double *)field(obj, r) = v;
        else if (isfinite((float)v)) *(float *)field(obj, r) = (float)v;
        else goto bad;
        return LC_OK;
    }
    if (r->type == LC_SET_U64) {
        if (buf[0] == '-') goto bad;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || *end) goto bad;
        *(uint64_t *)field(obj, r) = (uint64_t)v;
        return LC_OK;
    }
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || !in_range(r, (double)v)) goto bad;
    if (r->type != LC_SET_I64 && (v < -2147483647LL || v > 2147483647LL)) goto bad;
    put_i(r, obj, v);
    return LC_OK;
bad:;
    char rt[96];
    range_text(r, rt, sizeof rt);
    return lc_fail(err, LC_ERR_ARG, "%s: %s=%s is not a number %s", s->prefix, r->name, buf, rt);
}

int lc_settings_set(const lc_settings *s, void *obj, const char *name, const char *value,
                    lc_error *err) {
    const lc_setting *r = lc_settings_find(s, name);
    if (!r) return lc_fail(err, LC_ERR_ARG, "%s: unknown setting '%s'", s->prefix, name);
    return set_n(s, r, obj, value, strlen(value), err);
}

static void key_list(const lc_settings *s, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->n && len + 1 < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", s->rows[i].name);
        if (w < 0) break;
        len += (size_t)w;
    }
    if (s->n == 0) snprintf(buf, n, "none");
}

int lc_settings_parse(const lc_settings *s, void *obj, const char *kv, lc_error *err) {
    if (!kv) return LC_OK;
    for (const char *p = kv; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) { // empty items ("a=1,,b=2", a trailing comma) are skipped
            const char *eq = memchr(p, '=', n);
            char keys[400];
            if (!eq) {
                key_list(s, keys, sizeof keys);
                return lc_fail(err, LC_ERR_ARG, "%s: param '%.*s' is not key=value (keys: %s)",
                               s->prefix, (int)(n > 60 ? 60 : n), p, keys);
            }
            const lc_setting *r = find_n(s, p, (size_t)(eq - p));
            if (!r) {
                key_list(s, keys, sizeof keys);
                return lc_fail(err, LC_ERR_ARG, "%s: unknown param '%.*s' (keys: %s)", s->prefix,
                               (int)((eq - p) > 60 ? 60 : (eq - p)), p, keys);
            }
            int rc = set_n(s, r, obj, eq + 1, n - (size_t)(eq - p) - 1, err);
            if (rc) return rc;
        }
        if (!end) break;
        p = end + 1;
    }
    return LC_OK;
}

static void meta_key(const lc_settings *s, const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s.%s", s->prefix, name);
}

int lc_settings_to_file(const lc_settings *s, const void *obj, lc_file *f, lc_error *err) {
    char key[128];
    int rc = 0;
    for (int i = 0; i < s->n; i++) {
        const lc_setting *r = &s->rows[i];
        meta_key(s, r->name, key, sizeof key);
        const void *p = cfield(obj, r);
        switch (r->type) {
        case LC_SET_FLOAT: rc |= lc_file_set_float(f, key, *(const float *)p); break;
        case LC_SET_DOUBLE: rc |= lc_file_set_float(f, key, *(const double *)p); break;
        case LC_SET_I64: rc |= lc_file_set_int(f, key, *(const int64_t *)p); break;
        case LC_SET_U64: rc |= lc_file_set_int(f, key, (int64_t) * (const uint64_t *)p); break;
        default: rc |= lc_file_set_int(f, key, *(const int *)p); break;
        }
    }
    meta_key(s, "settings_version", key, sizeof key);
    rc |= lc_file_set_int(f, key, lc_settings_version(s));
    if (rc) return lc_fail(err, LC_ERR_NOMEM, "%s: cannot store the settings", s->prefix);
    return LC_OK;
}

int lc_file_get_int_in(const lc_file *f, const char *key, int64_t lo, int64_t hi, int64_t *v,
                       lc_error *err) {
    lc_error e = {0};
    if (lc_file_get_int(f, key, v, &e))
        return lc_fail(err, e.code == LC_ERR_NOTFOUND ? LC_ERR_NOTFOUND : LC_ERR_FORMAT, "%s", e.msg);
    if (*v < lo || *v > hi)
        return lc_fail(err, LC_ERR_FORMAT, "%s = %lld is not in [%lld, %lld]", key, (long long)*v,
                       (long long)lo, (long long)hi);
    return LC_OK;
}

int lc_file_get_i32_in(const lc_file *f, const char *key, int64_t lo, int64_t hi, int *v,
                       lc_error *err) {
    int64_t x;
    int rc = lc_file_get_int_in(f, key, lo, hi, &x, err);
    if (!rc) *v = (int)x;
    return rc;
}

int lc_file_get_float_in(const lc_file *f, const char *key, double lo, double hi, double *v,
                         lc_error *err) {
    lc_error e = {0};
    if (lc_file_get_float(f, key, v, &e))
        return lc_fail(err, e.code == LC_ERR_NOTFOUND ? LC_ERR_NOTFOUND : LC_ERR_FORMAT, "%s", e.msg);
    if (!isfinite(*v) || *v < lo || *v > hi)
        return lc_fail(err, LC_ERR_FORMAT, "%s = %.9g is not finite and in [%.9g, %.9g]", key, *v,
                       lo, hi);
    return LC_OK;
}

int lc_settings_from_file(const lc_settings *s, void *obj, const lc_file *f, lc_error *err) {
    char key[128];
    int64_t ver = 1;
    meta_key(s, "settings_version", key, sizeof key);
    if (lc_file_get_int(f, key, &ver, NULL) == LC_OK) {
        if (ver < 1) return lc_fail(err, LC_ERR_FORMAT, "%s = %lld is not >= 1", key, (long long)ver);
        if (ver > lc_settings_version(s))
            return lc_fail(err, LC_ERR_VERSION,
                           "%s settings version %lld is newer than this build's %d", s->prefix,
                           (long long)ver, lc_settings_version(s));
    }
    for (int i = 0; i < s->n; i++) {
        const lc_setting *r = &s->rows[i];
        if (r->since > ver) continue; // the file predates this row: keep the default
        meta_key(s, r->name, key, sizeof key);
        int rc;
        if (r->type == LC_SET_FLOAT || r->type == LC_SET_DOUBLE) {
            double d;
            double lo = bounded(r) ? r->lo : -HUGE_VAL, hi = bounded(r) ? r->hi : HUGE_VAL;
            if ((rc = lc_file_get_float_in(f, key, lo, hi, &d, err))) return rc;
            if (r->type == LC_SET_DOUBLE) *(double *)field(obj, r) = d;
            else *(float *)field(obj, r) = (float)d;
        } else {
            int64_t v, lo = INT64_MIN, hi = INT64_MAX;
            if (r->type == LC_SET_BOOL) lo = 0, hi = 1;
            else if (r->type == LC_SET_ENUM) lo = 0, hi = n_choices(r->choices) - 1;
            else if (bounded(r)) lo = (int64_t)r->lo, hi = (int64_t)r->hi;
            else if (r->type == LC_SET_INT) lo = -2147483647, hi = 2147483647;
            if ((rc = lc_file_get_int_in(f, key, lo, hi, &v, err))) return rc;
            put_i(r, obj, v);
        }
    }
    return LC_OK;
}
