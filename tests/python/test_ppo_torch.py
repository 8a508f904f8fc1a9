"""tests/python/test_ppo_torch.py: CleanRL's ppo.py (CartPole defaults: 4 envs x 128 steps,
64-64 tanh actor and critic, orthogonal init, GAE 0.95, 4 epochs of 4 minibatches, clip 0.2,
annealed Adam 2.5e-4) in torch (Debian's python3-torch) on lucid.make_vec in SAME_STEP
autoreset (the gym 0.26 semantics CleanRL was written for). Under LUCID_LONG (make
check-long) it trains until the mean of the last 10 episodes reaches 475 (500k steps at most);
otherwise two updates check the loop. Skipped where torch is not installed.
Leaves out: time-limit bootstrapping (CleanRL's ppo.py does not do it either)."""
import os
import sys

import numpy as np
import pytest

import lucid

LONG = os.environ.get("LUCID_LONG") is not None


def ppo_cartpole(total_steps, seed=1, target=None):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    num_envs, num_steps, mb, epochs = 4, 128, 4, 4
    gamma, lam, clip, ent_coef, vf_coef, max_norm, lr = 0.99, 0.95, 0.2, 0.01, 0.5, 0.5, 2.5e-4
    envs = lucid.make_vec("CartPole-v1", num_envs, autoreset_mode="SAME_STEP")
    obs_dim, n_act = envs.single_observation_space.shape[0], envs.single_action_space.n

    def layer(i, o, std=np.sqrt(2)):
        m = nn.Linear(i, o)
        nn.init.orthogonal_(m.weight, std)
        nn.init.constant_(m.bias, 0.0)
        return m

    critic = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
    actor = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, n_act, 0.01))
    params = list(critic.parameters()) + list(actor.parameters())
    opt = torch.optim.Adam(params, lr=lr, eps=1e-5)
    B = num_envs * num_steps
    obs_b = torch.zeros((num_steps, num_envs, obs_dim))
    act_b = torch.zeros((num_steps, num_envs), dtype=torch.long)
    logp_b, rew_b, done_b, val_b = (torch.zeros((num_steps, num_envs)) for _ in range(4))
    obs, _ = envs.reset(seed=seed)
    next_obs = torch.tensor(obs)
    next_done = torch.zeros(num_envs)
    returns, steps = [], 0
    updates = total_steps // B
    for update in range(updates):
        for g in opt.param_groups:
            g["lr"] = lr * (1.0 - update / updates)
        for t in range(num_steps):
            obs_b[t], done_b[t] = next_obs, next_done
            with torch.no_grad():
                dist = torch.distributions.Categorical(logits=actor(next_obs))
                a = dist.sample()
                logp_b[t], val_b[t] = dist.log_prob(a), critic(next_obs).flatten()
            act_b[t] = a
            obs, rew, term, trunc, _ = envs.step(a.numpy().astype(np.int32))
            done = term | trunc
            rew_b[t] = torch.tensor(rew)
            next_obs, next_done = torch.tensor(obs), torch.tensor(done, dtype=torch.float32)
            ep_ret, _ = envs.episode_returns
            returns += [float(ep_ret[i]) for i in np.flatnonzero(done)]
        steps += B
        with torch.no_grad():
            next_val = critic(next_obs).flatten()
            adv = torch.zeros_like(rew_b)
            last = 0
            for t in reversed(range(num_steps)):
                nonterm = 1.0 - (next_done if t == num_steps - 1 else done_b[t + 1])
                nv = next_val if t == num_steps - 1 else val_b[t + 1]
                delta = rew_b[t] + gamma * nv * nonterm - val_b[t]
                adv[t] = last = delta + gamma * lam * nonterm * last
            ret = adv + val_b
        b_obs, b_act, b_logp = obs_b.reshape(B, obs_dim), act_b.reshape(B), logp_b.reshape(B)
        b_adv, b_ret, b_val = adv.reshape(B), ret.reshape(B), val_b.reshape(B)
        for _ in range(epochs):
            perm = torch.randperm(B)
            for k in range(0, B, B // mb):
                i = perm[k:k + B // mb]
                dist = torch.distributions.Categorical(logits=actor(b_obs[i]))
                ratio = (dist.log_prob(b_act[i]) - b_logp[i]).exp()
                a_n = (b_adv[i] - b_adv[i].mean()) / (b_adv[i].std() + 1e-8)
                pg = torch.max(-a_n * ratio, -a_n * ratio.clamp(1 - clip, 1 + clip)).mean()
                v = critic(b_obs[i]).flatten()
                v_clip = b_val[i] + (v - b_val[i]).clamp(-clip, clip)
                v_loss = 0.5 * torch.max((v - b_ret[i]) ** 2, (v_clip - b_ret[i]) ** 2).mean()
                loss = pg - ent_coef * dist.entropy().mean() + vf_coef * v_loss
                assert torch.isfinite(loss)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, max_norm)
                opt.step()
        if target is not None and len(returns) >= 10 and np.mean(returns[-10:]) >= target:
            break
    envs.close()
    return steps, returns


def test_ppo_loop_runs():
    steps, returns = ppo_cartpole(2 * 512)
    assert steps == 1024 and len(returns) > 10  # random play ends episodes every ~20 steps
    assert all(r == int(r) and 5 <= r <= 500 for r in returns)  # +1 per step, a few steps to fall at least


@pytest.mark.skipif(not LONG, reason="long training: make check-long")
def test_ppo_solves_cartpole():
    steps, returns = ppo_cartpole(500_000, target=475)
    print(f"PPO (torch) on lucid.make_vec CartPole-v1: last 10 episodes {np.mean(returns[-10:]):.1f} after {steps} steps")
    assert np.mean(returns[-10:]) >= 475, (steps, returns[-10:])


if __name__ == "__main__":
    rc = pytest.main([__file__, "-q", "-p", "no:cacheprovider", "-s"])
    sys.exit(1 if rc == 5 else rc)  # 5: no tests collected
