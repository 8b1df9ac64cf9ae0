// The TypeScript SDK (`@urbackend/sdk`, run on Node.js) against a urbackend-rs server, unchanged.
//
// Started by tests/blackbox/sdk.rs, which sets up the server and passes it in environment
// variables (URBACKEND_SDK_*; URBACKEND_SDK_MODULE is the SDK's dist/index.mjs). Every public
// method of the SDK is called; each call checks the value the SDK returns, and each error case
// the SDK's error class, status and message. One `ok <method>` line per checked method; the
// first failed check ends the program with a non-zero status and the reason.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual, inspect } from "node:util";

const env = (name) => {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is not set`);
  return value;
};

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

function ok(method, detail) {
  console.log(`ok ${method}${detail ? `: ${detail}` : ""}`);
}

function check(condition, what) {
  if (!condition) fail(what);
}

function eq(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    fail(`${what}: expected ${inspect(expected, { depth: 6 })}, got ${inspect(actual, { depth: 6 })}`);
  }
}

/** The error a call throws: exactly `Class`, with this status and message (a string or RegExp). */
async function rejects(promise, Class, status, message, what) {
  let error;
  try {
    const value = await promise;
    fail(`${what}: expected ${Class.name}, but it returned ${inspect(value, { depth: 4 })}`);
  } catch (e) {
    error = e;
  }
  if (error.constructor !== Class) {
    fail(`${what}: expected ${Class.name}, got ${error?.constructor?.name}: ${error?.message}`);
  }
  if (Class !== Error) check(error instanceof UrBackendError, `${what}: not an UrBackendError`);
  if (status !== undefined) eq(error.statusCode, status, `${what}: statusCode`);
  const matches = message instanceof RegExp ? message.test(error.message) : error.message === message;
  check(matches, `${what}: expected message ${inspect(message)}, got ${inspect(error.message)}`);
  return error;
}

const BASE = env("URBACKEND_SDK_BASE_URL");
const PK = env("URBACKEND_SDK_PK");
const SK = env("URBACKEND_SDK_SK");
const MAIL_DIR = env("URBACKEND_SDK_MAIL_DIR");
const SITE = env("URBACKEND_SDK_SITE");
const PROVIDER = env("URBACKEND_SDK_PROVIDER");
const GITHUB_ID = env("URBACKEND_SDK_GITHUB_ID");
const SOCIAL_EMAIL = env("URBACKEND_SDK_SOCIAL_EMAIL");
const WHO = env("URBACKEND_SDK_WHO");

const sdk = await import(pathToFileURL(env("URBACKEND_SDK_MODULE")).href);
const {
  default: urBackend,
  UrBackendClient,
  DatabaseModule,
  StorageModule,
  parseApiError,
  UrBackendError,
  AuthError,
  NotFoundError,
  RateLimitError,
  ValidationError,
} = sdk;

const HEX24 = /^[0-9a-f]{24}$/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** The `n`-th message (1-based) the mail server received for `to` with `subject`. */
async function mail(to, subject, n) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const files = readdirSync(MAIL_DIR).filter((f) => f.endsWith(".json")).sort();
    const matching = files
      .map((f) => JSON.parse(readFileSync(join(MAIL_DIR, f), "utf8")))
      .filter((m) => isDeepStrictEqual(m.rcptTos, [to]) && m.subject === subject);
    if (matching.length >= n) return matching[n - 1];
    if (Date.now() > deadline) fail(`no mail #${n} '${subject}' to ${to} arrived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The six-digit code in a message. */
function codeIn(message) {
  const code = /(?<!\d)\d{6}(?!\d)/.exec(message.text ?? message.html ?? "");
  check(code, `no code in the mail ${inspect(message)}`);
  return code[0];
}

/** A six-digit code that is not `code`. */
const otherCode = (code) => String(100000 + ((Number(code) - 100000 + 1) % 900000));

// ---------------------------------------------------------------------------------------------
// Construction

const client = urBackend({ apiKey: PK, baseUrl: BASE });
check(client instanceof UrBackendClient, "urBackend() returns a UrBackendClient");
eq([client.getBaseUrl(), client.getApiKey()], [BASE, PK], "getBaseUrl/getApiKey");
const admin = new UrBackendClient({ apiKey: SK, baseUrl: BASE });
ok("urBackend", "default export and new UrBackendClient(config)");

// ---------------------------------------------------------------------------------------------
// Auth

const email = `ada.${WHO}@example.com`;
const username = `ada_${WHO}`;

await rejects(
  client.auth.signUp({ email, password: "short" }),
  ValidationError,
  400,
  "Password must be at least 6 characters.",
  "signUp with a short password",
);
const signup = await client.auth.signUp({ email, password: "correct horse", username, name: "Ada" });
eq(signup.message, "User registered successfully. Please verify your email.", "signUp message");
check(HEX24.test(signup.userId), `signUp userId: ${signup.userId}`);
check(JWT.test(signup.accessToken) && signup.token === signup.accessToken, "signUp access token");
check(typeof signup.refreshToken === "string" && signup.refreshToken.length > 20, "signUp refresh token (header mode)");
eq(signup.expiresIn, "15m", "signUp expiresIn");
ok("auth.signUp", "201, tokens in header mode");
eq(client.auth.getToken(), signup.accessToken, "getToken after signUp");
ok("auth.getToken");

// The signup sent a verification code; asking again at once is throttled.
await rejects(
  client.auth.resendVerificationOtp({ email }),
  RateLimitError,
  429,
  /^Please wait (60|59) seconds before requesting another code\.$/,
  "resendVerificationOtp within the cooldown",
);
eq(
  await client.auth.resendVerificationOtp({ email: `nobody.${WHO}@example.com` }),
  { message: "Verification code sent successfully." },
  "resendVerificationOtp",
);
ok("auth.resendVerificationOtp", "sent; 429 RateLimitError within the cooldown");

const verification = codeIn(await mail(email, "Verify your account", 1));
await rejects(
  client.auth.verifyEmail({ email, otp: otherCode(verification) }),
  ValidationError,
  400,
  "Invalid or expired OTP",
  "verifyEmail with a wrong code",
);
eq(await client.auth.verifyEmail({ email, otp: verification }), { message: "Email verified successfully" }, "verifyEmail");
ok("auth.verifyEmail", "with the code from the mail");

await rejects(
  client.auth.login({ email, password: "wrong password" }),
  ValidationError,
  400,
  "Invalid email or password",
  "login with a wrong password",
);
const login = await client.auth.login({ email: email.toUpperCase(), password: "correct horse" });
check(JWT.test(login.accessToken) && login.token === login.accessToken, "login access token");
check(typeof login.refreshToken === "string" && login.refreshToken !== signup.refreshToken, "login refresh token");
eq(client.auth.getToken(), login.accessToken, "login stores the access token");
ok("auth.login");
eq(client.auth.getRefreshToken(), login.refreshToken, "login stores the refresh token");
ok("auth.getRefreshToken");

const me = await client.auth.me();
eq(
  [me._id, me.email, me.username, me.name, me.isVerified, me.password],
  [signup.userId, email, username, "Ada", true, undefined],
  "me",
);
await rejects(
  new UrBackendClient({ apiKey: PK, baseUrl: BASE }).auth.me(),
  AuthError,
  401,
  "Authentication token is required for /me endpoint",
  "me without a token",
);
await rejects(client.auth.me("not.a.token"), AuthError, 401, "Invalid or Expired Token", "me with a bad token");
ok("auth.me");

eq(await client.auth.updateProfile({ name: "Ada Lovelace" }), { message: "Profile updated successfully" }, "updateProfile");
eq((await client.auth.me()).name, "Ada Lovelace", "the profile after updateProfile");
await rejects(
  client.auth.updateProfile({ name: 42 }),
  ValidationError,
  400,
  "Field 'name' must be a String.",
  "updateProfile with a wrong type",
);
ok("auth.updateProfile");

await rejects(
  client.auth.changePassword({ currentPassword: "not it", newPassword: "battery staple" }),
  ValidationError,
  400,
  "Invalid current password",
  "changePassword with a wrong current password",
);
eq(
  await client.auth.changePassword({ currentPassword: "correct horse", newPassword: "battery staple" }),
  { message: "Password changed successfully" },
  "changePassword",
);
// The change revokes every other refresh session; the SDK does not send its own with the call.
await rejects(
  client.auth.refreshToken(),
  AuthError,
  403,
  "Refresh token is invalid or already used",
  "the stored refresh token after changePassword",
);
const relogin = await client.auth.login({ email, password: "battery staple" });
ok("auth.changePassword", "other sessions revoked");

const profile = await client.auth.publicProfile(username);
eq([profile.username, profile.name, profile.email, profile.password], [username, "Ada Lovelace", undefined, undefined], "publicProfile");
await rejects(client.auth.publicProfile(`nobody_${WHO}`), NotFoundError, 404, "User not found", "publicProfile of nobody");
ok("auth.publicProfile");

// Refresh, header mode: the SDK sends the stored refresh token and stores the new tokens.
const rotated = await client.auth.refreshToken();
check(JWT.test(rotated.accessToken), "refreshToken: a new access token");
check(typeof rotated.refreshToken === "string" && rotated.refreshToken !== relogin.refreshToken, "refreshToken rotates");
eq(client.auth.getToken(), rotated.accessToken, "refreshToken stores the access token");
eq((await client.auth.me())._id, signup.userId, "me with the refreshed token");
// The rotated-away token again: reuse, the family is revoked.
await rejects(
  client.auth.refreshToken(relogin.refreshToken),
  AuthError,
  403,
  "Refresh token is invalid or already used",
  "refreshToken with a used token",
);
await rejects(client.auth.refreshToken(rotated.refreshToken), AuthError, 403, /./, "refreshToken after reuse");
// Refresh, cookie mode: no token known to the SDK; the refresh cookie goes with the request.
const cookieLogin = await new UrBackendClient({ apiKey: PK, baseUrl: BASE }).auth.login({ email, password: "battery staple" });
const browser = urBackend({ apiKey: PK, baseUrl: BASE, headers: { Cookie: `refreshToken=${cookieLogin.refreshToken}` } });
const fromCookie = await browser.auth.refreshToken();
check(JWT.test(fromCookie.accessToken), "refreshToken (cookie mode): an access token");
eq(fromCookie.refreshToken, undefined, "refreshToken (cookie mode) keeps the new token in the cookie");
eq((await browser.auth.me())._id, signup.userId, "me after the cookie refresh");
await rejects(
  urBackend({ apiKey: PK, baseUrl: BASE }).auth.refreshToken(),
  AuthError,
  401,
  "Refresh token missing",
  "refreshToken without any token",
);
ok("auth.refreshToken", "header mode, cookie mode, reuse refused");

eq(
  await client.auth.requestPasswordReset({ email }),
  { message: "If that email exists, a reset code has been sent." },
  "requestPasswordReset",
);
ok("auth.requestPasswordReset");
const reset = codeIn(await mail(email, "Reset your password", 1));
await rejects(
  client.auth.resetPassword({ email, otp: otherCode(reset), newPassword: "new password 1" }),
  ValidationError,
  400,
  "Invalid or expired OTP",
  "resetPassword with a wrong code",
);
eq(
  await client.auth.resetPassword({ email, otp: reset, newPassword: "new password 1" }),
  { message: "Password updated successfully" },
  "resetPassword",
);
await rejects(
  client.auth.login({ email, password: "battery staple" }),
  ValidationError,
  400,
  "Invalid email or password",
  "the old password after the reset",
);
await client.auth.login({ email, password: "new password 1" });
ok("auth.resetPassword", "with the code from the mail");

// Social login: the start URL, a browser through the provider, then the exchange.
const startUrl = client.auth.socialStart("github");
eq(startUrl, `${BASE}/api/userAuth/social/github/start?key=${PK}`, "socialStart");
ok("auth.socialStart");
const landing = await socialLogin(startUrl);
eq(
  [landing.query.get("provider"), landing.query.get("isNewUser"), landing.query.get("projectId") !== null],
  ["github", "true", true],
  `the social landing ${landing.url}`,
);
const socialToken = landing.fragment.get("token");
const rtCode = landing.query.get("rtCode");
const exchanged = await client.auth.socialExchange({ rtCode, token: socialToken });
check(typeof exchanged.refreshToken === "string" && exchanged.refreshToken.length > 20, "socialExchange refreshToken");
eq(Object.keys(exchanged), ["refreshToken"], "socialExchange returns data");
await rejects(
  client.auth.socialExchange({ rtCode, token: socialToken }),
  ValidationError,
  400,
  "Invalid or expired refresh token exchange code",
  "socialExchange replayed",
);
const social = urBackend({ apiKey: PK, baseUrl: BASE });
const socialSession = await social.auth.refreshToken(exchanged.refreshToken);
const octo = await social.auth.me();
eq([octo._id, octo.email, octo.githubId, octo.isVerified], [landing.query.get("userId"), SOCIAL_EMAIL, GITHUB_ID, true], "me after social login");
check(JWT.test(socialSession.accessToken), "the exchanged refresh token works");
ok("auth.socialExchange", "against the loopback GitHub");

social.auth.setToken("not.a.token");
eq(social.auth.getToken(), "not.a.token", "setToken");
await rejects(social.auth.me(), AuthError, 401, "Invalid or Expired Token", "me with a token set by setToken");
social.auth.setToken(socialSession.accessToken);
eq((await social.auth.me())._id, octo._id, "setToken");
ok("auth.setToken");
social.auth.setRefreshToken("0".repeat(80));
await rejects(social.auth.refreshToken(), AuthError, 401, "Invalid refresh token format", "a token set by setRefreshToken");
social.auth.setRefreshToken(socialSession.refreshToken);
eq(social.auth.getRefreshToken(), socialSession.refreshToken, "setRefreshToken");
ok("auth.setRefreshToken");

const bye = await social.auth.logout();
eq(bye, { success: true, message: "Logged out successfully" }, "logout");
eq(social.auth.getToken(), undefined, "logout clears the token");
await rejects(social.auth.refreshToken(socialSession.refreshToken), AuthError, 403, /./, "refreshToken after logout");
eq(await urBackend({ apiKey: PK, baseUrl: BASE }).auth.logout(), { success: true, message: "Logged out locally" }, "logout without a session");
ok("auth.logout", "revokes the refresh session");

/** A browser's way through a social login: start, the provider's page, the callback. */
async function socialLogin(startUrl) {
  const start = await fetch(startUrl, { redirect: "manual" });
  eq(start.status, 302, "social start");
  const authorize = start.headers.get("location");
  check(authorize.startsWith(`${PROVIDER}/github/authorize?`), `social start redirects to the provider: ${authorize}`);
  const cookie = start.headers.getSetCookie().find((c) => c.startsWith("ub_oauth_state="));
  check(cookie, "social start sets the state cookie");
  const consent = await fetch(authorize, { redirect: "manual" });
  eq(consent.status, 302, "provider authorize");
  const callback = await fetch(consent.headers.get("location"), {
    redirect: "manual",
    headers: { Cookie: cookie.split(";")[0] },
  });
  eq(callback.status, 302, "social callback");
  const url = callback.headers.get("location");
  check(url.startsWith(`${SITE}/auth/callback?`), `the callback lands on the site: ${url}`);
  const parsed = new URL(url);
  return { url, query: parsed.searchParams, fragment: new URLSearchParams(parsed.hash.slice(1)) };
}

// ---------------------------------------------------------------------------------------------
// Database

const author = await admin.db.insert("authors", { name: "Ursula" });
check(HEX24.test(author._id), `insert returns the document: ${inspect(author)}`);
eq(author.name, "Ursula", "insert");
const titles = [
  ["Earthsea", 180, `fantasy-${WHO}`],
  ["The Dispossessed", 387, `sf-${WHO}`],
  ["Lathe of Heaven", 184, `sf-${WHO}`],
  ["Always Coming Home", 523, `sf-${WHO}`],
];
const books = [];
for (const [title, pages, genre] of titles) {
  books.push(await admin.db.insert("books", { title, pages, genre, author: author._id }));
}
eq(books.map((b) => b.title), titles.map((t) => t[0]), "insert books");
await rejects(admin.db.insert("books", { pages: 1 }), ValidationError, 400, /title/, "insert without a required field");
ok("db.insert");

const page1 = await client.db.getAll("books", { filter: { genre: `sf-${WHO}`, pages_gt: 183 }, sort: "pages:desc", limit: 2, page: 1, populate: ["author"] });
eq(page1.map((b) => b.title), ["Always Coming Home", "The Dispossessed"], "getAll page 1 (filter, sort, limit)");
eq(page1.map((b) => b.author?.name), ["Ursula", "Ursula"], "getAll populate");
const page2 = await client.db.getAll("books", { filter: { genre: `sf-${WHO}`, pages_gt: 183 }, sort: "pages:desc", limit: 2, page: 2 });
eq(page2.map((b) => [b.title, b.author]), [["Lathe of Heaven", author._id]], "getAll page 2");
eq(await client.db.getAll("no_such_collection"), [], "getAll of an unknown collection");
await rejects(client.db.getAll("books", { filter: { pages_gt: "many" } }), ValidationError, 400, 'Invalid value for "pages_gt": expected a Number.', "getAll with a bad value");
ok("db.getAll", "filter, sort, paging, populate");

eq(await client.db.count("books", { filter: { genre: `sf-${WHO}` } }), 3, "count with a filter");
eq(await client.db.count("books", { filter: { genre_in: `sf-${WHO},fantasy-${WHO}` } }), 4, "count with an _in filter");
eq(await client.db.count("authors"), (await client.db.getAll("authors", { limit: 100 })).length, "count without a filter");
ok("db.count");

const one = await client.db.getOne("books", books[0]._id, { populate: ["author"] });
eq([one._id, one.title, one.author?._id, one.author?.name], [books[0]._id, "Earthsea", author._id, "Ursula"], "getOne with populate");
await rejects(client.db.getOne("books", "0123456789abcdef01234567"), NotFoundError, 404, "Document not found.", "getOne of a missing id");
ok("db.getOne");

const updated = await admin.db.update("books", books[0]._id, { title: "A Wizard of Earthsea", pages: 183 });
eq([updated._id, updated.title, updated.pages], [books[0]._id, "A Wizard of Earthsea", 183], "update returns the document");
eq((await client.db.getOne("books", books[0]._id)).title, "A Wizard of Earthsea", "the document after update");
ok("db.update");
const patched = await admin.db.patch("books", books[0]._id, { pages: 205 });
eq([patched.title, patched.pages], ["A Wizard of Earthsea", 205], "patch returns the document");
await rejects(admin.db.patch("books", books[0]._id, { pages: "many" }), ValidationError, 400, /pages/, "patch with a wrong type");
ok("db.patch");

// RLS through the SDK: documents owned by the logged-in user.
const post = await client.db.insert("posts", { title: "Mine" });
eq(post.userId, signup.userId, "insert under RLS sets the owner");
await rejects(urBackend({ apiKey: PK, baseUrl: BASE }).db.insert("posts", { title: "Anon" }), AuthError, 401, /./, "anonymous insert under RLS");
const bob = urBackend({ apiKey: PK, baseUrl: BASE });
await bob.auth.signUp({ email: `bob.${WHO}@example.com`, password: "bob password" });
await rejects(bob.db.patch("posts", post._id, { title: "Bob's now" }), AuthError, 403, "You can only modify your own document.", "patch of another user's post");
await client.db.insert("notes", { text: "Ada's secret" });
eq(await bob.db.getAll("notes"), [], "private notes of another user");
eq((await client.db.getAll("notes")).map((n) => n.text), ["Ada's secret"], "own private notes");

eq(await admin.db.delete("books", books[3]._id), { deleted: true }, "delete");
await rejects(client.db.getOne("books", books[3]._id), NotFoundError, 404, "Document not found.", "getOne after delete");
await rejects(admin.db.delete("books", books[3]._id), NotFoundError, 404, "Document not found.", "delete twice");
await rejects(bob.db.delete("posts", post._id), AuthError, 403, "You can only modify your own document.", "delete of another user's post");
ok("db.delete");

// The SDK's error mapping on a raw answer, and a module built by hand.
const raw = await fetch(`${BASE}/api/data/books/not-an-id`, { headers: { "x-api-key": PK } });
await rejects(Promise.reject(await parseApiError(raw)), ValidationError, 400, "Invalid ID format.", "parseApiError");
ok("parseApiError");
eq((await new DatabaseModule(admin).getOne("authors", author._id)).name, "Ursula", "new DatabaseModule(client)");
ok("DatabaseModule", "constructed by hand");

// ---------------------------------------------------------------------------------------------
// Schema

const schema = await admin.schema.getSchema("books");
eq(schema.name, "books", "getSchema name");
eq(schema.model.map((f) => [f.key, f.type]), [["title", "String"], ["pages", "Number"], ["genre", "String"], ["author", "Ref"]], "getSchema model");
await rejects(admin.schema.getSchema("no_such_collection"), NotFoundError, 404, "Schema/Collection not found", "getSchema of an unknown collection");
ok("schema.getSchema");

// ---------------------------------------------------------------------------------------------
// Storage (secret key)

const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
  "hex",
);
const text = `hello from the ${WHO} SDK\n`;

