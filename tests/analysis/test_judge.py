"""The LLM judge against a real OpenAI-compatible HTTP server on 127.0.0.1, and a tiny local causal LM."""

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from analysis.metrics import ScoringContext, get
from analysis.metrics.judge import (
    JudgeConfig,
    JudgeError,
    build_messages,
    judge_items,
    parse_score,
    prompt_hash,
)
from analysis.models import JudgeCall
from study.dimensions import DIMENSIONS
from tests.analysis.conftest import make_items, make_scenario


class FakeEndpoint:
    """A chat-completions server whose replies the test scripts, counting requests and concurrency."""

    def __init__(self):
        self.replies = []  # queue of (status, content or raw bytes, delay s); status 0 drops; the last repeats
        self.requests = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with endpoint.lock:
                    endpoint.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                    status, content, delay = (
                        endpoint.replies.pop(0) if len(endpoint.replies) > 1 else endpoint.replies[0]
                    )
                    endpoint.in_flight += 1
                    endpoint.max_in_flight = max(endpoint.max_in_flight, endpoint.in_flight)
                try:
                    time.sleep(delay)
                    if status == 0:  # drop the connection without a reply
                        self.close_connection = True
                        return
                    if isinstance(content, bytes):
                        payload = content
                    elif status == 200:
                        payload = json.dumps(
                            {"choices": [{"message": {"role": "assistant", "content": content}}]}
                        ).encode()
                    else:
                        payload = json.dumps({"error": content}).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    if status == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)
                finally:
                    with endpoint.lock:
                        endpoint.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def reply(self, *replies):
        self.replies = [r if isinstance(r, tuple) else (200, r, 0.0) for r in replies]
        self.requests.clear()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def endpoint():
    server = FakeEndpoint()
    yield server
    server.close()


@pytest.fixture
def config(endpoint):
    return JudgeConfig(model="judge-test", base_url=endpoint.url, backoff_s=0.01, retries=3, timeout_s=5)


def one_item(text="Pull the drums down by about 4 dB.", name="s1:finetuned"):
    scenario = make_scenario(name.split(":")[0], {"drums": 4.0})
    return make_items([(name, scenario, text, None, {"drums": -4.0})])


def many_items(count):
    return make_items(
        [
            (f"s{i}:x", make_scenario(f"s{i}", {"drums": 4.0}), f"Cut the drums {i} dB.", None, {})
            for i in range(count)
        ]
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("4", 4),
        (" 5\n", 5),
        ("1", 1),
        ("Score: five", None),
        ("4/5 but vague", None),
        ("Score: 4", None),
        ("0", None),
        ("6", None),
        ("", None),
        ("44", None),
        ("<think>clear, specific</think>\n3", 3),
    ],
)
def test_strict_format_accepts_a_lone_digit_from_one_to_five_only(reply, expected):
    assert parse_score(reply) == expected


@pytest.mark.django_db
def test_canned_four_is_stored_as_four_with_model_prompt_hash_and_raw_reply(endpoint, config):
    endpoint.reply("4")
    items = one_item()
    assert judge_items(items, "effectiveness", config) == [4.0]
    call = JudgeCall.objects.get()
    messages = build_messages("effectiveness", items["text"][0], items["scenario"][0])
    assert (call.model, call.item, call.dimension, call.raw_reply, call.score) == (
        "judge-test",
        "s1:finetuned",
        "effectiveness",
        "4",
        4,
    )
    assert call.prompt_sha256 == prompt_hash(messages, config)
    assert call.latency_s > 0
    sent = endpoint.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "judge-test"
    assert sent["body"]["temperature"] == 0.0
    assert sent["body"]["messages"] == messages


@pytest.mark.django_db
@pytest.mark.parametrize("reply", ["Score: five", "4/5 but the dB value is vague"])
def test_unparseable_reply_is_missing_never_zero_and_its_raw_text_is_kept(endpoint, config, reply):
    endpoint.reply(reply)
    values = judge_items(one_item(), "helpfulness", config)
    assert math.isnan(values[0])
    call = JudgeCall.objects.get()
    assert call.score is None
    assert call.raw_reply == reply


@pytest.mark.django_db
def test_server_errors_are_retried_until_the_reply_arrives(endpoint, config):
    endpoint.reply((500, "boom", 0.0), (503, "busy", 0.0), (429, "slow down", 0.0), "3")
    assert judge_items(one_item(), "musicality", config) == [3.0]
    assert len(endpoint.requests) == 4


@pytest.mark.django_db
def test_a_dropped_connection_is_retried(endpoint, config):
    endpoint.reply((0, "", 0.0), "2")
    assert judge_items(one_item(), "musicality", config) == [2.0]
    assert len(endpoint.requests) == 2


@pytest.mark.django_db
def test_a_slow_reply_times_out_and_is_retried(endpoint):
    endpoint.reply((200, "2", 1.5), "5")
    config = JudgeConfig(model="judge-test", base_url=endpoint.url, backoff_s=0.01, retries=2, timeout_s=0.5)
    assert judge_items(one_item(), "conventions", config) == [5.0]
    assert len(endpoint.requests) == 2


@pytest.mark.django_db
def test_exhausted_retries_raise_and_store_nothing(endpoint, config):
    endpoint.reply((500, "down", 0.0))
    with pytest.raises(JudgeError, match="gave up after 4 attempts"):
        judge_items(one_item(), "effectiveness", config)
    assert len(endpoint.requests) == 4
    assert not JudgeCall.objects.exists()


