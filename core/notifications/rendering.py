"""Render an event's message for one channel from templates/notifications/<event>/.

Each event has one folder with a part per channel (`subject.txt` and `email.txt` for e-mail,
`sms.txt`, `push.txt`), all fed the same context, so the message says the same thing everywhere.
"""

from django.template.loader import render_to_string

CHANNEL_PARTS = {"email": "email.txt", "sms": "sms.txt", "push": "push.txt"}


def render_message(event: str, channel: str, context: dict) -> tuple[str, str]:
    """Return (subject, body). Only e-mail has a subject."""
    folder = f"notifications/{event}"
    body = render_to_string(f"{folder}/{CHANNEL_PARTS[channel]}", context).strip()
    subject = ""
    if channel == "email":
        subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
    return subject, body