const request = await admin.storage.requestUploadUrl("notes.txt", "text/plain", Buffer.byteLength(text));
check(request.signedUrl.startsWith(`${BASE}/api/storage/signed/`), `requestUploadUrl signedUrl: ${request.signedUrl}`);
check(typeof request.filePath === "string" && request.filePath.endsWith("notes.txt"), `requestUploadUrl filePath: ${request.filePath}`);
ok("storage.requestUploadUrl");
await StorageModule.uploadToPresignedUrl(Buffer.from(text), request.signedUrl, "text/plain");
ok("StorageModule.uploadToPresignedUrl");
const confirmed = await admin.storage.confirmUpload(request.filePath, Buffer.byteLength(text));
eq([confirmed.path, confirmed.provider], [request.filePath, "internal"], "confirmUpload");
eq(await (await fetch(confirmed.url)).text(), text, "the confirmed file, fetched by its URL");
ok("storage.confirmUpload");

const uploaded = await admin.storage.upload(PNG, "pixel.png");
eq([uploaded.message, uploaded.provider], ["Upload confirmed", "internal"], "upload");
check(uploaded.path.endsWith("pixel.png"), `upload path: ${uploaded.path}`);
const fetched = await fetch(uploaded.url);
eq([fetched.status, fetched.headers.get("content-type")], [200, "image/png"], "the uploaded file's answer");
eq(Buffer.from(await fetched.arrayBuffer()).equals(PNG), true, "the uploaded file's bytes");
const blob = await admin.storage.upload(new Blob([text], { type: "text/plain" }), "blob.txt");
eq(await (await fetch(blob.url)).text(), text, "a Blob upload, fetched back");
const untyped = await admin.storage.upload(Buffer.from(text), "unknown.bin");
const untypedAnswer = await fetch(untyped.url);
eq(
  [untypedAnswer.status, untypedAnswer.headers.get("content-type"), await untypedAnswer.text()],
  [200, "application/octet-stream", text],
  "a Buffer of no known type (sent as application/octet-stream), fetched back as a download",
);
check(untypedAnswer.headers.get("content-disposition").startsWith("attachment"), "untyped bytes are served as an attachment");
await rejects(
  admin.storage.upload(Buffer.from("<!DOCTYPE html><html><script>alert(1)</script></html>"), "page.bin"),
  Error,
  undefined,
  "Direct upload to cloud failed: 415 Unsupported Media Type",
  "HTML sent as application/octet-stream",
);
await rejects(client.storage.upload(PNG, "pixel.png"), AuthError, 403, "Forbidden. This action requires a Secret Key (sk_live_...).", "upload with the publishable key");
ok("storage.upload", "three-step flow, fetched back by URL");

