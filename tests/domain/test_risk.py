"""Fraud-screening rules as plain Python (server.domain.risk): validity, what
each kind catches, the decision, what trust skips."""

from __future__ import annotations

import pytest

from server.domain import errors, risk
from server.domain.risk import Facts, Rule, Window


def _rule(kind: str, action: str = risk.REVIEW, score: int = 10, **parameters: int) -> Rule:
    return Rule(
        id=f"rsk_{kind.lower()}_{action.lower()}",
        name=kind,
        kind=kind,
        action=action,
        score=score,
        enabled=True,
        **parameters,  # type: ignore[arg-type]
    )


BURST = _rule(risk.VELOCITY_COUNT, risk.DECLINE, 900, window_seconds=60, max_count=20)
OUTFLOW = _rule(risk.VELOCITY_AMOUNT, window_seconds=3600, amount_minor=10_000)
HISTORY = _rule(risk.AMOUNT_VS_HISTORY, history_multiple=10, history_size=3, amount_minor=1_000)
PAYEE = _rule(risk.NEW_PAYEE_AMOUNT, score=400, amount_minor=3_000)
DEVICE = _rule(risk.NEW_DEVICE, score=300, amount_minor=2_000)


def test_the_defaults_of_each_kind_are_valid() -> None:
    for rule in (BURST, OUTFLOW, HISTORY, PAYEE, DEVICE):
        assert risk.check_rule(rule) == rule


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"action": "ALLOW"}, "action"),
        ({"score": -1}, "score"),
        ({"window_seconds": 9}, "windowSeconds"),
        ({"window_seconds": 86_401}, "windowSeconds"),
        ({"max_count": 0}, "maxCount"),
        ({"max_count": None}, "maxCount"),
        ({"amount_minor": 5}, "amount"),  # does not apply to VELOCITY_COUNT
        ({"description": "x" * 501}, "description"),
    ],
)
def test_a_bad_rule_names_its_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(errors.BankError) as caught:
        risk.check_rule(BURST.with_changes(**changes))
    assert caught.value.field == field


def test_velocity_fires_above_the_count_of_its_window() -> None:
    length = BURST.bucket_seconds
    assert length == 10
    assert not risk.fires(BURST, Facts(100, "USD", velocity={length: Window(20, 2000)}))
    assert risk.fires(BURST, Facts(100, "USD", velocity={length: Window(21, 2100)}))
    assert risk.fires(OUTFLOW, Facts(100, "USD", velocity={600: Window(2, 10_001)}))


def test_history_needs_enough_past_debits() -> None:
    # Too little history: compared with the floor (default: the rule's amount).
    assert risk.fires(HISTORY, Facts(50_000, "USD", largest_past_debits=[100, 100]))
    assert not risk.fires(HISTORY, Facts(1_000, "USD", largest_past_debits=[100, 100]))
    floored = HISTORY.with_changes(history_floor_minor=60_000)
    assert not risk.fires(floored, Facts(50_000, "USD", largest_past_debits=[100, 100]))
    assert risk.fires(floored, Facts(60_001, "USD", largest_past_debits=[]))
    assert risk.fires(HISTORY, Facts(50_000, "USD", largest_past_debits=[100, 100, 100]))
    assert not risk.fires(HISTORY, Facts(900, "USD", largest_past_debits=[1, 1, 1]))  # floor


def test_amount_rules_apply_in_their_currency_only() -> None:
    assert risk.fires(PAYEE, Facts(3_000, "USD", new_payee=True))
    assert not risk.fires(PAYEE, Facts(2_999, "USD", new_payee=True))
    assert not risk.fires(PAYEE, Facts(3_000, "EUR", new_payee=True))
    assert not risk.fires(DEVICE, Facts(5_000, "USD", new_device=None))


def test_the_strongest_action_decides_and_the_best_score_names_it() -> None:
    facts = Facts(5_000, "USD", velocity={10: Window(30, 0)}, new_payee=True, new_device=True)
    decision = risk.decide([PAYEE, DEVICE, BURST], facts)
    assert decision.action == risk.DECLINE and decision.rule == BURST
    assert set(decision.fired) == {
        f"{BURST.id}:DECLINE",
        f"{PAYEE.id}:REVIEW",
        f"{DEVICE.id}:REVIEW",
    }
    review = risk.decide([DEVICE, PAYEE], facts)
    assert review.action == risk.REVIEW and review.rule == PAYEE and review.score == 400
    assert risk.decide([PAYEE], Facts(10, "USD", new_payee=True)).action == risk.ALLOW


def test_trust_skips_velocity_and_reviews_never_a_decline_on_amount() -> None:
    hard = PAYEE.with_changes(action=risk.DECLINE, id="rsk_hard")
    off = DEVICE.with_changes(enabled=False)
    rules = [BURST, OUTFLOW, HISTORY, PAYEE, hard, off]
    assert risk.screened_rules(rules, trusted=True) == [hard]
    assert risk.screened_rules(rules, trusted=False) == [BURST, OUTFLOW, HISTORY, PAYEE, hard]
