// tests/test_file.c: the lucid container: round trips of every dtype and meta
// type, getters, a corruption corpus (truncations, byte flips, crafted bodies),
// atomic writes, and a read by Python's msgpack. Leaves out: timing.
#include <check.h>
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "core/rng.h"
#include "tests/helpers/tmpdir.h"

// ---------------------------------------------------------------- helpers

static void setup_dir(void) { tmpdir_make("file"); }
static void teardown_dir(void) { tmpdir_remove(); }

static int count_files(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

// A small file with one tensor of each kind of layout.
static lc_file *small_file(void) {
    lc_file *f = lc_file_new("test");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(lc_file_set_int(f, "steps", 1000), LC_OK);
    ck_assert_int_eq(lc_file_set_float(f, "lr", 3e-4), LC_OK);
    ck_assert_int_eq(lc_file_set_str(f, "env", "CartPole-v1"), LC_OK);
    float w[6] = {1, 2, 3, 4, 5, 6};
    uint8_t u[4] = {0, 1, 254, 255};
    int64_t i[2] = {-5, 5};
    lc_error e;
    ck_assert_int_eq(lc_file_add(f, "w", LC_F32, 2, (int64_t[]){2, 3}, w, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "u", LC_U8, 1, (int64_t[]){4}, u, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "i", LC_I64, 1, (int64_t[]){2}, i, &e), LC_OK);
    return f;
}

static uint8_t *small_bytes(size_t *len) {
    lc_file *f = small_file();
    void *buf;
    lc_error e;
    ck_assert_int_eq(lc_file_encode(f, &buf, len, &e), LC_OK);
    lc_file_free(f);
    return buf;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// Wraps a body in a valid header and checksum (malloc'd, *len set).
static uint8_t *wrap(const void *body, size_t n, size_t *len) {
    uint8_t *p = malloc(n + 24);
    if (!p) ck_abort_msg("out of memory");
    memcpy(p, "\x89LUCID\r\n", 8);
    put32(p + 8, LC_FILE_VERSION);
    put64(p + 12, n);
    if (n) memcpy(p + 20, body, n);
    put32(p + 20 + n, lc_crc32(p + 20, n));
    *len = n + 24;
    return p;
}

// Decodes buf; on failure checks that *out stayed NULL and a message was set.
// (Plain tests with ck_abort_msg: the corpus runs this thousands of times and
// each ck_assert costs a pipe write.)
static int decode(const void *buf, size_t len, lc_error *e) {
    lc_file *f = (lc_file *)1;
    lc_error_clear(e);
    int rc = lc_file_decode(buf, len, &f, e);
    if (rc == LC_OK) {
        if (!f) ck_abort_msg("decode succeeded without a file");
        lc_file_free(f);
    } else {
        if (f) ck_abort_msg("decode failed (%s) but set *out", e->msg);
        if ((int)e->code != rc || e->msg[0] == '\0') ck_abort_msg("error %d without a message", rc);
    }
    return rc;
}

static int decode_body(const void *body, size_t n, lc_error *e) {
    size_t len;
    uint8_t *p = wrap(body, n, &len);
    int rc = decode(p, len, e);
    free(p);
    return rc;
}

// ---------------------------------------------------------------- round trips

START_TEST(test_crc32_known) {
    ck_assert_uint_eq(lc_crc32("123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(lc_crc32("", 0), 0);
    // Every alignment and length against a bitwise reference.
    uint8_t buf[300];
    for (int i = 0; i < 300; i++) buf[i] = (uint8_t)(i * 37 + 11);
    for (int off = 0; off < 9; off++)
        for (int n = 0; n < 280; n += 7) {
            uint32_t c = 0xffffffffu;
            for (int k = 0; k < n; k++) {
                c ^= buf[off + k];
                for (int b = 0; b < 8; b++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            ck_assert_uint_eq(lc_crc32(buf + off, (size_t)n), c ^ 0xffffffffu);
        }
}
END_TEST

START_TEST(test_roundtrip_dtypes_and_meta) {
    lc_file *f = lc_file_new("everything");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(lc_file_set_int(f, "zero", 0), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "min", INT64_MIN), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "max", INT64_MAX), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "neg", -129), LC_OK);
    ck_assert_int_eq(lc_file_set_float(f, "third", 1.0 / 3.0), LC_OK);
    ck_assert_int_eq(lc_file_set_float(f, "nan", NAN), LC_OK);
    ck_assert_int_eq(lc_file_set_float(f, "inf", -INFINITY), LC_OK);
    ck_assert_int_eq(lc_file_set_float(f, "negzero", -0.0), LC_OK);
    ck_assert_int_eq(lc_file_set_str(f, "empty", ""), LC_OK);
    ck_assert_int_eq(lc_file_set_str(f, "utf8", "gr\xc3\xbc\xc3\x9f"), LC_OK);

    float f32[2 * 3 * 4 * 5];
    double f64[7];
    uint8_t u8[64 * 64 * 3];
    int32_t i32[5] = {INT32_MIN, -1, 0, 1, INT32_MAX};
    int64_t i64[3] = {INT64_MIN, 0, INT64_MAX};
    for (int i = 0; i < 120; i++) f32[i] = (float)i * 0.25f - 7.0f;
    for (int i = 0; i < 7; i++) f64[i] = 1e300 / (i + 1);
    for (int i = 0; i < 64 * 64 * 3; i++) u8[i] = (uint8_t)(i * 7);
    float scalar = 42.5f;
    lc_error e;
    ck_assert_int_eq(lc_file_add(f, "f32", LC_F32, 4, (int64_t[]){2, 3, 4, 5}, f32, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "f64", LC_F64, 1, (int64_t[]){7}, f64, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "u8", LC_U8, 3, (int64_t[]){64, 64, 3}, u8, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "i32", LC_I32, 1, (int64_t[]){5}, i32, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "i64", LC_I64, 2, (int64_t[]){1, 3}, i64, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "scalar", LC_F32, 0, NULL, &scalar, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "empty", LC_F32, 2, (int64_t[]){0, 3}, NULL, &e), LC_OK);

    void *buf;
    size_t len;
    ck_assert_int_eq(lc_file_encode(f, &buf, &len, &e), LC_OK);
    lc_file *g;
    ck_assert_int_eq(lc_file_decode(buf, len, &g, &e), LC_OK);

    ck_assert_str_eq(lc_file_kind(g), "everything");
    int64_t iv;
    double dv;
    const char *sv;
    ck_assert_int_eq(lc_file_get_int(g, "zero", &iv, &e), LC_OK);
    ck_assert_int_eq(iv, 0);
    ck_assert_int_eq(lc_file_get_int(g, "min", &iv, &e), LC_OK);
    ck_assert(iv == INT64_MIN);
    ck_assert_int_eq(lc_file_get_int(g, "max", &iv, &e), LC_OK);
    ck_assert(iv == INT64_MAX);
    ck_assert_int_eq(lc_file_get_int(g, "neg", &iv, &e), LC_OK);
    ck_assert_int_eq(iv, -129);
    ck_assert_int_eq(lc_file_get_float(g, "third", &dv, &e), LC_OK);
    ck_assert(dv == 1.0 / 3.0);
    ck_assert_int_eq(lc_file_get_float(g, "nan", &dv, &e), LC_OK);
    ck_assert(isnan(dv));
    ck_assert_int_eq(lc_file_get_float(g, "inf", &dv, &e), LC_OK);
    ck_assert(isinf(dv) && dv < 0);
    ck_assert_int_eq(lc_file_get_float(g, "negzero", &dv, &e), LC_OK);
    ck_assert(dv == 0.0 && signbit(dv));
    ck_assert_int_eq(lc_file_get_str(g, "empty", &sv, &e), LC_OK);
    ck_assert_str_eq(sv, "");
    ck_assert_int_eq(lc_file_get_str(g, "utf8", &sv, &e), LC_OK);
    ck_assert_str_eq(sv, "gr\xc3\xbc\xc3\x9f");

    ck_assert_int_eq(lc_file_ntensors(g), 7);
    const char *order[] = {"f32", "f64", "u8", "i32", "i64", "scalar", "empty"};
    for (int i = 0; i < 7; i++) ck_assert_str_eq(lc_file_tensor_at(g, i)->name, order[i]);
    ck_assert_ptr_null(lc_file_tensor_at(g, 7));
    ck_assert_ptr_null(lc_file_tensor_at(g, -1));

    const lc_tensor *t = lc_file_expect(g, "f32", LC_F32, 4, (int64_t[]){2, 3, 4, 5}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->nbytes, sizeof f32);
    ck_assert_mem_eq(t->data, f32, sizeof f32);
    ck_assert_uint_eq((uintptr_t)t->data % 16, 0); // its own malloc'd, aligned buffer
    t = lc_file_expect(g, "f64", LC_F64, 1, (int64_t[]){7}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_mem_eq(t->data, f64, sizeof f64);
    t = lc_file_expect(g, "u8", LC_U8, 3, (int64_t[]){64, 64, 3}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_mem_eq(t->data, u8, sizeof u8);
    t = lc_file_expect(g, "i32", LC_I32, 1, (int64_t[]){5}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_mem_eq(t->data, i32, sizeof i32);
    t = lc_file_expect(g, "i64", LC_I64, 2, (int64_t[]){1, 3}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_mem_eq(t->data, i64, sizeof i64);
    t = lc_file_expect(g, "scalar", LC_F32, 0, NULL, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->nbytes, 4);
    ck_assert_float_eq(*(float *)t->data, 42.5f);
    t = lc_file_expect(g, "empty", LC_F32, 2, (int64_t[]){0, 3}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->nbytes, 0);

    // Re-encoding gives identical bytes (deterministic writer).
    void *buf2;
    size_t len2;
    ck_assert_int_eq(lc_file_encode(g, &buf2, &len2, &e), LC_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert_mem_eq(buf, buf2, len);
    free(buf2);
    free(buf);
    lc_file_free(g);
    lc_file_free(f);
}
END_TEST

START_TEST(test_roundtrip_disk) {
    char path[300];
    path_in(path, sizeof path, "small.lucid");
    lc_file *f = small_file();
    lc_error e;
    ck_assert_int_eq(lc_file_write(f, path, &e), LC_OK);
    ck_assert_int_eq(count_files(tmpdir), 1); // no temporary left behind
    lc_file *g;
    ck_assert_int_eq(lc_file_read(path, &g, &e), LC_OK);
    ck_assert_str_eq(lc_file_kind(g), "test");
    int64_t steps;
    ck_assert_int_eq(lc_file_get_int(g, "steps", &steps, &e), LC_OK);
    ck_assert_int_eq(steps, 1000);
    const lc_tensor *t = lc_file_expect(g, "w", LC_F32, 2, (int64_t[]){2, 3}, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_float_eq(((float *)t->data)[5], 6.0f);

    // The file's bytes are exactly what encode gives.
    void *buf;
    size_t len;
    ck_assert_int_eq(lc_file_encode(f, &buf, &len, &e), LC_OK);
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    uint8_t *disk = malloc(len + 1);
    ck_assert_uint_eq(fread(disk, 1, len + 1, fp), len);
    fclose(fp);
    ck_assert_mem_eq(disk, buf, len);
    free(disk);
    free(buf);
    lc_file_free(g);
    lc_file_free(f);
}
END_TEST

START_TEST(test_replace_and_getters) {
    lc_file *f = lc_file_new("k");
    lc_error e;
    ck_assert_int_eq(lc_file_set_int(f, "a", 1), LC_OK);
    ck_assert_int_eq(lc_file_set_str(f, "a", "now a string"), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "n", 7), LC_OK);
    ck_assert_int_eq(lc_file_set_float(f, "x", 2.5), LC_OK);
    ck_assert_int_eq(lc_file_set_int(f, "", 1), LC_ERR_ARG);
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(lc_file_set_int(f, longkey, 1), LC_ERR_ARG);

    ck_assert_int_eq(lc_file_nmeta(f), 3); // "a" was replaced, not added
    ck_assert_str_eq(lc_file_meta_key(f, 0), "a");
    ck_assert_str_eq(lc_file_meta_key(f, 2), "x");
    ck_assert_ptr_null(lc_file_meta_key(f, 3));
    const char *s;
    int64_t i;
    double d;
    ck_assert_int_eq(lc_file_get_str(f, "a", &s, &e), LC_OK);
    ck_assert_str_eq(s, "now a string");
    ck_assert_int_eq(lc_file_get_int(f, "a", &i, &e), LC_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(e.msg, "'a'"));
    ck_assert_int_eq(lc_file_get_float(f, "a", &d, &e), LC_ERR_TYPE);
    ck_assert_int_eq(lc_file_get_float(f, "n", &d, &e), LC_OK); // ints convert
    ck_assert(d == 7.0);
    ck_assert_int_eq(lc_file_get_int(f, "x", &i, &e), LC_ERR_TYPE);
    ck_assert_int_eq(lc_file_get_str(f, "x", &s, &e), LC_ERR_TYPE);
    ck_assert_int_eq(lc_file_get_int(f, "missing", &i, &e), LC_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
    ck_assert_int_eq(lc_file_get_str(f, "missing", &s, NULL), LC_ERR_NOTFOUND);

    float a[2] = {1, 2}, b[3] = {3, 4, 5};
    ck_assert_int_eq(lc_file_add(f, "t", LC_F32, 1, (int64_t[]){2}, a, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "t", LC_F32, 1, (int64_t[]){3}, b, &e), LC_OK);
    ck_assert_int_eq(lc_file_ntensors(f), 1);
    const lc_tensor *t = lc_file_tensor(f, "t");
    ck_assert_int_eq(t->shape[0], 3);
    ck_assert_float_eq(((float *)t->data)[2], 5.0f);
    ck_assert_ptr_null(lc_file_tensor(f, "nope"));

    // lc_file_expect explains each mismatch.
    ck_assert_ptr_null(lc_file_expect(f, "nope", LC_F32, 1, (int64_t[]){3}, &e));
    ck_assert_int_eq(e.code, LC_ERR_NOTFOUND);
    ck_assert_ptr_null(lc_file_expect(f, "t", LC_F64, 1, (int64_t[]){3}, &e));
    ck_assert_int_eq(e.code, LC_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(e.msg, "f32"));
    ck_assert_ptr_null(lc_file_expect(f, "t", LC_F32, 1, (int64_t[]){4}, &e));
    ck_assert_int_eq(e.code, LC_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(e.msg, "(3)"));
    ck_assert_ptr_nonnull(strstr(e.msg, "(4)"));
    ck_assert_ptr_null(lc_file_expect(f, "t", LC_F32, 2, (int64_t[]){3, 1}, &e));
    ck_assert_int_eq(e.code, LC_ERR_SHAPE);
    ck_assert_ptr_nonnull(lc_file_expect(f, "t", LC_F32, 1, (int64_t[]){-1}, &e)); // wildcard
    ck_assert_ptr_nonnull(lc_file_expect(f, "t", LC_F32, 1, NULL, &e));           // ndim only
    lc_file_free(f);
}
END_TEST

START_TEST(test_add_errors) {
    lc_file *f = lc_file_new("k");
    lc_error e;
    float x[4] = {0};
    char name[80];
    memset(name, 'n', 64);
    name[64] = '\0';
    ck_assert_int_eq(lc_file_add(f, name, LC_F32, 1, (int64_t[]){1}, x, &e), LC_ERR_ARG);
    name[63] = '\0'; // 63 bytes is the longest allowed
    ck_assert_int_eq(lc_file_add(f, name, LC_F32, 1, (int64_t[]){1}, x, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "", LC_F32, 1, (int64_t[]){1}, x, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_file_add(f, "a", LC_F32, 5, (int64_t[]){1, 1, 1, 1, 1}, x, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_file_add(f, "a", LC_F32, 1, (int64_t[]){-1}, x, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_file_add(f, "a", (lc_dtype)9, 1, (int64_t[]){1}, x, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_file_add(f, "a", LC_F32, 1, (int64_t[]){1}, NULL, &e), LC_ERR_ARG);
    ck_assert_int_eq(lc_file_add(f, "a", LC_F32, 2, (int64_t[]){INT64_MAX, 4}, x, &e),
                     LC_ERR_SIZE);
    ck_assert_int_eq(lc_file_add(f, "a", LC_U8, 1, (int64_t[]){(int64_t)1 << 33}, x, &e),
                     LC_ERR_SIZE);
    ck_assert_int_eq(lc_file_ntensors(f), 1);
    ck_assert_str_eq(lc_dtype_name(LC_I32), "i32");
    // A kind the reader would refuse is refused by the writers.
    lc_file *nokind = lc_file_new("");
    void *buf = (void *)1;
    size_t len;
    ck_assert_int_eq(lc_file_encode(nokind, &buf, &len, &e), LC_ERR_ARG);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(lc_file_write(nokind, "/tmp/never-written.lucid", &e), LC_ERR_ARG);
    ck_assert_int_eq(access("/tmp/never-written.lucid", F_OK), -1);
    lc_file_free(nokind);
    ck_assert_uint_eq(lc_dtype_size(LC_F64), 8);
    lc_file_free(f);
}
END_TEST

// ---------------------------------------------------------------- corruption corpus

START_TEST(test_truncated_every_offset) {
    size_t len;
    uint8_t *buf = small_bytes(&len);
    lc_error e;
    ck_assert_int_eq(decode(buf, len, &e), LC_OK);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1); // exact size: ASan sees any over-read
        memcpy(p, buf, cut);
        int rc = decode(p, cut, &e);
        if (rc != LC_ERR_TRUNCATED && rc != LC_ERR_SIZE)
            ck_abort_msg("cut at %zu: %s (%s)", cut, lc_status_str(rc), e.msg);
        free(p);
    }
    // Through the file reader too, at a few offsets: the message names the file.
    char path[300];
    path_in(path, sizeof path, "cut.lucid");
    size_t cuts[] = {0, 5, 8, 19, 20, len / 2, len - 4, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        FILE *fp = fopen(path, "wb");
        fwrite(buf, 1, cuts[k], fp);
        fclose(fp);
        lc_file *f = (lc_file *)1;
        int rc = lc_file_read(path, &f, &e);
        ck_assert(rc == LC_ERR_TRUNCATED || rc == LC_ERR_SIZE);
        ck_assert_ptr_null(f);
        ck_assert_msg(strncmp(e.msg, path, strlen(path)) == 0, "message '%s'", e.msg);
    }
    free(buf);
}
END_TEST

START_TEST(test_every_byte_flip) {
    size_t len;
    uint8_t *buf = small_bytes(&len);
    uint8_t *p = malloc(len);
    const uint8_t masks[] = {0x01, 0x02, 0x10, 0x80, 0xff, 0x5a};
    lc_rng r;
    lc_rng_seed(&r, 7, 0);
    lc_error e;
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m <= sizeof masks; m++) {
            uint8_t mask = m < sizeof masks ? masks[m] : (uint8_t)(1 + lc_rng_below(&r, 255));
            memcpy(p, buf, len);
            p[i] ^= mask;
            int rc = decode(p, len, &e);
            int want = i < 8 ? LC_ERR_MAGIC : i < 12 ? LC_ERR_VERSION : i < 20 ? -1 : LC_ERR_CHECKSUM;
            int ok = want >= 0 ? rc == want
                               : rc == LC_ERR_SIZE || rc == LC_ERR_TRUNCATED || rc == LC_ERR_FORMAT;
            if (!ok) ck_abort_msg("flip 0x%02x at %zu: %s (%s)", mask, i, lc_status_str(rc), e.msg);
        }
    }
    free(p);
    free(buf);
}
END_TEST

// Flips with the checksum fixed reach the msgpack parser: any answer but a crash
// is fine, and an error must be one of the documented ones.
START_TEST(test_flips_with_fixed_crc) {
    size_t len;
    uint8_t *buf = small_bytes(&len);
    size_t n = len - 24;
    uint8_t *body = malloc(n);
    lc_rng r;
    lc_rng_seed(&r, 11, 0);
    lc_error e;
    int accepted = 0, rejected = 0;
    for (size_t i = 0; i < n; i++) {
        for (int v = 0; v < 12; v++) {
            memcpy(body, buf + 20, n);
            uint8_t vals[] = {0x00, 0xc0, 0xc1, 0xcf, 0xdd, 0xdf, 0xff, 0x7f, 0x90, 0xa0, 0x80,
                              (uint8_t)lc_rng_below(&r, 256)};
            body[i] = vals[v];
            int rc = decode_body(body, n, &e);
            if (rc == LC_OK) accepted++;
            else rejected++;
            if (!(rc == LC_OK || rc == LC_ERR_FORMAT || rc == LC_ERR_TYPE ||
                  rc == LC_ERR_SHAPE || rc == LC_ERR_SIZE))
                ck_abort_msg("byte %zu = 0x%02x: %s", i, vals[v], lc_status_str(rc));
        }
    }
    ck_assert_int_gt(rejected, 0);
    ck_assert_int_gt(accepted, 0); // changing tensor data or meta values is legal
    // Several random bytes at once.
    for (int it = 0; it < 3000; it++) {
        memcpy(body, buf + 20, n);
        int k = 1 + (int)lc_rng_below(&r, 4);
        for (int j = 0; j < k; j++) body[lc_rng_below(&r, (uint32_t)n)] = (uint8_t)lc_rng_u32(&r);
        decode_body(body, n, &e);
    }
    // Pure garbage bodies.
    uint8_t junk[96];
    for (int it = 0; it < 3000; it++) {
        size_t m = lc_rng_below(&r, sizeof junk + 1);
        for (size_t j = 0; j < m; j++) junk[j] = (uint8_t)lc_rng_u32(&r);
        if (decode_body(junk, m, &e) == LC_OK) ck_abort_msg("garbage body %d accepted", it);
    }
    free(body);
    free(buf);
}
END_TEST

START_TEST(test_header_errors) {
    size_t len;
    uint8_t *buf = small_bytes(&len);
    uint8_t *p = malloc(len + 16);
    lc_error e;

    ck_assert_int_eq(decode(p, 0, &e), LC_ERR_TRUNCATED);
    ck_assert_int_eq(decode("PK\x03\x04", 4, &e), LC_ERR_MAGIC);
    ck_assert_int_eq(decode("\x89PNG\r\n\x1a\n........................", 32, &e), LC_ERR_MAGIC);
    ck_assert_int_eq(decode("\x89LUC", 4, &e), LC_ERR_TRUNCATED);

    memcpy(p, buf, len);
    put32(p + 8, 2);
    ck_assert_int_eq(decode(p, len, &e), LC_ERR_VERSION);
    ck_assert_ptr_nonnull(strstr(e.msg, "version 2"));
    put32(p + 8, 0);
    ck_assert_int_eq(decode(p, len, &e), LC_ERR_VERSION);

    // Huge declared body lengths never allocate: they are answered at once.
    uint64_t huge[] = {UINT64_MAX, (uint64_t)1 << 62, (uint64_t)1 << 40, len + 1, len};
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        memcpy(p, buf, len);
        put64(p + 12, huge[k]);
        ck_assert_int_eq(decode(p, len, &e), huge[k] > len ? LC_ERR_SIZE : LC_ERR_TRUNCATED);
    }
    // A shorter declared body leaves bytes after the checksum.
    memcpy(p, buf, len);
    put64(p + 12, len - 24 - 3);
    ck_assert_int_ne(decode(p, len, &e), LC_OK);

    // Extra trailing bytes after a valid file.
    memcpy(p, buf, len);
    memcpy(p + len, "GARBAGE!", 8);
    ck_assert_int_eq(decode(p, len + 8, &e), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "extra"));
    ck_assert_int_eq(decode(p, len + 1, &e), LC_ERR_FORMAT);

    // A bad checksum.
    memcpy(p, buf, len);
    p[len - 1] ^= 0x40;
    ck_assert_int_eq(decode(p, len, &e), LC_ERR_CHECKSUM);

    // Files on disk: missing, a directory, wrong magic; messages start with the path.
    char path[300];
    lc_file *f = (lc_file *)1;
    path_in(path, sizeof path, "missing.lucid");
    ck_assert_int_eq(lc_file_read(path, &f, &e), LC_ERR_IO);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_int_eq(lc_file_read(tmpdir, &f, &e), LC_ERR_IO);
    path_in(path, sizeof path, "text.lucid");
    FILE *fp = fopen(path, "w");
    fputs("hello, this is not a lucid file\n", fp);
    fclose(fp);
    ck_assert_int_eq(lc_file_read(path, &f, &e), LC_ERR_MAGIC);
    ck_assert_msg(strncmp(e.msg, path, strlen(path)) == 0, "message '%s'", e.msg);
    ck_assert_int_eq(lc_file_read(path, &f, NULL), LC_ERR_MAGIC); // err may be NULL
    free(p);
    free(buf);
}
END_TEST

// Bodies that are valid msgpack with a valid checksum but a wrong schema.
enum {
    V_OK, V_UNKNOWN_KEYS, V_ROOT_ARRAY, V_ROOT_KEY_INT, V_KIND_INT, V_KIND_EMPTY, V_KIND_NUL,
    V_META_ARRAY, V_META_KEY_INT, V_META_BOOL, V_META_NIL, V_META_U64, V_META_ARRAYVAL,
    V_META_BIN, V_TENSORS_MAP, V_TENSOR_INT, V_TENSOR_KEY_INT, V_NAME_INT, V_NAME_LONG,
    V_DTYPE_INT, V_DTYPE_BAD, V_SHAPE_STR, V_SHAPE_FLOAT, V_SHAPE_NEG, V_SHAPE_5D,
    V_SHAPE_HUGE, V_SHAPE_OVERFLOW, V_SHAPE_BIGGER, V_SHAPE_SMALLER, V_SHAPE_DIM_U64,
    V_DATA_STR, V_DATA_EXT, V_NO_KIND, V_NO_META, V_NO_TENSORS, V_NO_DATA, V_NO_NAME,
    V_DUP_TENSOR, V_DUP_KEY, V_DUP_META, V_DUP_FIELD, V_COUNT
};

static const int variant_code[V_COUNT] = {
    [V_OK] = LC_OK, [V_UNKNOWN_KEYS] = LC_OK, [V_ROOT_ARRAY] = LC_ERR_TYPE,
    [V_ROOT_KEY_INT] = LC_ERR_TYPE, [V_KIND_INT] = LC_ERR_TYPE, [V_KIND_EMPTY] = LC_ERR_FORMAT,
    [V_KIND_NUL] = LC_ERR_FORMAT, [V_META_ARRAY] = LC_ERR_TYPE, [V_META_KEY_INT] = LC_ERR_TYPE,
    [V_META_BOOL] = LC_ERR_TYPE, [V_META_NIL] = LC_ERR_TYPE, [V_META_U64] = LC_ERR_TYPE,
    [V_META_ARRAYVAL] = LC_ERR_TYPE, [V_META_BIN] = LC_ERR_TYPE, [V_TENSORS_MAP] = LC_ERR_TYPE,
    [V_TENSOR_INT] = LC_ERR_TYPE, [V_TENSOR_KEY_INT] = LC_ERR_TYPE, [V_NAME_INT] = LC_ERR_TYPE,
    [V_NAME_LONG] = LC_ERR_FORMAT, [V_DTYPE_INT] = LC_ERR_TYPE, [V_DTYPE_BAD] = LC_ERR_TYPE,
    [V_SHAPE_STR] = LC_ERR_TYPE, [V_SHAPE_FLOAT] = LC_ERR_TYPE, [V_SHAPE_NEG] = LC_ERR_SHAPE,
    [V_SHAPE_5D] = LC_ERR_SHAPE, [V_SHAPE_HUGE] = LC_ERR_SIZE, [V_SHAPE_OVERFLOW] = LC_ERR_SIZE,
    [V_SHAPE_BIGGER] = LC_ERR_SIZE, [V_SHAPE_SMALLER] = LC_ERR_SHAPE,
    [V_SHAPE_DIM_U64] = LC_ERR_SIZE, [V_DATA_STR] = LC_ERR_TYPE, [V_DATA_EXT] = LC_ERR_TYPE,
    [V_NO_KIND] = LC_ERR_FORMAT, [V_NO_META] = LC_ERR_FORMAT, [V_NO_TENSORS] = LC_ERR_FORMAT,
    [V_NO_DATA] = LC_ERR_FORMAT, [V_NO_NAME] = LC_ERR_FORMAT, [V_DUP_TENSOR] = LC_ERR_FORMAT,
    [V_DUP_KEY] = LC_ERR_FORMAT, [V_DUP_META] = LC_ERR_FORMAT, [V_DUP_FIELD] = LC_ERR_FORMAT,
};

static void pstr(msgpack_packer *pk, const char *s) {
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void pack_tensor(msgpack_packer *pk, int v, const char *name) {
    if (v == V_TENSOR_INT) {
        msgpack_pack_int(pk, 5);
        return;
    }
    int nf = 4 + (v == V_UNKNOWN_KEYS) + (v == V_TENSOR_KEY_INT) + (v == V_DUP_FIELD) -
             (v == V_NO_DATA) - (v == V_NO_NAME);
    msgpack_pack_map(pk, (size_t)nf);
    if (v == V_TENSOR_KEY_INT) {
        msgpack_pack_int(pk, 1);
        msgpack_pack_int(pk, 2);
    }
    if (v == V_UNKNOWN_KEYS) {
        pstr(pk, "comment");
        msgpack_pack_map(pk, 1);
        msgpack_pack_nil(pk);
        msgpack_pack_true(pk);
    }
    if (v != V_NO_NAME) {
        pstr(pk, "name");
        if (v == V_NAME_INT) msgpack_pack_int(pk, 3);
        else if (v == V_NAME_LONG) pstr(pk, "a_name_that_is_much_longer_than_sixty_three_bytes_which_is_the_limit");
        else pstr(pk, name);
    }
    pstr(pk, "dtype");
    if (v == V_DTYPE_INT) msgpack_pack_int(pk, 0);
    else if (v == V_DTYPE_BAD) pstr(pk, "f16");
    else pstr(pk, "f32");
    if (v == V_DUP_FIELD) {
        pstr(pk, "dtype");
        pstr(pk, "f32");
    }
    pstr(pk, "shape");
    switch (v) {
    case V_SHAPE_STR: pstr(pk, "(2,)"); break;
    case V_SHAPE_FLOAT: msgpack_pack_array(pk, 1); msgpack_pack_double(pk, 2.0); break;
    case V_SHAPE_NEG: msgpack_pack_array(pk, 1); msgpack_pack_int(pk, -2); break;
    case V_SHAPE_5D:
        msgpack_pack_array(pk, 5);
        for (int i = 0; i < 5; i++) msgpack_pack_int(pk, i ? 1 : 2);
        break;
    case V_SHAPE_HUGE: msgpack_pack_array(pk, 1); msgpack_pack_int64(pk, (int64_t)1 << 40); break;
    case V_SHAPE_OVERFLOW:
        msgpack_pack_array(pk, 3);
        msgpack_pack_int64(pk, (int64_t)1 << 62);
        msgpack_pack_int64(pk, (int64_t)1 << 62);
        msgpack_pack_int64(pk, 0x7fffffffffffffffLL);
        break;
    case V_SHAPE_BIGGER: msgpack_pack_array(pk, 1); msgpack_pack_int(pk, 3); break;
    case V_SHAPE_SMALLER: msgpack_pack_array(pk, 1); msgpack_pack_int(pk, 1); break;
    case V_SHAPE_DIM_U64: msgpack_pack_array(pk, 1); msgpack_pack_uint64(pk, UINT64_MAX); break;
    default: msgpack_pack_array(pk, 1); msgpack_pack_int(pk, 2); break;
    }
    if (v != V_NO_DATA) {
        pstr(pk, "data");
        float d[2] = {1.5f, -2.5f};
        if (v == V_DATA_STR) {
            msgpack_pack_str(pk, 8);
            msgpack_pack_str_body(pk, d, 8);
        } else if (v == V_DATA_EXT) {
            msgpack_pack_ext(pk, 8, 1);
            msgpack_pack_ext_body(pk, d, 8);
        } else {
            msgpack_pack_bin(pk, 8);
            msgpack_pack_bin_body(pk, d, 8);
        }
    }
}

static void pack_variant(msgpack_packer *pk, int v) {
    if (v == V_ROOT_ARRAY) {
        msgpack_pack_array(pk, 3);
        pstr(pk, "kind");
        pstr(pk, "meta");
        pstr(pk, "tensors");
        return;
    }
    int nroot = 3 + (v == V_UNKNOWN_KEYS) + (v == V_DUP_KEY) + (v == V_ROOT_KEY_INT) -
                (v == V_NO_KIND) - (v == V_NO_META) - (v == V_NO_TENSORS);
    msgpack_pack_map(pk, (size_t)nroot);
    if (v == V_ROOT_KEY_INT) {
        msgpack_pack_int(pk, 1);
        msgpack_pack_int(pk, 1);
    }
    if (v != V_NO_KIND) {
        pstr(pk, "kind");
        if (v == V_KIND_INT) msgpack_pack_int(pk, 12);
        else if (v == V_KIND_EMPTY) pstr(pk, "");
        else if (v == V_KIND_NUL) {
            msgpack_pack_str(pk, 3);
            msgpack_pack_str_body(pk, "a\0b", 3);
        } else pstr(pk, "crafted");
    }
    if (v == V_DUP_KEY) {
        pstr(pk, "kind");
        pstr(pk, "twice");
    }
    if (v == V_UNKNOWN_KEYS) {
        pstr(pk, "future_field");
        msgpack_pack_array(pk, 2);
        msgpack_pack_nil(pk);
        msgpack_pack_false(pk);
    }
    if (v != V_NO_META) {
        pstr(pk, "meta");
        if (v == V_META_ARRAY) {
            msgpack_pack_array(pk, 0);
        } else {
            msgpack_pack_map(pk, 2 + (v == V_DUP_META));
            pstr(pk, "steps");
            msgpack_pack_int(pk, 10);
            if (v == V_META_KEY_INT) msgpack_pack_int(pk, 4);
            else pstr(pk, "x");
            switch (v) {
            case V_META_BOOL: msgpack_pack_true(pk); break;
            case V_META_NIL: msgpack_pack_nil(pk); break;
            case V_META_U64: msgpack_pack_uint64(pk, UINT64_MAX); break;
            case V_META_ARRAYVAL: msgpack_pack_array(pk, 1); msgpack_pack_int(pk, 1); break;
            case V_META_BIN: msgpack_pack_bin(pk, 1); msgpack_pack_bin_body(pk, "z", 1); break;
            default: msgpack_pack_float(pk, 0.5f); break; // float32 is accepted too
            }
            if (v == V_DUP_META) {
                pstr(pk, "steps");
                msgpack_pack_int(pk, 11);
            }
        }
    }
    if (v != V_NO_TENSORS) {
        pstr(pk, "tensors");
        if (v == V_TENSORS_MAP) {
            msgpack_pack_map(pk, 0);
        } else {
            msgpack_pack_array(pk, 2);
            pack_tensor(pk, V_OK, "first");
            pack_tensor(pk, v, v == V_DUP_TENSOR ? "first" : "second");
        }
    }
}

START_TEST(test_wrong_types_each_field) {
    lc_error e;
    for (int v = 0; v < V_COUNT; v++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        pack_variant(&pk, v);
        int rc = decode_body(sb.data, sb.size, &e);
        ck_assert_msg(rc == variant_code[v], "variant %d: got %s (%s), want %s", v,
                      lc_status_str(rc), e.msg, lc_status_str(variant_code[v]));
        if (v == V_OK || v == V_UNKNOWN_KEYS) {
            size_t len;
            uint8_t *p = wrap(sb.data, sb.size, &len);
            lc_file *f;
            ck_assert_int_eq(lc_file_decode(p, len, &f, &e), LC_OK);
            double x;
            ck_assert_int_eq(lc_file_get_float(f, "x", &x, &e), LC_OK);
            ck_assert(x == 0.5);
            const lc_tensor *t = lc_file_expect(f, "second", LC_F32, 1, (int64_t[]){2}, &e);
            ck_assert_ptr_nonnull(t);
            ck_assert_float_eq(((float *)t->data)[1], -2.5f);
            lc_file_free(f);
            free(p);
        }
        msgpack_sbuffer_destroy(&sb);
    }
}
END_TEST

START_TEST(test_crafted_msgpack) {
    lc_error e;
    // A map32 declaring 4 billion pairs, an array32 declaring 4 billion items:
    // refused before msgpack-c would allocate ~100 GB for them.
    ck_assert_int_eq(decode_body("\xdf\xff\xff\xff\xff", 5, &e), LC_ERR_SIZE);
    ck_assert_int_eq(decode_body("\x83\xa4kind\xa1k\xa4meta\x80\xa7tensors\xdd\xff\xff\xff\xf0",
                                 27, &e),
                     LC_ERR_SIZE);
    // bin32 / str32 declaring more bytes than there are.
    ck_assert_int_eq(decode_body("\xc6\x7f\xff\xff\xff\x00", 6, &e), LC_ERR_FORMAT);
    ck_assert_int_eq(decode_body("\xdb\x7f\xff\xff\xff\x00", 6, &e), LC_ERR_FORMAT);
    // Deep nesting.
    uint8_t deep[200];
    memset(deep, 0x91, sizeof deep);
    deep[199] = 0xc0;
    ck_assert_int_eq(decode_body(deep, sizeof deep, &e), LC_ERR_FORMAT);
    // The reserved byte 0xc1.
    ck_assert_int_eq(decode_body("\xc1", 1, &e), LC_ERR_FORMAT);
    // An empty body, a value ending early, two values.
    ck_assert_int_eq(decode_body("", 0, &e), LC_ERR_FORMAT);
    ck_assert_int_eq(decode_body("\x81\xa4kind", 6, &e), LC_ERR_FORMAT);
    ck_assert_int_eq(decode_body("\x83\xa4kind", 6, &e), LC_ERR_SIZE); // 6 items, 5 bytes
    ck_assert_int_eq(decode_body("\x80\x80", 2, &e), LC_ERR_FORMAT);
    // A well-formed empty map lacks the fields.
    ck_assert_int_eq(decode_body("\x80", 1, &e), LC_ERR_FORMAT);
    // An ext value where the body map should be.
    ck_assert_int_eq(decode_body("\xd4\x01\x00", 3, &e), LC_ERR_TYPE);
}
END_TEST

// ---------------------------------------------------------------- atomic writes

static lc_file *versioned_file(int version, size_t nfloats) {
    lc_file *f = lc_file_new("atomic");
    ck_assert_ptr_nonnull(f);
    lc_file_set_int(f, "version", version);
    float *x = malloc(nfloats * sizeof *x);
    for (size_t i = 0; i < nfloats; i++) x[i] = (float)version;
    lc_error e;
    ck_assert_int_eq(lc_file_add(f, "x", LC_F32, 1, (int64_t[]){(int64_t)nfloats}, x, &e), LC_OK);
    free(x);
    return f;
}

static int read_version(const char *path) {
    lc_file *f;
    lc_error e;
    int rc = lc_file_read(path, &f, &e);
    ck_assert_msg(rc == LC_OK, "%s", e.msg);
    int64_t v;
    ck_assert_int_eq(lc_file_get_int(f, "version", &v, &e), LC_OK);
    const lc_tensor *t = lc_file_tensor(f, "x");
    ck_assert_ptr_nonnull(t);
    const float *x = t->data;
    size_t n = t->nbytes / 4;
    size_t bad = 0; // one assertion, not n: each ck_assert costs a pipe write
    for (size_t i = 0; i < n; i++) bad += x[i] != (float)v;
    ck_assert_uint_eq(bad, 0);
    lc_file_free(f);
    return (int)v;
}

START_TEST(test_atomic_overwrite) {
    char path[300];
    path_in(path, sizeof path, "model.lucid");
    lc_error e;
    lc_file *old = versioned_file(1, 1000);
    ck_assert_int_eq(lc_file_write(old, path, &e), LC_OK);
    lc_file_free(old);
    lc_file *neu = versioned_file(2, 2000);
    ck_assert_int_eq(lc_file_write(neu, path, &e), LC_OK);
    ck_assert_int_eq(read_version(path), 2);
    ck_assert_int_eq(count_files(tmpdir), 1);

    // A write that fails (the target is a directory) leaves no temporary behind.
    char dirpath[300];
    path_in(dirpath, sizeof dirpath, "adir");
    ck_assert_int_eq(mkdir(dirpath, 0755), 0);
    ck_assert_int_eq(lc_file_write(neu, dirpath, &e), LC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, dirpath));
    ck_assert_int_eq(count_files(tmpdir), 2);
    // A write into a missing directory fails cleanly.
    path_in(dirpath, sizeof dirpath, "no/such/dir/x.lucid");
    ck_assert_int_eq(lc_file_write(neu, dirpath, &e), LC_ERR_IO);
    ck_assert_int_eq(read_version(path), 2);

    // Kill writers at arbitrary moments: the file is always the old or the new one.
    lc_file *big = versioned_file(3, 1 << 20); // 4 MB
    for (int trial = 0; trial < 6; trial++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            for (;;) lc_file_write(big, path, NULL);
        }
        struct timespec ts = {0, 2000000L * (trial * 3 + 1)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        int v = read_version(path);
        ck_assert(v == 2 || v == 3);
        char tmp[320];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)pid);
        unlink(tmp); // what a killed writer leaves: its own temporary, never PATH
    }
    lc_file_free(big);
    lc_file_free(neu);
}
END_TEST

// ---------------------------------------------------------------- another language

START_TEST(test_python_reads_container) {
    lc_file *f = lc_file_new("pytest");
    lc_file_set_int(f, "answer", 42);
    lc_file_set_int(f, "neg", -7);
    lc_file_set_float(f, "pi", 3.25);
    lc_file_set_str(f, "name", "lucid \xc3\xbc");
    float w[6] = {0, 0.5f, 1, 1.5f, 2, 2.5f};
    double b[3] = {-1.5, 0, 2.25};
    uint8_t img[12];
    for (int i = 0; i < 12; i++) img[i] = (uint8_t)i;
    int32_t idx[4] = {-2, -1, 0, 2147483647};
    int64_t big[2] = {-9000000000LL, (int64_t)1 << 62};
    float scalar = 7.5f;
    lc_error e;
    ck_assert_int_eq(lc_file_add(f, "w", LC_F32, 2, (int64_t[]){2, 3}, w, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "b", LC_F64, 1, (int64_t[]){3}, b, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "img", LC_U8, 3, (int64_t[]){2, 2, 3}, img, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "idx", LC_I32, 1, (int64_t[]){4}, idx, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "big", LC_I64, 1, (int64_t[]){2}, big, &e), LC_OK);
    ck_assert_int_eq(lc_file_add(f, "scalar", LC_F32, 0, NULL, &scalar, &e), LC_OK);
    char path[300];
    path_in(path, sizeof path, "py.lucid");
    ck_assert_int_eq(lc_file_write(f, path, &e), LC_OK);
    lc_file_free(f);

    const char *py = getenv("LUCID_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' tests/python/read_container.py '%s' >/dev/null", py, path);
    int rc = system(cmd);
    ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "'%s' failed (%d)", cmd, rc);
}
END_TEST

static Suite *file_suite(void) {
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, test_crc32_known);
    tcase_add_test(tc, test_roundtrip_dtypes_and_meta);
    tcase_add_test(tc, test_roundtrip_disk);
    tcase_add_test(tc, test_replace_and_getters);
    tcase_add_test(tc, test_add_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("corruption");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_truncated_every_offset);
    tcase_add_test(tc, test_every_byte_flip);
    tcase_add_test(tc, test_flips_with_fixed_crc);
    tcase_add_test(tc, test_header_errors);
    tcase_add_test(tc, test_wrong_types_each_field);
    tcase_add_test(tc, test_crafted_msgpack);
    suite_add_tcase(s, tc);

    tc = tcase_create("atomic");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_atomic_overwrite);
    suite_add_tcase(s, tc);

    tc = tcase_create("interop");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_python_reads_container);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(file_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
