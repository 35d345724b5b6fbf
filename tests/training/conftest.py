"""Arrow tables the training tests fit on (sklearn's toy datasets and one with strings), an
SDK client on the test platform, and a key that may call one endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from shipyard.client import Client
from shipyard.platform import Platform
from shipyard.security import (
    attach_policy,
    context_for,
    create_api_key,
    create_principal,
    put_policy,
)


@pytest.fixture
def sdk(platform: Platform) -> Iterator[Client]:
    client = Client(settings=platform.settings)
    yield client
    client.close()


def endpoint_caller(platform: Platform, endpoint: str, actions: list[str]) -> str:
    """A key for a new principal ``app`` allowed only ``actions`` on ``endpoint``."""
    admin = context_for(platform, "admin")
    create_principal(admin, "app")
    statement = {"Effect": "Allow", "Action": actions, "Resource": f"sy:endpoint/{endpoint}"}
    put_policy(admin, "app-policy", {"Statement": [statement]})
    attach_policy(admin, "app", "app-policy")
    token = create_api_key(admin, "app").token
    assert token
    return token


@pytest.fixture(scope="session")
def breast_cancer_table() -> pa.Table:
    return pa.Table.from_pandas(load_breast_cancer(as_frame=True).frame, preserve_index=False)


@pytest.fixture(scope="session")
def iris_table() -> pa.Table:
    data = load_iris(as_frame=True)
    frame = data.frame.assign(target=np.array(data.target_names)[data.target])
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="session")
def diabetes_table() -> pa.Table:
    return pa.Table.from_pandas(load_diabetes(as_frame=True).frame, preserve_index=False)


@pytest.fixture(scope="session")
def mixed_table() -> pa.Table:
    """Strings (dictionary-encoded, with nulls), floats, integers and booleans; a string target."""
    rng = np.random.default_rng(11)
    n = 500
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    colour[::29] = None
    size = rng.normal(size=n)
    label = np.where((colour == "red") | (size > 1.0), "yes", "no")
    return pa.table(
        {
            "colour": pa.array(list(colour), type=pa.string()).dictionary_encode(),
            "size": size,
            "count": rng.integers(0, 10, n),
            "flag": rng.random(n) > 0.5,
            "label": label,
        }
    )


def messy_frame(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """A real-looking mixed table: text categories, numbers, booleans and timestamps, all
    with nulls, and a label that depends on each kind of column."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["paris", "lyon", "nice", "lille", "brest"], n).astype(object)
    plan = rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]).astype(object)
    spend = rng.gamma(2.0, 50.0, n)
    visits = rng.integers(0, 30, n).astype(float)
    mobile = rng.random(n) > 0.4
    signup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), "h")
    score = (
        (plan == "pro") * 1.5
        + (city == "paris") * 1.0
        + spend / 100
        + mobile * 0.5
        + (signup.month >= 7) * 1.0
        + rng.normal(0, 0.5, n)
    )
    frame = pd.DataFrame(
        {
            "city": city,
            "plan": plan,
            "spend": spend,
            "visits": visits,
            "mobile": pd.array(mobile, dtype="boolean"),
            "signup": signup,
            "churned": np.where(score > np.median(score), "yes", "no"),
        }
    )
    for column, step in (("city", 17), ("spend", 13), ("visits", 11), ("mobile", 19)):
        frame.loc[frame.index[::step], column] = None
    frame.loc[frame.index[::23], "signup"] = pd.NaT
    return frame


@pytest.fixture(scope="session")
def messy_table() -> pa.Table:
    return pa.Table.from_pandas(messy_frame(), preserve_index=False)


_GOOD = ["wonderful", "excellent", "delightful", "superb", "lovely", "brilliant", "great"]
_BAD = ["terrible", "awful", "broken", "disappointing", "dreadful", "useless", "poor"]
_OPENERS = ["honestly", "overall", "to be fair", "after a week", "in short", "frankly"]
_THINGS = ["the kettle", "this blender", "the delivery", "the packaging", "my order", "the lamp"]
_CLOSERS = ["would tell friends", "will see again", "no more to add", "that is all", "as expected"]


def review_frame(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """Product reviews as sentences from word lists: the label is mostly in the words
    (good or bad ones), a little in the price and channel; some reviews are missing."""
    rng = np.random.default_rng(seed)
    positive = rng.random(n) > 0.5
    price = rng.gamma(2.0, 20.0, n)
    channel = rng.choice(["web", "store", "phone"], n)

    def sentence(good: bool) -> str:
        words = [
            str(rng.choice(_GOOD if (rng.random() < 0.85) == good else _BAD)) for _ in range(2)
        ]
        return (
            f"{rng.choice(_OPENERS)} {rng.choice(_THINGS)} was {words[0]} and really "
            f"{words[1]}, {rng.choice(_CLOSERS)}"
        )

    review = np.array([sentence(bool(p)) for p in positive], dtype=object)
    review[::31] = None
    score = positive * 2.0 - 1.0 + (price - 40.0) / 80.0 + (channel == "web") * 0.3
    return pd.DataFrame(
        {
            "review": review,
            "price": price,
            "channel": channel,
            "liked": np.where(score + rng.normal(0, 0.3, n) > 0, "yes", "no"),
        }
    )


@pytest.fixture(scope="session")
def review_table() -> pa.Table:
    return pa.Table.from_pandas(review_frame(), preserve_index=False)
