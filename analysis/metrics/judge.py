"""LLM-as-a-judge: one call per (advice item, dimension) on the humans' 1–5 Likert rubric.

The rubric of each dimension is the participants' own (:mod:`study.dimensions`: question,
definition, scale ends). A judge cannot hear the mix, so the prompt states what a listener
hears in the mix as given — which stems sit how many dB too loud or too quiet against the
professional mix — together with the genre, the stems and the anchor; then the advice.

**Reply format (strict).** The reply must be exactly one digit from 1 to 5, optionally
surrounded by white space and optionally preceded by one ``<think>…</think>`` block (what
reasoning models emit). Anything else — ``Score: 4``, ``five``, ``4/5 but…``, an empty reply —
is *missing* (stored as NULL, NaN in frames), never 0 and never guessed; the raw reply is kept.

**Calls.** Backends: an OpenAI-compatible HTTP endpoint (``POST {base_url}/chat/completions``:
vLLM, llama.cpp server, Ollama, OpenAI; API key from an environment variable) and a local
transformers causal LM (a path). Temperature 0 by default. HTTP calls retry on 429, 5xx,
timeouts, dropped and refused connections with exponential backoff (honouring ``Retry-After``), run
``concurrency`` at a time in a thread pool, and every completed call is logged in
:class:`analysis.models.JudgeCall` (model, prompt hash, dimension, raw reply, parsed score,
latency). That log is also the cache: a (model, prompt hash, item) seen before is not called
again, so an interrupted run resumes where it stopped. Worker threads only talk HTTP; the
database is read and written from the calling thread.
"""

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass

from analysis.metrics.registry import JUDGE, metric
from study.dimensions import DIMENSIONS

logger = logging.getLogger(__name__)

BACKENDS = ("openai", "transformers")
REPLY = re.compile(r"\s*(?:<think>.*?</think>)?\s*([1-5])\s*", re.DOTALL)
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 60.0

SYSTEM_PROMPT = (
    "You are an experienced mixing engineer who rates mixing advice written for another engineer. "
    "You rate one quality of the advice at a time on a scale from 1 to 5. "
    "Reply with a single digit from 1 to 5 and nothing else."
)


class JudgeError(RuntimeError):
    """A judge call failed for good (retries exhausted, a client error, a malformed response)."""


