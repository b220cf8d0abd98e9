"""Generated bad input at every public URL pattern and the admin login: never a 5xx, never an
exception.

Hypothesis builds the requests: paths (unicode, %00, broken escapes, dot segments, double
slashes, very long), query strings, headers (Host, Accept-Encoding, If-None-Match,
If-Modified-Since, oversized cookies, X-Forwarded-Proto) and form bodies. Django's test client
re-raises any exception a view lets escape, so an escaped exception fails the test as surely as a
5xx does. Each test's example budget is fixed and the runs are derandomized, so CI sees the same
requests every time; the total is printed at the end of the module.
"""

import datetime
import email.utils
import logging
import os
import string
from urllib.parse import quote, urlencode

import hypothesis
import pytest
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from tests.factories import (
    BlogPageFactory,
    DocPageFactory,
    every_block_body,
    make_private,
)

# slow: over 10,000 requests (make unit-fast leaves them out); fuzz: .ci/run's PostgreSQL pass
# runs them with a smaller FUZZ_SCALE.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.fuzz,
    pytest.mark.django_db,
    pytest.mark.usefixtures("fuzz_settings"),
]

ADMIN_LOGIN = "/admin/login/"
# Examples per test. Each example sends one request, except the login forms' examples, which
# send LOGIN_ATTEMPTS from one address (enough to reach the lockout). Together: over 10,000.
BUDGET = {
    "pages": 4400,
    "search": 1300,
    "conditional": 800,
    "login_get": 600,
    "login_post": 450,
    "bodies": 500,
}
LOGIN_ATTEMPTS = 6
SENT = {"requests": 0}
# FUZZ_SCALE=10 runs ten times the examples, for a deeper search before a release.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def examples(name: str) -> int:
    return max(1, round(BUDGET[name] * SCALE))


def fuzz(name: str):
    return hypothesis.settings(
        max_examples=examples(name),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# --- Content and settings -----------------------------------------------------------------


@pytest.fixture
def fuzz_settings(settings):
    """Production's request path: HTTPS redirect and page cache on, known host names, and a
    cheap password hasher (the slow one would spend the whole budget hashing)."""
    settings.SECURE_SSL_REDIRECT = True
    # tests/environment.py turns the cache off for tests that change content; these do not.
    settings.PAGE_CACHE_ENABLED = True
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def site_urls(django_user_model):
    """A small site: posts over two years and two pages of listings, tags, docs with a child,
    a draft and a private post. Returns every public URL it has."""
    django_user_model.objects.create_superuser("editor", "editor@example.com", "right-password")
    posts = [
        BlogPageFactory(
            title=f"Deploy note {number}",
            date=datetime.date(2025 + number % 2, 1 + number % 12, 1 + number),
            tags=["deploy", "Fly Machines"] if number % 2 else ["deploy"],
        )
        for number in range(12)
    ]
    posts.append(BlogPageFactory(title="Every block", body=every_block_body(), tags=["blocks"]))
    BlogPageFactory(title="Draft thoughts", live=False, tags=["draft-only"])
    private = make_private(BlogPageFactory(title="Members only"))
    guide = DocPageFactory(title="Guide")
    child = DocPageFactory(title="Guide step", parent=guide)
    return [
        "/",
        "/blog/",
        "/blog/tags/",
        "/blog/tags/deploy/",
        "/blog/tags/fly-machines/",
        "/blog/tags/draft-only/",
        "/blog/2025/",
        "/blog/2026/",
        "/blog/feed/rss/",
        "/blog/feed/atom/",
        "/blog/tags/deploy/feed/rss/",
        "/blog/tags/fly-machines/feed/atom/",
        *(post.url for post in posts[:3]),
        posts[-1].url,
        private.url,
        "/docs/",
        guide.url,
        child.url,
        "/search/",
        "/sitemap.xml",
        "/robots.txt",
        "/healthz",
        "/readyz",
        "/no-such-page/",
        "/static/css/site.css",
        "/media/images/missing.png",
        "/documents/1/missing.pdf",
        "/admin/",
        ADMIN_LOGIN,
    ]


# --- Strategies ---------------------------------------------------------------------------

# Header values as they reach Django over HTTP/1.1: printable Latin-1, no control characters.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
)
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
TRICKY_SEGMENTS = [
    "..",
    ".",
    "",
    "%00",
    "%2e%2e",
    "%2F",
    "%5C",
    "%ZZ",
    "%",
    "%C0%AF",
    "%FF%FE",
    "%E2%80%AE",
    "%F0%9F%9A%80",
    "~",
    ";",
    "index.php",
    ".env",
    "feed",
    "rss",
    "atom",
    "tags",
    "page",
    "2026",
    "0000",
    "-1",
    "99999999999999999999",
    "admin",
    "login",
]


