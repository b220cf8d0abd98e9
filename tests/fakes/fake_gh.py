"""A fake GitHub CLI (`gh`) that records its calls and keeps a repository's Actions settings.

GitHub cannot be reached from CI, so scripts that set Actions secrets and variables (the fork's
bootstrap) are tested against this stand-in on PATH (tests/fakes/gh-bin/gh runs it). Like the
fake flyctl it keeps its world in a JSON state file and appends one JSON line per call to a log;
a secret's value is kept in the state, never in the log, so a test can check that a value arrived
and that it never travelled on a command line.

Environment:
    FAKE_GH_STATE  path of the state file (required; a missing file is a logged-out gh)
    FAKE_GH_LOG    path of the call log (default: the state file's path + ".calls.jsonl")

State (JSON): {"logged_in": true, "repo": "octo/my-blog",
               "secrets": {"NAME": "value"}, "variables": {"NAME": "value"},
               "pull_requests": {"42": "OPEN"}}  # or CLOSED, MERGED

Behaviours reproduced (gh 2.x): `auth status` fails when logged out; `secret set NAME` reads the
value from standard input when --body is not given; `secret list --json name` lists names only;
`repo view --json nameWithOwner` names the repository the checkout's remote points at;
`pr view N --json state --jq .state` prints OPEN, CLOSED or MERGED, and fails for an unknown N.
"""

import json
import os
import sys
from pathlib import Path


class GhError(Exception):
    """A failure gh prints to standard error and exits 1 on."""


def parse(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    words: list[str] = []
    flags: dict[str, str] = {}
    index = 0
    value_flags = {"--repo": "repo", "-R": "repo", "--body": "body", "-b": "body", "--json": "json"}
    value_flags |= {"--jq": "jq", "-q": "jq", "--env": "env", "-e": "env"}
    while index < len(argv):
        token = argv[index]
        index += 1
        if not token.startswith("-"):
            words.append(token)
            continue
        name, has_value, inline = token.partition("=")
        if name not in value_flags:
            raise GhError(f"unknown flag: {name}")
        if has_value:
            flags[value_flags[name]] = inline
        elif index < len(argv):
            flags[value_flags[name]] = argv[index]
            index += 1
        else:
            raise GhError(f"flag needs an argument: {name}")
    return words, flags


def run(state: dict, words: list[str], flags: dict[str, str], out: list[str]) -> bool:
    """Carry out one call; True when it read standard input."""
    command = " ".join(words[:2])
    if command == "auth status":
        if not state.get("logged_in"):
            raise GhError("You are not logged into any GitHub hosts. To log in, run: gh auth login")
        out.append("github.com\n  ✓ Logged in to github.com account octo (keyring)")
        return False
    if not state.get("logged_in"):
        raise GhError("To get started with GitHub CLI, please run:  gh auth login")
    repo = state.get("repo")
    if not repo:
        raise GhError("no git remotes found")
    if flags.get("repo", repo) != repo:
        raise GhError(f"HTTP 404: Not Found (https://api.github.com/repos/{flags['repo']})")
    if command == "repo view":
        if flags.get("json") != "nameWithOwner":
            raise GhError("this fake answers only --json nameWithOwner")
        value = {"nameWithOwner": repo}
        out.append(repo if flags.get("jq") == ".nameWithOwner" else json.dumps(value))
        return False
    if command == "pr view":
        number = words[2] if len(words) > 2 else ""
        state_of = state.get("pull_requests", {}).get(number)
        if state_of is None:
            raise GhError(
                f"GraphQL: Could not resolve to a PullRequest with the number of {number}."
            )
        if flags.get("json") != "state" or flags.get("jq") != ".state":
            raise GhError("this fake answers only --json state --jq .state")
        out.append(state_of)
        return False
    kind = {"secret": "secrets", "variable": "variables"}.get(words[0])
    action = words[1] if len(words) > 1 else ""
    if kind is None:
        raise GhError(f'unknown command "{words[0]}" for "gh"')
    store = state.setdefault(kind, {})
    if action == "list":
        if flags.get("json") not in ("name", "name,value" if kind == "variables" else "name"):
            raise GhError("this fake answers only --json name")
        out.append(json.dumps([{"name": name} for name in sorted(store)]))
        return False
    if action == "set":
        if len(words) < 3:
            raise GhError(f"must pass name argument to {words[0]} set")
        read_stdin = "body" not in flags
        value = sys.stdin.read() if read_stdin else flags["body"]
        if not value:
            raise GhError("a value is required (on standard input or with --body)")
        store[words[2]] = value.rstrip("\n") if read_stdin else value
        out.append(f"✓ Set Actions {words[0]} {words[2]} for {repo}")
        return read_stdin
    raise GhError(f'unknown command "{action}" for "gh {words[0]}"')


class FakeGitHub:
    """Test-side handle on the fake: arrange the repository, put gh on PATH, read its log."""

    bin_dir = Path(__file__).resolve().parent / "gh-bin"

    def __init__(self, directory: Path, logged_in: bool = True, repo: str = "octo/my-blog"):
        directory = directory.resolve()
        self.state_path = directory / "gh-state.json"
        self.log_path = directory / "gh-calls.jsonl"
        state = {"logged_in": logged_in, "repo": repo, "secrets": {}, "variables": {}}
        self.state_path.write_text(json.dumps(state))

    def set_pull_request(self, number: int, state: str) -> None:
        data = self.state()
        data.setdefault("pull_requests", {})[str(number)] = state
        self.state_path.write_text(json.dumps(data))

    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def secrets(self) -> dict[str, str]:
        return self.state()["secrets"]

    def calls(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def commands(self) -> list[str]:
        return [" ".join(call["argv"]) for call in self.calls()]

    def env(self, base: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["FAKE_GH_STATE"] = str(self.state_path)
        env["FAKE_GH_LOG"] = str(self.log_path)
        return env


def main(argv: list[str]) -> int:
    state_path = os.environ.get("FAKE_GH_STATE")
    if not state_path:
        print("fake gh: set FAKE_GH_STATE to the state file's path", file=sys.stderr)
        return 2
    path = Path(state_path)
    state = json.loads(path.read_text()) if path.exists() else {}
    out: list[str] = []
    status, read_stdin = 0, False
    try:
        words, flags = parse(argv)
        if not words:
            raise GhError("usage: gh <command> <subcommand> [flags]")
        read_stdin = run(state, words, flags, out)
        path.write_text(json.dumps(state, indent=2, sort_keys=True))
    except GhError as error:
        print(error, file=sys.stderr)
        status = 1
    finally:
        record = {"argv": argv, "stdin": read_stdin, "exit": status}
        log_path = Path(os.environ.get("FAKE_GH_LOG") or state_path + ".calls.jsonl")
        with log_path.open("a") as log:
            log.write(json.dumps(record) + "\n")
    if out:
        print("\n".join(out))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