@pytest.mark.django_db
def test_a_client_error_is_not_retried(endpoint, config):
    endpoint.reply((400, "unknown model", 0.0))
    with pytest.raises(JudgeError, match="HTTP 400"):
        judge_items(one_item(), "effectiveness", config)
    assert len(endpoint.requests) == 1


@pytest.mark.django_db
def test_a_response_without_choices_is_an_error_not_a_score(endpoint, config):
    endpoint.reply((200, b'{"oops": true}', 0.0))
    with pytest.raises(JudgeError, match="without choices"):
        judge_items(one_item(), "effectiveness", config)


@pytest.mark.django_db
def test_a_cache_hit_makes_no_second_http_call(endpoint, config):
    endpoint.reply("4")
    items = one_item()
    judge_items(items, "actionability", config)
    endpoint.reply("1")
    assert judge_items(items, "actionability", config) == [4.0]
    assert endpoint.requests == []
    assert JudgeCall.objects.count() == 1


@pytest.mark.django_db
def test_changed_advice_text_misses_the_cache(endpoint, config):
    endpoint.reply("4")
    judge_items(one_item("Pull the drums down."), "actionability", config)
    judge_items(one_item("Push the drums up."), "actionability", config)
    assert len(endpoint.requests) == 2
    assert JudgeCall.objects.count() == 2


@pytest.mark.django_db
def test_no_more_calls_are_in_flight_than_the_concurrency_limit(endpoint):
    endpoint.reply((200, "3", 0.15))
    config = JudgeConfig(model="judge-test", base_url=endpoint.url, concurrency=3, backoff_s=0.01)
    assert judge_items(many_items(9), "effectiveness", config) == [3.0] * 9
    assert len(endpoint.requests) == 9
    assert endpoint.max_in_flight == 3


@pytest.mark.django_db
def test_the_api_key_comes_from_the_named_environment_variable(endpoint, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY_FOR_TEST", "sk-test-123")
    endpoint.reply("4")
    config = JudgeConfig(model="judge-test", base_url=endpoint.url, api_key_env="JUDGE_KEY_FOR_TEST")
    judge_items(one_item(), "effectiveness", config)
    assert endpoint.requests[0]["headers"]["Authorization"] == "Bearer sk-test-123"


def test_the_prompt_carries_the_participants_rubric_and_the_problem():
    scenario = make_scenario("s1", {"drums": 4.5, "bass": -3.0})
    for dimension in DIMENSIONS:
        user = build_messages(dimension.name, "Cut the drums.", scenario)[1]["content"]
        assert dimension.definition in user and dimension.low in user and dimension.high in user
    assert "the drums are 4.5 dB too loud; the bass is 3 dB too quiet" in user
    assert "one digit from 1 to 5" in user


def test_a_judge_metric_without_a_judge_says_which_options_to_give():
    with pytest.raises(ValueError, match="--judge-url"):
        get("judge_effectiveness")(one_item(), ScoringContext())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("backend", "carrier-pigeon", "backend"),
        ("base_url", "localhost:8000", "http"),
        ("concurrency", 0, "concurrency"),
    ],
)
def test_bad_judge_settings_are_refused_at_parse_time(field, value, message):
    settings = {"model": "m", "base_url": "http://127.0.0.1:1/v1", field: value}
    with pytest.raises(ValueError, match=message):
        JudgeConfig(**settings)


@pytest.fixture(scope="module")
def tiny_causal_lm(tmp_path_factory):
    """A randomly initialised GPT-2 with a byte-level BPE tokenizer trained here (no download)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-judge")
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    corpus = [d.definition for d in DIMENSIONS] + [
        "Pull the drums down by about 4 dB.",
        "Reply with one digit.",
    ]
    tokenizer.train_from_iterator(
        corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<eos>"])
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(fast), n_positions=1024, n_embd=16, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


@pytest.mark.slow
@pytest.mark.django_db
def test_a_tiny_local_model_babbles_and_its_reply_is_stored_as_missing(tiny_causal_lm):
    config = JudgeConfig(model=str(tiny_causal_lm), backend="transformers", max_tokens=6)
    values = judge_items(one_item(), "effectiveness", config)
    assert math.isnan(values[0])
    call = JudgeCall.objects.get()
    assert call.backend == "transformers" and call.score is None
    assert call.raw_reply.strip() != ""


@pytest.mark.slow
@pytest.mark.django_db
def test_a_local_model_with_a_chat_template_is_prompted_through_it(tiny_causal_lm, tmp_path):
    import shutil

    from transformers import AutoTokenizer

    folder = tmp_path / "templated"
    shutil.copytree(tiny_causal_lm, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
    tokenizer.save_pretrained(folder)
    from analysis.metrics.judge import TransformersBackend

    backend = TransformersBackend(JudgeConfig(model=str(folder), backend="transformers"))
    prompt = backend._prompt(backend._load()[0], [{"role": "user", "content": "Rate it."}])
    assert prompt == "<user>Rate it.<assistant>"


def test_a_local_judge_model_that_is_not_a_folder_is_refused(tmp_path):
    from analysis.metrics.judge import TransformersBackend

    backend = TransformersBackend(JudgeConfig(model=str(tmp_path / "none"), backend="transformers"))
    with pytest.raises(JudgeError, match="not a local model directory"):
        backend.complete([{"role": "user", "content": "hi"}])