def percent_encoded(text: str) -> str:
    return quote(text, safe="")


SEGMENT = st.one_of(
    st.sampled_from(TRICKY_SEGMENTS),
    ANY_TEXT.map(percent_encoded),
    # Raw, unencoded characters: the client encodes them as UTF-8, as a browser would.
    st.text(st.characters(codec="utf-8", exclude_characters="/?#"), max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=200, max_value=9000).map(lambda length: "x" * length),
)


@st.composite
def paths(draw, bases: list[str]) -> str:
    """A known URL, left alone or bent: extra or replaced segments, dot segments, doubled
    slashes, a missing trailing slash, upper case, or a very long tail."""
    path = draw(st.sampled_from(bases))
    how = draw(
        st.sampled_from(
            ["as-is", "append", "replace-last", "dots", "double-slash", "no-slash", "upper"]
        )
    )
    if how == "append":
        extra = draw(st.lists(SEGMENT, min_size=1, max_size=4))
        path = path.rstrip("/") + "/" + "/".join(extra) + draw(st.sampled_from(["", "/"]))
    elif how == "replace-last":
        head = path.rstrip("/").rsplit("/", 1)[0]
        path = f"{head}/{draw(SEGMENT)}/"
    elif how == "dots":
        path = path.rstrip("/") + draw(st.sampled_from(["/../", "/./", "/%2e%2e/", "/..%2F"]))
        path += draw(st.sampled_from(["", "admin/", "etc/passwd", "blog/"]))
    elif how == "double-slash":
        cut = draw(st.integers(min_value=0, max_value=len(path)))
        path = path[:cut] + "//" + path[cut:]
    elif how == "no-slash":
        path = path.rstrip("/") or "/"
    elif how == "upper":
        path = path.upper()
    if not path.startswith("/"):
        path = "/" + path
    return path


QUERY_VALUE = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", "0", "-1", "1.5", "abc", "%00", "\x00", "99999999999999999999999"]),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.integers(min_value=200, max_value=6000).map(lambda length: "q" * length),
)
QUERY_KEY = st.one_of(
    st.sampled_from(["q", "page", "next", "tag", "format", "q[]", "", "utm_source"]), ANY_TEXT
)


# What a reader, or someone probing the search backends' own query syntax, types into search.
SEARCH_TERMS = st.one_of(
    st.sampled_from(
        [
            "deploy",
            "deploy note",
            "Fly Machines",
            "AND OR NOT",
            '"',
            "'",
            "*",
            "\\",
            "%",
            "' OR 1=1 --",
            "deploy:*",
            "a & b | !c",
            "a <-> b",
            "NEAR(deploy note)",
            "title:deploy",
            "^deploy",
            "(((",
            "\x00deploy",
            "\u202edeploy",
            "\U0001f680 deploy",
            "d\u0308eploy",
            "deploy " * 40,
        ]
    ),
    ANY_TEXT,
    QUERY_VALUE,
    st.lists(st.sampled_from(["deploy", "fly", "-", '"', "*", "OR", "(", ")", ":"])).map(" ".join),
)


