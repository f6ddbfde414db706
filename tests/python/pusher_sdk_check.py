#!/usr/bin/env python3
"""Drives the PyPI `pusher` server SDK against a running webman-push server, one call per run.

    pusher_sdk_check.py HOST PORT KEY SECRET [--app-id ID] COMMAND [ARGS...]

Commands (JSON arguments are JSON text):
    trigger CHANNELS EVENT DATA_JSON [SOCKET_ID]   CHANNELS comma-separated
    trigger_batch BATCH_JSON                       a list of {channel, name, data[, socket_id]}
    channels_info [PREFIX] [ATTRIBUTES]            ATTRIBUTES comma-separated, e.g. user_count
    channel_info CHANNEL [ATTRIBUTES]
    users_info CHANNEL
    send_to_user USER_ID EVENT DATA_JSON
    authenticate CHANNEL SOCKET_ID [CUSTOM_DATA_JSON]
    authenticate_user SOCKET_ID USER_DATA_JSON

Prints one JSON line: {"result": <what the SDK returned>} and exits 0, or
{"error": "<exception class>", "message": "..."} and exits 1. The checks themselves are made by
tests/node/python_sdk.test.mjs, which runs this script from tests/python/.venv.
"""
import json
import sys

import pusher


def as_json(value):
    """The SDK returns bytes in a few places (shared_secret): make them JSON text."""
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def attributes(arg):
    return [a for a in arg.split(",") if a] if arg else []


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, key, secret = argv[1:5]
    rest = argv[5:]
    app_id = "1024"
    if rest[:1] == ["--app-id"]:
        app_id, rest = rest[1], rest[2:]
    command, args = rest[0], rest[1:]

    client = pusher.Pusher(app_id=app_id, key=key, secret=secret, ssl=False, host=host, port=int(port), timeout=10)

    if command == "trigger":
        channels = args[0].split(",")
        socket_id = args[3] if len(args) > 3 else None
        result = client.trigger(channels, args[1], json.loads(args[2]), socket_id)
    elif command == "trigger_batch":
        result = client.trigger_batch(json.loads(args[0]))
    elif command == "channels_info":
        prefix = args[0] if len(args) > 0 and args[0] else None
        result = client.channels_info(prefix, attributes(args[1] if len(args) > 1 else ""))
    elif command == "channel_info":
        result = client.channel_info(args[0], attributes(args[1] if len(args) > 1 else ""))
    elif command == "users_info":
        result = client.users_info(args[0])
    elif command == "send_to_user":
        result = client.send_to_user(args[0], args[1], json.loads(args[2]))
    elif command == "authenticate":
        custom_data = json.loads(args[2]) if len(args) > 2 else None
        result = client.authenticate(args[0], args[1], custom_data)
    elif command == "authenticate_user":
        result = client.authenticate_user(args[0], json.loads(args[1]))
    else:
        print(json.dumps({"error": "UsageError", "message": "unknown command %r" % command}))
        return 1
    print(json.dumps({"result": as_json(result)}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # reported to the node test, which asserts on it
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        sys.exit(1)
