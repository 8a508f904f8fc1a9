"""tests/python/test_remote.py: Gymnasium's own CartPole-v1 served by lucid.serve_gym (in a
thread, on a free loopback port) and stepped from C as a remote:ENDPOINT env: through
lucid.make_vec (observations, rewards, flags, final observations and time-limit truncation
equal Gymnasium stepped directly with the same seeds and actions), through the lucid command
(`lucid collect` and `lucid train` on the remote env record and learn what they do on
lucid's own CartPole-v1), and the errors: a server that went away fails the step with a clear
message within the reply timeout, and stays failed; refused modes and binds.
Pendulum-v1 checks Box actions, a small pixel env uint8 observations and render.
Leaves out: MultiDiscrete and pixel spaces (the codec is tested in C by test_proto)."""
import os
import subprocess
import sys
import tempfile
import threading

import gymnasium as gym
import numpy as np
import pytest

import lucid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LUCID_BUILD", "build")
LUCID = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), "lucid")


class Served:
    """serve_gym(CartPole-v1) in a thread until stop()."""

    def __init__(self, num_envs=1, env_id="CartPole-v1", env_fn=None):
        self.stop_event = threading.Event()
        got = []
        ready = threading.Event()

        def on_ready(ep):
            got.append(ep)
            ready.set()

        self.result = []

        def run():
            try:
                self.result.append(lucid.serve_gym(env_fn or (lambda: gym.make(env_id)), bind="tcp://127.0.0.1:*",
                                                   num_envs=num_envs, stop=self.stop_event, ready=on_ready))
            except BaseException as e:  # shown by the test that waits for ready
                self.result.append(e)
                ready.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(60), "serve_gym did not start"
        assert got, "serve_gym failed: %r" % (self.result,)
        self.endpoint = got[0]

    def stop(self):
        self.stop_event.set()
        self.thread.join(60)
        assert not self.thread.is_alive()
        assert self.result and not isinstance(self.result[0], BaseException), self.result


@pytest.fixture
def served():
    s = Served()
    yield s
    if s.thread.is_alive():
        s.stop()


def balance(obs):
    """Pushes toward the pole's lean: episodes last long enough to meet the time limit."""
    return (obs[:, 2] + 0.3 * obs[:, 3] > 0).astype(np.int32)


