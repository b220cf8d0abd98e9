"""A fake `skopeo` that pushes OCI archives into the fake Fly's registry (fake_flyctl.py).

Only what scripts/fly-push-image uses: `copy [--quiet] --preserve-digests oci-archive:FILE
docker://registry.fly.io/APP:TAG` and `inspect --format '{{.Digest}}' docker://...`. Credentials
come from $HOME/.docker/config.json as `flyctl auth docker` leaves them (x:<token>), and a push is
allowed only where that token may deploy: an org token for its organisation's apps, a deploy
token for its own app. The manifest digest travels unchanged, as --preserve-digests promises.
"""

import base64
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_flyctl import FlyError, World, record_push, split_image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "lib"))
from fly_query import archive_digest


def registry_token() -> str:
    path = Path(os.environ.get("HOME", "/nonexistent")) / ".docker" / "config.json"
    try:
        auth = json.loads(path.read_text())["auths"]["registry.fly.io"]["auth"]
    except (OSError, KeyError, ValueError):
        raise FlyError("authentication required (no credential for registry.fly.io)") from None
    # docker login writes standard base64, flyctl's own fallback base64url: read either.
    auth = auth.replace("-", "+").replace("_", "/")
    return base64.b64decode(auth + "=" * (-len(auth) % 4)).decode().partition(":")[2]


def repository(reference: str) -> tuple[str, str]:
    if not reference.startswith("docker://registry.fly.io/"):
        raise FlyError(f"this fake pushes only to registry.fly.io, not {reference}")
    _, app, tag, _ = split_image(reference.removeprefix("docker://"))
    return app, tag


def main(argv: list[str]) -> int:
    os.environ["FLY_API_TOKEN"] = ""
    try:
        words = [word for word in argv if word != "--quiet"]
        if words[:1] == ["copy"]:
            if "--preserve-digests" not in words:
                raise FlyError("the fake insists on --preserve-digests")
            source, target = [word for word in words[1:] if not word.startswith("--")]
            if not source.startswith("oci-archive:"):
                raise FlyError(f"unsupported source {source}")
            digest = archive_digest(source.removeprefix("oci-archive:"))
            os.environ["FLY_API_TOKEN"] = registry_token()
            world = World(Path(os.environ["FAKE_FLY_STATE"]))
            app, tag = repository(target)
            world.app(app)  # exists, and the token may act on it
            record_push(world.data, app, tag, digest)
            world.save()
            print(f"Writing manifest to image destination\n{digest}", file=sys.stderr)
            return 0
        if words[:1] == ["inspect"]:
            os.environ["FLY_API_TOKEN"] = registry_token()
            world = World(Path(os.environ["FAKE_FLY_STATE"]))
            app, tag = repository(words[-1])
            world.app(app)
            digest = world.data.get("registry", {}).get(app, {}).get("tags", {}).get(tag)
            if not digest:
                raise FlyError(f"manifest unknown: {app}:{tag}")
            print(digest)
            return 0
        raise FlyError(f"the fake skopeo does not do {' '.join(argv)!r}")
    except FlyError as error:
        print(f"FATA[0000] {error}", file=sys.stderr)
        return 1
    except SystemExit as error:
        print(f"FATA[0000] {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
