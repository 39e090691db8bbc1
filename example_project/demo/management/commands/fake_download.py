"""``manage.py fake_download GROUP``: a stand-in for a long job (a download)
run in its own process, reporting its progress to the page that started it.

With ``WEBSOCKET_GROUPS_URL`` (Redis) it sends to the page's group itself,
as a Celery task or a cron job would; without it (one process only) it
prints each line and the view that started it relays them.
"""

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from dwebsocket_c import send_to_group


class Command(BaseCommand):
    help = "Pretend to download something, reporting progress to a websocket group."

    def add_arguments(self, parser):
        parser.add_argument("group")
        parser.add_argument("--steps", type=int, default=5)
        parser.add_argument("--delay", type=float, default=0.4, help="seconds per step")

    def handle(self, group, steps, delay, **options):
        for step in range(1, steps + 1):
            time.sleep(delay)
            self.report(group, f"{100 * step // steps}%")
        self.report(group, "下载完成")  # "download finished", as in the blog post

    def report(self, group, text):
        if settings.WEBSOCKET_GROUPS_URL is not None:
            send_to_group(group, text)
        else:
            sys.stdout.buffer.write(text.encode("utf-8") + b"\n")  # whatever the locale
            sys.stdout.buffer.flush()
