"""Simulated raters for pilots, tests and the power analysis — always flagged ``simulated``.

The rating model (all on a latent scale where the rating thresholds sit at ±0.5 and ±1.5):

1. **Item quality** from the advice's objective error:
   ``q_i = direction_weight · all_directions_correct_i − error_weight · mean_abs_error_db_i + u_i``
   with unexplained item quality ``u_i ~ N(0, item_sd²)``; q is then centred on the items
   given (so the middle of the scale is the middle item) and shifted by ``offset``.
2. **Dimension**: each dimension sees the item slightly differently,
   ``q_id = q_i + v_id`` with ``v_id ~ N(0, dimension_sd²)``.
3. **Rater bias** (leniency): ``b_r ~ N(0, rater_sd²)``, one per simulated participant.
4. **Noise**: ``y_rid = q_id + b_r + e_rid`` with ``e ~ N(0, noise_sd²)``.
5. **Ordinal thresholds**: the score is ``1 + #{k : y > thresholds_k}`` (1–5).

:func:`simulate_ratings` is pure (a DataFrame of items in, a ratings DataFrame out);
:func:`study_simulate` walks simulated participants through the study's own services
(consent, screen, assignment, submission), so every database rule holds and each participant
is stored with ``simulated=True``, which real exports leave out unless asked.
"""

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from modelgen.contracts import DIMENSIONS, SCHEMA_VERSION

