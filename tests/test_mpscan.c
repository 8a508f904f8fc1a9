// tests/test_mpscan.c: the allocation-free msgpack pre-scan (core/msgpack_scan.h):
// a valid value of every type byte, checked against msgpack_unpack; every truncation;
// depth and object caps; declared lengths past the end; trailing bytes; mutated bytes.
// Leaves out: the container and protocol decoders that call it (test_file, test_proto).
#include <check.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/msgpack_scan.h"
#include "core/rng.h"

// Distinct codes, so each test can tell which rule refused the bytes.
#define MALFORMED LC_ERR_FORMAT
#define PAST_END LC_ERR_TRUNCATED

static lc_mp_limits limits(int max_depth, size_t max_objects, int allow_trailing) {
    lc_mp_limits l = {max_depth, max_objects, allow_trailing, MALFORMED, PAST_END, "test"};
    return l;
}

static int scan(const void *p, size_t len, const lc_mp_limits *lim, size_t *used, lc_error *err) {
    // A heap copy of exactly len bytes, so ASan sees any read past the end.
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len) memcpy(copy, p, len);
    int rc = lc_mp_scan(copy, len, lim, used, err);
    free(copy);
    return rc;
}

// msgpack-c's own view: the size of the one value at p, or 0 if it does not unpack.
static size_t unpacked_size(const void *p, size_t len) {
    msgpack_zone z;
    ck_assert(msgpack_zone_init(&z, 1024));
    msgpack_object o;
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack(p, len, &off, &z, &o);
    msgpack_zone_destroy(&z);
    return r == MSGPACK_UNPACK_SUCCESS || r == MSGPACK_UNPACK_EXTRA_BYTES ? off : 0;
}

static void put_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

// Writes into out a small valid value whose first byte is b. Returns its size (0 for
// 0xc1, never used) and sets *hdr to the bytes of type and length, *container to 1
// for maps and arrays.
static size_t make_value(uint8_t b, uint8_t *out, size_t *hdr, int *container) {
    *hdr = 1;
    *container = 0;
    out[0] = b;
    size_t lenbytes = 0, body = 0; // bytes after the header
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return 1;
    if (b <= 0x8f) body = 2u * (b & 0x0f), *container = 1;
    else if (b <= 0x9f) body = b & 0x0f, *container = 1;
    else if (b <= 0xbf) body = b & 0x1f;
    else {
        switch (b) {
        case 0xc1: return 0;
        case 0xc4: case 0xd9: lenbytes = 1, body = 3; break;
        case 0xc5: case 0xda: lenbytes = 2, body = 3; break;
        case 0xc6: case 0xdb: lenbytes = 4, body = 3; break;
        case 0xc7: lenbytes = 1, body = 4; break; // type byte + 3
        case 0xc8: lenbytes = 2, body = 4; break;
        case 0xc9: lenbytes = 4, body = 4; break;
        case 0xca: body = 4; break;
        case 0xcb: body = 8; break;
        case 0xcc: case 0xd0: body = 1; break;
        case 0xcd: case 0xd1: body = 2; break;
        case 0xce: case 0xd2: body = 4; break;
        case 0xcf: case 0xd3: body = 8; break;
        case 0xd4: body = 2; break;
        case 0xd5: body = 3; break;
        case 0xd6: body = 5; break;
        case 0xd7: body = 9; break;
        case 0xd8: body = 17; break;
        case 0xdc: lenbytes = 2, body = 2, *container = 1; break; // 2 elements
        case 0xdd: lenbytes = 4, body = 2, *container = 1; break;
        case 0xde: lenbytes = 2, body = 2, *container = 1; break; // 1 pair
        case 0xdf: lenbytes = 4, body = 2, *container = 1; break;
        default: ck_abort_msg("no case for 0x%02x", b);
        }
    }
    size_t declared = body;
    if (b == 0xc7 || b == 0xc8 || b == 0xc9) declared = body - 1;   // ext: data bytes
    if (b == 0xde || b == 0xdf) declared = 1;                        // map: pairs
    if (lenbytes) put_be(out + 1, declared, (int)lenbytes);
    *hdr = 1 + lenbytes;
    // Payloads: nils inside containers, 'x' elsewhere (any bytes do in a str/bin/ext).
    memset(out + *hdr, *container ? 0xc0 : 'x', body);
    return *hdr + body;
}

