#!/bin/sh
# examples/footage_flow.sh (the video half of issue 20): frames of a game become footage and
# come back: a frames dataset -> an MP4 (H.264 by the ffmpeg program) -> `lucid import-video`
# -> a frames dataset again, with the codec's loss measured (PSNR of every frame against the
# original) and how many of the true episode starts the scene-cut rule finds. Ends with one
# JSON line. Leaves out (the other half of issue 20, not written yet): ALE games recorded
# through the Python package, and the worlds trained from both datasets compared.
# Usage:
#   [GAME=Breakout-v0] [CRF=18] [PIXFMT=yuv444p] [SCENE=1.5] sh examples/footage_flow.sh [WORKDIR] [STEPS]
set -e
LUCID=${LUCID:-./build/lucid}
PY=${PYTHON:-/usr/bin/python3}   # Debian's, with numpy and msgpack (scripts/deps.sh)
GAME=${GAME:-Breakout-v0}
CRF=${CRF:-18}
PIXFMT=${PIXFMT:-yuv444p} # yuv420p halves the colour of 1-pixel bricks: 26.6 dB instead of 42.5 (Breakout, crf 18)
SCENE=${SCENE:-1.5}   # Breakout: a reset changes ~2-5 (of 255) on average, a step < 1.6
DIR=${1:-/tmp/lucid_footage_flow}
STEPS=${2:-5000}
T0=$(date +%s)
mkdir -p "$DIR"
echo "== 1. $STEPS steps of $GAME as frames (no actions)"
$LUCID collect --frames-only --env "$GAME" --steps "$STEPS" --seed 1 --out "$DIR/frames.lucid"
echo "== 2. the frames as an MP4: H.264, crf $CRF, $PIXFMT, 30 fps (the ffmpeg program)"
# frames.py: the container read with msgpack alone (docs/FORMAT.md); raw RGB24 to stdout.
cat > "$DIR/frames.py" <<'EOF'
import struct, sys, zlib
import msgpack, numpy as np

def load(path):
    raw = open(path, "rb").read()
    assert raw[:8] == b"\x89LUCID\r\n", path + ": not a lucid file"
    _, n = struct.unpack_from("<IQ", raw, 8)
    body = raw[20:20 + n]
    assert zlib.crc32(body) == struct.unpack_from("<I", raw, 20 + n)[0], path + ": bad checksum"
    doc = msgpack.unpackb(body, raw=False)
    t = {x["name"]: x for x in doc["tensors"]}
    fr = np.frombuffer(t["frames"]["data"], np.uint8).reshape(t["frames"]["shape"])
    return fr, np.frombuffer(t["starts"]["data"], np.uint8)

if __name__ == "__main__" and sys.argv[1] == "raw":
    fr, _ = load(sys.argv[2])
    sys.stdout.buffer.write(fr.tobytes())
    sys.stderr.write("%d %d %d\n" % fr.shape[:3])
EOF
SHAPE=$($PY "$DIR/frames.py" raw "$DIR/frames.lucid" 2>&1 >/dev/null)
set -- $SHAPE
N=$1; H=$2; W=$3
$PY "$DIR/frames.py" raw "$DIR/frames.lucid" 2>/dev/null |
    ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt rgb24 -s "${W}x${H}" -r 30 -i - \
        -c:v libx264 -crf "$CRF" -pix_fmt "$PIXFMT" "$DIR/footage.mp4"
ls -l "$DIR/footage.mp4"
echo "== 3. the MP4 back: lucid import-video (episodes from scene cuts, threshold $SCENE)"
$LUCID import-video "$DIR/footage.mp4" --out "$DIR/video.lucid" --size "$H" \
    --episode-cut "scene=$SCENE" --name "$GAME"
echo "== 4. the codec's loss"
$PY - "$DIR" "$GAME" "$CRF $PIXFMT" "$SCENE" "$(( $(date +%s) - T0 ))" "$(stat -c %s "$DIR/footage.mp4")" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from frames import load
import numpy as np
d, game, crf, scene, wall, nbytes = sys.argv[1:7]
a, sa = load(d + "/frames.lucid")
b, sb = load(d + "/video.lucid")
assert a.shape == b.shape, (a.shape, b.shape)
mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(axis=1)
psnr = lambda m: float("inf") if m == 0 else 10 * np.log10(255.0 ** 2 / m)
true_starts, found = set(np.flatnonzero(sa)), set(np.flatnonzero(sb))
print(json.dumps({
    "source": "video", "game": game, "codec": "libx264 crf %s" % crf,
    "frames": int(len(a)), "mp4_bytes": int(nbytes), "raw_bytes": int(a.size),
    "psnr_db": round(psnr(mse.mean()), 2), "psnr_min_db": round(psnr(mse.max()), 2),
    "episodes": len(true_starts), "scene_threshold": float(scene),
    "scene_cuts_true": len(true_starts & found), "scene_cuts_extra": len(found - true_starts),
    "wall_s": int(wall)}))
EOF
