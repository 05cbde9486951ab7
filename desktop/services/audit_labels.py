"""What the audit viewer calls each kind of record: one registry, never an English table name on screen.

The area that writes audit entries about a kind of record registers its label
(`register_entity_label("account", "账户")`) in the module that owns that record. Synced record
types need nothing: their labels come from the wire types (`township_wire.types`). A kind nobody
registered reads as 其他记录.
"""

from __future__ import annotations

from township_wire.types import type_spec

FALLBACK_LABEL = "其他记录"

_LABELS: dict[str, str] = {}
_ACTORS: dict[str, str] = {}


def register_entity_label(entity_type: str, label: str) -> str:
    """Name `entity_type` in the viewer; a second, different label for the same type is a bug."""
    if _LABELS.get(entity_type, label) != label:
        raise ValueError(f"audit entity type {entity_type} labelled twice: {_LABELS[entity_type]} / {label}")
    _LABELS[entity_type] = label
    return entity_type


def entity_label(entity_type: str) -> str:
    """The Chinese name of a kind of record ('' for entries about no record, 其他记录 if unknown)."""
    if not entity_type:
        return ""
    if entity_type in _LABELS:
        return _LABELS[entity_type]
    spec = type_spec(entity_type)
    return spec.label if spec is not None else FALLBACK_LABEL


def entity_labels() -> dict[str, str]:
    """Every registered label by entity type (synced record types not included)."""
    return dict(_LABELS)


def register_actor_label(username: str, label: str) -> str:
    """Name an actor that is no person (the system, sync itself) in Chinese in the viewer."""
    _ACTORS[username] = label
    return username


def actor_label(username: str) -> str:
    """Who acted, as the viewer shows it: a person's user name, or the Chinese name of a system actor."""
    return _ACTORS.get(username, username)
