"""The Python SDK (PyPI `urbackend`) against a urbackend-rs server, unchanged.

Started by tests/blackbox/sdk.rs, which sets up the server and passes it in environment variables
(URBACKEND_SDK_*). Every public method of the SDK is called; each call checks the value the SDK
returns, and each error case the SDK's exception class, status and message. One `ok <method>`
line per checked method; the first failed check ends the program with a non-zero status and the
reason.
"""

import json
import os
import re
import sys
import tempfile
import time
import warnings
from urllib.parse import parse_qs, urlsplit

import requests

import urbackend
from urbackend import (
    AuthError,
    NotFoundError,
    RateLimitError,
    StorageError,
    UrBackendClient,
    UrBackendError,
    ValidationError,
)


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def env(name):
    value = os.environ.get(name)
    if not value:
        fail(f"environment variable {name} is not set")
    return value


def ok(method, detail=""):
    print(f"ok {method}" + (f": {detail}" if detail else ""), flush=True)


def check(condition, what):
    if not condition:
        fail(what)


def eq(actual, expected, what):
    if actual != expected or type(actual) is not type(expected):
        fail(f"{what}: expected {expected!r}, got {actual!r}")


def raises(call, cls, status, message, what):
    """The exception `call()` raises: exactly `cls`, with this status and message (str or regex)."""
    try:
        value = call()
    except Exception as error:  # noqa: BLE001 - every exception is checked below
        if type(error) is not cls:
            fail(f"{what}: expected {cls.__name__}, got {type(error).__name__}: {error}")
        if status is not None:
            eq(error.status_code, status, f"{what}: status_code")
        text = error.message if isinstance(error, UrBackendError) else str(error)
        matches = message.fullmatch(text) if isinstance(message, re.Pattern) else text == message
        check(matches, f"{what}: expected message {message!r}, got {text!r}")
        return error
    fail(f"{what}: expected {cls.__name__}, but it returned {value!r}")
    return None


BASE = env("URBACKEND_SDK_BASE_URL")
PK = env("URBACKEND_SDK_PK")
SK = env("URBACKEND_SDK_SK")
MAIL_DIR = env("URBACKEND_SDK_MAIL_DIR")
SITE = env("URBACKEND_SDK_SITE")
PROVIDER = env("URBACKEND_SDK_PROVIDER")
GITHUB_ID = env("URBACKEND_SDK_GITHUB_ID")
SOCIAL_EMAIL = env("URBACKEND_SDK_SOCIAL_EMAIL")
WHO = env("URBACKEND_SDK_WHO")

HEX24 = re.compile(r"[0-9a-f]{24}")
JWT = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")
FORBIDDEN_PK = "Forbidden. This action requires a Secret Key (sk_live_...)."


def mail(to, subject, n):
    """The `n`-th message (1-based) the mail server received for `to` with `subject`."""
    deadline = time.monotonic() + 10
    while True:
        names = sorted(f for f in os.listdir(MAIL_DIR) if f.endswith(".json"))
        messages = []
        for name in names:
            with open(os.path.join(MAIL_DIR, name), encoding="utf-8") as f:
                messages.append(json.load(f))
        matching = [m for m in messages if m["rcptTos"] == [to] and m["subject"] == subject]
        if len(matching) >= n:
            return matching[n - 1]
        if time.monotonic() > deadline:
            fail(f"no mail #{n} '{subject}' to {to} arrived")
        time.sleep(0.05)


def code_in(message):
    found = re.search(r"(?<!\d)\d{6}(?!\d)", message.get("text") or message.get("html") or "")
    check(found, f"no code in the mail {message!r}")
    return found.group(0)


def other_code(code):
    return str(100000 + (int(code) - 100000 + 1) % 900000)


