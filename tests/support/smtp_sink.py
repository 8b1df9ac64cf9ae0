"""An SMTP server for the black-box tests: aiosmtpd on 127.0.0.1, on a port the OS picks.

Usage: python smtp_sink.py OUT_DIR

Prints `SMTP_PORT=<port>` once it listens. Every message it accepts becomes OUT_DIR/<n>.json
(written through a temporary file, so a reader never sees half of one) holding the envelope and
the parsed message: decoded headers and the text and HTML parts. It exits when its standard
input closes, so it never outlives the test that started it.
"""

import asyncio
import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() != "multipart":
                parts[part.get_content_type()] = part.get_content()
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "messageId": str(message["Message-ID"]),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
        }
        name = f"{self.count:04}.json"
        temporary = os.path.join(self.out_dir, "." + name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(temporary, os.path.join(self.out_dir, name))
        return "250 Message accepted for delivery"


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


async def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    handler = Sink(out_dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(f"SMTP_PORT={server.sockets[0].getsockname()[1]}", flush=True)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    await server.serve_forever()


asyncio.run(main())
