"""Replacing one person's email address and names inside stored text and JSON.

The address is replaced wherever it occurs (any case); a name is replaced where it stands as
whole words, so "Ana" in "Banana" stays. JSON is walked value by value, so its structure and
every other value survive.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, JSONField, Model, Q, TextField
from django.db.models.functions import Cast

ERASED_NAME = "Erased person"


@dataclass(frozen=True)
class Traces:
    """What identifies the person in text, and what replaces it."""

    email: str
    names: tuple[str, ...]
    pseudonym: str
    _patterns: list[tuple[re.Pattern[str], str]] = field(
        init=False, repr=False, compare=False, default_factory=list
    )

    def __post_init__(self) -> None:
        self._patterns.append((re.compile(re.escape(self.email), re.IGNORECASE), self.pseudonym))
        for name in sorted(self.names, key=len, reverse=True):
            word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
            self._patterns.append((word, ERASED_NAME))

    def needles(self) -> Iterator[str]:
        """Substrings a database search narrows the candidate rows with."""
        for text in (self.email, *self.names):
            yield text
            escaped = json.dumps(text)[1:-1]  # JSON stored with \\u escapes (SQLite)
            if escaped != text:
                yield escaped

    def text(self, value: str) -> str:
        for pattern, replacement in self._patterns:
            value = pattern.sub(replacement, value)
        return value

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {self.text(k): self.json(v) for k, v in value.items()}
        return value

    def json_text(self, value: str) -> str:
        """Text that is usually JSON (a stored API answer); plain text otherwise."""
        try:
            parsed = json.loads(value)
        except ValueError:
            return self.text(value)
        return json.dumps(self.json(parsed), separators=(",", ":"), ensure_ascii=False)


def person_names(*candidates: str) -> tuple[str, ...]:
    """The distinct, non-trivial names a person went by."""
    seen: dict[str, str] = {}
    for name in candidates:
        name = (name or "").strip()
        if len(name) >= 2:
            seen.setdefault(name.lower(), name)
    return tuple(seen.values())


def scrub_rows(model: type[Model], fields: Iterable[str], traces: Traces) -> int:
    """Rewrite, with UPDATEs (no save hooks, no new history rows), the rows of `model` whose
    `fields` mention the person; returns how many rows changed. Must run in a transaction."""
    fields = list(fields)
    opts = model._meta
    is_json = {name: isinstance(opts.get_field(name), JSONField) for name in fields}
    annotations = {f"_text_{name}": Cast(name, TextField()) for name in fields if is_json[name]}
    match = Q()
    for name in fields:
        column = f"_text_{name}" if is_json[name] else name
        for needle in traces.needles():
            match |= Q(**{f"{column}__icontains": needle})
    candidates = model._default_manager.annotate(**annotations).filter(match)
    changed = 0
    for row in candidates.values("pk", *fields).iterator(chunk_size=500):
        updates: dict[str, Any] = {}
        for name in fields:
            value = row[name]
            if value is None:
                continue
            if is_json[name]:
                new = traces.json(value)
            elif name in ("response_body",):
                new = traces.json_text(value)
            else:
                new = traces.text(value)
            limit = getattr(opts.get_field(name), "max_length", None)
            if isinstance(opts.get_field(name), CharField) and limit and isinstance(new, str):
                new = new[:limit]
            if new != value:
                updates[name] = new
        if updates:
            changed += model._default_manager.filter(pk=row["pk"]).update(**updates)
    return changed
