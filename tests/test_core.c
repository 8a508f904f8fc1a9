// tests/test_core.c: the core layer besides the container: RNG streams and
// moments, error messages, metrics files, progress lines, PNG/GIF output read
// back with libpng/giflib, the canvas and plots. Leaves out: test_file.c's work.
#include <check.h>
#include <gif_lib.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/image.h"
#include "core/metrics.h"
#include "core/progress.h"
#include "core/rng.h"
#include "tests/helpers/tmpdir.h"

static void setup_dir(void) { tmpdir_make("core"); }
static void teardown_dir(void) { tmpdir_remove(); }

// The whole file as a NUL-terminated string (malloc'd).
static char *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    if (len) *len = (size_t)n;
    return buf;
}

static void write_text(const char *path, const char *text) {
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

static int count_files(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", tmpdir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

// ---------------------------------------------------------------- rng

START_TEST(test_rng_deterministic_streams) {
    lc_rng a, b, c, d;
    lc_rng_seed(&a, 42, 3);
    lc_rng_seed(&b, 42, 3);
    lc_rng_seed(&c, 42, 4);
    lc_rng_seed(&d, 43, 3);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = lc_rng_u64(&a);
        ck_assert_uint_eq(x, lc_rng_u64(&b));
        same_c += x == lc_rng_u64(&c);
        same_d += x == lc_rng_u64(&d);
    }
    ck_assert_int_eq(same_c, 0);
    ck_assert_int_eq(same_d, 0);
    // Neighbouring streams are uncorrelated (sample correlation of uniforms).
    lc_rng_seed(&a, 1, 0);
    lc_rng_seed(&b, 1, 1);
    double sab = 0, sa = 0, sb = 0, saa = 0, sbb = 0;
    int n = 20000;
    for (int i = 0; i < n; i++) {
        double x = lc_rng_double(&a), y = lc_rng_double(&b);
        sab += x * y, sa += x, sb += y, saa += x * x, sbb += y * y;
    }
    double cov = sab / n - (sa / n) * (sb / n);
    double corr = cov / sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
    ck_assert_double_lt(fabs(corr), 0.05);
    // split advances the parent and gives a different sequence.
    lc_rng_seed(&a, 9, 0);
    lc_rng_seed(&b, 9, 0);
    lc_rng s1 = lc_rng_split(&a);
    lc_rng s2 = lc_rng_split(&b);
    ck_assert_uint_eq(lc_rng_u64(&s1), lc_rng_u64(&s2));
    ck_assert_uint_ne(lc_rng_u64(&s1), lc_rng_u64(&a));
    // Seed 0, stream 0 is a valid, non-stuck generator.
    lc_rng_seed(&a, 0, 0);
    ck_assert_uint_ne(lc_rng_u64(&a), lc_rng_u64(&a));
}
END_TEST

START_TEST(test_rng_below) {
    lc_rng r;
    lc_rng_seed(&r, 5, 0);
    // (Counters, not an assertion per draw: each ck_assert costs a pipe write.)
    int out_of_range = 0, seen[3] = {0};
    for (int i = 0; i < 100; i++) out_of_range += lc_rng_below(&r, 1) != 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t v = lc_rng_below(&r, 3);
        if (v < 3) seen[v]++;
        else out_of_range++;
    }
    for (int i = 0; i < 1000; i++) out_of_range += lc_rng_below(&r, UINT32_MAX) >= UINT32_MAX;
    ck_assert_int_eq(out_of_range, 0);
    ck_assert(seen[0] > 3000 && seen[1] > 3000 && seen[2] > 3000);
    // Chi-square over 10 buckets: 9 degrees of freedom, p = 0.001 at 27.9.
    int counts[10] = {0}, n = 100000;
    for (int i = 0; i < n; i++) counts[lc_rng_below(&r, 10)]++;
    double chi = 0;
    for (int k = 0; k < 10; k++) chi += pow(counts[k] - n / 10.0, 2) / (n / 10.0);
    ck_assert_double_lt(chi, 27.9);
    // A bound near 2^31, where a modulo would be biased 2:1 toward the low half.
    uint32_t big = 3u << 30; // 3 * 2^30
    int low = 0;
    for (int i = 0; i < 30000; i++) low += lc_rng_below(&r, big) < big / 2;
    ck_assert_double_lt(fabs(low / 30000.0 - 0.5), 0.02);
}
END_TEST

