// tests/test_video.c: Check suite for worldmodel/video.c through its C API: a folder of PNGs
// (written by lucid's own PNG writer) imports exactly, resized by core/resize.h's rule, with
// the crop, gray, every=N and max_frames rules; the options parsers; error codes (missing file, garbage, a crop outside
// the frame, bad settings, a stop from the progress callback) with the frames left empty;
// the dataset saves and loads as kind "frames".
// Leaves out: codecs, variable frame rates, truncated files (tests/python/test_video.py
// encodes those with the ffmpeg program).
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/image.h"
#include "core/resize.h"
#include "worldmodel/frames.h"
#include "worldmodel/video.h"

enum { N = 5, S = 24 };
static char tmpdir[256];
static uint8_t src[N][S * S * 3];

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lucid_test_video_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    for (int i = 0; i < N; i++) {
        for (int p = 0; p < S * S; p++) {
            int y = p / S, x = p % S;
            src[i][p * 3 + 0] = (uint8_t)(x * 10 + i);
            src[i][p * 3 + 1] = (uint8_t)(y * 10);
            src[i][p * 3 + 2] = (uint8_t)(i * 40 + (x == y ? 50 : 0));
        }
        char path[512];
        snprintf(path, sizeof path, "%s/f%02d.png", tmpdir, i);
        lc_error err = {0};
        ck_assert_msg(lc_png_write(path, src[i], S, S, &err) == LC_OK, "%s", err.msg);
    }
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static int import(lc_frames *fr, const char *path, const lc_video_opts *o, lc_error *err) {
    int rc = lc_video_import(fr, path, o, err);
    if (rc) { // a failure leaves the frames empty
        ck_assert_ptr_null(fr->frames);
        ck_assert_uint_eq(fr->n, 0);
    }
    return rc;
}

