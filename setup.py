"""Build of the C extension ``dwebsocket_c._core``; metadata is in pyproject.toml.

Environment knobs (for development, not for users):
  DWEBSOCKET_SANITIZE=1  build with AddressSanitizer + UndefinedBehaviorSanitizer
  DWEBSOCKET_DEBUG=1     build with -O0 -g
"""

import glob
import os
import sys

from setuptools import Extension, setup

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
            extra_compile_args=extra_compile_args,
            extra_link_args=extra_link_args,
        )
    ],
)
