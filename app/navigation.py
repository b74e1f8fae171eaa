"""The app's pages and who sees them in the navigation (no Streamlit calls: importable anywhere).

Premium pages are listed for everyone (visitors and free users see the login prompt or the
upgrade call-to-action: each premium page gates itself with ``app.auth.require_premium``); admin
pages are only in the navigation of admins (and check ``app.auth.require_admin`` themselves).
``app/main.py`` turns these lists into ``st.Page`` objects; the tests check that every listed
file exists and that every file in app/views/ is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
VIEWS_DIR = APP_DIR / "views"


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to app/, as st.Page and st.switch_page take it
    title: str
    icon: str
    hidden: bool = False  # registered (reachable by link) but not shown in the menu

    @property
    def path(self) -> Path:
        return APP_DIR / self.file


PUBLIC_PAGES: tuple[PageSpec, ...] = (
    PageSpec("views/home.py", "Home", ":material/home:"),
    PageSpec("views/player.py", "Overview", ":material/monitoring:"),
    PageSpec("views/matches.py", "Matches", ":material/history:"),
    PageSpec("views/maps.py", "Maps", ":material/map:"),
    PageSpec("views/compare.py", "Compare", ":material/group:"),
    PageSpec("views/match_room.py", "Match room", ":material/stadium:"),
    PageSpec("views/model_report.py", "Model report", ":material/insights:"),
)
PRICING_PAGE = PageSpec("views/pricing.py", "Pricing", ":material/sell:")
ACCOUNT_PAGE = PageSpec("views/account.py", "Account", ":material/account_circle:")
# plays Stripe's hosted checkout and portal pages in the default set-up (reached by link only)
DEMO_CHECKOUT_PAGE = PageSpec(
    "views/demo_checkout.py", "Demo checkout", ":material/shopping_cart:", hidden=True
)
# the link in every notification email (no login needed: the link is signed)
UNSUBSCRIBE_PAGE = PageSpec(
    "views/unsubscribe.py", "Unsubscribe", ":material/unsubscribe:", hidden=True
)
PREMIUM_PAGES: tuple[PageSpec, ...] = (
    PageSpec("views/predictor.py", "Match predictor", ":material/psychology:"),
    PageSpec("views/veto.py", "Map veto", ":material/block:"),
    PageSpec("views/playstyle.py", "Playstyle", ":material/person_search:"),
    PageSpec("views/improvement.py", "Improvement plan", ":material/trending_up:"),
    PageSpec("views/scouting.py", "Scouting", ":material/visibility:"),
)
ADMIN_PAGES: tuple[PageSpec, ...] = (
    PageSpec("views/admin_users.py", "Users", ":material/manage_accounts:"),
    PageSpec("views/admin_ingest.py", "Ingest", ":material/cloud_sync:"),
    PageSpec("views/admin_models.py", "Models", ":material/model_training:"),
    PageSpec("views/admin_payments.py", "Payments", ":material/payments:"),
)
ACCOUNT_PAGES: tuple[PageSpec, ...] = (
    PRICING_PAGE,
    ACCOUNT_PAGE,
    DEMO_CHECKOUT_PAGE,
    UNSUBSCRIBE_PAGE,
)
ALL_PAGES: tuple[PageSpec, ...] = (*PUBLIC_PAGES, *PREMIUM_PAGES, *ACCOUNT_PAGES, *ADMIN_PAGES)


def sections(role: str | None) -> dict[str, tuple[PageSpec, ...]]:
    """The navigation of a user with ``role`` (None: a visitor), section by section; the first
    page is the default one."""
    menu = {
        "Players": PUBLIC_PAGES,
        "Premium": PREMIUM_PAGES,
        "Account": ACCOUNT_PAGES,
    }
    if role == "admin":
        menu["Admin"] = ADMIN_PAGES
    return menu
