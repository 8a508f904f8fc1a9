// bench/bench_video.c: import-video's decode + scale throughput (lc_video_import, one
// decoder thread, 64x64 RGB) on a 1-minute 256x256 30 fps clip it makes with the ffmpeg
// program (H.264 and MPEG-4 part 2), beside the ffmpeg program doing comparable work in the
// same run (-threads 1, scale=64:64:flags=area to rgb24 rawvideo: swscale's area filter where
// lucid converts with swscale and resizes by core/resize.h's rule), and its decode alone.
// Leaves out: writing the dataset (lc_frames_save; a file write), other sizes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "worldmodel/frames.h"
#include "worldmodel/video.h"

#define REPEATS 5

static double cpu_self(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_children(void) {
    struct rusage u;
    getrusage(RUSAGE_CHILDREN, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

static int sh(const char *cmd) {
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0;
}

static void print_row(const char *what, const double *wall, const double *cpu, double frames) {
    char a[96], b[96];
    printf("  %-44s %s frames/s (wall), %s frames/s (CPU)\n", what,
           bench_fmt(a, sizeof a, bench_rate(bench_stat_of(wall, REPEATS), frames), 1, 0),
           bench_fmt(b, sizeof b, bench_rate(bench_stat_of(cpu, REPEATS), frames), 1, 0));
}

// Times REPEATS runs of a shell command (the ffmpeg program): wall and its CPU time.
static int time_cmd(const char *cmd, double *wall, double *cpu) {
    for (int r = 0; r < REPEATS; r++) {
        double c0 = cpu_children(), t0 = bench_now();
        if (sh(cmd)) return 1;
        wall[r] = bench_now() - t0, cpu[r] = cpu_children() - c0;
    }
    return 0;
}

static int bench_clip(const char *dir, const char *codec, const char *args) {
    char clip[512], cmd[2048];
    snprintf(clip, sizeof clip, "%s/clip_%s.mkv", dir, codec);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=256x256:rate=30 "
             "-t 60 %s %s", args, clip);
    if (sh(cmd)) {
        fprintf(stderr, "bench_video: could not make the %s clip with the ffmpeg program\n", codec);
        return 1;
    }
    lc_video_opts o = lc_video_opts_default();
    o.size = 64;
    o.threads = 1;
    double wall[REPEATS], cpu[REPEATS];
    size_t n = 0;
    for (int r = 0; r < REPEATS; r++) {
        lc_error err = {0};
        lc_frames fr;
        double c0 = cpu_self(), t0 = bench_now();
        if (lc_video_import(&fr, clip, &o, &err)) {
            fprintf(stderr, "bench_video: %s\n", err.msg);
            return 1;
        }
        wall[r] = bench_now() - t0, cpu[r] = cpu_self() - c0;
        n = fr.n;
        lc_frames_free(&fr);
    }
    printf("%s, 256x256, %zu frames (60 s at 30 fps), to 64x64 RGB, one thread, median [min-max] of %d:\n",
           codec, n, REPEATS);
    print_row("lucid import (lc_video_import)", wall, cpu, (double)n);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -threads 1 -i %s -filter_threads 1 "
             "-vf scale=64:64:flags=area -pix_fmt rgb24 -f rawvideo -y /dev/null", clip);
    if (time_cmd(cmd, wall, cpu)) return 1;
    print_row("reference: ffmpeg program, SWS_AREA to 64x64", wall, cpu, (double)n);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -threads 1 -i %s -f null -", clip);
    if (time_cmd(cmd, wall, cpu)) return 1;
    print_row("reference: ffmpeg program, decode only", wall, cpu, (double)n);
    return 0;
}

int main(void) {
    char dir[] = "/tmp/lucid_bench_video_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_video: mkdtemp");
        return 1;
    }
    printf("bench_video: import-video throughput (target >= 2000 frames/s at 64x64 on one core); "
           "the ffmpeg program's times include its start (~0.05 s)\n");
    int rc = bench_clip(dir, "H.264", "-c:v libx264 -pix_fmt yuv420p") ||
             bench_clip(dir, "MPEG-4", "-c:v mpeg4 -q:v 4 -pix_fmt yuv420p");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    sh(cmd);
    return rc;
}
