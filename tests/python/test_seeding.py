"""tests/python/test_seeding.py: lucid's classic control envs beside Gymnasium's own, run here
side by side through the lucid package: seeded resets, whole seeded episodes, resets that
continue the generator, vector envs (env i seeded with seed + i) in NEXT_STEP and SAME_STEP
autoreset. Pendulum's and MountainCarContinuous's float32 action arithmetic follows NumPy 2;
under NumPy 1.x Gymnasium rounds it in float64, so there their steps are compared to 1e-4
(resets stay exact; with NumPy 2.4 every step agrees to 1e-6).
Leaves out: the C golden values (tests/test_classic.c, tests/test_pcg64.c)."""
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import lucid

ENVS = ["CartPole-v1", "Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1"]
NUMPY2 = int(np.__version__.split(".")[0]) >= 2


def tol(name):
    """(rtol, atol) for observations and rewards of steps. Resets are compared exactly.
    CartPole: NumPy's sin/cos may be 1 ulp off the correctly rounded ones lucid uses."""
    if name in ("Pendulum-v1", "MountainCarContinuous-v0") and not NUMPY2:
        return 1e-4, 1e-4
    return 1e-6, 1e-6


def actions_for(space, rng, n=None):
    """Random actions inside the space (lucid clips Box actions; Gymnasium's MountainCarContinuous
    charges the unclipped one, so actions stay inside the box)."""
    if isinstance(space, gym.spaces.Discrete):
        return rng.integers(0, space.n, size=n)
    shape = space.shape if n is None else (n,) + space.shape
    return rng.uniform(space.low, space.high, size=shape).astype(np.float32)


@pytest.mark.parametrize("name", ENVS)
def test_seeded_reset_equals_gymnasium(name):
    ref, env = gym.make(name), lucid.make(name)
    for seed in (0, 1, 123, 2**32 + 5, 2**64 - 1):
        o_ref, _ = ref.reset(seed=seed)
        o, _ = env.reset(seed=seed)
        assert np.array_equal(o, o_ref), (seed, o, o_ref)
        for _ in range(3):  # unseeded resets continue the generator
            o_ref, _ = ref.reset()
            o, _ = env.reset()
            assert np.array_equal(o, o_ref)


def test_cartpole_seed_zero():
    o, _ = lucid.make("CartPole-v1").reset(seed=0)
    np.testing.assert_allclose(o, [0.01369617, -0.02302133, -0.04590265, -0.04834723], rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", ENVS)
def test_seeded_episodes_equal_gymnasium(name):
    ref, env = gym.make(name), lucid.make(name)
    rtol, atol = tol(name)
    rng = np.random.default_rng(7)
    for episode, seed in enumerate((42, None, None)):  # a seeded episode, then two that continue it
        o_ref, _ = ref.reset(seed=seed)
        o, _ = env.reset(seed=seed)
        assert np.array_equal(o, o_ref)
        t = 0
        while True:
            a = actions_for(ref.action_space, rng)
            o_ref, r_ref, te_ref, tr_ref, _ = ref.step(a)
            o, r, te, tr, _ = env.step(a)
            t += 1
            np.testing.assert_allclose(o, o_ref, rtol=rtol, atol=atol, err_msg=f"{name} episode {episode} t {t}")
            assert r == pytest.approx(float(r_ref), rel=rtol, abs=atol)
            assert (te, tr) == (te_ref, tr_ref), (name, episode, t)
            if te or tr:
                break


@pytest.mark.parametrize("name", ENVS)
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_equals_sync_vector_env(name, mode):
    n, steps = 4, 1200 if name != "MountainCarContinuous-v0" else 2100
    ref = gym.make_vec(name, n, vectorization_mode="sync", vector_kwargs={"autoreset_mode": mode})
    envs = lucid.make_vec(name, n, autoreset_mode=mode)
    assert envs.metadata["autoreset_mode"] == mode
    rtol, atol = tol(name)
    rng = np.random.default_rng(3)
    o_ref, _ = ref.reset(seed=11)
    o, _ = envs.reset(seed=11)
    assert np.array_equal(o, o_ref)
    ends = 0
    for t in range(steps):
        a = actions_for(ref.single_action_space, rng, n)
        o_ref, r_ref, te_ref, tr_ref, info_ref = ref.step(a)
        o, r, te, tr, info = envs.step(a)
        np.testing.assert_allclose(o, o_ref, rtol=rtol, atol=atol, err_msg=f"{name} t {t}")
        np.testing.assert_allclose(r, r_ref, rtol=rtol, atol=atol)
        assert np.array_equal(te, te_ref) and np.array_equal(tr, tr_ref), (name, t)
        assert sorted(info) == sorted(info_ref)
        if mode == AutoresetMode.SAME_STEP and "final_obs" in info_ref:
            assert np.array_equal(info["_final_obs"], info_ref["_final_obs"])
            for i in np.flatnonzero(info_ref["_final_obs"]):
                np.testing.assert_allclose(info["final_obs"][i], info_ref["final_obs"][i], rtol=rtol, atol=atol)
        ends += int(np.sum(te | tr))
    assert ends >= n  # every env went through at least one autoreset, on average
    # a reset without a seed continues every env's generator
    o_ref, _ = ref.reset()
    o, _ = envs.reset()
    assert np.array_equal(o, o_ref)
    ref.close()
    envs.close()


def test_vector_env_i_is_seed_plus_i():
    envs = lucid.make_vec("Acrobot-v1", 5)
    o, _ = envs.reset(seed=100)
    for i in range(5):
        one, _ = lucid.make("Acrobot-v1").reset(seed=100 + i)
        assert np.array_equal(o[i], one)
    # a list of consecutive seeds is the same thing; other lists are refused
    o2, _ = envs.reset(seed=list(range(100, 105)))
    assert np.array_equal(o2, o)
    with pytest.raises(lucid.UnsupportedError):
        envs.reset(seed=[1, 5, 2, 3, 4])


if __name__ == "__main__":
    rc = pytest.main([__file__, "-q", "-p", "no:cacheprovider"])
    sys.exit(1 if rc == 5 else rc)  # 5: no tests collected
