"""Security promises of issue #7 that need a running knotd (the others are
unit tests; doc/hardening.md maps each promise to its tests).

- The API token is read once, kept in memory, and never written anywhere:
  not in knotd's log or stderr, not in the module's state files, not in any
  other file under knotd's directories, whatever happens (a dry run; the API
  refusing the token with 401 and 403).
- State files are private (mode 0600) and written atomically: no temporary
  file is ever left next to them (nor next to the public status file).
"""
import os
import stat

import pytest

from sync_helpers import CHECK_INTERVAL, MARGIN, TOKEN_FILE
from sync_helpers import sync_knot_factory, sync_pair_factory  # noqa: F401 (fixtures)


def files_under(top, skip):
    """Every regular file below top but skip, as (path, bytes)."""
    for root, _, names in os.walk(top):
        for name in names:
            path = os.path.join(root, name)
            if path != skip and os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    yield path, f.read()


def leaks(token, texts):
    """Where the token, or a long enough piece of it, shows."""
    pieces = {token, token[:12], token[-12:]} if len(token) >= 24 else {token}
    return [(where, p) for where, data in texts for p in pieces if p.encode() in data]


def check_state_dir(pair, dry_run):
    """The state file (none in a dry run) is private, the status file public
    by design (doc/mod-multisigner.rst, Status), the directory private; no
    temporary file is left next to them."""
    d = os.path.join(pair.knot.dir, "multisigner")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    want = {f"{pair.zone}.status": 0o644}
    if not dry_run:
        want[f"{pair.zone}.json"] = 0o600
    names = sorted(os.listdir(d))
    assert names == sorted(want), f"state dir holds {names}: a temporary file left?"
    for name, mode in want.items():
        got = stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode)
        assert got == mode, f"{name} has mode {got:04o}, not {mode:04o}"


@pytest.mark.parametrize("dry_run", [False, True], ids=["sync", "dry-run"])
def test_token_never_leaves_memory(sync_pair_factory, dry_run):
    pair = sync_pair_factory(module_items={"dry_run": dry_run})
    token = pair.cf.token
    token_path = os.path.join(pair.knot.dir, TOKEN_FILE)

    # A full pass with the token accepted: state written (not in a dry run).
    pair.wait(lambda: pair.stat("sync-passes") >= 1, 2 * CHECK_INTERVAL + MARGIN,
              "a first sync pass")
    if not dry_run:
        pair.wait(lambda: f"{pair.zone}.json" in "".join(pair.state_files()),
                  pair.keys_timeout, "a state file")

    # The API refuses the token: 401 (as for a malformed token), then 403 for
    # good (revoked). Both end up in the log, with the API's error message.
    pair.cf.add_fault("status", status=401, code=10000, message="Authentication error",
                      count=3)
    pair.wait(lambda: any("HTTP 401" in ln for ln in pair.module_lines()),
              CHECK_INTERVAL + MARGIN, "a log line about the 401")
    pair.cf.clear_faults()
    pair.cf.revoke_token(token)
    pair.wait(lambda: any("HTTP 403" in ln for ln in pair.module_lines()),
              CHECK_INTERVAL + MARGIN, "a log line about the 403")
    pair.knot.stop()

    found = leaks(token, [("knotd.log", pair.knot.read_log().encode()),
                          ("knotd stderr", pair.knot.read_stderr().encode())]
                  + list(files_under(pair.knot.dir, skip=token_path)))
    assert found == [], f"the API token shows in {found}"
    check_state_dir(pair, dry_run)


def test_token_is_read_once(sync_pair_factory):
    """The token file is read when the configuration is loaded, not per pass:
    once knotd runs, removing the file changes nothing until the next reload."""
    pair = sync_pair_factory(module_items={"dry_run": True})
    pair.wait(lambda: pair.stat("sync-passes") >= 1, 2 * CHECK_INTERVAL + MARGIN,
              "a first sync pass")
    failures, passes = pair.stat("api-failures"), pair.stat("sync-passes")
    os.unlink(os.path.join(pair.knot.dir, TOKEN_FILE))
    pair.wait(lambda: pair.stat("sync-passes") >= passes + 2, 2 * CHECK_INTERVAL + MARGIN,
              "two more sync passes")
    assert pair.stat("api-failures") == failures
    assert not [ln for ln in pair.module_lines() if TOKEN_FILE in ln], \
        "the module went back to the token file"
