"""Your own training code: ``main(context)`` runs in a Shipyard job worker.

``context.frame()`` is the spec's dataset version as pandas, ``context.params`` the spec's
``params``, ``context.run`` the run to log to, and ``context.log_model`` stores the model
in its safe format (here LightGBM's native text) for registration.
"""

import lightgbm
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split


def main(context):
    frame = context.frame()
    features, labels = frame.drop(columns="diagnosis"), frame["diagnosis"]
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.25, random_state=0, stratify=labels
    )
    model = lightgbm.LGBMClassifier(**context.params, verbose=-1).fit(train_x, train_y)
    auc = roc_auc_score(test_y, model.predict_proba(test_x)[:, 1])
    context.run.log_metrics({"roc_auc": auc})
    context.log(f"held-out AUC {auc:.4f}")
    context.log_model(model, input_example=features.head(), target="diagnosis")
