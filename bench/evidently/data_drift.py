"""Evidently's DataDriftPreset over the drift benchmark's two windows: the baseline computeDrift is
measured against (bench/drift.bench.ts), on the same Parquet files and columns.

    python data_drift.py <reference.parquet> <current.parquet> '<columns JSON>'

Prints one line `BENCH_RESULT {"seconds", "loadedRssBytes", "peakRssBytes", "driftedColumns", "statistics"}`
(each column's drift statistic, to compare with computeDrift's):
the report's run alone is timed (the files are read first); the peak RSS is the process's high-water
mark, the loaded RSS what the process held once both frames were in memory.
"""
import json
import resource
import sys
import time

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

PREDICTION_ALIAS = "model_score"


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def main() -> None:
    reference_file, current_file, columns_json = sys.argv[1:4]
    columns = json.loads(columns_json)
    # Evidently takes a column named "prediction" for the model's output and leaves it out of the
    # per-column drift; under another name it is judged as computeDrift judges it.
    renamed = {"prediction": PREDICTION_ALIAS}
    reference = pd.read_parquet(reference_file, columns=columns).rename(columns=renamed)
    current = pd.read_parquet(current_file, columns=columns).rename(columns=renamed)
    loaded = rss_bytes()
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    drifted = None
    statistics = {}
    for metric in snapshot.dict()["metrics"]:
        name = metric["metric_name"]
        if name.startswith("DriftedColumnsCount("):
            drifted = metric["value"]["count"]
        elif name.startswith("ValueDrift(column="):
            column = name[len("ValueDrift(column="):].split(",")[0]
            statistics["prediction" if column == PREDICTION_ALIAS else column] = float(metric["value"])
    print("BENCH_RESULT " + json.dumps({
        "seconds": seconds,
        "loadedRssBytes": loaded,
        "peakRssBytes": peak,
        "driftedColumns": drifted,
        "statistics": statistics,
    }))


if __name__ == "__main__":
    main()
