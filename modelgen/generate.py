"""Advice for every scenario of a split from one system, written as advice records.

Systems (``modelgen.contracts.KNOWN_SYSTEMS``):

- ``finetuned``: the base model with a trained LoRA adapter;
- ``base``: the base model zero-shot;
- ``baseline``: loudness rules (:mod:`modelgen.baseline`) on levels measured from the model-input
  clips, with the genre norms of the dataset's ``norms.json``;
- ``ideal`` and ``sham``: the reference advisors (the true correction, and a wrong-direction one).

Model systems decode greedily by default in left-padded batches. Every record's
``corrections_db`` is parsed from its text by :mod:`modelgen.advice_parse`, whatever the
system, so all systems are scored the same way. Each batch is validated and appended to the
output file in one flushed write, and scenarios already in the file are skipped, so an
interrupted run resumes (a line torn by the interruption is dropped on resume).
"""

import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from modelgen.audio import MODEL_SAMPLE_RATE
from modelgen.contracts import KNOWN_SYSTEMS, SCHEMA_VERSION
from modelgen.model_loading import DEFAULT_BASE_MODEL
from modelgen.training_data import STEM_VARIANTS

MODEL_SYSTEMS = ("finetuned", "base")
RULE_SYSTEMS = ("baseline", "ideal", "sham")
BACKENDS = ("transformers", "vllm")
SPLITS = ("train", "valid", "test")
log = logging.getLogger(__name__)
EMPTY_GENERATION = "[the model generated no text]"
"""Text recorded when a model's answer is empty (the contract needs non-empty text); it parses
to no correction, i.e. "leave everything", and ``generator.empty`` is set."""


@dataclass
class GenerateConfig:
    """How advice is generated; decoding settings are copied into every record."""

    system: str = "finetuned"
    split: str = "test"
    base_model: str = DEFAULT_BASE_MODEL
    adapter: str | None = None
    stems_as: str = "stems"
    batch_size: int = 4
    max_new_tokens: int = 200
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    num_beams: int = 1
    seed: int = 0
    load_in_4bit: bool = False
    load_in_8bit: bool = False
    backend: str = "transformers"
    limit: int | None = None
    """Generate for at most this many new scenarios (smoke tests)."""

    def __post_init__(self):
        if self.system not in KNOWN_SYSTEMS:
            raise ValueError(f"unknown system {self.system!r}; choose one of {list(KNOWN_SYSTEMS)}")
        if self.split not in SPLITS:
            raise ValueError(f"unknown split {self.split!r}; choose one of {list(SPLITS)}")
        if self.system == "finetuned" and not self.adapter:
            raise ValueError("system 'finetuned' needs --adapter (RUN/adapter of a training run)")
        if self.system != "finetuned" and self.adapter:
            raise ValueError(f"system {self.system!r} takes no adapter; use --system finetuned")
        if self.load_in_4bit and self.load_in_8bit:
            raise ValueError("choose 4-bit or 8-bit loading, not both")
        if self.stems_as not in STEM_VARIANTS:
            raise ValueError(
                f"unknown stem representation {self.stems_as!r}; choose one of {list(STEM_VARIANTS)}"
            )
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose one of {list(BACKENDS)}")
        if self.batch_size < 1 or self.max_new_tokens < 1 or self.num_beams < 1:
            raise ValueError("batch_size, max_new_tokens and num_beams must be at least 1")
        if self.do_sample and not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise ValueError("sampling needs temperature > 0 and 0 < top_p <= 1")

    def decoding(self):
        """The decoding settings as recorded in each advice record."""
        settings = {
            "do_sample": self.do_sample,
            "max_new_tokens": self.max_new_tokens,
            "num_beams": self.num_beams,
        }
        if self.do_sample:
            settings |= {"temperature": self.temperature, "top_p": self.top_p, "seed": self.seed}
        if self.system in RULE_SYSTEMS:
            return {"seed": self.seed}
        return settings | {"backend": self.backend}


def _now():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rng(seed, scenario_id):
    """A wording generator that depends only on the seed and the scenario (not on batching)."""
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(scenario_id.encode())])


def _existing(out, system):
    """Advice records already in ``out`` (all from ``system``), after dropping a torn last line."""
    from modelgen.contracts import load_advice

    out = Path(out)
    if not out.is_file():
        return []
    _drop_torn_line(out)
    records = load_advice(out)
    others = sorted({r["system"] for r in records} - {system})
    if others:
        raise ValueError(
            f"{out} holds advice from {others}; write each system to its own file (or delete it)"
        )
    return records