@st.composite
def query_strings(draw) -> str:
    kind = draw(st.sampled_from(["none", "page", "search", "pairs", "raw"]))
    if kind == "none":
        return ""
    if kind == "page":
        return "page=" + percent_encoded(draw(QUERY_VALUE))
    if kind == "search":
        pairs = [("q", draw(QUERY_VALUE))]
        if draw(st.booleans()):
            pairs.append(("page", draw(QUERY_VALUE)))
        return urlencode(pairs)
    if kind == "pairs":
        return urlencode(draw(st.lists(st.tuples(QUERY_KEY, QUERY_VALUE), max_size=8)))
    # Raw: separators and escapes as a broken client or a scanner sends them.
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["&", "=", ";", "%", "%00", "%ZZ", "+", "q=", "page=", "&&"]),
                st.text(string.printable.strip(), max_size=10),
            ),
            max_size=12,
        )
    )
    return "".join(parts).replace("#", "%23").replace(" ", "+")


HOSTS = st.one_of(
    st.sampled_from(["localhost", "127.0.0.1", "testserver", "localhost:8000"]),
    st.sampled_from(
        [
            "evil.example",
            "localhost.",
            "LOCALHOST",
            "localhost:abc",
            "localhost:99999999",
            "[::1",
            "[::1]:8000",
            "172.19.2.10:8000",
            "",
            "local host",
            "xn--80ak6aa92e.example",
            "localhost@evil.example",
            "a" * 300,
        ]
    ),
    HEADER_TEXT,
)
ACCEPT_ENCODINGS = st.one_of(
    st.sampled_from(
        [
            "gzip, deflate, br, zstd",
            "br",
            "gzip;q=1.0, identity; q=0.5, *;q=0",
            "br;q=0, gzip;q=0",
            "*",
            "identity;q=0",
            "gzip;q=abc",
            ",,,;;;",
        ]
    ),
    HEADER_TEXT,
)
ETAGS = st.one_of(
    st.sampled_from(["*", '"abc"', 'W/"abc"', 'W/"', '""', '"a", W/"b", *', "W/W/W/"]),
    HEADER_TEXT,
    st.integers(min_value=100, max_value=9000).map(lambda length: '"' + "e" * length + '"'),
)
HTTP_DATES = st.one_of(
    st.datetimes(
        min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)
    ).map(
        lambda moment: email.utils.format_datetime(moment.replace(tzinfo=datetime.UTC), usegmt=True)
    ),
    st.sampled_from(
        [
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "-1",
            "0",
            "yesterday",
        ]
    ),
    HEADER_TEXT,
)
COOKIE_PAIR = st.tuples(
    st.sampled_from(["sessionid", "csrftoken", "messages", "theme", "a", ""]),
    st.one_of(
        st.text(string.ascii_letters + string.digits, max_size=40),
        st.sampled_from(['"\\000\\000\\000\\000\\000\\000\\000\\000"', '"unterminated', "a;b"]),
        HEADER_TEXT,
    ),
).map(lambda pair: f"{pair[0]}={pair[1]}")
COOKIES = st.one_of(
    st.lists(COOKIE_PAIR, max_size=5).map("; ".join),
    # Oversized: far past what browsers send (about 4 kB a cookie), up to 64 kB in all.
    st.tuples(COOKIE_PAIR, st.integers(min_value=4_000, max_value=64_000)).map(
        lambda pair: f"{pair[0]}; big={'c' * pair[1]}"
    ),
)


@st.composite
def header_sets(draw, host_is_known: bool = False) -> dict[str, str]:
    """WSGI environ entries for the request's headers; each one present or not."""
    headers = {
        "HTTP_HOST": draw(HOSTS) if not host_is_known else "localhost",
        # Fly's proxy always says https; sometimes a request comes without it (a redirect).
        "HTTP_X_FORWARDED_PROTO": draw(
            st.one_of(st.just("https"), st.sampled_from(["http", "HTTPS", "", "https, http"]))
        ),
    }
    optional = {
        "HTTP_ACCEPT_ENCODING": ACCEPT_ENCODINGS,
        "HTTP_IF_NONE_MATCH": ETAGS,
        "HTTP_IF_MODIFIED_SINCE": HTTP_DATES,
        "HTTP_COOKIE": COOKIES,
        "HTTP_ACCEPT": HEADER_TEXT,
        "HTTP_ACCEPT_LANGUAGE": HEADER_TEXT,
        "HTTP_USER_AGENT": st.one_of(HEADER_TEXT, st.just("u" * 5000)),
        "HTTP_REFERER": HEADER_TEXT,
        "HTTP_X_FORWARDED_FOR": HEADER_TEXT,
        "HTTP_FLY_CLIENT_IP": HEADER_TEXT,
        "HTTP_RANGE": st.sampled_from(["bytes=0-10", "bytes=-5", "bytes=9999999-", "lines=1"]),
    }
    for name, values in optional.items():
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            headers[name] = draw(values)
    return headers


