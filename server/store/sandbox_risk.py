"""The sandbox's fraud-screening defaults (risk.proto), loaded by server.store.sandbox.

Rules with an amount are per currency (a rule's amounts are in its own
currency's minor units and it screens movements in that currency only), so
the sandbox loads its amount rules once for every currency the bank holds
(server.domain.money.CURRENCY_EXPONENTS): an account in EUR or JPY is
screened as one in USD is. The amounts are the same number of minor units
in every currency: the dollar amounts in a two-decimal currency (EUR, GBP,
CAD) and 100 times them in JPY, which has no minor unit (1,000.00 USD is
about 100,000 JPY). The USD rules keep their names (and so their ids); the
others are named with their currency's amounts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from server.domain import risk
from server.domain.ids import stable_id
from server.domain.money import CURRENCY_EXPONENTS
from server.store import risk_rows

# (name, kind, action, score, enabled, parameters in USD minor units). The
# first catches 25 transfers from one account within a minute (the 21st
# within 60 s is declined); it has no amount and screens every currency.
# The new-payee and new-device rules are loaded disabled: a person's
# transfer from 5,000.00 up already waits for step-up verification, which
# answers the same doubt (someone else's session paying someone new); staff
# switch them on with one PATCH (of each currency's rule). sandbox-client,
# the bank's own all-scope client, is trusted: its own calls (the test
# suite, the benchmark) skip the velocity and REVIEW rules, never a DECLINE
# rule on the amount; customers' tokens and sandbox-limited are screened by
# every enabled rule, staff persons by the velocity rules.
RISK_RULES: tuple[tuple[str, str, str, int, bool, dict[str, int]], ...] = (
    (
        "More than 20 debits from one account in 60 s",
        risk.VELOCITY_COUNT,
        risk.DECLINE,
        900,
        True,
        {"window_seconds": 60, "max_count": 20},
    ),
    (
        "More than 100,000.00 out of one account in an hour",
        risk.VELOCITY_AMOUNT,
        risk.REVIEW,
        700,
        True,
        {"window_seconds": 3600, "amount_minor": 10_000_000},
    ),
    (
        "Over 10x the largest of the last 5 debits (from 1,000.00)",
        risk.AMOUNT_VS_HISTORY,
        risk.REVIEW,
        500,
        True,
        # A fresh account (fewer than 5 debits) is held above 4,000.00.
        {
            "history_multiple": 10,
            "history_size": 5,
            "amount_minor": 100_000,
            "history_floor_minor": 400_000,
        },
    ),
    (
        "3,000.00 or more to a destination never paid before",
        risk.NEW_PAYEE_AMOUNT,
        risk.REVIEW,
        400,
        False,
        {"amount_minor": 300_000},
    ),
    (
        "2,000.00 or more from a device never seen with the user",
        risk.NEW_DEVICE,
        risk.REVIEW,
        300,
        False,
        {"amount_minor": 200_000},
    ),
)
TRUSTED_CLIENTS = ("sandbox-client",)

# The names of the amount rules in the other currencies ({amount}: the
# rule's amount, with its currency).
_NAMES_IN = {
    risk.VELOCITY_AMOUNT: "More than {amount} out of one account in an hour",
    risk.AMOUNT_VS_HISTORY: "Over 10x the largest of the last 5 debits (from {amount})",
    risk.NEW_PAYEE_AMOUNT: "{amount} or more to a destination never paid before",
    risk.NEW_DEVICE: "{amount} or more from a device never seen with the user",
}


def _shown(minor: int, currency: str) -> str:
    places = CURRENCY_EXPONENTS[currency]
    return f"{Decimal(minor).scaleb(-places):,.{places}f} {currency}"


def default_rules() -> list[tuple[str, str, str, int, bool, dict[str, int], str]]:
    """Every default rule, with its currency: the USD rules, then each amount
    rule again in every other currency the bank holds."""
    made = [(*rule, "USD") for rule in RISK_RULES]
    for currency in CURRENCY_EXPONENTS:
        if currency == "USD":
            continue
        for _, kind, action, score, enabled, parameters in RISK_RULES:
            if "amount_minor" not in parameters:
                continue  # no amount: it already screens every currency
            name = _NAMES_IN[kind].format(amount=_shown(parameters["amount_minor"], currency))
            made.append((name, kind, action, score, enabled, parameters, currency))
    return made


def ensure_risk_rules(stamp: datetime) -> int:
    """Creates the default rules that are missing (a rule already there is left
    as staff made it); trusts TRUSTED_CLIENTS on the first load only (staff
    may untrust them later)."""
    first_load = risk_rows.rule(stable_id("rsk", RISK_RULES[0][0])) is None
    made = 0
    for name, kind, action, score, enabled, parameters, currency in default_rules():
        rule_id = stable_id("rsk", name)
        if risk_rows.rule(rule_id) is not None:
            continue
        risk_rows.insert_rule(
            risk.check_rule(
                risk.Rule(
                    id=rule_id,
                    name=name,
                    kind=kind,
                    action=action,
                    score=score,
                    enabled=enabled,
                    currency=currency,
                    created_at=stamp,
                    updated_at=stamp,
                    **parameters,  # type: ignore[arg-type]
                )
            )
        )
        made += 1
    if first_load:
        for client_id in TRUSTED_CLIENTS:
            risk_rows.set_trust(client_id, True, "sandbox", stamp)
    return made