def _drop_torn_line(path):
    """Cut an unfinished last line (an append interrupted mid-write) so the file parses again."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        log.warning(
            "%s: dropping an unfinished last line (%d bytes) left by an interrupted run",
            path,
            len(data) - keep,
        )
        with path.open("r+b") as handle:
            handle.truncate(keep)


def append_records(path, records):
    """Validate ``records`` and append them to a JSONL file in one write, flushed to disk.

    Only whole lines reach the file unless the process dies mid-write; then the torn last line
    is dropped when the file is next read for resuming (:func:`_existing`).
    """
    from modelgen.contracts import ContractError, schema_errors

    errors = [
        e for n, r in enumerate(records, start=1) for e in schema_errors("advice", r, prefix=f"record {n}: ")
    ]
    if errors:
        raise ContractError(path, errors)
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def load_norms(dataset_dir):
    """The genre norms the dataset build fitted on its training split (``norms.json``)."""
    from modelgen.baseline import GenreNorms

    path = Path(dataset_dir) / "norms.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the baseline needs the genre norms the dataset build writes; "
            "rebuild the dataset with `python manage.py build_dataset`"
        )
    return GenreNorms.read(path)


def measured_levels(dataset_dir, scenario):
    """BS.1770 loudness (LUFS, None when silent) of each model-input clip, keyed by stem."""
    from modelgen.audio import integrated_loudness, load_audio

    clips = scenario["audio"]["model_inputs"]
    if len(clips) != len(scenario["stems"]):
        raise ValueError(f"scenario {scenario['id']}: {len(clips)} clips for {len(scenario['stems'])} stems")
    levels = {}
    for stem, clip in zip(scenario["stems"], clips):
        audio, rate = load_audio(Path(dataset_dir) / clip)
        levels[stem] = integrated_loudness(audio, rate)
    return levels


def rule_advice(system, scenario, *, dataset_dir, norms, seed):
    """Text of one rule-based advisor (``baseline``, ``ideal``, ``sham``) for a scenario."""
    rng = _rng(seed, scenario["id"])
    common = {
        "anchor": scenario["anchor"],
        "stems": scenario["stems"],
        "genre": scenario["genre"],
        "rng": rng,
    }
    if system == "baseline":
        from modelgen.baseline import baseline_advice

        levels = measured_levels(dataset_dir, scenario)
        return baseline_advice(levels_lufs=levels, norms=norms, **common).text
    from modelgen import reference_advisors

    advisor = {"ideal": reference_advisors.ideal_advice, "sham": reference_advisors.sham_advice}[system]
    return advisor(corrections_db=scenario["corrections_db"], **common).text


def advice_record(scenario, system, text, generator):
    """An advice record with ``corrections_db`` parsed from ``text``."""
    from modelgen.advice_parse import corrections_db

    empty = not text.strip()
    if empty:
        text = EMPTY_GENERATION
        generator = generator | {"empty": True}
    return {
        "schema_version": SCHEMA_VERSION,
        "scenario_id": scenario["id"],
        "system": system,
        "text": text.strip(),
        "corrections_db": corrections_db(text, stems=scenario["stems"], anchor=scenario["anchor"]),
        "generator": generator,
        "created": _now(),
    }


class ModelAdvisor:
    """A Qwen2-Audio (with or without adapter) that answers batches of chats."""

    def __init__(self, config, dataset_dir):
        import torch

        from modelgen.model_loading import adapter_sha256, load_model_for_inference

        self.config, self.dataset_dir = config, Path(dataset_dir)
        self.adapter_hash = adapter_sha256(config.adapter) if config.adapter else None
        self.model, self.processor = load_model_for_inference(
            config.base_model,
            adapter=config.adapter,
            load_in_4bit=config.load_in_4bit,
            load_in_8bit=config.load_in_8bit,
        )
        self.device = next(self.model.parameters()).device
        tokenizer = self.processor.tokenizer
        end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.eos = sorted({i for i in (end, tokenizer.eos_token_id) if i is not None})
        torch.manual_seed(config.seed)

    def answer(self, messages_list):
        import torch

        from modelgen.training_data import prompt_batch

        batch, _ = prompt_batch(self.processor, messages_list, self.dataset_dir)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        config = self.config
        options = {"max_new_tokens": config.max_new_tokens, "num_beams": config.num_beams}
        if config.do_sample:
            options |= {"do_sample": True, "temperature": config.temperature, "top_p": config.top_p}
        else:
            options |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        with torch.inference_mode():
            output = self.model.generate(
                **batch, eos_token_id=self.eos, pad_token_id=self.processor.tokenizer.pad_token_id, **options
            )
        new = output[:, batch["input_ids"].shape[1] :]
        return self.processor.batch_decode(new, skip_special_tokens=True)


_ModelAdvisor = ModelAdvisor
"""Old name, still imported by ``modelgen.advisor_inference``."""


class VllmAdvisor:
    """The same advisor served by vLLM (optional; only when vLLM is installed)."""

    def __init__(self, config, dataset_dir):
        try:
            from vllm import LLM, SamplingParams
            from vllm.lora.request import LoRARequest
        except ImportError:
            raise ValueError(
                "backend 'vllm' needs vLLM installed (pip install vllm); use 'transformers'"
            ) from None
        from modelgen.model_loading import adapter_sha256, load_processor, resolve_base_model

        self.config, self.dataset_dir = config, Path(dataset_dir)
        self.adapter_hash = adapter_sha256(config.adapter) if config.adapter else None
        self.processor = load_processor(config.base_model)
        self.llm = LLM(
            model=str(resolve_base_model(config.base_model)),
            enable_lora=bool(config.adapter),
            limit_mm_per_prompt={"audio": 8},
            seed=config.seed,
        )
        self.lora = LoRARequest("advisor", 1, str(config.adapter)) if config.adapter else None
        self.sampling = SamplingParams(
            temperature=config.temperature if config.do_sample else 0.0,
            top_p=config.top_p if config.do_sample else 1.0,
            max_tokens=config.max_new_tokens,
            seed=config.seed,
        )

    def answer(self, messages_list):
        from modelgen.training_data import clip_urls, load_clip, prompt_messages

        requests = []
        for messages in messages_list:
            prompt = prompt_messages(messages)
            text = self.processor.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            audio = [(load_clip(self.dataset_dir, url), MODEL_SAMPLE_RATE) for url in clip_urls(prompt)]
            requests.append({"prompt": text, "multi_modal_data": {"audio": audio}})
        outputs = self.llm.generate(requests, self.sampling, lora_request=self.lora, use_tqdm=False)
        return [output.outputs[0].text for output in outputs]


def generate_advice(dataset_dir, out, config, *, progress=True):
    """Write advice from ``config.system`` for every scenario of ``config.split`` to ``out``.

    Returns
    -------
    dict
        ``written`` (new records), ``skipped`` (already in ``out``), ``total`` and
        ``seconds_per_item`` (mean over the new records).
    """
    from tqdm import tqdm

    from modelgen.contracts import load_manifest

    dataset_dir, out = Path(dataset_dir), Path(out)
    scenarios = [s for s in load_manifest(dataset_dir)["scenarios"] if s["split"] == config.split]
    if not scenarios:
        raise ValueError(f"{dataset_dir}/manifest.json has no {config.split} scenarios")
    records = _existing(out, config.system)
    done = {r["scenario_id"] for r in records}
    todo = [s for s in scenarios if s["id"] not in done]
    if config.limit is not None:
        todo = todo[: config.limit]
    if not todo:
        return {"written": 0, "skipped": len(done), "total": len(records), "seconds_per_item": 0.0}

    answer, generator_base = _advisor(config, dataset_dir, todo)
    size = config.batch_size if config.system in MODEL_SYSTEMS else 1
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    seconds = 0.0
    for batch in tqdm(batches, desc=f"{config.system} advice", unit="batch", disable=not progress):
        started = time.perf_counter()
        texts = answer(batch)
        elapsed = (time.perf_counter() - started) / len(batch)
        seconds += elapsed * len(batch)
        new = [
            advice_record(
                scenario, config.system, text, generator_base(scenario) | {"seconds": round(elapsed, 4)}
            )
            for scenario, text in zip(batch, texts)
        ]
        append_records(out, new)
        records.extend(new)
    return {
        "written": len(todo),
        "skipped": len(done),
        "total": len(records),
        "seconds_per_item": seconds / len(todo),
    }


def _advisor(config, dataset_dir, scenarios):
    """Return ``(answer(batch) -> texts, generator(scenario) -> dict)`` for a system."""
    if config.system in RULE_SYSTEMS:
        norms = load_norms(dataset_dir) if config.system == "baseline" else None

        def answer(batch):
            return [
                rule_advice(config.system, s, dataset_dir=dataset_dir, norms=norms, seed=config.seed)
                for s in batch
            ]

        rule = {"baseline": "loudness-rules", "ideal": "ideal-inverse", "sham": "sham-inverse"}[config.system]

        def generator(scenario):
            return {
                "model": rule,
                "adapter_sha256": None,
                "prompt_sha256": None,
                "decoding": config.decoding(),
            }

        return answer, generator

    from modelgen.contracts import load_dataset_records
    from modelgen.prompts import prompt_sha256
    from modelgen.training_data import record_messages

    by_id = {r["scenario_id"]: r for r in load_dataset_records(dataset_dir / f"{config.split}.jsonl")}
    missing = [s["id"] for s in scenarios if s["id"] not in by_id]
    if missing:
        raise ValueError(f"{config.split}.jsonl has no chat record for scenarios {missing[:5]}")
    messages = {
        s["id"]: record_messages(by_id[s["id"]], variant=config.stems_as, scenario=s) for s in scenarios
    }
    advisor = (VllmAdvisor if config.backend == "vllm" else ModelAdvisor)(config, dataset_dir)

    def answer(batch):
        return advisor.answer([messages[s["id"]] for s in batch])

    def generator(scenario):
        return {
            "model": str(config.base_model),
            "adapter_sha256": advisor.adapter_hash,
            "prompt_sha256": prompt_sha256(messages[scenario["id"]]),
            "decoding": config.decoding(),
        }

    return answer, generator
