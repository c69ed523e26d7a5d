"""How many raters per item does the study need? A power analysis by simulation.

The question: with ``n_items`` advice items, how many raters per item give a 95 % confidence
interval on Spearman's ρ (metric against the item's mean human score) whose half-width is at
most ``target_half_width``, when the metric's true Spearman correlation with the items' latent
quality is ``expected_rho``?

For each number of raters k, ``n_simulations`` studies are simulated with the rating model of
:mod:`analysis.simulate` (item quality, rater leniency, noise, ordinal thresholds): the
latent quality q and the metric m are bivariate normal with Pearson correlation
``2 sin(π ρ / 6)`` (which makes their Spearman correlation ρ); every item is rated by k
simulated raters; Spearman's ρ̂ between m and the item means is computed. Two spreads:

- ``half_width = 1.96 × SD(ρ̂)`` over the simulated studies: the half-width a bootstrap
  interval would have. It hardly depends on k, because it is dominated by which items were
  sampled.
- ``error_half_width = 1.96 × RMSE(ρ̂ − ρ∞)`` where ρ∞ (``rho_infinite_raters``) is the
  correlation with the items' true quality, i.e. what infinitely many raters would give. Few
  raters *attenuate* ρ̂ (rating noise in the item means), a bias no confidence interval
  shows; this spread counts it. The target is met when ``error_half_width`` ≤ the target.

More raters shrink only the rating-noise part; the sampling error of ρ over items remains, so
with too few items no number of raters reaches the target. ``items_needed`` then says roughly
how many items would (scaling ``half_width`` by ``1/sqrt(n - 3)``).
"""

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis.simulate import SimulationConfig, rate

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class PowerConfig:
    """Settings of the power analysis; validated when created."""

    n_items: int = field(default=200, metadata={"help": "advice items in the study"})
    raters_per_item: tuple = field(default=(1, 2, 3, 5, 8, 12, 20), metadata={"help": "k values to try"})
    expected_rho: float = field(default=0.5, metadata={"help": "metric's Spearman ρ with true item quality"})
    target_half_width: float = field(default=0.1, metadata={"help": "wanted 95 % CI half-width on ρ"})
    quality_sd: float = field(
        default=0.7, metadata={"help": "SD of item quality across items (latent units)"}
    )
    items_per_participant: int = field(default=40, metadata={"help": "items each simulated rater rates"})
    n_simulations: int = field(default=200, metadata={"help": "simulated studies per k"})
    seed: int = 0
    simulation: SimulationConfig = field(default_factory=SimulationConfig)

    def __post_init__(self):
        if self.n_items < 10:
            raise ValueError(f"n_items must be at least 10, not {self.n_items}")
        raters = tuple(sorted({int(k) for k in self.raters_per_item}))
        if not raters or raters[0] < 1:
            raise ValueError(f"raters_per_item must be positive integers, not {self.raters_per_item}")
        object.__setattr__(self, "raters_per_item", raters)
        if not -1 < self.expected_rho < 1:
            raise ValueError(f"expected_rho must be between -1 and 1, not {self.expected_rho}")
        if not 0 < self.target_half_width < 1:
            raise ValueError(f"target_half_width must be between 0 and 1, not {self.target_half_width}")
        if self.quality_sd <= 0:
            raise ValueError(f"quality_sd must be positive, not {self.quality_sd}")
        if self.items_per_participant < 1 or self.n_simulations < 20:
            raise ValueError("items_per_participant must be >= 1 and n_simulations >= 20")

    def to_dict(self):
        return asdict(self)


def _spearman_rows(a, b):
    from scipy import stats

    ra, rb = stats.rankdata(a, axis=1), stats.rankdata(b, axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    return (ra * rb).sum(axis=1) / np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))


def power_analysis(config=None, *, progress=False):
    """Simulate the study for each number of raters per item; see the module docstring.

    Returns
    -------
    pandas.DataFrame
        ``raters_per_item, n_items, participants, expected_rho, rho_infinite_raters, mean_rho,
        bias, sd_rho, half_width, error_half_width, meets_target, items_needed``.

    Examples
    --------
    >>> table = power_analysis(PowerConfig(n_items=50, raters_per_item=(1, 10), n_simulations=40))
    >>> bool(table["error_half_width"].iloc[0] > table["error_half_width"].iloc[1])
    True
    """
    config = config or PowerConfig()
    rng = np.random.default_rng(config.seed)
    pearson = 2 * math.sin(math.pi * config.expected_rho / 6)
    per = min(config.items_per_participant, config.n_items)
    rows = []
    steps = config.raters_per_item
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="raters per item", unit="k")
    for k in steps:
        participants = math.ceil(config.n_items * k / per)
        metric = np.empty((config.n_simulations, config.n_items))
        means = np.empty_like(metric)
        truth = np.empty_like(metric)
        for run in range(config.n_simulations):
            latent = rng.normal(size=config.n_items)
            metric[run] = pearson * latent + math.sqrt(1 - pearson**2) * rng.normal(size=config.n_items)
            quality = latent * config.quality_sd
            quality = quality + rng.normal(0.0, config.simulation.dimension_sd, config.n_items)
            truth[run] = quality
            chosen, scores = rate(
                quality[:, None], participants=participants, per=per, config=config.simulation, rng=rng
            )
            totals = np.bincount(chosen.ravel(), weights=scores[..., 0].ravel(), minlength=config.n_items)
            counts = np.bincount(chosen.ravel(), minlength=config.n_items)
            means[run] = totals / np.maximum(counts, 1)
        rho = _spearman_rows(metric, means)
        rho_infinite = float(np.mean(_spearman_rows(metric, truth)))
        sd = float(np.std(rho, ddof=1))
        rmse = float(np.sqrt(np.mean((rho - rho_infinite) ** 2)))
        half_width = Z_95 * sd
        rows.append(
            {
                "raters_per_item": k,
                "n_items": config.n_items,
                "participants": participants,
                "expected_rho": config.expected_rho,
                "rho_infinite_raters": rho_infinite,
                "mean_rho": float(np.mean(rho)),
                "bias": float(np.mean(rho)) - rho_infinite,
                "sd_rho": sd,
                "half_width": half_width,
                "error_half_width": Z_95 * rmse,
                "meets_target": bool(Z_95 * rmse <= config.target_half_width),
                "items_needed": math.ceil(
                    3 + (config.n_items - 3) * (half_width / config.target_half_width) ** 2
                ),
            }
        )
    return pd.DataFrame(rows)


def power_summary(table, config):
    """One sentence: the smallest k that meets the target, or how many items the study would need."""
    enough = table[table["meets_target"]]
    if len(enough):
        best = enough.iloc[0]
        return (
            f"{int(best['raters_per_item'])} raters per item ({int(best['participants'])} participants rating "
            f"{config.items_per_participant} items each) keep Spearman's ρ within ±{best['error_half_width']:.3f} "
            f"(95 %; target {config.target_half_width}) on Spearman's ρ = {config.expected_rho} with {config.n_items} items"
        )
    last = table.iloc[-1]
    return (
        f"no number of raters up to {int(last['raters_per_item'])} keeps the 95 % error within "
        f"±{config.target_half_width} with {config.n_items} items (best ±{last['error_half_width']:.3f}); "
        f"about {int(last['items_needed'])} items would be needed at {int(last['raters_per_item'])} raters per item"
    )
