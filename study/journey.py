"""Journey steps that need more than one service in one transaction (the participant pages own them)."""

from django.db import transaction

from study import services


@transaction.atomic
def closing_submit(*, participant, answers):
    """Store the closing questionnaire and finish the participant; return the completion code.

    Both happen together, so the debrief (and the redirect to the recruiter) is shown only
    once the last answers are saved, and a failure leaves the participant at the closing page.
    """
    services.closing_record(participant=participant, answers=answers)
    return services.participant_complete(participant=participant)


def item_preview_state(item, *, audio_url):
    """The trial page's state for one item, without a participant or trial (staff preview)."""
    from study.selectors import STATES, state_gains_db

    scenario = item.scenario
    gains = state_gains_db(scenario, item)
    study = scenario.study
    return {
        "trial": None,
        "is_practice": False,
        "instructed_response": None,
        "advice": item.text,
        "anchor": scenario.anchor,
        "stems": [{"name": stem, "url": audio_url(stem)} for stem in scenario.stems],
        "states": {
            name: {"gains_db": gains[name], "master_db": float(item.master_gain_db.get(name, 0.0))}
            for name in STATES
        },
        "min_listening_seconds": study.min_listening_seconds,
        "free_text_required": study.free_text_required,
        "listened_seconds": 0.0,
        "saved": None,
    }
