"""A release bundle ready to upload to the Hugging Face Hub: adapter, model card, dataset export.

Nothing is uploaded. The folder holds the adapter files at the top (as a peft adapter repository
expects), ``README.md`` (the model card), ``training/`` (the run's config and metrics),
``evaluation/`` (when an ``evaluate_advice`` folder is given) and ``dataset/``: the dataset
export of :func:`modelgen.hf_export.export_dataset` (a ``datasets`` copy with its card; audio
only for songs whose licence allows it, plus a script that renders the rest from the user's own
MUSDB18-HQ).
"""

import json
import shutil
from pathlib import Path

LICENCE = "cc-by-nc-sa-4.0"


class ReleaseError(ValueError):
    """The run or dataset folder cannot be released as it is."""


def _read_run(run_dir):
    run_dir = Path(run_dir)
    missing = [n for n in ("config.json", "metrics.json", "adapter") if not (run_dir / n).exists()]
    if missing:
        raise ReleaseError(
            f"{run_dir} is not a finished training run (missing {missing}); pass the --out folder of "
            "a completed `python manage.py train_advisor` run"
        )
    from modelgen.model_loading import check_adapter

    check_adapter(run_dir / "adapter")
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    return config, metrics


def model_card(*, config, metrics, dataset_sha256, evaluation_table, scenario_counts, base_model_id=None):
    """The model card (``README.md``) text with Hugging Face metadata front matter.

    ``base_model_id`` names the base model on the Hub when training used a local folder; by
    default a hub id is kept and a local folder is named by its last part.
    """
    settings = config["settings"]
    base = settings["base_model"]
    looks_like_id = base.count("/") == 1 and not base.startswith((".", "/", "~"))
    base_name = base_model_id or (base if looks_like_id else Path(base).name)
    method = "QLoRA (4-bit NF4, double quantisation)" if settings.get("qlora") else "LoRA"
    lora = settings["lora"]
    evaluation = evaluation_table or (
        "Not evaluated yet: run `python manage.py evaluate_advice` on the test split and export again "
        "with `--evaluation`.\n"
    )
    counts = ", ".join(
        f"{scenario_counts[s]} {s}" for s in ("train", "valid", "test") if s in scenario_counts
    )
    return f"""---
base_model: {base_name}
library_name: peft
license: {LICENCE}
pipeline_tag: audio-text-to-text
tags:
- qwen2-audio
- lora
- music-mixing
- mixadvice
---

# MixAdvice gain-balance advisor ({method} adapter for {base_name})

Given the stems of a song as separate clips and one stem named as the anchor, the model says
which other stems to turn up or down relative to the anchor, and by roughly how many dB.

## Base model
`{base_name}` (Qwen2-Audio), adapted with {method} via peft: preset `{lora["preset"]}`, rank {lora["r"]},
alpha {lora["alpha"]}, dropout {lora["dropout"]}. Stem representation: `{settings["stems_as"]}`.

## Training data
MixAdvice scenarios ({counts}): segments of multitrack songs with one anchor stem and 0, 1 or 2+
other stems offset by 3–12 dB; the target is the inverse offset written as advice. Dataset
sha256 `{dataset_sha256}`; code commit `{config.get("git_commit")}`.
Training: {metrics["steps"]} steps, final training loss {metrics["train_loss"]:.4f}, validation loss
{metrics["valid_loss"] if metrics["valid_loss"] is None else f"{metrics['valid_loss']:.4f}"}.
The dataset export is in `dataset/` (its own card says which audio it includes and how to
render the rest).

## Licence
The adapter is released under {LICENCE.upper()}, following the terms of MUSDB18/MUSDB18-HQ,
whose songs may be used for non-commercial research only (48 of them are CC BY-NC-SA; the
others are restricted). No commercial use. The base model keeps its own licence.

## Intended use
Research on anchor-conditioned mixing advice and on how automatic metrics agree with audio
engineers (the MixAdvice listening study). Not a mixing product: it only judges relative
levels, not EQ, dynamics or space.

## Evaluation (test split)
{evaluation}
## Limitations
- Trained on MUSDB18 four-stem material (or the synthetic demo corpus): pop and rock dominate;
  only 3 jazz and 3 country songs, so genre conventions for those are not learned.
- The ground truth assumes the professional mix is balanced; other balances can be valid.
- Levels are judged from 16 kHz mono clips of at most 30 s; stereo image and long-term dynamics
  are invisible to it.
- Advice text is free-form; its corrections are read back by a rule-based parser.
"""


def export_release(run_dir, dataset_dir, out_dir, *, evaluation_dir=None, base_model_id=None):
    """Write the release folder; returns its path. The previous folder, if any, is replaced."""
    from modelgen.contracts import load_manifest
    from modelgen.hf_export import export_dataset
    from modelgen.run_folder import dataset_hash, replace_folder

    run_dir, dataset_dir = Path(run_dir), Path(dataset_dir)
    config, metrics = _read_run(run_dir)
    manifest = load_manifest(dataset_dir)
    digest = dataset_hash(dataset_dir)
    if config.get("dataset_sha256") not in (None, digest):
        raise ReleaseError(
            f"the run was trained on dataset {config['dataset_sha256'][:12]}…, but {dataset_dir} is "
            f"{digest[:12]}…; pass the dataset the run was trained on"
        )
    table = None
    if evaluation_dir is not None:
        table_path = Path(evaluation_dir) / "table.md"
        if not table_path.is_file():
            raise ReleaseError(f"{table_path} not found; pass the --out folder of evaluate_advice")
        table = table_path.read_text(encoding="utf-8")
    counts = {}
    for scenario in manifest["scenarios"]:
        counts[scenario["split"]] = counts.get(scenario["split"], 0) + 1

    def write(folder):
        for file in (run_dir / "adapter").iterdir():
            if file.is_file():
                shutil.copy2(file, folder / file.name)
        (folder / "training").mkdir()
        shutil.copy2(run_dir / "config.json", folder / "training" / "config.json")
        shutil.copy2(run_dir / "metrics.json", folder / "training" / "metrics.json")
        if evaluation_dir is not None:
            (folder / "evaluation").mkdir()
            for name in ("table.md", "summary.json", "summary.csv"):
                if (Path(evaluation_dir) / name).is_file():
                    shutil.copy2(Path(evaluation_dir) / name, folder / "evaluation" / name)
        export_dataset(dataset_dir, folder / "dataset")
        (folder / "README.md").write_text(
            model_card(
                config=config,
                metrics=metrics,
                dataset_sha256=digest,
                evaluation_table=table,
                scenario_counts=counts,
                base_model_id=base_model_id,
            ),
            encoding="utf-8",
        )

    return replace_folder(out_dir, write)