START_TEST(test_rng_moments) {
    lc_rng r;
    lc_rng_seed(&r, 2024, 7);
    int n = 200000;
    double s = 0, ss = 0, fs = 0, ns = 0, nss = 0, n4 = 0, us = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        double u = lc_rng_double(&r);
        bad += !(u >= 0 && u < 1);
        s += u, ss += u * u;
        float f = lc_rng_float(&r);
        bad += !(f >= 0 && f < 1);
        fs += f;
        double v = lc_rng_uniform(&r, -3, 5);
        bad += !(v >= -3 && v < 5);
        us += v;
        double z = lc_rng_normal(&r);
        bad += !isfinite(z);
        ns += z, nss += z * z, n4 += z * z * z * z;
    }
    ck_assert_int_eq(bad, 0);
    ck_assert_double_eq_tol(s / n, 0.5, 0.005);
    ck_assert_double_eq_tol(ss / n - (s / n) * (s / n), 1.0 / 12, 0.002);
    ck_assert_double_eq_tol(fs / n, 0.5, 0.005);
    ck_assert_double_eq_tol(us / n, 1.0, 0.04);
    ck_assert_double_eq_tol(ns / n, 0.0, 0.01);
    ck_assert_double_eq_tol(nss / n, 1.0, 0.015);
    ck_assert_double_eq_tol(n4 / n, 3.0, 0.1); // normal kurtosis
    ck_assert_uint_lt(lc_rng_u32(&r), UINT32_MAX + 1ull);
}
END_TEST

// ---------------------------------------------------------------- errors

START_TEST(test_error_format) {
    lc_error e;
    lc_error_clear(&e);
    ck_assert_int_eq(e.code, LC_OK);
    ck_assert_str_eq(e.msg, "");
    ck_assert_int_eq(lc_fail(&e, LC_ERR_SHAPE, "tensor '%s' has %d dims", "w", 3), LC_ERR_SHAPE);
    ck_assert_int_eq(e.code, LC_ERR_SHAPE);
    ck_assert_str_eq(e.msg, "tensor 'w' has 3 dims");
    ck_assert_int_eq(lc_error_prefix(&e, "%s: ", "model.lucid"), LC_ERR_SHAPE);
    ck_assert_str_eq(e.msg, "model.lucid: tensor 'w' has 3 dims");
    ck_assert_int_eq(lc_fail(NULL, LC_ERR_IO, "ignored %d", 1), LC_ERR_IO);

    // Long messages are truncated, never overflowed.
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lc_fail(&e, LC_ERR_ARG, "%s", big);
    ck_assert_uint_eq(strlen(e.msg), sizeof e.msg - 1);
    lc_error_prefix(&e, "prefix: ");
    ck_assert_uint_eq(strlen(e.msg), sizeof e.msg - 1);
    ck_assert(strncmp(e.msg, "prefix: xxx", 11) == 0);
    lc_fail(&e, LC_ERR_ARG, "short");
    lc_error_prefix(&e, "%s", big);
    ck_assert_uint_eq(strlen(e.msg), sizeof e.msg - 1);

    // Every status has its own name.
    for (int i = 0; i < LC_ERR_COUNT; i++) {
        ck_assert_ptr_nonnull(lc_status_str(i));
        for (int j = 0; j < i; j++) ck_assert_str_ne(lc_status_str(i), lc_status_str(j));
    }
    ck_assert_str_eq(lc_status_str(LC_OK), "ok");
    ck_assert_str_eq(lc_status_str(-1), "unknown error");
    ck_assert_str_eq(lc_status_str(LC_ERR_COUNT), "unknown error");
}
END_TEST

