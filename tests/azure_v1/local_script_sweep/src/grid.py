"""The penalties the sweep tries: twenty steps of 0.05 from 0 (a helper module next to the script, imported by it)."""

import numpy as np


def penalties() -> np.ndarray:
    return np.arange(0.0, 1.0, 0.05)
