"""A rehearsal of the workflows on this machine: their own jobs and `run:` steps, read from
.github/workflows/*.yml, in job order, against the fake Fly (tests/fakes/fake_flyctl.py).

What GitHub does around the steps is done here as GitHub does it, for the parts the workflows
use: events and the `github` context, `${{ }}` expressions (contexts, ==, !=, &&, ||, !,
contains(), always() and the other status functions), job `needs`, `if` and `outputs`, step `if`,
`id` and `$GITHUB_OUTPUT`, `env` at each level, secrets and variables, and concurrency groups.
Each job gets a fresh runner (its own HOME and RUNNER_TEMP); artifacts pass between jobs. The
actions are stood in for: checkout (the steps run in a copy of the repository), setup-flyctl
(puts the fake flyctl on PATH, and checks the version asked for is the recorded one),
build-push-action (writes a small OCI archive for the commit, whose health the scenario
decides), upload/download-artifact, setup-uv, setup-buildx and github-script (no-ops, the last
recording its comment). docker, make e2e and uv come from tests/fakes/standins.py; skopeo and gh
are the fakes of the same name. Fly's proxy is a local HTTP server answering /<app>/healthz from
the fake's state, reached through FLY_APP_URL_PATTERN (scripts/lib/fly.sh).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from tests.fakes.fake_flyctl import FakeFly, write_oci_archive
from tests.fakes.fake_gh import FakeGitHub
from tests.fakes.shapes import record

ROOT = Path(__file__).resolve().parent.parent
FAKES = ROOT / "tests" / "fakes"
# What a workflow's steps read from the checkout.
CHECKOUT_PARTS = ["scripts", "fly.toml", "fly.qa.toml", ".github", "site", "blog/content/dates.py"]
STEP_TIMEOUT = 120


# --- ${{ }} expressions ---------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),\[\]])"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.(?:\*|[A-Za-z_][\w-]*))*))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read expression {text!r} at {text[position:]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def truthy(value) -> bool:
    return value not in (None, "", False, 0) and value != []


def text_of(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class Expression:
    """One expression, evaluated against contexts (a dict of dicts) and status functions."""

    def __init__(self, text: str, contexts: dict, status: dict):
        self.tokens = tokenize(text)
        self.position = 0
        self.contexts = contexts
        self.status = status

    def evaluate(self):
        value = self.either()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]}")
        return value

    def peek(self):
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self):
        token = self.tokens[self.position]
        self.position += 1
        return token

    def either(self):
        value = self.both()
        while self.peek() == "||":
            self.take()
            other = self.both()
            value = value if truthy(value) else other
        return value

    def both(self):
        value = self.negation()
        while self.peek() == "&&":
            self.take()
            other = self.negation()
            value = other if truthy(value) else value
        return value

    def negation(self):
        if self.peek() == "!":
            self.take()
            return not truthy(self.negation())
        return self.comparison()

    def comparison(self):
        value = self.primary()
        if self.peek() in {"==", "!="}:
            operator = self.take()[1]
            other = self.primary()
            equal = text_of(value).lower() == text_of(other).lower()
            return equal if operator == "==" else not equal
        return value

    def primary(self):
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text) if "." in text else int(text)
        if text == "(":
            value = self.either()
            assert self.take()[1] == ")"
            return value
        if kind == "name" and self.peek() == "(":
            self.take()
            arguments = []
            while self.peek() != ")":
                arguments.append(self.either())
                if self.peek() == ",":
                    self.take()
            self.take()
            return self.call(text, arguments)
        if text in {"true", "false"}:
            return text == "true"
        if text == "null":
            return None
        return self.lookup(text)

    def call(self, name: str, arguments: list):
        if name in self.status:
            return self.status[name]()
        if name == "contains":
            haystack, needle = arguments
            if isinstance(haystack, list):
                return any(text_of(item).lower() == text_of(needle).lower() for item in haystack)
            return text_of(needle).lower() in text_of(haystack).lower()
        if name == "startsWith":
            return text_of(arguments[0]).lower().startswith(text_of(arguments[1]).lower())
        raise ValueError(f"the rehearsal does not know the function {name}()")

    def lookup(self, path: str):
        parts = path.split(".")
        values = [self.contexts.get(parts[0], {})]
        spread = False
        for part in parts[1:]:
            if part == "*":
                spread = True
                values = [item for value in values for item in (value or [])]
                continue
            values = [value.get(part) if isinstance(value, dict) else None for value in values]
        return values if spread else values[0]


def evaluate(text: str, contexts: dict, status: dict | None = None):
    return Expression(text, contexts, status or {}).evaluate()


def substitute(value, contexts: dict):
    """A workflow value with each ${{ }} replaced (a whole-expression value keeps its type)."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{\{(.*?)\}\}", value.strip(), re.DOTALL)
    if whole and value.count("${{") == 1:
        return evaluate(whole.group(1), contexts)
    return re.sub(
        r"\$\{\{(.*?)\}\}", lambda match: text_of(evaluate(match.group(1), contexts)), value
    )