FORM_VALUE = st.one_of(
    QUERY_VALUE,
    st.sampled_from(["editor", "right-password", "/admin/", "//evil.example/", "javascript:"]),
)
FORM_FIELD = st.tuples(
    st.sampled_from(["username", "password", "next", "csrfmiddlewaretoken", "remember", "x"]),
    FORM_VALUE,
)
# A login form as browsers send it (username and password, sometimes more), or anything else.
LOGIN_FIELDS = st.one_of(
    st.tuples(
        st.tuples(st.just("username"), FORM_VALUE),
        st.tuples(st.just("password"), FORM_VALUE),
        st.lists(FORM_FIELD, max_size=2),
    ).map(lambda parts: [parts[0], parts[1], *parts[2]]),
    st.lists(FORM_FIELD, max_size=6),
)


@st.composite
def form_bodies(draw) -> tuple[bytes, str]:
    """(body, content type): urlencoded, multipart, JSON or junk, well or badly formed."""
    fields = draw(LOGIN_FIELDS)
    kind = draw(st.sampled_from(["urlencoded", "multipart", "broken-multipart", "json", "junk"]))
    if kind == "urlencoded":
        return urlencode(fields).encode(), "application/x-www-form-urlencoded"
    if kind == "multipart":
        boundary = "fuzzboundary"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields
        ]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8", "surrogatepass")
        return body, f"multipart/form-data; boundary={boundary}"
    if kind == "broken-multipart":
        boundary = draw(st.sampled_from(["", "x", "a" * 80, "fuzz boundary", "\u00e9"]))
        return draw(st.binary(max_size=300)), f"multipart/form-data; boundary={boundary}"
    if kind == "json":
        return repr(dict(fields)).encode("utf-8", "surrogatepass"), "application/json"
    return draw(st.binary(max_size=500)), draw(
        st.sampled_from(["application/x-www-form-urlencoded", "text/plain", "", "a/b; charset=x"])
    )


# --- Sending ------------------------------------------------------------------------------


def send(client: Client, method: str, path: str, query: str = "", **extra):
    """One request; fails on a 5xx (an escaped exception fails in the client already). Database
    writes (sessions, login attempts) are rolled back after it, so examples stay independent."""
    SENT["requests"] += 1
    url = f"{path}?{query}" if query else path
    with transaction.atomic():
        response = client.generic(method, url, **extra)
        transaction.set_rollback(True)
    return checked(response, method, url, extra)


def checked(response, method: str, url: str, extra: dict):
    assert response.status_code < 500, (method, url, extra.get("HTTP_HOST"), response)
    return response


@pytest.fixture(scope="module", autouse=True)
def report_total(request):
    start = SENT["requests"]
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nfuzz: {SENT['requests'] - start} generated requests sent")


# --- The tests ----------------------------------------------------------------------------


def requests_planned(name: str) -> int:
    """The requests a test's examples send: one each, LOGIN_ATTEMPTS for a login form's."""
    return examples(name) * (LOGIN_ATTEMPTS if name == "login_post" else 1)


def spend(name: str, check) -> None:
    """Run a generated test and check it really sent its budget's requests (Hypothesis stops
    early when it runs out of distinct examples, which would quietly test less)."""
    start = SENT["requests"]
    check()
    sent = SENT["requests"] - start
    assert sent >= requests_planned(name), (
        f"{name}: {sent} requests, planned {requests_planned(name)}"
    )


