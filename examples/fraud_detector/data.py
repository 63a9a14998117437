"""Synthetic card transactions with a fraud label that depends on the features, reproducibly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LABEL = "is_fraud"
CATEGORIES = [
    "grocery",
    "travel",
    "electronics",
    "fuel",
    "restaurant",
    "online_services",
    "jewelry",
    "pharmacy",
]
COUNTRIES = ["GB", "DE", "FR", "ES", "IT", "NL", "IE", "PL"]
# Countries the training data never contains: live traffic that strays outside what a model saw.
UNSEEN_COUNTRIES = ["BR", "SG"]
DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_FILE = "train.csv"
EVALUATION_FILE = "evaluation.csv"


def generate(rows: int, seed: int, unseen_country_share: float = 0.0) -> pd.DataFrame:
    """Transactions and their labels; the same seed gives the same frame."""
    rng = np.random.default_rng(seed)
    countries = np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), rows)]
    if unseen_country_share > 0:
        stray = rng.random(rows) < unseen_country_share
        countries[stray] = np.array(UNSEEN_COUNTRIES)[
            rng.integers(0, len(UNSEEN_COUNTRIES), int(stray.sum()))
        ]
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(mean=3.6, sigma=1.1, size=rows), 2),
            "merchant_category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), rows)],
            "hour_of_day": rng.integers(0, 24, rows),
            "country": countries,
            "account_age_days": rng.integers(1, 3650, rows),
            "transactions_24h": rng.poisson(3, rows),
            "distance_from_home_km": np.round(rng.exponential(25.0, rows), 1),
            "is_online": rng.integers(0, 2, rows),
        }
    )
    signals = (
        0.9 * np.log1p(frame["amount"]) / np.log(200)
        + 1.4 * frame["merchant_category"].isin(["electronics", "jewelry", "online_services"])
        + 1.1 * ((frame["hour_of_day"] < 5) | (frame["hour_of_day"] > 22))
        + 1.3 * (frame["account_age_days"] < 60)
        + 0.25 * np.minimum(frame["transactions_24h"], 10)
        + 0.9 * (frame["distance_from_home_km"] > 80)
        + 0.6 * frame["is_online"]
    )
    # About one transaction in eight is fraud, and the features say a lot about which.
    probability = 1.0 / (1.0 + np.exp(-(-10.0 + 2.5 * signals)))
    frame[LABEL] = (rng.random(rows) < probability).astype(int)
    return frame


def write_datasets(directory: Path = DATA_DIR, seed: int = 7) -> tuple[Path, Path]:
    """Write the training and evaluation sets (unless already there) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    train_path, evaluation_path = directory / TRAIN_FILE, directory / EVALUATION_FILE
    if not train_path.exists():
        generate(20_000, seed).to_csv(train_path, index=False)
    if not evaluation_path.exists():
        generate(5_000, seed + 1).to_csv(evaluation_path, index=False)
    return train_path, evaluation_path