OBJECTIVE_COLUMNS = ("all_directions_correct", "mean_abs_error_db")


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of the simulated raters (latent units; thresholds at ±0.5, ±1.5 by default)."""

    direction_weight: float = field(
        default=1.0, metadata={"help": "quality gain when every direction is right"}
    )
    error_weight: float = field(default=0.15, metadata={"help": "quality loss per dB of mean absolute error"})
    item_sd: float = field(
        default=0.5, metadata={"help": "item quality the objective error does not explain"}
    )
    dimension_sd: float = field(default=0.3, metadata={"help": "how differently the dimensions see one item"})
    rater_sd: float = field(default=0.4, metadata={"help": "rater leniency"})
    noise_sd: float = field(default=0.8, metadata={"help": "rating noise"})
    offset: float = field(default=0.0, metadata={"help": "shift of the centred quality (0 = scale middle)"})
    thresholds: tuple = field(default=(-1.5, -0.5, 0.5, 1.5), metadata={"help": "4 increasing cut points"})

    def __post_init__(self):
        for name in ("item_sd", "dimension_sd", "rater_sd", "noise_sd", "error_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"simulation {name} must be >= 0, not {getattr(self, name)}")
        thresholds = tuple(float(t) for t in self.thresholds)
        if len(thresholds) != 4 or any(b <= a for a, b in zip(thresholds, thresholds[1:])):
            raise ValueError(f"simulation thresholds must be 4 increasing numbers, not {self.thresholds}")
        object.__setattr__(self, "thresholds", thresholds)

    def to_dict(self):
        return asdict(self)


def item_quality(items, config, rng):
    """Latent quality of each item (step 1 of the model); ``items`` needs the objective columns.

    Examples
    --------
    >>> items = pd.DataFrame({"all_directions_correct": [1, 0], "mean_abs_error_db": [0.0, 6.0]})
    >>> quality = item_quality(items, SimulationConfig(item_sd=0), np.random.default_rng(0))
    >>> [round(float(q), 2) for q in quality]
    [0.95, -0.95]
    """
    missing = [column for column in OBJECTIVE_COLUMNS if column not in items.columns]
    if missing:
        raise KeyError(
            f"items lack the objective-error columns {missing}: the simulation ties quality to them; "
            "take them from the study's advice items or compute them with modelgen.evaluation"
        )
    if items[list(OBJECTIVE_COLUMNS)].isna().any().any():
        raise ValueError("some items have no objective error; the simulation needs it for every item")
    correct = items["all_directions_correct"].astype(float).to_numpy()
    error = items["mean_abs_error_db"].astype(float).to_numpy()
    quality = config.direction_weight * correct - config.error_weight * error
    quality = quality + rng.normal(0.0, config.item_sd, len(items))
    return quality - quality.mean() + config.offset


def to_scores(latent, thresholds):
    """Map latent values to 1–5 scores through the ordinal thresholds.

    Examples
    --------
    >>> to_scores(np.array([-3.0, -1.0, 0.0, 1.0, 3.0]), (-1.5, -0.5, 0.5, 1.5)).tolist()
    [1, 2, 3, 4, 5]
    """
    return 1 + (np.asarray(latent)[..., None] > np.asarray(thresholds)).sum(axis=-1)


def simulate_ratings(
    items,
    *,
    participants,
    items_per_participant=None,
    dimensions=DIMENSIONS,
    seed=0,
    config=None,
    study="",
    quality=None,
):
    """Ratings of simulated participants for the given items, in the ratings-contract layout.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item: ``item, scenario, system`` and the objective columns
        ``all_directions_correct, mean_abs_error_db`` (other columns are carried along).
    participants : int
        Number of simulated participants.
    items_per_participant : int, optional
        Items each participant rates (default: all). Items are dealt from a seeded permutation
        in turn, so every item gets the same number of raters (± 1).
    dimensions : sequence of str
    seed : int
    config : SimulationConfig, optional
    study : str
        Study slug written into the ``study`` column.
    quality : array-like, optional
        Item quality q_i to use instead of step 1 (the power analysis sets it directly).

    Returns
    -------
    pandas.DataFrame
        The contract columns (``simulated`` true, ``attention_flag`` false) plus the item's
        columns and ``true_quality`` (q_i, for checking what an analysis recovers).

    Examples
    --------
    >>> items = pd.DataFrame({"item": ["s1:a", "s1:b"], "scenario": "s1", "system": ["a", "b"],
    ...                       "all_directions_correct": [1, 0], "mean_abs_error_db": [0.0, 4.5]})
    >>> ratings = simulate_ratings(items, participants=3, seed=1)
    >>> len(ratings), bool(ratings["simulated"].all()), ratings["score"].between(1, 5).all()
    (30, True, np.True_)
    """
    config = config or SimulationConfig()
    if participants < 1:
        raise ValueError(f"participants must be at least 1, not {participants}")
    for column in ("item", "scenario", "system"):
        if column not in items.columns:
            raise KeyError(f"items need an {column!r} column")
    if items["item"].duplicated().any():
        raise ValueError("items must be unique")
    n_items = len(items)
    per = n_items if items_per_participant is None else int(items_per_participant)
    if not 1 <= per <= n_items:
        raise ValueError(f"items_per_participant must be between 1 and {n_items}, not {per}")
    rng = np.random.default_rng(seed)
    quality = item_quality(items, config, rng) if quality is None else np.asarray(quality, dtype=float)
    if quality.shape != (n_items,):
        raise ValueError(f"quality needs one value per item ({n_items}), got shape {quality.shape}")
    by_dimension = quality[:, None] + rng.normal(0.0, config.dimension_sd, (n_items, len(dimensions)))
    chosen, scores = rate(by_dimension, participants=participants, per=per, config=config, rng=rng)
    rater = np.repeat(np.arange(participants), per * len(dimensions))
    position = np.tile(np.repeat(np.arange(per), len(dimensions)), participants)
    index = chosen.reshape(-1).repeat(len(dimensions))
    frame = items.iloc[index].reset_index(drop=True)
    carried = [column for column in frame.columns if column not in ("item", "scenario", "system")]
    ratings = pd.DataFrame(
        {
            "schema_version": SCHEMA_VERSION,
            "study": study,
            "participant": [f"SIM-{seed}-{r + 1:04d}" for r in rater],
            "item": frame["item"].to_numpy(),
            "scenario": frame["scenario"].to_numpy(),
            "system": frame["system"].to_numpy(),
            "dimension": np.tile(np.asarray(dimensions), participants * per),
            "score": scores.reshape(-1),
            "submitted_at": "2026-01-01T00:00:00Z",
            "trial_position": position,
            "attention_flag": False,
            "simulated": True,
        }
    )
    for column in carried:
        ratings[column] = frame[column].to_numpy()
    ratings["true_quality"] = quality[index]
    return ratings


def rate(by_dimension, *, participants, per, config, rng):
    """Deal items to simulated raters and score them (steps 3–5 of the model).

    Items are dealt from a seeded permutation in turn, so each item gets the same number of
    raters (± 1). Returns ``(chosen, scores)``: participants × per item indices and
    participants × per × dimensions scores.
    """
    n_items = by_dimension.shape[0]
    bias = rng.normal(0.0, config.rater_sd, participants)
    order = rng.permutation(n_items)
    chosen = order[(np.arange(participants)[:, None] * per + np.arange(per)[None, :]) % n_items]
    latent = by_dimension[chosen] + bias[:, None, None]
    latent = latent + rng.normal(0.0, config.noise_sd, latent.shape)
    return chosen, to_scores(latent, config.thresholds)


def study_simulate(*, study, participants, seed=0, config=None):
    """Walk ``participants`` simulated participants through a study's services and rate their trials.

    Each participant consents, answers the background questions so the study's eligibility
    rules pass, passes the headphone screen, is assigned trials by the study's own balanced
    assignment, rates them with the model above (practice trials too; the instructed-response
    item with the instructed score), answers the closing questionnaire and completes. Every
    participant is stored with ``simulated=True``.

    Returns
    -------
    dict
        ``participants`` (created), ``ratings`` (rated trials × dimensions), ``seed``.
    """
    from study import services
    from study.models import AdviceItem
    from study.selectors import consent_document_current

    config = config or SimulationConfig()
    document = consent_document_current(study)
    if document is None:
        raise ValueError(f"study {study.slug!r} has no published consent document; publish one first")
    items = list(AdviceItem.objects.filter(scenario__study=study).order_by("pk"))
    if not items:
        raise ValueError(f"study {study.slug!r} has no advice items; import scenarios and advice first")
    frame = pd.DataFrame(
        {
            "all_directions_correct": [item.all_directions_correct for item in items],
            "mean_abs_error_db": [item.mean_abs_error_db for item in items],
        }
    )
    rng = np.random.default_rng(seed)
    quality = item_quality(frame, config, rng)
    by_dimension = quality[:, None] + rng.normal(0.0, config.dimension_sd, (len(items), len(DIMENSIONS)))
    row_of = {item.pk: row for row, item in enumerate(items)}
    rules = study.eligibility_rules or {}
    background = {
        "role": (rules.get("roles") or ["mixing engineer"])[0],
        "years_mixing": max(5, int(rules.get("min_years_mixing") or 0)),
        "hearing_issues": "no",
        "simulated": True,
    }
    feedback = "Simulated participant (pilot data)." if study.free_text_required else ""
    rated = 0
    for _ in range(participants):
        participant = services.participant_start(study=study, simulated=True)
        services.consent_record(
            participant=participant,
            document=document,
            answers={str(index): True for index in range(len(document.statements))},
        )
        if not services.background_record(participant=participant, answers=background):
            raise ValueError(f"study {study.slug!r} rejects the simulated background answers {background}")
        services.screening_record(
            participant=participant,
            responses=[{"trial": index, "correct": True} for index in range(study.screening_trials)],
        )
        bias = rng.normal(0.0, config.rater_sd)
        for trial in services.trials_assign(participant=participant):
            if trial.instructed_response is not None:
                scores = dict.fromkeys(DIMENSIONS, int(trial.instructed_response))
            else:
                latent = (
                    by_dimension[row_of[trial.item_id]]
                    + bias
                    + rng.normal(0.0, config.noise_sd, len(DIMENSIONS))
                )
                scores = dict(zip(DIMENSIONS, (int(s) for s in to_scores(latent, config.thresholds))))
                rated += 0 if trial.is_practice else len(DIMENSIONS)
            services.trial_submit(
                trial=trial,
                ratings=scores,
                feedback=feedback,
                listened_seconds=float(study.min_listening_seconds),
            )
        services.closing_record(participant=participant, answers=_closing_answers(study))
        services.participant_complete(participant=participant)
    return {"participants": participants, "ratings": rated, "seed": seed}


def _closing_answers(study):
    answers = {}
    for question in study.closing_questionnaire or []:
        answers[question["name"]] = "3" if question.get("kind") == "likert" else "Simulated participant."
    return answers