def test_the_budgets_add_up_to_at_least_ten_thousand_requests():
    """What the generated tests below each check they sent (spend) comes to 10,000 or more."""
    assert sum(requests_planned(name) for name in BUDGET) >= 10_000 * SCALE


def test_generated_requests_to_every_public_url_pattern_never_fail(site_urls):
    client = Client()

    @fuzz("pages")
    @given(
        method=st.sampled_from(["GET", "GET", "GET", "HEAD"]),
        path=paths(site_urls),
        query=query_strings(),
        headers=header_sets(),
        page_cache=st.booleans(),
    )
    def check(method, path, query, headers, page_cache):
        with override_settings(PAGE_CACHE_ENABLED=page_cache):
            send(client, method, path, query, **headers)

    spend("pages", check)


def test_generated_search_queries_and_page_numbers_never_fail(site_urls):
    client = Client()

    @fuzz("search")
    @given(
        query=st.one_of(
            st.tuples(SEARCH_TERMS, st.none() | QUERY_VALUE).map(
                lambda pair: urlencode({"q": pair[0], **({"page": pair[1]} if pair[1] else {})})
            ),
            query_strings(),
        ),
        path=st.sampled_from(["/search/"] * 4 + ["/blog/", "/blog/tags/deploy/", "/blog/2026/"]),
        headers=header_sets(host_is_known=True),
    )
    def check(query, path, headers):
        response = send(client, "GET", path, query, **headers)
        if path == "/search/" and headers["HTTP_X_FORWARDED_PROTO"] == "https":
            assert response.status_code in (200, 304), response

    spend("search", check)


def test_conditional_requests_and_encodings_on_cached_pages_never_fail(site_urls):
    client = Client()
    known = {"HTTP_HOST": "localhost", "HTTP_X_FORWARDED_PROTO": "https"}
    etags = [send(client, "GET", url, **known).get("ETag", "") for url in site_urls[:10]]

    @fuzz("conditional")
    @given(
        path=st.sampled_from(site_urls),
        query=st.sampled_from(["", "page=2", "page=1"]),
        if_none_match=st.one_of(
            st.sampled_from([tag for tag in etags if tag]),
            st.sampled_from(etags).map(lambda tag: f'"x", {tag}, *'),
            ETAGS,
        ),
        if_modified_since=HTTP_DATES,
        accept_encoding=ACCEPT_ENCODINGS,
        method=st.sampled_from(["GET", "HEAD"]),
    )
    def check(path, query, if_none_match, if_modified_since, accept_encoding, method):
        send(
            client,
            method,
            path,
            query,
            **known,
            HTTP_IF_NONE_MATCH=if_none_match,
            HTTP_IF_MODIFIED_SINCE=if_modified_since,
            HTTP_ACCEPT_ENCODING=accept_encoding,
        )

    spend("conditional", check)


def test_generated_visits_to_the_admin_login_never_fail(site_urls):
    client = Client()

    @fuzz("login_get")
    @given(
        path=paths([ADMIN_LOGIN, "/admin/", "/admin/pages/", "/admin/login"]),
        query=st.one_of(query_strings(), QUERY_VALUE.map(lambda value: urlencode({"next": value}))),
        headers=header_sets(),
    )
    def check(path, query, headers):
        send(client, "GET", path, query, **headers)

    spend("login_get", check)


FORM_TYPE = "application/x-www-form-urlencoded"


