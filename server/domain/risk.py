"""Fraud-screening rules (risk.proto): what each kind catches, and the decision.

Plain Python. A rule is data (kind, action, score, enabled and its kind's
parameters); `check_rule` says whether a rule is valid, `fires` whether it
catches a movement given the facts screening gathered, and `decide` makes the
decision of all enabled rules: the strongest action among the rules that
fired (DECLINE over REVIEW over ALLOW), named by the highest-scored rule of
that action. Trusted service clients skip the velocity rules and the REVIEW
rules, never a DECLINE rule on the amount (`skipped_when_trusted`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from server.domain import errors

VELOCITY_COUNT = "VELOCITY_COUNT"
VELOCITY_AMOUNT = "VELOCITY_AMOUNT"
AMOUNT_VS_HISTORY = "AMOUNT_VS_HISTORY"
NEW_PAYEE_AMOUNT = "NEW_PAYEE_AMOUNT"
NEW_DEVICE = "NEW_DEVICE"
KINDS = (VELOCITY_COUNT, VELOCITY_AMOUNT, AMOUNT_VS_HISTORY, NEW_PAYEE_AMOUNT, NEW_DEVICE)
VELOCITY_KINDS = frozenset({VELOCITY_COUNT, VELOCITY_AMOUNT})

ALLOW, REVIEW, DECLINE = "ALLOW", "REVIEW", "DECLINE"
RULE_ACTIONS = (REVIEW, DECLINE)
_STRENGTH = {ALLOW: 0, REVIEW: 1, DECLINE: 2}

OPEN, APPROVED, REJECTED = "OPEN", "APPROVED", "REJECTED"
ALERT_STATUSES = (OPEN, APPROVED, REJECTED)
# An alert nobody decided within this many days (sandbox clock) is rejected
# by the due-work sweeper (server.workers.risk_alerts): its reservation
# released, the movement CANCELLED, decided by EXPIRED_BY.
ALERT_EXPIRY_DAYS = 7
EXPIRED_BY = "expiry"

# A velocity window is counted in this many buckets (plus the current one).
SUBDIVISIONS = 6
WINDOW_MIN, WINDOW_MAX = 10, 86_400
COUNT_MAX = 100_000
SCORE_MAX = 1000
MULTIPLE_MAX = 1000
HISTORY_SIZE_MAX = 100
NAME_LENGTH_MAX = 100
TEXT_LENGTH_MAX = 500

# The parameters each kind needs; any other parameter is refused.
PARAMETERS: dict[str, frozenset[str]] = {
    VELOCITY_COUNT: frozenset({"window_seconds", "max_count"}),
    VELOCITY_AMOUNT: frozenset({"window_seconds", "amount_minor"}),
    AMOUNT_VS_HISTORY: frozenset({"history_multiple", "history_size", "amount_minor"}),
    NEW_PAYEE_AMOUNT: frozenset({"amount_minor"}),
    NEW_DEVICE: frozenset({"amount_minor"}),
}
# The parameters a kind may be given or not (None: its documented default).
OPTIONAL_PARAMETERS: dict[str, frozenset[str]] = {
    AMOUNT_VS_HISTORY: frozenset({"history_floor_minor"}),
}
ALL_PARAMETERS = (
    "window_seconds",
    "max_count",
    "amount_minor",
    "history_multiple",
    "history_size",
    "history_floor_minor",
)
# The API's names of the parameters (risk.proto), for error fields.
FIELD_NAMES = {
    "window_seconds": "windowSeconds",
    "max_count": "maxCount",
    "amount_minor": "amount",
    "history_multiple": "historyMultiple",
    "history_size": "historySize",
    "history_floor_minor": "historyFloor",
}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    kind: str
    action: str
    score: int
    enabled: bool
    currency: str = "USD"
    window_seconds: int | None = None
    max_count: int | None = None
    amount_minor: int | None = None
    history_multiple: int | None = None
    history_size: int | None = None
    # AMOUNT_VS_HISTORY: with too little history, an amount above this fires
    # (None: the rule's amount_minor).
    history_floor_minor: int | None = None
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def with_changes(self, **changes: object) -> Rule:
        return replace(self, **changes)  # type: ignore[arg-type]

    def applies_to(self, currency: str) -> bool:
        """An amount parameter is in the rule's currency: other currencies are not its."""
        return self.amount_minor is None or currency == self.currency

    @property
    def bucket_seconds(self) -> int:
        assert self.window_seconds is not None
        return -(-self.window_seconds // SUBDIVISIONS)


def check_rule(rule: Rule) -> Rule:
    """The rule if valid, else VALIDATION_ERROR naming the field."""
    name = rule.name.strip()
    if not 1 <= len(name) <= NAME_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"name must be 1 to {NAME_LENGTH_MAX} characters", field="name"
        )
    if rule.kind not in KINDS:
        raise errors.ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if rule.action not in RULE_ACTIONS:
        raise errors.ValidationFailed("action must be REVIEW or DECLINE", field="action")
    if not 0 <= rule.score <= SCORE_MAX:
        raise errors.ValidationFailed(f"score must be 0 to {SCORE_MAX}", field="score")
    if rule.description is not None and len(rule.description) > TEXT_LENGTH_MAX:
        raise errors.ValidationFailed(
            f"description must be at most {TEXT_LENGTH_MAX} characters", field="description"
        )
    needed = PARAMETERS[rule.kind]
    optional = OPTIONAL_PARAMETERS.get(rule.kind, frozenset())
    for parameter in ALL_PARAMETERS:
        value = getattr(rule, parameter)
        field_name = FIELD_NAMES[parameter]
        if parameter in optional:
            if value is not None:
                _check_range(parameter, value)
            continue
        if parameter not in needed:
            if value is not None:
                raise errors.ValidationFailed(
                    f"{field_name} does not apply to {rule.kind} rules", field=field_name
                )
            continue
        if value is None:
            raise errors.ValidationFailed(
                f"{field_name} is required for {rule.kind} rules", field=field_name
            )
        _check_range(parameter, value)
    return replace(rule, name=name)