// ---------------------------------------------------------------- types

START_TEST(test_every_type_byte) {
    lc_mp_limits lim = limits(8, 0, 0);
    uint8_t v[64];
    int valid = 0;
    for (int b = 0; b < 256; b++) {
        size_t hdr;
        int container;
        size_t n = make_value((uint8_t)b, v, &hdr, &container);
        lc_error err = {0};
        size_t used = 0;
        if (n == 0) {
            ck_assert_int_eq(scan(v, 1, &lim, &used, &err), MALFORMED);
            ck_assert_ptr_nonnull(strstr(err.msg, "0xc1"));
            continue;
        }
        valid++;
        ck_assert_msg(unpacked_size(v, n) == n, "the sample for 0x%02x is not %zu bytes", b, n);
        ck_assert_msg(scan(v, n, &lim, &used, &err) == LC_OK, "0x%02x: %s", b, err.msg);
        ck_assert_uint_eq(used, n);
        ck_assert_int_eq(scan(v, n, &lim, NULL, &err), LC_OK);
    }
    ck_assert_int_eq(valid, 255);
}
END_TEST

// Every prefix of every sample is refused, and by the rule that applies there.
START_TEST(test_every_type_truncated) {
    lc_mp_limits lim = limits(8, 0, 1);
    uint8_t v[64];
    for (int b = 0; b < 256; b++) {
        size_t hdr;
        int container;
        size_t n = make_value((uint8_t)b, v, &hdr, &container);
        for (size_t k = 0; k < n; k++) {
            lc_error err = {0};
            int want = k < hdr ? MALFORMED : container ? LC_ERR_SIZE : PAST_END;
            int rc = scan(v, k, &lim, NULL, &err);
            ck_assert_msg(rc == want, "0x%02x cut to %zu of %zu bytes: %d (%s), want %d", b, k, n,
                          rc, err.msg, want);
        }
    }
}
END_TEST

// One value holding every kind of field msgpack-c writes, nested three deep.
static void pack_sample(msgpack_sbuffer *sb) {
    static char big[70000];
    memset(big, 'q', sizeof big);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    msgpack_pack_str(&pk, 4), msgpack_pack_str_body(&pk, "nums", 4);
    msgpack_pack_array(&pk, 14);
    int64_t ints[] = {1, -1, 200, -100, 300, -300, 70000, -70000, (int64_t)1 << 40,
                      -((int64_t)1 << 40)};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) msgpack_pack_int64(&pk, ints[i]);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_double(&pk, -2.5);
    msgpack_pack_nil(&pk);
    msgpack_pack_str(&pk, 3), msgpack_pack_str_body(&pk, "str", 3);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str(&pk, 40), msgpack_pack_str_body(&pk, big, 40);     // str8
    msgpack_pack_str(&pk, 300), msgpack_pack_str_body(&pk, big, 300);   // str16
    msgpack_pack_str(&pk, 70000), msgpack_pack_str_body(&pk, big, 70000); // str32
    msgpack_pack_str(&pk, 0), msgpack_pack_str_body(&pk, big, 0);
    msgpack_pack_str(&pk, 3), msgpack_pack_str_body(&pk, "bin", 3);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_bin(&pk, 5), msgpack_pack_bin_body(&pk, big, 5);
    msgpack_pack_bin(&pk, 300), msgpack_pack_bin_body(&pk, big, 300);
    msgpack_pack_bin(&pk, 70000), msgpack_pack_bin_body(&pk, big, 70000);
    msgpack_pack_str(&pk, 3), msgpack_pack_str_body(&pk, "ext", 3);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_ext(&pk, 4, 7), msgpack_pack_ext_body(&pk, big, 4);     // fixext4
    msgpack_pack_ext(&pk, 3, 7), msgpack_pack_ext_body(&pk, big, 3);     // ext8
    msgpack_pack_ext(&pk, 300, 7), msgpack_pack_ext_body(&pk, big, 300); // ext16
    msgpack_pack_str(&pk, 5), msgpack_pack_str_body(&pk, "arr16", 5);
    msgpack_pack_array(&pk, 20);
    for (int i = 0; i < 20; i++) msgpack_pack_int(&pk, i);
    msgpack_pack_str(&pk, 5), msgpack_pack_str_body(&pk, "map16", 5);
    msgpack_pack_map(&pk, 17);
    for (int i = 0; i < 17; i++) {
        msgpack_pack_int(&pk, i);
        msgpack_pack_map(&pk, 1), msgpack_pack_true(&pk), msgpack_pack_false(&pk);
    }
}

