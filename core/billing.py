"""Stripe billing: checkout, confirmation, billing portal and webhooks.

Premium is granted only by something verified with Stripe: a webhook whose signature checks out
(``stripe.Webhook.construct_event``) or a checkout session we retrieved from the Stripe API.
Every grant is idempotent: the Stripe event id (webhooks) and the checkout session id (grants from
a completed checkout, by either path) are inserted into ``stripe_events`` in the same transaction as
the change, so a replay or a race is a no-op. Every grant, revocation and change is audited.

Ordering: Stripe does not deliver events in order, and ``created`` has a resolution of one second.
Events for a row apply in the order (``created``, the state of the object they carry):
``subscriptions.last_event_at`` holds the ``created`` time of the newest event applied; an older
event is recorded but changes nothing; an event of the same second applies only if its status is
at least as far along the subscription lifecycle (``STATUS_RANK``: a deletion beats an update of
the same second). A subscription that reached a terminal status (``canceled``,
``incomplete_expired``) is final for its id: Stripe never revives one, so no later event for that id
changes the row; only another subscription of the customer can.

Conflicts: every verified event is recorded in ``stripe_events`` (with the change it causes, in one
transaction), the subscription row is locked (``SELECT ... FOR UPDATE``) while an event is
applied, and a database conflict (a unique violation, a deadlock, a serialization failure, a
busy SQLite file) rolls the whole event back and applies it again, up to ``CONFLICT_ATTEMPTS``
times. If it still fails, ``WebhookRetryLater`` is raised (the route answers 503), so Stripe
delivers it again: an event is never acknowledged without its effect.

Billing notifications (a payment failed, a subscription ending or ended) are written to the
notification outbox (``core.notify.queue_to_user``) in the same transaction as the event that
causes them, once per invoice or subscription end: a replay adds nothing, a rollback takes them.

Entitlement itself is read by ``core.auth.is_premium`` from the subscriptions table.
Service methods commit their own unit of work.

Without STRIPE_SECRET_KEY (outside production) the service talks to the demo checkout
(``core.fake_stripe.demo_stripe``) through the same stripe client and the same methods, so the
default set-up can be upgraded end to end with no keys; ``demo`` is True so the UI says so.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import stripe
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from core import notify
from core.auth import audit, is_premium, subscription_is_premium
from core.db.schema import StripeEvent, Subscription, User
from core.settings import Settings

if TYPE_CHECKING:
    from core.fake_stripe import FakeStripe

log = logging.getLogger(__name__)

CHECKOUT_ID_RE = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")
HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.payment_failed",
    }
)
PAID_STATUSES = frozenset({"paid", "no_payment_required"})
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})
TERMINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})
# how far along its lifecycle a subscription is: the tie-breaker of events of the same second
STATUS_RANK = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2,
    "past_due": 3,
    "paused": 4,
    "unpaid": 4,
    "incomplete_expired": 5,
    "canceled": 5,
}
CONFLICT_ATTEMPTS = 5
RETRY_AFTER_SECONDS = 5
ACTOR = "stripe"


CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}


@dataclass(frozen=True)
class PlanPrice:
    """The premium plan's price, as Stripe's price object states it."""

    unit_amount: int  # in the currency's minor unit (cents)
    currency: str
    interval: str  # month, year...

    @property
    def label(self) -> str:
        """e.g. "€4.99 / month"."""
        amount = f"{self.unit_amount / 100:,.2f}"
        symbol = CURRENCY_SYMBOLS.get(self.currency.lower())
        money = f"{symbol}{amount}" if symbol else f"{amount} {self.currency.upper()}"
        return f"{money} / {self.interval}"


class BillingError(Exception):
    """A billing failure; ``str(error)`` can be shown to the user."""


class BillingDisabled(BillingError):
    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            "Payments are disabled: set "
            + ", ".join(missing)
            + " to enable Stripe checkout (premium stays available to demo and operator-granted "
            "accounts)."
        )


class CheckoutRefused(BillingError):
    """A checkout session that is unknown or belongs to someone else."""


class WebhookRejected(BillingError):
    """A webhook that failed verification or is malformed; nothing was changed."""


class WebhookRetryLater(BillingError):
    """A verified event that could not be applied now (database conflicts persisted); nothing
    was changed or recorded, and answering 5xx makes Stripe deliver it again."""

    def __init__(self) -> None:
        self.retry_after = RETRY_AFTER_SECONDS
        super().__init__("The event could not be applied right now; it will be retried.")


def supersedes(row: Subscription, subscription_id: str | None, status: str, at: datetime) -> bool:
    """Whether an event (for ``subscription_id``, carrying ``status``, created ``at``) is newer
    than what the row holds, by the ordering rules of the module docstring."""
    if row.status in TERMINAL_STATUSES and row.stripe_subscription_id:
        if subscription_id in (None, row.stripe_subscription_id):
            return False  # final for its id
        if status in LIVE_STATUSES:
            return True  # another, live subscription of the customer replaces a dead one
    if row.last_event_at is None:
        return True
    if at != row.last_event_at:
        return at > row.last_event_at
    return STATUS_RANK.get(status, 0) >= STATUS_RANK.get(row.status, 0)


def _ts(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)


def subscription_period_end(sub: dict[str, Any]) -> datetime | None:
    """``current_period_end`` of a subscription: top level (older API versions) or its items."""
    top = _ts(sub.get("current_period_end"))
    if top is not None:
        return top
    items = (sub.get("items") or {}).get("data") or []
    ends = [_ts(item.get("current_period_end")) for item in items if isinstance(item, dict)]
    found = [end for end in ends if end is not None]
    return max(found) if found else None


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    sub = invoice.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    if isinstance(sub, str):
        return sub
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub = details.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    return sub if isinstance(sub, str) else None


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


class BillingService:
    """Stripe operations for the product; construct from Settings or explicit values."""

    def __init__(
        self,
        *,
        secret_key: str | None = None,
        webhook_secret: str | None = None,
        price_id: str | None = None,
        api_base: str | None = None,
        http_client: stripe.HTTPClient | None = None,
        max_network_retries: int = 2,
    ) -> None:
        self.demo_checkout: FakeStripe | None = None  # set by from_settings in the demo set-up
        self.secret_key = secret_key or None
        self.webhook_secret = webhook_secret or None
        self.price_id = price_id or None
        self.api_base = api_base or None
        self.http_client = http_client
        self.max_network_retries = max_network_retries
        self._client: stripe.StripeClient | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, http_client: stripe.HTTPClient | None = None
    ) -> BillingService:
        if settings.uses_demo_checkout:
            from core.fake_stripe import DEMO_PRICE_ID, demo_stripe

            fake = demo_stripe(settings.public_url)
            service = cls(
                secret_key=fake.api_key,
                webhook_secret=fake.webhook_secret,
                price_id=DEMO_PRICE_ID,
                http_client=http_client or fake.http_client(),
                max_network_retries=0,
            )
            service.demo_checkout = fake
            return service
        return cls(
            secret_key=settings.stripe_secret_key.get_secret_value()
            if settings.stripe_secret_key
            else None,
            webhook_secret=settings.stripe_webhook_secret.get_secret_value()
            if settings.stripe_webhook_secret
            else None,
            price_id=settings.stripe_price_id,
            api_base=settings.stripe_api_base,
            http_client=http_client,
        )

    # -- configuration -------------------------------------------------------------------------

    @property
    def demo(self) -> bool:
        """True for the default set-up's demo checkout (nothing is charged)."""
        return self.demo_checkout is not None

    @property
    def missing(self) -> list[str]:
        names = {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_PRICE_ID": self.price_id,
        }
        return [name for name, value in names.items() if not value]

    @property
    def enabled(self) -> bool:
        return not self.missing

    @property
    def disabled_message(self) -> str | None:
        return None if self.enabled else str(BillingDisabled(self.missing))

    def _require(self) -> stripe.StripeClient:
        if not self.enabled:
            raise BillingDisabled(self.missing)
        if self._client is None:
            assert self.secret_key is not None
            bases: dict[str, str] = {"api": self.api_base} if self.api_base else {}
            self._client = stripe.StripeClient(
                self.secret_key,
                base_addresses=bases,  # type: ignore[arg-type]
                http_client=self.http_client,
                max_network_retries=self.max_network_retries,
            )
        return self._client

    def price(self) -> PlanPrice | None:
        """The premium price from Stripe (None when payments are off or Stripe is unreachable)."""
        if not self.enabled:
            return None
        try:
            price = self._require().v1.prices.retrieve(self.price_id or "").to_dict()
        except stripe.StripeError as exc:
            log.warning("stripe price retrieval failed: %s", type(exc).__name__)
            return None
        recurring = price.get("recurring") or {}
        amount, currency = price.get("unit_amount"), price.get("currency")
        if not isinstance(amount, int) or not isinstance(currency, str):
            return None
        return PlanPrice(amount, currency, str(recurring.get("interval") or "one-off"))

    def deliver_demo_webhooks(self, sessions: sessionmaker[Session]) -> None:
        """Demo checkout only: its signed webhooks are handled in-process, like Stripe's POSTs."""
        if self.demo_checkout is None:
            return

        def deliver(payload: bytes, signature: str) -> str:
            with sessions() as session:
                return self.handle_webhook(session, payload, signature)

        self.demo_checkout.deliver = deliver

    # -- checkout ------------------------------------------------------------------------------

    def create_checkout_session(
        self, session: Session, user: User, success_url: str, cancel_url: str
    ) -> str:
        """The Stripe-hosted checkout URL of a new subscription checkout for ``user``."""
        client = self._require()
        if "{CHECKOUT_SESSION_ID}" not in success_url:
            sep = "&" if "?" in success_url else "?"
            success_url = f"{success_url}{sep}session_id={{CHECKOUT_SESSION_ID}}"
        row = self._subscription_row(session, user.id, create=True)
        assert row is not None
        if subscription_is_premium(row):
            raise BillingError(
                "You already have an active subscription; manage it from the billing portal."
            )
        try:
            if not row.stripe_customer_id:
                customer = client.v1.customers.create(
                    params={
                        "email": user.email,
                        "name": user.name or user.username,
                        "metadata": {"user_id": str(user.id), "username": user.username},
                    }
                )
                row.stripe_customer_id = customer.id
                session.commit()
            checkout = client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [{"price": self.price_id or "", "quantity": 1}],
                    "customer": row.stripe_customer_id,
                    "client_reference_id": str(user.id),
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "metadata": {"user_id": str(user.id)},
                    "subscription_data": {"metadata": {"user_id": str(user.id)}},
                }
            )
        except stripe.StripeError as exc:
            session.rollback()
            log.warning("stripe checkout creation failed: %s", type(exc).__name__)
            raise BillingError("The payment provider is unavailable; please try again.") from exc
        audit(
            session,
            user.username,
            "checkout_started",
            user.username,
            checkout_session=checkout.id,
            customer=row.stripe_customer_id,
        )
        session.commit()
        if not checkout.url:
            raise BillingError("The payment provider returned no checkout page.")
        return str(checkout.url)

    def confirm_checkout(self, session: Session, checkout_session_id: str, user: User) -> bool:
        """Verify a checkout session with Stripe and grant premium once; True when premium now.

        Raises ``CheckoutRefused`` for an unknown session or one that is not this user's; returns
        False while the session is not complete and paid.
        """
        client = self._require()
        if not CHECKOUT_ID_RE.fullmatch(checkout_session_id or ""):
            raise CheckoutRefused("That is not a checkout session id.")
        try:
            checkout = client.v1.checkout.sessions.retrieve(
                checkout_session_id, params={"expand": ["subscription"]}
            ).to_dict()
        except stripe.InvalidRequestError as exc:
            raise CheckoutRefused("Unknown checkout session.") from exc
        except stripe.StripeError as exc:
            log.warning("stripe checkout retrieval failed: %s", type(exc).__name__)
            raise BillingError("The payment provider is unavailable; please try again.") from exc

        row = self._subscription_row(session, user.id, create=False)
        customer = _id_of(checkout.get("customer"))
        if checkout.get("client_reference_id") != str(user.id) or (
            row is not None
            and row.stripe_customer_id
            and customer
            and customer != row.stripe_customer_id
        ):
            audit(
                session,
                user.username,
                "checkout_refused",
                user.username,
                checkout_session=checkout_session_id,
                reason="belongs to another account",
            )
            session.commit()
            raise CheckoutRefused("This checkout session belongs to another account.")
        if checkout.get("status") != "complete" or checkout.get("payment_status") not in (
            PAID_STATUSES
        ):
            return False

        sub_obj = checkout.get("subscription")
        if isinstance(sub_obj, str):
            sub_obj = client.v1.subscriptions.retrieve(sub_obj).to_dict()
        sub = sub_obj if isinstance(sub_obj, dict) else {}
        try:
            self._grant(
                session,
                user,
                checkout_session_id=checkout_session_id,
                customer_id=customer,
                subscription_id=_id_of(sub),
                status=str(sub.get("status") or "active"),
                period_end=subscription_period_end(sub),
                at=datetime.now(UTC),
                source="checkout_confirm",
            )
            session.commit()
        except IntegrityError:
            session.rollback()  # the webhook (or another tab) granted it at the same moment
        return is_premium(session, user.id)

    def portal_url(self, session: Session, user: User, return_url: str) -> str:
        client = self._require()
        row = self._subscription_row(session, user.id, create=False)
        if row is None or not row.stripe_customer_id:
            raise BillingError("There is no billing account yet: subscribe first.")
        try:
            portal = client.v1.billing_portal.sessions.create(
                params={"customer": row.stripe_customer_id, "return_url": return_url}
            )
        except stripe.StripeError as exc:
            log.warning("stripe portal creation failed: %s", type(exc).__name__)
            raise BillingError("The payment provider is unavailable; please try again.") from exc
        return str(portal.url)

    # -- webhooks ------------------------------------------------------------------------------

    def handle_webhook(
        self,
        session: Session,
        payload: bytes,
        sig_header: str | None,
        webhook_secret: str | None = None,
        tolerance: int = 300,
    ) -> str:
        """Verify and apply one webhook; returns processed/duplicate/ignored/stale/unmatched.

        Raises ``WebhookRejected`` (nothing changed) for a bad signature, a timestamp outside the
        tolerance or a malformed body.
        """
        secret = webhook_secret or self.webhook_secret
        if not secret:
            raise BillingDisabled(["STRIPE_WEBHOOK_SECRET"])
        try:
            stripe.Webhook.construct_event(payload, sig_header, secret, tolerance)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"Signature verification failed: {exc.user_message}") from None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # signed but not an event (not JSON, not an object...): the stripe library chokes
            raise WebhookRejected(f"Malformed payload: {type(exc).__name__}") from None
        timestamp = int(str(sig_header).split("t=", 1)[1].split(",", 1)[0])
        if timestamp > time.time() + tolerance:
            raise WebhookRejected("Signature timestamp is in the future.")
        event_id, etype, created, obj = self._parse_event(payload)
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type((IntegrityError, OperationalError)),
                stop=stop_after_attempt(CONFLICT_ATTEMPTS),
                wait=wait_random_exponential(multiplier=0.02, max=0.5),
                reraise=True,
            ):
                with attempt:
                    try:
                        outcome = self._record_and_apply(session, event_id, etype, created, obj)
                        session.commit()
                    except Exception:
                        session.rollback()
                        raise
        except (IntegrityError, OperationalError) as exc:
            log.warning(
                "stripe event %s not applied after %d attempts: %s",
                event_id,
                CONFLICT_ATTEMPTS,
                type(exc).__name__,
            )
            raise WebhookRetryLater() from None
        return outcome

    def _record_and_apply(
        self, session: Session, event_id: str, etype: str, created: datetime, obj: dict[str, Any]
    ) -> str:
        """Record the event and apply it in the session's transaction (the caller commits).

        A concurrent delivery of the same event makes the insert wait for it and then fail
        (retried: the next attempt finds it recorded and answers "duplicate").
        """
        if session.get(StripeEvent, event_id) is not None:
            return "duplicate"
        session.add(StripeEvent(id=event_id, type=etype, created_at=created))
        session.flush()
        if etype == "checkout.session.completed":
            return self._on_checkout_completed(session, obj, created)
        if etype == "invoice.payment_failed":
            return self._on_payment_failed(session, obj, created, event_id)
        if etype in HANDLED_EVENTS:
            return self._on_subscription(session, etype, obj, created, event_id)
        return "ignored"

    @staticmethod
    def _parse_event(payload: bytes) -> tuple[str, str, datetime, dict[str, Any]]:
        try:
            event = json.loads(payload)
        except ValueError:
            raise WebhookRejected("Malformed payload: not JSON.") from None
        if not isinstance(event, dict):
            raise WebhookRejected("Malformed payload: not an event object.")
        event_id, etype = event.get("id"), event.get("type")
        created = _ts(event.get("created"))
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if (
            not isinstance(event_id, str)
            or not event_id
            or len(event_id) > 255
            or not isinstance(etype, str)
            or created is None
            or not isinstance(obj, dict)
        ):
            raise WebhookRejected("Malformed payload: missing id, type, created or data.object.")
        return event_id, etype, created, obj

    def _on_checkout_completed(
        self, session: Session, obj: dict[str, Any], created: datetime
    ) -> str:
        if obj.get("mode") != "subscription":
            return "ignored"
        if obj.get("status") != "complete" or obj.get("payment_status") not in PAID_STATUSES:
            return "ignored"
        checkout_id = _id_of(obj)
        customer = _id_of(obj.get("customer"))
        user = None
        ref = obj.get("client_reference_id")
        if isinstance(ref, str) and ref.isdigit():
            user = session.get(User, int(ref))
        if user is None and customer:
            row = session.scalar(
                select(Subscription).where(Subscription.stripe_customer_id == customer)
            )
            user = session.get(User, row.user_id) if row else None
        if user is None or checkout_id is None:
            log.warning("checkout.session.completed for an unknown user")
            return "unmatched"
        return self._grant(
            session,
            user,
            checkout_session_id=checkout_id,
            customer_id=customer,
            subscription_id=_id_of(obj.get("subscription")),
            status="active",
            period_end=None,
            at=created,
            source="webhook",
        )

    def _on_subscription(
        self, session: Session, etype: str, obj: dict[str, Any], created: datetime, event_id: str
    ) -> str:
        sub_id = _id_of(obj)
        customer = _id_of(obj.get("customer"))
        status = "canceled" if etype.endswith(".deleted") else str(obj.get("status") or "")
        row = self._find_row(session, sub_id, customer, obj.get("metadata"))
        if row is None or not sub_id or not status:
            log.warning("%s for an unknown subscription", etype)
            return "unmatched"
        other = row.stripe_subscription_id and row.stripe_subscription_id != sub_id
        if other and status not in LIVE_STATUSES:
            # another (older) subscription of the same customer: only a new live one replaces it
            return "ignored"
        if not supersedes(row, sub_id, status, created):
            return "stale"
        was_live = row.status in LIVE_STATUSES
        self._apply(
            session,
            row,
            status=status,
            period_end=subscription_period_end(obj),
            customer_id=customer,
            subscription_id=sub_id,
            at=created,
            cause=etype,
            key=event_id,
        )
        ends_at = _ts(obj.get("cancel_at")) or (
            row.current_period_end if obj.get("cancel_at_period_end") else None
        )
        if status == "canceled" and was_live:
            notify.queue_to_user(
                session,
                row.user_id,
                "billing",
                f"billing:ended:{sub_id}",
                "Your premium subscription has ended",
                "Your Faceit AI premium subscription has ended: the premium analyses are locked "
                "again. Subscribe again any time from the Account page.",
            )
        elif status in LIVE_STATUSES and ends_at is not None:
            notify.queue_to_user(
                session,
                row.user_id,
                "billing",
                f"billing:ending:{sub_id}:{int(ends_at.timestamp())}",
                f"Your premium subscription ends on {ends_at:%d %B %Y}",
                f"Your Faceit AI premium subscription is cancelled and ends on {ends_at:%d %B %Y}"
                ". Until then every analysis stays open; renew it from Manage billing on the "
                "Account page to keep it.",
            )
        return "processed"

    def _on_payment_failed(
        self, session: Session, obj: dict[str, Any], created: datetime, event_id: str
    ) -> str:
        sub_id = _invoice_subscription(obj)
        customer = _id_of(obj.get("customer"))
        row = self._find_row(session, sub_id, customer, None)
        if row is None:
            return "unmatched"
        if sub_id and row.stripe_subscription_id and row.stripe_subscription_id != sub_id:
            return "ignored"
        if not supersedes(row, sub_id, "past_due", created):
            return "stale"
        if row.status not in LIVE_STATUSES:
            return "ignored"
        self._apply(
            session,
            row,
            status="past_due",
            period_end=None,
            customer_id=customer,
            subscription_id=sub_id,
            at=created,
            cause="invoice.payment_failed",
            key=event_id,
        )
        invoice_id = _id_of(obj) or event_id
        notify.queue_to_user(
            session,
            row.user_id,
            "billing",
            f"billing:payment_failed:{invoice_id}",
            "Your premium payment failed",
            "We could not take the payment for your Faceit AI premium subscription. Stripe "
            "tries again over the next days; update your card under Manage billing on the "
            "Account page to keep premium"
            + (f" after {row.current_period_end:%d %B %Y}." if row.current_period_end else "."),
        )
        return "processed"

    # -- state ---------------------------------------------------------------------------------

    @staticmethod
    def _subscription_row(
        session: Session, user_id: int, *, create: bool, lock: bool = False
    ) -> Subscription | None:
        """The user's subscription row (created if asked; locked for this transaction if asked).

        The row is created with INSERT ... ON CONFLICT DO NOTHING, so two events creating it at
        once both end up with the one row instead of one of them failing.
        """
        if create:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            now = datetime.now(UTC)
            session.execute(
                dialect.insert(Subscription)
                .values(user_id=user_id, status="incomplete", updated_at=now)
                .on_conflict_do_nothing(index_elements=[Subscription.user_id])
            )
        query = select(Subscription).where(Subscription.user_id == user_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return session.scalar(query)

    @staticmethod
    def _find_row(
        session: Session, sub_id: str | None, customer: str | None, metadata: Any
    ) -> Subscription | None:
        """The subscription row an event is about (by subscription, customer or the user id in
        its metadata), locked for this transaction."""
        locked = select(Subscription).with_for_update().execution_options(populate_existing=True)
        if sub_id:
            row = session.scalar(locked.where(Subscription.stripe_subscription_id == sub_id))
            if row is not None:
                return row
        if customer:
            row = session.scalar(locked.where(Subscription.stripe_customer_id == customer))
            if row is not None:
                return row
        user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
        if not (isinstance(user_id, str) and user_id.isdigit()):
            return None
        if session.get(User, int(user_id)) is None:
            return None
        return BillingService._subscription_row(session, int(user_id), create=True, lock=True)

    def _grant(
        self,
        session: Session,
        user: User,
        *,
        checkout_session_id: str,
        customer_id: str | None,
        subscription_id: str | None,
        status: str,
        period_end: datetime | None,
        at: datetime,
        source: str,
    ) -> str:
        """Apply a completed checkout once (keyed by its session id): "processed", "stale" (newer
        events already decided the row) or "duplicate" (already done)."""
        if session.get(StripeEvent, checkout_session_id) is not None:
            return "duplicate"
        session.add(
            StripeEvent(id=checkout_session_id, type="checkout.session.completed", created_at=at)
        )
        session.flush()  # IntegrityError here means a concurrent grant won: caller rolls back
        row = self._subscription_row(session, user.id, create=True, lock=True)
        assert row is not None
        applied = self._apply(
            session,
            row,
            status=status,
            period_end=period_end,
            customer_id=customer_id,
            subscription_id=subscription_id,
            at=at,
            cause=source,
            key=checkout_session_id,
        )
        return "processed" if applied else "stale"

    @staticmethod
    def _apply(
        session: Session,
        row: Subscription,
        *,
        status: str,
        period_end: datetime | None,
        customer_id: str | None,
        subscription_id: str | None,
        at: datetime,
        cause: str,
        key: str,
    ) -> bool:
        """Apply a state to the (locked) row if it supersedes what the row holds (True then), and
        audit the effect: ``grant_premium``/``revoke_premium`` only when entitlement changed."""
        now = datetime.now(UTC)
        before = subscription_is_premium(row, now)
        previous = row.status
        newer = supersedes(row, subscription_id, status, at)
        if customer_id and not row.stripe_customer_id:
            row.stripe_customer_id = customer_id
        if subscription_id and newer:
            clash = session.scalar(
                select(Subscription.id).where(
                    Subscription.stripe_subscription_id == subscription_id,
                    Subscription.id != row.id,
                )
            )
            if clash is None:
                row.stripe_subscription_id = subscription_id
        if newer:
            row.status = status
            if period_end is not None:
                row.current_period_end = period_end
            row.last_event_at = at
        row.updated_at = now
        after = subscription_is_premium(row, now)
        username = session.scalar(select(User.username).where(User.id == row.user_id)) or str(
            row.user_id
        )
        if not newer:
            action = "stripe_event_stale"
        elif after and not before:
            action = "grant_premium"
        elif before and not after:
            action = "revoke_premium"
        else:
            action = "subscription_update"
        audit(
            session,
            ACTOR,
            action,
            username,
            cause=cause,
            key=key,
            previous_status=previous,
            status=row.status,
            applied=newer,
            current_period_end=row.current_period_end,
        )
        return newer
