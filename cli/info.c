// cli/info.c: `lucid info FILE`: a lucid file's kind, metadata and tensor table
// (name, dtype, shape, bytes), with --stats for min/max/mean of each tensor.
// Leaves out: printing tensor values, editing files.
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/file.h"

static void human_bytes(char *buf, size_t cap, double n) {
    if (n < 1024) snprintf(buf, cap, "%.0f B", n);
    else if (n < 1024.0 * 1024) snprintf(buf, cap, "%.1f KiB", n / 1024);
    else if (n < 1024.0 * 1024 * 1024) snprintf(buf, cap, "%.1f MiB", n / (1024.0 * 1024));
    else snprintf(buf, cap, "%.2f GiB", n / (1024.0 * 1024 * 1024));
}

static double element(const lc_tensor *t, size_t i) {
    switch (t->dtype) {
    case LC_F32: return ((const float *)t->data)[i];
    case LC_F64: return ((const double *)t->data)[i];
    case LC_U8: return ((const uint8_t *)t->data)[i];
    case LC_I32: return ((const int32_t *)t->data)[i];
    case LC_I64: return (double)((const int64_t *)t->data)[i];
    default: return NAN;
    }
}

static void print_stats(const lc_tensor *t) {
    size_t n = t->nbytes / lc_dtype_size(t->dtype), bad = 0, good = 0;
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++) {
        double v = element(t, i);
        if (!isfinite(v)) {
            bad++;
            continue;
        }
        good++;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    if (good) printf("  min %-12.6g max %-12.6g mean %.6g", lo, hi, sum / (double)good);
    else printf("  (no finite values)");
    if (bad) printf(" non-finite %zu", bad);
}

int cmd_info(int argc, char **argv) {
    int stats = 0;
    cli_opt opts[] = {
        {"stats", CLI_FLAG, &stats, "also print min, max and mean of every tensor"},
    };
    const char *pos[1];
    int npos = 0;
    int rc = cli_parse(argc, argv, opts, CLI_COUNT(opts),
                       "usage: lucid info FILE [--stats]\n\n"
                       "Describes a lucid file (checkpoint or dataset): its kind, metadata and tensors.",
                       pos, 1, &npos);
    if (rc) return rc == 1 ? 0 : 2;
    if (npos != 1) {
        fprintf(stderr, "lucid info: give one FILE (see --help)\n");
        return 2;
    }
    const char *path = pos[0];
    lc_file *f;
    lc_error err;
    lc_error_clear(&err);
    if (lc_file_read(path, &f, &err)) {
        fprintf(stderr, "lucid info: %s\n", err.msg);
        return 1;
    }
    struct stat st;
    char size[32] = "?";
    if (stat(path, &st) == 0) human_bytes(size, sizeof size, (double)st.st_size);
    printf("%s: lucid file (format %d), kind \"%s\", %s\n", path, LC_FILE_VERSION, lc_file_kind(f),
           size);

    int nmeta = lc_file_nmeta(f);
    printf("meta (%d):\n", nmeta);
    int kw = 4;
    for (int i = 0; i < nmeta; i++) {
        int l = (int)strlen(lc_file_meta_key(f, i));
        if (l > kw) kw = l;
    }
    for (int i = 0; i < nmeta; i++) {
        const char *key = lc_file_meta_key(f, i), *s;
        int64_t iv;
        double dv;
        if (lc_file_get_int(f, key, &iv, NULL) == LC_OK) printf("  %-*s  %" PRId64 "\n", kw, key, iv);
        else if (lc_file_get_str(f, key, &s, NULL) == LC_OK) printf("  %-*s  \"%s\"\n", kw, key, s);
        else if (lc_file_get_float(f, key, &dv, NULL) == LC_OK) printf("  %-*s  %.10g\n", kw, key, dv);
    }

    int nt = lc_file_ntensors(f);
    double total = 0;
    int nw = 4;
    for (int i = 0; i < nt; i++) {
        const lc_tensor *t = lc_file_tensor_at(f, i);
        total += (double)t->nbytes;
        int l = (int)strlen(t->name);
        if (l > nw) nw = l;
    }
    char tb[32];
    human_bytes(tb, sizeof tb, total);
    printf("tensors (%d, %s):\n", nt, tb);
    if (nt) printf("  %-*s  %-5s  %-22s  %12s\n", nw, "name", "dtype", "shape", "bytes");
    for (int i = 0; i < nt; i++) {
        const lc_tensor *t = lc_file_tensor_at(f, i);
        char shape[96];
        size_t used = (size_t)snprintf(shape, sizeof shape, "(");
        for (int d = 0; d < t->ndim && used < sizeof shape; d++)
            used += (size_t)snprintf(shape + used, sizeof shape - used, d ? ", %" PRId64 : "%" PRId64,
                                     t->shape[d]);
        if (used < sizeof shape)
            snprintf(shape + used, sizeof shape - used, t->ndim == 1 ? ",)" : ")");
        printf("  %-*s  %-5s  %-22s  %12zu", nw, t->name, lc_dtype_name(t->dtype), shape, t->nbytes);
        if (stats) print_stats(t);
        printf("\n");
    }
    lc_file_free(f);
    return 0;
}