START_TEST(test_sample_truncated_everywhere) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_sample(&sb);
    const uint8_t *p = (const uint8_t *)sb.data;
    size_t n = sb.size;
    ck_assert_uint_eq(unpacked_size(p, n), n);
    lc_mp_limits lim = limits(8, 0, 0);
    lc_error err = {0};
    size_t used = 0;
    ck_assert_msg(lc_mp_scan(p, n, &lim, &used, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(used, n);
    // Scanning each prefix in place: a read past k would be a read inside sb, so the
    // short prefixes also go through a copy of exactly k bytes.
    for (size_t k = 0; k < n; k++) {
        int rc = k < 512 ? scan(p, k, &lim, NULL, &err) : lc_mp_scan(p, k, &lim, NULL, &err);
        ck_assert_msg(rc == MALFORMED || rc == PAST_END || rc == LC_ERR_SIZE,
                      "cut to %zu of %zu bytes: %d (%s)", k, n, rc, err.msg);
    }
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

// Random byte changes: whatever the scan accepts, msgpack-c unpacks to the same size.
START_TEST(test_mutations_agree_with_msgpack) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "a", 1);
    msgpack_pack_array(&pk, 3), msgpack_pack_int(&pk, 300), msgpack_pack_double(&pk, 0.5);
    msgpack_pack_bin(&pk, 4), msgpack_pack_bin_body(&pk, "wxyz", 4);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "b", 1);
    msgpack_pack_map(&pk, 1), msgpack_pack_nil(&pk), msgpack_pack_ext(&pk, 2, 1);
    msgpack_pack_ext_body(&pk, "ee", 2);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "c", 1);
    msgpack_pack_int64(&pk, -((int64_t)1 << 40));
    lc_mp_limits lim = limits(8, 0, 1);
    lc_rng r;
    lc_rng_seed(&r, 11, 0);
    uint8_t *buf = malloc(sb.size);
    int accepted = 0, refused = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, sb.data, sb.size);
        int flips = 1 + (int)lc_rng_below(&r, 3);
        for (int f = 0; f < flips; f++) buf[lc_rng_below(&r, (uint32_t)sb.size)] = (uint8_t)lc_rng_u32(&r);
        size_t len = it & 1 ? sb.size : 1 + lc_rng_below(&r, (uint32_t)sb.size), used = 0;
        lc_error err = {0};
        if (lc_mp_scan(buf, len, &lim, &used, &err) == LC_OK) {
            accepted++;
            ck_assert_uint_le(used, len);
            ck_assert_msg(unpacked_size(buf, len) == used, "iteration %d: msgpack-c disagrees", it);
        } else {
            refused++;
        }
    }
    ck_assert_int_gt(accepted, 1000);
    ck_assert_int_gt(refused, 1000);
    free(buf);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

// ---------------------------------------------------------------- limits

// d arrays one inside the other around a nil; inner_empty: the innermost is [] instead.
static size_t nested(uint8_t *out, int d, uint8_t opener, int inner_empty) {
    size_t n = 0;
    for (int i = 0; i < d; i++) {
        int last = i == d - 1;
        out[n++] = last && inner_empty ? (uint8_t)(opener & 0xf0) : opener;
        if (opener == 0x81 && !(last && inner_empty)) out[n++] = 0xc0; // the map's key
    }
    if (!inner_empty || d == 0) out[n++] = 0xc0;
    return n;
}