def client_for(key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the secret-key warning
        return UrBackendClient(api_key=key, base=BASE)


# ----------------------------------------------------------------------------------------------
# Construction

eq(urbackend.__version__, "0.1.0", "the SDK's version")
client = UrBackendClient(api_key=PK, base=BASE + "/")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    admin = UrBackendClient(api_key=SK, base=BASE)
check(any("Secret Key" in str(w.message) for w in caught), "a secret key warns")
raises(lambda: UrBackendClient(api_key=""), ValueError, None, "api_key must not be empty.", "an empty key")
ok("UrBackendClient", "publishable and secret key")

# ----------------------------------------------------------------------------------------------
# Auth

email = f"ada.{WHO}@example.com"
username = f"ada_{WHO}"

raises(
    lambda: client.auth.sign_up(email, "short"),
    ValidationError,
    400,
    "Password must be at least 6 characters.",
    "sign_up with a short password",
)
signup = client.auth.sign_up(email, "correct horse", username=username, name="Ada")
eq(signup["message"], "User registered successfully. Please verify your email.", "sign_up message")
check(HEX24.fullmatch(signup["userId"]), f"sign_up userId: {signup}")
check(JWT.fullmatch(signup["accessToken"]) and signup["token"] == signup["accessToken"], "sign_up token")
check("refreshToken" not in signup, "sign_up in cookie mode: the refresh token is in the cookie only")
eq(signup["expiresIn"], "15m", "sign_up expiresIn")
eq(client.auth.get_token(), None, "sign_up does not store the token")
ok("auth.sign_up", "custom field kept")

raises(
    lambda: client.auth.resend_verification_otp(email),
    RateLimitError,
    429,
    re.compile(r"Please wait (60|59) seconds before requesting another code\."),
    "resend_verification_otp within the cooldown",
)
eq(
    client.auth.resend_verification_otp(f"nobody.{WHO}@example.com"),
    {"message": "Verification code sent successfully."},
    "resend_verification_otp",
)
ok("auth.resend_verification_otp", "sent; RateLimitError within the cooldown")

verification = code_in(mail(email, "Verify your account", 1))
raises(
    lambda: client.auth.verify_email(email, other_code(verification)),
    ValidationError,
    400,
    "Invalid or expired OTP",
    "verify_email with a wrong code",
)
eq(client.auth.verify_email(email, verification), {"message": "Email verified successfully"}, "verify_email")
ok("auth.verify_email", "with the code from the mail")

raises(
    lambda: client.auth.login(email, "wrong password"),
    ValidationError,
    400,
    "Invalid email or password",
    "login with a wrong password",
)
login = client.auth.login(email.upper(), "correct horse")
check(JWT.fullmatch(login["accessToken"]), f"login: {login}")
check("refreshToken" not in login, "login in cookie mode")
check(client._http._session.cookies.get("refreshToken"), "login set the refresh cookie in the session")
ok("auth.login", "cookie mode")
eq(client.auth.get_token(), login["accessToken"], "get_token after login")
ok("auth.get_token")

me = client.auth.me()
eq(
    [me["_id"], me["email"], me["username"], me["name"], me["isVerified"], "password" in me],
    [signup["userId"], email, username, "Ada", True, False],
    "me",
)
raises(lambda: client_for(PK).auth.me(), AuthError, 401, "Authentication token is required for /me endpoint", "me without a token")
raises(lambda: client.auth.me("not.a.token"), AuthError, 401, "Invalid or Expired Token", "me with a bad token")
ok("auth.me")

eq(client.auth.update_profile({"name": "Ada Lovelace"}), {"message": "Profile updated successfully"}, "update_profile")
eq(client.auth.me()["name"], "Ada Lovelace", "the profile after update_profile")
raises(
    lambda: client.auth.update_profile({"name": 42}),
    ValidationError,
    400,
    "Field 'name' must be a String.",
    "update_profile with a wrong type",
)
ok("auth.update_profile")

raises(
    lambda: client.auth.change_password("not it", "battery staple"),
    ValidationError,
    400,
    "Invalid current password",
    "change_password with a wrong current password",
)
eq(client.auth.change_password("correct horse", "battery staple"), {"message": "Password changed successfully"}, "change_password")
ok("auth.change_password", "the session's own refresh cookie survives it")

profile = client.auth.public_profile(username)
eq([profile["username"], profile["name"], "email" in profile], [username, "Ada Lovelace", False], "public_profile")
raises(lambda: client.auth.public_profile(f"nobody_{WHO}"), NotFoundError, 404, "User not found", "public_profile of nobody")
ok("auth.public_profile")

# Refresh, cookie mode: the session's cookie (kept by change_password, which sent it).
old_cookie = client._http._session.cookies.get("refreshToken")
refreshed = client.auth.refresh_token()
check(JWT.fullmatch(refreshed["accessToken"]) and "refreshToken" not in refreshed, f"refresh_token (cookie): {refreshed}")
new_cookie = client._http._session.cookies.get("refreshToken")
check(new_cookie and new_cookie != old_cookie, "refresh_token rotates the cookie")
eq(client.auth.get_token(), refreshed["accessToken"], "refresh_token stores the access token")
eq(client.auth.me()["_id"], signup["userId"], "me after the cookie refresh")
# Header mode, with a token from the exchange below; reuse of the rotated-away cookie token:
raises(
    lambda: client_for(PK).auth.refresh_token(old_cookie),
    AuthError,
    403,
    "Refresh token is invalid or already used",
    "refresh_token with a used token",
)
raises(lambda: client_for(PK).auth.refresh_token(), AuthError, 401, "Refresh token missing", "refresh_token without any token")
# The reuse revoked the family, the session's cookie included.
raises(lambda: client.auth.refresh_token(), AuthError, 403, re.compile(".+"), "refresh_token after reuse")

eq(
    client.auth.request_password_reset(email),
    {"message": "If that email exists, a reset code has been sent."},
    "request_password_reset",
)
ok("auth.request_password_reset")
reset = code_in(mail(email, "Reset your password", 1))
raises(
    lambda: client.auth.reset_password(email, other_code(reset), "new password 1"),
    ValidationError,
    400,
    "Invalid or expired OTP",
    "reset_password with a wrong code",
)
eq(client.auth.reset_password(email, reset, "new password 1"), {"message": "Password updated successfully"}, "reset_password")
raises(lambda: client.auth.login(email, "battery staple"), ValidationError, 400, "Invalid email or password", "old password")
client.auth.login(email, "new password 1")
ok("auth.reset_password", "with the code from the mail")

# Social login: the start URL, a browser through the provider, then the exchange.
start_url = client.auth.social_start_url("github")
eq(start_url, f"{BASE}/api/userAuth/social/github/start?key={PK}", "social_start_url")
raises(
    lambda: admin.auth.social_start_url("github"),
    ValueError,
    None,
    "social_start_url must not be called with a Secret Key (sk_live_...). "
    "Use the Publishable Key (pk_live_...) for browser redirects.",
    "social_start_url with the secret key",
)
ok("auth.social_start_url")


def social_login(url):
    """A browser's way through a social login: start, the provider's page, the callback."""
    browser = requests.Session()
    start = browser.get(url, allow_redirects=False)
    eq(start.status_code, 302, "social start")
    authorize = start.headers["Location"]
    check(authorize.startswith(f"{PROVIDER}/github/authorize?"), f"to the provider: {authorize}")
    check(browser.cookies.get("ub_oauth_state"), "social start sets the state cookie")
    consent = browser.get(authorize, allow_redirects=False)
    eq(consent.status_code, 302, "provider authorize")
    callback = browser.get(consent.headers["Location"], allow_redirects=False)
    eq(callback.status_code, 302, "social callback")
    landing = callback.headers["Location"]
    check(landing.startswith(f"{SITE}/auth/callback?"), f"the callback lands on the site: {landing}")
    parts = urlsplit(landing)
    single = lambda q: {k: v[0] for k, v in parse_qs(q).items()}  # noqa: E731
    return single(parts.query), single(parts.fragment)


query, fragment = social_login(start_url)
eq([query["provider"], query["isNewUser"]], ["github", "true"], f"the social landing {query}")
exchanged = client.auth.social_exchange(query["rtCode"], fragment["token"])
eq(list(exchanged), ["refreshToken"], f"social_exchange returns data: {exchanged}")
raises(
    lambda: client.auth.social_exchange(query["rtCode"], fragment["token"]),
    ValidationError,
    400,
    "Invalid or expired refresh token exchange code",
    "social_exchange replayed",
)
social = client_for(PK)
header_mode = social.auth.refresh_token(exchanged["refreshToken"])
check(JWT.fullmatch(header_mode["accessToken"]), f"refresh_token (header mode): {header_mode}")
check(header_mode["refreshToken"] != exchanged["refreshToken"], "header mode returns the rotated token")
ok("auth.refresh_token", "cookie mode, header mode, reuse refused")
octo = social.auth.me()
eq(
    [octo["_id"], octo["email"], octo["githubId"], octo["isVerified"]],
    [query["userId"], SOCIAL_EMAIL, GITHUB_ID, True],
    "me after social login",
)
ok("auth.social_exchange", "against the loopback GitHub")

social.auth.set_token("not.a.token")
eq(social.auth.get_token(), "not.a.token", "set_token")
raises(lambda: social.auth.me(), AuthError, 401, "Invalid or Expired Token", "me with a token set by set_token")
social.auth.set_token(header_mode["accessToken"])
eq(social.auth.me()["_id"], octo["_id"], "set_token")
ok("auth.set_token")

eq(client.auth.logout(), {"success": True, "message": "Logged out successfully"}, "logout")
eq(client.auth.get_token(), None, "logout clears the token")
raises(lambda: client.auth.refresh_token(), AuthError, 401, "Refresh token missing", "refresh_token after logout")
eq(client_for(PK).auth.logout(), {"success": True, "message": "Logged out locally"}, "logout without a session")
ok("auth.logout", "revokes the session and clears the cookie")
client.auth.login(email, "new password 1")

# ----------------------------------------------------------------------------------------------
# Database

author = admin.db.insert("authors", {"name": "Ursula"})
check(HEX24.fullmatch(author["_id"]), f"insert returns the document: {author}")
eq(author["name"], "Ursula", "insert")
titles = [
    ("Earthsea", 180, f"fantasy-{WHO}"),
    ("The Dispossessed", 387, f"sf-{WHO}"),
    ("Lathe of Heaven", 184, f"sf-{WHO}"),
    ("Always Coming Home", 523, f"sf-{WHO}"),
]
books = [admin.db.insert("books", {"title": t, "pages": p, "genre": g, "author": author["_id"]}) for t, p, g in titles]
eq([b["title"] for b in books], [t for t, _, _ in titles], "insert books")
raises(lambda: admin.db.insert("books", {"pages": 1}), ValidationError, 400, re.compile(".*title.*"), "insert without title")
ok("db.insert")

sf = {"genre": f"sf-{WHO}", "pages_gt": 183}
page1 = client.db.get_all("books", filter_=sf, sort="pages:desc", limit=2, page=1, populate=["author"])
eq([b["title"] for b in page1], ["Always Coming Home", "The Dispossessed"], "get_all page 1 (filter, sort, limit)")
eq([b["author"]["name"] for b in page1], ["Ursula", "Ursula"], "get_all populate")
page2 = client.db.get_all("books", filter=sf, sort="pages:desc", limit=2, page=2)
eq([[b["title"], b["author"]] for b in page2], [["Lathe of Heaven", author["_id"]]], "get_all page 2")
expanded = client.db.get_all("books", filter_={"title": "Earthsea", "genre": f"fantasy-{WHO}"}, expand="author")
eq([b["author"]["name"] for b in expanded], ["Ursula"], "get_all expand")
eq(client.db.get_all("no_such_collection"), [], "get_all of an unknown collection")
raises(
    lambda: client.db.get_all("books", filter_={"pages_gt": "many"}),
    ValidationError,
    400,
    'Invalid value for "pages_gt": expected a Number.',
    "get_all with a bad value",
)
raises(lambda: client.db.get_all("books", filter_={"sort": "x"}), ValueError, None,
       "Filter key 'sort' conflicts with reserved query parameter.", "a reserved filter key")
ok("db.get_all", "filter, sort, paging, populate/expand")

eq(client.db.count("books", {"genre": f"sf-{WHO}"}), 3, "count with a filter")
eq(client.db.count("books", filter={"genre_in": f"sf-{WHO},fantasy-{WHO}"}), 4, "count with an _in filter")
eq(client.db.count("no_such_collection"), 0, "count of an unknown collection")
ok("db.count")

one = client.db.get_one("books", books[0]["_id"], populate="author")
eq([one["_id"], one["title"], one["author"]["name"]], [books[0]["_id"], "Earthsea", "Ursula"], "get_one with populate")
raises(lambda: client.db.get_one("books", "0123456789abcdef01234567"), NotFoundError, 404, "Document not found.", "get_one missing")
ok("db.get_one")

# urBackend's update answer has no `success` key, so this SDK returns it whole: {message, data}.
updated = admin.db.update("books", books[0]["_id"], {"title": "A Wizard of Earthsea", "pages": 183})
eq(sorted(updated), ["data", "message"], f"update returns the answer: {updated}")
eq(updated["message"], "Updated", "update message")
updated = updated["data"]
eq([updated["_id"], updated["title"], updated["pages"]], [books[0]["_id"], "A Wizard of Earthsea", 183], "update")
eq(client.db.get_one("books", books[0]["_id"])["title"], "A Wizard of Earthsea", "the document after update")
ok("db.update")
patched = admin.db.patch("books", books[0]["_id"], {"pages": 205})
eq(patched["message"], "Updated", "patch message")
eq([patched["data"]["title"], patched["data"]["pages"]], ["A Wizard of Earthsea", 205], "patch")
raises(lambda: admin.db.patch("books", books[0]["_id"], {"pages": "many"}), ValidationError, 400, re.compile(".*pages.*"), "patch type")
ok("db.patch")

# The chainable collection API, and RLS through the SDK.
posts = client.db.collection("posts")
post = posts.insert({"title": "Mine"}, token=client.auth.get_token())
eq(post["userId"], signup["userId"], "collection().insert under RLS sets the owner")
raises(lambda: client_for(PK).db.collection("posts").insert({"title": "Anon"}), AuthError, 401, re.compile(".+"), "anonymous insert")
ok("db.collection.insert")
eq([p["title"] for p in posts.find({"userId": signup["userId"]}, sort="title:asc", limit=5)], ["Mine"], "collection().find")
eq([b["title"] for b in admin.db.collection("books").find(filter={"genre": f"sf-{WHO}"}, sort="pages:asc", limit=1, page=2)],
   ["The Dispossessed"], "collection().find with paging")
ok("db.collection.find")
bob = client_for(PK)
bob.auth.sign_up(f"bob.{WHO}@example.com", "bob password")
bob.auth.login(f"bob.{WHO}@example.com", "bob password")
raises(
    lambda: bob.db.patch("posts", post["_id"], {"title": "Bob's now"}, token=bob.auth.get_token()),
    AuthError,
    403,
    "You can only modify your own document.",
    "patch of another user's post",
)
client.db.insert("notes", {"text": "Ada's secret"}, token=client.auth.get_token())
eq(bob.db.get_all("notes", token=bob.auth.get_token()), [], "private notes of another user")
eq([n["text"] for n in client.db.get_all("notes", token=client.auth.get_token())], ["Ada's secret"], "own private notes")

eq(admin.db.delete("books", books[3]["_id"]), {"deleted": True}, "delete")
raises(lambda: client.db.get_one("books", books[3]["_id"]), NotFoundError, 404, "Document not found.", "get_one after delete")
raises(lambda: admin.db.delete("books", books[3]["_id"]), NotFoundError, 404, "Document not found.", "delete twice")
ok("db.delete")

# ----------------------------------------------------------------------------------------------
# Storage (secret key)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
text = f"hello from the {WHO} SDK\n"

uploaded = admin.storage.upload(PNG, filename="pixel.png")
eq([uploaded["message"], uploaded["provider"]], ["Upload confirmed", "internal"], "upload")
check(uploaded["path"].endswith("pixel.png"), f"upload path: {uploaded}")
fetched = requests.get(uploaded["url"])
eq([fetched.status_code, fetched.headers.get("Content-Type"), fetched.content], [200, "image/png", PNG], "fetched back")
with tempfile.TemporaryDirectory() as folder:
    note_path = os.path.join(folder, f"upload-{WHO}.txt")
    with open(note_path, "w", encoding="utf-8") as f:
        f.write(text)
    from_path = admin.storage.upload(note_path)
check(from_path["path"].endswith(f"upload-{WHO}.txt"), f"upload from a path: {from_path}")
eq(requests.get(from_path["url"]).text, text, "a file uploaded from its path, fetched back")
untyped = admin.storage.upload(text.encode(), filename="unknown.bin")
untyped_answer = requests.get(untyped["url"])
eq(
    [untyped_answer.status_code, untyped_answer.headers.get("Content-Type"), untyped_answer.text],
    [200, "application/octet-stream", text],
    "bytes of no known type (sent as application/octet-stream), fetched back as a download",
)
check(untyped_answer.headers.get("Content-Disposition", "").startswith("attachment"), "untyped bytes are an attachment")
raises(
    lambda: admin.storage.upload(b"<!DOCTYPE html><html><script>alert(1)</script></html>", filename="page.bin"),
    StorageError,
    415,
    "Cloud provider upload failed: 415 Unsupported Media Type",
    "HTML sent as application/octet-stream",
)
raises(lambda: client.storage.upload(PNG, filename="pixel.png"), StorageError, 403, FORBIDDEN_PK, "upload with the publishable key")
ok("storage.upload", "three-step flow, fetched back by URL")

eq(admin.storage.delete_file(uploaded["path"]), {"message": "File deleted successfully"}, "delete_file")
eq(requests.get(uploaded["url"]).status_code, 404, "the file after delete_file")
raises(lambda: admin.storage.delete_file("../" + uploaded["path"]), StorageError, 403, "Access denied.", "delete_file outside")
ok("storage.delete_file")

# ----------------------------------------------------------------------------------------------
# Mail (secret key)

to = f"mail.{WHO}@example.com"
sent = admin.mail.send(to, subject=f"SDK conformance ({WHO})", html="<p>Hello</p>", text="Hello")
check(HEX24.fullmatch(sent["id"]), f"mail.send id: {sent}")
eq([sorted(sent), sent["provider"], sent["monthlyLimit"]], [["id", "monthlyLimit", "monthlyUsage", "provider"], "smtp", 1000], "mail.send")
check(isinstance(sent["monthlyUsage"], int) and sent["monthlyUsage"] >= 1, f"mail.send monthlyUsage: {sent}")
eq(mail(to, f"SDK conformance ({WHO})", 1)["text"].strip(), "Hello", "the mail as delivered")
welcome = admin.mail.send(to, template_name="welcome", variables={"name": "Ada", "projectName": "SDK", "appUrl": "https://sdk.test"})
eq([welcome["templateUsed"]["key"], welcome["monthlyUsage"]], ["welcome", sent["monthlyUsage"] + 1], "mail.send with a template")
raises(lambda: client.mail.send("x@example.com", subject="s", text="t"), AuthError, 403, FORBIDDEN_PK, "mail.send with pk")
raises(
    lambda: admin.mail.send([to], subject="s", text="t"),
    ValidationError,
    400,
    "Invalid input: expected string, received array",
    "mail.send to a list",
)
raises(
    lambda: admin.mail.send(to),
    ValueError,
    None,
    "Either a template (template_name/template_id) or raw content (subject/text/html) must be provided.",
    "mail.send without content",
)
ok("mail.send")

# ----------------------------------------------------------------------------------------------
# The client itself

other = client_for(PK)
eq(other.connect(SK, base=BASE), other, "connect returns the client")
eq(other.db.count("books", {"genre": f"sf-{WHO}"}), 2, "a call after connect, with the new key")
eq(other.storage.delete_file(from_path["path"]), {"message": "File deleted successfully"}, "a secret-key call after connect")
ok("connect")
with client_for(PK) as scoped:
    eq(scoped.db.count("books", {"genre": f"sf-{WHO}"}), 2, "a call inside the context manager")
other.close()
ok("close", "and the context manager")

print("all checks passed")