_RANGES = {
    "window_seconds": (WINDOW_MIN, WINDOW_MAX),
    "max_count": (1, COUNT_MAX),
    "amount_minor": (1, 10**15),
    "history_floor_minor": (1, 10**15),
    "history_multiple": (1, MULTIPLE_MAX),
    "history_size": (1, HISTORY_SIZE_MAX),
}


def _check_range(parameter: str, value: int) -> None:
    low, high = _RANGES[parameter]
    if not low <= value <= high:
        field_name = FIELD_NAMES[parameter]
        if parameter in ("amount_minor", "history_floor_minor"):
            raise errors.InvalidAmount(f"{field_name} must be above zero", field=field_name)
        raise errors.ValidationFailed(f"{field_name} must be {low:,} to {high:,}", field=field_name)


@dataclass(frozen=True, slots=True)
class Window:
    """An account's screened debits within a velocity window, this one included."""

    count: int
    amount_minor: int


@dataclass
class Facts:
    """What screening found out about one movement (None: not looked up)."""

    amount_minor: int
    currency: str
    # bucket_seconds -> the window's counts
    velocity: dict[int, Window] = field(default_factory=dict)
    largest_past_debits: list[int] | None = None  # newest first
    new_payee: bool | None = None
    new_device: bool | None = None


def needs_lookup(rule: Rule, amount_minor: int) -> bool:
    """Whether the rule can fire at this amount (its amount floor): below it
    nothing is read for it."""
    if rule.kind in VELOCITY_KINDS:
        return True
    return rule.amount_minor is None or amount_minor >= rule.amount_minor


def _velocity_count(rule: Rule, facts: Facts) -> bool:
    window = facts.velocity.get(rule.bucket_seconds)
    return window is not None and window.count > (rule.max_count or 0)


def _velocity_amount(rule: Rule, facts: Facts) -> bool:
    window = facts.velocity.get(rule.bucket_seconds)
    return window is not None and window.amount_minor > (rule.amount_minor or 0)


def history_floor(rule: Rule) -> int:
    """AMOUNT_VS_HISTORY: the amount above which an account with too little
    history (fewer than history_size past debits) is caught."""
    if rule.history_floor_minor is not None:
        return rule.history_floor_minor
    return rule.amount_minor or 0


def _amount_vs_history(rule: Rule, facts: Facts) -> bool:
    size = rule.history_size or 0
    past = (facts.largest_past_debits or [])[:size]
    if len(past) < size:
        # Too little history to compare with (a fresh account, the classic
        # drain of a taken-over or mule account): the floor stands in for it.
        return facts.amount_minor > history_floor(rule)
    return facts.amount_minor > max(past) * (rule.history_multiple or 1)


def _new_payee(rule: Rule, facts: Facts) -> bool:
    return bool(facts.new_payee)


def _new_device(rule: Rule, facts: Facts) -> bool:
    return bool(facts.new_device)


_FIRES: dict[str, Callable[[Rule, Facts], bool]] = {
    VELOCITY_COUNT: _velocity_count,
    VELOCITY_AMOUNT: _velocity_amount,
    AMOUNT_VS_HISTORY: _amount_vs_history,
    NEW_PAYEE_AMOUNT: _new_payee,
    NEW_DEVICE: _new_device,
}


def fires(rule: Rule, facts: Facts) -> bool:
    """True when the rule catches the movement."""
    if not rule.applies_to(facts.currency) or not needs_lookup(rule, facts.amount_minor):
        return False
    return _FIRES[rule.kind](rule, facts)


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # ALLOW, REVIEW or DECLINE
    rule: Rule | None = None  # the rule that names it (None for ALLOW)
    fired: tuple[str, ...] = ()  # every rule that fired, "rsk_...:ACTION"

    @property
    def score(self) -> int:
        return self.rule.score if self.rule is not None else 0


def skipped_when_trusted(rule: Rule) -> bool:
    """A trusted service client's own calls skip the velocity rules and every
    REVIEW rule (its bulk work is never held for staff); they never skip a
    DECLINE rule on the amount (AMOUNT_VS_HISTORY, NEW_PAYEE_AMOUNT, NEW_DEVICE)."""
    return rule.kind in VELOCITY_KINDS or rule.action == REVIEW


def screened_rules(rules: list[Rule], *, trusted: bool) -> list[Rule]:
    """The enabled rules that apply to this caller."""
    return [rule for rule in rules if rule.enabled and not (trusted and skipped_when_trusted(rule))]


def staff_rules(rules: list[Rule]) -> list[Rule]:
    """The enabled rules that screen a staff person moving a customer's money:
    the velocity rules (how often and how much leaves the account)."""
    return [rule for rule in rules if rule.enabled and rule.kind in VELOCITY_KINDS]


def decide(rules: list[Rule], facts: Facts) -> Decision:
    """The decision of `rules` (already the screened ones) on `facts`."""
    fired = [rule for rule in rules if fires(rule, facts)]
    if not fired:
        return Decision(ALLOW)
    strongest = max(fired, key=lambda rule: (_STRENGTH[rule.action], rule.score, rule.id))
    return Decision(
        strongest.action, strongest, tuple(f"{rule.id}:{rule.action}" for rule in fired)
    )


# What a declined caller is told: never which rule fired, its kind or score
# (staff read those on the stored decision), so that nobody learns which
# control to step around.
DECLINED_MESSAGE = "Declined by fraud screening"
