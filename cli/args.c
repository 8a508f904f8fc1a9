// cli/args.c: the option parser shared by all verbs (see cli.h).
// Numbers are checked strictly (the whole word must parse, no overflow).
// Leaves out: short options, repeated options collecting lists.
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(const cli_opt *opts, int nopts, const char *usage) {
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < nopts; i++) {
        const cli_opt *o = &opts[i];
        char def[64] = "";
        switch (o->type) {
        case CLI_INT: snprintf(def, sizeof def, "%d", *(int *)o->ptr); break;
        case CLI_I64: snprintf(def, sizeof def, "%lld", (long long)*(int64_t *)o->ptr); break;
        case CLI_FLOAT: snprintf(def, sizeof def, "%g", *(float *)o->ptr); break;
        case CLI_STR: snprintf(def, sizeof def, "%s", *(const char **)o->ptr ? *(const char **)o->ptr : ""); break;
        case CLI_FLAG: break;
        case CLI_SETTING: {
            const cli_table *t = o->ptr;
            lc_settings_format(lc_settings_find(t->table, o->name), t->obj, def, sizeof def);
            break;
        }
        }
        const char *arg = o->type == CLI_FLAG ? "" : o->type == CLI_STR ? " S" : " N";
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        for (char *c = left; *c; c++)
            if (*c == '_') *c = '-';
        if (def[0]) printf("  %-24s %s (default %s)\n", left, o->help, def);
        else printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "--help", "show this help");
}

static int set_value(const cli_opt *o, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case CLI_INT: {
        long x = strtol(v, &end, 10);
        if (errno || !*v || *end || x < -2147483647L || x > 2147483647L) return -1;
        *(int *)o->ptr = (int)x;
        return 0;
    }
    case CLI_I64: {
        long long x = strtoll(v, &end, 10);
        if (errno || !*v || *end) return -1;
        *(int64_t *)o->ptr = x;
        return 0;
    }
    case CLI_FLOAT: {
        float x = strtof(v, &end);
        if (errno || !*v || *end || !isfinite(x)) return -1;
        *(float *)o->ptr = x;
        return 0;
    }
    case CLI_STR: *(const char **)o->ptr = v; return 0;
    case CLI_FLAG: *(int *)o->ptr = 1; return 0;
    case CLI_SETTING: {
        lc_error err = {0};
        const cli_table *t = o->ptr;
        if (lc_settings_set(t->table, t->obj, o->name, v, &err) == LC_OK) return 0;
        fprintf(stderr, "lucid: %s\n", err.msg);
        return -1;
    }
    }
    return -1;
}

// An option's name against len bytes of a word: '-' and '_' are the same.
static int name_is(const char *name, const char *w, size_t len) {
    size_t i = 0;
    for (; name[i] && i < len; i++)
        if (name[i] != w[i] && !((name[i] == '-' || name[i] == '_') && (w[i] == '-' || w[i] == '_')))
            return 0;
    return name[i] == '\0' && i == len;
}

int cli_settings_opts(cli_opt *opts, int n, int max, const cli_table *t,
                      const char *const *skip) {
    for (int i = 0; i < t->table->n && n < max; i++) {
        const lc_setting *r = &t->table->rows[i];
        int skipped = 0;
        for (const char *const *s = skip; s && *s; s++) skipped |= strcmp(*s, r->name) == 0;
        if (skipped) continue;
        opts[n++] = (cli_opt){r->name, CLI_SETTING, (void *)t, r->help};
    }
    return n;
}

int cli_parse(int argc, char **argv, const cli_opt *opts, int nopts, const char *usage,
              const char **positional, int max_pos, int *npos) {
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(opts, nopts, usage);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (np >= max_pos) {
                fprintf(stderr, "lucid: unexpected argument '%s'\n%s\n", a, usage);
                return 2;
            }
            positional[np++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = NULL;
        for (int k = 0; k < nopts; k++)
            if (name_is(opts[k].name, name, len)) o = &opts[k];
        if (!o) {
            fprintf(stderr, "lucid: unknown option '--%.*s' (see --help)\n", (int)len, name);
            return 2;
        }
        const char *v = NULL;
        if (o->type == CLI_FLAG) {
            if (eq) {
                fprintf(stderr, "lucid: option '--%s' takes no value\n", o->name);
                return 2;
            }
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "lucid: option '--%s' needs a value\n", o->name);
            return 2;
        }
        if (set_value(o, v) != 0) {
            fprintf(stderr, "lucid: bad value '%s' for --%s\n", v, o->name);
            return 2;
        }
    }
    if (npos) *npos = np;
    return 0;
}