START_TEST(test_depth) {
    uint8_t v[2 * LC_MP_DEPTH_CAP + 8];
    const uint8_t openers[2] = {0x91, 0x81}; // [x], {nil: x}
    int depths[] = {0, 1, 6, 8, LC_MP_DEPTH_CAP};
    for (int o = 0; o < 2; o++)
        for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
            int d = depths[i];
            lc_mp_limits lim = limits(d, 0, 0);
            lc_error err = {0};
            size_t n = nested(v, d, openers[o], 0);
            ck_assert_msg(scan(v, n, &lim, NULL, &err) == LC_OK, "depth %d: %s", d, err.msg);
            if (d < LC_MP_DEPTH_CAP) {
                n = nested(v, d + 1, openers[o], 0);
                ck_assert_int_eq(scan(v, n, &lim, NULL, &err), MALFORMED);
                ck_assert_ptr_nonnull(strstr(err.msg, "nesting deeper than"));
            }
            // An empty container opens no level: d + 1 deep with [] innermost passes.
            n = nested(v, d + 1, openers[o], 1);
            ck_assert_msg(scan(v, n, &lim, NULL, &err) == LC_OK, "depth %d+[]: %s", d, err.msg);
        }
    // Deep nesting far past the cap stops at the cap, without reading on.
    uint8_t deep[1000];
    memset(deep, 0x91, sizeof deep);
    deep[999] = 0xc0;
    lc_mp_limits lim = limits(LC_MP_DEPTH_CAP, 0, 0);
    lc_error err = {0};
    ck_assert_int_eq(scan(deep, sizeof deep, &lim, NULL, &err), MALFORMED);
}
END_TEST

START_TEST(test_object_cap) {
    uint8_t v[3 + 100];
    v[0] = 0xdc, v[1] = 0, v[2] = 100; // array16 of 100 nils: 101 values
    memset(v + 3, 0xc0, 100);
    lc_error err = {0};
    lc_mp_limits lim = limits(8, 101, 0);
    ck_assert_int_eq(scan(v, sizeof v, &lim, NULL, &err), LC_OK);
    lim.max_objects = 100;
    ck_assert_int_eq(scan(v, sizeof v, &lim, NULL, &err), LC_ERR_SIZE);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 100 msgpack values"));
    lim.max_objects = 0; // no cap
    ck_assert_int_eq(scan(v, sizeof v, &lim, NULL, &err), LC_OK);
    // A map counts its keys and values; a bin counts one, whatever its length.
    const uint8_t m[] = {0x82, 0xa1, 'a', 0xc4, 3, 'x', 'y', 'z', 0xc0, 0xc0}; // 5 values
    lim.max_objects = 5;
    ck_assert_int_eq(scan(m, sizeof m, &lim, NULL, &err), LC_OK);
    lim.max_objects = 4;
    ck_assert_int_eq(scan(m, sizeof m, &lim, NULL, &err), LC_ERR_SIZE);
}
END_TEST

