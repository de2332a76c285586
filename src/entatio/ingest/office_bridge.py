"""Hands files to a running LibreOffice for PDF export, one JSON line each.

Run as a script by the Python that has LibreOffice's ``uno`` module, which is
often not the application's own Python; so it imports nothing of Entatio.
It answers {"ready": true} once connected, then for every request line
{"source": ..., "target": ..., "filter": ..., "options": [...]} one line,
{"done": true} or {"error": "..."}.
"""

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True)
    parser.add_argument("--library", required=True, help="folder holding unoserver")
    parser.add_argument("--wait", type=float, default=60.0)
    args = parser.parse_args()

    # Appended, not prepended: this Python's own packages come first.
    sys.path.append(args.library)
    from unoserver.converter import UnoConverter

    converter = connect(UnoConverter, args.port, args.wait)
    if converter is None:
        reply({"error": f"LibreOffice did not answer on port {args.port}"})
        return 1
    reply({"ready": True})

    for line in sys.stdin:
        reply(convert(converter, json.loads(line)))
    return 0


def connect(converter_class, port: str, wait: float):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            return converter_class(interface="127.0.0.1", port=port)
        except Exception:
            # The office is still starting and not yet listening.
            time.sleep(0.1)
    return None


def convert(converter, request: dict) -> dict:
    try:
        converter.convert(
            inpath=request["source"],
            outpath=request["target"],
            convert_to="pdf",
            filtername=request["filter"],
            filter_options=request["options"],
            update_index=False,
        )
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
    return {"done": True}


def reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
