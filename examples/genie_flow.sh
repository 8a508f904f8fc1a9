#!/bin/sh
# examples/genie_flow.sh: the Genie-style flow end to end in a few minutes on 2 CPU cores:
# frames of a pixel game without actions -> latent action model + dynamics -> a playable
# world -> PPO inside it -> the latent->real map from 200 labelled transitions -> the real
# game, beside PPO trained on the real game with the same number of steps.
# Leaves out: CoinRun (works the same with GAME=CoinRun-v0, not tuned). Usage:
#   [GAME=Catch-v0|Breakout-v0] sh examples/genie_flow.sh [WORKDIR] [PPO_STEPS]
set -e
LUCID=${LUCID:-./build/lucid}
GAME=${GAME:-Catch-v0}
DIR=${1:-/tmp/lucid_genie_flow}
PPO_STEPS=${2:-60000}
mkdir -p "$DIR"
echo "== 1. $GAME frames only (true actions go to a separate file, used only for evaluation)"
$LUCID collect --frames-only --env "$GAME" --steps 20000 --num-envs 8 --seed 1 \
    --out "$DIR/frames.lucid"
echo "== 2-3. latent action model + dynamics (16x16 model frames, ~3 min on 2 cores)"
# Where dreams start: Catch's whole 7-step episodes fit in the model's accurate horizon, so
# they start where the game's episodes start (dream-trained PPO, seeds 1-3: 1.00, 0.98, 1.00
# in the real game; branched from any data frame 0.98 each, so either works now);
# Breakout's 1000-step ones branch from any.
case "$GAME" in Catch-v0) STARTS=0 ;; *) STARTS=1 ;; esac
$LUCID train-genie --data "$DIR/frames.lucid" --out "$DIR/genie.lucid" --lam-steps 3000 \
    --dyn-steps 2000 --start-anywhere $STARTS
echo "== 5. evaluation on held-out frames"
$LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/frames.lucid" \
    --actions "$DIR/frames.actions.lucid"
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
    --actions "$DIR/frames.actions.lucid" --policy "$DIR/dream_policy.lucid" --episodes 100 |
    tail -1
echo "== 6b. PPO (cnn) on the real game with the same $PPO_STEPS steps"
$LUCID train --env "$GAME" --arch cnn --steps "$PPO_STEPS" --num-envs 8 --seed 1 \
    --out "$DIR/real_policy.lucid" > "$DIR/real_train.log"
tail -2 "$DIR/real_train.log"
$LUCID eval --policy "$DIR/real_policy.lucid" --episodes 100 --stochastic