START_TEST(test_png_folder_exact) {
    lc_video_opts o = lc_video_opts_default();
    o.size = S;
    lc_frames fr;
    lc_error err = {0};
    ck_assert_msg(import(&fr, tmpdir, &o, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(fr.n, N);
    ck_assert_int_eq(fr.H, S);
    ck_assert_int_eq(fr.C, 3);
    ck_assert_int_eq(fr.n_actions, 1);
    ck_assert_ptr_null(fr.actions);
    ck_assert_uint_eq(lc_frames_episodes(&fr), 1);
    for (int i = 0; i < N; i++)
        ck_assert_msg(memcmp(fr.frames + (size_t)i * S * S * 3, src[i], S * S * 3) == 0, "frame %d", i);
    char name[300];
    snprintf(name, sizeof name, "video:%s", strrchr(tmpdir, '/') + 1);
    ck_assert_str_eq(fr.env_name, name);
    // saved and loaded as a frames dataset
    char path[512];
    snprintf(path, sizeof path, "%s/out.lucid", tmpdir);
    ck_assert_msg(lc_frames_save(&fr, path, NULL, &err) == LC_OK, "%s", err.msg);
    lc_frames back;
    ck_assert_msg(lc_frames_load(&back, path, NULL, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(back.n, N);
    ck_assert_mem_eq(back.frames, fr.frames, (size_t)N * S * S * 3);
    lc_frames_free(&back);
    lc_frames_free(&fr);
}
END_TEST

START_TEST(test_crop_gray_every_max) {
    lc_video_opts o = lc_video_opts_default();
    lc_error err = {0};
    ck_assert_int_eq(lc_video_parse_crop(&o, "4,6,8,8", &err), LC_OK);
    ck_assert_int_eq(lc_video_parse_cut(&o, "every=2", &err), LC_OK);
    o.size = 8;
    o.env_name = "Breakout-v0";
    char glob[512];
    snprintf(glob, sizeof glob, "%s/f*.png", tmpdir);
    lc_frames fr;
    ck_assert_msg(import(&fr, glob, &o, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(fr.n, N);
    ck_assert_str_eq(fr.env_name, "Breakout-v0");
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(fr.starts[i], i % 2 == 0);
        for (int y = 0; y < 8; y++)
            ck_assert_mem_eq(fr.frames + ((size_t)i * 64 + y * 8) * 3, src[i] + ((6 + y) * S + 4) * 3, 24);
    }
    lc_frames_free(&fr);
    // 24x24 -> 10x10 by core/resize.h's rule
    o = lc_video_opts_default();
    o.size = 10;
    ck_assert_msg(import(&fr, tmpdir, &o, &err) == LC_OK, "%s", err.msg);
    uint8_t want[10 * 10 * 3];
    uint32_t tmp[10 * S * 3];
    ck_assert_uint_le(lc_resize_area_scratch(S, S, 3, 10, 10), sizeof tmp / sizeof *tmp);
    for (int i = 0; i < N; i++) {
        lc_resize_area_u8(src[i], S, S, 3, want, 10, 10, tmp);
        ck_assert_mem_eq(fr.frames + (size_t)i * sizeof want, want, sizeof want);
    }
    lc_frames_free(&fr);
    o = lc_video_opts_default();
    o.size = 12;
    o.gray = 1;
    o.max_frames = 3;
    ck_assert_msg(import(&fr, tmpdir, &o, &err) == LC_OK, "%s", err.msg);
    ck_assert_uint_eq(fr.n, 3);
    ck_assert_int_eq(fr.C, 1);
    ck_assert_int_eq(fr.game_c, 1);
    lc_frames_free(&fr);
}
END_TEST

START_TEST(test_parsers) {
    lc_video_opts o = lc_video_opts_default();
    lc_error err = {0};
    ck_assert_int_eq(o.size, 64);
    ck_assert_int_eq(o.cut, LC_VIDEO_CUT_NONE);
    const char *bad_crops[] = {"", "1,2,3", "1,2,3,4,5", "-1,0,4,4", "0,0,0,4", "a,b,c,d", "1,2,3,4x"};
    for (size_t i = 0; i < sizeof bad_crops / sizeof *bad_crops; i++)
        ck_assert_int_eq(lc_video_parse_crop(&o, bad_crops[i], &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_video_parse_crop(&o, "0,1,2,3", &err), LC_OK);
    ck_assert_int_eq(o.crop_y + o.crop_w + o.crop_h, 6);
    const char *bad_cuts[] = {"", "every", "every=0", "every=x", "scene=300", "scene=-1", "scenes"};
    for (size_t i = 0; i < sizeof bad_cuts / sizeof *bad_cuts; i++)
        ck_assert_int_eq(lc_video_parse_cut(&o, bad_cuts[i], &err), LC_ERR_ARG);
    ck_assert_int_eq(lc_video_parse_cut(&o, "scene=12.5", &err), LC_OK);
    ck_assert_int_eq(o.cut, LC_VIDEO_CUT_SCENE);
    ck_assert_double_eq(o.cut_threshold, 12.5);
    ck_assert_int_eq(lc_video_parse_cut(&o, "none", &err), LC_OK);
    ck_assert_int_eq(o.cut, LC_VIDEO_CUT_NONE);
    ck_assert_int_eq(lc_settings_parse(lc_video_settings(), &o, "size=32,fps=12.5", &err), LC_OK);
    ck_assert_int_eq(o.size, 32);
}
END_TEST

static int stop_at_two(void *ctx, double done, double total, int64_t frames) {
    (void)done, (void)total;
    ++*(int *)ctx;
    return frames >= 2;
}

START_TEST(test_errors) {
    lc_video_opts o = lc_video_opts_default();
    lc_error err = {0};
    lc_frames fr;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.mp4", tmpdir);
    ck_assert_int_eq(import(&fr, path, &o, &err), LC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing.mp4"));
    snprintf(path, sizeof path, "%s/garbage.mp4", tmpdir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 5000; i++) fputc((i * 7919) % 251, f);
    fclose(f);
    ck_assert_int_eq(import(&fr, path, &o, &err), LC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a video"));
    o.crop_x = 20, o.crop_w = 8, o.crop_h = 8; // 20 + 8 > 24
    ck_assert_int_eq(import(&fr, tmpdir, &o, &err), LC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "outside the 24x24 frame"));
    o.crop_h = 0;
    ck_assert_int_eq(import(&fr, tmpdir, &o, &err), LC_ERR_ARG);
    o = lc_video_opts_default();
    o.size = 0;
    ck_assert_int_eq(import(&fr, tmpdir, &o, &err), LC_ERR_ARG);
    o = lc_video_opts_default();
    int calls = 0;
    o.progress = stop_at_two, o.progress_ctx = &calls;
    ck_assert_int_eq(import(&fr, tmpdir, &o, &err), LC_ERR_STATE);
    ck_assert_int_eq(calls, 2);
}
END_TEST

int main(void) {
    Suite *s = suite_create("video");
    TCase *tc = tcase_create("import");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_png_folder_exact);
    tcase_add_test(tc, test_crop_gray_every_max);
    tcase_add_test(tc, test_parsers);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
