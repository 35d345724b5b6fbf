"""The README's tour, as a notebook would run it: a baseline trained in the notebook, a
challenger trained by your own code in a job worker, both logged and registered, the
challenger evaluated against the champion with thresholds, promoted, and served.

    python examples/tour/tour.py        # in a fresh SHIPYARD_HOME; about a minute
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import shipyard

HERE = Path(__file__).parent
client = shipyard.Client()  # in-process, as the local admin; Client(url, api_key=...) for a server

# 1. Data: a training set and a holdout, each an immutable dataset version.
bunch = load_breast_cancer(as_frame=True)
frame = bunch.frame.rename(columns=lambda c: c.replace(" ", "_"))
frame["diagnosis"] = frame.pop("target").map(dict(enumerate(bunch.target_names)))
holdout = frame.sample(frac=0.3, random_state=1)
frame.drop(holdout.index).to_csv("cancer.csv", index=False)
holdout.to_csv("cancer-holdout.csv", index=False)
train = client.datasets.ingest("cancer.csv", "cancer")
test = client.datasets.ingest("cancer-holdout.csv", "cancer-holdout")
data = client.datasets.read(f"cancer@{train.version}", as_pandas=True)  # no row cap, any size
print(f"cancer@{train.version}: {len(data)} rows; holdout {test.rows} rows")

# 2. A quick baseline from the notebook (three features), logged, registered, made champion.
features, labels = data[["mean_radius", "mean_texture", "mean_smoothness"]], data["diagnosis"]
with client.start_run(experiment="cancer") as run:
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    baseline.fit(features, labels)
    run.log_params({"model": "logistic-regression", "features": 3})
    run.log_model(baseline, input_example=features.head(), target="diagnosis")  # skops
champion = client.models.register("cancer", run.id)
client.models.set_alias("cancer", "champion", champion.version)

# 3. A challenger from your own code, run as a job (needs training:RunCode).
job = client.training.train(
    {
        "dataset": f"cancer@{train.version}",
        "experiment": "cancer",
        "entrypoint": "train.py:main",
        "params": {"n_estimators": 200, "learning_rate": 0.05},
        "max_runtime": 600,
    },
    script=HERE / "train.py",
)
print(f"job {job.status}: {job.message}")
challenger = client.models.register("cancer", job.run_id)

# 4. Evaluate it against the champion on the holdout, with MLflow's MetricThreshold rules.
result = client.evaluations.evaluate(
    f"cancer@{challenger.version}",
    f"cancer-holdout@{test.version}",
    baseline="cancer@champion",
    thresholds={"auc": {"threshold": 0.95, "min_absolute_change": 0.005}, "f1": {"threshold": 0.9}},
)
for rule in result.validation:
    print(f"  {rule.metric} {rule.rule}: {'pass' if rule.passed else 'FAIL'} ({rule.message})")
Path("evaluation.html").write_bytes(client.evaluations.report(result.id))
if not result.passed:
    sys.exit("the challenger did not pass; the champion stays")

# 5. Promote and serve: the endpoint follows the alias.
client.models.set_alias("cancer", "champion", challenger.version)
client.endpoints.create("cancer", "cancer@champion")
key = client.iam.create_api_key("admin").token
port = os.environ.get("TOUR_PORT", "8765")
url = f"http://127.0.0.1:{port}"
server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
    [sys.executable, "-m", "shipyard", "serve", "cancer", "--port", port]
)
try:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/ping").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    row = holdout.drop(columns="diagnosis").head(2)
    answer = httpx.post(
        f"{url}/invocations",
        json={"dataframe_split": row.to_dict(orient="split", index=False)},
        headers={"Authorization": f"Bearer {key}"},
    )
    print(f"cancer@{challenger.version} answers: {answer.json()['predictions']}")
finally:
    server.terminate()
    server.wait()
