"""tests/python/test_client.py: the Python client (examples/python/lucid_env.py)
against a real `lucid serve` started here on a free loopback port: reset/step,
episode ends, errors for bad actions and unknown envs, the vector variant, raw
malformed messages. Run with /usr/bin/python3; LUCID_BUILD names the build folder.
Leaves out: CURVE (tested in C by tests/test_dist.c)."""

import os
import socket
import subprocess
import sys
import traceback

import msgpack
import numpy as np
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples", "python"))

from lucid_env import LucidEnv, LucidError, LucidVectorEnv  # noqa: E402

LC_ERR_NOTFOUND, LC_ERR_ACTION, LC_ERR_VERSION, LC_ERR_PROTO = 12, 13, 5, 16
LC_ERR_TYPE, LC_ERR_SHAPE, LC_ERR_STATE = 9, 10, 17


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(build):
    lucid = os.path.join(build, "lucid")
    if not os.access(lucid, os.X_OK):
        lucid = os.path.join(ROOT, build, "lucid")
    for _ in range(5):  # the port may be taken between free_port() and bind
        ep = "tcp://127.0.0.1:%d" % free_port()
        proc = subprocess.Popen([lucid, "serve", "--env", "CartPole-v1", "--bind", ep, "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if "listening on" in line:
            return proc, ep
        proc.kill()
        proc.wait()
        err = proc.stderr.read()
        if "in use" not in err:
            raise RuntimeError("lucid serve did not start: %s %s" % (line, err))
    raise RuntimeError("no free port for lucid serve")


def expect_error(fn, code=None):
    try:
        fn()
    except LucidError as e:
        if code is not None and e.code != code:
            raise AssertionError("expected error code %d, got %s: %s" % (code, e.code, e))
        return e
    raise AssertionError("expected a LucidError")


def test_single(ep):
    env = LucidEnv("CartPole-v1", ep, seed=42)
    assert env.observation_space.shape == (4,), env.observation_space
    assert env.action_space.n == 2, env.action_space
    obs, info = env.reset()
    assert obs.shape == (4,) and obs.dtype == np.float32 and info == {}
    assert np.all(np.abs(obs) <= 0.05), obs  # CartPole starts in [-0.05, 0.05]
    # the same seed gives the same start
    obs2, _ = env.reset(seed=42)
    assert np.array_equal(obs, obs2), (obs, obs2)
    # always pushing right ends an episode early (terminated, not truncated)
    total, steps = 0.0, 0
    while True:
        obs, r, term, trunc, info = env.step(1)
        total += r
        steps += 1
        assert obs.shape == (4,)
        if term or trunc:
            break
        assert steps < 500
    assert term and not trunc and steps < 100, (term, trunc, steps)
    assert info["episode"]["l"] == steps and abs(info["episode"]["r"] - total) < 1e-6, info
    assert abs(obs[2]) > 0.2 or abs(obs[0]) > 2.4, obs  # the last obs is the terminal one
    obs, _ = env.reset()
    assert np.all(np.abs(obs) <= 0.05), obs  # the next episode's first obs
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    # bad actions are errors, not crashes; the env stays usable
    expect_error(lambda: env.step(7), LC_ERR_ACTION)
    expect_error(lambda: env.step(-1), LC_ERR_ACTION)
    obs, r, term, trunc, _ = env.step(0)
    assert obs.shape == (4,) and r == 1.0
    env.close()


def test_time_limit(ep):
    env = LucidEnv("CartPole-v1", ep, seed=3, max_episode_steps=5)
    env.reset()
    for i in range(5):
        obs, r, term, trunc, info = env.step(i % 2)
    assert trunc and not term, (term, trunc)
    assert info["episode"]["l"] == 5
    env.close()


def test_vector(ep):
    venv = LucidVectorEnv("CartPole-v1", 8, ep, seed=7)
    assert venv.num_envs == 8
    obs, _ = venv.reset()
    assert obs.shape == (8, 4)
    assert len({tuple(row) for row in obs.tolist()}) == 8  # each copy has its own stream
    ended = 0
    for t in range(300):
        obs, rew, term, trunc, info = venv.step(np.full(8, t % 2 if t < 10 else 1, np.int32))
        assert obs.shape == (8, 4) and rew.shape == (8,) and term.dtype == bool
        if "final_observation" in info:
            mask = info["_final_observation"]
            assert np.array_equal(mask, term | trunc)
            ended += int(mask.sum())
            assert np.all(info["episode"]["l"][mask] > 0)
    assert ended >= 8, ended
    expect_error(lambda: venv.step(np.zeros(3, np.int32)), LC_ERR_SHAPE)
    venv.close()


def test_errors(ep):
    expect_error(lambda: LucidEnv("NoSuchEnv-v0", ep), LC_ERR_NOTFOUND)
    expect_error(lambda: LucidEnv("dream:/etc/passwd", ep))
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(ep)

    def ask(raw):
        s.send(raw)
        assert s.poll(10000), "no reply"
        return msgpack.unpackb(s.recv(), raw=False)

    def packed(**kw):
        return msgpack.packb(kw, use_bin_type=True)

    r = ask(b"\xc1garbage")
    assert r["t"] == "error" and r["code"] == LC_ERR_PROTO, r
    r = ask(packed(t="step", v=99))
    assert r["t"] == "error" and r["code"] == LC_ERR_VERSION, r
    r = ask(packed(t="step", v=1))  # no env yet, and no actions: a missing field
    assert r["t"] == "error" and r["code"] == LC_ERR_PROTO, r
    r = ask(packed(t="reset", v=1))
    assert r["t"] == "error" and r["code"] == LC_ERR_STATE, r
    r = ask(packed(t="make", v=1, num_envs="two"))
    assert r["t"] == "error" and r["code"] == LC_ERR_TYPE, r
    r = ask(packed(t="make", v=1, env="CartPole-v1", num_envs=2))
    assert r["t"] == "env" and r["num_envs"] == 2, r
    r = ask(packed(t="reset", v=1, seed=1))
    assert r["t"] == "obs", r
    bad = {"dtype": "f32", "shape": [2], "data": b"\0" * 8}
    r = ask(packed(t="step", v=1, actions=bad))  # floats for a Discrete space
    assert r["t"] == "error" and r["code"] == LC_ERR_TYPE, r
    bad = {"dtype": "i32", "shape": [2], "data": b"\0" * 7}
    r = ask(packed(t="step", v=1, actions=bad))  # bytes do not match the shape
    assert r["t"] == "error" and r["code"] == LC_ERR_SHAPE, r
    bad = {"dtype": "i32", "shape": [4294967295, 4294967295], "data": b""}
    r = ask(packed(t="step", v=1, actions=bad))
    assert r["t"] == "error", r
    good = {"dtype": "i32", "shape": [2], "data": np.array([0, 1], np.int32).tobytes()}
    r = ask(packed(t="step", v=1, actions=good))
    assert r["t"] == "transition", r
    r = ask(packed(t="close", v=1))
    assert r["t"] == "closed", r
    s.close(0)
    ctx.term()


def main():
    build = os.environ.get("LUCID_BUILD", "build")
    proc, ep = start_server(build)
    failed = 0
    try:
        for test in (test_single, test_time_limit, test_vector, test_errors):
            try:
                test(ep)
                print("%s: ok" % test.__name__)
            except Exception:
                failed += 1
                print("%s: FAILED" % test.__name__)
                traceback.print_exc()
        if proc.poll() is not None:
            failed += 1
            print("the server died: %s" % proc.stderr.read())
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    print("%d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
