"""How apps add to the demo without core importing them: each app's `demo.py` registers its customer
story steps here, and the command finds those modules the way the admin finds `admin.py`.

    # <app>/demo.py
    from core.demo.registry import customer_story

    @customer_story
    def purchases_and_aftercare(world, batch):
        for story in batch.stories:  # the customers created in this batch, each with its own rng
            ...  # append rows to batch.rows(Model, "label"), touchpoints to story.add(...)
"""

from collections.abc import Callable

from django.apps import apps
from django.utils.module_loading import autodiscover_modules

from core.demo.world import World
from core.demo.writer import Batch

Step = Callable[[World, Batch], None]

_steps: list[Step] = []


def customer_story(step: Step) -> Step:
    """Register `step(world, batch)`, called once per batch of new customers before the batch is written."""
    _steps.append(step)
    return step


def customer_story_steps() -> list[Step]:
    """Every app's steps, in INSTALLED_APPS order (dependency order: a step sees the rows of the apps it
    builds on), whatever order their modules happened to be imported in."""
    autodiscover_modules("demo")
    position = {config.name: i for i, config in enumerate(apps.get_app_configs())}

    def app_position(step: Step) -> int:
        config = apps.get_containing_app_config(step.__module__)
        return position[config.name] if config else len(position)

    return sorted(_steps, key=app_position)