eq(await admin.storage.deleteFile(uploaded.path), { message: "File deleted successfully" }, "deleteFile");
eq((await fetch(uploaded.url)).status, 404, "the file after deleteFile");
await rejects(admin.storage.deleteFile(`../${uploaded.path}`), AuthError, 403, "Access denied.", "deleteFile outside the project");
ok("storage.deleteFile");

// Users' own files, in a project that allows them (`project set-user-file-uploads`): the SDK
// sends the signed-in user's token with the publishable key, the file lands in that user's
// folder, and another user can neither see it as theirs nor delete it.
const FILES_PK = env("URBACKEND_SDK_FILES_PK");
const FILES_PROJECT = env("URBACKEND_SDK_FILES_PROJECT_ID");
const owner = urBackend({ apiKey: FILES_PK, baseUrl: BASE });
await rejects(owner.storage.upload(PNG, "me.png"), AuthError, 401, "Provide a valid user Bearer token for write operations.", "a user upload without a session");
const ownerSignup = await owner.auth.signUp({ email: `files.${WHO}@example.com`, password: "correct horse" });
const mine = await owner.storage.upload(PNG, "me.png");
check(mine.path.startsWith(`${FILES_PROJECT}/users/${ownerSignup.userId}/`), `a user's upload lands in their folder: ${mine.path}`);
const mineFetched = await fetch(mine.url);
eq([mineFetched.status, Buffer.from(await mineFetched.arrayBuffer()).equals(PNG)], [200, true], "a user's upload, fetched back");
const intruder = urBackend({ apiKey: FILES_PK, baseUrl: BASE });
await intruder.auth.signUp({ email: `intruder.${WHO}@example.com`, password: "correct horse" });
await rejects(intruder.storage.deleteFile(mine.path), AuthError, 403, "Access denied.", "deleteFile of another user's file");
eq(await owner.storage.deleteFile(mine.path), { message: "File deleted successfully" }, "deleteFile of one's own file");
eq((await fetch(mine.url)).status, 404, "a user's file after deleteFile");
ok("storage.upload/user-folder", "users' own files: the publishable key with the signed-in user's token");

