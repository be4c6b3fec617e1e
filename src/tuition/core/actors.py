"""Who did it, and through which door: the actor reference every change records.

An `Actor` names a person (by user id), an API key (by its prefix) or a named job, plus the
interface the change came through. It is stored as a short, stable reference string such as
`user:42@admin`, `api-key:tk3fA9xQ@api` or `job:expire_credits@job`. References hold ids, key
prefixes and job names only, never a name or an email: the append-only ledger and the audit
trail keep them forever, and erasing a person only has to pseudonymise the user row.

`Actor` is a `str` so that the columns and change reasons that already hold actor text keep
working; services type their `actor` parameter with it so every interface has to build one.
`describe()` turns references into what people read ("Cora Diaz (staff) via admin"), in the
active language: role words, interfaces and job names are translated, the references are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from .verbs import VERB_LABELS

USER = "user"
API_KEY = "api-key"
JOB = "job"
KINDS = (USER, API_KEY, JOB)

ADMIN = "admin"
PAGES = "pages"
API = "api"
COMMAND = "command"
JOB_INTERFACE = "job"
INTERFACES = (ADMIN, PAGES, API, COMMAND, JOB_INTERFACE)

_REFERENCE = re.compile(r"^(?P<kind>user|api-key|job):(?P<id>[A-Za-z0-9_.-]+)@(?P<via>[a-z]+)$")
# Actor text written before references existed ("user:<email>", "system:periodic", "cli").
_LEGACY_SYSTEM = re.compile(r"^(?:system:)?(?P<name>[A-Za-z0-9_.-]+)$")
# In a change reason: "edited by user:42@admin: why" -> "user:42@admin".
_IN_REASON = re.compile(r"\bby (\S+?)(?::\s|:$|$|\s)")


class Actor(str):
    """A typed actor reference; build one with `for_user`, `for_api_key` or `for_job`."""

    kind: str
    id: str
    interface: str

    def __new__(cls, kind: str, id: str, interface: str) -> Actor:
        if kind not in KINDS:
            raise ValueError(f"unknown actor kind {kind!r}")
        if interface not in INTERFACES:
            raise ValueError(f"unknown interface {interface!r}")
        ident = str(id)
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", ident):
            raise ValueError(f"an actor id is a reference, not {ident!r}")
        self = super().__new__(cls, f"{kind}:{ident}@{interface}")
        self.kind, self.id, self.interface = kind, ident, interface
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # tasks and caches pickle their arguments
        return (Actor, (self.kind, self.id, self.interface))

    @property
    def user_id(self) -> int | None:
        return int(self.id) if self.kind == USER else None

    @classmethod
    def for_user(cls, user: Any, *, via: str) -> Actor:
        """A signed-in person (staff, owner or learner alike: the role is read when shown)."""
        return cls(USER, str(user.pk), via)

    @classmethod
    def for_api_key(cls, key: Any, *, via: str = API) -> Actor:
        prefix = key if isinstance(key, str) else key.prefix
        return cls(API_KEY, prefix, via)

    @classmethod
    def for_job(cls, name: str, *, via: str = JOB_INTERFACE) -> Actor:
        """The system, doing a named job (`expire_credits`); via `command` when run by hand."""
        return cls(JOB, name, via)

    @classmethod
    def parse(cls, text: str | None) -> Actor | None:
        """The reference in stored text, or None for text written before references."""
        if isinstance(text, Actor):
            return text
        match = _REFERENCE.match(text or "")
        if match is None:
            return None
        return cls(match["kind"], match["id"], match["via"])


def actor_in_reason(reason: str | None) -> str | None:
    """The actor text inside a change reason ("deleted by user:42@admin: why")."""
    match = _IN_REASON.search(reason or "")
    return match.group(1) if match else None


def reason_without_actor(reason: str | None) -> str:
    """A change reason as people read it: "deleted by user:42@admin: why" -> "deleted: why"."""
    text = reason or ""
    actor = actor_in_reason(text)
    if not actor:
        return text
    return text.replace(f" by {actor}", "", 1)


# --- what people read -----------------------------------------------------------------------


@dataclass(frozen=True)
class ActorView:
    """An actor as shown: `kind` (user, api-key, job, unknown), `id`, `display`, `interface`;
    `name` is `display` without the interface ("Cora Diaz (staff)")."""

    kind: str
    id: str
    display: str
    interface: str
    user_id: int | None = None
    name: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "id": self.id,
            "display": self.display,
            "interface": self.interface,
        }


INTERFACE_LABELS = {
    ADMIN: pgettext_lazy("interface", "admin"),
    PAGES: pgettext_lazy("interface", "pages"),
    API: pgettext_lazy("interface", "API"),
    COMMAND: pgettext_lazy("interface", "command line"),
    JOB_INTERFACE: pgettext_lazy("interface", "job"),
}

ROLE_LABELS = {
    "staff": pgettext_lazy("actor role", "staff"),
    "owner": pgettext_lazy("actor role", "owner"),
    "member": pgettext_lazy("actor role", "member"),
    "learner": pgettext_lazy("actor role", "learner"),
}

# The jobs people see in the trail, by the name their references store.
JOB_LABELS = {
    "automatic_refills": gettext_lazy("Automatic refills"),
    "build_report_export": gettext_lazy("Build report export"),
    "check_low_balances": gettext_lazy("Check low balances"),
    "create_api_key": gettext_lazy("Create api key"),
    "expire_credits": gettext_lazy("Expire credits"),
    "expire_holds": gettext_lazy("Expire holds"),
    "import_credits": gettext_lazy("Import credits"),
    "load_demo_data": gettext_lazy("Load demo data"),
    "remove_old_exports": gettext_lazy("Remove old exports"),
    "retry_stuck_deliveries": gettext_lazy("Retry stuck deliveries"),
    "revoke_api_key": gettext_lazy("Revoke api key"),
    "send_expiry_reminders": gettext_lazy("Send expiry reminders"),
}


def interface_label(via: str) -> str:
    """An interface as people read it ("admin", "command line"); unknown ones as stored."""
    label = INTERFACE_LABELS.get(via)
    return str(label) if label is not None else via


def _job_label(name: str) -> str:
    known = JOB_LABELS.get(name)
    if known is not None:
        return str(known)
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or gettext("System")


def describe(texts: Iterable[str | None]) -> dict[str, ActorView]:
    """Readable views of many actor texts at once (two queries, whatever their number)."""
    wanted = {t or "" for t in texts}
    parsed = {t: Actor.parse(t) for t in wanted}
    user_ids = {a.user_id for a in parsed.values() if a is not None and a.user_id is not None}
    legacy_emails = {
        t.partition(":")[2] for t, a in parsed.items() if a is None and t.startswith("user:")
    }
    prefixes = {a.id for a in parsed.values() if a is not None and a.kind == API_KEY}
    prefixes |= {
        t.partition(":")[2] for t, a in parsed.items() if a is None and t.startswith("api-key:")
    }
    people = _people(user_ids, legacy_emails)
    keys = _keys(prefixes)
    return {t: _view(t, parsed[t], people, keys) for t in wanted}


def describe_one(text: str | None) -> ActorView:
    return describe([text])[text or ""]


def _people(ids: set[int], emails: set[str]) -> dict[Any, tuple[int, str, str]]:
    if not ids and not emails:
        return {}
    from django.db.models import Q

    User = get_user_model()
    Membership = apps.get_model("accounts", "Membership")
    found = list(User.objects.filter(Q(pk__in=ids) | Q(email__in=emails)))
    owners = set(
        Membership.objects.filter(user__in=found, role="owner").values_list("user_id", flat=True)
    )
    members = set(Membership.objects.filter(user__in=found).values_list("user_id", flat=True))
    out: dict[Any, tuple[int, str, str]] = {}
    for user in found:
        if user.is_staff:
            role = "staff"
        elif user.pk in owners:
            role = "owner"
        elif user.pk in members:
            role = "member"
        else:
            role = "learner"
        name = (getattr(user, "name", "") or user.get_full_name() or user.email or "").strip()
        entry = (user.pk, name or gettext("Person #%(id)s") % {"id": user.pk}, role)
        out[user.pk] = entry
        out[user.email] = entry
    return out


def _keys(prefixes: set[str]) -> dict[str, str]:
    if not prefixes:
        return {}
    ApiKey = apps.get_model("api", "ApiKey")
    return dict(ApiKey.objects.filter(prefix__in=prefixes).values_list("prefix", "name"))


def _view(
    text: str, actor: Actor | None, people: dict[Any, Any], keys: dict[str, str]
) -> ActorView:
    if actor is not None:
        kind, ident, via = actor.kind, actor.id, actor.interface
    else:  # text from before references: no interface
        kind, _sep, ident = text.partition(":") if ":" in text else ("", "", text)
        via = ""
        if kind == "system" or (kind == "" and ident):
            kind = JOB

    def shown(name: str) -> str:
        if not via:
            return name
        return gettext("%(actor)s via %(interface)s") % {
            "actor": name,
            "interface": interface_label(via),
        }

    if kind == USER:
        person = people.get(int(ident)) if ident.isdigit() else people.get(ident)
        if person is None:
            label = gettext("Former person #%(id)s") % {"id": ident} if ident.isdigit() else ident
            return ActorView(USER, ident, shown(label), via, name=label)
        pk, name, role = person
        label = gettext("%(name)s (%(role)s)") % {"name": name, "role": ROLE_LABELS[role]}
        return ActorView(USER, str(pk), shown(label), via, user_id=pk, name=label)
    if kind == API_KEY:
        key_name = keys.get(ident)
        if key_name:
            label = gettext("API key %(name)s (%(prefix)s…)") % {
                "name": key_name,
                "prefix": ident[:6],
            }
        else:
            label = gettext("API key %(prefix)s…") % {"prefix": ident[:6]}
        return ActorView(API_KEY, ident, shown(label), via, name=label)
    if kind == JOB:
        label = gettext("%(job)s (job)") % {"job": _job_label(ident)}
        if via in ("", JOB_INTERFACE):
            return ActorView(JOB, ident, label, via, name=label)
        return ActorView(JOB, ident, shown(label), via, name=label)
    label = gettext("Not recorded")
    return ActorView("unknown", "", label, "", name=label)


def history_changed_by(record: Any) -> str:
    """Who made a change history row, as people read it ("Cora Diaz (staff) via admin")."""
    actor = actor_in_reason(getattr(record, "history_change_reason", ""))
    if actor:
        return describe_one(actor).display
    user_id = getattr(record, "history_user_id", None)
    if user_id:
        return describe_one(f"user:{user_id}@admin").name
    return "—"


def history_reason(record: Any) -> str:
    """A history row's reason without the reference ("Deleted: duplicate")."""
    text = reason_without_actor(getattr(record, "history_change_reason", ""))
    verb, sep, rest = text.partition(":")
    label = VERB_LABELS.get(verb.strip())
    if label is None:
        return text.capitalize()
    return f"{label}{sep}{rest}"