def test_generated_login_forms_never_fail(site_urls):
    statuses = set()

    @fuzz("login_post")
    @given(
        attempts=st.lists(
            st.tuples(
                form_bodies(),
                st.sampled_from(["", "next=/admin/", "next=%00", "next=" + "n" * 3000]),
            ),
            min_size=LOGIN_ATTEMPTS,
            max_size=LOGIN_ATTEMPTS,
        ),
        address=st.ip_addresses().map(str),
        user_agent=st.one_of(HEADER_TEXT, st.just("u" * 5000)),
        headers=header_sets(host_is_known=True),
    )
    # One example always reaches the lockout, whatever the generated ones happen to draw.
    @example(
        attempts=[((b"username=editor&password=wrong", FORM_TYPE), "")] * LOGIN_ATTEMPTS,
        address="192.0.2.10",
        user_agent="fuzz",
        headers={"HTTP_HOST": "localhost", "HTTP_X_FORWARDED_PROTO": "https"},
    )
    def check(attempts, address, user_agent, headers):
        # Several attempts from one address in one example reach the lockout now and then.
        client = Client()
        extra = {**headers, "HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address}
        with transaction.atomic():
            for (body, content_type), query in attempts:
                SENT["requests"] += 1
                url = f"{ADMIN_LOGIN}?{query}" if query else ADMIN_LOGIN
                response = client.generic(
                    "POST", url, data=body, content_type=content_type, **extra
                )
                statuses.add(checked(response, "POST", url, extra).status_code)
            transaction.set_rollback(True)

    spend("login_post", check)
    # The form was shown again with an error, and repeated failures reached the lockout.
    assert {200, 429} <= statuses, statuses


def test_generated_bodies_sent_to_public_pages_never_fail(site_urls):
    client = Client(enforce_csrf_checks=True)

    @fuzz("bodies")
    @given(
        method=st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FUZZ"]),
        path=st.sampled_from(site_urls),
        body=form_bodies(),
        headers=header_sets(host_is_known=True),
    )
    def check(method, path, body, headers):
        data, content_type = body
        send(client, method, path, data=data, content_type=content_type, **headers)

    spend("bodies", check)


# --- Fixed cases the generated ones must not miss -----------------------------------------


@pytest.fixture
def security_log(caplog):
    """Records of the DisallowedHost logger too, which does not propagate to the root logger."""
    logger = logging.getLogger("django.security.DisallowedHost")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    logger.removeHandler(caplog.handler)


@pytest.mark.parametrize(
    "host", ["evil.example", "localhost:abc", "[::1", "a" * 300, "localhost@evil.example"]
)
def test_an_unknown_host_is_a_400_without_an_error_or_traceback_in_the_log(
    client, security_log, host
):
    response = client.get("/", HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 400
    assert security_log.records, "the refused host should be logged"
    for record in security_log.records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None, record.getMessage()


@pytest.mark.parametrize(
    "cookie",
    [
        'sessionid="\\000\\000\\000\\000\\000\\000\\000\\000"',
        'sessionid="abcdefgh\\000ijklmnop"',
        "sessionid=" + "Z" * 32,
        'sessionid="a b;c,d=e{f}g"',
    ],
    ids=["nul-only", "nul-inside", "upper-case", "punctuation"],
)
@pytest.mark.parametrize("url", [ADMIN_LOGIN, "/blog/members-only/"])
def test_a_session_cookie_no_server_issued_counts_as_no_session(client, site_urls, url, cookie):
    # The private post asks for its password; the login page shows its form. Neither may fail
    # (on PostgreSQL a NUL in the looked-up key used to become the database-error page).
    response = client.get(url, HTTP_COOKIE=cookie, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert b"password" in response.content.lower()


@pytest.mark.parametrize(
    ("body", "extra", "status"),
    [
        # Over MAX_REQUEST_BYTES (20 MB): refused before anything reads it.
        (b"x" * (21 * 1024 * 1024), {}, 413),
        # A Content-Length that claims more than the limit, with a small body behind it.
        (b"username=a", {"CONTENT_LENGTH": str(10**12)}, 413),
        (b"username=a", {"CONTENT_LENGTH": "ten"}, 400),
        # Under the limit but over Django's form limits: too much form data, too many fields.
        (b"username=" + b"a" * (3 * 1024 * 1024), {}, 400),
        (b"&".join(b"f%d=1" % number for number in range(1500)), {}, 400),
    ],
    ids=["over-limit", "lying-length", "unreadable-length", "big-form", "many-fields"],
)
def test_oversized_or_malformed_bodies_are_refused_with_a_4xx(client, body, extra, status):
    response = client.post(
        ADMIN_LOGIN,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_FORWARDED_PROTO="https",
        **extra,
    )
    assert response.status_code == status
