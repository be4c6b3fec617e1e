from django.http import HttpRequest

from . import selectors


def navigation(request: HttpRequest) -> dict:
    """What the header needs: the accounts this person owns (for the owner/learner switch),
    and the demo logins while the demo data is loaded and nobody is signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_owned_accounts": [], **_demo_hints()}
    return {"nav_owned_accounts": list(selectors.owned_accounts(user)[:10])}


def _demo_hints() -> dict:
    from tuition.accounts.models import User

    from . import demo

    if not User.objects.filter(email=demo.DEMO_LOGINS[0][0]).exists():
        return {}
    return {
        "demo_logins": demo.DEMO_LOGINS,
        "demo_password": demo.DEMO_PASSWORD,
        "demo_codes": getattr(demo, "DEMO_CODES", []),
    }
