"""lark-oapi, the parts we use and not the whole SDK.

What its layout allows (lark-oapi 1.7.5): the package `__init__` imports every API it has
(62 packages, some 11,000 modules: 170 MB of RSS and seconds of start-up), and any
`import lark_oapi.x` runs that `__init__` first; `lark_oapi.Client` imports every service too.
The submodules themselves import only what they use. So, before the first import, `lark_oapi`
and `lark_oapi.api` are registered as bare packages (their directories, without running their
`__init__`): `lark_oapi.api.im.v1` then loads the messaging API alone (some 40 MB), and the
client is put together from it (bot/feishu/client.py). The long connection's websocket client
still imports lark's event dispatcher, which imports the event processors of 24 APIs: that
mode costs about 85 MB more, the SDK's layout gives no way around it.
Where the whole SDK is loaded already (a test's fake imports it), it is used as it is.
"""

from __future__ import annotations

import importlib.util
import sys
import threading

_PACKAGES = ("lark_oapi", "lark_oapi.api")
_lock = threading.Lock()


def lean() -> None:
    """Make later `import lark_oapi.<module>` load that module and what it imports, alone."""
    with _lock:
        for name in _PACKAGES:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None or spec.submodule_search_locations is None:
                raise ImportError(f"{name} is not installed as a package")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, module)
