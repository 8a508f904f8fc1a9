"""tests/python/test_video.py: `lucid import-video` (worldmodel/video.c) on small videos this
test encodes itself with the ffmpeg program from frames it draws with numpy: lossless codecs
(FFV1 RGB, a PNG folder and glob, a GIF of few colours) come back exactly, resized by the
exact area average (core/resize.h's rule, recomputed here); lossy ones (MPEG-4 part 2, H.264,
VP9) within a stated PSNR; an odd size (37x23, H.264 4:4:4 and VP9) exactly as the ffmpeg
program's decode resized by the rule; the crop, gray and time rules (--fps on constant and
variable frame rates, the latter checked against the timestamps ffprobe reports); episode
cuts (scene, every, none); truncated, damaged, garbage, audio-only and missing files fail
with a clear error and leave no file; the dataset trains a tiny `lucid train-genie`.
Leaves out: speed (bench/bench_video.c)."""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import msgpack
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LUCID_BUILD", "build")
LUCID = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), "lucid")

# Lossy codecs at the settings below on the smooth test pattern: the PSNR each must reach
# against the source (measured 36-37 dB with Debian 12's FFmpeg 5.1: 4:2:0 chroma bounds it;
# the bound leaves room for other builds).
LOSSY = {
    "mpeg4": (["-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p"], "avi", 30.0),
    "h264": (["-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p"], "mp4", 30.0),
    "vp9": (["-c:v", "libvpx-vp9", "-crf", "15", "-b:v", "0", "-deadline", "realtime",
             "-pix_fmt", "yuv420p"], "webm", 30.0),
}


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory(prefix="lucid_video_") as d:
        yield d


def pattern(n, h, w, seed=0):
    """(n, h, w, 3) uint8: smooth moving colour waves (what lossy codecs keep well)."""
    t = np.arange(n, dtype=np.float64)[:, None, None]
    y = np.arange(h, dtype=np.float64)[None, :, None]
    x = np.arange(w, dtype=np.float64)[None, None, :]
    r = 128 + 90 * np.sin(x / 7.0 + t / 5.0 + seed)
    g = 128 + 90 * np.cos(y / 9.0 - t / 7.0)
    b = 128 + 60 * np.sin((x + y) / 11.0 + t / 3.0)
    return np.clip(np.stack([r + 0 * y, g + 0 * x, b], axis=-1), 0, 255).round().astype(np.uint8)


