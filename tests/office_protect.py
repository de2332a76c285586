"""Save a document with a password, by LibreOffice itself.

Run by the Python that has LibreOffice's ``uno`` module:
``python3 office_protect.py SOURCE TARGET PASSWORD FILTER PROFILE_DIR``.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prop(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def connect(port: int):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
    for _ in range(300):
        try:
            return resolver.resolve(url)
        except Exception:
            time.sleep(0.2)
    raise SystemExit("LibreOffice did not answer")


def main() -> None:
    source, target, password, filter_name, profile = sys.argv[1:6]
    port = free_port()
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
            f"--accept=socket,host=127.0.0.1,port={port};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # soffice is a script that starts the real office: a group of its
        # own lets both be stopped together.
        start_new_session=True,
    )
    try:
        context = connect(port)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        document = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(os.path.abspath(source)),
            "_blank",
            0,
            (prop("Hidden", True),),
        )
        document.storeToURL(
            uno.systemPathToFileUrl(os.path.abspath(target)),
            (prop("FilterName", filter_name), prop("Password", password)),
        )
        document.close(True)
    finally:
        os.killpg(office.pid, signal.SIGKILL)
        office.wait(timeout=30)


if __name__ == "__main__":
    main()