# --- Fly's proxy, for /healthz -------------------------------------------------------------------


class FlyProxy:
    """Answers http://127.0.0.1:PORT/<app>/healthz as the app's machines would: the release of a
    started machine with passing checks, else 503."""

    def __init__(self, fly: FakeFly):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body = proxy.answer(self.path)
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.fly = fly
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.pattern = f"http://127.0.0.1:{self.server.server_address[1]}/{{app}}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str) -> tuple[int, str]:
        match = re.fullmatch(r"/([a-z0-9-]+)/healthz", path)
        state = self.fly.state()
        app = state["apps"].get(match.group(1)) if match else None
        if app is None:
            return 404, "no such app"
        images = state.get("images", {})
        for machine in app["machines"]:
            image = images.get(machine.get("digest"), {})
            healthy = machine.get("healthy", image.get("healthy", True))
            if machine.get("state") == "started" and healthy:
                return 200, f"ok release={image.get('sha', 'unknown')} region=fra"
        return 503, "no healthy machine"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- Runs -----------------------------------------------------------------------------------------


@dataclass
class JobResult:
    name: str
    result: str  # success, failure, skipped, cancelled
    outputs: dict = field(default_factory=dict)
    log: str = ""


@dataclass
class Run:
    workflow: str
    event: str
    sha: str
    jobs: dict[str, JobResult] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    def result(self, job: str) -> str:
        return self.jobs[job].result

    def results(self) -> dict[str, str]:
        return {name: job.result for name, job in self.jobs.items()}

    def log(self, job: str) -> str:
        return self.jobs[job].log

    @property
    def green(self) -> bool:
        return all(job.result in {"success", "skipped"} for job in self.jobs.values())