// ---------------------------------------------------------------------------------------------
// Mail (secret key)

const sent = await admin.mail.send({ to: `mail.${WHO}@example.com`, subject: `SDK conformance (${WHO})`, html: "<p>Hello</p>", text: "Hello" });
check(HEX24.test(sent.id), `mail.send id: ${inspect(sent)}`);
eq([Object.keys(sent).sort(), sent.provider, sent.monthlyLimit], [["id", "monthlyLimit", "monthlyUsage", "provider"], "smtp", 1000], "mail.send");
check(Number.isInteger(sent.monthlyUsage) && sent.monthlyUsage >= 1, `mail.send monthlyUsage: ${inspect(sent)}`);
const delivered = await mail(`mail.${WHO}@example.com`, `SDK conformance (${WHO})`, 1);
eq(delivered.text.trim(), "Hello", "the mail as delivered");
const welcome = await admin.mail.send({ to: `mail.${WHO}@example.com`, templateName: "welcome", variables: { name: "Ada", projectName: "SDK", appUrl: "https://sdk.test" } });
eq([welcome.templateUsed?.key, welcome.monthlyUsage], ["welcome", sent.monthlyUsage + 1], "mail.send with a template");
await rejects(client.mail.send({ to: "x@example.com", subject: "s", text: "t" }), AuthError, 403, "Forbidden. This action requires a Secret Key (sk_live_...).", "mail.send with the publishable key");
await rejects(admin.mail.send({ to: "not-an-email", subject: "s", text: "t" }), ValidationError, 400, "Invalid recipient email format", "mail.send to a bad address");
ok("mail.send");

console.log("all checks passed");

