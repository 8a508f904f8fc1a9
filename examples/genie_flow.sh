#!/bin/sh
# examples/genie_flow.sh: the Genie-style flow end to end in a few minutes on 2 CPU cores:
# frames of Breakout without actions -> latent action model + dynamics -> a playable world ->
# PPO inside it -> the latent->real map from 200 labelled transitions -> the real game.
# Leaves out: CoinRun (works the same with --env CoinRun-v0, not tuned). Usage:
#   sh examples/genie_flow.sh [WORKDIR] [PPO_STEPS]
set -e
LUCID=${LUCID:-./build/lucid}
DIR=${1:-/tmp/lucid_genie_flow}
PPO_STEPS=${2:-20000}
mkdir -p "$DIR"
echo "== 1. frames only (true actions go to a separate file, used only for evaluation)"
$LUCID collect --frames-only --env Breakout-v0 --steps 20000 --num-envs 8 --seed 1 \
    --out "$DIR/frames.lucid"
echo "== 2-3. latent action model + dynamics (16x16 model frames, ~3 min on 2 cores)"
$LUCID train-genie --data "$DIR/frames.lucid" --out "$DIR/genie.lucid" --lam-steps 3000 \
    --dyn-steps 2000
echo "== 5. evaluation on held-out frames"
$LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/frames.lucid" \
    --actions "$DIR/frames.actions.lucid"
echo "== 4. the playable world: 40 latent actions from stdin, recorded to a GIF"
i=0; while [ $i -lt 40 ]; do echo $((i / 5 % 8)); i=$((i + 1)); done |
    $LUCID play "dream:$DIR/genie.lucid" --seed 1 --steps 40 --gif "$DIR/dream.gif" > /dev/null
ls -l "$DIR/dream.gif"
echo "== 6. PPO (cnn) inside the dream for $PPO_STEPS steps, then the real game"
# Short dreams (32 steps) branched from frames of the data, as MBPO does: the model is
# trusted only near the data.
$LUCID train --env "dream:$DIR/genie.lucid" --env-params horizon=32 --arch cnn \
    --steps "$PPO_STEPS" --num-envs 8 \
    --out "$DIR/dream_policy.lucid" > "$DIR/dream_train.log"
tail -2 "$DIR/dream_train.log"
$LUCID eval-genie --model "$DIR/genie.lucid" --data "$DIR/frames.lucid" \
    --actions "$DIR/frames.actions.lucid" --policy "$DIR/dream_policy.lucid" --episodes 32 |
    tail -1
echo "== 6b. PPO (cnn) on the real game with the same $PPO_STEPS steps"
$LUCID train --env Breakout-v0 --arch cnn --steps "$PPO_STEPS" --num-envs 8 \
    --out "$DIR/real_policy.lucid" > "$DIR/real_train.log"
tail -2 "$DIR/real_train.log"
$LUCID eval --policy "$DIR/real_policy.lucid" --episodes 32 --stochastic
