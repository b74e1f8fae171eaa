"""Pricing: the two plans, the price, what premium unlocks, and the way to upgrade."""

from __future__ import annotations

import streamlit as st

from app import auth
from app.navigation import ACCOUNT_PAGE

st.title("Plans and pricing")
user = auth.current_user()
service = auth.billing()
price = service.price()

free, premium = st.columns(2, border=True)
with free:
    st.subheader("Free")
    st.markdown("## €0")
    st.markdown(
        "- Search any FACEIT nickname\n"
        "- Overview: Elo history, form, lifetime and last-10 stats\n"
        "- Every match with both teams' scoreboards\n"
        "- Per-map win rate, K/D and ADR\n"
        "- Compare players side by side"
    )
with premium:
    st.subheader("Premium")
    st.markdown(f"## {price.label if price else 'Price shown at checkout'}")
    st.markdown(
        "Everything in Free, plus the AI analyses:\n"
        + "\n".join(f"- **{name}**: {what}" for name, what in auth.PREMIUM_FEATURES)
    )
    if user is None:
        st.page_link(
            ACCOUNT_PAGE.file,
            label="Create an account or log in to upgrade",
            icon=":material/login:",
            query_params={auth.RETURN_TO: "pricing"},
        )
    elif auth.user_is_premium(user):
        st.success("You have premium: every analysis is unlocked.", icon="⭐")
        st.page_link("views/predictor.py", label="Open the match predictor", icon="🔮")
    elif service.enabled:
        label = f"Upgrade to premium · {price.label}" if price else "Upgrade to premium"
        if st.button(label, type="primary", icon=":material/star:", key="pricing_upgrade"):
            auth.start_checkout(user)
        pending = st.session_state.pop(auth.CHECKOUT_URL, None)
        if pending:
            auth.redirect(pending, "Continue to checkout")
    else:
        st.warning(
            "Upgrades are switched off on this server (no payment provider is configured). "
            "Ask the operator to grant premium to your account.",
            icon="💳",
        )

st.caption("Monthly subscription: cancel any time from Account → Manage billing.")
if service.demo:
    st.caption(auth.DEMO_CHECKOUT_NOTE)