@dataclass
class JudgeConfig:
    """Which judge to ask and how.

    Parameters
    ----------
    model : str
        Model name the endpoint serves (HTTP), or a local model directory (transformers).
    backend : {"openai", "transformers"}
        ``openai``: any OpenAI-compatible chat-completions endpoint; ``transformers``: a local
        causal LM.
    base_url : str, optional
        Endpoint root that ends before ``/chat/completions``, e.g. ``http://127.0.0.1:8000/v1``.
    api_key_env : str
        Environment variable holding the API key (sent as a Bearer token when set).
    temperature : float
        Sampling temperature; 0 decodes greedily.
    max_tokens : int
        Most tokens in a reply (a digit needs one; a little room lets a wrong format show).
    timeout_s : float
        Seconds to wait for one HTTP reply.
    retries : int
        Retries after the first attempt on 429, 5xx, timeouts and refused connections.
    backoff_s : float
        First retry delay; doubles on each retry (capped at 60 s).
    concurrency : int
        Calls in flight at once (the local backend always runs one at a time).
    """

    model: str
    backend: str = "openai"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 16
    timeout_s: float = 120.0
    retries: int = 5
    backoff_s: float = 1.0
    concurrency: int = 4

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"judge backend must be one of {BACKENDS}, not {self.backend!r}")
        if not self.model:
            raise ValueError("judge model is empty: name the served model (or a local model folder)")
        if self.backend == "openai":
            if not self.base_url or not re.match(r"^https?://", self.base_url):
                raise ValueError(
                    f"judge base_url {self.base_url!r} must be an http(s) URL such as http://127.0.0.1:8000/v1"
                )
            self.base_url = self.base_url.rstrip("/")
        if self.temperature < 0:
            raise ValueError(f"judge temperature must be >= 0, not {self.temperature}")
        for name in ("max_tokens", "concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"judge {name} must be at least 1, not {getattr(self, name)}")
        if self.retries < 0 or self.backoff_s < 0 or self.timeout_s <= 0:
            raise ValueError("judge retries and backoff_s must be >= 0 and timeout_s > 0")

    def as_dict(self):
        """The settings as a JSON-ready dict (the API key's variable name only, never the key)."""
        return asdict(self)


def parse_score(reply):
    """Return the 1–5 score of a reply in the strict format, or None (missing).

    Examples
    --------
    >>> parse_score(" 4\\n"), parse_score("Score: 4"), parse_score("4/5 but vague"), parse_score("five")
    (4, None, None, None)
    >>> parse_score("<think>the drums are fixed</think>5")
    5
    """
    if not isinstance(reply, str):
        return None
    match = REPLY.fullmatch(reply)
    return int(match.group(1)) if match else None


def _dimension(name):
    for dimension in DIMENSIONS:
        if dimension.name == name:
            return dimension
    raise ValueError(f"unknown dimension {name!r}; known: {[d.name for d in DIMENSIONS]}")


STEM_PHRASES = {
    "vocals": "the vocals are",
    "drums": "the drums are",
    "bass": "the bass is",
    "other": "the other instruments are",
}


def _stem_phrase(stem):
    return STEM_PHRASES.get(stem, f"the {stem} stem is")


def describe_problem(scenario):
    """What a listener hears in the mix as given, in words, from the scenario's offsets.

    Examples
    --------
    >>> describe_problem({"anchor": "vocals", "stems": ["vocals", "drums", "bass"],
    ...                   "gains_db": {"vocals": 0, "drums": 4.5, "bass": 0}})
    'the drums are 4.5 dB too loud; the bass is at the right level'
    """
    parts = []
    for stem in scenario["stems"]:
        if stem == scenario["anchor"]:
            continue
        gain = float(scenario["gains_db"][stem])
        if gain > 0:
            parts.append(f"{_stem_phrase(stem)} {gain:g} dB too loud")
        elif gain < 0:
            parts.append(f"{_stem_phrase(stem)} {-gain:g} dB too quiet")
        else:
            parts.append(f"{_stem_phrase(stem)} at the right level")
    return "; ".join(parts)


def build_messages(dimension, text, scenario):
    """The chat messages asking the judge to rate ``text`` on one dimension.

    Examples
    --------
    >>> scenario = {"genre": "pop", "anchor": "vocals", "stems": ["vocals", "drums"],
    ...             "gains_db": {"vocals": 0, "drums": -3}}
    >>> messages = build_messages("actionability", "Raise the drums by 3 dB.", scenario)
    >>> [m["role"] for m in messages], "Actionability" in messages[1]["content"]
    (['system', 'user'], True)
    """
    d = _dimension(dimension)
    others = ", ".join(stem for stem in scenario["stems"] if stem != scenario["anchor"])
    user = (
        f"Rate the advice below on {d.label}: {d.question}\n"
        f"Definition: {d.definition}\n"
        f"Scale: 1 = {d.low}; 5 = {d.high}; 2, 3 and 4 lie evenly in between.\n\n"
        f"The song: {scenario.get('genre') or 'unknown genre'}. The stems: {scenario['anchor']} "
        f"(the anchor, which stays where it is), {others}.\n"
        f"What a listener hears in the mix as given, compared with the professional mix: "
        f"{describe_problem(scenario)}.\n\n"
        f'The advice:\n"""\n{text}\n"""\n\n'
        "Reply with one digit from 1 to 5 and nothing else."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def prompt_hash(messages, config):
    """SHA-256 of the request that determines the reply: messages, temperature, max_tokens."""
    payload = {"messages": messages, "temperature": config.temperature, "max_tokens": config.max_tokens}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class OpenAIChatBackend:
    """Chat completions over HTTP (``POST {base_url}/chat/completions``), with retries and backoff."""

    name = "openai"

    def __init__(self, config):
        self.config = config

    def _request(self, messages):
        from urllib.request import Request

        body = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.config.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return Request(
            f"{self.config.base_url}/chat/completions",
            data=json.dumps(body).encode("utf-8"),
            headers=headers,
            method="POST",
        )

    def _delay(self, attempt, retry_after=None):
        delay = self.config.backoff_s * 2**attempt
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(retry_after))
        return min(delay, MAX_BACKOFF_S)

    def complete(self, messages):
        """Return the reply text; raise :class:`JudgeError` when every attempt failed."""
        import http.client
        import urllib.error
        import urllib.request

        url = f"{self.config.base_url}/chat/completions"
        problem = "no attempt made"
        for attempt in range(self.config.retries + 1):
            retry_after = None
            try:
                with urllib.request.urlopen(
                    self._request(messages), timeout=self.config.timeout_s
                ) as response:
                    raw = response.read()
                return _reply_text(raw, url)
            except urllib.error.HTTPError as error:
                detail = error.read()[:300].decode("utf-8", "replace")
                if error.code not in RETRY_STATUS:
                    raise JudgeError(f"{url} answered HTTP {error.code}: {detail}") from None
                problem, retry_after = f"HTTP {error.code}: {detail}", error.headers.get("Retry-After")
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as error:
                problem = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            if attempt < self.config.retries:
                delay = self._delay(attempt, retry_after)
                logger.warning(
                    "judge call to %s failed (%s); retry %d in %.1f s", url, problem, attempt + 1, delay
                )
                time.sleep(delay)
        raise JudgeError(f"{url}: gave up after {self.config.retries + 1} attempts; last: {problem}")


def _reply_text(raw, url):
    try:
        content = json.loads(raw)["choices"][0]["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise JudgeError(f"{url} returned a response without choices[0].message: {raw[:200]!r}") from None
    return content if isinstance(content, str) else ""


_LOCAL_MODELS = {}
_LOCAL_LOCK = threading.Lock()


class TransformersBackend:
    """A local causal LM (a model directory); loaded once per path, one generation at a time."""

    name = "transformers"

    def __init__(self, config):
        self.config = config

    def _load(self):
        with _LOCAL_LOCK:
            if self.config.model not in _LOCAL_MODELS:
                from pathlib import Path

                from transformers import AutoModelForCausalLM, AutoTokenizer

                if not Path(self.config.model, "config.json").is_file():
                    raise JudgeError(
                        f"judge model {self.config.model!r} is not a local model directory (no config.json); "
                        "the transformers backend loads a saved model from disk and downloads nothing"
                    )
                tokenizer = AutoTokenizer.from_pretrained(self.config.model)
                model = AutoModelForCausalLM.from_pretrained(self.config.model)
                model.eval()
                _LOCAL_MODELS[self.config.model] = (tokenizer, model)
            return _LOCAL_MODELS[self.config.model]

    def _prompt(self, tokenizer, messages):
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        turns = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
        return "\n\n".join([*turns, "Assistant:"])

    def complete(self, messages):
        """Generate a reply (greedy at temperature 0); return only the new text."""
        import torch

        tokenizer, model = self._load()
        with _LOCAL_LOCK:
            inputs = tokenizer(self._prompt(tokenizer, messages), return_tensors="pt")
            sampling = {"do_sample": False}
            if self.config.temperature > 0:
                sampling = {"do_sample": True, "temperature": self.config.temperature}
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
            with torch.no_grad():
                output = model.generate(
                    **inputs, max_new_tokens=self.config.max_tokens, pad_token_id=pad, **sampling
                )
            new_tokens = output[0, inputs["input_ids"].shape[1] :]
            return tokenizer.decode(new_tokens, skip_special_tokens=True)


def make_backend(config):
    """Return the backend that ``config`` names."""
    return {"openai": OpenAIChatBackend, "transformers": TransformersBackend}[config.backend](config)


def _timed(backend, messages):
    start = time.perf_counter()
    reply = backend.complete(messages)
    return reply, time.perf_counter() - start


def judge_items(items, dimension, config, *, backend=None, progress=False):
    """Ask the judge to rate every item on one dimension; return scores (NaN = missing).

    Parameters
    ----------
    items : pandas.DataFrame
        Columns ``item``, ``text``, ``scenario`` (see :mod:`analysis.metrics.registry`).
    dimension : str
        One of the five study dimensions.
    config : JudgeConfig
        The judge.
    backend : object, optional
        Anything with ``complete(messages) -> str``; default :func:`make_backend`.
    progress : bool
        Show a progress bar over the calls made.

    Returns
    -------
    list of float
        One score per row (1–5, NaN when the reply was not in the strict format).

    Raises
    ------
    JudgeError
        When a call fails for good; calls already answered stay logged (the cache).
    """
    from analysis.models import JudgeCall

    backend = backend or make_backend(config)
    prompts = [
        build_messages(dimension, text, scenario) for text, scenario in zip(items["text"], items["scenario"])
    ]
    hashes = [prompt_hash(messages, config) for messages in prompts]
    keys = list(items["item"])
    cached = {
        (call.prompt_sha256, call.item): call.score
        for call in JudgeCall.objects.filter(
            model=config.model, prompt_sha256__in=set(hashes), item__in=set(keys)
        )
    }
    todo = {}
    for position, (key, digest) in enumerate(zip(keys, hashes)):
        if (digest, key) not in cached:
            todo.setdefault((digest, key), position)
    workers = 1 if config.backend == "transformers" else config.concurrency
    failures = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="judge") as pool:
        futures = {pool.submit(_timed, backend, prompts[position]): pair for pair, position in todo.items()}
        done = as_completed(futures)
        if progress and futures:
            from tqdm import tqdm

            done = tqdm(done, total=len(futures), desc=f"judge {dimension}", unit="call")
        for future in done:
            digest, key = futures[future]
            try:
                reply, latency = future.result()
            except JudgeError as error:
                failures.append(f"{key}: {error}")
                continue
            score = parse_score(reply)
            JudgeCall.objects.get_or_create(
                model=config.model,
                prompt_sha256=digest,
                item=key,
                defaults={
                    "backend": config.backend,
                    "dimension": dimension,
                    "raw_reply": reply,
                    "score": score,
                    "latency_s": latency,
                },
            )
            cached[(digest, key)] = score
    if failures:
        raise JudgeError(
            f"{len(failures)} judge call(s) for {dimension} failed (answered calls are cached; rerun to resume). "
            f"First: {failures[0]}"
        )
    return [math.nan if cached[(d, k)] is None else float(cached[(d, k)]) for d, k in zip(hashes, keys)]


def _register(dimension):
    @metric(
        f"judge_{dimension.name}",
        kind=JUDGE,
        higher_is_better=True,
        inputs=("text", "scenario"),
        description=f"LLM judge's 1–5 rating of {dimension.label.lower()}: {dimension.question}",
    )
    def judge_dimension(items, context):
        if context.judge is None:
            raise ValueError(
                f"judge_{dimension.name} needs a judge: give --judge-url and --judge-model "
                "(or --judge-backend transformers --judge-model PATH)"
            )
        return judge_items(items, dimension.name, context.judge, progress=context.progress)

    return judge_dimension


for _each in DIMENSIONS:
    _register(_each)
