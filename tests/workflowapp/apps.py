from django.apps import AppConfig


class WorkflowAppConfig(AppConfig):
    name = "tests.workflowapp"
    label = "workflowapp"
