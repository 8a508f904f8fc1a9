"""tests/python/test_package.py: the lucid Python package (python/): gymnasium's check_env on
lucid.make for every registered env, the VectorEnv API of lucid.make_vec (spaces, arrays
over lucid's buffers without copies, the three autoreset modes, render, close), dream: envs,
errors raised as exceptions with lucid's messages, lucid.Policy acting in C as lucid's
own evaluation does, and lucid.Dataset (record in a Python loop, save, load, validate). LUCID_BUILD names the build folder (the lucid command makes the files).
Leaves out: equality with Gymnasium's envs (test_seeding.py)."""
import json
import os
import subprocess
import sys
import tempfile

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import lucid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LUCID_BUILD", "build")
LUCID = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
LUCID = os.path.join(LUCID, "lucid")
REAL_ENVS = [n for n, _ in lucid.list_envs() if not n.endswith(":")]


def run_lucid(*args):
    out = subprocess.run([LUCID, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def files():
    """A small world model and a small CartPole policy, made by the lucid command."""
    with tempfile.TemporaryDirectory() as d:
        data, wm, pi = (os.path.join(d, f) for f in ("data.lucid", "wm.lucid", "pi.lucid"))
        run_lucid("collect", "--env", "CartPole-v1", "--steps", "600", "--out", data, "--quiet")
        run_lucid("train-wm", "--data", data, "--out", wm, "--members", "2", "--elites", "1", "--hidden", "32",
                  "--layers", "2", "--epochs", "3", "--horizon", "0", "--quiet")
        run_lucid("train", "--env", "CartPole-v1", "--steps", "8192", "--out", pi)
        yield {"wm": wm, "pi": pi, "dir": d}


def test_registry_lists_the_builtins():
    assert {"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "Catch-v0", "dream:"} <= {n for n, _ in lucid.list_envs()}


@pytest.mark.parametrize("name", REAL_ENVS)
def test_check_env(name):
    env = lucid.make(name, render_mode="rgb_array")
    check_env(env, skip_render_check=False)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()


def test_check_env_dream(files):
    check_env(lucid.make("dream:" + files["wm"]))


@pytest.mark.parametrize("name", REAL_ENVS)
def test_vector_spaces_and_dtypes(name):
    envs = lucid.make_vec(name, 3)
    assert isinstance(envs, gym.vector.VectorEnv)
    assert envs.num_envs == 3
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = envs.reset(seed=1)
    assert obs.shape == (3,) + envs.single_observation_space.shape
    assert obs.dtype == envs.single_observation_space.dtype
    assert obs in envs.observation_space
    obs, rew, term, trunc, info = envs.step(envs.action_space.sample())
    assert rew.shape == term.shape == trunc.shape == (3,)
    assert term.dtype == trunc.dtype == np.bool_
    assert obs in envs.observation_space
    envs.close()


def test_arrays_view_lucids_buffers():
    envs = lucid.make_vec("CartPole-v1", 8)
    obs, _ = envs.reset(seed=0)
    first = obs.copy()
    obs2, rew, term, trunc, _ = envs.step(np.zeros(8, np.int32))
    assert obs2 is obs  # the same buffer every step: no copies
    assert not np.array_equal(obs, first)  # ... updated in place
    assert not obs.flags.owndata and not rew.flags.owndata
    _, rew2, term2, trunc2, _ = envs.step(np.ones(8, np.int32))
    assert rew2 is rew and term2 is term and trunc2 is trunc
    # arrays handed out stay valid after close (they keep the C env alive)
    envs.close()
    assert np.isfinite(obs).all() and obs.sum() == obs.sum()


def test_same_step_final_obs_infos():
    envs = lucid.make_vec("CartPole-v1", 4, autoreset_mode="SAME_STEP")
    ref = gym.make_vec("CartPole-v1", 4, vectorization_mode="sync",
                       vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    envs.reset(seed=3)
    ref.reset(seed=3)
    seen = 0
    for _ in range(200):
        obs, _, term, trunc, info = envs.step(np.zeros(4, np.int32))
        _, _, _, _, info_ref = ref.step(np.zeros(4, np.int64))
        assert info.keys() == info_ref.keys()
        if term.any() or trunc.any():
            seen += 1
            assert info["_final_obs"].tolist() == (term | trunc).tolist()
            for i in np.flatnonzero(term | trunc):
                assert info["final_obs"][i].shape == (4,)
                assert abs(info["final_obs"][i][2]) > 0.2  # the pole fell: the last obs, not the new one
                assert abs(obs[i][2]) <= 0.05  # the row already holds the next episode's first obs
            assert info["final_info"] == info_ref["final_info"]
    assert seen > 0


def test_next_step_and_disabled():
    envs = lucid.make_vec("CartPole-v1", 2)
    envs.reset(seed=0)
    a = np.zeros(2, np.int32)
    while True:
        obs, rew, term, _, _ = envs.step(a)
        if term.any():
            break
    i = int(np.flatnonzero(term)[0])
    assert abs(obs[i][2]) > 0.2  # NEXT_STEP: the final observation in obs
    obs, rew, term, trunc, _ = envs.step(a)
    assert rew[i] == 0.0 and not term[i] and not trunc[i] and abs(obs[i][2]) <= 0.05  # the reset step

    d = lucid.make_vec("CartPole-v1", 2, autoreset_mode=AutoresetMode.DISABLED)
    d.reset(seed=0)
    while not d.step(a)[2].any():
        pass
    with pytest.raises(lucid.StateError, match="autoreset is disabled"):
        d.step(a)
    done = d._core.done.copy()
    kept = d._core.obs[~done].copy()
    obs, _ = d.reset(options={"reset_mask": done})
    assert np.array_equal(obs[~done], kept) and (np.abs(obs[done][:, 2]) <= 0.05).all()
    d.step(a)


def test_render_and_params():
    envs = lucid.make_vec("Pendulum-v1", 2, render_mode="rgb_array", g=9.81)
    envs.reset(seed=0)
    frames = envs.render()
    assert len(frames) == 2 and frames[0].shape == (500, 500, 3) and frames[0].dtype == np.uint8
    assert lucid.make_vec("CartPole-v1", 1, max_episode_steps=7).reset(seed=0)[0].shape == (1, 4)
    e = lucid.make_vec("CartPole-v1", 1, max_episode_steps=7)
    e.reset(seed=0)
    for t in range(7):
        _, _, term, trunc, _ = e.step(np.array([t % 2]))
    assert trunc[0] and not term[0]


def test_dream_vector(files):
    envs = lucid.make_vec("dream:" + files["wm"], 4, autoreset_mode="SAME_STEP", render_mode="rgb_array")
    assert envs.single_observation_space.shape == (4,) and envs.single_action_space == gym.spaces.Discrete(2)
    obs, _ = envs.reset(seed=2)
    obs2, _ = lucid.make_vec("dream:" + files["wm"], 4, autoreset_mode="SAME_STEP").reset(seed=2)
    assert np.array_equal(obs, obs2)
    for _ in range(30):
        obs, rew, term, trunc, info = envs.step(envs.action_space.sample())
        assert np.isfinite(obs).all() and np.isfinite(rew).all()
        assert "disagreement" in info
    assert len(envs.render()) == 4


def test_errors_carry_lucids_messages():
    with pytest.raises(lucid.NotFoundError, match="unknown env 'Nope-v0'"):
        lucid.make_vec("Nope-v0", 2)
    with pytest.raises(lucid.ArgumentError, match="unknown param 'gravity'"):
        lucid.make_vec("Pendulum-v1", 2, gravity=3)
    with pytest.raises(lucid.ArgumentError, match="num_envs"):
        lucid.make_vec("CartPole-v1", 0)
    with pytest.raises(lucid.LucidError):
        lucid.make_vec("dream:/nonexistent/model.lucid", 1)
    envs = lucid.make_vec("CartPole-v1", 3)
    with pytest.raises(lucid.StateError, match="before reset"):
        envs.step(np.zeros(3, np.int32))
    envs.reset(seed=0)
    with pytest.raises(lucid.ActionError, match=r"shape \(2,\), expected \(3,\)"):
        envs.step(np.zeros(2, np.int32))
    with pytest.raises(lucid.ActionError, match="dtype float64"):
        envs.step(np.zeros(3))
    with pytest.raises(lucid.ActionError, match="action 2 is outside Discrete"):
        envs.step(np.array([0, 2, 1]))
    with pytest.raises(lucid.ActionError, match="outside"):
        envs.step(np.array([0, 2**32 + 1, 1], np.int64))
    with pytest.raises(lucid.ActionError):
        envs.step("left")
    with pytest.raises(lucid.ArgumentError, match="seed"):
        envs.reset(seed=-1)
    with pytest.raises(lucid.ArgumentError, match="unknown reset options"):
        envs.reset(options={"low": 0})
    p = lucid.make_vec("Pendulum-v1", 2)
    p.reset(seed=0)
    with pytest.raises(lucid.ActionError, match="not finite"):
        p.step(np.array([[0.0], [np.nan]], np.float32))
    with pytest.raises(lucid.ActionError, match="shape"):
        p.step(np.zeros(2, np.float32))
    envs.close()
    with pytest.raises(lucid.StateError, match="closed"):
        envs.step(np.zeros(3, np.int32))
    with pytest.raises(lucid.StateError, match="closed"):
        envs.reset(seed=0)
    single = lucid.make("CartPole-v1")
    single.reset(seed=0)
    with pytest.raises(lucid.ActionError):
        single.step(np.array([0, 1]))
    with pytest.raises(lucid.ActionError, match="outside"):
        single.step(7)


def test_policy_acts_as_lucid_eval(files):
    pi = lucid.Policy.load(files["pi"])
    assert pi.env_name == "CartPole-v1" and pi.action_space == gym.spaces.Discrete(2)
    ref = json.loads(run_lucid("eval", "--policy", files["pi"], "--episodes", "4", "--seed", "5", "--json"))
    # lucid's evaluation: 4 envs seeded with 5, one episode each, deterministic actions
    envs = lucid.make_vec("CartPole-v1", 4, autoreset_mode="SAME_STEP")
    obs, _ = envs.reset(seed=5)
    returns, got = np.zeros(4), np.zeros(4, bool)
    while not got.all():
        obs, rew, term, trunc, _ = envs.step(pi.act(obs, deterministic=True))
        returns += rew * ~got
        got |= term | trunc
    assert returns.mean() == pytest.approx(ref["mean"], abs=1e-9)
    assert returns.min() == ref["min"] and returns.max() == ref["max"]
    # one observation gives one action; sampling follows the seed
    a = pi.act(obs[0])
    assert a.shape == () and a.dtype == np.int32
    s1 = lucid.Policy.load(files["pi"], seed=3).act(np.repeat(obs, 50, 0), deterministic=False)
    s2 = lucid.Policy.load(files["pi"], seed=3).act(np.repeat(obs, 50, 0), deterministic=False)
    assert np.array_equal(s1, s2) and set(np.unique(s1)) <= {0, 1}
    with pytest.raises(lucid.ActionError, match="shape"):
        pi.act(np.zeros((2, 3), np.float32))
    with pytest.raises(lucid.LucidError):
        lucid.Policy.load(os.path.join(files["dir"], "missing.lucid"))
    bad = os.path.join(files["dir"], "bad.lucid")
    with open(bad, "wb") as f:
        f.write(b"not a lucid file at all")
    with pytest.raises(lucid.LucidError, match="bad.lucid"):
        lucid.Policy.load(bad)


def test_dataset_round_trip(files):
    envs = lucid.make_vec("CartPole-v1", 3, autoreset_mode="SAME_STEP")
    ds = lucid.Dataset.for_env(envs)
    assert len(ds) == 0 and ds.env_name == "CartPole-v1"
    rng = np.random.default_rng(0)
    T, K = 60, 3
    obs_t, act_t, rew_t, te_t, tr_t, nxt_t = [], [], [], [], [], []
    obs, _ = envs.reset(seed=4)
    for _ in range(T):
        a = rng.integers(0, 2, size=K).astype(np.int32)
        obs_t.append(obs.copy())
        obs, rew, term, trunc, info = envs.step(a)
        nxt = obs.copy()
        for i in np.flatnonzero(term | trunc):
            nxt[i] = info["final_obs"][i]
        act_t.append(a), rew_t.append(rew.copy()), te_t.append(term.copy()), tr_t.append(trunc.copy())
        nxt_t.append(nxt)
    ds.add_run(obs_t, act_t, rew_t, te_t, tr_t, nxt_t)
    ds.validate()
    assert len(ds) == T * K and ds.episodes >= K
    path = os.path.join(files["dir"], "loop.lucid")
    ds.save(path)
    back = lucid.Dataset.load(path)
    for col in ("obs", "actions", "rewards", "terminated", "truncated", "next_obs", "starts"):
        assert np.array_equal(getattr(back, col), getattr(ds, col)), col
    # env 0's rows come first (trajectory-grouped): its first T observations in order
    assert np.array_equal(back.obs[:T], np.array(obs_t)[:, 0])
    info = run_lucid("info", path)  # the C side reads what Python wrote
    assert 'kind "dataset"' in info and f"n                  {T * K}" in info
    with pytest.raises(lucid.ArgumentError, match="rewards has shape"):
        ds.add_run(obs_t, act_t, np.zeros(5), te_t, tr_t, nxt_t)
    bad = os.path.join(files["dir"], "broken.lucid")
    with open(path, "rb") as f:
        raw = f.read()
    with open(bad, "wb") as f:
        f.write(raw[: len(raw) // 2])
    with pytest.raises(lucid.LucidError, match="broken.lucid"):
        lucid.Dataset.load(bad)
    rec = lucid.Dataset.collect(lucid.make_vec("Pendulum-v1", 2), 50, seed=1)
    assert len(rec) == 50 and rec.actions.shape == (50, 1) and rec.actions.dtype == np.float32


if __name__ == "__main__":
    rc = pytest.main([__file__, "-q", "-p", "no:cacheprovider"])
    sys.exit(1 if rc == 5 else rc)  # 5: no tests collected
