"""An engineer uploads real stems in chromium, a real worker answers, the advice is heard applied."""

import math

import pytest
from playwright.sync_api import expect

from modelgen.advisor_inference import demo_dataset_dir
from modelgen.models import AdvisorJob
from tests.modelgen.stem_files import noise, write_norms, write_stem

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
WORKER_MS = 90_000


def gains_settle(page, expected, *, master):
    """Wait until every GainNode of window.mixadvicePlayer holds its expected linear value."""
    page.wait_for_function(
        """([expected, master]) => {
            const s = window.mixadvicePlayer.snapshot();
            const close = (a, b) => Math.abs(a - b) < 1e-3;
            return close(s.masterGain, master) && Object.entries(expected).every(([k, v]) => close(s.gains[k], v));
        }""",
        arg=[expected, master],
        timeout=10_000,
    )


def test_uploaded_stems_get_advice_and_the_advice_moves_the_stem_gains(page, queue_worker, tmp_path):
    write_norms(demo_dataset_dir() / "norms.json")
    files = [
        write_stem(tmp_path / "lead vocals.wav", noise(seed=1)),
        write_stem(tmp_path / "drums.flac", noise(seed=2, level_db=-12.0)),
        write_stem(tmp_path / "bass.wav", noise(seed=3)),
    ]
    page.goto("/advisor/")
    page.set_input_files("input[name=stems]", [str(path) for path in files])
    expect(page.get_by_label("Role of drums.flac")).to_have_value("drums")
    expect(page.get_by_label("Role of lead vocals.wav")).to_have_value("vocals")
    page.get_by_label("lead vocals.wav is the anchor").check()
    page.get_by_role("button", name="Get advice").click()

    page.wait_for_url("**/advisor/r/*/")
    expect(page.locator("#advice-text")).to_be_visible(timeout=WORKER_MS)
    job = AdvisorJob.objects.get()
    assert job.state == AdvisorJob.State.DONE and job.anchor == "vocals"
    drums_db = job.corrections_db["drums"]
    assert drums_db < -4.0, job.advice_text
    assert set(job.corrections_db) == {"drums"}
    expect(page.locator("#corrections tr[data-role=drums]")).to_contain_text(f"{drums_db:.1f} dB")

    play = page.get_by_role("button", name="Play")
    expect(play).to_be_enabled(timeout=20_000)
    play.click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    as_given = job.loudness_match_db["as_given"]
    gains_settle(page, {"vocals": 1.0, "drums": 1.0, "bass": 1.0}, master=10 ** (as_given / 20))

    page.get_by_label("Advice applied").check()
    applied = job.loudness_match_db["advice_applied"]
    gains_settle(
        page, {"vocals": 1.0, "drums": 10 ** (drums_db / 20), "bass": 1.0}, master=10 ** (applied / 20)
    )
    snapshot = page.evaluate("window.mixadvicePlayer.snapshot()")
    assert snapshot["state"] == "advice_applied" and snapshot["playing"]
    assert 20 * math.log10(snapshot["gains"]["drums"]) == pytest.approx(drums_db, abs=0.01)
    assert snapshot["masterGain"] > 10 ** (as_given / 20) or applied == as_given == 0.0

    page.reload()
    expect(page.locator("#advice-text")).to_have_text(job.advice_text)