class Rehearsal:
    """A repository with its secrets and variables, a fake Fly and a fake GitHub, and runs of
    its workflows. Scenarios arrange the world, push, and look at what the runs did."""

    def __init__(self, directory: Path, secrets: dict | None = None, variables: dict | None = None):
        self.directory = directory
        self.checkout = directory / "checkout"
        for part in CHECKOUT_PARTS:
            source = ROOT / part
            target = self.checkout / part
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        self.fly = FakeFly(directory, token=None)
        self.fly.update(registry={})  # images must be pushed before they can be deployed
        self.github = FakeGitHub(directory)
        self.secrets = dict(secrets or {})
        self.variables = dict(variables or {})
        self.state_path = directory / "rehearsal.json"
        self.state_path.write_text(json.dumps({"unit_tests_fail": [], "e2e_fails": []}))
        self.log_path = directory / "rehearsal-calls.jsonl"
        self.runner_bin = directory / "runner-bin"
        self.runner_bin.mkdir()
        for tool in ("docker", "make", "uv"):
            (self.runner_bin / tool).symlink_to(FAKES / "runner-bin" / tool)
        (self.runner_bin / "skopeo").symlink_to(FakeFly.bin_dir / "skopeo")
        (self.runner_bin / "gh").symlink_to(FakeGitHub.bin_dir / "gh")
        # A runner's python3 is a plain interpreter (a version manager's shim here costs a few
        # tenths of a second a call, and the fakes are called hundreds of times).
        (self.runner_bin / "python3").symlink_to(sys.executable)
        self.flyctl_bin = directory / "flyctl-bin"
        self.flyctl_bin.mkdir()
        (self.flyctl_bin / "flyctl").symlink_to(FakeFly.bin_dir / "flyctl")
        self.proxy = FlyProxy(self.fly)
        self.artifacts = directory / "artifacts"
        self.runs: list[Run] = []
        self.image_health: dict[str, dict] = {}
        self.counter = 0

    def close(self):
        self.proxy.close()

    # What the scenario decides about a commit.

    def commit(self, sha: str, healthy: bool = True, release_fails: bool = False) -> str:
        self.image_health[sha] = {"healthy": healthy, "release_fails": release_fails}
        return sha

    def fail_unit_tests(self, sha: str) -> None:
        state = json.loads(self.state_path.read_text())
        state["unit_tests_fail"].append(sha)
        self.state_path.write_text(json.dumps(state))

    def load(self, name: str) -> dict:
        workflow = yaml.safe_load((self.checkout / ".github" / "workflows" / name).read_text())
        workflow["on"] = workflow.pop(True, workflow.get("on"))
        return workflow

    # Events.

    def push(self, sha: str, workflow: str = "pipeline.yml") -> Run:
        return self.run(workflow, "push", sha, {"ref": "refs/heads/main"})

    def pull_request(
        self, number: int, action: str, sha: str, labels=("preview",), label=None
    ) -> Run:
        event = {
            "action": action,
            "number": number,
            "pull_request": {
                "number": number,
                "labels": [{"name": name} for name in labels],
                "head": {"repo": {"full_name": "octo/my-blog"}, "sha": sha},
            },
        }
        if label:
            event["label"] = {"name": label}
        return self.run(
            "preview.yml", "pull_request", sha, {"ref": f"refs/pull/{number}/merge"}, event
        )

    def schedule(self, sha: str) -> Run:
        return self.run("preview.yml", "schedule", sha, {"ref": "refs/heads/main"})

    def concurrency(self, workflow: dict, contexts: dict) -> tuple[str, bool]:
        settings = workflow.get("concurrency") or {}
        group = text_of(substitute(settings.get("group", ""), contexts))
        cancel = truthy(substitute(settings.get("cancel-in-progress", False), contexts))
        return group, cancel

    def pushes_close_together(self, first: str, second: str, arrives_during: str = "qa"):
        """Two pushes to main: the second arrives while the first run's job `arrives_during`
        runs. GitHub then cancels the first (cancel-in-progress) or queues the second."""
        workflow = self.load("pipeline.yml")
        contexts = self.base_contexts(workflow, "push", second, {"ref": "refs/heads/main"}, {})
        first_group, _ = self.concurrency(
            workflow, self.base_contexts(workflow, "push", first, {"ref": "refs/heads/main"}, {})
        )
        second_group, cancel = self.concurrency(workflow, contexts)
        interrupt = arrives_during if first_group == second_group and cancel else None
        earlier = self.run("pipeline.yml", "push", first, {"ref": "refs/heads/main"},
                           cancel_after=interrupt)  # fmt: skip
        later = self.push(second)
        return earlier, later

    # Running a workflow.

    def base_contexts(self, workflow, event_name, sha, github, event) -> dict:
        contexts = {
            "github": {
                "event_name": event_name,
                "sha": sha,
                "repository": "octo/my-blog",
                "token": "ghs_fake_token",
                "event": event,
                **github,
            },
            "secrets": self.secrets,
            "vars": self.variables,
            "runner": {"temp": "$RUNNER_TEMP"},
        }
        contexts["env"] = {
            name: text_of(substitute(value, contexts))
            for name, value in (workflow.get("env") or {}).items()
        }
        return contexts

    def run(self, name, event_name, sha, github, event=None, cancel_after=None) -> Run:
        workflow = self.load(name)
        contexts = self.base_contexts(workflow, event_name, sha, github, event or {})
        run = Run(name, event_name, sha)
        self.runs.append(run)
        cancelled = False
        for job_name in job_order(workflow["jobs"]):
            job = workflow["jobs"][job_name]
            if cancelled:
                run.jobs[job_name] = self.run_job(run, job_name, job, contexts, only_if_always=True)
                continue
            run.jobs[job_name] = self.run_job(run, job_name, job, contexts)
            if job_name == cancel_after:
                cancelled = True
        return run

    def run_job(self, run, job_name, job, workflow_contexts, only_if_always=False) -> JobResult:
        needed = [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", [])
        results = {name: run.jobs[name] for name in needed}
        contexts = dict(workflow_contexts)
        contexts["needs"] = {
            name: {"result": result.result, "outputs": result.outputs}
            for name, result in results.items()
        }
        status = {
            "always": lambda: True,
            "success": lambda: all(r.result == "success" for r in results.values()),
            "failure": lambda: any(r.result == "failure" for r in results.values()),
            "cancelled": lambda: only_if_always,
        }
        condition = str(job.get("if", "success()"))
        condition = re.sub(r"^\$\{\{(.*)\}\}$", r"\1", condition.strip(), flags=re.DOTALL)
        uses_status = re.search(r"\b(always|success|failure|cancelled)\(\)", condition)
        if only_if_always and not re.search(r"\balways\(\)", condition):
            return JobResult(job_name, "cancelled")
        allowed = truthy(evaluate(condition, contexts, status))
        if not uses_status:
            allowed = allowed and status["success"]()
        if not allowed:
            return JobResult(job_name, "skipped")
        self.counter += 1
        runner = self.directory / f"runner-{self.counter}-{job_name}"
        (runner / "home").mkdir(parents=True)
        (runner / "temp").mkdir()
        env = {
            key: value
            for key, value in os.environ.items()
            if key in {"LANG", "LC_ALL", "PYTHON", "TMPDIR"}
        }
        env |= {
            "PATH": f"{self.runner_bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(runner / "home"),
            "RUNNER_TEMP": str(runner / "temp"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_SHA": run.sha,
            "GITHUB_REPOSITORY": "octo/my-blog",
            "GITHUB_EVENT_NAME": run.event,
            "GITHUB_REF": contexts["github"]["ref"],
            "FAKE_FLY_STATE": str(self.fly.state_path),
            "FAKE_FLY_LOG": str(self.fly.log_path),
            "FAKE_GH_STATE": str(self.github.state_path),
            "FAKE_GH_LOG": str(self.github.log_path),
            "REHEARSAL_STATE": str(self.state_path),
            "REHEARSAL_LOG": str(self.log_path),
            "FLY_APP_URL_PATTERN": self.proxy.pattern,
            "POLL_INTERVAL": "0",
            "PYTHON": sys.executable,
        }
        env |= contexts["env"]
        contexts = contexts | {"runner": {"temp": str(runner / "temp")}}
        job_env = {
            name: text_of(substitute(value, contexts))
            for name, value in (job.get("env") or {}).items()
        }
        env |= job_env
        contexts["env"] = {**contexts["env"], **job_env}
        contexts["steps"] = {}
        log, failed = [], False
        for step in job.get("steps", []):
            step_status = {
                "always": lambda: True,
                "success": lambda failed=failed: not failed,
                "failure": lambda failed=failed: failed,
                "cancelled": lambda: False,
            }
            condition = str(step.get("if", "success()"))
            step_allowed = truthy(evaluate(condition, contexts, step_status))
            if not re.search(r"\b(always|success|failure|cancelled)\(\)", condition):
                step_allowed = step_allowed and not failed
            if not step_allowed:
                continue
            outcome, outputs, text = self.run_step(run, step, env, contexts, runner)
            log.append(text)
            if step.get("id"):
                contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": outcome}
            if outcome == "failure":
                failed = True
            if "flyctl" in step.get("uses", "") and outcome == "success":
                env["PATH"] = f"{self.flyctl_bin}{os.pathsep}{env['PATH']}"
        outputs = {
            name: text_of(substitute(value, contexts))
            for name, value in (job.get("outputs") or {}).items()
        }
        return JobResult(job_name, "failure" if failed else "success", outputs, "\n".join(log))

    def run_step(self, run, step, env, contexts, runner) -> tuple[str, dict, str]:
        step_env = env | {
            name: text_of(substitute(value, contexts))
            for name, value in (step.get("env") or {}).items()
        }
        if "run" in step:
            output_file = runner / "temp" / f"output-{self.counter}-{len(contexts['steps'])}"
            output_file.write_text("")
            script = runner / "step.sh"
            script.write_text(step["run"])
            try:
                result = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                    cwd=self.checkout,
                    env=step_env | {"GITHUB_OUTPUT": str(output_file)},
                    capture_output=True,
                    text=True,
                    timeout=STEP_TIMEOUT,
                )
            except subprocess.TimeoutExpired as error:
                return "failure", {}, f"$ {step['run']}\n(timed out: {error})"
            text = f"$ {step.get('name', step['run'])}\n{result.stdout}{result.stderr}"
            return (
                "success" if result.returncode == 0 else "failure",
                read_outputs(output_file.read_text()),
                text,
            )
        return self.use_action(run, step, contexts, runner)

    def use_action(self, run, step, contexts, runner) -> tuple[str, dict, str]:
        action = step["uses"].split("@")[0]
        inputs = {
            name: substitute(value, contexts) for name, value in (step.get("with") or {}).items()
        }
        if action in {"actions/checkout", "docker/setup-buildx-action", "astral-sh/setup-uv"}:
            return "success", {}, f"[{action}]"
        if action == "superfly/flyctl-actions/setup-flyctl":
            wanted = text_of(inputs.get("version"))
            if wanted != record()["flyctl"]["version"]:
                return "failure", {}, f"setup-flyctl: {wanted} is not the recorded flyctl"
            return "success", {}, f"[setup-flyctl {wanted}]"
        if action == "docker/build-push-action":
            if inputs.get("load"):
                return "success", {}, "[built the test stage]"
            match = re.fullmatch(r"type=oci,dest=(\S+)", text_of(inputs.get("outputs")))
            if not match:
                return (
                    "failure",
                    {},
                    f"build-push-action: the rehearsal builds OCI archives only, not {inputs}",
                )
            self.counter += 1
            digest = write_oci_archive(Path(match.group(1)), f"{run.sha}-{self.counter}")
            health = self.image_health.get(run.sha, {"healthy": True, "release_fails": False})
            state = self.fly.state()
            state.setdefault("images", {})[digest] = health | {"sha": run.sha}
            self.fly.update(images=state["images"])
            return "success", {"digest": digest}, f"[built {digest}]"
        if action == "actions/upload-artifact":
            source = Path(text_of(inputs["path"]))
            if not source.exists():
                return "success", {}, "[nothing to upload]"
            target = self.artifacts / f"{len(self.runs)}-{inputs['name']}"
            if target.exists() and not inputs.get("overwrite"):
                return "failure", {}, f"upload-artifact: {inputs['name']} exists"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            shutil.copy2(source, target / source.name) if source.is_file() else shutil.copytree(
                source, target / source.name
            )
            return "success", {}, f"[uploaded {inputs['name']}]"
        if action == "actions/download-artifact":
            source = self.artifacts / f"{len(self.runs)}-{inputs['name']}"
            if not source.is_dir():
                return "failure", {}, f"download-artifact: no artifact {inputs['name']}"
            destination = Path(text_of(inputs["path"]))
            destination.mkdir(parents=True, exist_ok=True)
            for item in source.iterdir():
                shutil.copy2(item, destination / item.name)
            return "success", {}, f"[downloaded {inputs['name']}]"
        if action == "actions/github-script":
            env = {
                name: text_of(substitute(v, contexts))
                for name, v in (step.get("env") or {}).items()
            }
            run.comments.append(env.get("URL", ""))
            return "success", {}, "[commented]"
        return "failure", {}, f"the rehearsal has no stand-in for {action}"


def read_outputs(text: str) -> dict[str, str]:
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delimiter = line.split("<<", 1)
            value = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, _, value = line.partition("=")
            outputs[name] = value
    return outputs


def job_order(jobs: dict) -> list[str]:
    """The jobs in an order that runs each after the jobs it needs (the file's order otherwise)."""
    done: list[str] = []
    pending = list(jobs)
    while pending:
        for name in pending:
            needed = jobs[name].get("needs", [])
            needed = [needed] if isinstance(needed, str) else needed
            if all(other in done for other in needed):
                done.append(name)
                pending.remove(name)
                break
        else:
            raise ValueError(f"jobs with circular or unknown needs: {pending}")
    return done
