"""tests/python/test_resize_flag.py: the one --resize HxW flag of the verbs that make a real
env (cli_env_resize in cli/verbs.c; the env option resize_h/resize_w, core/resize.h's exact
area average). A small Gymnasium pixel game served by lucid.serve_gym is recorded through
remote: by `lucid collect --frames-only --resize` and trained on and evaluated by `lucid train --resize` and `lucid eval --resize`; each
recorded frame equals the game's frame (replayed with the recorded true actions) resized by
the rule recomputed in numpy. Bad specs are refused by collect, train and eval with exit 2.
Leaves out: the rule itself (tests/test_env.c and test_package.py test it)."""
import os
import struct
import subprocess
import tempfile
import threading
import zlib

import gymnasium as gym
import msgpack
import numpy as np
import pytest

import lucid
from test_video import area  # core/resize.h's rule recomputed in numpy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LUCID_BUILD", "build")
LUCID = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), "lucid")
H, W = 12, 18  # the game's frames; the tests ask for 6x6 and 5x5 (not a divisor: fractional weights); frames datasets are square


class Slide(gym.Env):
    """A (12, 18, 3) frame: a colour gradient with a 3x3 block the action moves (0 left, 1 stay,
    2 right, 3 down); the episode ends after 15 steps. Reset is the same every time (no RNG), so
    the recording can be replayed from its true actions alone."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(0, 255, (H, W, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(4)
        y, x = np.mgrid[0:H, 0:W]
        self.bg = np.stack([x * 13 % 256, y * 21 % 256, (x * y * 7) % 256], -1).astype(np.uint8)

    def _obs(self):
        o = self.bg.copy()
        o[self.y:self.y + 3, self.x:self.x + 3] = (250, 3, 101)
        return o

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.y, self.t = 7, 4, 0
        return self._obs(), {}

    def step(self, a):
        a = int(a)
        self.x = min(max(self.x + (a == 2) - (a == 0), 0), W - 3)
        self.y = (self.y + (a == 3)) % (H - 2)
        self.t += 1
        return self._obs(), float(a == 3), False, self.t >= 15, {}


def tensors(path):
    """The container (docs/FORMAT.md) read with msgpack alone."""
    raw = open(path, "rb").read()
    assert raw[:8] == b"\x89LUCID\r\n"
    _, n = struct.unpack_from("<IQ", raw, 8)
    body = raw[20:20 + n]
    assert zlib.crc32(body) == struct.unpack_from("<I", raw, 20 + n)[0]
    doc = msgpack.unpackb(body, raw=False)
    dt = {"u8": np.uint8, "f32": np.float32, "i32": np.int32, "u32": np.uint32, "i64": np.int64}
    return {t["name"]: np.frombuffer(t["data"], dt[t["dtype"]]).reshape(t["shape"]) for t in doc["tensors"]}


@pytest.fixture(scope="module")
def served():
    stop, ready, got = threading.Event(), threading.Event(), []
    th = threading.Thread(target=lambda: lucid.serve_gym(Slide, bind="tcp://127.0.0.1:*", stop=stop,
                                                         ready=lambda ep: (got.append(ep), ready.set())),
                          daemon=True)
    th.start()
    assert ready.wait(60) and got, "serve_gym did not start"
    yield "remote:" + got[0]
    stop.set()
    th.join(60)


def run(*args):
    return subprocess.run([LUCID] + list(args), capture_output=True, text=True)


def replay(starts, actions):
    """The game's full-size frames under the recorded true actions (actions[j] led to frame j)."""
    env, out = Slide(), []
    for j in range(len(starts)):
        o = env.reset()[0] if starts[j] else env.step(int(actions[j]))[0]
        out.append(o)
    return np.stack(out)


@pytest.mark.parametrize("h,w", [(6, 6), (5, 5)])
def test_collect_frames_only_resized(served, h, w):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "f.lucid")
        r = run("collect", "--frames-only", "--env", served, "--resize", "%dx%d" % (h, w),
                "--steps", "60", "--seed", "3", "--out", out, "--quiet")
        assert r.returncode == 0, r.stderr
        ts = tensors(out)
        fr = ts["frames"]
        assert fr.shape[1:] == (h, w, 3), fr.shape
        acts = tensors(os.path.join(d, "f.actions.lucid"))
        act = next(v for v in acts.values() if v.shape[0] == len(fr))
        starts = ts["starts"]
        assert starts[0] == 1 and starts.sum() >= 4  # several episodes: resets are resized too
        want = area(replay(starts, act.reshape(len(fr))), h)
        assert np.array_equal(fr, want)


def test_train_and_eval_resized(served):
    """A policy trained on the 6x6 frames sees 108 inputs; eval plays it on the same resized game,
    and without --resize the full-size game (648 inputs) does not fit it."""
    with tempfile.TemporaryDirectory() as d:
        pol = os.path.join(d, "p.lucid")
        r = run("train", "--env", served, "--resize", "6x6", "--arch", "mlp", "--steps", "256",
                "--eval-episodes", "1", "--out", pol, "--quiet", "--json")
        assert r.returncode == 0, r.stderr
        r = run("eval", "--policy", pol, "--resize", "6x6", "--episodes", "2", "--json")
        assert r.returncode == 0 and '"mean_length": 15' in r.stdout, (r.stdout, r.stderr)
        r = run("eval", "--policy", pol, "--episodes", "1")
        assert r.returncode == 1 and "obs 648" in r.stderr and "obs 108" in r.stderr, r.stderr


@pytest.mark.parametrize("spec", ["64", "64x", "0x5", "5x0", "64x64x", "axb", "-3x4", "5000x5"])
def test_bad_specs_refused(served, spec):
    with tempfile.TemporaryDirectory() as d:
        for args in (["collect", "--frames-only", "--env", served, "--steps", "5"],
                     ["collect", "--env", served, "--steps", "5"],
                     ["train", "--env", served, "--steps", "64"],
                     ["eval", "--policy", os.path.join(d, "none.lucid")]):
            r = run(*args, "--out", os.path.join(d, "x.lucid"), "--resize", spec) if args[0] != "eval" \
                else run(*args, "--resize", spec)
            if args[0] == "eval" and r.returncode == 1:  # the policy is read first: no file
                continue
            assert r.returncode == 2 and "--resize" in r.stderr, (args, spec, r.returncode, r.stderr)
            assert not os.path.exists(os.path.join(d, "x.lucid"))


def test_resize_of_a_vector_env_refused(tmp_path):
    r = run("collect", "--env", "CartPole-v1", "--resize", "4x4", "--steps", "5", "--out",
            str(tmp_path / "c.lucid"))
    assert r.returncode == 1 and "resize" in r.stderr and not (tmp_path / "c.lucid").exists()
