"""The advice-applied residual: how far the stems still are from the reference once the advice is applied.

Take the scenario's stems at reference level, apply the scenario's offsets (``gains_db``, which
make the flawed mix "as given"), then the advice's corrections; compare each stem with the
reference, in loudness units (LU). Two views, two metrics (lower is better, 0 = the reference
balance is restored):

``residual_lu`` — per stem, on levels.
    BS.1770 integrated loudness of a fixed signal scaled by ``g`` dB is its loudness plus ``g``
    LU (K-weighting and the relative gate are linear and scale-invariant; only the absolute
    gate at -70 LUFS could change which blocks count, which matters only for stems that are
    nearly silent). So the residual of stem ``s`` is exactly ``gains_db[s] + advice[s]``, and
    measuring the audio again would only add the meter's rounding. The metric is the mean of
    ``|gains_db[s] + advice[s]|`` over the scenario's audible stems (the anchor included: advice
    that moves the anchor moves it away from the reference). Stems the manifest marks silent
    (``loudness_lufs`` null) are left out.

``mix_residual_lu`` — per stem relative to the mix, on audio.
    Balance is relative: what a listener hears is each stem's level against the whole mix.
    The loudness of a sum of stems is not a function of their levels alone (it depends on how
    the signals overlap in time and frequency), so this part is measured: the reference stems
    are read from the dataset folder, mixed with ``gains_db + advice`` and with no gain, and
    for every audible stem the stem-to-mix loudness ratio ``L(stem) - L(mix)`` is compared
    between the advice-applied mix and the reference mix. The metric is the mean absolute
    difference in LU. Raising every stem by the same amount leaves it unchanged, unlike
    ``residual_lu``. Stem loudness uses the linearity above (the reference stem is measured
    once); the mixes are measured (:func:`modelgen.audio.integrated_loudness`, BS.1770-4).
"""

import math

from analysis.metrics.registry import TASK, metric


def _audible(scenario):
    loudness = scenario.get("loudness_lufs") or {}
    return [stem for stem in scenario["stems"] if loudness.get(stem, 0.0) is not None]


def _applied_gains(scenario, corrections):
    unknown = sorted(set(corrections) - set(scenario["stems"]))
    if unknown:
        raise ValueError(
            f"scenario {scenario.get('id', '?')}: the advice corrects {unknown}, which the scenario does not have"
        )
    return {
        stem: float(scenario["gains_db"][stem]) + float(corrections.get(stem, 0.0))
        for stem in scenario["stems"]
    }


def level_residual(scenario, corrections):
    """Mean |offset + correction| over the audible stems, in LU (NaN when no stem is audible).

    Examples
    --------
    >>> scenario = {"stems": ["vocals", "drums"], "gains_db": {"vocals": 0, "drums": 4.5},
    ...             "loudness_lufs": {"vocals": -18.0, "drums": -20.0}}
    >>> level_residual(scenario, {"drums": -3.0})
    0.75
    """
    gains = _applied_gains(scenario, corrections)
    stems = _audible(scenario)
    if not stems:
        return math.nan
    return sum(abs(gains[stem]) for stem in stems) / len(stems)


@metric("residual_lu", kind=TASK, higher_is_better=False, inputs=("scenario", "corrections"), unit="LU")
def residual_lu(items, context):
    """Mean distance of each audible stem from its reference loudness after the advice, in LU (levels)."""
    return [level_residual(s, c) for s, c in zip(items["scenario"], items["corrections"])]


class ScenarioAudio:
    """A scenario's reference stems and their measured loudness, read once from the dataset folder."""

    def __init__(self, scenario, dataset_dir):
        from modelgen.audio import AudioError, integrated_loudness, load_audio, mix

        if dataset_dir is None:
            raise ValueError("mix_residual_lu reads the scenario audio: give the dataset folder (--dataset)")
        self.stems, rate = {}, None
        for stem in scenario["stems"]:
            path = dataset_dir / scenario["audio"]["reference"][stem]
            audio, stem_rate = load_audio(path)
            if rate is not None and stem_rate != rate:
                raise AudioError(
                    f"{path}: sample rate {stem_rate} Hz differs from the other stems' {rate} Hz"
                )
            self.stems[stem], rate = audio, stem_rate
        self.rate = rate
        self.stem_lufs = {stem: integrated_loudness(audio, rate) for stem, audio in self.stems.items()}
        self.mix_lufs = integrated_loudness(mix(self.stems), rate)

    def residual(self, gains_db):
        """Mean |Δ(stem - mix loudness)| over audible stems between the mix with ``gains_db`` and the reference."""
        from modelgen.audio import integrated_loudness, mix

        audible = [stem for stem, value in self.stem_lufs.items() if value is not None]
        applied_mix = integrated_loudness(mix(self.stems, gains_db), self.rate)
        if not audible or applied_mix is None or self.mix_lufs is None:
            return math.nan
        differences = [
            (self.stem_lufs[stem] + gains_db[stem] - applied_mix) - (self.stem_lufs[stem] - self.mix_lufs)
            for stem in audible
        ]
        return sum(abs(value) for value in differences) / len(differences)


@metric(
    "mix_residual_lu",
    kind=TASK,
    higher_is_better=False,
    inputs=("scenario", "corrections", "audio"),
    unit="LU",
)
def mix_residual_lu(items, context):
    """Mean change of each stem's loudness relative to the mix, advice-applied vs reference mix, in LU (audio)."""
    values = [math.nan] * len(items)
    positions = {}
    for position, scenario in enumerate(items["scenario"]):
        positions.setdefault(scenario["id"], []).append(position)
    scenarios = list(items["scenario"])
    corrections = list(items["corrections"])
    groups = positions.items()
    if context.progress:
        from tqdm import tqdm

        groups = tqdm(groups, desc="mix_residual_lu", unit="scenario")
    for _, group in groups:
        audio = ScenarioAudio(scenarios[group[0]], context.dataset_dir)
        for position in group:
            values[position] = audio.residual(_applied_gains(scenarios[position], corrections[position]))
    return values
