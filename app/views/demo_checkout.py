"""The demo checkout: plays Stripe's hosted checkout and billing-portal pages in the default
set-up (no STRIPE_SECRET_KEY), on the same code path as Stripe.

The session was created through the Stripe API of ``core.fake_stripe.demo_stripe``; paying here
completes it there, which sends the signed webhooks (handled in-process by the same
``BillingService.handle_webhook``) and returns to the success URL, where ``confirm_checkout``
verifies it over the API. Nothing is charged, and the page says so.
"""

from __future__ import annotations

import streamlit as st

from app import auth

st.title("Demo checkout")
service = auth.billing()
fake = service.demo_checkout
if fake is None:
    st.error("There is no demo checkout on this server: payments go through Stripe.", icon="💳")
    st.page_link("views/pricing.py", label="Back to pricing", icon=":material/sell:")
    st.stop()

st.warning(
    "**Demo checkout: no real payment.** This page stands in for Stripe Checkout in the demo "
    "set-up: no card is asked and nothing is charged.",
    icon="🧪",
)
object_id = st.query_params.get("id", "")
checkout = fake.checkout_sessions.get(object_id)
portal = fake.portal_sessions.get(object_id)

if checkout is not None:
    price = service.price()
    if checkout["status"] != "open":
        st.info("This checkout is already complete.", icon="✅")
        st.page_link("views/account.py", label="Go to your account", icon=":material/person:")
        st.stop()
    st.subheader("Faceit AI Premium")
    st.markdown(
        f"**{price.label if price else 'Monthly subscription'}**, renews monthly until "
        "cancelled. Unlocks:\n"
        + "\n".join(f"- {name}: {what}" for name, what in auth.PREMIUM_FEATURES)
    )
    pay, cancel = st.columns([1, 4])
    if pay.button("Pay (demo)", type="primary", icon=":material/lock:", key="demo_pay"):
        fake.complete_checkout(object_id)
        auth.redirect(
            str(checkout["success_url"]).replace("{CHECKOUT_SESSION_ID}", object_id),
            "Continue",
        )
        st.stop()
    if cancel.button("Cancel and go back", key="demo_cancel"):
        auth.redirect(str(checkout.get("cancel_url") or auth.app_url("pricing")), "Go back")
        st.stop()
elif portal is not None:
    st.subheader("Your subscription")
    live = [
        sub
        for sub in fake.subscriptions.values()
        if sub["customer"] == portal["customer"] and sub["status"] != "canceled"
    ]
    if not live:
        st.info("No active subscription on this billing account.", icon="ℹ️")
    elif st.button("Cancel subscription", type="primary", key="demo_cancel_subscription"):
        for sub in live:
            fake.cancel_subscription(sub["id"])
        auth.redirect(str(portal.get("return_url") or auth.app_url("account")), "Back to account")
        st.stop()
    st.page_link("views/account.py", label="Back to your account", icon=":material/person:")
else:
    st.error(
        "This checkout link is unknown or has expired (demo checkouts last until the app "
        "restarts). Start again from the pricing page.",
        icon="⚠️",
    )
    st.page_link("views/pricing.py", label="Go to pricing", icon=":material/sell:")
