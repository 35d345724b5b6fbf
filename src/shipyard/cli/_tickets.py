"""A small labelled text set for the text demo and tests: short customer support tickets.

Four classes (billing, shipping, technical, account), each ticket one or two sentences
built from phrase templates, products and moods; every class shares some openers and
closers with the others, so a classifier has to read the middle. The same ``rows`` and
``seed`` give the same file, byte for byte.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

LABELS = ("billing", "shipping", "technical", "account")

_PRODUCTS = [
    "blender", "headphones", "desk lamp", "coffee grinder", "backpack", "router",
    "smart watch", "keyboard", "air purifier", "camera", "tent", "phone case",
]  # fmt: skip
_OPENERS = [
    "Hi,", "Hello team,", "Hey,", "Good morning,", "Hi there,", "Dear support,", "", "",
]  # fmt: skip
_CLOSERS = [
    "Thanks.", "Please help.", "Any update would be great.", "This is urgent.",
    "Thank you in advance.", "", "", "Regards.",
]  # fmt: skip
_BODIES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for my {p} order.",
        "The invoice for the {p} shows the wrong amount.",
        "I need a refund for the {p}, the price dropped a day later.",
        "My card was billed but the {p} order says payment failed.",
        "Why is there an extra fee on my receipt for the {p}?",
        "Can you cancel the subscription charge that came with my {p}?",
        "The discount code did not apply when I paid for the {p}.",
        "I paid for express delivery of the {p} but it came by standard post.",
        "The {p} stopped working and I would like my money back.",
    ],
    "shipping": [
        "My {p} has not arrived and the tracking has not moved in a week.",
        "The parcel with my {p} was delivered to the wrong address.",
        "The box was crushed and the {p} inside is dented.",
        "When will the {p} ship? It still says preparing.",
        "The courier says the {p} was delivered but nothing came.",
        "Can I change the delivery address for my {p} order?",
        "Only half of my order arrived, the {p} is missing.",
        "I was charged for shipping on the {p} although the order was over the limit.",
        "The replacement {p} for the broken one has still not been sent.",
    ],
    "technical": [
        "The {p} will not turn on after charging overnight.",
        "My {p} keeps disconnecting from wifi every few minutes.",
        "The {p} makes a loud grinding noise when I use it.",
        "After the firmware update the {p} is stuck on the logo.",
        "The app cannot find my {p} over bluetooth.",
        "The battery of the {p} drains in an hour.",
        "The {p} screen flickers and then goes black.",
        "The {p} I received works but the app says my account has no device.",
        "The {p} arrived but it does not charge at all.",
    ],
    "account": [
        "I cannot log in since I changed my email address.",
        "Please delete my account and the data you hold about me.",
        "The password reset link for my account has expired.",
        "Someone else registered my {p} warranty under their account.",
        "How do I merge my two accounts? My {p} order is on the old one.",
        "I never receive the verification code to sign in.",
        "Please change the name on my profile, it is misspelled.",
        "My account still shows an old card and I cannot remove it.",
        "I cannot see my {p} orders after logging in with my phone.",
    ],
}


def support_tickets(rows: int = 300, seed: int = 7) -> list[tuple[str, str]]:
    """``rows`` (text, label) pairs, classes in turn, deterministic by ``seed``."""
    rng = random.Random(seed)
    tickets = []
    for i in range(rows):
        label = LABELS[i % len(LABELS)]
        body = rng.choice(_BODIES[label]).format(p=rng.choice(_PRODUCTS))
        parts = [rng.choice(_OPENERS), body, rng.choice(_CLOSERS)]
        tickets.append((" ".join(p for p in parts if p), label))
    rng.shuffle(tickets)
    return tickets


def write_support_tickets_csv(path: Path, rows: int = 300, seed: int = 7) -> Path:
    """The tickets as a CSV with columns ``text`` and ``label``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        writer.writerows(support_tickets(rows, seed))
    return path