// ---------------------------------------------------------------- metrics

START_TEST(test_metrics_csv) {
    char path[300];
    path_in(path, sizeof path, "m.csv");
    lc_metrics *m;
    lc_error e;
    ck_assert_int_eq(lc_metrics_open(&m, path, 0, &e), LC_OK);
    const char *k1[] = {"step", "return", "loss,total"};
    ck_assert_int_eq(lc_metrics_row(m, 3, k1, (double[]){1000, 12.5, 0.25}, &e), LC_OK);
    const char *k2[] = {"return", "step"}; // another order, one column missing
    ck_assert_int_eq(lc_metrics_row(m, 2, k2, (double[]){NAN, 2000}, &e), LC_OK);
    const char *k3[] = {"step", "surprise"};
    ck_assert_int_eq(lc_metrics_row(m, 2, k3, (double[]){1, 2}, &e), LC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(e.msg, "surprise"));
    const char *k4[] = {"step", "step"};
    ck_assert_int_eq(lc_metrics_row(m, 2, k4, (double[]){1, 2}, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_metrics_row(m, 1, k1, (double[]){INFINITY}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    char *text = slurp(path, NULL);
    ck_assert_str_eq(text, "step,return,\"loss,total\"\n1000,12.5,0.25\n2000,,\n,,\n");
    free(text);

    // Append keeps the existing header (and its column order), writes none.
    ck_assert_int_eq(lc_metrics_open(&m, path, 1, &e), LC_OK);
    const char *k5[] = {"loss,total", "step"};
    ck_assert_int_eq(lc_metrics_row(m, 2, k5, (double[]){0.125, 3000}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_row(m, 1, k3 + 1, (double[]){1}, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    text = slurp(path, NULL);
    ck_assert_str_eq(text, "step,return,\"loss,total\"\n1000,12.5,0.25\n2000,,\n,,\n3000,,0.125\n");
    free(text);

    // Append to a missing or empty file writes the header; a cut-off last row
    // gets its newline first.
    path_in(path, sizeof path, "new.csv");
    ck_assert_int_eq(lc_metrics_open(&m, path, 1, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_row(m, 2, k2, (double[]){1.5, 10}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    text = slurp(path, NULL);
    ck_assert_str_eq(text, "return,step\n1.5,10\n");
    free(text);
    write_text(path, "return,step\n1.5,10\n2.5,2");
    ck_assert_int_eq(lc_metrics_open(&m, path, 1, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_row(m, 2, k2, (double[]){3.5, 30}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    text = slurp(path, NULL);
    ck_assert_str_eq(text, "return,step\n1.5,10\n2.5,2\n3.5,30\n");
    free(text);

    // Not append: truncates.
    ck_assert_int_eq(lc_metrics_open(&m, path, 0, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_row(m, 1, k1, (double[]){-7}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    text = slurp(path, NULL);
    ck_assert_str_eq(text, "step\n-7\n");
    free(text);
}
END_TEST

START_TEST(test_metrics_jsonl) {
    char path[300];
    path_in(path, sizeof path, "m.JSONL");
    lc_metrics *m;
    lc_error e;
    ck_assert_int_eq(lc_metrics_open(&m, path, 0, &e), LC_OK);
    const char *k1[] = {"step", "ret", "we\"ird\\key\n"};
    ck_assert_int_eq(lc_metrics_row(m, 3, k1, (double[]){5, -0.5, 1e-12}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_row(m, 2, k1, (double[]){6, NAN}, &e), LC_OK);
    const char *k2[] = {"other"}; // JSONL rows may have any keys
    ck_assert_int_eq(lc_metrics_row(m, 1, k2, (double[]){123456789}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    char *text = slurp(path, NULL);
    ck_assert_str_eq(text,
                     "{\"step\": 5, \"ret\": -0.5, \"we\\\"ird\\\\key\\u000a\": 1e-12}\n"
                     "{\"step\": 6, \"ret\": null}\n"
                     "{\"other\": 123456789}\n");
    free(text);
    // Every line is valid JSON for Python's json module.
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '%s'",
             path);
    ck_assert_int_eq(system(cmd), 0);

    ck_assert_int_eq(lc_metrics_open(&m, path, 1, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_row(m, 1, k2, (double[]){1}, &e), LC_OK);
    ck_assert_int_eq(lc_metrics_close(m, &e), LC_OK);
    text = slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "{\"other\": 123456789}\n{\"other\": 1}\n"));
    free(text);

    path_in(path, sizeof path, "m.txt");
    m = (lc_metrics *)1;
    ck_assert_int_eq(lc_metrics_open(&m, path, 0, &e), LC_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(lc_metrics_open(&m, "noext", 0, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_metrics_open(&m, "/no/such/dir/m.csv", 0, &e), LC_ERR_IO);
    ck_assert_int_eq(lc_metrics_close(NULL, &e), LC_OK);
}
END_TEST

// ---------------------------------------------------------------- progress

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

START_TEST(test_progress_lines) {
    char path[300];
    path_in(path, sizeof path, "progress.txt");
    FILE *fp = fopen(path, "w+");
    ck_assert_ptr_nonnull(fp);
    lc_progress *p = lc_progress_new(fp, "train", 1000);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i <= 1000; i++) lc_progress_update(p, i, "ret 1.0");
    lc_progress_finish(p, "ret 312.5");
    fclose(fp);
    char *text = slurp(path, NULL);
    // Not a terminal: no carriage returns, few lines, a final line at 100%.
    ck_assert_ptr_null(strchr(text, '\r'));
    ck_assert_int_ge(count_lines(text), 1);
    ck_assert_int_le(count_lines(text), 3);
    const char *last = strstr(text, "train: 100% 1000/1000");
    ck_assert_msg(last != NULL, "got '%s'", text);
    ck_assert_ptr_nonnull(strstr(last, "ret 312.5"));
    free(text);

    // A NULL stream is silent; NULL handles are ignored.
    p = lc_progress_new(NULL, "quiet", 10);
    ck_assert_ptr_nonnull(p);
    lc_progress_update(p, 5, NULL);
    lc_progress_finish(p, NULL);
    lc_progress_update(NULL, 1, NULL);
    lc_progress_finish(NULL, NULL);

    double t0 = lc_now(), t1 = lc_now();
    ck_assert(t0 > 0 && t1 >= t0);
}
END_TEST

// ---------------------------------------------------------------- images

static const uint8_t PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Reads a PNG back as RGB with libpng's simplified API (malloc'd).
static uint8_t *png_read_rgb(const char *path, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    ck_assert_msg(png_image_finish_read(&img, NULL, buf, 0, NULL), "%s", img.message);
    *w = (int)img.width, *h = (int)img.height;
    return buf;
}

START_TEST(test_png_roundtrip) {
    int w = 37, h = 23;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) rgb[i] = (uint8_t)(i * 31 + 7);
    char path[300];
    path_in(path, sizeof path, "img.png");
    lc_error e;
    ck_assert_int_eq(lc_png_write(path, rgb, w, h, &e), LC_OK);
    ck_assert_int_eq(count_files(), 1); // no temporary left
    size_t len;
    char *raw = slurp(path, &len);
    ck_assert_mem_eq(raw, PNG_MAGIC, 8);
    free(raw);
    int rw, rh;
    uint8_t *back = png_read_rgb(path, &rw, &rh);
    ck_assert_int_eq(rw, w);
    ck_assert_int_eq(rh, h);
    ck_assert_mem_eq(back, rgb, (size_t)w * h * 3);
    free(back);
    // Also readable by Python's zlib: the IDAT stream inflates to h rows of 1 + 3w bytes.
    char cmd[700];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sys,zlib,struct\n"
             "d=open(sys.argv[1],\"rb\").read(); p=8; idat=b\"\"\n"
             "while p<len(d):\n"
             " n,=struct.unpack(\">I\",d[p:p+4]); t=d[p+4:p+8]\n"
             " if zlib.crc32(d[p+4:p+8+n])!=struct.unpack(\">I\",d[p+8+n:p+12+n])[0]: sys.exit(2)\n"
             " idat+=d[p+8:p+8+n] if t==b\"IDAT\" else b\"\"; p+=12+n\n"
             "sys.exit(0 if len(zlib.decompress(idat))==%d*(1+3*%d) else 3)' '%s'",
             h, w, path);
    ck_assert_int_eq(system(cmd), 0);

    ck_assert_int_eq(lc_png_write(path, rgb, 0, h, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_png_write("/no/such/dir/x.png", rgb, w, h, &e), LC_ERR_IO);
    free(rgb);
}
END_TEST

START_TEST(test_gif_roundtrip) {
    int w = 16, h = 8, nframes = 3;
    // Colours on the 6x7x6 cube come back exactly.
    const uint8_t colors[3][3] = {{255, 0, 0}, {0, 85, 255}, {51, 212, 102}};
    uint8_t *rgb = malloc((size_t)w * h * 3);
    char path[300];
    path_in(path, sizeof path, "anim.gif");
    lc_gif *g;
    lc_error e;
    ck_assert_int_eq(lc_gif_open(&g, path, w, h, 7, &e), LC_OK);
    for (int f = 0; f < nframes; f++) {
        for (int i = 0; i < w * h; i++) memcpy(rgb + 3 * i, colors[(i + f) % 3], 3);
        ck_assert_int_eq(lc_gif_frame(g, rgb, &e), LC_OK);
    }
    ck_assert_int_eq(access(path, F_OK), -1); // nothing at PATH before close
    ck_assert_int_eq(lc_gif_close(g, &e), LC_OK);
    ck_assert_int_eq(count_files(), 1);

    size_t len;
    char *raw = slurp(path, &len);
    ck_assert_mem_eq(raw, "GIF89a", 6);
    ck_assert_int_eq((unsigned char)raw[len - 1], 0x3b); // trailer
    int has_loop = 0;
    for (size_t i = 0; i + 11 <= len; i++) has_loop |= memcmp(raw + i, "NETSCAPE2.0", 11) == 0;
    ck_assert(has_loop);
    free(raw);

    int code;
    GifFileType *gif = DGifOpenFileName(path, &code);
    ck_assert_ptr_nonnull(gif);
    ck_assert_int_eq(DGifSlurp(gif), GIF_OK);
    ck_assert_int_eq(gif->SWidth, w);
    ck_assert_int_eq(gif->SHeight, h);
    ck_assert_int_eq(gif->ImageCount, nframes);
    const ColorMapObject *map = gif->SColorMap;
    ck_assert_ptr_nonnull(map);
    for (int f = 0; f < nframes; f++) {
        const SavedImage *im = &gif->SavedImages[f];
        ck_assert_int_eq(im->ImageDesc.Width, w);
        GraphicsControlBlock gcb;
        ck_assert_int_eq(DGifSavedExtensionToGCB(gif, f, &gcb), GIF_OK);
        ck_assert_int_eq(gcb.DelayTime, 7);
        int wrong = 0;
        for (int i = 0; i < w * h; i++) {
            const GifColorType *c = &map->Colors[im->RasterBits[i]];
            const uint8_t *want = colors[(i + f) % 3];
            wrong += c->Red != want[0] || c->Green != want[1] || c->Blue != want[2];
        }
        ck_assert_int_eq(wrong, 0);
    }
    DGifCloseFile(gif, &code);

    // Errors: bad sizes; a GIF with no frame is not written.
    ck_assert_int_eq(lc_gif_open(&g, path, 0, 5, 1, &e), LC_ERR_ARG);
    ck_assert_ptr_null(g);
    path_in(path, sizeof path, "empty.gif");
    ck_assert_int_eq(lc_gif_open(&g, path, 4, 4, 1, &e), LC_OK);
    ck_assert_int_eq(lc_gif_close(g, &e), LC_ERR_STATE);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(count_files(), 1);
    ck_assert_int_eq(lc_gif_open(&g, "/no/such/dir/a.gif", 4, 4, 1, &e), LC_ERR_IO);
    free(rgb);
}
END_TEST

static uint32_t pixel(const lc_canvas *c, int x, int y) {
    const uint8_t *p = c->rgb + ((size_t)y * c->w + x) * 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

START_TEST(test_canvas) {
    lc_canvas c;
    lc_error e;
    ck_assert_int_eq(lc_canvas_init(&c, 0, 5, 0, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_canvas_init(&c, 40, 30, 0x102030, &e), LC_OK);
    ck_assert_uint_eq(pixel(&c, 39, 29), 0x102030);
    // Rectangles clip at every edge.
    lc_canvas_fill_rect(&c, -5, -5, 10, 10, 0xff0000);
    lc_canvas_fill_rect(&c, 35, 25, 100, 100, 0x00ff00);
    lc_canvas_fill_rect(&c, 100, 100, 5, 5, 0x0000ff);
    ck_assert_uint_eq(pixel(&c, 0, 0), 0xff0000);
    ck_assert_uint_eq(pixel(&c, 4, 4), 0xff0000);
    ck_assert_uint_eq(pixel(&c, 5, 5), 0x102030);
    ck_assert_uint_eq(pixel(&c, 39, 29), 0x00ff00);
    // Lines include both ends; lines leaving the canvas are clipped.
    lc_canvas_line(&c, 10, 20, 30, 10, 0xffffff);
    ck_assert_uint_eq(pixel(&c, 10, 20), 0xffffff);
    ck_assert_uint_eq(pixel(&c, 30, 10), 0xffffff);
    lc_canvas_line(&c, -100, 15, 200, 15, 0x123456);
    for (int x = 0; x < 40; x++) ck_assert_uint_eq(pixel(&c, x, 15), 0x123456);
    // Text: 'H' at scale 2 sets its left column, a space sets nothing.
    lc_canvas_fill_rect(&c, 0, 0, 40, 30, 0);
    lc_canvas_text(&c, 2, 2, " H", 0xffffff, 2);
    ck_assert_uint_eq(pixel(&c, 2, 2), 0);          // the space
    ck_assert_uint_eq(pixel(&c, 14, 2), 0xffffff);  // 'H' top-left, at x = 2 + 6*2
    ck_assert_uint_eq(pixel(&c, 15, 15), 0xffffff); // bottom-left block
    ck_assert_uint_eq(pixel(&c, 16, 2), 0);         // inside the H
    lc_canvas_text(&c, 35, 25, "clipped \x01\xff", 0xffffff, 3); // off the edge: no crash
    // Blit with scale 2, clipped.
    uint8_t src[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    lc_canvas_blit(&c, 1, 1, src, 2, 2, 2);
    ck_assert_uint_eq(pixel(&c, 1, 1), 0xff0000);
    ck_assert_uint_eq(pixel(&c, 2, 2), 0xff0000);
    ck_assert_uint_eq(pixel(&c, 3, 1), 0x00ff00);
    ck_assert_uint_eq(pixel(&c, 1, 3), 0x0000ff);
    ck_assert_uint_eq(pixel(&c, 4, 4), 0xffffff);
    lc_canvas_blit(&c, 38, 28, src, 2, 2, 3);
    ck_assert_uint_eq(pixel(&c, 39, 29), 0xff0000);
    lc_canvas_free(&c);
    ck_assert_ptr_null(c.rgb);
}
END_TEST

START_TEST(test_plot_png) {
    enum { N = 120 };
    double x[N], y[N], lo[N], hi[N], y2[N];
    for (int i = 0; i < N; i++) {
        x[i] = i * 1000.0;
        y[i] = 200 * (1 - exp(-i / 30.0));
        lo[i] = y[i] - 20, hi[i] = y[i] + 20;
        y2[i] = i == 50 ? NAN : 50 + i;
    }
    lc_series s[2] = {{"dream", x, y, lo, hi, N}, {"real", x, y2, NULL, NULL, N}};
    char path[300];
    path_in(path, sizeof path, "plot.png");
    lc_error e;
    ck_assert_int_eq(lc_plot_png(path, "returns", "steps", "return", s, 2, 640, 400, &e), LC_OK);
    int w, h;
    uint8_t *rgb = png_read_rgb(path, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 400);
    // The series colours appear (tab10 blue and orange), and the image is mostly white.
    int blue = 0, orange = 0, white = 0;
    for (int i = 0; i < w * h; i++) {
        uint32_t p = (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
        blue += p == 0x1f77b4, orange += p == 0xff7f0e, white += p == 0xffffff;
    }
    ck_assert_int_gt(blue, 200);
    ck_assert_int_gt(orange, 200);
    ck_assert_int_gt(white, w * h / 2);
    free(rgb);

    // Degenerate data still plots: one point, a flat line, no finite values, no series.
    double one = 3, nan = NAN;
    lc_series d[3] = {{"one", &one, &one, NULL, NULL, 1},
                      {NULL, x, lo, NULL, NULL, 0},
                      {"nan", &nan, &nan, NULL, NULL, 1}};
    ck_assert_int_eq(lc_plot_png(path, NULL, NULL, NULL, d, 3, 300, 200, &e), LC_OK);
    ck_assert_int_eq(lc_plot_png(path, "empty", "x", "y", NULL, 0, 300, 200, &e), LC_OK);
    // A title too long for the picture at the usual size is drawn at the small size, all of
    // it inside (the first design centred it at double size and cut both ends off).
    ck_assert_int_eq(lc_plot_png(path, "a forty character title for a plot here",
                                 "x", "y", s, 2, 300, 200, &e), LC_OK);
    rgb = png_read_rgb(path, &w, &h);
    int rows = 0, left = w, right = -1;
    for (int yy = 0; yy < 24; yy++) {
        int any = 0;
        for (int xx = 0; xx < w; xx++)
            if (rgb[3 * (yy * w + xx)] < 128) {
                any = 1;
                left = xx < left ? xx : left;
                right = xx > right ? xx : right;
            }
        rows += any;
    }
    ck_assert_int_le(rows, 9);                    // one text line at scale 1 (7 pixels high)
    ck_assert_int_gt(left, 0);                    // starts inside the picture
    ck_assert_int_lt(right, w - 1);               // and ends inside it
    free(rgb);
    // Bad arguments.
    ck_assert_int_eq(lc_plot_png(path, "t", "x", "y", s, 2, 20, 20, &e), LC_ERR_ARG);
    lc_series bad = {"bad", NULL, y, NULL, NULL, 3};
    ck_assert_int_eq(lc_plot_png(path, "t", "x", "y", &bad, 1, 300, 200, &e), LC_ERR_ARG);
    lc_series half = {"half", x, y, lo, NULL, N};
    ck_assert_int_eq(lc_plot_png(path, "t", "x", "y", &half, 1, 300, 200, &e), LC_ERR_ARG);
    ck_assert_int_eq(count_files(), 1);
}
END_TEST

static Suite *core_suite(void) {
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, test_rng_deterministic_streams);
    tcase_add_test(tc, test_rng_below);
    tcase_add_test(tc, test_rng_moments);
    suite_add_tcase(s, tc);

    tc = tcase_create("error");
    tcase_add_test(tc, test_error_format);
    suite_add_tcase(s, tc);

    tc = tcase_create("logging");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, test_metrics_csv);
    tcase_add_test(tc, test_metrics_jsonl);
    tcase_add_test(tc, test_progress_lines);
    suite_add_tcase(s, tc);

    tc = tcase_create("images");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_png_roundtrip);
    tcase_add_test(tc, test_gif_roundtrip);
    tcase_add_test(tc, test_canvas);
    tcase_add_test(tc, test_plot_png);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(core_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
