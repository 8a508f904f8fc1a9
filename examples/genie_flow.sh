#!/bin/sh
# examples/genie_flow.sh: the Genie-style flow end to end in a few minutes on 2 CPU cores:
# frames of a pixel game without actions -> latent action model + dynamics -> a playable
# world -> PPO inside it -> the latent->real map from 200 labelled transitions -> the real
# game, beside PPO trained on the real game with the same number of steps. Ends with one
# JSON line of the figures (null where not measured).
# Both designs (DESIGN=pixels|tokens) go through the same steps and the same evaluation.
# Leaves out: CoinRun (works the same with GAME=CoinRun-v0, not tuned).
# Usage:
#   [GAME=Catch-v0|Breakout-v0] [DESIGN=pixels|tokens] [WORLD=genie.lucid] \
#       sh examples/genie_flow.sh [WORKDIR] [PPO_STEPS]
# WORLD: a world train-genie already made from the same frames (collect is seeded, so the
# frames are the same): steps 2-3 are skipped (and not in wall_s), the rest runs on it.
set -e
LUCID=${LUCID:-./build/lucid}
GAME=${GAME:-Catch-v0}
DESIGN=${DESIGN:-pixels}
DIR=${1:-/tmp/lucid_genie_flow}
PPO_STEPS=${2:-60000}
T0=$(date +%s)
mkdir -p "$DIR"
echo "== 1. $GAME frames only (true actions go to a separate file, used only for evaluation)"
$LUCID collect --frames-only --env "$GAME" --steps 20000 --num-envs 8 --seed 1 \
    --out "$DIR/frames.lucid"
# Which actions had the same effect at each recorded step (copies of the game's state; the
# same envs and seed as the recording): consistency by effect, no-op duplicates merged.
$LUCID frame-effects --data "$DIR/frames.lucid" --actions "$DIR/frames.actions.lucid" \
    --num-envs 8 --seed 1 --out "$DIR/frames.effects.lucid"
echo "== 2-3. latent action model + $DESIGN dynamics"
# Where dreams start: Catch's whole 7-step episodes fit in the model's accurate horizon, so
# they start where the game's episodes start (dream-trained PPO, seeds 1-3: 1.00, 0.98, 1.00
# in the real game; branched from any data frame 0.98 each, so either works now);
# Breakout's 1000-step ones branch from any.
case "$GAME" in Catch-v0) STARTS=0 ;; *) STARTS=1 ;; esac
# tokens: a VQ tokenizer (16x16 tokens of 256 codes), the same LAM, token dynamics sampled
# at temperature 1. Sized for about 12 minutes or less on an idle core (a machine shared
# by many builds stretches it several times): Catch's
# frames are a few flat blocks (1500 tokenizer and dynamics steps do); Breakout gets 1200.
TOKARGS=
if [ "$DESIGN" = tokens ]; then
    case "$GAME" in
    Catch-v0) TOKARGS="--tok-steps 1500 --tdyn-steps 1500" ;;
    *) TOKARGS="--tok-steps 1200 --tdyn-steps 1200" ;;
    esac
fi
if [ -n "${WORLD:-}" ]; then
    echo "(the world of $WORLD, trained before)"
    cp "$WORLD" "$DIR/genie.lucid"
else
    $LUCID train-genie --design "$DESIGN" --data "$DIR/frames.lucid" --out "$DIR/genie.lucid" \
        --lam-steps 3000 --dyn-steps 2000 --start-anywhere $STARTS $TOKARGS
fi
echo "== 5. evaluation on held-out frames"
$LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/frames.lucid" \
    --actions "$DIR/frames.actions.lucid" --effects "$DIR/frames.effects.lucid" --threads 1
$LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/frames.lucid" \
    --actions "$DIR/frames.actions.lucid" --effects "$DIR/frames.effects.lucid" --threads 1 \
    --json > "$DIR/eval.json"
echo "== 4. the playable world: 40 latent actions from stdin, recorded to a GIF"
i=0; while [ $i -lt 40 ]; do echo $((i / 5 % 8)); i=$((i + 1)); done |
    $LUCID play "dream:$DIR/genie.lucid" --seed 1 --steps 40 --gif "$DIR/dream.gif" > /dev/null
ls -l "$DIR/dream.gif"
echo "== 6. PPO (cnn) inside the dream for $PPO_STEPS steps, then the real game"
# Dreams of at most 32 steps branched from frames of the data, as MBPO does: the model is
# trusted only near the data (Catch's episodes end by themselves after 7). actions=played:
# the policy picks among the codes the dream plays, not among all 8 of which the aliased
# ones repeat others (on Catch PPO then learns about as fast as on the real game).
$LUCID train --env "dream:$DIR/genie.lucid" --env-params horizon=32,actions=played --arch cnn \
    --steps "$PPO_STEPS" --num-envs 8 --seed 1 \
    --out "$DIR/dream_policy.lucid" > "$DIR/dream_train.log"
tail -2 "$DIR/dream_train.log"
$LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/frames.lucid" \
    --actions "$DIR/frames.actions.lucid" --policy "$DIR/dream_policy.lucid" --episodes 100 \
    --threads 1 --json > "$DIR/policy.json"
cat "$DIR/policy.json"
echo "== 6b. PPO (cnn) on the real game with the same $PPO_STEPS steps"
$LUCID train --env "$GAME" --arch cnn --steps "$PPO_STEPS" --num-envs 8 --seed 1 \
    --out "$DIR/real_policy.lucid" > "$DIR/real_train.log"
tail -2 "$DIR/real_train.log"
$LUCID eval --policy "$DIR/real_policy.lucid" --episodes 100 --stochastic --json > "$DIR/real.json"
cat "$DIR/real.json"
PEAK=$(python3 -c 'import resource; print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)')
python3 - "$DIR" "$GAME" "$DESIGN" "$PPO_STEPS" "$(( $(date +%s) - T0 ))" "$PEAK" <<'EOF'
import json, sys
d, game, design, steps, wall, peak = sys.argv[1:7]
ev = json.load(open(d + "/eval.json"))
po = json.load(open(d + "/policy.json"))
real = json.load(open(d + "/real.json"))
def g(o, k):
    return o.get(k)
# Rollouts are 16 steps where the game's episodes allow (Catch's: 6; rollout_steps says)
out = {
    "game": game, "design": design,
    "consistency": g(ev, "consistency"), "consistency_effective": g(ev, "consistency_effective"),
    "consistency_ceiling": g(ev, "consistency_ceiling"), "dtpsnr_t4": g(ev, "delta_psnr4"),
    "rollout_psnr_16": g(ev, "psnr_rollout_inferred"), "copy_psnr_16": g(ev, "psnr_rollout_copy"),
    "rollout_steps": g(ev, "rollout_steps"),
    "lockstep_policy_agree": g(po, "policy_lockstep_agree"),
    "dream_policy_return": g(po, "policy_return"), "real_ppo_return": real.get("mean"),
    "random_return": g(po, "random_return"), "fixed_action_return": g(po, "fixed_action_return"),
    "ppo_steps": int(steps), "wall_s": int(wall), "peak_mib": int(peak)}
if g(ev, "ball_one_generated") is not None:  # Breakout, token design
    out["ball_one_frac"] = g(ev, "ball_one_generated")
print(json.dumps(out))
EOF