// Lengths and counts that declare more than the input holds, up to 2^32 - 1.
START_TEST(test_declared_past_end) {
    static const struct {
        uint8_t type;
        int lenbytes, extra, pairs; // extra: ext type byte; pairs: elements per count
    } kinds[] = {
        {0xc4, 1, 0, 0}, {0xc5, 2, 0, 0}, {0xc6, 4, 0, 0}, {0xd9, 1, 0, 0}, {0xda, 2, 0, 0},
        {0xdb, 4, 0, 0}, {0xc7, 1, 1, 0}, {0xc8, 2, 1, 0}, {0xc9, 4, 1, 0}, {0xdc, 2, 0, 1},
        {0xdd, 4, 0, 1}, {0xde, 2, 0, 2}, {0xdf, 4, 0, 2},
    };
    lc_mp_limits lim = limits(8, 0, 1);
    uint8_t v[8 + 64];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int lb = kinds[k].lenbytes, pairs = kinds[k].pairs;
        size_t hdr = 1 + (size_t)lb, room = 20; // bytes after the header
        int want = pairs ? LC_ERR_SIZE : PAST_END;
        uint64_t maxv = lb == 1 ? 0xff : lb == 2 ? 0xffff : 0xffffffffu;
        // Counts that just fit, one too many, and the most the length field holds.
        uint64_t fits = pairs ? room / (size_t)pairs : room - (size_t)kinds[k].extra;
        uint64_t counts[3] = {fits, fits + 1, maxv};
        for (int c = 0; c < 3; c++) {
            v[0] = kinds[k].type;
            put_be(v + 1, counts[c], lb);
            memset(v + hdr, 0xc0, room); // nils: valid elements and valid payload bytes
            lc_error err = {0};
            size_t used = 0;
            int rc = scan(v, hdr + room, &lim, &used, &err);
            if (c == 0) {
                ck_assert_msg(rc == LC_OK, "0x%02x fitting: %s", kinds[k].type, err.msg);
                if (!pairs) ck_assert_uint_eq(used, hdr + room);
            } else {
                ck_assert_msg(rc == want, "0x%02x declaring %llu: %d (%s)", kinds[k].type,
                              (unsigned long long)counts[c], rc, err.msg);
                ck_assert_ptr_nonnull(strstr(err.msg, "remain"));
                ck_assert_ptr_nonnull(strstr(err.msg, "test offset"));
            }
        }
    }
    // Inside a container, the check uses what remains after the element's own header.
    const uint8_t in_map[] = {0x81, 0xa1, 't', 0xdd, 0x10, 0, 0, 0};
    lc_error err = {0};
    ck_assert_int_eq(scan(in_map, sizeof in_map, &lim, NULL, &err), LC_ERR_SIZE);
    // Fixed-size scalars and fixstr past the end.
    const uint8_t f64[] = {0xcb, 1, 2, 3};
    ck_assert_int_eq(scan(f64, sizeof f64, &lim, NULL, &err), PAST_END);
    const uint8_t fixstr[] = {0xbf, 'a'};
    ck_assert_int_eq(scan(fixstr, sizeof fixstr, &lim, NULL, &err), PAST_END);
}
END_TEST

START_TEST(test_trailing_and_empty) {
    const uint8_t two[] = {0x92, 0x01, 0x02, 0xc0, 0xc3};
    lc_error err = {0};
    size_t used = 99;
    lc_mp_limits strict = limits(8, 0, 0), loose = limits(8, 0, 1);
    ck_assert_int_eq(scan(two, sizeof two, &strict, &used, &err), MALFORMED);
    ck_assert_ptr_nonnull(strstr(err.msg, "2 bytes follow the msgpack value in the test"));
    ck_assert_uint_eq(used, 99); // untouched on failure
    ck_assert_int_eq(scan(two, sizeof two, &loose, &used, &err), LC_OK);
    ck_assert_uint_eq(used, 3);
    ck_assert_int_eq(scan(two, 3, &strict, &used, &err), LC_OK);
    ck_assert_uint_eq(used, 3);
    // Nothing at all is not a value.
    ck_assert_int_eq(scan("", 0, &loose, &used, &err), MALFORMED);
    ck_assert_ptr_nonnull(strstr(err.msg, "ends inside a msgpack value"));
    // A NULL noun reads "input"; err may be NULL.
    loose.what = NULL;
    ck_assert_int_eq(scan("\xc1", 1, &loose, NULL, &err), MALFORMED);
    ck_assert_ptr_nonnull(strstr(err.msg, "input offset 0"));
    ck_assert_int_eq(scan("\xc1", 1, &loose, NULL, NULL), MALFORMED);
}
END_TEST

static Suite *mpscan_suite(void) {
    Suite *s = suite_create("mpscan");
    TCase *tc = tcase_create("types and truncation");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_every_type_byte);
    tcase_add_test(tc, test_every_type_truncated);
    tcase_add_test(tc, test_sample_truncated_everywhere);
    tcase_add_test(tc, test_mutations_agree_with_msgpack);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_object_cap);
    tcase_add_test(tc, test_declared_past_end);
    tcase_add_test(tc, test_trailing_and_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(mpscan_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
