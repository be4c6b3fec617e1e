from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tuition.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Every change history row also names its actor and lands in the audit trail (see
        # core/audit.py): a record-keeping hook, not domain flow.
        from simple_history.signals import (
            post_create_historical_record,
            pre_create_historical_record,
        )

        from .audit import audit_history_row, note_history_row

        pre_create_historical_record.connect(note_history_row, dispatch_uid="audit-history-user")
        post_create_historical_record.connect(audit_history_row, dispatch_uid="audit-history")