def test_make_vec_equals_gymnasium(served):
    N, T, LIMIT, seed = 3, 400, 60, 11
    envs = lucid.make_vec("remote:" + served.endpoint, N, autoreset_mode="SAME_STEP", max_episode_steps=LIMIT)
    assert envs.single_observation_space.shape == (4,)
    assert envs.single_action_space == gym.spaces.Discrete(2)
    ref = [gym.make("CartPole-v1", max_episode_steps=LIMIT) for _ in range(N)]
    obs, _ = envs.reset(seed=seed)
    want = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(ref)])
    assert np.array_equal(obs, want)
    rng = np.random.default_rng(0)
    ends = {"terminated": 0, "truncated": 0}
    for t in range(T):
        act = balance(obs) if (t // 100) % 2 == 0 else rng.integers(0, 2, N).astype(np.int32)
        obs, rew, term, trunc, info = envs.step(act)
        for i, e in enumerate(ref):
            o, r, te, tr, _ = e.step(int(act[i]))
            assert rew[i] == np.float32(r) and term[i] == te and trunc[i] == (tr and not te), (t, i)
            if te or tr:
                ends["terminated" if te else "truncated"] += 1
                assert np.array_equal(info["final_obs"][i], o), (t, i)
                o, _ = e.reset()
            assert np.array_equal(obs[i], o), (t, i)
    assert ends["terminated"] > 0 and ends["truncated"] > 0, ends  # both kinds of end were checked
    returns, lengths = envs.episode_returns
    assert returns.shape == (N,) and lengths.dtype == np.int32
    envs.close()


def test_single_env_and_reseed(served):
    env = lucid.make("remote:" + served.endpoint)  # autoreset disabled: the server's next episode waits
    ref = gym.make("CartPole-v1")
    for seed in (5, 6):
        obs, _ = env.reset(seed=seed)
        o, _ = ref.reset(seed=seed)
        assert np.array_equal(obs, o)
        done = False
        while not done:
            obs, r, te, tr, _ = env.step(1)
            o, r2, te2, tr2, _ = ref.step(1)
            assert np.array_equal(obs, o) and (r, te, tr) == (r2, te2, tr2)
            done = te or tr
    env.close()


def test_box_actions_pendulum():
    s = Served(env_id="Pendulum-v1")
    try:
        N = 2
        envs = lucid.make_vec("remote:" + s.endpoint, N, autoreset_mode="SAME_STEP")
        assert envs.single_action_space.shape == (1,) and envs.single_observation_space.shape == (3,)
        assert np.array_equal(envs.single_observation_space.high, np.array([1, 1, 8], np.float32))
        ref = [gym.make("Pendulum-v1") for _ in range(N)]
        obs, _ = envs.reset(seed=3)
        assert np.array_equal(obs, np.stack([e.reset(seed=3 + i)[0] for i, e in enumerate(ref)]))
        rng = np.random.default_rng(1)
        for t in range(250):  # past the 200-step limit: truncation and the next episode
            act = rng.uniform(-2.5, 2.5, (N, 1)).astype(np.float32)  # lucid clips to [-2, 2], as Pendulum
            obs, rew, term, trunc, info = envs.step(act)
            for i, e in enumerate(ref):
                o, r, te, tr, _ = e.step(np.clip(act[i], -2, 2))
                assert rew[i] == np.float32(r) and trunc[i] == tr and not term[i], (t, i)
                if tr:
                    assert np.array_equal(info["final_obs"][i], o)
                    o, _ = e.reset()
                assert np.array_equal(obs[i], o), (t, i)
        envs.close()
    finally:
        s.stop()


class Blink(gym.Env):
    """A tiny pixel env: an (8, 6, 3) uint8 frame with one lit cell that the action moves."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (8, 6, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(3)

    def _obs(self):
        o = np.zeros((8, 6, 3), np.uint8)
        o[self.pos // 6, self.pos % 6] = (255, 128, 7)
        return o

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = int(self.np_random.integers(48)), 0
        return self._obs(), {}

    def step(self, a):
        self.pos = (self.pos + int(a) - 1) % 48
        self.t += 1
        return self._obs(), float(self.pos == 0), self.pos == 0, self.t >= 20, {}

    def render(self):
        return np.repeat(np.repeat(self._obs(), 2, axis=0), 2, axis=1)  # (16, 12, 3)


def test_pixels_and_render():
    s = Served(env_fn=lambda: Blink(render_mode="rgb_array"))
    try:
        N = 2
        envs = lucid.make_vec("remote:" + s.endpoint, N, autoreset_mode="SAME_STEP", render_mode="rgb_array")
        assert envs.single_observation_space == gym.spaces.Box(0, 255, (8, 6, 3), np.uint8)
        ref = [Blink() for _ in range(N)]
        obs, _ = envs.reset(seed=9)
        assert obs.dtype == np.uint8
        assert np.array_equal(obs, np.stack([e.reset(seed=9 + i)[0] for i, e in enumerate(ref)]))
        rng = np.random.default_rng(2)
        for t in range(60):
            act = rng.integers(0, 3, N).astype(np.int32)
            obs, rew, term, trunc, info = envs.step(act)
            for i, e in enumerate(ref):
                o, r, te, tr, _ = e.step(act[i])
                assert (rew[i], term[i], trunc[i]) == (r, te, tr and not te), (t, i)
                if te or tr:
                    assert np.array_equal(info["final_obs"][i], o)
                    o, _ = e.reset()
                assert np.array_equal(obs[i], o), (t, i)
        frames = envs.render()
        assert len(frames) == N and frames[1].shape == (16, 12, 3)
        assert np.array_equal(frames[1], ref[1].render())
        envs.close()
    finally:
        s.stop()



def _area_matrix(src, dst):
    """Integer overlaps of output cells [i src, (i+1) src) with source cells [j dst, (j+1) dst)."""
    w = np.zeros((dst, src), np.int64)
    for i in range(dst):
        for j in range(src):
            w[i, j] = max(0, min((i + 1) * src, (j + 1) * dst) - max(i * src, j * dst))
    return w


def area_resize(img, h, w):
    """The exact area average (core/resize.h's rule) in numpy, rounded half up."""
    sh, sw, _ = img.shape
    wy, wx = _area_matrix(sh, h), _area_matrix(sw, w)
    acc = np.einsum("ys,sxc,ux->yuc", wy, img.astype(np.int64), wx)
    return ((acc + (sh * sw) // 2) // (sh * sw)).astype(np.uint8)


def test_remote_frames_resized():
    s = Served(env_fn=Blink)
    try:
        for size in [(4, 3), (5, 4), (16, 9)]:
            envs = lucid.make_vec("remote:" + s.endpoint, 2, autoreset_mode="SAME_STEP", resize=size)
            assert envs.single_observation_space.shape == size + (3,)
            ref = [Blink() for _ in range(2)]
            obs, _ = envs.reset(seed=3)
            for i, e in enumerate(ref):
                assert np.array_equal(obs[i], area_resize(e.reset(seed=3 + i)[0], *size)), size
            rng = np.random.default_rng(5)
            for t in range(20):
                act = rng.integers(0, 3, 2).astype(np.int32)
                obs, _, _, _, info = envs.step(act)
                for i, e in enumerate(ref):
                    o, _, te, tr, _ = e.step(act[i])
                    if te or tr:
                        assert np.array_equal(info["final_obs"][i], area_resize(o, *size))
                        o, _ = e.reset()
                    assert np.array_equal(obs[i], area_resize(o, *size)), (size, t, i)
            envs.close()
        with pytest.raises(lucid.ArgumentError):
            lucid.make_vec("remote:" + s.endpoint, 1, resize=(0, 4))
        with pytest.raises(lucid.LucidError, match="uint8"):
            lucid.make_vec("CartPole-v1", 1, resize=(4, 4))
    finally:
        s.stop()


def test_cli_collect_equals_lucid_cartpole(served):
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name, env in (("remote", "remote:" + served.endpoint), ("local", "CartPole-v1")):
            path = os.path.join(d, name + ".lucid")
            out = subprocess.run([LUCID, "collect", "--env", env, "--steps", "200", "--num-envs", "2",
                                  "--seed", "4", "--out", path, "--quiet"],
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            paths.append(path)
        a, b = (lucid.Dataset.load(p) for p in paths)
        assert len(a) == len(b) == 200
        for field in ("obs", "actions", "rewards", "terminated", "truncated"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_cli_train_on_remote(served):
    """PPO on the served Gymnasium CartPole learns exactly what it learns on lucid's own."""
    lines = []
    with tempfile.TemporaryDirectory() as d:
        for env in ("remote:" + served.endpoint, "CartPole-v1"):
            out = subprocess.run([LUCID, "train", "--env", env, "--steps", "4096", "--num-envs", "4",
                                  "--seed", "2", "--out", os.path.join(d, "pi.lucid")],
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, out.stderr
            text = out.stdout + out.stderr
            got = [ln.split(";", 1)[1] for ln in text.splitlines() if "recent training return" in ln]
            got += [ln for ln in text.splitlines() if ln.startswith("evaluation over")]
            assert len(got) == 2, text
            lines.append(got)
    assert lines[0] == lines[1]


def test_server_gone_is_a_clear_error():
    s = Served()
    envs = lucid.make_vec("remote:" + s.endpoint, 2, autoreset_mode="SAME_STEP", timeout=0.5)
    envs.reset(seed=0)
    envs.step(np.zeros(2, np.int32))
    s.stop()
    with pytest.raises(lucid.LucidError, match=r"no reply to 'step' within 0.5 s") as e:
        envs.step(np.zeros(2, np.int32))
    assert e.value.code == 15  # LC_ERR_NET
    with pytest.raises(lucid.LucidError, match="no reply"):  # it stays failed
        envs.step(np.zeros(2, np.int32))
    envs.close()
    with pytest.raises(lucid.LucidError, match=r"no reply to 'make'"):
        lucid.make_vec("remote:" + s.endpoint, 1, autoreset_mode="SAME_STEP", timeout=0.2)


def test_refusals(served):
    with pytest.raises(lucid.UnsupportedError, match="same step"):
        lucid.make_vec("remote:" + served.endpoint, 2)  # NEXT_STEP, make_vec's default
    with pytest.raises(lucid.ArgumentError, match="timeout"):
        lucid.make_vec("remote:" + served.endpoint, 2, autoreset_mode="SAME_STEP", timeout=-1)
    with pytest.raises(lucid.ArgumentError, match="endpoint"):
        lucid.make_vec("remote:", 1, autoreset_mode="SAME_STEP")
    with pytest.raises(ValueError, match="other machines"):
        lucid.serve_gym("CartPole-v1", bind="tcp://0.0.0.0:5999", timeout=0.1)
    # a served env is still usable after the refusals
    envs = lucid.make_vec("remote:" + served.endpoint, 2, autoreset_mode="SAME_STEP")
    envs.reset(seed=1)
    with pytest.raises(lucid.ActionError):
        envs.step(np.array([0, 2], np.int32))  # checked in C before anything is sent
    envs.close()


def test_protocol_errors_from_serve_gym(served):
    import msgpack
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(served.endpoint)

    def ask(raw):
        s.send(raw)
        assert s.poll(10000)
        return msgpack.unpackb(s.recv())

    assert ask(b"\xc1")["code"] == 16  # not msgpack: PROTO
    assert ask(msgpack.packb({"t": "make", "v": 2}))["code"] == 5  # VERSION
    assert ask(msgpack.packb({"t": "step", "v": 1}))["code"] == 17  # no env yet: STATE
    env = ask(msgpack.packb({"t": "make", "v": 1, "num_envs": 2}))
    assert env["t"] == "env" and env["num_envs"] == 2 and env["max_episode_steps"] == 500
    assert ask(msgpack.packb({"t": "step", "v": 1, "actions": {"dtype": "i32", "shape": [2],
                                                                "data": b"\0" * 8}}))["code"] == 17
    ask(msgpack.packb({"t": "reset", "v": 1, "seed": 0}))
    bad = ask(msgpack.packb({"t": "step", "v": 1, "actions": {"dtype": "i32", "shape": [3], "data": b"\0" * 12}}))
    assert bad["code"] == 10  # SHAPE
    bad = ask(msgpack.packb({"t": "step", "v": 1, "actions": {"dtype": "i32", "shape": [2],
                                                                "data": np.array([0, 7], np.int32).tobytes()}}))
    assert bad["code"] == 13  # ACTION
    assert ask(msgpack.packb({"t": "close", "v": 1}))["t"] == "closed"
    s.close(0)
    ctx.term()


if __name__ == "__main__":
    rc = pytest.main([__file__, "-q", "-p", "no:cacheprovider"])
    sys.exit(1 if rc == 5 else rc)  # 5: no tests collected
