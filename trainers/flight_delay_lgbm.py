"""The flights spec's LightGBM challenger, a trainer command under the project's trainer contract
(README, "Your own trainer"): one argument, the path of the input JSON; the model as ONNX plus
LightGBM's own model.txt, the trainer's scores on the test split, and JSON progress lines on stdout.

Run by hand on the splits a training run exported (data/artifacts/models/<model>/runs/<run>/trainer/):

    python trainers/flight_delay_lgbm.py <run>/trainer/input.json

Resumable: every `checkpoint_every` rounds the booster is saved to the checkpoint folder; with
`resume` the run continues from it, and ends with the same model as an undisturbed run (bagging and
feature sampling stay off, one thread, deterministic: each round depends only on the scores so far).
"""

import json
import os
import sys
import time

import lightgbm as lgb
import numpy as np
import onnxmltools
import pyarrow as pa
import pyarrow.parquet as pq
from onnxmltools.convert.common.data_types import FloatTensorType
from sklearn.metrics import log_loss, roc_auc_score

# sysexits' EX_DATAERR: the pipeline does not retry it (bad input or configuration).
EX_DATAERR = 65
CONTRACT = 1

# Ours, not LightGBM's: taken out of the hyper-parameters before they reach lgb.train.
OWN_KEYS = {"num_boost_round": 200, "checkpoint_every": 10}
DEFAULTS = {
    "objective": "binary",
    "metric": ["binary_logloss", "auc"],
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "deterministic": True,
    "force_col_wise": True,
    "num_threads": 1,
    "seed": 7,
    "verbose": -1,
}


def progress(iteration, metrics, checkpoint=False):
    print(json.dumps({"iteration": iteration, "metrics": metrics, "checkpoint": checkpoint}), flush=True)


def log(message):
    print(message, file=sys.stderr, flush=True)


def fail(message):
    log(message)
    sys.exit(EX_DATAERR)


def load(path, features):
    table = pq.read_table(path)
    missing = [c for c in features + ["label"] if c not in table.column_names]
    if missing:
        fail(f"{path} lacks columns {missing}")
    # ONNX tree ensembles compare float32 inputs: train on exactly those values, so every split
    # threshold sends a row the same way in LightGBM and in onnxruntime.
    x = np.column_stack([table.column(f).to_numpy().astype(np.float32) for f in features])
    return x, table.column("label").to_numpy().astype(np.int32)


def save_atomically(booster, path):
    booster.save_model(path + ".tmp")
    os.replace(path + ".tmp", path)


def main(input_path):
    with open(input_path) as f:
        job = json.load(f)
    if job.get("contract") != CONTRACT:
        fail(f"contract {job.get('contract')} is not {CONTRACT}")
    features = job["features"]
    hyper = dict(job["hyperParameters"])
    own = {k: int(hyper.pop(k, v)) for k, v in OWN_KEYS.items()}
    params = {**DEFAULTS, **hyper}
    x_train, y_train = load(job["splits"]["train"], features)
    x_valid, y_valid = load(job["splits"]["validation"], features)
    x_test, y_test = load(job["splits"]["test"], features)

    checkpoint = os.path.join(job["checkpointDir"], "model.txt")
    init_model, done = None, 0
    if job["resume"] and os.path.exists(checkpoint):
        init_model = lgb.Booster(model_file=checkpoint)
        done = init_model.current_iteration()
        log(f"resuming from the checkpoint at round {done}")
    rounds = own["num_boost_round"] - done
    pause = int(os.environ.get("MLPIPE_TRAIN_ITERATION_PAUSE_MS", "0")) / 1000
    parent = os.getppid()

    def on_round(env):
        if os.getppid() != parent:
            log("the worker that started this trainer is gone: stopping (a retry resumes from the checkpoint)")
            sys.exit(1)
        iteration = env.iteration + 1
        metrics = {f"{name}_{metric}": float(value) for name, metric, value, _ in env.evaluation_result_list}
        saved = iteration % own["checkpoint_every"] == 0
        if saved:
            save_atomically(env.model, checkpoint)
        progress(iteration, metrics, saved)
        if saved and pause:
            time.sleep(pause)

    train = lgb.Dataset(x_train, y_train, free_raw_data=False)
    valid = lgb.Dataset(x_valid, y_valid, reference=train)
    try:
        booster = lgb.train(
            params,
            train,
            num_boost_round=max(rounds, 0),
            valid_sets=[valid],
            valid_names=["valid"],
            init_model=init_model,
            callbacks=[on_round],
            keep_training_booster=True,
        )
    except lgb.basic.LightGBMError as error:
        fail(f"LightGBM refused the data or hyper-parameters: {error}")
    save_atomically(booster, checkpoint)

    out = job["outputDir"]
    booster.save_model(os.path.join(out, "model.txt"))
    onnx_model = onnxmltools.convert_lightgbm(
        booster,
        initial_types=[("input", FloatTensorType([None, len(features)]))],
        zipmap=False,
        target_opset=15,
    )
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(onnx_model.SerializeToString())
    scores = booster.predict(x_test)
    pq.write_table(pa.table({"score": scores.astype(np.float64)}), os.path.join(out, "test_scores.parquet"))
    result = {
        "native": ["model.txt"],
        "iterations": booster.current_iteration(),
        **({"resumedFrom": done} if init_model is not None else {}),
        "metrics": {"test_auc": float(roc_auc_score(y_test, scores)), "test_logloss": float(log_loss(y_test, scores))},
    }
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(result, f)
    log(f"trained {result['iterations']} rounds: test AUC {result['metrics']['test_auc']:.6f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: flight_delay_lgbm.py <input.json>")
    main(sys.argv[1])
