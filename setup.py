"""Build of the C extension ``dwebsocket_c._core``; metadata is in pyproject.toml.

Environment knobs (for development, not for users):
  DWEBSOCKET_SANITIZE=1  build with AddressSanitizer + UndefinedBehaviorSanitizer
  DWEBSOCKET_DEBUG=1     build with -O0 -g
"""

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from setuptools import Extension, setup


def zlib_headers_present() -> bool:
    """Whether the C compiler finds <zlib.h> (permessage-deflate needs it)."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if not shutil.which(cc[0]):
        return True  # let the build itself report the missing compiler
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "z.c")
        with open(src, "w") as f:
            f.write("#include <zlib.h>\nint main(void) { return ZLIB_VERNUM == 0; }\n")
        result = subprocess.run(
            [*cc, "-c", src, "-o", os.path.join(tmp, "z.o")],
            capture_output=True,
        )
    return result.returncode == 0


if sys.platform != "win32" and not os.environ.get("DWEBSOCKET_SKIP_ZLIB_CHECK") \
        and any(a.startswith(("build", "bdist", "develop", "install", "editable")) for a in sys.argv[1:]) \
        and not zlib_headers_present():
    sys.exit(
        "dwebsocket-c: zlib's headers (zlib.h) were not found. permessage-deflate "
        "compression is built with zlib: install them first (Debian/Ubuntu: "
        "apt-get install zlib1g-dev; Fedora: dnf install zlib-devel; Alpine: "
        "apk add zlib-dev), then build again."
    )

extra_compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
extra_link_args = []

if os.environ.get("DWEBSOCKET_DEBUG") or os.environ.get("DWEBSOCKET_SANITIZE"):
    extra_compile_args += ["-O0", "-g3", "-fno-omit-frame-pointer"]
else:
    extra_compile_args += ["-O2"]

if os.environ.get("DWEBSOCKET_SANITIZE"):
    sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
    extra_compile_args += sanitize
    extra_link_args += sanitize

if os.environ.get("DWEBSOCKET_WERROR"):
    extra_compile_args.append("-Werror")

if sys.platform == "win32":  # MSVC takes none of the gcc flags above
    extra_compile_args, extra_link_args = [], []

setup(
    ext_modules=[
        Extension(
            "dwebsocket_c._core",
            sources=sorted(glob.glob("csrc/*.c")),
            depends=sorted(glob.glob("csrc/*.h")),
            include_dirs=["csrc"],
            libraries=["zlib" if sys.platform == "win32" else "z"],
            extra_compile_args=extra_compile_args,
            extra_link_args=extra_link_args,
        )
    ],
)
