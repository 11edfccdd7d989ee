"""The one way a workflow object changes state.

Models declare their states and allowed transitions with django-fsm-2 (`FSMField(protected=True)`
and `@transition` methods with empty bodies: the declaration, not the workflow). Services move an
object only through `transition_apply`, which follows the house recipe: lock the row, check the
transition table (and the transition's permission), change the state, save, write the history row.
The calling service writes its touchpoint and schedules notifications in the same transaction.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_fsm import can_proceed, has_transition_perm

from core.errors import TransitionNotAllowed
from core.models import StateTransition


def _meta(instance, name: str):
    method = getattr(type(instance), name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        raise ValueError(f"{type(instance).__name__}.{name} is not a declared transition")
    return meta


def allowed_transitions(instance, field: str = "status") -> list[str]:
    """Names of the transitions the object's current state allows, in declaration order."""
    return [t.name for t in getattr(instance, f"get_available_{field}_transitions")()]


def transition_apply(instance, name: str, *, actor, reason: str = "", extra_fields=(), **kwargs):
    """Apply transition `name` to `instance` and return the locked, updated row.

    Raises TransitionNotAllowed (409) naming the allowed transitions, or PermissionDenied when the
    transition declares a permission the actor lacks. `extra_fields` are saved with the state
    (timestamps the transition method sets). Must be called inside the caller's transaction.
    """
    meta = _meta(instance, name)
    field = meta.field.name
    with transaction.atomic():
        locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
        method = getattr(locked, name)
        from_state = getattr(locked, field)
        if not can_proceed(method):
            allowed = allowed_transitions(locked, field)
            raise TransitionNotAllowed(
                f"Cannot {name.replace('_', ' ')} a {type(locked)._meta.verbose_name} that is "
                f"{from_state}; allowed: {', '.join(allowed) or 'none'}.",
                allowed=allowed,
                state=from_state,
            )
        if actor is not None and not has_transition_perm(method, actor):
            raise PermissionDenied(f"You may not {name.replace('_', ' ')} this {type(locked)._meta.verbose_name}.")
        method(**kwargs)
        locked.save(update_fields=[field, *extra_fields])
        StateTransition.objects.create(
            subject_type=ContentType.objects.get_for_model(locked),
            subject_id=locked.pk,
            field=field,
            transition=name,
            from_state=from_state,
            to_state=getattr(locked, field),
            actor=actor,
            reason=reason,
        )
    return locked


def transition_history(instance):
    return (
        StateTransition.objects.filter(subject_type=ContentType.objects.get_for_model(instance), subject_id=instance.pk)
        .select_related("actor")
        .order_by("at", "id")
    )
