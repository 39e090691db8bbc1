"""The type stub ``_core.pyi`` must describe the compiled module exactly.

mypy's stubtest imports ``dwebsocket_c._core`` and compares every name,
signature and class in it with the stub: a function added, renamed or given
another parameter in C without the stub following fails here.
"""

import subprocess
import sys
from pathlib import Path

#: What stubtest may not compare: see the comments in the file.
ALLOWLIST = Path(__file__).with_name("stubtest-allowlist.txt")
#: mypy finds the package (and its stub) from the checkout, not through the
#: editable install's import hook, which it does not run.
ROOT = Path(__file__).resolve().parents[2]


def test_stub_matches_the_compiled_module(tmp_path):
    config = tmp_path / "mypy.ini"
    # The package's other modules import Django, which ships no type stubs.
    config.write_text("[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "dwebsocket_c._core",
         "--mypy-config-file", str(config), "--allowlist", str(ALLOWLIST),
         "--ignore-unused-allowlist"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_stub_types_a_user_program(tmp_path):
    program = tmp_path / "user.py"
    program.write_text(
        "from dwebsocket_c import _core\n"
        "parser = _core.FrameParser(max_message_size=None)\n"
        "parser.feed(b'')\n"
        "for opcode, payload in parser:\n"
        "    reveal_type(payload)\n"
        "_core.apply_mask(b'abc', b'abcd', offset='x')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--ignore-missing-imports",
         str(program)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    out = result.stdout
    assert 'Revealed type is "builtins.bytes"' in out or 'Revealed type is "bytes"' in out, out
    # The wrong offset type is caught: the stub is really used.
    assert 'Argument "offset" to "apply_mask" has incompatible type "str"' in out, out


def test_package_type_checks():
    """The Python layer type-checks against the stub and the standard library."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--ignore-missing-imports", "dwebsocket_c"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