def blocks(n, h, w, colours, scene_len=None):
    """(n, h, w, 3) uint8 of a few flat colours: a background and a moving square (a new
    background every scene_len frames)."""
    out = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        bg = colours[(i // scene_len) % len(colours)] if scene_len else colours[0]
        out[i] = bg
        s, x0, y0 = max(2, h // 4), (2 * i) % max(1, w - h // 4), (i * 3) % max(1, h - h // 4)
        out[i, y0:y0 + s, x0:x0 + s] = colours[-1]
    return out


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def ffmpeg(args, stdin=None):
    r = subprocess.run(["ffmpeg", "-v", "error", "-y"] + args, input=stdin, capture_output=True)
    assert r.returncode == 0, r.stderr.decode()


def encode(frames, path, codec_args, fps=25):
    n, h, w, _ = frames.shape
    ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "%dx%d" % (w, h), "-r", str(fps), "-i", "-"]
           + codec_args + [path], stdin=frames.tobytes())


def decode_ref(path, pix_fmt="rgb24"):
    """The ffmpeg program's frames of path at their own size."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "rawvideo",
                        "-pix_fmt", pix_fmt, "-"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    probe = run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=width,height",
                 "-of", "csv=p=0", path])
    w, h = map(int, probe.stdout.split()[0].split(","))
    return np.frombuffer(r.stdout, np.uint8).reshape(-1, h, w, 1 if pix_fmt == "gray" else 3)


def area(frames, size):
    """core/resize.h's exact area average, computed another way: each source pixel repeated
    size x size times, then the mean of each (sh, sw) block, rounded half up."""
    n, sh, sw, c = frames.shape
    a = np.repeat(np.repeat(frames.astype(np.int64), size, axis=1), size, axis=2)
    s = a.reshape(n, size, sh, size, sw, c).sum(axis=(2, 4))
    return ((s + (sh * sw) // 2) // (sh * sw)).astype(np.uint8)


def read_frames(path):
    """The container (docs/FORMAT.md) read with msgpack alone: meta and the tensors."""
    raw = open(path, "rb").read()
    assert raw[:8] == b"\x89LUCID\r\n"
    version, n = struct.unpack_from("<IQ", raw, 8)
    body = raw[20:20 + n]
    assert zlib.crc32(body) == struct.unpack_from("<I", raw, 20 + n)[0]
    doc = msgpack.unpackb(body, raw=False)
    assert doc["kind"] == "frames"
    dt = {"u8": np.uint8, "f32": np.float32}
    ts = {t["name"]: np.frombuffer(t["data"], dt[t["dtype"]]).reshape(t["shape"]) for t in doc["tensors"]}
    return doc["meta"], ts


def import_video(src, out, *args, ok=True):
    r = run([LUCID, "import-video", src, "--out", out, "--quiet"] + list(args))
    if ok:
        assert r.returncode == 0, r.stderr
        return read_frames(out)
    return r


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def check_dataset(meta, ts, n, size, c):
    assert ts["frames"].shape == (n, size, size, c)
    assert meta["n"] == n and meta["game_h"] == size and meta["game_w"] == size and meta["game_c"] == c
    assert meta["n_actions"] == 1 and meta["env"].startswith("video:")
    assert not ts["rewards"].any() and not ts["terminated"].any() and not ts["truncated"].any()
    assert ts["starts"][0] == 1


# ------------------------------------------------------------------- lossless: exact

def test_ffv1_rgb_exact(tmp):
    src = pattern(20, 64, 64)
    path = os.path.join(tmp, "a.mkv")
    encode(src, path, ["-c:v", "ffv1", "-pix_fmt", "bgr0"])
    meta, ts = import_video(path, os.path.join(tmp, "a.lucid"), "--size", "64")
    check_dataset(meta, ts, 20, 64, 3)
    assert meta["episodes"] == 1 and ts["starts"].sum() == 1
    assert np.array_equal(ts["frames"], src)


def test_png_folder_and_glob_exact(tmp):
    src = pattern(7, 32, 32, seed=1)
    d = os.path.join(tmp, "shots")
    os.mkdir(d)
    encode(src, os.path.join(d, "f%03d.png"), ["-c:v", "png"])
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not a picture")
    for arg in (d, os.path.join(d, "f*.png")):
        meta, ts = import_video(arg, os.path.join(tmp, "p.lucid"), "--size", "32")
        check_dataset(meta, ts, 7, 32, 3)
        assert np.array_equal(ts["frames"], src)


def test_gif_few_colours_exact_odd_size(tmp):
    # A GIF holds 256 colours: four flat colours survive exactly. 37x23 (odd, not square) is
    # stretched to the square by the area average, exactly as the rule computed in numpy.
    cols = [(200, 30, 30), (20, 160, 40), (250, 250, 250), (10, 10, 90)]
    src = blocks(12, 23, 37, cols, scene_len=4)
    path = os.path.join(tmp, "a.gif")
    encode(src, path, ["-vf", "split[a][b];[a]palettegen=max_colors=8[p];[b][p]paletteuse=dither=none"], fps=10)
    assert np.array_equal(decode_ref(path), src)  # the GIF is lossless
    for size in (16, 37, 64):
        meta, ts = import_video(path, os.path.join(tmp, "g.lucid"), "--size", str(size))
        check_dataset(meta, ts, 12, size, 3)
        assert np.array_equal(ts["frames"], area(src, size)), size
    meta, ts = import_video(path, os.path.join(tmp, "c.lucid"), "--size", "10", "--crop", "3,2,30,20")
    assert np.array_equal(ts["frames"], area(src[:, 2:22, 3:33], 10))


# ------------------------------------------------------------------- lossy: within PSNR

@pytest.mark.parametrize("codec", sorted(LOSSY))
def test_lossy_codecs_psnr(tmp, codec):
    args, ext, bound = LOSSY[codec]
    src = pattern(24, 64, 64, seed=2)
    path = os.path.join(tmp, "a." + ext)
    encode(src, path, args)
    meta, ts = import_video(path, os.path.join(tmp, "a.lucid"))  # --size 64 is the default
    check_dataset(meta, ts, 24, 64, 3)
    p = psnr(ts["frames"], src)
    print("%s: PSNR %.1f dB against the source (bound %.0f)" % (codec, p, bound))
    assert p > bound, (codec, p)


def test_odd_size_h264_vp9(tmp):
    # 37x23 through lossy codecs: the import is exactly the ffmpeg program's own decode (to RGB
    # at its size, the same libswscale) resized by the rule, and the source within the loss.
    src = pattern(10, 23, 37, seed=3)
    for args, ext in ((["-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv444p"], "mp4"),
                      (["-c:v", "libvpx-vp9", "-crf", "10", "-b:v", "0", "-deadline", "realtime"], "webm")):
        path = os.path.join(tmp, "odd." + ext)
        encode(src, path, args)
        meta, ts = import_video(path, os.path.join(tmp, "o.lucid"), "--size", "16")
        check_dataset(meta, ts, 10, 16, 3)
        assert np.array_equal(ts["frames"], area(decode_ref(path), 16)), ext
        p = psnr(ts["frames"], area(src, 16))
        print("%s 37x23 -> 16x16: PSNR %.1f dB against the source" % (ext, p))
        assert p > 30, (ext, p)


# ------------------------------------------------------------------- space: crop, gray

def test_crop_and_gray(tmp):
    src = pattern(6, 64, 64, seed=4)
    path = os.path.join(tmp, "a.mkv")
    encode(src, path, ["-c:v", "ffv1", "-pix_fmt", "bgr0"])
    meta, ts = import_video(path, os.path.join(tmp, "c.lucid"), "--size", "32", "--crop", "16,8,32,32")
    assert np.array_equal(ts["frames"], src[:, 8:40, 16:48])
    meta, ts = import_video(path, os.path.join(tmp, "g.lucid"), "--size", "64", "--gray")
    check_dataset(meta, ts, 6, 64, 1)
    ref = decode_ref(path, "gray")
    assert np.abs(ts["frames"].astype(int) - ref.astype(int)).max() <= 1
    r = import_video(path, os.path.join(tmp, "x.lucid"), "--crop", "40,40,32,32", ok=False)
    assert r.returncode == 1 and "outside the 64x64 frame" in r.stderr
    assert not os.path.exists(os.path.join(tmp, "x.lucid"))
    r = import_video(path, os.path.join(tmp, "x.lucid"), "--crop", "1,2,3", ok=False)
    assert r.returncode == 2 and "X,Y,W,H" in r.stderr


# ------------------------------------------------------------------- time: --fps

def test_fps_constant_rate(tmp):
    src = pattern(30, 32, 32, seed=5)
    path = os.path.join(tmp, "a.mp4")
    encode(src, path, ["-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p"], fps=30)
    _, every = import_video(path, os.path.join(tmp, "e.lucid"), "--size", "32")
    _, ten = import_video(path, os.path.join(tmp, "t.lucid"), "--size", "32", "--fps", "10")
    _, sixty = import_video(path, os.path.join(tmp, "s.lucid"), "--size", "32", "--fps", "60")
    assert np.array_equal(ten["frames"], every["frames"][::3])  # ticks 0, 0.1, ... of 30 fps
    assert np.array_equal(sixty["frames"], np.repeat(every["frames"], 2, axis=0))
    _, first = import_video(path, os.path.join(tmp, "m.lucid"), "--size", "32", "--max-frames", "7")
    assert np.array_equal(first["frames"], every["frames"][:7])


def test_fps_variable_rate(tmp):
    # Six flat frames at pts 0, 0.1, 0.35, 0.4, 0.7 and 0.8 s (set by setpts; FFV1 in
    # Matroska, 1 ms timestamps). At --fps 10, tick k takes the last frame whose pts <= k / 10.
    want = [0, 0.1, 0.35, 0.4, 0.7, 0.8]
    levels = [10, 50, 90, 130, 170, 210]
    src = np.stack([np.full((16, 16, 3), v, np.uint8) for v in levels])
    sel = "0"
    for i in reversed(range(1, len(want))):
        sel = r"if(eq(N\,%d)\,%g\,%s)" % (i, want[i], sel)  # commas escaped in a filter
    path = os.path.join(tmp, "vfr.mkv")
    encode(src, path, ["-vf", "setpts=(%s)/TB" % sel, "-fps_mode", "passthrough", "-enc_time_base", "1:1000",
                       "-c:v", "ffv1", "-pix_fmt", "bgr0"], fps=100)
    probe = run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time,pkt_duration_time",
                 "-of", "csv=p=0", path])
    rows = [[float(x) if x not in ("", "N/A") else None for x in l.split(",")] for l in probe.stdout.split()]
    pts = [r[0] for r in rows]
    assert pts == pytest.approx(want, abs=1e-9), pts  # really variable
    _, all_frames = import_video(path, os.path.join(tmp, "a.lucid"), "--size", "16")
    seen = all_frames["frames"][:, 0, 0, 0]
    assert list(seen) == [levels[min(i, 5)] for i in range(len(pts))]
    _, ts = import_video(path, os.path.join(tmp, "v.lucid"), "--size", "16", "--fps", "10")
    last_dur = rows[-1][1] if len(rows[-1]) > 1 else None
    end = pts[-1] + (last_dur or 0)
    expect = []
    k = 0
    while k / 10 < end - 1e-9 or (not last_dur and k / 10 <= pts[-1] + 1e-9):
        i = max(j for j in range(len(pts)) if pts[j] <= k / 10 + 1e-9)
        expect.append(int(seen[i]))
        k += 1
    got = [int(v) for v in ts["frames"][:, 0, 0, 0]]
    assert got == expect, (got, expect, pts, last_dur)
    assert got[:8] == [10, 50, 50, 50, 130, 130, 130, 170]  # frame 2 (0.35-0.4 s) falls between ticks


# ------------------------------------------------------------------- episodes

def test_episode_cuts(tmp):
    cols = [(220, 20, 20), (20, 200, 20), (20, 20, 220), (240, 240, 240)]
    src = blocks(30, 32, 32, cols, scene_len=10)
    path = os.path.join(tmp, "s.mkv")
    encode(src, path, ["-c:v", "ffv1", "-pix_fmt", "bgr0"])
    meta, ts = import_video(path, os.path.join(tmp, "a.lucid"), "--size", "32", "--episode-cut", "scene")
    assert list(np.flatnonzero(ts["starts"])) == [0, 10, 20] and meta["episodes"] == 3
    _, ts = import_video(path, os.path.join(tmp, "b.lucid"), "--size", "32", "--episode-cut", "scene=250")
    assert list(np.flatnonzero(ts["starts"])) == [0]
    _, ts = import_video(path, os.path.join(tmp, "c.lucid"), "--size", "32", "--episode-cut", "every=7")
    assert list(np.flatnonzero(ts["starts"])) == [0, 7, 14, 21, 28]
    _, ts = import_video(path, os.path.join(tmp, "d.lucid"), "--size", "32", "--episode-cut", "none")
    assert list(np.flatnonzero(ts["starts"])) == [0]
    r = import_video(path, os.path.join(tmp, "e.lucid"), "--episode-cut", "every=0", ok=False)
    assert r.returncode == 2 and "every=N" in r.stderr


# ------------------------------------------------------------------- refused files

def test_bad_files_leave_nothing(tmp):
    src = pattern(40, 64, 64, seed=6)
    made = {}
    for name, args in (("fast.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]),
                       ("plain.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
                       ("a.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime"]),
                       ("a.gif", []),
                       ("a.avi", ["-c:v", "mpeg4"])):
        p = os.path.join(tmp, name)
        encode(src, p, args)
        data = open(p, "rb").read()
        made["cut_" + name] = data[:len(data) // 2]
        if name in ("a.avi", "a.webm"):  # damaged: bytes flipped in the middle of the data
            bad = bytearray(data)
            for i in range(len(bad) // 2, len(bad) // 2 + 400, 7):
                bad[i] ^= 0x5A
            made["damaged_" + name] = bytes(bad)
    rng = np.random.default_rng(0)
    made["garbage.mp4"] = rng.integers(0, 256, 50000, dtype=np.uint8).tobytes()
    made["empty.webm"] = b""
    for name, data in made.items():
        open(os.path.join(tmp, name), "wb").write(data)
    wav = os.path.join(tmp, "tone.wav")
    ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", wav])
    cases = [(n, ("truncated", "cut short", "not a video", "corrupt")) for n in made if n.startswith(("cut_", "damaged_"))]
    cases += [("garbage.mp4", ("not a video",)), ("empty.webm", ("not a video",)),
              ("tone.wav", ("no video stream",)), ("missing.mp4", ("cannot open",))]
    out = os.path.join(tmp, "out.lucid")
    for name, words in cases:
        before = sorted(os.listdir(tmp))
        r = import_video(os.path.join(tmp, name), out, ok=False)
        assert r.returncode == 1, (name, r.stderr)
        msg = r.stderr.strip()
        assert msg.startswith("lucid import-video: ") and name in msg, msg
        assert any(w in msg for w in words), (name, msg)
        assert "\n" not in msg, msg  # one line, nothing from FFmpeg's own log
        assert sorted(os.listdir(tmp)) == before, (name, "left a file")
        print("%-16s %s" % (name, msg))


# ------------------------------------------------------------------- the dataset trains

def test_train_genie_reads_it(tmp):
    cols = [(220, 20, 20), (20, 200, 20), (240, 240, 240)]
    src = blocks(40, 64, 64, cols)
    path = os.path.join(tmp, "a.mp4")
    encode(src, path, ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
    out = os.path.join(tmp, "f.lucid")
    r = run([LUCID, "import-video", path, "--out", out, "--size", "16", "--episode-cut", "every=20"])
    assert r.returncode == 0, r.stderr
    assert "40 frames (16x16x3), 2 episodes" in r.stdout
    g = os.path.join(tmp, "g.lucid")
    r = run([LUCID, "train-genie", "--data", out, "--out", g, "--res", "8", "--lam-steps", "3",
             "--dyn-steps", "3", "--batch", "4", "--quiet"])
    assert r.returncode == 0, r.stderr
    info = run([LUCID, "info", g])
    assert info.returncode == 0 and "video:a.mp4" in info.stdout, info.stdout


if __name__ == "__main__":
    rc = pytest.main([__file__, "-q", "-p", "no:cacheprovider"])
    sys.exit(1 if rc == 5 else rc)  # 5: no tests collected
