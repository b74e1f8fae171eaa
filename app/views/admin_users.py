"""Admin: users and their roles; a role change is audited by core.auth.set_role."""

from __future__ import annotations

import streamlit as st

from app import auth
from app.resources import get_resources
from app.widgets import plain
from core import auth as core_auth
from core.db.schema import ROLES

admin = auth.require_admin()
resources = get_resources()

st.title("Users")

with resources.sessions() as session:
    users = core_auth.list_users(session)
    premium = {user.id: core_auth.is_premium(session, user.id) for user in users}

st.dataframe(
    [
        {
            "username": user.username,
            "e-mail": user.email,
            "role": user.role,
            "premium": premium[user.id],
            "demo": user.is_demo,
            "created": user.created_at,
        }
        for user in users
    ],
    hide_index=True,
    width="stretch",
)

st.subheader("Change a role")
others = [user.username for user in users if user.id != admin.id]
if not others:
    st.caption("No other users yet.")
else:
    with st.form("role"):
        username = st.selectbox("User", others)
        role = st.selectbox("New role", ROLES)
        submitted = st.form_submit_button("Change role", type="primary")
    if submitted and username:
        try:
            with resources.sessions() as session:
                changed = core_auth.set_role(session, username, role, actor=admin.username)
        except core_auth.AuthError as exc:
            st.error(str(exc))
        else:
            st.success(f"{plain(changed.username)} is now **{changed.role}** (audited).")
    st.caption("Your own role cannot be changed here, so an admin cannot lock themselves out.")
